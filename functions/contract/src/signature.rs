//! Provider signature verification over the raw body.
//!
//! A signature's timestamp is checked against when the webhook was *received* (the envelope's
//! `received_at`, set by the ingress), not against the clock at processing time: a webhook
//! redriven from the DLQ days later, or replayed from the archive, still verifies, while a
//! signed payload captured and sent again is received late and refused.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::clock::{EpochMillis, parse_rfc3339};
use crate::envelope::{Rejected, WebhookEnvelope};
use crate::failure::FailureReason;
use crate::keyring::Secret;

/// How far a signature's timestamp may be from the webhook's receipt (Stripe's own default).
pub const SIGNATURE_TOLERANCE_MS: i64 = 300_000;

/// Longest signature header considered (Stripe sends a few hundred bytes).
const MAX_HEADER_LEN: usize = 4096;

/// A parsed `Stripe-Signature` header: `t=<unix seconds>,v1=<hex>[,v1=<hex>]…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StripeSignature {
    pub timestamp: i64,
    /// The v1 signatures; entries that are not 32 bytes of hex are dropped (they cannot match).
    pub v1: Vec<[u8; 32]>,
}

pub fn parse_stripe_signature(header: &str) -> Result<StripeSignature, Rejected> {
    let bad = |detail: &str| {
        Rejected::new(
            FailureReason::BadSignature,
            format!("Stripe-Signature {detail}"),
        )
    };
    if header.len() > MAX_HEADER_LEN {
        return Err(bad("is too long"));
    }
    let mut timestamp = None;
    let mut v1 = Vec::new();
    for part in header.split(',') {
        let Some((scheme, value)) = part.trim().split_once('=') else {
            continue;
        };
        match scheme {
            "t" => {
                if timestamp.is_some() {
                    return Err(bad("has more than one timestamp"));
                }
                timestamp = Some(
                    value
                        .parse::<i64>()
                        .map_err(|_| bad("has a timestamp that is not a number"))?,
                );
            }
            "v1" => {
                if let Some(signature) = decode_hex_32(value) {
                    v1.push(signature);
                }
            }
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or_else(|| bad("has no timestamp"))?;
    if v1.is_empty() {
        return Err(bad("has no v1 signature"));
    }
    Ok(StripeSignature { timestamp, v1 })
}

/// Verifies a Stripe webhook: any v1 signature matching any of the endpoint's signing secrets
/// (current, and previous during a roll), and a timestamp within the tolerance of receipt.
pub fn verify_stripe(envelope: &WebhookEnvelope, secrets: &[&Secret]) -> Result<(), Rejected> {
    let header = envelope
        .signature_headers
        .get("stripe-signature")
        .ok_or_else(|| {
            Rejected::new(
                FailureReason::MissingSignature,
                "no Stripe-Signature header",
            )
        })?;
    if secrets.is_empty() {
        return Err(Rejected::new(
            FailureReason::NoSigningSecret,
            "the stage has no Stripe signing secret",
        ));
    }
    let signature = parse_stripe_signature(header)?;
    let timestamp = signature.timestamp.to_string();
    let mut matched = subtle::Choice::from(0);
    for secret in secrets {
        let expected = stripe_signature(
            secret.expose().as_bytes(),
            &timestamp,
            envelope.body.as_bytes(),
        );
        for candidate in &signature.v1 {
            matched |= expected.ct_eq(candidate);
        }
    }
    if !bool::from(matched) {
        return Err(Rejected::new(
            FailureReason::BadSignature,
            "no v1 signature matches the stage's Stripe signing secrets",
        ));
    }
    check_tolerance(
        signature.timestamp.saturating_mul(1000),
        envelope.received_at,
    )
}

/// HMAC-SHA256 of `<timestamp>.<body>`, keyed by the signing secret.
pub fn stripe_signature(secret: &[u8], timestamp: &str, body: &[u8]) -> [u8; 32] {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().into()
}

/// The `Stripe-Signature` header a sender with this secret would send (for `mgrid send`).
pub fn stripe_signature_header(secret: &Secret, timestamp_seconds: i64, body: &[u8]) -> String {
    let signature = stripe_signature(
        secret.expose().as_bytes(),
        &timestamp_seconds.to_string(),
        body,
    );
    format!("t={timestamp_seconds},v1={}", encode_hex(&signature))
}

fn check_tolerance(signed_at: EpochMillis, received_at: EpochMillis) -> Result<(), Rejected> {
    let skew = received_at.saturating_sub(signed_at).saturating_abs();
    if skew > SIGNATURE_TOLERANCE_MS {
        return Err(Rejected::new(
            FailureReason::SignatureExpired,
            format!(
                "signed {} s away from receipt (tolerance {} s)",
                skew / 1000,
                SIGNATURE_TOLERANCE_MS / 1000
            ),
        ));
    }
    Ok(())
}

/// Hosts PayPal serves its webhook signing certificates from.
pub const PAYPAL_CERT_HOSTS: [&str; 4] = [
    "api.paypal.com",
    "api-m.paypal.com",
    "api.sandbox.paypal.com",
    "api-m.sandbox.paypal.com",
];

/// Only an https URL on one of PayPal's hosts is fetched: the certificate URL comes from the
/// (attacker-controllable) request, so anything else would let a caller pick the key.
pub fn paypal_cert_url_allowed(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("https://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.strip_suffix(":443").unwrap_or(authority);
    PAYPAL_CERT_HOSTS.contains(&host)
        && rest[authority.len()..].starts_with("/v1/notifications/certs/")
}

/// The PayPal transmission headers of a webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaypalTransmission {
    pub id: String,
    pub time: String,
    pub signature: Vec<u8>,
    pub cert_url: String,
}

impl PaypalTransmission {
    pub fn from_envelope(envelope: &WebhookEnvelope) -> Result<PaypalTransmission, Rejected> {
        let header = |name: &str| {
            envelope
                .signature_headers
                .get(name)
                .cloned()
                .ok_or_else(|| {
                    Rejected::new(FailureReason::MissingSignature, format!("no {name} header"))
                })
        };
        let algorithm = header("paypal-auth-algo")?;
        if algorithm != "SHA256withRSA" {
            return Err(Rejected::new(
                FailureReason::BadSignature,
                format!("PAYPAL-AUTH-ALGO {algorithm:?} is not SHA256withRSA"),
            ));
        }
        let signature = base64::engine::general_purpose::STANDARD
            .decode(header("paypal-transmission-sig")?)
            .map_err(|_| {
                Rejected::new(
                    FailureReason::BadSignature,
                    "PAYPAL-TRANSMISSION-SIG is not base64",
                )
            })?;
        let cert_url = header("paypal-cert-url")?;
        if !paypal_cert_url_allowed(&cert_url) {
            return Err(Rejected::new(
                FailureReason::UntrustedCertificate,
                "PAYPAL-CERT-URL is not on a PayPal certificate host",
            ));
        }
        Ok(PaypalTransmission {
            id: header("paypal-transmission-id")?,
            time: header("paypal-transmission-time")?,
            signature,
            cert_url,
        })
    }

    /// `<transmission id>|<transmission time>|<webhook id>|<CRC32 of the body, decimal>`.
    pub fn signed_message(&self, webhook_id: &str, body: &[u8]) -> String {
        format!(
            "{}|{}|{}|{}",
            self.id,
            self.time,
            webhook_id,
            crc32fast::hash(body)
        )
    }
}

/// Verifies a PayPal webhook against the certificate fetched from its (allow-listed)
/// certificate URL, for any of the stage's webhook ids (current, and previous during a change).
pub fn verify_paypal(
    envelope: &WebhookEnvelope,
    webhook_ids: &[&Secret],
    certificate_pem: &str,
) -> Result<(), Rejected> {
    let transmission = PaypalTransmission::from_envelope(envelope)?;
    if webhook_ids.is_empty() {
        return Err(Rejected::new(
            FailureReason::NoSigningSecret,
            "the stage has no PayPal webhook id",
        ));
    }
    let key = paypal_public_key(certificate_pem, envelope.received_at)?;
    let signature =
        rsa::pkcs1v15::Signature::try_from(transmission.signature.as_slice()).map_err(|_| {
            Rejected::new(
                FailureReason::BadSignature,
                "PAYPAL-TRANSMISSION-SIG is not an RSA signature",
            )
        })?;
    let verifier = rsa::pkcs1v15::VerifyingKey::<Sha256>::new(key);
    let verified = webhook_ids.iter().any(|webhook_id| {
        let message = transmission.signed_message(webhook_id.expose(), envelope.body.as_bytes());
        rsa::signature::Verifier::verify(&verifier, message.as_bytes(), &signature).is_ok()
    });
    if !verified {
        return Err(Rejected::new(
            FailureReason::BadSignature,
            "the PayPal signature does not verify for the stage's webhook ids",
        ));
    }
    let signed_at = parse_rfc3339(&transmission.time).map_err(|_| {
        Rejected::new(
            FailureReason::BadSignature,
            "PAYPAL-TRANSMISSION-TIME is not an RFC 3339 time",
        )
    })?;
    check_tolerance(signed_at, envelope.received_at)
}

/// The RSA key of a PEM certificate that is valid at `at`.
fn paypal_public_key(
    certificate_pem: &str,
    at: EpochMillis,
) -> Result<rsa::RsaPublicKey, Rejected> {
    use rsa::pkcs8::DecodePublicKey;
    use x509_cert::der::{DecodePem, Encode};
    let untrusted = |detail: String| Rejected::new(FailureReason::UntrustedCertificate, detail);
    let certificate = x509_cert::Certificate::from_pem(certificate_pem.as_bytes())
        .map_err(|e| untrusted(format!("the PayPal certificate does not parse: {e}")))?;
    let validity = &certificate.tbs_certificate.validity;
    let seconds = at.div_euclid(1000);
    let not_before = validity.not_before.to_unix_duration().as_secs() as i64;
    let not_after = validity.not_after.to_unix_duration().as_secs() as i64;
    if seconds < not_before || seconds > not_after {
        return Err(untrusted(
            "the PayPal certificate was not valid when the webhook was received".into(),
        ));
    }
    let spki = certificate
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| untrusted(format!("the certificate's key does not encode: {e}")))?;
    rsa::RsaPublicKey::from_public_key_der(&spki)
        .map_err(|e| untrusted(format!("the certificate's key is not RSA: {e}")))
}

fn decode_hex_32(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in text.as_bytes().chunks(2).enumerate() {
        let digit = |b: u8| (b as char).to_digit(16);
        out[i] = (digit(pair[0])? * 16 + digit(pair[1])?) as u8;
    }
    Some(out)
}

pub fn encode_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::Provider;
    use std::collections::BTreeMap;

    fn stripe_envelope(header: Option<&str>, received_at: EpochMillis) -> WebhookEnvelope {
        let mut headers = BTreeMap::new();
        if let Some(header) = header {
            headers.insert("stripe-signature".to_owned(), header.to_owned());
        }
        WebhookEnvelope {
            provider: Provider::Stripe,
            event_id: "evt_1".into(),
            event_type: "payment_intent.succeeded".into(),
            received_at,
            request_id: None,
            signature_headers: headers,
            body: r#"{"id":"evt_1","type":"payment_intent.succeeded"}"#.into(),
        }
    }

    fn secret(text: &str) -> Secret {
        Secret::new(text.to_owned())
    }

    const T: i64 = 1_764_385_200;

    #[test]
    fn a_stripe_signature_made_with_the_secret_verifies() {
        let key = secret("whsec_fixture_current");
        let envelope = stripe_envelope(None, T * 1000 + 2_000);
        let header = stripe_signature_header(&key, T, envelope.body.as_bytes());
        let envelope = stripe_envelope(Some(&header), T * 1000 + 2_000);
        assert_eq!(verify_stripe(&envelope, &[&key]), Ok(()));
    }

    #[test]
    fn stripe_accepts_any_v1_against_any_configured_secret() {
        let old = secret("whsec_fixture_previous");
        let new = secret("whsec_fixture_current");
        let body = stripe_envelope(None, 0).body;
        let good = encode_hex(&stripe_signature(
            old.expose().as_bytes(),
            &T.to_string(),
            body.as_bytes(),
        ));
        let header = format!("t={T},v1={},v0=deadbeef,v1={good}", "0".repeat(64));
        let envelope = stripe_envelope(Some(&header), T * 1000);
        assert_eq!(verify_stripe(&envelope, &[&new, &old]), Ok(()));
        assert_eq!(
            verify_stripe(&envelope, &[&new]).unwrap_err().reason,
            FailureReason::BadSignature
        );
    }

    #[test]
    fn stripe_refuses_a_signature_outside_the_tolerance_of_receipt() {
        let key = secret("whsec_fixture_current");
        let body = stripe_envelope(None, 0).body;
        let header = stripe_signature_header(&key, T, body.as_bytes());
        let late = stripe_envelope(Some(&header), (T + 301) * 1000);
        assert_eq!(
            verify_stripe(&late, &[&key]).unwrap_err().reason,
            FailureReason::SignatureExpired
        );
        let early = stripe_envelope(Some(&header), (T - 301) * 1000);
        assert_eq!(
            verify_stripe(&early, &[&key]).unwrap_err().reason,
            FailureReason::SignatureExpired
        );
        let edge = stripe_envelope(Some(&header), (T + 300) * 1000);
        assert_eq!(verify_stripe(&edge, &[&key]), Ok(()));
    }

    #[test]
    fn stripe_refuses_a_tampered_body() {
        let key = secret("whsec_fixture_current");
        let header = stripe_signature_header(&key, T, stripe_envelope(None, 0).body.as_bytes());
        let mut envelope = stripe_envelope(Some(&header), T * 1000);
        envelope.body.push(' ');
        assert_eq!(
            verify_stripe(&envelope, &[&key]).unwrap_err().reason,
            FailureReason::BadSignature
        );
    }

    #[test]
    fn stripe_headers_that_carry_no_signature_are_refused() {
        let key = secret("whsec_fixture_current");
        let reason = |header: Option<&str>| {
            verify_stripe(&stripe_envelope(header, T * 1000), &[&key])
                .unwrap_err()
                .reason
        };
        assert_eq!(reason(None), FailureReason::MissingSignature);
        for header in [
            "",
            "garbage",
            "t=abc,v1=00",
            "v1=00",
            &format!("t={T}"),
            &format!("t={T},t={T},v1={}", "0".repeat(64)),
            &"t=1,".repeat(2000),
        ] {
            assert_eq!(
                reason(Some(header)),
                FailureReason::BadSignature,
                "{header:.40}"
            );
        }
        let envelope = stripe_envelope(Some("t=1,v1=00"), 0);
        assert_eq!(
            verify_stripe(&envelope, &[]).unwrap_err().reason,
            FailureReason::NoSigningSecret
        );
    }

    #[test]
    fn only_paypal_certificate_urls_are_allowed() {
        assert!(paypal_cert_url_allowed(
            "https://api.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-1d93a270"
        ));
        assert!(paypal_cert_url_allowed(
            "https://api-m.sandbox.paypal.com:443/v1/notifications/certs/CERT-1"
        ));
        for url in [
            "http://api.paypal.com/v1/notifications/certs/CERT-1",
            "https://api.paypal.com.evil.example/v1/notifications/certs/CERT-1",
            "https://evil.example/api.paypal.com/v1/notifications/certs/CERT-1",
            "https://user@api.paypal.com/v1/notifications/certs/CERT-1",
            "https://api.paypal.com/v2/other",
            "https://api.paypal.com:8443/v1/notifications/certs/CERT-1",
        ] {
            assert!(!paypal_cert_url_allowed(url), "{url}");
        }
    }
}
