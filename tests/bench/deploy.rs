//! `cargo bench --bench deploy`: the lifecycle's figures against one AWS emulator (moto server),
//! in one run: AWS calls made by a first deploy and by an unchanged redeploy (counted by mgrid
//! itself), and the time from start to a ready change set for `mgrid deploy --no-execute`
//! versus `aws cloudformation deploy --no-execute-changeset` (the AWS CLI from PyPI), same
//! template, same parameters, alternating runs. Needs the tools `.ci/setup` installs.

#[path = "common.rs"]
mod common;
#[path = "../suite/support/emulator.rs"]
mod emulator;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use emulator::{Emulator, repo_root, tool};

const RUNS: usize = 7;

/// mgrid's time, JSON report and log (-v: it counts its AWS calls).
fn mgrid(emulator: &Emulator, dir: &Path, args: &[&str]) -> (f64, serde_json::Value, String) {
    let started = Instant::now();
    let output = common::mgrid(emulator, dir, &[&["--output", "json", "-v"], args].concat());
    let elapsed = started.elapsed().as_secs_f64() * 1000.0;
    (
        elapsed,
        serde_json::from_slice(&output.stdout).expect("JSON report"),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn aws_cli_deploy(emulator: &Emulator, stack: &str, bucket: &str, parameters: &[String]) -> f64 {
    let started = Instant::now();
    let output = Command::new(tool("aws"))
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        // --endpoint-url would reach CloudFormation only; the template upload must go there too.
        // moto reads the bucket of a template URL from its path only on a "localhost" host.
        .env(
            "AWS_ENDPOINT_URL",
            emulator.endpoint.replace("127.0.0.1", "localhost"),
        )
        .args([
            "cloudformation",
            "deploy",
            "--stack-name",
            stack,
            "--template-file",
        ])
        .arg(repo_root().join("stacks/pipeline.yaml"))
        .args([
            "--s3-bucket",
            bucket,
            "--capabilities",
            "CAPABILITY_IAM",
            "--no-execute-changeset",
            "--parameter-overrides",
        ])
        .args(parameters)
        .output()
        .expect("run the AWS CLI");
    let elapsed = started.elapsed().as_secs_f64() * 1000.0;
    assert!(
        output.status.success(),
        "aws cloudformation deploy failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    elapsed
}

fn median(mut samples: Vec<f64>) -> (f64, f64, f64) {
    samples.sort_by(f64::total_cmp);
    (
        samples[samples.len() / 2],
        samples[0],
        samples[samples.len() - 1],
    )
}

fn main() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let zip = mgrid_artifact::zip::zip_executable(
        "bootstrap",
        b"#!/bin/sh\n# placeholder: the emulator runs no Lambda code\n",
    )
    .unwrap();
    let artifact = dir.path().join("mgrid-functions.zip");
    std::fs::write(&artifact, &zip).unwrap();
    let artifact = artifact.to_str().unwrap();

    let (_, first, first_log) = mgrid(
        &emulator,
        dir.path(),
        &[
            "deploy",
            "--stage",
            "calls",
            "--yes",
            "--artifact",
            artifact,
        ],
    );
    let (_, again, _) = mgrid(
        &emulator,
        dir.path(),
        &[
            "deploy",
            "--stage",
            "calls",
            "--yes",
            "--artifact",
            artifact,
        ],
    );
    assert_eq!(again["action"], "none");
    println!("AWS calls (counted by mgrid, every request attempt)");
    println!(
        "  first deploy (creates the assets bucket)   {:>3}",
        first["apiCalls"]
    );
    println!(
        "  unchanged redeploy (\"no changes\")          {:>3}",
        again["apiCalls"]
    );
    assert!(first_log.contains("aws calls:"));

    let (sha256, sha256_hex) = mgrid_artifact::sha256(&zip);
    let bucket = "mgrid-assets-123456789012-us-east-1";
    let (mut ours, mut theirs, mut ours_inner) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..RUNS {
        let stage = format!("mg{run}");
        let (elapsed, report, _) = mgrid(
            &emulator,
            dir.path(),
            &[
                "deploy",
                "--stage",
                &stage,
                "--no-execute",
                "--artifact",
                artifact,
            ],
        );
        ours.push(elapsed);
        ours_inner.push(report["changeSetReadyMs"].as_f64().unwrap());
        let parameters: Vec<String> = [
            format!("Stage=cli{run}"),
            format!("ArtifactBucket={bucket}"),
            format!("ArtifactKey=artifacts/{sha256_hex}.zip"),
            format!("ArtifactSha256={sha256}"),
        ]
        .into();
        theirs.push(aws_cli_deploy(
            &emulator,
            &format!("marketgrid-cli{run}"),
            bucket,
            &parameters,
        ));
    }
    let (m, lo, hi) = median(ours);
    let (mi, _, _) = median(ours_inner);
    let (a, alo, ahi) = median(theirs);
    println!(
        "\nstart to a ready change set (new stack, 70 KB template uploaded to S3), {RUNS} runs each, ms"
    );
    println!("  {:<50} {:>8} {:>8} {:>8}", "", "median", "min", "max");
    println!(
        "  {:<50} {m:>8.0} {lo:>8.0} {hi:>8.0}",
        "mgrid deploy --no-execute (whole process)"
    );
    println!(
        "  {:<50} {mi:>8.0}",
        "  of which mgrid's own start-to-ready clock"
    );
    println!(
        "  {:<50} {a:>8.0} {alo:>8.0} {ahi:>8.0}",
        "aws cloudformation deploy --no-execute-changeset"
    );
    println!(
        "(moto server {}; the AWS CLI is {})",
        emulator.endpoint,
        String::from_utf8_lossy(
            &Command::new(tool("aws"))
                .arg("--version")
                .output()
                .unwrap()
                .stdout
        )
        .trim()
    );
}
