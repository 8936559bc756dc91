//! The steps of a verb that changes something, in one place: show the plan (all that a dry run
//! does), confirm it, apply it, report what happened, and then fail if the outcome says so.
//! Commands fetch and decide; this runs the rest, with one way to ask.

use std::fmt;
use std::future::Future;

use anyhow::Result;
use serde::Serialize;

use crate::commands::context::Context;
use crate::failure::{Failure, FailureKind};
use crate::ui::output::{note, print_report};
use crate::ui::terminal::{confirm, confirm_by_name};

/// What a plan asks before it is applied.
pub enum Ask {
    /// Nothing: the plan changes nothing that needs a yes.
    Nothing,
    /// A yes/no question (`--yes` answers it).
    YesNo(String),
    /// The stage's name, typed (`destroy`, a purge of a protected stage).
    Name { prompt: String, stage: String },
}

/// A decided change, before anything is changed.
pub trait Plan: fmt::Display + Serialize {
    fn ask(&self) -> Ask;
    /// What stays undone when the answer is no ("nothing was deleted").
    fn declined(&self) -> String;
}

/// What an applied plan reports; a report may carry a failure (a partial run, an interrupted
/// one) that makes the command fail after it is printed.
pub trait Outcome: fmt::Display + Serialize {
    fn failure(&self) -> Option<Failure> {
        None
    }
}

/// How far a run goes: `--dry-run` is one of the two short ways.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Run {
    /// Show, confirm, apply, report.
    Apply,
    /// The plan alone, on stdout: what is decided already is all a dry run shows.
    PlanOnly,
    /// Apply without asking, where applying in this mode only reads: a redrive's or a replay's
    /// dry run scans what it would move, and changes nothing, so there is nothing to confirm.
    Rehearse,
}

impl Run {
    /// `--dry-run` shows the plan only.
    pub fn plan_only_if(dry_run: bool) -> Run {
        if dry_run { Run::PlanOnly } else { Run::Apply }
    }

    /// `--dry-run` rehearses: the apply runs, reading only.
    pub fn rehearse_if(dry_run: bool) -> Run {
        if dry_run { Run::Rehearse } else { Run::Apply }
    }
}

/// A step inside a run that changes something on its way (a failed stack deleted before a
/// deploy creates it again): shown, asked, and applied; its result goes on into the run.
pub async fn confirmed<P, T, F>(
    context: &Context,
    plan: P,
    apply: impl FnOnce(P) -> F,
) -> Result<T, Failure>
where
    P: Plan,
    F: Future<Output = Result<T, Failure>>,
{
    asked(context, &plan, Run::Apply)?;
    apply(plan).await
}

/// Shows the plan and asks its question (none when rehearsing): a no is `Declined`.
fn asked(context: &Context, plan: &impl Plan, run: Run) -> Result<(), Failure> {
    let shown = plan.to_string();
    if !shown.trim().is_empty() {
        note(shown.trim_end());
    }
    let yes = context.global.yes;
    let ask = match run {
        Run::Rehearse => Ask::Nothing,
        Run::Apply | Run::PlanOnly => plan.ask(),
    };
    match ask {
        Ask::Nothing => {}
        Ask::YesNo(question) => {
            if !confirm(&question, yes)? {
                return Err(Failure::new(FailureKind::Declined, plan.declined()));
            }
        }
        Ask::Name { prompt, stage } => confirm_by_name(&prompt, &stage, &plan.declined(), yes)?,
    }
    Ok(())
}

/// Show → (a dry run ends here, with the plan on stdout) → confirm → apply → report.
pub async fn carry_out<P, R, F>(
    context: &Context,
    plan: P,
    run: Run,
    apply: impl FnOnce(P) -> F,
) -> Result<()>
where
    P: Plan,
    R: Outcome,
    F: Future<Output = Result<R, Failure>>,
{
    if run == Run::PlanOnly {
        print_report(&plan, context.global.output)?;
        return Ok(());
    }
    asked(context, &plan, run)?;
    let report = apply(plan).await?;
    print_report(&report, context.global.output)?;
    match report.failure() {
        Some(failure) => Err(failure.into()),
        None => Ok(()),
    }
}
