//! A run's copies, kept on disk until their verdicts are known: a redrive that ends with
//! webhooks still pending says which command looks again (`mgrid dlq redrive --status <run>`),
//! and that command reads them here. Kept beside the local stage's data (`.mgrid/runs/` by
//! default); no secret is in them, only ids.

use std::path::{Path, PathBuf};

use mgrid_contract::EpochMillis;
use serde::{Deserialize, Serialize};

use crate::decide::verdict::{Followed, Verdicts};
use crate::failure::{Failure, FailureKind};

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

    pub fn verdicts(&self) -> Verdicts {
        self.copies.iter().cloned().collect()
    }
}

/// Where runs are kept: `runs/` beside the local stage's data directory.
pub fn runs_dir(data_dir: &Path) -> PathBuf {
    data_dir
        .parent()
        .map_or_else(|| PathBuf::from("runs"), |parent| parent.join("runs"))
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

/// Writes the record whole (a temporary file renamed over the old one).
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
    std::fs::create_dir_all(dir).map_err(failed)?;
    let path = path_of(dir, &record.run_id);
    let partial = path.with_extension("json.partial");
    let json = serde_json::to_vec_pretty(record)
        .map_err(|e| Failure::new(FailureKind::Failed, e.to_string()))?;
    std::fs::write(&partial, json).map_err(failed)?;
    std::fs::rename(&partial, &path).map_err(failed)?;
    Ok(path)
}

pub fn load(dir: &Path, run_id: &str) -> Result<RunRecord, Failure> {
    let path = path_of(dir, run_id);
    let text = std::fs::read(&path).map_err(|e| {
        let kind = if e.kind() == std::io::ErrorKind::NotFound {
            FailureKind::NotFound
        } else {
            FailureKind::Failed
        };
        Failure::new(kind, format!("no run {run_id} in {}: {e}", dir.display())).next(
            "a run is kept where it ran (beside --data-dir); run the command from that directory, or pass the same --data-dir",
        )
    })?;
    serde_json::from_slice(&text).map_err(|e| {
        Failure::new(
            FailureKind::Failed,
            format!("{} is not a run record: {e}", path.display()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decide::verdict::SentCopy;

    #[test]
    fn a_run_comes_back_as_it_was_kept() {
        let dir = std::env::temp_dir().join(format!("mgrid-runs-{}", std::process::id()));
        let mut verdicts = Verdicts::default();
        verdicts.sent(SentCopy {
            deduplication_id: "mgrid-run-0123456789abcdef-00".into(),
            transaction_id: Some("stripe:evt_1".into()),
            event_id: Some("evt_1".into()),
            already_recorded: false,
        });
        let record = RunRecord::new("0123456789abcdef", "prod", 5, &verdicts);
        save(&dir, &record).expect("saved");
        let loaded = load(&dir, "0123456789abcdef").expect("loaded");
        assert_eq!(loaded.verdicts(), verdicts);
        assert_eq!(
            load(&dir, "fedcba9876543210").unwrap_err().kind,
            FailureKind::NotFound
        );
        std::fs::remove_dir_all(&dir).ok();
        assert_eq!(
            runs_dir(Path::new(".mgrid/local")),
            PathBuf::from(".mgrid/runs")
        );
        assert!(parse_run_id("../../etc/passwd").is_err());
    }
}
