//! Realistic Stripe and PayPal events (fixtures/) through the contract: envelope, signature
//! verification, normalisation, ledger item and archive, and what each bad input becomes.

use std::collections::BTreeMap;

use mgrid_contract::archive::{ArchiveKey, ArchivedWebhook};
use mgrid_contract::clock::parse_rfc3339;
use mgrid_contract::ledger::{envelope_from_item, ledger_item, record_from_item};
use mgrid_contract::record::UNASSIGNED_VENDOR;
use mgrid_contract::signature::{stripe_signature_header, verify_paypal, verify_stripe};
use mgrid_contract::{FailureReason, Provider, Secret, TransactionRecord, WebhookEnvelope};

fn fixture(path: &str) -> String {
    std::fs::read_to_string(format!("{}/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

const STRIPE_SECRET: &str = "whsec_fixture_endpoint_secret";

/// A Stripe delivery of a fixture, signed `skew_s` seconds before receipt.
fn stripe_delivery(name: &str, skew_s: i64) -> WebhookEnvelope {
    let body = fixture(&format!("stripe/{name}.json"));
    let received_at = 1_764_385_205_000;
    let header = stripe_signature_header(
        &Secret::new(STRIPE_SECRET.into()),
        received_at / 1000 - skew_s,
        body.as_bytes(),
    );
    let headers = BTreeMap::from([("stripe-signature".to_owned(), header)]);
    WebhookEnvelope::from_delivery(
        Provider::Stripe,
        body,
        &headers,
        received_at,
        Some("req-1".into()),
    )
    .unwrap()
}

fn normalise(envelope: &WebhookEnvelope) -> TransactionRecord {
    TransactionRecord::from_envelope(envelope).unwrap()
}

#[test]
fn stripe_payment_intent_succeeded() {
    let envelope = stripe_delivery("payment_intent.succeeded", 2);
    assert_eq!(
        verify_stripe(&envelope, &[&Secret::new(STRIPE_SECRET.into())]),
        Ok(())
    );
    let record = normalise(&envelope);
    assert_eq!(record.transaction_id, "stripe:evt_3QpLxyL8kq9w2Rb10aBcDeFg");
    assert_eq!(record.vendor_id, "vnd_7f3a91");
    assert_eq!(record.amount, Some(4999));
    assert_eq!(record.currency.as_deref(), Some("USD"));
    assert_eq!(record.status.as_deref(), Some("succeeded"));
    assert_eq!(
        record.payment_object_id.as_deref(),
        Some("pi_3QpLxyL8kq9w2Rb11XyZaBcD")
    );
    assert_eq!(record.event_time, 1_764_385_200_000);
    assert_eq!(
        envelope.to_queue_message().group_id,
        "stripe:pi_3QpLxyL8kq9w2Rb11XyZaBcD"
    );
}

#[test]
fn stripe_charge_refunded_records_the_refunded_amount_in_the_payment_group() {
    let envelope = stripe_delivery("charge.refunded", 0);
    let record = normalise(&envelope);
    assert_eq!(record.amount, Some(1500));
    assert_eq!(record.currency.as_deref(), Some("EUR"));
    assert_eq!(record.vendor_id, "vnd_2c8e44");
    assert_eq!(
        record.payment_object_id.as_deref(),
        Some("ch_3QpLxyL8kq9w2Rb11qRsTuVw")
    );
    assert_eq!(
        envelope.to_queue_message().group_id,
        "stripe:pi_3QpLxyL8kq9w2Rb11XyZaBcE"
    );
}

#[test]
fn a_large_stripe_invoice_is_verified_and_recorded_whole() {
    let envelope = stripe_delivery("invoice.paid.large", 1);
    assert!(
        envelope.body.len() > 64 * 1024,
        "the fixture is a large event"
    );
    assert_eq!(
        verify_stripe(&envelope, &[&Secret::new(STRIPE_SECRET.into())]),
        Ok(())
    );
    let record = normalise(&envelope);
    assert_eq!(record.vendor_id, "vnd_9b1d02");
    assert_eq!(record.status.as_deref(), Some("paid"));
    let invoice: serde_json::Value = serde_json::from_str(&envelope.body).unwrap();
    assert_eq!(
        record.amount,
        invoice["data"]["object"]["amount_paid"].as_i64()
    );
    let item = ledger_item(&record, &envelope);
    assert_eq!(envelope_from_item(&item).unwrap().body, envelope.body);
}

#[test]
fn an_unknown_stripe_event_type_is_kept_with_what_it_carries() {
    let record = normalise(&stripe_delivery("customer.updated", 0));
    assert_eq!(record.event_type, "customer.updated");
    assert_eq!(record.amount, None);
    assert_eq!(record.vendor_id, UNASSIGNED_VENDOR);
    assert_eq!(
        record.payment_object_id.as_deref(),
        Some("cus_RkQ2bX9mLpT4sA")
    );
}

struct PaypalVector {
    fixture: String,
    transmission_id: String,
    transmission_time: String,
    webhook_id: String,
    signature: String,
}

fn paypal_vectors() -> Vec<PaypalVector> {
    let vectors: serde_json::Value =
        serde_json::from_str(&fixture("paypal/test-vectors.json")).unwrap();
    vectors
        .as_array()
        .unwrap()
        .iter()
        .map(|v| PaypalVector {
            fixture: v["fixture"].as_str().unwrap().into(),
            transmission_id: v["transmissionId"].as_str().unwrap().into(),
            transmission_time: v["transmissionTime"].as_str().unwrap().into(),
            webhook_id: v["webhookId"].as_str().unwrap().into(),
            signature: v["signature"].as_str().unwrap().into(),
        })
        .collect()
}

const CERT_URL: &str =
    "https://api.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-1d93a270";

fn paypal_delivery(vector: &PaypalVector, received_after_s: i64) -> WebhookEnvelope {
    let headers = BTreeMap::from([
        (
            "paypal-transmission-id".to_owned(),
            vector.transmission_id.clone(),
        ),
        (
            "paypal-transmission-time".to_owned(),
            vector.transmission_time.clone(),
        ),
        (
            "paypal-transmission-sig".to_owned(),
            vector.signature.clone(),
        ),
        ("paypal-cert-url".to_owned(), CERT_URL.to_owned()),
        ("paypal-auth-algo".to_owned(), "SHA256withRSA".to_owned()),
    ]);
    let received_at = parse_rfc3339(&vector.transmission_time).unwrap() + received_after_s * 1000;
    WebhookEnvelope::from_delivery(
        Provider::Paypal,
        fixture(&format!("paypal/{}", vector.fixture)),
        &headers,
        received_at,
        None,
    )
    .unwrap()
}

#[test]
fn paypal_signatures_verify_against_the_certificate() {
    let certificate = fixture("paypal/test-cert.pem");
    for vector in paypal_vectors() {
        let envelope = paypal_delivery(&vector, 1);
        let webhook_id = Secret::new(vector.webhook_id.clone());
        assert_eq!(
            verify_paypal(&envelope, &[&webhook_id], &certificate),
            Ok(()),
            "{}",
            vector.fixture
        );
        let other = Secret::new("WEBHOOKIDOFANOTHERSTAGE1".into());
        assert_eq!(
            verify_paypal(&envelope, &[&other, &webhook_id], &certificate),
            Ok(()),
            "any configured id"
        );
    }
}

#[test]
fn paypal_refuses_what_the_signature_does_not_cover() {
    let certificate = fixture("paypal/test-cert.pem");
    let vector = &paypal_vectors()[0];
    let webhook_id = Secret::new(vector.webhook_id.clone());
    let reason = |envelope: &WebhookEnvelope| {
        verify_paypal(envelope, &[&webhook_id], &certificate)
            .unwrap_err()
            .reason
    };

    let wrong_id = Secret::new("WEBHOOKIDOFANOTHERSTAGE1".into());
    let envelope = paypal_delivery(vector, 1);
    assert_eq!(
        verify_paypal(&envelope, &[&wrong_id], &certificate)
            .unwrap_err()
            .reason,
        FailureReason::BadSignature
    );

    let mut tampered = paypal_delivery(vector, 1);
    tampered.body = tampered.body.replace("38.70", "3870.00");
    assert_eq!(reason(&tampered), FailureReason::BadSignature);

    let mut untrusted = paypal_delivery(vector, 1);
    untrusted.signature_headers.insert(
        "paypal-cert-url".into(),
        "https://evil.example/v1/notifications/certs/x".into(),
    );
    assert_eq!(reason(&untrusted), FailureReason::UntrustedCertificate);

    let mut algorithm = paypal_delivery(vector, 1);
    algorithm
        .signature_headers
        .insert("paypal-auth-algo".into(), "SHA1withRSA".into());
    assert_eq!(reason(&algorithm), FailureReason::BadSignature);

    let mut unsigned = paypal_delivery(vector, 1);
    unsigned.signature_headers.remove("paypal-transmission-sig");
    assert_eq!(reason(&unsigned), FailureReason::MissingSignature);

    assert_eq!(
        reason(&paypal_delivery(vector, 301)),
        FailureReason::SignatureExpired,
        "a replayed delivery"
    );
    assert_eq!(
        reason(&paypal_delivery(vector, 20 * 365 * 86_400)),
        FailureReason::UntrustedCertificate,
        "expired certificate"
    );
    assert_eq!(
        verify_paypal(
            &envelope,
            &[&webhook_id],
            "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n"
        )
        .unwrap_err()
        .reason,
        FailureReason::UntrustedCertificate
    );
    assert_eq!(
        verify_paypal(&envelope, &[], &certificate)
            .unwrap_err()
            .reason,
        FailureReason::NoSigningSecret
    );
}

#[test]
fn paypal_capture_and_refund_normalise_to_minor_units() {
    let [capture, refund] = paypal_vectors().try_into().ok().unwrap();
    let record = normalise(&paypal_delivery(&capture, 1));
    assert_eq!(
        record.transaction_id,
        "paypal:WH-58D329510W468432D-8HN650336L201105X"
    );
    assert_eq!(record.event_type, "PAYMENT.CAPTURE.COMPLETED");
    assert_eq!(
        (record.amount, record.currency.as_deref()),
        (Some(3870), Some("USD"))
    );
    assert_eq!(record.vendor_id, "vnd_4e7a10");
    assert_eq!(record.status.as_deref(), Some("COMPLETED"));
    assert_eq!(
        record.event_time,
        parse_rfc3339("2026-11-29T02:20:32.530Z").unwrap()
    );
    assert_eq!(
        paypal_delivery(&capture, 1).to_queue_message().group_id,
        "paypal:5O190127TN364715T"
    );
    let record = normalise(&paypal_delivery(&refund, 1));
    assert_eq!(
        (record.amount, record.currency.as_deref()),
        (Some(1200), Some("USD"))
    );
    assert_eq!(
        record.payment_object_id.as_deref(),
        Some("1JU08902781691411")
    );
}

#[test]
fn every_fixture_survives_the_ledger_and_the_archive_byte_for_byte() {
    let mut envelopes: Vec<WebhookEnvelope> = [
        "payment_intent.succeeded",
        "charge.refunded",
        "invoice.paid.large",
        "customer.updated",
    ]
    .iter()
    .map(|name| stripe_delivery(name, 0))
    .collect();
    envelopes.extend(paypal_vectors().iter().map(|v| paypal_delivery(v, 1)));
    for envelope in envelopes {
        let record = normalise(&envelope);
        let item = ledger_item(&record, &envelope);
        assert_eq!(record_from_item(&item).unwrap(), record);
        let from_ledger = envelope_from_item(&item).unwrap();
        let key = ArchiveKey::for_envelope(&from_ledger);
        let archived =
            ArchivedWebhook::parse(&key, &ArchivedWebhook::to_json(&from_ledger)).unwrap();
        assert_eq!(archived, envelope);
        assert_eq!(archived.body.as_bytes(), envelope.body.as_bytes());
    }
}

#[test]
fn bad_stripe_input_gets_its_defined_outcome() {
    let headers = BTreeMap::new();
    let delivery = |body: &str| {
        WebhookEnvelope::from_delivery(Provider::Stripe, body.into(), &headers, 0, None)
    };
    let full = fixture("stripe/payment_intent.succeeded.json");
    assert_eq!(
        delivery(&full[..full.len() / 2]).unwrap_err().reason,
        FailureReason::MalformedBody,
        "truncated JSON"
    );
    assert_eq!(
        delivery("").unwrap_err().reason,
        FailureReason::MalformedBody
    );
    assert_eq!(
        delivery("null").unwrap_err().reason,
        FailureReason::MalformedBody
    );
    assert_eq!(
        delivery(r#"{"type":"payment_intent.succeeded"}"#)
            .unwrap_err()
            .reason,
        FailureReason::MissingEventId
    );

    let wrong_amount = full.replace("\"amount_received\": 4999", "\"amount_received\": \"4999\"");
    let envelope = delivery(&wrong_amount).unwrap();
    assert_eq!(
        TransactionRecord::from_envelope(&envelope)
            .unwrap_err()
            .reason,
        FailureReason::InvalidAmount
    );
    let fractional = full.replace("\"amount_received\": 4999", "\"amount_received\": 49.99");
    assert_eq!(
        TransactionRecord::from_envelope(&delivery(&fractional).unwrap())
            .unwrap_err()
            .reason,
        FailureReason::InvalidAmount
    );
    let no_object =
        r#"{"id":"evt_1","type":"payment_intent.succeeded","created":"yesterday","data":7}"#;
    let record = TransactionRecord::from_envelope(&delivery(no_object).unwrap()).unwrap();
    assert_eq!(
        (record.amount, record.vendor_id.as_str()),
        (None, UNASSIGNED_VENDOR)
    );

    let huge = format!(
        r#"{{"id":"evt_huge","type":"invoice.paid","data":{{"object":{{"object":"invoice","description":"{}"}}}}}}"#,
        "x".repeat(2_000_000)
    );
    let envelope = delivery(&huge).unwrap();
    assert_eq!(
        verify_stripe(&envelope, &[&Secret::new(STRIPE_SECRET.into())])
            .unwrap_err()
            .reason,
        FailureReason::MissingSignature
    );
    assert!(TransactionRecord::from_envelope(&envelope).is_ok());
}

#[test]
fn bad_paypal_input_gets_its_defined_outcome() {
    let headers = BTreeMap::new();
    let record_of = |body: &str| {
        let envelope =
            WebhookEnvelope::from_delivery(Provider::Paypal, body.into(), &headers, 0, None)?;
        TransactionRecord::from_envelope(&envelope)
    };
    let reason = |body: &str| record_of(body).unwrap_err().reason;
    assert_eq!(
        reason(r#"{"id":"WH-1","event_type":"X","create_time":"soon"}"#),
        FailureReason::MalformedBody
    );
    assert_eq!(
        reason(
            r#"{"id":"WH-1","event_type":"X","resource":{"amount":{"value":"1.234","currency_code":"USD"}}}"#
        ),
        FailureReason::InvalidAmount
    );
    assert_eq!(
        reason(
            r#"{"id":"WH-1","event_type":"X","resource":{"amount":{"value":"ten","currency_code":"USD"}}}"#
        ),
        FailureReason::InvalidAmount
    );
    let kept =
        record_of(r#"{"id":"WH-1","event_type":"BILLING.PLAN.CREATED","resource":{"id":"P-1"}}"#)
            .unwrap();
    assert_eq!(
        (kept.amount, kept.vendor_id.as_str()),
        (None, UNASSIGNED_VENDOR)
    );
    let yen = record_of(r#"{"id":"WH-2","event_type":"X","resource":{"amount":{"value":"1200","currency_code":"jpy"}}}"#).unwrap();
    assert_eq!(
        (yen.amount, yen.currency.as_deref()),
        (Some(1200), Some("JPY"))
    );
}

#[test]
fn every_realistic_event_takes_the_fast_path_and_agrees_with_the_general_one() {
    let mut envelopes: Vec<WebhookEnvelope> = [
        "payment_intent.succeeded",
        "charge.refunded",
        "invoice.paid.large",
        "customer.updated",
    ]
    .iter()
    .map(|name| stripe_delivery(name, 0))
    .collect();
    envelopes.extend(paypal_vectors().iter().map(|v| paypal_delivery(v, 1)));
    for envelope in envelopes {
        let (fast, general) = mgrid_contract::record::normalise_both_ways(&envelope);
        assert_eq!(fast.as_ref(), Some(&general), "{}", envelope.event_type);
    }
}
