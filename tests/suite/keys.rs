//! `mgrid keys` against the AWS emulator (moto server; SecureStrings are stored, not really
//! encrypted, and the KMS key id is not checked there): rotate from nothing, rotate again,
//! list, revoke, signing secrets set and rolled, a concurrent rotation detected, secrets never
//! leaking, and the contract across both sides: the authorizer accepts exactly the keys the CLI
//! says are valid.

use crate::support;

use std::sync::Arc;

use mgrid::aws::keystore::RingStore;
use mgrid::ports::KeyRings;
use mgrid_contract::keyring::{KeyRing, Secret};
use mgrid_contract::{Provider, StageName};
use mgrid_pipeline::authorizer::{AuthorizationRequest, Authorizer, Decision};
use mgrid_pipeline::aws::SsmKeyStore;
use mgrid_pipeline::ports::SystemClock;
use support::{Emulator, Run, deploy_stage, run, run_with_input, shown_key};

fn stage() -> StageName {
    "dev".parse().unwrap()
}

/// What the real authorizer decides for a key, reading the ring the CLI wrote.
async fn authorizer_accepts(emulator: &Emulator, key: &str) -> bool {
    let config = emulator.sdk_config().await;
    let authorizer = Authorizer::new(
        stage(),
        SsmKeyStore::new(aws_sdk_ssm::Client::new(&config)),
        Arc::new(SystemClock),
    );
    let request = AuthorizationRequest {
        path: "/webhook/stripe".into(),
        headers: Default::default(),
        query: [("key".to_owned(), key.to_owned())].into_iter().collect(),
        repeated_key: false,
    };
    matches!(authorizer.decide(&request).await, Decision::Allow { .. })
}

#[tokio::test(flavor = "multi_thread")]
async fn rotations_keep_an_overlap_and_the_authorizer_agrees_with_the_cli() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    deploy_stage(&emulator, dir.path(), "dev");

    let first = run(
        &emulator,
        dir.path(),
        &["keys", "rotate", "stripe", "--stage", "dev"],
    );
    assert_eq!(first.code, 0, "{}", first.stderr);
    let one = shown_key(&first);
    assert!(one.starts_with("mgk_stripe_"));
    assert!(
        first.stdout.contains("/dev/webhook/stripe?key="),
        "the URL to register: {}",
        first.stdout
    );
    assert!(first.stderr.contains("first API key"), "{}", first.stderr);
    assert!(authorizer_accepts(&emulator, &one).await);

    let second = run(
        &emulator,
        dir.path(),
        &[
            "keys", "rotate", "stripe", "--stage", "dev", "--grace", "2h",
        ],
    );
    assert_eq!(second.code, 0, "{}", second.stderr);
    let two = shown_key(&second);
    assert!(authorizer_accepts(&emulator, &two).await, "the new key");
    assert!(
        authorizer_accepts(&emulator, &one).await,
        "the old key, inside the overlap"
    );
    assert!(!authorizer_accepts(&emulator, "mgk_stripe_guessed").await);

    let list = run(
        &emulator,
        dir.path(),
        &["keys", "list", "--stage", "dev", "--output", "json"],
    );
    let stripe = &list.json()["providers"][0];
    assert_eq!(stripe["provider"], "stripe");
    assert_eq!(
        stripe["apiKey"]["currentKeyId"],
        Secret::new(two.clone()).key_id()
    );
    assert_eq!(
        stripe["apiKey"]["previousKeyId"],
        Secret::new(one.clone()).key_id()
    );
    assert!(stripe["apiKey"]["previousAcceptedUntil"].is_string());
    assert_eq!(stripe["apiKey"]["ssmVersion"], 2);
    assert!(
        list.json()["providers"][1]["apiKey"].is_null(),
        "paypal has none yet"
    );

    let revoked = run(
        &emulator,
        dir.path(),
        &[
            "keys",
            "revoke-previous",
            "stripe",
            "--stage",
            "dev",
            "--yes",
        ],
    );
    assert_eq!(revoked.code, 0, "{}", revoked.stderr);
    assert!(
        !authorizer_accepts(&emulator, &one).await,
        "revoked at once"
    );
    assert!(authorizer_accepts(&emulator, &two).await);
    let again = run(
        &emulator,
        dir.path(),
        &[
            "keys",
            "revoke-previous",
            "stripe",
            "--stage",
            "dev",
            "--yes",
        ],
    );
    assert!(
        again.stdout.contains("nothing to revoke"),
        "{}",
        again.stdout
    );

    // The ring is a SecureString under the stage key.
    let config = emulator.sdk_config().await;
    let parameter = aws_sdk_ssm::Client::new(&config)
        .get_parameter()
        .name(stage().api_key_ring(Provider::Stripe))
        .send()
        .await
        .unwrap();
    assert_eq!(
        parameter.parameter().unwrap().r#type().unwrap().as_str(),
        "SecureString"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_zero_grace_needs_a_yes_and_then_revokes_at_once() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    deploy_stage(&emulator, dir.path(), "dev");
    let one = shown_key(&run(
        &emulator,
        dir.path(),
        &["keys", "rotate", "stripe", "--stage", "dev"],
    ));
    let refused = run(
        &emulator,
        dir.path(),
        &["keys", "rotate", "stripe", "--stage", "dev", "--grace", "0"],
    );
    assert_eq!(refused.code, 10, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("stop(s) being accepted at once"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("a new API key, "),
        "a declined plan never reads as done: {}",
        refused.stderr
    );
    assert!(
        authorizer_accepts(&emulator, &one).await,
        "nothing was written"
    );
    let done = run(
        &emulator,
        dir.path(),
        &[
            "keys", "rotate", "stripe", "--stage", "dev", "--grace", "0", "--yes",
        ],
    );
    assert_eq!(done.code, 0, "{}", done.stderr);
    assert!(!authorizer_accepts(&emulator, &one).await);
    assert!(authorizer_accepts(&emulator, &shown_key(&done)).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_existing_output_file_is_refused_before_any_key_is_written() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    deploy_stage(&emulator, dir.path(), "dev");
    let one = shown_key(&run(
        &emulator,
        dir.path(),
        &["keys", "rotate", "stripe", "--stage", "dev"],
    ));
    let file = dir.path().join("keys.txt");
    std::fs::write(&file, "someone else's notes\n").unwrap();
    let refused = run(
        &emulator,
        dir.path(),
        &[
            "keys",
            "rotate",
            "stripe",
            "--stage",
            "dev",
            "--output-file",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("nothing was rotated"),
        "{}",
        refused.stderr
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "someone else's notes\n"
    );
    let config = emulator.sdk_config().await;
    let ring = RingStore::new(aws_sdk_ssm::Client::new(&config), Ok(String::new()))
        .read(&stage().api_key_ring(Provider::Stripe))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        ring.ring.current.secret.expose(),
        one,
        "the ring is unchanged"
    );
    assert!(ring.ring.previous.is_none(), "no overlap was started");

    // A new file: created owner-only, and it holds the key that was stored.
    let fresh = dir.path().join("fresh.txt");
    let done = run(
        &emulator,
        dir.path(),
        &[
            "keys",
            "rotate",
            "stripe",
            "--stage",
            "dev",
            "--output-file",
            fresh.to_str().unwrap(),
        ],
    );
    assert_eq!(done.code, 0, "{}", done.stderr);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&fresh).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let written = std::fs::read_to_string(&fresh).unwrap();
    let key = written.rsplit_once("key=").unwrap().1.trim().to_owned();
    assert!(authorizer_accepts(&emulator, &key).await);

    // Declined (a zero grace needs a yes): nothing stored, and no empty file left behind.
    let declined_file = dir.path().join("declined.txt");
    let declined = run(
        &emulator,
        dir.path(),
        &[
            "keys",
            "rotate",
            "stripe",
            "--stage",
            "dev",
            "--grace",
            "0",
            "--output-file",
            declined_file.to_str().unwrap(),
        ],
    );
    assert_eq!(declined.code, 10, "{}", declined.stderr);
    assert!(!declined_file.exists(), "an empty key file was left behind");
    assert!(authorizer_accepts(&emulator, &key).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn signing_secrets_are_read_from_stdin_and_rolled_with_an_overlap() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    deploy_stage(&emulator, dir.path(), "dev");
    let old = "whsec_fixture_old_endpoint_secret";
    let new = "whsec_fixture_new_endpoint_secret";
    let set = run_with_input(
        &emulator,
        dir.path(),
        &["keys", "set-signing-secret", "stripe", "--stage", "dev"],
        &format!("{old}\n"),
    );
    assert_eq!(set.code, 0, "{}", set.stderr);
    let rolled = run_with_input(
        &emulator,
        dir.path(),
        &[
            "keys",
            "set-signing-secret",
            "stripe",
            "--stage",
            "dev",
            "--grace",
            "1h",
        ],
        &format!("{new}\n"),
    );
    assert_eq!(rolled.code, 0, "{}", rolled.stderr);
    assert!(
        rolled.stdout.contains("stays accepted until"),
        "{}",
        rolled.stdout
    );

    // What the processor verifies with: both, during the overlap, newest first.
    let config = emulator.sdk_config().await;
    let store = RingStore::new(aws_sdk_ssm::Client::new(&config), Ok(String::new()));
    let stored = store
        .read(&stage().signing_secret_ring(Provider::Stripe))
        .await
        .unwrap()
        .unwrap();
    let valid: Vec<&str> = stored
        .ring
        .valid_secrets(mgrid::clock::now_millis())
        .iter()
        .map(|s| s.expose())
        .collect();
    assert_eq!(valid, [new, old]);

    let bad = run_with_input(
        &emulator,
        dir.path(),
        &["keys", "set-signing-secret", "stripe", "--stage", "dev"],
        "sk_live_not_a_signing_secret\n",
    );
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("starts with whsec_"));
    assert!(
        !bad.stderr.contains("sk_live_not_a_signing_secret"),
        "a rejected secret is not echoed"
    );
    let paypal = run_with_input(
        &emulator,
        dir.path(),
        &["keys", "set-signing-secret", "paypal", "--stage", "dev"],
        "8PT597110X687430LKGECATA\n",
    );
    assert_eq!(paypal.code, 0, "{}", paypal.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_concurrent_rotation_is_detected_and_reported() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    deploy_stage(&emulator, dir.path(), "dev");
    run(
        &emulator,
        dir.path(),
        &["keys", "rotate", "stripe", "--stage", "dev"],
    );

    let config = emulator.sdk_config().await;
    let store = RingStore::new(
        aws_sdk_ssm::Client::new(&config),
        Ok("alias/marketgrid-dev".into()),
    );
    let name = stage().api_key_ring(Provider::Stripe);
    let ours = store.read(&name).await.unwrap().unwrap();
    // Someone else rotates between our read and our write.
    let theirs = run(
        &emulator,
        dir.path(),
        &["keys", "rotate", "stripe", "--stage", "dev"],
    );
    assert_eq!(theirs.code, 0);
    let mine = KeyRing::rotate(
        Some(&ours.ring),
        Secret::new("mgk_stripe_from_the_slower_operator".into()),
        0,
        3_600_000,
    );
    // SSM cannot refuse the write: it happens, and says whose change it replaced.
    let written = store.write(&name, &mine, Some(ours.version)).await.unwrap();
    assert_eq!(written.version, 3);
    let overwritten = written.overwritten.expect("the other write is named");
    assert!(
        overwritten.contains("changed by someone else"),
        "{overwritten}"
    );
    assert!(
        overwritten.contains("read version 1, wrote version 3"),
        "{overwritten}"
    );
    assert!(
        overwritten.contains("version 2 by"),
        "who wrote in between: {overwritten}"
    );
}

/// Two operators rotate the same key at once, through a proxy that holds every request 0.3 s so
/// that both read the ring before either writes (SSM cannot make the second write conditional).
/// Whatever the interleaving: every process that stored a key wrote it to its file (the later
/// one also exits 6 and says whose rotation it replaced), and the ring's current key is in one
/// of the files.
#[tokio::test(flavor = "multi_thread")]
async fn two_rotations_at_once_leave_no_stored_key_unshown() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    deploy_stage(&emulator, dir.path(), "dev");
    run(
        &emulator,
        dir.path(),
        &["keys", "rotate", "stripe", "--stage", "dev"],
    );
    let proxy = support::CountingProxy::with_delay(
        &emulator.endpoint,
        std::time::Duration::from_millis(300),
    );
    let children: Vec<(std::path::PathBuf, std::process::Child)> = ["first.txt", "second.txt"]
        .into_iter()
        .map(|file| {
            let path = dir.path().join(file);
            let child = support::mgrid_process_at(
                &proxy.endpoint,
                dir.path(),
                &[
                    "keys",
                    "rotate",
                    "stripe",
                    "--stage",
                    "dev",
                    "--yes",
                    "--output-file",
                    file,
                ],
            )
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
            (path, child)
        })
        .collect();
    let mut shown = Vec::new();
    for (path, child) in children {
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        let code = output.status.code();
        assert!(matches!(code, Some(0 | 6)), "{code:?}: {stderr}");
        eprintln!("{}: exit {code:?}", path.display());
        let written = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: every rotation stored a key and shows it ({e}): {stderr}",
                path.display()
            )
        });
        let key = written
            .split("key=")
            .nth(1)
            .map(|k| k.trim().to_owned())
            .unwrap_or_else(|| panic!("a key in {written:?}"));
        if code == Some(6) {
            assert!(
                stderr.contains("changed by someone else") && stderr.contains("no longer accepted"),
                "{stderr}"
            );
        }
        shown.push(key);
    }
    let store = RingStore::new(
        aws_sdk_ssm::Client::new(&emulator.sdk_config().await),
        Ok("alias/marketgrid-dev".into()),
    );
    let ring = store
        .read(&stage().api_key_ring(Provider::Stripe))
        .await
        .unwrap()
        .unwrap()
        .ring;
    assert!(
        shown.iter().any(|key| key == ring.current.secret.expose()),
        "the ring's current key is one somebody holds"
    );
}

#[test]
fn no_keys_command_leaks_a_secret_even_at_vv() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    deploy_stage(&emulator, dir.path(), "dev");
    let signing = "whsec_fixture_leak_check_secret";
    let file = dir.path().join("new-keys.txt");
    let runs = [
        run(
            &emulator,
            dir.path(),
            &["-vv", "keys", "rotate", "--all", "--stage", "dev"],
        ),
        run(
            &emulator,
            dir.path(),
            &[
                "-vv",
                "keys",
                "rotate",
                "stripe",
                "--stage",
                "dev",
                "--output-file",
                file.to_str().unwrap(),
            ],
        ),
        run(
            &emulator,
            dir.path(),
            &[
                "-vv",
                "keys",
                "rotate",
                "paypal",
                "--stage",
                "dev",
                "--dry-run",
                "--output",
                "json",
            ],
        ),
        run_with_input(
            &emulator,
            dir.path(),
            &[
                "-vv",
                "keys",
                "set-signing-secret",
                "stripe",
                "--stage",
                "dev",
            ],
            &format!("{signing}\n"),
        ),
        run(
            &emulator,
            dir.path(),
            &["-vv", "keys", "list", "--stage", "dev", "--output", "json"],
        ),
        run(
            &emulator,
            dir.path(),
            &[
                "-vv",
                "keys",
                "revoke-previous",
                "stripe",
                "--stage",
                "dev",
                "--yes",
            ],
        ),
    ];
    for r in &runs {
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let secrets: Vec<String> = runtime.block_on(async {
        let config = emulator.sdk_config().await;
        let store = RingStore::new(aws_sdk_ssm::Client::new(&config), Ok(String::new()));
        let mut secrets = vec![signing.to_owned()];
        for provider in Provider::ALL {
            for name in [
                stage().api_key_ring(provider),
                stage().signing_secret_ring(provider),
            ] {
                if let Some(stored) = store.read(&name).await.unwrap() {
                    secrets.push(stored.ring.current.secret.expose().to_owned());
                    if let Some(previous) = &stored.ring.previous {
                        secrets.push(previous.secret.expose().to_owned());
                    }
                }
            }
        }
        secrets
    });
    assert!(secrets.len() >= 4, "{}", secrets.len());
    let first_stripe_key = shown_key(&Run {
        code: 0,
        stdout: runs[0].stdout.clone(),
        stderr: String::new(),
    });
    for (i, r) in runs.iter().enumerate() {
        for secret in &secrets {
            assert!(
                !r.stderr.contains(secret.as_str()),
                "run {i} logged a secret on stderr"
            );
            let shown_once = i == 0 && r.stdout.matches(secret.as_str()).count() == 1;
            assert!(
                !r.stdout.contains(secret.as_str()) || shown_once,
                "run {i} printed a secret it should not have"
            );
        }
    }
    assert!(
        first_stripe_key.starts_with("mgk_stripe_"),
        "the new keys are shown once on stdout"
    );
    let written = std::fs::read_to_string(&file).unwrap();
    assert!(written.contains("?key=mgk_stripe_"));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
fn keys_on_a_stage_that_is_not_deployed_say_so() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let missing = run(
        &emulator,
        dir.path(),
        &["keys", "rotate", "stripe", "--stage", "ghost"],
    );
    assert_eq!(missing.code, 5, "{}", missing.stderr);
    assert!(
        missing
            .stderr
            .contains("is it deployed in this account and region"),
        "{}",
        missing.stderr
    );
    let unknown = run(
        &emulator,
        dir.path(),
        &["keys", "rotate", "adyen", "--stage", "dev"],
    );
    assert_eq!(unknown.code, 2, "{}", unknown.stderr);
    assert!(
        unknown.stderr.contains("possible values: stripe, paypal"),
        "{}",
        unknown.stderr
    );
}
