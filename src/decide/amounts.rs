//! Money summed by currency, in minor units, read as people read it (19.99 USD): payments and
//! refunds apart, 128-bit sums so no count of 64-bit amounts wraps.

use mgrid_contract::money::shown_amount;
use serde::Serialize;

/// Money in one currency, in minor units. Payments and refunds (amounts below
/// zero) are summed apart: a refund never cancels a payment. Sums are 128-bit,
/// so no count of 64-bit amounts wraps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Amount {
    /// The ISO 4217 code, upper case.
    pub currency: String,
    /// The amounts of zero or more.
    pub minor_units: i128,
    /// The amounts below zero (refunds, reversals), summed: zero or less.
    pub negative_minor_units: i128,
}

impl Amount {
    /// `19.99 USD`, or `19.99 USD and -5.00 USD refunded`.
    pub fn shown(&self) -> String {
        let paid = shown_amount(self.minor_units, &self.currency);
        match self.negative_minor_units {
            0 => paid,
            refunded if self.minor_units == 0 => {
                format!("{} refunded", shown_amount(refunded, &self.currency))
            }
            refunded => format!(
                "{paid} and {} refunded",
                shown_amount(refunded, &self.currency)
            ),
        }
    }
}

/// Adds `amount` (minor units) to its currency's sum, payments and refunds apart.
pub fn add_amount(sums: &mut Vec<Amount>, amount: i64, currency: &str) {
    let at = match sums.iter().position(|sum| sum.currency == currency) {
        Some(at) => at,
        None => {
            sums.push(Amount {
                currency: currency.to_owned(),
                minor_units: 0,
                negative_minor_units: 0,
            });
            sums.len() - 1
        }
    };
    let sum = &mut sums[at];
    if amount < 0 {
        sum.negative_minor_units = sum.negative_minor_units.saturating_add(i128::from(amount));
    } else {
        sum.minor_units = sum.minor_units.saturating_add(i128::from(amount));
    }
}

/// Sums by currency read as people read them: `19.99 USD, 5.00 EUR`; `none` when empty.
pub fn shown_amounts(sums: &[Amount]) -> String {
    if sums.is_empty() {
        return "none".to_owned();
    }
    sums.iter()
        .map(Amount::shown)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Adds every sum of `from` to `into`.
pub fn merge(into: &mut Vec<Amount>, from: &[Amount]) {
    for sum in from {
        let at = match into.iter().position(|s| s.currency == sum.currency) {
            Some(at) => at,
            None => {
                into.push(Amount {
                    currency: sum.currency.clone(),
                    minor_units: 0,
                    negative_minor_units: 0,
                });
                into.len() - 1
            }
        };
        into[at].minor_units = into[at].minor_units.saturating_add(sum.minor_units);
        into[at].negative_minor_units = into[at]
            .negative_minor_units
            .saturating_add(sum.negative_minor_units);
    }
}

/// Takes `amount` back out of its currency's sum, from the side it was added to.
pub fn take_amount(sums: &mut [Amount], amount: i64, currency: &str) {
    if let Some(sum) = sums.iter_mut().find(|s| s.currency == currency) {
        if amount < 0 {
            sum.negative_minor_units = sum.negative_minor_units.saturating_sub(i128::from(amount));
        } else {
            sum.minor_units = sum.minor_units.saturating_sub(i128::from(amount));
        }
    }
}
