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
use crate::aws::logs::AwsLogs;
use crate::aws::metrics::CloudWatchSource;
use crate::aws::parameters::{require, stage_parameters};
use crate::aws::queues::{MoveTasks, Queue};
use crate::decide::logs::{Follow, Found, LogQuery};
use crate::decide::metrics::{Snapshot, Window};
use crate::decide::redrive::DeadLetter;
use crate::decide::stage::StageSettings;
use crate::failure::{Failure, FailureKind};
use crate::local::logfile::LocalLogs;
use crate::local::metrics::LocalSource;
use crate::local::{LocalArchiveFiles, LocalLedgerLookup, LocalQueue, LocalRings, Paths};
use crate::ports::{
    BatchOutcome, DeadLetterQueue, Depth, KeyRings, LedgerLookup, Logs, MaybeSent, MetricsSource,
    NewLines, Outgoing, StoredRing, WebhookArchive, WebhookQueue, Whereabouts,
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
                let pipe_dlq_url = stage.parameter(StageParameter::PipeDlqUrl).await.ok();
                Ok(
                    crate::aws::queues::whereabouts(&stage.aws, pipe_dlq_url, transaction_ids)
                        .await,
                )
            }
            Target::Local(stage) => {
                crate::local::whereabouts(&stage.paths, event_id, transaction_ids)
            }
        }
    }

    /// Where the stage's logs are read: its log groups, or the local log file.
    pub fn logs(&self) -> StageLogs {
        match self {
            Target::Aws(stage) => {
                StageLogs::Aws(Box::new(AwsLogs::new(&stage.aws, stage.name.clone())))
            }
            Target::Local(stage) => StageLogs::Local(LocalLogs::new(stage.paths.clone())),
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
    Aws(Box<AwsLogs>),
    Local(LocalLogs),
}

impl Logs for StageLogs {
    async fn read(
        &self,
        query: &LogQuery,
        from: EpochMillis,
        limit: usize,
    ) -> Result<Found, Failure> {
        match self {
            StageLogs::Aws(logs) => logs.read(query, from, limit).await,
            StageLogs::Local(logs) => logs.read(query, from, limit).await,
        }
    }

    fn start_follow(&mut self) {
        match self {
            StageLogs::Aws(logs) => logs.start_follow(),
            StageLogs::Local(logs) => logs.start_follow(),
        }
    }

    async fn go_live(&mut self, query: &LogQuery, missing: &[String]) -> String {
        match self {
            StageLogs::Aws(logs) => logs.go_live(query, missing).await,
            StageLogs::Local(logs) => logs.go_live(query, missing).await,
        }
    }

    async fn next(&mut self, query: &LogQuery, follow: &mut Follow) -> Result<NewLines, Failure> {
        match self {
            StageLogs::Aws(logs) => logs.next(query, follow).await,
            StageLogs::Local(logs) => logs.next(query, follow).await,
        }
    }

    fn keeps_access_log(&self) -> bool {
        match self {
            StageLogs::Aws(logs) => logs.keeps_access_log(),
            StageLogs::Local(logs) => logs.keeps_access_log(),
        }
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
