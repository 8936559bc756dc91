//! The deployed ingress, proven by the engines that run it, against the local one.
//!
//! For each HTTP request below, the same request goes two ways:
//! - to `mgrid dev` over HTTP (its authorizer, its ingress rule, its queue), which answers and
//!   stores the message it queued;
//! - through API Gateway's integration, as the stage template defines it: the method's request
//!   validator and model, then the request template rendered by Apache Velocity 1.7 (the engine
//!   API Gateway runs; tests/engines/ApiGatewayMapping.java gives it `$input`, `$util` and
//!   `$context` as API Gateway documents them), with dev's request id and receipt time as
//!   `$context`; the rendered form is POSTed to the AWS emulator's SQS as the Query-protocol
//!   `SendMessage` API Gateway sends, and the message is received back.
//!
//! Both must refuse the same requests with the same status, and queue the same message: body,
//! group id, deduplication id and attributes; the processor's own parser must read the same
//! envelope (or the same rejection) from both. Where the emulator is not SQS: it checks a body's
//! characters, not the bytes of body and attributes, against the 1 MiB limit, so the over-limit
//! case proves that both refuse such a body, not where the exact boundary lies.

use crate::support;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use mgrid::decide::template::Template;
use mgrid_contract::envelope::{QueueMessage, attribute};
use mgrid_contract::{Provider, WebhookEnvelope};
use serde_json::{Value, json};
use support::local::{Dev, post_for};
use support::{Emulator, repo_root};

const ACCOUNT: &str = "123456789012";
const QUEUE: &str = "marketgrid-parity-webhooks.fifo";

/// One HTTP request from a provider (or from someone holding its key).
struct Delivery {
    name: &'static str,
    provider: Provider,
    /// Header names exactly as sent; the API key is added by the test.
    headers: Vec<(&'static str, String)>,
    body: String,
    /// The key in `?key=` instead of the X-API-Key header.
    key_in_query: bool,
}

fn fixture(path: &str) -> String {
    std::fs::read_to_string(repo_root().join("functions/contract/fixtures").join(path))
        .unwrap_or_else(|e| panic!("fixture {path}: {e}"))
}

/// A fixture with its event id replaced (each delivery needs its own: the queues deduplicate).
fn event(path: &str, id: &str) -> String {
    let mut json: Value = serde_json::from_str(&fixture(path)).expect("a JSON fixture");
    json["id"] = json!(id);
    serde_json::to_string(&json).unwrap()
}

/// A fixture padded (with a metadata field) to exactly `bytes` bytes.
fn padded(path: &str, id: &str, bytes: usize) -> String {
    let mut json: Value = serde_json::from_str(&event(path, id)).unwrap();
    json["padding"] = json!("");
    let base = serde_json::to_string(&json).unwrap().len();
    json["padding"] = json!("x".repeat(bytes - base));
    let text = serde_json::to_string(&json).unwrap();
    assert_eq!(text.len(), bytes);
    text
}

fn stripe_signature() -> (&'static str, String) {
    (
        "Stripe-Signature",
        "t=1700000000,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd".into(),
    )
}

fn paypal_headers(names: &[&'static str]) -> Vec<(&'static str, String)> {
    names
        .iter()
        .map(|name| {
            let value = match name.to_ascii_lowercase().as_str() {
                "paypal-transmission-id" => "69cd13f0-d67a-11e5-baa3-778b53f4ae55",
                "paypal-transmission-time" => "2026-11-30T18:19:47Z",
                "paypal-transmission-sig" => "lmI95Jx3Y9nhR5SJWlHVIWpg4AgFk7n9bCHSRxbrd8A9zrhdu2rMyFrmz+Zjh3s3boXB07VXCXUZy/UFzUlnGJn0wDugt7FlSvdKeIJenLRemUxYCPVoEZzg9VFNqOa48gMkvF+XTpxBeUx/kWy6B5cp7GkT2+pOowfRK7OaynuxUoKW3JcMWw272VKjLTtTAShncla7tGF+55rxyt2KNZIIqxNMJ48RDZheGU5w1npu9dZHnPgTXB9iomeVRoD8O/jhRpnKsGrDschyNdkeh81BJJMH4Ctc6lnCCquoP/GzCzz33MMsNdid7vL/NIWaCsekQpW26FpWPi/tfj8nLA==",
                "paypal-cert-url" => "https://api.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-1d93a270",
                "paypal-auth-algo" => "SHA256withRSA",
                other => panic!("not a PayPal header: {other}"),
            };
            (*name, value.to_owned())
        })
        .collect()
}

const PAYPAL_ALL: [&str; 5] = [
    "PAYPAL-TRANSMISSION-ID",
    "PAYPAL-TRANSMISSION-TIME",
    "PAYPAL-TRANSMISSION-SIG",
    "PAYPAL-CERT-URL",
    "PAYPAL-AUTH-ALGO",
];

const AWKWARD_TEXT: &str =
    "Müller & Söhne: a=1&b=2, 100% + 5% off, 日本語, 😀, \"quoted\", tab\tnewline\n";

#[rustfmt::skip]
fn deliveries() -> Vec<Delivery> {
    use Provider::{Paypal, Stripe};
    let stripe = |name, headers, body| Delivery { name, provider: Stripe, headers, body, key_in_query: false };
    let paypal = |name, headers, body| Delivery { name, provider: Paypal, headers, body, key_in_query: false };
    let pp = "paypal/PAYMENT.CAPTURE.COMPLETED.json";
    let mut awkward: Value = serde_json::from_str(&event("stripe/charge.refunded.json", "evt_parity_awkward")).unwrap();
    awkward["data"]["object"]["description"] = json!(AWKWARD_TEXT);
    let mut awkward_paypal: Value = serde_json::from_str(&event(pp, "WH-parity-awkward")).unwrap();
    awkward_paypal["resource"]["note_to_payer"] = json!(AWKWARD_TEXT);
    vec![
        stripe("stripe: a payment, signed", vec![stripe_signature()], event("stripe/payment_intent.succeeded.json", "evt_parity_1")),
        stripe("stripe: a refund, grouped by its payment intent", vec![stripe_signature()], event("stripe/charge.refunded.json", "evt_parity_2")),
        stripe("stripe: header names in lower case", vec![("stripe-signature", stripe_signature().1)], event("stripe/charge.refunded.json", "evt_parity_3")),
        stripe("stripe: no signature header", vec![], event("stripe/customer.updated.json", "evt_parity_4")),
        stripe("stripe: an empty signature header", vec![("Stripe-Signature", String::new())], event("stripe/payment_intent.succeeded.json", "evt_parity_5")),
        Delivery { key_in_query: true, ..stripe("stripe: the key in the query string", vec![stripe_signature()], event("stripe/payment_intent.succeeded.json", "evt_parity_6")) },
        stripe("stripe: a body that is not JSON", vec![stripe_signature()], "id=evt_1&type=x".into()),
        stripe("stripe: a JSON array", vec![stripe_signature()], "[{\"id\":\"evt_parity_7\"}]".into()),
        stripe("stripe: JSON with something after it", vec![stripe_signature()], "{\"id\":\"evt_parity_8\"} {}".into()),
        stripe("stripe: an empty body", vec![stripe_signature()], String::new()),
        stripe("stripe: whitespace around the event", vec![stripe_signature()], format!("  {}\n", event("stripe/customer.updated.json", "evt_parity_9"))),
        stripe("stripe: a 256 KiB body", vec![stripe_signature()], padded("stripe/invoice.paid.large.json", "evt_parity_10", 256 * 1024)),
        stripe("stripe: & = + % and non-ASCII text", vec![stripe_signature()], serde_json::to_string(&awkward).unwrap()),
        stripe("stripe: an event without an id", vec![stripe_signature()], r#"{"type":"charge.refunded","data":{"object":{"id":"ch_parity_11"}}}"#.into()),
        stripe("stripe: ids SQS could not take", vec![stripe_signature()], format!(r#"{{"id":"evt_{}","type":"x","data":{{"object":{{"id":"ch 12","payment_intent":"{}"}}}}}}"#, "e".repeat(150), "p".repeat(122))),
        stripe("stripe: ids that are not strings", vec![stripe_signature()], r#"{"id":4213,"type":"x","data":{"object":{"id":{"nested":1},"payment_intent":7}}}"#.into()),
        stripe("stripe: a body over SQS's 1 MiB", vec![stripe_signature()], padded("stripe/invoice.paid.large.json", "evt_parity_13", 1024 * 1024 + 1024)),
        paypal("paypal: a capture with all transmission headers", paypal_headers(&PAYPAL_ALL), event(pp, "WH-parity-1")),
        paypal("paypal: header names in lower case", paypal_headers(&["paypal-transmission-id", "paypal-transmission-time", "paypal-transmission-sig", "paypal-cert-url", "paypal-auth-algo"]), event(pp, "WH-parity-2")),
        paypal("paypal: the algorithm and time missing", paypal_headers(&["PAYPAL-TRANSMISSION-ID", "PAYPAL-TRANSMISSION-SIG", "PAYPAL-CERT-URL"]), event(pp, "WH-parity-3")),
        paypal("paypal: no transmission headers", vec![], event("paypal/PAYMENT.CAPTURE.REFUNDED.json", "WH-parity-4")),
        paypal("paypal: a body that is not JSON", paypal_headers(&PAYPAL_ALL), "<xml/>".into()),
        paypal("paypal: an empty body", paypal_headers(&PAYPAL_ALL), String::new()),
        paypal("paypal: a 256 KiB body", paypal_headers(&PAYPAL_ALL), padded(pp, "WH-parity-5", 256 * 1024)),
        paypal("paypal: & = + % and non-ASCII text", paypal_headers(&PAYPAL_ALL), serde_json::to_string(&awkward_paypal).unwrap()),
    ]
}

/// How one side handled a delivery.
#[derive(Debug, PartialEq)]
enum Outcome {
    /// Refused before queueing, with this HTTP status.
    Refused(u16),
    Queued(QueueMessage),
}

/// The integration of `provider`'s route: its request template and the body model of its
/// request validator.
struct Integration {
    template: String,
    model: String,
}

fn integration(template: &Template, provider: Provider) -> Integration {
    let id = match provider {
        Provider::Stripe => "StripeWebhookMethod",
        Provider::Paypal => "PaypalWebhookMethod",
    };
    let resources = &template.model()["Resources"];
    let method = &resources[id]["Properties"];
    let template = method["Integration"]["RequestTemplates"]["application/json"]
        .as_str()
        .unwrap_or_else(|| panic!("{id}: the request template is a string"))
        .to_owned();
    let model_id = method["RequestModels"]["application/json"]["Ref"]
        .as_str()
        .unwrap_or_else(|| panic!("{id} has no body model"));
    let validator_id = method["RequestValidatorId"]["Ref"]
        .as_str()
        .expect("a request validator");
    assert_eq!(
        resources[validator_id]["Properties"]["ValidateRequestBody"],
        true
    );
    let model = resources[model_id]["Properties"]["Schema"].to_string();
    Integration { template, model }
}

/// Renders every case in one JVM: API Gateway's validator and Velocity 1.7.
fn render(cases: &[Value]) -> Vec<Value> {
    let jars = [
        "velocity.jar",
        "commons-collections3.jar",
        "commons-lang.jar",
        "jackson-databind.jar",
        "jackson-core.jar",
        "jackson-annotations.jar",
    ];
    let classpath: Vec<PathBuf> = jars
        .iter()
        .map(|jar| PathBuf::from("/usr/share/java").join(jar))
        .collect();
    if let Some(missing) = classpath.iter().find(|jar| !jar.is_file()) {
        panic!(
            "{} is missing: run `.ci/setup` once (it installs Debian's velocity, \
             libjackson2-databind-java and a JDK)",
            missing.display()
        );
    }
    let mut child = Command::new("java")
        .arg("-cp")
        .arg(std::env::join_paths(&classpath).unwrap())
        .arg(repo_root().join("tests/engines/ApiGatewayMapping.java"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run java (a JDK: `.ci/setup` installs one)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(json!({ "cases": cases }).to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "the Velocity harness failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the harness prints JSON")
}

/// What `mgrid dev` did with a delivery: its status and, when it queued it, the message as it
/// queued it (a processor's verdict, added when it dead-lettered the message, taken off).
fn through_dev(dev: &Dev, delivery: &Delivery) -> Outcome {
    let key = dev.api_key(delivery.provider).expose().to_owned();
    let mut headers = delivery.headers.clone();
    let mut url = format!("{}/webhook/{}", dev.url, delivery.provider);
    if delivery.key_in_query {
        url.push_str(&format!("?key={key}"));
    } else {
        headers.push(("X-API-Key", key));
    }
    let (status, answer) = post_for(&url, &headers, &delivery.body).expect("mgrid dev answers");
    if status != 200 {
        return Outcome::Refused(status);
    }
    let answer: Value = serde_json::from_str(&answer).expect("dev answers JSON");
    let message_id = answer["messageId"].as_str().expect("a message id");
    let (group_id, deduplication_id, body, attributes): (String, String, String, String) = dev
        .database()
        .query_row(
            "SELECT group_id, dedup_id, body, attributes FROM messages WHERE message_id = ?1",
            [message_id],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
        )
        .expect("dev stored the message it acknowledged");
    let mut attributes: BTreeMap<String, String> = serde_json::from_str(&attributes).unwrap();
    attributes.remove(attribute::FAILURE_REASON);
    attributes.remove(attribute::FAILURE_DETAIL);
    Outcome::Queued(QueueMessage {
        body,
        group_id,
        deduplication_id,
        attributes,
    })
}

/// The rendered integration request, sent to SQS as API Gateway sends it; what SQS queued.
async fn through_sqs(
    emulator: &Emulator,
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    rendered: &str,
) -> Outcome {
    let response = send_as_api_gateway(
        &format!("{}/{ACCOUNT}/{QUEUE}", emulator.endpoint),
        rendered,
    );
    if response.0 != 200 {
        // The integration's response for an SQS 4XX.
        assert!(
            (400..500).contains(&response.0),
            "SQS answered {}: {}",
            response.0,
            response.1
        );
        return Outcome::Refused(502);
    }
    let received = sqs
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(1)
        .message_attribute_names("All")
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .send()
        .await
        .expect("receive");
    let messages = received.messages();
    assert_eq!(
        messages.len(),
        1,
        "exactly the one message SQS acknowledged"
    );
    let message = &messages[0];
    sqs.delete_message()
        .queue_url(queue_url)
        .receipt_handle(message.receipt_handle().unwrap())
        .send()
        .await
        .expect("delete");
    let system = message.attributes().expect("system attributes");
    Outcome::Queued(QueueMessage {
        body: message.body().unwrap_or_default().to_owned(),
        group_id: system[&MessageSystemAttributeName::MessageGroupId].clone(),
        deduplication_id: system[&MessageSystemAttributeName::MessageDeduplicationId].clone(),
        attributes: message
            .message_attributes()
            .into_iter()
            .flatten()
            .map(|(name, value)| {
                (
                    name.clone(),
                    value.string_value().unwrap_or_default().to_owned(),
                )
            })
            .collect(),
    })
}

/// The Query-protocol request API Gateway's AWS integration makes: a form POST to the queue's
/// path, signed for us-east-1 (the emulator reads the region from the credential scope and does
/// not check the signature).
fn send_as_api_gateway(url: &str, form: &str) -> (u16, String) {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    let request = format!(
        "POST /{path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=testing/20261130/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0\r\n\
         X-Amz-Date: 20261130T000000Z\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
        form.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    std::io::Read::read_to_string(&mut stream, &mut response).unwrap();
    let status = response.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, response)
}

/// What differs between the deployed outcome and dev's, field by field.
fn differences(deployed: &Outcome, local: &Outcome, error: &str) -> String {
    let (Outcome::Queued(deployed), Outcome::Queued(local)) = (deployed, local) else {
        return format!("deployed {deployed:?} {error}, mgrid dev {local:?}");
    };
    let mut said = Vec::new();
    if deployed.body != local.body {
        let at = deployed
            .body
            .chars()
            .zip(local.body.chars())
            .take_while(|(a, b)| a == b)
            .count();
        said.push(format!(
            "bodies differ from character {at} ({} and {} bytes)",
            deployed.body.len(),
            local.body.len()
        ));
    }
    for (field, a, b) in [
        ("group", &deployed.group_id, &local.group_id),
        (
            "dedup id",
            &deployed.deduplication_id,
            &local.deduplication_id,
        ),
    ] {
        if a != b {
            said.push(format!("{field}: deployed {a:?}, mgrid dev {b:?}"));
        }
    }
    let names: std::collections::BTreeSet<&String> = deployed
        .attributes
        .keys()
        .chain(local.attributes.keys())
        .collect();
    for name in names {
        let (a, b) = (deployed.attributes.get(name), local.attributes.get(name));
        if a != b {
            said.push(format!("attribute {name}: deployed {a:?}, mgrid dev {b:?}"));
        }
    }
    said.join("; ")
}

/// What the processor reads from a queued message: the envelope, or the rejection's reason.
fn processor_reads(message: &QueueMessage) -> Result<WebhookEnvelope, String> {
    WebhookEnvelope::from_queue_message(&message.body, &message.attributes)
        .map_err(|rejected| rejected.reason.to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_deployed_ingress_queues_what_mgrid_dev_queues() {
    let template = Template::pipeline().expect("the embedded template");
    let emulator = Emulator::start();
    let config = emulator.sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&config);
    let queue_url = sqs
        .create_queue()
        .queue_name(QUEUE)
        .attributes(QueueAttributeName::FifoQueue, "true")
        .attributes(QueueAttributeName::ContentBasedDeduplication, "false")
        .attributes(QueueAttributeName::DeduplicationScope, "messageGroup")
        .attributes(QueueAttributeName::FifoThroughputLimit, "perMessageGroupId")
        .send()
        .await
        .expect("create the FIFO queue")
        .queue_url
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dev = Dev::start(
        &PathBuf::from(env!("CARGO_BIN_EXE_mgrid")),
        &dir.path().join("local"),
        None,
    );

    let deliveries = deliveries();
    let mut local = Vec::new();
    let mut cases = Vec::new();
    for delivery in &deliveries {
        let outcome = through_dev(&dev, delivery);
        // API Gateway's $context for this request: dev's request id and receipt time, so both
        // sides can be compared field by field.
        let (request_id, received_at) = match &outcome {
            Outcome::Queued(m) => (
                m.attributes[attribute::REQUEST_ID].clone(),
                m.attributes[attribute::RECEIVED_AT].parse::<i64>().unwrap(),
            ),
            Outcome::Refused(_) => (
                "0d7b1c4e-5e1a-4f55-9b6a-000000000000".to_owned(),
                1_764_460_800_000,
            ),
        };
        let integration = integration(&template, delivery.provider);
        let mut headers: BTreeMap<&str, String> = delivery.headers.iter().cloned().collect();
        headers.insert("Content-Type", "application/json".into());
        cases.push(json!({
            "name": delivery.name,
            "template": integration.template,
            "model": integration.model,
            "body": delivery.body,
            "headers": headers,
            "query": if delivery.key_in_query { json!({"key": "a-key"}) } else { json!({}) },
            "path": {},
            "context": {"requestId": request_id, "requestTimeEpoch": received_at},
        }));
        local.push(outcome);
    }

    let rendered = render(&cases);
    let mut failures = Vec::new();
    for ((delivery, local), result) in deliveries.iter().zip(&local).zip(&rendered) {
        let deployed = match result["status"].as_u64() {
            Some(200) => {
                let rendered = result["rendered"].as_str().unwrap();
                assert!(
                    rendered.starts_with("Action=") && !rendered.contains('\n'),
                    "{}: the integration request is one line: {rendered:.200}",
                    delivery.name
                );
                through_sqs(
                    &emulator,
                    &sqs,
                    &queue_url,
                    result["rendered"].as_str().unwrap(),
                )
                .await
            }
            // 400: the validator refused it; 500: the template failed (API Gateway answers 500).
            Some(status) => Outcome::Refused(status as u16),
            None => panic!("{}: {result}", delivery.name),
        };
        if &deployed != local {
            failures.push(format!(
                "{}: {}",
                delivery.name,
                differences(
                    &deployed,
                    local,
                    result["error"].as_str().unwrap_or_default()
                )
            ));
            continue;
        }
        if let (Outcome::Queued(deployed), Outcome::Queued(local)) = (&deployed, local) {
            assert_eq!(
                processor_reads(deployed),
                processor_reads(local),
                "{}: the processor reads both alike",
                delivery.name
            );
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        deliveries.len(),
        failures.join("\n  ")
    );

    // The cases say what they claim: every provider's signature headers arrive, none is made up.
    let queued = |name: &str| match &local[deliveries.iter().position(|d| d.name == name).unwrap()]
    {
        Outcome::Queued(message) => message.clone(),
        Outcome::Refused(status) => panic!("{name}: refused with {status}"),
    };
    let all = queued("paypal: a capture with all transmission headers");
    for header in mgrid_contract::envelope::signature_headers(Provider::Paypal) {
        assert!(all.attributes.contains_key(*header), "{header}");
    }
    assert_eq!(processor_reads(&all).unwrap().signature_headers.len(), 5);
    let lower = queued("paypal: header names in lower case");
    assert_eq!(lower.attributes.len(), all.attributes.len());
    let missing = queued("paypal: the algorithm and time missing");
    assert!(!missing.attributes.contains_key("paypal-auth-algo"));
    assert!(!missing.attributes.contains_key("paypal-transmission-time"));
    assert_eq!(
        queued("stripe: a refund, grouped by its payment intent").group_id,
        "stripe:pi_3QpLxyL8kq9w2Rb11XyZaBcE"
    );
    let empty = queued("stripe: an empty body");
    assert!(empty.group_id.starts_with("stripe:unparsed-"));
    assert_eq!(processor_reads(&empty).unwrap_err(), "malformed-body");
    assert!(
        !queued("stripe: a payment, signed")
            .attributes
            .contains_key("x-api-key")
    );
    let refused = |name: &str| &local[deliveries.iter().position(|d| d.name == name).unwrap()];
    assert_eq!(
        refused("stripe: a body that is not JSON"),
        &Outcome::Refused(400)
    );
    assert_eq!(
        refused("stripe: a body over SQS's 1 MiB"),
        &Outcome::Refused(502)
    );
}
