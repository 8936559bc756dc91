//! Gradual processor deploys. A stage's processor alias is moved by CodeDeploy (the stack's
//! `CodeDeployLambdaAliasUpdate` update policy): a strategy says how fast traffic goes to the
//! new version, guard alarms stop it and send all traffic back. This module holds the settings
//! (strategies, guard alarms), the state of a shift as mgrid reads it, and the live view of it;
//! `aws::codedeploy` reads it from AWS.

use std::collections::BTreeMap;

use mgrid_contract::EpochMillis;
use serde::{Deserialize, Serialize};

use crate::text::{ERROR as BAD, GOOD, WARNING};

/// How traffic moves to a new processor version: CodeDeploy's predefined Lambda configurations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub enum DeployStrategy {
    #[serde(rename = "all-at-once")]
    AllAtOnce,
    #[serde(rename = "canary10-5m")]
    Canary10For5m,
    #[serde(rename = "canary10-10m")]
    Canary10For10m,
    #[serde(rename = "canary10-15m")]
    Canary10For15m,
    #[serde(rename = "canary10-30m")]
    Canary10For30m,
    #[serde(rename = "linear10-1m")]
    Linear10Every1m,
    #[serde(rename = "linear10-2m")]
    Linear10Every2m,
    #[serde(rename = "linear10-3m")]
    Linear10Every3m,
    #[serde(rename = "linear10-10m")]
    Linear10Every10m,
}

/// The steps of a strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Steps {
    AllAtOnce,
    /// `percent` for `minutes`, then the rest.
    Canary {
        percent: u32,
        minutes: u32,
    },
    /// `percent` more every `minutes`.
    Linear {
        percent: u32,
        minutes: u32,
    },
}

impl DeployStrategy {
    pub const ALL: [DeployStrategy; 9] = [
        DeployStrategy::AllAtOnce,
        DeployStrategy::Canary10For5m,
        DeployStrategy::Canary10For10m,
        DeployStrategy::Canary10For15m,
        DeployStrategy::Canary10For30m,
        DeployStrategy::Linear10Every1m,
        DeployStrategy::Linear10Every2m,
        DeployStrategy::Linear10Every3m,
        DeployStrategy::Linear10Every10m,
    ];

    /// A protected stage shifts by a canary unless its file says otherwise; others at once.
    pub fn default_for(protected: bool) -> DeployStrategy {
        if protected {
            DeployStrategy::Canary10For5m
        } else {
            DeployStrategy::AllAtOnce
        }
    }

    /// The name mgrid.toml uses.
    pub fn name(self) -> &'static str {
        match self {
            DeployStrategy::AllAtOnce => "all-at-once",
            DeployStrategy::Canary10For5m => "canary10-5m",
            DeployStrategy::Canary10For10m => "canary10-10m",
            DeployStrategy::Canary10For15m => "canary10-15m",
            DeployStrategy::Canary10For30m => "canary10-30m",
            DeployStrategy::Linear10Every1m => "linear10-1m",
            DeployStrategy::Linear10Every2m => "linear10-2m",
            DeployStrategy::Linear10Every3m => "linear10-3m",
            DeployStrategy::Linear10Every10m => "linear10-10m",
        }
    }

    pub fn steps(self) -> Steps {
        let canary = |minutes| Steps::Canary {
            percent: 10,
            minutes,
        };
        let linear = |minutes| Steps::Linear {
            percent: 10,
            minutes,
        };
        match self {
            DeployStrategy::AllAtOnce => Steps::AllAtOnce,
            DeployStrategy::Canary10For5m => canary(5),
            DeployStrategy::Canary10For10m => canary(10),
            DeployStrategy::Canary10For15m => canary(15),
            DeployStrategy::Canary10For30m => canary(30),
            DeployStrategy::Linear10Every1m => linear(1),
            DeployStrategy::Linear10Every2m => linear(2),
            DeployStrategy::Linear10Every3m => linear(3),
            DeployStrategy::Linear10Every10m => linear(10),
        }
    }

    /// CodeDeploy's name of the configuration (the stack's DeployStrategy parameter).
    pub fn codedeploy_name(self) -> &'static str {
        match self {
            DeployStrategy::AllAtOnce => "CodeDeployDefault.LambdaAllAtOnce",
            DeployStrategy::Canary10For5m => "CodeDeployDefault.LambdaCanary10Percent5Minutes",
            DeployStrategy::Canary10For10m => "CodeDeployDefault.LambdaCanary10Percent10Minutes",
            DeployStrategy::Canary10For15m => "CodeDeployDefault.LambdaCanary10Percent15Minutes",
            DeployStrategy::Canary10For30m => "CodeDeployDefault.LambdaCanary10Percent30Minutes",
            DeployStrategy::Linear10Every1m => {
                "CodeDeployDefault.LambdaLinear10PercentEvery1Minute"
            }
            DeployStrategy::Linear10Every2m => {
                "CodeDeployDefault.LambdaLinear10PercentEvery2Minutes"
            }
            DeployStrategy::Linear10Every3m => {
                "CodeDeployDefault.LambdaLinear10PercentEvery3Minutes"
            }
            DeployStrategy::Linear10Every10m => {
                "CodeDeployDefault.LambdaLinear10PercentEvery10Minutes"
            }
        }
    }

    pub fn from_codedeploy_name(name: &str) -> Option<DeployStrategy> {
        DeployStrategy::ALL
            .into_iter()
            .find(|s| s.codedeploy_name() == name)
    }

    /// mgrid's name for CodeDeploy's configuration `name`, or `name` itself when it is not
    /// one of mgrid's (a configuration set outside mgrid).
    pub fn label_of(name: &str) -> String {
        DeployStrategy::from_codedeploy_name(name)
            .map(|s| s.name().to_owned())
            .unwrap_or_else(|| name.to_owned())
    }

    pub fn from_name(name: &str) -> Option<DeployStrategy> {
        DeployStrategy::ALL.into_iter().find(|s| s.name() == name)
    }

    /// How long a shift that goes well takes, in minutes.
    pub fn minutes(self) -> u32 {
        match self.steps() {
            Steps::AllAtOnce => 0,
            Steps::Canary { minutes, .. } => minutes,
            Steps::Linear { percent, minutes } => (100 / percent - 1) * minutes,
        }
    }

    /// "10% for 5 minutes, then all" and the like.
    pub fn describe(self) -> String {
        match self.steps() {
            Steps::AllAtOnce => "all traffic at once".to_owned(),
            Steps::Canary { percent, minutes } => {
                format!("{percent}% for {minutes} min, then all")
            }
            Steps::Linear { percent, minutes } => format!(
                "{percent}% more every {minutes} min (all after {} min)",
                self.minutes()
            ),
        }
    }
}

/// A stage alarm that may guard a processor deploy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum GuardAlarm {
    /// The version being deployed fails more than 5% of the webhooks it handles (retried or
    /// dead-lettered), or every one of at least 3 in a minute: the guard that sees a bad
    /// version, whose failures are not Lambda errors. An alarm of each version's own.
    VersionFailures,
    /// The processor fails whole invocations.
    ProcessorErrors,
    /// The processor is throttled.
    ProcessorThrottles,
    /// Webhooks are dead-lettered.
    DlqNotEmpty,
    /// Webhooks wait in the queue for more than 5 minutes.
    OldestWebhookAge,
    /// The webhook API answers 5XX.
    #[serde(rename = "api-5xx")]
    Api5xx,
}

impl GuardAlarm {
    pub const ALL: [GuardAlarm; 6] = [
        GuardAlarm::VersionFailures,
        GuardAlarm::ProcessorErrors,
        GuardAlarm::ProcessorThrottles,
        GuardAlarm::DlqNotEmpty,
        GuardAlarm::OldestWebhookAge,
        GuardAlarm::Api5xx,
    ];

    /// The new version's failures and throttles: what a bad version or a starved one does to
    /// the webhooks. The version guard counts what the new version dead-letters (a dead letter
    /// is a failure first); dlq-not-empty judges the queue, not the version (one old dead
    /// letter, from any version, would block every deploy and roll back a good canary), so it
    /// is an operator alarm and an optional guard. (api-5xx says nothing about the processor:
    /// the API answers from SQS.)
    pub const DEFAULT: [GuardAlarm; 2] =
        [GuardAlarm::VersionFailures, GuardAlarm::ProcessorThrottles];

    /// The name in mgrid.toml and in the stack's DeployAlarms parameter.
    pub fn name(self) -> &'static str {
        match self {
            GuardAlarm::VersionFailures => "version-failures",
            GuardAlarm::ProcessorErrors => "processor-errors",
            GuardAlarm::ProcessorThrottles => "processor-throttles",
            GuardAlarm::DlqNotEmpty => "dlq-not-empty",
            GuardAlarm::OldestWebhookAge => "oldest-webhook-age",
            GuardAlarm::Api5xx => "api-5xx",
        }
    }

    /// The CloudWatch alarm's name on a stage.
    pub fn alarm_name(self, stage: &str) -> String {
        mgrid_contract::names::resource_name(stage, self.name())
    }

    /// Whether `alarm` is a version's own failure guard (`<prefix>version-failures-v<N>`, or the
    /// unversioned name stacks deployed before per-version guards carry). When a deploy
    /// publishes a new version, every such alarm judges a version it replaces: the new
    /// version's guard is a new alarm, created in INSUFFICIENT_DATA.
    pub fn is_version_guard(stage: &str, alarm: &str) -> bool {
        let name = GuardAlarm::VersionFailures.alarm_name(stage);
        alarm == name || GuardAlarm::guarded_version(stage, alarm).is_some()
    }

    /// The version a `<prefix>version-failures-v<N>` alarm guards.
    pub fn guarded_version<'a>(stage: &str, alarm: &'a str) -> Option<&'a str> {
        let name = GuardAlarm::VersionFailures.alarm_name(stage);
        alarm
            .strip_prefix(name.as_str())
            .and_then(|rest| rest.strip_prefix("-v"))
            .filter(|version| !version.is_empty() && version.bytes().all(|b| b.is_ascii_digit()))
    }

    pub fn from_name(name: &str) -> Option<GuardAlarm> {
        GuardAlarm::ALL.into_iter().find(|a| a.name() == name)
    }
}

/// Where a CodeDeploy deployment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub enum ShiftStatus {
    /// Created, queued, or ready: no traffic has moved yet.
    Starting,
    InProgress,
    /// Traffic is all on the new version; CodeDeploy is finishing.
    Baking,
    Succeeded,
    /// Stopped by an alarm, a failure or a request; traffic went back.
    RolledBack,
    /// Stopped without a rollback: traffic stays where it was.
    Stopped,
}

impl ShiftStatus {
    /// From CodeDeploy's DeploymentStatus, with whether it rolled back.
    pub fn from_codedeploy(status: &str, rolled_back: bool) -> ShiftStatus {
        match status {
            "InProgress" => ShiftStatus::InProgress,
            "Baking" => ShiftStatus::Baking,
            "Succeeded" => ShiftStatus::Succeeded,
            "Failed" | "Stopped" if rolled_back => ShiftStatus::RolledBack,
            "Failed" | "Stopped" => ShiftStatus::Stopped,
            _ => ShiftStatus::Starting,
        }
    }

    pub fn finished(self) -> bool {
        matches!(
            self,
            ShiftStatus::Succeeded | ShiftStatus::RolledBack | ShiftStatus::Stopped
        )
    }
}

/// A guard alarm and its state now.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct GuardState {
    pub name: String,
    /// OK, ALARM or INSUFFICIENT_DATA; None when the alarm was not found.
    pub state: Option<String>,
}

/// Why a shift stopped, and what the new version did while it had traffic.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Stopped {
    /// CodeDeploy's error code (ALARM_ACTIVE, DEPLOYMENT_STOPPED...).
    pub code: Option<String>,
    /// CodeDeploy's own words.
    pub message: Option<String>,
    /// The alarms CodeDeploy names as having fired.
    pub alarms: Vec<String>,
    /// `mgrid deploy --rollback` or another StopDeployment.
    pub by_request: bool,
    /// Errors of the new version while it had traffic (None when CloudWatch could not say).
    pub new_version_errors: Option<f64>,
    /// How many webhooks the DLQ gained in that window.
    pub dlq_growth: Option<f64>,
}

/// What one processor version did with the webhooks it handled, by its own metrics
/// (`MarketGrid` SuccessfulTransactions, DuplicateWebhooks and FailedWebhooks by Version).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct VersionTally {
    pub version: String,
    pub recorded: f64,
    pub duplicates: f64,
    /// Failed webhooks by reason (retried or dead-lettered), the reasons with none left out.
    pub failed: BTreeMap<String, f64>,
}

impl VersionTally {
    pub fn failed_total(&self) -> f64 {
        self.failed.values().sum()
    }

    pub fn handled(&self) -> f64 {
        self.recorded + self.duplicates + self.failed_total()
    }

    /// "131 handled, 40 failed (31%)".
    fn summary(&self) -> String {
        let handled = self.handled();
        let failed = self.failed_total();
        if handled == 0.0 {
            return "nothing handled yet".to_owned();
        }
        let share = failed / handled * 100.0;
        let share = if share < 10.0 {
            format!("{share:.1}%")
        } else {
            format!("{share:.0}%")
        };
        let failed = if failed > 0.0 {
            format!("{BAD}{failed:.0} failed{BAD:#} ({share})")
        } else {
            format!("{GOOD}0 failed{GOOD:#}")
        };
        format!("{handled:.0} handled, {failed}")
    }

    /// "ledger-unavailable 38, held-for-order 2", largest first.
    fn reasons(&self) -> String {
        let mut reasons: Vec<(&String, &f64)> = self.failed.iter().collect();
        reasons.sort_by(|a, b| b.1.total_cmp(a.1).then(a.0.cmp(b.0)));
        reasons
            .iter()
            .map(|(reason, n)| format!("{reason} {n:.0}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// One series of a version's tally: which metric, of which version, for which reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TallySeries {
    /// A GetMetricData id: a lowercase letter, then letters, digits and underscores.
    pub id: String,
    pub metric: &'static str,
    pub version: String,
    /// The Reason dimension, for FailedWebhooks.
    pub reason: Option<&'static str>,
}

/// Every reason the processor counts a failure under: dead-letter reasons and retry causes.
pub fn failure_reasons() -> Vec<&'static str> {
    mgrid_contract::FailureReason::ALL
        .iter()
        .map(|r| r.as_str())
        .chain(
            mgrid_pipeline::processor::RetryCause::ALL
                .iter()
                .map(|c| c.as_str()),
        )
        .collect()
}

/// The series that tally `versions`: recorded, duplicates, and failures by each reason.
pub fn tally_series(versions: &[String]) -> Vec<TallySeries> {
    use mgrid_pipeline::metrics::{DUPLICATE_WEBHOOKS, FAILED_WEBHOOKS, SUCCESSFUL_TRANSACTIONS};
    let mut series = Vec::new();
    for (v, version) in versions.iter().enumerate() {
        let one = |id: String, metric, reason| TallySeries {
            id,
            metric,
            version: version.clone(),
            reason,
        };
        series.push(one(format!("v{v}_recorded"), SUCCESSFUL_TRANSACTIONS, None));
        series.push(one(format!("v{v}_duplicates"), DUPLICATE_WEBHOOKS, None));
        for (r, reason) in failure_reasons().into_iter().enumerate() {
            series.push(one(
                format!("v{v}_failed{r}"),
                FAILED_WEBHOOKS,
                Some(reason),
            ));
        }
    }
    series
}

/// The tallies of `versions` from each series' sum over the window (a series CloudWatch had no
/// data for counts nothing).
pub fn tallies(
    versions: &[String],
    series: &[TallySeries],
    sums: &BTreeMap<String, f64>,
) -> Vec<VersionTally> {
    use mgrid_pipeline::metrics::{DUPLICATE_WEBHOOKS, SUCCESSFUL_TRANSACTIONS};
    versions
        .iter()
        .map(|version| {
            let mut tally = VersionTally {
                version: version.clone(),
                recorded: 0.0,
                duplicates: 0.0,
                failed: BTreeMap::new(),
            };
            for one in series.iter().filter(|s| &s.version == version) {
                let sum = sums.get(&one.id).copied().unwrap_or(0.0);
                match (one.metric, one.reason) {
                    (SUCCESSFUL_TRANSACTIONS, _) => tally.recorded += sum,
                    (DUPLICATE_WEBHOOKS, _) => tally.duplicates += sum,
                    (_, Some(reason)) if sum > 0.0 => {
                        *tally.failed.entry(reason.to_owned()).or_default() += sum
                    }
                    _ => {}
                }
            }
            tally
        })
        .collect()
}

/// A processor deploy's traffic shift, as CodeDeploy reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Shift {
    pub deployment_id: String,
    pub status: ShiftStatus,
    /// mgrid's name of the configuration, or CodeDeploy's when it is not one of mgrid's.
    pub strategy: String,
    pub from_version: Option<String>,
    pub to_version: Option<String>,
    /// Share of traffic on the new version, 0 to 100.
    pub percent_on_new: f64,
    /// When traffic started to move (CodeDeploy's AllowTraffic), else when it was created.
    #[serde(serialize_with = "crate::clock::rfc3339_option")]
    #[cfg_attr(test, schemars(with = "Option<crate::clock::Rfc3339>"))]
    pub started_at: Option<EpochMillis>,
    #[serde(serialize_with = "crate::clock::rfc3339_option")]
    #[cfg_attr(test, schemars(with = "Option<crate::clock::Rfc3339>"))]
    pub finished_at: Option<EpochMillis>,
    pub guards: Vec<GuardState>,
    /// What each version did with the webhooks it handled since traffic started to move (the
    /// previous version first): empty until CloudWatch has been read.
    pub traffic: Vec<VersionTally>,
    pub stopped: Option<Stopped>,
    /// When this reading was taken.
    #[serde(serialize_with = "crate::clock::rfc3339")]
    #[cfg_attr(test, schemars(with = "crate::clock::Rfc3339"))]
    pub read_at: EpochMillis,
}

/// The next step of a shift in progress: when, and to what share.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NextStep {
    pub at: EpochMillis,
    pub percent: u32,
}

impl Shift {
    pub fn known_strategy(&self) -> Option<DeployStrategy> {
        DeployStrategy::from_name(&self.strategy)
    }

    /// When the next step should come, from the strategy and when traffic started to move.
    pub fn next_step(&self) -> Option<NextStep> {
        if self.status != ShiftStatus::InProgress {
            return None;
        }
        let started = self.started_at?;
        let minute = 60_000;
        match self.known_strategy()?.steps() {
            Steps::AllAtOnce => None,
            Steps::Canary { minutes, .. } => Some(NextStep {
                at: started + i64::from(minutes) * minute,
                percent: 100,
            }),
            Steps::Linear { percent, minutes } => {
                // CodeDeploy moves the first step at once, then one every `minutes`.
                let done = ((self.percent_on_new / f64::from(percent)).round() as u32).max(1);
                if done * percent >= 100 {
                    return None;
                }
                Some(NextStep {
                    at: started + i64::from(done * minutes) * minute,
                    percent: ((done + 1) * percent).min(100),
                })
            }
        }
    }

    /// "not judged: 7 webhooks reached v8, …" when a shift that ended with all traffic on the
    /// new version left that version's own failure guard in INSUFFICIENT_DATA: too little
    /// traffic reached it for any minute to be judged, so the canary passed on no evidence. None
    /// when the guard judged it, when no such guard watched, and for an all-at-once shift
    /// (no canary to judge).
    pub fn not_judged(&self) -> Option<String> {
        if self.status != ShiftStatus::Succeeded
            || self.known_strategy() == Some(DeployStrategy::AllAtOnce)
        {
            return None;
        }
        let to = self.to_version.as_ref()?;
        let suffix = format!("-{}-v{to}", GuardAlarm::VersionFailures.name());
        let guard = self.guards.iter().find(|g| g.name.ends_with(&suffix))?;
        if guard.state.as_deref() != Some("INSUFFICIENT_DATA") {
            return None;
        }
        let reached = self
            .traffic
            .iter()
            .find(|t| &t.version == to)
            .map(VersionTally::handled)
            .unwrap_or(0.0);
        Some(format!(
            "not judged: {reached:.0} webhook{} reached v{to} during its canary, too few for its failure guard ({}) to judge a minute (it needs 10 in a minute, or 3 all failing)",
            if reached == 1.0 { "" } else { "s" },
            guard.name
        ))
    }

    fn versions(&self) -> String {
        match (&self.from_version, &self.to_version) {
            (Some(from), Some(to)) => format!("v{from} → v{to}"),
            (None, Some(to)) => format!("→ v{to}"),
            _ => "new version".to_owned(),
        }
    }

    fn new_version(&self) -> String {
        self.to_version
            .as_ref()
            .map(|v| format!("v{v}"))
            .unwrap_or_else(|| "the new version".to_owned())
    }

    fn old_version(&self) -> String {
        self.from_version
            .as_ref()
            .map(|v| format!("v{v}"))
            .unwrap_or_else(|| "the previous version".to_owned())
    }
}

/// The live view of a shift: a few lines, redrawn each poll (times relative to `now`).
pub fn live_block(shift: &Shift, now: EpochMillis) -> String {
    let mut out = format!(
        "processor traffic shift  {}  {}  ({})\n",
        shift.strategy,
        shift.versions(),
        shift.deployment_id
    );
    let bar = bar(shift.percent_on_new);
    let state = match shift.status {
        ShiftStatus::Starting => "starting: no traffic moved yet".to_owned(),
        ShiftStatus::InProgress => match shift.next_step() {
            Some(next) => format!(
                "next: {}% in {}",
                next.percent,
                duration(next.at.saturating_sub(now))
            ),
            None => "shifting".to_owned(),
        },
        ShiftStatus::Baking => "all traffic moved; CodeDeploy is finishing".to_owned(),
        ShiftStatus::Succeeded => match shift.not_judged() {
            Some(_) => format!("{WARNING}done, not judged{WARNING:#}"),
            None => format!("{GOOD}done{GOOD:#}"),
        },
        ShiftStatus::RolledBack => format!(
            "{BAD}rolled back{BAD:#}: all traffic is on {}",
            shift.old_version()
        ),
        ShiftStatus::Stopped => format!("{WARNING}stopped{WARNING:#} without a rollback"),
    };
    out.push_str(&format!(
        "  {bar} {:>3.0}% on {}   {state}\n",
        shift.percent_on_new,
        shift.new_version()
    ));
    if shift.guards.is_empty() {
        out.push_str(&format!(
            "  {WARNING}no guard alarms{WARNING:#}: nothing stops this shift but `mgrid deploy --rollback`\n"
        ));
    } else {
        let guards: Vec<String> = shift
            .guards
            .iter()
            .map(|g| {
                let short = g.name.splitn(3, '-').nth(2).unwrap_or(&g.name);
                match g.state.as_deref() {
                    Some("OK") => format!("{short} {GOOD}OK{GOOD:#}"),
                    Some("ALARM") => format!("{short} {BAD}ALARM{BAD:#}"),
                    Some(other) => format!("{short} {WARNING}{other}{WARNING:#}"),
                    None => format!("{short} {WARNING}not found{WARNING:#}"),
                }
            })
            .collect();
        out.push_str(&format!("  guards: {}\n", guards.join(" · ")));
    }
    if !shift.traffic.is_empty() {
        let versions: Vec<String> = shift
            .traffic
            .iter()
            .map(|tally| {
                let role = if Some(&tally.version) == shift.to_version.as_ref() {
                    "new"
                } else {
                    "old"
                };
                format!("v{} ({role}) {}", tally.version, tally.summary())
            })
            .collect();
        out.push_str(&format!("  webhooks: {}\n", versions.join(" · ")));
    }
    if let Some(stopped) = &shift.stopped {
        out.push_str(&stop_report(shift, stopped));
    }
    if let Some(why) = shift.not_judged() {
        out.push_str(&format!("  {WARNING}{why}{WARNING:#}\n"));
    }
    out
}

/// Why the shift stopped, and what the new version did meanwhile.
fn stop_report(shift: &Shift, stopped: &Stopped) -> String {
    let mut out = String::new();
    let why = if !stopped.alarms.is_empty() {
        format!("{} went into ALARM", stopped.alarms.join(", "))
    } else if stopped.by_request {
        "stopped on request (`mgrid deploy --rollback` or StopDeployment)".to_owned()
    } else {
        // CodeDeploy's own words.
        match (&stopped.code, &stopped.message) {
            (Some(code), Some(message)) => format!("{code}: {message}"),
            (None, Some(message)) => message.clone(),
            (Some(code), None) => code.clone(),
            (None, None) => "CodeDeploy gave no reason".to_owned(),
        }
    };
    out.push_str(&format!("  why: {why}\n"));
    let window = match (shift.started_at, shift.finished_at) {
        (Some(from), Some(to)) => {
            format!(" in its {} with traffic", duration(to.saturating_sub(from)))
        }
        _ => " while it had traffic".to_owned(),
    };
    let errors = stopped
        .new_version_errors
        .map(|e| format!("{e:.0} errors"))
        .unwrap_or_else(|| "errors unknown".to_owned());
    let dlq = stopped
        .dlq_growth
        .map(|d| format!("DLQ {d:+.0} webhooks"))
        .unwrap_or_else(|| "DLQ growth unknown".to_owned());
    let new = shift
        .traffic
        .iter()
        .find(|t| Some(&t.version) == shift.to_version.as_ref());
    let webhooks = match new {
        Some(tally) if tally.failed_total() > 0.0 => {
            format!("{}: {}; ", tally.summary(), tally.reasons())
        }
        Some(tally) => format!("{}; ", tally.summary()),
        None => String::new(),
    };
    out.push_str(&format!(
        "  {},{window}: {webhooks}{errors}, {dlq}\n",
        shift.new_version()
    ));
    out
}

fn bar(percent: f64) -> String {
    let filled = ((percent / 5.0).round() as usize).min(20);
    format!("[{}{}]", "#".repeat(filled), ".".repeat(20 - filled))
}

/// "3m 12s", "45s".
pub fn duration(millis: i64) -> String {
    let seconds = millis.max(0) / 1000;
    match seconds {
        0..60 => format!("{seconds}s"),
        _ => format!("{}m {:02}s", seconds / 60, seconds % 60),
    }
}

/// The alarms CodeDeploy names in an ALARM_ACTIVE message ("... Activated alarms: a, b").
pub fn alarms_named(message: &str) -> Vec<String> {
    message
        .split_once("alarms:")
        .map(|(_, names)| {
            names
                .split([',', ' '])
                .map(|n| n.trim().trim_end_matches('.'))
                .filter(|n| !n.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shift(strategy: DeployStrategy, percent: f64, status: ShiftStatus) -> Shift {
        Shift {
            deployment_id: "d-7XH3KQ2PA".into(),
            status,
            strategy: strategy.name().into(),
            from_version: Some("7".into()),
            to_version: Some("8".into()),
            percent_on_new: percent,
            started_at: Some(1_000_000),
            finished_at: None,
            guards: vec![
                GuardState {
                    name: "marketgrid-prod-version-failures".into(),
                    state: Some("OK".into()),
                },
                GuardState {
                    name: "marketgrid-prod-dlq-not-empty".into(),
                    state: Some("OK".into()),
                },
            ],
            traffic: Vec::new(),
            stopped: None,
            read_at: 1_000_000 + 48_000,
        }
    }

    #[test]
    fn every_strategy_names_a_codedeploy_configuration_the_template_allows() {
        let template = crate::decide::template::Template::pipeline().unwrap();
        let allowed = template
            .parameter("DeployStrategy")
            .unwrap()
            .allowed_values
            .clone();
        for strategy in DeployStrategy::ALL {
            assert!(
                allowed.iter().any(|v| v == strategy.codedeploy_name()),
                "{}",
                strategy.codedeploy_name()
            );
            assert_eq!(
                DeployStrategy::from_codedeploy_name(strategy.codedeploy_name()),
                Some(strategy)
            );
        }
        assert_eq!(allowed.len(), DeployStrategy::ALL.len());
    }

    #[test]
    fn the_next_step_follows_the_strategy() {
        let canary = shift(DeployStrategy::Canary10For5m, 10.0, ShiftStatus::InProgress);
        assert_eq!(
            canary.next_step(),
            Some(NextStep {
                at: 1_000_000 + 300_000,
                percent: 100
            })
        );
        let linear = shift(
            DeployStrategy::Linear10Every1m,
            30.0,
            ShiftStatus::InProgress,
        );
        assert_eq!(
            linear.next_step(),
            Some(NextStep {
                at: 1_000_000 + 180_000,
                percent: 40
            })
        );
        let last = shift(
            DeployStrategy::Linear10Every1m,
            100.0,
            ShiftStatus::InProgress,
        );
        assert_eq!(last.next_step(), None);
        assert_eq!(DeployStrategy::Linear10Every1m.minutes(), 9);
    }

    fn tally(version: &str, recorded: f64, failed: &[(&str, f64)]) -> VersionTally {
        VersionTally {
            version: version.into(),
            recorded,
            duplicates: 0.0,
            failed: failed.iter().map(|(r, n)| ((*r).to_owned(), *n)).collect(),
        }
    }

    #[test]
    fn a_tally_sums_each_versions_series_by_reason() {
        let versions = vec!["7".to_owned(), "8".to_owned()];
        let series = tally_series(&versions);
        assert_eq!(series.len(), 2 * (2 + failure_reasons().len()));
        let id = |version: &str, reason: Option<&str>, metric: &str| {
            series
                .iter()
                .find(|s| s.version == version && s.reason == reason && s.metric == metric)
                .map(|s| s.id.clone())
                .unwrap()
        };
        let sums: BTreeMap<String, f64> = [
            (id("7", None, "SuccessfulTransactions"), 100.0),
            (id("8", None, "SuccessfulTransactions"), 7.0),
            (id("8", None, "DuplicateWebhooks"), 1.0),
            (id("8", Some("ledger-unavailable"), "FailedWebhooks"), 3.0),
            (id("8", Some("bad-signature"), "FailedWebhooks"), 0.0),
        ]
        .into_iter()
        .collect();
        let [old, new] = <[VersionTally; 2]>::try_from(tallies(&versions, &series, &sums)).unwrap();
        assert_eq!((old.handled(), old.failed_total()), (100.0, 0.0));
        assert_eq!((new.handled(), new.failed_total()), (11.0, 3.0));
        assert_eq!(
            new.failed.keys().collect::<Vec<_>>(),
            ["ledger-unavailable"]
        );
        // GetMetricData ids: a lowercase letter first, then letters, digits and underscores.
        assert!(
            series
                .iter()
                .all(|s| s.id.starts_with(|c: char| c.is_ascii_lowercase())
                    && s.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        );
    }

    fn plain(text: &str) -> String {
        anstream::adapter::strip_str(text).to_string()
    }

    /// The live view at each stage of a shift, as the deploy's follow-up and `status` draw it.
    #[test]
    fn the_live_view_at_each_stage() {
        let now = 1_000_000 + 48_000;
        let starting = shift(DeployStrategy::Canary10For5m, 0.0, ShiftStatus::Starting);
        insta::assert_snapshot!("shift_starting", plain(&live_block(&starting, now)));

        let mut canary = shift(DeployStrategy::Canary10For5m, 10.0, ShiftStatus::InProgress);
        canary.traffic = vec![
            tally("7", 1_204.0, &[("ledger-unavailable", 2.0)]),
            tally("8", 131.0, &[]),
        ];
        insta::assert_snapshot!("shift_canary", plain(&live_block(&canary, now)));

        let mut linear = shift(
            DeployStrategy::Linear10Every1m,
            30.0,
            ShiftStatus::InProgress,
        );
        linear.guards[1].state = Some("INSUFFICIENT_DATA".into());
        insta::assert_snapshot!(
            "shift_linear",
            plain(&live_block(&linear, 1_000_000 + 150_000))
        );

        let baking = shift(DeployStrategy::Canary10For5m, 100.0, ShiftStatus::Baking);
        insta::assert_snapshot!("shift_baking", plain(&live_block(&baking, now)));

        let done = shift(DeployStrategy::Canary10For5m, 100.0, ShiftStatus::Succeeded);
        insta::assert_snapshot!("shift_succeeded", plain(&live_block(&done, now)));

        let mut alarmed = shift(DeployStrategy::Canary10For5m, 0.0, ShiftStatus::RolledBack);
        alarmed.guards[0].state = Some("ALARM".into());
        alarmed.finished_at = Some(1_000_000 + 131_000);
        alarmed.traffic = vec![
            tally("7", 1_204.0, &[]),
            tally(
                "8",
                93.0,
                &[("ledger-unavailable", 38.0), ("held-for-order", 2.0)],
            ),
        ];
        alarmed.stopped = Some(Stopped {
            code: Some("ALARM_ACTIVE".into()),
            message: Some("One or more alarms have been activated according to the Amazon CloudWatch metrics you selected, and the affected deployments have been stopped. Activated alarms: marketgrid-prod-version-failures".into()),
            alarms: vec!["marketgrid-prod-version-failures".into()],
            by_request: false,
            new_version_errors: Some(0.0),
            dlq_growth: Some(0.0),
        });
        insta::assert_snapshot!(
            "shift_rolled_back_by_alarm",
            plain(&live_block(&alarmed, now))
        );

        let mut requested = shift(
            DeployStrategy::Linear10Every1m,
            0.0,
            ShiftStatus::RolledBack,
        );
        requested.finished_at = Some(1_000_000 + 200_000);
        requested.stopped = Some(Stopped {
            code: Some("MANUAL_STOP".into()),
            message: Some("Deployment was stopped by the user".into()),
            alarms: Vec::new(),
            by_request: true,
            new_version_errors: None,
            dlq_growth: Some(0.0),
        });
        insta::assert_snapshot!(
            "shift_rolled_back_on_request",
            plain(&live_block(&requested, now))
        );

        let mut unguarded = shift(DeployStrategy::AllAtOnce, 0.0, ShiftStatus::InProgress);
        unguarded.guards.clear();
        insta::assert_snapshot!("shift_unguarded", plain(&live_block(&unguarded, now)));
    }

    #[test]
    fn codedeploys_alarm_message_names_the_alarms() {
        assert_eq!(
            alarms_named(
                "One or more alarms have been activated according to the Amazon CloudWatch metrics you selected, and the affected deployments have been stopped. Activated alarms: <marketgrid-prod-dlq-not-empty>"
                    .replace(['<', '>'], "")
                    .as_str()
            ),
            ["marketgrid-prod-dlq-not-empty"]
        );
        assert!(alarms_named("Deployment was stopped by the user").is_empty());
    }
}
