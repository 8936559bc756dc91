//! The Lambda artifact embedded in this build of mgrid, if the build step made one: the zip a
//! deploy uploads, and what it is (hash, sizes, how it was built, whether it matches the sources).

use mgrid_artifact::{Arch, ArtifactMetadata};

use crate::failure::{Failure, FailureKind};

/// One artifact the build embedded (build.rs writes the list: none, one or both architectures).
struct Embedded {
    zip: &'static [u8],
    metadata: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/artifacts.rs"));

pub struct EmbeddedArtifact {
    pub zip: std::borrow::Cow<'static, [u8]>,
    pub metadata: ArtifactMetadata,
    /// The function sources this mgrid was built beside differ from the artifact's.
    pub stale: bool,
}

impl EmbeddedArtifact {
    /// The instruction set the bootstrap is for; None for one that is not an ELF executable (a
    /// script bootstrap runs on either).
    pub fn arch(&self) -> Option<Arch> {
        self.metadata.arch()
    }
}

/// How to get an artifact into a build.
pub const BUILD_HINT: &str = "build mgrid in release (`cargo install --path . --locked` builds the artifacts too), or pass --artifact";

/// `mgrid --version`: the version, the commit mgrid was built from, and each Lambda artifact it
/// carries (its architecture, CodeSha256 and the commit it was built from), or that it carries none.
pub fn long_version() -> String {
    // Built for every command line (clap asks for it up front): the descriptions only, without
    // hashing megabytes of zip on each start.
    let described: Vec<ArtifactMetadata> = EMBEDDED
        .iter()
        .filter_map(|embedded| serde_json::from_str(embedded.metadata).ok())
        .collect();
    let artifacts = if described.is_empty() {
        "artifact none: this build of mgrid carries no Lambda artifact, so it cannot deploy"
            .to_owned()
    } else {
        described
            .iter()
            .map(|metadata| {
                format!(
                    "artifact {} sha256 {} (built from commit {}{})",
                    metadata.architecture,
                    metadata.sha256,
                    metadata.git_commit.as_deref().unwrap_or("unknown"),
                    if SOURCES_SHA256 != metadata.sources_sha256 {
                        "; other function sources than this mgrid's"
                    } else {
                        ""
                    }
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    format!(
        "{} (commit {})\n{artifacts}",
        env!("CARGO_PKG_VERSION"),
        env!("MGRID_COMMIT")
    )
}

/// Every artifact this build carries, checked: each one's bytes must be the ones its metadata
/// describes.
pub fn embedded_all() -> Result<Vec<EmbeddedArtifact>, Failure> {
    carries_any()?;
    EMBEDDED.iter().map(check).collect()
}

/// Fails when this build carries no artifact at all.
fn carries_any() -> Result<(), Failure> {
    if EMBEDDED.is_empty() {
        return Err(Failure::new(
            FailureKind::NotFound,
            "this build of mgrid carries no Lambda artifact, so it cannot deploy",
        )
        .next(BUILD_HINT));
    }
    Ok(())
}

fn check(embedded: &Embedded) -> Result<EmbeddedArtifact, Failure> {
    let metadata: ArtifactMetadata = serde_json::from_str(embedded.metadata).map_err(|e| {
        Failure::new(
            FailureKind::Failed,
            format!("the embedded artifact's metadata does not parse: {e}"),
        )
        .next(BUILD_HINT)
    })?;
    let (sha256, _) = mgrid_artifact::sha256(embedded.zip);
    if sha256 != metadata.sha256 {
        return Err(Failure::new(
            FailureKind::Failed,
            "the embedded artifact's bytes do not match its metadata (the zip changed after it was described)",
        )
        .next(BUILD_HINT));
    }
    Ok(EmbeddedArtifact {
        zip: std::borrow::Cow::Borrowed(embedded.zip),
        stale: SOURCES_SHA256 != metadata.sources_sha256,
        metadata,
    })
}

/// The embedded artifact for the architecture a stage runs on.
pub fn embedded(arch: Arch) -> Result<EmbeddedArtifact, Failure> {
    carries_any()?;
    // Only the chosen zip is hashed: the other architecture's is not deployed.
    let described: Vec<(&Embedded, Option<ArtifactMetadata>)> = EMBEDDED
        .iter()
        .map(|embedded| (embedded, serde_json::from_str(embedded.metadata).ok()))
        .collect();
    let carried: Vec<String> = described
        .iter()
        .filter_map(|(_, metadata)| metadata.as_ref().map(|m| m.architecture.clone()))
        .collect();
    described
        .iter()
        .find(|(_, metadata)| metadata.as_ref().and_then(ArtifactMetadata::arch) == Some(arch))
        .map(|(embedded, _)| check(embedded))
        .transpose()?
        .ok_or_else(|| {
            Failure::new(
                FailureKind::NotFound,
                format!(
                    "the stage runs on {arch}, and this build of mgrid carries the Lambda artifact for {} only",
                    carried.join(", ")
                ),
            )
            .next(format!(
                "add it to mgrid: `{}` in mgrid's checkout (the {} build is reused); or set \
                 `architecture = \"{}\"` for the stage in mgrid.toml",
                install_with(arch),
                carried.join(", "),
                carried.first().map_or("arm64", String::as_str)
            ))
        })
}

/// The one command that builds mgrid with the artifact for `arch` beside the default one.
fn install_with(arch: Arch) -> String {
    let mut arches = vec![Arch::DEFAULT];
    if arch != Arch::DEFAULT {
        arches.push(arch);
    }
    let names: Vec<&str> = arches.iter().map(|arch| arch.lambda_name()).collect();
    format!(
        "MGRID_ARTIFACT_ARCHS={} cargo install --path . --locked",
        names.join(",")
    )
}

/// An artifact zip from a file (`--artifact`), described by the artifact.json beside it when
/// there is one (and it matches), else by what the zip itself shows.
pub fn from_file(path: &std::path::Path) -> Result<EmbeddedArtifact, Failure> {
    // Lambda takes no code larger than this, zipped or not: nothing larger is read.
    let limit = mgrid_artifact::zip::MAX_UNZIPPED_BYTES as u64;
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file() || m.len() > limit) {
        return Err(Failure::new(
            FailureKind::Usage,
            format!(
                "{} is not a zip Lambda takes: not a regular file, or larger than 250 MB",
                path.display()
            ),
        )
        .next(BUILD_HINT));
    }
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
        .next("pass a mgrid-functions.zip that `cargo run --release -p mgrid-artifact` writes (target/artifact/<arch>/)"));
    }
    let (sha256, sha256_hex) = mgrid_artifact::sha256(&zip);
    let described = path
        .parent()
        .map(|dir| dir.join("artifact.json"))
        .and_then(|json| std::fs::read_to_string(json).ok())
        .and_then(|text| serde_json::from_str::<ArtifactMetadata>(&text).ok())
        .filter(|metadata| metadata.sha256 == sha256);
    let metadata = match described {
        Some(metadata) => metadata,
        None => {
            let bootstrap = mgrid_artifact::zip::read_entry(&zip, "bootstrap").map_err(|e| {
                Failure::new(
                    FailureKind::Usage,
                    format!(
                        "{} cannot run on Lambda's provided.al2023 runtime: {e}",
                        path.display()
                    ),
                )
                .next("the zip must hold the executable `bootstrap` at its top")
            })?;
            ArtifactMetadata {
                sha256,
                sha256_hex,
                zip_bytes: zip.len() as u64,
                bootstrap_bytes: bootstrap.len() as u64,
                glibc_required: "unknown (no artifact.json beside the zip)".into(),
                architecture: bootstrap_arch(&bootstrap),
                target: "unknown".into(),
                profile: "unknown".into(),
                rustc: "unknown".into(),
                toolchain: "unknown".into(),
                git_commit: None,
                sources_sha256: String::new(),
            }
        }
    };
    Ok(EmbeddedArtifact {
        zip: std::borrow::Cow::Owned(zip),
        metadata,
        stale: false,
    })
}

/// The Lambda architecture of a bootstrap: its ELF machine, or "any" for a script.
fn bootstrap_arch(bootstrap: &[u8]) -> String {
    match mgrid_artifact::elf::machine(bootstrap) {
        Ok(machine) => Arch::from_elf_machine(machine)
            .map_or_else(|| format!("ELF machine {machine}"), |arch| arch.to_string()),
        Err(_) => ANY_ARCH.to_owned(),
    }
}

/// The architecture of a bootstrap that is not an executable of one (a script).
pub const ANY_ARCH: &str = "any";

/// Refuses an artifact for another instruction set than the stage's: Lambda would accept it and
/// then fail every invocation with an exec format error.
pub fn check_runs_on(artifact: &EmbeddedArtifact, arch: Arch) -> Result<(), Failure> {
    let have = &artifact.metadata.architecture;
    if artifact.arch() == Some(arch) || have == ANY_ARCH {
        return Ok(());
    }
    Err(Failure::new(
        FailureKind::Usage,
        format!(
            "the artifact's bootstrap is for {have}, and the stage's functions run on {arch}: Lambda would fail every invocation"
        ),
    )
    .next(format!(
        "pass the {arch} zip (target/artifact/{arch}/mgrid-functions.zip), or set the stage's architecture in mgrid.toml"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_artifact_built_by_default_is_for_the_templates_default_architecture() {
        let template =
            crate::decide::template::Template::pipeline().expect("the embedded template parses");
        let default = template
            .parameter("Architecture")
            .and_then(|spec| spec.default);
        assert_eq!(default.as_deref(), Some(Arch::DEFAULT.lambda_name()));
    }

    #[test]
    fn a_missing_architecture_names_the_one_install_that_adds_it() {
        assert_eq!(
            install_with(Arch::X86_64),
            "MGRID_ARTIFACT_ARCHS=arm64,x86_64 cargo install --path . --locked"
        );
        assert_eq!(
            install_with(Arch::Arm64),
            "MGRID_ARTIFACT_ARCHS=arm64 cargo install --path . --locked"
        );
    }
}
