//! The webhook envelope: one provider delivery as it arrived (raw body, never re-serialised,
//! and the signature headers), and how it travels on the queue. The ingress rules here (message
//! group, deduplication id, attributes) are the ones the API Gateway request templates in
//! stacks/pipeline.yaml implement; the local ingress, redrive and replay use these.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::clock::EpochMillis;
use crate::failure::FailureReason;
use crate::provider::Provider;

/// Message attributes the ingress sets (and the processor adds on dead-lettering).
pub mod attribute {
    pub const PROVIDER: &str = "mgrid-provider";
    /// When API Gateway received the webhook, epoch milliseconds.
    pub const RECEIVED_AT: &str = "mgrid-received-at";
    pub const REQUEST_ID: &str = "mgrid-request-id";
    /// Why the processor dead-lettered the message (a [`crate::FailureReason`]).
    pub const FAILURE_REASON: &str = "mgrid-failure-reason";
    /// A sentence about the failure, never a secret.
    pub const FAILURE_DETAIL: &str = "mgrid-failure-detail";
}

/// The provider headers that carry its signature, lower-case, as forwarded by the ingress.
pub fn signature_headers(provider: Provider) -> &'static [&'static str] {
    match provider {
        Provider::Stripe => &["stripe-signature"],
        Provider::Paypal => &[
            "paypal-transmission-id",
            "paypal-transmission-time",
            "paypal-transmission-sig",
            "paypal-cert-url",
            "paypal-auth-algo",
        ],
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEnvelope {
    pub provider: Provider,
    pub event_id: String,
    pub event_type: String,
    pub received_at: EpochMillis,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(default)]
    pub signature_headers: BTreeMap<String, String>,
    /// The body exactly as the provider sent it.
    pub body: String,
}

/// A message as it goes onto the FIFO webhook queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueMessage {
    pub body: String,
    pub group_id: String,
    pub deduplication_id: String,
    pub attributes: BTreeMap<String, String>,
}

/// The largest message SQS takes (body and attributes; the queue's default since 2025).
pub const MAX_MESSAGE_BYTES: usize = 1024 * 1024;

impl QueueMessage {
    /// What SQS counts against [`MAX_MESSAGE_BYTES`]: the body, and each attribute's name, data
    /// type and value.
    pub fn sqs_size(&self) -> usize {
        const DATA_TYPE: usize = "String".len();
        self.body.len()
            + self
                .attributes
                .iter()
                .map(|(name, value)| name.len() + DATA_TYPE + value.len())
                .sum::<usize>()
    }
}

/// Why a delivery cannot become an envelope; always permanent for that message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}: {detail}")]
pub struct Rejected {
    pub reason: FailureReason,
    pub detail: String,
}

impl Rejected {
    pub fn new(reason: FailureReason, detail: impl Into<String>) -> Rejected {
        Rejected {
            reason,
            detail: detail.into(),
        }
    }
}

/// The few fields every provider event has at its top level.
#[derive(Deserialize)]
struct EventHead {
    id: Option<serde_json::Value>,
    #[serde(rename = "type")]
    stripe_type: Option<serde_json::Value>,
    event_type: Option<serde_json::Value>,
}

/// The event id a webhook body claims, whatever else is wrong with it: its top-level `id` when
/// that is a string of the characters event ids use (for logs and traces; the envelope checks
/// the rest).
pub fn claimed_event_id(body: &str) -> Option<String> {
    let head: EventHead = serde_json::from_str(body).ok()?;
    match head.id? {
        serde_json::Value::String(id)
            if !id.is_empty()
                && id.len() <= 100
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') =>
        {
            Some(id)
        }
        _ => None,
    }
}

impl WebhookEnvelope {
    /// An envelope from a delivery as it reaches the ingress: provider from the route, headers
    /// by lower-case name (only the signature headers are kept).
    pub fn from_delivery(
        provider: Provider,
        body: String,
        headers: &BTreeMap<String, String>,
        received_at: EpochMillis,
        request_id: Option<String>,
    ) -> Result<WebhookEnvelope, Rejected> {
        let (event_id, event_type) = event_identity(provider, &body)?;
        let signature_headers = present_signature_headers(provider, headers);
        Ok(WebhookEnvelope {
            provider,
            event_id,
            event_type,
            received_at,
            request_id,
            signature_headers,
            body,
        })
    }

    /// The envelope a queued message carries (body plus string attributes).
    pub fn from_queue_message(
        body: &str,
        attributes: &BTreeMap<String, String>,
    ) -> Result<WebhookEnvelope, Rejected> {
        let provider_name = attributes.get(attribute::PROVIDER).ok_or_else(|| {
            Rejected::new(
                FailureReason::UnknownProvider,
                "the message has no mgrid-provider attribute",
            )
        })?;
        let provider: Provider =
            provider_name
                .parse()
                .map_err(|e: crate::provider::UnknownProvider| {
                    Rejected::new(FailureReason::UnknownProvider, e.to_string())
                })?;
        let received_at = attributes
            .get(attribute::RECEIVED_AT)
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| {
                Rejected::new(
                    FailureReason::MalformedMessage,
                    "the message has no valid mgrid-received-at attribute",
                )
            })?;
        WebhookEnvelope::from_delivery(
            provider,
            body.to_owned(),
            attributes,
            received_at,
            attributes.get(attribute::REQUEST_ID).cloned(),
        )
    }

    /// The message the ingress puts on the queue for this envelope (redrive and replay put it
    /// back as the ingress first did).
    pub fn to_queue_message(&self) -> QueueMessage {
        // The ingress rule, for an event whose id is known to be valid.
        let json: Option<serde_json::Value> = serde_json::from_str(&self.body).ok();
        let group = payment_object(self.provider, json.as_ref()).unwrap_or(&self.event_id);
        QueueMessage {
            body: self.body.clone(),
            group_id: format!("{}:{group}", self.provider),
            deduplication_id: self.event_id.clone(),
            attributes: ingress_attributes(
                self.provider,
                &self.signature_headers,
                self.received_at,
                self.request_id.as_deref(),
            ),
        }
    }

    /// `<provider>:<event id>`, the ledger key.
    pub fn transaction_id(&self) -> String {
        format!("{}:{}", self.provider, self.event_id)
    }
}

/// The event id and type at the top of a provider event.
fn event_identity(provider: Provider, body: &str) -> Result<(String, String), Rejected> {
    let head: EventHead = serde_json::from_str(body).map_err(|e| {
        Rejected::new(
            FailureReason::MalformedBody,
            format!("the body is not a JSON object: {e}"),
        )
    })?;
    let event_id = match head.id {
        Some(serde_json::Value::String(id)) => id,
        Some(other) => {
            return Err(Rejected::new(
                FailureReason::MissingEventId,
                format!("the event id is not a string: {other}"),
            ));
        }
        None => {
            return Err(Rejected::new(
                FailureReason::MissingEventId,
                "the event has no id",
            ));
        }
    };
    if !is_valid_event_id(&event_id) {
        return Err(Rejected::new(
            FailureReason::InvalidEventId,
            format!(
                "event id {event_id:?} is not 1-{MAX_EVENT_ID_CHARS} letters, digits, '_' or '-'"
            ),
        ));
    }
    let event_type = match provider {
        Provider::Stripe => head.stripe_type,
        Provider::Paypal => head.event_type,
    };
    let event_type = match event_type {
        Some(serde_json::Value::String(t)) if !t.is_empty() => t,
        _ => {
            return Err(Rejected::new(
                FailureReason::MalformedBody,
                "the event has no type",
            ));
        }
    };
    Ok((event_id, event_type))
}

/// The longest event id: it is the queue's deduplication id and, with the provider, its group
/// id, and SQS takes at most 128 characters for either.
pub const MAX_EVENT_ID_CHARS: usize = 100;

/// The longest payment object id that names a message group: `<provider>:` (7 characters) and
/// the id fit SQS's 128.
pub const MAX_GROUP_OBJECT_CHARS: usize = 121;

/// Stripe `evt_…` and PayPal `WH-…` ids, and nothing that could escape an archive key or
/// overflow a queue id: 1-100 letters, digits, `_` or `-`.
pub fn is_valid_event_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_EVENT_ID_CHARS
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A payment object id that can name a message group: 1-121 printable ASCII characters, no space.
fn is_group_object_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_GROUP_OBJECT_CHARS && id.bytes().all(|b| b.is_ascii_graphic())
}

/// Where each provider names the payment object an event is about, most specific first.
fn payment_object_pointers(provider: Provider) -> &'static [&'static str] {
    match provider {
        Provider::Stripe => &["/data/object/payment_intent", "/data/object/id"],
        Provider::Paypal => &[
            "/resource/supplementary_data/related_ids/order_id",
            "/resource/id",
        ],
    }
}

/// The payment object an event names, when it can name a message group.
fn payment_object(provider: Provider, json: Option<&serde_json::Value>) -> Option<&str> {
    payment_object_pointers(provider)
        .iter()
        .find_map(|pointer| {
            json.and_then(|j| j.pointer(pointer)?.as_str())
                .filter(|id| is_group_object_id(id))
        })
}

/// A queued message's group and deduplication ids.
struct QueueIdentity {
    group_id: String,
    deduplication_id: String,
}

impl QueueIdentity {
    /// The ingress rule, written once more as the API Gateway request templates in
    /// stacks/pipeline.yaml (tests/suite/apigateway.rs renders them in Apache Velocity and holds both
    /// to the same messages):
    /// - the deduplication id is the event's `id` when it is a valid event id, else the request id;
    /// - the group is `<provider>:<payment object>` (Stripe: the object's payment intent, else
    ///   the object's id; PayPal: the resource's order id, else the resource id; the first that
    ///   is a string that can name a group), else `<provider>:<event id>`, else
    ///   `<provider>:unparsed-<request id>`. Events of one payment stay in order; unrelated
    ///   payments run in parallel.
    fn of(provider: Provider, json: Option<&serde_json::Value>, request_id: &str) -> QueueIdentity {
        let event_id = json
            .and_then(|j| j.pointer("/id")?.as_str())
            .filter(|id| is_valid_event_id(id));
        let group = match (payment_object(provider, json), event_id) {
            (Some(object), _) => object.to_owned(),
            (None, Some(event_id)) => event_id.to_owned(),
            (None, None) => format!("unparsed-{request_id}"),
        };
        QueueIdentity {
            group_id: format!("{provider}:{group}"),
            deduplication_id: event_id.unwrap_or(request_id).to_owned(),
        }
    }
}

/// The attributes the ingress sets: provider, receipt time, request id, and the provider's
/// signature headers that are present and not empty.
fn ingress_attributes(
    provider: Provider,
    headers: &BTreeMap<String, String>,
    received_at: EpochMillis,
    request_id: Option<&str>,
) -> BTreeMap<String, String> {
    let mut attributes = present_signature_headers(provider, headers);
    attributes.insert(attribute::PROVIDER.into(), provider.to_string());
    attributes.insert(attribute::RECEIVED_AT.into(), received_at.to_string());
    if let Some(request_id) = request_id {
        attributes.insert(attribute::REQUEST_ID.into(), request_id.to_owned());
    }
    attributes
}

/// The provider's signature headers among `headers` (by lower-case name), those not empty.
fn present_signature_headers(
    provider: Provider,
    headers: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    signature_headers(provider)
        .iter()
        .filter_map(|name| {
            headers
                .get(*name)
                .filter(|value| !value.is_empty())
                .map(|value| (name.to_string(), value.clone()))
        })
        .collect()
}

/// Why the ingress refuses a delivery before queueing it. API Gateway's request validator
/// answers these with 400 and the local ingress does the same.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IngressRefusal {
    /// Not one JSON object (an empty body is let through, as API Gateway's validator does).
    #[error("Invalid request body")]
    NotAJsonObject,
}

/// The message the ingress queues for a delivery that passed the authorizer, with the rule of
/// [`QueueIdentity::of`]. A body that is not a JSON object is refused; an empty body is queued
/// (grouped and deduplicated by the request id) and the processor dead-letters it with its
/// reason, as every other body it cannot use. Headers are by lower-case name.
pub fn ingress_message(
    provider: Provider,
    body: String,
    headers: &BTreeMap<String, String>,
    received_at: EpochMillis,
    request_id: &str,
) -> Result<QueueMessage, IngressRefusal> {
    let json = if body.is_empty() {
        None
    } else {
        match serde_json::from_str::<serde_json::Value>(&body) {
            Ok(value) if value.is_object() => Some(value),
            _ => return Err(IngressRefusal::NotAJsonObject),
        }
    };
    let identity = QueueIdentity::of(provider, json.as_ref(), request_id);
    Ok(QueueMessage {
        body,
        group_id: identity.group_id,
        deduplication_id: identity.deduplication_id,
        attributes: ingress_attributes(provider, headers, received_at, Some(request_id)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRIPE: &str = r#"{"id":"evt_1","type":"payment_intent.succeeded","data":{"object":{"id":"pi_9","object":"payment_intent"}}}"#;

    fn headers(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_ingress_queues_a_good_delivery_by_its_event_and_an_unidentified_one_by_its_request() {
        let sig = headers(&[("stripe-signature", "t=1,v1=ab"), ("x-api-key", "k")]);
        let good = ingress_message(Provider::Stripe, STRIPE.into(), &sig, 5, "req-1").unwrap();
        assert_eq!(good.group_id, "stripe:pi_9");
        assert_eq!(good.deduplication_id, "evt_1");
        assert_eq!(good.attributes["mgrid-request-id"], "req-1");
        assert!(!good.attributes.contains_key("x-api-key"));
        let read_back = WebhookEnvelope::from_queue_message(&good.body, &good.attributes).unwrap();
        assert_eq!(read_back.event_id, "evt_1");

        let anonymous = ingress_message(Provider::Stripe, "{}".into(), &sig, 5, "req-2").unwrap();
        assert_eq!(anonymous.body, "{}");
        assert_eq!(anonymous.group_id, "stripe:unparsed-req-2");
        assert_eq!(anonymous.deduplication_id, "req-2");
        assert_eq!(anonymous.attributes["mgrid-provider"], "stripe");
        assert_eq!(anonymous.attributes["mgrid-received-at"], "5");
        assert_eq!(anonymous.attributes["stripe-signature"], "t=1,v1=ab");

        let empty = ingress_message(Provider::Paypal, String::new(), &sig, 5, "req-3").unwrap();
        assert_eq!(empty.group_id, "paypal:unparsed-req-3");
        assert_eq!(empty.deduplication_id, "req-3");
    }

    #[test]
    fn the_ingress_refuses_a_body_that_is_not_one_json_object() {
        for body in [
            "not json", "[1,2]", "\"evt\"", "42", "{} {}", "{\"id\":", " ",
        ] {
            assert_eq!(
                ingress_message(Provider::Stripe, body.into(), &BTreeMap::new(), 5, "r"),
                Err(IngressRefusal::NotAJsonObject),
                "{body:?}"
            );
        }
    }

    #[test]
    fn ids_that_sqs_would_refuse_fall_back_to_what_it_takes() {
        let long = "e".repeat(MAX_EVENT_ID_CHARS + 1);
        let body = format!(r#"{{"id":"{long}","data":{{"object":{{"id":"x y"}}}}}}"#);
        let message = ingress_message(Provider::Stripe, body, &BTreeMap::new(), 5, "req").unwrap();
        assert_eq!(message.deduplication_id, "req");
        assert_eq!(message.group_id, "stripe:unparsed-req");

        let object = "o".repeat(MAX_GROUP_OBJECT_CHARS);
        let body = format!(
            r#"{{"id":"evt_1","data":{{"object":{{"payment_intent":"{object}x","id":"{object}"}}}}}}"#
        );
        let message = ingress_message(Provider::Stripe, body, &BTreeMap::new(), 5, "req").unwrap();
        assert_eq!(message.group_id, format!("stripe:{object}"));
        assert!(message.group_id.len() <= 128);

        let numeric = r#"{"id":42,"data":{"object":{"id":7}}}"#;
        let message =
            ingress_message(Provider::Stripe, numeric.into(), &BTreeMap::new(), 5, "req").unwrap();
        assert_eq!(
            (message.group_id.as_str(), message.deduplication_id.as_str()),
            ("stripe:unparsed-req", "req")
        );
    }

    #[test]
    fn a_delivery_keeps_the_body_byte_for_byte_and_only_signature_headers() {
        let body = format!("{STRIPE}  \n");
        let envelope = WebhookEnvelope::from_delivery(
            Provider::Stripe,
            body.clone(),
            &headers(&[
                ("stripe-signature", "t=1,v1=ab"),
                ("x-api-key", "secret"),
                ("user-agent", "Stripe/1.0"),
            ]),
            1_000,
            Some("req-1".into()),
        )
        .unwrap();
        assert_eq!(envelope.body, body);
        assert_eq!(envelope.event_id, "evt_1");
        assert_eq!(envelope.event_type, "payment_intent.succeeded");
        assert_eq!(
            envelope.signature_headers,
            headers(&[("stripe-signature", "t=1,v1=ab")])
        );
        assert_eq!(envelope.transaction_id(), "stripe:evt_1");
    }

    #[test]
    fn the_queue_message_round_trips_to_the_same_envelope() {
        let envelope = WebhookEnvelope::from_delivery(
            Provider::Stripe,
            STRIPE.into(),
            &headers(&[("stripe-signature", "t=1,v1=ab")]),
            1_700_000_000_123,
            Some("req-1".into()),
        )
        .unwrap();
        let message = envelope.to_queue_message();
        assert_eq!(message.group_id, "stripe:pi_9");
        assert_eq!(message.deduplication_id, "evt_1");
        assert_eq!(message.attributes["mgrid-received-at"], "1700000000123");
        assert_eq!(
            WebhookEnvelope::from_queue_message(&message.body, &message.attributes).unwrap(),
            envelope
        );
    }

    #[test]
    fn group_ids_follow_the_payment_object() {
        let group = |provider, body: &str| {
            ingress_message(provider, body.into(), &BTreeMap::new(), 0, "req")
                .unwrap()
                .group_id
        };
        let charge = r#"{"id":"evt_2","type":"charge.refunded","data":{"object":{"id":"ch_1","payment_intent":"pi_9"}}}"#;
        assert_eq!(group(Provider::Stripe, charge), "stripe:pi_9");
        let invoice = r#"{"id":"evt_3","type":"invoice.paid","data":{"object":{"id":"in_1","payment_intent":null}}}"#;
        assert_eq!(group(Provider::Stripe, invoice), "stripe:in_1");
        let capture = r#"{"id":"WH-1","event_type":"PAYMENT.CAPTURE.COMPLETED","resource":{"id":"CAP1","supplementary_data":{"related_ids":{"order_id":"ORD1"}}}}"#;
        assert_eq!(group(Provider::Paypal, capture), "paypal:ORD1");
        let refund =
            r#"{"id":"WH-2","event_type":"PAYMENT.CAPTURE.REFUNDED","resource":{"id":"REF1"}}"#;
        assert_eq!(group(Provider::Paypal, refund), "paypal:REF1");
        assert_eq!(group(Provider::Stripe, r#"{"id":"evt_4"}"#), "stripe:evt_4");
        let hostile = r#"{"id":"evt_5","data":{"object":{"id":"x y"}}}"#;
        assert_eq!(group(Provider::Stripe, hostile), "stripe:evt_5");
    }

    #[test]
    fn deliveries_without_identity_are_rejected_with_a_reason() {
        let reject = |provider, body: &str| {
            WebhookEnvelope::from_delivery(provider, body.into(), &BTreeMap::new(), 0, None)
                .unwrap_err()
                .reason
        };
        assert_eq!(
            reject(Provider::Stripe, "{\"id\":"),
            FailureReason::MalformedBody
        );
        assert_eq!(
            reject(Provider::Stripe, "[1,2]"),
            FailureReason::MalformedBody
        );
        assert_eq!(
            reject(Provider::Stripe, r#"{"type":"x"}"#),
            FailureReason::MissingEventId
        );
        assert_eq!(
            reject(Provider::Stripe, r#"{"id":42,"type":"x"}"#),
            FailureReason::MissingEventId
        );
        assert_eq!(
            reject(Provider::Stripe, r#"{"id":"../etc","type":"x"}"#),
            FailureReason::InvalidEventId
        );
        assert_eq!(
            reject(Provider::Stripe, r#"{"id":"evt_1"}"#),
            FailureReason::MalformedBody
        );
        assert_eq!(
            reject(Provider::Paypal, r#"{"id":"WH-1","type":"x"}"#),
            FailureReason::MalformedBody
        );
    }

    #[test]
    fn a_message_without_provider_or_time_is_rejected() {
        let mut attributes = headers(&[("mgrid-received-at", "5")]);
        let error = WebhookEnvelope::from_queue_message(STRIPE, &attributes).unwrap_err();
        assert_eq!(error.reason, FailureReason::UnknownProvider);
        attributes.insert("mgrid-provider".into(), "adyen".into());
        assert_eq!(
            WebhookEnvelope::from_queue_message(STRIPE, &attributes)
                .unwrap_err()
                .reason,
            FailureReason::UnknownProvider
        );
        let attributes = headers(&[("mgrid-provider", "stripe"), ("mgrid-received-at", "soon")]);
        assert_eq!(
            WebhookEnvelope::from_queue_message(STRIPE, &attributes)
                .unwrap_err()
                .reason,
            FailureReason::MalformedMessage
        );
    }
}
