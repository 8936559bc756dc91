//! The local stage's side of the operator commands: key rings for `mgrid keys`, the archive
//! files and the queue for `mgrid replay`, all in the data directory `mgrid dev` writes.

use std::collections::BTreeSet;
use std::path::PathBuf;

use mgrid_contract::QueueMessage;

use super::{Paths, db, open_existing};
use crate::aws::queues::{BatchOutcome, MaybeSent, Outgoing};
use crate::commands::replay::{ArchiveSource, ReplayTarget};
use crate::failure::{Failure, FailureKind};

fn database_failure(error: rusqlite::Error) -> Failure {
    Failure::new(FailureKind::Failed, format!("the local database: {error}"))
}

/// The local stage's key rings, for `mgrid keys --stage local`: in the local database, plain
/// JSON (no KMS on one machine), versioned like SSM parameters.
pub struct LocalRings(pub PathBuf);

impl crate::keys::KeyRings for LocalRings {
    async fn read(&self, name: &str) -> Result<Option<crate::aws::keystore::StoredRing>, Failure> {
        let connection = open_existing(&Paths::new(&self.0))?;
        let stored = db::ring(&connection, name)
            .map_err(|e| Failure::new(FailureKind::Failed, format!("the local database: {e}")))?;
        let Some((json, version)) = stored else {
            return Ok(None);
        };
        let ring = mgrid_contract::KeyRing::parse(&json).map_err(|e| {
            Failure::new(
                FailureKind::Failed,
                format!("the key ring {name} is unusable: {e}"),
            )
        })?;
        Ok(Some(crate::aws::keystore::StoredRing {
            ring,
            version,
            modified_at: None,
        }))
    }

    async fn write(
        &self,
        name: &str,
        ring: &mgrid_contract::KeyRing,
        _kms_key: &str,
        read_version: Option<i64>,
    ) -> Result<i64, Failure> {
        let connection = open_existing(&Paths::new(&self.0))?;
        let written = db::put_ring(
            &connection,
            name,
            &ring.to_json(),
            read_version,
            crate::commands::now_millis(),
        )
        .map_err(|e| Failure::new(FailureKind::Failed, format!("the local database: {e}")))?;
        written.ok_or_else(|| {
            Failure::new(
                FailureKind::Conflict,
                format!(
                    "{name} was changed by someone else while this command ran; nothing was written"
                ),
            )
            .next("run `mgrid keys list --stage local` and try again")
        })
    }
}

/// The local archive, read by key like the S3 bucket: `<archive>/<key>`.
pub struct LocalArchiveFiles(pub PathBuf);

impl ArchiveSource for LocalArchiveFiles {
    async fn list(&self, prefix: &str) -> Result<Vec<String>, Failure> {
        let dir = self.0.join(prefix);
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => {
                return Err(Failure::new(
                    FailureKind::Failed,
                    format!("cannot list {}: {error}", dir.display()),
                ));
            }
        };
        let mut keys: Vec<String> = entries
            .flatten()
            .filter(|entry| entry.path().is_file())
            .filter_map(|entry| {
                entry
                    .file_name()
                    .to_str()
                    .map(|name| format!("{prefix}{name}"))
            })
            // A write the archiver had not finished (it renames into place).
            .filter(|key| !key.ends_with(".partial"))
            .collect();
        keys.sort();
        Ok(keys)
    }

    async fn get(&self, key: &str) -> Result<Vec<u8>, Failure> {
        let path = self.0.join(key);
        std::fs::read(&path).map_err(|error| {
            Failure::new(
                FailureKind::Failed,
                format!("cannot read {}: {error}", path.display()),
            )
        })
    }
}

/// The local webhook queue and ledger, as a replay's target.
pub struct LocalReplayTarget(pub Paths);

impl ReplayTarget for LocalReplayTarget {
    async fn send_batch(
        &self,
        messages: &[Outgoing],
    ) -> Result<Result<BatchOutcome, MaybeSent>, Failure> {
        let mut connection = open_existing(&self.0)?;
        let tx = connection.transaction().map_err(database_failure)?;
        let now = crate::commands::now_millis();
        for message in messages {
            let queued = QueueMessage {
                body: message.body.clone(),
                group_id: message.group_id.clone(),
                deduplication_id: message.deduplication_id.clone(),
                attributes: message
                    .attributes
                    .iter()
                    .filter_map(|(name, value)| Some((name.clone(), value.text.clone()?)))
                    .collect(),
            };
            db::send(&tx, db::WEBHOOKS, &queued, &crate::commands::run_id()?, now)
                .map_err(database_failure)?;
        }
        tx.commit().map_err(database_failure)?;
        Ok(Ok(BatchOutcome {
            done: (0..messages.len()).collect(),
            failed: Vec::new(),
        }))
    }

    async fn present(&self, transaction_ids: &[String]) -> Result<BTreeSet<String>, Failure> {
        let connection = open_existing(&self.0)?;
        let mut statement = connection
            .prepare_cached("SELECT 1 FROM ledger WHERE transaction_id = ?1")
            .map_err(database_failure)?;
        let mut present = BTreeSet::new();
        for id in transaction_ids {
            if statement.exists([id]).map_err(database_failure)? {
                present.insert(id.clone());
            }
        }
        Ok(present)
    }
}
