//! `mgrid dlq`: see why webhooks were dead-lettered, and put them back, in order, losing none.
//!
//! A redrive copies a batch to the webhook queue and deletes from the dead-letter queue only
//! what the copy acknowledged, entry by entry. Killed at any moment, every message is in one
//! queue or the other (a message being moved is hidden for --hold, then visible again), and at
//! worst in both, which the processor's idempotency absorbs. Messages a filter does not take
//! are held aside until the run ends and then made visible at once, untouched.

mod native;
mod peek;
mod pipes;
mod purge;
mod redrive;
mod redrive_report;
mod stats;

pub use native::{MoveTaskReport, cancel_running, start_and_follow};
use native::{cancel, native};
use peek::peek;
pub use peek::{PeekReport, Peeked, peek_filter};
use purge::purge;
pub use purge::{PurgePlan, PurgeReport};
pub use redrive::{RedrivePlan, SecretsSettle, filter_of};
use redrive::{redrive, secrets_settle};
pub use redrive_report::RedriveReport;
use stats::stats;
pub use stats::{ReasonCount, StatsReport};

use anyhow::Result;
use mgrid_contract::Provider;

use crate::cli::{DlqAction, DlqArgs};
use crate::clock::now_millis;
use crate::commands::context::Context;
use crate::commands::movers::RedrivePorts;
use crate::decide::redrive::Filter;
use crate::target::Target;
use crate::ui::terminal::verbose_calls;

pub async fn run(context: &Context, target: &Target, args: &DlqArgs) -> Result<()> {
    let stage = target.name();
    let dlq = target.dead_letter_queue().await?;
    let result = match &args.action {
        DlqAction::Stats => {
            let queue = target.webhook_queue().await?;
            stats(context, stage, &dlq, &queue).await
        }
        DlqAction::Peek {
            limit,
            provider,
            reason,
            full,
        } => {
            let filter = peek_filter(*provider, reason);
            peek(context, stage, &dlq, usize::from(*limit), &filter, *full).await
        }
        DlqAction::Redrive(redrive_args) if redrive_args.native => {
            let tasks = target.move_tasks()?;
            let queue = target.webhook_queue().await?;
            native(context, stage, &tasks, &dlq, &queue, redrive_args).await
        }
        DlqAction::Redrive(redrive_args) => {
            let queue = target.webhook_queue().await?;
            let ledger = target.ledger().await?;
            let ports = RedrivePorts {
                dlq: &dlq,
                queue: &queue,
                ledger: &ledger,
            };
            let providers: Vec<Provider> = match redrive_args.provider {
                Some(provider) => vec![provider.into()],
                None => Provider::ALL.to_vec(),
            };
            let rings = target.key_rings().await?;
            let settle = secrets_settle(&rings, stage, &providers).await?;
            redrive(context, stage, &ports, settle, redrive_args).await
        }
        DlqAction::Cancel => cancel(context, stage, &target.move_tasks()?, &dlq).await,
        DlqAction::Pipes(pipes_args) => pipes::pipes(context, target, pipes_args).await,
        DlqAction::Purge {
            dry_run,
            provider,
            event_id,
            event_type,
            reason,
            older_than,
        } => {
            let filter = Filter {
                provider: provider.map(Into::into),
                event_id: event_id.clone(),
                event_type: event_type.clone(),
                reason: reason.clone(),
                sent_before: older_than.map(|age| now_millis() - age.0),
            };
            purge(context, stage, target.protected(), &dlq, filter, *dry_run).await
        }
    };
    if let Some(calls) = target.calls() {
        verbose_calls(context.global.verbose > 0, calls);
    }
    result
}

#[cfg(test)]
mod snapshots {
    //! Every dlq report as a pipe gets it.

    use super::*;
    use crate::aws::queues::{MoveTask, MoveTaskStatus};
    use crate::commands::flow::Outcome;
    use crate::decide::redrive::{Breakdown, DeadLetterView};
    use crate::decide::verdict::Followed;
    use crate::failure::FailureKind;
    use crate::ports::Depth;
    use crate::text::plain;
    use mgrid_contract::StageName;

    fn view(id: &str, reason: &str, event_type: Option<&str>) -> DeadLetterView {
        DeadLetterView {
            message_id: format!("{id}-0000-4000-8000-000000000000"),
            group_id: "stripe:acct_1".into(),
            provider: Some("stripe".into()),
            event_id: Some(format!("evt_{id}")),
            event_type: event_type.map(str::to_owned),
            reason: reason.into(),
            detail: Some("the signature does not match".into()),
            receive_count: 3,
            sent_at: Some(1_764_460_800_000),
            malformed: event_type.is_none(),
            body_bytes: 42,
        }
    }

    fn depth(visible: u64, in_flight: u64) -> Depth {
        Depth {
            visible,
            in_flight,
            arn: String::new(),
        }
    }

    #[test]
    fn stats() {
        let mut breakdown = Breakdown::default();
        breakdown.add(&view(
            "a1",
            "bad-signature",
            Some("payment_intent.succeeded"),
        ));
        breakdown.add(&view(
            "a2",
            "bad-signature",
            Some("payment_intent.succeeded"),
        ));
        breakdown.add(&view("a3", "malformed-body", None));
        let stage: StageName = "prod".parse().expect("a stage name");
        let report = StatsReport::new(&stage, depth(5, 1), depth(0, 0), breakdown);
        insta::assert_snapshot!("dlq_stats", plain(&report));
        insta::assert_snapshot!("dlq_stats_80_columns", crate::text::at_80_columns(&report));
        crate::ui::output::assert_json_contract("dlq-stats", &report);
        let empty = StatsReport::new(&stage, depth(0, 0), depth(2, 0), Breakdown::default());
        insta::assert_snapshot!("dlq_stats_empty", plain(&empty));
        crate::ui::output::assert_json_contract("dlq-stats", &empty);
    }

    #[test]
    fn peek() {
        let stage: StageName = "prod".parse().expect("a stage name");
        let mut report = PeekReport::new(&stage, true);
        report.messages.push(Peeked {
            view: view("b1", "bad-signature", Some("charge.refunded")),
            body: "{\"id\":\"evt_b1\",\"type\":\"charge.refunded\"}".into(),
        });
        report.messages.push(Peeked {
            view: view("b2", "malformed-body", None),
            body: "not json \u{1b}[2J".into(),
        });
        insta::assert_snapshot!("dlq_peek_full", plain(&report));
        crate::ui::output::assert_json_contract("dlq-peek", &report);
        // On an 80-column terminal each row stays one line, long values cut with `…`.
        let fitted = crate::text::with_table_width(Some(80), || plain(&report));
        assert!(fitted.lines().all(|l| l.chars().count() <= 80), "{fitted}");
        insta::assert_snapshot!("dlq_peek_80_columns", fitted);
        insta::assert_snapshot!("dlq_peek_none", plain(&PeekReport::new(&stage, false)));

        // Real ids are long: at 80 columns they stay whole (to be copied into a redrive or a
        // trace) and the other columns give way; SQS's receive is said.
        let mut real = PeekReport::new(&stage, false);
        real.reads_are_receives = true;
        for id in [
            "WH-2WR32451HC0233532-67976317FL4543714",
            "evt_1QdR7uK4Yh2mZc3bNf8xLp0A",
        ] {
            let mut view = view("c1", "bad-signature", Some("PAYMENT.CAPTURE.COMPLETED"));
            view.event_id = Some(id.into());
            real.messages.push(Peeked {
                view,
                body: format!("{{\"id\":\"{id}\"}}"),
            });
        }
        let fitted = crate::text::with_table_width(Some(80), || plain(&real));
        assert!(fitted.lines().all(|l| l.chars().count() <= 80), "{fitted}");
        for id in [
            "WH-2WR32451HC0233532-67976317FL4543714",
            "evt_1QdR7uK4Yh2mZc3bNf8xLp0A",
        ] {
            assert!(fitted.contains(id), "{id} whole: {fitted}");
        }
        insta::assert_snapshot!("dlq_peek_80_columns_real_ids", fitted);
    }

    #[test]
    fn redrive() {
        let mut done = RedriveReport {
            stage: "prod".into(),
            moved: 120,
            left: 3,
            failed: vec!["m-1: the queue refused it".into()],
            copied_not_deleted: 1,
            arrived_during_run: 2,
            per_second: 84.0,
            remaining_in_dlq: 6,
            ..RedriveReport::default()
        };
        done.run_id = "0123456789abcdef".into();
        done.judged.watched_ms = 30_000;
        done.judged.verdicts = crate::decide::verdict::VerdictCounts {
            recorded: 111,
            duplicate: 2,
            failed_again: [("bad-signature".to_owned(), 4)].into(),
            pending: 3,
        };
        done.judged.unsettled = (1..=3)
            .map(|n| Followed {
                deduplication_id: format!("mgrid-run-0123456789abcdef-{n}"),
                transaction_id: Some(format!("stripe:evt_{n}")),
                event_id: Some(format!("evt_{n}")),
                verdict: crate::decide::verdict::Verdict::Pending,
            })
            .collect();
        done.judged.check_later =
            Some("mgrid dlq redrive --stage prod --status 0123456789abcdef".into());
        let refused = std::mem::take(&mut done.failed);
        let failure = done.failure().expect("some failed again");
        assert_eq!(failure.kind, FailureKind::Partial);
        assert!(failure.what.contains("4 of 120"), "{}", failure.what);
        done.judged.verdicts.failed_again.clear();
        assert_eq!(
            done.failure().map(|f| f.kind),
            Some(FailureKind::Pending),
            "none failed again, some not judged"
        );
        done.judged
            .verdicts
            .failed_again
            .insert("bad-signature".into(), 4);
        done.failed = refused;
        insta::assert_snapshot!("dlq_redrive", plain(&done));
        insta::assert_snapshot!("dlq_redrive_80_columns", crate::text::at_80_columns(&done));
        crate::ui::output::assert_json_contract("dlq-redrive", &done);
        let dry = RedriveReport {
            stage: "prod".into(),
            dry_run: true,
            would_move: vec![view("c1", "processor-error", Some("charge.succeeded"))],
            held_groups: 1,
            ..RedriveReport::default()
        };
        insta::assert_snapshot!("dlq_redrive_dry_run", plain(&dry));
        crate::ui::output::assert_json_contract("dlq-redrive", &dry);
    }

    #[test]
    fn move_task_and_purge() {
        let task = MoveTaskReport {
            stage: "prod".into(),
            task: MoveTask {
                handle: Some("handle".into()),
                status: MoveTaskStatus::Failed,
                moved: 40,
                to_move: Some(200),
                failure: Some("AccessDenied".into()),
            },
        };
        insta::assert_snapshot!("dlq_move_task", plain(&task));
        crate::ui::output::assert_json_contract("dlq-cancel", &task);
        let purge = PurgeReport {
            stage: "dev".into(),
            purged: 12,
            filter: None,
            left: None,
        };
        insta::assert_snapshot!("dlq_purge", plain(&purge));
        crate::ui::output::assert_json_contract("dlq-purge", &purge);
        let filtered = PurgeReport {
            filter: Some(Filter {
                reason: Some("bad-signature".into()),
                ..Filter::default()
            }),
            left: Some(3),
            ..purge
        };
        assert_eq!(
            plain(&filtered),
            "deleted 12 matching dead letters of dev; 3 that do not match are still there (`mgrid dlq stats --stage dev`)\n"
        );
        crate::ui::output::assert_json_contract("dlq-purge", &filtered);
        let plan = PurgePlan {
            stage: "prod".into(),
            protected: true,
            dead_letters: 12,
            breakdown: vec![
                ReasonCount {
                    provider: "stripe".into(),
                    reason: "bad-signature".into(),
                    count: 9,
                },
                ReasonCount {
                    provider: "paypal".into(),
                    reason: "malformed".into(),
                    count: 3,
                },
            ],
            dry_run: true,
            filter: None,
        };
        insta::assert_snapshot!("dlq_purge_plan", plain(&plan));
        insta::assert_snapshot!("dlq_purge_plan_80", crate::text::at_80_columns(&plan));
        crate::ui::output::assert_json_contract("dlq-purge-plan", &plan);
    }
}
