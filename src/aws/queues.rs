//! SQS for the dead-letter commands: queue depth, receiving with every attribute, batched sends
//! and deletes with per-entry outcomes, visibility changes, purge, and SQS's own message move
//! tasks. A batch call that timed out is "maybe sent", never "failed": the caller must not act
//! as if nothing happened.

use std::collections::{BTreeSet, HashMap};

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{
    BatchResultErrorEntry, ChangeMessageVisibilityBatchRequestEntry,
    DeleteMessageBatchRequestEntry, MessageAttributeValue, MessageSystemAttributeName,
    QueueAttributeName, SendMessageBatchRequestEntry,
};

use super::errors::{self, code};
use crate::decide::redrive::{Attribute, DeadLetter};
use crate::failure::{Failure, FailureKind};
pub use crate::ports::Depth;
use crate::ports::{
    BatchOutcome, DeadLetterQueue, MaybeSent, Notification, Outgoing, WebhookQueue, Whereabouts,
};

/// Where an event stands on a deployed stage, as far as it can be read without harm: the webhook
/// queue is not read (a receive would hold up the event's group), and the vendor notification is
/// known only as the depth of the pipes' dead-letter queue (`pipe_dlq_url`, when the stack
/// published it), whose failed batches name no event.
pub async fn whereabouts(
    aws: &super::connection::Aws,
    pipe_dlq_url: Option<String>,
    transaction_ids: &[String],
) -> Whereabouts {
    let pipe_dead_letters = match pipe_dlq_url {
        Some(url) => Queue::new(aws.sqs(), url)
            .depth()
            .await
            .ok()
            .map(|depth| depth.visible + depth.in_flight),
        None => None,
    };
    Whereabouts {
        queue_read: false,
        queued: None,
        notification: if transaction_ids.is_empty() {
            Notification::NoTransaction
        } else {
            Notification::Unknown { pipe_dead_letters }
        },
    }
}

pub struct Queue {
    client: Client,
    pub url: String,
}

/// SQS's limits on one SendMessageBatch request: 10 entries, 256 KiB of bodies and attributes
/// together (the 1 MiB limit of newer queues is not assumed).
const BATCH_ENTRIES: usize = 10;
const BATCH_BYTES: usize = 256 * 1024;

/// What SQS counts of a message against the request size: body, attribute names, types, values.
fn message_bytes(message: &Outgoing) -> usize {
    message.body.len()
        + message
            .attributes
            .iter()
            .map(|(name, a)| {
                name.len()
                    + a.data_type.len()
                    + a.text.as_ref().map_or(0, String::len)
                    + a.binary.as_ref().map_or(0, Vec::len)
            })
            .sum::<usize>()
}

/// Splits `messages`, in order, into runs that each fit one SendMessageBatch request.
pub fn request_ranges(messages: &[Outgoing]) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, message) in messages.iter().enumerate() {
        let size = message_bytes(message);
        if i > start && (i - start == BATCH_ENTRIES || bytes + size > BATCH_BYTES) {
            ranges.push(start..i);
            (start, bytes) = (i, 0);
        }
        bytes += size;
    }
    if start < messages.len() {
        ranges.push(start..messages.len());
    }
    ranges
}

/// The per-entry results of a batch call, by the request indices the entry ids carry.
fn batch_outcome<'a>(
    successful: impl Iterator<Item = &'a str>,
    failed: &[BatchResultErrorEntry],
) -> BatchOutcome {
    BatchOutcome {
        done: successful.filter_map(|id| id.parse().ok()).collect(),
        failed: failed
            .iter()
            .filter_map(|e| {
                let reason = format!("{}: {}", e.code(), e.message().unwrap_or_default());
                e.id().parse().ok().map(|i| (i, reason))
            })
            .collect(),
    }
}

impl Queue {
    pub fn new(client: Client, url: impl Into<String>) -> Self {
        Queue {
            client,
            url: url.into(),
        }
    }

    pub async fn depth(&self) -> Result<Depth, Failure> {
        let output = self
            .client
            .get_queue_attributes()
            .queue_url(&self.url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .map_err(|e| self.failure("sqs:GetQueueAttributes", &e))?;
        let attributes = output.attributes().cloned().unwrap_or_default();
        let number = |name: QueueAttributeName| {
            attributes
                .get(&name)
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        Ok(Depth {
            visible: number(QueueAttributeName::ApproximateNumberOfMessages),
            in_flight: number(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
            arn: attributes
                .get(&QueueAttributeName::QueueArn)
                .cloned()
                .unwrap_or_default(),
        })
    }

    /// Up to `max` messages, hidden for `hold_seconds`, waiting up to `wait_seconds` for any.
    pub async fn receive(
        &self,
        max: i32,
        hold_seconds: i32,
        wait_seconds: i32,
    ) -> Result<Vec<DeadLetter>, Failure> {
        let output = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(max.clamp(1, 10))
            .visibility_timeout(hold_seconds)
            .wait_time_seconds(wait_seconds)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(|e| self.failure("sqs:ReceiveMessage", &e))?;
        Ok(output
            .messages()
            .iter()
            .map(|message| {
                let system = message.attributes().cloned().unwrap_or_default();
                let get = |name: MessageSystemAttributeName| system.get(&name).cloned();
                DeadLetter {
                    message_id: message.message_id().unwrap_or_default().to_owned(),
                    receipt_handle: message.receipt_handle().unwrap_or_default().to_owned(),
                    body: message.body().unwrap_or_default().to_owned(),
                    attributes: message
                        .message_attributes()
                        .map(|attributes| {
                            attributes
                                .iter()
                                .map(|(name, value)| {
                                    let attribute = Attribute {
                                        data_type: value.data_type().to_owned(),
                                        text: value.string_value().map(str::to_owned),
                                        binary: value.binary_value().map(|b| b.as_ref().to_vec()),
                                    };
                                    (name.clone(), attribute)
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                    group_id: get(MessageSystemAttributeName::MessageGroupId).unwrap_or_default(),
                    deduplication_id: get(MessageSystemAttributeName::MessageDeduplicationId),
                    receive_count: get(MessageSystemAttributeName::ApproximateReceiveCount)
                        .and_then(|n| n.parse().ok())
                        .unwrap_or(0),
                    sent_at: get(MessageSystemAttributeName::SentTimestamp)
                        .and_then(|t| t.parse().ok()),
                }
            })
            .collect())
    }

    /// Sends up to 10 messages in one call, reporting each entry.
    /// Sends `messages` in order, in as many SendMessageBatch requests as SQS's limits need.
    /// Once an entry fails, later entries of its group are not sent (they fail too, as held),
    /// so no group overtakes itself. A request whose outcome is unknown ends the call.
    pub async fn send_batch(
        &self,
        messages: &[Outgoing],
    ) -> Result<Result<BatchOutcome, MaybeSent>, Failure> {
        let mut outcome = BatchOutcome::default();
        let mut failed_groups: BTreeSet<&str> = BTreeSet::new();
        for range in request_ranges(messages) {
            let mut indices = Vec::new();
            for i in range {
                if failed_groups.contains(messages[i].group_id.as_str()) {
                    outcome.failed.push((
                        i,
                        "not sent: an earlier message of its group was not sent".into(),
                    ));
                } else {
                    indices.push(i);
                }
            }
            let chunk: Vec<&Outgoing> = indices.iter().map(|&i| &messages[i]).collect();
            let sent = match self.send_request(&chunk).await? {
                Ok(sent) => sent,
                Err(maybe) => return Ok(Err(maybe)),
            };
            outcome.done.extend(sent.done.iter().map(|&j| indices[j]));
            for (j, reason) in sent.failed {
                failed_groups.insert(messages[indices[j]].group_id.as_str());
                outcome.failed.push((indices[j], reason));
            }
        }
        Ok(Ok(outcome))
    }

    /// One SendMessageBatch request.
    async fn send_request(
        &self,
        messages: &[&Outgoing],
    ) -> Result<Result<BatchOutcome, MaybeSent>, Failure> {
        if messages.is_empty() {
            return Ok(Ok(BatchOutcome::default()));
        }
        let entries: Vec<SendMessageBatchRequestEntry> = messages
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let attributes: HashMap<String, MessageAttributeValue> = m
                    .attributes
                    .iter()
                    .map(|(name, attribute)| {
                        let value = MessageAttributeValue::builder()
                            .data_type(&attribute.data_type)
                            .set_string_value(attribute.text.clone())
                            .set_binary_value(
                                attribute.binary.clone().map(aws_smithy_types::Blob::new),
                            )
                            .build()
                            .expect("data type is set");
                        (name.clone(), value)
                    })
                    .collect();
                SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(&m.body)
                    .message_group_id(&m.group_id)
                    .message_deduplication_id(&m.deduplication_id)
                    .set_message_attributes(Some(attributes))
                    .build()
                    .expect("id and body are set")
            })
            .collect();
        match self
            .client
            .send_message_batch()
            .queue_url(&self.url)
            .set_entries(Some(entries))
            .send()
            .await
        {
            Ok(output) => Ok(Ok(batch_outcome(
                output.successful().iter().map(|e| e.id()),
                output.failed(),
            ))),
            Err(error) if errors::classify(&error) == errors::ErrorClass::MaybeApplied => {
                Ok(Err(MaybeSent(errors::causes(&error))))
            }
            Err(error) => Err(self.failure("sqs:SendMessageBatch", &error)),
        }
    }

    pub async fn delete_batch(&self, messages: &[&DeadLetter]) -> Result<BatchOutcome, Failure> {
        if messages.is_empty() {
            return Ok(BatchOutcome::default());
        }
        let entries: Vec<DeleteMessageBatchRequestEntry> = messages
            .iter()
            .enumerate()
            .map(|(i, m)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(&m.receipt_handle)
                    .build()
                    .expect("id and handle are set")
            })
            .collect();
        let output = self
            .client
            .delete_message_batch()
            .queue_url(&self.url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| self.failure("sqs:DeleteMessageBatch", &e))?;
        Ok(batch_outcome(
            output.successful().iter().map(|e| e.id()),
            output.failed(),
        ))
    }

    /// Sets how long these messages stay hidden (0: visible again now), ten at a time.
    pub async fn set_visibility(
        &self,
        messages: &[&DeadLetter],
        seconds: i32,
    ) -> Result<(), Failure> {
        for chunk in messages.chunks(10) {
            let entries: Vec<ChangeMessageVisibilityBatchRequestEntry> = chunk
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    ChangeMessageVisibilityBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(&m.receipt_handle)
                        .visibility_timeout(seconds)
                        .build()
                        .expect("id and handle are set")
                })
                .collect();
            self.client
                .change_message_visibility_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| self.failure("sqs:ChangeMessageVisibilityBatch", &e))?;
        }
        Ok(())
    }

    pub async fn purge(&self) -> Result<(), Failure> {
        self.client
            .purge_queue()
            .queue_url(&self.url)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                // SQS's query-compatible header can replace the modeled code with the legacy
                // one, which the SDK's is_*() does not know.
                if e.as_service_error()
                    .is_some_and(|e| e.is_purge_queue_in_progress())
                    || code(&e) == Some("AWS.SimpleQueueService.PurgeQueueInProgress")
                {
                    Failure::new(
                        FailureKind::Conflict,
                        "a purge of this queue already ran in the last 60 seconds",
                    )
                    .next("wait a minute; SQS allows one purge per minute")
                } else {
                    self.failure("sqs:PurgeQueue", &e)
                }
            })
    }

    fn failure<E>(
        &self,
        action: &str,
        error: &aws_sdk_sqs::error::SdkError<E, aws_smithy_runtime_api::http::Response>,
    ) -> Failure
    where
        E: aws_sdk_sqs::error::ProvideErrorMetadata + std::error::Error + 'static,
    {
        let code = errors::code(error);
        if matches!(
            code,
            Some("QueueDoesNotExist" | "AWS.SimpleQueueService.NonExistentQueue")
        ) {
            return Failure::new(
                FailureKind::NotFound,
                format!(
                    "{action} failed: queue {} does not exist, though the stage's parameters name it",
                    self.url
                ),
            )
            .next("something deleted it outside CloudFormation: `mgrid status` shows the stage; `mgrid deploy` puts the stack back in shape");
        }
        errors::failure(action, &format!("queue {}", self.url), error)
    }
}

impl DeadLetterQueue for Queue {
    async fn depth(&self) -> Result<Depth, Failure> {
        Queue::depth(self).await
    }

    async fn receive(&self, max: usize, hold_seconds: u32) -> Result<Vec<DeadLetter>, Failure> {
        // A one-second long poll: an empty answer then means nothing is visible, not that this
        // server sampled none.
        Queue::receive(self, max as i32, hold_seconds.min(43_200) as i32, 1).await
    }

    async fn delete(&self, letters: &[&DeadLetter]) -> Result<BatchOutcome, Failure> {
        self.delete_batch(letters).await
    }

    async fn set_visibility(&self, letters: &[&DeadLetter], seconds: u32) -> Result<(), Failure> {
        Queue::set_visibility(self, letters, seconds.min(43_200) as i32).await
    }

    /// SQS's PurgeQueue, which does not say how many it deleted.
    async fn purge(&self) -> Result<Option<u64>, Failure> {
        Queue::purge(self).await.map(|()| None)
    }
}

impl WebhookQueue for Queue {
    async fn send(
        &self,
        messages: &[Outgoing],
    ) -> Result<Result<BatchOutcome, MaybeSent>, Failure> {
        self.send_batch(messages).await
    }
}

/// Where a move task stands, as SQS says it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MoveTaskStatus {
    Running,
    Cancelling,
    Completed,
    Cancelled,
    Failed,
    /// A status this mgrid does not know, as SQS wrote it.
    #[serde(untagged)]
    Other(String),
}

impl MoveTaskStatus {
    pub fn parse(status: &str) -> MoveTaskStatus {
        match status {
            "RUNNING" => MoveTaskStatus::Running,
            "CANCELLING" => MoveTaskStatus::Cancelling,
            "COMPLETED" => MoveTaskStatus::Completed,
            "CANCELLED" => MoveTaskStatus::Cancelled,
            "FAILED" => MoveTaskStatus::Failed,
            other => MoveTaskStatus::Other(other.to_owned()),
        }
    }

    /// Still moving (or about to stop): worth following.
    pub fn is_active(&self) -> bool {
        matches!(self, MoveTaskStatus::Running | MoveTaskStatus::Cancelling)
    }
}

impl std::fmt::Display for MoveTaskStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            MoveTaskStatus::Running => "RUNNING",
            MoveTaskStatus::Cancelling => "CANCELLING",
            MoveTaskStatus::Completed => "COMPLETED",
            MoveTaskStatus::Cancelled => "CANCELLED",
            MoveTaskStatus::Failed => "FAILED",
            MoveTaskStatus::Other(status) => status,
        })
    }
}

/// SQS's own message move task (no filter, no order beyond what SQS keeps, no dry run).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct MoveTask {
    pub handle: Option<String>,
    pub status: MoveTaskStatus,
    pub moved: i64,
    pub to_move: Option<i64>,
    pub failure: Option<String>,
}

pub struct MoveTasks {
    client: Client,
}

impl MoveTasks {
    pub fn new(client: Client) -> Self {
        MoveTasks { client }
    }

    pub async fn start(
        &self,
        source_arn: &str,
        destination_arn: &str,
        per_second: Option<i32>,
    ) -> Result<String, Failure> {
        let output = self
            .client
            .start_message_move_task()
            .source_arn(source_arn)
            .destination_arn(destination_arn)
            .set_max_number_of_messages_per_second(per_second)
            .send()
            .await
            .map_err(|e| errors::failure("sqs:StartMessageMoveTask", source_arn, &e))?;
        Ok(output.task_handle().unwrap_or_default().to_owned())
    }

    /// The most recent tasks of a source queue, newest first (SQS keeps the last ten).
    pub async fn list(&self, source_arn: &str) -> Result<Vec<MoveTask>, Failure> {
        let output = self
            .client
            .list_message_move_tasks()
            .source_arn(source_arn)
            .max_results(10)
            .send()
            .await
            .map_err(|e| errors::failure("sqs:ListMessageMoveTasks", source_arn, &e))?;
        Ok(output
            .results()
            .iter()
            .map(|task| MoveTask {
                handle: task.task_handle().map(str::to_owned),
                status: MoveTaskStatus::parse(task.status().unwrap_or_default()),
                moved: task.approximate_number_of_messages_moved(),
                to_move: task.approximate_number_of_messages_to_move(),
                failure: task.failure_reason().map(str::to_owned),
            })
            .collect())
    }

    pub async fn cancel(&self, handle: &str) -> Result<i64, Failure> {
        let output = self
            .client
            .cancel_message_move_task()
            .task_handle(handle)
            .send()
            .await
            .map_err(|e| errors::failure("sqs:CancelMessageMoveTask", handle, &e))?;
        Ok(output.approximate_number_of_messages_moved())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn message(group: &str, bytes: usize) -> Outgoing {
        Outgoing {
            body: "x".repeat(bytes),
            group_id: group.into(),
            deduplication_id: "d".into(),
            attributes: BTreeMap::from([(
                "mgrid-provider".to_owned(),
                Attribute::text("String", "stripe"),
            )]),
        }
    }

    #[test]
    fn requests_hold_at_most_ten_entries_and_256_kib() {
        let small: Vec<Outgoing> = (0..23).map(|_| message("g", 100)).collect();
        assert_eq!(request_ranges(&small), vec![0..10, 10..20, 20..23]);
        let big: Vec<Outgoing> = (0..5).map(|_| message("g", 100 * 1024)).collect();
        assert_eq!(request_ranges(&big), vec![0..2, 2..4, 4..5]);
        // A message of the maximum size goes alone.
        let mixed = vec![
            message("g", 10),
            message("g", 256 * 1024 - 40),
            message("g", 10),
        ];
        assert_eq!(request_ranges(&mixed), vec![0..1, 1..2, 2..3]);
        assert!(request_ranges(&[]).is_empty());
    }
}
