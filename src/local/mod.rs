//! The `local` stage: the pipeline's data plane on one machine, no AWS account needed. SQLite
//! stands in for SQS, DynamoDB and SSM, files for S3; the handlers are the Lambda functions'
//! own code behind local adapters. `mgrid dev` runs it; operator commands read the same data.

pub mod adapters;
pub mod custody;
pub mod db;
pub mod logfile;
pub mod metrics;
mod operator;
pub mod runtime;
pub mod store;

use std::path::{Path, PathBuf};

pub use operator::{
    LocalArchiveFiles, LocalLedgerLookup, LocalQueue, LocalRings, dead_letter, whereabouts,
};

/// The local queue's visibility timeout: a failed message is retried after this long. The
/// deployed queue's is 180 s (six times the processor's timeout); locally, handlers run in
/// process and 30 s keeps the development loop short.
pub const VISIBILITY_MS: i64 = 30_000;

/// Where `mgrid dev` listens unless told otherwise.
pub const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:8787";

/// The URL `mgrid dev` last listened on, from its endpoint file.
pub fn endpoint(paths: &Paths) -> Option<String> {
    std::fs::read_to_string(&paths.endpoint)
        .ok()
        .map(|url| url.trim().to_owned())
}

/// The URL of the `mgrid dev` that runs now on `paths`. The endpoint file outlives a crashed
/// run, and its port may now be anyone's: an endpoint counts only while its `mgrid dev` still
/// holds the directory, so a key is never sent to whoever took the port.
pub fn running_endpoint(paths: &Paths) -> Result<String, crate::failure::Failure> {
    use crate::failure::{Failure, FailureKind};
    let not_running = |why: &str| {
        Failure::new(
            FailureKind::NotFound,
            format!("mgrid dev is not running on {}{why}", paths.dir.display()),
        )
        .next("start it in another terminal: `mgrid dev` (or pass the --data-dir it uses)")
    };
    let url = endpoint(paths).ok_or_else(|| not_running(""))?;
    if !custody::DevLock::is_held(paths)? {
        return Err(not_running(&format!(
            " (its endpoint file names {url}, left by a run that ended; nothing was sent)"
        )));
    }
    Ok(url)
}

/// The provider stand-in of the `mgrid dev` that runs now on `paths`: Stripe's and PayPal's
/// APIs for the local stage answer there (`<url>/stripe`, `<url>/paypal`).
pub fn running_provider_api(paths: &Paths) -> Result<String, crate::failure::Failure> {
    running_endpoint(paths)?;
    std::fs::read_to_string(&paths.provider_api)
        .map(|url| url.trim().to_owned())
        .map_err(|e| {
            crate::failure::Failure::new(
                crate::failure::FailureKind::NotFound,
                format!(
                    "the running mgrid dev names no provider stand-in ({}: {e})",
                    paths.provider_api.display()
                ),
            )
            .next("restart `mgrid dev`: this build runs the stand-in beside the local stage")
        })
}

/// The control token of the provider stand-in `mgrid dev` runs on `paths`: what its
/// `/_standin/…` routes (deliver as the provider, keep events, throttle) answer to. Only whoever
/// can read the stage's data directory has it.
pub fn provider_control(paths: &Paths) -> Result<mgrid_contract::Secret, crate::failure::Failure> {
    std::fs::read_to_string(&paths.provider_control)
        .map(|token| mgrid_contract::Secret::new(token.trim().to_owned()))
        .map_err(|e| {
            crate::failure::Failure::new(
                crate::failure::FailureKind::NotFound,
                format!(
                    "no provider stand-in's control token in {} ({e})",
                    paths.dir.display()
                ),
            )
            .next("start `mgrid dev` (or pass the --data-dir of the one that runs the stand-in)")
        })
}

/// Opens the local stage's database for an operator command; a clear failure when there is none.
pub fn open_existing(paths: &Paths) -> Result<rusqlite::Connection, crate::failure::Failure> {
    use crate::failure::{Failure, FailureKind};
    if custody::inspect(paths)? != custody::Found::Database {
        return Err(Failure::new(
            FailureKind::NotFound,
            format!("the local stage has no data in {}", paths.dir.display()),
        )
        .next(
            "start it with `mgrid dev` (or pass the --data-dir it uses, or set MGRID_LOCAL_DIR)",
        ));
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
    /// The pipeline's decision log (`logfile`).
    pub logs: PathBuf,
    /// The URL of the provider stand-in `mgrid dev` runs (Stripe's and PayPal's APIs).
    pub provider_api: PathBuf,
    /// The provider stand-in's state: endpoints, credentials, events sent.
    pub providers: PathBuf,
    /// The token the stand-in's control routes answer to (owner-only, new each start).
    pub provider_control: PathBuf,
}

impl Paths {
    pub fn new(dir: &Path) -> Paths {
        Paths {
            dir: dir.to_owned(),
            database: dir.join("mgrid.db"),
            archive: dir.join("archive"),
            endpoint: dir.join("endpoint"),
            logs: dir.join("logs"),
            provider_api: dir.join("provider-api"),
            providers: dir.join("providers.json"),
            provider_control: dir.join("provider-api.control"),
        }
    }
}

/// What the local stage's data holds, for `mgrid status --stage local`.
pub struct Health {
    /// Whether an `mgrid dev` holds the directory now, and the URL it listens on.
    pub running: bool,
    pub endpoint: Option<String>,
    pub webhook_queue: crate::ports::Depth,
    pub dead_letter_queue: crate::ports::Depth,
    pub transactions: i64,
    /// Recorded but not yet archived.
    pub unarchived: i64,
    /// Recorded but the vendor not yet notified (waiting, or retrying with backoff).
    pub unnotified: i64,
    /// Notifications given up on after the notify pipe's bounds.
    pub notify_dead_letters: i64,
}

pub fn health(paths: &Paths) -> Result<Health, crate::failure::Failure> {
    use crate::failure::{Failure, FailureKind};
    let connection = open_existing(paths)?;
    let failed =
        |e: rusqlite::Error| Failure::new(FailureKind::Failed, format!("the local database: {e}"));
    let running = custody::DevLock::is_held(paths)?;
    let now = crate::clock::now_millis();
    let depth = |queue| {
        db::depth(&connection, queue, now).map(|d| crate::ports::Depth {
            visible: d.visible,
            in_flight: d.in_flight,
            arn: String::new(),
        })
    };
    let count = |sql: &str| connection.query_row(sql, [], |row| row.get::<_, i64>(0));
    Ok(Health {
        running,
        endpoint: running.then(|| endpoint(paths)).flatten(),
        webhook_queue: depth(db::WEBHOOKS).map_err(failed)?,
        dead_letter_queue: depth(db::DEAD_LETTERS).map_err(failed)?,
        transactions: count("SELECT COUNT(*) FROM ledger").map_err(failed)?,
        unarchived: count("SELECT COUNT(*) FROM stream WHERE done = 0").map_err(failed)?,
        unnotified: count("SELECT COUNT(*) FROM notifications").map_err(failed)?,
        notify_dead_letters: count("SELECT COUNT(*) FROM notify_dead_letters").map_err(failed)?,
    })
}
