//! The signals that describe a stage's pipeline: what each measures, under which CloudWatch
//! name, and where its warning and alarm levels lie.

use serde::Serialize;

use crate::decide::spans::span_text;

/// The names a stage's metrics are published under, read from its SSM parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resources {
    pub stage: String,
    pub api_name: String,
    pub queue: String,
    pub dlq: String,
    pub pipe_dlq: String,
    pub authorizer: String,
    pub processor: String,
    pub archiver: String,
    pub notifier: String,
    pub archive_pipe: String,
    pub notify_pipe: String,
}

impl Resources {
    /// The names the stack gives a stage's resources (`marketgrid-<stage>-…`), for the local
    /// stage, which has no SSM parameters to read them from, and for tests.
    pub fn named_for(stage: &str) -> Resources {
        let name = |suffix: &str| mgrid_contract::names::resource_name(stage, suffix);
        Resources {
            stage: stage.to_owned(),
            api_name: name("webhooks"),
            queue: name("webhooks.fifo"),
            dlq: name("webhooks-dlq.fifo"),
            pipe_dlq: name("pipe-dlq"),
            authorizer: name("authorizer"),
            processor: name("processor"),
            archiver: name("archiver"),
            notifier: name("notifier"),
            archive_pipe: name("archive"),
            notify_pipe: name("notify"),
        }
    }
}

/// The statistic a signal is read with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub enum Stat {
    Sum,
    Maximum,
    #[serde(rename = "p50")]
    P50,
    #[serde(rename = "p90")]
    P90,
    #[serde(rename = "p99")]
    P99,
}

impl Stat {
    pub fn as_str(self) -> &'static str {
        match self {
            Stat::Sum => "Sum",
            Stat::Maximum => "Maximum",
            Stat::P50 => "p50",
            Stat::P90 => "p90",
            Stat::P99 => "p99",
        }
    }

    pub fn is_percentile(self) -> bool {
        matches!(self, Stat::P50 | Stat::P90 | Stat::P99)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    Count,
    Milliseconds,
    Seconds,
    Messages,
}

impl Unit {
    /// What follows a value of this unit: a sum of counts is per period (`1,200/1m`), a queue
    /// depth is in messages, a duration in its unit; a count at one instant (concurrency) needs
    /// nothing, its label says what it counts.
    pub(super) fn suffix(self, stat: Stat, period_seconds: i64) -> String {
        match (self, stat) {
            (Unit::Count, Stat::Sum) => format!("/{}", span_text(period_seconds)),
            (Unit::Count, _) => String::new(),
            (Unit::Messages, _) => " msg".to_owned(),
            (Unit::Milliseconds, _) => " ms".to_owned(),
            (Unit::Seconds, _) => " s".to_owned(),
        }
    }
}

/// A value at which a signal enters a level: reached (`>=`) or passed (`>`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct Bound {
    pub value: f64,
    pub inclusive: bool,
}

impl Bound {
    pub(super) const fn at_least(value: f64) -> Bound {
        Bound {
            value,
            inclusive: true,
        }
    }

    pub(super) const fn above(value: f64) -> Bound {
        Bound {
            value,
            inclusive: false,
        }
    }

    pub(super) fn reached_by(self, value: f64) -> bool {
        if self.inclusive {
            value >= self.value
        } else {
            value > self.value
        }
    }
}

/// Where a signal turns from ok to warning to alarm. Where the stack has an alarm on the
/// signal, `alarm` is that alarm's threshold (a test holds the two together).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct Levels {
    pub warning: Bound,
    pub alarm: Bound,
}

/// One metric the dashboard shows, and how to read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Signal {
    /// The query id: a lowercase letter, then letters, digits and underscores.
    pub key: &'static str,
    pub label: &'static str,
    pub unit: Unit,
    pub namespace: &'static str,
    pub metric: &'static str,
    pub dimensions: Vec<(&'static str, String)>,
    pub stat: Stat,
    pub levels: Option<Levels>,
    /// The stack's alarm on this signal, when it has one.
    pub alarm: Option<String>,
    /// The chart that draws it.
    pub panel: Panel,
    /// Only read while its panel's drill-down is open.
    pub breakdown: bool,
    /// A sum of these signals' series, asked for in the same call (none: a metric of its own).
    pub parts: Vec<Signal>,
}

/// Errors count as alarm from the first one, as the stack's alarms do.
pub(super) const ANY: Levels = Levels {
    warning: Bound::at_least(1.0),
    alarm: Bound::at_least(1.0),
};

pub(super) const fn levels(warning: Bound, alarm: Bound) -> Option<Levels> {
    Some(Levels { warning, alarm })
}

/// A metric as CloudWatch names it.
type MetricName = (&'static str, &'static str, Vec<(&'static str, String)>);

impl Signal {
    pub(super) fn new(
        key: &'static str,
        label: &'static str,
        stat: Stat,
        unit: Unit,
        metric: MetricName,
    ) -> Self {
        let (namespace, metric, dimensions) = metric;
        Signal {
            key,
            label,
            unit,
            namespace,
            metric,
            dimensions,
            stat,
            levels: None,
            alarm: None,
            panel: Panel::Processor,
            breakdown: false,
            parts: Vec::new(),
        }
    }

    /// A signal that sums `parts` (each a count), period by period; it has no metric of its own.
    pub(super) fn sum_of(key: &'static str, label: &'static str, parts: Vec<Signal>) -> Self {
        Signal {
            parts,
            ..Signal::new(key, label, Stat::Sum, Unit::Count, ("", "", Vec::new()))
        }
    }

    /// What a backend is asked for to answer this signal: its parts for a sum, else itself.
    pub fn asked(&self) -> &[Signal] {
        if self.parts.is_empty() {
            std::slice::from_ref(self)
        } else {
            &self.parts
        }
    }

    pub(super) fn on(self, panel: Panel) -> Self {
        Signal { panel, ..self }
    }

    pub(super) fn levels(self, levels: Option<Levels>) -> Self {
        Signal { levels, ..self }
    }

    /// The stack's alarm `marketgrid-<stage>-<suffix>` watches this signal.
    pub(super) fn alarm(self, r: &Resources, suffix: &str) -> Self {
        Signal {
            alarm: Some(mgrid_contract::names::resource_name(&r.stage, suffix)),
            ..self
        }
    }
}

/// A chart of the dashboard, and its drill-down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Panel {
    Traffic,
    Failures,
    DeadLetters,
    Queue,
    Latency,
    Processor,
}

/// How a chart's value axis is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// From zero to the highest value in the window.
    Linear,
    /// log10(1 + value): a failure or two stays visible beside thousands.
    Log,
}

impl Panel {
    pub const ALL: [Panel; 6] = [
        Panel::Traffic,
        Panel::Failures,
        Panel::DeadLetters,
        Panel::Queue,
        Panel::Latency,
        Panel::Processor,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Panel::Traffic => "received vs recorded",
            Panel::Failures => "failures by reason",
            Panel::DeadLetters => "dead letters",
            Panel::Queue => "webhook queue",
            Panel::Latency => "latency",
            Panel::Processor => "processor",
        }
    }

    /// The series whose unit the chart's value axis is in; a panel's series in another unit
    /// are in its legend only.
    pub fn axis_key(self) -> &'static str {
        match self {
            Panel::Traffic => "received",
            Panel::Failures => "api_4xx",
            Panel::DeadLetters => "dlq_depth",
            Panel::Queue => "oldest_age",
            Panel::Latency => "latency_p50",
            Panel::Processor => "invocations",
        }
    }

    pub fn scale(self) -> Scale {
        match self {
            Panel::Failures => Scale::Log,
            _ => Scale::Linear,
        }
    }

    /// What the drill-down shows beyond the main view.
    pub fn breakdown_note(self) -> &'static str {
        match self {
            Panel::Traffic => "received by provider (API Gateway's per-resource metrics)",
            Panel::Failures => {
                "refused by provider, and the processor's failed webhooks by reason (dead-lettered or retried)"
            }
            Panel::DeadLetters => "webhooks dead-lettered in the window, by reason",
            Panel::Latency => {
                "API latency p50, p90, p99 and maximum; processor duration p50 and p99"
            }
            Panel::Queue | Panel::Processor => "no breakdown beyond the main view",
        }
    }
}
