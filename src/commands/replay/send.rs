//! The replay itself: each archive hour listed and read in order, its webhooks sent to the
//! destination queue as the ingress queued them (skipped when `--only-missing` finds them in the
//! ledger), then followed to the ledger's verdict.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::Result;
use futures::{StreamExt, TryStreamExt};
use mgrid_contract::clock::format_rfc3339;
use mgrid_contract::{ArchiveKey, ArchivedWebhook, StageName, WebhookEnvelope};

use super::report::{ReplayPlan, ReplayReport, TypeCount, Unreadable};
use super::window::{ArchiveWindow, archive_hours};
use crate::cli::ReplayArgs;
use crate::commands::context::Context;
use crate::commands::flow::{Run, carry_out};
use crate::commands::movers::{self, ReadyMessage, SendOptions};
use crate::commands::verdicts::{LOOK_LIMIT, wait_for_verdicts, wait_of};
use crate::decide::move_engine::{MoveEngine, MoveSource, Rules, Tally};
use crate::decide::replay::{Selection, count_by_type, replay_message, sort_for_sending};
use crate::decide::verdict::{Judged, SentCopy, Verdicts};
use crate::failure::{Failure, FailureKind};
use crate::ids::run_id;
use crate::ports::{DeadLetterQueue, LedgerLookup, WebhookArchive, WebhookQueue};
use crate::text::counted;
use crate::ui::output::{note, print_report};
use crate::ui::terminal::{on_interrupt, progress_bar, rounded};

/// The stage a replay sends into: its queue, and where each webhook's verdict shows.
pub struct Destination<Q, L, D> {
    pub queue: Q,
    pub ledger: L,
    pub dlq: D,
}

/// List, read, decide and send, one hour at a time (memory holds one hour's webhooks, whatever
/// the window): the same for every stage.
#[allow(clippy::too_many_arguments)]
pub(super) async fn replay(
    context: &Context,
    args: &ReplayArgs,
    stage: &StageName,
    target: &StageName,
    window: &ArchiveWindow,
    archive: &impl WebhookArchive,
    destination: &Destination<impl WebhookQueue, impl LedgerLookup, impl DeadLetterQueue>,
) -> Result<()> {
    let selection = &window.selection;
    let mut report = ReplayReport {
        stage: stage.to_string(),
        into_stage: target.to_string(),
        from: format_rfc3339(selection.from),
        to: format_rfc3339(selection.to),
        selection: selection.clone(),
        dry_run: args.dry_run,
        prefixes: window.prefixes,
        ..ReplayReport::default()
    };
    let started = Instant::now();
    let parallel = usize::from(args.parallel);
    note(&format!(
        "listing {} ({} of {})",
        counted(window.prefixes as u64, "hour prefix", "hour prefixes"),
        counted(window.hours.max(0) as u64, "hour", "hours"),
        selection
            .providers()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" and ")
    ));
    let hours = archive_hours(selection);
    report.listed = count_listed(archive, &hours, parallel).await?;
    if !args.dry_run && report.listed == 0 {
        note("nothing to replay in this window");
        report.elapsed_ms = started.elapsed().as_millis();
        print_report(&report, context.global.output)?;
        return Ok(());
    }
    let plan = ReplayPlan {
        stage: report.stage.clone(),
        into_stage: report.into_stage.clone(),
        from: report.from.clone(),
        to: report.to.clone(),
        listed: report.listed,
    };
    carry_out(context, plan, Run::rehearse_if(args.dry_run), |_| {
        send_hours(args, window, archive, destination, hours, report, started)
    })
    .await
}

/// The replay itself: hour by hour, read, drop what the ledger holds, send in order.
#[allow(clippy::too_many_arguments)]
pub(super) async fn send_hours(
    args: &ReplayArgs,
    window: &ArchiveWindow,
    archive: &impl WebhookArchive,
    destination: &Destination<impl WebhookQueue, impl LedgerLookup, impl DeadLetterQueue>,
    hours: Vec<Vec<String>>,
    mut report: ReplayReport,
    started: Instant,
) -> Result<ReplayReport, Failure> {
    let selection = &window.selection;
    let parallel = usize::from(args.parallel);
    let stop = Arc::new(AtomicBool::new(false));
    let engine = RefCell::new(MoveEngine::new(Rules {
        source: MoveSource::Archive,
        dry_run: args.dry_run,
        workers: parallel.min(16),
        ..Rules::default()
    }));
    let run = run_id()?;
    let bar = progress_bar(
        report.listed as u64,
        "{spinner} read {pos}/{len} {msg} · {rate} · ETA {eta}",
    );
    let watcher = on_interrupt(
        stop.clone(),
        bar.clone(),
        "stopping: no new batches; finishing the ones in hand (Ctrl-C again to abort them)",
        "the webhooks being sent may or may not be on the queue: replay the same window again \
         (the ledger records each once)",
    );
    // The copies of the hour being sent, by ledger key, until the queue acknowledges them.
    let hour_copies: RefCell<BTreeMap<String, SentCopy>> = RefCell::new(BTreeMap::new());
    let verdicts = RefCell::new(Verdicts::default());
    let acknowledged = |ids: &[String]| {
        let mut copies = hour_copies.borrow_mut();
        for id in ids {
            if let Some(copy) = copies.remove(id) {
                verdicts.borrow_mut().sent(copy);
            }
        }
    };
    let options = SendOptions {
        parallel: parallel.min(16),
        rate: args.rate,
        stop: &stop,
        sent: &acknowledged,
    };
    let mut by_type: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut result = Ok(());
    for hour in hours {
        if stop.load(Ordering::SeqCst) {
            engine.borrow_mut().interrupt();
            break;
        }
        let reading = Instant::now();
        let read = read_hour(archive, selection, &hour, parallel, &mut report).await;
        report.read_ms += reading.elapsed().as_millis();
        let mut webhooks = match read {
            Ok(webhooks) => webhooks,
            Err(failure) => {
                result = Err(failure);
                break;
            }
        };
        if let Some(bar) = &bar {
            bar.set_position(report.read as u64);
        }
        // What the ledger holds already: skipped with --only-missing, else a duplicate the
        // processor acknowledges.
        let mut present = BTreeSet::new();
        if (args.only_missing || !args.dry_run) && !webhooks.is_empty() {
            let ids: Vec<String> = webhooks
                .iter()
                .map(WebhookEnvelope::transaction_id)
                .collect();
            match destination.ledger.present(&ids).await {
                Ok(held) => present = held,
                Err(failure) => {
                    result = Err(failure);
                    break;
                }
            }
        }
        if args.only_missing {
            let before = webhooks.len();
            webhooks.retain(|w| !present.contains(&w.transaction_id()));
            report.skipped_present += before - webhooks.len();
        }

        sort_for_sending(&mut webhooks);
        for ((provider, event_type), count) in count_by_type(&webhooks) {
            *by_type.entry((provider, event_type)).or_default() += count;
        }
        let pending: Vec<ReadyMessage> = webhooks
            .iter()
            .map(|webhook| ReadyMessage {
                id: webhook.transaction_id(),
                message: replay_message(&run, webhook),
            })
            .collect();
        *hour_copies.borrow_mut() = pending
            .iter()
            .zip(&webhooks)
            .map(|(prepared, webhook)| {
                let copy = SentCopy {
                    deduplication_id: prepared.message.deduplication_id.clone(),
                    transaction_id: Some(prepared.id.clone()),
                    event_id: Some(webhook.event_id.clone()),
                    already_recorded: present.contains(&prepared.id),
                };
                (prepared.id.clone(), copy)
            })
            .collect();
        drop(webhooks);
        let progress = |tally: &Tally| {
            if let Some(bar) = &bar {
                bar.set_message(format!(
                    "sent {} · failed {}",
                    tally.moved,
                    tally.failed.len()
                ));
            }
        };
        let sending = Instant::now();
        let sent =
            movers::send_in_order(&destination.queue, &engine, pending, &options, &progress).await;
        report.send_ms += sending.elapsed().as_millis();
        if let Err(failure) = sent {
            result = Err(failure);
            break;
        }
    }
    watcher.abort();
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let tally = engine.into_inner().tally().clone();
    report.by_type = by_type
        .into_iter()
        .map(|((provider, event_type), count)| TypeCount {
            provider,
            event_type,
            count,
        })
        .collect();
    report.sent = tally.moved;
    report.interrupted = tally.interrupted;
    report.failed.extend(
        tally
            .failed
            .iter()
            .map(|(id, reason)| format!("{id}: {reason}")),
    );
    report.unreadable.sort_by(|a, b| a.key.cmp(&b.key));
    report.per_second = rounded(report.sent as f64 / (report.send_ms as f64 / 1000.0).max(0.001));
    let mut verdicts = verdicts.into_inner();
    report.judged = if result.is_ok() && !report.interrupted && !verdicts.is_empty() {
        wait_for_verdicts(
            &mut verdicts,
            &destination.dlq,
            &destination.ledger,
            wait_of(args.wait),
        )
        .await
    } else {
        Judged::of(&verdicts, 0, false, LOOK_LIMIT)
    };
    if report.judged.verdicts.pending > 0 {
        report.judged.check_later = Some(report.missing_command());
    }
    report.elapsed_ms = started.elapsed().as_millis();
    report.failure = result.err();
    Ok(report)
}

/// How many objects the window holds (listed, not kept: the hours are listed again as they are
/// sent).
pub(super) async fn count_listed(
    archive: &impl WebhookArchive,
    hours: &[Vec<String>],
    parallel: usize,
) -> Result<usize, Failure> {
    let prefixes: Vec<&String> = hours.iter().flatten().collect();
    futures::stream::iter(prefixes.into_iter().map(|prefix| archive.list(prefix)))
        .buffered(parallel.min(16))
        .try_fold(0, |count, keys| async move { Ok(count + keys.len()) })
        .await
}

/// Lists one hour's prefixes and reads the objects that can match, in parallel.
pub(super) async fn read_hour(
    archive: &impl WebhookArchive,
    selection: &Selection,
    prefixes: &[String],
    parallel: usize,
    report: &mut ReplayReport,
) -> Result<Vec<WebhookEnvelope>, Failure> {
    let listings: Vec<Vec<String>> =
        futures::stream::iter(prefixes.iter().map(|p| archive.list(p)))
            .buffered(parallel.min(16))
            .try_collect()
            .await?;
    let mut keys = Vec::new();
    for key in listings.into_iter().flatten() {
        match ArchiveKey::parse(&key) {
            Ok(parsed) if selection.may_match_event(&parsed.event_id) => keys.push((key, parsed)),
            Ok(_) => {}
            Err(e) => report.unreadable.push(Unreadable {
                key,
                reason: e.reason.to_owned(),
            }),
        }
    }
    let reads = futures::stream::iter(keys.into_iter().map(|(key, parsed)| async move {
        let bytes = archive.get(&key).await;
        (key, parsed, bytes)
    }))
    .buffer_unordered(parallel);
    let mut reads = std::pin::pin!(reads);
    let mut webhooks = Vec::new();
    while let Some((key, parsed, bytes)) = reads.next().await {
        let bytes = match bytes {
            Ok(bytes) => bytes,
            Err(failure) if failure.kind == FailureKind::Credentials => return Err(failure),
            Err(failure) => {
                // Not the object's fault: the run ends partial, so a repeat picks it up.
                report
                    .failed
                    .push(format!("could not read {key}: {failure}"));
                continue;
            }
        };
        match ArchivedWebhook::parse(&parsed, &bytes) {
            Ok(envelope) => {
                report.read += 1;
                if selection.matches(&envelope) {
                    report.matched += 1;
                    webhooks.push(envelope);
                }
            }
            Err(e) => report.unreadable.push(Unreadable {
                key,
                reason: e.to_string(),
            }),
        }
    }
    Ok(webhooks)
}
