//! The legs after the ledger, run the same way: a batch of ledger INSERTs (from the stream,
//! through a pipe) becomes one piece of work per record (an archive write, a vendor
//! notification), and each record whose work is done leaves its receipt on its ledger item
//! (mgrid_contract::settlement). A record whose work failed notes why on its item and is
//! reported as a batch item failure, so the pipe retries it and finally dead-letters it: nothing
//! is dropped in silence, and a command can list it by its missing receipt.

use std::future::Future;

use futures::future::join_all;
use mgrid_contract::EpochMillis;
use mgrid_contract::decision::{DecisionLine, Level};
use mgrid_contract::ledger::{Attribute, Item, KEY_ATTRIBUTE};
use mgrid_contract::settlement::{Leg, Receipt};

use crate::ports::{Clock, Receipts};

/// One stream record, as far as a leg cares.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamRecord {
    pub event_id: String,
    pub event_name: String,
    pub new_image: Option<Item>,
}

/// What a leg's work came to for one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    pub receipt: Receipt,
    /// False when the work had been done before (the archive object was already there).
    pub first_time: bool,
}

/// The work of one leg for one ledger item.
pub trait LegWork: Send + Sync {
    const LEG: Leg;
    /// The function named in decision lines.
    const FUNCTION: &'static str;
    /// Doing the work again is harmless (an archive write is idempotent; a notification is not):
    /// a record whose receipt could not be written is then failed, so the pipe redoes it and
    /// writes the receipt. Otherwise the record passes and stays unsettled in the index, for a
    /// heal that tells the vendor again as a marked redelivery.
    const REDO_IS_FREE: bool;

    fn work(
        &self,
        item: &Item,
        now: EpochMillis,
        by: &str,
    ) -> impl Future<Output = Result<Done, String>> + Send;
}

/// The records a runner takes for ledger items it is handed directly (a heal): INSERTs, as the
/// pipe hands them over, numbered in order.
pub fn records_of(items: &[Item]) -> Vec<StreamRecord> {
    items
        .iter()
        .enumerate()
        .map(|(at, item)| StreamRecord {
            event_id: at.to_string(),
            event_name: "INSERT".to_owned(),
            new_image: Some(item.clone()),
        })
        .collect()
}

/// One record's outcome, for its decision line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordOutcome {
    pub event_id: Option<String>,
    pub provider: Option<String>,
    pub transaction_id: Option<String>,
    /// archived, already-archived, archive-failed; notified, notify-failed.
    pub outcome: &'static str,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LegReport {
    /// Stream event ids for the `batchItemFailures` response.
    pub failed: Vec<String>,
    /// Work done for the first time.
    pub done: usize,
    /// Work found done before (the receipt is written again all the same).
    pub already: usize,
    pub skipped: usize,
    /// Receipts that could not be written.
    pub receipts_unwritten: usize,
    /// Why the first failed record failed, for the batch's summary line.
    pub first_error: Option<String>,
    /// What became of each record, in batch order (skipped records left out).
    pub outcomes: Vec<RecordOutcome>,
    /// The receipts written, by transaction id (the local stage commits them with its batch).
    pub receipts: Vec<(String, Receipt)>,
    /// For each record done, milliseconds from its webhook's receipt to the leg's work: the
    /// leg's lag.
    pub lags_ms: Vec<i64>,
}

impl LegReport {
    /// What became of the item of `transaction_id`: its receipt written, or why not (None when
    /// the batch did not hold it as a transaction).
    pub fn result_for(&self, transaction_id: &str) -> Option<Result<(), String>> {
        if self.receipts.iter().any(|(id, _)| id == transaction_id) {
            return Some(Ok(()));
        }
        let outcome = self
            .outcomes
            .iter()
            .find(|o| o.transaction_id.as_deref() == Some(transaction_id))?;
        Some(Err(outcome
            .detail
            .clone()
            .unwrap_or_else(|| outcome.outcome.to_owned())))
    }

    /// One decision line per record, at `now`, for the function `function`.
    pub fn decision_lines(&self, function: &str, now: EpochMillis) -> Vec<DecisionLine> {
        self.outcomes
            .iter()
            .map(|outcome| {
                let level = if outcome.outcome.ends_with("-failed") {
                    Level::Warn
                } else {
                    Level::Info
                };
                let mut line = DecisionLine::new(now, level, function, outcome.outcome);
                if let Some(detail) = &outcome.detail {
                    line = line.with_detail(detail);
                }
                line.event_id = outcome.event_id.clone();
                line.provider = outcome.provider.clone();
                line
            })
            .collect()
    }
}

/// Runs one leg's work for a batch and writes its receipts through `R`.
pub struct LegRunner<W, R> {
    work: W,
    receipts: R,
    by: String,
}

fn text(item: Option<&Item>, name: &str) -> Option<String> {
    match item?.get(name)? {
        Attribute::S(value) => Some(value.clone()),
        _ => None,
    }
}

impl<W: LegWork, R: Receipts> LegRunner<W, R> {
    /// `by` names who does the work in its receipts (the pipeline, or a heal).
    pub fn new(work: W, receipts: R, by: &str) -> Self {
        LegRunner {
            work,
            receipts,
            by: by.to_owned(),
        }
    }

    pub async fn run(&self, records: &[StreamRecord], clock: &dyn Clock) -> LegReport {
        let now = clock.now();
        let results = join_all(records.iter().map(|record| self.one(record, now))).await;
        let mut report = LegReport::default();
        let mut failures: Vec<(String, String)> = Vec::new();
        for (record, result) in records.iter().zip(results) {
            let image = record.new_image.as_ref();
            let transaction_id = text(image, KEY_ATTRIBUTE);
            let outcome = |outcome: &'static str, detail: Option<String>| RecordOutcome {
                event_id: text(image, "eventId"),
                provider: text(image, "provider"),
                transaction_id: transaction_id.clone(),
                outcome,
                detail,
            };
            match result {
                None => report.skipped += 1,
                Some(Ok(done)) => {
                    let name = match (W::LEG, done.first_time) {
                        (Leg::Archive, true) => "archived",
                        (Leg::Archive, false) => "already-archived",
                        (Leg::Notify, _) => "notified",
                    };
                    if done.first_time {
                        report.done += 1;
                    } else {
                        report.already += 1;
                    }
                    report.outcomes.push(outcome(name, None));
                    if let Some(Attribute::N(received)) = image.and_then(|i| i.get("receivedAt"))
                        && let Ok(received) = received.parse::<i64>()
                    {
                        report.lags_ms.push((now - received).max(0));
                    }
                    if let Some(id) = transaction_id.clone() {
                        report.receipts.push((id, done.receipt));
                    }
                }
                Some(Err(why)) => {
                    report.failed.push(record.event_id.clone());
                    report.first_error.get_or_insert(why.clone());
                    if let Some(id) = transaction_id.clone() {
                        failures.push((id, why.clone()));
                    }
                    report.outcomes.push(outcome(
                        match W::LEG {
                            Leg::Archive => "archive-failed",
                            Leg::Notify => "notify-failed",
                        },
                        Some(why),
                    ));
                }
            }
        }
        let written = self.receipts.settle(&report.receipts).await;
        // Only the receipts written stay in the report.
        let receipts = std::mem::take(&mut report.receipts);
        for ((transaction, receipt), result) in receipts.into_iter().zip(written) {
            let error = match result {
                Ok(()) => {
                    report.receipts.push((transaction, receipt));
                    continue;
                }
                Err(error) => error,
            };
            report.receipts_unwritten += 1;
            let why = format!("the {} receipt could not be written: {error}", W::LEG);
            report.first_error.get_or_insert(why.clone());
            if let Some(outcome) = report
                .outcomes
                .iter_mut()
                .find(|o| o.transaction_id.as_deref() == Some(&transaction))
            {
                outcome.detail = Some(why);
            }
            if W::REDO_IS_FREE
                && let Some(record) = records.iter().find(|record| {
                    text(record.new_image.as_ref(), KEY_ATTRIBUTE).as_deref() == Some(&transaction)
                })
            {
                report.failed.push(record.event_id.clone());
            }
        }
        if !failures.is_empty() {
            // Best effort: the batch item failure is what makes the pipe retry.
            for (at, result) in self
                .receipts
                .note_failures(W::LEG, &failures)
                .await
                .into_iter()
                .enumerate()
            {
                if let Err(error) = result {
                    tracing::warn!(
                        transaction = %failures[at].0,
                        "noting why the {} leg failed did not work: {error}",
                        W::LEG
                    );
                }
            }
        }
        report
    }

    /// None when the record is not one to work on.
    async fn one(&self, record: &StreamRecord, now: EpochMillis) -> Option<Result<Done, String>> {
        if record.event_name != "INSERT" {
            // The pipe's filter passes only INSERTs; receipts are MODIFYs.
            return None;
        }
        let Some(image) = &record.new_image else {
            return Some(Err(
                "an INSERT record without a new image; is the stream view NEW_AND_OLD_IMAGES?"
                    .to_owned(),
            ));
        };
        Some(self.work.work(image, now, &self.by).await)
    }
}
