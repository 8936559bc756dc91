//! The flags of the stage's lifecycle: `deploy`, `diff` and `destroy`.

use std::path::PathBuf;

use clap::Args;

use super::parse::*;

#[derive(Debug, Clone, Args)]
#[command(after_long_help = "\
Steps: check the account (refused if mgrid.toml names another), upload the template and the
Lambda artifact to mgrid-assets-<account>-<region> by content hash, make a change set, show it
(replacing or removing data is marked, and refused on a protected stage without
--allow-replacement), confirm, execute, and follow it until it ends. Ctrl-C stops following,
not the deploy. Without a terminal, --yes is required.

A new processor version gets queue traffic through CodeDeploy, by the stage's deploy_strategy
(mgrid.toml: all-at-once, canary10-5m, linear10-1m, ...; protected stages default to
canary10-5m). The live view shows the share on the new version, the next step, and the guard
alarms (deploy_alarms); an alarm stops the shift, returns all traffic to the previous version
and rolls the stack back, and the report names the alarm and what the new version did.
--rollback stops a shift in progress the same way; --skip-shift sends all traffic at once
without guard alarms, for an emergency fix (a protected stage asks for its name).")]
pub struct DeployArgs {
    /// Stop once the change set is made: show it and how to execute or delete it later
    #[arg(long, conflicts_with = "execute")]
    pub no_execute: bool,
    /// Execute the change set a `--no-execute` run made (reviewed and confirmed again), with
    /// mgrid's follow-up: the live view, termination protection, outputs, next steps
    #[arg(long, value_name = "CHANGE_SET", conflicts_with_all = ["change_set_name", "params", "artifact"])]
    pub execute: Option<String>,
    /// Name of the change set [default: mgrid-<time>]
    #[arg(long, value_name = "NAME", value_parser = parse_change_set_name)]
    pub change_set_name: Option<String>,
    /// Override one template parameter for this deploy (repeatable)
    #[arg(long = "param", value_name = "KEY=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, String)>,
    /// Let a protected stage replace or remove resources that hold data
    #[arg(long)]
    pub allow_replacement: bool,
    /// Deploy this artifact zip (as `cargo run --release -p mgrid-artifact` writes) instead of
    /// the embedded one
    #[arg(long, value_name = "ZIP")]
    pub artifact: Option<PathBuf>,
    /// Stop the processor traffic shift in progress: CodeDeploy returns all traffic to the
    /// previous version and the stack update rolls back
    #[arg(long, conflicts_with_all = ["no_execute", "execute", "change_set_name", "params", "artifact", "allow_replacement", "skip_shift"])]
    pub rollback: bool,
    /// Send all traffic to the new processor version at once, with no guard alarms, for an
    /// emergency fix (a protected stage asks for its name); the next deploy restores the
    /// stage's strategy
    #[arg(long, conflicts_with = "execute")]
    pub skip_shift: bool,
    /// How traffic moves to a new processor version, this deploy only (the stage's
    /// deploy_strategy otherwise; the next deploy restores it): all-at-once, canary10-5m,
    /// canary10-10m, canary10-15m, canary10-30m, linear10-1m, linear10-2m, linear10-3m,
    /// linear10-10m. On a quiet stage a linear shift gives the new version a larger share, so
    /// its guard sees enough webhooks a minute to judge it
    #[arg(long, value_name = "STRATEGY", value_parser = parse_strategy, conflicts_with_all = ["execute", "skip_shift"])]
    pub strategy: Option<crate::decide::shift::DeployStrategy>,
    /// The longest mgrid follows the stack (and a deletion before a re-create) before it stops
    /// watching and exits 8: CloudFormation goes on, and `mgrid status` follows it. A slow
    /// strategy (linear10-10m shifts for 100 minutes) needs more than its shift takes
    #[arg(long, default_value = "2h", value_name = "SPAN", value_parser = parse_watch_limit)]
    pub watch_limit: Span,
}

#[derive(Debug, Clone, Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub deploy: DiffDeployArgs,
    /// Exit with 1 when there are changes (for CI)
    #[arg(long)]
    pub exit_code: bool,
}

/// The deploy options a diff shares.
#[derive(Debug, Clone, Args)]
pub struct DiffDeployArgs {
    /// Override one template parameter (repeatable)
    #[arg(long = "param", value_name = "KEY=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, String)>,
    /// Diff against this artifact zip instead of the embedded one
    #[arg(long, value_name = "ZIP")]
    pub artifact: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct DestroyArgs {
    /// Required to destroy a protected stage
    #[arg(long)]
    pub force: bool,
    /// Show what would be deleted and retained, and delete nothing
    #[arg(long)]
    pub dry_run: bool,
    /// The longest mgrid follows the deletion before it stops watching and exits 8:
    /// CloudFormation goes on, and `mgrid stages` shows when the stack is gone
    #[arg(long, default_value = "2h", value_name = "SPAN", value_parser = parse_watch_limit)]
    pub watch_limit: Span,
}
