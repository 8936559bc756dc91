//! The full-screen view of `mgrid metrics tail`: its state, what keys do to it, and how it is
//! drawn. Drawing is a pure function of the state; snapshots arrive from the poller over a
//! channel and the clock is read by the event loop, never here.

use mgrid_contract::EpochMillis;
use mgrid_contract::clock::format_rfc3339;
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Sparkline, Wrap};

use crate::decide::metrics::{Level, Series, Snapshot, Window};

/// What the poller tells the screen.
#[derive(Debug, Clone)]
pub enum Update {
    /// A refresh started.
    Loading,
    Snapshot(Box<Snapshot>),
    /// A refresh failed; the last data stays on screen.
    Failed(String),
}

/// What the screen asks of the poller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Refresh now, and ask again for rows the backend could not answer.
    Refresh,
    Window(Window),
    Pause(bool),
}

/// What a key press leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOutcome {
    Quit,
    Control(Control),
    Redraw,
    Nothing,
}

#[derive(Debug, Clone)]
pub struct Dashboard {
    pub stage: String,
    pub window: Window,
    pub interval_secs: u64,
    pub snapshot: Option<Snapshot>,
    pub error: Option<String>,
    pub loading: bool,
    pub paused: bool,
    pub help: bool,
    /// When the last snapshot arrived.
    pub updated_at: Option<EpochMillis>,
    /// The time the event loop last read; drawing uses it for "updated 4s ago".
    pub now: EpochMillis,
}

const LABEL_WIDTH: u16 = 24;
const VALUE_WIDTH: u16 = 11;
/// The level in words beside the value: colour is not all a reader (or NO_COLOR) has.
const LEVEL_WIDTH: u16 = 6;
/// Below this width the sparklines are left out.
const NARROW: u16 = 60;

impl Dashboard {
    pub fn new(stage: &str, window: Window, interval_secs: u64) -> Dashboard {
        Dashboard {
            stage: stage.to_owned(),
            window,
            interval_secs,
            snapshot: None,
            error: None,
            loading: true,
            paused: false,
            help: false,
            updated_at: None,
            now: 0,
        }
    }

    pub fn apply(&mut self, update: Update, now: EpochMillis) {
        match update {
            Update::Loading => self.loading = true,
            Update::Snapshot(snapshot) => {
                self.snapshot = Some(*snapshot);
                self.error = None;
                self.loading = false;
                self.updated_at = Some(now);
            }
            Update::Failed(error) => {
                self.error = Some(error);
                self.loading = false;
            }
        }
    }

    pub fn on_key(&mut self, key: KeyEvent) -> KeyOutcome {
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            return KeyOutcome::Quit;
        }
        if self.help {
            // Any key closes the help; q still quits.
            self.help = false;
            return match key.code {
                KeyCode::Char('q') => KeyOutcome::Quit,
                _ => KeyOutcome::Redraw,
            };
        }
        match key.code {
            KeyCode::Char('q') | KeyCode::Esc => KeyOutcome::Quit,
            KeyCode::Char('p') | KeyCode::Char(' ') => {
                self.paused = !self.paused;
                KeyOutcome::Control(Control::Pause(self.paused))
            }
            KeyCode::Char('+') | KeyCode::Char('=') => self.change_window(self.window.wider()),
            KeyCode::Char('-') | KeyCode::Char('_') => self.change_window(self.window.narrower()),
            KeyCode::Char('r') => KeyOutcome::Control(Control::Refresh),
            KeyCode::Char('?') | KeyCode::Char('h') => {
                self.help = true;
                KeyOutcome::Redraw
            }
            _ => KeyOutcome::Nothing,
        }
    }

    fn change_window(&mut self, window: Window) -> KeyOutcome {
        if window == self.window {
            return KeyOutcome::Nothing;
        }
        self.window = window;
        KeyOutcome::Control(Control::Window(window))
    }

    pub fn render(&self, frame: &mut Frame) {
        let area = frame.area();
        // A refresh that failed over the last data: its whole message under the block, wrapped
        // (a title line would cut it off).
        let failed = match (&self.error, &self.snapshot) {
            (Some(error), Some(_)) => {
                Some(format!("refresh failed, showing the last data: {error}"))
            }
            _ => None,
        };
        let failed_height = failed.as_ref().map_or(0, |text| {
            let width = usize::from(area.width.max(1));
            (text.chars().count().div_ceil(width) as u16).clamp(1, 4)
        });
        let [main, failure, footer] = Layout::vertical([
            Constraint::Min(3),
            Constraint::Length(failed_height),
            Constraint::Length(1),
        ])
        .areas(area);
        if let Some(text) = failed {
            frame.render_widget(
                Paragraph::new(Line::styled(
                    text,
                    Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
                ))
                .wrap(Wrap { trim: true }),
                failure,
            );
        }
        let block = Block::bordered().title(self.title());
        let inner = block.inner(main);
        frame.render_widget(block, main);
        match &self.snapshot {
            Some(snapshot) => self.render_snapshot(frame, inner, snapshot),
            None => {
                let text = match &self.error {
                    Some(error) => Line::styled(
                        format!("the first refresh failed: {error}"),
                        Style::new().fg(Color::Red),
                    ),
                    None => Line::from("loading the first refresh…"),
                };
                frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), inner);
            }
        }
        frame.render_widget(
            Paragraph::new(Line::styled(
                "q quit  p pause  +/- window  r refresh  ? help",
                Style::new().add_modifier(Modifier::DIM),
            )),
            footer,
        );
        if self.help {
            self.render_help(frame, area);
        }
    }

    /// The block title carries the state: stage, window, freshness, loading, paused, error.
    fn title(&self) -> Line<'static> {
        let mut spans = vec![Span::styled(
            format!(" mgrid metrics · {} · last {} ", self.stage, self.window),
            Style::new().add_modifier(Modifier::BOLD),
        )];
        // What needs attention first (a narrow terminal cuts the title's end), then freshness.
        if self.paused {
            spans.push(Span::styled(
                "· PAUSED ",
                Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
            ));
        } else if self.loading {
            spans.push(Span::styled("· loading… ", Style::new().fg(Color::Cyan)));
        }
        if let (Some(_), Some(_)) = (&self.error, &self.snapshot) {
            spans.push(Span::styled(
                "· refresh failed (below) ",
                Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            ));
        }
        if let Some(updated) = self.updated_at {
            let age = ((self.now - updated) / 1000).max(0);
            spans.push(Span::raw(format!(
                "· updated {} ({}s ago) ",
                &format_rfc3339(updated)[11..19],
                age
            )));
        }
        Line::from(spans)
    }

    fn render_snapshot(&self, frame: &mut Frame, area: Rect, snapshot: &Snapshot) {
        let alarm_lines = if snapshot.alarms_in_alarm.is_empty() {
            1
        } else {
            1 + snapshot.alarms_in_alarm.len() as u16
        };
        let alarm_height = alarm_lines.min(area.height.saturating_sub(2) / 2).max(1);
        let [rows_area, alarms_area] =
            Layout::vertical([Constraint::Min(1), Constraint::Length(alarm_height)]).areas(area);
        let shown = snapshot.series.len().min(rows_area.height as usize);
        let hidden = snapshot.series.len() - shown;
        let shown = if hidden > 0 {
            shown.saturating_sub(1)
        } else {
            shown
        };
        for (index, series) in snapshot.series.iter().take(shown).enumerate() {
            let row = Rect {
                y: rows_area.y + index as u16,
                height: 1,
                ..rows_area
            };
            render_row(frame, row, series, snapshot);
        }
        if hidden > 0 {
            let more = snapshot.series.len() - shown;
            let row = Rect {
                y: rows_area.y + shown as u16,
                height: 1,
                ..rows_area
            };
            frame.render_widget(
                Paragraph::new(Line::styled(
                    format!("… {more} more rows (enlarge the terminal)"),
                    Style::new().add_modifier(Modifier::DIM),
                )),
                row,
            );
        }
        frame.render_widget(
            Paragraph::new(alarm_text(snapshot)).wrap(Wrap { trim: true }),
            alarms_area,
        );
    }

    fn render_help(&self, frame: &mut Frame, area: Rect) {
        let lines = vec![
            Line::from("q, Esc, Ctrl-C  quit"),
            Line::from("p, space        pause or resume refreshing"),
            Line::from("+ / -           wider or narrower window"),
            Line::from("r               refresh now (also asks again for n/a rows)"),
            Line::from("?               this help; any key closes it"),
            Line::from(""),
            Line::from(format!(
                "Every {}s one GetMetricData call reads all rows, one",
                self.interval_secs
            )),
            Line::from("DescribeAlarms call the alarms. Colours: green ok, yellow"),
            Line::from("warning, red at or past the stack's alarm threshold or"),
            Line::from("when its alarm is in ALARM; grey: no levels, no data, n/a."),
        ];
        let width = 64.min(area.width);
        let height = (lines.len() as u16 + 2).min(area.height);
        let popup = Rect {
            x: area.x + (area.width - width) / 2,
            y: area.y + (area.height - height) / 2,
            width,
            height,
        };
        frame.render_widget(Clear, popup);
        frame.render_widget(
            Paragraph::new(lines).block(Block::bordered().title(" help ")),
            popup,
        );
    }
}

fn level_colour(level: Level) -> Style {
    match level {
        Level::Ok => Style::new().fg(Color::Green),
        Level::Warning => Style::new().fg(Color::Yellow),
        Level::Alarm => Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        Level::Info => Style::new(),
        Level::NoData | Level::Unavailable => Style::new().add_modifier(Modifier::DIM),
    }
}

fn render_row(frame: &mut Frame, area: Rect, series: &Series, snapshot: &Snapshot) {
    let style = level_colour(series.level);
    let label_width = LABEL_WIDTH.min(area.width);
    let value_width = VALUE_WIDTH.min(area.width - label_width);
    let level_width = LEVEL_WIDTH.min(area.width - label_width - value_width);
    let [label, value, level, spark] = Layout::horizontal([
        Constraint::Length(label_width),
        Constraint::Length(value_width),
        Constraint::Length(level_width),
        Constraint::Min(0),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(Span::styled(series.label, style)), label);
    frame.render_widget(
        Paragraph::new(Span::styled(
            format!("{} ", series.latest_text(snapshot.period_seconds)),
            style,
        ))
        .right_aligned(),
        value,
    );
    let words = match series.level {
        Level::Ok => "ok",
        Level::Warning => "warn",
        Level::Alarm => "ALARM",
        // The value itself says "-" or "n/a"; a bare number needs no word.
        Level::Info | Level::NoData | Level::Unavailable => "",
    };
    frame.render_widget(Paragraph::new(Span::styled(words, style)), level);
    if area.width < NARROW || spark.width < 2 {
        return;
    }
    let spark = Rect {
        x: spark.x + 1,
        width: spark.width - 1,
        ..spark
    };
    if series.level == Level::Unavailable {
        let note = series.note.as_deref().unwrap_or("n/a");
        frame.render_widget(
            Paragraph::new(Span::styled(
                note.to_owned(),
                Style::new().add_modifier(Modifier::DIM),
            )),
            spark,
        );
        return;
    }
    let buckets = series.buckets(&snapshot.range);
    let tail = buckets.len().saturating_sub(spark.width as usize);
    // Sparklines take whole numbers: hundredths keep the shape of small values.
    let bars: Vec<Option<u64>> = buckets[tail..]
        .iter()
        .map(|v| v.map(|v| (v.max(0.0) * 100.0).round() as u64))
        .collect();
    let peak = bars.iter().flatten().copied().max().unwrap_or(0);
    // Now is always at the right edge, however few periods the window has.
    let width = (bars.len() as u16).min(spark.width);
    let spark = Rect {
        x: spark.x + spark.width - width,
        width,
        ..spark
    };
    frame.render_widget(
        Sparkline::default()
            .data(bars)
            .max(peak.max(1))
            .style(if series.level == Level::Info {
                Style::new().fg(Color::Cyan)
            } else {
                style
            }),
        spark,
    );
}

fn alarm_text(snapshot: &Snapshot) -> Vec<Line<'static>> {
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

#[cfg(test)]
mod tests {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use ratatui::crossterm::event::KeyEvent;

    use super::*;
    use crate::decide::metrics::{AlarmState, Answer, RefreshCost, Resources, assemble, signals};

    /// 2025-11-29T07:06:40Z
    const NOW: EpochMillis = 1_764_400_000_000;

    fn resources() -> Resources {
        Resources::named_for("prod")
    }

    fn snapshot(alarms: Vec<AlarmState>) -> Snapshot {
        let window = Window::new(600, 60).unwrap();
        let range = window.range(NOW);
        let t = |i: i64| range.start + i * 60_000;
        let series_of = |id: &str, values: &[f64]| Answer {
            id: id.into(),
            timestamps: (0..values.len() as i64).map(t).collect(),
            values: values.to_vec(),
            status: "Complete".into(),
            messages: vec![],
        };
        let published = [
            ("received", vec![120.0, 180.0, 240.0, 600.0, 900.0, 1200.0]),
            ("api_5xx", vec![0.0, 0.0, 2.0]),
            ("latency_p99", vec![80.0, 95.0, 620.0]),
            ("oldest_age", vec![2.0, 5.0, 1.0]),
            ("dlq_depth", vec![0.0, 0.0, 0.0]),
            (
                "transactions",
                vec![119.0, 180.0, 238.0, 600.0, 899.0, 1200.0],
            ),
        ];
        let signals = signals(&resources());
        // CloudWatch answers every query; those with nothing published come back empty.
        let answers: Vec<Answer> = signals
            .iter()
            .map(|signal| {
                let values = published
                    .iter()
                    .find(|(id, _)| *id == signal.key)
                    .map(|(_, values)| values.as_slice())
                    .unwrap_or_default();
                series_of(signal.key, values)
            })
            .collect();
        let series = assemble(&signals, &range, &answers, None, &alarms);
        Snapshot::new(
            "prod",
            &window,
            range,
            NOW,
            series,
            alarms,
            RefreshCost::default(),
        )
    }

    #[test]
    fn the_plain_snapshot_reads_as_a_table() {
        let alarm = AlarmState {
            name: "marketgrid-prod-dlq-depth".into(),
            reason: Some("Threshold Crossed".into()),
            since: Some("2026-11-30T08:58:00Z".into()),
        };
        let once = snapshot(vec![alarm]);
        insta::assert_snapshot!("metrics_once", crate::ui::text::plain(&once));
        crate::ui::output::assert_json_contract("metrics-tail", &once);
    }

    fn dashboard() -> Dashboard {
        let mut dashboard = Dashboard::new("prod", Window::new(600, 60).unwrap(), 10);
        dashboard.now = NOW + 4_000;
        dashboard
    }

    fn drawn(dashboard: &Dashboard, width: u16, height: u16) -> String {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal.draw(|frame| dashboard.render(frame)).unwrap();
        let buffer = terminal.backend().buffer();
        (0..height)
            .map(|y| {
                let line: String = (0..width).map(|x| buffer[(x, y)].symbol()).collect();
                line.trim_end().to_owned()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn key(c: char) -> KeyEvent {
        KeyEvent::from(KeyCode::Char(c))
    }

    #[test]
    fn a_snapshot_draws_every_row_with_its_value_and_trend() {
        let mut dashboard = dashboard();
        dashboard.apply(Update::Snapshot(Box::new(snapshot(vec![]))), NOW);
        insta::assert_snapshot!("dashboard_normal", drawn(&dashboard, 100, 26));
    }

    #[test]
    fn before_the_first_snapshot_it_says_it_is_loading() {
        let screen = drawn(&dashboard(), 80, 10);
        assert!(screen.contains("loading the first refresh…"), "{screen}");
        assert!(
            screen.lines().next().unwrap().contains("loading…"),
            "{screen}"
        );
    }

    #[test]
    fn a_failed_first_refresh_shows_its_error_instead_of_a_blank_screen() {
        let mut dashboard = dashboard();
        dashboard.apply(Update::Failed("AWS refused the credentials".into()), NOW);
        let screen = drawn(&dashboard, 80, 10);
        assert!(
            screen.contains("the first refresh failed: AWS refused the credentials"),
            "{screen}"
        );
    }

    #[test]
    fn a_failed_refresh_keeps_the_last_data_and_says_so_in_the_title() {
        let mut dashboard = dashboard();
        dashboard.apply(Update::Snapshot(Box::new(snapshot(vec![]))), NOW);
        dashboard.apply(Update::Loading, NOW);
        let long = "AWS throttled cloudwatch:GetMetricData on the stage's metrics even after \
                    backing off: Rate exceeded (wait a minute and run the command again)";
        dashboard.apply(Update::Failed(long.into()), NOW);
        let screen = drawn(&dashboard, 80, 30);
        let title = screen.lines().next().unwrap();
        assert!(title.contains("refresh failed (below)"), "{title}");
        // The whole message, wrapped over the lines it needs: nothing is cut off.
        let flat: String = screen.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            flat.contains("(wait a minute and run the command again)"),
            "{screen}"
        );
        assert!(screen.contains("webhooks received"), "{screen}");
        assert!(screen.contains("1,200"), "{screen}");
    }

    #[test]
    fn a_narrow_short_terminal_drops_the_trends_and_says_what_is_hidden() {
        let mut dashboard = dashboard();
        dashboard.apply(Update::Snapshot(Box::new(snapshot(vec![]))), NOW);
        insta::assert_snapshot!("dashboard_narrow", drawn(&dashboard, 40, 12));
    }

    #[test]
    fn alarms_in_alarm_are_listed_and_colour_their_row() {
        let mut dashboard = dashboard();
        let alarm = AlarmState {
            name: "marketgrid-prod-api-5xx".into(),
            reason: Some("Threshold Crossed: 3 datapoints".into()),
            since: Some("2025-11-29T07:01:00.000Z".into()),
        };
        dashboard.apply(Update::Snapshot(Box::new(snapshot(vec![alarm]))), NOW);
        let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
        terminal.draw(|frame| dashboard.render(frame)).unwrap();
        let buffer = terminal.backend().buffer();
        let screen = drawn(&dashboard, 100, 30);
        assert!(screen.contains("alarms: 1 in ALARM"), "{screen}");
        assert!(
            screen.contains("marketgrid-prod-api-5xx since 2025-11-29T07:01:00.000Z"),
            "{screen}"
        );
        let row = screen.lines().position(|l| l.contains("API 5XX")).unwrap() as u16;
        assert_eq!(buffer[(1, row)].fg, Color::Red);
        let ok_row = screen
            .lines()
            .position(|l| l.contains("DLQ depth"))
            .unwrap() as u16;
        assert_eq!(buffer[(1, ok_row)].fg, Color::Green);
    }

    #[test]
    fn keys_pause_change_the_window_refresh_and_quit() {
        let mut dashboard = dashboard();
        assert_eq!(
            dashboard.on_key(key('p')),
            KeyOutcome::Control(Control::Pause(true))
        );
        assert!(
            drawn(&dashboard, 100, 10)
                .lines()
                .next()
                .unwrap()
                .contains("PAUSED")
        );
        assert_eq!(
            dashboard.on_key(key('p')),
            KeyOutcome::Control(Control::Pause(false))
        );
        let wider = dashboard.window.wider();
        assert_eq!(
            dashboard.on_key(key('+')),
            KeyOutcome::Control(Control::Window(wider))
        );
        assert_eq!(dashboard.window, wider);
        assert!(drawn(&dashboard, 100, 10).contains("last 15m at 1m"));
        assert_eq!(
            dashboard.on_key(key('r')),
            KeyOutcome::Control(Control::Refresh)
        );
        assert_eq!(dashboard.on_key(key('x')), KeyOutcome::Nothing);
        assert_eq!(dashboard.on_key(key('q')), KeyOutcome::Quit);
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(dashboard.on_key(ctrl_c), KeyOutcome::Quit);
    }

    #[test]
    fn help_opens_on_question_mark_and_any_key_closes_it() {
        let mut dashboard = dashboard();
        assert_eq!(dashboard.on_key(key('?')), KeyOutcome::Redraw);
        let screen = drawn(&dashboard, 100, 20);
        assert!(screen.contains("pause or resume refreshing"), "{screen}");
        assert_eq!(dashboard.on_key(key('p')), KeyOutcome::Redraw);
        assert!(
            !dashboard.paused,
            "the key that closes help does nothing else"
        );
        assert!(!drawn(&dashboard, 100, 20).contains("pause or resume refreshing"));
    }
}
