//! The stage lifecycle through the mgrid binary against the AWS emulator (moto server): deploy a
//! dev stage from scratch, redeploy unchanged, change a setting, diff, status, stages, destroy,
//! and the refusals that must happen before anything is written. moto executes change sets at
//! once and reports no per-resource events, rollbacks or replacement details; those paths are
//! covered with recorded responses in tests/suite/recorded.rs. moto runs no Lambda code, so the
//! artifact deployed here is a placeholder zip (--artifact): this is about the stack.

use crate::support;

use std::time::{Duration, Instant};

use support::{Emulator, mgrid, placeholder_artifact, run, write_file};

#[test]
fn a_dev_stage_goes_through_its_whole_lifecycle() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let artifact = placeholder_artifact(dir.path());
    let artifact = artifact.to_str().unwrap();
    let deploy = [
        "deploy",
        "--stage",
        "dev",
        "--yes",
        "-v",
        "--output",
        "json",
        "--artifact",
        artifact,
    ];

    let first = run(&emulator, dir.path(), &deploy);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let report = first.json();
    assert_eq!(report["action"], "create");
    assert_eq!(report["status"], "CREATE_COMPLETE");
    // The queue's event source invokes the alias on every stage (the traffic shift moves it).
    let live = live_processor(&emulator);
    assert_eq!((live.alias_version.as_str(), live.memory), ("1", 3008));
    assert!(
        live.event_source_target.ends_with(":processor:live")
            || live.event_source_target.ends_with("-processor:1"),
        "the event source invokes {}, not the alias",
        live.event_source_target
    );
    let outputs: Vec<String> = report["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["key"].as_str().unwrap().to_owned())
        .collect();
    for key in [
        "StripeWebhookUrl",
        "PaypalWebhookUrl",
        "QueueUrl",
        "TransactionsTableName",
    ] {
        assert!(
            outputs.contains(&key.to_owned()),
            "no output {key}: {outputs:?}"
        );
    }
    assert!(
        first
            .stderr
            .contains("creating the assets bucket mgrid-assets-123456789012-us-east-1"),
        "{}",
        first.stderr
    );
    eprintln!(
        "first deploy: {} AWS calls, change set ready after {} ms",
        first.calls(),
        report["changeSetReadyMs"]
    );

    let again = run(&emulator, dir.path(), &deploy);
    assert_eq!(again.code, 0, "{}", again.stderr);
    // The emulator serves no Lambda GetAccountSettings: the preflight says it could not check.
    assert!(
        again
            .stderr
            .contains("could not check Lambda's concurrency quota"),
        "{}",
        again.stderr
    );
    assert_eq!(
        again.json()["action"],
        "none",
        "an unchanged redeploy changes nothing"
    );
    assert!(
        again.json()["changeSet"].is_null(),
        "the empty change set is deleted"
    );
    // 8 for the deploy itself, 2 for the account preflight (API Gateway, Lambda), 1 to find
    // key rings not under the stage's key (kept from an earlier, destroyed deploy), 2 to decide
    // from resolved values whether the processor gets a version (the stack's resources, the
    // live version's configuration).
    assert!(
        again.calls() <= 13,
        "an unchanged redeploy made {} AWS calls",
        again.calls()
    );
    eprintln!("unchanged redeploy: {} AWS calls", again.calls());

    write_file(
        dir.path(),
        "mgrid.toml",
        "[stages.dev]\nprocessor_memory_mb = 1024\n",
    );
    let diff = run(
        &emulator,
        dir.path(),
        &[
            "diff",
            "--stage",
            "dev",
            "--exit-code",
            "--output",
            "json",
            "--artifact",
            artifact,
        ],
    );
    assert_eq!(
        diff.code, 1,
        "diff --exit-code says there are changes: {}",
        diff.stderr
    );
    assert_eq!(diff.json()["action"], "update");
    // The parameter it changes, now → after (moto lists no property-level resource changes).
    let changed = diff.json()["parameterChanges"].clone();
    let memory = changed
        .as_array()
        .and_then(|all| all.iter().find(|c| c["name"] == "ProcessorMemory"))
        .unwrap_or_else(|| panic!("ProcessorMemory is not among {changed}"));
    assert_eq!(memory["after"], "1024");
    assert_eq!(memory["now"], "3008");
    let still = run(
        &emulator,
        dir.path(),
        &["status", "--stage", "dev", "--output", "json"],
    );
    assert_eq!(
        still.json()["stack"]["status"],
        "CREATE_COMPLETE",
        "diff changed nothing"
    );

    let update = run(&emulator, dir.path(), &deploy);
    assert_eq!(update.code, 0, "{}", update.stderr);
    let report = update.json();
    assert_eq!(report["action"], "update");
    assert_eq!(report["status"], "UPDATE_COMPLETE");
    // moto lists no resource changes for a parameter change (real CloudFormation lists
    // ProcessorFunction), but it does apply the new value: a new version with the new memory,
    // which the alias the queue invokes now runs.
    let live = live_processor(&emulator);
    assert_eq!((live.alias_version.as_str(), live.memory), ("2", 1024));

    let status = run(
        &emulator,
        dir.path(),
        &["status", "--stage", "dev", "--output", "json"],
    );
    assert_eq!(status.code, 0, "{}", status.stderr);
    let status = status.json();
    assert_eq!(status["stack"]["status"], "UPDATE_COMPLETE");
    assert_eq!(status["backend"], "aws");
    assert_eq!(status["deadLetterQueue"]["waiting"], 0);
    assert_eq!(status["alarmsInAlarm"], serde_json::json!([]));
    // A stage that is not protected shifts all at once; no shift is in progress (the emulator
    // runs no CodeDeploy, and answers that the stage's deployment group does not exist).
    assert_eq!(status["stack"]["deployStrategy"], "all-at-once");
    assert!(status["stack"]["trafficShift"].is_null(), "{status}");
    let no_shift = run(
        &emulator,
        dir.path(),
        &["deploy", "--stage", "dev", "--rollback", "--yes"],
    );
    assert_eq!(no_shift.code, 5, "{}", no_shift.stderr);
    assert!(
        no_shift
            .stderr
            .contains("no processor traffic shift is in progress on dev; nothing was changed"),
        "{}",
        no_shift.stderr
    );
    assert!(
        status["stack"]["deployedArtifact"]
            .as_str()
            .is_some_and(|s| s.ends_with('=')),
        "{status}"
    );

    let stages = run(&emulator, dir.path(), &["stages", "--output", "json"]);
    let stages = stages.json();
    let names: Vec<&str> = stages["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["stage"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["dev"]);

    // A key ring: `mgrid keys` writes it, not the stack, so destroy leaves it and says so.
    let rotated = run(
        &emulator,
        dir.path(),
        &["keys", "rotate", "stripe", "--stage", "dev"],
    );
    assert_eq!(rotated.code, 0, "{}", rotated.stderr);
    let refused = run(&emulator, dir.path(), &["destroy", "--stage", "dev"]);
    assert_eq!(
        refused.code, 10,
        "no terminal and no --yes: {}",
        refused.stderr
    );
    assert!(refused.stderr.contains("retains 3"), "{}", refused.stderr);
    assert!(
        refused.stderr.contains(
            "keeps 1 SSM key ring(s) (API keys, signing secrets): /marketgrid/dev/api-keys/stripe"
        ),
        "{}",
        refused.stderr
    );
    let destroyed = run(
        &emulator,
        dir.path(),
        &["destroy", "--stage", "dev", "--yes", "--output", "json"],
    );
    assert_eq!(destroyed.code, 0, "{}", destroyed.stderr);
    let mut kept: Vec<String> = destroyed.json()["retained"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["resourceType"].as_str().unwrap().to_owned())
        .collect();
    kept.sort();
    assert_eq!(
        kept,
        ["AWS::DynamoDB::Table", "AWS::KMS::Key", "AWS::S3::Bucket"]
    );
    let report = destroyed.json();
    assert_eq!(
        report["keyRings"],
        serde_json::json!(["/marketgrid/dev/api-keys/stripe"])
    );
    let commands: Vec<&str> = report["removalCommands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(commands.len(), 4, "{commands:?}");
    for command in &commands {
        assert!(command.contains("--region us-east-1"), "{command}");
    }
    assert!(
        commands
            .iter()
            .any(|c| c
                .starts_with("aws ssm delete-parameters --names /marketgrid/dev/api-keys/stripe")),
        "{commands:?}"
    );
    // The commands are what a shell runs as they are: each parses as a shell line, and the
    // bucket's, the one with a loop, is run with the real AWS CLI against a versioned bucket
    // holding object versions and a delete marker. (The emulator drops a retained bucket with
    // its stack, which AWS does not: the test makes it again, versioned as the template makes
    // it.)
    for command in &commands {
        let parsed = std::process::Command::new("sh")
            .args(["-n", "-c", command])
            .output()
            .unwrap();
        assert!(
            parsed.status.success(),
            "{command}: {}",
            String::from_utf8_lossy(&parsed.stderr)
        );
    }
    let bucket = report["retained"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resourceType"] == "AWS::S3::Bucket")
        .and_then(|r| r["physicalId"].as_str())
        .unwrap()
        .to_owned();
    let object = dir.path().join("object.json");
    std::fs::write(&object, "{}").unwrap();
    let object = object.to_str().unwrap();
    let _ = aws_cli(
        &emulator,
        dir.path(),
        &format!("aws s3api create-bucket --bucket {bucket}"),
    );
    for line in [
        format!(
            "aws s3api put-bucket-versioning --bucket {bucket} --versioning-configuration Status=Enabled"
        ),
        format!("aws s3api put-object --bucket {bucket} --key a --body {object}"),
        format!("aws s3api put-object --bucket {bucket} --key a --body {object}"),
        format!("aws s3api put-object --bucket {bucket} --key b --body {object}"),
        format!("aws s3api delete-object --bucket {bucket} --key b"),
    ] {
        let output = aws_cli(&emulator, dir.path(), &line);
        assert!(
            output.status.success(),
            "{line}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let empty_the_bucket = commands
        .iter()
        .find(|c| c.contains("delete-bucket"))
        .unwrap();
    let output = aws_cli(&emulator, dir.path(), empty_the_bucket);
    assert!(
        output.status.success(),
        "{empty_the_bucket}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let buckets = aws_cli(
        &emulator,
        dir.path(),
        "aws s3api list-buckets --output json",
    );
    assert!(
        !String::from_utf8_lossy(&buckets.stdout).contains(&bucket),
        "the versioned bucket is gone, versions and delete markers first"
    );
    let gone = run(&emulator, dir.path(), &["status", "--stage", "dev"]);
    assert_eq!(gone.code, 5, "{}", gone.stderr);
    assert!(gone.stderr.contains("is not deployed"));
}

/// A shell line run by `sh` with the pinned AWS CLI first on PATH, against the emulator.
fn aws_cli(emulator: &Emulator, dir: &std::path::Path, line: &str) -> std::process::Output {
    let aws = support::tool("aws");
    let bin = aws.parent().expect("the CLI's directory");
    let path = std::env::var("PATH").unwrap_or_default();
    std::process::Command::new("sh")
        .arg("-c")
        .arg(line)
        .env("PATH", format!("{}:{path}", bin.display()))
        .current_dir(dir)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", &emulator.endpoint)
        .env("AWS_CONFIG_FILE", dir.join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.join("no-aws-credentials"),
        )
        .output()
        .expect("run the AWS CLI")
}

/// What the queue's traffic reaches: the alias, its version's memory, and the mapping's target.
struct LiveProcessor {
    alias_version: String,
    memory: i32,
    event_source_target: String,
}

fn live_processor(emulator: &Emulator) -> LiveProcessor {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let config = emulator.sdk_config().await;
        let lambda = aws_sdk_lambda::Client::new(&config);
        let alias = lambda
            .get_alias()
            .function_name("marketgrid-dev-processor")
            .name("live")
            .send()
            .await
            .expect("the processor's live alias");
        let version = alias.function_version().unwrap().to_owned();
        let function = lambda
            .get_function_configuration()
            .function_name("marketgrid-dev-processor")
            .qualifier(&version)
            .send()
            .await
            .unwrap();
        let mappings = lambda.list_event_source_mappings().send().await.unwrap();
        let mapping = mappings
            .event_source_mappings()
            .first()
            .expect("the queue's event source mapping");
        LiveProcessor {
            alias_version: version,
            memory: function.memory_size().unwrap(),
            event_source_target: mapping.function_arn().unwrap_or_default().to_owned(),
        }
    })
}

#[test]
fn a_stage_of_another_account_is_refused_before_anything_is_written() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let artifact = placeholder_artifact(dir.path());
    write_file(
        dir.path(),
        "mgrid.toml",
        "[stages.prod]\naccount_id = \"999999999999\"\n",
    );
    let refused = run(
        &emulator,
        dir.path(),
        &[
            "deploy",
            "--stage",
            "prod",
            "--yes",
            "--artifact",
            artifact.to_str().unwrap(),
        ],
    );
    assert_eq!(refused.code, 4, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("belongs to account 999999999999"),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("nothing was written"));
    let stages = run(&emulator, dir.path(), &["stages", "--output", "json"]);
    assert_eq!(stages.json()["stages"], serde_json::json!([]));
}

#[test]
fn a_change_set_left_by_no_execute_is_executed_and_followed_by_deploy_execute() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let artifact = placeholder_artifact(dir.path());
    let made = run(
        &emulator,
        dir.path(),
        &[
            "deploy",
            "--stage",
            "qa",
            "--no-execute",
            "--change-set-name",
            "reviewed-1",
            "--output",
            "json",
            "--artifact",
            artifact.to_str().unwrap(),
        ],
    );
    assert_eq!(made.code, 0, "{}", made.stderr);
    assert_eq!(made.json()["changeSet"], "reviewed-1");
    // A colleague's diff meanwhile leaves the pending first deploy alone: its stack and change
    // set are not the diff's to delete.
    let diff = run(
        &emulator,
        dir.path(),
        &[
            "diff",
            "--stage",
            "qa",
            "--artifact",
            artifact.to_str().unwrap(),
        ],
    );
    assert_eq!(diff.code, 0, "{}", diff.stderr);
    assert!(
        diff.stderr
            .contains("leaves the stack and its change sets alone")
            && !diff.stderr.contains("deleted marketgrid-qa"),
        "{}",
        diff.stderr
    );
    let executed = run(
        &emulator,
        dir.path(),
        &[
            "deploy",
            "--stage",
            "qa",
            "--execute",
            "reviewed-1",
            "--yes",
            "--output",
            "json",
        ],
    );
    assert_eq!(executed.code, 0, "{}", executed.stderr);
    let report = executed.json();
    assert_eq!(report["action"], "create");
    assert_eq!(report["status"], "CREATE_COMPLETE");
    assert!(report["outputs"].as_array().is_some_and(|o| !o.is_empty()));
    // A change set that is not there is said so.
    let missing = run(
        &emulator,
        dir.path(),
        &[
            "deploy",
            "--stage",
            "nowhere",
            "--execute",
            "reviewed-1",
            "--yes",
        ],
    );
    assert_eq!(missing.code, 5, "{}", missing.stderr);
}

#[test]
fn a_diff_of_a_stage_never_deployed_leaves_no_stack_behind() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let artifact = placeholder_artifact(dir.path());
    let diff = run(
        &emulator,
        dir.path(),
        &[
            "diff",
            "--stage",
            "qa",
            "--output",
            "json",
            "--artifact",
            artifact.to_str().unwrap(),
        ],
    );
    assert_eq!(diff.code, 0, "{}", diff.stderr);
    assert_eq!(diff.json()["action"], "create");
    assert!(
        diff.stderr
            .contains("deleted marketgrid-qa (REVIEW_IN_PROGRESS"),
        "{}",
        diff.stderr
    );
    // The change set's REVIEW_IN_PROGRESS stack went with it: nothing for stages or status.
    let stages = run(&emulator, dir.path(), &["stages", "--output", "json"]);
    assert_eq!(stages.json()["stages"], serde_json::json!([]));
    let status = run(&emulator, dir.path(), &["status", "--stage", "qa"]);
    assert_eq!(status.code, 5, "{}", status.stderr);
}

#[test]
fn an_account_without_api_gateway_logging_is_refused_before_anything_is_written() {
    let emulator = Emulator::start_unprepared();
    let dir = tempfile::tempdir().unwrap();
    let artifact = placeholder_artifact(dir.path());
    let refused = run(
        &emulator,
        dir.path(),
        &[
            "deploy",
            "--stage",
            "dev",
            "--yes",
            "--artifact",
            artifact.to_str().unwrap(),
        ],
    );
    assert_eq!(refused.code, 5, "{}", refused.stderr);
    for said in [
        "API Gateway has no CloudWatch role in this account and us-east-1",
        "nothing was written",
        "aws apigateway update-account --region us-east-1 --patch-operations",
    ] {
        assert!(refused.stderr.contains(said), "{said}: {}", refused.stderr);
    }
    let stages = run(&emulator, dir.path(), &["stages", "--output", "json"]);
    assert_eq!(stages.json()["stages"], serde_json::json!([]));
    assert!(
        !refused.stderr.contains("creating the assets bucket"),
        "no bucket before the preflight: {}",
        refused.stderr
    );
}

/// mgrid in `dir`, where no AWS credentials can be found (no files, no variables, no instance
/// metadata).
fn without_credentials(dir: &std::path::Path) -> assert_cmd::Command {
    let mut command = mgrid();
    command
        .current_dir(dir)
        .env("AWS_CONFIG_FILE", dir.join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.join("no-aws-credentials"),
        )
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN");
    command
}

#[test]
fn deploy_without_credentials_fails_fast_with_the_credentials_message() {
    let dir = tempfile::tempdir().unwrap();
    let artifact = placeholder_artifact(dir.path());
    let started = Instant::now();
    let output = without_credentials(dir.path())
        .args([
            "deploy",
            "--stage",
            "dev",
            "--region",
            "eu-west-1",
            "--yes",
            "--artifact",
            artifact.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("no usable AWS credentials"), "{stderr}");
    assert!(stderr.contains("next:"), "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "took {:?}",
        started.elapsed()
    );
}

/// A zip whose bootstrap is an ELF executable for x86_64 (its header is all that is read).
fn x86_64_artifact(dir: &std::path::Path) -> std::path::PathBuf {
    let mut header = vec![0u8; 64];
    header[..6].copy_from_slice(b"\x7fELF\x02\x01");
    header[0x12..0x14].copy_from_slice(&62u16.to_le_bytes());
    let zip = mgrid_artifact::zip::zip_executable("bootstrap", &header).unwrap();
    let path = dir.join("x86_64.zip");
    std::fs::write(&path, zip).unwrap();
    path
}

#[test]
fn deploy_refuses_an_artifact_for_another_instruction_set_than_the_stages() {
    let dir = tempfile::tempdir().unwrap();
    let artifact = x86_64_artifact(dir.path());
    let deploy = |extra: &[&str]| {
        without_credentials(dir.path())
            .args(["deploy", "--stage", "dev", "--region", "eu-west-1", "--yes"])
            .arg("--artifact")
            .arg(&artifact)
            .args(extra)
            .output()
            .unwrap()
    };
    // The stage runs arm64 by default: Lambda would take the zip and fail every invocation.
    let refused = deploy(&[]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("bootstrap is for x86_64") && stderr.contains("run on arm64"),
        "{stderr}"
    );
    // On an x86_64 stage it passes that check and goes on (to the missing credentials).
    let accepted = deploy(&["--param", "Architecture=x86_64"]);
    let stderr = String::from_utf8_lossy(&accepted.stderr);
    assert_eq!(accepted.status.code(), Some(4), "{stderr}");
}

#[test]
fn deploy_without_an_artifact_says_how_to_build_one() {
    let dir = tempfile::tempdir().unwrap();
    let output = mgrid()
        .current_dir(dir.path())
        .args([
            "deploy",
            "--stage",
            "dev",
            "--region",
            "eu-west-1",
            "--yes",
            "--artifact",
            "/nonexistent/mgrid-functions.zip",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(5), "{stderr}");
    assert!(
        stderr.contains("cargo install --path . --locked"),
        "{stderr}"
    );
}

#[test]
fn skip_shift_on_a_protected_stage_asks_for_its_name_and_the_next_deploy_restores_the_canary() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let artifact = placeholder_artifact(dir.path());
    let artifact = artifact.to_str().unwrap();
    write_file(
        dir.path(),
        "mgrid.toml",
        "[stages.shop]\nprotected = true\nalarm_email = \"ops@example.com\"\n",
    );
    let skip = |yes: bool| {
        let mut args = vec![
            "deploy",
            "--stage",
            "shop",
            "--skip-shift",
            "--output",
            "json",
            "--artifact",
            artifact,
        ];
        if yes {
            args.push("--yes");
        }
        run(&emulator, dir.path(), &args)
    };

    // No terminal to type the name on, and no --yes: declined, nothing left behind.
    let refused = skip(false);
    assert_eq!(refused.code, 10, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("no terminal to confirm on"),
        "{}",
        refused.stderr
    );
    let stages = run(&emulator, dir.path(), &["stages", "--output", "json"]);
    assert_eq!(stages.json()["stages"], serde_json::json!([]));

    let deployed = skip(true);
    assert_eq!(deployed.code, 0, "{}", deployed.stderr);
    let status = run(
        &emulator,
        dir.path(),
        &["status", "--stage", "shop", "--output", "json"],
    );
    assert_eq!(status.json()["stack"]["deployStrategy"], "all-at-once");
    assert_eq!(
        status.json()["stack"]["configuredStrategy"],
        "canary10-5m",
        "status says the settings ask for another strategy"
    );
    assert_eq!(
        status.json()["stack"]["configuredGuards"],
        "version-failures,processor-throttles"
    );

    // The next deploy puts the protected stage's canary and guard alarms back.
    let diff = run(
        &emulator,
        dir.path(),
        &[
            "diff",
            "--stage",
            "shop",
            "--output",
            "json",
            "--artifact",
            artifact,
        ],
    );
    let changes = diff.json()["parameterChanges"].clone();
    let after = |name: &str| {
        changes
            .as_array()
            .and_then(|all| all.iter().find(|c| c["name"] == name))
            .map(|c| c["after"].clone())
    };
    assert_eq!(
        after("DeployStrategy"),
        Some(serde_json::json!(
            "CodeDeployDefault.LambdaCanary10Percent5Minutes"
        )),
        "{changes}"
    );
    assert_eq!(
        after("DeployAlarms"),
        Some(serde_json::json!("version-failures,processor-throttles")),
        "{changes}"
    );
}

/// `--stage lcoal` is a valid AWS stage name, and almost never what was meant: its "not
/// deployed" points at the local stage.
#[test]
fn a_stage_name_a_typo_away_from_local_is_pointed_at_it() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let status = run(&emulator, dir.path(), &["status", "--stage", "lcoal"]);
    assert_eq!(status.code, 5, "{}", status.stderr);
    assert!(
        status
            .stderr
            .contains("did you mean `--stage local`, the stage `mgrid dev` runs?"),
        "{}",
        status.stderr
    );
    let prod = run(&emulator, dir.path(), &["status", "--stage", "prod"]);
    assert!(!prod.stderr.contains("did you mean"), "{}", prod.stderr);
}

/// Ctrl-C while a first deploy's change set is being made is heard: nothing was executed, the
/// change set and the REVIEW_IN_PROGRESS stack it made are deleted, the run says so and exits
/// 130 (before, the process died silently and left the stack behind).
#[test]
fn ctrl_c_while_the_change_set_is_made_deletes_it_and_says_so() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let artifact = placeholder_artifact(dir.path());
    // Every request held 0.4 s: the interrupt lands while CreateChangeSet is on its way.
    let proxy = support::CountingProxy::with_delay(&emulator.endpoint, Duration::from_millis(400));
    let child = support::mgrid_process_at(
        &proxy.endpoint,
        dir.path(),
        &[
            "deploy",
            "--stage",
            "k8",
            "--yes",
            "--artifact",
            artifact.to_str().unwrap(),
        ],
    )
    .stdin(std::process::Stdio::null())
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    let started = Instant::now();
    while proxy.requests("CreateChangeSet") == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the deploy never made its change set"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let pid = i32::try_from(child.id()).unwrap();
    // SAFETY: kill(2) on a child this test spawned and has not reaped.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("stopped before anything was executed"),
        "{stderr}"
    );
    assert_eq!(proxy.requests("ExecuteChangeSet"), 0);
    let stages = run(&emulator, dir.path(), &["stages", "--output", "json"]);
    assert_eq!(
        stages.json()["stages"],
        serde_json::json!([]),
        "no stack left behind: {stderr}"
    );
}

/// The KMS key ARN the stage publishes, and the one SSM names for a key ring.
fn stage_key_and_ring_key(emulator: &Emulator, ring: &str) -> (String, String) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let config = emulator.sdk_config().await;
        let ssm = aws_sdk_ssm::Client::new(&config);
        let stage_key = ssm
            .get_parameter()
            .name("/marketgrid/dev/kms-key-arn")
            .send()
            .await
            .expect("the stage publishes its key")
            .parameter()
            .and_then(|p| p.value())
            .unwrap()
            .to_owned();
        let described = ssm
            .describe_parameters()
            .parameter_filters(
                aws_sdk_ssm::types::ParameterStringFilter::builder()
                    .key("Name")
                    .values(ring)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
        let ring_key = described
            .parameters()
            .first()
            .and_then(|p| p.key_id())
            .unwrap_or_else(|| panic!("{ring} has no key id"))
            .to_owned();
        (stage_key, ring_key)
    })
}

/// Destroy keeps the key rings (and, on AWS, the ledger, archive and key); a deploy of the same
/// stage makes a new key. The rings must end under it, or the new stage's roles could not read
/// them and the authorizer would deny every webhook. The deploy says what it found and what it
/// does with each. (The emulator drops a retained table with its stack, which AWS does not: the
/// test makes the kept ledger again under the name the destroy reported.)
#[test]
fn a_stage_destroyed_and_deployed_again_re_encrypts_its_kept_rings_and_names_its_old_ledger() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let artifact = placeholder_artifact(dir.path());
    let artifact = artifact.to_str().unwrap();
    let deploy = [
        "deploy",
        "--stage",
        "dev",
        "--yes",
        "--output",
        "json",
        "--artifact",
        artifact,
    ];
    let first = run(&emulator, dir.path(), &deploy);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let rotated = run(
        &emulator,
        dir.path(),
        &[
            "keys", "rotate", "stripe", "--stage", "dev", "--yes", "--output", "json",
        ],
    );
    assert_eq!(rotated.code, 0, "{}", rotated.stderr);
    let ring = "/marketgrid/dev/api-keys/stripe";
    let (old_key, ring_key) = stage_key_and_ring_key(&emulator, ring);
    assert_eq!(ring_key, old_key, "a rotation writes under the stage key");
    // A provider token is a ring too, kept and read the same way.
    let token = support::run_with_input(
        &emulator,
        dir.path(),
        &[
            "keys",
            "set-provider-token",
            "stripe",
            "--stage",
            "dev",
            "--no-check",
        ],
        "rk_test_0123456789abcdefghijklmn\n",
    );
    assert_eq!(token.code, 0, "{}", token.stderr);
    let token_ring = "/marketgrid/dev/provider-tokens/stripe";
    assert_eq!(stage_key_and_ring_key(&emulator, token_ring).1, old_key);
    let listed = run(
        &emulator,
        dir.path(),
        &["keys", "list", "--stage", "dev", "--output", "json"],
    );
    assert_eq!(listed.code, 0, "{}", listed.stderr);

    let destroyed = run(
        &emulator,
        dir.path(),
        &["destroy", "--stage", "dev", "--yes", "--output", "json"],
    );
    assert_eq!(destroyed.code, 0, "{}", destroyed.stderr);
    let old_table = destroyed.json()["retained"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resourceType"] == "AWS::DynamoDB::Table")
        .and_then(|r| r["physicalId"].as_str())
        .unwrap()
        .to_owned();
    let made = aws_cli(
        &emulator,
        dir.path(),
        &format!(
            "aws dynamodb create-table --table-name {old_table} --billing-mode PAY_PER_REQUEST \
             --attribute-definitions AttributeName=transactionId,AttributeType=S \
             --key-schema AttributeName=transactionId,KeyType=HASH"
        ),
    );
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );

    let again = run(&emulator, dir.path(), &deploy);
    assert_eq!(again.code, 0, "{}", again.stderr);
    let report = again.json();
    assert_eq!(report["action"], "create");
    assert_eq!(
        report["kept"]["rings"],
        serde_json::json!([ring, token_ring]),
        "{report}"
    );
    assert_eq!(
        report["kept"]["ledgers"],
        serde_json::json!([old_table]),
        "{report}"
    );
    assert_eq!(
        report["reEncryptedRings"],
        serde_json::json!([ring, token_ring]),
        "{report}"
    );
    assert!(
        again
            .stderr
            .contains("dev was deployed here before and destroyed")
            && again
                .stderr
                .contains("re-encrypted under the new stage key once it exists")
            && again
                .stderr
                .contains(&format!("ledger table(s) {old_table}: left as they are")),
        "{}",
        again.stderr
    );
    let (new_key, ring_key) = stage_key_and_ring_key(&emulator, ring);
    assert_ne!(new_key, old_key, "the new stage has a new key");
    assert_eq!(
        ring_key, new_key,
        "the kept ring is under the new stage key"
    );
    assert_eq!(
        stage_key_and_ring_key(&emulator, token_ring).1,
        new_key,
        "the kept provider token is under the new stage key"
    );
    // The keys in it are the ones the providers hold: re-encrypting changed none.
    let relisted = run(
        &emulator,
        dir.path(),
        &["keys", "list", "--stage", "dev", "--output", "json"],
    );
    assert_eq!(relisted.code, 0, "{}", relisted.stderr);
    let current = |listed: &support::Run| {
        listed.json()["providers"][0]["apiKey"]["currentKeyId"]
            .as_str()
            .map(str::to_owned)
    };
    assert!(current(&listed).is_some(), "{}", listed.stdout);
    assert_eq!(current(&relisted), current(&listed));

    // A deploy after that finds every ring in place and writes nothing.
    let settled = run(&emulator, dir.path(), &deploy);
    assert_eq!(settled.code, 0, "{}", settled.stderr);
    assert_eq!(settled.json()["reEncryptedRings"], serde_json::json!([]));

    // A ring put back under the old key (as an interrupted re-encryption leaves it): `keys list`
    // says so, and even an unchanged deploy re-encrypts it.
    put_under_key(&emulator, ring, &old_key);
    let warned = run(&emulator, dir.path(), &["keys", "list", "--stage", "dev"]);
    assert_eq!(warned.code, 0, "{}", warned.stderr);
    assert!(
        warned
            .stdout
            .contains("not encrypted under the stage's key")
            && warned.stdout.contains(&format!("\n  {ring}\n")),
        "{}",
        warned.stdout
    );
    let unchanged = run(&emulator, dir.path(), &deploy);
    assert_eq!(unchanged.code, 0, "{}", unchanged.stderr);
    assert_eq!(unchanged.json()["action"], "none");
    assert_eq!(
        unchanged.json()["reEncryptedRings"],
        serde_json::json!([ring])
    );
    assert_eq!(stage_key_and_ring_key(&emulator, ring).1, new_key);
}

/// Writes a ring back, unchanged, encrypted under `key`.
fn put_under_key(emulator: &Emulator, ring: &str, key: &str) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let config = emulator.sdk_config().await;
        let ssm = aws_sdk_ssm::Client::new(&config);
        let value = ssm
            .get_parameter()
            .name(ring)
            .with_decryption(true)
            .send()
            .await
            .unwrap()
            .parameter()
            .and_then(|p| p.value())
            .unwrap()
            .to_owned();
        ssm.put_parameter()
            .name(ring)
            .value(value)
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .key_id(key)
            .overwrite(true)
            .send()
            .await
            .unwrap();
    })
}
