//! How the lifecycle is shown: the change-set table, the live view of a deploy (a redrawn block
//! on a terminal, one line per event elsewhere), and the failure summary. Pure: strings in,
//! strings out, so snapshot tests pin them. Colour is written as ANSI and stripped by the
//! output stream where it cannot be shown.

use mgrid_contract::clock::UtcDateTime;

use super::model::{StackEvent, StackOutput};
use super::plan::{ChangeReview, Danger, FailedResource, Progress};
use crate::output::{BOLD, DIM, ERROR, table};

/// The change set as a table, dangers in red, with a one-line count.
pub fn change_table(review: &ChangeReview) -> String {
    let mut rows = table(&["action", "logical id", "type", "replacement", ""]);
    let (mut add, mut modify, mut remove, mut dangerous) = (0, 0, 0, 0);
    for reviewed in &review.changes {
        let change = &reviewed.change;
        match change.action.as_str() {
            "Add" => add += 1,
            "Remove" => remove += 1,
            _ => modify += 1,
        }
        let note = match reviewed.danger {
            Some(Danger::Replacement) => "REPLACES DATA: a new, empty resource",
            Some(Danger::PossibleReplacement) => "MAY REPLACE DATA",
            Some(Danger::Removal) => "REMOVES DATA from the stack",
            None => "",
        };
        let cell = |text: &str| {
            let cell = comfy_table::Cell::new(text);
            match reviewed.danger {
                Some(_) => cell
                    .fg(comfy_table::Color::Red)
                    .add_attribute(comfy_table::Attribute::Bold),
                None => cell,
            }
        };
        dangerous += usize::from(reviewed.danger.is_some());
        rows.add_row(vec![
            cell(&change.action),
            cell(&change.logical_id),
            comfy_table::Cell::new(&change.resource_type),
            comfy_table::Cell::new(change.replacement.as_deref().unwrap_or("-")),
            cell(note),
        ]);
    }
    let mut text = format!("{rows}\n");
    text.push_str(&format!(
        "{} change{}: {add} to add, {modify} to modify, {remove} to remove",
        review.changes.len(),
        if review.changes.len() == 1 { "" } else { "s" }
    ));
    if dangerous > 0 {
        text.push_str(&format!("; {ERROR}{dangerous} endanger data{ERROR:#}"));
    }
    if review.changes.is_empty() {
        text.push_str(" (the stack's parameters or tags change, no resource does)");
    }
    text.push('\n');
    text
}

/// `3m 07s`, `42s`.
pub fn elapsed(seconds: u64) -> String {
    if seconds >= 60 {
        format!("{}m {:02}s", seconds / 60, seconds % 60)
    } else {
        format!("{seconds}s")
    }
}

/// The compact block redrawn on a terminal while a deploy runs.
pub fn live_block(stage: &str, status: &str, elapsed_seconds: u64, progress: &Progress) -> String {
    let mut text = format!(
        "{BOLD}{stage}{BOLD:#}  {status}  {}\n  {} done · {} in progress · {} pending{}\n",
        elapsed(elapsed_seconds),
        progress.done,
        progress.in_progress.len(),
        progress.pending,
        if progress.failed.is_empty() {
            String::new()
        } else {
            format!(" · {ERROR}{} failed{ERROR:#}", progress.failed.len())
        }
    );
    if !progress.in_progress.is_empty() {
        let mut names = progress.in_progress.join(", ");
        if names.len() > 90 {
            names.truncate(87);
            names.push_str("...");
        }
        text.push_str(&format!("  {DIM}in progress:{DIM:#} {names}\n"));
    }
    text
}

/// One stack event as a plain line (what a deploy prints without a terminal).
pub fn event_line(event: &StackEvent) -> String {
    let t = UtcDateTime::from_epoch_millis(event.timestamp);
    let reason = event
        .reason
        .as_deref()
        .filter(|r| !r.is_empty())
        .map(|r| format!("  {r}"))
        .unwrap_or_default();
    format!(
        "{:02}:{:02}:{:02}  {:<28} {:<36} {}{reason}",
        t.hour, t.minute, t.second, event.status, event.resource_type, event.logical_id
    )
}

/// Every failed resource, the first cause first.
pub fn failure_report(failures: &[FailedResource]) -> String {
    if failures.is_empty() {
        return "no resource reported a failure; see the stack's status reason\n".to_owned();
    }
    let mut text = String::new();
    let (causes, consequences): (Vec<&FailedResource>, Vec<&FailedResource>) =
        failures.iter().partition(|f| !f.consequence);
    for (i, failure) in causes.iter().enumerate() {
        text.push_str(&format!(
            "{ERROR}{}. {} ({}) {}{ERROR:#}\n   {}\n",
            i + 1,
            failure.logical_id,
            failure.resource_type,
            failure.status,
            failure.reason
        ));
    }
    if !consequences.is_empty() {
        text.push_str(&format!("{DIM}then, as a result:{DIM:#}\n"));
        for failure in consequences {
            text.push_str(&format!(
                "   {} ({}) {}: {}\n",
                failure.logical_id, failure.resource_type, failure.status, failure.reason
            ));
        }
    }
    text
}

pub fn outputs_table(outputs: &[StackOutput]) -> String {
    let mut rows = table(&["output", "value"]);
    for output in outputs {
        rows.add_row(vec![output.key.clone(), output.value.clone()]);
    }
    format!("{rows}\n")
}

/// The parameters a deploy changes, now → after.
pub fn parameter_table(changes: &[super::plan::ParameterChange]) -> String {
    let mut rows = table(&["parameter", "now", "after"]);
    for change in changes {
        rows.add_row(vec![
            change.name.clone(),
            change.now.clone().unwrap_or_else(|| "(not set)".to_owned()),
            change.after.clone(),
        ]);
    }
    format!("{rows}\n")
}
