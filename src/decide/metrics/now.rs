//! "Now" beside history: the current rate of each count, from the period still filling, and
//! whether the backend behind the numbers is still answering.
//!
//! A count's value for the period now falls in grows as the period goes on, so it is no rate
//! by itself. Between two refreshes that both saw it, the count's growth over the time between
//! their data is the rate right now (it falls to zero a refresh after the webhooks stop). The
//! first refresh has no refresh before it: where the backend keeps its counts write by write
//! (the local stage), the growth over the last ten seconds; else (CloudWatch) the period so far,
//! averaged over what of it has passed.

use std::collections::BTreeMap;

use mgrid_contract::EpochMillis;

use super::series::{Now, NowBasis, Snapshot};
use super::signal::Stat;

/// Below this much of a period, a count so far says little: the previous period joins it.
const YOUNG_MS: i64 = 15_000;
/// Refreshes further apart than this are not compared.
const LONGEST_GAP_MS: i64 = 5 * 60_000;

/// What the last refresh saw of each count, so the next can tell the rate between them.
#[derive(Debug, Default)]
pub struct RateMemory {
    last: Option<Seen>,
}

#[derive(Debug)]
struct Seen {
    as_of: EpochMillis,
    /// Counts are summed from here (the start of the period that was filling).
    since: EpochMillis,
    totals: BTreeMap<&'static str, f64>,
    nows: BTreeMap<&'static str, Now>,
}

impl RateMemory {
    /// Fills in each series' current value, and remembers this snapshot for the next.
    pub fn read(&mut self, snapshot: &mut Snapshot) {
        let range = snapshot.range;
        let filling = range.end - range.period_ms;
        let as_of = snapshot.as_of.clamp(filling, range.end);
        let previous = self.last.take().filter(|seen| {
            seen.as_of <= as_of && as_of - seen.as_of <= LONGEST_GAP_MS && seen.since >= range.start
        });
        let mut seen = Seen {
            as_of,
            since: filling,
            totals: BTreeMap::new(),
            nows: BTreeMap::new(),
        };
        for series in &mut snapshot.series {
            let total_since = |from: EpochMillis| -> f64 {
                series
                    .points
                    .iter()
                    .filter(|p| p.at >= from)
                    .map(|p| p.value)
                    .sum()
            };
            let partial = series.points.iter().find(|p| p.at == filling);
            series.now = if series.stat != Stat::Sum {
                partial.map(|p| Now {
                    value: p.value,
                    basis: NowBasis::ReadingSoFar,
                    over_seconds: (as_of - filling) as f64 / 1000.0,
                })
            } else {
                let between = previous.as_ref().and_then(|seen| {
                    if seen.as_of == as_of {
                        // The same data as last time: the same answer.
                        return seen.nows.get(series.key).copied();
                    }
                    // A count never seen measured, with nothing since, has no rate: no data.
                    let before = match seen.totals.get(series.key) {
                        Some(before) => *before,
                        None if series.points.iter().any(|p| p.at >= seen.since) => 0.0,
                        None => return None,
                    };
                    let grown = total_since(seen.since) - before;
                    let seconds = (as_of - seen.as_of) as f64 / 1000.0;
                    (grown >= 0.0).then_some(Now {
                        value: grown / seconds,
                        basis: NowBasis::SinceLastRefresh,
                        over_seconds: seconds,
                    })
                });
                between
                    .or_else(|| {
                        series.recent.filter(|r| r.seconds > 0.0).map(|r| Now {
                            value: r.count / r.seconds,
                            basis: NowBasis::LastSeconds,
                            over_seconds: r.seconds,
                        })
                    })
                    .or_else(|| period_so_far(series, filling, as_of, range.period_ms))
            };
            // Once measured, a count that stops is zero, not no data.
            if let Some(now) = series.now {
                seen.totals.insert(series.key, total_since(filling));
                seen.nows.insert(series.key, now);
            }
        }
        self.last = Some(seen);
    }
}

/// A count over the part of its period that has passed; while the period is young, with the
/// complete period before it. Nothing when the period has no data yet (CloudWatch publishes a
/// minute or two late: no point is not zero).
fn period_so_far(
    series: &super::series::Series,
    filling: EpochMillis,
    as_of: EpochMillis,
    period_ms: i64,
) -> Option<Now> {
    let partial = series.points.iter().find(|p| p.at == filling)?;
    let elapsed = as_of - filling;
    let before = series.points.iter().find(|p| p.at == filling - period_ms);
    let (count, span) = match before {
        Some(before) if elapsed < YOUNG_MS => (partial.value + before.value, elapsed + period_ms),
        _ => (partial.value, elapsed),
    };
    let seconds = span.max(1000) as f64 / 1000.0;
    Some(Now {
        value: count / seconds,
        basis: NowBasis::PeriodSoFar,
        over_seconds: seconds,
    })
}

#[cfg(test)]
mod tests {
    use super::super::{Answer, RefreshCost, Resources, Window, assemble, signals};
    use super::*;

    const MINUTE: i64 = 60_000;
    /// The start of a minute.
    const T0: EpochMillis = 1_764_399_960_000;

    /// A snapshot whose data stands at `as_of`, with `received` counts per minute start.
    fn snapshot(as_of: EpochMillis, received: &[(EpochMillis, f64)]) -> Snapshot {
        let window = Window::new(900, 60).unwrap();
        let range = window.range(as_of);
        let signals = signals(&Resources::named_for("local"));
        let answers = vec![Answer {
            id: "received".into(),
            timestamps: received.iter().map(|p| p.0).collect(),
            values: received.iter().map(|p| p.1).collect(),
            status: "Complete".into(),
            messages: vec![],
        }];
        let series = assemble(&signals, &range, &answers, None, &[]);
        let mut snapshot = Snapshot::new(
            "local",
            &window,
            range,
            as_of,
            series,
            vec![],
            RefreshCost::default(),
        );
        snapshot.as_of = as_of;
        snapshot
    }

    fn now_of(snapshot: &Snapshot) -> Option<Now> {
        snapshot.series.iter().find(|s| s.key == "received")?.now
    }

    #[test]
    fn the_first_refresh_averages_the_period_so_far() {
        let mut memory = RateMemory::default();
        let mut first = snapshot(T0 + 30_000, &[(T0 - MINUTE, 6000.0), (T0, 9000.0)]);
        memory.read(&mut first);
        let now = now_of(&first).unwrap();
        assert_eq!(now.basis, NowBasis::PeriodSoFar);
        assert_eq!(now.value, 300.0);
    }

    #[test]
    fn a_young_period_leans_on_the_one_before() {
        let mut memory = RateMemory::default();
        let mut first = snapshot(T0 + 2_000, &[(T0 - MINUTE, 6000.0), (T0, 600.0)]);
        memory.read(&mut first);
        assert_eq!(now_of(&first).unwrap().value, 6600.0 / 62.0);
    }

    #[test]
    fn later_refreshes_take_the_growth_between_them_even_across_a_minute() {
        let mut memory = RateMemory::default();
        let mut first = snapshot(T0 + 50_000, &[(T0, 15_000.0)]);
        memory.read(&mut first);
        // 10 s later, in the next minute: the first minute ended at 18,000, 600 since.
        let mut second = snapshot(T0 + 60_000, &[(T0, 18_000.0), (T0 + MINUTE, 0.0)]);
        memory.read(&mut second);
        let now = now_of(&second).unwrap();
        assert_eq!(now.basis, NowBasis::SinceLastRefresh);
        assert_eq!(now.value, 300.0);
        let mut third = snapshot(T0 + 70_000, &[(T0, 18_000.0), (T0 + MINUTE, 3000.0)]);
        memory.read(&mut third);
        assert_eq!(now_of(&third).unwrap().value, 300.0);
    }

    #[test]
    fn the_rate_falls_to_zero_a_refresh_after_the_webhooks_stop() {
        let mut memory = RateMemory::default();
        let mut busy = snapshot(T0 + 20_000, &[(T0, 6000.0)]);
        memory.read(&mut busy);
        let mut stopped = snapshot(T0 + 30_000, &[(T0, 6000.0)]);
        memory.read(&mut stopped);
        assert_eq!(now_of(&stopped).unwrap().value, 0.0);
    }

    #[test]
    fn no_point_in_the_filling_period_is_no_current_value_not_zero() {
        let mut memory = RateMemory::default();
        let mut first = snapshot(T0 + 30_000, &[(T0 - MINUTE, 6000.0)]);
        memory.read(&mut first);
        assert_eq!(now_of(&first), None);
    }

    #[test]
    fn a_count_with_no_data_at_all_stays_without_a_rate_across_refreshes() {
        let mut memory = RateMemory::default();
        for at in [T0 + 10_000, T0 + 20_000, T0 + 30_000] {
            let mut idle = snapshot(at, &[]);
            memory.read(&mut idle);
            assert_eq!(now_of(&idle), None);
        }
    }

    #[test]
    fn a_count_that_stopped_stays_at_zero_into_the_next_minutes() {
        let mut memory = RateMemory::default();
        let mut busy = snapshot(T0 + 50_000, &[(T0, 6000.0)]);
        memory.read(&mut busy);
        for at in [T0 + 60_000, T0 + 70_000, T0 + 130_000] {
            let mut quiet = snapshot(at, &[(T0, 6000.0)]);
            memory.read(&mut quiet);
            assert_eq!(now_of(&quiet).map(|n| n.value), Some(0.0), "at {at}");
        }
    }

    #[test]
    fn the_same_data_twice_keeps_the_rate_it_had() {
        let mut memory = RateMemory::default();
        let mut first = snapshot(T0 + 20_000, &[(T0, 6000.0)]);
        memory.read(&mut first);
        let mut second = snapshot(T0 + 30_000, &[(T0, 9000.0)]);
        memory.read(&mut second);
        let mut again = snapshot(T0 + 30_000, &[(T0, 9000.0)]);
        memory.read(&mut again);
        assert_eq!(now_of(&again).unwrap().value, 300.0);
    }

    #[test]
    fn the_first_refresh_takes_the_last_seconds_where_the_backend_kept_them() {
        // A load of 1/s that began 5 s before the minute ended: the period so far (with the one
        // before it, the period being young) would say 15 in 70 s, 0.2/s.
        let mut memory = RateMemory::default();
        let mut first = snapshot(T0 + 10_000, &[(T0 - MINUTE, 5.0), (T0, 10.0)]);
        for series in &mut first.series {
            if series.key == "received" {
                series.recent = Some(super::super::Recent {
                    count: 10.0,
                    seconds: 10.0,
                });
            }
        }
        memory.read(&mut first);
        let now = now_of(&first).unwrap();
        assert_eq!(now.basis, NowBasis::LastSeconds);
        assert_eq!(now.value, 1.0);
        // And stopped 15 s ago: nothing in the last seconds is 0/s, not the minute's average.
        let mut quiet = snapshot(T0 + 25_000, &[(T0, 10.0)]);
        for series in &mut quiet.series {
            if series.key == "received" {
                series.recent = Some(super::super::Recent {
                    count: 0.0,
                    seconds: 10.0,
                });
            }
        }
        RateMemory::default().read(&mut quiet);
        assert_eq!(now_of(&quiet).unwrap().value, 0.0);
    }
}
