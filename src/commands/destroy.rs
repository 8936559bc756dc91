//! `mgrid destroy`: deletes a stage. It first shows what will be deleted and what is retained
//! (the ledger, the archive and the key keep the stage's data), warns about webhooks still in
//! its queues, and asks for the stage's name. Afterwards it lists the retained resources and how
//! to remove them, for when that is really meant.

use std::fmt;

use anyhow::Result;
use serde::Serialize;

use crate::cli::DestroyArgs;
use crate::commands::context::Context;
use crate::commands::flow::{Ask, Outcome, Plan, Run, carry_out};
use crate::decide::lifecycle::model::StackResource;
use crate::decide::template::Template;
use crate::failure::{Failure, FailureKind};
use crate::target::Target;
use crate::text::{BOLD, WARNING};
use crate::ui::output::note;
use crate::ui::terminal::verbose_calls;
use crate::ui::terminal::{Interrupted, unless_interrupted};

#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
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

/// What a destroy would do, read before anything is deleted: shown first, and all that
/// `--dry-run` does.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct DestroyPlan {
    pub stage: String,
    pub stack_name: String,
    pub region: String,
    pub termination_protection: bool,
    pub deletes: usize,
    pub retains: Vec<StackResource>,
    /// The stage's key rings in SSM: `mgrid keys` wrote them, so the stack leaves them.
    pub key_rings: Vec<String>,
    /// What could be lost, or could not be checked.
    pub warnings: Vec<String>,
    pub dry_run: bool,
}

impl fmt::Display for DestroyPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{BOLD}destroy {}{BOLD:#} ({} in {}): deletes {} resources, retains {}:",
            self.stage,
            self.stack_name,
            self.region,
            self.deletes,
            self.retains.len()
        )?;
        for resource in &self.retains {
            writeln!(
                f,
                "  keeps {} {}",
                resource.resource_type,
                physical_id(resource)
            )?;
        }
        if !self.key_rings.is_empty() {
            writeln!(
                f,
                "  keeps {} SSM key ring(s) (API keys, signing secrets): {}",
                self.key_rings.len(),
                self.key_rings.join(", ")
            )?;
        }
        for warning in &self.warnings {
            writeln!(f, "{WARNING}warning:{WARNING:#} {warning}")?;
        }
        if self.dry_run {
            writeln!(f, "dry run: nothing was deleted")?;
        }
        Ok(())
    }
}

fn physical_id(resource: &StackResource) -> &str {
    resource
        .physical_id
        .as_deref()
        .unwrap_or(&resource.logical_id)
}

pub async fn run(context: &Context, args: &DestroyArgs) -> Result<()> {
    let stage = context.deployed_stage("destroy")?;
    let target = context.target_of(stage.clone()).await?;
    let Target::Aws(stage_target) = &target else {
        return Err(Failure::new(FailureKind::Usage, "the local stage is not deployed").into());
    };
    let aws = &stage_target.aws;
    let protected = target.protected();
    if protected && !args.force && !args.dry_run {
        return Err(Failure::new(
            FailureKind::Declined,
            format!("{stage} is a protected stage; nothing was deleted"),
        )
        .next(format!(
            "if it really must go, run `mgrid destroy --stage {stage} --force` (and confirm)"
        ))
        .into());
    }
    // Fetch.
    let stacks = aws.stacks();
    let stack = stacks
        .deployed(
            &stage_target.settings.stack_name,
            stage.as_str(),
            &aws.region,
        )
        .await?;
    let resources = stacks.resources(&stack.name).await?;
    let template =
        Template::pipeline().map_err(|e| Failure::new(FailureKind::Failed, e.to_string()))?;
    let mut warnings = Vec::new();
    let key_rings = match aws.key_ring_names(&stage).await {
        Ok(rings) => rings,
        Err(error) => {
            warnings.push(format!(
                "could not list the stage's key rings ({}); they stay in SSM",
                error.what
            ));
            Vec::new()
        }
    };
    warnings.extend(queued_webhooks(&target).await);
    // Decide.
    let keep = retained_ids(&template);
    let (retained, deleted): (Vec<StackResource>, Vec<StackResource>) = resources
        .into_iter()
        .partition(|r| keep.contains(&r.logical_id));
    let plan = DestroyPlan {
        stage: stage.to_string(),
        stack_name: stack.name.clone(),
        region: aws.region.clone(),
        termination_protection: stack.termination_protection,
        deletes: deleted.len(),
        retains: retained,
        key_rings,
        warnings,
        dry_run: args.dry_run,
    };
    let profile = stage_target
        .settings
        .profile
        .as_ref()
        .map(|p| p.value.clone());
    let watch_limit = std::time::Duration::from_millis(args.watch_limit.0.try_into().unwrap_or(0));
    carry_out(
        context,
        plan,
        Run::plan_only_if(args.dry_run),
        |plan| async move {
            if plan.termination_protection {
                stacks
                    .set_termination_protection(&plan.stack_name, false)
                    .await?;
            }
            stacks.delete_stack(&plan.stack_name).await?;
            note(&format!("deleting {} …", plan.stack_name));
            let deleted =
                crate::aws::stack::wait_until_deleted(&stacks, &plan.stack_name, watch_limit);
            unless_interrupted(deleted).await.map_err(|Interrupted| {
                Failure::new(
                    FailureKind::Interrupted,
                    format!("stopped watching; {} keeps deleting", plan.stack_name),
                )
                .next("`mgrid stages` shows when it is gone")
            })??;
            let scope = cli_scope(&aws.region, profile.as_deref());
            verbose_calls(context.global.verbose > 0, aws.calls());
            Ok(DestroyReport {
                stage: plan.stage,
                stack_name: plan.stack_name,
                region: plan.region,
                deleted: plan.deletes,
                removal_commands: removal_commands(&plan.retains, &plan.key_rings, &scope),
                retained: plan.retains,
                key_rings: plan.key_rings,
                api_calls: aws.calls(),
            })
        },
    )
    .await
}

impl Plan for DestroyPlan {
    fn ask(&self) -> Ask {
        Ask::Name {
            prompt: "Type the stage name to destroy it".into(),
            stage: self.stage.clone(),
        }
    }

    fn declined(&self) -> String {
        "nothing was deleted".into()
    }
}

impl Outcome for DestroyReport {}

/// Webhooks still waiting in the stage's queues would be lost with them; a queue that cannot
/// be read is said so, never counted as empty.
async fn queued_webhooks(target: &Target) -> Vec<String> {
    let mut warnings = Vec::new();
    for (what, depth) in target.queue_depths().await {
        match depth {
            Ok(depth) if depth.visible + depth.in_flight > 0 => warnings.push(format!(
                "the {what} holds about {} webhooks; they are deleted with it",
                depth.visible + depth.in_flight
            )),
            Ok(_) => {}
            Err(error) => warnings.push(format!(
                "could not check the {what} for waiting webhooks ({}); whatever it holds is deleted with it",
                error.what
            )),
        }
    }
    warnings
}

/// ` --region R [--profile P]`: the AWS CLI commands act where the stage was.
fn cli_scope(region: &str, profile: Option<&str>) -> String {
    match profile {
        Some(profile) => format!(" --region {region} --profile {profile}"),
        None => format!(" --region {region}"),
    }
}

/// Deletes a versioned bucket: every object version and delete marker, 1,000 a request, until
/// none is left (`aws s3 rm --recursive` leaves the versions, and the bucket cannot go with
/// them), then the bucket. One line a POSIX shell runs as it is.
fn empty_versioned_bucket(bucket: &str, scope: &str) -> String {
    let list = format!(
        "aws s3api list-object-versions --bucket {bucket} --max-items 1000 --output json \
         --query '{{Objects: [Versions, DeleteMarkers][].{{Key: Key, VersionId: VersionId}}}}'{scope}"
    );
    format!(
        "while v=$({list}) && printf %s \"$v\" | grep -q VersionId; do aws s3api delete-objects --bucket {bucket} --delete \"$v\"{scope} >/dev/null || break; done && aws s3api delete-bucket --bucket {bucket}{scope}"
    )
}

/// The AWS CLI commands that remove what the stage kept, each scoped to its region and profile.
fn removal_commands(retained: &[StackResource], key_rings: &[String], scope: &str) -> Vec<String> {
    let mut commands: Vec<String> = retained
        .iter()
        .filter_map(|resource| {
            let id = physical_id(resource);
            Some(match resource.resource_type.as_str() {
                "AWS::DynamoDB::Table" => format!(
                    "aws dynamodb update-table --table-name {id} --no-deletion-protection-enabled{scope} && aws dynamodb delete-table --table-name {id}{scope}"
                ),
                "AWS::S3::Bucket" => empty_versioned_bucket(id, scope),
                // A trailing shell comment: the line stays one a shell runs as it is.
                "AWS::KMS::Key" => format!(
                    "aws kms schedule-key-deletion --key-id {id} --pending-window-in-days 30{scope} # only once nothing it encrypts is needed"
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
            writeln!(f, "  {} {}", resource.resource_type, physical_id(resource))?;
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

#[cfg(test)]
mod snapshots {
    //! The destroy plan (what `--dry-run` prints) and the report, as a pipe gets them.

    use super::*;
    use crate::text::plain;

    fn retained() -> Vec<StackResource> {
        vec![
            StackResource {
                logical_id: "TransactionsTable".into(),
                physical_id: Some("marketgrid-dev-transactions".into()),
                resource_type: "AWS::DynamoDB::Table".into(),
                status: "CREATE_COMPLETE".into(),
            },
            StackResource {
                logical_id: "ArchiveBucket".into(),
                physical_id: Some("marketgrid-dev-archive-123456789012".into()),
                resource_type: "AWS::S3::Bucket".into(),
                status: "CREATE_COMPLETE".into(),
            },
        ]
    }

    fn rings() -> Vec<String> {
        vec!["/marketgrid/dev/keys/stripe".into()]
    }

    #[test]
    fn plan() {
        let plan = DestroyPlan {
            stage: "dev".into(),
            stack_name: "marketgrid-dev".into(),
            region: "eu-west-1".into(),
            termination_protection: false,
            deletes: 48,
            retains: retained(),
            key_rings: rings(),
            warnings: vec![
                "the dead-letter queue holds about 3 webhooks; they are deleted with it".into(),
            ],
            dry_run: true,
        };
        insta::assert_snapshot!("destroy_plan", plain(&plan));
        insta::assert_snapshot!("destroy_plan_80_columns", crate::text::at_80_columns(&plan));
        crate::ui::output::assert_json_contract("destroy-plan", &plan);
    }

    #[test]
    fn report() {
        let scope = cli_scope("eu-west-1", Some("ops"));
        let report = DestroyReport {
            stage: "dev".into(),
            stack_name: "marketgrid-dev".into(),
            region: "eu-west-1".into(),
            deleted: 48,
            removal_commands: removal_commands(&retained(), &rings(), &scope),
            retained: retained(),
            key_rings: rings(),
            api_calls: 9,
        };
        insta::assert_snapshot!("destroy_report", plain(&report));
        insta::assert_snapshot!(
            "destroy_report_80_columns",
            crate::text::at_80_columns(&report)
        );
        crate::ui::output::assert_json_contract("destroy", &report);
    }
}
