//! The flags of the verbs that move webhooks: `dlq` and `replay`.

use clap::{Args, Subcommand};
use clap_complete::engine::ArgValueCandidates;
use mgrid_contract::StageName;

use super::parse::*;

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
    /// The pipes' dead letters (stream batches the archive or notify pipe gave up on), read as
    /// the payments they cover; --heal settles those payments and deletes each dead letter
    #[command(after_long_help = "\
A pipe that gives up on a DynamoDB stream batch sends its dead-letter queue a pointer to the batch
(shard and sequence numbers, when its records reached the stream), not the records. While the
stream holds them (24 hours) the batch is read back from it: its INSERT records are its payments.
After that it is resolved from the ledger: the payments of its leg (archive or notify, by the
pipe's name) whose receipt is missing, received in the day before its last record reached the
stream (the unsettled index, so it costs what is unsettled). Either way only the payments still
without the leg's receipt are listed, with their money and why their leg failed.

--heal redoes each of those payments' legs from its ledger item, as `mgrid reconcile --heal` does
(the archive object byte for byte; the vendor notification marked as a redelivery), reads the
receipts back, and only then deletes a dead letter, once every payment it resolved to is settled;
the others are left in the queue. A pointer that resolves to no unsettled payment (its payments
were healed already) is deleted by --heal too.

The local stage's legs keep their failures per payment, not as stream pointers: `mgrid reconcile
--stage local` lists them and `--heal` settles them.

Exit codes: 0 when no payment is left unsettled; 1 when some are (or a dead letter could not be
read); 2 on the local stage.

Examples:
  mgrid dlq pipes --stage prod
  mgrid dlq pipes --stage prod --heal --output json")]
    Pipes(PipesArgs),
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
pub struct PipesArgs {
    /// How many dead letters to read (1 to 1,000)
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub limit: u16,
    /// Settle the payments they cover, then delete each dead letter whose payments all are
    #[arg(long)]
    pub heal: bool,
    /// How long --heal waits for receipts another process writes
    #[arg(long, default_value = "2m", value_name = "SPAN", value_parser = parse_heal_wait)]
    pub wait: Span,
}
