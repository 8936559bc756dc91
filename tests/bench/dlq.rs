//! `cargo bench --bench dlq`: how fast a redrive moves dead letters, in three parts.
//!
//! 1. The move engine's own speed: the redrive driver (src/commands/movers.rs) through its ports over an
//!    in-memory FIFO queue pair that answers every call after about 25 ms (between 12.5 and
//!    37.5, a region away), 2,000 dead letters in 200 groups, at the default --parallel and at
//!    --parallel 1. This measures the engine's concurrency and batching against a real region's
//!    latency, with no emulator in the way: messages/s, requests per message, most in flight.
//! 2. Against the AWS emulator (moto server) in one run: `mgrid dlq redrive` and the batched
//!    sequential boto3 script (bench/dlq.py), each with no added delay and behind a proxy that
//!    holds every request for 150 ms, and the AWS CLI one message at a time
//!    (bench/dlq-redrive-awscli.sh); messages/s, requests per message and the most requests each
//!    kept in flight, counted by the proxy, and the emulator's own busy time beside them (moto
//!    answers one request at a time and costs milliseconds a request on a FIFO queue, from any
//!    client).
//! 3. The local stage: 10,000, 50,000 and 100,000 dead letters, `mgrid dlq redrive --stage
//!    local`: messages/s and peak memory, which must stay flat as the backlog grows.
//!
//! MGRID_BENCH_PARTS (1,2,3) picks the parts; MGRID_BENCH_EMULATOR_MESSAGES (300),
//! MGRID_BENCH_CLI_MESSAGES (20: the AWS CLI starts a
//! Python process per request) and MGRID_BENCH_LOCAL (10000,50000,100000) change the sizes.
//! Needs the tools `.ci/setup` installs, and jq for the AWS CLI script.

#[path = "common.rs"]
mod common;
#[path = "../suite/support/emulator.rs"]
mod emulator;
#[path = "../suite/support/fifo.rs"]
mod fifo;
#[path = "../suite/support/proxy.rs"]
mod proxy;

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use common::{deploy, environment, mgrid, python};
use emulator::{Emulator, repo_root, tool};
use fifo::{Dlq, Pair, Webhooks};
use mgrid::commands::movers::{self, RedriveOptions};
use mgrid::decide::move_engine::{MoveSource, Rules};
use mgrid::decide::redrive::{Filter, RunMark};
use proxy::CountingProxy;

const STAGE: &str = "bench";
const REGION_AWAY: Duration = Duration::from_millis(25);

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

fn main() {
    // MGRID_BENCH_PARTS=1,2 runs those parts only (all three by default).
    let parts = std::env::var("MGRID_BENCH_PARTS").unwrap_or_else(|_| "1,2,3".into());
    let wanted = |n: &str| parts.split(',').any(|p| p.trim() == n);
    if wanted("1") {
        engine_part();
    }
    if wanted("2") {
        emulator_part();
    }
    if wanted("3") {
        local_part();
    }
}

/// Part 1: the driver over the in-memory pair, at --parallel 16 (the default) and 1.
fn engine_part() {
    let (messages, groups) = (2_000, 200);
    println!(
        "1. the move engine through its ports: {messages} dead letters in {groups} groups, an \
         in-memory FIFO pair answering each call after ~{} ms (a region away)",
        REGION_AWAY.as_millis()
    );
    println!(
        "  {:<18} {:>8} {:>9} {:>10} {:>16} {:>10} {:>14}",
        "", "moved", "seconds", "msgs/s", "msgs/s moving", "req/msg", "most in flight"
    );
    let mut rates = Vec::new();
    for parallel in [16, 1] {
        let pair = Pair::new(Some(REGION_AWAY));
        for n in 0..messages {
            pair.dead_letter(
                &format!("G{}", n % groups),
                &format!("b{n}"),
                "bad-signature",
                60_000,
            );
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a runtime");
        let stop = AtomicBool::new(false);
        let filter = Filter::default();
        let mark = RunMark::new("0123456789abcdef", pair.now());
        let options = RedriveOptions {
            mark: &mark,
            filter: &filter,
            hold_seconds: 120,
            parallel,
            rate: None,
            read_limit: None,
            stop: &stop,
        };
        let rules = Rules {
            source: MoveSource::Queue,
            budget: None,
            dry_run: false,
            workers: parallel,
        };
        let started = Instant::now();
        let (dlq, webhooks) = (Dlq(&pair), Webhooks(&pair));
        let ports = movers::RedrivePorts {
            dlq: &dlq,
            queue: &webhooks,
            ledger: &mgrid::ports::EmptyLedger,
        };
        let redriven = runtime.block_on(movers::redrive(&ports, rules, &options, &|_| {}));
        let seconds = started.elapsed().as_secs_f64();
        assert!(redriven.failure.is_none());
        assert_eq!(redriven.tally.moved, messages, "every dead letter moved");
        let moving = pair
            .last_delete
            .get()
            .map_or(seconds, |at| (at - started).as_secs_f64());
        let (rate, moving_rate) = (messages as f64 / seconds, messages as f64 / moving);
        rates.push((rate, moving_rate));
        println!(
            "  {:<18} {:>8} {:>9.2} {:>10.0} {:>16.0} {:>10.3} {:>14}",
            format!("--parallel {parallel}"),
            redriven.tally.moved,
            seconds,
            rate,
            moving_rate,
            pair.calls.get() as f64 / messages as f64,
            pair.most_in_flight.get()
        );
    }
    println!(
        "  --parallel 16 is {:.1}x --parallel 1 over the whole run, {:.1}x while moving (the rest \
         is the one long poll, ~1 s, that finds the queue empty and ends every run); aim: at least \
         10x, at most 0.31 requests a message\n",
        rates[0].0 / rates[1].0,
        rates[0].1 / rates[1].1
    );
}

/// One contender's run against the emulator, through the proxy.
struct Outcome {
    name: String,
    moved: usize,
    seconds: f64,
    requests: u64,
    most_in_flight: u64,
    /// The time the emulator had at least one of the run's requests in hand.
    emulator_busy: f64,
    /// Requests by action, with the emulator's time on them.
    by_action: Vec<(String, u64, Duration)>,
}

impl Outcome {
    fn rate(&self) -> f64 {
        self.moved as f64 / self.seconds
    }
}

fn helper(emulator: &Emulator, args: &[&str]) -> String {
    python(emulator, "dlq.py", args)
}

fn depth(emulator: &Emulator) -> Vec<u64> {
    helper(emulator, &["depth", STAGE])
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect()
}

fn refill(emulator: &Emulator, messages: usize) {
    helper(emulator, &["drain", STAGE]);
    helper(
        emulator,
        &[
            "fill",
            STAGE,
            &messages.to_string(),
            &(messages / 10).max(1).to_string(),
        ],
    );
    assert_eq!(depth(emulator), vec![messages as u64, 0, 0, 0]);
}

/// The emulator as seen through `proxy`.
fn through(emulator: &Emulator, proxy: &CountingProxy) -> Emulator {
    emulator.viewed_at(&proxy.endpoint)
}

/// A region further away than part 1's: what issue 48 measures the redrive's concurrency at.
const FAR_AWAY: Duration = Duration::from_millis(150);

/// Part 2: mgrid and the sequential boto3 loop against the emulator in one run, with no added
/// delay and behind a proxy holding every request 150 ms; the AWS CLI one message at a time;
/// the emulator's own busy time beside each.
fn emulator_part() {
    let messages = env_number("MGRID_BENCH_EMULATOR_MESSAGES", 300);
    let cli_messages = env_number("MGRID_BENCH_CLI_MESSAGES", 20);
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    // A quiet webhook queue: `deploy` disables the processor's mapping, which would take the
    // moved messages off it (the bench measures moving, not the mapping).
    deploy(&emulator, dir.path(), STAGE);
    let upstream = emulator.endpoint.clone();
    let direct = CountingProxy::start(&upstream);
    let far = CountingProxy::with_delay(&upstream, FAR_AWAY);
    let mut outcomes = Vec::new();

    let mut measure =
        |name: String, proxy: &CountingProxy, count: usize, run: &dyn Fn(&Emulator)| {
            refill(&emulator, count);
            proxy.reset();
            let started = Instant::now();
            run(&through(&emulator, proxy));
            let seconds = started.elapsed().as_secs_f64();
            let (requests, most_in_flight) = proxy.traffic();
            let emulator_busy = proxy.emulator_busy().as_secs_f64();
            let by_action = proxy.by_action();
            assert_eq!(
                depth(&emulator),
                vec![0, 0, count as u64, 0],
                "{name} moved them all"
            );
            let outcome = Outcome {
                name,
                moved: count,
                seconds,
                requests,
                most_in_flight,
                emulator_busy,
                by_action,
            };
            eprintln!(
                "  measured: {} ({:.1} msgs/s)",
                outcome.name,
                outcome.rate()
            );
            outcomes.push(outcome);
        };
    let boto3 = |emulator: &Emulator| {
        helper(emulator, &["redrive", STAGE]);
    };
    let redrive = |emulator: &Emulator| {
        let output = mgrid(
            emulator,
            dir.path(),
            &[
                "dlq", "redrive", "--stage", STAGE, "--yes", "--wait", "0", "--output", "json",
            ],
        );
        if std::env::var_os("MGRID_BENCH_TRACE").is_some() {
            eprintln!("{}", String::from_utf8_lossy(&output.stderr));
        }
    };
    for (delay, proxy) in [("no added delay", &direct), ("+150 ms a request", &far)] {
        measure(
            format!("{delay}: mgrid dlq redrive (--parallel 16)"),
            proxy,
            messages,
            &redrive,
        );
        measure(
            format!("{delay}: boto3, batches of 10, sequential"),
            proxy,
            messages,
            &boto3,
        );
    }
    measure(
        "no added delay: AWS CLI, one at a time".into(),
        &direct,
        cli_messages,
        &|emulator| {
            let urls = helper(emulator, &["urls", STAGE]);
            let urls: Vec<&str> = urls.split_whitespace().collect();
            let output = environment(&mut Command::new("bash"), emulator)
                .env("AWS_CLI", tool("aws"))
                .arg(repo_root().join("bench/dlq-redrive-awscli.sh"))
                .args([urls[1], urls[0]])
                .output()
                .expect("run the AWS CLI script");
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
        },
    );

    println!(
        "2. the emulator (moto server), with no added delay and behind a proxy holding each \
         request {} ms: {messages} dead letters in {} groups (the AWS CLI: {cli_messages})",
        FAR_AWAY.as_millis(),
        (messages / 10).max(1)
    );
    println!(
        "  {:<50} {:>6} {:>8} {:>8} {:>8} {:>9} {:>14} {:>14}",
        "",
        "moved",
        "seconds",
        "msgs/s",
        "req/msg",
        "in flight",
        "emulator busy",
        "emulator ms/req"
    );
    for o in &outcomes {
        println!(
            "  {:<50} {:>6} {:>8.1} {:>8.1} {:>8.3} {:>9} {:>13.1}s {:>14.1}",
            o.name,
            o.moved,
            o.seconds,
            o.rate(),
            o.requests as f64 / o.moved as f64,
            o.most_in_flight,
            o.emulator_busy,
            o.emulator_busy * 1000.0 / o.requests.max(1) as f64
        );
    }
    println!(
        "  where the emulator's time went, by request (count, mean ms from passing it on to its answer):"
    );
    for o in &outcomes[..4] {
        let actions: Vec<String> = o
            .by_action
            .iter()
            .map(|(action, count, time)| {
                format!(
                    "{action} {count} x {:.0}",
                    time.as_secs_f64() * 1000.0 / (*count).max(1) as f64
                )
            })
            .collect();
        println!("    {}: {}", o.name, actions.join(", "));
    }
    let times = |mgrid: &Outcome, boto3: &Outcome| mgrid.rate() / boto3.rate();
    println!(
        "  mgrid against boto3: {:.1}x with no added delay (aim: at least 1.5x), {:.1}x at +{} ms \
         (aim: at least 8x, with 8 or more requests in flight)",
        times(&outcomes[0], &outcomes[1]),
        times(&outcomes[2], &outcomes[3]),
        FAR_AWAY.as_millis()
    );
    println!(
        "  (requests as the proxy counted them, every service: mgrid also reads the stage's SSM \
         parameters, the queue depths and the ledger. \"emulator busy\" is the time the emulator \
         had at least one of the run's requests in hand, from passing it on to the first bytes of \
         its answer: moto answers one at a time, so with no added delay it is the cap no client \
         can pass.)\n"
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

/// A local stage's data directory holding `count` dead letters in `count / 10` groups.
fn local_backlog(dir: &Path, count: usize) {
    use mgrid::local::db;
    std::fs::create_dir_all(dir).unwrap();
    let mut connection = db::open(&dir.join("mgrid.db")).expect("a local database");
    let tx = connection.transaction().unwrap();
    for n in 0..count {
        let event = format!("evt_{n:07}");
        let body = serde_json::json!({"id": event, "type": "payment_intent.succeeded",
            "data": {"object": {"id": format!("pi_{}", n % (count / 10)), "amount": 1000}}});
        let message = mgrid_contract::QueueMessage {
            body: body.to_string(),
            group_id: format!("stripe:pi_{}", n % (count / 10)),
            deduplication_id: event.clone(),
            attributes: [
                ("mgrid-provider".to_owned(), "stripe".to_owned()),
                ("mgrid-received-at".to_owned(), "1764403200000".to_owned()),
                (
                    "mgrid-failure-reason".to_owned(),
                    "bad-signature".to_owned(),
                ),
            ]
            .into(),
        };
        db::send(
            &tx,
            db::DEAD_LETTERS,
            &message,
            &format!("m{n:07}"),
            1_764_403_200_000,
        )
        .unwrap();
    }
    tx.commit().unwrap();
}

/// Part 3: the local stage's redrive at growing backlogs.
fn local_part() {
    let sizes: Vec<usize> = std::env::var("MGRID_BENCH_LOCAL")
        .unwrap_or_else(|_| "10000,50000,100000".into())
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect();
    println!("3. the local stage: mgrid dlq redrive --stage local (default --parallel 16)");
    println!(
        "  {:<14} {:>8} {:>9} {:>10} {:>16}",
        "dead letters", "moved", "seconds", "msgs/s", "peak memory MiB"
    );
    for count in sizes {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("local");
        local_backlog(&data, count);
        let started = Instant::now();
        let mut child = Command::new(env!("CARGO_BIN_EXE_mgrid"))
            .args([
                "dlq", "redrive", "--stage", "local", "--yes", "--wait", "0", "--output", "json",
            ])
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
        let moved = report["moved"].as_u64().unwrap_or(0) as usize;
        assert_eq!(moved, count, "every dead letter moved: {report}");
        println!(
            "  {:<14} {:>8} {:>9.1} {:>10.0} {:>16.1}",
            count,
            moved,
            seconds,
            moved as f64 / seconds,
            peak as f64 / 1024.0
        );
    }
}
