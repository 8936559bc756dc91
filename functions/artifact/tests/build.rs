//! The artifact as a deploy ships it, built for real with the pinned Zig tools (installed into
//! target/zig-tools on first use): the arm64 bootstrap needs no glibc newer than Amazon Linux
//! 2023's, serves an invocation under emulation (qemu-aarch64 from Debian's qemu-user-static,
//! with Debian's arm64 glibc, libc6-arm64-cross), and the same sources give the same zip bytes.
//! The first run builds the bootstrap cold (minutes on 2 cores); later runs reuse
//! target/artifact-build, the directory `cargo install` and `mgrid-artifact` build in.

#[path = "support/runtime_api.rs"]
mod runtime_api;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use mgrid_artifact::builder::{self, Built, Layout, Output, Toolchain};
use mgrid_artifact::{Arch, GLIBC_FLOOR, elf};
use runtime_api::{RuntimeApi, Seen};

/// The arm64 build, made once and shared; holding the lock also keeps a rebuild from replacing
/// the bootstrap while another test runs it.
static ARM64: Mutex<Option<(Layout, Toolchain, Built)>> = Mutex::new(None);

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the workspace")
}

fn arm64() -> MutexGuard<'static, Option<(Layout, Toolchain, Built)>> {
    let mut guard = ARM64
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if guard.is_none() {
        let layout = Layout::new(&workspace());
        let toolchain = Toolchain::zig(&layout).unwrap_or_else(|e| panic!("{e}"));
        let built = builder::build(&layout, &toolchain, Arch::Arm64, &Output::Inherit)
            .unwrap_or_else(|e| panic!("{e}"));
        *guard = Some((layout, toolchain, built));
    }
    guard
}

#[test]
fn the_arm64_bootstrap_is_for_aarch64_and_needs_no_glibc_newer_than_2_34() {
    let guard = arm64();
    let (_, _, built) = guard.as_ref().expect("built");
    let bytes = std::fs::read(&built.bootstrap).unwrap();
    assert_eq!(elf::machine(&bytes), Ok(elf::EM_AARCH64));
    let needs = elf::version_needs(&bytes).unwrap();
    let newest = elf::newest_glibc(&needs).expect("a glibc executable");
    assert!(newest <= GLIBC_FLOOR, "needs {newest:?}: {needs:?}");
    assert_eq!(built.metadata.architecture, "arm64");
    assert_eq!(built.metadata.target, "aarch64-unknown-linux-gnu.2.34");
    assert!(
        built
            .metadata
            .toolchain
            .starts_with("cargo-zigbuild 0.24.1, zig 0.17.1"),
        "{}",
        built.metadata.toolchain
    );
    let unzipped = mgrid_artifact::zip::read_entry(&built.zip, "bootstrap").unwrap();
    assert!(unzipped == bytes, "the zip holds the bootstrap as built");
}

/// qemu-user and the arm64 glibc it loads the bootstrap with: `.ci/setup` installs both.
fn emulator() -> Vec<String> {
    let qemu = ["qemu-aarch64-static", "qemu-aarch64"]
        .into_iter()
        .find(|name| Command::new(name).arg("--version").output().is_ok())
        .expect("qemu-aarch64: install Debian's qemu-user-static (.ci/setup does)");
    let sysroot = Path::new("/usr/aarch64-linux-gnu");
    assert!(
        sysroot.join("lib/ld-linux-aarch64.so.1").is_file(),
        "the arm64 glibc: install Debian's libc6-arm64-cross and libgcc-s1-arm64-cross (.ci/setup does)"
    );
    vec![qemu.into(), "-L".into(), sysroot.display().to_string()]
}

#[test]
fn the_arm64_bootstrap_serves_an_invocation_under_emulation() {
    let runner = emulator();
    let guard = arm64();
    let (_, _, built) = guard.as_ref().expect("built");
    let api = RuntimeApi::start(vec![r#"{"Records":[]}"#.to_owned()]);
    let runner: Vec<&str> = runner.iter().map(String::as_str).collect();
    let mut child = api.launch(&runner, &built.bootstrap, "processor");
    let mut seen = Vec::new();
    while seen.len() < 3 {
        match api.next(Duration::from_secs(60)) {
            Some(event) => seen.push(event),
            None => break,
        }
    }
    let _ = child.kill();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        matches!(seen.first(), Some(Seen::Polled(_))),
        "{seen:?}\n{stderr}"
    );
    assert_eq!(
        seen.get(1),
        Some(&Seen::Response {
            request_id: "request-0".into(),
            body: r#"{"batchItemFailures":[]}"#.into()
        }),
        "{stderr}"
    );
    assert!(
        matches!(seen.get(2), Some(Seen::Polled(_))),
        "it asks for the next invocation: {seen:?}\n{stderr}"
    );
}

/// The files of the checkout (tracked, and new ones not ignored), copied to `to`.
fn copy_sources(from: &Path, to: &Path) {
    let listed = Command::new("git")
        .arg("-C")
        .arg(from)
        .args([
            "ls-files",
            "--cached",
            "--others",
            "--exclude-standard",
            "-z",
        ])
        .output()
        .expect("git lists the sources");
    assert!(listed.status.success());
    for name in listed.stdout.split(|&b| b == 0).filter(|n| !n.is_empty()) {
        let relative = Path::new(std::str::from_utf8(name).unwrap());
        let source = from.join(relative);
        if !source.is_file() {
            continue;
        }
        let destination = to.join(relative);
        std::fs::create_dir_all(destination.parent().unwrap()).unwrap();
        std::fs::copy(&source, &destination).unwrap();
    }
}

#[test]
fn the_same_sources_build_to_the_same_zip_bytes_in_another_directory() {
    let guard = arm64();
    let (layout, toolchain, first) = guard.as_ref().expect("built");
    let copy = tempfile::tempdir().unwrap();
    copy_sources(&layout.workspace, copy.path());
    // The workspace's crates are compiled and linked again, from the copy; the dependencies'
    // compiled libraries are reused (rebuilding them too would take minutes more).
    let cleaned = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(copy.path())
        .args(["clean", "--profile", builder::PROFILE])
        .args(["--target", Arch::Arm64.rust_target(), "--target-dir"])
        .arg(&layout.cargo_target)
        .args([
            "-p",
            "mgrid-lambda",
            "-p",
            "mgrid-pipeline",
            "-p",
            "mgrid-contract",
        ])
        .status()
        .unwrap();
    assert!(cleaned.success());
    let elsewhere = Layout {
        workspace: copy.path().to_path_buf(),
        ..layout.clone()
    };
    let second = builder::build(&elsewhere, toolchain, Arch::Arm64, &Output::Inherit)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        second.zip == first.zip,
        "two builds of the same sources differ: {} and {}",
        first.metadata.sha256,
        second.metadata.sha256
    );
    assert_eq!(
        second.metadata.sources_sha256,
        first.metadata.sources_sha256
    );
}
