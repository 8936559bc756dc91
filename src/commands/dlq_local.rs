//! `mgrid dlq … --stage local`: the same reports and the same redrive decisions as on AWS
//! (filters, group order, redriven attributes, per-run deduplication ids), on the local
//! stage's database. The local queue can be read whole without hiding anything, and a move is
//! one transaction (the copy and the delete commit together), so nothing needs holding back.

use std::time::Instant;

use anyhow::Result;
use mgrid_contract::envelope::attribute;
use mgrid_contract::{QueueMessage, StageName};

use super::dlq::{PeekReport, PurgeReport, RedriveReport, StatsReport, filter_of, peek_filter};
use crate::aws::queues::Depth;
use crate::cli::{DlqAction, DlqArgs};
use crate::commands::{Context, confirm, now_millis, run_id};
use crate::failure::{Failure, FailureKind};
use crate::local::db::{self, DEAD_LETTERS, Received, WEBHOOKS};
use crate::local::{Paths, data_dir, open_existing};
use crate::output::{note, print_report};
use crate::redrive::{
    Attribute, DeadLetter, move_deduplication_id, plan_batch, redriven_attributes,
};

pub async fn run(context: &Context, stage: &StageName, args: &DlqArgs) -> Result<()> {
    let paths = Paths::new(&data_dir());
    let connection = open_existing(&paths)?;
    let failed =
        |e: rusqlite::Error| Failure::new(FailureKind::Failed, format!("the local database: {e}"));
    let now = now_millis();
    let dead: Vec<DeadLetter> = db::all(&connection, DEAD_LETTERS)
        .map_err(failed)?
        .into_iter()
        .map(dead_letter)
        .collect();
    let depth = |queue| {
        db::depth(&connection, queue, now).map(|d| Depth {
            visible: d.visible,
            in_flight: d.in_flight,
            arn: String::new(),
        })
    };
    match &args.action {
        DlqAction::Stats => {
            let report = StatsReport::new(
                stage,
                depth(DEAD_LETTERS).map_err(failed)?,
                depth(WEBHOOKS).map_err(failed)?,
                &dead,
            );
            print_report(&report, context.global.output)?;
        }
        DlqAction::Peek {
            limit,
            provider,
            reason,
            full,
        } => {
            let filter = peek_filter(*provider, reason);
            let report = PeekReport::new(dead, &filter, usize::from(*limit), *full);
            print_report(&report, context.global.output)?;
        }
        DlqAction::Redrive(redrive_args) if redrive_args.native => {
            return Err(Failure::new(
                FailureKind::Usage,
                "the local stage has no SQS message move task; nothing was moved",
            )
            .next(
                "mgrid dlq redrive --stage local (without --native) moves them, in one transaction",
            )
            .into());
        }
        DlqAction::Redrive(redrive_args) => {
            let filter = filter_of(redrive_args);
            let mut held = std::collections::BTreeSet::new();
            let mut budget = redrive_args.max.map(|m| m as usize);
            let plan = plan_batch(&dead, &filter, &mut held, &mut budget);
            let mut report = RedriveReport {
                stage: stage.to_string(),
                dry_run: redrive_args.dry_run,
                filter: filter.clone(),
                left: plan.release.len(),
                held_groups: plan.held_groups.len(),
                whole_queue_seen: true,
                ..RedriveReport::default()
            };
            if redrive_args.dry_run || plan.move_.is_empty() {
                report.would_move = plan.move_.iter().map(|&i| dead[i].view()).collect();
                report.remaining_in_dlq = dead.len() as u64;
                if plan.move_.is_empty() && !redrive_args.dry_run {
                    note("no dead letter matches; nothing to redrive");
                }
                print_report(&report, context.global.output)?;
                return Ok(());
            }
            let question = format!(
                "Move {} dead-lettered webhook{} of {stage} back to the webhook queue?",
                plan.move_.len(),
                if plan.move_.len() == 1 { "" } else { "s" }
            );
            if !confirm(&question, context.global.yes)? {
                return Err(Failure::new(FailureKind::Declined, "nothing was moved").into());
            }
            let run = run_id()?;
            let started = Instant::now();
            let mut connection = connection;
            let tx = connection.transaction().map_err(failed)?;
            for &index in &plan.move_ {
                let message = &dead[index];
                let copy = redriven(&run, message);
                if db::move_message(
                    &tx,
                    DEAD_LETTERS,
                    &message.message_id,
                    WEBHOOKS,
                    &copy,
                    &run_id()?,
                    now,
                )
                .map_err(failed)?
                {
                    report.moved += 1;
                }
            }
            tx.commit().map_err(failed)?;
            report.elapsed_ms = started.elapsed().as_millis();
            report.per_second = report.moved as f64 / started.elapsed().as_secs_f64().max(0.001);
            report.remaining_in_dlq = (dead.len() - report.moved) as u64;
            print_report(&report, context.global.output)?;
        }
        DlqAction::Cancel => {
            note("the local stage has no SQS message move task; nothing to cancel");
        }
        DlqAction::Purge => {
            let count = dead.len() as u64;
            if !confirm(
                &format!("Purge {count} dead letters of {stage}?"),
                context.global.yes,
            )? {
                return Err(Failure::new(FailureKind::Declined, "nothing was purged").into());
            }
            let purged = db::purge(&connection, DEAD_LETTERS).map_err(failed)?;
            print_report(
                &PurgeReport {
                    stage: stage.to_string(),
                    purged: purged as u64,
                },
                context.global.output,
            )?;
        }
    }
    Ok(())
}

/// A local dead letter as the pure redrive rules take it (the ingress's receipt time is a
/// Number attribute on SQS; the rest are Strings).
fn dead_letter(message: Received) -> DeadLetter {
    DeadLetter {
        message_id: message.message_id,
        receipt_handle: message.receipt,
        body: message.body,
        attributes: message
            .attributes
            .into_iter()
            .map(|(name, value)| {
                let data_type = if name == attribute::RECEIVED_AT {
                    "Number"
                } else {
                    "String"
                };
                let attribute = Attribute::text(data_type, &value);
                (name, attribute)
            })
            .collect(),
        group_id: message.group_id,
        deduplication_id: Some(message.dedup_id),
        receive_count: message.receive_count,
        sent_at: Some(message.sent_at),
    }
}

fn redriven(run: &str, message: &DeadLetter) -> QueueMessage {
    QueueMessage {
        body: message.body.clone(),
        group_id: message.group_id.clone(),
        deduplication_id: move_deduplication_id(run, message),
        attributes: redriven_attributes(message)
            .into_iter()
            .filter_map(|(name, value)| Some((name, value.text?)))
            .collect(),
    }
}
