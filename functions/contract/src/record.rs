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
        let fields = match fast_fields(envelope) {
            Some(fields) => fields?,
            None => value_fields(envelope)?,
        };
        Ok(TransactionRecord::assemble(envelope, fields))
    }

    fn assemble(envelope: &WebhookEnvelope, fields: Fields) -> TransactionRecord {
        TransactionRecord {
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
        }
    }
}

/// Both ways of normalising, for the fuzz entry point: the fast typed parse (None when the
/// event's shape needs the general one) and the general parse. When the fast one answers, the
/// two must agree.
#[doc(hidden)]
pub fn normalise_both_ways(
    envelope: &WebhookEnvelope,
) -> (
    Option<Result<TransactionRecord, Rejected>>,
    Result<TransactionRecord, Rejected>,
) {
    let assemble =
        |fields: Result<Fields, Rejected>| fields.map(|f| TransactionRecord::assemble(envelope, f));
    (
        fast_fields(envelope).map(assemble),
        assemble(value_fields(envelope)),
    )
}

/// The general path: any JSON shape, through a value tree.
fn value_fields(envelope: &WebhookEnvelope) -> Result<Fields, Rejected> {
    let event: Value = serde_json::from_str(&envelope.body).map_err(|e| {
        Rejected::new(
            FailureReason::MalformedBody,
            format!("the body is not JSON: {e}"),
        )
    })?;
    match envelope.provider {
        Provider::Stripe => stripe_fields(&event, &envelope.event_type),
        Provider::Paypal => paypal_fields(&event),
    }
}

/// The fast path: a typed, borrowing parse that skips everything it does not need without
/// allocating. None when the event has a shape it does not cover (then the general path runs).
fn fast_fields(envelope: &WebhookEnvelope) -> Option<Result<Fields, Rejected>> {
    match envelope.provider {
        Provider::Stripe => serde_json::from_str::<fast::StripeEvent>(&envelope.body)
            .ok()
            .map(|event| event.fields(&envelope.event_type)),
        Provider::Paypal => serde_json::from_str::<fast::PaypalEvent>(&envelope.body)
            .ok()
            .map(|event| event.fields()),
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

/// Which amount a Stripe event is about, by the object it carries.
fn stripe_amount_fields(kind: &str, event_type: &str) -> &'static [&'static str] {
    match kind {
        "payment_intent" => &["amount_received", "amount"],
        "charge" if event_type == "charge.refunded" => &["amount_refunded", "amount"],
        "charge" => &["amount_captured", "amount"],
        "invoice" => &["amount_paid", "amount_due", "total"],
        "checkout.session" => &["amount_total"],
        _ => &["amount"],
    }
}

/// A Stripe amount field as it was found.
enum AmountField {
    Absent,
    Whole(i64),
    NotWhole,
    NotNumber,
}

/// The first non-zero candidate amount (or zero), refusing a candidate that is not whole.
fn stripe_amount(
    candidates: &[&'static str],
    field: impl Fn(&str) -> AmountField,
) -> Result<Option<i64>, Rejected> {
    let mut amount = None;
    for name in candidates {
        match field(name) {
            AmountField::Whole(0) if amount.is_none() => amount = Some(0),
            AmountField::Whole(value) if value != 0 => return Ok(Some(value)),
            AmountField::NotWhole => {
                return Err(invalid_amount(format!(
                    "Stripe {name} is not whole minor units"
                )));
            }
            AmountField::NotNumber => {
                return Err(invalid_amount(format!("Stripe {name} is not a number")));
            }
            AmountField::Whole(_) | AmountField::Absent => {}
        }
    }
    Ok(amount)
}

fn stripe_fields(event: &Value, event_type: &str) -> Result<Fields, Rejected> {
    let object = event.pointer("/data/object").unwrap_or(&Value::Null);
    let kind = object.get("object").and_then(Value::as_str).unwrap_or("");
    let amount = stripe_amount(
        stripe_amount_fields(kind, event_type),
        |name| match object.get(name) {
            Some(Value::Number(n)) => n.as_i64().map_or(AmountField::NotWhole, AmountField::Whole),
            Some(Value::Null) | None => AmountField::Absent,
            Some(_) => AmountField::NotNumber,
        },
    )?;
    Ok(Fields {
        vendor_id: text(object, "/metadata/vendor_id").or_else(|| text(event, "/account")),
        amount,
        currency: text(object, "/currency").map(|c| c.to_ascii_uppercase()),
        event_time: event
            .get("created")
            .and_then(Value::as_i64)
            .map(|s| s.saturating_mul(1000)),
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
        Some(money) => paypal_money(
            money.get("value").and_then(Value::as_str),
            text(money, "/currency_code"),
        )?,
        None => (None, None),
    };
    Ok(Fields {
        vendor_id: text(resource, "/custom_id")
            .or_else(|| text(resource, "/purchase_units/0/custom_id"))
            .or_else(|| text(resource, "/payee/merchant_id")),
        amount,
        currency,
        event_time: paypal_time(event.get("create_time").and_then(Value::as_str))?,
        status: text(resource, "/status"),
        object_id: text(resource, "/id"),
    })
}

/// A PayPal amount (a decimal string) and currency, as minor units and ISO code.
fn paypal_money(
    value: Option<&str>,
    currency: Option<String>,
) -> Result<(Option<i64>, Option<String>), Rejected> {
    let currency = currency.map(|c| c.to_ascii_uppercase());
    match (value, &currency) {
        (Some(value), Some(code)) => Ok((
            Some(minor_units(value, code).map_err(|e| invalid_amount(e.to_string()))?),
            currency,
        )),
        _ => Ok((None, currency)),
    }
}

fn paypal_time(time: Option<&str>) -> Result<Option<EpochMillis>, Rejected> {
    time.map(|time| {
        parse_rfc3339(time)
            .map_err(|e| Rejected::new(FailureReason::MalformedBody, format!("create_time: {e}")))
    })
    .transpose()
}

/// The typed shapes the fast path reads. Unknown fields are skipped by serde without
/// allocating; scalars are read leniently (a wrong type is seen, not an error); an unexpected
/// shape of a nested object makes the whole parse fail, and the general path takes over.
mod fast {
    use serde::{Deserialize, Deserializer};

    use super::{
        AmountField, Fields, paypal_money, paypal_time, stripe_amount, stripe_amount_fields,
    };
    use crate::envelope::Rejected;
    use crate::scalar::JsonScalar;

    type Scalar<'a> = Option<JsonScalar<'a>>;

    fn text(scalar: &Scalar) -> Option<String> {
        scalar
            .as_ref()
            .and_then(JsonScalar::text)
            .map(str::to_owned)
    }

    #[derive(Deserialize)]
    pub(super) struct StripeEvent<'a> {
        #[serde(borrow, default)]
        account: Scalar<'a>,
        #[serde(borrow, default)]
        created: Scalar<'a>,
        #[serde(borrow, default)]
        data: Option<StripeData<'a>>,
    }

    #[derive(Deserialize)]
    struct StripeData<'a> {
        #[serde(borrow, default)]
        object: Option<StripeObject<'a>>,
    }

    #[derive(Deserialize, Default)]
    struct StripeObject<'a> {
        #[serde(borrow, default)]
        object: Scalar<'a>,
        #[serde(borrow, default)]
        id: Scalar<'a>,
        #[serde(borrow, default)]
        status: Scalar<'a>,
        #[serde(borrow, default)]
        currency: Scalar<'a>,
        #[serde(borrow, default)]
        metadata: Option<StripeMetadata<'a>>,
        #[serde(borrow, default)]
        amount: Scalar<'a>,
        #[serde(borrow, default)]
        amount_received: Scalar<'a>,
        #[serde(borrow, default)]
        amount_refunded: Scalar<'a>,
        #[serde(borrow, default)]
        amount_captured: Scalar<'a>,
        #[serde(borrow, default)]
        amount_paid: Scalar<'a>,
        #[serde(borrow, default)]
        amount_due: Scalar<'a>,
        #[serde(borrow, default)]
        total: Scalar<'a>,
        #[serde(borrow, default)]
        amount_total: Scalar<'a>,
    }

    #[derive(Deserialize)]
    struct StripeMetadata<'a> {
        #[serde(borrow, default)]
        vendor_id: Scalar<'a>,
    }

    impl StripeEvent<'_> {
        pub(super) fn fields(self, event_type: &str) -> Result<Fields, Rejected> {
            let object = self.data.and_then(|d| d.object).unwrap_or_default();
            let kind = object.object.as_ref().and_then(|k| match k {
                JsonScalar::Text(text) => Some(text.as_ref()),
                _ => None,
            });
            let amount = stripe_amount(
                stripe_amount_fields(kind.unwrap_or(""), event_type),
                |name| {
                    let field = match name {
                        "amount" => &object.amount,
                        "amount_received" => &object.amount_received,
                        "amount_refunded" => &object.amount_refunded,
                        "amount_captured" => &object.amount_captured,
                        "amount_paid" => &object.amount_paid,
                        "amount_due" => &object.amount_due,
                        "total" => &object.total,
                        _ => &object.amount_total,
                    };
                    match field {
                        None => AmountField::Absent,
                        Some(JsonScalar::Int(value)) => AmountField::Whole(*value),
                        Some(JsonScalar::NotInt(_)) => AmountField::NotWhole,
                        Some(_) => AmountField::NotNumber,
                    }
                },
            )?;
            Ok(Fields {
                vendor_id: object
                    .metadata
                    .as_ref()
                    .and_then(|m| text(&m.vendor_id))
                    .or_else(|| text(&self.account)),
                amount,
                currency: text(&object.currency).map(|c| c.to_ascii_uppercase()),
                event_time: match self.created {
                    Some(JsonScalar::Int(seconds)) => Some(seconds.saturating_mul(1000)),
                    _ => None,
                },
                status: text(&object.status),
                object_id: text(&object.id),
            })
        }
    }

    /// Absent stays None; present (even null) is Some: PayPal's `resource.amount: null` must
    /// not fall through to the purchase units, as it does not in the general path.
    fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        deserializer: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(deserializer).map(Some)
    }

    #[derive(Deserialize)]
    pub(super) struct PaypalEvent<'a> {
        #[serde(borrow, default)]
        create_time: Scalar<'a>,
        #[serde(borrow, default)]
        resource: Option<PaypalResource<'a>>,
    }

    #[derive(Deserialize, Default)]
    struct PaypalResource<'a> {
        #[serde(borrow, default)]
        id: Scalar<'a>,
        #[serde(borrow, default)]
        status: Scalar<'a>,
        #[serde(borrow, default)]
        custom_id: Scalar<'a>,
        #[serde(borrow, default, deserialize_with = "present")]
        amount: Option<Option<PaypalMoney<'a>>>,
        #[serde(borrow, default)]
        purchase_units: Option<Vec<PurchaseUnit<'a>>>,
        #[serde(borrow, default)]
        payee: Option<Payee<'a>>,
    }

    #[derive(Deserialize)]
    struct PaypalMoney<'a> {
        #[serde(borrow, default)]
        value: Scalar<'a>,
        #[serde(borrow, default)]
        currency_code: Scalar<'a>,
    }

    #[derive(Deserialize)]
    struct PurchaseUnit<'a> {
        #[serde(borrow, default)]
        custom_id: Scalar<'a>,
        #[serde(borrow, default)]
        amount: Option<PaypalMoney<'a>>,
    }

    #[derive(Deserialize)]
    struct Payee<'a> {
        #[serde(borrow, default)]
        merchant_id: Scalar<'a>,
    }

    impl PaypalEvent<'_> {
        pub(super) fn fields(self) -> Result<Fields, Rejected> {
            let resource = self.resource.unwrap_or_default();
            let first_unit = resource
                .purchase_units
                .as_ref()
                .and_then(|units| units.first());
            let money = match &resource.amount {
                Some(amount) => amount.as_ref(),
                None => first_unit.and_then(|unit| unit.amount.as_ref()),
            };
            let (amount, currency) = match money {
                Some(money) => {
                    let value = match &money.value {
                        Some(JsonScalar::Text(value)) => Some(value.as_ref()),
                        _ => None,
                    };
                    paypal_money(value, text(&money.currency_code))?
                }
                None => (None, None),
            };
            let time = match &self.create_time {
                Some(JsonScalar::Text(time)) => Some(time.as_ref()),
                _ => None,
            };
            Ok(Fields {
                vendor_id: text(&resource.custom_id)
                    .or_else(|| first_unit.and_then(|unit| text(&unit.custom_id)))
                    .or_else(|| {
                        resource
                            .payee
                            .as_ref()
                            .and_then(|payee| text(&payee.merchant_id))
                    }),
                amount,
                currency,
                event_time: paypal_time(time)?,
                status: text(&resource.status),
                object_id: text(&resource.id),
            })
        }
    }
}
