//! The artifact's figures: bootstrap and zip size per architecture, and the time from process
//! start to ready for the first event (its first GET /runtime/invocation/next) for each handler,
//! against the Runtime API stand-in on 127.0.0.1. x86_64 runs natively; arm64 runs under
//! qemu-aarch64 (user-mode emulation, so its times say that it starts, not how fast a Graviton
//! does). `cargo bench -p mgrid-artifact --bench cold_start` measures the bootstraps exactly as
//! deployed: those `cargo install`, `cargo build --release` or `cargo run --release -p
//! mgrid-artifact` built into target/artifact-build.

#[path = "../tests/support/runtime_api.rs"]
mod runtime_api;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use mgrid_artifact::Arch;
use mgrid_artifact::builder::{Layout, PROFILE};
use runtime_api::{RuntimeApi, Seen};

const RUNS: usize = 15;

/// Starts the bootstrap as the `handler` function and returns how long until it polled for an
/// event.
fn time_to_ready(runner: &[&str], bootstrap: &Path, handler: &str) -> Duration {
    let api = RuntimeApi::start(Vec::new());
    let start = Instant::now();
    let mut child = api.launch(runner, bootstrap, handler);
    let seen = api.next(Duration::from_secs(30));
    let _ = child.kill();
    let _ = child.wait();
    match seen {
        Some(Seen::Polled(at)) => at - start,
        other => panic!("the {handler} bootstrap did not ask for an event: {other:?}"),
    }
}

fn median_and_p90(mut samples: Vec<Duration>) -> (f64, f64) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    (
        ms(samples[samples.len() / 2]),
        ms(samples[samples.len() * 9 / 10]),
    )
}

fn report(label: &str, runner: &[&str], bootstrap: &Path) {
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
            .map(|_| time_to_ready(runner, bootstrap, handler))
            .collect();
        let (median, p90) = median_and_p90(samples);
        println!("  {handler:<12} {median:>12.1} ms {p90:>7.1} ms");
    }
}

fn bootstrap(layout: &Layout, arch: Arch) -> PathBuf {
    layout
        .cargo_target
        .join(arch.rust_target())
        .join(PROFILE)
        .join("bootstrap")
}

fn main() -> std::process::ExitCode {
    let layout = Layout::new(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.."));
    println!("time from process start to the first GET /runtime/invocation/next, {RUNS} runs each");
    let mut measured = 0;
    let x86_64 = bootstrap(&layout, Arch::X86_64);
    if x86_64.is_file() {
        report("x86_64, native", &[], &x86_64);
        measured += 1;
    }
    let arm64 = bootstrap(&layout, Arch::Arm64);
    let qemu = ["qemu-aarch64-static", "qemu-aarch64"]
        .into_iter()
        .find(|name| {
            std::process::Command::new(name)
                .arg("--version")
                .output()
                .is_ok()
        });
    match (arm64.is_file(), qemu) {
        (true, Some(qemu)) => {
            let runner = [qemu, "-L", "/usr/aarch64-linux-gnu"];
            report(
                "arm64, under qemu-aarch64 emulation (not Graviton speed)",
                &runner,
                &arm64,
            );
            measured += 1;
        }
        (true, None) => {
            eprintln!("arm64: not measured; install qemu-user-static and libc6-arm64-cross")
        }
        (false, _) => {}
    }
    if measured == 0 {
        eprintln!(
            "no artifact to measure: build it first with `cargo run --release -p mgrid-artifact`"
        );
        return std::process::ExitCode::FAILURE;
    }
    std::process::ExitCode::SUCCESS
}
