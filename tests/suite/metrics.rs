//! `mgrid metrics tail` against the AWS emulator (moto server): metric data is published under
//! the deployed stage's own dimensions (names read back from its SSM parameters, written out
//! here rather than taken from mgrid's catalogue), then `--once --output json` must return
//! those values, with exactly one GetMetricData call per refresh, counted by a proxy in front of
//! the emulator. moto really does refuse percentile statistics (HTTP 500 when data exists), so
//! the n/a path is exercised against it, not against a recording.
//!
//! The stack's alarms are among the resources moto's CloudFormation skips, so the alarm test
//! creates the stack's alarm itself (same name, same metric) and sets its state.

use crate::support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, StateValue, Statistic};
use mgrid_contract::StageParameter;
use serde_json::Value;
use support::{CountingProxy, Emulator, deploy_stage, mgrid_process_at, run, stage_parameter};

const STAGE: &str = "obs";

/// A metric as the stage's resources publish it, and the two values the test puts there.
struct Published {
    key: &'static str,
    namespace: &'static str,
    metric: &'static str,
    dimensions: Vec<(&'static str, String)>,
    values: [f64; 2],
}

async fn queue_name(emulator: &Emulator, parameter: StageParameter) -> String {
    let url = stage_parameter(emulator, STAGE, parameter).await;
    url.rsplit('/').next().unwrap().to_owned()
}

/// Every non-percentile signal of the stage, with distinct values.
async fn every_signal(emulator: &Emulator) -> Vec<Published> {
    let function = |name: String| vec![("FunctionName", name)];
    let queue = |name: String| vec![("QueueName", name)];
    let api = || {
        vec![
            ("ApiName", format!("marketgrid-{STAGE}-webhooks")),
            ("Stage", STAGE.to_owned()),
        ]
    };
    let processor = stage_parameter(emulator, STAGE, StageParameter::ProcessorFunction).await;
    let archiver = stage_parameter(emulator, STAGE, StageParameter::ArchiverFunction).await;
    let authorizer = stage_parameter(emulator, STAGE, StageParameter::AuthorizerFunction).await;
    let webhooks = queue_name(emulator, StageParameter::QueueUrl).await;
    let dlq = queue_name(emulator, StageParameter::DlqUrl).await;
    let pipe_dlq = queue_name(emulator, StageParameter::PipeDlqUrl).await;
    let pipe = |name: &str| vec![("PipeName", format!("marketgrid-{STAGE}-{name}"))];
    let p = |key, namespace, metric, dimensions, values| Published {
        key,
        namespace,
        metric,
        dimensions,
        values,
    };
    let (gateway, sqs, lambda) = ("AWS/ApiGateway", "AWS/SQS", "AWS/Lambda");
    let visible = "ApproximateNumberOfMessagesVisible";
    vec![
        p("received", gateway, "Count", api(), [1200.0, 1500.0]),
        p("api_4xx", gateway, "4XXError", api(), [3.0, 0.0]),
        p("api_5xx", gateway, "5XXError", api(), [0.0, 0.0]),
        p(
            "queue_depth",
            sqs,
            visible,
            queue(webhooks.clone()),
            [40.0, 2500.0],
        ),
        p(
            "oldest_age",
            sqs,
            "ApproximateAgeOfOldestMessage",
            queue(webhooks),
            [4.0, 3.0],
        ),
        p("dlq_depth", sqs, visible, queue(dlq), [0.0, 2.0]),
        p(
            "invocations",
            lambda,
            "Invocations",
            function(processor.clone()),
            [130.0, 160.0],
        ),
        p(
            "errors",
            lambda,
            "Errors",
            function(processor.clone()),
            [0.0, 0.0],
        ),
        p(
            "throttles",
            lambda,
            "Throttles",
            function(processor.clone()),
            [0.0, 0.0],
        ),
        p(
            "concurrency",
            lambda,
            "ConcurrentExecutions",
            function(processor),
            [7.0, 9.0],
        ),
        p(
            "authorizer_errors",
            lambda,
            "Errors",
            function(authorizer),
            [0.0, 0.0],
        ),
        p(
            "archiver_errors",
            lambda,
            "Errors",
            function(archiver),
            [1.0, 0.0],
        ),
        p(
            "archive_pipe",
            "AWS/EventBridge/Pipes",
            "ExecutionFailed",
            pipe("archive"),
            [0.0, 0.0],
        ),
        p(
            "notify_pipe",
            "AWS/EventBridge/Pipes",
            "ExecutionFailed",
            pipe("notify"),
            [0.0, 0.0],
        ),
        p("pipe_dlq_depth", sqs, visible, queue(pipe_dlq), [0.0, 0.0]),
        p(
            "transactions",
            "MarketGrid",
            "SuccessfulTransactions",
            vec![("Stage", STAGE.to_owned())],
            [1199.0, 1497.0],
        ),
    ]
}

async fn publish(client: &aws_sdk_cloudwatch::Client, metric: &Published) {
    support::cloudwatch::put_per_minute(
        client,
        metric.namespace,
        metric.metric,
        &metric.dimensions,
        &metric.values,
    )
    .await;
}

struct Fixture {
    emulator: Emulator,
    dir: tempfile::TempDir,
    cloudwatch: aws_sdk_cloudwatch::Client,
}

async fn deployed() -> Fixture {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    deploy_stage(&emulator, dir.path(), STAGE);
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&emulator.sdk_config().await);
    Fixture {
        emulator,
        dir,
        cloudwatch,
    }
}

/// One `metrics tail --once --output json` through a counting proxy.
fn snapshot_through(proxy: &CountingProxy, dir: &Path) -> Value {
    let output = mgrid_process_at(
        &proxy.endpoint,
        dir,
        &[
            "metrics", "tail", "--stage", STAGE, "--once", "--output", "json",
        ],
    )
    .output()
    .expect("run mgrid");
    assert!(
        output.status.success(),
        "metrics tail failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON on stdout")
}

fn row<'a>(snapshot: &'a Value, key: &str) -> &'a Value {
    support::local::series_row(snapshot, key)
}

#[tokio::test(flavor = "multi_thread")]
async fn one_refresh_returns_every_published_value_from_one_get_metric_data_call() {
    let fixture = deployed().await;
    let published = every_signal(&fixture.emulator).await;
    for metric in &published {
        publish(&fixture.cloudwatch, metric).await;
    }
    // The processor's dead letters by reason, as its EMF lines publish them: the failures
    // panel's dead-lettered row is their sum, asked for in the same call.
    for (reason, values) in [
        ("bad-signature", [2.0, 3.0]),
        ("no-signing-secret", [1.0, 4.0]),
    ] {
        support::cloudwatch::put_per_minute(
            &fixture.cloudwatch,
            "MarketGrid",
            "FailedWebhooks",
            &[("Stage", STAGE.to_owned()), ("Reason", reason.to_owned())],
            &values,
        )
        .await;
    }
    let proxy = CountingProxy::start(&fixture.emulator.endpoint);

    let snapshot = snapshot_through(&proxy, fixture.dir.path());
    let dead: Vec<f64> = row(&snapshot, "dead_lettered")["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["value"].as_f64().unwrap())
        .collect();
    assert_eq!(dead, [3.0, 7.0], "the dead-lettered row sums the reasons");

    assert_eq!(
        proxy.requests("GetMetricData"),
        1,
        "one GetMetricData call for every row"
    );
    assert_eq!(proxy.requests("DescribeAlarms"), 1);
    assert_eq!(snapshot["cost"]["getMetricDataCalls"], 1);
    for metric in &published {
        let row = row(&snapshot, metric.key);
        assert_eq!(
            row["latest"].as_f64(),
            Some(metric.values[1]),
            "{}: {row:#}",
            metric.key
        );
        let points: Vec<f64> = row["points"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["value"].as_f64().unwrap())
            .collect();
        assert_eq!(points, metric.values, "{}", metric.key);
    }
    // Levels from the values: 2 in the DLQ is past its alarm's level, but the alarm is not in
    // ALARM (the footer says none is), so the row says warning and why; 2,500 waiting is a
    // warning; an archiver error a minute before a quiet one still leaves the latest at ok.
    assert_eq!(row(&snapshot, "dlq_depth")["level"], "warning");
    assert!(
        row(&snapshot, "dlq_depth")["note"]
            .as_str()
            .is_some_and(|note| note.contains("not in ALARM"))
    );
    assert_eq!(row(&snapshot, "queue_depth")["level"], "warning");
    assert_eq!(row(&snapshot, "archiver_errors")["level"], "ok");
    assert_eq!(row(&snapshot, "received")["level"], "info");
    // Nothing was published for the percentiles: no data, not an error.
    assert_eq!(row(&snapshot, "latency_p99")["level"], "no-data");
    assert_eq!(snapshot["series"].as_array().unwrap().len(), 23);
    assert_eq!(snapshot["alarmsInAlarm"], serde_json::json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn percentiles_the_backend_refuses_show_na_while_every_other_row_shows() {
    let fixture = deployed().await;
    let api = vec![
        ("ApiName", format!("marketgrid-{STAGE}-webhooks")),
        ("Stage", STAGE.to_owned()),
    ];
    let received = Published {
        key: "received",
        namespace: "AWS/ApiGateway",
        metric: "Count",
        dimensions: api.clone(),
        values: [10.0, 20.0],
    };
    let latency = Published {
        key: "latency_p99",
        metric: "Latency",
        dimensions: api,
        values: [40.0, 60.0],
        ..received
    };
    publish(&fixture.cloudwatch, &received).await;
    publish(&fixture.cloudwatch, &latency).await;
    let proxy = CountingProxy::start(&fixture.emulator.endpoint);

    let snapshot = snapshot_through(&proxy, fixture.dir.path());

    for key in ["latency_p50", "latency_p99", "duration_p99"] {
        let row = row(&snapshot, key);
        assert_eq!(row["level"], "unavailable", "{key}");
        assert!(
            row["note"]
                .as_str()
                .unwrap()
                .contains("rejected percentile"),
            "{key}: {row:#}"
        );
    }
    assert_eq!(row(&snapshot, "received")["latest"].as_f64(), Some(20.0));
    // The refused call (and its one retry), then the call without percentiles.
    assert_eq!(proxy.requests("GetMetricData"), 3);
    let refused_calls = snapshot["cost"]["getMetricDataCalls"].as_u64().unwrap();
    assert_eq!(refused_calls, 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_alarm_in_alarm_is_listed_and_colours_its_row() {
    let fixture = deployed().await;
    let processor =
        stage_parameter(&fixture.emulator, STAGE, StageParameter::ProcessorFunction).await;
    let name = format!("marketgrid-{STAGE}-processor-errors");
    fixture
        .cloudwatch
        .put_metric_alarm()
        .alarm_name(&name)
        .namespace("AWS/Lambda")
        .metric_name("Errors")
        .dimensions(
            Dimension::builder()
                .name("FunctionName")
                .value(processor)
                .build(),
        )
        .statistic(Statistic::Sum)
        .period(60)
        .evaluation_periods(5)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
        .send()
        .await
        .expect("create the alarm");
    fixture
        .cloudwatch
        .set_alarm_state()
        .alarm_name(&name)
        .state_value(StateValue::Alarm)
        .state_reason("Threshold Crossed: 2 out of the last 5 datapoints")
        .send()
        .await
        .expect("set the alarm state");

    let once = run(
        &fixture.emulator,
        fixture.dir.path(),
        &["metrics", "tail", "--stage", STAGE, "--once"],
    );

    assert_eq!(once.code, 0, "{}", once.stderr);
    assert!(
        once.stdout.contains("alarms: 1 in ALARM"),
        "{}",
        once.stdout
    );
    assert!(
        once.stdout.contains(&format!("{name} since")),
        "{}",
        once.stdout
    );
    let errors_line = once
        .stdout
        .lines()
        .find(|l| l.contains("processor errors"))
        .unwrap();
    assert!(errors_line.contains("ALARM"), "{errors_line}");
}

#[test]
fn without_a_terminal_it_prints_a_snapshot_every_interval() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    deploy_stage(&emulator, dir.path(), STAGE);
    let mut child = mgrid_process_at(
        &emulator.endpoint,
        dir.path(),
        &[
            "metrics",
            "tail",
            "--stage",
            STAGE,
            "--interval",
            "5s",
            "--output",
            "json",
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .spawn()
    .expect("start mgrid");
    let started = Instant::now();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    let second: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    let elapsed = started.elapsed();
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(first["stage"], STAGE);
    assert_eq!(second["series"].as_array().unwrap().len(), 23);
    assert!(
        elapsed >= Duration::from_secs(5) && elapsed < Duration::from_secs(30),
        "two snapshots one interval apart took {elapsed:?}"
    );
}

#[test]
fn a_stage_that_is_not_deployed_is_refused_with_the_next_step() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let missing = run(
        &emulator,
        dir.path(),
        &["metrics", "tail", "--stage", "nowhere", "--once"],
    );
    assert_eq!(missing.code, 5, "{}", missing.stderr);
    assert!(
        missing.stderr.contains("/marketgrid/nowhere/"),
        "{}",
        missing.stderr
    );
    assert!(
        missing.stderr.contains("mgrid deploy --stage nowhere"),
        "{}",
        missing.stderr
    );
    assert!(missing.stdout.is_empty());
}
