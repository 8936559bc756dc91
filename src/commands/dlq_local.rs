//! `mgrid dlq … --stage local`: the same reports as on AWS, on the local stage's database. A
//! redrive is the same code as on AWS (the move engine over the local queues, which have SQS's
//! receipts, holds and per-group order); stats and peek read the queue whole, one message at a
//! time, without hiding anything.

use anyhow::Result;
use mgrid_contract::StageName;

use super::dlq::{PeekReport, PurgeReport, StatsReport, peek_filter, redrive};
use crate::cli::{DlqAction, DlqArgs};
use crate::clock::now_millis;
use crate::commands::Context;
use crate::failure::{Failure, FailureKind};
use crate::local::db::{self, DEAD_LETTERS, WEBHOOKS};
use crate::local::{LocalQueue, Paths, data_dir, dead_letter, open_existing};
use crate::output::print_report;
use crate::ports::Depth;
use crate::redrive::Breakdown;
use crate::terminal::confirm;

pub async fn run(context: &Context, stage: &StageName, args: &DlqArgs) -> Result<()> {
    let paths = Paths::new(&data_dir());
    match &args.action {
        DlqAction::Redrive(redrive_args) if redrive_args.native => Err(Failure::new(
            FailureKind::Usage,
            "the local stage has no SQS message move task; nothing was moved",
        )
        .next("mgrid dlq redrive --stage local (without --native) moves them")
        .into()),
        DlqAction::Redrive(redrive_args) => {
            let dlq = LocalQueue::open(&paths, DEAD_LETTERS)?;
            let queue = LocalQueue::open(&paths, WEBHOOKS)?;
            redrive(context, stage, &dlq, &queue, redrive_args).await
        }
        action => report(context, stage, &paths, action),
    }
}

/// The reports that read the local queues whole: stats, peek, purge (and cancel, which has
/// nothing to cancel here).
fn report(context: &Context, stage: &StageName, paths: &Paths, action: &DlqAction) -> Result<()> {
    let failed =
        |e: rusqlite::Error| Failure::new(FailureKind::Failed, format!("the local database: {e}"));
    let connection = open_existing(paths)?;
    let now = now_millis();
    let depth = |queue| {
        db::depth(&connection, queue, now).map(|d| Depth {
            visible: d.visible,
            in_flight: d.in_flight,
            arn: String::new(),
        })
    };
    match action {
        DlqAction::Stats => {
            let mut breakdown = Breakdown::default();
            db::each(&connection, DEAD_LETTERS, |message| {
                breakdown.add(&dead_letter(message).view());
                true
            })
            .map_err(failed)?;
            let report = StatsReport::new(
                stage,
                depth(DEAD_LETTERS).map_err(failed)?,
                depth(WEBHOOKS).map_err(failed)?,
                breakdown,
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
            let limit = usize::from(*limit);
            let mut report = PeekReport::new(*full);
            db::each(&connection, DEAD_LETTERS, |message| {
                report.offer(dead_letter(message), &filter, limit);
                report.messages.len() < limit
            })
            .map_err(failed)?;
            print_report(&report, context.global.output)?;
        }
        DlqAction::Cancel => {
            crate::output::note("the local stage has no SQS message move task; nothing to cancel");
        }
        DlqAction::Purge => {
            let count = depth(DEAD_LETTERS).map_err(failed)?;
            let count = count.visible + count.in_flight;
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
        DlqAction::Redrive(_) => {}
    }
    Ok(())
}
