//! The decisions of the stage lifecycle, as pure functions of what CloudFormation reported:
//! what to do with a stack in a given state, which changes endanger data, what is in progress,
//! and which failure came first. No SDK, no I/O: these are where bugs would do damage.

use std::collections::BTreeMap;

use serde::Serialize;

use super::model::{Change, StackEvent, StackState};

/// What a deploy does with the stack it found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum StackPlan {
    /// No stack (or only an unexecuted change set): create one.
    Create,
    /// A healthy stack: update it.
    Update,
    /// A first create that failed and rolled back: the stack holds nothing and cannot be
    /// updated; it must be deleted and created again.
    RecreateAfterFailedCreate { status: String },
    /// Not now: the reason, and what to do.
    Refuse {
        status: String,
        reason: String,
        next: String,
    },
}

pub fn stack_plan(stack: Option<&StackState>, stage: &str) -> StackPlan {
    let Some(stack) = stack else {
        return StackPlan::Create;
    };
    let status = stack.status.as_str();
    let refuse = |reason: &str, next: String| StackPlan::Refuse {
        status: status.to_owned(),
        reason: reason.to_owned(),
        next,
    };
    match status {
        "REVIEW_IN_PROGRESS" => StackPlan::Create,
        "ROLLBACK_COMPLETE" | "ROLLBACK_FAILED" | "CREATE_FAILED" => {
            StackPlan::RecreateAfterFailedCreate {
                status: status.to_owned(),
            }
        }
        "CREATE_COMPLETE"
        | "UPDATE_COMPLETE"
        | "UPDATE_ROLLBACK_COMPLETE"
        | "IMPORT_COMPLETE"
        | "IMPORT_ROLLBACK_COMPLETE" => StackPlan::Update,
        "UPDATE_ROLLBACK_FAILED" => refuse(
            "the last update failed to roll back, and CloudFormation accepts no update until the rollback is finished",
            format!(
                "fix what the rollback tripped on (see `mgrid status --stage {stage}`), then run \
                 `aws cloudformation continue-update-rollback --stack-name {}`",
                stack.name
            ),
        ),
        "DELETE_FAILED" => refuse(
            "a delete of this stage failed part way",
            format!("finish it with `mgrid destroy --stage {stage}`, then deploy again"),
        ),
        in_progress if in_progress.ends_with("_IN_PROGRESS") => refuse(
            "another operation is running on the stack",
            format!(
                "wait for it to finish (`mgrid status --stage {stage}` shows it), then deploy again"
            ),
        ),
        other => refuse(
            "the stack is in a state mgrid does not deploy over",
            format!("look at it with `mgrid status --stage {stage}` (status {other})"),
        ),
    }
}

/// Resource types that hold data: replacing or removing one loses it (or orphans it).
pub const STATEFUL_TYPES: [&str; 5] = [
    "AWS::DynamoDB::Table",
    "AWS::S3::Bucket",
    "AWS::SQS::Queue",
    "AWS::KMS::Key",
    "AWS::SSM::Parameter",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Danger {
    /// A stateful resource would be replaced by a new, empty one.
    Replacement,
    /// A stateful resource may be replaced, depending on values known only at deploy.
    PossibleReplacement,
    /// A stateful resource would be removed from the stack.
    Removal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct ReviewedChange {
    #[serde(flatten)]
    pub change: Change,
    pub danger: Option<Danger>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ChangeReview {
    pub changes: Vec<ReviewedChange>,
    /// A protected stage refuses dangerous changes without --allow-replacement.
    pub needs_allow_replacement: bool,
}

pub fn review_changes(changes: Vec<Change>, protected: bool) -> ChangeReview {
    let changes: Vec<ReviewedChange> = changes
        .into_iter()
        .map(|change| {
            let stateful = STATEFUL_TYPES.contains(&change.resource_type.as_str());
            let danger = match (
                stateful,
                change.action.as_str(),
                change.replacement.as_deref(),
            ) {
                (false, _, _) => None,
                (true, "Remove", _) => Some(Danger::Removal),
                (true, "Modify", Some("True")) => Some(Danger::Replacement),
                (true, "Modify", Some("Conditional")) => Some(Danger::PossibleReplacement),
                _ => None,
            };
            ReviewedChange { change, danger }
        })
        .collect();
    let dangerous = changes.iter().any(|c| c.danger.is_some());
    ChangeReview {
        needs_allow_replacement: protected && dangerous,
        changes,
    }
}

/// The state of a deploy in progress, from the events since it started.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    pub done: usize,
    pub in_progress: Vec<String>,
    pub failed: Vec<String>,
    pub pending: usize,
}

/// `events` oldest first; `planned` is how many resources the change set touches.
pub fn progress(events: &[StackEvent], stack_name: &str, planned: usize) -> Progress {
    let mut latest: BTreeMap<&str, &str> = BTreeMap::new();
    for event in events.iter().filter(|e| e.logical_id != stack_name) {
        latest.insert(&event.logical_id, &event.status);
    }
    let mut progress = Progress::default();
    for (id, status) in latest {
        if status.ends_with("_FAILED") {
            progress.failed.push(id.to_owned());
        } else if status.ends_with("_IN_PROGRESS") {
            progress.in_progress.push(id.to_owned());
        } else {
            progress.done += 1;
        }
    }
    progress.pending =
        planned.saturating_sub(progress.done + progress.in_progress.len() + progress.failed.len());
    progress
}

/// A stack parameter a deploy changes: its value now, and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ParameterChange {
    pub name: String,
    pub now: Option<String>,
    pub after: String,
}

/// The parameters whose value a deploy changes, by name (the stack's current values against
/// those the change set passes).
pub fn parameter_changes(
    current: &BTreeMap<String, String>,
    next: &[(String, String)],
) -> Vec<ParameterChange> {
    let mut changes: Vec<ParameterChange> = next
        .iter()
        .filter(|(name, value)| current.get(name) != Some(value))
        .map(|(name, value)| ParameterChange {
            name: name.clone(),
            now: current.get(name).cloned(),
            after: value.clone(),
        })
        .collect();
    changes.sort_by(|a, b| a.name.cmp(&b.name));
    changes
}

/// A resource that failed, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct FailedResource {
    pub logical_id: String,
    pub resource_type: String,
    pub status: String,
    pub reason: String,
    /// A consequence of another failure (cancelled, or the stack's own summary).
    pub consequence: bool,
}

fn is_consequence(reason: &str) -> bool {
    let reason = reason.to_ascii_lowercase();
    reason.contains("resource creation cancelled")
        || reason.contains("resource update cancelled")
        || reason.starts_with("the following resource(s) failed")
        || reason.contains("cancelled by user")
}

/// Every failed resource of a deploy, the first cause first: causes in the order they happened,
/// then the failures they caused. `events` oldest first.
pub fn failure_summary(events: &[StackEvent], stack_name: &str) -> Vec<FailedResource> {
    let mut failures: Vec<FailedResource> = events
        .iter()
        .filter(|e| {
            e.status.ends_with("_FAILED")
                || (e.logical_id == stack_name
                    && e.status.contains("ROLLBACK")
                    && e.reason.is_some())
        })
        .map(|e| {
            let reason = e
                .reason
                .clone()
                .unwrap_or_else(|| "no reason given".to_owned());
            FailedResource {
                consequence: e.logical_id == stack_name || is_consequence(&reason),
                logical_id: e.logical_id.clone(),
                resource_type: e.resource_type.clone(),
                status: e.status.clone(),
                reason,
            }
        })
        .collect();
    failures.dedup_by(|a, b| {
        a.logical_id == b.logical_id && a.status == b.status && a.reason == b.reason
    });
    failures.sort_by_key(|f| f.consequence);
    failures
}

/// Whether a final stack status is a success.
pub fn succeeded(status: &str) -> bool {
    matches!(
        status,
        "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "IMPORT_COMPLETE"
    )
}

/// Whether a stack status is final (nothing more will happen without a new operation).
pub fn finished(status: &str) -> bool {
    !status.ends_with("_IN_PROGRESS")
}

#[cfg(test)]
mod tests {

    #[test]
    fn parameter_changes_are_the_values_that_differ() {
        let current: BTreeMap<String, String> = [("ProcessorMemory", "1024"), ("Stage", "dev")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let next = vec![
            ("Stage".to_owned(), "dev".to_owned()),
            ("ProcessorMemory".to_owned(), "2048".to_owned()),
            ("AlarmEmail".to_owned(), "ops@example.com".to_owned()),
        ];
        let changes = parameter_changes(&current, &next);
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[0].name, "AlarmEmail");
        assert_eq!(changes[0].now, None);
        assert_eq!(changes[1].name, "ProcessorMemory");
        assert_eq!(changes[1].now.as_deref(), Some("1024"));
        assert_eq!(changes[1].after, "2048");
    }
    use super::*;

    fn stack(status: &str) -> StackState {
        StackState {
            name: "marketgrid-prod".into(),
            id: "arn:aws:cloudformation:eu-west-1:1:stack/marketgrid-prod/x".into(),
            status: status.into(),
            ..StackState::default()
        }
    }

    fn change(action: &str, id: &str, kind: &str, replacement: Option<&str>) -> Change {
        Change {
            action: action.into(),
            logical_id: id.into(),
            resource_type: kind.into(),
            physical_id: None,
            replacement: replacement.map(str::to_owned),
            properties: Vec::new(),
        }
    }

    fn event(id: &str, kind: &str, status: &str, reason: Option<&str>) -> StackEvent {
        StackEvent {
            event_id: format!("{id}-{status}"),
            timestamp: 0,
            logical_id: id.into(),
            resource_type: kind.into(),
            status: status.into(),
            reason: reason.map(str::to_owned),
        }
    }

    #[test]
    fn every_stack_state_has_a_plan() {
        assert_eq!(stack_plan(None, "prod"), StackPlan::Create);
        assert_eq!(
            stack_plan(Some(&stack("REVIEW_IN_PROGRESS")), "prod"),
            StackPlan::Create
        );
        for healthy in [
            "CREATE_COMPLETE",
            "UPDATE_COMPLETE",
            "UPDATE_ROLLBACK_COMPLETE",
            "IMPORT_COMPLETE",
        ] {
            assert_eq!(
                stack_plan(Some(&stack(healthy)), "prod"),
                StackPlan::Update,
                "{healthy}"
            );
        }
        for failed_create in ["ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "CREATE_FAILED"] {
            assert!(matches!(
                stack_plan(Some(&stack(failed_create)), "prod"),
                StackPlan::RecreateAfterFailedCreate { .. }
            ));
        }
        for busy in [
            "CREATE_IN_PROGRESS",
            "UPDATE_IN_PROGRESS",
            "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
            "DELETE_IN_PROGRESS",
            "ROLLBACK_IN_PROGRESS",
        ] {
            let StackPlan::Refuse { next, .. } = stack_plan(Some(&stack(busy)), "prod") else {
                panic!("{busy} must be refused");
            };
            assert!(next.contains("mgrid status --stage prod"), "{next}");
        }
        assert!(
            matches!(stack_plan(Some(&stack("UPDATE_ROLLBACK_FAILED")), "prod"), StackPlan::Refuse { next, .. } if next.contains("continue-update-rollback"))
        );
        assert!(
            matches!(stack_plan(Some(&stack("DELETE_FAILED")), "prod"), StackPlan::Refuse { next, .. } if next.contains("mgrid destroy"))
        );
    }

    #[test]
    fn replacing_or_removing_data_is_dangerous_and_blocks_a_protected_stage() {
        let review = review_changes(
            vec![
                change(
                    "Modify",
                    "TransactionsTable",
                    "AWS::DynamoDB::Table",
                    Some("True"),
                ),
                change(
                    "Modify",
                    "ArchiveBucket",
                    "AWS::S3::Bucket",
                    Some("Conditional"),
                ),
                change("Remove", "QueueUrlParameter", "AWS::SSM::Parameter", None),
                change(
                    "Modify",
                    "ProcessorFunction",
                    "AWS::Lambda::Function",
                    Some("True"),
                ),
                change("Modify", "WebhookQueue", "AWS::SQS::Queue", Some("False")),
                change("Add", "NewQueue", "AWS::SQS::Queue", None),
            ],
            true,
        );
        let dangers: Vec<Option<Danger>> = review.changes.iter().map(|c| c.danger).collect();
        assert_eq!(
            dangers,
            [
                Some(Danger::Replacement),
                Some(Danger::PossibleReplacement),
                Some(Danger::Removal),
                None,
                None,
                None
            ]
        );
        assert!(review.needs_allow_replacement);
        assert!(
            !review_changes(
                vec![change("Modify", "T", "AWS::DynamoDB::Table", Some("True"))],
                false
            )
            .needs_allow_replacement
        );
        assert!(
            !review_changes(
                vec![change("Modify", "F", "AWS::Lambda::Function", Some("True"))],
                true
            )
            .needs_allow_replacement
        );
    }

    #[test]
    fn progress_counts_each_resource_by_its_latest_event() {
        let events = [
            event(
                "marketgrid-prod",
                "AWS::CloudFormation::Stack",
                "UPDATE_IN_PROGRESS",
                None,
            ),
            event("A", "AWS::SQS::Queue", "UPDATE_IN_PROGRESS", None),
            event("B", "AWS::Lambda::Function", "UPDATE_IN_PROGRESS", None),
            event("A", "AWS::SQS::Queue", "UPDATE_COMPLETE", None),
            event("C", "AWS::IAM::Role", "CREATE_FAILED", Some("denied")),
        ];
        let p = progress(&events, "marketgrid-prod", 5);
        assert_eq!(p.done, 1);
        assert_eq!(p.in_progress, ["B"]);
        assert_eq!(p.failed, ["C"]);
        assert_eq!(p.pending, 2);
    }

    #[test]
    fn the_first_cause_comes_first_and_consequences_after() {
        let events = [
            event(
                "marketgrid-dev",
                "AWS::CloudFormation::Stack",
                "CREATE_IN_PROGRESS",
                Some("User Initiated"),
            ),
            event(
                "Queue",
                "AWS::SQS::Queue",
                "CREATE_FAILED",
                Some("Resource creation cancelled"),
            ),
            event(
                "Table",
                "AWS::DynamoDB::Table",
                "CREATE_FAILED",
                Some("API: kms:CreateGrant User is not authorized"),
            ),
            event(
                "Role",
                "AWS::IAM::Role",
                "CREATE_FAILED",
                Some("Resource creation cancelled"),
            ),
            event(
                "marketgrid-dev",
                "AWS::CloudFormation::Stack",
                "ROLLBACK_IN_PROGRESS",
                Some(
                    "The following resource(s) failed to create: [Queue, Table, Role]. Rollback requested by user.",
                ),
            ),
            event("Table", "AWS::DynamoDB::Table", "DELETE_COMPLETE", None),
            event(
                "marketgrid-dev",
                "AWS::CloudFormation::Stack",
                "ROLLBACK_COMPLETE",
                None,
            ),
        ];
        let summary = failure_summary(&events, "marketgrid-dev");
        let order: Vec<&str> = summary.iter().map(|f| f.logical_id.as_str()).collect();
        assert_eq!(order, ["Table", "Queue", "Role", "marketgrid-dev"]);
        assert!(!summary[0].consequence && summary[1].consequence);
    }

    #[test]
    fn final_and_successful_statuses() {
        assert!(
            succeeded("UPDATE_COMPLETE")
                && !succeeded("UPDATE_ROLLBACK_COMPLETE")
                && !succeeded("ROLLBACK_COMPLETE")
        );
        assert!(finished("ROLLBACK_COMPLETE") && !finished("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"));
    }
}
