//! One module per verb. Each reads what it needs, decides with pure functions, and prints a
//! value that is a table for people or JSON for scripts.

pub mod artifact;
pub mod docs;
pub mod template;
pub mod validate;

use anyhow::Result;

use crate::cli::{Cli, Command, GlobalArgs};
use crate::config::Config;
use crate::failure::{Failure, FailureKind};

/// What every command gets: the global options and the configuration file.
pub struct Context {
    pub global: GlobalArgs,
    pub config: Config,
}

pub fn run(cli: Cli) -> Result<()> {
    let verb = cli.command.verb();
    match cli.command {
        Command::Completions(args) => return docs::completions(args.shell),
        Command::Man => return docs::man(),
        _ => {}
    }
    let config = Config::load(cli.global.config.as_deref())?;
    let context = Context {
        global: cli.global,
        config,
    };
    match cli.command {
        Command::Template(args) => template::run(&context, &args),
        Command::Validate(_) => validate::run(&context),
        Command::Artifact(args) => artifact::run(&context, &args.action),
        _ => Err(not_built(verb).into()),
    }
}

fn not_built(verb: &str) -> Failure {
    Failure::new(
        FailureKind::Usage,
        format!("`mgrid {verb}` is not built yet in this version of mgrid; nothing was done"),
    )
    .next("`mgrid --help` lists every command; `mgrid template` and `mgrid validate` work offline today")
}
