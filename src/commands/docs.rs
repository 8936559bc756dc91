//! Shell completions and man pages, generated from the one command-line definition. The
//! generated files are checked in under `completions/`; a test fails when they are stale.

use std::path::PathBuf;

use anyhow::Result;
use clap::CommandFactory;
use clap_complete::{Generator, Shell};

use crate::cli::Cli;
use crate::output::write_stdout;

pub fn completions(shell: Shell) -> Result<()> {
    write_stdout(&String::from_utf8_lossy(&completion_script(shell)))?;
    Ok(())
}

pub fn man() -> Result<()> {
    write_stdout(&String::from_utf8_lossy(&man_page(Cli::command())?))?;
    Ok(())
}

pub fn completion_script(shell: Shell) -> Vec<u8> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "mgrid", &mut script);
    script
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
    let mut command = Cli::command();
    command.build();
    files.push((PathBuf::from("man/mgrid.1"), man_page(command.clone())?));
    for sub in command.get_subcommands() {
        let name = format!("mgrid-{}", sub.get_name());
        let page = man_page(sub.clone().name(name.clone()).display_name(name.clone()))?;
        files.push((PathBuf::from(format!("man/{name}.1")), page));
    }
    Ok(files)
}
