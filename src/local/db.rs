//! The local stage's storage, in one SQLite database: the webhook queue and its dead-letter
//! queue (FIFO semantics of the deployed SQS queues), the ledger and its stream, the key rings,
//! and per-minute metric counters. Every function here runs inside a transaction its caller
//! holds, so a change and what follows from it (a ledger item and its stream record; a dead
//! letter and the removal of its original) commit together or not at all.

use std::collections::BTreeMap;

use mgrid_contract::ledger::{Attribute, Item};
use mgrid_contract::settlement::{
    BY_HEAL, BY_PIPELINE, Leg, Receipt, UNSETTLED, apply_failure, apply_receipt,
};
use mgrid_contract::{EpochMillis, QueueMessage};
use rusqlite::{Connection, OptionalExtension, params};

/// The deployed queue's redrive policy (maxReceiveCount, chosen in stacks/pipeline.yaml so that a
/// 15-minute outage dead-letters nothing): the eleventh receive goes to the dead-letter queue.
pub const MAX_RECEIVES: u32 = 10;
/// SQS FIFO's deduplication window.
pub const DEDUP_WINDOW_MS: i64 = 5 * 60_000;

pub const WEBHOOKS: &str = "webhooks";
pub const DEAD_LETTERS: &str = "dlq";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    message_id TEXT NOT NULL UNIQUE,
    group_id TEXT NOT NULL,
    dedup_id TEXT NOT NULL,
    body TEXT NOT NULL,
    attributes TEXT NOT NULL,
    sent_at INTEGER NOT NULL,
    visible_at INTEGER NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS messages_in_order ON messages (queue, seq);
CREATE INDEX IF NOT EXISTS messages_by_group ON messages (queue, group_id, visible_at);
CREATE INDEX IF NOT EXISTS messages_by_receives ON messages (queue, receive_count);
CREATE TABLE IF NOT EXISTS dedup (
    queue TEXT NOT NULL,
    group_id TEXT NOT NULL,
    dedup_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (queue, group_id, dedup_id)
);
CREATE TABLE IF NOT EXISTS ledger (
    transaction_id TEXT PRIMARY KEY,
    item TEXT NOT NULL,
    recorded_at INTEGER NOT NULL,
    unsettled TEXT
);
CREATE TABLE IF NOT EXISTS stream (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    transaction_id TEXT NOT NULL,
    done INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS stream_pending ON stream (done, seq);
CREATE TABLE IF NOT EXISTS notifications (
    seq INTEGER PRIMARY KEY,
    transaction_id TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL DEFAULT 0,
    redelivery INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS notify_dead_letters (
    seq INTEGER PRIMARY KEY,
    transaction_id TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    reason TEXT NOT NULL,
    failed_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS key_rings (
    name TEXT PRIMARY KEY,
    ring TEXT NOT NULL,
    version INTEGER NOT NULL,
    modified_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (
    name TEXT NOT NULL,
    minute INTEGER NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (name, minute)
);
CREATE TABLE IF NOT EXISTS recent_counts (
    name TEXT NOT NULL,
    at INTEGER NOT NULL,
    value REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS recent_counts_by_name ON recent_counts (name, at);
";

/// Runs one statement, prepared once per connection (rusqlite's `execute` parses it on every
/// call: a tenth of the local pipeline's time went to parsing the same statements). The store
/// runs its own transaction statements through it too (two for every operation).
pub(super) fn exec(
    tx: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> rusqlite::Result<usize> {
    tx.prepare_cached(sql)?.execute(params)
}

/// `query_row` on a statement prepared once per connection.
fn query_one<T>(
    tx: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    row: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    tx.prepare_cached(sql)?.query_row(params, row)
}

/// Statements a connection keeps prepared: every one the pipeline runs, with room to spare
/// (rusqlite keeps 16 by default, fewer than the pipeline's).
const PREPARED_STATEMENTS: usize = 128;

/// Opens (creating when needed) the database: WAL, and a commit is on disk when it returns.
pub fn open(path: &std::path::Path) -> rusqlite::Result<Connection> {
    let connection = Connection::open(path)?;
    connection.set_prepared_statement_cache_capacity(PREPARED_STATEMENTS);
    connection.busy_timeout(std::time::Duration::from_secs(10))?;
    connection.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
    )?;
    prepare(&connection)?;
    Ok(connection)
}

/// The schema, brought to this build's layout, with the indexes of the columns migrations add.
fn prepare(connection: &Connection) -> rusqlite::Result<()> {
    connection.execute_batch(SCHEMA)?;
    migrate(connection)?;
    // The unsettled index, as the table's sparse index: only items whose legs are not all done.
    connection.execute_batch(
        "CREATE INDEX IF NOT EXISTS ledger_unsettled ON ledger (recorded_at)
             WHERE unsettled IS NOT NULL;",
    )
}

/// The layout this build writes (`PRAGMA user_version`).
const LAYOUT: i64 = 2;

/// Brings a database an older mgrid wrote to [`LAYOUT`], in one transaction.
fn migrate(connection: &Connection) -> rusqlite::Result<()> {
    let layout: i64 = connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if layout >= LAYOUT {
        return Ok(());
    }
    if layout == 1 {
        return migrate_to_receipts(connection);
    }
    // 0 → 1: deduplication per message group, as the deployed queues' DeduplicationScope: the
    // old table goes and SCHEMA makes it again; its entries are dropped (within five minutes of
    // the upgrade the ledger, keyed by provider and event id, still records a repeat once).
    // Vendor notifications get their own queue beside the archive's: what the stream has not
    // finished is notified.
    connection.execute_batch(&format!(
        "BEGIN IMMEDIATE;
         DROP TABLE dedup;
         {SCHEMA}
         INSERT OR IGNORE INTO notifications (seq, transaction_id)
             SELECT seq, transaction_id FROM stream WHERE done = 0;
         PRAGMA user_version = 1;
         COMMIT;"
    ))?;
    migrate_to_receipts(connection)
}

/// 1 → 2: the legs after the ledger leave receipts, and the ledger keeps its unsettled items in
/// a sparse index. Items written before carry no receipts: they are not tracked (a report says
/// so), and the archive's attempts start at none. Columns a new database has already are kept.
fn migrate_to_receipts(connection: &Connection) -> rusqlite::Result<()> {
    let has = |table: &str, column: &str| -> rusqlite::Result<bool> {
        let mut statement = connection.prepare(&format!("PRAGMA table_info({table})"))?;
        let names = statement.query_map([], |row| row.get::<_, String>(1))?;
        for name in names {
            if name? == column {
                return Ok(true);
            }
        }
        Ok(false)
    };
    let mut batch = String::from("BEGIN IMMEDIATE;");
    if !has("ledger", "unsettled")? {
        batch.push_str("ALTER TABLE ledger ADD COLUMN unsettled TEXT;");
    }
    if !has("notifications", "redelivery")? {
        batch.push_str(
            "ALTER TABLE notifications ADD COLUMN redelivery INTEGER NOT NULL DEFAULT 0;",
        );
    }
    if !has("stream", "attempts")? {
        batch.push_str(
            "ALTER TABLE stream ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
             ALTER TABLE stream ADD COLUMN next_at INTEGER NOT NULL DEFAULT 0;",
        );
    }
    batch.push_str("PRAGMA user_version = 2; COMMIT;");
    connection.execute_batch(&batch)
}

/// A message as a receiver gets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub message_id: String,
    /// `<message id>:<receive count>`: stale once the message is received again.
    pub receipt: String,
    pub group_id: String,
    pub dedup_id: String,
    pub body: String,
    pub attributes: BTreeMap<String, String>,
    pub receive_count: u32,
    pub sent_at: EpochMillis,
}

/// Puts a message on `queue`, unless one with its deduplication id was sent to its message group
/// within the window (then, like SQS with `DeduplicationScope: messageGroup`, it is accepted and
/// dropped): the same event id from two providers is two webhooks. Returns the message id and whether it was new.
pub fn send(
    tx: &Connection,
    queue: &str,
    message: &QueueMessage,
    message_id: &str,
    now: EpochMillis,
) -> rusqlite::Result<(String, bool)> {
    let earlier: Option<String> = query_one(
        tx,
        "SELECT message_id FROM dedup
             WHERE queue = ?1 AND group_id = ?2 AND dedup_id = ?3 AND expires_at > ?4",
        params![queue, message.group_id, message.deduplication_id, now],
        |row| row.get(0),
    )
    .optional()?;
    if let Some(earlier) = earlier {
        return Ok((earlier, false));
    }
    exec(
        tx,
        "INSERT INTO messages (queue, message_id, group_id, dedup_id, body, attributes, sent_at, visible_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
        params![
            queue,
            message_id,
            message.group_id,
            message.deduplication_id,
            message.body,
            attributes_json(&message.attributes),
            now
        ],
    )?;
    exec(
        tx,
        "INSERT OR REPLACE INTO dedup (queue, group_id, dedup_id, message_id, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            queue,
            message.group_id,
            message.deduplication_id,
            message_id,
            now + DEDUP_WINDOW_MS
        ],
    )?;
    Ok((message_id.to_owned(), true))
}

fn attributes_json(attributes: &BTreeMap<String, String>) -> String {
    serde_json::to_string(attributes).unwrap_or_else(|_| "{}".to_owned())
}

/// Receives up to `max` messages, FIFO: the oldest first, and nothing from a group that has a
/// message in flight. A message received `MAX_RECEIVES` times and not deleted moves to the
/// dead-letter queue instead (on the webhook queue). Received messages are hidden for
/// `visibility_ms`.
pub fn receive(
    tx: &Connection,
    queue: &str,
    max: usize,
    visibility_ms: i64,
    now: EpochMillis,
) -> rusqlite::Result<Vec<Received>> {
    if queue == WEBHOOKS {
        exec(
            tx,
            // As SQS does for a FIFO queue, the move resets the message's enqueue time.
            "UPDATE messages SET queue = ?1, visible_at = ?2, sent_at = ?2
             WHERE queue = ?3 AND receive_count >= ?4 AND visible_at <= ?2",
            params![DEAD_LETTERS, now, WEBHOOKS, MAX_RECEIVES],
        )?;
    }
    let mut statement = tx.prepare_cached(
        "SELECT seq, message_id, group_id, dedup_id, body, attributes, receive_count, sent_at
         FROM messages m
         WHERE queue = ?1 AND NOT EXISTS (
             SELECT 1 FROM messages b WHERE b.queue = ?1 AND b.group_id = m.group_id AND b.visible_at > ?2)
         ORDER BY seq LIMIT ?3",
    )?;
    let rows = statement.query_map(params![queue, now, max as i64], |row| {
        Ok((
            row.get::<_, i64>(0)?,
            Received {
                message_id: row.get(1)?,
                receipt: String::new(),
                group_id: row.get(2)?,
                dedup_id: row.get(3)?,
                body: row.get(4)?,
                attributes: serde_json::from_str(&row.get::<_, String>(5)?).unwrap_or_default(),
                receive_count: row.get::<_, u32>(6)? + 1,
                sent_at: row.get(7)?,
            },
        ))
    })?;
    // Read them all before hiding any: hiding the first of a group would hide the rest of it
    // from this very query.
    let rows: Vec<(i64, Received)> = rows.collect::<rusqlite::Result<_>>()?;
    let mut received = Vec::new();
    for (seq, mut message) in rows {
        exec(
            tx,
            "UPDATE messages SET visible_at = ?1, receive_count = receive_count + 1 WHERE seq = ?2",
            params![now + visibility_ms, seq],
        )?;
        message.receipt = format!("{}:{}", message.message_id, message.receive_count);
        received.push(message);
    }
    Ok(received)
}

fn split_receipt(receipt: &str) -> Option<(&str, u32)> {
    let (id, count) = receipt.rsplit_once(':')?;
    Some((id, count.parse().ok()?))
}

/// Deletes a received message; false when the receipt is stale (received again since).
pub fn delete(tx: &Connection, queue: &str, receipt: &str) -> rusqlite::Result<bool> {
    let Some((id, count)) = split_receipt(receipt) else {
        return Ok(false);
    };
    let deleted = exec(
        tx,
        "DELETE FROM messages WHERE queue = ?1 AND message_id = ?2 AND receive_count = ?3",
        params![queue, id, count],
    )?;
    Ok(deleted == 1)
}

/// Hides a received message until `visible_at` (now: visible again); false when the receipt is
/// stale (received again since, or deleted).
pub fn set_visibility(
    tx: &Connection,
    queue: &str,
    receipt: &str,
    visible_at: EpochMillis,
) -> rusqlite::Result<bool> {
    let Some((id, count)) = split_receipt(receipt) else {
        return Ok(false);
    };
    let changed = exec(
        tx,
        "UPDATE messages SET visible_at = ?1 WHERE queue = ?2 AND message_id = ?3 AND receive_count = ?4",
        params![visible_at, queue, id, count],
    )?;
    Ok(changed == 1)
}

/// Makes every message in flight visible again at once: on a graceful shutdown, and at start
/// (whoever held them before is gone: one `mgrid dev` per data directory).
pub fn release_all(tx: &Connection, queue: &str, now: EpochMillis) -> rusqlite::Result<usize> {
    exec(
        tx,
        "UPDATE messages SET visible_at = ?1 WHERE queue = ?2 AND visible_at > ?1",
        params![now, queue],
    )
}

/// Moves a message to the dead-letter queue with the processor's verdict as attributes, and
/// removes it from the webhook queue, in one step; its enqueue time is reset, as SQS resets a
/// FIFO message's when it moves to a dead-letter queue.
pub fn dead_letter(
    tx: &Connection,
    receipt: &str,
    extra: &BTreeMap<String, String>,
    now: EpochMillis,
) -> rusqlite::Result<bool> {
    let Some((id, count)) = split_receipt(receipt) else {
        return Ok(false);
    };
    let attributes: Option<String> = query_one(
        tx,
            "SELECT attributes FROM messages WHERE queue = ?1 AND message_id = ?2 AND receive_count = ?3",
            params![WEBHOOKS, id, count],
            |row| row.get(0),
        )
        .optional()?;
    let Some(attributes) = attributes else {
        return Ok(false);
    };
    let mut attributes: BTreeMap<String, String> =
        serde_json::from_str(&attributes).unwrap_or_default();
    attributes.extend(extra.clone());
    exec(
        tx,
        "UPDATE messages SET queue = ?1, attributes = ?2, visible_at = ?3, sent_at = ?3 WHERE message_id = ?4",
        params![DEAD_LETTERS, attributes_json(&attributes), now, id],
    )?;
    Ok(true)
}

/// Visits every message of a queue, oldest first, in flight or not, one at a time (memory stays
/// flat whatever the queue holds), until `visit` says stop: the local queue can be read whole
/// without hiding anything (what `dlq stats` and `peek` do on AWS by receiving).
pub fn each(
    tx: &Connection,
    queue: &str,
    mut visit: impl FnMut(Received) -> bool,
) -> rusqlite::Result<()> {
    let mut statement = tx.prepare_cached(
        "SELECT message_id, group_id, dedup_id, body, attributes, receive_count, sent_at
         FROM messages WHERE queue = ?1 ORDER BY seq",
    )?;
    let mut rows = statement.query(params![queue])?;
    while let Some(row) = rows.next()? {
        let message_id: String = row.get(0)?;
        let receive_count: u32 = row.get(5)?;
        let message = Received {
            receipt: format!("{message_id}:{receive_count}"),
            message_id,
            group_id: row.get(1)?,
            dedup_id: row.get(2)?,
            body: row.get(3)?,
            attributes: serde_json::from_str(&row.get::<_, String>(4)?).unwrap_or_default(),
            receive_count,
            sent_at: row.get(6)?,
        };
        if !visit(message) {
            break;
        }
    }
    Ok(())
}

/// Every message of a queue, oldest first, in flight or not.
pub fn all(tx: &Connection, queue: &str) -> rusqlite::Result<Vec<Received>> {
    let mut statement = tx.prepare_cached(
        "SELECT message_id, group_id, dedup_id, body, attributes, receive_count, sent_at
         FROM messages WHERE queue = ?1 ORDER BY seq",
    )?;
    let rows = statement.query_map(params![queue], |row| {
        let message_id: String = row.get(0)?;
        let receive_count: u32 = row.get(5)?;
        Ok(Received {
            receipt: format!("{message_id}:{receive_count}"),
            message_id,
            group_id: row.get(1)?,
            dedup_id: row.get(2)?,
            body: row.get(3)?,
            attributes: serde_json::from_str(&row.get::<_, String>(4)?).unwrap_or_default(),
            receive_count,
            sent_at: row.get(6)?,
        })
    })?;
    rows.collect()
}

/// Moves a message from one queue to the end of another as `message` (new id, deduplication id
/// and attributes): the copy and the removal of the original commit together.
pub fn move_message(
    tx: &Connection,
    from: &str,
    message_id: &str,
    to: &str,
    message: &QueueMessage,
    new_id: &str,
    now: EpochMillis,
) -> rusqlite::Result<bool> {
    let removed = exec(
        tx,
        "DELETE FROM messages WHERE queue = ?1 AND message_id = ?2",
        params![from, message_id],
    )?;
    if removed == 1 {
        send(tx, to, message, new_id, now)?;
    }
    Ok(removed == 1)
}

/// Deletes every message of a queue; how many there were.
pub fn purge(tx: &Connection, queue: &str) -> rusqlite::Result<usize> {
    exec(tx, "DELETE FROM messages WHERE queue = ?1", params![queue])
}

/// How a queue stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueCounts {
    pub visible: u64,
    pub in_flight: u64,
    pub oldest_sent_at: Option<EpochMillis>,
}

pub fn depth(tx: &Connection, queue: &str, now: EpochMillis) -> rusqlite::Result<QueueCounts> {
    query_one(
        tx,
        "SELECT COALESCE(SUM(visible_at <= ?2), 0), COALESCE(SUM(visible_at > ?2), 0), MIN(sent_at)
         FROM messages WHERE queue = ?1",
        params![queue, now],
        |row| {
            Ok(QueueCounts {
                visible: row.get::<_, i64>(0)? as u64,
                in_flight: row.get::<_, i64>(1)? as u64,
                oldest_sent_at: row.get(2)?,
            })
        },
    )
}

/// Writes a ledger item unless its transaction is there, with its stream record; `unsettled`
/// is the item's index bucket (mgrid_contract::settlement), when it has one.
pub fn insert_transaction(
    tx: &Connection,
    transaction_id: &str,
    item_json: &str,
    unsettled: Option<&str>,
    now: EpochMillis,
) -> rusqlite::Result<bool> {
    let written = exec(
        tx,
        "INSERT INTO ledger (transaction_id, item, recorded_at, unsettled) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (transaction_id) DO NOTHING",
        params![transaction_id, item_json, now, unsettled],
    )?;
    if written == 1 {
        exec(
            tx,
            "INSERT INTO stream (transaction_id) VALUES (?1)",
            params![transaction_id],
        )?;
        // The notify pipe reads the same stream with its own position.
        exec(
            tx,
            "INSERT INTO notifications (seq, transaction_id) VALUES (?1, ?2)",
            params![tx.last_insert_rowid(), transaction_id],
        )?;
    }
    Ok(written == 1)
}

/// A vendor notification waiting to be delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingNotification {
    pub seq: i64,
    pub item: String,
    pub attempts: u32,
    pub recorded_at: EpochMillis,
    /// Queued again by a heal: the vendor is told it is a redelivery.
    pub redelivery: bool,
}

/// Notifications due at `now`, oldest first.
pub fn due_notifications(
    tx: &Connection,
    max: usize,
    now: EpochMillis,
) -> rusqlite::Result<Vec<PendingNotification>> {
    let mut statement = tx.prepare_cached(
        "SELECT n.seq, l.item, n.attempts, l.recorded_at, n.redelivery
         FROM notifications n JOIN ledger l USING (transaction_id)
         WHERE n.next_at <= ?1 ORDER BY n.seq LIMIT ?2",
    )?;
    let rows = statement.query_map(params![now, max as i64], |row| {
        Ok(PendingNotification {
            seq: row.get(0)?,
            item: row.get(1)?,
            attempts: row.get(2)?,
            recorded_at: row.get(3)?,
            redelivery: row.get(4)?,
        })
    })?;
    rows.collect()
}

/// The transaction and redelivery mark of a waiting notification.
fn notification(tx: &Connection, seq: i64) -> rusqlite::Result<Option<(String, bool)>> {
    query_one(
        tx,
        "SELECT transaction_id, redelivery FROM notifications WHERE seq = ?1",
        params![seq],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )
    .optional()
}

/// The notification was delivered at `at`: its receipt on the item (message id `local-<seq>`).
pub fn notified(tx: &Connection, seq: i64, at: EpochMillis) -> rusqlite::Result<()> {
    if let Some((transaction_id, redelivery)) = notification(tx, seq)? {
        let by = if redelivery { BY_HEAL } else { BY_PIPELINE };
        let receipt = Receipt::Notified {
            message_id: format!("local-{seq}"),
            at,
            by: by.to_owned(),
        };
        settle(tx, &transaction_id, &receipt)?;
        // Told at last: no longer a notify dead letter.
        exec(
            tx,
            "DELETE FROM notify_dead_letters WHERE transaction_id = ?1",
            params![transaction_id],
        )?;
    }
    exec(tx, "DELETE FROM notifications WHERE seq = ?1", params![seq])?;
    Ok(())
}

/// A delivery failed (`why`): try again at `next_at`.
pub fn notify_later(
    tx: &Connection,
    seq: i64,
    next_at: EpochMillis,
    why: &str,
) -> rusqlite::Result<()> {
    if let Some((transaction_id, _)) = notification(tx, seq)? {
        note_leg_failure(tx, &transaction_id, Leg::Notify, why)?;
    }
    exec(
        tx,
        "UPDATE notifications SET attempts = attempts + 1, next_at = ?2 WHERE seq = ?1",
        params![seq, next_at],
    )?;
    Ok(())
}

/// Queues a ledger item's vendor notification again, marked as a redelivery (a heal): the
/// notify pipe of a running `mgrid dev` delivers it and writes its receipt. False when the
/// ledger has no such item. A notification already waiting is marked, not queued twice. Queued
/// again under a negative sequence number, which no stream record has, so first in line.
pub fn notify_again(tx: &Connection, transaction_id: &str) -> rusqlite::Result<bool> {
    if item(tx, transaction_id)?.is_none() {
        return Ok(false);
    }
    let waiting = exec(
        tx,
        "UPDATE notifications SET redelivery = 1, next_at = 0 WHERE transaction_id = ?1",
        params![transaction_id],
    )?;
    if waiting == 0 {
        exec(
            tx,
            "INSERT INTO notifications (seq, transaction_id, redelivery)
             VALUES ((SELECT MIN(COALESCE(MIN(seq), 0), 0) - 1 FROM notifications), ?1, 1)",
            params![transaction_id],
        )?;
    }
    Ok(true)
}

/// A notification given up on, kept with why, as the notify pipe's dead-letter queue keeps it.
pub fn notify_dead_letter(
    tx: &Connection,
    seq: i64,
    reason: &str,
    now: EpochMillis,
) -> rusqlite::Result<()> {
    if let Some((transaction_id, _)) = notification(tx, seq)? {
        note_leg_failure(tx, &transaction_id, Leg::Notify, reason)?;
    }
    exec(
        tx,
        "INSERT OR REPLACE INTO notify_dead_letters (seq, transaction_id, attempts, reason, failed_at)
         SELECT seq, transaction_id, attempts + 1, ?2, ?3 FROM notifications WHERE seq = ?1",
        params![seq, reason, now],
    )?;
    exec(tx, "DELETE FROM notifications WHERE seq = ?1", params![seq])?;
    Ok(())
}

/// A stream record the archive pipe has not finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingRecord {
    pub seq: i64,
    pub item: String,
    pub attempts: u32,
    pub recorded_at: EpochMillis,
}

/// Stream records not yet archived and due at `now`, oldest first, with their items.
pub fn pending_stream(
    tx: &Connection,
    max: usize,
    now: EpochMillis,
) -> rusqlite::Result<Vec<PendingRecord>> {
    let mut statement = tx.prepare_cached(
        "SELECT s.seq, l.item, s.attempts, l.recorded_at
         FROM stream s JOIN ledger l USING (transaction_id)
         WHERE s.done = 0 AND s.next_at <= ?2 ORDER BY s.seq LIMIT ?1",
    )?;
    let rows = statement.query_map(params![max as i64, now], |row| {
        Ok(PendingRecord {
            seq: row.get(0)?,
            item: row.get(1)?,
            attempts: row.get(2)?,
            recorded_at: row.get(3)?,
        })
    })?;
    rows.collect()
}

/// The archive pipe is done with the record: archived, or given up on (its item stays
/// unsettled, with why).
pub fn stream_done(tx: &Connection, seq: i64) -> rusqlite::Result<()> {
    exec(
        tx,
        "UPDATE stream SET done = 1 WHERE seq = ?1",
        params![seq],
    )?;
    Ok(())
}

/// An archive write failed: try the record again at `next_at`.
pub fn archive_later(tx: &Connection, seq: i64, next_at: EpochMillis) -> rusqlite::Result<()> {
    exec(
        tx,
        "UPDATE stream SET attempts = attempts + 1, next_at = ?2 WHERE seq = ?1",
        params![seq, next_at],
    )?;
    Ok(())
}

/// A ledger item, by transaction id.
fn item(tx: &Connection, transaction_id: &str) -> rusqlite::Result<Option<Item>> {
    let json: Option<String> = query_one(
        tx,
        "SELECT item FROM ledger WHERE transaction_id = ?1",
        params![transaction_id],
        |row| row.get(0),
    )
    .optional()?;
    Ok(json.and_then(|json| serde_json::from_str(&json).ok()))
}

fn write_item(tx: &Connection, transaction_id: &str, item: &Item) -> rusqlite::Result<()> {
    let json = serde_json::to_string(item)
        .map_err(|error| rusqlite::Error::ToSqlConversionFailure(Box::new(error)))?;
    let unsettled = match item.get(UNSETTLED) {
        Some(Attribute::S(bucket)) => Some(bucket.clone()),
        _ => None,
    };
    exec(
        tx,
        "UPDATE ledger SET item = ?2, unsettled = ?3 WHERE transaction_id = ?1",
        params![transaction_id, json, unsettled],
    )?;
    Ok(())
}

/// Writes a leg's receipt on its item, as DynamoDB does (mgrid_contract::settlement): false
/// when the ledger has no such item.
pub fn settle(tx: &Connection, transaction_id: &str, receipt: &Receipt) -> rusqlite::Result<bool> {
    let Some(mut item) = item(tx, transaction_id)? else {
        return Ok(false);
    };
    apply_receipt(&mut item, receipt);
    write_item(tx, transaction_id, &item)?;
    Ok(true)
}

/// Notes on an item why a leg failed, unless the leg is done.
pub fn note_leg_failure(
    tx: &Connection,
    transaction_id: &str,
    leg: Leg,
    why: &str,
) -> rusqlite::Result<()> {
    let Some(mut item) = item(tx, transaction_id)? else {
        return Ok(());
    };
    if item.contains_key(leg.done_attribute()) {
        return Ok(());
    }
    apply_failure(&mut item, leg, why);
    write_item(tx, transaction_id, &item)
}

/// Unsettled ledger items recorded in `[from, to]`, oldest first, `max` at most; through the
/// sparse index, so the cost follows what is unsettled, not the ledger.
pub fn unsettled(
    tx: &Connection,
    from: EpochMillis,
    to: EpochMillis,
    max: usize,
) -> rusqlite::Result<Vec<Item>> {
    let mut statement = tx.prepare_cached(
        "SELECT item FROM ledger INDEXED BY ledger_unsettled
         WHERE unsettled IS NOT NULL AND recorded_at BETWEEN ?1 AND ?2
         ORDER BY recorded_at LIMIT ?3",
    )?;
    let rows = statement.query_map(params![from, to, max as i64], |row| row.get::<_, String>(0))?;
    let mut items = Vec::new();
    for json in rows {
        if let Ok(item) = serde_json::from_str(&json?) {
            items.push(item);
        }
    }
    Ok(items)
}

/// Ledger items by transaction id (those there are).
pub fn items(tx: &Connection, transaction_ids: &[String]) -> rusqlite::Result<Vec<Item>> {
    let mut found = Vec::new();
    for id in transaction_ids {
        if let Some(item) = item(tx, id)? {
            found.push(item);
        }
    }
    Ok(found)
}

/// A stored key ring: its JSON, version, and when it was last written.
pub struct RingRow {
    pub json: String,
    pub version: i64,
    pub modified_at: EpochMillis,
}

pub fn ring(tx: &Connection, name: &str) -> rusqlite::Result<Option<RingRow>> {
    query_one(
        tx,
        "SELECT ring, version, modified_at FROM key_rings WHERE name = ?1",
        params![name],
        |row| {
            Ok(RingRow {
                json: row.get(0)?,
                version: row.get(1)?,
                modified_at: row.get(2)?,
            })
        },
    )
    .optional()
}

/// Writes a key ring if its version is still `expected` (None: it must not exist yet), like
/// the SSM writes of `mgrid keys`. Returns the new version, or None on a concurrent change.
pub fn put_ring(
    tx: &Connection,
    name: &str,
    ring_json: &str,
    expected: Option<i64>,
    now: EpochMillis,
) -> rusqlite::Result<Option<i64>> {
    let changed = match expected {
        None => exec(
            tx,
            "INSERT INTO key_rings (name, ring, version, modified_at) VALUES (?1, ?2, 1, ?3)
             ON CONFLICT (name) DO NOTHING",
            params![name, ring_json, now],
        )?,
        Some(version) => exec(
            tx,
            "UPDATE key_rings SET ring = ?2, version = version + 1, modified_at = ?3
             WHERE name = ?1 AND version = ?4",
            params![name, ring_json, now, version],
        )?,
    };
    Ok((changed == 1).then(|| expected.unwrap_or(0) + 1))
}

/// How a new value meets the one a minute already has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Combine {
    /// Counts: add up.
    Add,
    /// Maxima (queue depth, concurrency): keep the higher.
    Max,
    /// Percentiles, recomputed as the minute goes on: replace.
    Set,
}

/// Records a signal's value for the minute `at` falls in (`metrics tail --stage local` reads
/// them).
pub fn record(
    tx: &Connection,
    name: &str,
    at: EpochMillis,
    value: f64,
    combine: Combine,
) -> rusqlite::Result<()> {
    let merged = match combine {
        Combine::Add => "value + excluded.value",
        Combine::Max => "MAX(value, excluded.value)",
        Combine::Set => "excluded.value",
    };
    exec(
        tx,
        &format!(
            "INSERT INTO counters (name, minute, value) VALUES (?1, ?2, ?3)
             ON CONFLICT (name, minute) DO UPDATE SET value = {merged}"
        ),
        params![name, at / 60_000, value],
    )?;
    Ok(())
}

/// How long each write's counts are kept, write by write, for the rate right now.
pub const RECENT_KEPT_MS: i64 = 120_000;

/// The name a write is marked under in `recent_counts` (with nothing counted).
const WRITTEN: &str = "(written)";

/// Keeps one write's counts as written at `at` (each name and how much it grew), marks the
/// write, and drops what is older than [`RECENT_KEPT_MS`].
pub fn record_recent(
    tx: &Connection,
    at: EpochMillis,
    counts: &BTreeMap<&'static str, f64>,
) -> rusqlite::Result<()> {
    let mut insert =
        tx.prepare_cached("INSERT INTO recent_counts (name, at, value) VALUES (?1, ?2, ?3)")?;
    insert.execute(params![WRITTEN, at, 0.0])?;
    for (name, value) in counts {
        insert.execute(params![name, at, value])?;
    }
    exec(
        tx,
        "DELETE FROM recent_counts WHERE at < ?1",
        params![at - RECENT_KEPT_MS],
    )?;
    Ok(())
}

/// The writes that cover the last `span` before `as_of`: the start of what they counted (the
/// write before the first of them) and `as_of`. None before two writes were kept.
pub fn recent_span(
    tx: &Connection,
    as_of: EpochMillis,
    span: i64,
) -> rusqlite::Result<Option<EpochMillis>> {
    let from: Option<EpochMillis> = query_one(
        tx,
        "SELECT MAX(at) FROM recent_counts WHERE name = ?1 AND at <= ?2",
        params![WRITTEN, as_of - span],
        |row| row.get(0),
    )
    .optional()?
    .flatten();
    match from {
        Some(from) => Ok(Some(from)),
        // Younger than the span: from the first write kept, when there are two.
        None => query_one(
            tx,
            "SELECT MIN(at) FROM recent_counts WHERE name = ?1 AND at < ?2",
            params![WRITTEN, as_of],
            |row| row.get(0),
        )
        .optional()
        .map(Option::flatten),
    }
}

/// What `name` counted in the writes after `from` up to `as_of`.
pub fn recent_count(
    tx: &Connection,
    name: &str,
    from: EpochMillis,
    as_of: EpochMillis,
) -> rusqlite::Result<f64> {
    query_one(
        tx,
        "SELECT COALESCE(SUM(value), 0) FROM recent_counts WHERE name = ?1 AND at > ?2 AND at <= ?3",
        params![name, from, as_of],
        |row| row.get(0),
    )
}

/// A counter's most recent value, whatever its minute.
pub fn last_counter(tx: &Connection, name: &str) -> rusqlite::Result<Option<f64>> {
    query_one(
        tx,
        "SELECT value FROM counters WHERE name = ?1 ORDER BY minute DESC LIMIT 1",
        params![name],
        |row| row.get(0),
    )
    .optional()
}

/// A counter's minutes from `from` to `to`, as (minute start, value).
pub fn counter_series(
    tx: &Connection,
    name: &str,
    from: EpochMillis,
    to: EpochMillis,
) -> rusqlite::Result<Vec<(EpochMillis, f64)>> {
    let mut statement = tx.prepare_cached(
        "SELECT minute, value FROM counters WHERE name = ?1 AND minute >= ?2 AND minute < ?3 ORDER BY minute",
    )?;
    let rows = statement.query_map(params![name, from / 60_000, to / 60_000], |row| {
        Ok((row.get::<_, i64>(0)? * 60_000, row.get(1)?))
    })?;
    rows.collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let connection = Connection::open_in_memory().unwrap();
        prepare(&connection).unwrap();
        connection
    }

    #[test]
    fn the_same_event_id_from_two_providers_is_two_messages() {
        let db = db();
        let (paypal_id, new) =
            send(&db, WEBHOOKS, &message("paypal:PAY-1", "evt_X"), "m1", 0).unwrap();
        assert!(new);
        let (stripe_id, new) =
            send(&db, WEBHOOKS, &message("stripe:pi_1", "evt_X"), "m2", 0).unwrap();
        assert!(new, "a Stripe evt_X is not PayPal's evt_X");
        assert_ne!(paypal_id, stripe_id);
        let (again, new) = send(&db, WEBHOOKS, &message("stripe:pi_1", "evt_X"), "m3", 1).unwrap();
        assert!(!new, "the same group's repeat is dropped");
        assert_eq!(again, stripe_id);
    }

    #[test]
    fn a_database_of_the_old_layout_is_migrated_and_keeps_what_was_not_notified() {
        let db = Connection::open_in_memory().unwrap();
        db.execute_batch(
            "CREATE TABLE dedup (queue TEXT NOT NULL, dedup_id TEXT NOT NULL, message_id TEXT NOT NULL,
                 expires_at INTEGER NOT NULL, PRIMARY KEY (queue, dedup_id));
             CREATE TABLE ledger (transaction_id TEXT PRIMARY KEY, item TEXT NOT NULL, recorded_at INTEGER NOT NULL);
             CREATE TABLE stream (seq INTEGER PRIMARY KEY AUTOINCREMENT, transaction_id TEXT NOT NULL, done INTEGER NOT NULL DEFAULT 0);
             INSERT INTO ledger VALUES ('stripe:a', '{}', 0), ('stripe:b', '{}', 0);
             INSERT INTO stream (transaction_id, done) VALUES ('stripe:a', 1), ('stripe:b', 0);",
        )
        .unwrap();
        db.execute_batch(SCHEMA).unwrap();
        migrate(&db).unwrap();
        migrate(&db).unwrap();
        let due = due_notifications(&db, 10, 0).unwrap();
        assert_eq!(due.iter().map(|n| n.seq).collect::<Vec<_>>(), vec![2]);
        send(&db, WEBHOOKS, &message("paypal:P", "evt_X"), "m1", 0).unwrap();
        assert!(
            send(&db, WEBHOOKS, &message("stripe:S", "evt_X"), "m2", 0)
                .unwrap()
                .1
        );
    }

    #[test]
    fn notifications_wait_apart_from_the_archive_and_dead_letter_with_their_attempts() {
        let db = db();
        insert_transaction(&db, "stripe:evt_1", "{}", None, 0).unwrap();
        insert_transaction(&db, "stripe:evt_2", "{}", None, 0).unwrap();
        for record in pending_stream(&db, 10, 0).unwrap() {
            stream_done(&db, record.seq).unwrap();
        }
        let due = due_notifications(&db, 10, 0).unwrap();
        assert_eq!(due.len(), 2, "archiving does not notify");
        notify_later(&db, due[0].seq, 5_000, "refused").unwrap();
        let due_now = due_notifications(&db, 10, 1_000).unwrap();
        assert_eq!(
            due_now.iter().map(|n| n.seq).collect::<Vec<_>>(),
            vec![due[1].seq]
        );
        notified(&db, due[1].seq, 2_000).unwrap();
        let later = due_notifications(&db, 10, 5_000).unwrap();
        assert_eq!(later[0].attempts, 1);
        notify_dead_letter(&db, later[0].seq, "refused", 6_000).unwrap();
        assert!(due_notifications(&db, 10, i64::MAX).unwrap().is_empty());
        let kept: (String, u32, String) = db
            .query_row(
                "SELECT transaction_id, attempts, reason FROM notify_dead_letters",
                [],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .unwrap();
        assert_eq!(kept, ("stripe:evt_1".to_owned(), 2, "refused".to_owned()));
    }

    fn message(group: &str, dedup: &str) -> QueueMessage {
        QueueMessage {
            body: format!("{{\"id\":\"{dedup}\"}}"),
            group_id: group.into(),
            deduplication_id: dedup.into(),
            attributes: BTreeMap::from([("mgrid-provider".into(), "stripe".into())]),
        }
    }

    fn send_all(db: &Connection, messages: &[(&str, &str)]) {
        for (n, (group, dedup)) in messages.iter().enumerate() {
            send(db, WEBHOOKS, &message(group, dedup), &format!("m{n}"), 0).unwrap();
        }
    }

    fn ids(received: &[Received]) -> Vec<&str> {
        received.iter().map(|r| r.dedup_id.as_str()).collect()
    }

    #[test]
    fn a_repeat_within_the_dedup_window_is_accepted_and_dropped() {
        let db = db();
        let first = send(&db, WEBHOOKS, &message("g", "evt_1"), "a", 0).unwrap();
        let again = send(&db, WEBHOOKS, &message("g", "evt_1"), "b", 1_000).unwrap();
        assert_eq!(first, ("a".to_owned(), true));
        assert_eq!(again, ("a".to_owned(), false));
        let later = send(
            &db,
            WEBHOOKS,
            &message("g", "evt_1"),
            "c",
            DEDUP_WINDOW_MS + 1,
        )
        .unwrap();
        assert_eq!(later, ("c".to_owned(), true));
    }

    #[test]
    fn a_group_with_a_message_in_flight_delivers_nothing_else() {
        let db = db();
        send_all(&db, &[("g1", "a"), ("g1", "b"), ("g2", "c")]);
        let first = receive(&db, WEBHOOKS, 1, 30_000, 10).unwrap();
        assert_eq!(ids(&first), ["a"]);
        let next = receive(&db, WEBHOOKS, 10, 30_000, 20).unwrap();
        assert_eq!(ids(&next), ["c"], "g1 waits for a");
        assert!(delete(&db, WEBHOOKS, &first[0].receipt).unwrap());
        let after = receive(&db, WEBHOOKS, 10, 30_000, 30).unwrap();
        assert_eq!(ids(&after), ["b"]);
    }

    #[test]
    fn one_receive_takes_a_group_in_order() {
        let db = db();
        send_all(&db, &[("g1", "a"), ("g2", "b"), ("g1", "c")]);
        let all = receive(&db, WEBHOOKS, 10, 30_000, 10).unwrap();
        assert_eq!(ids(&all), ["a", "b", "c"]);
    }

    #[test]
    fn an_unacknowledged_message_comes_back_after_its_visibility_and_dead_letters_after_the_last() {
        let db = db();
        send_all(&db, &[("g", "a")]);
        let last = i64::from(MAX_RECEIVES);
        for attempt in 1..=last {
            let got = receive(&db, WEBHOOKS, 10, 1_000, attempt * 10_000).unwrap();
            assert_eq!(got.len(), 1, "attempt {attempt}");
            assert_eq!(got[0].receive_count, attempt as u32);
            assert!(
                receive(&db, WEBHOOKS, 10, 1_000, attempt * 10_000 + 500)
                    .unwrap()
                    .is_empty()
            );
        }
        let after = (last + 1) * 10_000;
        assert!(receive(&db, WEBHOOKS, 10, 1_000, after).unwrap().is_empty());
        assert_eq!(depth(&db, DEAD_LETTERS, after).unwrap().visible, 1);
        assert_eq!(depth(&db, WEBHOOKS, after).unwrap(), QueueCounts::default());
    }

    #[test]
    fn a_stale_receipt_deletes_nothing() {
        let db = db();
        send_all(&db, &[("g", "a")]);
        let first = receive(&db, WEBHOOKS, 1, 1_000, 0).unwrap();
        let second = receive(&db, WEBHOOKS, 1, 1_000, 2_000).unwrap();
        assert!(!delete(&db, WEBHOOKS, &first[0].receipt).unwrap());
        assert!(delete(&db, WEBHOOKS, &second[0].receipt).unwrap());
    }

    #[test]
    fn dead_lettering_moves_the_message_with_the_verdict() {
        let db = db();
        send_all(&db, &[("g", "a"), ("g", "b")]);
        let got = receive(&db, WEBHOOKS, 1, 30_000, 0).unwrap();
        let verdict = BTreeMap::from([("mgrid-failure-reason".into(), "bad-signature".into())]);
        assert!(dead_letter(&db, &got[0].receipt, &verdict, 5).unwrap());
        let dead = receive(&db, DEAD_LETTERS, 10, 30_000, 10).unwrap();
        assert_eq!(dead[0].attributes["mgrid-failure-reason"], "bad-signature");
        assert_eq!(dead[0].attributes["mgrid-provider"], "stripe");
        assert_eq!(ids(&receive(&db, WEBHOOKS, 10, 30_000, 10).unwrap()), ["b"]);
    }

    #[test]
    fn receipts_settle_an_item_out_of_the_unsettled_index_and_a_heal_notifies_again() {
        use mgrid_contract::settlement::{Legs, sha256_hex};
        let db = db();
        let item = |id: &str| {
            let mut item = Item::new();
            item.insert("transactionId".into(), Attribute::S(id.into()));
            item.insert(UNSETTLED.into(), Attribute::S("2026-12-07T11#1".into()));
            serde_json::to_string(&item).unwrap()
        };
        for (id, at) in [
            ("stripe:a", 1_000),
            ("stripe:b", 2_000),
            ("stripe:c", 9_000),
        ] {
            let bucket = Some("2026-12-07T11#1");
            assert!(insert_transaction(&db, id, &item(id), bucket, at).unwrap());
        }
        let ids = |items: Vec<Item>| -> Vec<String> {
            items
                .iter()
                .map(|i| match &i["transactionId"] {
                    Attribute::S(id) => id.clone(),
                    _ => String::new(),
                })
                .collect()
        };
        assert_eq!(
            ids(unsettled(&db, 0, 5_000, 10).unwrap()),
            ["stripe:a", "stripe:b"]
        );
        let archived = Receipt::Archived {
            key: "webhooks/k".into(),
            sha256: sha256_hex(b"x"),
            at: 3_000,
            by: BY_PIPELINE.into(),
        };
        assert!(settle(&db, "stripe:a", &archived).unwrap());
        assert!(
            !settle(&db, "stripe:none", &archived).unwrap(),
            "a receipt makes no item"
        );
        note_leg_failure(&db, "stripe:a", Leg::Notify, "answered 503").unwrap();
        let a = Legs::of(&items(&db, &["stripe:a".into()]).unwrap()[0]);
        assert_eq!(a.pending(), vec![Leg::Notify]);
        assert_eq!(a.failure(Leg::Notify), Some("answered 503"));
        // The notification delivered at last settles it: out of the index.
        let due = due_notifications(&db, 10, 0).unwrap();
        notified(&db, due[0].seq, 4_000).unwrap();
        assert_eq!(ids(unsettled(&db, 0, 5_000, 10).unwrap()), ["stripe:b"]);
        // A heal queues b's notification again, marked, first in line; once delivered its
        // receipt says who.
        assert!(notify_again(&db, "stripe:b").unwrap());
        assert!(!notify_again(&db, "stripe:none").unwrap());
        let due = due_notifications(&db, 10, 0).unwrap();
        assert_eq!(
            due.iter().filter(|d| d.redelivery).count(),
            1,
            "marked, not queued twice"
        );
        let healed = due.iter().find(|d| d.redelivery).unwrap();
        notified(&db, healed.seq, 5_000).unwrap();
        let b = Legs::of(&items(&db, &["stripe:b".into()]).unwrap()[0]);
        assert_eq!(b.notified_by.as_deref(), Some(BY_HEAL));
        assert_eq!(b.pending(), vec![Leg::Archive]);
    }

    #[test]
    fn a_transaction_is_recorded_once_with_one_stream_record() {
        let db = db();
        assert!(insert_transaction(&db, "stripe:evt_1", "{}", None, 0).unwrap());
        assert!(!insert_transaction(&db, "stripe:evt_1", "{}", None, 1).unwrap());
        let pending = pending_stream(&db, 10, 0).unwrap();
        assert_eq!(pending.len(), 1);
        stream_done(&db, pending[0].seq).unwrap();
        assert!(pending_stream(&db, 10, 0).unwrap().is_empty());
    }

    #[test]
    fn a_ring_write_against_a_stale_version_is_refused() {
        let db = db();
        assert_eq!(put_ring(&db, "r", "{}", None, 0).unwrap(), Some(1));
        assert_eq!(put_ring(&db, "r", "{}", None, 0).unwrap(), None);
        assert_eq!(
            put_ring(&db, "r", "{\"a\":1}", Some(1), 7).unwrap(),
            Some(2)
        );
        assert_eq!(put_ring(&db, "r", "{}", Some(1), 9).unwrap(), None);
        let stored = ring(&db, "r").unwrap().expect("the ring");
        assert_eq!(
            (stored.json.as_str(), stored.version, stored.modified_at),
            ("{\"a\":1}", 2, 7)
        );
    }

    #[test]
    fn counters_add_up_per_minute_maxima_keep_the_highest_and_percentiles_the_latest() {
        let db = db();
        record(&db, "received", 60_000, 1.0, Combine::Add).unwrap();
        record(&db, "received", 61_000, 2.0, Combine::Add).unwrap();
        record(&db, "received", 120_000, 5.0, Combine::Add).unwrap();
        record(&db, "latency", 60_000, 9.0, Combine::Max).unwrap();
        record(&db, "latency", 60_500, 4.0, Combine::Max).unwrap();
        record(&db, "latency_p99", 60_000, 9.0, Combine::Set).unwrap();
        record(&db, "latency_p99", 60_500, 4.0, Combine::Set).unwrap();
        assert_eq!(
            counter_series(&db, "received", 0, 180_000).unwrap(),
            [(60_000, 3.0), (120_000, 5.0)]
        );
        assert_eq!(
            counter_series(&db, "latency", 0, 180_000).unwrap(),
            [(60_000, 9.0)]
        );
    }
}
