//! The stage's webhook archive in S3 (listing an hour's prefix, reading one object) and its
//! ledger in DynamoDB (which transactions it holds), as a replay reads them.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use mgrid_contract::TransactionRecord;
use mgrid_contract::ledger::{Item, KEY_ATTRIBUTE, record_from_item};
use mgrid_pipeline::aws::from_attribute_value;

use super::errors;
use crate::failure::{Failure, FailureKind};
use crate::retry::Backoff;

pub struct Archive {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl Archive {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        Archive {
            client,
            bucket: bucket.into(),
        }
    }

    /// Every key under `prefix`, all pages, decoded.
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, Failure> {
        let mut keys = Vec::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            // Keys come URL-encoded: one holding a character XML 1.0 cannot carry (an escape)
            // would otherwise make the whole page unreadable, and the replay with it.
            .encoding_type(aws_sdk_s3::types::EncodingType::Url)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                let failure = errors::failure(
                    "s3:ListObjectsV2",
                    &format!("s3://{}/{prefix}", self.bucket),
                    &e,
                );
                if e.as_service_error().is_some_and(|e| e.is_no_such_bucket()) {
                    return Failure::new(
                        FailureKind::NotFound,
                        format!(
                            "the archive bucket {} does not exist, though the stage's parameters name it",
                            self.bucket
                        ),
                    )
                    .next("`mgrid status` shows the stage; `mgrid deploy` puts it back in shape");
                }
                failure
            })?;
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|object| object.key().map(s3_key)),
            );
        }
        Ok(keys)
    }

    /// One object's bytes.
    pub async fn get(&self, key: &str) -> Result<Vec<u8>, Failure> {
        let where_ = || format!("s3://{}/{key}", self.bucket);
        let output = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| {
                if e.as_service_error().is_some_and(|e| e.is_no_such_key()) {
                    Failure::new(
                        FailureKind::NotFound,
                        format!("{} does not exist", where_()),
                    )
                } else {
                    errors::failure("s3:GetObject", &where_(), &e)
                }
            })?;
        let bytes = output.body.collect().await.map_err(|e| {
            Failure::new(
                FailureKind::Failed,
                format!("reading {} failed midway: {e}", where_()),
            )
            .transient()
        })?;
        Ok(bytes.into_bytes().to_vec())
    }
}

pub struct Ledger {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

/// BatchGetItem's limit on keys per request.
const KEYS_PER_REQUEST: usize = 100;

impl Ledger {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Ledger {
            client,
            table: table.into(),
        }
    }

    /// Which of `transaction_ids` the ledger holds (only the key attribute read).
    pub async fn present(&self, transaction_ids: &[String]) -> Result<BTreeSet<String>, Failure> {
        let found = read_items(&self.client, &self.table, transaction_ids, Some(&[])).await?;
        Ok(found
            .iter()
            .filter_map(|item| match item.get(KEY_ATTRIBUTE) {
                Some(AttributeValue::S(id)) => Some(id.clone()),
                _ => None,
            })
            .collect())
    }
}

/// The ledger items of `transaction_ids` (those there are), read consistently in batches of
/// 100 keys, retrying what DynamoDB leaves unprocessed with backoff; with a `projection`, only
/// their keys and the attributes it names.
pub async fn read_items(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    transaction_ids: &[String],
    projection: Option<&[&str]>,
) -> Result<Vec<HashMap<String, AttributeValue>>, Failure> {
    let mut found = Vec::new();
    for chunk in transaction_ids.chunks(KEYS_PER_REQUEST) {
        let mut pending: Vec<HashMap<String, AttributeValue>> = chunk
            .iter()
            .map(|id| HashMap::from([(KEY_ATTRIBUTE.to_owned(), AttributeValue::S(id.clone()))]))
            .collect();
        let mut backoff =
            Backoff::new(Duration::from_millis(50), Duration::from_secs(5)).doubling();
        for attempt in 0.. {
            let mut keys = KeysAndAttributes::builder()
                .set_keys(Some(pending))
                .consistent_read(true);
            if let Some(attributes) = projection {
                let mut expression = "#k".to_owned();
                keys = keys.expression_attribute_names("#k", KEY_ATTRIBUTE);
                for (n, attribute) in attributes.iter().enumerate() {
                    expression.push_str(&format!(", #a{n}"));
                    keys = keys.expression_attribute_names(format!("#a{n}"), *attribute);
                }
                keys = keys.projection_expression(expression);
            }
            let keys = keys
                .build()
                .map_err(|e| Failure::new(FailureKind::Failed, e.to_string()))?;
            let output = client
                .batch_get_item()
                .request_items(table, keys)
                .send()
                .await
                .map_err(|e| {
                    errors::failure("dynamodb:BatchGetItem", &format!("table {table}"), &e)
                })?;
            found.extend(
                output
                    .responses()
                    .and_then(|r| r.get(table))
                    .into_iter()
                    .flatten()
                    .cloned(),
            );
            pending = output
                .unprocessed_keys()
                .and_then(|u| u.get(table))
                .map(|k| k.keys().to_vec())
                .unwrap_or_default();
            if pending.is_empty() {
                break;
            }
            if attempt >= 8 {
                return Err(Failure::new(
                    FailureKind::Failed,
                    format!(
                        "DynamoDB kept {} ledger reads unprocessed after 8 retries (table {table} is throttled)",
                        pending.len()
                    ),
                )
                .next("run the command again in a minute")
                .transient());
            }
            tokio::time::sleep(backoff.next_wait()).await;
        }
    }
    Ok(found)
}

impl crate::ports::WebhookArchive for Archive {
    async fn list(&self, prefix: &str) -> Result<Vec<String>, Failure> {
        Archive::list(self, prefix).await
    }

    async fn get(&self, key: &str) -> Result<Vec<u8>, Failure> {
        Archive::get(self, key).await
    }
}

impl crate::ports::LedgerLookup for Ledger {
    async fn present(&self, transaction_ids: &[String]) -> Result<BTreeSet<String>, Failure> {
        Ledger::present(self, transaction_ids).await
    }

    async fn held(
        &self,
        transaction_ids: &[String],
    ) -> Result<std::collections::BTreeMap<String, Option<mgrid_contract::EpochMillis>>, Failure>
    {
        use mgrid_contract::settlement::RECORDED_AT;
        let found = read_items(
            &self.client,
            &self.table,
            transaction_ids,
            Some(&[RECORDED_AT]),
        )
        .await?;
        Ok(found
            .iter()
            .filter_map(|item| {
                let AttributeValue::S(id) = item.get(KEY_ATTRIBUTE)? else {
                    return None;
                };
                let at = match item.get(RECORDED_AT) {
                    Some(AttributeValue::N(at)) => at.parse().ok(),
                    _ => None,
                };
                Some((id.clone(), at))
            })
            .collect())
    }

    async fn record(&self, transaction_id: &str) -> Result<Option<TransactionRecord>, Failure> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(KEY_ATTRIBUTE, AttributeValue::S(transaction_id.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| {
                errors::failure("dynamodb:GetItem", &format!("table {}", self.table), &e)
            })?;
        let Some(found) = output.item() else {
            return Ok(None);
        };
        let item: Item = found
            .iter()
            .filter_map(|(name, value)| Some((name.clone(), from_attribute_value(value)?)))
            .collect();
        record_from_item(&item).map(Some).map_err(|e| {
            Failure::new(
                FailureKind::Failed,
                format!(
                    "the ledger item {transaction_id} in {} does not read as a transaction: {e}",
                    self.table
                ),
            )
        })
    }
}

/// A key as S3 sends it with `encoding-type=url` (form encoding: `+` is a space, `%XX` a byte),
/// back to its text with the one form codec; bytes that are not UTF-8 become U+FFFD and the key
/// is then reported unreadable, never fatal.
fn s3_key(encoded: &str) -> String {
    mgrid_contract::form::decode(encoded)
}

#[cfg(test)]
mod tests {
    use super::s3_key;

    #[test]
    fn keys_are_decoded_as_s3_encodes_them() {
        assert_eq!(
            s3_key("webhooks/stripe/2026/11/26/01/evt_1.json"),
            "webhooks/stripe/2026/11/26/01/evt_1.json"
        );
        assert_eq!(s3_key("a%1B%5B2Jb+c%2B%"), "a\u{1b}[2Jb c+%");
        assert_eq!(s3_key("%E2%9C%93%zz"), "\u{2713}%zz");
    }
}
