//! The payment providers MarketGrid takes webhooks from.

use std::fmt;
use std::str::FromStr;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Stripe,
    Paypal,
}

impl Provider {
    pub const ALL: [Provider; 2] = [Provider::Stripe, Provider::Paypal];

    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Stripe => "stripe",
            Provider::Paypal => "paypal",
        }
    }

    /// The provider's own name, as a sentence says it: `Stripe`, `PayPal`.
    pub fn name(self) -> &'static str {
        match self {
            Provider::Stripe => "Stripe",
            Provider::Paypal => "PayPal",
        }
    }

    /// The event types the marketplace's payments are made of: what a provider endpoint of a
    /// stage must be subscribed to. The processor records any event type it is sent (an unknown
    /// one with what it carries), but only these move money in the ledger.
    pub fn payment_event_types(self) -> &'static [&'static str] {
        match self {
            Provider::Stripe => &[
                "payment_intent.succeeded",
                "payment_intent.payment_failed",
                "charge.refunded",
                "charge.dispute.created",
                "checkout.session.completed",
                "invoice.paid",
            ],
            Provider::Paypal => &[
                "PAYMENT.CAPTURE.COMPLETED",
                "PAYMENT.CAPTURE.DENIED",
                "PAYMENT.CAPTURE.REFUNDED",
                "PAYMENT.CAPTURE.REVERSED",
                "CUSTOMER.DISPUTE.CREATED",
            ],
        }
    }

    /// The provider a request path such as `/webhook/stripe` (or `/dev/webhook/stripe`) is for.
    pub fn from_path(path: &str) -> Option<Provider> {
        let mut segments = path.trim_end_matches('/').rsplit('/');
        let provider = segments.next()?;
        if segments.next()? != "webhook" {
            return None;
        }
        provider.parse().ok()
    }
}

/// The oldest Stripe API version whose events the processor reads: every field it takes (the
/// amount fields of payment intents, charges, invoices and checkout sessions, `metadata`,
/// `currency`, `created`, `account`) has had its name and meaning since then, and the
/// contract's tests parse events of that shape.
pub const STRIPE_OLDEST_API_VERSION: &str = "2020-08-27";

/// The Stripe API version mgrid renders events at: `mgrid send`'s events, and the endpoints
/// and events of the local stage's provider stand-in, so `doctor` and the bodies agree.
pub const STRIPE_API_VERSION: &str = "2024-06-20";

/// Whether the processor parses events rendered at Stripe API version `version`: a dated
/// version (`2024-06-20`, or with a release name, `2025-03-31.basil`) no older than
/// [`STRIPE_OLDEST_API_VERSION`].
pub fn stripe_api_version_parsed(version: &str) -> bool {
    let date = version.split('.').next().unwrap_or("");
    let dated = date.len() == 10
        && date.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    dated && date >= STRIPE_OLDEST_API_VERSION
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown provider {0:?}: MarketGrid takes webhooks from stripe and paypal")]
pub struct UnknownProvider(pub String);

impl FromStr for Provider {
    type Err = UnknownProvider;
    fn from_str(name: &str) -> Result<Provider, UnknownProvider> {
        match name {
            "stripe" => Ok(Provider::Stripe),
            "paypal" => Ok(Provider::Paypal),
            other => Err(UnknownProvider(other.to_owned())),
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_provider_comes_from_the_last_path_segment_under_webhook() {
        assert_eq!(
            Provider::from_path("/webhook/stripe"),
            Some(Provider::Stripe)
        );
        assert_eq!(
            Provider::from_path("/prod/webhook/paypal/"),
            Some(Provider::Paypal)
        );
        assert_eq!(Provider::from_path("/webhook/adyen"), None);
        assert_eq!(Provider::from_path("/stripe"), None);
        assert_eq!(Provider::from_path(""), None);
    }

    #[test]
    fn stripe_api_versions_are_dated_and_no_older_than_the_oldest_parsed() {
        assert!(stripe_api_version_parsed("2020-08-27"));
        assert!(stripe_api_version_parsed("2024-06-20"));
        assert!(stripe_api_version_parsed("2025-03-31.basil"));
        assert!(!stripe_api_version_parsed("2019-12-03"));
        assert!(!stripe_api_version_parsed("2017-05-25"));
        assert!(!stripe_api_version_parsed("latest"));
        assert!(!stripe_api_version_parsed("2024-6-20"));
        assert!(!stripe_api_version_parsed(""));
    }

    #[test]
    fn names_round_trip() {
        for provider in Provider::ALL {
            assert_eq!(provider.as_str().parse::<Provider>().unwrap(), provider);
        }
        assert!("Stripe".parse::<Provider>().is_err());
    }
}
