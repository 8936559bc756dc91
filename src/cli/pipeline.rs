//! The flags of the verbs that run or watch the pipeline: `dev`, `send`, `metrics`, `logs`,
//! `trace`.

use clap::{Args, Subcommand};

use super::parse::*;
use crate::decide::logs::LogSource;

#[derive(Debug, Clone, Args)]
#[command(after_long_help = "\
Runs the data plane of the `local` stage until Ctrl-C: an HTTP ingress on 127.0.0.1 with the
deployed routes (POST /webhook/stripe, POST /webhook/paypal) and the authorizer's rule (API key
in X-API-Key or ?key=); a durable FIFO queue with the deployed semantics (per-group order,
5-minute deduplication, receive count, dead-lettering after 10 receives; visibility 30 s
instead of 180 s); the processor and archiver (the Lambda functions' own code); the ledger,
queues and key rings in SQLite (<data-dir>/mgrid.db); the archive as files with the archive's
key layout (<data-dir>/archive/webhooks/...); each vendor notification printed on stdout.

A 200 from the ingress means the webhook is on disk (committed and synced). Killed at any
moment, a restart loses no acknowledged webhook and records none twice. Ctrl-C stops taking
webhooks, finishes the batches in hand and hands every message in flight back to the queue.

The first start creates the local API key rings and a Stripe signing secret and prints a
ready-to-paste command. PayPal webhooks cannot be verified locally (PayPal's certificates are
on the internet): they are dead-lettered with their reason, as a stage without a PayPal webhook
id would.")]
pub struct DevArgs {
    /// Port of the HTTP ingress on 127.0.0.1 (0: any free port)
    #[arg(long, default_value_t = 8787)]
    pub port: u16,
    /// Processor workers (each takes batches of ten, as the event source mapping does)
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub workers: u16,
    /// Do not print vendor notifications
    #[arg(long)]
    pub quiet: bool,
    /// Also POST each vendor notification (the notify pipe's JSON) to this http:// or https://
    /// URL. Notifications never hold up archiving: one the URL does not take is tried again
    /// with backoff, ten times at most as the notify pipe does, then kept as a notify dead
    /// letter (`mgrid status --stage local` counts them)
    #[arg(long, value_name = "URL", value_parser = crate::http::NotifyUrl::parse)]
    pub notify_url: Option<crate::http::NotifyUrl>,
    /// Wait this many milliseconds between attempts of the legs after the ledger, instead of
    /// the pipes' doubling waits (the number of attempts stays the pipes'): for fault drills
    #[arg(long, value_name = "MS", hide = true)]
    pub leg_retry_ms: Option<u64>,
}

#[derive(Debug, Clone, Args)]
#[command(after_long_help = "\
Builds the event the provider would send (Stripe: an event whose object matches the type, with
metadata.vendor_id; PayPal: a webhook event whose resource has the amount, custom_id and order),
signs it as the provider does and POSTs it to the stage's endpoint with the stage's current API
key (in the X-API-Key header, never in a URL that could be logged).

Stages: `local` reads the endpoint and keys `mgrid dev` wrote under --data-dir; a deployed stage
reads its API URL and key rings from SSM (decrypting them needs kms:Decrypt on the stage key).
Stripe events are signed with the stage's endpoint secret when one is set (`mgrid keys
set-signing-secret`); PayPal signs with its own private key, so a PayPal event from mgrid never
verifies: the processor dead-letters it.

With --count or --rate it is a load generator: --concurrency requests at a time, paced to --rate,
then a summary: accepted (2xx), refused (4xx), failed (5xx or no answer), latency p50/p99/max.
Exits 7 when some were not accepted. With --drop-delivery nothing is delivered, on purpose: it
exits 0 once the provider stand-in kept every event, and 7 when it did not.")]
pub struct SendArgs {
    /// The provider whose webhook to send
    #[arg(value_enum)]
    pub provider: ProviderArg,
    /// Event type [default: payment_intent.succeeded for stripe, PAYMENT.CAPTURE.COMPLETED for paypal]
    #[arg(long, value_name = "TYPE")]
    pub event: Option<String>,
    /// The vendor the payment is for
    #[arg(long, default_value = "vendor-1", value_name = "V")]
    pub vendor: String,
    /// Amount in minor units (cents)
    #[arg(long, default_value_t = 1999, value_parser = clap::value_parser!(i64).range(0..=100_000_000_000))]
    pub amount: i64,
    /// Currency (ISO 4217)
    #[arg(long, default_value = "usd", value_parser = parse_currency)]
    pub currency: String,
    /// How many webhooks (each a new event)
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub count: u64,
    /// At most this many per second [default: as fast as --concurrency allows]
    #[arg(long, value_name = "N", value_parser = parse_rate, allow_negative_numbers = true)]
    pub rate: Option<f64>,
    /// Requests in flight at once
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub concurrency: u16,
    /// Sign with a wrong secret (the processor dead-letters it as bad-signature)
    #[arg(long)]
    pub bad_signature: bool,
    /// Send an event without its type: queued, then dead-lettered as malformed-body (a body that
    /// is not JSON at all is refused with 400, by the deployed API and by mgrid dev alike)
    #[arg(long)]
    pub malformed: bool,
    /// Keep the events at the provider stand-in as sent, but deliver none, as a provider outage
    /// longer than its retries would (what `mgrid reconcile` then finds missing)
    #[arg(long, conflicts_with_all = ["bad_signature", "malformed"])]
    pub drop_delivery: bool,
    /// Sign with the Stripe signing secret read from stdin (one line, not shown) instead of
    /// the stage's: rehearse a provider that rolled its secret and signs with one the stage
    /// does not know yet. They are dead-lettered as bad-signature; `mgrid keys
    /// set-signing-secret stripe` with the same secret, then `mgrid dlq redrive`, records them
    #[arg(long, conflicts_with_all = ["bad_signature", "malformed", "drop_delivery"])]
    pub signing_secret_stdin: bool,
}

#[derive(Debug, Clone, Args)]
pub struct MetricsArgs {
    #[command(subcommand)]
    pub action: MetricsAction,
}

#[derive(Debug, Clone, Subcommand)]
pub enum MetricsAction {
    /// The stage's dashboard, live: each signal now and over the window, charts, drill-downs
    #[command(after_long_help = "\
Signals: webhooks received and recorded, API 4XX/5XX, API latency p50/p99, queue depth, oldest
message age, DLQ depth, processor invocations/errors/throttles/duration p99/concurrency,
authorizer and archiver errors, pipe failures, pipe DLQ depth; then the stage's alarms in ALARM.
Resource names come from the stage's SSM parameters, as every command reads them.

now: the period still filling, marked partial (a count as a rate per second between two
refreshes). last: the latest complete period. A last value more than two periods old is stale,
not current. Zero (0/s), no data and n/a (not measured: the backend could not answer, or the
stage has no such thing) read differently.

Colours: green ok, yellow warning, red at or past the stack's alarm threshold (or its alarm is
in ALARM); dim: stale, no data, n/a.

On a terminal of 100x30 or more: one chart per panel (received vs recorded, failures by reason
on a log scale, dead letters, the queue, latency, the processor), with time and value axes;
smaller, one row a signal. The header turns red when the backend stops answering (or mgrid dev
stops), with why and since when; the last data stays. Keys: up/down select a panel, Enter opens
it with its breakdown and the command that acts on it (Esc back), + / - window, [ / ] period,
p pause, r refresh, ? help, q quit.

Without a terminal (or with --output json) it prints a snapshot every interval: a table, or one
JSON document per line; Ctrl-C ends it. --once prints one snapshot and exits.

Each refresh is one GetMetricData call for all signals (an open drill-down adds its breakdown to
that call) plus one DescribeAlarms call. CloudWatch bills GetMetricData by metrics requested:
about 20 per refresh, so the default 10s interval asks for about 170,000 a day (see CloudWatch
pricing); a longer --interval costs less.")]
    Tail(TailArgs),
}

#[derive(Debug, Clone, Args)]
pub struct TailArgs {
    /// How much history each row shows (up to 15d; + and - change it on screen)
    #[arg(long, default_value = "1h", value_name = "SPAN", value_parser = parse_seconds)]
    pub window: i64,
    /// One point per this much time (whole minutes; wide windows read coarser periods)
    #[arg(long, default_value = "1m", value_name = "SPAN", value_parser = parse_seconds)]
    pub period: i64,
    /// Time between refreshes (at least 5s)
    #[arg(long, default_value = "10s", value_name = "SPAN", value_parser = parse_interval)]
    pub interval: i64,
    /// Print one snapshot and exit
    #[arg(long)]
    pub once: bool,
}

#[derive(Debug, Clone, Args)]
#[command(after_long_help = "\
Sources: authorizer, processor and archiver (their Lambda log groups) and api (API Gateway's
access log: one line per request, with its status, WAF and authorizer outcome). Without a
source, all four, interleaved by time, each line prefixed by where it came from.

The functions write one JSON line per decision: the authorizer per request (allowed, with the
key id; denied, with why), the archiver per record (archived, already-archived, archive-failed)
and the processor per webhook (recorded, duplicate, dead-lettered with the reason, retry with
what was unavailable, held-for-order), with the event id, provider, message group, API request
id and duration. --event-id and --level filter on those fields, not on text; --filter matches
text. No line holds a body, a key or a secret.

--follow keeps reading (Ctrl-C ends it). On AWS it opens a CloudWatch Logs Live Tail session
(lines about a second after they are written; Live Tail samples above 500 matching lines a
second, and says so; a session is billed by the minute it runs). Where Live Tail is not
available, when a session ends, or with --poll, it polls FilterLogEvents every 2 s from a minute
before the newest line seen: a line that arrives late is shown, and none is shown twice. The
local stage (`mgrid dev`) writes the same decision lines to <data dir>/logs/pipeline.log, read
and followed the same way.

Examples:
  mgrid logs --stage prod processor --since 30m --level warn
  mgrid logs --stage prod --event-id evt_3PmX2 --since 2d
  mgrid logs --stage local --follow --output json | jq .decision.outcome")]
pub struct LogsArgs {
    /// Only this source's lines (repeat for several) [default: all]
    #[arg(value_enum, value_name = "SOURCE")]
    pub sources: Vec<LogSource>,
    /// From this long ago (90s, 30m, 2h, 7d) or this time (2026-11-30T14:00Z, "2 hours ago")
    /// [default: 1h; 10m with --follow]
    #[arg(long, value_name = "SPAN|TIME")]
    pub since: Option<String>,
    /// Up to this time [default: now]
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Keep reading new lines until Ctrl-C
    #[arg(long, short = 'f', conflicts_with = "until")]
    pub follow: bool,
    /// Follow by polling FilterLogEvents, never Live Tail (every line, even above 500 a second)
    #[arg(long, requires = "follow")]
    pub poll: bool,
    /// Only lines that contain this text
    #[arg(long, value_name = "TEXT")]
    pub filter: Option<String>,
    /// Only the processor's decision about this event
    #[arg(long, value_name = "ID", value_parser = parse_event_id)]
    pub event_id: Option<String>,
    /// Only lines at this level or worse (info, warn, error)
    #[arg(long, value_name = "LEVEL")]
    pub level: Option<mgrid_contract::decision::Level>,
    /// Metric lines (CloudWatch embedded metrics) too
    #[arg(long)]
    pub metrics: bool,
    /// At most this many lines a source (1 to 10,000): on AWS the window's first, on the local
    /// stage its newest (shown oldest first either way)
    #[arg(long, default_value_t = 1000, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub limit: u32,
}

#[derive(Debug, Clone, Args)]
#[command(after_long_help = "\
Looks in every place the webhook can be, each with one bounded lookup (no whole-table or
whole-bucket scan), and says what it found in each:
  ledger        the transaction item (GetItem by provider and event id)
  archive       the archived object at the key its receipt time gives
  dead letters  the dead-letter queue: on AWS its first 1000 messages (the first of each group;
                a read counts as a receive; all made visible again), on the local stage all of
                it, touching nothing; with the reason and the redrive that would move it
  processor     the processor's decision lines for it (FilterLogEvents, within --within)
  received      the API access log line of the request that delivered it (by its request id)
  queue         the local stage's webhook queue (on AWS it is not read: receiving from a FIFO
                queue would hold up the webhook's group)
  notification  sent, pending or failed on the local stage; on AWS the depth of the pipes'
                dead-letter queue, whose messages name no event

Then a verdict and the next step: recorded and archived; recorded, not archived yet;
dead-lettered (and why); retried (what was unavailable); or not found anywhere, with where to
look next (the access log, WAF).

Without --provider both providers are looked up: an event id is unique only within its
provider.")]
pub struct TraceArgs {
    /// The provider's event id (Stripe evt_…, PayPal WH-…)
    #[arg(value_name = "EVENT_ID", value_parser = parse_event_id)]
    pub event_id: String,
    /// Only this provider's event
    #[arg(long, value_enum)]
    pub provider: Option<ProviderArg>,
    /// How far back the logs are searched
    #[arg(long, default_value = "7d", value_name = "SPAN")]
    pub within: Span,
}
