//! `mgrid replay`: put archived webhooks back through a stage's pipeline, exactly as the
//! ingress queued them the first time.
//!
//! Three steps: list the window's hour prefixes (in parallel), read and parse the objects (in
//! parallel; unreadable ones are reported and skipped), then, after a summary and a
//! confirmation, send them in the order they were received, in batches. A batch whose outcome is
//! unknown is sent again with the same deduplication ids, which SQS drops if the first got in.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::Result;
use futures::{StreamExt, TryStreamExt};
use mgrid_contract::clock::format_rfc3339;
use std::collections::BTreeSet;

use mgrid_contract::{
    ArchiveKey, ArchivedWebhook, Provider, StageName, StageParameter, WebhookEnvelope,
};
use serde::Serialize;

use crate::aws::archive::{Archive, Ledger};
use crate::aws::parameters::{require, stage_parameters};
use crate::aws::queues::{BatchOutcome, MaybeSent, Outgoing, Queue};
use crate::cli::ReplayArgs;
use crate::commands::{Context, Pace, confirm, now_millis, progress_bar, run_id, verbose_calls};
use crate::failure::{Failure, FailureKind};
use crate::output::{WARNING, note, print_report, table};
use crate::replay::{Selection, count_by_type, parse_time, replay_message, sort_for_sending};

/// How many times a batch whose outcome is unknown is sent again.
const UNKNOWN_RETRIES: usize = 3;

#[derive(Debug, Default, Serialize)]
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
    pub failed: Vec<String>,
    pub interrupted: bool,
    /// Listing and reading the archive (and the ledger lookups of --only-missing).
    pub read_ms: u128,
    /// Sending to the queue.
    pub send_ms: u128,
    pub elapsed_ms: u128,
    pub per_second: f64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TypeCount {
    pub provider: String,
    pub event_type: String,
    pub count: usize,
}

#[derive(Debug, Serialize)]
pub struct Unreadable {
    pub key: String,
    pub reason: String,
}

pub async fn run(context: &Context, args: &ReplayArgs) -> Result<()> {
    let stage = context.require_stage()?;
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
    let target = args.into_stage.clone().unwrap_or_else(|| stage.clone());
    let source_settings = context.settings(stage.clone())?;
    let target_settings = context.settings(target.clone())?;
    if args.into_stage.is_some()
        && target != stage
        && target_settings.protected.value
        && !args.force
    {
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
    let selection = Selection {
        from,
        to,
        provider: args.provider.map(Into::into),
        vendor: args.vendor.clone(),
        event_type: args.event_type.clone(),
        event_ids: args.event_ids.iter().cloned().collect(),
    };
    if stage.as_str() == crate::local::STAGE || target.as_str() == crate::local::STAGE {
        if stage != target {
            return Err(Failure::new(
                FailureKind::Usage,
                "the local stage replays only into itself, and only itself into it",
            )
            .into());
        }
        let paths = crate::local::Paths::new(&crate::local::data_dir());
        crate::local::open_existing(&paths)?;
        let archive = crate::local::LocalArchiveFiles(paths.archive.clone());
        let queue = crate::local::LocalReplayTarget(paths);
        return replay(context, args, &stage, &target, selection, &archive, &queue).await;
    }
    let aws = context.connect(&source_settings).await?;
    // The target may be configured in another region: it gets a connection of its own.
    let target_aws = if target == stage {
        None
    } else {
        Some(context.connect(&target_settings).await?)
    };
    let target_connection = target_aws.as_ref().unwrap_or(&aws);
    let source = stage_parameters(&aws.ssm(), &stage).await?;
    let destination = if target == stage {
        source.clone()
    } else {
        stage_parameters(&target_connection.ssm(), &target).await?
    };
    let archive = Archive::new(
        aws.s3(),
        require(&source, &stage, StageParameter::ArchiveBucket)?,
    );
    let queue = AwsTarget {
        queue: Queue::new(
            target_connection.sqs(),
            require(&destination, &target, StageParameter::QueueUrl)?,
        ),
        ledger: if args.only_missing {
            Some(Ledger::new(
                target_connection.dynamodb(),
                require(&destination, &target, StageParameter::TableName)?,
            ))
        } else {
            None
        },
    };
    let result = replay(context, args, &stage, &target, selection, &archive, &queue).await;
    verbose_calls(
        context.global.verbose > 0,
        aws.calls() + target_aws.as_ref().map_or(0, |t| t.calls()),
    );
    result
}

/// Where a replay reads archived webhooks: the stage's S3 bucket, or the local stage's files.
pub trait ArchiveSource {
    fn list(&self, prefix: &str)
    -> impl std::future::Future<Output = Result<Vec<String>, Failure>>;
    fn get(&self, key: &str) -> impl std::future::Future<Output = Result<Vec<u8>, Failure>>;
}

/// Where a replay sends: the target stage's queue (and ledger, for --only-missing).
pub trait ReplayTarget {
    fn send_batch(
        &self,
        messages: &[Outgoing],
    ) -> impl std::future::Future<Output = Result<Result<BatchOutcome, MaybeSent>, Failure>>;
    fn present(
        &self,
        transaction_ids: &[String],
    ) -> impl std::future::Future<Output = Result<BTreeSet<String>, Failure>>;
}

impl ArchiveSource for Archive {
    async fn list(&self, prefix: &str) -> Result<Vec<String>, Failure> {
        Archive::list(self, prefix).await
    }

    async fn get(&self, key: &str) -> Result<Vec<u8>, Failure> {
        Archive::get(self, key).await
    }
}

struct AwsTarget {
    queue: Queue,
    ledger: Option<Ledger>,
}

impl ReplayTarget for AwsTarget {
    async fn send_batch(
        &self,
        messages: &[Outgoing],
    ) -> Result<Result<BatchOutcome, MaybeSent>, Failure> {
        self.queue.send_batch(messages).await
    }

    async fn present(&self, transaction_ids: &[String]) -> Result<BTreeSet<String>, Failure> {
        match &self.ledger {
            Some(ledger) => ledger.present(transaction_ids).await,
            None => Ok(BTreeSet::new()),
        }
    }
}

/// Read, decide, confirm, send, report: the same for every stage.
async fn replay(
    context: &Context,
    args: &ReplayArgs,
    stage: &StageName,
    target: &StageName,
    selection: Selection,
    archive: &impl ArchiveSource,
    queue: &impl ReplayTarget,
) -> Result<()> {
    let (from, to) = (selection.from, selection.to);
    let mut report = ReplayReport {
        stage: stage.to_string(),
        into_stage: target.to_string(),
        from: format_rfc3339(from),
        to: format_rfc3339(to),
        selection: selection.clone(),
        dry_run: args.dry_run,
        ..ReplayReport::default()
    };
    let started = Instant::now();
    let mut webhooks =
        read_window(archive, &selection, usize::from(args.parallel), &mut report).await?;
    if args.only_missing && !webhooks.is_empty() {
        let ids: Vec<String> = webhooks
            .iter()
            .map(WebhookEnvelope::transaction_id)
            .collect();
        let present = queue.present(&ids).await?;
        let before = webhooks.len();
        webhooks.retain(|w| !present.contains(&w.transaction_id()));
        report.skipped_present = before - webhooks.len();
    }
    report.read_ms = started.elapsed().as_millis();
    sort_for_sending(&mut webhooks);
    report.by_type = count_by_type(&webhooks)
        .into_iter()
        .map(|((provider, event_type), count)| TypeCount {
            provider,
            event_type,
            count,
        })
        .collect();

    let result = if args.dry_run || webhooks.is_empty() {
        if webhooks.is_empty() && !args.dry_run {
            note("nothing to replay in this window");
        }
        Ok(())
    } else {
        eprint!("{}", Summary(&report));
        let question = format!(
            "Replay {} webhook{} into {target}'s queue?",
            webhooks.len(),
            if webhooks.len() == 1 { "" } else { "s" }
        );
        if !confirm(&question, context.global.yes)? {
            return Err(Failure::new(FailureKind::Declined, "nothing was sent").into());
        }
        let sent_from = Instant::now();
        let result = send_all(queue, &webhooks, args.rate, &mut report).await;
        report.send_ms = sent_from.elapsed().as_millis();
        report.per_second = report.sent as f64 / sent_from.elapsed().as_secs_f64().max(0.001);
        result
    };
    report.elapsed_ms = started.elapsed().as_millis();
    print_report(&report, context.global.output)?;
    result?;
    if report.interrupted {
        return Err(Failure::new(
            FailureKind::Interrupted,
            format!(
                "stopped after sending {} of {}; a replay can be repeated safely",
                report.sent, report.matched
            ),
        )
        .into());
    }
    if !report.failed.is_empty() {
        return Err(Failure::new(
            FailureKind::Partial,
            format!("{} webhooks could not be read or sent", report.failed.len()),
        )
        .next("run the same replay again with --only-missing once the cause is fixed")
        .into());
    }
    Ok(())
}

/// Lists the window's hour prefixes and reads the objects that can match, in parallel.
async fn read_window(
    archive: &impl ArchiveSource,
    selection: &Selection,
    parallel: usize,
    report: &mut ReplayReport,
) -> Result<Vec<WebhookEnvelope>, Failure> {
    let prefixes: Vec<String> =
        mgrid_contract::archive::hours_between(selection.from, selection.to)
            .into_iter()
            .flat_map(|hour| {
                selection
                    .providers()
                    .into_iter()
                    .map(move |provider: Provider| ArchiveKey::hour_prefix(provider, hour))
            })
            .collect();
    report.prefixes = prefixes.len();
    let listings: Vec<Vec<String>> =
        futures::stream::iter(prefixes.iter().map(|p| archive.list(p)))
            .buffered(parallel.min(16))
            .try_collect()
            .await?;
    let mut keys = Vec::new();
    for key in listings.into_iter().flatten() {
        report.listed += 1;
        match ArchiveKey::parse(&key) {
            Ok(parsed) if selection.may_match_event(&parsed.event_id) => keys.push((key, parsed)),
            Ok(_) => {}
            Err(e) => report.unreadable.push(Unreadable {
                key,
                reason: e.reason.to_owned(),
            }),
        }
    }
    let bar = progress_bar(
        keys.len() as u64,
        "{spinner} read {pos}/{len} · {per_sec} · ETA {eta}",
    );
    let reads = futures::stream::iter(keys.into_iter().map(|(key, parsed)| {
        let bar = bar.clone();
        async move {
            let bytes = archive.get(&key).await;
            if let Some(bar) = &bar {
                bar.inc(1);
            }
            (key, parsed, bytes)
        }
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
                    webhooks.push(envelope);
                }
            }
            Err(e) => report.unreadable.push(Unreadable {
                key,
                reason: e.to_string(),
            }),
        }
    }
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    report.unreadable.sort_by(|a, b| a.key.cmp(&b.key));
    report.matched = webhooks.len();
    Ok(webhooks)
}

/// Sends every webhook in order, ten (or fewer, by size) per request, paced, stoppable.
async fn send_all(
    queue: &impl ReplayTarget,
    webhooks: &[WebhookEnvelope],
    rate: Option<f64>,
    report: &mut ReplayReport,
) -> Result<(), Failure> {
    let run = run_id()?;
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = {
        let stop = stop.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                stop.store(true, Ordering::SeqCst);
            }
        })
    };
    let bar = progress_bar(
        webhooks.len() as u64,
        "{spinner} sent {pos}/{len} {msg} · {per_sec} · ETA {eta}",
    );
    let mut pace = Pace {
        rate,
        next: Instant::now(),
    };
    // Groups with a webhook that could not be sent: later ones of the group wait, to keep order.
    let mut stuck_groups = std::collections::BTreeSet::new();
    let result = async {
        for chunk in webhooks.chunks(10) {
            if stop.load(Ordering::SeqCst) {
                report.interrupted = true;
                break;
            }
            let mut batch: Vec<(&WebhookEnvelope, Outgoing)> = Vec::new();
            for webhook in chunk {
                let message = replay_message(&run, webhook);
                if stuck_groups.contains(&message.group_id) {
                    report.failed.push(format!(
                        "{}: not sent, an earlier webhook of its group was not",
                        webhook.transaction_id()
                    ));
                } else {
                    batch.push((webhook, message));
                }
            }
            pace.wait_for(batch.len()).await;
            let outgoing: Vec<Outgoing> = batch.iter().map(|(_, m)| m.clone()).collect();
            let mut attempt = 0;
            let outcome = loop {
                match queue.send_batch(&outgoing).await? {
                    Ok(outcome) => break outcome,
                    Err(maybe) if attempt < UNKNOWN_RETRIES => {
                        // Same deduplication ids: SQS drops what the lost attempt delivered.
                        tracing::warn!(
                            "a send may not have happened ({}); sending the batch again",
                            maybe.0
                        );
                        attempt += 1;
                    }
                    Err(maybe) => {
                        return Err(Failure::new(
                            FailureKind::Failed,
                            format!(
                                "the webhook queue did not answer {} times: {}",
                                UNKNOWN_RETRIES + 1,
                                maybe.0
                            ),
                        )
                        .next("check the network and run the replay again with --only-missing"));
                    }
                }
            };
            report.sent += outcome.done.len();
            for (i, reason) in outcome.failed {
                stuck_groups.insert(outgoing[i].group_id.clone());
                report
                    .failed
                    .push(format!("{}: {reason}", batch[i].0.transaction_id()));
            }
            if let Some(bar) = &bar {
                bar.set_position(report.sent as u64);
                bar.set_message(format!("failed {}", report.failed.len()));
            }
        }
        Ok(())
    }
    .await;
    watcher.abort();
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    result
}

/// The counts shown before confirming.
struct Summary<'a>(&'a ReplayReport);

impl fmt::Display for Summary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.0;
        writeln!(
            f,
            "{} to {}: {} archived webhooks listed in {} hour prefixes, {} match",
            r.from, r.to, r.listed, r.prefixes, r.matched
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
                    row.provider.clone(),
                    row.event_type.clone(),
                    row.count.to_string(),
                ]);
            }
            writeln!(f, "{rows}")?;
        }
        for bad in &r.unreadable {
            writeln!(f, "{WARNING}skipped{WARNING:#} {}: {}", bad.key, bad.reason)?;
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
        let mut rows = table(&[
            "sent",
            "failed",
            "skipped (in ledger)",
            "unreadable",
            "rate",
            "into",
        ]);
        rows.add_row(vec![
            self.sent.to_string(),
            self.failed.len().to_string(),
            self.skipped_present.to_string(),
            self.unreadable.len().to_string(),
            format!("{:.0}/s", self.per_second),
            self.into_stage.clone(),
        ]);
        writeln!(f, "{rows}")?;
        for failure in &self.failed {
            writeln!(f, "{WARNING}not sent:{WARNING:#} {failure}")?;
        }
        Ok(())
    }
}
