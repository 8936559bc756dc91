//! The webhook archive: where the archiver writes each webhook in S3 (or the local stage's
//! directory), and what it writes. Replay reads exactly this, so the layout lives here once:
//! `webhooks/<provider>/<yyyy>/<mm>/<dd>/<hh>/<event id>.json`, the hour in UTC of receipt.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::clock::{EpochMillis, UtcDateTime};
use crate::envelope::{WebhookEnvelope, is_valid_event_id};
use crate::provider::Provider;

pub const ARCHIVE_ROOT: &str = "webhooks";
const HOUR_MS: i64 = 3_600_000;

/// The UTC hour an archived webhook was received in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ArchiveHour {
    /// Epoch milliseconds of the start of the hour.
    pub start: EpochMillis,
}

impl ArchiveHour {
    pub fn containing(at: EpochMillis) -> ArchiveHour {
        ArchiveHour {
            start: at.div_euclid(HOUR_MS) * HOUR_MS,
        }
    }

    pub fn next(self) -> ArchiveHour {
        ArchiveHour {
            start: self.start + HOUR_MS,
        }
    }

    fn path(self) -> String {
        let t = UtcDateTime::from_epoch_millis(self.start);
        format!("{:04}/{:02}/{:02}/{:02}", t.year, t.month, t.day, t.hour)
    }
}

/// The key of one archived webhook.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ArchiveKey {
    pub provider: Provider,
    pub hour: ArchiveHour,
    pub event_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{key:?} is not an archive key (webhooks/<provider>/<yyyy>/<mm>/<dd>/<hh>/<event id>.json): {reason}"
)]
pub struct NotAnArchiveKey {
    pub key: String,
    pub reason: &'static str,
}

impl ArchiveKey {
    pub fn for_envelope(envelope: &WebhookEnvelope) -> ArchiveKey {
        ArchiveKey {
            provider: envelope.provider,
            hour: ArchiveHour::containing(envelope.received_at),
            event_id: envelope.event_id.clone(),
        }
    }

    /// The prefix that lists every webhook of a provider received in an hour.
    pub fn hour_prefix(provider: Provider, hour: ArchiveHour) -> String {
        format!("{ARCHIVE_ROOT}/{provider}/{}/", hour.path())
    }

    pub fn parse(key: &str) -> Result<ArchiveKey, NotAnArchiveKey> {
        let fail = |reason| NotAnArchiveKey {
            key: key.to_owned(),
            reason,
        };
        let parts: Vec<&str> = key.split('/').collect();
        let [root, provider, year, month, day, hour, file] = parts.as_slice() else {
            return Err(fail("wrong number of path segments"));
        };
        if *root != ARCHIVE_ROOT {
            return Err(fail("not under webhooks/"));
        }
        let provider: Provider = provider.parse().map_err(|_| fail("unknown provider"))?;
        let number = |text: &str, digits: usize| -> Result<u32, NotAnArchiveKey> {
            if text.len() != digits || !text.bytes().all(|b| b.is_ascii_digit()) {
                return Err(fail("date segments must be zero-padded numbers"));
            }
            text.parse()
                .map_err(|_| fail("date segments must be zero-padded numbers"))
        };
        let time = UtcDateTime {
            year: i64::from(number(year, 4)?),
            month: number(month, 2)?,
            day: number(day, 2)?,
            hour: number(hour, 2)?,
            minute: 0,
            second: 0,
            millisecond: 0,
        };
        let start = time.to_epoch_millis();
        if UtcDateTime::from_epoch_millis(start) != time {
            return Err(fail("not a real date and hour"));
        }
        let event_id = file
            .strip_suffix(".json")
            .ok_or_else(|| fail("the file is not <event id>.json"))?;
        if !is_valid_event_id(event_id) {
            return Err(fail("not a provider event id"));
        }
        Ok(ArchiveKey {
            provider,
            hour: ArchiveHour { start },
            event_id: event_id.to_owned(),
        })
    }
}

impl fmt::Display for ArchiveKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{}.json",
            ArchiveKey::hour_prefix(self.provider, self.hour),
            self.event_id
        )
    }
}

/// The hours a time window touches, first to last (inclusive of a partial last hour).
pub fn hours_between(from: EpochMillis, to: EpochMillis) -> Vec<ArchiveHour> {
    let mut hours = Vec::new();
    if to < from {
        return hours;
    }
    let mut hour = ArchiveHour::containing(from);
    while hour.start <= to {
        hours.push(hour);
        hour = hour.next();
    }
    hours
}

/// The archived object: the envelope, with a format version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArchivedWebhook {
    pub format: u32,
    #[serde(flatten)]
    pub envelope: WebhookEnvelope,
}

pub const ARCHIVE_FORMAT: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArchiveObjectError {
    #[error("not an archived webhook: {0}")]
    Malformed(String),
    #[error("archive format {0} is newer than this build understands ({ARCHIVE_FORMAT})")]
    TooNew(u32),
    #[error("the object at {key} holds event {event_id} of {provider}, not the one its key names")]
    KeyMismatch {
        key: String,
        provider: Provider,
        event_id: String,
    },
}

impl ArchivedWebhook {
    pub fn to_json(envelope: &WebhookEnvelope) -> Vec<u8> {
        serde_json::to_vec(&ArchivedWebhook {
            format: ARCHIVE_FORMAT,
            envelope: envelope.clone(),
        })
        .expect("an envelope always serialises")
    }

    /// Reads an archived object, checking it is the webhook its key names.
    pub fn parse(key: &ArchiveKey, bytes: &[u8]) -> Result<WebhookEnvelope, ArchiveObjectError> {
        let archived: ArchivedWebhook = serde_json::from_slice(bytes)
            .map_err(|e| ArchiveObjectError::Malformed(e.to_string()))?;
        if archived.format > ARCHIVE_FORMAT {
            return Err(ArchiveObjectError::TooNew(archived.format));
        }
        let envelope = archived.envelope;
        if ArchiveKey::for_envelope(&envelope) != *key {
            return Err(ArchiveObjectError::KeyMismatch {
                key: key.to_string(),
                provider: envelope.provider,
                event_id: envelope.event_id,
            });
        }
        Ok(envelope)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn envelope(provider: Provider, event_id: &str, received_at: EpochMillis) -> WebhookEnvelope {
        WebhookEnvelope {
            provider,
            event_id: event_id.into(),
            event_type: "payment_intent.succeeded".into(),
            received_at,
            request_id: Some("req".into()),
            signature_headers: BTreeMap::from([("stripe-signature".into(), "t=1,v1=00".into())]),
            body: "{\"id\": \"evt_1\",\n \"emoji\": \"💳\", \"escaped\": \"a\\u0000b\"}  ".into(),
        }
    }

    #[test]
    fn keys_follow_the_layout_in_utc() {
        // 2026-11-29T03:34:10.123Z
        let e = envelope(Provider::Stripe, "evt_1", 1_795_923_250_123);
        assert_eq!(
            ArchiveKey::for_envelope(&e).to_string(),
            "webhooks/stripe/2026/11/29/03/evt_1.json"
        );
    }

    #[test]
    fn parse_of_key_for_is_the_identity() {
        let instants = [
            0,
            1_795_923_250_123,
            951_782_399_999,
            951_782_400_000,
            4_102_444_799_999,
        ];
        for provider in Provider::ALL {
            for at in instants {
                let key = ArchiveKey::for_envelope(&envelope(provider, "WH-1A2B-3C_d", at));
                assert_eq!(ArchiveKey::parse(&key.to_string()), Ok(key.clone()));
            }
        }
    }

    #[test]
    fn malformed_keys_are_refused_with_a_reason() {
        for key in [
            "webhooks/stripe/2026/11/29/03",
            "archive/stripe/2026/11/29/03/evt_1.json",
            "webhooks/adyen/2026/11/29/03/evt_1.json",
            "webhooks/stripe/2026/13/29/03/evt_1.json",
            "webhooks/stripe/2026/02/30/03/evt_1.json",
            "webhooks/stripe/2026/11/29/24/evt_1.json",
            "webhooks/stripe/2026/11/9/03/evt_1.json",
            "webhooks/stripe/2026/11/29/03/evt_1.txt",
            "webhooks/stripe/2026/11/29/03/..json",
        ] {
            assert!(ArchiveKey::parse(key).is_err(), "{key}");
        }
    }

    #[test]
    fn the_archived_object_round_trips_the_body_byte_for_byte() {
        let e = envelope(Provider::Stripe, "evt_1", 1_795_923_250_123);
        let key = ArchiveKey::for_envelope(&e);
        let bytes = ArchivedWebhook::to_json(&e);
        assert_eq!(ArchivedWebhook::parse(&key, &bytes), Ok(e.clone()));
        let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(json["format"], 1);
        assert_eq!(json["eventId"], "evt_1");
        assert_eq!(json["body"].as_str().unwrap(), e.body);
    }

    #[test]
    fn an_object_under_the_wrong_key_is_refused() {
        let e = envelope(Provider::Stripe, "evt_1", 0);
        let other = ArchiveKey::for_envelope(&envelope(Provider::Stripe, "evt_2", 0));
        assert!(matches!(
            ArchivedWebhook::parse(&other, &ArchivedWebhook::to_json(&e)),
            Err(ArchiveObjectError::KeyMismatch { .. })
        ));
        assert!(matches!(
            ArchivedWebhook::parse(&other, b"{not json"),
            Err(ArchiveObjectError::Malformed(_))
        ));
    }

    #[test]
    fn a_window_touches_each_hour_once() {
        let hour = 3_600_000;
        assert_eq!(hours_between(0, 0).len(), 1);
        assert_eq!(hours_between(0, hour - 1).len(), 1);
        assert_eq!(hours_between(0, hour).len(), 2);
        assert_eq!(hours_between(hour / 2, 3 * hour + 1).len(), 4);
        assert!(hours_between(hour, 0).is_empty());
        assert_eq!(
            ArchiveKey::hour_prefix(Provider::Paypal, ArchiveHour::containing(1_795_923_250_123)),
            "webhooks/paypal/2026/11/29/03/"
        );
    }
}
