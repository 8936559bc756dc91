//! The full-screen `mgrid metrics tail` under a real terminal: tmux runs it in a pane against a
//! stage deployed in the AWS emulator, keys are sent, and the pane is captured. It must draw,
//! pause, open help, widen its window, quit on `q` and on SIGTERM, and leave the terminal as
//! it found it (same `stty -a`, main screen back). Needs tmux on PATH.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use support::{Emulator, deploy_stage};

const STAGE: &str = "tui";

/// A tmux server of our own, killed when the test ends.
struct Tmux {
    socket: String,
}

impl Tmux {
    /// `name` keeps the servers of tests running side by side apart.
    fn start(name: &str, dir: &Path, emulator: &Emulator) -> Tmux {
        let tmux = Tmux {
            socket: format!("mgrid-{name}-{}", std::process::id()),
        };
        let status = Command::new("tmux")
            .args(["-L", &tmux.socket, "-f", "/dev/null", "new-session", "-d"])
            .args(["-s", "m", "-x", "110", "-y", "32", "sh"])
            .current_dir(dir)
            .env("HOME", dir)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_CONFIG_FILE", dir.join("no-aws-config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                dir.join("no-aws-credentials"),
            )
            .env("AWS_ENDPOINT_URL", &emulator.endpoint)
            .env("AWS_REGION", "us-east-1")
            .env("TERM", "xterm-256color")
            .env_remove("TMUX")
            .env_remove("MGRID_STAGE")
            .env_remove("MGRID_OUTPUT")
            .env_remove("AWS_PROFILE")
            .status()
            .expect("tmux is installed (the dashboard test runs under it)");
        assert!(status.success(), "tmux did not start");
        tmux
    }

    fn tmux(&self, args: &[&str]) -> String {
        let output = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .expect("run tmux");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "m"];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }

    fn type_line(&self, line: &str) {
        self.tmux(&["send-keys", "-t", "m", "-l", line]);
        self.keys(&["Enter"]);
    }

    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "m"])
    }

    /// Waits until the pane shows `text` (or, with `present` false, stops showing it).
    fn wait_for(&self, text: &str, present: bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(40);
        loop {
            let screen = self.screen();
            if screen.contains(text) == present {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "the pane {} {text:?} after 40 s:\n{screen}",
                if present {
                    "never showed"
                } else {
                    "still shows"
                }
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn alternate_screen_on(&self) -> bool {
        self.tmux(&["display-message", "-p", "-t", "m", "#{alternate_on}"])
            .trim()
            == "1"
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

fn dashboard_command(dir: &Path) -> String {
    format!(
        "{} metrics tail --stage {STAGE} --interval 5s",
        env!("CARGO_BIN_EXE_mgrid"),
    ) + &format!(
        " ; echo exit=$? ; stty -a > {}",
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
    let screen = tmux.wait_for(
        &format!("mgrid metrics · {STAGE} · last 1h at 1m · updated"),
        true,
    );
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

    let shell = tmux.tmux(&["display-message", "-p", "-t", "m", "#{pane_pid}"]);
    let killed = Command::new("pkill")
        .args(["-TERM", "-P", shell.trim(), "mgrid"])
        .status()
        .expect("pkill");
    assert!(killed.success(), "no mgrid under the pane's shell");

    tmux.wait_for("exit=0", true);
    assert!(!tmux.alternate_screen_on());
    let before = std::fs::read_to_string(dir.path().join("before.txt")).unwrap();
    let after = std::fs::read_to_string(dir.path().join("after.txt")).unwrap();
    assert_eq!(before, after, "stty -a differs after SIGTERM");
}
