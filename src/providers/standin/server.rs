//! The stand-in itself: its state behind a lock (read, or changed and saved), the HTTP server,
//! and the router that sends each request to its provider's or the control routes.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Request, Response, StatusCode};
use mgrid_contract::{Provider, Secret};
use serde_json::json;

use super::call::{Call, throttle_reply};
use super::state::throttled;
use super::state::{Credentials, Endpoint, State, events_file, now_seconds, read_events, save};
use crate::failure::{Failure, FailureKind};
use crate::serve::json_reply;

/// The stand-in's state, shared by its server and whoever seeds it (`mgrid dev`).
#[derive(Clone)]
pub struct StandIn {
    pub(super) state: Arc<Mutex<State>>,
    pub(super) file: Option<PathBuf>,
    /// What a caller of the control routes must present (`Authorization: Bearer …`); new each
    /// time the stand-in opens.
    pub(super) control: Arc<Secret>,
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
        self.saved(|state| {
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
    pub(super) fn unsaved<T>(&self, look: impl FnOnce(&mut State) -> T) -> T {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        look(&mut state)
    }

    /// Changes the state and saves it.
    pub(super) fn saved<T>(&self, change: impl FnOnce(&mut State) -> T) -> T {
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
        self.saved(|state| state.credentials.get_or_insert_with(make).clone())
    }

    /// Registers an endpoint, as an operator does in the provider's dashboard; its id.
    pub fn register(
        &self,
        provider: Provider,
        url: Secret,
        events: Vec<String>,
        secret: Option<Secret>,
    ) -> String {
        self.saved(|state| {
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
        self.unsaved(|state| state.endpoints(provider).clone())
    }

    /// Serves until the listener's task is dropped.
    /// Answers on `listener` until the process ends.
    pub async fn serve(self, listener: tokio::net::TcpListener) {
        // Nothing stops the stand-in but the process: the sender is held while it serves.
        let (_held, never) = tokio::sync::watch::channel(false);
        let answer = move |request| {
            let stand_in = self.clone();
            async move { stand_in.answer(request).await }
        };
        crate::serve::serve(listener, answer, never).await;
    }

    pub(super) async fn answer(
        &self,
        request: Request<hyper::body::Incoming>,
    ) -> Response<Full<Bytes>> {
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
            return json_reply(StatusCode::BAD_REQUEST, json!({"error": "unreadable body"}));
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
                return json_reply(
                    StatusCode::UNAUTHORIZED,
                    json!({"error": "the stand-in's control routes need its control token (Authorization: Bearer …), which mgrid dev keeps in the stage's data directory"}),
                );
            }
            return self.control(rest, &call).await;
        }
        let (provider, rest) = match path.split_once("/v1/") {
            Some(("/stripe", rest)) => (Provider::Stripe, rest),
            Some(("/paypal", rest)) => (Provider::Paypal, rest),
            _ => return json_reply(StatusCode::NOT_FOUND, json!({"error": "no such route"})),
        };
        if let Some(throttle) = self.unsaved(throttled) {
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
}

impl StandIn {
    /// Whether `authorization` carries the control token, compared in constant time.
    pub(super) fn holds_control(&self, authorization: &str) -> bool {
        use subtle::ConstantTimeEq;
        authorization
            .strip_prefix("Bearer ")
            .is_some_and(|presented| {
                bool::from(presented.as_bytes().ct_eq(self.control.expose().as_bytes()))
            })
    }

    pub(super) fn find(&self, provider: Provider, id: &str) -> Option<Endpoint> {
        self.endpoints(provider).into_iter().find(|e| e.id == id)
    }
}
