//! Embeds the Lambda artifacts, one zip per architecture, into mgrid:
//! - `MGRID_ARTIFACT_DIR=<dir>`: the prebuilt ones in `<dir>/<arch>/` (or `<dir>` itself), as CI
//!   and releases pass them;
//! - a release build (`cargo install --path .`, `cargo build --release`): builds them first
//!   (`mgrid_artifact::builder`, with the pinned Zig tools, in target/artifact-build, apart from
//!   the target directory this build holds locked), unless `MGRID_ARTIFACT_BUILD=0`: the default
//!   architecture (arm64), any other the checkout's mgrid.toml asks for, or exactly those
//!   `MGRID_ARTIFACT_ARCHS` lists;
//! - any other build (check, clippy, tests): whatever target/artifact/ holds, never building, so
//!   those stay fast. Without one mgrid builds and works, and says plainly that it cannot deploy.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use mgrid_artifact::Arch;
use mgrid_artifact::builder::{self, Layout, Output, Toolchain};

fn main() {
    println!("cargo::rerun-if-env-changed=MGRID_ARTIFACT_DIR");
    println!("cargo::rerun-if-env-changed=MGRID_ARTIFACT_BUILD");
    println!("cargo::rerun-if-env-changed=MGRID_ARTIFACT_ARCHS");
    println!("cargo::rerun-if-env-changed={}", builder::ZIGBUILD_ENV);
    let workspace =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    commit(&workspace);
    let layout = Layout::new(&workspace);
    let (dir, built_here) = match std::env::var_os("MGRID_ARTIFACT_DIR") {
        Some(dir) => (PathBuf::from(dir), false),
        None if builds_artifacts() => {
            if let Err(error) = build_artifacts(&layout) {
                eprintln!("error: the Lambda artifact did not build: {error}");
                eprintln!(
                    "  or:   MGRID_ARTIFACT_BUILD=0 builds mgrid without it (it cannot deploy), \
                     MGRID_ARTIFACT_DIR=<dir> embeds one built elsewhere"
                );
                std::process::exit(1);
            }
            (layout.out.clone(), true)
        }
        None => (layout.out.clone(), false),
    };
    let current = mgrid_artifact::sources_sha256(&workspace).unwrap_or_default();
    // What this run wrote is newer than the run itself: watching it would rerun every build.
    let found = embed(&dir, &current, !built_here);
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("artifacts.rs"), found).expect("OUT_DIR is writable");
}

/// Release builds build the artifacts unless told not to; only they, so that `cargo check` and
/// the tests never wait on a cross-build.
fn builds_artifacts() -> bool {
    std::env::var("PROFILE").is_ok_and(|profile| profile == "release")
        && std::env::var("MGRID_ARTIFACT_BUILD").map_or(true, |value| value != "0")
}

/// The architectures to build (`builder::wanted_arches`): those `MGRID_ARTIFACT_ARCHS` lists;
/// else the default one, and any other a stage of the checkout's `mgrid.toml` runs on.
fn wanted_arches(workspace: &Path) -> Result<Vec<Arch>, String> {
    if let Ok(listed) = std::env::var("MGRID_ARTIFACT_ARCHS") {
        return builder::wanted_arches(Some(&listed), None);
    }
    let path = workspace.join("mgrid.toml");
    // Watched only when it exists: a missing file would rerun this script, and relink mgrid, on
    // every build (one added later is read after `touch build.rs`, or named by the variable).
    if path.is_file() {
        println!("cargo::rerun-if-changed={}", path.display());
    }
    let config = std::fs::read_to_string(&path).ok();
    builder::wanted_arches(None, config.as_deref())
        .map_err(|problem| format!("{problem} ({})", path.display()))
}

fn build_artifacts(layout: &Layout) -> Result<(), String> {
    // Rebuilt when the sources of the functions change; never because of what this writes.
    for watched in [
        "functions/contract/src",
        "functions/contract/Cargo.toml",
        "functions/pipeline/src",
        "functions/pipeline/Cargo.toml",
        "functions/lambda/src",
        "functions/lambda/Cargo.toml",
        "Cargo.lock",
        "Cargo.toml",
        builder::ZIG_TOOLS_LOCK,
    ] {
        println!(
            "cargo::rerun-if-changed={}",
            layout.workspace.join(watched).display()
        );
    }
    let arches = wanted_arches(&layout.workspace)?;
    let log = layout.cargo_target.join("build.log");
    let _ = std::fs::remove_file(&log);
    let started = std::time::Instant::now();
    let toolchain = Toolchain::zig(layout).map_err(|e| e.to_string())?;
    for &arch in &arches {
        builder::build(layout, &toolchain, arch, &Output::Log(log.clone()))
            .and_then(|built| built.write(layout))
            .map_err(|e| e.to_string())?;
    }
    let names: Vec<&str> = arches.iter().map(|arch| arch.lambda_name()).collect();
    println!(
        "cargo::warning=built the Lambda artifact for {} with {} in {} s (log: {})",
        names.join(" and "),
        toolchain.describe(),
        started.elapsed().as_secs(),
        log.display()
    );
    Ok(())
}

/// The Rust source that embeds every artifact found in `dir` (`<dir>/<arch>/`, or one in `dir`
/// itself), and the hash of the function sources beside this build, to tell a stale one.
fn embed(dir: &Path, current_sources: &str, watch: bool) -> String {
    let mut source = String::from("const EMBEDDED: &[Embedded] = &[\n");
    // The architectures' directories first: an artifact directly in `dir` (one a
    // MGRID_ARTIFACT_DIR names, or one left there by an older mgrid) only adds an architecture
    // they lack, and never shadows a newer build of the same one.
    let mut candidates: Vec<PathBuf> = Arch::ALL
        .iter()
        .map(|arch| dir.join(arch.lambda_name()))
        .collect();
    candidates.push(dir.to_path_buf());
    let mut embedded: Vec<String> = Vec::new();
    let _ = std::fs::create_dir_all(dir);
    let watched = |path: &Path| {
        if watch {
            println!("cargo::rerun-if-changed={}", path.display());
        }
    };
    // Watching the directory notices an artifact appearing.
    watched(dir);
    for candidate in candidates {
        let zip = candidate.join(builder::ZIP_FILE);
        let metadata = candidate.join(builder::METADATA_FILE);
        if candidate.is_dir() {
            watched(&candidate);
        }
        if !(zip.is_file() && metadata.is_file()) {
            continue;
        }
        for path in [&zip, &metadata] {
            watched(path);
        }
        let built_from = std::fs::read_to_string(&metadata)
            .ok()
            .and_then(|text| serde_json::from_str::<mgrid_artifact::ArtifactMetadata>(&text).ok());
        let architecture = built_from.as_ref().map_or_else(
            || candidate.display().to_string(),
            |m| m.architecture.clone(),
        );
        if embedded.contains(&architecture) {
            continue;
        }
        embedded.push(architecture);
        let _ = writeln!(
            source,
            "    Embedded {{ zip: include_bytes!({:?}), metadata: include_str!({:?}) }},",
            zip.display().to_string(),
            metadata.display().to_string()
        );
        if let Some(built_from) = built_from
            && built_from.sources_sha256 != current_sources
        {
            println!(
                "cargo::warning=the embedded {} Lambda artifact was built from other sources than these; \
                 rebuild it (cargo build --release, or cargo run --release -p mgrid-artifact)",
                built_from.architecture
            );
        }
    }
    let _ = writeln!(
        source,
        "];\nconst SOURCES_SHA256: &str = {current_sources:?};"
    );
    source
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
