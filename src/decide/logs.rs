//! A stage's logs as `mgrid logs` and `mgrid trace` read them: where each source's lines are
//! kept, what a query asks for, and how lines from several sources become one stream. Pure: the
//! backends (`aws::logs`, `local::logfile`) fetch, this decides.

use std::collections::HashMap;

use mgrid_contract::decision::{DecisionLine, Level};
use mgrid_contract::{EpochMillis, StageName};
use serde::Serialize;

use crate::failure::Failure;

/// Where a line comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
#[cfg_attr(test, schemars(rename = "Source"))]
pub enum LogSource {
    /// The API key authorizer function
    Authorizer,
    /// The processor function (one decision line per webhook)
    Processor,
    /// The archiver function
    Archiver,
    /// The notifier function (one line per vendor notification)
    Notifier,
    /// API Gateway's access log (one line per request)
    Api,
}

impl LogSource {
    pub const ALL: [LogSource; 5] = [
        LogSource::Authorizer,
        LogSource::Processor,
        LogSource::Archiver,
        LogSource::Notifier,
        LogSource::Api,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LogSource::Authorizer => "authorizer",
            LogSource::Processor => "processor",
            LogSource::Archiver => "archiver",
            LogSource::Notifier => "notifier",
            LogSource::Api => "api",
        }
    }

    /// What the source is, in a few words (its variant's description above, for `--help`).
    pub fn description(self) -> &'static str {
        match self {
            LogSource::Authorizer => "The API key authorizer function",
            LogSource::Processor => "The processor function (one decision line per webhook)",
            LogSource::Archiver => "The archiver function",
            LogSource::Notifier => "The notifier function (one line per vendor notification)",
            LogSource::Api => "API Gateway's access log (one line per request)",
        }
    }

    /// The source whose log group `identifier` (a name or an ARN) is, on `stage`.
    pub fn of_log_group(stage: &StageName, identifier: &str) -> Option<LogSource> {
        let name = identifier
            .split_once(":log-group:")
            .map_or(identifier, |(_, name)| name.trim_end_matches(":*"));
        LogSource::ALL
            .into_iter()
            .find(|source| source.log_group(stage) == name)
    }

    /// The CloudWatch Logs group the stack gives this source (stacks/pipeline.yaml; a template
    /// test holds the two together).
    pub fn log_group(self, stage: &StageName) -> String {
        match self {
            LogSource::Api => format!(
                "/aws/apigateway/{}",
                mgrid_contract::names::resource_name(stage.as_str(), "access")
            ),
            function => format!(
                "/aws/lambda/{}",
                mgrid_contract::names::resource_name(stage.as_str(), function.as_str())
            ),
        }
    }
}

/// One log line, from any source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct LogLine {
    #[serde(serialize_with = "crate::clock::rfc3339")]
    #[cfg_attr(test, schemars(with = "crate::clock::Rfc3339"))]
    pub time: EpochMillis,
    pub source: LogSource,
    /// What identifies the line where it is kept (CloudWatch's event id; a file position
    /// locally): a follow shows each line once by it.
    pub id: String,
    /// The line as written.
    pub message: String,
    /// The decision the line records, when it is a processor decision line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<DecisionLine>,
}

impl LogLine {
    pub fn new(time: EpochMillis, source: LogSource, id: String, message: String) -> LogLine {
        let decision = DecisionLine::parse(&message);
        LogLine {
            time,
            source,
            id,
            message: message.trim().to_owned(),
            decision,
        }
    }

    /// The line's level: a decision line's own; for other lines, what their text starts with
    /// (the functions' runtime and warnings print `WARN`/`ERROR` first; API lines by status).
    pub fn level(&self) -> Level {
        if let Some(decision) = &self.decision {
            return decision.level;
        }
        if self.source == LogSource::Api {
            return api_level(&self.message);
        }
        let head: String = self.message.chars().take(40).collect::<String>();
        let head = head.to_ascii_uppercase();
        if head.contains("ERROR") || head.starts_with("TASK TIMED OUT") {
            Level::Error
        } else if head.contains("WARN") {
            Level::Warn
        } else {
            Level::Info
        }
    }

    /// A metric line (CloudWatch Embedded Metric Format): kept out of the way unless asked for.
    pub fn is_metric(&self) -> bool {
        self.message.starts_with('{') && self.message.contains("\"_aws\"")
    }
}

/// An access log line's level by its status: 5XX an error, 4XX a warning.
fn api_level(message: &str) -> Level {
    let status = serde_json::from_str::<serde_json::Value>(message)
        .ok()
        .and_then(|v| v.get("status")?.as_str()?.parse::<u16>().ok());
    match status {
        Some(500..) => Level::Error,
        Some(400..=499) => Level::Warn,
        _ => Level::Info,
    }
}

/// What `mgrid logs` asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogQuery {
    pub sources: Vec<LogSource>,
    pub from: EpochMillis,
    pub to: Option<EpochMillis>,
    /// Lines containing this text.
    pub text: Option<String>,
    /// Decision lines of this event.
    pub event_id: Option<String>,
    /// Lines at this level or worse.
    pub level: Option<Level>,
    /// Metric lines too.
    pub metrics: bool,
}

impl LogQuery {
    /// Whether a line answers the query (the backend's own filter only narrows what is sent).
    pub fn matches(&self, line: &LogLine) -> bool {
        if line.time < self.from || self.to.is_some_and(|to| line.time > to) {
            return false;
        }
        if !self.sources.contains(&line.source) || (!self.metrics && line.is_metric()) {
            return false;
        }
        if let Some(id) = &self.event_id
            && line.decision.as_ref().and_then(|d| d.event_id.as_ref()) != Some(id)
        {
            return false;
        }
        if let Some(text) = &self.text
            && !line.message.contains(text.as_str())
        {
            return false;
        }
        self.level.is_none_or(|level| line.level() >= level)
    }

    /// The CloudWatch Logs filter pattern that narrows what is sent: the event id or the text as
    /// a quoted term; None for everything (a level is judged here: lines that are not JSON
    /// carry theirs as text). Every line that comes back is still checked by
    /// [`LogQuery::matches`], so the pattern only saves transfer.
    pub fn filter_pattern(&self) -> Option<String> {
        let quoted =
            |term: &str| format!("\"{}\"", term.replace('\\', "\\\\").replace('"', "\\\""));
        if let Some(id) = &self.event_id {
            return Some(quoted(id));
        }
        self.text.as_deref().map(quoted)
    }
}

/// What a read found: the lines (oldest first), whether there were more than the limit, and the
/// places that hold none because they do not exist (yet): a log group, the local log file.
#[derive(Debug, Default)]
pub struct Found {
    pub lines: Vec<LogLine>,
    pub truncated: bool,
    /// When truncated, the lines kept are the window's newest (the local log, read whole), not
    /// its oldest (CloudWatch Logs, read from the window's start).
    pub newest: bool,
    pub missing: Vec<String>,
    /// Places that exist but could not be read, and why; their lines are not among `lines`.
    /// A read where no place could be read is an error instead.
    pub unreadable: Vec<(String, Failure)>,
}

/// What a reader is told about a place whose lines are missing from what it is shown.
pub fn unreadable_sentence(place: &str, failure: &Failure) -> String {
    format!("{place} could not be read, so its lines are missing: {failure}")
}

/// Lines from several sources as one stream, oldest first (a stable order for equal times).
pub fn interleave(mut lines: Vec<LogLine>) -> Vec<LogLine> {
    lines.sort_by(|a, b| (a.time, a.source, &a.id).cmp(&(b.time, b.source, &b.id)));
    lines
}

/// How far back each poll of a follow looks again: CloudWatch Logs makes a line searchable a
/// few seconds after it was written, sometimes with an older timestamp than lines already seen.
pub const FOLLOW_LOOKBACK_MS: EpochMillis = 60_000;

/// What a follow has shown: every line once, none missed. Each poll asks again from a while
/// before the newest line seen ([`FOLLOW_LOOKBACK_MS`]), and drops what it already showed; ids
/// older than the lookback are forgotten, so the memory stays bounded however long it runs.
#[derive(Debug, Default)]
pub struct Follow {
    seen: HashMap<String, EpochMillis>,
    newest: Option<EpochMillis>,
    /// Places already said to be unreadable, with what was said (said again when it changes).
    said_unreadable: HashMap<String, String>,
}

impl Follow {
    /// A sentence for each place a read could not read that has not been said in these words
    /// yet (a follow polls every 2 s: the same failure is said once), and one for each place
    /// said before that reads again.
    pub fn unreadable_news(&mut self, unreadable: &[(String, Failure)]) -> Vec<String> {
        let mut news = Vec::new();
        for (place, failure) in unreadable {
            if self.said_unreadable.get(place) != Some(&failure.what) {
                self.said_unreadable
                    .insert(place.clone(), failure.what.clone());
                news.push(unreadable_sentence(place, failure));
            }
        }
        let recovered: Vec<String> = self
            .said_unreadable
            .keys()
            .filter(|place| !unreadable.iter().any(|(p, _)| p == *place))
            .cloned()
            .collect();
        for place in recovered {
            self.said_unreadable.remove(&place);
            news.push(format!("{place} reads again"));
        }
        news
    }

    /// Where the next poll starts.
    pub fn poll_from(&self, from: EpochMillis) -> EpochMillis {
        self.newest
            .map_or(from, |newest| (newest - FOLLOW_LOOKBACK_MS).max(from))
    }

    /// The lines of a poll not shown before, oldest first.
    pub fn fresh(&mut self, lines: Vec<LogLine>) -> Vec<LogLine> {
        let mut fresh = Vec::new();
        for line in interleave(lines) {
            let key = format!("{}/{}", line.source.as_str(), line.id);
            if self.seen.contains_key(&key) {
                continue;
            }
            self.seen.insert(key, line.time);
            self.newest = Some(self.newest.map_or(line.time, |n| n.max(line.time)));
            fresh.push(line);
        }
        if let Some(newest) = self.newest {
            self.seen
                .retain(|_, at| *at >= newest - 2 * FOLLOW_LOOKBACK_MS);
        }
        fresh
    }
}

/// What one step of a follow brought: its new lines, and a sentence about how the follow goes
/// (a Live Tail session that ended, sampling) when there is one.
pub struct NewLines {
    pub lines: Vec<LogLine>,
    pub note: Option<String>,
    /// The places a poll could not read, and why (none from a Live Tail update).
    pub unreadable: Vec<(String, Failure)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_follow_says_an_unreadable_place_once_again_when_its_reason_changes_and_when_it_reads() {
        use crate::failure::FailureKind;
        let denied = || {
            vec![(
                "/aws/lambda/p".to_owned(),
                Failure::new(FailureKind::Credentials, "not allowed"),
            )]
        };
        let mut follow = Follow::default();
        assert_eq!(
            follow.unreadable_news(&denied()),
            ["/aws/lambda/p could not be read, so its lines are missing: not allowed"]
        );
        assert!(follow.unreadable_news(&denied()).is_empty(), "said once");
        let other = vec![(
            "/aws/lambda/p".to_owned(),
            Failure::new(FailureKind::Failed, "throttled"),
        )];
        assert_eq!(follow.unreadable_news(&other).len(), 1, "a new reason");
        assert_eq!(follow.unreadable_news(&[]), ["/aws/lambda/p reads again"]);
        assert!(follow.unreadable_news(&[]).is_empty());
    }

    fn decision(at: EpochMillis, event: &str, level: Level) -> String {
        let mut line = DecisionLine::new(at, level, "processor", "recorded");
        line.event_id = Some(event.to_owned());
        line.to_line()
    }

    fn line(at: EpochMillis, source: LogSource, id: &str, message: &str) -> LogLine {
        LogLine::new(at, source, id.to_owned(), message.to_owned())
    }

    fn query() -> LogQuery {
        LogQuery {
            sources: LogSource::ALL.to_vec(),
            ..LogQuery::default()
        }
    }

    #[test]
    fn event_id_and_level_filter_on_fields_not_on_text() {
        let recorded = line(
            10,
            LogSource::Processor,
            "a",
            &decision(10, "evt_1", Level::Info),
        );
        let mentions = line(
            11,
            LogSource::Processor,
            "b",
            "WARN ledger write failed event_id=evt_1",
        );
        let failed = line(
            12,
            LogSource::Processor,
            "c",
            &decision(12, "evt_2", Level::Warn),
        );
        let by_event = LogQuery {
            event_id: Some("evt_1".into()),
            ..query()
        };
        assert!(by_event.matches(&recorded));
        assert!(
            !by_event.matches(&mentions),
            "text that mentions it is not its decision"
        );
        assert!(!by_event.matches(&failed));
        let warnings = LogQuery {
            level: Some(Level::Warn),
            ..query()
        };
        assert!(!warnings.matches(&recorded));
        assert!(warnings.matches(&mentions) && warnings.matches(&failed));
        let api_500 = line(
            13,
            LogSource::Api,
            "d",
            r#"{"requestId":"r","status":"502"}"#,
        );
        assert_eq!(api_500.level(), Level::Error);
    }

    #[test]
    fn time_source_text_and_metrics() {
        let metric = line(
            5,
            LogSource::Processor,
            "m",
            r#"{"_aws":{"Timestamp":5},"Recorded":1}"#,
        );
        let text = line(6, LogSource::Authorizer, "t", "allowed provider=stripe");
        let mut q = LogQuery {
            from: 6,
            to: Some(6),
            ..query()
        };
        assert!(!q.matches(&metric), "before --since");
        assert!(q.matches(&text));
        q.from = 0;
        assert!(!q.matches(&metric), "metric lines only when asked");
        q.metrics = true;
        assert!(q.matches(&metric));
        q.sources = vec![LogSource::Processor];
        assert!(!q.matches(&text));
        q.sources = LogSource::ALL.to_vec();
        q.text = Some("stripe".into());
        assert!(q.matches(&text) && !q.matches(&metric));
    }

    #[test]
    fn the_filter_pattern_quotes_what_it_is_given() {
        let q = LogQuery {
            text: Some(r#"say "hi""#.into()),
            ..query()
        };
        assert_eq!(q.filter_pattern().as_deref(), Some(r#""say \"hi\"""#));
        let q = LogQuery {
            event_id: Some("evt_1".into()),
            text: Some("x".into()),
            ..query()
        };
        assert_eq!(q.filter_pattern().as_deref(), Some("\"evt_1\""));
        assert_eq!(query().filter_pattern(), None);
    }

    #[test]
    fn a_follow_shows_each_line_once_and_late_lines_too() {
        let mut follow = Follow::default();
        let first = follow.fresh(vec![
            line(1_000, LogSource::Processor, "b", "two"),
            line(500, LogSource::Authorizer, "a", "one"),
        ]);
        assert_eq!(
            first.iter().map(|l| l.message.as_str()).collect::<Vec<_>>(),
            ["one", "two"]
        );
        assert_eq!(follow.poll_from(0), 0, "looks back past the newest line");
        // The next poll returns the same lines again, and one that arrived late with an older
        // time than the newest seen.
        let second = follow.fresh(vec![
            line(500, LogSource::Authorizer, "a", "one"),
            line(900, LogSource::Processor, "late", "late"),
            line(1_000, LogSource::Processor, "b", "two"),
            line(70_000, LogSource::Processor, "c", "three"),
        ]);
        assert_eq!(
            second
                .iter()
                .map(|l| l.message.as_str())
                .collect::<Vec<_>>(),
            ["late", "three"]
        );
        assert_eq!(follow.poll_from(0), 70_000 - FOLLOW_LOOKBACK_MS);
        // Long after, old ids are forgotten: memory stays bounded.
        follow.fresh(vec![line(1_000_000, LogSource::Api, "z", "far")]);
        assert_eq!(follow.seen.len(), 1);
    }

    #[test]
    fn a_log_group_name_or_arn_names_its_source() {
        let stage: StageName = "prod".parse().unwrap();
        let arn =
            "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/marketgrid-prod-processor";
        assert_eq!(
            LogSource::of_log_group(&stage, arn),
            Some(LogSource::Processor)
        );
        assert_eq!(
            LogSource::of_log_group(&stage, &format!("{arn}:*")),
            Some(LogSource::Processor)
        );
        assert_eq!(
            LogSource::of_log_group(&stage, "/aws/apigateway/marketgrid-prod-access"),
            Some(LogSource::Api)
        );
        assert_eq!(
            LogSource::of_log_group(&stage, "/aws/lambda/marketgrid-dev-processor"),
            None
        );
    }

    #[test]
    fn interleaving_orders_by_time_then_source() {
        let lines = interleave(vec![
            line(2, LogSource::Api, "x", "api"),
            line(1, LogSource::Processor, "y", "p"),
            line(2, LogSource::Authorizer, "z", "auth"),
        ]);
        let order: Vec<&str> = lines.iter().map(|l| l.message.as_str()).collect();
        assert_eq!(order, ["p", "auth", "api"]);
    }
}
