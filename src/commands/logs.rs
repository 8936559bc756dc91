//! `mgrid logs`: the stage's log lines, every source interleaved by time, filtered by field, and
//! followed without a line twice or a gap.

use anyhow::Result;
use mgrid_contract::decision::Level;

use crate::cli::LogsArgs;
use crate::clock::now_millis;
use crate::commands::context::Context;
use crate::decide::logs::{Follow, LogLine, LogQuery, LogSource};
use crate::failure::{Failure, FailureKind};
use crate::ports::Logs;
use crate::target::Target;
use crate::text::{DIM, ERROR, WARNING, shown};
use crate::ui::output::{OutputFormat, json_line, note, warn, write_stdout};
use crate::ui::terminal::unless_interrupted;

pub async fn run(context: &Context, target: &Target, args: &LogsArgs) -> Result<()> {
    let now = now_millis();
    let query = query(args, now)?;
    let format = context.global.output;
    let mut logs = target.logs();
    if args.follow {
        logs.start_follow();
    }
    let found = logs.read(&query, query.from, args.limit as usize).await?;
    for place in &found.missing {
        note(&format!(
            "{place} does not exist: nothing has been logged there yet (or the stage is not deployed)"
        ));
    }
    if !logs.keeps_access_log() && query.sources.contains(&LogSource::Api) {
        note(
            "the local stage has no API access log: its lines are the authorizer's, the processor's and the archiver's decisions",
        );
    }
    let mut follow = Follow::default();
    let shown_lines = follow.fresh(found.lines);
    print(&shown_lines, format)?;
    // Without --follow the first place that could not be read ends the command as its error;
    // the others are warnings.
    let said_by_the_error = usize::from(!args.follow);
    for said in follow
        .unreadable_news(&found.unreadable)
        .into_iter()
        .skip(said_by_the_error)
    {
        warn(&said);
    }
    if found.truncated {
        let which = if found.newest {
            "these are the newest"
        } else {
            "these are the oldest"
        };
        note(&format!(
            "more than {} lines match: {which}; narrow with --since, --filter, --event-id or --level",
            args.limit
        ));
    }
    if !args.follow {
        if shown_lines.is_empty() && found.unreadable.is_empty() {
            note("no lines match in that window");
        }
        crate::ui::terminal::verbose_calls(context.global.verbose > 0, target.calls().unwrap_or(0));
        // The lines shown are not all there are: the exit code says so, by the first cause.
        return match found.unreadable.into_iter().next() {
            None => Ok(()),
            Some((place, failure)) => Err(anyhow::Error::new(failure).context(format!(
                "{place} could not be read: the lines shown are the other sources' only"
            ))),
        };
    }
    let how = if args.poll {
        "polling every 2 s (--poll)".to_owned()
    } else {
        logs.go_live(&query, &found.missing).await
    };
    note(&format!("{how}; Ctrl-C ends it"));
    loop {
        let Ok(step) = unless_interrupted(logs.next(&query, &mut follow)).await else {
            return Ok(());
        };
        let step = step?;
        for said in follow.unreadable_news(&step.unreadable) {
            warn(&said);
        }
        if let Some(said) = &step.note {
            note(said);
        }
        print(&step.lines, format)?;
    }
}

fn query(args: &LogsArgs, now: i64) -> Result<LogQuery, Failure> {
    let bad = |flag: &str, e: String| {
        Failure::new(FailureKind::Usage, format!("--{flag}: {e}"))
            .next("a span (90s, 30m, 2h, 7d) or a time (2026-11-30T14:00Z, \"2 hours ago\")")
    };
    // A follow starts near now, as `tail -f` does; a read looks back an hour.
    let since = args
        .since
        .as_deref()
        .unwrap_or(if args.follow { "10m" } else { "1h" });
    let from = match crate::decide::spans::parse_span(since, 366) {
        Ok(span) => now - span,
        Err(_) => crate::decide::spans::parse_time(since, now).map_err(|e| bad("since", e))?,
    };
    let to = args
        .until
        .as_deref()
        .map(|text| crate::decide::spans::parse_time(text, now).map_err(|e| bad("until", e)))
        .transpose()?;
    if to.is_some_and(|to| to < from) {
        return Err(
            Failure::new(FailureKind::Usage, "--until is before --since")
                .next("give a window that runs forward in time"),
        );
    }
    let mut sources = args.sources.clone();
    sources.sort();
    sources.dedup();
    Ok(LogQuery {
        sources: if sources.is_empty() {
            LogSource::ALL.to_vec()
        } else {
            sources
        },
        from,
        to,
        text: args.filter.clone(),
        event_id: args.event_id.clone(),
        level: args.level,
        metrics: args.metrics,
    })
}

fn print(lines: &[LogLine], format: OutputFormat) -> Result<()> {
    let mut text = String::new();
    for line in lines {
        match format {
            OutputFormat::Json => text.push_str(&json_line(line)?),
            OutputFormat::Text => {
                text.push_str(&line_text(line));
                text.push('\n');
            }
        }
    }
    if !text.is_empty() {
        write_stdout(&text)?;
    }
    Ok(())
}

/// `2026-12-01T01:02:03.456Z processor   dead-lettered  stripe evt_1 bad-signature: …`: a
/// decision by its fields, any other line as written (made printable: it may quote a sender).
pub fn line_text(line: &LogLine) -> String {
    let time = mgrid_contract::clock::format_rfc3339(line.time);
    let source = format!("{:<10}", line.source.as_str());
    let Some(decision) = &line.decision else {
        let level = line.level();
        let message = shown(&line.message);
        return match level {
            Level::Error => format!("{DIM}{time}{DIM:#} {source} {ERROR}{message}{ERROR:#}"),
            Level::Warn => format!("{DIM}{time}{DIM:#} {source} {WARNING}{message}{WARNING:#}"),
            Level::Info => format!("{DIM}{time}{DIM:#} {source} {message}"),
        };
    };
    let outcome = format!("{:<14}", decision.outcome);
    let outcome = match decision.level {
        Level::Error => format!("{ERROR}{outcome}{ERROR:#}"),
        Level::Warn => format!("{WARNING}{outcome}{WARNING:#}"),
        Level::Info => outcome,
    };
    let mut parts = vec![format!("{DIM}{time}{DIM:#} {source} {outcome}")];
    for value in [&decision.provider, &decision.event_id]
        .into_iter()
        .flatten()
    {
        parts.push(shown(value));
    }
    match (&decision.reason, &decision.detail) {
        (Some(reason), Some(detail)) => parts.push(format!("{}: {}", shown(reason), shown(detail))),
        (Some(reason), None) => parts.push(shown(reason)),
        _ => {}
    }
    if let Some(group) = &decision.group {
        parts.push(format!("{DIM}group {}{DIM:#}", shown(group)));
    }
    if let Some(ms) = decision.duration_ms {
        parts.push(format!("{DIM}{ms} ms{DIM:#}"));
    }
    if let Some(count) = decision.receive_count.filter(|n| *n > 1) {
        parts.push(format!("{DIM}receive {count}{DIM:#}"));
    }
    parts.join(" ")
}

#[cfg(test)]
mod snapshots {
    use mgrid_contract::decision::DecisionLine;

    use super::*;
    use crate::text::plain;

    const T: i64 = 1_795_923_000_000;

    fn lines() -> Vec<LogLine> {
        let mut recorded = DecisionLine::new(T, Level::Info, "processor", "recorded");
        recorded.event_id = Some("evt_1".into());
        recorded.provider = Some("stripe".into());
        recorded.group = Some("stripe:pi_1".into());
        recorded.duration_ms = Some(12);
        recorded.receive_count = Some(1);
        let mut dead = DecisionLine::new(T + 5, Level::Warn, "processor", "dead-lettered")
            .with_detail("PAYPAL-AUTH-ALGO \"\u{1b}[2J\" is not SHA256withRSA");
        dead.event_id = Some("WH-9".into());
        dead.provider = Some("paypal".into());
        dead.reason = Some("bad-signature".into());
        dead.receive_count = Some(2);
        vec![
            LogLine::new(
                T - 3,
                LogSource::Api,
                "a".into(),
                r#"{"requestId":"r-1","status":"200"}"#.into(),
            ),
            LogLine::new(T, LogSource::Processor, "b".into(), recorded.to_line()),
            LogLine::new(T + 5, LogSource::Processor, "c".into(), dead.to_line()),
            LogLine::new(
                T + 9,
                LogSource::Authorizer,
                "d".into(),
                " WARN denied reason=unknown-key".into(),
            ),
        ]
    }

    #[test]
    fn lines_as_people_read_them_and_as_json_lines() {
        let text: Vec<String> = lines().iter().map(|l| plain(&line_text(l))).collect();
        insta::assert_snapshot!("logs_text", text.join("\n"));
        assert!(
            !text.join("").contains('\u{1b}'),
            "no escape reaches the terminal"
        );
        for line in lines() {
            crate::ui::output::assert_json_contract("logs-line", &line);
            let json = json_line(&line).expect("json");
            assert_eq!(json.matches('\n').count(), 1, "one line each: {json}");
        }
    }
}
