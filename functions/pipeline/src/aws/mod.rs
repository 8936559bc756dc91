//! The AWS adapters of the data plane's ports: DynamoDB (ledger), S3 (archive), SSM (key rings),
//! SQS (dead letters) and HTTPS (PayPal certificates). SDK errors are classified here, once:
//! throttled, denied, or unavailable (which includes "may have been sent").

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_s3::config::http::HttpResponse as Response;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::types::MessageAttributeValue;
use mgrid_aws_errors::ErrorClass;
use mgrid_contract::archive::ArchiveKey;
use mgrid_contract::envelope::attribute;
use mgrid_contract::ledger::{Attribute, Item, KEY_ATTRIBUTE};
use mgrid_contract::settlement::{Leg, REDELIVERY_ATTRIBUTE, Receipt, UNSETTLED};
use mgrid_contract::{FailureReason, KeyRing};

use crate::ports::{
    Archive, Certificates, DeadLetters, InboundMessage, Insert, KeyStore, Ledger, PortError,
    Receipts, Topic,
};

/// The TLS of every HTTPS connection mgrid and the functions open: rustls over ring. rustls'
/// default, aws-lc, is a C library that each target (the host, the arm64 and x86_64 bootstraps)
/// would compile again, for minutes of every build.
pub fn tls_provider() -> rustls::crypto::CryptoProvider {
    rustls::crypto::ring::default_provider()
}

/// The HTTP client of every SDK configuration, mgrid's and the functions': HTTP/1.1 and HTTP/2
/// over rustls with ring, the platform's root certificates, plain HTTP for an emulator. The SDK
/// crates are built without a default client, so a configuration without this one fails its
/// first call ("no HTTP client").
pub fn https_client() -> aws_sdk_s3::config::SharedHttpClient {
    use aws_smithy_http_client::tls;
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

/// The SDK configuration the functions run with: Lambda's environment (role credentials,
/// region), and [`https_client`].
pub async fn load_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(https_client())
        .load()
        .await
}

/// Classifies any SDK error by the classification the CLI shares. Timeouts, dropped connections
/// and server faults are "unavailable": the request may or may not have been applied, and every
/// caller repeats it safely (conditional writes).
pub fn classify<E>(what: &str, error: &SdkError<E, Response>) -> PortError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let detail = format!("{what}: {}", DisplayErrorContext(error));
    match mgrid_aws_errors::classify(error) {
        ErrorClass::Throttled => PortError::Throttled(detail),
        ErrorClass::Denied | ErrorClass::Credentials => PortError::Denied(detail),
        ErrorClass::MaybeApplied | ErrorClass::Rejected | ErrorClass::NotSent => {
            PortError::Unavailable(detail)
        }
    }
}

/// The contract's attribute value as the SDK's.
pub fn to_attribute_value(value: &Attribute) -> AttributeValue {
    match value {
        Attribute::S(s) => AttributeValue::S(s.clone()),
        Attribute::N(n) => AttributeValue::N(n.clone()),
        Attribute::M(map) => AttributeValue::M(
            map.iter()
                .map(|(k, v)| (k.clone(), to_attribute_value(v)))
                .collect(),
        ),
        Attribute::Bool(b) => AttributeValue::Bool(*b),
        Attribute::Null(b) => AttributeValue::Null(*b),
    }
}

/// The SDK's attribute value as the contract's, where the ledger uses the type.
pub fn from_attribute_value(value: &AttributeValue) -> Option<Attribute> {
    Some(match value {
        AttributeValue::S(s) => Attribute::S(s.clone()),
        AttributeValue::N(n) => Attribute::N(n.clone()),
        AttributeValue::M(map) => Attribute::M(
            map.iter()
                .map(|(k, v)| from_attribute_value(v).map(|v| (k.clone(), v)))
                .collect::<Option<_>>()?,
        ),
        AttributeValue::Bool(b) => Attribute::Bool(*b),
        AttributeValue::Null(b) => Attribute::Null(*b),
        _ => return None,
    })
}

/// The ledger in DynamoDB: one conditional put per event.
#[derive(Clone)]
pub struct DynamoLedger {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoLedger {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        DynamoLedger {
            client,
            table: table.into(),
        }
    }
}

impl Ledger for DynamoLedger {
    async fn insert(&self, item: &Item) -> Result<Insert, PortError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(
                item.iter()
                    .map(|(k, v)| (k.clone(), to_attribute_value(v)))
                    .collect(),
            ))
            .condition_expression("attribute_not_exists(#key)")
            .expression_attribute_names("#key", KEY_ATTRIBUTE)
            .send()
            .await;
        match result {
            Ok(_) => Ok(Insert::Written),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(Insert::AlreadyPresent)
            }
            Err(error) => Err(classify("DynamoDB PutItem", &error)),
        }
    }
}

/// The archive in S3: a conditional put (If-None-Match: *) per webhook.
#[derive(Clone)]
pub struct S3Archive {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3Archive {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        S3Archive {
            client,
            bucket: bucket.into(),
        }
    }
}

impl Archive for S3Archive {
    async fn put_new(&self, key: &ArchiveKey, object: Vec<u8>) -> Result<Insert, PortError> {
        let result = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key.to_string())
            .if_none_match("*")
            .content_type("application/json")
            .body(object.into())
            .send()
            .await;
        match result {
            Ok(_) => Ok(Insert::Written),
            // S3 does not model PreconditionFailed (412) as an error type: its code is all there is.
            Err(error) if mgrid_aws_errors::code(&error) == Some("PreconditionFailed") => {
                Ok(Insert::AlreadyPresent)
            }
            Err(error) => Err(classify("S3 PutObject", &error)),
        }
    }
}

/// Receipts on ledger items in DynamoDB: one update per receipt, conditional on the item
/// existing (a receipt never makes an item), returning the item as updated; the leg that finds
/// the other leg's receipt there takes the item out of the unsettled index with a second,
/// conditional update. DynamoDB applies updates to one item one after another, so of two legs
/// finishing together the later always sees the earlier's receipt: an item cannot stay in the
/// index with both receipts.
#[derive(Clone)]
pub struct DynamoReceipts {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoReceipts {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        DynamoReceipts {
            client,
            table: table.into(),
        }
    }

    async fn settle_one(&self, transaction_id: &str, receipt: &Receipt) -> Result<(), PortError> {
        let leg = receipt.leg();
        let attributes = receipt.attributes();
        let mut names = std::collections::HashMap::new();
        let mut values = std::collections::HashMap::new();
        let mut sets = Vec::new();
        for (at, (name, value)) in attributes.iter().enumerate() {
            names.insert(format!("#a{at}"), name.clone());
            values.insert(format!(":v{at}"), to_attribute_value(value));
            sets.push(format!("#a{at} = :v{at}"));
        }
        names.insert("#key".to_owned(), KEY_ATTRIBUTE.to_owned());
        names.insert("#failure".to_owned(), leg.failure_attribute().to_owned());
        let updated = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(KEY_ATTRIBUTE, AttributeValue::S(transaction_id.to_owned()))
            .update_expression(format!("SET {} REMOVE #failure", sets.join(", ")))
            .condition_expression("attribute_exists(#key)")
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await;
        let updated = match updated {
            Ok(updated) => updated,
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                return Err(PortError::Unavailable(format!(
                    "the ledger has no item {transaction_id} to write its {leg} receipt on"
                )));
            }
            Err(error) => return Err(classify("DynamoDB UpdateItem (receipt)", &error)),
        };
        let item = updated.attributes.unwrap_or_default();
        if !(item.contains_key(leg.other().done_attribute()) && item.contains_key(UNSETTLED)) {
            return Ok(());
        }
        let removed = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(KEY_ATTRIBUTE, AttributeValue::S(transaction_id.to_owned()))
            .update_expression("REMOVE #unsettled")
            .condition_expression("attribute_exists(#archived) AND attribute_exists(#notified)")
            .expression_attribute_names("#unsettled", UNSETTLED)
            .expression_attribute_names("#archived", Leg::Archive.done_attribute())
            .expression_attribute_names("#notified", Leg::Notify.done_attribute())
            .send()
            .await;
        match removed {
            Ok(_) => Ok(()),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(error) => Err(classify("DynamoDB UpdateItem (settled)", &error)),
        }
    }

    async fn note_one(&self, leg: Leg, transaction_id: &str, why: &str) -> Result<(), PortError> {
        let why: String = why.chars().take(MAX_DETAIL_CHARS).collect();
        self.client
            .update_item()
            .table_name(&self.table)
            .key(KEY_ATTRIBUTE, AttributeValue::S(transaction_id.to_owned()))
            // Only while the leg is not done: a late failure never hides a receipt.
            .update_expression("SET #failure = :why")
            .condition_expression("attribute_exists(#key) AND attribute_not_exists(#done)")
            .expression_attribute_names("#failure", leg.failure_attribute())
            .expression_attribute_names("#key", KEY_ATTRIBUTE)
            .expression_attribute_names("#done", leg.done_attribute())
            .expression_attribute_values(":why", AttributeValue::S(why))
            .send()
            .await
            .map(|_| ())
            .or_else(|error| {
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception())
                {
                    Ok(())
                } else {
                    Err(classify("DynamoDB UpdateItem (leg failure)", &error))
                }
            })
    }
}

impl Receipts for DynamoReceipts {
    async fn settle(&self, receipts: &[(String, Receipt)]) -> Vec<Result<(), PortError>> {
        futures::future::join_all(
            receipts
                .iter()
                .map(|(transaction_id, receipt)| self.settle_one(transaction_id, receipt)),
        )
        .await
    }

    async fn note_failures(
        &self,
        leg: Leg,
        failures: &[(String, String)],
    ) -> Vec<Result<(), PortError>> {
        futures::future::join_all(
            failures
                .iter()
                .map(|(transaction_id, why)| self.note_one(leg, transaction_id, why)),
        )
        .await
    }
}

/// The vendor-notification topic in SNS.
#[derive(Clone)]
pub struct SnsTopic {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl SnsTopic {
    pub fn new(client: aws_sdk_sns::Client, topic_arn: impl Into<String>) -> Self {
        SnsTopic {
            client,
            topic_arn: topic_arn.into(),
        }
    }

    /// The topic, reached with `config`.
    pub fn from_config(config: &aws_config::SdkConfig, topic_arn: impl Into<String>) -> Self {
        SnsTopic::new(aws_sdk_sns::Client::new(config), topic_arn)
    }
}

impl Topic for SnsTopic {
    async fn publish(&self, body: &str, redelivery: bool) -> Result<String, PortError> {
        let mut request = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .message(body);
        if redelivery {
            request = request.message_attributes(
                REDELIVERY_ATTRIBUTE,
                aws_sdk_sns::types::MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value("true")
                    .build()
                    .expect("data type is set"),
            );
        }
        match request.send().await {
            Ok(output) => Ok(output.message_id.unwrap_or_default()),
            Err(error) => Err(classify("SNS Publish", &error)),
        }
    }
}

/// Key rings in SSM Parameter Store (SecureString, decrypted on read).
#[derive(Clone)]
pub struct SsmKeyStore {
    client: aws_sdk_ssm::Client,
}

impl SsmKeyStore {
    pub fn new(client: aws_sdk_ssm::Client) -> Self {
        SsmKeyStore { client }
    }
}

/// A key ring's SSM parameter, decrypted (None: there is none). The one read of a ring, for the
/// functions and the CLI alike; each says in its own terms what a failure means.
pub async fn ring_parameter(
    client: &aws_sdk_ssm::Client,
    name: &str,
) -> Result<
    Option<aws_sdk_ssm::types::Parameter>,
    SdkError<aws_sdk_ssm::operation::get_parameter::GetParameterError, Response>,
> {
    match client
        .get_parameter()
        .name(name)
        .with_decryption(true)
        .send()
        .await
    {
        Ok(output) => Ok(output.parameter),
        Err(error)
            if error
                .as_service_error()
                .is_some_and(|e| e.is_parameter_not_found()) =>
        {
            Ok(None)
        }
        Err(error) => Err(error),
    }
}

impl KeyStore for SsmKeyStore {
    async fn ring(&self, name: &str) -> Result<Option<KeyRing>, PortError> {
        let parameter = ring_parameter(&self.client, name)
            .await
            .map_err(|error| classify("SSM GetParameter", &error))?;
        let Some(parameter) = parameter else {
            return Ok(None);
        };
        KeyRing::parse(parameter.value().unwrap_or_default())
            .map(Some)
            .map_err(|error| {
                PortError::Unavailable(format!("the key ring {name} is unusable: {error}"))
            })
    }
}

/// The FIFO dead-letter queue: a bad message goes there with its group, its attributes and the
/// reason, so `mgrid dlq` can show and redrive it.
#[derive(Clone)]
pub struct SqsDeadLetters {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsDeadLetters {
    pub fn new(client: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        SqsDeadLetters {
            client,
            queue_url: queue_url.into(),
        }
    }
}

/// SQS caps an attribute value at 256 KB in total with the body; a detail is a sentence.
const MAX_DETAIL_CHARS: usize = 500;

impl DeadLetters for SqsDeadLetters {
    async fn dead_letter(
        &self,
        message: &InboundMessage,
        reason: FailureReason,
        detail: &str,
    ) -> Result<(), PortError> {
        let string = |value: &str| {
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .expect("data type is set")
        };
        let mut attributes: std::collections::HashMap<String, MessageAttributeValue> = message
            .attributes
            .iter()
            .map(|(k, v)| (k.clone(), string(v)))
            .collect();
        attributes.insert(attribute::FAILURE_REASON.into(), string(reason.as_str()));
        let detail: String = detail.chars().take(MAX_DETAIL_CHARS).collect();
        attributes.insert(
            attribute::FAILURE_DETAIL.into(),
            string(if detail.is_empty() { "-" } else { &detail }),
        );
        let deduplication_id = message
            .deduplication_id
            .clone()
            .unwrap_or_else(|| message.message_id.clone());
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(&message.body)
            .message_group_id(&message.group_id)
            .message_deduplication_id(deduplication_id)
            .set_message_attributes(Some(attributes))
            .send()
            .await
            .map(|_| ())
            .map_err(|error| classify("SQS SendMessage to the dead-letter queue", &error))
    }
}

/// PayPal certificates over HTTPS (the URL is allow-listed before it gets here).
#[derive(Clone)]
pub struct HttpsCertificates {
    client: hyper_util::client::legacy::Client<
        hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
        http_body_util::Empty<hyper::body::Bytes>,
    >,
}

const CERTIFICATE_FETCH_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_CERTIFICATE_BYTES: usize = 64 * 1024;

impl HttpsCertificates {
    pub fn new() -> Result<Self, PortError> {
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(tls_provider())
            .map_err(|e| PortError::Unavailable(format!("no TLS root certificates: {e}")))?
            .https_only()
            .enable_http1()
            .build();
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build(connector);
        Ok(HttpsCertificates { client })
    }
}

impl Certificates for HttpsCertificates {
    async fn fetch(&self, url: &str) -> Result<String, PortError> {
        use http_body_util::BodyExt;
        let unavailable =
            |detail: String| PortError::Unavailable(format!("PayPal certificate {url}: {detail}"));
        let uri: hyper::Uri = url.parse().map_err(|e| unavailable(format!("{e}")))?;
        let response = tokio::time::timeout(CERTIFICATE_FETCH_TIMEOUT, self.client.get(uri))
            .await
            .map_err(|_| unavailable("timed out".into()))?
            .map_err(|e| unavailable(e.to_string()))?;
        if !response.status().is_success() {
            return Err(unavailable(format!("HTTP {}", response.status())));
        }
        let body = http_body_util::Limited::new(response.into_body(), MAX_CERTIFICATE_BYTES)
            .collect()
            .await
            .map_err(|e| unavailable(e.to_string()))?
            .to_bytes();
        String::from_utf8(body.to_vec()).map_err(|_| unavailable("not text".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_values_convert_both_ways() {
        let value = Attribute::M(
            [
                ("s".to_owned(), Attribute::S("x".into())),
                ("n".to_owned(), Attribute::N("-15".into())),
                ("b".to_owned(), Attribute::Bool(true)),
            ]
            .into(),
        );
        assert_eq!(
            from_attribute_value(&to_attribute_value(&value)),
            Some(value)
        );
        assert_eq!(
            from_attribute_value(&AttributeValue::Ss(vec!["a".into()])),
            None
        );
    }
}
