//! The two legs after the ledger: every new ledger item archived, and its vendor notified
//! (printed, or POSTed), each leaving its receipt on the item, retried within the pipes' bounds
//! (stacks/pipeline.yaml) and then left unsettled with why, as on AWS.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;
use mgrid_contract::decision::{DecisionLine, Level};
use mgrid_contract::ledger::{Attribute, Item};
use mgrid_contract::settlement::REDELIVERY_ATTRIBUTE;
use mgrid_pipeline::archiver::Archiver;
use mgrid_pipeline::legs::{LegRunner, StreamRecord};
use mgrid_pipeline::ports::SystemClock;
use tokio::sync::watch;

use super::super::adapters::{LocalArchive, LocalReceipts, now};
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
pub const NOTIFY_BACKOFF: Backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(60));

/// A notification POST that has not answered by then failed.
pub(super) const NOTIFY_TIMEOUT: Duration = Duration::from_secs(10);

/// A failed archive write is retried after 1 s, doubled each step up to 30 s.
pub const ARCHIVE_BACKOFF: Backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(30));

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
    async fn notify(&self, item: &Item, redelivery: bool) -> Result<(), String> {
        if let Some(url) = &self.url {
            let mut request =
                hyper::Request::post(url.uri().clone()).header("content-type", "application/json");
            if redelivery {
                request = request.header(REDELIVERY_ATTRIBUTE, "true");
            }
            let request = request
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

/// How the legs retry, as the pipes do (stacks/pipeline.yaml): a failed record waits, twice as
/// long each attempt, and is given up after [`NOTIFY_ATTEMPTS`] attempts or [`NOTIFY_MAX_AGE_MS`]
/// of age. `mgrid dev --leg-retry-ms` shortens every wait (fault tests), never the attempts.
#[derive(Debug, Clone, Copy)]
pub struct LegRetry {
    pub archive: Backoff,
    pub notify: Backoff,
}

impl LegRetry {
    pub const PIPES: LegRetry = LegRetry {
        archive: ARCHIVE_BACKOFF,
        notify: NOTIFY_BACKOFF,
    };

    /// Every wait `ms` milliseconds.
    pub fn every(ms: u64) -> LegRetry {
        let wait = Backoff::new(Duration::from_millis(ms), Duration::from_millis(ms));
        LegRetry {
            archive: wait,
            notify: wait,
        }
    }
}

/// Whether a record that failed its `attempts`-th attempt (counted from 1) is given up on.
fn given_up(attempts: u32, recorded_at: i64, at: i64) -> bool {
    attempts >= NOTIFY_ATTEMPTS || at - recorded_at > NOTIFY_MAX_AGE_MS
}

/// The archive pipe: each new ledger item archived and its receipt written; a record whose
/// write fails is tried again after a wait that doubles, and after the pipe's bounds it is given
/// up on: its item stays unsettled with why, for `mgrid reconcile --heal`.
pub(super) async fn archive(
    shared: Arc<Shared>,
    leg: LegRunner<Archiver<LocalArchive>, LocalReceipts>,
    retry: Backoff,
    mut stopping: watch::Receiver<bool>,
) {
    let mut failing = 0u32;
    while !*stopping.borrow() {
        let at = now();
        let pending = match shared
            .store
            .run(move |c| db::pending_stream(c, 100, at))
            .await
        {
            Ok(pending) => pending,
            Err(error) => {
                tracing::error!("reading the local ledger stream failed: {error}");
                pause(&mut stopping, Duration::from_secs(1)).await;
                continue;
            }
        };
        if pending.is_empty() {
            if failing > 0 {
                // Records wait for their next attempt: look again after the shortest wait.
                pause(&mut stopping, retry.wait(1)).await;
                failing = 0;
            } else {
                idle(&shared.recorded, &mut stopping).await;
            }
            continue;
        }
        let records: Vec<StreamRecord> = pending
            .iter()
            .map(|record| StreamRecord {
                event_id: record.seq.to_string(),
                event_name: "INSERT".to_owned(),
                new_image: serde_json::from_str(&record.item).ok(),
            })
            .collect();
        let report = leg.run(&records, &SystemClock).await;
        shared
            .metrics
            .add("archiver_errors", report.failed.len() as f64);
        for lag in &report.lags_ms {
            shared.metrics.max("archive_lag", *lag as f64);
        }
        if let Err(error) = shared.log.write(&report.decision_lines("archiver", now())) {
            tracing::error!("writing the pipeline log failed: {error}");
        }
        let at = now();
        let mut done = Vec::new();
        let mut later = Vec::new();
        let mut dropped = Vec::new();
        for record in &pending {
            if !report.failed.contains(&record.seq.to_string()) {
                done.push(record.seq);
            } else if given_up(record.attempts + 1, record.recorded_at, at) {
                dropped.push(record.seq);
            } else {
                later.push((
                    record.seq,
                    at + retry.wait(record.attempts + 1).as_millis() as i64,
                ));
            }
        }
        let gave_up = dropped.len();
        let marked = shared
            .store
            .run(move |c| {
                for seq in done.iter().chain(&dropped) {
                    db::stream_done(c, *seq)?;
                }
                for (seq, next_at) in &later {
                    db::archive_later(c, *seq, *next_at)?;
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
        if let Some(error) = &report.first_error {
            // One line a batch, whatever the number of records that failed.
            tracing::warn!(
                "{} archive writes failed ({error}); retried with backoff{}",
                report.failed.len(),
                if gave_up > 0 {
                    format!(
                        "; {gave_up} tried {NOTIFY_ATTEMPTS} times (or 6 h old) are given up, their payments unsettled (`mgrid reconcile --stage local --heal`)"
                    )
                } else {
                    String::new()
                }
            );
        }
    }
}

/// The notify pipe: each new ledger item's vendor notification, in order, apart from
/// archiving. A batch the URL does not take waits, twice as long each step, and a notification tried NOTIFY_ATTEMPTS times or older than NOTIFY_MAX_AGE_MS
/// becomes a notify dead letter, as the pipe's DeadLetterConfig keeps it.
pub(super) async fn notify(
    shared: Arc<Shared>,
    notifier: Notifier,
    retry: Backoff,
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
                let at = now();
                for seq in &done {
                    db::notified(c, *seq, at)?;
                }
                db::due_notifications(c, NOTIFY_BATCH, at)
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
        // One decision line a notification, as the notifier function prints them.
        let mut lines = Vec::new();
        for pending in &due {
            let item = serde_json::from_str::<Item>(&pending.item);
            let outcome = match &item {
                Ok(item) => notifier.notify(item, pending.redelivery).await,
                Err(error) => Err(format!("the ledger item cannot be read ({error})")),
            };
            let line = |level, outcome: &str| {
                let mut line = DecisionLine::new(now(), level, "notifier", outcome);
                if let Ok(item) = &item {
                    line.event_id = Some(text(item, "eventId"));
                    line.provider = Some(text(item, "provider"));
                }
                line
            };
            match outcome {
                Ok(()) => {
                    delivered.push(pending.seq);
                    lines.push(line(Level::Info, "notified"));
                    shared
                        .metrics
                        .max("notify_lag", (now() - pending.recorded_at).max(0) as f64);
                }
                Err(why) => {
                    lines.push(line(Level::Warn, "notify-failed").with_detail(&why));
                    failure = Some(why);
                    break;
                }
            }
        }
        if let Err(error) = shared.log.write(&lines) {
            tracing::error!("writing the pipeline log failed: {error}");
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
        let wait = retry.wait(failing);
        let at = now();
        let (given_up, retried): (Vec<_>, Vec<_>) = due
            .iter()
            .filter(|pending| !delivered.contains(&pending.seq))
            .partition(|pending| given_up(pending.attempts + 1, pending.recorded_at, at));
        let given_up: Vec<i64> = given_up.iter().map(|p| p.seq).collect();
        let retried: Vec<i64> = retried.iter().map(|p| p.seq).collect();
        let dead = given_up.len();
        let url = notifier
            .url
            .as_ref()
            .map_or_else(String::new, ToString::to_string);
        tracing::warn!(
            "{url} {why}: {} vendor notifications wait, next try in {:.1} s{}",
            retried.len(),
            wait.as_secs_f64(),
            if dead > 0 {
                format!(
                    "; {dead} tried {NOTIFY_ATTEMPTS} times (or 6 h old) are kept as notify dead letters, their payments unsettled (`mgrid reconcile --stage local --heal`)"
                )
            } else {
                String::new()
            }
        );
        shared
            .metrics
            .add("notifier_errors", (retried.len() + dead) as f64);
        let reason = why.clone();
        let next_at = at + wait.as_millis() as i64;
        let kept = shared
            .store
            .run(move |c| {
                for seq in &delivered {
                    db::notified(c, *seq, at)?;
                }
                for seq in &retried {
                    db::notify_later(c, *seq, next_at, &reason)?;
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
        let at = now();
        let _ = shared
            .store
            .run(move |c| {
                delivered_before
                    .iter()
                    .try_for_each(|seq| db::notified(c, *seq, at))
            })
            .await;
    }
}
