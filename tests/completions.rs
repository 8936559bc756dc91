//! The completions and man pages checked in under completions/ are exactly what the current
//! command line generates. Regenerate them with `MGRID_BLESS=1 cargo test --test completions`.

mod support;

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
         run `MGRID_BLESS=1 cargo test --test completions` and commit the result"
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
