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
    pub zip: std::borrow::Cow<'static, [u8]>,
    pub metadata: ArtifactMetadata,
    /// The function sources this mgrid was built beside differ from the artifact's.
    pub stale: bool,
}

/// How to get an artifact into a build.
pub const BUILD_HINT: &str = "build the artifact with `cargo run --release -p mgrid-artifact`, then rebuild mgrid (`cargo install --path . --locked`)";

/// The embedded artifact, checked: its bytes must be the ones its metadata describes.
/// `mgrid --version`: the version, the commit mgrid was built from, and the Lambda artifact it
/// carries (its CodeSha256 and the commit the artifact was built from), or that it carries none.
pub fn long_version() -> String {
    let artifact = match embedded() {
        Ok(artifact) => format!(
            "artifact sha256 {} (built from commit {}{})",
            artifact.metadata.sha256,
            artifact.metadata.git_commit.as_deref().unwrap_or("unknown"),
            if artifact.stale {
                "; other function sources than this mgrid's"
            } else {
                ""
            }
        ),
        Err(failure) => format!("artifact none: {}", failure.what),
    };
    format!(
        "{} (commit {})\n{artifact}",
        env!("CARGO_PKG_VERSION"),
        env!("MGRID_COMMIT")
    )
}

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
        zip: std::borrow::Cow::Borrowed(zip),
        stale: sources != metadata.sources_sha256,
        metadata,
    })
}

/// An artifact zip from a file (`--artifact`), described by the artifact.json beside it when
/// there is one (and it matches), else by what the zip itself shows.
pub fn from_file(path: &std::path::Path) -> Result<EmbeddedArtifact, Failure> {
    let zip = std::fs::read(path).map_err(|e| {
        Failure::new(
            FailureKind::NotFound,
            format!("cannot read the artifact {}: {e}", path.display()),
        )
        .next(BUILD_HINT)
    })?;
    if !zip.starts_with(b"PK\x03\x04") {
        return Err(Failure::new(
            FailureKind::Usage,
            format!("{} is not a zip file", path.display()),
        )
        .next("pass the mgrid-functions.zip that `cargo run --release -p mgrid-artifact` writes"));
    }
    let (sha256, sha256_hex) = mgrid_artifact::sha256(&zip);
    let described = path
        .parent()
        .map(|dir| dir.join("artifact.json"))
        .and_then(|json| std::fs::read_to_string(json).ok())
        .and_then(|text| serde_json::from_str::<ArtifactMetadata>(&text).ok())
        .filter(|metadata| metadata.sha256 == sha256);
    let metadata = described.unwrap_or_else(|| ArtifactMetadata {
        sha256,
        sha256_hex,
        zip_bytes: zip.len() as u64,
        bootstrap_bytes: 0,
        glibc_required: "unknown (no artifact.json beside the zip)".into(),
        target: "unknown".into(),
        profile: "unknown".into(),
        rustc: "unknown".into(),
        git_commit: None,
        sources_sha256: String::new(),
    });
    Ok(EmbeddedArtifact {
        zip: std::borrow::Cow::Owned(zip),
        metadata,
        stale: false,
    })
}
