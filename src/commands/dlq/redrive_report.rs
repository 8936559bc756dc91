//! What a redrive reports: moved, held, failed again, the ledger's verdicts, and the commands
//! that go on from there.

use std::fmt;

use serde::Serialize;

use crate::commands::flow::Outcome;
use crate::decide::redrive::{DeadLetterView, Filter};
use crate::decide::verdict::{Judged, seconds};
use crate::failure::{Failure, FailureKind};
use crate::text::{WARNING, shown, table};

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
    pub(super) fn fmt_problems(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
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
