//! Embeds the Lambda artifact when the build step has made one (`cargo run --release -p
//! mgrid-artifact` writes target/artifact/). Without it mgrid builds (and tests) as usual, and
//! says plainly that it cannot deploy. The artifact is not built from here: a nested cargo in a
//! build script would add minutes to every check and clippy run.

use std::path::{Path, PathBuf};

fn main() {
    println!("cargo::rustc-check-cfg=cfg(mgrid_artifact)");
    println!("cargo::rerun-if-env-changed=MGRID_ARTIFACT_DIR");
    let workspace =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    commit(&workspace);
    let dir = std::env::var_os("MGRID_ARTIFACT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target/artifact"));
    // Watching the directory (made here if need be) notices an artifact appearing.
    let _ = std::fs::create_dir_all(&dir);
    println!("cargo::rerun-if-changed={}", dir.display());
    let zip = dir.join("mgrid-functions.zip");
    let metadata = dir.join("artifact.json");
    if !(zip.is_file() && metadata.is_file()) {
        return;
    }
    println!("cargo::rerun-if-changed={}", zip.display());
    println!("cargo::rerun-if-changed={}", metadata.display());
    for sources in [
        "functions/contract/src",
        "functions/pipeline/src",
        "functions/lambda/src",
        "Cargo.lock",
    ] {
        println!(
            "cargo::rerun-if-changed={}",
            workspace.join(sources).display()
        );
    }
    println!("cargo::rustc-cfg=mgrid_artifact");
    println!("cargo::rustc-env=MGRID_ARTIFACT_ZIP={}", zip.display());
    println!(
        "cargo::rustc-env=MGRID_ARTIFACT_JSON={}",
        metadata.display()
    );
    let current = mgrid_artifact::sources_sha256(&workspace).unwrap_or_default();
    println!("cargo::rustc-env=MGRID_SOURCES_SHA256={current}");
    let built_from = std::fs::read_to_string(&metadata)
        .ok()
        .and_then(|text| serde_json::from_str::<mgrid_artifact::ArtifactMetadata>(&text).ok())
        .map(|m| m.sources_sha256)
        .unwrap_or_default();
    if built_from != current {
        println!(
            "cargo::warning=the embedded Lambda artifact was built from other sources than these; \
             rebuild it with `cargo run --release -p mgrid-artifact`"
        );
    }
}

/// The commit mgrid is built from, for `mgrid --version` ("unknown" outside a git checkout).
/// Only files that exist are watched: a missing one would rerun this script on every build.
fn commit(workspace: &Path) {
    let git = workspace.join(".git");
    let head = git.join("HEAD");
    let mut watched = vec![head.clone(), git.join("packed-refs")];
    if let Some(branch) = std::fs::read_to_string(&head)
        .ok()
        .and_then(|text| text.strip_prefix("ref: ").map(|r| r.trim().to_owned()))
    {
        watched.push(git.join(branch));
    }
    for file in watched.iter().filter(|f| f.is_file()) {
        println!("cargo::rerun-if-changed={}", file.display());
    }
    let commit = std::process::Command::new("git")
        .arg("-C")
        .arg(workspace)
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .map(|text| text.trim().to_owned())
        .filter(|text| !text.is_empty())
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo::rustc-env=MGRID_COMMIT={commit}");
}
