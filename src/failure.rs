//! Why mgrid stopped: an exit code a script can act on, and a message that says what happened
//! and what to do next for the person at the terminal.

use std::fmt;

/// The documented exit codes (README "Exit codes"; `mgrid --help` lists them too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    /// 1: the operation ran and failed, or found what it was asked to report (diff --exit-code).
    Failed,
    /// 2: bad flags or arguments, or an invalid stage name.
    Usage,
    /// 3: the configuration file is invalid.
    Config,
    /// 4: AWS credentials are missing, expired, or not allowed to do this.
    Credentials,
    /// 5: the stage, or a resource it needs, does not exist.
    NotFound,
    /// 6: someone else is changing the same thing (stack busy, concurrent rotation).
    Conflict,
    /// 7: some items were done and some failed; nothing was lost.
    Partial,
    /// 8: done as asked, but the outcome of some items is not known yet (webhooks moved and not
    /// yet judged by the processor); the report names the command that looks again.
    Pending,
    /// 9: deployed, but the canary could not judge the new version: too little traffic
    /// reached it for its failure guard (`mgrid status` shows the guard's state).
    NotJudged,
    /// 10: a confirmation was needed and not given.
    Declined,
    /// 130: interrupted by Ctrl-C.
    Interrupted,
}

impl FailureKind {
    pub fn exit_code(self) -> u8 {
        match self {
            FailureKind::Failed => 1,
            FailureKind::Usage => 2,
            FailureKind::Config => 3,
            FailureKind::Credentials => 4,
            FailureKind::NotFound => 5,
            FailureKind::Conflict => 6,
            FailureKind::Partial => 7,
            FailureKind::Pending => 8,
            FailureKind::NotJudged => 9,
            FailureKind::Declined => 10,
            FailureKind::Interrupted => 130,
        }
    }
}

/// Exit codes as `--help` shows them.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0    success
  1    the operation failed (or `diff --exit-code` found changes)
  2    usage: bad arguments or an invalid stage name
  3    the configuration file (mgrid.toml) is invalid
  4    AWS credentials missing, expired or not permitted
  5    the stage or a resource it needs does not exist
  6    conflict: the stack is busy or a concurrent change was detected
  7    partial: some items failed, none were lost
  8    pending: done, but some outcomes are not known yet (the report says how to check)
  10   a confirmation was needed and not given
  130  interrupted";

/// An expected failure, with the next step for the operator.
#[derive(Debug, Clone)]
pub struct Failure {
    pub kind: FailureKind,
    pub what: String,
    pub next: Option<String>,
    /// Worth trying again after a pause (AWS throttled the call).
    pub transient: bool,
}

impl Failure {
    pub fn new(kind: FailureKind, what: impl Into<String>) -> Self {
        Failure {
            kind,
            what: what.into(),
            next: None,
            transient: false,
        }
    }

    pub fn transient(mut self) -> Self {
        self.transient = true;
        self
    }

    pub fn next(mut self, next: impl Into<String>) -> Self {
        self.next = Some(next.into());
        self
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.what)
    }
}

impl std::error::Error for Failure {}

/// The exit code for any error: an expected [`Failure`] says its own, anything else is a plain
/// failure.
pub fn exit_code_of(error: &anyhow::Error) -> u8 {
    error
        .chain()
        .find_map(|cause| cause.downcast_ref::<Failure>())
        .map_or(1, |failure| failure.kind.exit_code())
}

/// The operator's next step, if the error carries one.
pub fn next_step_of(error: &anyhow::Error) -> Option<&str> {
    error
        .chain()
        .find_map(|cause| cause.downcast_ref::<Failure>())
        .and_then(|failure| failure.next.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_expected_failure_keeps_its_exit_code_through_context() {
        let error =
            anyhow::Error::new(Failure::new(FailureKind::Config, "bad file").next("fix it"))
                .context("loading configuration");
        assert_eq!(exit_code_of(&error), 3);
        assert_eq!(next_step_of(&error), Some("fix it"));
    }

    #[test]
    fn an_unexpected_error_exits_with_one() {
        let error = anyhow::anyhow!("boom");
        assert_eq!(exit_code_of(&error), 1);
        assert_eq!(next_step_of(&error), None);
    }
}
