//! The transaction record: one provider event, normalised. Stripe and PayPal events of any
//! type become one of these (unknown types are kept with what they carry, never dropped).
//! Amounts are integers in minor units.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::clock::{EpochMillis, parse_rfc3339};
use crate::envelope::{Rejected, WebhookEnvelope};
use crate::failure::FailureReason;
use crate::money::minor_units;
use crate::provider::Provider;

/// The vendor of an event that names none (see [`TransactionRecord::vendor_id`]).
pub const UNASSIGNED_VENDOR: &str = "unassigned";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransactionRecord {
    /// `<provider>:<event id>`.
    pub transaction_id: String,
    pub provider: Provider,
    pub event_id: String,
    pub event_type: String,
    /// Stripe: `metadata.vendor_id` of the event's object, else the Connect account the event
    /// came from (`account`). PayPal: the resource's `custom_id` (or its first purchase unit's),
    /// else the payee's merchant id. Else [`UNASSIGNED_VENDOR`].
    pub vendor_id: String,
    /// Minor units (cents); None when the event carries no amount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<i64>,
    /// ISO 4217, upper case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// When the provider created the event.
    pub event_time: EpochMillis,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The Stripe object (payment intent, charge, refund, invoice, …) or PayPal resource id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_object_id: Option<String>,
    pub received_at: EpochMillis,
}

impl TransactionRecord {
    /// Normalises a verified envelope.
    pub fn from_envelope(envelope: &WebhookEnvelope) -> Result<TransactionRecord, Rejected> {
        let event: Value = serde_json::from_str(&envelope.body).map_err(|e| {
            Rejected::new(
                FailureReason::MalformedBody,
                format!("the body is not JSON: {e}"),
            )
        })?;
        let fields = match envelope.provider {
            Provider::Stripe => stripe_fields(&event)?,
            Provider::Paypal => paypal_fields(&event)?,
        };
        Ok(TransactionRecord {
            transaction_id: envelope.transaction_id(),
            provider: envelope.provider,
            event_id: envelope.event_id.clone(),
            event_type: envelope.event_type.clone(),
            vendor_id: fields
                .vendor_id
                .unwrap_or_else(|| UNASSIGNED_VENDOR.to_owned()),
            amount: fields.amount,
            currency: fields.currency,
            event_time: fields.event_time.unwrap_or(envelope.received_at),
            status: fields.status,
            payment_object_id: fields.object_id,
            received_at: envelope.received_at,
        })
    }
}

#[derive(Default)]
struct Fields {
    vendor_id: Option<String>,
    amount: Option<i64>,
    currency: Option<String>,
    event_time: Option<EpochMillis>,
    status: Option<String>,
    object_id: Option<String>,
}

fn text(value: &Value, pointer: &str) -> Option<String> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn invalid_amount(detail: String) -> Rejected {
    Rejected::new(FailureReason::InvalidAmount, detail)
}

fn stripe_fields(event: &Value) -> Result<Fields, Rejected> {
    let object = event.pointer("/data/object").unwrap_or(&Value::Null);
    let kind = object.get("object").and_then(Value::as_str).unwrap_or("");
    let event_type = event.get("type").and_then(Value::as_str).unwrap_or("");
    // Which amount the event is about, by the object it carries.
    let candidates: &[&str] = match kind {
        "payment_intent" => &["amount_received", "amount"],
        "charge" if event_type == "charge.refunded" => &["amount_refunded", "amount"],
        "charge" => &["amount_captured", "amount"],
        "invoice" => &["amount_paid", "amount_due", "total"],
        "checkout.session" => &["amount_total"],
        _ => &["amount"],
    };
    let mut amount = None;
    for field in candidates {
        match object.get(*field) {
            Some(Value::Number(n)) => match n.as_i64() {
                Some(0) if amount.is_none() => amount = Some(0),
                Some(value) => {
                    amount = Some(value);
                    break;
                }
                None => {
                    return Err(invalid_amount(format!(
                        "Stripe {field} {n} is not whole minor units"
                    )));
                }
            },
            Some(Value::Null) | None => {}
            Some(other) => {
                return Err(invalid_amount(format!(
                    "Stripe {field} {other} is not a number"
                )));
            }
        }
    }
    Ok(Fields {
        vendor_id: text(object, "/metadata/vendor_id").or_else(|| text(event, "/account")),
        amount,
        currency: text(object, "/currency").map(|c| c.to_ascii_uppercase()),
        event_time: event
            .get("created")
            .and_then(Value::as_i64)
            .map(|s| s * 1000),
        status: text(object, "/status"),
        object_id: text(object, "/id"),
    })
}

fn paypal_fields(event: &Value) -> Result<Fields, Rejected> {
    let resource = event.get("resource").unwrap_or(&Value::Null);
    let money = resource
        .get("amount")
        .or_else(|| resource.pointer("/purchase_units/0/amount"))
        .filter(|m| m.is_object());
    let (amount, currency) = match money {
        Some(money) => {
            let currency = text(money, "/currency_code").map(|c| c.to_ascii_uppercase());
            let value = money.get("value").and_then(Value::as_str);
            match (value, &currency) {
                (Some(value), Some(currency)) => (
                    Some(minor_units(value, currency).map_err(|e| invalid_amount(e.to_string()))?),
                    Some(currency.clone()),
                ),
                _ => (None, currency),
            }
        }
        None => (None, None),
    };
    let event_time = match event.get("create_time").and_then(Value::as_str) {
        Some(time) => Some(parse_rfc3339(time).map_err(|e| {
            Rejected::new(FailureReason::MalformedBody, format!("create_time: {e}"))
        })?),
        None => None,
    };
    Ok(Fields {
        vendor_id: text(resource, "/custom_id")
            .or_else(|| text(resource, "/purchase_units/0/custom_id"))
            .or_else(|| text(resource, "/payee/merchant_id")),
        amount,
        currency,
        event_time,
        status: text(resource, "/status"),
        object_id: text(resource, "/id"),
    })
}
