//! `mgrid status`: where a stage stands: its stack's status and last update, its outputs, the
//! alarms in ALARM, and whether it runs the build this mgrid carries.

use std::fmt;

use anyhow::Result;
use mgrid_contract::clock::format_rfc3339;
use serde::Serialize;

use crate::artifact::embedded;
use crate::commands::Context;
use crate::lifecycle::model::StackOutput;
use crate::lifecycle::render;
use crate::metrics::AlarmState;
use crate::output::{ERROR, GOOD, WARNING, print_report};
use crate::target::{LocalStage, Target};
use crate::terminal::verbose_calls;

/// Whether the stage runs the Lambda build this mgrid carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Build {
    Same,
    Different,
    /// The stack names no artifact, or this mgrid carries none.
    Unknown,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusReport {
    pub stage: String,
    pub stack_name: String,
    pub region: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub updated_at: Option<String>,
    pub termination_protection: bool,
    pub outputs: Vec<StackOutput>,
    pub alarms_in_alarm: Vec<AlarmState>,
    pub deployed_artifact: Option<String>,
    pub embedded_artifact: Option<String>,
    pub build: Build,
    pub api_calls: usize,
}

pub async fn run(context: &Context, target: &Target) -> Result<()> {
    let stage = match target {
        Target::Local(local) => {
            print_report(&LocalStatusReport::of(local)?, context.global.output)?;
            return Ok(());
        }
        Target::Aws(stage) => stage,
    };
    let (settings, aws) = (&stage.settings, &stage.aws);
    let stage = &stage.name;
    let stacks = aws.stacks();
    let stack = stacks
        .deployed(&settings.stack_name, stage.as_str(), &aws.region)
        .await?;
    let outputs = crate::aws::stack::outputs(&stacks, aws, &stack.name, stage.as_str()).await?;
    let alarms = aws.alarms_in_alarm(&format!("marketgrid-{stage}-")).await?;
    let deployed = stack.parameters.get("ArtifactSha256").cloned();
    let here = embedded().ok().map(|a| a.metadata.sha256);
    let build = match (&deployed, &here) {
        (Some(d), Some(h)) if d == h => Build::Same,
        (Some(_), Some(_)) => Build::Different,
        _ => Build::Unknown,
    };
    let report = StatusReport {
        stage: stage.to_string(),
        stack_name: stack.name,
        region: aws.region.clone(),
        status: stack.status,
        status_reason: stack.status_reason,
        updated_at: stack.updated_at.map(format_rfc3339),
        termination_protection: stack.termination_protection,
        outputs,
        alarms_in_alarm: alarms,
        deployed_artifact: deployed,
        embedded_artifact: here,
        build,
        api_calls: aws.calls(),
    };
    verbose_calls(context.global.verbose > 0, aws.calls());
    print_report(&report, context.global.output)?;
    Ok(())
}

impl fmt::Display for StatusReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let healthy = crate::lifecycle::plan::succeeded(&self.status)
            || self.status == "UPDATE_ROLLBACK_COMPLETE";
        let style = if healthy { GOOD } else { WARNING };
        writeln!(
            f,
            "stage {}  stack {} in {}",
            self.stage, self.stack_name, self.region
        )?;
        writeln!(
            f,
            "status      {style}{}{style:#}{}",
            self.status,
            self.status_reason
                .as_ref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        )?;
        writeln!(
            f,
            "updated     {}",
            self.updated_at.as_deref().unwrap_or("unknown")
        )?;
        writeln!(
            f,
            "protection  {}",
            if self.termination_protection {
                "termination protection on"
            } else {
                "off"
            }
        )?;
        let build = match self.build {
            Build::Same => format!("{GOOD}runs the build this mgrid carries{GOOD:#}"),
            Build::Different => format!(
                "{WARNING}runs a different build than this mgrid carries{WARNING:#} (deployed {}, here {}): `mgrid deploy` would update it",
                self.deployed_artifact.as_deref().unwrap_or("?"),
                self.embedded_artifact.as_deref().unwrap_or("?")
            ),
            Build::Unknown => match &self.embedded_artifact {
                None => "unknown: this mgrid carries no artifact".to_owned(),
                Some(_) => "unknown: the stack names no artifact".to_owned(),
            },
        };
        writeln!(f, "build       {build}")?;
        crate::metrics::write_alarms(f, "alarms      ", &self.alarms_in_alarm)?;
        if !self.outputs.is_empty() {
            write!(f, "\n{}", render::outputs_table(&self.outputs))?;
        }
        Ok(())
    }
}

/// Where the local stage stands: whether `mgrid dev` runs on its data, and what the data holds.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LocalStatusReport {
    pub stage: &'static str,
    pub data_dir: String,
    pub running: bool,
    pub endpoint: Option<String>,
    pub webhook_queue: QueueDepth,
    pub dead_letter_queue: QueueDepth,
    pub transactions: i64,
    /// Recorded but not yet archived.
    pub unarchived: i64,
    /// Recorded but the vendor not yet notified (waiting, or retrying with backoff).
    pub unnotified: i64,
    /// Notifications given up on after the notify pipe's bounds (ten tries, or six hours).
    pub notify_dead_letters: i64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueDepth {
    pub waiting: u64,
    pub in_flight: u64,
}

impl LocalStatusReport {
    fn of(stage: &LocalStage) -> Result<LocalStatusReport, crate::failure::Failure> {
        let health = crate::local::health(&stage.paths)?;
        let depth = |d: crate::ports::Depth| QueueDepth {
            waiting: d.visible,
            in_flight: d.in_flight,
        };
        Ok(LocalStatusReport {
            stage: crate::target::LOCAL,
            data_dir: stage.paths.dir.display().to_string(),
            running: health.running,
            endpoint: health.endpoint,
            webhook_queue: depth(health.webhook_queue),
            dead_letter_queue: depth(health.dead_letter_queue),
            transactions: health.transactions,
            unarchived: health.unarchived,
            unnotified: health.unnotified,
            notify_dead_letters: health.notify_dead_letters,
        })
    }
}

impl fmt::Display for LocalStatusReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "stage local  data in {}", self.data_dir)?;
        match (&self.endpoint, self.running) {
            (Some(url), _) => writeln!(f, "mgrid dev   {GOOD}running{GOOD:#} on {url}")?,
            (None, true) => writeln!(f, "mgrid dev   {GOOD}running{GOOD:#}")?,
            (None, false) => writeln!(
                f,
                "mgrid dev   {WARNING}not running{WARNING:#}: start it with `mgrid dev`"
            )?,
        }
        writeln!(
            f,
            "queue       {} waiting, {} in flight",
            self.webhook_queue.waiting, self.webhook_queue.in_flight
        )?;
        let dead = self.dead_letter_queue.waiting + self.dead_letter_queue.in_flight;
        if dead == 0 {
            writeln!(f, "dead        {GOOD}none{GOOD:#}")?;
        } else {
            writeln!(
                f,
                "dead        {ERROR}{dead} dead letters{ERROR:#}: `mgrid dlq stats --stage local`"
            )?;
        }
        writeln!(
            f,
            "ledger      {} transactions, {} not yet archived, {} vendors not yet notified",
            self.transactions, self.unarchived, self.unnotified
        )?;
        if self.notify_dead_letters > 0 {
            writeln!(
                f,
                "            {} vendor notifications given up on (the notify URL refused them ten times, or for six hours)",
                self.notify_dead_letters
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod snapshots {
    //! Both status reports as a pipe gets them.

    use super::*;
    use crate::output::plain;

    fn report(build: Build, alarms: Vec<AlarmState>) -> StatusReport {
        StatusReport {
            stage: "prod".into(),
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
            alarms_in_alarm: alarms,
            deployed_artifact: Some("9f2c".into()),
            embedded_artifact: Some("a41d".into()),
            build,
            api_calls: 5,
        }
    }

    #[test]
    fn aws_stage() {
        insta::assert_snapshot!("status_same_build", plain(&report(Build::Same, Vec::new())));
        let alarm = AlarmState {
            name: "marketgrid-prod-dlq-depth".into(),
            reason: Some("Threshold Crossed: 1 datapoint [12.0] was greater than 0.0".into()),
            since: Some("2026-11-30T08:58:00Z".into()),
        };
        insta::assert_snapshot!(
            "status_different_build_in_alarm",
            plain(&report(Build::Different, vec![alarm]))
        );
        let unknown = StatusReport {
            embedded_artifact: None,
            ..report(Build::Unknown, Vec::new())
        };
        insta::assert_snapshot!("status_unknown_build", plain(&unknown));
        crate::output::assert_json_style(&unknown);
    }

    #[test]
    fn local_stage() {
        let report = LocalStatusReport {
            stage: crate::target::LOCAL,
            data_dir: ".mgrid/local".into(),
            running: true,
            endpoint: Some("http://127.0.0.1:8787".into()),
            webhook_queue: QueueDepth {
                waiting: 3,
                in_flight: 10,
            },
            dead_letter_queue: QueueDepth {
                waiting: 2,
                in_flight: 0,
            },
            transactions: 1_204,
            unarchived: 4,
            unnotified: 1,
            notify_dead_letters: 1,
        };
        insta::assert_snapshot!("status_local_running", plain(&report));
        crate::output::assert_json_style(&report);
        let stopped = LocalStatusReport {
            running: false,
            endpoint: None,
            dead_letter_queue: QueueDepth {
                waiting: 0,
                in_flight: 0,
            },
            notify_dead_letters: 0,
            ..report
        };
        insta::assert_snapshot!("status_local_stopped", plain(&stopped));
        crate::output::assert_json_style(&stopped);
    }
}
