//! Key rings: the format of `/marketgrid/<stage>/api-keys/<provider>` and
//! `/marketgrid/<stage>/signing-secrets/<provider>` in SSM (SecureString), and the two rules
//! the authorizer, the processor and `mgrid keys` must agree on: which presented key is valid
//! at a given time, and what a rotation does to a ring.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::clock::EpochMillis;

/// A secret value. It never prints (Debug shows `[redacted]`, there is no Display), and its
/// memory is wiped when dropped.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Secret {
        Secret(value)
    }

    /// The secret itself: for comparison, signing and the one time it is shown to the operator.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A short, stable, non-secret name for the value: `k` and 8 hex digits of its SHA-256.
    pub fn key_id(&self) -> String {
        let digest = Sha256::digest(self.0.as_bytes());
        let hex: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
        format!("k{hex}")
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

/// The key in use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CurrentKey {
    pub id: String,
    pub secret: Secret,
    pub created_at: EpochMillis,
}

/// The key it replaced, accepted until `expires_at` (the overlap window).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PreviousKey {
    pub id: String,
    pub secret: Secret,
    pub created_at: EpochMillis,
    pub expires_at: EpochMillis,
}

/// Which key of a ring matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeySlot {
    Current,
    Previous,
}

/// The format version written today; readers refuse newer versions rather than guess.
pub const KEY_RING_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyRing {
    pub version: u32,
    pub current: CurrentKey,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<PreviousKey>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyRingError {
    #[error("the key ring is not valid JSON of the expected shape: {0}")]
    Malformed(String),
    #[error(
        "the key ring has format version {0}, newer than this build understands ({KEY_RING_VERSION})"
    )]
    TooNew(u32),
}

impl KeyRing {
    /// A ring holding one key.
    pub fn first(secret: Secret, now: EpochMillis) -> KeyRing {
        KeyRing {
            version: KEY_RING_VERSION,
            current: CurrentKey {
                id: secret.key_id(),
                secret,
                created_at: now,
            },
            previous: None,
        }
    }

    pub fn parse(text: &str) -> Result<KeyRing, KeyRingError> {
        // The error text of serde_json can quote input; never let it carry a secret.
        let ring: KeyRing = serde_json::from_str(text).map_err(|e| {
            KeyRingError::Malformed(format!(
                "{} at line {} column {}",
                classify(&e),
                e.line(),
                e.column()
            ))
        })?;
        if ring.version > KEY_RING_VERSION {
            return Err(KeyRingError::TooNew(ring.version));
        }
        Ok(ring)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a key ring always serialises")
    }

    /// The slot of the ring that `presented` matches at `now`, if any. Each key is compared in
    /// constant time, and both keys are always compared.
    pub fn accepts(&self, presented: &str, now: EpochMillis) -> Option<KeySlot> {
        let current = constant_time_eq(presented, self.current.secret.expose());
        let previous = self.previous.as_ref().is_some_and(|previous| {
            constant_time_eq(presented, previous.secret.expose()) && now < previous.expires_at
        });
        if current {
            Some(KeySlot::Current)
        } else if previous {
            Some(KeySlot::Previous)
        } else {
            None
        }
    }

    /// The secrets valid at `now`, current first (signature checks try each).
    pub fn valid_secrets(&self, now: EpochMillis) -> Vec<&Secret> {
        let mut secrets = vec![&self.current.secret];
        if let Some(previous) = self.previous.as_ref().filter(|p| now < p.expires_at) {
            secrets.push(&previous.secret);
        }
        secrets
    }

    /// The ring after rotating to `new` at `now`: the old current key stays valid for `grace`
    /// (none: it is dropped at once), and a previous key whose window has closed is dropped.
    pub fn rotate(ring: Option<&KeyRing>, new: Secret, now: EpochMillis, grace_ms: i64) -> KeyRing {
        let Some(ring) = ring else {
            return KeyRing::first(new, now);
        };
        let previous = (grace_ms > 0).then(|| PreviousKey {
            id: ring.current.id.clone(),
            secret: ring.current.secret.clone(),
            created_at: ring.current.created_at,
            expires_at: now.saturating_add(grace_ms),
        });
        KeyRing {
            version: KEY_RING_VERSION,
            current: CurrentKey {
                id: new.key_id(),
                secret: new,
                created_at: now,
            },
            previous,
        }
    }

    /// The ring with its previous key no longer accepted.
    pub fn revoke_previous(&self) -> KeyRing {
        KeyRing {
            previous: None,
            ..self.clone()
        }
    }
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    // Lengths are not secret (every key of a provider has the same shape).
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

fn classify(error: &serde_json::Error) -> &'static str {
    match error.classify() {
        serde_json::error::Category::Io => "unreadable",
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data => "missing or mistyped field",
        serde_json::error::Category::Eof => "truncated",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;

    fn secret(text: &str) -> Secret {
        Secret::new(text.to_owned())
    }

    #[test]
    fn the_first_rotation_creates_the_ring() {
        let ring = KeyRing::rotate(None, secret("mgk_stripe_one"), 1_000, 24 * HOUR);
        assert_eq!(ring.current.secret.expose(), "mgk_stripe_one");
        assert_eq!(ring.current.created_at, 1_000);
        assert!(ring.previous.is_none());
        assert_eq!(
            ring.accepts("mgk_stripe_one", 1_000),
            Some(KeySlot::Current)
        );
    }

    #[test]
    fn rotation_keeps_the_old_key_for_the_grace_window_only() {
        let first = KeyRing::first(secret("mgk_stripe_one"), 0);
        let now = 10 * HOUR;
        let ring = KeyRing::rotate(Some(&first), secret("mgk_stripe_two"), now, 24 * HOUR);
        assert_eq!(ring.accepts("mgk_stripe_two", now), Some(KeySlot::Current));
        assert_eq!(ring.accepts("mgk_stripe_one", now), Some(KeySlot::Previous));
        assert_eq!(
            ring.accepts("mgk_stripe_one", now + 24 * HOUR - 1),
            Some(KeySlot::Previous)
        );
        assert_eq!(
            ring.accepts("mgk_stripe_one", now + 24 * HOUR),
            None,
            "the window is half-open"
        );
        assert_eq!(
            ring.accepts("mgk_stripe_two", now + 1000 * HOUR),
            Some(KeySlot::Current)
        );
        assert_eq!(ring.previous.as_ref().unwrap().id, first.current.id);
    }

    #[test]
    fn a_zero_grace_revokes_the_old_key_at_once() {
        let first = KeyRing::first(secret("mgk_stripe_one"), 0);
        let ring = KeyRing::rotate(Some(&first), secret("mgk_stripe_two"), HOUR, 0);
        assert!(ring.previous.is_none());
        assert_eq!(ring.accepts("mgk_stripe_one", HOUR), None);
    }

    #[test]
    fn rotating_twice_drops_the_oldest_key() {
        let one = KeyRing::first(secret("mgk_stripe_one"), 0);
        let two = KeyRing::rotate(Some(&one), secret("mgk_stripe_two"), HOUR, 24 * HOUR);
        let three = KeyRing::rotate(Some(&two), secret("mgk_stripe_three"), 2 * HOUR, 24 * HOUR);
        assert_eq!(three.accepts("mgk_stripe_one", 2 * HOUR), None);
        assert_eq!(
            three.accepts("mgk_stripe_two", 2 * HOUR),
            Some(KeySlot::Previous)
        );
        assert_eq!(
            three.accepts("mgk_stripe_three", 2 * HOUR),
            Some(KeySlot::Current)
        );
    }

    #[test]
    fn revoking_the_previous_key_ends_the_overlap() {
        let one = KeyRing::first(secret("mgk_stripe_one"), 0);
        let two = KeyRing::rotate(Some(&one), secret("mgk_stripe_two"), HOUR, 24 * HOUR)
            .revoke_previous();
        assert_eq!(two.accepts("mgk_stripe_one", HOUR), None);
        assert_eq!(two.accepts("mgk_stripe_two", HOUR), Some(KeySlot::Current));
    }

    #[test]
    fn near_misses_are_refused() {
        let ring = KeyRing::first(secret("mgk_stripe_one"), 0);
        for presented in [
            "",
            "mgk_stripe_on",
            "mgk_stripe_one ",
            "MGK_STRIPE_ONE",
            "mgk_stripe_onf",
        ] {
            assert_eq!(ring.accepts(presented, 0), None, "{presented:?}");
        }
    }

    #[test]
    fn valid_secrets_lists_the_previous_only_inside_its_window() {
        let one = KeyRing::first(secret("whsec_fixture_one"), 0);
        let two = KeyRing::rotate(Some(&one), secret("whsec_fixture_two"), 0, HOUR);
        let names = |now| {
            two.valid_secrets(now)
                .iter()
                .map(|s| s.expose().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(0), ["whsec_fixture_two", "whsec_fixture_one"]);
        assert_eq!(names(HOUR), ["whsec_fixture_two"]);
    }

    #[test]
    fn the_stored_format_round_trips_and_names_its_fields() {
        let one = KeyRing::first(secret("mgk_stripe_one"), 5);
        let ring = KeyRing::rotate(Some(&one), secret("mgk_stripe_two"), 7, 9);
        let json = ring.to_json();
        assert_eq!(KeyRing::parse(&json).unwrap(), ring);
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["version"], 1);
        assert_eq!(value["current"]["createdAt"], 7);
        assert_eq!(value["previous"]["expiresAt"], 16);
        assert_eq!(value["previous"]["id"], one.current.id);
    }

    #[test]
    fn a_broken_ring_is_reported_without_its_contents() {
        let error =
            KeyRing::parse(r#"{"version":1,"current":{"secret":"mgk_stripe_leak"}}"#).unwrap_err();
        assert!(!error.to_string().contains("mgk_stripe_leak"), "{error}");
        let error = KeyRing::parse("mgk_stripe_leak_as_plain_text").unwrap_err();
        assert!(!error.to_string().contains("leak"), "{error}");
        let newer = KeyRing {
            version: 2,
            ..KeyRing::first(secret("x"), 0)
        };
        assert_eq!(
            KeyRing::parse(&newer.to_json()),
            Err(KeyRingError::TooNew(2))
        );
    }

    #[test]
    fn secrets_never_print() {
        let ring = KeyRing::first(secret("mgk_stripe_hidden"), 0);
        assert!(!format!("{ring:?}").contains("hidden"));
        assert!(secret("mgk_stripe_hidden").key_id().starts_with('k'));
    }
}
