//! The stage a command acts on, resolved once from `--stage`: a deployed stage on AWS (its
//! settings, its connection, the resource names its stack published in SSM) or the local stage
//! (its data directory). This is the one place that picks a stage's backend: it hands commands
//! the ports of `crate::ports`, with the AWS adapters (`aws/`) or the local ones (`local/`)
//! behind them. A command asks which only where the backends differ in what there is: `status`
//! (a stack, or a running `mgrid dev`) and `destroy` (AWS only).

use std::collections::BTreeMap;
use std::path::PathBuf;

use mgrid_contract::{StageName, StageParameter};
use tokio::sync::OnceCell;

use crate::aws::Aws;
use crate::aws::archive::{Archive, Ledger};
use crate::aws::kept::RingKey;
use crate::aws::keystore::RingStore;
use crate::aws::logs::AwsLogs;
use crate::aws::metrics::CloudWatchSource;
use crate::aws::parameters::{require, stage_parameters};
use crate::aws::queues::{MoveTasks, Queue};
use crate::aws::settlement::AwsSettlement;
use crate::decide::stage::StageSettings;
use crate::failure::{Failure, FailureKind};
use crate::local::logfile::LocalLogs;
use crate::local::metrics::LocalSource;
use crate::local::settlement::LocalSettlement;
use crate::local::{LocalArchiveFiles, LocalLedgerLookup, LocalQueue, LocalRings, Paths};
use crate::ports::{Backend, DeadLetterQueue, Depth, Whereabouts};
use crate::providers::api_base;
use crate::providers::client::ProviderClient;

/// A stage, resolved.
pub enum Target {
    Aws(Box<AwsStage>),
    Local(Box<LocalStage>),
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

    /// The pipes' dead-letter queue (failed stream batches after the ledger); the local stage has
    /// none: its legs keep their failures per payment.
    pub async fn pipe_dead_letter_queue(&self) -> Result<Queue, Failure> {
        match self {
            Target::Aws(stage) => Ok(Queue::new(
                stage.aws.sqs(),
                stage.parameter(StageParameter::PipeDlqUrl).await?,
            )),
            Target::Local(_) => Err(Failure::new(
                FailureKind::Usage,
                "the local stage has no pipes' dead-letter queue: its legs keep their failures per payment, on the ledger item",
            )
            .next("mgrid reconcile --stage local (lists them; --heal settles them)")),
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

    /// The deployed WAF's per-address rate limit (requests in 5 minutes); None on a stage
    /// without a WAF (the local stage).
    pub async fn waf_rate_limit(&self) -> Result<Option<u64>, Failure> {
        let Target::Aws(stage) = self else {
            return Ok(None);
        };
        let stacks = crate::aws::stack::Stacks::new(stage.aws.cloudformation());
        let Some(stack) = stacks.describe(&stage.settings.stack_name).await? else {
            return Ok(None);
        };
        let deployed = stack
            .parameters
            .iter()
            .find(|(name, _)| *name == "WafRateLimit")
            .and_then(|(_, value)| value.parse().ok());
        // A parameter left at its default may not be listed: the template's default applies.
        let default = crate::decide::template::Template::pipeline()
            .ok()
            .and_then(|t| t.parameter("WafRateLimit"))
            .and_then(|p| p.default)
            .and_then(|d| d.parse().ok());
        Ok(deployed.or(default))
    }

    /// The stage's client for a provider's own API, with the token `mgrid keys
    /// set-provider-token` stored; None when no token is set. The API is the provider's, or
    /// `stand_in`'s; on the local stage, the stand-in `mgrid dev` runs.
    pub async fn provider_client(
        &self,
        rings: &impl crate::ports::KeyRings,
        provider: mgrid_contract::Provider,
        stand_in: Option<&str>,
    ) -> Result<Option<ProviderClient>, Failure> {
        let Some(token) = rings
            .read(&self.name().provider_token_ring(provider))
            .await?
        else {
            return Ok(None);
        };
        ProviderClient::new(
            provider,
            self.name().clone(),
            self.provider_api(provider, stand_in)?,
            token.ring.current.secret,
        )
        .map(Some)
    }

    /// Where a provider's own API answers for this stage: `stand_in`'s when named; on the local
    /// stage the stand-in `mgrid dev` runs; else the provider's.
    pub fn provider_api(
        &self,
        provider: mgrid_contract::Provider,
        stand_in: Option<&str>,
    ) -> Result<String, Failure> {
        Ok(match (self, stand_in) {
            (_, Some(base)) => api_base(provider, Some(base)),
            (Target::Local(stage), None) => api_base(
                provider,
                Some(&crate::local::running_provider_api(&stage.paths)?),
            ),
            (Target::Aws(_), None) => api_base(provider, None),
        })
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

    /// The journey after the ledger: what is unsettled, and each leg redone.
    pub async fn settlement(&self) -> Result<StageSettlement, Failure> {
        match self {
            Target::Aws(stage) => Ok(StageSettlement::Aws(AwsSettlement {
                dynamodb: stage.aws.dynamodb(),
                streams: stage.aws.dynamodb_streams(),
                table: stage.parameter(StageParameter::TableName).await?,
                archive: mgrid_pipeline::aws::S3Archive::new(
                    stage.aws.s3(),
                    stage.parameter(StageParameter::ArchiveBucket).await?,
                ),
                topic: stage
                    .aws
                    .sns_topic(&stage.parameter(StageParameter::VendorTopicArn).await?),
            })),
            Target::Local(stage) => {
                crate::local::open_existing(&stage.paths)?;
                Ok(StageSettlement::Local(LocalSettlement(stage.paths.clone())))
            }
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
            Target::Aws(stage) => StageLogs::Aws(AwsLogs::new(&stage.aws, stage.name.clone())),
            Target::Local(stage) => StageLogs::Local(LocalLogs::new(stage.paths.clone())),
        }
    }

    /// Where the stage's metrics come from: CloudWatch, or the counters `mgrid dev` keeps.
    pub async fn metrics(&self) -> Result<StageMetrics, Failure> {
        match self {
            Target::Aws(stage) => {
                let resources =
                    crate::aws::metrics::resources(stage.parameters().await?, &stage.name)?;
                Ok(StageMetrics::Aws(CloudWatchSource::new(
                    stage.aws.clone(),
                    &resources,
                )))
            }
            Target::Local(stage) => {
                crate::local::open_existing(&stage.paths)?;
                Ok(StageMetrics::Local(LocalSource::new(stage.paths.clone())))
            }
        }
    }
}

/// A stage's logs: CloudWatch Logs, or the log file `mgrid dev` writes.
pub type StageLogs = Backend<AwsLogs, LocalLogs>;

/// A queue of either backend.
pub type StageQueue = Backend<Queue, LocalQueue>;

/// Key rings of either backend.
pub type StageRings = Backend<RingStore, LocalRings>;

/// The archive of either backend.
pub type StageArchive = Backend<Archive, LocalArchiveFiles>;

/// The ledger of either backend.
pub type StageLedger = Backend<Ledger, LocalLedgerLookup>;

/// The journey after the ledger, on either backend.
pub type StageSettlement = Backend<AwsSettlement, LocalSettlement>;

/// The metrics of either backend.
pub type StageMetrics = Backend<CloudWatchSource, LocalSource>;
