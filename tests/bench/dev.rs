//! `cargo bench --bench dev`: sustained throughput of the local stage. `mgrid dev` (release
//! build, 4 processor workers, notifications printed to /dev/null) takes a load from
//! `mgrid send stripe --count N --concurrency C` (the load generator: hyper, HTTP/1.1 keep-alive,
//! C requests in flight) on the same machine. Prints webhooks accepted per second with the
//! ingress latency the sender saw (p50/p99), and webhooks fully processed per second (ledger
//! item written, archive file written and synced, vendor notified), from the first request to
//! the moment the last one is archived. Every acknowledged webhook is checked to be in the
//! ledger. Three runs (MGRID_BENCH_RUNS), each with the CPU time the sender and `mgrid dev` used:
//! the load generator's own cost, beside the figure it drives. MGRID_BENCH_WEBHOOKS (default
//! 20,000) and MGRID_BENCH_CONCURRENCY (64) change the load.

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

/// CPU seconds (user and system) a running process has used so far, from /proc/<pid>/stat.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks: f64 = [11, 12]
        .iter()
        .filter_map(|i| fields.get(*i)?.parse::<f64>().ok())
        .sum();
    // SAFETY: sysconf has no preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    ticks / per_second.max(1.0)
}

/// CPU seconds the children this process has waited for used so far.
fn children_cpu_seconds() -> f64 {
    // SAFETY: getrusage writes the struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

fn main() {
    let webhooks = setting("MGRID_BENCH_WEBHOOKS", 20_000);
    let concurrency = setting("MGRID_BENCH_CONCURRENCY", 64);
    let runs = setting("MGRID_BENCH_RUNS", 3);
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

    println!(
        "mgrid dev, {webhooks} signed Stripe webhooks from mgrid send ({concurrency} in flight), \
         {runs} runs, 2-core machine, both on it:"
    );
    let mut best: f64 = 0.0;
    for run in 1..=runs {
        let before = dev.ledger().len() as u64;
        let (dev_cpu, send_cpu) = (cpu_seconds(dev.child.id()), children_cpu_seconds());
        let started = Instant::now();
        let report = send(webhooks);
        let sent_in = started.elapsed();
        let send_cpu = children_cpu_seconds() - send_cpu;
        dev.wait_until_drained(Duration::from_secs(600));
        let processed_in = started.elapsed();
        let dev_cpu = cpu_seconds(dev.child.id()) - dev_cpu;
        let accepted = report["accepted"].as_u64().unwrap_or(0);
        let recorded = dev.ledger().len() as u64 - before;
        let processed = recorded as f64 / processed_in.as_secs_f64();
        best = best.max(processed);
        println!("  run {run}:");
        println!(
            "    accepted   {accepted:>7} in {:>6.2} s = {:>6.0} webhooks/s; ingress latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            sent_in.as_secs_f64(),
            accepted as f64 / sent_in.as_secs_f64(),
            report["latencyMs"]["p50"].as_f64().unwrap_or(0.0),
            report["latencyMs"]["p99"].as_f64().unwrap_or(0.0),
            report["latencyMs"]["max"].as_f64().unwrap_or(0.0),
        );
        println!(
            "    processed  {recorded:>7} in {:>6.2} s = {processed:>6.0} webhooks/s (ledger + archive + notification, with their receipts)",
            processed_in.as_secs_f64(),
        );
        println!(
            "    CPU: mgrid send {send_cpu:.2} s ({:.0} webhooks per CPU-second: the load \
             generator's own cost, and the most it could send on a core of its own), mgrid dev \
             {dev_cpu:.2} s ({:.0} per CPU-second); both of {:.2} s on 2 cores",
            accepted as f64 / send_cpu.max(0.001),
            recorded as f64 / dev_cpu.max(0.001),
            2.0 * processed_in.as_secs_f64()
        );
        println!(
            "    refused {}, failed {}",
            report["refused"], report["failed"]
        );
        assert_eq!(
            recorded, accepted,
            "every acknowledged webhook is in the ledger"
        );
    }
    println!("  best of {runs}: {best:.0} webhooks/s processed end to end (aim: at least 3,500)");
}
