//! One state machine for every loop that moves webhooks: a redrive (dead-letter queue to webhook
//! queue) and a replay (archive to webhook queue), on AWS and on the local stage. It decides;
//! thin drivers (src/commands/movers.rs) receive, send and delete. Pure: no I/O, no SDK types, no clock.
//!
//! The rules it owns:
//! - Only what was there before the run moves. A copy this run made that comes back (the
//!   processor rejected it again) and anything else dead-lettered during the run stay where they
//!   are, hidden until the run ends, and are counted (copies by their failure reason).
//! - A message group keeps its order. Once one of its messages does not move (the filter does
//!   not take it, the budget is spent, its copy failed, its outcome stayed unknown), no later
//!   message of that group moves in this run.
//! - An original is deleted only after its copy was acknowledged. A copy whose outcome is
//!   unknown is sent again with the same deduplication ids (the queue drops what got in the first
//!   time); after [`UNKNOWN_ATTEMPTS`] unknown answers its originals stay.
//! - Every run ends: at an empty receive, when the budget is spent, when interrupted, or after
//!   [`QUIET_RECEIVES_TO_END`] receives per worker in a row, with no batch finished between them,
//!   that brought neither a message from before the run nor one of its copies coming back. Both
//!   of those are finite (what was there; each copy comes back at most once, then stays hidden),
//!   so only new failures of other traffic, which could keep a run going for ever, are cut off.
//! - What the run hid is released when it ends: [`MoveEngine::to_release`].
//!
//! A dry run makes every decision the same way and copies nothing.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

/// How many times a copy whose outcome is unknown is sent (the first time included).
pub const UNKNOWN_ATTEMPTS: u32 = 3;

/// Receives per worker in a row with nothing from before the run and no batch finished, after
/// which a run stops receiving.
pub const QUIET_RECEIVES_TO_END: u32 = 3;

/// Where an offered message comes from, relative to this run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// There before the run started: the run's to move.
    Before,
    /// A copy this run made, back in the dead-letter queue with this failure reason.
    CameBack { reason: String },
    /// Dead-lettered during the run by other traffic.
    Arrived,
}

/// A message offered to the engine, in the order its source returned it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offered {
    pub id: String,
    pub group: String,
    /// The operator's filter or selection takes it.
    pub wanted: bool,
    pub origin: Origin,
}

/// What the messages come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoveSource {
    /// A queue: what is not moved is hidden until the run ends, an original is deleted once its
    /// copy is acknowledged.
    Queue,
    /// The archive: nothing is hidden or deleted.
    Archive,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    pub source: MoveSource,
    /// Move at most this many (`--max`).
    pub budget: Option<usize>,
    pub dry_run: bool,
    /// Workers receiving at once (the quiet rule counts receives per worker).
    pub workers: usize,
}

/// A copy to make: messages to send together, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub id: u64,
    pub messages: Vec<String>,
}

/// What to do with a received batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decision {
    pub copy: Option<Batch>,
    /// Keep hidden until the run ends (the source's new receipt replaces any older one).
    pub hold: Vec<String>,
    /// Copied earlier in this run but still here: delete, copy nothing.
    pub delete: Vec<String>,
}

/// How a copy went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CopyResult {
    /// The destination answered: every message but these was copied.
    Answered { failed: Vec<(String, String)> },
    /// No answer (a timeout, a dropped connection): the copy may or may not have happened.
    Unknown(String),
}

/// What to do after a copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterCopy {
    /// Delete these originals.
    Delete(Vec<String>),
    /// Send the same batch again, with the same deduplication ids.
    Retry(Batch),
    Nothing,
}

/// What a run did, as counts a report shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Tally {
    /// Copied and, from a queue, deleted.
    pub moved: usize,
    /// A dry run: what would move now.
    pub would_move: Vec<String>,
    /// From before the run and left where it was (not taken, budget spent, behind a message of
    /// its group that stays).
    pub left: usize,
    /// Groups left whole from some message on.
    pub held_groups: usize,
    /// Messages the filter takes, left because an earlier message of their group stays.
    pub held_back: usize,
    /// Copies the destination refused, with why; the originals stay.
    pub failed: Vec<(String, String)>,
    /// Copied, but the original could not be deleted: a later run moves it again (a duplicate
    /// the processor ignores, never a loss).
    pub copied_not_deleted: usize,
    /// Batches whose copy stayed unknown after every attempt; their originals stay.
    pub unknown_batches: usize,
    /// Copies of this run that came back (the processor rejected them again), by reason.
    pub came_back: BTreeMap<String, usize>,
    /// Dead-lettered during the run by other traffic, left for a later run.
    pub arrived: usize,
    /// Groups whose order could not be kept: the destination refused one of their messages and
    /// took a later one in the same request (it judges each entry alone). The refused one stays.
    pub reordered: Vec<String>,
    pub interrupted: bool,
}

impl Default for Rules {
    /// A run over a queue, every message, no dry run, one worker.
    fn default() -> Rules {
        Rules {
            source: MoveSource::Queue,
            budget: None,
            dry_run: false,
            workers: 1,
        }
    }
}

impl Tally {
    pub fn came_back_total(&self) -> usize {
        self.came_back.values().sum()
    }
}

#[derive(Debug, Clone)]
pub struct MoveEngine {
    rules: Rules,
    budget: Option<usize>,
    /// Groups from which nothing more moves in this run.
    held_groups: BTreeSet<String>,
    /// Messages hidden by this run (not moved, or refused), released at the end.
    holding: BTreeSet<String>,
    /// Copies sent and not answered yet: batch id, its messages' groups, attempts so far.
    in_flight: BTreeMap<u64, (Vec<(String, String)>, u32)>,
    /// Copy acknowledged, original not deleted yet (or its delete failed).
    copied: BTreeSet<String>,
    next_batch: u64,
    quiet_receives: u32,
    ended: bool,
    tally: Tally,
}

impl MoveEngine {
    pub fn new(rules: Rules) -> MoveEngine {
        MoveEngine {
            rules,
            budget: rules.budget,
            held_groups: BTreeSet::new(),
            holding: BTreeSet::new(),
            in_flight: BTreeMap::new(),
            copied: BTreeSet::new(),
            next_batch: 0,
            quiet_receives: 0,
            ended: false,
            tally: Tally::default(),
        }
    }

    /// Whether the run should receive more.
    pub fn wants_more(&self) -> bool {
        let quiet_limit = QUIET_RECEIVES_TO_END * self.rules.workers.max(1) as u32;
        !self.ended && self.budget != Some(0) && self.quiet_receives < quiet_limit
    }

    /// A batch was finished: messages of its groups may come next, so quiet receives start over.
    pub fn progressed(&mut self) {
        self.quiet_receives = 0;
    }

    /// Decides what becomes of a received batch (in the order the source returned it).
    pub fn offer(&mut self, batch: Vec<Offered>) -> Decision {
        let mut decision = Decision::default();
        let mut copy: Vec<(String, String)> = Vec::new();
        // Whether the batch brought something the run must see through (not just new failures).
        let mut worth_it = false;
        for message in batch {
            if self.holding.contains(&message.id) {
                // Back after its hold ran out: hidden again, with its new receipt.
                decision.hold.push(message.id);
                continue;
            }
            if self.copied.contains(&message.id) {
                decision.delete.push(message.id);
                continue;
            }
            match message.origin {
                Origin::CameBack { reason } => {
                    worth_it = true;
                    *self.tally.came_back.entry(reason).or_default() += 1;
                    self.hold(&mut decision, message.id);
                }
                Origin::Arrived => {
                    self.tally.arrived += 1;
                    self.hold(&mut decision, message.id);
                }
                Origin::Before => {
                    worth_it = true;
                    // Once interrupted, what a receive in flight still brings is not copied.
                    let takes = !self.tally.interrupted
                        && !self.held_groups.contains(&message.group)
                        && message.wanted
                        && self.budget != Some(0);
                    if takes {
                        if let Some(budget) = self.budget.as_mut() {
                            *budget -= 1;
                        }
                        copy.push((message.id, message.group));
                    } else if self.rules.source == MoveSource::Archive
                        && self.held_groups.contains(&message.group)
                    {
                        // The archive offers only what the selection takes: one not sent is a
                        // failure of the run, not a choice.
                        self.tally.failed.push((
                            message.id,
                            "not sent: an earlier webhook of its group was not".into(),
                        ));
                    } else {
                        if message.wanted
                            && !self.tally.interrupted
                            && self.held_groups.contains(&message.group)
                        {
                            self.tally.held_back += 1;
                        }
                        self.tally.left += 1;
                        self.hold_group(&message.group);
                        self.hold(&mut decision, message.id);
                    }
                }
            }
        }
        self.quiet_receives = if worth_it { 0 } else { self.quiet_receives + 1 };
        if copy.is_empty() {
            return decision;
        }
        if self.rules.dry_run {
            for (id, _) in copy {
                self.tally.would_move.push(id.clone());
                self.hold(&mut decision, id);
            }
            return decision;
        }
        let id = self.next_batch;
        self.next_batch += 1;
        decision.copy = Some(Batch {
            id,
            messages: copy.iter().map(|(m, _)| m.clone()).collect(),
        });
        self.in_flight.insert(id, (copy, 0));
        decision
    }

    /// A receive came back empty: nothing more to receive.
    pub fn drained(&mut self) {
        self.ended = true;
    }

    /// The operator stopped the run: no more receives; copies in flight still finish.
    pub fn interrupt(&mut self) {
        self.ended = true;
        self.tally.interrupted = true;
    }

    /// The answer to copying `batch`.
    pub fn copied(&mut self, batch: &Batch, result: CopyResult) -> AfterCopy {
        let Some((messages, attempts)) = self.in_flight.remove(&batch.id) else {
            return AfterCopy::Nothing;
        };
        match result {
            CopyResult::Unknown(why) => {
                if attempts + 1 < UNKNOWN_ATTEMPTS {
                    self.in_flight.insert(batch.id, (messages, attempts + 1));
                    return AfterCopy::Retry(batch.clone());
                }
                self.tally.unknown_batches += 1;
                for (id, group) in messages {
                    self.hold_group(&group);
                    self.not_moved(id, &why);
                }
                AfterCopy::Nothing
            }
            CopyResult::Answered { failed } => {
                let failed: BTreeMap<String, String> = failed.into_iter().collect();
                self.note_reordering(&messages, &failed);
                let mut done = Vec::new();
                for (id, group) in messages {
                    match failed.get(&id) {
                        Some(reason) => {
                            self.hold_group(&group);
                            self.tally.failed.push((id.clone(), reason.clone()));
                            self.not_moved(id, reason);
                        }
                        None => done.push(id),
                    }
                }
                match self.rules.source {
                    MoveSource::Archive => {
                        self.tally.moved += done.len();
                        AfterCopy::Nothing
                    }
                    MoveSource::Queue => {
                        self.copied.extend(done.iter().cloned());
                        if done.is_empty() {
                            AfterCopy::Nothing
                        } else {
                            AfterCopy::Delete(done)
                        }
                    }
                }
            }
        }
    }

    /// The answer to deleting originals whose copies were acknowledged.
    pub fn deleted(&mut self, done: &[String], failed: &[String]) {
        for id in done {
            if self.copied.remove(id) {
                self.tally.moved += 1;
            }
        }
        for id in failed {
            if self.copied.contains(id) {
                self.tally.copied_not_deleted += 1;
            }
        }
    }

    /// What the source must make visible again when the run ends: everything this run hid, and
    /// originals copied but not deleted (a later run moves them again).
    pub fn to_release(&self) -> Vec<String> {
        self.holding
            .iter()
            .chain(self.copied.iter())
            .cloned()
            .collect()
    }

    /// Copies sent and not answered yet.
    pub fn copies_in_flight(&self) -> usize {
        self.in_flight.len()
    }

    pub fn tally(&self) -> &Tally {
        &self.tally
    }

    /// A group with a refused message and a later one of it copied in the same request.
    fn note_reordering(
        &mut self,
        messages: &[(String, String)],
        failed: &BTreeMap<String, String>,
    ) {
        let mut refused_groups: BTreeSet<&str> = BTreeSet::new();
        for (id, group) in messages {
            if failed.contains_key(id) {
                refused_groups.insert(group);
            } else if refused_groups.contains(group.as_str())
                && !self.tally.reordered.contains(group)
            {
                self.tally.reordered.push(group.clone());
            }
        }
    }

    fn hold(&mut self, decision: &mut Decision, id: String) {
        if self.rules.source == MoveSource::Queue {
            self.holding.insert(id.clone());
            decision.hold.push(id);
        }
    }

    fn hold_group(&mut self, group: &str) {
        if self.held_groups.insert(group.to_owned()) {
            self.tally.held_groups += 1;
        }
    }

    /// A message whose copy was refused or stayed unknown: from a queue it stays, hidden until
    /// the run ends; from the archive it is a failure of the run.
    fn not_moved(&mut self, id: String, why: &str) {
        match self.rules.source {
            MoveSource::Queue => {
                self.holding.insert(id);
            }
            MoveSource::Archive => {
                if !self.tally.failed.iter().any(|(failed, _)| *failed == id) {
                    self.tally.failed.push((id, why.to_owned()));
                }
            }
        }
    }
}

/// Picks the next batch of up to `max` messages to send from `pending` (in the order they must
/// keep within each group), for a source that offers everything at once (the archive). A message
/// is skipped, and with it every later message of its group, while its group has a batch in
/// flight; groups that may not move any more are dropped from `pending` by the engine's answers.
pub fn pick_batch<T>(
    pending: &mut Vec<T>,
    group_of: impl Fn(&T) -> &str,
    groups_in_flight: &BTreeSet<String>,
    max: usize,
) -> Vec<T> {
    let mut skipped: BTreeSet<String> = BTreeSet::new();
    let mut picked = Vec::new();
    let mut kept = Vec::with_capacity(pending.len());
    for item in pending.drain(..) {
        let group = group_of(&item);
        if picked.len() < max && !groups_in_flight.contains(group) && !skipped.contains(group) {
            picked.push(item);
        } else {
            skipped.insert(group.to_owned());
            kept.push(item);
        }
    }
    *pending = kept;
    picked
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue(budget: Option<usize>) -> MoveEngine {
        MoveEngine::new(Rules {
            source: MoveSource::Queue,
            budget,
            dry_run: false,
            workers: 1,
        })
    }

    fn before(id: &str, group: &str) -> Offered {
        Offered {
            id: id.into(),
            group: group.into(),
            wanted: true,
            origin: Origin::Before,
        }
    }

    fn unwanted(id: &str, group: &str) -> Offered {
        Offered {
            wanted: false,
            ..before(id, group)
        }
    }

    fn ids(batch: &Option<Batch>) -> Vec<&str> {
        batch
            .iter()
            .flat_map(|b| b.messages.iter().map(String::as_str))
            .collect()
    }

    #[test]
    fn wanted_messages_are_copied_in_order_and_deleted_once_acknowledged() {
        let mut engine = queue(None);
        let decision = engine.offer(vec![
            before("a", "g1"),
            before("b", "g2"),
            before("c", "g1"),
        ]);
        assert_eq!(ids(&decision.copy), ["a", "b", "c"]);
        assert!(decision.hold.is_empty());
        let batch = decision.copy.unwrap();
        let after = engine.copied(&batch, CopyResult::Answered { failed: vec![] });
        assert_eq!(
            after,
            AfterCopy::Delete(vec!["a".into(), "b".into(), "c".into()])
        );
        assert_eq!(engine.tally().moved, 0, "moved counts deletes, not copies");
        engine.deleted(&["a".into(), "b".into(), "c".into()], &[]);
        assert_eq!(engine.tally().moved, 3);
        assert!(engine.to_release().is_empty());
    }

    #[test]
    fn a_group_whose_head_is_not_taken_stays_whole() {
        let mut engine = queue(None);
        let decision = engine.offer(vec![
            unwanted("a", "g1"),
            before("b", "g1"),
            before("c", "g2"),
        ]);
        assert_eq!(ids(&decision.copy), ["c"]);
        assert_eq!(decision.hold, ["a", "b"]);
        let later = engine.offer(vec![before("d", "g1")]);
        assert_eq!(later.copy, None);
        assert_eq!(later.hold, ["d"]);
        assert_eq!(engine.tally().left, 3);
        assert_eq!(engine.tally().held_groups, 1);
    }

    #[test]
    fn the_budget_caps_what_moves_and_holds_the_rest_of_each_group() {
        let mut engine = queue(Some(2));
        let decision = engine.offer(vec![
            before("a", "g1"),
            before("b", "g2"),
            before("c", "g1"),
        ]);
        assert_eq!(ids(&decision.copy), ["a", "b"]);
        assert_eq!(decision.hold, ["c"]);
        assert!(!engine.wants_more(), "a spent budget receives no more");
    }

    #[test]
    fn a_refused_copy_stays_and_holds_its_group() {
        let mut engine = queue(None);
        let batch = engine
            .offer(vec![before("a", "g1"), before("b", "g2")])
            .copy
            .unwrap();
        let after = engine.copied(
            &batch,
            CopyResult::Answered {
                failed: vec![("a".into(), "InvalidParameterValue".into())],
            },
        );
        assert_eq!(after, AfterCopy::Delete(vec!["b".into()]));
        assert_eq!(
            engine.tally().failed,
            [("a".into(), "InvalidParameterValue".into())]
        );
        assert_eq!(engine.offer(vec![before("c", "g1")]).copy, None);
        assert!(engine.to_release().contains(&"a".to_owned()));
    }

    #[test]
    fn a_group_whose_later_message_was_taken_past_a_refused_one_is_reported() {
        let mut engine = queue(None);
        let batch = engine
            .offer(vec![
                before("a", "g1"),
                before("b", "g1"),
                before("c", "g2"),
            ])
            .copy
            .unwrap();
        engine.copied(
            &batch,
            CopyResult::Answered {
                failed: vec![("a".into(), "InternalError".into())],
            },
        );
        assert_eq!(engine.tally().reordered, ["g1"]);
    }

    #[test]
    fn an_unknown_copy_is_sent_again_then_its_originals_stay() {
        let mut engine = queue(None);
        let batch = engine.offer(vec![before("a", "g1")]).copy.unwrap();
        for _ in 1..UNKNOWN_ATTEMPTS {
            assert_eq!(
                engine.copied(&batch, CopyResult::Unknown("timeout".into())),
                AfterCopy::Retry(batch.clone())
            );
        }
        assert_eq!(
            engine.copied(&batch, CopyResult::Unknown("timeout".into())),
            AfterCopy::Nothing
        );
        assert_eq!(engine.tally().unknown_batches, 1);
        assert_eq!(engine.to_release(), ["a"]);
        assert_eq!(
            engine.offer(vec![before("b", "g1")]).copy,
            None,
            "its group stays"
        );
    }

    #[test]
    fn a_copy_not_deleted_is_deleted_when_it_comes_round_again_never_copied_twice() {
        let mut engine = queue(None);
        let batch = engine.offer(vec![before("a", "g1")]).copy.unwrap();
        engine.copied(&batch, CopyResult::Answered { failed: vec![] });
        engine.deleted(&[], &["a".into()]);
        assert_eq!(engine.tally().copied_not_deleted, 1);
        let again = engine.offer(vec![before("a", "g1")]);
        assert_eq!(
            (again.copy, again.delete.as_slice()),
            (None, &["a".to_owned()][..])
        );
        engine.deleted(&["a".into()], &[]);
        assert_eq!(engine.tally().moved, 1);
        assert!(engine.to_release().is_empty());
    }

    #[test]
    fn copies_that_come_back_and_new_failures_stay_and_are_counted() {
        let mut engine = queue(None);
        let decision = engine.offer(vec![
            Offered {
                origin: Origin::CameBack {
                    reason: "bad-signature".into(),
                },
                ..before("a2", "g1")
            },
            Offered {
                origin: Origin::Arrived,
                ..before("n", "g9")
            },
        ]);
        assert_eq!(decision.copy, None);
        assert_eq!(decision.hold, ["a2", "n"]);
        assert_eq!(engine.tally().came_back["bad-signature"], 1);
        assert_eq!(engine.tally().arrived, 1);
        assert_eq!(engine.tally().left, 0);
    }

    #[test]
    fn receives_that_bring_nothing_from_before_the_run_end_it() {
        let mut engine = queue(None);
        let arrival = |id: &str| Offered {
            origin: Origin::Arrived,
            ..before(id, id)
        };
        for i in 0..QUIET_RECEIVES_TO_END {
            assert!(engine.wants_more(), "receive {i}");
            engine.offer(vec![arrival(&format!("n{i}"))]);
        }
        assert!(!engine.wants_more());
    }

    #[test]
    fn quiet_receives_count_per_worker_and_start_over_when_a_batch_finishes() {
        let mut engine = MoveEngine::new(Rules {
            workers: 2,
            ..Rules::default()
        });
        let arrival = |id: &str| Offered {
            origin: Origin::Arrived,
            ..before(id, id)
        };
        for i in 0..QUIET_RECEIVES_TO_END * 2 - 1 {
            engine.offer(vec![arrival(&format!("n{i}"))]);
        }
        assert!(engine.wants_more());
        engine.progressed();
        for i in 0..QUIET_RECEIVES_TO_END * 2 - 1 {
            engine.offer(vec![arrival(&format!("m{i}"))]);
        }
        assert!(engine.wants_more());
        engine.offer(vec![arrival("last")]);
        assert!(!engine.wants_more());
    }

    #[test]
    fn an_original_among_arrivals_keeps_the_run_going() {
        let mut engine = queue(None);
        let arrival = Offered {
            origin: Origin::Arrived,
            ..before("n", "n")
        };
        engine.offer(vec![arrival.clone()]);
        engine.offer(vec![arrival.clone()]);
        engine.offer(vec![before("a", "g1")]);
        engine.offer(vec![arrival]);
        assert!(engine.wants_more());
    }

    #[test]
    fn a_message_back_after_its_hold_is_held_again_not_counted_twice() {
        let mut engine = queue(None);
        engine.offer(vec![unwanted("a", "g1")]);
        let again = engine.offer(vec![unwanted("a", "g1")]);
        assert_eq!(again.hold, ["a"]);
        assert_eq!(engine.tally().left, 1);
    }

    #[test]
    fn a_dry_run_decides_the_same_and_copies_nothing() {
        let batch = vec![
            unwanted("a", "g1"),
            before("b", "g1"),
            before("c", "g2"),
            before("d", "g3"),
        ];
        let mut dry = MoveEngine::new(Rules {
            budget: Some(1),
            dry_run: true,
            ..Rules::default()
        });
        let decision = dry.offer(batch.clone());
        assert_eq!(decision.copy, None);
        assert_eq!(dry.tally().would_move, ["c"]);
        assert_eq!(dry.to_release().len(), 4, "everything read is released");
        let mut real = queue(Some(1));
        assert_eq!(ids(&real.offer(batch).copy), ["c"]);
    }

    #[test]
    fn from_the_archive_nothing_is_held_or_deleted() {
        let mut engine = MoveEngine::new(Rules {
            source: MoveSource::Archive,
            ..Rules::default()
        });
        let batch = engine
            .offer(vec![
                before("a", "g1"),
                before("b", "g1"),
                before("c", "g2"),
            ])
            .copy
            .unwrap();
        let after = engine.copied(
            &batch,
            CopyResult::Answered {
                failed: vec![("a".into(), "refused".into())],
            },
        );
        assert_eq!(after, AfterCopy::Nothing);
        assert_eq!(engine.tally().moved, 2);
        assert_eq!(engine.tally().failed.len(), 1);
        let later = engine.offer(vec![before("d", "g1")]);
        assert!(later.copy.is_none() && later.hold.is_empty());
        assert_eq!(engine.tally().failed.len(), 2, "d is not sent either");
        assert!(engine.to_release().is_empty());
    }

    #[test]
    fn an_interrupted_run_receives_no_more() {
        let mut engine = queue(None);
        engine.interrupt();
        assert!(!engine.wants_more());
        assert!(engine.tally().interrupted);
    }

    #[test]
    fn an_interrupted_run_copies_nothing_a_receive_in_flight_brings() {
        let mut engine = queue(None);
        engine.interrupt();
        let decision = engine.offer(vec![before("m1", "g1"), before("m2", "g2")]);
        assert_eq!(decision.copy, None);
        assert_eq!(decision.hold, ["m1", "m2"]);
        assert_eq!(engine.to_release().len(), 2, "put back when the run ends");
    }

    #[test]
    fn batches_never_put_a_group_in_two_copies_at_once_and_keep_its_order() {
        let mut pending = vec![("a", "g1"), ("b", "g2"), ("c", "g1"), ("d", "g3")];
        let in_flight = BTreeSet::from(["g2".to_owned()]);
        let picked = pick_batch(&mut pending, |m| m.1, &in_flight, 10);
        assert_eq!(picked, [("a", "g1"), ("c", "g1"), ("d", "g3")]);
        assert_eq!(pending, [("b", "g2")]);
        let mut pending = vec![("a", "g1"), ("b", "g2"), ("c", "g1")];
        let picked = pick_batch(&mut pending, |m| m.1, &BTreeSet::new(), 1);
        assert_eq!(picked, [("a", "g1")]);
        assert_eq!(
            pending,
            [("b", "g2"), ("c", "g1")],
            "a group cut by the size stays whole"
        );
    }
}
