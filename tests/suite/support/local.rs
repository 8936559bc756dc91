//! `mgrid dev` as a process for tests and benchmarks: started on a free port in a data
//! directory, waited for, killed or stopped; and what its database holds, read directly.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mgrid_contract::keyring::{KeyRing, Secret};
use mgrid_contract::{Provider, StageName};

pub struct Dev {
    pub child: Child,
    pub data_dir: PathBuf,
    pub url: String,
}

impl Dev {
    /// Starts `mgrid dev --port 0` on `data_dir` (stdout to `stdout`, or nowhere).
    pub fn start(binary: &Path, data_dir: &Path, stdout: Option<&Path>) -> Dev {
        Dev::start_with(binary, data_dir, stdout, &[])
    }

    /// The same, with more arguments for `mgrid dev`.
    pub fn start_with(binary: &Path, data_dir: &Path, stdout: Option<&Path>, args: &[&str]) -> Dev {
        Dev::spawn(Dev::command(binary, data_dir, stdout, args), data_dir)
    }

    /// The command `start_with` runs, for a test to change (stderr, environment, limits).
    pub fn command(
        binary: &Path,
        data_dir: &Path,
        stdout: Option<&Path>,
        args: &[&str],
    ) -> Command {
        let out = match stdout {
            Some(path) => Stdio::from(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .expect("open the dev output file"),
            ),
            None => Stdio::null(),
        };
        let mut command = Command::new(binary);
        command
            .args(["dev", "--port", "0", "--data-dir"])
            .arg(data_dir)
            .args(args)
            .env_remove("MGRID_LOCAL_DIR")
            .env("MGRID_LOG", "error")
            .stdout(out)
            .stderr(Stdio::null());
        command
    }

    /// Runs `command` (an `mgrid dev`) and waits until it listens.
    pub fn spawn(mut command: Command, data_dir: &Path) -> Dev {
        let endpoint = data_dir.join("endpoint");
        let _ = std::fs::remove_file(&endpoint);
        let child = command.spawn().expect("start mgrid dev");
        let deadline = Instant::now() + Duration::from_secs(30);
        let url = loop {
            if let Ok(url) = std::fs::read_to_string(&endpoint) {
                break url.trim().to_owned();
            }
            assert!(
                Instant::now() < deadline,
                "mgrid dev did not start within 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        Dev {
            child,
            data_dir: data_dir.to_owned(),
            url,
        }
    }

    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Ctrl-C, and waits for the exit status.
    pub fn interrupt(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        self.child.wait().expect("wait for mgrid dev")
    }

    pub fn database(&self) -> rusqlite::Connection {
        mgrid::local::db::open(&self.data_dir.join("mgrid.db")).expect("open the local database")
    }

    /// The current secret of a local key ring.
    pub fn secret(&self, name: &str) -> Secret {
        let stored = mgrid::local::db::ring(&self.database(), name)
            .expect("read the ring")
            .expect("the ring exists");
        KeyRing::parse(&stored.json)
            .expect("a key ring")
            .current
            .secret
    }

    pub fn api_key(&self, provider: Provider) -> Secret {
        self.secret(&local().api_key_ring(provider))
    }

    /// A signed Stripe payment delivery for event `evt_<event>`, with this stage's keys.
    pub fn stripe_delivery(&self, event: &str) -> (String, Vec<(&'static str, String)>, String) {
        signed_stripe_delivery(
            &self.api_key(Provider::Stripe),
            &self.signing_secret(),
            event,
        )
    }

    /// The header the provider stand-in's control routes (`/_standin/…`) ask for: the token
    /// `mgrid dev` keeps in its data directory, read as `mgrid send` reads it.
    pub fn standin_control(&self) -> (&'static str, String) {
        let token = mgrid::local::provider_control(&mgrid::local::Paths::new(&self.data_dir))
            .expect("mgrid dev keeps the stand-in's control token");
        ("authorization", format!("Bearer {}", token.expose()))
    }

    /// The URL of the provider stand-in this `mgrid dev` runs.
    pub fn stand_in_url(&self) -> String {
        std::fs::read_to_string(self.data_dir.join("provider-api"))
            .expect("mgrid dev names its provider stand-in")
            .trim()
            .to_owned()
    }

    pub fn signing_secret(&self) -> Secret {
        self.secret(&local().signing_secret_ring(Provider::Stripe))
    }

    /// Transaction ids in the ledger, with how many rows each has.
    pub fn ledger(&self) -> BTreeMap<String, usize> {
        let db = self.database();
        let mut statement = db.prepare("SELECT transaction_id FROM ledger").unwrap();
        let mut ledger = BTreeMap::new();
        for id in statement
            .query_map([], |row| row.get::<_, String>(0))
            .unwrap()
        {
            *ledger.entry(id.unwrap()).or_default() += 1;
        }
        ledger
    }

    /// Dead letters by failure reason (`max-receives` when the processor gave none).
    pub fn dead_letters(&self) -> BTreeMap<String, usize> {
        let db = self.database();
        let mut statement = db
            .prepare("SELECT COALESCE(json_extract(attributes, '$.\"mgrid-failure-reason\"'), 'max-receives') FROM messages WHERE queue = 'dlq'")
            .unwrap();
        let mut reasons = BTreeMap::new();
        for reason in statement
            .query_map([], |row| row.get::<_, String>(0))
            .unwrap()
        {
            *reasons.entry(reason.unwrap()).or_default() += 1;
        }
        reasons
    }

    /// Messages on the webhook queue, and ledger items not yet archived and notified.
    pub fn backlog(&self) -> (i64, i64) {
        let db = self.database();
        let queued = db
            .query_row(
                "SELECT COUNT(*) FROM messages WHERE queue = 'webhooks'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        // The archive and the notifications follow the ledger apart, as the two pipes do.
        let unstreamed = db
            .query_row(
                "SELECT (SELECT COUNT(*) FROM stream WHERE done = 0)
                      + (SELECT COUNT(*) FROM notifications)",
                [],
                |r| r.get(0),
            )
            .unwrap();
        (queued, unstreamed)
    }

    /// Waits until the queue is empty and every ledger item is archived and notified.
    pub fn wait_until_drained(&self, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let backlog = self.backlog();
            if backlog == (0, 0) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "mgrid dev did not drain within {within:?}: {backlog:?} (queued, unarchived or unnotified) left"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn local() -> StageName {
    "local".parse().unwrap()
}

/// `mgrid <args> --stage local --yes` on `data_dir`: its exit code, stdout and stderr.
pub fn local_command(binary: &Path, data_dir: &Path, args: &[&str]) -> (i32, String, String) {
    local_command_with_input(binary, data_dir, args, None)
}

/// The same, with `input` on its stdin (None: a closed stdin). Every command it prints for the
/// operator to run must parse as printed.
pub fn local_command_with_input(
    binary: &Path,
    data_dir: &Path,
    args: &[&str],
    input: Option<&str>,
) -> (i32, String, String) {
    let mut child = Command::new(binary)
        .args(args)
        .args(["--stage", "local", "--yes"])
        .env("MGRID_LOCAL_DIR", data_dir)
        .env_remove("MGRID_STAGE")
        .env_remove("MGRID_OUTPUT")
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run mgrid");
    if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
        stdin.write_all(input.as_bytes()).expect("write stdin");
    }
    let output = child.wait_with_output().expect("mgrid ends");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    );
    assert_printed_commands_parse(&stdout);
    assert_printed_commands_parse(&stderr);
    (output.status.code().unwrap_or(-1), stdout, stderr)
}

/// A signed Stripe payment delivery as raw HTTP for event `evt_<event>`: its transaction id,
/// its headers (with the API key) and its body.
pub fn signed_stripe_delivery(
    key: &Secret,
    secret: &Secret,
    event: &str,
) -> (String, Vec<(&'static str, String)>, String) {
    use mgrid::decide::events::signature_headers;
    let (ids, text, at) = stripe_payment(event);
    let mut headers = signature_headers(Provider::Stripe, &text, Some(secret), false, &ids, at);
    headers.push(("x-api-key", key.expose().to_owned()));
    (format!("stripe:evt_{event}"), headers, text)
}

/// A Stripe payment_intent.succeeded event `evt_<event>` of 25.00 EUR, made now: its ids, its
/// body and when.
pub fn stripe_payment(event: &str) -> (mgrid::decide::events::EventIds, String, i64) {
    use mgrid::decide::events::{EventIds, EventSpec, body};
    let ids = EventIds {
        event: event.to_owned(),
        object: format!("{event}o"),
        parent: format!("{event}p"),
    };
    let spec = EventSpec {
        provider: Provider::Stripe,
        event_type: "payment_intent.succeeded".into(),
        vendor: "vendor-7".into(),
        amount: 2500,
        currency: "eur".into(),
    };
    let at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as i64;
    let text = body(&spec, &ids, at);
    (ids, text, at)
}

/// One HTTP/1.1 GET with a bearer token on its own connection: the status code and the JSON
/// answer (null when it is not JSON).
pub fn get_with_token(url: &str, token: &str) -> (u16, serde_json::Value) {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").expect("http");
    let (host, path) = rest.split_once('/').expect("a path");
    let mut stream = TcpStream::connect(host).expect("connect");
    write!(
        stream,
        "GET /{path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, serde_json::from_str(body).unwrap_or_default())
}

/// One HTTP/1.1 POST on its own connection; the status code, or None when nothing answered.
pub fn post(url: &str, headers: &[(&str, String)], body: &str) -> Option<u16> {
    post_for(url, headers, body).map(|(status, _)| status)
}

/// One HTTP/1.1 POST on its own connection; the status code and the response body.
pub fn post_for(url: &str, headers: &[(&str, String)], body: &str) -> Option<(u16, String)> {
    let rest = url.strip_prefix("http://")?;
    let (host, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_owned()), |(h, p)| (h, format!("/{p}")));
    let mut stream = TcpStream::connect(host).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .ok()?;
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split_whitespace().nth(1)?.parse().ok()?;
    let body = response
        .split_once("\r\n\r\n")
        .map_or("", |(_, body)| body)
        .to_owned();
    Some((status, body))
}

/// The row of signal `key` in a `metrics tail --output json` snapshot.
pub fn series_row<'a>(snapshot: &'a serde_json::Value, key: &str) -> &'a serde_json::Value {
    snapshot["series"]
        .as_array()
        .expect("a snapshot has series")
        .iter()
        .find(|r| r["key"] == key)
        .unwrap_or_else(|| panic!("no row {key} in {snapshot:#}"))
}

/// The mgrid commands a text prints for the operator to run: each `next:` or `look again:`
/// line that starts with one, and each `mgrid …` in backticks. Templates (`<event id>`, `…`)
/// and commands with quotes are left out: they are for a person to fill in.
pub fn printed_commands(text: &str) -> Vec<String> {
    let mut commands = Vec::new();
    for line in text.lines() {
        for (at, quoted) in line.split('`').enumerate() {
            if at % 2 == 1 && quoted.starts_with("mgrid ") {
                commands.push(quoted.to_owned());
            }
        }
        let told = line.trim_start();
        let rest = ["next: ", "look again: ", "look again later: "]
            .iter()
            .find_map(|prefix| told.split_once(prefix).map(|(_, rest)| rest));
        if let Some(rest) = rest.filter(|r| r.starts_with("mgrid ")) {
            let end = [" (", "; ", ", then", ": ", " then ", ", or ", "`", ")"]
                .iter()
                .filter_map(|stop| rest.find(stop))
                .min()
                .unwrap_or(rest.len());
            commands.push(rest[..end].trim_end_matches(['.', ',']).to_owned());
        }
    }
    commands.retain(|c| !c.contains(['<', '…', '\'', '"']) && !c.contains("..."));
    commands
}

/// Fails when a command mgrid printed for the operator to run does not parse as one.
pub fn assert_printed_commands_parse(text: &str) {
    use clap::Parser;
    for command in printed_commands(text) {
        let words: Vec<&str> = command.split_whitespace().collect();
        if let Err(error) = mgrid::cli::Cli::try_parse_from(&words) {
            if matches!(
                error.kind(),
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion
            ) {
                continue;
            }
            panic!(
                "mgrid printed `{command}`, which does not run as printed:\n{error}\nin:\n{text}"
            );
        }
    }
}
