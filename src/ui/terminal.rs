//! What commands share on the terminal: the yes/no question, progress bars, pacing, and the
//! -v note of how many AWS calls a command made.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use crate::failure::{Failure, FailureKind};

/// Asks a yes/no question on the terminal; `--yes` answers it; without a terminal and without
/// `--yes` it is a failure, never a silent yes.
pub fn confirm(question: &str, yes: bool) -> Result<bool, Failure> {
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err(Failure::new(
            FailureKind::Declined,
            format!(
                "{question} needs a yes, and there is no terminal to ask on; nothing was changed"
            ),
        )
        .next("pass --yes to answer yes without a prompt"));
    }
    eprint!("{question} [y/N] ");
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(|e| Failure::new(FailureKind::Failed, e.to_string()))?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}

/// Asks for the stage's name before something that cannot be undone (`destroy`, a purge of a
/// protected stage): `--yes` answers it; without a terminal and without `--yes` it is a
/// failure; a name that does not match declines. `nothing` says what was not done.
pub fn confirm_by_name(prompt: &str, stage: &str, nothing: &str, yes: bool) -> Result<(), Failure> {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(Failure::new(
            FailureKind::Declined,
            format!("no terminal to confirm on; {nothing}"),
        )
        .next("pass --yes to answer without a prompt"));
    }
    eprint!("{prompt} ({stage}): ");
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(|e| Failure::new(FailureKind::Failed, e.to_string()))?;
    if answer.trim() != stage {
        return Err(Failure::new(
            FailureKind::Declined,
            format!("the name did not match; {nothing}"),
        ));
    }
    Ok(())
}

/// With -v, how many AWS calls the command made.
pub fn verbose_calls(verbose: bool, calls: usize) {
    if verbose {
        crate::ui::output::note(&format!("aws calls: {calls}"));
    }
}

/// At most `rate` messages a second (None: no limit), shared by every worker of a run.
pub struct Pace {
    rate: Option<f64>,
    next: Instant,
}

impl Pace {
    pub fn new(rate: Option<f64>) -> Pace {
        Pace {
            rate,
            next: Instant::now(),
        }
    }

    /// When `count` more messages may go (None: now); the caller waits until then.
    pub fn reserve(&mut self, count: usize) -> Option<Instant> {
        let rate = self.rate?;
        let now = Instant::now();
        let at = self.next.max(now);
        self.next = at + Duration::from_secs_f64(count as f64 / rate);
        (at > now).then_some(at)
    }

    /// Waits until `count` more messages may go.
    pub async fn wait_for(&mut self, count: usize) {
        if let Some(at) = self.reserve(count) {
            tokio::time::sleep_until(at.into()).await;
        }
    }
}

/// A progress bar on stderr when it is a terminal (`template` uses {pos}, {len}, {msg}).
pub fn progress_bar(total: u64, template: &str) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(total);
    let style = indicatif::ProgressStyle::with_template(template)
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        // `{rate}`: items a second, rounded ("25.6/s", not indicatif's "25.6013/s").
        .with_key(
            "rate",
            |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{}", rate(state.per_sec()));
            },
        );
    bar.set_style(style);
    Some(bar)
}

/// A spinner on stderr when it is a terminal, saying `message` until it is changed or cleared:
/// for work whose total is not known up front (pages of a listing).
pub fn spinner(message: &str) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_message(message.to_owned());
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    Some(bar)
}

/// A rate to one decimal, as reports give it.
pub fn rounded(per_second: f64) -> f64 {
    (per_second * 10.0).round() / 10.0
}

/// "25.6/s", "3/s", "0.4/s".
pub fn rate(per_second: f64) -> String {
    if per_second >= 100.0 || per_second == per_second.trunc() {
        format!("{per_second:.0}/s")
    } else {
        format!("{per_second:.1}/s")
    }
}

/// A line on stderr that a progress bar, if one is drawn, does not overwrite or interleave.
pub fn say_beside(bar: Option<&indicatif::ProgressBar>, line: &str) {
    match bar {
        Some(bar) => bar.suspend(|| eprintln!("{line}")),
        None => eprintln!("{line}"),
    }
}

/// Ctrl-C came before the work it interrupted finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interrupted;

/// Ctrl-C, listened for across the steps of one run: once it came, every later step sees it at
/// once. A process that cannot listen for Ctrl-C just waits for the work.
pub struct CtrlC {
    /// None once the signal resolved: it came, or it cannot be listened for.
    signal: Option<std::pin::Pin<Box<dyn Future<Output = std::io::Result<()>> + Send>>>,
    came: bool,
}

impl CtrlC {
    pub fn listen() -> CtrlC {
        CtrlC {
            signal: Some(Box::pin(tokio::signal::ctrl_c())),
            came: false,
        }
    }

    /// The work's own result, or `Interrupted` when Ctrl-C came first (or came before).
    pub async fn unless<T>(&mut self, work: impl Future<Output = T>) -> Result<T, Interrupted> {
        if self.came {
            return Err(Interrupted);
        }
        let Some(signal) = self.signal.as_mut() else {
            return Ok(work.await);
        };
        let mut work = std::pin::pin!(work);
        let heard = tokio::select! {
            done = &mut work => return Ok(done),
            heard = signal => heard,
        };
        // A resolved signal is never polled again.
        self.signal = None;
        match heard {
            Ok(()) => {
                self.came = true;
                Err(Interrupted)
            }
            // Ctrl-C cannot be listened for: the work goes on, as every later one will.
            Err(_) => Ok(work.await),
        }
    }
}

/// The one way a step stops on Ctrl-C: the work's own result, or `Interrupted` when Ctrl-C came
/// first (the work is dropped where it stood).
pub async fn unless_interrupted<T>(work: impl Future<Output = T>) -> Result<T, Interrupted> {
    CtrlC::listen().unless(work).await
}

/// Ctrl-C during a run that moves webhooks. The first sets `stop` (no new batches; the ones in
/// hand finish) and says so at once on its own line (`stopping`); a second aborts the batches in
/// hand too, saying what that may leave (`aborting`), and exits 130.
pub fn on_interrupt(
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    bar: Option<indicatif::ProgressBar>,
    stopping: &'static str,
    aborting: &'static str,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        // Each wait ends only on Ctrl-C (nothing else finishes it).
        let ctrl_c = || async { CtrlC::listen().unless(std::future::pending::<()>()).await };
        if ctrl_c().await.is_ok() {
            return;
        }
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        say_beside(bar.as_ref(), stopping);
        if ctrl_c().await.is_err() {
            if let Some(bar) = &bar {
                bar.abandon();
            }
            eprintln!("aborted: {aborting}");
            std::process::exit(130);
        }
    })
}

/// Measures the terminal's width, if stdout is a terminal, for the tables of every report
/// (`text::set_table_width`). Called once by `main`.
pub fn measure_table_width() {
    use std::io::IsTerminal;
    let width = if std::io::stdout().is_terminal() {
        crossterm::terminal::size()
            .ok()
            .map(|(columns, _)| columns)
            .filter(|columns| *columns > 0)
            .or_else(|| std::env::var("COLUMNS").ok()?.parse().ok())
    } else {
        None
    };
    crate::text::set_table_width(width);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_rounded_for_people() {
        assert_eq!(rate(25.6013), "25.6/s");
        assert_eq!(rate(3.0), "3/s");
        assert_eq!(rate(412.37), "412/s");
        assert_eq!(rounded(25.6013), 25.6);
    }
}
