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
    Retry(&'static str),
    /// Not tried: an earlier message of its group is being retried, and order must hold.
    HeldForOrder,
}

/// The result of a batch: which messages to report as failed, and counts for metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchReport {
    /// Message ids for the `batchItemFailures` response, in batch order.
    pub failed: Vec<String>,
    pub recorded: usize,
    pub duplicates: usize,
    pub dead_lettered: BTreeMap<FailureReason, usize>,
    pub retried: BTreeMap<&'static str, usize>,
}

pub struct Processor<L, D, K, C> {
    stage: StageName,
    ledger: L,
    dead_letters: D,
    secrets: RingCache<K>,
    certificates: CertificateCache<C>,
    clock: Arc<dyn Clock>,
}

enum Step {
    Reject(Rejected),
    Retry(&'static str),
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
        let outcomes: BTreeMap<&str, Outcome> = results.into_iter().flatten().collect();

        let mut report = BatchReport::default();
        for message in batch {
            match outcomes.get(message.message_id.as_str()) {
                Some(Outcome::Recorded) => report.recorded += 1,
                Some(Outcome::Duplicate) => report.duplicates += 1,
                Some(Outcome::DeadLettered(reason)) => {
                    *report.dead_lettered.entry(*reason).or_default() += 1
                }
                Some(Outcome::Retry(cause)) => {
                    *report.retried.entry(cause).or_default() += 1;
                    report.failed.push(message.message_id.clone());
                }
                Some(Outcome::HeldForOrder) | None => {
                    *report.retried.entry("held-for-order").or_default() += 1;
                    report.failed.push(message.message_id.clone());
                }
            }
        }
        report
    }

    async fn process_group<'m>(
        &self,
        messages: Vec<&'m InboundMessage>,
    ) -> Vec<(&'m str, Outcome)> {
        let mut outcomes = Vec::with_capacity(messages.len());
        let mut blocked = false;
        for message in messages {
            let outcome = if blocked {
                Outcome::HeldForOrder
            } else {
                self.process_one(message).await
            };
            blocked |= matches!(outcome, Outcome::Retry(_));
            outcomes.push((message.message_id.as_str(), outcome));
        }
        outcomes
    }

    pub async fn process_one(&self, message: &InboundMessage) -> Outcome {
        let (item, envelope) = match self.prepare(message).await {
            Ok(prepared) => prepared,
            Err(Step::Retry(cause)) => return Outcome::Retry(cause),
            Err(Step::Reject(rejected)) => return self.dead_letter(message, rejected).await,
        };
        match self.ledger.insert(&item).await {
            Ok(Insert::Written) => Outcome::Recorded,
            Ok(Insert::AlreadyPresent) => Outcome::Duplicate,
            Err(error) => {
                tracing::warn!(event_id = %envelope.event_id, %error, "ledger write failed; the message will be retried");
                Outcome::Retry("ledger-unavailable")
            }
        }
    }

    async fn prepare(
        &self,
        message: &InboundMessage,
    ) -> Result<(mgrid_contract::ledger::Item, WebhookEnvelope), Step> {
        let envelope = WebhookEnvelope::from_queue_message(&message.body, &message.attributes)?;
        self.verify(&envelope).await?;
        let record = TransactionRecord::from_envelope(&envelope)?;
        let item = ledger_item(&record, &envelope);
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
                Step::Retry("secrets-unavailable")
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
                        Step::Retry("certificate-unavailable")
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
                Outcome::Retry("dlq-unavailable")
            }
        }
    }
}
