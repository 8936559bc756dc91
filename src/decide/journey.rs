//! The journey after the ledger, judged: for a window, how many payments (and how much money, by
//! currency) the providers sent, the ledger recorded, the archive holds and the vendors were told
//! of; each payment whose legs are not all done, with the legs it waits on and why where known;
//! and what a heal of each leg came to.

use std::collections::BTreeMap;
use std::fmt;

use mgrid_contract::EpochMillis;
use mgrid_contract::clock::format_rfc3339;
use mgrid_contract::ledger::{Attribute, Item};
use mgrid_contract::money::{is_currency_code, shown_amount};
use mgrid_contract::settlement::{Leg, Legs};
use mgrid_contract::untrusted::printable;
use serde::Serialize;

use crate::decide::amounts::{Amount, add_amount, shown_amounts, take_amount};

/// How many unsettled payments are read at most (the rest are counted as more).
pub const READ_MAX: usize = 10_000;

/// How many unsettled payments the terminal lists (JSON lists every one read).
pub const SHOWN_MAX: usize = 20;

/// A payment recorded this recently whose legs have not failed is in flight, not unsettled: the
/// pipes hand a record to its leg within a second or two of its write (a one-second batching
/// window, then the function), and a leg that failed says so on the item at once. Recorded, not
/// received: during a backlog a webhook is written long after it was received.
pub const IN_FLIGHT_MS: EpochMillis = 30_000;

/// What healing one leg of one payment came to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case", tag = "outcome", content = "detail")]
pub enum LegHeal {
    /// Redone, and its receipt is on the ledger item.
    Settled,
    /// Handed to the running pipeline (the local notify pipe) and no receipt yet when the wait
    /// ended: `mgrid dev` delivers it while it runs.
    Handed,
    /// Not done, and why.
    Failed(String),
}

/// One leg's heal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct HealedLeg {
    pub leg: String,
    #[serde(flatten)]
    pub outcome: LegHeal,
}

/// A payment whose legs after the ledger are not all done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct UnsettledPayment {
    pub transaction_id: String,
    pub provider: String,
    pub event_id: String,
    pub event_type: String,
    pub vendor_id: String,
    /// Minor units, as the ledger recorded it.
    pub amount: Option<i64>,
    pub currency: Option<String>,
    pub received: String,
    /// The legs it waits on: archive, notify.
    pub waits_on: Vec<String>,
    /// Why the archive leg last failed, where its worker said.
    pub archive_failure: Option<String>,
    /// Why the notify leg last failed, where its worker said.
    pub notify_failure: Option<String>,
    /// What `--heal` came to, leg by leg.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub healed: Vec<HealedLeg>,
    /// Received moments ago with no leg failed: the pipeline is on it, and it is neither
    /// counted as unsettled nor healed.
    pub in_flight: bool,
    #[serde(skip)]
    pub received_at: EpochMillis,
    /// The providers listed it in the window (so it counts in the ledger's figures).
    #[serde(skip)]
    pub listed: bool,
}

impl UnsettledPayment {
    /// The payment an index entry (or a whole item) describes; None for an item with no
    /// transaction id, or one whose legs are all done.
    pub fn of(item: &Item, now: EpochMillis) -> Option<UnsettledPayment> {
        let text = |name: &str| match item.get(name) {
            Some(Attribute::S(value)) => value.clone(),
            _ => String::new(),
        };
        let number = |name: &str| match item.get(name) {
            Some(Attribute::N(value)) => value.parse::<i64>().ok(),
            _ => None,
        };
        let transaction_id = mgrid_contract::ledger::transaction_id(item)?.to_owned();
        let legs = Legs::of(item);
        let waits_on: Vec<String> = legs.pending().iter().map(|l| l.to_string()).collect();
        if waits_on.is_empty() {
            return None;
        }
        let currency = Some(text("currency"))
            .filter(|c| is_currency_code(c))
            .map(|c| c.to_ascii_uppercase());
        let received_at = number("receivedAt").unwrap_or(0);
        let recorded_at = number(mgrid_contract::settlement::RECORDED_AT).unwrap_or(received_at);
        Some(UnsettledPayment {
            transaction_id,
            provider: text("provider"),
            event_id: text("eventId"),
            event_type: text("eventType"),
            vendor_id: text("vendorId"),
            amount: number("amount").filter(|_| currency.is_some()),
            currency,
            received: format_rfc3339(received_at),
            waits_on,
            archive_failure: legs.archive_failure.clone(),
            notify_failure: legs.notify_failure.clone(),
            healed: Vec::new(),
            in_flight: now - recorded_at.max(received_at) < IN_FLIGHT_MS
                && legs.archive_failure.is_none()
                && legs.notify_failure.is_none(),
            received_at,
            listed: false,
        })
    }

    pub fn waits_on(&self, leg: Leg) -> bool {
        self.waits_on.iter().any(|l| l == leg.as_str())
    }

    /// Settled now: every leg it waited on healed.
    pub fn settled(&self) -> bool {
        !self.healed.is_empty()
            && self.waits_on.iter().all(|leg| {
                self.healed
                    .iter()
                    .any(|h| &h.leg == leg && h.outcome == LegHeal::Settled)
            })
    }
}

/// One step of the journey, counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct StepCount {
    /// provider sent, in the ledger, archived, vendor notified.
    pub step: String,
    pub payments: u64,
    pub amounts: Vec<Amount>,
}

/// The journey after the ledger for a window.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Journey {
    /// Each step counted over what the providers listed (empty when none could be listed).
    pub steps: Vec<StepCount>,
    /// The payments received in the window whose legs are not all done, oldest first.
    pub unsettled: Vec<UnsettledPayment>,
    /// More were unsettled than were read (READ_MAX).
    pub more_unsettled: bool,
    /// Payments waiting on the archive leg.
    pub waiting_on_archive: u64,
    /// Payments waiting on the notify leg: vendors not told.
    pub waiting_on_notify: u64,
    /// The unsettled money, by currency.
    pub unsettled_amounts: Vec<Amount>,
    /// The read capacity the index lookup consumed (DynamoDB).
    pub read_units: Option<f64>,
    /// Whether `--heal` ran on the legs.
    pub healed: bool,
}

impl Journey {
    /// The unsettled payments the index gave, read at `now`.
    pub fn new(items: &[Item], more: bool, read_units: Option<f64>, now: EpochMillis) -> Journey {
        let mut unsettled: Vec<UnsettledPayment> = items
            .iter()
            .filter_map(|item| UnsettledPayment::of(item, now))
            .collect();
        unsettled.sort_by(|a, b| {
            (a.received_at, &a.transaction_id).cmp(&(b.received_at, &b.transaction_id))
        });
        let mut journey = Journey {
            steps: Vec::new(),
            unsettled,
            more_unsettled: more,
            waiting_on_archive: 0,
            waiting_on_notify: 0,
            unsettled_amounts: Vec::new(),
            read_units,
            healed: false,
        };
        journey.recount();
        journey
    }

    /// Counts again what waits on each leg and its money (after heals).
    pub fn recount(&mut self) {
        self.waiting_on_archive = 0;
        self.waiting_on_notify = 0;
        self.unsettled_amounts.clear();
        for payment in &self.unsettled {
            if payment.settled() || payment.in_flight {
                continue;
            }
            self.waiting_on_archive += u64::from(payment.waits_on(Leg::Archive));
            self.waiting_on_notify += u64::from(payment.waits_on(Leg::Notify));
            if let (Some(amount), Some(currency)) = (payment.amount, &payment.currency) {
                add_amount(&mut self.unsettled_amounts, amount, currency);
            }
        }
    }

    /// Marks the unsettled payments the providers listed (by transaction id).
    pub fn mark_listed(&mut self, transaction_id: &str) {
        if let Some(payment) = self
            .unsettled
            .iter_mut()
            .find(|p| p.transaction_id == transaction_id)
        {
            payment.listed = true;
        }
    }

    /// Counts each step over what the providers listed (`sent`, and `recorded` of it, with their
    /// money): of the recorded, the ones whose legs are done are the recorded less the listed
    /// payments still waiting on the leg. No steps when nothing was listed.
    pub fn count_steps(
        &mut self,
        (sent, sent_money): (u64, Vec<Amount>),
        (recorded, recorded_money): (u64, Vec<Amount>),
    ) {
        if sent == 0 && recorded == 0 {
            self.steps.clear();
            return;
        }
        let step = |leg: Leg| {
            let mut payments = recorded;
            let mut amounts = recorded_money.clone();
            for payment in self
                .unsettled
                .iter()
                .filter(|p| p.listed && !p.in_flight && p.waits_on(leg))
            {
                if payment.healed_leg(leg) == Some(&LegHeal::Settled) {
                    continue;
                }
                payments = payments.saturating_sub(1);
                if let (Some(amount), Some(currency)) = (payment.amount, &payment.currency) {
                    take_amount(&mut amounts, amount, currency);
                }
            }
            (payments, amounts)
        };
        let (archived, archived_money) = step(Leg::Archive);
        let (notified, notified_money) = step(Leg::Notify);
        self.steps = vec![
            StepCount {
                step: "provider sent".to_owned(),
                payments: sent,
                amounts: sent_money,
            },
            StepCount {
                step: "in the ledger".to_owned(),
                payments: recorded,
                amounts: recorded_money,
            },
            StepCount {
                step: "archived".to_owned(),
                payments: archived,
                amounts: archived_money,
            },
            StepCount {
                step: "vendor notified".to_owned(),
                payments: notified,
                amounts: notified_money,
            },
        ];
    }

    /// Records what healing `leg` of the payment came to (a leg it does not wait on is left
    /// alone); `recount` once they are all recorded.
    pub fn heal(&mut self, transaction_id: &str, leg: Leg, outcome: LegHeal) {
        self.healed = true;
        if let Some(payment) = self
            .unsettled
            .iter_mut()
            .find(|p| p.transaction_id == transaction_id && p.waits_on(leg))
        {
            payment.healed.retain(|h| h.leg != leg.as_str());
            payment.healed.push(HealedLeg {
                leg: leg.to_string(),
                outcome,
            });
        }
    }

    /// Payments still unsettled (after a heal, those it did not settle); in flight not counted.
    pub fn still_unsettled(&self) -> usize {
        self.unsettled
            .iter()
            .filter(|p| !p.settled() && !p.in_flight)
            .count()
    }

    /// Payments in flight: received moments ago, their legs not failed.
    pub fn in_flight(&self) -> usize {
        self.unsettled.iter().filter(|p| p.in_flight).count()
    }
}

impl UnsettledPayment {
    fn healed_leg(&self, leg: Leg) -> Option<&LegHeal> {
        self.healed
            .iter()
            .find(|h| h.leg == leg.as_str())
            .map(|h| &h.outcome)
    }
}

impl fmt::Display for Journey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "after the ledger:")?;
        for step in &self.steps {
            writeln!(
                f,
                "  {:<16} {:>8} payment{}  {}",
                step.step,
                step.payments,
                if step.payments == 1 { " " } else { "s" },
                shown_amounts(&step.amounts)
            )?;
        }
        let unsettled = self.still_unsettled();
        let in_flight = self.in_flight();
        if in_flight > 0 {
            writeln!(
                f,
                "  in flight: {in_flight} payment{} received in the last {} s, on their way to the archive and the vendor",
                if in_flight == 1 { "" } else { "s" },
                IN_FLIGHT_MS / 1000
            )?;
        }
        if unsettled == 0 && !self.more_unsettled {
            return writeln!(
                f,
                "  every payment received in the window is archived and its vendor told{}",
                if self.healed { " (after the heal)" } else { "" }
            );
        }
        writeln!(
            f,
            "  unsettled: {unsettled}{} payment{} ({} not archived, {} vendor{} not told), {}",
            if self.more_unsettled { "+" } else { "" },
            if unsettled == 1 { "" } else { "s" },
            self.waiting_on_archive,
            self.waiting_on_notify,
            if self.waiting_on_notify == 1 { "" } else { "s" },
            shown_amounts(&self.unsettled_amounts)
        )?;
        let shown: Vec<&UnsettledPayment> = self
            .unsettled
            .iter()
            .filter(|p| !p.in_flight && (!self.healed || !p.settled()))
            .take(SHOWN_MAX)
            .collect();
        for payment in &shown {
            let amount = match (payment.amount, &payment.currency) {
                (Some(amount), Some(currency)) => shown_amount(i128::from(amount), currency),
                _ => "-".to_owned(),
            };
            let why = |leg: Leg, failure: &Option<String>| {
                if !payment.waits_on(leg) {
                    return None;
                }
                Some(match failure {
                    Some(why) => format!("{leg} ({})", printable(why)),
                    None => leg.to_string(),
                })
            };
            let waits: Vec<String> = [
                why(Leg::Archive, &payment.archive_failure),
                why(Leg::Notify, &payment.notify_failure),
            ]
            .into_iter()
            .flatten()
            .collect();
            let healed: Vec<String> = payment
                .healed
                .iter()
                .map(|h| match &h.outcome {
                    LegHeal::Settled => format!("{} redone", h.leg),
                    LegHeal::Handed => format!("{} handed to mgrid dev, not delivered yet", h.leg),
                    LegHeal::Failed(why) => format!("{} failed again: {}", h.leg, printable(why)),
                })
                .collect();
            writeln!(
                f,
                "  {} vendor {} {} received {}: waits on {}{}",
                printable(&payment.transaction_id),
                printable(&payment.vendor_id),
                amount,
                payment.received,
                waits.join(", "),
                if healed.is_empty() {
                    String::new()
                } else {
                    format!("; heal: {}", healed.join(", "))
                }
            )?;
        }
        let listed = if self.healed {
            self.still_unsettled()
        } else {
            self.unsettled.len() - in_flight
        };
        if listed > shown.len() || self.more_unsettled {
            writeln!(
                f,
                "  … and {}{} more (--output json lists the {} read)",
                listed - shown.len(),
                if self.more_unsettled { "+" } else { "" },
                self.unsettled.len()
            )?;
        }
        Ok(())
    }
}

/// Per leg, how many payments wait and since when: what `status` says of a stage.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Unsettled {
    pub waiting_on_archive: u64,
    pub waiting_on_notify: u64,
    /// The oldest unsettled payment's receipt time, by leg (the leg's lag).
    pub oldest_archive: Option<String>,
    pub oldest_notify: Option<String>,
    /// More were unsettled than were read.
    pub more: bool,
}

impl Unsettled {
    /// What `items` (read at `now`) say; payments in flight are not counted.
    pub fn of(items: &[Item], more: bool, now: EpochMillis) -> Unsettled {
        let mut oldest: BTreeMap<Leg, EpochMillis> = BTreeMap::new();
        let mut unsettled = Unsettled {
            more,
            ..Unsettled::default()
        };
        for payment in items
            .iter()
            .filter_map(|item| UnsettledPayment::of(item, now))
            .filter(|p| !p.in_flight)
        {
            for leg in Leg::ALL {
                if payment.waits_on(leg) {
                    let at = oldest.entry(leg).or_insert(payment.received_at);
                    *at = (*at).min(payment.received_at);
                    match leg {
                        Leg::Archive => unsettled.waiting_on_archive += 1,
                        Leg::Notify => unsettled.waiting_on_notify += 1,
                    }
                }
            }
        }
        unsettled.oldest_archive = oldest.get(&Leg::Archive).map(|at| format_rfc3339(*at));
        unsettled.oldest_notify = oldest.get(&Leg::Notify).map(|at| format_rfc3339(*at));
        unsettled
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mgrid_contract::settlement::UNSETTLED;

    fn item(id: &str, amount: i64, archived: bool, notified: bool) -> Item {
        let mut item = Item::new();
        let mut s = |k: &str, v: &str| {
            item.insert(k.into(), Attribute::S(v.into()));
        };
        s(mgrid_contract::ledger::KEY_ATTRIBUTE, id);
        s("provider", "stripe");
        s("vendorId", "vnd_1");
        s("currency", "usd");
        s(UNSETTLED, "2026-12-07T11#0");
        item.insert("amount".into(), Attribute::N(amount.to_string()));
        item.insert("receivedAt".into(), Attribute::N("1000".into()));
        if archived {
            item.insert("archivedAt".into(), Attribute::N("2000".into()));
        }
        if notified {
            item.insert("notifiedAt".into(), Attribute::N("2000".into()));
        } else {
            item.insert("notifyFailure".into(), Attribute::S("answered 503".into()));
        }
        item
    }

    #[test]
    fn the_unsettled_are_counted_per_leg_with_their_money() {
        let items = [
            item("stripe:a", 1999, true, false),
            item("stripe:b", 500, false, false),
            item("stripe:c", 700, false, true),
        ];
        let journey = Journey::new(&items, false, None, 100_000);
        assert_eq!(
            (journey.waiting_on_archive, journey.waiting_on_notify),
            (2, 2)
        );
        assert_eq!(shown_amounts(&journey.unsettled_amounts), "31.99 USD");
        let text = journey.to_string();
        assert!(
            text.contains("unsettled: 3 payments (2 not archived, 2 vendors not told), 31.99 USD"),
            "{text}"
        );
        assert!(text.contains("stripe:a vendor vnd_1 19.99 USD"), "{text}");
        assert!(text.contains("waits on notify (answered 503)"), "{text}");
    }

    #[test]
    fn steps_subtract_the_listed_unsettled_and_a_heal_settles_them() {
        let mut money = Vec::new();
        add_amount(&mut money, 3199, "USD");
        let counted = || ((3, money.clone()), (3, money.clone()));
        let items = [
            item("stripe:a", 1999, true, false),
            item("stripe:x", 100, false, true),
        ];
        let mut journey = Journey::new(&items, false, None, 100_000);
        journey.mark_listed("stripe:a");
        let (sent, recorded) = counted();
        journey.count_steps(sent, recorded);
        let step = |j: &Journey, name: &str| {
            let s = j.steps.iter().find(|s| s.step == name).unwrap();
            (s.payments, shown_amounts(&s.amounts))
        };
        assert_eq!(step(&journey, "in the ledger"), (3, "31.99 USD".into()));
        assert_eq!(
            step(&journey, "archived"),
            (3, "31.99 USD".into()),
            "x was not listed"
        );
        assert_eq!(step(&journey, "vendor notified"), (2, "12.00 USD".into()));
        journey.heal("stripe:a", Leg::Notify, LegHeal::Settled);
        journey.heal(
            "stripe:x",
            Leg::Archive,
            LegHeal::Failed("disk full".into()),
        );
        journey.recount();
        let (sent, recorded) = counted();
        journey.count_steps(sent, recorded);
        assert_eq!(step(&journey, "vendor notified"), (3, "31.99 USD".into()));
        assert_eq!(journey.still_unsettled(), 1);
        assert!(
            journey
                .to_string()
                .contains("archive failed again: disk full")
        );
    }

    #[test]
    fn a_payment_received_moments_ago_is_in_flight_unless_a_leg_failed() {
        let mut fresh = item("stripe:a", 1, false, true);
        let failed = item("stripe:b", 1, false, false);
        fresh.insert("receivedAt".into(), Attribute::N("95000".into()));
        let mut failed_fresh = failed.clone();
        failed_fresh.insert("receivedAt".into(), Attribute::N("95000".into()));
        let journey = Journey::new(&[fresh, failed_fresh], false, None, 100_000);
        assert_eq!((journey.in_flight(), journey.still_unsettled()), (1, 1));
        assert!(journey.to_string().contains("in flight: 1 payment"));
    }

    #[test]
    fn the_terminal_listing_is_bounded() {
        let items: Vec<Item> = (0..SHOWN_MAX + 5)
            .map(|n| item(&format!("stripe:{n:03}"), 1, false, false))
            .collect();
        let text = Journey::new(&items, true, None, 100_000).to_string();
        assert!(
            text.contains("… and 5+ more (--output json lists the 25 read)"),
            "{text}"
        );
        assert_eq!(text.matches("received 1970").count(), SHOWN_MAX);
    }

    #[test]
    fn status_counts_and_lags_per_leg() {
        let items = [
            item("stripe:a", 1, true, false),
            item("stripe:b", 1, false, true),
        ];
        let unsettled = Unsettled::of(&items, false, 100_000);
        assert_eq!(
            (unsettled.waiting_on_archive, unsettled.waiting_on_notify),
            (1, 1)
        );
        assert!(unsettled.oldest_notify.is_some());
    }
}
