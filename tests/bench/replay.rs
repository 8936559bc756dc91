//! `cargo bench --bench replay`: how fast a replay puts archived webhooks back, in three parts.
//!
//! 1. The move engine's sending (src/commands/movers.rs `send_in_order`) through the webhook-queue port of
//!    an in-memory FIFO queue that answers each call after about 25 ms (a region away): 10,000
//!    webhooks in 2,000 groups, at the default --parallel and at 1. Messages/s, requests per
//!    message, most in flight.
//! 2. Against the AWS emulator (moto server) behind a proxy holding each request 25 ms: `mgrid
//!    replay` and a straightforward boto3 script (bench/replay.py: list, read one object after
//!    the other, send batches of ten), same archive of 1,000 webhooks (10 hours, both
//!    providers); objects/s for reading and in all, requests counted by the proxy. The boto3
//!    script with no added delay measures moto's own cap, printed beside them.
//! 3. The local stage: 10,000 and 30,000 archived webhooks replayed by `mgrid replay --stage
//!    local`: webhooks/s and peak memory, which holds one hour of the window, not all of it.
//!
//! MGRID_BENCH_OBJECTS changes the 1,000, MGRID_BENCH_LOCAL the local sizes. Needs the tools
//! `.ci/setup` installs.

#[path = "common.rs"]
mod common;
#[path = "../suite/support/emulator.rs"]
mod emulator;
#[path = "../suite/support/fifo.rs"]
mod fifo;
#[path = "../suite/support/proxy.rs"]
mod proxy;

use std::cell::RefCell;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use common::{deploy, mgrid, python};
use emulator::Emulator;
use fifo::{Pair, Webhooks};
use mgrid::commands::movers::{self, ReadyMessage, SendOptions};
use mgrid::decide::move_engine::{MoveEngine, MoveSource, Rules};
use mgrid_contract::{ArchiveKey, ArchivedWebhook, Provider, WebhookEnvelope};
use proxy::CountingProxy;

const STAGE: &str = "bench";
const RUNS: usize = 2;
const HOUR: i64 = 3_600_000;
/// 2026-11-26T00:00:00Z
const START: i64 = 1_795_651_200_000;
const REGION_AWAY: Duration = Duration::from_millis(25);

/// mgrid's JSON report.
fn mgrid_json(emulator: &Emulator, dir: &Path, args: &[&str]) -> serde_json::Value {
    let output = mgrid(emulator, dir, args);
    serde_json::from_slice(&output.stdout).unwrap_or_default()
}

fn webhook(n: usize, received_at: i64) -> WebhookEnvelope {
    let (provider, id, body) = if n % 4 == 3 {
        let id = format!("WH-{n:06}");
        let body = serde_json::json!({"id": id, "event_type": "PAYMENT.CAPTURE.COMPLETED",
            "resource": {"id": format!("CAP-{n}"), "amount": {"currency_code": "USD", "value": "12.50"},
            "supplementary_data": {"related_ids": {"order_id": format!("ORDER-{}", n % 50)}}}});
        (Provider::Paypal, id, body)
    } else {
        let id = format!("evt_{n:06}");
        let body = serde_json::json!({"id": id, "object": "event", "type": "payment_intent.succeeded",
            "data": {"object": {"id": format!("pi_{}", n % 200), "object": "payment_intent",
            "amount": 1250, "currency": "usd", "metadata": {"vendor_id": format!("v-{}", n % 30)}}}});
        (Provider::Stripe, id, body)
    };
    WebhookEnvelope {
        provider,
        event_id: id,
        event_type: if provider == Provider::Stripe {
            "payment_intent.succeeded".into()
        } else {
            "PAYMENT.CAPTURE.COMPLETED".into()
        },
        received_at,
        request_id: Some(format!("req-{n}")),
        signature_headers: [("stripe-signature".to_owned(), format!("t=1,v1={n:064}"))].into(),
        body: body.to_string(),
    }
}

fn main() {
    // MGRID_BENCH_PARTS=1,3 runs only those parts.
    let parts = std::env::var("MGRID_BENCH_PARTS").unwrap_or_else(|_| "1,2,3".into());
    let runs = |part: &str| parts.split(',').any(|p| p.trim() == part);
    if runs("1") {
        engine_part();
    }
    if runs("2") {
        emulator_part();
    }
    if runs("3") {
        local_part();
    }
}

/// The archive's webhooks: `count` of them over `hours` hours from START.
fn archive(count: usize, hours: usize) -> Vec<WebhookEnvelope> {
    let per_hour = count.div_ceil(hours) as i64;
    (0..count)
        .map(|n| {
            webhook(
                n,
                START + (n as i64 / per_hour) * HOUR + (n as i64 % per_hour) * 997,
            )
        })
        .collect()
}

/// Part 1: sending 10,000 through the engine, in-memory queue at ~25 ms a call.
fn engine_part() {
    let count = 10_000;
    println!(
        "1. the move engine sending a replay: {count} webhooks, an in-memory FIFO queue answering \
         each call after ~{} ms (a region away)",
        REGION_AWAY.as_millis()
    );
    println!(
        "  {:<18} {:>8} {:>9} {:>10} {:>10} {:>14}",
        "", "sent", "seconds", "msgs/s", "req/msg", "most in flight"
    );
    let mut rates = Vec::new();
    for parallel in [16, 1] {
        let pair = Pair::new(Some(REGION_AWAY));
        let pending: Vec<ReadyMessage> = archive(count, 10)
            .iter()
            .map(|w| ReadyMessage {
                id: w.transaction_id(),
                message: mgrid::decide::replay::replay_message("0123456789abcdef", w),
            })
            .collect();
        let engine = RefCell::new(MoveEngine::new(Rules {
            source: MoveSource::Archive,
            workers: parallel,
            ..Rules::default()
        }));
        let stop = AtomicBool::new(false);
        let options = SendOptions {
            parallel,
            rate: None,
            stop: &stop,
            sent: &|_| {},
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let started = Instant::now();
        runtime
            .block_on(movers::send_in_order(
                &Webhooks(&pair),
                &engine,
                pending,
                &options,
                &|_| {},
            ))
            .expect("sent");
        let seconds = started.elapsed().as_secs_f64();
        let sent = engine.borrow().tally().moved;
        assert_eq!(sent, count);
        let rate = sent as f64 / seconds;
        rates.push(rate);
        println!(
            "  {:<18} {:>8} {:>9.2} {:>10.0} {:>10.3} {:>14}",
            format!("--parallel {parallel}"),
            sent,
            seconds,
            rate,
            pair.calls.get() as f64 / sent as f64,
            pair.most_in_flight.get()
        );
    }
    println!(
        "  --parallel 16 is {:.1}x --parallel 1\n",
        rates[0] / rates[1]
    );
}

/// Part 2: mgrid and the boto3 script through a 25 ms proxy in front of moto.
fn emulator_part() {
    let objects: usize = std::env::var("MGRID_BENCH_OBJECTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000);
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    deploy(&emulator, dir.path(), STAGE);

    // The archive, written with the contract's own key and format, ten at a time.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let config = emulator.sdk_config().await;
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&config)
                .force_path_style(true)
                .build(),
        );
        let ssm = aws_sdk_ssm::Client::new(&config);
        let bucket = ssm
            .get_parameter()
            .name(format!("/marketgrid/{STAGE}/archive-bucket"))
            .send()
            .await
            .unwrap()
            .parameter()
            .and_then(|p| p.value())
            .unwrap()
            .to_owned();
        for chunk in archive(objects, 10).chunks(10) {
            let puts = chunk.iter().map(|envelope| {
                s3.put_object()
                    .bucket(&bucket)
                    .key(ArchiveKey::for_envelope(envelope).to_string())
                    .body(ArchivedWebhook::to_json(envelope).into())
                    .send()
            });
            for put in futures::future::join_all(puts).await {
                put.unwrap();
            }
        }
    });
    let (from, to) = (START, START + 10 * HOUR - 1);
    let from_text = mgrid_contract::clock::format_rfc3339(from);
    let to_text = mgrid_contract::clock::format_rfc3339(to);
    let delayed = CountingProxy::with_delay(&emulator.endpoint, REGION_AWAY);
    let direct = CountingProxy::start(&emulator.endpoint);

    let boto3 = |proxy: &CountingProxy| {
        python(&emulator, "dlq.py", &["purge", STAGE]);
        proxy.reset();
        let started = Instant::now();
        let printed = python(
            &emulator.viewed_at(&proxy.endpoint),
            "replay.py",
            &[STAGE, &from.to_string(), &to.to_string()],
        );
        let total = started.elapsed().as_secs_f64();
        assert!(
            printed.contains(&format!("sent {objects}")),
            "boto3: {printed}"
        );
        let words: Vec<&str> = printed.split_whitespace().collect();
        let at = words.iter().position(|w| *w == "read_s").unwrap();
        (
            words[at + 1].parse::<f64>().unwrap(),
            total,
            proxy.traffic(),
        )
    };
    let mut rows = Vec::new();
    for _ in 0..RUNS {
        python(&emulator, "dlq.py", &["purge", STAGE]);
        delayed.reset();
        let started = Instant::now();
        let report = mgrid_json(
            &emulator.viewed_at(&delayed.endpoint),
            dir.path(),
            &[
                "replay", "--stage", STAGE, "--from", &from_text, "--to", &to_text, "--yes",
                "--wait", "0", "--output", "json",
            ],
        );
        let total = started.elapsed().as_secs_f64();
        assert_eq!(report["sent"], objects, "mgrid sent them all");
        let read = report["readMs"].as_f64().unwrap() / 1000.0;
        rows.push((
            "mgrid replay (--parallel 32)",
            read,
            total,
            delayed.traffic(),
        ));
        let (read, total, traffic) = boto3(&delayed);
        rows.push(("boto3 script (bench/replay.py)", read, total, traffic));
    }
    let (read, total, traffic) = boto3(&direct);
    rows.push((
        "the emulator alone: boto3, no added delay",
        read,
        total,
        traffic,
    ));
    println!(
        "2. the emulator (moto server) behind a proxy holding each request {} ms: replay {objects} \
         archived webhooks (10 hours, both providers); every run listed",
        REGION_AWAY.as_millis()
    );
    println!(
        "  {:<44} {:>8} {:>10} {:>9} {:>10} {:>9} {:>14}",
        "", "read s", "read obj/s", "total s", "total /s", "req/obj", "most in flight"
    );
    for (name, read, total, (requests, most)) in rows {
        println!(
            "  {name:<44} {:>8.2} {:>10.0} {:>9.2} {:>10.1} {:>9.3} {:>14}",
            read,
            objects as f64 / read,
            total,
            objects as f64 / total,
            requests as f64 / objects as f64,
            most
        );
    }
    println!(
        "  (the totals are bound by the emulator: moto's SendMessageBatch on a FIFO queue costs time \
         in proportion to what the queue holds, from any client: the last row is its cap)\n"
    );
}

/// Peak resident memory of a running process so far (VmHWM), in KiB.
fn peak_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Part 3: the local stage replaying its archive files, at growing archives.
fn local_part() {
    let sizes: Vec<usize> = std::env::var("MGRID_BENCH_LOCAL")
        .unwrap_or_else(|_| "10000,30000".into())
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect();
    println!("3. the local stage: mgrid replay --stage local over 30 hours of archive");
    println!(
        "  {:<14} {:>8} {:>9} {:>10} {:>16}",
        "archived", "sent", "seconds", "msgs/s", "peak memory MiB"
    );
    for count in sizes {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("local");
        let archive_dir = data.join("archive");
        mgrid::local::db::open(&{
            std::fs::create_dir_all(&data).unwrap();
            data.join("mgrid.db")
        })
        .unwrap();
        for envelope in archive(count, 30) {
            let path = archive_dir.join(ArchiveKey::for_envelope(&envelope).to_string());
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, ArchivedWebhook::to_json(&envelope)).unwrap();
        }
        let (from, to) = (START, START + 30 * HOUR - 1);
        let started = Instant::now();
        let mut child = Command::new(env!("CARGO_BIN_EXE_mgrid"))
            .args([
                "replay", "--stage", "local", "--yes", "--wait", "0", "--output", "json", "--from",
            ])
            .arg(mgrid_contract::clock::format_rfc3339(from))
            .arg("--to")
            .arg(mgrid_contract::clock::format_rfc3339(to))
            .env("MGRID_LOCAL_DIR", &data)
            .env_remove("MGRID_STAGE")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("run mgrid");
        let pid = child.id();
        let mut peak = 0;
        while child.try_wait().expect("wait for mgrid").is_none() {
            peak = peak.max(peak_kib(pid).unwrap_or(0));
            std::thread::sleep(Duration::from_millis(20));
        }
        let seconds = started.elapsed().as_secs_f64();
        let output = child.wait_with_output().expect("mgrid's report");
        let report: serde_json::Value =
            serde_json::from_slice(&output.stdout).expect("a JSON report");
        let sent = report["sent"].as_u64().unwrap_or(0) as usize;
        assert_eq!(sent, count, "every webhook sent: {report}");
        println!(
            "  {:<14} {:>8} {:>9.1} {:>10.0} {:>16.1}",
            count,
            sent,
            seconds,
            sent as f64 / seconds,
            peak as f64 / 1024.0
        );
    }
}
