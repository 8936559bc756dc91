//! `cargo bench --bench dlq`: redriving 500 dead-lettered webhooks (25 message groups) against one
//! AWS emulator (moto server), three ways in the same run: `mgrid dlq redrive`, a one-at-a-time
//! AWS CLI script (bench/dlq-redrive-awscli.sh) and a batched boto3 script (bench/dlq.py
//! redrive). For each: messages per second, and SQS requests per message moved (mgrid's counted
//! by its own call counter, the scripts' by themselves). Each contender gets a freshly filled
//! dead-letter queue and an empty webhook queue, and must move all 500.
//!
//! MGRID_BENCH_MESSAGES changes the 500; MGRID_BENCH_CLI_MESSAGES gives the AWS CLI script fewer
//! (it starts a Python process per request, about 0.6 s each: 500 messages take it about 17
//! minutes). Needs the tools `.ci/setup` installs,
//! and jq for the AWS CLI script.

#[path = "common.rs"]
mod common;
#[path = "../support/emulator.rs"]
mod emulator;

use std::process::Command;
use std::time::Instant;

use common::{deploy, environment, mgrid, python};
use emulator::{Emulator, repo_root, tool};

const GROUPS: usize = 25;
const STAGE: &str = "bench";

struct Outcome {
    name: &'static str,
    seconds: f64,
    requests: usize,
    moved: usize,
}

/// Runs `bench/dlq.py` with `args`; what it printed.
fn helper(emulator: &Emulator, args: &[&str]) -> String {
    python(emulator, "dlq.py", args)
}

fn depth(emulator: &Emulator) -> Vec<u64> {
    helper(emulator, &["depth", STAGE])
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect()
}

/// A full dead-letter queue and an empty webhook queue.
fn refill(emulator: &Emulator, messages: usize) {
    helper(emulator, &["drain", STAGE]);
    helper(
        emulator,
        &["fill", STAGE, &messages.to_string(), &GROUPS.to_string()],
    );
    assert_eq!(depth(emulator), vec![messages as u64, 0, 0, 0]);
}

/// "requests N moved M", as both scripts print it.
fn counted(output: &str) -> (usize, usize) {
    let words: Vec<&str> = output.split_whitespace().collect();
    let at = words
        .iter()
        .position(|w| *w == "requests")
        .unwrap_or_else(|| panic!("no request count in {output:?}"));
    (
        words[at + 1].parse().unwrap(),
        words[at + 3].parse().unwrap(),
    )
}

fn main() {
    let messages: usize = std::env::var("MGRID_BENCH_MESSAGES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(500);
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    deploy(&emulator, dir.path(), STAGE);
    let mut outcomes = Vec::new();

    // mgrid: the SQS requests are the ones its -vv log names (it also reads SSM parameters).
    refill(&emulator, messages);
    let started = Instant::now();
    let output = mgrid(
        &emulator,
        dir.path(),
        &[
            "dlq", "redrive", "--stage", STAGE, "--yes", "--output", "json", "-vv",
        ],
    );
    let seconds = started.elapsed().as_secs_f64();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    let requests = log
        .lines()
        .filter(|line| line.contains("aws call ") && line.to_lowercase().contains(": sqs:"))
        .count();
    assert!(requests > 0, "mgrid -vv logged no SQS calls:\n{log}");
    outcomes.push(Outcome {
        name: "mgrid dlq redrive",
        seconds,
        requests,
        moved: report["moved"].as_u64().unwrap() as usize,
    });
    assert_eq!(depth(&emulator), vec![0, 0, messages as u64, 0]);

    // The batched boto3 script.
    refill(&emulator, messages);
    let started = Instant::now();
    let (requests, moved) = counted(&helper(&emulator, &["redrive", STAGE]));
    outcomes.push(Outcome {
        name: "boto3, batches of 10 (bench/dlq.py)",
        seconds: started.elapsed().as_secs_f64(),
        requests,
        moved,
    });
    assert_eq!(depth(&emulator), vec![0, 0, messages as u64, 0]);

    // The AWS CLI, one message at a time.
    let cli_messages: usize = std::env::var("MGRID_BENCH_CLI_MESSAGES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(messages);
    refill(&emulator, cli_messages);
    let urls = helper(&emulator, &["urls", STAGE]);
    let urls: Vec<&str> = urls.split_whitespace().collect();
    let started = Instant::now();
    let output = environment(&mut Command::new("bash"), &emulator)
        .env("AWS_CLI", tool("aws"))
        .arg(repo_root().join("bench/dlq-redrive-awscli.sh"))
        .args([urls[1], urls[0]])
        .output()
        .expect("run the AWS CLI script");
    assert!(
        output.status.success(),
        "the AWS CLI script failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (requests, moved) = counted(&String::from_utf8_lossy(&output.stdout));
    outcomes.push(Outcome {
        name: "AWS CLI, one at a time (bench/dlq-redrive-awscli.sh)",
        seconds: started.elapsed().as_secs_f64(),
        requests,
        moved,
    });
    assert_eq!(depth(&emulator), vec![0, 0, cli_messages as u64, 0]);

    println!("redrive {messages} dead-lettered webhooks in {GROUPS} message groups, one emulator");
    println!(
        "  {:<55} {:>8} {:>9} {:>10} {:>12}",
        "", "moved", "seconds", "msgs/s", "SQS req/msg"
    );
    for o in &outcomes {
        println!(
            "  {:<55} {:>8} {:>9.1} {:>10.1} {:>12.3}",
            o.name,
            o.moved,
            o.seconds,
            o.moved as f64 / o.seconds,
            o.requests as f64 / o.moved.max(1) as f64
        );
    }
    println!(
        "(floor: 0.3 SQS requests per message, one receive, one send, one delete per ten; every \
         contender ends with one empty 1 s long poll; moto server {})",
        emulator.endpoint
    );
}
