//! The three handlers' decisions, against in-memory ports whose failures the tests switch on:
//! FIFO-correct partial failures, dead-lettering with reasons, idempotent redelivery, the
//! authorizer failing closed, and key rings cached for at most a minute.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use mgrid_contract::archive::ArchiveKey;
use mgrid_contract::ledger::Attribute;
use mgrid_contract::ledger::{Item, KEY_ATTRIBUTE, ledger_item};
use mgrid_contract::notification::vendor_notification;
use mgrid_contract::settlement::{
    BY_HEAL, BY_PIPELINE, Leg, Legs, Receipt, apply_failure, apply_receipt, sha256_hex,
};
use mgrid_contract::signature::stripe_signature_header;
use mgrid_contract::{
    EpochMillis, FailureReason, KeyRing, KeySlot, Provider, Secret, StageName, TransactionRecord,
    WebhookEnvelope,
};
use mgrid_pipeline::archiver::Archiver;
use mgrid_pipeline::authorizer::{AuthorizationRequest, Authorizer, Decision, DenyReason};
use mgrid_pipeline::legs::{LegRunner, StreamRecord};
use mgrid_pipeline::notifier::Notifier;
use mgrid_pipeline::ports::*;
use mgrid_pipeline::processor::{Processor, RetryCause};

#[derive(Default)]
struct FakeClock(AtomicI64);
impl Clock for FakeClock {
    fn now(&self) -> EpochMillis {
        self.0.load(Ordering::SeqCst)
    }
}

#[derive(Default, Clone)]
struct MemoryLedger {
    items: Arc<Mutex<BTreeMap<String, Item>>>,
    failing_event: Arc<Mutex<Option<String>>>,
}
impl Ledger for MemoryLedger {
    async fn insert(&self, item: &Item) -> Result<Insert, PortError> {
        let Some(mgrid_contract::ledger::Attribute::S(key)) = item.get(KEY_ATTRIBUTE) else {
            panic!("no key")
        };
        if self
            .failing_event
            .lock()
            .unwrap()
            .as_deref()
            .is_some_and(|f| key.ends_with(f))
        {
            return Err(PortError::Unavailable("ledger down".into()));
        }
        let mut items = self.items.lock().unwrap();
        if items.contains_key(key) {
            return Ok(Insert::AlreadyPresent);
        }
        items.insert(key.clone(), item.clone());
        Ok(Insert::Written)
    }
}

#[derive(Default, Clone)]
struct MemoryDeadLetters(Arc<Mutex<Vec<(String, FailureReason, String)>>>);
impl DeadLetters for MemoryDeadLetters {
    async fn dead_letter(
        &self,
        message: &InboundMessage,
        reason: FailureReason,
        detail: &str,
    ) -> Result<(), PortError> {
        self.0
            .lock()
            .unwrap()
            .push((message.message_id.clone(), reason, detail.to_owned()));
        Ok(())
    }
}

#[derive(Default, Clone)]
struct MemoryKeyStore {
    rings: Arc<Mutex<BTreeMap<String, KeyRing>>>,
    reads: Arc<AtomicUsize>,
    down: Arc<Mutex<bool>>,
}
impl KeyStore for MemoryKeyStore {
    async fn ring(&self, name: &str) -> Result<Option<KeyRing>, PortError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        if *self.down.lock().unwrap() {
            return Err(PortError::Unavailable("ssm down".into()));
        }
        Ok(self.rings.lock().unwrap().get(name).cloned())
    }
}

struct NoCertificates;
impl Certificates for NoCertificates {
    async fn fetch(&self, _url: &str) -> Result<String, PortError> {
        Err(PortError::Unavailable("no network in this test".into()))
    }
}

const SECRET: &str = "whsec_fixture_processor";
const NOW: EpochMillis = 1_764_385_205_000;

struct Pipeline {
    processor: Processor<MemoryLedger, MemoryDeadLetters, MemoryKeyStore, NoCertificates>,
    ledger: MemoryLedger,
    dead_letters: MemoryDeadLetters,
}

fn stage() -> StageName {
    "test".parse().unwrap()
}

fn pipeline() -> Pipeline {
    let ledger = MemoryLedger::default();
    let dead_letters = MemoryDeadLetters::default();
    let keys = MemoryKeyStore::default();
    keys.rings.lock().unwrap().insert(
        stage().signing_secret_ring(Provider::Stripe),
        KeyRing::first(Secret::new(SECRET.into()), 0),
    );
    let clock = Arc::new(FakeClock(AtomicI64::new(NOW)));
    Pipeline {
        processor: Processor::new(
            stage(),
            ledger.clone(),
            dead_letters.clone(),
            keys,
            NoCertificates,
            clock,
        ),
        ledger,
        dead_letters,
    }
}

/// A signed Stripe webhook for `payment`, as the queue delivers it.
fn message(id: &str, event_id: &str, payment: &str) -> InboundMessage {
    let body = format!(
        r#"{{"id":"{event_id}","type":"payment_intent.succeeded","created":1764385200,"data":{{"object":{{"id":"{payment}","object":"payment_intent","amount":100,"currency":"usd","metadata":{{"vendor_id":"v1"}}}}}}}}"#
    );
    let header = stripe_signature_header(&Secret::new(SECRET.into()), NOW / 1000, body.as_bytes());
    let envelope = WebhookEnvelope::from_delivery(
        Provider::Stripe,
        body,
        &BTreeMap::from([("stripe-signature".to_owned(), header)]),
        NOW,
        None,
    )
    .unwrap();
    let queued = envelope.to_queue_message();
    InboundMessage {
        message_id: id.into(),
        body: queued.body,
        attributes: queued.attributes,
        group_id: queued.group_id,
        deduplication_id: Some(queued.deduplication_id),
        receive_count: 1,
    }
}

#[tokio::test]
async fn a_batch_of_good_webhooks_is_recorded() {
    let p = pipeline();
    let batch = [
        message("m1", "evt_1", "pi_a"),
        message("m2", "evt_2", "pi_b"),
        message("m3", "evt_3", "pi_a"),
    ];
    let report = p.processor.process(&batch).await;
    assert_eq!(report.recorded, 3);
    assert!(report.failed.is_empty());
    assert_eq!(p.ledger.items.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn a_redelivered_event_is_a_no_op_not_an_error() {
    let p = pipeline();
    p.processor.process(&[message("m1", "evt_1", "pi_a")]).await;
    let again = p.processor.process(&[message("m9", "evt_1", "pi_a")]).await;
    assert_eq!((again.recorded, again.duplicates), (0, 1));
    assert!(again.failed.is_empty());
    assert_eq!(p.ledger.items.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_transient_failure_holds_the_rest_of_its_group_and_only_its_group() {
    let p = pipeline();
    *p.ledger.failing_event.lock().unwrap() = Some("evt_2".into());
    let batch = [
        message("m1", "evt_1", "pi_a"),
        message("m2", "evt_2", "pi_a"),
        message("m3", "evt_3", "pi_b"),
        message("m4", "evt_4", "pi_a"),
        message("m5", "evt_5", "pi_b"),
    ];
    let report = p.processor.process(&batch).await;
    assert_eq!(
        report.failed,
        ["m2", "m4"],
        "the failed message and the later one of its group"
    );
    assert_eq!(report.recorded, 3);
    assert_eq!(report.retried.get(&RetryCause::LedgerUnavailable), Some(&1));
    assert_eq!(report.retried.get(&RetryCause::HeldForOrder), Some(&1));
    assert!(
        !p.ledger.items.lock().unwrap().contains_key("stripe:evt_4"),
        "m4 must not overtake m2"
    );
}

#[tokio::test]
async fn permanent_failures_go_to_the_dead_letter_queue_without_blocking_their_group() {
    let p = pipeline();
    let mut forged = message("m2", "evt_2", "pi_a");
    forged.attributes.insert(
        "stripe-signature".into(),
        format!("t={},v1={}", NOW / 1000, "ab".repeat(32)),
    );
    let mut malformed = message("m3", "evt_3", "pi_a");
    malformed.body = "{\"id\": \"evt_3\", \"type\":".into();
    let mut unknown = message("m4", "evt_4", "pi_a");
    unknown
        .attributes
        .insert("mgrid-provider".into(), "adyen".into());
    let mut unsigned = message("m5", "evt_5", "pi_a");
    unsigned.attributes.remove("stripe-signature");
    let batch = [
        message("m1", "evt_1", "pi_a"),
        forged,
        malformed,
        unknown,
        unsigned,
        message("m6", "evt_6", "pi_a"),
    ];
    let report = p.processor.process(&batch).await;
    assert!(
        report.failed.is_empty(),
        "nothing waits for three visibility timeouts"
    );
    assert_eq!(
        report.recorded, 2,
        "m1 and m6 are recorded around the bad ones"
    );
    let dead: Vec<(String, FailureReason)> = p
        .dead_letters
        .0
        .lock()
        .unwrap()
        .iter()
        .map(|(id, r, _)| (id.clone(), *r))
        .collect();
    assert_eq!(
        dead,
        [
            ("m2".to_owned(), FailureReason::BadSignature),
            ("m3".to_owned(), FailureReason::MalformedBody),
            ("m4".to_owned(), FailureReason::UnknownProvider),
            ("m5".to_owned(), FailureReason::MissingSignature),
        ]
    );
    assert!(
        p.dead_letters
            .0
            .lock()
            .unwrap()
            .iter()
            .all(|(_, _, detail)| !detail.contains(SECRET))
    );
}

#[tokio::test]
async fn every_message_gets_one_decision_line_with_its_ids_and_no_secret() {
    let p = pipeline();
    *p.ledger.failing_event.lock().unwrap() = Some("evt_3".into());
    let mut forged = message("m2", "evt_2", "pi_b");
    forged.attributes.insert(
        "stripe-signature".into(),
        format!("t={},v1={}", NOW / 1000, "ab".repeat(32)),
    );
    let batch = [
        message("m1", "evt_1", "pi_a"),
        forged,
        message("m3", "evt_3", "pi_c"),
        message("m4", "evt_4", "pi_c"),
        message("m5", "evt_1", "pi_a"),
    ];
    let report = p.processor.process(&batch).await;
    let lines: Vec<(Option<&str>, &str, Option<&str>)> = report
        .decisions
        .iter()
        .map(|d| {
            (
                d.event_id.as_deref(),
                d.outcome.as_str(),
                d.reason.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            (Some("evt_1"), "recorded", None),
            (Some("evt_2"), "dead-lettered", Some("bad-signature")),
            (Some("evt_3"), "retry", Some("ledger-unavailable")),
            (Some("evt_4"), "held-for-order", None),
            (Some("evt_1"), "duplicate", None),
        ]
    );
    let forged = &report.decisions[1];
    assert_eq!(forged.level, mgrid_contract::decision::Level::Warn);
    assert_eq!(forged.provider.as_deref(), Some("stripe"));
    assert_eq!(forged.group.as_deref(), Some("stripe:pi_b"));
    assert!(
        forged
            .detail
            .as_deref()
            .is_some_and(|d| d.contains("signature"))
    );
    assert!(report.decisions[0].duration_ms.is_some());
    assert_eq!(report.decisions[3].duration_ms, None, "held, not tried");
    for line in &report.decisions {
        let text = line.to_line();
        assert!(!text.contains(SECRET) && !text.contains("v1="), "{text}");
        assert_eq!(
            mgrid_contract::decision::DecisionLine::parse(&text).as_ref(),
            Some(line)
        );
    }
}

#[tokio::test]
async fn a_stage_without_a_signing_secret_dead_letters_with_that_reason() {
    let ledger = MemoryLedger::default();
    let dead_letters = MemoryDeadLetters::default();
    let clock = Arc::new(FakeClock(AtomicI64::new(NOW)));
    let processor = Processor::new(
        stage(),
        ledger,
        dead_letters.clone(),
        MemoryKeyStore::default(),
        NoCertificates,
        clock,
    );
    processor.process(&[message("m1", "evt_1", "pi_a")]).await;
    assert_eq!(
        dead_letters.0.lock().unwrap()[0].1,
        FailureReason::NoSigningSecret
    );
}

#[tokio::test]
async fn an_unreachable_key_store_retries_instead_of_dead_lettering() {
    let keys = MemoryKeyStore::default();
    *keys.down.lock().unwrap() = true;
    let dead_letters = MemoryDeadLetters::default();
    let clock = Arc::new(FakeClock(AtomicI64::new(NOW)));
    let processor = Processor::new(
        stage(),
        MemoryLedger::default(),
        dead_letters.clone(),
        keys,
        NoCertificates,
        clock,
    );
    let report = processor.process(&[message("m1", "evt_1", "pi_a")]).await;
    assert_eq!(report.failed, ["m1"]);
    assert!(dead_letters.0.lock().unwrap().is_empty());
}

#[tokio::test]
async fn paypal_without_a_webhook_id_dead_letters_and_an_unreachable_certificate_host_retries() {
    let p = pipeline();
    let body = r#"{"id":"WH-1","event_type":"PAYMENT.CAPTURE.COMPLETED","resource":{"id":"C1"}}"#;
    let attributes: BTreeMap<String, String> = [
        ("mgrid-provider", "paypal"),
        ("mgrid-received-at", "1764385205000"),
        ("paypal-transmission-id", "t1"),
        ("paypal-transmission-time", "2025-11-29T02:20:05Z"),
        ("paypal-transmission-sig", "AAAA"),
        (
            "paypal-cert-url",
            "https://api.paypal.com/v1/notifications/certs/CERT-1",
        ),
        ("paypal-auth-algo", "SHA256withRSA"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let message = |id: &str, attributes: BTreeMap<String, String>| InboundMessage {
        message_id: id.into(),
        body: body.into(),
        attributes,
        group_id: "paypal:C1".into(),
        deduplication_id: Some("WH-1".into()),
        receive_count: 1,
    };
    let report = p
        .processor
        .process(&[message("m1", attributes.clone())])
        .await;
    assert!(report.failed.is_empty());

    let keys = MemoryKeyStore::default();
    keys.rings.lock().unwrap().insert(
        stage().signing_secret_ring(Provider::Paypal),
        KeyRing::first(Secret::new("8PT597110X687430LKGECATA".into()), 0),
    );
    let dead_letters = MemoryDeadLetters::default();
    let clock = Arc::new(FakeClock(AtomicI64::new(NOW)));
    let processor = Processor::new(
        stage(),
        MemoryLedger::default(),
        dead_letters.clone(),
        keys,
        NoCertificates,
        clock,
    );
    let report = processor
        .process(&[message("m2", attributes.clone())])
        .await;
    assert_eq!(
        report.failed,
        ["m2"],
        "the certificate host may come back: retry"
    );
    assert_eq!(
        report.retried.get(&RetryCause::CertificateUnavailable),
        Some(&1)
    );
    let mut untrusted = attributes;
    untrusted.insert(
        "paypal-cert-url".into(),
        "https://evil.example/v1/notifications/certs/CERT-1".into(),
    );
    processor.process(&[message("m3", untrusted)]).await;

    let reasons: Vec<(String, FailureReason)> = p
        .dead_letters
        .0
        .lock()
        .unwrap()
        .iter()
        .chain(dead_letters.0.lock().unwrap().iter())
        .map(|(id, r, _)| (id.clone(), *r))
        .collect();
    assert_eq!(
        reasons,
        [
            ("m1".to_owned(), FailureReason::NoSigningSecret),
            ("m3".to_owned(), FailureReason::UntrustedCertificate)
        ]
    );
}

fn authorizer(keys: MemoryKeyStore, clock: Arc<FakeClock>) -> Authorizer<MemoryKeyStore> {
    Authorizer::new(stage(), keys, clock)
}

fn request(path: &str, header: Option<&str>, query: Option<&str>) -> AuthorizationRequest {
    AuthorizationRequest {
        path: path.into(),
        headers: header
            .map(|k| BTreeMap::from([("x-api-key".to_owned(), k.to_owned())]))
            .unwrap_or_default(),
        query: query
            .map(|k| BTreeMap::from([("key".to_owned(), k.to_owned())]))
            .unwrap_or_default(),
        repeated_key: false,
    }
}

#[tokio::test]
async fn the_authorizer_accepts_the_current_and_unexpired_previous_key_from_header_or_query() {
    let keys = MemoryKeyStore::default();
    let one = KeyRing::first(Secret::new("mgk_stripe_one".into()), 0);
    let two = KeyRing::rotate(
        Some(&one),
        Secret::new("mgk_stripe_two".into()),
        0,
        3_600_000,
    );
    keys.rings
        .lock()
        .unwrap()
        .insert(stage().api_key_ring(Provider::Stripe), two);
    let clock = Arc::new(FakeClock(AtomicI64::new(1_000)));
    let auth = authorizer(keys, clock.clone());
    let allowed = |d: Decision| matches!(d, Decision::Allow { .. });
    assert!(allowed(
        auth.decide(&request("/webhook/stripe", Some("mgk_stripe_two"), None))
            .await
    ));
    assert!(allowed(
        auth.decide(&request("/webhook/stripe", None, Some("mgk_stripe_two")))
            .await
    ));
    assert!(matches!(
        auth.decide(&request("/webhook/stripe", None, Some("mgk_stripe_one")))
            .await,
        Decision::Allow {
            slot: KeySlot::Previous,
            ..
        }
    ));
    clock.0.store(3_600_000, Ordering::SeqCst);
    assert_eq!(
        auth.decide(&request("/webhook/stripe", None, Some("mgk_stripe_one")))
            .await,
        Decision::Deny {
            reason: DenyReason::WrongKey
        }
    );
}

#[tokio::test]
async fn the_authorizer_fails_closed() {
    let keys = MemoryKeyStore::default();
    keys.rings.lock().unwrap().insert(
        stage().api_key_ring(Provider::Stripe),
        KeyRing::first(Secret::new("mgk_stripe_one".into()), 0),
    );
    let clock = Arc::new(FakeClock(AtomicI64::new(1_000)));
    let auth = authorizer(keys.clone(), clock.clone());
    let deny = |reason| Decision::Deny { reason };
    assert_eq!(
        auth.decide(&request("/webhook/stripe", None, None)).await,
        deny(DenyReason::NoKey)
    );
    assert_eq!(
        auth.decide(&request("/webhook/stripe", Some(""), None))
            .await,
        deny(DenyReason::NoKey)
    );
    assert_eq!(
        auth.decide(&request("/webhook/stripe", Some("mgk_stripe_two"), None))
            .await,
        deny(DenyReason::WrongKey)
    );
    assert_eq!(
        auth.decide(&request("/webhook/adyen", Some("mgk_stripe_one"), None))
            .await,
        deny(DenyReason::UnknownRoute)
    );
    assert_eq!(
        auth.decide(&request("/webhook/paypal", Some("mgk_stripe_one"), None))
            .await,
        deny(DenyReason::NoKeyRing),
        "a stripe key opens no other provider"
    );
    *keys.down.lock().unwrap() = true;
    clock.0.store(100_000, Ordering::SeqCst);
    assert_eq!(
        auth.decide(&request("/webhook/stripe", Some("mgk_stripe_one"), None))
            .await,
        deny(DenyReason::KeyStoreUnavailable)
    );
}

#[tokio::test]
async fn the_authorizer_reads_a_key_ring_at_most_once_a_minute() {
    let keys = MemoryKeyStore::default();
    keys.rings.lock().unwrap().insert(
        stage().api_key_ring(Provider::Stripe),
        KeyRing::first(Secret::new("mgk_stripe_one".into()), 0),
    );
    let clock = Arc::new(FakeClock(AtomicI64::new(0)));
    let auth = authorizer(keys.clone(), clock.clone());
    for t in [0, 10_000, 59_999] {
        clock.0.store(t, Ordering::SeqCst);
        auth.decide(&request("/webhook/stripe", Some("mgk_stripe_one"), None))
            .await;
    }
    assert_eq!(keys.reads.load(Ordering::SeqCst), 1);
    // A rotation shows up once the minute is over.
    keys.rings.lock().unwrap().insert(
        stage().api_key_ring(Provider::Stripe),
        KeyRing::first(Secret::new("mgk_stripe_new".into()), 0),
    );
    clock.0.store(60_000, Ordering::SeqCst);
    assert!(matches!(
        auth.decide(&request("/webhook/stripe", Some("mgk_stripe_new"), None))
            .await,
        Decision::Allow { .. }
    ));
    assert_eq!(keys.reads.load(Ordering::SeqCst), 2);
}

#[derive(Default, Clone)]
struct MemoryArchive {
    objects: Arc<Mutex<BTreeMap<String, Vec<u8>>>>,
    down: Arc<Mutex<bool>>,
}
impl Archive for MemoryArchive {
    async fn put_new(&self, key: &ArchiveKey, object: Vec<u8>) -> Result<Insert, PortError> {
        if *self.down.lock().unwrap() {
            return Err(PortError::Unavailable("s3 down".into()));
        }
        let mut objects = self.objects.lock().unwrap();
        if objects.contains_key(&key.to_string()) {
            return Ok(Insert::AlreadyPresent);
        }
        objects.insert(key.to_string(), object);
        Ok(Insert::Written)
    }
}

fn stream_record(event_id: &str, message: &InboundMessage) -> StreamRecord {
    let envelope = WebhookEnvelope::from_queue_message(&message.body, &message.attributes).unwrap();
    let record = TransactionRecord::from_envelope(&envelope).unwrap();
    StreamRecord {
        event_id: event_id.into(),
        event_name: "INSERT".into(),
        new_image: Some(ledger_item(&record, &envelope)),
    }
}

/// Receipts on the memory ledger's items, applied as DynamoDB applies them (the contract's
/// apply_receipt); a switch makes every write fail.
#[derive(Default, Clone)]
struct MemoryReceipts {
    items: Arc<Mutex<BTreeMap<String, Item>>>,
    down: Arc<Mutex<bool>>,
}
impl Receipts for MemoryReceipts {
    async fn settle(&self, receipts: &[(String, Receipt)]) -> Vec<Result<(), PortError>> {
        let mut items = self.items.lock().unwrap();
        receipts
            .iter()
            .map(|(id, receipt)| {
                if *self.down.lock().unwrap() {
                    return Err(PortError::Unavailable("dynamodb down".into()));
                }
                let item = items
                    .get_mut(id)
                    .ok_or_else(|| PortError::Unavailable(format!("no item {id}")))?;
                apply_receipt(item, receipt);
                Ok(())
            })
            .collect()
    }
    async fn note_failures(
        &self,
        leg: Leg,
        failures: &[(String, String)],
    ) -> Vec<Result<(), PortError>> {
        let mut items = self.items.lock().unwrap();
        failures
            .iter()
            .map(|(id, why)| {
                if let Some(item) = items.get_mut(id) {
                    apply_failure(item, leg, why);
                }
                Ok(())
            })
            .collect()
    }
}

#[derive(Default, Clone)]
struct MemoryTopic {
    published: Arc<Mutex<Vec<(String, bool)>>>,
    down: Arc<Mutex<bool>>,
}
impl Topic for MemoryTopic {
    async fn publish(&self, body: &str, redelivery: bool) -> Result<String, PortError> {
        if *self.down.lock().unwrap() {
            return Err(PortError::Unavailable("sns down".into()));
        }
        let mut published = self.published.lock().unwrap();
        published.push((body.to_owned(), redelivery));
        Ok(format!("msg-{}", published.len()))
    }
}

fn legs_of(receipts: &MemoryReceipts, record: &StreamRecord) -> Legs {
    let Some(Attribute::S(id)) = record.new_image.as_ref().unwrap().get(KEY_ATTRIBUTE) else {
        panic!("no key")
    };
    Legs::of(&receipts.items.lock().unwrap()[id])
}

fn with_items(records: &[StreamRecord]) -> MemoryReceipts {
    let receipts = MemoryReceipts::default();
    for record in records {
        let item = record.new_image.clone().unwrap();
        let Some(Attribute::S(id)) = item.get(KEY_ATTRIBUTE) else {
            panic!("no key")
        };
        receipts.items.lock().unwrap().insert(id.clone(), item);
    }
    receipts
}

#[tokio::test]
async fn the_archiver_writes_each_webhook_once_leaves_its_receipt_and_reports_what_it_could_not() {
    let clock = FakeClock(AtomicI64::new(NOW));
    let archive = MemoryArchive::default();
    let records = [
        stream_record("s1", &message("m1", "evt_1", "pi_a")),
        stream_record("s2", &message("m2", "evt_2", "pi_b")),
        stream_record("s5", &message("m5", "evt_5", "pi_a")),
    ];
    let receipts = with_items(&records);
    let leg = LegRunner::new(
        Archiver::new(archive.clone()),
        receipts.clone(),
        BY_PIPELINE,
    );
    let report = leg.run(&records[..2], &clock).await;
    assert_eq!((report.done, report.failed.len()), (2, 0));
    // The receipt names the key and the digest of the bytes written.
    let legs = legs_of(&receipts, &records[0]);
    let key = legs.archive_key.clone().unwrap();
    let written = archive.objects.lock().unwrap()[&key].clone();
    assert_eq!(
        legs.archive_sha256.as_deref(),
        Some(sha256_hex(&written).as_str())
    );
    assert_eq!(legs.archived_at, Some(NOW));
    assert_eq!(
        legs.pending(),
        vec![Leg::Notify],
        "the vendor is still to be told"
    );
    let again = leg.run(&records[..2], &clock).await;
    assert_eq!(
        (again.done, again.already),
        (0, 2),
        "a re-read stream is harmless"
    );
    let broken = StreamRecord {
        event_id: "s3".into(),
        event_name: "INSERT".into(),
        new_image: Some(Item::new()),
    };
    let modify = StreamRecord {
        event_name: "MODIFY".into(),
        ..stream_record("s4", &message("m4", "evt_4", "pi_a"))
    };
    let report = leg.run(&[broken, modify], &clock).await;
    assert_eq!(report.failed, ["s3"]);
    assert_eq!(report.skipped, 1);
    *archive.down.lock().unwrap() = true;
    let report = leg.run(&records[2..], &clock).await;
    assert_eq!(report.failed, ["s5"]);
    assert_eq!(archive.objects.lock().unwrap().len(), 2);
    // The failure is noted on the item, for the report that lists it.
    let failed = legs_of(&receipts, &records[2]);
    assert!(
        failed
            .failure(Leg::Archive)
            .is_some_and(|why| why.contains("s3 down"))
    );
    assert_eq!(failed.pending(), Leg::ALL.to_vec());
    // One decision line a record, by its event: the failed write says why.
    let lines = report.decision_lines("archiver", NOW);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].function, "archiver");
    assert_eq!(lines[0].outcome, "archive-failed");
    assert_eq!(lines[0].event_id.as_deref(), Some("evt_5"));
    assert_eq!(lines[0].provider.as_deref(), Some("stripe"));
    assert_eq!(lines[0].level, mgrid_contract::decision::Level::Warn);
    assert!(lines[0].detail.is_some());
    let repeated = again.decision_lines("archiver", NOW);
    assert_eq!(repeated.len(), 2);
    assert!(repeated.iter().all(|l| l.outcome == "already-archived"));
    // A receipt that cannot be written sends the record back to the pipe: the archive write is
    // free to redo, and the redo writes the receipt.
    *archive.down.lock().unwrap() = false;
    *receipts.down.lock().unwrap() = true;
    let report = leg.run(&records[2..], &clock).await;
    assert_eq!(
        (report.receipts_unwritten, report.failed.clone()),
        (1, vec!["s5".to_owned()])
    );
}

#[tokio::test]
async fn the_notifier_tells_each_vendor_once_and_keeps_the_message_id() {
    let clock = FakeClock(AtomicI64::new(NOW));
    let topic = MemoryTopic::default();
    let records = [
        stream_record("s1", &message("m1", "evt_1", "pi_a")),
        stream_record("s2", &message("m2", "evt_2", "pi_b")),
    ];
    let receipts = with_items(&records);
    let leg = LegRunner::new(Notifier::new(topic.clone()), receipts.clone(), BY_PIPELINE);
    *topic.down.lock().unwrap() = true;
    let report = leg.run(&records, &clock).await;
    assert_eq!(report.failed, ["s1", "s2"]);
    assert!(
        legs_of(&receipts, &records[0])
            .failure(Leg::Notify)
            .is_some()
    );
    *topic.down.lock().unwrap() = false;
    let report = leg.run(&records, &clock).await;
    assert_eq!((report.done, report.failed.len()), (2, 0));
    let legs = legs_of(&receipts, &records[0]);
    assert!(
        legs.notify_message_id
            .as_deref()
            .is_some_and(|id| id.starts_with("msg-"))
    );
    assert_eq!(
        legs.failure(Leg::Notify),
        None,
        "the receipt clears the failure"
    );
    // The body is the contract's notification of the item; first deliveries are not marked.
    let published = topic.published.lock().unwrap().clone();
    let body: serde_json::Value = serde_json::from_str(&published[0].0).unwrap();
    assert_eq!(
        body,
        vendor_notification(records[0].new_image.as_ref().unwrap())
    );
    assert!(published.iter().all(|(_, redelivery)| !redelivery));
    // A receipt that cannot be written does not send the record back: the vendor was told,
    // and telling again is a heal's marked redelivery.
    *receipts.down.lock().unwrap() = true;
    let report = leg.run(&records[..1], &clock).await;
    assert_eq!((report.receipts_unwritten, report.failed.len()), (1, 0));
    *receipts.down.lock().unwrap() = false;
    let heal = LegRunner::new(
        Notifier::redelivering(topic.clone()),
        receipts.clone(),
        BY_HEAL,
    );
    heal.run(&records[..1], &clock).await;
    assert_eq!(
        topic.published.lock().unwrap().last().map(|p| p.1),
        Some(true)
    );
    assert_eq!(
        legs_of(&receipts, &records[0]).notified_by.as_deref(),
        Some(BY_HEAL)
    );
}

#[test]
fn an_authorizer_line_names_the_key_id_and_the_request_never_the_key() {
    use mgrid_contract::KeySlot;
    use mgrid_contract::decision::Level;
    use mgrid_pipeline::authorizer::{Decision, DenyReason};
    let allowed = Decision::Allow {
        provider: Provider::Stripe,
        slot: KeySlot::Previous,
        key_id: "k-7f3a".into(),
    }
    .log_line(Some("req-1".into()), 0);
    assert_eq!(allowed.outcome, "allowed");
    assert_eq!(allowed.detail.as_deref(), Some("key k-7f3a (previous)"));
    assert_eq!(allowed.request_id.as_deref(), Some("req-1"));
    assert_eq!(allowed.provider.as_deref(), Some("stripe"));
    let denied = Decision::Deny {
        reason: DenyReason::WrongKey,
    }
    .log_line(None, 0);
    assert_eq!(
        (denied.outcome.as_str(), denied.level),
        ("denied", Level::Warn)
    );
    assert_eq!(denied.reason.as_deref(), Some("wrong-key"));
}
