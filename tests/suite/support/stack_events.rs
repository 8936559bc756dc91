//! CloudFormation's answers about the prod stack, as recorded tests replay them: the stack in a
//! status, and its events; and how those tests watch it (`recorded` and `deploy_shift`).

use std::time::Duration;

use aws_sdk_cloudformation::operation::describe_stacks::DescribeStacksOutput;
use aws_sdk_cloudformation::primitives::DateTime;
use aws_sdk_cloudformation::types::{ResourceStatus, Stack, StackEvent, StackStatus};
use mgrid::commands::deploy::watch::WatchOptions;

const STACK_ID: &str = "arn:aws:cloudformation:eu-west-1:123456789012:stack/marketgrid-prod/4f2c";

/// DescribeStacks: marketgrid-prod, created at `created` (epoch seconds), in `status`.
pub fn stack(status: &str, created: i64) -> DescribeStacksOutput {
    DescribeStacksOutput::builder()
        .stacks(
            Stack::builder()
                .stack_name("marketgrid-prod")
                .stack_id(STACK_ID)
                .creation_time(DateTime::from_secs(created))
                .stack_status(StackStatus::from(status))
                .build(),
        )
        .build()
}

/// The `n`th event, `n` seconds after `t0`: `id` of type `kind` went to `status`.
pub fn event(
    t0: i64,
    n: i64,
    id: &str,
    kind: &str,
    status: &str,
    reason: Option<&str>,
) -> StackEvent {
    StackEvent::builder()
        .stack_id(STACK_ID)
        .stack_name("marketgrid-prod")
        .event_id(format!("event-{n:03}"))
        .timestamp(DateTime::from_secs(t0 + n))
        .logical_resource_id(id)
        .resource_type(kind)
        .resource_status(ResourceStatus::from(status))
        .set_resource_status_reason(reason.map(str::to_owned))
        .build()
}

/// A watch that polls every 5 ms and backs off to 40 ms at most, one line per event.
pub fn quick() -> WatchOptions {
    WatchOptions {
        poll: Duration::from_millis(5),
        max_backoff: Duration::from_millis(40),
        terminal: false,
        heartbeat: Duration::from_secs(3600),
        limit: Duration::from_secs(3600),
    }
}

/// What was written, without its styles.
pub fn plain(text: &str) -> String {
    anstream::adapter::strip_str(text).to_string()
}
