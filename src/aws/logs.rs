//! A stage's log groups in CloudWatch Logs, read with `FilterLogEvents`: one group per source,
//! the sources read concurrently and interleaved by time.

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::error::DisplayErrorContext;
use aws_sdk_cloudwatchlogs::operation::filter_log_events::FilterLogEventsError;
use aws_sdk_cloudwatchlogs::operation::start_live_tail::StartLiveTailOutput;
use aws_sdk_cloudwatchlogs::types::StartLiveTailResponseStream;
use mgrid_contract::{EpochMillis, StageName};

use super::errors;
use crate::decide::logs::{Follow, Found, LogLine, LogQuery, LogSource, interleave};
use crate::failure::Failure;
use crate::ports::{Logs, NewLines};

use super::connection::Aws;

pub struct CloudWatchLogs {
    client: Client,
    stage: StageName,
}

/// Pages one source's read may take: a group with much more than the limit is not read whole.
const MOST_PAGES: usize = 20;

impl CloudWatchLogs {
    pub fn new(client: Client, stage: StageName) -> CloudWatchLogs {
        CloudWatchLogs { client, stage }
    }

    /// The query's lines from `from` on, at most `limit` a source.
    pub async fn read(
        &self,
        query: &LogQuery,
        from: EpochMillis,
        limit: usize,
    ) -> Result<Found, Failure> {
        let reads = query
            .sources
            .iter()
            .map(|source| self.read_source(*source, query, from, limit));
        let mut found = Found::default();
        for (source, result) in query
            .sources
            .iter()
            .zip(futures::future::join_all(reads).await)
        {
            match result {
                Ok(None) => found.missing.push(source.log_group(&self.stage)),
                Ok(Some((lines, more))) => {
                    found.truncated |= more;
                    found.lines.extend(lines);
                }
                // One group that cannot be read (not permitted, an answer that cannot be
                // parsed) does not hide the others' lines: the caller says which is missing.
                Err(failure) => found
                    .unreadable
                    .push((source.log_group(&self.stage), failure)),
            }
        }
        if found.unreadable.len() == query.sources.len() && !query.sources.is_empty() {
            let (_, failure) = found.unreadable.swap_remove(0);
            return Err(failure);
        }
        found.lines = interleave(found.lines);
        Ok(found)
    }

    /// One source's lines and whether there were more; None when its group does not exist.
    async fn read_source(
        &self,
        source: LogSource,
        query: &LogQuery,
        from: EpochMillis,
        limit: usize,
    ) -> Result<Option<(Vec<LogLine>, bool)>, Failure> {
        let group = source.log_group(&self.stage);
        let mut lines = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MOST_PAGES {
            let answer = self
                .client
                .filter_log_events()
                .log_group_name(&group)
                .start_time(from)
                .set_end_time(query.to)
                .set_filter_pattern(query.filter_pattern())
                .limit(limit.clamp(1, 10_000) as i32)
                .set_next_token(token.take())
                .send()
                .await;
            let page = match answer {
                Ok(page) => page,
                Err(error)
                    if matches!(
                        error.as_service_error(),
                        Some(FilterLogEventsError::ResourceNotFoundException(_))
                    ) =>
                {
                    return Ok(None);
                }
                Err(error) => {
                    return Err(errors::failure(
                        "logs:FilterLogEvents",
                        &format!("log group {group}"),
                        &error,
                    ));
                }
            };
            for event in page.events() {
                let line = cloudwatch_line(
                    source,
                    event.log_stream_name().unwrap_or_default(),
                    event.timestamp().unwrap_or_default(),
                    event.message().unwrap_or_default(),
                );
                if query.matches(&line) {
                    lines.push(line);
                }
            }
            token = page.next_token().map(str::to_owned);
            if lines.len() >= limit || token.is_none() {
                break;
            }
        }
        let more = lines.len() > limit || token.is_some();
        lines.truncate(limit);
        Ok(Some((lines, more)))
    }
}

/// A CloudWatch Logs line, identified the same way whether `FilterLogEvents` or Live Tail
/// returned it (Live Tail gives no event id): its stream, its time, and a hash of its text.
fn cloudwatch_line(source: LogSource, stream: &str, at: EpochMillis, message: &str) -> LogLine {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    message.hash(&mut hasher);
    LogLine::new(
        at,
        source,
        format!("{stream}/{at}/{:016x}", hasher.finish()),
        message.to_owned(),
    )
}

/// A Live Tail session: the lines CloudWatch Logs streams as they are ingested, about once a
/// second. It samples when more than 500 lines a second match, which [`LiveTail::next`] says.
pub struct LiveTail {
    session: StartLiveTailOutput,
    stage: StageName,
}

/// One update of a Live Tail session.
#[derive(Debug, Default)]
pub struct LiveUpdate {
    pub lines: Vec<LogLine>,
    /// CloudWatch Logs sent a sample of the matching lines, not all of them.
    pub sampled: bool,
}

impl CloudWatchLogs {
    /// Starts a Live Tail session on `groups` (their ARNs: Live Tail takes no names), narrowed
    /// by the query's filter pattern.
    pub async fn live_tail(
        &self,
        groups: Vec<String>,
        query: &LogQuery,
    ) -> Result<LiveTail, Failure> {
        let output = self
            .client
            .start_live_tail()
            .set_log_group_identifiers(Some(groups))
            .set_log_event_filter_pattern(query.filter_pattern())
            // Not retried: polling takes over at once where Live Tail is not available. The
            // session streams for up to three hours: no attempt timeout.
            .customize()
            .config_override(
                aws_sdk_cloudwatchlogs::config::Config::builder()
                    .retry_config(aws_sdk_cloudwatchlogs::config::retry::RetryConfig::disabled())
                    .timeout_config(
                        aws_sdk_cloudwatchlogs::config::timeout::TimeoutConfig::builder()
                            .disable_operation_attempt_timeout()
                            .build(),
                    ),
            )
            .send()
            .await
            .map_err(|e| {
                errors::failure(
                    "logs:StartLiveTail",
                    &format!("the log groups of {}", self.stage),
                    &e,
                )
            })?;
        Ok(LiveTail {
            session: output,
            stage: self.stage.clone(),
        })
    }

    pub fn stage(&self) -> &StageName {
        &self.stage
    }
}

impl LiveTail {
    /// The next update (None when the session ended: it times out after three hours).
    pub async fn next(&mut self) -> Result<Option<LiveUpdate>, Failure> {
        loop {
            let event = self.session.response_stream.recv().await.map_err(|e| {
                Failure::new(
                    crate::failure::FailureKind::Failed,
                    format!("the Live Tail session ended: {}", DisplayErrorContext(&e)),
                )
                .transient()
            })?;
            match event {
                None => return Ok(None),
                Some(StartLiveTailResponseStream::SessionUpdate(update)) => {
                    let lines = update
                        .session_results()
                        .iter()
                        .filter_map(|event| {
                            let source = LogSource::of_log_group(
                                &self.stage,
                                event.log_group_identifier()?,
                            )?;
                            Some(cloudwatch_line(
                                source,
                                event.log_stream_name().unwrap_or_default(),
                                event.timestamp().unwrap_or_default(),
                                event.message().unwrap_or_default(),
                            ))
                        })
                        .collect();
                    let sampled = update.session_metadata().is_some_and(|m| m.sampled());
                    return Ok(Some(LiveUpdate { lines, sampled }));
                }
                // The session's start, and variants newer than this SDK: nothing to show.
                Some(_) => continue,
            }
        }
    }
}

/// How long a follow waits between polls (a Live Tail session paces itself).
const POLL: std::time::Duration = std::time::Duration::from_secs(2);

/// A deployed stage's logs: read with FilterLogEvents, followed with a Live Tail session where
/// there is one, else by polling.
pub struct AwsLogs {
    logs: CloudWatchLogs,
    aws: Aws,
    /// The Live Tail session a follow reads, while it lasts.
    live: Option<Box<LiveTail>>,
    /// Whether the session's sampling was said already.
    said_sampled: bool,
    /// The next step polls once before reading the session: what was written between the
    /// first read and the session's start is shown too.
    catch_up: bool,
}

impl AwsLogs {
    pub fn new(aws: &Aws, stage: StageName) -> AwsLogs {
        AwsLogs {
            logs: CloudWatchLogs::new(aws.logs(), stage),
            aws: aws.clone(),
            live: None,
            said_sampled: false,
            catch_up: false,
        }
    }
}

impl Logs for AwsLogs {
    async fn read(
        &self,
        query: &LogQuery,
        from: EpochMillis,
        limit: usize,
    ) -> Result<Found, Failure> {
        self.logs.read(query, from, limit).await
    }

    /// CloudWatch Logs keeps every line: a follow reads from the first read's end on.
    fn start_follow(&mut self) {}

    /// Starts a CloudWatch Logs Live Tail session on the query's log groups (those that exist:
    /// `missing` are left out). When Live Tail is not available (the emulator, a partition
    /// without it, no `logs:StartLiveTail`), the follow polls FilterLogEvents instead, and says
    /// why.
    async fn go_live(&mut self, query: &LogQuery, missing: &[String]) -> String {
        let identity = match self.aws.account().await {
            Ok(identity) => identity,
            Err(failure) => {
                return format!(
                    "Live Tail needs the account ({failure}); polling FilterLogEvents every 2 s"
                );
            }
        };
        let groups: Vec<String> = query
            .sources
            .iter()
            .map(|source| source.log_group(self.logs.stage()))
            .filter(|group| !missing.contains(group))
            .map(|group| {
                format!(
                    "arn:{}:logs:{}:{}:log-group:{group}",
                    identity.partition(),
                    self.aws.region,
                    identity.account
                )
            })
            .collect();
        if groups.is_empty() {
            return "none of the log groups exists yet; polling FilterLogEvents every 2 s"
                .to_owned();
        }
        match self.logs.live_tail(groups, query).await {
            Ok(session) => {
                self.live = Some(Box::new(session));
                self.catch_up = true;
                "following with CloudWatch Logs Live Tail".to_owned()
            }
            Err(failure) => format!(
                "Live Tail is not available here ({}); polling FilterLogEvents every 2 s",
                failure.what
            ),
        }
    }

    /// The next Live Tail update, or a poll after a pause. A Live Tail session that ends hands
    /// over to polling from a minute before the newest line shown, so nothing falls between the
    /// two.
    async fn next(&mut self, query: &LogQuery, follow: &mut Follow) -> Result<NewLines, Failure> {
        let mut note = None;
        let mut unreadable = Vec::new();
        if std::mem::take(&mut self.catch_up) {
            let found = self
                .logs
                .read(query, follow.poll_from(query.from), 10_000)
                .await?;
            return Ok(NewLines {
                lines: follow.fresh(found.lines),
                note: None,
                unreadable: found.unreadable,
            });
        }
        let update = match self.live.as_mut() {
            Some(session) => match session.next().await {
                Ok(Some(update)) => Some(update),
                Ok(None) => {
                    note = Some(
                        "the Live Tail session ended; polling FilterLogEvents every 2 s".to_owned(),
                    );
                    None
                }
                Err(failure) => {
                    note = Some(format!(
                        "{}; polling FilterLogEvents every 2 s",
                        failure.what
                    ));
                    None
                }
            },
            None => None,
        };
        let lines = match update {
            Some(update) => {
                if update.sampled && !self.said_sampled {
                    self.said_sampled = true;
                    note = Some("Live Tail is sampling: more than 500 lines a second match; narrow with --event-id, --level or --filter, or use --poll for every line".to_owned());
                }
                update
                    .lines
                    .into_iter()
                    .filter(|l| query.matches(l))
                    .collect()
            }
            None => {
                self.live = None;
                tokio::time::sleep(POLL).await;
                // Every line of the window: a follow must not stop at a limit.
                let found = self
                    .logs
                    .read(query, follow.poll_from(query.from), 10_000)
                    .await?;
                unreadable = found.unreadable;
                found.lines
            }
        };
        Ok(NewLines {
            lines: follow.fresh(lines),
            note,
            unreadable,
        })
    }

    fn keeps_access_log(&self) -> bool {
        true
    }
}
