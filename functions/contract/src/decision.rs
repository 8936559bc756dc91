//! One structured log line per decision the pipeline makes about a webhook: the processor's
//! outcome for each message (recorded, duplicate, dead-lettered, retried, held for order) and
//! the archiver's for each ledger record. The functions print these lines (CloudWatch Logs keeps
//! them), `mgrid dev` writes the same lines to its log file, and `mgrid logs` and `mgrid trace`
//! read them back by field (`eventId`, `level`), never by matching text.
//!
//! A line holds ids, the provider, the reason and a short, printable detail: never a body, a
//! header value, a key or a signing secret.

use serde::{Deserialize, Serialize};

use crate::EpochMillis;

/// How much of a rejection's detail a line keeps.
pub const MAX_DETAIL_CHARS: usize = 200;

/// How bad a decision is: `info` for work done, `warn` for a webhook that did not make it (yet),
/// `error` for the pipeline failing at its own job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Info,
    Warn,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

impl std::str::FromStr for Level {
    type Err = String;
    fn from_str(text: &str) -> Result<Level, String> {
        match text.to_ascii_lowercase().as_str() {
            "info" => Ok(Level::Info),
            "warn" | "warning" => Ok(Level::Warn),
            "error" => Ok(Level::Error),
            other => Err(format!("{other:?} is not a level (info, warn, error)")),
        }
    }
}

/// One decision, as one JSON line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct DecisionLine {
    /// RFC 3339, milliseconds.
    pub time: String,
    pub level: Level,
    /// processor, archiver.
    pub function: String,
    /// recorded, duplicate, dead-lettered, retry, held-for-order, archived, already-archived,
    /// archive-failed.
    pub outcome: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// The FIFO message group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Why: a dead-letter reason (`bad-signature`), or what was unavailable for a retry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// API Gateway's request id (the access log's `requestId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receive_count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
}

impl DecisionLine {
    pub fn new(at: EpochMillis, level: Level, function: &str, outcome: &str) -> DecisionLine {
        DecisionLine {
            time: crate::clock::format_rfc3339(at),
            level,
            function: function.to_owned(),
            outcome: outcome.to_owned(),
            event_id: None,
            provider: None,
            group: None,
            reason: None,
            detail: None,
            request_id: None,
            receive_count: None,
            duration_ms: None,
        }
    }

    /// Keeps a short, printable form of a rejection's detail (it may quote what the sender
    /// wrote).
    pub fn with_detail(mut self, detail: &str) -> DecisionLine {
        let printable = crate::untrusted::printable(detail);
        let mut kept: String = printable.chars().take(MAX_DETAIL_CHARS).collect();
        if printable.chars().count() > MAX_DETAIL_CHARS {
            kept.push('…');
        }
        self.detail = Some(kept);
        self
    }

    /// The line as printed: one JSON object, no line breaks.
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A decision line, or None for any other log line (a metric, a runtime message, text).
    pub fn parse(line: &str) -> Option<DecisionLine> {
        let line = line.trim();
        if !line.starts_with('{') || !line.contains("\"outcome\"") {
            return None;
        }
        serde_json::from_str(line).ok()
    }

    /// When, as epoch milliseconds (None if the time does not parse).
    pub fn at(&self) -> Option<EpochMillis> {
        crate::clock::parse_rfc3339(&self.time).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_round_trips_and_other_lines_are_not_decisions() {
        let mut line =
            DecisionLine::new(1_795_923_000_000, Level::Warn, "processor", "dead-lettered")
                .with_detail("PAYPAL-AUTH-ALGO \"\u{1b}[31mX\" is not SHA256withRSA");
        line.event_id = Some("WH-1".into());
        line.reason = Some("bad-signature".into());
        let text = line.to_line();
        assert!(!text.contains('\n') && !text.contains('\u{1b}'), "{text}");
        assert_eq!(DecisionLine::parse(&text), Some(line.clone()));
        assert_eq!(line.at(), Some(1_795_923_000_000));
        assert_eq!(
            DecisionLine::parse(r#"{"_aws":{"Timestamp":1},"Recorded":3}"#),
            None
        );
        assert_eq!(
            DecisionLine::parse("START RequestId: 1 Version: $LATEST"),
            None
        );
        assert_eq!(DecisionLine::parse(r#"{"outcome": 3}"#), None);
    }

    #[test]
    fn a_long_detail_is_cut() {
        let line = DecisionLine::new(0, Level::Warn, "processor", "dead-lettered")
            .with_detail(&"x".repeat(5_000));
        assert_eq!(line.detail.unwrap().chars().count(), MAX_DETAIL_CHARS + 1);
    }

    #[test]
    fn levels_read_as_people_write_them() {
        assert_eq!("WARNING".parse::<Level>(), Ok(Level::Warn));
        assert!(Level::Error > Level::Warn && Level::Warn > Level::Info);
        assert!("debug".parse::<Level>().is_err());
    }
}
