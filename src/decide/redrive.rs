//! Dead letters as an operator sees them, as pure functions: what a dead-lettered message is
//! (provider, event, why it failed), which ones a filter takes, and what a redrive run sends.
//!
//! The decisions of the move itself (group order, the budget, what comes back) are the move
//! engine's (src/decide/move_engine.rs); here is what a dead letter is, and how a run marks its copies.

use std::collections::BTreeMap;

use mgrid_contract::envelope::attribute;
use mgrid_contract::{EpochMillis, FailureReason, Provider, WebhookEnvelope};

use crate::decide::move_engine::Origin;
use crate::decide::values::Outgoing;
pub use crate::decide::values::{Attribute, DeadLetter};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// What an operator needs to know about a dead letter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct DeadLetterView {
    pub message_id: String,
    pub group_id: String,
    pub provider: Option<String>,
    pub event_id: Option<String>,
    pub event_type: Option<String>,
    /// The processor's reason, or `max-receives` when the queue moved it after ten failed
    /// deliveries (transient failures that never cleared).
    pub reason: String,
    pub detail: Option<String>,
    pub receive_count: u32,
    #[serde(serialize_with = "crate::clock::rfc3339_option")]
    #[cfg_attr(test, schemars(with = "Option<crate::clock::Rfc3339>"))]
    pub sent_at: Option<EpochMillis>,
    /// The body is not a webhook the processor could read (still movable).
    pub malformed: bool,
    pub body_bytes: usize,
}

/// The reason of a message the queue itself dead-lettered after too many receives.
pub const MAX_RECEIVES: &str = "max-receives";

impl DeadLetter {
    /// The attributes that hold text (strings and numbers), as the processor reads them.
    pub fn text_attributes(&self) -> BTreeMap<String, String> {
        self.attributes
            .iter()
            .filter_map(|(name, a)| a.text.clone().map(|t| (name.clone(), t)))
            .collect()
    }

    /// The ledger key the processor would record this webhook under, when its body is a
    /// webhook it can read.
    pub fn transaction_id(&self) -> Option<String> {
        let attributes = self.text_attributes();
        WebhookEnvelope::from_queue_message(&self.body, &attributes)
            .ok()
            .map(|envelope| envelope.transaction_id())
    }

    pub fn view(&self) -> DeadLetterView {
        let attributes = self.text_attributes();
        let envelope = WebhookEnvelope::from_queue_message(&self.body, &attributes);
        let (event_id, event_type) = match &envelope {
            Ok(envelope) => (
                Some(envelope.event_id.clone()),
                Some(envelope.event_type.clone()),
            ),
            // The id the body claims; else the ingress's deduplication id, which is the event
            // id unless a redrive replaced it.
            Err(_) => (
                mgrid_contract::envelope::claimed_event_id(&self.body).or_else(|| {
                    self.deduplication_id
                        .clone()
                        .filter(|id| !id.starts_with(MARK_PREFIX))
                }),
                None,
            ),
        };
        DeadLetterView {
            message_id: self.message_id.clone(),
            group_id: self.group_id.clone(),
            provider: attributes.get(attribute::PROVIDER).cloned(),
            event_id,
            event_type,
            reason: attributes
                .get(attribute::FAILURE_REASON)
                .cloned()
                .unwrap_or_else(|| MAX_RECEIVES.to_owned()),
            detail: attributes.get(attribute::FAILURE_DETAIL).cloned(),
            receive_count: self.receive_count,
            sent_at: self.sent_at,
            malformed: envelope.is_err(),
            body_bytes: self.body.len(),
        }
    }
}

/// Which dead letters a redrive takes. Empty fields take everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Filter {
    pub provider: Option<Provider>,
    /// Only this event (a provider's event id).
    pub event_id: Option<String>,
    pub event_type: Option<String>,
    pub reason: Option<String>,
    /// Only messages first sent before this instant.
    #[serde(serialize_with = "crate::clock::rfc3339_option")]
    #[cfg_attr(test, schemars(with = "Option<crate::clock::Rfc3339>"))]
    pub sent_before: Option<EpochMillis>,
}

impl Filter {
    pub fn is_empty(&self) -> bool {
        *self == Filter::default()
    }

    pub fn matches(&self, view: &DeadLetterView) -> bool {
        self.provider
            .is_none_or(|p| view.provider.as_deref() == Some(p.as_str()))
            && self
                .event_id
                .as_ref()
                .is_none_or(|id| view.event_id.as_ref() == Some(id))
            && self
                .event_type
                .as_ref()
                .is_none_or(|t| view.event_type.as_ref() == Some(t))
            && self.reason.as_ref().is_none_or(|r| &view.reason == r)
            && self
                .sent_before
                .is_none_or(|before| view.sent_at.is_some_and(|sent| sent < before))
    }
}

/// Checks a `--reason` the way the processor names reasons.
pub fn parse_reason(text: &str) -> Result<String, String> {
    if text == MAX_RECEIVES || text.parse::<FailureReason>().is_ok() {
        Ok(text.to_owned())
    } else {
        let known: Vec<&str> = FailureReason::ALL
            .iter()
            .map(|r| r.as_str())
            .chain([MAX_RECEIVES])
            .collect();
        Err(format!(
            "unknown reason; the reasons are: {}",
            known.join(", ")
        ))
    }
}

/// The attributes a redriven message carries: the ones the ingress set, not the processor's
/// verdict on the last attempt.
pub fn redriven_attributes(message: &DeadLetter) -> BTreeMap<String, Attribute> {
    message
        .attributes
        .iter()
        .filter(|(name, _)| {
            name.as_str() != attribute::FAILURE_REASON && name.as_str() != attribute::FAILURE_DETAIL
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// What identifies a redrive run in what it sends: each copy's deduplication id begins with the
/// run's mark, and the processor and the queue's redrive policy keep the deduplication id when
/// they dead-letter a message again. With the run's start (SQS resets a FIFO message's enqueue
/// time when it moves to a dead-letter queue), that tells the run what was there before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunMark {
    run_id: String,
    started_at: EpochMillis,
}

/// Every run's mark starts so, and no provider event id does (`evt_…`, `WH-…`).
const MARK_PREFIX: &str = "mgrid-run-";

impl RunMark {
    pub fn new(run_id: &str, started_at: EpochMillis) -> RunMark {
        RunMark {
            run_id: run_id.to_owned(),
            started_at,
        }
    }

    fn prefix(&self) -> String {
        format!("{MARK_PREFIX}{}-", self.run_id)
    }

    /// The deduplication id of the copy of `message` in this run: the same for a resend within
    /// the run (SQS drops the repeat), another in the next run (not swallowed by the queue's
    /// 5-minute window because an earlier run moved the same event).
    pub fn deduplication_id(&self, message: &DeadLetter) -> String {
        let digest = Sha256::digest(format!("{}\0{}", self.run_id, message.message_id));
        let hash: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        format!("{}{hash}", self.prefix())
    }

    /// Where a dead letter comes from, relative to this run.
    pub fn origin(&self, letter: &DeadLetter) -> Origin {
        let ours = letter
            .deduplication_id
            .as_deref()
            .is_some_and(|id| id.starts_with(&self.prefix()));
        if ours {
            return Origin::CameBack {
                reason: letter.view().reason,
            };
        }
        if letter.sent_at.is_some_and(|at| at >= self.started_at) {
            return Origin::Arrived;
        }
        Origin::Before
    }

    /// The copy of `message` a redrive sends: body, group and the ingress's attributes, without
    /// the processor's verdict, with this run's deduplication id.
    pub fn copy(&self, message: &DeadLetter) -> Outgoing {
        Outgoing {
            body: message.body.clone(),
            group_id: message.group_id.clone(),
            deduplication_id: self.deduplication_id(message),
            attributes: redriven_attributes(message),
        }
    }
}

/// What `dlq stats` says of the dead letters it read, built one at a time (no bodies kept).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Breakdown {
    pub examined: usize,
    pub oldest_sent_at: Option<EpochMillis>,
    /// Counts by provider and reason.
    pub counts: BTreeMap<(String, String), usize>,
}

impl Breakdown {
    pub fn add(&mut self, view: &DeadLetterView) {
        self.examined += 1;
        if let Some(sent) = view.sent_at {
            self.oldest_sent_at = Some(self.oldest_sent_at.map_or(sent, |o| o.min(sent)));
        }
        let provider = view.provider.clone().unwrap_or_else(|| "unknown".into());
        *self
            .counts
            .entry((provider, view.reason.clone()))
            .or_default() += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn letter(
        id: &str,
        group: &str,
        provider: &str,
        reason: Option<&str>,
        sent_at: EpochMillis,
    ) -> DeadLetter {
        let mut attributes: BTreeMap<String, Attribute> = [
            (
                "mgrid-provider".to_owned(),
                Attribute::text("String", provider),
            ),
            (
                "mgrid-received-at".to_owned(),
                Attribute::text("Number", "1000"),
            ),
        ]
        .into();
        if let Some(reason) = reason {
            attributes.insert(
                "mgrid-failure-reason".into(),
                Attribute::text("String", reason),
            );
            attributes.insert(
                "mgrid-failure-detail".into(),
                Attribute::text("String", "why"),
            );
        }
        DeadLetter {
            message_id: id.into(),
            receipt_handle: format!("rh-{id}"),
            body: format!(r#"{{"id":"evt_{id}","type":"charge.refunded"}}"#),
            attributes,
            group_id: group.into(),
            deduplication_id: Some(format!("evt_{id}")),
            receive_count: 1,
            sent_at: Some(sent_at),
        }
    }

    #[test]
    fn a_dead_letter_shows_its_event_and_reason() {
        let view = letter("1", "stripe:pi_1", "stripe", Some("bad-signature"), 5).view();
        assert_eq!(view.event_id.as_deref(), Some("evt_1"));
        assert_eq!(view.event_type.as_deref(), Some("charge.refunded"));
        assert_eq!(view.reason, "bad-signature");
        assert!(!view.malformed);
        let mut broken = letter("2", "g", "stripe", None, 5);
        broken.body = "{not json".into();
        let view = broken.view();
        assert!(view.malformed);
        assert_eq!(view.reason, MAX_RECEIVES);
        assert_eq!(
            view.event_id.as_deref(),
            Some("evt_2"),
            "from the deduplication id"
        );
    }

    #[test]
    fn filters_combine() {
        let view = letter("1", "g", "paypal", Some("no-signing-secret"), 100).view();
        assert!(Filter::default().matches(&view));
        assert!(
            Filter {
                provider: Some(Provider::Paypal),
                ..Filter::default()
            }
            .matches(&view)
        );
        assert!(
            !Filter {
                provider: Some(Provider::Stripe),
                ..Filter::default()
            }
            .matches(&view)
        );
        assert!(
            Filter {
                reason: Some("no-signing-secret".into()),
                sent_before: Some(101),
                ..Filter::default()
            }
            .matches(&view)
        );
        assert!(
            !Filter {
                sent_before: Some(100),
                ..Filter::default()
            }
            .matches(&view)
        );
        assert!(
            !Filter {
                event_type: Some("payment_intent.succeeded".into()),
                ..Filter::default()
            }
            .matches(&view)
        );
        let id = view.event_id.clone().expect("the letter has an event id");
        assert!(
            Filter {
                event_id: Some(id),
                ..Filter::default()
            }
            .matches(&view)
        );
        assert!(
            !Filter {
                event_id: Some("evt_other".into()),
                ..Filter::default()
            }
            .matches(&view)
        );
    }

    #[test]
    fn a_copy_loses_the_verdict_and_carries_the_runs_mark() {
        let message = letter("1", "A", "stripe", Some("bad-signature"), 1);
        let run = RunMark::new("0123456789abcdef", 1_000);
        let copy = run.copy(&message);
        assert!(
            !copy.attributes.contains_key("mgrid-failure-reason")
                && !copy.attributes.contains_key("mgrid-failure-detail")
        );
        assert_eq!(
            copy.attributes["mgrid-provider"],
            Attribute::text("String", "stripe")
        );
        assert_eq!(copy.attributes["mgrid-received-at"].data_type, "Number");
        assert_eq!(
            (copy.body.as_str(), copy.group_id.as_str()),
            (message.body.as_str(), "A")
        );
        assert_eq!(
            copy.deduplication_id,
            run.deduplication_id(&message),
            "a resend within the run is the same move"
        );
        let next = RunMark::new("fedcba9876543210", 2_000);
        assert_ne!(
            copy.deduplication_id,
            next.deduplication_id(&message),
            "the next run is a new move"
        );
        assert!(copy.deduplication_id.len() <= 128);
    }

    #[test]
    fn a_run_tells_its_own_copies_and_newcomers_from_what_was_there() {
        let run = RunMark::new("0123456789abcdef", 1_000);
        let mut back = letter("1", "A", "stripe", Some("bad-signature"), 500);
        back.deduplication_id = Some(run.deduplication_id(&letter("0", "A", "stripe", None, 1)));
        assert_eq!(
            run.origin(&back),
            Origin::CameBack {
                reason: "bad-signature".into()
            },
            "recognised by its mark, whatever its timestamp"
        );
        assert_eq!(
            run.origin(&letter("2", "A", "stripe", None, 1_000)),
            Origin::Arrived
        );
        assert_eq!(
            run.origin(&letter("3", "A", "stripe", None, 999)),
            Origin::Before
        );
        let earlier_run = RunMark::new("fedcba9876543210", 0);
        let mut earlier = letter("4", "A", "stripe", None, 500);
        earlier.deduplication_id = Some(earlier_run.deduplication_id(&earlier));
        assert_eq!(
            run.origin(&earlier),
            Origin::Before,
            "another run's copy is the run's to move"
        );
        earlier.body = "not an event".into();
        assert_eq!(earlier.view().event_id, None, "a mark is not an event id");
    }

    #[test]
    fn reasons_are_checked() {
        assert!(parse_reason("bad-signature").is_ok());
        assert!(parse_reason("max-receives").is_ok());
        assert!(
            parse_reason("bad-sig")
                .unwrap_err()
                .contains("bad-signature")
        );
    }

    #[test]
    fn breakdown_counts_by_provider_and_reason() {
        let mut breakdown = Breakdown::default();
        for letter in [
            letter("1", "A", "stripe", Some("bad-signature"), 7),
            letter("2", "B", "stripe", Some("bad-signature"), 3),
            letter("3", "C", "paypal", None, 5),
        ] {
            breakdown.add(&letter.view());
        }
        assert_eq!((breakdown.examined, breakdown.oldest_sent_at), (3, Some(3)));
        let counts = breakdown.counts;
        assert_eq!(
            counts[&("stripe".to_owned(), "bad-signature".to_owned())],
            2
        );
        assert_eq!(counts[&("paypal".to_owned(), MAX_RECEIVES.to_owned())], 1);
    }
}
