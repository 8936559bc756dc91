//! The processor: a batch of queued webhooks becomes ledger items. For each message: envelope →
//! verify the provider signature → normalise → conditional put. A redelivered or replayed event
//! finds its item already there: a no-op, not an error.
//!
//! Permanent failures (malformed, unsigned, badly signed, unknown provider…) go straight to the
//! dead-letter queue with the reason as message attributes, instead of blocking their message
//! group for three visibility timeouts. Transient failures (ledger, key store or certificate
//! host unavailable) are reported as batch item failures, keeping FIFO order: the failed message
//! and every later message of its group are retried; other groups go on.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::future::join_all;
use mgrid_contract::decision::{DecisionLine, Level};
use mgrid_contract::envelope::{attribute, claimed_event_id};
use mgrid_contract::ledger::{MAX_ITEM_BYTES, item_size, ledger_item};
use mgrid_contract::signature::{PaypalTransmission, verify_paypal, verify_stripe};
use mgrid_contract::{
    FailureReason, Provider, Rejected, StageName, TransactionRecord, WebhookEnvelope,
};

use crate::cache::{CertificateCache, RingCache};
use crate::ports::{Certificates, Clock, DeadLetters, InboundMessage, Insert, KeyStore, Ledger};

/// What became of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A new ledger item.
    Recorded,
    /// The ledger already had it (redelivery, redrive or replay).
    Duplicate,
    /// Permanently bad: now in the dead-letter queue with this reason.
    DeadLettered(FailureReason),
    /// Not done; the queue delivers it again. The cause names what was unavailable.
    Retry(RetryCause),
    /// Not tried: an earlier message of its group is being retried, and order must hold.
    HeldForOrder,
}

impl Outcome {
    /// The outcome as a decision line names it, its level, and its reason.
    fn decision(&self) -> (&'static str, Level, Option<String>) {
        match self {
            Outcome::Recorded => ("recorded", Level::Info, None),
            Outcome::Duplicate => ("duplicate", Level::Info, None),
            Outcome::DeadLettered(reason) => (
                "dead-lettered",
                Level::Warn,
                Some(reason.as_str().to_owned()),
            ),
            Outcome::Retry(cause) => ("retry", Level::Warn, Some(cause.as_str().to_owned())),
            Outcome::HeldForOrder => ("held-for-order", Level::Info, None),
        }
    }
}

/// Why a message goes back to the queue: what was unavailable, or that an earlier message of
/// its group is going back. The `Reason` of its `FailedWebhooks` metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RetryCause {
    LedgerUnavailable,
    SecretsUnavailable,
    CertificateUnavailable,
    DlqUnavailable,
    HeldForOrder,
}

impl RetryCause {
    pub const ALL: [RetryCause; 5] = [
        RetryCause::LedgerUnavailable,
        RetryCause::SecretsUnavailable,
        RetryCause::CertificateUnavailable,
        RetryCause::DlqUnavailable,
        RetryCause::HeldForOrder,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RetryCause::LedgerUnavailable => "ledger-unavailable",
            RetryCause::SecretsUnavailable => "secrets-unavailable",
            RetryCause::CertificateUnavailable => "certificate-unavailable",
            RetryCause::DlqUnavailable => "dlq-unavailable",
            RetryCause::HeldForOrder => "held-for-order",
        }
    }
}

/// The result of a batch: which messages to report as failed, and counts for metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchReport {
    /// Message ids for the `batchItemFailures` response, in batch order.
    pub failed: Vec<String>,
    pub recorded: usize,
    pub duplicates: usize,
    pub dead_lettered: BTreeMap<FailureReason, usize>,
    pub retried: BTreeMap<RetryCause, usize>,
    /// One line per message, in batch order, for the function's log.
    pub decisions: Vec<DecisionLine>,
}

pub struct Processor<L, D, K, C> {
    stage: StageName,
    ledger: L,
    dead_letters: D,
    secrets: RingCache<K>,
    certificates: CertificateCache<C>,
    clock: Arc<dyn Clock>,
}

/// What became of a message, how long it took, and (for a dead letter) why in a sentence.
struct Decided {
    outcome: Outcome,
    took_ms: Option<u64>,
    dead_letter_detail: Option<String>,
}

/// The log line of one message's decision (a message without an answer was held for order).
fn decision_line(message: &InboundMessage, decided: Option<&Decided>, now: i64) -> DecisionLine {
    let outcome = decided.map_or(&Outcome::HeldForOrder, |d| &d.outcome);
    let (name, level, reason) = outcome.decision();
    let mut line = DecisionLine::new(now, level, "processor", name);
    if let Some(detail) = decided.and_then(|d| d.dead_letter_detail.as_deref()) {
        line = line.with_detail(detail);
    }
    line.event_id = claimed_event_id(&message.body);
    line.provider = message.attributes.get(attribute::PROVIDER).cloned();
    line.group = Some(mgrid_contract::untrusted::printable(&message.group_id).into_owned());
    line.request_id = message.attributes.get(attribute::REQUEST_ID).cloned();
    line.reason = reason;
    line.receive_count = Some(message.receive_count);
    line.duration_ms = decided.and_then(|d| d.took_ms);
    line
}

enum Step {
    Reject(Rejected),
    Retry(RetryCause),
}

impl From<Rejected> for Step {
    fn from(rejected: Rejected) -> Step {
        Step::Reject(rejected)
    }
}

impl<L: Ledger, D: DeadLetters, K: KeyStore, C: Certificates> Processor<L, D, K, C> {
    pub fn new(
        stage: StageName,
        ledger: L,
        dead_letters: D,
        key_store: K,
        certificates: C,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Processor {
            stage,
            ledger,
            dead_letters,
            secrets: RingCache::new(key_store),
            certificates: CertificateCache::new(certificates),
            clock,
        }
    }

    /// Processes a batch: groups run concurrently, each group in order.
    pub async fn process(&self, batch: &[InboundMessage]) -> BatchReport {
        let mut groups: Vec<(&str, Vec<&InboundMessage>)> = Vec::new();
        for message in batch {
            match groups
                .iter_mut()
                .find(|(group, _)| *group == message.group_id)
            {
                Some((_, messages)) => messages.push(message),
                None => groups.push((&message.group_id, vec![message])),
            }
        }
        let results = join_all(
            groups
                .into_iter()
                .map(|(_, messages)| self.process_group(messages)),
        )
        .await;
        let outcomes: BTreeMap<&str, Decided> = results.into_iter().flatten().collect();

        let mut report = BatchReport::default();
        let now = self.clock.now();
        for message in batch {
            let decided = outcomes.get(message.message_id.as_str());
            report.decisions.push(decision_line(message, decided, now));
            match decided.map(|d| &d.outcome) {
                Some(Outcome::Recorded) => report.recorded += 1,
                Some(Outcome::Duplicate) => report.duplicates += 1,
                Some(Outcome::DeadLettered(reason)) => {
                    *report.dead_lettered.entry(*reason).or_default() += 1
                }
                Some(Outcome::Retry(cause)) => {
                    *report.retried.entry(*cause).or_default() += 1;
                    report.failed.push(message.message_id.clone());
                }
                Some(Outcome::HeldForOrder) | None => {
                    *report.retried.entry(RetryCause::HeldForOrder).or_default() += 1;
                    report.failed.push(message.message_id.clone());
                }
            }
        }
        report
    }

    async fn process_group<'m>(
        &self,
        messages: Vec<&'m InboundMessage>,
    ) -> Vec<(&'m str, Decided)> {
        let mut outcomes = Vec::with_capacity(messages.len());
        let mut blocked = false;
        for message in messages {
            let started = std::time::Instant::now();
            let (outcome, detail, took) = if blocked {
                (Outcome::HeldForOrder, None, None)
            } else {
                let (outcome, detail) = self.decide(message).await;
                (outcome, detail, Some(started.elapsed().as_millis() as u64))
            };
            blocked |= matches!(outcome, Outcome::Retry(_));
            outcomes.push((
                message.message_id.as_str(),
                Decided {
                    outcome,
                    took_ms: took,
                    dead_letter_detail: detail,
                },
            ));
        }
        outcomes
    }

    pub async fn process_one(&self, message: &InboundMessage) -> Outcome {
        self.decide(message).await.0
    }

    /// The outcome, and for a dead letter the sentence that says why.
    async fn decide(&self, message: &InboundMessage) -> (Outcome, Option<String>) {
        let (item, envelope) = match self.prepare(message).await {
            Ok(prepared) => prepared,
            Err(Step::Retry(cause)) => return (Outcome::Retry(cause), None),
            Err(Step::Reject(rejected)) => {
                let detail = rejected.detail.clone();
                let outcome = self.dead_letter(message, rejected).await;
                let detail = matches!(outcome, Outcome::DeadLettered(_)).then_some(detail);
                return (outcome, detail);
            }
        };
        let outcome = match self.ledger.insert(&item).await {
            Ok(Insert::Written) => Outcome::Recorded,
            Ok(Insert::AlreadyPresent) => Outcome::Duplicate,
            Err(error) => {
                tracing::warn!(event_id = %envelope.event_id, %error, "ledger write failed; the message will be retried");
                Outcome::Retry(RetryCause::LedgerUnavailable)
            }
        };
        (outcome, None)
    }

    async fn prepare(
        &self,
        message: &InboundMessage,
    ) -> Result<(mgrid_contract::ledger::Item, WebhookEnvelope), Step> {
        let envelope = WebhookEnvelope::from_queue_message(&message.body, &message.attributes)?;
        self.verify(&envelope).await?;
        let record = TransactionRecord::from_envelope(&envelope)?;
        let mut item = ledger_item(&record, &envelope);
        // When the legs after the ledger could start: a backlog makes it later than receipt.
        item.insert(
            mgrid_contract::settlement::RECORDED_AT.to_owned(),
            mgrid_contract::ledger::Attribute::N(self.clock.now().to_string()),
        );
        if item_size(&item) > MAX_ITEM_BYTES {
            return Err(Step::Reject(Rejected::new(
                FailureReason::TooLarge,
                format!(
                    "the webhook makes a {} KB ledger item (DynamoDB allows 400 KB)",
                    item_size(&item) / 1024
                ),
            )));
        }
        Ok((item, envelope))
    }

    async fn verify(&self, envelope: &WebhookEnvelope) -> Result<(), Step> {
        let ring = self
            .secrets
            .ring(&self.stage.signing_secret_ring(envelope.provider), self.clock.as_ref())
            .await
            .map_err(|error| {
                tracing::warn!(%error, "cannot read the signing secrets; the message will be retried");
                Step::Retry(RetryCause::SecretsUnavailable)
            })?;
        let secrets = ring
            .as_ref()
            .map(|r| r.valid_secrets(self.clock.now()))
            .unwrap_or_default();
        match envelope.provider {
            Provider::Stripe => verify_stripe(envelope, &secrets)?,
            Provider::Paypal => {
                let transmission = PaypalTransmission::from_envelope(envelope)?;
                if secrets.is_empty() {
                    // Permanent until an operator sets one: no certificate fetch for nothing.
                    return Err(Step::Reject(Rejected::new(
                        FailureReason::NoSigningSecret,
                        "the stage has no PayPal webhook id",
                    )));
                }
                let certificate = self
                    .certificates
                    .certificate(&transmission.cert_url, self.clock.as_ref())
                    .await
                    .map_err(|error| {
                        tracing::warn!(%error, "cannot fetch the PayPal certificate; the message will be retried");
                        Step::Retry(RetryCause::CertificateUnavailable)
                    })?;
                verify_paypal(envelope, &secrets, &certificate)?;
            }
        }
        Ok(())
    }

    async fn dead_letter(&self, message: &InboundMessage, rejected: Rejected) -> Outcome {
        tracing::warn!(message_id = %message.message_id, reason = %rejected.reason, detail = %mgrid_contract::untrusted::printable(&rejected.detail), "dead-lettering a permanently bad webhook");
        match self
            .dead_letters
            .dead_letter(message, rejected.reason, &rejected.detail)
            .await
        {
            Ok(()) => Outcome::DeadLettered(rejected.reason),
            Err(error) => {
                tracing::warn!(%error, "the dead-letter queue refused the message; it will be retried");
                Outcome::Retry(RetryCause::DlqUnavailable)
            }
        }
    }
}
