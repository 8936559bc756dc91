//! The three handlers, invoked in-process with real-shaped Lambda events (fixtures/events),
//! against the AWS emulator (moto server) holding a dev stage created from stacks/pipeline.yaml.
//! Each handler is built from the environment the stack gave its function in the emulator, so
//! the template's wiring is under test too. moto runs no Lambda code; the placeholder artifact
//! only has to exist. PayPal certificates come from the test-vector fixture, not the network.

#[path = "../../../tests/suite/support/emulator.rs"]
mod emulator;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_cloudformation::types::{Capability, Parameter, StackStatus};
use aws_sdk_ssm::types::ParameterType;
use base64::Engine;
use emulator::{Emulator, repo_root};
use mgrid_contract::archive::{ArchiveKey, ArchivedWebhook};
use mgrid_contract::clock::parse_rfc3339;
use mgrid_contract::ledger::{Item, ledger_item, record_from_item};
use mgrid_contract::signature::stripe_signature_header;
use mgrid_contract::{
    EpochMillis, KeyRing, Provider, Secret, StageName, TransactionRecord, WebhookEnvelope,
};
use mgrid_lambda::LambdaHandler;
use mgrid_pipeline::aws::{DynamoLedger, S3Archive, SsmKeyStore, from_attribute_value};
use mgrid_pipeline::ports::{Archive, Certificates, Clock, Insert, KeyStore, Ledger, PortError};
use serde_json::{Value, json};
use sha2::Digest;

const NOW: EpochMillis = 1_795_923_250_123;
const API_KEY: &str = "mgk_stripe_emulatortestkey";
const STRIPE_SECRET: &str = "whsec_fixture_emulator_endpoint";

struct FixedClock(EpochMillis);
impl Clock for FixedClock {
    fn now(&self) -> EpochMillis {
        self.0
    }
}

/// Serves the PayPal test-vector certificate for any (allow-listed) URL.
struct FixtureCertificates;
impl Certificates for FixtureCertificates {
    async fn fetch(&self, _url: &str) -> Result<String, PortError> {
        Ok(fixture("paypal/test-cert.pem"))
    }
}

fn fixture(path: &str) -> String {
    std::fs::read_to_string(repo_root().join("functions/contract/fixtures").join(path)).unwrap()
}

fn event_fixture(name: &str) -> Value {
    let path = repo_root()
        .join("functions/lambda/fixtures/events")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

struct DevStage {
    config: aws_config::SdkConfig,
    environment: HashMap<String, HashMap<String, String>>,
}

impl DevStage {
    fn variable(&self, function: &str, name: &str) -> String {
        self.environment[function][name].clone()
    }

    fn handler(&self, function: &str, now: EpochMillis) -> LambdaHandler<FixtureCertificates> {
        let environment = self.environment[function].clone();
        LambdaHandler::new(
            function,
            &self.config,
            &move |name| environment.get(name).cloned(),
            FixtureCertificates,
            Arc::new(FixedClock(now)),
        )
        .unwrap()
    }

    async fn put_ring(&self, name: &str, ring: &KeyRing) {
        aws_sdk_ssm::Client::new(&self.config)
            .put_parameter()
            .name(name)
            .value(ring.to_json())
            .r#type(ParameterType::SecureString)
            .key_id("alias/marketgrid-dev")
            .overwrite(true)
            .send()
            .await
            .unwrap();
    }
}

async fn deploy_dev_stage(emulator: &Emulator) -> DevStage {
    let config = emulator.sdk_config().await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    );
    let artifact = b"placeholder: the emulator stores Lambda code without running it".to_vec();
    s3.create_bucket()
        .bucket("mgrid-assets")
        .send()
        .await
        .unwrap();
    s3.put_object()
        .bucket("mgrid-assets")
        .key("a.zip")
        .body(artifact.clone().into())
        .send()
        .await
        .unwrap();
    let sha = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(&artifact));
    let parameter = |k: &str, v: &str| {
        Parameter::builder()
            .parameter_key(k)
            .parameter_value(v)
            .build()
    };
    let cloudformation = aws_sdk_cloudformation::Client::new(&config);
    cloudformation
        .create_stack()
        .stack_name("marketgrid-dev")
        .template_body(std::fs::read_to_string(repo_root().join("stacks/pipeline.yaml")).unwrap())
        .parameters(parameter("Stage", "dev"))
        .parameters(parameter("ArtifactBucket", "mgrid-assets"))
        .parameters(parameter("ArtifactKey", "a.zip"))
        .parameters(parameter("ArtifactSha256", &sha))
        // mgrid deploy chooses it from resolved values; any token does on a create.
        .parameters(parameter("ProcessorDefinition", "F1R5T"))
        .capabilities(Capability::CapabilityIam)
        .send()
        .await
        .unwrap();
    for _ in 0..100 {
        let stacks = cloudformation
            .describe_stacks()
            .stack_name("marketgrid-dev")
            .send()
            .await
            .unwrap();
        let status = stacks.stacks()[0].stack_status().cloned().unwrap();
        if status == StackStatus::CreateComplete {
            break;
        }
        assert!(status.as_str().ends_with("IN_PROGRESS"), "{status:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let lambda = aws_sdk_lambda::Client::new(&config);
    let mut environment = HashMap::new();
    for function in ["authorizer", "processor", "archiver"] {
        let configuration = lambda
            .get_function_configuration()
            .function_name(format!("marketgrid-dev-{function}"))
            .send()
            .await
            .unwrap();
        let variables = configuration
            .environment()
            .and_then(|e| e.variables())
            .cloned()
            .unwrap_or_default();
        environment.insert(function.to_owned(), variables);
    }
    DevStage {
        config,
        environment,
    }
}

fn stage() -> StageName {
    "dev".parse().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_adapters_do_what_the_ports_promise() {
    let emulator = Emulator::start();
    let dev = deploy_dev_stage(&emulator).await;

    let ledger = DynamoLedger::new(
        aws_sdk_dynamodb::Client::new(&dev.config),
        dev.variable("processor", "MGRID_TABLE_NAME"),
    );
    let envelope = stripe_envelope("stripe/payment_intent.succeeded.json", NOW);
    let item = ledger_item(
        &TransactionRecord::from_envelope(&envelope).unwrap(),
        &envelope,
    );
    assert_eq!(ledger.insert(&item).await, Ok(Insert::Written));
    assert_eq!(
        ledger.insert(&item).await,
        Ok(Insert::AlreadyPresent),
        "a second put of the same event is a no-op"
    );

    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&dev.config)
            .force_path_style(true)
            .build(),
    );
    let archive = S3Archive::new(s3, dev.variable("archiver", "MGRID_ARCHIVE_BUCKET"));
    let key = ArchiveKey::for_envelope(&envelope);
    assert_eq!(
        archive
            .put_new(&key, ArchivedWebhook::to_json(&envelope))
            .await,
        Ok(Insert::Written)
    );
    assert_eq!(
        archive.put_new(&key, b"something else".to_vec()).await,
        Ok(Insert::AlreadyPresent)
    );

    let keys = SsmKeyStore::new(aws_sdk_ssm::Client::new(&dev.config));
    let name = stage().api_key_ring(Provider::Stripe);
    assert_eq!(keys.ring(&name).await, Ok(None));
    let ring = KeyRing::first(Secret::new(API_KEY.into()), NOW);
    dev.put_ring(&name, &ring).await;
    assert_eq!(keys.ring(&name).await, Ok(Some(ring)));
    aws_sdk_ssm::Client::new(&dev.config)
        .put_parameter()
        .name(&name)
        .value("not a key ring")
        .r#type(ParameterType::SecureString)
        .overwrite(true)
        .send()
        .await
        .unwrap();
    let error = keys.ring(&name).await.unwrap_err();
    assert!(matches!(error, PortError::Unavailable(_)), "{error:?}");
    assert!(
        !error.to_string().contains("not a key ring"),
        "the stored value never reaches an error"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_authorizer_answers_a_real_request_event_with_a_policy() {
    let emulator = Emulator::start();
    let dev = deploy_dev_stage(&emulator).await;
    dev.put_ring(
        &stage().api_key_ring(Provider::Stripe),
        &KeyRing::first(Secret::new(API_KEY.into()), 0),
    )
    .await;
    let authorizer = dev.handler("authorizer", NOW);

    let mut event = event_fixture("authorizer-request.json");
    event["queryStringParameters"]["key"] = json!(API_KEY);
    let allowed = authorizer.handle(event.clone()).await.unwrap();
    assert_eq!(allowed["policyDocument"]["Statement"][0]["Effect"], "Allow");
    assert_eq!(
        allowed["policyDocument"]["Statement"][0]["Resource"],
        event["methodArn"]
    );
    assert_eq!(
        allowed["policyDocument"]["Statement"][0]["Action"],
        "execute-api:Invoke"
    );
    assert_eq!(allowed["context"]["provider"], "stripe");
    assert!(
        !allowed.to_string().contains(API_KEY),
        "the response never carries the key"
    );

    let mut header_only = event.clone();
    header_only["queryStringParameters"] = Value::Null;
    header_only["headers"]["x-api-key"] = json!(API_KEY);
    assert_eq!(
        authorizer.handle(header_only).await.unwrap()["policyDocument"]["Statement"][0]["Effect"],
        "Allow"
    );

    let mut wrong = event.clone();
    wrong["queryStringParameters"]["key"] = json!("mgk_stripe_guessed");
    let denied = authorizer.handle(wrong).await.unwrap();
    assert_eq!(denied["policyDocument"]["Statement"][0]["Effect"], "Deny");
    assert_eq!(denied["context"]["denied"], "wrong-key");

    // Two X-API-Key headers: API Gateway keeps the last in `headers`, all in
    // `multiValueHeaders`; which one a proxy would have used is not ours to guess.
    let mut twice = event.clone();
    twice["queryStringParameters"] = Value::Null;
    twice["multiValueQueryStringParameters"] = Value::Null;
    twice["headers"]["X-API-Key"] = json!(API_KEY);
    twice["multiValueHeaders"]["X-API-Key"] = json!(["mgk_stripe_other", API_KEY]);
    let denied = authorizer.handle(twice).await.unwrap();
    assert_eq!(denied["context"]["denied"], "repeated-key");
    let mut twice_in_query = event.clone();
    twice_in_query["multiValueQueryStringParameters"]["key"] = json!([API_KEY, API_KEY]);
    let denied = authorizer.handle(twice_in_query).await.unwrap();
    assert_eq!(denied["context"]["denied"], "repeated-key");

    let mut paypal = event;
    paypal["resource"] = json!("/webhook/paypal");
    assert_eq!(
        authorizer.handle(paypal).await.unwrap()["policyDocument"]["Statement"][0]["Effect"],
        "Deny"
    );
    assert!(
        authorizer
            .handle(json!({"not": "an authorizer event"}))
            .await
            .is_err()
    );
}

fn stripe_envelope(path: &str, received_at: EpochMillis) -> WebhookEnvelope {
    let body = fixture(path);
    let header = stripe_signature_header(
        &Secret::new(STRIPE_SECRET.into()),
        received_at / 1000,
        body.as_bytes(),
    );
    let headers = BTreeMap::from([("stripe-signature".to_owned(), header)]);
    WebhookEnvelope::from_delivery(
        Provider::Stripe,
        body,
        &headers,
        received_at,
        Some("req-emulator".into()),
    )
    .unwrap()
}

fn paypal_envelope() -> WebhookEnvelope {
    let vectors: Value = serde_json::from_str(&fixture("paypal/test-vectors.json")).unwrap();
    let vector = &vectors[0];
    let text = |key: &str| vector[key].as_str().unwrap().to_owned();
    let headers = BTreeMap::from([
        ("paypal-transmission-id".to_owned(), text("transmissionId")),
        (
            "paypal-transmission-time".to_owned(),
            text("transmissionTime"),
        ),
        ("paypal-transmission-sig".to_owned(), text("signature")),
        (
            "paypal-cert-url".to_owned(),
            "https://api.paypal.com/v1/notifications/certs/CERT-360caa42".to_owned(),
        ),
        ("paypal-auth-algo".to_owned(), "SHA256withRSA".to_owned()),
    ]);
    let received_at = parse_rfc3339(&text("transmissionTime")).unwrap() + 800;
    WebhookEnvelope::from_delivery(
        Provider::Paypal,
        fixture(&format!("paypal/{}", text("fixture"))),
        &headers,
        received_at,
        None,
    )
    .unwrap()
}

/// An SQS FIFO batch event, in the fixture's shape, carrying these envelopes as the ingress
/// would have queued them.
fn sqs_event(envelopes: &[(&str, WebhookEnvelope)]) -> Value {
    let template = event_fixture("sqs-fifo-batch.json")["Records"][0].clone();
    let records: Vec<Value> = envelopes
        .iter()
        .map(|(id, envelope)| {
            let message = envelope.to_queue_message();
            let mut record = template.clone();
            record["messageId"] = json!(id);
            record["body"] = json!(message.body);
            record["attributes"]["MessageGroupId"] = json!(message.group_id);
            record["attributes"]["MessageDeduplicationId"] = json!(message.deduplication_id);
            record["messageAttributes"] = message
                .attributes
                .iter()
                .map(|(name, value)| {
                    let kind = if name == "mgrid-received-at" { "Number" } else { "String" };
                    (name.clone(), json!({"stringValue": value, "stringListValues": [], "binaryListValues": [], "dataType": kind}))
                })
                .collect();
            record
        })
        .collect();
    json!({"Records": records})
}

#[tokio::test(flavor = "multi_thread")]
async fn the_processor_records_dead_letters_and_the_archiver_archives_real_batches() {
    let emulator = Emulator::start();
    let dev = deploy_dev_stage(&emulator).await;
    dev.put_ring(
        &stage().signing_secret_ring(Provider::Stripe),
        &KeyRing::first(Secret::new(STRIPE_SECRET.into()), 0),
    )
    .await;
    let vectors: Value = serde_json::from_str(&fixture("paypal/test-vectors.json")).unwrap();
    let webhook_id = vectors[0]["webhookId"].as_str().unwrap().to_owned();
    dev.put_ring(
        &stage().signing_secret_ring(Provider::Paypal),
        &KeyRing::first(Secret::new(webhook_id), 0),
    )
    .await;

    let good = [
        (
            "m1",
            stripe_envelope("stripe/payment_intent.succeeded.json", NOW),
        ),
        ("m2", stripe_envelope("stripe/charge.refunded.json", NOW)),
        ("m3", stripe_envelope("stripe/invoice.paid.large.json", NOW)),
        ("m4", paypal_envelope()),
    ];
    let mut forged = stripe_envelope("stripe/customer.updated.json", NOW);
    forged.signature_headers.insert(
        "stripe-signature".into(),
        format!("t={},v1={}", NOW / 1000, "0".repeat(64)),
    );
    let mut malformed = stripe_envelope("stripe/customer.updated.json", NOW);
    malformed.event_id = "evt_truncated".into();
    malformed.body = "{\"id\": \"evt_truncated\", \"type\": \"customer.upd".into();
    let mut batch: Vec<(&str, WebhookEnvelope)> = good.to_vec();
    batch.push(("m5", forged));
    batch.push(("m6", malformed));

    // The processor clock is the Stripe receipt time; the PayPal webhook was received earlier,
    // and its signature is checked against its own receipt, not the clock.
    let processor = dev.handler("processor", NOW);
    let response = processor.handle(sqs_event(&batch)).await.unwrap();
    assert_eq!(response, json!({"batchItemFailures": []}));

    let dynamodb = aws_sdk_dynamodb::Client::new(&dev.config);
    let table = dev.variable("processor", "MGRID_TABLE_NAME");
    let mut items = Vec::new();
    for (_, envelope) in &good {
        let output = dynamodb
            .get_item()
            .table_name(&table)
            .key(
                "transactionId",
                aws_sdk_dynamodb::types::AttributeValue::S(envelope.transaction_id()),
            )
            .send()
            .await
            .unwrap();
        let item: Item = output
            .item()
            .unwrap_or_else(|| panic!("{} is not in the ledger", envelope.transaction_id()))
            .iter()
            .map(|(k, v)| (k.clone(), from_attribute_value(v).unwrap()))
            .collect();
        assert_eq!(
            record_from_item(&item).unwrap(),
            TransactionRecord::from_envelope(envelope).unwrap()
        );
        items.push(item);
    }

    // The bad ones wait in the FIFO DLQ with their reason, their group and their attributes.
    let sqs = aws_sdk_sqs::Client::new(&dev.config);
    let dead = sqs
        .receive_message()
        .queue_url(dev.variable("processor", "MGRID_DLQ_URL"))
        .max_number_of_messages(10)
        .message_attribute_names("All")
        .message_system_attribute_names(
            aws_sdk_sqs::types::MessageSystemAttributeName::MessageGroupId,
        )
        .send()
        .await
        .unwrap();
    let mut reasons: Vec<(String, String)> = dead
        .messages()
        .iter()
        .map(|m| {
            let attributes = m.message_attributes().unwrap();
            assert_eq!(attributes["mgrid-provider"].string_value(), Some("stripe"));
            assert!(attributes.contains_key("mgrid-received-at"));
            (
                attributes["mgrid-failure-reason"]
                    .string_value()
                    .unwrap()
                    .to_owned(),
                m.attributes().unwrap()
                    [&aws_sdk_sqs::types::MessageSystemAttributeName::MessageGroupId]
                    .clone(),
            )
        })
        .collect();
    reasons.sort();
    assert_eq!(
        reasons,
        [
            (
                "bad-signature".to_owned(),
                "stripe:cus_RkQ2bX9mLpT4sA".to_owned()
            ),
            (
                "malformed-body".to_owned(),
                "stripe:evt_truncated".to_owned()
            ),
        ]
    );

    // A redelivery of the whole batch records nothing twice and fails nothing.
    let again = processor.handle(sqs_event(&batch[..4])).await.unwrap();
    assert_eq!(again, json!({"batchItemFailures": []}));
    let count = dynamodb
        .scan()
        .table_name(&table)
        .select(aws_sdk_dynamodb::types::Select::Count)
        .send()
        .await
        .unwrap();
    assert_eq!(count.count(), 4);

    // The archiver gets the INSERTs as the archive pipe delivers them, and writes each webhook
    // at its key, byte for byte.
    let template = event_fixture("pipe-dynamodb-stream.json")[0].clone();
    let records: Vec<Value> = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let mut record = template.clone();
            record["eventID"] = json!(format!("stream-{i}"));
            record["dynamodb"]["Keys"]["transactionId"] =
                serde_json::to_value(&item["transactionId"]).unwrap();
            record["dynamodb"]["NewImage"] = serde_json::to_value(item).unwrap();
            record
        })
        .collect();
    let archiver = dev.handler("archiver", NOW);
    assert_eq!(
        archiver.handle(json!(records)).await.unwrap(),
        json!({"batchItemFailures": []})
    );
    assert_eq!(
        archiver.handle(json!(records)).await.unwrap(),
        json!({"batchItemFailures": []}),
        "idempotent"
    );

    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&dev.config)
            .force_path_style(true)
            .build(),
    );
    for (_, envelope) in &good {
        let key = ArchiveKey::for_envelope(envelope);
        let object = s3
            .get_object()
            .bucket(dev.variable("archiver", "MGRID_ARCHIVE_BUCKET"))
            .key(key.to_string())
            .send()
            .await
            .unwrap_or_else(|e| panic!("{key} is not archived: {e:?}"));
        let bytes = object.body.collect().await.unwrap().into_bytes();
        let archived = ArchivedWebhook::parse(&key, &bytes).unwrap();
        assert_eq!(&archived, envelope);
    }

    let mut broken = template;
    broken["eventID"] = json!("stream-broken");
    broken["dynamodb"]["NewImage"] = json!({"transactionId": {"S": "stripe:evt_x"}});
    assert_eq!(
        archiver.handle(json!([broken])).await.unwrap(),
        json!({"batchItemFailures": [{"itemIdentifier": "stream-broken"}]})
    );
}
