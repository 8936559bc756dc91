//! Where results and messages go: results on stdout (text or JSON, the same value either way),
//! errors and progress on stderr, colour only where a terminal can show it.

use std::fmt::Display;
use std::io::{self, Write};

use anstyle::{AnsiColor, Style};
use serde::Serialize;

use crate::cli::OutputFormat;
use crate::failure::next_step_of;

pub const ERROR: Style = Style::new()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Red)))
    .bold();
pub const WARNING: Style = Style::new()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Yellow)))
    .bold();
pub const GOOD: Style = Style::new()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Green)))
    .bold();
pub const DIM: Style = Style::new().dimmed();
pub const BOLD: Style = Style::new().bold();

/// `--no-color` (NO_COLOR and a non-terminal are already honoured by anstream).
pub fn init_color(no_color: bool) {
    if no_color {
        anstream::ColorChoice::Never.write_global();
    }
}

/// Prints a command's result: its `Display` for people, its JSON for scripts.
pub fn print_report<R: Serialize + Display>(report: &R, format: OutputFormat) -> io::Result<()> {
    match format {
        OutputFormat::Text => write_stdout(&format!("{report}")),
        OutputFormat::Json => {
            let json = serde_json::to_string_pretty(report).map_err(io::Error::other)?;
            write_stdout(&format!("{json}\n"))
        }
    }
}

/// Writes to stdout, stripping colour where it cannot be shown.
pub fn write_stdout(text: &str) -> io::Result<()> {
    let mut stdout = anstream::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()
}

/// A note for the person at the terminal (stderr), never part of the result.
pub fn note(text: &str) {
    let _ = writeln!(anstream::stderr(), "{text}");
}

/// True when the error is stdout's reader going away (`mgrid … | head`): not a failure.
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// Prints an error on stderr: what happened, why, and what to do next.
pub fn print_error(error: &anyhow::Error) {
    let mut stderr = anstream::stderr().lock();
    let _ = writeln!(stderr, "{ERROR}error:{ERROR:#} {error}");
    for cause in error.chain().skip(1) {
        let _ = writeln!(stderr, "  {DIM}caused by:{DIM:#} {cause}");
    }
    if let Some(next) = next_step_of(error) {
        let _ = writeln!(stderr, "  {BOLD}next:{BOLD:#} {next}");
    }
}

/// A table in the house style.
pub fn table(header: &[&str]) -> comfy_table::Table {
    let mut table = comfy_table::Table::new();
    // Styles are always written; the output stream strips them where colour cannot show.
    table
        .enforce_styling()
        .load_style(comfy_table::presets::NOTHING)
        .set_content_arrangement(comfy_table::ContentArrangement::Disabled)
        .set_header(
            header
                .iter()
                .map(|h| comfy_table::Cell::new(h.to_uppercase())),
        );
    table
}
