//! The flags of the verbs that reach the providers: `keys`, `doctor`, `reconcile`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::parse::*;

#[derive(Debug, Clone, Args)]
pub struct KeysArgs {
    #[command(subcommand)]
    pub action: KeysAction,
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

After the ledger: every payment received in the window whose legs are not all done (its webhook
archived, its vendor told) is read from the ledger's sparse unsettled index (it costs what is
unsettled, not the ledger), listed with the legs it waits on and why where the leg said, and
each step of the journey is counted with its money: provider sent, in the ledger, archived,
vendor notified. --heal redoes each leg from the ledger item with the pipeline's own code: the
archive object byte for byte as the archiver writes it, the vendor notification with the same
body, marked as a redelivery (SNS message attribute, or header, mgrid-redelivery: true) so a
vendor can tell; then reads each receipt back. On the local stage the notification is handed to
`mgrid dev`'s notify pipe, and --wait bounds the wait for its receipt. A heal stopped midway
(Ctrl-C, or killed) is run again: the archive write is idempotent, and a vendor may get a second
marked redelivery.

Stripe keeps 30 days of events: an older window is refused. Ctrl-C prints what was listed so far
(exit 130). A 429 is waited out.

Exit codes: 0 when every event is recorded or waiting and every payment settled; 1 when any is
missing, a provider could not be listed, or a payment is unsettled; 2 for a window the provider
cannot list.

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
    /// Have the providers send the missing events again and wait for them in the ledger; redo
    /// the legs of every unsettled payment and read their receipts back
    #[arg(long)]
    pub heal: bool,
    /// Resends per second at most (--heal)
    #[arg(long, value_name = "N", default_value = "5", value_parser = parse_rate, allow_negative_numbers = true)]
    pub rate: f64,
    /// How long --heal waits for the resent events to reach the ledger (and, locally, for the
    /// notify pipe's receipts)
    #[arg(long, default_value = "2m", value_name = "SPAN", value_parser = parse_heal_wait)]
    pub wait: Span,
}
