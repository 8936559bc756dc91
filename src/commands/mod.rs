//! One module per verb. Each reads what it needs, decides with pure functions, and prints a
//! value that is a table for people or JSON for scripts.

pub mod artifact;
pub mod deploy;
pub mod destroy;
pub mod dev;
pub mod dlq;
pub mod dlq_local;
pub mod docs;
pub mod keys;
pub mod metrics;
pub mod replay;
pub mod send;
pub mod stages;
pub mod status;
pub mod template;
pub mod validate;

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use anyhow::Result;
use mgrid_contract::{EpochMillis, StageName};

use crate::aws::Aws;
use crate::cli::{Cli, Command, DeployArgs, GlobalArgs};
use crate::config::Config;
use crate::failure::{Failure, FailureKind};
use crate::output::print_report;
use crate::stage::{ProcessEnvironment, StageSettings};

/// What every command gets: the global options and the configuration file.
pub struct Context {
    pub global: GlobalArgs,
    pub config: Config,
}

pub async fn run(cli: Cli) -> Result<()> {
    // These two need no configuration: a broken mgrid.toml must not stop them.
    match cli.command {
        Command::Completions(args) => return docs::completions(args.shell),
        Command::Man => return docs::man(),
        _ => {}
    }
    let config = Config::load(cli.global.config.as_deref())?;
    let context = Context {
        global: cli.global,
        config,
    };
    match cli.command {
        Command::Template(args) => template::run(&context, &args),
        Command::Validate(_) => validate::run(&context),
        Command::Artifact(args) => artifact::run(&context, &args.action),
        Command::Deploy(args) => {
            let report = deploy::run(&context, &args, true).await?;
            print_report(&report, context.global.output)?;
            Ok(())
        }
        Command::Diff(args) => {
            let deploy_args = DeployArgs {
                no_execute: true,
                change_set_name: None,
                params: args.deploy.params.clone(),
                allow_replacement: true,
                artifact: args.deploy.artifact.clone(),
            };
            let report = deploy::run(&context, &deploy_args, false).await?;
            print_report(&report, context.global.output)?;
            // A change set with no resource changes still changes the stack (parameters, tags).
            let changed = report.action != "none";
            if args.exit_code && changed {
                return Err(Failure::new(
                    FailureKind::Failed,
                    format!("{} has changes to deploy", report.stack_name),
                )
                .into());
            }
            Ok(())
        }
        Command::Status => status::run(&context).await,
        Command::Destroy(args) => destroy::run(&context, &args).await,
        Command::Stages => stages::run(&context).await,
        Command::Keys(args) => keys::run(&context, &args).await,
        Command::Dlq(args) => dlq::run(&context, &args).await,
        Command::Replay(args) => replay::run(&context, &args).await,
        Command::Metrics(args) => metrics::run(&context, &args).await,
        Command::Dev(args) => dev::run(&context, &args).await,
        Command::Send(args) => send::run(&context, &args).await,
        Command::Completions(args) => docs::completions(args.shell),
        Command::Man => docs::man(),
    }
}

impl Context {
    /// A stage's settings: flags, environment, mgrid.toml and template defaults.
    pub fn settings(&self, stage: StageName) -> Result<StageSettings, Failure> {
        StageSettings::resolve(
            stage,
            self.global.region.as_deref(),
            &self.config,
            &ProcessEnvironment,
        )
    }

    /// The AWS connection for a stage's account and region.
    pub async fn connect(&self, settings: &StageSettings) -> Result<Aws, Failure> {
        Aws::connect(
            &self.global,
            settings.region.as_ref().map(|r| r.value.as_str()),
        )
        .await
    }

    /// The stage the command acts on; a clear failure when none was given.
    pub fn require_stage(&self) -> Result<StageName, Failure> {
        self.global.stage.clone().ok_or_else(|| {
            Failure::new(FailureKind::Usage, "no stage given")
                .next("pass --stage <name> or set MGRID_STAGE")
        })
    }
}

/// Asks a yes/no question on the terminal; `--yes` answers it; without a terminal and without
/// `--yes` it is a failure, never a silent yes.
pub fn confirm(question: &str, yes: bool) -> Result<bool, Failure> {
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err(Failure::new(
            FailureKind::Declined,
            format!(
                "{question} needs a yes, and there is no terminal to ask on; nothing was changed"
            ),
        )
        .next("pass --yes to answer yes without a prompt"));
    }
    eprint!("{question} [y/N] ");
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(|e| Failure::new(FailureKind::Failed, e.to_string()))?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}

pub fn now_millis() -> EpochMillis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as EpochMillis)
        .unwrap_or(0)
}

/// With -v, how many AWS calls the command made.
pub fn verbose_calls(verbose: bool, calls: usize) {
    if verbose {
        crate::output::note(&format!("aws calls: {calls}"));
    }
}

/// Paces a run to at most `rate` messages per second.
pub struct Pace {
    pub rate: Option<f64>,
    pub next: Instant,
}

impl Pace {
    pub async fn wait_for(&mut self, count: usize) {
        let Some(rate) = self.rate else { return };
        let now = Instant::now();
        if self.next > now {
            tokio::time::sleep(self.next - now).await;
        }
        self.next = self.next.max(now) + Duration::from_secs_f64(count as f64 / rate);
    }
}

/// 16 hex characters from the OS random source: the id of a run (deduplication ids derive
/// from it), and the local stage's request and message ids.
pub fn run_id() -> Result<String, Failure> {
    let mut bytes = [0u8; 8];
    getrandom::getrandom(&mut bytes).map_err(|e| {
        Failure::new(
            FailureKind::Failed,
            format!("the OS random source failed: {e}"),
        )
    })?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// A progress bar on stderr when it is a terminal (`template` uses {pos}, {len}, {msg}).
pub fn progress_bar(total: u64, template: &str) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(total);
    let style = indicatif::ProgressStyle::with_template(template)
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    Some(bar)
}
