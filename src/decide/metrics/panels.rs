//! The dashboard's panels: which signals one chart draws together and how it scales them, what
//! its drill-down adds (queried only while the drill-down is open, in the same GetMetricData
//! call, so the main view costs what it always did), and the command that acts on it.

use mgrid_contract::{FailureReason, Provider};
use mgrid_pipeline::processor::RetryCause;
use serde::Serialize;

use super::{Bound, Levels, Resources, Signal, Snapshot, Stat, Unit};

/// A chart of the dashboard, and its drill-down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Panel {
    Traffic,
    Failures,
    DeadLetters,
    Queue,
    Latency,
    Processor,
}

/// How a chart's value axis is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// From zero to the highest value in the window.
    Linear,
    /// log10(1 + value): a failure or two stays visible beside thousands.
    Log,
}

impl Panel {
    pub const ALL: [Panel; 6] = [
        Panel::Traffic,
        Panel::Failures,
        Panel::DeadLetters,
        Panel::Queue,
        Panel::Latency,
        Panel::Processor,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Panel::Traffic => "received vs recorded",
            Panel::Failures => "failures by reason",
            Panel::DeadLetters => "dead letters",
            Panel::Queue => "webhook queue",
            Panel::Latency => "latency",
            Panel::Processor => "processor",
        }
    }

    /// The series whose unit the chart's value axis is in; a panel's series in another unit
    /// are in its legend only.
    pub fn axis_key(self) -> &'static str {
        match self {
            Panel::Traffic => "received",
            Panel::Failures => "api_4xx",
            Panel::DeadLetters => "dlq_depth",
            Panel::Queue => "oldest_age",
            Panel::Latency => "latency_p50",
            Panel::Processor => "invocations",
        }
    }

    pub fn scale(self) -> Scale {
        match self {
            Panel::Failures => Scale::Log,
            _ => Scale::Linear,
        }
    }

    /// What the drill-down shows beyond the main view.
    pub fn breakdown_note(self) -> &'static str {
        match self {
            Panel::Traffic => "received by provider (API Gateway's per-resource metrics)",
            Panel::Failures => {
                "refused by provider, and the processor's failed webhooks by reason (dead-lettered or retried)"
            }
            Panel::DeadLetters => "webhooks dead-lettered in the window, by reason",
            Panel::Latency => {
                "API latency p50, p90, p99 and maximum; processor duration p50 and p99"
            }
            Panel::Queue | Panel::Processor => "no breakdown beyond the main view",
        }
    }

    /// The command an operator runs next, from what the snapshot shows.
    pub fn act(self, snapshot: &Snapshot) -> String {
        let stage = &snapshot.stage;
        match self {
            Panel::Traffic => format!("mgrid reconcile --stage {stage}"),
            Panel::Failures => {
                format!("mgrid logs processor api --level warn --since 15m --stage {stage}")
            }
            Panel::DeadLetters => match top_dead_letter_reason(snapshot) {
                Some(reason) => format!("mgrid dlq peek --stage {stage} --reason {reason}"),
                None => format!("mgrid dlq stats --stage {stage}"),
            },
            Panel::Queue => format!("mgrid status --stage {stage}"),
            Panel::Latency => format!("mgrid logs api --since 15m --stage {stage}"),
            Panel::Processor => format!("mgrid logs processor --since 15m --stage {stage}"),
        }
    }
}

/// The dead-letter reason with the most webhooks in the window, when the drill-down read them.
fn top_dead_letter_reason(snapshot: &Snapshot) -> Option<&'static str> {
    FailureReason::ALL
        .iter()
        .filter_map(|reason| {
            let key = reason_key(reason.as_str());
            let series = snapshot.series.iter().find(|s| s.key == key)?;
            let total: f64 = series.points.iter().map(|p| p.value).sum();
            (total > 0.0).then_some((reason.as_str(), total))
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(reason, _)| reason)
}

/// The query id of a failure reason's series: `failed_bad_signature`.
pub fn reason_key(reason: &str) -> &'static str {
    // Query ids are static, as every signal's key is; the reasons are a closed list.
    REASONS
        .iter()
        .find(|(r, _, _)| *r == reason)
        .map(|(_, key, _)| *key)
        .unwrap_or("failed_other")
}

/// Each reason the processor counts a failed webhook under: its query id and its label.
const REASONS: [(&str, &str, &str); 17] = [
    (
        "malformed-body",
        "failed_malformed_body",
        "dead-lettered: malformed-body",
    ),
    (
        "malformed-message",
        "failed_malformed_message",
        "dead-lettered: malformed-message",
    ),
    (
        "missing-event-id",
        "failed_missing_event_id",
        "dead-lettered: missing-event-id",
    ),
    (
        "invalid-event-id",
        "failed_invalid_event_id",
        "dead-lettered: invalid-event-id",
    ),
    (
        "unknown-provider",
        "failed_unknown_provider",
        "dead-lettered: unknown-provider",
    ),
    (
        "missing-signature",
        "failed_missing_signature",
        "dead-lettered: missing-signature",
    ),
    (
        "bad-signature",
        "failed_bad_signature",
        "dead-lettered: bad-signature",
    ),
    (
        "signature-expired",
        "failed_signature_expired",
        "dead-lettered: signature-expired",
    ),
    (
        "no-signing-secret",
        "failed_no_signing_secret",
        "dead-lettered: no-signing-secret",
    ),
    (
        "untrusted-certificate",
        "failed_untrusted_certificate",
        "dead-lettered: untrusted-certificate",
    ),
    (
        "invalid-amount",
        "failed_invalid_amount",
        "dead-lettered: invalid-amount",
    ),
    ("too-large", "failed_too_large", "dead-lettered: too-large"),
    (
        "ledger-unavailable",
        "failed_ledger_unavailable",
        "retried: ledger-unavailable",
    ),
    (
        "secrets-unavailable",
        "failed_secrets_unavailable",
        "retried: secrets-unavailable",
    ),
    (
        "certificate-unavailable",
        "failed_certificate_unavailable",
        "retried: certificate-unavailable",
    ),
    (
        "dlq-unavailable",
        "failed_dlq_unavailable",
        "retried: dlq-unavailable",
    ),
    (
        "held-for-order",
        "failed_held_for_order",
        "retried: held-for-order",
    ),
];

/// The key of a per-provider series: `received_stripe`, `api_4xx_paypal`.
pub fn provider_key(base: &str, provider: Provider) -> &'static str {
    PROVIDER_KEYS
        .iter()
        .find(|(b, p, _)| *b == base && *p == provider)
        .map(|(_, _, key)| *key)
        .unwrap_or("unknown_provider")
}

const PROVIDER_KEYS: [(&str, Provider, &str); 6] = [
    ("received", Provider::Stripe, "received_stripe"),
    ("received", Provider::Paypal, "received_paypal"),
    ("api_4xx", Provider::Stripe, "api_4xx_stripe"),
    ("api_4xx", Provider::Paypal, "api_4xx_paypal"),
    ("api_5xx", Provider::Stripe, "api_5xx_stripe"),
    ("api_5xx", Provider::Paypal, "api_5xx_paypal"),
];

fn reason_label(reason: &str) -> &'static str {
    REASONS
        .iter()
        .find(|(r, _, _)| *r == reason)
        .map(|(_, _, label)| *label)
        .unwrap_or("failed: other")
}

/// Every reason the processor counts a failed webhook under: dead-letter reasons, then retry
/// causes.
pub fn failure_reasons() -> impl Iterator<Item = &'static str> {
    FailureReason::ALL
        .into_iter()
        .map(FailureReason::as_str)
        .chain(RetryCause::ALL.into_iter().map(RetryCause::as_str))
}

/// The processor's dead-lettered webhooks, one signal a reason (what the failures panel's
/// `dead_lettered` sums).
pub fn dead_letter_reasons(r: &Resources) -> Vec<Signal> {
    FailureReason::ALL
        .into_iter()
        .map(|reason| failed_webhooks(r, reason.as_str()))
        .collect()
}

fn failed_webhooks(r: &Resources, reason: &str) -> Signal {
    use {Stat::*, Unit::*};
    let metric = (
        "MarketGrid",
        "FailedWebhooks",
        vec![("Stage", r.stage.clone()), ("Reason", reason.to_owned())],
    );
    Signal::new(reason_key(reason), reason_label(reason), Sum, Count, metric)
}

/// The signals a panel's drill-down adds to the refresh while it is open.
pub fn breakdown(r: &Resources, panel: Panel) -> Vec<Signal> {
    use {Stat::*, Unit::*};
    let by_resource = |metric, provider: Provider| {
        (
            "AWS/ApiGateway",
            metric,
            vec![
                ("ApiName", r.api_name.clone()),
                ("Method", "POST".to_owned()),
                ("Resource", format!("/webhook/{}", provider.as_str())),
                ("Stage", r.stage.clone()),
            ],
        )
    };
    let failed = |reason: &str| failed_webhooks(r, reason);
    let api = |metric| {
        (
            "AWS/ApiGateway",
            metric,
            vec![("ApiName", r.api_name.clone()), ("Stage", r.stage.clone())],
        )
    };
    let lambda = |metric| {
        (
            "AWS/Lambda",
            metric,
            vec![("FunctionName", r.processor.clone())],
        )
    };
    let per_provider =
        |base: &'static str, metric: &'static str, label: fn(Provider) -> &'static str| {
            Provider::ALL.into_iter().map(move |p| {
                Signal::new(
                    provider_key(base, p),
                    label(p),
                    Sum,
                    Count,
                    by_resource(metric, p),
                )
            })
        };
    let signals: Vec<Signal> = match panel {
        Panel::Traffic => per_provider("received", "Count", |p| match p {
            Provider::Stripe => "received from stripe",
            Provider::Paypal => "received from paypal",
        })
        .collect(),
        Panel::Failures => per_provider("api_4xx", "4XXError", |p| match p {
            Provider::Stripe => "refused (4XX): stripe",
            Provider::Paypal => "refused (4XX): paypal",
        })
        .chain(per_provider("api_5xx", "5XXError", |p| match p {
            Provider::Stripe => "API 5XX: stripe",
            Provider::Paypal => "API 5XX: paypal",
        }))
        .chain(failure_reasons().map(failed))
        .collect(),
        Panel::DeadLetters => FailureReason::ALL
            .into_iter()
            .map(|reason| failed(reason.as_str()))
            .collect(),
        Panel::Latency => vec![
            Signal::new(
                "latency_p90",
                "API latency p90",
                P90,
                Milliseconds,
                api("Latency"),
            )
            .levels(Some(Levels {
                warning: Bound::at_least(500.0),
                alarm: Bound::at_least(1000.0),
            })),
            Signal::new(
                "latency_max",
                "API latency max",
                Maximum,
                Milliseconds,
                api("Latency"),
            ),
            Signal::new(
                "duration_p50",
                "processor duration p50",
                P50,
                Milliseconds,
                lambda("Duration"),
            ),
        ],
        Panel::Queue | Panel::Processor => Vec::new(),
    };
    signals
        .into_iter()
        .map(|s| Signal {
            panel,
            breakdown: true,
            ..s
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_failure_reason_has_its_own_query_id_and_label() {
        let reasons: Vec<_> = failure_reasons().collect();
        assert_eq!(reasons.len(), REASONS.len());
        for reason in reasons {
            assert_ne!(reason_key(reason), "failed_other", "{reason}");
            assert_ne!(reason_label(reason), "failed: other", "{reason}");
        }
        for provider in Provider::ALL {
            for base in ["received", "api_4xx", "api_5xx"] {
                assert_ne!(provider_key(base, provider), "unknown_provider");
            }
        }
    }

    #[test]
    fn a_breakdown_is_only_queried_with_its_panel_and_keys_stay_unique() {
        let r = Resources::named_for("prod");
        let mut keys: Vec<&str> = super::super::signals(&r).iter().map(|s| s.key).collect();
        for panel in Panel::ALL {
            let extra = breakdown(&r, panel);
            assert!(extra.iter().all(|s| s.breakdown && s.panel == panel));
            keys.extend(extra.iter().map(|s| s.key));
        }
        let before = keys.len();
        keys.sort();
        keys.dedup();
        // The dead-letter reasons are in two drill-downs (failures and dead letters) with the
        // same query; only one is open at a time.
        assert_eq!(before - keys.len(), FailureReason::ALL.len());
        assert!(
            keys.len() <= super::super::MAX_QUERIES,
            "one GetMetricData call"
        );
    }
}
