//! The window a dashboard shows: its span and period, the time range it covers, and the queries
//! that fetch every signal in one GetMetricData call.

use std::fmt;

use mgrid_contract::EpochMillis;
use serde::Serialize;

pub use crate::decide::spans::span_text;

use super::signal::Signal;

pub(super) const MINUTE: i64 = 60;

/// The windows `+` and `-` step through.
pub(super) const WINDOWS: [i64; 8] = [
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
pub(super) const PERIODS: [i64; 5] = [
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
    pub(super) fn bucket(&self, at: EpochMillis) -> Option<usize> {
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
