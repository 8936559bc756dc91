//! `mgrid keys`: provider API keys and signing secrets, kept as key rings in SSM. A rotation
//! keeps the old key valid for an overlap window so no webhook is refused while the provider is
//! switched over; the new key is shown once (or written to a 0600 file) and never logged.

use anyhow::Result;
use mgrid_contract::Provider;

use crate::cli::{KeysAction, KeysArgs};
use crate::commands::context::Context;
use crate::failure::{Failure, FailureKind};
use crate::ports::KeyRings;
use crate::target::Target;
use crate::ui::output::print_report;
use crate::ui::terminal::verbose_calls;

mod key_file;
mod list;
pub mod provider;
mod ring;
mod rotate;

use list::list;
pub use list::{KeysList, ProviderKeys, RingSummary};
use ring::{Revoke, revoke_previous, set_signing_secret};
pub use ring::{RingChange, RingKind, RingPlan};
use rotate::{RotateOptions, rotate};
pub use rotate::{Rotation, RotationPlans, Rotations};

use provider::ProviderAccess;

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

    use super::provider::ProviderUpdate;
    use super::*;
    use crate::decide::keys::RotationPlan;
    use crate::text::plain;

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
        let fitted = crate::text::with_table_width(Some(80), || plain(&report));
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
