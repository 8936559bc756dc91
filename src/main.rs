//! Parse, set up logging, run, map the outcome to an exit code. Nothing else.

use std::process::ExitCode;

use clap::Parser;
use mgrid::cli::Cli;
use mgrid::failure::exit_code_of;
use mgrid::ui::{output, terminal};

fn main() -> ExitCode {
    mgrid::commands::docs::answer_completion_request();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return refused(error),
    };
    let format = cli.global.output;
    output::init_color(cli.global.no_color);
    terminal::measure_table_width();
    init_logging(cli.global.verbose, cli.global.no_color);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(mgrid::commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if output::is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            output::print_error(&error, format);
            ExitCode::from(exit_code_of(&error))
        }
    }
}

/// A command line clap refuses: its own message for people (help and version are not errors),
/// or, when JSON output was asked for, a JSON document on stderr (exit 2).
fn refused(error: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let wants_json = {
        let args: Vec<String> = std::env::args().collect();
        args.windows(2)
            .any(|pair| pair[0] == "--output" && pair[1] == "json")
            || args.iter().any(|arg| arg == "--output=json")
            || std::env::var("MGRID_OUTPUT").is_ok_and(|value| value == "json")
    };
    let informative = matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    );
    if informative || !wants_json {
        error.exit();
    }
    let message = error.render().to_string();
    let failure = mgrid::failure::Failure::new(
        mgrid::failure::FailureKind::Usage,
        message.trim().trim_start_matches("error: ").to_owned(),
    )
    .next("`mgrid --help` lists the commands; `mgrid <command> --help` a command's options");
    output::print_error(&failure.into(), mgrid::ui::output::OutputFormat::Json);
    ExitCode::from(2)
}

/// Logs go to stderr; `-v` shows mgrid's steps, `-vv` debug detail, MGRID_LOG overrides both.
/// Colour only on a terminal, and never with `--no-color` or NO_COLOR: a log file holds text.
fn init_logging(verbosity: u8, no_color: bool) {
    use std::io::IsTerminal;
    let colour = std::io::stderr().is_terminal()
        && !no_color
        && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty());
    let default = match verbosity {
        0 => "mgrid=warn,error",
        1 => "mgrid=info,warn",
        2 => "mgrid=debug,info",
        // Never the SDK's trace level: its wire logs would carry request bodies (key rings).
        _ => "mgrid=trace,info",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("MGRID_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(verbosity >= 2)
        .with_ansi(colour)
        .without_time()
        .init();
}
