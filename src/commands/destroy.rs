//! `mgrid destroy`: deletes a stage. It first shows what will be deleted and what is retained
//! (the ledger, the archive and the key keep the stage's data), warns about webhooks still in
//! its queues, and asks for the stage's name. Afterwards it lists the retained resources and how
//! to remove them, for when that is really meant.

use std::fmt;
use std::io::IsTerminal;

use anyhow::Result;
use aws_sdk_sqs::types::QueueAttributeName;
use mgrid_contract::{StageName, StageParameter};
use serde::Serialize;

use crate::aws::Aws;
use crate::aws::stack::Stacks;
use crate::cli::DestroyArgs;
use crate::commands::Context;
use crate::failure::{Failure, FailureKind};
use crate::lifecycle::model::StackResource;
use crate::output::{BOLD, WARNING, note, print_report};
use crate::template::Template;
use crate::terminal::verbose_calls;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DestroyReport {
    pub stage: String,
    pub stack_name: String,
    pub region: String,
    pub deleted: usize,
    pub retained: Vec<StackResource>,
    /// The stage's key rings in SSM: `mgrid keys` wrote them, so the stack leaves them.
    pub key_rings: Vec<String>,
    /// How to remove each retained thing, for this region and profile.
    pub removal_commands: Vec<String>,
    pub api_calls: usize,
}

/// The logical ids the template retains when a created stack is deleted (RetainExceptOnCreate
/// deletes only on the rollback of a failed first create, which is not a destroy).
fn retained_ids(template: &Template) -> Vec<String> {
    template
        .resources()
        .filter(|(_, d)| {
            matches!(
                d["DeletionPolicy"].as_str(),
                Some("Retain" | "RetainExceptOnCreate")
            )
        })
        .map(|(id, _)| id.to_owned())
        .collect()
}

pub async fn run(context: &Context, args: &DestroyArgs) -> Result<()> {
    let stage = context.deployed_stage("destroy")?;
    let settings = context.settings(stage.clone())?;
    let protected = settings.protected.value;
    if protected && !args.force {
        return Err(Failure::new(
            FailureKind::Declined,
            format!("{stage} is a protected stage; nothing was deleted"),
        )
        .next(format!(
            "if it really must go, run `mgrid destroy --stage {stage} --force` (and confirm)"
        ))
        .into());
    }
    let aws = context.connect(&settings).await?;
    let stacks = Stacks::new(aws.cloudformation());
    let stack = stacks
        .deployed(&settings.stack_name, stage.as_str(), &aws.region)
        .await?;
    let resources = stacks.resources(&stack.name).await?;
    let template =
        Template::pipeline().map_err(|e| Failure::new(FailureKind::Failed, e.to_string()))?;
    let keep = retained_ids(&template);
    let (retained, deleted): (Vec<StackResource>, Vec<StackResource>) = resources
        .into_iter()
        .partition(|r| keep.contains(&r.logical_id));

    let mut plan = format!(
        "{BOLD}destroy {stage}{BOLD:#} ({} in {}): deletes {} resources, retains {}:\n",
        stack.name,
        aws.region,
        deleted.len(),
        retained.len()
    );
    for resource in &retained {
        plan.push_str(&format!(
            "  keeps {} {}\n",
            resource.resource_type,
            resource
                .physical_id
                .as_deref()
                .unwrap_or(&resource.logical_id)
        ));
    }
    let key_rings = match crate::aws::parameters::key_rings(&aws.ssm(), &stage).await {
        Ok(rings) => rings,
        Err(error) => {
            plan.push_str(&format!(
                "{WARNING}warning:{WARNING:#} could not list the stage's key rings ({error}); they stay in SSM\n"
            ));
            Vec::new()
        }
    };
    if !key_rings.is_empty() {
        plan.push_str(&format!(
            "  keeps {} SSM key ring(s) (API keys, signing secrets): {}\n",
            key_rings.len(),
            key_rings.join(", ")
        ));
    }
    for warning in queued_webhooks(&aws, &stage).await {
        plan.push_str(&format!("{WARNING}warning:{WARNING:#} {warning}\n"));
    }
    note(plan.trim_end());
    confirm_destroy(&stage, context.global.yes)?;

    if stack.termination_protection {
        stacks
            .set_termination_protection(&stack.name, false)
            .await?;
    }
    stacks.delete_stack(&stack.name).await?;
    note(&format!("deleting {} …", stack.name));
    let waited = tokio::select! {
        result = crate::aws::stack::wait_until_deleted(&stacks, &stack.name) => result,
        _ = tokio::signal::ctrl_c() => {
            return Err(Failure::new(FailureKind::Interrupted, format!("stopped watching; {} keeps deleting", stack.name))
                .next("`mgrid stages` shows when it is gone").into());
        }
    };
    waited?;
    let scope = cli_scope(&aws.region, context.global.profile.as_deref());
    let report = DestroyReport {
        stage: stage.to_string(),
        stack_name: stack.name,
        region: aws.region.clone(),
        deleted: deleted.len(),
        removal_commands: removal_commands(&retained, &key_rings, &scope),
        retained,
        key_rings,
        api_calls: aws.calls(),
    };
    verbose_calls(context.global.verbose > 0, aws.calls());
    print_report(&report, context.global.output)?;
    Ok(())
}

/// Webhooks still waiting in the stage's queues would be lost with them.
async fn queued_webhooks(aws: &Aws, stage: &StageName) -> Vec<String> {
    let Ok(parameters) = crate::aws::parameters::stage_parameters(&aws.ssm(), stage).await else {
        return vec![
            "could not read the stage's queue names to check them for waiting webhooks".into(),
        ];
    };
    let sqs = aws.sqs();
    let mut warnings = Vec::new();
    for (parameter, what) in [
        (StageParameter::QueueUrl, "webhook queue"),
        (StageParameter::DlqUrl, "dead-letter queue"),
    ] {
        let Some(url) = parameters.get(&parameter) else {
            continue;
        };
        let depth = sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .ok()
            .and_then(|o| o.attributes().cloned())
            .map(|a| {
                a.values()
                    .filter_map(|v| v.parse::<u64>().ok())
                    .sum::<u64>()
            })
            .unwrap_or(0);
        if depth > 0 {
            warnings.push(format!(
                "the {what} holds about {depth} webhooks; they are deleted with it"
            ));
        }
    }
    warnings
}

fn confirm_destroy(stage: &StageName, yes: bool) -> Result<(), Failure> {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(Failure::new(
            FailureKind::Declined,
            "no terminal to confirm on; nothing was deleted",
        )
        .next("pass --yes to destroy without a prompt"));
    }
    eprint!("Type the stage name ({stage}) to destroy it: ");
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(|e| Failure::new(FailureKind::Failed, e.to_string()))?;
    if answer.trim() != stage.as_str() {
        return Err(Failure::new(
            FailureKind::Declined,
            "the name did not match; nothing was deleted",
        ));
    }
    Ok(())
}

/// ` --region R [--profile P]`: the AWS CLI commands act where the stage was.
fn cli_scope(region: &str, profile: Option<&str>) -> String {
    match profile {
        Some(profile) => format!(" --region {region} --profile {profile}"),
        None => format!(" --region {region}"),
    }
}

/// The AWS CLI commands that remove what the stage kept, each scoped to its region and profile.
fn removal_commands(retained: &[StackResource], key_rings: &[String], scope: &str) -> Vec<String> {
    let mut commands: Vec<String> = retained
        .iter()
        .filter_map(|resource| {
            let id = resource
                .physical_id
                .as_deref()
                .unwrap_or(&resource.logical_id);
            Some(match resource.resource_type.as_str() {
                "AWS::DynamoDB::Table" => format!(
                    "aws dynamodb update-table --table-name {id} --no-deletion-protection-enabled{scope} && aws dynamodb delete-table --table-name {id}{scope}"
                ),
                "AWS::S3::Bucket" => format!(
                    "aws s3 rm s3://{id} --recursive{scope} (and every object version) && aws s3api delete-bucket --bucket {id}{scope}"
                ),
                "AWS::KMS::Key" => format!(
                    "aws kms schedule-key-deletion --key-id {id} --pending-window-in-days 30{scope} (only once nothing it encrypts is needed)"
                ),
                _ => return None,
            })
        })
        .collect();
    if !key_rings.is_empty() {
        commands.push(format!(
            "aws ssm delete-parameters --names {}{scope}",
            key_rings.join(" ")
        ));
    }
    commands
}

impl fmt::Display for DestroyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "destroyed {} in {}: {} resources deleted",
            self.stack_name, self.region, self.deleted
        )?;
        if self.retained.is_empty() && self.key_rings.is_empty() {
            return Ok(());
        }
        writeln!(
            f,
            "retained (they keep the stage's data and keys; remove them only if that is really meant):"
        )?;
        for resource in &self.retained {
            let id = resource
                .physical_id
                .as_deref()
                .unwrap_or(&resource.logical_id);
            writeln!(f, "  {} {id}", resource.resource_type)?;
        }
        for ring in &self.key_rings {
            writeln!(f, "  SSM key ring {ring}")?;
        }
        writeln!(f, "to remove them:")?;
        for command in &self.removal_commands {
            writeln!(f, "  {command}")?;
        }
        Ok(())
    }
}
