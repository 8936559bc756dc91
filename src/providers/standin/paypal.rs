//! PayPal's routes: OAuth client credentials for an access token, webhooks (list, create,
//! update, delete), webhook events (list, resend), in the shapes of PayPal's published
//! specifications, with its errors.

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Method, Response, StatusCode};
use mgrid_contract::{Provider, Secret};
use serde_json::{Value, json};

use super::call::{Call, value_of};
use super::server::StandIn;
use super::state::{Endpoint, Event, now_seconds};
use crate::serve::json_reply;
use mgrid_contract::form;

/// PayPal's `event` object for a kept event: its body, with what PayPal adds.
pub(super) fn paypal_event(event: &Event) -> Value {
    let mut object: Value = serde_json::from_str(&event.body).unwrap_or_else(|_| json!({}));
    object["id"] = json!(event.id);
    object["event_type"] = json!(event.event_type);
    object["create_time"] = json!(mgrid_contract::clock::format_rfc3339(event.created * 1000));
    if object.get("resource").is_none() {
        object["resource"] = json!({});
    }
    if object.get("resource_type").is_none() {
        object["resource_type"] = json!("capture");
    }
    object
}

/// PayPal's `webhook` object.
pub fn paypal_object(webhook: &Endpoint) -> Value {
    let href = format!(
        "https://api-m.paypal.com/v1/notifications/webhooks/{}",
        form::encode(&webhook.id)
    );
    json!({
        "id": webhook.id,
        "url": webhook.url.expose(),
        "event_types": webhook.events.iter().map(|name| json!({"name": name, "description": name})).collect::<Vec<_>>(),
        "links": [
            {"href": href, "rel": "self", "method": "GET"},
            {"href": href, "rel": "update", "method": "PATCH"},
            {"href": href, "rel": "delete", "method": "DELETE"}
        ]
    })
}

pub(super) fn paypal_missing() -> Response<Full<Bytes>> {
    json_reply(
        StatusCode::NOT_FOUND,
        json!({"name": "INVALID_RESOURCE_ID", "message": "Webhook ID not found.", "debug_id": "standin"}),
    )
}

pub(super) fn paypal_invalid(issue: &str) -> Response<Full<Bytes>> {
    json_reply(
        StatusCode::BAD_REQUEST,
        json!({
            "name": "INVALID_REQUEST",
            "message": "Request is not well-formed, syntactically incorrect, or violates schema.",
            "debug_id": "standin",
            "details": [{"issue": issue}]
        }),
    )
}

impl StandIn {
    /// `GET /v1/notifications/webhooks-events`: newest first, `start_time`/`end_time`
    /// (RFC 3339), `page_size`; the next page is the `next` link (a `page` number here).
    pub(super) fn paypal_events(&self, query: &str) -> Response<Full<Bytes>> {
        let pairs = form::pairs(query);
        let bound = |name| {
            value_of(&pairs, name)
                .and_then(|v| mgrid_contract::clock::parse_rfc3339(&v).ok())
                .map(|ms| ms / 1000)
        };
        let (from, to) = (bound("start_time"), bound("end_time"));
        let size = value_of(&pairs, "page_size")
            .and_then(|l| l.parse::<usize>().ok())
            .unwrap_or(10)
            .clamp(1, 300);
        let page_number = value_of(&pairs, "page")
            .and_then(|p| p.parse::<usize>().ok())
            .unwrap_or(1)
            .max(1);
        let wanted =
            |e: &Event| from.is_none_or(|f| e.created >= f) && to.is_none_or(|t| e.created <= t);
        // PayPal numbers its pages: the page is what follows the earlier pages' events.
        let (page, more) = self
            .unsaved(|state| {
                let (skipped, _) =
                    state.page(Provider::Paypal, wanted, None, (page_number - 1) * size)?;
                let after = skipped.last().map(|e| e.id.clone());
                if page_number > 1 && after.is_none() {
                    return Some((Vec::new(), false));
                }
                state.page(Provider::Paypal, wanted, after.as_deref(), size)
            })
            .unwrap_or_default();
        let page: Vec<Value> = page.iter().map(paypal_event).collect();
        let mut links = Vec::new();
        if more {
            let mut next: Vec<String> = pairs
                .iter()
                .filter(|(name, _)| name != "page")
                .map(|(name, value)| format!("{}={}", form::encode(name), form::encode(value)))
                .collect();
            next.push(format!("page={}", page_number + 1));
            links.push(json!({
                "href": format!("https://api-m.paypal.com/v1/notifications/webhooks-events?{}", next.join("&")),
                "rel": "next",
                "method": "GET"
            }));
        }
        json_reply(
            StatusCode::OK,
            json!({"events": page, "count": page.len(), "links": links}),
        )
    }

    pub(super) fn paypal(&self, rest: &str, call: &Call) -> Response<Full<Bytes>> {
        if rest == "oauth2/token" && call.method == Method::POST {
            return self.paypal_token(call);
        }
        if let Some(refused) = self.refusal(Provider::Paypal, call) {
            return refused;
        }
        let id = rest.strip_prefix("notifications/webhooks/");
        match (&call.method, rest, id) {
            (&Method::GET, "notifications/webhooks", _) => {
                let webhooks: Vec<Value> = self
                    .endpoints(Provider::Paypal)
                    .iter()
                    .map(paypal_object)
                    .collect();
                json_reply(StatusCode::OK, json!({ "webhooks": webhooks }))
            }
            (&Method::POST, "notifications/webhooks", _) => {
                let Ok(asked) = serde_json::from_str::<Value>(&call.body) else {
                    return paypal_invalid("the request body is not JSON");
                };
                let Some(url) = asked.get("url").and_then(Value::as_str) else {
                    return paypal_invalid("url is required");
                };
                let events = asked
                    .get("event_types")
                    .and_then(Value::as_array)
                    .map(|types| {
                        types
                            .iter()
                            .filter_map(|t| t.get("name").and_then(Value::as_str))
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default();
                let id = self.register(Provider::Paypal, Secret::new(url.to_owned()), events, None);
                match self.find(Provider::Paypal, &id) {
                    Some(webhook) => json_reply(StatusCode::CREATED, paypal_object(&webhook)),
                    None => paypal_missing(),
                }
            }
            (&Method::GET, _, Some(id)) => match self.find(Provider::Paypal, id) {
                Some(webhook) => json_reply(StatusCode::OK, paypal_object(&webhook)),
                None => paypal_missing(),
            },
            (&Method::PATCH, _, Some(id)) => {
                let Ok(Value::Array(operations)) = serde_json::from_str::<Value>(&call.body) else {
                    return paypal_invalid("the request body is not a JSON patch array");
                };
                let mut url = None;
                let mut events = None;
                for operation in &operations {
                    match (
                        operation.get("op").and_then(Value::as_str),
                        operation.get("path").and_then(Value::as_str),
                        operation.get("value"),
                    ) {
                        (Some("replace"), Some("/url"), Some(Value::String(value))) => {
                            url = Some(value.clone())
                        }
                        (Some("replace"), Some("/event_types"), Some(Value::Array(types))) => {
                            events = Some(
                                types
                                    .iter()
                                    .filter_map(|t| t.get("name").and_then(Value::as_str))
                                    .map(str::to_owned)
                                    .collect::<Vec<_>>(),
                            )
                        }
                        _ => {
                            return paypal_invalid(
                                "only replace of /url or /event_types is supported",
                            );
                        }
                    }
                }
                let changed = self.saved(|state| {
                    let webhook = state.paypal.iter_mut().find(|w| w.id == id)?;
                    if let Some(url) = url {
                        webhook.url = Secret::new(url);
                    }
                    if let Some(events) = events {
                        webhook.events = events;
                    }
                    Some(webhook.clone())
                });
                match changed {
                    Some(webhook) => json_reply(StatusCode::OK, paypal_object(&webhook)),
                    None => paypal_missing(),
                }
            }
            (&Method::DELETE, _, Some(id)) => {
                let removed = self.saved(|state| {
                    let before = state.paypal.len();
                    state.paypal.retain(|w| w.id != id);
                    before != state.paypal.len()
                });
                if removed {
                    Response::builder()
                        .status(StatusCode::NO_CONTENT)
                        .body(Full::new(Bytes::new()))
                        .unwrap_or_default()
                } else {
                    paypal_missing()
                }
            }
            _ => json_reply(
                StatusCode::NOT_FOUND,
                json!({"name": "RESOURCE_NOT_FOUND", "message": "The specified resource does not exist.", "debug_id": "standin"}),
            ),
        }
    }

    /// `POST /v1/oauth2/token` with the client id and secret as HTTP Basic credentials.
    pub(super) fn paypal_token(&self, call: &Call) -> Response<Full<Bytes>> {
        use base64::Engine;
        let presented = call
            .authorization
            .strip_prefix("Basic ")
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_default();
        let expected = self.unsaved(|s| s.credentials.as_ref().map(|c| c.paypal.clone()));
        let grant = form::pairs(&call.body);
        if value_of(&grant, "grant_type").as_deref() != Some("client_credentials") {
            return json_reply(
                StatusCode::BAD_REQUEST,
                json!({"error": "unsupported_grant_type", "error_description": "Grant Type is NULL"}),
            );
        }
        if expected.is_none_or(|c| c.expose() != presented || presented.is_empty()) {
            return json_reply(
                StatusCode::UNAUTHORIZED,
                json!({"error": "invalid_client", "error_description": "Client Authentication failed"}),
            );
        }
        let token = match crate::ids::random_bytes() {
            Ok(bytes) => {
                use base64::Engine;
                format!(
                    "A21AA{}",
                    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
                )
            }
            Err(_) => return json_reply(StatusCode::INTERNAL_SERVER_ERROR, json!({})),
        };
        self.unsaved(|state| state.access_tokens.push(Secret::new(token.clone())));
        json_reply(
            StatusCode::OK,
            json!({
                "scope": "https://uri.paypal.com/services/applications/webhooks",
                "access_token": token,
                "token_type": "Bearer",
                "app_id": "APP-STANDIN",
                "expires_in": 32400,
                "nonce": format!("{}-standin", now_seconds())
            }),
        )
    }
}
