//! The payment providers' own APIs: what Stripe and PayPal hold about a stage (its webhook
//! endpoints, their URLs with the stage's key, their subscriptions), read and changed with the
//! stage's provider token (`client`), and a stand-in of both (`standin`) that `mgrid dev` runs
//! and the tests drive, answering in the shapes of the providers' published OpenAPI documents.

pub mod client;
pub mod standin;

/// Stripe's API.
pub const STRIPE_API: &str = "https://api.stripe.com";
/// PayPal's REST API (live).
pub const PAYPAL_API: &str = "https://api-m.paypal.com";

/// Where a provider's API answers: the real one, or under a stand-in's base, which serves both
/// at `<base>/stripe` and `<base>/paypal`.
pub fn api_base(provider: mgrid_contract::Provider, stand_in: Option<&str>) -> String {
    match (stand_in, provider) {
        (Some(base), provider) => format!("{}/{provider}", base.trim_end_matches('/')),
        (None, mgrid_contract::Provider::Stripe) => STRIPE_API.to_owned(),
        (None, mgrid_contract::Provider::Paypal) => PAYPAL_API.to_owned(),
    }
}

/// A provider's message with anything that may be a credential or a key taken out: Stripe quotes
/// a masked key in its 401 text, and a URL in an error may carry `?key=`.
pub fn scrub(message: &str) -> String {
    let mut words = Vec::new();
    for word in message.split(' ') {
        let bare = word.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '_');
        let credential = ["sk_", "rk_", "pk_", "whsec_", "mgk_", "Bearer", "Basic"]
            .iter()
            .any(|prefix| bare.starts_with(prefix));
        if credential {
            words.push("[redacted]".to_owned());
        } else if let Some(at) = word.find("key=") {
            words.push(format!("{}key=[redacted]", &word[..at]));
        } else {
            words.push(word.to_owned());
        }
    }
    mgrid_contract::untrusted::printable(&words.join(" ")).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrubbing_takes_out_keys_and_credentials() {
        let said = scrub(
            "Invalid API Key provided: rk_test_****abcd; see https://h/webhook/stripe?key=mgk_stripe_x for 'sk_live_1'",
        );
        assert!(!said.contains("abcd") && !said.contains("mgk_") && !said.contains("sk_live"));
        assert!(said.contains("Invalid API Key provided"), "{said}");
    }

    #[test]
    fn a_stand_in_serves_both_providers_under_its_base() {
        use mgrid_contract::Provider;
        assert_eq!(
            api_base(Provider::Stripe, Some("http://127.0.0.1:9/")),
            "http://127.0.0.1:9/stripe"
        );
        assert_eq!(api_base(Provider::Paypal, None), PAYPAL_API);
    }
}
