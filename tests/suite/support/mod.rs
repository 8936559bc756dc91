//! Shared test helpers for the mgrid binary: the command builder, files in temp dirs, and the
//! emulator and pinned tools (emulator.rs, which the function crates' tests include too).

#![allow(dead_code)]

pub mod cloudwatch;
mod emulator;
pub mod fifo;
pub mod local;
mod proxy;
pub mod stack_events;
mod tmux;
#[allow(unused_imports)]
pub use emulator::{Emulator, repo_root, tool};
#[allow(unused_imports)]
pub use proxy::CountingProxy;
#[allow(unused_imports)]
pub use tmux::Tmux;

use std::path::{Path, PathBuf};

/// The mgrid binary under test.
pub fn mgrid() -> assert_cmd::Command {
    let mut command = assert_cmd::Command::cargo_bin("mgrid").expect("the mgrid binary is built");
    for variable in OPERATOR_SETTINGS {
        command.env_remove(variable);
    }
    command
}

/// Tests never inherit an operator's stage, config or AWS settings.
const OPERATOR_SETTINGS: [&str; 9] = [
    "MGRID_STAGE",
    "MGRID_CONFIG",
    "MGRID_OUTPUT",
    "MGRID_LOG",
    "AWS_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "NO_COLOR",
];

/// Writes `contents` to `name` inside `dir`, returning the path.
pub fn write_file(dir: &Path, name: &str, contents: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("write test file");
    path
}

/// Runs a command that must succeed and returns what it printed on stdout.
pub fn stdout_of(command: &mut assert_cmd::Command) -> String {
    let output = command.assert().success().get_output().stdout.clone();
    String::from_utf8(output).expect("stdout is UTF-8")
}

/// A zip standing in for the Lambda artifact: the emulator runs no Lambda code.
pub fn placeholder_artifact(dir: &Path) -> PathBuf {
    let zip = mgrid_artifact::zip::zip_executable(
        "bootstrap",
        b"#!/bin/sh\n# placeholder: the emulator runs no Lambda code\n",
    )
    .unwrap();
    let path = dir.join("mgrid-functions.zip");
    std::fs::write(&path, zip).unwrap();
    path
}

/// What a run of mgrid printed, and how it exited.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", self.stdout, self.stderr))
    }

    pub fn calls(&self) -> usize {
        self.stderr
            .lines()
            .find_map(|l| l.strip_prefix("aws calls: "))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("-v printed no call count:\n{}", self.stderr))
    }
}

/// The API key `mgrid keys rotate` showed once, in the URL to register (`…?key=<key>`).
pub fn shown_key(run: &Run) -> String {
    let start = run
        .stdout
        .find("?key=")
        .unwrap_or_else(|| panic!("no key shown:\n{}", run.stdout))
        + "?key=".len();
    run.stdout[start..]
        .split_whitespace()
        .next()
        .expect("a key after ?key=")
        .to_owned()
}

pub fn run(emulator: &Emulator, dir: &Path, args: &[&str]) -> Run {
    run_with_input(emulator, dir, args, "")
}

/// The mgrid binary as a plain process, set up for the emulator and run in `dir` (for tests
/// that must spawn and kill it).
pub fn mgrid_process(emulator: &Emulator, dir: &Path, args: &[&str]) -> std::process::Command {
    mgrid_process_at(&emulator.endpoint, dir, args)
}

/// The same, with every AWS request sent to `endpoint` (a proxy in front of the emulator).
pub fn mgrid_process_at(endpoint: &str, dir: &Path, args: &[&str]) -> std::process::Command {
    use assert_cmd::cargo::CommandCargoExt;
    let mut command = std::process::Command::cargo_bin("mgrid").expect("the mgrid binary is built");
    for variable in OPERATOR_SETTINGS {
        command.env_remove(variable);
    }
    command
        .current_dir(dir)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_CONFIG_FILE", dir.join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.join("no-aws-credentials"),
        )
        .args(["--region", "us-east-1", "--endpoint-url", endpoint])
        .args(args);
    command
}

/// How long one mgrid run may take before the harness kills it and fails the test with what it
/// printed: far beyond any command here, so only a hang reaches it (and CI ends red, with the
/// culprit named, instead of running into its own limit).
const RUN_LIMIT: std::time::Duration = std::time::Duration::from_secs(600);

/// Runs mgrid against the emulator, in `dir`, with `input` on its stdin (not a terminal).
pub fn run_with_input(emulator: &Emulator, dir: &Path, args: &[&str], input: &str) -> Run {
    let assert = assert_cmd::Command::from_std(mgrid_process(emulator, dir, args))
        .write_stdin(input)
        .timeout(RUN_LIMIT)
        .assert();
    let output = assert.get_output();
    assert!(
        output.status.code().is_some(),
        "mgrid {args:?} did not end within {RUN_LIMIT:?} and was killed ({}).\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let run = Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    local::assert_printed_commands_parse(&run.stdout);
    local::assert_printed_commands_parse(&run.stderr);
    run
}

/// Deploys stage `stage` into the emulator with a placeholder artifact.
pub fn deploy_stage(emulator: &Emulator, dir: &Path, stage: &str) {
    let artifact = placeholder_artifact(dir);
    let deployed = run(
        emulator,
        dir,
        &[
            "deploy",
            "--stage",
            stage,
            "--yes",
            "--artifact",
            artifact.to_str().unwrap(),
        ],
    );
    assert_eq!(
        deployed.code, 0,
        "deploying {stage} failed: {}",
        deployed.stderr
    );
}

/// A parameter a deployed stage publishes in SSM (`/marketgrid/<stage>/...`).
pub async fn stage_parameter(
    emulator: &Emulator,
    stage: &str,
    parameter: mgrid_contract::StageParameter,
) -> String {
    let stage: mgrid_contract::StageName = stage.parse().expect("a valid stage name");
    let ssm = aws_sdk_ssm::Client::new(&emulator.sdk_config().await);
    ssm.get_parameter()
        .name(stage.parameter(parameter))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{stage} publishes no {parameter:?}: {e:?}"))
        .parameter()
        .and_then(|p| p.value())
        .expect("the parameter has a value")
        .to_owned()
}

/// Disables the stage's processor event source mapping. The emulator runs no Lambda code, but
/// its mapping still receives from the webhook queue on every send and lets the messages fall
/// back, which would move or dead-letter them at its own pace instead of the test's.
pub async fn disable_processor_mapping(emulator: &Emulator, stage: &str) {
    let function = stage_parameter(
        emulator,
        stage,
        mgrid_contract::StageParameter::ProcessorFunction,
    )
    .await;
    let lambda = aws_sdk_lambda::Client::new(&emulator.sdk_config().await);
    // The mapping invokes the processor's live alias (the traffic shift moves it).
    let mappings = lambda
        .list_event_source_mappings()
        .function_name(format!(
            "arn:aws:lambda:us-east-1:123456789012:function:{function}:live"
        ))
        .send()
        .await
        .expect("list the event source mappings");
    assert!(
        !mappings.event_source_mappings().is_empty(),
        "the stage has no event source mapping on {function}:live to disable"
    );
    for mapping in mappings.event_source_mappings() {
        lambda
            .update_event_source_mapping()
            .uuid(mapping.uuid().expect("a mapping has a uuid"))
            .enabled(false)
            .send()
            .await
            .expect("disable the event source mapping");
    }
}

/// How many messages `queue` holds: (visible, in flight).
pub async fn queue_depth(sqs: &aws_sdk_sqs::Client, queue: &str) -> (u64, u64) {
    use aws_sdk_sqs::types::QueueAttributeName;
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(queue)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .expect("read the queue's attributes");
    let map = attributes.attributes().expect("queue attributes");
    let count = |name: QueueAttributeName| map[&name].parse().expect("a count");
    (
        count(QueueAttributeName::ApproximateNumberOfMessages),
        count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
    )
}

/// Receives and deletes everything in `queue`, with all attributes, until it is empty (messages
/// in flight are waited for: they come back when their visibility ends).
pub async fn drain_queue(
    sqs: &aws_sdk_sqs::Client,
    queue: &str,
) -> Vec<aws_sdk_sqs::types::Message> {
    use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName};
    let mut all = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(180);
    loop {
        assert!(
            std::time::Instant::now() < deadline,
            "{queue} did not drain within 180 s: {:?} (visible, in flight) left",
            queue_depth(sqs, queue).await
        );
        let received = sqs
            .receive_message()
            .queue_url(queue)
            .max_number_of_messages(10)
            .visibility_timeout(60)
            // A long poll: moto works out which FIFO groups are blocked once per call, and a
            // short receive can keep missing a group freed during the call before.
            .wait_time_seconds(1)
            .message_attribute_names("All")
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .expect("receive");
        let messages = received.messages().to_vec();
        if messages.is_empty() {
            if queue_depth(sqs, queue).await == (0, 0) {
                return all;
            }
            continue;
        }
        let entries = messages.iter().enumerate().map(|(i, message)| {
            DeleteMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .receipt_handle(message.receipt_handle().expect("a receipt handle"))
                .build()
                .expect("a delete entry")
        });
        let deleted = sqs
            .delete_message_batch()
            .queue_url(queue)
            .set_entries(Some(entries.collect()))
            .send()
            .await
            .expect("delete");
        assert!(deleted.failed().is_empty(), "{:?}", deleted.failed());
        all.extend(messages);
    }
}

/// A spawned child's stdout, line by line, as it writes it (for tests of commands that keep
/// running, like a follow): the receiver ends when the child closes its stdout.
pub fn stdout_lines(child: &mut std::process::Child) -> std::sync::mpsc::Receiver<String> {
    use std::io::BufRead;
    let stdout = child.stdout.take().expect("the child's stdout is piped");
    let (lines, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    receiver
}

/// A String message attribute, as the ingress and the processor set them.
pub fn text(value: &str) -> aws_sdk_sqs::types::MessageAttributeValue {
    aws_sdk_sqs::types::MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .unwrap()
}
