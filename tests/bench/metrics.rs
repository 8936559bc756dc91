//! `cargo bench --bench metrics`: what one refresh of `mgrid metrics tail` costs, and the CPU the
//! idle dashboard uses. A stage is deployed in one AWS emulator (moto server) and a full hour of
//! one-minute data is published for every signal (percentiles excepted: moto refuses them).
//!
//! - Calls and bytes per refresh: `metrics tail --output json --interval 5s` runs through a
//!   counting proxy; after the first snapshot (which also reads SSM) the proxy counts the next
//!   three refreshes: requests by action and bytes on the wire both ways (HTTP headers
//!   included), beside mgrid's own count of body bytes.
//! - Idle CPU: the full-screen dashboard runs in a tmux pane at the default 10 s interval; its
//!   user+system CPU time over MGRID_BENCH_IDLE_SECONDS (default 60) is read from /proc.
//!
//! Needs the tools `.ci/setup` installs, and tmux.

#[path = "../suite/support/cloudwatch.rs"]
mod cloudwatch;
#[path = "common.rs"]
mod common;
#[path = "../suite/support/emulator.rs"]
mod emulator;
#[path = "../suite/support/proxy.rs"]
mod proxy;
#[path = "../suite/support/tmux.rs"]
mod tmux;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{deploy, environment};
use emulator::Emulator;
use mgrid_contract::StageName;
use proxy::CountingProxy;
use tmux::Tmux;

const STAGE: &str = "bench";
const REFRESHES: usize = 3;

fn main() {
    let idle_seconds: u64 = std::env::var("MGRID_BENCH_IDLE_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().expect("a temp dir");
    deploy(&emulator, dir.path(), STAGE);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let published = runtime.block_on(publish_an_hour(&emulator));
    println!("metrics tail: stage {STAGE}, {published} series with an hour of one-minute data");

    refresh_cost(&emulator, dir.path());
    idle_cpu(&emulator, dir.path(), idle_seconds);
}

/// Publishes 60 one-minute points for every signal that is not a percentile.
async fn publish_an_hour(emulator: &Emulator) -> usize {
    let config = emulator.sdk_config().await;
    let stage: StageName = STAGE.parse().expect("a stage name");
    let parameters =
        mgrid::aws::parameters::stage_parameters(&aws_sdk_ssm::Client::new(&config), &stage)
            .await
            .expect("the stage's parameters");
    let resources =
        mgrid::aws::metrics::resources(&parameters, &stage).expect("the stage's resources");
    let client = aws_sdk_cloudwatch::Client::new(&config);
    let signals: Vec<_> = mgrid::decide::metrics::signals(&resources)
        .into_iter()
        .filter(|s| !s.stat.is_percentile())
        .collect();
    for (n, signal) in signals.iter().enumerate() {
        let values: Vec<f64> = (0..60)
            .map(|minute| ((minute * 37 + n * 11) % 97) as f64 * 13.0)
            .collect();
        cloudwatch::put_per_minute(
            &client,
            signal.namespace,
            signal.metric,
            &signal.dimensions,
            &values,
        )
        .await;
    }
    signals.len()
}

fn refresh_cost(emulator: &Emulator, dir: &std::path::Path) {
    let proxy = CountingProxy::start(&emulator.endpoint);
    let mut child = environment(&mut Command::new(env!("CARGO_BIN_EXE_mgrid")), emulator)
        .env_remove("AWS_ENDPOINT_URL")
        .current_dir(dir)
        .args(["--region", "us-east-1", "--endpoint-url", &proxy.endpoint])
        .args([
            "metrics",
            "tail",
            "--stage",
            STAGE,
            "--interval",
            "5s",
            "--output",
            "json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start mgrid");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    lines.next().expect("a first snapshot").expect("read it");
    proxy.reset();
    let mut last = serde_json::Value::Null;
    for _ in 0..REFRESHES {
        let line = lines.next().expect("a snapshot").expect("read it");
        last = serde_json::from_str(&line).expect("a JSON snapshot");
    }
    // The proxy may not have seen the last response's final bytes; give it a moment.
    std::thread::sleep(Duration::from_millis(200));
    let _ = child.kill();
    let _ = child.wait();
    let (sent, received) = proxy.bytes();
    let per = |n: u64| n as f64 / REFRESHES as f64;
    let points: usize = last["series"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|r| r["points"].as_array().map_or(0, Vec::len))
                .sum()
        })
        .unwrap_or(0);
    println!(
        "\nper refresh, averaged over {REFRESHES} refreshes (1h window at 1m, 19 rows, {points} points):"
    );
    println!(
        "  GetMetricData calls   {:>8.1}   (counted by the proxy)",
        per(proxy.requests("GetMetricData") as u64)
    );
    println!(
        "  DescribeAlarms calls  {:>8.1}",
        per(proxy.requests("DescribeAlarms") as u64)
    );
    println!(
        "  AWS calls (mgrid)     {:>8}",
        last["cost"]["awsCalls"].as_u64().unwrap_or(0)
    );
    println!(
        "  bytes on the wire out {:>8.0}   (HTTP, headers included)",
        per(sent)
    );
    println!("  bytes on the wire in  {:>8.0}", per(received));
    println!(
        "  body bytes out / in   {:>8} / {} (mgrid's count)",
        last["cost"]["bytesSent"].as_u64().unwrap_or(0),
        last["cost"]["bytesReceived"].as_u64().unwrap_or(0)
    );
}

fn idle_cpu(emulator: &Emulator, dir: &std::path::Path, seconds: u64) {
    let tmux = Tmux::start("bench", dir, emulator);
    tmux.type_line(&format!(
        "{} metrics tail --stage {STAGE}",
        env!("CARGO_BIN_EXE_mgrid")
    ));
    tmux.wait_for("· updated", true);
    let pid = tmux
        .child_pid("mgrid")
        .expect("the dashboard runs in the pane");
    // Past start-up: SSM, the first refresh, the first draws.
    std::thread::sleep(Duration::from_secs(2));
    let ticks_per_second = clock_ticks_per_second();
    let (before, started) = (cpu_ticks(pid), Instant::now());
    std::thread::sleep(Duration::from_secs(seconds));
    let (after, elapsed) = (cpu_ticks(pid), started.elapsed());
    let cpu_seconds = (after - before) as f64 / ticks_per_second;
    let rss = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .map(str::to_owned)
        })
        .unwrap_or_default();
    tmux.keys(&["q"]);
    println!(
        "\nidle dashboard (10 s interval, 110x32 tmux pane) over {:.0} s:",
        elapsed.as_secs_f64()
    );
    println!(
        "  CPU {:.3} s = {:.2}% of one core   (aim: under 1%)",
        cpu_seconds,
        cpu_seconds / elapsed.as_secs_f64() * 100.0
    );
    println!("  {}", rss.split_whitespace().collect::<Vec<_>>().join(" "));
}

/// utime + stime of a process, in clock ticks (/proc/<pid>/stat fields 14 and 15).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("read /proc/<pid>/stat");
    // The command name (field 2) may hold spaces; count fields after its closing parenthesis.
    let after_name = &stat[stat.rfind(')').expect("a stat line") + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime")
}

fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}
