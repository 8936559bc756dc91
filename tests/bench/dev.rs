//! `cargo bench --bench dev`: sustained throughput of the local stage. `mgrid dev` (release
//! build, 4 processor workers, notifications printed to /dev/null) takes a load from
//! `mgrid send stripe --count N --concurrency C` (the load generator: hyper, HTTP/1.1 keep-alive,
//! C requests in flight) on the same machine. Prints webhooks accepted per second with the
//! ingress latency the sender saw (p50/p99), and webhooks fully processed per second (ledger
//! item written, archive file written and synced, vendor notified), from the first request to
//! the moment the last one is archived. Every acknowledged webhook is checked to be in the
//! ledger. MGRID_BENCH_WEBHOOKS (default 20,000) and MGRID_BENCH_CONCURRENCY (64) change the load.

#[path = "../suite/support/local.rs"]
mod local;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use local::Dev;

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let webhooks = setting("MGRID_BENCH_WEBHOOKS", 20_000);
    let concurrency = setting("MGRID_BENCH_CONCURRENCY", 64);
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_mgrid"));
    let dir = tempfile::tempdir().expect("a temp dir");
    let dev = Dev::start(&binary, &dir.path().join("local"), None);

    let send = |count: u64| -> serde_json::Value {
        let output = Command::new(&binary)
            .args(["send", "stripe", "--stage", "local", "--output", "json"])
            .args(["--count", &count.to_string()])
            .args(["--concurrency", &concurrency.to_string()])
            .arg("--data-dir")
            .arg(&dev.data_dir)
            .output()
            .expect("run mgrid send");
        assert!(
            output.status.success(),
            "mgrid send failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("a JSON report")
    };
    // Warm-up: connections, page cache, the key ring caches.
    send(500);
    dev.wait_until_drained(Duration::from_secs(120));
    let before = dev.ledger().len() as u64;

    let started = Instant::now();
    let report = send(webhooks);
    let sent_in = started.elapsed();
    dev.wait_until_drained(Duration::from_secs(600));
    let processed_in = started.elapsed();
    let accepted = report["accepted"].as_u64().unwrap_or(0);
    let recorded = dev.ledger().len() as u64 - before;

    println!(
        "mgrid dev, {webhooks} signed Stripe webhooks from mgrid send ({concurrency} in flight), 2-core machine, both on it:"
    );
    println!(
        "  accepted   {accepted:>7} in {:>6.2} s = {:>6.0} webhooks/s; ingress latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        sent_in.as_secs_f64(),
        accepted as f64 / sent_in.as_secs_f64(),
        report["latencyMs"]["p50"].as_f64().unwrap_or(0.0),
        report["latencyMs"]["p99"].as_f64().unwrap_or(0.0),
        report["latencyMs"]["max"].as_f64().unwrap_or(0.0),
    );
    println!(
        "  processed  {recorded:>7} in {:>6.2} s = {:>6.0} webhooks/s (ledger + archive + notification)",
        processed_in.as_secs_f64(),
        recorded as f64 / processed_in.as_secs_f64()
    );
    println!(
        "  refused {}, failed {}",
        report["refused"], report["failed"]
    );
    assert_eq!(
        recorded, accepted,
        "every acknowledged webhook is in the ledger"
    );
}
