//! The private file a new key is written to: created owner-only and never through a link, and
//! removed again when the rotation that made it fails.

use std::io::Write;

use anyhow::Result;

use crate::failure::{Failure, FailureKind};

/// The output file of a rotation: created before any key is written, removed again if no key
/// reached it (a declined or failed rotation leaves no empty file behind).
pub(super) struct KeyFile<'a> {
    pub(super) file: std::fs::File,
    pub(super) path: &'a std::path::Path,
    pub(super) written: bool,
}

/// Creates `path` for new keys: it must not exist, and only its owner may read it.
pub(super) fn create_private(path: &std::path::Path) -> Result<KeyFile<'_>, Failure> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| {
            if path.is_dir() {
                return Failure::new(
                    FailureKind::Usage,
                    format!(
                        "--output-file {} is a directory; nothing was rotated",
                        path.display()
                    ),
                )
                .next(format!(
                    "name a new file, like {}",
                    path.join("new-keys.txt").display()
                ));
            }
            Failure::new(
                FailureKind::Failed,
                format!("cannot create {}: {e}; nothing was rotated", path.display()),
            )
            .next("name a file that does not exist yet (mgrid never overwrites a key file)")
        })?;
    Ok(KeyFile {
        file,
        path,
        written: false,
    })
}

impl KeyFile<'_> {
    /// Appends a provider's line and syncs it, right after its key was stored: killed at any
    /// moment, every stored key is in the file.
    pub(super) fn append_synced(&mut self, line: &str) -> Result<(), Failure> {
        self.written = true;
        self.file
            .write_all(line.as_bytes())
            .and_then(|()| self.file.sync_all())
            .map_err(|e| {
                Failure::new(
                    FailureKind::Failed,
                    format!(
                        "cannot write {}: {e}; this provider's new key is stored but was shown nowhere",
                        self.path.display()
                    ),
                )
                .next("the key the provider uses stays accepted during the overlap; free the disk, then rotate again (mgrid asks before it revokes that key)")
            })
    }
}

impl Drop for KeyFile<'_> {
    fn drop(&mut self) {
        if !self.written {
            let _ = std::fs::remove_file(self.path);
        }
    }
}
