//! `mgrid keys list`: each provider's key rings (API keys, signing secrets, provider tokens),
//! their versions and ages; names and fingerprints only, never a value.

use std::fmt;

use anyhow::Result;
use mgrid_contract::clock::format_rfc3339;
use mgrid_contract::{Provider, StageName};
use serde::Serialize;

use crate::aws::kept::RingKey;
use crate::clock::now_millis;
use crate::commands::context::Context;
use crate::ports::{KeyRings, StoredRing};
use crate::text::{WARNING, table};
use crate::ui::output::print_report;

/// One ring as `keys list` shows it. Never a secret value.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct RingSummary {
    pub current_key_id: String,
    pub created_at: String,
    pub previous_key_id: Option<String>,
    /// When the previous key stops being accepted; None when there is none or it expired.
    pub previous_accepted_until: Option<String>,
    pub ssm_version: i64,
    pub last_change: Option<String>,
}

impl RingSummary {
    pub(super) fn of(stored: &StoredRing, now: i64) -> RingSummary {
        let previous = stored.ring.previous.as_ref().filter(|p| p.expires_at > now);
        RingSummary {
            current_key_id: stored.ring.current.id.clone(),
            created_at: format_rfc3339(stored.ring.current.created_at),
            previous_key_id: previous.map(|p| p.id.clone()),
            previous_accepted_until: previous.map(|p| format_rfc3339(p.expires_at)),
            ssm_version: stored.version,
            last_change: stored.modified_at.map(format_rfc3339),
        }
    }
}

#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ProviderKeys {
    pub provider: Provider,
    pub api_key: Option<RingSummary>,
    pub signing_secret: Option<RingSummary>,
    /// The stage's token for the provider's own API (`keys set-provider-token`): its id and
    /// when it was set.
    pub provider_token: Option<RingSummary>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct KeysList {
    pub stage: String,
    pub providers: Vec<ProviderKeys>,
    /// Rings encrypted under another key than the stage's (kept from an earlier, destroyed
    /// deploy): the stage's roles may not read them.
    pub not_under_stage_key: Vec<String>,
}

pub(super) async fn list(
    context: &Context,
    stage: &StageName,
    store: &impl KeyRings,
    off_key: Vec<RingKey>,
) -> Result<()> {
    let now = now_millis();
    let mut providers = Vec::new();
    for provider in Provider::ALL {
        let api = store.read(&stage.api_key_ring(provider)).await?;
        let signing = store.read(&stage.signing_secret_ring(provider)).await?;
        let token = store.read(&stage.provider_token_ring(provider)).await?;
        providers.push(ProviderKeys {
            provider,
            api_key: api.as_ref().map(|s| RingSummary::of(s, now)),
            signing_secret: signing.as_ref().map(|s| RingSummary::of(s, now)),
            provider_token: token.as_ref().map(|s| RingSummary::of(s, now)),
        });
    }
    print_report(
        &KeysList {
            stage: stage.to_string(),
            providers,
            not_under_stage_key: off_key.into_iter().map(|ring| ring.name).collect(),
        },
        context.global.output,
    )?;
    Ok(())
}

impl fmt::Display for KeysList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rows = table(&[
            "provider",
            "kind",
            "current",
            "created",
            "previous until",
            "version",
            "last change",
        ]);
        for provider in &self.providers {
            for (kind, ring) in [
                ("api key", &provider.api_key),
                ("signing secret", &provider.signing_secret),
                ("provider token", &provider.provider_token),
            ] {
                match ring {
                    Some(ring) => rows.add_row(vec![
                        provider.provider.to_string(),
                        kind.to_owned(),
                        ring.current_key_id.clone(),
                        ring.created_at.clone(),
                        match (&ring.previous_key_id, &ring.previous_accepted_until) {
                            (Some(id), Some(until)) => format!("{id} until {until}"),
                            _ => "-".to_owned(),
                        },
                        ring.ssm_version.to_string(),
                        ring.last_change.clone().unwrap_or_default(),
                    ]),
                    None => rows.add_row(vec![
                        provider.provider.to_string(),
                        kind.to_owned(),
                        "not set".to_owned(),
                    ]),
                };
            }
        }
        writeln!(
            f,
            "keys of stage {} (ids only; values are never shown)\n{rows}",
            self.stage
        )?;
        if !self.not_under_stage_key.is_empty() {
            writeln!(
                f,
                "{WARNING}warning:{WARNING:#} not encrypted under the stage's key (kept from an earlier,\n  \
                 destroyed deploy), so the stage's authorizer and processor may not read them:\n  {}\n  \
                 `mgrid deploy --stage {}` re-encrypts them",
                self.not_under_stage_key.join("\n  "),
                self.stage
            )?;
        }
        Ok(())
    }
}
