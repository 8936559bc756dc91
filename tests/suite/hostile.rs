//! The local stage against a hostile user on the same machine and a hostile sender on the
//! internet: the data directory stays private, the ingress keeps answering with idle and slow
//! connections held open (also at the descriptor limit), webhook content never drives a
//! terminal, a failing notify URL holds up no archive, one provider's event id never drops
//! another's webhook, a second `mgrid dev` and a stale endpoint are refused, and a damaged
//! database never acknowledges a webhook. Each test fails on the code before these fixes.

use crate::support;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mgrid_contract::Provider;
use mgrid_contract::untrusted::is_unsafe;
use support::local::{Dev, post, post_for, signed_stripe_delivery};

/// The mgrid under test; MGRID_TEST_BINARY runs these tests against another build (an older
/// one, to see each test fail where the fix is missing).
fn binary() -> PathBuf {
    std::env::var_os("MGRID_TEST_BINARY")
        .map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_mgrid")), PathBuf::from)
}

/// `mgrid <args> --stage local` on `data_dir`: exit code, stdout, stderr.
fn local_command(data_dir: &Path, args: &[&str]) -> (i32, String, String) {
    support::local::local_command(&binary(), data_dir, args)
}

/// `mgrid send --stage local --data-dir <data_dir> <args>`: exit code, stdout, stderr.
fn send(data_dir: &Path, args: &[&str]) -> (i32, String, String) {
    let output = Command::new(binary())
        .args(["send", "--stage", "local", "--data-dir"])
        .arg(data_dir)
        .args(args)
        .env_remove("MGRID_STAGE")
        .env_remove("MGRID_OUTPUT")
        .output()
        .expect("run mgrid send");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn walk(dir: &Path, found: &mut Vec<(PathBuf, u32, bool)>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let metadata = entry.metadata().unwrap();
        found.push((
            entry.path(),
            metadata.permissions().mode(),
            metadata.is_dir(),
        ));
        if metadata.is_dir() {
            walk(&entry.path(), found);
        }
    }
}

/// `cat path` as the unprivileged user `nobody`; None when this machine cannot run it.
fn read_as_nobody(path: &Path) -> Option<bool> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    let status = Command::new("runuser")
        .args(["-u", "nobody", "--", "cat"])
        .arg(path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()?;
    Some(status.success())
}

#[test]
fn the_data_dir_is_private_whatever_the_umask_and_nobody_else_reads_its_keys() {
    let dir = tempfile::tempdir().unwrap();
    // A parent others may pass through, as a project directory usually is.
    set_mode(dir.path(), 0o755);
    let data = dir.path().join("local");
    let mut command = Dev::command(&binary(), &data, None, &[]);
    // SAFETY: umask is async-signal-safe and touches only the child's file-creation mask.
    unsafe {
        command.pre_exec(|| {
            libc::umask(0o022);
            Ok(())
        });
    }
    let dev = Dev::spawn(command, &data);
    assert_eq!(send(&data, &["stripe", "--count", "3"]).0, 0);
    dev.wait_until_drained(Duration::from_secs(30));

    let mut found = Vec::new();
    walk(&data, &mut found);
    assert!(
        found.iter().any(|(p, _, _)| p.ends_with("mgrid.db"))
            && found
                .iter()
                .any(|(p, _, _)| p.extension().is_some_and(|e| e == "json")),
        "{found:?}"
    );
    assert_eq!(
        std::fs::metadata(&data).unwrap().permissions().mode() & 0o777,
        0o700
    );
    for (path, mode, is_dir) in &found {
        let expected = if *is_dir { 0o700 } else { 0o600 };
        assert_eq!(mode & 0o777, expected, "{}", path.display());
    }

    // As another user: a world-readable file beside it is readable (the check can fail), the
    // database is not.
    let beside = dir.path().join("world-readable.txt");
    std::fs::write(&beside, "x").unwrap();
    set_mode(&beside, 0o644);
    match (
        read_as_nobody(&beside),
        read_as_nobody(&data.join("mgrid.db")),
    ) {
        (Some(control), Some(database)) => {
            assert!(control, "nobody reads a world-readable file");
            assert!(!database, "nobody must not read the keys");
        }
        _ => eprintln!("not root or no runuser: the modes above are the proof"),
    }
}

#[test]
fn a_second_dev_is_refused_by_the_directory_lock_and_leaves_the_first_ones_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("local");
    let dev = Dev::start(&binary(), &data, None);
    let _ = std::fs::remove_file(data.join("dev.lock"));
    let second = Command::new(binary())
        .args(["dev", "--port", "0", "--data-dir"])
        .arg(&data)
        .env("MGRID_LOG", "error")
        .output()
        .unwrap();
    assert_eq!(second.status.code(), Some(6));
    assert!(String::from_utf8_lossy(&second.stderr).contains("another mgrid dev is running"));
    assert_eq!(
        std::fs::read_to_string(data.join("endpoint"))
            .unwrap()
            .trim(),
        dev.url
    );
    assert_eq!(send(&data, &["stripe"]).0, 0);
}

#[test]
fn send_gives_no_key_to_whatever_listens_on_a_crashed_devs_port() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("local");
    let mut dev = Dev::start(&binary(), &data, None);
    dev.kill9();
    // Someone else now listens where the stale endpoint file points.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    std::fs::write(
        data.join("endpoint"),
        format!("http://{}", listener.local_addr().unwrap()),
    )
    .unwrap();
    let (code, _, stderr) = send(&data, &["stripe"]);
    assert_eq!(code, 5, "{stderr}");
    assert!(stderr.contains("left by a run that ended"), "{stderr}");
    assert!(
        listener.accept().is_err(),
        "no connection, so no key, reached the listener"
    );
}

/// Every character of `text` that could drive a terminal, but line breaks and tabs.
fn unsafe_characters(text: &str) -> Vec<char> {
    text.chars()
        .filter(|c| is_unsafe(*c) && *c != '\n' && *c != '\t')
        .collect()
}

#[test]
fn terminal_escapes_in_webhook_content_reach_no_terminal_table_or_document() {
    let hostile = "payment_intent.succeeded\u{1b}]0;owned\u{7}\u{1b}[2J\u{9b}31m\u{202e}gnp.exe";
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("local");
    let out = dir.path().join("dev.out");
    let dev = Dev::start(&binary(), &data, Some(&out));
    assert_eq!(send(&data, &["stripe", "--event", hostile]).0, 0);
    assert_eq!(
        send(&data, &["stripe", "--event", hostile, "--bad-signature"]).0,
        0
    );
    dev.wait_until_drained(Duration::from_secs(30));
    // The notification line of the valid one.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !std::fs::read_to_string(&out)
        .unwrap_or_default()
        .contains("notify vendor")
    {
        assert!(Instant::now() < deadline, "no notification line");
        std::thread::sleep(Duration::from_millis(100));
    }

    let mut shown = vec![(
        "mgrid dev's notification line".to_owned(),
        std::fs::read_to_string(&out).unwrap(),
    )];
    for args in [
        vec!["dlq", "peek"],
        vec!["dlq", "peek", "--full"],
        vec!["dlq", "peek", "--output", "json"],
        vec!["dlq", "stats"],
        vec!["dlq", "redrive", "--dry-run"],
        vec!["replay", "--from", "1h ago", "--to", "now", "--dry-run"],
        vec![
            "replay",
            "--from",
            "1h ago",
            "--to",
            "now",
            "--dry-run",
            "--output",
            "json",
        ],
    ] {
        let (code, stdout, stderr) = local_command(&data, &args);
        assert_eq!(code, 0, "{args:?}: {stderr}");
        shown.push((format!("{args:?}"), stdout + &stderr));
    }
    for (what, text) in &shown {
        assert!(
            unsafe_characters(text).is_empty(),
            "{what} let through {:?}:\n{text}",
            unsafe_characters(text)
        );
    }
    // What was escaped is still shown, so an operator can see what was sent.
    let peek = &shown[1].1;
    assert!(peek.contains("\\x1b]0;owned\\x07"), "{peek}");
    assert!(shown[0].1.contains("\\u{202e}gnp.exe"), "{}", shown[0].1);
    let json = &shown[3].1;
    assert!(
        json.contains("\\u001b]0;owned") && json.contains("\\u202e"),
        "{json}"
    );
}

#[test]
fn one_providers_event_id_never_drops_another_providers_webhook() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("local");
    let dev = Dev::start(&binary(), &data, None);
    // PayPal delivers an event whose id a Stripe event also has.
    let paypal = r#"{"id":"evt_shared1","event_type":"PAYMENT.CAPTURE.COMPLETED","resource":{"id":"CAP-1"}}"#;
    let paypal_key = vec![(
        "x-api-key",
        dev.api_key(Provider::Paypal).expose().to_owned(),
    )];
    let (status, first) =
        post_for(&format!("{}/webhook/paypal", dev.url), &paypal_key, paypal).unwrap();
    assert_eq!(status, 200, "{first}");
    let (transaction, headers, body) = dev.stripe_delivery("shared1");
    let (status, second) =
        post_for(&format!("{}/webhook/stripe", dev.url), &headers, &body).unwrap();
    assert_eq!(status, 200, "{second}");
    let id = |answer: &str| {
        serde_json::from_str::<serde_json::Value>(answer).unwrap()["messageId"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_ne!(
        id(&first),
        id(&second),
        "Stripe's webhook got PayPal's message id"
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while !dev.ledger().contains_key(&transaction) {
        assert!(
            Instant::now() < deadline,
            "Stripe's evt_shared1 was dropped"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn only_the_deployed_routes_answer_and_a_repeated_api_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let dev = Dev::start(&binary(), &dir.path().join("local"), None);
    let (_, headers, body) = dev.stripe_delivery("route1");
    for path in [
        "/foo/bar/webhook/stripe",
        "//webhook/stripe",
        "/webhook/stripe/extra",
        "/webhook//stripe",
        "/Webhook/stripe",
    ] {
        assert_eq!(
            post(&format!("{}{path}", dev.url), &headers, &body),
            Some(404),
            "{path}"
        );
    }
    let key = dev.api_key(Provider::Stripe).expose().to_owned();
    let mut twice = headers.clone();
    twice.push(("x-api-key", key.clone()));
    assert_eq!(
        post(&format!("{}/webhook/stripe", dev.url), &twice, &body),
        Some(403)
    );
    let signature: Vec<_> = headers
        .iter()
        .filter(|(name, _)| *name != "x-api-key")
        .cloned()
        .collect();
    assert_eq!(
        post(
            &format!("{}/webhook/stripe?key={key}&key={key}", dev.url),
            &signature,
            &body
        ),
        Some(403)
    );
    assert_eq!(
        post(&format!("{}/webhook/stripe", dev.url), &headers, &body),
        Some(200),
        "the route itself answers"
    );
}

/// Starts `mgrid dev` with its log (at warn) in `log`, and more arguments.
fn dev_logging(data: &Path, log: &Path, args: &[&str]) -> Dev {
    let mut command = Dev::command(&binary(), data, None, args);
    command
        .env("MGRID_LOG", "warn")
        .stderr(std::fs::File::create(log).unwrap());
    Dev::spawn(command, data)
}

fn count(dev: &Dev, sql: &str) -> i64 {
    dev.database().query_row(sql, [], |row| row.get(0)).unwrap()
}

#[test]
fn a_notify_url_that_refuses_holds_up_no_archive_and_logs_once_a_step() {
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/notify", closed.local_addr().unwrap());
    drop(closed);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("local");
    let log = dir.path().join("dev.log");
    let dev = dev_logging(&data, &log, &["--notify-url", &url, "--quiet"]);
    let started = Instant::now();
    assert_eq!(send(&data, &["stripe", "--count", "100"]).0, 0);
    let deadline = Instant::now() + Duration::from_secs(20);
    while count(&dev, "SELECT COUNT(*) FROM stream WHERE done = 0") > 0
        || count(&dev, "SELECT COUNT(*) FROM ledger") < 100
    {
        assert!(
            Instant::now() < deadline,
            "archiving waits for the notify URL"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(count(&dev, "SELECT COUNT(*) FROM notifications"), 100);
    std::thread::sleep(Duration::from_secs(8).saturating_sub(started.elapsed()));
    let lines = std::fs::read_to_string(&log).unwrap();
    let warnings = lines.lines().filter(|l| l.contains("WARN")).count();
    // Steps at 0, 1, 3 and 7 s: one line each, whatever the number of notifications.
    assert!((2..=5).contains(&warnings), "{warnings} lines:\n{lines}");
    assert!(
        !lines.contains('\u{1b}'),
        "a log file holds no colour codes"
    );
}

#[test]
fn a_notify_url_that_never_answers_holds_up_no_archive() {
    let hanging = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/notify", hanging.local_addr().unwrap());
    let held = Arc::new(Mutex::new(Vec::new()));
    {
        let held = held.clone();
        std::thread::spawn(move || {
            for stream in hanging.incoming().flatten() {
                held.lock().unwrap().push(stream);
            }
        });
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("local");
    let dev = Dev::start_with(&binary(), &data, None, &["--notify-url", &url, "--quiet"]);
    assert_eq!(send(&data, &["stripe", "--count", "50"]).0, 0);
    let deadline = Instant::now() + Duration::from_secs(8);
    while count(&dev, "SELECT COUNT(*) FROM stream WHERE done = 0") > 0
        || count(&dev, "SELECT COUNT(*) FROM ledger") < 50
    {
        assert!(
            Instant::now() < deadline,
            "archiving waits for a URL that never answers"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(count(&dev, "SELECT COUNT(*) FROM notifications") > 0);
}

#[test]
fn a_notify_url_that_is_not_one_is_refused_at_start() {
    for bad in ["notaurl", "ftp://example.com/x"] {
        let output = Command::new(binary())
            .args(["dev", "--port", "0", "--notify-url", bad, "--data-dir"])
            .arg(tempfile::tempdir().unwrap().path().join("local"))
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{bad}");
        assert!(String::from_utf8_lossy(&output.stderr).contains("not an http:// or https:// URL"));
    }
}

#[test]
fn a_dev_that_cannot_listen_creates_nothing() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("local");
    let output = Command::new(binary())
        .args(["dev", "--port", &port, "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("cannot listen on 127.0.0.1:{port}")) && stderr.contains("--port"),
        "{stderr}"
    );
    assert!(!data.exists(), "no data directory was made");
}

#[test]
fn a_data_dir_that_is_a_file_says_what_to_do_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("local");
    std::fs::write(&file, "notes").unwrap();
    for args in [
        &["dev", "--port", "0"][..],
        &["dlq", "stats", "--stage", "local"][..],
    ] {
        let output = Command::new(binary())
            .args(args)
            .arg("--data-dir")
            .arg(&file)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("is a file, not a directory")
                && stderr.contains("next: pass --data-dir"),
            "{args:?}: {stderr}"
        );
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "notes");
}

#[test]
fn an_emptied_database_is_damage_never_a_new_stage() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("local");
    let mut dev = Dev::start(&binary(), &data, None);
    assert_eq!(send(&data, &["stripe", "--count", "5"]).0, 0);
    dev.wait_until_drained(Duration::from_secs(30));
    dev.interrupt();
    std::fs::File::create(data.join("mgrid.db")).unwrap();
    let _ = std::fs::remove_file(data.join("mgrid.db-wal"));

    let output = Command::new(binary())
        .args(["dev", "--port", "0", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    for said in [
        "is damaged",
        "empty (0 bytes)",
        "mgrid replay --stage local",
    ] {
        assert!(stderr.contains(said), "{said}: {stderr}");
    }
    assert_eq!(
        std::fs::metadata(data.join("mgrid.db")).unwrap().len(),
        0,
        "no new stage was made over it"
    );
    let (code, _, stderr) = local_command(&data, &["status"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("is damaged"), "{stderr}");
}

#[test]
fn a_database_emptied_while_dev_runs_acknowledges_nothing_more_and_stops_dev() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("local");
    let log = dir.path().join("dev.log");
    let mut dev = dev_logging(&data, &log, &[]);
    assert_eq!(send(&data, &["stripe", "--count", "5"]).0, 0);
    dev.wait_until_drained(Duration::from_secs(30));
    let (key, secret) = (dev.api_key(Provider::Stripe), dev.signing_secret());
    std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(data.join("mgrid.db"))
        .unwrap();
    let mut acknowledged = 0;
    for n in 0..20 {
        let (_, headers, body) = signed_stripe_delivery(&key, &secret, &format!("after{n}"));
        if post(&format!("{}/webhook/stripe", dev.url), &headers, &body) == Some(200) {
            acknowledged += 1;
        }
    }
    assert_eq!(
        acknowledged, 0,
        "a webhook was acknowledged after the damage"
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = dev.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "mgrid dev kept running on a damaged database"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(status.code(), Some(1));
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(log.contains("damaged"), "{log}");
}

/// Sets the child's descriptor limit.
fn with_descriptor_limit(command: &mut Command, limit: u64) {
    // SAFETY: setrlimit is async-signal-safe and changes only the child's limit.
    unsafe {
        command.pre_exec(move || {
            let rlimit = libc::rlimit {
                rlim_cur: limit,
                rlim_max: limit,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &rlimit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// CPU time the process has used (user + system), from /proc.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // SAFETY: sysconf has no preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
    Duration::from_millis(ticks * 1000 / per_second)
}

#[test]
fn idle_sockets_at_the_descriptor_limit_neither_stop_the_ingress_nor_spin_a_core() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("local");
    let mut command = Dev::command(&binary(), &data, None, &[]);
    with_descriptor_limit(&mut command, 128);
    let dev = Dev::spawn(command, &data);
    let key = dev.api_key(Provider::Stripe);
    let secret = dev.signing_secret();
    let address = dev.url.trim_start_matches("http://").to_owned();
    let idle: Vec<TcpStream> = (0..150)
        .map(|_| TcpStream::connect(&address).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let before = cpu_time(dev.child.id());
    let started = Instant::now();
    for n in 0..20 {
        let (_, headers, body) = signed_stripe_delivery(&key, &secret, &format!("limit{n}"));
        assert_eq!(
            post(&format!("{}/webhook/stripe", dev.url), &headers, &body),
            Some(200),
            "webhook {n} with 150 idle sockets held"
        );
    }
    let took = started.elapsed();
    assert!(took < Duration::from_secs(20), "took {took:?}");
    std::thread::sleep(Duration::from_secs(2));
    let used = cpu_time(dev.child.id()) - before;
    let wall = started.elapsed();
    assert!(
        used < wall / 2,
        "mgrid dev used {used:?} of CPU in {wall:?} with idle sockets held"
    );
    drop(idle);
}

/// One keep-alive request on `stream`; the status, or None when the connection was closed.
fn keep_alive_post(
    stream: &mut TcpStream,
    host: &str,
    headers: &[(&str, String)],
    body: &str,
) -> Option<u16> {
    let mut request = format!(
        "POST /webhook/stripe HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut status_line = String::new();
    if reader.read_line(&mut status_line).ok()? == 0 {
        return None;
    }
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 || line == "\r\n" {
            break;
        }
        if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut rest = vec![0; length];
    reader.read_exact(&mut rest).ok()?;
    status_line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn sigterm_closes_kept_alive_connections_after_the_request_in_hand() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("local");
    let mut dev = Dev::start(&binary(), &data, None);
    let host = dev.url.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&host).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let (key, secret) = (dev.api_key(Provider::Stripe), dev.signing_secret());
    let (_, headers, body) = signed_stripe_delivery(&key, &secret, "alive1");
    assert_eq!(
        keep_alive_post(&mut stream, &host, &headers, &body),
        Some(200)
    );
    Command::new("kill")
        .args(["-TERM", &dev.child.id().to_string()])
        .status()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let (_, headers, body) = signed_stripe_delivery(&key, &secret, "alive2");
    assert_eq!(
        keep_alive_post(&mut stream, &host, &headers, &body),
        None,
        "a kept-alive connection took a webhook after SIGTERM"
    );
    assert!(dev.child.wait().unwrap().success());
}

#[test]
fn a_load_with_idle_and_slow_connections_held_records_every_acknowledged_webhook_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("local");
    let dev = Dev::start(&binary(), &data, None);
    let host = dev.url.trim_start_matches("http://").to_owned();
    let (key, secret) = (dev.api_key(Provider::Stripe), dev.signing_secret());
    let _idle: Vec<TcpStream> = (0..40)
        .map(|_| TcpStream::connect(&host).unwrap())
        .collect();
    // Slow senders: a header byte every 300 ms, never finishing.
    let closed_by_server = Arc::new(Mutex::new(0));
    let slow: Vec<_> = (0..10)
        .map(|_| {
            let (host, closed) = (host.clone(), closed_by_server.clone());
            std::thread::spawn(move || {
                let mut stream = TcpStream::connect(&host).unwrap();
                let started = Instant::now();
                for byte in b"POST /webhook/stripe HTTP/1.1\r\nX-Slow: ".iter().cycle() {
                    if stream.write_all(&[*byte]).is_err() {
                        *closed.lock().unwrap() += 1;
                        return started.elapsed();
                    }
                    if started.elapsed() > Duration::from_secs(40) {
                        return started.elapsed();
                    }
                    std::thread::sleep(Duration::from_millis(300));
                }
                started.elapsed()
            })
        })
        .collect();
    let acknowledged = Arc::new(Mutex::new(BTreeSet::new()));
    let senders: Vec<_> = (0..8)
        .map(|sender| {
            let (key, secret, url, acknowledged) = (
                key.clone(),
                secret.clone(),
                format!("{}/webhook/stripe", dev.url),
                acknowledged.clone(),
            );
            std::thread::spawn(move || {
                for n in 0..250 {
                    let (transaction, headers, body) =
                        signed_stripe_delivery(&key, &secret, &format!("soak{sender}x{n}"));
                    if post(&url, &headers, &body) == Some(200) {
                        acknowledged.lock().unwrap().insert(transaction);
                    }
                }
            })
        })
        .collect();
    for sender in senders {
        sender.join().unwrap();
    }
    dev.wait_until_drained(Duration::from_secs(120));
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert_eq!(acknowledged.len(), 2000, "every webhook was acknowledged");
    let ledger = dev.ledger();
    for transaction in &acknowledged {
        assert_eq!(ledger.get(transaction), Some(&1), "{transaction}");
    }
    assert_eq!(ledger.len(), acknowledged.len());
    for thread in slow {
        let held = thread.join().unwrap();
        assert!(
            held < Duration::from_secs(30),
            "a slow sender held on for {held:?}"
        );
    }
    assert_eq!(*closed_by_server.lock().unwrap(), 10);
}

#[test]
fn the_stand_ins_control_routes_refuse_a_process_without_the_data_dirs_token() {
    let dir = tempfile::tempdir().unwrap();
    let dev = Dev::start(&binary(), dir.path(), None);
    let base = dev.stand_in_url();
    let (_, forged, _) = support::local::stripe_payment("forged");
    let forged = forged.replace("\"amount_received\":2500", "\"amount_received\":99999999");
    let wrong = ("authorization", "Bearer mgsc_guessed".to_owned());
    // Another local user finds the port (/proc/net/tcp) but cannot read the data directory.
    for headers in [&[][..], &[wrong.clone()][..]] {
        for (route, body) in [
            ("stripe/deliver", forged.as_str()),
            (
                "stripe/events",
                r#"[{"body":"{\"id\":\"evt_phantom\",\"type\":\"payment_intent.succeeded\"}","delivered":false}]"#,
            ),
            ("throttle", r#"{"requests":1000,"retryAfter":3600}"#),
        ] {
            let (status, answer) =
                post_for(&format!("{base}/_standin/{route}"), headers, body).expect("an answer");
            assert_eq!(status, 401, "{route} answered {answer}");
            assert!(
                !answer.contains("mgsc_"),
                "the token is never echoed: {answer}"
            );
        }
    }
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        !dev.ledger().contains_key("stripe:evt_forged"),
        "a forged payment was recorded"
    );
    // The stand-in answers its providers' routes as before (no throttle took hold), and the
    // holder of the data directory still delivers.
    let token = dev.secret("/marketgrid/local/provider-tokens/stripe");
    let (status, _) =
        support::local::get_with_token(&format!("{base}/stripe/v1/events"), token.expose());
    assert_eq!(status, 200);
    let (status, answer) = post_for(
        &format!("{base}/_standin/stripe/deliver"),
        &[dev.standin_control()],
        &forged,
    )
    .expect("an answer");
    assert_eq!(status, 200, "{answer}");
    let mode = std::fs::metadata(dev.data_dir.join("provider-api.control"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "the control token is owner-only");
}

#[test]
fn a_dev_restarted_on_another_port_moves_its_provider_endpoints_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let endpoints = |dev: &Dev| -> Vec<String> {
        let token = dev.secret("/marketgrid/local/provider-tokens/stripe");
        let (status, page) = support::local::get_with_token(
            &format!("{}/stripe/v1/webhook_endpoints", dev.stand_in_url()),
            token.expose(),
        );
        assert_eq!(status, 200);
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["url"].as_str().unwrap().to_owned())
            .collect()
    };
    let mut first = Dev::start(&binary(), dir.path(), None);
    let before = endpoints(&first);
    assert_eq!(before.len(), 1);
    assert!(before[0].starts_with(&format!("{}/webhook/stripe?key=", first.url)));
    first.interrupt();
    // Whoever takes the old port now would receive the API key and a signature.
    let old = first.url.trim_start_matches("http://").to_owned();
    let squatter = TcpListener::bind(&old).ok();
    let second = Dev::start(&binary(), dir.path(), None);
    if squatter.is_some() {
        assert_ne!(second.url, first.url, "the old port is taken");
    }
    let after = endpoints(&second);
    assert_eq!(after.len(), 1, "{after:?}");
    assert!(
        after[0].starts_with(&format!("{}/webhook/stripe?key=", second.url)),
        "the endpoint still points at {} after the restart on {}",
        after[0].split_once('?').map_or("", |u| u.0),
        second.url
    );
    drop(squatter);
    let (_, event, _) = support::local::stripe_payment("moved");
    let (status, answer) = post_for(
        &format!("{}/_standin/stripe/deliver", second.stand_in_url()),
        &[second.standin_control()],
        &event,
    )
    .expect("an answer");
    assert_eq!(status, 200, "{answer}");
    let answer: serde_json::Value = serde_json::from_str(&answer).unwrap();
    let delivered = answer["deliveries"][0]["status"].as_u64();
    assert!(
        delivered.is_some_and(|s| (200..300).contains(&s)),
        "{answer}"
    );
}
