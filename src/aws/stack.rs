//! CloudFormation, in the lifecycle's terms: stacks, change sets, events, resources. Every
//! list paginates; "does not exist" is an answer (None), not an error.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudformation::types::{Capability, ChangeSetStatus, ChangeSetType, Parameter, Tag};
use aws_smithy_runtime_api::http::Response;
use mgrid_contract::EpochMillis;

use super::errors::{self, code, message};
use crate::decide::lifecycle::model::{
    Change, PropertyChange, StackEvent, StackOutput, StackResource, StackState, StageSummary,
};
use crate::failure::{Failure, FailureKind};
use crate::retry::Backoff;

pub struct Stacks {
    client: Client,
}

/// What to ask CloudFormation for.
pub struct ChangeSetRequest<'a> {
    pub stack_name: &'a str,
    pub change_set_name: &'a str,
    pub create: bool,
    pub template_url: &'a str,
    pub parameters: Vec<(String, String)>,
    pub tags: Vec<(String, String)>,
    pub description: &'a str,
}

/// What a change set turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeSetOutcome {
    Ready(Vec<Change>),
    /// No changes: the stack already is what the template and parameters say.
    Empty,
    Failed(String),
}

fn millis(time: Option<&aws_sdk_cloudformation::primitives::DateTime>) -> Option<EpochMillis> {
    time.and_then(|t| t.to_millis().ok())
}

/// CloudFormation models no not-found error: a missing stack is a `ValidationError` whose
/// message says so, and that message is the only signal AWS gives.
/// The failure of the CloudFormation call `action` on `resource`, for `map_err`.
fn failed<E>(action: &str, resource: &str) -> impl FnOnce(SdkError<E, Response>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let (action, resource) = (format!("cloudformation:{action}"), resource.to_owned());
    move |error| errors::failure(&action, &resource, &error)
}

/// How a failure names a change set.
fn change_set(stack: &str, name: &str) -> String {
    format!("change set {name} of {stack}")
}

fn not_found<E: aws_sdk_cloudformation::error::ProvideErrorMetadata, R>(
    error: &aws_sdk_cloudformation::error::SdkError<E, R>,
) -> bool {
    code(error) == Some("ValidationError")
        && message(error).is_some_and(|m| m.contains("does not exist"))
}

impl Stacks {
    pub fn new(client: Client) -> Self {
        Stacks { client }
    }

    /// The stack, or None when there is none by that name.
    pub async fn describe(&self, name: &str) -> Result<Option<StackState>, Failure> {
        let result = self.client.describe_stacks().stack_name(name).send().await;
        let output = match result {
            Ok(output) => output,
            Err(error) if not_found(&error) => return Ok(None),
            Err(error) => {
                return Err(errors::failure(
                    "cloudformation:DescribeStacks",
                    &format!("stack {name}"),
                    &error,
                ));
            }
        };
        let Some(stack) = output.stacks().first() else {
            return Ok(None);
        };
        if stack
            .stack_status()
            .is_some_and(|s| s.as_str() == "DELETE_COMPLETE")
        {
            return Ok(None);
        }
        Ok(Some(StackState {
            name: stack.stack_name().unwrap_or(name).to_owned(),
            id: stack.stack_id().unwrap_or_default().to_owned(),
            status: stack
                .stack_status()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            status_reason: stack.stack_status_reason().map(str::to_owned),
            updated_at: millis(stack.last_updated_time()).or_else(|| millis(stack.creation_time())),
            outputs: stack
                .outputs()
                .iter()
                .map(|o| StackOutput {
                    key: o.output_key().unwrap_or_default().to_owned(),
                    value: o.output_value().unwrap_or_default().to_owned(),
                    description: o.description().map(str::to_owned),
                })
                .collect(),
            parameters: stack
                .parameters()
                .iter()
                .map(|p| {
                    (
                        p.parameter_key().unwrap_or_default().to_owned(),
                        p.parameter_value().unwrap_or_default().to_owned(),
                    )
                })
                .collect(),
            termination_protection: stack.enable_termination_protection().unwrap_or(false),
        }))
    }

    /// The stack of a deployed stage, or a failure that says it is not deployed here.
    pub async fn deployed(
        &self,
        stack_name: &str,
        stage: &str,
        region: &str,
    ) -> Result<StackState, Failure> {
        self.describe(stack_name).await?.ok_or_else(|| {
            Failure::new(FailureKind::NotFound, format!("stage {stage} is not deployed in {region} ({stack_name} does not exist)"))
                .next(format!("`mgrid stages` lists what is deployed here; `mgrid deploy --stage {stage}` deploys it{}", crate::decide::stage::local_hint(stage)))
        })
    }

    pub async fn create_change_set(&self, request: &ChangeSetRequest<'_>) -> Result<(), Failure> {
        let resource = format!("stack {}", request.stack_name);
        self.client
            .create_change_set()
            .stack_name(request.stack_name)
            .change_set_name(request.change_set_name)
            .change_set_type(if request.create { ChangeSetType::Create } else { ChangeSetType::Update })
            .template_url(request.template_url)
            .description(request.description)
            .capabilities(Capability::CapabilityIam)
            .set_parameters(Some(
                request
                    .parameters
                    .iter()
                    .map(|(k, v)| Parameter::builder().parameter_key(k).parameter_value(v).build())
                    .collect(),
            ))
            .set_tags(Some(request.tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()))
            .send()
            .await
            .map(|_| ())
            .map_err(|error| {
                let failure = errors::failure("cloudformation:CreateChangeSet", &resource, &error);
                if code(&error) == Some("ValidationError") {
                    Failure::new(FailureKind::Failed, format!("CloudFormation rejected the change set: {}", message(&error).unwrap_or_default()))
                        .next("if a parameter is named, check --param and mgrid.toml (`mgrid validate` checks offline)")
                } else {
                    failure
                }
            })
    }

    /// Waits for the change set to be computed and reads all its changes (every page). After
    /// `limit` without an answer it stops waiting (exit 8) and leaves the change set where it is.
    pub async fn wait_for_change_set(
        &self,
        stack: &str,
        name: &str,
        limit: Duration,
    ) -> Result<ChangeSetOutcome, Failure> {
        let resource = change_set(stack, name);
        let mut delay = Backoff::new(Duration::from_millis(250), Duration::from_secs(5)).doubling();
        let waiting = std::time::Instant::now();
        loop {
            let mut changes = Vec::new();
            let mut pages = self
                .client
                .describe_change_set()
                .stack_name(stack)
                .change_set_name(name)
                .include_property_values(true)
                .into_paginator()
                .send();
            let mut status = None;
            let mut reason = None;
            while let Some(page) = pages.next().await {
                let page = page.map_err(failed("DescribeChangeSet", &resource))?;
                status = page.status().cloned();
                reason = page.status_reason().map(str::to_owned);
                for change in page.changes() {
                    if let Some(rc) = change.resource_change() {
                        changes.push(Change {
                            action: rc
                                .action()
                                .map(|a| a.as_str().to_owned())
                                .unwrap_or_default(),
                            logical_id: rc.logical_resource_id().unwrap_or_default().to_owned(),
                            resource_type: rc.resource_type().unwrap_or_default().to_owned(),
                            physical_id: rc.physical_resource_id().map(str::to_owned),
                            replacement: rc.replacement().map(|r| r.as_str().to_owned()),
                            properties: property_changes(rc.details()),
                        });
                    }
                }
            }
            match status {
                Some(ChangeSetStatus::CreateComplete) => {
                    return Ok(ChangeSetOutcome::Ready(changes));
                }
                Some(ChangeSetStatus::Failed) => {
                    let reason = reason.unwrap_or_default();
                    let empty = reason.contains("didn't contain changes")
                        || reason.contains("No updates are to be performed");
                    return Ok(if empty {
                        ChangeSetOutcome::Empty
                    } else {
                        ChangeSetOutcome::Failed(reason)
                    });
                }
                other => {
                    if waiting.elapsed() >= limit {
                        let status = other.map(|s| s.as_str().to_owned()).unwrap_or_default();
                        return Err(Failure::new(
                            FailureKind::Pending,
                            format!(
                                "stopped waiting after {}: CloudFormation has not finished computing {resource} (it is {status}); nothing was executed",
                                typed(limit)
                            ),
                        )
                        .next(format!(
                            "the change set is left as it is: `aws cloudformation describe-change-set --stack-name {stack} --change-set-name {name}` shows it, and once it is CREATE_COMPLETE `mgrid deploy --execute {name}` reviews and executes it"
                        )));
                    }
                    tokio::time::sleep(delay.next_wait().min(limit)).await;
                }
            }
        }
    }

    pub async fn delete_change_set(&self, stack: &str, name: &str) -> Result<(), Failure> {
        self.client
            .delete_change_set()
            .stack_name(stack)
            .change_set_name(name)
            .send()
            .await
            .map(|_| ())
            .map_err(failed("DeleteChangeSet", &change_set(stack, name)))
    }

    pub async fn execute_change_set(&self, stack: &str, name: &str) -> Result<(), Failure> {
        self.client
            .execute_change_set()
            .stack_name(stack)
            .change_set_name(name)
            .send()
            .await
            .map(|_| ())
            .map_err(failed("ExecuteChangeSet", &change_set(stack, name)))
    }

    /// The stack's events newer than `after` (an event id), oldest first. Reads pages (newest
    /// first) only until it meets `after` or an event older than `since`.
    pub async fn events_since(
        &self,
        stack: &str,
        after: Option<&str>,
        since: EpochMillis,
    ) -> Result<Vec<StackEvent>, Failure> {
        let mut events = Vec::new();
        let mut pages = self
            .client
            .describe_stack_events()
            .stack_name(stack)
            .into_paginator()
            .send();
        'pages: while let Some(page) = pages.next().await {
            let page = page.map_err(failed("DescribeStackEvents", &format!("stack {stack}")))?;
            for event in page.stack_events() {
                let id = event.event_id().unwrap_or_default();
                let timestamp = millis(event.timestamp()).unwrap_or(0);
                if Some(id) == after || timestamp < since {
                    break 'pages;
                }
                events.push(StackEvent {
                    event_id: id.to_owned(),
                    timestamp,
                    logical_id: event.logical_resource_id().unwrap_or_default().to_owned(),
                    resource_type: event.resource_type().unwrap_or_default().to_owned(),
                    status: event
                        .resource_status()
                        .map(|s| s.as_str().to_owned())
                        .unwrap_or_default(),
                    reason: event.resource_status_reason().map(str::to_owned),
                });
            }
        }
        events.reverse();
        Ok(events)
    }

    pub async fn delete_stack(&self, stack: &str) -> Result<(), Failure> {
        self.client
            .delete_stack()
            .stack_name(stack)
            .send()
            .await
            .map(|_| ())
            .map_err(failed("DeleteStack", &format!("stack {stack}")))
    }

    pub async fn set_termination_protection(&self, stack: &str, on: bool) -> Result<(), Failure> {
        self.client
            .update_termination_protection()
            .stack_name(stack)
            .enable_termination_protection(on)
            .send()
            .await
            .map(|_| ())
            .map_err(failed(
                "UpdateTerminationProtection",
                &format!("stack {stack}"),
            ))
    }

    /// Every MarketGrid stage in the account and region (stacks named marketgrid-<stage>).
    pub async fn stages(&self) -> Result<Vec<StageSummary>, Failure> {
        let mut stages = Vec::new();
        let mut pages = self.client.list_stacks().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(failed("ListStacks", "this account and region"))?;
            for summary in page.stack_summaries() {
                let name = summary.stack_name().unwrap_or_default();
                let status = summary
                    .stack_status()
                    .map(|s| s.as_str())
                    .unwrap_or_default();
                let Some(stage) = mgrid_contract::StageName::from_stack_name(name) else {
                    continue;
                };
                if status == "DELETE_COMPLETE" {
                    continue;
                }
                stages.push(StageSummary {
                    stage: stage.to_string(),
                    stack_name: name.to_owned(),
                    status: status.to_owned(),
                    updated_at: millis(summary.last_updated_time())
                        .or_else(|| millis(summary.creation_time())),
                });
            }
        }
        stages.sort_by(|a, b| a.stage.cmp(&b.stage));
        Ok(stages)
    }

    pub async fn resources(&self, stack: &str) -> Result<Vec<StackResource>, Failure> {
        let mut resources = Vec::new();
        let mut pages = self
            .client
            .list_stack_resources()
            .stack_name(stack)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(failed("ListStackResources", &format!("stack {stack}")))?;
            for resource in page.stack_resource_summaries() {
                resources.push(StackResource {
                    logical_id: resource
                        .logical_resource_id()
                        .unwrap_or_default()
                        .to_owned(),
                    physical_id: resource.physical_resource_id().map(str::to_owned),
                    resource_type: resource.resource_type().unwrap_or_default().to_owned(),
                    status: resource
                        .resource_status()
                        .map(|s| s.as_str().to_owned())
                        .unwrap_or_default(),
                });
            }
        }
        Ok(resources)
    }
}

/// A limit as the operator typed it: 10m, 2h.
pub fn typed(limit: Duration) -> String {
    crate::decide::metrics::span_text(i64::try_from(limit.as_secs()).unwrap_or(i64::MAX))
}

/// Waits until the stack is gone; a failure when its deletion failed. After `limit` it stops
/// waiting (exit 8): the deletion goes on without mgrid.
pub async fn wait_until_deleted(
    stacks: &Stacks,
    stack_name: &str,
    limit: Duration,
) -> Result<(), Failure> {
    let waiting = std::time::Instant::now();
    loop {
        match stacks.describe(stack_name).await? {
            None => return Ok(()),
            Some(state) if state.status == "DELETE_FAILED" => {
                return Err(Failure::new(FailureKind::Failed, format!("deleting {stack_name} failed: {}", state.status_reason.unwrap_or_default()))
                    .next("see the stack's events in the console, remove what blocks it, and deploy again"));
            }
            Some(state) if waiting.elapsed() >= limit => {
                return Err(Failure::new(
                    FailureKind::Pending,
                    format!(
                        "stopped waiting after {}: {stack_name} is still {}; CloudFormation goes on deleting it without mgrid",
                        typed(limit),
                        state.status
                    ),
                )
                .next("`mgrid stages` shows when it is gone"));
            }
            Some(_) => tokio::time::sleep(Duration::from_secs(2).min(limit)).await,
        }
    }
}

/// The stack's outputs, as its description gave them; where it has none (an emulator that drops
/// them), the webhook URLs from the stage's SSM parameters.
pub async fn outputs(
    outputs: Vec<StackOutput>,
    aws: &super::connection::Aws,
    stage: &str,
) -> Result<Vec<StackOutput>, Failure> {
    if !outputs.is_empty() {
        return Ok(outputs);
    }
    let stage: mgrid_contract::StageName =
        stage
            .parse()
            .map_err(|e: mgrid_contract::InvalidStageName| {
                Failure::new(FailureKind::Usage, e.to_string())
            })?;
    let parameters = super::parameters::stage_parameters(&aws.ssm(), &stage).await?;
    let mut outputs = Vec::new();
    if let Some(api) = parameters.get(&mgrid_contract::StageParameter::ApiUrl) {
        for provider in mgrid_contract::Provider::ALL {
            outputs.push(StackOutput {
                key: format!("{}WebhookUrl", capitalised(provider.as_str())),
                value: format!("{api}/webhook/{provider}"),
                description: None,
            });
        }
    }
    let named: BTreeMap<&str, mgrid_contract::StageParameter> = [
        ("QueueUrl", mgrid_contract::StageParameter::QueueUrl),
        ("DeadLetterQueueUrl", mgrid_contract::StageParameter::DlqUrl),
        (
            "TransactionsTableName",
            mgrid_contract::StageParameter::TableName,
        ),
        (
            "ArchiveBucketName",
            mgrid_contract::StageParameter::ArchiveBucket,
        ),
        (
            "DashboardName",
            mgrid_contract::StageParameter::DashboardName,
        ),
    ]
    .into_iter()
    .collect();
    for (key, parameter) in named {
        if let Some(value) = parameters.get(&parameter) {
            outputs.push(StackOutput {
                key: key.to_owned(),
                value: value.clone(),
                description: None,
            });
        }
    }
    Ok(outputs)
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// A resource change's details as one line per property: CloudFormation repeats a property for
/// each evaluation (static, then dynamic) and each cause, so equal lines are kept once.
fn property_changes(
    details: &[aws_sdk_cloudformation::types::ResourceChangeDetail],
) -> Vec<PropertyChange> {
    let mut properties: Vec<PropertyChange> = Vec::new();
    for detail in details {
        let Some(target) = detail.target() else {
            continue;
        };
        let path = target
            .path()
            .map(readable_path)
            .or_else(|| target.name().map(str::to_owned))
            .unwrap_or_else(|| {
                target
                    .attribute()
                    .map(|a| a.as_str().to_owned())
                    .unwrap_or_default()
            });
        let change = PropertyChange {
            path,
            change_type: target
                .attribute_change_type()
                .map(|t| t.as_str().to_owned()),
            before: target.before_value().map(str::to_owned),
            after: target.after_value().map(str::to_owned),
            requires_recreation: target.requires_recreation().map(|r| r.as_str().to_owned()),
            caused_by: detail.causing_entity().map(str::to_owned),
        };
        match properties
            .iter_mut()
            .find(|p| p.path == change.path && p.before == change.before && p.after == change.after)
        {
            // Keep the first cause named.
            Some(seen) => {
                if seen.caused_by.is_none() {
                    seen.caused_by = change.caused_by;
                }
            }
            None => properties.push(change),
        }
    }
    properties
}

/// `/Properties/Environment/Variables/STAGE` as `Environment.Variables.STAGE`; other
/// attributes keep their name (`/Tags/team` as `Tags.team`).
fn readable_path(path: &str) -> String {
    let path = path.trim_start_matches('/');
    let path = path.strip_prefix("Properties/").unwrap_or(path);
    path.replace('/', ".")
}
