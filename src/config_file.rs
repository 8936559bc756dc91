//! Reading `mgrid.toml` from disk: the file named by `--config`/`MGRID_CONFIG`, or
//! `./mgrid.toml` when it exists, read only as a regular file of bounded size. What it says is
//! decided by `decide::config`.

use std::path::{Path, PathBuf};

use crate::decide::config::{Config, DEFAULT_CONFIG_FILE};
use crate::failure::{Failure, FailureKind};

/// The largest configuration file read: a hundred stages' settings are a few kilobytes.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// The configuration file's text: a regular file (opened without blocking, so a FIFO or a device
/// is refused, not waited on) of at most [`MAX_CONFIG_BYTES`].
fn read_bounded(path: &Path) -> Result<String, Failure> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let refuse = |why: String| {
        Failure::new(
            FailureKind::Config,
            format!(
                "cannot read the configuration file {}: {why}",
                path.display()
            ),
        )
        .next("check the path given with --config or MGRID_CONFIG")
    };
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| refuse(e.to_string()))?;
    let metadata = file.metadata().map_err(|e| refuse(e.to_string()))?;
    if !metadata.is_file() {
        return Err(refuse(
            "it is not a regular file (a directory, a FIFO or a device)".to_owned(),
        ));
    }
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| refuse(e.to_string()))?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(refuse(format!(
            "it is larger than {} KiB, more than any mgrid.toml",
            MAX_CONFIG_BYTES / 1024
        )));
    }
    String::from_utf8(bytes).map_err(|_| refuse("it is not UTF-8 text".to_owned()))
}

/// Reads the file named by `--config`/`MGRID_CONFIG`, or `./mgrid.toml` when it exists.
pub fn load(explicit: Option<&Path>) -> Result<Config, Failure> {
    let path = match explicit {
        Some(path) => path.to_path_buf(),
        None => {
            let default = PathBuf::from(DEFAULT_CONFIG_FILE);
            if !default.exists() {
                return Ok(Config::default());
            }
            default
        }
    };
    let text = read_bounded(&path)?;
    let file = Config::parse(&text).map_err(|e| e.into_failure(&path))?;
    Ok(Config {
        path: Some(path),
        file,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_that_is_no_regular_file_or_too_large_is_refused_at_once() {
        let device = load(Some(Path::new("/dev/zero"))).unwrap_err();
        assert!(
            device.what.contains("not a regular file"),
            "{}",
            device.what
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let fifo = dir.path().join("mgrid.toml");
        let c_path = std::ffi::CString::new(fifo.to_str().expect("utf-8")).expect("a path");
        // SAFETY: mkfifo on a NUL-terminated path this test owns.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        let started = std::time::Instant::now();
        let refused = load(Some(&fifo)).unwrap_err();
        assert!(
            refused.what.contains("not a regular file"),
            "{}",
            refused.what
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(1),
            "no wait for a writer"
        );
        let big = dir.path().join("big.toml");
        std::fs::write(&big, vec![b'#'; MAX_CONFIG_BYTES as usize + 1]).expect("write");
        let refused = load(Some(&big)).unwrap_err();
        assert!(
            refused.what.contains("larger than 1024 KiB"),
            "{}",
            refused.what
        );
    }
}
