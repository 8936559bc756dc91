//! Shell completions and man pages, generated from the one command-line definition. The
//! generated files are checked in under `completions/`; a test fails when they are stale.

use std::path::PathBuf;

use anyhow::Result;
use clap::CommandFactory;
use clap_complete::{Generator, Shell};

use crate::cli::Cli;
use crate::failure::{Failure, FailureKind};
use crate::ui::output::write_stdout;

pub fn completions(shell: Shell) -> Result<()> {
    write_stdout(&String::from_utf8_lossy(&completion_script(shell)))?;
    Ok(())
}

/// The page of `mgrid <path…>` (mgrid's own for an empty path).
pub fn man(path: &[String]) -> Result<()> {
    let mut command = documented();
    command.build();
    let mut name = "mgrid".to_owned();
    for word in path {
        let Some(sub) = command.find_subcommand(word).cloned() else {
            let known: Vec<&str> = command
                .get_subcommands()
                .map(|s| s.get_name())
                .filter(|n| *n != "help")
                .collect();
            return Err(Failure::new(
                FailureKind::Usage,
                format!("`{name}` has no command {word:?}"),
            )
            .next(format!("one of: {}", known.join(", ")))
            .into());
        };
        name = format!("{name}-{}", sub.get_name());
        command = sub;
    }
    let page = man_page(command.name(name.clone()).display_name(name))?;
    write_stdout(&String::from_utf8_lossy(&page))?;
    Ok(())
}

/// The command line as the generated files show it: the package version only, so that the
/// checked-in pages do not change with every commit (`mgrid --version` names the commit).
fn documented() -> clap::Command {
    Cli::command()
        .version(env!("CARGO_PKG_VERSION"))
        .long_version(None::<&str>)
}

/// The script that registers mgrid's completions with a shell. It asks `mgrid` itself what to
/// offer on every TAB (`COMPLETE=<shell> mgrid -- <words>`, answered in `main` before anything
/// else runs), so what it offers follows the binary and the configuration file of the directory
/// TAB is pressed in: stage names come from `mgrid.toml`. The same script as
/// `COMPLETE=<shell> mgrid` prints, except that it calls `mgrid` on the PATH.
pub fn completion_script(shell: Shell) -> Vec<u8> {
    use clap_complete::env::{Bash, Elvish, EnvCompleter, Fish, Powershell, Zsh};
    let completer: &dyn EnvCompleter = match shell {
        Shell::Bash => &Bash,
        Shell::Elvish => &Elvish,
        Shell::Fish => &Fish,
        Shell::PowerShell => &Powershell,
        // Shell is non-exhaustive; zsh is the last one it has today.
        _ => &Zsh,
    };
    let mut script = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = completer.write_registration(COMPLETE_VAR, "mgrid", "mgrid", "mgrid", &mut script);
    script
}

/// The environment variable that turns an mgrid run into a completion request.
pub const COMPLETE_VAR: &str = "COMPLETE";

/// Answers a completion request (`COMPLETE=<shell>` in the environment) and exits; returns
/// at once on an ordinary run.
pub fn answer_completion_request() {
    clap_complete::CompleteEnv::with_factory(documented)
        .var(COMPLETE_VAR)
        .complete();
}

fn man_page(command: clap::Command) -> Result<Vec<u8>> {
    let mut page = Vec::new();
    clap_mangen::Man::new(command).render(&mut page)?;
    Ok(page)
}

/// Every generated file, by its path under `completions/`.
pub fn generated_files() -> Result<Vec<(PathBuf, Vec<u8>)>> {
    let mut files = Vec::new();
    for shell in [
        Shell::Bash,
        Shell::Zsh,
        Shell::Fish,
        Shell::PowerShell,
        Shell::Elvish,
    ] {
        let name = shell.file_name("mgrid");
        files.push((PathBuf::from(name), completion_script(shell)));
    }
    let mut command = documented();
    command.build();
    files.push((PathBuf::from("man/mgrid.1"), man_page(command.clone())?));
    pages_below(&command, "mgrid", &mut files)?;
    Ok(files)
}

/// A page for every command below `command`, leaves included (`mgrid-dlq-redrive.1`).
fn pages_below(
    command: &clap::Command,
    prefix: &str,
    files: &mut Vec<(PathBuf, Vec<u8>)>,
) -> Result<()> {
    for sub in command.get_subcommands() {
        if sub.get_name() == "help" {
            continue;
        }
        let name = format!("{prefix}-{}", sub.get_name());
        let page = man_page(sub.clone().name(name.clone()).display_name(name.clone()))?;
        files.push((PathBuf::from(format!("man/{name}.1")), page));
        pages_below(sub, &name, files)?;
    }
    Ok(())
}
