//! What a deploy, a diff or a rollback asks before it changes anything, and what it reports: for
//! people (the change and parameter tables, outputs, the first cause of a failure) and for scripts.

use std::time::Instant;

use anyhow::Result;
use serde::Serialize;

use super::mode::Mode;
use crate::aws::Aws;
use crate::aws::kept::Kept;
use crate::commands::context::Context;
use crate::commands::flow::{Ask, Outcome, Plan};
use crate::decide::lifecycle::model::StackOutput;
use crate::decide::lifecycle::plan::{self, ChangeReview, FailedResource, ParameterChange};
use crate::decide::lifecycle::render;
use crate::decide::shift::Shift;
use crate::failure::{Failure, FailureKind};
use crate::text::GOOD;
use crate::ui::output::{OutputFormat, note, print_report, write_stdout};
use crate::ui::terminal::verbose_calls;

/// What the change set does to the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub enum StackAction {
    Create,
    Update,
    /// The stack already is what this mgrid would deploy.
    #[default]
    None,
}

/// What a deploy (or diff) did, for people and for scripts.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct DeployReport {
    pub stage: String,
    pub stack_name: String,
    pub account: String,
    pub region: String,
    pub action: StackAction,
    pub change_set: Option<String>,
    pub changes: Option<ChangeReview>,
    /// Parameters whose value changes (an update; empty for a create).
    pub parameter_changes: Vec<ParameterChange>,
    /// The final stack status, when the change set was executed.
    pub status: Option<String>,
    pub outputs: Vec<StackOutput>,
    pub failures: Vec<FailedResource>,
    /// The processor's traffic shift, when the deploy published a new version.
    pub shift: Option<Shift>,
    /// What an earlier, destroyed deploy of the stage left (found before a first create).
    pub kept: Option<Kept>,
    /// Key rings this deploy re-encrypted under the stage's key (kept from an earlier deploy).
    pub re_encrypted_rings: Vec<String>,
    pub api_calls: usize,
    /// Milliseconds from the start of the command to the change set being ready.
    pub change_set_ready_ms: Option<u128>,
    pub elapsed_ms: u128,
    #[serde(skip)]
    pub(super) next: Option<String>,
    /// Why a deploy that ran failed (reported first, then the command fails with it).
    #[serde(skip)]
    pub(super) failure: Option<Failure>,
}

impl std::fmt::Display for DeployReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.action, &self.status) {
            (StackAction::None, _) => writeln!(
                f,
                "{GOOD}no changes:{GOOD:#} {} already is what this mgrid would deploy",
                self.stack_name
            )?,
            (_, Some(status)) if plan::succeeded(status) => {
                writeln!(
                    f,
                    "{GOOD}{status}:{GOOD:#} {} in {}",
                    self.stack_name,
                    render::elapsed((self.elapsed_ms / 1000) as u64)
                )?;
                if !self.outputs.is_empty() {
                    write!(f, "\n{}", render::outputs_table(&self.outputs))?;
                }
            }
            (_, Some(status)) => {
                writeln!(f, "{status}: {}", self.stack_name)?;
                write!(f, "{}", render::failure_report(&self.failures))?;
            }
            (_, None) => {}
        }
        if let Some(shift) = &self.shift {
            write!(
                f,
                "\n{}",
                crate::decide::shift::live_block(shift, shift.read_at)
            )?;
        }
        if !self.re_encrypted_rings.is_empty() {
            writeln!(
                f,
                "re-encrypted {} key ring(s) under the stage key (kept from an earlier deploy; their keys are unchanged): {}",
                self.re_encrypted_rings.len(),
                self.re_encrypted_rings.join(", ")
            )?;
        }
        if let Some(next) = &self.next {
            writeln!(f, "{next}")?;
        }
        Ok(())
    }
}

impl Outcome for DeployReport {
    fn failure(&self) -> Option<Failure> {
        self.failure.clone()
    }
}

/// What `deploy --rollback` will do.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RollbackPlan {
    pub stage: String,
    pub deployment: String,
    pub previous: Option<String>,
}

impl std::fmt::Display for RollbackPlan {
    fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        Ok(())
    }
}

impl Plan for RollbackPlan {
    fn ask(&self) -> Ask {
        Ask::YesNo(format!(
            "Stop deployment {} on {} and return all traffic to {}?",
            self.deployment,
            self.stage,
            self.previous
                .as_ref()
                .map(|v| format!("v{v}"))
                .unwrap_or_else(|| "the previous version".to_owned())
        ))
    }

    fn declined(&self) -> String {
        "not stopped; the shift goes on".into()
    }
}

/// A change set ready to execute: the question before it (its table is already shown).
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct DeployPlan {
    pub stage: String,
    pub account: String,
    pub changes: usize,
    /// --skip-shift on a protected stage: the stage's name is asked for.
    pub skip_shift_on_protected: bool,
}

impl std::fmt::Display for DeployPlan {
    fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        Ok(())
    }
}

impl Plan for DeployPlan {
    fn ask(&self) -> Ask {
        if self.skip_shift_on_protected {
            return Ask::Name {
                prompt: format!(
                    "Deploy these {} changes to protected {} ({}) with all traffic at once and no guard alarms? Type the stage name",
                    self.changes, self.stage, self.account
                ),
                stage: self.stage.clone(),
            };
        }
        Ask::YesNo(format!(
            "Deploy these {} changes to {} ({})?",
            self.changes, self.stage, self.account
        ))
    }

    fn declined(&self) -> String {
        "not deployed; the change set was deleted and nothing was changed".into()
    }
}

pub(super) fn is_declined(error: &anyhow::Error) -> bool {
    error
        .downcast_ref::<Failure>()
        .is_some_and(|failure| failure.kind == FailureKind::Declined)
}

/// Prints what a diff, an unchanged stack or a change set left for later comes to; a diff with
/// --exit-code then fails when there is something to deploy.
pub(super) fn printed(context: &Context, mode: Mode<'_>, report: DeployReport) -> Result<()> {
    print_report(&report, context.global.output)?;
    if let Some(failure) = report.failure {
        return Err(failure.into());
    }
    // A change set with no resource changes still changes the stack (parameters, tags).
    if let Mode::Diff(args) = mode
        && args.exit_code
        && report.action != StackAction::None
    {
        return Err(Failure::new(
            FailureKind::Failed,
            format!("{} has changes to deploy", report.stack_name),
        )
        .into());
    }
    Ok(())
}

/// The report with the run's cost: AWS calls (listed with -v) and the time it took.
pub(super) fn stamped(
    mut report: DeployReport,
    aws: &Aws,
    started: Instant,
    verbose: bool,
) -> DeployReport {
    report.api_calls = aws.calls();
    report.elapsed_ms = started.elapsed().as_millis();
    verbose_calls(verbose, aws.calls());
    report
}

/// The change table: part of the result in text mode, progress beside the JSON otherwise.
pub(super) fn show_table(output: OutputFormat, text: &str) -> Result<(), Failure> {
    match output {
        OutputFormat::Text => {
            write_stdout(text).map_err(|e| Failure::new(FailureKind::Failed, e.to_string()))
        }
        OutputFormat::Json => {
            note(text);
            Ok(())
        }
    }
}
