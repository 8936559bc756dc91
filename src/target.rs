//! The stage a command acts on, resolved once from `--stage`: a deployed stage on AWS (its
//! settings, its connection, the resource names its stack published in SSM) or the local stage
//! (its data directory). This is the one place that picks a stage's backend: it hands commands
//! the ports of `crate::ports`, with the AWS adapters (`aws/`) or the local ones (`local/`)
//! behind them. A command asks which only where the backends differ in what there is: `status`
//! (a stack, or a running `mgrid dev`) and `destroy` (AWS only).

use std::collections::BTreeMap;
use std::path::PathBuf;

use mgrid_contract::{EpochMillis, StageName, StageParameter};
use tokio::sync::OnceCell;

use crate::aws::Aws;
use crate::aws::archive::{Archive, Ledger};
use crate::aws::kept::RingKey;
use crate::aws::keystore::RingStore;
use crate::aws::logs::{CloudWatchLogs, LiveTail};
use crate::aws::metrics::CloudWatchSource;
use crate::aws::parameters::{require, stage_parameters};
use crate::aws::queues::{MoveTasks, Queue};
use crate::decide::logs::{Follow, Found, LogLine, LogQuery};
use crate::decide::metrics::{Snapshot, Window};
use crate::decide::redrive::DeadLetter;
use crate::decide::stage::StageSettings;
use crate::failure::{Failure, FailureKind};
use crate::local::logfile::LogFollower;
use crate::local::metrics::LocalSource;
use crate::local::{LocalArchiveFiles, LocalLedgerLookup, LocalQueue, LocalRings, Paths};
use crate::ports::{
    BatchOutcome, DeadLetterQueue, Depth, KeyRings, LedgerLookup, MaybeSent, MetricsSource,
    Notification, Outgoing, StoredRing, WebhookArchive, WebhookQueue, Whereabouts,
};

/// A stage, resolved.
pub enum Target {
    Aws(Box<AwsStage>),
    Local(LocalStage),
}

/// A deployed stage: its settings, its AWS connection, and (read once, on first use) the
/// resource names its stack publishes under `/marketgrid/<stage>/`.
pub struct AwsStage {
    pub name: StageName,
    pub settings: StageSettings,
    pub aws: Aws,
    parameters: OnceCell<BTreeMap<StageParameter, String>>,
}

/// The local stage: the data directory `mgrid dev` keeps.
pub struct LocalStage {
    pub name: StageName,
    pub paths: Paths,
}

impl AwsStage {
    pub fn new(name: StageName, settings: StageSettings, aws: Aws) -> AwsStage {
        AwsStage {
            name,
            settings,
            aws,
            parameters: OnceCell::new(),
        }
    }

    /// One of the stage's resource names, or a failure that says the stage is not deployed.
    pub async fn parameter(&self, parameter: StageParameter) -> Result<String, Failure> {
        require(self.parameters().await?, &self.name, parameter)
    }

    /// All the resource names the stage publishes.
    pub async fn parameters(&self) -> Result<&BTreeMap<StageParameter, String>, Failure> {
        self.parameters
            .get_or_try_init(|| async { stage_parameters(&self.aws.ssm(), &self.name).await })
            .await
    }
}

impl LocalStage {
    pub fn new(data_dir: PathBuf) -> Result<LocalStage, Failure> {
        Ok(LocalStage {
            name: crate::decide::config::LOCAL_STAGE.parse().map_err(|_| {
                Failure::new(FailureKind::Failed, "the local stage's name is invalid")
            })?,
            paths: Paths::new(&data_dir),
        })
    }
}

impl Target {
    pub fn name(&self) -> &StageName {
        match self {
            Target::Aws(stage) => &stage.name,
            Target::Local(stage) => &stage.name,
        }
    }

    /// Whether a mistake here costs real money or real data (`protected` in mgrid.toml).
    pub fn protected(&self) -> bool {
        match self {
            Target::Aws(stage) => stage.settings.protected.value,
            Target::Local(_) => false,
        }
    }

    /// How many AWS calls were made through this target (None on the local stage).
    pub fn calls(&self) -> Option<usize> {
        match self {
            Target::Aws(stage) => Some(stage.aws.calls()),
            Target::Local(_) => None,
        }
    }

    pub async fn dead_letter_queue(&self) -> Result<StageQueue, Failure> {
        match self {
            Target::Aws(stage) => Ok(StageQueue::Aws(Queue::new(
                stage.aws.sqs(),
                stage.parameter(StageParameter::DlqUrl).await?,
            ))),
            Target::Local(stage) => Ok(StageQueue::Local(LocalQueue::open(
                &stage.paths,
                crate::local::db::DEAD_LETTERS,
            )?)),
        }
    }

    pub async fn webhook_queue(&self) -> Result<StageQueue, Failure> {
        match self {
            Target::Aws(stage) => Ok(StageQueue::Aws(Queue::new(
                stage.aws.sqs(),
                stage.parameter(StageParameter::QueueUrl).await?,
            ))),
            Target::Local(stage) => Ok(StageQueue::Local(LocalQueue::open(
                &stage.paths,
                crate::local::db::WEBHOOKS,
            )?)),
        }
    }

    /// How many messages the webhook queue and the dead-letter queue hold, each with what it
    /// is called: one that cannot be found or read is its failure, and the other is still read.
    pub async fn queue_depths(&self) -> [(&'static str, Result<Depth, Failure>); 2] {
        async fn depth(queue: Result<StageQueue, Failure>) -> Result<Depth, Failure> {
            queue?.depth().await
        }
        [
            ("webhook queue", depth(self.webhook_queue().await).await),
            (
                "dead-letter queue",
                depth(self.dead_letter_queue().await).await,
            ),
        ]
    }

    /// SQS's own message move tasks; the local stage has none.
    pub fn move_tasks(&self) -> Result<MoveTasks, Failure> {
        match self {
            Target::Aws(stage) => Ok(MoveTasks::new(stage.aws.sqs())),
            Target::Local(_) => Err(Failure::new(
                FailureKind::Usage,
                "the local stage has no SQS message move task; nothing was moved or cancelled",
            )
            .next("mgrid dlq redrive --stage local (without --native) moves them")),
        }
    }

    /// The stage's key rings, written encrypted with the stage's key (on AWS).
    pub async fn key_rings(&self) -> Result<StageRings, Failure> {
        match self {
            Target::Aws(stage) => {
                // Rings outlive the stack: reading them needs no stage, writing needs its key.
                stage.parameters().await?;
                let kms_key = stage.parameter(StageParameter::KmsKeyArn).await;
                Ok(StageRings::Aws(RingStore::new(stage.aws.ssm(), kms_key)))
            }
            Target::Local(stage) => {
                crate::local::open_existing(&stage.paths)?;
                Ok(StageRings::Local(LocalRings(stage.paths.dir.clone())))
            }
        }
    }

    /// The stage's key rings that are not encrypted under its key (kept from an earlier,
    /// destroyed deploy): its roles may not read them. Empty on the local stage, and on a stage
    /// that is not deployed (it has no key to be under).
    pub async fn rings_off_key(&self) -> Result<Vec<RingKey>, Failure> {
        let Target::Aws(stage) = self else {
            return Ok(Vec::new());
        };
        let Ok(key_arn) = stage.parameter(StageParameter::KmsKeyArn).await else {
            return Ok(Vec::new());
        };
        Ok(crate::aws::kept::ring_keys(&stage.aws.ssm(), &stage.name)
            .await?
            .into_iter()
            .filter(|ring| !crate::aws::kept::is_key(ring.key_id.as_deref(), &key_arn))
            .collect())
    }

    /// Where the stage takes webhooks: the deployed API's URL, or the one `mgrid dev` last
    /// listened on (its default when it never ran), for the URLs to register with providers.
    pub async fn api_url(&self) -> Result<String, Failure> {
        match self {
            Target::Aws(stage) => stage.parameter(StageParameter::ApiUrl).await,
            Target::Local(stage) => Ok(crate::local::endpoint(&stage.paths)
                .unwrap_or_else(|| crate::local::DEFAULT_ENDPOINT.to_owned())),
        }
    }

    /// The endpoint to send webhooks to now: the deployed API, or `mgrid dev` only while it
    /// runs (its endpoint file outlives a crashed run, and the port may now be anyone's).
    pub async fn live_api_url(&self) -> Result<String, Failure> {
        match self {
            Target::Aws(stage) => stage.parameter(StageParameter::ApiUrl).await,
            Target::Local(stage) => crate::local::running_endpoint(&stage.paths),
        }
    }

    pub async fn archive(&self) -> Result<StageArchive, Failure> {
        match self {
            Target::Aws(stage) => Ok(StageArchive::Aws(Archive::new(
                stage.aws.s3(),
                stage.parameter(StageParameter::ArchiveBucket).await?,
            ))),
            Target::Local(stage) => {
                crate::local::open_existing(&stage.paths)?;
                Ok(StageArchive::Local(LocalArchiveFiles(
                    stage.paths.archive.clone(),
                )))
            }
        }
    }

    pub async fn ledger(&self) -> Result<StageLedger, Failure> {
        match self {
            Target::Aws(stage) => Ok(StageLedger::Aws(Ledger::new(
                stage.aws.dynamodb(),
                stage.parameter(StageParameter::TableName).await?,
            ))),
            Target::Local(stage) => Ok(StageLedger::Local(LocalLedgerLookup(stage.paths.clone()))),
        }
    }

    /// Where an event stands in the webhook queue and its vendor notification: exactly on the
    /// local stage; on AWS the queue is not read (it would hold up the event's group) and the
    /// notification is known only as the pipes' dead-letter queue's depth.
    pub async fn whereabouts(
        &self,
        event_id: &str,
        transaction_ids: &[String],
    ) -> Result<Whereabouts, Failure> {
        match self {
            Target::Aws(stage) => {
                let pipe_dead_letters = match stage.parameter(StageParameter::PipeDlqUrl).await {
                    Ok(url) => Queue::new(stage.aws.sqs(), url)
                        .depth()
                        .await
                        .ok()
                        .map(|depth| depth.visible + depth.in_flight),
                    Err(_) => None,
                };
                Ok(Whereabouts {
                    queue_read: false,
                    queued: None,
                    notification: if transaction_ids.is_empty() {
                        Notification::NoTransaction
                    } else {
                        Notification::Unknown { pipe_dead_letters }
                    },
                })
            }
            Target::Local(stage) => {
                crate::local::whereabouts(&stage.paths, event_id, transaction_ids)
            }
        }
    }

    /// Where the stage's logs are read: its log groups, or the local log file.
    pub fn logs(&self) -> StageLogs {
        match self {
            Target::Aws(stage) => StageLogs::Aws {
                logs: CloudWatchLogs::new(stage.aws.logs(), stage.name.clone()),
                aws: Box::new(stage.aws.clone()),
                live: None,
                said_sampled: false,
                catch_up: false,
            },
            Target::Local(stage) => StageLogs::Local {
                paths: stage.paths.clone(),
                follower: None,
            },
        }
    }

    /// Where the stage's metrics come from: CloudWatch, or the counters `mgrid dev` keeps.
    pub async fn metrics(&self) -> Result<StageMetrics, Failure> {
        match self {
            Target::Aws(stage) => {
                let resources =
                    crate::aws::metrics::resources(stage.parameters().await?, &stage.name)?;
                Ok(StageMetrics::Aws(Box::new(CloudWatchSource::new(
                    stage.aws.clone(),
                    &resources,
                ))))
            }
            Target::Local(stage) => {
                crate::local::open_existing(&stage.paths)?;
                Ok(StageMetrics::Local(LocalSource::new(stage.paths.clone())))
            }
        }
    }
}

/// A stage's logs: CloudWatch Logs, or the log file `mgrid dev` writes.
pub enum StageLogs {
    Aws {
        logs: CloudWatchLogs,
        aws: Box<Aws>,
        /// The Live Tail session a follow reads, while it lasts.
        live: Option<Box<LiveTail>>,
        /// Whether the session's sampling was said already.
        said_sampled: bool,
        /// The next step polls once before reading the session: what was written between the
        /// first read and the session's start is shown too.
        catch_up: bool,
    },
    Local {
        paths: Paths,
        follower: Option<Box<LogFollower>>,
    },
}

/// What one step of a follow brought: its new lines, and a sentence about how the follow goes
/// (a Live Tail session that ended, sampling) when there is one.
pub struct Followed {
    pub lines: Vec<LogLine>,
    pub note: Option<String>,
    /// The places a poll could not read, and why (none from a Live Tail update).
    pub unreadable: Vec<(String, Failure)>,
}

/// How long a follow waits between polls (a Live Tail session paces itself).
const AWS_POLL: std::time::Duration = std::time::Duration::from_secs(2);
const LOCAL_POLL: std::time::Duration = std::time::Duration::from_millis(500);

impl StageLogs {
    /// The query's lines from `from` on, at most `limit` (a source).
    pub async fn read(
        &self,
        query: &LogQuery,
        from: EpochMillis,
        limit: usize,
    ) -> Result<Found, Failure> {
        match self {
            StageLogs::Aws { logs, .. } => logs.read(query, from, limit).await,
            StageLogs::Local { paths, .. } => {
                let query = LogQuery {
                    from,
                    ..query.clone()
                };
                crate::local::logfile::read(paths, &query, limit)
            }
        }
    }

    /// Marks where a follow starts: locally, the end of the log file as it is now (a line
    /// written from here on is read by [`StageLogs::next`], even while the first read runs).
    pub fn start_follow(&mut self) {
        if let StageLogs::Local { paths, follower } = self {
            *follower = Some(Box::new(LogFollower::from_end(paths)));
        }
    }

    /// On AWS, starts a CloudWatch Logs Live Tail session on the query's log groups (those
    /// that exist: `missing` are left out); how the follow will go, in a sentence. When Live
    /// Tail is not available (the emulator, a partition without it, no `logs:StartLiveTail`),
    /// the follow polls FilterLogEvents instead, and says why.
    pub async fn go_live(&mut self, query: &LogQuery, missing: &[String]) -> String {
        let StageLogs::Aws {
            logs,
            aws,
            live,
            catch_up,
            ..
        } = self
        else {
            return "following the local log file".to_owned();
        };
        let identity = match aws.account().await {
            Ok(identity) => identity,
            Err(failure) => {
                return format!(
                    "Live Tail needs the account ({failure}); polling FilterLogEvents every 2 s"
                );
            }
        };
        let groups: Vec<String> = query
            .sources
            .iter()
            .map(|source| source.log_group(logs.stage()))
            .filter(|group| !missing.contains(group))
            .map(|group| {
                format!(
                    "arn:{}:logs:{}:{}:log-group:{group}",
                    identity.partition(),
                    aws.region,
                    identity.account
                )
            })
            .collect();
        if groups.is_empty() {
            return "none of the log groups exists yet; polling FilterLogEvents every 2 s"
                .to_owned();
        }
        match logs.live_tail(groups, query).await {
            Ok(session) => {
                *live = Some(Box::new(session));
                *catch_up = true;
                "following with CloudWatch Logs Live Tail".to_owned()
            }
            Err(failure) => format!(
                "Live Tail is not available here ({}); polling FilterLogEvents every 2 s",
                failure.what
            ),
        }
    }

    /// The query's lines since the last step, each once, oldest first: the next Live Tail
    /// update, or a poll after a pause. A Live Tail session that ends hands over to polling
    /// from a minute before the newest line shown, so nothing falls between the two.
    pub async fn next(
        &mut self,
        query: &LogQuery,
        follow: &mut Follow,
    ) -> Result<Followed, Failure> {
        let mut note = None;
        let mut unreadable = Vec::new();
        let lines = match self {
            StageLogs::Aws {
                logs,
                live,
                said_sampled,
                catch_up,
                ..
            } => {
                if std::mem::take(catch_up) {
                    let found = logs
                        .read(query, follow.poll_from(query.from), 10_000)
                        .await?;
                    return Ok(Followed {
                        lines: follow.fresh(found.lines),
                        note: None,
                        unreadable: found.unreadable,
                    });
                }
                let update = match live.as_mut() {
                    Some(session) => {
                        match session.next().await {
                            Ok(Some(update)) => Some(update),
                            Ok(None) => {
                                note = Some("the Live Tail session ended; polling FilterLogEvents every 2 s".to_owned());
                                None
                            }
                            Err(failure) => {
                                note = Some(format!(
                                    "{}; polling FilterLogEvents every 2 s",
                                    failure.what
                                ));
                                None
                            }
                        }
                    }
                    None => None,
                };
                match update {
                    Some(update) => {
                        if update.sampled && !*said_sampled {
                            *said_sampled = true;
                            note = Some("Live Tail is sampling: more than 500 lines a second match; narrow with --event-id, --level or --filter, or use --poll for every line".to_owned());
                        }
                        update
                            .lines
                            .into_iter()
                            .filter(|l| query.matches(l))
                            .collect()
                    }
                    None => {
                        *live = None;
                        tokio::time::sleep(AWS_POLL).await;
                        // Every line of the window: a follow must not stop at a limit.
                        let found = logs
                            .read(query, follow.poll_from(query.from), 10_000)
                            .await?;
                        unreadable = found.unreadable;
                        found.lines
                    }
                }
            }
            StageLogs::Local { paths, follower } => {
                tokio::time::sleep(LOCAL_POLL).await;
                follower
                    .get_or_insert_with(|| Box::new(LogFollower::from_end(paths)))
                    .poll_lines(query)?
            }
        };
        Ok(Followed {
            lines: follow.fresh(lines),
            note,
            unreadable,
        })
    }

    /// Whether this is the local stage's log.
    pub fn is_local(&self) -> bool {
        matches!(self, StageLogs::Local { .. })
    }
}

/// A queue of either backend.
pub enum StageQueue {
    Aws(Queue),
    Local(LocalQueue),
}

impl DeadLetterQueue for StageQueue {
    async fn depth(&self) -> Result<Depth, Failure> {
        match self {
            StageQueue::Aws(queue) => DeadLetterQueue::depth(queue).await,
            StageQueue::Local(queue) => DeadLetterQueue::depth(queue).await,
        }
    }

    async fn receive(&self, max: usize, hold_seconds: u32) -> Result<Vec<DeadLetter>, Failure> {
        match self {
            StageQueue::Aws(queue) => DeadLetterQueue::receive(queue, max, hold_seconds).await,
            StageQueue::Local(queue) => queue.receive(max, hold_seconds).await,
        }
    }

    async fn delete(&self, letters: &[&DeadLetter]) -> Result<BatchOutcome, Failure> {
        match self {
            StageQueue::Aws(queue) => DeadLetterQueue::delete(queue, letters).await,
            StageQueue::Local(queue) => queue.delete(letters).await,
        }
    }

    async fn set_visibility(&self, letters: &[&DeadLetter], seconds: u32) -> Result<(), Failure> {
        match self {
            StageQueue::Aws(queue) => {
                DeadLetterQueue::set_visibility(queue, letters, seconds).await
            }
            StageQueue::Local(queue) => queue.set_visibility(letters, seconds).await,
        }
    }

    async fn scan(
        &self,
        limit: usize,
        visit: &mut dyn FnMut(DeadLetter) -> bool,
    ) -> Result<(), Failure> {
        match self {
            StageQueue::Aws(queue) => queue.scan(limit, visit).await,
            StageQueue::Local(queue) => queue.scan(limit, visit).await,
        }
    }

    fn looks_without_receiving(&self) -> bool {
        match self {
            StageQueue::Aws(queue) => queue.looks_without_receiving(),
            StageQueue::Local(queue) => queue.looks_without_receiving(),
        }
    }

    async fn purge(&self) -> Result<Option<u64>, Failure> {
        match self {
            StageQueue::Aws(queue) => DeadLetterQueue::purge(queue).await,
            StageQueue::Local(queue) => queue.purge().await,
        }
    }
}

impl WebhookQueue for StageQueue {
    async fn send(
        &self,
        messages: &[Outgoing],
    ) -> Result<Result<BatchOutcome, MaybeSent>, Failure> {
        match self {
            StageQueue::Aws(queue) => WebhookQueue::send(queue, messages).await,
            StageQueue::Local(queue) => queue.send(messages).await,
        }
    }
}

/// Key rings of either backend.
pub enum StageRings {
    Aws(RingStore),
    Local(LocalRings),
}

impl KeyRings for StageRings {
    fn read_by_functions_since(&self) -> Option<mgrid_contract::EpochMillis> {
        match self {
            StageRings::Aws(rings) => rings.read_by_functions_since(),
            StageRings::Local(rings) => rings.read_by_functions_since(),
        }
    }

    async fn read(&self, name: &str) -> Result<Option<StoredRing>, Failure> {
        match self {
            StageRings::Aws(rings) => rings.read(name).await,
            StageRings::Local(rings) => rings.read(name).await,
        }
    }

    async fn write(
        &self,
        name: &str,
        ring: &mgrid_contract::KeyRing,
        read_version: Option<i64>,
    ) -> Result<crate::ports::Written, Failure> {
        match self {
            StageRings::Aws(rings) => rings.write(name, ring, read_version).await,
            StageRings::Local(rings) => rings.write(name, ring, read_version).await,
        }
    }
}

/// The archive of either backend.
pub enum StageArchive {
    Aws(Archive),
    Local(LocalArchiveFiles),
}

impl WebhookArchive for StageArchive {
    async fn list(&self, prefix: &str) -> Result<Vec<String>, Failure> {
        match self {
            StageArchive::Aws(archive) => WebhookArchive::list(archive, prefix).await,
            StageArchive::Local(archive) => archive.list(prefix).await,
        }
    }

    async fn get(&self, key: &str) -> Result<Vec<u8>, Failure> {
        match self {
            StageArchive::Aws(archive) => WebhookArchive::get(archive, key).await,
            StageArchive::Local(archive) => archive.get(key).await,
        }
    }
}

/// The ledger of either backend.
pub enum StageLedger {
    Aws(Ledger),
    Local(LocalLedgerLookup),
}

impl LedgerLookup for StageLedger {
    async fn present(
        &self,
        transaction_ids: &[String],
    ) -> Result<std::collections::BTreeSet<String>, Failure> {
        match self {
            StageLedger::Aws(ledger) => LedgerLookup::present(ledger, transaction_ids).await,
            StageLedger::Local(ledger) => ledger.present(transaction_ids).await,
        }
    }

    async fn record(
        &self,
        transaction_id: &str,
    ) -> Result<Option<mgrid_contract::TransactionRecord>, Failure> {
        match self {
            StageLedger::Aws(ledger) => ledger.record(transaction_id).await,
            StageLedger::Local(ledger) => ledger.record(transaction_id).await,
        }
    }
}

/// The metrics of either backend.
pub enum StageMetrics {
    Aws(Box<CloudWatchSource>),
    Local(LocalSource),
}

impl MetricsSource for StageMetrics {
    async fn refresh(&mut self, window: &Window) -> Result<Snapshot, Failure> {
        match self {
            StageMetrics::Aws(source) => source.refresh(window).await,
            StageMetrics::Local(source) => source.refresh(window).await,
        }
    }

    fn retry_unavailable(&mut self) {
        match self {
            StageMetrics::Aws(source) => source.retry_unavailable(),
            StageMetrics::Local(source) => source.retry_unavailable(),
        }
    }
}
