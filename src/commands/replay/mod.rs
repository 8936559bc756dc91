//! `mgrid replay`: put archived webhooks back through a stage's pipeline, exactly as the
//! ingress queued them the first time.
//!
//! Three steps: list the window's hour prefixes (in parallel), read and parse the objects (in
//! parallel; unreadable ones are reported and skipped), then, after a summary and a
//! confirmation, send them in the order they were received, in batches. A batch whose outcome is
//! unknown is sent again with the same deduplication ids, which SQS drops if the first got in.

use anyhow::Result;
use mgrid_contract::clock::format_rfc3339;

mod report;
mod send;
mod window;

pub use report::{ReplayPlan, ReplayReport, TypeCount, Unreadable};
pub use send::Destination;
use send::replay;
pub use window::{ArchiveWindow, MAX_WINDOW_HOURS};

use crate::cli::ReplayArgs;
use crate::clock::now_millis;
use crate::commands::context::Context;
use crate::decide::replay::{Selection, parse_time};
use crate::failure::{Failure, FailureKind};
use crate::target::Target;
use crate::ui::terminal::verbose_calls;

pub async fn run(context: &Context, source: &Target, args: &ReplayArgs) -> Result<()> {
    let stage = source.name();
    let now = now_millis();
    let usage = |e: String| Failure::new(FailureKind::Usage, e);
    let from = parse_time(&args.from, now).map_err(usage)?;
    let to = match &args.to {
        Some(to) => parse_time(to, now).map_err(usage)?,
        None => now,
    };
    if to < from {
        return Err(Failure::new(
            FailureKind::Usage,
            format!(
                "the window ends ({}) before it starts ({})",
                format_rfc3339(to),
                format_rfc3339(from)
            ),
        )
        .into());
    }
    let selection = Selection {
        from,
        to,
        provider: args.provider.map(Into::into),
        vendor: args.vendor.clone(),
        event_type: args.event_type.clone(),
        event_ids: args.event_ids.iter().cloned().collect(),
    };
    let window = ArchiveWindow::of(&selection)?;
    // The target may be another stage, even in another region: it is resolved on its own.
    let other = match &args.into_stage {
        Some(into) if into != stage => Some(context.target_of(into.clone()).await?),
        _ => None,
    };
    let into = other.as_ref().unwrap_or(source);
    if matches!(source, Target::Local(_)) != matches!(into, Target::Local(_)) {
        return Err(Failure::new(
            FailureKind::Usage,
            "the local stage replays only into itself, and only itself into it",
        )
        .into());
    }
    if other.is_some() && into.protected() && !args.force {
        let target = into.name();
        return Err(Failure::new(
            FailureKind::Usage,
            format!(
                "{target} is a protected stage: replaying {stage}'s traffic into it needs --force"
            ),
        )
        .next(format!(
            "add --force if {target} really should receive these webhooks"
        ))
        .into());
    }
    let archive = source.archive().await?;
    let destination = Destination {
        queue: into.webhook_queue().await?,
        ledger: into.ledger().await?,
        dlq: into.dead_letter_queue().await?,
    };
    let result = replay(
        context,
        args,
        stage,
        into.name(),
        &window,
        &archive,
        &destination,
    )
    .await;
    let calls = source.calls().unwrap_or(0) + other.as_ref().and_then(Target::calls).unwrap_or(0);
    if source.calls().is_some() {
        verbose_calls(context.global.verbose > 0, calls);
    }
    result
}

#[cfg(test)]
mod snapshots {
    //! Every replay report as a pipe gets it: a dry run, a run, and one that had nothing to do.

    use super::*;
    use crate::text::plain;

    fn summary() -> ReplayReport {
        ReplayReport {
            stage: "prod".into(),
            into_stage: "staging".into(),
            from: "2026-11-29T14:00:00Z".into(),
            to: "2026-11-29T16:00:00Z".into(),
            prefixes: 6,
            listed: 1_250,
            read: 1_250,
            matched: 1_200,
            skipped_present: 30,
            by_type: vec![
                TypeCount {
                    provider: "stripe".into(),
                    event_type: "payment_intent.succeeded".into(),
                    count: 900,
                },
                TypeCount {
                    provider: "paypal".into(),
                    event_type: "PAYMENT.CAPTURE.COMPLETED".into(),
                    count: 270,
                },
            ],
            unreadable: vec![Unreadable {
                key: "webhooks/stripe/2026/11/29/14/evt_x.json".into(),
                reason: "not a JSON object".into(),
            }],
            ..ReplayReport::default()
        }
    }

    #[test]
    fn dry_run() {
        let report = ReplayReport {
            dry_run: true,
            ..summary()
        };
        insta::assert_snapshot!("replay_dry_run", plain(&report));
        insta::assert_snapshot!(
            "replay_dry_run_80_columns",
            crate::text::at_80_columns(&report)
        );
        crate::ui::output::assert_json_contract("replay", &report);
    }

    #[test]
    fn sent() {
        let report = ReplayReport {
            sent: 1_169,
            failed: vec!["evt_y: the queue refused it".into()],
            per_second: 412.0,
            judged: crate::decide::verdict::Judged {
                verdicts: crate::decide::verdict::VerdictCounts {
                    recorded: 1_100,
                    duplicate: 60,
                    failed_again: [("ledger-unavailable".to_owned(), 4)].into(),
                    pending: 5,
                },
                watched_ms: 30_000,
                check_later: Some("mgrid replay --stage prod --from 2026-11-29T14:00:00Z --to 2026-11-29T16:00:00Z --only-missing --dry-run (counts the webhooks still not in the ledger)".into()),
                ..crate::decide::verdict::Judged::default()
            },
            ..summary()
        };
        insta::assert_snapshot!("replay_sent", plain(&report));
        insta::assert_snapshot!(
            "replay_sent_80_columns",
            crate::text::at_80_columns(&report)
        );
        crate::ui::output::assert_json_contract("replay", &report);
    }

    #[test]
    fn nothing_matched() {
        let report = ReplayReport {
            stage: "prod".into(),
            into_stage: "prod".into(),
            from: "2026-11-29T14:00:00Z".into(),
            to: "2026-11-29T15:00:00Z".into(),
            prefixes: 2,
            ..ReplayReport::default()
        };
        insta::assert_snapshot!("replay_nothing", plain(&report));
        crate::ui::output::assert_json_contract("replay", &report);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_limit_is_on_its_length_not_the_hours_its_ends_touch() {
        const DAY: i64 = 86_400_000;
        // Ends in the middle of hours: 92 days touch 2,209 hour prefixes a provider.
        let to = 1_764_590_400_000 + 1_234_567;
        let selection = |from| Selection {
            from,
            to,
            provider: None,
            vendor: None,
            event_type: None,
            event_ids: Default::default(),
        };
        let window = ArchiveWindow::of(&selection(to - 92 * DAY)).expect("92 days are taken");
        assert_eq!(window.hours, 2_209);
        let refused = ArchiveWindow::of(&selection(to - 92 * DAY - 1))
            .err()
            .expect("refused");
        assert!(
            refused.what.contains("longer than the 92 days"),
            "{}",
            refused.what
        );
    }
}
