//! `mgrid replay`: put archived webhooks back through a stage's pipeline, exactly as the
//! ingress queued them the first time.
//!
//! Three steps: list the window's hour prefixes (in parallel), read and parse the objects (in
//! parallel; unreadable ones are reported and skipped), then, after a summary and a
//! confirmation, send them in the order they were received, in batches. A batch whose outcome is
//! unknown is sent again with the same deduplication ids, which SQS drops if the first got in.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::Result;
use futures::{StreamExt, TryStreamExt};
use mgrid_contract::clock::format_rfc3339;
use mgrid_contract::{ArchiveKey, ArchivedWebhook, Provider, StageName, WebhookEnvelope};
use serde::Serialize;

use crate::cli::ReplayArgs;
use crate::clock::now_millis;
use crate::commands::context::Context;
use crate::commands::flow::{Ask, Outcome, Plan, Run, carry_out};
use crate::commands::movers::{self, ReadyMessage, SendOptions};
use crate::commands::verdicts::{LOOK_LIMIT, wait_for_verdicts, wait_of};
use crate::decide::move_engine::{MoveEngine, MoveSource, Rules, Tally};
use crate::decide::replay::{
    Selection, count_by_type, parse_time, replay_message, sort_for_sending,
};
use crate::decide::verdict::{Judged, SentCopy, Verdicts, seconds};
use crate::failure::{Failure, FailureKind};
use crate::ids::run_id;
use crate::ports::{DeadLetterQueue, LedgerLookup, WebhookArchive, WebhookQueue};
use crate::target::Target;
use crate::text::{WARNING, counted, shown, table};
use crate::ui::output::{note, print_report};
use crate::ui::terminal::{on_interrupt, progress_bar, rounded, verbose_calls};

#[derive(Debug, Default, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ReplayReport {
    pub stage: String,
    pub into_stage: String,
    pub from: String,
    pub to: String,
    pub selection: Selection,
    pub dry_run: bool,
    /// Hour prefixes listed.
    pub prefixes: usize,
    /// Archive objects listed in those prefixes.
    pub listed: usize,
    /// Read and parsed.
    pub read: usize,
    pub matched: usize,
    /// Already in the target's ledger (--only-missing).
    pub skipped_present: usize,
    pub by_type: Vec<TypeCount>,
    /// Objects that could not be used, with why.
    pub unreadable: Vec<Unreadable>,
    pub sent: usize,
    /// What became of the sent webhooks.
    #[serde(flatten)]
    pub judged: Judged,
    pub failed: Vec<String>,
    pub interrupted: bool,
    /// Listing and reading the archive (and the ledger lookups of --only-missing).
    pub read_ms: u128,
    /// Sending to the queue.
    pub send_ms: u128,
    pub elapsed_ms: u128,
    pub per_second: f64,
    /// What stopped the run early (it is reported first, then the command fails with it).
    #[serde(skip)]
    pub failure: Option<Failure>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct TypeCount {
    pub provider: String,
    pub event_type: String,
    pub count: usize,
}

#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct Unreadable {
    pub key: String,
    pub reason: String,
}

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

/// The longest window a replay lists: 92 days of hours. The archive moves objects to Glacier
/// after 180 days (they cannot be read without a restore), and each hour is a LIST per provider.
pub const MAX_WINDOW_HOURS: i64 = 92 * 24;

/// What a selection's window asks of the archive, checked before anything is listed.
pub struct ArchiveWindow {
    pub selection: Selection,
    pub hours: i64,
    pub prefixes: usize,
}

impl ArchiveWindow {
    pub fn of(selection: &Selection) -> Result<ArchiveWindow, Failure> {
        const HOUR: i64 = 3_600_000;
        // The hours it touches, partial ones at either end included.
        let hours = selection.to.div_euclid(HOUR) - selection.from.div_euclid(HOUR) + 1;
        let prefixes = hours.saturating_mul(selection.providers().len() as i64);
        // The limit is on the window's length: `--from '92d ago'` is 92 days, whatever hours
        // its ends fall in.
        if selection.to - selection.from > MAX_WINDOW_HOURS * HOUR {
            return Err(Failure::new(
                FailureKind::Usage,
                format!(
                    "the window {} to {} is longer than the 92 days a replay takes ({prefixes} hour prefixes to list); nothing was listed",
                    format_rfc3339(selection.from),
                    format_rfc3339(selection.to)
                ),
            )
            .next("replay a shorter window (--from and --to), in parts if need be; objects older than 180 days are in Glacier"));
        }
        Ok(ArchiveWindow {
            selection: selection.clone(),
            hours,
            prefixes: prefixes as usize,
        })
    }
}

/// The stage a replay sends into: its queue, and where each webhook's verdict shows.
pub struct Destination<Q, L, D> {
    pub queue: Q,
    pub ledger: L,
    pub dlq: D,
}

/// List, read, decide and send, one hour at a time (memory holds one hour's webhooks, whatever
/// the window): the same for every stage.
#[allow(clippy::too_many_arguments)]
async fn replay(
    context: &Context,
    args: &ReplayArgs,
    stage: &StageName,
    target: &StageName,
    window: &ArchiveWindow,
    archive: &impl WebhookArchive,
    destination: &Destination<impl WebhookQueue, impl LedgerLookup, impl DeadLetterQueue>,
) -> Result<()> {
    let selection = &window.selection;
    let mut report = ReplayReport {
        stage: stage.to_string(),
        into_stage: target.to_string(),
        from: format_rfc3339(selection.from),
        to: format_rfc3339(selection.to),
        selection: selection.clone(),
        dry_run: args.dry_run,
        prefixes: window.prefixes,
        ..ReplayReport::default()
    };
    let started = Instant::now();
    let parallel = usize::from(args.parallel);
    note(&format!(
        "listing {} ({} of {})",
        counted(window.prefixes as u64, "hour prefix", "hour prefixes"),
        counted(window.hours.max(0) as u64, "hour", "hours"),
        selection
            .providers()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" and ")
    ));
    let hours = archive_hours(selection);
    report.listed = count_listed(archive, &hours, parallel).await?;
    if !args.dry_run && report.listed == 0 {
        note("nothing to replay in this window");
        report.elapsed_ms = started.elapsed().as_millis();
        print_report(&report, context.global.output)?;
        return Ok(());
    }
    let plan = ReplayPlan {
        stage: report.stage.clone(),
        into_stage: report.into_stage.clone(),
        from: report.from.clone(),
        to: report.to.clone(),
        listed: report.listed,
    };
    carry_out(context, plan, Run::rehearse_if(args.dry_run), |_| {
        send_hours(args, window, archive, destination, hours, report, started)
    })
    .await
}

/// What a replay is about to do, once the window is listed: the question it asks (a dry run
/// rehearses: it asks nothing, and its apply reads without sending).
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ReplayPlan {
    pub stage: String,
    pub into_stage: String,
    pub from: String,
    pub to: String,
    pub listed: usize,
}

/// The question says it all; nothing more is shown before it.
impl fmt::Display for ReplayPlan {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        Ok(())
    }
}

impl Plan for ReplayPlan {
    fn ask(&self) -> Ask {
        Ask::YesNo(format!(
            "Replay the archived webhooks of {} to {} that the selection takes (of {} listed) into {}'s queue?",
            self.from, self.to, self.listed, self.into_stage
        ))
    }

    fn declined(&self) -> String {
        "nothing was sent".into()
    }
}

impl Outcome for ReplayReport {
    fn failure(&self) -> Option<Failure> {
        if let Some(failure) = &self.failure {
            return Some(failure.clone());
        }
        if self.interrupted {
            return Some(Failure::new(
                FailureKind::Interrupted,
                format!(
                    "stopped after sending {} of {}; a replay can be repeated safely",
                    self.sent, self.matched
                ),
            ));
        }
        if !self.failed.is_empty() {
            return Some(
                Failure::new(
                    FailureKind::Partial,
                    format!("{} webhooks could not be read or sent", self.failed.len()),
                )
                .next("run the same replay again with --only-missing once the cause is fixed"),
            );
        }
        self.judged.failure(self.sent, "replayed", &self.into_stage)
    }
}

impl ReplayReport {
    /// The replay that counts which of this window's webhooks the ledger still lacks.
    fn missing_command(&self) -> String {
        let into = if self.into_stage == self.stage {
            String::new()
        } else {
            format!(" --into-stage {}", self.into_stage)
        };
        format!(
            "mgrid replay --stage {} --from {} --to {}{into} --only-missing --dry-run (counts the webhooks still not in the ledger)",
            self.stage, self.from, self.to
        )
    }
}

/// The replay itself: hour by hour, read, drop what the ledger holds, send in order.
#[allow(clippy::too_many_arguments)]
async fn send_hours(
    args: &ReplayArgs,
    window: &ArchiveWindow,
    archive: &impl WebhookArchive,
    destination: &Destination<impl WebhookQueue, impl LedgerLookup, impl DeadLetterQueue>,
    hours: Vec<Vec<String>>,
    mut report: ReplayReport,
    started: Instant,
) -> Result<ReplayReport, Failure> {
    let selection = &window.selection;
    let parallel = usize::from(args.parallel);
    let stop = Arc::new(AtomicBool::new(false));
    let engine = RefCell::new(MoveEngine::new(Rules {
        source: MoveSource::Archive,
        dry_run: args.dry_run,
        workers: parallel.min(16),
        ..Rules::default()
    }));
    let run = run_id()?;
    let bar = progress_bar(
        report.listed as u64,
        "{spinner} read {pos}/{len} {msg} · {rate} · ETA {eta}",
    );
    let watcher = on_interrupt(
        stop.clone(),
        bar.clone(),
        "stopping: no new batches; finishing the ones in hand (Ctrl-C again to abort them)",
        "the webhooks being sent may or may not be on the queue: replay the same window again \
         (the ledger records each once)",
    );
    // The copies of the hour being sent, by ledger key, until the queue acknowledges them.
    let hour_copies: RefCell<BTreeMap<String, SentCopy>> = RefCell::new(BTreeMap::new());
    let verdicts = RefCell::new(Verdicts::default());
    let acknowledged = |ids: &[String]| {
        let mut copies = hour_copies.borrow_mut();
        for id in ids {
            if let Some(copy) = copies.remove(id) {
                verdicts.borrow_mut().sent(copy);
            }
        }
    };
    let options = SendOptions {
        parallel: parallel.min(16),
        rate: args.rate,
        stop: &stop,
        sent: &acknowledged,
    };
    let mut by_type: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut result = Ok(());
    for hour in hours {
        if stop.load(Ordering::SeqCst) {
            engine.borrow_mut().interrupt();
            break;
        }
        let reading = Instant::now();
        let read = read_hour(archive, selection, &hour, parallel, &mut report).await;
        report.read_ms += reading.elapsed().as_millis();
        let mut webhooks = match read {
            Ok(webhooks) => webhooks,
            Err(failure) => {
                result = Err(failure);
                break;
            }
        };
        if let Some(bar) = &bar {
            bar.set_position(report.read as u64);
        }
        // What the ledger holds already: skipped with --only-missing, else a duplicate the
        // processor acknowledges.
        let mut present = BTreeSet::new();
        if (args.only_missing || !args.dry_run) && !webhooks.is_empty() {
            let ids: Vec<String> = webhooks
                .iter()
                .map(WebhookEnvelope::transaction_id)
                .collect();
            match destination.ledger.present(&ids).await {
                Ok(held) => present = held,
                Err(failure) => {
                    result = Err(failure);
                    break;
                }
            }
        }
        if args.only_missing {
            let before = webhooks.len();
            webhooks.retain(|w| !present.contains(&w.transaction_id()));
            report.skipped_present += before - webhooks.len();
        }

        sort_for_sending(&mut webhooks);
        for ((provider, event_type), count) in count_by_type(&webhooks) {
            *by_type.entry((provider, event_type)).or_default() += count;
        }
        let pending: Vec<ReadyMessage> = webhooks
            .iter()
            .map(|webhook| ReadyMessage {
                id: webhook.transaction_id(),
                message: replay_message(&run, webhook),
            })
            .collect();
        *hour_copies.borrow_mut() = pending
            .iter()
            .zip(&webhooks)
            .map(|(prepared, webhook)| {
                let copy = SentCopy {
                    deduplication_id: prepared.message.deduplication_id.clone(),
                    transaction_id: Some(prepared.id.clone()),
                    event_id: Some(webhook.event_id.clone()),
                    already_recorded: present.contains(&prepared.id),
                };
                (prepared.id.clone(), copy)
            })
            .collect();
        drop(webhooks);
        let progress = |tally: &Tally| {
            if let Some(bar) = &bar {
                bar.set_message(format!(
                    "sent {} · failed {}",
                    tally.moved,
                    tally.failed.len()
                ));
            }
        };
        let sending = Instant::now();
        let sent =
            movers::send_in_order(&destination.queue, &engine, pending, &options, &progress).await;
        report.send_ms += sending.elapsed().as_millis();
        if let Err(failure) = sent {
            result = Err(failure);
            break;
        }
    }
    watcher.abort();
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let tally = engine.into_inner().tally().clone();
    report.by_type = by_type
        .into_iter()
        .map(|((provider, event_type), count)| TypeCount {
            provider,
            event_type,
            count,
        })
        .collect();
    report.sent = tally.moved;
    report.interrupted = tally.interrupted;
    report.failed.extend(
        tally
            .failed
            .iter()
            .map(|(id, reason)| format!("{id}: {reason}")),
    );
    report.unreadable.sort_by(|a, b| a.key.cmp(&b.key));
    report.per_second = rounded(report.sent as f64 / (report.send_ms as f64 / 1000.0).max(0.001));
    let mut verdicts = verdicts.into_inner();
    report.judged = if result.is_ok() && !report.interrupted && !verdicts.is_empty() {
        wait_for_verdicts(
            &mut verdicts,
            &destination.dlq,
            &destination.ledger,
            wait_of(args.wait),
        )
        .await
    } else {
        Judged::of(&verdicts, 0, false, LOOK_LIMIT)
    };
    if report.judged.verdicts.pending > 0 {
        report.judged.check_later = Some(report.missing_command());
    }
    report.elapsed_ms = started.elapsed().as_millis();
    report.failure = result.err();
    Ok(report)
}

/// The window's archive hours, each with the prefixes of the providers the selection takes.
fn archive_hours(selection: &Selection) -> Vec<Vec<String>> {
    mgrid_contract::archive::hours_between(selection.from, selection.to)
        .into_iter()
        .map(|hour| {
            selection
                .providers()
                .into_iter()
                .map(|provider: Provider| ArchiveKey::hour_prefix(provider, hour))
                .collect()
        })
        .collect()
}

/// How many objects the window holds (listed, not kept: the hours are listed again as they are
/// sent).
async fn count_listed(
    archive: &impl WebhookArchive,
    hours: &[Vec<String>],
    parallel: usize,
) -> Result<usize, Failure> {
    let prefixes: Vec<&String> = hours.iter().flatten().collect();
    futures::stream::iter(prefixes.into_iter().map(|prefix| archive.list(prefix)))
        .buffered(parallel.min(16))
        .try_fold(0, |count, keys| async move { Ok(count + keys.len()) })
        .await
}

/// Lists one hour's prefixes and reads the objects that can match, in parallel.
async fn read_hour(
    archive: &impl WebhookArchive,
    selection: &Selection,
    prefixes: &[String],
    parallel: usize,
    report: &mut ReplayReport,
) -> Result<Vec<WebhookEnvelope>, Failure> {
    let listings: Vec<Vec<String>> =
        futures::stream::iter(prefixes.iter().map(|p| archive.list(p)))
            .buffered(parallel.min(16))
            .try_collect()
            .await?;
    let mut keys = Vec::new();
    for key in listings.into_iter().flatten() {
        match ArchiveKey::parse(&key) {
            Ok(parsed) if selection.may_match_event(&parsed.event_id) => keys.push((key, parsed)),
            Ok(_) => {}
            Err(e) => report.unreadable.push(Unreadable {
                key,
                reason: e.reason.to_owned(),
            }),
        }
    }
    let reads = futures::stream::iter(keys.into_iter().map(|(key, parsed)| async move {
        let bytes = archive.get(&key).await;
        (key, parsed, bytes)
    }))
    .buffer_unordered(parallel);
    let mut reads = std::pin::pin!(reads);
    let mut webhooks = Vec::new();
    while let Some((key, parsed, bytes)) = reads.next().await {
        let bytes = match bytes {
            Ok(bytes) => bytes,
            Err(failure) if failure.kind == FailureKind::Credentials => return Err(failure),
            Err(failure) => {
                // Not the object's fault: the run ends partial, so a repeat picks it up.
                report
                    .failed
                    .push(format!("could not read {key}: {failure}"));
                continue;
            }
        };
        match ArchivedWebhook::parse(&parsed, &bytes) {
            Ok(envelope) => {
                report.read += 1;
                if selection.matches(&envelope) {
                    report.matched += 1;
                    webhooks.push(envelope);
                }
            }
            Err(e) => report.unreadable.push(Unreadable {
                key,
                reason: e.to_string(),
            }),
        }
    }
    Ok(webhooks)
}

/// The counts shown before confirming.
struct Summary<'a>(&'a ReplayReport);

impl fmt::Display for Summary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.0;
        writeln!(
            f,
            "{} to {}: {} listed in {}, {} match",
            r.from,
            r.to,
            counted(r.listed as u64, "archived webhook", "archived webhooks"),
            counted(r.prefixes as u64, "hour prefix", "hour prefixes"),
            r.matched
        )?;
        if r.skipped_present > 0 {
            writeln!(
                f,
                "{} of them are already in {}'s ledger and are skipped (--only-missing)",
                r.skipped_present, r.into_stage
            )?;
        }
        if !r.by_type.is_empty() {
            let mut rows = table(&["provider", "event type", "webhooks"]);
            for row in &r.by_type {
                rows.add_row(vec![
                    shown(&row.provider),
                    shown(&row.event_type),
                    row.count.to_string(),
                ]);
            }
            writeln!(f, "{rows}")?;
        }
        for bad in &r.unreadable {
            writeln!(
                f,
                "{WARNING}skipped{WARNING:#} {}: {}",
                shown(&bad.key),
                shown(&bad.reason)
            )?;
        }
        Ok(())
    }
}

impl fmt::Display for ReplayReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.dry_run {
            write!(f, "{}", Summary(self))?;
            let count: usize = self.by_type.iter().map(|t| t.count).sum();
            return writeln!(
                f,
                "dry run: {count} webhooks would be replayed into {}; nothing was sent",
                self.into_stage
            );
        }
        if self.sent == 0 && self.failed.is_empty() {
            return write!(f, "{}", Summary(self));
        }
        let verdicts = &self.judged.verdicts;
        let mut rows = table(&[
            "sent",
            "recorded",
            "duplicate",
            "failed again",
            "pending",
            "not sent",
            "skipped (in ledger)",
            "unreadable",
        ]);
        rows.add_row(vec![
            self.sent.to_string(),
            verdicts.recorded.to_string(),
            verdicts.duplicate.to_string(),
            verdicts.failed_again_total().to_string(),
            verdicts.pending.to_string(),
            self.failed.len().to_string(),
            self.skipped_present.to_string(),
            self.unreadable.len().to_string(),
        ]);
        writeln!(f, "{rows}")?;
        writeln!(
            f,
            "into {} at {}/s, then watched {} for verdicts",
            self.into_stage,
            self.per_second,
            seconds(self.judged.watched_ms)
        )?;
        for failure in &self.failed {
            writeln!(f, "{WARNING}not sent:{WARNING:#} {failure}")?;
        }
        self.judged.fmt(f, self.sent, "replayed")
    }
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
