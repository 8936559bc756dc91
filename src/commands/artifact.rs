//! `mgrid artifact info`: what Lambda code this build of mgrid would deploy.

use std::fmt;

use anyhow::Result;
use serde::Serialize;

use crate::artifact::embedded_all;
use crate::cli::ArtifactAction;
use crate::commands::context::Context;
use crate::text::WARNING;
use crate::ui::output::print_report;

/// Every artifact this mgrid carries, and what carrying them costs in binary size.
#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
struct ArtifactReport {
    artifacts: Vec<ArtifactInfo>,
    /// The size of this mgrid executable, when it can be read.
    binary_bytes: Option<u64>,
}

/// One artifact as `artifact info` shows it (camelCase, as every document of mgrid; the
/// artifact.json file beside the zip keeps its own field names).
#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
struct ArtifactInfo {
    architecture: String,
    sha256: String,
    sha256_hex: String,
    zip_bytes: u64,
    bootstrap_bytes: u64,
    glibc_required: String,
    target: String,
    profile: String,
    rustc: String,
    toolchain: String,
    git_commit: Option<String>,
    sources_sha256: String,
    stale: bool,
}

impl ArtifactInfo {
    fn of(metadata: mgrid_artifact::ArtifactMetadata, stale: bool) -> ArtifactInfo {
        ArtifactInfo {
            architecture: metadata.architecture,
            sha256: metadata.sha256,
            sha256_hex: metadata.sha256_hex,
            zip_bytes: metadata.zip_bytes,
            bootstrap_bytes: metadata.bootstrap_bytes,
            glibc_required: metadata.glibc_required,
            target: metadata.target,
            profile: metadata.profile,
            rustc: metadata.rustc,
            toolchain: metadata.toolchain,
            git_commit: metadata.git_commit,
            sources_sha256: metadata.sources_sha256,
            stale,
        }
    }
}

pub fn run(context: &Context, action: &ArtifactAction) -> Result<()> {
    match action {
        ArtifactAction::Info => {
            let artifacts = embedded_all()?
                .into_iter()
                .map(|artifact| ArtifactInfo::of(artifact.metadata, artifact.stale))
                .collect();
            let binary_bytes = std::env::current_exe()
                .and_then(std::fs::metadata)
                .ok()
                .map(|m| m.len());
            let report = ArtifactReport {
                artifacts,
                binary_bytes,
            };
            print_report(&report, context.global.output)?;
            Ok(())
        }
    }
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB ({bytes} bytes)", bytes as f64 / 1e6)
}

impl fmt::Display for ArtifactReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, artifact) in self.artifacts.iter().enumerate() {
            if index > 0 {
                writeln!(f)?;
            }
            write!(f, "{artifact}")?;
        }
        if let Some(bytes) = self.binary_bytes {
            let carried: u64 = self.artifacts.iter().map(|a| a.zip_bytes).sum();
            writeln!(
                f,
                "\nmgrid       {}, of which the artifacts {:.1} MB",
                megabytes(bytes),
                carried as f64 / 1e6
            )?;
        }
        Ok(())
    }
}

impl fmt::Display for ArtifactInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.architecture)?;
        writeln!(f, "  sha256      {} (CodeSha256)", self.sha256)?;
        writeln!(f, "  asset key   {}", self.sha256_hex)?;
        writeln!(f, "  zip         {}", megabytes(self.zip_bytes))?;
        writeln!(f, "  bootstrap   {}", megabytes(self.bootstrap_bytes))?;
        writeln!(
            f,
            "  runs on     {} (needs {}; Amazon Linux 2023 has GLIBC_2.34)",
            self.target, self.glibc_required
        )?;
        writeln!(
            f,
            "  built with  {}, {}, profile {}",
            self.rustc, self.toolchain, self.profile
        )?;
        writeln!(
            f,
            "  commit      {}",
            self.git_commit.as_deref().unwrap_or("unknown")
        )?;
        if self.stale {
            writeln!(
                f,
                "  {WARNING}warning:{WARNING:#} the function sources beside this build differ from the artifact's; \
                 rebuild mgrid in release (or `cargo run --release -p mgrid-artifact`)"
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod snapshots {
    use super::*;
    use crate::text::plain;

    #[test]
    fn info() {
        let metadata = |architecture: &str, target: &str| mgrid_artifact::ArtifactMetadata {
            sha256: "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=".into(),
            sha256_hex: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
            zip_bytes: 3_214_000,
            bootstrap_bytes: 8_120_000,
            glibc_required: "GLIBC_2.34".into(),
            architecture: architecture.into(),
            target: target.into(),
            profile: "lambda".into(),
            rustc: "rustc 1.95.0".into(),
            toolchain: "cargo-zigbuild 0.24.1, zig 0.17.1".into(),
            git_commit: Some("c24f514".into()),
            sources_sha256: "ab12".into(),
        };
        let report = ArtifactReport {
            artifacts: vec![
                ArtifactInfo::of(metadata("arm64", "aarch64-unknown-linux-gnu.2.34"), false),
                ArtifactInfo::of(metadata("x86_64", "x86_64-unknown-linux-gnu.2.34"), true),
            ],
            binary_bytes: Some(41_500_000),
        };
        insta::assert_snapshot!("artifact_info", plain(&report));
        crate::ui::output::assert_json_contract("artifact-info", &report);
    }
}
