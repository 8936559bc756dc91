//! After the ledger, on the local stage: an archive that cannot be written and a vendor URL that
//! refuses, for longer than the legs retry, leave payments unsettled; `reconcile` finds exactly
//! those, with their money and why; `--heal` (killed once midway, then run again) settles every
//! one, and nothing is archived twice differently or lost: each archive object byte for byte as the archiver writes it, each vendor told again with
//! the same body, marked as a redelivery.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mgrid_contract::ledger::Item;
use mgrid_contract::notification::vendor_notification;
use mgrid_contract::settlement::{BY_HEAL, Leg, Legs, sha256_hex};

use crate::support::local::{Dev, local_command};

fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_mgrid"))
}

/// A vendor's webhook endpoint: refuses (503) while `refusing`, else takes each notification and
/// keeps its body and whether it was marked as a redelivery.
struct Vendor {
    url: String,
    refusing: Arc<AtomicBool>,
    taken: Arc<Mutex<Vec<(serde_json::Value, bool)>>>,
}

impl Vendor {
    fn start() -> Vendor {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/orders", listener.local_addr().unwrap());
        let refusing = Arc::new(AtomicBool::new(true));
        let taken = Arc::new(Mutex::new(Vec::new()));
        let (r, t) = (refusing.clone(), taken.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream);
                let (mut length, mut redelivery) = (0usize, false);
                let mut line = String::new();
                let _ = reader.read_line(&mut line);
                loop {
                    line.clear();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    let lower = line.to_ascii_lowercase();
                    if let Some(value) = lower.strip_prefix("content-length:") {
                        length = value.trim().parse().unwrap_or(0);
                    }
                    if lower.starts_with("mgrid-redelivery: true") {
                        redelivery = true;
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let status = if r.load(Ordering::SeqCst) {
                    "503 Service Unavailable"
                } else {
                    if let Ok(json) = serde_json::from_slice(&body) {
                        t.lock().unwrap().push((json, redelivery));
                    }
                    "200 OK"
                };
                let _ = reader.get_mut().write_all(
                    format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                        .as_bytes(),
                );
            }
        });
        Vendor {
            url,
            refusing,
            taken,
        }
    }
}

fn count(dev: &Dev, sql: &str) -> i64 {
    dev.database().query_row(sql, [], |row| row.get(0)).unwrap()
}

fn items(dev: &Dev) -> BTreeMap<String, Item> {
    let db = dev.database();
    let mut statement = db
        .prepare("SELECT transaction_id, item FROM ledger")
        .unwrap();
    statement
        .query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
        })
        .unwrap()
        .map(|row| {
            let (id, json) = row.unwrap();
            (id, serde_json::from_str(&json).unwrap())
        })
        .collect()
}

fn reconcile(data: &Path, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let mut args = vec!["reconcile", "--provider", "stripe", "--output", "json"];
    args.extend_from_slice(extra);
    let (code, stdout, stderr) = local_command(&binary(), data, &args);
    let report = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}\n{stderr}"));
    (code, report, stderr)
}

/// Every file under `dir`, by path relative to it.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut found = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(at) = stack.pop() {
        for entry in std::fs::read_dir(&at).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let relative = path
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                found.insert(relative, std::fs::read(&path).unwrap());
            }
        }
    }
    found
}

#[test]
fn an_archive_and_vendor_outage_is_found_per_payment_with_its_money_and_healed_after_a_kill() {
    const PAYMENTS: usize = 40;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("local");
    let vendor = Vendor::start();
    // The legs retry every 20 ms: their ten attempts pass in a moment.
    let start_dev = || {
        Dev::start_with(
            &binary(),
            &data,
            None,
            &[
                "--notify-url",
                &vendor.url,
                "--quiet",
                "--leg-retry-ms",
                "20",
            ],
        )
    };
    let mut dev = start_dev();
    // The archive cannot be written: a file where its directory was (root writes through modes).
    let archive = data.join("archive");
    let _ = std::fs::remove_dir_all(&archive);
    std::fs::write(&archive, b"not a directory").unwrap();

    let (code, stdout, stderr) = local_command(
        &binary(),
        &data,
        &[
            "send",
            "stripe",
            "--count",
            "40",
            "--amount",
            "1999",
            "--currency",
            "usd",
            "--output",
            "json",
        ],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    // Both legs give up after the pipes' ten attempts.
    let deadline = Instant::now() + Duration::from_secs(60);
    while count(&dev, "SELECT COUNT(*) FROM ledger") < PAYMENTS as i64
        || count(&dev, "SELECT COUNT(*) FROM stream WHERE done = 0") > 0
        || count(&dev, "SELECT COUNT(*) FROM notify_dead_letters") < PAYMENTS as i64
    {
        assert!(Instant::now() < deadline, "the legs did not give up");
        std::thread::sleep(Duration::from_millis(100));
    }

    let (code, report, stderr) = reconcile(&data, &[]);
    assert_eq!(code, 1, "unsettled payments fail the run: {stderr}");
    let journey = &report["journey"];
    let unsettled = journey["unsettled"].as_array().unwrap();
    assert_eq!(unsettled.len(), PAYMENTS, "{journey:#}");
    let ids: BTreeSet<&str> = unsettled
        .iter()
        .map(|p| p["transactionId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, items(&dev).keys().map(String::as_str).collect());
    for payment in unsettled {
        assert_eq!(payment["waitsOn"], serde_json::json!(["archive", "notify"]));
        assert!(
            payment["archiveFailure"]
                .as_str()
                .is_some_and(|why| why.contains("writing")),
            "{payment:#}"
        );
        assert!(
            payment["notifyFailure"]
                .as_str()
                .is_some_and(|why| why.contains("503")),
            "{payment:#}"
        );
        assert_eq!(payment["inFlight"], false);
    }
    assert_eq!(
        journey["unsettledAmounts"],
        serde_json::json!([{"currency": "USD", "minorUnits": 79960, "negativeMinorUnits": 0}])
    );
    let steps: BTreeMap<&str, u64> = journey["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["step"].as_str().unwrap(), s["payments"].as_u64().unwrap()))
        .collect();
    assert_eq!(steps["in the ledger"], PAYMENTS as u64);
    assert_eq!((steps["archived"], steps["vendor notified"]), (0, 0));
    let (_, text, _) = local_command(&binary(), &data, &["reconcile", "--provider", "stripe"]);
    assert!(text.contains("799.60 USD"), "{text}");

    // The archive comes back; the vendor still refuses. A heal writes each archive object
    // itself and hands the notifications to the notify pipe, then waits for their receipts,
    // which do not come: it is killed in that wait.
    std::fs::remove_file(&archive).unwrap();
    let mut killed = std::process::Command::new(binary())
        .args(["reconcile", "--provider", "stripe", "--heal", "--data-dir"])
        .arg(&data)
        .env("MGRID_STAGE", "local")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while items(&dev)
        .values()
        .any(|item| !Legs::of(item).done(Leg::Archive))
    {
        assert!(Instant::now() < deadline, "the heal did not archive");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        killed.try_wait().unwrap().is_none(),
        "the heal waits for the notify pipe's receipts"
    );
    killed.kill().unwrap();
    let _ = killed.wait();

    // With `mgrid dev` down, a heal hands the notifications over and says so at once, without
    // waiting for receipts nothing is delivering.
    dev.kill9();
    vendor.refusing.store(false, Ordering::SeqCst);
    let started = Instant::now();
    let (code, report, stderr) = reconcile(&data, &["--heal"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "it did not wait"
    );
    assert!(
        stderr.contains("handed to the notify pipe of `mgrid dev`, which is not running"),
        "{stderr}"
    );
    assert!(stderr.contains("40 payments are unsettled"), "{stderr}");
    let handed = report["journey"]["unsettled"][0]["healed"]
        .as_array()
        .unwrap()
        .iter()
        .find(|leg| leg["leg"] == "notify")
        .cloned()
        .unwrap();
    assert_eq!(handed["outcome"], "handed", "{handed:#}");
    assert_eq!(
        count(
            &dev,
            "SELECT COUNT(*) FROM notifications WHERE redelivery = 1"
        ),
        PAYMENTS as i64,
        "each notification handed over once, marked"
    );

    // Once it runs again, a heal settles the rest.
    let dev = start_dev();
    let (code, report, stderr) = reconcile(&data, &["--heal", "--wait", "60s"]);
    assert_eq!(code, 0, "{stderr}\n{:#}", report["journey"]);

    let (code, report, stderr) = reconcile(&data, &[]);
    assert_eq!(code, 0, "{stderr}");
    let journey = &report["journey"];
    assert_eq!(journey["unsettled"], serde_json::json!([]), "{journey:#}");
    let steps: BTreeMap<&str, u64> = journey["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["step"].as_str().unwrap(), s["payments"].as_u64().unwrap()))
        .collect();
    assert_eq!((steps["archived"], steps["vendor notified"]), (40, 40));

    // Each receipt names an object that is there, byte for byte what the archiver writes.
    let archived = files(&archive);
    assert_eq!(archived.len(), PAYMENTS, "each payment archived once");
    for (id, item) in items(&dev) {
        let legs = Legs::of(&item);
        assert!(legs.settled(), "{id}: {legs:?}");
        let (key, object) = mgrid_pipeline::archiver::archived_object(&item).unwrap();
        let relative = key.to_string();
        assert_eq!(archived.get(&relative), Some(&object), "{id}");
        assert_eq!(legs.archive_sha256, Some(sha256_hex(&object)), "{id}");
        assert_eq!(legs.archived_by.as_deref(), Some(BY_HEAL));
        assert_eq!(legs.notified_by.as_deref(), Some(BY_HEAL));
    }
    // Every vendor told, with the notification's body, marked as a redelivery (a vendor may
    // have been told twice by the killed heal and its rerun: both marked).
    let taken = vendor.taken.lock().unwrap().clone();
    let told: BTreeSet<String> = taken
        .iter()
        .map(|(body, _)| body["transactionId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(told.len(), PAYMENTS);
    assert!(taken.iter().all(|(_, redelivery)| *redelivery));
    let ledger = items(&dev);
    for (body, _) in &taken {
        let id = body["transactionId"].as_str().unwrap();
        assert_eq!(body, &vendor_notification(&ledger[id]));
    }
    assert_eq!(count(&dev, "SELECT COUNT(*) FROM notify_dead_letters"), 0);
}

/// A Stripe payment's webhook, received at `received_at`.
fn stripe_webhook(event: &str, received_at: i64, amount: i64) -> mgrid_contract::WebhookEnvelope {
    let body = serde_json::json!({
        "id": event,
        "type": "payment_intent.succeeded",
        "created": received_at / 1000,
        "data": {"object": {"id": format!("pi_{event}"), "object": "payment_intent", "amount": amount,
            "currency": "eur", "metadata": {"vendor_id": "vendor-7"}}},
    });
    mgrid_contract::WebhookEnvelope {
        provider: mgrid_contract::Provider::Stripe,
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

/// A stage deployed to the emulator, with the clients and names the tests use.
struct Deployed {
    emulator: crate::support::Emulator,
    dir: tempfile::TempDir,
    config: aws_config::SdkConfig,
    dynamodb: aws_sdk_dynamodb::Client,
    s3: aws_sdk_s3::Client,
    sqs: aws_sdk_sqs::Client,
    table: String,
    bucket: String,
    now: i64,
}

impl Deployed {
    async fn start() -> Deployed {
        use crate::support::{Emulator, deploy_stage, stage_parameter};
        use mgrid_contract::StageParameter;
        let emulator = Emulator::start();
        let dir = tempfile::tempdir().unwrap();
        deploy_stage(&emulator, dir.path(), "dev");
        let config = emulator.sdk_config().await;
        Deployed {
            dynamodb: aws_sdk_dynamodb::Client::new(&config),
            s3: aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(&config)
                    .force_path_style(true)
                    .build(),
            ),
            sqs: aws_sdk_sqs::Client::new(&config),
            table: stage_parameter(&emulator, "dev", StageParameter::TableName).await,
            bucket: stage_parameter(&emulator, "dev", StageParameter::ArchiveBucket).await,
            now: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis() as i64,
            config,
            emulator,
            dir,
        }
    }

    async fn parameter(&self, parameter: mgrid_contract::StageParameter) -> String {
        crate::support::stage_parameter(&self.emulator, "dev", parameter).await
    }

    /// `count` Stripe payments received a second apart from `at`, written as the processor
    /// writes them (into the unsettled index).
    async fn payments(&self, prefix: &str, at: i64, count: i64, amount: i64) -> Vec<Item> {
        use mgrid_pipeline::ports::Ledger;
        let ledger = mgrid_pipeline::aws::DynamoLedger::new(self.dynamodb.clone(), &self.table);
        let mut items = Vec::new();
        for n in 0..count {
            let webhook = stripe_webhook(&format!("{prefix}{n}"), at + n * 1000, amount + n);
            let record = mgrid_contract::TransactionRecord::from_envelope(&webhook).unwrap();
            let item = mgrid_contract::ledger::ledger_item(&record, &webhook);
            assert!(
                item.contains_key(mgrid_contract::settlement::UNSETTLED),
                "the processor puts it in the index"
            );
            ledger.insert(&item).await.unwrap();
            items.push(item);
        }
        items
    }

    /// The archive leg for `items`, as the archiver function runs it.
    async fn archive(&self, items: &[Item]) -> mgrid_pipeline::legs::LegReport {
        mgrid_pipeline::legs::LegRunner::new(
            mgrid_pipeline::archiver::Archiver::new(mgrid_pipeline::aws::S3Archive::new(
                self.s3.clone(),
                &self.bucket,
            )),
            mgrid_pipeline::aws::DynamoReceipts::new(self.dynamodb.clone(), &self.table),
            mgrid_contract::settlement::BY_PIPELINE,
        )
        .run(
            &mgrid_pipeline::legs::records_of(items),
            &mgrid_pipeline::ports::SystemClock,
        )
        .await
    }

    fn mgrid(&self, args: &[&str]) -> crate::support::Run {
        crate::support::run(&self.emulator, self.dir.path(), args)
    }
}

/// The emulator runs no Lambda code: the legs' own handler code (the archiver's and the
/// notifier's LegRunner, as functions/lambda wires them) runs here against the emulator's S3,
/// SNS and DynamoDB, standing in for the functions the pipes invoke.
#[tokio::test(flavor = "multi_thread")]
async fn on_the_emulator_the_legs_leave_receipts_the_index_answers_and_a_heal_settles() {
    use mgrid_contract::StageParameter;
    use mgrid_contract::settlement::{BY_PIPELINE, UNSETTLED, UNSETTLED_INDEX, buckets_between};
    use mgrid_pipeline::aws::{DynamoReceipts, SnsTopic};
    use mgrid_pipeline::legs::{LegRunner, records_of};
    use mgrid_pipeline::notifier::Notifier;
    use mgrid_pipeline::ports::SystemClock;

    let stage = Deployed::start().await;
    let (config, dynamodb, s3, sqs) = (&stage.config, &stage.dynamodb, &stage.s3, &stage.sqs);
    let (table, bucket) = (stage.table.as_str(), stage.bucket.as_str());
    let topic = stage.parameter(StageParameter::VendorTopicArn).await;
    // A vendor's subscription: a queue on the topic.
    let vendor_queue = sqs
        .create_queue()
        .queue_name("vendor-7-orders")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let vendor_arn = sqs
        .get_queue_attributes()
        .queue_url(&vendor_queue)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
        .clone();
    aws_sdk_sns::Client::new(config)
        .subscribe()
        .topic_arn(&topic)
        .protocol("sqs")
        .endpoint(&vendor_arn)
        .send()
        .await
        .unwrap();

    // Six payments an hour ago, written as the processor writes them.
    let now = stage.now;
    let at = now - 3_600_000;
    let items = stage.payments("evt_j", at, 6, 1000).await;
    // The archiver did four, the notifier two: 0 and 1 settled, 2 and 3 wait on the vendor,
    // 4 and 5 on both legs.
    let report = stage.archive(&items[..4]).await;
    assert_eq!((report.done, report.failed.len()), (4, 0), "{report:?}");
    let notifier = LegRunner::new(
        Notifier::new(SnsTopic::from_config(config, &topic)),
        DynamoReceipts::new(dynamodb.clone(), table),
        BY_PIPELINE,
    );
    let report = notifier.run(&records_of(&items[..2]), &SystemClock).await;
    assert_eq!((report.done, report.failed.len()), (2, 0), "{report:?}");

    // The index holds the four unsettled, and only them.
    let mut indexed = BTreeSet::new();
    for bucket in buckets_between(at - 1000, now) {
        let page = dynamodb
            .query()
            .table_name(table)
            .index_name(UNSETTLED_INDEX)
            .key_condition_expression("#b = :b")
            .expression_attribute_names("#b", UNSETTLED)
            .expression_attribute_values(":b", aws_sdk_dynamodb::types::AttributeValue::S(bucket))
            .send()
            .await
            .unwrap();
        for item in page.items() {
            if let Some(aws_sdk_dynamodb::types::AttributeValue::S(id)) = item.get("transactionId")
            {
                indexed.insert(id.clone());
            }
        }
    }
    let ids = |range: std::ops::Range<usize>| -> BTreeSet<String> {
        range.map(|n| format!("stripe:evt_j{n}")).collect()
    };
    assert_eq!(indexed, ids(2..6));

    // reconcile reads them from the index (no provider token here: the providers are unchecked).
    let reconciled = stage.mgrid(&[
        "reconcile",
        "--stage",
        "dev",
        "--since",
        "2h",
        "--output",
        "json",
    ]);
    assert_eq!(reconciled.code, 1, "{}", reconciled.stderr);
    let journey = &reconciled.json()["journey"];
    let waits: BTreeMap<String, serde_json::Value> = journey["unsettled"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["transactionId"].as_str().unwrap().to_owned(),
                p["waitsOn"].clone(),
            )
        })
        .collect();
    assert_eq!(waits.keys().cloned().collect::<BTreeSet<_>>(), ids(2..6));
    assert_eq!(waits["stripe:evt_j2"], serde_json::json!(["notify"]));
    assert_eq!(
        waits["stripe:evt_j5"],
        serde_json::json!(["archive", "notify"])
    );
    // 10.02 + 10.03 + 10.04 + 10.05 EUR unsettled.
    assert_eq!(journey["unsettledAmounts"][0]["minorUnits"], 4014);

    let healed = stage.mgrid(&[
        "reconcile",
        "--stage",
        "dev",
        "--since",
        "2h",
        "--heal",
        "--output",
        "json",
    ]);
    let journey = &healed.json()["journey"];
    for payment in journey["unsettled"].as_array().unwrap() {
        for leg in payment["healed"].as_array().unwrap() {
            assert_eq!(leg["outcome"], "settled", "{payment:#}");
        }
    }
    let again = stage.mgrid(&[
        "reconcile",
        "--stage",
        "dev",
        "--since",
        "2h",
        "--output",
        "json",
    ]);
    assert_eq!(again.json()["journey"]["unsettled"], serde_json::json!([]));

    // Every payment archived once, byte for byte; every vendor told, the healed ones marked.
    for (n, item) in items.iter().enumerate() {
        let (key, object) = mgrid_pipeline::archiver::archived_object(item).unwrap();
        let stored = s3
            .get_object()
            .bucket(bucket)
            .key(key.to_string())
            .send()
            .await
            .unwrap()
            .body
            .collect()
            .await
            .unwrap()
            .into_bytes();
        assert_eq!(stored.as_ref(), object.as_slice(), "payment {n}");
    }
    let mut told: BTreeMap<String, bool> = BTreeMap::new();
    for _ in 0..10 {
        let received = sqs
            .receive_message()
            .queue_url(&vendor_queue)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        for message in received.messages() {
            let envelope: serde_json::Value =
                serde_json::from_str(message.body().unwrap()).unwrap();
            let body: serde_json::Value =
                serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap();
            let redelivery = envelope["MessageAttributes"]["mgrid-redelivery"]["Value"] == "true";
            told.insert(
                body["transactionId"].as_str().unwrap().to_owned(),
                redelivery,
            );
        }
        if told.len() == 6 {
            break;
        }
    }
    let marked: BTreeSet<String> = told
        .iter()
        .filter(|(_, redelivery)| **redelivery)
        .map(|(id, _)| id.clone())
        .collect();
    assert_eq!(told.len(), 6, "{told:?}");
    assert_eq!(
        marked,
        ids(2..6),
        "the heal's notifications are marked, the first ones not"
    );
}

/// A pipe's dead letter, in the shape the pipe sends (see src/decide/pipe_letters.rs), is
/// resolved to the payments of its leg left without a receipt, and healed: the vendors told, and
/// only then the dead letter deleted.
#[tokio::test(flavor = "multi_thread")]
async fn a_pipe_dead_letter_is_resolved_to_its_payments_and_healed_before_it_is_deleted() {
    use mgrid_contract::StageParameter;
    use mgrid_contract::clock::format_rfc3339;

    let stage = Deployed::start().await;
    let sqs = &stage.sqs;
    let pipe_dlq = stage.parameter(StageParameter::PipeDlqUrl).await;
    let at = stage.now - 2 * 3_600_000;
    // Three payments archived whose notify batch the pipe gave up on.
    let items = stage.payments("evt_p", at, 3, 2500).await;
    stage.archive(&items).await;
    let pointer = serde_json::json!({
        "context": {
            "partnerResourceArn": "arn:aws:pipes:eu-west-1:123456789012:pipe/marketgrid-dev-notify",
            "condition": "RetryAttemptsExhausted"
        },
        "version": "1.0",
        "timestamp": format_rfc3339(at + 60_000),
        "DDBStreamBatchInfo": {
            "shardId": "shardId-00000001733000000000-0a1b2c3d",
            "startSequenceNumber": "100000000000000000001",
            "endSequenceNumber": "100000000000000000003",
            "approximateArrivalOfFirstRecord": format_rfc3339(at),
            "approximateArrivalOfLastRecord": format_rfc3339(at + 2000),
            "batchSize": 3,
            "streamArn": "arn:aws:dynamodb:eu-west-1:123456789012:table/marketgrid-dev-transactions/stream/2026-12-01T00:00:00.000"
        }
    });
    sqs.send_message()
        .queue_url(&pipe_dlq)
        .message_body(pointer.to_string())
        .send()
        .await
        .unwrap();
    // A second pointer, to a batch the stream still holds: the INSERTs of evt_p1 and evt_p2 as
    // the ledger's stream numbered them. It is read back from the stream, so exactly those two.
    let (stream, shard, sequences) = stream_inserts(&stage).await;
    let mut exact = pointer.clone();
    exact["DDBStreamBatchInfo"]["streamArn"] = serde_json::json!(stream);
    exact["DDBStreamBatchInfo"]["shardId"] = serde_json::json!(shard);
    exact["DDBStreamBatchInfo"]["startSequenceNumber"] =
        serde_json::json!(sequences["stripe:evt_p1"]);
    exact["DDBStreamBatchInfo"]["endSequenceNumber"] =
        serde_json::json!(sequences["stripe:evt_p2"]);
    exact["DDBStreamBatchInfo"]["batchSize"] = serde_json::json!(2);
    sqs.send_message()
        .queue_url(&pipe_dlq)
        .message_body(exact.to_string())
        .send()
        .await
        .unwrap();

    let looked = stage.mgrid(&["dlq", "pipes", "--stage", "dev", "--output", "json"]);
    assert_eq!(looked.code, 1, "unsettled payments: {}", looked.stderr);
    let report = looked.json();
    let letters = report["letters"].as_array().unwrap();
    assert_eq!(letters.len(), 2, "{report:#}");
    let payments = |letter: &serde_json::Value| -> BTreeSet<String> {
        letter["payments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap().to_owned())
            .collect()
    };
    let by = |how: &str| {
        letters
            .iter()
            .find(|l| l["resolvedBy"] == how)
            .unwrap_or_else(|| panic!("no letter resolved by {how}: {report:#}"))
    };
    // The pointer to a shard the stream does not have: by time and missing receipt.
    let letter = by("ledger");
    assert_eq!(letter["batch"]["leg"], "notify");
    assert_eq!(letter["batch"]["records"], 3);
    assert_eq!(
        payments(letter),
        ["stripe:evt_p0", "stripe:evt_p1", "stripe:evt_p2"]
            .map(str::to_owned)
            .into()
    );
    // The one the stream holds: exactly its records.
    assert_eq!(
        payments(by("stream")),
        ["stripe:evt_p1", "stripe:evt_p2"].map(str::to_owned).into()
    );
    let letter = by("ledger");
    // 25.00 + 25.01 + 25.02 EUR.
    assert_eq!(report["journey"]["unsettledAmounts"][0]["minorUnits"], 7503);
    assert_eq!(letter["deleted"], false, "a look deletes nothing");

    let healed = stage.mgrid(&[
        "dlq", "pipes", "--stage", "dev", "--heal", "--output", "json",
    ]);
    assert_eq!(healed.code, 0, "{}", healed.stderr);
    let report = healed.json();
    for letter in report["letters"].as_array().unwrap() {
        assert_eq!(letter["deleted"], true, "{report:#}");
    }
    for payment in report["journey"]["unsettled"].as_array().unwrap() {
        assert!(
            payment["healed"]
                .as_array()
                .unwrap()
                .iter()
                .all(|leg| leg["outcome"] == "settled"),
            "{payment:#}"
        );
    }
    let left = sqs
        .get_queue_attributes()
        .queue_url(&pipe_dlq)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(
            aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
        )
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap();
    assert!(
        left.values().all(|n| n == "0"),
        "the dead letter is gone once its payments are settled: {left:?}"
    );
    let again = stage.mgrid(&[
        "reconcile",
        "--stage",
        "dev",
        "--since",
        "3h",
        "--output",
        "json",
    ]);
    assert_eq!(again.json()["journey"]["unsettled"], serde_json::json!([]));
}

/// The ledger stream's ARN, its (first) shard, and the sequence number of each INSERT by
/// transaction id, read from the start of the shard.
async fn stream_inserts(stage: &Deployed) -> (String, String, BTreeMap<String, String>) {
    use aws_sdk_dynamodbstreams::types::{AttributeValue, OperationType, ShardIteratorType};
    let stream = stage
        .dynamodb
        .describe_table()
        .table_name(&stage.table)
        .send()
        .await
        .unwrap()
        .table
        .unwrap()
        .latest_stream_arn
        .unwrap();
    let streams = aws_sdk_dynamodbstreams::Client::new(&stage.config);
    let shard = streams
        .describe_stream()
        .stream_arn(&stream)
        .send()
        .await
        .unwrap()
        .stream_description
        .unwrap()
        .shards
        .unwrap()[0]
        .shard_id
        .clone()
        .unwrap();
    let mut iterator = streams
        .get_shard_iterator()
        .stream_arn(&stream)
        .shard_id(&shard)
        .shard_iterator_type(ShardIteratorType::TrimHorizon)
        .send()
        .await
        .unwrap()
        .shard_iterator;
    let mut sequences = BTreeMap::new();
    let mut pages = 0;
    while let Some(at) = iterator {
        pages += 1;
        assert!(pages <= 100, "the stream read never came to an empty page");
        let page = streams
            .get_records()
            .shard_iterator(at)
            .send()
            .await
            .unwrap();
        for record in page.records() {
            let change = record.dynamodb().unwrap();
            if record.event_name() == Some(&OperationType::Insert)
                && let Some(AttributeValue::S(id)) =
                    change.new_image().and_then(|i| i.get("transactionId"))
            {
                sequences.insert(id.clone(), change.sequence_number().unwrap().to_owned());
            }
        }
        if page.records().is_empty() {
            break;
        }
        iterator = page.next_shard_iterator;
    }
    (stream, shard, sequences)
}
