//! What the emulator benchmarks share: the environment for the emulator, the bench
//! scripts under bench/, mgrid itself, and a deployed stage with its processor mapping off.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

use crate::emulator::{Emulator, repo_root, tool};

pub fn environment<'a>(command: &'a mut Command, emulator: &Emulator) -> &'a mut Command {
    command
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", &emulator.endpoint)
        .env_remove("AWS_PROFILE")
}

/// Runs `bench/<script>` with the pinned Python; what it printed.
pub fn python(emulator: &Emulator, script: &str, args: &[&str]) -> String {
    let output = environment(&mut Command::new(tool("python")), emulator)
        .arg(repo_root().join("bench").join(script))
        .args(args)
        .output()
        .expect("run a bench script");
    assert!(
        output.status.success(),
        "bench/{script} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Runs mgrid against the emulator; it must succeed. Exit 8 is success here: a redrive or
/// replay the benchmarks time moves webhooks no processor judges (the emulator runs none), so
/// they end pending; the benchmarks pass `--wait 0` to time the move alone.
pub fn mgrid(emulator: &Emulator, dir: &Path, args: &[&str]) -> Output {
    let output = environment(&mut Command::new(env!("CARGO_BIN_EXE_mgrid")), emulator)
        .env_remove("AWS_ENDPOINT_URL")
        .current_dir(dir)
        .args([
            "--region",
            "us-east-1",
            "--endpoint-url",
            &emulator.endpoint,
        ])
        .args(args)
        .output()
        .expect("run mgrid");
    assert!(
        matches!(output.status.code(), Some(0 | 8)),
        "mgrid {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Deploys `stage` with a placeholder artifact and turns its processor mapping off (the
/// emulator runs no Lambda code, but its mapping would take messages off the queue).
pub fn deploy(emulator: &Emulator, dir: &Path, stage: &str) {
    let zip = mgrid_artifact::zip::zip_executable("bootstrap", b"#!/bin/sh\n")
        .expect("zip a placeholder");
    let artifact = dir.join("mgrid-functions.zip");
    std::fs::write(&artifact, &zip).expect("write the placeholder artifact");
    let artifact = artifact.to_str().expect("a UTF-8 temp path");
    mgrid(
        emulator,
        dir,
        &["deploy", "--stage", stage, "--yes", "--artifact", artifact],
    );
    python(emulator, "dlq.py", &["prepare", stage]);
}
