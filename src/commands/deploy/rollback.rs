//! `mgrid deploy --rollback`: the processor's traffic shift in progress stopped (CodeDeploy sends
//! all traffic back to the previous version), then the stack followed as it rolls back.

use std::time::{Duration, Instant};

use anyhow::Result;

use super::connect::check_account;
use super::follow::ShiftFollow;
use super::report::{DeployReport, RollbackPlan, StackAction, stamped};
use super::watch::{WatchOptions, eprint_styled, watch};
use crate::aws::codedeploy::Deploys;
use crate::clock::now_millis;
use crate::commands::context::Context;
use crate::commands::flow::{Run, carry_out};
use crate::failure::{Failure, FailureKind};
use crate::ui::output::note;
use crate::ui::terminal::{Interrupted, unless_interrupted};

/// `mgrid deploy --rollback`: stops the processor's traffic shift in progress (CodeDeploy sends
/// all traffic back to the previous version), then follows the stack as it rolls back.
pub(super) async fn rollback(context: &Context, watch_limit: Duration) -> Result<()> {
    let started = Instant::now();
    let stage = context.deployed_stage("deploy")?.to_string();
    let settings = context.settings(context.deployed_stage("deploy")?)?;
    let aws = context.connect(&settings).await?;
    let identity = aws.account().await?;
    check_account(&settings, &identity)?;
    let deploys = Deploys::new(&aws, &stage);
    let Some(id) = deploys.current(None).await? else {
        return Err(Failure::new(
            FailureKind::NotFound,
            format!("no processor traffic shift is in progress on {stage}; nothing was changed"),
        )
        .next(format!(
            "`mgrid status --stage {stage}` shows the stack and the last shift"
        ))
        .into());
    };
    let guards = deploys.guard_alarms().await?;
    let shift = deploys.shift(&id, &guards).await?;
    note(crate::decide::shift::live_block(&shift, now_millis()).trim_end());
    let stacks = aws.stacks();
    let stack_name = settings.stack_name.clone();
    let plan = RollbackPlan {
        stage: stage.clone(),
        deployment: id.clone(),
        previous: shift.from_version.clone(),
    };
    let (aws, deploys, stacks, stack_name, stage) = (&aws, &deploys, &stacks, &stack_name, &stage);
    carry_out(context, plan, Run::Apply, |_| async move {
        let stopped_at = now_millis();
        deploys.stop(&id).await?;
        let options = WatchOptions::for_stderr(watch_limit);
        let mut to_stderr = eprint_styled;
        let mut follow = ShiftFollow::new(deploys, shift.started_at.unwrap_or(stopped_at) - 1).already_started();
        let watching = watch(stacks, stack_name, stage, stopped_at, 0, started, &options, Some(&mut follow), &mut to_stderr);
        let watched = unless_interrupted(watching).await.map_err(|Interrupted| {
            Failure::new(FailureKind::Interrupted, format!("stopped watching; the shift was stopped and {stack_name} keeps rolling back"))
                .next(format!("watch it with `mgrid status --stage {stage}`"))
        })??;
        let described = stacks.describe(stack_name).await?;
        let mut report = DeployReport {
            stage: stage.clone(),
            stack_name: stack_name.clone(),
            account: identity.account.clone(),
            region: aws.region.clone(),
            action: StackAction::Update,
            change_set: None,
            changes: None,
            parameter_changes: Vec::new(),
            status: Some(watched.final_status.clone()),
            outputs: described.map(|s| s.outputs).unwrap_or_default(),
            failures: Vec::new(),
            shift: watched.shift.clone(),
            kept: None,
            re_encrypted_rings: Vec::new(),
            api_calls: 0,
            change_set_ready_ms: None,
            elapsed_ms: 0,
            next: None,
            failure: None,
        };
        let back = watched.shift.as_ref().is_some_and(|s| s.status == crate::decide::shift::ShiftStatus::RolledBack);
        if !back {
            report.failure = Some(
                Failure::new(
                    FailureKind::Failed,
                    format!("the shift was stopped, but CodeDeploy does not report it rolled back; {stack_name} is {}", watched.final_status),
                )
                .next(format!("look at deployment {id} in the CodeDeploy console, and `mgrid status --stage {stage}`")),
            );
        }
        Ok(stamped(report, aws, started, context.global.verbose > 0))
    })
    .await
}
