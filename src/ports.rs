//! The ports operator commands reach a stage's data through, and their value types: small traits
//! that the AWS adapters (`aws/`) and the local stage (`local/`) both implement, so that a
//! command is written once for either and its loops can be driven by an in-memory stand-in in
//! tests and benchmarks. Neither adapter set imports the other, or a command.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

use mgrid_contract::ledger::Item;
use mgrid_contract::settlement::Leg;
use mgrid_contract::{EpochMillis, KeyRing};

use crate::decide::logs::{Follow, Found, LogQuery};
use crate::decide::metrics::{Panel, Snapshot, Window};
use crate::failure::Failure;

pub use crate::decide::logs::NewLines;
pub use crate::decide::values::{
    Attribute, BatchOutcome, DeadLetter, Depth, MaybeSent, Notification, Outgoing,
    ProviderEndpoint, ProviderEvent, Queued, SCAN_HOLD_SECONDS, StoredRing, Whereabouts, Written,
};

/// The dead-letter queue, as a redrive reads it: FIFO, so nothing is returned from a group with
/// a message in flight, and what is received stays hidden until its hold ends or it is deleted.
pub trait DeadLetterQueue {
    fn depth(&self) -> impl Future<Output = Result<Depth, Failure>>;

    /// Up to `max` messages (at most 10), each hidden for `hold_seconds`.
    fn receive(
        &self,
        max: usize,
        hold_seconds: u32,
    ) -> impl Future<Output = Result<Vec<DeadLetter>, Failure>>;

    /// Deletes received messages (by their latest receipt), reporting each.
    fn delete(
        &self,
        letters: &[&DeadLetter],
    ) -> impl Future<Output = Result<BatchOutcome, Failure>>;

    /// Hides received messages for `seconds` more (0: visible again now).
    fn set_visibility(
        &self,
        letters: &[&DeadLetter],
        seconds: u32,
    ) -> impl Future<Output = Result<(), Failure>>;
    /// Reads up to `limit` counted messages without consuming any (`visit` takes each and says
    /// whether it counts). The default holds what it reads hidden while it reads, so the next
    /// receive returns others, and makes all of it visible again at once at the end; FIFO shows
    /// only the first messages of each group this way.
    fn scan(
        &self,
        limit: usize,
        visit: &mut dyn FnMut(DeadLetter) -> bool,
    ) -> impl Future<Output = Result<(), Failure>> {
        async move {
            // What releasing them needs: no bodies are kept.
            let mut seen: Vec<DeadLetter> = Vec::new();
            let mut counted = 0;
            let mut ids = BTreeSet::new();
            let result = async {
                while counted < limit {
                    // Nothing returned: all that is left is behind what this scan holds.
                    let batch = self.receive(10, SCAN_HOLD_SECONDS).await?;
                    if batch.is_empty() {
                        break;
                    }
                    for message in batch {
                        if !ids.insert(message.message_id.clone()) {
                            continue;
                        }
                        seen.push(DeadLetter {
                            body: String::new(),
                            attributes: BTreeMap::new(),
                            ..message.clone()
                        });
                        if visit(message) {
                            counted += 1;
                        }
                    }
                }
                Ok::<(), Failure>(())
            }
            .await;
            let all: Vec<&DeadLetter> = seen.iter().collect();
            self.set_visibility(&all, 0).await?;
            result
        }
    }

    /// Whether a scan reads the whole queue as it is, receiving nothing (the local stage): a
    /// look is exact and changes no receive count. On SQS a look is a receive.
    fn looks_without_receiving(&self) -> bool {
        false
    }

    /// Deletes every message; how many, when the backend can tell.
    fn purge(&self) -> impl Future<Output = Result<Option<u64>, Failure>>;
}

/// The webhook queue, as redrive and replay send to it.
pub trait WebhookQueue {
    /// Sends `messages` in order (as few requests as the queue's limits allow), reporting each;
    /// `Ok(Err(MaybeSent))` when an answer was lost and some may have been queued.
    fn send(
        &self,
        messages: &[Outgoing],
    ) -> impl Future<Output = Result<Result<BatchOutcome, MaybeSent>, Failure>>;
}

/// The webhook archive, read by key: the stage's bucket, or the local stage's files.
pub trait WebhookArchive {
    /// Every key under `prefix` (an hour of one provider).
    fn list(&self, prefix: &str) -> impl Future<Output = Result<Vec<String>, Failure>>;
    fn get(&self, key: &str) -> impl Future<Output = Result<Vec<u8>, Failure>>;
}

/// Which transactions a stage's ledger already holds.
pub trait LedgerLookup {
    fn present(
        &self,
        transaction_ids: &[String],
    ) -> impl Future<Output = Result<BTreeSet<String>, Failure>>;

    /// The transactions the ledger holds, each with when the processor recorded it (None for an
    /// item written before the processor noted it): one request for up to 100 keys on AWS.
    fn held(
        &self,
        transaction_ids: &[String],
    ) -> impl Future<Output = Result<BTreeMap<String, Option<EpochMillis>>, Failure>> {
        async move {
            Ok(self
                .present(transaction_ids)
                .await?
                .into_iter()
                .map(|id| (id, None))
                .collect())
        }
    }

    /// One transaction, read consistently (None when the ledger does not hold it).
    fn record(
        &self,
        transaction_id: &str,
    ) -> impl Future<Output = Result<Option<mgrid_contract::TransactionRecord>, Failure>>;
}

/// The journey after the ledger: the payments whose legs are not all done (through the sparse
/// unsettled index, never a scan of the ledger), items read by id, and a leg redone from the
/// item with the leg's own code, its receipt written by the heal.
pub trait Settlement {
    /// Unsettled items received in `[from, to]`, oldest hours first, `max` at most.
    fn unsettled(
        &self,
        from: EpochMillis,
        to: EpochMillis,
        max: usize,
    ) -> impl Future<Output = Result<UnsettledPage, Failure>>;

    /// Ledger items by transaction id, read consistently (those the ledger holds).
    fn items(&self, transaction_ids: &[String])
    -> impl Future<Output = Result<Vec<Item>, Failure>>;

    /// Redoes `leg` for each item; what became of each, in order.
    fn redo(&self, leg: Leg, items: &[Item]) -> impl Future<Output = Result<Vec<Redone>, Failure>>;

    /// The transaction ids a pipe's failed stream batch held, read back from the ledger's
    /// stream while it holds them; None when it cannot (records trimmed after 24 hours, another
    /// stream, no stream on this backend), and why.
    fn batch_transactions(
        &self,
        batch: &crate::decide::pipe_letters::PipeBatch,
    ) -> impl Future<Output = Result<Vec<String>, String>> {
        let _ = batch;
        async { Err("this stage keeps no stream to read back".to_owned()) }
    }

    /// Whether what `redo` hands over (Redone::Handed) is being delivered now: the local stage's
    /// notify pipe runs only while `mgrid dev` does. A heal waits for receipts only then.
    fn delivers_handed(&self) -> bool {
        true
    }
}

/// What one read of the unsettled index found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UnsettledPage {
    /// As the index projects them (mgrid_contract::settlement::INDEX_PROJECTION).
    pub items: Vec<Item>,
    /// More were unsettled than `max`.
    pub more: bool,
    /// The read capacity the reads consumed, where the store says (DynamoDB).
    pub read_units: Option<f64>,
}

/// What redoing a leg for one item came to at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redone {
    /// Done, and its receipt written.
    Done,
    /// Handed to the running pipeline (the local notify pipe), whose receipt is to be waited for.
    Handed,
    /// Not done, and why.
    Failed(String),
}

impl Redone {
    /// Each item's outcome in a leg runner's report over `mgrid_pipeline::legs::records_of`.
    pub fn each(items: &[Item], report: &mgrid_pipeline::legs::LegReport) -> Vec<Redone> {
        items
            .iter()
            .map(|item| {
                let id = mgrid_contract::ledger::transaction_id(item).unwrap_or_default();
                match report.result_for(id) {
                    Some(Ok(())) => Redone::Done,
                    Some(Err(why)) => Redone::Failed(why),
                    None => Redone::Failed("the ledger item is not a transaction".to_owned()),
                }
            })
            .collect()
    }
}

/// A ledger that holds nothing: what the in-memory queues of the tests and benchmarks are
/// redriven against (every copy is new to it).
pub struct EmptyLedger;

impl LedgerLookup for EmptyLedger {
    async fn present(&self, _: &[String]) -> Result<BTreeSet<String>, Failure> {
        Ok(BTreeSet::new())
    }

    async fn record(&self, _: &str) -> Result<Option<mgrid_contract::TransactionRecord>, Failure> {
        Ok(None)
    }
}

/// Where a stage's key rings are kept: SSM SecureStrings (encrypted with the stage's key) for a
/// deployed stage, the local database for `--stage local`. Writes are conditional on the version
/// read (None: the ring must not exist yet), and a concurrent change is a Conflict failure.
pub trait KeyRings {
    fn read(&self, name: &str) -> impl Future<Output = Result<Option<StoredRing>, Failure>>;

    /// Writes `ring`, read at `read_version`: its new version, and who was overwritten if the
    /// store could not make the write conditional.
    fn write(
        &self,
        name: &str,
        ring: &KeyRing,
        read_version: Option<i64>,
    ) -> impl Future<Output = Result<Written, Failure>>;

    /// Since when the functions that cache these rings have been reading them, when the store
    /// knows (the local stage: since its `mgrid dev` started; now when none runs). A ring last
    /// changed before then is in use everywhere; None: any recent change may still be cached.
    fn read_by_functions_since(&self) -> Option<EpochMillis> {
        None
    }
}

/// Where `metrics tail` gets its snapshots: CloudWatch for a deployed stage, the per-minute
/// counters `mgrid dev` keeps for the local stage.
pub trait MetricsSource: Send + 'static {
    /// Every signal over `window`, and the breakdown of `focus` (an open drill-down).
    fn refresh(
        &mut self,
        window: &Window,
        focus: Option<Panel>,
    ) -> impl Future<Output = Result<Snapshot, Failure>> + Send;

    /// Ask again, on the next refresh, for rows the backend could not answer.
    fn retry_unavailable(&mut self);
}

/// A stage's logs as `mgrid logs` and `mgrid trace` read them: CloudWatch Logs, or the log file
/// `mgrid dev` writes. Which lines a query takes and how sources interleave is `decide::logs`.
pub trait Logs {
    /// The query's lines from `from` on, at most `limit` (a source).
    fn read(
        &self,
        query: &LogQuery,
        from: EpochMillis,
        limit: usize,
    ) -> impl Future<Output = Result<Found, Failure>>;

    /// Marks where a follow starts: a line written from here on is read by [`Logs::next`], even
    /// while the first read runs.
    fn start_follow(&mut self);

    /// Readies the follow of the query (`missing`: its log groups that do not exist yet); how
    /// it will go, in a sentence.
    fn go_live(&mut self, query: &LogQuery, missing: &[String]) -> impl Future<Output = String>;

    /// The query's lines since the last step, each once, oldest first.
    fn next(
        &mut self,
        query: &LogQuery,
        follow: &mut Follow,
    ) -> impl Future<Output = Result<NewLines, Failure>>;

    /// Whether the stage keeps API Gateway's access log (and a WAF): the local stage has neither.
    fn keeps_access_log(&self) -> bool;
}

/// The same call on whichever backend this is.
macro_rules! either {
    ($backend:expr, $port:ident => $call:expr) => {
        match $backend {
            Backend::Aws($port) => $call,
            Backend::Local($port) => $call,
        }
    };
}

/// A port of either backend, the AWS adapter's or the local stage's: `target` picks one, and
/// every port forwards to it, written once here.
pub enum Backend<A, L> {
    Aws(A),
    Local(L),
}

impl<A: Logs, L: Logs> Logs for Backend<A, L> {
    async fn read(
        &self,
        query: &LogQuery,
        from: EpochMillis,
        limit: usize,
    ) -> Result<Found, Failure> {
        either!(self, logs => logs.read(query, from, limit).await)
    }

    fn start_follow(&mut self) {
        either!(self, logs => logs.start_follow())
    }

    async fn go_live(&mut self, query: &LogQuery, missing: &[String]) -> String {
        either!(self, logs => logs.go_live(query, missing).await)
    }

    async fn next(&mut self, query: &LogQuery, follow: &mut Follow) -> Result<NewLines, Failure> {
        either!(self, logs => logs.next(query, follow).await)
    }

    fn keeps_access_log(&self) -> bool {
        either!(self, logs => logs.keeps_access_log())
    }
}

impl<A: DeadLetterQueue, L: DeadLetterQueue> DeadLetterQueue for Backend<A, L> {
    async fn depth(&self) -> Result<Depth, Failure> {
        either!(self, queue => queue.depth().await)
    }

    async fn receive(&self, max: usize, hold_seconds: u32) -> Result<Vec<DeadLetter>, Failure> {
        either!(self, queue => queue.receive(max, hold_seconds).await)
    }

    async fn delete(&self, letters: &[&DeadLetter]) -> Result<BatchOutcome, Failure> {
        either!(self, queue => queue.delete(letters).await)
    }

    async fn set_visibility(&self, letters: &[&DeadLetter], seconds: u32) -> Result<(), Failure> {
        either!(self, queue => queue.set_visibility(letters, seconds).await)
    }

    async fn scan(
        &self,
        limit: usize,
        visit: &mut dyn FnMut(DeadLetter) -> bool,
    ) -> Result<(), Failure> {
        either!(self, queue => queue.scan(limit, visit).await)
    }

    fn looks_without_receiving(&self) -> bool {
        either!(self, queue => queue.looks_without_receiving())
    }

    async fn purge(&self) -> Result<Option<u64>, Failure> {
        either!(self, queue => queue.purge().await)
    }
}

impl<A: WebhookQueue, L: WebhookQueue> WebhookQueue for Backend<A, L> {
    async fn send(
        &self,
        messages: &[Outgoing],
    ) -> Result<Result<BatchOutcome, MaybeSent>, Failure> {
        either!(self, queue => queue.send(messages).await)
    }
}

impl<A: KeyRings, L: KeyRings> KeyRings for Backend<A, L> {
    fn read_by_functions_since(&self) -> Option<EpochMillis> {
        either!(self, rings => rings.read_by_functions_since())
    }

    async fn read(&self, name: &str) -> Result<Option<StoredRing>, Failure> {
        either!(self, rings => rings.read(name).await)
    }

    async fn write(
        &self,
        name: &str,
        ring: &KeyRing,
        read_version: Option<i64>,
    ) -> Result<Written, Failure> {
        either!(self, rings => rings.write(name, ring, read_version).await)
    }
}

impl<A: WebhookArchive, L: WebhookArchive> WebhookArchive for Backend<A, L> {
    async fn list(&self, prefix: &str) -> Result<Vec<String>, Failure> {
        either!(self, archive => archive.list(prefix).await)
    }

    async fn get(&self, key: &str) -> Result<Vec<u8>, Failure> {
        either!(self, archive => archive.get(key).await)
    }
}

impl<A: LedgerLookup, L: LedgerLookup> LedgerLookup for Backend<A, L> {
    async fn present(&self, transaction_ids: &[String]) -> Result<BTreeSet<String>, Failure> {
        either!(self, ledger => ledger.present(transaction_ids).await)
    }

    async fn held(
        &self,
        transaction_ids: &[String],
    ) -> Result<BTreeMap<String, Option<EpochMillis>>, Failure> {
        either!(self, ledger => ledger.held(transaction_ids).await)
    }

    async fn record(
        &self,
        transaction_id: &str,
    ) -> Result<Option<mgrid_contract::TransactionRecord>, Failure> {
        either!(self, ledger => ledger.record(transaction_id).await)
    }
}

impl<A: Settlement, L: Settlement> Settlement for Backend<A, L> {
    async fn unsettled(
        &self,
        from: EpochMillis,
        to: EpochMillis,
        max: usize,
    ) -> Result<UnsettledPage, Failure> {
        either!(self, settlement => settlement.unsettled(from, to, max).await)
    }

    async fn items(&self, transaction_ids: &[String]) -> Result<Vec<Item>, Failure> {
        either!(self, settlement => settlement.items(transaction_ids).await)
    }

    async fn redo(&self, leg: Leg, items: &[Item]) -> Result<Vec<Redone>, Failure> {
        either!(self, settlement => settlement.redo(leg, items).await)
    }

    fn delivers_handed(&self) -> bool {
        either!(self, settlement => settlement.delivers_handed())
    }

    async fn batch_transactions(
        &self,
        batch: &crate::decide::pipe_letters::PipeBatch,
    ) -> Result<Vec<String>, String> {
        either!(self, settlement => settlement.batch_transactions(batch).await)
    }
}

impl<A: MetricsSource, L: MetricsSource> MetricsSource for Backend<A, L> {
    async fn refresh(
        &mut self,
        window: &Window,
        focus: Option<Panel>,
    ) -> Result<Snapshot, Failure> {
        either!(self, source => source.refresh(window, focus).await)
    }

    fn retry_unavailable(&mut self) {
        either!(self, source => source.retry_unavailable())
    }
}
