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
        Tmux::start_sized(name, dir, &emulator.endpoint, (110, 32))
    }

    /// A pane of `width`×`height` whose AWS calls go to `endpoint` (none: a URL nothing
    /// answers, for the local stage).
    pub fn start_sized(
        name: &str,
        dir: &Path,
        endpoint: &str,
        (width, height): (u16, u16),
    ) -> Tmux {
        let tmux = Tmux {
            socket: format!("mgrid-{name}-{}", std::process::id()),
        };
        let (width, height) = (width.to_string(), height.to_string());
        let status = Command::new("tmux")
            .args(["-L", &tmux.socket, "-f", "/dev/null", "new-session", "-d"])
            .args(["-s", "m", "-x", &width, "-y", &height, "sh"])
            .current_dir(dir)
            .env("HOME", dir)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_CONFIG_FILE", dir.join("no-aws-config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                dir.join("no-aws-credentials"),
            )
            .env("AWS_ENDPOINT_URL", endpoint)
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
        self.wait_until(Duration::from_secs(40), |screen| {
            screen.contains(text) == present
        })
        .unwrap_or_else(|screen| {
            panic!(
                "the pane {} {text:?} after 40 s:\n{screen}",
                if present {
                    "never showed"
                } else {
                    "still shows"
                }
            )
        })
    }

    /// The screen once `done` holds of it, or the last screen after `within`.
    pub fn wait_until(
        &self,
        within: Duration,
        done: impl Fn(&str) -> bool,
    ) -> Result<String, String> {
        let deadline = Instant::now() + within;
        loop {
            let screen = self.screen();
            if done(&screen) {
                return Ok(screen);
            }
            if Instant::now() >= deadline {
                return Err(screen);
            }
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
