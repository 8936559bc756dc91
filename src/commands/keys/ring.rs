//! One key ring changed: written with its version checked (a concurrent change is a conflict,
//! never overwritten), the previous key revoked once no provider endpoint uses it, a signing
//! secret set from stdin.

use std::fmt;

use anyhow::Result;
use mgrid_contract::clock::format_rfc3339;
use mgrid_contract::keyring::KeyRing;
use mgrid_contract::{Provider, StageName};
use mgrid_pipeline::cache::KEY_RING_TTL_MS;
use serde::Serialize;

use super::provider::{self, ProviderAccess};
use crate::clock::now_millis;
use crate::commands::context::Context;
use crate::commands::flow::{Ask, Outcome, Plan, Run, carry_out};
use crate::commands::secret_input::read_signing_secret;
use crate::decide::keys::{Grace, cache_time};
use crate::failure::{Failure, FailureKind};
use crate::ports::KeyRings;

/// Which of a provider's two rings changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub enum RingKind {
    ApiKey,
    SigningSecret,
}

impl fmt::Display for RingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RingKind::ApiKey => "API key",
            RingKind::SigningSecret => "signing secret",
        })
    }
}

#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct RingChange {
    pub stage: String,
    pub provider: Provider,
    pub kind: RingKind,
    pub current_key_id: String,
    pub previous_key_id: Option<String>,
    pub previous_accepted_until: Option<String>,
    pub ssm_version: Option<i64>,
    pub changed: bool,
    /// When every function uses the change at the latest (they cache key rings).
    pub in_effect_by: Option<String>,
    /// Whose change this write replaced (SSM cannot write conditionally); the command then
    /// exits 6 after this report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overwritten: Option<String>,
}

impl fmt::Display for RingChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.changed {
            return writeln!(
                f,
                "{} {}: no previous key is accepted; nothing to revoke",
                self.provider, self.kind
            );
        }
        write!(
            f,
            "{} {}: {} is current (SSM version {})",
            self.provider,
            self.kind,
            self.current_key_id,
            self.ssm_version.unwrap_or_default()
        )?;
        match (&self.previous_key_id, &self.previous_accepted_until) {
            (Some(id), Some(until)) => writeln!(f, "; {id} stays accepted until {until}")?,
            _ => writeln!(f, "; no other is accepted")?,
        }
        if let Some(by) = &self.in_effect_by {
            let cached = cache_time();
            match self.kind {
                RingKind::ApiKey => writeln!(
                    f,
                    "the authorizer refuses the revoked key by {by} at the latest (the functions cache key rings for {cached})"
                )?,
                RingKind::SigningSecret => writeln!(
                    f,
                    "the processor verifies with it by {by} at the latest (the functions cache key rings for {cached}); a redrive started before then waits for it"
                )?,
            }
        }
        Ok(())
    }
}

/// A change to one ring, decided and not yet written: the ring as it will be, what it was read
/// at, and (to revoke) the key that stops being accepted.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct RingPlan {
    #[serde(flatten)]
    pub change: RingChange,
    /// The key that stops being accepted at once.
    pub revokes: Option<String>,
    #[serde(skip)]
    pub(super) ring: KeyRing,
    #[serde(skip)]
    pub(super) read_version: Option<i64>,
}

/// The question, or the report, says what changes; nothing more is shown first.
impl fmt::Display for RingPlan {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        Ok(())
    }
}

impl Plan for RingPlan {
    fn ask(&self) -> Ask {
        match &self.revokes {
            Some(id) => Ask::YesNo(format!(
                "{}: {id} stops being accepted now; webhooks still sent with it are refused. Revoke?",
                self.change.provider
            )),
            None => Ask::Nothing,
        }
    }

    fn declined(&self) -> String {
        "nothing was written".into()
    }
}

impl Outcome for RingChange {
    fn failure(&self) -> Option<Failure> {
        self.overwritten.clone().map(overwrite_conflict)
    }
}

/// A write that replaced someone else's change (SSM cannot refuse it): exit 6, after the report
/// that shows what this command stored.
pub(super) fn overwrite_conflict(overwritten: String) -> Failure {
    Failure::new(FailureKind::Conflict, overwritten).next(
        "tell whoever made the other change that their key is no longer accepted; the one this command stored (above) is current: register it, and agree who rotates",
    )
}

/// Writes the planned ring (when it changes anything); the change as written.
pub(super) async fn write_ring(
    store: &impl KeyRings,
    name: &str,
    plan: RingPlan,
) -> Result<RingChange, Failure> {
    let mut change = plan.change;
    if change.changed {
        let written = store.write(name, &plan.ring, plan.read_version).await?;
        change.ssm_version = Some(written.version);
        change.overwritten = written.overwritten;
        change.in_effect_by = Some(in_effect_by());
    }
    Ok(change)
}

/// How revoke-previous checks the provider first.
pub(super) struct Revoke<'a> {
    pub(super) access: ProviderAccess<'a>,
    pub(super) webhook_url: &'a str,
    pub(super) force: bool,
}

pub(super) async fn revoke_previous(
    context: &Context,
    stage: &StageName,
    store: &impl KeyRings,
    provider: Provider,
    revoke: Revoke<'_>,
) -> Result<()> {
    let name = stage.api_key_ring(provider);
    let Some(stored) = store.read(&name).await? else {
        return Err(Failure::new(
            FailureKind::NotFound,
            format!("{provider} has no API key on stage {stage}"),
        )
        .next(format!(
            "create one with `mgrid keys rotate {provider} --stage {stage}`"
        ))
        .into());
    };
    let now = now_millis();
    let live_previous = stored.ring.previous.as_ref().filter(|p| p.expires_at > now);
    if live_previous.is_some() {
        provider::check_before_revoke(
            revoke.access,
            store,
            provider,
            revoke.webhook_url,
            &stored.ring,
            revoke.force,
        )
        .await?;
    }
    let plan = RingPlan {
        change: RingChange {
            stage: stage.to_string(),
            provider,
            kind: RingKind::ApiKey,
            current_key_id: stored.ring.current.id.clone(),
            previous_key_id: None,
            previous_accepted_until: None,
            ssm_version: Some(stored.version),
            changed: live_previous.is_some(),
            in_effect_by: None,
            overwritten: None,
        },
        revokes: live_previous.map(|p| p.id.clone()),
        ring: stored.ring.revoke_previous(),
        read_version: Some(stored.version),
    };
    carry_out(context, plan, Run::Apply, |plan| {
        write_ring(store, &name, plan)
    })
    .await
}

pub(super) async fn set_signing_secret(
    context: &Context,
    stage: &StageName,
    store: &impl KeyRings,
    provider: Provider,
    grace: Grace,
) -> Result<()> {
    let secret = read_signing_secret(provider)?;
    let name = stage.signing_secret_ring(provider);
    let stored = store.read(&name).await?;
    if stored
        .as_ref()
        .is_some_and(|s| s.ring.current.secret == secret)
    {
        return Err(Failure::new(
            FailureKind::Usage,
            format!("that is already {provider}'s current signing secret; nothing was written"),
        )
        .into());
    }
    let ring = KeyRing::rotate(
        stored.as_ref().map(|s| &s.ring),
        secret,
        now_millis(),
        grace.0,
    );
    let plan = RingPlan {
        change: RingChange {
            stage: stage.to_string(),
            provider,
            kind: RingKind::SigningSecret,
            current_key_id: ring.current.id.clone(),
            previous_key_id: ring.previous.as_ref().map(|p| p.id.clone()),
            previous_accepted_until: ring.previous.as_ref().map(|p| format_rfc3339(p.expires_at)),
            ssm_version: None,
            changed: true,
            in_effect_by: None,
            overwritten: None,
        },
        revokes: None,
        read_version: stored.as_ref().map(|s| s.version),
        ring,
    };
    carry_out(context, plan, Run::Apply, |plan| {
        write_ring(store, &name, plan)
    })
    .await
}

/// When a key ring written now is in use by every function at the latest.
pub(super) fn in_effect_by() -> String {
    format_rfc3339(now_millis() + KEY_RING_TTL_MS)
}
