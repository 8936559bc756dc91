//! How text looks wherever it is shown: the house colours, tables that fit the terminal, counts
//! in words, and what a string from a webhook may show. Pure formatting, no writing: the
//! decisions' renderings use it, and `ui::output` writes what they render. The width tables fit
//! in is given to it (`set_table_width`, `with_table_width`); it never reads the terminal.

use std::fmt::Display;

use anstyle::{AnsiColor, Style};

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

/// "1 hour", "2 hours": a count and its noun, plural when it is not one.
pub fn counted(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// A string that came from a webhook, as a table cell or a line may show it (see
/// `mgrid_contract::untrusted`).
pub fn shown(text: &str) -> String {
    mgrid_contract::untrusted::printable(text).into_owned()
}

/// The width tables fit in: the terminal's when stdout is one (read once, at start); none when
/// piped, where tables keep every value whole for the program reading them.
static TABLE_WIDTH: std::sync::OnceLock<Option<u16>> = std::sync::OnceLock::new();

thread_local! {
    /// A width that replaces the terminal's on this thread (snapshot tests at 80 columns).
    static WIDTH_OVERRIDE: std::cell::Cell<Option<Option<u16>>> = const { std::cell::Cell::new(None) };
}

/// Sets the width tables fit in for the rest of the process: the terminal's, measured once by
/// `ui::terminal::measure_table_width` at start (nothing here reads the terminal).
pub fn set_table_width(width: Option<u16>) {
    let _ = TABLE_WIDTH.set(width);
}

/// Runs `work` with tables fitted to `width` (None: as piped) on this thread.
pub fn with_table_width<R>(width: Option<u16>, work: impl FnOnce() -> R) -> R {
    let before = WIDTH_OVERRIDE.with(|w| w.replace(Some(width)));
    let result = work();
    WIDTH_OVERRIDE.with(|w| w.set(before));
    result
}

/// The width a line of a report may take: the terminal's, or None when piped (whole values).
pub fn table_width() -> Option<u16> {
    WIDTH_OVERRIDE
        .with(|w| w.get())
        .unwrap_or_else(|| TABLE_WIDTH.get().copied().flatten())
}

/// A table in the house style. On a terminal it fits the width, each row on one line, a long
/// value cut with `…` (the JSON output and a pipe carry it whole); piped, nothing is cut.
pub struct Table(comfy_table::Table, Vec<usize>, Option<Option<u16>>);

impl Table {
    /// Never cuts column `index` to fit a terminal: what is copied from it (an event id) must
    /// be whole; the other columns give way.
    pub fn keep_whole(&mut self, index: usize) -> &mut Table {
        self.1.push(index);
        self
    }

    /// Fits the table to `width` (None: as piped, every value whole) instead of the width the
    /// process renders at.
    pub fn fit_to(&mut self, width: Option<u16>) -> &mut Table {
        self.2 = Some(width);
        self
    }

    /// The widest value of column `index`, its header included.
    fn widest(&self, index: usize) -> usize {
        let header = self
            .0
            .header()
            .and_then(|h| h.cell_iter().nth(index))
            .map_or(0, |c| c.content().chars().count());
        self.0
            .row_iter()
            .filter_map(|row| row.cell_iter().nth(index))
            .map(|cell| cell.content().chars().count())
            .fold(header, usize::max)
    }
}

pub fn table(header: &[&str]) -> Table {
    let mut table = comfy_table::Table::new();
    // Styles are always written; the output stream strips them where colour cannot show.
    table
        .enforce_styling()
        .load_style(comfy_table::presets::NOTHING)
        .set_content_arrangement(comfy_table::ContentArrangement::Disabled)
        .set_truncation_indicator("…")
        .set_header(
            header
                .iter()
                .map(|h| comfy_table::Cell::new(h.to_uppercase())),
        );
    Table(table, Vec::new(), None)
}

impl std::ops::Deref for Table {
    type Target = comfy_table::Table;
    fn deref(&self) -> &comfy_table::Table {
        &self.0
    }
}

impl std::ops::DerefMut for Table {
    fn deref_mut(&mut self) -> &mut comfy_table::Table {
        &mut self.0
    }
}

impl Display for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Some(width) = self.2.unwrap_or_else(table_width) else {
            return write!(f, "{}", self.0);
        };
        let mut fitted = self.0.clone();
        fitted
            .set_content_arrangement(comfy_table::ContentArrangement::Dynamic)
            .set_width(width);
        for row in fitted.row_iter_mut() {
            row.max_height(1);
        }
        for &index in &self.1 {
            // The boundary counts the cell's padding, one space each side.
            let widest = u16::try_from(self.widest(index) + 2).unwrap_or(u16::MAX);
            if let Some(column) = fitted.column_mut(index) {
                column.set_constraint(comfy_table::ColumnConstraint::LowerBoundary(
                    comfy_table::Width::Fixed(widest),
                ));
            }
        }
        write!(f, "{fitted}")
    }
}

/// A report's text on an 80-column terminal: tables fitted, styles stripped.
#[cfg(test)]
pub fn at_80_columns(report: &impl Display) -> String {
    with_table_width(Some(80), || plain(report))
}

/// A report's text as a pipe gets it: styles stripped (for snapshot tests of every report).
#[cfg(test)]
pub fn plain(report: &impl Display) -> String {
    anstream::adapter::strip_str(&report.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_strips_styles_only() {
        let styled = format!("{WARNING}warning:{WARNING:#} kept [x] {BOLD}b{BOLD:#}");
        assert_eq!(plain(&styled), "warning: kept [x] b");
    }
}
