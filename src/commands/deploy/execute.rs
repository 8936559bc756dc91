//! Executing a reviewed change set and following it to its end.

use std::time::Instant;

use anyhow::Result;

use super::change_set::discard;
use super::connect::Connected;
use super::follow::ShiftFollow;
use super::mode::Mode;
use super::report::{DeployPlan, DeployReport, is_declined, stamped};
use super::watch::{WatchOptions, eprint_styled, interrupted_watch, watch};
use crate::aws::Aws;
use crate::aws::codedeploy::Deploys;
use crate::aws::kept::reencrypt_rings;
use crate::cli::DeployArgs;
use crate::clock::now_millis;
use crate::commands::context::Context;
use crate::commands::flow::{Run, carry_out};
use crate::decide::deploy::first_deploy_steps;
use crate::decide::lifecycle::plan;
use crate::decide::lifecycle::preflight::CliTarget;
use crate::failure::{Failure, FailureKind};
use crate::ui::output::warn;
use crate::ui::terminal::{Interrupted, unless_interrupted};
use mgrid_contract::StageName;

/// The last step: the reviewed change set confirmed (the flow's question, `--yes`), executed,
/// and followed to its end (the stack's events, the processor's traffic shift); then
/// termination protection, the outputs, the kept rings settled and, after a first create, the
/// steps that make the stage take webhooks. A declined change set is deleted.
pub(super) async fn execute(
    context: &Context,
    mode: Mode<'_>,
    connected: &Connected,
    ready: ReadyToExecute<'_>,
    started: Instant,
) -> Result<()> {
    let ReadyToExecute {
        args,
        change_set,
        changes: count,
        mut report,
    } = ready;
    let Connected {
        prepared,
        aws,
        identity,
        stacks,
        stack_name,
        stage,
        existing,
        operation,
        ..
    } = connected;
    let settings = &prepared.settings;
    let create = operation.create;
    let makes_the_stack = operation.makes_the_stack;
    let verbose = context.global.verbose > 0;
    let watch_limit = mode.watch_limit();
    let plan = DeployPlan {
        stage: stage.clone(),
        account: identity.account.clone(),
        changes: count,
        skip_shift_on_protected: args.skip_shift && settings.protected.value,
    };
    let change_set = &change_set;
    let followed = carry_out(context, plan, Run::Apply, |_| async move {
        let executed_at = now_millis();
        unless_interrupted(stacks.execute_change_set(stack_name, change_set))
            .await
            .map_err(|Interrupted| {
                Failure::new(
                    FailureKind::Interrupted,
                    format!("stopped while CloudFormation was asked to execute {change_set}: it may have started, and Ctrl-C does not stop it"),
                )
                .next(format!("`mgrid status --stage {stage}` shows whether {stack_name} is deploying"))
            })??;
        let options = WatchOptions::for_stderr(watch_limit);
        let mut to_stderr = eprint_styled;
        let deploys = Deploys::new(aws, stage);
        let mut follow = (!create).then(|| ShiftFollow::new(&deploys, executed_at));
        let watching = watch(stacks, stack_name, stage, executed_at, count, started, &options, follow.as_mut(), &mut to_stderr);
        let watched = unless_interrupted(watching)
            .await
            .map_err(|Interrupted| interrupted_watch(create, stack_name, stage))??;
        report.status = Some(watched.final_status.clone());
        report.shift = watched.shift.clone();
        if !plan::succeeded(&watched.final_status) {
            report.failures = plan::failure_summary(&watched.events, stack_name);
            let what = match watched.shift.as_ref().and_then(|s| s.stopped.as_ref()) {
                Some(stopped) if !stopped.alarms.is_empty() => format!(
                    "the deploy of {stage} was rolled back: {} went into ALARM while the new processor version had traffic; all traffic is back on the previous version and {stack_name} is {}",
                    stopped.alarms.join(", "),
                    watched.final_status
                ),
                Some(_) => format!(
                    "the deploy of {stage} was rolled back: the processor's traffic shift stopped; {stack_name} is {}",
                    watched.final_status
                ),
                None => format!("the deploy of {stage} failed: {stack_name} is {}", watched.final_status),
            };
            report.failure = Some(
                Failure::new(FailureKind::Failed, what)
                    .next(format!("fix the first cause above, then deploy again (`mgrid status --stage {stage}` shows the stack)")),
            );
            return Ok(stamped(report, aws, started, verbose));
        }
        // All traffic is on the new version; whether its canary judged it is the last word.
        if let Some(why) = watched.shift.as_ref().and_then(|s| s.not_judged()) {
            report.failure = Some(
                Failure::new(FailureKind::NotJudged, format!("{stage} is deployed, but {why}"))
                    .next(format!(
                        "watch the new version under real traffic (`mgrid metrics tail --stage {stage}`; its guard keeps watching and notifies the ops topic); next time, a shift that gives it a larger share: `mgrid deploy --stage {stage} --strategy linear10-3m`"
                    )),
            );
        }
        let protection_on = existing.as_ref().is_some_and(|s| s.termination_protection);
        if settings.protected.value && !protection_on {
            // The deploy itself succeeded; a refusal here must not turn it into a failure.
            if let Err(failure) = stacks.set_termination_protection(stack_name, true).await {
                warn(&format!(
                    "{stage} is protected but termination protection could not be turned on: {}",
                    failure.what
                ));
            }
        }
        let described = stacks.describe(stack_name).await?;
        let outputs = described.map(|s| s.outputs).unwrap_or_default();
        report.outputs = crate::aws::stack::outputs(outputs, aws, stage).await?;
        settle_rings(aws, &settings.stage, &mut report).await;
        if create {
            let mut steps = first_deploy_steps(
                stage,
                &CliTarget {
                    region: aws.region.clone(),
                    profile: settings.profile.as_ref().map(|p| p.value.clone()),
                },
            );
            if !report.re_encrypted_rings.is_empty() {
                steps.push_str(
                    "\n(the kept key rings were re-encrypted, not replaced: the keys registered before are still accepted \
                     wherever the webhook URL stayed the same, as with a custom domain; step 2 makes new ones for new URLs, \
                     and the old ones stay accepted for the overlap)",
                );
            }
            report.next = Some(steps);
        }
        Ok(stamped(report, aws, started, verbose))
    })
    .await;
    if followed.as_ref().is_err_and(is_declined) {
        discard(stacks, stack_name, change_set, makes_the_stack).await?;
    }
    followed
}

/// Every key ring of the stage under the stage's key, after a deploy: rings kept from an earlier,
/// destroyed deploy are re-encrypted. One that cannot be is the deploy's failure: the stage runs,
/// but cannot read its keys, so the authorizer would deny every webhook.
pub(super) async fn settle_rings(aws: &Aws, stage: &StageName, report: &mut DeployReport) {
    match reencrypt_rings(aws, stage).await {
        Ok(rings) => report.re_encrypted_rings = rings,
        Err(failure) => report.failure = Some(failure),
    }
}

/// A change set shown and checked: what executing it needs.
pub(super) struct ReadyToExecute<'a> {
    pub(super) args: &'a DeployArgs,
    pub(super) change_set: String,
    /// How many resource changes it makes (the question names them).
    pub(super) changes: usize,
    pub(super) report: DeployReport,
}
