//! One module per verb. Each reads what it needs, decides with pure functions, and prints a
//! value that is a table for people or JSON for scripts.

pub mod artifact;
pub mod context;
pub mod deploy;
pub mod destroy;
pub mod dev;
pub mod dlq;
pub mod docs;
pub mod doctor;
pub mod flow;
pub mod keys;
pub mod logs;
pub mod metrics;
pub mod movers;
pub mod reconcile;
pub mod replay;
pub mod secret_input;
pub mod send;
pub mod settle;
pub mod stages;
pub mod status;
pub mod template;
pub mod trace;
pub mod validate;
pub mod verdicts;

use anyhow::Result;

use crate::cli::{Cli, Command};
use context::Context;

pub async fn run(cli: Cli) -> Result<()> {
    // These two need no configuration: a broken mgrid.toml must not stop them.
    match cli.command {
        Command::Completions(args) => return docs::completions(args.shell),
        Command::Man(args) => return docs::man(&args.command),
        _ => {}
    }
    let config = crate::config_file::load(cli.global.config.as_deref())?;
    let context = Context {
        global: cli.global,
        config,
    };
    match cli.command {
        Command::Template(args) => template::run(&context, &args),
        Command::Validate(_) => validate::run(&context),
        Command::Artifact(args) => artifact::run(&context, &args.action),
        Command::Deploy(args) => {
            deploy::run(&context, deploy::Mode::Deploy(&args)).await?;
            // The providers' side, as warnings: a deploy that worked is not failed by them.
            if !args.no_execute
                && let Ok(target) = context.target().await
            {
                doctor::after_deploy(&context, &target).await;
            }
            Ok(())
        }
        Command::Diff(args) => deploy::run(&context, deploy::Mode::Diff(&args)).await,
        Command::Status => status::run(&context, &context.target().await?).await,
        Command::Destroy(args) => destroy::run(&context, &args).await,
        Command::Stages => stages::run(&context).await,
        Command::Keys(args) => keys::run(&context, &context.target().await?, &args).await,
        Command::Doctor(args) => doctor::run(&context, &context.target().await?, &args).await,
        Command::Reconcile(args) => reconcile::run(&context, &context.target().await?, &args).await,
        Command::Dlq(args) => dlq::run(&context, &context.target().await?, &args).await,
        Command::Replay(args) => replay::run(&context, &context.target().await?, &args).await,
        Command::Metrics(args) => metrics::run(&context, &context.target().await?, &args).await,
        Command::Logs(args) => logs::run(&context, &context.target().await?, &args).await,
        Command::Trace(args) => trace::run(&context, &context.target().await?, &args).await,
        Command::Dev(args) => dev::run(&context, &args).await,
        Command::Send(args) => send::run(&context, &context.target().await?, &args).await,
        Command::Completions(args) => docs::completions(args.shell),
        Command::Man(args) => docs::man(&args.command),
    }
}
