//! An in-memory FIFO queue pair with the SQS semantics a redrive relies on: messages in order
//! within their group, nothing from a group that has a message in flight, holds that end,
//! receipts that go stale when a message is received again, and deduplication per group for
//! five minutes. A logical clock (milliseconds, one tick per call) decides visibility.
//!
//! For the move engine's property tests and its benchmark: a call can wait a fixed delay (a
//! region away), calls are counted, and the most calls in flight at once is kept. Faults can be
//! scripted per call: an entry refused, an answer lost (the sends applied or not), a processor
//! that sends copies straight back to the dead-letter queue, and a kill after which every call
//! hangs.

#![allow(dead_code)]

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use mgrid::decide::redrive::{Attribute, DeadLetter};
use mgrid::failure::{Failure, FailureKind};
use mgrid::ports::{BatchOutcome, DeadLetterQueue, Depth, MaybeSent, Outgoing, WebhookQueue};

const DEDUP_WINDOW_MS: i64 = 5 * 60_000;

#[derive(Debug, Clone)]
pub struct Stored {
    pub id: String,
    pub group: String,
    pub dedup: String,
    pub body: String,
    pub attributes: BTreeMap<String, Attribute>,
    pub sent_at: i64,
    visible_at: i64,
    receives: u32,
}

/// What the next send does, when scripted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendFault {
    /// The entry at this index is refused.
    RefuseEntry(usize),
    /// The answer is lost; the sends were applied (true) or not.
    LoseAnswer { applied: bool },
}

/// Whether the processor rejects a copy again.
pub type Verdict = Box<dyn Fn(&Outgoing) -> bool>;

/// Both queues of a stage, sharing one clock.
pub struct Pair {
    now: Cell<i64>,
    next_id: Cell<u64>,
    pub dlq: RefCell<Vec<Stored>>,
    pub webhooks: RefCell<Vec<Stored>>,
    dedup: RefCell<BTreeMap<(String, String), i64>>,
    delay: Option<Duration>,
    pub calls: Cell<usize>,
    /// Calls by kind (receive, send, delete, visibility, depth, purge).
    pub calls_by_kind: RefCell<BTreeMap<&'static str, usize>>,
    in_flight: Cell<usize>,
    pub most_in_flight: Cell<usize>,
    /// Scripted faults for the next sends, in order (none left: every send succeeds).
    pub send_faults: RefCell<VecDeque<SendFault>>,
    /// Copies (by deduplication id) the processor rejects at once: they land in the DLQ.
    pub rejected_by_processor: RefCell<Verdict>,
    /// Every call after this many hangs (the process was killed).
    pub kill_after: Cell<Option<usize>>,
    /// Past this many calls the run has not ended: a test fails rather than hangs.
    pub call_cap: Cell<usize>,
    /// What was enqueued by sends, in order (group, body): the webhook queue's and the copies
    /// the processor sent straight back.
    pub sent: RefCell<Vec<(String, String)>>,
    /// Groups a send took a later message of past a refused one (SQS judges entries alone).
    pub reordered: RefCell<std::collections::BTreeSet<String>>,
    /// Receives that ignore in-flight groups, as the emulator's racing receives sometimes do.
    pub racy_groups: Cell<bool>,
    /// When the last dead letter was deleted (the end of the moving, before the run's last
    /// receive finds the queue empty).
    pub last_delete: Cell<Option<std::time::Instant>>,
}

/// The dead-letter queue side of a pair.
pub struct Dlq<'a>(pub &'a Pair);
/// The webhook queue side of a pair.
pub struct Webhooks<'a>(pub &'a Pair);

impl Pair {
    pub fn new(delay: Option<Duration>) -> Pair {
        Pair {
            now: Cell::new(1_000_000),
            next_id: Cell::new(0),
            dlq: RefCell::new(Vec::new()),
            webhooks: RefCell::new(Vec::new()),
            dedup: RefCell::new(BTreeMap::new()),
            delay,
            calls: Cell::new(0),
            calls_by_kind: RefCell::new(BTreeMap::new()),
            in_flight: Cell::new(0),
            most_in_flight: Cell::new(0),
            send_faults: RefCell::new(VecDeque::new()),
            rejected_by_processor: RefCell::new(Box::new(|_| false)),
            kill_after: Cell::new(None),
            call_cap: Cell::new(usize::MAX),
            sent: RefCell::new(Vec::new()),
            reordered: RefCell::new(std::collections::BTreeSet::new()),
            racy_groups: Cell::new(false),
            last_delete: Cell::new(None),
        }
    }

    pub fn now(&self) -> i64 {
        self.now.get()
    }

    /// Time passes (a hold runs out, a process is gone).
    pub fn advance(&self, ms: i64) {
        self.now.set(self.now.get() + ms);
    }

    fn id(&self) -> String {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        format!("m{id:06}")
    }

    /// A dead letter the ingress queued and the processor gave up on, `age_ms` ago.
    pub fn dead_letter(&self, group: &str, body: &str, reason: &str, age_ms: i64) {
        let id = self.id();
        let attributes = BTreeMap::from([
            (
                "mgrid-provider".to_owned(),
                Attribute::text("String", "stripe"),
            ),
            (
                "mgrid-received-at".to_owned(),
                Attribute::text("Number", "1000"),
            ),
            (
                "mgrid-failure-reason".to_owned(),
                Attribute::text("String", reason),
            ),
        ]);
        self.dlq.borrow_mut().push(Stored {
            dedup: format!("evt_{id}"),
            id,
            group: group.into(),
            body: body.into(),
            attributes,
            sent_at: self.now() - age_ms,
            visible_at: 0,
            receives: 0,
        });
    }

    /// How many times each dead letter was received, in queue order.
    pub fn receive_counts(&self) -> Vec<u32> {
        self.dlq.borrow().iter().map(|m| m.receives).collect()
    }

    /// One call: the clock ticks, it waits its delay, and counts as in flight meanwhile.
    async fn call(&self, kind: &'static str) {
        self.calls.set(self.calls.get() + 1);
        *self.calls_by_kind.borrow_mut().entry(kind).or_default() += 1;
        assert!(
            self.calls.get() <= self.call_cap.get(),
            "the run did not end within {} calls",
            self.call_cap.get()
        );
        if self
            .kill_after
            .get()
            .is_some_and(|after| self.calls.get() > after)
        {
            std::future::pending::<()>().await;
        }
        self.now.set(self.now.get() + 1);
        self.in_flight.set(self.in_flight.get() + 1);
        self.most_in_flight
            .set(self.most_in_flight.get().max(self.in_flight.get()));
        if let Some(delay) = self.delay {
            tokio::time::sleep(self.spread(delay)).await;
        }
        self.in_flight.set(self.in_flight.get() - 1);
    }

    /// Calls take more or less than their nominal time, as real ones do: between half and one
    /// and a half times it (a fixed spread over the calls, so a run repeats).
    fn spread(&self, nominal: Duration) -> Duration {
        let factor = 50 + (self.calls.get() * 37 % 101) as u32;
        nominal * factor / 100
    }

    fn enqueue(&self, queue: &RefCell<Vec<Stored>>, message: &Outgoing) {
        let key = (message.group_id.clone(), message.deduplication_id.clone());
        let now = self.now();
        let mut dedup = self.dedup.borrow_mut();
        if dedup.get(&key).is_some_and(|at| now - at < DEDUP_WINDOW_MS) {
            return;
        }
        dedup.insert(key, now);
        self.sent
            .borrow_mut()
            .push((message.group_id.clone(), message.body.clone()));
        queue.borrow_mut().push(Stored {
            id: self.id(),
            group: message.group_id.clone(),
            dedup: message.deduplication_id.clone(),
            body: message.body.clone(),
            attributes: message.attributes.clone(),
            sent_at: now,
            visible_at: 0,
            receives: 0,
        });
    }

    /// Bodies in a queue, by group, in queue order.
    pub fn bodies_by_group(queue: &RefCell<Vec<Stored>>) -> BTreeMap<String, Vec<String>> {
        let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for message in queue.borrow().iter() {
            groups
                .entry(message.group.clone())
                .or_default()
                .push(message.body.clone());
        }
        groups
    }
}

fn receipt(message: &Stored) -> String {
    format!("{}:{}", message.id, message.receives)
}

impl DeadLetterQueue for Dlq<'_> {
    async fn depth(&self) -> Result<Depth, Failure> {
        self.0.call("depth").await;
        let now = self.0.now();
        let dlq = self.0.dlq.borrow();
        let in_flight = dlq.iter().filter(|m| m.visible_at > now).count() as u64;
        Ok(Depth {
            visible: dlq.len() as u64 - in_flight,
            in_flight,
            arn: String::new(),
        })
    }

    async fn receive(&self, max: usize, hold_seconds: u32) -> Result<Vec<DeadLetter>, Failure> {
        self.0.call("receive").await;
        let received = self.take(max, hold_seconds);
        if !received.is_empty() || self.0.delay.is_none() {
            return Ok(received);
        }
        // A long poll, as the SQS adapter asks for (one second): it waits before answering
        // empty, and answers with what became visible meanwhile.
        tokio::time::sleep(self.0.spread(Duration::from_secs(1))).await;
        Ok(self.take(max, hold_seconds))
    }

    async fn delete(&self, letters: &[&DeadLetter]) -> Result<BatchOutcome, Failure> {
        self.delete_now(letters).await
    }

    async fn set_visibility(&self, letters: &[&DeadLetter], seconds: u32) -> Result<(), Failure> {
        self.set_visibility_now(letters, seconds).await
    }

    async fn purge(&self) -> Result<Option<u64>, Failure> {
        self.0.call("purge").await;
        let mut dlq = self.0.dlq.borrow_mut();
        let purged = dlq.len() as u64;
        dlq.clear();
        Ok(Some(purged))
    }
}

impl Dlq<'_> {
    fn take(&self, max: usize, hold_seconds: u32) -> Vec<DeadLetter> {
        let now = self.0.now();
        let mut dlq = self.0.dlq.borrow_mut();
        let blocked: std::collections::BTreeSet<String> = if self.0.racy_groups.get() {
            std::collections::BTreeSet::new()
        } else {
            dlq.iter()
                .filter(|m| m.visible_at > now)
                .map(|m| m.group.clone())
                .collect()
        };
        let mut received = Vec::new();
        for message in dlq.iter_mut() {
            if received.len() == max.min(10) {
                break;
            }
            if blocked.contains(&message.group) || message.visible_at > now {
                continue;
            }
            message.visible_at = now + i64::from(hold_seconds) * 1000;
            message.receives += 1;
            received.push(DeadLetter {
                message_id: message.id.clone(),
                receipt_handle: receipt(message),
                body: message.body.clone(),
                attributes: message.attributes.clone(),
                group_id: message.group.clone(),
                deduplication_id: Some(message.dedup.clone()),
                receive_count: message.receives,
                sent_at: Some(message.sent_at),
            });
        }
        received
    }

    async fn delete_now(&self, letters: &[&DeadLetter]) -> Result<BatchOutcome, Failure> {
        self.0.call("delete").await;
        let mut dlq = self.0.dlq.borrow_mut();
        let mut outcome = BatchOutcome::default();
        for (i, letter) in letters.iter().enumerate() {
            let before = dlq.len();
            dlq.retain(|m| receipt(m) != letter.receipt_handle);
            if dlq.len() < before {
                outcome.done.push(i);
                self.0.last_delete.set(Some(std::time::Instant::now()));
            } else {
                outcome.failed.push((i, "ReceiptHandleIsInvalid".into()));
            }
        }
        Ok(outcome)
    }

    async fn set_visibility_now(
        &self,
        letters: &[&DeadLetter],
        seconds: u32,
    ) -> Result<(), Failure> {
        for _ in letters.chunks(10) {
            self.0.call("visibility").await;
        }
        let at = self.0.now() + i64::from(seconds) * 1000;
        for message in self.0.dlq.borrow_mut().iter_mut() {
            if letters.iter().any(|l| l.receipt_handle == receipt(message)) {
                message.visible_at = at;
            }
        }
        Ok(())
    }
}

impl WebhookQueue for Webhooks<'_> {
    async fn send(
        &self,
        messages: &[Outgoing],
    ) -> Result<Result<BatchOutcome, MaybeSent>, Failure> {
        self.0.call("send").await;
        let fault = self.0.send_faults.borrow_mut().pop_front();
        let mut outcome = BatchOutcome::default();
        let refused_group = match fault {
            Some(SendFault::RefuseEntry(i)) => messages.get(i).map(|m| m.group_id.clone()),
            _ => None,
        };
        for (i, message) in messages.iter().enumerate() {
            if fault == Some(SendFault::RefuseEntry(i)) {
                outcome.failed.push((i, "InternalError".into()));
                continue;
            }
            if fault.is_some_and(|f| matches!(f, SendFault::RefuseEntry(r) if r < i))
                && refused_group.as_deref() == Some(message.group_id.as_str())
            {
                self.0
                    .reordered
                    .borrow_mut()
                    .insert(message.group_id.clone());
            }
            if fault == Some(SendFault::LoseAnswer { applied: false }) {
                continue;
            }
            let rejected = (self.0.rejected_by_processor.borrow())(message);
            if rejected {
                // The processor dead-letters it again: the copy (its deduplication id and all)
                // lands in the dead-letter queue with the processor's verdict, enqueued now.
                let mut verdict = message.clone();
                verdict.attributes.insert(
                    "mgrid-failure-reason".into(),
                    Attribute::text("String", "bad-signature"),
                );
                self.0.enqueue(&self.0.dlq, &verdict);
            } else {
                self.0.enqueue(&self.0.webhooks, message);
            }
            outcome.done.push(i);
        }
        match fault {
            Some(SendFault::LoseAnswer { .. }) => Ok(Err(MaybeSent("timed out".into()))),
            _ => Ok(Ok(outcome)),
        }
    }
}

impl std::fmt::Debug for Pair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Pair {{ dlq: {}, webhooks: {}, calls: {} }}",
            self.dlq.borrow().len(),
            self.webhooks.borrow().len(),
            self.calls.get()
        )
    }
}

/// A failure a queue might answer (unused by the model, for tests that need one).
pub fn refused(what: &str) -> Failure {
    Failure::new(FailureKind::Failed, what)
}
