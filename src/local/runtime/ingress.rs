//! The ingress, in place of API Gateway: the routes, the authorizer's own rule, the body limit
//! and timeout, and the webhook onto the FIFO queue (the ingress's group and deduplication
//! rules); a 200 once it is committed to disk.

use std::collections::BTreeMap;
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use mgrid_contract::Provider;
use mgrid_contract::envelope::{MAX_MESSAGE_BYTES, ingress_message};
use mgrid_pipeline::authorizer::{AuthorizationRequest, Decision, DenyReason};

use super::super::adapters::now;
use super::super::db::{self, WEBHOOKS};
use super::super::metrics::LocalMetrics;
use super::shared::Shared;
use crate::decide::metrics::panels::provider_key;
use crate::ids::run_id;
use crate::serve::json_reply;

/// API Gateway's payload limit (10 MB): the deployed API answers 413 above it.
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

/// How long a client has to send a request's body once its headers are in: API Gateway gives a
/// whole request 30 s.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// API Gateway's request metrics: Count, 4XXError, 5XXError, Latency; and, for a provider's
/// route, the same by resource (the stage's detailed metrics).
pub(super) fn count_request(
    metrics: &LocalMetrics,
    provider: Option<Provider>,
    status: StatusCode,
    took: Duration,
) {
    let count = |base: &'static str| {
        metrics.add(base, 1.0);
        if let Some(provider) = provider {
            metrics.add(provider_key(base, provider), 1.0);
        }
    };
    count("received");
    if status.is_client_error() {
        count("api_4xx");
    }
    if status.is_server_error() {
        count("api_5xx");
    }
    metrics.sample("latency", took.as_secs_f64() * 1000.0);
}

/// The provider whose route a path is: exactly `/webhook/<provider>`, a trailing `/` allowed
/// (the deployed API has these two routes and nothing above or below them).
pub(super) fn route(path: &str) -> Option<Provider> {
    if path.ends_with("//") {
        return None;
    }
    let route = path.trim_end_matches('/').strip_prefix("/webhook/")?;
    Provider::ALL.into_iter().find(|p| route == p.as_str())
}

pub(super) fn message(status: StatusCode, text: &str) -> Response<Full<Bytes>> {
    json_reply(status, serde_json::json!({ "message": text }))
}

/// One delivery: route, authorizer, then onto the queue; 200 once committed.
pub(super) async fn ingress(
    request: Request<Incoming>,
    provider: Option<Provider>,
    shared: &Shared,
) -> Response<Full<Bytes>> {
    let path = request.uri().path().to_owned();
    if request.method() != Method::POST || provider.is_none() {
        return message(
            StatusCode::NOT_FOUND,
            "Not Found: POST /webhook/stripe or /webhook/paypal",
        );
    }
    let headers: BTreeMap<String, String> = request
        .headers()
        .iter()
        .filter_map(|(name, value)| {
            Some((
                name.as_str().to_ascii_lowercase(),
                value.to_str().ok()?.to_owned(),
            ))
        })
        .collect();
    let pairs = mgrid_contract::form::pairs(request.uri().query().unwrap_or(""));
    let repeated_key = request.headers().get_all("x-api-key").iter().count() > 1
        || pairs.iter().filter(|(name, _)| name == "key").count() > 1;
    let query = pairs.into_iter().collect();
    let authorization = AuthorizationRequest {
        path,
        headers,
        query,
        repeated_key,
    };
    let decision = shared.authorizer.decide(&authorization).await;
    let (Ok(request_id), Ok(message_id)) = (run_id(), run_id()) else {
        return message(StatusCode::SERVICE_UNAVAILABLE, "no random ids; retry");
    };
    // The authorizer's decision line, as the deployed authorizer prints it.
    if let Err(error) = shared
        .log
        .write(&[decision.log_line(Some(request_id.clone()), now())])
    {
        tracing::error!("writing the pipeline log failed: {error}");
    }
    let provider = match decision {
        Decision::Allow { provider, .. } => provider,
        Decision::Deny {
            reason: DenyReason::NoKey,
        } => return message(StatusCode::UNAUTHORIZED, "Unauthorized"),
        Decision::Deny { reason } => {
            if reason == DenyReason::KeyStoreUnavailable {
                shared.metrics.add("authorizer_errors", 1.0);
            }
            tracing::info!(reason = reason.as_str(), "denied a delivery");
            return message(StatusCode::FORBIDDEN, "Forbidden");
        }
    };
    let body = Limited::new(request.into_body(), MAX_BODY_BYTES).collect();
    let body = match tokio::time::timeout(BODY_TIMEOUT, body).await {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(_)) => return message(StatusCode::PAYLOAD_TOO_LARGE, "Request Too Long"),
        Err(_) => return message(StatusCode::REQUEST_TIMEOUT, "the body was not sent in time"),
    };
    let Ok(body) = String::from_utf8(Vec::from(body)) else {
        return message(StatusCode::BAD_REQUEST, "the body is not UTF-8 text");
    };
    let received_at = now();
    let queued = match ingress_message(
        provider,
        body,
        &authorization.headers,
        received_at,
        &request_id,
    ) {
        Ok(queued) => queued,
        Err(refusal) => return message(StatusCode::BAD_REQUEST, &refusal.to_string()),
    };
    if queued.sqs_size() > MAX_MESSAGE_BYTES {
        // What the deployed integration answers when SQS refuses a message (its 4XX).
        return json_reply(
            StatusCode::BAD_GATEWAY,
            serde_json::json!({"received": false, "error": "the queue refused the webhook; retry"}),
        );
    }
    let sent = shared
        .store
        .run(move |c| db::send(c, WEBHOOKS, &queued, &message_id, received_at))
        .await;
    match sent {
        Ok((message_id, _)) => {
            shared.queued.notify_one();
            json_reply(
                StatusCode::OK,
                serde_json::json!({ "status": "queued", "messageId": message_id, "requestId": request_id }),
            )
        }
        Err(error) => {
            tracing::error!("could not queue a delivery: {error}");
            message(
                StatusCode::SERVICE_UNAVAILABLE,
                "the queue is unavailable; retry",
            )
        }
    }
}
