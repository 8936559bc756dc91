//! How the answers become rows: each signal's series, its level and trend, and the snapshot a
//! refresh shows.

use std::collections::BTreeMap;

use mgrid_contract::EpochMillis;
use mgrid_contract::clock::format_rfc3339;
use serde::Serialize;

use super::signal::{Levels, Panel, Signal, Stat, Unit};
use super::window::{TimeRange, Window, span_text};

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

pub(super) fn series(
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

/// A reading of the period now falls in, marked partial wherever it is shown.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Now {
    /// Per second for a count; the period's reading so far for a maximum or a percentile.
    pub value: f64,
    pub basis: NowBasis,
    /// The seconds of data the value stands on.
    pub over_seconds: f64,
}

/// How a current value was measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum NowBasis {
    /// A count's growth between this refresh and the one before.
    SinceLastRefresh,
    /// A count over the part of the period that has passed.
    PeriodSoFar,
    /// A count over the last seconds, as the backend kept it write by write (the local stage).
    LastSeconds,
    /// A maximum or percentile of the period so far.
    ReadingSoFar,
}

/// Whether the backend behind a snapshot is still producing data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", tag = "state")]
pub enum Liveness {
    Answering,
    /// It answered, with data that stopped coming: `mgrid dev` is not running.
    Stopped {
        why: String,
        /// The last sign of life, when there was one.
        #[serde(serialize_with = "crate::clock::rfc3339_option")]
        #[cfg_attr(test, schemars(with = "Option<crate::clock::Rfc3339>"))]
        since: Option<EpochMillis>,
    },
}

/// A number in at most a few characters: 7, 12.5, 1,234, 12.3k, 4.5M.
pub fn number_text(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 1e6 {
        format!("{:.1}M", value / 1e6)
    } else if magnitude >= 1e4 {
        format!("{:.1}k", value / 1e3)
    } else if value.fract() == 0.0 {
        let whole = value as i64;
        if magnitude >= 1000.0 {
            format!("{},{:03}", whole / 1000, (whole % 1000).abs())
        } else {
            whole.to_string()
        }
    } else if magnitude >= 100.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

/// A sum's answer from its parts' answers, period by period; None when a part has none. A part
/// the backend could not answer makes the sum unavailable, as that part is.
pub(super) fn summed(signal: &Signal, answers: &[Answer]) -> Option<Answer> {
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
