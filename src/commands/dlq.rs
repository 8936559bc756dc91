//! `mgrid dlq`: see why webhooks were dead-lettered, and put them back, in order, losing none.
//!
//! A redrive copies a batch to the webhook queue and deletes from the dead-letter queue only
//! what the copy acknowledged, entry by entry. Killed at any moment, every message is in one
//! queue or the other (a message being moved is hidden for --hold, then visible again), and at
//! worst in both, which the processor's idempotency absorbs. Messages a filter does not take
//! are held aside until the run ends and then made visible at once, untouched.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use anyhow::Result;
use mgrid_contract::clock::format_rfc3339;
use mgrid_contract::untrusted::printable_block;
use mgrid_contract::{EpochMillis, Provider, StageName};
use mgrid_pipeline::cache::KEY_RING_TTL_MS;
use serde::Serialize;

use crate::aws::queues::{MoveTask, MoveTaskStatus, MoveTasks};
use crate::cli::{DlqAction, DlqArgs, ProviderArg, RedriveArgs};
use crate::clock::now_millis;
use crate::commands::context::Context;
use crate::commands::flow::{Ask, Outcome, Plan, Run, carry_out};
use crate::commands::movers::{self, RedriveOptions, RedrivePorts};
use crate::commands::watch::{LOOK_LIMIT, wait_of, watch};
use crate::decide::move_engine::{Rules, Source, Tally};
use crate::decide::redrive::{Breakdown, DeadLetter, DeadLetterView, Filter, RunMark};
use crate::decide::verdict::{Followed, Judged, seconds};
use crate::failure::{Failure, FailureKind};
use crate::ids::run_id;
use crate::ports::{
    DeadLetterQueue, Depth, KeyRings, LedgerLookup, SCAN_HOLD_SECONDS, WebhookQueue,
};
use crate::runs::{RunRecord, load, runs_dir, save};
use crate::target::{StageQueue, Target};
use crate::ui::output::{note, print_report};
use crate::ui::terminal::{
    Interrupted, confirm, on_interrupt, progress_bar, rounded, unless_interrupted, verbose_calls,
};
use crate::ui::text::{BOLD, WARNING, shown, table};

/// The most messages a scan reads.
const SCAN_LIMIT: usize = 1000;

pub async fn run(context: &Context, target: &Target, args: &DlqArgs) -> Result<()> {
    let stage = target.name();
    let dlq = target.dead_letter_queue().await?;
    let result = match &args.action {
        DlqAction::Stats => {
            let queue = target.webhook_queue().await?;
            stats(context, stage, &dlq, &queue).await
        }
        DlqAction::Peek {
            limit,
            provider,
            reason,
            full,
        } => {
            let filter = peek_filter(*provider, reason);
            peek(context, stage, &dlq, usize::from(*limit), &filter, *full).await
        }
        DlqAction::Redrive(redrive_args) if redrive_args.native => {
            let tasks = target.move_tasks()?;
            let queue = target.webhook_queue().await?;
            native(context, stage, &tasks, &dlq, &queue, redrive_args).await
        }
        DlqAction::Redrive(redrive_args) => {
            let queue = target.webhook_queue().await?;
            let ledger = target.ledger().await?;
            let ports = RedrivePorts {
                dlq: &dlq,
                queue: &queue,
                ledger: &ledger,
            };
            let providers: Vec<Provider> = match redrive_args.provider {
                Some(provider) => vec![provider.into()],
                None => Provider::ALL.to_vec(),
            };
            let rings = target.key_rings().await?;
            let settle = secrets_settle(&rings, stage, &providers).await?;
            redrive(context, stage, &ports, settle, redrive_args).await
        }
        DlqAction::Cancel => cancel(context, stage, &target.move_tasks()?, &dlq).await,
        DlqAction::Purge {
            dry_run,
            provider,
            event_id,
            event_type,
            reason,
            older_than,
        } => {
            let filter = Filter {
                provider: provider.map(Into::into),
                event_id: event_id.clone(),
                event_type: event_type.clone(),
                reason: reason.clone(),
                sent_before: older_than.map(|age| now_millis() - age.0),
            };
            purge(context, stage, target.protected(), &dlq, filter, *dry_run).await
        }
    };
    if let Some(calls) = target.calls() {
        verbose_calls(context.global.verbose > 0, calls);
    }
    result
}

#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct StatsReport {
    pub stage: String,
    pub dead_letter_queue: Depth,
    pub webhook_queue: Depth,
    /// How many dead letters the breakdown is made of.
    pub examined: usize,
    pub oldest_sent_at: Option<String>,
    pub breakdown: Vec<ReasonCount>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct ReasonCount {
    pub provider: String,
    pub reason: String,
    pub count: usize,
}

async fn stats(
    context: &Context,
    stage: &StageName,
    dlq: &StageQueue,
    queue: &StageQueue,
) -> Result<()> {
    let dead = dlq.depth().await?;
    let live = queue.depth().await?;
    let mut breakdown = Breakdown::default();
    dlq.scan(SCAN_LIMIT, &mut |letter| {
        breakdown.add(&letter.view());
        true
    })
    .await?;
    let report = StatsReport::new(stage, dead, live, breakdown);
    print_report(&report, context.global.output)?;
    Ok(())
}

impl StatsReport {
    /// The depths of both queues and the breakdown of the dead letters read.
    pub fn new(stage: &StageName, dead: Depth, live: Depth, read: Breakdown) -> StatsReport {
        StatsReport {
            stage: stage.to_string(),
            dead_letter_queue: dead,
            webhook_queue: live,
            examined: read.examined,
            oldest_sent_at: read.oldest_sent_at.map(format_rfc3339),
            breakdown: ReasonCount::all(read),
        }
    }
}

impl ReasonCount {
    /// The breakdown's counts, a row per provider and reason.
    fn all(read: Breakdown) -> Vec<ReasonCount> {
        read.counts
            .into_iter()
            .map(|((provider, reason), count)| ReasonCount {
                provider,
                reason,
                count,
            })
            .collect()
    }

    /// The rows as a table (stats, and what a purge would delete).
    fn table(rows: &[ReasonCount]) -> crate::ui::text::Table {
        let mut reasons = table(&["provider", "reason", "count"]);
        for row in rows {
            reasons.add_row(vec![
                shown(&row.provider),
                shown(&row.reason),
                row.count.to_string(),
            ]);
        }
        reasons
    }
}

impl fmt::Display for StatsReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut depths = table(&["queue", "waiting", "in flight"]);
        depths.add_row(vec![
            "dead-letter queue".into(),
            self.dead_letter_queue.visible.to_string(),
            self.dead_letter_queue.in_flight.to_string(),
        ]);
        depths.add_row(vec![
            "webhook queue".into(),
            self.webhook_queue.visible.to_string(),
            self.webhook_queue.in_flight.to_string(),
        ]);
        writeln!(f, "stage {}\n{depths}", self.stage)?;
        if let Some(oldest) = &self.oldest_sent_at {
            writeln!(f, "oldest dead letter first sent {oldest}")?;
        }
        if self.breakdown.is_empty() {
            let dead = &self.dead_letter_queue;
            if dead.visible + dead.in_flight == 0 {
                return writeln!(f, "no dead letters");
            }
            return writeln!(
                f,
                "none could be read now: {} are in flight (held by a redrive, or by a scan still running) and come back when its hold ends",
                dead.visible + dead.in_flight
            );
        }
        writeln!(f, "\n{}", ReasonCount::table(&self.breakdown))?;
        if (self.examined as u64) < self.dead_letter_queue.visible {
            writeln!(
                f,
                "(of {} dead letters; a FIFO queue shows the first messages of each group without consuming them)",
                self.examined
            )?;
        }
        Ok(())
    }
}

#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct PeekReport {
    pub stage: String,
    pub messages: Vec<Peeked>,
    /// The look was a receive (SQS): each dead letter read has a receive count one higher.
    /// False on the local stage, where a look touches nothing.
    #[serde(rename = "readsAreReceives")]
    pub reads_are_receives: bool,
    #[serde(skip)]
    full: bool,
}

impl PeekReport {
    pub fn new(stage: &StageName, full: bool) -> PeekReport {
        PeekReport {
            stage: stage.to_string(),
            messages: Vec::new(),
            reads_are_receives: false,
            full,
        }
    }

    /// Keeps `letter` (with its body) when `filter` takes it and fewer than `limit` are kept;
    /// whether it was kept.
    pub fn offer(&mut self, letter: DeadLetter, filter: &Filter, limit: usize) -> bool {
        let view = letter.view();
        if self.messages.len() >= limit || !filter.matches(&view) {
            return false;
        }
        self.messages.push(Peeked {
            view,
            body: letter.body,
        });
        true
    }
}

#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct Peeked {
    #[serde(flatten)]
    pub view: DeadLetterView,
    pub body: String,
}

async fn peek(
    context: &Context,
    stage: &StageName,
    dlq: &impl DeadLetterQueue,
    limit: usize,
    filter: &Filter,
    full: bool,
) -> Result<()> {
    let mut report = PeekReport::new(stage, full);
    report.reads_are_receives = !dlq.looks_without_receiving();
    dlq.scan(limit, &mut |letter| report.offer(letter, filter, limit))
        .await?;
    print_report(&report, context.global.output)?;
    Ok(())
}

/// What `dlq peek --provider --reason` takes.
pub fn peek_filter(provider: Option<ProviderArg>, reason: &Option<String>) -> Filter {
    Filter {
        provider: provider.map(Into::into),
        reason: reason.clone(),
        ..Filter::default()
    }
}

fn excerpt(body: &str, width: usize) -> String {
    let flat = shown(body);
    if flat.chars().count() <= width {
        flat
    } else {
        flat.chars().take(width - 1).collect::<String>() + "…"
    }
}

impl fmt::Display for PeekReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.messages.is_empty() {
            return writeln!(f, "no dead letters match");
        }
        // On a narrow terminal the body and times give way (--full and JSON show them), and the
        // event id is never cut.
        let width = crate::ui::text::table_width();
        let narrow = width.is_some_and(|width| width < 120);
        // Piped, every value is whole, as for every table (a program reads it).
        let piped = width.is_none();
        let mut header = vec![
            "message",
            "provider",
            "event id",
            "event type",
            "reason",
            "receives",
        ];
        if !narrow {
            header.extend(["first sent", "body"]);
        }
        let mut rows = table(&header);
        rows.keep_whole(2);
        for peeked in &self.messages {
            let v = &peeked.view;
            let mut row = vec![
                if piped {
                    shown(&v.message_id)
                } else {
                    v.message_id.chars().take(8).collect()
                },
                v.provider.as_deref().map_or_else(|| "?".into(), shown),
                v.event_id.as_deref().map_or_else(|| "?".into(), shown),
                if v.malformed {
                    "(malformed)".into()
                } else {
                    shown(v.event_type.as_deref().unwrap_or_default())
                },
                shown(&v.reason),
                v.receive_count.to_string(),
            ];
            if !narrow {
                row.extend([
                    v.sent_at.map(format_rfc3339).unwrap_or_default(),
                    if piped {
                        shown(&peeked.body)
                    } else {
                        excerpt(&peeked.body, 40)
                    },
                ]);
            }
            rows.add_row(row);
        }
        writeln!(f, "{rows}")?;
        if self.reads_are_receives {
            writeln!(
                f,
                "(on SQS a look is a receive: each of these counts one more; none was moved)"
            )?;
        }
        if self.full {
            for peeked in &self.messages {
                writeln!(
                    f,
                    "\n{BOLD}{}{BOLD:#} ({})\n{}",
                    shown(&peeked.view.message_id),
                    shown(peeked.view.detail.as_deref().unwrap_or("")),
                    printable_block(&peeked.body)
                )?;
            }
        }
        Ok(())
    }
}

#[derive(Debug, Default, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct RedriveReport {
    pub stage: String,
    /// The run's id: `mgrid dlq redrive --status <run>` looks at its webhooks again.
    pub run_id: String,
    pub dry_run: bool,
    pub filter: Filter,
    /// Moved to the webhook queue and deleted from the dead-letter queue.
    pub moved: usize,
    /// What became of the moved webhooks.
    #[serde(flatten)]
    pub judged: Judged,
    /// `--status <run>`: an earlier run's pending webhooks, looked at again (nothing moved now).
    pub looked_again: bool,
    /// Dry run: would move.
    pub would_move: Vec<DeadLetterView>,
    /// Read and left in place (not matching, or behind a message of their group that stays).
    pub left: usize,
    pub held_groups: usize,
    /// Matching dead letters left behind an earlier message of their group that stays.
    pub held_back: usize,
    /// Copies that failed; the originals stay in the dead-letter queue.
    pub failed: Vec<String>,
    /// Copied, but the delete failed: they will be moved again (a duplicate, never a loss).
    pub copied_not_deleted: usize,
    /// Batches whose copy may or may not have happened; their originals stay.
    pub unknown_batches: usize,
    /// Dead-lettered during the run by other traffic, left for a later run.
    pub arrived_during_run: usize,
    pub interrupted: bool,
    pub elapsed_ms: u128,
    pub per_second: f64,
    pub remaining_in_dlq: u64,
    /// Of those, in flight when the run ended: held by another reader (a redrive or a scan).
    pub remaining_in_flight: u64,
    /// What stopped the run early (it is reported first, then the command fails with it).
    #[serde(skip)]
    pub failure: Option<Failure>,
}

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

impl Outcome for RedriveReport {
    fn failure(&self) -> Option<Failure> {
        if let Some(failure) = &self.failure {
            return Some(failure.clone());
        }
        if self.interrupted {
            return Some(
                Failure::new(
                    FailureKind::Interrupted,
                    format!(
                        "stopped after moving {}; the rest stays in the dead-letter queue",
                        self.moved
                    ),
                )
                .next(self.judged.check_later.clone().unwrap_or_else(|| {
                    "run the redrive again to move the rest (a repeat never loses a message)".into()
                })),
            );
        }
        if !self.failed.is_empty() || self.unknown_batches > 0 {
            return Some(
                Failure::new(
                    FailureKind::Partial,
                    "some messages could not be moved; they are still in the dead-letter queue",
                )
                .next("run the redrive again once the cause is fixed (a repeat never loses a message)"),
            );
        }
        if self.held_back > 0 && !self.dry_run {
            return Some(
                Failure::new(
                    FailureKind::Partial,
                    format!(
                        "{} matching webhook(s) were not moved: they wait behind earlier messages of their group that the filter does not take, and a group's order must hold ({} moved)",
                        self.held_back, self.moved
                    ),
                )
                .next(format!(
                    "`mgrid dlq peek --stage {}` shows the groups' first messages: redrive those first, or widen the filter",
                    self.stage
                )),
            );
        }
        self.judged.failure(self.moved, "moved", &self.stage)
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
    async fn wait(&self) -> Result<(), Failure> {
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
fn keep_run(runs: &std::path::Path, report: &RedriveReport) -> Option<String> {
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
async fn look_again(
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
    let judged = watch(&mut verdicts, ports.dlq, ports.ledger, wait_of(args.wait)).await;
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
async fn move_dead_letters(
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
        source: Source::Queue,
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
        watch(&mut verdicts, ports.dlq, ports.ledger, wait_of(args.wait)).await
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

impl fmt::Display for RedriveReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.dry_run {
            writeln!(
                f,
                "dry run: {} dead letters would move now; nothing was moved",
                self.would_move.len()
            )?;
            let mut rows = table(&["group", "event id", "provider", "reason"]);
            rows.keep_whole(1);
            for view in &self.would_move {
                rows.add_row(vec![
                    shown(&view.group_id),
                    shown(view.event_id.as_deref().unwrap_or_default()),
                    shown(view.provider.as_deref().unwrap_or_default()),
                    shown(&view.reason),
                ]);
            }
            if !self.would_move.is_empty() {
                writeln!(f, "{rows}")?;
            }
            if self.held_groups > 0 {
                writeln!(
                    f,
                    "{} group(s) stay: their first message does not match, and order must hold",
                    self.held_groups
                )?;
            }
            return writeln!(
                f,
                "(a FIFO queue shows only the first messages of each group before they move; a redrive reaches the rest as it goes)"
            );
        }
        let verdicts = &self.judged.verdicts;
        let mut rows = table(&[
            "moved",
            "recorded",
            "duplicate",
            "failed again",
            "pending",
            "left in place",
            "still in dlq",
        ]);
        rows.add_row(vec![
            self.moved.to_string(),
            verdicts.recorded.to_string(),
            verdicts.duplicate.to_string(),
            verdicts.failed_again_total().to_string(),
            verdicts.pending.to_string(),
            self.left.to_string(),
            self.remaining_in_dlq.to_string(),
        ]);
        writeln!(f, "{rows}")?;
        if self.looked_again {
            writeln!(
                f,
                "run {}: its {} webhook(s) pending when it ended, looked at again for {}; nothing was moved now",
                self.run_id,
                self.moved,
                seconds(self.judged.watched_ms)
            )?;
        } else if !self.run_id.is_empty() && self.moved > 0 {
            writeln!(
                f,
                "run {}: moved at {}/s, then watched {} for verdicts",
                self.run_id,
                self.per_second,
                seconds(self.judged.watched_ms)
            )?;
        }
        self.fmt_problems(f)?;
        self.judged.fmt(f, self.moved, "moved")
    }
}

impl RedriveReport {
    /// What went wrong with the move itself.
    fn fmt_problems(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.held_back > 0 {
            writeln!(
                f,
                "{WARNING}held back:{WARNING:#} {} matching webhook(s) wait behind an earlier message of their group that stays: a group's order must hold",
                self.held_back
            )?;
        }
        for failure in &self.failed {
            writeln!(f, "{WARNING}not moved:{WARNING:#} {failure}")?;
        }
        if self.unknown_batches > 0 {
            writeln!(
                f,
                "{WARNING}unknown:{WARNING:#} {} batch(es) may or may not have been copied; their originals stay in the dead-letter queue",
                self.unknown_batches
            )?;
        }
        if self.copied_not_deleted > 0 {
            writeln!(
                f,
                "{} message(s) were copied but are still in the dead-letter queue: a later redrive moves them again (a duplicate, which the processor ignores)",
                self.copied_not_deleted
            )?;
        }
        if self.arrived_during_run > 0 {
            writeln!(
                f,
                "{} webhook(s) were dead-lettered during the run by other traffic; they stay for a later redrive",
                self.arrived_during_run
            )?;
        }
        if self.remaining_in_flight > 0 && self.moved == 0 {
            writeln!(
                f,
                "{} of those still in the dead-letter queue are in flight: another reader holds them (a redrive or a scan running now); they come back when its hold ends",
                self.remaining_in_flight
            )?;
        }
        Ok(())
    }
}
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct MoveTaskReport {
    pub stage: String,
    pub task: MoveTask,
}

impl fmt::Display for MoveTaskReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total = self
            .task
            .to_move
            .map(|n| n.to_string())
            .unwrap_or_else(|| "?".into());
        writeln!(
            f,
            "message move task {}: {} of {total} moved",
            self.task.status, self.task.moved
        )?;
        if let Some(failure) = &self.task.failure {
            writeln!(f, "{WARNING}failure:{WARNING:#} {failure}")?;
        }
        Ok(())
    }
}

/// SQS's own move task: every message, no filter, no dry run; mgrid starts and follows it.
async fn native(
    context: &Context,
    stage: &StageName,
    tasks: &MoveTasks,
    dead_letters: &StageQueue,
    webhooks: &StageQueue,
    args: &RedriveArgs,
) -> Result<()> {
    let dlq = dead_letters.depth().await?;
    let queue = webhooks.depth().await?;
    if dlq.visible + dlq.in_flight == 0 {
        note("the dead-letter queue is empty; no move task was started");
        return Ok(());
    }
    if !confirm(
        &format!(
            "Start an SQS message move task for all {} dead letters?",
            dlq.visible
        ),
        context.global.yes,
    )? {
        return Err(Failure::new(FailureKind::Declined, "no move task was started").into());
    }
    let rate = args.rate.map(|r| r.round().clamp(1.0, 500.0) as i32);
    let bar = progress_bar(dlq.visible, "{spinner} moved {pos}/{len} · ETA {eta}");
    let following = start_and_follow(tasks, &dlq.arn, &queue.arn, rate, FOLLOW_POLL, bar.as_ref());
    let watched = unless_interrupted(following)
        .await
        .map_err(|Interrupted| {
            Failure::new(
                FailureKind::Interrupted,
                "stopped following; a move task that started keeps running",
            )
            .next("`mgrid dlq cancel` stops it")
        })??;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    print_report(
        &MoveTaskReport {
            stage: stage.to_string(),
            task: watched.clone(),
        },
        context.global.output,
    )?;
    if watched.status != MoveTaskStatus::Completed {
        return Err(Failure::new(
            FailureKind::Failed,
            format!("the move task ended {}", watched.status),
        )
        .next("what it did not move is still in the dead-letter queue: `mgrid dlq stats` shows it; run the redrive again once the cause is fixed")
        .into());
    }
    Ok(())
}

/// How often a move task's progress is read.
const FOLLOW_POLL: Duration = Duration::from_secs(2);

/// Starts SQS's move task from `source_arn` to `destination_arn` and follows it until it ends.
pub async fn start_and_follow(
    tasks: &MoveTasks,
    source_arn: &str,
    destination_arn: &str,
    per_second: Option<i32>,
    poll: Duration,
    bar: Option<&indicatif::ProgressBar>,
) -> Result<MoveTask, Failure> {
    tasks.start(source_arn, destination_arn, per_second).await?;
    loop {
        // SQS lists the queue's tasks newest first; the one just started is the newest.
        let latest = tasks.list(source_arn).await?.into_iter().next();
        let Some(task) = latest else {
            return Err(Failure::new(
                FailureKind::Failed,
                "SQS started a move task but lists none for the dead-letter queue",
            )
            .next(
                "`aws sqs list-message-move-tasks --source-arn <dlq arn>` shows what SQS knows",
            ));
        };
        if let Some(bar) = bar {
            if let Some(total) = task.to_move {
                bar.set_length(total as u64);
            }
            bar.set_position(task.moved as u64);
        } else {
            let total = task.to_move.map(|n| format!(" of {n}")).unwrap_or_default();
            note(&format!(
                "move task {}: {}{total} moved",
                task.status, task.moved
            ));
        }
        if !task.status.is_active() {
            return Ok(task);
        }
        tokio::time::sleep(poll).await;
    }
}

/// Cancels the running move task of `source_arn`; what it had moved by then.
pub async fn cancel_running(tasks: &MoveTasks, source_arn: &str) -> Result<MoveTask, Failure> {
    let running = tasks
        .list(source_arn)
        .await?
        .into_iter()
        .find(|t| t.status == MoveTaskStatus::Running);
    let Some(task) = running else {
        return Err(Failure::new(
            FailureKind::NotFound,
            "no message move task is running for this dead-letter queue",
        )
        .next("`mgrid dlq stats` shows what is still dead-lettered"));
    };
    let Some(handle) = task.handle.clone() else {
        return Err(Failure::new(
            FailureKind::Failed,
            "SQS lists a running move task without a handle to cancel it by",
        ));
    };
    let moved = tasks.cancel(&handle).await?;
    Ok(MoveTask {
        status: MoveTaskStatus::Cancelling,
        moved,
        ..task
    })
}

async fn cancel(
    context: &Context,
    stage: &StageName,
    tasks: &MoveTasks,
    dlq: &StageQueue,
) -> Result<()> {
    let depth = dlq.depth().await?;
    let task = cancel_running(tasks, &depth.arn).await?;
    print_report(
        &MoveTaskReport {
            stage: stage.to_string(),
            task,
        },
        context.global.output,
    )?;
    Ok(())
}

#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct PurgeReport {
    pub stage: String,
    pub purged: u64,
    /// The filter, when only matching dead letters were deleted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<Filter>,
    /// With a filter: the dead letters read that did not match, left in the queue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub left: Option<u64>,
}

impl fmt::Display for PurgeReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.left {
            None => writeln!(
                f,
                "purged the dead-letter queue of {}: about {} messages deleted",
                self.stage, self.purged
            ),
            Some(left) => writeln!(
                f,
                "deleted {} matching dead letter{} of {}; {left} that do not match are still there (`mgrid dlq stats --stage {}`)",
                self.purged,
                if self.purged == 1 { "" } else { "s" },
                self.stage,
                self.stage
            ),
        }
    }
}

/// What a purge would delete: every dead letter, and why they were dead-lettered (of those a
/// scan could read).
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct PurgePlan {
    pub stage: String,
    pub protected: bool,
    pub dead_letters: u64,
    pub breakdown: Vec<ReasonCount>,
    pub dry_run: bool,
    /// Only the dead letters that match it are deleted (None: the whole queue).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<Filter>,
}

impl fmt::Display for PurgePlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.filter {
            None => writeln!(
                f,
                "the dead-letter queue of {} holds about {} webhooks; a purge deletes them for good",
                self.stage, self.dead_letters
            )?,
            Some(_) => writeln!(
                f,
                "about {} of the dead letters of {} match; a purge deletes those for good and leaves the rest",
                self.dead_letters, self.stage
            )?,
        }
        if !self.breakdown.is_empty() {
            writeln!(f, "{}", ReasonCount::table(&self.breakdown))?;
        }
        if self.dry_run {
            writeln!(f, "dry run: nothing was purged")?;
        }
        Ok(())
    }
}

impl Plan for PurgePlan {
    fn ask(&self) -> Ask {
        if self.protected {
            Ask::Name {
                prompt: format!("{} is protected: type its name to purge", self.stage),
                stage: self.stage.clone(),
            }
        } else {
            Ask::YesNo(format!(
                "Purge {} {}dead letters of {}?",
                self.dead_letters,
                if self.filter.is_some() {
                    "matching "
                } else {
                    ""
                },
                self.stage
            ))
        }
    }

    fn declined(&self) -> String {
        "nothing was purged".into()
    }
}

impl Outcome for PurgeReport {}

async fn purge(
    context: &Context,
    stage: &StageName,
    protected: bool,
    dlq: &impl DeadLetterQueue,
    filter: Filter,
    dry_run: bool,
) -> Result<()> {
    let depth = dlq.depth().await?;
    let mut breakdown = Breakdown::default();
    let mut matching = 0u64;
    dlq.scan(SCAN_LIMIT, &mut |letter| {
        let view = letter.view();
        if filter.matches(&view) {
            matching += 1;
            breakdown.add(&view);
        }
        true
    })
    .await?;
    let filtered = !filter.is_empty();
    let plan = PurgePlan {
        stage: stage.to_string(),
        protected,
        dead_letters: if filtered {
            matching
        } else {
            depth.visible + depth.in_flight
        },
        breakdown: ReasonCount::all(breakdown),
        dry_run,
        filter: filtered.then_some(filter),
    };
    carry_out(
        context,
        plan,
        Run::plan_only_if(dry_run),
        |plan| async move {
            match plan.filter {
                None => {
                    let purged = dlq.purge().await?.unwrap_or(plan.dead_letters);
                    Ok(PurgeReport {
                        stage: plan.stage,
                        purged,
                        filter: None,
                        left: None,
                    })
                }
                Some(filter) => {
                    let (purged, left) = delete_matching(dlq, &filter).await?;
                    Ok(PurgeReport {
                        stage: plan.stage,
                        purged,
                        filter: Some(filter),
                        left: Some(left),
                    })
                }
            }
        },
    )
    .await
}

/// How long a dead letter a filtered purge read stays hidden while it reads the rest.
const PURGE_HOLD_SECONDS: u32 = 120;

/// Reads every dead letter it can reach, deletes those `filter` matches, and makes the others
/// visible again at the end (also when a call fails midway): how many were deleted and left.
async fn delete_matching(
    dlq: &impl DeadLetterQueue,
    filter: &Filter,
) -> Result<(u64, u64), Failure> {
    let mut kept: Vec<DeadLetter> = Vec::new();
    let mut deleted = 0u64;
    let result = async {
        loop {
            // Nothing returned: what is left is held here, or behind it in its group.
            let batch = dlq.receive(10, PURGE_HOLD_SECONDS).await?;
            if batch.is_empty() {
                return Ok(());
            }
            let (matching, others): (Vec<DeadLetter>, Vec<DeadLetter>) =
                batch.into_iter().partition(|l| filter.matches(&l.view()));
            kept.extend(others);
            if matching.is_empty() {
                continue;
            }
            let refs: Vec<&DeadLetter> = matching.iter().collect();
            let outcome = dlq.delete(&refs).await?;
            deleted += outcome.done.len() as u64;
            for (_, why) in &outcome.failed {
                note(&format!(
                    "a matching dead letter could not be deleted ({why}); it is visible again after {PURGE_HOLD_SECONDS} s"
                ));
            }
        }
    }
    .await;
    let refs: Vec<&DeadLetter> = kept.iter().collect();
    for chunk in refs.chunks(10) {
        dlq.set_visibility(chunk, 0).await?;
    }
    result.map(|()| (deleted, kept.len() as u64))
}

#[cfg(test)]
mod snapshots {
    //! Every dlq report as a pipe gets it.

    use super::*;
    use crate::ui::text::plain;

    fn view(id: &str, reason: &str, event_type: Option<&str>) -> DeadLetterView {
        DeadLetterView {
            message_id: format!("{id}-0000-4000-8000-000000000000"),
            group_id: "stripe:acct_1".into(),
            provider: Some("stripe".into()),
            event_id: Some(format!("evt_{id}")),
            event_type: event_type.map(str::to_owned),
            reason: reason.into(),
            detail: Some("the signature does not match".into()),
            receive_count: 3,
            sent_at: Some(1_764_460_800_000),
            malformed: event_type.is_none(),
            body_bytes: 42,
        }
    }

    fn depth(visible: u64, in_flight: u64) -> Depth {
        Depth {
            visible,
            in_flight,
            arn: String::new(),
        }
    }

    #[test]
    fn stats() {
        let mut breakdown = Breakdown::default();
        breakdown.add(&view(
            "a1",
            "bad-signature",
            Some("payment_intent.succeeded"),
        ));
        breakdown.add(&view(
            "a2",
            "bad-signature",
            Some("payment_intent.succeeded"),
        ));
        breakdown.add(&view("a3", "malformed-body", None));
        let stage: StageName = "prod".parse().expect("a stage name");
        let report = StatsReport::new(&stage, depth(5, 1), depth(0, 0), breakdown);
        insta::assert_snapshot!("dlq_stats", plain(&report));
        insta::assert_snapshot!(
            "dlq_stats_80_columns",
            crate::ui::text::at_80_columns(&report)
        );
        crate::ui::output::assert_json_contract("dlq-stats", &report);
        let empty = StatsReport::new(&stage, depth(0, 0), depth(2, 0), Breakdown::default());
        insta::assert_snapshot!("dlq_stats_empty", plain(&empty));
        crate::ui::output::assert_json_contract("dlq-stats", &empty);
    }

    #[test]
    fn peek() {
        let stage: StageName = "prod".parse().expect("a stage name");
        let mut report = PeekReport::new(&stage, true);
        report.messages.push(Peeked {
            view: view("b1", "bad-signature", Some("charge.refunded")),
            body: "{\"id\":\"evt_b1\",\"type\":\"charge.refunded\"}".into(),
        });
        report.messages.push(Peeked {
            view: view("b2", "malformed-body", None),
            body: "not json \u{1b}[2J".into(),
        });
        insta::assert_snapshot!("dlq_peek_full", plain(&report));
        crate::ui::output::assert_json_contract("dlq-peek", &report);
        // On an 80-column terminal each row stays one line, long values cut with `…`.
        let fitted = crate::ui::text::with_table_width(Some(80), || plain(&report));
        assert!(fitted.lines().all(|l| l.chars().count() <= 80), "{fitted}");
        insta::assert_snapshot!("dlq_peek_80_columns", fitted);
        insta::assert_snapshot!("dlq_peek_none", plain(&PeekReport::new(&stage, false)));

        // Real ids are long: at 80 columns they stay whole (to be copied into a redrive or a
        // trace) and the other columns give way; SQS's receive is said.
        let mut real = PeekReport::new(&stage, false);
        real.reads_are_receives = true;
        for id in [
            "WH-2WR32451HC0233532-67976317FL4543714",
            "evt_1QdR7uK4Yh2mZc3bNf8xLp0A",
        ] {
            let mut view = view("c1", "bad-signature", Some("PAYMENT.CAPTURE.COMPLETED"));
            view.event_id = Some(id.into());
            real.messages.push(Peeked {
                view,
                body: format!("{{\"id\":\"{id}\"}}"),
            });
        }
        let fitted = crate::ui::text::with_table_width(Some(80), || plain(&real));
        assert!(fitted.lines().all(|l| l.chars().count() <= 80), "{fitted}");
        for id in [
            "WH-2WR32451HC0233532-67976317FL4543714",
            "evt_1QdR7uK4Yh2mZc3bNf8xLp0A",
        ] {
            assert!(fitted.contains(id), "{id} whole: {fitted}");
        }
        insta::assert_snapshot!("dlq_peek_80_columns_real_ids", fitted);
    }

    #[test]
    fn redrive() {
        let mut done = RedriveReport {
            stage: "prod".into(),
            moved: 120,
            left: 3,
            failed: vec!["m-1: the queue refused it".into()],
            copied_not_deleted: 1,
            arrived_during_run: 2,
            per_second: 84.0,
            remaining_in_dlq: 6,
            ..RedriveReport::default()
        };
        done.run_id = "0123456789abcdef".into();
        done.judged.watched_ms = 30_000;
        done.judged.verdicts = crate::decide::verdict::VerdictCounts {
            recorded: 111,
            duplicate: 2,
            failed_again: [("bad-signature".to_owned(), 4)].into(),
            pending: 3,
        };
        done.judged.unsettled = (1..=3)
            .map(|n| Followed {
                deduplication_id: format!("mgrid-run-0123456789abcdef-{n}"),
                transaction_id: Some(format!("stripe:evt_{n}")),
                event_id: Some(format!("evt_{n}")),
                verdict: crate::decide::verdict::Verdict::Pending,
            })
            .collect();
        done.judged.check_later =
            Some("mgrid dlq redrive --stage prod --status 0123456789abcdef".into());
        let refused = std::mem::take(&mut done.failed);
        let failure = done.failure().expect("some failed again");
        assert_eq!(failure.kind, FailureKind::Partial);
        assert!(failure.what.contains("4 of 120"), "{}", failure.what);
        done.judged.verdicts.failed_again.clear();
        assert_eq!(
            done.failure().map(|f| f.kind),
            Some(FailureKind::Pending),
            "none failed again, some not judged"
        );
        done.judged
            .verdicts
            .failed_again
            .insert("bad-signature".into(), 4);
        done.failed = refused;
        insta::assert_snapshot!("dlq_redrive", plain(&done));
        insta::assert_snapshot!(
            "dlq_redrive_80_columns",
            crate::ui::text::at_80_columns(&done)
        );
        crate::ui::output::assert_json_contract("dlq-redrive", &done);
        let dry = RedriveReport {
            stage: "prod".into(),
            dry_run: true,
            would_move: vec![view("c1", "processor-error", Some("charge.succeeded"))],
            held_groups: 1,
            ..RedriveReport::default()
        };
        insta::assert_snapshot!("dlq_redrive_dry_run", plain(&dry));
        crate::ui::output::assert_json_contract("dlq-redrive", &dry);
    }

    #[test]
    fn move_task_and_purge() {
        let task = MoveTaskReport {
            stage: "prod".into(),
            task: MoveTask {
                handle: Some("handle".into()),
                status: MoveTaskStatus::Failed,
                moved: 40,
                to_move: Some(200),
                failure: Some("AccessDenied".into()),
            },
        };
        insta::assert_snapshot!("dlq_move_task", plain(&task));
        crate::ui::output::assert_json_contract("dlq-cancel", &task);
        let purge = PurgeReport {
            stage: "dev".into(),
            purged: 12,
            filter: None,
            left: None,
        };
        insta::assert_snapshot!("dlq_purge", plain(&purge));
        crate::ui::output::assert_json_contract("dlq-purge", &purge);
        let filtered = PurgeReport {
            filter: Some(Filter {
                reason: Some("bad-signature".into()),
                ..Filter::default()
            }),
            left: Some(3),
            ..purge
        };
        assert_eq!(
            plain(&filtered),
            "deleted 12 matching dead letters of dev; 3 that do not match are still there (`mgrid dlq stats --stage dev`)\n"
        );
        crate::ui::output::assert_json_contract("dlq-purge", &filtered);
        let plan = PurgePlan {
            stage: "prod".into(),
            protected: true,
            dead_letters: 12,
            breakdown: vec![
                ReasonCount {
                    provider: "stripe".into(),
                    reason: "bad-signature".into(),
                    count: 9,
                },
                ReasonCount {
                    provider: "paypal".into(),
                    reason: "malformed".into(),
                    count: 3,
                },
            ],
            dry_run: true,
            filter: None,
        };
        insta::assert_snapshot!("dlq_purge_plan", plain(&plan));
        insta::assert_snapshot!("dlq_purge_plan_80", crate::ui::text::at_80_columns(&plan));
        crate::ui::output::assert_json_contract("dlq-purge-plan", &plan);
    }
}
