//! `mgrid logs` and `mgrid trace` against the AWS emulator (moto server). The emulator runs no
//! Lambda code, so the test writes what the functions would have written, with the contract's
//! own code: decision lines into the processor's log group (CloudWatch Logs `PutLogEvents`), a
//! ledger item (DynamoDB), an archived object (S3), a dead letter with its reason (SQS). Then
//! the commands read them back as they would on AWS.
//!
//! What the emulator does not do here: CloudWatch Logs filter patterns beyond plain and quoted
//! terms (mgrid sends only those, and checks every line itself), and Live Tail (not used).

use crate::support;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use mgrid_contract::decision::{DecisionLine, Level};
use mgrid_contract::ledger::ledger_item;
use mgrid_contract::{
    ArchiveKey, ArchivedWebhook, Provider, StageParameter, TransactionRecord, WebhookEnvelope,
};
use serde_json::{Value, json};
use support::{Emulator, deploy_stage, mgrid_process, run, stage_parameter, text};

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as i64
}

async fn logs_client(emulator: &Emulator) -> aws_sdk_cloudwatchlogs::Client {
    aws_sdk_cloudwatchlogs::Client::new(&emulator.sdk_config().await)
}

/// Creates the group (when the stack has not) and a stream, and writes `events` to it.
async fn write_log(emulator: &Emulator, group: &str, events: &[(i64, String)]) {
    let logs = logs_client(emulator).await;
    let _ = logs.create_log_group().log_group_name(group).send().await;
    let stream = format!("2026/12/01/[$LATEST]{}", events.first().map_or(0, |e| e.0));
    logs.create_log_stream()
        .log_group_name(group)
        .log_stream_name(&stream)
        .send()
        .await
        .expect("create a log stream");
    let events: Vec<InputLogEvent> = events
        .iter()
        .map(|(at, message)| {
            InputLogEvent::builder()
                .timestamp(*at)
                .message(message)
                .build()
                .unwrap()
        })
        .collect();
    logs.put_log_events()
        .log_group_name(group)
        .log_stream_name(&stream)
        .set_log_events(Some(events))
        .send()
        .await
        .expect("put log events");
}

fn decision(at: i64, outcome: &str, level: Level, event: &str, reason: Option<&str>) -> String {
    let mut line = DecisionLine::new(at, level, "processor", outcome);
    line.event_id = Some(event.to_owned());
    line.provider = Some("stripe".into());
    line.group = Some(format!("stripe:pi_{event}"));
    line.reason = reason.map(str::to_owned);
    line.receive_count = Some(1);
    line.duration_ms = Some(7);
    line.request_id = Some(format!("req-{event}"));
    line.to_line()
}

fn json_lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[tokio::test]
async fn logs_interleave_the_sources_filter_on_fields_and_follow_without_repeats() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let t = now();
    write_log(
        &emulator,
        "/aws/apigateway/marketgrid-dev-access",
        &[
            (t - 50_000, r#"{"requestId":"r-1","status":"200"}"#.into()),
            (t - 40_000, r#"{"requestId":"r-2","status":"403"}"#.into()),
        ],
    )
    .await;
    write_log(
        &emulator,
        "/aws/lambda/marketgrid-dev-authorizer",
        &[(t - 45_000, "INFO allowed provider=stripe key_id=k-1".into())],
    )
    .await;
    write_log(
        &emulator,
        "/aws/lambda/marketgrid-dev-processor",
        &[
            (
                t - 3 * 3_600_000,
                decision(t - 3 * 3_600_000, "recorded", Level::Info, "evt_0", None),
            ),
            (
                t - 44_000,
                decision(t - 44_000, "recorded", Level::Info, "evt_1", None),
            ),
            (
                t - 30_000,
                decision(
                    t - 30_000,
                    "dead-lettered",
                    Level::Warn,
                    "evt_2",
                    Some("bad-signature"),
                ),
            ),
            (
                t - 20_000,
                r#"{"_aws":{"Timestamp":1,"CloudWatchMetrics":[]},"Recorded":1}"#.into(),
            ),
            (t - 10_000, "WARN ledger write failed event_id=evt_1".into()),
        ],
    )
    .await;

    // Every source, by time; metric lines and lines before --since left out; the archiver's
    // group does not exist, and that is said.
    let all = run(&emulator, dir.path(), &["logs", "--stage", "dev"]);
    assert_eq!(all.code, 0, "{}", all.stderr);
    let order: Vec<&str> = all
        .stdout
        .lines()
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .collect();
    assert_eq!(
        order,
        [
            "api",
            "authorizer",
            "processor",
            "api",
            "processor",
            "processor"
        ],
        "{}",
        all.stdout
    );
    assert!(
        all.stdout
            .contains("dead-lettered  stripe evt_2 bad-signature"),
        "{}",
        all.stdout
    );
    assert!(!all.stdout.contains("evt_0") && !all.stdout.contains("_aws"));
    assert!(
        all.stderr
            .contains("/aws/lambda/marketgrid-dev-archiver does not exist"),
        "{}",
        all.stderr
    );

    // By field: the decision about evt_1, not the warning that mentions it.
    let by_event = run(
        &emulator,
        dir.path(),
        &[
            "logs",
            "--stage",
            "dev",
            "--event-id",
            "evt_1",
            "--output",
            "json",
        ],
    );
    let lines = json_lines(&by_event.stdout);
    assert_eq!(lines.len(), 1, "{}", by_event.stdout);
    assert_eq!(lines[0]["decision"]["outcome"], "recorded");
    assert_eq!(lines[0]["source"], "processor");

    let warnings = run(
        &emulator,
        dir.path(),
        &[
            "logs", "--stage", "dev", "--level", "warn", "--output", "json",
        ],
    );
    let messages: Vec<String> = json_lines(&warnings.stdout)
        .iter()
        .map(|l| l["message"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        messages.len(),
        3,
        "the 403, the dead letter, the warning: {messages:?}"
    );

    let older = run(
        &emulator,
        dir.path(),
        &[
            "logs",
            "--stage",
            "dev",
            "processor",
            "--since",
            "4h",
            "--filter",
            "evt_0",
        ],
    );
    assert_eq!(older.stdout.lines().count(), 1, "{}", older.stdout);
    let metrics = run(
        &emulator,
        dir.path(),
        &["logs", "--stage", "dev", "processor", "--metrics", "-v"],
    );
    assert!(metrics.stdout.contains("_aws"));
    assert!(
        metrics.calls() <= 3,
        "one read of one group (plus credentials): {}",
        metrics.stderr
    );

    // A follow: the lines so far once, then a line written after it started, once.
    let mut follow = mgrid_process(
        &emulator,
        dir.path(),
        &[
            "logs",
            "--stage",
            "dev",
            "processor",
            "--follow",
            "--output",
            "json",
        ],
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::fs::File::create(dir.path().join("follow.err")).unwrap())
    .spawn()
    .unwrap();
    let seen = support::stdout_lines(&mut follow);
    let mut shown = Vec::new();
    for _ in 0..3 {
        shown.push(
            seen.recv_timeout(Duration::from_secs(30))
                .expect("the lines so far"),
        );
    }
    let later = now();
    write_log(
        &emulator,
        "/aws/lambda/marketgrid-dev-processor",
        &[(
            later,
            decision(later, "recorded", Level::Info, "evt_3", None),
        )],
    )
    .await;
    let line = seen
        .recv_timeout(Duration::from_secs(30))
        .expect("the follow shows the new line");
    assert!(line.contains("evt_3"), "{line}");
    // Several more polls (every 2 s, each from a minute back): nothing again.
    assert!(
        seen.recv_timeout(Duration::from_secs(7)).is_err(),
        "a line shown twice"
    );
    follow.kill().unwrap();
    let _ = follow.wait();
    // The emulator serves no Live Tail: the follow says so and polls.
    let said = std::fs::read_to_string(dir.path().join("follow.err")).unwrap();
    assert!(
        said.contains("Live Tail is not available here")
            && said.contains("polling FilterLogEvents"),
        "{said}"
    );
}

/// A Stripe webhook as the ingress received it.
/// Writes one event to `group` by a raw `PutLogEvents` request whose timestamp has a fraction.
/// The SDK cannot send one (its field is an integer), and AWS would refuse it; the emulator
/// stores it and answers `FilterLogEvents` with it, an answer the SDK cannot parse. That is
/// the case under test: an answer mgrid cannot read, for one log group among several.
fn write_fractional_event(emulator: &Emulator, group: &str, stream: &str, at: i64) {
    use std::io::{Read, Write};
    let body = json!({
        "logGroupName": group,
        "logStreamName": stream,
        "logEvents": [{"timestamp": at as f64 + 0.5, "message": "INFO a line at a fractional time"}],
    })
    .to_string();
    let address = emulator.endpoint.trim_start_matches("http://");
    let mut connection = std::net::TcpStream::connect(address).expect("reach the emulator");
    write!(
        connection,
        "POST / HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/x-amz-json-1.1\r\n\
         X-Amz-Target: Logs_20140328.PutLogEvents\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=testing/20261204/us-east-1/logs/aws4_request, SignedHeaders=host, Signature=0\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send the request");
    let mut answer = String::new();
    connection
        .read_to_string(&mut answer)
        .expect("read the answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test]
async fn a_log_group_whose_answer_cannot_be_read_is_named_and_the_others_are_shown() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let t = now();
    let processor = "/aws/lambda/marketgrid-dev-processor";
    write_log(
        &emulator,
        "/aws/lambda/marketgrid-dev-authorizer",
        &[(t - 45_000, "INFO allowed provider=stripe key_id=k-1".into())],
    )
    .await;
    write_log(
        &emulator,
        processor,
        &[(
            t - 44_000,
            decision(t - 44_000, "recorded", Level::Info, "evt_1", None),
        )],
    )
    .await;
    let stream = format!("2026/12/01/[$LATEST]{}", t - 44_000);
    write_fractional_event(&emulator, processor, &stream, t - 40_000);

    let read = run(&emulator, dir.path(), &["logs", "--stage", "dev"]);
    // The authorizer's line is shown; the processor's group is named with why it is missing.
    assert!(
        read.stdout.contains("allowed provider=stripe"),
        "{}",
        read.stdout
    );
    assert!(
        read.stderr.contains(&format!(
            "{processor} could not be read: the lines shown are the other sources' only"
        )),
        "{}",
        read.stderr
    );
    // Said as what it is: an answer that could not be read, with the parser's reason, never
    // "without an error message"; and not exit 0, since lines are missing.
    assert!(
        read.stderr
            .contains("logs:FilterLogEvents on log group /aws/lambda/marketgrid-dev-processor answered HTTP 200, but the answer could not be read"),
        "{}",
        read.stderr
    );
    assert!(
        !read.stderr.contains("without an error message"),
        "{}",
        read.stderr
    );
    assert!(read.stderr.contains("--endpoint-url"), "{}", read.stderr);
    assert!(
        !read.stderr.contains("no lines match"),
        "lines are missing, not absent: {}",
        read.stderr
    );
    assert_eq!(read.code, 1, "{}", read.stderr);

    // The processor alone: nothing else to show, so the read fails with the same reason.
    let alone = run(
        &emulator,
        dir.path(),
        &["logs", "--stage", "dev", "processor", "--output", "json"],
    );
    assert_eq!(alone.code, 1, "{}", alone.stderr);
    let error: Value = serde_json::from_str(alone.stderr.trim()).expect("a JSON error document");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("answered HTTP 200, but the answer could not be read"),
        "{error}"
    );
}

fn envelope(event: &str, received_at: i64) -> WebhookEnvelope {
    let body = json!({
        "id": event,
        "type": "payment_intent.succeeded",
        "created": received_at / 1000,
        "data": {"object": {"id": format!("pi_{event}"), "object": "payment_intent", "amount": 1999,
            "currency": "usd", "metadata": {"vendor_id": "vendor-42"}}},
    });
    WebhookEnvelope {
        provider: Provider::Stripe,
        event_id: event.to_owned(),
        event_type: "payment_intent.succeeded".into(),
        received_at,
        request_id: Some(format!("req-{event}")),
        signature_headers: BTreeMap::from([(
            "stripe-signature".to_owned(),
            format!("t={},v1=abc", received_at / 1000),
        )]),
        body: body.to_string(),
    }
}

fn trace(emulator: &Emulator, dir: &Path, event: &str) -> (i32, Value, String) {
    let traced = run(
        emulator,
        dir,
        &["trace", event, "--stage", "dev", "--output", "json", "-v"],
    );
    let calls = traced.calls();
    assert!(
        calls <= 20,
        "a trace is a few bounded lookups, not {calls} calls"
    );
    (traced.code, traced.json(), traced.stderr)
}

#[tokio::test]
async fn a_webhook_in_each_state_is_traced_to_its_verdict() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    deploy_stage(&emulator, dir.path(), "dev");
    let config = emulator.sdk_config().await;
    let t = now() - 3_600_000;

    // Recorded and archived, as the processor and the archive pipe leave it.
    let recorded = envelope("evt_rec", t);
    let record = TransactionRecord::from_envelope(&recorded).expect("a transaction");
    let item = ledger_item(&record, &recorded);
    aws_sdk_dynamodb::Client::new(&config)
        .put_item()
        .table_name(stage_parameter(&emulator, "dev", StageParameter::TableName).await)
        .set_item(Some(
            item.iter()
                .map(|(k, v)| (k.clone(), mgrid_pipeline::aws::to_attribute_value(v)))
                .collect(),
        ))
        .send()
        .await
        .expect("put the ledger item");
    aws_sdk_s3::Client::new(&config)
        .put_object()
        .bucket(stage_parameter(&emulator, "dev", StageParameter::ArchiveBucket).await)
        .key(ArchiveKey::for_envelope(&recorded).to_string())
        .body(ArchivedWebhook::to_json(&recorded).into())
        .send()
        .await
        .expect("archive it");

    // Dead-lettered for a bad signature, as the processor sends it to the DLQ, and its line.
    let dead = envelope("evt_dead", t);
    let queued = dead.to_queue_message();
    let sqs = aws_sdk_sqs::Client::new(&config);
    let dlq = stage_parameter(&emulator, "dev", StageParameter::DlqUrl).await;
    let mut send = sqs
        .send_message()
        .queue_url(&dlq)
        .message_body(&queued.body)
        .message_group_id(&queued.group_id)
        .message_deduplication_id(&queued.deduplication_id)
        .message_attributes("mgrid-failure-reason", text("bad-signature"))
        .message_attributes(
            "mgrid-failure-detail",
            text("no v1 signature matches the stage's Stripe signing secrets"),
        );
    for (name, value) in &queued.attributes {
        send = send.message_attributes(name, text(value));
    }
    send.send().await.expect("dead-letter it");
    write_log(
        &emulator,
        "/aws/lambda/marketgrid-dev-processor",
        &[(
            t + 1_000,
            decision(
                t + 1_000,
                "dead-lettered",
                Level::Warn,
                "evt_dead",
                Some("bad-signature"),
            ),
        )],
    )
    .await;

    write_log(
        &emulator,
        "/aws/apigateway/marketgrid-dev-access",
        &[
            (
                t - 2_000,
                r#"{"requestId":"req-other","status":"200"}"#.into(),
            ),
            (t, r#"{"requestId":"req-evt_dead","status":"200"}"#.into()),
        ],
    )
    .await;

    let (code, found, stderr) = trace(&emulator, dir.path(), "evt_rec");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        found["verdict"]["kind"], "recorded-and-archived",
        "{found:#}"
    );
    assert_eq!(found["ledger"][0]["vendorId"], "vendor-42");
    assert_eq!(found["ledger"][0]["amount"], 1999);
    // On AWS the queue is not read; the notification is the notify receipt on the item, which
    // the notifier has not written yet.
    assert_eq!(found["whereabouts"]["queueRead"], false);
    assert_eq!(found["whereabouts"]["notification"]["state"], "not-told");
    // Once it has, the trace names when and the topic's message id.
    let told = mgrid_pipeline::aws::DynamoReceipts::new(
        aws_sdk_dynamodb::Client::new(&config),
        stage_parameter(&emulator, "dev", StageParameter::TableName).await,
    );
    let receipt = mgrid_contract::settlement::Receipt::Notified {
        message_id: "5f1b2c3d-0000-4000-8000-00000000abcd".into(),
        at: t + 2_000,
        by: mgrid_contract::settlement::BY_PIPELINE.into(),
    };
    use mgrid_pipeline::ports::Receipts;
    let written = told.settle(&[("stripe:evt_rec".into(), receipt)]).await;
    assert!(written.iter().all(Result::is_ok), "{written:?}");
    let (_, found, _) = trace(&emulator, dir.path(), "evt_rec");
    assert_eq!(found["whereabouts"]["notification"]["state"], "told");
    assert_eq!(
        found["whereabouts"]["notification"]["messageId"],
        "5f1b2c3d-0000-4000-8000-00000000abcd"
    );
    assert_eq!(
        found["ledger"].as_array().unwrap().len(),
        1,
        "stripe only: paypal has no evt_rec"
    );

    let (code, dead, stderr) = trace(&emulator, dir.path(), "evt_dead");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(dead["verdict"]["kind"], "dead-lettered", "{dead:#}");
    assert_eq!(dead["deadLetters"][0]["reason"], "bad-signature");
    assert_eq!(dead["decisions"][0]["outcome"], "dead-lettered");
    let received = dead["received"].as_array().unwrap();
    assert_eq!(
        received.len(),
        1,
        "the request that delivered it, by its id: {dead:#}"
    );
    assert!(
        received[0]["message"]
            .as_str()
            .unwrap()
            .contains("req-evt_dead")
    );
    assert!(
        dead["verdict"]["next"]
            .as_str()
            .unwrap()
            .contains("mgrid dlq redrive --stage dev --provider stripe --event-id evt_dead"),
        "{dead:#}"
    );

    let (code, nowhere, _) = trace(&emulator, dir.path(), "evt_never");
    assert_eq!(code, 5, "not found exits 5");
    assert_eq!(nowhere["verdict"]["kind"], "not-found");
    assert!(nowhere["verdict"]["next"].as_str().unwrap().contains("api"));

    // The trace read the dead letter and put it back: it is still there for the redrive.
    let back = sqs
        .receive_message()
        .queue_url(&dlq)
        .max_number_of_messages(10)
        .send()
        .await
        .expect("receive");
    assert_eq!(back.messages().len(), 1, "the dead letter is visible again");
}
