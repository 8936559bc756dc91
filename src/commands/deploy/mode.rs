//! What a run of the deploy steps is: a diff (up to the change set, then deleted) or a deploy,
//! with the flags each carries and the time limits that follow from them.

use std::time::Duration;

use super::watch::limit_of;
use crate::cli::{DeployArgs, DiffArgs};

/// What a run of the deploy steps does with the change set it makes.
#[derive(Debug, Clone, Copy)]
pub enum Mode<'a> {
    /// `mgrid diff`: show the change set, then delete it.
    Diff(&'a DiffArgs),
    /// `mgrid deploy`: review, confirm, execute and follow it (or stop once it is made, with
    /// --no-execute).
    Deploy(&'a DeployArgs),
}

/// A change set is computed in seconds; one that takes this long is stuck.
pub(super) const CHANGE_SET_LIMIT: Duration = Duration::from_secs(600);

/// How long a diff waits for a deletion (it makes none) or a watch (it has none).
const DIFF_WATCH_LIMIT: Duration = Duration::from_secs(7200);

impl Mode<'_> {
    /// The longest the run follows the stack or a deletion (`--watch-limit`).
    pub(super) fn watch_limit(&self) -> Duration {
        match self {
            Mode::Diff(_) => DIFF_WATCH_LIMIT,
            Mode::Deploy(args) => limit_of(args.watch_limit),
        }
    }

    pub(super) fn verb(&self) -> &'static str {
        match self {
            Mode::Diff(_) => "diff",
            Mode::Deploy(_) => "deploy",
        }
    }

    pub(super) fn params(&self) -> &[(String, String)] {
        match self {
            Mode::Diff(args) => &args.deploy.params,
            Mode::Deploy(args) => &args.params,
        }
    }

    pub(super) fn artifact(&self) -> Option<&std::path::Path> {
        match self {
            Mode::Diff(args) => args.deploy.artifact.as_deref(),
            Mode::Deploy(args) => args.artifact.as_deref(),
        }
    }

    /// Whether the change set may be executed (a diff never is).
    pub(super) fn deploys(&self) -> bool {
        matches!(self, Mode::Deploy(_))
    }
}
