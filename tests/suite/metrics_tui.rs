//! The full-screen `mgrid metrics tail` under a real terminal: tmux runs it in a pane against a
//! stage deployed in the AWS emulator, keys are sent, and the pane is captured. It must draw,
//! pause, open help, widen its window, quit on `q` and on SIGTERM, and leave the terminal as
//! it found it (same `stty -a`, main screen back). Needs tmux on PATH.

use crate::support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use support::{Emulator, Tmux, deploy_stage};

const STAGE: &str = "tui";

fn dashboard_command(dir: &Path) -> String {
    format!(
        "{} metrics tail --stage {STAGE} --interval 5s",
        env!("CARGO_BIN_EXE_mgrid"),
    ) + &format!(
        // The terminal's state is written before the exit is shown: a test that sees the exit
        // reads a complete file (the other order raced under load, reading it empty).
        " ; code=$? ; stty -a > {} ; echo exit=$code",
        dir.join("after.txt").display()
    )
}

#[test]
fn the_dashboard_draws_pauses_helps_widens_and_quits_leaving_the_terminal_as_it_was() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    deploy_stage(&emulator, dir.path(), STAGE);
    let tmux = Tmux::start("quit", dir.path(), &emulator);
    tmux.type_line(&format!(
        "echo BEFORE-DASHBOARD ; stty -a > {}",
        dir.path().join("before.txt").display()
    ));
    tmux.wait_for("BEFORE-DASHBOARD", true);

    tmux.type_line(&dashboard_command(dir.path()));
    tmux.wait_for(
        &format!("mgrid metrics · {STAGE} · last 1h at 1m · ● live · updated"),
        true,
    );
    // The frame's last line: a capture taken while the terminal was still being written can
    // hold only its first rows (seen on a loaded machine).
    let screen = tmux.wait_for("q quit", true);
    for row in [
        "webhooks received",
        "DLQ depth",
        "successful transactions",
        "alarms: none in ALARM",
        "q quit",
    ] {
        assert!(screen.contains(row), "no {row:?} on screen:\n{screen}");
    }
    assert!(
        tmux.alternate_screen_on(),
        "the dashboard draws on the alternate screen"
    );

    tmux.keys(&["p"]);
    tmux.wait_for("PAUSED", true);
    tmux.keys(&["?"]);
    tmux.wait_for("pause or resume refreshing", true);
    tmux.keys(&["x"]);
    tmux.wait_for("pause or resume refreshing", false);
    tmux.keys(&["p"]);
    tmux.wait_for("PAUSED", false);
    tmux.keys(&["+"]);
    tmux.wait_for("last 3h at 1m", true);

    tmux.keys(&["q"]);
    let screen = tmux.wait_for("exit=0", true);
    assert!(
        screen.contains("BEFORE-DASHBOARD"),
        "the main screen is back:\n{screen}"
    );
    assert!(!screen.contains("webhooks received"), "{screen}");
    assert!(!tmux.alternate_screen_on());
    let before = std::fs::read_to_string(dir.path().join("before.txt")).unwrap();
    let after = std::fs::read_to_string(dir.path().join("after.txt")).unwrap();
    assert_eq!(before, after, "stty -a differs after the dashboard quit");
}

#[test]
fn sigterm_ends_the_dashboard_and_restores_the_terminal() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    deploy_stage(&emulator, dir.path(), STAGE);
    let tmux = Tmux::start("sigterm", dir.path(), &emulator);
    tmux.type_line(&format!(
        "stty -a > {}",
        dir.path().join("before.txt").display()
    ));
    tmux.type_line(&dashboard_command(dir.path()));
    tmux.wait_for("· updated", true);

    let mgrid = tmux
        .child_pid("mgrid")
        .expect("mgrid runs under the pane's shell");
    let killed = Command::new("kill")
        .args(["-TERM", &mgrid.to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());

    tmux.wait_for("exit=0", true);
    assert!(!tmux.alternate_screen_on());
    let before = std::fs::read_to_string(dir.path().join("before.txt")).unwrap();
    let after = std::fs::read_to_string(dir.path().join("after.txt")).unwrap();
    assert_eq!(before, after, "stty -a differs after SIGTERM");
}

/// The rate a screen shows now for webhooks received ("● webhooks received 98/s now"), if any.
fn received_now(screen: &str) -> Option<f64> {
    let after = screen.split("webhooks received ").nth(1)?;
    let (number, rest) = after.split_once("/s")?;
    if !rest.trim_start().starts_with("now") {
        return None;
    }
    let number = number.trim().replace(',', "");
    match number.strip_suffix('k') {
        Some(thousands) => thousands.parse::<f64>().ok().map(|k| k * 1000.0),
        None => number.parse().ok(),
    }
}

/// `mgrid dev` under a paced load, watched as an operator watches it: the rate shown follows
/// the rate sent within two refreshes, falls to zero within two refreshes of the load ending,
/// and the header says so when `mgrid dev` stops.
#[test]
fn the_dashboard_follows_a_paced_load_on_the_local_stage_and_sees_dev_stop() {
    const RATE: f64 = 60.0;
    const INTERVAL: u64 = 5;
    let binary = std::path::Path::new(env!("CARGO_BIN_EXE_mgrid"));
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("local");
    let mut dev = support::local::Dev::start(binary, &data, None);
    // Nothing answers here: the local stage makes no AWS call.
    let tmux = Tmux::start_sized("dev", dir.path(), "http://127.0.0.1:9", (120, 40));
    tmux.type_line(&format!(
        "{} metrics tail --stage local --data-dir {} --window 15m --interval {INTERVAL}s",
        binary.display(),
        data.display()
    ));
    tmux.wait_for("● live", true);

    let load = Command::new(binary)
        .args(["send", "stripe", "--stage", "local", "--data-dir"])
        .arg(&data)
        .args(["--count", &((RATE as u64) * 45).to_string()])
        .args(["--rate", &RATE.to_string(), "--concurrency", "8"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("mgrid send");
    let started = std::time::Instant::now();
    // Two refreshes, the two-second write of the counts behind them, and slack for a loaded
    // machine; the times measured are printed.
    let two_refreshes = Duration::from_secs(2 * INTERVAL + 5);
    let within = |rate: f64| (rate - RATE).abs() <= RATE * 0.2;
    let shown = tmux.wait_until(two_refreshes, |screen| {
        received_now(screen).is_some_and(within)
    });
    let screen = shown.unwrap_or_else(|screen| {
        panic!(
            "{two_refreshes:?} after a load of {RATE}/s began, the screen shows {:?}:\n{screen}",
            received_now(&screen)
        )
    });
    eprintln!(
        "shown {:?}/s for {RATE}/s sent, {:?} after the load began",
        received_now(&screen),
        started.elapsed()
    );
    // And it stays there while the load lasts.
    std::thread::sleep(Duration::from_secs(INTERVAL + 1));
    let screen = tmux.screen();
    eprintln!(
        "shown {:?}/s for {RATE}/s sent, {:?} after the load began",
        received_now(&screen),
        started.elapsed()
    );
    assert!(
        received_now(&screen).is_some_and(within),
        "the rate left ±20% of {RATE}/s under steady load:\n{screen}"
    );

    let sent = load.wait_with_output().expect("mgrid send ends");
    assert!(sent.status.success(), "the load was not all accepted");
    let ended = std::time::Instant::now();
    let screen = tmux
        .wait_until(two_refreshes, |screen| received_now(screen) == Some(0.0))
        .unwrap_or_else(|screen| {
            panic!(
                "{two_refreshes:?} after the load ended, the screen shows {:?}:\n{screen}",
                received_now(&screen)
            )
        });
    eprintln!("shown 0/s {:?} after the load ended", ended.elapsed());
    assert!(screen.contains("● live"), "{screen}");

    // Three forged webhooks, and the failures drill-down names their reason.
    let forged = Command::new(binary)
        .args(["send", "stripe", "--stage", "local", "--data-dir"])
        .arg(&data)
        .args(["--count", "3", "--bad-signature"])
        .output()
        .expect("mgrid send");
    assert!(forged.status.success());
    tmux.keys(&["Down"]);
    tmux.keys(&["Enter"]);
    tmux.wait_for("failures by reason · log scale · drill-down", true);
    let drill = tmux.wait_for("dead-lettered: bad-signature", true);
    assert!(
        drill.contains("next: mgrid logs processor api --level warn --since 15m --stage local"),
        "{drill}"
    );
    tmux.keys(&["Escape"]);
    tmux.wait_for("drill-down", false);

    dev.interrupt();
    let stopped = tmux.wait_for("STOPPED: mgrid dev is not running", true);
    assert!(
        stopped.contains("webhooks received"),
        "the last data stays on screen:\n{stopped}"
    );
    tmux.keys(&["q"]);
}

/// The failures drill-down on a stage deployed in the emulator: its breakdown (refused by
/// provider, the processor's failed webhooks by reason) comes in the same GetMetricData call as
/// every other signal, one call a refresh, counted by a proxy in front of the emulator.
#[tokio::test(flavor = "multi_thread")]
async fn a_drill_down_reads_its_breakdown_in_the_one_call_a_refresh_makes() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    deploy_stage(&emulator, dir.path(), STAGE);
    let client = aws_sdk_cloudwatch::Client::new(&emulator.sdk_config().await);
    let failed = [
        ("Stage", STAGE.to_owned()),
        ("Reason", "bad-signature".to_owned()),
    ];
    support::cloudwatch::put_per_minute(
        &client,
        "MarketGrid",
        "FailedWebhooks",
        &failed,
        &[4.0, 7.0],
    )
    .await;
    let refused = [
        ("ApiName", format!("marketgrid-{STAGE}-webhooks")),
        ("Method", "POST".to_owned()),
        ("Resource", "/webhook/paypal".to_owned()),
        ("Stage", STAGE.to_owned()),
    ];
    support::cloudwatch::put_per_minute(
        &client,
        "AWS/ApiGateway",
        "4XXError",
        &refused,
        &[2.0, 3.0],
    )
    .await;
    let proxy = support::CountingProxy::start(&emulator.endpoint);
    let tmux = Tmux::start_sized("drill", dir.path(), &proxy.endpoint, (120, 40));
    tmux.type_line(&format!(
        "{} metrics tail --stage {STAGE} --interval 5s",
        env!("CARGO_BIN_EXE_mgrid")
    ));
    tmux.wait_for("● live", true);
    tmux.keys(&["Down"]);
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("dead-lettered: bad-signature", true);
    assert!(screen.contains("refused (4XX): paypal"), "{screen}");
    // Another refresh with the drill-down open.
    let calls = proxy.requests("GetMetricData");
    tmux.wait_until(Duration::from_secs(30), |_| {
        proxy.requests("GetMetricData") > calls
    })
    .expect("the dashboard keeps refreshing");
    tmux.keys(&["q"]);
    tmux.wait_for("q quit", false);
    let (data, alarms) = (
        proxy.requests("GetMetricData"),
        proxy.requests("DescribeAlarms"),
    );
    assert!(
        data >= 3 && data - alarms <= 1,
        "{data} GetMetricData calls beside {alarms} DescribeAlarms: one each a refresh"
    );
}
