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

use super::errors;
use crate::failure::Failure;
use crate::metrics::{AlarmState, Answer, Query, TimeRange};

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
        .id(query.id)
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
