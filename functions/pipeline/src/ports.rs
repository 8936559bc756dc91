//! The ports of the data plane: the few things the handlers need from the outside world. Each
//! has an AWS adapter (aws/) and, for `mgrid dev`, a local one; handlers are generic over them.

use std::collections::BTreeMap;
use std::future::Future;

use mgrid_contract::archive::ArchiveKey;
use mgrid_contract::ledger::Item;
use mgrid_contract::settlement::{Leg, Receipt};
use mgrid_contract::{EpochMillis, FailureReason, KeyRing};

/// What an adapter call can fail with, classified once, where the SDK error is understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortError {
    /// Throttled: retry later.
    #[error("{0} (throttled)")]
    Throttled(String),
    /// The call did not complete, or completed with a server error. It may still have taken
    /// effect (a timeout may have delivered the request), so callers must be able to repeat it.
    #[error("{0}")]
    Unavailable(String),
    /// Not allowed: the stage's IAM or key policy is wrong.
    #[error("{0} (access denied)")]
    Denied(String),
}

/// Whether a conditional write wrote or found its target already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Insert {
    Written,
    AlreadyPresent,
}

/// The append-only ledger of transactions.
pub trait Ledger: Send + Sync {
    /// Writes the item unless an item with its key exists (a redelivery is not an error).
    fn insert(&self, item: &Item) -> impl Future<Output = Result<Insert, PortError>> + Send;
}

/// The webhook archive.
pub trait Archive: Send + Sync {
    /// Writes the object unless one exists at the key.
    fn put_new(
        &self,
        key: &ArchiveKey,
        object: Vec<u8>,
    ) -> impl Future<Output = Result<Insert, PortError>> + Send;
}

/// The receipts the legs after the ledger leave on ledger items.
pub trait Receipts: Send + Sync {
    /// Writes each receipt on its item (by transaction id); an item whose legs are then all
    /// done leaves the unsettled index. One result per receipt, in order.
    fn settle(
        &self,
        receipts: &[(String, Receipt)],
    ) -> impl Future<Output = Vec<Result<(), PortError>>> + Send;

    /// Notes on each item (by transaction id) why `leg` failed for it. One result per item.
    fn note_failures(
        &self,
        leg: Leg,
        failures: &[(String, String)],
    ) -> impl Future<Output = Vec<Result<(), PortError>>> + Send;
}

/// Where vendor notifications are published.
pub trait Topic: Send + Sync {
    /// Publishes one notification; its message id. A redelivery is marked so
    /// (mgrid_contract::settlement::REDELIVERY_ATTRIBUTE).
    fn publish(
        &self,
        body: &str,
        redelivery: bool,
    ) -> impl Future<Output = Result<String, PortError>> + Send;
}

/// The stage's key rings (API keys and signing secrets).
pub trait KeyStore: Send + Sync {
    /// The ring stored under `name`, decrypted; None when there is none.
    fn ring(&self, name: &str) -> impl Future<Output = Result<Option<KeyRing>, PortError>> + Send;
}

/// A message as the processor receives it from the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMessage {
    pub message_id: String,
    pub body: String,
    /// String message attributes by name.
    pub attributes: BTreeMap<String, String>,
    pub group_id: String,
    pub deduplication_id: Option<String>,
    pub receive_count: u32,
}

/// Where permanently bad messages go, with the reason.
pub trait DeadLetters: Send + Sync {
    fn dead_letter(
        &self,
        message: &InboundMessage,
        reason: FailureReason,
        detail: &str,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// PayPal signing certificates, fetched by (allow-listed) URL.
pub trait Certificates: Send + Sync {
    fn fetch(&self, url: &str) -> impl Future<Output = Result<String, PortError>> + Send;
}

/// The time, injected so that tests control it.
pub trait Clock: Send + Sync {
    fn now(&self) -> EpochMillis;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> EpochMillis {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as EpochMillis)
            .unwrap_or(0)
    }
}
