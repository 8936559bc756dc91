//! `mgrid reconcile`'s judgement: where each event a provider sent stands in the stage
//! (recorded, waiting in the queue, dead-lettered, or missing), counted per provider with the
//! missing ones listed and their money summed by currency, and what healing them came to.

use std::collections::BTreeMap;
use std::fmt;

use mgrid_contract::clock::format_rfc3339;
use mgrid_contract::money::{is_currency_code, shown_amount};
use mgrid_contract::untrusted::printable;
use mgrid_contract::{EpochMillis, Provider, TransactionRecord, WebhookEnvelope};
use serde::Serialize;

pub use crate::decide::amounts::Amount;
use crate::decide::amounts::{add_amount, merge};
use crate::decide::values::ProviderEvent;

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
    /// Resent, and the processor dead-lettered the copy, for this reason.
    FailedAgain(String),
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

/// One provider's events in the window, counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, schemars(rename = "Tally"))]
pub struct ProviderTally {
    pub provider: Provider,
    /// Why this provider was not listed (no token, the API refused), when it was not.
    pub unchecked: Option<String>,
    pub listed: u64,
    pub recorded: u64,
    pub queued: u64,
    pub dead_lettered: Vec<DeadLettered>,
    pub missing: Vec<MissingEvent>,
    /// The money of every event listed, by currency.
    pub listed_amounts: Vec<Amount>,
    /// The money of the events recorded in the ledger, by currency.
    pub recorded_amounts: Vec<Amount>,
    /// The missing money, by currency.
    pub missing_amounts: Vec<Amount>,
    /// Missing events that carry no amount.
    pub missing_without_amount: u64,
    /// Events the provider listed more than once (a page boundary that moved while new events
    /// arrived): counted once.
    pub listed_twice: u64,
    /// Events listed without an id, a type or a readable creation time: they cannot be looked
    /// up, so nothing is known of them, and the report says so.
    pub unreadable: u64,
    /// The ids counted so far, as 64-bit hashes: 8 bytes and the set's overhead an event, where
    /// the ids themselves would take a few dozen (two ids of one listing sharing a hash, about
    /// one chance in 10^9 at 100,000 events, would count one of them as listed twice).
    #[serde(skip)]
    seen: std::collections::HashSet<u64>,
}

impl ProviderTally {
    pub fn new(provider: Provider) -> ProviderTally {
        ProviderTally {
            provider,
            unchecked: None,
            listed: 0,
            recorded: 0,
            queued: 0,
            dead_lettered: Vec::new(),
            missing: Vec::new(),
            listed_amounts: Vec::new(),
            recorded_amounts: Vec::new(),
            missing_amounts: Vec::new(),
            missing_without_amount: 0,
            listed_twice: 0,
            unreadable: 0,
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
        let money = money(self.provider, event);
        if let (Some(amount), Some(currency)) = (money.amount, &money.currency) {
            add_amount(&mut self.listed_amounts, amount, currency);
            if standing == Standing::Recorded {
                add_amount(&mut self.recorded_amounts, amount, currency);
            }
        }
        match standing {
            Standing::Recorded => self.recorded += 1,
            Standing::Queued => self.queued += 1,
            Standing::DeadLettered(reason) => self.dead_lettered.push(DeadLettered {
                id: event.id.clone(),
                reason,
            }),
            Standing::Missing => {
                match (money.amount, &money.currency) {
                    (Some(amount), Some(currency)) => self.add_missing(amount, currency),
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

    fn add_missing(&mut self, amount: i64, currency: &str) {
        add_amount(&mut self.missing_amounts, amount, currency);
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
        // A currency that is not a code is not money anyone can read: counted without one.
        Ok(record) => match record.currency.filter(|c| is_currency_code(c)) {
            Some(currency) => Money {
                amount: record.amount,
                currency: Some(currency.to_ascii_uppercase()),
                object: record.payment_object_id,
            },
            None => Money {
                amount: None,
                currency: None,
                object: record.payment_object_id,
            },
        },
        Err(_) => Money {
            amount: None,
            currency: None,
            object: None,
        },
    }
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Reconciliation {
    pub stage: String,
    pub from: String,
    pub to: String,
    pub providers: Vec<ProviderTally>,
    /// Whether the webhook queue could be read per event (the local stage); on SQS a missing
    /// event may be waiting there.
    pub queue_read: bool,
    /// Ctrl-C stopped the listing: the counts are of what was listed by then.
    pub interrupted: bool,
    /// Whether `--heal` ran.
    pub healed: bool,
    /// After the ledger: archived, and the vendor told.
    pub journey: crate::decide::journey::Journey,
}

impl Reconciliation {
    pub fn missing(&self) -> usize {
        self.providers
            .iter()
            .map(ProviderTally::still_missing)
            .sum()
    }

    /// Counts the journey's steps over what the providers listed.
    pub fn count_journey(&mut self) {
        let (mut sent, mut recorded) = ((0, Vec::new()), (0, Vec::new()));
        for tally in &self.providers {
            sent.0 += tally.listed;
            recorded.0 += tally.recorded;
            merge(&mut sent.1, &tally.listed_amounts);
            merge(&mut recorded.1, &tally.recorded_amounts);
        }
        self.journey.count_steps(sent, recorded);
    }

    /// The providers not listed to the end, or whose listing held events that could not be
    /// read: what they sent is not all known.
    pub fn unchecked(&self) -> usize {
        self.providers
            .iter()
            .filter(|t| t.unchecked.is_some() || t.unreadable > 0)
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
                writeln!(f, "{}: not checked: {}", tally.provider, printable(why))?;
                if tally.listed == 0 {
                    continue;
                }
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
            if tally.unreadable > 0 {
                writeln!(
                    f,
                    "  {} listed event{} could not be read (no id, type or creation time): not counted, so the counts above may fall short",
                    tally.unreadable,
                    if tally.unreadable == 1 { "" } else { "s" }
                )?;
            }
            if !tally.missing_amounts.is_empty() || tally.missing_without_amount > 0 {
                let mut sums: Vec<String> =
                    tally.missing_amounts.iter().map(Amount::shown).collect();
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
                    (Some(amount), Some(currency)) => shown_amount(i128::from(amount), currency),
                    _ => "-".to_owned(),
                };
                let healed = match &missing.healed {
                    None => String::new(),
                    Some(Healed::Recorded) => "  healed: recorded".to_owned(),
                    Some(Healed::Pending) => "  healed: resent, not recorded yet".to_owned(),
                    Some(Healed::FailedAgain(reason)) => format!(
                        "  not healed: resent, and dead-lettered again ({})",
                        printable(reason)
                    ),
                    Some(Healed::NotResent(why)) => format!("  not resent: {}", printable(why)),
                };
                writeln!(
                    f,
                    "  missing {} {} {} {} {}{}{}",
                    printable(&missing.id),
                    printable(&missing.event_type),
                    missing.created,
                    amount,
                    printable(missing.object.as_deref().unwrap_or("-")),
                    match missing.provider_pending {
                        Some(0) | None => String::new(),
                        Some(n) => format!(" ({n} delivery still retried by the provider)"),
                    },
                    healed
                )?;
            }
            for dead in &tally.dead_lettered {
                let id = printable(&dead.id);
                let reason = printable(&dead.reason);
                if is_plain_word(&dead.id) {
                    writeln!(
                        f,
                        "  dead-lettered {id} ({reason}): mgrid dlq redrive --stage {} --provider {} --event-id {id} --yes",
                        self.stage, tally.provider
                    )?;
                } else {
                    // No command line is printed with an id a shell would read as more.
                    writeln!(
                        f,
                        "  dead-lettered {id} ({reason}): its id is not a plain word; `mgrid dlq peek --stage {}` shows it",
                        self.stage
                    )?;
                }
            }
        }
        if !self.queue_read {
            writeln!(
                f,
                "the webhook queue cannot be read per event on SQS: a missing event may still be waiting there (`mgrid dlq stats` shows the queue's depth)"
            )?;
        }
        write!(f, "{}", self.journey)?;
        let missing = self.missing();
        let unsettled = self.journey.still_unsettled();
        if (missing > 0 || unsettled > 0) && !self.healed {
            writeln!(
                f,
                "next: mgrid reconcile --stage {} --heal ({})",
                self.stage,
                match (missing > 0, unsettled > 0) {
                    (true, true) =>
                        "the providers send the missing ones again, and every unsettled payment is archived and announced",
                    (true, false) => "the providers send the missing ones again",
                    _ =>
                        "every unsettled payment is archived and its vendor told, marked as a redelivery",
                }
            )?;
        }
        Ok(())
    }
}

/// Whether `text` can stand in a printed command as it is: letters, digits and `_-.:`, as
/// every id a provider documents is.
pub fn is_plain_word(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
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
        let mut tally = ProviderTally::new(Provider::Stripe);
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
    }

    /// Stage prod's reconciliation of one provider's tally.
    fn report_of(tally: ProviderTally, healed: bool) -> Reconciliation {
        Reconciliation {
            stage: "prod".into(),
            from: "2026-12-01T00:00:00.000Z".into(),
            to: "2026-12-04T00:00:00.000Z".into(),
            providers: vec![tally],
            queue_read: true,
            interrupted: false,
            healed,
            journey: crate::decide::journey::Journey::new(&[], false, None, 0),
        }
    }

    fn paid(id: &str, amount: i64, currency: &str) -> ProviderEvent {
        event(
            id,
            &format!(
                r#"{{"id":"{id}","type":"payment_intent.succeeded","created":1764800000,"data":{{"object":{{"id":"pi_{id}","object":"payment_intent","amount_received":{amount},"currency":"{currency}"}}}}}}"#
            ),
        )
    }

    #[test]
    fn missing_money_adds_up_whatever_the_amounts() {
        let mut tally = ProviderTally::new(Provider::Stripe);
        tally.count(&paid("evt_max1", i64::MAX, "eur"), Standing::Missing);
        tally.count(&paid("evt_max2", i64::MAX, "eur"), Standing::Missing);
        for n in 0..3 {
            tally.count(&paid(&format!("evt_one{n}"), 100, "eur"), Standing::Missing);
        }
        tally.count(&paid("evt_paid", 5000, "usd"), Standing::Missing);
        tally.count(&paid("evt_refund", -5000, "usd"), Standing::Missing);
        tally.count(&paid("evt_yen", 1000, "jpy"), Standing::Missing);
        tally.count(&paid("evt_dinar", 1234, "kwd"), Standing::Missing);
        tally.count(&paid("evt_escape", 100, "\\u001b]0;x"), Standing::Missing);
        let shown: Vec<String> = tally.missing_amounts.iter().map(Amount::shown).collect();
        assert_eq!(
            shown,
            [
                "184,467,440,737,095,519.14 EUR",
                "50.00 USD and -50.00 USD refunded",
                "1,000 JPY",
                "1.234 KWD",
            ]
        );
        assert_eq!(
            tally.missing_without_amount, 1,
            "a currency that is no code"
        );
        let report = report_of(tally, false);
        let text = crate::text::plain(&report);
        assert!(
            text.contains(
                "missing evt_yen payment_intent.succeeded 2025-12-03T22:13:20.000Z 1,000 JPY"
            ),
            "{text}"
        );
        assert!(!text.contains('\u{1b}'), "{text}");
    }

    #[test]
    fn the_report() {
        let mut stripe = ProviderTally::new(Provider::Stripe);
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
            negative_minor_units: 0,
        });
        let mut paypal = ProviderTally::new(Provider::Paypal);
        paypal.unchecked = Some("stage prod has no paypal provider token".into());
        let report = Reconciliation {
            stage: "prod".into(),
            from: "2026-12-01T00:00:00.000Z".into(),
            to: "2026-12-04T00:00:00.000Z".into(),
            providers: vec![stripe, paypal],
            queue_read: false,
            interrupted: false,
            healed: true,
            journey: crate::decide::journey::Journey::new(&[], false, None, 0),
        };
        assert_eq!(report.missing(), 2);
        assert_eq!(report.unchecked(), 1);
        insta::assert_snapshot!("reconcile", crate::text::plain(&report));
        crate::ui::output::assert_json_contract("reconcile", &report);
    }

    #[test]
    fn a_listing_cut_short_still_shows_what_it_found_missing() {
        let mut tally = ProviderTally::new(Provider::Stripe);
        tally.count(&paid("evt_found", 2500, "eur"), Standing::Missing);
        tally.unchecked = Some(
            "the listing stopped after 1 events: Stripe refused GET /v1/events with HTTP 401"
                .into(),
        );
        tally.unreadable = 2;
        let report = report_of(tally, true);
        let text = crate::text::plain(&report);
        assert!(
            text.contains("not checked: the listing stopped after 1 events"),
            "{text}"
        );
        assert!(text.contains("missing evt_found"), "{text}");
        assert!(text.contains("missing money: 25.00 EUR"), "{text}");
        assert!(text.contains("2 listed events could not be read"), "{text}");
        assert_eq!(report.unchecked(), 1);
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
