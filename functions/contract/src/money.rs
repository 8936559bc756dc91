//! Amounts in minor units (cents, yen, fils) as integers: a decimal string from a provider is
//! converted exactly, never through a float.

/// The number of minor-unit digits of an ISO 4217 currency (2 unless listed).
pub fn minor_unit_digits(currency: &str) -> u32 {
    match currency.to_ascii_uppercase().as_str() {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

/// Whether `text` can be a currency code: three ASCII letters (ISO 4217 form). Anything else
/// from a provider is not shown as one.
pub fn is_currency_code(text: &str) -> bool {
    text.len() == 3 && text.bytes().all(|b| b.is_ascii_alphabetic())
}

/// An amount in minor units as people read it, with its currency's decimals: `19.99 USD`,
/// `1,000 JPY`, `1.234 KWD`, `-50.00 EUR`. Wide enough for any sum of `i64` amounts; a code that
/// is not one ([`is_currency_code`]) reads as `(unreadable currency)`.
pub fn shown_amount(minor: i128, currency: &str) -> String {
    let code = if is_currency_code(currency) {
        currency.to_ascii_uppercase()
    } else {
        "(unreadable currency)".to_owned()
    };
    let digits = minor_unit_digits(currency);
    let sign = if minor < 0 { "-" } else { "" };
    let magnitude = minor.unsigned_abs();
    let unit = 10u128.pow(digits);
    let whole = (magnitude / unit).to_string();
    let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
    for (at, digit) in whole.chars().enumerate() {
        if at > 0 && (whole.len() - at).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    if digits == 0 {
        format!("{sign}{grouped} {code}")
    } else {
        let fraction = magnitude % unit;
        format!(
            "{sign}{grouped}.{fraction:0width$} {code}",
            width = digits as usize
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("amount {0:?} is not a decimal number")]
    NotDecimal(String),
    #[error("amount {amount:?} has more decimals than {currency} has minor units")]
    TooPrecise { amount: String, currency: String },
    #[error("amount {0:?} is too large")]
    TooLarge(String),
}

/// "10.99" USD -> 1099; "1000" JPY -> 1000; "-5.5" EUR -> -550.
pub fn minor_units(amount: &str, currency: &str) -> Result<i64, AmountError> {
    let digits = minor_unit_digits(currency);
    let (negative, unsigned) = match amount.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, amount),
    };
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let all_digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty()
        || !all_digits(whole)
        || !all_digits(fraction)
        || (unsigned.contains('.') && fraction.is_empty())
    {
        return Err(AmountError::NotDecimal(amount.to_owned()));
    }
    let significant = fraction.trim_end_matches('0');
    if significant.len() > digits as usize {
        return Err(AmountError::TooPrecise {
            amount: amount.to_owned(),
            currency: currency.to_owned(),
        });
    }
    let padded = format!("{significant:0<width$}", width = digits as usize);
    let too_large = || AmountError::TooLarge(amount.to_owned());
    let whole: i64 = whole.parse().map_err(|_| too_large())?;
    let fraction: i64 = if padded.is_empty() {
        0
    } else {
        padded.parse().map_err(|_| too_large())?
    };
    let value = whole
        .checked_mul(10i64.pow(digits))
        .and_then(|w| w.checked_add(fraction))
        .ok_or_else(too_large)?;
    Ok(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_decimal_strings_exactly() {
        assert_eq!(minor_units("10.99", "USD"), Ok(1099));
        assert_eq!(minor_units("10.9", "USD"), Ok(1090));
        assert_eq!(minor_units("10", "USD"), Ok(1000));
        assert_eq!(minor_units("0.01", "EUR"), Ok(1));
        assert_eq!(minor_units("1000", "JPY"), Ok(1000));
        assert_eq!(minor_units("1.234", "KWD"), Ok(1234));
        assert_eq!(minor_units("-5.50", "EUR"), Ok(-550));
        assert_eq!(minor_units("10.990", "USD"), Ok(1099));
        assert_eq!(minor_units("92233720368547758.07", "USD"), Ok(i64::MAX));
    }

    #[test]
    fn amounts_read_as_people_read_them_in_each_currencys_decimals() {
        let table: [(i128, &str, &str); 10] = [
            (1999, "usd", "19.99 USD"),
            (1999, "USD", "19.99 USD"),
            (5, "EUR", "0.05 EUR"),
            (-5000, "EUR", "-50.00 EUR"),
            (1000, "JPY", "1,000 JPY"),
            (1234, "KWD", "1.234 KWD"),
            (123_456_789, "EUR", "1,234,567.89 EUR"),
            (0, "USD", "0.00 USD"),
            (
                2 * i64::MAX as i128 + 300,
                "EUR",
                "184,467,440,737,095,519.14 EUR",
            ),
            (100, "\u{1b}]0;x", "1.00 (unreadable currency)"),
        ];
        for (minor, currency, shown) in table {
            assert_eq!(shown_amount(minor, currency), shown, "{minor} {currency:?}");
        }
        assert_eq!(
            shown_amount(i64::MIN as i128, "USD"),
            "-92,233,720,368,547,758.08 USD"
        );
    }

    #[test]
    fn refuses_what_is_not_an_exact_amount() {
        for bad in ["", ".5", "1.", "1e3", "ten", "1.2.3", "+1", " 1"] {
            assert!(
                matches!(minor_units(bad, "USD"), Err(AmountError::NotDecimal(_))),
                "{bad:?}"
            );
        }
        assert!(matches!(
            minor_units("1.001", "USD"),
            Err(AmountError::TooPrecise { .. })
        ));
        assert!(matches!(
            minor_units("1.5", "JPY"),
            Err(AmountError::TooPrecise { .. })
        ));
        assert!(matches!(
            minor_units("92233720368547758.08", "USD"),
            Err(AmountError::TooLarge(_))
        ));
    }
}
