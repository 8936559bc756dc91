//! `mgrid send` to a deployed stage, against the AWS emulator (moto server): the endpoint and
//! the API key come from the stage's SSM parameters and key ring. moto does not serve the
//! stage's execute-api URL (and this machine has no internet), so the delivery itself fails:
//! what is checked is that send finds the stage's endpoint and key, says what went wrong, exits
//! 7, and never shows the key. The delivery path itself is tested against `mgrid dev`
//! (tests/suite/dev.rs).

use crate::support;

use support::{Emulator, deploy_stage, run, shown_key};

#[test]
fn send_to_a_deployed_stage_uses_its_endpoint_and_key_and_never_shows_the_key() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    deploy_stage(&emulator, dir.path(), "dev");

    let keyless = run(&emulator, dir.path(), &["send", "stripe", "--stage", "dev"]);
    assert_eq!(keyless.code, 5, "{}", keyless.stderr);
    assert!(
        keyless.stderr.contains("has no stripe API key"),
        "{}",
        keyless.stderr
    );
    assert!(
        keyless
            .stderr
            .contains("mgrid keys rotate stripe --stage dev"),
        "{}",
        keyless.stderr
    );

    let rotated = run(
        &emulator,
        dir.path(),
        &["keys", "rotate", "stripe", "--stage", "dev"],
    );
    assert_eq!(rotated.code, 0, "{}", rotated.stderr);
    let key = shown_key(&rotated);

    let sent = run(
        &emulator,
        dir.path(),
        &[
            "send", "stripe", "--stage", "dev", "--output", "json", "-vv",
        ],
    );
    assert_eq!(sent.code, 7, "{}", sent.stderr);
    let report = sent.json();
    assert_eq!(report["sent"], 1);
    assert_eq!(report["accepted"], 0);
    let endpoint = report["endpoint"].as_str().unwrap();
    assert!(
        endpoint.starts_with("https://") && endpoint.ends_with("/dev/webhook/stripe"),
        "the stage's API URL from SSM: {endpoint}"
    );
    assert!(!sent.stdout.contains(&key), "the key is in the report");
    assert!(!sent.stderr.contains(&key), "the key is in the log");
}
