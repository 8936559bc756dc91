//! Realistic provider events for `mgrid send`, as pure functions: the body Stripe or PayPal would
//! send for an event type, vendor and amount, and the headers that carry its signature. Stripe
//! events are signed as Stripe signs them (with the stage's endpoint secret); PayPal signs with
//! its own private key, which nobody else has, so PayPal events carry transmission headers whose
//! signature no certificate verifies.

use base64::Engine;
use mgrid_contract::clock::format_rfc3339;
use mgrid_contract::keyring::Secret;
use mgrid_contract::signature::stripe_signature_header;
use mgrid_contract::{EpochMillis, Provider};
use serde_json::json;

/// What to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSpec {
    pub provider: Provider,
    pub event_type: String,
    pub vendor: String,
    /// Minor units (cents).
    pub amount: i64,
    /// ISO 4217, any case.
    pub currency: String,
}

/// The event type `mgrid send` sends when none is named.
pub fn default_event_type(provider: Provider) -> &'static str {
    match provider {
        Provider::Stripe => "payment_intent.succeeded",
        Provider::Paypal => "PAYMENT.CAPTURE.COMPLETED",
    }
}

/// The ids one event needs, drawn by the caller (random in use, fixed in tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventIds {
    pub event: String,
    pub object: String,
    pub parent: String,
}

/// The body the provider would send.
pub fn body(spec: &EventSpec, ids: &EventIds, now: EpochMillis) -> String {
    match spec.provider {
        Provider::Stripe => stripe_body(spec, ids, now),
        Provider::Paypal => paypal_body(spec, ids, now),
    }
}

fn stripe_body(spec: &EventSpec, ids: &EventIds, now: EpochMillis) -> String {
    let currency = spec.currency.to_lowercase();
    let kind = spec.event_type.split('.').next().unwrap_or_default();
    let metadata = json!({ "vendor_id": spec.vendor });
    let object = match kind {
        "payment_intent" => json!({
            "id": format!("pi_{}", ids.object),
            "object": "payment_intent",
            "amount": spec.amount,
            "amount_received": if spec.event_type.ends_with("succeeded") { spec.amount } else { 0 },
            "currency": currency,
            "status": match spec.event_type.as_str() {
                "payment_intent.succeeded" => "succeeded",
                "payment_intent.canceled" => "canceled",
                "payment_intent.processing" => "processing",
                _ => "requires_payment_method",
            },
            "metadata": metadata,
        }),
        "charge" => json!({
            "id": format!("ch_{}", ids.object),
            "object": "charge",
            "amount": spec.amount,
            "amount_refunded": if spec.event_type == "charge.refunded" { spec.amount } else { 0 },
            "currency": currency,
            "payment_intent": format!("pi_{}", ids.parent),
            "status": if spec.event_type == "charge.failed" { "failed" } else { "succeeded" },
            "metadata": metadata,
        }),
        other => json!({
            "id": format!("{}_{}", other.chars().take(3).collect::<String>(), ids.object),
            "object": other,
            "metadata": metadata,
        }),
    };
    json!({
        "id": format!("evt_{}", ids.event),
        "object": "event",
        "api_version": mgrid_contract::provider::STRIPE_API_VERSION,
        "created": now / 1000,
        "livemode": false,
        "pending_webhooks": 1,
        "type": spec.event_type,
        "data": { "object": object },
    })
    .to_string()
}

fn paypal_body(spec: &EventSpec, ids: &EventIds, now: EpochMillis) -> String {
    let time = format_rfc3339(now);
    let resource = if spec.event_type.starts_with("PAYMENT.CAPTURE.") {
        json!({
            "id": format!("CAP-{}", ids.object.to_uppercase()),
            "status": spec.event_type.rsplit('.').next().unwrap_or("COMPLETED"),
            "amount": {
                "currency_code": spec.currency.to_uppercase(),
                "value": format!("{}.{:02}", spec.amount / 100, spec.amount.rem_euclid(100)),
            },
            "custom_id": spec.vendor,
            "create_time": time,
            "supplementary_data": { "related_ids": { "order_id": format!("ORDER-{}", ids.parent.to_uppercase()) } },
        })
    } else {
        json!({ "id": format!("RES-{}", ids.object.to_uppercase()), "custom_id": spec.vendor, "create_time": time })
    };
    json!({
        "id": format!("WH-{}", ids.event.to_uppercase()),
        "event_version": "1.0",
        "create_time": time,
        "resource_type": if spec.event_type.starts_with("PAYMENT.CAPTURE.") { "capture" } else { "resource" },
        "event_type": spec.event_type,
        "summary": format!("{} for vendor {}", spec.event_type, spec.vendor),
        "resource": resource,
    })
    .to_string()
}

/// The event without its type, for `--malformed`: still one JSON object, so the ingress queues
/// it (a body that is not JSON is refused with 400 before the queue, on AWS as locally), and the
/// processor dead-letters it as malformed-body.
pub fn malformed(body: &str) -> String {
    let Ok(serde_json::Value::Object(mut event)) = serde_json::from_str(body) else {
        return body.to_owned();
    };
    event.remove("type");
    event.remove("event_type");
    serde_json::Value::Object(event).to_string()
}

/// The signature headers for `body`: Stripe's `Stripe-Signature` with `secret` (or, with `bad`,
/// one made with another secret); PayPal's transmission headers.
pub fn signature_headers(
    provider: Provider,
    body: &str,
    secret: Option<&Secret>,
    bad: bool,
    ids: &EventIds,
    now: EpochMillis,
) -> Vec<(&'static str, String)> {
    match provider {
        Provider::Stripe => {
            let wrong = Secret::new("whsec_not_the_endpoint_secret".to_owned());
            match (secret, bad) {
                (Some(secret), false) => vec![(
                    "stripe-signature",
                    stripe_signature_header(secret, now / 1000, body.as_bytes()),
                )],
                _ => vec![(
                    "stripe-signature",
                    stripe_signature_header(&wrong, now / 1000, body.as_bytes()),
                )],
            }
        }
        Provider::Paypal => vec![
            ("paypal-transmission-id", ids.parent.clone()),
            ("paypal-transmission-time", format_rfc3339(now)),
            (
                "paypal-cert-url",
                "https://api.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-1d93a270"
                    .to_owned(),
            ),
            ("paypal-auth-algo", "SHA256withRSA".to_owned()),
            (
                "paypal-transmission-sig",
                base64::engine::general_purpose::STANDARD
                    .encode(format!("mgrid send {} {}", ids.event, ids.object)),
            ),
        ],
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use mgrid_contract::record::TransactionRecord;
    use mgrid_contract::signature::verify_stripe;
    use mgrid_contract::{Provider, WebhookEnvelope};

    use super::*;

    const NOW: EpochMillis = 1_764_400_000_000;

    fn ids() -> EventIds {
        EventIds {
            event: "1a2b3c".into(),
            object: "4d5e6f".into(),
            parent: "7a8b9c".into(),
        }
    }

    fn spec(provider: Provider, event_type: &str) -> EventSpec {
        EventSpec {
            provider,
            event_type: event_type.into(),
            vendor: "vendor-42".into(),
            amount: 1999,
            currency: "usd".into(),
        }
    }

    fn envelope(provider: Provider, body: &str, headers: &[(&str, String)]) -> WebhookEnvelope {
        let headers: BTreeMap<String, String> = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        WebhookEnvelope::from_delivery(provider, body.into(), &headers, NOW, None).unwrap()
    }

    #[test]
    fn a_stripe_payment_becomes_the_record_the_processor_would_write() {
        let spec = spec(Provider::Stripe, "payment_intent.succeeded");
        let body = body(&spec, &ids(), NOW);
        let secret = Secret::new("whsec_local".into());
        let headers = signature_headers(Provider::Stripe, &body, Some(&secret), false, &ids(), NOW);
        let envelope = envelope(Provider::Stripe, &body, &headers);
        verify_stripe(&envelope, &[&secret]).unwrap();
        let record = TransactionRecord::from_envelope(&envelope).unwrap();
        assert_eq!(record.event_id, "evt_1a2b3c");
        assert_eq!(record.vendor_id, "vendor-42");
        assert_eq!(record.amount, Some(1999));
        assert_eq!(record.currency.as_deref(), Some("USD"));
    }

    #[test]
    fn a_bad_signature_does_not_verify() {
        let spec = spec(Provider::Stripe, "charge.refunded");
        let body = body(&spec, &ids(), NOW);
        let secret = Secret::new("whsec_local".into());
        let headers = signature_headers(Provider::Stripe, &body, Some(&secret), true, &ids(), NOW);
        let envelope = envelope(Provider::Stripe, &body, &headers);
        assert!(verify_stripe(&envelope, &[&secret]).is_err());
    }

    #[test]
    fn a_paypal_capture_names_its_order_vendor_and_amount() {
        let spec = spec(Provider::Paypal, "PAYMENT.CAPTURE.COMPLETED");
        let body = body(&spec, &ids(), NOW);
        let headers = signature_headers(Provider::Paypal, &body, None, false, &ids(), NOW);
        let envelope = envelope(Provider::Paypal, &body, &headers);
        assert_eq!(envelope.signature_headers.len(), 5);
        let record = TransactionRecord::from_envelope(&envelope).unwrap();
        assert_eq!(record.event_id, "WH-1A2B3C");
        assert_eq!(record.vendor_id, "vendor-42");
        assert_eq!(record.amount, Some(1999));
        assert_eq!(record.payment_object_id.as_deref(), Some("CAP-4D5E6F"));
        assert_eq!(envelope.to_queue_message().group_id, "paypal:ORDER-7A8B9C");
    }

    #[test]
    fn a_malformed_event_is_a_json_object_the_processor_cannot_use() {
        for provider in [Provider::Stripe, Provider::Paypal] {
            let text = malformed(&body(&spec(provider, "x.y"), &ids(), NOW));
            let json: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert!(json.is_object());
            let rejected = mgrid_contract::WebhookEnvelope::from_delivery(
                provider,
                text,
                &Default::default(),
                NOW,
                None,
            )
            .unwrap_err();
            assert_eq!(
                rejected.reason,
                mgrid_contract::FailureReason::MalformedBody
            );
        }
    }
}
