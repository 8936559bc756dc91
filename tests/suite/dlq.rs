//! `mgrid dlq` against the AWS emulator (moto server): webhooks pushed through the webhook queue
//! until SQS dead-letters them, plus dead letters as the processor writes them (with its failure
//! reason) and ones with bodies no processor can read; then stats, peek, dry run, a filtered and
//! a full redrive (per-group order and attributes checked on the webhook queue), bad input, and
//! SIGKILL at several points of a redrive, after which no webhook is missing.
//!
//! The processor's event source mapping is disabled first (see `disable_processor_mapping`).

use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::{
    MessageAttributeValue, MessageSystemAttributeName, SendMessageBatchRequestEntry,
};
use mgrid_contract::StageParameter;
use serde_json::{Value, json};
use support::{
    Emulator, Run, deploy_stage, disable_processor_mapping, mgrid_process, run, stage_parameter,
    text,
};

/// The deployed stage `dev`, as the test drives it.
struct Pipeline {
    sqs: aws_sdk_sqs::Client,
    queue: String,
    dlq: String,
}

/// A webhook the test sent, by event id.
#[derive(Debug, Clone)]
struct Sent {
    group: String,
    /// Its position in its group.
    seq: usize,
}

const RECEIVED_AT: &str = "1764403200000";

async fn deployed(emulator: &Emulator, dir: &Path) -> Pipeline {
    deploy_stage(emulator, dir, "dev");
    disable_processor_mapping(emulator, "dev").await;
    Pipeline {
        sqs: aws_sdk_sqs::Client::new(&emulator.sdk_config().await),
        queue: stage_parameter(emulator, "dev", StageParameter::QueueUrl).await,
        dlq: stage_parameter(emulator, "dev", StageParameter::DlqUrl).await,
    }
}

fn number(value: &str) -> MessageAttributeValue {
    MessageAttributeValue::builder()
        .data_type("Number")
        .string_value(value)
        .build()
        .unwrap()
}

/// A webhook as the ingress queues it: a provider event body, its group, its event id as the
/// deduplication id, the provider and receive time as attributes.
fn webhook(group: usize, seq: usize) -> (String, SendMessageBatchRequestEntry, Sent) {
    let (provider, event_id, group_id, body) = if group.is_multiple_of(2) {
        let intent = format!("pi_{group:04}");
        let event = format!("evt_{group:04}_{seq:04}");
        let body = json!({
            "id": event,
            "object": "event",
            "type": if seq.is_multiple_of(3) { "payment_intent.succeeded" } else { "charge.succeeded" },
            "data": {"object": {"id": format!("ch_{group}_{seq}"), "payment_intent": intent, "amount": 1000 + seq}},
            "seq": seq,
        });
        ("stripe", event, format!("stripe:{intent}"), body)
    } else {
        let order = format!("ORDER-{group:04}");
        let event = format!("WH-{group:04}-{seq:04}");
        let body = json!({
            "id": event,
            "event_type": "PAYMENT.CAPTURE.COMPLETED",
            "resource": {"id": format!("CAP-{group}-{seq}"), "supplementary_data": {"related_ids": {"order_id": order}}},
            "seq": seq,
        });
        ("paypal", event, format!("paypal:{order}"), body)
    };
    let entry = SendMessageBatchRequestEntry::builder()
        .id(format!("g{group}s{seq}"))
        .message_body(body.to_string())
        .message_group_id(&group_id)
        .message_deduplication_id(&event_id)
        .message_attributes("mgrid-provider", text(provider))
        .message_attributes("mgrid-received-at", number(RECEIVED_AT))
        .build()
        .unwrap();
    (
        event_id,
        entry,
        Sent {
            group: group_id,
            seq,
        },
    )
}

impl Pipeline {
    async fn send(&self, queue: &str, entries: Vec<SendMessageBatchRequestEntry>) {
        for chunk in entries.chunks(10) {
            let sent = self
                .sqs
                .send_message_batch()
                .queue_url(queue)
                .set_entries(Some(chunk.to_vec()))
                .send()
                .await
                .unwrap();
            assert!(sent.failed().is_empty(), "{:?}", sent.failed());
        }
    }

    /// Sends `per_group` webhooks to each of `groups` groups, interleaving groups the way
    /// deliveries arrive.
    async fn send_webhooks(
        &self,
        queue: &str,
        groups: usize,
        per_group: usize,
    ) -> BTreeMap<String, Sent> {
        let mut sent = BTreeMap::new();
        let mut entries = Vec::new();
        for seq in 0..per_group {
            for group in 0..groups {
                let (event_id, entry, record) = webhook(group, seq);
                entries.push(entry);
                sent.insert(event_id, record);
            }
        }
        self.send(queue, entries).await;
        sent
    }

    /// Receives from the webhook queue without deleting, visibility 0, until the queue's
    /// redrive policy (ten receives) has moved everything to the dead-letter queue.
    async fn dead_letter_everything(&self) {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let received = self
                .sqs
                .receive_message()
                .queue_url(&self.queue)
                .max_number_of_messages(10)
                .visibility_timeout(0)
                .send()
                .await
                .unwrap();
            if received.messages().is_empty() && self.depth(&self.queue).await == (0, 0) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the webhook queue did not dead-letter"
            );
        }
    }

    /// (visible, in flight)
    async fn depth(&self, queue: &str) -> (u64, u64) {
        support::queue_depth(&self.sqs, queue).await
    }

    /// Waits until nothing in `queue` is hidden (a killed redrive's hold has run out).
    async fn settle(&self, queue: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.depth(queue).await.1 > 0 {
            assert!(Instant::now() < deadline, "messages stayed in flight");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Receives and deletes everything in `queue`, in the order SQS hands it out.
    async fn drain(&self, queue: &str) -> Vec<aws_sdk_sqs::types::Message> {
        support::drain_queue(&self.sqs, queue).await
    }
}

fn event_id(message: &aws_sdk_sqs::types::Message) -> String {
    let body: Value = serde_json::from_str(message.body().unwrap()).unwrap_or_default();
    body["id"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| message.body().unwrap().to_owned())
}

fn dlq(emulator: &Emulator, dir: &Path, args: &[&str]) -> Run {
    let mut all = vec!["dlq"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--stage", "dev"]);
    run(emulator, dir, &all)
}

/// Dead letters as the processor writes them: its reason and detail as attributes.
async fn processor_rejects(pipeline: &Pipeline) -> BTreeSet<String> {
    let mut entries = Vec::new();
    let mut ids = BTreeSet::new();
    for i in 0..12 {
        let event = format!("evt_badsig_{i:02}");
        let body = json!({"id": event, "type": "charge.refunded", "data": {"object": {"id": format!("ch_bad_{i}")}}});
        entries.push(
            SendMessageBatchRequestEntry::builder()
                .id(format!("b{i}"))
                .message_body(body.to_string())
                .message_group_id(format!("stripe:ch_bad_{i}"))
                .message_deduplication_id(&event)
                .message_attributes("mgrid-provider", text("stripe"))
                .message_attributes("mgrid-received-at", number(RECEIVED_AT))
                .message_attributes("mgrid-failure-reason", text("bad-signature"))
                .message_attributes(
                    "mgrid-failure-detail",
                    text("no v1 signature matches the signing secret"),
                )
                .build()
                .unwrap(),
        );
        ids.insert(event);
    }
    for (i, body) in ["not json at all", "{\"id\": 42}", "{\"type\": \"x\""]
        .iter()
        .enumerate()
    {
        entries.push(
            SendMessageBatchRequestEntry::builder()
                .id(format!("x{i}"))
                .message_body(*body)
                .message_group_id(format!("paypal:malformed-{i}"))
                .message_deduplication_id(format!("malformed-{i}"))
                .message_attributes("mgrid-provider", text("paypal"))
                .message_attributes("mgrid-received-at", number(RECEIVED_AT))
                .message_attributes("mgrid-failure-reason", text("malformed-body"))
                .message_attributes(
                    "mgrid-failure-detail",
                    text("the body is not a JSON object"),
                )
                .build()
                .unwrap(),
        );
        ids.insert(body.to_string());
    }
    pipeline.send(&pipeline.dlq.clone(), entries).await;
    ids
}

#[tokio::test(flavor = "multi_thread")]
async fn dead_letters_are_inspected_then_redriven_in_order_with_their_attributes() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let pipeline = deployed(&emulator, dir.path()).await;

    // 20 groups of 10 through the webhook queue until SQS dead-letters them.
    let sent = pipeline
        .send_webhooks(&pipeline.queue.clone(), 20, 10)
        .await;
    pipeline.dead_letter_everything().await;
    let rejected = processor_rejects(&pipeline).await;
    let total = sent.len() + rejected.len();
    assert_eq!(pipeline.depth(&pipeline.dlq).await, (total as u64, 0));

    // stats: depths, and a breakdown of what a FIFO queue shows without consuming.
    let stats = dlq(&emulator, dir.path(), &["stats", "--output", "json"]);
    assert_eq!(stats.code, 0, "{}", stats.stderr);
    let report = stats.json();
    assert_eq!(report["deadLetterQueue"]["visible"], total);
    assert_eq!(report["webhookQueue"]["visible"], 0);
    let reasons: BTreeSet<(String, String)> = report["breakdown"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["provider"].as_str().unwrap().to_owned(),
                row["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected: BTreeSet<(String, String)> = [
        ("paypal", "malformed-body"),
        ("paypal", "max-receives"),
        ("stripe", "bad-signature"),
        ("stripe", "max-receives"),
    ]
    .iter()
    .map(|(p, r)| (p.to_string(), r.to_string()))
    .collect();
    assert_eq!(reasons, expected);
    assert!(report["examined"].as_u64().unwrap() >= 20 + rejected.len() as u64);
    assert!(report["oldestSentAt"].is_string());
    let text = dlq(&emulator, dir.path(), &["stats"]);
    assert!(text.stdout.contains("bad-signature"), "{}", text.stdout);
    assert!(text.stdout.contains("dead-letter queue"), "{}", text.stdout);
    assert_eq!(pipeline.depth(&pipeline.dlq).await, (total as u64, 0));

    // peek: consumes nothing, and every message is visible again at once.
    let peek = dlq(
        &emulator,
        dir.path(),
        &["peek", "--limit", "5", "--output", "json"],
    );
    assert_eq!(peek.code, 0, "{}", peek.stderr);
    let peeked = peek.json()["messages"].as_array().unwrap().clone();
    assert_eq!(peeked.len(), 5);
    for message in &peeked {
        assert!(message["messageId"].is_string());
        assert!(message["receiveCount"].as_u64().unwrap() >= 1);
        assert!(message["body"].is_string());
    }
    assert_eq!(pipeline.depth(&pipeline.dlq).await, (total as u64, 0));
    let bad = dlq(
        &emulator,
        dir.path(),
        &["peek", "--reason", "malformed-body", "--full"],
    );
    assert_eq!(bad.code, 0, "{}", bad.stderr);
    assert!(bad.stdout.contains("(malformed)"), "{}", bad.stdout);
    assert!(bad.stdout.contains("not json at all"), "{}", bad.stdout);
    assert!(!bad.stdout.contains("evt_"), "{}", bad.stdout);
    let signatures = dlq(
        &emulator,
        dir.path(),
        &[
            "peek",
            "--reason",
            "bad-signature",
            "--limit",
            "50",
            "--output",
            "json",
        ],
    );
    let shown = signatures.json()["messages"].as_array().unwrap().clone();
    assert_eq!(shown.len(), 12);
    assert!(shown.iter().all(|m| m["eventType"] == "charge.refunded"
        && m["detail"] == "no v1 signature matches the signing secret"));
    assert_eq!(pipeline.depth(&pipeline.dlq).await, (total as u64, 0));

    // dry run: says what would move, moves nothing.
    let dry = dlq(
        &emulator,
        dir.path(),
        &[
            "redrive",
            "--dry-run",
            "--provider",
            "stripe",
            "--output",
            "json",
        ],
    );
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    let would = dry.json()["wouldMove"].as_array().unwrap().clone();
    assert!(!would.is_empty());
    assert!(would.iter().all(|m| m["provider"] == "stripe"));
    assert_eq!(pipeline.depth(&pipeline.dlq).await, (total as u64, 0));
    assert_eq!(pipeline.depth(&pipeline.queue).await, (0, 0));

    // A filtered redrive moves exactly the matches, and nothing else leaves.
    let filtered = dlq(
        &emulator,
        dir.path(),
        &[
            "redrive",
            "--reason",
            "bad-signature",
            "--yes",
            "--wait",
            "0",
            "--output",
            "json",
        ],
    );
    // No processor runs (its mapping is off): the moved webhooks are pending, not recorded.
    assert_eq!(filtered.code, 8, "{}", filtered.stderr);
    assert_eq!(filtered.json()["moved"], 12);
    assert_eq!(filtered.json()["verdicts"]["pending"], 12);
    assert!(
        filtered.stderr.contains("--status"),
        "the command that looks again: {}",
        filtered.stderr
    );
    let first = pipeline.drain(&pipeline.queue.clone()).await;
    let moved: BTreeSet<String> = first
        .iter()
        .map(event_id)
        .filter(|id| id.starts_with("evt_badsig"))
        .collect();
    assert_eq!(first.len(), 12);
    assert_eq!(moved.len(), 12);
    for message in &first {
        let attributes = message.message_attributes().unwrap();
        assert!(!attributes.contains_key("mgrid-failure-reason"));
        assert_eq!(attributes["mgrid-provider"].string_value(), Some("stripe"));
    }
    assert_eq!(
        pipeline.depth(&pipeline.dlq).await,
        ((total - 12) as u64, 0)
    );

    // The rest: all of it, each group in its order, attributes with their types. One worker:
    // the emulator's concurrent receives race (each computes the groups in flight without a
    // lock, so two may hand out messages of one group, the later one first), which SQS FIFO does
    // not; order under --parallel is proven against a strict FIFO model (tests/suite/move_engine.rs).
    let full = dlq(
        &emulator,
        dir.path(),
        &[
            "redrive",
            "--yes",
            "--parallel",
            "1",
            "--wait",
            "0",
            "--output",
            "json",
        ],
    );
    assert_eq!(full.code, 8, "pending: {}", full.stderr);
    let full_report = full.json();
    assert_eq!(full_report["moved"], total - 12);
    assert_eq!(full_report["failed"].as_array().unwrap().len(), 0);
    assert_eq!(full_report["remainingInDlq"], 0);
    assert_eq!(pipeline.depth(&pipeline.dlq).await, (0, 0));
    let rest = pipeline.drain(&pipeline.queue.clone()).await;
    assert_eq!(rest.len(), total - 12);
    let mut last: BTreeMap<String, usize> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    for message in &rest {
        let id = event_id(message);
        assert!(seen.insert(id.clone()), "{id} moved twice");
        let Some(record) = sent.get(&id) else {
            assert!(rejected.contains(&id), "{id} was never sent");
            continue;
        };
        let system = message.attributes().unwrap();
        assert_eq!(
            system[&MessageSystemAttributeName::MessageGroupId],
            record.group
        );
        if let Some(previous) = last.insert(record.group.clone(), record.seq) {
            assert!(
                previous < record.seq,
                "group {} out of order: {} after {}",
                record.group,
                record.seq,
                previous
            );
        }
        let attributes = message.message_attributes().unwrap();
        assert_eq!(attributes["mgrid-received-at"].data_type(), "Number");
        assert_eq!(
            attributes["mgrid-received-at"].string_value(),
            Some(RECEIVED_AT)
        );
        assert_eq!(attributes["mgrid-provider"].data_type(), "String");
    }
    assert_eq!(last.len(), 20, "every group arrived");
    assert!(last.values().all(|&seq| seq == 9), "every group whole");
}

/// The same messages, sent again to `queue` in the order given (a killed run's leftovers put
/// back for the next round), with deduplication ids of their own for `round`.
async fn resend(
    pipeline: &Pipeline,
    queue: &str,
    messages: &[aws_sdk_sqs::types::Message],
    round: usize,
) {
    let entries = messages
        .iter()
        .enumerate()
        .map(|(i, message)| {
            let system = message.attributes().unwrap();
            SendMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .message_body(message.body().unwrap())
                .message_group_id(&system[&MessageSystemAttributeName::MessageGroupId])
                .message_deduplication_id(format!("{}-r{round}", event_id(message)))
                .set_message_attributes(message.message_attributes().cloned())
                .build()
                .unwrap()
        })
        .collect();
    pipeline.send(queue, entries).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redrive_killed_at_any_point_loses_no_webhook() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let pipeline = deployed(&emulator, dir.path()).await;
    let sent = pipeline.send_webhooks(&pipeline.dlq.clone(), 20, 10).await;
    let all: BTreeSet<String> = sent.keys().cloned().collect();

    // Delivered to the webhook queue in an earlier round (the processor would have taken them).
    let mut delivered: BTreeSet<String> = BTreeSet::new();
    let mut midway = 0;
    // Each round is killed once a share of what waits was copied: mid-run, however fast the
    // emulator answers on this machine.
    for (round, share) in [0.1, 0.3, 0.6, 0.9].into_iter().enumerate() {
        let waiting = all.len() - delivered.len();
        let target = ((waiting as f64 * share) as u64).max(1);
        let mut child = mgrid_process(
            &emulator,
            dir.path(),
            // One worker: moto's receives race each other (two workers can get one group,
            // and the message handed back then keeps its group blocked in moto); SQS locks a
            // group atomically. Parallel workers are proven on the model (tests/suite/move_engine.rs,
            // with a source that races the same way).
            &[
                "dlq",
                "redrive",
                "--stage",
                "dev",
                "--yes",
                "--hold",
                "3s",
                "--parallel",
                "1",
            ],
        )
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
        let started = Instant::now();
        loop {
            let (visible, in_flight) = pipeline.depth(&pipeline.queue).await;
            if visible + in_flight >= target || child.try_wait().unwrap().is_some() {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "the redrive made no progress"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let after = started.elapsed().as_millis();
        child.kill().unwrap(); // SIGKILL: no cleanup runs
        child.wait().unwrap();

        // What the killed run held comes back after its hold; then every webhook must be in the
        // dead-letter queue or the webhook queue (or have been delivered in an earlier round).
        pipeline.settle(&pipeline.dlq).await;
        let in_queue: Vec<String> = pipeline
            .drain(&pipeline.queue.clone())
            .await
            .iter()
            .map(event_id)
            .collect();
        let dead = pipeline.drain(&pipeline.dlq.clone()).await;
        let in_dlq: BTreeSet<String> = dead.iter().map(event_id).collect();
        let before = all.len() - delivered.len();
        delivered.extend(in_queue.iter().cloned());
        let found: BTreeSet<String> = delivered.union(&in_dlq).cloned().collect();
        let lost: Vec<&String> = all.difference(&found).collect();
        assert!(
            lost.is_empty(),
            "killed after {after} ms, lost {} webhooks: {lost:?}",
            lost.len()
        );
        if !in_queue.is_empty() && !in_dlq.is_empty() {
            midway += 1;
        }
        assert_eq!(
            in_dlq.len(),
            dead.len(),
            "no webhook is twice in the dead-letter queue"
        );
        eprintln!(
            "round {round}: killed after {after} ms; {before} waiting, {} copied, {} still dead-lettered ({} duplicates)",
            in_queue.len(),
            in_dlq.len(),
            (in_queue.len() + in_dlq.len()).saturating_sub(before)
        );
        // Put back what is still dead-lettered, in the order SQS gave it, for the next round.
        resend(&pipeline, &pipeline.dlq.clone(), &dead, round).await;
    }
    assert!(midway >= 2, "at least two kills landed mid-redrive");

    // A last, uninterrupted redrive delivers everything that is left.
    let last = dlq(
        &emulator,
        dir.path(),
        &["redrive", "--yes", "--wait", "0", "--output", "json"],
    );
    // Pending (no processor runs), or nothing to do when the last kill came after every move.
    match last.code {
        8 => {}
        0 => assert!(last.stderr.contains("empty"), "{}", last.stderr),
        other => panic!("exit {other}: {}", last.stderr),
    }
    delivered.extend(
        pipeline
            .drain(&pipeline.queue.clone())
            .await
            .iter()
            .map(event_id),
    );
    assert_eq!(delivered, all);
    assert_eq!(pipeline.depth(&pipeline.dlq).await, (0, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_refused_with_what_to_do() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let pipeline = deployed(&emulator, dir.path()).await;

    // An empty dead-letter queue: nothing to do, said plainly, success.
    let empty = dlq(&emulator, dir.path(), &["redrive", "--yes"]);
    assert_eq!(empty.code, 0, "{}", empty.stderr);
    assert!(empty.stderr.contains("empty"), "{}", empty.stderr);
    let stats = dlq(&emulator, dir.path(), &["stats"]);
    assert_eq!(stats.code, 0, "{}", stats.stderr);
    assert!(stats.stdout.contains("no dead letters"), "{}", stats.stdout);

    // Usage errors, before any AWS call.
    for (args, says) in [
        (vec!["redrive", "--max", "0"], "0 is not in 1.."),
        (vec!["redrive", "--rate", "-5"], "at least 0.001"),
        (vec!["redrive", "--rate", "0"], "at least 0.001"),
        (vec!["redrive", "--rate", "1e-20"], "at least 0.001"),
        (vec!["redrive", "--max", "-1"], "-1"),
        (
            vec!["redrive", "--native", "--provider", "stripe"],
            "cannot be used with",
        ),
        (vec!["peek", "--reason", "sunspots"], "sunspots"),
        (
            vec!["redrive", "--older-than", "soon"],
            "not a span of time",
        ),
    ] {
        let refused = dlq(&emulator, dir.path(), &args);
        assert_eq!(refused.code, 2, "{args:?}: {}", refused.stderr);
        assert!(
            refused.stderr.contains(says),
            "{args:?}: {}",
            refused.stderr
        );
    }

    // A stage that was never deployed.
    let unknown = run(
        &emulator,
        dir.path(),
        &["dlq", "stats", "--stage", "nowhere"],
    );
    assert_eq!(unknown.code, 5, "{}", unknown.stderr);
    assert!(
        unknown.stderr.contains("mgrid deploy --stage nowhere"),
        "{}",
        unknown.stderr
    );

    // The webhook queue deleted behind the stack's back: the redrive stops at its first copy
    // and hands every dead letter back at once, none hidden for --hold.
    let waiting = pipeline.send_webhooks(&pipeline.dlq.clone(), 3, 2).await;
    pipeline
        .sqs
        .delete_queue()
        .queue_url(&pipeline.queue)
        .send()
        .await
        .unwrap();
    let stopped = dlq(&emulator, dir.path(), &["redrive", "--yes"]);
    assert_eq!(stopped.code, 5, "{}", stopped.stderr);
    assert!(
        stopped.stderr.contains("does not exist"),
        "{}",
        stopped.stderr
    );
    assert_eq!(
        pipeline.depth(&pipeline.dlq).await,
        (waiting.len() as u64, 0)
    );

    // A dead-letter queue deleted behind the stack's back.
    pipeline
        .sqs
        .delete_queue()
        .queue_url(&pipeline.dlq)
        .send()
        .await
        .unwrap();
    let missing = dlq(&emulator, dir.path(), &["stats"]);
    assert_eq!(missing.code, 5, "{}", missing.stderr);
    assert!(
        missing.stderr.contains("does not exist"),
        "{}",
        missing.stderr
    );
    assert!(
        missing.stderr.contains("mgrid status"),
        "{}",
        missing.stderr
    );
}

/// The emulator's event source mapping is left on: it receives from the webhook queue on every
/// send and, with no Lambda runtime to run the processor, lets each message fall back; after the
/// queue's maxReceiveCount receives its redrive policy moves it to the dead-letter queue, just
/// as a processor that still rejects the webhooks does. The redrive must end, move each of the
/// 120 originals once, count what came back (exit 7), and lose none.
#[tokio::test(flavor = "multi_thread")]
async fn a_redrive_of_webhooks_that_fail_again_ends_with_the_mapping_on() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    deploy_stage(&emulator, dir.path(), "dev");
    let pipeline = Pipeline {
        sqs: aws_sdk_sqs::Client::new(&emulator.sdk_config().await),
        queue: stage_parameter(&emulator, "dev", StageParameter::QueueUrl).await,
        dlq: stage_parameter(&emulator, "dev", StageParameter::DlqUrl).await,
    };
    let sent = pipeline.send_webhooks(&pipeline.dlq.clone(), 12, 10).await;
    let all: BTreeSet<String> = sent.keys().cloned().collect();

    let started = Instant::now();
    // One worker, for the reason the kill test gives: moto's racing receives can leave a group
    // blocked behind a message handed back, which SQS never does.
    let run = dlq(
        &emulator,
        dir.path(),
        &["redrive", "--yes", "--parallel", "1", "--output", "json"],
    );
    eprintln!(
        "redrive with the mapping on: {:?}, {}",
        started.elapsed(),
        run.stderr
    );
    assert_eq!(run.code, 7, "{}", run.stderr);
    let report = run.json();
    assert_eq!(report["moved"], 120, "each original moved: {report}");
    let verdicts = &report["verdicts"];
    let came_back: u64 = verdicts["failedAgain"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert!(came_back > 0, "{report}");
    assert_eq!(
        verdicts["recorded"], 0,
        "nothing claimed recorded: {report}"
    );
    assert_eq!(
        came_back + verdicts["pending"].as_u64().unwrap(),
        120,
        "every moved webhook failed again or is pending: {report}"
    );
    assert!(
        run.stderr
            .contains("failed again and are back in the dead-letter queue"),
        "{}",
        run.stderr
    );

    // Nothing lost, and each original moved once: every webhook is exactly once in one queue or
    // the other (back in the DLQ, or still falling back in the webhook queue). The webhook queue
    // is drained first: its receives are counted too, and what reaches the limit meanwhile moves
    // to the DLQ, which is drained after.
    pipeline.settle(&pipeline.dlq).await;
    let in_queue: Vec<String> = pipeline
        .drain(&pipeline.queue.clone())
        .await
        .iter()
        .map(event_id)
        .collect();
    let in_dlq: Vec<String> = pipeline
        .drain(&pipeline.dlq.clone())
        .await
        .iter()
        .map(event_id)
        .collect();
    let found: BTreeSet<String> = in_dlq.iter().chain(&in_queue).cloned().collect();
    let lost: Vec<&String> = all.difference(&found).collect();
    assert!(lost.is_empty(), "lost {}: {lost:?}", lost.len());
    assert_eq!(in_dlq.len() + in_queue.len(), 120, "none twice");
    assert!(in_dlq.len() as u64 >= came_back);
}

/// A stand-in for the processor, for an emulator that runs no Lambda: it receives from the
/// webhook queue, records each webhook in the stage's ledger table under the processor's key
/// (`provider:event id`, the item holding nothing else) and deletes the message, until `stop`.
/// It verifies nothing: the real processor's verdicts are proven on the local stage
/// (tests/suite/dev.rs) and its metrics in tests/suite/canary.rs.
async fn stand_in_processor(
    config: aws_config::SdkConfig,
    queue: String,
    table: String,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> usize {
    let sqs = aws_sdk_sqs::Client::new(&config);
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let mut recorded = 0;
    while !stop.load(std::sync::atomic::Ordering::SeqCst) {
        let received = sqs
            .receive_message()
            .queue_url(&queue)
            .max_number_of_messages(10)
            .message_attribute_names("All")
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        for message in received.messages() {
            let provider = message.message_attributes().unwrap()["mgrid-provider"]
                .string_value()
                .unwrap()
                .to_owned();
            record(
                &dynamodb,
                &table,
                &format!("{provider}:{}", event_id(message)),
                0,
            )
            .await;
            sqs.delete_message()
                .queue_url(&queue)
                .receipt_handle(message.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
            recorded += 1;
        }
    }
    recorded
}

/// A ledger item as the processor writes it: its key, and when it was recorded, `ago_ms`
/// before now; only when the ledger does not hold it yet (a duplicate leaves the first alone).
async fn record(
    dynamodb: &aws_sdk_dynamodb::Client,
    table: &str,
    transaction_id: &str,
    ago_ms: i64,
) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let written = dynamodb
        .put_item()
        .table_name(table)
        .item(
            mgrid_contract::ledger::KEY_ATTRIBUTE,
            aws_sdk_dynamodb::types::AttributeValue::S(transaction_id.to_owned()),
        )
        .item(
            mgrid_contract::settlement::RECORDED_AT,
            aws_sdk_dynamodb::types::AttributeValue::N((now - ago_ms).to_string()),
        )
        .condition_expression("attribute_not_exists(#k)")
        .expression_attribute_names("#k", mgrid_contract::ledger::KEY_ATTRIBUTE)
        .send()
        .await;
    if let Err(error) = written {
        assert!(
            error
                .as_service_error()
                .is_some_and(|e| e.is_conditional_check_failed_exception()),
            "{error:?}"
        );
    }
}

/// The processor's mapping off, a stand-in records what reaches the webhook queue: the redrive
/// follows each copy to the ledger and says so (recorded, or a duplicate when the ledger held
/// it before the copy went), and exits 0 only then.
#[tokio::test(flavor = "multi_thread")]
async fn a_redrive_reports_the_webhooks_the_ledger_recorded() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let pipeline = deployed(&emulator, dir.path()).await;
    let table = stage_parameter(&emulator, "dev", StageParameter::TableName).await;
    let sent = pipeline.send_webhooks(&pipeline.dlq.clone(), 6, 5).await;
    // Five were recorded before (a provider's retry got through while these were dead).
    let dynamodb = aws_sdk_dynamodb::Client::new(&emulator.sdk_config().await);
    let before: Vec<&String> = sent
        .keys()
        .filter(|id| id.starts_with("evt_"))
        .take(5)
        .collect();
    for id in &before {
        // An hour ago, as the processor noted it.
        record(&dynamodb, &table, &format!("stripe:{id}"), 3_600_000).await;
    }

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let processor = tokio::spawn(stand_in_processor(
        emulator.sdk_config().await,
        pipeline.queue.clone(),
        table.clone(),
        stop.clone(),
    ));
    let run = dlq(
        &emulator,
        dir.path(),
        &[
            "redrive",
            "--yes",
            "--parallel",
            "1",
            "--wait",
            "60s",
            "--output",
            "json",
        ],
    );
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let handled = processor.await.unwrap();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.json();
    assert_eq!(report["moved"], 30, "{report}");
    let verdicts = &report["verdicts"];
    assert_eq!(verdicts["recorded"], 25, "{report}");
    assert_eq!(verdicts["duplicate"], 5, "{report}");
    assert_eq!(verdicts["pending"], 0, "{report}");
    assert!(report["unsettled"].as_array().unwrap().is_empty());
    assert_eq!(handled, 30, "the stand-in handled every copy once");
}

/// A redrive of one event held behind an earlier message of its group moves nothing, and says
/// why and what to do (exit 7), rather than "moved 0" and success.
#[tokio::test(flavor = "multi_thread")]
async fn a_webhook_held_behind_its_group_is_not_moved_and_the_run_says_why() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let pipeline = deployed(&emulator, dir.path()).await;
    let sent = pipeline.send_webhooks(&pipeline.dlq.clone(), 1, 2).await;
    let second = sent
        .iter()
        .find(|(_, record)| record.seq == 1)
        .map(|(id, _)| id.clone())
        .unwrap();
    let run = dlq(
        &emulator,
        dir.path(),
        &[
            "redrive",
            "--yes",
            "--event-id",
            &second,
            "--output",
            "json",
        ],
    );
    assert_eq!(run.code, 7, "{}", run.stderr);
    assert_eq!(run.json()["moved"], 0);
    assert!(
        run.stderr
            .contains("wait behind earlier messages of their group")
            && run.stderr.contains("mgrid dlq peek"),
        "{}",
        run.stderr
    );
    assert_eq!(pipeline.depth(&pipeline.dlq).await, (2, 0), "nothing moved");
}
