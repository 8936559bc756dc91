//! The first step of a deploy, a diff or a rollback: the stage reached. The account must be the
//! stage's and hold what the stage needs; the stack's state says create, update or refuse (a
//! failed first create is deleted first, asked); a first create looks for what an earlier,
//! destroyed deploy kept.

use serde::Serialize;

use super::mode::Mode;
use super::prepare::{Prepared, prepare};
use crate::aws::kept::{Kept, kept_from_earlier};
use crate::aws::stack::Stacks;
use crate::aws::{Aws, Identity};
use crate::commands::context::Context;
use crate::commands::flow::{Ask, Plan, confirmed};
use crate::decide::deploy::stage_needs;
use crate::decide::lifecycle::model::StackState;
use crate::decide::lifecycle::plan::{self, StackPlan};
use crate::decide::lifecycle::preflight::{self, CliTarget, Readiness};
use crate::decide::stage::StageSettings;
use crate::failure::{Failure, FailureKind};
use crate::ui::output::{note, warn};
use crate::ui::terminal::{Interrupted, unless_interrupted};

/// A stage reached: its settings and parameters, the AWS connection and whose credentials it
/// holds, and its stack as it is, with what this run does to it.
pub(super) struct Connected {
    pub(super) prepared: Prepared,
    pub(super) aws: Aws,
    pub(super) identity: Identity,
    pub(super) stacks: Stacks,
    pub(super) stack_name: String,
    pub(super) stage: String,
    pub(super) existing: Option<StackState>,
    pub(super) operation: StackOperation,
    /// What an earlier, destroyed deploy kept, found before a first create.
    pub(super) kept: Option<Kept>,
}

/// Prepares the run offline, then reaches the stage: the account is the stage's (and, for a
/// deploy, ready for it), and the stack's state decides whether it is created or updated.
pub(super) async fn connect(context: &Context, mode: Mode<'_>) -> Result<Connected, Failure> {
    let prepared = prepare(context, mode)?;
    let settings = &prepared.settings;
    let stage = settings.stage.to_string();
    let aws = context.connect(settings).await?;
    let identity = aws.account().await?;
    check_account(settings, &identity)?;
    if mode.deploys() {
        check_account_readiness(&aws, &prepared).await?;
    }
    let stacks = aws.stacks();
    let stack_name = settings.stack_name.clone();
    let existing = stacks.describe(&stack_name).await?;
    let operation = stack_operation(
        context,
        mode,
        &stacks,
        &stack_name,
        existing.as_ref(),
        &stage,
    )
    .await?;
    let kept = if operation.create {
        kept_resources(&aws, settings, &stage).await
    } else {
        None
    };
    Ok(Connected {
        prepared,
        aws,
        identity,
        stacks,
        stack_name,
        stage,
        existing,
        operation,
        kept,
    })
}

pub(super) fn check_account(settings: &StageSettings, identity: &Identity) -> Result<(), Failure> {
    if let Some(expected) = &settings.account_id
        && expected.value != identity.account
    {
        return Err(Failure::new(
            FailureKind::Credentials,
            format!(
                "stage {} belongs to account {} but these credentials are for account {} ({}); nothing was written",
                settings.stage, expected.value, identity.account, identity.arn
            ),
        )
        .next("use credentials for the stage's account (--profile / AWS_PROFILE), or fix account_id in mgrid.toml"));
    }
    Ok(())
}

/// Before anything is written: does the account hold what the stage needs? Blockers stop the
/// deploy with what to run; a check that could not be made is a warning.
pub(super) async fn check_account_readiness(aws: &Aws, prepared: &Prepared) -> Result<(), Failure> {
    let readings = aws.account_readings().await;
    let target = CliTarget {
        region: aws.region.clone(),
        profile: prepared.settings.profile.as_ref().map(|p| p.value.clone()),
    };
    let (mut what, mut next) = (Vec::new(), Vec::new());
    for finding in preflight::judge(&readings, stage_needs(&prepared.parameters), &target) {
        match finding {
            Readiness::Unchecked { what } => {
                warn(&format!("could not check {what}; deploying anyway"))
            }
            Readiness::Blocker {
                what: blocker,
                next: fix,
            } => {
                what.push(blocker);
                next.push(fix);
            }
        }
    }
    if what.is_empty() {
        return Ok(());
    }
    Err(Failure::new(
        FailureKind::NotFound,
        format!(
            "the account is not ready for {}: {}; nothing was written",
            prepared.settings.stage,
            what.join("; and ")
        ),
    )
    .next(next.join("\n")))
}

/// What this run does to the stack: create it or update it, and whether it makes the stack (none
/// was there, or a failed create was deleted first): only then does discarding its change set
/// delete the stack too.
pub(super) struct StackOperation {
    pub(super) create: bool,
    pub(super) makes_the_stack: bool,
}

/// Decides the stack operation from the stack as it is: a stack in a state that cannot be
/// changed is refused; one whose first create failed is deleted first (asked); an empty
/// REVIEW_IN_PROGRESS stack is an earlier `--no-execute` run's, perhaps a colleague's: never
/// ours to delete.
pub(super) async fn stack_operation(
    context: &Context,
    mode: Mode<'_>,
    stacks: &Stacks,
    stack_name: &str,
    existing: Option<&StackState>,
    stage: &str,
) -> Result<StackOperation, Failure> {
    let execute = mode.deploys();
    let mut makes_the_stack = existing.is_none();
    let mut create = match plan::stack_plan(existing, stage) {
        StackPlan::Create => true,
        StackPlan::Update => false,
        StackPlan::Refuse {
            status,
            reason,
            next,
        } => {
            return Err(Failure::new(
                FailureKind::Conflict,
                format!("{stack_name} is {status}: {reason}"),
            )
            .next(next));
        }
        StackPlan::RecreateAfterFailedCreate { status } => {
            if !execute {
                return Err(Failure::new(
                    FailureKind::Conflict,
                    format!("{stack_name} is {status}: its first create failed, so there is nothing to diff against"),
                )
                .next(format!("`mgrid deploy --stage {stage}` offers to delete it and create it again")));
            }
            note(&format!(
                "{stack_name} is {status}: its first create failed and it holds nothing; it must be deleted before it can be created again"
            ));
            let plan = RecreatePlan {
                stack_name: stack_name.to_owned(),
            };
            confirmed(context, plan, |_| async {
                stacks.delete_stack(stack_name).await?;
                let deleted =
                    crate::aws::stack::wait_until_deleted(stacks, stack_name, mode.watch_limit());
                unless_interrupted(deleted).await.map_err(|Interrupted| {
                    Failure::new(
                        FailureKind::Interrupted,
                        format!("stopped watching; CloudFormation keeps deleting {stack_name}, and nothing was created"),
                    )
                    .next(format!("`mgrid stages` shows when it is gone; then `mgrid deploy --stage {stage}` creates it"))
                })?
            })
            .await?;
            makes_the_stack = true;
            true
        }
    };
    if existing.is_some_and(|s| s.status == "REVIEW_IN_PROGRESS") {
        create = true;
        note(&format!(
            "{stack_name} is REVIEW_IN_PROGRESS: a first deploy's change set is waiting there (an earlier `--no-execute`, perhaps someone else's); this run makes its own beside it and leaves the stack and its change sets alone"
        ));
    }

    Ok(StackOperation {
        create,
        makes_the_stack,
    })
}

/// Deleting a stack whose first create failed (it holds nothing), so it can be created again.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RecreatePlan {
    stack_name: String,
}

impl std::fmt::Display for RecreatePlan {
    fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        Ok(())
    }
}

impl Plan for RecreatePlan {
    fn ask(&self) -> Ask {
        Ask::YesNo(format!("Delete {} and create it again?", self.stack_name))
    }

    fn declined(&self) -> String {
        "not deleted; nothing was changed".into()
    }
}

/// What an earlier, destroyed deploy of the stage kept, which a first create may find.
pub(super) async fn kept_resources(
    aws: &Aws,
    settings: &StageSettings,
    stage: &str,
) -> Option<Kept> {
    match kept_from_earlier(aws, &settings.stage, &settings.stack_name).await {
        Ok(kept) => Some(kept).filter(|k| !k.is_empty()),
        Err(failure) => {
            warn(&format!(
                "could not check what an earlier deploy of {stage} left: {}; \
                 the deploy still re-encrypts any key ring under the new stage key",
                failure.what
            ));
            None
        }
    }
}
