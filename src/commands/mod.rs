//! One module per verb. Each reads what it needs, decides with pure functions, and prints a
//! value that is a table for people or JSON for scripts.

pub mod artifact;
pub mod deploy;
pub mod destroy;
pub mod dev;
pub mod dlq;
pub mod docs;
pub mod doctor;
pub mod flow;
pub mod keys;
pub mod logs;
pub mod metrics;
pub mod movers;
pub mod reconcile;
pub mod replay;
pub mod secret_input;
pub mod send;
pub mod stages;
pub mod status;
pub mod template;
pub mod trace;
pub mod validate;
pub mod watch;

use anyhow::Result;
use mgrid_contract::StageName;

use crate::aws::{Aws, Connection};
use crate::cli::{Cli, Command, GlobalArgs};
use crate::decide::config::Config;
use crate::decide::stage::{Environment, Flags, StageSettings};
use crate::failure::{Failure, FailureKind};
use crate::target::{AwsStage, LocalStage, Target};

/// What every command gets: the global options and the configuration file.
pub struct Context {
    pub global: GlobalArgs,
    pub config: Config,
}

pub async fn run(cli: Cli) -> Result<()> {
    // These two need no configuration: a broken mgrid.toml must not stop them.
    match cli.command {
        Command::Completions(args) => return docs::completions(args.shell),
        Command::Man(args) => return docs::man(&args.command),
        _ => {}
    }
    let config = crate::config_file::load(cli.global.config.as_deref())?;
    let context = Context {
        global: cli.global,
        config,
    };
    match cli.command {
        Command::Template(args) => template::run(&context, &args),
        Command::Validate(_) => validate::run(&context),
        Command::Artifact(args) => artifact::run(&context, &args.action),
        Command::Deploy(args) => {
            deploy::run(&context, deploy::Mode::Deploy(&args)).await?;
            // The providers' side, as warnings: a deploy that worked is not failed by them.
            if !args.no_execute
                && let Ok(target) = context.target().await
            {
                doctor::after_deploy(&context, &target).await;
            }
            Ok(())
        }
        Command::Diff(args) => deploy::run(&context, deploy::Mode::Diff(&args)).await,
        Command::Status => status::run(&context, &context.target().await?).await,
        Command::Destroy(args) => destroy::run(&context, &args).await,
        Command::Stages => stages::run(&context).await,
        Command::Keys(args) => keys::run(&context, &context.target().await?, &args).await,
        Command::Doctor(args) => doctor::run(&context, &context.target().await?, &args).await,
        Command::Reconcile(args) => reconcile::run(&context, &context.target().await?, &args).await,
        Command::Dlq(args) => dlq::run(&context, &context.target().await?, &args).await,
        Command::Replay(args) => replay::run(&context, &context.target().await?, &args).await,
        Command::Metrics(args) => metrics::run(&context, &context.target().await?, &args).await,
        Command::Logs(args) => logs::run(&context, &context.target().await?, &args).await,
        Command::Trace(args) => trace::run(&context, &context.target().await?, &args).await,
        Command::Dev(args) => dev::run(&context, &args).await,
        Command::Send(args) => send::run(&context, &context.target().await?, &args).await,
        Command::Completions(args) => docs::completions(args.shell),
        Command::Man(args) => docs::man(&args.command),
    }
}

impl Context {
    /// A stage's settings: flags, environment, mgrid.toml and template defaults.
    pub fn settings(&self, stage: StageName) -> Result<StageSettings, Failure> {
        let flags = Flags {
            region: self.global.region.as_deref(),
            profile: self.global.profile.as_deref(),
        };
        StageSettings::resolve_with(stage, flags, &self.config, &ProcessEnvironment)
    }

    /// The AWS connection for a stage's account and region.
    pub async fn connect(&self, settings: &StageSettings) -> Result<Aws, Failure> {
        Aws::connect(Connection {
            region: settings.region.as_ref().map(|r| r.value.as_str()),
            profile: settings.profile.as_ref().map(|p| p.value.as_str()),
            endpoint_url: self.global.endpoint_url.as_deref(),
        })
        .await
    }

    /// The stage the command acts on, resolved: the local stage on `--data-dir`, or a deployed
    /// stage with its settings and AWS connection.
    pub async fn target(&self) -> Result<Target, Failure> {
        let stage = self.require_stage()?;
        self.target_of(stage).await
    }

    pub async fn target_of(&self, stage: StageName) -> Result<Target, Failure> {
        if stage.as_str() == crate::decide::config::LOCAL_STAGE {
            return Ok(Target::Local(Box::new(LocalStage::new(
                self.global.data_dir.clone(),
            )?)));
        }
        let settings = self.settings(stage.clone())?;
        let aws = self.connect(&settings).await?;
        Ok(Target::Aws(Box::new(AwsStage::new(stage, settings, aws))))
    }

    /// A stage `verb` deploys or deletes: never the local stage, which `mgrid dev` runs.
    pub fn deployed_stage(&self, verb: &str) -> Result<StageName, Failure> {
        let stage = self.require_stage()?;
        if stage.as_str() == crate::decide::config::LOCAL_STAGE {
            return Err(Failure::new(
                FailureKind::Usage,
                format!("the local stage is not deployed, so `mgrid {verb}` does not apply to it"),
            )
            .next("`mgrid dev` runs the local stage: Ctrl-C stops it, and its data stays in its --data-dir (.mgrid/local unless set) until you delete that directory yourself"));
        }
        Ok(stage)
    }

    /// The stage the command acts on; a clear failure when none was given.
    pub fn require_stage(&self) -> Result<StageName, Failure> {
        self.global.stage.clone().ok_or_else(|| {
            Failure::new(FailureKind::Usage, "no stage given")
                .next("pass --stage <name> or set MGRID_STAGE")
        })
    }
}

/// The real process environment.
pub struct ProcessEnvironment;

impl Environment for ProcessEnvironment {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}
