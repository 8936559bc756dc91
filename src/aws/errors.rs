//! SDK errors as operator failures: what happened, why, and what to do next, with the exit code
//! of their kind. Matched on the typed error metadata (code), never on message text, except to
//! quote the service's own message.

use aws_sdk_cloudformation::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::http::Response;

use crate::failure::{Failure, FailureKind};

/// The service's error code, when the service answered.
pub fn code<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> Option<&str> {
    match error {
        SdkError::ServiceError(service) => service.err().code(),
        _ => None,
    }
}

pub fn message<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> Option<&str> {
    match error {
        SdkError::ServiceError(service) => service.err().message(),
        _ => None,
    }
}

/// A timeout or a dropped connection: the request may have been applied, so the caller must be
/// able to repeat it safely (or find out first).
pub fn maybe_sent<E, R>(error: &SdkError<E, R>) -> bool {
    matches!(
        error,
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_)
    )
}

pub fn is_throttling<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> bool {
    matches!(
        code(error),
        Some(
            "Throttling"
                | "ThrottlingException"
                | "TooManyRequestsException"
                | "RequestLimitExceeded"
                | "SlowDown"
        )
    )
}

const CREDENTIAL_CODES: [&str; 6] = [
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "InvalidAccessKeyId",
];

/// A failure for an SDK error met while doing `action` (e.g. "cloudformation:CreateChangeSet")
/// on `resource` (e.g. "stack marketgrid-prod").
pub fn failure<E>(action: &str, resource: &str, error: &SdkError<E, Response>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let status = error.raw_response().map(|r| r.status().as_u16());
    let detail = message(error)
        .map(str::to_owned)
        .unwrap_or_else(|| match status {
            Some(status) => format!("HTTP {status} without an error message"),
            None => DisplayErrorContext(error).to_string(),
        });
    let code = code(error).or(match status {
        // HEAD requests get no error body: the status is all there is.
        Some(403) => Some("AccessDenied"),
        _ => None,
    });
    match (error, code) {
        (_, Some(code)) if CREDENTIAL_CODES.contains(&code) => Failure::new(
            FailureKind::Credentials,
            format!("AWS refused the credentials ({code}) for {action} on {resource}: {detail}"),
        )
        .next("refresh them (for SSO: `aws sso login`), or pick others with --profile / AWS_PROFILE"),
        (_, Some(code)) if code.contains("AccessDenied") || code == "UnauthorizedOperation" || code == "AuthorizationError" => {
            Failure::new(FailureKind::Credentials, format!("not allowed to {action} on {resource}: {detail}"))
                .next(format!("grant {action} to the identity mgrid runs as, or run as an identity that has it"))
        }
        (_, _) if is_throttling(error) => Failure::new(
            FailureKind::Failed,
            format!("AWS throttled {action} on {resource} even after backing off: {detail}"),
        )
        .next("wait a minute and run the command again; nothing was left half-done by this call")
        .transient(),
        (SdkError::DispatchFailure(dispatch), _) if dispatch.is_other() || is_credentials_error(error) => {
            no_credentials(action, error)
        }
        (SdkError::DispatchFailure(_) | SdkError::TimeoutError(_), _) => Failure::new(
            FailureKind::Failed,
            format!("could not reach AWS for {action} on {resource}: {}", causes(error)),
        )
        .next("check the network, the region, and --endpoint-url if you use one; then run the command again"),
        _ => Failure::new(FailureKind::Failed, format!("{action} on {resource} failed: {detail}")),
    }
}

fn is_credentials_error<E, R>(error: &SdkError<E, R>) -> bool
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    causes(error).contains("credentials")
}

/// The error's chain of causes, each as its own message (no debug dumps), joined.
pub fn causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut messages: Vec<String> = Vec::new();
    let mut current = Some(error);
    while let Some(cause) = current {
        let text = cause.to_string();
        if !text.is_empty() && !messages.iter().any(|m| m.contains(&text)) {
            messages.push(text);
        }
        current = cause.source();
    }
    messages.join(": ")
}

fn no_credentials<E, R>(action: &str, error: &SdkError<E, R>) -> Failure
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
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
