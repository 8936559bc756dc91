//! The stage's processor traffic shift, read from CodeDeploy (deployment, its Lambda target's
//! weights and lifecycle) and CloudWatch (the guard alarms, and on a rollback what the new
//! version did), and stopped on request. The application and deployment group are the stack's
//! (`marketgrid-<stage>`, `marketgrid-<stage>-processor`).

use std::collections::BTreeMap;

use aws_sdk_codedeploy::types::DeploymentStatus;
use aws_smithy_types::DateTime;
use mgrid_contract::EpochMillis;

use super::connection::Aws;
use super::errors;
use super::metrics::metric_data;
use crate::decide::metrics::{Query, TimeRange};
use crate::decide::shift::{
    DeployStrategy, GuardState, Shift, ShiftStatus, Stopped, alarms_named, tallies, tally_series,
};
use crate::failure::{Failure, FailureKind};

/// A deployment group's settings as CodeDeploy holds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSettings {
    /// mgrid's name of the deployment configuration, or CodeDeploy's.
    pub strategy: Option<String>,
    /// The guard alarms' names; empty when none are, or their configuration is disabled.
    pub guards: Vec<String>,
}

/// One stage's deployment group.
pub struct Deploys {
    codedeploy: aws_sdk_codedeploy::Client,
    cloudwatch: aws_sdk_cloudwatch::Client,
    stage: String,
}

/// Statuses of a deployment that has not ended.
const ACTIVE: [DeploymentStatus; 5] = [
    DeploymentStatus::Created,
    DeploymentStatus::Queued,
    DeploymentStatus::Ready,
    DeploymentStatus::InProgress,
    DeploymentStatus::Baking,
];

fn millis(time: Option<&DateTime>) -> Option<EpochMillis> {
    time.and_then(|t| t.to_millis().ok())
}

impl Deploys {
    pub fn new(aws: &Aws, stage: &str) -> Deploys {
        Deploys::from_clients(aws.codedeploy(), aws.cloudwatch(), stage)
    }

    pub fn from_clients(
        codedeploy: aws_sdk_codedeploy::Client,
        cloudwatch: aws_sdk_cloudwatch::Client,
        stage: &str,
    ) -> Deploys {
        Deploys {
            codedeploy,
            cloudwatch,
            stage: stage.to_owned(),
        }
    }

    pub fn application(&self) -> String {
        mgrid_contract::names::stage_resource(&self.stage)
    }

    pub fn group(&self) -> String {
        mgrid_contract::names::resource_name(&self.stage, "processor")
    }

    fn what(&self) -> String {
        format!("deployment group {}/{}", self.application(), self.group())
    }

    /// The deployment of the processor that has not ended, if any; else, with `since`, the
    /// newest created since then (one that ended while nobody watched).
    pub async fn current(&self, since: Option<EpochMillis>) -> Result<Option<String>, Failure> {
        let listed = self
            .codedeploy
            .list_deployments()
            .application_name(self.application())
            .deployment_group_name(self.group())
            .set_include_only_statuses(Some(ACTIVE.to_vec()))
            .send()
            .await;
        let active = match listed {
            Ok(page) => page.deployments().to_vec(),
            // A stage deployed before gradual deploys has no deployment group: no shift.
            Err(e) if is_missing_group(&e) => return Ok(None),
            Err(e) => {
                return Err(errors::failure(
                    "codedeploy:ListDeployments",
                    &self.what(),
                    &e,
                ));
            }
        };
        if let Some(id) = active.into_iter().next() {
            return Ok(Some(id));
        }
        let Some(since) = since else {
            return Ok(None);
        };
        let range = aws_sdk_codedeploy::types::TimeRange::builder()
            .start(DateTime::from_millis(since))
            .build();
        let recent = self
            .codedeploy
            .list_deployments()
            .application_name(self.application())
            .deployment_group_name(self.group())
            .create_time_range(range)
            .send()
            .await
            .map_err(|e| errors::failure("codedeploy:ListDeployments", &self.what(), &e))?;
        Ok(recent.deployments().first().cloned())
    }

    /// The alarms the deployment group watches (its CodeDeploy configuration, the truth).
    pub async fn guard_alarms(&self) -> Result<Vec<String>, Failure> {
        Ok(self.settings().await?.map(|s| s.guards).unwrap_or_default())
    }

    /// What the deployment group really holds: its strategy and the alarms it stops a shift on
    /// (none when its alarm configuration is disabled). None when the group does not exist.
    pub async fn settings(&self) -> Result<Option<GroupSettings>, Failure> {
        let group = match self
            .codedeploy
            .get_deployment_group()
            .application_name(self.application())
            .deployment_group_name(self.group())
            .send()
            .await
        {
            Ok(group) => group,
            Err(e) if is_missing_group(&e) => return Ok(None),
            Err(e) => {
                return Err(errors::failure(
                    "codedeploy:GetDeploymentGroup",
                    &self.what(),
                    &e,
                ));
            }
        };
        let Some(info) = group.deployment_group_info() else {
            return Ok(None);
        };
        let guards = info
            .alarm_configuration()
            .filter(|a| a.enabled())
            .map(|a| {
                a.alarms()
                    .iter()
                    .filter_map(|alarm| alarm.name().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Some(GroupSettings {
            strategy: info.deployment_config_name().map(DeployStrategy::label_of),
            guards,
        }))
    }

    /// The states of `alarms` now.
    pub async fn guard_states(&self, alarms: &[String]) -> Result<Vec<GuardState>, Failure> {
        if alarms.is_empty() {
            return Ok(Vec::new());
        }
        let described = self
            .cloudwatch
            .describe_alarms()
            .set_alarm_names(Some(alarms.to_vec()))
            .send()
            .await
            .map_err(|e| {
                errors::failure("cloudwatch:DescribeAlarms", "the deploy's guard alarms", &e)
            })?;
        Ok(alarms
            .iter()
            .map(|name| GuardState {
                name: name.clone(),
                state: described
                    .metric_alarms()
                    .iter()
                    .find(|a| a.alarm_name() == Some(name))
                    .and_then(|a| a.state_value())
                    .map(|s| s.as_str().to_owned()),
            })
            .collect())
    }

    /// The shift of deployment `id` now, with the guards' states.
    pub async fn shift(&self, id: &str, guards: &[String]) -> Result<Shift, Failure> {
        let what = format!("deployment {id}");
        let deployment = self
            .codedeploy
            .get_deployment()
            .deployment_id(id)
            .send()
            .await
            .map_err(|e| errors::failure("codedeploy:GetDeployment", &what, &e))?;
        let info = deployment.deployment_info().ok_or_else(|| {
            Failure::new(
                FailureKind::Failed,
                format!("CodeDeploy described {what} without its details"),
            )
        })?;
        let rolled_back = info.rollback_info().is_some()
            || info
                .auto_rollback_configuration()
                .is_some_and(|c| c.enabled());
        let status = ShiftStatus::from_codedeploy(
            info.status().map(|s| s.as_str()).unwrap_or_default(),
            rolled_back,
        );
        let strategy = DeployStrategy::label_of(info.deployment_config_name().unwrap_or_default());

        let targets = self
            .codedeploy
            .list_deployment_targets()
            .deployment_id(id)
            .send()
            .await
            .map_err(|e| errors::failure("codedeploy:ListDeploymentTargets", &what, &e))?;
        let mut shift = Shift {
            deployment_id: id.to_owned(),
            status,
            strategy,
            from_version: None,
            to_version: None,
            percent_on_new: 0.0,
            started_at: millis(info.create_time()),
            finished_at: millis(info.complete_time()),
            guards: self.guard_states(guards).await?,
            traffic: Vec::new(),
            stopped: None,
            read_at: crate::clock::now_millis(),
        };
        if let Some(target) = targets.target_ids().first() {
            let described = self
                .codedeploy
                .get_deployment_target()
                .deployment_id(id)
                .target_id(target)
                .send()
                .await
                .map_err(|e| errors::failure("codedeploy:GetDeploymentTarget", &what, &e))?;
            if let Some(lambda) = described
                .deployment_target()
                .and_then(|t| t.lambda_target())
            {
                if let Some(function) = lambda.lambda_function_info() {
                    shift.from_version = function.current_version().map(str::to_owned);
                    shift.to_version = function.target_version().map(str::to_owned);
                    shift.percent_on_new = percent(function.target_version_weight());
                }
                if let Some(allow) = lambda
                    .lifecycle_events()
                    .iter()
                    .find(|e| e.lifecycle_event_name() == Some("AllowTraffic"))
                    .and_then(|e| millis(e.start_time()))
                {
                    shift.started_at = Some(allow);
                }
            }
        }
        match status {
            ShiftStatus::Succeeded => shift.percent_on_new = 100.0,
            ShiftStatus::RolledBack => shift.percent_on_new = 0.0,
            _ => {}
        }
        if matches!(status, ShiftStatus::RolledBack | ShiftStatus::Stopped) {
            let error = info.error_information();
            let code = error.and_then(|e| e.code()).map(|c| c.as_str().to_owned());
            let message = error
                .and_then(|e| e.message())
                .or_else(|| info.rollback_info().and_then(|r| r.rollback_message()))
                .map(str::to_owned);
            let alarms = if code.as_deref() == Some("ALARM_ACTIVE") {
                alarms_named(message.as_deref().unwrap_or_default())
            } else {
                Vec::new()
            };
            shift.stopped = Some(Stopped {
                by_request: code.as_deref() == Some("MANUAL_STOP"),
                code,
                message,
                alarms,
                new_version_errors: None,
                dlq_growth: None,
            });
        }
        Ok(shift)
    }

    /// What each version did with the webhooks it handled since traffic started to move, and
    /// on a stop the new version's Lambda errors and how much the DLQ grew, in one
    /// GetMetricData call. A failed read leaves them unknown, with a warning: the shift is
    /// still followed.
    pub async fn traffic(&self, shift: &mut Shift) {
        let (Some(from), Some(to)) = (shift.started_at, shift.to_version.clone()) else {
            return;
        };
        let until = shift.finished_at.unwrap_or(shift.read_at);
        let versions: Vec<String> = shift
            .from_version
            .iter()
            .cloned()
            .chain([to.clone()])
            .collect();
        let series = tally_series(&versions);
        let names = crate::decide::metrics::Resources::named_for(&self.stage);
        let query = |id: &str, namespace, metric, dimensions, stat| Query {
            id: id.to_owned(),
            namespace,
            metric,
            dimensions,
            stat,
            period: 60,
        };
        let mut queries: Vec<Query> = series
            .iter()
            .map(|one| {
                let mut dimensions = vec![
                    ("Stage", self.stage.clone()),
                    ("Version", one.version.clone()),
                ];
                dimensions.extend(one.reason.map(|reason| ("Reason", reason.to_owned())));
                let namespace = mgrid_pipeline::metrics::NAMESPACE;
                query(&one.id, namespace, one.metric, dimensions, "Sum")
            })
            .collect();
        let function = names.processor.clone();
        queries.push(query(
            "errors",
            "AWS/Lambda",
            "Errors",
            vec![
                ("FunctionName", function.clone()),
                ("Resource", format!("{function}:live")),
                ("ExecutedVersion", to),
            ],
            "Sum",
        ));
        queries.push(query(
            "dlq",
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            vec![("QueueName", names.dlq.clone())],
            "Maximum",
        ));
        let range = TimeRange {
            start: from - from % 60_000,
            end: until - until % 60_000 + 60_000,
            period_ms: 60_000,
        };
        let answers = match metric_data(&self.cloudwatch, &queries, &range).await {
            Ok(answers) => answers,
            Err(failure) => {
                tracing::warn!(
                    "what each version did is unknown: {}",
                    failure.into_failure().what
                );
                return;
            }
        };
        let sums: BTreeMap<String, f64> = answers
            .iter()
            .map(|answer| (answer.id.clone(), answer.values.iter().sum()))
            .collect();
        shift.traffic = tallies(&versions, &series, &sums);
        if let Some(stopped) = shift.stopped.as_mut() {
            stopped.new_version_errors = Some(sums.get("errors").copied().unwrap_or(0.0));
            let mut dlq: Vec<(i64, f64)> = answers
                .iter()
                .filter(|answer| answer.id == "dlq")
                .flat_map(|answer| {
                    answer
                        .timestamps
                        .iter()
                        .copied()
                        .zip(answer.values.iter().copied())
                })
                .collect();
            dlq.sort_by_key(|(at, _)| *at);
            stopped.dlq_growth = Some(match (dlq.first(), dlq.last()) {
                (Some(first), Some(last)) => last.1 - first.1,
                _ => 0.0,
            });
        }
    }

    /// Stops deployment `id` and has CodeDeploy return all traffic to the previous version.
    pub async fn stop(&self, id: &str) -> Result<(), Failure> {
        self.codedeploy
            .stop_deployment()
            .deployment_id(id)
            .auto_rollback_enabled(true)
            .send()
            .await
            .map_err(|e| {
                errors::failure("codedeploy:StopDeployment", &format!("deployment {id}"), &e)
            })?;
        Ok(())
    }
}

/// CodeDeploy reports the new version's weight as a fraction (0.1); a percentage is accepted
/// too (the steps of every strategy are multiples of 10%, so 1.0 means all).
fn percent(weight: f64) -> f64 {
    if weight <= 1.0 {
        weight * 100.0
    } else {
        weight.min(100.0)
    }
}

fn is_missing_group<E>(
    error: &aws_sdk_codedeploy::error::SdkError<E, aws_smithy_runtime_api::http::Response>,
) -> bool
where
    E: aws_sdk_codedeploy::error::ProvideErrorMetadata,
{
    matches!(
        errors::code(error),
        Some("DeploymentGroupDoesNotExistException" | "ApplicationDoesNotExistException")
    )
}
