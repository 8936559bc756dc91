//! CloudWatch Logs Live Tail, which the AWS emulator does not serve, through a recorded answer
//! shaped like CloudWatch's own: an HTTP 200 whose body is an event stream (the binary
//! `application/vnd.amazon.eventstream` framing, written with the SDK's own framing crate) of a
//! session start, two session updates (the second sampled) and the session timing out, as
//! StartLiveTail answers after three hours.

use aws_sdk_cloudwatchlogs::config::{Credentials, Region};
use aws_smithy_eventstream::frame::write_message_to;
use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use mgrid::aws::logs::CloudWatchLogs;
use mgrid::decide::logs::{Follow, LogQuery, LogSource};
use mgrid_contract::decision::{DecisionLine, Level};
use serde_json::json;

const GROUP: &str =
    "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/marketgrid-prod-processor";
const API: &str =
    "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/apigateway/marketgrid-prod-access";
const T: i64 = 1_795_923_000_000;

/// One event-stream message, as CloudWatch frames it.
fn frame(message_type: &str, kind: &str, payload: serde_json::Value) -> Vec<u8> {
    let type_header = if message_type == "event" {
        ":event-type"
    } else {
        ":exception-type"
    };
    let message = Message::new(payload.to_string().into_bytes())
        .add_header(Header::new(
            ":message-type",
            HeaderValue::String(message_type.to_owned().into()),
        ))
        .add_header(Header::new(
            type_header,
            HeaderValue::String(kind.to_owned().into()),
        ))
        .add_header(Header::new(
            ":content-type",
            HeaderValue::String("application/json".into()),
        ));
    let mut bytes = Vec::new();
    write_message_to(&message, &mut bytes).expect("frame the message");
    bytes
}

fn result(group: &str, at: i64, message: &str) -> serde_json::Value {
    json!({
        "logStreamName": "2026/11/30/[$LATEST]abc",
        "logGroupIdentifier": group,
        "message": message,
        "timestamp": at,
        "ingestionTime": at + 900,
    })
}

fn decision(at: i64, event: &str) -> String {
    let mut line = DecisionLine::new(at, Level::Info, "processor", "recorded");
    line.event_id = Some(event.to_owned());
    line.provider = Some("stripe".into());
    line.to_line()
}

#[tokio::test]
async fn a_live_tail_session_streams_lines_says_when_it_samples_and_ends() {
    let mut body = frame(
        "event",
        "sessionStart",
        json!({"requestId": "r", "sessionId": "s", "logGroupIdentifiers": [GROUP, API]}),
    );
    body.extend(frame(
        "event",
        "sessionUpdate",
        json!({
            "sessionMetadata": {"sampled": false},
            "sessionResults": [
                result(GROUP, T, &decision(T, "evt_1")),
                result(API, T + 5, r#"{"requestId":"r-1","status":"200"}"#),
                result("arn:aws:logs:eu-west-1:123456789012:log-group:/somebody/else", T + 6, "not ours"),
            ],
        }),
    ));
    body.extend(frame(
        "event",
        "sessionUpdate",
        json!({
            "sessionMetadata": {"sampled": true},
            "sessionResults": [result(GROUP, T + 1_000, &decision(T + 1_000, "evt_2"))],
        }),
    ));
    body.extend(frame(
        "exception",
        "SessionTimeoutException",
        json!({"message": "Session timed out after 3 hours"}),
    ));
    let request = http::Request::builder()
        .uri("https://streaming-logs.eu-west-1.amazonaws.com/")
        .body(SdkBody::empty())
        .unwrap();
    let response = http::Response::builder()
        .status(200)
        .header("content-type", "application/vnd.amazon.eventstream")
        .body(SdkBody::from(body))
        .unwrap();
    let replay = StaticReplayClient::new(vec![ReplayEvent::new(request, response)]);
    let config = aws_sdk_cloudwatchlogs::Config::builder()
        .behavior_version_latest()
        .region(Region::new("eu-west-1"))
        .credentials_provider(Credentials::new("AKID", "SECRET", None, None, "test"))
        .http_client(replay.clone())
        .build();
    let logs = CloudWatchLogs::new(
        aws_sdk_cloudwatchlogs::Client::from_conf(config),
        "prod".parse().unwrap(),
    );
    let query = LogQuery {
        sources: LogSource::ALL.to_vec(),
        event_id: Some("evt_1".into()),
        ..LogQuery::default()
    };
    let mut session = logs
        .live_tail(vec![GROUP.into(), API.into()], &query)
        .await
        .expect("the session starts");

    // The request names the groups by ARN and narrows by the query's pattern.
    let sent = replay.actual_requests().next().expect("one request");
    let sent: serde_json::Value =
        serde_json::from_slice(sent.body().bytes().expect("a JSON body")).unwrap();
    assert_eq!(sent["logGroupIdentifiers"], json!([GROUP, API]));
    assert_eq!(sent["logEventFilterPattern"], "\"evt_1\"");

    let mut follow = Follow::default();
    let first = session.next().await.unwrap().expect("an update");
    assert!(!first.sampled);
    let sources: Vec<LogSource> = first.lines.iter().map(|l| l.source).collect();
    assert_eq!(
        sources,
        [LogSource::Processor, LogSource::Api],
        "a group not the stage's is dropped"
    );
    assert_eq!(
        first.lines[0]
            .decision
            .as_ref()
            .and_then(|d| d.event_id.as_deref()),
        Some("evt_1")
    );
    assert_eq!(follow.fresh(first.lines.clone()).len(), 2);
    assert!(follow.fresh(first.lines).is_empty(), "a line is shown once");

    let second = session.next().await.unwrap().expect("an update");
    assert!(second.sampled, "the sampled update says so");
    assert_eq!(second.lines.len(), 1);

    let ended = session.next().await.expect_err("the session timed out");
    assert!(
        ended.what.contains("Live Tail session ended"),
        "{}",
        ended.what
    );
    assert!(ended.transient, "the follow goes on by polling");
}
