//! `mgrid doctor`'s judgement: a stage's health as each provider sees it, from what the
//! provider's API says of its webhook endpoints and what the stage's key rings hold. One finding
//! per check, each with a verdict and, when it is not fine, what to do.

use std::fmt;

use mgrid_contract::keyring::{KeyRing, KeySlot};
use mgrid_contract::provider::{STRIPE_OLDEST_API_VERSION, stripe_api_version_parsed};
use mgrid_contract::webhook_url::UrlKey;
use mgrid_contract::{EpochMillis, Provider, Secret, StageName};
use serde::Serialize;

use crate::decide::values::ProviderEndpoint;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
#[cfg_attr(test, schemars(rename = "Verdict"))]
pub enum Health {
    Ok,
    /// Works today, but will not for long or not as expected.
    Warning,
    /// Webhooks are refused, lost or dead-lettered because of it.
    Problem,
    /// Could not be checked (no token, the provider did not answer).
    Unchecked,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    /// The stage's credentials for the provider's API.
    ProviderToken,
    /// Exactly one endpoint points at the stage.
    Endpoint,
    /// The provider delivers to it.
    Enabled,
    /// The key in its URL is one the stage accepts.
    Key,
    /// It is subscribed to the payment events.
    Events,
    /// The API version its events are rendered at (Stripe).
    ApiVersion,
    /// The signing secret the processor verifies with.
    SigningSecret,
    /// The WAF and the authorizer let the provider's addresses through.
    Waf,
    /// A webhook of the provider was recorded lately.
    LastDelivery,
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Check::ProviderToken => "provider token",
            Check::Endpoint => "endpoint",
            Check::Enabled => "enabled",
            Check::Key => "key in URL",
            Check::Events => "events",
            Check::ApiVersion => "API version",
            Check::SigningSecret => "signing secret",
            Check::Waf => "WAF",
            Check::LastDelivery => "last delivery",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub provider: Provider,
    pub check: Check,
    pub verdict: Health,
    /// What was found, in a sentence (never a key or a token).
    pub said: String,
    /// The endpoint it is about (the provider's id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// What to do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

impl Finding {
    pub fn new(
        provider: Provider,
        check: Check,
        verdict: Health,
        said: String,
        endpoint: Option<&str>,
        next: Option<String>,
    ) -> Finding {
        Finding {
            provider,
            check,
            verdict,
            said,
            endpoint: endpoint.map(str::to_owned),
            next,
        }
    }
}

/// What is known of one provider for a stage.
pub struct ProviderFacts<'a> {
    pub provider: Provider,
    pub stage: &'a StageName,
    /// The stage's webhook URL for the provider, without a key.
    pub webhook_url: &'a str,
    /// The provider's endpoints; None: no token to read them with; Err: why they could not be read.
    pub endpoints: Option<Result<&'a [ProviderEndpoint], String>>,
    pub api_keys: Option<&'a KeyRing>,
    pub signing_secrets: Option<&'a KeyRing>,
    /// Whether the stage can verify this provider's signatures at all (not PayPal's on the
    /// local stage: its certificates are on the internet).
    pub signatures_verified: bool,
    pub now: EpochMillis,
}

/// Every finding for one provider.
pub fn examine(facts: &ProviderFacts<'_>) -> Vec<Finding> {
    let provider = facts.provider;
    let stage = facts.stage;
    let finding = |check, verdict, said: String, endpoint: Option<&str>, next: Option<String>| {
        Finding::new(provider, check, verdict, said, endpoint, next)
    };
    let mut findings = Vec::new();
    let endpoints = match &facts.endpoints {
        None => {
            findings.push(finding(
                Check::ProviderToken,
                Health::Unchecked,
                format!("no {provider} token is set for the stage: its endpoints were not read"),
                None,
                Some(format!(
                    "mgrid keys set-provider-token {provider} --stage {stage} ({})",
                    token_needs(provider)
                )),
            ));
            None
        }
        Some(Err(why)) => {
            findings.push(finding(
                Check::ProviderToken,
                Health::Unchecked,
                format!("the endpoints could not be read: {why}"),
                None,
                None,
            ));
            None
        }
        Some(Ok(endpoints)) => Some(*endpoints),
    };
    if let Some(endpoints) = endpoints {
        findings.extend(examine_endpoints(facts, endpoints));
    }
    findings.push(signing_secret(facts, endpoints));
    findings
}

/// What a provider token must be allowed.
pub fn token_needs(provider: Provider) -> &'static str {
    match provider {
        Provider::Stripe => {
            "a restricted key with Webhook Endpoints read, and write for `keys rotate --update-provider`"
        }
        Provider::Paypal => "the REST app's client id and secret, as <client id>:<secret>",
    }
}

fn examine_endpoints(facts: &ProviderFacts<'_>, endpoints: &[ProviderEndpoint]) -> Vec<Finding> {
    let provider = facts.provider;
    let stage = facts.stage;
    let mut findings = Vec::new();
    let ours: Vec<&ProviderEndpoint> = endpoints
        .iter()
        .filter(|e| e.points_at(facts.webhook_url))
        .collect();
    let finding = |check, verdict, said: String, endpoint: Option<&str>, next: Option<String>| {
        Finding::new(provider, check, verdict, said, endpoint, next)
    };
    match ours.as_slice() {
        [] => {
            let elsewhere: Vec<String> = endpoints
                .iter()
                .filter(|e| {
                    e.delivery()
                        .address
                        .ends_with(&format!("/webhook/{provider}"))
                })
                .map(|e| format!("{} → {}", e.id, e.shown_url()))
                .collect();
            let said = if elsewhere.is_empty() {
                format!(
                    "none of the {} endpoints {} holds points at {}: nothing is delivered to this stage",
                    endpoints.len(),
                    provider.name(),
                    facts.webhook_url
                )
            } else {
                format!(
                    "no endpoint points at {}; {} point at another URL (an old stage?): {}",
                    facts.webhook_url,
                    elsewhere.len(),
                    elsewhere.join(", ")
                )
            };
            findings.push(finding(
                Check::Endpoint,
                Health::Problem,
                said,
                None,
                Some(format!(
                    "register {}?key=<the current key> at {} (`mgrid keys rotate {provider} --stage {stage}` shows the URL to register), or correct the old one's URL",
                    facts.webhook_url,
                    provider.name()
                )),
            ));
            return findings;
        }
        [_] => {}
        several => {
            let ids: Vec<&str> = several.iter().map(|e| e.id.as_str()).collect();
            findings.push(finding(
                Check::Endpoint,
                Health::Problem,
                format!(
                    "{} endpoints point at this stage ({}): each event is delivered {} times (the ledger keeps one; the queue, the logs and the bill see all)",
                    several.len(),
                    ids.join(", "),
                    several.len()
                ),
                None,
                Some(format!("delete all but one at {}", provider.name())),
            ));
        }
    }
    for endpoint in ours {
        let id = Some(endpoint.id.as_str());
        if several_ok(&findings) {
            findings.push(finding(
                Check::Endpoint,
                Health::Ok,
                format!("points at this stage: {}", endpoint.shown_url()),
                id,
                None,
            ));
        }
        findings.push(if endpoint.enabled {
            finding(Check::Enabled, Health::Ok, format!("status {}", endpoint.status), id, None)
        } else {
            finding(
                Check::Enabled,
                Health::Problem,
                format!(
                    "{} does not deliver to it (status {}): {} disables an endpoint after days of failed deliveries, or someone did",
                    provider.name(),
                    endpoint.status,
                    provider.name()
                ),
                id,
                Some(format!(
                    "fix what failed (`mgrid doctor` and `mgrid logs --stage {stage}`), enable it again in the {} dashboard, then `mgrid reconcile` what it did not deliver",
                    provider.name()
                )),
            )
        });
        findings.push(key_finding(facts, endpoint));
        findings.push(events_finding(provider, endpoint));
        if provider == Provider::Stripe {
            findings.push(api_version_finding(endpoint));
        }
    }
    findings
}

fn several_ok(findings: &[Finding]) -> bool {
    !findings.iter().any(|f| f.check == Check::Endpoint)
}

fn key_finding(facts: &ProviderFacts<'_>, endpoint: &ProviderEndpoint) -> Finding {
    let provider = facts.provider;
    let stage = facts.stage;
    let finding = |verdict, said: String, next: Option<String>| Finding {
        provider,
        check: Check::Key,
        verdict,
        said,
        endpoint: Some(endpoint.id.clone()),
        next,
    };
    let fix = format!("mgrid keys rotate {provider} --update-provider --stage {stage}");
    let key = match endpoint.delivery().key {
        UrlKey::One(key) => Secret::new(key),
        UrlKey::Missing => {
            return finding(
                Health::Problem,
                "its URL carries no key (a key after `#` is never sent): the authorizer refuses every delivery (401)".into(),
                Some(fix),
            );
        }
        UrlKey::Repeated => {
            return finding(
                Health::Problem,
                "its URL carries `key=` more than once: the authorizer refuses every delivery (403)".into(),
                Some(fix),
            );
        }
    };
    let Some(ring) = facts.api_keys else {
        return finding(
            Health::Problem,
            format!(
                "the stage has no {provider} API key ring: the authorizer refuses every delivery"
            ),
            Some(format!(
                "mgrid keys rotate {provider} --update-provider --stage {stage}"
            )),
        );
    };
    match ring.accepts(key.expose(), facts.now) {
        Some(KeySlot::Current) => finding(
            Health::Ok,
            format!("carries the current key {}", ring.current.id),
            None,
        ),
        Some(KeySlot::Previous) => {
            let until = ring.previous.as_ref().map_or(facts.now, |p| p.expires_at);
            finding(
                Health::Warning,
                format!(
                    "carries the previous key {}, accepted for {} more (until {}); then every delivery is refused",
                    key.key_id(),
                    left(until - facts.now),
                    mgrid_contract::clock::format_rfc3339(until)
                ),
                Some(format!(
                    "{fix} (it finishes the rotation: the endpoint gets the current key, no new key is made)"
                )),
            )
        }
        None => finding(
            Health::Problem,
            format!(
                "carries key {}, which the stage does not accept (revoked or from another stage): every delivery is refused (401)",
                key.key_id()
            ),
            Some(fix),
        ),
    }
}

fn events_finding(provider: Provider, endpoint: &ProviderEndpoint) -> Finding {
    let wanted = provider.payment_event_types();
    let all = endpoint.events.iter().any(|e| e == "*");
    let missing: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|w| !all && !endpoint.events.iter().any(|e| e == w))
        .collect();
    let unhandled: Vec<&str> = endpoint
        .events
        .iter()
        .map(String::as_str)
        .filter(|e| *e != "*" && !wanted.contains(e))
        .collect();
    let (verdict, said, next) = if !missing.is_empty() {
        (
            Health::Problem,
            format!(
                "not subscribed to {}: those payments never reach the ledger",
                missing.join(", ")
            ),
            Some(format!(
                "add them to the endpoint's events at {}",
                provider.name()
            )),
        )
    } else if all {
        (
            Health::Warning,
            "subscribed to every event type (*): the ledger records every event the account has, payments or not".to_owned(),
            Some(format!("subscribe to the payment events only: {}", wanted.join(", "))),
        )
    } else if !unhandled.is_empty() {
        (
            Health::Warning,
            format!(
                "subscribed to every payment event, and to {} that no payment is made of (recorded without an amount meaning)",
                unhandled.join(", ")
            ),
            Some("remove them from the endpoint's events unless someone reads them".to_owned()),
        )
    } else {
        (
            Health::Ok,
            format!("subscribed to the {} payment events", wanted.len()),
            None,
        )
    };
    Finding {
        provider,
        check: Check::Events,
        verdict,
        said,
        endpoint: Some(endpoint.id.clone()),
        next,
    }
}

fn api_version_finding(endpoint: &ProviderEndpoint) -> Finding {
    let (verdict, said, next) = match endpoint.api_version.as_deref() {
        Some(version) if stripe_api_version_parsed(version) => (
            Health::Ok,
            format!("events rendered at API version {version}"),
            None,
        ),
        Some(version) => (
            Health::Problem,
            format!(
                "events rendered at API version {}, which the processor does not read (it reads {STRIPE_OLDEST_API_VERSION} and later): amounts may be missing or misread",
                mgrid_contract::untrusted::printable(version)
            ),
            Some(
                "create a new endpoint at a current API version, then delete this one".to_owned(),
            ),
        ),
        None => (
            Health::Warning,
            "events rendered at the account's default API version: upgrading the account changes what the processor receives".into(),
            Some("pin the endpoint to an API version (create it with api_version)".into()),
        ),
    };
    Finding {
        provider: Provider::Stripe,
        check: Check::ApiVersion,
        verdict,
        said,
        endpoint: Some(endpoint.id.clone()),
        next,
    }
}

fn signing_secret(facts: &ProviderFacts<'_>, endpoints: Option<&[ProviderEndpoint]>) -> Finding {
    let provider = facts.provider;
    let stage = facts.stage;
    let finding = |verdict, said: String, next: Option<String>| Finding {
        provider,
        check: Check::SigningSecret,
        verdict,
        said,
        endpoint: None,
        next,
    };
    let set = format!("mgrid keys set-signing-secret {provider} --stage {stage}");
    if !facts.signatures_verified {
        return finding(
            Health::Warning,
            format!(
                "this stage cannot verify {provider}'s signatures ({}'s certificates are on the internet): its {provider} webhooks are dead-lettered here whatever is set",
                provider.name()
            ),
            None,
        );
    }
    let Some(ring) = facts.signing_secrets else {
        return finding(
            Health::Problem,
            format!(
                "no {provider} signing secret is set: the processor dead-letters every {provider} webhook (bad-signature)"
            ),
            Some(set),
        );
    };
    match provider {
        Provider::Stripe => finding(
            Health::Ok,
            format!(
                "set ({}); Stripe's API does not return an endpoint's secret after it is created, so whether it is the endpoint's cannot be read here (`mgrid dlq stats` shows bad-signature failures)",
                ring.current.id
            ),
            None,
        ),
        Provider::Paypal => {
            // PayPal's "secret" is the webhook's id: the signature check asks for it.
            let ours: Vec<&ProviderEndpoint> = endpoints
                .unwrap_or_default()
                .iter()
                .filter(|e| e.points_at(facts.webhook_url))
                .collect();
            let Some(endpoint) = ours.first() else {
                return finding(
                    Health::Ok,
                    format!("set ({}); no endpoint to compare it with", ring.current.id),
                    None,
                );
            };
            let valid = ring.valid_secrets(facts.now);
            if ring.current.secret.expose() == endpoint.id {
                finding(
                    Health::Ok,
                    format!("the webhook id of {}", endpoint.id),
                    None,
                )
            } else if valid.iter().any(|s| s.expose() == endpoint.id) {
                finding(
                    Health::Warning,
                    format!(
                        "the endpoint {} is the previous webhook id; the current one names another webhook",
                        endpoint.id
                    ),
                    Some(set),
                )
            } else {
                finding(
                    Health::Problem,
                    format!(
                        "the stage verifies with another webhook id than {}, the webhook pointing here: the processor dead-letters every PayPal webhook (bad-signature)",
                        endpoint.id
                    ),
                    Some(format!("echo {} | {set}", endpoint.id)),
                )
            }
        }
    }
}

/// The design peak, 10,000 webhooks a minute, in the WAF's five-minute window: all of it may
/// come from one of the provider's addresses.
pub const PEAK_PER_FIVE_MINUTES: u64 = 50_000;

/// Whether the WAF (a per-address rate limit of `limit` per 5 minutes, None: the stage has no
/// WAF) and the authorizer let the provider's deliveries through.
pub fn waf(provider: Provider, limit: Option<u64>) -> Finding {
    let (verdict, said, next) = match limit {
        None => (
            Health::Ok,
            "no WAF on this stage; the authorizer checks keys, not addresses".to_owned(),
            None,
        ),
        Some(limit) if limit >= PEAK_PER_FIVE_MINUTES => (
            Health::Ok,
            format!(
                "the WAF blocks no address by name ({}'s published ranges pass) and rate-limits one at {limit} requests in 5 minutes, above the design peak of {PEAK_PER_FIVE_MINUTES}; the authorizer checks keys, not addresses",
                provider.name()
            ),
            None,
        ),
        Some(limit) => (
            Health::Warning,
            format!(
                "the WAF blocks an address after {limit} requests in 5 minutes: {} delivers from a few published addresses, so a peak of 10,000 a minute ({PEAK_PER_FIVE_MINUTES} in 5 minutes) is refused (403) and arrives only with the provider's retries",
                provider.name()
            ),
            Some(format!(
                "set waf_rate_limit = {PEAK_PER_FIVE_MINUTES} (or more) for the stage in mgrid.toml and deploy"
            )),
        ),
    };
    Finding {
        provider,
        check: Check::Waf,
        verdict,
        said,
        endpoint: None,
        next,
    }
}

/// When a webhook of the provider was last seen recorded within `window` (None: none was), or
/// why the logs could not say.
pub fn last_delivery(
    provider: Provider,
    stage: &StageName,
    seen: Result<Option<EpochMillis>, String>,
    window: EpochMillis,
    now: EpochMillis,
) -> Finding {
    let (verdict, said, next) = match seen {
        Ok(Some(at)) => (
            Health::Ok,
            format!(
                "a {provider} webhook was recorded {} ago ({})",
                left(now - at),
                mgrid_contract::clock::format_rfc3339(at)
            ),
            None,
        ),
        Ok(None) => (
            Health::Warning,
            format!(
                "no {provider} webhook was recorded in the last {}: a quiet stage, or deliveries that never arrive",
                left(window)
            ),
            Some(format!(
                "the lines above; `mgrid logs --stage {stage} api authorizer --since {}` shows refused requests",
                left(window).replace(' ', "")
            )),
        ),
        Err(why) => (
            Health::Unchecked,
            format!("the processor's log could not be read: {why}"),
            None,
        ),
    };
    Finding {
        provider,
        check: Check::LastDelivery,
        verdict,
        said,
        endpoint: None,
        next,
    }
}

/// A duration left, as people say it: `3h 20m`, `12m`, `40s`.
fn left(millis: EpochMillis) -> String {
    let seconds = (millis / 1000).max(0);
    match seconds {
        s if s >= 3600 && (s % 3600) / 60 == 0 => format!("{}h", s / 3600),
        s if s >= 3600 => format!("{}h {}m", s / 3600, (s % 3600) / 60),
        s if s >= 60 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mgrid_contract::Secret;

    const URL: &str = "https://api.example.test/prod/webhook/stripe";
    const HOUR: i64 = 3_600_000;

    fn endpoint(url: &str) -> ProviderEndpoint {
        ProviderEndpoint {
            id: "we_1".into(),
            url: Secret::new(url.into()),
            enabled: true,
            status: "enabled".into(),
            events: Provider::Stripe
                .payment_event_types()
                .iter()
                .map(|e| e.to_string())
                .collect(),
            api_version: Some("2024-06-20".into()),
        }
    }

    fn ring() -> KeyRing {
        let first = KeyRing::first(Secret::new("mgk_stripe_old".into()), 0);
        KeyRing::rotate(
            Some(&first),
            Secret::new("mgk_stripe_new".into()),
            HOUR,
            24 * HOUR,
        )
    }

    fn examine_one(endpoints: &[ProviderEndpoint], now: EpochMillis) -> Vec<Finding> {
        let stage: StageName = "prod".parse().unwrap();
        let keys = ring();
        let secrets = KeyRing::first(Secret::new("whsec_x".into()), 0);
        examine(&ProviderFacts {
            provider: Provider::Stripe,
            stage: &stage,
            webhook_url: URL,
            endpoints: Some(Ok(endpoints)),
            api_keys: Some(&keys),
            signing_secrets: Some(&secrets),
            signatures_verified: true,
            now,
        })
    }

    fn verdict(findings: &[Finding], check: Check) -> Health {
        findings
            .iter()
            .find(|f| f.check == check)
            .map(|f| f.verdict)
            .unwrap_or_else(|| panic!("no {check} finding in {findings:#?}"))
    }

    #[test]
    fn a_healthy_endpoint_is_ok_on_every_line() {
        let findings = examine_one(&[endpoint(&format!("{URL}?key=mgk_stripe_new"))], 2 * HOUR);
        assert!(
            findings.iter().all(|f| f.verdict == Health::Ok),
            "{findings:#?}"
        );
        let shown = serde_json::to_string(&findings).unwrap();
        assert!(
            !shown.contains("mgk_stripe_new"),
            "a key was shown: {shown}"
        );
    }

    /// Each form of a URL is judged as the ingress judges a delivery through it: a fragment is
    /// never sent (401), a key twice is refused (403), a percent-encoded key is the key, and a
    /// scheme or host in capitals is the same address.
    #[test]
    fn every_form_of_an_endpoint_url_is_judged_as_the_ingress_judges_its_deliveries() {
        let upper = URL.replace("https://api.example.test", "HTTPS://API.Example.TEST");
        let table = [
            (
                format!("{URL}?key=mgk_stripe_new"),
                Health::Ok,
                "current key",
            ),
            (
                format!("{URL}?key=mgk%5Fstripe%5Fnew"),
                Health::Ok,
                "current key",
            ),
            (
                format!("{upper}?key=mgk_stripe_new"),
                Health::Ok,
                "current key",
            ),
            (
                format!("{URL}/?key=mgk_stripe_new"),
                Health::Ok,
                "current key",
            ),
            (
                format!("{URL}?x=1#key=mgk_stripe_new"),
                Health::Problem,
                "(401)",
            ),
            (
                format!("{URL}#key=mgk_stripe_new"),
                Health::Problem,
                "(401)",
            ),
            (
                format!("{URL}?key=mgk_stripe_new&key=mgk_stripe_new"),
                Health::Problem,
                "(403)",
            ),
        ];
        for (url, expected, said) in table {
            let findings = examine_one(&[endpoint(&url)], 2 * HOUR);
            let key = findings
                .iter()
                .find(|f| f.check == Check::Key)
                .unwrap_or_else(|| panic!("{url}: no key finding in {findings:#?}"));
            assert_eq!(key.verdict, expected, "{url}: {}", key.said);
            assert!(key.said.contains(said), "{url}: {}", key.said);
        }
        // The revoke guard's reading: the previous key, percent-encoded, is still carried.
        let encoded = endpoint(&format!("{URL}?key=mgk%5Fstripe%5Fold"));
        assert_eq!(encoded.key(), Some(Secret::new("mgk_stripe_old".into())));
        assert!(encoded.points_at(&upper));
    }

    #[test]
    fn the_previous_key_warns_with_the_time_left_and_a_revoked_one_is_a_problem() {
        let old = [endpoint(&format!("{URL}?key=mgk_stripe_old"))];
        let findings = examine_one(&old, 2 * HOUR);
        let key = findings.iter().find(|f| f.check == Check::Key).unwrap();
        assert_eq!(key.verdict, Health::Warning);
        assert!(key.said.contains("23h more"), "{}", key.said);
        assert!(key.next.as_deref().unwrap().contains("--update-provider"));
        assert_eq!(
            verdict(&examine_one(&old, 30 * HOUR), Check::Key),
            Health::Problem
        );
        let none = [endpoint(URL)];
        assert_eq!(
            verdict(&examine_one(&none, 2 * HOUR), Check::Key),
            Health::Problem
        );
    }

    #[test]
    fn each_fault_gives_one_clear_line() {
        let good = format!("{URL}?key=mgk_stripe_new");
        let mut disabled = endpoint(&good);
        disabled.enabled = false;
        disabled.status = "disabled".into();
        assert_eq!(
            verdict(&examine_one(&[disabled], HOUR), Check::Enabled),
            Health::Problem
        );

        let elsewhere = endpoint("https://old.example.test/dev/webhook/stripe?key=mgk_stripe_new");
        let findings = examine_one(&[elsewhere], HOUR);
        let line = findings
            .iter()
            .find(|f| f.check == Check::Endpoint)
            .unwrap();
        assert_eq!(line.verdict, Health::Problem);
        assert!(
            line.said.contains("old.example.test") && !line.said.contains("mgk_"),
            "{}",
            line.said
        );

        let mut unsubscribed = endpoint(&good);
        unsubscribed.events.retain(|e| e != "charge.refunded");
        let findings = examine_one(&[unsubscribed], HOUR);
        let line = findings.iter().find(|f| f.check == Check::Events).unwrap();
        assert_eq!(line.verdict, Health::Problem);
        assert!(line.said.contains("charge.refunded"), "{}", line.said);

        let mut extra = endpoint(&good);
        extra.events.push("customer.created".into());
        assert_eq!(
            verdict(&examine_one(&[extra], HOUR), Check::Events),
            Health::Warning
        );

        let mut stale = endpoint(&good);
        stale.api_version = Some("2017-05-25".into());
        assert_eq!(
            verdict(&examine_one(&[stale], HOUR), Check::ApiVersion),
            Health::Problem
        );

        let two = [endpoint(&good), endpoint(&good)];
        assert_eq!(
            verdict(&examine_one(&two, HOUR), Check::Endpoint),
            Health::Problem
        );
    }

    #[test]
    fn without_a_token_nothing_is_read_and_the_line_says_how_to_set_one() {
        let stage: StageName = "prod".parse().unwrap();
        let findings = examine(&ProviderFacts {
            provider: Provider::Paypal,
            stage: &stage,
            webhook_url: "https://x/webhook/paypal",
            endpoints: None,
            api_keys: None,
            signing_secrets: None,
            signatures_verified: true,
            now: 0,
        });
        assert_eq!(findings[0].verdict, Health::Unchecked);
        assert!(
            findings[0]
                .next
                .as_deref()
                .unwrap()
                .starts_with("mgrid keys set-provider-token paypal --stage prod")
        );
        assert_eq!(verdict(&findings, Check::SigningSecret), Health::Problem);
    }

    #[test]
    fn a_waf_limit_below_the_peak_warns_and_a_silent_provider_warns() {
        assert_eq!(waf(Provider::Stripe, Some(100_000)).verdict, Health::Ok);
        assert_eq!(waf(Provider::Stripe, None).verdict, Health::Ok);
        let low = waf(Provider::Stripe, Some(2_000));
        assert_eq!(low.verdict, Health::Warning);
        assert!(low.next.unwrap().contains("waf_rate_limit"));
        let stage: StageName = "prod".parse().unwrap();
        let day = 24 * HOUR;
        assert_eq!(
            last_delivery(Provider::Paypal, &stage, Ok(Some(HOUR)), day, 3 * HOUR).verdict,
            Health::Ok
        );
        let quiet = last_delivery(Provider::Paypal, &stage, Ok(None), day, 3 * HOUR);
        assert_eq!(quiet.verdict, Health::Warning);
        assert!(quiet.said.contains("last 24h:"), "{}", quiet.said);
        assert_eq!(
            last_delivery(Provider::Paypal, &stage, Err("denied".into()), day, 0).verdict,
            Health::Unchecked
        );
    }

    #[test]
    fn paypals_signing_secret_is_compared_with_the_webhook_id() {
        let stage: StageName = "prod".parse().unwrap();
        let url = "https://x/webhook/paypal";
        let keys = KeyRing::first(Secret::new("mgk_paypal_a".into()), 0);
        let mut webhook = endpoint(&format!("{url}?key=mgk_paypal_a"));
        webhook.id = "WH-7".into();
        webhook.api_version = None;
        let endpoints = [webhook];
        let judge = |secret: &str| {
            let secrets = KeyRing::first(Secret::new(secret.into()), 0);
            verdict(
                &examine(&ProviderFacts {
                    provider: Provider::Paypal,
                    stage: &stage,
                    webhook_url: url,
                    endpoints: Some(Ok(&endpoints)),
                    api_keys: Some(&keys),
                    signing_secrets: Some(&secrets),
                    signatures_verified: true,
                    now: 1,
                }),
                Check::SigningSecret,
            )
        };
        assert_eq!(judge("WH-7"), Health::Ok);
        assert_eq!(judge("WH-9"), Health::Problem);
    }
}
