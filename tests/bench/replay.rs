//! `cargo bench --bench replay`: replaying 1,000 archived webhooks (10 hours, both providers)
//! from one AWS emulator (moto server), with `mgrid replay` and with a straightforward boto3
//! script (bench/replay.py: list, read one object after the other, send in batches of ten),
//! alternating, same archive. Prints objects per second for each and mgrid's AWS calls. The
//! webhook queue is purged before each run (PurgeQueue: once a minute, so the bench waits).
//! MGRID_BENCH_OBJECTS changes the 1,000. Needs the tools `.ci/setup` installs.

#[path = "common.rs"]
mod common;
#[path = "../support/emulator.rs"]
mod emulator;

use std::path::Path;
use std::time::Instant;

use common::{deploy, mgrid, python};
use emulator::Emulator;
use mgrid_contract::{ArchiveKey, ArchivedWebhook, Provider, WebhookEnvelope};

const STAGE: &str = "bench";
const RUNS: usize = 2;
const HOUR: i64 = 3_600_000;
/// 2026-11-26T00:00:00Z
const START: i64 = 1_795_651_200_000;

/// mgrid's JSON report and what it logged.
fn mgrid_json(emulator: &Emulator, dir: &Path, args: &[&str]) -> (serde_json::Value, String) {
    let output = mgrid(emulator, dir, args);
    (
        serde_json::from_slice(&output.stdout).unwrap_or_default(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
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
        let per_hour = objects.div_ceil(10) as i64;
        let envelopes: Vec<WebhookEnvelope> = (0..objects)
            .map(|n| {
                webhook(
                    n,
                    START + (n as i64 / per_hour) * HOUR + (n as i64 % per_hour) * 997,
                )
            })
            .collect();
        for chunk in envelopes.chunks(10) {
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

    let (mut ours, mut theirs, mut calls) = (Vec::new(), Vec::new(), 0);
    let (mut ours_read, mut theirs_read) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        python(&emulator, "dlq.py", &["purge", STAGE]);
        let started = Instant::now();
        let (report, log) = mgrid_json(
            &emulator,
            dir.path(),
            &[
                "replay", "--stage", STAGE, "--from", &from_text, "--to", &to_text, "--yes",
                "--output", "json", "-v",
            ],
        );
        ours.push(started.elapsed().as_secs_f64());
        assert_eq!(report["sent"], objects, "mgrid sent them all");
        ours_read.push(report["readMs"].as_f64().unwrap() / 1000.0);
        calls = log
            .lines()
            .find_map(|l| l.strip_prefix("aws calls: "))
            .and_then(|n| n.trim().parse::<usize>().ok())
            .unwrap_or(0);

        python(&emulator, "dlq.py", &["purge", STAGE]);
        let started = Instant::now();
        let printed = python(
            &emulator,
            "replay.py",
            &[STAGE, &from.to_string(), &to.to_string()],
        );
        theirs.push(started.elapsed().as_secs_f64());
        assert!(
            printed.contains(&format!("sent {objects}")),
            "boto3: {printed}"
        );
        let words: Vec<&str> = printed.split_whitespace().collect();
        let at = words.iter().position(|w| *w == "read_s").unwrap();
        theirs_read.push(words[at + 1].parse::<f64>().unwrap());
    }
    let best = |v: &[f64]| v.iter().cloned().fold(f64::INFINITY, f64::min);
    println!(
        "replay {objects} archived webhooks (10 hours, both providers), one emulator, {RUNS} alternating runs, best run"
    );
    println!(
        "  {:<36} {:>9} {:>11} {:>9} {:>11}",
        "", "read s", "read obj/s", "total s", "total obj/s"
    );
    for (name, read, total) in [
        ("mgrid replay (reads 32 at a time)", &ours_read, &ours),
        ("boto3 script (bench/replay.py)", &theirs_read, &theirs),
    ] {
        println!(
            "  {name:<36} {:>9.2} {:>11.0} {:>9.2} {:>11.0}",
            best(read),
            objects as f64 / best(read),
            best(total),
            objects as f64 / best(total)
        );
    }
    println!(
        "  mgrid AWS calls: {calls} ({:.3} per object)",
        calls as f64 / objects as f64
    );
    println!(
        "(the totals are bound by the emulator: moto's SendMessageBatch on a FIFO queue costs time in\n proportion to what the queue holds, about 88 s for 1,000 messages from any client)"
    );
    println!("(moto server {})", emulator.endpoint);
}
