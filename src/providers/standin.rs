//! A stand-in for the parts of Stripe's and PayPal's APIs mgrid uses, for the local stage and
//! the tests: an HTTP server answering at `<base>/stripe/v1/…` and `<base>/paypal/v1/…` in the
//! shapes of the providers' published OpenAPI documents (kept under `tests/providers/`, and the
//! answers validated against them), with their authentication (Stripe's key as a bearer token;
//! PayPal's OAuth client credentials, then an access token), their pagination (Stripe's
//! `limit`/`starting_after`/`has_more`), their errors, and a 429 with `Retry-After` when asked to.
//!
//! It keeps state like a provider: webhook endpoints with their URLs (carrying the stage's key),
//! status, subscriptions and signing secret, and the events sent through it, saved to a file so
//! it survives a restart of `mgrid dev`. Beside the providers' routes, `/_standin/…` lets a test
//! or `mgrid send` act as the provider would: deliver an event to the endpoints subscribed to it
//! (`POST /_standin/<provider>/deliver`), or throttle the next requests
//! (`POST /_standin/throttle`). Those control routes sign as the provider and spend the stage's
//! API key, so they answer only a caller holding the stand-in's control token (a bearer token
//! `mgrid dev` keeps in the stage's owner-only data directory): another local user who finds
//! the port is refused, as the real providers refuse a caller without their credentials.

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use mgrid_contract::{Provider, Secret};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{form_encode, form_pairs};
use crate::failure::{Failure, FailureKind};

/// The credentials the stand-in accepts, as `mgrid keys set-provider-token` stores them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Credentials {
    /// A Stripe restricted key (`rk_test_…`).
    pub stripe: Secret,
    /// PayPal's `<client id>:<secret>`.
    pub paypal: Secret,
}

/// A webhook endpoint as the stand-in keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Endpoint {
    pub id: String,
    pub url: Secret,
    /// `enabled` or `disabled` (Stripe); PayPal webhooks are always enabled.
    pub status: String,
    pub events: Vec<String>,
    /// Stripe's `api_version` (None: the account's default).
    pub api_version: Option<String>,
    /// What it signs with: Stripe's `whsec_…`; for PayPal none (its signature is a certificate's).
    pub secret: Option<Secret>,
    /// Seconds since the epoch.
    pub created: i64,
}

/// An event the provider sent, and how its deliveries went.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Event {
    pub provider: Provider,
    pub id: String,
    pub event_type: String,
    /// Seconds since the epoch.
    pub created: i64,
    pub body: String,
    /// Whether every delivery was answered 2xx (Stripe's `delivery_success`).
    pub delivered: bool,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    credentials: Option<Credentials>,
    stripe: Vec<Endpoint>,
    paypal: Vec<Endpoint>,
    /// Kept in a file of their own, one JSON line each, appended to (never rewritten).
    #[serde(skip)]
    events: Vec<Event>,
    /// Where each event is in `events`, by provider and id (a resend updates it in place).
    #[serde(skip)]
    event_at: std::collections::HashMap<(Provider, String), usize>,
    next_id: u64,
    #[serde(skip)]
    access_tokens: Vec<Secret>,
    /// How many more provider requests answer 429, and the `Retry-After` they carry.
    #[serde(skip)]
    throttle: Option<Throttle>,
}

impl State {
    /// Keeps an event: a new one at the end, a known one (a resend) in its place.
    fn keep(&mut self, event: Event) {
        let key = (event.provider, event.id.clone());
        match self.event_at.get(&key) {
            Some(&at) => self.events[at] = event,
            None => {
                self.event_at.insert(key, self.events.len());
                self.events.push(event);
            }
        }
    }

    /// A page of a provider's events, newest first, that `wanted` takes: after `after` (an
    /// event id, None: from the newest), at most `limit`, and whether more follow. None when
    /// `after` is not one of its events.
    fn page(
        &self,
        provider: Provider,
        wanted: impl Fn(&Event) -> bool,
        after: Option<&str>,
        limit: usize,
    ) -> Option<(Vec<Event>, bool)> {
        let end = match after {
            Some(id) => *self.event_at.get(&(provider, id.to_owned()))?,
            None => self.events.len(),
        };
        let mut page = Vec::new();
        for event in self.events[..end]
            .iter()
            .rev()
            .filter(|e| e.provider == provider && wanted(e))
        {
            if page.len() == limit {
                return Some((page, true));
            }
            page.push(event.clone());
        }
        Some((page, false))
    }

    fn endpoints(&mut self, provider: Provider) -> &mut Vec<Endpoint> {
        match provider {
            Provider::Stripe => &mut self.stripe,
            Provider::Paypal => &mut self.paypal,
        }
    }

    fn new_id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}{:016}", self.next_id)
    }
}

/// The stand-in's state, shared by its server and whoever seeds it (`mgrid dev`).
#[derive(Clone)]
pub struct StandIn {
    state: Arc<Mutex<State>>,
    file: Option<PathBuf>,
    /// What a caller of the control routes must present (`Authorization: Bearer …`); new each
    /// time the stand-in opens.
    control: Arc<Secret>,
}

impl StandIn {
    /// A stand-in kept in `file` (read when it exists; written, owner-only, on every change), or
    /// in memory only.
    pub fn open(file: Option<PathBuf>) -> Result<StandIn, Failure> {
        let state = match &file {
            Some(path) if path.exists() => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    Failure::new(
                        FailureKind::Failed,
                        format!("cannot read {}: {e}", path.display()),
                    )
                })?;
                serde_json::from_str(&text).map_err(|e| {
                    Failure::new(
                        FailureKind::Failed,
                        format!(
                            "{} is not the provider stand-in's state: {e}",
                            path.display()
                        ),
                    )
                    .next("move it aside: the stand-in starts again with no endpoints")
                })?
            }
            _ => State::default(),
        };
        let mut state = state;
        if let Some(path) = &file {
            for event in read_events(&events_file(path))? {
                state.keep(event);
            }
        }
        Ok(StandIn {
            state: Arc::new(Mutex::new(state)),
            file,
            control: Arc::new(Secret::new(crate::ids::random_text("mgsc_")?)),
        })
    }

    /// The token the control routes (`/_standin/…`) answer to.
    pub fn control_token(&self) -> &Secret {
        &self.control
    }

    /// Points each endpoint `was_local` recognises (an earlier `mgrid dev`'s URL: it gives the
    /// path and query) at `origin` instead, keeping that path and query (the key): a local stage
    /// restarted on another port is where its provider delivers, never the port it left, which
    /// anyone may listen on now. How many moved.
    pub fn move_endpoints(
        &self,
        provider: Provider,
        was_local: impl Fn(&str) -> Option<String>,
        origin: &str,
    ) -> usize {
        self.with(|state| {
            let mut moved = 0;
            for endpoint in state.endpoints(provider).iter_mut() {
                if let Some(rest) = was_local(endpoint.url.expose()) {
                    let url = format!("{origin}{rest}");
                    if url != endpoint.url.expose() {
                        endpoint.url = Secret::new(url);
                        moved += 1;
                    }
                }
            }
            moved
        })
    }

    /// Reads the state, or changes what is not kept (access tokens, a throttle): nothing saved.
    fn quietly<T>(&self, look: impl FnOnce(&mut State) -> T) -> T {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        look(&mut state)
    }

    /// Changes the state and saves it.
    fn with<T>(&self, change: impl FnOnce(&mut State) -> T) -> T {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let result = change(&mut state);
        if let Some(path) = &self.file
            && let Err(error) = save(path, &state)
        {
            tracing::warn!("the provider stand-in cannot save its state: {error}");
        }
        result
    }

    /// The credentials it accepts, set once (a second call keeps the first).
    pub fn credentials(&self, make: impl FnOnce() -> Credentials) -> Credentials {
        self.with(|state| state.credentials.get_or_insert_with(make).clone())
    }

    /// Registers an endpoint, as an operator does in the provider's dashboard; its id.
    pub fn register(
        &self,
        provider: Provider,
        url: Secret,
        events: Vec<String>,
        secret: Option<Secret>,
    ) -> String {
        self.with(|state| {
            let id = match provider {
                Provider::Stripe => state.new_id("we_"),
                Provider::Paypal => state.new_id("WH-"),
            };
            let api_version = (provider == Provider::Stripe)
                .then(|| mgrid_contract::provider::STRIPE_API_VERSION.to_owned());
            state.endpoints(provider).push(Endpoint {
                id: id.clone(),
                url,
                status: "enabled".into(),
                events,
                api_version,
                secret,
                created: now_seconds(),
            });
            id
        })
    }

    /// The endpoints it holds for a provider.
    pub fn endpoints(&self, provider: Provider) -> Vec<Endpoint> {
        self.quietly(|state| state.endpoints(provider).clone())
    }

    /// Serves until the listener's task is dropped.
    pub async fn serve(self, listener: tokio::net::TcpListener) {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            };
            let stand_in = self.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| {
                    let stand_in = stand_in.clone();
                    async move { Ok::<_, Infallible>(stand_in.answer(request).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(std::time::Duration::from_secs(10))
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    }

    async fn answer(&self, request: Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
        let method = request.method().clone();
        let path = request.uri().path().to_owned();
        let query = request.uri().query().unwrap_or("").to_owned();
        let authorization = request
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let Ok(body) = request.into_body().collect().await else {
            return reply(StatusCode::BAD_REQUEST, json!({"error": "unreadable body"}));
        };
        let body = String::from_utf8_lossy(&body.to_bytes()).into_owned();
        let call = Call {
            method,
            query,
            authorization,
            body,
        };
        if let Some(rest) = path.strip_prefix("/_standin/") {
            if !self.holds_control(&call.authorization) {
                return reply(
                    StatusCode::UNAUTHORIZED,
                    json!({"error": "the stand-in's control routes need its control token (Authorization: Bearer …), which mgrid dev keeps in the stage's data directory"}),
                );
            }
            return self.control(rest, &call).await;
        }
        let (provider, rest) = match path.split_once("/v1/") {
            Some(("/stripe", rest)) => (Provider::Stripe, rest),
            Some(("/paypal", rest)) => (Provider::Paypal, rest),
            _ => return reply(StatusCode::NOT_FOUND, json!({"error": "no such route"})),
        };
        if let Some(throttle) = self.quietly(throttled) {
            return throttle_reply(provider, &throttle);
        }
        if let Some(answer) = self.events_route(provider, rest, &call).await {
            return answer;
        }
        match provider {
            Provider::Stripe => self.stripe(rest, &call),
            Provider::Paypal => self.paypal(rest, &call),
        }
    }

    /// Whether `authorization` carries the control token, compared in constant time.
    fn holds_control(&self, authorization: &str) -> bool {
        use subtle::ConstantTimeEq;
        authorization
            .strip_prefix("Bearer ")
            .is_some_and(|presented| {
                bool::from(presented.as_bytes().ct_eq(self.control.expose().as_bytes()))
            })
    }

    /// The events routes: Stripe `GET /v1/events` and `POST /v1/events/{id}/retry` (what
    /// `stripe events resend` calls; not in Stripe's published document), PayPal
    /// `GET /v1/notifications/webhooks-events` and `POST …/{id}/resend`. None: not one of them.
    async fn events_route(
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
            _ => reply(
                StatusCode::METHOD_NOT_ALLOWED,
                json!({"error": "not allowed"}),
            ),
        })
    }

    /// `GET /v1/events`: newest first, `created[gte]`/`created[lte]` (seconds), `types[]`,
    /// `delivery_success`, `limit` (1-100) after `starting_after`.
    fn stripe_events(&self, query: &str) -> Response<Full<Bytes>> {
        let pairs = form_pairs(query);
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
            self.quietly(|state| state.page(Provider::Stripe, wanted, after.as_deref(), limit))
        else {
            return stripe_missing(after.as_deref().unwrap_or_default());
        };
        let page: Vec<Value> = page.iter().map(stripe_event).collect();
        reply(
            StatusCode::OK,
            json!({"object": "list", "url": "/v1/events", "has_more": has_more, "data": page}),
        )
    }

    /// `GET /v1/notifications/webhooks-events`: newest first, `start_time`/`end_time`
    /// (RFC 3339), `page_size`; the next page is the `next` link (a `page` number here).
    fn paypal_events(&self, query: &str) -> Response<Full<Bytes>> {
        let pairs = form_pairs(query);
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
            .quietly(|state| {
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
                .map(|(name, value)| format!("{}={}", form_encode(name), form_encode(value)))
                .collect();
            next.push(format!("page={}", page_number + 1));
            links.push(json!({
                "href": format!("https://api-m.paypal.com/v1/notifications/webhooks-events?{}", next.join("&")),
                "rel": "next",
                "method": "GET"
            }));
        }
        reply(
            StatusCode::OK,
            json!({"events": page, "count": page.len(), "links": links}),
        )
    }

    /// Delivers a kept event again: Stripe to the one `webhook_endpoint` (refused when it is
    /// not subscribed to the event's type), PayPal to the `webhook_ids` (all, when none named).
    async fn resend(&self, provider: Provider, id: &str, call: &Call) -> Response<Full<Bytes>> {
        let known = self.quietly(|state| {
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
            Provider::Stripe => value_of(&form_pairs(&call.body), "webhook_endpoint")
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
            return reply(
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
            Provider::Stripe => reply(StatusCode::OK, stripe_event(&resent)),
            Provider::Paypal => reply(StatusCode::ACCEPTED, paypal_event(&resent)),
        };
        self.remember(vec![resent]);
        answer
    }

    /// The provider's refusal of a call without valid credentials (Stripe's key; a PayPal
    /// access token), or None.
    fn refusal(&self, provider: Provider, call: &Call) -> Option<Response<Full<Bytes>>> {
        let presented = call.authorization.strip_prefix("Bearer ").unwrap_or("");
        match provider {
            Provider::Stripe => {
                let expected = self.quietly(|s| s.credentials.as_ref().map(|c| c.stripe.clone()));
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
                let known = self.quietly(|state| {
                    state
                        .access_tokens
                        .iter()
                        .any(|t| !presented.is_empty() && t.expose() == presented)
                });
                (!known).then(|| {
                    reply(
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

    fn stripe(&self, rest: &str, call: &Call) -> Response<Full<Bytes>> {
        if let Some(refused) = self.refusal(Provider::Stripe, call) {
            return refused;
        }
        let id = rest.strip_prefix("webhook_endpoints/");
        match (&call.method, rest, id) {
            (&Method::GET, "webhook_endpoints", _) => self.stripe_list(&call.query),
            (&Method::POST, "webhook_endpoints", _) => {
                let form = form_pairs(&call.body);
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
                    self.with(|state| {
                        if let Some(endpoint) = state.stripe.iter_mut().find(|e| e.id == id) {
                            endpoint.api_version = Some(version);
                        }
                    });
                }
                let endpoint = self.find(Provider::Stripe, &id);
                let mut object = endpoint.as_ref().map(stripe_object).unwrap_or(Value::Null);
                // Stripe returns an endpoint's secret at creation only.
                object["secret"] = json!(secret.expose());
                reply(StatusCode::OK, object)
            }
            (&Method::GET, _, Some(id)) => match self.find(Provider::Stripe, id) {
                Some(endpoint) => reply(StatusCode::OK, stripe_object(&endpoint)),
                None => stripe_missing(id),
            },
            (&Method::POST, _, Some(id)) => {
                let form = form_pairs(&call.body);
                let changed = self.with(|state| {
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
                    Some(endpoint) => reply(StatusCode::OK, stripe_object(&endpoint)),
                    None => stripe_missing(id),
                }
            }
            (&Method::DELETE, _, Some(id)) => {
                let removed = self.with(|state| {
                    let before = state.stripe.len();
                    state.stripe.retain(|e| e.id != id);
                    before != state.stripe.len()
                });
                if removed {
                    reply(
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
    fn stripe_list(&self, query: &str) -> Response<Full<Bytes>> {
        let pairs = form_pairs(query);
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
        reply(
            StatusCode::OK,
            json!({"object": "list", "url": "/v1/webhook_endpoints", "has_more": has_more, "data": page}),
        )
    }

    fn paypal(&self, rest: &str, call: &Call) -> Response<Full<Bytes>> {
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
                reply(StatusCode::OK, json!({ "webhooks": webhooks }))
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
                    Some(webhook) => reply(StatusCode::CREATED, paypal_object(&webhook)),
                    None => paypal_missing(),
                }
            }
            (&Method::GET, _, Some(id)) => match self.find(Provider::Paypal, id) {
                Some(webhook) => reply(StatusCode::OK, paypal_object(&webhook)),
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
                let changed = self.with(|state| {
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
                    Some(webhook) => reply(StatusCode::OK, paypal_object(&webhook)),
                    None => paypal_missing(),
                }
            }
            (&Method::DELETE, _, Some(id)) => {
                let removed = self.with(|state| {
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
            _ => reply(
                StatusCode::NOT_FOUND,
                json!({"name": "RESOURCE_NOT_FOUND", "message": "The specified resource does not exist.", "debug_id": "standin"}),
            ),
        }
    }

    /// `POST /v1/oauth2/token` with the client id and secret as HTTP Basic credentials.
    fn paypal_token(&self, call: &Call) -> Response<Full<Bytes>> {
        use base64::Engine;
        let presented = call
            .authorization
            .strip_prefix("Basic ")
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_default();
        let expected = self.quietly(|s| s.credentials.as_ref().map(|c| c.paypal.clone()));
        let grant = form_pairs(&call.body);
        if value_of(&grant, "grant_type").as_deref() != Some("client_credentials") {
            return reply(
                StatusCode::BAD_REQUEST,
                json!({"error": "unsupported_grant_type", "error_description": "Grant Type is NULL"}),
            );
        }
        if expected.is_none_or(|c| c.expose() != presented || presented.is_empty()) {
            return reply(
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
            Err(_) => return reply(StatusCode::INTERNAL_SERVER_ERROR, json!({})),
        };
        self.quietly(|state| state.access_tokens.push(Secret::new(token.clone())));
        reply(
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

    /// The stand-in's own routes: `throttle` (the next `requests` provider calls answer 429
    /// with `Retry-After: retryAfter`), and `<provider>/deliver` (the body is an event: it is
    /// kept and sent to every enabled endpoint subscribed to its type, signed as the provider
    /// signs, and the answers returned).
    async fn control(&self, rest: &str, call: &Call) -> Response<Full<Bytes>> {
        if call.method != Method::POST {
            return reply(
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
                self.quietly(|state| {
                    state.throttle = Some(Throttle {
                        left: u32::try_from(requests).unwrap_or(u32::MAX),
                        retry_after: u32::try_from(retry_after).unwrap_or(u32::MAX),
                        status,
                    })
                });
                reply(StatusCode::OK, json!({"throttled": requests}))
            }
            "stripe/deliver" => self.deliver(Provider::Stripe, &call.body).await,
            "paypal/deliver" => self.deliver(Provider::Paypal, &call.body).await,
            "stripe/events" => self.keep(Provider::Stripe, &asked),
            "paypal/events" => self.keep(Provider::Paypal, &asked),
            _ => reply(
                StatusCode::NOT_FOUND,
                json!({"error": "no such stand-in route"}),
            ),
        }
    }

    /// Keeps events sent by someone else (`mgrid send`): `[{"body": "<event>", "delivered":
    /// true}, …]`, each as the provider keeps an event it sent.
    fn keep(&self, provider: Provider, asked: &Value) -> Response<Full<Bytes>> {
        let Some(sent) = asked.as_array() else {
            return reply(
                StatusCode::BAD_REQUEST,
                json!({"error": "an array of events"}),
            );
        };
        let mut events = Vec::new();
        for one in sent {
            let body = one.get("body").and_then(Value::as_str).unwrap_or("");
            let Some((id, event_type)) = identify(provider, body) else {
                return reply(
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
        reply(StatusCode::OK, json!({ "kept": kept }))
    }

    async fn deliver(&self, provider: Provider, body: &str) -> Response<Full<Bytes>> {
        let Some((id, event_type)) = identify(provider, body) else {
            return reply(
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
            return reply(
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
        reply(StatusCode::OK, json!({"deliveries": deliveries}))
    }

    /// Keeps events: in memory, and appended to the events file.
    fn remember(&self, events: Vec<Event>) {
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

    fn find(&self, provider: Provider, id: &str) -> Option<Endpoint> {
        self.endpoints(provider).into_iter().find(|e| e.id == id)
    }
}

struct Call {
    method: Method,
    query: String,
    authorization: String,
    body: String,
}

/// An event's id and type, as the provider names them (Stripe `type`, PayPal `event_type`).
fn identify(provider: Provider, body: &str) -> Option<(String, String)> {
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
async fn deliver_one(
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

/// Counts one throttled request down; the `Retry-After` when this one is refused.
/// The next provider requests refused on purpose: how many more, with which status (429 with
/// its Retry-After, or a 5xx).
#[derive(Debug, Clone, Copy)]
struct Throttle {
    left: u32,
    retry_after: u32,
    status: StatusCode,
}

/// Counts one refused request down; the refusal when this one is refused.
fn throttled(state: &mut State) -> Option<Throttle> {
    let throttle = state.throttle?;
    state.throttle = (throttle.left > 1).then_some(Throttle {
        left: throttle.left - 1,
        ..throttle
    });
    Some(throttle)
}

fn throttle_reply(provider: Provider, throttle: &Throttle) -> Response<Full<Bytes>> {
    if throttle.status.is_server_error() {
        return match provider {
            Provider::Stripe => reply(
                throttle.status,
                json!({"error": {"type": "api_error", "message": "An unknown error occurred. Please try again."}}),
            ),
            Provider::Paypal => reply(
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
    let mut response = reply(StatusCode::TOO_MANY_REQUESTS, body);
    if let Ok(value) = retry_after.to_string().parse() {
        response.headers_mut().insert("retry-after", value);
    }
    response
}

/// Stripe's `event` object for a kept event: its body, with what Stripe adds.
fn stripe_event(event: &Event) -> Value {
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

/// PayPal's `event` object for a kept event: its body, with what PayPal adds.
fn paypal_event(event: &Event) -> Value {
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

/// PayPal's `webhook` object.
pub fn paypal_object(webhook: &Endpoint) -> Value {
    let href = format!(
        "https://api-m.paypal.com/v1/notifications/webhooks/{}",
        form_encode(&webhook.id)
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

fn stripe_error(status: StatusCode, code: Option<&str>, message: &str) -> Response<Full<Bytes>> {
    let mut error = json!({"type": "invalid_request_error", "message": message});
    if let Some(code) = code {
        error["code"] = json!(code);
    }
    reply(status, json!({ "error": error }))
}

fn stripe_missing(id: &str) -> Response<Full<Bytes>> {
    let mut response = stripe_error(
        StatusCode::NOT_FOUND,
        Some("resource_missing"),
        &format!("No such webhook endpoint: '{id}'"),
    );
    *response.status_mut() = StatusCode::NOT_FOUND;
    response
}

fn paypal_missing() -> Response<Full<Bytes>> {
    reply(
        StatusCode::NOT_FOUND,
        json!({"name": "INVALID_RESOURCE_ID", "message": "Webhook ID not found.", "debug_id": "standin"}),
    )
}

fn paypal_invalid(issue: &str) -> Response<Full<Bytes>> {
    reply(
        StatusCode::BAD_REQUEST,
        json!({
            "name": "INVALID_REQUEST",
            "message": "Request is not well-formed, syntactically incorrect, or violates schema.",
            "debug_id": "standin",
            "details": [{"issue": issue}]
        }),
    )
}

fn reply(status: StatusCode, body: Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    if let Ok(value) = "application/json".parse() {
        response.headers_mut().insert("content-type", value);
    }
    response
}

fn value_of(pairs: &[(String, String)], name: &str) -> Option<String> {
    pairs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
}

fn values_of(pairs: &[(String, String)], name: &str) -> Vec<String> {
    pairs
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
        .collect()
}

fn now_seconds() -> i64 {
    crate::clock::now_millis() / 1000
}

/// Where a stand-in kept in `state` keeps its events: `<state>.events.jsonl`.
fn events_file(state: &std::path::Path) -> PathBuf {
    state.with_extension("events.jsonl")
}

fn read_events(path: &std::path::Path) -> Result<Vec<Event>, Failure> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(Failure::new(
                FailureKind::Failed,
                format!("cannot read {}: {e}", path.display()),
            ));
        }
    };
    // A line cut by a crash mid-append is dropped, not fatal.
    Ok(text
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect())
}

fn append_events(path: &std::path::Path, events: &[Event]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut text = String::new();
    for event in events {
        text.push_str(&serde_json::to_string(event).unwrap_or_default());
        text.push('\n');
    }
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path)?
        .write_all(text.as_bytes())
}

fn save(path: &std::path::Path, state: &State) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let aside = path.with_extension("partial");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&aside)?;
    file.write_all(serde_json::to_string(state).unwrap_or_default().as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&aside, path)
}
