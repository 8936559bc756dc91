//! `mgrid dlq pipes`: the pipes' dead letters read as the payments they cover, and with --heal
//! those payments settled (commands::settle) before any dead letter is deleted.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Result;
use mgrid_contract::ledger::{Item, transaction_id};

use crate::cli::PipesArgs;
use crate::clock::now_millis;
use crate::commands::context::Context;
use crate::decide::journey::{Journey, READ_MAX};
use crate::decide::pipe_letters::{PipeBatch, PipeLetter, PipeLetters};
use crate::failure::{Failure, FailureKind};
use crate::ports::{DeadLetter, DeadLetterQueue, Settlement};
use crate::target::Target;
use crate::ui::output::print_report;
use crate::ui::terminal::CtrlC;

/// How long a heal holds the dead letters it read hidden: past the heal, or they come back
/// visible on their own when it is killed.
const HOLD_SECONDS: u32 = 600;

pub async fn pipes(context: &Context, target: &Target, args: &PipesArgs) -> Result<()> {
    let stage = target.name().to_string();
    let dlq = target.pipe_dead_letter_queue().await?;
    let settlement = target.settlement().await?;
    let limit = usize::from(args.limit);
    // Read: a heal receives and holds what it may delete; a look scans and puts back.
    let mut read: Vec<DeadLetter> = Vec::new();
    if args.heal {
        while read.len() < limit {
            let batch =
                DeadLetterQueue::receive(&dlq, (limit - read.len()).min(10), HOLD_SECONDS).await?;
            if batch.is_empty() {
                break;
            }
            read.extend(batch);
        }
    } else {
        DeadLetterQueue::scan(&dlq, limit, &mut |letter| {
            read.push(letter);
            true
        })
        .await?;
    }
    let more = read.len() >= limit;
    let mut letters: Vec<PipeLetter> = read
        .iter()
        .map(|letter| match PipeBatch::parse(&letter.body) {
            Ok(batch) => PipeLetter {
                message_id: letter.message_id.clone(),
                batch: Some(batch),
                unreadable: None,
                payments: Vec::new(),
                resolved_by: None,
                deleted: false,
            },
            Err(why) => PipeLetter {
                message_id: letter.message_id.clone(),
                batch: None,
                unreadable: Some(why),
                payments: Vec::new(),
                resolved_by: None,
                deleted: false,
            },
        })
        .collect();

    // Resolve each pointer: from the stream while it holds the batch's records, else from the
    // unsettled index (one read a distinct window).
    let now = now_millis();
    let mut found: BTreeMap<String, Item> = BTreeMap::new();
    let mut windows: BTreeMap<(i64, i64), Vec<Item>> = BTreeMap::new();
    for letter in &mut letters {
        let Some(batch) = &letter.batch else { continue };
        let Some(leg) = batch.leg() else { continue };
        let (items, resolved_by): (std::borrow::Cow<[Item]>, _) =
            match settlement.batch_transactions(batch).await {
                Ok(ids) => (settlement.items(&ids).await?.into(), "stream"),
                Err(why) => {
                    tracing::info!(
                        "{}: {why}; resolving it from the ledger by time",
                        batch.pipe
                    );
                    let window = batch.window();
                    if let std::collections::btree_map::Entry::Vacant(entry) = windows.entry(window)
                    {
                        let page = settlement.unsettled(window.0, window.1, READ_MAX).await?;
                        entry.insert(page.items);
                    }
                    (windows[&window].as_slice().into(), "ledger")
                }
            };
        letter.resolved_by = Some(resolved_by.to_owned());
        for item in items.iter() {
            let legs = mgrid_contract::settlement::Legs::of(item);
            if !legs.tracked || legs.done(leg) {
                continue;
            }
            if let Some(id) = transaction_id(item) {
                letter.payments.push(id.to_owned());
                found.insert(id.to_owned(), item.clone());
            }
        }
    }
    let items: Vec<Item> = found.into_values().collect();
    let mut report = PipeLetters {
        stage: stage.clone(),
        letters,
        more,
        journey: Journey::new(&items, false, None, now),
    };

    if args.heal {
        let mut interrupt = CtrlC::listen();
        let wait = Duration::from_millis(args.wait.0.max(0) as u64);
        let interrupted =
            crate::commands::settle::heal(&settlement, &mut report.journey, wait, &mut interrupt)
                .await?;
        // A dead letter goes only once every payment it resolved to is settled.
        let settled = |id: &String| {
            report
                .journey
                .unsettled
                .iter()
                .find(|p| &p.transaction_id == id)
                .is_none_or(|p| p.settled())
        };
        let mut deletable = Vec::new();
        let mut kept = Vec::new();
        for (letter, message) in report.letters.iter_mut().zip(&read) {
            let ours = letter.batch.as_ref().is_some_and(|b| b.leg().is_some());
            if !interrupted && ours && letter.payments.iter().all(settled) {
                deletable.push((letter, message));
            } else {
                kept.push(message);
            }
        }
        let messages: Vec<&DeadLetter> = deletable.iter().map(|(_, m)| *m).collect();
        if !messages.is_empty() {
            let outcome = DeadLetterQueue::delete(&dlq, &messages).await?;
            for (at, (letter, _)) in deletable.into_iter().enumerate() {
                letter.deleted = outcome.done.contains(&at);
            }
        }
        if !kept.is_empty() {
            DeadLetterQueue::set_visibility(&dlq, &kept, 0).await?;
        }
        if interrupted {
            print_report(&report, context.global.output)?;
            return Err(Failure::new(
                FailureKind::Interrupted,
                "interrupted: the report above is what was healed until Ctrl-C; no dead letter was deleted",
            )
            .into());
        }
    }
    print_report(&report, context.global.output)?;
    let unsettled = report.journey.still_unsettled();
    let unreadable = report.letters.iter().filter(|l| l.batch.is_none()).count();
    if unsettled > 0 || unreadable > 0 {
        return Err(Failure::new(
            FailureKind::Failed,
            format!(
                "{unsettled} payment{} the pipes gave up on {} unsettled{}",
                if unsettled == 1 { "" } else { "s" },
                if unsettled == 1 { "is" } else { "are" },
                if unreadable > 0 {
                    format!(", and {unreadable} dead letter(s) are not stream batch pointers")
                } else {
                    String::new()
                }
            ),
        )
        .next(if args.heal {
            format!(
                "each payment above says why its heal failed; once that is fixed: mgrid dlq pipes --stage {stage} --heal"
            )
        } else {
            format!("mgrid dlq pipes --stage {stage} --heal (settles them, then deletes each dead letter)")
        })
        .into());
    }
    Ok(())
}
