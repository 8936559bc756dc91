//! What a new operator meets on the local stage, each case reproduced first (operator safety,
//! third pass): a purge that clears only the leftovers named, a send that names the reason the
//! stage will give, the 3 a.m. case (a provider signing with a secret the stage does not know)
//! rehearsed end to end with mgrid alone, a redrive that names each webhook that failed again, a
//! heal followed to its verdict, and a run that kept no file said plainly. Every command mgrid
//! prints for the operator parses as printed (`support::local::local_command` checks each).

use crate::support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::local::{Dev, assert_printed_commands_parse, local_command};

/// The mgrid under test; MGRID_TEST_BINARY runs these tests against another build (an older
/// one, to see each test fail where the fix is missing).
fn binary() -> PathBuf {
    std::env::var_os("MGRID_TEST_BINARY")
        .map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_mgrid")), PathBuf::from)
}

/// `mgrid <args> --stage local` with `input` on stdin: exit code, stdout, stderr.
fn with_input(data_dir: &Path, args: &[&str], input: &str) -> (i32, String, String) {
    support::local::local_command_with_input(&binary(), data_dir, args, Some(input))
}

fn run(dev: &Dev, args: &[&str]) -> (i32, String, String) {
    local_command(&binary(), &dev.data_dir, args)
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "{what} within 60 s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_filtered_purge_deletes_only_the_leftovers_it_names() {
    let dir = tempfile::tempdir().unwrap();
    let dev = Dev::start(&binary(), dir.path(), None);
    let (code, stdout, stderr) = run(&dev, &["send", "stripe", "--bad-signature", "--count", "3"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("dead-letters them as bad-signature"),
        "{stdout}"
    );
    // PayPal on the local stage: no webhook id is set, so that is the reason the stage gives.
    let (code, stdout, stderr) = run(&dev, &["send", "paypal", "--count", "2"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("dead-letters them as no-signing-secret"),
        "{stdout}"
    );
    wait_for("five dead letters", || {
        dev.dead_letters().values().sum::<usize>() == 5
    });
    assert_eq!(dev.dead_letters()["no-signing-secret"], 2, "as send said");

    let (code, stdout, stderr) = run(
        &dev,
        &[
            "dlq",
            "purge",
            "--reason",
            "bad-signature",
            "--output",
            "json",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        (report["purged"].as_u64(), report["left"].as_u64()),
        (Some(3), Some(2))
    );
    assert_eq!(
        dev.dead_letters(),
        [("no-signing-secret".to_owned(), 2)].into(),
        "the others stay"
    );
}

#[test]
fn the_3am_case_is_rehearsed_with_mgrid_alone() {
    let dir = tempfile::tempdir().unwrap();
    let mut dev = Dev::start(&binary(), dir.path(), None);
    // Stripe rolled the endpoint's secret; the stage still has the old one.
    let rolled = "whsec_example-rolled-at-3am\n";
    let (code, stdout, stderr) = with_input(
        &dev.data_dir,
        &["send", "stripe", "--signing-secret-stdin", "--count", "2"],
        rolled,
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("dead-letters them as bad-signature"),
        "{stdout}"
    );
    assert!(!stdout.contains("rolled-at-3am") && !stderr.contains("rolled-at-3am"));
    wait_for("two dead letters", || {
        dev.dead_letters().get("bad-signature") == Some(&2)
    });
    // The fix: the stage learns the new secret, and the dead letters go round again.
    let (code, _, stderr) = with_input(
        &dev.data_dir,
        &["keys", "set-signing-secret", "stripe"],
        rolled,
    );
    assert_eq!(code, 0, "{stderr}");
    // A redrive waits out the functions' 60 s key cache after a secret changes (dev.rs tests
    // that wait); a restarted stage reads the new secret fresh, so this one goes at once.
    dev.interrupt();
    let dev = Dev::start(&binary(), dir.path(), None);
    let (code, stdout, stderr) = run(&dev, &["dlq", "redrive", "--wait", "30s"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("every moved webhook is in the ledger"),
        "{stdout}"
    );
    assert_eq!(dev.ledger().len(), 2);
}

#[test]
fn a_redrive_that_fails_again_names_each_webhook_and_a_run_without_a_file_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let dev = Dev::start(&binary(), dir.path(), None);
    let (code, stdout, stderr) = run(
        &dev,
        &[
            "send",
            "stripe",
            "--bad-signature",
            "--count",
            "3",
            "--output",
            "json",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let sent: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    wait_for("three dead letters", || {
        dev.dead_letters().get("bad-signature") == Some(&3)
    });
    let (code, stdout, stderr) = run(&dev, &["dlq", "redrive", "--wait", "30s"]);
    assert_eq!(code, 7, "{stdout}\n{stderr}");
    for event in sent["events"].as_array().unwrap() {
        let id = event["eventId"].as_str().unwrap();
        assert!(
            stdout.contains(&format!("  {id} (bad-signature)")),
            "{id} is not named:\n{stdout}"
        );
    }
    let (code, _, stderr) = run(&dev, &["dlq", "redrive", "--status", "0123456789abcdef"]);
    assert_eq!(code, 5, "{stderr}");
    assert!(
        stderr.contains("keeps its run only when some of its webhooks were still pending"),
        "{stderr}"
    );
}

#[test]
fn a_heal_follows_each_resent_copy_to_its_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let dev = Dev::start(&binary(), dir.path(), None);
    // PayPal's events cannot verify on the local stage (no webhook id, and only PayPal signs):
    // a resend is dead-lettered, and the heal must say so, not "resent".
    let (code, _, stderr) = run(&dev, &["send", "paypal", "--drop-delivery", "--count", "2"]);
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) = run(
        &dev,
        &[
            "reconcile",
            "--provider",
            "paypal",
            "--heal",
            "--wait",
            "30s",
            "--output",
            "json",
        ],
    );
    assert_eq!(code, 1, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let missing = report["providers"][0]["missing"].as_array().unwrap();
    assert_eq!(missing.len(), 2, "{report:#}");
    for event in missing {
        assert_eq!(
            event["healed"],
            serde_json::json!({"outcome": "failed-again", "detail": "no-signing-secret"}),
            "{report:#}"
        );
    }
}

#[test]
fn every_command_mgrid_prints_parses_as_printed() {
    // The reader itself: lines that would fail, and lines that parse.
    let refused = std::panic::catch_unwind(|| {
        assert_printed_commands_parse("next: mgrid keys set-signing-secret --stage local");
    });
    assert!(refused.is_err(), "a command without its provider passed");
    assert_printed_commands_parse(
        "next: mgrid reconcile --stage local --provider stripe\nsee `mgrid dlq peek --stage prod --reason bad-signature`, then",
    );
    assert_eq!(
        support::local::printed_commands(
            "  next: mgrid dlq redrive --stage prod --reason bad-signature (fix it first)"
        ),
        ["mgrid dlq redrive --stage prod --reason bad-signature"]
    );
}

#[test]
fn a_dead_letter_load_shows_in_the_failures_and_once_reads_its_rate_from_the_first_refresh() {
    let dir = tempfile::tempdir().unwrap();
    let dev = Dev::start(&binary(), dir.path(), None);
    // Two PayPal webhooks a second for 24 s, every one dead-lettered (no-signing-secret).
    let mut load = Command::new(binary())
        .args([
            "send", "paypal", "--count", "48", "--rate", "2", "--stage", "local",
        ])
        .env("MGRID_LOCAL_DIR", &dev.data_dir)
        .env_remove("MGRID_STAGE")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the load");
    std::thread::sleep(Duration::from_secs(14));
    let (code, stdout, stderr) = run(
        &dev,
        &[
            "metrics", "tail", "--once", "--output", "json", "--window", "15m",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let snapshot: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let row = |key: &str| support::local::series_row(&snapshot, key).clone();
    let dead = row("dead_lettered");
    assert_eq!(dead["panel"], "failures", "{dead:#}");
    for key in ["dead_lettered", "received"] {
        let now = row(key)["now"]["value"].as_f64().unwrap_or(-1.0);
        eprintln!("{key}: {now}/s on the first refresh, for 2/s sent");
        assert!(
            (1.6..=2.4).contains(&now),
            "{key}: {now}/s on the first refresh for 2/s: {:#}",
            row(key)
        );
    }
    let (_, text, _) = run(&dev, &["metrics", "tail", "--once", "--window", "15m"]);
    assert!(
        text.lines()
            .any(|l| l.trim_start().starts_with("dead-lettered")),
        "--once has no dead-lettered row:\n{text}"
    );
    assert!(load.wait().expect("the load ends").success());
    // Fifteen seconds after the load, the rate right now is zero, not the minute's average.
    std::thread::sleep(Duration::from_secs(15));
    let (_, stdout, _) = run(
        &dev,
        &[
            "metrics", "tail", "--once", "--output", "json", "--window", "15m",
        ],
    );
    let snapshot: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let received = support::local::series_row(&snapshot, "received");
    assert_eq!(received["now"]["value"].as_f64(), Some(0.0), "{received:#}");
}
