//! The message a vendor gets when its transaction is recorded, built from the ledger item: by the
//! notifier function on AWS (stacks/pipeline.yaml, NotifierFunction), by the local notify pipe,
//! and by a heal that tells a vendor again. One list of fields for all three.

#[cfg(test)]
use serde_json::Map;
use serde_json::Value;

use crate::ledger::{Attribute, Item};

/// Every field of a vendor notification: its JSON name (the ledger attribute of the same name)
/// and the attribute's DynamoDB type. Every value is sent as a string (amounts in minor units,
/// times in epoch milliseconds), as vendors have always read them.
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
    }
}
