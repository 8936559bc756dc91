//! `cargo run --release -p mgrid-artifact`: builds the Lambda bootstrap (profile `lambda`),
//! refuses it if it needs a glibc newer than Amazon Linux 2023's, zips it deterministically
//! into target/artifact/mgrid-functions.zip with artifact.json beside it. Building `mgrid`
//! afterwards embeds both.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use mgrid_artifact::{ArtifactMetadata, GLIBC_FLOOR, elf, sha256, sources_sha256, zip};

const TARGET: &str = "x86_64-unknown-linux-gnu";

fn main() -> ExitCode {
    match build() {
        Ok(metadata) => {
            eprintln!(
                "artifact: target/artifact/mgrid-functions.zip, {} bytes zipped ({} bootstrap), sha256 {}, needs {}",
                metadata.zip_bytes,
                metadata.bootstrap_bytes,
                metadata.sha256,
                metadata.glibc_required
            );
            eprintln!(
                "next: build mgrid (cargo build --release, or cargo install --path . --locked) to embed it"
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| PathBuf::from("."))
}

fn build() -> Result<ArtifactMetadata, String> {
    if !(cfg!(target_arch = "x86_64") && cfg!(target_os = "linux") && cfg!(target_env = "gnu")) {
        return Err(format!(
            "the artifact is built natively for {TARGET}; run this on x86_64 Linux (glibc)"
        ));
    }
    let workspace = workspace();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("artifact: building the bootstrap (cargo build --profile lambda -p mgrid-lambda)…");
    let status = Command::new(&cargo)
        .current_dir(&workspace)
        .args([
            "build",
            "--locked",
            "--profile",
            "lambda",
            "-p",
            "mgrid-lambda",
            "--bin",
            "bootstrap",
        ])
        .status()
        .map_err(|e| format!("cannot run {cargo}: {e}"))?;
    if !status.success() {
        return Err("the bootstrap did not build (see cargo's output above)".into());
    }
    let bootstrap_path = workspace.join("target/lambda/bootstrap");
    let bootstrap = std::fs::read(&bootstrap_path)
        .map_err(|e| format!("cannot read {}: {e}", bootstrap_path.display()))?;

    let needs = elf::version_needs(&bootstrap).map_err(|e| e.to_string())?;
    let newest = elf::newest_glibc(&needs)
        .ok_or("the bootstrap names no glibc version; is it a glibc build?")?;
    if newest > GLIBC_FLOOR {
        let offending: Vec<String> = needs
            .iter()
            .filter(|(_, v)| {
                elf::newest_glibc(&[(String::new(), v.clone())]).is_some_and(|g| g > GLIBC_FLOOR)
            })
            .map(|(file, version)| format!("{file} {version}"))
            .collect();
        return Err(format!(
            "the bootstrap needs GLIBC_{}.{}, newer than Amazon Linux 2023's GLIBC_{}.{} ({}); \
             a dependency raised it: build with cargo zigbuild --target {TARGET}.2.34, or drop the dependency",
            newest.0,
            newest.1,
            GLIBC_FLOOR.0,
            GLIBC_FLOOR.1,
            offending.join(", ")
        ));
    }

    let zipped = zip::zip_executable("bootstrap", &bootstrap).map_err(|e| e.to_string())?;
    let (sha256, sha256_hex) = sha256(&zipped);
    let metadata = ArtifactMetadata {
        sha256,
        sha256_hex,
        zip_bytes: zipped.len() as u64,
        bootstrap_bytes: bootstrap.len() as u64,
        glibc_required: format!("GLIBC_{}.{}", newest.0, newest.1),
        target: TARGET.into(),
        profile: "lambda (release, thin LTO, stripped)".into(),
        rustc: command_output("rustc", &["--version"]).unwrap_or_else(|| "unknown".into()),
        git_commit: git_commit(&workspace),
        sources_sha256: sources_sha256(&workspace)
            .map_err(|e| format!("cannot hash the function sources: {e}"))?,
    };
    let out = workspace.join("target/artifact");
    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    std::fs::write(out.join("mgrid-functions.zip"), &zipped)
        .map_err(|e| format!("cannot write the zip: {e}"))?;
    let json = serde_json::to_string_pretty(&metadata).map_err(|e| e.to_string())?;
    std::fs::write(out.join("artifact.json"), json + "\n")
        .map_err(|e| format!("cannot write artifact.json: {e}"))?;
    Ok(metadata)
}

fn command_output(program: &str, args: &[&str]) -> Option<String> {
    let output = Command::new(program).args(args).output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

fn git_commit(workspace: &Path) -> Option<String> {
    let dir = workspace.to_str()?;
    let commit = command_output("git", &["-C", dir, "rev-parse", "--short=12", "HEAD"])?;
    let dirty = command_output(
        "git",
        &[
            "-C",
            dir,
            "status",
            "--porcelain",
            "--",
            "functions",
            "Cargo.lock",
        ],
    )
    .is_some_and(|status| !status.is_empty());
    Some(if dirty {
        format!("{commit}-dirty")
    } else {
        commit
    })
}
