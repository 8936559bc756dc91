//! The Lambda artifact: one `bootstrap` for the provided.al2023 runtime, zipped so that the same
//! binary always gives the same bytes (an unchanged artifact never changes the stack), and
//! checked to need no glibc newer than Amazon Linux 2023's 2.34.

pub mod builder;
pub mod elf;
pub mod zip;

use serde::{Deserialize, Serialize};

/// The newest glibc symbol version Amazon Linux 2023 provides.
pub const GLIBC_FLOOR: (u32, u32) = (2, 34);

/// A Lambda instruction set the bootstrap is built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Arch {
    /// Graviton: about 20% cheaper per GB-second than x86_64 for the same memory.
    Arm64,
    X86_64,
}

impl Arch {
    pub const ALL: [Arch; 2] = [Arch::Arm64, Arch::X86_64];

    /// A stage's instruction set when mgrid.toml names none (the template's `Architecture`
    /// default): the one artifact a release build of mgrid carries unless asked for more.
    pub const DEFAULT: Arch = Arch::Arm64;

    /// The name Lambda's `Architectures` takes, and mgrid.toml's `architecture`.
    pub fn lambda_name(self) -> &'static str {
        match self {
            Arch::Arm64 => "arm64",
            Arch::X86_64 => "x86_64",
        }
    }

    pub fn rust_target(self) -> &'static str {
        match self {
            Arch::Arm64 => "aarch64-unknown-linux-gnu",
            Arch::X86_64 => "x86_64-unknown-linux-gnu",
        }
    }

    /// The ELF `e_machine` of an executable for this architecture.
    pub fn elf_machine(self) -> u16 {
        match self {
            Arch::Arm64 => elf::EM_AARCH64,
            Arch::X86_64 => elf::EM_X86_64,
        }
    }

    pub fn from_lambda_name(name: &str) -> Option<Arch> {
        Arch::ALL
            .into_iter()
            .find(|arch| arch.lambda_name() == name)
    }

    pub fn from_elf_machine(machine: u16) -> Option<Arch> {
        Arch::ALL
            .into_iter()
            .find(|arch| arch.elf_machine() == machine)
    }
}

impl std::fmt::Display for Arch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.lambda_name())
    }
}

/// What `mgrid artifact info` shows, written next to the zip by the build step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactMetadata {
    /// Base64 SHA-256 of the zip: what Lambda reports as CodeSha256.
    pub sha256: String,
    /// Hex SHA-256 of the zip: the asset key's name.
    pub sha256_hex: String,
    pub zip_bytes: u64,
    pub bootstrap_bytes: u64,
    /// The newest GLIBC_x.y the bootstrap requires.
    pub glibc_required: String,
    /// Lambda's name for the instruction set (`arm64`, `x86_64`); artifacts described before
    /// there were two were x86_64.
    #[serde(default = "x86_64")]
    pub architecture: String,
    /// The Rust target, with the glibc it was linked against when built with Zig
    /// (`aarch64-unknown-linux-gnu.2.34`).
    pub target: String,
    pub profile: String,
    pub rustc: String,
    /// What compiled and linked it (`cargo-zigbuild 0.24.1, zig 0.17.1`, or the host's cargo).
    #[serde(default = "unknown")]
    pub toolchain: String,
    /// The commit the sources were at (with "-dirty" when they had changes), when known.
    pub git_commit: Option<String>,
    /// Hash of the function crates' sources and the lock file, to tell a stale artifact.
    pub sources_sha256: String,
}

fn x86_64() -> String {
    Arch::X86_64.lambda_name().to_owned()
}

fn unknown() -> String {
    "unknown".to_owned()
}

impl ArtifactMetadata {
    pub fn arch(&self) -> Option<Arch> {
        Arch::from_lambda_name(&self.architecture)
    }
}

/// SHA-256 of `bytes`: (base64, hex).
pub fn sha256(bytes: &[u8]) -> (String, String) {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(bytes);
    let hex = digest.iter().map(|b| format!("{b:02x}")).collect();
    (
        base64::engine::general_purpose::STANDARD.encode(digest),
        hex,
    )
}

/// A hash over the files the artifact is built from, in a fixed order, so that the CLI's build
/// can tell whether its embedded artifact still matches the sources beside it.
pub fn sources_sha256(workspace: &std::path::Path) -> std::io::Result<String> {
    use sha2::{Digest, Sha256};
    let mut files = Vec::new();
    for dir in [
        "functions/contract",
        "functions/pipeline",
        "functions/lambda",
    ] {
        collect_sources(&workspace.join(dir), &mut files)?;
    }
    files.push(workspace.join("Cargo.lock"));
    files.sort();
    let mut hasher = Sha256::new();
    for file in files {
        let relative = file.strip_prefix(workspace).unwrap_or(&file);
        hasher.update(relative.to_string_lossy().as_bytes());
        hasher.update([0]);
        hasher.update(std::fs::read(&file)?);
        hasher.update([0]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

fn collect_sources(
    dir: &std::path::Path,
    files: &mut Vec<std::path::PathBuf>,
) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_dir() {
            if matches!(name, "src") || path.parent().is_some_and(|p| p.ends_with("src")) {
                collect_sources(&path, files)?;
            }
        } else if name == "Cargo.toml"
            || (path.extension().is_some_and(|e| e == "rs")
                && path.components().any(|c| c.as_os_str() == "src"))
        {
            files.push(path);
        }
    }
    Ok(())
}
