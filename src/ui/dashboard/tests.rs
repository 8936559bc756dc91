use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyEvent;

use super::*;
use crate::decide::metrics::{
    AlarmState, Answer, RateMemory, RefreshCost, Resources, assemble, leaves, signals_with,
};

/// 2025-11-29T07:06:40Z: 40 s into a minute.
const NOW: EpochMillis = 1_764_400_000_000;
const WINDOW: i64 = 900;
/// The window's periods: 14 complete, the 15th filling.
const COMPLETE: usize = 14;

/// What a backend published: per signal, the complete periods' values (oldest first, `None` a
/// period without data) and the filling period's value so far.
struct Published {
    key: &'static str,
    complete: Vec<Option<f64>>,
    partial: Option<f64>,
}

fn steady(key: &'static str, value: f64, partial: Option<f64>) -> Published {
    Published {
        key,
        complete: vec![Some(value); COMPLETE],
        partial,
    }
}

/// 300 webhooks a second through a healthy stage, 40 s into the current minute.
fn steady_load() -> Vec<Published> {
    vec![
        steady("received", 18_000.0, Some(12_000.0)),
        steady("transactions", 17_990.0, Some(11_990.0)),
        steady("api_4xx", 0.0, Some(0.0)),
        steady("api_5xx", 0.0, Some(0.0)),
        steady("latency_p50", 38.0, Some(40.0)),
        steady("latency_p99", 180.0, Some(210.0)),
        steady("queue_depth", 40.0, Some(35.0)),
        steady("oldest_age", 1.0, Some(1.0)),
        steady("dlq_depth", 0.0, Some(0.0)),
        steady("invocations", 1_800.0, Some(1_200.0)),
        steady("errors", 0.0, Some(0.0)),
        steady("duration_p99", 95.0, Some(90.0)),
        steady("concurrency", 6.0, Some(5.0)),
        steady("authorizer_errors", 0.0, Some(0.0)),
    ]
}

fn snapshot_of(published: &[Published], focus: Option<Panel>, alarms: Vec<AlarmState>) -> Snapshot {
    let window = Window::new(WINDOW, 60).unwrap();
    let range = window.range(NOW);
    let t = |i: usize| range.start + i as i64 * 60_000;
    let signals = signals_with(&Resources::named_for("prod"), focus);
    // CloudWatch answers every query; those with nothing published come back empty.
    let answers: Vec<Answer> = leaves(&signals)
        .into_iter()
        .map(|signal| {
            let mut answer = Answer {
                id: signal.key.into(),
                status: "Complete".into(),
                ..Answer::default()
            };
            if let Some(p) = published.iter().find(|p| p.key == signal.key) {
                let values = p.complete.iter().copied().chain([p.partial]);
                for (index, value) in values.enumerate() {
                    if let Some(value) = value {
                        answer.timestamps.push(t(index));
                        answer.values.push(value);
                    }
                }
            }
            answer
        })
        .collect();
    let series = assemble(&signals, &range, &answers, None, &alarms);
    let mut snapshot = Snapshot::new(
        "prod",
        &window,
        range,
        NOW,
        series,
        alarms,
        RefreshCost::default(),
    );
    snapshot.focus = focus;
    RateMemory::default().read(&mut snapshot);
    snapshot
}

fn dashboard_with(snapshot: Snapshot) -> Dashboard {
    let mut dashboard = Dashboard::new("prod", Window::new(WINDOW, 60).unwrap(), 10);
    dashboard.apply(Update::Snapshot(Box::new(snapshot)), NOW);
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

/// The same screen at the three sizes the issue names, each pinned as a snapshot.
fn at_every_size(name: &str, dashboard: &Dashboard) {
    for (width, height) in [(80, 24), (120, 40), (200, 50)] {
        insta::assert_snapshot!(
            format!("{name}_{width}x{height}"),
            drawn(dashboard, width, height)
        );
    }
}

fn key(c: char) -> KeyEvent {
    KeyEvent::from(KeyCode::Char(c))
}

#[test]
fn steady_load_shows_the_rate_now_beside_the_last_minute() {
    let dashboard = dashboard_with(snapshot_of(&steady_load(), None, vec![]));
    at_every_size("steady", &dashboard);
    let compact = drawn(&dashboard, 80, 24);
    let received = compact
        .lines()
        .find(|l| l.contains("webhooks received"))
        .unwrap();
    assert!(received.contains("300/s"), "{received}");
    assert!(received.contains("18.0k/1m"), "{received}");
    let wide = drawn(&dashboard, 120, 40);
    for panel in Panel::ALL {
        assert!(
            wide.contains(panel.title()),
            "{} missing:\n{wide}",
            panel.title()
        );
    }
    assert!(wide.contains("now"), "the time axis ends at now:\n{wide}");
}

#[test]
fn a_spike_in_the_current_minute_shows_now_not_a_minute_later() {
    let mut published = steady_load();
    published[0].partial = Some(60_000.0);
    published[1].partial = Some(59_000.0);
    let dashboard = dashboard_with(snapshot_of(&published, None, vec![]));
    at_every_size("spike", &dashboard);
    let compact = drawn(&dashboard, 80, 24);
    let received = compact
        .lines()
        .find(|l| l.contains("webhooks received"))
        .unwrap();
    assert!(received.contains("1,500/s"), "{received}");
}

#[test]
fn a_value_older_than_two_periods_is_stale_not_current() {
    let mut published = steady_load();
    let mut four_xx = vec![None; COMPLETE];
    four_xx[6] = Some(3.0);
    published[2] = Published {
        key: "api_4xx",
        complete: four_xx,
        partial: None,
    };
    let snapshot = snapshot_of(&published, None, vec![]);
    let four_xx = snapshot.series.iter().find(|s| s.key == "api_4xx").unwrap();
    assert_eq!(four_xx.level, Level::Stale);
    let dashboard = dashboard_with(snapshot);
    at_every_size("stale", &dashboard);
    let compact = drawn(&dashboard, 80, 24);
    let row = compact.lines().find(|l| l.contains("API 4XX")).unwrap();
    assert!(
        row.contains("3/1m 8m ago") && row.contains("stale"),
        "{row}"
    );
    assert!(!row.contains("warn"), "{row}");
}

#[test]
fn zero_no_data_and_not_measured_look_different() {
    let mut published = steady_load();
    published.retain(|p| p.key != "authorizer_errors");
    let mut snapshot = snapshot_of(&published, None, vec![]);
    // The local stage has no Lambda throttling: not measured, with why.
    let throttles = snapshot
        .series
        .iter_mut()
        .find(|s| s.key == "throttles")
        .unwrap();
    throttles.level = Level::Unavailable;
    throttles.note = Some("the local stage does not throttle its processor".into());
    let dashboard = dashboard_with(snapshot);
    at_every_size("zero_nodata_na", &dashboard);
    let compact = drawn(&dashboard, 80, 24);
    let row = |label: &str| {
        compact
            .lines()
            .find(|l| l.contains(label))
            .unwrap()
            .to_owned()
    };
    assert!(row("API 5XX").contains("0/s"), "{}", row("API 5XX"));
    assert!(row("API 5XX").contains("0/1m"), "{}", row("API 5XX"));
    assert!(
        row("authorizer errors").contains("no data"),
        "{}",
        row("authorizer errors")
    );
    assert!(
        row("processor throttles").contains("n/a"),
        "{}",
        row("processor throttles")
    );
    assert!(
        row("processor throttles").contains("not measured"),
        "{}",
        row("processor throttles")
    );
}

#[test]
fn a_stopped_backend_turns_the_header_red_and_keeps_the_last_data() {
    let mut snapshot = snapshot_of(&steady_load(), None, vec![]);
    snapshot.liveness = Liveness::Stopped {
        why: "mgrid dev is not running: no metrics written for over 10s".into(),
        since: Some(NOW - 35_000),
    };
    let dashboard = dashboard_with(snapshot);
    at_every_size("stopped", &dashboard);
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    terminal.draw(|frame| dashboard.render(frame)).unwrap();
    assert_eq!(terminal.backend().buffer()[(2, 0)].bg, Color::Red);
    let screen = drawn(&dashboard, 120, 40);
    let flat: String = screen.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("STOPPED: mgrid dev is not running"),
        "{screen}"
    );
    assert!(flat.contains("since 07:06:05 (39s ago)"), "{screen}");
    assert!(screen.contains("300/s"), "the last data stays:\n{screen}");
}

#[test]
fn a_failing_backend_says_since_when_and_keeps_the_last_data() {
    let mut dashboard = dashboard_with(snapshot_of(&steady_load(), None, vec![]));
    dashboard.apply(Update::Loading, NOW + 10_000);
    let long = "AWS refused the credentials: ExpiredToken (run `aws sso login`, then press r)";
    dashboard.apply(Update::Failed(long.into()), NOW + 10_000);
    dashboard.apply(Update::Failed(long.into()), NOW + 20_000);
    dashboard.now = NOW + 25_000;
    let screen = drawn(&dashboard, 120, 40);
    let flat: String = screen.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("NOT ANSWERING: AWS refused the credentials"),
        "{screen}"
    );
    assert!(flat.contains("since 07:06:50 (15s ago)"), "{screen}");
    assert!(
        flat.contains("then press r)"),
        "the whole reason:\n{screen}"
    );
    assert!(screen.contains("300/s"), "{screen}");
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    terminal.draw(|frame| dashboard.render(frame)).unwrap();
    assert_eq!(terminal.backend().buffer()[(2, 0)].bg, Color::Red);
}

fn failing() -> Vec<Published> {
    let mut published = steady_load();
    let mut bad = vec![Some(0.0); COMPLETE];
    bad[11] = Some(120.0);
    bad[12] = Some(300.0);
    bad[13] = Some(280.0);
    published.push(Published {
        key: "failed_bad_signature",
        complete: bad,
        partial: Some(190.0),
    });
    published.push(Published {
        key: "failed_ledger_unavailable",
        complete: vec![None; COMPLETE],
        partial: Some(2.0),
    });
    published[3] = steady("api_5xx", 0.0, Some(2.0));
    published[10] = Published {
        key: "errors",
        complete: vec![None; COMPLETE],
        partial: None,
    };
    published[8] = steady("dlq_depth", 0.0, Some(890.0));
    published
}

#[test]
fn enter_opens_the_selected_panel_with_its_breakdown_and_next_command() {
    let alarm = AlarmState {
        name: "marketgrid-prod-api-5xx".into(),
        reason: Some("Threshold Crossed: 1 datapoint [2.0] >= 1.0".into()),
        since: Some("2025-11-29T07:06:00.000Z".into()),
    };
    let mut dashboard = dashboard_with(snapshot_of(&failing(), None, vec![alarm.clone()]));
    assert_eq!(
        dashboard.on_key(KeyEvent::from(KeyCode::Down)),
        KeyOutcome::Redraw
    );
    assert_eq!(dashboard.selected, Panel::Failures);
    assert_eq!(
        dashboard.on_key(KeyEvent::from(KeyCode::Enter)),
        KeyOutcome::Control(Control::Focus(Some(Panel::Failures)))
    );
    let loading = drawn(&dashboard, 120, 40);
    assert!(loading.contains("loading the breakdown…"), "{loading}");
    // The poller reads the breakdown in the next refresh.
    dashboard.apply(
        Update::Snapshot(Box::new(snapshot_of(
            &failing(),
            Some(Panel::Failures),
            vec![alarm],
        ))),
        NOW,
    );
    at_every_size("drill_down", &dashboard);
    let screen = drawn(&dashboard, 120, 40);
    for wanted in [
        "dead-lettered: bad-signature",
        "retried: ledger-unavailable",
        "alarm marketgrid-prod-api-5xx: in ALARM since 2025-11-29T07:06:00.000Z",
        "alarm marketgrid-prod-processor-errors: OK (not in ALARM)",
        "next: mgrid logs processor api --level warn --since 15m --stage prod",
    ] {
        assert!(screen.contains(wanted), "no {wanted:?}:\n{screen}");
    }
    assert!(
        !screen.contains("dead-lettered: too-large"),
        "a reason with no data is counted, not listed:\n{screen}"
    );
    assert_eq!(
        dashboard.on_key(KeyEvent::from(KeyCode::Esc)),
        KeyOutcome::Control(Control::Focus(None))
    );
    assert_eq!(dashboard.open, None);
}

#[test]
fn the_dead_letter_drill_down_names_the_reason_to_peek_at() {
    let mut dashboard = dashboard_with(snapshot_of(&failing(), None, vec![]));
    dashboard.selected = Panel::DeadLetters;
    dashboard.on_key(KeyEvent::from(KeyCode::Enter));
    dashboard.apply(
        Update::Snapshot(Box::new(snapshot_of(
            &failing(),
            Some(Panel::DeadLetters),
            vec![],
        ))),
        NOW,
    );
    let screen = drawn(&dashboard, 120, 40);
    assert!(
        screen.contains("next: mgrid dlq peek --stage prod --reason bad-signature"),
        "{screen}"
    );
    assert!(screen.contains("890 msg now"), "{screen}");
}

#[test]
fn arrows_move_the_selection_and_wrap() {
    let mut dashboard = dashboard_with(snapshot_of(&steady_load(), None, vec![]));
    dashboard.on_key(KeyEvent::from(KeyCode::Up));
    assert_eq!(dashboard.selected, Panel::Processor);
    dashboard.on_key(KeyEvent::from(KeyCode::Down));
    assert_eq!(dashboard.selected, Panel::Traffic);
    let compact = drawn(&dashboard, 80, 24);
    let marked: Vec<&str> = compact.lines().filter(|l| l.starts_with('▶')).collect();
    assert_eq!(marked.len(), 2, "received and recorded:\n{compact}");
}

#[test]
fn the_plain_snapshot_reads_as_a_table() {
    let alarm = AlarmState {
        name: "marketgrid-prod-dlq-depth".into(),
        reason: Some("Threshold Crossed".into()),
        since: Some("2026-11-30T08:58:00Z".into()),
    };
    let once = snapshot_of(&steady_load(), None, vec![alarm]);
    insta::assert_snapshot!("metrics_once", crate::text::plain(&once));
    crate::ui::output::assert_json_contract("metrics-tail", &once);
}

#[test]
fn before_the_first_snapshot_it_says_it_is_loading() {
    let dashboard = Dashboard::new("prod", Window::new(WINDOW, 60).unwrap(), 10);
    let screen = drawn(&dashboard, 80, 10);
    assert!(screen.contains("loading the first refresh…"), "{screen}");
    assert!(
        screen.lines().next().unwrap().contains("loading…"),
        "{screen}"
    );
}

#[test]
fn a_failed_first_refresh_shows_its_error_instead_of_a_blank_screen() {
    let mut dashboard = Dashboard::new("prod", Window::new(WINDOW, 60).unwrap(), 10);
    dashboard.apply(Update::Failed("AWS refused the credentials".into()), NOW);
    let screen = drawn(&dashboard, 80, 10);
    assert!(
        screen.contains("the first refresh failed: AWS refused the credentials"),
        "{screen}"
    );
}

#[test]
fn alarms_in_alarm_are_listed_and_colour_their_row() {
    let alarm = AlarmState {
        name: "marketgrid-prod-api-5xx".into(),
        reason: Some("Threshold Crossed: 3 datapoints".into()),
        since: Some("2025-11-29T07:01:00.000Z".into()),
    };
    let dashboard = dashboard_with(snapshot_of(&steady_load(), None, vec![alarm]));
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    terminal.draw(|frame| dashboard.render(frame)).unwrap();
    let buffer = terminal.backend().buffer();
    let screen = drawn(&dashboard, 80, 24);
    assert!(screen.contains("alarms: 1 in ALARM"), "{screen}");
    let row = screen.lines().position(|l| l.contains("API 5XX")).unwrap() as u16;
    assert_eq!(buffer[(2, row)].fg, Color::Red);
    let ok_row = screen
        .lines()
        .position(|l| l.contains("DLQ depth"))
        .unwrap() as u16;
    assert_eq!(buffer[(2, ok_row)].fg, Color::Green);
}

#[test]
fn keys_pause_change_the_window_and_period_refresh_and_quit() {
    let mut dashboard = dashboard_with(snapshot_of(&steady_load(), None, vec![]));
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
    assert!(drawn(&dashboard, 100, 10).contains("last 30m at 1m"));
    let coarser = dashboard.window.coarser();
    assert_eq!(
        dashboard.on_key(key(']')),
        KeyOutcome::Control(Control::Window(coarser))
    );
    assert!(drawn(&dashboard, 100, 10).contains("last 30m at 5m"));
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
    let mut dashboard = dashboard_with(snapshot_of(&steady_load(), None, vec![]));
    assert_eq!(dashboard.on_key(key('?')), KeyOutcome::Redraw);
    let screen = drawn(&dashboard, 100, 30);
    assert!(screen.contains("pause or resume refreshing"), "{screen}");
    assert_eq!(dashboard.on_key(key('p')), KeyOutcome::Redraw);
    assert!(
        !dashboard.paused,
        "the key that closes help does nothing else"
    );
    assert!(!drawn(&dashboard, 100, 30).contains("pause or resume refreshing"));
}
