//! A tmux server of our own, for tests and benchmarks that need a real terminal: it runs a
//! shell in one pane set up for the emulator, takes keys, and shows what the pane shows.

#![allow(dead_code)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use super::Emulator;

/// A tmux server of our own, killed when the test ends.
pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// `name` keeps the servers of tests running side by side apart.
    pub fn start(name: &str, dir: &Path, emulator: &Emulator) -> Tmux {
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

    pub fn tmux(&self, args: &[&str]) -> String {
        let output = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .expect("run tmux");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "m"];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }

    pub fn type_line(&self, line: &str) {
        self.tmux(&["send-keys", "-t", "m", "-l", line]);
        self.keys(&["Enter"]);
    }

    pub fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "m"])
    }

    /// Waits until the pane shows `text` (or, with `present` false, stops showing it).
    pub fn wait_for(&self, text: &str, present: bool) -> String {
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

    /// The pid of the process named `name` that the pane's shell runs.
    pub fn child_pid(&self, name: &str) -> Option<u32> {
        let shell = self.tmux(&["display-message", "-p", "-t", "m", "#{pane_pid}"]);
        let output = Command::new("pgrep")
            .args(["-P", shell.trim(), name])
            .output()
            .ok()?;
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .next()?
            .trim()
            .parse()
            .ok()
    }

    pub fn alternate_screen_on(&self) -> bool {
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
