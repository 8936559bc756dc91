//! The processor workers: batches of ten from the local FIFO queue, as the event source mapping
//! hands them to the Lambda function, through the processor's own code.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use mgrid_pipeline::ports::InboundMessage;
use tokio::sync::watch;

use super::super::adapters::now;
use super::super::db::{self, Received, WEBHOOKS};
use super::super::metrics::LocalMetrics;
use super::super::paths::VISIBILITY_MS;
use super::shared::{LocalProcessor, Shared, idle};
use crate::decide::metrics::panels::reason_key;

/// The processor's `FailedWebhooks` by reason: dead-lettered, and retried with their cause.
pub(super) fn count_failures(
    metrics: &LocalMetrics,
    report: &mgrid_pipeline::processor::BatchReport,
) {
    let dead = report.dead_lettered.iter().map(|(r, n)| (r.as_str(), *n));
    let retried = report.retried.iter().map(|(c, n)| (c.as_str(), *n));
    for (reason, count) in dead.chain(retried) {
        metrics.add(reason_key(reason), count as f64);
    }
}

pub(super) fn inbound(message: &Received) -> InboundMessage {
    InboundMessage {
        message_id: message.message_id.clone(),
        body: message.body.clone(),
        attributes: message.attributes.clone(),
        group_id: message.group_id.clone(),
        deduplication_id: Some(message.dedup_id.clone()),
        receive_count: message.receive_count,
    }
}

/// A processor worker: receive ten, process them as the Lambda does, delete what succeeded;
/// what failed stays hidden until its visibility timeout, then comes back (three times at
/// most, then to the dead-letter queue).
pub(super) async fn process(
    shared: Arc<Shared>,
    processor: Arc<LocalProcessor>,
    mut stopping: watch::Receiver<bool>,
) {
    while !*stopping.borrow() {
        let batch = match shared
            .store
            .run(|c| db::receive(c, WEBHOOKS, 10, VISIBILITY_MS, now()))
            .await
        {
            Ok(batch) => batch,
            Err(error) => {
                shared.metrics.add("errors", 1.0);
                tracing::error!("receiving from the local queue failed: {error}");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if batch.is_empty() {
            // Woken by the ingress; the timer catches messages whose visibility ran out.
            idle(&shared.queued, &mut stopping).await;
            continue;
        }
        let messages: Vec<InboundMessage> = batch.iter().map(inbound).collect();
        let busy = shared.busy.fetch_add(1, Ordering::Relaxed) + 1;
        shared.metrics.max("concurrency", busy as f64);
        let started = std::time::Instant::now();
        let report = processor.process(&messages).await;
        shared.busy.fetch_sub(1, Ordering::Relaxed);
        if let Err(error) = shared.log.write(&report.decisions) {
            shared.metrics.add("errors", 1.0);
            tracing::error!("writing the pipeline log failed: {error}");
        }
        shared.metrics.add("invocations", 1.0);
        shared
            .metrics
            .sample("duration", started.elapsed().as_secs_f64() * 1000.0);
        shared.metrics.add("transactions", report.recorded as f64);
        count_failures(&shared.metrics, &report);
        let done: Vec<String> = batch
            .iter()
            .filter(|m| !report.failed.contains(&m.message_id))
            .map(|m| m.receipt.clone())
            .collect();
        let deleted = shared
            .store
            .run(move |c| {
                for receipt in &done {
                    db::delete(c, WEBHOOKS, receipt)?;
                }
                Ok(())
            })
            .await;
        if let Err(error) = deleted {
            shared.metrics.add("errors", 1.0);
            // The messages come back after their visibility timeout; the ledger makes the
            // repeat a no-op.
            tracing::error!("deleting processed messages failed: {error}");
        }
        if report.recorded > 0 {
            shared.recorded.notify_one();
            shared.to_notify.notify_one();
        }
        if batch.len() < 10 {
            // More may be queued behind a group this worker holds; let others take it.
            tokio::task::yield_now().await;
        }
    }
}
