//! `mgrid template`: the embedded template exactly as a deploy uses it, with the parameter
//! values a stage passes to it.

use anyhow::Result;
use serde::Serialize;

use crate::cli::{TemplateArgs, TemplateFormat};
use crate::commands::context::Context;
use crate::decide::stage::ParameterValue;
use crate::decide::template::{PIPELINE_YAML, Template};
use crate::ui::output::{OutputFormat, note, write_stdout};

#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
struct TemplateReport<'a> {
    stage: Option<String>,
    stack_name: Option<String>,
    parameters: Option<&'a [ParameterValue]>,
    template: &'a serde_json::Value,
}

pub fn run(context: &Context, args: &TemplateArgs) -> Result<()> {
    let template = Template::pipeline()?;
    let settings = match &context.global.stage {
        Some(stage) => Some(context.settings(stage.clone())?),
        None => None,
    };
    let parameters = settings.as_ref().map(|s| s.parameters(&template));
    match (context.global.output, args.format) {
        (OutputFormat::Json, _) => {
            let report = TemplateReport {
                stage: settings.as_ref().map(|s| s.stage.to_string()),
                stack_name: settings.as_ref().map(|s| s.stack_name.clone()),
                parameters: parameters.as_deref(),
                template: template.model(),
            };
            write_stdout(&format!("{}\n", serde_json::to_string_pretty(&report)?))?;
        }
        (OutputFormat::Text, TemplateFormat::Yaml) => {
            let header = match (&settings, &parameters) {
                (Some(s), Some(p)) => parameter_comment(&s.stack_name, p),
                _ => String::new(),
            };
            write_stdout(&format!("{header}{PIPELINE_YAML}"))?;
        }
        (OutputFormat::Text, TemplateFormat::Json) => {
            if let (Some(s), Some(p)) = (&settings, &parameters) {
                note(parameter_comment(&s.stack_name, p).trim_end());
            }
            write_stdout(&format!("{}\n", template.to_json_pretty()))?;
        }
    }
    Ok(())
}

/// The stage's parameter values as YAML comments, so the output stays a valid template.
fn parameter_comment(stack_name: &str, parameters: &[ParameterValue]) -> String {
    let width = parameters.iter().map(|p| p.name.len()).max().unwrap_or(0);
    let mut text = format!("# Stack {stack_name}: the parameter values `mgrid deploy` passes\n");
    for parameter in parameters {
        let value = match &parameter.value {
            Some(value) if value.is_empty() => "\"\"".to_owned(),
            Some(value) => value.clone(),
            None => "<from the embedded artifact>".to_owned(),
        };
        text.push_str(&format!(
            "#   {:width$} = {value}  ({})\n",
            parameter.name, parameter.source
        ));
    }
    text.push_str("#\n");
    text
}
