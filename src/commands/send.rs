//! `mgrid send`: a realistic provider webhook, signed as the provider signs it, POSTed to a
//! stage's endpoint with the stage's current API key; with `--count`/`--rate`, a load generator
//! that reports what was accepted and the latency the sender saw.

use std::fmt;
use std::time::{Duration, Instant};

use anyhow::Result;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use mgrid_contract::clock::format_rfc3339;
use mgrid_contract::keyring::Secret;
use mgrid_contract::{EpochMillis, Provider, StageName};
use mgrid_pipeline::cache::KEY_RING_TTL_MS;
use serde::Serialize;
use tokio::task::JoinSet;

use crate::cli::SendArgs;
use crate::clock::now_millis;
use crate::commands::context::Context;
use crate::decide::events::{
    EventIds, EventSpec, body, default_event_type, malformed, signature_headers,
};
use crate::decide::metrics::quantile;
use crate::failure::{Failure, FailureKind};
use crate::http::{HttpClient, client};
use crate::ids::run_id;
use crate::ports::KeyRings;
use crate::target::Target;
use crate::ui::output::print_report;
use crate::ui::terminal::Pace;

const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Events listed one by one in the report, at most.
const LISTED: usize = 10;

/// Where a webhook goes and with which key.
struct Endpoint {
    url: String,
    api_key: Secret,
    signing_secret: Option<Secret>,
    /// When the API key ring was last written, when the store says.
    api_key_changed_at: Option<EpochMillis>,
    /// With `--signing-secret-stdin`: whether the secret given is the stage's.
    signed_as: Option<SignedAs>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SignedAs {
    StagesSecret,
    UnknownSecret,
}

pub async fn run(context: &Context, stage_target: &Target, args: &SendArgs) -> Result<()> {
    let stage = stage_target.name().clone();
    let provider: Provider = args.provider.into();
    let base = stage_target.live_api_url().await?;
    let rings = stage_target.key_rings().await?;
    let mut target = endpoint(&rings, &stage, provider, &base).await?;
    if args.signing_secret_stdin {
        if provider != Provider::Stripe {
            return Err(Failure::new(
                FailureKind::Usage,
                "--signing-secret-stdin signs as Stripe does; PayPal signs with its own private key",
            )
            .next("mgrid send stripe --signing-secret-stdin")
            .into());
        }
        // The stage's own secret is known here; the rehearsal is of one it does not know.
        let stages = target.signing_secret.take();
        let given = crate::commands::secret_input::read_signing_secret(provider)?;
        target.signing_secret = Some(given.clone());
        target.signed_as = Some(if stages.as_ref() == Some(&given) {
            SignedAs::StagesSecret
        } else {
            SignedAs::UnknownSecret
        });
    }
    let spec = EventSpec {
        provider,
        event_type: args
            .event
            .clone()
            .unwrap_or_else(|| default_event_type(provider).to_owned()),
        vendor: args.vendor.clone(),
        amount: args.amount,
        currency: args.currency.clone(),
    };
    // As the provider would keep it: each event sent, at the provider stand-in when there is
    // one (the local stage's, or the one --provider-api-base names).
    // Its control token is in the data directory of the `mgrid dev` that runs it.
    let recorder = match (stage_target, context.global.provider_api_base.as_deref()) {
        (Target::Aws(_), None) => None,
        (_, stand_in) => match stage_target.provider_api(provider, stand_in) {
            Ok(api) => {
                let paths = crate::local::Paths::new(&context.global.data_dir);
                match crate::local::provider_control(&paths) {
                    Ok(control) => Some(Recorder::new(api, provider, control)?),
                    // Keeping events is what --drop-delivery is for; else a delivery goes on.
                    Err(failure) if args.drop_delivery => return Err(failure.into()),
                    Err(failure) => {
                        crate::ui::output::warn(&format!(
                            "the provider stand-in is not told of these events ({failure}): `reconcile` will not list them"
                        ));
                        None
                    }
                }
            }
            Err(_) => None,
        },
    };
    if args.drop_delivery && recorder.is_none() {
        return Err(Failure::new(
            FailureKind::Usage,
            "--drop-delivery keeps events at a provider stand-in, and there is none here",
        )
        .next("use it on the local stage while `mgrid dev` runs, or pass --provider-api-base")
        .into());
    }
    let report = send_all(&target, &spec, args, &stage, recorder).await?;
    print_report(&report, context.global.output)?;
    if args.drop_delivery {
        // Nothing delivered is the point; an event the stand-in did not keep is not.
        return match report.kept_at_provider {
            Some(kept) if kept < report.sent => Err(Failure::new(
                FailureKind::Partial,
                format!(
                    "the provider stand-in kept {kept} of the {} events: `reconcile` will not find the others",
                    report.sent
                ),
            )
            .next("is `mgrid dev` still running? start it, then send again")
            .into()),
            _ => Ok(()),
        };
    }
    if report.accepted < report.sent {
        return Err(Failure::new(
            FailureKind::Partial,
            format!(
                "{} of {} webhooks were not accepted",
                report.sent - report.accepted,
                report.sent
            ),
        )
        .next(why_not_accepted(
            &report,
            target.api_key_changed_at,
            now_millis(),
        ))
        .into());
    }
    Ok(())
}

/// The endpoint of `provider` under `base`, with the current API key and signing secret.
async fn endpoint(
    rings: &impl KeyRings,
    stage: &StageName,
    provider: Provider,
    base: &str,
) -> Result<Endpoint, Failure> {
    let api_ring = rings
        .read(&stage.api_key_ring(provider))
        .await?
        .ok_or_else(|| {
            Failure::new(
                FailureKind::NotFound,
                format!("stage {stage} has no {provider} API key"),
            )
            .next(format!(
                "make one: mgrid keys rotate {provider} --stage {stage}"
            ))
        })?;
    let signing = rings.read(&stage.signing_secret_ring(provider)).await?;
    Ok(Endpoint {
        url: format!("{}/webhook/{provider}", base.trim_end_matches('/')),
        api_key: api_ring.ring.current.secret,
        api_key_changed_at: api_ring.modified_at,
        signing_secret: signing.map(|s| s.ring.current.secret),
        signed_as: None,
    })
}

/// What to do about webhooks that were not accepted, from what the endpoint answered.
/// `key_changed_at`: when the API key ring was last written; a 403 within the functions' cache
/// time after it is most likely the authorizer still holding the ring from before.
fn why_not_accepted(
    report: &SendReport,
    key_changed_at: Option<EpochMillis>,
    now: EpochMillis,
) -> String {
    let stage = &report.stage;
    let refused = report
        .errors
        .iter()
        .any(|e| matches!(e.status, Some(401 | 403)));
    let settles_at = key_changed_at
        .map(|at| at + KEY_RING_TTL_MS)
        .filter(|&at| at > now);
    if refused && let Some(at) = settles_at {
        format!(
            "the API key was rotated less than {} ago, and the authorizer caches key rings that long: it may still hold the ring from before the rotation; send again after {}",
            crate::decide::keys::cache_time(),
            format_rfc3339(at)
        )
    } else if refused {
        format!(
            "a 403 is the authorizer refusing the API key: it is wrong or was rotated away (`mgrid keys list --stage {stage}`)"
        )
    } else if report.failed > 0 {
        format!(
            "the endpoint did not answer: check its URL (`mgrid status --stage {stage}`) and the network"
        )
    } else {
        "the answers above say why".to_owned()
    }
}

/// What became of one POST.
#[derive(Debug, Clone)]
struct Delivery {
    event_id: String,
    status: Option<u16>,
    answer: String,
    latency: Duration,
    /// The event as the provider sent it (None: spoiled with --malformed, which no provider
    /// sends), until it is told to the stand-in.
    body: Option<String>,
}

/// The provider stand-in, told of every event sent, in batches, as the provider would keep it
/// (`POST <stand-in>/_standin/<provider>/events`): what `reconcile` later lists.
struct Recorder {
    client: HttpClient,
    url: String,
    /// The stand-in's control token (`mgrid dev` keeps it in the data directory).
    control: Secret,
    batch: Vec<serde_json::Value>,
    kept: usize,
    failed: Option<String>,
}

/// How many events go to the stand-in in one request.
const RECORD_BATCH: usize = 500;

impl Recorder {
    /// `api`: the provider's base at the stand-in (`<stand-in>/<provider>`).
    fn new(api: String, provider: Provider, control: Secret) -> Result<Recorder, Failure> {
        let base = api
            .strip_suffix(&format!("/{provider}"))
            .unwrap_or(&api)
            .to_owned();
        Ok(Recorder {
            client: client()?,
            url: format!("{base}/_standin/{provider}/events"),
            control,
            batch: Vec::new(),
            kept: 0,
            failed: None,
        })
    }

    async fn add(&mut self, delivery: &mut Delivery) {
        if let Some(body) = delivery.body.take() {
            let delivered = delivery.status.is_some_and(|s| (200..300).contains(&s));
            self.batch
                .push(serde_json::json!({"body": body, "delivered": delivered}));
        }
        if self.batch.len() >= RECORD_BATCH {
            self.flush().await;
        }
    }

    async fn flush(&mut self) {
        if self.batch.is_empty() || self.failed.is_some() {
            return;
        }
        let events = std::mem::take(&mut self.batch);
        let count = events.len();
        let request = hyper::Request::builder()
            .method(hyper::Method::POST)
            .uri(&self.url)
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {}", self.control.expose()))
            .body(Full::new(Bytes::from(
                serde_json::Value::Array(events).to_string(),
            )));
        let answered = match request {
            Ok(request) => {
                tokio::time::timeout(REQUEST_TIMEOUT, self.client.request(request)).await
            }
            Err(e) => {
                self.failed = Some(e.to_string());
                return;
            }
        };
        match answered {
            Ok(Ok(response)) if response.status().is_success() => self.kept += count,
            Ok(Ok(response)) => self.failed = Some(format!("HTTP {}", response.status())),
            Ok(Err(e)) => self.failed = Some(e.to_string()),
            Err(_) => self.failed = Some("no answer".into()),
        }
    }
}

async fn send_all(
    target: &Endpoint,
    spec: &EventSpec,
    args: &SendArgs,
    stage: &StageName,
    mut recorder: Option<Recorder>,
) -> Result<SendReport, Failure> {
    let client = client()?;
    let mut pace = Pace::new(args.rate);
    let bar =
        crate::ui::terminal::progress_bar(args.count, "{bar:30} {pos}/{len} sent  {rate}  {msg}")
            .filter(|_| args.count > 1);
    let started = Instant::now();
    let mut in_flight = JoinSet::new();
    let mut deliveries = Vec::with_capacity(args.count as usize);
    for _ in 0..args.count {
        pace.wait_for(1).await;
        while in_flight.len() >= args.concurrency as usize {
            if let Some(Ok(mut delivery)) = in_flight.join_next().await {
                if let Some(recorder) = recorder.as_mut() {
                    recorder.add(&mut delivery).await;
                }
                deliveries.push(delivery);
            }
        }
        let request = build_request(target, spec, args)?;
        if args.drop_delivery {
            // Made and kept by the provider, never delivered: an outage.
            let mut dropped = Delivery {
                event_id: request.event_id,
                status: None,
                answer: "not delivered (--drop-delivery)".into(),
                latency: Duration::ZERO,
                body: request.body,
            };
            if let Some(recorder) = recorder.as_mut() {
                recorder.add(&mut dropped).await;
            }
            deliveries.push(dropped);
            if let Some(bar) = &bar {
                bar.inc(1);
            }
            continue;
        }
        let client = client.clone();
        in_flight.spawn(async move { post(&client, request).await });
        if let Some(bar) = &bar {
            bar.inc(1);
        }
    }
    while let Some(joined) = in_flight.join_next().await {
        if let Ok(mut delivery) = joined {
            if let Some(recorder) = recorder.as_mut() {
                recorder.add(&mut delivery).await;
            }
            deliveries.push(delivery);
        }
    }
    if let Some(recorder) = recorder.as_mut() {
        recorder.flush().await;
        if let Some(why) = &recorder.failed {
            crate::ui::output::warn(&format!(
                "the provider stand-in did not keep the events sent ({why}; it kept {}): `reconcile` will not list the others",
                recorder.kept
            ));
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let mut report = SendReport::new(stage, spec, &target.url, &deliveries, started.elapsed());
    report.kept_at_provider = recorder.as_ref().map(|r| r.kept);
    report.not_delivered = args.drop_delivery;
    report.spoiled_as = spoiled_as(target, spec.provider, args).map(str::to_owned);
    report.malformed = args.malformed;
    report.signed_with_stdin = args.signing_secret_stdin;
    Ok(report)
}

/// The reason the processor dead-letters these events with, when they are spoiled: what its
/// verification answers for the stage as it is (a stage without the provider's signing secret
/// says so before it looks at any signature).
fn spoiled_as(target: &Endpoint, provider: Provider, args: &SendArgs) -> Option<&'static str> {
    let unverifiable = args.bad_signature
        || provider == Provider::Paypal
        || target.signed_as == Some(SignedAs::UnknownSecret);
    if args.drop_delivery {
        None
    } else if args.malformed {
        Some("malformed-body")
    } else if unverifiable && target.signing_secret.is_none() {
        Some("no-signing-secret")
    } else if unverifiable {
        Some("bad-signature")
    } else {
        None
    }
}

struct ReadyToSend {
    request: hyper::Request<Full<Bytes>>,
    event_id: String,
    /// The event as the provider would have sent it (None when spoiled with --malformed).
    body: Option<String>,
}

fn build_request(
    target: &Endpoint,
    spec: &EventSpec,
    args: &SendArgs,
) -> Result<ReadyToSend, Failure> {
    let now = now_millis();
    let ids = EventIds {
        event: run_id()?,
        object: run_id()?,
        parent: run_id()?,
    };
    let mut text = body(spec, &ids, now);
    let event_id = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v["id"].as_str().map(str::to_owned))
        .unwrap_or_default();
    let headers = signature_headers(
        spec.provider,
        &text,
        target.signing_secret.as_ref(),
        args.bad_signature,
        &ids,
        now,
    );
    let sent = (!args.malformed).then(|| text.clone());
    if args.malformed {
        text = malformed(&text);
    }
    let mut request = hyper::Request::builder()
        .method(hyper::Method::POST)
        .uri(&target.url)
        .header("content-type", "application/json")
        .header(
            "user-agent",
            concat!("mgrid-send/", env!("CARGO_PKG_VERSION")),
        )
        .header("x-api-key", target.api_key.expose());
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let request = request.body(Full::new(Bytes::from(text))).map_err(|e| {
        Failure::new(
            FailureKind::Usage,
            format!("cannot build a request to {}: {e}", target.url),
        )
    })?;
    Ok(ReadyToSend {
        request,
        event_id,
        body: sent,
    })
}

async fn post(client: &HttpClient, prepared: ReadyToSend) -> Delivery {
    let started = Instant::now();
    let body = prepared.body;
    let exchange = async {
        let response = client.request(prepared.request).await.map_err(|e| {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                text = format!("{text}: {cause}");
                source = cause.source();
            }
            text
        })?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        Ok::<_, String>((status, String::from_utf8_lossy(&body).into_owned()))
    };
    let (status, answer) = match tokio::time::timeout(REQUEST_TIMEOUT, exchange).await {
        Ok(Ok((status, answer))) => (Some(status), answer),
        Ok(Err(error)) => (None, error),
        Err(_) => (
            None,
            format!("no answer within {} s", REQUEST_TIMEOUT.as_secs()),
        ),
    };
    Delivery {
        event_id: prepared.event_id,
        status,
        answer,
        latency: started.elapsed(),
        body,
    }
}

#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct SendReport {
    pub stage: String,
    pub provider: Provider,
    pub event_type: String,
    pub endpoint: String,
    pub sent: usize,
    pub accepted: usize,
    pub refused: usize,
    pub failed: usize,
    pub elapsed_ms: u128,
    pub per_second: f64,
    pub latency_ms: Latency,
    /// The first few that were not accepted, with the answer.
    pub errors: Vec<SentEvent>,
    /// Every event, when there were at most ten.
    pub events: Vec<SentEvent>,
    /// Spoiled on purpose (`--bad-signature`, `--malformed`), or a PayPal event (which only
    /// PayPal can sign): the reason the processor will dead-letter them with.
    pub spoiled_as: Option<String>,
    /// Sent without their event type (`--malformed`).
    pub malformed: bool,
    /// Kept at the provider stand-in and delivered to nobody (`--drop-delivery`).
    pub not_delivered: bool,
    /// Signed with the secret given on stdin (`--signing-secret-stdin`).
    pub signed_with_stdin: bool,
    /// How many the provider stand-in kept, when there is one.
    pub kept_at_provider: Option<usize>,
}

#[derive(Debug, Serialize, Default)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct Latency {
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct SentEvent {
    pub event_id: String,
    pub status: Option<u16>,
    pub answer: String,
}

impl SendReport {
    fn new(
        stage: &StageName,
        spec: &EventSpec,
        endpoint: &str,
        deliveries: &[Delivery],
        elapsed: Duration,
    ) -> SendReport {
        let class = |d: &Delivery| d.status.map(|s| s / 100);
        let mut latencies: Vec<f64> = deliveries
            .iter()
            .map(|d| d.latency.as_secs_f64() * 1000.0)
            .collect();
        latencies.sort_by(f64::total_cmp);
        let event = |d: &Delivery| SentEvent {
            event_id: d.event_id.clone(),
            status: d.status,
            answer: d.answer.chars().take(300).collect(),
        };
        SendReport {
            stage: stage.to_string(),
            provider: spec.provider,
            event_type: spec.event_type.clone(),
            endpoint: endpoint.to_owned(),
            sent: deliveries.len(),
            accepted: deliveries.iter().filter(|d| class(d) == Some(2)).count(),
            refused: deliveries.iter().filter(|d| class(d) == Some(4)).count(),
            failed: deliveries
                .iter()
                .filter(|d| !matches!(class(d), Some(2) | Some(4)))
                .count(),
            elapsed_ms: elapsed.as_millis(),
            per_second: deliveries.len() as f64 / elapsed.as_secs_f64().max(1e-9),
            latency_ms: Latency {
                p50: quantile(&latencies, 0.50),
                p99: quantile(&latencies, 0.99),
                max: latencies.last().copied().unwrap_or(0.0),
            },
            errors: deliveries
                .iter()
                .filter(|d| class(d) != Some(2))
                .take(5)
                .map(event)
                .collect(),
            events: if deliveries.len() <= LISTED {
                deliveries.iter().map(event).collect()
            } else {
                Vec::new()
            },
            spoiled_as: None,
            malformed: false,
            not_delivered: false,
            signed_with_stdin: false,
            kept_at_provider: None,
        }
    }
}

impl fmt::Display for SendReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = if self.sent == 1 { "" } else { "s" };
        if self.not_delivered {
            writeln!(
                f,
                "made {} {} {} event{plural} for stage {} and delivered none (--drop-delivery): the provider stand-in keeps {}, as an outage longer than the provider's retries leaves them",
                self.sent,
                self.provider,
                self.event_type,
                self.stage,
                if self.sent == 1 { "it" } else { "them" }
            )?;
            writeln!(
                f,
                "next: mgrid reconcile --stage {} --provider {}",
                self.stage, self.provider
            )?;
        } else if self.malformed {
            writeln!(
                f,
                "sent {} {} webhook{plural} without an event type to stage {} ({})",
                self.sent, self.provider, self.stage, self.endpoint
            )?;
        } else {
            writeln!(
                f,
                "sent {} {} {} webhook{plural} to stage {} ({})",
                self.sent, self.provider, self.event_type, self.stage, self.endpoint
            )?;
        }
        if let Some(reason) = &self.spoiled_as {
            let how = match reason.as_str() {
                "malformed-body" => "without their event type, on purpose",
                "no-signing-secret" => "the stage has no signing secret to verify them with",
                _ if self.provider == Provider::Paypal => "only PayPal can sign a PayPal event",
                _ if self.signed_with_stdin => {
                    "signed with the secret given on stdin, which the stage does not hold"
                }
                _ => "signed with the wrong secret, on purpose",
            };
            writeln!(
                f,
                "  {how}: the processor dead-letters them as {reason} \
                 (`mgrid dlq peek --stage {} --reason {reason}`)",
                self.stage
            )?;
        }
        for event in &self.events {
            writeln!(
                f,
                "  {}  {}  {}",
                event.event_id,
                event.status.map_or("---".to_owned(), |s| s.to_string()),
                event.answer
            )?;
        }
        if self.events.is_empty() {
            for event in &self.errors {
                writeln!(
                    f,
                    "  not accepted: {}  {}  {}",
                    event.event_id,
                    event.status.map_or("---".to_owned(), |s| s.to_string()),
                    event.answer
                )?;
            }
        }
        writeln!(
            f,
            "accepted {}, refused {}, failed {} in {:.2} s ({:.0}/s); latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            self.accepted,
            self.refused,
            self.failed,
            self.elapsed_ms as f64 / 1000.0,
            self.per_second,
            self.latency_ms.p50,
            self.latency_ms.p99,
            self.latency_ms.max
        )
    }
}

#[cfg(test)]
mod snapshots {
    //! The send report as a pipe gets it: a few events listed, and a load with refusals; and
    //! what it says to do about webhooks not accepted.

    use super::*;
    use crate::text::plain;

    fn event(id: &str, status: Option<u16>, answer: &str) -> SentEvent {
        SentEvent {
            event_id: id.into(),
            status,
            answer: answer.into(),
        }
    }

    #[test]
    fn one_and_many() {
        let one = SendReport {
            stage: "local".into(),
            provider: Provider::Stripe,
            event_type: "payment_intent.succeeded".into(),
            endpoint: "http://127.0.0.1:8787/webhook/stripe".into(),
            sent: 1,
            accepted: 1,
            refused: 0,
            failed: 0,
            elapsed_ms: 12,
            per_second: 83.0,
            latency_ms: Latency {
                p50: 11.5,
                p99: 11.5,
                max: 11.5,
            },
            errors: Vec::new(),
            events: vec![event("evt_1", Some(202), "{\"messageId\":\"m-1\"}")],
            spoiled_as: None,
            malformed: false,
            not_delivered: false,
            signed_with_stdin: false,
            kept_at_provider: None,
        };
        insta::assert_snapshot!("send_one", plain(&one));
        crate::ui::output::assert_json_contract("send", &one);
        let load = SendReport {
            sent: 1_000,
            accepted: 997,
            refused: 2,
            failed: 1,
            elapsed_ms: 5_010,
            per_second: 199.6,
            events: Vec::new(),
            errors: vec![
                event("evt_7", Some(403), "{\"message\":\"Forbidden\"}"),
                event("evt_9", None, "connection reset"),
            ],
            ..one
        };
        insta::assert_snapshot!("send_load", plain(&load));
        insta::assert_snapshot!("send_load_80_columns", crate::text::at_80_columns(&load));
        crate::ui::output::assert_json_contract("send", &load);
        assert!(why_not_accepted(&load, Some(0), 600_000).contains("a 403 is the authorizer"));
        assert!(
            why_not_accepted(&load, Some(590_000), 600_000).contains("rotated less than 60 s ago"),
            "a 403 just after a rotation blames the cache, not the key"
        );
        let unreachable = SendReport {
            errors: vec![event("evt_9", None, "connection refused")],
            refused: 0,
            ..load
        };
        assert!(why_not_accepted(&unreachable, None, 0).contains("did not answer"));
    }

    #[test]
    fn a_rehearsal_says_what_it_did_and_the_reason_the_stage_will_give() {
        let dropped = SendReport {
            stage: "local".into(),
            provider: Provider::Stripe,
            event_type: "payment_intent.succeeded".into(),
            endpoint: "http://127.0.0.1:8787/webhook/stripe".into(),
            sent: 10,
            accepted: 0,
            refused: 0,
            failed: 10,
            elapsed_ms: 12,
            per_second: 83.0,
            latency_ms: Latency::default(),
            errors: Vec::new(),
            events: Vec::new(),
            spoiled_as: None,
            malformed: false,
            not_delivered: true,
            signed_with_stdin: false,
            kept_at_provider: Some(10),
        };
        let text = plain(&dropped);
        assert!(text.contains("delivered none (--drop-delivery)"), "{text}");
        assert!(
            text.contains("next: mgrid reconcile --stage local --provider stripe"),
            "{text}"
        );
        assert!(!text.contains("--reason"), "{text}");
        let malformed = SendReport {
            not_delivered: false,
            malformed: true,
            spoiled_as: Some("malformed-body".into()),
            ..dropped
        };
        let text = plain(&malformed);
        assert!(
            text.starts_with("sent 10 stripe webhooks without an event type"),
            "{text}"
        );
        assert!(!text.contains("payment_intent.succeeded"), "{text}");

        let endpoint = |secret: Option<&str>| Endpoint {
            url: String::new(),
            api_key: Secret::new("mgk_x".into()),
            signing_secret: secret.map(|s| Secret::new(s.into())),
            api_key_changed_at: None,
            signed_as: None,
        };
        let args = |extra: &[&str]| {
            use clap::Parser;
            let mut all = vec!["mgrid", "send", "paypal"];
            all.extend_from_slice(extra);
            match crate::cli::Cli::try_parse_from(all)
                .expect("parses")
                .command
            {
                crate::cli::Command::Send(args) => args,
                _ => unreachable!("a send"),
            }
        };
        let unsigned = endpoint(None);
        let signed = endpoint(Some("whsec_x"));
        assert_eq!(
            spoiled_as(&unsigned, Provider::Paypal, &args(&["--bad-signature"])),
            Some("no-signing-secret"),
            "a stage without PayPal's webhook id says so first"
        );
        assert_eq!(
            spoiled_as(&unsigned, Provider::Paypal, &args(&[])),
            Some("no-signing-secret")
        );
        assert_eq!(
            spoiled_as(&signed, Provider::Stripe, &args(&["--bad-signature"])),
            Some("bad-signature")
        );
        assert_eq!(spoiled_as(&signed, Provider::Stripe, &args(&[])), None);
        assert_eq!(
            spoiled_as(&signed, Provider::Stripe, &args(&["--malformed"])),
            Some("malformed-body")
        );
        assert_eq!(
            spoiled_as(&signed, Provider::Stripe, &args(&["--drop-delivery"])),
            None
        );
    }
}
