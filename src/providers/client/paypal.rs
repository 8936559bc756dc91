//! PayPal's side of the client: webhooks (`GET /v1/notifications/webhooks`; `PATCH
//! /v1/notifications/webhooks/{id}` with a JSON patch to change the URL) and webhook events
//! (`GET /v1/notifications/webhooks-events`, following `next` links only to that listing;
//! `POST …/{id}/resend`), in the shapes of PayPal's published specifications.

use hyper::Method;
use mgrid_contract::{EpochMillis, Provider, Secret, form};
use serde::Deserialize;

use super::bounds::{EventsPage, MAX_ENDPOINTS};
use super::transport::{Body, Transport, told};
use crate::failure::{Failure, FailureKind};
use crate::ports::{ProviderEndpoint, ProviderEvent};

/// Every webhook of the app (PayPal lists them in one answer).
pub(super) async fn endpoints(t: &Transport) -> Result<Vec<ProviderEndpoint>, Failure> {
    let list: PaypalWebhooks = t
        .json(Method::GET, "/v1/notifications/webhooks", None)
        .await?;
    if list.webhooks.len() > MAX_ENDPOINTS {
        return Err(Failure::new(
            FailureKind::Failed,
            format!(
                "PayPal listed {} webhooks, more than an app can hold: mgrid does not read on",
                list.webhooks.len()
            ),
        ));
    }
    Ok(list
        .webhooks
        .into_iter()
        .map(PaypalWebhook::endpoint)
        .collect())
}

/// Points webhook `id` at `url`.
pub(super) async fn set_url(
    t: &Transport,
    id: &str,
    url: &Secret,
) -> Result<ProviderEndpoint, Failure> {
    let patch = paypal_url_patch(url.expose());
    let path = format!("/v1/notifications/webhooks/{}", form::encode(id));
    let webhook: PaypalWebhook = t
        .json(Method::PATCH, &path, Some(Body::Json(patch.to_string())))
        .await?;
    Ok(webhook.endpoint())
}

/// One page of the payment events created in `[from, to]`; the next page is PayPal's `next`
/// link, followed only to the events listing.
pub(super) async fn events_page(
    t: &Transport,
    from: EpochMillis,
    to: EpochMillis,
    cursor: Option<&str>,
) -> Result<EventsPage, Failure> {
    let path = match cursor {
        Some(next) => next.to_owned(),
        None => format!(
            "/v1/notifications/webhooks-events?page_size=100&start_time={}&end_time={}",
            form::encode(&mgrid_contract::clock::format_rfc3339(from)),
            form::encode(&mgrid_contract::clock::format_rfc3339(to))
        ),
    };
    let page: PaypalEvents = t.json(Method::GET, &path, None).await?;
    // The next page is a link: its path and query, asked of this client's base, and
    // only when it is the events listing (never another of the API's paths).
    let next = page
        .links
        .iter()
        .find(|l| l.rel == "next")
        .and_then(|l| l.href.find("/v1/").map(|at| l.href[at..].to_owned()))
        .filter(|path| path.starts_with("/v1/notifications/webhooks-events?"));
    let wanted = Provider::Paypal.payment_event_types();
    let listed = page.events.len();
    let events: Vec<ProviderEvent> = page
        .events
        .into_iter()
        .filter_map(PaypalEvent::event)
        .collect();
    let unreadable = (listed - events.len()) as u64;
    Ok(EventsPage {
        events: events
            .into_iter()
            .filter(|e| wanted.contains(&e.event_type.as_str()))
            .collect(),
        next,
        unreadable,
    })
}

/// Delivers event `id` again to webhook `endpoint` (PayPal's resend).
pub(super) async fn resend(t: &Transport, id: &str, endpoint: &str) -> Result<(), Failure> {
    let body = paypal_resend(&[endpoint]);
    let path = format!(
        "/v1/notifications/webhooks-events/{}/resend",
        form::encode(id)
    );
    t.call(Method::POST, &path, Some(Body::Json(body.to_string())))
        .await?;
    Ok(())
}

/// PayPal's `PATCH /v1/notifications/webhooks/{id}` body that changes the URL.
pub(super) fn paypal_url_patch(url: &str) -> serde_json::Value {
    serde_json::json!([{"op": "replace", "path": "/url", "value": url}])
}

/// PayPal's `POST /v1/notifications/webhooks-events/{id}/resend` body, to these webhooks.
pub(super) fn paypal_resend(webhooks: &[&str]) -> serde_json::Value {
    serde_json::json!({ "webhook_ids": webhooks })
}

#[derive(Deserialize)]
pub(super) struct PaypalEvents {
    #[serde(default)]
    events: Vec<serde_json::Value>,
    #[serde(default)]
    links: Vec<PaypalLink>,
}

#[derive(Deserialize)]
pub(super) struct PaypalLink {
    href: String,
    rel: String,
}

/// A PayPal `event`: its id, type and creation time, and the whole as its body.
pub(super) struct PaypalEvent;

impl PaypalEvent {
    pub(super) fn event(value: serde_json::Value) -> Option<ProviderEvent> {
        let id = value.get("id")?.as_str()?.to_owned();
        let event_type = value.get("event_type")?.as_str()?.to_owned();
        let created = value
            .get("create_time")
            .and_then(serde_json::Value::as_str)
            .and_then(|t| mgrid_contract::clock::parse_rfc3339(t).ok())?;
        Some(ProviderEvent {
            id,
            event_type,
            created,
            body: value.to_string(),
            pending_deliveries: None,
        })
    }
}

#[derive(Deserialize)]
pub(super) struct PaypalWebhooks {
    webhooks: Vec<PaypalWebhook>,
}

/// The fields of PayPal's `webhook` mgrid reads.
#[derive(Deserialize)]
pub(super) struct PaypalWebhook {
    id: String,
    url: String,
    event_types: Vec<PaypalEventType>,
}

#[derive(Deserialize)]
pub(super) struct PaypalEventType {
    name: String,
}

impl PaypalWebhook {
    pub(super) fn endpoint(self) -> ProviderEndpoint {
        ProviderEndpoint {
            id: told(self.id),
            url: Secret::new(self.url),
            // PayPal has no disabled state for a webhook: it is there or it is not.
            enabled: true,
            status: "enabled".into(),
            events: self.event_types.into_iter().map(|t| told(t.name)).collect(),
            api_version: None,
        }
    }
}
