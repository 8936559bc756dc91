//! `mgrid dlq redrive --native` and `mgrid dlq cancel` against recorded responses shaped like
//! SQS's own (aws-smithy-mocks): the AWS emulator does not implement message move tasks
//! (StartMessageMoveTask, ListMessageMoveTasks, CancelMessageMoveTask).

use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::operation::cancel_message_move_task::CancelMessageMoveTaskOutput;
use aws_sdk_sqs::operation::list_message_move_tasks::ListMessageMoveTasksOutput;
use aws_sdk_sqs::operation::start_message_move_task::StartMessageMoveTaskOutput;
use aws_sdk_sqs::types::ListMessageMoveTasksResultEntry;
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use mgrid::aws::queues::{MoveTaskStatus, MoveTasks};
use mgrid::commands::dlq::{cancel_running, start_and_follow};
use mgrid::failure::FailureKind;

const DLQ: &str = "arn:aws:sqs:eu-west-1:123456789012:marketgrid-prod-webhooks-dlq.fifo";
const QUEUE: &str = "arn:aws:sqs:eu-west-1:123456789012:marketgrid-prod-webhooks.fifo";
const HANDLE: &str = "eyJ0YXNrSWQiOiJkYzk0ZWI1ZC1jN2E4LTQ5NjctOWI1NS03YzY0Y2JmNzM4YzAiLCJzb3VyY2VBcm4iOiJhcm46YXdzOnNxczpldS13ZXN0LTE6MTIzNDU2Nzg5MDEyOm1hcmtldGdyaWQtcHJvZC13ZWJob29rcy1kbHEuZmlmbyJ9";

/// One task as ListMessageMoveTasks shows it: the handle only while it runs.
fn task(status: &str, moved: i64, failure: Option<&str>) -> ListMessageMoveTasksOutput {
    let running = status == "RUNNING";
    ListMessageMoveTasksOutput::builder()
        .results(
            ListMessageMoveTasksResultEntry::builder()
                .set_task_handle(running.then(|| HANDLE.to_owned()))
                .status(status)
                .source_arn(DLQ)
                .destination_arn(QUEUE)
                .max_number_of_messages_per_second(100)
                .approximate_number_of_messages_moved(moved)
                .approximate_number_of_messages_to_move(200)
                .set_failure_reason(failure.map(str::to_owned))
                .started_timestamp(1_795_923_000_000)
                .build(),
        )
        .build()
}

fn started() -> aws_smithy_mocks::Rule {
    mock!(Client::start_message_move_task)
        .match_requests(|request| {
            request.source_arn() == Some(DLQ)
                && request.destination_arn() == Some(QUEUE)
                && request.max_number_of_messages_per_second() == Some(100)
        })
        .then_output(|| {
            StartMessageMoveTaskOutput::builder()
                .task_handle(HANDLE)
                .build()
        })
}

/// A native redrive at 100/s against the recorded answers `start` and `list`.
async fn follow(
    start: &aws_smithy_mocks::Rule,
    list: &aws_smithy_mocks::Rule,
) -> Result<mgrid::aws::queues::MoveTask, mgrid::failure::Failure> {
    let client = mock_client!(aws_sdk_sqs, RuleMode::MatchAny, &[start, list]);
    start_and_follow(
        &MoveTasks::new(client),
        DLQ,
        QUEUE,
        Some(100),
        Duration::from_millis(1),
        None,
    )
    .await
}

#[tokio::test]
async fn a_native_move_is_followed_until_it_completes() {
    let start = started();
    let list = mock!(Client::list_message_move_tasks)
        .sequence()
        .output(|| task("RUNNING", 0, None))
        .output(|| task("RUNNING", 120, None))
        .output(|| task("COMPLETED", 200, None))
        .build();

    let done = follow(&start, &list).await.unwrap();
    assert_eq!(done.status, MoveTaskStatus::Completed);
    assert_eq!(done.moved, 200);
    assert_eq!(done.to_move, Some(200));
    assert_eq!(start.num_calls(), 1, "one task started");
    assert_eq!(list.num_calls(), 3, "followed until it ended");
}

#[tokio::test]
async fn a_native_move_that_fails_says_why() {
    let start = started();
    let list = mock!(Client::list_message_move_tasks)
        .sequence()
        .output(|| task("RUNNING", 40, None))
        .output(|| task("FAILED", 40, Some("AWS.KMS.AccessDeniedException")))
        .build();

    let ended = follow(&start, &list).await.unwrap();
    assert_eq!(ended.status, MoveTaskStatus::Failed);
    assert_eq!(ended.moved, 40);
    assert_eq!(
        ended.failure.as_deref(),
        Some("AWS.KMS.AccessDeniedException")
    );
}

#[tokio::test]
async fn a_start_sqs_refuses_is_an_error_and_nothing_is_followed() {
    let start = mock!(Client::start_message_move_task).then_error(|| {
        aws_sdk_sqs::operation::start_message_move_task::StartMessageMoveTaskError::generic(
            aws_sdk_sqs::error::ErrorMetadata::builder()
                .code("AWS.SimpleQueueService.UnsupportedOperation")
                .message("There is already a task running. Only one active task is allowed for a source queue arn at a given time.")
                .build(),
        )
    });
    let list = mock!(Client::list_message_move_tasks).then_output(|| task("RUNNING", 1, None));

    let refused = follow(&start, &list).await.unwrap_err();
    assert!(
        refused.to_string().contains("already a task running"),
        "{refused}"
    );
    assert_eq!(list.num_calls(), 0);
}

#[tokio::test]
async fn cancel_stops_the_running_task_by_its_handle() {
    let list = mock!(Client::list_message_move_tasks).then_output(|| task("RUNNING", 57, None));
    let cancel = mock!(Client::cancel_message_move_task)
        .match_requests(|request| request.task_handle() == Some(HANDLE))
        .then_output(|| {
            CancelMessageMoveTaskOutput::builder()
                .approximate_number_of_messages_moved(61)
                .build()
        });
    let client = mock_client!(aws_sdk_sqs, RuleMode::MatchAny, &[&list, &cancel]);

    let cancelled = cancel_running(&MoveTasks::new(client), DLQ).await.unwrap();
    assert_eq!(cancelled.status, MoveTaskStatus::Cancelling);
    assert_eq!(cancelled.moved, 61);
    assert_eq!(cancel.num_calls(), 1);
}

#[tokio::test]
async fn cancel_with_no_running_task_is_not_found() {
    let list = mock!(Client::list_message_move_tasks).then_output(|| task("COMPLETED", 200, None));
    let cancel = mock!(Client::cancel_message_move_task)
        .then_output(|| CancelMessageMoveTaskOutput::builder().build());
    let client = mock_client!(aws_sdk_sqs, RuleMode::MatchAny, &[&list, &cancel]);

    let nothing = cancel_running(&MoveTasks::new(client), DLQ)
        .await
        .unwrap_err();
    assert_eq!(nothing.kind, FailureKind::NotFound);
    assert!(
        nothing
            .to_string()
            .contains("no message move task is running")
    );
    assert_eq!(cancel.num_calls(), 0);
}
