//! A stage's log groups in CloudWatch Logs, read with `FilterLogEvents`: one group per source,
//! the sources read concurrently and interleaved by time.

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::operation::filter_log_events::FilterLogEventsError;
use mgrid_contract::{EpochMillis, StageName};

use super::errors;
use crate::failure::Failure;
use crate::logs::{Found, LogLine, LogQuery, Source, interleave};

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
            match result? {
                None => found.missing.push(source.log_group(&self.stage)),
                Some((lines, more)) => {
                    found.truncated |= more;
                    found.lines.extend(lines);
                }
            }
        }
        found.lines = interleave(found.lines);
        Ok(found)
    }

    /// One source's lines and whether there were more; None when its group does not exist.
    async fn read_source(
        &self,
        source: Source,
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
                let line = LogLine::new(
                    event.timestamp().unwrap_or_default(),
                    source,
                    event.event_id().unwrap_or_default().to_owned(),
                    event.message().unwrap_or_default().to_owned(),
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
