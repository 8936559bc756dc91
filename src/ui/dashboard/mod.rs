//! The full-screen view of `mgrid metrics tail`: its state, what keys do to it, and how it is
//! drawn. Drawing is a pure function of the state; snapshots arrive from the poller over a
//! channel and the clock is read by the event loop, never here.
//!
//! A terminal of at least [`WIDE`]×[`TALL`] gets one chart per panel, filling the screen; a
//! smaller one the compact rows (one line a signal). Either way the header says whether the
//! backend still answers, and Enter opens the selected panel full-screen with its breakdown
//! (`chart` draws both).

mod cells;
mod chart;

use mgrid_contract::EpochMillis;
use mgrid_contract::clock::format_rfc3339;
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use crate::decide::metrics::{
    Level, Liveness, Panel, Series, Snapshot, Window, span_text, trend_text,
};
use cells::{alarm_text, charted_buckets, last_cell, level_colour, level_words, now_cell};

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
    /// Read this panel's breakdown too (its drill-down opened), or stop (closed).
    Focus(Option<Panel>),
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
    /// The panel the arrow keys are on.
    pub selected: Panel,
    /// The panel open full-screen (Enter), if any.
    pub open: Option<Panel>,
    /// When the last snapshot arrived.
    pub updated_at: Option<EpochMillis>,
    /// The first failed refresh since the last good one.
    pub failing_since: Option<EpochMillis>,
    /// The time the event loop last read; drawing uses it for "updated 4s ago".
    pub now: EpochMillis,
}

/// From this size up, charts; below it, the compact rows.
pub const WIDE: u16 = 100;
pub const TALL: u16 = 30;

const LABEL_WIDTH: u16 = 24;
const NOW_WIDTH: u16 = 10;
const LAST_WIDTH: u16 = 13;
/// The level in words beside the value: colour is not all a reader (or NO_COLOR) has.
const LEVEL_WIDTH: u16 = 7;
/// Below this width the compact rows leave out their trends.
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
            selected: Panel::ALL[0],
            open: None,
            updated_at: None,
            failing_since: None,
            now: 0,
        }
    }

    pub fn apply(&mut self, update: Update, now: EpochMillis) {
        match update {
            Update::Loading => self.loading = true,
            Update::Snapshot(snapshot) => {
                self.snapshot = Some(*snapshot);
                self.error = None;
                self.failing_since = None;
                self.loading = false;
                self.updated_at = Some(now);
            }
            Update::Failed(error) => {
                self.error = Some(error);
                self.failing_since.get_or_insert(now);
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
            KeyCode::Char('q') => KeyOutcome::Quit,
            KeyCode::Esc | KeyCode::Backspace if self.open.is_some() => {
                self.open = None;
                KeyOutcome::Control(Control::Focus(None))
            }
            KeyCode::Esc => KeyOutcome::Quit,
            KeyCode::Enter if self.open.is_none() => {
                self.open = Some(self.selected);
                KeyOutcome::Control(Control::Focus(self.open))
            }
            KeyCode::Up | KeyCode::Left | KeyCode::BackTab | KeyCode::Char('k') => self.select(-1),
            KeyCode::Down | KeyCode::Right | KeyCode::Tab | KeyCode::Char('j') => self.select(1),
            KeyCode::Char('p') | KeyCode::Char(' ') => {
                self.paused = !self.paused;
                KeyOutcome::Control(Control::Pause(self.paused))
            }
            KeyCode::Char('+') | KeyCode::Char('=') => self.change_window(self.window.wider()),
            KeyCode::Char('-') | KeyCode::Char('_') => self.change_window(self.window.narrower()),
            KeyCode::Char(']') => self.change_window(self.window.coarser()),
            KeyCode::Char('[') => self.change_window(self.window.finer()),
            KeyCode::Char('r') => KeyOutcome::Control(Control::Refresh),
            KeyCode::Char('?') | KeyCode::Char('h') => {
                self.help = true;
                KeyOutcome::Redraw
            }
            _ => KeyOutcome::Nothing,
        }
    }

    /// Moves the selection; in a drill-down, opens the next panel's.
    fn select(&mut self, step: isize) -> KeyOutcome {
        let count = Panel::ALL.len() as isize;
        let at = Panel::ALL
            .iter()
            .position(|p| *p == self.selected)
            .unwrap_or(0) as isize;
        self.selected = Panel::ALL[(at + step).rem_euclid(count) as usize];
        match self.open {
            Some(_) => {
                self.open = Some(self.selected);
                KeyOutcome::Control(Control::Focus(self.open))
            }
            None => KeyOutcome::Redraw,
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
        let (header_text, header_length) = self.header();
        let header_height = (header_length as u16)
            .div_ceil(area.width.max(1))
            .clamp(1, 3);
        let [header, body, footer] = Layout::vertical([
            Constraint::Length(header_height),
            Constraint::Min(1),
            Constraint::Length(1),
        ])
        .areas(area);
        frame.render_widget(header_text, header);
        match &self.snapshot {
            Some(snapshot) => match self.open {
                Some(panel) => chart::drill_down(frame, body, snapshot, panel, self.selected),
                None if area.width >= WIDE && area.height >= TALL => {
                    chart::grid(frame, body, snapshot, self.selected)
                }
                None => self.render_rows(frame, body, snapshot),
            },
            None => {
                let text = match &self.error {
                    Some(error) => Line::styled(
                        format!("the first refresh failed: {error}"),
                        Style::new().fg(Color::Red),
                    ),
                    None => Line::from("loading the first refresh…"),
                };
                frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), body);
            }
        }
        let keys = match self.open {
            Some(_) => "Esc back  ↑/↓ other panel  +/- window  [/] period  p pause  ? help  q quit",
            None => "↑/↓ select  Enter open  +/- window  [/] period  p pause  ? help  q quit",
        };
        frame.render_widget(
            Paragraph::new(Line::styled(keys, Style::new().add_modifier(Modifier::DIM))),
            footer,
        );
        if self.help {
            self.render_help(frame, area);
        }
    }

    /// Why the backend is not answering, and since when, if it is not.
    fn outage(&self) -> Option<(String, Option<EpochMillis>)> {
        if let (Some(error), Some(_)) = (&self.error, &self.snapshot) {
            let since = self.failing_since.or(self.updated_at);
            return Some((format!("NOT ANSWERING: {error}"), since));
        }
        match self.snapshot.as_ref().map(|s| &s.liveness) {
            Some(Liveness::Stopped { why, since }) => Some((format!("STOPPED: {why}"), *since)),
            _ => None,
        }
    }

    /// One line (wrapped when long), and its length: stage, window, and whether the data is
    /// live. A backend that stopped answering turns it red, with why and since when, over the
    /// last data.
    fn header(&self) -> (Paragraph<'static>, usize) {
        let mut spans = vec![Span::styled(
            format!(" mgrid metrics · {} · last {} ", self.stage, self.window),
            Style::new().add_modifier(Modifier::BOLD),
        )];
        let outage = self.outage();
        if let Some((why, since)) = &outage {
            let since = match since {
                Some(at) => format!(
                    " since {} ({} ago)",
                    clock_text(*at),
                    span_text(((self.now - at) / 1000).max(0))
                ),
                None => String::new(),
            };
            spans.push(Span::raw(format!("· {why}{since}; showing the last data ")));
        } else if self.paused {
            spans.push(Span::styled(
                "· PAUSED ",
                Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
            ));
        } else if self.snapshot.is_some() {
            spans.push(Span::styled("· ● live ", Style::new().fg(Color::Green)));
        }
        if self.loading {
            spans.push(Span::styled("· loading… ", Style::new().fg(Color::Cyan)));
        }
        if let Some(updated) = self.updated_at {
            let age = ((self.now - updated) / 1000).max(0);
            spans.push(Span::raw(format!(
                "· updated {} ({}s ago) ",
                clock_text(updated),
                age
            )));
        }
        let style = if outage.is_some() {
            Style::new()
                .bg(Color::Red)
                .fg(Color::White)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().bg(Color::DarkGray)
        };
        let line = Line::from(spans);
        let length = line.width();
        let paragraph = Paragraph::new(line).style(style).wrap(Wrap { trim: true });
        (paragraph, length)
    }

    /// The compact view: one line a signal, the selected panel's marked, alarms under them.
    fn render_rows(&self, frame: &mut Frame, area: Rect, snapshot: &Snapshot) {
        let alarm_lines = 1 + snapshot.alarms_in_alarm.len() as u16;
        let alarm_height = alarm_lines.min(area.height.saturating_sub(2) / 2).max(1);
        let [rows_area, alarms_area] =
            Layout::vertical([Constraint::Min(1), Constraint::Length(alarm_height)]).areas(area);
        let rows: Vec<&Series> = Panel::ALL
            .iter()
            .flat_map(|panel| {
                snapshot
                    .series
                    .iter()
                    .filter(move |s| s.panel == *panel && !s.breakdown)
            })
            .collect();
        let fits = rows.len().min(rows_area.height as usize);
        let shown = if fits < rows.len() {
            fits.saturating_sub(1)
        } else {
            fits
        };
        for (index, series) in rows.iter().take(shown).enumerate() {
            let row = Rect {
                y: rows_area.y + index as u16,
                height: 1,
                ..rows_area
            };
            render_row(frame, row, series, snapshot, series.panel == self.selected);
        }
        if shown < rows.len() {
            let row = Rect {
                y: rows_area.y + shown as u16,
                height: 1,
                ..rows_area
            };
            frame.render_widget(
                Paragraph::new(Line::styled(
                    format!("… {} more rows (enlarge the terminal)", rows.len() - shown),
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
            Line::from("↑/↓ ←/→ Tab     select a panel"),
            Line::from("Enter, Esc      open it full-screen with its breakdown; back"),
            Line::from("+ / -           wider or narrower window"),
            Line::from("[ / ]           finer or coarser period (one point each)"),
            Line::from("p, space        pause or resume refreshing"),
            Line::from("r               refresh now (also asks again for n/a rows)"),
            Line::from("q, Ctrl-C       quit (Esc too, outside a drill-down)"),
            Line::from("?               this help; any key closes it"),
            Line::from(""),
            Line::from(format!(
                "Every {}s one GetMetricData call reads every signal (and the",
                self.interval_secs
            )),
            Line::from("open drill-down's breakdown), one DescribeAlarms call the alarms."),
            Line::from("now: the period still filling (a count per second between two"),
            Line::from("refreshes); last: the latest complete period. Charts: counts per"),
            Line::from("second, one point a period, scaled to the window's peak (failures:"),
            Line::from("log scale); a value above zero is drawn at least one dot high;"),
            Line::from("• is now. Zero is a line on the floor, no data a gap."),
            Line::from("Colours: green ok, yellow warning, red at the stack's alarm level"),
            Line::from("or in ALARM; dim: stale (no data for two periods), no data, n/a."),
        ];
        let width = 72.min(area.width);
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

/// HH:MM:SS of an instant, UTC.
fn clock_text(at: EpochMillis) -> String {
    format_rfc3339(at)[11..19].to_owned()
}

fn render_row(frame: &mut Frame, area: Rect, series: &Series, snapshot: &Snapshot, selected: bool) {
    let style = level_colour(series.level);
    let label_width = LABEL_WIDTH.min(area.width);
    let now_width = NOW_WIDTH.min(area.width - label_width);
    let last_width = LAST_WIDTH.min(area.width - label_width - now_width);
    let level_width = LEVEL_WIDTH.min(area.width - label_width - now_width - last_width);
    let [label, now, last, level, spark] = Layout::horizontal([
        Constraint::Length(label_width),
        Constraint::Length(now_width),
        Constraint::Length(last_width),
        Constraint::Length(level_width),
        Constraint::Min(0),
    ])
    .areas(area);
    let marker = if selected { "▶" } else { " " };
    let label_style = if selected {
        style.add_modifier(Modifier::BOLD)
    } else {
        style
    };
    frame.render_widget(
        Paragraph::new(Span::styled(
            format!("{marker}{}", series.label),
            label_style,
        )),
        label,
    );
    frame.render_widget(
        Paragraph::new(Span::styled(format!("{} ", now_cell(series)), style)).right_aligned(),
        now,
    );
    frame.render_widget(
        Paragraph::new(Span::styled(
            format!("{} ", last_cell(series, snapshot)),
            style,
        ))
        .right_aligned(),
        last,
    );
    frame.render_widget(
        Paragraph::new(Span::styled(level_words(series.level), style)),
        level,
    );
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
                format!("not measured: {note}"),
                Style::new().add_modifier(Modifier::DIM),
            )),
            spark,
        );
        return;
    }
    let buckets = charted_buckets(series, snapshot);
    // Now is always at the right edge, however few periods the window has.
    let tail = buckets.len().saturating_sub(spark.width as usize);
    let style = if series.level == Level::Info {
        Style::new().fg(Color::Cyan)
    } else {
        style
    };
    frame.render_widget(
        Paragraph::new(Span::styled(trend_text(&buckets[tail..]), style)).right_aligned(),
        spark,
    );
}

#[cfg(test)]
mod tests;
