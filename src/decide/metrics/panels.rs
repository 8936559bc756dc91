//! The dashboard's panels: which signals one chart draws together and how it scales them, what
//! its drill-down adds (queried only while the drill-down is open, in the same GetMetricData
//! call, so the main view costs what it always did), and the command that acts on it.

use mgrid_contract::{FailureReason, Provider};
use mgrid_pipeline::processor::RetryCause;

use super::series::Snapshot;
use super::signal::{ANY, Bound, Levels, Resources, Signal, Stat, Unit, levels};
pub use super::signal::{Panel, Scale};

impl Panel {
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

/// The signals of a stage, in the order the dashboard shows them: traffic in, the queue, the
/// processor, what follows the ledger, and the business outcome; each on the panel that charts it.
#[rustfmt::skip]
pub fn signals(r: &Resources) -> Vec<Signal> {
    use {Panel::*, Stat::*, Unit::*};
    let api = |metric| ("AWS/ApiGateway", metric, vec![("ApiName", r.api_name.clone()), ("Stage", r.stage.clone())]);
    let queue = |metric, name: &str| ("AWS/SQS", metric, vec![("QueueName", name.to_owned())]);
    let lambda = |metric, name: &str| ("AWS/Lambda", metric, vec![("FunctionName", name.to_owned())]);
    let pipe = |name: &str| ("AWS/EventBridge/Pipes", "ExecutionFailed", vec![("PipeName", name.to_owned())]);
    let visible = "ApproximateNumberOfMessagesVisible";
    vec![
        Signal::new("received", "webhooks received", Sum, Count, api("Count")).on(Traffic),
        Signal::new("api_4xx", "API 4XX", Sum, Count, api("4XXError")).on(Failures)
            .levels(levels(Bound::at_least(1.0), Bound::at_least(100.0))).alarm(r, "api-4xx"),
        Signal::new("api_5xx", "API 5XX", Sum, Count, api("5XXError")).on(Failures)
            .levels(Some(ANY)).alarm(r, "api-5xx"),
        // Sub-second is the pipeline's promise.
        Signal::new("latency_p50", "API latency p50", P50, Milliseconds, api("Latency")).on(Latency)
            .levels(levels(Bound::at_least(250.0), Bound::at_least(1000.0))),
        Signal::new("latency_p99", "API latency p99", P99, Milliseconds, api("Latency")).on(Latency)
            .levels(levels(Bound::at_least(500.0), Bound::at_least(1000.0))),
        Signal::new("queue_depth", "queue depth", Maximum, Messages, queue(visible, &r.queue)).on(Queue)
            .levels(levels(Bound::at_least(1000.0), Bound::at_least(10_000.0))),
        Signal::new("oldest_age", "oldest message age", Maximum, Seconds, queue("ApproximateAgeOfOldestMessage", &r.queue)).on(Queue)
            .levels(levels(Bound::above(60.0), Bound::above(300.0))).alarm(r, "oldest-webhook-age"),
        Signal::new("dlq_depth", "DLQ depth", Maximum, Messages, queue(visible, &r.dlq)).on(DeadLetters)
            .levels(Some(ANY)).alarm(r, "dlq-not-empty"),
        Signal::new("invocations", "processor invocations", Sum, Count, lambda("Invocations", &r.processor)).on(Processor),
        Signal::new("errors", "processor errors", Sum, Count, lambda("Errors", &r.processor)).on(Failures)
            .levels(Some(ANY)).alarm(r, "processor-errors"),
        Signal::new("throttles", "processor throttles", Sum, Count, lambda("Throttles", &r.processor)).on(Failures)
            .levels(Some(ANY)).alarm(r, "processor-throttles"),
        // What the processor rejects is no Lambda error: without this, a stage dead-lettering
        // every webhook shows a quiet failures panel. Summed from its reasons here, in the same
        // call, as the processor counts them by reason only.
        Signal::sum_of("dead_lettered", "dead-lettered", dead_letter_reasons(r)).on(Failures)
            .levels(levels(Bound::at_least(1.0), Bound::at_least(100.0))),
        // The processor's timeout is 30 s.
        Signal::new("duration_p99", "processor duration p99", P99, Milliseconds, lambda("Duration", &r.processor)).on(Latency)
            .levels(levels(Bound::at_least(1000.0), Bound::at_least(10_000.0))),
        Signal::new("concurrency", "processor concurrency", Maximum, Count, lambda("ConcurrentExecutions", &r.processor)).on(Processor),
        Signal::new("authorizer_errors", "authorizer errors", Sum, Count, lambda("Errors", &r.authorizer)).on(Failures)
            .levels(Some(ANY)).alarm(r, "authorizer-errors"),
        Signal::new("archiver_errors", "archiver errors", Sum, Count, lambda("Errors", &r.archiver)).on(Failures)
            .levels(Some(ANY)).alarm(r, "archiver-errors"),
        Signal::new("notifier_errors", "notifier errors", Sum, Count, lambda("Errors", &r.notifier)).on(Failures)
            .levels(Some(ANY)).alarm(r, "notifier-errors"),
        // After the ledger: how far behind the archive and the vendors are (the slowest payment
        // of the minute), as the legs report it.
        Signal::new("archive_lag", "archive lag", Maximum, Milliseconds, leg_lag(r, "archive")).on(Latency)
            .levels(levels(Bound::at_least(60_000.0), Bound::at_least(600_000.0))),
        Signal::new("notify_lag", "vendor notify lag", Maximum, Milliseconds, leg_lag(r, "notify")).on(Latency)
            .levels(levels(Bound::at_least(60_000.0), Bound::at_least(600_000.0))),
        Signal::new("archive_pipe", "archive pipe failures", Sum, Count, pipe(&r.archive_pipe)).on(Failures)
            .levels(Some(ANY)).alarm(r, "archive-pipe-failures"),
        Signal::new("notify_pipe", "notify pipe failures", Sum, Count, pipe(&r.notify_pipe)).on(Failures)
            .levels(Some(ANY)).alarm(r, "notify-pipe-failures"),
        Signal::new("pipe_dlq_depth", "pipe DLQ depth", Maximum, Messages, queue(visible, &r.pipe_dlq)).on(DeadLetters)
            .levels(Some(ANY)).alarm(r, "pipe-dlq-not-empty"),
        Signal::new("transactions", "successful transactions", Sum, Count,
            ("MarketGrid", "SuccessfulTransactions", vec![("Stage", r.stage.clone())])).on(Traffic),
    ]
}

/// A leg's lag after the ledger, as its function publishes it (EMF, by Stage and Leg).
fn leg_lag(r: &Resources, leg: &str) -> (&'static str, &'static str, Vec<(&'static str, String)>) {
    (
        "MarketGrid",
        "LegLag",
        vec![("Stage", r.stage.clone()), ("Leg", leg.to_owned())],
    )
}

/// The signals of one refresh: every main signal, and the breakdown of the open drill-down.
pub fn signals_with(r: &Resources, focus: Option<Panel>) -> Vec<Signal> {
    let mut all = signals(r);
    if let Some(panel) = focus {
        all.extend(breakdown(r, panel));
    }
    all
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
