//! What a deploy needs that can be worked out before calling AWS: the stage's settings, its
//! parameters (mgrid.toml, --param, --skip-shift) checked against the template, and the Lambda
//! artifact it deploys.

use super::mode::Mode;
use crate::artifact::{EmbeddedArtifact, embedded};
use crate::cli::DeployArgs;
use crate::commands::context::Context;
use crate::decide::deploy::{apply_param_overrides, architecture};
use crate::decide::shift::DeployStrategy;
use crate::decide::stage::{ParameterValue, Provenance, StageSettings};
use crate::decide::template::Template;
use crate::failure::{Failure, FailureKind};
use crate::ui::output::warn;

/// Everything a deploy needs that can be worked out before calling AWS.
pub(super) struct Prepared {
    pub(super) settings: StageSettings,
    pub(super) parameters: Vec<ParameterValue>,
    /// None when executing a change set an earlier run made (it names its artifact already).
    pub(super) artifact: Option<EmbeddedArtifact>,
}

impl Prepared {
    pub(super) fn artifact(&self) -> Result<&EmbeddedArtifact, Failure> {
        self.artifact.as_ref().ok_or_else(|| {
            Failure::new(
                FailureKind::Failed,
                "no Lambda artifact was prepared for this change set",
            )
        })
    }
}

pub(super) fn prepare(context: &Context, mode: Mode<'_>) -> Result<Prepared, Failure> {
    let stage = context.deployed_stage(mode.verb())?;
    let settings = context.settings(stage)?;
    let template =
        Template::pipeline().map_err(|e| Failure::new(FailureKind::Failed, e.to_string()))?;
    let mut parameters = settings.parameters(&template);
    apply_param_overrides(&mut parameters, mode.params(), &template)?;
    if matches!(
        mode,
        Mode::Deploy(DeployArgs {
            skip_shift: true,
            ..
        })
    ) {
        for (name, value) in [
            (
                "DeployStrategy",
                DeployStrategy::AllAtOnce.codedeploy_name(),
            ),
            ("DeployAlarms", ""),
        ] {
            if let Some(parameter) = parameters.iter_mut().find(|p| p.name == name) {
                parameter.value = Some(value.to_owned());
                parameter.source = Provenance::Flag("--skip-shift".into());
            }
        }
    }
    if let Mode::Deploy(DeployArgs {
        strategy: Some(strategy),
        ..
    }) = mode
        && let Some(parameter) = parameters.iter_mut().find(|p| p.name == "DeployStrategy")
    {
        parameter.value = Some(strategy.codedeploy_name().to_owned());
        parameter.source = Provenance::Flag("--strategy".into());
    }
    for parameter in &parameters {
        if let (Some(value), Some(spec)) = (&parameter.value, template.parameter(&parameter.name)) {
            spec.check(value).map_err(|problem| {
                Failure::new(FailureKind::Usage, problem)
                    .next("fix mgrid.toml or --param; `mgrid validate` checks offline")
            })?;
        }
    }
    let executing = matches!(
        mode,
        Mode::Deploy(DeployArgs {
            execute: Some(_),
            ..
        })
    );
    let arch = architecture(&parameters)?;
    let artifact = match mode.artifact() {
        Some(path) => {
            let artifact = crate::artifact::from_file(path)?;
            crate::artifact::check_runs_on(&artifact, arch)?;
            Some(artifact)
        }
        None if executing => None,
        None => Some(embedded(arch)?),
    };
    if artifact.as_ref().is_some_and(|a| a.stale) {
        warn(
            "the embedded Lambda artifact was built from other function sources than this \
             mgrid's; it deploys what it carries (`mgrid artifact info`)",
        );
    }
    Ok(Prepared {
        settings,
        parameters,
        artifact,
    })
}
