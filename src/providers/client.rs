//! A stage's view of one provider's API, with the stage's provider token: its webhook endpoints
//! (Stripe `GET /v1/webhook_endpoints`, every page; PayPal `GET /v1/notifications/webhooks`)
//! and the one change mgrid makes to them, the URL (Stripe `POST /v1/webhook_endpoints/{id}`;
//! PayPal `PATCH /v1/notifications/webhooks/{id}` with a JSON patch). PayPal's calls take an
//! OAuth access token, asked for with the client id and secret (`POST /v1/oauth2/token`).
//!
//! A 429 is waited out (its `Retry-After`, else a doubling wait) and a 5xx or a lost connection
//! tried again, for two minutes at most; a refused token is a credentials failure naming the
//! command that sets one. No token, key or URL with a key reaches an error or a log line.

use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode};
use mgrid_contract::{EpochMillis, Provider, Secret, StageName};
use serde::Deserialize;

use super::scrub;
use crate::failure::{Failure, FailureKind};
use crate::http::HttpClient;
use crate::ports::{ProviderEndpoint, ProviderEvent};
use crate::retry::Backoff;
use mgrid_contract::form;

/// How long one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a call keeps trying through 429s, 5xx and lost connections.
const PATIENCE: Duration = Duration::from_secs(120);
/// The longest single wait a `Retry-After` is followed for.
const LONGEST_WAIT: Duration = Duration::from_secs(30);
/// The largest answer read: a page of 100 events is well under a megabyte; an answer that goes
/// on past this is not a page, and is cut off rather than held in memory.
const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;
/// The most webhook endpoints read: Stripe holds at most 16 an account, PayPal 10 an app, so
/// a listing that goes on past this is not a listing.
const MAX_ENDPOINTS: usize = 1_000;
/// The most pages of events read in one listing: 2,000,000 events, far beyond the most a
/// provider keeps for mgrid's windows (30 days) at the design peak of a stage.
pub const MAX_EVENT_PAGES: usize = 20_000;

/// The cursors of a listing so far: a page asked for twice (a cursor that repeats, a `next`
/// link to itself) or a listing past its bound ends it with a failure, never a loop.
pub struct Cursors {
    what: &'static str,
    seen: std::collections::HashSet<String>,
    pages: usize,
    max_pages: usize,
}

impl Cursors {
    pub fn new(what: &'static str, max_pages: usize) -> Cursors {
        Cursors {
            what,
            seen: std::collections::HashSet::new(),
            pages: 0,
            max_pages,
        }
    }

    /// Whether the listing may go on to `cursor` (None: it ended).
    pub fn follow(&mut self, provider: Provider, cursor: Option<&str>) -> Result<(), Failure> {
        self.pages += 1;
        let Some(cursor) = cursor else {
            return Ok(());
        };
        let name = provider.name();
        if self.pages >= self.max_pages {
            return Err(Failure::new(
                FailureKind::Failed,
                format!(
                    "{name} listed {} still going after {} pages: more than it can hold, so mgrid stopped reading",
                    self.what, self.pages
                ),
            )
            .next("the provider's API (or what answers at its address) is misbehaving: check --provider-api-base and the provider's status page"));
        }
        if !self.seen.insert(cursor.to_owned()) {
            return Err(Failure::new(
                FailureKind::Failed,
                format!(
                    "{name} sent a page of {} it had already sent (after {} pages): the listing would never end, so mgrid stopped reading",
                    self.what, self.pages
                ),
            )
            .next("the provider's API (or what answers at its address) is misbehaving: check --provider-api-base and the provider's status page"));
        }
        Ok(())
    }
}

/// One provider's API, with the stage's token for it.
pub struct ProviderClient {
    provider: Provider,
    stage: StageName,
    base: String,
    token: Secret,
    http: HttpClient,
    access: tokio::sync::Mutex<Option<Secret>>,
}

/// An answer: its status and body.
struct Answer {
    status: StatusCode,
    body: Vec<u8>,
    /// The body went on past [`MAX_ANSWER_BYTES`] and was cut off (`body` is empty).
    overlong: bool,
    /// The `Retry-After` header's value.
    retry_after: Option<String>,
}

impl ProviderClient {
    /// `token`: a Stripe secret or restricted key; for PayPal `<client id>:<secret>`.
    pub fn new(
        provider: Provider,
        stage: StageName,
        base: String,
        token: Secret,
    ) -> Result<ProviderClient, Failure> {
        Ok(ProviderClient {
            provider,
            stage,
            base,
            token,
            http: crate::http::client()?,
            access: tokio::sync::Mutex::new(None),
        })
    }

    pub fn provider(&self) -> Provider {
        self.provider
    }

    /// Every webhook endpoint the provider holds for the account.
    pub async fn endpoints(&self) -> Result<Vec<ProviderEndpoint>, Failure> {
        match self.provider {
            Provider::Stripe => {
                let mut endpoints = Vec::new();
                let mut after: Option<String> = None;
                let mut cursors = Cursors::new("webhook endpoints", MAX_ENDPOINTS / 100);
                loop {
                    let mut path = "/v1/webhook_endpoints?limit=100".to_owned();
                    if let Some(id) = &after {
                        path.push_str(&format!("&starting_after={}", form::encode(id)));
                    }
                    let page: StripeList = self.json(Method::GET, &path, None).await?;
                    after = page
                        .has_more
                        .then(|| page.data.last().map(|e| e.id.clone()))
                        .flatten();
                    endpoints.extend(page.data.into_iter().map(StripeEndpoint::endpoint));
                    cursors.follow(self.provider, after.as_deref())?;
                    if after.is_none() {
                        return Ok(endpoints);
                    }
                }
            }
            Provider::Paypal => {
                let list: PaypalWebhooks = self
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
        }
    }

    /// Points endpoint `id` at `url`; the endpoint as the provider answered.
    pub async fn set_url(&self, id: &str, url: &Secret) -> Result<ProviderEndpoint, Failure> {
        let path_id = form::encode(id);
        match self.provider {
            Provider::Stripe => {
                let body = Body::Form(stripe_url_form(url.expose()));
                let endpoint: StripeEndpoint = self
                    .json(
                        Method::POST,
                        &format!("/v1/webhook_endpoints/{path_id}"),
                        Some(body),
                    )
                    .await?;
                Ok(endpoint.endpoint())
            }
            Provider::Paypal => {
                let patch = paypal_url_patch(url.expose());
                let webhook: PaypalWebhook = self
                    .json(
                        Method::PATCH,
                        &format!("/v1/notifications/webhooks/{path_id}"),
                        Some(Body::Json(patch.to_string())),
                    )
                    .await?;
                Ok(webhook.endpoint())
            }
        }
    }

    /// One page of the provider's events created in `[from, to]` (of the payment event types,
    /// for Stripe), newest first, and the cursor of the next page (None: the last).
    pub async fn events_page(
        &self,
        from: EpochMillis,
        to: EpochMillis,
        cursor: Option<&str>,
    ) -> Result<EventsPage, Failure> {
        match self.provider {
            Provider::Stripe => {
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
                let page: StripeEvents = self.json(Method::GET, &path, None).await?;
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
            Provider::Paypal => {
                let path = match cursor {
                    Some(next) => next.to_owned(),
                    None => format!(
                        "/v1/notifications/webhooks-events?page_size=100&start_time={}&end_time={}",
                        form::encode(&mgrid_contract::clock::format_rfc3339(from)),
                        form::encode(&mgrid_contract::clock::format_rfc3339(to))
                    ),
                };
                let page: PaypalEvents = self.json(Method::GET, &path, None).await?;
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
        }
    }

    /// Asks the provider to deliver event `id` again to endpoint `endpoint` (Stripe's event
    /// retry, as `stripe events resend` asks it; PayPal's resend).
    pub async fn resend(&self, id: &str, endpoint: &str) -> Result<(), Failure> {
        let path_id = form::encode(id);
        match self.provider {
            Provider::Stripe => {
                let body = Body::Form(format!("webhook_endpoint={}", form::encode(endpoint)));
                self.call(
                    Method::POST,
                    &format!("/v1/events/{path_id}/retry"),
                    Some(body),
                )
                .await?;
            }
            Provider::Paypal => {
                let body = paypal_resend(&[endpoint]);
                self.call(
                    Method::POST,
                    &format!("/v1/notifications/webhooks-events/{path_id}/resend"),
                    Some(Body::Json(body.to_string())),
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn json<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<Body>,
    ) -> Result<T, Failure> {
        let answer = self.call(method.clone(), path, body).await?;
        serde_json::from_slice(&answer.body).map_err(|e| {
            Failure::new(
                FailureKind::Failed,
                format!(
                    "{} answered {method} {} with HTTP {} and a body mgrid cannot read ({})",
                    self.name(),
                    path_only(path),
                    answer.status.as_u16(),
                    scrub(&e.to_string())
                ),
            )
            .next("the provider's API may have changed: run with -v and report it")
        })
    }

    fn name(&self) -> &'static str {
        self.provider.name()
    }

    /// A call, tried again through 429s, 5xx and lost connections; a 2xx answer, or why not.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Body>,
    ) -> Result<Answer, Failure> {
        let started = Instant::now();
        let mut attempt = 0u32;
        let mut refreshed = false;
        loop {
            attempt += 1;
            let authorization = self.authorization(false).await?;
            let sent = self
                .send(method.clone(), path, body.clone(), authorization)
                .await;
            let wait = match sent {
                Ok(answer) if answer.overlong => {
                    return Err(Failure::new(
                        FailureKind::Failed,
                        format!(
                            "{} answered {method} {} with more than {} MiB, more than any page: mgrid cut it off",
                            self.name(),
                            path_only(path),
                            MAX_ANSWER_BYTES >> 20
                        ),
                    )
                    .next("the provider's API (or what answers at its address) is misbehaving: check --provider-api-base and the provider's status page"));
                }
                Ok(answer) if answer.status.is_success() => return Ok(answer),
                Ok(answer)
                    if answer.status == StatusCode::UNAUTHORIZED
                        && self.provider == Provider::Paypal
                        && !refreshed =>
                {
                    // The access token may have expired: ask for a new one, once.
                    refreshed = true;
                    self.authorization(true).await?;
                    continue;
                }
                Ok(answer) if answer.status == StatusCode::TOO_MANY_REQUESTS => {
                    let asked = retry_after(&answer);
                    tracing::info!(
                        "{} asked mgrid to slow down (HTTP 429); waiting {} ms",
                        self.name(),
                        asked.unwrap_or_default().as_millis()
                    );
                    asked.unwrap_or_else(|| doubling(attempt))
                }
                Ok(answer) if answer.status.is_server_error() => doubling(attempt),
                Ok(answer) => return Err(self.refused(&method, path, &answer)),
                Err(lost) => {
                    tracing::info!("{} {method} {}: {lost}", self.name(), path_only(path));
                    doubling(attempt)
                }
            };
            if started.elapsed() + wait > PATIENCE {
                return Err(Failure::new(
                    FailureKind::Failed,
                    format!(
                        "{} did not answer {method} {} within {} s ({attempt} tries: rate limited, failing or unreachable)",
                        self.name(),
                        path_only(path),
                        PATIENCE.as_secs()
                    ),
                )
                .next("try again later; -v shows each try"));
            }
            tokio::time::sleep(wait).await;
        }
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Body>,
        authorization: String,
    ) -> Result<Answer, String> {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header("authorization", authorization)
            .header("accept", "application/json")
            .header("user-agent", concat!("mgrid/", env!("CARGO_PKG_VERSION")));
        let bytes = match body {
            Some(Body::Form(text)) => {
                request = request.header("content-type", "application/x-www-form-urlencoded");
                text.into_bytes()
            }
            Some(Body::Json(text)) => {
                request = request.header("content-type", "application/json");
                text.into_bytes()
            }
            None => Vec::new(),
        };
        let request = request
            .body(Full::new(Bytes::from(bytes)))
            .map_err(|e| format!("cannot build the request: {}", scrub(&e.to_string())))?;
        let answered = tokio::time::timeout(REQUEST_TIMEOUT, async {
            let response = self
                .http
                .request(request)
                .await
                .map_err(|e| format!("no answer: {}", scrub(&e.to_string())))?;
            let status = response.status();
            let retry = response.headers().get("retry-after").cloned();
            let body = match http_body_util::Limited::new(response.into_body(), MAX_ANSWER_BYTES)
                .collect()
                .await
            {
                Ok(body) => Some(body.to_bytes().to_vec()),
                Err(e) if e.is::<http_body_util::LengthLimitError>() => None,
                Err(e) => return Err(format!("the answer was cut: {}", scrub(&e.to_string()))),
            };
            Ok::<_, String>((status, retry, body))
        })
        .await
        .map_err(|_| format!("no answer within {} s", REQUEST_TIMEOUT.as_secs()))??;
        let (status, retry, body) = answered;
        Ok(Answer {
            status,
            overlong: body.is_none(),
            body: body.unwrap_or_default(),
            retry_after: retry.and_then(|v| v.to_str().ok().map(str::to_owned)),
        })
    }

    /// The `Authorization` header: Stripe's key as a bearer token; PayPal's access token, asked
    /// for once (or again, when `fresh`).
    async fn authorization(&self, fresh: bool) -> Result<String, Failure> {
        if self.provider == Provider::Stripe {
            return Ok(format!("Bearer {}", self.token.expose()));
        }
        let mut access = self.access.lock().await;
        if fresh || access.is_none() {
            *access = Some(self.paypal_access_token().await?);
        }
        Ok(format!(
            "Bearer {}",
            access.as_ref().map(Secret::expose).unwrap_or_default()
        ))
    }

    async fn paypal_access_token(&self) -> Result<Secret, Failure> {
        use base64::Engine;
        let basic = base64::engine::general_purpose::STANDARD.encode(self.token.expose());
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let answer = self
                .send(
                    Method::POST,
                    "/v1/oauth2/token",
                    Some(Body::Form("grant_type=client_credentials".into())),
                    format!("Basic {basic}"),
                )
                .await;
            let wait = match answer {
                Ok(answer) if answer.status.is_success() => {
                    let token: PaypalToken = serde_json::from_slice(&answer.body).map_err(|_| {
                        Failure::new(
                            FailureKind::Failed,
                            "PayPal answered the OAuth token request with a body mgrid cannot read",
                        )
                    })?;
                    return Ok(Secret::new(token.access_token));
                }
                Ok(answer) if answer.status == StatusCode::TOO_MANY_REQUESTS => {
                    retry_after(&answer).unwrap_or_else(|| doubling(attempt))
                }
                Ok(answer) if answer.status.is_server_error() => doubling(attempt),
                Ok(answer) => {
                    return Err(self.refused(&Method::POST, "/v1/oauth2/token", &answer));
                }
                Err(_) => doubling(attempt),
            };
            if started.elapsed() + wait > PATIENCE {
                return Err(Failure::new(
                    FailureKind::Failed,
                    "PayPal did not give an OAuth access token within 120 s",
                ));
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// A 4xx answer, said with what it means and what to do.
    fn refused(&self, method: &Method, path: &str, answer: &Answer) -> Failure {
        let said = provider_message(&answer.body);
        let what = format!(
            "{} refused {method} {} with HTTP {}{}",
            self.name(),
            path_only(path),
            answer.status.as_u16(),
            said.map(|m| format!(": {m}")).unwrap_or_default()
        );
        match answer.status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                Failure::new(FailureKind::Credentials, what).next(format!(
                    "the stage's {} token is wrong, revoked or lacks a permission (webhook endpoints: read{}): set another with `mgrid keys set-provider-token {} --stage {}`",
                    self.provider,
                    if method == Method::GET {
                        ""
                    } else {
                        " and write"
                    },
                    self.provider,
                    self.stage
                ))
            }
            StatusCode::NOT_FOUND => Failure::new(FailureKind::NotFound, what)
                .next(format!("`mgrid doctor --stage {}` lists the endpoints {} holds", self.stage, self.name())),
            _ => Failure::new(FailureKind::Failed, what),
        }
    }
}

#[derive(Clone)]
enum Body {
    Form(String),
    Json(String),
}

/// Stripe's `POST /v1/webhook_endpoints/{id}` body that changes the URL.
fn stripe_url_form(url: &str) -> String {
    format!("url={}", form::encode(url))
}

/// PayPal's `PATCH /v1/notifications/webhooks/{id}` body that changes the URL.
fn paypal_url_patch(url: &str) -> serde_json::Value {
    serde_json::json!([{"op": "replace", "path": "/url", "value": url}])
}

/// PayPal's `POST /v1/notifications/webhooks-events/{id}/resend` body, to these webhooks.
fn paypal_resend(webhooks: &[&str]) -> serde_json::Value {
    serde_json::json!({ "webhook_ids": webhooks })
}

/// The path without its query (which may carry a cursor or, in a URL, a key).
fn path_only(path: &str) -> &str {
    path.split_once('?').map_or(path, |(path, _)| path)
}

/// A doubling wait: 1 s, 2 s, 4 s, … at most [`LONGEST_WAIT`].
fn doubling(attempt: u32) -> Duration {
    Backoff::new(Duration::from_secs(1), LONGEST_WAIT).wait(attempt)
}

/// The wait a 429 asked for (seconds, or an HTTP date taken as a short wait).
fn retry_after(answer: &Answer) -> Option<Duration> {
    let value = answer.retry_after.as_deref()?;
    let wait = match value.trim().parse::<f64>() {
        Ok(seconds) if seconds.is_finite() && seconds >= 0.0 => Duration::from_secs_f64(seconds),
        _ => Duration::from_secs(1),
    };
    Some(wait.min(LONGEST_WAIT))
}

/// What the provider said about an error, scrubbed: Stripe `error.message`, PayPal `message`
/// or OAuth's `error_description`.
fn provider_message(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let said = value
        .pointer("/error/message")
        .or_else(|| value.get("message"))
        .or_else(|| value.get("error_description"))
        .and_then(serde_json::Value::as_str)?;
    let mut said = mgrid_contract::untrusted::printable(&scrub(said)).into_owned();
    said.truncate(said.floor_char_boundary(300));
    Some(said)
}

/// A page of events, and the next page's cursor.
pub struct EventsPage {
    pub events: Vec<ProviderEvent>,
    pub next: Option<String>,
    /// Events listed without an id, a type or a readable creation time: not counted, but said.
    pub unreadable: u64,
}

#[derive(Deserialize)]
struct StripeEvents {
    data: Vec<StripeEvent>,
    has_more: bool,
}

/// A Stripe `event`, kept whole: it is what the webhook would have carried.
#[derive(Deserialize)]
struct StripeEvent {
    id: String,
    #[serde(rename = "type")]
    event_type: String,
    created: i64,
    pending_webhooks: u64,
    #[serde(flatten)]
    rest: serde_json::Map<String, serde_json::Value>,
}

impl StripeEvent {
    fn event(self) -> ProviderEvent {
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
struct PaypalEvents {
    #[serde(default)]
    events: Vec<serde_json::Value>,
    #[serde(default)]
    links: Vec<PaypalLink>,
}

#[derive(Deserialize)]
struct PaypalLink {
    href: String,
    rel: String,
}

/// A PayPal `event`: its id, type and creation time, and the whole as its body.
struct PaypalEvent;

impl PaypalEvent {
    fn event(value: serde_json::Value) -> Option<ProviderEvent> {
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
struct StripeList {
    data: Vec<StripeEndpoint>,
    has_more: bool,
}

/// The fields of Stripe's `webhook_endpoint` mgrid reads.
#[derive(Deserialize)]
struct StripeEndpoint {
    id: String,
    url: String,
    status: String,
    enabled_events: Vec<String>,
    api_version: Option<String>,
}

/// Provider text as it may be shown: every field of an endpoint but its URL (a secret, read
/// by `ProviderEndpoint::delivery` and shown only through `shown_url`) reaches reports and
/// errors, so anything that could drive a terminal is escaped as it is read. An id that needed
/// escaping is not one the provider gave out, and a call with it is refused (404), not sent
/// somewhere else.
fn told(text: String) -> String {
    mgrid_contract::untrusted::printable(&text).into_owned()
}

impl StripeEndpoint {
    fn endpoint(self) -> ProviderEndpoint {
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

#[derive(Deserialize)]
struct PaypalWebhooks {
    webhooks: Vec<PaypalWebhook>,
}

/// The fields of PayPal's `webhook` mgrid reads.
#[derive(Deserialize)]
struct PaypalWebhook {
    id: String,
    url: String,
    event_types: Vec<PaypalEventType>,
}

#[derive(Deserialize)]
struct PaypalEventType {
    name: String,
}

impl PaypalWebhook {
    fn endpoint(self) -> ProviderEndpoint {
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

#[derive(Deserialize)]
struct PaypalToken {
    access_token: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_and_stay_bounded() {
        assert_eq!(doubling(1), Duration::from_secs(1));
        assert_eq!(doubling(3), Duration::from_secs(4));
        assert_eq!(doubling(40), LONGEST_WAIT);
        let asked = Answer {
            status: StatusCode::TOO_MANY_REQUESTS,
            overlong: false,
            body: Vec::new(),
            retry_after: Some("7".into()),
        };
        assert_eq!(retry_after(&asked), Some(Duration::from_secs(7)));
        let huge = Answer {
            status: StatusCode::TOO_MANY_REQUESTS,
            overlong: false,
            body: Vec::new(),
            retry_after: Some("86400".into()),
        };
        assert_eq!(retry_after(&huge), Some(LONGEST_WAIT));
    }

    /// One of the providers' published OpenAPI documents, as kept under tests/providers/.
    fn document(provider: &str) -> serde_json::Value {
        let path = format!(
            "{}/tests/providers/{provider}-openapi.json",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    /// Fails with every error when `instance` is not valid against `schema` (which may refer
    /// to the document's `#/components/schemas/…`).
    fn assert_valid(
        document: &serde_json::Value,
        schema: &serde_json::Value,
        instance: &serde_json::Value,
        what: &str,
    ) {
        let mut root = schema.clone();
        root["components"] = document["components"].clone();
        let validator = jsonschema::options().build(&root).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(instance)
            .map(|e| format!("{e} (at {})", e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{what} is not as published: {errors:#?}\n{instance:#}"
        );
    }

    fn reference(name: &str) -> serde_json::Value {
        serde_json::json!({"$ref": format!("#/components/schemas/{name}")})
    }

    /// An answer of the stand-in, as sent: status, Retry-After, JSON body.
    async fn raw(
        http: &HttpClient,
        method: Method,
        url: &str,
        authorization: &str,
        body: Option<(&str, &str)>,
    ) -> (StatusCode, Option<String>, serde_json::Value) {
        let mut request = Request::builder()
            .method(method)
            .uri(url)
            .header("authorization", authorization);
        if let Some((kind, _)) = body {
            request = request.header("content-type", kind);
        }
        let bytes = body.map(|(_, b)| b.to_owned()).unwrap_or_default();
        let request = request.body(Full::new(Bytes::from(bytes))).unwrap();
        let response = http.request(request).await.unwrap();
        let status = response.status();
        let retry = response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned());
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            retry,
            serde_json::from_slice(&bytes).unwrap_or_default(),
        )
    }

    const FORM: &str = "application/x-www-form-urlencoded";

    #[test]
    fn the_models_read_the_published_fixture_and_the_requests_are_as_published() {
        let stripe = document("stripe");
        let fixture = &stripe["fixtures"]["webhook_endpoint"];
        let endpoint: StripeEndpoint = serde_json::from_value(fixture.clone())
            .expect("Stripe's own webhook_endpoint fixture reads into the model");
        assert_eq!(
            endpoint.endpoint().events,
            ["charge.failed", "charge.succeeded"]
        );
        assert_valid(
            &stripe,
            &reference("webhook_endpoint"),
            fixture,
            "the fixture",
        );
        let event = &stripe["fixtures"]["event"];
        let read: StripeEvent = serde_json::from_value(event.clone())
            .expect("Stripe's own event fixture reads into the model");
        let read = read.event();
        assert_eq!(
            (read.id.as_str(), read.event_type.as_str()),
            ("evt_1NnmXEGPxmnHQRkJO3bak93X", "plan.created")
        );
        assert_eq!(read.created, 1_234_567_890_000);
        assert_valid(&stripe, &reference("event"), event, "the event fixture");

        let url = "https://h.example/prod/webhook/stripe?key=mgk_stripe_a-b";
        let fields: serde_json::Map<String, serde_json::Value> = form::pairs(&stripe_url_form(url))
            .into_iter()
            .map(|(k, v)| (k, serde_json::Value::String(v)))
            .collect();
        assert_eq!(fields["url"], url);
        let update = &stripe["paths"]["/v1/webhook_endpoints/{webhook_endpoint}"]["post"]["requestBody"]
            ["content"][FORM]["schema"];
        assert_valid(
            &stripe,
            update,
            &serde_json::Value::Object(fields),
            "the URL change",
        );

        let paypal = document("paypal");
        let patch = &paypal["paths"]["/v1/notifications/webhooks/{webhook_id}"]["patch"]["requestBody"]
            ["content"]["application/json"]["schema"];
        assert_valid(
            &paypal,
            patch,
            &paypal_url_patch("https://h.example/x?key=k"),
            "the PayPal patch",
        );
        assert_valid(
            &paypal,
            &reference("event_resend"),
            &paypal_resend(&["WH-1"]),
            "the PayPal resend",
        );

        // The payment events a stage must be subscribed to are Stripe event types.
        let known = &stripe["paths"]["/v1/webhook_endpoints"]["post"]["requestBody"]["content"]
            [FORM]["schema"]["properties"]["enabled_events"]["items"]["enum"];
        for event in Provider::Stripe.payment_event_types() {
            assert!(
                known.as_array().unwrap().iter().any(|k| k == event),
                "{event} is not a Stripe event type"
            );
        }
    }

    #[tokio::test]
    async fn the_stand_in_answers_as_published_and_the_client_reads_it_through_pages_and_429s() {
        use crate::providers::standin::{Credentials, StandIn};
        let stripe_doc = document("stripe");
        let paypal_doc = document("paypal");
        let stand_in = StandIn::open(None).unwrap();
        stand_in.credentials(|| Credentials {
            stripe: Secret::new("rk_test_standin1".into()),
            paypal: Secret::new("AClient:ESecret".into()),
        });
        for n in 0..120 {
            stand_in.register(
                Provider::Stripe,
                Secret::new(format!("https://h.example/s{n}/webhook/stripe?key=mgk_{n}")),
                vec!["payment_intent.succeeded".into()],
                None,
            );
        }
        let webhook = stand_in.register(
            Provider::Paypal,
            Secret::new("https://h.example/prod/webhook/paypal?key=mgk_p".into()),
            vec!["PAYMENT.CAPTURE.COMPLETED".into()],
            None,
        );
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let serving = tokio::spawn(stand_in.clone().serve(listener));
        let stage: StageName = "prod".parse().unwrap();
        let http = crate::http::client().unwrap();
        let key = "Bearer rk_test_standin1";
        let control = format!("Bearer {}", stand_in.control_token().expose());
        let endpoints_url = format!("{base}/stripe/v1/webhook_endpoints");

        // Stripe: a page, as published; a refused key; a change; a missing one; a 429.
        let list_schema = &stripe_doc["paths"]["/v1/webhook_endpoints"]["get"]["responses"]["200"]
            ["content"]["application/json"]["schema"];
        let (status, _, page) = raw(
            &http,
            Method::GET,
            &format!("{endpoints_url}?limit=100"),
            key,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(page["data"].as_array().unwrap().len(), 100);
        assert_eq!(page["has_more"], true);
        assert_valid(&stripe_doc, list_schema, &page, "a page of endpoints");
        let (status, _, refused) = raw(
            &http,
            Method::GET,
            &endpoints_url,
            "Bearer rk_test_wrong",
            None,
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_valid(&stripe_doc, &reference("error"), &refused, "Stripe's 401");
        let first = page["data"][0]["id"].as_str().unwrap().to_owned();
        let disable = Some((FORM, "disabled=true"));
        let (status, _, changed) = raw(
            &http,
            Method::POST,
            &format!("{endpoints_url}/{first}"),
            key,
            disable,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(changed["status"], "disabled");
        assert_valid(
            &stripe_doc,
            &reference("webhook_endpoint"),
            &changed,
            "a changed endpoint",
        );
        let (status, _, missing) = raw(
            &http,
            Method::POST,
            &format!("{endpoints_url}/we_nope"),
            key,
            disable,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_valid(&stripe_doc, &reference("error"), &missing, "Stripe's 404");
        let throttle = |requests: u32| {
            let body = format!(r#"{{"requests":{requests},"retryAfter":1}}"#);
            let http = http.clone();
            let url = format!("{base}/_standin/throttle");
            let control = control.clone();
            async move {
                raw(
                    &http,
                    Method::POST,
                    &url,
                    &control,
                    Some(("application/json", body.as_str())),
                )
                .await
            }
        };
        throttle(1).await;
        let (status, retry, throttled) = raw(&http, Method::GET, &endpoints_url, key, None).await;
        assert_eq!(
            (status, retry.as_deref()),
            (StatusCode::TOO_MANY_REQUESTS, Some("1"))
        );
        assert_valid(&stripe_doc, &reference("error"), &throttled, "Stripe's 429");

        // Events, as Stripe lists them, and as the client reads them page by page.
        let event = |n: usize| {
            serde_json::json!({"body": format!(
                r#"{{"id":"evt_{n}","type":"payment_intent.succeeded","data":{{"object":{{"id":"pi_{n}","object":"payment_intent","amount_received":100,"currency":"eur"}}}}}}"#
            ), "delivered": n.is_multiple_of(2)})
        };
        let events: Vec<serde_json::Value> = (0..150).map(event).collect();
        let kept = serde_json::Value::Array(events).to_string();
        let keep_url = format!("{base}/_standin/stripe/events");
        raw(
            &http,
            Method::POST,
            &keep_url,
            &control,
            Some(("application/json", kept.as_str())),
        )
        .await;
        let events_schema = &stripe_doc["paths"]["/v1/events"]["get"]["responses"]["200"]["content"]
            ["application/json"]["schema"];
        let events_url = format!("{base}/stripe/v1/events?limit=100");
        let (status, _, listed) = raw(&http, Method::GET, &events_url, key, None).await;
        assert_eq!(status, StatusCode::OK);
        assert_valid(&stripe_doc, events_schema, &listed, "a page of events");
        let reader = ProviderClient::new(
            Provider::Stripe,
            stage.clone(),
            format!("{base}/stripe"),
            Secret::new("rk_test_standin1".into()),
        )
        .unwrap();
        let (mut seen, mut cursor) = (Vec::new(), None);
        loop {
            let page = reader
                .events_page(0, i64::MAX / 2, cursor.as_deref())
                .await
                .unwrap();
            seen.extend(
                page.events
                    .into_iter()
                    .map(|e| (e.id, e.pending_deliveries)),
            );
            cursor = page.next;
            if cursor.is_none() {
                break;
            }
        }
        assert_eq!(seen.len(), 150, "every page, each event once");
        assert_eq!(
            seen[0],
            ("evt_149".to_owned(), Some(1)),
            "newest first; an undelivered one pends"
        );

        // The client reads every page, through two 429s it waits out.
        throttle(2).await;
        let client = ProviderClient::new(
            Provider::Stripe,
            stage.clone(),
            format!("{base}/stripe"),
            Secret::new("rk_test_standin1".into()),
        )
        .unwrap();
        let started = Instant::now();
        let endpoints = client.endpoints().await.unwrap();
        assert!(
            started.elapsed() >= Duration::from_secs(2),
            "the 429s were not waited out"
        );
        assert_eq!(endpoints.len(), 120);
        let ids: std::collections::BTreeSet<&str> =
            endpoints.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids.len(), 120, "a page was read twice");
        // Two 503s: tried again.
        let fail = r#"{"requests":2,"status":503}"#;
        let throttle_url = format!("{base}/_standin/throttle");
        raw(
            &http,
            Method::POST,
            &throttle_url,
            &control,
            Some(("application/json", fail)),
        )
        .await;
        let (status, _, failing) = raw(&http, Method::GET, &endpoints_url, key, None).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_valid(&stripe_doc, &reference("error"), &failing, "Stripe's 503");
        assert_eq!(
            client.endpoints().await.unwrap().len(),
            120,
            "through a 503"
        );
        let new_url = Secret::new("https://h.example/s5/webhook/stripe?key=mgk_new".into());
        let moved = client.set_url(&endpoints[5].id, &new_url).await.unwrap();
        assert_eq!(moved.url, new_url);
        let wrong = ProviderClient::new(
            Provider::Stripe,
            stage.clone(),
            format!("{base}/stripe"),
            Secret::new("rk_test_wrong".into()),
        )
        .unwrap();
        let refused = wrong.endpoints().await.unwrap_err();
        assert_eq!(refused.kind, FailureKind::Credentials);
        assert!(!format!("{refused} {:?}", refused.next).contains("rk_test_wrong"));

        // PayPal: the OAuth token, the list, a refusal, a change.
        use base64::Engine;
        let basic = base64::engine::general_purpose::STANDARD.encode("AClient:ESecret");
        let (status, _, token) = raw(
            &http,
            Method::POST,
            &format!("{base}/paypal/v1/oauth2/token"),
            &format!("Basic {basic}"),
            Some((FORM, "grant_type=client_credentials")),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let bearer = format!("Bearer {}", token["access_token"].as_str().unwrap());
        let webhooks_url = format!("{base}/paypal/v1/notifications/webhooks");
        let (status, _, list) = raw(&http, Method::GET, &webhooks_url, &bearer, None).await;
        assert_eq!(status, StatusCode::OK);
        assert_valid(
            &paypal_doc,
            &reference("WebhookList"),
            &list,
            "PayPal's webhook list",
        );
        let (status, _, refused) =
            raw(&http, Method::GET, &webhooks_url, "Bearer nope", None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_valid(&paypal_doc, &reference("error"), &refused, "PayPal's 401");
        let client = ProviderClient::new(
            Provider::Paypal,
            stage.clone(),
            format!("{base}/paypal"),
            Secret::new("AClient:ESecret".into()),
        )
        .unwrap();
        let moved_url = Secret::new("https://h.example/prod/webhook/paypal?key=mgk_q".into());
        let moved = client.set_url(&webhook, &moved_url).await.unwrap();
        assert_eq!(moved.key().unwrap().expose(), "mgk_q");
        let (_, _, one) = raw(&http, Method::GET, &webhooks_url, &bearer, None).await;
        assert_valid(
            &paypal_doc,
            &reference("webhook"),
            &one["webhooks"][0],
            "a changed PayPal webhook",
        );
        let paypal_events: Vec<serde_json::Value> = (0..120)
            .map(|n| {
                serde_json::json!({"body": format!(
                    r#"{{"id":"WH-{n}","event_type":"PAYMENT.CAPTURE.COMPLETED","resource":{{"id":"CAP{n}","amount":{{"value":"1.00","currency_code":"EUR"}}}}}}"#
                ), "delivered": true})
            })
            .collect();
        let kept = serde_json::Value::Array(paypal_events).to_string();
        let keep_url = format!("{base}/_standin/paypal/events");
        raw(
            &http,
            Method::POST,
            &keep_url,
            &control,
            Some(("application/json", kept.as_str())),
        )
        .await;
        let list_url = format!("{base}/paypal/v1/notifications/webhooks-events?page_size=50");
        let (status, _, listed) = raw(&http, Method::GET, &list_url, &bearer, None).await;
        assert_eq!(status, StatusCode::OK);
        assert_valid(
            &paypal_doc,
            &reference("EventList"),
            &listed,
            "PayPal's event list",
        );
        let (mut seen, mut cursor) = (0, None);
        loop {
            let page = client
                .events_page(0, 4_102_444_800_000, cursor.as_deref())
                .await
                .unwrap();
            seen += page.events.len();
            cursor = page.next;
            if cursor.is_none() {
                break;
            }
        }
        assert_eq!(seen, 120, "every page, following the next links");
        let wrong = ProviderClient::new(
            Provider::Paypal,
            stage,
            format!("{base}/paypal"),
            Secret::new("AClient:wrong".into()),
        )
        .unwrap();
        let refused = wrong.endpoints().await.unwrap_err();
        assert_eq!(refused.kind, FailureKind::Credentials);
        serving.abort();
    }

    #[test]
    fn a_providers_message_is_read_and_scrubbed() {
        let stripe = br#"{"error":{"message":"Invalid API Key provided: rk_test_****wxyz","type":"invalid_request_error"}}"#;
        let said = provider_message(stripe).unwrap();
        assert!(said.starts_with("Invalid API Key provided") && !said.contains("wxyz"));
        let paypal =
            br#"{"error":"invalid_client","error_description":"Client Authentication failed"}"#;
        assert_eq!(
            provider_message(paypal).as_deref(),
            Some("Client Authentication failed")
        );
        assert_eq!(provider_message(b"<html>"), None);
    }

    /// A provider API that misbehaves: each request is answered by `answer(path)` with a body
    /// (None: an endless chunked body). Its base URL.
    async fn hostile(
        answer: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> (String, tokio::task::JoinHandle<()>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let answer = std::sync::Arc::new(answer);
        let serving = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let answer = answer.clone();
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buffer = [0u8; 4096];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buffer).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buffer[..n]),
                        }
                    }
                    let text = String::from_utf8_lossy(&request);
                    let path = text.split_whitespace().nth(1).unwrap_or("/").to_owned();
                    match answer(&path) {
                        Some(body) => {
                            let head = format!(
                                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                                body.len()
                            );
                            let _ = stream.write_all(head.as_bytes()).await;
                            let _ = stream.write_all(body.as_bytes()).await;
                        }
                        None => {
                            let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
                            let _ = stream.write_all(head.as_bytes()).await;
                            let chunk = format!("10000\r\n{}\r\n", " ".repeat(0x10000));
                            while stream.write_all(chunk.as_bytes()).await.is_ok() {}
                        }
                    }
                });
            }
        });
        (base, serving)
    }

    fn stripe_at(base: &str) -> ProviderClient {
        ProviderClient::new(
            Provider::Stripe,
            "prod".parse().unwrap(),
            format!("{base}/stripe"),
            Secret::new("rk_test_x".into()),
        )
        .unwrap()
    }

    fn stripe_endpoint(id: &str) -> String {
        format!(
            r#"{{"id":"{id}","object":"webhook_endpoint","url":"https://x.example/webhook/stripe?key=mgk_1","status":"enabled","enabled_events":["*"],"api_version":null}}"#
        )
    }

    #[tokio::test]
    async fn a_listing_that_never_ends_is_stopped_and_said() {
        let counter = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let asked = counter.clone();
        // has_more forever, a new endpoint a page.
        let (base, serving) = hostile(move |_| {
            let n = asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Some(format!(
                r#"{{"object":"list","has_more":true,"data":[{}]}}"#,
                stripe_endpoint(&format!("we_{n}"))
            ))
        })
        .await;
        let endless = stripe_at(&base).endpoints().await.unwrap_err();
        assert!(
            endless.what.contains("still going after 10 pages"),
            "{}",
            endless.what
        );
        assert_eq!(counter.load(std::sync::atomic::Ordering::SeqCst), 10);
        serving.abort();

        // The same page again and again.
        let (base, serving) = hostile(|_| {
            Some(format!(
                r#"{{"object":"list","has_more":true,"data":[{}]}}"#,
                stripe_endpoint("we_same")
            ))
        })
        .await;
        let repeated = stripe_at(&base).endpoints().await.unwrap_err();
        assert!(repeated.what.contains("already sent"), "{}", repeated.what);
        serving.abort();

        // PayPal's next link to itself, as reconcile follows it.
        let (base, serving) = hostile(|path| {
            Some(format!(
                r#"{{"events":[],"links":[{{"href":"https://api-m.paypal.com{}","rel":"next"}}]}}"#,
                path.trim_start_matches("/paypal")
            ))
        })
        .await;
        let paypal = ProviderClient::new(
            Provider::Paypal,
            "prod".parse().unwrap(),
            format!("{base}/paypal"),
            Secret::new("AClient:ESecret".into()),
        )
        .unwrap();
        // The stand-in of an OAuth answer: any body with an access token.
        *paypal.access.lock().await = Some(Secret::new("A21AAx".into()));
        let mut cursors = Cursors::new("events", MAX_EVENT_PAGES);
        let mut cursor: Option<String> = None;
        let stopped = loop {
            let page = paypal
                .events_page(0, 1000, cursor.as_deref())
                .await
                .unwrap();
            cursor = page.next;
            if let Err(error) = cursors.follow(Provider::Paypal, cursor.as_deref()) {
                break error;
            }
            assert!(cursor.is_some(), "the link was not followed");
        };
        assert!(stopped.what.contains("already sent"), "{}", stopped.what);
        serving.abort();
    }

    #[tokio::test]
    async fn an_endless_answer_is_cut_off_not_held_in_memory() {
        let (base, serving) = hostile(|_| None).await;
        let started = Instant::now();
        let cut = stripe_at(&base).endpoints().await.unwrap_err();
        assert!(cut.what.contains("more than 16 MiB"), "{}", cut.what);
        assert!(
            started.elapsed() < REQUEST_TIMEOUT,
            "cut off at once, not tried again"
        );
        serving.abort();
    }

    #[tokio::test]
    async fn provider_text_that_would_drive_a_terminal_is_escaped_as_it_is_read() {
        let (base, serving) = hostile(|_| {
            Some(format!(
                r#"{{"object":"list","has_more":false,"data":[{}]}}"#,
                stripe_endpoint(r"we_\u001b]0;owned\u0007")
                    .replace(r#""status":"enabled""#, r#""status":"enabled\u001b[2J""#)
                    .replace("x.example", r"x.example\u001b[2J")
            ))
        })
        .await;
        let endpoints = stripe_at(&base).endpoints().await.unwrap();
        let endpoint = &endpoints[0];
        for shown in [&endpoint.id, &endpoint.status, &endpoint.shown_url()] {
            assert!(
                !shown.chars().any(mgrid_contract::untrusted::is_unsafe),
                "{shown:?}"
            );
        }
        assert_eq!(endpoint.id, r"we_\x1b]0;owned\x07");
        serving.abort();
    }
}
