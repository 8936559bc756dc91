//! What `mgrid trace` concludes from what each place holds for an event: the one sentence that
//! answers "where is it?" (recorded and archived, dead-lettered with why, queued, retrying, not
//! found and where to look next), and the report as people read it. Pure: `commands::trace`
//! looks the event up.

use std::fmt;

use mgrid_contract::decision::DecisionLine;
use mgrid_contract::{EpochMillis, Provider};
use serde::Serialize;

use crate::decide::logs::LogLine;
use crate::decide::redrive::DeadLetterView;
use crate::decide::values::{Notification, Whereabouts};
use crate::text::{BOLD, DIM, ERROR, GOOD, WARNING, shown};

/// How long after being recorded a webhook may still be on its way to the archive.
const ARCHIVE_GRACE_MS: EpochMillis = 15 * 60_000;

/// What the ledger holds for the event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Recorded {
    pub provider: Provider,
    pub transaction_id: String,
    pub event_type: String,
    pub vendor_id: String,
    pub amount: Option<i64>,
    pub currency: Option<String>,
    pub status: Option<String>,
    #[serde(serialize_with = "crate::clock::rfc3339")]
    #[cfg_attr(test, schemars(with = "crate::clock::Rfc3339"))]
    pub received_at: EpochMillis,
    /// The archive key its receipt time gives.
    pub archive_key: String,
    /// Whether the archive holds that object; None when it could not be read.
    pub archived: Option<bool>,
    /// Why the archive could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archive_error: Option<String>,
}

/// What was found, place by place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct TraceReport {
    pub stage: String,
    pub event_id: String,
    /// The providers looked up.
    pub providers: Vec<Provider>,
    /// The ledger's transactions for the event (one per provider that has it).
    pub ledger: Vec<Recorded>,
    /// The event's dead letters among those read.
    pub dead_letters: Vec<DeadLetterView>,
    /// How many dead letters were read.
    pub dead_letters_read: usize,
    /// Whether that was the whole dead-letter queue (false: its first [`DLQ_READ`] only).
    pub dead_letters_whole: bool,
    /// Whether the stage keeps an API access log and a WAF (the local stage has neither).
    pub api_access_log: bool,
    /// The processor's and the archiver's decisions about the event, oldest first.
    pub decisions: Vec<DecisionLine>,
    /// API Gateway's access log lines of the requests that delivered it (found by the request
    /// ids the decisions carry).
    pub received: Vec<LogLine>,
    /// The webhook queue and the vendor notification, as far as they can be read.
    pub whereabouts: Option<Whereabouts>,
    /// When the provider's signing secret last changed (read for a bad signature).
    #[serde(serialize_with = "crate::clock::rfc3339_option")]
    #[cfg_attr(test, schemars(with = "Option<crate::clock::Rfc3339>"))]
    pub signing_secret_changed_at: Option<EpochMillis>,
    /// Places that could not be read, and why.
    pub unreadable: Vec<String>,
    pub verdict: Conclusion,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum VerdictKind {
    RecordedAndArchived,
    RecordedNotYetArchived,
    RecordedNotArchived,
    DeadLettered,
    Queued,
    Retrying,
    WasDeadLettered,
    Ambiguous,
    NotFound,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, schemars(rename = "Verdict"))]
pub struct Conclusion {
    pub kind: VerdictKind,
    pub summary: String,
    /// What to do next, when there is something to do.
    pub next: Option<String>,
}

impl Conclusion {
    /// The verdict of a report not judged yet.
    pub fn pending() -> Conclusion {
        Conclusion {
            kind: VerdictKind::NotFound,
            summary: String::new(),
            next: None,
        }
    }
}

/// The one sentence that answers "where is it?", and the next step.
pub fn verdict(report: &TraceReport, now: EpochMillis) -> Conclusion {
    let stage = report.stage.as_str();
    let event_id = report.event_id.as_str();
    let recorded = &report.ledger;
    let dead_letters = &report.dead_letters;
    let decisions = &report.decisions;
    let secret_changed_at = report.signing_secret_changed_at;
    let notification = report
        .whereabouts
        .as_ref()
        .map(|w| notification_text(&w.notification))
        .unwrap_or_default();
    let say = |kind, summary: String, next: Option<String>| Conclusion {
        kind,
        summary,
        next,
    };
    if recorded.len() > 1 {
        return say(
            VerdictKind::Ambiguous,
            format!("both providers have a transaction with event id {event_id}"),
            Some(format!(
                "pass --provider to trace one: mgrid trace {event_id} --stage {stage} --provider stripe"
            )),
        );
    }
    if let Some(record) = recorded.first() {
        let vendor = format!("vendor {}", shown(&record.vendor_id));
        return match record.archived {
            Some(true) => say(
                VerdictKind::RecordedAndArchived,
                format!("recorded in the ledger for {vendor} and archived{notification}"),
                None,
            ),
            _ if now - record.received_at < ARCHIVE_GRACE_MS => say(
                VerdictKind::RecordedNotYetArchived,
                format!(
                    "recorded in the ledger for {vendor}; not archived yet (received {} ago; the archive pipe follows within minutes){notification}",
                    age(now - record.received_at)
                ),
                Some(format!(
                    "run the trace again in a few minutes; `mgrid logs --stage {stage} archiver` shows the archiver"
                )),
            ),
            _ => say(
                VerdictKind::RecordedNotArchived,
                format!(
                    "recorded in the ledger for {vendor}, but not archived ({}){notification}",
                    record.archive_key
                ),
                Some(format!(
                    "look at the archive pipe: `mgrid metrics tail --stage {stage}` (archive pipe failures) and `mgrid logs --stage {stage} archiver --level warn`"
                )),
            ),
        };
    }
    if let Some(letter) = dead_letters.first() {
        let why = match &letter.detail {
            Some(detail) => format!("{}: {}", letter.reason, shown(detail)),
            None => letter.reason.clone(),
        };
        // Only what parses goes into a command line: the attributes came with the webhook.
        let named = letter
            .provider
            .as_deref()
            .and_then(|p| p.parse::<mgrid_contract::Provider>().ok());
        let provider = named
            .map(|p| format!(" --provider {p}"))
            .unwrap_or_default();
        let changed = secret_changed_at
            .map(|at| {
                format!(
                    "it last changed at {}; ",
                    mgrid_contract::clock::format_rfc3339(at)
                )
            })
            .unwrap_or_default();
        let fix = match letter.reason.as_str() {
            "bad-signature" | "signature-expired" => {
                format!(
                    "check the signing secret first ({changed}`mgrid keys list --stage {stage}`); then "
                )
            }
            "no-signing-secret" => {
                let whose = named.map_or("stripe", |p| p.as_str());
                format!(
                    "set the signing secret first (`mgrid keys set-signing-secret {whose} --stage {stage}`); then "
                )
            }
            _ => String::new(),
        };
        return say(
            VerdictKind::DeadLettered,
            format!(
                "dead-lettered: {why} (receive count {})",
                letter.receive_count
            ),
            Some(if crate::decide::reconcile::is_plain_word(event_id) {
                format!(
                    "{fix}move it back: mgrid dlq redrive --stage {stage}{provider} --event-id {event_id} --yes"
                )
            } else {
                format!(
                    "{fix}move it back with `mgrid dlq redrive --stage {stage}{provider}` (its event id is not a plain word, so no command names it)"
                )
            }),
        );
    }
    if let Some(queued) = report.whereabouts.as_ref().and_then(|w| w.queued.as_ref()) {
        return say(
            VerdictKind::Queued,
            format!(
                "waiting in the webhook queue since {} (received by the processor {} times so far)",
                mgrid_contract::clock::format_rfc3339(queued.sent_at),
                queued.receive_count
            ),
            Some(format!(
                "the processor takes it in its group's order; `mgrid logs --stage {stage} processor --level warn` shows what holds the group up"
            )),
        );
    }
    if let Some(last) = decisions.iter().rev().find(|d| d.function == "processor") {
        return match last.outcome.as_str() {
            "retry" | "held-for-order" => say(
                VerdictKind::Retrying,
                format!(
                    "in the webhook queue, being retried: last {} at {}{}",
                    last.outcome,
                    last.time,
                    last.reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default()
                ),
                Some(format!("the queue delivers it again; `mgrid logs --stage {stage} processor --level warn` shows why it failed")),
            ),
            "dead-lettered" => say(
                VerdictKind::WasDeadLettered,
                format!(
                    "dead-lettered at {}{}, and {}",
                    last.time,
                    last.reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default(),
                    if report.dead_letters_whole {
                        "no longer in the dead-letter queue (redriven and not judged yet, or purged)".to_owned()
                    } else {
                        format!(
                            "not among the first {} dead letters read (redriven, purged, or further back in the queue)",
                            report.dead_letters_read
                        )
                    }
                ),
                Some(format!("`mgrid dlq peek --stage {stage}` shows the queue; a redrive sends it back with a new deduplication id")),
            ),
            other => say(
                VerdictKind::NotFound,
                format!("the processor decided `{other}` at {}, but the ledger does not hold it", last.time),
                Some("the ledger may have been restored from an earlier point; replay it from the archive: mgrid replay".to_owned()),
            ),
        };
    }
    if !report.api_access_log {
        return say(
            VerdictKind::NotFound,
            "not found in the ledger, the dead-letter queue, or the processor's log: it never reached the local stage's queue (the sender got a refusal: a wrong URL or API key), or it is older than the log kept".to_owned(),
            Some(format!("`mgrid logs --stage {stage} authorizer --level warn --since 1d` shows refused requests; `mgrid status --stage {stage}` shows the URL to send to")),
        );
    }
    say(
        VerdictKind::NotFound,
        "not found in the ledger, the dead letters read, or the processor's log: it never reached the queue, or it is older than the logs kept".to_owned(),
        Some(format!("look at the API access log and WAF: `mgrid logs --stage {stage} api --level warn --since 1d`; ask the provider for the delivery attempt's response")),
    )
}

/// The notification's state as the end of a verdict's sentence.
fn notification_text(notification: &Notification) -> String {
    match notification {
        Notification::Sent => "; the vendor was notified".to_owned(),
        Notification::Pending { attempts } => {
            format!("; the vendor notification is pending ({attempts} attempts so far)")
        }
        Notification::Failed { attempts, reason } => format!(
            "; the vendor notification FAILED after {attempts} attempts ({})",
            shown(reason)
        ),
        Notification::Told { at, by, .. } => {
            format!("; the vendor was notified at {at} (by {})", shown(by))
        }
        Notification::NotTold { failure } => format!(
            "; the vendor is NOT notified yet{}",
            failure
                .as_deref()
                .map(|why| format!(" ({})", shown(why)))
                .unwrap_or_default()
        ),
        Notification::NoTransaction => String::new(),
        Notification::Unknown {
            pipe_dead_letters: Some(n),
        } if *n > 0 => format!(
            "; the pipes' dead-letter queue holds {n} failed batch(es), which name no event: a notification may be among them"
        ),
        Notification::Unknown { .. } => String::new(),
    }
}

fn age(ms: EpochMillis) -> String {
    crate::decide::metrics::span_text((ms / 1000).max(1))
}

impl fmt::Display for TraceReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let providers: Vec<&str> = self.providers.iter().map(|p| p.as_str()).collect();
        writeln!(
            f,
            "{BOLD}event {}{BOLD:#} on {} ({})",
            shown(&self.event_id),
            self.stage,
            providers.join(", ")
        )?;
        let found = |yes: bool| {
            if yes {
                format!("{GOOD}found{GOOD:#}")
            } else {
                format!("{DIM}not found{DIM:#}")
            }
        };
        writeln!(f, "  ledger        {}", found(!self.ledger.is_empty()))?;
        for record in &self.ledger {
            let amount = match (record.amount, &record.currency) {
                (Some(amount), Some(currency)) => {
                    mgrid_contract::money::shown_amount(i128::from(amount), currency)
                }
                (Some(amount), None) => format!("{amount} (no currency)"),
                _ => "no amount".to_owned(),
            };
            writeln!(
                f,
                "                {} {} for vendor {}, {amount}, {}, received {}",
                record.provider,
                shown(&record.event_type),
                shown(&record.vendor_id),
                shown(record.status.as_deref().unwrap_or("no status")),
                mgrid_contract::clock::format_rfc3339(record.received_at)
            )?;
            let archive = match (record.archived, &record.archive_error) {
                (Some(true), _) => found(true),
                (Some(false), _) => found(false),
                (None, Some(error)) => format!("{WARNING}unreadable{WARNING:#}: {error}"),
                (None, None) => "unknown".to_owned(),
            };
            writeln!(f, "  archive       {archive} ({})", record.archive_key)?;
        }
        let read = if self.dead_letters_whole {
            format!("read all {} in the queue", self.dead_letters_read)
        } else {
            format!(
                "read the first {} of the queue; on SQS a read counts as a receive",
                self.dead_letters_read
            )
        };
        writeln!(
            f,
            "  dead letters  {} ({read})",
            found(!self.dead_letters.is_empty()),
        )?;
        for letter in &self.dead_letters {
            writeln!(
                f,
                "                {ERROR}{}{ERROR:#}{}, receive count {}",
                letter.reason,
                letter
                    .detail
                    .as_deref()
                    .map(|d| format!(": {}", shown(d)))
                    .unwrap_or_default(),
                letter.receive_count
            )?;
        }
        for line in &self.received {
            let status = serde_json::from_str::<serde_json::Value>(&line.message)
                .ok()
                .and_then(|v| Some(v.get("status")?.as_str()?.to_owned()))
                .unwrap_or_else(|| "?".to_owned());
            writeln!(
                f,
                "  received      {} with HTTP {} (access log)",
                mgrid_contract::clock::format_rfc3339(line.time),
                shown(&status)
            )?;
        }
        writeln!(
            f,
            "  decisions     {} line(s) in the functions' logs",
            self.decisions.len()
        )?;
        for decision in &self.decisions {
            writeln!(
                f,
                "                {} {} {}{}{}",
                decision.time,
                shown(&decision.function),
                decision.outcome,
                decision
                    .reason
                    .as_deref()
                    .map(|r| format!(" ({})", shown(r)))
                    .unwrap_or_default(),
                decision
                    .receive_count
                    .map(|n| format!(", receive {n}"))
                    .unwrap_or_default()
            )?;
        }
        if let Some(whereabouts) = &self.whereabouts {
            let queue = match (&whereabouts.queued, whereabouts.queue_read) {
                (Some(queued), _) => format!(
                    "{WARNING}waiting{WARNING:#} since {}, receive count {}",
                    mgrid_contract::clock::format_rfc3339(queued.sent_at),
                    queued.receive_count
                ),
                (None, true) => found(false),
                (None, false) => format!("{DIM}not read (it would hold up the group){DIM:#}"),
            };
            writeln!(f, "  queue         {queue}")?;
            let notified = match &whereabouts.notification {
                Notification::Sent => format!("{GOOD}sent{GOOD:#}"),
                Notification::Pending { attempts } => {
                    format!("{WARNING}pending{WARNING:#} ({attempts} attempts so far)")
                }
                Notification::Failed { attempts, reason } => format!(
                    "{ERROR}failed{ERROR:#} after {attempts} attempts: {}",
                    shown(reason)
                ),
                Notification::Told { at, message_id, by } => format!(
                    "{GOOD}sent{GOOD:#} at {at}, message {} (by {})",
                    shown(message_id),
                    shown(by)
                ),
                Notification::NotTold { failure } => format!(
                    "{WARNING}not sent yet{WARNING:#}{}",
                    failure
                        .as_deref()
                        .map(|why| format!(": {}", shown(why)))
                        .unwrap_or_default()
                ),
                Notification::NoTransaction => format!("{DIM}no transaction{DIM:#}"),
                Notification::Unknown { pipe_dead_letters } => format!(
                    "{DIM}not known per event{DIM:#} (the pipes' dead-letter queue holds {})",
                    pipe_dead_letters
                        .map_or_else(|| "an unknown number of".to_owned(), |n| n.to_string())
                ),
            };
            writeln!(f, "  notification  {notified}")?;
        }
        for place in &self.unreadable {
            writeln!(f, "  {WARNING}not read{WARNING:#}: {place}")?;
        }
        let colour = match self.verdict.kind {
            VerdictKind::RecordedAndArchived => GOOD,
            VerdictKind::RecordedNotYetArchived | VerdictKind::Retrying => WARNING,
            _ => ERROR,
        };
        writeln!(f, "{colour}verdict{colour:#}: {}", self.verdict.summary)?;
        if let Some(next) = &self.verdict.next {
            writeln!(f, "next: {next}")?;
        }
        Ok(())
    }
}
