//! The events routes both providers share: list (paged as each provider pages) and resend to
//! the endpoints subscribed, and the refusal of a caller without the provider's credentials.

use super::call::{Call, value_of};
use super::control::deliver_one;
use super::paypal::{paypal_event, paypal_missing};
use super::server::StandIn;
use super::state::{Endpoint, Event};
use super::stripe::{stripe_error, stripe_event, stripe_missing};
use crate::serve::json_reply;
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Method, Response, StatusCode};
use mgrid_contract::Provider;
use mgrid_contract::form;
use serde_json::{Value, json};

impl StandIn {
    /// The events routes: Stripe `GET /v1/events` and `POST /v1/events/{id}/retry` (what
    /// `stripe events resend` calls; not in Stripe's published document), PayPal
    /// `GET /v1/notifications/webhooks-events` and `POST …/{id}/resend`. None: not one of them.
    pub(super) async fn events_route(
        &self,
        provider: Provider,
        rest: &str,
        call: &Call,
    ) -> Option<Response<Full<Bytes>>> {
        let (list, resend) = match provider {
            Provider::Stripe => (
                rest == "events",
                rest.strip_prefix("events/")
                    .and_then(|r| r.strip_suffix("/retry")),
            ),
            Provider::Paypal => (
                rest == "notifications/webhooks-events",
                rest.strip_prefix("notifications/webhooks-events/")
                    .and_then(|r| r.strip_suffix("/resend")),
            ),
        };
        if !list && resend.is_none() {
            return None;
        }
        if let Some(refused) = self.refusal(provider, call) {
            return Some(refused);
        }
        Some(match (provider, &call.method, resend) {
            (Provider::Stripe, &Method::GET, None) => self.stripe_events(&call.query),
            (Provider::Paypal, &Method::GET, None) => self.paypal_events(&call.query),
            (_, &Method::POST, Some(id)) => self.resend(provider, id, call).await,
            _ => json_reply(
                StatusCode::METHOD_NOT_ALLOWED,
                json!({"error": "not allowed"}),
            ),
        })
    }

    /// Delivers a kept event again: Stripe to the one `webhook_endpoint` (refused when it is
    /// not subscribed to the event's type), PayPal to the `webhook_ids` (all, when none named).
    pub(super) async fn resend(
        &self,
        provider: Provider,
        id: &str,
        call: &Call,
    ) -> Response<Full<Bytes>> {
        let known = self.unsaved(|state| {
            let at = *state.event_at.get(&(provider, id.to_owned()))?;
            Some(state.events[at].clone())
        });
        let Some(event) = known else {
            return match provider {
                Provider::Stripe => stripe_error(
                    StatusCode::NOT_FOUND,
                    Some("resource_missing"),
                    &format!("No such event: '{id}'"),
                ),
                Provider::Paypal => paypal_missing(),
            };
        };
        let named: Vec<String> = match provider {
            Provider::Stripe => value_of(&form::pairs(&call.body), "webhook_endpoint")
                .into_iter()
                .collect(),
            Provider::Paypal => serde_json::from_str::<Value>(&call.body)
                .ok()
                .and_then(|v| v.get("webhook_ids").and_then(Value::as_array).cloned())
                .unwrap_or_default()
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
        };
        if provider == Provider::Stripe && named.is_empty() {
            return stripe_error(
                StatusCode::BAD_REQUEST,
                Some("parameter_missing"),
                "Missing required param: webhook_endpoint.",
            );
        }
        let targets: Vec<Endpoint> = self
            .endpoints(provider)
            .into_iter()
            .filter(|e| named.is_empty() || named.contains(&e.id))
            .collect();
        if targets.is_empty() {
            return match provider {
                Provider::Stripe => stripe_missing(&named.join(",")),
                Provider::Paypal => paypal_missing(),
            };
        }
        let subscribed = |e: &Endpoint| e.events.iter().any(|t| t == "*" || *t == event.event_type);
        if provider == Provider::Stripe && !targets.iter().all(subscribed) {
            return stripe_error(
                StatusCode::BAD_REQUEST,
                None,
                &format!(
                    "Webhook endpoint {} is not configured to receive events of type {}",
                    named.join(","),
                    event.event_type
                ),
            );
        }
        let Ok(http) = crate::http::client() else {
            return json_reply(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"error": "no HTTP client"}),
            );
        };
        let mut delivered = true;
        for endpoint in targets.iter().filter(|e| subscribed(e)) {
            let status = deliver_one(&http, provider, endpoint, &event.body).await;
            delivered &= (200..300).contains(&status);
        }
        let resent = Event { delivered, ..event };
        let answer = match provider {
            Provider::Stripe => json_reply(StatusCode::OK, stripe_event(&resent)),
            Provider::Paypal => json_reply(StatusCode::ACCEPTED, paypal_event(&resent)),
        };
        self.remember(vec![resent]);
        answer
    }

    /// The provider's refusal of a call without valid credentials (Stripe's key; a PayPal
    /// access token), or None.
    pub(super) fn refusal(&self, provider: Provider, call: &Call) -> Option<Response<Full<Bytes>>> {
        let presented = call.authorization.strip_prefix("Bearer ").unwrap_or("");
        match provider {
            Provider::Stripe => {
                let expected = self.unsaved(|s| s.credentials.as_ref().map(|c| c.stripe.clone()));
                expected
                    .is_none_or(|key| key.expose() != presented || presented.is_empty())
                    .then(|| {
                        stripe_error(
                            StatusCode::UNAUTHORIZED,
                            None,
                            "Invalid API Key provided: ****",
                        )
                    })
            }
            Provider::Paypal => {
                let known = self.unsaved(|state| {
                    state
                        .access_tokens
                        .iter()
                        .any(|t| !presented.is_empty() && t.expose() == presented)
                });
                (!known).then(|| {
                    json_reply(
                        StatusCode::UNAUTHORIZED,
                        json!({
                            "name": "AUTHENTICATION_FAILURE",
                            "message": "Authentication failed due to invalid authentication credentials or a missing Authorization header.",
                            "debug_id": "standin",
                            "links": [{"href": "https://developer.paypal.com/docs/api/overview/#error", "rel": "information_link"}]
                        }),
                    )
                })
            }
        }
    }
}
