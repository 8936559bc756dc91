//! The decisions of `mgrid metrics tail`, as pure functions: which signals describe a stage's
//! pipeline and where their warning and alarm levels lie, the queries that fetch all of them in
//! one GetMetricData call, the time range a window covers, and how the answers become rows.
//! How a snapshot reads as text is in `render`.

pub mod now;
pub mod panels;
pub mod render;

pub use now::{Liveness, Now, NowBasis, RateMemory};
pub use panels::{Panel, Scale, breakdown};
pub use render::{number_text, trend_text, write_alarms};

use std::collections::BTreeMap;
use std::fmt;

use mgrid_contract::EpochMillis;
use mgrid_contract::clock::format_rfc3339;
use serde::Serialize;

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
    pub archive_pipe: String,
    pub notify_pipe: String,
}

impl Resources {
    /// The names the stack gives a stage's resources (`marketgrid-<stage>-…`), for the local
    /// stage, which has no SSM parameters to read them from, and for tests.
    pub fn named_for(stage: &str) -> Resources {
        let name = |suffix: &str| format!("marketgrid-{stage}-{suffix}");
        Resources {
            stage: stage.to_owned(),
            api_name: name("webhooks"),
            queue: name("webhooks.fifo"),
            dlq: name("webhooks-dlq.fifo"),
            pipe_dlq: name("pipe-dlq"),
            authorizer: name("authorizer"),
            processor: name("processor"),
            archiver: name("archiver"),
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
    fn suffix(self, stat: Stat, period_seconds: i64) -> String {
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
    const fn at_least(value: f64) -> Bound {
        Bound {
            value,
            inclusive: true,
        }
    }

    const fn above(value: f64) -> Bound {
        Bound {
            value,
            inclusive: false,
        }
    }

    fn reached_by(self, value: f64) -> bool {
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
const ANY: Levels = Levels {
    warning: Bound::at_least(1.0),
    alarm: Bound::at_least(1.0),
};

const fn levels(warning: Bound, alarm: Bound) -> Option<Levels> {
    Some(Levels { warning, alarm })
}

/// A metric as CloudWatch names it.
type MetricName = (&'static str, &'static str, Vec<(&'static str, String)>);

impl Signal {
    fn new(
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
    fn sum_of(key: &'static str, label: &'static str, parts: Vec<Signal>) -> Self {
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

    fn on(self, panel: Panel) -> Self {
        Signal { panel, ..self }
    }

    fn levels(self, levels: Option<Levels>) -> Self {
        Signal { levels, ..self }
    }

    /// The stack's alarm `marketgrid-<stage>-<suffix>` watches this signal.
    fn alarm(self, r: &Resources, suffix: &str) -> Self {
        Signal {
            alarm: Some(format!("marketgrid-{}-{suffix}", r.stage)),
            ..self
        }
    }
}

/// The signals of a stage, in the order the dashboard shows them: traffic in, the queue, the
/// processor, what follows the ledger, and the business outcome; each on the panel that charts it.
#[rustfmt::skip]
pub fn signals(r: &Resources) -> Vec<Signal> {
    use {Panel::*, Stat::*, Unit::*};
    let api = |metric| ("AWS/ApiGateway", metric, vec![("ApiName", r.api_name.clone()), ("Stage", r.stage.clone())]);
    let queue = |metric, name: &str| ("AWS/SQS", metric, vec![("QueueName", name.to_owned())]);
    let lambda = |metric, name: &str| ("AWS/Lambda", metric, vec![("FunctionName", name.to_owned())]);
    let pipe = |name: &str| ("AWS/EventBridge/Pipes", "ExecutionFailed", vec![("PipeName", name.to_owned())]);
    let visible = "ApproximateNumberOfMessagesVisible";
    vec![
        Signal::new("received", "webhooks received", Sum, Count, api("Count")).on(Traffic),
        Signal::new("api_4xx", "API 4XX", Sum, Count, api("4XXError")).on(Failures)
            .levels(levels(Bound::at_least(1.0), Bound::at_least(100.0))).alarm(r, "api-4xx"),
        Signal::new("api_5xx", "API 5XX", Sum, Count, api("5XXError")).on(Failures)
            .levels(Some(ANY)).alarm(r, "api-5xx"),
        // Sub-second is the pipeline's promise.
        Signal::new("latency_p50", "API latency p50", P50, Milliseconds, api("Latency")).on(Latency)
            .levels(levels(Bound::at_least(250.0), Bound::at_least(1000.0))),
        Signal::new("latency_p99", "API latency p99", P99, Milliseconds, api("Latency")).on(Latency)
            .levels(levels(Bound::at_least(500.0), Bound::at_least(1000.0))),
        Signal::new("queue_depth", "queue depth", Maximum, Messages, queue(visible, &r.queue)).on(Queue)
            .levels(levels(Bound::at_least(1000.0), Bound::at_least(10_000.0))),
        Signal::new("oldest_age", "oldest message age", Maximum, Seconds, queue("ApproximateAgeOfOldestMessage", &r.queue)).on(Queue)
            .levels(levels(Bound::above(60.0), Bound::above(300.0))).alarm(r, "oldest-webhook-age"),
        Signal::new("dlq_depth", "DLQ depth", Maximum, Messages, queue(visible, &r.dlq)).on(DeadLetters)
            .levels(Some(ANY)).alarm(r, "dlq-not-empty"),
        Signal::new("invocations", "processor invocations", Sum, Count, lambda("Invocations", &r.processor)).on(Processor),
        Signal::new("errors", "processor errors", Sum, Count, lambda("Errors", &r.processor)).on(Failures)
            .levels(Some(ANY)).alarm(r, "processor-errors"),
        Signal::new("throttles", "processor throttles", Sum, Count, lambda("Throttles", &r.processor)).on(Failures)
            .levels(Some(ANY)).alarm(r, "processor-throttles"),
        // What the processor rejects is no Lambda error: without this, a stage dead-lettering
        // every webhook shows a quiet failures panel. Summed from its reasons here, in the same
        // call, as the processor counts them by reason only.
        Signal::sum_of("dead_lettered", "dead-lettered", panels::dead_letter_reasons(r)).on(Failures)
            .levels(levels(Bound::at_least(1.0), Bound::at_least(100.0))),
        // The processor's timeout is 30 s.
        Signal::new("duration_p99", "processor duration p99", P99, Milliseconds, lambda("Duration", &r.processor)).on(Latency)
            .levels(levels(Bound::at_least(1000.0), Bound::at_least(10_000.0))),
        Signal::new("concurrency", "processor concurrency", Maximum, Count, lambda("ConcurrentExecutions", &r.processor)).on(Processor),
        Signal::new("authorizer_errors", "authorizer errors", Sum, Count, lambda("Errors", &r.authorizer)).on(Failures)
            .levels(Some(ANY)).alarm(r, "authorizer-errors"),
        Signal::new("archiver_errors", "archiver errors", Sum, Count, lambda("Errors", &r.archiver)).on(Failures)
            .levels(Some(ANY)).alarm(r, "archiver-errors"),
        Signal::new("archive_pipe", "archive pipe failures", Sum, Count, pipe(&r.archive_pipe)).on(Failures)
            .levels(Some(ANY)).alarm(r, "archive-pipe-failures"),
        Signal::new("notify_pipe", "notify pipe failures", Sum, Count, pipe(&r.notify_pipe)).on(Failures)
            .levels(Some(ANY)).alarm(r, "notify-pipe-failures"),
        Signal::new("pipe_dlq_depth", "pipe DLQ depth", Maximum, Messages, queue(visible, &r.pipe_dlq)).on(DeadLetters)
            .levels(Some(ANY)).alarm(r, "pipe-dlq-not-empty"),
        Signal::new("transactions", "successful transactions", Sum, Count,
            ("MarketGrid", "SuccessfulTransactions", vec![("Stage", r.stage.clone())])).on(Traffic),
    ]
}

/// The signals of one refresh: every main signal, and the breakdown of the open drill-down.
pub fn signals_with(r: &Resources, focus: Option<Panel>) -> Vec<Signal> {
    let mut all = signals(r);
    if let Some(panel) = focus {
        all.extend(breakdown(r, panel));
    }
    all
}

const MINUTE: i64 = 60;

/// The windows `+` and `-` step through.
const WINDOWS: [i64; 8] = [
    15 * MINUTE,
    30 * MINUTE,
    60 * MINUTE,
    3 * 60 * MINUTE,
    6 * 60 * MINUTE,
    12 * 60 * MINUTE,
    24 * 60 * MINUTE,
    3 * 24 * 60 * MINUTE,
];

/// The most points one series may have; wider windows read coarser periods.
pub const MAX_POINTS: i64 = 360;

/// CloudWatch's standard periods: `[` and `]` step through them, and a wide window falls back
/// to the first that keeps it short enough.
const PERIODS: [i64; 5] = [
    MINUTE,
    5 * MINUTE,
    15 * MINUTE,
    60 * MINUTE,
    6 * 60 * MINUTE,
];

/// How much history to show and at what resolution, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Window {
    pub span: i64,
    /// The period asked for; `period()` may be coarser for a wide window.
    pub asked_period: i64,
}

impl Window {
    /// A window of `span` seconds at `period` seconds a point, as the user typed them.
    pub fn new(span: i64, period: i64) -> Result<Window, String> {
        if period < MINUTE || period % MINUTE != 0 {
            return Err(format!(
                "a period of {} is not one CloudWatch keeps for these metrics: use whole minutes (1m, 5m, 1h)",
                span_text(period)
            ));
        }
        if span < period {
            return Err(format!(
                "a window of {} is shorter than its period of {}",
                span_text(span),
                span_text(period)
            ));
        }
        if span > 15 * 24 * 60 * MINUTE {
            return Err(format!(
                "a window of {} is longer than 15 days, beyond CloudWatch's one-minute data",
                span_text(span)
            ));
        }
        Ok(Window {
            span,
            asked_period: period,
        })
    }

    /// The period read: the one asked for, or the first standard one that keeps the series at
    /// most [`MAX_POINTS`] long.
    pub fn period(&self) -> i64 {
        if self.span / self.asked_period <= MAX_POINTS {
            return self.asked_period;
        }
        PERIODS
            .into_iter()
            .find(|p| *p > self.asked_period && self.span / p <= MAX_POINTS)
            .unwrap_or(PERIODS[PERIODS.len() - 1])
    }

    /// The next wider window (`+`); the same at the widest.
    pub fn wider(&self) -> Window {
        let span = WINDOWS
            .into_iter()
            .find(|w| *w > self.span)
            .unwrap_or(self.span);
        Window { span, ..*self }
    }

    /// The next coarser standard period (`]`), never longer than the window.
    pub fn coarser(&self) -> Window {
        let asked_period = PERIODS
            .into_iter()
            .find(|p| *p > self.asked_period && *p <= self.span)
            .unwrap_or(self.asked_period);
        Window {
            asked_period,
            ..*self
        }
    }

    /// The next finer standard period (`[`), down to a minute.
    pub fn finer(&self) -> Window {
        let asked_period = PERIODS
            .into_iter()
            .rev()
            .find(|p| *p < self.asked_period)
            .unwrap_or(self.asked_period);
        Window {
            asked_period,
            ..*self
        }
    }

    /// The next narrower window (`-`), never shorter than the period asked for.
    pub fn narrower(&self) -> Window {
        let span = WINDOWS
            .into_iter()
            .rev()
            .find(|w| *w < self.span && *w >= self.asked_period)
            .unwrap_or(self.span);
        Window { span, ..*self }
    }

    /// The range to ask for at `now`: whole periods, ending with the period now falls in.
    pub fn range(&self, now: EpochMillis) -> TimeRange {
        let period_ms = self.period() * 1000;
        let end = (now.div_euclid(period_ms) + 1) * period_ms;
        let points = ((self.span * 1000 + period_ms - 1) / period_ms).max(1);
        TimeRange {
            start: end - points * period_ms,
            end,
            period_ms,
        }
    }
}

/// A span in seconds as people write it: 90s, 15m, 1h, 3d.
pub fn span_text(seconds: i64) -> String {
    match seconds {
        s if s % 86_400 == 0 && s > 0 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 && s > 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 && s > 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at {}",
            span_text(self.span),
            span_text(self.period())
        )
    }
}

/// Whole periods from `start` (inclusive) to `end` (exclusive), in epoch milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    pub start: EpochMillis,
    pub end: EpochMillis,
    pub period_ms: i64,
}

impl TimeRange {
    pub fn points(&self) -> usize {
        ((self.end - self.start) / self.period_ms).max(0) as usize
    }

    /// The bucket a timestamp falls in, if inside the range.
    fn bucket(&self, at: EpochMillis) -> Option<usize> {
        (at >= self.start && at < self.end).then(|| ((at - self.start) / self.period_ms) as usize)
    }
}

/// One metric query of a GetMetricData call, free of SDK types.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub id: String,
    pub namespace: &'static str,
    pub metric: &'static str,
    pub dimensions: Vec<(&'static str, String)>,
    pub stat: &'static str,
    pub period: i32,
}

/// GetMetricData takes at most this many queries in one call.
pub const MAX_QUERIES: usize = 500;

/// The queries for one refresh: every signal, except percentiles when the backend has shown it
/// rejects them.
pub fn queries(signals: &[Signal], window: &Window, percentiles: bool) -> Vec<Query> {
    leaves(signals)
        .into_iter()
        .filter(|s| percentiles || !s.stat.is_percentile())
        .map(|s| Query {
            id: s.key.to_owned(),
            namespace: s.namespace,
            metric: s.metric,
            dimensions: s.dimensions.clone(),
            stat: s.stat.as_str(),
            period: window.period() as i32,
        })
        .collect()
}

/// The signals a backend is asked for: each plain signal, and each part of a sum in its place,
/// once however many signals name it (a drill-down may show a part on its own too).
pub fn leaves(signals: &[Signal]) -> Vec<&Signal> {
    let mut asked: Vec<&Signal> = Vec::new();
    for signal in signals {
        for leaf in signal.asked() {
            if !asked.iter().any(|a| a.key == leaf.key) {
                asked.push(leaf);
            }
        }
    }
    asked
}

/// A sum's answer from its parts' answers, period by period; None when a part has none. A part
/// the backend could not answer makes the sum unavailable, as that part is.
fn summed(signal: &Signal, answers: &[Answer]) -> Option<Answer> {
    let mut periods: BTreeMap<EpochMillis, f64> = BTreeMap::new();
    let mut partial = false;
    for part in &signal.parts {
        let answer = answers.iter().find(|a| a.id == part.key)?;
        match answer.status.as_str() {
            "Complete" => {}
            "PartialData" => partial = true,
            _ => {
                return Some(Answer {
                    id: signal.key.to_owned(),
                    ..answer.clone()
                });
            }
        }
        for (at, value) in answer.timestamps.iter().zip(&answer.values) {
            *periods.entry(*at).or_default() += value;
        }
    }
    Some(Answer {
        id: signal.key.to_owned(),
        timestamps: periods.keys().copied().collect(),
        values: periods.values().copied().collect(),
        status: if partial { "PartialData" } else { "Complete" }.to_owned(),
        messages: Vec::new(),
    })
}

/// What the backend answered for one query.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Answer {
    pub id: String,
    pub timestamps: Vec<EpochMillis>,
    pub values: Vec<f64>,
    /// `Complete`, `PartialData`, `Forbidden`, `InternalError`.
    pub status: String,
    pub messages: Vec<String>,
}

/// How a signal stands now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    /// Data, and no levels to judge it by.
    Info,
    Ok,
    Warning,
    Alarm,
    /// Its last data is older than two periods: shown, but not as current.
    Stale,
    /// Nothing published in the window.
    NoData,
    /// Not measured: the backend could not answer this query, or the stage has no such thing.
    Unavailable,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Ok => "ok",
            Level::Warning => "warning",
            Level::Alarm => "ALARM",
            Level::Stale => "stale",
            Level::NoData => "no data",
            Level::Unavailable => "n/a",
        }
    }
}

/// One value of a series.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct Point {
    #[serde(serialize_with = "crate::clock::rfc3339")]
    #[cfg_attr(test, schemars(with = "crate::clock::Rfc3339"))]
    pub at: EpochMillis,
    pub value: f64,
}

/// One row of the dashboard.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Series {
    pub key: &'static str,
    pub label: &'static str,
    pub namespace: &'static str,
    pub metric: &'static str,
    pub stat: Stat,
    pub unit: Unit,
    pub panel: Panel,
    /// Read only for its panel's drill-down.
    pub breakdown: bool,
    /// The stack's alarm on this signal, when the stage has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alarm: Option<String>,
    /// The value of the latest complete period with data (the period now falls in is still
    /// filling: it is `now`).
    pub latest: Option<f64>,
    /// When that period started.
    #[serde(serialize_with = "crate::clock::rfc3339_option")]
    #[cfg_attr(test, schemars(with = "Option<crate::clock::Rfc3339>"))]
    pub latest_at: Option<EpochMillis>,
    /// The period now falls in, partial: set by [`RateMemory::read`].
    pub now: Option<Now>,
    pub level: Level,
    /// Why the level is what it is when not from the value (alarm state, n/a reason).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Periods with data, oldest first.
    pub points: Vec<Point>,
    /// A count's growth over the last seconds, where the backend keeps that (the local stage
    /// keeps each write's counts): the first refresh's rate right now, with no earlier
    /// refresh to compare with.
    #[serde(skip)]
    pub recent: Option<Recent>,
}

/// What a count grew by over the last seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Recent {
    pub count: f64,
    pub seconds: f64,
}

impl Series {
    /// One value per period of `range` (missing periods are `None`), oldest first.
    pub fn buckets(&self, range: &TimeRange) -> Vec<Option<f64>> {
        let mut buckets = vec![None; range.points()];
        for point in &self.points {
            if let Some(slot) = range.bucket(point.at).and_then(|i| buckets.get_mut(i)) {
                *slot = Some(point.value);
            }
        }
        buckets
    }

    /// The latest complete period's value as people read it, with its unit (a sum is per
    /// `period_seconds`); zero, no data and not measured each read differently.
    pub fn latest_text(&self, period_seconds: i64) -> String {
        match (self.level, self.latest) {
            (Level::Unavailable, _) => "n/a".to_owned(),
            (_, None) => "no data".to_owned(),
            (_, Some(value)) => format!(
                "{}{}",
                number_text(value),
                self.unit.suffix(self.stat, period_seconds)
            ),
        }
    }

    /// The current value, partial: a count per second, a reading with its unit.
    pub fn now_text(&self) -> Option<String> {
        let now = self.now?;
        Some(match self.stat {
            Stat::Sum => format!("{}/s", rate_text(now.value)),
            _ => format!("{}{}", number_text(now.value), self.chart_unit()),
        })
    }

    /// The value a chart draws for a period: a count per second (comparable with `now`), a
    /// reading as it is.
    pub fn charted(&self, value: f64, period_seconds: i64) -> f64 {
        match self.stat {
            Stat::Sum => value / period_seconds.max(1) as f64,
            _ => value,
        }
    }

    /// The unit a chart's value axis is in: a count per second, a reading in its own unit.
    pub fn chart_unit(&self) -> String {
        match self.stat {
            Stat::Sum => "/s".to_owned(),
            stat => self.unit.suffix(stat, 0),
        }
    }
}

/// A rate per second in a few characters, keeping a trickle visible: 0.05, 3.2, 1,234.
pub fn rate_text(value: f64) -> String {
    if value > 0.0 && value < 0.1 {
        format!("{value:.2}")
    } else {
        number_text(value)
    }
}

/// An alarm of the stage in the ALARM state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct AlarmState {
    pub name: String,
    pub reason: Option<String>,
    pub since: Option<String>,
}

/// What one refresh cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct RefreshCost {
    pub aws_calls: usize,
    pub get_metric_data_calls: usize,
    pub bytes_sent: u64,
    pub bytes_received: u64,
}

/// Everything one refresh shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    pub stage: String,
    pub window: String,
    pub period_seconds: i64,
    pub start: String,
    pub end: String,
    pub fetched_at: String,
    pub series: Vec<Series>,
    pub alarms_in_alarm: Vec<AlarmState>,
    pub cost: RefreshCost,
    /// Whether the data is still coming.
    pub liveness: Liveness,
    /// The drill-down whose breakdown this refresh read, if one was open.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub focus: Option<Panel>,
    #[serde(skip)]
    pub range: TimeRange,
    /// The instant the data stands at: the last write of `mgrid dev`, or the fetch.
    #[serde(skip)]
    pub as_of: EpochMillis,
}

/// Why percentile queries were left out of a refresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PercentilesRejected(pub String);

/// Turns the backend's answers into the dashboard's rows. A signal without an answer is
/// unavailable, with `rejected` as the reason when its percentile query was left out.
pub fn assemble(
    signals: &[Signal],
    range: &TimeRange,
    answers: &[Answer],
    rejected: Option<&PercentilesRejected>,
    alarms_in_alarm: &[AlarmState],
) -> Vec<Series> {
    signals
        .iter()
        .map(|signal| {
            if signal.parts.is_empty() {
                let answer = answers.iter().find(|a| a.id == signal.key);
                series(signal, range, answer, rejected, alarms_in_alarm)
            } else {
                let answer = summed(signal, answers);
                series(signal, range, answer.as_ref(), rejected, alarms_in_alarm)
            }
        })
        .collect()
}

fn series(
    signal: &Signal,
    range: &TimeRange,
    answer: Option<&Answer>,
    rejected: Option<&PercentilesRejected>,
    alarms_in_alarm: &[AlarmState],
) -> Series {
    let mut row = Series {
        key: signal.key,
        label: signal.label,
        namespace: signal.namespace,
        metric: signal.metric,
        stat: signal.stat,
        unit: signal.unit,
        panel: signal.panel,
        breakdown: signal.breakdown,
        alarm: signal.alarm.clone(),
        latest: None,
        latest_at: None,
        now: None,
        level: Level::NoData,
        note: None,
        points: Vec::new(),
        recent: None,
    };
    let answer = match answer {
        Some(answer) => answer,
        None => {
            row.level = Level::Unavailable;
            row.note = Some(match rejected {
                Some(PercentilesRejected(reason)) if signal.stat.is_percentile() => {
                    format!("the metrics backend rejected percentile statistics: {reason}")
                }
                _ => "the metrics backend returned no result for this query".to_owned(),
            });
            return row;
        }
    };
    if !matches!(answer.status.as_str(), "Complete" | "PartialData") {
        row.level = Level::Unavailable;
        row.note = Some(if answer.messages.is_empty() {
            format!("the metrics backend answered {}", answer.status)
        } else {
            answer.messages.join("; ")
        });
        return row;
    }
    let mut points: Vec<Point> = answer
        .timestamps
        .iter()
        .zip(&answer.values)
        .filter(|(at, value)| range.bucket(**at).is_some() && value.is_finite())
        .map(|(at, value)| Point {
            at: *at,
            value: *value,
        })
        .collect();
    points.sort_by_key(|p| p.at);
    points.dedup_by_key(|p| p.at);
    // The latest value is that of the last complete period: the one now falls in is still
    // filling (a minute of 18,000 reads 601 a second after it starts), and is `now`. The level
    // judges both, but a last value older than two periods only as stale.
    let filling = range.end - range.period_ms;
    let complete = points.iter().rev().find(|p| p.at < filling);
    row.latest = complete.map(|p| p.value);
    row.latest_at = complete.map(|p| p.at);
    let stale = row
        .latest_at
        .is_some_and(|at| filling - at > 2 * range.period_ms);
    let partial = points.iter().find(|p| p.at == filling).map(|p| p.value);
    let judged = [partial, row.latest.filter(|_| !stale)]
        .into_iter()
        .flatten()
        .reduce(f64::max);
    row.level = match judged {
        None if stale => Level::Stale,
        judged => level(signal.levels, judged),
    };
    row.points = points;
    let in_alarm = signal
        .alarm
        .as_ref()
        .and_then(|name| alarms_in_alarm.iter().find(|a| &a.name == name));
    if let Some(alarm) = in_alarm {
        row.level = Level::Alarm;
        row.note = Some(format!("alarm {} is in ALARM", alarm.name));
    } else if let (Level::Alarm, Some(name)) = (row.level, &signal.alarm) {
        // ALARM on a row means what the footer lists: an alarm in the ALARM state. A value past
        // the alarm's level whose alarm has not fired (yet: it waits for its periods) is a
        // warning, and says so.
        row.level = Level::Warning;
        row.note = Some(format!(
            "past its alarm level; alarm {name} is not in ALARM"
        ));
    } else if answer.status == "PartialData" {
        row.note = Some("partial data: CloudWatch has more than one call returns".to_owned());
    }
    row
}

/// The level a latest value puts a signal at.
pub fn level(levels: Option<Levels>, latest: Option<f64>) -> Level {
    match (levels, latest) {
        (_, None) => Level::NoData,
        (None, Some(_)) => Level::Info,
        (Some(levels), Some(value)) if levels.alarm.reached_by(value) => Level::Alarm,
        (Some(levels), Some(value)) if levels.warning.reached_by(value) => Level::Warning,
        (Some(_), Some(_)) => Level::Ok,
    }
}

/// The value at quantile `q` of sorted values (nearest rank); 0 for none.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

impl Snapshot {
    pub fn new(
        stage: &str,
        window: &Window,
        range: TimeRange,
        fetched_at: EpochMillis,
        series: Vec<Series>,
        alarms_in_alarm: Vec<AlarmState>,
        cost: RefreshCost,
    ) -> Snapshot {
        Snapshot {
            stage: stage.to_owned(),
            window: span_text(window.span),
            period_seconds: window.period(),
            start: format_rfc3339(range.start),
            end: format_rfc3339(range.end),
            fetched_at: format_rfc3339(fetched_at),
            series,
            alarms_in_alarm,
            cost,
            liveness: Liveness::Answering,
            focus: None,
            range,
            as_of: fetched_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resources() -> Resources {
        Resources::named_for("prod")
    }

    fn answer(id: &str, points: &[(EpochMillis, f64)]) -> Answer {
        Answer {
            id: id.into(),
            timestamps: points.iter().map(|p| p.0).collect(),
            values: points.iter().map(|p| p.1).collect(),
            status: "Complete".into(),
            messages: vec![],
        }
    }

    const NOW: EpochMillis = 1_764_400_000_000;

    #[test]
    fn every_signal_has_a_unique_valid_query_id() {
        let signals = signals(&resources());
        let mut keys: Vec<_> = signals.iter().map(|s| s.key).collect();
        for key in &keys {
            assert!(key.starts_with(|c: char| c.is_ascii_lowercase()), "{key}");
            assert!(
                key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "{key}"
            );
        }
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), signals.len());
        assert!(signals.len() <= MAX_QUERIES);
    }

    #[test]
    fn the_issue_signals_are_all_there() {
        let labels: Vec<_> = signals(&resources()).iter().map(|s| s.label).collect();
        for wanted in [
            "webhooks received",
            "API 4XX",
            "API 5XX",
            "API latency p50",
            "API latency p99",
            "queue depth",
            "oldest message age",
            "DLQ depth",
            "processor invocations",
            "processor errors",
            "processor throttles",
            "processor duration p99",
            "processor concurrency",
            "archiver errors",
            "archive pipe failures",
            "notify pipe failures",
            "successful transactions",
        ] {
            assert!(labels.contains(&wanted), "{wanted} missing from {labels:?}");
        }
    }

    #[test]
    fn dead_letters_are_summed_from_their_reasons_and_a_part_asked_once() {
        let r = resources();
        let window = Window::new(900, 60).unwrap();
        let range = window.range(1_764_399_990_000);
        let focused = signals_with(&r, Some(Panel::Failures));
        let asked = queries(&focused, &window, true);
        let ids: std::collections::BTreeSet<&str> = asked.iter().map(|q| q.id.as_str()).collect();
        assert_eq!(
            ids.len(),
            asked.len(),
            "a part the drill-down also shows is asked once"
        );
        let at = range.end - 2 * 60_000;
        let mut answers: Vec<Answer> = panels::dead_letter_reasons(&r)
            .iter()
            .map(|part| answer(part.key, &[]))
            .collect();
        answers[0] = answer("failed_malformed_body", &[(at, 40.0)]);
        answers.push(answer(
            "failed_bad_signature",
            &[(at, 2.0), (at + 60_000, 1.0)],
        ));
        answers.retain(|a| a.id != "failed_bad_signature" || !a.timestamps.is_empty());
        let rows = assemble(&signals(&r), &range, &answers, None, &[]);
        let dead = rows.iter().find(|s| s.key == "dead_lettered").unwrap();
        assert_eq!(dead.panel, Panel::Failures);
        let values: Vec<(EpochMillis, f64)> = dead.points.iter().map(|p| (p.at, p.value)).collect();
        assert_eq!(values, [(at, 42.0), (at + 60_000, 1.0)]);
        assert_eq!(dead.level, Level::Warning);
    }

    #[test]
    fn queries_leave_out_percentiles_only_when_told() {
        let signals = signals(&resources());
        let window = Window::new(3600, 60).unwrap();
        let all = queries(&signals, &window, true);
        // The dead-lettered sum is asked for as its twelve reasons.
        assert_eq!(all.len(), signals.len() - 1 + 12);
        assert!(
            all.iter().all(|q| !q.metric.is_empty()),
            "a sum has no metric"
        );
        let without = queries(&signals, &window, false);
        assert_eq!(without.len(), all.len() - 3);
        assert!(without.iter().all(|q| !q.stat.starts_with('p')));
        assert!(all.iter().all(|q| q.period == 60));
    }

    #[test]
    fn a_window_covers_whole_periods_ending_with_the_current_one() {
        let window = Window::new(3600, 60).unwrap();
        let now = 1_764_400_030_500; // 30.5 s into a minute
        let range = window.range(now);
        assert_eq!(range.end % 60_000, 0);
        assert!(range.end > now && range.end - now <= 60_000);
        assert_eq!(range.points(), 60);
        assert_eq!(range.end - range.start, 3_600_000);
    }

    #[test]
    fn wide_windows_fall_back_to_coarser_periods() {
        assert_eq!(Window::new(6 * 3600, 60).unwrap().period(), 60);
        assert_eq!(Window::new(24 * 3600, 60).unwrap().period(), 300);
        assert_eq!(Window::new(3 * 86_400, 60).unwrap().period(), 900);
        assert_eq!(Window::new(15 * 86_400, 60).unwrap().period(), 3600);
        assert_eq!(Window::new(3600, 300).unwrap().period(), 300);
        for window in WINDOWS {
            let w = Window::new(window, 60).unwrap();
            assert!(w.range(NOW).points() as i64 <= MAX_POINTS + 1, "{w}");
        }
    }

    #[test]
    fn windows_step_wider_and_narrower_within_bounds() {
        let w = Window::new(3600, 60).unwrap();
        assert_eq!(w.wider().span, 3 * 3600);
        assert_eq!(w.narrower().span, 30 * 60);
        let widest = Window::new(3 * 86_400, 60).unwrap();
        assert_eq!(widest.wider(), widest);
        let narrow = Window::new(15 * 60, 60).unwrap();
        assert_eq!(narrow.narrower(), narrow);
        // Never narrower than the period asked for.
        let hourly = Window::new(3 * 3600, 3600).unwrap();
        assert_eq!(hourly.narrower().span, 3600);
        assert_eq!(hourly.narrower().narrower().span, 3600);
    }

    #[test]
    fn periods_step_finer_and_coarser_within_the_window() {
        let w = Window::new(3600, 60).unwrap();
        assert_eq!(w.coarser().asked_period, 300);
        assert_eq!(w.coarser().coarser().coarser().asked_period, 3600);
        assert_eq!(
            w.coarser().coarser().coarser().coarser(),
            w.coarser().coarser().coarser()
        );
        assert_eq!(w.finer(), w);
        assert_eq!(w.coarser().finer(), w);
    }

    #[test]
    fn bad_windows_and_periods_are_refused_with_the_rule() {
        assert!(Window::new(3600, 30).unwrap_err().contains("whole minutes"));
        assert!(Window::new(3600, 90).unwrap_err().contains("whole minutes"));
        assert!(
            Window::new(60, 300)
                .unwrap_err()
                .contains("shorter than its period")
        );
        assert!(
            Window::new(16 * 86_400, 60)
                .unwrap_err()
                .contains("15 days")
        );
    }

    #[test]
    fn levels_follow_the_bounds() {
        let levels = Some(Levels {
            warning: Bound::above(60.0),
            alarm: Bound::above(300.0),
        });
        assert_eq!(level(levels, Some(60.0)), Level::Ok);
        assert_eq!(level(levels, Some(61.0)), Level::Warning);
        assert_eq!(level(levels, Some(300.0)), Level::Warning);
        assert_eq!(level(levels, Some(301.0)), Level::Alarm);
        assert_eq!(level(levels, None), Level::NoData);
        assert_eq!(level(None, Some(5.0)), Level::Info);
        assert_eq!(level(Some(ANY), Some(0.0)), Level::Ok);
        assert_eq!(level(Some(ANY), Some(1.0)), Level::Alarm);
    }

    #[test]
    fn answers_become_rows_with_the_latest_value_and_level() {
        let signals = signals(&resources());
        let range = Window::new(600, 60).unwrap().range(NOW);
        let t = |i: i64| range.start + i * 60_000;
        let answers = vec![
            // Descending, as CloudWatch returns by default, with one point outside the range.
            answer("received", &[(t(9), 40.0), (t(3), 12.0), (range.end, 99.0)]),
            answer("oldest_age", &[(t(8), 90.0)]),
            answer("errors", &[(t(8), 0.0)]),
            answer("throttles", &[(t(2), 4.0)]),
        ];
        let rows = assemble(&signals, &range, &answers, None, &[]);
        let row = |key: &str| rows.iter().find(|r| r.key == key).unwrap();
        // t(9) is the period now falls in, still filling: the latest is the last complete one.
        assert_eq!(row("received").latest, Some(12.0));
        assert_eq!(row("received").level, Level::Info);
        assert_eq!(row("received").points.len(), 2);
        assert_eq!(row("received").points[0].value, 12.0);
        let buckets = row("received").buckets(&range);
        assert_eq!(buckets.len(), 10);
        assert_eq!(buckets[3], Some(12.0));
        assert_eq!(buckets[9], Some(40.0));
        assert_eq!(buckets[4], None);
        assert_eq!(row("oldest_age").level, Level::Warning);
        assert_eq!(row("errors").level, Level::Ok);
        // Nothing for the last two periods and more: the 4 is shown as stale, not as current.
        assert_eq!(row("throttles").level, Level::Stale);
        assert_eq!(row("throttles").latest, Some(4.0));
        // No answer at all (the backend left it out).
        assert_eq!(row("transactions").level, Level::Unavailable);
    }

    #[test]
    fn values_carry_their_unit_and_a_sum_says_its_period() {
        let signals = signals(&resources());
        let range = Window::new(3600, 300).unwrap().range(NOW);
        let t = |i: i64| range.start + i * 300_000;
        let answers = vec![
            answer("received", &[(t(3), 1200.0)]),
            answer("queue_depth", &[(t(3), 12.0)]),
            answer("oldest_age", &[(t(3), 4.0)]),
            answer("latency_p99", &[(t(3), 620.0)]),
            answer("concurrency", &[(t(3), 7.0)]),
        ];
        let rows = assemble(&signals, &range, &answers, None, &[]);
        let text = |key: &str| {
            let row = rows.iter().find(|r| r.key == key).unwrap();
            row.latest_text(range.period_ms / 1000)
        };
        assert_eq!(text("received"), "1,200/5m");
        assert_eq!(text("queue_depth"), "12 msg");
        assert_eq!(text("oldest_age"), "4 s");
        assert_eq!(text("latency_p99"), "620 ms");
        assert_eq!(text("concurrency"), "7");
        assert_eq!(text("errors"), "n/a");
    }

    #[test]
    fn the_latest_value_is_the_last_complete_period_not_the_one_filling() {
        let signals = signals(&resources());
        let range = Window::new(600, 60).unwrap().range(NOW);
        let t = |i: i64| range.start + i * 60_000;
        let answers = vec![
            answer("received", &[(t(8), 18_000.0), (t(9), 601.0)]),
            answer("dlq_depth", &[(t(8), 0.0), (t(9), 2.0)]),
        ];
        let rows = assemble(&signals, &range, &answers, None, &[]);
        let row = |key: &str| rows.iter().find(|r| r.key == key).unwrap();
        assert_eq!(row("received").latest, Some(18_000.0));
        assert_eq!(
            row("received").points.len(),
            2,
            "the filling period is still drawn"
        );
        // A depth (a maximum) so far is already a reading: it sets the level, and is `now`.
        assert_eq!(row("dlq_depth").latest, Some(0.0));
        assert_eq!(row("dlq_depth").level, Level::Warning);
    }

    #[test]
    fn a_row_says_alarm_only_when_the_footer_lists_its_alarm() {
        let signals = signals(&resources());
        let range = Window::new(600, 60).unwrap().range(NOW);
        let t = |i: i64| range.start + i * 60_000;
        let answers = vec![answer("dlq_depth", &[(t(8), 5.0)])];
        let quiet = assemble(&signals, &range, &answers, None, &[]);
        let dlq = quiet.iter().find(|r| r.key == "dlq_depth").unwrap();
        assert_eq!(dlq.level, Level::Warning);
        assert!(
            dlq.note
                .as_deref()
                .is_some_and(|n| n.contains("not in ALARM"))
        );
        let alarm = AlarmState {
            name: dlq_alarm_name(),
            reason: None,
            since: None,
        };
        let fired = assemble(&signals, &range, &answers, None, &[alarm]);
        let dlq = fired.iter().find(|r| r.key == "dlq_depth").unwrap();
        assert_eq!(dlq.level, Level::Alarm);
    }

    fn dlq_alarm_name() -> String {
        signals(&resources())
            .into_iter()
            .find(|s| s.key == "dlq_depth")
            .and_then(|s| s.alarm)
            .expect("the DLQ depth has an alarm")
    }

    #[test]
    fn an_alarm_in_alarm_colours_its_row_whatever_the_value() {
        let signals = signals(&resources());
        let range = Window::new(600, 60).unwrap().range(NOW);
        let answers = vec![answer("errors", &[(range.start, 0.0)])];
        let alarms = vec![AlarmState {
            name: "marketgrid-prod-processor-errors".into(),
            reason: Some("Threshold Crossed".into()),
            since: None,
        }];
        let rows = assemble(&signals, &range, &answers, None, &alarms);
        let errors = rows.iter().find(|r| r.key == "errors").unwrap();
        assert_eq!(errors.level, Level::Alarm);
        assert!(errors.note.as_deref().unwrap().contains("processor-errors"));
    }

    #[test]
    fn rejected_percentiles_show_unavailable_with_the_reason() {
        let signals = signals(&resources());
        let range = Window::new(600, 60).unwrap().range(NOW);
        let rejected = PercentilesRejected("HTTP 500".into());
        let rows = assemble(&signals, &range, &[], Some(&rejected), &[]);
        let p99 = rows.iter().find(|r| r.key == "latency_p99").unwrap();
        assert_eq!(p99.level, Level::Unavailable);
        assert_eq!(p99.latest_text(60), "n/a");
        assert!(p99.note.as_deref().unwrap().contains("percentile"));
        let failed = Answer {
            status: "Forbidden".into(),
            messages: vec!["not authorized".into()],
            ..answer("received", &[])
        };
        let rows = assemble(&signals, &range, &[failed], None, &[]);
        let received = rows.iter().find(|r| r.key == "received").unwrap();
        assert_eq!(received.level, Level::Unavailable);
        assert_eq!(received.note.as_deref(), Some("not authorized"));
    }

    #[test]
    fn numbers_stay_short() {
        assert_eq!(number_text(7.0), "7");
        assert_eq!(number_text(12.25), "12.2");
        assert_eq!(number_text(1234.0), "1,234");
        assert_eq!(number_text(12_345.0), "12.3k");
        assert_eq!(number_text(4_500_000.0), "4.5M");
        assert_eq!(number_text(250.4), "250");
    }

    #[test]
    fn quantiles_take_the_nearest_rank() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&values, 0.50), 50.0);
        assert_eq!(quantile(&values, 0.99), 99.0);
        assert_eq!(quantile(&values[..1], 0.99), 1.0);
        assert_eq!(quantile(&[], 0.5), 0.0);
    }

    #[test]
    fn trends_scale_to_their_peak() {
        assert_eq!(trend_text(&[Some(0.0), Some(4.0), None, Some(8.0)]), "▁▅ █");
        assert_eq!(trend_text(&[Some(0.0), Some(0.0)]), "▁▁");
        // A trickle beside a flood is not drawn as zero.
        assert_eq!(trend_text(&[Some(0.0), Some(3.0), Some(6_000.0)]), "▁▂█");
    }
}
