//! How the lifecycle is shown: the change-set table, the live view of a deploy (a redrawn block
//! on a terminal, one line per event elsewhere), and the failure summary. Pure: strings in,
//! strings out, so snapshot tests pin them. Colour is written as ANSI and stripped by the
//! output stream where it cannot be shown.

use mgrid_contract::clock::UtcDateTime;

use super::model::{KNOWN_AFTER_APPLY, PropertyChange, StackEvent, StackOutput};
use super::plan::{ChangeReview, Danger, FailedResource, Progress};
use crate::text::{BOLD, DIM, ERROR, shown, table};

/// The change set as a table, dangers in red, with a one-line count.
pub fn change_table(review: &ChangeReview, width: Option<u16>) -> String {
    let mut rows = table(&["action", "logical id", "type", "replacement", ""]);
    rows.fit_to(width);
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
    text.push_str(&property_table(review, width));
    text
}

/// What changes inside each modified resource, value by value, as `cdk diff` shows it (empty
/// when CloudFormation gave no values). On a terminal a long value is cut to fit the line;
/// piped, and in JSON, every value is whole.
fn property_table(review: &ChangeReview, width: Option<u16>) -> String {
    let width = width.map(usize::from);
    let mut text = String::new();
    for reviewed in review
        .changes
        .iter()
        .filter(|r| !r.change.properties.is_empty())
    {
        if text.is_empty() {
            text.push_str("property by property (now → after):\n");
        }
        text.push_str(&format!("{BOLD}{}{BOLD:#}\n", reviewed.change.logical_id));
        for property in &reviewed.change.properties {
            text.push_str(&property_line(property, width));
            text.push('\n');
        }
    }
    text
}

/// `  ~ MemorySize (from ProcessorMemory): 1024 → 2048`, the values cut to `width`.
fn property_line(property: &PropertyChange, width: Option<usize>) -> String {
    let sign = match property.change_type.as_deref() {
        Some("Add") => "+",
        Some("Remove") => "-",
        _ => "~",
    };
    let mut notes = Vec::new();
    let replaces = match property.requires_recreation.as_deref() {
        Some("Always") => Some("REPLACES the resource"),
        Some("Conditionally") => Some("may replace the resource"),
        _ => None,
    };
    if let Some(cause) = property.caused_by.as_deref().filter(|c| !c.is_empty()) {
        notes.push(format!("from {}", shown(cause)));
    }
    let mut head = format!("  {sign} {}", shown(&property.path));
    if !notes.is_empty() {
        head.push_str(&format!(" ({})", notes.join(", ")));
    }
    let value = |value: Option<&str>| match value {
        Some(KNOWN_AFTER_APPLY) => Some("(known after deploy)".to_owned()),
        other => other.map(shown),
    };
    let values: Vec<String> = [
        value(property.before.as_deref()),
        value(property.after.as_deref()),
    ]
    .into_iter()
    .flatten()
    .collect();
    let flag = replaces.map_or_else(String::new, |r| format!("  {ERROR}{r}{ERROR:#}"));
    let values = match width {
        Some(width) => {
            let used = head.chars().count() + 2 + replaces.map_or(0, |r| r.len() + 2) + 3;
            fit(&values, width.saturating_sub(used).max(16))
        }
        None => values,
    };
    format!("{head}: {}{flag}", values.join(" → "))
}

/// One or two values in `room` characters together: a short value is kept whole and the
/// long one gets the rest; two long ones share it, each cut with `…`.
fn fit(values: &[String], room: usize) -> Vec<String> {
    let lengths: Vec<usize> = values.iter().map(|v| v.chars().count()).collect();
    if lengths.iter().sum::<usize>() <= room {
        return values.to_vec();
    }
    let half = room / values.len().max(1);
    let shortest = lengths.iter().copied().min().unwrap_or(0);
    values
        .iter()
        .zip(&lengths)
        .map(|(value, &length)| {
            let allowed = if values.len() == 2 && shortest <= half && length > shortest {
                room - shortest
            } else {
                half
            };
            cut(value, allowed)
        })
        .collect()
}

/// `text` in at most `room` characters, cut with `…`.
fn cut(text: &str, room: usize) -> String {
    if text.chars().count() <= room {
        return text.to_owned();
    }
    let kept: String = text.chars().take(room.saturating_sub(1)).collect();
    format!("{kept}…")
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
