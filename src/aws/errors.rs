//! SDK errors as operator failures: what happened, why, and what to do next, with the exit code
//! of their kind. Classified by `mgrid-aws-errors`, which the data plane shares: the typed error,
//! never its message text, except to quote the service's own message.

use aws_sdk_cloudformation::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::http::Response;
pub use mgrid_aws_errors::{ErrorClass, causes, classify, code, message};

use crate::failure::{Failure, FailureKind};

/// A failure for an SDK error met while doing `action` (e.g. "cloudformation:CreateChangeSet")
/// on `resource` (e.g. "stack marketgrid-prod"), by the classification the pipeline shares.
pub fn failure<E>(action: &str, resource: &str, error: &SdkError<E, Response>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let status = error.raw_response().map(|r| r.status().as_u16());
    if let (SdkError::ServiceError(_) | SdkError::ResponseError(_), Some(status @ 200..=299)) =
        (error, status)
    {
        return unreadable_answer(action, resource, status, error);
    }
    let detail = message(error)
        .map(str::to_owned)
        .unwrap_or_else(|| match status {
            Some(status) => format!("HTTP {status} without an error message"),
            None => DisplayErrorContext(error).to_string(),
        });
    let code = code(error).unwrap_or("no error code");
    match classify(error) {
        ErrorClass::Credentials if matches!(error, SdkError::DispatchFailure(_)) => {
            no_credentials(action, error)
        }
        ErrorClass::Credentials => Failure::new(
            FailureKind::Credentials,
            format!("AWS refused the credentials ({code}) for {action} on {resource}: {detail}"),
        )
        .next("refresh them (for SSO: `aws sso login`), or pick others with --profile / AWS_PROFILE"),
        ErrorClass::Denied => Failure::new(
            FailureKind::Credentials,
            format!("not allowed to {action} on {resource}: {detail}"),
        )
        .next(format!(
            "grant {action} to the identity mgrid runs as, or run as an identity that has it"
        )),
        ErrorClass::Throttled => Failure::new(
            FailureKind::Failed,
            format!("AWS throttled {action} on {resource} even after backing off: {detail}"),
        )
        .next("wait a minute and run the command again; nothing was left half-done by this call")
        .transient(),
        ErrorClass::MaybeApplied if status.is_none() => Failure::new(
            FailureKind::Failed,
            format!("could not reach AWS for {action} on {resource}: {}", causes(error)),
        )
        .next("check the network, the region, and --endpoint-url if you use one; then run the command again"),
        ErrorClass::MaybeApplied | ErrorClass::Rejected | ErrorClass::NotSent => Failure::new(
            FailureKind::Failed,
            format!("{action} on {resource} failed: {detail}"),
        ),
    }
}

/// AWS said yes (a 2xx) in a shape the SDK could not read: not an AWS error, and the call may
/// well have been applied. Says what could not be read, from the SDK's own parse error.
fn unreadable_answer<E>(
    action: &str,
    resource: &str,
    status: u16,
    error: &SdkError<E, Response>,
) -> Failure
where
    E: std::error::Error + 'static,
{
    Failure::new(
        FailureKind::Failed,
        format!(
            "{action} on {resource} answered HTTP {status}, but the answer could not be read: {}",
            root_cause(error)
        ),
    )
    .next(
        "AWS itself answers in the shape the SDK reads: with --endpoint-url (an emulator, a proxy), \
         that endpoint answered otherwise; without it, run `mgrid --version` and report the \
         command and this message. The call may have been applied: look before repeating a change",
    )
}

/// The innermost cause: the parser's own words, without the SDK's wrappers ("service error:
/// unhandled error:") around them.
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut innermost = error;
    while let Some(source) = innermost.source() {
        innermost = source;
    }
    innermost.to_string()
}

fn no_credentials<E>(action: &str, error: &SdkError<E, Response>) -> Failure
where
    E: std::error::Error + 'static,
{
    Failure::new(
        FailureKind::Credentials,
        format!(
            "no usable AWS credentials for {action} (looked in the environment, the AWS profile, SSO, \
             and the instance metadata): {}",
            causes(error)
        ),
    )
    .next("configure credentials (`aws configure` or `aws sso login --profile <name>`) and pass --profile, or set AWS_PROFILE")
}
