//! The move engine's promises, as properties over random dead-letter queues and random faults,
//! driven through the real driver (src/commands/movers.rs) over an in-memory FIFO queue pair with SQS's
//! semantics (tests/suite/support/fifo.rs): per-entry refusals, answers lost before or after the
//! sends were applied, a processor that rejects some copies again at once, and kills at any
//! call, after which time passes beyond the hold and a second run finishes the job.
//!
//! For every case: the run ends; no dead letter is lost; within each group, what was sent is the
//! group's original order from its start (a prefix, repeats aside); a run that was not killed
//! sends no message twice; what came back is what the processor rejected.

use crate::support;

use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;

use mgrid::commands::movers::{self, RedriveOptions};
use mgrid::decide::move_engine::{MoveSource, Rules, Tally};
use mgrid::decide::redrive::{Filter, RunMark};
use proptest::prelude::*;
use support::fifo::{Dlq, Pair, SendFault, Webhooks};

const HOLD_SECONDS: u32 = 600;

#[derive(Debug, Clone)]
struct Case {
    /// Groups of dead letters: each message's failure reason ("a" is what the filter takes).
    groups: Vec<Vec<&'static str>>,
    /// Only reason "a" moves.
    filtered: bool,
    budget: Option<usize>,
    parallel: usize,
    faults: Vec<Option<SendFault>>,
    /// Bodies whose copies the processor rejects again.
    rejected: Vec<bool>,
    /// Every call after this many hangs (the process was killed).
    kill_after: Option<usize>,
    /// The source slips and hands out messages of groups in flight.
    racy: bool,
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop::collection::vec(
            prop::collection::vec(prop_oneof![Just("a"), Just("b")], 1..6),
            1..8,
        ),
        any::<bool>(),
        prop::option::of(1usize..20),
        1usize..5,
        prop::collection::vec(
            prop::option::of(prop_oneof![
                (0usize..10).prop_map(SendFault::RefuseEntry),
                any::<bool>().prop_map(|applied| SendFault::LoseAnswer { applied }),
            ]),
            0..12,
        ),
        prop::collection::vec(prop::bool::weighted(0.2), 40),
        prop::option::of(1usize..80),
        any::<bool>(),
    )
        .prop_map(
            |(groups, filtered, budget, parallel, faults, rejected, kill_after, racy)| Case {
                groups,
                filtered,
                budget,
                parallel,
                faults,
                rejected,
                kill_after,
                racy,
            },
        )
}

fn body(group: usize, index: usize) -> String {
    format!("g{group}-{index}")
}

/// One redrive over `pair`, to its end (or to the kill).
async fn run(pair: &Pair, case: &Case, budget: Option<usize>) -> Option<Tally> {
    let stop = AtomicBool::new(false);
    let filter = Filter {
        reason: case.filtered.then(|| "a".to_owned()),
        ..Filter::default()
    };
    let mark = RunMark::new(&format!("{:016x}", pair.now()), pair.now());
    let options = RedriveOptions {
        mark: &mark,
        filter: &filter,
        hold_seconds: HOLD_SECONDS,
        parallel: case.parallel,
        rate: None,
        read_limit: None,
        stop: &stop,
    };
    let rules = Rules {
        source: MoveSource::Queue,
        budget,
        dry_run: false,
        workers: case.parallel,
    };
    let (dlq, webhooks) = (Dlq(pair), Webhooks(pair));
    let ports = movers::RedrivePorts {
        dlq: &dlq,
        queue: &webhooks,
        ledger: &mgrid::ports::EmptyLedger,
    };
    let run = movers::redrive(&ports, rules, &options, &|_| {});
    // A killed run hangs on its next call; paused time then runs the timeout out at once.
    match tokio::time::timeout(std::time::Duration::from_secs(100_000), run).await {
        Ok(redriven) => Some(redriven.tally),
        Err(_) => None,
    }
}

fn check(case: &Case) -> Result<(), TestCaseError> {
    // Calls take time (virtual: the runtime's clock is paused), so workers really overlap.
    let pair = Pair::new(Some(std::time::Duration::from_millis(25)));
    let originals: Vec<Vec<String>> = case
        .groups
        .iter()
        .enumerate()
        .map(|(g, reasons)| (0..reasons.len()).map(|i| body(g, i)).collect())
        .collect();
    // Interleave the groups, as a dead-letter queue fills.
    let longest = case.groups.iter().map(Vec::len).max().unwrap_or(0);
    for i in 0..longest {
        for (g, reasons) in case.groups.iter().enumerate() {
            if let Some(reason) = reasons.get(i) {
                pair.dead_letter(&format!("G{g}"), &body(g, i), reason, 60_000);
            }
        }
    }
    let total: usize = originals.iter().map(Vec::len).sum();
    pair.call_cap.set(200 + total * 40);
    *pair.send_faults.borrow_mut() = case.faults.iter().flatten().copied().collect();
    let rejected: BTreeMap<String, bool> = originals
        .iter()
        .flatten()
        .zip(case.rejected.iter().cycle())
        .map(|(body, rejected)| (body.clone(), *rejected))
        .collect();
    let rejects = rejected.clone();
    *pair.rejected_by_processor.borrow_mut() =
        Box::new(move |message| rejects.get(&message.body).copied().unwrap_or(false));
    pair.kill_after.set(case.kill_after);
    pair.racy_groups.set(case.racy);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    let first = runtime.block_on(run(&pair, case, case.budget));
    let killed = first.is_none();
    let mut tallies: Vec<Tally> = first.iter().cloned().collect();
    if killed {
        // The process is gone: its holds run out, and a second run (no faults) finishes.
        pair.kill_after.set(None);
        pair.send_faults.borrow_mut().clear();
        pair.advance(i64::from(HOLD_SECONDS) * 1000 + 1);
        pair.call_cap.set(pair.calls.get() + 200 + total * 40);
        let second = runtime.block_on(run(&pair, case, None));
        prop_assert!(second.is_some(), "the second run ended");
        tallies.extend(second);
    }
    pair.advance(i64::from(HOLD_SECONDS) * 1000 + 1);

    // No loss: every original is in one queue or the other (a rejected copy is back in the DLQ).
    let dlq = Pair::bodies_by_group(&pair.dlq);
    let webhooks = Pair::bodies_by_group(&pair.webhooks);
    for (g, bodies) in originals.iter().enumerate() {
        let group = format!("G{g}");
        for body in bodies {
            let found = dlq.get(&group).is_some_and(|b| b.contains(body))
                || webhooks.get(&group).is_some_and(|b| b.contains(body));
            prop_assert!(found, "{body} was lost");
        }
    }

    // Order: per group, what was sent (first sends) is the group's start, in order.
    let mut sent: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (group, body) in pair.sent.borrow().iter() {
        let bodies = sent.entry(group.clone()).or_default();
        if !bodies.contains(body) {
            bodies.push(body.clone());
        } else if !killed {
            prop_assert!(false, "{body} was sent twice by a run that was not killed");
        }
    }
    let reordered = pair.reordered.borrow().clone();
    if !killed {
        let reported: std::collections::BTreeSet<String> =
            tallies.iter().flat_map(|t| t.reordered.clone()).collect();
        prop_assert_eq!(
            &reported,
            &reordered,
            "the run reports every group the queue reordered"
        );
    }
    for (g, bodies) in originals.iter().enumerate() {
        if reordered.contains(&format!("G{g}")) {
            // The queue took a later message of the group past a refused one (reported).
            continue;
        }
        let moved = sent.get(&format!("G{g}")).cloned().unwrap_or_default();
        prop_assert_eq!(
            &moved[..],
            &bodies[..moved.len()],
            "group G{} was sent out of its order",
            g
        );
    }

    if let Some(tally) = first {
        let rejected_copies = pair
            .sent
            .borrow()
            .iter()
            .filter(|(_, body)| rejected[body])
            .count();
        prop_assert!(tally.came_back_total() <= rejected_copies);
        prop_assert_eq!(tally.arrived, 0, "nothing else dead-letters during the run");
        let deleted = total
            - pair
                .dlq
                .borrow()
                .iter()
                .filter(|m| !m.dedup.starts_with("mgrid-run-"))
                .count();
        prop_assert_eq!(tally.moved, deleted, "moved counts the originals deleted");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn every_run_ends_loses_nothing_and_keeps_each_groups_order(case in case()) {
        check(&case)?;
    }
}

#[test]
fn a_redrive_of_webhooks_that_fail_again_ends_and_counts_them() {
    let pair = Pair::new(None);
    for i in 0..120 {
        pair.dead_letter(
            &format!("G{}", i % 12),
            &format!("b{i}"),
            "bad-signature",
            60_000,
        );
    }
    *pair.rejected_by_processor.borrow_mut() = Box::new(|_| true);
    pair.call_cap.set(2_000);
    let case = Case {
        groups: Vec::new(),
        filtered: false,
        budget: None,
        parallel: 4,
        faults: Vec::new(),
        rejected: Vec::new(),
        kill_after: None,
        racy: false,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    let tally = runtime
        .block_on(run(&pair, &case, None))
        .expect("the run ends");
    assert_eq!(tally.moved, 120, "each original moved once");
    assert_eq!(pair.sent.borrow().len(), 120, "and only once");
    assert!(tally.came_back_total() > 0, "{tally:?}");
    assert_eq!(
        tally.came_back.keys().collect::<Vec<_>>(),
        ["bad-signature"]
    );
    assert_eq!(
        pair.dlq.borrow().len(),
        120,
        "every copy is back, none lost"
    );
}

#[test]
fn parallel_workers_end_when_every_group_is_left_in_place() {
    // Every call takes a while, so workers overlap their receives: the last empty receive must
    // still end the run, not leave workers polling an empty queue for ever.
    let pair = Pair::new(Some(std::time::Duration::from_millis(25)));
    for i in 0..60 {
        pair.dead_letter(
            &format!("G{}", i % 12),
            &format!("b{i}"),
            "no-signing-secret",
            60_000,
        );
    }
    pair.call_cap.set(500);
    let case = Case {
        groups: Vec::new(),
        filtered: true,
        budget: None,
        parallel: 16,
        faults: Vec::new(),
        rejected: Vec::new(),
        kill_after: None,
        racy: false,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    let tally = runtime
        .block_on(run(&pair, &case, None))
        .expect("the run ends");
    assert_eq!((tally.moved, tally.held_groups), (0, 12), "{tally:?}");
}

/// The watch after a move reads the dead-letter queue (on SQS, a receive of each message read)
/// at its first look, again only when the queue's depth moved, and at its last look; a copy
/// that comes back is seen at the next look and ends the watch.
#[tokio::test]
async fn the_watch_reads_the_dead_letter_queue_only_when_it_changed() {
    use mgrid::decide::verdict::{SentCopy, Verdict, Verdicts};
    use std::time::Duration;

    let pair = Pair::new(None);
    for n in 0..5 {
        pair.dead_letter(&format!("g{n}"), &format!("other-{n}"), "bad-signature", 10);
    }
    let mut verdicts = Verdicts::default();
    verdicts.sent(SentCopy {
        deduplication_id: "mgrid-run-0123456789abcdef-copy".into(),
        transaction_id: Some("stripe:evt_copy".into()),
        event_id: Some("evt_copy".into()),
        already_recorded: false,
    });
    let stop = AtomicBool::new(false);
    let options = movers::FollowOptions {
        wait: Duration::from_millis(1_200),
        every: Duration::from_millis(100),
        scan_limit: 1_000,
        stop: &stop,
    };
    let end = movers::follow(
        &mut verdicts,
        &Dlq(&pair),
        &mgrid::ports::EmptyLedger,
        &options,
        &|_| {},
    )
    .await;
    assert!(end.watched >= Duration::from_millis(1_100));
    assert_eq!(
        pair.receive_counts(),
        [2; 5],
        "read at the first look and the last, not at each of a dozen"
    );
    assert_eq!(verdicts.counts().pending, 1);

    // The copy comes back: the depth moves, the next look reads it, the watch ends.
    pair.dead_letter("g9", "the copy", "bad-signature", 0);
    if let Some(copy) = pair.dlq.borrow_mut().last_mut() {
        copy.dedup = "mgrid-run-0123456789abcdef-copy".into();
    }
    let end = movers::follow(
        &mut verdicts,
        &Dlq(&pair),
        &mgrid::ports::EmptyLedger,
        &options,
        &|_| {},
    )
    .await;
    assert!(
        end.watched < Duration::from_millis(500),
        "{:?}",
        end.watched
    );
    assert_eq!(
        verdicts.all().next().map(|f| f.verdict.clone()),
        Some(Verdict::FailedAgain {
            reason: "bad-signature".into()
        })
    );
}

/// What a redrive costs in requests: every SQS request is billed and counts against the queue's
/// limits. 300 dead letters in 30 groups (the emulator bench's case), 2,000 in 200, and 100 in
/// one group, sent group by group interleaved as traffic leaves them, at the default
/// --parallel 16, over the in-memory pair whose receives skip groups in flight and otherwise
/// follow the queue's order (as the emulator's do). Receives, copies, deletes and visibility
/// changes are counted; a rise above 0.35 (issue 48's bound) fails. Measured: 0.327 on 300 in
/// 30 groups (0.353 before a woken worker's first receive counted as the one try outstanding:
/// workers woken while it long-polled each made another empty receive), 0.308 on 2,000 in 200,
/// 0.320 on 100 in one group; the redrive made 1.02 on the emulator before the move engine's
/// economy came back. (The verdicts' ledger read comes after the move: one for up to 100
/// copies.) The clock is paused, as in the property test above: calls take their virtual time,
/// so the count does not depend on how busy the machine is.
#[test]
fn a_redrive_costs_at_most_0_35_requests_a_message() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    for (messages, groups) in [(300, 30), (2_000, 200), (100, 1)] {
        let pair = Pair::new(Some(std::time::Duration::from_millis(2)));
        for n in 0..messages {
            pair.dead_letter(
                &format!("G{}", n % groups),
                &format!("b{n}"),
                "bad-signature",
                60_000,
            );
        }
        let stop = AtomicBool::new(false);
        let filter = Filter::default();
        let mark = RunMark::new("0123456789abcdef", pair.now());
        let options = RedriveOptions {
            mark: &mark,
            filter: &filter,
            hold_seconds: HOLD_SECONDS,
            parallel: 16,
            rate: None,
            read_limit: None,
            stop: &stop,
        };
        let rules = Rules {
            source: MoveSource::Queue,
            budget: None,
            dry_run: false,
            workers: 16,
        };
        let (dlq, webhooks) = (Dlq(&pair), Webhooks(&pair));
        let ports = movers::RedrivePorts {
            dlq: &dlq,
            queue: &webhooks,
            ledger: &mgrid::ports::EmptyLedger,
        };
        let redriven = runtime.block_on(movers::redrive(&ports, rules, &options, &|_| {}));
        assert!(redriven.failure.is_none());
        assert_eq!(redriven.tally.moved, messages);
        let per_message = pair.calls.get() as f64 / messages as f64;
        eprintln!(
            "{messages} in {groups} groups: {} requests, {per_message:.3} a message: {:?}",
            pair.calls.get(),
            pair.calls_by_kind.borrow()
        );
        assert!(
            per_message <= 0.35,
            "{messages} dead letters in {groups} groups took {} requests, {per_message:.3} a message",
            pair.calls.get()
        );
    }
}
