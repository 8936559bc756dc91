//! The ledger item: one transaction record plus the raw webhook it came from, in DynamoDB's
//! attribute-value form. The processor writes it, the stream carries it, the archiver reads the
//! webhook back out of the stream image, and `mgrid replay --only-missing` looks items up by
//! key. Attribute names are the table's (the key, the vendor index and its projection).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::envelope::WebhookEnvelope;
use crate::provider::Provider;
use crate::record::TransactionRecord;

/// A DynamoDB attribute value, in the JSON form of the API and of stream records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Attribute {
    S(String),
    N(String),
    M(BTreeMap<String, Attribute>),
    #[serde(rename = "BOOL")]
    Bool(bool),
    #[serde(rename = "NULL")]
    Null(bool),
}

pub type Item = BTreeMap<String, Attribute>;

/// DynamoDB's item size limit.
pub const MAX_ITEM_BYTES: usize = 400 * 1024;

pub const KEY_ATTRIBUTE: &str = "transactionId";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ledger item attribute {attribute}: {problem}")]
pub struct ItemError {
    pub attribute: &'static str,
    pub problem: &'static str,
}

/// The transaction id an item is keyed by, when it has one.
pub fn transaction_id(item: &Item) -> Option<&str> {
    match item.get(KEY_ATTRIBUTE) {
        Some(Attribute::S(id)) => Some(id),
        _ => None,
    }
}

/// The item for a record and the webhook it came from.
pub fn ledger_item(record: &TransactionRecord, envelope: &WebhookEnvelope) -> Item {
    let mut item = Item::new();
    let mut s = |name: &str, value: &str| {
        item.insert(name.to_owned(), Attribute::S(value.to_owned()));
    };
    s(KEY_ATTRIBUTE, &record.transaction_id);
    s("provider", record.provider.as_str());
    s("eventId", &record.event_id);
    s("eventType", &record.event_type);
    s("vendorId", &record.vendor_id);
    s("body", &envelope.body);
    // Into the unsettled index until both legs after the ledger leave their receipts.
    s(
        crate::settlement::UNSETTLED,
        &crate::settlement::unsettled_bucket(&record.transaction_id, record.received_at),
    );
    for (name, value) in [
        ("currency", &record.currency),
        ("status", &record.status),
        ("paymentObjectId", &record.payment_object_id),
        ("requestId", &envelope.request_id),
    ] {
        if let Some(value) = value {
            s(name, value);
        }
    }
    let mut n = |name: &str, value: i64| {
        item.insert(name.to_owned(), Attribute::N(value.to_string()));
    };
    n("eventTime", record.event_time);
    n("receivedAt", record.received_at);
    if let Some(amount) = record.amount {
        n("amount", amount);
    }
    item.insert(
        "signatureHeaders".to_owned(),
        Attribute::M(
            envelope
                .signature_headers
                .iter()
                .map(|(k, v)| (k.clone(), Attribute::S(v.clone())))
                .collect(),
        ),
    );
    item
}

/// DynamoDB's measure of an item: attribute names and values in UTF-8 bytes (numbers about one
/// byte per two digits), plus a little per attribute.
pub fn item_size(item: &Item) -> usize {
    fn value_size(value: &Attribute) -> usize {
        match value {
            Attribute::S(s) => s.len(),
            Attribute::N(n) => n.len().div_ceil(2) + 1,
            Attribute::M(map) => {
                3 + map
                    .iter()
                    .map(|(k, v)| k.len() + value_size(v) + 1)
                    .sum::<usize>()
            }
            Attribute::Bool(_) | Attribute::Null(_) => 1,
        }
    }
    item.iter()
        .map(|(name, value)| name.len() + value_size(value))
        .sum()
}

fn text<'a>(item: &'a Item, attribute: &'static str) -> Result<&'a str, ItemError> {
    match item.get(attribute) {
        Some(Attribute::S(value)) => Ok(value),
        Some(_) => Err(ItemError {
            attribute,
            problem: "is not a string",
        }),
        None => Err(ItemError {
            attribute,
            problem: "is missing",
        }),
    }
}

fn optional_text(item: &Item, attribute: &'static str) -> Result<Option<String>, ItemError> {
    match item.get(attribute) {
        None | Some(Attribute::Null(_)) => Ok(None),
        Some(_) => text(item, attribute).map(|s| Some(s.to_owned())),
    }
}

fn number(item: &Item, attribute: &'static str) -> Result<i64, ItemError> {
    match item.get(attribute) {
        Some(Attribute::N(value)) => value.parse().map_err(|_| ItemError {
            attribute,
            problem: "is not an integer",
        }),
        Some(_) => Err(ItemError {
            attribute,
            problem: "is not a number",
        }),
        None => Err(ItemError {
            attribute,
            problem: "is missing",
        }),
    }
}

fn provider(item: &Item) -> Result<Provider, ItemError> {
    text(item, "provider")?.parse().map_err(|_| ItemError {
        attribute: "provider",
        problem: "is not a known provider",
    })
}

/// The webhook an item carries (what the archiver writes).
pub fn envelope_from_item(item: &Item) -> Result<WebhookEnvelope, ItemError> {
    let signature_headers = match item.get("signatureHeaders") {
        Some(Attribute::M(map)) => map
            .iter()
            .map(|(k, v)| match v {
                Attribute::S(s) => Ok((k.clone(), s.clone())),
                _ => Err(ItemError {
                    attribute: "signatureHeaders",
                    problem: "holds a value that is not a string",
                }),
            })
            .collect::<Result<_, _>>()?,
        None => BTreeMap::new(),
        Some(_) => {
            return Err(ItemError {
                attribute: "signatureHeaders",
                problem: "is not a map",
            });
        }
    };
    Ok(WebhookEnvelope {
        provider: provider(item)?,
        event_id: text(item, "eventId")?.to_owned(),
        event_type: text(item, "eventType")?.to_owned(),
        received_at: number(item, "receivedAt")?,
        request_id: optional_text(item, "requestId")?,
        signature_headers,
        body: text(item, "body")?.to_owned(),
    })
}

/// The record an item holds.
pub fn record_from_item(item: &Item) -> Result<TransactionRecord, ItemError> {
    Ok(TransactionRecord {
        transaction_id: text(item, KEY_ATTRIBUTE)?.to_owned(),
        provider: provider(item)?,
        event_id: text(item, "eventId")?.to_owned(),
        event_type: text(item, "eventType")?.to_owned(),
        vendor_id: text(item, "vendorId")?.to_owned(),
        amount: match item.get("amount") {
            None => None,
            Some(_) => Some(number(item, "amount")?),
        },
        currency: optional_text(item, "currency")?,
        event_time: number(item, "eventTime")?,
        status: optional_text(item, "status")?,
        payment_object_id: optional_text(item, "paymentObjectId")?,
        received_at: number(item, "receivedAt")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> (TransactionRecord, WebhookEnvelope) {
        let envelope = WebhookEnvelope {
            provider: Provider::Stripe,
            event_id: "evt_1".into(),
            event_type: "charge.refunded".into(),
            received_at: 1_795_923_250_123,
            request_id: Some("req-1".into()),
            signature_headers: BTreeMap::from([("stripe-signature".into(), "t=1,v1=00".into())]),
            body: "{\"id\":\"evt_1\"}\n".into(),
        };
        let record = TransactionRecord {
            transaction_id: "stripe:evt_1".into(),
            provider: Provider::Stripe,
            event_id: "evt_1".into(),
            event_type: "charge.refunded".into(),
            vendor_id: "vnd_1".into(),
            amount: Some(-1500),
            currency: Some("EUR".into()),
            event_time: 1_795_923_000_000,
            status: Some("succeeded".into()),
            payment_object_id: Some("ch_1".into()),
            received_at: envelope.received_at,
        };
        (record, envelope)
    }

    #[test]
    fn an_item_gives_back_its_record_and_webhook() {
        let (record, envelope) = sample();
        let item = ledger_item(&record, &envelope);
        assert_eq!(record_from_item(&item), Ok(record));
        assert_eq!(envelope_from_item(&item), Ok(envelope));
    }

    #[test]
    fn optional_fields_are_absent_not_empty() {
        let (mut record, mut envelope) = sample();
        record.amount = None;
        record.currency = None;
        record.status = None;
        record.payment_object_id = None;
        envelope.request_id = None;
        let item = ledger_item(&record, &envelope);
        for absent in [
            "amount",
            "currency",
            "status",
            "paymentObjectId",
            "requestId",
        ] {
            assert!(!item.contains_key(absent), "{absent}");
        }
        assert_eq!(record_from_item(&item), Ok(record));
    }

    #[test]
    fn the_item_reads_from_dynamodb_json_as_a_stream_image_carries_it() {
        let (record, envelope) = sample();
        let json = serde_json::to_value(ledger_item(&record, &envelope)).unwrap();
        assert_eq!(json["amount"], serde_json::json!({"N": "-1500"}));
        assert_eq!(
            json["signatureHeaders"]["M"]["stripe-signature"],
            serde_json::json!({"S": "t=1,v1=00"})
        );
        let item: Item = serde_json::from_value(json).unwrap();
        assert_eq!(envelope_from_item(&item), Ok(envelope));
    }

    #[test]
    fn a_damaged_item_names_the_attribute() {
        let (record, envelope) = sample();
        let mut item = ledger_item(&record, &envelope);
        item.insert("receivedAt".into(), Attribute::S("yesterday".into()));
        assert_eq!(
            envelope_from_item(&item).unwrap_err().attribute,
            "receivedAt"
        );
        let mut item = ledger_item(&record, &envelope);
        item.remove("body");
        assert_eq!(envelope_from_item(&item).unwrap_err().attribute, "body");
    }

    #[test]
    fn item_size_grows_with_the_body() {
        let (record, mut envelope) = sample();
        let small = item_size(&ledger_item(&record, &envelope));
        envelope.body = "x".repeat(100_000);
        assert!(item_size(&ledger_item(&record, &envelope)) >= small + 99_000);
    }
}
