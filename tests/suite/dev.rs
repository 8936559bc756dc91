//! `mgrid dev` and `mgrid send` end to end, with no AWS and no emulator: the local stage runs as
//! a process in a temp dir; webhooks go in over HTTP (through `mgrid send`, and raw where a
//! test needs to control the bytes); the ledger, dead letters and archive are then read from
//! what the local stage wrote. The crash test SIGKILLs `mgrid dev` during a load and restarts it.

use crate::support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mgrid_contract::Provider;
use mgrid_contract::archive::{ArchiveKey, ArchivedWebhook};
use support::local::{Dev, post, signed_stripe_delivery};

fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_mgrid"))
}

/// `mgrid send … --stage local` against `dev`; its JSON report.
fn send(dev: &Dev, args: &[&str]) -> serde_json::Value {
    let output = Command::new(binary())
        .args(["send", "--stage", "local", "--output", "json", "--data-dir"])
        .arg(&dev.data_dir)
        .args(args)
        .env_remove("MGRID_STAGE")
        .env_remove("MGRID_OUTPUT")
        .output()
        .expect("run mgrid send");
    assert!(
        output.status.success(),
        "mgrid send {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("a JSON report")
}

fn archived_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.join("archive")];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

#[test]
fn valid_webhooks_are_recorded_once_archived_and_notified_and_bad_ones_dead_letter_with_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("dev.out");
    let mut dev = Dev::start(&binary(), &dir.path().join("local"), Some(&out));

    assert_eq!(send(&dev, &["stripe", "--count", "20"])["accepted"], 20);
    assert_eq!(
        send(&dev, &["stripe", "--count", "3", "--bad-signature"])["accepted"],
        3
    );
    assert_eq!(
        send(&dev, &["stripe", "--count", "2", "--malformed"])["accepted"],
        2
    );
    assert_eq!(send(&dev, &["paypal", "--count", "2"])["accepted"], 2);
    // A provider retry: the same signed event twice.
    let (twice, headers, text) = dev.stripe_delivery("retried1");
    assert_eq!(
        post(&format!("{}/webhook/stripe", dev.url), &headers, &text),
        Some(200)
    );
    assert_eq!(
        post(&format!("{}/webhook/stripe", dev.url), &headers, &text),
        Some(200)
    );
    // The door: no key, a wrong key, a wrong route.
    let url = format!("{}/webhook/stripe", dev.url);
    assert_eq!(post(&url, &[], &text), Some(401));
    assert_eq!(
        post(&url, &[("x-api-key", "mgk_stripe_wrong".into())], &text),
        Some(403)
    );
    let paypal_key = vec![(
        "x-api-key",
        dev.api_key(Provider::Paypal).expose().to_owned(),
    )];
    assert_eq!(
        post(&url, &paypal_key, &text),
        Some(403),
        "another provider's key"
    );
    assert_eq!(
        post(&format!("{}/webhook/adyen", dev.url), &headers, &text),
        Some(404)
    );

    dev.wait_until_drained(Duration::from_secs(60));

    let ledger = dev.ledger();
    assert_eq!(
        ledger.len(),
        21,
        "20 sent plus one delivered twice: {ledger:?}"
    );
    assert!(ledger.values().all(|rows| *rows == 1));
    assert!(ledger.contains_key(&twice));
    let reasons = dev.dead_letters();
    assert_eq!(reasons.get("bad-signature"), Some(&3), "{reasons:?}");
    assert_eq!(reasons.get("malformed-body"), Some(&2), "{reasons:?}");
    assert_eq!(reasons.get("no-signing-secret"), Some(&2), "{reasons:?}");
    assert_eq!(reasons.values().sum::<usize>(), 7, "{reasons:?}");

    let files = archived_files(&dev.data_dir);
    assert_eq!(files.len(), 21, "{files:?}");
    for file in &files {
        let key = file
            .strip_prefix(dev.data_dir.join("archive"))
            .unwrap()
            .to_str()
            .unwrap();
        let key = ArchiveKey::parse(key).expect("the archive's key layout");
        let envelope = ArchivedWebhook::parse(&key, &std::fs::read(file).unwrap()).unwrap();
        assert!(ledger.contains_key(&envelope.transaction_id()));
    }

    assert!(dev.interrupt().success(), "Ctrl-C ends mgrid dev with 0");
    let notifications = std::fs::read_to_string(&out).unwrap();
    let notified = notifications
        .lines()
        .filter(|l| l.starts_with("notify vendor"))
        .count();
    assert_eq!(notified, 21, "{notifications}");
    assert!(
        notifications.contains("notify vendor vendor-7: stripe payment_intent.succeeded 25.00 EUR")
    );
}

#[test]
fn sigkill_during_a_load_loses_no_acknowledged_webhook_and_records_none_twice() {
    const SENDERS: usize = 8;
    const EACH: usize = 400;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("local");
    let mut dev = Dev::start(&binary(), &data, None);
    let (key, secret) = (dev.api_key(Provider::Stripe), dev.signing_secret());
    let url = format!("{}/webhook/stripe", dev.url);
    let acknowledged = Arc::new(Mutex::new(BTreeSet::new()));
    let sent = Arc::new(Mutex::new(BTreeSet::new()));
    let acked_count = Arc::new(AtomicUsize::new(0));
    let down = Arc::new(AtomicBool::new(false));
    let senders: Vec<_> = (0..SENDERS)
        .map(|sender| {
            let (key, secret, url) = (key.clone(), secret.clone(), url.clone());
            let (acknowledged, sent) = (acknowledged.clone(), sent.clone());
            let (acked_count, down) = (acked_count.clone(), down.clone());
            std::thread::spawn(move || {
                for n in 0..EACH {
                    let (id, headers, text) =
                        signed_stripe_delivery(&key, &secret, &format!("s{sender}n{n}"));
                    sent.lock().unwrap().insert(id.clone());
                    match post(&url, &headers, &text) {
                        Some(200) => {
                            acknowledged.lock().unwrap().insert(id);
                            acked_count.fetch_add(1, Ordering::Relaxed);
                        }
                        // Only once the process is gone may a delivery go unanswered.
                        other => {
                            assert!(
                                down.load(Ordering::Relaxed),
                                "{id} got {other:?} before the kill"
                            );
                            return;
                        }
                    }
                }
            })
        })
        .collect();
    while acked_count.load(Ordering::Relaxed) < SENDERS * EACH / 3 {
        std::thread::sleep(Duration::from_millis(5));
    }
    down.store(true, Ordering::Relaxed);
    dev.kill9();
    for sender in senders {
        sender.join().expect("a sender thread");
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    let sent = sent.lock().unwrap().clone();
    assert!(acknowledged.len() >= SENDERS * EACH / 3);
    assert!(
        acknowledged.len() < sent.len(),
        "the kill came during the load"
    );

    let dev = Dev::start(&binary(), &data, None);
    dev.wait_until_drained(Duration::from_secs(120));

    let ledger = dev.ledger();
    let missing: Vec<_> = acknowledged
        .iter()
        .filter(|id| !ledger.contains_key(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "acknowledged but not recorded: {missing:?}"
    );
    assert!(
        ledger.values().all(|rows| *rows == 1),
        "a transaction recorded twice"
    );
    assert!(
        ledger.keys().all(|id| sent.contains(id)),
        "a transaction nobody sent"
    );
    assert_eq!(
        dev.dead_letters().values().sum::<usize>(),
        0,
        "{:?}",
        dev.dead_letters()
    );
    assert_eq!(archived_files(&data).len(), ledger.len());
}

/// `mgrid dlq … --stage local`, reading the data dir from MGRID_LOCAL_DIR.
fn dlq(dev: &Dev, args: &[&str]) -> serde_json::Value {
    let output = Command::new(binary())
        .args(["dlq", "--stage", "local", "--output", "json", "--yes"])
        .args(args)
        .env("MGRID_LOCAL_DIR", &dev.data_dir)
        .env_remove("MGRID_STAGE")
        .env_remove("MGRID_OUTPUT")
        .output()
        .expect("run mgrid dlq");
    assert!(
        output.status.success(),
        "mgrid dlq {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("a JSON report")
}

#[test]
fn local_dead_letters_are_counted_peeked_and_redriven_by_the_aws_rules() {
    let dir = tempfile::tempdir().unwrap();
    let dev = Dev::start(&binary(), &dir.path().join("local"), None);
    send(&dev, &["stripe", "--count", "3", "--bad-signature"]);
    send(&dev, &["stripe", "--count", "2", "--malformed"]);
    dev.wait_until_drained(Duration::from_secs(60));

    let stats = dlq(&dev, &["stats"]);
    assert_eq!(stats["deadLetterQueue"]["visible"], 5);
    let count = |reason: &str| {
        stats["breakdown"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["reason"] == reason)
            .map(|r| r["count"].as_u64().unwrap())
    };
    assert_eq!(count("bad-signature"), Some(3));
    assert_eq!(count("malformed-body"), Some(2));
    let peeked = dlq(&dev, &["peek", "--reason", "malformed-body"]);
    assert_eq!(peeked["messages"].as_array().unwrap().len(), 2);
    assert_eq!(peeked["messages"][0]["malformed"], true);

    let dry = dlq(&dev, &["redrive", "--reason", "bad-signature", "--dry-run"]);
    assert_eq!(dry["wouldMove"].as_array().unwrap().len(), 3);
    assert_eq!(
        dev.dead_letters().values().sum::<usize>(),
        5,
        "a dry run moves nothing"
    );

    // The running processor rejects the copies again: the run watches for that and says so (7).
    let (code, moved, stderr) = local_command(
        &dev,
        &[
            "dlq",
            "redrive",
            "--reason",
            "bad-signature",
            "--output",
            "json",
        ],
    );
    assert_eq!(code, 7, "{stderr}");
    let moved: serde_json::Value = serde_json::from_str(&moved).unwrap();
    assert_eq!(moved["moved"], 3);
    assert_eq!(moved["left"], 2);
    assert_eq!(
        moved["verdicts"]["failedAgain"]["bad-signature"], 3,
        "{moved}"
    );
    // The processor sees them again, finds the same bad signatures, and dead-letters them anew.
    dev.wait_until_drained(Duration::from_secs(60));
    let reasons = dev.dead_letters();
    assert_eq!(reasons.get("bad-signature"), Some(&3), "{reasons:?}");
    assert_eq!(reasons.get("malformed-body"), Some(&2), "{reasons:?}");
    assert!(dev.ledger().is_empty());

    let purged = dlq(&dev, &["purge"]);
    assert_eq!(purged["purged"], 5);
    assert!(dev.dead_letters().is_empty());
}

/// A redrive before the cause is fixed, while `mgrid dev`'s processor runs: it rejects the
/// copies again as they arrive. The redrive ends, moves each original once, says what came back
/// and why (exit 7), and loses none.
#[test]
fn a_local_redrive_of_webhooks_that_fail_again_ends_and_counts_them() {
    let dir = tempfile::tempdir().unwrap();
    let dev = Dev::start(&binary(), &dir.path().join("local"), None);
    let sent = send(&dev, &["stripe", "--count", "40", "--bad-signature"]);
    assert_eq!(
        sent["spoiledAs"], "bad-signature",
        "send says what it sent: {sent}"
    );
    dev.wait_until_drained(Duration::from_secs(60));
    assert_eq!(dev.dead_letters().get("bad-signature"), Some(&40));

    // Paced, so the processor rejects the first copies while the run is still going.
    let started = std::time::Instant::now();
    let (code, report, stderr) = local_command(
        &dev,
        &["dlq", "redrive", "--rate", "20", "--output", "json"],
    );
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "the run ends: {stderr}"
    );
    assert_eq!(code, 7, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert_eq!(report["moved"], 40, "each original once: {report}");
    assert_eq!(
        report["verdicts"]["failedAgain"]["bad-signature"], 40,
        "every copy judged, none claimed recorded: {report}"
    );
    assert_eq!(report["verdicts"]["recorded"], 0, "{report}");
    assert!(
        stderr.contains("dlq peek --stage local --reason bad-signature"),
        "{stderr}"
    );
    dev.wait_until_drained(Duration::from_secs(60));
    assert_eq!(
        dev.dead_letters().get("bad-signature"),
        Some(&40),
        "every webhook is back in the dead-letter queue, none lost, none twice"
    );
}

/// The new user's night, with the processor running: 300 webhooks dead-lettered for a bad
/// signature. A redrive with nothing fixed ends on what the processor decided: every copy failed
/// again (exit 7), none claimed recorded. Then the right signing secret is set and a redrive
/// started at once waits until the processor's cached key ring has expired, and ends with every
/// webhook in the ledger (exit 0).
#[test]
fn a_redrive_ends_on_the_ledgers_verdict_not_on_the_move() {
    let dir = tempfile::tempdir().unwrap();
    let dev = Dev::start(&binary(), &dir.path().join("local"), None);
    send(&dev, &["stripe", "--count", "300", "--bad-signature"]);
    dev.wait_until_drained(Duration::from_secs(120));
    assert_eq!(dev.dead_letters().get("bad-signature"), Some(&300));

    let redrive = || {
        let (code, stdout, stderr) = local_command(
            &dev,
            &[
                "dlq",
                "redrive",
                "--reason",
                "bad-signature",
                "--output",
                "json",
            ],
        );
        let report: serde_json::Value =
            serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}{stderr}"));
        (code, report, stderr)
    };
    let (code, report, stderr) = redrive();
    assert_eq!(code, 7, "nothing fixed is not a success: {stderr}");
    assert_eq!(report["moved"], 300, "{report}");
    let verdicts = &report["verdicts"];
    assert_eq!(verdicts["failedAgain"]["bad-signature"], 300, "{report}");
    assert_eq!(
        (&verdicts["recorded"], &verdicts["pending"]),
        (&0.into(), &0.into())
    );
    assert!(
        stderr.contains("300 of 300 moved webhooks failed again"),
        "{stderr}"
    );
    assert_eq!(dev.dead_letters().get("bad-signature"), Some(&300));

    // The fix: the secret the provider really signs with (what `send --bad-signature` used).
    let mut set = Command::new(binary())
        .args([
            "keys",
            "set-signing-secret",
            "stripe",
            "--stage",
            "local",
            "--yes",
        ])
        .env("MGRID_LOCAL_DIR", &dev.data_dir)
        .env_remove("MGRID_STAGE")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        set.stdin.as_mut().unwrap(),
        b"whsec_not_the_endpoint_secret\n",
    )
    .unwrap();
    let set = set.wait_with_output().unwrap();
    let set_at = std::time::Instant::now();
    let said = String::from_utf8_lossy(&set.stdout);
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );
    assert!(
        said.contains("the processor verifies with it by") && said.contains("60 s"),
        "it says when the change takes effect: {said}"
    );

    let (code, report, stderr) = redrive();
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("signing secret changed less than 60 s ago"),
        "it says why it waits: {stderr}"
    );
    assert!(
        set_at.elapsed() >= Duration::from_secs(55),
        "it waited out the cache: {:?}",
        set_at.elapsed()
    );
    assert_eq!(report["verdicts"]["recorded"], 300, "{report}");
    assert!(
        report["unsettled"].as_array().unwrap().is_empty(),
        "{report}"
    );
    assert_eq!(dev.ledger().values().sum::<usize>(), 300);
    assert!(dev.dead_letters().is_empty());
}

/// Looks touch nothing on the local stage: a trace finds a dead letter wherever it is in the
/// queue (here behind 150 others), and neither trace nor peek raises a receive count.
#[test]
fn local_looks_find_every_dead_letter_and_change_no_receive_count() {
    let dir = tempfile::tempdir().unwrap();
    let dev = Dev::start(&binary(), &dir.path().join("local"), None);
    send(&dev, &["stripe", "--count", "150", "--bad-signature"]);
    let paypal = send(&dev, &["paypal"]);
    let event_id = paypal["events"][0]["eventId"]
        .as_str()
        .unwrap_or_else(|| panic!("the event sent: {paypal}"))
        .to_owned();
    dev.wait_until_drained(Duration::from_secs(60));
    let receives = || -> Vec<i64> {
        let db = dev.database();
        let mut statement = db
            .prepare("SELECT receive_count FROM messages WHERE queue = 'dlq' ORDER BY seq")
            .unwrap();
        statement
            .query_map([], |row| row.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let before = receives();
    assert_eq!(before.len(), 151);

    let (code, stdout, stderr) = local_command(&dev, &["trace", &event_id, "--output", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let traced: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(traced["verdict"]["kind"], "dead-lettered", "{traced:#}");
    assert_eq!(traced["deadLettersRead"], 151);
    assert_eq!(traced["deadLettersWhole"], true);
    for _ in 0..3 {
        let (code, stdout, _) = local_command(&dev, &["dlq", "peek", "--output", "json"]);
        assert_eq!(code, 0);
        let peeked: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(peeked["readsAreReceives"], false);
    }
    assert_eq!(
        receives(),
        before,
        "a look is not a receive on the local stage"
    );
}

/// Two redrives of one stage at once share the dead letters as two SQS readers do: each moves
/// what it received, together they move every one once, and each report tells the truth.
#[test]
fn two_redrives_at_once_move_every_dead_letter_once_between_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut dev = Dev::start(&binary(), &dir.path().join("local"), None);
    send(&dev, &["stripe", "--count", "60", "--bad-signature"]);
    dev.wait_until_drained(Duration::from_secs(60));
    dev.kill9(); // no processor: the moved copies stay in the webhook queue to be counted
    let (first, second) = (paced_redrive(&dev, "30"), paced_redrive(&dev, "30"));
    let mut moved = 0;
    for child in [first, second] {
        let output = child.wait_with_output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(8),
            "no processor runs: the moved webhooks are pending, not recorded: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        moved += report["moved"].as_u64().unwrap();
    }
    assert_eq!(moved, 60, "every dead letter moved once, between them");
    let (queued, _) = dev.backlog();
    assert_eq!(
        queued, 60,
        "all 60 are in the webhook queue, none twice, none lost"
    );
    assert!(dev.dead_letters().is_empty());
}

/// A redrive of the local stage at `rate` a second, its stdout and stderr piped.
fn paced_redrive(dev: &Dev, rate: &str) -> std::process::Child {
    Command::new(binary())
        .args([
            "dlq", "redrive", "--stage", "local", "--yes", "--rate", rate, "--wait", "0",
            "--output", "json",
        ])
        .env("MGRID_LOCAL_DIR", &dev.data_dir)
        .env_remove("MGRID_STAGE")
        .env_remove("MGRID_OUTPUT")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run mgrid")
}

fn sigint(child: &std::process::Child) {
    let pid = i32::try_from(child.id()).expect("a pid");
    // SAFETY: kill(2) on a child this test spawned and has not reaped.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
}

/// Ctrl-C during a redrive is heard at once: the run says so on its own line, takes no new
/// batch, finishes the one in hand within seconds and exits 130, every webhook in one queue or
/// the other. A second Ctrl-C aborts at once, saying what may now be in both.
#[test]
fn ctrl_c_during_a_redrive_is_acknowledged_and_the_run_ends_within_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let mut dev = Dev::start(&binary(), &dir.path().join("local"), None);
    send(&dev, &["stripe", "--count", "80", "--bad-signature"]);
    dev.wait_until_drained(Duration::from_secs(60));
    dev.kill9(); // no processor: the moved copies stay in the webhook queue to be counted

    // 10 a second: after 2 s about 20 are moved and 60 wait.
    let child = paced_redrive(&dev, "10");
    std::thread::sleep(Duration::from_secs(2));
    let interrupted_at = std::time::Instant::now();
    sigint(&child);
    let output = child.wait_with_output().unwrap();
    let took = interrupted_at.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(took < Duration::from_secs(3), "it took {took:?} to stop");
    assert!(
        stderr.contains(
            "stopping: no new batches; finishing the ones in hand (Ctrl-C again to abort them)\n"
        ),
        "{stderr}"
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["interrupted"], true, "{report}");
    let moved = report["moved"].as_u64().unwrap();
    assert!((1..80).contains(&moved), "{report}");
    assert_eq!(
        report["perSecond"]
            .as_f64()
            .map(|r| (r * 10.0).fract() == 0.0),
        Some(true),
        "the rate is rounded: {report}"
    );
    let (queued, _) = dev.backlog();
    let dead: usize = dev.dead_letters().values().sum();
    assert_eq!(
        queued as u64, moved,
        "what was moved is on the webhook queue"
    );
    assert_eq!(queued as usize + dead, 80, "none lost, none twice");

    // A second Ctrl-C does not wait for the batch in hand: here one stuck on the local
    // database, which the test locks mid-run.
    let child = paced_redrive(&dev, "10");
    std::thread::sleep(Duration::from_millis(1500));
    let lock = dev.database();
    lock.execute_batch("BEGIN EXCLUSIVE").unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    sigint(&child);
    std::thread::sleep(Duration::from_millis(500));
    let interrupted_at = std::time::Instant::now();
    sigint(&child);
    let output = child.wait_with_output().unwrap();
    let took = interrupted_at.elapsed();
    lock.execute_batch("ROLLBACK").unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(took < Duration::from_secs(2), "it took {took:?}: {stderr}");
    assert!(
        stderr.contains("aborted: the webhooks being moved may now be in both queues"),
        "{stderr}"
    );
    // At worst in both queues, never in neither.
    let (queued, _) = dev.backlog();
    let dead: usize = dev.dead_letters().values().sum();
    assert!(queued as usize + dead >= 80, "{queued} queued, {dead} dead");
}

/// An operator command against the local stage; its exit code, stdout and stderr.
fn local_command(dev: &Dev, args: &[&str]) -> (i32, String, String) {
    support::local::local_command(&binary(), &dev.data_dir, args)
}

#[test]
fn local_keys_are_listed_and_rotated_with_an_overlap_like_deployed_ones() {
    let dir = tempfile::tempdir().unwrap();
    let dev = Dev::start(&binary(), &dir.path().join("local"), None);
    let old_key = dev.api_key(Provider::Paypal);

    let (code, listed, stderr) = local_command(&dev, &["keys", "list", "--output", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let listed: serde_json::Value = serde_json::from_str(&listed).unwrap();
    let paypal = &listed["providers"][1];
    assert_eq!(paypal["provider"], "paypal");
    assert!(paypal["apiKey"]["currentKeyId"].is_string());
    assert!(
        !listed.to_string().contains(old_key.expose()),
        "list never shows a key"
    );

    let (code, shown, stderr) = local_command(&dev, &["keys", "rotate", "paypal", "--grace", "1h"]);
    assert_eq!(code, 0, "{stderr}");
    let new_key = dev.api_key(Provider::Paypal);
    assert_ne!(new_key.expose(), old_key.expose());
    assert!(
        shown.contains(new_key.expose()),
        "the new key is shown once: {shown}"
    );
    assert!(
        shown.contains(&format!("{}/webhook/paypal?key=", dev.url)),
        "{shown}"
    );

    let (_, listed, _) = local_command(&dev, &["keys", "list", "--output", "json"]);
    let listed: serde_json::Value = serde_json::from_str(&listed).unwrap();
    let paypal = &listed["providers"][1]["apiKey"];
    assert!(paypal["previousKeyId"].is_string(), "{paypal}");
    assert!(paypal["previousAcceptedUntil"].is_string(), "{paypal}");
    // The old key still opens the door during the overlap.
    let url = format!("{}/webhook/paypal", dev.url);
    let old = vec![("x-api-key", old_key.expose().to_owned())];
    assert_eq!(post(&url, &old, "{}"), Some(200));
}

#[test]
fn local_replay_sends_the_archived_window_again_and_the_ledger_absorbs_it() {
    let dir = tempfile::tempdir().unwrap();
    let dev = Dev::start(&binary(), &dir.path().join("local"), None);
    send(&dev, &["stripe", "--count", "10"]);
    dev.wait_until_drained(Duration::from_secs(60));
    assert_eq!(archived_files(&dev.data_dir).len(), 10);

    let replay_missing = || {
        let (code, report, stderr) = local_command(
            &dev,
            &[
                "replay",
                "--from",
                "1h ago",
                "--only-missing",
                "--output",
                "json",
            ],
        );
        assert_eq!(code, 0, "{stderr}");
        serde_json::from_str::<serde_json::Value>(&report).unwrap()
    };
    let missing = replay_missing();
    assert_eq!(missing["read"], 10);
    assert_eq!(missing["skippedPresent"], 10, "all ten are in the ledger");
    assert_eq!(missing["sent"], 0);

    let (code, replayed, stderr) =
        local_command(&dev, &["replay", "--from", "1h ago", "--output", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let replayed: serde_json::Value = serde_json::from_str(&replayed).unwrap();
    assert_eq!(replayed["sent"], 10);
    // Back through the processor: each finds its transaction already recorded.
    assert_eq!(replayed["verdicts"]["duplicate"], 10, "{replayed}");
    dev.wait_until_drained(Duration::from_secs(60));
    let ledger = dev.ledger();
    assert_eq!(ledger.len(), 10);
    assert!(ledger.values().all(|rows| *rows == 1));
    assert!(dev.dead_letters().is_empty(), "{:?}", dev.dead_letters());

    // Four lost from the ledger: the replay of what is missing ends when they are recorded.
    let lost: Vec<String> = ledger.keys().take(4).cloned().collect();
    for id in &lost {
        dev.database()
            .execute("DELETE FROM ledger WHERE transaction_id = ?1", [id])
            .unwrap();
    }
    let restored = replay_missing();
    assert_eq!(restored["sent"], 4, "{restored}");
    assert_eq!(restored["verdicts"]["recorded"], 4, "{restored}");
    assert!(restored["unsettled"].as_array().unwrap().is_empty());
    assert_eq!(dev.ledger().len(), 10);
}

#[test]
fn local_metrics_move_with_the_traffic_on_the_dashboards_rows() {
    let dir = tempfile::tempdir().unwrap();
    let dev = Dev::start(&binary(), &dir.path().join("local"), None);
    send(&dev, &["stripe", "--count", "30"]);
    send(&dev, &["stripe", "--count", "2", "--bad-signature"]);
    dev.wait_until_drained(Duration::from_secs(60));
    // mgrid dev writes its counts every two seconds.
    std::thread::sleep(Duration::from_millis(2500));

    let (code, snapshot, stderr) = local_command(
        &dev,
        &[
            "metrics", "tail", "--once", "--output", "json", "--window", "15m",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let snapshot: serde_json::Value = serde_json::from_str(&snapshot).unwrap();
    let row = |key: &str| support::local::series_row(&snapshot, key).clone();
    let total = |key: &str| -> f64 {
        row(key)["points"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["value"].as_f64().unwrap())
            .sum()
    };
    assert_eq!(total("received"), 32.0, "{:#}", row("received"));
    assert_eq!(total("transactions"), 30.0, "{:#}", row("transactions"));
    assert!(total("invocations") >= 1.0);
    // A depth and a percentile are read from the minute still filling ("now"), or, when the
    // minute turned since, from the last complete one.
    let reading = |key: &str| {
        let row = row(key);
        row["now"]["value"].as_f64().or(row["latest"].as_f64())
    };
    assert_eq!(reading("dlq_depth"), Some(2.0), "{:#}", row("dlq_depth"));
    // Past its alarm's level; the local stage has no alarms to fire, so no row says ALARM.
    assert_eq!(row("dlq_depth")["level"], "warning");
    assert!(reading("latency_p99").is_some_and(|ms| ms > 0.0));
    assert!(
        !snapshot["series"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["key"] == "failed_bad_signature"),
        "a breakdown is read only for its drill-down"
    );
    assert_eq!(snapshot["liveness"]["state"], "answering");
    assert_eq!(row("archive_pipe")["level"], "unavailable");
    assert!(
        row("archive_pipe")["note"]
            .as_str()
            .unwrap()
            .contains("pipe")
    );
}

#[test]
fn local_status_says_whether_dev_runs_and_what_its_data_holds() {
    let dir = tempfile::tempdir().unwrap();
    let mut dev = Dev::start(&binary(), &dir.path().join("local"), None);
    send(&dev, &["stripe", "--count", "4"]);
    send(&dev, &["stripe", "--bad-signature"]);
    dev.wait_until_drained(Duration::from_secs(60));

    let (code, status, stderr) = local_command(&dev, &["status", "--output", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(status["backend"], "local");
    assert_eq!(status["local"]["running"], true);
    assert_eq!(status["local"]["endpoint"], dev.url.as_str());
    assert_eq!(status["local"]["transactions"], 4);
    assert_eq!(status["deadLetterQueue"]["waiting"], 1);

    dev.interrupt();
    let (code, text, _) = local_command(&dev, &["status"]);
    assert_eq!(code, 0);
    assert!(text.contains("not running"), "{text}");
}

#[test]
fn vendor_notifications_are_posted_and_retried_until_the_url_takes_them() {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/vendors", listener.local_addr().unwrap());
    let received = Arc::new(Mutex::new(Vec::<serde_json::Value>::new()));
    let requests = Arc::new(AtomicUsize::new(0));
    {
        let (received, requests) = (received.clone(), requests.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = value.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                // The first delivery fails: the notification must come again.
                let status = if requests.fetch_add(1, Ordering::SeqCst) == 0 {
                    "503 Service Unavailable"
                } else {
                    received
                        .lock()
                        .unwrap()
                        .push(serde_json::from_slice(&body).unwrap());
                    "200 OK"
                };
                let mut stream = stream;
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
            }
        });
    }
    let dir = tempfile::tempdir().unwrap();
    let dev = Dev::start_with(
        &binary(),
        &dir.path().join("local"),
        None,
        &["--notify-url", &url],
    );
    send(
        &dev,
        &[
            "stripe",
            "--vendor",
            "acme",
            "--amount",
            "4200",
            "--currency",
            "eur",
        ],
    );
    dev.wait_until_drained(Duration::from_secs(30));

    let received = received.lock().unwrap().clone();
    assert_eq!(received.len(), 1, "{received:?}");
    assert!(
        requests.load(Ordering::SeqCst) >= 2,
        "the failed delivery was retried"
    );
    let notification = &received[0];
    assert_eq!(notification["vendorId"], "acme");
    assert_eq!(notification["amount"], "4200");
    assert_eq!(notification["currency"], "EUR");
    assert_eq!(notification["eventType"], "payment_intent.succeeded");
    assert!(
        notification["transactionId"]
            .as_str()
            .unwrap()
            .starts_with("stripe:evt_")
    );
}

/// `mgrid logs` and `mgrid trace` on the local stage, against what `mgrid dev` did: a recorded
/// webhook, a badly signed one, and one that never arrived; and a follow that picks up a
/// decision made after it started.
#[test]
fn local_logs_and_traces_follow_each_webhook_to_its_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let dev = Dev::start(&binary(), &dir.path().join("local"), None);
    let url = format!("{}/webhook/stripe", dev.url);
    let (_, headers, text) = dev.stripe_delivery("good1");
    assert_eq!(post(&url, &headers, &text), Some(200));
    let wrong = mgrid_contract::Secret::new("whsec_not_the_stages".into());
    let (_, headers, text) =
        signed_stripe_delivery(&dev.api_key(Provider::Stripe), &wrong, "forged1");
    assert_eq!(post(&url, &headers, &text), Some(200));
    dev.wait_until_drained(Duration::from_secs(60));

    let json_lines = |stdout: &str| -> Vec<serde_json::Value> {
        stdout
            .lines()
            .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
            .collect()
    };
    let (code, stdout, stderr) = local_command(&dev, &["logs", "--output", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let lines = json_lines(&stdout);
    // The authorizer's lines carry the request, not the event (it never sees the body).
    let authorizer: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["source"] == "authorizer")
        .collect();
    assert_eq!(authorizer.len(), 2, "{stdout}");
    assert!(
        authorizer.iter().all(
            |l| l["decision"]["outcome"] == "allowed" && l["decision"]["requestId"].is_string()
        )
    );
    let mut outcomes: Vec<(String, String, String)> = lines
        .iter()
        .filter(|l| l["source"] != "authorizer")
        .map(|l| {
            (
                l["source"].as_str().unwrap().to_owned(),
                l["decision"]["eventId"].as_str().unwrap().to_owned(),
                l["decision"]["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    // The legs' lines follow the recording, perhaps after the forged one's.
    outcomes.sort();
    let owned = |a: &str, b: &str, c: &str| (a.to_owned(), b.to_owned(), c.to_owned());
    assert_eq!(
        outcomes,
        [
            owned("archiver", "evt_good1", "archived"),
            owned("notifier", "evt_good1", "notified"),
            owned("processor", "evt_forged1", "dead-lettered"),
            owned("processor", "evt_good1", "recorded"),
        ]
    );
    assert!(
        !stdout.contains(dev.signing_secret().expose()) && !stdout.contains("v1="),
        "no secret or signature in a log line"
    );
    let (_, stdout, _) = local_command(&dev, &["logs", "--output", "json", "--level", "warn"]);
    assert_eq!(json_lines(&stdout).len(), 1);
    let (_, stdout, _) = local_command(
        &dev,
        &["logs", "--output", "json", "--event-id", "evt_good1"],
    );
    let sources: Vec<String> = json_lines(&stdout)
        .iter()
        .map(|l| l["source"].as_str().unwrap().to_owned())
        .collect();
    // Recorded first; the two legs after the ledger run apart, in either order.
    assert_eq!(sources.first().map(String::as_str), Some("processor"));
    let mut legs = sources[1..].to_vec();
    legs.sort();
    assert_eq!(legs, ["archiver", "notifier"], "{sources:?}");

    // Each webhook's verdict, by the same rules as on AWS.
    let trace = |event: &str| {
        let (code, stdout, stderr) = local_command(&dev, &["trace", event, "--output", "json"]);
        (
            code,
            serde_json::from_str::<serde_json::Value>(&stdout)
                .unwrap_or_else(|e| panic!("{e}: {stdout}{stderr}")),
        )
    };
    let (code, good) = trace("evt_good1");
    assert_eq!(code, 0);
    // Drained means archived too.
    assert_eq!(good["verdict"]["kind"], "recorded-and-archived", "{good:#}");
    assert_eq!(good["ledger"][0]["vendorId"], "vendor-7");
    assert_eq!(
        good["whereabouts"]["notification"]["state"], "sent",
        "{good:#}"
    );
    assert_eq!(good["whereabouts"]["queueRead"], true);
    let (code, forged) = trace("evt_forged1");
    assert_eq!(code, 0);
    assert_eq!(forged["verdict"]["kind"], "dead-lettered", "{forged:#}");
    assert!(
        forged["verdict"]["next"]
            .as_str()
            .unwrap()
            .contains("mgrid dlq redrive --stage local --provider stripe --event-id evt_forged1")
    );
    let (code, nowhere) = trace("evt_never_sent");
    assert_eq!(code, 5, "not found exits 5");
    assert_eq!(nowhere["verdict"]["kind"], "not-found");
    assert_eq!(
        dev.dead_letters().get("bad-signature"),
        Some(&1),
        "the trace consumed nothing"
    );

    // The redrive the verdict names takes exactly that webhook.
    let (code, stdout, stderr) = local_command(
        &dev,
        &[
            "dlq",
            "redrive",
            "--event-id",
            "evt_forged1",
            "--dry-run",
            "--output",
            "json",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let plan: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let would_move = plan["wouldMove"].as_array().unwrap();
    assert_eq!(would_move.len(), 1, "{plan:#}");
    assert_eq!(would_move[0]["eventId"], "evt_forged1");

    // A follow prints what is decided after it started, once.
    let mut follow = Command::new(binary())
        .args(["logs", "--stage", "local", "--follow", "--output", "json"])
        .env("MGRID_LOCAL_DIR", &dev.data_dir)
        .env_remove("MGRID_STAGE")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let seen = support::stdout_lines(&mut follow);
    // The six earlier lines first (two authorizer, two processor, an archiver and a notifier
    // line).
    let mut shown = Vec::new();
    for _ in 0..6 {
        shown.push(
            seen.recv_timeout(Duration::from_secs(20))
                .expect("the earlier lines"),
        );
    }
    let (_, headers, text) = dev.stripe_delivery("late1");
    assert_eq!(post(&url, &headers, &text), Some(200));
    // Then the new webhook's four: allowed, recorded, archived, notified; and nothing twice.
    for _ in 0..4 {
        shown.push(
            seen.recv_timeout(Duration::from_secs(20))
                .expect("the follow shows the decisions made after it started"),
        );
    }
    let late = &shown[6..];
    assert!(
        late.iter().filter(|l| l.contains("evt_late1")).count() == 3
            && late.iter().any(|l| l.contains("\"recorded\""))
            && late.iter().any(|l| l.contains("\"archived\""))
            && late.iter().any(|l| l.contains("\"notified\""))
            && late.iter().any(|l| l.contains("\"allowed\"")),
        "{late:?}"
    );
    assert!(
        seen.recv_timeout(Duration::from_secs(2)).is_err(),
        "nothing more"
    );
    let distinct: BTreeSet<&String> = shown.iter().collect();
    assert_eq!(distinct.len(), shown.len(), "nothing twice");
    follow.kill().unwrap();
    let _ = follow.wait();
}
