//! `mgrid deploy`: puts a stage in place from the embedded template and artifact, the way an
//! operator can trust: check the account, upload by content hash, make a change set, show it
//! (data in danger in red), confirm, execute, watch, and either list the outputs or every
//! failed resource with the first cause first. `mgrid diff` is the same up to the change set.

mod change_set;
pub mod follow;
pub mod watch;

use std::time::{Duration, Instant};

use anyhow::Result;
use serde::Serialize;

use crate::artifact::{EmbeddedArtifact, embedded};
use crate::aws::assets::{Assets, Upload};
use crate::aws::codedeploy::Deploys;
use crate::aws::kept::{Kept, kept_from_earlier, reencrypt_rings};
use crate::aws::stack::{ChangeSetOutcome, Stacks};
use crate::aws::{Aws, Identity};
use crate::cli::{DeployArgs, DiffArgs};
use crate::clock::now_millis;
use crate::commands::context::Context;
use crate::commands::flow::{Ask, Outcome, Plan, Run, carry_out};
use crate::decide::deploy::{
    apply_param_overrides, architecture, first_deploy_steps, guard_alarms, guards_firing,
    publishes_processor_version, stage_needs,
};
use crate::decide::lifecycle::model::{StackOutput, StackState};
use crate::decide::lifecycle::plan::{
    self, ChangeReview, FailedResource, ParameterChange, StackPlan,
};
use crate::decide::lifecycle::preflight::{self, CliTarget, Finding};
use crate::decide::lifecycle::render;
use crate::decide::shift::{DeployStrategy, Shift};
use crate::decide::stage::{ParameterValue, Source, StageSettings};
use crate::decide::template::{PIPELINE_YAML, Template};
use crate::failure::{Failure, FailureKind};
use crate::ui::output::{OutputFormat, note, print_report, warn, write_stdout};
use crate::ui::terminal::{confirm, verbose_calls};
use crate::ui::text::GOOD;
use change_set::{discard, interrupted_change_set, make_change_set};
use follow::ShiftFollow;
use mgrid_contract::StageName;
use watch::{WatchOptions, eprint_styled, interrupted_watch, limit_of, watch};

/// What a deploy (or diff) did, for people and for scripts.
/// What the change set does to the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub enum StackAction {
    Create,
    Update,
    /// The stack already is what this mgrid would deploy.
    #[default]
    None,
}

#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct DeployReport {
    pub stage: String,
    pub stack_name: String,
    pub account: String,
    pub region: String,
    pub action: StackAction,
    pub change_set: Option<String>,
    pub changes: Option<ChangeReview>,
    /// Parameters whose value changes (an update; empty for a create).
    pub parameter_changes: Vec<ParameterChange>,
    /// The final stack status, when the change set was executed.
    pub status: Option<String>,
    pub outputs: Vec<StackOutput>,
    pub failures: Vec<FailedResource>,
    /// The processor's traffic shift, when the deploy published a new version.
    pub shift: Option<Shift>,
    /// What an earlier, destroyed deploy of the stage left (found before a first create).
    pub kept: Option<Kept>,
    /// Key rings this deploy re-encrypted under the stage's key (kept from an earlier deploy).
    pub re_encrypted_rings: Vec<String>,
    pub api_calls: usize,
    /// Milliseconds from the start of the command to the change set being ready.
    pub change_set_ready_ms: Option<u128>,
    pub elapsed_ms: u128,
    #[serde(skip)]
    next: Option<String>,
    /// Why a deploy that ran failed (reported first, then the command fails with it).
    #[serde(skip)]
    failure: Option<Failure>,
}

impl std::fmt::Display for DeployReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.action, &self.status) {
            (StackAction::None, _) => writeln!(
                f,
                "{GOOD}no changes:{GOOD:#} {} already is what this mgrid would deploy",
                self.stack_name
            )?,
            (_, Some(status)) if plan::succeeded(status) => {
                writeln!(
                    f,
                    "{GOOD}{status}:{GOOD:#} {} in {}",
                    self.stack_name,
                    render::elapsed((self.elapsed_ms / 1000) as u64)
                )?;
                if !self.outputs.is_empty() {
                    write!(f, "\n{}", render::outputs_table(&self.outputs))?;
                }
            }
            (_, Some(status)) => {
                writeln!(f, "{status}: {}", self.stack_name)?;
                write!(f, "{}", render::failure_report(&self.failures))?;
            }
            (_, None) => {}
        }
        if let Some(shift) = &self.shift {
            write!(
                f,
                "\n{}",
                crate::decide::shift::live_block(shift, shift.read_at)
            )?;
        }
        if !self.re_encrypted_rings.is_empty() {
            writeln!(
                f,
                "re-encrypted {} key ring(s) under the stage key (kept from an earlier deploy; their keys are unchanged): {}",
                self.re_encrypted_rings.len(),
                self.re_encrypted_rings.join(", ")
            )?;
        }
        if let Some(next) = &self.next {
            writeln!(f, "{next}")?;
        }
        Ok(())
    }
}

/// Everything a deploy needs that can be worked out before calling AWS.
struct Prepared {
    settings: StageSettings,
    parameters: Vec<ParameterValue>,
    /// None when executing a change set an earlier run made (it names its artifact already).
    artifact: Option<EmbeddedArtifact>,
}

impl Prepared {
    fn artifact(&self) -> Result<&EmbeddedArtifact, Failure> {
        self.artifact.as_ref().ok_or_else(|| {
            Failure::new(
                FailureKind::Failed,
                "no Lambda artifact was prepared for this change set",
            )
        })
    }
}

/// What a run of the deploy steps does with the change set it makes.
#[derive(Debug, Clone, Copy)]
pub enum Mode<'a> {
    /// `mgrid diff`: show the change set, then delete it.
    Diff(&'a DiffArgs),
    /// `mgrid deploy`: review, confirm, execute and follow it (or stop once it is made, with
    /// --no-execute).
    Deploy(&'a DeployArgs),
}

/// A change set is computed in seconds; one that takes this long is stuck.
const CHANGE_SET_LIMIT: Duration = Duration::from_secs(600);

/// How long a diff waits for a deletion (it makes none) or a watch (it has none).
const DIFF_WATCH_LIMIT: Duration = Duration::from_secs(7200);

impl Mode<'_> {
    /// The longest the run follows the stack or a deletion (`--watch-limit`).
    fn watch_limit(&self) -> Duration {
        match self {
            Mode::Diff(_) => DIFF_WATCH_LIMIT,
            Mode::Deploy(args) => limit_of(args.watch_limit),
        }
    }

    fn verb(&self) -> &'static str {
        match self {
            Mode::Diff(_) => "diff",
            Mode::Deploy(_) => "deploy",
        }
    }

    fn params(&self) -> &[(String, String)] {
        match self {
            Mode::Diff(args) => &args.deploy.params,
            Mode::Deploy(args) => &args.params,
        }
    }

    fn artifact(&self) -> Option<&std::path::Path> {
        match self {
            Mode::Diff(args) => args.deploy.artifact.as_deref(),
            Mode::Deploy(args) => args.artifact.as_deref(),
        }
    }

    /// Whether the change set may be executed (a diff never is).
    fn deploys(&self) -> bool {
        matches!(self, Mode::Deploy(_))
    }
}

fn prepare(context: &Context, mode: Mode<'_>) -> Result<Prepared, Failure> {
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
                parameter.source = Source::Flag("--skip-shift".into());
            }
        }
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

/// Checks the account, makes sure the assets are uploaded, and returns the parameter values.
async fn upload_assets(
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

fn check_account(settings: &StageSettings, identity: &Identity) -> Result<(), Failure> {
    if let Some(expected) = &settings.account_id
        && expected.value != identity.account
    {
        return Err(Failure::new(
            FailureKind::Credentials,
            format!(
                "stage {} belongs to account {} but these credentials are for account {} ({}); nothing was written",
                settings.stage, expected.value, identity.account, identity.arn
            ),
        )
        .next("use credentials for the stage's account (--profile / AWS_PROFILE), or fix account_id in mgrid.toml"));
    }
    Ok(())
}

/// Runs the deploy steps in `mode`, a deploy or a diff, and reports: fetch (the stack, the
/// account), decide (the change set, reviewed), show (its table), then, for a deploy, the flow's
/// confirm, apply (execute and follow) and report.
pub async fn run(context: &Context, mode: Mode<'_>) -> Result<()> {
    if let Mode::Deploy(args @ DeployArgs { rollback: true, .. }) = mode {
        return rollback(context, limit_of(args.watch_limit)).await;
    }
    let started = Instant::now();
    let execute = mode.deploys();
    let prepared = prepare(context, mode)?;
    let settings = &prepared.settings;
    let stage = settings.stage.to_string();
    let aws = context.connect(settings).await?;
    let identity = aws.account().await?;
    check_account(settings, &identity)?;
    if execute {
        check_account_readiness(&aws, &prepared).await?;
    }
    let stacks = aws.stacks();
    let stack_name = settings.stack_name.clone();

    let existing = stacks.describe(&stack_name).await?;
    let StackOperation {
        create,
        makes_the_stack,
    } = stack_operation(
        context,
        mode,
        &stacks,
        &stack_name,
        existing.as_ref(),
        &stage,
    )
    .await?;
    let kept = if create {
        kept_resources(&aws, settings, &stage).await
    } else {
        None
    };

    let verbose = context.global.verbose > 0;
    // The parameters the change set passes (unknown for one made by an earlier run).
    let mut sent: Vec<(String, String)> = Vec::new();
    let change_set = match mode {
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
                ))
                .into());
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
            let making =
                make_change_set(&aws, &identity, &prepared, &stacks, &name, create, verbose);
            sent = tokio::select! {
                sent = making => sent?,
                _ = tokio::signal::ctrl_c() => {
                    return Err(interrupted_change_set(&stacks, &stack_name, &name, makes_the_stack).await.into());
                }
            };
            name
        }
    };
    let outcome = tokio::select! {
        outcome = stacks.wait_for_change_set(&stack_name, &change_set, CHANGE_SET_LIMIT) => outcome?,
        _ = tokio::signal::ctrl_c() => {
            return Err(interrupted_change_set(&stacks, &stack_name, &change_set, makes_the_stack).await.into());
        }
    };
    let change_set_ready_ms = started.elapsed().as_millis();
    tracing::info!("change set {change_set} ready after {change_set_ready_ms} ms");

    let mut report = DeployReport {
        stage: stage.clone(),
        stack_name: stack_name.clone(),
        account: identity.account.clone(),
        region: aws.region.clone(),
        action: if create {
            StackAction::Create
        } else {
            StackAction::Update
        },
        change_set: Some(change_set.clone()),
        changes: None,
        parameter_changes: match existing.as_ref() {
            Some(stack) if !create => plan::parameter_changes(&stack.parameters, &sent),
            _ => Vec::new(),
        },
        status: None,
        outputs: Vec::new(),
        failures: Vec::new(),
        shift: None,
        kept: None,
        re_encrypted_rings: Vec::new(),
        api_calls: 0,
        change_set_ready_ms: Some(change_set_ready_ms),
        elapsed_ms: 0,
        next: None,
        failure: None,
    };
    report.kept = kept;
    let changes = match outcome {
        ChangeSetOutcome::Empty => {
            stacks.delete_change_set(&stack_name, &change_set).await?;
            report.action = StackAction::None;
            report.change_set = None;
            // An earlier deploy that could not re-encrypt a kept ring is finished here.
            if execute {
                settle_rings(&aws, &settings.stage, &mut report).await;
            }
            return done(context, mode, finish(report, &aws, started, verbose));
        }
        ChangeSetOutcome::Failed(reason) => {
            if let Err(failure) = discard(&stacks, &stack_name, &change_set, makes_the_stack).await
            {
                warn(&failure.what);
            }
            return Err(Failure::new(
                FailureKind::Failed,
                format!("CloudFormation could not make a change set: {reason}"),
            )
            .next("nothing was changed; fix what it names and deploy again")
            .into());
        }
        ChangeSetOutcome::Ready(changes) => changes,
    };
    let review = plan::review_changes(changes, settings.protected.value);
    show(context.global.output, &render::change_table(&review))?;
    if !report.parameter_changes.is_empty() {
        show(
            context.global.output,
            &render::parameter_table(&report.parameter_changes),
        )?;
    }
    report.changes = Some(review.clone());
    if let Some(kept) = &report.kept {
        note(&kept.plan(&stage));
    }

    let allow_replacement = match mode {
        Mode::Deploy(args) => args.allow_replacement,
        // A diff shows what a deploy would refuse; it refuses nothing itself.
        Mode::Diff(_) => true,
    };
    if review.needs_allow_replacement && !allow_replacement {
        discard(&stacks, &stack_name, &change_set, makes_the_stack).await?;
        return Err(Failure::new(
            FailureKind::Declined,
            format!("{stage} is protected and this change would replace or remove resources that hold data; nothing was changed"),
        )
        .next("if that is really meant, deploy again with --allow-replacement")
        .into());
    }
    let args = match mode {
        Mode::Diff(_) => {
            discard(&stacks, &stack_name, &change_set, makes_the_stack).await?;
            report.change_set = None;
            return done(context, mode, finish(report, &aws, started, verbose));
        }
        Mode::Deploy(args) => args,
    };
    if args.no_execute {
        report.next = Some(format!(
            "the change set {change_set} is ready and was not executed; execute it (reviewed and followed) with\n  \
             mgrid deploy --stage {stage} --execute {change_set}\n\
             or delete it with\n  aws cloudformation delete-change-set --stack-name {stack_name} --change-set-name {change_set} --region {}",
            aws.region
        ));
        return done(context, mode, finish(report, &aws, started, verbose));
    }
    let count = review.changes.len();
    if !create
        && !args.skip_shift
        && publishes_processor_version(&review)
        && let Err(failure) = check_guards(&aws, &stage, &prepared.parameters).await
    {
        discard(&stacks, &stack_name, &change_set, makes_the_stack).await?;
        return Err(failure.into());
    }
    let watch_limit = mode.watch_limit();
    let plan = DeployPlan {
        stage: stage.clone(),
        account: identity.account.clone(),
        changes: count,
        skip_shift_on_protected: args.skip_shift && settings.protected.value,
    };
    // The follow-up borrows what the steps before it made; the report is its to fill.
    let (stacks, aws, existing) = (&stacks, &aws, &existing);
    let (stack_name, change_set, stage) = (&stack_name, &change_set, &stage);
    let followed = carry_out(context, plan, Run::Apply, |_| async move {
        let executed_at = now_millis();
        tokio::select! {
            executed = stacks.execute_change_set(stack_name, change_set) => executed?,
            _ = tokio::signal::ctrl_c() => {
                return Err(Failure::new(
                    FailureKind::Interrupted,
                    format!("stopped while CloudFormation was asked to execute {change_set}: it may have started, and Ctrl-C does not stop it"),
                )
                .next(format!("`mgrid status --stage {stage}` shows whether {stack_name} is deploying")));
            }
        };
        let options = WatchOptions::for_stderr(watch_limit);
        let mut to_stderr = eprint_styled;
        let deploys = Deploys::new(aws, stage);
        let mut follow = (!create).then(|| ShiftFollow::new(&deploys, executed_at));
        let watched = tokio::select! {
            result = watch(stacks, stack_name, stage, executed_at, count, started, &options, follow.as_mut(), &mut to_stderr) => result?,
            _ = tokio::signal::ctrl_c() => {
                return Err(interrupted_watch(create, stack_name, stage));
            }
        };
        report.status = Some(watched.final_status.clone());
        report.shift = watched.shift.clone();
        if !plan::succeeded(&watched.final_status) {
            report.failures = plan::failure_summary(&watched.events, stack_name);
            let what = match watched.shift.as_ref().and_then(|s| s.stopped.as_ref()) {
                Some(stopped) if !stopped.alarms.is_empty() => format!(
                    "the deploy of {stage} was rolled back: {} went into ALARM while the new processor version had traffic; all traffic is back on the previous version and {stack_name} is {}",
                    stopped.alarms.join(", "),
                    watched.final_status
                ),
                Some(_) => format!(
                    "the deploy of {stage} was rolled back: the processor's traffic shift stopped; {stack_name} is {}",
                    watched.final_status
                ),
                None => format!("the deploy of {stage} failed: {stack_name} is {}", watched.final_status),
            };
            report.failure = Some(
                Failure::new(FailureKind::Failed, what)
                    .next(format!("fix the first cause above, then deploy again (`mgrid status --stage {stage}` shows the stack)")),
            );
            return Ok(finish(report, aws, started, verbose));
        }
        let protection_on = existing.as_ref().is_some_and(|s| s.termination_protection);
        if settings.protected.value && !protection_on {
            // The deploy itself succeeded; a refusal here must not turn it into a failure.
            if let Err(failure) = stacks.set_termination_protection(stack_name, true).await {
                warn(&format!(
                    "{stage} is protected but termination protection could not be turned on: {}",
                    failure.what
                ));
            }
        }
        let described = stacks.describe(stack_name).await?;
        let outputs = described.map(|s| s.outputs).unwrap_or_default();
        report.outputs = crate::aws::stack::outputs(outputs, aws, stage).await?;
        settle_rings(aws, &settings.stage, &mut report).await;
        if create {
            let mut steps = first_deploy_steps(
                stage,
                &CliTarget {
                    region: aws.region.clone(),
                    profile: settings.profile.as_ref().map(|p| p.value.clone()),
                },
            );
            if !report.re_encrypted_rings.is_empty() {
                steps.push_str(
                    "\n(the kept key rings were re-encrypted, not replaced: the keys registered before are still accepted \
                     wherever the webhook URL stayed the same, as with a custom domain; step 2 makes new ones for new URLs, \
                     and the old ones stay accepted for the overlap)",
                );
            }
            report.next = Some(steps);
        }
        Ok(finish(report, aws, started, verbose))
    })
    .await;
    if followed.as_ref().is_err_and(is_declined) {
        discard(stacks, stack_name, change_set, makes_the_stack).await?;
    }
    followed
}

/// What this run does to the stack: create it or update it, and whether it makes the stack (none
/// was there, or a failed create was deleted first): only then does discarding its change set
/// delete the stack too.
struct StackOperation {
    create: bool,
    makes_the_stack: bool,
}

/// Decides the stack operation from the stack as it is: a stack in a state that cannot be
/// changed is refused; one whose first create failed is deleted first (asked); an empty
/// REVIEW_IN_PROGRESS stack is an earlier `--no-execute` run's, perhaps a colleague's: never
/// ours to delete.
async fn stack_operation(
    context: &Context,
    mode: Mode<'_>,
    stacks: &Stacks,
    stack_name: &str,
    existing: Option<&StackState>,
    stage: &str,
) -> Result<StackOperation, Failure> {
    let execute = mode.deploys();
    let mut makes_the_stack = existing.is_none();
    let mut create = match plan::stack_plan(existing, stage) {
        StackPlan::Create => true,
        StackPlan::Update => false,
        StackPlan::Refuse {
            status,
            reason,
            next,
        } => {
            return Err(Failure::new(
                FailureKind::Conflict,
                format!("{stack_name} is {status}: {reason}"),
            )
            .next(next));
        }
        StackPlan::RecreateAfterFailedCreate { status } => {
            if !execute {
                return Err(Failure::new(
                    FailureKind::Conflict,
                    format!("{stack_name} is {status}: its first create failed, so there is nothing to diff against"),
                )
                .next(format!("`mgrid deploy --stage {stage}` offers to delete it and create it again")));
            }
            note(&format!(
                "{stack_name} is {status}: its first create failed and it holds nothing; it must be deleted before it can be created again"
            ));
            if !confirm(
                &format!("Delete {stack_name} and create it again?"),
                context.global.yes,
            )? {
                return Err(Failure::new(
                    FailureKind::Declined,
                    "not deleted; nothing was changed",
                ));
            }
            stacks.delete_stack(stack_name).await?;
            tokio::select! {
                deleted = crate::aws::stack::wait_until_deleted(stacks, stack_name, mode.watch_limit()) => deleted?,
                _ = tokio::signal::ctrl_c() => {
                    return Err(Failure::new(FailureKind::Interrupted, format!("stopped watching; CloudFormation keeps deleting {stack_name}, and nothing was created"))
                        .next(format!("`mgrid stages` shows when it is gone; then `mgrid deploy --stage {stage}` creates it")));
                }
            }
            makes_the_stack = true;
            true
        }
    };
    if existing.is_some_and(|s| s.status == "REVIEW_IN_PROGRESS") {
        create = true;
        note(&format!(
            "{stack_name} is REVIEW_IN_PROGRESS: a first deploy's change set is waiting there (an earlier `--no-execute`, perhaps someone else's); this run makes its own beside it and leaves the stack and its change sets alone"
        ));
    }

    Ok(StackOperation {
        create,
        makes_the_stack,
    })
}

/// What an earlier, destroyed deploy of the stage kept, which a first create may find.
async fn kept_resources(aws: &Aws, settings: &StageSettings, stage: &str) -> Option<Kept> {
    match kept_from_earlier(aws, &settings.stage, &settings.stack_name).await {
        Ok(kept) => Some(kept).filter(|k| !k.is_empty()),
        Err(failure) => {
            warn(&format!(
                "could not check what an earlier deploy of {stage} left: {}; \
                 the deploy still re-encrypts any key ring under the new stage key",
                failure.what
            ));
            None
        }
    }
}

/// `mgrid deploy --rollback`: stops the processor's traffic shift in progress (CodeDeploy sends
/// all traffic back to the previous version), then follows the stack as it rolls back.
async fn rollback(context: &Context, watch_limit: Duration) -> Result<()> {
    let started = Instant::now();
    let stage = context.deployed_stage("deploy")?.to_string();
    let settings = context.settings(context.deployed_stage("deploy")?)?;
    let aws = context.connect(&settings).await?;
    let identity = aws.account().await?;
    check_account(&settings, &identity)?;
    let deploys = Deploys::new(&aws, &stage);
    let Some(id) = deploys.current(None).await? else {
        return Err(Failure::new(
            FailureKind::NotFound,
            format!("no processor traffic shift is in progress on {stage}; nothing was changed"),
        )
        .next(format!(
            "`mgrid status --stage {stage}` shows the stack and the last shift"
        ))
        .into());
    };
    let guards = deploys.guard_alarms().await?;
    let shift = deploys.shift(&id, &guards).await?;
    note(crate::decide::shift::live_block(&shift, now_millis()).trim_end());
    let stacks = aws.stacks();
    let stack_name = settings.stack_name.clone();
    let plan = RollbackPlan {
        stage: stage.clone(),
        deployment: id.clone(),
        previous: shift.from_version.clone(),
    };
    let (aws, deploys, stacks, stack_name, stage) = (&aws, &deploys, &stacks, &stack_name, &stage);
    carry_out(context, plan, Run::Apply, |_| async move {
        let stopped_at = now_millis();
        deploys.stop(&id).await?;
        let options = WatchOptions::for_stderr(watch_limit);
        let mut to_stderr = eprint_styled;
        let mut follow = ShiftFollow::new(deploys, shift.started_at.unwrap_or(stopped_at) - 1).already_started();
        let watched = tokio::select! {
            result = watch(stacks, stack_name, stage, stopped_at, 0, started, &options, Some(&mut follow), &mut to_stderr) => result?,
            _ = tokio::signal::ctrl_c() => {
                return Err(Failure::new(FailureKind::Interrupted, format!("stopped watching; the shift was stopped and {stack_name} keeps rolling back"))
                    .next(format!("watch it with `mgrid status --stage {stage}`")));
            }
        };
        let described = stacks.describe(stack_name).await?;
        let mut report = DeployReport {
            stage: stage.clone(),
            stack_name: stack_name.clone(),
            account: identity.account.clone(),
            region: aws.region.clone(),
            action: StackAction::Update,
            change_set: None,
            changes: None,
            parameter_changes: Vec::new(),
            status: Some(watched.final_status.clone()),
            outputs: described.map(|s| s.outputs).unwrap_or_default(),
            failures: Vec::new(),
            shift: watched.shift.clone(),
            kept: None,
            re_encrypted_rings: Vec::new(),
            api_calls: 0,
            change_set_ready_ms: None,
            elapsed_ms: 0,
            next: None,
            failure: None,
        };
        let back = watched.shift.as_ref().is_some_and(|s| s.status == crate::decide::shift::ShiftStatus::RolledBack);
        if !back {
            report.failure = Some(
                Failure::new(
                    FailureKind::Failed,
                    format!("the shift was stopped, but CodeDeploy does not report it rolled back; {stack_name} is {}", watched.final_status),
                )
                .next(format!("look at deployment {id} in the CodeDeploy console, and `mgrid status --stage {stage}`")),
            );
        }
        Ok(finish(report, aws, started, context.global.verbose > 0))
    })
    .await
}

/// What `deploy --rollback` will do.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RollbackPlan {
    pub stage: String,
    pub deployment: String,
    pub previous: Option<String>,
}

impl std::fmt::Display for RollbackPlan {
    fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        Ok(())
    }
}

impl Plan for RollbackPlan {
    fn ask(&self) -> Ask {
        Ask::YesNo(format!(
            "Stop deployment {} on {} and return all traffic to {}?",
            self.deployment,
            self.stage,
            self.previous
                .as_ref()
                .map(|v| format!("v{v}"))
                .unwrap_or_else(|| "the previous version".to_owned())
        ))
    }

    fn declined(&self) -> String {
        "not stopped; the shift goes on".into()
    }
}

/// A change set ready to execute: the question before it (its table is already shown).
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct DeployPlan {
    pub stage: String,
    pub account: String,
    pub changes: usize,
    /// --skip-shift on a protected stage: the stage's name is asked for.
    pub skip_shift_on_protected: bool,
}

impl std::fmt::Display for DeployPlan {
    fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        Ok(())
    }
}

impl Plan for DeployPlan {
    fn ask(&self) -> Ask {
        if self.skip_shift_on_protected {
            return Ask::Name {
                prompt: format!(
                    "Deploy these {} changes to protected {} ({}) with all traffic at once and no guard alarms? Type the stage name",
                    self.changes, self.stage, self.account
                ),
                stage: self.stage.clone(),
            };
        }
        Ask::YesNo(format!(
            "Deploy these {} changes to {} ({})?",
            self.changes, self.stage, self.account
        ))
    }

    fn declined(&self) -> String {
        "not deployed; the change set was deleted and nothing was changed".into()
    }
}

impl Outcome for DeployReport {
    fn failure(&self) -> Option<Failure> {
        self.failure.clone()
    }
}

fn is_declined(error: &anyhow::Error) -> bool {
    error
        .downcast_ref::<Failure>()
        .is_some_and(|failure| failure.kind == FailureKind::Declined)
}

/// Prints what a diff, an unchanged stack or a change set left for later comes to; a diff with
/// --exit-code then fails when there is something to deploy.
fn done(context: &Context, mode: Mode<'_>, report: DeployReport) -> Result<()> {
    print_report(&report, context.global.output)?;
    if let Some(failure) = report.failure {
        return Err(failure.into());
    }
    // A change set with no resource changes still changes the stack (parameters, tags).
    if let Mode::Diff(args) = mode
        && args.exit_code
        && report.action != StackAction::None
    {
        return Err(Failure::new(
            FailureKind::Failed,
            format!("{} has changes to deploy", report.stack_name),
        )
        .into());
    }
    Ok(())
}

/// Before anything is written: does the account hold what the stage needs? Blockers stop the
/// deploy with what to run; a check that could not be made is a warning.
async fn check_account_readiness(aws: &Aws, prepared: &Prepared) -> Result<(), Failure> {
    let readings = aws.account_readings().await;
    let target = CliTarget {
        region: aws.region.clone(),
        profile: prepared.settings.profile.as_ref().map(|p| p.value.clone()),
    };
    let (mut what, mut next) = (Vec::new(), Vec::new());
    for finding in preflight::judge(&readings, stage_needs(&prepared.parameters), &target) {
        match finding {
            Finding::Unchecked { what } => {
                warn(&format!("could not check {what}; deploying anyway"))
            }
            Finding::Blocker {
                what: blocker,
                next: fix,
            } => {
                what.push(blocker);
                next.push(fix);
            }
        }
    }
    if what.is_empty() {
        return Ok(());
    }
    Err(Failure::new(
        FailureKind::NotFound,
        format!(
            "the account is not ready for {}: {}; nothing was written",
            prepared.settings.stage,
            what.join("; and ")
        ),
    )
    .next(next.join("\n")))
}

/// A guard alarm already in ALARM would stop the shift at once and roll the deploy back: the
/// deploy is refused before anything runs, with the ways out.
async fn check_guards(
    aws: &Aws,
    stage: &str,
    parameters: &[ParameterValue],
) -> Result<(), Failure> {
    let guards = guard_alarms(stage, parameters);
    if guards.is_empty() {
        return Ok(());
    }
    let firing = match aws.alarms_in_alarm(&format!("marketgrid-{stage}-")).await {
        Ok(alarms) => alarms,
        Err(failure) => {
            warn(&format!(
                "could not read the guard alarms ({}); deploying anyway",
                failure.what
            ));
            return Ok(());
        }
    };
    let in_alarm: Vec<String> = firing.into_iter().map(|a| a.name).collect();
    match guards_firing(stage, &guards, &in_alarm) {
        Some(failure) => Err(failure),
        None => Ok(()),
    }
}

/// Every key ring of the stage under the stage's key, after a deploy: rings kept from an earlier,
/// destroyed deploy are re-encrypted. One that cannot be is the deploy's failure: the stage runs,
/// but cannot read its keys, so the authorizer would deny every webhook.
async fn settle_rings(aws: &Aws, stage: &StageName, report: &mut DeployReport) {
    match reencrypt_rings(aws, stage).await {
        Ok(rings) => report.re_encrypted_rings = rings,
        Err(failure) => report.failure = Some(failure),
    }
}

fn finish(mut report: DeployReport, aws: &Aws, started: Instant, verbose: bool) -> DeployReport {
    report.api_calls = aws.calls();
    report.elapsed_ms = started.elapsed().as_millis();
    verbose_calls(verbose, aws.calls());
    report
}

/// The change table: part of the result in text mode, progress beside the JSON otherwise.
fn show(output: OutputFormat, text: &str) -> Result<(), Failure> {
    match output {
        OutputFormat::Text => {
            write_stdout(text).map_err(|e| Failure::new(FailureKind::Failed, e.to_string()))
        }
        OutputFormat::Json => {
            note(text);
            Ok(())
        }
    }
}

#[cfg(test)]
mod snapshots {
    //! The deploy report as a pipe gets it: no changes, a deploy that completed, one that failed,
    //! and a change set made with --no-execute.

    use super::*;
    use crate::ui::text::plain;

    #[test]
    fn a_guard_alarm_in_alarm_refuses_the_shift_and_others_do_not() {
        let template = Template::pipeline().unwrap();
        let env: std::collections::BTreeMap<&str, &str> = std::collections::BTreeMap::new();
        let settings = StageSettings::resolve(
            "prod".parse().unwrap(),
            Some("eu-west-1"),
            &crate::decide::config::Config::default(),
            &env,
        )
        .unwrap();
        let mut parameters = settings.parameters(&template);
        let guards = guard_alarms("prod", &parameters);
        assert_eq!(
            guards,
            [
                "marketgrid-prod-version-failures",
                "marketgrid-prod-dlq-not-empty",
                "marketgrid-prod-processor-throttles"
            ]
        );
        let firing = |in_alarm: &[&str]| {
            let in_alarm: Vec<String> = in_alarm.iter().map(|a| (*a).to_owned()).collect();
            guards_firing("prod", &guards, &in_alarm)
        };
        // Not a guard: the archiver's errors do not concern a processor release.
        assert!(firing(&["marketgrid-prod-archiver-errors"]).is_none());
        let refused = firing(&["marketgrid-prod-dlq-not-empty"]).expect("refused");
        assert_eq!(refused.kind, FailureKind::Conflict);
        assert!(
            refused
                .what
                .starts_with("marketgrid-prod-dlq-not-empty is in ALARM now"),
            "{}",
            refused.what
        );
        assert!(refused.next.unwrap().contains("--skip-shift"));
        // --skip-shift (and deploy_alarms = []) leave no guard.
        for p in parameters.iter_mut().filter(|p| p.name == "DeployAlarms") {
            p.value = Some(String::new());
        }
        assert!(guard_alarms("prod", &parameters).is_empty());
    }

    fn report(action: StackAction, status: Option<&str>) -> DeployReport {
        DeployReport {
            stage: "prod".into(),
            stack_name: "marketgrid-prod".into(),
            account: "123456789012".into(),
            region: "eu-west-1".into(),
            action,
            change_set: None,
            changes: None,
            parameter_changes: Vec::new(),
            status: status.map(str::to_owned),
            outputs: vec![StackOutput {
                key: "StripeWebhookUrl".into(),
                value: "https://hooks.example.com/webhook/stripe".into(),
                description: Some("Register at Stripe".into()),
            }],
            failures: Vec::new(),
            shift: None,
            kept: None,
            re_encrypted_rings: Vec::new(),
            api_calls: 31,
            change_set_ready_ms: Some(4_200),
            elapsed_ms: 192_000,
            next: None,
            failure: None,
        }
    }

    #[test]
    fn outcomes() {
        insta::assert_snapshot!("deploy_no_changes", plain(&report(StackAction::None, None)));
        insta::assert_snapshot!(
            "deploy_completed",
            plain(&report(StackAction::Update, Some("UPDATE_COMPLETE")))
        );
        insta::assert_snapshot!(
            "deploy_completed_80_columns",
            crate::ui::text::at_80_columns(&report(StackAction::Update, Some("UPDATE_COMPLETE")))
        );
        let failed = DeployReport {
            failures: vec![FailedResource {
                logical_id: "ProcessorFunction".into(),
                resource_type: "AWS::Lambda::Function".into(),
                status: "UPDATE_FAILED".into(),
                reason: "Resource handler returned message: \"Memory size 64 is below 128\"".into(),
                consequence: false,
            }],
            ..report(StackAction::Update, Some("UPDATE_ROLLBACK_COMPLETE"))
        };
        insta::assert_snapshot!("deploy_failed", plain(&failed));
        crate::ui::output::assert_json_contract("deploy", &failed);
        let made = DeployReport {
            change_set: Some("mgrid-1".into()),
            next: Some("the change set mgrid-1 is ready and was not executed".into()),
            ..report(StackAction::Create, None)
        };
        insta::assert_snapshot!("deploy_no_execute", plain(&made));
        crate::ui::output::assert_json_contract("deploy", &made);
    }
}
