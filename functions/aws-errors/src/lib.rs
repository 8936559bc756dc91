//! One typed classification of AWS SDK errors, shared by the operator CLI and the data plane, so
//! that both treat the same answer from AWS the same way.
//!
//! It reads the SDK's typed error (its variant, the service's error code and HTTP status), never
//! the message text. Throttling is the SDK's own list of throttling codes (the one its retry
//! classifier uses), so the CLI and the pipeline cannot drift apart again. Errors a service
//! models are matched by the SDK's `is_*()` predicates at the call that can return them; this
//! crate is for everything else.

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// What an AWS error means for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// AWS asked the caller to slow down: nothing was applied; repeat later.
    Throttled,
    /// The identity is not allowed the action (IAM or a key policy): nothing was applied.
    Denied,
    /// The credentials were refused (expired, unknown, a bad signature), or none were found.
    Credentials,
    /// The request may or may not have been applied: a timeout, a dropped connection, a response
    /// that could not be read, or a server-side fault. Repeat it only if repeating is safe.
    MaybeApplied,
    /// The service answered with an error of the request's own (a 4xx): nothing was applied.
    Rejected,
    /// The request could not be built or signed: nothing was sent.
    NotSent,
}

impl ErrorClass {
    /// Whether repeating the request later can succeed without any change by the operator.
    pub fn is_transient(self) -> bool {
        matches!(self, Self::Throttled | Self::MaybeApplied)
    }
}

/// Error codes of refused credentials, across the services mgrid calls.
const CREDENTIAL_CODES: &[&str] = &[
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "InvalidAccessKeyId",
    "InvalidSignatureException",
    "MissingAuthenticationToken",
];

/// Error codes of a refused permission.
const DENIED_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "AuthorizationError",
    "KMSAccessDeniedException",
    "KMSDisabledException",
    "KMSInvalidStateException",
];

/// Classifies an SDK error.
pub fn classify<E: ProvideErrorMetadata>(error: &SdkError<E, Response>) -> ErrorClass {
    match error {
        SdkError::ConstructionFailure(_) => ErrorClass::NotSent,
        // The SDK reports credentials it could not resolve as a dispatch failure of kind "other"
        // (the request never left); io and timeout kinds may have reached AWS.
        SdkError::DispatchFailure(dispatch) if dispatch.is_other() => ErrorClass::Credentials,
        SdkError::DispatchFailure(dispatch) if dispatch.is_user() => ErrorClass::NotSent,
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => {
            ErrorClass::MaybeApplied
        }
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            by_code(service.err().code(), status)
        }
        // `SdkError` is non-exhaustive: an unknown kind is treated as the cautious one.
        _ => ErrorClass::MaybeApplied,
    }
}

fn by_code(code: Option<&str>, status: u16) -> ErrorClass {
    match code {
        Some(code) if aws_runtime::retries::classifiers::THROTTLING_ERRORS.contains(&code) => {
            ErrorClass::Throttled
        }
        Some(code) if CREDENTIAL_CODES.contains(&code) => ErrorClass::Credentials,
        Some(code) if DENIED_CODES.contains(&code) => ErrorClass::Denied,
        Some(code) if aws_runtime::retries::classifiers::TRANSIENT_ERRORS.contains(&code) => {
            ErrorClass::MaybeApplied
        }
        _ => match status {
            429 => ErrorClass::Throttled,
            // HEAD requests get no error body: the status is all there is.
            403 if code.is_none() => ErrorClass::Denied,
            // A success the SDK could not parse: the request was taken and may be applied.
            200..=299 => ErrorClass::MaybeApplied,
            500..=599 => ErrorClass::MaybeApplied,
            _ => ErrorClass::Rejected,
        },
    }
}

/// The service's error code, when the service answered.
pub fn code<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> Option<&str> {
    match error {
        SdkError::ServiceError(service) => service.err().code(),
        _ => None,
    }
}

/// The service's own error message, when it answered with one.
pub fn message<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> Option<&str> {
    match error {
        SdkError::ServiceError(service) => service.err().message(),
        _ => None,
    }
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

#[cfg(test)]
mod tests {
    //! Errors shaped as the SDK builds them from real AWS answers: the code and status a service
    //! sends, and the dispatch, timeout and response failures of the HTTP layer.

    use aws_smithy_runtime_api::client::result::{ConnectorError, SdkError};
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    use super::*;

    fn answered(status: u16, code: Option<&str>) -> SdkError<ErrorMetadata, Response> {
        let mut metadata = ErrorMetadata::builder().message("recorded");
        if let Some(code) = code {
            metadata = metadata.code(code);
        }
        let status = StatusCode::try_from(status).expect("a valid status");
        SdkError::service_error(metadata.build(), Response::new(status, SdkBody::empty()))
    }

    fn io_error() -> Box<dyn std::error::Error + Send + Sync> {
        Box::new(std::io::Error::other("connection reset by peer"))
    }

    #[test]
    fn throttling_is_the_sdks_own_list() {
        // SQS's JSON protocol, DynamoDB, S3, SSM, CloudWatch: each spelling of "slow down".
        for code in [
            "ThrottlingException",
            "Throttling",
            "ProvisionedThroughputExceededException",
            "RequestLimitExceeded",
            "SlowDown",
            "RequestThrottled",
            "TooManyRequestsException",
            "LimitExceededException",
        ] {
            assert_eq!(
                classify(&answered(400, Some(code))),
                ErrorClass::Throttled,
                "{code}"
            );
        }
        assert_eq!(classify(&answered(429, None)), ErrorClass::Throttled);
        assert_eq!(
            classify(&answered(503, Some("SlowDown"))),
            ErrorClass::Throttled
        );
    }

    #[test]
    fn refusals_are_told_apart() {
        assert_eq!(
            classify(&answered(400, Some("ExpiredToken"))),
            ErrorClass::Credentials
        );
        assert_eq!(
            classify(&answered(403, Some("InvalidClientTokenId"))),
            ErrorClass::Credentials
        );
        assert_eq!(
            classify(&answered(400, Some("AccessDeniedException"))),
            ErrorClass::Denied
        );
        assert_eq!(
            classify(&answered(403, Some("AccessDenied"))),
            ErrorClass::Denied
        );
        assert_eq!(
            classify(&answered(400, Some("KMSAccessDeniedException"))),
            ErrorClass::Denied
        );
        // S3's HEAD: a bare 403 with no body.
        assert_eq!(classify(&answered(403, None)), ErrorClass::Denied);
        assert_eq!(
            classify(&answered(400, Some("ParameterNotFound"))),
            ErrorClass::Rejected
        );
        assert_eq!(classify(&answered(404, None)), ErrorClass::Rejected);
    }

    #[test]
    fn a_timeout_or_a_server_fault_may_have_been_applied() {
        let timeout: SdkError<ErrorMetadata, Response> = SdkError::timeout_error(io_error());
        assert_eq!(classify(&timeout), ErrorClass::MaybeApplied);
        assert!(classify(&timeout).is_transient());
        let dropped: SdkError<ErrorMetadata, Response> =
            SdkError::dispatch_failure(ConnectorError::io(io_error()));
        assert_eq!(classify(&dropped), ErrorClass::MaybeApplied);
        let timed_out: SdkError<ErrorMetadata, Response> =
            SdkError::dispatch_failure(ConnectorError::timeout(io_error()));
        assert_eq!(classify(&timed_out), ErrorClass::MaybeApplied);
        let unreadable: SdkError<ErrorMetadata, Response> = SdkError::response_error(
            io_error(),
            Response::new(StatusCode::try_from(200).expect("200"), SdkBody::empty()),
        );
        assert_eq!(classify(&unreadable), ErrorClass::MaybeApplied);
        // A 200 whose body the SDK could not parse comes as an unhandled service error with no
        // code: the request was taken.
        assert_eq!(classify(&answered(200, None)), ErrorClass::MaybeApplied);
        assert_eq!(
            classify(&answered(500, Some("InternalError"))),
            ErrorClass::MaybeApplied
        );
        assert_eq!(
            classify(&answered(400, Some("RequestTimeout"))),
            ErrorClass::MaybeApplied
        );
        assert!(!ErrorClass::Rejected.is_transient());
    }

    #[test]
    fn unresolved_credentials_never_left() {
        let none: SdkError<ErrorMetadata, Response> =
            SdkError::dispatch_failure(ConnectorError::other(io_error(), None));
        assert_eq!(classify(&none), ErrorClass::Credentials);
        let unbuilt: SdkError<ErrorMetadata, Response> = SdkError::construction_failure(io_error());
        assert_eq!(classify(&unbuilt), ErrorClass::NotSent);
    }

    #[test]
    fn code_message_and_causes_read_the_typed_error() {
        let error = answered(400, Some("ValidationError"));
        assert_eq!(code(&error), Some("ValidationError"));
        assert_eq!(message(&error), Some("recorded"));
        let outer = std::io::Error::other(std::io::Error::other("inner"));
        assert_eq!(causes(&outer), "inner");
    }
}
