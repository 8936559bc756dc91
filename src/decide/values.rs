//! The values the ports carry and the decisions read: a dead letter and its attributes, a message
//! going out and how a batch of them fared, a queue's depth, where an event is and its vendor
//! notification, a key ring as stored, a provider's endpoint and event. Plain data: `ports`
//! re-exports them beside the traits that move them.

use std::collections::BTreeMap;

use mgrid_contract::webhook_url::{DeliveryUrl, UrlKey};
use mgrid_contract::{EpochMillis, KeyRing};

/// A message attribute as SQS holds it: its data type (`String`, `Number`, `Binary`, or one
/// with a custom suffix) and its value, carried over unchanged by a redrive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    pub data_type: String,
    pub text: Option<String>,
    pub binary: Option<Vec<u8>>,
}

impl Attribute {
    pub fn text(data_type: &str, value: &str) -> Attribute {
        Attribute {
            data_type: data_type.to_owned(),
            text: Some(value.to_owned()),
            binary: None,
        }
    }
}

/// A message as read from the dead-letter queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    pub message_id: String,
    pub receipt_handle: String,
    pub body: String,
    pub attributes: BTreeMap<String, Attribute>,
    pub group_id: String,
    pub deduplication_id: Option<String>,
    pub receive_count: u32,
    pub sent_at: Option<EpochMillis>,
}

/// How long a scan (stats, peek, a dry run) keeps what it read hidden before it puts it back.
pub const SCAN_HOLD_SECONDS: u32 = 30;

/// A message to put on the webhook queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub body: String,
    pub group_id: String,
    pub deduplication_id: String,
    pub attributes: BTreeMap<String, Attribute>,
}

/// Per-entry results of a batch call, by index into the request.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BatchOutcome {
    pub done: Vec<usize>,
    pub failed: Vec<(usize, String)>,
}

/// A batch call whose result is unknown (a timeout, a dropped connection): it may have been
/// applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaybeSent(pub String);

/// How many messages a queue holds: waiting, and in flight (received and hidden).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Depth {
    pub visible: u64,
    pub in_flight: u64,
    /// The queue's ARN (empty on the local stage).
    pub arn: String,
}

/// Where a webhook stands in the two steps that cannot be read by key on AWS: waiting in the
/// webhook queue (a FIFO queue cannot be read without holding up the group), and the vendor
/// notification (the pipe's dead-letter queue names batches, not records). The local stage
/// knows both exactly.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Whereabouts {
    /// Whether the webhook queue could be read for the event.
    pub queue_read: bool,
    /// The event's message in the webhook queue, when it is there.
    pub queued: Option<Queued>,
    /// The vendor notification of the event's transaction.
    pub notification: Notification,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Queued {
    pub receive_count: u32,
    #[serde(serialize_with = "crate::clock::rfc3339")]
    #[cfg_attr(test, schemars(with = "crate::clock::Rfc3339"))]
    pub sent_at: EpochMillis,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case", tag = "state")]
pub enum Notification {
    /// The vendor was told.
    Sent,
    /// Not yet: retried with backoff.
    #[serde(rename_all = "camelCase")]
    Pending { attempts: u32 },
    /// Given up on, with why.
    #[serde(rename_all = "camelCase")]
    Failed { attempts: u32, reason: String },
    /// There is no transaction to notify about.
    NoTransaction,
    /// Told, as the notify leg's receipt on the ledger item says: when, the topic's message id,
    /// and who (the pipeline, or a heal).
    #[serde(rename_all = "camelCase")]
    Told {
        at: String,
        message_id: String,
        by: String,
    },
    /// Not told yet: the ledger item has no notify receipt; why the leg last failed, where it
    /// said.
    #[serde(rename_all = "camelCase")]
    NotTold { failure: Option<String> },
    /// Not knowable per event (an item written before receipts); how many failed batches the
    /// pipes' dead-letter queue holds.
    #[serde(rename_all = "camelCase")]
    Unknown { pipe_dead_letters: Option<u64> },
}

/// A key ring as stored: the ring, its version (SSM's, or the local database's), and when it
/// last changed.
pub struct StoredRing {
    pub ring: KeyRing,
    pub version: i64,
    pub modified_at: Option<EpochMillis>,
}

/// A key ring written. SSM has no conditional write: when someone else wrote between this
/// command's read and its write, the write still happened, `overwritten` says whose change it
/// replaced, and what this command wrote (its new key) is what the ring holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub version: i64,
    pub overwritten: Option<String>,
}

/// A webhook endpoint as the provider keeps it (a Stripe webhook endpoint, a PayPal webhook),
/// read through the provider's own API. Its URL carries the stage's API key (`?key=`: providers
/// cannot add headers), so it is a secret: [`ProviderEndpoint::shown_url`] is the form to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderEndpoint {
    pub id: String,
    pub url: mgrid_contract::Secret,
    /// Whether the provider delivers to it (Stripe's `status`; a PayPal webhook always is).
    pub enabled: bool,
    /// The provider's own word for its state (Stripe `enabled`/`disabled`).
    pub status: String,
    /// The event types it is subscribed to (`*`: all).
    pub events: Vec<String>,
    /// The API version events are rendered at (Stripe; None: the account's default).
    pub api_version: Option<String>,
}

impl ProviderEndpoint {
    /// The URL without its query: where it delivers.
    pub fn address(&self) -> &str {
        let url = self.url.expose();
        url.split_once('?').map_or(url, |(address, _)| address)
    }

    /// The one endpoint of `endpoints` that delivers to `webhook_url`, or how many do when that
    /// is not one.
    pub fn the_one_at(
        endpoints: Vec<ProviderEndpoint>,
        webhook_url: &str,
    ) -> Result<ProviderEndpoint, usize> {
        let ours: Vec<ProviderEndpoint> = endpoints
            .into_iter()
            .filter(|e| e.points_at(webhook_url))
            .collect();
        match <[ProviderEndpoint; 1]>::try_from(ours) {
            Ok([endpoint]) => Ok(endpoint),
            Err(ours) => Err(ours.len()),
        }
    }

    /// Whether it delivers to `webhook_url`, read as a delivery reaches the stage (scheme and
    /// host in any case, a default port, a trailing slash aside).
    pub fn points_at(&self, webhook_url: &str) -> bool {
        self.delivery().same_address(webhook_url)
    }

    /// The URL as a delivery reaches the ingress: where it goes and the key it hands over.
    pub fn delivery(&self) -> DeliveryUrl {
        DeliveryUrl::read(self.url.expose())
    }

    /// The API key the authorizer is handed from its URL: one `key=`, decoded as the ingress
    /// decodes it; None when there is none, or more than one (which the authorizer refuses).
    pub fn key(&self) -> Option<mgrid_contract::Secret> {
        match self.delivery().key {
            UrlKey::One(key) => Some(mgrid_contract::Secret::new(key)),
            UrlKey::Missing | UrlKey::Repeated => None,
        }
    }

    /// The URL as it may be shown: the key replaced by its id (`key=<k1a2b3c4d>`), and
    /// anything in the address that could drive a terminal escaped.
    pub fn shown_url(&self) -> String {
        let address = mgrid_contract::untrusted::printable(self.address());
        match self.key() {
            Some(key) => format!("{address}?key=<{}>", key.key_id()),
            None => address.into_owned(),
        }
    }
}

/// An event as the provider lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderEvent {
    pub id: String,
    pub event_type: String,
    pub created: EpochMillis,
    /// The event as the provider delivers it (its webhook body).
    pub body: String,
    /// Deliveries the provider still has pending (Stripe's `pending_webhooks`: retrying a
    /// failed one); None where the API does not say (PayPal).
    pub pending_deliveries: Option<u64>,
}
