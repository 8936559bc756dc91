//! A snapshot as people read it: numbers in a few characters, trends as block characters,
//! levels coloured, and the alarms in ALARM (`metrics tail --once`, the plain output without a
//! terminal, and `status`).

use std::fmt;

use mgrid_contract::clock::format_rfc3339;

use super::series::{AlarmState, Level, Liveness, Snapshot};
use super::window::span_text;
use crate::text::{DIM, ERROR, GOOD};

/// A series as one line of block characters, scaled to its own peak: no data is a blank, zero
/// the lowest bar, and anything above zero at least the second, so a trickle beside a flood
/// still shows.
pub fn trend_text(buckets: &[Option<f64>]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let peak = buckets.iter().flatten().fold(0.0_f64, |a, b| a.max(*b));
    buckets
        .iter()
        .map(|value| match value {
            None => ' ',
            Some(v) if *v <= 0.0 || peak <= 0.0 => BARS[0],
            Some(v) => BARS[((v / peak) * 7.0).round().clamp(1.0, 7.0) as usize],
        })
        .collect()
}

fn level_cell(level: Level) -> comfy_table::Cell {
    let cell = comfy_table::Cell::new(level.as_str());
    match level {
        Level::Ok => cell.fg(comfy_table::Color::Green),
        Level::Warning => cell.fg(comfy_table::Color::Yellow),
        Level::Alarm => cell
            .fg(comfy_table::Color::Red)
            .add_attribute(comfy_table::Attribute::Bold),
        Level::Info | Level::Stale | Level::NoData | Level::Unavailable => {
            cell.add_attribute(comfy_table::Attribute::Dim)
        }
    }
}

/// The plain snapshot: `--once`, and every interval without a terminal.
impl fmt::Display for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "stage {}  last {} at {}  {} .. {}  (fetched {})",
            self.stage,
            self.window,
            span_text(self.period_seconds),
            self.start,
            self.end,
            self.fetched_at
        )?;
        if let Liveness::Stopped { why, since } = &self.liveness {
            let since = since.map(|at| format!(" (last data {})", format_rfc3339(at)));
            writeln!(f, "{ERROR}{why}{}{ERROR:#}", since.unwrap_or_default())?;
        }
        let mut table =
            crate::text::table(&["signal", "now (partial)", "last complete", "level", "trend"]);
        for row in self
            .series
            .iter()
            .filter(|s| !s.breakdown || self.focus.is_some())
        {
            let buckets = row.buckets(&self.range);
            let trend = trend_text(&buckets[buckets.len().saturating_sub(30)..]);
            table.add_row(vec![
                comfy_table::Cell::new(row.label),
                comfy_table::Cell::new(row.now_text().unwrap_or_default()),
                comfy_table::Cell::new(row.latest_text(self.period_seconds)),
                level_cell(row.level),
                comfy_table::Cell::new(trend.trim_end()),
            ]);
        }
        writeln!(f, "{table}")?;
        for row in self.series.iter().filter(|r| r.level == Level::Unavailable) {
            if let Some(note) = &row.note {
                writeln!(f, "{DIM}{}: n/a, {note}{DIM:#}", row.label)?;
            }
        }
        write_alarms(f, "alarms: ", &self.alarms_in_alarm)
    }
}

/// The alarms in ALARM, each with since when and why (`status` and `metrics tail --once`).
pub fn write_alarms(
    f: &mut fmt::Formatter<'_>,
    heading: &str,
    alarms: &[AlarmState],
) -> fmt::Result {
    if alarms.is_empty() {
        return writeln!(f, "{heading}{GOOD}none in ALARM{GOOD:#}");
    }
    writeln!(f, "{heading}{ERROR}{} in ALARM{ERROR:#}", alarms.len())?;
    for alarm in alarms {
        writeln!(
            f,
            "  {ERROR}{}{ERROR:#} since {}: {}",
            alarm.name,
            alarm.since.as_deref().unwrap_or("?"),
            alarm.reason.as_deref().unwrap_or("")
        )?;
    }
    Ok(())
}
