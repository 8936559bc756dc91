//! The processor's metrics as CloudWatch Embedded Metric Format log lines: printed to stdout,
//! turned into metrics by CloudWatch Logs, with no metric API call on the hot path.
//! `MarketGrid/SuccessfulTransactions` and `DuplicateWebhooks` by Stage and by Stage and Version,
//! `MarketGrid/FailedWebhooks` by Stage and Reason (dead-letter reasons and retry causes), by
//! Stage, Version and Reason, and by Stage and Version. The version is the one that handled the
//! batch (`AWS_LAMBDA_FUNCTION_VERSION`): during a canary both versions have traffic, and the
//! deploy guard watches the new one's failure ratio alone.

use mgrid_contract::{EpochMillis, StageName};
use serde_json::{Value, json};

use crate::processor::BatchReport;

pub const NAMESPACE: &str = "MarketGrid";
pub const SUCCESSFUL_TRANSACTIONS: &str = "SuccessfulTransactions";
pub const DUPLICATE_WEBHOOKS: &str = "DuplicateWebhooks";
pub const FAILED_WEBHOOKS: &str = "FailedWebhooks";
/// Milliseconds from a webhook's receipt to a leg after the ledger doing its work, by Stage and
/// Leg (archive, notify): how far the archive and the vendors are behind.
pub const LEG_LAG: &str = "LegLag";
/// Records a leg after the ledger failed (the pipe retries them), by Stage and Leg.
pub const LEG_FAILURES: &str = "LegFailures";

/// The EMF document for one batch of a leg after the ledger: each record's lag (CloudWatch takes
/// a list of values) and the failures.
pub fn leg_metrics(
    stage: &StageName,
    leg: mgrid_contract::settlement::Leg,
    report: &crate::legs::LegReport,
    at: EpochMillis,
) -> String {
    let mut values = json!({
        "Stage": stage.as_str(),
        "Leg": leg.as_str(),
        LEG_FAILURES: report.failed.len(),
    });
    let mut metrics = vec![(LEG_FAILURES, "Count")];
    if !report.lags_ms.is_empty() {
        values[LEG_LAG] = json!(report.lags_ms);
        metrics.push((LEG_LAG, "Milliseconds"));
    }
    document_with_units(at, &[&["Stage", "Leg"]], values, &metrics)
}

/// The EMF documents for one batch handled by `version`, one JSON line each.
pub fn batch_metrics(
    stage: &StageName,
    version: &str,
    report: &BatchReport,
    at: EpochMillis,
) -> Vec<String> {
    let mut lines = vec![document(
        at,
        &[&["Stage"], &["Stage", "Version"]],
        json!({
            "Stage": stage.as_str(),
            "Version": version,
            SUCCESSFUL_TRANSACTIONS: report.recorded,
            DUPLICATE_WEBHOOKS: report.duplicates,
        }),
        &[SUCCESSFUL_TRANSACTIONS, DUPLICATE_WEBHOOKS],
    )];
    let reasons = report
        .dead_lettered
        .iter()
        .map(|(reason, n)| (reason.as_str(), *n))
        .chain(report.retried.iter().map(|(cause, n)| (cause.as_str(), *n)));
    for (reason, count) in reasons {
        lines.push(document(
            at,
            &[
                &["Stage", "Reason"],
                &["Stage", "Version", "Reason"],
                &["Stage", "Version"],
            ],
            json!({"Stage": stage.as_str(), "Version": version, "Reason": reason, FAILED_WEBHOOKS: count}),
            &[FAILED_WEBHOOKS],
        ));
    }
    lines
}

fn document(at: EpochMillis, dimensions: &[&[&str]], values: Value, metrics: &[&str]) -> String {
    let counted: Vec<(&str, &str)> = metrics.iter().map(|name| (*name, "Count")).collect();
    document_with_units(at, dimensions, values, &counted)
}

fn document_with_units(
    at: EpochMillis,
    dimensions: &[&[&str]],
    mut values: Value,
    metrics: &[(&str, &str)],
) -> String {
    values["_aws"] = json!({
        "Timestamp": at,
        "CloudWatchMetrics": [{
            "Namespace": NAMESPACE,
            "Dimensions": dimensions,
            "Metrics": metrics.iter().map(|(name, unit)| json!({"Name": name, "Unit": unit})).collect::<Vec<_>>(),
        }],
    });
    values.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::processor::RetryCause;
    use mgrid_contract::FailureReason;

    #[test]
    fn a_batch_reports_successes_and_failures_by_reason() {
        let mut report = BatchReport {
            recorded: 7,
            duplicates: 1,
            ..BatchReport::default()
        };
        report.dead_lettered.insert(FailureReason::BadSignature, 2);
        report.retried.insert(RetryCause::LedgerUnavailable, 1);
        let lines = batch_metrics(&"prod".parse().unwrap(), "7", &report, 1_000);
        let documents: Vec<Value> = lines
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(documents.len(), 3);
        assert_eq!(documents[0][SUCCESSFUL_TRANSACTIONS], 7);
        assert_eq!(
            documents[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "MarketGrid"
        );
        assert_eq!(
            documents[0]["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Stage"], ["Stage", "Version"]])
        );
        assert_eq!(documents[0]["Version"], "7");
        assert_eq!(documents[1]["Reason"], "bad-signature");
        assert_eq!(documents[1][FAILED_WEBHOOKS], 2);
        assert_eq!(documents[2]["Reason"], "ledger-unavailable");
        assert_eq!(
            documents[2]["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([
                ["Stage", "Reason"],
                ["Stage", "Version", "Reason"],
                ["Stage", "Version"]
            ])
        );
        assert!(lines.iter().all(|l| !l.contains('\n')));
    }

    #[test]
    fn a_legs_batch_reports_each_lag_and_its_failures() {
        let report = crate::legs::LegReport {
            failed: vec!["s1".into()],
            lags_ms: vec![120, 950],
            ..crate::legs::LegReport::default()
        };
        let line = leg_metrics(
            &"prod".parse().unwrap(),
            mgrid_contract::settlement::Leg::Notify,
            &report,
            1_000,
        );
        let document: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(document["Leg"], "notify");
        assert_eq!(document[LEG_LAG], json!([120, 950]));
        assert_eq!(document[LEG_FAILURES], 1);
        assert_eq!(
            document["_aws"]["CloudWatchMetrics"][0]["Metrics"][1],
            json!({"Name": LEG_LAG, "Unit": "Milliseconds"})
        );
    }
}
