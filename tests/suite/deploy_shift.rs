//! A deploy's follow-up of the processor's traffic shift, against recorded responses shaped like
//! CodeDeploy's, CloudWatch's and CloudFormation's own (aws-smithy-mocks): the AWS emulator
//! does not run CodeDeploy (its CloudFormation skips the application, the deployment group and
//! the alias update policy). A shift that completes, one rolled back by a guard alarm (the
//! report names the alarm and what the new version did), one stopped by `deploy --rollback`,
//! and CodeDeploy throttling while it is followed.

use crate::support::stack_events;
use stack_events::{plain, quick};

use std::time::{Duration, Instant};

use aws_sdk_cloudformation::operation::describe_stack_events::DescribeStackEventsOutput;
use aws_sdk_cloudformation::operation::describe_stacks::DescribeStacksOutput;
use aws_sdk_cloudformation::types::StackEvent;
use aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsOutput;
use aws_sdk_cloudwatch::operation::get_metric_data::GetMetricDataOutput;
use aws_sdk_cloudwatch::types::{MetricAlarm, MetricDataResult, StateValue, StatusCode};
use aws_sdk_codedeploy::config::retry::RetryConfig;
use aws_sdk_codedeploy::error::ErrorMetadata;
use aws_sdk_codedeploy::operation::get_deployment::{GetDeploymentError, GetDeploymentOutput};
use aws_sdk_codedeploy::operation::get_deployment_group::GetDeploymentGroupOutput;
use aws_sdk_codedeploy::operation::get_deployment_target::GetDeploymentTargetOutput;
use aws_sdk_codedeploy::operation::list_deployment_targets::ListDeploymentTargetsOutput;
use aws_sdk_codedeploy::operation::list_deployments::ListDeploymentsOutput;
use aws_sdk_codedeploy::operation::stop_deployment::StopDeploymentOutput;
use aws_sdk_codedeploy::primitives::DateTime;
use aws_sdk_codedeploy::types::{
    Alarm, AlarmConfiguration, AutoRollbackConfiguration, AutoRollbackEvent, DeploymentGroupInfo,
    DeploymentInfo, DeploymentStatus, DeploymentTarget, DeploymentTargetType, ErrorCode,
    ErrorInformation, LambdaFunctionInfo, LambdaTarget, LifecycleEvent, LifecycleEventStatus,
    RollbackInfo, StopStatus, TargetStatus,
};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use mgrid::aws::codedeploy::Deploys;
use mgrid::aws::stack::Stacks;
use mgrid::commands::deploy::follow::ShiftFollow;
use mgrid::commands::deploy::watch::{WatchOptions, Watched, watch};
use mgrid::decide::shift::ShiftStatus;

/// 2026-11-30T09:00:00Z: the deploy executes its change set.
pub(crate) const T0: i64 = 1_795_942_800;
pub(crate) const ID: &str = "d-7XH3KQ2PA";
const TARGET: &str = "marketgrid-prod-processor:live";
const GUARDS: [&str; 3] = [
    "marketgrid-prod-processor-errors",
    "marketgrid-prod-dlq-not-empty",
    "marketgrid-prod-api-5xx",
];

pub(crate) fn stack(status: &str) -> DescribeStacksOutput {
    stack_events::stack(status, T0 - 86_400)
}

pub(crate) fn event(
    n: i64,
    id: &str,
    kind: &str,
    status: &str,
    reason: Option<&str>,
) -> StackEvent {
    stack_events::event(T0, n, id, kind, status, reason)
}

/// The update's events as CloudFormation lists them (newest first): the new version, then the
/// alias handed to CodeDeploy, then `ending`.
pub(crate) fn events(ending: &[StackEvent]) -> DescribeStackEventsOutput {
    let mut all = vec![
        event(
            1,
            "marketgrid-prod",
            "AWS::CloudFormation::Stack",
            "UPDATE_IN_PROGRESS",
            Some("User Initiated"),
        ),
        event(
            2,
            "ProcessorVersion",
            "AWS::Lambda::Version",
            "CREATE_COMPLETE",
            None,
        ),
        event(
            3,
            "ProcessorAlias",
            "AWS::Lambda::Alias",
            "UPDATE_IN_PROGRESS",
            None,
        ),
    ];
    all.extend_from_slice(ending);
    all.reverse();
    DescribeStackEventsOutput::builder()
        .set_stack_events(Some(all))
        .build()
}

pub(crate) fn statuses(sequence: &[&'static str]) -> Rule {
    let mut rule = mock!(aws_sdk_cloudformation::Client::describe_stacks).sequence();
    for status in sequence.iter().copied() {
        rule = rule.output(move || stack(status));
    }
    rule.build()
}

pub(crate) fn listed() -> Rule {
    mock!(aws_sdk_codedeploy::Client::list_deployments)
        .match_requests(|r| {
            r.application_name() == Some("marketgrid-prod")
                && r.deployment_group_name() == Some("marketgrid-prod-processor")
        })
        .then_output(|| ListDeploymentsOutput::builder().deployments(ID).build())
}

fn group() -> Rule {
    group_of(&GUARDS)
}

/// GetDeploymentGroup: the group watches `guards`.
pub(crate) fn group_of(guards: &'static [&'static str]) -> Rule {
    mock!(aws_sdk_codedeploy::Client::get_deployment_group).then_output(move || {
        let mut alarms = AlarmConfiguration::builder()
            .enabled(true)
            .ignore_poll_alarm_failure(false);
        for name in guards {
            alarms = alarms.alarms(Alarm::builder().name(*name).build());
        }
        GetDeploymentGroupOutput::builder()
            .deployment_group_info(
                DeploymentGroupInfo::builder()
                    .application_name("marketgrid-prod")
                    .deployment_group_name("marketgrid-prod-processor")
                    .deployment_config_name("CodeDeployDefault.LambdaCanary10Percent5Minutes")
                    .alarm_configuration(alarms.build())
                    .build(),
            )
            .build()
    })
}

/// GetDeployment as CodeDeploy answers for a Lambda deployment in `status`.
pub(crate) fn deployment(
    status: &str,
    error: Option<(ErrorCode, &str)>,
    ended_after: Option<i64>,
) -> GetDeploymentOutput {
    let rolled_back = error.is_some();
    GetDeploymentOutput::builder()
        .deployment_info(
            DeploymentInfo::builder()
                .application_name("marketgrid-prod")
                .deployment_group_name("marketgrid-prod-processor")
                .deployment_config_name("CodeDeployDefault.LambdaCanary10Percent5Minutes")
                .deployment_id(ID)
                .status(DeploymentStatus::from(status))
                .create_time(DateTime::from_secs(T0 + 3))
                .set_complete_time(ended_after.map(|s| DateTime::from_secs(T0 + s)))
                .compute_platform(aws_sdk_codedeploy::types::ComputePlatform::Lambda)
                .auto_rollback_configuration(
                    AutoRollbackConfiguration::builder()
                        .enabled(true)
                        .events(AutoRollbackEvent::DeploymentFailure)
                        .events(AutoRollbackEvent::DeploymentStopOnAlarm)
                        .events(AutoRollbackEvent::DeploymentStopOnRequest)
                        .build(),
                )
                .set_error_information(error.map(|(code, message)| {
                    ErrorInformation::builder()
                        .code(code)
                        .message(message)
                        .build()
                }))
                .set_rollback_info(rolled_back.then(|| {
                    RollbackInfo::builder()
                        .rollback_message("Automatic rollback triggered")
                        .build()
                }))
                .build(),
        )
        .build()
}

pub(crate) fn targets() -> Rule {
    mock!(aws_sdk_codedeploy::Client::list_deployment_targets).then_output(|| {
        ListDeploymentTargetsOutput::builder()
            .target_ids(TARGET)
            .build()
    })
}

/// GetDeploymentTarget: the alias's function versions and the new one's weight (a fraction).
fn target(weight: f64) -> GetDeploymentTargetOutput {
    GetDeploymentTargetOutput::builder()
        .deployment_target(
            DeploymentTarget::builder()
                .deployment_target_type(DeploymentTargetType::LambdaTarget)
                .lambda_target(
                    LambdaTarget::builder()
                        .deployment_id(ID)
                        .target_id(TARGET)
                        .status(TargetStatus::InProgress)
                        .lambda_function_info(
                            LambdaFunctionInfo::builder()
                                .function_name("marketgrid-prod-processor")
                                .function_alias("live")
                                .current_version("7")
                                .target_version("8")
                                .target_version_weight(weight)
                                .build(),
                        )
                        .lifecycle_events(
                            LifecycleEvent::builder()
                                .lifecycle_event_name("BeforeAllowTraffic")
                                .start_time(DateTime::from_secs(T0 + 3))
                                .end_time(DateTime::from_secs(T0 + 4))
                                .status(LifecycleEventStatus::Succeeded)
                                .build(),
                        )
                        .lifecycle_events(
                            LifecycleEvent::builder()
                                .lifecycle_event_name("AllowTraffic")
                                .start_time(DateTime::from_secs(T0 + 4))
                                .status(LifecycleEventStatus::InProgress)
                                .build(),
                        )
                        .build(),
                )
                .build(),
        )
        .build()
}

pub(crate) fn weights(sequence: &[f64]) -> Rule {
    let mut rule = mock!(aws_sdk_codedeploy::Client::get_deployment_target).sequence();
    for weight in sequence.iter().copied() {
        rule = rule.output(move || target(weight));
    }
    rule.build()
}

/// DescribeAlarms: every guard OK, or `firing` in ALARM from the `from`th call on.
fn alarms(firing: Option<(&'static str, usize)>) -> Rule {
    let answer = move |calls: usize| {
        let mut out = DescribeAlarmsOutput::builder();
        for name in GUARDS {
            let alarm = firing.is_some_and(|(f, from)| f == name && calls >= from);
            out = out.metric_alarms(
                MetricAlarm::builder()
                    .alarm_name(name)
                    .state_value(if alarm {
                        StateValue::Alarm
                    } else {
                        StateValue::Ok
                    })
                    .build(),
            );
        }
        out.build()
    };
    let mut rule = mock!(aws_sdk_cloudwatch::Client::describe_alarms).sequence();
    for call in 0..4 {
        rule = rule.output(move || answer(call));
    }
    rule.output(move || answer(99)).repeatedly().build()
}

/// GetMetricData: the new version's Lambda errors (4 then 8) and the DLQ's depth (0 then 37);
/// the versions' webhook metrics have no data.
fn metrics() -> Rule {
    mock!(aws_sdk_cloudwatch::Client::get_metric_data).then_output(|| {
        metric_data(&[
            ("errors", &[(T0 + 60, 4.0), (T0 + 120, 8.0)]),
            ("dlq", &[(T0 + 60, 0.0), (T0 + 120, 37.0)]),
        ])
    })
}

/// A GetMetricData answer: each id's (seconds, value) points.
pub(crate) fn metric_data(series: &[(&str, &[(i64, f64)])]) -> GetMetricDataOutput {
    let mut out = GetMetricDataOutput::builder();
    for (id, points) in series {
        out = out.metric_data_results(
            MetricDataResult::builder()
                .id(*id)
                .status_code(StatusCode::Complete)
                .set_timestamps(Some(
                    points
                        .iter()
                        .map(|(at, _)| DateTime::from_secs(*at))
                        .collect(),
                ))
                .set_values(Some(points.iter().map(|(_, v)| *v).collect()))
                .build(),
        );
    }
    out.build()
}

pub(crate) struct Recorded<'a> {
    pub stack: &'a [&'a Rule],
    pub codedeploy: &'a [&'a Rule],
    pub cloudwatch: &'a [&'a Rule],
}

pub(crate) async fn follow(recorded: Recorded<'_>, armed: bool) -> (Watched, String) {
    follow_with(recorded, armed, quick()).await
}

async fn follow_with(
    recorded: Recorded<'_>,
    armed: bool,
    options: WatchOptions,
) -> (Watched, String) {
    let cloudformation = mock_client!(aws_sdk_cloudformation, RuleMode::MatchAny, recorded.stack);
    let codedeploy = mock_client!(
        aws_sdk_codedeploy,
        RuleMode::MatchAny,
        recorded.codedeploy,
        |config| config.retry_config(RetryConfig::disabled())
    );
    let cloudwatch = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, recorded.cloudwatch);
    let stacks = Stacks::new(cloudformation);
    let deploys = Deploys::from_clients(codedeploy, cloudwatch, "prod");
    let mut shift = ShiftFollow::new(&deploys, T0 * 1000);
    if armed {
        shift = shift.already_started();
    }
    let mut lines = String::new();
    let watched = watch(
        &stacks,
        "marketgrid-prod",
        "prod",
        T0 * 1000,
        2,
        Instant::now(),
        &options,
        Some(&mut shift),
        &mut |text| lines.push_str(text),
    )
    .await
    .unwrap();
    (watched, plain(&lines))
}

#[tokio::test]
async fn a_shift_that_completes_is_followed_to_all_traffic_on_the_new_version() {
    let statuses = statuses(&[
        "UPDATE_IN_PROGRESS",
        "UPDATE_IN_PROGRESS",
        "UPDATE_IN_PROGRESS",
        "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
        "UPDATE_COMPLETE",
    ]);
    let stack_events =
        mock!(aws_sdk_cloudformation::Client::describe_stack_events).then_output(|| events(&[]));
    let (listed, group, targets) = (listed(), group(), targets());
    let deployments = mock!(aws_sdk_codedeploy::Client::get_deployment)
        .sequence()
        .output(|| deployment("InProgress", None, None))
        .times(2)
        .output(|| deployment("Succeeded", None, Some(310)))
        .repeatedly()
        .build();
    let weights = weights(&[0.1, 0.1, 1.0, 1.0, 1.0]);
    let (alarms, metrics) = (alarms(None), metrics());
    let (watched, lines) = follow(
        Recorded {
            stack: &[&statuses, &stack_events],
            codedeploy: &[&listed, &group, &deployments, &targets, &weights],
            cloudwatch: &[&alarms, &metrics],
        },
        false,
    )
    .await;

    assert_eq!(watched.final_status, "UPDATE_COMPLETE");
    let shift = watched.shift.expect("the shift was followed");
    assert_eq!(shift.status, ShiftStatus::Succeeded);
    assert_eq!(shift.percent_on_new, 100.0);
    assert_eq!(
        (shift.from_version.as_deref(), shift.to_version.as_deref()),
        (Some("7"), Some("8"))
    );
    assert_eq!(shift.strategy, "canary10-5m");
    assert!(shift.stopped.is_none());
    // Each change of the shift is written once: 10%, then done.
    assert_eq!(lines.matches("10% on v8").count(), 1, "{lines}");
    assert!(lines.contains("next: 100% in"), "{lines}");
    assert!(lines.contains("100% on v8   done"), "{lines}");
    assert!(
        lines.contains("guards: processor-errors OK · dlq-not-empty OK · api-5xx OK"),
        "{lines}"
    );
    // The guard alarms are read once, from the deployment group; nothing after the end.
    assert_eq!(group.num_calls(), 1);
    // The deployment is looked up once; after that it is read by its id.
    assert_eq!(listed.num_calls(), 1);
    assert_eq!(
        metrics.num_calls(),
        2,
        "the versions' webhooks are read at the first reading and at the end (then every 30 s)"
    );
}

/// A canary that ended with all traffic on v8 while v8's own failure guard stayed in
/// INSUFFICIENT_DATA (7 webhooks reached it in 5 minutes) passed on no evidence: the report
/// says "not judged", and the deploy ends with its own exit status (execute.rs, exit 9).
#[tokio::test]
async fn a_canary_its_version_guard_could_not_judge_is_reported_not_judged() {
    const VERSIONED: [&str; 2] = [
        "marketgrid-prod-version-failures-v8",
        "marketgrid-prod-processor-throttles",
    ];
    let statuses = statuses(&[
        "UPDATE_IN_PROGRESS",
        "UPDATE_IN_PROGRESS",
        "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
        "UPDATE_COMPLETE",
    ]);
    let stack_events =
        mock!(aws_sdk_cloudformation::Client::describe_stack_events).then_output(|| events(&[]));
    let (listed, group, targets) = (listed(), group_of(&VERSIONED), targets());
    let deployments = mock!(aws_sdk_codedeploy::Client::get_deployment)
        .sequence()
        .output(|| deployment("InProgress", None, None))
        .output(|| deployment("Succeeded", None, Some(310)))
        .repeatedly()
        .build();
    let weights = weights(&[0.1, 1.0, 1.0, 1.0]);
    let alarms = mock!(aws_sdk_cloudwatch::Client::describe_alarms).then_output(|| {
        DescribeAlarmsOutput::builder()
            .metric_alarms(
                MetricAlarm::builder()
                    .alarm_name(VERSIONED[0])
                    .state_value(StateValue::InsufficientData)
                    .build(),
            )
            .metric_alarms(
                MetricAlarm::builder()
                    .alarm_name(VERSIONED[1])
                    .state_value(StateValue::Ok)
                    .build(),
            )
            .build()
    });
    // v7 (v0_) handled 63 well, v8 (v1_) 7.
    let metrics = mock!(aws_sdk_cloudwatch::Client::get_metric_data).then_output(|| {
        metric_data(&[
            ("v0_recorded", &[(T0 + 60, 63.0)]),
            ("v1_recorded", &[(T0 + 60, 7.0)]),
        ])
    });
    let (watched, lines) = follow(
        Recorded {
            stack: &[&statuses, &stack_events],
            codedeploy: &[&listed, &group, &deployments, &targets, &weights],
            cloudwatch: &[&alarms, &metrics],
        },
        false,
    )
    .await;
    assert_eq!(watched.final_status, "UPDATE_COMPLETE");
    let shift = watched.shift.expect("the shift was followed");
    assert_eq!(shift.status, ShiftStatus::Succeeded);
    let why = shift.not_judged().expect("not judged");
    assert!(
        why.starts_with("not judged: 7 webhooks reached v8 during its canary"),
        "{why}"
    );
    assert!(lines.contains("100% on v8   done, not judged"), "{lines}");
    assert!(lines.contains(&why), "{lines}");
}

#[tokio::test]
async fn a_shift_stopped_by_a_guard_alarm_names_it_and_what_the_new_version_did() {
    let dlq = "marketgrid-prod-dlq-not-empty";
    let statuses = statuses(&[
        "UPDATE_IN_PROGRESS",
        "UPDATE_IN_PROGRESS",
        "UPDATE_ROLLBACK_IN_PROGRESS",
        "UPDATE_ROLLBACK_COMPLETE",
    ]);
    let failed = event(
        140,
        "ProcessorAlias",
        "AWS::Lambda::Alias",
        "UPDATE_FAILED",
        Some("CodeDeploy deployment d-7XH3KQ2PA failed: One or more alarms have been activated"),
    );
    let stack_events = mock!(aws_sdk_cloudformation::Client::describe_stack_events)
        .then_output(move || events(std::slice::from_ref(&failed)));
    let (listed, group, targets) = (listed(), group(), targets());
    let message = format!(
        "One or more alarms have been activated according to the Amazon CloudWatch metrics you selected, and the affected deployments have been stopped. Activated alarms: {dlq}"
    );
    let deployments = mock!(aws_sdk_codedeploy::Client::get_deployment)
        .sequence()
        .output(|| deployment("InProgress", None, None))
        .output(move || {
            deployment(
                "Stopped",
                Some((ErrorCode::AlarmActive, &message)),
                Some(134),
            )
        })
        .repeatedly()
        .build();
    let weights = weights(&[0.1, 0.0, 0.0]);
    let (alarms, metrics) = (alarms(Some((dlq, 1))), metrics());
    let (watched, lines) = follow(
        Recorded {
            stack: &[&statuses, &stack_events],
            codedeploy: &[&listed, &group, &deployments, &targets, &weights],
            cloudwatch: &[&alarms, &metrics],
        },
        false,
    )
    .await;

    assert_eq!(watched.final_status, "UPDATE_ROLLBACK_COMPLETE");
    let shift = watched.shift.expect("the shift was followed");
    assert_eq!(shift.status, ShiftStatus::RolledBack);
    assert_eq!(shift.percent_on_new, 0.0);
    let stopped = shift.stopped.expect("why it stopped");
    assert_eq!(stopped.alarms, [dlq]);
    assert_eq!(stopped.code.as_deref(), Some("ALARM_ACTIVE"));
    assert!(!stopped.by_request);
    // Errors of v8 summed over the window; the DLQ grew from 0 to 37.
    assert_eq!(stopped.new_version_errors, Some(12.0));
    assert_eq!(stopped.dlq_growth, Some(37.0));
    assert_eq!(
        metrics.num_calls(),
        2,
        "the versions' webhooks, errors and DLQ depth in one call: at the first reading, and at the end"
    );
    assert!(
        lines.contains(&format!("why: {dlq} went into ALARM")),
        "{lines}"
    );
    assert!(
        lines.contains("rolled back: all traffic is on v7"),
        "{lines}"
    );
    assert!(lines.contains("12 errors, DLQ +37 webhooks"), "{lines}");
    assert!(lines.contains("dlq-not-empty ALARM"), "{lines}");
}

#[tokio::test]
async fn deploy_rollback_stops_the_shift_with_a_rollback_and_follows_it_back() {
    let statuses = statuses(&[
        "UPDATE_IN_PROGRESS",
        "UPDATE_ROLLBACK_IN_PROGRESS",
        "UPDATE_ROLLBACK_COMPLETE",
    ]);
    let stack_events =
        mock!(aws_sdk_cloudformation::Client::describe_stack_events).then_output(|| events(&[]));
    let stop = mock!(aws_sdk_codedeploy::Client::stop_deployment)
        .match_requests(|r| {
            r.deployment_id() == Some(ID) && r.auto_rollback_enabled() == Some(true)
        })
        .then_output(|| {
            StopDeploymentOutput::builder()
                .status(StopStatus::Pending)
                .status_message("Stopping Pending. Stopping to deploy the revision.")
                .build()
        });
    let (listed, group, targets) = (listed(), group(), targets());
    let deployments = mock!(aws_sdk_codedeploy::Client::get_deployment)
        .sequence()
        .output(|| deployment("InProgress", None, None))
        .output(|| {
            deployment(
                "Stopped",
                Some((ErrorCode::ManualStop, "Deployment was stopped by the user")),
                Some(200),
            )
        })
        .repeatedly()
        .build();
    let weights = weights(&[0.3, 0.0, 0.0]);
    let (alarms, metrics) = (alarms(None), metrics());

    // What `mgrid deploy --rollback` does: find the shift, stop it with a rollback, follow.
    let codedeploy = mock_client!(aws_sdk_codedeploy, RuleMode::MatchAny, &[&listed, &stop]);
    let cloudwatch = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, &[&alarms]);
    let deploys = Deploys::from_clients(codedeploy, cloudwatch, "prod");
    let id = deploys
        .current(None)
        .await
        .unwrap()
        .expect("a shift in progress");
    deploys.stop(&id).await.unwrap();
    assert_eq!(stop.num_calls(), 1);

    let (watched, lines) = follow(
        Recorded {
            stack: &[&statuses, &stack_events],
            codedeploy: &[&listed, &group, &deployments, &targets, &weights],
            cloudwatch: &[&alarms, &metrics],
        },
        true,
    )
    .await;
    assert_eq!(watched.final_status, "UPDATE_ROLLBACK_COMPLETE");
    let shift = watched.shift.expect("the shift was followed");
    assert_eq!(shift.status, ShiftStatus::RolledBack);
    let stopped = shift.stopped.expect("why it stopped");
    assert!(stopped.by_request);
    assert!(stopped.alarms.is_empty());
    assert!(lines.contains("30% on v8"), "{lines}");
    assert!(
        lines.contains("why: stopped on request (`mgrid deploy --rollback`"),
        "{lines}"
    );
}

#[tokio::test]
async fn codedeploy_throttling_while_following_backs_off_and_carries_on() {
    let statuses = mock!(aws_sdk_cloudformation::Client::describe_stacks)
        .sequence()
        .output(|| stack("UPDATE_IN_PROGRESS"))
        .times(4)
        .output(|| stack("UPDATE_COMPLETE"))
        .repeatedly()
        .build();
    let stack_events =
        mock!(aws_sdk_cloudformation::Client::describe_stack_events).then_output(|| events(&[]));
    let throttled = || {
        GetDeploymentError::generic(
            ErrorMetadata::builder()
                .code("ThrottlingException")
                .message("Rate exceeded")
                .build(),
        )
    };
    let (listed, group, targets) = (listed(), group(), targets());
    let deployments = mock!(aws_sdk_codedeploy::Client::get_deployment)
        .sequence()
        .output(|| deployment("InProgress", None, None))
        .error(throttled)
        .error(throttled)
        .output(|| deployment("Succeeded", None, Some(310)))
        .repeatedly()
        .build();
    let weights = weights(&[0.1, 1.0, 1.0]);
    let (alarms, metrics) = (alarms(None), metrics());
    let started = Instant::now();
    let (watched, lines) = follow_with(
        Recorded {
            stack: &[&statuses, &stack_events],
            codedeploy: &[&listed, &group, &deployments, &targets, &weights],
            cloudwatch: &[&alarms, &metrics],
        },
        false,
        WatchOptions {
            poll: Duration::from_millis(20),
            max_backoff: Duration::from_millis(400),
            ..quick()
        },
    )
    .await;
    assert_eq!(watched.final_status, "UPDATE_COMPLETE");
    let shift = watched.shift.expect("the shift was followed");
    assert_eq!(shift.status, ShiftStatus::Succeeded, "{lines}");
    assert!(
        deployments.num_calls() >= 4,
        "read again after the throttling"
    );
    // Five stack polls, four pauses of 20 ms: 80 ms; the two throttled reads doubled two of
    // the pauses to 40 ms, then 80 ms: 160 ms.
    assert!(
        started.elapsed() >= Duration::from_millis(150),
        "{:?}",
        started.elapsed()
    );
    assert!(
        !lines.contains("cannot follow"),
        "throttling is not a reason to give up: {lines}"
    );
    // Said once without a terminal too, while it lasts.
    assert_eq!(
        lines
            .matches("(CodeDeploy throttles: showing the last reading, backing off)")
            .count(),
        1,
        "{lines}"
    );
}

#[tokio::test]
async fn a_shift_that_cannot_be_read_is_warned_about_and_the_stack_is_still_followed() {
    let statuses = statuses(&["UPDATE_IN_PROGRESS", "UPDATE_COMPLETE"]);
    let stack_events =
        mock!(aws_sdk_cloudformation::Client::describe_stack_events).then_output(|| events(&[]));
    let denied = mock!(aws_sdk_codedeploy::Client::list_deployments).then_error(|| {
        aws_sdk_codedeploy::operation::list_deployments::ListDeploymentsError::generic(
            ErrorMetadata::builder()
                .code("AccessDeniedException")
                .message("User: arn:aws:sts::123456789012:assumed-role/deployer/mgrid is not authorized to perform: codedeploy:ListDeployments")
                .build(),
        )
    });
    let alarms = alarms(None);
    let (watched, lines) = follow(
        Recorded {
            stack: &[&statuses, &stack_events],
            codedeploy: &[&denied],
            cloudwatch: &[&alarms],
        },
        false,
    )
    .await;
    assert_eq!(watched.final_status, "UPDATE_COMPLETE");
    assert!(watched.shift.is_none());
    assert_eq!(
        lines
            .matches("cannot follow the processor's traffic shift")
            .count(),
        1,
        "{lines}"
    );
    assert_eq!(denied.num_calls(), 1, "given up after the refusal");
}

/// What `status` shows is what CodeDeploy holds: a disabled alarm configuration guards nothing,
/// whatever alarms it still lists (the state a template that only dropped its alarms leaves);
/// a stage without a deployment group has no settings to show.
#[tokio::test]
async fn the_deployment_groups_real_guards_are_read_and_a_disabled_configuration_is_none() {
    let disabled = mock!(aws_sdk_codedeploy::Client::get_deployment_group).then_output(move || {
        GetDeploymentGroupOutput::builder()
            .deployment_group_info(
                DeploymentGroupInfo::builder()
                    .deployment_group_name("marketgrid-prod-processor")
                    .deployment_config_name("CodeDeployDefault.LambdaCanary10Percent5Minutes")
                    .alarm_configuration(
                        AlarmConfiguration::builder()
                            .enabled(false)
                            .alarms(Alarm::builder().name(GUARDS[0]).build())
                            .build(),
                    )
                    .build(),
            )
            .build()
    });
    let guarded = group();
    let missing = mock!(aws_sdk_codedeploy::Client::get_deployment_group).then_error(|| {
        aws_sdk_codedeploy::operation::get_deployment_group::GetDeploymentGroupError::generic(
            ErrorMetadata::builder()
                .code("DeploymentGroupDoesNotExistException")
                .message("No Deployment Group found for name: marketgrid-prod-processor")
                .build(),
        )
    });
    let read = |rule: &Rule| {
        let codedeploy = mock_client!(aws_sdk_codedeploy, RuleMode::MatchAny, &[rule]);
        let cloudwatch = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, &[]);
        Deploys::from_clients(codedeploy, cloudwatch, "prod")
    };
    let settings = read(&disabled)
        .settings()
        .await
        .unwrap()
        .expect("the group");
    assert_eq!(settings.guards, Vec::<String>::new());
    assert_eq!(settings.strategy.as_deref(), Some("canary10-5m"));
    let settings = read(&guarded).settings().await.unwrap().expect("the group");
    assert_eq!(settings.guards, GUARDS);
    assert_eq!(read(&missing).settings().await.unwrap(), None);
}
