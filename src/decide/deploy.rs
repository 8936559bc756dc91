//! What a deploy decides from a stage's parameters before anything runs: which `--param`
//! overrides it takes (none that weaken a protected stage), the architecture, the guard alarms a
//! shift would be stopped by and whether one already fires, what the stage asks of the account's
//! concurrency, and the steps after a first deploy. Pure: `commands::deploy` reads and applies.

use mgrid_artifact::Arch;

use crate::decide::lifecycle::plan::ChangeReview;
use crate::decide::lifecycle::preflight::{CliTarget, StageNeeds};
use crate::decide::shift::{DeployStrategy, GuardAlarm, Steps};
use crate::decide::stage::{ParameterValue, Provenance, edit_distance};
use crate::decide::template::Template;
use crate::failure::{Failure, FailureKind};

/// The instruction set the stage's functions will run on: the artifact must be built for it.
pub fn architecture(parameters: &[ParameterValue]) -> Result<Arch, Failure> {
    let value = parameters
        .iter()
        .find(|p| p.name == "Architecture")
        .and_then(|p| p.value.as_deref())
        .unwrap_or_default();
    Arch::from_lambda_name(value).ok_or_else(|| {
        Failure::new(
            FailureKind::Usage,
            format!("the stage's Architecture is {value:?}; Lambda runs arm64 or x86_64"),
        )
        .next("set `architecture` in mgrid.toml to \"arm64\" or \"x86_64\"")
    })
}

/// Applies `--param Key=Value` overrides, refused when the key is not a parameter of the
/// template (with the nearest name), one mgrid sets itself, or one that protects the stage.
pub fn apply_param_overrides(
    parameters: &mut [ParameterValue],
    overrides: &[(String, String)],
    template: &Template,
) -> Result<(), Failure> {
    for (key, value) in overrides {
        let Some(parameter) = parameters.iter_mut().find(|p| &p.name == key) else {
            let known: Vec<String> = template.parameters().into_iter().map(|p| p.name).collect();
            let suggestion = known
                .iter()
                .min_by_key(|name| {
                    edit_distance(&name.to_ascii_lowercase(), &key.to_ascii_lowercase())
                })
                .map(|name| format!("did you mean {name}? "))
                .unwrap_or_default();
            return Err(Failure::new(
                FailureKind::Usage,
                format!("--param {key}: the template has no parameter {key}"),
            )
            .next(format!(
                "{suggestion}the parameters are: {}",
                known.join(", ")
            )));
        };
        if parameter.source == Provenance::Deploy || parameter.name == "Stage" {
            return Err(Failure::new(
                FailureKind::Usage,
                format!("--param {key}: mgrid sets {key} itself"),
            )
            .next("set stage settings in mgrid.toml, or choose another --param"));
        }
        if let Some(instead) = guarded_setting(key) {
            return Err(Failure::new(
                FailureKind::Usage,
                format!(
                    "--param {key}: a stage's protections are not set by a flag; nothing was deployed"
                ),
            )
            .next(instead));
        }
        parameter.value = Some(value.clone());
        parameter.source = Provenance::Flag("--param".into());
    }
    Ok(())
}

/// The parameters that protect a stage, with where they are set instead: in mgrid.toml, where
/// the team reviews them, or by the flag that asks first. A `--param` would weaken them silently.
pub fn guarded_setting(parameter: &str) -> Option<&'static str> {
    match parameter {
        "Protected" => Some(
            "set `protected` under the stage's [stages.<name>] in mgrid.toml (`mgrid validate --stage <name>` shows it)",
        ),
        "DeployStrategy" | "DeployAlarms" => Some(
            "set deploy_strategy or deploy_alarms in mgrid.toml; to deploy without a traffic shift this once, pass --skip-shift (it asks first)",
        ),
        _ => None,
    }
}

/// Whether the change set publishes a new processor version, which CodeDeploy shifts traffic
/// to. The emulator lists no resource changes for a parameter change; AWS does.
pub fn publishes_processor_version(review: &ChangeReview) -> bool {
    review.changes.iter().any(|c| {
        matches!(
            c.change.logical_id.as_str(),
            "ProcessorVersion" | "ProcessorAlias"
        )
    })
}

/// The guard alarms the stage's parameters name.
pub fn guard_alarms(stage: &str, parameters: &[ParameterValue]) -> Vec<String> {
    parameters
        .iter()
        .find(|p| p.name == "DeployAlarms")
        .and_then(|p| p.value.as_deref())
        .unwrap_or_default()
        .split(',')
        .filter_map(GuardAlarm::from_name)
        .map(|alarm| alarm.alarm_name(stage))
        .collect()
}

/// The refusal when any of `guards` is among the alarms `in_alarm`, for a deploy that publishes
/// a new processor version: the failure guards of the versions it replaces do not count (see
/// [`GuardAlarm::is_version_guard`]; [`old_version_guards`] names them).
pub fn guards_firing(stage: &str, guards: &[String], in_alarm: &[String]) -> Option<Failure> {
    let firing: Vec<&String> = in_alarm
        .iter()
        .filter(|a| guards.contains(a) && !GuardAlarm::is_version_guard(stage, a))
        .collect();
    if firing.is_empty() {
        return None;
    }
    let firing: Vec<&str> = firing.into_iter().map(String::as_str).collect();
    Some(Failure::new(
        FailureKind::Conflict,
        format!(
            "{} {} in ALARM now: CodeDeploy would stop the processor's traffic shift at once and roll this deploy back; nothing was changed",
            firing.join(", "),
            if firing.len() == 1 { "is" } else { "are" }
        ),
    )
    .next(format!(
        "clear the cause first (`mgrid status --stage {stage}`, `mgrid dlq peek --stage {stage}`), or, for an emergency fix, deploy with --skip-shift (all traffic at once, no guard alarms)"
    )))
}

/// What the deploy says of the failure guards in ALARM that judge the versions it replaces
/// (None when none is): they neither block it nor stop its shift.
pub fn old_version_guards(stage: &str, guards: &[String], in_alarm: &[String]) -> Option<String> {
    let guarded = guards
        .iter()
        .any(|g| GuardAlarm::is_version_guard(stage, g));
    let old: Vec<&str> = in_alarm
        .iter()
        .filter(|a| guarded && GuardAlarm::is_version_guard(stage, a))
        .map(String::as_str)
        .collect();
    (!old.is_empty()).then(|| {
        format!(
            "{} in ALARM judges the version this deploy replaces, not the new one: the new version gets a failure guard of its own (starting with no data), and the old one is removed once the deploy completes",
            old.join(", ")
        )
    })
}

/// Webhooks a minute the new version needs for its failure guard to judge a minute on its
/// failure ratio (stacks/pipeline.yaml, VersionFailuresAlarm).
pub const JUDGED_BY_RATIO: f64 = 10.0;

/// Webhooks a minute, all failing, for the guard to judge a version failing everything.
pub const JUDGED_ALL_FAILING: f64 = 3.0;

/// What a shift by `strategy` can judge, given the webhooks a minute the stage handled over
/// the last hour (`per_minute`, one value a minute): said before the shift starts, so an
/// operator on a quiet stage knows the canary cannot judge the new version before it passes
/// on no evidence. None for an all-at-once shift (no canary) or no reading.
pub fn canary_outlook(per_minute: &[f64], strategy: DeployStrategy) -> Option<String> {
    if per_minute.is_empty() {
        return None;
    }
    let first = match strategy.steps() {
        Steps::AllAtOnce => return None,
        Steps::Canary { percent, .. } | Steps::Linear { percent, .. } => f64::from(percent),
    };
    let rate = per_minute.iter().sum::<f64>() / per_minute.len() as f64;
    let to_new = rate * first / 100.0;
    let traffic = format!(
        "the stage handled {} webhooks a minute over the last hour; {} gives the new version about {} a minute",
        rate_text(rate),
        strategy.name(),
        rate_text(to_new),
    );
    let judged = if to_new >= JUDGED_BY_RATIO {
        "its failure guard judges its failure ratio from the first minute".to_owned()
    } else if to_new >= JUDGED_ALL_FAILING {
        format!(
            "its failure guard catches a version failing every webhook, but judges no failure ratio until {:.0} a minute reach it",
            JUDGED_BY_RATIO
        )
    } else {
        // The share a linear shift must reach to judge a version failing everything.
        let needed = if rate > 0.0 {
            (JUDGED_ALL_FAILING / rate * 100.0 / 10.0).ceil() * 10.0
        } else {
            f64::INFINITY
        };
        let linear = if needed <= 90.0 {
            format!(
                "; a linear shift (--strategy linear10-3m) judges it once it has {needed:.0}% of the traffic"
            )
        } else {
            "; this traffic is too low for any shift to judge it (send test webhooks during the shift, or deploy in a busier hour)".to_owned()
        };
        format!(
            "too few for its failure guard to judge: the deploy will end \"not judged\" (exit 9){linear}"
        )
    };
    Some(format!("{traffic}: {judged}"))
}

/// A rate as people read it: whole above 10 a minute, one decimal below.
fn rate_text(rate: f64) -> String {
    if rate >= 10.0 {
        format!("{rate:.0}")
    } else {
        format!("{rate:.1}")
    }
}

/// What the stage's parameters ask of the account's Lambda concurrency.
pub fn stage_needs(parameters: &[ParameterValue]) -> StageNeeds {
    let template = Template::pipeline().ok();
    let number = |name: &str| -> i64 {
        parameters
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| p.value.clone())
            .or_else(|| template.as_ref()?.parameter(name)?.default)
            .and_then(|value| value.parse().ok())
            .unwrap_or(0)
    };
    let provisioned = number("ProvisionedConcurrencyMin") > 0;
    StageNeeds {
        processor_max_concurrency: number("ProcessorMaxConcurrency"),
        provisioned_max: if provisioned {
            number("ProvisionedConcurrencyMax")
        } else {
            0
        },
    }
}

/// What to do after a stage's first deploy, in order: prove the ingress on AWS, make the keys,
/// register the URLs.
pub fn first_deploy_steps(stage: &str, target: &CliTarget) -> String {
    let options = match &target.profile {
        Some(profile) => format!("--region {} --profile {profile}", target.region),
        None => format!("--region {}", target.region),
    };
    format!(
        "next steps for the new stage:\n\
         1. check the ingress on AWS: a request through API Gateway's integration to the queue (the \
         test bypasses the authorizer; expect \"status\": 200 and \"Received response. Status: 200\" in its log):\n  \
         api=$(aws apigateway get-rest-apis {options} --query \"items[?name=='marketgrid-{stage}-webhooks'].id\" --output text)\n  \
         aws apigateway test-invoke-method {options} --rest-api-id \"$api\" --http-method POST \\\n    \
         --resource-id \"$(aws apigateway get-resources {options} --rest-api-id \"$api\" --query \"items[?path=='/webhook/stripe'].id\" --output text)\" \\\n    \
         --headers Content-Type=application/json --body '{{\"id\":\"evt_mgrid_ingress_check\",\"type\":\"mgrid.ingress_check\",\"data\":{{\"object\":{{\"id\":\"ingress_check\"}}}}}}'\n  \
         the processor dead-letters it (it carries no signature): `mgrid dlq peek --stage {stage}` shows it, \
         `mgrid dlq purge --stage {stage}` removes it\n\
         2. `mgrid keys rotate --all --stage {stage}`: the API keys, shown once as the URLs to register\n\
         3. `mgrid keys set-signing-secret stripe --stage {stage}` (and paypal): the secrets the providers show\n\
         4. register the URLs of step 2 as webhook endpoints at Stripe and PayPal"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decide::stage::StageSettings;

    #[test]
    fn the_outlook_says_what_the_canary_can_judge_at_the_stages_traffic() {
        let hour = |per_minute: f64| vec![per_minute; 60];
        let busy = canary_outlook(&hour(1_240.0), DeployStrategy::Canary10For5m).unwrap();
        assert!(
            busy.starts_with("the stage handled 1240 webhooks a minute over the last hour; canary10-5m gives the new version about 124 a minute"),
            "{busy}"
        );
        assert!(
            busy.ends_with("judges its failure ratio from the first minute"),
            "{busy}"
        );
        let quiet = canary_outlook(&hour(30.0), DeployStrategy::Canary10For5m).unwrap();
        assert!(quiet.contains("about 3.0 a minute"), "{quiet}");
        assert!(
            quiet.contains("catches a version failing every webhook, but judges no failure ratio"),
            "{quiet}"
        );
        let quieter = canary_outlook(&hour(10.0), DeployStrategy::Canary10For5m).unwrap();
        assert!(
            quieter.contains("the deploy will end \"not judged\" (exit 9)"),
            "{quieter}"
        );
        assert!(
            quieter.contains("once it has 30% of the traffic"),
            "{quieter}"
        );
        let silent = canary_outlook(&hour(0.0), DeployStrategy::Canary10For5m).unwrap();
        assert!(
            silent.contains("too low for any shift to judge it"),
            "{silent}"
        );
        // A burst counts over the hour: 600 in one minute is 10 a minute.
        let mut burst = hour(0.0);
        burst[59] = 600.0;
        assert!(
            canary_outlook(&burst, DeployStrategy::Linear10Every3m)
                .unwrap()
                .contains("handled 10 webhooks a minute"),
        );
        assert_eq!(canary_outlook(&hour(5.0), DeployStrategy::AllAtOnce), None);
        assert_eq!(canary_outlook(&[], DeployStrategy::Canary10For5m), None);
    }

    #[test]
    fn a_mistyped_param_is_refused_with_a_suggestion() {
        let template = Template::pipeline().unwrap();
        let settings = StageSettings::resolve(
            "dev".parse().unwrap(),
            Some("eu-west-1"),
            &crate::decide::config::Config::default(),
            &std::collections::BTreeMap::<&str, &str>::new(),
        )
        .unwrap();
        let mut parameters = settings.parameters(&template);
        let error = apply_param_overrides(
            &mut parameters,
            &[("ProcesorMemory".into(), "1024".into())],
            &template,
        )
        .unwrap_err();
        assert_eq!(error.kind, FailureKind::Usage);
        assert!(
            error
                .next
                .unwrap()
                .starts_with("did you mean ProcessorMemory?")
        );
        let error = apply_param_overrides(
            &mut parameters,
            &[("ArtifactKey".into(), "x".into())],
            &template,
        )
        .unwrap_err();
        assert!(error.what.contains("mgrid sets ArtifactKey itself"));
        for (key, value) in [
            ("Protected", "false"),
            ("DeployAlarms", ""),
            ("DeployStrategy", "CodeDeployDefault.LambdaAllAtOnce"),
        ] {
            let error =
                apply_param_overrides(&mut parameters, &[(key.into(), value.into())], &template)
                    .unwrap_err();
            assert_eq!(error.kind, FailureKind::Usage, "{key}");
            assert!(error.next.unwrap().contains("mgrid.toml"), "{key}");
        }
        apply_param_overrides(
            &mut parameters,
            &[("ProcessorMemory".into(), "1024".into())],
            &template,
        )
        .unwrap();
        let memory = parameters
            .iter()
            .find(|p| p.name == "ProcessorMemory")
            .unwrap();
        assert_eq!(
            (memory.value.as_deref(), &memory.source),
            (Some("1024"), &Provenance::Flag("--param".into()))
        );
    }
}
