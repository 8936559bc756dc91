//! The local stage as an operator command finds it: whether `mgrid dev` runs on a data directory,
//! the URLs it listens on, the stand-in's control token, the database opened, and its health.

use super::paths::{Paths, endpoint};
use super::{custody, db};

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
    if custody::inspect(paths)? != custody::Contents::Database {
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
