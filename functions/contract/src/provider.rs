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
    fn names_round_trip() {
        for provider in Provider::ALL {
            assert_eq!(provider.as_str().parse::<Provider>().unwrap(), provider);
        }
        assert!("Stripe".parse::<Provider>().is_err());
    }
}
