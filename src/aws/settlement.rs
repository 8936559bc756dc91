//! The journey after the ledger on a deployed stage: the sparse `Unsettled` index of the
//! transactions table read bucket by bucket (an hour in four shards), items read back by key,
//! and a leg redone with the pipeline's own code (mgrid_pipeline's archiver and notifier), its
//! receipt written by the heal.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};
use mgrid_contract::EpochMillis;
use mgrid_contract::ledger::{Attribute, Item};
use mgrid_contract::settlement::{BY_HEAL, Leg, UNSETTLED, UNSETTLED_INDEX, buckets_between};
use mgrid_pipeline::archiver::Archiver;
use mgrid_pipeline::aws::{DynamoReceipts, S3Archive, SnsTopic, from_attribute_value};
use mgrid_pipeline::legs::{LegRunner, records_of};
use mgrid_pipeline::notifier::Notifier;
use mgrid_pipeline::ports::SystemClock;

use aws_sdk_dynamodbstreams::error::DisplayErrorContext;

use super::errors;
use crate::decide::pipe_letters::PipeBatch;
use crate::failure::Failure;
use crate::ports::{Redone, UnsettledPage};

pub struct AwsSettlement {
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// The ledger's stream, read back for a pipe's failed batch.
    pub streams: aws_sdk_dynamodbstreams::Client,
    pub table: String,
    /// The archive leg, as the archiver runs it.
    pub archive: S3Archive,
    /// The vendor topic, as the notifier publishes to it.
    pub topic: SnsTopic,
}

fn item_of(found: &HashMap<String, AttributeValue>) -> Item {
    found
        .iter()
        .filter_map(|(name, value)| Some((name.clone(), from_attribute_value(value)?)))
        .collect()
}

/// GetRecords calls a read-back of one failed batch makes at most (each up to 1,000 records;
/// the legs' receipts are MODIFY records between a batch's INSERTs).
const STREAM_READS: usize = 50;

/// Empty pages in a row after which the shard's end is taken as reached (an open shard can
/// answer an empty page before its next records).
const EMPTY_PAGES: usize = 3;

/// Whether stream sequence number `a` comes after `b` (decimal strings of up to 40 digits).
fn sequence_after(a: &str, b: &str) -> bool {
    (a.len(), a) > (b.len(), b)
}

/// Index buckets queried at once: a day is 96 of them, nearly all empty.
const BUCKETS_AT_ONCE: usize = 16;

impl AwsSettlement {
    /// One bucket's items received in `[from, to]`, `max` at most; the read capacity consumed,
    /// and whether the bucket held more.
    async fn bucket(
        &self,
        bucket: String,
        from: EpochMillis,
        to: EpochMillis,
        max: usize,
    ) -> Result<(Vec<Item>, f64, bool), Failure> {
        let mut items = Vec::new();
        let mut units = 0.0;
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            let output = self
                .dynamodb
                .query()
                .table_name(&self.table)
                .index_name(UNSETTLED_INDEX)
                .key_condition_expression("#bucket = :bucket")
                .expression_attribute_names("#bucket", UNSETTLED)
                .expression_attribute_values(":bucket", AttributeValue::S(bucket.clone()))
                .set_exclusive_start_key(start.take())
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await
                .map_err(|e| {
                    errors::failure(
                        "dynamodb:Query",
                        &format!("index {UNSETTLED_INDEX} of table {}", self.table),
                        &e,
                    )
                })?;
            units += output
                .consumed_capacity()
                .and_then(|c| c.capacity_units())
                .unwrap_or(0.0);
            for found in output.items() {
                let item = item_of(found);
                let received = match item.get("receivedAt") {
                    Some(Attribute::N(at)) => at.parse::<EpochMillis>().ok(),
                    _ => None,
                };
                // A bucket is an hour: the window's edges cut into its first and last.
                if received.is_some_and(|at| at < from || at > to) {
                    continue;
                }
                if items.len() >= max {
                    return Ok((items, units, true));
                }
                items.push(item);
            }
            match output.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => return Ok((items, units, false)),
            }
        }
    }
}

impl crate::ports::Settlement for AwsSettlement {
    async fn unsettled(
        &self,
        from: EpochMillis,
        to: EpochMillis,
        max: usize,
    ) -> Result<UnsettledPage, Failure> {
        use futures::StreamExt;
        // Buckets are read a few at a time (most of them are empty), in order, each at most
        // `max` items deep.
        let mut buckets = futures::stream::iter(buckets_between(from, to))
            .map(|bucket| self.bucket(bucket, from, to, max))
            .buffered(BUCKETS_AT_ONCE);
        let mut page = UnsettledPage {
            read_units: Some(0.0),
            ..UnsettledPage::default()
        };
        while let Some(found) = buckets.next().await {
            let (items, units, more) = found?;
            if let Some(total) = page.read_units.as_mut() {
                *total += units;
            }
            for item in items {
                if page.items.len() >= max {
                    page.more = true;
                    return Ok(page);
                }
                page.items.push(item);
            }
            if more {
                page.more = true;
                return Ok(page);
            }
        }
        Ok(page)
    }

    async fn items(&self, transaction_ids: &[String]) -> Result<Vec<Item>, Failure> {
        let found =
            super::archive::read_items(&self.dynamodb, &self.table, transaction_ids, None).await?;
        Ok(found.iter().map(item_of).collect())
    }

    async fn batch_transactions(&self, batch: &PipeBatch) -> Result<Vec<String>, String> {
        use aws_sdk_dynamodbstreams::types::{OperationType, ShardIteratorType};
        let unreadable = |what: &str, error: &dyn std::fmt::Display| {
            format!("the stream cannot be read back ({what}: {error})")
        };
        let started = self
            .streams
            .get_shard_iterator()
            .stream_arn(&batch.stream)
            .shard_id(&batch.shard)
            .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
            .sequence_number(&batch.start_sequence)
            .send()
            .await
            .map_err(|e| unreadable("GetShardIterator", &DisplayErrorContext(&e)))?;
        let mut iterator = started
            .shard_iterator
            .ok_or_else(|| "the stream gave no shard iterator".to_owned())?;
        let mut ids = Vec::new();
        let mut empty = 0;
        for _ in 0..STREAM_READS {
            let page = self
                .streams
                .get_records()
                .shard_iterator(&iterator)
                .send()
                .await
                .map_err(|e| unreadable("GetRecords", &DisplayErrorContext(&e)))?;
            for record in page.records() {
                let Some(change) = record.dynamodb() else {
                    continue;
                };
                if sequence_after(
                    change.sequence_number().unwrap_or_default(),
                    &batch.end_sequence,
                ) {
                    return Ok(ids);
                }
                if record.event_name() != Some(&OperationType::Insert) {
                    continue;
                }
                if let Some(aws_sdk_dynamodbstreams::types::AttributeValue::S(id)) = change
                    .new_image()
                    .and_then(|image| image.get(mgrid_contract::ledger::KEY_ATTRIBUTE))
                {
                    ids.push(id.clone());
                }
            }
            empty = if page.records().is_empty() {
                empty + 1
            } else {
                0
            };
            match page.next_shard_iterator {
                Some(next) if empty < EMPTY_PAGES => iterator = next,
                // A closed shard, or its end: every record of the batch was read.
                _ => return Ok(ids),
            }
        }
        Err(format!(
            "the batch's records were not all read back in {STREAM_READS} reads"
        ))
    }

    async fn redo(&self, leg: Leg, items: &[Item]) -> Result<Vec<Redone>, Failure> {
        let receipts = DynamoReceipts::new(self.dynamodb.clone(), self.table.clone());
        let records = records_of(items);
        let report = match leg {
            Leg::Archive => {
                LegRunner::new(Archiver::new(self.archive.clone()), receipts, BY_HEAL)
                    .run(&records, &SystemClock)
                    .await
            }
            Leg::Notify => {
                LegRunner::new(
                    Notifier::redelivering(self.topic.clone()),
                    receipts,
                    BY_HEAL,
                )
                .run(&records, &SystemClock)
                .await
            }
        };
        Ok(Redone::each(items, &report))
    }
}
