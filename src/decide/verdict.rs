//! What became of the webhooks a run put back on the queue: recorded in the ledger, already
//! there (a duplicate the processor acknowledges), back in the dead-letter queue with the
//! processor's reason, or not judged yet. A move is not a fix; a redrive or a replay ends on
//! these verdicts, not on what it moved. Pure: the lookups that feed it are `movers::follow`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::failure::{Failure, FailureKind};
use crate::text::{GOOD, WARNING};

/// A copy a run sent and the queue acknowledged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentCopy {
    /// The copy's deduplication id: what it carries back into the dead-letter queue if it
    /// fails again.
    pub deduplication_id: String,
    /// The ledger key it becomes (`provider:event id`); None for a body the processor cannot
    /// read, which can never be recorded.
    pub transaction_id: Option<String>,
    /// The provider's event id, for the operator.
    pub event_id: Option<String>,
    /// The ledger held the transaction before the copy was sent.
    pub already_recorded: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case", tag = "verdict")]
pub enum Verdict {
    /// Not judged yet when the run stopped watching.
    Pending,
    /// In the ledger.
    Recorded,
    /// The ledger held it before the copy went: the processor acknowledges it as a duplicate.
    Duplicate,
    /// Back in the dead-letter queue, for this reason.
    FailedAgain { reason: String },
}

/// One copy, followed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Followed {
    pub deduplication_id: String,
    pub transaction_id: Option<String>,
    pub event_id: Option<String>,
    #[serde(flatten)]
    pub verdict: Verdict,
}

/// The verdicts of a run's copies, by deduplication id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdicts {
    copies: BTreeMap<String, Followed>,
    /// A transaction the ledger recorded before this was there before the run: its copy is a
    /// duplicate ([`Verdicts::recorded_since`]). None: the run judged that before each copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    since: Option<mgrid_contract::EpochMillis>,
}

/// How far before its start a run counts a recorded transaction as there before it: the
/// operator's clock against the processor's (both NTP-kept; a minute is generous).
pub const CLOCK_MARGIN_MS: mgrid_contract::EpochMillis = 60_000;

/// The verdicts, counted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct VerdictCounts {
    pub recorded: usize,
    pub duplicate: usize,
    /// Back in the dead-letter queue, by reason.
    pub failed_again: BTreeMap<String, usize>,
    pub pending: usize,
}

impl VerdictCounts {
    pub fn failed_again_total(&self) -> usize {
        self.failed_again.values().sum()
    }

    pub fn total(&self) -> usize {
        self.recorded + self.duplicate + self.failed_again_total() + self.pending
    }

    /// `412 ledger-unavailable, 3 bad-signature`, the most frequent first.
    pub fn reasons(&self) -> String {
        let mut reasons: Vec<(&String, &usize)> = self.failed_again.iter().collect();
        reasons.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        reasons
            .iter()
            .map(|(reason, count)| format!("{count} {reason}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl Verdicts {
    /// Verdicts of a run started at `started` (the operator's clock), judged by when the
    /// ledger recorded each transaction.
    pub fn started_at(started: mgrid_contract::EpochMillis) -> Verdicts {
        Verdicts {
            copies: BTreeMap::new(),
            since: Some(started - CLOCK_MARGIN_MS),
        }
    }

    /// When a recorded transaction counts as there before the run, if the run judges by it.
    pub fn since(&self) -> Option<mgrid_contract::EpochMillis> {
        self.since
    }

    pub fn sent(&mut self, copy: SentCopy) {
        let verdict = if copy.already_recorded {
            Verdict::Duplicate
        } else {
            Verdict::Pending
        };
        self.copies
            .entry(copy.deduplication_id.clone())
            .or_insert(Followed {
                deduplication_id: copy.deduplication_id,
                transaction_id: copy.transaction_id,
                event_id: copy.event_id,
                verdict,
            });
    }

    /// The ledger keys of the copies not judged yet.
    pub fn pending_transactions(&self) -> Vec<String> {
        self.pending()
            .filter_map(|f| f.transaction_id.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    }

    pub fn is_pending(&self, deduplication_id: &str) -> bool {
        self.copies
            .get(deduplication_id)
            .is_some_and(|f| f.verdict == Verdict::Pending)
    }

    pub fn pending(&self) -> impl Iterator<Item = &Followed> {
        self.copies
            .values()
            .filter(|f| f.verdict == Verdict::Pending)
    }

    /// The ledger holds these transactions: their pending copies are recorded.
    pub fn recorded(&mut self, present: &BTreeSet<String>) {
        for followed in self.copies.values_mut() {
            let held = followed
                .transaction_id
                .as_ref()
                .is_some_and(|id| present.contains(id));
            if followed.verdict == Verdict::Pending && held {
                followed.verdict = Verdict::Recorded;
            }
        }
    }

    /// The ledger holds these transactions, each recorded when it says: a pending copy is
    /// recorded, or a duplicate when its transaction was recorded before `since` (the run's
    /// start, less a margin for the clocks: before any copy of the run could have been). A
    /// transaction recorded at an unknown time (an item from before the processor noted it) is
    /// recorded. This judges a run's copies with one ledger read of up to 100 keys after the
    /// move, instead of one read a batch before each copy.
    pub fn recorded_since(
        &mut self,
        held: &BTreeMap<String, Option<mgrid_contract::EpochMillis>>,
        since: mgrid_contract::EpochMillis,
    ) {
        for followed in self.copies.values_mut() {
            if followed.verdict != Verdict::Pending {
                continue;
            }
            let Some(at) = followed.transaction_id.as_ref().and_then(|id| held.get(id)) else {
                continue;
            };
            followed.verdict = match at {
                Some(at) if *at < since => Verdict::Duplicate,
                _ => Verdict::Recorded,
            };
        }
    }

    /// A copy of the run is back in the dead-letter queue. Only a pending copy changes: one
    /// already recorded stays recorded (another copy of the same event failed, not this one).
    pub fn came_back(&mut self, deduplication_id: &str, reason: &str) {
        if let Some(followed) = self.copies.get_mut(deduplication_id)
            && followed.verdict == Verdict::Pending
        {
            followed.verdict = Verdict::FailedAgain {
                reason: reason.to_owned(),
            };
        }
    }

    pub fn settled(&self) -> bool {
        self.pending().next().is_none()
    }

    pub fn is_empty(&self) -> bool {
        self.copies.is_empty()
    }

    pub fn counts(&self) -> VerdictCounts {
        let mut counts = VerdictCounts::default();
        for followed in self.copies.values() {
            match &followed.verdict {
                Verdict::Pending => counts.pending += 1,
                Verdict::Recorded => counts.recorded += 1,
                Verdict::Duplicate => counts.duplicate += 1,
                Verdict::FailedAgain { reason } => {
                    *counts.failed_again.entry(reason.clone()).or_default() += 1;
                }
            }
        }
        counts
    }

    /// Every copy and its verdict, for a report or a later look.
    pub fn all(&self) -> impl Iterator<Item = &Followed> {
        self.copies.values()
    }
}

impl FromIterator<Followed> for Verdicts {
    fn from_iter<I: IntoIterator<Item = Followed>>(followed: I) -> Verdicts {
        Verdicts {
            copies: followed
                .into_iter()
                .map(|f| (f.deduplication_id.clone(), f))
                .collect(),
            since: None,
        }
    }
}

/// What a run that sent webhooks says of them at its end: the verdicts, the ones not recorded,
/// and how to look again. Redrive and replay reports carry it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Judged {
    /// What became of the sent webhooks when the run stopped watching.
    pub verdicts: VerdictCounts,
    /// The sent webhooks not recorded: back in the dead-letter queue, or not judged yet.
    pub unsettled: Vec<Followed>,
    /// How long the run watched for verdicts after sending.
    pub watched_ms: u128,
    /// A look at the dead-letter queue read only its first messages: a webhook further back may
    /// have come back unseen (counted pending).
    pub look_cut_short: bool,
    /// The dead letters one look reads at most, when a look can be cut short.
    pub look_limit: usize,
    /// The command that looks at the pending webhooks again.
    pub check_later: Option<String>,
}

impl Judged {
    pub fn of(
        verdicts: &Verdicts,
        watched_ms: u128,
        look_cut_short: bool,
        look_limit: usize,
    ) -> Judged {
        Judged {
            verdicts: verdicts.counts(),
            unsettled: verdicts
                .all()
                .filter(|f| !matches!(f.verdict, Verdict::Recorded | Verdict::Duplicate))
                .cloned()
                .collect(),
            watched_ms,
            look_cut_short,
            look_limit,
            check_later: None,
        }
    }

    pub fn pending(&self) -> impl Iterator<Item = &Followed> {
        self.unsettled
            .iter()
            .filter(|f| f.verdict == Verdict::Pending)
    }

    /// Exit 7 when some of the `sent` webhooks failed again, 8 when some are not judged yet;
    /// None when every one is in the ledger. `verb`: what the run did to them ("moved").
    pub fn failure(&self, sent: usize, verb: &str, stage: &str) -> Option<Failure> {
        let verdicts = &self.verdicts;
        if let Some(reason) = most_frequent(&verdicts.failed_again) {
            return Some(
                Failure::new(
                    FailureKind::Partial,
                    format!(
                        "{} of {sent} {verb} webhooks failed again and are back in the dead-letter queue ({}); {} recorded",
                        verdicts.failed_again_total(),
                        verdicts.reasons(),
                        verdicts.recorded + verdicts.duplicate,
                    ),
                )
                .next(format!(
                    "see why with `mgrid dlq peek --stage {stage} --reason {reason}`, fix the cause, then `mgrid dlq redrive --stage {stage} --reason {reason}`"
                )),
            );
        }
        if verdicts.pending > 0 {
            let mut failure = Failure::new(
                FailureKind::Pending,
                format!(
                    "{} of {sent} {verb} webhooks are not recorded yet after watching {}; none has failed again so far",
                    verdicts.pending,
                    seconds(self.watched_ms)
                ),
            );
            if let Some(command) = &self.check_later {
                failure = failure.next(format!("look again later: {command}"));
            }
            return Some(failure);
        }
        None
    }

    /// The verdicts' lines of a report: what failed again, what is pending, or that every one
    /// of the `sent` webhooks is in the ledger.
    pub fn fmt(&self, f: &mut fmt::Formatter<'_>, sent: usize, verb: &str) -> fmt::Result {
        let verdicts = &self.verdicts;
        if verdicts.failed_again_total() > 0 {
            writeln!(
                f,
                "{WARNING}failed again:{WARNING:#} {} of the {verb} webhooks are back in the dead-letter queue ({}): their cause is not fixed yet",
                verdicts.failed_again_total(),
                verdicts.reasons()
            )?;
            let failed: Vec<&Followed> = self
                .unsettled
                .iter()
                .filter(|f| matches!(f.verdict, Verdict::FailedAgain { .. }))
                .collect();
            for followed in failed.iter().take(LISTED_FAILED) {
                let reason = match &followed.verdict {
                    Verdict::FailedAgain { reason } => reason.as_str(),
                    _ => "",
                };
                writeln!(
                    f,
                    "  {} ({})",
                    mgrid_contract::untrusted::printable(
                        followed
                            .event_id
                            .as_deref()
                            .unwrap_or(followed.deduplication_id.as_str())
                    ),
                    mgrid_contract::untrusted::printable(reason)
                )?;
            }
            if failed.len() > LISTED_FAILED {
                writeln!(
                    f,
                    "  and {} more (`--output json` lists every one)",
                    failed.len() - LISTED_FAILED
                )?;
            }
        }
        if verdicts.pending > 0 {
            let some: Vec<&str> = self
                .pending()
                .filter_map(|f| f.event_id.as_deref())
                .take(5)
                .collect();
            let more = verdicts.pending.saturating_sub(some.len());
            let named = match (some.is_empty(), more) {
                (true, _) => String::new(),
                (false, 0) => format!(": {}", some.join(", ")),
                (false, more) => format!(": {} and {more} more", some.join(", ")),
            };
            writeln!(
                f,
                "{WARNING}pending:{WARNING:#} {} {verb} webhook(s) not recorded yet and not back in the dead-letter queue{named}",
                verdicts.pending,
            )?;
            if self.look_cut_short {
                writeln!(
                    f,
                    "(each look read the first {} dead letters only; some pending ones may be back further in)",
                    self.look_limit
                )?;
            }
            if let Some(command) = &self.check_later {
                writeln!(f, "look again: {command}")?;
            }
        }
        let recorded = verdicts.recorded + verdicts.duplicate;
        if sent > 0 && recorded >= sent && verdicts.total() == recorded {
            writeln!(f, "{GOOD}every {verb} webhook is in the ledger{GOOD:#}")?;
        }
        Ok(())
    }
}

/// How many webhooks that failed again a text report names, one a line.
const LISTED_FAILED: usize = 10;

fn most_frequent(counts: &BTreeMap<String, usize>) -> Option<&String> {
    counts
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(reason, _)| reason)
}

/// "3 s", "1 min", "2 min 5 s".
pub fn seconds(ms: u128) -> String {
    let s = ms.div_ceil(1000);
    match s {
        0..60 => format!("{s} s"),
        _ if s.is_multiple_of(60) => format!("{} min", s / 60),
        _ => format!("{} min {} s", s / 60, s % 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copy(n: u32, already_recorded: bool) -> SentCopy {
        SentCopy {
            deduplication_id: format!("mark-{n}"),
            transaction_id: Some(format!("stripe:evt_{n}")),
            event_id: Some(format!("evt_{n}")),
            already_recorded,
        }
    }

    #[test]
    fn a_copy_is_pending_until_the_ledger_or_the_dead_letter_queue_says_otherwise() {
        let mut verdicts = Verdicts::default();
        for n in 1..=4 {
            verdicts.sent(copy(n, n == 4));
        }
        assert_eq!(
            verdicts.pending_transactions(),
            ["stripe:evt_1", "stripe:evt_2", "stripe:evt_3"]
        );
        verdicts.recorded(&BTreeSet::from(["stripe:evt_1".to_owned()]));
        verdicts.came_back("mark-2", "bad-signature");
        verdicts.came_back("mark-1", "bad-signature");
        verdicts.came_back("someone-else", "bad-signature");
        let counts = verdicts.counts();
        assert_eq!(
            (counts.recorded, counts.duplicate, counts.pending),
            (1, 1, 1)
        );
        assert_eq!(
            counts.failed_again["bad-signature"], 1,
            "mark-1 stays recorded"
        );
        assert_eq!(counts.total(), 4);
        assert!(!verdicts.settled());
        verdicts.recorded(&BTreeSet::from(["stripe:evt_3".to_owned()]));
        assert!(verdicts.settled());
    }

    #[test]
    fn an_unreadable_body_is_followed_only_by_its_mark() {
        let mut verdicts = Verdicts::default();
        verdicts.sent(SentCopy {
            deduplication_id: "mark-9".into(),
            transaction_id: None,
            event_id: None,
            already_recorded: false,
        });
        assert!(verdicts.pending_transactions().is_empty());
        assert!(verdicts.is_pending("mark-9"));
        verdicts.came_back("mark-9", "malformed-body");
        assert!(verdicts.settled());
    }

    #[test]
    fn waits_read_as_people_say_them() {
        assert_eq!(seconds(0), "0 s");
        assert_eq!(seconds(2_001), "3 s");
        assert_eq!(seconds(60_000), "1 min");
        assert_eq!(seconds(125_000), "2 min 5 s");
    }

    #[test]
    fn reasons_read_most_frequent_first() {
        let counts = VerdictCounts {
            failed_again: BTreeMap::from([("a".to_owned(), 1), ("b".to_owned(), 5)]),
            ..VerdictCounts::default()
        };
        assert_eq!(counts.reasons(), "5 b, 1 a");
    }
}
