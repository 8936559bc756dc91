//! One entry point that throws arbitrary bytes at every parser of untrusted input (webhook
//! bodies, signature headers, archive keys, key rings, amounts, times) and checks the
//! invariants that must hold for whatever parses. Used by the cargo-fuzz target (fuzz/) and by
//! a mutation test that runs on stable Rust in CI.

use std::collections::BTreeMap;

use crate::archive::{ArchiveKey, ArchivedWebhook};
use crate::keyring::KeyRing;
use crate::ledger::{envelope_from_item, ledger_item, record_from_item};
use crate::signature::{parse_stripe_signature, verify_stripe};
use crate::{Provider, Secret, TransactionRecord, WebhookEnvelope};

/// Must never panic, whatever `data` is.
pub fn exercise(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    match selector % 6 {
        0 | 1 => webhook(
            if selector % 2 == 0 {
                Provider::Stripe
            } else {
                Provider::Paypal
            },
            &text,
        ),
        2 => {
            if let Ok(signature) = parse_stripe_signature(&text) {
                assert!(!signature.v1.is_empty());
            }
        }
        3 => {
            if let Ok(key) = ArchiveKey::parse(&text) {
                assert_eq!(ArchiveKey::parse(&key.to_string()), Ok(key));
            }
        }
        4 => {
            if let Ok(ring) = KeyRing::parse(&text) {
                assert_eq!(KeyRing::parse(&ring.to_json()), Ok(ring.clone()));
                let _ = ring.accepts(&text, 0);
            }
        }
        _ => {
            let _ = crate::money::minor_units(&text, "USD");
            let _ = crate::clock::parse_rfc3339(&text);
        }
    }
}

fn webhook(provider: Provider, body: &str) {
    let headers = BTreeMap::from([(
        "stripe-signature".to_owned(),
        format!("t=1,v1={}", "0".repeat(64)),
    )]);
    let Ok(envelope) =
        WebhookEnvelope::from_delivery(provider, body.to_owned(), &headers, 1_000, None)
    else {
        return;
    };
    let message = envelope.to_queue_message();
    assert_eq!(
        WebhookEnvelope::from_queue_message(&message.body, &message.attributes).as_ref(),
        Ok(&envelope)
    );
    let _ = verify_stripe(&envelope, &[&Secret::new("whsec_fuzz".into())]);
    let (fast, general) = crate::record::normalise_both_ways(&envelope);
    if let Some(fast) = fast {
        assert_eq!(fast, general, "the fast and the general parse disagree");
    }
    if let Ok(record) = TransactionRecord::from_envelope(&envelope) {
        let item = ledger_item(&record, &envelope);
        assert_eq!(record_from_item(&item).as_ref(), Ok(&record));
        assert_eq!(envelope_from_item(&item).as_ref(), Ok(&envelope));
        let key = ArchiveKey::for_envelope(&envelope);
        assert_eq!(
            ArchivedWebhook::parse(&key, &ArchivedWebhook::to_json(&envelope)).as_ref(),
            Ok(&envelope)
        );
    }
}
