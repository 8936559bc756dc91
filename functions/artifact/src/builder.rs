//! Builds the bootstrap for one Lambda architecture and makes the deployable zip and its
//! description from it. With Zig (cargo-zigbuild, pinned in zig-tools.lock and installed on first
//! use) the bootstrap is linked against glibc 2.34, Amazon Linux 2023's, whatever glibc the host
//! has, and for arm64 as well as x86_64. `cargo run -p mgrid-artifact` and mgrid's build script
//! both come here, so the artifact a `cargo install` embeds is the one CI and releases build.

use std::ffi::OsString;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::{Arch, ArtifactMetadata, GLIBC_FLOOR, elf, sha256, sources_sha256, zip};

/// The pinned Zig tools, relative to the workspace.
pub const ZIG_TOOLS_LOCK: &str = "functions/artifact/zig-tools.lock";
/// Names a cargo-zigbuild to use instead of the pinned one (Zig must then be on PATH, or
/// importable as Python's `ziglang`).
pub const ZIGBUILD_ENV: &str = "MGRID_CARGO_ZIGBUILD";
/// The Cargo profile the bootstrap is built with (release, stripped).
pub const PROFILE: &str = "lambda";
/// Names of the artifact's files in its directory.
pub const ZIP_FILE: &str = "mgrid-functions.zip";
pub const METADATA_FILE: &str = "artifact.json";

/// Something that kept the artifact from being built: what happened, and what to do.
#[derive(Debug, thiserror::Error)]
#[error("{problem}\n  next: {next}")]
pub struct BuildError {
    pub problem: String,
    pub next: String,
}

fn failed(problem: impl Into<String>, next: impl Into<String>) -> BuildError {
    BuildError {
        problem: problem.into(),
        next: next.into(),
    }
}

/// The architectures a release build of mgrid builds: exactly those `listed` names
/// (`MGRID_ARTIFACT_ARCHS`, `arm64,x86_64`); else the default one and any other a stage of the
/// `mgrid.toml` beside the sources runs on. One architecture is half the build, and most
/// installs deploy only the default one.
pub fn wanted_arches(listed: Option<&str>, config: Option<&str>) -> Result<Vec<Arch>, String> {
    if let Some(list) = listed {
        return list
            .split(',')
            .map(|name| {
                Arch::from_lambda_name(name.trim()).ok_or_else(|| {
                    format!(
                        "MGRID_ARTIFACT_ARCHS lists {name:?}; the architectures are arm64 and x86_64"
                    )
                })
            })
            .collect();
    }
    let mut arches = vec![Arch::DEFAULT];
    let Some(text) = config else {
        return Ok(arches);
    };
    let file: toml::Table = text
        .parse()
        .map_err(|e| format!("mgrid.toml does not parse: {e}"))?;
    let stages = file.get("stages").and_then(toml::Value::as_table);
    for stage in stages.into_iter().flat_map(|stages| stages.values()) {
        let Some(name) = stage.get("architecture").and_then(toml::Value::as_str) else {
            continue;
        };
        let arch = Arch::from_lambda_name(name).ok_or_else(|| {
            format!(
                "a stage in mgrid.toml runs on {name:?}; the architectures are arm64 and x86_64"
            )
        })?;
        if !arches.contains(&arch) {
            arches.push(arch);
        }
    }
    Ok(arches)
}

/// Where the build keeps its tools, its own Cargo target directory (apart from the one a build
/// of mgrid holds locked, so a build script can run it without waiting on itself) and the zips.
#[derive(Debug, Clone)]
pub struct Layout {
    pub workspace: PathBuf,
    pub tools: PathBuf,
    pub cargo_target: PathBuf,
    pub out: PathBuf,
}

impl Layout {
    pub fn new(workspace: &Path) -> Layout {
        let target = workspace.join("target");
        Layout {
            workspace: workspace.to_path_buf(),
            tools: target.join("zig-tools"),
            cargo_target: target.join("artifact-build"),
            out: target.join("artifact"),
        }
    }

    /// The directory holding one architecture's zip and artifact.json.
    pub fn artifact_dir(&self, arch: Arch) -> PathBuf {
        self.out.join(arch.lambda_name())
    }
}

/// What compiles and links the bootstrap.
#[derive(Debug, Clone)]
pub enum Toolchain {
    /// cargo-zigbuild, with PATH set so that it finds its Zig.
    Zig {
        cargo_zigbuild: PathBuf,
        path: OsString,
        description: String,
    },
    /// The host's cargo and linker: the host's architecture only, and the glibc check decides.
    Native,
}

/// Where the build's own output goes: to the terminal, or appended to a log file (a build
/// script's output is hidden until it fails, so it keeps a log to point at).
#[derive(Debug, Clone)]
pub enum Output {
    Inherit,
    Log(PathBuf),
}

impl Toolchain {
    /// The pinned cargo-zigbuild and Zig, installed into `layout.tools` the first time (a Python
    /// virtual environment, from zig-tools.lock with its hashes), or the one `MGRID_CARGO_ZIGBUILD`
    /// names.
    pub fn zig(layout: &Layout) -> Result<Toolchain, BuildError> {
        let (cargo_zigbuild, bin) = match std::env::var_os(ZIGBUILD_ENV) {
            Some(path) => {
                let path = PathBuf::from(path);
                let bin = path.parent().map(Path::to_path_buf).unwrap_or_default();
                (path, bin)
            }
            None => {
                install_zig_tools(layout)?;
                let bin = layout.tools.join("bin");
                (bin.join("cargo-zigbuild"), bin)
            }
        };
        let mut dirs = vec![bin];
        dirs.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        let path = std::env::join_paths(dirs).map_err(|e| {
            failed(
                format!("cannot set PATH for cargo-zigbuild: {e}"),
                "check PATH",
            )
        })?;
        let version = |program: &Path, args: &[&str]| {
            Command::new(program)
                .args(args)
                .env("PATH", &path)
                .output()
                .ok()
                .filter(|output| output.status.success())
                .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        };
        let zigbuild = version(&cargo_zigbuild, &["--version"]).ok_or_else(|| {
            failed(
                format!("{} does not run", cargo_zigbuild.display()),
                format!(
                    "remove {} to reinstall the pinned tools, or point {ZIGBUILD_ENV} at a working cargo-zigbuild",
                    layout.tools.display()
                ),
            )
        })?;
        let zig = version(Path::new("python3"), &["-m", "ziglang", "version"])
            .or_else(|| version(Path::new("zig"), &["version"]))
            .unwrap_or_else(|| "unknown".into());
        Ok(Toolchain::Zig {
            cargo_zigbuild,
            path,
            description: format!("{zigbuild}, zig {zig}"),
        })
    }

    pub fn describe(&self) -> String {
        match self {
            Toolchain::Zig { description, .. } => description.clone(),
            Toolchain::Native => "the host's cargo and linker".into(),
        }
    }

    /// The `--target` given to cargo: with Zig, the glibc to link against rides on it.
    fn target(&self, arch: Arch) -> String {
        match self {
            Toolchain::Zig { .. } => {
                format!("{}.{}.{}", arch.rust_target(), GLIBC_FLOOR.0, GLIBC_FLOOR.1)
            }
            Toolchain::Native => arch.rust_target().to_owned(),
        }
    }

    fn cargo(&self) -> Command {
        match self {
            Toolchain::Zig {
                cargo_zigbuild,
                path,
                ..
            } => {
                let mut command = Command::new(cargo_zigbuild);
                command.arg("zigbuild").env("PATH", path);
                command
            }
            Toolchain::Native => {
                let mut command =
                    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
                command.arg("build");
                command
            }
        }
    }
}

/// Installs zig-tools.lock into a virtual environment, unless the one there was made from the
/// same lock file. Holds a lock meanwhile: a test and a build script may both get here.
fn install_zig_tools(layout: &Layout) -> Result<(), BuildError> {
    let lock_path = layout.workspace.join(ZIG_TOOLS_LOCK);
    let lock = std::fs::read(&lock_path).map_err(|e| {
        failed(
            format!("cannot read {}: {e}", lock_path.display()),
            "build from a full checkout of mgrid",
        )
    })?;
    let (_, want) = sha256(&lock);
    let parent = layout.tools.parent().unwrap_or(&layout.workspace);
    std::fs::create_dir_all(parent).map_err(|e| {
        failed(
            format!("cannot create {}: {e}", parent.display()),
            "check the permissions of target/",
        )
    })?;
    let guard_path = parent.join(".zig-tools.lock");
    let guard = File::create(&guard_path)
        .and_then(|file| file.lock().map(|()| file))
        .map_err(|e| {
            failed(
                format!("cannot lock {}: {e}", guard_path.display()),
                "check the permissions of target/",
            )
        })?;
    let stamp = layout.tools.join(".lock.sha256");
    if std::fs::read_to_string(&stamp).is_ok_and(|have| have.trim() == want)
        && layout.tools.join("bin/cargo-zigbuild").is_file()
    {
        return Ok(());
    }
    let _ = std::fs::remove_dir_all(&layout.tools);
    let run = |program: &Path, args: &[&std::ffi::OsStr], what: &str| {
        let output = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .output();
        match output {
            Ok(output) if output.status.success() => Ok(()),
            Ok(output) => Err(failed(
                format!(
                    "{what} failed: {}",
                    String::from_utf8_lossy(&output.stderr).trim()
                ),
                format!(
                    "the pinned Zig tools come from PyPI ({ZIG_TOOLS_LOCK}); check the network, or point {ZIGBUILD_ENV} at a cargo-zigbuild"
                ),
            )),
            Err(e) => Err(failed(
                format!("cannot run {}: {e}", program.display()),
                format!(
                    "install Python 3 with venv and pip (Debian: python3-venv), or point {ZIGBUILD_ENV} at a cargo-zigbuild"
                ),
            )),
        }
    };
    run(
        Path::new("python3"),
        &["-m".as_ref(), "venv".as_ref(), layout.tools.as_os_str()],
        "creating a Python virtual environment for the Zig tools",
    )?;
    run(
        &layout.tools.join("bin/pip"),
        &[
            "install".as_ref(),
            "--quiet".as_ref(),
            "--disable-pip-version-check".as_ref(),
            "--no-input".as_ref(),
            "--require-hashes".as_ref(),
            "-r".as_ref(),
            lock_path.as_os_str(),
        ],
        "installing cargo-zigbuild and Zig",
    )?;
    std::fs::write(&stamp, want).map_err(|e| {
        failed(
            format!("cannot write {}: {e}", stamp.display()),
            "check the permissions of target/",
        )
    })?;
    drop(guard);
    Ok(())
}

/// Makes sure rustup has the standard library for `arch` (it is fetched the first time).
fn ensure_rust_target(arch: Arch) -> Result<(), BuildError> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()));
    let installed =
        sysroot.is_some_and(|root| root.join("lib/rustlib").join(arch.rust_target()).is_dir());
    if installed {
        return Ok(());
    }
    let added = Command::new("rustup")
        .args(["target", "add", arch.rust_target()])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if added {
        Ok(())
    } else {
        Err(failed(
            format!(
                "the Rust standard library for {} is not installed",
                arch.rust_target()
            ),
            format!(
                "run `rustup target add {}` (or build only the other architecture)",
                arch.rust_target()
            ),
        ))
    }
}

/// A built artifact: the zip Lambda runs and what it is.
#[derive(Debug, Clone)]
pub struct Built {
    pub arch: Arch,
    pub zip: Vec<u8>,
    pub metadata: ArtifactMetadata,
    pub bootstrap: PathBuf,
}

/// Builds the bootstrap for `arch` with `toolchain` and makes its zip. Refuses a bootstrap for
/// another instruction set or one that needs a glibc newer than 2.34.
pub fn build(
    layout: &Layout,
    toolchain: &Toolchain,
    arch: Arch,
    output: &Output,
) -> Result<Built, BuildError> {
    if matches!(toolchain, Toolchain::Native) && Some(arch) != host_arch() {
        return Err(failed(
            format!("the host's cargo builds for this machine only, not for {arch}"),
            "build with Zig (leave out --native), which builds both",
        ));
    }
    ensure_rust_target(arch)?;
    let target = toolchain.target(arch);
    let mut command = toolchain.cargo();
    command
        .current_dir(&layout.workspace)
        .args(["--locked", "--profile", PROFILE, "-p", "mgrid-lambda"])
        .args(["--bin", "bootstrap", "--target", &target, "--target-dir"])
        .arg(&layout.cargo_target)
        .stdin(Stdio::null());
    clean_environment(&mut command);
    command.env("CARGO_ENCODED_RUSTFLAGS", remapped_paths(layout));
    match output {
        Output::Inherit => {}
        Output::Log(path) => {
            let log = open_log(path)?;
            let copy = log.try_clone().map_err(|e| {
                failed(
                    format!("cannot write {}: {e}", path.display()),
                    "check the permissions of target/",
                )
            })?;
            command.stdout(copy).stderr(log);
        }
    }
    let status = command.status().map_err(|e| {
        failed(
            format!("cannot run cargo for the bootstrap: {e}"),
            "check that cargo (and, with Zig, the tools in target/zig-tools) can run",
        )
    })?;
    if !status.success() {
        let see = match output {
            Output::Inherit => "see cargo's output above".to_owned(),
            Output::Log(path) => format!("see {}", path.display()),
        };
        return Err(failed(
            format!("the {arch} bootstrap did not build ({see})"),
            "fix the error cargo reports; `cargo run --release -p mgrid-artifact` shows it directly",
        ));
    }
    let bootstrap = layout
        .cargo_target
        .join(arch.rust_target())
        .join(PROFILE)
        .join("bootstrap");
    let bytes = std::fs::read(&bootstrap).map_err(|e| {
        failed(
            format!("cannot read {}: {e}", bootstrap.display()),
            "build again",
        )
    })?;
    let glibc_required = check_bootstrap(&bytes, arch)?;
    let zipped = zip::zip_executable("bootstrap", &bytes)
        .map_err(|e| failed(e.to_string(), "the bootstrap must stay under 4 GB"))?;
    let (sha256, sha256_hex) = sha256(&zipped);
    let metadata = ArtifactMetadata {
        sha256,
        sha256_hex,
        zip_bytes: zipped.len() as u64,
        bootstrap_bytes: bytes.len() as u64,
        glibc_required,
        architecture: arch.lambda_name().into(),
        target,
        profile: format!("{PROFILE} (release, stripped)"),
        rustc: command_output(
            std::env::var_os("RUSTC")
                .unwrap_or_else(|| "rustc".into())
                .as_ref(),
            &["--version"],
        )
        .unwrap_or_else(|| "unknown".into()),
        toolchain: toolchain.describe(),
        git_commit: git_commit(&layout.workspace),
        sources_sha256: sources_sha256(&layout.workspace).map_err(|e| {
            failed(
                format!("cannot hash the function sources: {e}"),
                "build from a full checkout of mgrid",
            )
        })?,
    };
    Ok(Built {
        arch,
        zip: zipped,
        metadata,
        bootstrap,
    })
}

impl Built {
    /// Writes the zip and artifact.json into the architecture's directory, each replaced whole.
    pub fn write(&self, layout: &Layout) -> Result<PathBuf, BuildError> {
        let dir = layout.artifact_dir(self.arch);
        let json = serde_json::to_string_pretty(&self.metadata)
            .map_err(|e| failed(e.to_string(), "report this as a bug"))?;
        let write = |name: &str, bytes: &[u8]| -> std::io::Result<()> {
            std::fs::create_dir_all(&dir)?;
            let temporary = dir.join(format!(".{name}.partial"));
            std::fs::write(&temporary, bytes)?;
            std::fs::rename(&temporary, dir.join(name))
        };
        write(ZIP_FILE, &self.zip)
            .and_then(|()| write(METADATA_FILE, (json + "\n").as_bytes()))
            .map_err(|e| {
                failed(
                    format!("cannot write into {}: {e}", dir.display()),
                    "check the permissions of target/",
                )
            })?;
        Ok(dir)
    }
}

/// The machine this code runs on, if Lambda has it.
pub fn host_arch() -> Option<Arch> {
    if cfg!(all(
        target_os = "linux",
        target_env = "gnu",
        target_arch = "x86_64"
    )) {
        Some(Arch::X86_64)
    } else if cfg!(all(
        target_os = "linux",
        target_env = "gnu",
        target_arch = "aarch64"
    )) {
        Some(Arch::Arm64)
    } else {
        None
    }
}

/// Checks the bootstrap is for `arch` and needs no glibc newer than Amazon Linux 2023's;
/// returns the newest glibc it needs (`GLIBC_2.34`).
pub fn check_bootstrap(bytes: &[u8], arch: Arch) -> Result<String, BuildError> {
    let machine = elf::machine(bytes).map_err(|e| failed(e.to_string(), "build again"))?;
    if machine != arch.elf_machine() {
        return Err(failed(
            format!(
                "the bootstrap built for {arch} is for another instruction set (ELF machine {machine})"
            ),
            "check CARGO_BUILD_TARGET and the linker configured for the target",
        ));
    }
    let needs = elf::version_needs(bytes).map_err(|e| failed(e.to_string(), "build again"))?;
    let newest = elf::newest_glibc(&needs).ok_or_else(|| {
        failed(
            "the bootstrap names no glibc version",
            "build for a -linux-gnu target",
        )
    })?;
    if newest > GLIBC_FLOOR {
        let offending: Vec<String> = needs
            .iter()
            .filter(|(_, v)| {
                elf::newest_glibc(&[(String::new(), v.clone())]).is_some_and(|g| g > GLIBC_FLOOR)
            })
            .map(|(file, version)| format!("{file} {version}"))
            .collect();
        return Err(failed(
            format!(
                "the bootstrap needs GLIBC_{}.{}, newer than Amazon Linux 2023's GLIBC_{}.{} ({})",
                newest.0,
                newest.1,
                GLIBC_FLOOR.0,
                GLIBC_FLOOR.1,
                offending.join(", ")
            ),
            "build with Zig (without --native), which links against glibc 2.34",
        ));
    }
    Ok(format!("GLIBC_{}.{}", newest.0, newest.1))
}

/// A build script's environment describes the outer build (its target, profile, flags, output
/// directory); the inner cargo must see none of it, or it would build for the wrong thing.
fn clean_environment(command: &mut Command) {
    const OUTER: &[&str] = &[
        "TARGET",
        "HOST",
        "NUM_JOBS",
        "OPT_LEVEL",
        "DEBUG",
        "PROFILE",
        "OUT_DIR",
        "RUSTC_LINKER",
        "RUSTFLAGS",
        "RUSTDOCFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_BUILD_TARGET_DIR",
        "CARGO_MANIFEST_DIR",
        "CARGO_MANIFEST_PATH",
        "CARGO_MANIFEST_LINKS",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_CRATE_NAME",
        "RUSTC_WORKSPACE_WRAPPER",
    ];
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        if OUTER.contains(&key)
            || ["CARGO_CFG_", "CARGO_FEATURE_", "CARGO_PKG_", "DEP_"]
                .iter()
                .any(|prefix| key.starts_with(prefix))
        {
            command.env_remove(key);
        }
    }
}

/// Rust flags that take this machine's paths out of the binary (the dependencies' sources under
/// CARGO_HOME, generated code under the target directory), so the same sources give the same
/// bytes wherever they are built. The workspace's own paths are relative already.
fn remapped_paths(layout: &Layout) -> String {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")));
    let mut flags = Vec::new();
    if let Some(home) = cargo_home {
        flags.push(format!("--remap-path-prefix={}=/cargo", home.display()));
    }
    flags.push(format!(
        "--remap-path-prefix={}=/target",
        layout.cargo_target.display()
    ));
    flags.join("\x1f")
}

fn open_log(path: &Path) -> Result<File, BuildError> {
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let mut file = File::options()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| {
            failed(
                format!("cannot open {}: {e}", path.display()),
                "check the permissions of target/",
            )
        })?;
    let _ = writeln!(file, "---- mgrid-artifact build");
    Ok(file)
}

fn command_output(program: &std::ffi::OsStr, args: &[&str]) -> Option<String> {
    let output = Command::new(program).args(args).output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// The commit the sources are at, with "-dirty" when the function sources have changes.
fn git_commit(workspace: &Path) -> Option<String> {
    let dir = workspace.as_os_str().to_str()?;
    let git = std::ffi::OsStr::new("git");
    let commit = command_output(git, &["-C", dir, "rev-parse", "--short=12", "HEAD"])?;
    let dirty = command_output(
        git,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_release_build_carries_the_default_architecture_unless_told_otherwise() {
        assert_eq!(wanted_arches(None, None), Ok(vec![Arch::Arm64]));
        let no_architecture = "[stages.prod]\nregion = \"eu-west-1\"\n";
        assert_eq!(
            wanted_arches(None, Some(no_architecture)),
            Ok(vec![Arch::Arm64])
        );
    }

    #[test]
    fn a_stage_on_x86_64_in_the_checkouts_config_adds_its_artifact() {
        let config =
            "[stages.prod]\narchitecture = \"x86_64\"\n[stages.dev]\narchitecture = \"arm64\"\n";
        assert_eq!(
            wanted_arches(None, Some(config)),
            Ok(vec![Arch::Arm64, Arch::X86_64])
        );
    }

    #[test]
    fn the_variable_lists_exactly_what_is_built() {
        let config = "[stages.prod]\narchitecture = \"x86_64\"\n";
        assert_eq!(
            wanted_arches(Some("x86_64"), Some(config)),
            Ok(vec![Arch::X86_64])
        );
        assert_eq!(
            wanted_arches(Some("arm64, x86_64"), None),
            Ok(vec![Arch::Arm64, Arch::X86_64])
        );
        let refused = wanted_arches(Some("amd64"), None).unwrap_err();
        assert!(refused.contains("\"amd64\""), "{refused}");
    }

    #[test]
    fn a_config_that_names_no_architecture_we_build_is_refused_with_the_name() {
        let refused =
            wanted_arches(None, Some("[stages.prod]\narchitecture = \"sparc\"\n")).unwrap_err();
        assert!(refused.contains("\"sparc\""), "{refused}");
        assert!(wanted_arches(None, Some("[stages")).is_err());
    }
}
