//! Healing the journey after the ledger, for any verb that finds payments unsettled
//! (`reconcile --heal`, `dlq redrive --pipes`): every leg a payment waits on redone from its
//! ledger item with the leg's own code, then followed to its receipt, and each payment marked
//! with what became of it. Redoing is safe to repeat: the archive write is idempotent (the same
//! bytes at the same key), and a notification sent again is marked as a redelivery, so a heal
//! killed midway and run again settles the rest.

use std::time::Duration;

use mgrid_contract::ledger::{Item, transaction_id};
use mgrid_contract::settlement::{Leg, Legs};

use crate::clock::now_millis;
use crate::decide::journey::{Journey, LegHeal};
use crate::failure::Failure;
use crate::ports::{Redone, Settlement};
use crate::ui::terminal::{CtrlC, progress_bar};

/// Items redone per call (a BatchGetItem's worth).
const CHUNK: usize = 100;

/// How often handed-over legs are looked at while waiting for their receipts.
const LOOK_EVERY: Duration = Duration::from_millis(500);

/// Heals every unsettled payment of `journey`, waiting up to `wait` for receipts that another
/// process writes (the local notify pipe). True when Ctrl-C stopped it: what was redone by then
/// is reported, and the rest is left as it was.
pub async fn heal(
    settlement: &impl Settlement,
    journey: &mut Journey,
    wait: Duration,
    interrupt: &mut CtrlC,
) -> Result<bool, Failure> {
    // What is in flight is the pipeline's: only what it left unsettled is redone.
    let ids: Vec<String> = journey
        .unsettled
        .iter()
        .filter(|p| !p.in_flight)
        .map(|p| p.transaction_id.clone())
        .collect();
    if ids.is_empty() {
        return Ok(false);
    }
    let steps: usize = journey
        .unsettled
        .iter()
        .filter(|p| !p.in_flight)
        .map(|p| p.waits_on.len())
        .sum();
    let bar = progress_bar(steps as u64, "{bar:30} {pos}/{len} legs redone  {msg}");
    let mut handed: Vec<(String, Leg)> = Vec::new();
    let mut interrupted = false;
    'chunks: for chunk in ids.chunks(CHUNK) {
        let Ok(items) = interrupt.unless(settlement.items(chunk)).await else {
            interrupted = true;
            break;
        };
        let items = items?;
        for id in chunk {
            if !items.iter().any(|item| transaction_id(item) == Some(id)) {
                for leg in Leg::ALL {
                    journey.heal(
                        id,
                        leg,
                        LegHeal::Failed("the ledger no longer holds it".into()),
                    );
                }
            }
        }
        for leg in Leg::ALL {
            // Read whole: a leg may have finished since the index was read.
            let (done, waiting): (Vec<&Item>, Vec<&Item>) = items
                .iter()
                .filter(|item| Legs::of(item).tracked)
                .filter(|item| {
                    transaction_id(item).is_some_and(|id| {
                        journey
                            .unsettled
                            .iter()
                            .any(|p| p.transaction_id == id && p.waits_on(leg))
                    })
                })
                .partition(|item| Legs::of(item).done(leg));
            for item in done {
                if let Some(id) = transaction_id(item) {
                    journey.heal(id, leg, LegHeal::Settled);
                }
            }
            if waiting.is_empty() {
                continue;
            }
            let waiting: Vec<Item> = waiting.into_iter().cloned().collect();
            let Ok(redone) = interrupt.unless(settlement.redo(leg, &waiting)).await else {
                interrupted = true;
                break 'chunks;
            };
            for (item, outcome) in waiting.iter().zip(redone?) {
                let Some(id) = transaction_id(item) else {
                    continue;
                };
                match outcome {
                    Redone::Done => journey.heal(id, leg, LegHeal::Settled),
                    Redone::Handed => {
                        journey.heal(id, leg, LegHeal::Handed);
                        handed.push((id.to_owned(), leg));
                    }
                    Redone::Failed(why) => journey.heal(id, leg, LegHeal::Failed(why)),
                }
                if let Some(bar) = &bar {
                    bar.inc(1);
                }
            }
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    // Follow what was handed over to its receipt, until the wait ends (one look after Ctrl-C,
    // or when nothing is delivering it now: it stays handed over, delivered once it runs).
    let delivering = settlement.delivers_handed();
    if !delivering && !handed.is_empty() {
        crate::ui::output::note(&format!(
            "{} notification{} handed to the notify pipe of `mgrid dev`, which is not running: delivered once it runs",
            handed.len(),
            if handed.len() == 1 { "" } else { "s" }
        ));
    }
    let deadline = now_millis()
        + if interrupted || !delivering {
            0
        } else {
            wait.as_millis() as i64
        };
    while !handed.is_empty() {
        let ids: Vec<String> = handed.iter().map(|(id, _)| id.clone()).collect();
        let items = settlement.items(&ids).await?;
        handed.retain(|(id, leg)| {
            let done = items
                .iter()
                .any(|item| transaction_id(item) == Some(id) && Legs::of(item).done(*leg));
            if done {
                journey.heal(id, *leg, LegHeal::Settled);
            }
            !done
        });
        if handed.is_empty() || now_millis() >= deadline {
            break;
        }
        if interrupt
            .unless(tokio::time::sleep(LOOK_EVERY))
            .await
            .is_err()
        {
            interrupted = true;
            break;
        }
    }
    journey.recount();
    Ok(interrupted)
}
