//! `mgrid keys`: provider API keys and signing secrets, kept as key rings in SSM. A rotation
//! keeps the old key valid for an overlap window so no webhook is refused while the provider is
//! switched over; the new key is shown once (or written to a 0600 file) and never logged.

use std::fmt;
use std::io::Write;

use anyhow::Result;
use mgrid_contract::clock::format_rfc3339;
use mgrid_contract::keyring::{KeyRing, Secret};
use mgrid_contract::{EpochMillis, Provider, StageName};
use mgrid_pipeline::cache::KEY_RING_TTL_MS;
use serde::Serialize;

use crate::aws::kept::RingKey;
use crate::cli::{KeysAction, KeysArgs};
use crate::clock::now_millis;
use crate::commands::context::Context;
use crate::commands::flow::{Ask, Outcome, Plan, Run, carry_out};
use crate::commands::secret_input::read_signing_secret;
use crate::decide::keys::{Grace, RotationPlan, cache_time, new_api_key, plan_rotation};
use crate::failure::{Failure, FailureKind};
use crate::ports::{KeyRings, StoredRing};
use crate::target::Target;
use crate::ui::output::print_report;
use crate::ui::terminal::verbose_calls;
use crate::ui::text::{BOLD, WARNING, table};

pub mod provider;

use provider::{ProviderAccess, ProviderStep, ProviderUpdate};

pub async fn run(context: &Context, target: &Target, args: &KeysArgs) -> Result<()> {
    let store = target.key_rings().await?;
    let result = act(context, target, &store, args).await;
    if let Some(calls) = target.calls() {
        verbose_calls(context.global.verbose > 0, calls);
    }
    result
}

async fn act(
    context: &Context,
    target: &Target,
    store: &impl KeyRings,
    args: &KeysArgs,
) -> Result<()> {
    let stage = target.name();
    let access = ProviderAccess {
        target,
        stand_in: context.global.provider_api_base.as_deref(),
    };
    match &args.action {
        KeysAction::List => {
            let off_key = target.rings_off_key().await?;
            list(context, stage, store, off_key).await
        }
        KeysAction::Rotate {
            provider,
            all,
            grace,
            output_file,
            dry_run,
            update_provider,
        } => {
            let providers: Vec<Provider> = match (provider, all) {
                (Some(p), false) => vec![(*p).into()],
                (None, true) => Provider::ALL.to_vec(),
                _ => {
                    return Err(Failure::new(
                        FailureKind::Usage,
                        "name one provider, or pass --all",
                    )
                    .next(
                        "mgrid keys rotate stripe --stage S, or mgrid keys rotate --all --stage S",
                    )
                    .into());
                }
            };
            if *update_provider && grace.0 == 0 {
                return Err(Failure::new(
                    FailureKind::Usage,
                    "--update-provider keeps the old key accepted while the provider switches over: it cannot take --grace 0",
                )
                .next("rotate with an overlap (the default 24h), then `mgrid keys revoke-previous` once the provider carries the new key (it checks)")
                .into());
            }
            let api_url = target.api_url().await?;
            rotate(
                context,
                stage,
                store,
                &providers,
                RotateOptions {
                    grace: *grace,
                    output_file: output_file.as_deref(),
                    dry_run: *dry_run,
                    api_url: &api_url,
                    update_provider: update_provider.then_some(access),
                },
            )
            .await
        }
        KeysAction::RevokePrevious { provider, force } => {
            let provider: Provider = (*provider).into();
            let webhook_url = format!("{}/webhook/{provider}", target.api_url().await?);
            revoke_previous(
                context,
                stage,
                store,
                provider,
                Revoke {
                    access,
                    webhook_url: &webhook_url,
                    force: *force,
                },
            )
            .await
        }
        KeysAction::SetProviderToken { provider, no_check } => {
            let set =
                provider::set_provider_token(access, store, (*provider).into(), *no_check).await?;
            print_report(&set, context.global.output)?;
            Ok(())
        }
        KeysAction::SetSigningSecret { provider, grace } => {
            set_signing_secret(context, stage, store, (*provider).into(), *grace).await
        }
    }
}

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
    fn of(stored: &StoredRing, now: i64) -> RingSummary {
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

async fn list(
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
    stage: String,
    grace: Grace,
    dry_run: bool,
    planned: Vec<Planned>,
}

struct Planned {
    provider: Provider,
    name: String,
    plan: RotationPlan,
    ring: KeyRing,
    key: Secret,
    read_version: Option<i64>,
    /// When the ring was last written (a finished rotation's key was written then).
    written_at: Option<EpochMillis>,
    webhook_url: String,
    /// The provider's endpoint to write the key into (`--update-provider`).
    step: Option<ProviderStep>,
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
struct RotateOptions<'a> {
    grace: Grace,
    output_file: Option<&'a std::path::Path>,
    dry_run: bool,
    api_url: &'a str,
    /// Write the new key into the provider's endpoint too (`--update-provider`).
    update_provider: Option<ProviderAccess<'a>>,
}

async fn rotate(
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
            Some(stored) if finish => (
                stored.ring.clone(),
                RotationPlan {
                    first: false,
                    new_key_id: stored.ring.current.id.clone(),
                    kept: stored
                        .ring
                        .previous
                        .as_ref()
                        .map(|p| (p.id.clone(), p.expires_at)),
                    revoked: Vec::new(),
                },
                stored.ring.current.secret.clone(),
            ),
            _ => {
                let key = new_api_key(provider)?;
                let (ring, plan) = plan_rotation(
                    stored.as_ref().map(|s| &s.ring),
                    key.clone(),
                    now_millis(),
                    grace,
                );
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
    carry_out(
        context,
        plans,
        Run::plan_only_if(dry_run),
        |plans| async move {
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
                let written_to = match key_file.as_mut() {
                    Some(file) => {
                        match file.append_synced(&format!("{} {register}\n", planned.provider)) {
                            Ok(()) => Some(file.path.display().to_string()),
                            Err(error) => {
                                failure = Some(error);
                                None
                            }
                        }
                    }
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
                let register_url =
                    (written_to.is_none() && provider_update.is_none()).then_some(register);
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
        },
    )
    .await
}

fn describe_plan(provider: Provider, plan: &RotationPlan, grace: Grace) -> String {
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

/// Writes a file only its owner can read, refusing to replace an existing one.
/// The output file of a rotation: created before any key is written, removed again if no key
/// reached it (a declined or failed rotation leaves no empty file behind).
struct KeyFile<'a> {
    file: std::fs::File,
    path: &'a std::path::Path,
    written: bool,
}

/// Creates `path` for new keys: it must not exist, and only its owner may read it.
fn create_private(path: &std::path::Path) -> Result<KeyFile<'_>, Failure> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| {
            if path.is_dir() {
                return Failure::new(
                    FailureKind::Usage,
                    format!(
                        "--output-file {} is a directory; nothing was rotated",
                        path.display()
                    ),
                )
                .next(format!(
                    "name a new file, like {}",
                    path.join("new-keys.txt").display()
                ));
            }
            Failure::new(
                FailureKind::Failed,
                format!("cannot create {}: {e}; nothing was rotated", path.display()),
            )
            .next("name a file that does not exist yet (mgrid never overwrites a key file)")
        })?;
    Ok(KeyFile {
        file,
        path,
        written: false,
    })
}

impl KeyFile<'_> {
    /// Appends a provider's line and syncs it, right after its key was stored: killed at any
    /// moment, every stored key is in the file.
    fn append_synced(&mut self, line: &str) -> Result<(), Failure> {
        self.written = true;
        self.file
            .write_all(line.as_bytes())
            .and_then(|()| self.file.sync_all())
            .map_err(|e| {
                Failure::new(
                    FailureKind::Failed,
                    format!(
                        "cannot write {}: {e}; this provider's new key is stored but was shown nowhere",
                        self.path.display()
                    ),
                )
                .next("the key the provider uses stays accepted during the overlap; free the disk, then rotate again (mgrid asks before it revokes that key)")
            })
    }
}

impl Drop for KeyFile<'_> {
    fn drop(&mut self) {
        if !self.written {
            let _ = std::fs::remove_file(self.path);
        }
    }
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

/// When a key ring written now is in use by every function at the latest.
fn in_effect_by() -> String {
    format_rfc3339(now_millis() + KEY_RING_TTL_MS)
}

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
    ring: KeyRing,
    #[serde(skip)]
    read_version: Option<i64>,
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
fn overwrite_conflict(overwritten: String) -> Failure {
    Failure::new(FailureKind::Conflict, overwritten).next(
        "tell whoever made the other change that their key is no longer accepted; the one this command stored (above) is current: register it, and agree who rotates",
    )
}

/// Writes the planned ring (when it changes anything); the change as written.
async fn write_ring(
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
struct Revoke<'a> {
    access: ProviderAccess<'a>,
    webhook_url: &'a str,
    force: bool,
}

async fn revoke_previous(
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

async fn set_signing_secret(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::secret_input::{SECRET_INPUT_LIMIT, secret_input, signing_secret_from};

    fn refusal(provider: Provider, input: &str) -> String {
        match signing_secret_from(provider, input) {
            Ok(_) => panic!("{input:?} was taken"),
            Err(failure) => failure.to_string(),
        }
    }

    #[test]
    fn one_line_in_the_providers_format_is_taken() {
        let secret = signing_secret_from(Provider::Stripe, "whsec_abcdefghijkl\n").expect("taken");
        assert_eq!(secret.expose(), "whsec_abcdefghijkl");
        assert!(signing_secret_from(Provider::Paypal, "  8PT597110X687430LKGECATA\r\n").is_ok());
    }

    #[test]
    fn two_lines_are_refused_not_cut_to_the_first() {
        let text = refusal(Provider::Stripe, "whsec_abcdefghijkl\nwhsec_mnopqrstuvwx\n");
        assert!(text.contains("2 lines"), "{text}");
        assert!(
            !text.contains("whsec_abc"),
            "the value never reaches the error"
        );
    }

    #[test]
    fn invisible_and_non_ascii_characters_are_refused() {
        for pasted in [
            "whsec_abcdefghij\u{200b}",
            "whsec_abc\u{202e}defghij",
            "whsec_abcdéfghijkl",
        ] {
            let text = refusal(Provider::Stripe, pasted);
            assert!(text.contains("ASCII letters, digits"), "{pasted:?}: {text}");
        }
    }

    #[test]
    fn input_past_the_limit_is_refused_whole_never_cut() {
        let mut long = b"whsec_abcdefghijkl".to_vec();
        long.resize(SECRET_INPUT_LIMIT + 1, b'a');
        let text = secret_input(long, "a signing secret")
            .unwrap_err()
            .to_string();
        assert!(text.contains("more than 4096 bytes"), "{text}");
        assert!(secret_input(b"whsec_abcdefghijkl\n".to_vec(), "a signing secret").is_ok());
        assert!(
            secret_input(vec![0xff, 0xfe], "a signing secret").is_err(),
            "not UTF-8"
        );
    }

    #[test]
    fn control_characters_are_refused() {
        let text = refusal(Provider::Stripe, "whsec_abc\u{1b}[2Jdefghij");
        assert!(text.contains("control characters"), "{text}");
    }

    #[test]
    fn a_short_secret_names_the_length_rule() {
        let text = refusal(Provider::Stripe, "whsec_abc");
        assert!(
            text.contains("at least 9 characters after whsec_"),
            "{text}"
        );
        let text = refusal(Provider::Stripe, "rk_not_a_signing_secret");
        assert!(text.contains("starts with whsec_"), "{text}");
        assert!(refusal(Provider::Stripe, "\n\n").contains("nothing was given"));
    }
}

#[cfg(test)]
mod snapshots {
    //! Every keys report as a pipe gets it. Ids only: no secret is ever part of one, except the
    //! URL to register, which a rotation shows once.

    use super::*;
    use crate::ui::text::plain;

    fn ring(id: &str, previous: Option<&str>) -> RingSummary {
        RingSummary {
            current_key_id: id.into(),
            created_at: "2026-11-30T09:00:00Z".into(),
            previous_key_id: previous.map(str::to_owned),
            previous_accepted_until: previous.map(|_| "2026-12-01T09:00:00Z".to_owned()),
            ssm_version: 4,
            last_change: Some("2026-11-30T09:00:01Z".into()),
        }
    }

    #[test]
    fn list() {
        let report = KeysList {
            stage: "prod".into(),
            providers: vec![
                ProviderKeys {
                    provider: Provider::Stripe,
                    api_key: Some(ring("k-2f1c", Some("k-0a9b"))),
                    signing_secret: Some(ring("s-77aa", None)),
                    provider_token: Some(ring("k-51d0", None)),
                },
                ProviderKeys {
                    provider: Provider::Paypal,
                    api_key: None,
                    signing_secret: None,
                    provider_token: None,
                },
            ],
            not_under_stage_key: vec!["/marketgrid/prod/signing-secrets/stripe".into()],
        };
        insta::assert_snapshot!("keys_list", plain(&report));
        crate::ui::output::assert_json_contract("keys-list", &report);
        let fitted = crate::ui::text::with_table_width(Some(80), || plain(&report));
        assert!(fitted.lines().all(|l| l.chars().count() <= 80), "{fitted}");
        insta::assert_snapshot!("keys_list_80_columns", fitted);
    }

    #[test]
    fn rotations() {
        let plan = RotationPlan {
            first: false,
            new_key_id: "k-3e4d".into(),
            kept: Some(("k-2f1c".into(), 1_764_579_600_000)),
            revoked: vec!["k-0a9b".into()],
        };
        let rotation = |register_url: Option<&str>, written_to: Option<&str>, dry_run| Rotation {
            provider: Provider::Stripe,
            plan: plan.clone(),
            ssm_version: Some(5),
            dry_run,
            webhook_url: "https://hooks.example.com/webhook/stripe".into(),
            register_url: register_url.map(str::to_owned),
            written_to: written_to.map(str::to_owned),
            in_effect_by: (!dry_run).then(|| "2026-12-01T08:01:00Z".to_owned()),
            finished_earlier_rotation: false,
            provider_update: None,
        };
        let mut pushed = rotation(None, Some("/secure/keys.txt"), false);
        pushed.provider_update = Some(ProviderUpdate {
            endpoint: "we_1Nx".into(),
            carried: Some("k-2f1c".into()),
            carries: Some("k-3e4d".into()),
            verified: true,
        });
        let mut finished = rotation(None, Some("/secure/keys.txt"), false);
        finished.finished_earlier_rotation = true;
        finished.provider_update = pushed.provider_update.clone();
        let report = Rotations {
            failure: None,
            stage: "prod".into(),
            rotations: vec![
                rotation(
                    Some("https://hooks.example.com/webhook/stripe?key=<the key>"),
                    None,
                    false,
                ),
                rotation(None, Some("/secure/keys.txt"), false),
                rotation(None, None, true),
                pushed,
                finished,
            ],
        };
        insta::assert_snapshot!("keys_rotate", plain(&report));
        crate::ui::output::assert_json_contract("keys-rotate", &report);
    }

    #[test]
    fn provider_token_set() {
        let set = |endpoints_seen| provider::TokenSet {
            stage: "prod".into(),
            provider: Provider::Stripe,
            token_id: "k51d0e2aa".into(),
            endpoints_seen,
            ssm_version: 1,
        };
        let text = [plain(&set(Some(2))), plain(&set(None))].join("\n");
        insta::assert_snapshot!("keys_provider_token", text);
        crate::ui::output::assert_json_contract("keys-provider-token", &set(Some(1)));
    }

    #[test]
    fn ring_changes() {
        let change = |changed, previous: Option<&str>| RingChange {
            stage: "prod".into(),
            provider: Provider::Stripe,
            kind: RingKind::SigningSecret,
            current_key_id: "s-77aa".into(),
            previous_key_id: previous.map(str::to_owned),
            previous_accepted_until: previous.map(|_| "2026-12-01T09:00:00Z".to_owned()),
            ssm_version: Some(2),
            changed,
            in_effect_by: changed.then(|| "2026-12-01T08:01:00Z".to_owned()),
            overwritten: None,
        };
        let text = [
            plain(&change(true, Some("s-66bb"))),
            plain(&change(true, None)),
            plain(&change(false, None)),
        ]
        .concat();
        insta::assert_snapshot!("keys_ring_changes", text);
        crate::ui::output::assert_json_contract("keys-ring-change", &change(true, Some("s-66bb")));
    }
}
