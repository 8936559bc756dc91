//! `mgrid dlq redrive`: the dead-lettered webhooks put back on the webhook queue in order,
//! deleted from the dead-letter queue only once their copy is written, then followed to the
//! ledger's verdict; what is not judged yet is kept as a run for `--status`.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use anyhow::Result;
use mgrid_contract::clock::format_rfc3339;
use mgrid_contract::{EpochMillis, Provider, StageName};
use mgrid_pipeline::cache::KEY_RING_TTL_MS;
use serde::Serialize;

use super::redrive_report::RedriveReport;
use super::stats::SCAN_LIMIT;
use crate::cli::RedriveArgs;
use crate::clock::now_millis;
use crate::commands::context::Context;
use crate::commands::flow::{Ask, Outcome, Plan, Run, carry_out};
use crate::commands::movers::{self, RedriveOptions, RedrivePorts};
use crate::commands::verdicts::{LOOK_LIMIT, wait_for_verdicts, wait_of};
use crate::decide::move_engine::{MoveSource, Rules, Tally};
use crate::decide::redrive::{Filter, RunMark};
use crate::decide::verdict::{Followed, Judged, seconds};
use crate::failure::{Failure, FailureKind};
use crate::ids::run_id;
use crate::ports::{DeadLetterQueue, KeyRings, LedgerLookup, SCAN_HOLD_SECONDS, WebhookQueue};
use crate::runs::{RunRecord, load, runs_dir, save};
use crate::ui::output::{note, print_report};
use crate::ui::terminal::{Interrupted, on_interrupt, progress_bar, rounded, unless_interrupted};

pub fn filter_of(args: &RedriveArgs) -> Filter {
    Filter {
        provider: args.provider.map(Into::into),
        event_id: args.event_id.clone(),
        event_type: args.event_type.clone(),
        reason: args.reason.clone(),
        sent_before: args.older_than.map(|age| now_millis() - age.0),
    }
}

/// What a redrive is about to do: the question it asks (a dry run rehearses: it asks nothing,
/// and its apply reads without moving).
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct RedrivePlan {
    pub stage: String,
    pub filter: Filter,
    pub waiting: u64,
    pub max: Option<u64>,
}

/// The question says it all; nothing more is shown before it.
impl fmt::Display for RedrivePlan {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        Ok(())
    }
}

impl Plan for RedrivePlan {
    fn ask(&self) -> Ask {
        let scope = if self.filter.is_empty() {
            "all"
        } else {
            "the matching"
        };
        Ask::YesNo(format!(
            "Move {scope} dead-lettered webhook{} of {} ({} waiting) back to the webhook queue?",
            if self.max == Some(1) { "" } else { "s" },
            self.stage,
            self.waiting
        ))
    }

    fn declined(&self) -> String {
        "nothing was moved".into()
    }
}

/// A redrive on any stage: the move engine, driven over the stage's two queues, then the watch
/// for verdicts in its ledger and its dead-letter queue.
pub async fn redrive(
    context: &Context,
    stage: &StageName,
    ports: &RedrivePorts<'_, impl DeadLetterQueue, impl WebhookQueue, impl LedgerLookup>,
    settle: Option<SecretsSettle>,
    args: &RedriveArgs,
) -> Result<()> {
    if let Some(run_id) = &args.status {
        return look_again(context, stage, ports, args, run_id).await;
    }
    let filter = filter_of(args);
    let depth = ports.dlq.depth().await?;
    if depth.visible == 0 && depth.in_flight == 0 {
        note("the dead-letter queue is empty; nothing to redrive");
        let report = RedriveReport {
            stage: stage.to_string(),
            dry_run: args.dry_run,
            filter,
            ..RedriveReport::default()
        };
        print_report(&report, context.global.output)?;
        return Ok(());
    }
    let plan = RedrivePlan {
        stage: stage.to_string(),
        filter,
        waiting: depth.visible,
        max: args.max,
    };
    let runs = runs_dir(&context.global.data_dir);
    carry_out(
        context,
        plan,
        Run::rehearse_if(args.dry_run),
        |plan| async move {
            if !args.dry_run
                && let Some(settle) = settle
            {
                settle.wait().await?;
            }
            let mut report = move_dead_letters(plan, ports, args, depth.visible).await?;
            report.judged.check_later = keep_run(&runs, &report);
            Ok(report)
        },
    )
    .await
}

/// A signing secret set so recently that the processor may still verify with the one before:
/// the functions cache key rings for `KEY_RING_TTL_MS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretsSettle {
    /// When every processor uses the newest secrets.
    pub at: EpochMillis,
    /// Whose secret changed.
    pub providers: Vec<Provider>,
}

/// When the newest signing secrets of `providers` are in use everywhere, if that is still ahead.
pub async fn secrets_settle(
    rings: &impl KeyRings,
    stage: &StageName,
    providers: &[Provider],
) -> Result<Option<SecretsSettle>, Failure> {
    let now = now_millis();
    let read_since = rings.read_by_functions_since();
    let mut settle: Option<SecretsSettle> = None;
    for &provider in providers {
        let Some(stored) = rings.read(&stage.signing_secret_ring(provider)).await? else {
            continue;
        };
        let Some(modified_at) = stored.modified_at else {
            continue;
        };
        let at = modified_at + KEY_RING_TTL_MS;
        // A ring written in the millisecond the functions started was written before them (`mgrid
        // dev` writes its first rings, then marks the start): they read it fresh.
        let maybe_cached = read_since.is_none_or(|since| modified_at > since);
        if at > now && maybe_cached {
            let entry = settle.get_or_insert(SecretsSettle {
                at,
                providers: Vec::new(),
            });
            entry.at = entry.at.max(at);
            entry.providers.push(provider);
        }
    }
    Ok(settle)
}

impl SecretsSettle {
    /// Waits until the processor verifies with the new secrets, saying why; Ctrl-C ends the
    /// redrive before anything moved.
    pub(super) async fn wait(&self) -> Result<(), Failure> {
        let left = Duration::from_millis((self.at - now_millis()).max(0) as u64);
        if left.is_zero() {
            return Ok(());
        }
        let whose: Vec<&str> = self.providers.iter().map(|p| p.as_str()).collect();
        note(&format!(
            "the {} signing secret changed less than {} ago and the processor may still verify with the one before: waiting {} (until {}) so the moved webhooks are judged with the new one (Ctrl-C to stop; nothing is moved yet)",
            whose.join(" and "),
            crate::decide::keys::cache_time(),
            seconds(left.as_millis()),
            format_rfc3339(self.at)
        ));
        unless_interrupted(tokio::time::sleep(left))
            .await
            .map_err(|Interrupted| {
                Failure::new(
                    FailureKind::Interrupted,
                    "stopped while waiting for the new signing secret to be in use; nothing was moved",
                )
            })
    }
}

/// Keeps the run's webhooks for a later look, when some are not judged; the command that looks.
pub(super) fn keep_run(runs: &std::path::Path, report: &RedriveReport) -> Option<String> {
    let pending: Vec<&Followed> = report.judged.pending().collect();
    if pending.is_empty() || report.dry_run {
        return None;
    }
    let record = RunRecord {
        run_id: report.run_id.clone(),
        stage: report.stage.clone(),
        started_at: now_millis() - report.elapsed_ms as i64,
        copies: pending.into_iter().cloned().collect(),
    };
    match save(runs, &record) {
        Ok(_) => Some(format!(
            "mgrid dlq redrive --stage {} --status {}",
            report.stage, report.run_id
        )),
        Err(failure) => {
            note(&format!(
                "{failure}; `mgrid trace` looks at one webhook at a time"
            ));
            None
        }
    }
}

/// `--status <run>`: the pending webhooks of an earlier run, looked at again.
pub(super) async fn look_again(
    context: &Context,
    stage: &StageName,
    ports: &RedrivePorts<'_, impl DeadLetterQueue, impl WebhookQueue, impl LedgerLookup>,
    args: &RedriveArgs,
    run_id: &str,
) -> Result<()> {
    let runs = runs_dir(&context.global.data_dir);
    let record = load(&runs, run_id)?;
    if record.stage != stage.as_str() {
        return Err(Failure::new(
            FailureKind::Usage,
            format!("run {run_id} redrove stage {}, not {stage}", record.stage),
        )
        .next(format!(
            "mgrid dlq redrive --stage {} --status {run_id}",
            record.stage
        ))
        .into());
    }
    let mut verdicts = record.verdicts();
    let moved = verdicts.all().count();
    let judged =
        wait_for_verdicts(&mut verdicts, ports.dlq, ports.ledger, wait_of(args.wait)).await;
    let mut report = RedriveReport {
        stage: stage.to_string(),
        run_id: run_id.to_owned(),
        moved,
        looked_again: true,
        judged,
        ..RedriveReport::default()
    };
    report.judged.check_later = keep_run(&runs, &report);
    print_report(&report, context.global.output)?;
    match report.failure() {
        Some(failure) => Err(failure.into()),
        None => Ok(()),
    }
}

/// The redrive itself, until done, stopped (Ctrl-C) or failed, then the watch for verdicts.
pub(super) async fn move_dead_letters(
    plan: RedrivePlan,
    ports: &RedrivePorts<'_, impl DeadLetterQueue, impl WebhookQueue, impl LedgerLookup>,
    args: &RedriveArgs,
    waiting: u64,
) -> Result<RedriveReport, Failure> {
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let run_id = run_id()?;
    let mark = RunMark::new(&run_id, now_millis());
    let parallel = if args.dry_run {
        1
    } else {
        usize::from(args.parallel)
    };
    let rules = Rules {
        source: MoveSource::Queue,
        budget: args.max.map(|m| m as usize),
        dry_run: args.dry_run,
        workers: parallel,
    };
    let options = RedriveOptions {
        mark: &mark,
        filter: &plan.filter,
        hold_seconds: if args.dry_run {
            SCAN_HOLD_SECONDS
        } else {
            args.hold.0.div_euclid(1000).clamp(1, 43_200) as u32
        },
        parallel,
        rate: args.rate,
        read_limit: args.dry_run.then_some(SCAN_LIMIT),
        stop: &stop,
    };
    let bar = if args.dry_run {
        None
    } else {
        progress_bar(
            args.max.map_or(waiting, |m| m.min(waiting)),
            "{spinner} moved {pos}/{len} {msg} · {rate} · ETA {eta}",
        )
    };
    let watcher = on_interrupt(
        stop.clone(),
        bar.clone(),
        "stopping: no new batches; finishing the ones in hand (Ctrl-C again to abort them)",
        "the webhooks being moved may now be in both queues: the processor records each once, \
         and their originals come back to the dead-letter queue after --hold, for a later redrive",
    );
    let progress = |tally: &Tally| {
        if let Some(bar) = &bar {
            bar.set_position(tally.moved as u64);
            bar.set_message(format!(
                "left {} · failed {} · came back {}",
                tally.left,
                tally.failed.len(),
                tally.came_back_total()
            ));
        }
    };
    let redriven = movers::redrive(ports, rules, &options, &progress).await;
    watcher.abort();
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let tally = redriven.tally;
    let moving_took = started.elapsed();
    let mut verdicts = redriven.verdicts;
    let watched = !tally.interrupted && redriven.failure.is_none() && !verdicts.is_empty();
    let judged = if watched {
        wait_for_verdicts(&mut verdicts, ports.dlq, ports.ledger, wait_of(args.wait)).await
    } else {
        Judged::of(&verdicts, 0, false, LOOK_LIMIT)
    };
    let mut report = RedriveReport {
        stage: plan.stage,
        run_id,
        dry_run: args.dry_run,
        filter: plan.filter.clone(),
        moved: tally.moved,
        would_move: redriven.would_move,
        left: tally.left,
        held_groups: tally.held_groups,
        held_back: tally.held_back,
        failed: tally
            .failed
            .iter()
            .map(|(id, reason)| format!("{id}: {reason}"))
            .collect(),
        copied_not_deleted: tally.copied_not_deleted,
        unknown_batches: tally.unknown_batches,
        arrived_during_run: tally.arrived,
        interrupted: tally.interrupted,
        elapsed_ms: started.elapsed().as_millis(),
        per_second: rounded(tally.moved as f64 / moving_took.as_secs_f64().max(0.001)),
        failure: redriven.failure,
        judged,
        ..RedriveReport::default()
    };
    if let Ok(left) = ports.dlq.depth().await {
        report.remaining_in_dlq = left.visible + left.in_flight;
        report.remaining_in_flight = left.in_flight;
    }
    Ok(report)
}
