//! The thin I/O around the move engine (src/decide/move_engine.rs): workers that receive, offer what
//! they got to the engine, copy, delete, and at the end release what the run hid. Generic over
//! the ports, so the same code moves webhooks on AWS, on the local stage, and between the
//! in-memory queues of the tests and benchmarks.
//!
//! Concurrency: `parallel` workers run in one task and share the engine. A FIFO dead-letter
//! queue returns no message of a group while another of it is in flight, so each group is in at
//! most one worker's hands at a time and keeps its order; from the archive, a group is given to
//! one batch at a time (`pick_batch`).

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures::future::{Either, join_all, select};

use crate::decide::move_engine::{
    AfterCopy, Batch, CopyResult, MoveEngine, Offered, Origin, Rules, Tally, pick_batch,
};
use crate::decide::redrive::{DeadLetter, DeadLetterView, Filter, RunMark};
use crate::decide::verdict::{SentCopy, Verdicts};
use crate::failure::Failure;
use crate::ports::{
    BatchOutcome, DeadLetterQueue, LedgerLookup, MaybeSent, Outgoing, WebhookQueue,
};
use crate::ui::terminal::Pace;

/// The most messages a queue takes in one receive or batch.
const BATCH: usize = 10;

/// How often a waiting worker looks again (the pace, a stop).
const RECHECK: Duration = Duration::from_millis(200);

/// How often a parked worker looks again when nothing told it to (it is told at once of a
/// wake, a worker parking or ending, and a finished batch).
const PARK_POLL: Duration = Duration::from_secs(1);

async fn paced(pace: &RefCell<Pace>, count: usize) {
    let at = pace.borrow_mut().reserve(count);
    if let Some(at) = at {
        tokio::time::sleep_until(at.into()).await;
    }
}

/// Waits for the pace's slot before a receive, or until the run is stopped (false: receive
/// nothing). Workers queue on the pace, up to `--parallel` slots deep: a stop must not wait
/// for each to come round.
async fn paced_unless_stopped(pace: &RefCell<Pace>, count: usize, stop: &AtomicBool) -> bool {
    let at = pace.borrow_mut().reserve(count);
    if let Some(at) = at {
        let at = tokio::time::Instant::from_std(at);
        while tokio::time::Instant::now() < at {
            if stop.load(Ordering::SeqCst) {
                return false;
            }
            tokio::time::sleep_until(at.min(tokio::time::Instant::now() + RECHECK)).await;
        }
    }
    !stop.load(Ordering::SeqCst)
}

/// How a redrive runs.
pub struct RedriveOptions<'a> {
    pub mark: &'a RunMark,
    pub filter: &'a Filter,
    /// How long what the run holds stays hidden if mgrid dies (it is extended while it runs).
    pub hold_seconds: u32,
    pub parallel: usize,
    pub rate: Option<f64>,
    /// Stop receiving after this many (a dry run reads a bounded sample).
    pub read_limit: Option<usize>,
    pub stop: &'a AtomicBool,
}

/// What a run shares between its workers.
struct Shared {
    engine: MoveEngine,
    /// The latest receipt of every message the run has in hand, holds or still has to delete.
    letters: BTreeMap<String, DeadLetter>,
    /// When each held message was last hidden, for the keeper.
    hidden_at: BTreeMap<String, Instant>,
    /// Workers still running.
    alive: usize,
    /// Workers with a batch in hand (received, not yet copied and deleted).
    in_hand: usize,
    /// Groups a worker has in hand (received, being moved, or being put back untouched), with
    /// how many hold each: a group is free only when none does.
    groups_in_hand: BTreeMap<String, usize>,
    /// Workers whose last receive was empty, waiting for another worker's progress.
    parked: usize,
    /// Batches finished (a worker's own next receive picks up what its deletes let through).
    progress: u64,
    /// Parked workers that may receive again. A receive that comes back full is a sign of more
    /// visible messages than the working workers take, and wakes one more (while waking pays:
    /// `probe`); a worker that finished a batch receives again itself (what its deletes let
    /// through). Waking every parked worker on every finished batch had them race for the few
    /// messages it let through: receives of one or two messages, empty ones, and messages of
    /// groups in another worker's hands put back.
    wake: usize,
    /// Whether waking a parked worker pays (the last woken worker's first receive brought
    /// messages).
    probe: Probe,
    /// Tells parked workers that what they wait on may have changed.
    parked_told: std::rc::Rc<tokio::sync::Notify>,

    read: usize,
    failed: bool,
    /// The copies the queue acknowledged, to be followed to their verdicts.
    sent: Verdicts,
    /// The run's copies found back in the dead-letter queue while it moved: (mark, reason).
    came_back: Vec<(String, String)>,
}

/// Whether waking a parked worker pays.
#[derive(Clone, Copy)]
enum Probe {
    /// The last woken worker's first receive brought messages: wake on every full receive.
    Pays,
    /// It came back empty, at this `progress`: the next wake waits until the working workers
    /// finished `batches` batches each (what is visible has changed by then); 2, doubling while
    /// each try comes back empty.
    Futile { at: u64, batches: u64 },
    /// One worker woken to see whether waking pays (again): no other until its first receive
    /// answers. `batches` is the wait that preceded it (1 after `Pays`).
    Trying { batches: u64 },
}

/// What a redrive did.
pub struct Redriven {
    pub tally: Tally,
    /// The copies it sent, with what is known of them when the move ended (copies that came
    /// back while it moved are judged already).
    pub verdicts: Verdicts,
    /// A dry run: what would move, as read.
    pub would_move: Vec<DeadLetterView>,
    /// What ended the run early, if anything did (what it hid was released all the same).
    pub failure: Option<Failure>,
}

impl Shared {
    fn take_groups(&mut self, groups: &BTreeSet<String>) {
        for group in groups {
            *self.groups_in_hand.entry(group.clone()).or_default() += 1;
        }
    }

    fn release_groups(&mut self, groups: &BTreeSet<String>) {
        for group in groups {
            if let Some(holders) = self.groups_in_hand.get_mut(group) {
                *holders -= 1;
                if *holders == 0 {
                    self.groups_in_hand.remove(group);
                }
            }
        }
    }
}

/// Moves dead letters to the webhook queue as the engine decides, then releases what the run
/// hid.
pub async fn redrive(
    ports: &RedrivePorts<'_, impl DeadLetterQueue, impl WebhookQueue, impl LedgerLookup>,
    rules: Rules,
    options: &RedriveOptions<'_>,
    progress: &dyn Fn(&Tally),
) -> Redriven {
    let shared = RefCell::new(Shared {
        engine: MoveEngine::new(rules),
        letters: BTreeMap::new(),
        hidden_at: BTreeMap::new(),
        alive: options.parallel.max(1),
        in_hand: 0,
        groups_in_hand: BTreeMap::new(),
        parked: 0,
        progress: 0,
        wake: 0,
        probe: Probe::Pays,
        parked_told: std::rc::Rc::new(tokio::sync::Notify::new()),
        read: 0,
        failed: false,
        sent: Verdicts::started_at(crate::clock::now_millis()),
        came_back: Vec::new(),
    });
    let pace = RefCell::new(Pace::new(options.rate));
    let dlq = ports.dlq;
    let results = {
        let workers = join_all(
            (0..options.parallel.max(1))
                .map(|n| redrive_worker(n, ports, &shared, &pace, options, progress)),
        );
        let keeper = keep_hidden(dlq, &shared, options.hold_seconds);
        futures::pin_mut!(workers, keeper);
        match select(workers, keeper).await {
            Either::Left((results, _)) => results,
            Either::Right((never, _)) => match never {},
        }
    };
    let (release, would_move): (Vec<DeadLetter>, Vec<DeadLetterView>) = {
        let shared = shared.borrow();
        let letter = |id: &String| shared.letters.get(id);
        (
            shared
                .engine
                .to_release()
                .iter()
                .filter_map(|id| letter(id).cloned())
                .collect(),
            shared
                .engine
                .tally()
                .would_move
                .iter()
                .filter_map(|id| letter(id).map(DeadLetter::view))
                .collect(),
        )
    };
    let released = if release.is_empty() {
        Ok(())
    } else {
        dlq.set_visibility(&release.iter().collect::<Vec<_>>(), 0)
            .await
    };
    let shared = shared.into_inner();
    let mut verdicts = shared.sent;
    for (mark, reason) in &shared.came_back {
        verdicts.came_back(mark, reason);
    }
    let failure = results.into_iter().find_map(Result::err).or(released.err());
    Redriven {
        tally: shared.engine.tally().clone(),
        verdicts,
        would_move,
        failure,
    }
}

/// What a redrive reads from and writes to: the dead-letter queue, the webhook queue, and the
/// ledger that judges the copies.
pub struct RedrivePorts<'a, D, Q, L> {
    pub dlq: &'a D,
    pub queue: &'a Q,
    pub ledger: &'a L,
}

enum Round {
    Worked,
    Empty,
}

/// Worker `n`: the first receives at once; the others start parked, each woken by a full
/// receive, so a run ramps up to as many workers as the queue has messages for instead of
/// starting with a burst of receives that mostly come back empty.
async fn redrive_worker(
    n: usize,
    ports: &RedrivePorts<'_, impl DeadLetterQueue, impl WebhookQueue, impl LedgerLookup>,
    shared: &RefCell<Shared>,
    pace: &RefCell<Pace>,
    options: &RedriveOptions<'_>,
    progress: &dyn Fn(&Tally),
) -> Result<(), Failure> {
    let result = if n == 0 || park(shared).await {
        redrive_rounds(ports, shared, pace, options, progress).await
    } else {
        Ok(())
    };
    let mut s = shared.borrow_mut();
    s.alive -= 1;
    if result.is_err() {
        s.failed = true;
    }
    s.parked_told.notify_waiters();
    result
}

async fn redrive_rounds(
    ports: &RedrivePorts<'_, impl DeadLetterQueue, impl WebhookQueue, impl LedgerLookup>,
    shared: &RefCell<Shared>,
    pace: &RefCell<Pace>,
    options: &RedriveOptions<'_>,
    progress: &dyn Fn(&Tally),
) -> Result<(), Failure> {
    // This worker's next receive is its first since it started or was woken; the groups of
    // its last one.
    let mut fresh = true;
    let mut last_groups: BTreeSet<String> = BTreeSet::new();
    loop {
        {
            let mut s = shared.borrow_mut();
            if options.stop.load(Ordering::SeqCst) {
                s.engine.interrupt();
            }
            let read_all = options.read_limit.is_some_and(|limit| s.read >= limit);
            if s.failed || read_all || !s.engine.wants_more() {
                return Ok(());
            }
        }
        // Whether nothing was in hand when this receive starts, and how far the run was.
        let (idle_at_start, progress_at_start) = {
            let s = shared.borrow();
            (s.in_hand == 0, s.progress)
        };
        let round = redrive_round(ports, shared, pace, options, fresh, &mut last_groups).await?;
        fresh = false;
        match round {
            Round::Worked => progress(shared.borrow().engine.tally()),
            Round::Empty => {
                // A long poll that found nothing while nothing was in hand and no batch finished:
                // nothing was visible for all of it, and nothing in hand will free more.
                let conclusive = {
                    let s = shared.borrow();
                    idle_at_start && s.in_hand == 0 && s.progress == progress_at_start
                };
                if conclusive {
                    tracing::debug!("an empty receive with nothing in hand: drained");
                    shared.borrow_mut().engine.drained();
                    return Ok(());
                }
                if !park(shared).await {
                    return Ok(());
                }
                fresh = true;
                last_groups.clear();
            }
        }
    }
}

/// After an empty receive: waits until a full receive elsewhere wakes it (then receive again:
/// true) or until every worker is parked with nothing in hand (the queue is drained: false).
/// A worker that finishes a batch receives again itself, so the messages its deletes let
/// through are taken in one receive, not raced for. Parked workers send no receives, so the
/// last empty one always sees the others parked.
async fn park(shared: &RefCell<Shared>) -> bool {
    let told = {
        let mut s = shared.borrow_mut();
        s.parked += 1;
        s.parked_told.notify_waiters();
        s.parked_told.clone()
    };
    loop {
        // Listening before looking: a tell between the look and the wait is not lost.
        let notified = told.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        {
            let mut s = shared.borrow_mut();
            if s.parked == s.alive && s.in_hand == 0 {
                tracing::debug!("every worker found the queue empty: drained");
                s.engine.drained();
                s.parked -= 1;
                s.parked_told.notify_waiters();
                return false;
            }
            if s.wake > 0 || s.failed || !s.engine.wants_more() {
                s.wake = s.wake.saturating_sub(1);
                s.parked -= 1;
                return true;
            }
        }
        tokio::select! {
            _ = &mut notified => {}
            _ = tokio::time::sleep(PARK_POLL) => {}
        }
    }
}

/// One receive and everything it brought: copied and deleted, or held.
async fn redrive_round(
    ports: &RedrivePorts<'_, impl DeadLetterQueue, impl WebhookQueue, impl LedgerLookup>,
    shared: &RefCell<Shared>,
    pace: &RefCell<Pace>,
    options: &RedriveOptions<'_>,
    fresh: bool,
    last_groups: &mut BTreeSet<String>,
) -> Result<Round, Failure> {
    let dlq = ports.dlq;
    if !paced_unless_stopped(pace, BATCH, options.stop).await {
        // Stopped while waiting its turn: back to the top, where the run ends.
        return Ok(Round::Worked);
    }
    let received = dlq.receive(BATCH, options.hold_seconds).await?;
    {
        let mut s = shared.borrow_mut();
        if fresh {
            s.probe = match (received.is_empty(), s.probe) {
                (false, _) => Probe::Pays,
                // Futile again: wait twice as long before the next try.
                (true, Probe::Trying { batches }) => Probe::Futile {
                    at: s.progress,
                    batches: batches * 2,
                },
                (true, _) => Probe::Futile {
                    at: s.progress,
                    batches: 2,
                },
            };
        }
        // A full receive with groups this worker did not just move: maybe more is visible than
        // the working workers take (the next messages of the groups it just moved say nothing
        // of that). One wake outstanding at a time: each woken worker's first receive says
        // whether the next pays.
        let novel = received
            .iter()
            .any(|letter| !last_groups.contains(&letter.group_id));
        *last_groups = received.iter().map(|l| l.group_id.clone()).collect();
        if received.len() >= BATCH && novel && s.wake == 0 && s.parked > 0 {
            let working = (s.alive - s.parked) as u64;
            match s.probe {
                Probe::Pays => {
                    // Trying until the woken worker's first receive answers: one that finds
                    // nothing waits out its long poll, and more wakes meanwhile would each
                    // cost another empty one.
                    s.wake += 1;
                    s.probe = Probe::Trying { batches: 1 };
                    s.parked_told.notify_waiters();
                }
                Probe::Futile { at, batches } if s.progress >= at + batches * working => {
                    s.wake += 1;
                    s.probe = Probe::Trying { batches };
                    s.parked_told.notify_waiters();
                }
                Probe::Futile { .. } | Probe::Trying { .. } => {}
            }
        }
    }
    if received.is_empty() {
        return Ok(Round::Empty);
    }
    // SQS gives no message of a group while another of it is in flight. A source that slips
    // (the emulator's receives race each other) must not break a group's order: what belongs to
    // a group in another worker's hands goes back at once, untouched, for a later receive.
    let (mine, not_now): (Vec<DeadLetter>, Vec<DeadLetter>) = {
        let s = shared.borrow();
        received
            .into_iter()
            .partition(|letter| !s.groups_in_hand.contains_key(&letter.group_id))
    };
    let groups: BTreeSet<String> = mine.iter().map(|l| l.group_id.clone()).collect();
    // Taken at once, before any await: the groups are this worker's from here, and those it
    // puts back stay in hand until they are visible again, so no later message of theirs that
    // another receive finds meanwhile can overtake them.
    let returned: BTreeSet<String> = not_now.iter().map(|l| l.group_id.clone()).collect();
    {
        let mut s = shared.borrow_mut();
        s.take_groups(&groups);
        s.take_groups(&returned);
    }
    if !not_now.is_empty() {
        tracing::debug!(
            "{} messages of groups another worker holds came back early; returned untouched",
            not_now.len()
        );
        let put_back = dlq
            .set_visibility(&not_now.iter().collect::<Vec<_>>(), 0)
            .await;
        shared.borrow_mut().release_groups(&returned);
        if let Err(failure) = put_back {
            shared.borrow_mut().release_groups(&groups);
            return Err(failure);
        }
    }
    if mine.is_empty() {
        return Ok(Round::Worked);
    }
    shared.borrow_mut().in_hand += 1;
    let handled = handle(ports, shared, options, mine).await;
    let mut s = shared.borrow_mut();
    s.in_hand -= 1;
    s.release_groups(&groups);
    s.progress += 1;
    s.parked_told.notify_waiters();
    s.engine.progressed();
    handled.map(|()| Round::Worked)
}

/// What one receive brought: offered to the engine, then copied and deleted, or held.
async fn handle(
    ports: &RedrivePorts<'_, impl DeadLetterQueue, impl WebhookQueue, impl LedgerLookup>,
    shared: &RefCell<Shared>,
    options: &RedriveOptions<'_>,
    received: Vec<DeadLetter>,
) -> Result<(), Failure> {
    let decision = {
        let mut s = shared.borrow_mut();
        s.read += received.len();
        let mut offered: Vec<Offered> = Vec::with_capacity(received.len());
        for letter in &received {
            let origin = options.mark.origin(letter);
            if let (Origin::CameBack { reason }, Some(mark)) = (&origin, &letter.deduplication_id) {
                s.came_back.push((mark.clone(), reason.clone()));
            }
            offered.push(Offered {
                id: letter.message_id.clone(),
                group: letter.group_id.clone(),
                wanted: options.filter.matches(&letter.view()),
                origin,
            });
        }
        let decision = s.engine.offer(offered);
        let now = Instant::now();
        for letter in received {
            s.hidden_at.insert(letter.message_id.clone(), now);
            s.letters.insert(letter.message_id.clone(), letter);
        }
        for id in decision.hold.iter() {
            s.hidden_at.insert(id.clone(), now);
        }
        decision
    };
    if !decision.delete.is_empty() {
        delete(ports.dlq, shared, &decision.delete).await?;
    }
    if let Some(batch) = decision.copy {
        copy(ports, shared, options.mark, batch).await?;
    }
    Ok(())
}

/// Copies a batch (again, with the same deduplication ids, while its outcome is unknown), then
/// deletes the originals whose copies were acknowledged.
async fn copy(
    ports: &RedrivePorts<'_, impl DeadLetterQueue, impl WebhookQueue, impl LedgerLookup>,
    shared: &RefCell<Shared>,
    mark: &RunMark,
    mut batch: Batch,
) -> Result<(), Failure> {
    loop {
        let outgoing: Vec<Outgoing> = {
            let s = shared.borrow();
            batch
                .messages
                .iter()
                .map(|id| mark.copy(&s.letters[id]))
                .collect()
        };
        let sent = ports.queue.send(&outgoing).await;
        let result = match sent {
            Ok(answer) => copy_result(&batch, answer),
            Err(failure) => {
                // Refused outright (permissions, a missing queue): nothing was copied.
                let failed = batch
                    .messages
                    .iter()
                    .map(|id| (id.clone(), failure.what.clone()))
                    .collect();
                shared
                    .borrow_mut()
                    .engine
                    .copied(&batch, CopyResult::Answered { failed });
                return Err(failure);
            }
        };
        let after = shared.borrow_mut().engine.copied(&batch, result);
        match after {
            AfterCopy::Retry(again) => batch = again,
            AfterCopy::Delete(ids) => {
                follow_copies(shared, mark, &ids);
                return delete(ports.dlq, shared, &ids).await;
            }
            AfterCopy::Nothing => return Ok(()),
        }
    }
}

/// Notes the acknowledged copies of `ids`, to follow them to their verdicts.
fn follow_copies(shared: &RefCell<Shared>, mark: &RunMark, ids: &[String]) {
    let mut s = shared.borrow_mut();
    let copies: Vec<SentCopy> = ids
        .iter()
        .filter_map(|id| s.letters.get(id))
        .map(|letter| {
            let transaction_id = letter.transaction_id();
            SentCopy {
                deduplication_id: mark.deduplication_id(letter),
                // Judged after the move, by when the ledger recorded it (`recorded_since`).
                already_recorded: false,
                event_id: letter.view().event_id,
                transaction_id,
            }
        })
        .collect();
    for copy in copies {
        s.sent.sent(copy);
    }
}

/// The engine's view of a send's answer: every entry not acknowledged failed.
fn copy_result(batch: &Batch, answer: Result<BatchOutcome, MaybeSent>) -> CopyResult {
    match answer {
        Err(MaybeSent(why)) => CopyResult::Unknown(why),
        Ok(outcome) => {
            let done: BTreeSet<usize> = outcome.done.iter().copied().collect();
            let reasons: BTreeMap<usize, String> = outcome.failed.into_iter().collect();
            let failed = batch
                .messages
                .iter()
                .enumerate()
                .filter(|(i, _)| !done.contains(i))
                .map(|(i, id)| {
                    let reason = reasons
                        .get(&i)
                        .cloned()
                        .unwrap_or_else(|| "the queue gave no answer for it".into());
                    (id.clone(), reason)
                })
                .collect();
            CopyResult::Answered { failed }
        }
    }
}

async fn delete(
    dlq: &impl DeadLetterQueue,
    shared: &RefCell<Shared>,
    ids: &[String],
) -> Result<(), Failure> {
    let letters: Vec<DeadLetter> = {
        let s = shared.borrow();
        ids.iter()
            .filter_map(|id| s.letters.get(id).cloned())
            .collect()
    };
    let outcome = dlq.delete(&letters.iter().collect::<Vec<_>>()).await;
    let mut s = shared.borrow_mut();
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(failure) => {
            s.engine.deleted(&[], ids);
            return Err(failure);
        }
    };
    let done: Vec<String> = outcome
        .done
        .iter()
        .map(|&i| letters[i].message_id.clone())
        .collect();
    let failed: Vec<String> = outcome
        .failed
        .iter()
        .map(|(i, _)| letters[*i].message_id.clone())
        .collect();
    s.engine.deleted(&done, &failed);
    for id in &done {
        s.letters.remove(id);
        s.hidden_at.remove(id);
    }
    Ok(())
}

/// Keeps what the run holds hidden while it runs: every half hold, the holds that are half gone
/// are renewed, so a long run never lets a held message reappear, and a killed one lets them
/// reappear within one hold.
async fn keep_hidden(
    dlq: &impl DeadLetterQueue,
    shared: &RefCell<Shared>,
    hold_seconds: u32,
) -> std::convert::Infallible {
    let half = Duration::from_secs(u64::from(hold_seconds.max(2)) / 2);
    loop {
        tokio::time::sleep(half).await;
        let due: Vec<DeadLetter> = {
            let s = shared.borrow();
            let held: BTreeSet<String> = s.engine.to_release().into_iter().collect();
            s.hidden_at
                .iter()
                .filter(|(id, at)| held.contains(*id) && at.elapsed() >= half)
                .filter_map(|(id, _)| s.letters.get(id).cloned())
                .collect()
        };
        if due.is_empty() {
            continue;
        }
        match dlq
            .set_visibility(&due.iter().collect::<Vec<_>>(), hold_seconds)
            .await
        {
            Ok(()) => {
                let now = Instant::now();
                let mut s = shared.borrow_mut();
                for letter in &due {
                    s.hidden_at.insert(letter.message_id.clone(), now);
                }
            }
            Err(failure) => tracing::warn!(
                "could not keep {} held messages hidden ({}); they may be read again, and are held again then",
                due.len(),
                failure.what
            ),
        }
    }
}

/// How a run watches the copies it sent, after sending them.
pub struct FollowOptions<'a> {
    /// How long it watches at most.
    pub wait: Duration,
    /// How long between two looks.
    pub every: Duration,
    /// Dead letters one look reads at most (the local queue is read whole).
    pub scan_limit: usize,
    pub stop: &'a AtomicBool,
}

/// How a watch ended.
#[derive(Debug, Default)]
pub struct FollowEnd {
    /// A look at the dead-letter queue stopped at its limit: a copy further back was not seen.
    pub cut_short: bool,
    /// The last look that failed (ledger or dead-letter queue), if the latest did.
    pub unreadable: Option<Failure>,
    pub watched: Duration,
}

/// Watches the ledger (by transaction id) and the dead-letter queue (by the run's mark) until
/// every copy has a verdict, the wait ends, or the run is stopped.
pub async fn follow(
    verdicts: &mut Verdicts,
    dlq: &impl DeadLetterQueue,
    ledger: &impl LedgerLookup,
    options: &FollowOptions<'_>,
    progress: &dyn Fn(&Verdicts),
) -> FollowEnd {
    let started = Instant::now();
    let mut end = FollowEnd::default();
    // The dead-letter queue is read again only when its depth moved (on SQS each read is a
    // receive of every message read), and once more at the end.
    let mut depth_read: Option<u64> = None;
    loop {
        end.unreadable = None;
        // The looks are `every` apart and the last is at `wait` (or at a stop).
        let last = started.elapsed() >= options.wait || options.stop.load(Ordering::SeqCst);
        if let Err(failure) = look_in_ledger(verdicts, ledger).await {
            end.unreadable = Some(failure);
        }
        if !verdicts.settled() {
            let depth = dlq.depth().await.ok().map(|d| d.visible + d.in_flight);
            // An empty queue is not read: on SQS the read is a long poll that waits its second
            // for nothing. (The depth is approximate: a copy dead-lettered a moment ago may
            // be missed by this look, and is found by the next, or by `--status`.)
            let empty = depth == Some(0);
            if !empty && (last || depth.is_none() || depth != depth_read) {
                match look_in_dead_letters(verdicts, dlq, options.scan_limit).await {
                    Ok(cut_short) => {
                        end.cut_short = cut_short;
                        depth_read = depth;
                    }
                    Err(failure) => end.unreadable = Some(failure),
                }
            }
        }
        progress(verdicts);
        let left = options.wait.saturating_sub(started.elapsed());
        if verdicts.settled() || left.is_zero() || options.stop.load(Ordering::SeqCst) {
            break;
        }
        let until = Instant::now() + options.every.min(left);
        while Instant::now() < until && !options.stop.load(Ordering::SeqCst) {
            tokio::time::sleep(RECHECK.min(until - Instant::now())).await;
        }
    }
    end.watched = started.elapsed();
    end
}

async fn look_in_ledger(
    verdicts: &mut Verdicts,
    ledger: &impl LedgerLookup,
) -> Result<(), Failure> {
    let pending = verdicts.pending_transactions();
    if pending.is_empty() {
        return Ok(());
    }
    match verdicts.since() {
        Some(since) => {
            let held = ledger.held(&pending).await?;
            verdicts.recorded_since(&held, since);
        }
        None => {
            let present = ledger.present(&pending).await?;
            verdicts.recorded(&present);
        }
    }
    Ok(())
}

/// Reads the dead-letter queue for the run's copies; whether the look stopped at its limit.
async fn look_in_dead_letters(
    verdicts: &mut Verdicts,
    dlq: &impl DeadLetterQueue,
    limit: usize,
) -> Result<bool, Failure> {
    let mut read = 0;
    let mut back: Vec<(String, String)> = Vec::new();
    dlq.scan(limit, &mut |letter| {
        read += 1;
        if let Some(mark) = &letter.deduplication_id
            && verdicts.is_pending(mark)
        {
            back.push((mark.clone(), letter.view().reason));
        }
        true
    })
    .await?;
    for (mark, reason) in back {
        verdicts.came_back(&mark, &reason);
    }
    Ok(read >= limit)
}

/// How a replay sends.
pub struct SendOptions<'a> {
    pub parallel: usize,
    pub rate: Option<f64>,
    pub stop: &'a AtomicBool,
    /// Told the ids of the messages the queue acknowledged, batch by batch.
    pub sent: &'a dyn Fn(&[String]),
}

/// A message from the archive, ready to go: its id (the transaction) and what it becomes.
pub struct ReadyMessage {
    pub id: String,
    pub message: Outgoing,
}

/// Sends `pending` (in the order each group must keep) as the engine decides, `parallel`
/// batches at a time, never two batches of one group at once. The engine carries over between
/// calls, so a group stopped in one hour stays stopped in the next.
pub async fn send_in_order(
    queue: &impl WebhookQueue,
    engine: &RefCell<MoveEngine>,
    pending: Vec<ReadyMessage>,
    options: &SendOptions<'_>,
    progress: &dyn Fn(&Tally),
) -> Result<(), Failure> {
    let lanes = Lanes {
        pending: RefCell::new(pending),
        in_flight: RefCell::new(BTreeSet::new()),
        pace: RefCell::new(Pace::new(options.rate)),
        failed: std::cell::Cell::new(false),
    };
    let results = join_all(
        (0..options.parallel.max(1)).map(|_| send_worker(queue, engine, &lanes, options, progress)),
    )
    .await;
    results.into_iter().collect::<Result<(), Failure>>()
}

/// What a replay's send workers share.
struct Lanes {
    pending: RefCell<Vec<ReadyMessage>>,
    /// Groups with a batch in flight.
    in_flight: RefCell<BTreeSet<String>>,
    pace: RefCell<Pace>,
    failed: std::cell::Cell<bool>,
}

async fn send_worker(
    queue: &impl WebhookQueue,
    engine: &RefCell<MoveEngine>,
    lanes: &Lanes,
    options: &SendOptions<'_>,
    progress: &dyn Fn(&Tally),
) -> Result<(), Failure> {
    loop {
        if options.stop.load(Ordering::SeqCst) {
            engine.borrow_mut().interrupt();
        }
        if lanes.failed.get() || !engine.borrow().wants_more() {
            return Ok(());
        }
        let picked = {
            let mut pending = lanes.pending.borrow_mut();
            if pending.is_empty() {
                return Ok(());
            }
            pick_batch(
                &mut pending,
                |p: &ReadyMessage| p.message.group_id.as_str(),
                &lanes.in_flight.borrow(),
                BATCH,
            )
        };
        if picked.is_empty() {
            // Every remaining group has a batch in flight: wait for one to finish.
            tokio::time::sleep(Duration::from_millis(5)).await;
            continue;
        }
        let groups: BTreeSet<String> = picked.iter().map(|p| p.message.group_id.clone()).collect();
        lanes.in_flight.borrow_mut().extend(groups.iter().cloned());
        let result = send_picked(queue, engine, &lanes.pace, picked, options.sent).await;
        lanes
            .in_flight
            .borrow_mut()
            .retain(|group| !groups.contains(group));
        if result.is_err() {
            lanes.failed.set(true);
        }
        result?;
        progress(engine.borrow().tally());
    }
}

async fn send_picked(
    queue: &impl WebhookQueue,
    engine: &RefCell<MoveEngine>,
    pace: &RefCell<Pace>,
    picked: Vec<ReadyMessage>,
    sent: &dyn Fn(&[String]),
) -> Result<(), Failure> {
    let offered = picked
        .iter()
        .map(|p| Offered {
            id: p.id.clone(),
            group: p.message.group_id.clone(),
            wanted: true,
            origin: Origin::Before,
        })
        .collect();
    let decision = engine.borrow_mut().offer(offered);
    let Some(mut batch) = decision.copy else {
        return Ok(());
    };
    let by_id: BTreeMap<&str, &Outgoing> =
        picked.iter().map(|p| (p.id.as_str(), &p.message)).collect();
    loop {
        let outgoing: Vec<Outgoing> = batch
            .messages
            .iter()
            .map(|id| by_id[id.as_str()].clone())
            .collect();
        paced(pace, outgoing.len()).await;
        let result = match queue.send(&outgoing).await {
            Ok(answer) => copy_result(&batch, answer),
            Err(failure) => {
                let failed = batch
                    .messages
                    .iter()
                    .map(|id| (id.clone(), failure.what.clone()))
                    .collect();
                engine
                    .borrow_mut()
                    .copied(&batch, CopyResult::Answered { failed });
                return Err(failure);
            }
        };
        let acknowledged: Vec<String> = match &result {
            CopyResult::Answered { failed } => batch
                .messages
                .iter()
                .filter(|id| !failed.iter().any(|(refused, _)| refused == *id))
                .cloned()
                .collect(),
            CopyResult::Unknown(_) => Vec::new(),
        };
        let after = engine.borrow_mut().copied(&batch, result);
        match after {
            AfterCopy::Retry(again) => batch = again,
            AfterCopy::Delete(_) | AfterCopy::Nothing => {
                sent(&acknowledged);
                return Ok(());
            }
        }
    }
}
