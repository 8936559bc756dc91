//! `mgrid dlq purge`: dead-lettered webhooks deleted for good, asked first (by name on a
//! protected stage), only those a filter takes.

use std::fmt;

use anyhow::Result;
use mgrid_contract::StageName;
use serde::Serialize;

use super::stats::{ReasonCount, SCAN_LIMIT};
use crate::commands::context::Context;
use crate::commands::flow::{Ask, Outcome, Plan, Run, carry_out};
use crate::decide::redrive::{Breakdown, DeadLetter, Filter};
use crate::failure::Failure;
use crate::ports::DeadLetterQueue;
use crate::ui::output::note;

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

pub(super) async fn purge(
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
pub(super) const PURGE_HOLD_SECONDS: u32 = 120;

/// Reads every dead letter it can reach, deletes those `filter` matches, and makes the others
/// visible again at the end (also when a call fails midway): how many were deleted and left.
pub(super) async fn delete_matching(
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
