//! `mgrid replay` against the AWS emulator (moto server): an archive written with the contract's
//! own code (key layout and object format) across several hours of three days and both
//! providers, plus objects that do not parse; then a window replay (exactly the window, in time
//! order per group, as the ingress queued them), filters, --only-missing with part of the ledger
//! present, --into-stage, a dry run, and a repeated run.
//!
//! The processor's event source mapping is disabled (see `disable_processor_mapping`): its
//! emulated mapping would take the replayed messages off the queue the test reads.

use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use aws_sdk_sqs::types::MessageSystemAttributeName;
use mgrid_contract::ledger::{Attribute, ledger_item};
use mgrid_contract::{
    ArchiveKey, ArchivedWebhook, Provider, StageParameter, TransactionRecord, WebhookEnvelope,
};
use serde_json::{Value, json};
use support::{Emulator, Run, deploy_stage, disable_processor_mapping, run, stage_parameter};

const HOUR: i64 = 3_600_000;
/// 2026-11-26T00:00:00Z
const DAY0: i64 = 1_795_651_200_000;

struct Stage {
    sqs: aws_sdk_sqs::Client,
    queue: String,
    bucket: String,
    table: String,
}

async fn deployed(emulator: &Emulator, dir: &Path, name: &str) -> Stage {
    deploy_stage(emulator, dir, name);
    disable_processor_mapping(emulator, name).await;
    Stage {
        sqs: aws_sdk_sqs::Client::new(&emulator.sdk_config().await),
        queue: stage_parameter(emulator, name, StageParameter::QueueUrl).await,
        bucket: stage_parameter(emulator, name, StageParameter::ArchiveBucket).await,
        table: stage_parameter(emulator, name, StageParameter::TableName).await,
    }
}

/// A webhook as the ingress received it: stripe events of four payment intents and paypal
/// events of three orders, each with its signature headers.
fn webhook(n: usize, received_at: i64) -> WebhookEnvelope {
    if n % 3 != 2 {
        let id = format!("evt_{n:04}");
        let body = json!({
            "id": id,
            "type": if n.is_multiple_of(2) { "payment_intent.succeeded" } else { "charge.refunded" },
            "created": received_at / 1000,
            "data": {"object": {
                "id": format!("pi_{}", n % 4),
                "payment_intent": format!("pi_{}", n % 4),
                "amount": 1000 + n,
                "currency": "usd",
                "metadata": {"vendor_id": format!("vendor-{}", n % 2)},
            }},
        });
        WebhookEnvelope {
            provider: Provider::Stripe,
            event_id: id,
            event_type: body["type"].as_str().unwrap().to_owned(),
            received_at,
            request_id: Some(format!("req-{n}")),
            signature_headers: BTreeMap::from([(
                "stripe-signature".to_owned(),
                format!("t={},v1=abc{n}", received_at / 1000),
            )]),
            body: body.to_string(),
        }
    } else {
        let id = format!("WH-{n:04}");
        let body = json!({
            "id": id,
            "event_type": "PAYMENT.CAPTURE.COMPLETED",
            "create_time": "2026-11-26T00:00:00Z",
            "resource": {
                "id": format!("CAP-{n}"),
                "amount": {"currency_code": "USD", "value": "10.00"},
                "custom_id": "vendor-7",
                "supplementary_data": {"related_ids": {"order_id": format!("ORDER-{}", n % 3)}},
            },
        });
        WebhookEnvelope {
            provider: Provider::Paypal,
            event_id: id,
            event_type: "PAYMENT.CAPTURE.COMPLETED".into(),
            received_at,
            request_id: Some(format!("req-{n}")),
            signature_headers: BTreeMap::from([
                ("paypal-transmission-id".to_owned(), format!("tx-{n}")),
                ("paypal-transmission-sig".to_owned(), "c2ln".to_owned()),
            ]),
            body: body.to_string(),
        }
    }
}

/// Writes the archive with the contract's key and object format: 6 webhooks in each of 8 hours
/// across 3 days; returns them by event id.
async fn archive(emulator: &Emulator, bucket: &str) -> BTreeMap<String, WebhookEnvelope> {
    let s3 = s3(emulator).await;
    let mut all = BTreeMap::new();
    let hours = [0, 1, 2, 23, 24, 25, 47, 50];
    let mut n = 0;
    for hour in hours {
        for minute in 0..6 {
            // Not in key order within the hour: time order must come from the objects.
            let at = DAY0 + hour * HOUR + (5 - minute) * 600_000 + 1234;
            let envelope = webhook(n, at);
            n += 1;
            s3.put_object()
                .bucket(bucket)
                .key(ArchiveKey::for_envelope(&envelope).to_string())
                .body(ArchivedWebhook::to_json(&envelope).into())
                .send()
                .await
                .unwrap();
            all.insert(envelope.event_id.clone(), envelope);
        }
    }
    // Objects that do not parse: skipped and reported, never fatal.
    for (key, body) in [
        (
            "webhooks/stripe/2026/11/26/01/evt_corrupt.json",
            "{not json".to_owned(),
        ),
        (
            "webhooks/stripe/2026/11/26/01/evt_elsewhere.json",
            String::from_utf8(ArchivedWebhook::to_json(&webhook(0, DAY0 + HOUR))).unwrap(),
        ),
        (
            "webhooks/paypal/2026/11/26/02/notes.txt",
            "hello".to_owned(),
        ),
        // A key XML 1.0 cannot carry: listed URL-encoded, reported, not fatal to the listing.
        (
            "webhooks/paypal/2026/11/26/02/evt\u{1b}[2Jesc.json",
            "hello".to_owned(),
        ),
    ] {
        s3.put_object()
            .bucket(bucket)
            .key(key)
            .body(body.into_bytes().into())
            .send()
            .await
            .unwrap();
    }
    all
}

async fn s3(emulator: &Emulator) -> aws_sdk_s3::Client {
    let config = emulator.sdk_config().await;
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    )
}

fn to_dynamodb(value: &Attribute) -> aws_sdk_dynamodb::types::AttributeValue {
    use aws_sdk_dynamodb::types::AttributeValue as V;
    match value {
        Attribute::S(s) => V::S(s.clone()),
        Attribute::N(n) => V::N(n.clone()),
        Attribute::Bool(b) => V::Bool(*b),
        Attribute::Null(b) => V::Null(*b),
        Attribute::M(map) => V::M(
            map.iter()
                .map(|(k, v)| (k.clone(), to_dynamodb(v)))
                .collect(),
        ),
    }
}

/// Records webhooks in the ledger the way the processor does.
async fn record(emulator: &Emulator, table: &str, webhooks: &[&WebhookEnvelope]) {
    let dynamodb = aws_sdk_dynamodb::Client::new(&emulator.sdk_config().await);
    for envelope in webhooks {
        let record = TransactionRecord::from_envelope(envelope).unwrap();
        let item = ledger_item(&record, envelope);
        dynamodb
            .put_item()
            .table_name(table)
            .set_item(Some(
                item.iter()
                    .map(|(k, v)| (k.clone(), to_dynamodb(v)))
                    .collect(),
            ))
            .send()
            .await
            .unwrap();
    }
}

/// Everything on a stage's webhook queue, in the order SQS hands it out (deleted as read).
async fn drain(stage: &Stage) -> Vec<aws_sdk_sqs::types::Message> {
    support::drain_queue(&stage.sqs, &stage.queue).await
}

fn event_id(message: &aws_sdk_sqs::types::Message) -> String {
    let body: Value = serde_json::from_str(message.body().unwrap()).unwrap();
    body["id"].as_str().unwrap().to_owned()
}

fn replay(emulator: &Emulator, dir: &Path, args: &[&str]) -> Run {
    let mut all = vec!["replay", "--stage", "dev", "--output", "json"];
    all.extend_from_slice(args);
    run(emulator, dir, &all)
}

fn at(hour: i64) -> String {
    mgrid_contract::clock::format_rfc3339(DAY0 + hour * HOUR)
}

fn in_window(all: &BTreeMap<String, WebhookEnvelope>, from: i64, to: i64) -> BTreeSet<String> {
    all.values()
        .filter(|w| w.received_at >= DAY0 + from * HOUR && w.received_at <= DAY0 + to * HOUR)
        .map(|w| w.event_id.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_window_replays_exactly_its_webhooks_in_order_as_the_ingress_queued_them() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let dev = deployed(&emulator, dir.path(), "dev").await;
    let all = archive(&emulator, &dev.bucket).await;

    // Day 0, 01:00 to day 1, 01:00: hours 1, 2, 23, 24 and the first of 25 are not all in.
    let (from, to) = (at(1), at(25));
    let expected = in_window(&all, 1, 25);
    let sent = replay(
        &emulator,
        dir.path(),
        &["--from", &from, "--to", &to, "--yes", "--wait", "0"],
    );
    // No processor runs (its mapping is off): sent, but not recorded, and said so (exit 8).
    assert_eq!(sent.code, 8, "{}", sent.stderr);
    let report = sent.json();
    assert_eq!(report["sent"], expected.len());
    assert_eq!(report["verdicts"]["pending"], expected.len());
    assert!(
        sent.stderr.contains("--only-missing --dry-run"),
        "the command that looks again: {}",
        sent.stderr
    );
    assert_eq!(report["matched"], expected.len());
    assert_eq!(report["prefixes"], 25 * 2);
    let unreadable: Vec<&str> = report["unreadable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        unreadable,
        [
            "webhooks/paypal/2026/11/26/02/evt\u{1b}[2Jesc.json",
            "webhooks/paypal/2026/11/26/02/notes.txt",
            "webhooks/stripe/2026/11/26/01/evt_corrupt.json",
            "webhooks/stripe/2026/11/26/01/evt_elsewhere.json",
        ]
    );
    let by_type: usize = report["byType"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["count"].as_u64().unwrap() as usize)
        .sum();
    assert_eq!(by_type, expected.len());

    let messages = drain(&dev).await;
    let got: Vec<String> = messages.iter().map(event_id).collect();
    assert_eq!(got.iter().cloned().collect::<BTreeSet<_>>(), expected);
    assert_eq!(got.len(), expected.len(), "each once");
    let mut last: BTreeMap<String, i64> = BTreeMap::new();
    for message in &messages {
        let original = &all[&event_id(message)];
        let queued = original.to_queue_message();
        let system = message.attributes().unwrap();
        assert_eq!(
            system[&MessageSystemAttributeName::MessageGroupId],
            queued.group_id
        );
        assert_ne!(
            system[&MessageSystemAttributeName::MessageDeduplicationId],
            original.event_id,
            "a replay has deduplication ids of its own"
        );
        if let Some(previous) = last.insert(queued.group_id.clone(), original.received_at) {
            assert!(
                previous < original.received_at,
                "group {} out of order",
                queued.group_id
            );
        }
        assert_eq!(message.body(), Some(original.body.as_str()));
        let attributes = message.message_attributes().unwrap();
        for (name, value) in &queued.attributes {
            assert_eq!(
                attributes[name].string_value(),
                Some(value.as_str()),
                "{name}"
            );
        }
        assert_eq!(attributes["mgrid-received-at"].data_type(), "Number");
        // The processor reads it back as the same webhook.
        let text: BTreeMap<String, String> = attributes
            .iter()
            .map(|(k, v)| (k.clone(), v.string_value().unwrap().to_owned()))
            .collect();
        assert_eq!(
            &WebhookEnvelope::from_queue_message(message.body().unwrap(), &text).unwrap(),
            original
        );
    }

    // The same replay again: sent again in full (fresh deduplication ids), nothing else.
    let again = replay(
        &emulator,
        dir.path(),
        &["--from", &from, "--to", &to, "--yes", "--wait", "0"],
    );
    assert_eq!(again.code, 8, "{}", again.stderr);
    assert_eq!(again.json()["sent"], expected.len());
    assert_eq!(drain(&dev).await.len(), expected.len());

    // A dry run sends nothing and says what would go.
    let dry = replay(
        &emulator,
        dir.path(),
        &["--from", &at(0), "--to", &at(51), "--dry-run"],
    );
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert_eq!(dry.json()["matched"], all.len());
    assert_eq!(dry.json()["sent"], 0);
    assert!(drain(&dev).await.is_empty());
    let text = run(
        &emulator,
        dir.path(),
        &[
            "replay",
            "--stage",
            "dev",
            "--from",
            &at(0),
            "--to",
            &at(51),
            "--dry-run",
        ],
    );
    assert!(
        text.stdout.contains("PAYMENT.CAPTURE.COMPLETED"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("nothing was sent"), "{}", text.stdout);
    assert!(text.stdout.contains("evt_corrupt.json"), "{}", text.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn filters_only_missing_and_into_stage() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let dev = deployed(&emulator, dir.path(), "dev").await;
    let staging = deployed(&emulator, dir.path(), "staging").await;
    let all = archive(&emulator, &dev.bucket).await;
    let (from, to) = (at(0), at(51));
    let count = |args: &[&str]| -> u64 {
        let mut full = vec!["--from", from.as_str(), "--to", to.as_str(), "--dry-run"];
        full.extend_from_slice(args);
        let run = replay(&emulator, dir.path(), &full);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        run.json()["matched"].as_u64().unwrap()
    };
    let of =
        |keep: &dyn Fn(&WebhookEnvelope) -> bool| all.values().filter(|w| keep(w)).count() as u64;
    assert_eq!(
        count(&["--provider", "paypal"]),
        of(&|w| w.provider == Provider::Paypal)
    );
    assert_eq!(
        count(&["--event-type", "charge.refunded"]),
        of(&|w| w.event_type == "charge.refunded")
    );
    assert_eq!(
        count(&["--vendor", "vendor-1"]),
        of(&|w| TransactionRecord::from_envelope(w).is_ok_and(|r| r.vendor_id == "vendor-1"))
    );
    assert!(count(&["--vendor", "vendor-1"]) > 0);
    assert_eq!(
        count(&["--event-id", "evt_0000", "--event-id", "WH-0002"]),
        2
    );

    // Half of the window is in the ledger: --only-missing sends exactly the other half.
    let recorded: Vec<&WebhookEnvelope> = all.values().step_by(2).collect();
    record(&emulator, &dev.table, &recorded).await;
    let missing = replay(
        &emulator,
        dir.path(),
        &[
            "--from",
            &from,
            "--to",
            &to,
            "--only-missing",
            "--yes",
            "--wait",
            "0",
        ],
    );
    assert_eq!(missing.code, 8, "{}", missing.stderr);
    assert_eq!(missing.json()["skippedPresent"], recorded.len());
    let sent: BTreeSet<String> = drain(&dev).await.iter().map(event_id).collect();
    let expected: BTreeSet<String> = all
        .keys()
        .filter(|id| !recorded.iter().any(|r| &&r.event_id == id))
        .cloned()
        .collect();
    assert_eq!(sent, expected);

    // Into another stage: its queue gets them, its ledger decides --only-missing.
    let into = replay(
        &emulator,
        dir.path(),
        &[
            "--from",
            &from,
            "--to",
            &to,
            "--provider",
            "stripe",
            "--into-stage",
            "staging",
            "--only-missing",
            "--yes",
            "--wait",
            "0",
        ],
    );
    assert_eq!(into.code, 8, "{}", into.stderr);
    assert_eq!(into.json()["intoStage"], "staging");
    assert_eq!(into.json()["skippedPresent"], 0);
    assert_eq!(
        drain(&staging).await.len() as u64,
        of(&|w| w.provider == Provider::Stripe)
    );
    assert!(drain(&dev).await.is_empty());

    // A protected stage is refused as a target without --force, before anything is read.
    let refused = replay(
        &emulator,
        dir.path(),
        &["--from", &from, "--into-stage", "prod", "--yes"],
    );
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("--force"), "{}", refused.stderr);

    // Bad times say what a time is.
    let bad = replay(&emulator, dir.path(), &["--from", "last tuesday"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("2h ago"), "{}", bad.stderr);
    let backwards = replay(&emulator, dir.path(), &["--from", &to, "--to", &from]);
    assert_eq!(backwards.code, 2, "{}", backwards.stderr);
}
