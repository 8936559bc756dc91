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
        let signature_headers = signature_headers(provider)
            .iter()
            .filter_map(|name| {
                headers
                    .get(*name)
                    .filter(|value| !value.is_empty())
                    .map(|value| (name.to_string(), value.clone()))
            })
            .collect();
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

    /// The message the ingress puts on the queue for this envelope.
    pub fn to_queue_message(&self) -> QueueMessage {
        let mut attributes = self.signature_headers.clone();
        attributes.insert(attribute::PROVIDER.into(), self.provider.to_string());
        attributes.insert(attribute::RECEIVED_AT.into(), self.received_at.to_string());
        if let Some(request_id) = &self.request_id {
            attributes.insert(attribute::REQUEST_ID.into(), request_id.clone());
        }
        QueueMessage {
            body: self.body.clone(),
            group_id: message_group_id(self.provider, &self.body, &self.event_id),
            deduplication_id: self.event_id.clone(),
            attributes,
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
            format!("event id {event_id:?} is not 1-200 letters, digits, '_' or '-'"),
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

/// Stripe `evt_…` and PayPal `WH-…` ids, and nothing that could escape an archive key.
pub fn is_valid_event_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 200
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// `<provider>:<payment object id>`: events of one payment stay in order, unrelated payments
/// run in parallel. Stripe: the object's payment intent, else the object's id. PayPal: the
/// resource's order id, else the resource id. When the body names neither, the event id
/// (the API Gateway template, which cannot do this, uses the request id instead).
pub fn message_group_id(provider: Provider, body: &str, event_id: &str) -> String {
    let json: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let text = |pointer: &str| {
        json.pointer(pointer)
            .and_then(serde_json::Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let object = match provider {
        Provider::Stripe => text("/data/object/payment_intent").or_else(|| text("/data/object/id")),
        Provider::Paypal => text("/resource/supplementary_data/related_ids/order_id")
            .or_else(|| text("/resource/id")),
    };
    let group = format!(
        "{provider}:{}",
        object.unwrap_or_else(|| event_id.to_owned())
    );
    if is_valid_group_id(&group) {
        group
    } else {
        format!("{provider}:{event_id}")
    }
}

/// The message the ingress queues for a delivery that passed the authorizer, whatever its body,
/// as the API Gateway request templates do: a body that does not parse still goes on the queue
/// (grouped and deduplicated by the request id), and the processor dead-letters it with its
/// reason. The local ingress of `mgrid dev` uses this.
pub fn ingress_message(
    provider: Provider,
    body: String,
    headers: &BTreeMap<String, String>,
    received_at: EpochMillis,
    request_id: &str,
) -> QueueMessage {
    if let Ok(envelope) = WebhookEnvelope::from_delivery(
        provider,
        body.clone(),
        headers,
        received_at,
        Some(request_id.to_owned()),
    ) {
        return envelope.to_queue_message();
    }
    let mut attributes: BTreeMap<String, String> = signature_headers(provider)
        .iter()
        .filter_map(|name| {
            headers
                .get(*name)
                .filter(|v| !v.is_empty())
                .map(|v| (name.to_string(), v.clone()))
        })
        .collect();
    attributes.insert(attribute::PROVIDER.into(), provider.to_string());
    attributes.insert(attribute::RECEIVED_AT.into(), received_at.to_string());
    attributes.insert(attribute::REQUEST_ID.into(), request_id.to_owned());
    QueueMessage {
        body,
        group_id: format!("{provider}:unparsed-{request_id}"),
        deduplication_id: request_id.to_owned(),
        attributes,
    }
}

/// SQS: up to 128 characters, alphanumeric or punctuation.
fn is_valid_group_id(id: &str) -> bool {
    id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic())
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
    fn the_ingress_queues_a_good_delivery_by_its_event_and_a_bad_one_by_its_request() {
        let sig = headers(&[("stripe-signature", "t=1,v1=ab"), ("x-api-key", "k")]);
        let good = ingress_message(Provider::Stripe, STRIPE.into(), &sig, 5, "req-1");
        assert_eq!(good.group_id, "stripe:pi_9");
        assert_eq!(good.deduplication_id, "evt_1");
        assert_eq!(good.attributes["mgrid-request-id"], "req-1");
        assert!(!good.attributes.contains_key("x-api-key"));
        let bad = ingress_message(Provider::Stripe, "not json".into(), &sig, 5, "req-2");
        assert_eq!(bad.body, "not json");
        assert_eq!(bad.group_id, "stripe:unparsed-req-2");
        assert_eq!(bad.deduplication_id, "req-2");
        assert_eq!(bad.attributes["mgrid-provider"], "stripe");
        assert_eq!(bad.attributes["mgrid-received-at"], "5");
        assert_eq!(bad.attributes["stripe-signature"], "t=1,v1=ab");
        let read_back = WebhookEnvelope::from_queue_message(&good.body, &good.attributes).unwrap();
        assert_eq!(read_back.event_id, "evt_1");
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
        let charge = r#"{"id":"evt_2","type":"charge.refunded","data":{"object":{"id":"ch_1","payment_intent":"pi_9"}}}"#;
        assert_eq!(
            message_group_id(Provider::Stripe, charge, "evt_2"),
            "stripe:pi_9"
        );
        let invoice = r#"{"id":"evt_3","type":"invoice.paid","data":{"object":{"id":"in_1","payment_intent":null}}}"#;
        assert_eq!(
            message_group_id(Provider::Stripe, invoice, "evt_3"),
            "stripe:in_1"
        );
        let capture = r#"{"id":"WH-1","event_type":"PAYMENT.CAPTURE.COMPLETED","resource":{"id":"CAP1","supplementary_data":{"related_ids":{"order_id":"ORD1"}}}}"#;
        assert_eq!(
            message_group_id(Provider::Paypal, capture, "WH-1"),
            "paypal:ORD1"
        );
        let refund =
            r#"{"id":"WH-2","event_type":"PAYMENT.CAPTURE.REFUNDED","resource":{"id":"REF1"}}"#;
        assert_eq!(
            message_group_id(Provider::Paypal, refund, "WH-2"),
            "paypal:REF1"
        );
        assert_eq!(
            message_group_id(Provider::Stripe, "{}", "evt_4"),
            "stripe:evt_4"
        );
        let hostile = format!(
            r#"{{"id":"evt_5","data":{{"object":{{"id":"{}"}}}}}}"#,
            "x y"
        );
        assert_eq!(
            message_group_id(Provider::Stripe, &hostile, "evt_5"),
            "stripe:evt_5"
        );
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
