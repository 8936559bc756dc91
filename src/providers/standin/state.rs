//! What the stand-in keeps, as a provider does: the credentials it accepts, webhook endpoints
//! (URL with the stage's key, status, subscriptions, signing secret) and the events sent, saved
//! owner-only to a file so a restart of `mgrid dev` keeps them.

use hyper::StatusCode;
use std::path::PathBuf;

use mgrid_contract::{Provider, Secret};
use serde::{Deserialize, Serialize};

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
pub(super) struct State {
    pub(super) credentials: Option<Credentials>,
    pub(super) stripe: Vec<Endpoint>,
    pub(super) paypal: Vec<Endpoint>,
    /// Kept in a file of their own, one JSON line each, appended to (never rewritten).
    #[serde(skip)]
    pub(super) events: Vec<Event>,
    /// Where each event is in `events`, by provider and id (a resend updates it in place).
    #[serde(skip)]
    pub(super) event_at: std::collections::HashMap<(Provider, String), usize>,
    pub(super) next_id: u64,
    #[serde(skip)]
    pub(super) access_tokens: Vec<Secret>,
    /// How many more provider requests answer 429, and the `Retry-After` they carry.
    #[serde(skip)]
    pub(super) throttle: Option<Throttle>,
}

impl State {
    /// Keeps an event: a new one at the end, a known one (a resend) in its place.
    pub(super) fn keep(&mut self, event: Event) {
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
    pub(super) fn page(
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

    pub(super) fn endpoints(&mut self, provider: Provider) -> &mut Vec<Endpoint> {
        match provider {
            Provider::Stripe => &mut self.stripe,
            Provider::Paypal => &mut self.paypal,
        }
    }

    pub(super) fn new_id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}{:016}", self.next_id)
    }
}

pub(super) fn now_seconds() -> i64 {
    crate::clock::now_millis() / 1000
}

/// Where a stand-in kept in `state` keeps its events: `<state>.events.jsonl`.
pub(super) fn events_file(state: &std::path::Path) -> PathBuf {
    state.with_extension("events.jsonl")
}

pub(super) fn read_events(path: &std::path::Path) -> Result<Vec<Event>, Failure> {
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

pub(super) fn append_events(path: &std::path::Path, events: &[Event]) -> std::io::Result<()> {
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

pub(super) fn save(path: &std::path::Path, state: &State) -> std::io::Result<()> {
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

/// Counts one throttled request down; the `Retry-After` when this one is refused.
/// The next provider requests refused on purpose: how many more, with which status (429 with
/// its Retry-After, or a 5xx).
#[derive(Debug, Clone, Copy)]
pub(super) struct Throttle {
    pub(super) left: u32,
    pub(super) retry_after: u32,
    pub(super) status: StatusCode,
}

/// Counts one refused request down; the refusal when this one is refused.
pub(super) fn throttled(state: &mut State) -> Option<Throttle> {
    let throttle = state.throttle?;
    state.throttle = (throttle.left > 1).then_some(Throttle {
        left: throttle.left - 1,
        ..throttle
    });
    Some(throttle)
}
