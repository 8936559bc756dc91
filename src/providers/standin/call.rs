//! A request as the routes read it, and the replies and refusals they share: JSON replies,
//! authentication, a throttle's 429 with `Retry-After`, and the events listing both providers
//! page through.

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Method, Response, StatusCode};
use mgrid_contract::Provider;
use serde_json::json;

use super::state::Throttle;
use crate::serve::json_reply;

/// A request as the routes read it: its method, query, `Authorization` header and body.
pub(super) struct Call {
    pub(super) method: Method,
    pub(super) query: String,
    pub(super) authorization: String,
    pub(super) body: String,
}

pub(super) fn throttle_reply(provider: Provider, throttle: &Throttle) -> Response<Full<Bytes>> {
    if throttle.status.is_server_error() {
        return match provider {
            Provider::Stripe => json_reply(
                throttle.status,
                json!({"error": {"type": "api_error", "message": "An unknown error occurred. Please try again."}}),
            ),
            Provider::Paypal => json_reply(
                throttle.status,
                json!({"name": "INTERNAL_SERVICE_ERROR", "message": "An internal service error has occurred.", "debug_id": "standin"}),
            ),
        };
    }
    let retry_after = throttle.retry_after;
    let body = match provider {
        Provider::Stripe => json!({"error": {
            "type": "invalid_request_error",
            "code": "rate_limit",
            "message": "Too many requests hit the API too quickly. We recommend an exponential backoff of your requests."
        }}),
        Provider::Paypal => json!({
            "name": "RATE_LIMIT_REACHED",
            "message": "Too many requests. Blocked due to rate limiting.",
            "debug_id": "standin"
        }),
    };
    let mut response = json_reply(StatusCode::TOO_MANY_REQUESTS, body);
    if let Ok(value) = retry_after.to_string().parse() {
        response.headers_mut().insert("retry-after", value);
    }
    response
}

pub(super) fn value_of(pairs: &[(String, String)], name: &str) -> Option<String> {
    pairs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
}

pub(super) fn values_of(pairs: &[(String, String)], name: &str) -> Vec<String> {
    pairs
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
        .collect()
}
