//! The Lambda events the three handlers receive, and their responses, in the shapes AWS sends:
//! an API Gateway REQUEST authorizer event, an SQS (FIFO) batch, and the JSON array of DynamoDB
//! stream records an EventBridge pipe delivers to a Lambda target.

use std::collections::{BTreeMap, HashMap};

use mgrid_contract::ledger::Item;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestAuthorizerEvent {
    pub method_arn: String,
    #[serde(default)]
    pub resource: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub headers: Option<HashMap<String, String>>,
    #[serde(default)]
    pub query_string_parameters: Option<HashMap<String, String>>,
    /// Every value of every header: `headers` keeps only the last of repeated ones.
    #[serde(default)]
    pub multi_value_headers: Option<HashMap<String, Vec<String>>>,
    #[serde(default)]
    pub multi_value_query_string_parameters: Option<HashMap<String, Vec<String>>>,
    #[serde(default)]
    pub request_context: Option<RequestContext>,
}

/// What API Gateway says about the request being authorized.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestContext {
    /// The access log's `requestId`.
    #[serde(default)]
    pub request_id: Option<String>,
}

impl RequestAuthorizerEvent {
    /// True when the API key came more than once, in headers (any case) or in the query.
    pub fn repeated_key(&self) -> bool {
        let count = |map: &Option<HashMap<String, Vec<String>>>, name: &str| -> usize {
            map.iter()
                .flatten()
                .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, values)| values.len())
                .sum()
        };
        count(&self.multi_value_headers, "x-api-key") > 1
            || count(&self.multi_value_query_string_parameters, "key") > 1
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizerResponse {
    pub principal_id: String,
    pub policy_document: PolicyDocument,
    /// Non-secret facts for the access log (`$context.authorizer.*`).
    pub context: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyDocument {
    pub version: &'static str,
    pub statement: Vec<PolicyStatement>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyStatement {
    pub action: &'static str,
    pub effect: &'static str,
    pub resource: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SqsEvent {
    #[serde(rename = "Records")]
    pub records: Vec<SqsRecord>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SqsRecord {
    pub message_id: String,
    pub body: String,
    #[serde(default)]
    pub attributes: HashMap<String, String>,
    #[serde(default)]
    pub message_attributes: HashMap<String, SqsMessageAttribute>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SqsMessageAttribute {
    #[serde(default)]
    pub string_value: Option<String>,
    pub data_type: String,
}

/// One DynamoDB stream record as a pipe delivers it.
#[derive(Debug, Clone, Deserialize)]
pub struct StreamRecord {
    #[serde(rename = "eventID")]
    pub event_id: String,
    #[serde(rename = "eventName")]
    pub event_name: String,
    pub dynamodb: StreamImages,
}

#[derive(Debug, Clone, Deserialize)]
pub struct StreamImages {
    #[serde(rename = "NewImage", default)]
    pub new_image: Option<Item>,
}

/// The partial batch response both SQS event sources and pipes understand.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BatchResponse {
    pub batch_item_failures: Vec<ItemFailure>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ItemFailure {
    pub item_identifier: String,
}

impl BatchResponse {
    pub fn failing(ids: impl IntoIterator<Item = String>) -> Self {
        BatchResponse {
            batch_item_failures: ids
                .into_iter()
                .map(|item_identifier| ItemFailure { item_identifier })
                .collect(),
        }
    }
}
