//! What the ingress, the processor workers and the pipes share: the store, the authorizer,
//! the wake-ups between them, the metrics and the decision log; and how a worker waits.

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;

use mgrid_pipeline::authorizer::Authorizer;
use mgrid_pipeline::processor::Processor;
use tokio::sync::{Notify, watch};

use super::super::adapters::{LocalDeadLetters, LocalKeyStore, LocalLedger, NoCertificates};
use super::super::metrics::LocalMetrics;
use super::super::store::Store;

pub(super) type LocalProcessor =
    Processor<LocalLedger, LocalDeadLetters, LocalKeyStore, NoCertificates>;

pub(super) struct Shared {
    pub(super) store: Store,
    pub(super) authorizer: Authorizer<LocalKeyStore>,
    /// Wakes the processor workers when something was queued.
    pub(super) queued: Notify,
    /// Wakes the archive worker when something was recorded.
    pub(super) recorded: Notify,
    /// Wakes the notify worker when something was recorded.
    pub(super) to_notify: Notify,
    pub(super) metrics: Arc<LocalMetrics>,
    /// Processor workers in the middle of a batch (the concurrency signal).
    pub(super) busy: AtomicUsize,
    /// The processor's decision lines, as CloudWatch Logs keeps them on AWS.
    pub(super) log: super::super::logfile::LogWriter,
}

/// Waits until `wake` is notified, half a second has passed (what a timer frees: visibility
/// that ran out, a retry that is due), or mgrid dev stops.
pub(super) async fn idle(wake: &Notify, stopping: &mut watch::Receiver<bool>) {
    tokio::select! {
        _ = wake.notified() => {}
        _ = tokio::time::sleep(Duration::from_millis(500)) => {}
        _ = stopping.changed() => {}
    }
}

/// Waits `wait`, or less when mgrid dev stops.
pub(super) async fn pause(stopping: &mut watch::Receiver<bool>, wait: Duration) {
    tokio::select! {
        _ = tokio::time::sleep(wait) => {}
        _ = stopping.changed() => {}
    }
}
