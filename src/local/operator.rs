//! The local stage's side of the operator commands: key rings for `mgrid keys`, the queues for
//! `mgrid dlq` and `mgrid replay` (with SQS's semantics: receipts, holds, per-group order), the
//! archive files and the ledger, all in the data directory `mgrid dev` writes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Mutex;

use mgrid_contract::envelope::attribute;
use mgrid_contract::{EpochMillis, QueueMessage};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use super::db;
use super::db::Received;
use super::paths::Paths;
use super::stage::{open_existing, running_endpoint};
use crate::decide::redrive::{Attribute, DeadLetter};
use crate::failure::{Failure, FailureKind};
use crate::ports::{
    BatchOutcome, DeadLetterQueue, Depth, KeyRings, LedgerLookup, MaybeSent, Outgoing, StoredRing,
    WebhookArchive, WebhookQueue, Written,
};

fn database_failure(error: rusqlite::Error) -> Failure {
    Failure::new(FailureKind::Failed, format!("the local database: {error}"))
}

/// The local stage's key rings, for `mgrid keys --stage local`: in the local database, plain
/// JSON (no KMS on one machine), versioned like SSM parameters.
pub struct LocalRings(pub PathBuf);

impl KeyRings for LocalRings {
    /// `mgrid dev` stamps its endpoint file with the moment its functions started.
    fn read_by_functions_since(&self) -> Option<EpochMillis> {
        let paths = Paths::new(&self.0);
        if running_endpoint(&paths).is_err() {
            return Some(crate::clock::now_millis());
        }
        let started = std::fs::metadata(&paths.endpoint).ok()?.modified().ok()?;
        let since = started.duration_since(std::time::UNIX_EPOCH).ok()?;
        EpochMillis::try_from(since.as_millis()).ok()
    }

    async fn read(&self, name: &str) -> Result<Option<StoredRing>, Failure> {
        let connection = open_existing(&Paths::new(&self.0))?;
        let stored = db::ring(&connection, name)
            .map_err(|e| Failure::new(FailureKind::Failed, format!("the local database: {e}")))?;
        let Some(stored) = stored else {
            return Ok(None);
        };
        let ring = mgrid_contract::KeyRing::parse(&stored.json).map_err(|e| {
            Failure::new(
                FailureKind::Failed,
                format!("the key ring {name} is unusable: {e}"),
            )
        })?;
        Ok(Some(StoredRing {
            ring,
            version: stored.version,
            modified_at: Some(stored.modified_at),
        }))
    }

    async fn write(
        &self,
        name: &str,
        ring: &mgrid_contract::KeyRing,
        read_version: Option<i64>,
    ) -> Result<Written, Failure> {
        let connection = open_existing(&Paths::new(&self.0))?;
        let written = db::put_ring(
            &connection,
            name,
            &ring.to_json(),
            read_version,
            crate::clock::now_millis(),
        )
        .map_err(|e| Failure::new(FailureKind::Failed, format!("the local database: {e}")))?;
        // The local write is conditional: a concurrent change leaves this one unwritten.
        let version = written.ok_or_else(|| {
            Failure::new(
                FailureKind::Conflict,
                format!(
                    "{name} was changed by someone else while this command ran; nothing was written"
                ),
            )
            .next("run `mgrid keys list --stage local` and try again")
        })?;
        Ok(Written {
            version,
            overwritten: None,
        })
    }
}

/// The local archive, read by key like the S3 bucket: `<archive>/<key>`.
pub struct LocalArchiveFiles(pub PathBuf);

impl WebhookArchive for LocalArchiveFiles {
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
            let kind = if error.kind() == std::io::ErrorKind::NotFound {
                FailureKind::NotFound
            } else {
                FailureKind::Failed
            };
            Failure::new(kind, format!("cannot read {}: {error}", path.display()))
        })
    }
}

/// One of the local stage's queues, as the ports of `mgrid dlq` and `mgrid replay` reach it:
/// the dead-letter queue a redrive reads, or the webhook queue redrive and replay send to.
pub struct LocalQueue {
    connection: Mutex<Connection>,
    queue: &'static str,
}

impl LocalQueue {
    pub fn open(paths: &Paths, queue: &'static str) -> Result<LocalQueue, Failure> {
        Ok(LocalQueue {
            connection: Mutex::new(open_existing(paths)?),
            queue,
        })
    }

    /// Runs `work` on the connection. Its transactions take the write lock when they begin
    /// (IMMEDIATE): a deferred one that reads and then writes cannot wait for `mgrid dev` or
    /// another command to finish writing, and fails with "database is locked".
    fn with<T>(
        &self,
        work: impl FnOnce(&mut Connection) -> rusqlite::Result<T>,
    ) -> Result<T, Failure> {
        let mut connection = self
            .connection
            .lock()
            .map_err(|_| Failure::new(FailureKind::Failed, "the local database is unusable"))?;
        work(&mut connection).map_err(database_failure)
    }
}

/// A local message as the redrive rules take it (the ingress's receipt time is a Number
/// attribute on SQS; the rest are Strings).
pub fn dead_letter(message: Received) -> DeadLetter {
    DeadLetter {
        message_id: message.message_id,
        receipt_handle: message.receipt,
        body: message.body,
        attributes: message
            .attributes
            .into_iter()
            .map(|(name, value)| {
                let data_type = if name == attribute::RECEIVED_AT {
                    "Number"
                } else {
                    "String"
                };
                let attribute = Attribute::text(data_type, &value);
                (name, attribute)
            })
            .collect(),
        group_id: message.group_id,
        deduplication_id: Some(message.dedup_id),
        receive_count: message.receive_count,
        sent_at: Some(message.sent_at),
    }
}

impl DeadLetterQueue for LocalQueue {
    async fn depth(&self) -> Result<Depth, Failure> {
        let now = crate::clock::now_millis();
        let depth = self.with(|c| db::depth(c, self.queue, now))?;
        Ok(Depth {
            visible: depth.visible,
            in_flight: depth.in_flight,
            arn: String::new(),
        })
    }

    async fn receive(&self, max: usize, hold_seconds: u32) -> Result<Vec<DeadLetter>, Failure> {
        let now = crate::clock::now_millis();
        let hold = i64::from(hold_seconds) * 1000;
        let received = self.with(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let received = db::receive(&tx, self.queue, max, hold, now)?;
            tx.commit()?;
            Ok(received)
        })?;
        Ok(received.into_iter().map(dead_letter).collect())
    }

    async fn delete(&self, letters: &[&DeadLetter]) -> Result<BatchOutcome, Failure> {
        self.with(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut outcome = BatchOutcome::default();
            for (i, letter) in letters.iter().enumerate() {
                if db::delete(&tx, self.queue, &letter.receipt_handle)? {
                    outcome.done.push(i);
                } else {
                    outcome
                        .failed
                        .push((i, "the receipt is stale: it was received again".into()));
                }
            }
            tx.commit()?;
            Ok(outcome)
        })
    }

    async fn set_visibility(&self, letters: &[&DeadLetter], seconds: u32) -> Result<(), Failure> {
        let at = crate::clock::now_millis() + i64::from(seconds) * 1000;
        self.with(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            for letter in letters {
                db::set_visibility(&tx, self.queue, &letter.receipt_handle, at)?;
            }
            tx.commit()
        })
    }

    /// Reads the queue whole, in order, one message at a time, hiding nothing: no other reader
    /// is kept waiting.
    async fn scan(
        &self,
        limit: usize,
        visit: &mut dyn FnMut(DeadLetter) -> bool,
    ) -> Result<(), Failure> {
        let mut counted = 0;
        self.with(|c| {
            db::each(c, self.queue, |message| {
                if visit(dead_letter(message)) {
                    counted += 1;
                }
                counted < limit
            })
        })
    }

    fn looks_without_receiving(&self) -> bool {
        true
    }

    async fn purge(&self) -> Result<Option<u64>, Failure> {
        let purged = self.with(|c| db::purge(c, self.queue))?;
        Ok(Some(purged as u64))
    }
}

impl WebhookQueue for LocalQueue {
    async fn send(
        &self,
        messages: &[Outgoing],
    ) -> Result<Result<BatchOutcome, MaybeSent>, Failure> {
        let now = crate::clock::now_millis();
        let ids = messages
            .iter()
            .map(|_| crate::ids::run_id())
            .collect::<Result<Vec<String>, Failure>>()?;
        self.with(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            for (message, id) in messages.iter().zip(&ids) {
                db::send(&tx, self.queue, &queue_message(message), id, now)?;
            }
            tx.commit()
        })?;
        Ok(Ok(BatchOutcome {
            done: (0..messages.len()).collect(),
            failed: Vec::new(),
        }))
    }
}

fn queue_message(message: &Outgoing) -> QueueMessage {
    QueueMessage {
        body: message.body.clone(),
        group_id: message.group_id.clone(),
        deduplication_id: message.deduplication_id.clone(),
        attributes: message
            .attributes
            .iter()
            .filter_map(|(name, value)| Some((name.clone(), value.text.clone()?)))
            .collect(),
    }
}

/// The local ledger, for `replay --only-missing`.
pub struct LocalLedgerLookup(pub Paths);

impl LedgerLookup for LocalLedgerLookup {
    async fn held(
        &self,
        transaction_ids: &[String],
    ) -> Result<BTreeMap<String, Option<mgrid_contract::EpochMillis>>, Failure> {
        let connection = open_existing(&self.0)?;
        let mut statement = connection
            .prepare_cached("SELECT recorded_at FROM ledger WHERE transaction_id = ?1")
            .map_err(database_failure)?;
        let mut held = BTreeMap::new();
        for id in transaction_ids {
            let at: Option<i64> = statement
                .query_row([id], |row| row.get(0))
                .optional()
                .map_err(database_failure)?;
            if let Some(at) = at {
                held.insert(id.clone(), Some(at));
            }
        }
        Ok(held)
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

    async fn record(
        &self,
        transaction_id: &str,
    ) -> Result<Option<mgrid_contract::TransactionRecord>, Failure> {
        let connection = open_existing(&self.0)?;
        let item: Option<String> = connection
            .query_row(
                "SELECT item FROM ledger WHERE transaction_id = ?1",
                [transaction_id],
                |row| row.get(0),
            )
            .optional()
            .map_err(database_failure)?;
        let Some(item) = item else {
            return Ok(None);
        };
        let unreadable = |e: String| {
            Failure::new(
                FailureKind::Failed,
                format!(
                    "the local ledger's item {transaction_id} does not read as a transaction: {e}"
                ),
            )
        };
        let item: mgrid_contract::ledger::Item =
            serde_json::from_str(&item).map_err(|e| unreadable(e.to_string()))?;
        mgrid_contract::ledger::record_from_item(&item)
            .map(Some)
            .map_err(|e| unreadable(e.to_string()))
    }
}

/// Where an event stands locally: its message in the webhook queue (read without receiving it),
/// and its transaction's vendor notification (a notification row is written with the ledger
/// item and deleted once the vendor took it).
pub fn whereabouts(
    paths: &Paths,
    event_id: &str,
    transaction_ids: &[String],
) -> Result<crate::ports::Whereabouts, Failure> {
    use crate::ports::{Notification, Queued, Whereabouts};
    let connection = open_existing(paths)?;
    // The body's own id, as the processor reads it; the LIKE only narrows what is parsed.
    let mut statement = connection
        .prepare_cached(
            "SELECT body, receive_count, sent_at FROM messages
             WHERE queue = ?1 AND instr(body, ?2) > 0 ORDER BY seq",
        )
        .map_err(database_failure)?;
    let mut queued = None;
    let rows = statement
        .query_map(rusqlite::params![db::WEBHOOKS, event_id], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, u32>(1)?,
                row.get::<_, i64>(2)?,
            ))
        })
        .map_err(database_failure)?;
    for row in rows {
        let (body, receive_count, sent_at) = row.map_err(database_failure)?;
        if mgrid_contract::envelope::claimed_event_id(&body).as_deref() == Some(event_id) {
            queued = Some(Queued {
                receive_count,
                sent_at,
            });
            break;
        }
    }
    let mut notification = Notification::NoTransaction;
    for id in transaction_ids {
        let failed: Option<(u32, String)> = connection
            .query_row(
                "SELECT attempts, reason FROM notify_dead_letters WHERE transaction_id = ?1",
                [id],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
            .map_err(database_failure)?;
        let pending: Option<u32> = connection
            .query_row(
                "SELECT attempts FROM notifications WHERE transaction_id = ?1",
                [id],
                |row| row.get(0),
            )
            .optional()
            .map_err(database_failure)?;
        notification = match (failed, pending) {
            (Some((attempts, reason)), _) => Notification::Failed { attempts, reason },
            (None, Some(attempts)) => Notification::Pending { attempts },
            (None, None) => Notification::Sent,
        };
    }
    Ok(Whereabouts {
        queue_read: true,
        queued,
        notification,
    })
}
