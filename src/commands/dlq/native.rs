//! `--native`: SQS's own move task (StartMessageMoveTask) started and followed, and cancelled.

use std::fmt;
use std::time::Duration;

use anyhow::Result;
use mgrid_contract::StageName;
use serde::Serialize;

use crate::aws::queues::{MoveTask, MoveTaskStatus, MoveTasks};
use crate::cli::RedriveArgs;
use crate::commands::context::Context;
use crate::commands::flow::{Ask, Outcome, Plan, Run, carry_out};
use crate::failure::{Failure, FailureKind};
use crate::ports::DeadLetterQueue;
use crate::target::StageQueue;
use crate::text::WARNING;
use crate::ui::output::{note, print_report};
use crate::ui::terminal::{Interrupted, progress_bar, unless_interrupted};

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

/// What `--native` will do: start SQS's move task for every dead letter.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct NativeMovePlan {
    pub stage: String,
    /// The dead letters visible now (SQS moves what is there when it runs).
    pub dead_letters: u64,
    /// Messages a second, when capped (`--rate`); SQS's own pace otherwise.
    pub per_second: Option<i32>,
}

impl fmt::Display for NativeMovePlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "an SQS message move task would move every one of the {} dead letters of {} back to the webhook queue, {}",
            self.dead_letters,
            self.stage,
            self.per_second
                .map(|n| format!("at most {n} a second"))
                .unwrap_or_else(|| "at SQS's pace".into())
        )
    }
}

impl Plan for NativeMovePlan {
    fn ask(&self) -> Ask {
        Ask::YesNo(format!(
            "Start an SQS message move task for all {} dead letters?",
            self.dead_letters
        ))
    }

    fn declined(&self) -> String {
        "no move task was started".into()
    }
}

impl Outcome for MoveTaskReport {
    fn failure(&self) -> Option<Failure> {
        (self.task.status != MoveTaskStatus::Completed).then(|| {
            Failure::new(
                FailureKind::Failed,
                format!("the move task ended {}", self.task.status),
            )
            .next("what it did not move is still in the dead-letter queue: `mgrid dlq stats` shows it; run the redrive again once the cause is fixed")
        })
    }
}

/// SQS's own move task: every message, no filter, no dry run; mgrid asks, starts and follows it.
pub(super) async fn native(
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
    let plan = NativeMovePlan {
        stage: stage.to_string(),
        dead_letters: dlq.visible,
        per_second: args.rate.map(|r| r.round().clamp(1.0, 500.0) as i32),
    };
    carry_out(context, plan, Run::Apply, |plan| async move {
        let bar = progress_bar(dlq.visible, "{spinner} moved {pos}/{len} · ETA {eta}");
        let following = start_and_follow(
            tasks,
            &dlq.arn,
            &queue.arn,
            plan.per_second,
            FOLLOW_POLL,
            bar.as_ref(),
        );
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
        Ok(MoveTaskReport {
            stage: plan.stage,
            task: watched,
        })
    })
    .await
}

/// How often a move task's progress is read.
pub(super) const FOLLOW_POLL: Duration = Duration::from_secs(2);

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

pub(super) async fn cancel(
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
