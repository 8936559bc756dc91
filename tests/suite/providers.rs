//! The provider's side, end to end on the local stage: `mgrid dev` runs a stand-in of Stripe's
//! and PayPal's webhook-endpoint APIs (validated against their published OpenAPI documents in
//! the lib tests of `providers::client`), registered with the local stage's URL and key as an
//! operator would. `mgrid doctor` reads it; `keys rotate --update-provider` writes into it and is
//! killed midway; `keys revoke-previous` refuses while it carries the old key; the stand-in
//! delivers events as the provider does, through the URL it holds. One test runs against the AWS
//! emulator: a deployed stage without provider tokens.

use crate::support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mgrid_contract::{Provider, StageName};
use support::local::{Dev, get_with_token, local_command, post_for, stripe_payment};
use support::{Emulator, deploy_stage, run, run_with_input};

fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_mgrid"))
}

fn local() -> StageName {
    "local".parse().unwrap()
}

/// The Stripe token `mgrid dev` stored for the local stage (the stand-in accepts it).
fn stripe_token(dev: &Dev) -> String {
    dev.secret(&local().provider_token_ring(Provider::Stripe))
        .expose()
        .to_owned()
}

/// A call to the stand-in's Stripe API with the local stage's token; status and JSON body.
fn stripe_api(dev: &Dev, path: &str, form: &str) -> (u16, serde_json::Value) {
    let (status, body) = post_for(
        &format!("{}/stripe/v1/{path}", dev.stand_in_url()),
        &[("authorization", format!("Bearer {}", stripe_token(dev)))],
        form,
    )
    .expect("the stand-in answers");
    (status, serde_json::from_str(&body).unwrap_or_default())
}

/// The one Stripe endpoint the stand-in holds.
fn stripe_endpoint(dev: &Dev) -> serde_json::Value {
    let (status, body) = get_with_token(
        &format!("{}/stripe/v1/webhook_endpoints", dev.stand_in_url()),
        &stripe_token(dev),
    );
    assert_eq!(status, 200, "{body}");
    let data = body["data"].as_array().expect("a list").clone();
    assert_eq!(data.len(), 1, "{body:#}");
    data[0].clone()
}

/// The key the Stripe endpoint's URL carries.
fn endpoint_key(dev: &Dev) -> String {
    let endpoint = stripe_endpoint(dev);
    let url = endpoint["url"].as_str().unwrap().to_owned();
    url.split_once("?key=")
        .expect("a key in the URL")
        .1
        .to_owned()
}

/// Stripe, as the provider: delivers a payment event through the URL and secret it holds; the
/// statuses its endpoints answered.
fn deliver(dev: &Dev, event: &str) -> Vec<u64> {
    let (_, text, _) = stripe_payment(event);
    let (status, answer) = post_for(
        &format!("{}/_standin/stripe/deliver", dev.stand_in_url()),
        &[dev.standin_control()],
        &text,
    )
    .expect("the stand-in answers");
    assert_eq!(status, 200, "{answer}");
    let answer: serde_json::Value = serde_json::from_str(&answer).unwrap();
    answer["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["status"].as_u64().unwrap())
        .collect()
}

fn wait_for_ledger(dev: &Dev, transaction: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !dev.ledger().contains_key(transaction) {
        assert!(
            Instant::now() < deadline,
            "{transaction} never reached the ledger"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn doctor(dir: &Path) -> (i32, serde_json::Value, String) {
    let (code, stdout, stderr) = local_command(&binary(), dir, &["doctor", "--output", "json"]);
    let report = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}\n{stderr}"));
    (code, report, stderr)
}

/// The findings of a doctor report that are not ok (or a warning), as (provider, check, said).
fn faults(report: &serde_json::Value) -> Vec<(String, String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["verdict"] == "problem" || f["verdict"] == "unchecked")
        .map(|f| {
            (
                f["provider"].as_str().unwrap().to_owned(),
                f["check"].as_str().unwrap().to_owned(),
                f["said"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn a_fresh_local_stage_is_healthy_as_the_providers_see_it_and_shows_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let dev = Dev::start(&binary(), dir.path(), None);
    let (code, report, stderr) = doctor(dir.path());
    assert_eq!(code, 0, "{report:#}\n{stderr}");
    assert!(faults(&report).is_empty(), "{report:#}");
    let (code, text, stderr) = local_command(&binary(), dir.path(), &["doctor", "-vv"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        text.contains("key=<k"),
        "the key is shown by its id: {text}"
    );
    let secrets = [
        dev.api_key(Provider::Stripe).expose().to_owned(),
        dev.api_key(Provider::Paypal).expose().to_owned(),
        stripe_token(&dev),
        dev.secret(&local().provider_token_ring(Provider::Paypal))
            .expose()
            .to_owned(),
    ];
    let (_, list, _) = local_command(&binary(), dir.path(), &["keys", "list", "--output", "json"]);
    let logs = std::fs::read_to_string(dir.path().join("logs/pipeline.log")).unwrap_or_default();
    for shown in [&text, &stderr, &list, &logs, &report.to_string()] {
        for secret in &secrets {
            // PayPal's token is `<client id>:<secret>`: neither half may show.
            for part in secret.split(':') {
                assert!(!shown.contains(part), "a secret was shown:\n{shown}");
            }
        }
    }
    assert!(list.contains("providerToken"), "{list}");
}

#[test]
fn each_provider_side_fault_gives_one_clear_doctor_line() {
    let dir = tempfile::tempdir().unwrap();
    let dev = Dev::start(&binary(), dir.path(), None);
    let id = stripe_endpoint(&dev)["id"].as_str().unwrap().to_owned();
    let path = format!("webhook_endpoints/{id}");
    let one_fault = |check: &str, words: &str| {
        let (code, report, _) = doctor(dir.path());
        let faults = faults(&report);
        assert_eq!(code, 1, "{report:#}");
        assert_eq!(faults.len(), 1, "{faults:#?}");
        assert_eq!(
            (faults[0].0.as_str(), faults[0].1.as_str()),
            ("stripe", check)
        );
        assert!(faults[0].2.contains(words), "{}", faults[0].2);
    };

    assert_eq!(stripe_api(&dev, &path, "disabled=true").0, 200);
    one_fault("enabled", "status disabled");
    stripe_api(&dev, &path, "disabled=false");

    let url = stripe_endpoint(&dev)["url"].as_str().unwrap().to_owned();
    let old_stage = url.replace("127.0.0.1", "localhost");
    let (status, _) = stripe_api(
        &dev,
        &path,
        &format!("url={}", mgrid_contract::form::encode(&old_stage)),
    );
    assert_eq!(status, 200);
    one_fault("endpoint", "localhost");
    stripe_api(
        &dev,
        &path,
        &format!("url={}", mgrid_contract::form::encode(&url)),
    );

    stripe_api(&dev, &path, "enabled_events[]=payment_intent.succeeded");
    one_fault("events", "charge.refunded");
    let all: Vec<String> = Provider::Stripe
        .payment_event_types()
        .iter()
        .map(|e| format!("enabled_events[]={e}"))
        .collect();
    stripe_api(&dev, &path, &all.join("&"));

    // A new endpoint at an API version the processor does not read, in the old one's place.
    delete_stripe_endpoint(&dev, &id);
    let (status, created) = stripe_api(
        &dev,
        "webhook_endpoints",
        &format!(
            "url={}&api_version=2017-05-25&{}",
            mgrid_contract::form::encode(&url),
            all.join("&")
        ),
    );
    assert_eq!(status, 200, "{created}");
    one_fault("api-version", "2017-05-25");
}

fn delete_stripe_endpoint(dev: &Dev, id: &str) {
    use std::io::{Read, Write};
    let base = dev.stand_in_url();
    let host = base.strip_prefix("http://").unwrap();
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    write!(
        stream,
        "DELETE /stripe/v1/webhook_endpoints/{id} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
        stripe_token(dev)
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
}

#[test]
fn a_rotation_without_the_provider_cannot_be_revoked_until_the_endpoint_has_the_new_key() {
    let dir = tempfile::tempdir().unwrap();
    let dev = Dev::start(&binary(), dir.path(), None);
    let old = endpoint_key(&dev);
    let (code, _, stderr) = local_command(&binary(), dir.path(), &["keys", "rotate", "stripe"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        endpoint_key(&dev),
        old,
        "the provider was not asked to change"
    );

    let (code, report, _) = doctor(dir.path());
    assert_eq!(code, 0, "a key in its overlap is a warning: {report:#}");
    let key = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == "key" && f["provider"] == "stripe")
        .unwrap();
    assert_eq!(key["verdict"], "warning", "{key:#}");
    assert!(key["said"].as_str().unwrap().contains("previous key"));

    let id = stripe_endpoint(&dev)["id"].as_str().unwrap().to_owned();
    let (code, _, stderr) = local_command(
        &binary(),
        dir.path(),
        &["keys", "revoke-previous", "stripe"],
    );
    assert_eq!(code, 6, "{stderr}");
    assert!(
        stderr.contains(&id) && stderr.contains("--update-provider"),
        "{stderr}"
    );
    assert!(!stderr.contains(&old), "{stderr}");
    // Still accepted: nothing was revoked.
    assert_eq!(deliver(&dev, "keptold"), [200]);

    let (code, _, stderr) = local_command(
        &binary(),
        dir.path(),
        &["keys", "revoke-previous", "stripe", "--force"],
    );
    assert_eq!(code, 0, "{stderr}");
    let (code, report, _) = doctor(dir.path());
    assert_eq!(code, 1);
    assert_eq!(faults(&report)[0].1, "key", "{report:#}");
}

#[test]
fn a_rotation_that_updates_the_provider_is_finished_after_a_kill_and_nothing_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let dev = Dev::start(&binary(), dir.path(), None);
    let before = endpoint_key(&dev);

    // Killed while it waits for the authorizers' caches, after the key is stored.
    let mut rotation = Command::new(binary())
        .args([
            "keys",
            "rotate",
            "stripe",
            "--update-provider",
            "--stage",
            "local",
        ])
        .args(["--yes", "--output-file"])
        .arg(dir.path().join("first-key.txt"))
        .env("MGRID_LOCAL_DIR", dir.path())
        .env_remove("MGRID_STAGE")
        .env_remove("MGRID_OUTPUT")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = rotation.stderr.take().unwrap();
    let mut said = String::new();
    for line in BufReader::new(stderr).lines() {
        let line = line.unwrap();
        said.push_str(&line);
        if line.contains("waiting") {
            break;
        }
    }
    assert!(said.contains("waiting"), "{said}");
    rotation.kill().unwrap();
    rotation.wait().unwrap();
    let stored = dev.api_key(Provider::Stripe);
    assert_ne!(
        stored.expose(),
        before,
        "the key was stored before the wait"
    );
    assert_eq!(
        endpoint_key(&dev),
        before,
        "the provider was not changed yet"
    );
    let first_file = std::fs::read_to_string(dir.path().join("first-key.txt")).unwrap();
    assert!(
        first_file.contains(stored.expose()),
        "the stored key was written out first"
    );

    let (code, _, stderr) = local_command(
        &binary(),
        dir.path(),
        &["keys", "revoke-previous", "stripe"],
    );
    assert_eq!(
        code, 6,
        "the endpoint still carries the previous key: {stderr}"
    );

    let (code, stdout, stderr) = local_command(
        &binary(),
        dir.path(),
        &["keys", "rotate", "stripe", "--update-provider"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("finished an earlier rotation"), "{stdout}");
    assert!(stdout.contains("read back from the provider"), "{stdout}");
    assert_eq!(
        dev.api_key(Provider::Stripe).expose(),
        stored.expose(),
        "no new key was made"
    );
    assert_eq!(endpoint_key(&dev), stored.expose());

    assert_eq!(deliver(&dev, "afterrotation"), [200]);
    wait_for_ledger(&dev, "stripe:evt_afterrotation");
    let (code, _, stderr) = local_command(
        &binary(),
        dir.path(),
        &["keys", "revoke-previous", "stripe"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(deliver(&dev, "afterrevoke"), [200]);
    wait_for_ledger(&dev, "stripe:evt_afterrevoke");
    let (code, report, _) = doctor(dir.path());
    assert_eq!(code, 0, "{report:#}");
    let verdict = |provider: &str, check: &str| {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["provider"] == provider && f["check"] == check)
            .map(|f| f["verdict"].as_str().unwrap().to_owned())
    };
    assert_eq!(verdict("stripe", "key").as_deref(), Some("ok"));
    assert_eq!(
        verdict("stripe", "last-delivery").as_deref(),
        Some("ok"),
        "{report:#}"
    );
    assert_eq!(
        verdict("paypal", "last-delivery").as_deref(),
        Some("warning")
    );
}

#[test]
fn a_provider_token_is_tried_before_it_is_stored_and_never_shown() {
    let dir = tempfile::tempdir().unwrap();
    let dev = Dev::start(&binary(), dir.path(), None);
    let set = |token: &str, extra: &[&str]| {
        let mut command = Command::new(binary());
        command
            .args([
                "keys",
                "set-provider-token",
                "stripe",
                "--stage",
                "local",
                "-vv",
            ])
            .args(extra)
            .env("MGRID_LOCAL_DIR", dir.path())
            .env_remove("MGRID_STAGE")
            .env_remove("MGRID_OUTPUT")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{token}\n").as_bytes())
            .unwrap();
        let output = child.wait_with_output().unwrap();
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let wrong = "rk_test_notthestandinsvalue";
    let (code, stdout, stderr) = set(wrong, &[]);
    assert_eq!(
        code, 4,
        "a refused token is a credentials failure: {stderr}"
    );
    assert!(stderr.contains("not stored"), "{stderr}");
    assert!(!stdout.contains("notthestandin") && !stderr.contains("notthestandin"));
    assert_ne!(stripe_token(&dev), wrong, "nothing was stored");

    let (code, stdout, stderr) = set(wrong, &["--no-check"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stdout.contains("notthestandin") && !stderr.contains("notthestandin"));
    assert_eq!(stripe_token(&dev), wrong);
    let (code, report, _) = doctor(dir.path());
    assert_eq!(code, 1);
    let faults = faults(&report);
    assert_eq!(faults[0].1, "provider-token", "{faults:#?}");
    assert!(faults[0].2.contains("set-provider-token"), "{faults:#?}");
    assert!(!report.to_string().contains("notthestandin"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deployed_stage_without_tokens_says_how_to_set_one_and_changes_nothing() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    deploy_stage(&emulator, dir.path(), "dev");
    let rotated = run(
        &emulator,
        dir.path(),
        &["keys", "rotate", "stripe", "--stage", "dev"],
    );
    assert_eq!(rotated.code, 0, "{}", rotated.stderr);

    let doctor = run(
        &emulator,
        dir.path(),
        &["doctor", "--stage", "dev", "--output", "json"],
    );
    assert_eq!(doctor.code, 1, "{}", doctor.stderr);
    let report = doctor.json();
    let unchecked = faults(&report);
    for provider in ["stripe", "paypal"] {
        assert!(
            unchecked
                .iter()
                .any(|(p, check, _)| p == provider && check == "provider-token"),
            "{unchecked:#?}"
        );
    }
    assert!(
        report
            .to_string()
            .contains("mgrid keys set-provider-token stripe --stage dev")
    );

    let update = run(
        &emulator,
        dir.path(),
        &[
            "keys",
            "rotate",
            "stripe",
            "--stage",
            "dev",
            "--update-provider",
            "--yes",
        ],
    );
    assert_eq!(update.code, 5, "{}", update.stderr);
    assert!(
        update
            .stderr
            .contains("set-provider-token stripe --stage dev"),
        "{}",
        update.stderr
    );
    assert!(
        !update.stdout.contains("?key="),
        "no key was made: {}",
        update.stdout
    );
    let listed = run(
        &emulator,
        dir.path(),
        &["keys", "list", "--stage", "dev", "--output", "json"],
    );
    assert_eq!(
        listed.json()["providers"][0]["apiKey"]["ssmVersion"],
        1,
        "the ring was not written again"
    );

    // With a stand-in named, the token is tried there and stored in SSM; doctor then reads the
    // stand-in's endpoints (which point at the local stage, not at this one).
    let local_dir = tempfile::tempdir().unwrap();
    let dev = Dev::start(&binary(), local_dir.path(), None);
    let base = dev.stand_in_url();
    let set = run_with_input(
        &emulator,
        dir.path(),
        &[
            "keys",
            "set-provider-token",
            "stripe",
            "--stage",
            "dev",
            "--provider-api-base",
            &base,
        ],
        &format!("{}\n", stripe_token(&dev)),
    );
    assert_eq!(set.code, 0, "{}", set.stderr);
    let doctor = run(
        &emulator,
        dir.path(),
        &[
            "doctor",
            "--stage",
            "dev",
            "--provider",
            "stripe",
            "--provider-api-base",
            &base,
            "--output",
            "json",
        ],
    );
    let faults = faults(&doctor.json());
    let checks: Vec<&str> = faults.iter().map(|f| f.1.as_str()).collect();
    // The stage never had a signing secret set: that is a fault of its own.
    assert_eq!(checks, ["endpoint", "signing-secret"], "{faults:#?}");
    assert!(faults[0].2.contains("point at another URL"), "{faults:#?}");
    assert!(!doctor.stdout.contains(&stripe_token(&dev)));

    // A deploy then checks the providers' side too, as warnings: it still succeeds.
    let artifact = support::placeholder_artifact(dir.path());
    let deployed = run(
        &emulator,
        dir.path(),
        &[
            "deploy",
            "--stage",
            "dev",
            "--yes",
            "--artifact",
            artifact.to_str().unwrap(),
            "--provider-api-base",
            &base,
        ],
    );
    assert_eq!(deployed.code, 0, "{}", deployed.stderr);
    assert!(
        deployed
            .stderr
            .contains("the providers' side: stripe endpoint: no endpoint points at"),
        "{}",
        deployed.stderr
    );
    assert!(!deployed.stderr.contains(&stripe_token(&dev)));

    // reconcile against the emulator's ledger (DynamoDB) and dead-letter queue (SQS), with the
    // stand-in as Stripe: three payments, two of them recorded.
    let events: Vec<serde_json::Value> = ["aws1", "aws2", "aws3"]
        .iter()
        .map(|id| serde_json::json!({"body": stripe_payment(id).1, "delivered": true}))
        .collect();
    let (status, _) = post_for(
        &format!("{base}/_standin/stripe/events"),
        &[dev.standin_control()],
        &serde_json::Value::Array(events).to_string(),
    )
    .unwrap();
    assert_eq!(status, 200);
    let table =
        support::stage_parameter(&emulator, "dev", mgrid_contract::StageParameter::TableName).await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&emulator.sdk_config().await);
    for id in ["stripe:evt_aws1", "stripe:evt_aws2"] {
        dynamodb
            .put_item()
            .table_name(&table)
            .item(
                mgrid_contract::ledger::KEY_ATTRIBUTE,
                aws_sdk_dynamodb::types::AttributeValue::S(id.to_owned()),
            )
            .send()
            .await
            .unwrap();
    }
    let reconciled = run(
        &emulator,
        dir.path(),
        &[
            "reconcile",
            "--stage",
            "dev",
            "--provider",
            "stripe",
            "--provider-api-base",
            &base,
            "--output",
            "json",
        ],
    );
    assert_eq!(reconciled.code, 1, "{}", reconciled.stderr);
    let report = reconciled.json();
    assert_eq!(report["queueRead"], false, "SQS cannot be read per event");
    let stripe = &report["providers"][0];
    assert_eq!(
        (stripe["listed"].as_u64(), stripe["recorded"].as_u64()),
        (Some(3), Some(2))
    );
    assert_eq!(stripe["missing"][0]["id"], "evt_aws3", "{stripe:#}");
}

#[test]
fn send_keeps_each_event_at_the_provider_stand_in_as_the_provider_would() {
    let dir = tempfile::tempdir().unwrap();
    let _dev = Dev::start(&binary(), dir.path(), None);
    let send = |args: &[&str]| {
        let mut all = vec!["send", "stripe", "--output", "json"];
        all.extend_from_slice(args);
        let (code, stdout, stderr) = local_command(&binary(), dir.path(), &all);
        assert_eq!(code, 0, "{stderr}");
        assert!(!stderr.contains("did not keep"), "{stderr}");
        let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        report["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["eventId"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let mut sent = send(&["--count", "3"]);
    sent.extend(send(&["--bad-signature", "--count", "2"]));
    send(&["--malformed"]);
    let kept: Vec<serde_json::Value> =
        std::fs::read_to_string(dir.path().join("providers.events.jsonl"))
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
    let ids: Vec<&str> = kept.iter().map(|e| e["id"].as_str().unwrap()).collect();
    // A malformed body is not an event a provider sends: it is not kept.
    assert_eq!(ids.len(), 5, "{kept:#?}");
    for id in &sent {
        assert!(ids.contains(&id.as_str()), "{id} was not kept: {ids:?}");
    }
    assert!(
        kept.iter()
            .all(|e| e["delivered"] == true && e["event_type"] == "payment_intent.succeeded"),
        "{kept:#?}"
    );
}

#[test]
fn reconcile_finds_the_missing_payments_and_heal_brings_them_in() {
    let dir = tempfile::tempdir().unwrap();
    let dev = Dev::start(&binary(), dir.path(), None);
    let sent = |args: &[&str]| {
        let mut all = vec!["send", "stripe", "--output", "json"];
        all.extend_from_slice(args);
        let (code, stdout, stderr) = local_command(&binary(), dir.path(), &all);
        assert_eq!(code, 0, "{stderr}");
        serde_json::from_str::<serde_json::Value>(&stdout).unwrap()
    };
    sent(&["--count", "1000", "--concurrency", "16"]);
    sent(&["--bad-signature", "--count", "5"]);
    // Ten payments Stripe made and never got through (an outage longer than its retries).
    let dropped = sent(&[
        "--drop-delivery",
        "--count",
        "10",
        "--amount",
        "2500",
        "--currency",
        "eur",
    ]);
    assert_eq!(dropped["accepted"], 0, "{dropped:#}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while dev.ledger().len() < 1000 || dev.dead_letters().values().sum::<usize>() < 5 {
        assert!(Instant::now() < deadline, "the sent events were not judged");
        std::thread::sleep(Duration::from_millis(200));
    }

    let reconcile = |extra: &[&str]| {
        let mut all = vec!["reconcile", "--provider", "stripe", "--output", "json"];
        all.extend_from_slice(extra);
        let (code, stdout, stderr) = local_command(&binary(), dir.path(), &all);
        let report: serde_json::Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}\n{stderr}"));
        (code, report["providers"][0].clone(), stderr)
    };
    let (code, stripe, stderr) = reconcile(&[]);
    assert_eq!(code, 1, "missing payments fail the run: {stderr}");
    assert_eq!(stripe["listed"], 1015, "{}", stripe["listed"]);
    assert_eq!(stripe["recorded"], 1000);
    assert_eq!(stripe["deadLettered"].as_array().unwrap().len(), 5);
    assert_eq!(stripe["deadLettered"][0]["reason"], "bad-signature");
    assert_eq!(stripe["listedTwice"], 0);
    let missing: std::collections::BTreeSet<&str> = stripe["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    // Exactly the dropped ones, with their money.
    let dropped_ids: std::collections::BTreeSet<&str> = dropped["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["eventId"].as_str().unwrap())
        .collect();
    assert_eq!(dropped_ids.len(), 10, "{dropped:#}");
    assert_eq!(missing, dropped_ids, "exactly the dropped ones");
    assert_eq!(
        stripe["missingAmounts"],
        serde_json::json!([{"currency": "EUR", "minorUnits": 25000, "negativeMinorUnits": 0}])
    );
    assert!(
        stripe["missing"][0]["object"]
            .as_str()
            .unwrap()
            .starts_with("pi_")
    );

    let (code, stripe, stderr) = reconcile(&["--heal", "--rate", "100", "--wait", "60s"]);
    assert_eq!(code, 0, "{stderr}\n{stripe:#}");
    for healed in stripe["missing"].as_array().unwrap() {
        assert_eq!(healed["healed"]["outcome"], "recorded", "{stripe:#}");
    }
    let (code, stripe, _) = reconcile(&[]);
    assert_eq!(code, 0);
    assert_eq!(stripe["missing"].as_array().unwrap().len(), 0, "{stripe:#}");
    assert_eq!(stripe["recorded"], 1010);

    // Stripe keeps 30 days: an older window is refused before anything is read.
    let (code, _, stderr) = local_command(
        &binary(),
        dir.path(),
        &["reconcile", "--provider", "stripe", "--since", "31d"],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("30 days"), "{stderr}");
}

#[test]
fn ctrl_c_during_a_reconcile_prints_what_was_listed_and_exits_130() {
    let dir = tempfile::tempdir().unwrap();
    let dev = Dev::start(&binary(), dir.path(), None);
    // Stripe slows down: every listing request is answered 429, come back in 30 s.
    let (status, _) = post_for(
        &format!("{}/_standin/throttle", dev.stand_in_url()),
        &[dev.standin_control()],
        r#"{"requests": 100, "retryAfter": 30}"#,
    )
    .unwrap();
    assert_eq!(status, 200);
    let child = Command::new(binary())
        .args([
            "reconcile",
            "--stage",
            "local",
            "--provider",
            "stripe",
            "--output",
            "json",
        ])
        .env("MGRID_LOCAL_DIR", dir.path())
        .env_remove("MGRID_STAGE")
        .env_remove("MGRID_OUTPUT")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let started = Instant::now();
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "Ctrl-C was not acted on at once"
    );
    assert_eq!(
        output.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["interrupted"], true, "{report:#}");
}
