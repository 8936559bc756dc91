//! The watch that ends a redrive and a replay: after sending, the run follows its webhooks in
//! the stage's ledger and dead-letter queue for `--wait`, with recorded shown beside sent, and
//! Ctrl-C ends the watch (what was sent stays sent). The verdicts themselves are
//! `crate::decide::verdict`; the lookups `movers::follow`.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use crate::commands::movers::{self, FollowOptions};
use crate::decide::verdict::{Judged, Verdicts};
use crate::ports::{DeadLetterQueue, LedgerLookup};
use crate::text::WARNING;
use crate::ui::output::note;
use crate::ui::terminal::{on_interrupt, progress_bar};

/// The most dead letters one look at SQS reads (the local queue is read whole).
pub const LOOK_LIMIT: usize = 1000;

/// Follows `verdicts` for `wait`; what is known when it ends.
pub async fn wait_for_verdicts(
    verdicts: &mut Verdicts,
    dlq: &impl DeadLetterQueue,
    ledger: &impl LedgerLookup,
    wait: Duration,
) -> Judged {
    let stop = Arc::new(AtomicBool::new(false));
    let sent = verdicts.all().count();
    let bar = progress_bar(
        sent as u64,
        "{spinner} recorded {pos}/{len} · {msg} · watching {elapsed}",
    );
    let watcher = on_interrupt(
        stop.clone(),
        bar.clone(),
        "stopped watching: what was sent stays sent; the report says what is known of it",
        "what was sent stays sent; `mgrid dlq stats` shows what came back",
    );
    let exact = dlq.looks_without_receiving();
    let options = FollowOptions {
        wait,
        every: if exact {
            Duration::from_millis(250)
        } else {
            Duration::from_secs(5)
        },
        scan_limit: if exact { usize::MAX } else { LOOK_LIMIT },
        stop: &stop,
    };
    let progress = |verdicts: &Verdicts| {
        if let Some(bar) = &bar {
            let counts = verdicts.counts();
            bar.set_position((counts.recorded + counts.duplicate) as u64);
            bar.set_message(format!(
                "failed again {} · pending {}",
                counts.failed_again_total(),
                counts.pending
            ));
        }
    };
    let end = movers::follow(verdicts, dlq, ledger, &options, &progress).await;
    watcher.abort();
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let judged = Judged::of(
        verdicts,
        end.watched.as_millis(),
        end.cut_short,
        options.scan_limit.min(LOOK_LIMIT),
    );
    if let Some(unreadable) = &end.unreadable
        && judged.verdicts.pending > 0
    {
        note(&format!(
            "{WARNING}could not look for every verdict:{WARNING:#} {unreadable}"
        ));
    }
    judged
}

/// A `--wait` span as a duration.
pub fn wait_of(span: crate::cli::Span) -> Duration {
    Duration::from_millis(span.0.max(0) as u64)
}
