//! The archiver: ledger INSERTs (from the stream, through the archive pipe) become archived
//! webhooks at their key. Idempotent: an object already at its key is left as it is. A record
//! that cannot be archived is reported as a batch item failure, so the pipe retries it and
//! finally dead-letters it: nothing is dropped in silence.

use futures::future::join_all;
use mgrid_contract::EpochMillis;
use mgrid_contract::archive::{ArchiveKey, ArchivedWebhook};
use mgrid_contract::decision::{DecisionLine, Level};
use mgrid_contract::ledger::{Attribute, Item, envelope_from_item};

use crate::ports::{Archive, Insert};

/// One stream record, as far as the archiver cares.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamRecord {
    pub event_id: String,
    pub event_name: String,
    pub new_image: Option<Item>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArchiveReport {
    /// Stream event ids for the `batchItemFailures` response.
    pub failed: Vec<String>,
    pub written: usize,
    pub already_archived: usize,
    pub skipped: usize,
    /// Why the first failed record failed, for the batch's summary line.
    pub first_error: Option<String>,
    /// What became of each record, in batch order (skipped records left out).
    pub outcomes: Vec<RecordOutcome>,
}

/// One record's outcome, for its decision line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordOutcome {
    pub event_id: Option<String>,
    pub provider: Option<String>,
    /// archived, already-archived, archive-failed.
    pub outcome: &'static str,
    pub detail: Option<String>,
}

impl ArchiveReport {
    /// One decision line per record, at `now`.
    pub fn decision_lines(&self, now: EpochMillis) -> Vec<DecisionLine> {
        self.outcomes
            .iter()
            .map(|outcome| {
                let level = if outcome.outcome == "archive-failed" {
                    Level::Warn
                } else {
                    Level::Info
                };
                let mut line = DecisionLine::new(now, level, "archiver", outcome.outcome);
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

enum Archived {
    Written,
    AlreadyThere,
    Skipped,
    Failed(String),
}

pub struct Archiver<A> {
    archive: A,
}

impl<A: Archive> Archiver<A> {
    pub fn new(archive: A) -> Self {
        Archiver { archive }
    }

    pub async fn archive(&self, records: &[StreamRecord]) -> ArchiveReport {
        let results = join_all(records.iter().map(|record| self.archive_one(record))).await;
        let mut report = ArchiveReport::default();
        for (record, result) in records.iter().zip(results) {
            let text = |name: &str| match record.new_image.as_ref()?.get(name)? {
                Attribute::S(value) => Some(value.clone()),
                _ => None,
            };
            let (outcome, detail) = match result {
                Archived::Written => {
                    report.written += 1;
                    ("archived", None)
                }
                Archived::AlreadyThere => {
                    report.already_archived += 1;
                    ("already-archived", None)
                }
                Archived::Skipped => {
                    report.skipped += 1;
                    continue;
                }
                Archived::Failed(why) => {
                    report.failed.push(record.event_id.clone());
                    report.first_error.get_or_insert(why.clone());
                    ("archive-failed", Some(why))
                }
            };
            report.outcomes.push(RecordOutcome {
                event_id: text("eventId"),
                provider: text("provider"),
                outcome,
                detail,
            });
        }
        report
    }

    async fn archive_one(&self, record: &StreamRecord) -> Archived {
        if record.event_name != "INSERT" {
            // The pipe's filter passes only INSERTs; the ledger is append-only.
            return Archived::Skipped;
        }
        let Some(image) = &record.new_image else {
            return Archived::Failed(
                "an INSERT record without a new image; is the stream view NEW_AND_OLD_IMAGES?"
                    .to_owned(),
            );
        };
        let envelope = match envelope_from_item(image) {
            Ok(envelope) => envelope,
            Err(error) => {
                return Archived::Failed(format!(
                    "the ledger item holds no archivable webhook: {error}"
                ));
            }
        };
        let key = ArchiveKey::for_envelope(&envelope);
        match self
            .archive
            .put_new(&key, ArchivedWebhook::to_json(&envelope))
            .await
        {
            Ok(Insert::Written) => Archived::Written,
            Ok(Insert::AlreadyPresent) => Archived::AlreadyThere,
            Err(error) => Archived::Failed(format!("writing {key} failed: {error}")),
        }
    }
}
