//! What every verb gets: the global options and mgrid.toml, and from them the stage it acts on
//! (its settings, its AWS connection, or the local stage).

use anyhow::Result;
use mgrid_contract::StageName;

use crate::aws::{Aws, Connection};
use crate::cli::GlobalArgs;
use crate::decide::config::Config;
use crate::decide::stage::{Environment, Flags, StageSettings};
use crate::failure::{Failure, FailureKind};
use crate::target::{AwsStage, LocalStage, Target};

/// What every command gets: the global options and the configuration file.
pub struct Context {
    pub global: GlobalArgs,
    pub config: Config,
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
