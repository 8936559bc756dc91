//! CloudWatch for `mgrid metrics tail` and `mgrid status`: all of a refresh's series in one
//! GetMetricData call (pages followed when CloudWatch splits an answer), and the stage's alarms
//! in the ALARM state.

use aws_sdk_cloudwatch::operation::get_metric_data::GetMetricDataError;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{
    Dimension, Metric, MetricDataQuery, MetricStat, ScanBy, StateValue,
};
use aws_smithy_runtime_api::client::result::SdkError;
use mgrid_contract::clock::format_rfc3339;

use std::collections::BTreeMap;

use mgrid_contract::{StageName, StageParameter};

use super::connection::Aws;
use super::errors;
use super::parameters::require;
use crate::clock::now_millis;
use crate::decide::metrics::{
    AlarmState, Answer, Panel, PercentilesRejected, Query, RefreshCost, Resources, Snapshot,
    TimeRange, Window, assemble, queries, signals_with,
};
use crate::failure::Failure;
use crate::ports::MetricsSource;

/// Why a GetMetricData call failed: the backend refused what was asked (a statistic it does not
/// support, say), or anything else (credentials, network, throttling).
#[derive(Debug)]
pub enum MetricDataFailure {
    Refused(Failure),
    Other(Failure),
}

impl MetricDataFailure {
    pub fn into_failure(self) -> Failure {
        match self {
            MetricDataFailure::Refused(failure) | MetricDataFailure::Other(failure) => failure,
        }
    }
}

/// Every query's values over `range`, oldest first.
pub async fn metric_data(
    client: &aws_sdk_cloudwatch::Client,
    queries: &[Query],
    range: &TimeRange,
) -> Result<Vec<Answer>, MetricDataFailure> {
    let mut answers: Vec<Answer> = Vec::with_capacity(queries.len());
    let mut next_token: Option<String> = None;
    loop {
        let page = client
            .get_metric_data()
            .set_metric_data_queries(Some(queries.iter().map(sdk_query).collect()))
            .start_time(DateTime::from_millis(range.start))
            .end_time(DateTime::from_millis(range.end))
            .scan_by(ScanBy::TimestampAscending)
            .set_next_token(next_token.take())
            .send()
            .await
            .map_err(refused_or_other)?;
        for result in page.metric_data_results() {
            let id = result.id().unwrap_or_default();
            let index = match answers.iter().position(|a| a.id == id) {
                Some(index) => index,
                None => {
                    answers.push(Answer {
                        id: id.to_owned(),
                        ..Answer::default()
                    });
                    answers.len() - 1
                }
            };
            let answer = &mut answers[index];
            answer.timestamps.extend(
                result
                    .timestamps()
                    .iter()
                    .map(|t| t.to_millis().unwrap_or(0)),
            );
            answer.values.extend(result.values());
            answer.status = result
                .status_code()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_else(|| "Complete".to_owned());
            answer.messages.extend(
                result
                    .messages()
                    .iter()
                    .map(|m| m.value().or(m.code()).unwrap_or_default().to_owned()),
            );
        }
        match page.next_token() {
            Some(token) if !token.is_empty() => next_token = Some(token.to_owned()),
            _ => return Ok(answers),
        }
    }
}

fn sdk_query(query: &Query) -> MetricDataQuery {
    let metric = Metric::builder()
        .namespace(query.namespace)
        .metric_name(query.metric)
        .set_dimensions(Some(
            query
                .dimensions
                .iter()
                .map(|(name, value)| Dimension::builder().name(*name).value(value).build())
                .collect(),
        ))
        .build();
    MetricDataQuery::builder()
        .id(&query.id)
        .metric_stat(
            MetricStat::builder()
                .metric(metric)
                .period(query.period)
                .stat(query.stat)
                .build(),
        )
        .return_data(true)
        .build()
}

/// A refusal is an answer from the service about the request itself: a 4XX other than
/// credentials and throttling, or a 5XX that persisted through the retry.
fn refused_or_other(
    error: SdkError<GetMetricDataError, aws_smithy_runtime_api::http::Response>,
) -> MetricDataFailure {
    let status = error.raw_response().map(|r| r.status().as_u16());
    let failure = errors::failure("cloudwatch:GetMetricData", "the stage's metrics", &error);
    let refused = match status {
        Some(500..=599) => errors::classify(&error) != errors::ErrorClass::Throttled,
        Some(400) => {
            errors::classify(&error) != errors::ErrorClass::Throttled
                && failure.kind != crate::failure::FailureKind::Credentials
        }
        _ => false,
    };
    if refused {
        MetricDataFailure::Refused(failure)
    } else {
        MetricDataFailure::Other(failure)
    }
}

/// The alarms whose names start with `prefix` that are in the ALARM state.
pub async fn alarms_in_alarm(
    client: &aws_sdk_cloudwatch::Client,
    prefix: &str,
) -> Result<Vec<AlarmState>, Failure> {
    let mut alarms = Vec::new();
    let mut pages = client
        .describe_alarms()
        .alarm_name_prefix(prefix)
        .state_value(StateValue::Alarm)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            errors::failure(
                "cloudwatch:DescribeAlarms",
                &format!("alarms {prefix}*"),
                &e,
            )
        })?;
        for alarm in page.metric_alarms() {
            alarms.push(AlarmState {
                name: alarm.alarm_name().unwrap_or_default().to_owned(),
                reason: alarm.state_reason().map(str::to_owned),
                since: alarm
                    .state_updated_timestamp()
                    .and_then(|t| t.to_millis().ok())
                    .map(format_rfc3339),
            });
        }
    }
    Ok(alarms)
}

/// The names the stage's metrics carry, from its SSM parameters.
pub fn resources(
    parameters: &BTreeMap<StageParameter, String>,
    stage: &StageName,
) -> Result<Resources, Failure> {
    let get = |parameter| require(parameters, stage, parameter);
    // SQS metrics are by queue name, the last part of its URL.
    let queue_name =
        |parameter| get(parameter).map(|url| url.rsplit('/').next().unwrap_or_default().to_owned());
    let pipes = get(StageParameter::PipeNames)?;
    // A pipe named in the parameter by its leg, else the name the template gives it.
    let pipe = |leg: &str| {
        pipes
            .split(',')
            .map(str::trim)
            .find(|name| name.ends_with(&format!("-{leg}")))
            .map(str::to_owned)
            .unwrap_or_else(|| mgrid_contract::names::resource_name(stage.as_str(), leg))
    };
    Ok(Resources {
        stage: stage.to_string(),
        api_name: get(StageParameter::ApiName)?,
        queue: queue_name(StageParameter::QueueUrl)?,
        dlq: queue_name(StageParameter::DlqUrl)?,
        pipe_dlq: queue_name(StageParameter::PipeDlqUrl)?,
        authorizer: get(StageParameter::AuthorizerFunction)?,
        processor: get(StageParameter::ProcessorFunction)?,
        archiver: get(StageParameter::ArchiverFunction)?,
        // A stage deployed before the notifier published no name for it: the stack's own name.
        notifier: get(StageParameter::NotifierFunction)
            .unwrap_or_else(|_| mgrid_contract::names::resource_name(stage.as_str(), "notifier")),
        archive_pipe: pipe("archive"),
        notify_pipe: pipe("notify"),
    })
}

/// Snapshots of a deployed stage, from CloudWatch.
pub struct CloudWatchSource {
    aws: Aws,
    client: aws_sdk_cloudwatch::Client,
    stage: String,
    resources: Resources,
    alarm_prefix: String,
    /// Set once the backend has refused percentile queries; they are left out until `r`.
    rejected: Option<PercentilesRejected>,
}

impl CloudWatchSource {
    pub fn new(aws: Aws, resources: &Resources) -> CloudWatchSource {
        CloudWatchSource {
            client: aws.cloudwatch_live(),
            aws,
            stage: resources.stage.clone(),
            resources: resources.clone(),
            alarm_prefix: mgrid_contract::names::resource_prefix(&resources.stage),
            rejected: None,
        }
    }
}

impl MetricsSource for CloudWatchSource {
    /// Fetch, then decide: one GetMetricData call for every series and the open drill-down's
    /// breakdown (a second, without percentiles, only when the backend refuses the first), one
    /// DescribeAlarms call.
    async fn refresh(
        &mut self,
        window: &Window,
        focus: Option<Panel>,
    ) -> Result<Snapshot, Failure> {
        let signals = signals_with(&self.resources, focus);
        let range = window.range(now_millis());
        let calls_before = (self.aws.calls(), self.aws.calls_of("GetMetricData"));
        let bytes_before = self.aws.bytes();
        let with_percentiles = self.rejected.is_none();
        let asked = queries(&signals, window, with_percentiles);
        let answers = match metric_data(&self.client, &asked, &range).await {
            Ok(answers) => answers,
            Err(MetricDataFailure::Refused(refusal)) if with_percentiles => {
                tracing::debug!(
                    "GetMetricData refused ({refusal}); asking again without percentiles"
                );
                let without = queries(&signals, window, false);
                let answers = metric_data(&self.client, &without, &range)
                    .await
                    .map_err(MetricDataFailure::into_failure)?;
                self.rejected = Some(PercentilesRejected(refusal.what));
                answers
            }
            Err(failure) => return Err(failure.into_failure()),
        };
        let alarms = alarms_in_alarm(&self.client, &self.alarm_prefix).await?;
        let series = assemble(&signals, &range, &answers, self.rejected.as_ref(), &alarms);
        let bytes_after = self.aws.bytes();
        let cost = RefreshCost {
            aws_calls: self.aws.calls() - calls_before.0,
            get_metric_data_calls: self.aws.calls_of("GetMetricData") - calls_before.1,
            bytes_sent: bytes_after.0 - bytes_before.0,
            bytes_received: bytes_after.1 - bytes_before.1,
        };
        let mut snapshot = Snapshot::new(
            &self.stage,
            window,
            range,
            now_millis(),
            series,
            alarms,
            cost,
        );
        snapshot.focus = focus;
        Ok(snapshot)
    }

    fn retry_unavailable(&mut self) {
        self.rejected = None;
    }
}
