//! The two pipes after the ledger: every new ledger item archived, and its vendor notified
//! (printed, or POSTed), retried within the pipe's bounds (stacks/pipeline.yaml).

use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;
use mgrid_contract::ledger::{Attribute, Item};
use mgrid_pipeline::archiver::{Archiver, StreamRecord};
use tokio::sync::watch;

use super::super::adapters::{LocalArchive, now};
use super::super::db::{self};
use super::shared::{Shared, idle, pause};
use crate::http::NotifyUrl;
use crate::retry::Backoff;

/// The notify pipe's bounds (stacks/pipeline.yaml): retried at most this many times…
pub const NOTIFY_ATTEMPTS: u32 = 10;

/// …and never when older than this (its MaximumRecordAgeInSeconds, 6 h).
pub const NOTIFY_MAX_AGE_MS: i64 = 21_600_000;

/// Notifications read and marked per commit. The pipe reads ten a batch; locally each commit
/// is an fsync, and a hundred a commit keeps notifying ahead of a 3,000-a-second load.
pub(super) const NOTIFY_BATCH: usize = 100;

/// A failed delivery waits 1 s, doubled each step up to a minute.
const NOTIFY_BACKOFF: Backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(60));

/// A notification POST that has not answered by then failed.
pub(super) const NOTIFY_TIMEOUT: Duration = Duration::from_secs(10);

/// A failed archive write is retried after 1 s, doubled each step up to 30 s.
const ARCHIVE_BACKOFF: Backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(30));

pub(super) fn text(item: &Item, name: &str) -> String {
    match item.get(name) {
        Some(Attribute::S(value)) | Some(Attribute::N(value)) => value.clone(),
        _ => String::new(),
    }
}

/// An item's field as a terminal line may show it: the values came from a webhook.
pub(super) fn shown(item: &Item, name: &str) -> String {
    crate::text::shown(&text(item, name))
}

/// Where vendor notifications go: stdout, and a URL when given.
pub(super) struct Notifier {
    pub(super) print: bool,
    pub(super) url: Option<NotifyUrl>,
    pub(super) client: crate::http::HttpClient,
}

impl Notifier {
    /// Delivers one notification; why not, when the URL did not take it.
    async fn notify(&self, item: &Item) -> Result<(), String> {
        if let Some(url) = &self.url {
            let request = hyper::Request::post(url.uri().clone())
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from(
                    mgrid_contract::notification::vendor_notification(item).to_string(),
                )))
                .map_err(|e| e.to_string())?;
            match tokio::time::timeout(NOTIFY_TIMEOUT, self.client.request(request)).await {
                Ok(Ok(response)) if response.status().is_success() => {}
                Ok(Ok(response)) => return Err(format!("answered {}", response.status())),
                Ok(Err(error)) => return Err(format!("did not take it ({error})")),
                Err(_) => {
                    return Err(format!("did not answer in {} s", NOTIFY_TIMEOUT.as_secs()));
                }
            }
        }
        if self.print {
            let amount = match text(item, "amount").parse::<i64>() {
                Ok(minor) => {
                    mgrid_contract::money::shown_amount(i128::from(minor), &text(item, "currency"))
                }
                Err(_) => "no amount".to_owned(),
            };
            println!(
                "notify vendor {}: {} {} {amount} ({})",
                shown(item, "vendorId"),
                shown(item, "provider"),
                shown(item, "eventType"),
                shown(item, mgrid_contract::ledger::KEY_ATTRIBUTE),
            );
        }
        Ok(())
    }
}

/// The archive pipe: each new ledger item is archived; a record is marked done only once it
/// is, so a failed write is tried again, after a wait that doubles while writes keep failing.
pub(super) async fn archive(
    shared: Arc<Shared>,
    archiver: Archiver<LocalArchive>,
    mut stopping: watch::Receiver<bool>,
) {
    let mut failing = 0u32;
    while !*stopping.borrow() {
        let pending = match shared.store.run(|c| db::pending_stream(c, 100)).await {
            Ok(pending) => pending,
            Err(error) => {
                tracing::error!("reading the local ledger stream failed: {error}");
                pause(&mut stopping, Duration::from_secs(1)).await;
                continue;
            }
        };
        if pending.is_empty() {
            idle(&shared.recorded, &mut stopping).await;
            continue;
        }
        let records: Vec<StreamRecord> = pending
            .iter()
            .map(|(seq, _, item)| StreamRecord {
                event_id: seq.to_string(),
                event_name: "INSERT".to_owned(),
                new_image: serde_json::from_str(item).ok(),
            })
            .collect();
        let report = archiver.archive(&records).await;
        shared
            .metrics
            .add("archiver_errors", report.failed.len() as f64);
        if let Err(error) = shared.log.write(&report.decision_lines(now())) {
            tracing::error!("writing the pipeline log failed: {error}");
        }
        let done: Vec<i64> = records
            .iter()
            .filter(|record| !report.failed.contains(&record.event_id))
            .filter_map(|record| record.event_id.parse().ok())
            .collect();
        let marked = shared
            .store
            .run(move |c| {
                for seq in &done {
                    db::stream_done(c, *seq)?;
                }
                Ok(())
            })
            .await;
        if let Err(error) = &marked {
            tracing::error!("marking archived records failed: {error}");
        }
        if report.failed.is_empty() && marked.is_ok() {
            if failing > 0 {
                tracing::info!("archive writes succeed again");
            }
            failing = 0;
            continue;
        }
        failing += 1;
        let wait = ARCHIVE_BACKOFF.wait(failing);
        if let Some(error) = &report.first_error {
            // One line a retry step, whatever the number of records that failed.
            tracing::warn!(
                "{} archive writes failed ({error}); retrying in {} s",
                report.failed.len(),
                wait.as_secs()
            );
        }
        pause(&mut stopping, wait).await;
    }
}

/// The notify pipe: each new ledger item's vendor notification, in order, apart from
/// archiving. A batch the URL does not take waits, twice as long each step, and a notification tried NOTIFY_ATTEMPTS times or older than NOTIFY_MAX_AGE_MS
/// becomes a notify dead letter, as the pipe's DeadLetterConfig keeps it.
pub(super) async fn notify(
    shared: Arc<Shared>,
    notifier: Notifier,
    mut stopping: watch::Receiver<bool>,
) {
    let mut failing = 0u32;
    // What the last batch delivered, marked in the same commit that reads the next batch.
    let mut delivered_before: Vec<i64> = Vec::new();
    while !*stopping.borrow() {
        let done = std::mem::take(&mut delivered_before);
        let due = match shared
            .store
            .run(move |c| {
                for seq in &done {
                    db::notified(c, *seq)?;
                }
                db::due_notifications(c, NOTIFY_BATCH, now())
            })
            .await
        {
            Ok(due) => due,
            Err(error) => {
                tracing::error!("reading the local notifications failed: {error}");
                pause(&mut stopping, Duration::from_secs(1)).await;
                continue;
            }
        };
        if due.is_empty() {
            idle(&shared.to_notify, &mut stopping).await;
            continue;
        }
        let mut delivered = Vec::new();
        let mut failure = None;
        for pending in &due {
            let outcome = match serde_json::from_str::<Item>(&pending.item) {
                Ok(item) => notifier.notify(&item).await,
                Err(error) => Err(format!("the ledger item cannot be read ({error})")),
            };
            match outcome {
                Ok(()) => delivered.push(pending.seq),
                Err(why) => {
                    failure = Some(why);
                    break;
                }
            }
        }
        let Some(why) = failure else {
            if failing > 0 {
                tracing::info!("vendor notifications are delivered again");
            }
            failing = 0;
            delivered_before = delivered;
            continue;
        };
        failing += 1;
        let wait = NOTIFY_BACKOFF.wait(failing);
        let at = now();
        let (given_up, retried): (Vec<_>, Vec<_>) = due
            .iter()
            .filter(|pending| !delivered.contains(&pending.seq))
            .partition(|pending| {
                pending.attempts + 1 >= NOTIFY_ATTEMPTS
                    || at - pending.recorded_at > NOTIFY_MAX_AGE_MS
            });
        let given_up: Vec<i64> = given_up.iter().map(|p| p.seq).collect();
        let retried: Vec<i64> = retried.iter().map(|p| p.seq).collect();
        let dead = given_up.len();
        let url = notifier
            .url
            .as_ref()
            .map_or_else(String::new, ToString::to_string);
        tracing::warn!(
            "{url} {why}: {} vendor notifications wait, next try in {} s{}",
            retried.len(),
            wait.as_secs(),
            if dead > 0 {
                format!(
                    "; {dead} tried {NOTIFY_ATTEMPTS} times (or 6 h old) are kept as notify dead letters"
                )
            } else {
                String::new()
            }
        );
        shared
            .metrics
            .add("notify_errors", (retried.len() + dead) as f64);
        let reason = why.clone();
        let next_at = at + wait.as_millis() as i64;
        let kept = shared
            .store
            .run(move |c| {
                for seq in &delivered {
                    db::notified(c, *seq)?;
                }
                for seq in &retried {
                    db::notify_later(c, *seq, next_at)?;
                }
                for seq in &given_up {
                    db::notify_dead_letter(c, *seq, &reason, at)?;
                }
                Ok(())
            })
            .await;
        if let Err(error) = kept {
            tracing::error!("recording failed notifications failed: {error}");
        }
        pause(&mut stopping, wait).await;
    }
    if !delivered_before.is_empty() {
        let _ = shared
            .store
            .run(move |c| {
                delivered_before
                    .iter()
                    .try_for_each(|seq| db::notified(c, *seq))
            })
            .await;
    }
}
