//! The Lambda side of MarketGrid: one bootstrap binary whose handler (authorizer, processor,
//! archiver or notifier) is picked by the function's Handler setting. This crate only translates Lambda
//! events to the data plane's handlers (mgrid-pipeline) and their results back.

pub mod events;

use std::collections::BTreeMap;
use std::sync::Arc;

use mgrid_contract::settlement::BY_PIPELINE;
use mgrid_contract::{KeySlot, StageName};
use mgrid_pipeline::archiver::Archiver;
use mgrid_pipeline::authorizer::{AuthorizationRequest, Authorizer, Decision};
use mgrid_pipeline::aws::{
    DynamoLedger, DynamoReceipts, S3Archive, SnsTopic, SqsDeadLetters, SsmKeyStore,
};
use mgrid_pipeline::legs::{LegRunner, LegWork, StreamRecord as LegRecord};
use mgrid_pipeline::metrics::batch_metrics;
use mgrid_pipeline::notifier::Notifier;
use mgrid_pipeline::ports::{Certificates, Clock, InboundMessage};
use mgrid_pipeline::processor::Processor;
use serde_json::Value;

use events::{
    AuthorizerResponse, BatchResponse, PolicyDocument, PolicyStatement, RequestAuthorizerEvent,
    SqsEvent, StreamRecord,
};

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(
        "the function's Handler is {0:?}; it must be authorizer, processor, archiver or notifier"
    )]
    UnknownHandler(String),
    #[error("the environment variable {0} is not set (the stack sets it)")]
    MissingVariable(&'static str),
    #[error("MGRID_STAGE: {0}")]
    Stage(#[from] mgrid_contract::InvalidStageName),
}

#[derive(Debug, thiserror::Error)]
#[error("the event is not a {expected}: {detail}")]
pub struct EventError {
    expected: &'static str,
    detail: String,
}

/// One of the four handlers, wired to AWS.
pub enum LambdaHandler<C> {
    Authorizer(Authorizer<SsmKeyStore>),
    Processor {
        stage: StageName,
        /// The published version running this code (`$LATEST` when invoked unqualified): the
        /// metrics carry it so a canary's guard sees the new version alone.
        version: String,
        processor: Box<Processor<DynamoLedger, SqsDeadLetters, SsmKeyStore, C>>,
        clock: Arc<dyn Clock>,
    },
    Archiver {
        stage: StageName,
        leg: LegRunner<Archiver<S3Archive>, DynamoReceipts>,
        clock: Arc<dyn Clock>,
    },
    Notifier {
        stage: StageName,
        leg: LegRunner<Notifier<SnsTopic>, DynamoReceipts>,
        clock: Arc<dyn Clock>,
    },
}

impl<C: Certificates> LambdaHandler<C> {
    /// Builds the handler named by `name` from the environment the stack gives the function.
    pub fn new(
        name: &str,
        config: &aws_config::SdkConfig,
        variable: &dyn Fn(&'static str) -> Option<String>,
        certificates: C,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, SetupError> {
        let required = |name: &'static str| variable(name).ok_or(SetupError::MissingVariable(name));
        let stage: StageName = required("MGRID_STAGE")?.parse()?;
        let key_store = || SsmKeyStore::new(aws_sdk_ssm::Client::new(config));
        Ok(match name {
            "authorizer" => LambdaHandler::Authorizer(Authorizer::new(stage, key_store(), clock)),
            "processor" => LambdaHandler::Processor {
                version: variable("AWS_LAMBDA_FUNCTION_VERSION")
                    .unwrap_or_else(|| "$LATEST".to_owned()),
                processor: Box::new(Processor::new(
                    stage.clone(),
                    DynamoLedger::new(
                        aws_sdk_dynamodb::Client::new(config),
                        required("MGRID_TABLE_NAME")?,
                    ),
                    SqsDeadLetters::new(
                        aws_sdk_sqs::Client::new(config),
                        required("MGRID_DLQ_URL")?,
                    ),
                    key_store(),
                    certificates,
                    clock.clone(),
                )),
                stage,
                clock,
            },
            "archiver" => LambdaHandler::Archiver {
                stage,
                leg: LegRunner::new(
                    Archiver::new(S3Archive::new(
                        aws_sdk_s3::Client::new(config),
                        required("MGRID_ARCHIVE_BUCKET")?,
                    )),
                    DynamoReceipts::new(
                        aws_sdk_dynamodb::Client::new(config),
                        required("MGRID_TABLE_NAME")?,
                    ),
                    BY_PIPELINE,
                ),
                clock,
            },
            "notifier" => LambdaHandler::Notifier {
                stage,
                leg: LegRunner::new(
                    Notifier::new(SnsTopic::new(
                        aws_sdk_sns::Client::new(config),
                        required("MGRID_VENDOR_TOPIC_ARN")?,
                    )),
                    DynamoReceipts::new(
                        aws_sdk_dynamodb::Client::new(config),
                        required("MGRID_TABLE_NAME")?,
                    ),
                    BY_PIPELINE,
                ),
                clock,
            },
            other => return Err(SetupError::UnknownHandler(other.to_owned())),
        })
    }

    pub async fn handle(&self, event: Value) -> Result<Value, EventError> {
        match self {
            LambdaHandler::Authorizer(authorizer) => {
                let event: RequestAuthorizerEvent = parse(event, "REQUEST authorizer event")?;
                Ok(to_json(&authorize(authorizer, &event).await))
            }
            LambdaHandler::Processor {
                stage,
                version,
                processor,
                clock,
            } => {
                let event: SqsEvent = parse(event, "SQS event")?;
                let messages: Vec<InboundMessage> =
                    event.records.into_iter().map(inbound).collect();
                let report = processor.process(&messages).await;
                // One JSON line per message (mgrid logs and mgrid trace read them by field).
                for decision in &report.decisions {
                    println!("{}", decision.to_line());
                }
                for line in batch_metrics(stage, version, &report, clock.now()) {
                    println!("{line}");
                }
                Ok(to_json(&BatchResponse::failing(report.failed)))
            }
            LambdaHandler::Archiver { stage, leg, clock } => {
                run_leg(stage, leg, event, clock.as_ref()).await
            }
            LambdaHandler::Notifier { stage, leg, clock } => {
                run_leg(stage, leg, event, clock.as_ref()).await
            }
        }
    }
}

/// A leg after the ledger: the pipe's batch of stream records worked, one decision line per
/// record, and the records that failed (or whose free redo would write a missing receipt) back to
/// the pipe.
async fn run_leg<W: LegWork, R: mgrid_pipeline::ports::Receipts>(
    stage: &StageName,
    leg: &LegRunner<W, R>,
    event: Value,
    clock: &dyn Clock,
) -> Result<Value, EventError> {
    let records: Vec<StreamRecord> = parse(event, "pipe batch of DynamoDB stream records")?;
    let records: Vec<LegRecord> = records
        .into_iter()
        .map(|r| LegRecord {
            event_id: r.event_id,
            event_name: r.event_name,
            new_image: r.dynamodb.new_image,
        })
        .collect();
    let report = leg.run(&records, clock).await;
    // One JSON line per record (mgrid logs and mgrid trace read them by field).
    for decision in report.decision_lines(W::FUNCTION, clock.now()) {
        println!("{}", decision.to_line());
    }
    println!(
        "{}",
        mgrid_pipeline::metrics::leg_metrics(stage, W::LEG, &report, clock.now())
    );
    tracing::info!(
        done = report.done,
        already = report.already,
        failed = report.failed.len(),
        receipts_unwritten = report.receipts_unwritten,
        "{}",
        W::FUNCTION
    );
    if let Some(error) = &report.first_error {
        tracing::warn!(
            failed = report.failed.len(),
            first_error = %error,
            "the {} leg failed for some records; the pipe retries those it was handed back",
            W::LEG
        );
    }
    Ok(to_json(&BatchResponse::failing(report.failed)))
}

fn parse<T: serde::de::DeserializeOwned>(
    event: Value,
    expected: &'static str,
) -> Result<T, EventError> {
    serde_json::from_value(event).map_err(|e| EventError {
        expected,
        detail: e.to_string(),
    })
}

fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// The authorizer's answer as API Gateway wants it: a policy for this method, Allow or Deny.
pub async fn authorize(
    authorizer: &Authorizer<SsmKeyStore>,
    event: &RequestAuthorizerEvent,
) -> AuthorizerResponse {
    let lower =
        |map: &Option<std::collections::HashMap<String, String>>| -> BTreeMap<String, String> {
            map.iter()
                .flatten()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                .collect()
        };
    let request = AuthorizationRequest {
        // The resource is the route template (it cannot be spoofed); the path is a fallback.
        path: event
            .resource
            .clone()
            .or_else(|| event.path.clone())
            .unwrap_or_default(),
        headers: lower(&event.headers),
        query: event
            .query_string_parameters
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect(),
        repeated_key: event.repeated_key(),
    };
    let decision = authorizer.decide(&request).await;
    let request_id = event
        .request_context
        .as_ref()
        .and_then(|c| c.request_id.clone());
    // One JSON line per decision (mgrid logs reads them by field).
    println!(
        "{}",
        decision.log_line(request_id, authorizer.now()).to_line()
    );
    let mut context = BTreeMap::new();
    let (principal, effect) = match &decision {
        Decision::Allow {
            provider,
            slot,
            key_id,
        } => {
            context.insert("provider".to_owned(), provider.to_string());
            context.insert("keyId".to_owned(), key_id.clone());
            context.insert(
                "keySlot".to_owned(),
                if *slot == KeySlot::Current {
                    "current"
                } else {
                    "previous"
                }
                .to_owned(),
            );
            (provider.to_string(), "Allow")
        }
        Decision::Deny { reason } => {
            context.insert("denied".to_owned(), reason.as_str().to_owned());
            ("denied".to_owned(), "Deny")
        }
    };
    AuthorizerResponse {
        principal_id: principal,
        policy_document: PolicyDocument {
            version: "2012-10-17",
            statement: vec![PolicyStatement {
                action: "execute-api:Invoke",
                effect,
                resource: event.method_arn.clone(),
            }],
        },
        context,
    }
}

fn inbound(record: events::SqsRecord) -> InboundMessage {
    InboundMessage {
        group_id: record
            .attributes
            .get("MessageGroupId")
            .cloned()
            .unwrap_or_default(),
        deduplication_id: record.attributes.get("MessageDeduplicationId").cloned(),
        receive_count: record
            .attributes
            .get("ApproximateReceiveCount")
            .and_then(|n| n.parse().ok())
            .unwrap_or(1),
        attributes: record
            .message_attributes
            .into_iter()
            .filter_map(|(name, value)| value.string_value.map(|v| (name, v)))
            .collect(),
        message_id: record.message_id,
        body: record.body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_id_is_read_from_a_real_authorizer_event() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/events/authorizer-request.json"
        );
        let event: RequestAuthorizerEvent =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert_eq!(
            event.request_context.and_then(|c| c.request_id).as_deref(),
            Some("8d3c1f0e-5b4a-4c2d-9e8f-7a6b5c4d3e2f")
        );
    }
}
