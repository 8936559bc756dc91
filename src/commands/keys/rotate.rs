//! `mgrid keys rotate`: a new API key or signing secret beside the current one, the previous
//! kept for the overlap window; the new key written to a private file, or into the provider's
//! endpoint with --update-provider.

use std::fmt;

use anyhow::Result;
use mgrid_contract::clock::format_rfc3339;
use mgrid_contract::keyring::{KeyRing, Secret};
use mgrid_contract::{EpochMillis, Provider, StageName};
use serde::Serialize;

use super::key_file::{KeyFile, create_private};
use super::provider::{self, ProviderAccess, ProviderStep, ProviderUpdate};
use super::ring::{in_effect_by, overwrite_conflict};
use crate::clock::now_millis;
use crate::commands::context::Context;
use crate::commands::flow::{Ask, Outcome, Plan, Run, carry_out};
use crate::decide::keys::{
    Grace, RotationPlan, api_key_from, cache_time, plan_finishing, plan_rotation,
};
use crate::failure::Failure;
use crate::ports::KeyRings;
use crate::text::{BOLD, WARNING};

/// The result of one rotation. `key` is the secret, present only when it goes to stdout.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Rotation {
    pub provider: Provider,
    #[serde(flatten)]
    pub plan: RotationPlan,
    pub ssm_version: Option<i64>,
    pub dry_run: bool,
    /// Where the webhook goes; the key is added as `?key=` when registering.
    pub webhook_url: String,
    /// The URL with the key, shown this once (absent with --output-file or --dry-run).
    pub register_url: Option<String>,
    pub written_to: Option<String>,
    /// When the authorizer accepts the new key at the latest (it caches key rings): register it
    /// with the provider after that.
    pub in_effect_by: Option<String>,
    /// No new key was made: an earlier rotation's key, stored and not yet at the provider, was
    /// written into the provider's endpoint (`--update-provider`).
    pub finished_earlier_rotation: bool,
    /// What `--update-provider` did at the provider.
    pub provider_update: Option<ProviderUpdate>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct Rotations {
    pub stage: String,
    pub rotations: Vec<Rotation>,
    /// Why the rotations after these were not made: what was rotated is still shown (its key
    /// exists nowhere else), then the command fails with this.
    #[serde(skip)]
    pub failure: Option<Failure>,
}

/// A rotation, decided and not yet written: per provider the new ring (with its key, which is
/// never shown or serialized here) and what it does to the old keys.
pub struct RotationPlans {
    pub(super) stage: String,
    pub(super) grace: Grace,
    pub(super) dry_run: bool,
    pub(super) planned: Vec<Planned>,
}

pub(super) struct Planned {
    pub(super) provider: Provider,
    pub(super) name: String,
    pub(super) plan: RotationPlan,
    pub(super) ring: KeyRing,
    pub(super) key: Secret,
    pub(super) read_version: Option<i64>,
    /// When the ring was last written (a finished rotation's key was written then).
    pub(super) written_at: Option<EpochMillis>,
    pub(super) webhook_url: String,
    /// The provider's endpoint to write the key into (`--update-provider`).
    pub(super) step: Option<ProviderStep>,
}

impl Serialize for RotationPlans {
    /// As the report of a dry run: each rotation with nothing written.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Rotations {
            stage: self.stage.clone(),
            rotations: self
                .planned
                .iter()
                .map(|p| Rotation {
                    provider: p.provider,
                    plan: p.plan.clone(),
                    ssm_version: None,
                    dry_run: true,
                    webhook_url: p.webhook_url.clone(),
                    register_url: None,
                    written_to: None,
                    in_effect_by: None,
                    finished_earlier_rotation: p.step.as_ref().is_some_and(|s| s.finish),
                    provider_update: None,
                })
                .collect(),
            failure: None,
        }
        .serialize(serializer)
    }
}

impl fmt::Display for RotationPlans {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for planned in &self.planned {
            writeln!(
                f,
                "{}",
                describe_plan(planned.provider, &planned.plan, self.grace)
            )?;
            if self.dry_run {
                writeln!(f, "{}: dry run, nothing written", planned.provider)?;
            }
        }
        Ok(())
    }
}

impl Plan for RotationPlans {
    fn ask(&self) -> Ask {
        let revoking: Vec<String> = self
            .planned
            .iter()
            .filter(|p| !p.plan.revoked.is_empty())
            .map(|p| format!("{}: {}", p.provider, p.plan.revoked.join(", ")))
            .collect();
        if revoking.is_empty() {
            return Ask::Nothing;
        }
        Ask::YesNo(format!(
            "{} stop(s) being accepted at once, so webhooks still sent with it are refused. Rotate?",
            revoking.join("; ")
        ))
    }

    fn declined(&self) -> String {
        "nothing was rotated or written".into()
    }
}

impl Outcome for Rotations {
    fn failure(&self) -> Option<Failure> {
        self.failure.clone()
    }
}

/// How a rotation is made and where its key goes.
pub(super) struct RotateOptions<'a> {
    pub(super) grace: Grace,
    pub(super) output_file: Option<&'a std::path::Path>,
    pub(super) dry_run: bool,
    pub(super) api_url: &'a str,
    /// Write the new key into the provider's endpoint too (`--update-provider`).
    pub(super) update_provider: Option<ProviderAccess<'a>>,
}

pub(super) async fn rotate(
    context: &Context,
    stage: &StageName,
    store: &impl KeyRings,
    providers: &[Provider],
    options: RotateOptions<'_>,
) -> Result<()> {
    let RotateOptions {
        grace,
        output_file,
        dry_run,
        api_url,
        update_provider,
    } = options;
    // The file exists, owner-only and empty, before any key is written: a key is never stored
    // that cannot be shown (an existing file is refused before anything changes; a declined or
    // failed rotation removes it again).
    let mut key_file = match output_file {
        Some(path) if !dry_run => Some(create_private(path)?),
        _ => None,
    };
    let mut planned = Vec::new();
    for &provider in providers {
        let name = stage.api_key_ring(provider);
        let stored = store.read(&name).await?;
        let webhook_url = format!("{api_url}/webhook/{provider}");
        // The provider's endpoint is found before anything is written: no token, or not exactly
        // one endpoint, changes nothing.
        let step = match update_provider {
            Some(access) => Some(
                provider::endpoint_for(
                    access,
                    store,
                    provider,
                    &webhook_url,
                    stored.as_ref().map(|s| &s.ring),
                )
                .await?,
            ),
            None => None,
        };
        let finish = step.as_ref().is_some_and(|s| s.finish);
        let (ring, plan, key) = match stored.as_ref() {
            // An earlier rotation stored this key and did not reach the provider: finish it.
            Some(stored) if finish => plan_finishing(&stored.ring),
            _ => {
                let mut random = crate::ids::random_bytes()?;
                let key = api_key_from(provider, &random);
                zeroize::Zeroize::zeroize(&mut random);
                let old = stored.as_ref().map(|s| &s.ring);
                let (ring, plan) = plan_rotation(old, key.clone(), now_millis(), grace);
                (ring, plan, key)
            }
        };
        planned.push(Planned {
            provider,
            name,
            plan,
            ring,
            key,
            read_version: stored.as_ref().map(|s| s.version),
            written_at: stored.as_ref().and_then(|s| s.modified_at),
            webhook_url,
            step,
        });
    }
    let plans = RotationPlans {
        stage: stage.to_string(),
        grace,
        dry_run,
        planned,
    };
    carry_out(context, plans, Run::plan_only_if(dry_run), |plans| {
        apply(plans, store, key_file.as_mut(), stage)
    })
    .await
}

/// Applies the confirmed rotations, provider by provider: each ring written (its version
/// checked), the key appended to the file, then pushed into the provider's endpoint; the first
/// failure stops the rest, and what was done is reported with it.
async fn apply(
    plans: RotationPlans,
    store: &impl KeyRings,
    mut key_file: Option<&mut KeyFile<'_>>,
    stage: &StageName,
) -> Result<Rotations, Failure> {
    let mut rotations = Vec::new();
    let mut failure = None;
    for planned in plans.planned {
        let finish = planned.step.as_ref().is_some_and(|s| s.finish);
        let (version, written_at) = if finish {
            (
                planned.read_version.unwrap_or_default(),
                planned.written_at.unwrap_or_else(now_millis),
            )
        } else {
            let written = match store
                .write(&planned.name, &planned.ring, planned.read_version)
                .await
            {
                Ok(written) => written,
                Err(error) => {
                    failure = Some(error);
                    break;
                }
            };
            // Stored is shown, whatever else happened: an overwritten colleague is a
            // conflict to report after this command's key, which is now the ring's
            // current one.
            if let Some(overwritten) = written.overwritten {
                failure = Some(overwrite_conflict(overwritten));
            }
            (written.version, now_millis())
        };
        let register = format!("{}?key={}", planned.webhook_url, planned.key.expose());
        // A key that could not reach the file is shown here instead: it exists nowhere else.
        let written_to = match key_file.as_deref_mut() {
            Some(file) => match file.append_synced(&format!("{} {register}\n", planned.provider)) {
                Ok(()) => Some(file.path.display().to_string()),
                Err(error) => {
                    failure = Some(error);
                    None
                }
            },
            None => None,
        };
        let provider_update = match (&planned.step, &failure) {
            (Some(step), None) => match provider::push_key(
                step,
                &planned.webhook_url,
                &planned.key,
                written_at,
                store.read_by_functions_since(),
                stage,
            )
            .await
            {
                Ok(update) => Some(update),
                Err(error) => {
                    failure = Some(error);
                    None
                }
            },
            _ => None,
        };
        let register_url = (written_to.is_none() && provider_update.is_none()).then_some(register);
        rotations.push(Rotation {
            provider: planned.provider,
            plan: planned.plan,
            ssm_version: Some(version),
            in_effect_by: Some(in_effect_by()),
            dry_run: false,
            finished_earlier_rotation: finish,
            provider_update,
            webhook_url: planned.webhook_url,
            // The provider holds it now: a key no person has to register is not shown.
            register_url,
            written_to,
        });
        if failure.is_some() {
            break;
        }
    }
    Ok(Rotations {
        stage: plans.stage,
        rotations,
        failure,
    })
}

pub(super) fn describe_plan(provider: Provider, plan: &RotationPlan, grace: Grace) -> String {
    // A plan, shown before the question: nothing of it has happened yet.
    // Said without a tense: it is shown before the question, and with --yes as it is done.
    let mut text = if plan.first {
        format!("{provider}: the first API key, {}", plan.new_key_id)
    } else {
        format!("{provider}: a new API key, {}", plan.new_key_id)
    };
    if let Some((id, until)) = &plan.kept {
        text.push_str(&format!(
            "; {id} stays accepted until {} ({grace} overlap)",
            format_rfc3339(*until)
        ));
    }
    if !plan.revoked.is_empty() {
        text.push_str(&format!(
            "; {WARNING}{} no longer accepted, at once{WARNING:#}",
            plan.revoked.join(", ")
        ));
    }
    text
}

impl fmt::Display for Rotations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for rotation in &self.rotations {
            if rotation.dry_run {
                writeln!(f, "{}: dry run, nothing written", rotation.provider)?;
                continue;
            }
            if rotation.finished_earlier_rotation {
                writeln!(
                    f,
                    "{}: finished an earlier rotation: key {} (SSM version {}) was stored and had not reached {}; no new key was made",
                    rotation.provider,
                    rotation.plan.new_key_id,
                    rotation.ssm_version.unwrap_or_default(),
                    rotation.provider
                )?;
            } else {
                writeln!(
                    f,
                    "{}: key {} is current (SSM version {})",
                    rotation.provider,
                    rotation.plan.new_key_id,
                    rotation.ssm_version.unwrap_or_default()
                )?;
            }
            match (&rotation.register_url, &rotation.written_to) {
                (Some(url), _) => writeln!(
                    f,
                    "  {BOLD}register this URL at {} (it holds the key; it is shown only this once):{BOLD:#}\n  {url}",
                    rotation.provider
                )?,
                (None, Some(path)) => writeln!(
                    f,
                    "  the URL to register, with the key, is in {path} (mode 0600)"
                )?,
                _ => {}
            }
            match (&rotation.provider_update, &rotation.in_effect_by) {
                (Some(update), _) => writeln!(f, "{update}")?,
                (None, Some(by)) => writeln!(
                    f,
                    "  the authorizer accepts it by {by} at the latest (it caches key rings for {}); register it after that, or the provider's deliveries may be refused until then",
                    cache_time()
                )?,
                (None, None) => {}
            }
        }
        Ok(())
    }
}
