//! The decisions of a replay, as pure functions: what a time on the command line means, which
//! archived webhooks a selection takes, the order they go back in, and the message each becomes
//! (the ingress's own, with a deduplication id of this run).

use std::collections::{BTreeMap, BTreeSet};

use mgrid_contract::clock::UtcDateTime;
use mgrid_contract::envelope::attribute;
use mgrid_contract::record::TransactionRecord;
use mgrid_contract::{EpochMillis, Provider, WebhookEnvelope};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::decide::redrive::Attribute;
use crate::decide::values::Outgoing;

pub use crate::decide::spans::parse_time;

/// Midnight UTC of the day `at` falls in, for messages.
pub fn day_of(at: EpochMillis) -> String {
    let t = UtcDateTime::from_epoch_millis(at);
    format!("{:04}-{:02}-{:02}", t.year, t.month, t.day)
}

/// Which archived webhooks a replay takes. Empty fields take everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Selection {
    #[serde(serialize_with = "crate::clock::rfc3339")]
    #[cfg_attr(test, schemars(with = "crate::clock::Rfc3339"))]
    pub from: EpochMillis,
    #[serde(serialize_with = "crate::clock::rfc3339")]
    #[cfg_attr(test, schemars(with = "crate::clock::Rfc3339"))]
    pub to: EpochMillis,
    pub provider: Option<Provider>,
    pub vendor: Option<String>,
    pub event_type: Option<String>,
    pub event_ids: BTreeSet<String>,
}

impl Selection {
    pub fn providers(&self) -> Vec<Provider> {
        match self.provider {
            Some(provider) => vec![provider],
            None => Provider::ALL.to_vec(),
        }
    }

    /// Whether an archived key can hold a match (before reading it).
    pub fn may_match_event(&self, event_id: &str) -> bool {
        self.event_ids.is_empty() || self.event_ids.contains(event_id)
    }

    /// Whether a webhook read from the archive matches.
    pub fn matches(&self, envelope: &WebhookEnvelope) -> bool {
        envelope.received_at >= self.from
            && envelope.received_at <= self.to
            && self.provider.is_none_or(|p| envelope.provider == p)
            && self.may_match_event(&envelope.event_id)
            && self
                .event_type
                .as_ref()
                .is_none_or(|t| &envelope.event_type == t)
            && self.vendor.as_ref().is_none_or(|vendor| {
                TransactionRecord::from_envelope(envelope)
                    .is_ok_and(|record| &record.vendor_id == vendor)
            })
    }
}

/// The order webhooks go back in: as they were received (so each group keeps its order), ties
/// broken by provider and event id so that two runs send the same sequence.
pub fn sort_for_sending(webhooks: &mut [WebhookEnvelope]) {
    webhooks.sort_by(|a, b| {
        (a.received_at, a.provider, &a.event_id).cmp(&(b.received_at, b.provider, &b.event_id))
    });
}

/// Counts by provider and event type, for the summary before sending.
pub fn count_by_type(webhooks: &[WebhookEnvelope]) -> BTreeMap<(String, String), usize> {
    let mut counts = BTreeMap::new();
    for webhook in webhooks {
        *counts
            .entry((webhook.provider.to_string(), webhook.event_type.clone()))
            .or_insert(0) += 1;
    }
    counts
}

/// The message a webhook becomes: what the ingress put on the queue (group, attributes, the
/// signature headers), with a deduplication id of this replay run, so an earlier delivery of the
/// same event within the queue's 5-minute window does not swallow it, while a resend within the
/// run is dropped by SQS.
pub fn replay_message(run_id: &str, envelope: &WebhookEnvelope) -> Outgoing {
    let message = envelope.to_queue_message();
    let digest = Sha256::digest(format!("replay\0{run_id}\0{}", envelope.transaction_id()));
    Outgoing {
        body: message.body,
        group_id: message.group_id,
        deduplication_id: digest[..16].iter().map(|b| format!("{b:02x}")).collect(),
        attributes: message
            .attributes
            .iter()
            .map(|(name, value)| {
                let data_type = if name == attribute::RECEIVED_AT {
                    "Number"
                } else {
                    "String"
                };
                (name.clone(), Attribute::text(data_type, value))
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    const DAY_MS: i64 = 86_400_000;
    use super::*;

    // 2026-11-29T03:34:10.123Z
    const NOW: EpochMillis = 1_795_923_250_123;

    fn envelope(provider: Provider, id: &str, at: EpochMillis, body: &str) -> WebhookEnvelope {
        WebhookEnvelope {
            provider,
            event_id: id.into(),
            event_type: "payment_intent.succeeded".into(),
            received_at: at,
            request_id: Some("req-1".into()),
            signature_headers: BTreeMap::from([(
                "stripe-signature".to_owned(),
                "t=1,v1=ab".to_owned(),
            )]),
            body: body.into(),
        }
    }

    #[test]
    fn times_are_rfc3339_ages_or_days() {
        assert_eq!(parse_time("now", NOW), Ok(NOW));
        assert_eq!(parse_time("2h ago", NOW), Ok(NOW - 7_200_000));
        assert_eq!(parse_time("90m", NOW), Ok(NOW - 5_400_000));
        assert_eq!(parse_time("3d ago", NOW), Ok(NOW - 3 * DAY_MS));
        assert_eq!(
            parse_time("today", NOW).map(day_of),
            Ok("2026-11-29".into())
        );
        assert_eq!(
            parse_time("yesterday", NOW),
            parse_time("2026-11-28T00:00:00Z", NOW)
        );
        assert_eq!(parse_time("2026-11-29T04:34:10.123+01:00", NOW), Ok(NOW));
        assert_eq!(
            parse_time("2026-11-29", NOW),
            parse_time("2026-11-29T00:00:00Z", NOW)
        );
        for bad in ["", "tomorrow", "2h later", "5 ago"] {
            let error = parse_time(bad, NOW).unwrap_err();
            assert!(error.contains("RFC 3339"), "{bad}: {error}");
        }
    }

    #[test]
    fn a_selection_filters_on_window_provider_type_event_and_vendor() {
        let body = r#"{"id":"evt_1","type":"payment_intent.succeeded","data":{"object":{"id":"pi_1","amount":100,"currency":"usd","metadata":{"vendor_id":"v-42"}}}}"#;
        let webhook = envelope(Provider::Stripe, "evt_1", NOW, body);
        let window = Selection {
            from: NOW - 1000,
            to: NOW,
            ..Selection::default()
        };
        assert!(window.matches(&webhook));
        assert!(
            !Selection {
                to: NOW - 1,
                ..window.clone()
            }
            .matches(&webhook)
        );
        assert!(
            !Selection {
                provider: Some(Provider::Paypal),
                ..window.clone()
            }
            .matches(&webhook)
        );
        assert!(
            Selection {
                vendor: Some("v-42".into()),
                ..window.clone()
            }
            .matches(&webhook)
        );
        assert!(
            !Selection {
                vendor: Some("v-43".into()),
                ..window.clone()
            }
            .matches(&webhook)
        );
        assert!(
            !Selection {
                event_type: Some("charge.refunded".into()),
                ..window.clone()
            }
            .matches(&webhook)
        );
        let by_id = Selection {
            event_ids: BTreeSet::from(["evt_2".to_owned()]),
            ..window.clone()
        };
        assert!(!by_id.matches(&webhook));
        assert!(!by_id.may_match_event("evt_1"));
    }

    #[test]
    fn replayed_messages_are_the_ingress_messages_with_a_run_dedup_id() {
        let body = r#"{"id":"evt_1","type":"payment_intent.succeeded","data":{"object":{"id":"ch_1","payment_intent":"pi_9"}}}"#;
        let webhook = envelope(Provider::Stripe, "evt_1", NOW, body);
        let one = replay_message("run-a", &webhook);
        assert_eq!(one.group_id, "stripe:pi_9");
        assert_eq!(one.body, body);
        assert_eq!(
            one.attributes["mgrid-received-at"],
            Attribute::text("Number", &NOW.to_string())
        );
        assert_eq!(
            one.attributes["stripe-signature"],
            Attribute::text("String", "t=1,v1=ab")
        );
        assert_eq!(
            one.attributes["mgrid-provider"],
            Attribute::text("String", "stripe")
        );
        assert_eq!(
            one.deduplication_id,
            replay_message("run-a", &webhook).deduplication_id
        );
        assert_ne!(
            one.deduplication_id,
            replay_message("run-b", &webhook).deduplication_id
        );
        assert_ne!(one.deduplication_id, "evt_1");
    }

    #[test]
    fn webhooks_go_back_in_the_order_they_came() {
        let mut webhooks = vec![
            envelope(Provider::Stripe, "evt_b", NOW, "{}"),
            envelope(Provider::Paypal, "WH-1", NOW - 5, "{}"),
            envelope(Provider::Stripe, "evt_a", NOW, "{}"),
        ];
        sort_for_sending(&mut webhooks);
        let order: Vec<&str> = webhooks.iter().map(|w| w.event_id.as_str()).collect();
        assert_eq!(order, ["WH-1", "evt_a", "evt_b"]);
    }
}
