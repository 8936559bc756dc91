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
        crate::output::note(&format!("aws calls: {calls}"));
    }
}

/// Paces a run to at most `rate` messages per second.
pub struct Pace {
    pub rate: Option<f64>,
    pub next: Instant,
}

impl Pace {
    pub async fn wait_for(&mut self, count: usize) {
        let Some(rate) = self.rate else { return };
        let now = Instant::now();
        if self.next > now {
            tokio::time::sleep(self.next - now).await;
        }
        self.next = self.next.max(now) + Duration::from_secs_f64(count as f64 / rate);
    }
}

/// A progress bar on stderr when it is a terminal (`template` uses {pos}, {len}, {msg}).
pub fn progress_bar(total: u64, template: &str) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(total);
    let style = indicatif::ProgressStyle::with_template(template)
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    Some(bar)
}
