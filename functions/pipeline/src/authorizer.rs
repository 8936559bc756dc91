//! The authorizer: may this request deliver a webhook? The provider comes from the path, the
//! key from the `X-API-Key` header or the `key` query parameter; it is valid if it matches the
//! provider's current key or the previous one inside its overlap window. Every doubt denies
//! (fail closed), and no key or key material is ever logged.

use std::collections::BTreeMap;
use std::sync::Arc;

use mgrid_contract::{KeySlot, Provider, StageName};

use crate::cache::RingCache;
use crate::ports::{Clock, KeyStore};

/// The parts of a request the decision needs. Header names are lower-case.
#[derive(Debug, Clone, Default)]
pub struct AuthorizationRequest {
    pub path: String,
    pub headers: BTreeMap<String, String>,
    pub query: BTreeMap<String, String>,
    /// The API key came more than once (two `X-API-Key` headers, or two `key` parameters): which
    /// one a proxy or API Gateway would pick is not ours to guess, so the request is denied.
    pub repeated_key: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow {
        provider: Provider,
        slot: KeySlot,
        key_id: String,
    },
    Deny {
        reason: DenyReason,
    },
}

/// Why a request was denied (safe to log and to count).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DenyReason {
    UnknownRoute,
    NoKey,
    WrongKey,
    NoKeyRing,
    KeyStoreUnavailable,
    RepeatedKey,
}

impl Decision {
    /// The decision as a log line: who was let in with which key id (never the key), or why
    /// not, and the request's id, which the access log and the processor's line carry too.
    pub fn log_line(
        &self,
        request_id: Option<String>,
        now: mgrid_contract::EpochMillis,
    ) -> mgrid_contract::decision::DecisionLine {
        use mgrid_contract::decision::{DecisionLine, Level};
        let mut line = match self {
            Decision::Allow {
                provider,
                slot,
                key_id,
            } => {
                let slot = if *slot == KeySlot::Current {
                    "current"
                } else {
                    "previous"
                };
                let mut line = DecisionLine::new(now, Level::Info, "authorizer", "allowed")
                    .with_detail(&format!("key {key_id} ({slot})"));
                line.provider = Some(provider.to_string());
                line
            }
            Decision::Deny { reason } => {
                let mut line = DecisionLine::new(now, Level::Warn, "authorizer", "denied");
                line.reason = Some(reason.as_str().to_owned());
                line
            }
        };
        line.request_id = request_id;
        line
    }
}

impl DenyReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DenyReason::UnknownRoute => "unknown-route",
            DenyReason::NoKey => "no-key",
            DenyReason::WrongKey => "wrong-key",
            DenyReason::NoKeyRing => "no-key-ring",
            DenyReason::KeyStoreUnavailable => "key-store-unavailable",
            DenyReason::RepeatedKey => "repeated-key",
        }
    }
}

pub struct Authorizer<K> {
    stage: StageName,
    rings: RingCache<K>,
    clock: Arc<dyn Clock>,
}

impl<K: KeyStore> Authorizer<K> {
    /// The authorizer's clock's now (for its log lines).
    pub fn now(&self) -> mgrid_contract::EpochMillis {
        self.clock.now()
    }

    pub fn new(stage: StageName, store: K, clock: Arc<dyn Clock>) -> Self {
        Authorizer {
            stage,
            rings: RingCache::new(store),
            clock,
        }
    }

    pub async fn decide(&self, request: &AuthorizationRequest) -> Decision {
        let deny = |reason| Decision::Deny { reason };
        let Some(provider) = Provider::from_path(&request.path) else {
            return deny(DenyReason::UnknownRoute);
        };
        if request.repeated_key {
            return deny(DenyReason::RepeatedKey);
        }
        let presented = request
            .headers
            .get("x-api-key")
            .or_else(|| request.query.get("key"))
            .filter(|key| !key.is_empty());
        let Some(presented) = presented else {
            return deny(DenyReason::NoKey);
        };
        let ring = match self
            .rings
            .ring(&self.stage.api_key_ring(provider), self.clock.as_ref())
            .await
        {
            Ok(Some(ring)) => ring,
            Ok(None) => return deny(DenyReason::NoKeyRing),
            Err(error) => {
                tracing::error!(%provider, %error, "cannot read the API key ring; denying");
                return deny(DenyReason::KeyStoreUnavailable);
            }
        };
        match ring.accepts(presented, self.clock.now()) {
            Some(slot) => Decision::Allow {
                provider,
                slot,
                key_id: match slot {
                    KeySlot::Current => ring.current.id.clone(),
                    KeySlot::Previous => ring
                        .previous
                        .as_ref()
                        .map(|p| p.id.clone())
                        .unwrap_or_default(),
                },
            },
            None => deny(DenyReason::WrongKey),
        }
    }
}
