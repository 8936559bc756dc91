//! The steps of a verb that changes something, in one place: show the plan (all that a dry run
//! does), confirm it, apply it, report what happened, and then fail if the outcome says so.
//! Commands fetch and decide; this runs the rest, with one way to ask.

use std::fmt;
use std::future::Future;

use anyhow::Result;
use serde::Serialize;

use crate::commands::Context;
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

/// Show → (a dry run ends here, with the plan on stdout) → confirm → apply → report.
pub async fn carry_out<P, R, F>(
    context: &Context,
    plan: P,
    dry_run: bool,
    apply: impl FnOnce(P) -> F,
) -> Result<()>
where
    P: Plan,
    R: Outcome,
    F: Future<Output = Result<R, Failure>>,
{
    if dry_run {
        print_report(&plan, context.global.output)?;
        return Ok(());
    }
    let shown = plan.to_string();
    if !shown.trim().is_empty() {
        note(shown.trim_end());
    }
    let yes = context.global.yes;
    match plan.ask() {
        Ask::Nothing => {}
        Ask::YesNo(question) => {
            if !confirm(&question, yes)? {
                return Err(Failure::new(FailureKind::Declined, plan.declined()).into());
            }
        }
        Ask::Name { prompt, stage } => confirm_by_name(&prompt, &stage, &plan.declined(), yes)?,
    }
    let report = apply(plan).await?;
    print_report(&report, context.global.output)?;
    match report.failure() {
        Some(failure) => Err(failure.into()),
        None => Ok(()),
    }
}
