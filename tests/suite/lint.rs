//! The template `mgrid template --stage prod` prints passes both linters the project holds it
//! to: cfn-lint (no errors, warnings or informational findings) and checkov (no failed check;
//! every skip carries its reason inline).

use crate::support;

use std::path::Path;
use std::process::Command;

use mgrid::decide::template::Template;
use support::{mgrid, stdout_of, tool, write_file};

/// Writes what `mgrid template --stage prod` prints, with every optional part configured on.
fn prod_template(dir: &Path) -> std::path::PathBuf {
    write_file(
        dir,
        "mgrid.toml",
        r#"[stages.prod]
region = "us-east-1"
provisioned_concurrency = { min = 2, max = 20 }
alarm_email = "ops@example.com"
custom_domain = { domain_name = "hooks.example.com", hosted_zone_id = "Z0123456789ABCDEFGHIJ", certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/abc" }
"#,
    );
    let output = stdout_of(
        mgrid()
            .current_dir(dir)
            .args(["template", "--stage", "prod"]),
    );
    let path = dir.join("pipeline.yaml");
    std::fs::write(&path, output).unwrap();
    path
}

fn cfn_lint(path: &Path) -> std::process::Output {
    Command::new(tool("cfn-lint"))
        .args(["--include-checks", "I", "--format", "parseable", "--"])
        .arg(path)
        .output()
        .expect("run cfn-lint")
}

#[test]
fn cfn_lint_finds_nothing_in_the_prod_template() {
    let dir = tempfile::tempdir().unwrap();
    let output = cfn_lint(&prod_template(dir.path()));
    assert!(
        output.status.success() && output.stdout.is_empty(),
        "cfn-lint findings:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn cfn_lint_does_catch_a_broken_template() {
    let dir = tempfile::tempdir().unwrap();
    let path = prod_template(dir.path());
    let broken = std::fs::read_to_string(&path)
        .unwrap()
        .replace("Runtime: provided.al2023", "Runtime: nodejs18.x");
    std::fs::write(&path, broken).unwrap();
    let output = cfn_lint(&path);
    assert!(
        !output.status.success(),
        "cfn-lint accepted a deprecated runtime"
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("W2531"));
}

#[test]
fn checkov_fails_no_check_of_the_prod_template() {
    let dir = tempfile::tempdir().unwrap();
    let path = prod_template(dir.path());
    let output = Command::new(tool("checkov"))
        .args([
            "--framework",
            "cloudformation",
            "--skip-download",
            "--quiet",
            "--output",
            "json",
            "--file",
        ])
        .arg(&path)
        .env("BC_SKIP_MAPPING", "TRUE")
        .output()
        .expect("run checkov");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "checkov printed no JSON report ({e}):\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let summary = &report["summary"];
    let failed: Vec<String> = report["results"]["failed_checks"]
        .as_array()
        .map(|checks| {
            checks
                .iter()
                .map(|c| {
                    format!(
                        "{} on {}: {}",
                        c["check_id"], c["resource"], c["check_name"]
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        summary["failed"],
        0,
        "checkov failed checks:\n{}",
        failed.join("\n")
    );
    assert!(
        summary["passed"].as_u64().unwrap_or(0) > 100,
        "checkov checked suspiciously little: {summary}"
    );
}

#[test]
fn every_linter_skip_carries_its_reason() {
    let template = Template::pipeline().unwrap();
    for (id, definition) in template.resources() {
        let metadata = &definition["Metadata"];
        for skip in metadata["checkov"]["skip"].as_array().into_iter().flatten() {
            let reason = skip["comment"].as_str().unwrap_or("");
            assert!(
                reason.split_whitespace().count() >= 6,
                "{id}: checkov skip {} needs a reason in its comment",
                skip["id"]
            );
        }
        assert!(
            metadata["cfn-lint"]["config"]["ignore_checks"].is_null(),
            "{id}: cfn-lint rules are fixed, not ignored"
        );
    }
}
