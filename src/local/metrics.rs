//! The local stage's metrics, under the names of the dashboard's signals: counted in memory as
//! webhooks arrive and batches run, and written to per-minute rows of the local database every
//! two seconds (sums added, maxima and percentiles set), where `metrics tail --stage local`
//! reads them. Each write also records when it happened: the dashboard's sign that `mgrid dev`
//! is running, and the instant its counts stand at. Nothing here is on the path of a webhook
//! but a locked add.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use mgrid_contract::EpochMillis;
use tokio::sync::watch;

use super::adapters::now;
use super::db::{self, Combine, DEAD_LETTERS, WEBHOOKS};
use super::store::Store;
use crate::clock::now_millis;
use crate::decide::metrics::{
    Answer, Liveness, Panel, Recent, RefreshCost, Resources, Signal, Snapshot, Stat, TimeRange,
    Window, assemble, leaves, quantile, signals_with, span_text,
};
use crate::failure::{Failure, FailureKind};
use crate::ports::MetricsSource;

/// How often counts go to the database.
const FLUSH: Duration = Duration::from_secs(2);

/// The counter that holds the time of the last write.
const HEARTBEAT: &str = "flushed_at";

/// Without a write for this long, `mgrid dev` is taken for stopped (five missed writes: a
/// loaded machine delays one or two).
const SILENT_MS: i64 = 10_000;

/// Counts CloudWatch publishes as zero whenever their parent has data (API Gateway's errors
/// with every request, a function's errors with every invocation): here likewise, so zero and
/// no data look as they do on AWS.
const ZERO_WITH: [(&str, &[&str]); 2] = [
    ("received", &["api_4xx", "api_5xx", "authorizer_errors"]),
    ("invocations", &["errors", "transactions"]),
];

/// Signals a local stage has no source for (no API Gateway throttling, no Lambda throttles,
/// no EventBridge pipes), with why.
pub const NOT_LOCAL: [(&str, &str); 4] = [
    (
        "throttles",
        "the local stage does not throttle its processor",
    ),
    (
        "archive_pipe",
        "the local stage archives without an EventBridge pipe",
    ),
    (
        "notify_pipe",
        "the local stage notifies without an EventBridge pipe",
    ),
    (
        "pipe_dlq_depth",
        "the local stage has no pipe dead-letter queue",
    ),
];

#[derive(Default)]
pub struct LocalMetrics {
    sums: Mutex<BTreeMap<&'static str, f64>>,
    /// This minute's samples for percentiles, by signal.
    samples: Mutex<(i64, BTreeMap<&'static str, Vec<f64>>)>,
    maxima: Mutex<BTreeMap<&'static str, f64>>,
}

impl LocalMetrics {
    pub fn add(&self, name: &'static str, value: f64) {
        if let Ok(mut sums) = self.sums.lock() {
            *sums.entry(name).or_default() += value;
        }
    }

    pub fn sample(&self, name: &'static str, value: f64) {
        let minute = now() / 60_000;
        if let Ok(mut samples) = self.samples.lock() {
            if samples.0 != minute {
                *samples = (minute, BTreeMap::new());
            }
            samples.1.entry(name).or_default().push(value);
        }
    }

    pub fn max(&self, name: &'static str, value: f64) {
        if let Ok(mut maxima) = self.maxima.lock() {
            let slot = maxima.entry(name).or_insert(value);
            *slot = slot.max(value);
        }
    }

    /// Writes what was counted since the last flush, and samples the queues.
    async fn flush(&self, store: &Store) {
        let at = now();
        let mut sums = self
            .sums
            .lock()
            .map(|mut sums| std::mem::take(&mut *sums))
            .unwrap_or_default();
        for (parent, children) in ZERO_WITH {
            if sums.contains_key(parent) {
                for child in children {
                    sums.entry(child).or_insert(0.0);
                }
            }
        }
        let maxima = self
            .maxima
            .lock()
            .map(|mut maxima| std::mem::take(&mut *maxima))
            .unwrap_or_default();
        let percentiles: Vec<(String, f64)> = self
            .samples
            .lock()
            .map(|samples| {
                samples
                    .1
                    .iter()
                    .flat_map(|(name, values)| {
                        let mut sorted = values.clone();
                        sorted.sort_by(f64::total_cmp);
                        [
                            (format!("{name}_p50"), quantile(&sorted, 0.50)),
                            (format!("{name}_p90"), quantile(&sorted, 0.90)),
                            (format!("{name}_p99"), quantile(&sorted, 0.99)),
                            (format!("{name}_max"), quantile(&sorted, 1.0)),
                        ]
                    })
                    .collect()
            })
            .unwrap_or_default();
        let written = store
            .run(move |c| {
                for (name, value) in &sums {
                    db::record(c, name, at, *value, Combine::Add)?;
                }
                db::record_recent(c, at, &sums)?;
                for (name, value) in &maxima {
                    db::record(c, name, at, *value, Combine::Max)?;
                }
                for (name, value) in &percentiles {
                    db::record(c, name, at, *value, Combine::Set)?;
                }
                let queue = db::depth(c, WEBHOOKS, at)?;
                db::record(c, "queue_depth", at, queue.visible as f64, Combine::Max)?;
                let oldest = queue.oldest_sent_at.map_or(0, |sent| (at - sent).max(0)) / 1000;
                db::record(c, "oldest_age", at, oldest as f64, Combine::Max)?;
                let dead = db::depth(c, DEAD_LETTERS, at)?;
                db::record(
                    c,
                    "dlq_depth",
                    at,
                    (dead.visible + dead.in_flight) as f64,
                    Combine::Max,
                )?;
                db::record(c, HEARTBEAT, at, at as f64, Combine::Max)?;
                Ok(())
            })
            .await;
        if let Err(error) = written {
            tracing::warn!("could not write the local metrics: {error}");
        }
    }
}

/// Flushes every two seconds until the stage stops, then once more.
pub async fn flush_loop(
    metrics: std::sync::Arc<LocalMetrics>,
    store: Store,
    mut stopping: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(FLUSH) => {}
            _ = stopping.changed() => {
                metrics.flush(&store).await;
                return;
            }
        }
        metrics.flush(&store).await;
    }
}

/// Snapshots of the local stage, from the per-minute counters `mgrid dev` writes.
pub struct LocalSource {
    paths: super::paths::Paths,
    resources: Resources,
}

impl LocalSource {
    pub fn new(paths: super::paths::Paths) -> LocalSource {
        LocalSource {
            paths,
            resources: Resources::named_for(crate::decide::config::LOCAL_STAGE),
        }
    }
}

/// Whether `mgrid dev` still writes, from the time of its last write.
fn liveness(last_write: Option<EpochMillis>, now: EpochMillis, data_dir: &Path) -> Liveness {
    match last_write {
        Some(at) if now - at <= SILENT_MS => Liveness::Answering,
        Some(at) => Liveness::Stopped {
            why: format!(
                "mgrid dev is not running: no metrics written for over {} (start it with `mgrid dev --data-dir {}`)",
                span_text(SILENT_MS / 1000),
                data_dir.display()
            ),
            since: Some(at),
        },
        None => Liveness::Stopped {
            why: format!(
                "mgrid dev has written no metrics under {} yet (start it with `mgrid dev`)",
                data_dir.display()
            ),
            since: None,
        },
    }
}

impl MetricsSource for LocalSource {
    async fn refresh(
        &mut self,
        window: &Window,
        focus: Option<Panel>,
    ) -> Result<Snapshot, Failure> {
        let fetched_at = now_millis();
        let range = window.range(fetched_at);
        let connection = super::open_existing(&self.paths)?;
        let read_failed = |e: rusqlite::Error| {
            Failure::new(FailureKind::Failed, format!("the local database: {e}"))
        };
        let last_write = db::last_counter(&connection, HEARTBEAT)
            .map_err(read_failed)?
            .map(|at| at as EpochMillis);
        let signals = signals_with(&self.resources, focus);
        let mut answers = Vec::with_capacity(signals.len());
        for signal in leaves(&signals) {
            if let Some((_, why)) = NOT_LOCAL.iter().find(|(key, _)| *key == signal.key) {
                answers.push(Answer {
                    id: signal.key.to_owned(),
                    status: "NotOnLocalStage".to_owned(),
                    messages: vec![(*why).to_owned()],
                    ..Answer::default()
                });
                continue;
            }
            let minutes = db::counter_series(&connection, signal.key, range.start, range.end)
                .map_err(read_failed)?;
            answers.push(per_period(signal, &range, &minutes));
        }
        let mut series = assemble(&signals, &range, &answers, None, &[]);
        // The local stage has no CloudWatch alarms.
        for series in &mut series {
            series.alarm = None;
        }
        if let Some(as_of) = last_write {
            let recent = recent_counts(&connection, &signals, as_of).map_err(read_failed)?;
            for (series, recent) in series.iter_mut().zip(recent) {
                // A count never measured in the window has no rate, as on CloudWatch.
                series.recent = recent.filter(|r| r.count > 0.0 || !series.points.is_empty());
            }
        }
        let mut snapshot = Snapshot::new(
            crate::decide::config::LOCAL_STAGE,
            window,
            range,
            fetched_at,
            series,
            Vec::new(),
            RefreshCost::default(),
        );
        snapshot.liveness = liveness(last_write, fetched_at, &self.paths.dir);
        // The counts stand at the last write, not at the read.
        snapshot.as_of = last_write.unwrap_or(fetched_at).min(fetched_at);
        snapshot.focus = focus;
        Ok(snapshot)
    }

    fn retry_unavailable(&mut self) {}
}

/// How far back the first refresh's rate right now reaches.
const RECENT_MS: i64 = 10_000;

/// Each count's growth over the writes of the last [`RECENT_MS`] before `as_of` (a sum's, its
/// parts' together); None for what is not a count, or before two writes.
fn recent_counts(
    connection: &rusqlite::Connection,
    signals: &[Signal],
    as_of: EpochMillis,
) -> rusqlite::Result<Vec<Option<Recent>>> {
    let Some(from) = db::recent_span(connection, as_of, RECENT_MS)? else {
        return Ok(vec![None; signals.len()]);
    };
    let seconds = (as_of - from) as f64 / 1000.0;
    signals
        .iter()
        .map(|signal| {
            if signal.stat != Stat::Sum || NOT_LOCAL.iter().any(|(key, _)| *key == signal.key) {
                return Ok(None);
            }
            let mut count = 0.0;
            for part in signal.asked() {
                count += db::recent_count(connection, part.key, from, as_of)?;
            }
            Ok(Some(Recent { count, seconds }))
        })
        .collect()
}

/// Per-minute local values gathered into the window's periods: sums add up, the rest (maxima,
/// percentiles) take the highest.
fn per_period(signal: &Signal, range: &TimeRange, minutes: &[(i64, f64)]) -> Answer {
    let mut periods: BTreeMap<i64, f64> = BTreeMap::new();
    for (at, value) in minutes {
        let start = range.start + (at - range.start).div_euclid(range.period_ms) * range.period_ms;
        let slot = periods.entry(start).or_insert(if signal.stat == Stat::Sum {
            0.0
        } else {
            *value
        });
        *slot = if signal.stat == Stat::Sum {
            *slot + value
        } else {
            slot.max(*value)
        };
    }
    Answer {
        id: signal.key.to_owned(),
        timestamps: periods.keys().copied().collect(),
        values: periods.values().copied().collect(),
        status: "Complete".to_owned(),
        messages: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: EpochMillis = 1_764_400_000_000;

    #[test]
    fn dev_is_live_while_it_writes_and_stopped_since_its_last_write() {
        let dir = Path::new("/tmp/local");
        assert_eq!(liveness(Some(NOW - 3_000), NOW, dir), Liveness::Answering);
        assert_eq!(
            liveness(Some(NOW - SILENT_MS), NOW, dir),
            Liveness::Answering
        );
        match liveness(Some(NOW - 35_000), NOW, dir) {
            Liveness::Stopped { why, since } => {
                assert_eq!(since, Some(NOW - 35_000));
                assert!(why.contains("mgrid dev is not running"), "{why}");
                assert!(why.contains("--data-dir /tmp/local"), "{why}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            liveness(None, NOW, dir),
            Liveness::Stopped { since: None, .. }
        ));
    }
}
