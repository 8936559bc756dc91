//! `mgrid dlq stats`: how many webhooks are dead-lettered, why, from which provider, and how old.

use std::fmt;

use anyhow::Result;
use mgrid_contract::StageName;
use mgrid_contract::clock::format_rfc3339;
use serde::Serialize;

use crate::commands::context::Context;
use crate::decide::redrive::Breakdown;
use crate::ports::{DeadLetterQueue, Depth};
use crate::target::StageQueue;
use crate::text::{shown, table};
use crate::ui::output::print_report;

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

pub(super) async fn stats(
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
    pub(super) fn all(read: Breakdown) -> Vec<ReasonCount> {
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
    pub(super) fn table(rows: &[ReasonCount]) -> crate::text::Table {
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

/// The most messages a scan reads.
pub(super) const SCAN_LIMIT: usize = 1000;
