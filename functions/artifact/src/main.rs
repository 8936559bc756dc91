//! `cargo run --release -p mgrid-artifact [-- --arch arm64|x86_64] [--native]`: builds the Lambda
//! bootstrap for both architectures (or one) with the pinned Zig tools, refuses one that needs a
//! glibc newer than Amazon Linux 2023's, and writes each zip deterministically into
//! target/artifact/<arch>/ with artifact.json beside it. A release build of `mgrid` does the same
//! by itself; this is for CI and releases, and to see the build's own output.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use mgrid_artifact::Arch;
use mgrid_artifact::builder::{self, Layout, Output, Toolchain};

const USAGE: &str =
    "usage: cargo run --release -p mgrid-artifact [-- [--arch arm64|x86_64] [--native]]

Builds the Lambda bootstrap (profile `lambda`) for arm64 and x86_64 with cargo-zigbuild, linked
against glibc 2.34, and writes target/artifact/<arch>/mgrid-functions.zip and artifact.json.
The pinned Zig tools (functions/artifact/zig-tools.lock) are installed into target/zig-tools the
first time; MGRID_CARGO_ZIGBUILD names another cargo-zigbuild.

  --arch A    build only arm64 or only x86_64
  --native    build with the host's cargo and linker (this machine's architecture only; refused
              if the result needs a glibc newer than 2.34)";

fn main() -> ExitCode {
    let mut arches = Arch::ALL.to_vec();
    let mut native = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--arch" => match args.next().as_deref().and_then(Arch::from_lambda_name) {
                Some(arch) => arches = vec![arch],
                None => return usage("--arch takes arm64 or x86_64"),
            },
            "--native" => native = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => return usage(&format!("unknown argument {other}")),
        }
    }
    if native {
        match builder::host_arch() {
            Some(host) if arches.contains(&host) => arches = vec![host],
            _ => {
                return usage(
                    "--native builds only this machine's architecture (x86_64 or arm64 Linux)",
                );
            }
        }
    }
    let layout = Layout::new(&workspace());
    let toolchain = if native {
        Ok(Toolchain::Native)
    } else {
        eprintln!(
            "artifact: the pinned Zig tools ({})…",
            builder::ZIG_TOOLS_LOCK
        );
        Toolchain::zig(&layout)
    };
    let toolchain = match toolchain {
        Ok(toolchain) => toolchain,
        Err(error) => return fail(&error),
    };
    for arch in arches {
        eprintln!(
            "artifact: building the {arch} bootstrap with {}…",
            toolchain.describe()
        );
        let built = match builder::build(&layout, &toolchain, arch, &Output::Inherit) {
            Ok(built) => built,
            Err(error) => return fail(&error),
        };
        let dir = match built.write(&layout) {
            Ok(dir) => dir,
            Err(error) => return fail(&error),
        };
        let m = &built.metadata;
        eprintln!(
            "artifact: {}, {} bytes zipped ({} bootstrap), sha256 {}, needs {}",
            dir.join(builder::ZIP_FILE).display(),
            m.zip_bytes,
            m.bootstrap_bytes,
            m.sha256,
            m.glibc_required
        );
    }
    eprintln!(
        "next: build mgrid (cargo build --release, or cargo install --path . --locked) to embed them"
    );
    ExitCode::SUCCESS
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("error: {problem}\n\n{USAGE}");
    ExitCode::from(2)
}

fn fail(error: &builder::BuildError) -> ExitCode {
    eprintln!("error: {error}");
    ExitCode::FAILURE
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| PathBuf::from("."))
}
