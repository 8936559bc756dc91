//! What a replay asks before it sends and what it reports: listed, sent, skipped, by event type,
//! unreadable objects, and the ledger's verdicts; for people and for scripts.

use std::fmt;

use serde::Serialize;

use crate::commands::flow::{Ask, Outcome, Plan};
use crate::decide::replay::Selection;
use crate::decide::verdict::{Judged, seconds};
use crate::failure::{Failure, FailureKind};
use crate::text::{WARNING, counted, shown, table};

#[derive(Debug, Default, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ReplayReport {
    pub stage: String,
    pub into_stage: String,
    pub from: String,
    pub to: String,
    pub selection: Selection,
    pub dry_run: bool,
    /// Hour prefixes listed.
    pub prefixes: usize,
    /// Archive objects listed in those prefixes.
    pub listed: usize,
    /// Read and parsed.
    pub read: usize,
    pub matched: usize,
    /// Already in the target's ledger (--only-missing).
    pub skipped_present: usize,
    pub by_type: Vec<TypeCount>,
    /// Objects that could not be used, with why.
    pub unreadable: Vec<Unreadable>,
    pub sent: usize,
    /// What became of the sent webhooks.
    #[serde(flatten)]
    pub judged: Judged,
    pub failed: Vec<String>,
    pub interrupted: bool,
    /// Listing and reading the archive (and the ledger lookups of --only-missing).
    pub read_ms: u128,
    /// Sending to the queue.
    pub send_ms: u128,
    pub elapsed_ms: u128,
    pub per_second: f64,
    /// What stopped the run early (it is reported first, then the command fails with it).
    #[serde(skip)]
    pub failure: Option<Failure>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct TypeCount {
    pub provider: String,
    pub event_type: String,
    pub count: usize,
}

#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct Unreadable {
    pub key: String,
    pub reason: String,
}

/// What a replay is about to do, once the window is listed: the question it asks (a dry run
/// rehearses: it asks nothing, and its apply reads without sending).
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ReplayPlan {
    pub stage: String,
    pub into_stage: String,
    pub from: String,
    pub to: String,
    pub listed: usize,
}

/// The question says it all; nothing more is shown before it.
impl fmt::Display for ReplayPlan {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        Ok(())
    }
}

impl Plan for ReplayPlan {
    fn ask(&self) -> Ask {
        Ask::YesNo(format!(
            "Replay the archived webhooks of {} to {} that the selection takes (of {} listed) into {}'s queue?",
            self.from, self.to, self.listed, self.into_stage
        ))
    }

    fn declined(&self) -> String {
        "nothing was sent".into()
    }
}

impl Outcome for ReplayReport {
    fn failure(&self) -> Option<Failure> {
        if let Some(failure) = &self.failure {
            return Some(failure.clone());
        }
        if self.interrupted {
            return Some(Failure::new(
                FailureKind::Interrupted,
                format!(
                    "stopped after sending {} of {}; a replay can be repeated safely",
                    self.sent, self.matched
                ),
            ));
        }
        if !self.failed.is_empty() {
            return Some(
                Failure::new(
                    FailureKind::Partial,
                    format!("{} webhooks could not be read or sent", self.failed.len()),
                )
                .next("run the same replay again with --only-missing once the cause is fixed"),
            );
        }
        self.judged.failure(self.sent, "replayed", &self.into_stage)
    }
}

impl ReplayReport {
    /// The replay that counts which of this window's webhooks the ledger still lacks.
    pub(super) fn missing_command(&self) -> String {
        let into = if self.into_stage == self.stage {
            String::new()
        } else {
            format!(" --into-stage {}", self.into_stage)
        };
        format!(
            "mgrid replay --stage {} --from {} --to {}{into} --only-missing --dry-run (counts the webhooks still not in the ledger)",
            self.stage, self.from, self.to
        )
    }
}

/// The counts shown before confirming.
pub(super) struct Summary<'a>(&'a ReplayReport);

impl fmt::Display for Summary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.0;
        writeln!(
            f,
            "{} to {}: {} listed in {}, {} match",
            r.from,
            r.to,
            counted(r.listed as u64, "archived webhook", "archived webhooks"),
            counted(r.prefixes as u64, "hour prefix", "hour prefixes"),
            r.matched
        )?;
        if r.skipped_present > 0 {
            writeln!(
                f,
                "{} of them are already in {}'s ledger and are skipped (--only-missing)",
                r.skipped_present, r.into_stage
            )?;
        }
        if !r.by_type.is_empty() {
            let mut rows = table(&["provider", "event type", "webhooks"]);
            for row in &r.by_type {
                rows.add_row(vec![
                    shown(&row.provider),
                    shown(&row.event_type),
                    row.count.to_string(),
                ]);
            }
            writeln!(f, "{rows}")?;
        }
        for bad in &r.unreadable {
            writeln!(
                f,
                "{WARNING}skipped{WARNING:#} {}: {}",
                shown(&bad.key),
                shown(&bad.reason)
            )?;
        }
        Ok(())
    }
}

impl fmt::Display for ReplayReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.dry_run {
            write!(f, "{}", Summary(self))?;
            let count: usize = self.by_type.iter().map(|t| t.count).sum();
            return writeln!(
                f,
                "dry run: {count} webhooks would be replayed into {}; nothing was sent",
                self.into_stage
            );
        }
        if self.sent == 0 && self.failed.is_empty() {
            return write!(f, "{}", Summary(self));
        }
        let verdicts = &self.judged.verdicts;
        let mut rows = table(&[
            "sent",
            "recorded",
            "duplicate",
            "failed again",
            "pending",
            "not sent",
            "skipped (in ledger)",
            "unreadable",
        ]);
        rows.add_row(vec![
            self.sent.to_string(),
            verdicts.recorded.to_string(),
            verdicts.duplicate.to_string(),
            verdicts.failed_again_total().to_string(),
            verdicts.pending.to_string(),
            self.failed.len().to_string(),
            self.skipped_present.to_string(),
            self.unreadable.len().to_string(),
        ]);
        writeln!(f, "{rows}")?;
        writeln!(
            f,
            "into {} at {}/s, then watched {} for verdicts",
            self.into_stage,
            self.per_second,
            seconds(self.judged.watched_ms)
        )?;
        for failure in &self.failed {
            writeln!(f, "{WARNING}not sent:{WARNING:#} {failure}")?;
        }
        self.judged.fmt(f, self.sent, "replayed")
    }
}
