//! What one signal shows in a cell of the dashboard: its latest value, its level in words and
//! colour, its alarm, and the buckets its chart draws; the compact rows and the charts share it.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

use crate::decide::metrics::{Level, Series, Snapshot, span_text};

pub(super) fn level_colour(level: Level) -> Style {
    match level {
        Level::Ok => Style::new().fg(Color::Green),
        Level::Warning => Style::new().fg(Color::Yellow),
        Level::Alarm => Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        Level::Info => Style::new(),
        Level::Stale => Style::new()
            .add_modifier(Modifier::DIM)
            .add_modifier(Modifier::ITALIC),
        Level::NoData | Level::Unavailable => Style::new().add_modifier(Modifier::DIM),
    }
}

/// The level in words: colour is not all a reader (or NO_COLOR) has.
pub(super) fn level_words(level: Level) -> &'static str {
    match level {
        Level::Ok => "ok",
        Level::Warning => "warn",
        Level::Alarm => "ALARM",
        Level::Stale => "stale",
        // The value says "no data" or "n/a"; a bare number needs no word.
        Level::Info | Level::NoData | Level::Unavailable => "",
    }
}

/// The current value, or why there is none: "312/s", "—" (the period has no data yet).
pub(super) fn now_cell(series: &Series) -> String {
    match (series.level, series.now_text()) {
        (Level::Unavailable, _) => String::new(),
        (_, Some(text)) => text,
        (_, None) => "—".to_owned(),
    }
}

/// The latest complete period, and how old when stale: "18.0k/1m", "3/1m 6m ago".
pub(super) fn last_cell(series: &Series, snapshot: &Snapshot) -> String {
    let text = series.latest_text(snapshot.period_seconds);
    match (series.level, series.latest_at) {
        (Level::Stale, Some(at)) => format!(
            "{text} {} ago",
            span_text(((snapshot.as_of - at) / 1000 / 60).max(1) * 60)
        ),
        _ => text,
    }
}

/// One value a period as charts draw them (a count per second), the filling period's being
/// `now`: a partial count would draw as a drop.
pub(super) fn charted_buckets(series: &Series, snapshot: &Snapshot) -> Vec<Option<f64>> {
    let mut buckets: Vec<Option<f64>> = series
        .buckets(&snapshot.range)
        .into_iter()
        .map(|v| v.map(|v| series.charted(v, snapshot.period_seconds)))
        .collect();
    if let Some(last) = buckets.last_mut() {
        *last = series.now.map(|now| now.value);
    }
    buckets
}

pub(super) fn alarm_text(snapshot: &Snapshot) -> Vec<Line<'static>> {
    if snapshot.alarms_in_alarm.is_empty() {
        return vec![Line::styled(
            "alarms: none in ALARM",
            Style::new().fg(Color::Green),
        )];
    }
    let red = Style::new().fg(Color::Red).add_modifier(Modifier::BOLD);
    let mut lines = vec![Line::styled(
        format!("alarms: {} in ALARM", snapshot.alarms_in_alarm.len()),
        red,
    )];
    for alarm in &snapshot.alarms_in_alarm {
        lines.push(Line::from(vec![
            Span::styled(format!("  {}", alarm.name), red),
            Span::raw(format!(
                " since {}: {}",
                alarm.since.as_deref().unwrap_or("?"),
                alarm.reason.as_deref().unwrap_or("")
            )),
        ]));
    }
    lines
}
