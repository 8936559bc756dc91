//! Provider keys as operators handle them: new API keys from random bytes the caller reads, overlap
//! windows, and the plan of a rotation (what is created, kept, dropped), decided by pure
//! functions around the contract's `KeyRing::rotate`, the rule the authorizer also applies.

use std::fmt;

use mgrid_contract::keyring::{KeyRing, Secret};
use mgrid_contract::{EpochMillis, Provider};
use serde::Serialize;

/// An API key made of 32 random bytes (256 bits; the caller reads them from the OS random source,
/// `ids::random_bytes`), as `mgk_<provider>_<43 url-safe characters>`: recognisable in a leak
/// report, and safe in a URL's query string.
pub fn api_key_from(provider: Provider, random: &[u8; 32]) -> Secret {
    use base64::Engine;
    Secret::new(format!(
        "mgk_{provider}_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random)
    ))
}

/// An overlap window: `24h`, `30m`, `7d`, `90s`, or `0` (none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grace(pub EpochMillis);

impl std::str::FromStr for Grace {
    type Err = String;
    fn from_str(text: &str) -> Result<Grace, String> {
        crate::decide::spans::parse_span(text, 30)
            .map(Grace)
            .map_err(|e| {
                if e.contains("longer than") {
                    format!("{e}; an old key should not live that long")
                } else {
                    e
                }
            })
    }
}

impl fmt::Display for Grace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0;
        match ms {
            0 => f.write_str("none"),
            _ if ms % 86_400_000 == 0 => write!(f, "{}d", ms / 86_400_000),
            _ if ms % 3_600_000 == 0 => write!(f, "{}h", ms / 3_600_000),
            _ if ms % 60_000 == 0 => write!(f, "{}m", ms / 60_000),
            _ => write!(f, "{}s", ms / 1000),
        }
    }
}

/// What a rotation will do to a ring, before it is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct RotationPlan {
    /// The ring did not exist: this is the first key.
    pub first: bool,
    pub new_key_id: String,
    /// The key that stays valid for the overlap, and until when.
    pub kept: Option<(String, EpochMillis)>,
    /// Keys that stop being accepted at once.
    pub revoked: Vec<String>,
}

/// The new ring and its plan: the contract's rotation rule, with what it means spelled out.
pub fn plan_rotation(
    old: Option<&KeyRing>,
    new: Secret,
    now: EpochMillis,
    grace: Grace,
) -> (KeyRing, RotationPlan) {
    let ring = KeyRing::rotate(old, new, now, grace.0);
    let mut revoked = Vec::new();
    if let Some(old) = old {
        if grace.0 == 0 {
            revoked.push(old.current.id.clone());
        }
        if let Some(previous) = old.previous.as_ref().filter(|p| p.expires_at > now) {
            revoked.push(previous.id.clone());
        }
    }
    let plan = RotationPlan {
        first: old.is_none(),
        new_key_id: ring.current.id.clone(),
        kept: ring.previous.as_ref().map(|p| (p.id.clone(), p.expires_at)),
        revoked,
    };
    (ring, plan)
}

/// The plan of a rotation that finishes an earlier one: that rotation stored its key and did not
/// reach the provider, so the ring stays as it is and its current key is pushed again.
pub fn plan_finishing(stored: &KeyRing) -> (KeyRing, RotationPlan, Secret) {
    let plan = RotationPlan {
        first: false,
        new_key_id: stored.current.id.clone(),
        kept: stored
            .previous
            .as_ref()
            .map(|p| (p.id.clone(), p.expires_at)),
        revoked: Vec::new(),
    };
    (stored.clone(), plan, stored.current.secret.clone())
}

/// "60 s": how long the functions cache a key ring (the functions' own constant).
pub fn cache_time() -> String {
    format!("{} s", mgrid_pipeline::cache::KEY_RING_TTL_MS / 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;

    fn secret(text: &str) -> Secret {
        Secret::new(text.to_owned())
    }

    #[test]
    fn new_keys_are_long_random_and_url_safe() {
        let a = api_key_from(Provider::Stripe, &[1; 32]);
        let b = api_key_from(Provider::Stripe, &[2; 32]);
        assert_ne!(a, b);
        assert!(a.expose().starts_with("mgk_stripe_"));
        let tail = &a.expose()["mgk_stripe_".len()..];
        assert_eq!(tail.len(), 43, "32 bytes of randomness");
        assert!(
            tail.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert!(
            api_key_from(Provider::Paypal, &[0xff; 32])
                .expose()
                .starts_with("mgk_paypal_")
        );
    }

    #[test]
    fn grace_windows_parse_and_print() {
        assert_eq!("24h".parse(), Ok(Grace(24 * HOUR)));
        assert_eq!("0".parse(), Ok(Grace(0)));
        assert_eq!("90s".parse(), Ok(Grace(90_000)));
        assert_eq!("7d".parse::<Grace>().unwrap().to_string(), "7d");
        assert_eq!(Grace(90 * 60_000).to_string(), "90m");
        // Spans are jiff's friendly format: weeks and fractions are words people type.
        assert_eq!("1w".parse::<Grace>().unwrap().to_string(), "7d");
        assert_eq!("1.5h".parse::<Grace>().unwrap().to_string(), "90m");
        for bad in ["", "24", "h", "-1h", "31d", "1mo", "99999999999999999d"] {
            assert!(bad.parse::<Grace>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_first_rotation_makes_the_ring() {
        let (ring, plan) = plan_rotation(None, secret("mgk_stripe_one"), 1_000, Grace(24 * HOUR));
        assert!(plan.first);
        assert_eq!(plan.kept, None);
        assert!(plan.revoked.is_empty());
        assert_eq!(ring.current.id, plan.new_key_id);
    }

    #[test]
    fn a_rotation_keeps_the_old_key_for_the_grace_and_says_what_it_drops() {
        let one = KeyRing::first(secret("mgk_stripe_one"), 0);
        let (two, plan) =
            plan_rotation(Some(&one), secret("mgk_stripe_two"), HOUR, Grace(24 * HOUR));
        assert_eq!(plan.kept, Some((one.current.id.clone(), 25 * HOUR)));
        assert!(plan.revoked.is_empty());
        // Rotating again inside the window drops the oldest key early, and says so.
        let (_, plan) = plan_rotation(
            Some(&two),
            secret("mgk_stripe_three"),
            2 * HOUR,
            Grace(24 * HOUR),
        );
        assert_eq!(plan.revoked, std::slice::from_ref(&one.current.id));
        // An expired previous key is dropped without mention: it was no longer accepted.
        let (_, plan) = plan_rotation(
            Some(&two),
            secret("mgk_stripe_three"),
            25 * HOUR,
            Grace(24 * HOUR),
        );
        assert!(plan.revoked.is_empty());
    }

    #[test]
    fn a_zero_grace_revokes_the_current_key_at_once() {
        let one = KeyRing::first(secret("mgk_stripe_one"), 0);
        let (ring, plan) = plan_rotation(Some(&one), secret("mgk_stripe_two"), HOUR, Grace(0));
        assert_eq!(plan.revoked, std::slice::from_ref(&one.current.id));
        assert_eq!(ring.accepts("mgk_stripe_one", HOUR), None);
    }
}
