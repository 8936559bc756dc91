//! The watch of a stack operation: CloudFormation's events as a redrawn live view on a terminal
//! (a line each otherwise, with a heartbeat when nothing moves), the processor's traffic shift
//! beside it, and its ends: done, interrupted, or past `--watch-limit`.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use anyhow::Result;
use mgrid_contract::EpochMillis;

use super::follow::ShiftFollow;

use crate::aws::stack::Stacks;
use crate::clock::now_millis;
use crate::decide::lifecycle::model::StackEvent;
use crate::decide::lifecycle::plan::{self};
use crate::decide::lifecycle::render;
use crate::decide::shift::Shift;
use crate::failure::{Failure, FailureKind};
use crate::retry::Backoff;

/// Ctrl-C while a deploy is followed: CloudFormation carries on without mgrid. A first create
/// has no traffic shift to speak of; an update may.
pub(super) fn interrupted_watch(create: bool, stack_name: &str, stage: &str) -> Failure {
    if create {
        return Failure::new(
            FailureKind::Interrupted,
            format!("stopped watching; CloudFormation keeps creating {stack_name}"),
        )
        .next(format!(
            "watch it with `mgrid status --stage {stage}`: it ends CREATE_COMPLETE, or rolls back by itself"
        ));
    }
    Failure::new(
        FailureKind::Interrupted,
        format!("stopped watching; {stack_name} keeps deploying, and a processor traffic shift goes on"),
    )
    .next(format!(
        "watch it with `mgrid status --stage {stage}`; stop a shift with `mgrid deploy --stage {stage} --rollback`"
    ))
}

pub struct Watched {
    pub final_status: String,
    pub events: Vec<StackEvent>,
    /// The processor's traffic shift, when this stack operation started one.
    pub shift: Option<Shift>,
}

pub(super) fn limit_of(span: crate::cli::Span) -> Duration {
    Duration::from_millis(span.0.try_into().unwrap_or(0))
}

/// How a watch polls and where it writes.
pub struct WatchOptions {
    /// Between polls.
    pub poll: Duration,
    /// The longest pause while AWS throttles.
    pub max_backoff: Duration,
    /// A terminal gets a redrawn block (with the time elapsed); anything else a line per event.
    pub terminal: bool,
    /// Without a terminal, a line saying what the deploy waits for after this long without an
    /// event: a stack that does not move is never silent.
    pub heartbeat: Duration,
    /// The longest the watch goes on: then it stops (exit 8), and CloudFormation goes on.
    pub limit: Duration,
}

impl WatchOptions {
    pub fn for_stderr(limit: Duration) -> Self {
        WatchOptions {
            poll: Duration::from_secs(2),
            max_backoff: Duration::from_secs(30),
            terminal: std::io::stderr().is_terminal(),
            heartbeat: Duration::from_secs(30),
            limit,
        }
    }
}

/// The line a quiet deploy prints: how long it has run and what it waits for.
pub fn heartbeat_line(status: &str, elapsed_seconds: u64, progress: &plan::Progress) -> String {
    let waiting = if progress.in_progress.is_empty() {
        "CloudFormation to start the next resource".to_owned()
    } else {
        progress.in_progress.join(", ")
    };
    format!(
        "… {status} after {}: waiting for {waiting} ({} of {} resources done)\n",
        render::elapsed(elapsed_seconds),
        progress.done,
        progress.done + progress.in_progress.len() + progress.failed.len() + progress.pending
    )
}

/// Follows the stack until its operation ends, writing the live view to `out`. Polls every
/// `poll`, doubling the pause up to `max_backoff` while AWS throttles.
#[allow(clippy::too_many_arguments)]
pub async fn watch(
    stacks: &Stacks,
    stack_name: &str,
    stage: &str,
    since: EpochMillis,
    planned: usize,
    started: Instant,
    options: &WatchOptions,
    mut shift: Option<&mut ShiftFollow<'_>>,
    out: &mut dyn FnMut(&str),
) -> Result<Watched, Failure> {
    let mut events: Vec<StackEvent> = Vec::new();
    let mut last_event: Option<String> = None;
    let mut drawn_lines = 0;
    let mut throttled_pause =
        Backoff::new(options.poll.saturating_mul(2), options.max_backoff).doubling();
    let mut quiet_since = Instant::now();
    let watching = Instant::now();
    loop {
        let polled = async {
            let state = stacks.describe(stack_name).await?;
            let new = stacks
                .events_since(stack_name, last_event.as_deref(), since)
                .await?;
            Ok::<_, Failure>((state, new))
        }
        .await;
        let (state, new) = match polled {
            Ok((Some(state), new)) => (state, new),
            Ok((None, _)) => {
                return Err(Failure::new(
                    FailureKind::Failed,
                    format!("{stack_name} disappeared while deploying"),
                ));
            }
            Err(failure) if failure.transient && watching.elapsed() < options.limit => {
                tokio::time::sleep(throttled_pause.next_wait()).await;
                continue;
            }
            Err(failure) if failure.transient => {
                return Err(watch_limit_reached(
                    stack_name,
                    stage,
                    options.limit,
                    &format!("AWS throttled the last reads ({})", failure.what),
                ));
            }
            Err(failure) => return Err(failure),
        };
        // The shift is read from when CloudFormation hands the alias to CodeDeploy (its first
        // event) to the end, once more after the stack ends; a throttled read backs off like
        // the stack's.
        let mut throttled = false;
        if let Some(follow) = shift.as_deref_mut() {
            follow.armed |= new.iter().any(|e| e.logical_id == "ProcessorAlias");
            if follow.armed {
                throttled = follow.poll(out).await.is_err();
            }
        }
        if let Some(last) = new.last() {
            last_event = Some(last.event_id.clone());
        }
        events.extend(new.iter().cloned());
        if options.terminal {
            let progress = plan::progress(&events, stack_name, planned);
            let mut block =
                render::live_block(stage, &state.status, started.elapsed().as_secs(), &progress);
            if let Some(follow) = shift.as_deref() {
                block.push_str(&follow.block(now_millis()));
            }
            let mut text = String::new();
            if drawn_lines > 0 {
                text.push_str(&format!("\x1b[{drawn_lines}A\x1b[J"));
            }
            text.push_str(&block);
            drawn_lines = block.lines().count();
            out(&text);
        } else {
            for event in &new {
                out(&format!("{}\n", render::event_line(event)));
            }
            if let Some(lines) = shift
                .as_deref_mut()
                .and_then(|f| f.changed_lines(now_millis()))
            {
                out(&lines);
                quiet_since = Instant::now();
            }
            if !new.is_empty() {
                quiet_since = Instant::now();
            } else if quiet_since.elapsed() >= options.heartbeat && !plan::finished(&state.status) {
                let progress = plan::progress(&events, stack_name, planned);
                out(&heartbeat_line(
                    &state.status,
                    started.elapsed().as_secs(),
                    &progress,
                ));
                quiet_since = Instant::now();
            }
        }
        if plan::finished(&state.status) {
            return Ok(Watched {
                final_status: state.status,
                events,
                shift: shift.and_then(|f| f.latest.clone()),
            });
        }
        if watching.elapsed() >= options.limit {
            let progress = plan::progress(&events, stack_name, planned);
            return Err(watch_limit_reached(
                stack_name,
                stage,
                options.limit,
                &heartbeat_line(&state.status, started.elapsed().as_secs(), &progress),
            ));
        }
        if throttled {
            tokio::time::sleep(throttled_pause.next_wait()).await;
            continue;
        }
        throttled_pause.reset();
        tokio::time::sleep(options.poll).await;
    }
}

/// The watch's end at `--watch-limit`: what the stack was doing, and who follows it now.
pub(super) fn watch_limit_reached(
    stack_name: &str,
    stage: &str,
    limit: Duration,
    doing: &str,
) -> Failure {
    Failure::new(
        FailureKind::Pending,
        format!(
            "stopped watching after {} (--watch-limit); CloudFormation goes on without mgrid: {}",
            crate::aws::stack::typed(limit),
            doing.trim_start_matches('…').trim()
        ),
    )
    .next(format!(
        "`mgrid status --stage {stage}` shows how {stack_name} ends; a processor traffic shift in progress stops with `mgrid deploy --stage {stage} --rollback`"
    ))
}

pub(super) fn eprint_styled(text: &str) {
    use std::io::Write;
    let mut stderr = anstream::stderr().lock();
    let _ = stderr.write_all(text.as_bytes());
    let _ = stderr.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interrupted_first_create_speaks_of_no_traffic_shift() {
        let create = interrupted_watch(true, "marketgrid-k7", "k7");
        assert!(!create.what.contains("shift"), "{}", create.what);
        assert!(create.what.contains("keeps creating marketgrid-k7"));
        let update = interrupted_watch(false, "marketgrid-k7", "k7");
        assert!(update.what.contains("traffic shift"), "{}", update.what);
    }
}
