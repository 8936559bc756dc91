//! The change set of a deploy or a diff: made and awaited (an empty one is success), and deleted
//! when it will not run, with the REVIEW_IN_PROGRESS stack a first deploy made; an interrupt
//! while it is made says what is left.

use std::time::Instant;

use super::connect::Connected;
use super::mode::{CHANGE_SET_LIMIT, Mode};
use super::prepare::Prepared;
use super::report::{DeployReport, StackAction};
use crate::aws::assets::{Assets, Upload};
use crate::aws::stack::{ChangeSetOutcome, ChangeSetRequest, Stacks};
use crate::aws::{Aws, Identity};
use crate::cli::DeployArgs;
use crate::clock::now_millis;
use crate::decide::lifecycle::plan;
use crate::decide::template::{PIPELINE_YAML, Template};
use crate::failure::{Failure, FailureKind};
use crate::ui::output::{note, warn};
use crate::ui::terminal::{Interrupted, unless_interrupted};

/// A change set made and awaited, and the report it starts.
pub(super) struct Made {
    pub(super) name: String,
    pub(super) outcome: ChangeSetOutcome,
    pub(super) report: DeployReport,
}

/// The second step: the change set made (or the one an earlier `--no-execute` run made, named
/// by `--execute`) and awaited. Ctrl-C deletes it, and says what is left.
pub(super) async fn make(
    mode: Mode<'_>,
    connected: &Connected,
    started: Instant,
    verbose: bool,
) -> Result<Made, Failure> {
    let Connected {
        prepared,
        aws,
        identity,
        stacks,
        stack_name,
        stage,
        existing,
        operation,
        kept,
    } = connected;
    let makes_the_stack = operation.makes_the_stack;
    // The parameters the change set passes (unknown for one made by an earlier run).
    let mut sent: Vec<(String, String)> = Vec::new();
    let name = match mode {
        // The change set a --no-execute run made: reviewed, confirmed and followed as if new.
        Mode::Deploy(DeployArgs {
            execute: Some(name),
            ..
        }) => {
            if existing.is_none() {
                return Err(Failure::new(
                    FailureKind::NotFound,
                    format!(
                        "{stack_name} does not exist, so its change set {name} does not either"
                    ),
                )
                .next(format!(
                    "make one: `mgrid deploy --stage {stage} --no-execute`"
                )));
            }
            name.clone()
        }
        _ => {
            let name = match mode {
                Mode::Deploy(DeployArgs {
                    change_set_name: Some(name),
                    ..
                }) => name.clone(),
                _ => format!("mgrid-{}", now_millis()),
            };
            let making = make_change_set(
                aws,
                identity,
                prepared,
                stacks,
                &name,
                operation.create,
                verbose,
            );
            sent = match unless_interrupted(making).await {
                Ok(sent) => sent?,
                Err(Interrupted) => {
                    return Err(
                        interrupted_change_set(stacks, stack_name, &name, makes_the_stack).await,
                    );
                }
            };
            name
        }
    };
    let waiting = stacks.wait_for_change_set(stack_name, &name, CHANGE_SET_LIMIT);
    let outcome = match unless_interrupted(waiting).await {
        Ok(outcome) => outcome?,
        Err(Interrupted) => {
            return Err(interrupted_change_set(stacks, stack_name, &name, makes_the_stack).await);
        }
    };
    let change_set_ready_ms = started.elapsed().as_millis();
    tracing::info!("change set {name} ready after {change_set_ready_ms} ms");
    let report = DeployReport {
        stage: stage.clone(),
        stack_name: stack_name.clone(),
        account: identity.account.clone(),
        region: aws.region.clone(),
        action: if operation.create {
            StackAction::Create
        } else {
            StackAction::Update
        },
        change_set: Some(name.clone()),
        changes: None,
        parameter_changes: match existing.as_ref() {
            Some(stack) if !operation.create => plan::parameter_changes(&stack.parameters, &sent),
            _ => Vec::new(),
        },
        status: None,
        outputs: Vec::new(),
        failures: Vec::new(),
        shift: None,
        kept: kept.clone(),
        re_encrypted_rings: Vec::new(),
        api_calls: 0,
        change_set_ready_ms: Some(change_set_ready_ms),
        elapsed_ms: 0,
        next: None,
        failure: None,
    };
    Ok(Made {
        name,
        outcome,
        report,
    })
}

/// Ctrl-C while the change set is made or awaited, before anything executed: it (and the stack
/// it made, on a first deploy) is deleted, and the operator is told what is left, if anything.
pub(super) async fn interrupted_change_set(
    stacks: &Stacks,
    stack_name: &str,
    change_set: &str,
    makes_the_stack: bool,
) -> Failure {
    note(
        "stopping: nothing was executed; deleting the change set being made (Ctrl-C again to leave it)",
    );
    let cleaned = unless_interrupted(discard(stacks, stack_name, change_set, makes_the_stack))
        .await
        .unwrap_or_else(|Interrupted| {
            Err(Failure::new(FailureKind::Interrupted, "interrupted again"))
        });
    match cleaned {
        Ok(()) => Failure::new(
            FailureKind::Interrupted,
            format!("stopped before anything was executed; the change set {change_set} was deleted"),
        ),
        Err(why) => Failure::new(
            FailureKind::Interrupted,
            format!("stopped before anything was executed; the change set {change_set} may remain ({why})"),
        )
        .next(format!(
            "`aws cloudformation list-change-sets --stack-name {stack_name}` shows it; a REVIEW_IN_PROGRESS {stack_name} with no change set can be deleted"
        )),
    }
}

/// Uploads the template and artifact and asks CloudFormation for the change set `name`.
pub(super) async fn make_change_set(
    aws: &Aws,
    identity: &Identity,
    prepared: &Prepared,
    stacks: &Stacks,
    name: &str,
    create: bool,
    verbose: bool,
) -> Result<Vec<(String, String)>, Failure> {
    let settings = &prepared.settings;
    let stack_name = &settings.stack_name;
    let change_set = name;
    let (_assets, template_url, mut parameters) =
        upload_assets(aws, identity, prepared, verbose).await?;
    let definition = processor_definition(
        aws,
        identity,
        stacks,
        stack_name,
        create,
        &parameters,
        prepared,
    )
    .await?;
    if let Some(slot) = parameters
        .iter_mut()
        .find(|(name, _)| name == "ProcessorDefinition")
    {
        slot.1 = definition;
    }
    let tags: Vec<(String, String)> = settings
        .tags
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    stacks
        .create_change_set(&ChangeSetRequest {
            stack_name,
            change_set_name: change_set,
            create,
            template_url: &template_url,
            parameters: parameters.clone(),
            tags,
            description: &format!(
                "mgrid {} (artifact {})",
                env!("CARGO_PKG_VERSION"),
                prepared.artifact()?.metadata.sha256_hex
            ),
        })
        .await?;
    Ok(parameters)
}

/// The ProcessorDefinition this deploy passes (src/decide/version.rs): the configuration it
/// gives the processor, resolved against the deployed stack's resources, against the live
/// version's. A live version that cannot be read is said; a new token is then passed, which
/// Lambda refuses (409, the update rolls back) only if nothing versioned changed.
async fn processor_definition(
    aws: &Aws,
    identity: &Identity,
    stacks: &Stacks,
    stack_name: &str,
    create: bool,
    parameters: &[(String, String)],
    prepared: &Prepared,
) -> Result<String, Failure> {
    use crate::decide::version::{Resolution, configuration, definition};
    let mut resolution = Resolution {
        parameters: parameters
            .iter()
            .filter(|(_, value)| !value.is_empty())
            .cloned()
            .collect(),
        pseudo: [
            ("AWS::Region", aws.region.clone()),
            ("AWS::AccountId", identity.account.clone()),
            ("AWS::Partition", identity.partition().to_owned()),
            ("AWS::URLSuffix", aws.url_suffix().to_owned()),
            ("AWS::StackName", stack_name.to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect(),
        physical: Default::default(),
    };
    let mut live = None;
    if !create {
        let resources = stacks.resources(stack_name).await?;
        resolution.physical = resources
            .iter()
            .filter_map(|r| Some((r.logical_id.clone(), r.physical_id.clone()?)))
            .collect();
        if let Some(function) = resolution.physical.get("ProcessorFunction") {
            match crate::aws::processor::live_version(&aws.lambda(), function).await {
                Ok(version) => live = version,
                Err(failure) => warn(&format!(
                    "could not read the processor's live version ({}): this deploy publishes a new one, which Lambda refuses if nothing it versions changed",
                    failure.what
                )),
            }
        }
    }
    let template =
        Template::pipeline().map_err(|e| Failure::new(FailureKind::Failed, e.to_string()))?;
    let code = &prepared.artifact()?.metadata.sha256;
    let chosen = definition(&configuration(&template, &resolution), code, live.as_ref());
    match (&live, chosen.keeps_live) {
        (Some(live), true) => tracing::info!(
            "processor: code and versioned settings are those of the live version v{}: no new version",
            live.version
        ),
        (Some(live), false) if chosen.changed.is_empty() => tracing::info!(
            "processor: new code (v{} runs another artifact): a new version",
            live.version
        ),
        (Some(live), false) => tracing::info!(
            "processor: {} differ from the live version v{}: a new version",
            chosen.changed.join(", "),
            live.version
        ),
        (None, _) => {}
    }
    Ok(chosen.token)
}

/// Deletes a change set that will not be executed. A change set that creates a stack made that
/// stack (empty, REVIEW_IN_PROGRESS): it goes too, so a diff or a declined first deploy leaves
/// nothing behind for `stages` or `status` to find.
pub(super) async fn discard(
    stacks: &Stacks,
    stack_name: &str,
    change_set: &str,
    created_the_stack: bool,
) -> Result<(), Failure> {
    if !created_the_stack {
        return stacks.delete_change_set(stack_name, change_set).await;
    }
    stacks.delete_stack(stack_name).await?;
    crate::aws::stack::wait_until_deleted(stacks, stack_name, CHANGE_SET_LIMIT).await?;
    note(&format!(
        "deleted {stack_name} (REVIEW_IN_PROGRESS, no resources), which the change set had created"
    ));
    Ok(())
}

/// Checks the account, makes sure the assets are uploaded, and returns the parameter values.
pub(super) async fn upload_assets(
    aws: &Aws,
    identity: &Identity,
    prepared: &Prepared,
    verbose: bool,
) -> Result<(Assets, String, Vec<(String, String)>), Failure> {
    let assets = aws.assets(identity);
    if !assets.exists().await? {
        note(&format!(
            "creating the assets bucket {} (encrypted, private, TLS only, versioned) for deploys to this account and region",
            assets.bucket
        ));
        assets.create().await?;
    }
    let artifact = prepared.artifact()?;
    let metadata = &artifact.metadata;
    let artifact_key = format!("artifacts/{}.zip", metadata.sha256_hex);
    let uploaded = assets
        .ensure_object(&artifact_key, &artifact.zip, "application/zip")
        .await?;
    let (_, template_hash) = mgrid_artifact::sha256(PIPELINE_YAML.as_bytes());
    let template_key = format!("templates/pipeline-{template_hash}.yaml");
    let template_upload = assets
        .ensure_object(
            &template_key,
            PIPELINE_YAML.as_bytes(),
            "application/x-yaml",
        )
        .await?;
    if verbose {
        let said = |u: Upload| {
            if u == Upload::Uploaded {
                "uploaded"
            } else {
                "already there"
            }
        };
        tracing::info!(
            "artifact {artifact_key}: {}; template {template_key}: {}",
            said(uploaded),
            said(template_upload)
        );
    }
    let values = prepared
        .parameters
        .iter()
        .map(|p| {
            let value = match p.name.as_str() {
                "ArtifactBucket" => assets.bucket.clone(),
                "ArtifactKey" => artifact_key.clone(),
                "ArtifactSha256" => metadata.sha256.clone(),
                _ => p.value.clone().unwrap_or_default(),
            };
            (p.name.clone(), value)
        })
        .collect();
    let url = assets.url(&template_key);
    Ok((assets, url, values))
}
