//! The dashboard's charts: a grid of panels filling the screen, and one panel full-screen with
//! its breakdown, its alarms and the command that acts on it. Every value axis is scaled to the
//! window's peak (log scale where a panel says so), every time axis runs from the window's start
//! to now, and a period without data is a gap, never a zero.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, BorderType, Chart, Dataset, GraphType, Paragraph, Wrap};

use super::cells::{alarm_text, charted_buckets, last_cell, level_colour, level_words, now_cell};
use crate::decide::metrics::{
    Level, Panel, Scale, Series, Snapshot, number_text, rate_text, span_text, trend_text,
};

/// One colour per series of a panel, in order.
const COLOURS: [Color; 8] = [
    Color::Cyan,
    Color::Green,
    Color::Yellow,
    Color::Magenta,
    Color::LightBlue,
    Color::LightRed,
    Color::LightCyan,
    Color::LightGreen,
];

/// From this width up, three panels a row.
const THREE_COLUMNS: u16 = 180;

/// Every panel, as large as the screen allows, with the alarms in ALARM under them.
pub fn grid(frame: &mut Frame, area: Rect, snapshot: &Snapshot, selected: Panel) {
    let alarm_height = (1 + snapshot.alarms_in_alarm.len() as u16).min(4);
    let [cells, alarms] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(alarm_height)]).areas(area);
    let columns = if area.width >= THREE_COLUMNS { 3 } else { 2 };
    let rows = Panel::ALL.len().div_ceil(columns);
    let row_areas = Layout::vertical(vec![Constraint::Ratio(1, rows as u32); rows]).split(cells);
    for (row, panels) in Panel::ALL.chunks(columns).enumerate() {
        let cell_areas = Layout::horizontal(vec![Constraint::Ratio(1, columns as u32); columns])
            .split(row_areas[row]);
        for (panel, cell) in panels.iter().zip(cell_areas.iter()) {
            panel_view(frame, *cell, snapshot, *panel, *panel == selected);
        }
    }
    frame.render_widget(
        Paragraph::new(alarm_text(snapshot)).wrap(Wrap { trim: true }),
        alarms,
    );
}

/// A panel's main series (its breakdown is for the drill-down).
fn main_series(snapshot: &Snapshot, panel: Panel) -> Vec<&Series> {
    snapshot
        .series
        .iter()
        .filter(|s| s.panel == panel && !s.breakdown)
        .collect()
}

fn frame_block(panel: Panel, selected: bool, suffix: &str) -> Block<'static> {
    let scale = match panel.scale() {
        Scale::Log => " · log scale",
        Scale::Linear => "",
    };
    let title = format!(
        "{}{}{scale}{suffix} ",
        if selected { " ▶ " } else { " " },
        panel.title()
    );
    let block = Block::bordered().title(Span::styled(
        title,
        Style::new().add_modifier(Modifier::BOLD),
    ));
    if selected {
        block
            .border_type(BorderType::Thick)
            .border_style(Style::new().fg(Color::Cyan))
    } else {
        block.border_style(Style::new().add_modifier(Modifier::DIM))
    }
}

fn panel_view(frame: &mut Frame, area: Rect, snapshot: &Snapshot, panel: Panel, selected: bool) {
    let block = frame_block(panel, selected, "");
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let series = main_series(snapshot, panel);
    let legend = legend_lines(&series, snapshot, inner.width);
    let legend_height = (legend.len() as u16).min(inner.height / 3).max(1);
    let [legend_area, chart_area] =
        Layout::vertical([Constraint::Length(legend_height), Constraint::Min(0)]).areas(inner);
    frame.render_widget(Paragraph::new(legend), legend_area);
    draw_chart(frame, chart_area, snapshot, panel, &series);
}

/// Each series as "● label now · last level", packed into lines; in a panel of many (failures),
/// those with nothing to show are counted in one entry.
fn legend_lines(series: &[&Series], snapshot: &Snapshot, width: u16) -> Vec<Line<'static>> {
    let quiet = |s: &&Series| {
        series.len() > 3
            && matches!(s.level, Level::NoData | Level::Unavailable | Level::Ok)
            && !has_data(s)
    };
    let mut entries: Vec<Vec<Span<'static>>> = series
        .iter()
        .enumerate()
        .filter(|(_, s)| !quiet(s))
        .map(|(index, s)| legend_entry(s, snapshot, COLOURS[index % COLOURS.len()]))
        .collect();
    let silent = series.iter().filter(|s| quiet(s)).count();
    if silent > 0 {
        entries.push(vec![Span::styled(
            format!("{silent} more: zero or no data"),
            Style::new().add_modifier(Modifier::DIM),
        )]);
    }
    let mut lines: Vec<Line<'static>> = Vec::new();
    let mut current: Vec<Span<'static>> = Vec::new();
    let mut used = 0usize;
    for entry in entries {
        let length: usize = entry
            .iter()
            .map(|s| s.content.chars().count())
            .sum::<usize>()
            + 2;
        if used > 0 && used + length > usize::from(width) {
            lines.push(Line::from(std::mem::take(&mut current)));
            used = 0;
        }
        if used > 0 {
            current.push(Span::raw("  "));
        }
        used += length;
        current.extend(entry);
    }
    if !current.is_empty() {
        lines.push(Line::from(current));
    }
    lines
}

fn legend_entry(series: &Series, snapshot: &Snapshot, colour: Color) -> Vec<Span<'static>> {
    let style = level_colour(series.level);
    let mut spans = vec![
        Span::styled("● ", Style::new().fg(colour)),
        Span::styled(format!("{} ", series.label), style),
    ];
    match series.level {
        Level::Unavailable => spans.push(Span::styled("n/a (not measured)", style)),
        Level::NoData => spans.push(Span::styled("no data", style)),
        _ => {
            if series.now.is_some() {
                spans.push(Span::styled(
                    format!("{} now ", now_cell(series)),
                    style.add_modifier(Modifier::BOLD),
                ));
            }
            spans.push(Span::styled(
                format!("· last {}", last_cell(series, snapshot)),
                style,
            ));
            let words = level_words(series.level);
            if !words.is_empty() {
                spans.push(Span::styled(format!(" {words}"), style));
            }
        }
    }
    spans
}

/// The points of one series as a chart draws them: x in seconds before now, y on the panel's
/// scale, split where periods have no data.
struct Plotted {
    segments: Vec<Vec<(f64, f64)>>,
    now: Option<(f64, f64)>,
    colour: Color,
}

fn scaled(value: f64, scale: Scale) -> f64 {
    match scale {
        Scale::Linear => value,
        Scale::Log => (1.0 + value.max(0.0)).log10(),
    }
}

fn unscaled(value: f64, scale: Scale) -> f64 {
    match scale {
        Scale::Linear => value,
        Scale::Log => 10f64.powf(value) - 1.0,
    }
}

fn plot(series: &Series, snapshot: &Snapshot, scale: Scale, colour: Color) -> Plotted {
    let range = &snapshot.range;
    let mut buckets = charted_buckets(series, snapshot);
    // The last bucket is the period still filling: drawn as now, at the right edge.
    let now = buckets
        .pop()
        .flatten()
        .map(|value| (0.0, scaled(value, scale)));
    let x_of = |index: usize| {
        let centre = range.start + index as i64 * range.period_ms + range.period_ms / 2;
        (centre - snapshot.as_of) as f64 / 1000.0
    };
    let mut segments: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut joined = false;
    for (index, bucket) in buckets.into_iter().enumerate() {
        match bucket {
            Some(value) => {
                let point = (x_of(index), scaled(value, scale));
                match segments.last_mut() {
                    Some(segment) if joined => segment.push(point),
                    _ => segments.push(vec![point]),
                }
                joined = true;
            }
            None => joined = false,
        }
    }
    Plotted {
        segments,
        now,
        colour,
    }
}

fn draw_chart(
    frame: &mut Frame,
    area: Rect,
    snapshot: &Snapshot,
    panel: Panel,
    series: &[&Series],
) {
    if area.height < 3 || area.width < 12 {
        return;
    }
    let axis_unit = series
        .iter()
        .find(|s| s.key == panel.axis_key())
        .map(|s| s.chart_unit())
        .unwrap_or_default();
    let scale = panel.scale();
    let mut plotted: Vec<Plotted> = series
        .iter()
        .enumerate()
        .filter(|(_, s)| s.chart_unit() == axis_unit && s.level != Level::Unavailable)
        .map(|(index, s)| plot(s, snapshot, scale, COLOURS[index % COLOURS.len()]))
        .filter(|p| !p.segments.is_empty() || p.now.is_some())
        .collect();
    if plotted.is_empty() {
        let why = match series.iter().find(|s| s.level == Level::Unavailable) {
            Some(s) if series.iter().all(|s| s.level == Level::Unavailable) => format!(
                "not measured: {}",
                s.note
                    .as_deref()
                    .unwrap_or("the backend has no such metric")
            ),
            _ => format!("no data in the last {}", snapshot.window),
        };
        frame.render_widget(
            Paragraph::new(Line::styled(why, Style::new().add_modifier(Modifier::DIM)))
                .centered()
                .wrap(Wrap { trim: true }),
            Rect {
                y: area.y + area.height / 2,
                height: 1.max(area.height / 2),
                ..area
            },
        );
        return;
    }
    let peak = plotted
        .iter()
        .flat_map(|p| p.segments.iter().flatten().chain(p.now.iter()))
        .map(|(_, y)| *y)
        .fold(0.0_f64, f64::max);
    let top = if peak > 0.0 {
        peak * 1.1
    } else {
        scaled(1.0, scale)
    };
    // A value above zero is at least one braille dot above the floor: a trickle beside a flood
    // stays visible, and unlike zero.
    let plot_rows = f64::from(area.height.saturating_sub(2).max(1));
    let floor = top / (plot_rows * 4.0);
    for p in &mut plotted {
        for (_, y) in p.segments.iter_mut().flatten().chain(p.now.iter_mut()) {
            if *y > 0.0 && *y < floor {
                *y = floor;
            }
        }
    }
    // From the window's first period to now.
    let span = ((snapshot.as_of - snapshot.range.start) / 1000).max(60);
    let datasets: Vec<Dataset> = plotted
        .iter()
        .flat_map(|p| {
            let lines = p.segments.iter().map(move |segment| {
                Dataset::default()
                    .marker(Marker::Braille)
                    .graph_type(if segment.len() == 1 {
                        GraphType::Scatter
                    } else {
                        GraphType::Line
                    })
                    .style(Style::new().fg(p.colour))
                    .data(segment)
            });
            let now = p.now.as_ref().map(|point| {
                Dataset::default()
                    .marker(Marker::Dot)
                    .graph_type(GraphType::Scatter)
                    .style(Style::new().fg(p.colour).add_modifier(Modifier::BOLD))
                    .data(std::slice::from_ref(point))
            });
            lines.chain(now)
        })
        .collect();
    let value_label = |y: f64| format!("{}{axis_unit}", rate_text(unscaled(y, scale)));
    let dim = Style::new().add_modifier(Modifier::DIM);
    let minutes = |seconds: i64| span_text((seconds / 60).max(1) * 60);
    let chart = Chart::new(datasets)
        .x_axis(
            Axis::default()
                .bounds([-(span as f64), 0.0])
                .labels([
                    format!("-{}", snapshot.window),
                    format!("-{}", minutes(span / 2)),
                    "now".to_owned(),
                ])
                .style(dim),
        )
        .y_axis(
            Axis::default()
                .bounds([0.0, top])
                .labels(["0".to_owned(), value_label(top / 2.0), value_label(top)])
                .style(dim),
        )
        .legend_position(None);
    frame.render_widget(chart, area);
}

/// One panel full-screen: its chart, every series with its breakdown (now, last, peak, trend),
/// its alarms, and the command that acts on it.
pub fn drill_down(
    frame: &mut Frame,
    area: Rect,
    snapshot: &Snapshot,
    panel: Panel,
    selected: Panel,
) {
    let block = frame_block(panel, panel == selected, " · drill-down");
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut series = main_series(snapshot, panel);
    series.extend(
        snapshot
            .series
            .iter()
            .filter(|s| s.panel == panel && s.breakdown && has_data(s)),
    );
    let table = breakdown_lines(snapshot, panel, inner.width);
    let alarms = panel_alarms(snapshot, panel);
    let fixed = (table.len() + alarms.len() + 1) as u16;
    // A chart shorter than this says little: a short terminal gets the whole table instead.
    let chart_height = match inner.height.saturating_sub(fixed) {
        room if room >= 8 => room,
        _ if inner.height >= 24 => inner.height / 3,
        _ => 0,
    };
    let [chart_area, table_area, act_area] = Layout::vertical([
        Constraint::Length(chart_height),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(inner);
    if chart_height > 0 {
        let [legend_area, plot_area] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(chart_area);
        let legend = legend_lines(&series, snapshot, inner.width);
        frame.render_widget(Paragraph::new(legend), legend_area);
        draw_chart(frame, plot_area, snapshot, panel, &series);
    }
    let mut lines = table;
    lines.extend(alarms);
    frame.render_widget(Paragraph::new(lines), table_area);
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled("next: ", Style::new().add_modifier(Modifier::DIM)),
            Span::styled(
                panel.act(snapshot),
                Style::new().add_modifier(Modifier::BOLD),
            ),
        ])),
        act_area,
    );
}

/// The table under a drill-down's chart: the main series, then the breakdown's with data, and
/// how many of the breakdown had none.
fn breakdown_lines(snapshot: &Snapshot, panel: Panel, width: u16) -> Vec<Line<'static>> {
    let label_width = if width >= 110 { 34 } else { 24 };
    let heading = Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED);
    let mut lines = vec![
        Line::styled(
            format!("breakdown: {}", panel.breakdown_note()),
            Style::new().add_modifier(Modifier::DIM),
        ),
        Line::styled(
            format!(
                "{:<label_width$}{:>10}{:>13}{:>7}{:>9}  trend",
                "signal",
                "now",
                format!("last {}", span_text(snapshot.period_seconds)),
                "level",
                "peak"
            ),
            heading,
        ),
    ];
    let all: Vec<&Series> = snapshot
        .series
        .iter()
        .filter(|s| s.panel == panel)
        .collect();
    let (main, extra): (Vec<&Series>, Vec<&Series>) = all.into_iter().partition(|s| !s.breakdown);
    for series in main.iter().chain(extra.iter().filter(|s| has_data(s))) {
        lines.push(table_row(series, snapshot, label_width));
    }
    let quiet = extra.iter().filter(|s| !has_data(s)).count();
    let note = if snapshot.focus != Some(panel) {
        Some("loading the breakdown…".to_owned())
    } else if quiet > 0 {
        Some(format!(
            "{quiet} more of the breakdown: zero or no data in the window"
        ))
    } else {
        None
    };
    if let Some(note) = note {
        lines.push(Line::styled(note, Style::new().add_modifier(Modifier::DIM)));
    }
    lines
}

/// Anything but zero in the window, or now.
fn has_data(series: &&Series) -> bool {
    series.points.iter().any(|p| p.value != 0.0) || series.now.is_some_and(|n| n.value != 0.0)
}

fn table_row(series: &Series, snapshot: &Snapshot, label_width: usize) -> Line<'static> {
    let style = level_colour(series.level);
    let peak = series
        .points
        .iter()
        .map(|p| p.value)
        .fold(None, |a: Option<f64>, b| Some(a.map_or(b, |a| a.max(b))));
    let peak = peak.map_or(String::new(), number_text);
    let buckets = series.buckets(&snapshot.range);
    let trend = if series.level == Level::Unavailable {
        format!("not measured: {}", series.note.as_deref().unwrap_or("n/a"))
    } else {
        trend_text(&buckets[buckets.len().saturating_sub(30)..])
    };
    let label: String = if series.label.chars().count() >= label_width {
        series
            .label
            .chars()
            .take(label_width - 2)
            .chain(['…'])
            .collect()
    } else {
        series.label.to_owned()
    };
    Line::styled(
        format!(
            "{label:<label_width$}{:>10}{:>13}{:>7}{:>9}  {}",
            now_cell(series),
            last_cell(series, snapshot),
            level_words(series.level),
            peak,
            trend.trim_end()
        ),
        style,
    )
}

/// The stack's alarms on a panel's signals, each in ALARM (since when, why) or not.
fn panel_alarms(snapshot: &Snapshot, panel: Panel) -> Vec<Line<'static>> {
    let names: Vec<&str> = snapshot
        .series
        .iter()
        .filter(|s| s.panel == panel)
        .filter_map(|s| s.alarm.as_deref())
        .collect();
    if names.is_empty() {
        return vec![Line::styled(
            "alarms: none on this panel's signals in this stage",
            Style::new().add_modifier(Modifier::DIM),
        )];
    }
    names
        .into_iter()
        .map(
            |name| match snapshot.alarms_in_alarm.iter().find(|a| a.name == name) {
                Some(alarm) => Line::styled(
                    format!(
                        "alarm {name}: in ALARM since {}: {}",
                        alarm.since.as_deref().unwrap_or("?"),
                        alarm.reason.as_deref().unwrap_or("")
                    ),
                    Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
                ),
                None => Line::styled(
                    format!("alarm {name}: OK (not in ALARM)"),
                    Style::new().fg(Color::Green),
                ),
            },
        )
        .collect()
}
