//! The notify leg: a ledger item's vendor notification (mgrid_contract::notification) published
//! to the vendor topic; the receipt keeps the topic's message id. A heal publishes the same body
//! marked as a redelivery, so a vendor can tell it from the first delivery.

use mgrid_contract::EpochMillis;
use mgrid_contract::ledger::Item;
use mgrid_contract::notification::vendor_notification;
use mgrid_contract::settlement::{Leg, Receipt};

use crate::legs::{Done, LegWork};
use crate::ports::Topic;

/// The notifier's work, written against the topic port.
pub struct Notifier<T> {
    topic: T,
    redelivery: bool,
}

impl<T: Topic> Notifier<T> {
    /// The pipeline's notifier: first deliveries.
    pub fn new(topic: T) -> Self {
        Notifier {
            topic,
            redelivery: false,
        }
    }

    /// A heal's notifier: every message marked as a redelivery.
    pub fn redelivering(topic: T) -> Self {
        Notifier {
            topic,
            redelivery: true,
        }
    }
}

impl<T: Topic> LegWork for Notifier<T> {
    const LEG: Leg = Leg::Notify;
    const FUNCTION: &'static str = "notifier";
    const REDO_IS_FREE: bool = false;

    async fn work(&self, item: &Item, now: EpochMillis, by: &str) -> Result<Done, String> {
        let body = vendor_notification(item).to_string();
        let message_id = self
            .topic
            .publish(&body, self.redelivery)
            .await
            .map_err(|error| format!("publishing the vendor notification failed: {error}"))?;
        Ok(Done {
            receipt: Receipt::Notified {
                message_id,
                at: now,
                by: by.to_owned(),
            },
            first_time: true,
        })
    }
}
