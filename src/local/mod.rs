//! The `local` stage: the pipeline's data plane on one machine, no AWS account needed. SQLite
//! stands in for SQS, DynamoDB and SSM, files for S3; the handlers are the Lambda functions'
//! own code behind local adapters. `mgrid dev` runs it; operator commands read the same data.

pub mod adapters;
pub mod custody;
pub mod db;
pub mod metrics;
mod operator;
pub mod runtime;
pub mod store;

use std::path::{Path, PathBuf};

pub use operator::{LocalArchiveFiles, LocalLedgerLookup, LocalQueue, LocalRings, dead_letter};

/// The local stage's name, as `--stage` takes it.
pub const STAGE: &str = "local";

/// The local queue's visibility timeout: a failed message is retried after this long. The
/// deployed queue's is 180 s (six times the processor's timeout); locally, handlers run in
/// process and 30 s keeps the development loop short.
pub const VISIBILITY_MS: i64 = 30_000;

/// The data directory operator commands read for `--stage local`: MGRID_LOCAL_DIR, else the
/// default of `mgrid dev`.
pub fn data_dir() -> PathBuf {
    std::env::var_os("MGRID_LOCAL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(".mgrid/local"))
}

/// Opens the local stage's database for an operator command; a clear failure when there is none.
pub fn open_existing(paths: &Paths) -> Result<rusqlite::Connection, crate::failure::Failure> {
    use crate::failure::{Failure, FailureKind};
    if custody::inspect(paths)? != custody::Found::Database {
        return Err(Failure::new(
            FailureKind::NotFound,
            format!("the local stage has no data in {}", paths.dir.display()),
        )
        .next("start it with `mgrid dev` (or set MGRID_LOCAL_DIR to the --data-dir it uses)"));
    }
    custody::make_private(&paths.dir)?;
    db::open(&paths.database).map_err(|e| {
        if custody::is_damage(&e) {
            return custody::damaged(paths, &e.to_string());
        }
        Failure::new(
            FailureKind::Failed,
            format!("cannot open {}: {e}", paths.database.display()),
        )
    })
}

/// Where the local stage keeps its data.
#[derive(Debug, Clone)]
pub struct Paths {
    pub dir: PathBuf,
    pub database: PathBuf,
    pub archive: PathBuf,
    /// The URL `mgrid dev` listens on, for `mgrid send --stage local`.
    pub endpoint: PathBuf,
}

impl Paths {
    pub fn new(dir: &Path) -> Paths {
        Paths {
            dir: dir.to_owned(),
            database: dir.join("mgrid.db"),
            archive: dir.join("archive"),
            endpoint: dir.join("endpoint"),
        }
    }
}
