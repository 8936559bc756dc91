//! `mgrid status`: where a stage stands, in one shape on AWS and on the local stage: its queues
//! (and dead letters), then its stack's status and last update, its outputs, the alarms in
//! ALARM and whether it runs the build this mgrid carries; or whether `mgrid dev` runs on the
//! local stage's data and what that holds.

use std::fmt;

use anyhow::Result;
use mgrid_contract::clock::format_rfc3339;
use serde::Serialize;

use crate::artifact::embedded;
use crate::clock::now_millis;
use crate::commands::context::Context;
use crate::decide::journey::{READ_MAX, Unsettled};
use crate::decide::lifecycle::model::StackOutput;
use crate::decide::lifecycle::render;
use crate::decide::metrics::AlarmState;
use crate::failure::Failure;
use crate::ports::Settlement;
use crate::target::{AwsStage, LocalStage, Target};
use crate::text::{ERROR, GOOD, WARNING};
use crate::ui::output::{print_report, warn};
use crate::ui::terminal::verbose_calls;
use mgrid_artifact::Arch;

/// Whether the stage runs the Lambda build this mgrid carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub enum Build {
    Same,
    Different,
    /// The stack names no artifact, or this mgrid carries none.
    Unknown,
}

/// Where a stage stands, in one shape for both backends: the queues and alarms every stage has,
/// then what only a deployed stage has (`stack`) or only the local one (`local`); the other is
/// null.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct StatusReport {
    pub stage: String,
    pub backend: BackendKind,
    /// None when the queue could not be read (said on stderr).
    pub webhook_queue: Option<QueueDepth>,
    pub dead_letter_queue: Option<QueueDepth>,
    pub alarms_in_alarm: Vec<AlarmState>,
    pub stack: Option<StackStatus>,
    pub local: Option<LocalStatus>,
    /// After the ledger, over the last day: payments waiting on each leg, and since when
    /// (None when the ledger's unsettled index could not be read, said on stderr).
    pub after_ledger: Option<Unsettled>,
}

/// How far back `status` looks for unsettled payments (`reconcile` reads any window).
const UNSETTLED_SINCE_MS: i64 = 86_400_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, schemars(rename = "Backend"))]
pub enum BackendKind {
    Aws,
    Local,
}

/// A deployed stage's stack and build.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct StackStatus {
    pub stack_name: String,
    pub region: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub updated_at: Option<String>,
    pub termination_protection: bool,
    pub outputs: Vec<StackOutput>,
    pub deployed_artifact: Option<String>,
    pub embedded_artifact: Option<String>,
    pub build: Build,
    /// How the stage shifts traffic to a new processor version: the deployment group's
    /// configuration (the stack's parameter when the group cannot be read).
    pub deploy_strategy: Option<String>,
    /// What this stage's settings (mgrid.toml and the defaults) ask for, when the deployed stack
    /// differs from it (a `--skip-shift` deploy, or settings changed since): the next deploy
    /// restores them.
    pub configured_strategy: Option<String>,
    pub configured_guards: Option<String>,
    /// The alarms that stop a shift, as the deployment group really holds them (empty: none);
    /// None when the group could not be read.
    pub deploy_guards: Option<Vec<String>>,
    /// The processor traffic shift in progress (CodeDeploy), if any.
    pub traffic_shift: Option<crate::decide::shift::Shift>,
    /// The live version's own failure guard and its state: INSUFFICIENT_DATA when too little
    /// traffic has reached that version for a minute to be judged ("not judged").
    pub version_guard: Option<crate::decide::shift::GuardState>,
    pub api_calls: usize,
}

/// The local stage: whether `mgrid dev` runs on its data, and what the data holds.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct LocalStatus {
    pub data_dir: String,
    pub running: bool,
    pub endpoint: Option<String>,
    pub transactions: i64,
    /// Recorded but not yet archived.
    pub unarchived: i64,
    /// Recorded but the vendor not yet notified (waiting, or retrying with backoff).
    pub unnotified: i64,
    /// Notifications given up on after the notify pipe's bounds (ten tries, or six hours).
    pub notify_dead_letters: i64,
}

#[derive(Debug, Clone, Copy, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct QueueDepth {
    pub waiting: u64,
    pub in_flight: u64,
}

impl From<crate::ports::Depth> for QueueDepth {
    fn from(depth: crate::ports::Depth) -> QueueDepth {
        QueueDepth {
            waiting: depth.visible,
            in_flight: depth.in_flight,
        }
    }
}

pub async fn run(context: &Context, target: &Target) -> Result<()> {
    let mut report = match target {
        Target::Local(local) => local_status(local)?,
        Target::Aws(stage) => aws_status(target, stage).await?,
    };
    report.after_ledger = after_ledger(target).await;
    if let Some(calls) = target.calls() {
        verbose_calls(context.global.verbose > 0, calls);
    }
    print_report(&report, context.global.output)?;
    Ok(())
}

async fn aws_status(target: &Target, stage: &AwsStage) -> Result<StatusReport, Failure> {
    let (settings, aws, name) = (&stage.settings, &stage.aws, &stage.name);
    let stacks = aws.stacks();
    let mut stack = stacks
        .deployed(&settings.stack_name, name.as_str(), &aws.region)
        .await?;
    // The description just read carries the outputs: no second DescribeStacks for them.
    let described = std::mem::take(&mut stack.outputs);
    let outputs = crate::aws::stack::outputs(described, aws, name.as_str()).await?;
    let alarms = aws
        .alarms_in_alarm(&mgrid_contract::names::resource_prefix(name.as_str()))
        .await?;
    let deployed = stack.parameters.get("ArtifactSha256").cloned();
    // A stack deployed before stages chose their architecture runs x86_64.
    let arch = stack
        .parameters
        .get("Architecture")
        .and_then(|name| Arch::from_lambda_name(name))
        .unwrap_or(Arch::X86_64);
    let here = embedded(arch).ok().map(|a| a.metadata.sha256);
    let build = match (&deployed, &here) {
        (Some(d), Some(h)) if d == h => Build::Same,
        (Some(_), Some(_)) => Build::Different,
        _ => Build::Unknown,
    };
    let [webhook, dead_letters] = target.queue_depths().await;
    let deploys = crate::aws::codedeploy::Deploys::new(aws, name.as_str());
    let group = match deploys.settings().await {
        Ok(group) => group,
        Err(failure) => {
            warn(&format!(
                "could not read the processor's deployment group: {}",
                failure.what
            ));
            None
        }
    };
    let traffic_shift = match shift_in_progress(&deploys, group.as_ref()).await {
        Ok(shift) => shift,
        Err(failure) => {
            warn(&format!(
                "could not read the processor's traffic shift: {}",
                failure.what
            ));
            None
        }
    };
    let deploy_strategy = group.as_ref().and_then(|g| g.strategy.clone()).or_else(|| {
        stack
            .parameters
            .get("DeployStrategy")
            .map(|name| crate::decide::shift::DeployStrategy::label_of(name))
    });
    let version_guard = match group.as_ref().map(|g| {
        g.guards
            .iter()
            .filter(|a| {
                crate::decide::shift::GuardAlarm::guarded_version(name.as_str(), a).is_some()
            })
            .cloned()
            .collect::<Vec<String>>()
    }) {
        Some(guards) if !guards.is_empty() => match deploys.guard_states(&guards).await {
            Ok(states) => states.into_iter().next(),
            Err(failure) => {
                warn(&format!(
                    "could not read the version guard's state: {}",
                    failure.what
                ));
                None
            }
        },
        _ => None,
    };
    let deploy_guards = group.map(|g| g.guards);
    let (configured_strategy, configured_guards) = configured_shift(settings, &stack.parameters);
    Ok(StatusReport {
        stage: name.to_string(),
        backend: BackendKind::Aws,
        webhook_queue: shown_depth(webhook),
        dead_letter_queue: shown_depth(dead_letters),
        alarms_in_alarm: alarms,
        stack: Some(StackStatus {
            stack_name: stack.name,
            region: aws.region.clone(),
            status: stack.status,
            status_reason: stack.status_reason,
            updated_at: stack.updated_at.map(format_rfc3339),
            termination_protection: stack.termination_protection,
            outputs,
            deployed_artifact: deployed,
            embedded_artifact: here,
            build,
            deploy_strategy,
            deploy_guards,
            configured_strategy,
            configured_guards,
            traffic_shift,
            version_guard,
            api_calls: aws.calls(),
        }),
        local: None,
        after_ledger: None,
    })
}

/// The deploy strategy and guards the stage's settings ask for, each only when the deployed
/// stack's parameter differs from it.
fn configured_shift(
    settings: &crate::decide::stage::StageSettings,
    deployed: &std::collections::BTreeMap<String, String>,
) -> (Option<String>, Option<String>) {
    let Ok(template) = crate::decide::template::Template::pipeline() else {
        return (None, None);
    };
    let parameters = settings.parameters(&template);
    let wanted = |name: &str| {
        parameters.iter().find(|p| p.name == name).and_then(|p| {
            p.value
                .clone()
                .or_else(|| template.parameter(name)?.default.clone())
        })
    };
    let differs = |name: &str| {
        let wanted = wanted(name)?;
        (deployed.get(name) != Some(&wanted)).then_some(wanted)
    };
    (
        differs("DeployStrategy").map(|name| crate::decide::shift::DeployStrategy::label_of(&name)),
        differs("DeployAlarms"),
    )
}

/// The processor's traffic shift, while CodeDeploy runs one, with the guards `group` holds (read
/// again when the group could not be read).
async fn shift_in_progress(
    deploys: &crate::aws::codedeploy::Deploys,
    group: Option<&crate::aws::codedeploy::GroupSettings>,
) -> Result<Option<crate::decide::shift::Shift>, Failure> {
    let Some(id) = deploys.current(None).await? else {
        return Ok(None);
    };
    let guards = match group {
        Some(group) => group.guards.clone(),
        None => deploys.guard_alarms().await?,
    };
    deploys.shift(&id, &guards).await.map(Some)
}

/// A queue's depth, or None with a warning when it cannot be read: the rest of the status is
/// still worth showing.
fn shown_depth((what, depth): (&str, Result<crate::ports::Depth, Failure>)) -> Option<QueueDepth> {
    match depth {
        Ok(depth) => Some(depth.into()),
        Err(failure) => {
            warn(&format!("could not read the {what}: {}", failure.what));
            None
        }
    }
}

/// What the unsettled index says of the last day; None (said) when it cannot be read.
async fn after_ledger(target: &Target) -> Option<Unsettled> {
    let now = now_millis();
    let read = async {
        let page = target
            .settlement()
            .await?
            .unsettled(now - UNSETTLED_SINCE_MS, now, READ_MAX)
            .await?;
        Ok::<_, Failure>(Unsettled::of(&page.items, page.more, now))
    };
    match read.await {
        Ok(unsettled) => Some(unsettled),
        Err(failure) => {
            warn(&format!(
                "could not read the unsettled payments: {}",
                failure.what
            ));
            None
        }
    }
}

fn local_status(stage: &LocalStage) -> Result<StatusReport, Failure> {
    let health = crate::local::health(&stage.paths)?;
    Ok(StatusReport {
        stage: crate::decide::config::LOCAL_STAGE.to_owned(),
        backend: BackendKind::Local,
        webhook_queue: Some(health.webhook_queue.into()),
        dead_letter_queue: Some(health.dead_letter_queue.into()),
        alarms_in_alarm: Vec::new(),
        stack: None,
        local: Some(LocalStatus {
            data_dir: stage.paths.dir.display().to_string(),
            running: health.running,
            endpoint: health.endpoint,
            transactions: health.transactions,
            unarchived: health.unarchived,
            unnotified: health.unnotified,
            notify_dead_letters: health.notify_dead_letters,
        }),
        after_ledger: None,
    })
}

impl fmt::Display for StatusReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(stack) = &self.stack {
            write_stack_head(f, &self.stage, stack)?;
        }
        if let Some(local) = &self.local {
            write_local_head(f, local)?;
        }
        match &self.webhook_queue {
            Some(queue) => writeln!(
                f,
                "queue       {} waiting, {} in flight",
                queue.waiting, queue.in_flight
            )?,
            None => writeln!(f, "queue       unknown (could not be read)")?,
        }
        match &self.dead_letter_queue {
            Some(dead) if dead.waiting + dead.in_flight == 0 => {
                writeln!(f, "dead        {GOOD}none{GOOD:#}")?
            }
            Some(dead) => writeln!(
                f,
                "dead        {ERROR}{} dead letters{ERROR:#}: `mgrid dlq stats --stage {}`",
                dead.waiting + dead.in_flight,
                self.stage
            )?,
            None => writeln!(f, "dead        unknown (could not be read)")?,
        }
        match &self.after_ledger {
            Some(after) if after.waiting_on_archive + after.waiting_on_notify == 0 => writeln!(
                f,
                "settled     {GOOD}every payment of the last day archived and its vendor told{GOOD:#}"
            )?,
            Some(after) => {
                let oldest = [&after.oldest_archive, &after.oldest_notify]
                    .into_iter()
                    .flatten()
                    .min()
                    .map(|at| format!(", the oldest received {at}"))
                    .unwrap_or_default();
                let more = if after.more { "+" } else { "" };
                writeln!(
                    f,
                    "unsettled   {WARNING}{}{more} not archived, {}{more} vendors not told{WARNING:#} in the last day{oldest}",
                    after.waiting_on_archive, after.waiting_on_notify,
                )?;
                writeln!(
                    f,
                    "            heal: `mgrid reconcile --stage {} --since 1d --heal`",
                    self.stage
                )?
            }
            None => writeln!(
                f,
                "unsettled   unknown (the ledger's unsettled index could not be read)"
            )?,
        }
        if let Some(local) = &self.local {
            write_local_data(f, local)?;
        }
        if let Some(stack) = &self.stack {
            crate::decide::metrics::write_alarms(f, "alarms      ", &self.alarms_in_alarm)?;
            if let Some(strategy) = &stack.deploy_strategy {
                writeln!(f, "deploys     {strategy} (processor traffic shift)")?;
            }
            if stack.configured_strategy.is_some() || stack.configured_guards.is_some() {
                let mut asked = Vec::new();
                if let Some(strategy) = &stack.configured_strategy {
                    asked.push(format!("strategy {strategy}"));
                }
                if let Some(guards) = &stack.configured_guards {
                    asked.push(format!(
                        "guards {}",
                        if guards.is_empty() { "none" } else { guards }
                    ));
                }
                writeln!(
                    f,
                    "            {WARNING}the settings ask for {}{WARNING:#} (a --skip-shift deploy, or a change since): the next deploy restores them",
                    asked.join(", ")
                )?;
            }
            match stack.deploy_guards.as_deref() {
                Some([]) => writeln!(
                    f,
                    "guards      {WARNING}none{WARNING:#}: nothing stops a shift but `mgrid deploy --rollback`"
                )?,
                Some(guards) => {
                    let short: Vec<&str> = guards
                        .iter()
                        .map(|g| {
                            g.strip_prefix(&mgrid_contract::names::resource_prefix(&self.stage))
                                .unwrap_or(g)
                        })
                        .collect();
                    writeln!(
                        f,
                        "guards      {} (CodeDeploy's deployment group)",
                        short.join(", ")
                    )?
                }
                None => {}
            }
            if let Some(guard) = &stack.version_guard {
                let version =
                    crate::decide::shift::GuardAlarm::guarded_version(&self.stage, &guard.name)
                        .unwrap_or("?");
                let verdict = match guard.state.as_deref() {
                    Some("OK") => format!("{GOOD}OK{GOOD:#}: judged, failing under 5%"),
                    Some("ALARM") => format!(
                        "{ERROR}ALARM{ERROR:#}: v{version} is failing webhooks (`mgrid logs --stage {}`)",
                        self.stage
                    ),
                    Some("INSUFFICIENT_DATA") => format!(
                        "{WARNING}not judged{WARNING:#} (INSUFFICIENT_DATA): too little traffic has reached v{version} in 5 minutes to judge a minute"
                    ),
                    Some(other) => other.to_owned(),
                    None => format!("{WARNING}not found{WARNING:#}"),
                };
                writeln!(f, "version     v{version}'s failure guard: {verdict}")?;
            }
            if let Some(shift) = &stack.traffic_shift {
                write!(
                    f,
                    "\n{}",
                    crate::decide::shift::live_block(shift, shift.read_at)
                )?;
                writeln!(
                    f,
                    "  stop it: `mgrid deploy --stage {} --rollback`",
                    self.stage
                )?;
            }
            if !stack.outputs.is_empty() {
                write!(f, "\n{}", render::outputs_table(&stack.outputs))?;
            }
        }
        Ok(())
    }
}

fn write_stack_head(f: &mut fmt::Formatter<'_>, stage: &str, stack: &StackStatus) -> fmt::Result {
    let healthy = crate::decide::lifecycle::plan::succeeded(&stack.status)
        || stack.status == "UPDATE_ROLLBACK_COMPLETE";
    let style = if healthy { GOOD } else { WARNING };
    writeln!(
        f,
        "stage {stage}  stack {} in {}",
        stack.stack_name, stack.region
    )?;
    writeln!(
        f,
        "status      {style}{}{style:#}{}",
        stack.status,
        stack
            .status_reason
            .as_ref()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default()
    )?;
    writeln!(
        f,
        "updated     {}",
        stack.updated_at.as_deref().unwrap_or("unknown")
    )?;
    writeln!(
        f,
        "protection  {}",
        if stack.termination_protection {
            "termination protection on"
        } else {
            "off"
        }
    )?;
    let build = match stack.build {
        Build::Same => format!("{GOOD}runs the build this mgrid carries{GOOD:#}"),
        Build::Different => format!(
            "{WARNING}runs a different build than this mgrid carries{WARNING:#} (deployed {}, here {}): `mgrid deploy` would update it",
            stack.deployed_artifact.as_deref().unwrap_or("?"),
            stack.embedded_artifact.as_deref().unwrap_or("?")
        ),
        Build::Unknown => match &stack.embedded_artifact {
            None => "unknown: this mgrid carries no artifact".to_owned(),
            Some(_) => "unknown: the stack names no artifact".to_owned(),
        },
    };
    writeln!(f, "build       {build}")
}

fn write_local_head(f: &mut fmt::Formatter<'_>, local: &LocalStatus) -> fmt::Result {
    writeln!(f, "stage local  data in {}", local.data_dir)?;
    match (&local.endpoint, local.running) {
        (Some(url), _) => writeln!(f, "mgrid dev   {GOOD}running{GOOD:#} on {url}"),
        (None, true) => writeln!(f, "mgrid dev   {GOOD}running{GOOD:#}"),
        (None, false) => writeln!(
            f,
            "mgrid dev   {WARNING}not running{WARNING:#}: start it with `mgrid dev`"
        ),
    }
}

fn write_local_data(f: &mut fmt::Formatter<'_>, local: &LocalStatus) -> fmt::Result {
    writeln!(
        f,
        "ledger      {} transactions, {} not yet archived, {} vendors not yet notified",
        local.transactions, local.unarchived, local.unnotified
    )?;
    if local.notify_dead_letters > 0 {
        writeln!(
            f,
            "            {} vendor notifications given up on (the notify URL refused them ten times, or for six hours)",
            local.notify_dead_letters
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod snapshots {
    //! The status report on both backends as a pipe gets it, and its one JSON shape.

    use super::*;
    use crate::text::plain;
    use crate::ui::output::assert_json_contract;

    fn depth(waiting: u64, in_flight: u64) -> Option<QueueDepth> {
        Some(QueueDepth { waiting, in_flight })
    }

    fn deployed(build: Build, alarms: Vec<AlarmState>, embedded: Option<&str>) -> StatusReport {
        StatusReport {
            stage: "prod".into(),
            backend: BackendKind::Aws,
            webhook_queue: depth(12, 40),
            dead_letter_queue: depth(0, 0),
            alarms_in_alarm: alarms,
            stack: Some(StackStatus {
                stack_name: "marketgrid-prod".into(),
                region: "eu-west-1".into(),
                status: "UPDATE_COMPLETE".into(),
                status_reason: None,
                updated_at: Some("2026-11-30T09:00:00Z".into()),
                termination_protection: true,
                outputs: vec![StackOutput {
                    key: "StripeWebhookUrl".into(),
                    value: "https://hooks.example.com/webhook/stripe".into(),
                    description: None,
                }],
                deployed_artifact: Some("9f2c".into()),
                embedded_artifact: embedded.map(str::to_owned),
                build,
                deploy_strategy: Some("canary10-5m".into()),
                configured_strategy: None,
                configured_guards: None,
                deploy_guards: Some(vec![
                    "marketgrid-prod-version-failures-v8".into(),
                    "marketgrid-prod-processor-throttles".into(),
                ]),
                traffic_shift: None,
                version_guard: Some(crate::decide::shift::GuardState {
                    name: "marketgrid-prod-version-failures-v8".into(),
                    state: Some("INSUFFICIENT_DATA".into()),
                }),
                api_calls: 7,
            }),
            local: None,
            after_ledger: Some(Unsettled::default()),
        }
    }

    fn local(running: bool, dead: u64) -> StatusReport {
        StatusReport {
            stage: "local".into(),
            backend: BackendKind::Local,
            webhook_queue: depth(3, 10),
            dead_letter_queue: depth(dead, 0),
            alarms_in_alarm: Vec::new(),
            stack: None,
            local: Some(LocalStatus {
                data_dir: ".mgrid/local".into(),
                running,
                endpoint: running.then(|| "http://127.0.0.1:8787".to_owned()),
                transactions: 1_204,
                unarchived: 4,
                unnotified: 1,
                notify_dead_letters: u64::from(dead > 0) as i64,
            }),
            after_ledger: Some(Unsettled {
                waiting_on_archive: 2,
                waiting_on_notify: 3,
                oldest_archive: Some("2026-11-30T08:00:00.000Z".into()),
                oldest_notify: Some("2026-11-30T07:59:00.000Z".into()),
                more: false,
            }),
        }
    }

    #[test]
    fn aws_stage() {
        let same = deployed(Build::Same, Vec::new(), Some("a41d"));
        insta::assert_snapshot!("status_same_build", plain(&same));
        insta::assert_snapshot!(
            "status_same_build_80_columns",
            crate::text::at_80_columns(&same)
        );
        assert_json_contract("status", &same);
        let alarm = AlarmState {
            name: "marketgrid-prod-dlq-depth".into(),
            reason: Some("Threshold Crossed: 1 datapoint [12.0] was greater than 0.0".into()),
            since: Some("2026-11-30T08:58:00Z".into()),
        };
        let mut alarmed = deployed(Build::Different, vec![alarm], Some("a41d"));
        alarmed.dead_letter_queue = depth(12, 0);
        insta::assert_snapshot!("status_different_build_in_alarm", plain(&alarmed));
        let unknown = StatusReport {
            webhook_queue: None,
            ..deployed(Build::Unknown, Vec::new(), None)
        };
        insta::assert_snapshot!("status_unknown_build", plain(&unknown));
        assert_json_contract("status", &unknown);
        let mut shifting = deployed(Build::Different, Vec::new(), Some("a41d"));
        if let Some(stack) = shifting.stack.as_mut() {
            stack.traffic_shift = Some(crate::decide::shift::Shift {
                deployment_id: "d-7XH3KQ2PA".into(),
                status: crate::decide::shift::ShiftStatus::InProgress,
                strategy: "canary10-5m".into(),
                from_version: Some("7".into()),
                to_version: Some("8".into()),
                percent_on_new: 10.0,
                started_at: Some(1_795_923_000_000),
                finished_at: None,
                guards: vec![crate::decide::shift::GuardState {
                    name: "marketgrid-prod-processor-errors".into(),
                    state: Some("OK".into()),
                }],
                traffic: Vec::new(),
                stopped: None,
                read_at: 1_795_923_061_000,
            });
        }
        insta::assert_snapshot!("status_shift_in_progress", plain(&shifting));
        assert_json_contract("status", &shifting);
    }

    #[test]
    fn local_stage() {
        let running = local(true, 2);
        insta::assert_snapshot!("status_local_running", plain(&running));
        insta::assert_snapshot!(
            "status_local_running_80_columns",
            crate::text::at_80_columns(&running)
        );
        assert_json_contract("status", &running);
        insta::assert_snapshot!("status_local_stopped", plain(&local(false, 0)));
    }

    #[test]
    fn both_backends_have_one_shape() {
        let keys = |report: &StatusReport| -> Vec<String> {
            serde_json::to_value(report)
                .expect("serializes")
                .as_object()
                .expect("an object")
                .keys()
                .cloned()
                .collect()
        };
        assert_eq!(
            keys(&deployed(Build::Same, Vec::new(), None)),
            keys(&local(true, 0))
        );
    }
}
