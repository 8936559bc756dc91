//! The message a vendor gets when its transaction is recorded. On AWS the notify pipe builds it
//! from the stream record with its `InputTemplate` (stacks/pipeline.yaml, NotifyPipe); the local
//! stage builds it from the ledger item. Both follow this one list of fields, and a test holds
//! the template to it.

use serde_json::{Map, Value};

use crate::ledger::{Attribute, Item};

/// Every field of a vendor notification: its JSON name (the ledger attribute of the same name)
/// and the attribute's DynamoDB type in the stream record. Every value is sent as a string, as
/// the pipe's template quotes each one.
pub const FIELDS: [(&str, &str); 7] = [
    ("transactionId", "S"),
    ("vendorId", "S"),
    ("amount", "N"),
    ("currency", "S"),
    ("eventTime", "N"),
    ("eventType", "S"),
    ("status", "S"),
];

/// The notification for a ledger item (an absent attribute is an empty string, as the pipe
/// renders a path that finds nothing).
pub fn vendor_notification(item: &Item) -> Value {
    Value::Object(
        FIELDS
            .iter()
            .map(|(name, _)| {
                let value = match item.get(*name) {
                    Some(Attribute::S(value)) | Some(Attribute::N(value)) => value.clone(),
                    _ => String::new(),
                };
                ((*name).to_owned(), Value::String(value))
            })
            .collect(),
    )
}

/// The pipe's `InputTemplate` as JSON: each field a quoted path into the stream record's new
/// image.
pub fn input_template() -> Value {
    let fields: Map<String, Value> = FIELDS
        .iter()
        .map(|(name, kind)| {
            (
                (*name).to_owned(),
                Value::String(format!("<$.dynamodb.NewImage.{name}.{kind}>")),
            )
        })
        .collect();
    Value::Object(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notification_has_every_field_as_a_string() {
        let mut item = Item::new();
        item.insert("transactionId".into(), Attribute::S("stripe:evt_1".into()));
        item.insert("amount".into(), Attribute::N("1250".into()));
        let notification = vendor_notification(&item);
        assert_eq!(notification["transactionId"], "stripe:evt_1");
        assert_eq!(notification["amount"], "1250");
        assert_eq!(notification["vendorId"], "");
        assert_eq!(notification.as_object().map(Map::len), Some(FIELDS.len()));
        assert_eq!(input_template()["amount"], "<$.dynamodb.NewImage.amount.N>");
    }
}
