//! The artifact's figures: bootstrap and zip size, and the time from process start to ready for
//! the first event, for each handler, against a stand-in for the Lambda Runtime API on
//! 127.0.0.1 (the bootstrap is ready when it asks for its first invocation).
//! `cargo bench -p mgrid-artifact --bench cold_start` measures the artifact exactly as it is
//! deployed: the bootstrap `cargo run --release -p mgrid-artifact` built (target/lambda/).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const RUNS: usize = 15;

/// Starts the bootstrap as the `handler` function and returns how long until it polled for an
/// event.
fn time_to_ready(bootstrap: &Path, handler: &str) -> Duration {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let (ready, polled) = mpsc::channel();
    std::thread::spawn(move || {
        if let Ok((stream, _)) = listener.accept() {
            let mut line = String::new();
            let _ = BufReader::new(&stream).read_line(&mut line);
            if line.contains("/runtime/invocation/next") {
                let _ = ready.send(Instant::now());
            }
            let _ = (&stream)
                .write_all(b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\n\r\n");
        }
    });
    let start = Instant::now();
    let mut child = Command::new(bootstrap)
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
        .env("_HANDLER", handler)
        .env(
            "AWS_LAMBDA_FUNCTION_NAME",
            format!("marketgrid-bench-{handler}"),
        )
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/bench")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "bench")
        .env("AWS_SECRET_ACCESS_KEY", "bench")
        .env("AWS_SESSION_TOKEN", "bench")
        .env("MGRID_STAGE", "bench")
        .env("MGRID_TABLE_NAME", "bench-table")
        .env(
            "MGRID_DLQ_URL",
            "https://sqs.us-east-1.amazonaws.com/123456789012/bench-dlq.fifo",
        )
        .env("MGRID_ARCHIVE_BUCKET", "bench-archive")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the bootstrap");
    let at = polled
        .recv_timeout(Duration::from_secs(10))
        .expect("the bootstrap asks for an event within 10 s");
    let _ = child.kill();
    let _ = child.wait();
    at - start
}

fn median_and_p90(mut samples: Vec<Duration>) -> (f64, f64) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    (
        ms(samples[samples.len() / 2]),
        ms(samples[samples.len() * 9 / 10]),
    )
}

fn report(label: &str, bootstrap: &Path) {
    let bytes = std::fs::read(bootstrap).unwrap();
    let zipped = mgrid_artifact::zip::zip_executable("bootstrap", &bytes).unwrap();
    println!(
        "{label}: bootstrap {:.1} MB, zipped {:.1} MB ({})",
        bytes.len() as f64 / 1e6,
        zipped.len() as f64 / 1e6,
        bootstrap.display()
    );
    println!(
        "  {:<12} {:>14} {:>10}",
        "handler", "median to ready", "p90"
    );
    for handler in ["authorizer", "processor", "archiver"] {
        let samples: Vec<Duration> = (0..RUNS)
            .map(|_| time_to_ready(bootstrap, handler))
            .collect();
        let (median, p90) = median_and_p90(samples);
        println!("  {handler:<12} {median:>12.1} ms {p90:>7.1} ms");
    }
}

fn main() -> std::process::ExitCode {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let bootstrap = workspace.join("target/lambda/bootstrap");
    if !bootstrap.is_file() {
        eprintln!(
            "no artifact to measure: build it first with `cargo run --release -p mgrid-artifact`"
        );
        return std::process::ExitCode::FAILURE;
    }
    println!("time from process start to the first GET /runtime/invocation/next, {RUNS} runs each");
    report("release artifact (profile lambda)", &bootstrap);
    std::process::ExitCode::SUCCESS
}
