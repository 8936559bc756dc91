//! The change set of a deploy or a diff: made and awaited (an empty one is success), and deleted
//! when it will not run, with the REVIEW_IN_PROGRESS stack a first deploy made; an interrupt
//! while it is made says what is left.

use anyhow::Result;

use super::{CHANGE_SET_LIMIT, Prepared, upload_assets};

use crate::aws::stack::{ChangeSetRequest, Stacks};
use crate::aws::{Aws, Identity};
use crate::failure::{Failure, FailureKind};
use crate::ui::output::note;

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
    let cleaned = tokio::select! {
        cleaned = discard(stacks, stack_name, change_set, makes_the_stack) => cleaned,
        _ = tokio::signal::ctrl_c() => Err(Failure::new(FailureKind::Interrupted, "interrupted again")),
    };
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
    let (_assets, template_url, parameters) =
        upload_assets(aws, identity, prepared, verbose).await?;
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
