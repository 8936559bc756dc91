//! `mgrid reconcile`'s judgement: where each event a provider sent stands in the stage
//! (recorded, waiting in the queue, dead-lettered, or missing), counted per provider with the
//! missing ones listed and their money summed by currency, and what healing them came to.

use std::collections::BTreeMap;
use std::fmt;

use mgrid_contract::clock::format_rfc3339;
use mgrid_contract::{EpochMillis, Provider, TransactionRecord, WebhookEnvelope};
use serde::Serialize;

use crate::ports::ProviderEvent;

/// How far back Stripe lists events: 30 days.
pub const STRIPE_RETENTION_MS: EpochMillis = 30 * 86_400_000;

/// A window the provider can list, or why not.
pub fn check_window(
    provider: Provider,
    from: EpochMillis,
    to: EpochMillis,
    now: EpochMillis,
) -> Result<(), String> {
    if from >= to {
        return Err(format!(
            "the window's start ({}) is not before its end ({})",
            format_rfc3339(from),
            format_rfc3339(to)
        ));
    }
    if provider == Provider::Stripe && from < now - STRIPE_RETENTION_MS {
        return Err(format!(
            "Stripe lists the events of the last 30 days only; {} is older (from {} on, it answers for what it still holds)",
            format_rfc3339(from),
            format_rfc3339(now - STRIPE_RETENTION_MS)
        ));
    }
    Ok(())
}

/// Where one event stands in the stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    Recorded,
    /// Waiting in the webhook queue.
    Queued,
    /// In the dead-letter queue, with the processor's reason.
    DeadLettered(String),
    /// Nowhere the stage can see.
    Missing,
}

/// A missing event, as the report lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct MissingEvent {
    pub id: String,
    pub event_type: String,
    pub created: String,
    /// Minor units, as the ledger would record it.
    pub amount: Option<i64>,
    pub currency: Option<String>,
    /// The payment object (payment intent, charge, capture…).
    pub object: Option<String>,
    /// Deliveries the provider still has pending for it (Stripe); None where it does not say.
    pub provider_pending: Option<u64>,
    /// What `--heal` came to for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healed: Option<Healed>,
}

/// What healing one missing event came to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case", tag = "outcome", content = "detail")]
pub enum Healed {
    /// Resent by the provider and now in the ledger.
    Recorded,
    /// Resent; not in the ledger when the wait ended (the trace command says where it is).
    Pending,
    /// The provider would not resend it, and why.
    NotResent(String),
}

/// A dead-lettered event, with the processor's reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct DeadLettered {
    pub id: String,
    pub reason: String,
}

/// A sum of money in one currency, in minor units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Amount {
    pub currency: String,
    pub minor_units: i64,
}

/// One provider's events in the window, counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Tally {
    pub provider: Provider,
    /// Why this provider was not listed (no token, the API refused), when it was not.
    pub unchecked: Option<String>,
    pub listed: u64,
    pub recorded: u64,
    pub queued: u64,
    pub dead_lettered: Vec<DeadLettered>,
    pub missing: Vec<MissingEvent>,
    /// The missing money, by currency.
    pub missing_amounts: Vec<Amount>,
    /// Missing events that carry no amount.
    pub missing_without_amount: u64,
    /// Events the provider listed more than once (a page boundary that moved while new events
    /// arrived): counted once.
    pub listed_twice: u64,
    /// The ids counted so far, as 64-bit hashes: 8 bytes and the set's overhead an event, where
    /// the ids themselves would take a few dozen (two ids of one listing sharing a hash, about
    /// one chance in 10^9 at 100,000 events, would count one of them as listed twice).
    #[serde(skip)]
    seen: std::collections::HashSet<u64>,
}

impl Tally {
    pub fn new(provider: Provider) -> Tally {
        Tally {
            provider,
            unchecked: None,
            listed: 0,
            recorded: 0,
            queued: 0,
            dead_lettered: Vec::new(),
            missing: Vec::new(),
            missing_amounts: Vec::new(),
            missing_without_amount: 0,
            listed_twice: 0,
            seen: std::collections::HashSet::new(),
        }
    }

    /// Whether the event was counted already (the provider listed it twice).
    pub fn counted(&self, event: &ProviderEvent) -> bool {
        self.seen.contains(&id_hash(&event.id))
    }

    /// Counts one event where it stands, once however often it is listed.
    pub fn count(&mut self, event: &ProviderEvent, standing: Standing) {
        if !self.seen.insert(id_hash(&event.id)) {
            self.listed_twice += 1;
            return;
        }
        self.listed += 1;
        match standing {
            Standing::Recorded => self.recorded += 1,
            Standing::Queued => self.queued += 1,
            Standing::DeadLettered(reason) => self.dead_lettered.push(DeadLettered {
                id: event.id.clone(),
                reason,
            }),
            Standing::Missing => {
                let money = money(self.provider, event);
                match (&money.amount, &money.currency) {
                    (Some(amount), Some(currency)) => {
                        match self
                            .missing_amounts
                            .iter_mut()
                            .find(|sum| sum.currency == *currency)
                        {
                            Some(sum) => sum.minor_units += amount,
                            None => self.missing_amounts.push(Amount {
                                currency: currency.clone(),
                                minor_units: *amount,
                            }),
                        }
                    }
                    _ => self.missing_without_amount += 1,
                }
                self.missing.push(MissingEvent {
                    id: event.id.clone(),
                    event_type: event.event_type.clone(),
                    created: format_rfc3339(event.created),
                    amount: money.amount,
                    currency: money.currency,
                    object: money.object,
                    provider_pending: event.pending_deliveries,
                    healed: None,
                });
            }
        }
    }

    /// The missing events `--heal` left missing (not recorded after their resend).
    pub fn still_missing(&self) -> usize {
        self.missing
            .iter()
            .filter(|m| m.healed != Some(Healed::Recorded))
            .count()
    }
}

/// An event id's 64-bit hash (SipHash with fixed keys: the same in every run).
fn id_hash(id: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    id.hash(&mut hasher);
    hasher.finish()
}

struct Money {
    amount: Option<i64>,
    currency: Option<String>,
    object: Option<String>,
}

/// The amount, currency and payment object the ledger would record for the event.
fn money(provider: Provider, event: &ProviderEvent) -> Money {
    let envelope = WebhookEnvelope {
        provider,
        event_id: event.id.clone(),
        event_type: event.event_type.clone(),
        received_at: event.created,
        request_id: None,
        signature_headers: BTreeMap::new(),
        body: event.body.clone(),
    };
    match TransactionRecord::from_envelope(&envelope) {
        Ok(record) => Money {
            amount: record.amount,
            currency: record.currency,
            object: record.payment_object_id,
        },
        Err(_) => Money {
            amount: None,
            currency: None,
            object: None,
        },
    }
}

/// An amount in minor units as people read it: `1,234.56 EUR` (two decimals; JPY and the other
/// zero-decimal currencies are not told apart here, so their amounts read as hundredths).
pub fn shown_amount(minor: i64, currency: &str) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let minor = minor.unsigned_abs();
    let whole = (minor / 100).to_string();
    let mut grouped = String::new();
    for (at, digit) in whole.chars().enumerate() {
        if at > 0 && (whole.len() - at).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("{sign}{grouped}.{:02} {currency}", minor % 100)
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Reconciliation {
    pub stage: String,
    pub from: String,
    pub to: String,
    pub providers: Vec<Tally>,
    /// Whether the webhook queue could be read per event (the local stage); on SQS a missing
    /// event may be waiting there.
    pub queue_read: bool,
    /// Ctrl-C stopped the listing: the counts are of what was listed by then.
    pub interrupted: bool,
    /// Whether `--heal` ran.
    pub healed: bool,
}

impl Reconciliation {
    pub fn missing(&self) -> usize {
        self.providers.iter().map(Tally::still_missing).sum()
    }

    pub fn unchecked(&self) -> usize {
        self.providers
            .iter()
            .filter(|t| t.unchecked.is_some())
            .count()
    }
}

impl fmt::Display for Reconciliation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "stage {}: the providers' events from {} to {}{}",
            self.stage,
            self.from,
            self.to,
            if self.interrupted {
                " (interrupted: what was listed until Ctrl-C)"
            } else {
                ""
            }
        )?;
        for tally in &self.providers {
            if let Some(why) = &tally.unchecked {
                writeln!(f, "{}: not checked: {why}", tally.provider)?;
                continue;
            }
            writeln!(
                f,
                "{}: {} listed, {} recorded, {} waiting in the queue, {} dead-lettered, {} missing{}",
                tally.provider,
                tally.listed,
                tally.recorded,
                tally.queued,
                tally.dead_lettered.len(),
                tally.missing.len(),
                if tally.listed_twice > 0 {
                    format!(" ({} listed twice, counted once)", tally.listed_twice)
                } else {
                    String::new()
                }
            )?;
            if !tally.missing_amounts.is_empty() || tally.missing_without_amount > 0 {
                let mut sums: Vec<String> = tally
                    .missing_amounts
                    .iter()
                    .map(|sum| shown_amount(sum.minor_units, &sum.currency))
                    .collect();
                if tally.missing_without_amount > 0 {
                    sums.push(format!(
                        "{} without an amount",
                        tally.missing_without_amount
                    ));
                }
                writeln!(f, "  missing money: {}", sums.join(", "))?;
            }
            for missing in &tally.missing {
                let amount = match (missing.amount, &missing.currency) {
                    (Some(amount), Some(currency)) => shown_amount(amount, currency),
                    _ => "-".to_owned(),
                };
                let healed = match &missing.healed {
                    None => String::new(),
                    Some(Healed::Recorded) => "  healed: recorded".to_owned(),
                    Some(Healed::Pending) => "  healed: resent, not recorded yet".to_owned(),
                    Some(Healed::NotResent(why)) => format!("  not resent: {why}"),
                };
                writeln!(
                    f,
                    "  missing {} {} {} {} {}{}{}",
                    missing.id,
                    missing.event_type,
                    missing.created,
                    amount,
                    missing.object.as_deref().unwrap_or("-"),
                    match missing.provider_pending {
                        Some(0) | None => String::new(),
                        Some(n) => format!(" ({n} delivery still retried by the provider)"),
                    },
                    healed
                )?;
            }
            for dead in &tally.dead_lettered {
                writeln!(
                    f,
                    "  dead-lettered {} ({}): mgrid dlq redrive --stage {} --event-id {}",
                    dead.id, dead.reason, self.stage, dead.id
                )?;
            }
        }
        if !self.queue_read {
            writeln!(
                f,
                "the webhook queue cannot be read per event on SQS: a missing event may still be waiting there (`mgrid dlq stats` shows the queue's depth)"
            )?;
        }
        let missing = self.missing();
        if missing > 0 && !self.healed {
            writeln!(
                f,
                "next: mgrid reconcile --stage {} --heal (the providers send the missing ones again)",
                self.stage
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: &str, body: &str) -> ProviderEvent {
        ProviderEvent {
            id: id.into(),
            event_type: "payment_intent.succeeded".into(),
            created: 1_764_800_000_000,
            body: body.into(),
            pending_deliveries: Some(1),
        }
    }

    #[test]
    fn missing_money_is_summed_by_currency() {
        let mut tally = Tally::new(Provider::Stripe);
        let paid = |id: &str, amount: i64, currency: &str| {
            event(
                id,
                &format!(
                    r#"{{"id":"{id}","type":"payment_intent.succeeded","created":1764800000,"data":{{"object":{{"id":"pi_{id}","object":"payment_intent","amount_received":{amount},"currency":"{currency}"}}}}}}"#
                ),
            )
        };
        tally.count(&paid("evt_1", 2500, "eur"), Standing::Missing);
        tally.count(&paid("evt_2", 1000, "eur"), Standing::Missing);
        tally.count(&paid("evt_3", 700, "usd"), Standing::Missing);
        tally.count(&paid("evt_4", 700, "usd"), Standing::Recorded);
        tally.count(
            &paid("evt_5", 1, "usd"),
            Standing::DeadLettered("bad-signature".into()),
        );
        tally.count(&event("evt_6", "{}"), Standing::Missing);
        tally.count(&paid("evt_1", 2500, "eur"), Standing::Missing);
        assert_eq!(tally.listed, 6, "an event listed twice counts once");
        assert_eq!(tally.listed_twice, 1);
        assert_eq!(tally.missing.len(), 4);
        let sum = |currency: &str| {
            tally
                .missing_amounts
                .iter()
                .find(|s| s.currency == currency)
                .map(|s| s.minor_units)
        };
        assert_eq!(sum("EUR"), Some(3500));
        assert_eq!(sum("USD"), Some(700));
        assert_eq!(tally.missing_without_amount, 1);
        assert_eq!(tally.missing[0].object.as_deref(), Some("pi_evt_1"));
        assert_eq!(shown_amount(123_456_789, "EUR"), "1,234,567.89 EUR");
        assert_eq!(shown_amount(-5, "USD"), "-0.05 USD");
    }

    #[test]
    fn the_report() {
        let mut stripe = Tally::new(Provider::Stripe);
        stripe.listed = 1204;
        stripe.recorded = 1199;
        stripe.queued = 1;
        stripe.dead_lettered.push(DeadLettered {
            id: "evt_3Dead".into(),
            reason: "bad-signature".into(),
        });
        let missing = |id: &str, amount, healed| MissingEvent {
            id: id.into(),
            event_type: "payment_intent.succeeded".into(),
            created: "2026-12-01T08:00:00.000Z".into(),
            amount: Some(amount),
            currency: Some("EUR".into()),
            object: Some(format!("pi_{id}")),
            provider_pending: Some(1),
            healed,
        };
        stripe.missing = vec![
            missing("evt_1Miss", 2500, Some(Healed::Recorded)),
            missing("evt_2Miss", 1_250_000, Some(Healed::Pending)),
            missing(
                "evt_3Miss",
                99,
                Some(Healed::NotResent(
                    "Webhook endpoint we_1 is not configured to receive events of type payment_intent.succeeded".into(),
                )),
            ),
        ];
        stripe.missing_amounts.push(Amount {
            currency: "EUR".into(),
            minor_units: 1_252_599,
        });
        let mut paypal = Tally::new(Provider::Paypal);
        paypal.unchecked = Some("stage prod has no paypal provider token".into());
        let report = Reconciliation {
            stage: "prod".into(),
            from: "2026-12-01T00:00:00.000Z".into(),
            to: "2026-12-04T00:00:00.000Z".into(),
            providers: vec![stripe, paypal],
            queue_read: false,
            interrupted: false,
            healed: true,
        };
        assert_eq!(report.missing(), 2);
        assert_eq!(report.unchecked(), 1);
        insta::assert_snapshot!("reconcile", crate::ui::text::plain(&report));
        crate::ui::output::assert_json_contract("reconcile", &report);
    }

    #[test]
    fn stripe_windows_past_its_retention_are_refused() {
        let now = 100 * 86_400_000;
        assert!(check_window(Provider::Stripe, now - 3 * 86_400_000, now, now).is_ok());
        let old = check_window(Provider::Stripe, now - 31 * 86_400_000, now, now).unwrap_err();
        assert!(old.contains("30 days"), "{old}");
        assert!(check_window(Provider::Paypal, now - 60 * 86_400_000, now, now).is_ok());
        assert!(check_window(Provider::Paypal, now, now, now).is_err());
    }
}
