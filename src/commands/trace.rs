//! `mgrid trace <event id>`: where a webhook is, from every place it can be, each with one
//! bounded lookup: the ledger (one read by key), the archive (one object, at the key the
//! ledger's receipt time gives), the dead-letter queue (its first messages, at most
//! [`DLQ_READ`], all made visible again) and the processor's decision lines (one filtered read of
//! its log). Then a verdict and the next step.

use anyhow::Result;
use mgrid_contract::decision::DecisionLine;
use mgrid_contract::settlement::Legs;
use mgrid_contract::{ArchiveHour, ArchiveKey, Provider};

use crate::cli::TraceArgs;
use crate::clock::now_millis;
use crate::commands::context::Context;
use crate::decide::logs::{LogQuery, LogSource};
use crate::decide::trace::{Conclusion, Recorded, TraceReport, VerdictKind, verdict};
use crate::failure::{Failure, FailureKind};
use crate::ports::{
    DeadLetterQueue, KeyRings, LedgerLookup, Logs, Notification, Settlement, WebhookArchive,
};
use crate::target::Target;
use crate::ui::output::print_report;

/// Dead letters a trace reads at most on SQS, where each read is a receive (the local queue is
/// read whole, touching nothing).
pub const DLQ_READ: usize = crate::commands::verdicts::LOOK_LIMIT;
/// Decision lines a trace reads at most.
const LOG_LINES: usize = 50;

/// What the ledger item's notify receipt says, when the item carries receipts.
async fn told(
    target: &Target,
    transaction_ids: &[String],
) -> Result<Option<Notification>, Failure> {
    let items = target.settlement().await?.items(transaction_ids).await?;
    Ok(items
        .iter()
        .map(Legs::of)
        .find(|legs| legs.tracked)
        .map(|legs| match legs.notified_at {
            Some(at) => Notification::Told {
                at: mgrid_contract::clock::format_rfc3339(at),
                message_id: legs.notify_message_id.unwrap_or_default(),
                by: legs.notified_by.unwrap_or_default(),
            },
            None => Notification::NotTold {
                failure: legs.notify_failure,
            },
        }))
}

pub async fn run(context: &Context, target: &Target, args: &TraceArgs) -> Result<()> {
    let stage = target.name().to_string();
    let providers: Vec<Provider> = match args.provider {
        Some(provider) => vec![provider.into()],
        None => Provider::ALL.to_vec(),
    };
    let now = now_millis();
    let mut unreadable = Vec::new();

    let ledger = target.ledger().await?;
    let archive = target.archive().await?;
    let mut recorded = Vec::new();
    for provider in &providers {
        let transaction_id = format!("{provider}:{}", args.event_id);
        let Some(record) = ledger.record(&transaction_id).await? else {
            continue;
        };
        let key = ArchiveKey {
            provider: *provider,
            hour: ArchiveHour::containing(record.received_at),
            event_id: args.event_id.clone(),
        }
        .to_string();
        let (archived, archive_error) = match archive.get(&key).await {
            Ok(_) => (Some(true), None),
            Err(failure) if failure.kind == FailureKind::NotFound => (Some(false), None),
            Err(failure) => (None, Some(failure.to_string())),
        };
        recorded.push(Recorded {
            provider: *provider,
            transaction_id,
            event_type: record.event_type,
            vendor_id: record.vendor_id,
            amount: record.amount,
            currency: record.currency,
            status: record.status,
            received_at: record.received_at,
            archive_key: key,
            archived,
            archive_error,
        });
    }

    let mut dead_letters = Vec::new();
    let mut dead_letters_read = 0;
    let mut dead_letters_whole = false;
    match target.dead_letter_queue().await {
        Ok(dlq) => {
            let exact = dlq.looks_without_receiving();
            let limit = if exact { usize::MAX } else { DLQ_READ };
            let scan = dlq
                .scan(limit, &mut |letter| {
                    dead_letters_read += 1;
                    let view = letter.view();
                    let provider_matches = view
                        .provider
                        .as_deref()
                        .is_none_or(|p| providers.iter().any(|wanted| wanted.as_str() == p));
                    if view.event_id.as_deref() == Some(args.event_id.as_str()) && provider_matches
                    {
                        dead_letters.push(view);
                    }
                    true
                })
                .await;
            match scan {
                Ok(()) => dead_letters_whole = exact || dead_letters_read < limit,
                Err(failure) => unreadable.push(format!("the dead-letter queue: {failure}")),
            }
        }
        Err(failure) => unreadable.push(format!("the dead-letter queue: {failure}")),
    }

    let query = LogQuery {
        sources: vec![
            LogSource::Processor,
            LogSource::Archiver,
            LogSource::Notifier,
        ],
        from: now - args.within.0,
        event_id: Some(args.event_id.clone()),
        ..LogQuery::default()
    };
    let mut decisions: Vec<DecisionLine> = Vec::new();
    match target.logs().read(&query, query.from, LOG_LINES).await {
        Ok(found) => {
            decisions = found
                .lines
                .into_iter()
                .filter_map(|line| line.decision)
                .filter(|d| {
                    d.provider
                        .as_deref()
                        .is_none_or(|p| providers.iter().any(|wanted| wanted.as_str() == p))
                })
                .collect();
            for place in found.missing {
                unreadable.push(format!("{place}: it does not exist yet"));
            }
            for (place, failure) in found.unreadable {
                unreadable.push(format!("{place}: {failure}"));
            }
        }
        Err(failure) => unreadable.push(format!("the processor's log: {failure}")),
    }

    // The requests that delivered it, from the access log, by the request ids the processor
    // logged (one read; the local stage has no access log).
    let mut request_ids: Vec<String> = decisions
        .iter()
        .filter_map(|d| d.request_id.clone())
        .collect();
    request_ids.sort();
    request_ids.dedup();
    let mut received = Vec::new();
    if let Some(request_id) = request_ids.first() {
        let query = LogQuery {
            sources: vec![LogSource::Api],
            from: now - args.within.0,
            text: Some(request_id.clone()),
            ..LogQuery::default()
        };
        match target.logs().read(&query, query.from, 5).await {
            Ok(found) => {
                received = found.lines;
                for (place, failure) in found.unreadable {
                    unreadable.push(format!("{place}: {failure}"));
                }
            }
            Err(failure) => unreadable.push(format!("the API access log: {failure}")),
        }
    }

    // A bad signature usually means the signing secret changed: say when it last did.
    let mut secret_changed_at = None;
    if let Some(letter) = dead_letters
        .iter()
        .find(|l| matches!(l.reason.as_str(), "bad-signature" | "signature-expired"))
        && let Some(provider) = letter
            .provider
            .as_deref()
            .and_then(|p| p.parse::<Provider>().ok())
        && let Ok(rings) = target.key_rings().await
    {
        let name = target.name().signing_secret_ring(provider);
        match rings.read(&name).await {
            Ok(ring) => secret_changed_at = ring.and_then(|r| r.modified_at),
            Err(failure) => unreadable.push(format!("the signing secrets ({name}): {failure}")),
        }
    }
    let transaction_ids: Vec<String> = recorded.iter().map(|r| r.transaction_id.clone()).collect();
    let mut whereabouts = match target.whereabouts(&args.event_id, &transaction_ids).await {
        Ok(whereabouts) => Some(whereabouts),
        Err(failure) => {
            unreadable.push(format!("the webhook queue and notifications: {failure}"));
            None
        }
    };
    // Where the stage cannot say per event (AWS), the notify leg's receipt on the item does.
    if let Some(found) = whereabouts.as_mut()
        && matches!(found.notification, Notification::Unknown { .. })
        && !transaction_ids.is_empty()
    {
        match told(target, &transaction_ids).await {
            Ok(Some(notification)) => found.notification = notification,
            Ok(None) => {}
            Err(failure) => unreadable.push(format!("the notify receipt: {failure}")),
        }
    }
    let mut report = TraceReport {
        stage,
        event_id: args.event_id.clone(),
        providers,
        ledger: recorded,
        dead_letters,
        dead_letters_read,
        dead_letters_whole,
        api_access_log: target.logs().keeps_access_log(),
        decisions,
        received,
        whereabouts,
        signing_secret_changed_at: secret_changed_at,
        unreadable,
        verdict: Conclusion::pending(),
    };
    report.verdict = verdict(&report, now);
    print_report(&report, context.global.output)?;
    crate::ui::terminal::verbose_calls(context.global.verbose > 0, target.calls().unwrap_or(0));
    if report.verdict.kind == VerdictKind::NotFound {
        // The log may hold a decision the ledger does not: say both, not "not found" alone.
        let what = match report.decisions.last() {
            Some(last) => format!(
                "event {} is in no place a webhook can be now, though the processor decided `{}` at {}",
                report.event_id, last.outcome, last.time
            ),
            None => format!(
                "event {} was not found in any place a webhook can be",
                report.event_id
            ),
        };
        return Err(Failure::new(FailureKind::NotFound, what).into());
    }
    Ok(())
}

#[cfg(test)]
mod snapshots {
    use mgrid_contract::EpochMillis;
    use mgrid_contract::decision::Level;

    use super::*;
    use crate::decide::logs::LogLine;
    use crate::decide::redrive::DeadLetterView;
    use crate::ports::{Notification, Whereabouts};
    use crate::text::plain;

    const NOW: EpochMillis = 1_795_923_000_000;

    fn recorded(archived: Option<bool>, received_at: EpochMillis) -> Recorded {
        Recorded {
            provider: Provider::Stripe,
            transaction_id: "stripe:evt_1".into(),
            event_type: "payment_intent.succeeded".into(),
            vendor_id: "v-42".into(),
            amount: Some(1999),
            currency: Some("usd".into()),
            status: Some("succeeded".into()),
            received_at,
            archive_key: "webhooks/stripe/2026/11/30/08/evt_1.json".into(),
            archived,
            archive_error: None,
        }
    }

    fn letter() -> DeadLetterView {
        DeadLetterView {
            message_id: "m-1".into(),
            group_id: "stripe:pi_1".into(),
            provider: Some("stripe".into()),
            event_id: Some("evt_1".into()),
            event_type: Some("payment_intent.succeeded".into()),
            reason: "bad-signature".into(),
            detail: Some("no v1 signature matches the stage's Stripe signing secrets".into()),
            receive_count: 1,
            sent_at: Some(NOW - 60_000),
            malformed: false,
            body_bytes: 512,
        }
    }

    fn decision(outcome: &str, reason: Option<&str>) -> DecisionLine {
        let mut line = DecisionLine::new(NOW - 30_000, Level::Warn, "processor", outcome);
        line.event_id = Some("evt_1".into());
        line.provider = Some("stripe".into());
        line.reason = reason.map(str::to_owned);
        line.receive_count = Some(2);
        line
    }

    fn report(
        ledger: Vec<Recorded>,
        dead_letters: Vec<DeadLetterView>,
        decisions: Vec<DecisionLine>,
    ) -> TraceReport {
        let notification = if ledger.is_empty() {
            Notification::NoTransaction
        } else {
            Notification::Sent
        };
        let mut report = TraceReport {
            stage: "prod".into(),
            event_id: "evt_1".into(),
            providers: vec![Provider::Stripe, Provider::Paypal],
            ledger,
            dead_letters,
            dead_letters_read: 17,
            dead_letters_whole: true,
            api_access_log: true,
            decisions,
            received: vec![LogLine::new(
                NOW - 31_000,
                LogSource::Api,
                "e-1".into(),
                r#"{"requestId":"req-1","status":"200"}"#.into(),
            )],
            whereabouts: Some(Whereabouts {
                queue_read: true,
                queued: None,
                notification,
            }),
            signing_secret_changed_at: Some(NOW - 600_000),
            unreadable: Vec::new(),
            verdict: Conclusion::pending(),
        };
        report.verdict = verdict(&report, NOW);
        report
    }

    #[test]
    fn each_state_has_its_verdict() {
        let kind = |r: &TraceReport| r.verdict.kind;
        let archived = report(vec![recorded(Some(true), NOW - 3_600_000)], vec![], vec![]);
        assert_eq!(kind(&archived), VerdictKind::RecordedAndArchived);
        let fresh = report(vec![recorded(Some(false), NOW - 60_000)], vec![], vec![]);
        assert_eq!(kind(&fresh), VerdictKind::RecordedNotYetArchived);
        let stuck = report(vec![recorded(Some(false), NOW - 3_600_000)], vec![], vec![]);
        assert_eq!(kind(&stuck), VerdictKind::RecordedNotArchived);
        let dead = report(
            vec![],
            vec![letter()],
            vec![decision("dead-lettered", Some("bad-signature"))],
        );
        assert_eq!(kind(&dead), VerdictKind::DeadLettered);
        assert!(
            dead.verdict.next.as_deref().is_some_and(|n| n
                .contains("--provider stripe --event-id evt_1")
                && n.contains("keys list")),
            "{:?}",
            dead.verdict
        );
        let retrying = report(
            vec![],
            vec![],
            vec![decision("retry", Some("ledger-unavailable"))],
        );
        assert_eq!(kind(&retrying), VerdictKind::Retrying);
        let gone = report(
            vec![],
            vec![],
            vec![decision("dead-lettered", Some("malformed-body"))],
        );
        assert_eq!(kind(&gone), VerdictKind::WasDeadLettered);
        let mut paypal = recorded(Some(true), NOW);
        paypal.provider = Provider::Paypal;
        let both = report(vec![recorded(Some(true), NOW), paypal], vec![], vec![]);
        assert_eq!(kind(&both), VerdictKind::Ambiguous);
        let nowhere = report(vec![], vec![], vec![]);
        assert_eq!(kind(&nowhere), VerdictKind::NotFound);
        assert!(
            nowhere
                .verdict
                .next
                .as_deref()
                .is_some_and(|n| n.contains("api --level warn"))
        );
        let mut local = report(vec![], vec![], vec![]);
        local.api_access_log = false;
        let local = verdict(&local, NOW);
        assert!(
            local
                .next
                .as_deref()
                .is_some_and(|n| n.contains("authorizer") && !n.contains("WAF")),
            "the local stage has no access log or WAF: {local:?}"
        );
        let mut queued = report(vec![], vec![], vec![]);
        queued.whereabouts = Some(Whereabouts {
            queue_read: true,
            queued: Some(crate::ports::Queued {
                receive_count: 2,
                sent_at: NOW - 5_000,
            }),
            notification: Notification::NoTransaction,
        });
        queued.verdict = verdict(&queued, NOW);
        assert_eq!(kind(&queued), VerdictKind::Queued);
        let mut unnotified = report(vec![recorded(Some(true), NOW - 3_600_000)], vec![], vec![]);
        if let Some(whereabouts) = unnotified.whereabouts.as_mut() {
            whereabouts.notification = Notification::Failed {
                attempts: 10,
                reason: "HTTP 500 from the vendor's URL".into(),
            };
        }
        unnotified.verdict = verdict(&unnotified, NOW);
        assert_eq!(kind(&unnotified), VerdictKind::RecordedAndArchived);
        assert!(
            unnotified
                .verdict
                .summary
                .contains("notification FAILED after 10 attempts")
        );
        insta::assert_snapshot!("trace_queued", plain(&queued));
        insta::assert_snapshot!("trace_notification_failed", plain(&unnotified));

        insta::assert_snapshot!("trace_archived", plain(&archived));
        insta::assert_snapshot!("trace_dead_lettered", plain(&dead));
        insta::assert_snapshot!("trace_not_found", plain(&nowhere));
        for report in [&archived, &dead, &nowhere, &queued, &unnotified] {
            crate::ui::output::assert_json_contract("trace", report);
        }
    }
}
