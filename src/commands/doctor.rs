//! `mgrid doctor`: the stage as each provider sees it. Reads the providers' webhook endpoints
//! through their own APIs (with the stage's provider tokens) and the stage's key rings, hands
//! them to `decide::doctor`, and reports a verdict per check; exit 1 when anything is a problem
//! or could not be checked.

use std::fmt;

use anyhow::Result;
use mgrid_contract::{EpochMillis, Provider};
use serde::Serialize;

use crate::cli::DoctorArgs;
use crate::clock::now_millis;
use crate::commands::context::Context;
use crate::decide::doctor::{Finding, Health, ProviderFacts, examine, last_delivery, waf};
use crate::decide::logs::{LogQuery, LogSource};
use crate::failure::{Failure, FailureKind};
use crate::ports::{KeyRings, Logs};
use crate::target::Target;
use crate::text::table;
use crate::ui::output::{print_report, warn};

#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Doctor {
    pub stage: String,
    pub findings: Vec<Finding>,
    pub problems: usize,
    pub unchecked: usize,
    pub warnings: usize,
}

pub async fn run(context: &Context, target: &Target, args: &DoctorArgs) -> Result<()> {
    let stage = target.name();
    let rings = target.key_rings().await?;
    let api_url = target.api_url().await?;
    let stand_in = context.global.provider_api_base.as_deref();
    let providers: Vec<Provider> = match args.provider {
        Some(provider) => vec![provider.into()],
        None => Provider::ALL.to_vec(),
    };
    let waf_limit = target.waf_rate_limit().await?;
    let now = now_millis();
    let mut findings = Vec::new();
    for provider in providers {
        findings.extend(examine_provider(target, &rings, &api_url, stand_in, provider).await?);
        findings.push(waf(provider, waf_limit));
        let seen = last_recorded(target, provider, now - args.quiet_after.0)
            .await
            .map_err(|e| said(&e));
        findings.push(last_delivery(
            provider,
            stage,
            seen,
            args.quiet_after.0,
            now,
        ));
    }
    let count = |verdict| findings.iter().filter(|f| f.verdict == verdict).count();
    let report = Doctor {
        stage: stage.to_string(),
        problems: count(Health::Problem),
        unchecked: count(Health::Unchecked),
        warnings: count(Health::Warning),
        findings,
    };
    print_report(&report, context.global.output)?;
    if report.problems + report.unchecked > 0 {
        return Err(Failure::new(
            FailureKind::Failed,
            format!(
                "stage {stage}: {} problem{}, {} not checked",
                report.problems,
                if report.problems == 1 { "" } else { "s" },
                report.unchecked
            ),
        )
        .next("each line above says what to do")
        .into());
    }
    Ok(())
}

/// Every finding for one provider: its endpoints read with the stage's token (if set).
async fn examine_provider(
    target: &Target,
    rings: &impl KeyRings,
    api_url: &str,
    stand_in: Option<&str>,
    provider: Provider,
) -> Result<Vec<Finding>, Failure> {
    let stage = target.name();
    let api_keys = rings.read(&stage.api_key_ring(provider)).await?;
    let signing = rings.read(&stage.signing_secret_ring(provider)).await?;
    let endpoints = match target.provider_client(rings, provider, stand_in).await {
        Ok(Some(client)) => Some(client.endpoints().await.map_err(|e| said(&e))),
        Ok(None) => None,
        Err(error) => Some(Err(said(&error))),
    };
    let webhook_url = format!("{api_url}/webhook/{provider}");
    Ok(examine(&ProviderFacts {
        provider,
        stage,
        webhook_url: &webhook_url,
        endpoints: endpoints
            .as_ref()
            .map(|read| read.as_deref().map_err(Clone::clone)),
        api_keys: api_keys.as_ref().map(|s| &s.ring),
        signing_secrets: signing.as_ref().map(|s| &s.ring),
        signatures_verified: !(matches!(target, Target::Local(_)) && provider == Provider::Paypal),
        now: now_millis(),
    }))
}

/// When the processor last logged a webhook of `provider` recorded, since `from` (None: not
/// once). Reads its decision lines that say `recorded`, at most a thousand.
async fn last_recorded(
    target: &Target,
    provider: Provider,
    from: EpochMillis,
) -> Result<Option<EpochMillis>, Failure> {
    let query = LogQuery {
        sources: vec![LogSource::Processor],
        from,
        to: None,
        text: Some("recorded".into()),
        event_id: None,
        level: None,
        metrics: false,
    };
    let found = target.logs().read(&query, from, 1000).await?;
    Ok(found
        .lines
        .iter()
        .filter(|line| {
            line.decision.as_ref().is_some_and(|d| {
                d.outcome == "recorded" && d.provider.as_deref() == Some(provider.as_str())
            })
        })
        .map(|line| line.time)
        .max())
}

/// After a deploy: the providers' side of the stage, for each provider whose token is set, as
/// warnings (a deploy that worked is not failed by them). Silent when no token is set.
pub async fn after_deploy(context: &Context, target: &Target) {
    let checked = async {
        let rings = target.key_rings().await?;
        let api_url = target.api_url().await?;
        let stand_in = context.global.provider_api_base.as_deref();
        let mut lines = Vec::new();
        for provider in Provider::ALL {
            let token = target.name().provider_token_ring(provider);
            if rings.read(&token).await?.is_none() {
                continue;
            }
            for finding in examine_provider(target, &rings, &api_url, stand_in, provider).await? {
                if finding.verdict != Health::Ok {
                    lines.push(format!(
                        "{provider} {}: {}{}",
                        finding.check,
                        finding.said,
                        finding
                            .next
                            .map(|next| format!(" (next: {next})"))
                            .unwrap_or_default()
                    ));
                }
            }
        }
        Ok::<_, Failure>(lines)
    };
    match checked.await {
        Ok(lines) => {
            for line in lines {
                warn(&format!("the providers' side: {line}"));
            }
        }
        Err(error) => warn(&format!(
            "the providers' side was not checked after the deploy: {error} (`mgrid doctor --stage {}` checks it)",
            target.name()
        )),
    }
}

/// A failure as a finding says it: what happened and what to do, in one line.
fn said(failure: &Failure) -> String {
    match &failure.next {
        Some(next) => format!("{failure} (next: {next})"),
        None => failure.to_string(),
    }
}

impl fmt::Display for Doctor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rows = table(&["provider", "check", "verdict", "what"]);
        for finding in &self.findings {
            // Coloured by the table, not by escapes in the text, which it would count as width.
            use comfy_table::{Attribute, Cell, Color};
            let verdict = match finding.verdict {
                Health::Ok => Cell::new("ok").fg(Color::Green),
                Health::Warning => Cell::new("warning").fg(Color::Yellow),
                Health::Problem => Cell::new("PROBLEM").fg(Color::Red),
                Health::Unchecked => Cell::new("unchecked").fg(Color::Yellow),
            }
            .add_attribute(Attribute::Bold);
            let what = match &finding.endpoint {
                Some(id) => format!("{id}: {}", finding.said),
                None => finding.said.clone(),
            };
            rows.add_row(vec![
                Cell::new(finding.provider.to_string()),
                Cell::new(finding.check.to_string()),
                verdict,
                Cell::new(what),
            ]);
        }
        writeln!(f, "stage {} as the providers see it\n{rows}", self.stage)?;
        let todo: Vec<&Finding> = self
            .findings
            .iter()
            .filter(|f| f.verdict != Health::Ok && f.next.is_some())
            .collect();
        for finding in &todo {
            writeln!(
                f,
                "next ({} {}): {}",
                finding.provider,
                finding.check,
                finding.next.as_deref().unwrap_or_default()
            )?;
        }
        writeln!(
            f,
            "{} problem{}, {} unchecked, {} warning{}",
            self.problems,
            if self.problems == 1 { "" } else { "s" },
            self.unchecked,
            self.warnings,
            if self.warnings == 1 { "" } else { "s" }
        )
    }
}

#[cfg(test)]
mod snapshots {
    use super::*;
    use crate::decide::doctor::Check;
    use crate::text::plain;

    #[test]
    fn doctor() {
        let finding = |provider, check, verdict, said: &str, next: Option<&str>| Finding {
            provider,
            check,
            verdict,
            said: said.into(),
            endpoint: Some("we_1Nx".into()),
            next: next.map(str::to_owned),
        };
        let report = Doctor {
            stage: "prod".into(),
            findings: vec![
                finding(
                    Provider::Stripe,
                    Check::Endpoint,
                    Health::Ok,
                    "points at this stage: https://h.example.com/prod/webhook/stripe?key=<k3e4d0a1b>",
                    None,
                ),
                finding(
                    Provider::Stripe,
                    Check::Key,
                    Health::Warning,
                    "carries the previous key k2f1c0000, accepted for 3h 20m more (until 2026-12-04T20:00:00Z); then every delivery is refused",
                    Some("mgrid keys rotate stripe --update-provider --stage prod"),
                ),
                finding(
                    Provider::Stripe,
                    Check::Events,
                    Health::Problem,
                    "not subscribed to charge.refunded: those payments never reach the ledger",
                    Some("add them to the endpoint's events at Stripe"),
                ),
                Finding {
                    provider: Provider::Paypal,
                    check: Check::ProviderToken,
                    verdict: Health::Unchecked,
                    said: "no paypal token is set for the stage: its endpoints were not read"
                        .into(),
                    endpoint: None,
                    next: Some("mgrid keys set-provider-token paypal --stage prod".into()),
                },
            ],
            problems: 1,
            unchecked: 1,
            warnings: 1,
        };
        insta::assert_snapshot!("doctor", plain(&report));
        crate::ui::output::assert_json_contract("doctor", &report);
    }
}
