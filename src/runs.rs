//! A run's copies, kept on disk until their verdicts are known: a redrive that ends with
//! webhooks still pending says which command looks again (`mgrid dlq redrive --status <run>`),
//! and that command reads them here. Kept inside the local stage's data directory
//! (`.mgrid/local/runs/` by default), owner-only like the rest of it: a directory others can
//! write to (the system's temporary directory) never holds them. No secret is in them, only ids,
//! and nothing in them is believed: a later look takes the ids and asks the queues and the ledger
//! again for every verdict.

use std::io::Read;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use mgrid_contract::EpochMillis;
use serde::{Deserialize, Serialize};

use crate::decide::verdict::{Followed, Verdict, Verdicts};
use crate::failure::{Failure, FailureKind};

/// The largest run file read back: a run keeps at most a few hundred thousand ids (a copy is
/// about 200 bytes), so anything bigger was not written by a run.
const MAX_RUN_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// What a run left to check.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunRecord {
    pub run_id: String,
    pub stage: String,
    pub started_at: EpochMillis,
    pub copies: Vec<Followed>,
}

impl RunRecord {
    pub fn new(run_id: &str, stage: &str, started_at: EpochMillis, verdicts: &Verdicts) -> Self {
        RunRecord {
            run_id: run_id.to_owned(),
            stage: stage.to_owned(),
            started_at,
            copies: verdicts.all().cloned().collect(),
        }
    }

    /// The copies to look at again, every one pending: a verdict written in the file (by this
    /// run, or by whoever edited it) is never taken on trust, only asked for again.
    pub fn verdicts(&self) -> Verdicts {
        self.copies
            .iter()
            .map(|copy| Followed {
                verdict: Verdict::Pending,
                ..copy.clone()
            })
            .collect()
    }
}

/// Where runs are kept: `runs/` inside the local stage's data directory.
pub fn runs_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("runs")
}

fn path_of(dir: &Path, run_id: &str) -> PathBuf {
    dir.join(format!("{run_id}.json"))
}

/// Whether `text` can be a run id (16 hex digits), before it becomes part of a path.
pub fn parse_run_id(text: &str) -> Result<String, String> {
    if text.len() == 16 && text.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(text.to_ascii_lowercase())
    } else {
        Err("a run id is the 16 hex digits a redrive's report names (run 0123456789abcdef)".into())
    }
}

/// The runs directory, made when missing, and refused unless it is a directory of this user's
/// that nobody else can reach (not a link: a link's target is whoever made it).
fn private_dir(dir: &Path) -> Result<(), Failure> {
    let failed = |what: String| {
        Failure::new(FailureKind::Failed, what)
            .next("pass --data-dir with a directory of your own (or set MGRID_LOCAL_DIR)")
    };
    if let Some(data_dir) = dir.parent() {
        crate::local::custody::make_private(data_dir)?;
    }
    match std::fs::symlink_metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .mode(0o700)
                .create(dir)
                .map_err(|e| failed(format!("cannot create {}: {e}", dir.display())))?;
            Ok(())
        }
        Err(e) => Err(failed(format!("cannot read {}: {e}", dir.display()))),
        Ok(metadata) => {
            // SAFETY: geteuid has no preconditions and cannot fail.
            let me = unsafe { libc::geteuid() };
            if !metadata.file_type().is_dir() {
                Err(failed(format!(
                    "{} is not a directory (a link or a file is never followed for run files)",
                    dir.display()
                )))
            } else if metadata.uid() != me || metadata.mode() & 0o077 != 0 {
                Err(failed(format!(
                    "{} is not a private directory of yours (owner uid {}, mode {:o}): others could change what a run kept",
                    dir.display(),
                    metadata.uid(),
                    metadata.mode() & 0o777
                )))
            } else {
                Ok(())
            }
        }
    }
}

/// Writes the record whole: a new owner-only file (never through a link, never onto one left
/// there) renamed over the old one.
pub fn save(dir: &Path, record: &RunRecord) -> Result<PathBuf, Failure> {
    let failed = |e: std::io::Error| {
        Failure::new(
            FailureKind::Failed,
            format!(
                "could not keep the run's webhooks in {}: {e}",
                dir.display()
            ),
        )
    };
    private_dir(dir)?;
    let path = path_of(dir, &record.run_id);
    let json = serde_json::to_vec_pretty(record)
        .map_err(|e| Failure::new(FailureKind::Failed, e.to_string()))?;
    crate::local::custody::write_private(&path, &json, None).map_err(failed)?;
    Ok(path)
}

pub fn load(dir: &Path, run_id: &str) -> Result<RunRecord, Failure> {
    let path = path_of(dir, run_id);
    let unreadable = |why: String| {
        Failure::new(
            FailureKind::Failed,
            format!("{} is not a run record: {why}", path.display()),
        )
        .next("remove it; `mgrid trace` follows one webhook at a time")
    };
    // Never through a link, never blocking on a FIFO, never more than a run could have written.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(&path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Failure::new(
                    FailureKind::NotFound,
                    format!("no run {run_id} in {}", dir.display()),
                )
                .next(
                    "a redrive keeps its run only when some of its webhooks were still pending at its end, inside the --data-dir it ran with: pass the same --data-dir, or follow one webhook with `mgrid trace <event id>`",
                )
            } else if e.raw_os_error() == Some(libc::ELOOP) {
                unreadable("it is a link, and run files are never read through links".into())
            } else {
                Failure::new(
                    FailureKind::Failed,
                    format!("cannot read {}: {e}", path.display()),
                )
            }
        })?;
    let metadata = file.metadata().map_err(|e| unreadable(e.to_string()))?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if !metadata.is_file() {
        return Err(unreadable("it is not a regular file".into()));
    }
    if metadata.uid() != me {
        return Err(unreadable(format!(
            "it belongs to another user (uid {})",
            metadata.uid()
        )));
    }
    if metadata.len() > MAX_RUN_FILE_BYTES {
        return Err(unreadable(format!(
            "it holds {} bytes, more than a run writes ({MAX_RUN_FILE_BYTES})",
            metadata.len()
        )));
    }
    let mut text = Vec::new();
    file.take(MAX_RUN_FILE_BYTES + 1)
        .read_to_end(&mut text)
        .map_err(|e| unreadable(e.to_string()))?;
    let record: RunRecord = serde_json::from_slice(&text).map_err(|e| unreadable(e.to_string()))?;
    if record.run_id != run_id {
        return Err(unreadable(format!(
            "it names run {}",
            crate::text::shown(&record.run_id)
        )));
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decide::verdict::SentCopy;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_run_comes_back_as_it_was_kept() {
        let data = tempfile::tempdir().expect("a temporary directory");
        let dir = runs_dir(data.path());
        kept_run(data.path());
        let loaded = load(&dir, "0123456789abcdef").expect("loaded");
        assert_eq!(loaded.verdicts(), one_pending());
        assert_eq!(
            load(&dir, "fedcba9876543210").unwrap_err().kind,
            FailureKind::NotFound
        );
        assert_eq!(
            runs_dir(Path::new(".mgrid/local")),
            PathBuf::from(".mgrid/local/runs")
        );
        assert!(parse_run_id("../../etc/passwd").is_err());
    }

    fn one_pending() -> Verdicts {
        let mut verdicts = Verdicts::default();
        verdicts.sent(SentCopy {
            deduplication_id: "mgrid-run-0123456789abcdef-00".into(),
            transaction_id: Some("stripe:evt_1".into()),
            event_id: Some("evt_1".into()),
            already_recorded: false,
        });
        verdicts
    }

    /// Run 0123456789abcdef of stage prod, one copy pending, kept under `data`.
    fn kept_run(data: &Path) -> PathBuf {
        let record = RunRecord::new("0123456789abcdef", "prod", 5, &one_pending());
        save(&runs_dir(data), &record).expect("saved")
    }

    #[test]
    fn a_verdict_written_into_a_run_file_is_not_believed() {
        let data = tempfile::tempdir().expect("a temporary directory");
        let path = kept_run(data.path());
        let text = std::fs::read_to_string(&path).expect("the run file");
        assert!(text.contains(r#""verdict": "pending""#), "{text}");
        std::fs::write(
            &path,
            text.replace(r#""verdict": "pending""#, r#""verdict": "recorded""#),
        )
        .expect("edited");
        let loaded = load(&runs_dir(data.path()), "0123456789abcdef").expect("loaded");
        assert_eq!(loaded.verdicts().counts().pending, 1);
        assert_eq!(loaded.verdicts().counts().recorded, 0);
    }

    #[test]
    fn run_files_are_private_and_never_followed_through_links() {
        let data = tempfile::tempdir().expect("a temporary directory");
        let path = kept_run(data.path());
        let runs = runs_dir(data.path());
        let mode = |p: &Path| std::fs::metadata(p).expect("metadata").mode() & 0o777;
        assert_eq!(mode(&runs), 0o700);
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(data.path()) & 0o077, 0);

        // A link planted at the partial's name is removed, not written through.
        let victim = data.path().join("victim");
        std::fs::write(&victim, "untouched").expect("victim");
        std::fs::remove_file(&path).expect("removed");
        std::os::unix::fs::symlink(&victim, runs.join("0123456789abcdef.json.partial"))
            .expect("link");
        kept_run(data.path());
        assert_eq!(
            std::fs::read_to_string(&victim).expect("victim"),
            "untouched"
        );

        // A link, a FIFO and /dev/zero in a run's place are refused, not read.
        std::fs::remove_file(&path).expect("removed");
        std::os::unix::fs::symlink("/dev/zero", &path).expect("link");
        let refused = load(&runs, "0123456789abcdef").expect_err("a link");
        assert!(refused.what.contains("link"), "{}", refused.what);
        std::fs::remove_file(&path).expect("removed");
        let fifo = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).expect("a path");
        // SAFETY: mkfifo reads a NUL-terminated path and creates a FIFO; nothing else.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        let refused = load(&runs, "0123456789abcdef").expect_err("a FIFO");
        assert!(
            refused.what.contains("not a regular file"),
            "{}",
            refused.what
        );
    }

    #[test]
    fn a_runs_directory_others_can_write_to_is_refused() {
        let data = tempfile::tempdir().expect("a temporary directory");
        kept_run(data.path());
        let runs = runs_dir(data.path());
        std::fs::set_permissions(&runs, std::fs::Permissions::from_mode(0o777)).expect("chmod");
        let record = RunRecord::new("0123456789abcdef", "prod", 5, &Verdicts::default());
        let refused = save(&runs, &record).expect_err("refused");
        assert!(
            refused.what.contains("not a private directory"),
            "{}",
            refused.what
        );
    }
}
