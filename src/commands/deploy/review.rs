//! The third step: the change set reviewed. An empty one is done (an earlier deploy's kept rings
//! settled); a failed one is deleted with CloudFormation's reason; a ready one is shown (data in
//! danger in red), refused on a protected stage when it replaces data without
//! --allow-replacement, and, unless it is a diff or kept for later, checked against the guard
//! alarms before anything is asked.

use std::time::Instant;

use super::change_set::{Made, discard};
use super::connect::Connected;
use super::execute::{ReadyToExecute, settle_rings};
use super::mode::Mode;
use super::report::{DeployReport, StackAction, show_table, stamped};
use crate::aws::Aws;
use crate::aws::stack::ChangeSetOutcome;
use crate::commands::context::Context;
use crate::decide::deploy::{
    guard_alarms, guards_firing, old_version_guards, publishes_processor_version,
};
use crate::decide::lifecycle::{plan, render};
use crate::decide::stage::ParameterValue;
use crate::failure::{Failure, FailureKind};
use crate::ui::output::{note, warn};

/// Where a reviewed change set goes from here.
pub(super) enum Reviewed<'a> {
    /// Nothing to execute: a diff, an unchanged stack, or a change set kept for later.
    Finished(DeployReport),
    /// Shown and checked; execute it once it is confirmed.
    Ready(ReadyToExecute<'a>),
}

pub(super) async fn review<'a>(
    context: &Context,
    mode: Mode<'a>,
    connected: &Connected,
    made: Made,
    started: Instant,
) -> Result<Reviewed<'a>, Failure> {
    let Made {
        name: change_set,
        outcome,
        mut report,
    } = made;
    let Connected {
        prepared,
        aws,
        stacks,
        stack_name,
        stage,
        operation,
        ..
    } = connected;
    let settings = &prepared.settings;
    let makes_the_stack = operation.makes_the_stack;
    let verbose = context.global.verbose > 0;
    let changes = match outcome {
        ChangeSetOutcome::Empty => {
            stacks.delete_change_set(stack_name, &change_set).await?;
            report.action = StackAction::None;
            report.change_set = None;
            // An earlier deploy that could not re-encrypt a kept ring is finished here.
            if mode.deploys() {
                settle_rings(aws, &settings.stage, &mut report).await;
            }
            return Ok(Reviewed::Finished(stamped(report, aws, started, verbose)));
        }
        ChangeSetOutcome::Failed(reason) => {
            if let Err(failure) = discard(stacks, stack_name, &change_set, makes_the_stack).await {
                warn(&failure.what);
            }
            return Err(Failure::new(
                FailureKind::Failed,
                format!("CloudFormation could not make a change set: {reason}"),
            )
            .next("nothing was changed; fix what it names and deploy again"));
        }
        ChangeSetOutcome::Ready(changes) => changes,
    };
    let review = plan::review_changes(changes, settings.protected.value);
    show_table(
        context.global.output,
        &render::change_table(&review, crate::text::table_width()),
    )?;
    if !report.parameter_changes.is_empty() {
        show_table(
            context.global.output,
            &render::parameter_table(&report.parameter_changes),
        )?;
    }
    report.changes = Some(review.clone());
    if let Some(kept) = &report.kept {
        note(&kept.plan(stage));
    }

    let allow_replacement = match mode {
        Mode::Deploy(args) => args.allow_replacement,
        // A diff shows what a deploy would refuse; it refuses nothing itself.
        Mode::Diff(_) => true,
    };
    if review.needs_allow_replacement && !allow_replacement {
        discard(stacks, stack_name, &change_set, makes_the_stack).await?;
        return Err(Failure::new(
            FailureKind::Declined,
            format!("{stage} is protected and this change would replace or remove resources that hold data; nothing was changed"),
        )
        .next("if that is really meant, deploy again with --allow-replacement"));
    }
    let args = match mode {
        Mode::Diff(_) => {
            discard(stacks, stack_name, &change_set, makes_the_stack).await?;
            report.change_set = None;
            return Ok(Reviewed::Finished(stamped(report, aws, started, verbose)));
        }
        Mode::Deploy(args) => args,
    };
    if args.no_execute {
        report.next = Some(format!(
            "the change set {change_set} is ready and was not executed; execute it (reviewed and followed) with\n  \
             mgrid deploy --stage {stage} --execute {change_set}\n\
             or delete it with\n  aws cloudformation delete-change-set --stack-name {stack_name} --change-set-name {change_set} --region {}",
            aws.region
        ));
        return Ok(Reviewed::Finished(stamped(report, aws, started, verbose)));
    }
    if !operation.create
        && !args.skip_shift
        && publishes_processor_version(&review)
        && let Err(failure) = check_guards(aws, stage, &prepared.parameters).await
    {
        discard(stacks, stack_name, &change_set, makes_the_stack).await?;
        return Err(failure);
    }
    if !operation.create && !args.skip_shift && publishes_processor_version(&review) {
        canary_outlook(aws, stage, &prepared.parameters).await;
    }
    Ok(Reviewed::Ready(ReadyToExecute {
        args,
        change_set,
        changes: review.changes.len(),
        report,
    }))
}

/// Says, before the shift, what traffic the stage has had and whether the shift's canary can
/// judge the new version with it (when its failure guard watches the shift). A reading that
/// fails is said and the deploy goes on.
async fn canary_outlook(aws: &Aws, stage: &str, parameters: &[ParameterValue]) {
    use crate::decide::metrics::{Query, TimeRange};
    use crate::decide::shift::{DeployStrategy, GuardAlarm};
    use mgrid_pipeline::metrics::{DUPLICATE_WEBHOOKS, NAMESPACE, SUCCESSFUL_TRANSACTIONS};
    let guarded = guard_alarms(stage, parameters)
        .iter()
        .any(|g| GuardAlarm::is_version_guard(stage, g));
    let strategy = parameters
        .iter()
        .find(|p| p.name == "DeployStrategy")
        .and_then(|p| p.value.as_deref())
        .and_then(DeployStrategy::from_codedeploy_name);
    let (true, Some(strategy)) = (guarded, strategy) else {
        return;
    };
    const MINUTE: i64 = 60_000;
    let end = crate::clock::now_millis() / MINUTE * MINUTE;
    let range = TimeRange {
        start: end - 60 * MINUTE,
        end,
        period_ms: MINUTE,
    };
    let query = |id: &str, metric| Query {
        id: id.to_owned(),
        namespace: NAMESPACE,
        metric,
        dimensions: vec![("Stage", stage.to_owned())],
        stat: "Sum",
        period: 60,
    };
    let queries = [
        query("recorded", SUCCESSFUL_TRANSACTIONS),
        query("duplicates", DUPLICATE_WEBHOOKS),
    ];
    match crate::aws::metrics::metric_data(&aws.cloudwatch(), &queries, &range).await {
        Ok(answers) => {
            // A minute with no datapoint handled nothing.
            let mut minutes = vec![0.0; range.points()];
            for answer in &answers {
                for (at, value) in answer.timestamps.iter().zip(&answer.values) {
                    let index = ((at - range.start) / MINUTE) as usize;
                    if let Some(minute) = minutes.get_mut(index) {
                        *minute += value;
                    }
                }
            }
            if let Some(outlook) = crate::decide::deploy::canary_outlook(&minutes, strategy) {
                crate::ui::output::note(&format!("canary: {outlook}"));
            }
        }
        Err(failure) => warn(&format!(
            "could not read the stage's traffic to say whether the canary can judge the new version ({}); deploying anyway",
            failure.into_failure().what
        )),
    }
}

/// A guard alarm already in ALARM would stop the shift at once and roll the deploy back: the
/// deploy is refused before anything runs, with the ways out.
pub(super) async fn check_guards(
    aws: &Aws,
    stage: &str,
    parameters: &[ParameterValue],
) -> Result<(), Failure> {
    let guards = guard_alarms(stage, parameters);
    if guards.is_empty() {
        return Ok(());
    }
    let firing = match aws
        .alarms_in_alarm(&mgrid_contract::names::resource_prefix(stage))
        .await
    {
        Ok(alarms) => alarms,
        Err(failure) => {
            warn(&format!(
                "could not read the guard alarms ({}); deploying anyway",
                failure.what
            ));
            return Ok(());
        }
    };
    let in_alarm: Vec<String> = firing.into_iter().map(|a| a.name).collect();
    if let Some(old) = old_version_guards(stage, &guards, &in_alarm) {
        crate::ui::output::note(&old);
    }
    match guards_firing(stage, &guards, &in_alarm) {
        Some(failure) => Err(failure),
        None => Ok(()),
    }
}
