//! The completions and man pages checked in under completions/ are exactly what the current
//! command line generates. Regenerate them with `MGRID_BLESS=1 cargo test --test suite completions::`.

use crate::support;

use std::collections::BTreeSet;
use std::path::PathBuf;

#[test]
fn checked_in_completions_and_man_pages_are_current() {
    let dir = support::repo_root().join("completions");
    let bless = std::env::var_os("MGRID_BLESS").is_some();
    let generated = mgrid::commands::docs::generated_files().expect("generate completions");
    let mut stale = Vec::new();
    for (path, contents) in &generated {
        let target = dir.join(path);
        if std::fs::read(&target).ok().as_deref() != Some(contents.as_slice()) {
            if bless {
                std::fs::create_dir_all(target.parent().unwrap()).unwrap();
                std::fs::write(&target, contents).unwrap();
            } else {
                stale.push(path.display().to_string());
            }
        }
    }
    let expected: BTreeSet<PathBuf> = generated.iter().map(|(path, _)| path.clone()).collect();
    let mut extra = Vec::new();
    for entry in walk(&dir) {
        let relative = entry.strip_prefix(&dir).unwrap().to_path_buf();
        if !expected.contains(&relative) {
            if bless {
                std::fs::remove_file(&entry).unwrap();
            } else {
                extra.push(relative.display().to_string());
            }
        }
    }
    assert!(
        stale.is_empty() && extra.is_empty(),
        "completions/ is out of date (stale: {stale:?}, no longer generated: {extra:?}); \
         run `MGRID_BLESS=1 cargo test --test suite completions::` and commit the result"
    );
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// What TAB offers after `--stage`, asked as the registered fish script asks it.
fn stage_candidates(dir: &std::path::Path, words: &[&str]) -> (String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mgrid"))
        .arg("--")
        .arg("mgrid")
        .args(words)
        .current_dir(dir)
        .env("COMPLETE", "fish")
        .env_remove("MGRID_CONFIG")
        .env_remove("MGRID_STAGE")
        .output()
        .expect("run mgrid");
    assert!(out.status.success(), "completion request failed: {out:?}");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn stage_completion_offers_the_stages_of_the_configuration_file_in_the_current_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("mgrid.toml"),
        "[stages.prod]\nregion = \"eu-west-1\"\n\n[stages.staging]\nprotected = true\n\n[stages.qa]\n",
    )
    .unwrap();
    let (offered, _) = stage_candidates(dir.path(), &["status", "--stage", ""]);
    let lines: Vec<&str> = offered.lines().collect();
    assert_eq!(
        lines,
        [
            "local\tthis machine's pipeline (mgrid dev)",
            "prod\teu-west-1, protected",
            "qa",
            "staging\tprotected",
        ],
        "{offered}"
    );
    // A prefix narrows the offer, and replay's --into-stage offers the same names.
    let (offered, _) = stage_candidates(dir.path(), &["replay", "--into-stage", "st"]);
    assert_eq!(offered.trim_end(), "staging\tprotected");
}

#[test]
fn stage_completion_without_a_readable_configuration_offers_local_and_prints_no_error() {
    let dir = tempfile::tempdir().unwrap();
    let (offered, stderr) = stage_candidates(dir.path(), &["status", "--stage", ""]);
    assert_eq!(
        offered.trim_end(),
        "local\tthis machine's pipeline (mgrid dev)"
    );
    std::fs::write(dir.path().join("mgrid.toml"), "[stages.prod\nregion = 1\n").unwrap();
    let (offered, stderr_broken) = stage_candidates(dir.path(), &["status", "--stage", ""]);
    assert_eq!(
        offered.trim_end(),
        "local\tthis machine's pipeline (mgrid dev)"
    );
    assert!(
        stderr.is_empty() && stderr_broken.is_empty(),
        "{stderr}{stderr_broken}"
    );
}

#[test]
fn the_registration_script_asks_mgrid_on_the_path() {
    let bash = String::from_utf8(mgrid::commands::docs::completion_script(
        clap_complete::Shell::Bash,
    ))
    .unwrap();
    assert!(bash.contains("COMPLETE=\"bash\""), "{bash}");
    assert!(bash.contains("\"mgrid\" -- \"${words[@]}\""), "{bash}");
}
