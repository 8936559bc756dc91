//! A stage's settings, resolved from flags, environment, mgrid.toml and the template's defaults
//! (in that order of precedence), and the CloudFormation parameter values they become. Pure:
//! the environment is passed in, so every precedence rule is tested without touching the process.

use std::collections::BTreeMap;

use mgrid_contract::StageName;
use serde::Serialize;

use crate::decide::config::{Config, Region, StageConfig};
use crate::decide::template::Template;
use crate::failure::{Failure, FailureKind};

/// A stage name one or two keystrokes from `local` (`lcoal`, `locl`): an AWS stage of that name
/// is almost never what was meant, so its "not deployed" says so.
pub fn looks_like_local(name: &str) -> bool {
    name != "local" && edit_distance(name, "local") <= 2
}

/// What to add to a "stage … is not deployed" failure's next step.
pub fn local_hint(name: &str) -> String {
    if looks_like_local(name) {
        " (or did you mean `--stage local`, the stage `mgrid dev` runs?)".to_owned()
    } else {
        String::new()
    }
}

/// Optimal string alignment distance: insertions, deletions, substitutions and swaps of
/// neighbours each count one.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(tag = "kind", content = "name", rename_all = "kebab-case")]
#[cfg_attr(test, schemars(rename = "Source"))]
pub enum Provenance {
    /// A command-line flag.
    Flag(String),
    /// An environment variable.
    Environment(String),
    /// The configuration file.
    ConfigFile(String),
    /// mgrid's own rule (the stage name, protection of "prod").
    Mgrid,
    /// The template's default.
    Template,
    /// Filled in by `mgrid deploy` (the embedded artifact).
    Deploy,
}

impl std::fmt::Display for Provenance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Provenance::Flag(name) => write!(f, "flag {name}"),
            Provenance::Environment(name) => write!(f, "env {name}"),
            Provenance::ConfigFile(path) => f.write_str(path),
            Provenance::Mgrid => f.write_str("mgrid"),
            Provenance::Template => f.write_str("template default"),
            Provenance::Deploy => f.write_str("set at deploy"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct Sourced<T> {
    pub value: T,
    pub source: Provenance,
}

/// What the resolution reads from outside the command line.
pub trait Environment {
    fn var(&self, name: &str) -> Option<String>;
}

impl Environment for BTreeMap<&str, &str> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).map(|v| v.to_string())
    }
}

/// The settings of one stage, every value with its source.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct StageSettings {
    pub stage: StageName,
    pub stack_name: String,
    pub region: Option<Sourced<String>>,
    /// The AWS profile to reach the stage with; None: the SDK's default chain.
    pub profile: Option<Sourced<String>>,
    pub account_id: Option<Sourced<String>>,
    pub protected: Sourced<bool>,
    /// The stage's section of the configuration file (empty when it has none).
    #[serde(skip)]
    pub file: StageConfig,
    #[serde(skip)]
    file_label: String,
    pub tags: BTreeMap<String, String>,
}

/// A template parameter and the value a deploy of the stage passes for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct ParameterValue {
    pub name: String,
    /// None only for values filled in at deploy time.
    pub value: Option<String>,
    pub source: Provenance,
}

/// What the command line says about where a stage is.
#[derive(Debug, Clone, Copy, Default)]
pub struct Flags<'a> {
    pub region: Option<&'a str>,
    pub profile: Option<&'a str>,
}

impl StageSettings {
    /// A stage's settings with only a `--region` flag (tests, and where no profile applies).
    pub fn resolve(
        stage: StageName,
        region_flag: Option<&str>,
        config: &Config,
        env: &dyn Environment,
    ) -> Result<StageSettings, Failure> {
        let flags = Flags {
            region: region_flag,
            profile: None,
        };
        Self::resolve_with(stage, flags, config, env)
    }

    pub fn resolve_with(
        stage: StageName,
        flags: Flags<'_>,
        config: &Config,
        env: &dyn Environment,
    ) -> Result<StageSettings, Failure> {
        let region_flag = flags.region;
        let file = config.stage(&stage).cloned().unwrap_or_default();
        let file_label = config
            .path
            .as_ref()
            .map_or_else(|| "mgrid.toml".to_owned(), |p| p.display().to_string());
        let from_file = || Provenance::ConfigFile(file_label.clone());

        let protected = match file.protected {
            Some(value) => Sourced {
                value,
                source: from_file(),
            },
            None => Sourced {
                value: crate::decide::config::protected_by_default(&stage),
                source: Provenance::Mgrid,
            },
        };
        let region = resolve_region(
            &stage,
            protected.value,
            region_flag,
            env,
            file.region.as_ref(),
            &from_file,
        )?;
        let profile = resolve_profile(
            &stage,
            protected.value,
            flags.profile,
            env,
            file.profile.as_ref(),
            &from_file,
        )?;
        let account_id = file.account_id.as_ref().map(|id| Sourced {
            value: id.0.clone(),
            source: from_file(),
        });
        let mut tags = file.tags.0.clone();
        tags.insert("marketgrid:stage".into(), stage.to_string());
        tags.insert("managed-by".into(), "mgrid".into());

        Ok(StageSettings {
            stack_name: stage.stack_name(),
            stage,
            region,
            profile,
            account_id,
            protected,
            file,
            file_label,
            tags,
        })
    }

    /// The value of every template parameter for this stage. Settings the file leaves out take
    /// the template's default, so a stage never depends on anything but the template and its file.
    pub fn parameters(&self, template: &Template) -> Vec<ParameterValue> {
        let overrides = self.overrides();
        template
            .parameters()
            .into_iter()
            .map(|spec| match overrides.get(spec.name.as_str()) {
                Some((value, source)) => ParameterValue {
                    name: spec.name,
                    value: value.clone(),
                    source: source.clone(),
                },
                None => ParameterValue {
                    name: spec.name,
                    value: spec.default,
                    source: Provenance::Template,
                },
            })
            .collect()
    }

    /// The parameters this stage sets itself (everything else is the template's default).
    fn overrides(&self) -> BTreeMap<&'static str, (Option<String>, Provenance)> {
        let file = &self.file;
        let from_file = || Provenance::ConfigFile(self.file_label.clone());
        let mut values: BTreeMap<&'static str, (Option<String>, Provenance)> = BTreeMap::new();
        values.insert("Stage", (Some(self.stage.to_string()), Provenance::Mgrid));
        values.insert(
            "Protected",
            (
                Some(self.protected.value.to_string()),
                self.protected.source.clone(),
            ),
        );
        for artifact in [
            "ArtifactBucket",
            "ArtifactKey",
            "ArtifactSha256",
            "ProcessorDefinition",
        ] {
            values.insert(artifact, (None, Provenance::Deploy));
        }
        let strategy = match file.deploy_strategy {
            Some(strategy) => (strategy, from_file()),
            None if self.protected.value => (
                crate::decide::shift::DeployStrategy::default_for(true),
                Provenance::Mgrid,
            ),
            None => (
                crate::decide::shift::DeployStrategy::default_for(false),
                Provenance::Template,
            ),
        };
        if strategy.1 != Provenance::Template {
            values.insert(
                "DeployStrategy",
                (Some(strategy.0.codedeploy_name().to_owned()), strategy.1),
            );
        }
        let mut set = |name: &'static str, value: Option<String>| {
            if let Some(value) = value {
                values.insert(name, (Some(value), from_file()));
            }
        };
        set(
            "Architecture",
            file.architecture
                .map(|a| mgrid_artifact::Arch::from(a).lambda_name().to_owned()),
        );
        set(
            "DeployAlarms",
            file.deploy_alarms.as_ref().map(|alarms| {
                // Each is named once: the file refuses a repeat.
                alarms
                    .iter()
                    .map(|alarm| alarm.name())
                    .collect::<Vec<_>>()
                    .join(",")
            }),
        );
        set(
            "ProcessorMemory",
            file.processor_memory_mb.map(|m| m.0.to_string()),
        );
        set(
            "ProcessorMaxConcurrency",
            file.processor_max_concurrency.map(|c| c.0.to_string()),
        );
        set(
            "ProvisionedConcurrencyMin",
            file.provisioned_concurrency.map(|pc| pc.min.to_string()),
        );
        set(
            "ProvisionedConcurrencyMax",
            file.provisioned_concurrency.map(|pc| pc.max.to_string()),
        );
        set("WafRateLimit", file.waf_rate_limit.map(|l| l.0.to_string()));
        set(
            "LogRetentionDays",
            file.log_retention_days.map(|d| d.0.to_string()),
        );
        set("AlarmEmail", file.alarm_email.as_ref().map(|e| e.0.clone()));
        if let Some(domain) = &file.custom_domain {
            set("CustomDomainName", Some(domain.domain_name.clone()));
            set("HostedZoneId", Some(domain.hosted_zone_id.clone()));
            set("CertificateArn", Some(domain.certificate_arn.clone()));
        }
        values
    }
}

/// The stage's region: a region pinned in the file wins over the environment (an AWS_REGION
/// left from another task must not send a deploy elsewhere); `--region` wins over both, except
/// that on a protected stage a flag disagreeing with the pinned region is refused.
fn resolve_region(
    stage: &StageName,
    protected: bool,
    flag: Option<&str>,
    env: &dyn Environment,
    file: Option<&Region>,
    from_file: &dyn Fn() -> Provenance,
) -> Result<Option<Sourced<String>>, Failure> {
    let pinned = file.map(|region| Sourced {
        value: region.0.clone(),
        source: from_file(),
    });
    if let Some(flagged) = flag_over_pin(stage, protected, flag, "region", pinned.as_ref())? {
        return Ok(Some(flagged));
    }
    for variable in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
        let Some(region) = env.var(variable) else {
            continue;
        };
        if !crate::decide::config::is_region_name(&region) {
            return Err(Failure::new(
                FailureKind::Usage,
                format!("{variable}={region:?} is not an AWS region name"),
            )
            .next(format!(
                "set {variable} to a region such as eu-west-1, or unset it"
            )));
        }
        if let Some(pinned) = pinned {
            if pinned.value != region {
                tracing::warn!(
                    "{variable}={region} is ignored: stage {stage} is pinned to {} ({})",
                    pinned.value,
                    pinned.source
                );
            }
            return Ok(Some(pinned));
        }
        return Ok(Some(Sourced {
            value: region,
            source: Provenance::Environment(variable.into()),
        }));
    }
    Ok(pinned)
}

/// A `--region` or `--profile` flag against the value the file pins: the flag wins, except
/// that on a protected stage one that disagrees is refused. None when no flag was given.
fn flag_over_pin(
    stage: &StageName,
    protected: bool,
    flag: Option<&str>,
    option: &str,
    pinned: Option<&Sourced<String>>,
) -> Result<Option<Sourced<String>>, Failure> {
    let Some(value) = flag else {
        return Ok(None);
    };
    if let Some(pinned) = pinned.filter(|p| protected && p.value != value) {
        return Err(Failure::new(
            FailureKind::Usage,
            format!(
                "stage {stage} is protected and pinned to {option} {} ({}); --{option} {value} disagrees",
                pinned.value, pinned.source
            ),
        )
        .next(format!(
            "drop --{option}, or change the stage's {option} in {} if {stage} really moved",
            pinned.source
        )));
    }
    Ok(Some(Sourced {
        value: value.to_owned(),
        source: Provenance::Flag(format!("--{option}")),
    }))
}

/// The stage's profile, as its region: one pinned in the file wins over AWS_PROFILE (left from
/// another task, it must not send a deploy to another account); `--profile` wins over both,
/// except that on a protected stage a flag disagreeing with the pinned profile is refused.
fn resolve_profile(
    stage: &StageName,
    protected: bool,
    flag: Option<&str>,
    env: &dyn Environment,
    file: Option<&crate::decide::config::ProfileName>,
    from_file: &dyn Fn() -> Provenance,
) -> Result<Option<Sourced<String>>, Failure> {
    let pinned = file.map(|profile| Sourced {
        value: profile.0.clone(),
        source: from_file(),
    });
    if let Some(flagged) = flag_over_pin(stage, protected, flag, "profile", pinned.as_ref())? {
        return Ok(Some(flagged));
    }
    let environment = env.var("AWS_PROFILE");
    match (pinned, environment) {
        (Some(pinned), Some(variable)) => {
            if pinned.value != variable {
                tracing::warn!(
                    "AWS_PROFILE={variable} is ignored: stage {stage} is reached with profile {} ({})",
                    pinned.value,
                    pinned.source
                );
            }
            Ok(Some(pinned))
        }
        (Some(pinned), None) => Ok(Some(pinned)),
        (None, Some(variable)) => Ok(Some(Sourced {
            value: variable,
            source: Provenance::Environment("AWS_PROFILE".into()),
        })),
        (None, None) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stage_name_a_typo_away_from_local_is_pointed_at_it() {
        for typo in ["lcoal", "locl", "loacl", "lokal", "locale"] {
            assert!(looks_like_local(typo), "{typo}");
        }
        for stage in ["local", "prod", "staging", "dev", "loadtest"] {
            assert!(!looks_like_local(stage), "{stage}");
        }
        assert!(local_hint("lcoal").contains("--stage local"));
        assert_eq!(local_hint("prod"), "");
    }
    use std::path::PathBuf;

    fn config(text: &str) -> Config {
        Config {
            path: Some(PathBuf::from("mgrid.toml")),
            file: Config::parse(text).unwrap(),
        }
    }

    fn settings(
        stage: &str,
        flag: Option<&str>,
        env: &[(&str, &str)],
        text: &str,
    ) -> StageSettings {
        let env: BTreeMap<&str, &str> = env.iter().copied().collect();
        StageSettings::resolve(stage.parse().unwrap(), flag, &config(text), &env).unwrap()
    }

    const FILE: &str = "[stages.prod]\nregion = \"eu-west-1\"\nprocessor_memory_mb = 2048\n";

    #[test]
    fn the_region_flag_beats_the_environment_and_the_file() {
        let s = settings(
            "staging",
            Some("us-west-2"),
            &[("AWS_REGION", "ap-south-1")],
            "[stages.staging]\nregion = \"eu-west-1\"\n",
        );
        assert_eq!(s.region.unwrap().value, "us-west-2");
    }

    #[test]
    fn a_pinned_region_beats_the_environment() {
        let s = settings("prod", None, &[("AWS_REGION", "ap-south-1")], FILE);
        let region = s.region.unwrap();
        assert_eq!(region.value, "eu-west-1");
        assert_eq!(region.source, Provenance::ConfigFile("mgrid.toml".into()));
    }

    #[test]
    fn the_environment_gives_the_region_of_a_stage_that_pins_none() {
        let s = settings("dev", None, &[("AWS_DEFAULT_REGION", "ap-south-1")], FILE);
        let region = s.region.unwrap();
        assert_eq!(region.value, "ap-south-1");
        assert_eq!(
            region.source,
            Provenance::Environment("AWS_DEFAULT_REGION".into())
        );
        let s = settings(
            "dev",
            None,
            &[
                ("AWS_DEFAULT_REGION", "ap-south-1"),
                ("AWS_REGION", "sa-east-1"),
            ],
            FILE,
        );
        assert_eq!(s.region.unwrap().value, "sa-east-1");
    }

    #[test]
    fn a_stages_profile_beats_aws_profile_and_a_disagreeing_flag_is_refused_when_protected() {
        let file = config(
            "[stages.prod]\nprofile = \"payments-prod\"\n[stages.dev]\nprofile = \"payments-dev\"\n",
        );
        let env: BTreeMap<&str, &str> = [("AWS_PROFILE", "sandbox")].into_iter().collect();
        let resolve = |stage: &str, profile| {
            let flags = Flags {
                region: Some("eu-west-1"),
                profile,
            };
            StageSettings::resolve_with(stage.parse().unwrap(), flags, &file, &env)
        };
        let pinned = resolve("prod", None).unwrap().profile.unwrap();
        assert_eq!(pinned.value, "payments-prod");
        assert_eq!(pinned.source, Provenance::ConfigFile("mgrid.toml".into()));
        let error = resolve("prod", Some("sandbox")).unwrap_err();
        assert_eq!(error.kind, FailureKind::Usage);
        assert!(
            error.what.contains("--profile sandbox disagrees"),
            "{}",
            error.what
        );
        // Not protected: the flag wins.
        assert_eq!(
            resolve("dev", Some("sandbox"))
                .unwrap()
                .profile
                .unwrap()
                .value,
            "sandbox"
        );
        // No profile pinned: AWS_PROFILE.
        let other = resolve("qa", None).unwrap().profile.unwrap();
        assert_eq!(other.source, Provenance::Environment("AWS_PROFILE".into()));
        assert!(
            Config::parse("[stages.dev]\nprofile = \"two words\"\n").is_err(),
            "a profile name is one word"
        );
    }

    #[test]
    fn a_region_flag_that_disagrees_with_a_protected_stages_pin_is_refused() {
        let env: BTreeMap<&str, &str> = BTreeMap::new();
        let error = StageSettings::resolve(
            "prod".parse().unwrap(),
            Some("us-west-2"),
            &config(FILE),
            &env,
        )
        .unwrap_err();
        assert_eq!(error.kind, FailureKind::Usage);
        assert!(
            error.what.contains("pinned to region eu-west-1"),
            "{}",
            error.what
        );
        let agreeing = settings("prod", Some("eu-west-1"), &[], FILE);
        assert_eq!(agreeing.region.unwrap().value, "eu-west-1");
        let unprotected = settings(
            "staging",
            Some("us-west-2"),
            &[],
            "[stages.staging]\nregion = \"eu-west-1\"\n",
        );
        assert_eq!(unprotected.region.unwrap().value, "us-west-2");
    }

    #[test]
    fn the_file_beats_the_default() {
        let s = settings("prod", None, &[], FILE);
        assert_eq!(
            s.region.unwrap().source,
            Provenance::ConfigFile("mgrid.toml".into())
        );
        let s = settings("dev", None, &[], FILE);
        assert!(s.region.is_none());
    }

    #[test]
    fn protected_stages_shift_by_a_canary_unless_their_file_says_otherwise() {
        let template = Template::pipeline().unwrap();
        let value = |stage: &str, text: &str, name: &str| {
            settings(stage, None, &[], text)
                .parameters(&template)
                .into_iter()
                .find(|p| p.name == name)
                .map(|p| (p.value, p.source))
                .unwrap()
        };
        let file = || Provenance::ConfigFile("mgrid.toml".into());
        assert_eq!(
            value("prod", "", "DeployStrategy"),
            (
                Some("CodeDeployDefault.LambdaCanary10Percent5Minutes".into()),
                Provenance::Mgrid
            )
        );
        assert_eq!(
            value("dev", "", "DeployStrategy"),
            (
                Some("CodeDeployDefault.LambdaAllAtOnce".into()),
                Provenance::Template
            )
        );
        assert_eq!(
            value(
                "prod",
                "[stages.prod]\ndeploy_strategy = \"linear10-2m\"\n",
                "DeployStrategy"
            ),
            (
                Some("CodeDeployDefault.LambdaLinear10PercentEvery2Minutes".into()),
                file()
            )
        );
        assert_eq!(
            value(
                "prod",
                "[stages.prod]\ndeploy_alarms = [\"dlq-not-empty\", \"oldest-webhook-age\"]\n",
                "DeployAlarms"
            ),
            (Some("dlq-not-empty,oldest-webhook-age".into()), file())
        );
        assert_eq!(
            value(
                "prod",
                "[stages.prod]\ndeploy_alarms = []\n",
                "DeployAlarms"
            ),
            (Some(String::new()), file())
        );
        let error = Config::parse("[stages.prod]\ndeploy_strategy = \"canary\"\n").unwrap_err();
        assert!(error.message.contains("canary10-5m"), "{}", error.message);
        let error =
            Config::parse("[stages.prod]\ndeploy_alarms = [\"archiver-errors\"]\n").unwrap_err();
        assert!(
            error.message.contains("processor-errors"),
            "{}",
            error.message
        );
    }

    #[test]
    fn functions_run_on_arm64_unless_the_stage_chooses_x86_64() {
        let template = Template::pipeline().unwrap();
        let architecture = |text: &str| {
            settings("prod", None, &[], text)
                .parameters(&template)
                .into_iter()
                .find(|p| p.name == "Architecture")
                .map(|p| (p.value, p.source))
                .unwrap()
        };
        assert_eq!(
            architecture(""),
            (Some("arm64".into()), Provenance::Template)
        );
        assert_eq!(
            architecture("[stages.prod]\narchitecture = \"x86_64\"\n"),
            (
                Some("x86_64".into()),
                Provenance::ConfigFile("mgrid.toml".into())
            )
        );
        let error = Config::parse("[stages.prod]\narchitecture = \"amd64\"\n").unwrap_err();
        assert!(error.message.contains("arm64"), "{}", error.message);
    }

    #[test]
    fn a_malformed_region_in_the_environment_is_refused() {
        let env: BTreeMap<&str, &str> = [("AWS_REGION", "europe")].into_iter().collect();
        let error =
            StageSettings::resolve("dev".parse().unwrap(), None, &config(""), &env).unwrap_err();
        assert_eq!(error.kind, FailureKind::Usage);
        assert!(error.what.contains("AWS_REGION"));
    }

    #[test]
    fn prod_is_protected_unless_the_file_says_otherwise() {
        assert!(settings("prod", None, &[], "").protected.value);
        assert!(!settings("staging", None, &[], "").protected.value);
        assert!(
            !settings("prod", None, &[], "[stages.prod]\nprotected = false\n")
                .protected
                .value
        );
        assert!(
            settings("staging", None, &[], "[stages.staging]\nprotected = true\n")
                .protected
                .value
        );
    }

    #[test]
    fn file_settings_become_parameters_and_the_rest_are_template_defaults() {
        let template = Template::pipeline().unwrap();
        let parameters = settings("prod", None, &[], FILE).parameters(&template);
        let find = |name: &str| parameters.iter().find(|p| p.name == name).unwrap().clone();
        assert_eq!(find("ProcessorMemory").value.as_deref(), Some("2048"));
        assert_eq!(
            find("ProcessorMemory").source,
            Provenance::ConfigFile("mgrid.toml".into())
        );
        assert_eq!(find("LogRetentionDays").value.as_deref(), Some("30"));
        assert_eq!(find("LogRetentionDays").source, Provenance::Template);
        assert_eq!(find("Stage").value.as_deref(), Some("prod"));
        assert_eq!(find("Protected").value.as_deref(), Some("true"));
        assert_eq!(find("ArtifactKey").value, None);
        assert_eq!(find("ArtifactKey").source, Provenance::Deploy);
        assert_eq!(parameters.len(), template.parameters().len());
    }

    #[test]
    fn every_parameter_the_stage_sets_exists_in_the_template() {
        let template = Template::pipeline().unwrap();
        let s = settings(
            "prod",
            None,
            &[],
            "[stages.prod]\nprovisioned_concurrency = { min = 1, max = 2 }\nalarm_email = \"a@b.co\"\n\
             custom_domain = { domain_name = \"a.example.com\", hosted_zone_id = \"Z1\", certificate_arn = \"arn:aws:acm:us-east-1:1:certificate/x\" }\n\
             processor_memory_mb = 256\nprocessor_max_concurrency = 5\nwaf_rate_limit = 100\nlog_retention_days = 7\n",
        );
        for name in s.overrides().keys() {
            assert!(
                template.parameter(name).is_some(),
                "{name} is not a template parameter"
            );
        }
    }

    #[test]
    fn mgrid_tags_every_stack_with_its_stage() {
        let s = settings(
            "dev",
            None,
            &[],
            "[stages.dev]\ntags = { team = \"payments\" }\n",
        );
        assert_eq!(s.tags["marketgrid:stage"], "dev");
        assert_eq!(s.tags["managed-by"], "mgrid");
        assert_eq!(s.tags["team"], "payments");
    }
}
