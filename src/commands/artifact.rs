//! `mgrid artifact info`: what Lambda code this build of mgrid would deploy.

use std::fmt;

use anyhow::Result;
use serde::Serialize;

use crate::artifact::embedded;
use crate::cli::ArtifactAction;
use crate::commands::Context;
use crate::output::{WARNING, print_report};

/// The artifact as `artifact info` shows it (camelCase, as every document of mgrid; the
/// artifact.json file beside the zip keeps its own field names).
#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
struct ArtifactInfo {
    #[serde(skip)]
    metadata: mgrid_artifact::ArtifactMetadata,
    sha256: String,
    sha256_hex: String,
    zip_bytes: u64,
    bootstrap_bytes: u64,
    glibc_required: String,
    target: String,
    profile: String,
    rustc: String,
    git_commit: Option<String>,
    sources_sha256: String,
    stale: bool,
}

impl ArtifactInfo {
    fn of(metadata: mgrid_artifact::ArtifactMetadata, stale: bool) -> ArtifactInfo {
        ArtifactInfo {
            sha256: metadata.sha256.clone(),
            sha256_hex: metadata.sha256_hex.clone(),
            zip_bytes: metadata.zip_bytes,
            bootstrap_bytes: metadata.bootstrap_bytes,
            glibc_required: metadata.glibc_required.clone(),
            target: metadata.target.clone(),
            profile: metadata.profile.clone(),
            rustc: metadata.rustc.clone(),
            git_commit: metadata.git_commit.clone(),
            sources_sha256: metadata.sources_sha256.clone(),
            metadata,
            stale,
        }
    }
}

pub fn run(context: &Context, action: &ArtifactAction) -> Result<()> {
    match action {
        ArtifactAction::Info => {
            let artifact = embedded()?;
            let info = ArtifactInfo::of(artifact.metadata, artifact.stale);
            print_report(&info, context.global.output)?;
            Ok(())
        }
    }
}

impl fmt::Display for ArtifactInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = &self.metadata;
        writeln!(f, "sha256      {} (CodeSha256)", m.sha256)?;
        writeln!(f, "asset key   {}", m.sha256_hex)?;
        writeln!(
            f,
            "zip         {:.1} MB ({} bytes)",
            m.zip_bytes as f64 / 1e6,
            m.zip_bytes
        )?;
        writeln!(
            f,
            "bootstrap   {:.1} MB ({} bytes)",
            m.bootstrap_bytes as f64 / 1e6,
            m.bootstrap_bytes
        )?;
        writeln!(
            f,
            "runs on     {} (needs {}; Amazon Linux 2023 has GLIBC_2.34)",
            m.target, m.glibc_required
        )?;
        writeln!(f, "built with  {}, profile {}", m.rustc, m.profile)?;
        writeln!(
            f,
            "commit      {}",
            m.git_commit.as_deref().unwrap_or("unknown")
        )?;
        if self.stale {
            writeln!(
                f,
                "{WARNING}warning:{WARNING:#} the function sources beside this build differ from the artifact's; \
                 rebuild it with `cargo run --release -p mgrid-artifact`"
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod snapshots {
    use super::*;
    use crate::output::plain;

    #[test]
    fn info() {
        let info = ArtifactInfo::of(
            mgrid_artifact::ArtifactMetadata {
                sha256: "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=".into(),
                sha256_hex: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
                    .into(),
                zip_bytes: 3_214_000,
                bootstrap_bytes: 8_120_000,
                glibc_required: "GLIBC_2.28".into(),
                target: "x86_64-unknown-linux-gnu".into(),
                profile: "lambda".into(),
                rustc: "rustc 1.95.0".into(),
                git_commit: Some("c24f514".into()),
                sources_sha256: "ab12".into(),
            },
            true,
        );
        insta::assert_snapshot!("artifact_info", plain(&info));
        crate::output::assert_json_contract("artifact-info", &info);
    }
}
