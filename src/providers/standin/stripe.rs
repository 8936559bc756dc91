//! Stripe's routes: webhook endpoints (list, create, update, delete), events (list, fetch), in
//! the shapes of Stripe's OpenAPI document, with its errors.

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Method, Response, StatusCode};
use mgrid_contract::{Provider, Secret};
use serde_json::{Value, json};

use super::call::{Call, value_of, values_of};
use super::server::StandIn;
use super::state::{Endpoint, Event, now_seconds};
use crate::serve::json_reply;
use mgrid_contract::form;

/// Stripe's `event` object for a kept event: its body, with what Stripe adds.
pub(super) fn stripe_event(event: &Event) -> Value {
    let mut object: Value = serde_json::from_str(&event.body).unwrap_or_else(|_| json!({}));
    object["id"] = json!(event.id);
    object["object"] = json!("event");
    object["type"] = json!(event.event_type);
    object["created"] = json!(event.created);
    object["livemode"] = json!(false);
    object["pending_webhooks"] = json!(if event.delivered { 0 } else { 1 });
    if object.get("api_version").is_none() {
        object["api_version"] = json!(mgrid_contract::provider::STRIPE_API_VERSION);
    }
    if object.pointer("/data/object").is_none() {
        object["data"] = json!({"object": {}});
    }
    if object.get("request").is_none() {
        object["request"] = json!({"id": null, "idempotency_key": null});
    }
    object
}

/// Stripe's `webhook_endpoint` object (without its secret).
pub fn stripe_object(endpoint: &Endpoint) -> Value {
    json!({
        "id": endpoint.id,
        "object": "webhook_endpoint",
        "api_version": endpoint.api_version,
        "application": null,
        "created": endpoint.created,
        "description": null,
        "enabled_events": endpoint.events,
        "livemode": false,
        "metadata": {},
        "status": endpoint.status,
        "url": endpoint.url.expose(),
    })
}

pub(super) fn stripe_error(
    status: StatusCode,
    code: Option<&str>,
    message: &str,
) -> Response<Full<Bytes>> {
    let mut error = json!({"type": "invalid_request_error", "message": message});
    if let Some(code) = code {
        error["code"] = json!(code);
    }
    json_reply(status, json!({ "error": error }))
}

pub(super) fn stripe_missing(id: &str) -> Response<Full<Bytes>> {
    let mut response = stripe_error(
        StatusCode::NOT_FOUND,
        Some("resource_missing"),
        &format!("No such webhook endpoint: '{id}'"),
    );
    *response.status_mut() = StatusCode::NOT_FOUND;
    response
}

impl StandIn {
    /// `GET /v1/events`: newest first, `created[gte]`/`created[lte]` (seconds), `types[]`,
    /// `delivery_success`, `limit` (1-100) after `starting_after`.
    pub(super) fn stripe_events(&self, query: &str) -> Response<Full<Bytes>> {
        let pairs = form::pairs(query);
        let bound = |name| value_of(&pairs, name).and_then(|v| v.parse::<i64>().ok());
        let (from, to) = (bound("created[gte]"), bound("created[lte]"));
        let types = values_of(&pairs, "types[]");
        let delivered = value_of(&pairs, "delivery_success").map(|v| v == "true");
        let limit = value_of(&pairs, "limit")
            .and_then(|l| l.parse::<usize>().ok())
            .unwrap_or(10)
            .clamp(1, 100);
        let wanted = |e: &Event| {
            from.is_none_or(|f| e.created >= f)
                && to.is_none_or(|t| e.created <= t)
                && (types.is_empty() || types.contains(&e.event_type))
                && delivered.is_none_or(|d| e.delivered == d)
        };
        let after = value_of(&pairs, "starting_after");
        let Some((page, has_more)) =
            self.unsaved(|state| state.page(Provider::Stripe, wanted, after.as_deref(), limit))
        else {
            return stripe_missing(after.as_deref().unwrap_or_default());
        };
        let page: Vec<Value> = page.iter().map(stripe_event).collect();
        json_reply(
            StatusCode::OK,
            json!({"object": "list", "url": "/v1/events", "has_more": has_more, "data": page}),
        )
    }

    pub(super) fn stripe(&self, rest: &str, call: &Call) -> Response<Full<Bytes>> {
        if let Some(refused) = self.refusal(Provider::Stripe, call) {
            return refused;
        }
        let id = rest.strip_prefix("webhook_endpoints/");
        match (&call.method, rest, id) {
            (&Method::GET, "webhook_endpoints", _) => self.stripe_list(&call.query),
            (&Method::POST, "webhook_endpoints", _) => {
                let form = form::pairs(&call.body);
                let Some(url) = value_of(&form, "url") else {
                    return stripe_error(
                        StatusCode::BAD_REQUEST,
                        Some("parameter_missing"),
                        "Missing required param: url.",
                    );
                };
                let events = values_of(&form, "enabled_events[]");
                let secret = Secret::new(format!("whsec_standin{}", now_seconds()));
                let id = self.register(
                    Provider::Stripe,
                    Secret::new(url),
                    events,
                    Some(secret.clone()),
                );
                if let Some(version) = value_of(&form, "api_version") {
                    self.saved(|state| {
                        if let Some(endpoint) = state.stripe.iter_mut().find(|e| e.id == id) {
                            endpoint.api_version = Some(version);
                        }
                    });
                }
                let endpoint = self.find(Provider::Stripe, &id);
                let mut object = endpoint.as_ref().map(stripe_object).unwrap_or(Value::Null);
                // Stripe returns an endpoint's secret at creation only.
                object["secret"] = json!(secret.expose());
                json_reply(StatusCode::OK, object)
            }
            (&Method::GET, _, Some(id)) => match self.find(Provider::Stripe, id) {
                Some(endpoint) => json_reply(StatusCode::OK, stripe_object(&endpoint)),
                None => stripe_missing(id),
            },
            (&Method::POST, _, Some(id)) => {
                let form = form::pairs(&call.body);
                let changed = self.saved(|state| {
                    let endpoint = state.stripe.iter_mut().find(|e| e.id == id)?;
                    if let Some(url) = value_of(&form, "url") {
                        endpoint.url = Secret::new(url);
                    }
                    match value_of(&form, "disabled").as_deref() {
                        Some("true") => endpoint.status = "disabled".into(),
                        Some("false") => endpoint.status = "enabled".into(),
                        _ => {}
                    }
                    let events = values_of(&form, "enabled_events[]");
                    if !events.is_empty() {
                        endpoint.events = events;
                    }
                    Some(endpoint.clone())
                });
                match changed {
                    Some(endpoint) => json_reply(StatusCode::OK, stripe_object(&endpoint)),
                    None => stripe_missing(id),
                }
            }
            (&Method::DELETE, _, Some(id)) => {
                let removed = self.saved(|state| {
                    let before = state.stripe.len();
                    state.stripe.retain(|e| e.id != id);
                    before != state.stripe.len()
                });
                if removed {
                    json_reply(
                        StatusCode::OK,
                        json!({"id": id, "object": "webhook_endpoint", "deleted": true}),
                    )
                } else {
                    stripe_missing(id)
                }
            }
            _ => stripe_error(
                StatusCode::NOT_FOUND,
                None,
                "Unrecognized request URL. Please see https://stripe.com/docs.",
            ),
        }
    }

    /// `GET /v1/webhook_endpoints`: newest first, `limit` (1-100, default 10) at a time after
    /// `starting_after`.
    pub(super) fn stripe_list(&self, query: &str) -> Response<Full<Bytes>> {
        let pairs = form::pairs(query);
        let limit = match value_of(&pairs, "limit").map(|l| l.parse::<usize>()) {
            None => 10,
            Some(Ok(limit)) if (1..=100).contains(&limit) => limit,
            Some(_) => {
                return stripe_error(
                    StatusCode::BAD_REQUEST,
                    Some("parameter_invalid_integer"),
                    "Invalid integer: limit must be between 1 and 100",
                );
            }
        };
        let mut all = self.endpoints(Provider::Stripe);
        all.reverse();
        let start = match value_of(&pairs, "starting_after") {
            Some(after) => match all.iter().position(|e| e.id == after) {
                Some(at) => at + 1,
                None => return stripe_missing(&after),
            },
            None => 0,
        };
        let page: Vec<Value> = all
            .iter()
            .skip(start)
            .take(limit)
            .map(stripe_object)
            .collect();
        let has_more = start + page.len() < all.len();
        json_reply(
            StatusCode::OK,
            json!({"object": "list", "url": "/v1/webhook_endpoints", "has_more": has_more, "data": page}),
        )
    }
}
