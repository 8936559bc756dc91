//! The Lambda artifact embedded in this build of mgrid, if the build step made one: the zip a
//! deploy uploads, and what it is (hash, sizes, how it was built, whether it matches the sources).

use mgrid_artifact::ArtifactMetadata;

use crate::failure::{Failure, FailureKind};

#[cfg(mgrid_artifact)]
const EMBEDDED: Option<(&[u8], &str, &str)> = Some((
    include_bytes!(env!("MGRID_ARTIFACT_ZIP")),
    include_str!(env!("MGRID_ARTIFACT_JSON")),
    env!("MGRID_SOURCES_SHA256"),
));
#[cfg(not(mgrid_artifact))]
const EMBEDDED: Option<(&[u8], &str, &str)> = None;

pub struct EmbeddedArtifact {
    pub zip: &'static [u8],
    pub metadata: ArtifactMetadata,
    /// The function sources this mgrid was built beside differ from the artifact's.
    pub stale: bool,
}

/// How to get an artifact into a build.
pub const BUILD_HINT: &str = "build the artifact with `cargo run --release -p mgrid-artifact`, then rebuild mgrid (`cargo install --path . --locked`)";

/// The embedded artifact, checked: its bytes must be the ones its metadata describes.
pub fn embedded() -> Result<EmbeddedArtifact, Failure> {
    let Some((zip, metadata, sources)) = EMBEDDED else {
        return Err(Failure::new(
            FailureKind::NotFound,
            "this build of mgrid carries no Lambda artifact, so it cannot deploy",
        )
        .next(BUILD_HINT));
    };
    let metadata: ArtifactMetadata = serde_json::from_str(metadata).map_err(|e| {
        Failure::new(
            FailureKind::Failed,
            format!("the embedded artifact's metadata does not parse: {e}"),
        )
        .next(BUILD_HINT)
    })?;
    let (sha256, _) = mgrid_artifact::sha256(zip);
    if sha256 != metadata.sha256 {
        return Err(Failure::new(
            FailureKind::Failed,
            "the embedded artifact's bytes do not match its metadata (the zip changed after it was described)",
        )
        .next(BUILD_HINT));
    }
    Ok(EmbeddedArtifact {
        zip,
        stale: sources != metadata.sources_sha256,
        metadata,
    })
}
