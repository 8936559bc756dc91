//! Why a webhook could not be recorded. The processor dead-letters a message with one of these
//! at once (they never get better on retry); `mgrid dlq` filters and counts by them. The names
//! are a contract: they are message attributes and metric dimensions.

use std::fmt;
use std::str::FromStr;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum FailureReason {
    /// The body is not a JSON object, or lacks the event type.
    MalformedBody,
    /// The queue message lacks the attributes the ingress sets.
    MalformedMessage,
    MissingEventId,
    /// An event id with characters that no provider uses (and that could escape an archive key).
    InvalidEventId,
    UnknownProvider,
    MissingSignature,
    BadSignature,
    /// The signature's timestamp is too far from when the webhook was received (a replay).
    SignatureExpired,
    /// The stage has no signing secret for the provider; set one, then redrive.
    NoSigningSecret,
    /// PayPal named a certificate URL outside PayPal's hosts.
    UntrustedCertificate,
    /// An amount that is not an exact number of minor units.
    InvalidAmount,
    /// The webhook does not fit in a ledger item (400 KB).
    TooLarge,
}

impl FailureReason {
    pub const ALL: [FailureReason; 12] = [
        FailureReason::MalformedBody,
        FailureReason::MalformedMessage,
        FailureReason::MissingEventId,
        FailureReason::InvalidEventId,
        FailureReason::UnknownProvider,
        FailureReason::MissingSignature,
        FailureReason::BadSignature,
        FailureReason::SignatureExpired,
        FailureReason::NoSigningSecret,
        FailureReason::UntrustedCertificate,
        FailureReason::InvalidAmount,
        FailureReason::TooLarge,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FailureReason::MalformedBody => "malformed-body",
            FailureReason::MalformedMessage => "malformed-message",
            FailureReason::MissingEventId => "missing-event-id",
            FailureReason::InvalidEventId => "invalid-event-id",
            FailureReason::UnknownProvider => "unknown-provider",
            FailureReason::MissingSignature => "missing-signature",
            FailureReason::BadSignature => "bad-signature",
            FailureReason::SignatureExpired => "signature-expired",
            FailureReason::NoSigningSecret => "no-signing-secret",
            FailureReason::UntrustedCertificate => "untrusted-certificate",
            FailureReason::InvalidAmount => "invalid-amount",
            FailureReason::TooLarge => "too-large",
        }
    }
}

impl fmt::Display for FailureReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown failure reason {0:?}")]
pub struct UnknownFailureReason(pub String);

impl FromStr for FailureReason {
    type Err = UnknownFailureReason;
    fn from_str(name: &str) -> Result<FailureReason, UnknownFailureReason> {
        FailureReason::ALL
            .into_iter()
            .find(|reason| reason.as_str() == name)
            .ok_or_else(|| UnknownFailureReason(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_serde() {
        for reason in FailureReason::ALL {
            assert_eq!(reason.as_str().parse::<FailureReason>().unwrap(), reason);
            assert_eq!(serde_json::to_value(reason).unwrap(), reason.as_str());
        }
    }
}
