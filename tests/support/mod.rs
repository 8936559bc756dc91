//! Shared test helpers for the mgrid binary: the command builder, files in temp dirs, and the
//! emulator and pinned tools (emulator.rs, which the function crates' tests include too).

#![allow(dead_code)]

mod emulator;
#[allow(unused_imports)]
pub use emulator::{Emulator, repo_root, tool};

use std::path::{Path, PathBuf};

/// The mgrid binary under test.
pub fn mgrid() -> assert_cmd::Command {
    let mut command = assert_cmd::Command::cargo_bin("mgrid").expect("the mgrid binary is built");
    // Tests never inherit an operator's stage, config or AWS settings.
    for variable in [
        "MGRID_STAGE",
        "MGRID_CONFIG",
        "MGRID_OUTPUT",
        "MGRID_LOG",
        "AWS_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ENDPOINT_URL",
        "NO_COLOR",
    ] {
        command.env_remove(variable);
    }
    command
}

/// Writes `contents` to `name` inside `dir`, returning the path.
pub fn write_file(dir: &Path, name: &str, contents: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("write test file");
    path
}

/// Runs a command that must succeed and returns what it printed on stdout.
pub fn stdout_of(command: &mut assert_cmd::Command) -> String {
    let output = command.assert().success().get_output().stdout.clone();
    String::from_utf8(output).expect("stdout is UTF-8")
}
