//! The lifecycle paths the AWS emulator cannot produce (it has no per-resource events, no
//! rollbacks, no replacement details, no property values, no throttling), driven by recorded
//! responses shaped like CloudFormation's own (aws-smithy-mocks): a create that fails and rolls
//! back, a long update with many events, throttling while watching, a replacement of the ledger
//! table on prod read over two pages, and a diff's property values. The rendered views are
//! pinned by snapshots.

use crate::support::stack_events;
use stack_events::{plain, quick};

use std::time::{Duration, Instant};

use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::config::retry::RetryConfig;
use aws_sdk_cloudformation::error::ErrorMetadata;
use aws_sdk_cloudformation::operation::describe_change_set::DescribeChangeSetOutput;
use aws_sdk_cloudformation::operation::describe_stack_events::DescribeStackEventsOutput;
use aws_sdk_cloudformation::operation::describe_stacks::{
    DescribeStacksError, DescribeStacksOutput,
};
use aws_sdk_cloudformation::types::{
    AttributeChangeType, Change, ChangeAction, ChangeSetStatus, ChangeSource, ChangeType,
    EvaluationType, Replacement, RequiresRecreation, ResourceAttribute, ResourceChange,
    ResourceChangeDetail, ResourceTargetDefinition, StackEvent,
};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use mgrid::aws::stack::{ChangeSetOutcome, Stacks};
use mgrid::commands::deploy::watch::{WatchOptions, watch};
use mgrid::decide::lifecycle::plan::{self, Danger};
use mgrid::decide::lifecycle::render;

const T0: i64 = 1_795_923_000;

fn stack(status: &str) -> DescribeStacksOutput {
    stack_events::stack(status, T0)
}

fn event(n: i64, id: &str, kind: &str, status: &str, reason: Option<&str>) -> StackEvent {
    stack_events::event(T0, n, id, kind, status, reason)
}

/// The stack's event history as the API returns it: newest first.
fn history(events: &[StackEvent]) -> DescribeStackEventsOutput {
    let mut newest_first = events.to_vec();
    newest_first.reverse();
    DescribeStackEventsOutput::builder()
        .set_stack_events(Some(newest_first))
        .build()
}

async fn watch_lines(
    client: Client,
    planned: usize,
    options: WatchOptions,
) -> (mgrid::commands::deploy::watch::Watched, String) {
    let stacks = Stacks::new(client);
    let mut lines = String::new();
    let watched = watch(
        &stacks,
        "marketgrid-prod",
        "prod",
        0,
        planned,
        Instant::now(),
        &options,
        None,
        &mut |text| lines.push_str(text),
    )
    .await
    .unwrap();
    (watched, lines)
}

#[tokio::test]
async fn a_create_that_fails_and_rolls_back_is_summarised_first_cause_first() {
    let stack_type = "AWS::CloudFormation::Stack";
    let all = vec![
        event(
            1,
            "marketgrid-prod",
            stack_type,
            "CREATE_IN_PROGRESS",
            Some("User Initiated"),
        ),
        event(2, "StageKey", "AWS::KMS::Key", "CREATE_IN_PROGRESS", None),
        event(
            3,
            "WebhookDeadLetterQueue",
            "AWS::SQS::Queue",
            "CREATE_IN_PROGRESS",
            None,
        ),
        event(4, "StageKey", "AWS::KMS::Key", "CREATE_COMPLETE", None),
        event(
            5,
            "TransactionsTable",
            "AWS::DynamoDB::Table",
            "CREATE_IN_PROGRESS",
            None,
        ),
        event(
            6,
            "TransactionsTable",
            "AWS::DynamoDB::Table",
            "CREATE_FAILED",
            Some(
                "Resource handler returned message: \"User: arn:aws:sts::123456789012:assumed-role/deployer/mgrid is not authorized to perform: kms:CreateGrant on resource: arn:aws:kms:eu-west-1:123456789012:key/8f1e\" (Service: DynamoDb, Status Code: 400)",
            ),
        ),
        event(
            7,
            "WebhookDeadLetterQueue",
            "AWS::SQS::Queue",
            "CREATE_FAILED",
            Some("Resource creation cancelled"),
        ),
        event(
            8,
            "marketgrid-prod",
            stack_type,
            "ROLLBACK_IN_PROGRESS",
            Some(
                "The following resource(s) failed to create: [TransactionsTable, WebhookDeadLetterQueue]. Rollback requested by user.",
            ),
        ),
        event(
            9,
            "WebhookDeadLetterQueue",
            "AWS::SQS::Queue",
            "DELETE_COMPLETE",
            None,
        ),
        event(10, "StageKey", "AWS::KMS::Key", "DELETE_SKIPPED", None),
        event(
            11,
            "TransactionsTable",
            "AWS::DynamoDB::Table",
            "DELETE_COMPLETE",
            None,
        ),
        event(12, "marketgrid-prod", stack_type, "ROLLBACK_COMPLETE", None),
    ];
    let statuses = mock!(Client::describe_stacks)
        .sequence()
        .output(|| stack("CREATE_IN_PROGRESS"))
        .output(|| stack("ROLLBACK_IN_PROGRESS"))
        .output(|| stack("ROLLBACK_COMPLETE"))
        .build();
    let (first, second, third) = (all[..4].to_vec(), all[..8].to_vec(), all.clone());
    let events = mock!(Client::describe_stack_events)
        .sequence()
        .output(move || history(&first))
        .output(move || history(&second))
        .output(move || history(&third))
        .build();
    let client = mock_client!(
        aws_sdk_cloudformation,
        RuleMode::MatchAny,
        &[&statuses, &events]
    );
    let (watched, lines) = watch_lines(client, 70, quick()).await;

    assert_eq!(watched.final_status, "ROLLBACK_COMPLETE");
    assert!(!plan::succeeded(&watched.final_status));
    assert_eq!(watched.events.len(), all.len(), "every event once");
    let summary = plan::failure_summary(&watched.events, "marketgrid-prod");
    assert_eq!(
        summary[0].logical_id, "TransactionsTable",
        "the first cause first"
    );
    insta::assert_snapshot!("rollback_plain_live_view", plain(&lines));
    insta::assert_snapshot!(
        "rollback_failure_summary",
        plain(&render::failure_report(&summary))
    );
}

#[tokio::test]
async fn a_long_update_shows_every_event_once_and_its_progress() {
    let mut all = vec![event(
        0,
        "marketgrid-prod",
        "AWS::CloudFormation::Stack",
        "UPDATE_IN_PROGRESS",
        Some("User Initiated"),
    )];
    for i in 0..40 {
        all.push(event(
            1 + 2 * i,
            &format!("Alarm{i:02}"),
            "AWS::CloudWatch::Alarm",
            "UPDATE_IN_PROGRESS",
            None,
        ));
        all.push(event(
            2 + 2 * i,
            &format!("Alarm{i:02}"),
            "AWS::CloudWatch::Alarm",
            "UPDATE_COMPLETE",
            None,
        ));
    }
    all.push(event(
        100,
        "marketgrid-prod",
        "AWS::CloudFormation::Stack",
        "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
        None,
    ));
    all.push(event(
        101,
        "marketgrid-prod",
        "AWS::CloudFormation::Stack",
        "UPDATE_COMPLETE",
        None,
    ));
    let cuts = [1usize, 20, 51, 79, all.len()];
    let mut statuses = mock!(Client::describe_stacks).sequence();
    let mut events = mock!(Client::describe_stack_events).sequence();
    for (i, cut) in cuts.iter().enumerate() {
        let status = if i + 1 == cuts.len() {
            "UPDATE_COMPLETE"
        } else {
            "UPDATE_IN_PROGRESS"
        };
        statuses = statuses.output(move || stack(status));
        let seen = all[..*cut].to_vec();
        events = events.output(move || history(&seen));
    }
    let (statuses, events) = (statuses.build(), events.build());
    let client = mock_client!(
        aws_sdk_cloudformation,
        RuleMode::MatchAny,
        &[&statuses, &events]
    );
    let (watched, lines) = watch_lines(client, 40, quick()).await;

    assert_eq!(watched.final_status, "UPDATE_COMPLETE");
    assert_eq!(
        lines.lines().count(),
        all.len(),
        "one line per event, none twice"
    );
    for i in 0..40 {
        assert_eq!(
            lines.matches(&format!(" Alarm{i:02}\n")).count(),
            2,
            "Alarm{i:02}"
        );
    }
    let progress = plan::progress(&watched.events, "marketgrid-prod", 40);
    assert_eq!(
        (progress.done, progress.in_progress.len(), progress.pending),
        (40, 0, 0)
    );
    let midway = plan::progress(&watched.events[..51], "marketgrid-prod", 40);
    insta::assert_snapshot!(
        "long_update_live_block_midway",
        plain(&render::live_block(
            "prod",
            "UPDATE_IN_PROGRESS",
            133,
            &midway
        ))
    );
}

#[tokio::test]
async fn the_terminal_view_redraws_one_block_in_place() {
    let statuses = mock!(Client::describe_stacks)
        .sequence()
        .output(|| stack("UPDATE_IN_PROGRESS"))
        .output(|| stack("UPDATE_COMPLETE"))
        .build();
    let all = vec![
        event(
            1,
            "ProcessorFunction",
            "AWS::Lambda::Function",
            "UPDATE_IN_PROGRESS",
            None,
        ),
        event(
            2,
            "ProcessorFunction",
            "AWS::Lambda::Function",
            "UPDATE_COMPLETE",
            None,
        ),
    ];
    let first = all[..1].to_vec();
    let events = mock!(Client::describe_stack_events)
        .sequence()
        .output(move || history(&first))
        .output(move || history(&all))
        .build();
    let client = mock_client!(
        aws_sdk_cloudformation,
        RuleMode::MatchAny,
        &[&statuses, &events]
    );
    let options = WatchOptions {
        terminal: true,
        ..quick()
    };
    let (_, drawn) = watch_lines(client, 1, options).await;
    assert_eq!(
        drawn.matches("\x1b[2A\x1b[J").count() + drawn.matches("\x1b[3A\x1b[J").count(),
        1,
        "{drawn:?}"
    );
    assert!(
        plain(&drawn).contains("1 done · 0 in progress · 0 pending"),
        "{drawn:?}"
    );
}

#[tokio::test]
async fn throttling_while_watching_backs_off_and_carries_on() {
    let throttled = || {
        DescribeStacksError::generic(
            ErrorMetadata::builder()
                .code("Throttling")
                .message("Rate exceeded")
                .build(),
        )
    };
    let statuses = mock!(Client::describe_stacks)
        .sequence()
        .error(throttled)
        .error(throttled)
        .output(|| stack("UPDATE_COMPLETE"))
        .build();
    let events = mock!(Client::describe_stack_events).then_output(|| history(&[]));
    let client = mock_client!(
        aws_sdk_cloudformation,
        RuleMode::MatchAny,
        &[&statuses, &events],
        |config| config.retry_config(RetryConfig::disabled())
    );
    let started = Instant::now();
    let (watched, _) = watch_lines(client, 0, quick()).await;
    assert_eq!(watched.final_status, "UPDATE_COMPLETE");
    assert_eq!(statuses.num_calls(), 3);
    assert!(
        started.elapsed() >= Duration::from_millis(10 + 20),
        "the pause doubled: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_stack_that_does_not_move_is_not_silent() {
    // A stale REVIEW_IN_PROGRESS or a slow resource: the status stays, no event comes.
    let statuses = mock!(Client::describe_stacks)
        .sequence()
        .output(|| stack("UPDATE_IN_PROGRESS"))
        .times(6)
        .output(|| stack("UPDATE_COMPLETE"))
        .build();
    let slow = event(
        1,
        "ProcessorAlias",
        "AWS::Lambda::Alias",
        "UPDATE_IN_PROGRESS",
        None,
    );
    let events = mock!(Client::describe_stack_events)
        .sequence()
        .output(move || history(std::slice::from_ref(&slow)))
        .output(|| history(&[]))
        .times(10)
        .build();
    let client = mock_client!(
        aws_sdk_cloudformation,
        RuleMode::MatchAny,
        &[&statuses, &events],
        |config| config.retry_config(RetryConfig::disabled())
    );
    let options = WatchOptions {
        heartbeat: Duration::from_millis(12),
        ..quick()
    };
    let (watched, lines) = watch_lines(client, 3, options).await;
    assert_eq!(watched.final_status, "UPDATE_COMPLETE");
    let beats: Vec<&str> = lines.lines().filter(|l| l.starts_with('…')).collect();
    assert!(!beats.is_empty(), "{lines}");
    assert!(
        beats[0].contains("UPDATE_IN_PROGRESS after")
            && beats[0].contains("waiting for ProcessorAlias")
            && beats[0].contains("0 of 3 resources done"),
        "{lines}"
    );
}

/// Issue 34: a rerun of an interrupted first deploy waited ten minutes on a stack that did not
/// move, with no end. Each wait has one now: the watch, the wait for a change set, the wait for
/// a deletion. Past it mgrid stops waiting (exit 8, pending), says what the stack was doing and
/// leaves CloudFormation to go on.
#[tokio::test]
async fn a_watch_on_a_stack_that_never_ends_stops_at_its_limit_saying_what_it_waited_for() {
    let statuses = mock!(Client::describe_stacks).then_output(|| stack("CREATE_IN_PROGRESS"));
    let slow = event(
        1,
        "ProcessorFunction",
        "AWS::Lambda::Function",
        "CREATE_IN_PROGRESS",
        None,
    );
    let events = mock!(Client::describe_stack_events)
        .then_output(move || history(std::slice::from_ref(&slow)));
    let client = mock_client!(
        aws_sdk_cloudformation,
        RuleMode::MatchAny,
        &[&statuses, &events]
    );
    let options = WatchOptions {
        limit: Duration::from_millis(60),
        ..quick()
    };
    let started = Instant::now();
    let stacks = Stacks::new(client);
    let failure = watch(
        &stacks,
        "marketgrid-k7",
        "k7",
        0,
        4,
        started,
        &options,
        None,
        &mut |_| {},
    )
    .await
    .err()
    .expect("a stack that never ends is not watched for ever");
    assert_eq!(failure.kind.exit_code(), 8, "{failure:?}");
    assert!(
        failure.what.contains("stopped watching after")
            && failure.what.contains("CREATE_IN_PROGRESS")
            && failure.what.contains("waiting for ProcessorFunction"),
        "{}",
        failure.what
    );
    assert!(
        failure
            .next
            .as_deref()
            .is_some_and(|n| n.contains("mgrid status --stage k7")),
        "{failure:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "stopped near its limit: {:?}",
        started.elapsed()
    );
    assert!(statuses.num_calls() >= 2, "it polled until the limit");
}

#[tokio::test]
async fn a_change_set_never_computed_and_a_deletion_that_never_ends_are_waited_for_up_to_a_limit() {
    let computing = mock!(Client::describe_change_set).then_output(|| {
        DescribeChangeSetOutput::builder()
            .status(ChangeSetStatus::CreateInProgress)
            .build()
    });
    let deleting = mock!(Client::describe_stacks).then_output(|| stack("DELETE_IN_PROGRESS"));
    let client = mock_client!(
        aws_sdk_cloudformation,
        RuleMode::MatchAny,
        &[&computing, &deleting]
    );
    let stacks = Stacks::new(client);
    let failure = stacks
        .wait_for_change_set("marketgrid-k7", "mgrid-1", Duration::from_millis(600))
        .await
        .expect_err("a change set never computed is not waited for for ever");
    assert_eq!(failure.kind.exit_code(), 8, "{failure:?}");
    assert!(
        failure.what.contains("CREATE_IN_PROGRESS")
            && failure.what.contains("nothing was executed"),
        "{}",
        failure.what
    );
    assert!(
        failure
            .next
            .as_deref()
            .is_some_and(|n| n.contains("mgrid deploy --execute mgrid-1")),
        "{failure:?}"
    );
    assert!(
        computing.num_calls() >= 2,
        "it asked again before giving up"
    );

    let failure =
        mgrid::aws::stack::wait_until_deleted(&stacks, "marketgrid-k7", Duration::from_millis(100))
            .await
            .expect_err("a deletion that never ends is not waited for for ever");
    assert_eq!(failure.kind.exit_code(), 8, "{failure:?}");
    assert!(
        failure.what.contains("still DELETE_IN_PROGRESS"),
        "{}",
        failure.what
    );
}

#[tokio::test]
async fn replacing_the_ledger_on_prod_is_marked_and_blocked_over_a_paginated_change_set() {
    let change = |id: &str, kind: &str, action: ChangeAction, replacement: Option<Replacement>| {
        Change::builder()
            .r#type(ChangeType::Resource)
            .resource_change(
                ResourceChange::builder()
                    .action(action)
                    .logical_resource_id(id)
                    .resource_type(kind)
                    .set_replacement(replacement)
                    .build(),
            )
            .build()
    };
    let first_page = DescribeChangeSetOutput::builder()
        .status(ChangeSetStatus::CreateComplete)
        .changes(change(
            "ProcessorFunction",
            "AWS::Lambda::Function",
            ChangeAction::Modify,
            Some(Replacement::False),
        ))
        .changes(change(
            "ProcessorLogGroup",
            "AWS::Logs::LogGroup",
            ChangeAction::Modify,
            Some(Replacement::False),
        ))
        .next_token("page-2")
        .build();
    let second_page = DescribeChangeSetOutput::builder()
        .status(ChangeSetStatus::CreateComplete)
        .changes(change(
            "TransactionsTable",
            "AWS::DynamoDB::Table",
            ChangeAction::Modify,
            Some(Replacement::True),
        ))
        .changes(change(
            "QueueUrlParameter",
            "AWS::SSM::Parameter",
            ChangeAction::Remove,
            None,
        ))
        .build();
    let pages = mock!(Client::describe_change_set)
        .sequence()
        .output(move || first_page.clone())
        .output(move || second_page.clone())
        .build();
    let client = mock_client!(aws_sdk_cloudformation, RuleMode::MatchAny, &[&pages]);
    let outcome = Stacks::new(client)
        .wait_for_change_set("marketgrid-prod", "mgrid-1", Duration::from_secs(600))
        .await
        .unwrap();
    let ChangeSetOutcome::Ready(changes) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(changes.len(), 4, "both pages are read");
    assert_eq!(pages.num_calls(), 2);

    let review = plan::review_changes(changes.clone(), true);
    assert!(
        review.needs_allow_replacement,
        "a protected stage needs --allow-replacement"
    );
    let dangers: Vec<Option<Danger>> = review.changes.iter().map(|c| c.danger).collect();
    assert_eq!(
        dangers,
        [None, None, Some(Danger::Replacement), Some(Danger::Removal)]
    );
    assert!(
        !plan::review_changes(changes, false).needs_allow_replacement,
        "dev is not protected"
    );
    insta::assert_snapshot!(
        "ledger_replacement_change_table",
        plain(&render::change_table(&review, None))
    );
}

/// A modified resource with its details, as a change set lists it.
fn modified(
    id: &str,
    kind: &str,
    replacement: Replacement,
    details: Vec<ResourceChangeDetail>,
) -> Change {
    Change::builder()
        .r#type(ChangeType::Resource)
        .resource_change(
            ResourceChange::builder()
                .action(ChangeAction::Modify)
                .logical_resource_id(id)
                .resource_type(kind)
                .replacement(replacement)
                .set_details(Some(details))
                .build(),
        )
        .build()
}

/// One `Details` member as CloudFormation returns it with `IncludePropertyValues`.
fn detail(
    path: &str,
    before: Option<&str>,
    after: Option<&str>,
    recreation: RequiresRecreation,
    evaluation: EvaluationType,
    cause: Option<(ChangeSource, &str)>,
) -> ResourceChangeDetail {
    let name = path.rsplit('/').next().unwrap_or(path);
    ResourceChangeDetail::builder()
        .target(
            ResourceTargetDefinition::builder()
                .attribute(ResourceAttribute::Properties)
                .name(name)
                .path(path)
                .requires_recreation(recreation)
                .set_before_value(before.map(str::to_owned))
                .set_after_value(after.map(str::to_owned))
                .attribute_change_type(match (before, after) {
                    (None, _) => AttributeChangeType::Add,
                    (_, None) => AttributeChangeType::Remove,
                    _ => AttributeChangeType::Modify,
                })
                .build(),
        )
        .evaluation(evaluation)
        .set_change_source(cause.as_ref().map(|(source, _)| source.clone()))
        .set_causing_entity(cause.map(|(_, entity)| entity.to_owned()))
        .build()
}

#[tokio::test]
async fn a_diff_shows_each_property_before_and_after_with_what_caused_it() {
    use ChangeSource::*;
    use EvaluationType::*;
    use RequiresRecreation::*;
    let long_policy = format!(
        r#"{{"Statement":[{{"Action":["sqs:SendMessage"],"Effect":"Allow","Resource":"{}"}}]}}"#,
        "arn:aws:sqs:eu-west-1:123456789012:marketgrid-prod-webhooks.fifo"
    );
    let memory = |evaluation| {
        detail(
            "/Properties/MemorySize",
            Some("1024"),
            Some("2048"),
            Never,
            evaluation,
            Some((ParameterReference, "ProcessorMemory")),
        )
    };
    let page = DescribeChangeSetOutput::builder()
        .status(ChangeSetStatus::CreateComplete)
        .changes(modified(
            "ProcessorFunction",
            "AWS::Lambda::Function",
            Replacement::False,
            vec![
                // CloudFormation lists a property once per evaluation.
                memory(Static),
                memory(Dynamic),
                detail(
                    "/Properties/Environment/Variables/ARCHIVE_VERSION",
                    Some("41"),
                    Some("{{changeSet:KNOWN_AFTER_APPLY}}"),
                    Never,
                    Dynamic,
                    Some((ResourceAttribute, "ArchiveBucket.Arn")),
                ),
                detail(
                    "/Properties/Environment/Variables/TRACE",
                    None,
                    Some("on"),
                    Never,
                    Static,
                    Some((DirectModification, "")),
                ),
            ],
        ))
        .changes(modified(
            "IngressRole",
            "AWS::IAM::Role",
            Replacement::False,
            vec![detail(
                "/Properties/Policies/0/PolicyDocument",
                None,
                Some(&long_policy),
                Never,
                Static,
                None,
            )],
        ))
        .changes(modified(
            "TransactionsTable",
            "AWS::DynamoDB::Table",
            Replacement::True,
            vec![detail(
                "/Properties/KeySchema/0/AttributeName",
                Some("eventId"),
                Some("transactionId"),
                Always,
                Static,
                None,
            )],
        ))
        .build();
    let describe = mock!(Client::describe_change_set)
        .match_requests(|input| input.include_property_values() == Some(true))
        .then_output(move || page.clone());
    let client = mock_client!(aws_sdk_cloudformation, RuleMode::MatchAny, &[&describe]);
    let outcome = Stacks::new(client)
        .wait_for_change_set("marketgrid-prod", "mgrid-1", Duration::from_secs(600))
        .await
        .unwrap();
    assert_eq!(describe.num_calls(), 1, "asked with IncludePropertyValues");
    let ChangeSetOutcome::Ready(changes) = outcome else {
        panic!("{outcome:?}")
    };
    let function = &changes[0].properties;
    assert_eq!(
        function.len(),
        3,
        "the repeated evaluation is shown once: {function:?}"
    );
    assert_eq!(function[0].path, "MemorySize");
    assert_eq!(function[0].caused_by.as_deref(), Some("ProcessorMemory"));
    assert_eq!(function[1].path, "Environment.Variables.ARCHIVE_VERSION");
    assert_eq!(function[2].change_type.as_deref(), Some("Add"));
    assert_eq!(
        changes[2].properties[0].requires_recreation.as_deref(),
        Some("Always")
    );

    let review = plan::review_changes(changes, true);
    let piped = plain(&render::change_table(&review, None));
    assert!(
        piped.contains(&long_policy),
        "piped keeps values whole:\n{piped}"
    );
    insta::assert_snapshot!("property_changes_piped", piped);
    insta::assert_snapshot!(
        "property_changes_at_80_columns",
        plain(&render::change_table(&review, Some(80)))
    );
}
