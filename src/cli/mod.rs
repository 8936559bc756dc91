//! The command line, defined once: parsing, `--help`, completions and man pages all come from
//! these types. Parsing validates what the user typed and nothing else.

mod keys;
mod lifecycle;
mod moving;
mod parse;
mod pipeline;

pub use keys::{DoctorArgs, KeysAction, KeysArgs, ReconcileArgs};
pub use lifecycle::{DeployArgs, DestroyArgs, DiffArgs, DiffDeployArgs};
pub use moving::{DlqAction, DlqArgs, PipesArgs, RedriveArgs, ReplayArgs};
use parse::*;
pub use parse::{ProviderArg, Span};
pub use pipeline::{DevArgs, LogsArgs, MetricsAction, MetricsArgs, SendArgs, TailArgs, TraceArgs};

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use clap_complete::engine::ArgValueCandidates;
use mgrid_contract::StageName;

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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
