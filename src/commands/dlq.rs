//! `mgrid dlq`: see why webhooks were dead-lettered, and put them back, in order, losing none.
//!
//! A redrive copies a batch to the webhook queue and deletes from the dead-letter queue only
//! what the copy acknowledged, entry by entry. Killed at any moment, every message is in one
//! queue or the other (a message being moved is hidden for --hold, then visible again), and at
//! worst in both, which the processor's idempotency absorbs. Messages a filter does not take
//! are held aside until the run ends and then made visible at once, untouched.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Result;
use mgrid_contract::clock::format_rfc3339;
use mgrid_contract::{StageName, StageParameter};
use serde::Serialize;

use crate::aws::parameters::{require, stage_parameters};
use crate::aws::queues::{Depth, MoveTask, MoveTasks, Outgoing, Queue};
use crate::cli::{DlqAction, DlqArgs, ProviderArg, RedriveArgs};
use crate::commands::{Context, Pace, confirm, now_millis, progress_bar, run_id, verbose_calls};
use crate::failure::{Failure, FailureKind};
use crate::output::{BOLD, WARNING, note, print_report, table};
use crate::redrive::{
    DeadLetter, DeadLetterView, Filter, breakdown, move_deduplication_id, plan_batch,
    redriven_attributes,
};

/// How long a scan (stats, peek, dry run) keeps what it read hidden before it puts it back.
const SCAN_HOLD_SECONDS: i32 = 30;
/// The most messages a scan reads.
const SCAN_LIMIT: usize = 1000;

struct Queues {
    dlq: Queue,
    queue: Queue,
}

pub async fn run(context: &Context, args: &DlqArgs) -> Result<()> {
    let stage = context.require_stage()?;
    if stage.as_str() == crate::local::STAGE {
        return super::dlq_local::run(context, &stage, args).await;
    }
    let settings = context.settings(stage.clone())?;
    let aws = context.connect(&settings).await?;
    let parameters = stage_parameters(&aws.ssm(), &stage).await?;
    let queues = Queues {
        dlq: Queue::new(
            aws.sqs(),
            require(&parameters, &stage, StageParameter::DlqUrl)?,
        ),
        queue: Queue::new(
            aws.sqs(),
            require(&parameters, &stage, StageParameter::QueueUrl)?,
        ),
    };
    let result = match &args.action {
        DlqAction::Stats => stats(context, &stage, &queues).await,
        DlqAction::Peek {
            limit,
            provider,
            reason,
            full,
        } => {
            let filter = peek_filter(*provider, reason);
            peek(context, &queues, usize::from(*limit), &filter, *full).await
        }
        DlqAction::Redrive(redrive_args) if redrive_args.native => {
            native(context, &aws, &queues, redrive_args).await
        }
        DlqAction::Redrive(redrive_args) => redrive(context, &stage, &queues, redrive_args).await,
        DlqAction::Cancel => cancel(context, &aws, &queues).await,
        DlqAction::Purge => purge(context, &stage, settings.protected.value, &queues).await,
    };
    verbose_calls(context.global.verbose > 0, aws.calls());
    result
}

/// Reads up to `limit` messages without consuming them: each is held hidden while the scan runs
/// (so the next receive returns others) and all are made visible again at once at the end. FIFO
/// shows only the first messages of each group this way.
async fn scan(
    dlq: &Queue,
    limit: usize,
    mut keep: impl FnMut(&DeadLetter) -> bool,
) -> Result<(Vec<DeadLetter>, usize), Failure> {
    let mut seen: Vec<DeadLetter> = Vec::new();
    let mut kept = 0;
    let mut ids = BTreeSet::new();
    let result = async {
        while kept < limit {
            // A long poll that returns nothing: all that is left is behind what this scan holds.
            let batch = dlq.receive(10, SCAN_HOLD_SECONDS, 1).await?;
            if batch.is_empty() {
                break;
            }
            let fresh: Vec<DeadLetter> = batch
                .into_iter()
                .filter(|m| ids.insert(m.message_id.clone()))
                .collect();
            for message in fresh {
                if keep(&message) {
                    kept += 1;
                }
                seen.push(message);
            }
        }
        Ok::<(), Failure>(())
    }
    .await;
    let all: Vec<&DeadLetter> = seen.iter().collect();
    dlq.set_visibility(&all, 0).await?;
    result?;
    Ok((seen, kept))
}

#[derive(Debug, Serialize)]
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
pub struct ReasonCount {
    pub provider: String,
    pub reason: String,
    pub count: usize,
}

async fn stats(context: &Context, stage: &StageName, queues: &Queues) -> Result<()> {
    let dead = queues.dlq.depth().await?;
    let live = queues.queue.depth().await?;
    let (seen, _) = scan(&queues.dlq, SCAN_LIMIT, |_| true).await?;
    let report = StatsReport::new(stage, dead, live, &seen);
    print_report(&report, context.global.output)?;
    Ok(())
}

impl StatsReport {
    /// The depths of both queues and the breakdown of the dead letters read.
    pub fn new(stage: &StageName, dead: Depth, live: Depth, read: &[DeadLetter]) -> StatsReport {
        let views: Vec<DeadLetterView> = read.iter().map(DeadLetter::view).collect();
        StatsReport {
            stage: stage.to_string(),
            dead_letter_queue: dead,
            webhook_queue: live,
            examined: views.len(),
            oldest_sent_at: views
                .iter()
                .filter_map(|v| v.sent_at)
                .min()
                .map(format_rfc3339),
            breakdown: breakdown(&views)
                .into_iter()
                .map(|((provider, reason), count)| ReasonCount {
                    provider,
                    reason,
                    count,
                })
                .collect(),
        }
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
        let mut reasons = table(&["provider", "reason", "count"]);
        for row in &self.breakdown {
            reasons.add_row(vec![
                row.provider.clone(),
                row.reason.clone(),
                row.count.to_string(),
            ]);
        }
        writeln!(f, "\n{reasons}")?;
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
pub struct PeekReport {
    pub messages: Vec<Peeked>,
    #[serde(skip)]
    full: bool,
}

impl PeekReport {
    /// The first `limit` of the dead letters read that `filter` takes.
    pub fn new(read: Vec<DeadLetter>, filter: &Filter, limit: usize, full: bool) -> PeekReport {
        let messages = read
            .into_iter()
            .filter(|m| filter.matches(&m.view()))
            .take(limit)
            .map(|m| Peeked {
                view: m.view(),
                body: m.body,
            })
            .collect();
        PeekReport { messages, full }
    }
}

#[derive(Debug, Serialize)]
pub struct Peeked {
    #[serde(flatten)]
    pub view: DeadLetterView,
    pub body: String,
}

async fn peek(
    context: &Context,
    queues: &Queues,
    limit: usize,
    filter: &Filter,
    full: bool,
) -> Result<()> {
    let (seen, _) = scan(&queues.dlq, limit, |m| filter.matches(&m.view())).await?;
    print_report(
        &PeekReport::new(seen, filter, limit, full),
        context.global.output,
    )?;
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
    let flat: String = body
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
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
        let mut rows = table(&[
            "message",
            "provider",
            "event id",
            "event type",
            "reason",
            "receives",
            "first sent",
            "body",
        ]);
        for peeked in &self.messages {
            let v = &peeked.view;
            rows.add_row(vec![
                v.message_id.chars().take(8).collect(),
                v.provider.clone().unwrap_or_else(|| "?".into()),
                v.event_id.clone().unwrap_or_else(|| "?".into()),
                if v.malformed {
                    "(malformed)".into()
                } else {
                    v.event_type.clone().unwrap_or_default()
                },
                v.reason.clone(),
                v.receive_count.to_string(),
                v.sent_at.map(format_rfc3339).unwrap_or_default(),
                excerpt(&peeked.body, 40),
            ]);
        }
        writeln!(f, "{rows}")?;
        if self.full {
            for peeked in &self.messages {
                writeln!(
                    f,
                    "\n{BOLD}{}{BOLD:#} ({})\n{}",
                    peeked.view.message_id,
                    peeked.view.detail.as_deref().unwrap_or(""),
                    peeked.body
                )?;
            }
        }
        Ok(())
    }
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RedriveReport {
    pub stage: String,
    pub dry_run: bool,
    pub filter: Filter,
    /// Moved to the webhook queue and deleted from the dead-letter queue.
    pub moved: usize,
    /// Dry run: would move.
    pub would_move: Vec<DeadLetterView>,
    /// Read and left in place (not matching, or behind a message of their group that stays).
    pub left: usize,
    pub held_groups: usize,
    /// Copies that failed; the originals stay in the dead-letter queue.
    pub failed: Vec<String>,
    /// Copied, but the delete failed: they will be moved again (a duplicate, never a loss).
    pub copied_not_deleted: usize,
    /// Batches whose copy may or may not have happened; their originals stay.
    pub unknown_batches: usize,
    pub interrupted: bool,
    pub elapsed_ms: u128,
    pub per_second: f64,
    pub remaining_in_dlq: u64,
    /// The whole dead-letter queue was read (the local stage), not just the groups' heads.
    #[serde(skip)]
    pub whole_queue_seen: bool,
}

pub fn filter_of(args: &RedriveArgs) -> Filter {
    Filter {
        provider: args.provider.map(Into::into),
        event_type: args.event_type.clone(),
        reason: args.reason.clone(),
        sent_before: args.older_than.map(|age| now_millis() - age.0),
    }
}

async fn redrive(
    context: &Context,
    stage: &StageName,
    queues: &Queues,
    args: &RedriveArgs,
) -> Result<()> {
    let filter = filter_of(args);
    let depth = queues.dlq.depth().await?;
    let mut report = RedriveReport {
        stage: stage.to_string(),
        dry_run: args.dry_run,
        filter: filter.clone(),
        ..RedriveReport::default()
    };
    if depth.visible == 0 && depth.in_flight == 0 {
        note("the dead-letter queue is empty; nothing to redrive");
        print_report(&report, context.global.output)?;
        return Ok(());
    }
    if args.dry_run {
        let (seen, _) = scan(&queues.dlq, SCAN_LIMIT, |_| true).await?;
        let mut held = BTreeSet::new();
        let mut budget = args.max.map(|m| m as usize);
        let plan = plan_batch(&seen, &filter, &mut held, &mut budget);
        report.would_move = plan.move_.iter().map(|&i| seen[i].view()).collect();
        report.left = plan.release.len();
        report.held_groups = plan.held_groups.len();
        report.remaining_in_dlq = depth.visible;
        print_report(&report, context.global.output)?;
        return Ok(());
    }
    let scope = if filter.is_empty() {
        "every".to_owned()
    } else {
        "the matching".to_owned()
    };
    let question = format!(
        "Move {scope} dead-lettered webhook{} of {stage} ({} waiting) back to the webhook queue?",
        if args.max == Some(1) { "" } else { "s" },
        depth.visible
    );
    if !confirm(&question, context.global.yes)? {
        return Err(Failure::new(FailureKind::Declined, "nothing was moved").into());
    }

    let stop = Arc::new(AtomicBool::new(false));
    let watcher = {
        let stop = stop.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                stop.store(true, Ordering::SeqCst);
            }
        })
    };
    let started = Instant::now();
    let bar = progress_bar(
        args.max.map_or(depth.visible, |m| m.min(depth.visible)),
        "{spinner} moved {pos}/{len} {msg} · {per_sec} · ETA {eta}",
    );
    let outcome = move_messages(queues, &filter, args, &stop, &mut report, bar.as_ref()).await;
    watcher.abort();
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    report.interrupted = stop.load(Ordering::SeqCst);
    report.elapsed_ms = started.elapsed().as_millis();
    report.per_second = report.moved as f64 / started.elapsed().as_secs_f64().max(0.001);
    report.remaining_in_dlq = queues
        .dlq
        .depth()
        .await
        .map(|d| d.visible + d.in_flight)
        .unwrap_or(0);
    outcome?;
    print_report(&report, context.global.output)?;
    if report.interrupted {
        return Err(Failure::new(
            FailureKind::Interrupted,
            format!(
                "stopped after moving {}; the rest stays in the dead-letter queue",
                report.moved
            ),
        )
        .into());
    }
    if !report.failed.is_empty() || report.unknown_batches > 0 {
        return Err(Failure::new(
            FailureKind::Partial,
            "some messages could not be moved; they are still in the dead-letter queue",
        )
        .next("run the redrive again once the cause is fixed (a repeat never loses a message)")
        .into());
    }
    Ok(())
}

/// The moving loop: receive, plan, copy, delete what was copied, hold the rest; finally make
/// everything held visible again, whatever happened.
async fn move_messages(
    queues: &Queues,
    filter: &Filter,
    args: &RedriveArgs,
    stop: &AtomicBool,
    report: &mut RedriveReport,
    bar: Option<&indicatif::ProgressBar>,
) -> Result<(), Failure> {
    let run = run_id()?;
    let hold = args.hold.0.div_euclid(1000).clamp(1, 43_200) as i32;
    let mut held_groups = BTreeSet::new();
    let mut held: BTreeMap<String, DeadLetter> = BTreeMap::new();
    // Message ids copied to the webhook queue in this run.
    let mut copied: BTreeSet<String> = BTreeSet::new();
    let mut budget = args.max.map(|m| m as usize);
    let mut pace = Pace {
        rate: args.rate,
        next: Instant::now(),
    };
    let result = async {
        while !stop.load(Ordering::SeqCst) && budget != Some(0) {
            // A long poll that returns nothing: what is left is held by this run, or gone.
            let batch = queues.dlq.receive(10, hold, 1).await?;
            if batch.is_empty() {
                break;
            }
            let mut fresh = Vec::new();
            let mut copied_before = Vec::new();
            for message in batch {
                if let Some(kept) = held.get_mut(&message.message_id) {
                    // Back after its hold ran out: keep holding it, with its new receipt.
                    *kept = message;
                } else if copied.contains(&message.message_id) {
                    // Copied earlier in this run but its delete failed: delete it now, no new copy.
                    copied_before.push(message);
                } else {
                    fresh.push(message);
                }
            }
            if !copied_before.is_empty() {
                let retried: Vec<&DeadLetter> = copied_before.iter().collect();
                let deleted = queues.dlq.delete_batch(&retried).await?;
                report.copied_not_deleted = report.copied_not_deleted.saturating_sub(deleted.done.len());
                report.moved += deleted.done.len();
            }
            if fresh.is_empty() {
                continue;
            }
            let plan = plan_batch(&fresh, filter, &mut held_groups, &mut budget);
            report.held_groups += plan.held_groups.len();
            report.left += plan.release.len();
            let to_move: Vec<&DeadLetter> = plan.move_.iter().map(|&i| &fresh[i]).collect();
            pace.wait_for(to_move.len()).await;
            let outgoing: Vec<Outgoing> = to_move
                .iter()
                .map(|m| Outgoing {
                    body: m.body.clone(),
                    group_id: m.group_id.clone(),
                    deduplication_id: move_deduplication_id(&run, m),
                    attributes: redriven_attributes(m),
                })
                .collect();
            let mut not_moved: Vec<&DeadLetter> = Vec::new();
            let outcome = match queues.queue.send_batch(&outgoing).await {
                Ok(outcome) => outcome,
                Err(failure) => {
                    // Refused outright (permissions, a missing queue): nothing was copied. Hand
                    // the batch back with the rest, so a run after the fix sees it at once.
                    for message in &to_move {
                        held.insert(message.message_id.clone(), (*message).clone());
                    }
                    return Err(failure);
                }
            };
            match outcome {
                Ok(sent) => {
                    tracing::debug!("received {}, copied {}, copy failed {}, left {}", fresh.len(), sent.done.len(), sent.failed.len(), plan.release.len());
                    let sent_ok: Vec<&DeadLetter> = sent.done.iter().map(|&i| to_move[i]).collect();
                    copied.extend(sent_ok.iter().map(|m| m.message_id.clone()));
                    for (i, reason) in &sent.failed {
                        report.failed.push(format!("{}: {reason}", to_move[*i].message_id));
                        held_groups.insert(to_move[*i].group_id.clone());
                        not_moved.push(to_move[*i]);
                    }
                    let deleted = queues.dlq.delete_batch(&sent_ok).await?;
                    report.moved += deleted.done.len();
                    report.copied_not_deleted += deleted.failed.len();
                    if let Some(bar) = bar {
                        bar.inc(deleted.done.len() as u64);
                        bar.set_message(format!("left {} · failed {}", report.left, report.failed.len()));
                    }
                }
                Err(maybe) => {
                    // The copy may have happened: keep the originals; a later run moves them again.
                    tracing::warn!("a copy to the webhook queue may not have happened ({}); keeping the originals", maybe.0);
                    report.unknown_batches += 1;
                    for message in &to_move {
                        held_groups.insert(message.group_id.clone());
                    }
                    not_moved.extend(to_move.iter().copied());
                }
            }
            for message in not_moved.into_iter().chain(plan.release.iter().map(|&i| &fresh[i])) {
                held.insert(message.message_id.clone(), message.clone());
            }
        }
        Ok::<(), Failure>(())
    }
    .await;
    let all: Vec<&DeadLetter> = held.values().collect();
    let released = queues.dlq.set_visibility(&all, 0).await;
    result?;
    released
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
            for view in &self.would_move {
                rows.add_row(vec![
                    view.group_id.clone(),
                    view.event_id.clone().unwrap_or_default(),
                    view.provider.clone().unwrap_or_default(),
                    view.reason.clone(),
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
            if self.whole_queue_seen {
                return Ok(());
            }
            return writeln!(
                f,
                "(a FIFO queue shows only the first messages of each group before they move; a redrive reaches the rest as it goes)"
            );
        }
        let mut rows = table(&[
            "moved",
            "left in place",
            "failed",
            "copied, not deleted",
            "unknown batches",
            "rate",
            "still in dlq",
        ]);
        rows.add_row(vec![
            self.moved.to_string(),
            self.left.to_string(),
            self.failed.len().to_string(),
            self.copied_not_deleted.to_string(),
            self.unknown_batches.to_string(),
            format!("{:.0}/s", self.per_second),
            self.remaining_in_dlq.to_string(),
        ]);
        writeln!(f, "{rows}")?;
        for failure in &self.failed {
            writeln!(f, "{WARNING}not moved:{WARNING:#} {failure}")?;
        }
        if self.copied_not_deleted > 0 {
            writeln!(
                f,
                "{} message(s) were copied but are still in the dead-letter queue: a later redrive moves them again (a duplicate, which the processor ignores)",
                self.copied_not_deleted
            )?;
        }
        Ok(())
    }
}

#[derive(Debug, Serialize)]
pub struct MoveTaskReport {
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
    aws: &crate::aws::Aws,
    queues: &Queues,
    args: &RedriveArgs,
) -> Result<()> {
    let dlq = queues.dlq.depth().await?;
    let queue = queues.queue.depth().await?;
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
    let tasks = MoveTasks::new(aws.sqs());
    let rate = args.rate.map(|r| r.round().clamp(1.0, 500.0) as i32);
    let bar = progress_bar(dlq.visible, "{spinner} moved {pos}/{len} · ETA {eta}");
    let watched = tokio::select! {
        result = start_and_follow(&tasks, &dlq.arn, &queue.arn, rate, FOLLOW_POLL, bar.as_ref()) => result?,
        _ = tokio::signal::ctrl_c() => {
            return Err(Failure::new(FailureKind::Interrupted, "stopped following; a move task that started keeps running")
                .next("`mgrid dlq cancel` stops it").into());
        }
    };
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    print_report(
        &MoveTaskReport {
            task: watched.clone(),
        },
        context.global.output,
    )?;
    if watched.status != "COMPLETED" {
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
        if task.status != "RUNNING" && task.status != "CANCELLING" {
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
        .find(|t| t.status == "RUNNING");
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
        status: "CANCELLING".into(),
        moved,
        ..task
    })
}

async fn cancel(context: &Context, aws: &crate::aws::Aws, queues: &Queues) -> Result<()> {
    let dlq = queues.dlq.depth().await?;
    let task = cancel_running(&MoveTasks::new(aws.sqs()), &dlq.arn).await?;
    print_report(&MoveTaskReport { task }, context.global.output)?;
    Ok(())
}

#[derive(Debug, Serialize)]
pub struct PurgeReport {
    pub stage: String,
    pub purged: u64,
}

impl fmt::Display for PurgeReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "purged the dead-letter queue of {}: about {} messages deleted",
            self.stage, self.purged
        )
    }
}

async fn purge(
    context: &Context,
    stage: &StageName,
    protected: bool,
    queues: &Queues,
) -> Result<()> {
    let depth = queues.dlq.depth().await?;
    let count = depth.visible + depth.in_flight;
    note(&format!(
        "the dead-letter queue of {stage} holds about {count} webhooks; a purge deletes them for good"
    ));
    if protected && !context.global.yes {
        if !std::io::stdin().is_terminal() {
            return Err(Failure::new(
                FailureKind::Declined,
                "no terminal to confirm on; nothing was purged",
            )
            .next("pass --yes")
            .into());
        }
        eprint!("{stage} is protected: type its name to purge: ");
        let mut answer = String::new();
        std::io::stdin()
            .read_line(&mut answer)
            .map_err(|e| Failure::new(FailureKind::Failed, e.to_string()))?;
        if answer.trim() != stage.as_str() {
            return Err(Failure::new(
                FailureKind::Declined,
                "the name did not match; nothing was purged",
            )
            .into());
        }
    } else if !confirm(
        &format!("Purge {count} dead letters of {stage}?"),
        context.global.yes,
    )? {
        return Err(Failure::new(FailureKind::Declined, "nothing was purged").into());
    }
    queues.dlq.purge().await?;
    print_report(
        &PurgeReport {
            stage: stage.to_string(),
            purged: count,
        },
        context.global.output,
    )?;
    Ok(())
}
