//! The full-screen `mgrid metrics tail` under a real terminal: tmux runs it in a pane against a
//! stage deployed in the AWS emulator, keys are sent, and the pane is captured. It must draw,
//! pause, open help, widen its window, quit on `q` and on SIGTERM, and leave the terminal as
//! it found it (same `stty -a`, main screen back). Needs tmux on PATH.

use crate::support;

use std::path::Path;
use std::process::Command;

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
        &format!("mgrid metrics · {STAGE} · last 1h at 1m · updated"),
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
