//! Where the local stage keeps its data, and the constants of its queues and endpoint.

use std::path::{Path, PathBuf};

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
