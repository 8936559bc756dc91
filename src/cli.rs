//! The command line, defined once: parsing, `--help`, completions and man pages all come from
//! these types. Parsing validates what the user typed and nothing else.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use clap_complete::engine::{ArgValueCandidates, CompletionCandidate};
use mgrid_contract::StageName;

use crate::decide::logs::Source as LogSource;
use crate::failure::EXIT_CODES_HELP;
use crate::ui::output::OutputFormat;

const ABOUT: &str = "Operate the MarketGrid payment-webhook pipeline: deploy it, rotate its keys, redrive and \
replay its webhooks, watch its metrics, or run it all on this machine.";

const AFTER_LONG_HELP: &str = "\
Configuration:
  Per-stage settings live in an optional mgrid.toml ([stages.<name>]); see `mgrid validate`.
  Precedence: flags, then environment variables, then mgrid.toml, then the template's defaults.

Environment:
  MGRID_STAGE, MGRID_CONFIG, MGRID_OUTPUT, NO_COLOR, and the AWS SDK's own variables
  (AWS_PROFILE, AWS_REGION, AWS_DEFAULT_REGION, AWS_ENDPOINT_URL, credentials).
";

#[derive(Debug, Parser)]
#[command(
    name = "mgrid",
    version = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("MGRID_COMMIT"), ")"),
    long_version = crate::artifact::long_version(),
    about = ABOUT,
    after_help = "Run `mgrid <command> --help` for a command's options, `mgrid --help` for exit codes.",
    after_long_help = format!("{AFTER_LONG_HELP}\n{EXIT_CODES_HELP}"),
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Options every command accepts.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Stage to act on (dev, staging, prod, local, …)
    #[arg(long, global = true, env = "MGRID_STAGE", value_parser = parse_stage, value_name = "STAGE",
          add = ArgValueCandidates::new(stage_candidates))]
    pub stage: Option<StageName>,

    /// AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile's]
    #[arg(long, global = true, value_name = "REGION", value_parser = parse_region)]
    pub region: Option<String>,

    /// AWS profile from ~/.aws/config [default: the stage's in mgrid.toml, then AWS_PROFILE]
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,

    /// Send every AWS request to this endpoint (an emulator, for instance)
    #[arg(long, global = true, env = "AWS_ENDPOINT_URL", value_name = "URL")]
    pub endpoint_url: Option<String>,

    /// Reach Stripe's and PayPal's own APIs at this stand-in (serving <URL>/stripe and
    /// <URL>/paypal) instead of api.stripe.com and api-m.paypal.com; the local stage uses the
    /// one `mgrid dev` runs
    #[arg(
        long,
        global = true,
        env = "MGRID_PROVIDER_API_BASE",
        value_name = "URL"
    )]
    pub provider_api_base: Option<String>,

    /// Configuration file [default: ./mgrid.toml when it exists]
    #[arg(long, global = true, env = "MGRID_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Result format on stdout; progress and logs always go to stderr
    #[arg(long, global = true, env = "MGRID_OUTPUT", value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,

    /// More detail on stderr (-v: steps and AWS call counts, -vv: debug)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Answer yes to confirmations (required for changes when stdin is not a terminal)
    #[arg(short = 'y', long, global = true)]
    pub yes: bool,

    /// No colours (NO_COLOR in the environment does the same)
    #[arg(long, global = true)]
    pub no_color: bool,

    /// The local stage's data: where `mgrid dev` keeps it, and what every command run with
    /// --stage local reads
    #[arg(
        long,
        global = true,
        default_value = ".mgrid/local",
        value_name = "DIR",
        env = "MGRID_LOCAL_DIR"
    )]
    pub data_dir: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Deploy or update a stage from the embedded template and Lambda artifact
    Deploy(DeployArgs),
    /// Show what a deploy would change, without changing anything
    Diff(DiffArgs),
    /// Show a stage's stack, outputs, alarms in ALARM, and which build it runs
    Status,
    /// Delete a stage (its ledger, archive and key are retained)
    Destroy(DestroyArgs),
    /// List the stages deployed in an account and region
    Stages,
    /// Provider API keys, signing secrets, provider tokens: list, rotate, revoke-previous, set-…
    Keys(KeysArgs),
    /// The stage as Stripe and PayPal see it: their endpoints, keys, subscriptions, secrets
    Doctor(DoctorArgs),
    /// The payments the providers sent that the ledger does not have, and --heal for them
    Reconcile(ReconcileArgs),
    /// Dead-lettered webhooks: stats, peek, redrive, cancel, purge
    Dlq(DlqArgs),
    /// Replay archived webhooks from S3 into a stage's queue
    Replay(ReplayArgs),
    /// The pipeline's metrics, live in the terminal (metrics tail)
    Metrics(MetricsArgs),
    /// Read the stage's logs: the functions' and the API's, interleaved by time, or followed
    Logs(LogsArgs),
    /// Where is this webhook? Its life from every place it can be, and a verdict
    Trace(TraceArgs),
    /// Run the whole pipeline on this machine, no AWS account needed (the local stage)
    Dev(DevArgs),
    /// Send a realistic, signed test webhook (or a load) to a stage
    Send(SendArgs),
    /// The embedded Lambda artifact: hash, size, build details (artifact info)
    Artifact(ArtifactArgs),
    /// Print the embedded CloudFormation template, with a stage's parameters
    Template(TemplateArgs),
    /// Check a stage's configuration and the template offline; show what would be deployed
    Validate(ValidateArgs),
    /// Print shell completions
    Completions(CompletionsArgs),
    /// Print the man page (roff) of mgrid, or of one command: `mgrid man dlq redrive`
    Man(ManArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ManArgs {
    /// The command (and subcommand) whose page to print; none: mgrid's own
    #[arg(value_name = "COMMAND")]
    pub command: Vec<String>,
}

#[derive(Debug, Clone, Args)]
#[command(after_long_help = "\
Steps: check the account (refused if mgrid.toml names another), upload the template and the
Lambda artifact to mgrid-assets-<account>-<region> by content hash, make a change set, show it
(replacing or removing data is marked, and refused on a protected stage without
--allow-replacement), confirm, execute, and follow it until it ends. Ctrl-C stops following,
not the deploy. Without a terminal, --yes is required.

A new processor version gets queue traffic through CodeDeploy, by the stage's deploy_strategy
(mgrid.toml: all-at-once, canary10-5m, linear10-1m, ...; protected stages default to
canary10-5m). The live view shows the share on the new version, the next step, and the guard
alarms (deploy_alarms); an alarm stops the shift, returns all traffic to the previous version
and rolls the stack back, and the report names the alarm and what the new version did.
--rollback stops a shift in progress the same way; --skip-shift sends all traffic at once
without guard alarms, for an emergency fix (a protected stage asks for its name).")]
pub struct DeployArgs {
    /// Stop once the change set is made: show it and how to execute or delete it later
    #[arg(long, conflicts_with = "execute")]
    pub no_execute: bool,
    /// Execute the change set a `--no-execute` run made (reviewed and confirmed again), with
    /// mgrid's follow-up: the live view, termination protection, outputs, next steps
    #[arg(long, value_name = "CHANGE_SET", conflicts_with_all = ["change_set_name", "params", "artifact"])]
    pub execute: Option<String>,
    /// Name of the change set [default: mgrid-<time>]
    #[arg(long, value_name = "NAME", value_parser = parse_change_set_name)]
    pub change_set_name: Option<String>,
    /// Override one template parameter for this deploy (repeatable)
    #[arg(long = "param", value_name = "KEY=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, String)>,
    /// Let a protected stage replace or remove resources that hold data
    #[arg(long)]
    pub allow_replacement: bool,
    /// Deploy this artifact zip (as `cargo run --release -p mgrid-artifact` writes) instead of
    /// the embedded one
    #[arg(long, value_name = "ZIP")]
    pub artifact: Option<PathBuf>,
    /// Stop the processor traffic shift in progress: CodeDeploy returns all traffic to the
    /// previous version and the stack update rolls back
    #[arg(long, conflicts_with_all = ["no_execute", "execute", "change_set_name", "params", "artifact", "allow_replacement", "skip_shift"])]
    pub rollback: bool,
    /// Send all traffic to the new processor version at once, with no guard alarms, for an
    /// emergency fix (a protected stage asks for its name); the next deploy restores the
    /// stage's strategy
    #[arg(long, conflicts_with = "execute")]
    pub skip_shift: bool,
    /// The longest mgrid follows the stack (and a deletion before a re-create) before it stops
    /// watching and exits 8: CloudFormation goes on, and `mgrid status` follows it. A slow
    /// strategy (linear10-10m shifts for 100 minutes) needs more than its shift takes
    #[arg(long, default_value = "2h", value_name = "SPAN", value_parser = parse_watch_limit)]
    pub watch_limit: Span,
}

#[derive(Debug, Clone, Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub deploy: DiffDeployArgs,
    /// Exit with 1 when there are changes (for CI)
    #[arg(long)]
    pub exit_code: bool,
}

/// The deploy options a diff shares.
#[derive(Debug, Clone, Args)]
pub struct DiffDeployArgs {
    /// Override one template parameter (repeatable)
    #[arg(long = "param", value_name = "KEY=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, String)>,
    /// Diff against this artifact zip instead of the embedded one
    #[arg(long, value_name = "ZIP")]
    pub artifact: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct DestroyArgs {
    /// Required to destroy a protected stage
    #[arg(long)]
    pub force: bool,
    /// Show what would be deleted and retained, and delete nothing
    #[arg(long)]
    pub dry_run: bool,
    /// The longest mgrid follows the deletion before it stops watching and exits 8:
    /// CloudFormation goes on, and `mgrid stages` shows when the stack is gone
    #[arg(long, default_value = "2h", value_name = "SPAN", value_parser = parse_watch_limit)]
    pub watch_limit: Span,
}

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

fn parse_currency(text: &str) -> Result<String, String> {
    if mgrid_contract::money::is_currency_code(text) {
        Ok(text.to_lowercase())
    } else {
        Err(format!(
            "{text:?} is not a currency: three letters, like usd or EUR"
        ))
    }
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

fn parse_seconds(text: &str) -> Result<i64, String> {
    crate::decide::spans::parse_span(text, 15).map(|ms| ms / 1000)
}

fn parse_interval(text: &str) -> Result<i64, String> {
    match parse_seconds(text)? {
        seconds if seconds < 5 => Err(format!(
            "{text:?} is too short: refresh at most every 5s (CloudWatch publishes once a minute)"
        )),
        seconds => Ok(seconds),
    }
}

#[derive(Debug, Clone, Args)]
pub struct DlqArgs {
    #[command(subcommand)]
    pub action: DlqAction,
}

#[derive(Debug, Clone, Subcommand)]
pub enum DlqAction {
    /// Depth of the dead-letter and webhook queues, and dead letters by provider and reason
    Stats,
    /// Show dead letters (why, which event, a body excerpt) without consuming them
    Peek {
        /// How many to show (1 to 1,000)
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=1000))]
        limit: u16,
        /// Only this provider's
        #[arg(long, value_enum)]
        provider: Option<ProviderArg>,
        /// Only those that failed for this reason (bad-signature, max-receives, …)
        #[arg(long, value_parser = crate::decide::redrive::parse_reason)]
        reason: Option<String>,
        /// Show whole bodies
        #[arg(long)]
        full: bool,
    },
    /// Move dead letters back to the webhook queue, in order, deleting none before its copy is in
    Redrive(RedriveArgs),
    /// Stop the SQS message move task that `redrive --native` started
    Cancel,
    /// Delete dead letters: every one, or those a filter names (asks first; the stage name on
    /// a protected stage)
    #[command(after_long_help = "\
Without a filter the queue is purged whole (SQS PurgeQueue; it may take up to 60 s). With one,
each dead letter is read and only those that match are deleted: leftovers that can never verify
(`--reason bad-signature --older-than 7d`) go, and everything else stays. A FIFO queue hands out
a message group's messages in order, so a matching dead letter behind one that does not match in
its group is not reached: the report counts what was deleted and what was left.")]
    Purge {
        /// Show how many would be deleted, and why they were dead-lettered; delete nothing
        #[arg(long)]
        dry_run: bool,
        /// Only this provider's
        #[arg(long, value_enum)]
        provider: Option<ProviderArg>,
        /// Only this event (its provider's event id)
        #[arg(long, value_name = "ID", value_parser = parse_event_id)]
        event_id: Option<String>,
        /// Only this event type
        #[arg(long)]
        event_type: Option<String>,
        /// Only those that failed for this reason (bad-signature, no-signing-secret, …)
        #[arg(long, value_parser = crate::decide::redrive::parse_reason)]
        reason: Option<String>,
        /// Only those first sent longer ago than this (1h, 7d)
        #[arg(long, value_name = "AGE")]
        older_than: Option<Span>,
    },
}

#[derive(Debug, Clone, Args)]
#[command(after_long_help = "\
Each message group keeps its order: a group whose first dead letter does not match the filter is
left whole; --parallel groups move at once. Every move gets a fresh deduplication id (the queue's
5-minute window would otherwise swallow an event seen before), which marks the copy as this
run's. A dead letter is deleted only after its copy is acknowledged; a copy whose outcome is
unknown is sent again with the same ids, and after three unknown answers the original stays.

A redrive moves only what was dead-lettered before it started. A copy that comes back (the
processor rejects it again) and anything dead-lettered during the run stay in the queue and are
counted, with their reasons; then the redrive exits 7, so a redrive before the cause is fixed
ends instead of going round. Killed at any moment, nothing is lost: what the run holds becomes
visible again after --hold. Ctrl-C stops cleanly.")]
pub struct RedriveArgs {
    /// Move at most this many
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..), allow_negative_numbers = true, conflicts_with = "native")]
    pub max: Option<u64>,
    /// Only this provider's
    #[arg(long, value_enum, conflicts_with = "native")]
    pub provider: Option<ProviderArg>,
    /// Only this event (its provider's event id; `mgrid trace` names it)
    #[arg(long, value_name = "ID", value_parser = parse_event_id, conflicts_with = "native")]
    pub event_id: Option<String>,
    /// Only this event type (payment_intent.succeeded, PAYMENT.CAPTURE.COMPLETED, …)
    #[arg(long, conflicts_with = "native")]
    pub event_type: Option<String>,
    /// Only those that failed for this reason
    #[arg(long, value_parser = crate::decide::redrive::parse_reason, conflicts_with = "native")]
    pub reason: Option<String>,
    /// Only those first sent longer ago than this (1h, 2d)
    #[arg(long, value_name = "AGE", conflicts_with = "native")]
    pub older_than: Option<Span>,
    /// At most this many messages per second
    #[arg(long, value_name = "N", value_parser = parse_rate, allow_negative_numbers = true)]
    pub rate: Option<f64>,
    /// Show what would move; move nothing
    #[arg(long, conflicts_with = "native")]
    pub dry_run: bool,
    /// Use SQS's own message move task: every message, no filter, no dry run
    #[arg(long)]
    pub native: bool,
    /// How long a message being moved stays hidden (it reappears after this if mgrid dies):
    /// 1s to 12h, SQS's bounds
    #[arg(long, default_value = "120s", value_name = "SPAN", value_parser = parse_hold)]
    pub hold: Span,
    /// Message groups moved at once (each group stays in order)
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=64), conflicts_with = "native")]
    pub parallel: u16,
    /// After moving, how long to watch for each webhook's verdict: recorded in the ledger, or
    /// back in the dead-letter queue. What is not judged by then is reported pending (exit 8),
    /// with the command that looks again. On AWS a webhook failing for a transient cause takes
    /// up to the queue's visibility timeout × 10 receives to come back; 0 does not watch
    #[arg(
        long,
        default_value = "30s",
        value_name = "SPAN",
        conflicts_with = "native"
    )]
    pub wait: Span,
    /// Look again at the webhooks of an earlier run (its id is in that run's report): which are
    /// recorded now, which failed again, which are still pending (watches up to --wait)
    #[arg(long, value_name = "RUN", value_parser = crate::runs::parse_run_id, conflicts_with_all = ["native", "dry_run", "max", "provider", "event_id", "event_type", "reason", "older_than", "rate"])]
    pub status: Option<String>,
}

/// A span of time: 90s, 30m, 24h, 7d (at most 30 days).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span(pub i64);

impl std::str::FromStr for Span {
    type Err = String;
    fn from_str(text: &str) -> Result<Span, String> {
        crate::decide::spans::parse_span(text, 30).map(Span)
    }
}

/// A `--watch-limit`: 1 minute to 24 hours.
fn parse_watch_limit(text: &str) -> Result<Span, String> {
    let span: Span = text.parse()?;
    if (60_000..=86_400_000).contains(&span.0) {
        Ok(span)
    } else {
        Err(format!(
            "{text:?}: a watch limit is 1m to 24h (a CloudFormation operation that runs longer is stuck on something `mgrid status` shows)"
        ))
    }
}

/// A `--hold`: SQS hides a received message for 1 s to 12 h; anything else is refused, not
/// clamped to fit.
fn parse_hold(text: &str) -> Result<Span, String> {
    let span: Span = text.parse()?;
    if (1_000..=43_200_000).contains(&span.0) {
        Ok(span)
    } else {
        Err(format!(
            "{text:?}: SQS hides a message for 1s to 12h; give a hold within that"
        ))
    }
}

/// The slowest pace a command keeps: one message every 1,000 s. Slower would be no pace at all,
/// and an interval that overflows a clock.
const MIN_RATE: f64 = 0.001;

fn parse_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate >= MIN_RATE => Ok(rate),
        _ => Err(format!(
            "a rate is a number of messages per second, at least {MIN_RATE} (one every 1,000 s)"
        )),
    }
}

#[derive(Debug, Clone, Args)]
#[command(after_long_help = "\
Times: RFC 3339 (2026-11-28T14:00:00Z), a UTC date and time (2026-11-28 14:00, 2026-11-28), an
age (2 hours ago, 2h ago, 30m ago, 3d ago), today, yesterday, now.
The window maps to the archive's hour prefixes (webhooks/<provider>/<yyyy>/<mm>/<dd>/<hh>/);
they are listed and read in parallel, never the whole bucket.

Each webhook goes to the webhook queue as the ingress put it there: same message group, the
signature headers and receipt time as attributes, so the processor verifies and records it like
live traffic; the processor's idempotency makes a replay safe to repeat. Every run uses fresh
deduplication ids (the queue's 5-minute window would otherwise swallow recent events). Webhooks
go back in the order they were received. Objects that do not parse are reported and skipped.

Before anything is sent, the counts by provider and event type are shown and confirmed.
The selected webhooks are held in memory while they are sent (about their archived size):
replay a very long window of peak traffic in parts.")]
pub struct ReplayArgs {
    /// Start of the window (received at or after)
    #[arg(long, value_name = "TIME")]
    pub from: String,
    /// End of the window (received at or before) [default: now]
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
    /// Only this provider's
    #[arg(long, value_enum)]
    pub provider: Option<ProviderArg>,
    /// Only this vendor's (as the processor reads it from the event)
    #[arg(long, value_name = "VENDOR")]
    pub vendor: Option<String>,
    /// Only this event type (payment_intent.succeeded, PAYMENT.CAPTURE.COMPLETED, …)
    #[arg(long, value_name = "TYPE")]
    pub event_type: Option<String>,
    /// Only this event (repeat for several)
    #[arg(long = "event-id", value_name = "ID")]
    pub event_ids: Vec<String>,
    /// Only events the target stage's ledger does not hold
    #[arg(long)]
    pub only_missing: bool,
    /// Send into this stage's queue instead (its ledger for --only-missing)
    #[arg(long, value_name = "STAGE", value_parser = parse_stage,
          add = ArgValueCandidates::new(stage_candidates))]
    pub into_stage: Option<StageName>,
    /// Allow --into-stage to name a protected stage
    #[arg(long)]
    pub force: bool,
    /// At most this many webhooks per second
    #[arg(long, value_name = "N", value_parser = parse_rate, allow_negative_numbers = true)]
    pub rate: Option<f64>,
    /// Show what would be replayed; send nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Archive objects read at once
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub parallel: u16,
    /// After sending, how long to watch for each webhook's verdict: recorded in the ledger, or
    /// back in the dead-letter queue. What is not judged by then is reported pending (exit 8);
    /// 0 does not watch
    #[arg(long, default_value = "30s", value_name = "SPAN")]
    pub wait: Span,
}

#[derive(Debug, Clone, Args)]
pub struct KeysArgs {
    #[command(subcommand)]
    pub action: KeysAction,
}

/// A payment provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProviderArg {
    Stripe,
    Paypal,
}

impl From<ProviderArg> for mgrid_contract::Provider {
    fn from(provider: ProviderArg) -> Self {
        match provider {
            ProviderArg::Stripe => mgrid_contract::Provider::Stripe,
            ProviderArg::Paypal => mgrid_contract::Provider::Paypal,
        }
    }
}

#[derive(Debug, Clone, Subcommand)]
pub enum KeysAction {
    /// Each provider's current and previous key ids, overlaps, signing secrets (never values)
    List,
    /// Make a new API key; the old one stays accepted for the overlap window
    #[command(after_long_help = "\
The new key is 256 bits from the OS random source, shown once with the URL to register at the
provider (providers can only register a URL, so the key travels as ?key=). Register it, then let
the overlap run out or end it with `mgrid keys revoke-previous`. --grace 0 revokes the old key at
once (after a confirmation that says so). The first rotation creates the key ring.")]
    Rotate {
        /// The provider whose key to rotate
        #[arg(value_enum, required_unless_present = "all")]
        provider: Option<ProviderArg>,
        /// Rotate every provider's key
        #[arg(long, conflicts_with = "provider")]
        all: bool,
        /// How long the old key stays accepted (24h, 30m, 7d, 0 for none)
        #[arg(long, default_value = "24h", value_parser = clap::value_parser!(crate::decide::keys::Grace))]
        grace: crate::decide::keys::Grace,
        /// Write the new key (as the URL to register) to this new file, mode 0600, instead of stdout
        #[arg(long, value_name = "FILE")]
        output_file: Option<PathBuf>,
        /// Show what would change, write nothing
        #[arg(long)]
        dry_run: bool,
        /// Also write the new key into the provider's endpoint URL through its API (needs the
        /// provider token), once the functions accept it, and check that it took
        #[arg(long)]
        update_provider: bool,
    },
    /// End the overlap now: only the current API key is accepted
    #[command(after_long_help = "\
With a provider token set, the provider's endpoints are read first: while one that points at
this stage still carries the previous key, nothing is revoked (exit 6), since every delivery
would then be refused. `mgrid keys rotate <provider> --update-provider` finishes the rotation
(the endpoint gets the current key; no new key is made). --force revokes anyway.")]
    RevokePrevious {
        #[arg(value_enum)]
        provider: ProviderArg,
        /// Revoke even when a provider endpoint still carries the previous key, or the
        /// provider's endpoints cannot be read
        #[arg(long)]
        force: bool,
    },
    /// Set the stage's token for the provider's own API, read from stdin (never echoed)
    #[command(after_long_help = "\
The token lets mgrid read (and, for `keys rotate --update-provider`, change) the provider's
webhook endpoints: `mgrid doctor` reads them, `keys revoke-previous` checks them.

  Stripe: a restricted key (rk_live_…) with Webhook Endpoints: read, and write for
          --update-provider; a secret key (sk_…) works too but can do far more.
  PayPal: the REST app's client id and secret, as one line <client id>:<secret>, or two lines.

It is stored like the key rings (an SSM SecureString under the stage's KMS key, the local
stage's database), read by mgrid only: no function's role may. The token is tried against the
provider's API before it is stored (--no-check stores it untried); `keys list` shows whether
each is set and since when.")]
    SetProviderToken {
        #[arg(value_enum)]
        provider: ProviderArg,
        /// Store the token without trying it against the provider's API first
        #[arg(long)]
        no_check: bool,
    },
    /// Set the provider's signing secret (Stripe whsec_…, PayPal webhook id), read from stdin
    SetSigningSecret {
        #[arg(value_enum)]
        provider: ProviderArg,
        /// How long the old secret stays valid (providers roll theirs with an overlap too)
        #[arg(long, default_value = "24h", value_parser = clap::value_parser!(crate::decide::keys::Grace))]
        grace: crate::decide::keys::Grace,
    },
}

#[derive(Debug, Clone, Args)]
#[command(after_long_help = "\
Reads each provider's webhook endpoints through its own API (Stripe GET /v1/webhook_endpoints,
PayPal GET /v1/notifications/webhooks) with the stage's provider token, and the stage's key
rings, and says per check: ok, warning, problem, or unchecked.

  endpoint        exactly one endpoint points at the stage's URL (one pointing elsewhere, an
                  old stage's, is named)
  enabled         the provider delivers to it (Stripe disables one after days of failures)
  key in URL      the key in its URL (?key=) is the stage's current key; the previous one
                  warns with the time left in the overlap; any other is refused (401)
  events          subscribed to every payment event type; types nobody reads are listed
  API version     Stripe renders its events at a version the processor reads
  signing secret  set; PayPal's (the webhook id) is the endpoint's
  WAF             no address is blocked by name, and the per-address rate limit is above the
                  design peak (50,000 in 5 minutes: a provider delivers from a few addresses)
  last delivery   a webhook of the provider was recorded within --quiet-after (the
                  processor's log; a warning, since a stage may just be quiet)

Without a provider token the endpoint lines are unchecked, with the command that sets one
(`mgrid keys set-provider-token`). No key, token or secret is ever shown: a URL's key is shown
by its id (key=<k1a2b3c4d>).

Exit codes: 0 when every line is ok or a warning; 1 when any is a problem or unchecked; 4 and 5
as usual (AWS credentials; no such stage).

Examples:
  mgrid doctor --stage prod
  mgrid doctor --stage prod --provider stripe --output json | jq '.findings[] | select(.verdict != \"ok\")'")]
pub struct DoctorArgs {
    /// Only this provider [default: both]
    #[arg(long, value_enum)]
    pub provider: Option<ProviderArg>,
    /// Warn when no webhook of a provider was recorded for this long (the processor's log)
    #[arg(long, default_value = "24h", value_name = "SPAN", value_parser = parse_quiet_after)]
    pub quiet_after: Span,
}

fn parse_quiet_after(text: &str) -> Result<Span, String> {
    let span: Span = text.parse()?;
    if (60_000..=30 * 86_400_000).contains(&span.0) {
        Ok(span)
    } else {
        Err(format!("{text:?}: a quiet time is 1m to 30d"))
    }
}

#[derive(Debug, Clone, Args)]
#[command(after_long_help = "\
Lists each provider's events of the window through its own API, with the stage's provider token
(Stripe GET /v1/events of the payment event types, every page; PayPal GET
/v1/notifications/webhooks-events, following its next links), and looks each up: in the ledger
(recorded), the dead-letter queue (dead-lettered, with the processor's reason), the webhook
queue (waiting; the local stage only: SQS cannot be read per event). What is nowhere is
missing: listed with its type, time, amount and payment object, and the missing money summed
by currency. Pages are looked up as they come: memory stays flat however many events there are.

--heal has the provider send the missing ones again, through the front door: Stripe's event
retry to the stage's endpoint (what `stripe events resend --webhook-endpoint` asks; Stripe
refuses an endpoint that was not subscribed to the type when the event was made), PayPal's
resend, at most --rate a second; then waits up to --wait for each to reach the ledger, and says
per event what became of it. A dead-lettered event is not resent: its line names the redrive.
An event Stripe will not resend is not made up from the API: mgrid records only what arrives
signed by the provider (see README, reconcile).

Stripe keeps 30 days of events: an older window is refused. Ctrl-C prints what was listed so far
(exit 130). A 429 is waited out.

Exit codes: 0 when every event is recorded or waiting; 1 when any is missing, or a provider
could not be listed; 2 for a window the provider cannot list.

Examples:
  mgrid reconcile --stage prod --since 3d
  mgrid reconcile --stage prod --provider stripe --from 2026-11-28T00:00Z --to 2026-11-29T00:00Z
  mgrid reconcile --stage prod --since 1d --heal --output json")]
pub struct ReconcileArgs {
    /// Only this provider [default: both]
    #[arg(long, value_enum)]
    pub provider: Option<ProviderArg>,
    /// The events of the last SPAN (90m, 3d) [default: 3d]
    #[arg(long, value_name = "SPAN", conflicts_with_all = ["from", "to"])]
    pub since: Option<Span>,
    /// From this time (2026-11-30T14:00Z, "2 days ago")
    #[arg(long, value_name = "TIME", requires = "to")]
    pub from: Option<String>,
    /// To this time
    #[arg(long, value_name = "TIME", requires = "from")]
    pub to: Option<String>,
    /// Have the providers send the missing events again, then wait for them in the ledger
    #[arg(long)]
    pub heal: bool,
    /// Resends per second at most (--heal)
    #[arg(long, value_name = "N", default_value = "5", value_parser = parse_rate, allow_negative_numbers = true)]
    pub rate: f64,
    /// How long --heal waits for the resent events to reach the ledger
    #[arg(long, default_value = "2m", value_name = "SPAN", value_parser = parse_heal_wait)]
    pub wait: Span,
}

fn parse_heal_wait(text: &str) -> Result<Span, String> {
    let span: Span = text.parse()?;
    if (1_000..=3_600_000).contains(&span.0) {
        Ok(span)
    } else {
        Err(format!("{text:?}: a wait is 1s to 1h"))
    }
}

#[derive(Debug, Clone, Args)]
pub struct ArtifactArgs {
    #[command(subcommand)]
    pub action: ArtifactAction,
}

#[derive(Debug, Clone, Subcommand)]
pub enum ArtifactAction {
    /// Show the embedded artifact's hash (as Lambda reports it), sizes, glibc need and build
    Info,
}

#[derive(Debug, Clone, Args)]
pub struct TemplateArgs {
    /// Template format
    #[arg(long, value_enum, default_value_t = TemplateFormat::Yaml)]
    pub format: TemplateFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TemplateFormat {
    /// The embedded YAML, byte for byte
    Yaml,
    /// CloudFormation JSON (short-form functions expanded)
    Json,
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

fn parse_event_id(text: &str) -> Result<String, String> {
    if !text.is_empty()
        && text.len() <= 100
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        Ok(text.to_owned())
    } else {
        Err(
            "an event id is 1 to 100 letters, digits, `_` or `-` (Stripe evt_…, PayPal WH-…)"
                .into(),
        )
    }
}

#[derive(Debug, Clone, Args)]
#[command(after_help = "Without --stage, every stage of the configuration file is checked.")]
pub struct ValidateArgs {}

#[derive(Debug, Clone, Args)]
#[command(after_help = "\
Prints the script that registers mgrid's completions; on every TAB it asks `mgrid` what to offer,
so subcommands, flags and values follow the installed binary, and --stage offers `local` and the
stages of the mgrid.toml in the current directory (or MGRID_CONFIG).

Install (once):
  bash:  echo 'source <(mgrid completions bash)' >> ~/.bashrc
  zsh:   echo 'source <(mgrid completions zsh)' >> ~/.zshrc
  fish:  mgrid completions fish > ~/.config/fish/completions/mgrid.fish
The same scripts are checked in under completions/ for packagers.")]
pub struct CompletionsArgs {
    /// Shell to complete for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// What TAB offers for a stage: `local`, then every stage of the configuration file
/// (`MGRID_CONFIG`, or `./mgrid.toml`), each with its region and whether it is protected. A file
/// that cannot be read offers `local` only: completion never prints an error into the prompt.
fn stage_candidates() -> Vec<CompletionCandidate> {
    let mut candidates = vec![
        CompletionCandidate::new(crate::decide::config::LOCAL_STAGE)
            .help(Some("this machine's pipeline (mgrid dev)".into())),
    ];
    let explicit = std::env::var_os("MGRID_CONFIG").map(std::path::PathBuf::from);
    let Ok(config) = crate::config_file::load(explicit.as_deref()) else {
        return candidates;
    };
    for (name, settings) in &config.file.stages {
        let mut about = Vec::new();
        if let Some(region) = &settings.region {
            about.push(region.0.clone());
        }
        if settings
            .protected
            .unwrap_or_else(|| crate::decide::config::protected_by_default(name))
        {
            about.push("protected".to_owned());
        }
        let candidate = CompletionCandidate::new(name.as_str());
        candidates.push(if about.is_empty() {
            candidate
        } else {
            candidate.help(Some(about.join(", ").into()))
        });
    }
    candidates
}

fn parse_region(name: &str) -> Result<String, String> {
    if crate::decide::config::is_region_name(name) {
        Ok(name.to_owned())
    } else {
        Err("not an AWS region name (like eu-west-1)".into())
    }
}

fn parse_param(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err("expected KEY=VALUE, like ProcessorMemory=2048".into()),
    }
}

fn parse_change_set_name(name: &str) -> Result<String, String> {
    let valid = name.len() <= 128
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if valid {
        Ok(name.to_owned())
    } else {
        Err(
            "a change set name starts with a letter and holds up to 128 letters, digits or hyphens"
                .into(),
        )
    }
}

fn parse_stage(name: &str) -> Result<StageName, String> {
    name.parse()
        .map_err(|e: mgrid_contract::InvalidStageName| format!("a stage name is {}", e.rule))
}

/// `mgrid logs`' sources as the command line names and explains them.
impl ValueEnum for LogSource {
    fn value_variants<'a>() -> &'a [LogSource] {
        &LogSource::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.as_str()).help(self.description()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
