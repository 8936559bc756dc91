//! `mgrid reconcile`: the providers' own lists of what they sent, page by page, looked up in the
//! stage (ledger, dead-letter queue, webhook queue); what is nowhere is missing, and `--heal`
//! has the provider send it again and waits for it in the ledger. `decide::reconcile` counts and
//! says how it reads.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Result;
use mgrid_contract::clock::format_rfc3339;
use mgrid_contract::{EpochMillis, Provider};

use crate::cli::ReconcileArgs;
use crate::clock::now_millis;
use crate::commands::context::Context;
use crate::decide::journey::{Journey, READ_MAX};
use crate::decide::reconcile::{Healed, ProviderTally, Reconciliation, Standing, check_window};
use crate::decide::spans::parse_time;
use crate::failure::{Failure, FailureKind};
use crate::ports::{DeadLetterQueue, LedgerLookup, ProviderEndpoint, Settlement};
use crate::providers::client::{Cursors, MAX_EVENT_PAGES, ProviderClient};
use crate::target::Target;
use crate::ui::output::{note, print_report};
use crate::ui::terminal::{CtrlC, Pace, progress_bar};

/// The default window: the last three days (Stripe retries a failed delivery for three days).
const DEFAULT_SINCE_MS: EpochMillis = 3 * 86_400_000;

/// How many dead letters are read on SQS, where a read is a receive.
const DLQ_READ: usize = 1000;

pub async fn run(context: &Context, target: &Target, args: &ReconcileArgs) -> Result<()> {
    let now = now_millis();
    let (from, to) = window(args, now)?;
    let providers: Vec<Provider> = match args.provider {
        Some(provider) => vec![provider.into()],
        None => Provider::ALL.to_vec(),
    };
    for &provider in &providers {
        check_window(provider, from, to, now).map_err(|why| {
            Failure::new(FailureKind::Usage, why)
                .next("list a shorter window (--since 30d at most for Stripe)")
        })?;
    }
    let stage = target.name();
    let rings = target.key_rings().await?;
    let ledger = target.ledger().await?;
    // What is unsettled after the ledger: read first, through the sparse index, so the listing
    // below can mark what the providers sent.
    let settlement = target.settlement().await?;
    let page = settlement.unsettled(from, to, READ_MAX).await?;
    let journey = Journey::new(&page.items, page.more, page.read_units, now_millis());
    let api_url = target.api_url().await?;
    let stand_in = context.global.provider_api_base.as_deref();
    // Read once, and only when some provider can be listed (on SQS a read is a receive).
    let mut dead: Option<BTreeMap<(Provider, String), String>> = None;
    let queue_read = matches!(target, Target::Local(_));
    let mut report = Reconciliation {
        stage: stage.to_string(),
        from: format_rfc3339(from),
        to: format_rfc3339(to),
        providers: Vec::new(),
        queue_read,
        interrupted: false,
        healed: args.heal,
        journey,
    };
    let mut interrupt = CtrlC::listen();
    for provider in providers {
        let mut tally = ProviderTally::new(provider);
        let client = match target.provider_client(&rings, provider, stand_in).await {
            Ok(Some(client)) => client,
            Ok(None) => {
                tally.unchecked = Some(format!(
                    "stage {stage} has no {provider} provider token (`mgrid keys set-provider-token {provider} --stage {stage}`)"
                ));
                report.providers.push(tally);
                continue;
            }
            Err(error) => {
                tally.unchecked = Some(error.to_string());
                report.providers.push(tally);
                continue;
            }
        };
        let dead = match &mut dead {
            Some(dead) => dead,
            None => dead.insert(dead_letters(&target.dead_letter_queue().await?, true).await?),
        };
        let bar = crate::ui::terminal::spinner(&format!("{provider}: listing events"));
        let mut cursor: Option<String> = None;
        let mut cursors = Cursors::new("events", MAX_EVENT_PAGES);
        loop {
            let listing = client.events_page(from, to, cursor.as_deref());
            let Ok(page) = interrupt.unless(listing).await else {
                report.interrupted = true;
                break;
            };
            let page = match page {
                Ok(page) => page,
                Err(error) => {
                    tally.unchecked = Some(format!(
                        "the listing stopped after {} events: {error}",
                        tally.listed
                    ));
                    break;
                }
            };
            tally.unreadable += page.unreadable;
            let ids: Vec<String> = page
                .events
                .iter()
                .map(|e| format!("{provider}:{}", e.id))
                .collect();
            let present = ledger.present(&ids).await?;
            for (event, transaction) in page.events.iter().zip(&ids) {
                let standing = if tally.counted(event) {
                    Standing::Missing // not counted again: `count` only notes the repeat
                } else if present.contains(transaction) {
                    report.journey.mark_listed(transaction);
                    Standing::Recorded
                } else if let Some(reason) = dead.get(&(provider, event.id.clone())) {
                    Standing::DeadLettered(reason.clone())
                } else if queue_read
                    && target
                        .whereabouts(&event.id, std::slice::from_ref(transaction))
                        .await?
                        .queued
                        .is_some()
                {
                    Standing::Queued
                } else {
                    Standing::Missing
                };
                tally.count(event, standing);
            }
            if let Some(bar) = &bar {
                bar.set_message(format!(
                    "{provider}: {} events listed, {} missing",
                    tally.listed,
                    tally.missing.len()
                ));
            }
            cursor = page.next;
            if let Err(error) = cursors.follow(provider, cursor.as_deref()) {
                tally.unchecked = Some(format!(
                    "the listing stopped after {} events: {error}",
                    tally.listed
                ));
                break;
            }
            if cursor.is_none() {
                break;
            }
        }
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        if args.heal && !report.interrupted && tally.unchecked.is_none() {
            let webhook_url = format!("{api_url}/webhook/{provider}");
            report.interrupted = heal(
                &client,
                target,
                &ledger,
                &mut tally,
                &webhook_url,
                args,
                &mut interrupt,
            )
            .await?;
        }
        report.providers.push(tally);
        if report.interrupted {
            break;
        }
    }
    report.count_journey();
    if args.heal && !report.interrupted {
        report.interrupted = crate::commands::settle::heal(
            &settlement,
            &mut report.journey,
            std::time::Duration::from_millis(args.wait.0.max(0) as u64),
            &mut interrupt,
        )
        .await?;
        report.count_journey();
    }
    print_report(&report, context.global.output)?;
    if report.interrupted {
        return Err(Failure::new(
            FailureKind::Interrupted,
            "interrupted: the report above is what was listed until Ctrl-C",
        )
        .into());
    }
    let missing = report.missing();
    let unchecked = report.unchecked();
    let unsettled = report.journey.still_unsettled();
    if missing == 0 && unchecked == 0 && (unsettled > 0 || report.journey.more_unsettled) {
        return Err(Failure::new(
            FailureKind::Failed,
            format!(
                "{unsettled}{} payment{} in the ledger {} not archived or not announced to {} vendor",
                if report.journey.more_unsettled { "+" } else { "" },
                if unsettled == 1 { "" } else { "s" },
                if unsettled == 1 { "is" } else { "are" },
                if unsettled == 1 { "its" } else { "their" },
            ),
        )
        .next(next_after_journey(&report, args.heal))
        .into());
    }
    if missing > 0 || unchecked > 0 {
        return Err(Failure::new(
            FailureKind::Failed,
            format!(
                "{missing} event{} the providers sent {} not in the stage{}{}",
                if missing == 1 { "" } else { "s" },
                if missing == 1 { "is" } else { "are" },
                if unchecked > 0 {
                    format!(", and {unchecked} provider(s) could not be listed")
                } else {
                    String::new()
                },
                if unsettled > 0 {
                    format!(
                        "; after the ledger, {unsettled} payment{} unsettled",
                        if unsettled == 1 { " is" } else { "s are" }
                    )
                } else {
                    String::new()
                }
            ),
        )
        .next(next_after(&report, args.heal))
        .into());
    }
    Ok(())
}

/// What to run after a reconciliation that left payments unsettled after the ledger.
fn next_after_journey(report: &Reconciliation, heal: bool) -> String {
    let stage = &report.stage;
    let handed = report.journey.unsettled.iter().any(|p| {
        p.healed
            .iter()
            .any(|h| h.outcome == crate::decide::journey::LegHeal::Handed)
    });
    if handed {
        format!(
            "the local notify pipe delivers what was handed to it while `mgrid dev` runs (start it if it is not); then: mgrid reconcile --stage {stage}"
        )
    } else if heal {
        format!(
            "each payment above says why its heal failed; once that is fixed: mgrid reconcile --stage {stage} --heal"
        )
    } else {
        format!(
            "mgrid reconcile --stage {stage} --heal (archives each one, and tells each vendor again marked as a redelivery)"
        )
    }
}

/// What to run after a reconciliation that left events missing or providers unchecked.
fn next_after(report: &Reconciliation, heal: bool) -> String {
    let stage = &report.stage;
    let unchecked: Vec<String> = report
        .providers
        .iter()
        .filter(|t| t.unchecked.is_some() || t.unreadable > 0)
        .map(|t| t.provider.to_string())
        .collect();
    if !unchecked.is_empty() {
        format!(
            "{} could not be listed to the end (the lines above say why{}); once that is fixed: mgrid reconcile --stage {stage}{}",
            unchecked.join(" and "),
            if heal {
                "; nothing of it was healed"
            } else {
                ""
            },
            if heal { " --heal" } else { "" }
        )
    } else if heal {
        format!(
            "each missing line above says what its heal came to; `mgrid trace <event id> --stage {stage}` follows one"
        )
    } else {
        format!(
            "mgrid reconcile --stage {stage} --heal has the providers send the missing ones again"
        )
    }
}

/// The window asked for: `--since` (default 3 days) up to now, or `--from` to `--to`.
fn window(args: &ReconcileArgs, now: EpochMillis) -> Result<(EpochMillis, EpochMillis), Failure> {
    let time =
        |text: &str| parse_time(text, now).map_err(|why| Failure::new(FailureKind::Usage, why));
    Ok(match (&args.from, &args.to) {
        (Some(from), Some(to)) => (time(from)?, time(to)?),
        _ => (
            now - args.since.as_ref().map_or(DEFAULT_SINCE_MS, |s| s.0),
            now,
        ),
    })
}

/// The dead letters' reasons, by provider and event id: the whole local queue; on SQS its first
/// [`DLQ_READ`] (a read is a receive), said when cut short.
async fn dead_letters(
    dlq: &impl DeadLetterQueue,
    say_when_cut: bool,
) -> Result<BTreeMap<(Provider, String), String>, Failure> {
    let exact = dlq.looks_without_receiving();
    let limit = if exact { usize::MAX } else { DLQ_READ };
    let mut reasons = BTreeMap::new();
    let mut read = 0;
    dlq.scan(limit, &mut |letter| {
        read += 1;
        let view = letter.view();
        if let (Some(provider), Some(id)) = (
            view.provider
                .as_deref()
                .and_then(|p| p.parse::<Provider>().ok()),
            view.event_id,
        ) {
            reasons.insert((provider, id), view.reason);
        }
        true
    })
    .await?;
    if say_when_cut && !exact && read >= limit {
        note(&format!(
            "the dead-letter queue holds more than the {DLQ_READ} read: an event among the others counts as missing"
        ));
    }
    Ok(reasons)
}

/// Has the provider send each missing event again to the stage's endpoint, paced, then waits
/// for them in the ledger; marks each with what became of it. True when Ctrl-C stopped it (what
/// was resent by then is still waited for, once).
async fn heal(
    client: &ProviderClient,
    target: &Target,
    ledger: &impl LedgerLookup,
    tally: &mut ProviderTally,
    webhook_url: &str,
    args: &ReconcileArgs,
    interrupt: &mut CtrlC,
) -> Result<bool, Failure> {
    if tally.missing.is_empty() {
        return Ok(false);
    }
    let provider = tally.provider;
    let endpoint = match client.endpoints().await {
        Ok(endpoints) => ProviderEndpoint::the_one_at(endpoints, webhook_url).map_err(|count| {
            format!("{count} endpoints of {provider} point at this stage, not one (`mgrid doctor`)")
        }),
        Err(error) => Err(error.to_string()),
    };
    let endpoint = match endpoint {
        Ok(endpoint) => endpoint,
        Err(why) => {
            for missing in &mut tally.missing {
                missing.healed = Some(Healed::NotResent(why.clone()));
            }
            return Ok(false);
        }
    };
    let mut pace = Pace::new(Some(args.rate));
    let bar = progress_bar(
        tally.missing.len() as u64,
        "{bar:30} {pos}/{len} resent  {msg}",
    );
    let mut resent = Vec::new();
    let mut interrupted = false;
    for (at, missing) in tally.missing.iter_mut().enumerate() {
        if interrupt.unless(pace.wait_for(1)).await.is_err() {
            interrupted = true;
            break;
        }
        match client.resend(&missing.id, &endpoint.id).await {
            Ok(()) => resent.push(at),
            Err(error) => missing.healed = Some(Healed::NotResent(error.to_string())),
        }
        if let Some(bar) = &bar {
            bar.inc(1);
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    // Until each is in the ledger or back in the dead-letter queue, or the wait ends (at once
    // after Ctrl-C: one look). The local queue is looked at every round; SQS, where a look is a
    // receive, every tenth (5 s).
    let deadline = if interrupted {
        now_millis()
    } else {
        now_millis() + args.wait.0
    };
    let dlq = target.dead_letter_queue().await?;
    let every = if dlq.looks_without_receiving() { 1 } else { 10 };
    let mut round = 0u32;
    loop {
        let waiting: Vec<String> = resent
            .iter()
            .filter(|&&at| tally.missing[at].healed.is_none())
            .map(|&at| format!("{provider}:{}", tally.missing[at].id))
            .collect();
        if waiting.is_empty() {
            break;
        }
        let present = ledger.present(&waiting).await?;
        for &at in &resent {
            let transaction = format!("{provider}:{}", tally.missing[at].id);
            if present.contains(&transaction) {
                tally.missing[at].healed = Some(Healed::Recorded);
            }
        }
        // Missing when listed, so a dead letter of it now is the resent copy's.
        let last_look = now_millis() >= deadline;
        if round.is_multiple_of(every) || last_look {
            let dead = dead_letters(&dlq, false).await?;
            for &at in &resent {
                let missing = &mut tally.missing[at];
                if missing.healed.is_none()
                    && let Some(reason) = dead.get(&(provider, missing.id.clone()))
                {
                    missing.healed = Some(Healed::FailedAgain(reason.clone()));
                }
            }
        }
        round += 1;
        if now_millis() >= deadline {
            for &at in &resent {
                tally.missing[at].healed.get_or_insert(Healed::Pending);
            }
            break;
        }
        let pause = tokio::time::sleep(Duration::from_millis(500));
        if interrupt.unless(pause).await.is_err() {
            interrupted = true;
            for &at in &resent {
                tally.missing[at].healed.get_or_insert(Healed::Pending);
            }
            break;
        }
    }
    Ok(interrupted)
}
