//! Stripe's side of the client: webhook endpoints (`GET /v1/webhook_endpoints`, every page;
//! `POST /v1/webhook_endpoints/{id}` to change the URL) and events (`GET /v1/events` of the
//! payment types, newest first; `POST /v1/events/{id}/retry` to deliver one again), in the
//! shapes of Stripe's OpenAPI document.

use hyper::Method;
use mgrid_contract::{EpochMillis, Provider, Secret, form};
use serde::Deserialize;

use super::bounds::{Cursors, EventsPage, MAX_ENDPOINTS};
use super::transport::{Body, Transport, told};
use crate::failure::Failure;
use crate::ports::{ProviderEndpoint, ProviderEvent};

/// Every webhook endpoint of the account, page by page.
pub(super) async fn endpoints(t: &Transport) -> Result<Vec<ProviderEndpoint>, Failure> {
    let mut endpoints = Vec::new();
    let mut after: Option<String> = None;
    let mut cursors = Cursors::new("webhook endpoints", MAX_ENDPOINTS / 100);
    loop {
        let mut path = "/v1/webhook_endpoints?limit=100".to_owned();
        if let Some(id) = &after {
            path.push_str(&format!("&starting_after={}", form::encode(id)));
        }
        let page: StripeList = t.json(Method::GET, &path, None).await?;
        after = page
            .has_more
            .then(|| page.data.last().map(|e| e.id.clone()))
            .flatten();
        endpoints.extend(page.data.into_iter().map(StripeEndpoint::endpoint));
        cursors.follow(Provider::Stripe, after.as_deref())?;
        if after.is_none() {
            return Ok(endpoints);
        }
    }
}

/// Points endpoint `id` at `url`.
pub(super) async fn set_url(
    t: &Transport,
    id: &str,
    url: &Secret,
) -> Result<ProviderEndpoint, Failure> {
    let body = Body::Form(stripe_url_form(url.expose()));
    let path = format!("/v1/webhook_endpoints/{}", form::encode(id));
    let endpoint: StripeEndpoint = t.json(Method::POST, &path, Some(body)).await?;
    Ok(endpoint.endpoint())
}

/// One page of the payment events created in `[from, to]`.
pub(super) async fn events_page(
    t: &Transport,
    from: EpochMillis,
    to: EpochMillis,
    cursor: Option<&str>,
) -> Result<EventsPage, Failure> {
    let mut path = format!(
        "/v1/events?limit=100&created%5Bgte%5D={}&created%5Blte%5D={}",
        from.div_euclid(1000),
        to.div_euclid(1000)
    );
    for kind in Provider::Stripe.payment_event_types() {
        path.push_str(&format!("&types%5B%5D={}", form::encode(kind)));
    }
    if let Some(after) = cursor {
        path.push_str(&format!("&starting_after={}", form::encode(after)));
    }
    let page: StripeEvents = t.json(Method::GET, &path, None).await?;
    let next = page
        .has_more
        .then(|| page.data.last().map(|e| e.id.clone()))
        .flatten();
    Ok(EventsPage {
        events: page.data.into_iter().map(StripeEvent::event).collect(),
        next,
        unreadable: 0,
    })
}

/// Delivers event `id` again to endpoint `endpoint`, as `stripe events resend` asks it.
pub(super) async fn resend(t: &Transport, id: &str, endpoint: &str) -> Result<(), Failure> {
    let body = Body::Form(format!("webhook_endpoint={}", form::encode(endpoint)));
    let path = format!("/v1/events/{}/retry", form::encode(id));
    t.call(Method::POST, &path, Some(body)).await?;
    Ok(())
}

/// Stripe's `POST /v1/webhook_endpoints/{id}` body that changes the URL.
pub(super) fn stripe_url_form(url: &str) -> String {
    format!("url={}", form::encode(url))
}

#[derive(Deserialize)]
pub(super) struct StripeEvents {
    data: Vec<StripeEvent>,
    has_more: bool,
}

/// A Stripe `event`, kept whole: it is what the webhook would have carried.
#[derive(Deserialize)]
pub(super) struct StripeEvent {
    id: String,
    #[serde(rename = "type")]
    event_type: String,
    created: i64,
    pending_webhooks: u64,
    #[serde(flatten)]
    rest: serde_json::Map<String, serde_json::Value>,
}

impl StripeEvent {
    pub(super) fn event(self) -> ProviderEvent {
        let mut whole = self.rest;
        whole.insert("id".into(), self.id.clone().into());
        whole.insert("type".into(), self.event_type.clone().into());
        whole.insert("created".into(), self.created.into());
        whole.insert("pending_webhooks".into(), self.pending_webhooks.into());
        ProviderEvent {
            id: self.id,
            event_type: self.event_type,
            created: self.created.saturating_mul(1000),
            body: serde_json::Value::Object(whole).to_string(),
            pending_deliveries: Some(self.pending_webhooks),
        }
    }
}

#[derive(Deserialize)]
pub(super) struct StripeList {
    data: Vec<StripeEndpoint>,
    has_more: bool,
}

/// The fields of Stripe's `webhook_endpoint` mgrid reads.
#[derive(Deserialize)]
pub(super) struct StripeEndpoint {
    id: String,
    url: String,
    status: String,
    enabled_events: Vec<String>,
    api_version: Option<String>,
}

impl StripeEndpoint {
    pub(super) fn endpoint(self) -> ProviderEndpoint {
        ProviderEndpoint {
            id: told(self.id),
            url: Secret::new(self.url),
            enabled: self.status == "enabled",
            status: told(self.status),
            events: self.enabled_events.into_iter().map(told).collect(),
            api_version: self.api_version.map(told),
        }
    }
}
