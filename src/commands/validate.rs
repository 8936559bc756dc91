//! `mgrid validate`: checks a stage's configuration against the template offline, and says
//! what a deploy would create (parameters, optional parts, resources) before any AWS call.

use std::collections::BTreeMap;
use std::fmt;

use anyhow::Result;
use mgrid_contract::StageName;
use serde::Serialize;

use crate::commands::context::Context;
use crate::decide::config::certificate_region;
use crate::decide::stage::{ParameterValue, Provenance, Sourced, StageSettings};
use crate::decide::template::Template;
use crate::failure::{Failure, FailureKind};
use crate::text::{BOLD, ERROR, GOOD, table};
use crate::ui::output::{print_report, warn};

#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct ValidationReport {
    pub stages: Vec<StageValidation>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct StageValidation {
    pub stage: StageName,
    pub stack_name: String,
    pub protected: Sourced<bool>,
    pub region: Option<Sourced<String>>,
    pub profile: Option<Sourced<String>>,
    pub account_id: Option<Sourced<String>>,
    pub parameters: Vec<ParameterValue>,
    pub optional_parts: Vec<OptionalPart>,
    pub resources: ResourceCount,
    pub tags: BTreeMap<String, String>,
    pub warnings: Vec<String>,
    pub problems: Vec<String>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct OptionalPart {
    pub name: &'static str,
    pub enabled: bool,
    pub detail: Option<String>,
}

#[derive(Debug, Default, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ResourceCount {
    pub total: usize,
    pub by_type: BTreeMap<String, usize>,
}

pub fn run(context: &Context) -> Result<()> {
    let template = Template::pipeline()?;
    let stages: Vec<StageName> = match &context.global.stage {
        Some(stage) => vec![stage.clone()],
        None => context.config.file.stages.keys().cloned().collect(),
    };
    if stages.is_empty() {
        return Err(Failure::new(
            FailureKind::Usage,
            "nothing to validate: no --stage given and no stage is configured",
        )
        .next("pass --stage <name> (unset settings take the template's defaults), or add [stages.<name>] to mgrid.toml")
        .into());
    }
    let mut report = ValidationReport { stages: Vec::new() };
    for stage in stages {
        let settings = context.settings(stage)?;
        let mut validation = validate_stage(&settings, &template);
        // The local stage takes no section (mgrid.toml refuses one): say nothing of it.
        if context.config.path.is_some()
            && context.config.stage(&settings.stage).is_none()
            && settings.stage.as_str() != crate::decide::config::LOCAL_STAGE
        {
            validation.warnings.push(format!(
                "the configuration file has no [stages.{}] section: every setting takes its default",
                settings.stage
            ));
        }
        report.stages.push(validation);
    }
    print_report(&report, context.global.output)?;
    if context.global.output == crate::ui::output::OutputFormat::Text {
        for stage in &report.stages {
            for warning in &stage.warnings {
                warn(&format!("stage {}: {warning}", stage.stage));
            }
        }
    }
    let invalid = report
        .stages
        .iter()
        .filter(|s| !s.problems.is_empty())
        .count();
    if invalid > 0 {
        return Err(Failure::new(
            FailureKind::Failed,
            format!(
                "{invalid} of {} stage(s) would not deploy",
                report.stages.len()
            ),
        )
        .next("fix the problems listed above in mgrid.toml, then run `mgrid validate` again")
        .into());
    }
    Ok(())
}

/// Everything that can be known about a deploy of this stage without calling AWS.
pub fn validate_stage(settings: &StageSettings, template: &Template) -> StageValidation {
    let parameters = settings.parameters(template);
    let mut problems = Vec::new();
    let mut warnings = Vec::new();

    for parameter in &parameters {
        let (Some(value), Some(spec)) = (&parameter.value, template.parameter(&parameter.name))
        else {
            continue;
        };
        if let Err(problem) = spec.check(value) {
            problems.push(problem);
        }
    }

    let values: BTreeMap<String, String> = parameters
        .iter()
        .filter_map(|p| p.value.clone().map(|v| (p.name.clone(), v)))
        .collect();
    let (optional_parts, resources) = match template.evaluate_conditions(&values) {
        Ok(conditions) => (
            optional_parts(settings, &parameters, &conditions),
            count_resources(template, &conditions),
        ),
        Err(error) => {
            problems.push(error.to_string());
            (Vec::new(), ResourceCount::default())
        }
    };

    if let (Some(domain), Some(region)) = (&settings.file.custom_domain, &settings.region)
        && let Some(certificate_region) = certificate_region(&domain.certificate_arn)
        && certificate_region != region.value
    {
        problems.push(format!(
            "custom_domain.certificate_arn is in {certificate_region} but the stage deploys to {}: \
             a regional API needs a certificate from its own region",
            region.value
        ));
    }
    if settings.region.is_none() {
        warnings.push(
            "no region set (--region, AWS_REGION or region in mgrid.toml): deploy uses the AWS profile's region"
                .to_owned(),
        );
    }
    if settings.protected.value && settings.account_id.is_none() {
        warnings.push(
            "protected stage without account_id: set account_id in mgrid.toml so deploy refuses any other account"
                .to_owned(),
        );
    }
    let value = |name: &str| {
        parameters
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| p.value.clone())
            .unwrap_or_default()
    };
    let strategy = strategy_of(&parameters);
    let guards = value("DeployAlarms");
    if settings.stage.as_str() == crate::decide::config::LOCAL_STAGE {
        warnings.push(
            "the local stage (`mgrid dev`) runs one processor build, so it has no traffic shift: deploy_strategy and deploy_alarms apply to the AWS stages"
                .to_owned(),
        );
    } else {
        if settings.protected.value
            && strategy == Some(crate::decide::shift::DeployStrategy::AllAtOnce)
        {
            warnings.push(
                "protected stage with deploy_strategy = \"all-at-once\": a bad processor release reaches every webhook at once"
                    .to_owned(),
            );
        }
        if guards.is_empty() {
            warnings.push(
                "deploy_alarms is empty: nothing stops a processor traffic shift but `mgrid deploy --rollback`"
                    .to_owned(),
            );
        }
    }
    if settings.protected.value && settings.file.alarm_email.is_none() {
        warnings.push(
            "protected stage without alarm_email: its alarms notify a topic nobody subscribes to"
                .to_owned(),
        );
    }

    StageValidation {
        stage: settings.stage.clone(),
        stack_name: settings.stack_name.clone(),
        protected: settings.protected.clone(),
        region: settings.region.clone(),
        profile: settings.profile.clone(),
        account_id: settings.account_id.clone(),
        parameters,
        optional_parts,
        resources,
        tags: settings.tags.clone(),
        warnings,
        problems,
    }
}

fn optional_parts(
    settings: &StageSettings,
    parameters: &[ParameterValue],
    conditions: &BTreeMap<String, bool>,
) -> Vec<OptionalPart> {
    let strategy = strategy_of(parameters);
    let on = |condition: &str| conditions.get(condition).copied().unwrap_or(false);
    let file = &settings.file;
    vec![
        OptionalPart {
            name: "provisioned concurrency",
            enabled: on("UseProvisionedConcurrency"),
            detail: file.provisioned_concurrency.map(|pc| {
                format!(
                    "{}..{} instances, auto-scaled at 70% utilisation",
                    pc.min, pc.max
                )
            }),
        },
        OptionalPart {
            name: "alarm e-mail",
            enabled: on("HasAlarmEmail"),
            detail: file.alarm_email.as_ref().map(|e| e.0.clone()),
        },
        OptionalPart {
            name: "custom domain",
            enabled: on("HasCustomDomain"),
            detail: file.custom_domain.as_ref().map(|d| d.domain_name.clone()),
        },
        OptionalPart {
            name: "gradual processor deploys",
            enabled: strategy.is_some_and(|s| s != crate::decide::shift::DeployStrategy::AllAtOnce),
            detail: strategy.map(|s| format!("{}: {}", s.name(), s.describe())),
        },
        OptionalPart {
            name: "ledger deletion protection",
            enabled: on("IsProtected"),
            detail: None,
        },
    ]
}

/// The stage's deploy strategy, as its parameters set it.
fn strategy_of(parameters: &[ParameterValue]) -> Option<crate::decide::shift::DeployStrategy> {
    parameters
        .iter()
        .find(|p| p.name == "DeployStrategy")
        .and_then(|p| p.value.as_deref())
        .and_then(crate::decide::shift::DeployStrategy::from_codedeploy_name)
}

fn count_resources(template: &Template, conditions: &BTreeMap<String, bool>) -> ResourceCount {
    let mut count = ResourceCount::default();
    for (_, definition) in template.resources_created(conditions) {
        count.total += 1;
        *count
            .by_type
            .entry(Template::resource_type(definition).to_owned())
            .or_default() += 1;
    }
    count
}

impl fmt::Display for ValidationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, stage) in self.stages.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{stage}")?;
        }
        Ok(())
    }
}

impl fmt::Display for StageValidation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let protection = if self.protected.value {
            "protected"
        } else {
            "not protected"
        };
        let why = match &self.protected.source {
            Provenance::Mgrid => "only prod is protected by default".to_owned(),
            other => other.to_string(),
        };
        writeln!(
            f,
            "{BOLD}stage {}{BOLD:#}  stack {}, {protection} ({why})",
            self.stage, self.stack_name
        )?;
        match &self.region {
            Some(region) => writeln!(f, "region   {} ({})", region.value, region.source)?,
            None => writeln!(f, "region   the AWS profile's")?,
        }
        match &self.profile {
            Some(profile) => writeln!(f, "profile  {} ({})", profile.value, profile.source)?,
            None => writeln!(f, "profile  the SDK's default")?,
        }
        match &self.account_id {
            Some(account) => writeln!(f, "account  {} ({})", account.value, account.source)?,
            None => writeln!(f, "account  any (no account_id configured)")?,
        }
        let tags: Vec<String> = self.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
        writeln!(f, "tags     {}", tags.join(", "))?;

        let mut parameters = table(&["parameter", "value", "from"]);
        for parameter in &self.parameters {
            let value = match &parameter.value {
                Some(value) if value.is_empty() => "\"\"".to_owned(),
                Some(value) => value.clone(),
                None => "-".to_owned(),
            };
            parameters.add_row(vec![
                parameter.name.clone(),
                value,
                parameter.source.to_string(),
            ]);
        }
        writeln!(f, "\n{parameters}")?;

        let mut parts = table(&["optional part", "state", "detail"]);
        for part in &self.optional_parts {
            parts.add_row(vec![
                part.name.to_owned(),
                if part.enabled { "on" } else { "off" }.to_owned(),
                part.detail.clone().unwrap_or_default(),
            ]);
        }
        writeln!(f, "\n{parts}")?;

        let mut by_type: Vec<(&String, &usize)> = self.resources.by_type.iter().collect();
        by_type.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let by_type: Vec<String> = by_type.iter().map(|(t, n)| format!("{n} {t}")).collect();
        writeln!(f, "\nresources  {} in all", self.resources.total)?;
        for line in wrap(&by_type, 88) {
            writeln!(f, "           {line}")?;
        }

        // Warnings go to stderr (`run` prints them there), like every other warning of mgrid.
        if self.problems.is_empty() && self.stage.as_str() == crate::decide::config::LOCAL_STAGE {
            writeln!(
                f,
                "{GOOD}ok:{GOOD:#} the local stage's settings are valid; `mgrid dev` runs it (nothing is deployed)"
            )
        } else if self.problems.is_empty() {
            writeln!(f, "{GOOD}ok:{GOOD:#} stage {} would deploy", self.stage)
        } else {
            for problem in &self.problems {
                writeln!(f, "{ERROR}problem:{ERROR:#} {problem}")?;
            }
            Ok(())
        }
    }
}

/// Joins items with ", " into lines of at most `width` characters.
fn wrap(items: &[String], width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for item in items {
        if !line.is_empty() && line.len() + item.len() + 2 > width {
            lines.push(std::mem::take(&mut line) + ",");
        } else if !line.is_empty() {
            line.push_str(", ");
        }
        line.push_str(item);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod snapshots {
    use std::collections::BTreeMap;

    use super::*;
    use crate::decide::config::Config;
    use crate::text::plain;

    #[test]
    fn a_configured_stage() {
        let file = Config::parse(
            "[stages.prod]\nregion = \"eu-west-1\"\naccount_id = \"123456789012\"\n\
             processor_memory_mb = 2048\ntags = { team = \"payments\" }\n",
        )
        .expect("a valid configuration");
        let config = Config {
            path: Some("mgrid.toml".into()),
            file,
        };
        let settings = StageSettings::resolve(
            "prod".parse().expect("a stage name"),
            None,
            &config,
            &BTreeMap::<&str, &str>::new(),
        )
        .expect("settings");
        let template = Template::pipeline().expect("the embedded template");
        let report = ValidationReport {
            stages: vec![validate_stage(&settings, &template)],
        };
        insta::assert_snapshot!("validate_prod", plain(&report));
        insta::assert_snapshot!(
            "validate_prod_80_columns",
            crate::text::at_80_columns(&report)
        );
        crate::ui::output::assert_json_contract("validate", &report);
    }
}
