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

fn document(
    at: EpochMillis,
    dimensions: &[&[&str]],
    mut values: Value,
    metrics: &[&str],
) -> String {
    values["_aws"] = json!({
        "Timestamp": at,
        "CloudWatchMetrics": [{
            "Namespace": NAMESPACE,
            "Dimensions": dimensions,
            "Metrics": metrics.iter().map(|name| json!({"Name": name, "Unit": "Count"})).collect::<Vec<_>>(),
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
}
