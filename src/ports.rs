//! The ports operator commands reach a stage's data through, and their value types: small traits
//! that the AWS adapters (`aws/`) and the local stage (`local/`) both implement, so that a
//! command is written once for either and its loops can be driven by an in-memory stand-in in
//! tests and benchmarks. Neither adapter set imports the other, or a command.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

use crate::failure::Failure;
use crate::redrive::{Attribute, DeadLetter};

/// A message to put on the webhook queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub body: String,
    pub group_id: String,
    pub deduplication_id: String,
    pub attributes: BTreeMap<String, Attribute>,
}

/// Per-entry results of a batch call, by index into the request.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BatchOutcome {
    pub done: Vec<usize>,
    pub failed: Vec<(usize, String)>,
}

/// A batch call whose result is unknown (a timeout, a dropped connection): it may have been
/// applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaybeSent(pub String);

/// How many messages a queue holds: waiting, and in flight (received and hidden).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Depth {
    pub visible: u64,
    pub in_flight: u64,
    /// The queue's ARN (empty on the local stage).
    pub arn: String,
}

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
}
