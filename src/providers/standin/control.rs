//! The control routes (`/_standin/…`), for whoever holds the control token: deliver an event as
//! the provider would (signed, to every endpoint subscribed to it), keep events, throttle.

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Method, Request, Response, StatusCode};
use mgrid_contract::Provider;
use serde_json::{Value, json};

use super::call::Call;
use super::server::StandIn;
use super::state::Throttle;
use super::state::{Endpoint, Event, append_events, events_file, now_seconds};
use crate::serve::json_reply;

/// An event's id and type, as the provider names them (Stripe `type`, PayPal `event_type`).
pub(super) fn identify(provider: Provider, body: &str) -> Option<(String, String)> {
    let event: Value = serde_json::from_str(body).ok()?;
    let type_field = match provider {
        Provider::Stripe => "type",
        Provider::Paypal => "event_type",
    };
    Some((
        event.get("id")?.as_str()?.to_owned(),
        event.get(type_field)?.as_str()?.to_owned(),
    ))
}

/// Sends `body` to one endpoint as the provider would: Stripe signs `t.body` with the endpoint's
/// secret; PayPal's certificate signature cannot be made here, so its headers name no key that
/// verifies. The answer's status (0: no answer).
pub(super) async fn deliver_one(
    http: &crate::http::HttpClient,
    provider: Provider,
    endpoint: &Endpoint,
    body: &str,
) -> u16 {
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(endpoint.url.expose())
        .header("content-type", "application/json");
    match (provider, &endpoint.secret) {
        (Provider::Stripe, Some(secret)) => {
            let header = mgrid_contract::signature::stripe_signature_header(
                secret,
                now_seconds(),
                body.as_bytes(),
            );
            request = request.header("stripe-signature", header);
        }
        (Provider::Paypal, _) => {
            request = request
                .header("paypal-transmission-id", "standin")
                .header("paypal-transmission-time", now_seconds().to_string())
                .header("paypal-auth-algo", "SHA256withRSA")
                .header(
                    "paypal-cert-url",
                    "https://api.paypal.com/v1/notifications/certs/standin",
                )
                .header("paypal-transmission-sig", "c3RhbmRpbg==");
        }
        _ => {}
    }
    let Ok(request) = request.body(Full::new(Bytes::from(body.to_owned()))) else {
        return 0;
    };
    match tokio::time::timeout(std::time::Duration::from_secs(30), http.request(request)).await {
        Ok(Ok(response)) => response.status().as_u16(),
        _ => 0,
    }
}

impl StandIn {
    /// The stand-in's own routes: `throttle` (the next `requests` provider calls answer 429
    /// with `Retry-After: retryAfter`), and `<provider>/deliver` (the body is an event: it is
    /// kept and sent to every enabled endpoint subscribed to its type, signed as the provider
    /// signs, and the answers returned).
    pub(super) async fn control(&self, rest: &str, call: &Call) -> Response<Full<Bytes>> {
        if call.method != Method::POST {
            return json_reply(
                StatusCode::METHOD_NOT_ALLOWED,
                json!({"error": "POST only"}),
            );
        }
        let asked: Value = serde_json::from_str(&call.body).unwrap_or(Value::Null);
        match rest {
            "throttle" => {
                let requests = asked.get("requests").and_then(Value::as_u64).unwrap_or(1);
                let retry_after = asked.get("retryAfter").and_then(Value::as_u64).unwrap_or(1);
                let status = asked
                    .get("status")
                    .and_then(Value::as_u64)
                    .and_then(|s| u16::try_from(s).ok())
                    .and_then(|s| StatusCode::from_u16(s).ok())
                    .unwrap_or(StatusCode::TOO_MANY_REQUESTS);
                self.unsaved(|state| {
                    state.throttle = Some(Throttle {
                        left: u32::try_from(requests).unwrap_or(u32::MAX),
                        retry_after: u32::try_from(retry_after).unwrap_or(u32::MAX),
                        status,
                    })
                });
                json_reply(StatusCode::OK, json!({"throttled": requests}))
            }
            "stripe/deliver" => self.deliver(Provider::Stripe, &call.body).await,
            "paypal/deliver" => self.deliver(Provider::Paypal, &call.body).await,
            "stripe/events" => self.keep(Provider::Stripe, &asked),
            "paypal/events" => self.keep(Provider::Paypal, &asked),
            _ => json_reply(
                StatusCode::NOT_FOUND,
                json!({"error": "no such stand-in route"}),
            ),
        }
    }

    /// Keeps events sent by someone else (`mgrid send`): `[{"body": "<event>", "delivered":
    /// true}, …]`, each as the provider keeps an event it sent.
    pub(super) fn keep(&self, provider: Provider, asked: &Value) -> Response<Full<Bytes>> {
        let Some(sent) = asked.as_array() else {
            return json_reply(
                StatusCode::BAD_REQUEST,
                json!({"error": "an array of events"}),
            );
        };
        let mut events = Vec::new();
        for one in sent {
            let body = one.get("body").and_then(Value::as_str).unwrap_or("");
            let Some((id, event_type)) = identify(provider, body) else {
                return json_reply(
                    StatusCode::BAD_REQUEST,
                    json!({"error": "each event needs an id and a type"}),
                );
            };
            events.push(Event {
                provider,
                id,
                event_type,
                created: now_seconds(),
                body: body.to_owned(),
                delivered: one
                    .get("delivered")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            });
        }
        let kept = events.len();
        self.remember(events);
        json_reply(StatusCode::OK, json!({ "kept": kept }))
    }

    pub(super) async fn deliver(&self, provider: Provider, body: &str) -> Response<Full<Bytes>> {
        let Some((id, event_type)) = identify(provider, body) else {
            return json_reply(
                StatusCode::BAD_REQUEST,
                json!({"error": "the event is not JSON with an id and a type"}),
            );
        };
        let targets: Vec<Endpoint> = self
            .endpoints(provider)
            .into_iter()
            .filter(|e| e.status == "enabled")
            .filter(|e| e.events.iter().any(|t| t == "*" || *t == event_type))
            .collect();
        let Ok(http) = crate::http::client() else {
            return json_reply(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"error": "no HTTP client"}),
            );
        };
        let mut deliveries = Vec::new();
        for endpoint in &targets {
            let status = deliver_one(&http, provider, endpoint, body).await;
            deliveries.push(json!({"endpoint": endpoint.id, "status": status}));
        }
        let delivered = !deliveries.is_empty()
            && deliveries.iter().all(|d| {
                d["status"]
                    .as_u64()
                    .is_some_and(|s| (200..300).contains(&s))
            });
        self.remember(vec![Event {
            provider,
            id,
            event_type,
            created: now_seconds(),
            body: body.to_owned(),
            delivered,
        }]);
        json_reply(StatusCode::OK, json!({"deliveries": deliveries}))
    }

    /// Keeps events: in memory, and appended to the events file.
    pub(super) fn remember(&self, events: Vec<Event>) {
        if let Some(path) = &self.file
            && let Err(error) = append_events(&events_file(path), &events)
        {
            tracing::warn!("the provider stand-in cannot keep its events: {error}");
        }
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        for event in events {
            state.keep(event);
        }
    }
}
