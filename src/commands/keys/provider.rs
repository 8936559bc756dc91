//! The provider's side of `mgrid keys`: the token for the provider's own API
//! (`set-provider-token`), the endpoint a rotation writes its new key into
//! (`rotate --update-provider`), and the check that keeps `revoke-previous` from revoking the
//! key an endpoint still carries.

use std::fmt;
use std::time::Duration;

use mgrid_contract::keyring::{KeyRing, KeySlot, Secret};
use mgrid_contract::{EpochMillis, Provider, StageName};
use mgrid_pipeline::cache::KEY_RING_TTL_MS;
use serde::Serialize;

use crate::clock::now_millis;
use crate::commands::secret_input::read_secret;
use crate::decide::doctor::token_needs;
use crate::failure::{Failure, FailureKind};
use crate::ports::{KeyRings, ProviderEndpoint};
use crate::providers::client::ProviderClient;
use crate::target::Target;
use crate::ui::output::note;

/// Where the provider's API is reached: the stage, and a stand-in when one was named.
#[derive(Clone, Copy)]
pub struct ProviderAccess<'a> {
    pub target: &'a Target,
    pub stand_in: Option<&'a str>,
}

impl ProviderAccess<'_> {
    /// The stage's client for `provider`, or a failure that says how to set its token.
    pub async fn client(
        &self,
        store: &impl KeyRings,
        provider: Provider,
        needed_for: &str,
    ) -> Result<ProviderClient, Failure> {
        let stage = self.target.name();
        self.target
            .provider_client(store, provider, self.stand_in)
            .await?
            .ok_or_else(|| no_token(provider, stage, needed_for))
    }
}

/// The failure of a command that needs a provider token the stage does not have.
pub fn no_token(provider: Provider, stage: &StageName, needed_for: &str) -> Failure {
    Failure::new(
        FailureKind::NotFound,
        format!("stage {stage} has no {provider} provider token, which {needed_for} needs; nothing was changed"),
    )
    .next(format!(
        "mgrid keys set-provider-token {provider} --stage {stage} ({})",
        token_needs(provider)
    ))
}

/// The provider's endpoint for the stage, as a rotation found it before writing anything.
pub struct ProviderStep {
    pub client: ProviderClient,
    pub endpoint: ProviderEndpoint,
    /// An earlier rotation stored the ring's current key and did not get it to the provider
    /// (the endpoint carries the previous one): this run finishes it, making no new key.
    pub finish: bool,
}

/// The one endpoint of `provider` that points at `webhook_url`; refused (nothing written) when
/// there is none or more than one.
pub async fn endpoint_for(
    access: ProviderAccess<'_>,
    store: &impl KeyRings,
    provider: Provider,
    webhook_url: &str,
    ring: Option<&KeyRing>,
) -> Result<ProviderStep, Failure> {
    let stage = access.target.name();
    let client = access.client(store, provider, "--update-provider").await?;
    let endpoints = client.endpoints().await?;
    let endpoint = match ProviderEndpoint::the_one_at(endpoints, webhook_url) {
        Ok(endpoint) => endpoint,
        Err(count) => {
            return Err(Failure::new(
                FailureKind::NotFound,
                format!(
                    "{count} endpoints of {provider} point at {webhook_url}, and --update-provider needs exactly one; nothing was changed"
                ),
            )
            .next(format!(
                "`mgrid doctor --stage {stage}` says which; register one, or delete the extra ones, then rotate again"
            )));
        }
    };
    let finish = match (ring, endpoint.key()) {
        (Some(ring), Some(key)) => {
            ring.accepts(key.expose(), now_millis()) == Some(KeySlot::Previous)
        }
        _ => false,
    };
    Ok(ProviderStep {
        client,
        endpoint,
        finish,
    })
}

/// What `--update-provider` did at the provider.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ProviderUpdate {
    /// The provider's id of the endpoint.
    pub endpoint: String,
    /// The key id its URL carried before (None: no key).
    pub carried: Option<String>,
    /// The key id it carries now, read back from the provider after the change.
    pub carries: Option<String>,
    /// Whether the read-back URL carries the new key.
    pub verified: bool,
}

impl fmt::Display for ProviderUpdate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "  the provider's endpoint {} now carries {} (was {}){}",
            self.endpoint,
            self.carries.as_deref().unwrap_or("no key"),
            self.carried.as_deref().unwrap_or("no key"),
            if self.verified {
                ", read back from the provider"
            } else {
                ""
            }
        )
    }
}

/// Writes `key` into the endpoint's URL once every function accepts it (`written_at`: when the
/// ring holding it was written; `read_since`: since when the functions read rings fresh), and
/// reads the endpoint back to check it took.
pub async fn push_key(
    step: &ProviderStep,
    webhook_url: &str,
    key: &Secret,
    written_at: EpochMillis,
    read_since: Option<EpochMillis>,
    stage: &StageName,
) -> Result<ProviderUpdate, Failure> {
    let provider = step.client.provider();
    let again = format!(
        "the key is stored and accepted, and the endpoint still carries the previous one (accepted for the overlap): run `mgrid keys rotate {provider} --update-provider --stage {stage}` again; it finishes without making another key"
    );
    let cached = read_since.is_none_or(|since| written_at > since);
    let ready_at = written_at + KEY_RING_TTL_MS;
    let left = ready_at - now_millis();
    if cached && left > 0 {
        note(&format!(
            "{provider}: waiting {} s for every authorizer to accept {} (they cache key rings) before {provider} sends it; Ctrl-C is safe: {again}",
            (left + 999) / 1000,
            key.key_id()
        ));
        tokio::time::sleep(Duration::from_millis(left as u64)).await;
    }
    let url = Secret::new(format!("{webhook_url}?key={}", key.expose()));
    let answered = step
        .client
        .set_url(&step.endpoint.id, &url)
        .await
        .map_err(|e| then(e, &again))?;
    // Read back: what the provider answered a write with is not yet what it delivers to.
    let read_back = step
        .client
        .endpoints()
        .await
        .map_err(|e| then(e, &again))?
        .into_iter()
        .find(|e| e.id == step.endpoint.id)
        .unwrap_or(answered);
    let carries = read_back.key();
    let verified = carries.as_ref().is_some_and(|k| k == key);
    let update = ProviderUpdate {
        endpoint: step.endpoint.id.clone(),
        carried: step.endpoint.key().map(|k| k.key_id()),
        carries: carries.map(|k| k.key_id()),
        verified,
    };
    if !verified {
        return Err(Failure::new(
            FailureKind::Failed,
            format!(
                "{provider} accepted the change, but its endpoint {} reads back as {}",
                update.endpoint,
                read_back.shown_url()
            ),
        )
        .next(again));
    }
    Ok(update)
}

/// `failure` with `more` said after its own next step.
fn then(failure: Failure, more: &str) -> Failure {
    let next = match &failure.next {
        Some(first) => format!("{first}; then: {more}"),
        None => more.to_owned(),
    };
    failure.next(next)
}

/// Refuses to revoke a previous key an endpoint pointing at the stage still carries (exit 6),
/// unless forced. Without a token it says what was not checked.
pub async fn check_before_revoke(
    access: ProviderAccess<'_>,
    store: &impl KeyRings,
    provider: Provider,
    webhook_url: &str,
    ring: &KeyRing,
    force: bool,
) -> Result<(), Failure> {
    let stage = access.target.name();
    let Some(previous) = ring.previous.as_ref() else {
        return Ok(());
    };
    let read = async {
        match access
            .target
            .provider_client(store, provider, access.stand_in)
            .await?
        {
            Some(client) => client.endpoints().await.map(Some),
            None => Ok(None),
        }
    };
    let endpoints = match read.await {
        Ok(Some(endpoints)) => endpoints,
        Ok(None) => {
            note(&format!(
                "{provider}'s endpoints were not checked: stage {stage} has no {provider} provider token (`mgrid keys set-provider-token {provider} --stage {stage}` lets this command refuse to revoke a key an endpoint still carries)"
            ));
            return Ok(());
        }
        Err(error) if force => {
            note(&format!(
                "{provider}'s endpoints could not be read ({error}); revoking anyway (--force)"
            ));
            return Ok(());
        }
        Err(error) => {
            return Err(then(
                error,
                &format!(
                    "nothing was revoked; --force revokes without checking {provider}'s endpoints"
                ),
            ));
        }
    };
    let carrying: Vec<&ProviderEndpoint> = endpoints
        .iter()
        .filter(|e| e.points_at(webhook_url))
        .filter(|e| e.key().is_some_and(|k| k == previous.secret))
        .collect();
    if carrying.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = carrying.iter().map(|e| e.id.as_str()).collect();
    let said = format!(
        "{provider}'s endpoint {} still carries {}, the key this would revoke: every delivery to it would then be refused",
        ids.join(", "),
        previous.id
    );
    if force {
        note(&format!("{said}; revoking anyway (--force)"));
        return Ok(());
    }
    Err(Failure::new(FailureKind::Conflict, format!("{said}; nothing was revoked")).next(format!(
        "mgrid keys rotate {provider} --update-provider --stage {stage} (it gives the endpoint the current key, making no new one), then revoke; or --force"
    )))
}

/// The stored token, as `set-provider-token` reports it (never its value).
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct TokenSet {
    pub stage: String,
    pub provider: Provider,
    pub token_id: String,
    /// How many webhook endpoints the provider showed with it (None: not tried, --no-check).
    pub endpoints_seen: Option<usize>,
    pub ssm_version: i64,
}

impl fmt::Display for TokenSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} provider token {} stored for stage {} (version {})",
            self.provider, self.token_id, self.stage, self.ssm_version
        )?;
        match self.endpoints_seen {
            Some(seen) => writeln!(
                f,
                "; tried first: the provider showed {seen} webhook endpoint{}\nnext: mgrid doctor --stage {}",
                if seen == 1 { "" } else { "s" },
                self.stage
            ),
            None => writeln!(f, "; not tried (--no-check)"),
        }
    }
}

/// Reads the token from stdin, tries it (unless `no_check`), and stores it.
pub async fn set_provider_token(
    access: ProviderAccess<'_>,
    store: &impl KeyRings,
    provider: Provider,
    no_check: bool,
) -> Result<TokenSet, Failure> {
    let stage = access.target.name();
    let token = read_token(provider)?;
    let endpoints_seen = if no_check {
        None
    } else {
        let base = access.target.provider_api(provider, access.stand_in)?;
        let client = ProviderClient::new(provider, stage.clone(), base, token.clone())?;
        let endpoints = client.endpoints().await.map_err(|e| {
            let why = e.to_string();
            Failure::new(
                e.kind,
                format!("the {provider} token was tried and not stored: {why}"),
            )
            .next(format!(
                "check it is {}; --no-check stores it untried",
                token_needs(provider)
            ))
        })?;
        Some(endpoints.len())
    };
    let name = stage.provider_token_ring(provider);
    let stored = store.read(&name).await?;
    let ring = KeyRing::rotate(
        stored.as_ref().map(|s| &s.ring),
        token.clone(),
        now_millis(),
        0,
    );
    let written = store
        .write(&name, &ring, stored.as_ref().map(|s| s.version))
        .await?;
    Ok(TokenSet {
        stage: stage.to_string(),
        provider,
        token_id: token.key_id(),
        endpoints_seen,
        ssm_version: written.version,
    })
}

/// The token from stdin (without echo on a terminal): Stripe one line, `sk_…` or `rk_…`;
/// PayPal `<client id>:<secret>` on one line, or the two on two lines. The refusal names the
/// rule, never the value.
fn read_token(provider: Provider) -> Result<Secret, Failure> {
    let prompt = match provider {
        Provider::Stripe => "Stripe restricted key (rk_…, not shown): ",
        Provider::Paypal => "PayPal <client id>:<secret> (not shown): ",
    };
    let input = read_secret(prompt, "a provider token")?;
    token_from(provider, &input)
}

fn token_from(provider: Provider, input: &str) -> Result<Secret, Failure> {
    let refuse = |rule: &str| {
        Failure::new(
            FailureKind::Usage,
            format!("that is not a {provider} provider token: {rule}; nothing was stored"),
        )
        .next(format!("pipe {}", token_needs(provider)))
    };
    let lines: Vec<&str> = input
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    let printable = |text: &str| text.chars().all(|c| c.is_ascii_graphic());
    match (provider, lines.as_slice()) {
        (_, []) => Err(refuse("nothing was given")),
        (Provider::Stripe, [key]) => {
            if !printable(key) {
                return Err(refuse("it holds spaces, control or non-ASCII characters"));
            }
            if !["sk_live_", "sk_test_", "rk_live_", "rk_test_"]
                .iter()
                .any(|p| key.starts_with(p))
            {
                return Err(refuse(
                    "a Stripe API key starts with rk_live_, rk_test_, sk_live_ or sk_test_",
                ));
            }
            Ok(Secret::new((*key).to_owned()))
        }
        (Provider::Paypal, [pair]) => match pair.split_once(':') {
            Some((id, secret)) if !id.is_empty() && !secret.is_empty() => paypal_token(id, secret)
                .ok_or_else(|| refuse("it holds spaces, control or non-ASCII characters")),
            _ => Err(refuse("one line must be <client id>:<secret>")),
        },
        (Provider::Paypal, [id, secret]) => paypal_token(id, secret)
            .ok_or_else(|| refuse("it holds spaces, control or non-ASCII characters")),
        (_, more) => Err(refuse(&format!("{} lines were given", more.len()))),
    }
}

fn paypal_token(id: &str, secret: &str) -> Option<Secret> {
    let ok = |text: &str| text.chars().all(|c| c.is_ascii_graphic()) && !text.contains(':');
    (ok(id) && ok(secret)).then(|| Secret::new(format!("{id}:{secret}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_checked_for_shape_and_refused_without_their_value() {
        assert!(token_from(Provider::Stripe, "rk_live_abc\n").is_ok());
        let refused = token_from(Provider::Stripe, "whsec_abc").unwrap_err();
        assert!(!refused.to_string().contains("whsec_abc"), "{refused}");
        assert!(token_from(Provider::Stripe, "rk_live_a\u{200b}b").is_err());
        assert_eq!(
            token_from(Provider::Paypal, "AaBb:EeFf").unwrap().expose(),
            "AaBb:EeFf"
        );
        assert_eq!(
            token_from(Provider::Paypal, "AaBb\nEeFf\n")
                .unwrap()
                .expose(),
            "AaBb:EeFf"
        );
        assert!(token_from(Provider::Paypal, "AaBb").is_err());
        assert!(token_from(Provider::Paypal, "a\nb\nc").is_err());
    }
}
