//! The transport under the provider client: one provider's API at its base URL, with the
//! stage's token (Stripe's key as a bearer token; PayPal's client credentials, exchanged for an
//! OAuth access token, asked for again once when a call is refused with 401). Every request is
//! tried through one loop: a 429 waits its `Retry-After` (else the back-off), a 5xx or a lost
//! connection the back-off, for two minutes at most; an answer past 16 MiB is cut off and not
//! tried again; a refusal is said with what it means and what to do. No token, key or URL with
//! a key reaches an error or a log line.

use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode};
use mgrid_contract::{Provider, Secret, StageName};
use serde::Deserialize;

use crate::failure::{Failure, FailureKind};
use crate::http::HttpClient;
use crate::providers::scrub;
use crate::retry::Backoff;

/// How long one request may take.
pub(super) const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a call keeps trying through 429s, 5xx and lost connections.
pub(super) const PATIENCE: Duration = Duration::from_secs(120);
/// The longest single wait a `Retry-After` is followed for.
pub(super) const LONGEST_WAIT: Duration = Duration::from_secs(30);
/// The largest answer read: a page of 100 events is well under a megabyte; an answer that goes
/// on past this is not a page, and is cut off rather than held in memory.
pub(super) const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;
/// One provider's API, with the stage's token for it.
pub(super) struct Transport {
    pub(super) provider: Provider,
    stage: StageName,
    base: String,
    token: Secret,
    http: HttpClient,
    pub(super) access: tokio::sync::Mutex<Option<Secret>>,
}

/// An answer: its status and body.
pub(super) struct Answer {
    pub(super) status: StatusCode,
    pub(super) body: Vec<u8>,
    /// The body went on past [`MAX_ANSWER_BYTES`] and was cut off (`body` is empty).
    pub(super) overlong: bool,
    /// The `Retry-After` header's value.
    pub(super) retry_after: Option<String>,
}

#[derive(Clone)]
pub(super) enum Body {
    Form(String),
    Json(String),
}

impl Transport {
    /// `token`: a Stripe secret or restricted key; for PayPal `<client id>:<secret>`.
    pub(super) fn new(
        provider: Provider,
        stage: StageName,
        base: String,
        token: Secret,
    ) -> Result<Transport, Failure> {
        Ok(Transport {
            provider,
            stage,
            base,
            token,
            http: crate::http::client()?,
            access: tokio::sync::Mutex::new(None),
        })
    }

    pub(super) fn name(&self) -> &'static str {
        self.provider.name()
    }

    pub(super) async fn json<T: serde::de::DeserializeOwned>(
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

    /// A call with the stage's token: a 2xx answer, or why not. PayPal's access token is asked
    /// for again once when the call is refused with 401 (it may have expired).
    pub(super) async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Body>,
    ) -> Result<Answer, Failure> {
        let authorization = self.authorization(false).await?;
        let mut answer = self
            .tried(&method, path, body.as_ref(), &authorization)
            .await?;
        if answer.status == StatusCode::UNAUTHORIZED && self.provider == Provider::Paypal {
            let authorization = self.authorization(true).await?;
            answer = self
                .tried(&method, path, body.as_ref(), &authorization)
                .await?;
        }
        if answer.status.is_success() {
            Ok(answer)
        } else {
            Err(self.refused(&method, path, &answer))
        }
    }

    /// The one retry loop: sends until the provider answers with a 2xx or a refusal (4xx but
    /// 429), waiting out 429s (`Retry-After`, else the back-off), 5xx and lost connections, for
    /// [`PATIENCE`] at most. An answer past [`MAX_ANSWER_BYTES`] is not tried again.
    async fn tried(
        &self,
        method: &Method,
        path: &str,
        body: Option<&Body>,
        authorization: &str,
    ) -> Result<Answer, Failure> {
        let started = Instant::now();
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let sent = self
                .send(
                    method.clone(),
                    path,
                    body.cloned(),
                    authorization.to_owned(),
                )
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
                Ok(answer) => return Ok(answer),
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
            *access = Some(self.oauth_access_token().await?);
        }
        Ok(format!(
            "Bearer {}",
            access.as_ref().map(Secret::expose).unwrap_or_default()
        ))
    }

    /// PayPal's OAuth access token for the app's client credentials (`POST /v1/oauth2/token`).
    async fn oauth_access_token(&self) -> Result<Secret, Failure> {
        use base64::Engine;
        const TOKEN: &str = "/v1/oauth2/token";
        let basic = base64::engine::general_purpose::STANDARD.encode(self.token.expose());
        let body = Body::Form("grant_type=client_credentials".into());
        let answer = self
            .tried(&Method::POST, TOKEN, Some(&body), &format!("Basic {basic}"))
            .await?;
        if !answer.status.is_success() {
            return Err(self.refused(&Method::POST, TOKEN, &answer));
        }
        let token: PaypalToken = serde_json::from_slice(&answer.body).map_err(|_| {
            Failure::new(
                FailureKind::Failed,
                "PayPal answered the OAuth token request with a body mgrid cannot read",
            )
        })?;
        Ok(Secret::new(token.access_token))
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

/// The path without its query (which may carry a cursor or, in a URL, a key).
pub(super) fn path_only(path: &str) -> &str {
    path.split_once('?').map_or(path, |(path, _)| path)
}

/// A doubling wait: 1 s, 2 s, 4 s, … at most [`LONGEST_WAIT`].
pub(super) fn doubling(attempt: u32) -> Duration {
    Backoff::new(Duration::from_secs(1), LONGEST_WAIT).wait(attempt)
}

/// The wait a 429 asked for (seconds, or an HTTP date taken as a short wait).
pub(super) fn retry_after(answer: &Answer) -> Option<Duration> {
    let value = answer.retry_after.as_deref()?;
    let wait = match value.trim().parse::<f64>() {
        Ok(seconds) if seconds.is_finite() && seconds >= 0.0 => Duration::from_secs_f64(seconds),
        _ => Duration::from_secs(1),
    };
    Some(wait.min(LONGEST_WAIT))
}

/// What the provider said about an error, scrubbed: Stripe `error.message`, PayPal `message`
/// or OAuth's `error_description`.
pub(super) fn provider_message(body: &[u8]) -> Option<String> {
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

/// Provider text as it may be shown: every field of an endpoint but its URL (a secret, read
/// by `ProviderEndpoint::delivery` and shown only through `shown_url`) reaches reports and
/// errors, so anything that could drive a terminal is escaped as it is read. An id that needed
/// escaping is not one the provider gave out, and a call with it is refused (404), not sent
/// somewhere else.
pub(super) fn told(text: String) -> String {
    mgrid_contract::untrusted::printable(&text).into_owned()
}

#[derive(Deserialize)]
struct PaypalToken {
    access_token: String,
}
