//! The archiver: ledger INSERTs (from the stream, through the archive pipe) become archived
//! webhooks at their key. Idempotent: an object already at its key is left as it is. A record
//! that cannot be archived is reported as a batch item failure, so the pipe retries it and
//! finally dead-letters it: nothing is dropped in silence.

use futures::future::join_all;
use mgrid_contract::archive::{ArchiveKey, ArchivedWebhook};
use mgrid_contract::ledger::{Item, envelope_from_item};

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
}

enum Archived {
    Written,
    AlreadyThere,
    Skipped,
    Failed,
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
            match result {
                Archived::Written => report.written += 1,
                Archived::AlreadyThere => report.already_archived += 1,
                Archived::Skipped => report.skipped += 1,
                Archived::Failed => report.failed.push(record.event_id.clone()),
            }
        }
        report
    }

    async fn archive_one(&self, record: &StreamRecord) -> Archived {
        if record.event_name != "INSERT" {
            // The pipe's filter passes only INSERTs; the ledger is append-only.
            return Archived::Skipped;
        }
        let Some(image) = &record.new_image else {
            tracing::error!(event_id = %record.event_id, "an INSERT record without a new image; is the stream view NEW_AND_OLD_IMAGES?");
            return Archived::Failed;
        };
        let envelope = match envelope_from_item(image) {
            Ok(envelope) => envelope,
            Err(error) => {
                tracing::error!(event_id = %record.event_id, %error, "the ledger item holds no archivable webhook");
                return Archived::Failed;
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
            Err(error) => {
                tracing::warn!(%key, %error, "archive write failed; the pipe will retry it");
                Archived::Failed
            }
        }
    }
}
