//! Dead letters as an operator sees them, and the decisions of a redrive, as pure functions:
//! what a dead-lettered message is (provider, event, why it failed), which ones a filter takes,
//! and how a received batch is split so that each message group keeps its order.
//!
//! FIFO rules this follows: SQS hands out a group's messages in order and none past a message
//! that is in flight, so a group whose first message is not taken is left whole (moving later
//! messages ahead of it would reorder the group); every move gets a deduplication id of its own,
//! the same for a retry within a run (SQS then drops the repeat) and new for the next run.

use std::collections::BTreeMap;

use mgrid_contract::envelope::attribute;
use mgrid_contract::{EpochMillis, FailureReason, Provider, WebhookEnvelope};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// A message attribute as SQS holds it: its data type (`String`, `Number`, `Binary`, or one
/// with a custom suffix) and its value, carried over unchanged by a redrive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    pub data_type: String,
    pub text: Option<String>,
    pub binary: Option<Vec<u8>>,
}

impl Attribute {
    pub fn text(data_type: &str, value: &str) -> Attribute {
        Attribute {
            data_type: data_type.to_owned(),
            text: Some(value.to_owned()),
            binary: None,
        }
    }
}

/// A message as read from the dead-letter queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    pub message_id: String,
    pub receipt_handle: String,
    pub body: String,
    pub attributes: BTreeMap<String, Attribute>,
    pub group_id: String,
    pub deduplication_id: Option<String>,
    pub receive_count: u32,
    pub sent_at: Option<EpochMillis>,
}

/// What an operator needs to know about a dead letter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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

    pub fn view(&self) -> DeadLetterView {
        let attributes = self.text_attributes();
        let envelope = WebhookEnvelope::from_queue_message(&self.body, &attributes);
        let (event_id, event_type) = match &envelope {
            Ok(envelope) => (
                Some(envelope.event_id.clone()),
                Some(envelope.event_type.clone()),
            ),
            Err(_) => (self.deduplication_id.clone(), None),
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
#[serde(rename_all = "camelCase")]
pub struct Filter {
    pub provider: Option<Provider>,
    pub event_type: Option<String>,
    pub reason: Option<String>,
    /// Only messages first sent before this instant.
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

/// How one received batch is handled.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchPlan {
    /// Indexes of messages to copy to the webhook queue, in batch order.
    pub move_: Vec<usize>,
    /// Indexes of messages to make visible again at once, untouched.
    pub release: Vec<usize>,
    /// Groups left whole because their first message is not taken.
    pub held_groups: Vec<String>,
}

/// Splits a batch (in the order SQS returned it): a message is moved when it matches and no
/// earlier message of its group in this run was left behind; `budget` caps how many move.
pub fn plan_batch(
    batch: &[DeadLetter],
    filter: &Filter,
    held: &mut std::collections::BTreeSet<String>,
    budget: &mut Option<usize>,
) -> BatchPlan {
    let mut plan = BatchPlan::default();
    for (index, message) in batch.iter().enumerate() {
        let group_held = held.contains(&message.group_id);
        let wanted = !group_held && filter.matches(&message.view()) && budget.is_none_or(|b| b > 0);
        if wanted {
            plan.move_.push(index);
            if let Some(b) = budget.as_mut() {
                *b -= 1;
            }
        } else {
            if !group_held {
                held.insert(message.group_id.clone());
                plan.held_groups.push(message.group_id.clone());
            }
            plan.release.push(index);
        }
    }
    plan
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

/// A deduplication id for moving `message` in run `run_id`: stable within the run (a resend
/// after a timeout is dropped by SQS), different in the next run (not swallowed by the 5-minute
/// window because an earlier run moved the same event).
pub fn move_deduplication_id(run_id: &str, message: &DeadLetter) -> String {
    let digest = Sha256::digest(format!("{run_id}\0{}", message.message_id));
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// Counts by provider and reason, for `dlq stats`.
pub fn breakdown(views: &[DeadLetterView]) -> BTreeMap<(String, String), usize> {
    let mut counts = BTreeMap::new();
    for view in views {
        let provider = view.provider.clone().unwrap_or_else(|| "unknown".into());
        *counts.entry((provider, view.reason.clone())).or_default() += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

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
    }

    #[test]
    fn a_group_whose_first_message_stays_is_left_whole() {
        let batch = [
            letter("1", "A", "stripe", Some("bad-signature"), 1),
            letter("2", "B", "paypal", None, 1),
            letter("3", "A", "stripe", Some("no-signing-secret"), 1),
            letter("4", "B", "paypal", Some("no-signing-secret"), 1),
            letter("5", "C", "stripe", Some("no-signing-secret"), 1),
        ];
        let filter = Filter {
            reason: Some("no-signing-secret".into()),
            ..Filter::default()
        };
        let mut held = BTreeSet::new();
        let plan = plan_batch(&batch, &filter, &mut held, &mut None);
        assert_eq!(
            plan.move_,
            [4],
            "only C: A and B start with messages that stay"
        );
        assert_eq!(plan.release, [0, 1, 2, 3]);
        assert_eq!(plan.held_groups, ["A", "B"]);
        // A later batch does not move A or B past the messages they are held behind.
        let later = [letter("6", "A", "stripe", Some("no-signing-secret"), 1)];
        assert_eq!(
            plan_batch(&later, &filter, &mut held, &mut None).move_,
            Vec::<usize>::new()
        );
    }

    #[test]
    fn the_budget_caps_the_moves_and_keeps_order_behind_it() {
        let batch = [
            letter("1", "A", "stripe", None, 1),
            letter("2", "A", "stripe", None, 1),
            letter("3", "B", "stripe", None, 1),
        ];
        let mut held = BTreeSet::new();
        let plan = plan_batch(&batch, &Filter::default(), &mut held, &mut Some(1));
        assert_eq!(plan.move_, [0]);
        assert_eq!(plan.release, [1, 2]);
    }

    #[test]
    fn redriven_messages_lose_the_verdict_and_get_a_run_scoped_dedup_id() {
        let message = letter("1", "A", "stripe", Some("bad-signature"), 1);
        let attributes = redriven_attributes(&message);
        assert!(
            !attributes.contains_key("mgrid-failure-reason")
                && !attributes.contains_key("mgrid-failure-detail")
        );
        assert_eq!(
            attributes["mgrid-provider"],
            Attribute::text("String", "stripe")
        );
        assert_eq!(attributes["mgrid-received-at"].data_type, "Number");
        let first = move_deduplication_id("run-1", &message);
        assert_eq!(
            first,
            move_deduplication_id("run-1", &message),
            "a resend within the run is the same move"
        );
        assert_ne!(
            first,
            move_deduplication_id("run-2", &message),
            "the next run is a new move"
        );
        assert_eq!(first.len(), 32);
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
        let views: Vec<DeadLetterView> = [
            letter("1", "A", "stripe", Some("bad-signature"), 1),
            letter("2", "B", "stripe", Some("bad-signature"), 1),
            letter("3", "C", "paypal", None, 1),
        ]
        .iter()
        .map(DeadLetter::view)
        .collect();
        let counts = breakdown(&views);
        assert_eq!(
            counts[&("stripe".to_owned(), "bad-signature".to_owned())],
            2
        );
        assert_eq!(counts[&("paypal".to_owned(), MAX_RECEIVES.to_owned())], 1);
    }
}
