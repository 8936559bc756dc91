//! The command line as an operator meets it: help, refusals, configuration errors, and the
//! offline commands `template` and `validate`.

use crate::support;

use predicates::prelude::*;
use support::{mgrid, stdout_of, write_file};

const PROD_CONFIG: &str = r#"
[stages.prod]
region = "eu-west-1"
account_id = "123456789012"
processor_memory_mb = 2048
provisioned_concurrency = { min = 5, max = 50 }
alarm_email = "ops@example.com"
custom_domain = { domain_name = "hooks.example.com", hosted_zone_id = "Z0123456789ABCDEFGHIJ", certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/abc" }
tags = { team = "payments" }

[stages.dev]
region = "eu-west-1"
"#;

fn json(output: &str) -> serde_json::Value {
    serde_json::from_str(output).expect("stdout is one JSON document")
}

#[test]
fn help_lists_every_command_with_a_one_line_description() {
    let help = stdout_of(mgrid().arg("--help"));
    for verb in [
        "deploy",
        "diff",
        "status",
        "destroy",
        "stages",
        "keys",
        "dlq",
        "replay",
        "metrics",
        "dev",
        "send",
        "artifact",
        "template",
        "validate",
        "completions",
        "man",
    ] {
        let line = help
            .lines()
            .find(|line| line.trim_start().starts_with(&format!("{verb} ")))
            .unwrap_or_else(|| panic!("`{verb}` is missing from --help:\n{help}"));
        assert!(
            line.split_whitespace().count() > 3,
            "`{verb}` has no description: {line}"
        );
    }
    for option in [
        "--stage",
        "--region",
        "--profile",
        "--endpoint-url",
        "--output",
        "--verbose",
        "--yes",
        "--no-color",
        "MGRID_STAGE",
        "AWS_ENDPOINT_URL",
        "NO_COLOR",
        "Exit codes",
    ] {
        assert!(help.contains(option), "--help does not mention {option}");
    }
}

#[test]
fn metrics_tail_refuses_a_bad_window_period_or_interval_before_any_aws_call() {
    for (args, says) in [
        (["--period", "90s"], "whole minutes"),
        (["--window", "30s"], "shorter than its period"),
        (["--interval", "2s"], "at most every 5s"),
        (["--window", "20d"], "longer than 15 days"),
    ] {
        mgrid()
            .args(["metrics", "tail", "--stage", "prod", "--once"])
            .args(args)
            // Unreachable on purpose: a refused flag must not get as far as AWS.
            .args([
                "--endpoint-url",
                "http://127.0.0.1:9",
                "--region",
                "us-east-1",
            ])
            .assert()
            .code(2)
            .stdout("")
            .stderr(predicate::str::contains(says));
    }
}

#[test]
fn an_invalid_stage_name_is_refused_with_the_rule() {
    mgrid()
        .args(["validate", "--stage", "Prod"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("^[a-z][a-z0-9-]{0,15}$"));
    mgrid()
        .arg("validate")
        .env("MGRID_STAGE", "this-name-is-far-too-long")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("lowercase letter"));
}

#[test]
fn a_bad_config_file_is_reported_with_its_file_line_and_fix() {
    let dir = tempfile::tempdir().unwrap();
    write_file(
        dir.path(),
        "mgrid.toml",
        "[stages.dev]\nregion = \"eu-west-1\"\nlog_retention_days = 31\n",
    );
    mgrid()
        .current_dir(dir.path())
        .args(["validate", "--stage", "dev"])
        .assert()
        .code(3)
        .stdout("")
        .stderr(predicate::str::contains(
            "mgrid.toml:3:22: log_retention_days must be one of",
        ))
        .stderr(predicate::str::contains("next: fix line 3 of mgrid.toml"));
}

#[test]
fn a_config_file_named_explicitly_must_exist() {
    mgrid()
        .args([
            "--config",
            "/nonexistent/mgrid.toml",
            "validate",
            "--stage",
            "dev",
        ])
        .assert()
        .code(3)
        .stderr(predicate::str::contains(
            "cannot read the configuration file /nonexistent/mgrid.toml",
        ));
}

#[test]
fn validate_shows_parameters_optional_parts_and_resources() {
    let dir = tempfile::tempdir().unwrap();
    write_file(dir.path(), "mgrid.toml", PROD_CONFIG);
    let output = stdout_of(
        mgrid()
            .current_dir(dir.path())
            .args(["validate", "--stage", "prod", "--output", "json"]),
    );
    let report = json(&output);
    let prod = &report["stages"][0];
    assert_eq!(prod["stackName"], "marketgrid-prod");
    assert_eq!(prod["protected"]["value"], true);
    assert_eq!(prod["region"]["value"], "eu-west-1");
    let parameter = |name: &str| {
        prod["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("no parameter {name}"))
            .clone()
    };
    assert_eq!(parameter("ProcessorMemory")["value"], "2048");
    assert_eq!(
        parameter("ProcessorMemory")["source"]["kind"],
        "config-file"
    );
    assert_eq!(parameter("WafRateLimit")["source"]["kind"], "template");
    assert_eq!(parameter("ArtifactKey")["source"]["kind"], "deploy");
    let parts = prod["optionalParts"].as_array().unwrap();
    assert!(parts.iter().all(|p| p["enabled"] == true), "{parts:?}");
    assert_eq!(prod["resources"]["byType"]["AWS::Lambda::Alias"], 1);
    assert_eq!(prod["resources"]["byType"]["AWS::Route53::RecordSet"], 1);
    assert_eq!(prod["problems"].as_array().unwrap().len(), 0);
}

#[test]
fn validate_text_report_for_a_default_stage() {
    let output = stdout_of(mgrid().args(["validate", "--stage", "dev", "--region", "eu-west-1"]));
    insta::assert_snapshot!(output);
}

/// The local stage is checked, not deployed: its report does not say "would deploy".
#[test]
fn validate_of_the_local_stage_says_mgrid_dev_runs_it() {
    let output = stdout_of(mgrid().args(["validate", "--stage", "local"]));
    assert!(
        output.contains(
            "ok: the local stage's settings are valid; `mgrid dev` runs it (nothing is deployed)"
        ),
        "{output}"
    );
    assert!(!output.contains("would deploy"), "{output}");
    // With an mgrid.toml it does not suggest a [stages.local] section, which the file refuses.
    let dir = tempfile::tempdir().unwrap();
    write_file(dir.path(), "mgrid.toml", PROD_CONFIG);
    let assert = mgrid()
        .current_dir(dir.path())
        .args(["validate", "--stage", "local"])
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(!stderr.contains("[stages.local]"), "{stderr}");
}

#[test]
fn validate_refuses_a_certificate_from_another_region() {
    let dir = tempfile::tempdir().unwrap();
    write_file(
        dir.path(),
        "mgrid.toml",
        &PROD_CONFIG.replace("acm:eu-west-1", "acm:us-east-1"),
    );
    mgrid()
        .current_dir(dir.path())
        .args(["validate", "--stage", "prod"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "certificate_arn is in us-east-1 but the stage deploys to eu-west-1",
        ))
        .stderr(predicate::str::contains("1 of 1 stage(s) would not deploy"));
}

#[test]
fn validate_checks_every_configured_stage_without_stage() {
    let dir = tempfile::tempdir().unwrap();
    write_file(dir.path(), "mgrid.toml", PROD_CONFIG);
    let output = stdout_of(
        mgrid()
            .current_dir(dir.path())
            .args(["validate", "--output", "json"]),
    );
    let stages: Vec<String> = json(&output)["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["stage"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(stages, ["dev", "prod"]);
}

#[test]
fn validate_with_nothing_to_validate_says_what_to_pass() {
    let dir = tempfile::tempdir().unwrap();
    mgrid()
        .current_dir(dir.path())
        .arg("validate")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("pass --stage <name>"));
}

#[test]
fn a_flag_beats_a_pinned_region_which_beats_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    write_file(dir.path(), "mgrid.toml", PROD_CONFIG);
    let region_of = |args: &[&str], env: Option<(&str, &str)>| {
        let mut command = mgrid();
        command
            .current_dir(dir.path())
            .args(["validate", "--output", "json"])
            .args(args);
        if let Some((name, value)) = env {
            command.env(name, value);
        }
        let report = json(&stdout_of(&mut command));
        report["stages"][0]["region"]["value"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(region_of(&["--stage", "dev"], None), "eu-west-1");
    // An AWS_REGION left from another task does not move a stage that pins its region.
    assert_eq!(
        region_of(&["--stage", "dev"], Some(("AWS_REGION", "ap-south-1"))),
        "eu-west-1"
    );
    let warned = mgrid()
        .current_dir(dir.path())
        .args(["validate", "--stage", "dev"])
        .env("AWS_REGION", "ap-south-1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&warned.stderr);
    assert!(
        stderr.contains("AWS_REGION=ap-south-1 is ignored: stage dev is pinned to eu-west-1"),
        "{stderr}"
    );
    assert_eq!(
        region_of(
            &["--stage", "dev", "--region", "us-west-2"],
            Some(("AWS_REGION", "ap-south-1"))
        ),
        "us-west-2"
    );
    let from_env_stage = stdout_of(
        mgrid()
            .current_dir(dir.path())
            .args(["validate", "--output", "json"])
            .env("MGRID_STAGE", "prod"),
    );
    assert_eq!(json(&from_env_stage)["stages"][0]["stage"], "prod");
}

#[test]
fn template_yaml_is_the_embedded_template_after_the_stage_parameters() {
    let text = stdout_of(mgrid().args(["template", "--stage", "prod"]));
    let embedded =
        std::fs::read_to_string(support::repo_root().join("stacks/pipeline.yaml")).unwrap();
    let (header, body) = text.split_at(text.len() - embedded.len());
    assert_eq!(body, embedded);
    assert!(header.lines().all(|line| line.starts_with('#')), "{header}");
    assert!(header.contains("Stack marketgrid-prod"));
    assert!(header.contains("Protected                 = true"));
    assert!(header.contains("ArtifactSha256            = <from the embedded artifact>"));
}

#[test]
fn template_without_a_stage_is_the_embedded_template_alone() {
    let embedded =
        std::fs::read_to_string(support::repo_root().join("stacks/pipeline.yaml")).unwrap();
    mgrid().arg("template").assert().success().stdout(embedded);
}

#[test]
fn template_json_is_cloudformation_json() {
    let output = mgrid()
        .args(["template", "--format", "json", "--stage", "dev"])
        .assert()
        .success()
        .stderr(predicate::str::contains("Stack marketgrid-dev"))
        .get_output()
        .stdout
        .clone();
    let template = json(&String::from_utf8(output).unwrap());
    assert_eq!(
        template["Resources"]["WebhookQueue"]["Properties"]["FifoQueue"],
        true
    );
    assert_eq!(
        template["Resources"]["ProcessorFunction"]["Properties"]["Role"],
        serde_json::json!({"Fn::GetAtt": ["ProcessorRole", "Arn"]})
    );
}

#[test]
fn template_output_json_carries_the_stage_parameters() {
    let output = stdout_of(mgrid().args(["template", "--stage", "dev", "--output", "json"]));
    let report = json(&output);
    assert_eq!(report["stackName"], "marketgrid-dev");
    assert!(
        report["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "Stage" && p["value"] == "dev")
    );
    assert!(report["template"]["Resources"].is_object());
}

#[test]
fn a_closed_stdout_is_not_an_error() {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("mgrid"))
        .arg("template")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{output:?}");
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn completions_print_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        mgrid()
            .args(["completions", shell])
            .assert()
            .success()
            // Each registers a completer that asks mgrid itself.
            .stdout(predicate::str::contains("mgrid").and(predicate::str::contains("COMPLETE")));
    }
    mgrid()
        .arg("man")
        .assert()
        .success()
        .stdout(predicate::str::contains(".TH mgrid"));
}

#[test]
fn artifact_info_describes_the_embedded_artifact_or_says_how_to_build_one() {
    let output = mgrid()
        .args(["artifact", "info", "--output", "json"])
        .output()
        .unwrap();
    match output.status.code() {
        Some(0) => {
            let info: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
            let artifacts = info["artifacts"].as_array().expect("a list of artifacts");
            assert!(!artifacts.is_empty());
            for artifact in artifacts {
                let arch = artifact["architecture"].as_str().unwrap();
                let dir = support::repo_root().join("target/artifact");
                let zip = [dir.join(arch), dir]
                    .into_iter()
                    .map(|dir| dir.join("mgrid-functions.zip"))
                    .find(|zip| zip.is_file())
                    .expect("an embedded artifact comes from target/artifact");
                let bytes = std::fs::read(&zip).unwrap();
                assert_eq!(artifact["sha256"], mgrid_artifact::sha256(&bytes).0);
                assert_eq!(artifact["zipBytes"], bytes.len());
                assert_eq!(artifact["glibcRequired"], "GLIBC_2.34");
            }
            assert!(info["binaryBytes"].as_u64().unwrap() > 1_000_000);
        }
        Some(5) => {
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(stderr.contains("carries no Lambda artifact"), "{stderr}");
            assert!(
                stderr.contains("cargo install --path . --locked"),
                "{stderr}"
            );
        }
        other => panic!(
            "unexpected exit {other:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        ),
    }
}

#[test]
fn an_absurd_replay_window_is_refused_before_anything_is_listed() {
    let dir = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let refused = mgrid()
        .current_dir(dir.path())
        .args([
            "replay",
            "--stage",
            "dev",
            "--region",
            "eu-west-1",
            "--from",
            "0000-01-01T00:00:00Z",
            "--to",
            "9999-12-31T00:00:00Z",
        ])
        .assert()
        .code(2)
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("hour prefixes to list"), "{stderr}");
    assert!(stderr.contains("nothing was listed"), "{stderr}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "refused at once, not after listing"
    );
}

#[test]
fn a_profile_that_is_not_defined_is_named_as_such() {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join(".aws")).unwrap();
    std::fs::write(
        home.path().join(".aws/config"),
        "[profile ops]\nregion = eu-west-1\n",
    )
    .unwrap();
    let output = mgrid()
        .current_dir(home.path())
        .args([
            "status",
            "--stage",
            "dev",
            "--profile",
            "nosuch",
            "--region",
            "eu-west-1",
        ])
        .env("HOME", home.path())
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_CONFIG_FILE")
        .env_remove("AWS_SHARED_CREDENTIALS_FILE")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("the AWS profile \"nosuch\" is not defined"),
        "{stderr}"
    );
    assert!(stderr.contains("aws configure list-profiles"), "{stderr}");
}

#[test]
fn local_is_a_reserved_stage_name_that_deploy_diff_and_destroy_refuse() {
    for verb in ["deploy", "diff", "destroy"] {
        mgrid()
            .args([verb, "--stage", "local"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!(
                "the local stage is not deployed, so `mgrid {verb}` does not apply"
            )))
            .stderr(predicate::str::contains("`mgrid dev` runs the local stage"));
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let config = write_file(
        dir.path(),
        "mgrid.toml",
        "[stages.local]\nregion = \"us-east-1\"\n",
    );
    mgrid()
        .args(["validate", "--config"])
        .arg(&config)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("`local` is reserved"));
    mgrid()
        .args(["dev", "--stage", "prod"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("runs the local stage only"));
}

#[test]
fn validate_warnings_go_to_stderr_and_stay_in_the_json_document() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let config = write_file(dir.path(), "mgrid.toml", PROD_CONFIG);
    let output = mgrid()
        .args([
            "validate",
            "--stage",
            "qa",
            "--region",
            "eu-west-1",
            "--config",
        ])
        .arg(&config)
        .output()
        .expect("mgrid runs");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(!stdout.contains("warning"), "{stdout}");
    assert!(
        stderr.contains("warning: stage qa: the configuration file has no [stages.qa] section"),
        "{stderr}"
    );
    let document = json(&stdout_of(
        mgrid()
            .args([
                "validate",
                "--stage",
                "qa",
                "--region",
                "eu-west-1",
                "--output",
                "json",
                "--config",
            ])
            .arg(&config),
    ));
    assert!(
        document["stages"][0]["warnings"][0]
            .as_str()
            .is_some_and(|w| w.contains("no [stages.qa] section"))
    );
}

#[test]
fn version_names_the_commit_and_the_embedded_artifact() {
    let short = stdout_of(mgrid().arg("-V"));
    assert!(short.starts_with("mgrid 0.1.0 (commit "), "{short}");
    let long = stdout_of(mgrid().arg("--version"));
    assert!(long.contains("(commit "), "{long}");
    // Built with an artifact, each architecture's CodeSha256; without, that it carries none.
    let names_artifacts = long
        .lines()
        .filter(|line| line.starts_with("artifact "))
        .all(|line| {
            line.starts_with("artifact none: ")
                || ["arm64", "x86_64"]
                    .iter()
                    .any(|arch| line.starts_with(&format!("artifact {arch} sha256 ")))
        });
    assert!(names_artifacts && long.contains("\nartifact "), "{long}");
}

#[test]
fn man_prints_the_page_of_any_command_down_to_its_leaves() {
    let page = stdout_of(mgrid().args(["man", "dlq", "redrive"]));
    assert!(page.contains(".TH mgrid-dlq-redrive"), "{page}");
    assert!(
        page.contains("\\-\\-dry\\-run") || page.contains("dry"),
        "{page}"
    );
    let own = stdout_of(mgrid().arg("man"));
    assert!(own.contains(".TH mgrid "), "{own}");
    mgrid()
        .args(["man", "dlq", "nosuch"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "`mgrid-dlq` has no command \"nosuch\"",
        ))
        .stderr(predicate::str::contains("redrive"));
    for leaf in [
        "mgrid-dlq-redrive.1",
        "mgrid-keys-rotate.1",
        "mgrid-metrics-tail.1",
    ] {
        assert!(
            support::repo_root()
                .join("completions/man")
                .join(leaf)
                .is_file(),
            "{leaf} is not generated"
        );
    }
}

#[test]
fn errors_with_json_output_are_one_json_document_on_stderr() {
    let refused = mgrid()
        .args(["deploy", "--stage", "local", "--output", "json"])
        .output()
        .expect("mgrid runs");
    assert_eq!(refused.status.code(), Some(2));
    assert!(refused.stdout.is_empty());
    let document: serde_json::Value =
        serde_json::from_slice(&refused.stderr).expect("stderr is one JSON document");
    assert_eq!(document["error"]["kind"], "usage");
    assert_eq!(document["error"]["exitCode"], 2);
    assert!(
        document["error"]["next"]
            .as_str()
            .is_some_and(|next| next.contains("mgrid dev"))
    );
    // What clap refuses, too, when JSON was asked for.
    let bad_flag = mgrid()
        .args(["dlq", "peek", "--limit", "lots", "--output", "json"])
        .output()
        .expect("mgrid runs");
    assert_eq!(bad_flag.status.code(), Some(2));
    let document: serde_json::Value =
        serde_json::from_slice(&bad_flag.stderr).expect("stderr is one JSON document");
    assert_eq!(document["error"]["kind"], "usage");
    assert!(
        document["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("--limit"))
    );
}

#[test]
fn a_hold_outside_sqs_bounds_is_refused_not_clamped() {
    for hold in ["13h", "0s"] {
        mgrid()
            .args(["dlq", "redrive", "--stage", "dev", "--hold", hold])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(
                "SQS hides a message for 1s to 12h",
            ));
    }
}
