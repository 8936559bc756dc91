//! The processor's traffic shift followed beside the stack: CodeDeploy's deployment read from
//! the alias's first stack event on, its versions' webhooks tallied every 30 s, throttling said.

use anyhow::Result;
use mgrid_contract::EpochMillis;

use crate::aws::codedeploy::Deploys;
use crate::decide::shift::Shift;
use crate::failure::Failure;
use crate::text::WARNING;

/// How often a followed shift's versions are tallied.
pub(super) const TALLY_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// Follows the processor's traffic shift (CodeDeploy) beside the stack: a deploy that publishes
/// a new processor version hands the alias to CodeDeploy, and the stack waits for it.
pub struct ShiftFollow<'a> {
    deploys: &'a Deploys,
    /// When the versions' webhooks were last tallied (GetMetricData).
    tallied_at: Option<std::time::Instant>,
    /// The shift of this deploy is one created after this.
    since: EpochMillis,
    guards: Option<Vec<String>>,
    pub latest: Option<Shift>,
    /// Set when the shift cannot be read (no permission, say): the stack is still followed.
    gave_up: bool,
    last_line: String,
    /// "CodeDeploy throttles" while it does.
    pub throttled: bool,
    /// Whether to read the shift: from the alias's first stack event on, or at once.
    pub armed: bool,
}

impl<'a> ShiftFollow<'a> {
    pub fn new(deploys: &'a Deploys, since: EpochMillis) -> ShiftFollow<'a> {
        ShiftFollow {
            deploys,
            tallied_at: None,
            since,
            guards: None,
            latest: None,
            gave_up: false,
            last_line: String::new(),
            throttled: false,
            armed: false,
        }
    }

    /// Follows a shift that is already under way (`deploy --rollback`).
    pub fn already_started(mut self) -> ShiftFollow<'a> {
        self.armed = true;
        self
    }

    /// Reads the shift once. A transient failure (throttling) is returned for the caller's
    /// backoff and leaves the last reading; any other stops following the shift, with a warning.
    pub(super) async fn poll(&mut self, out: &mut dyn FnMut(&str)) -> Result<(), Failure> {
        if self.gave_up || self.latest.as_ref().is_some_and(|s| s.status.finished()) {
            return Ok(());
        }
        let read = async {
            // Once found, the shift's deployment is read directly.
            let known = self.latest.as_ref().map(|s| s.deployment_id.clone());
            let id = match known {
                Some(id) => id,
                None => match self.deploys.current(Some(self.since)).await? {
                    Some(id) => id,
                    None => return Ok(None),
                },
            };
            if self.guards.is_none() {
                self.guards = Some(self.deploys.guard_alarms().await?);
            }
            let guards = self.guards.clone().unwrap_or_default();
            let mut shift = self.deploys.shift(&id, &guards).await?;
            // What each version does with the webhooks: every half minute while it runs (the
            // metrics are per minute), and once more when it ends.
            let due = self.tallied_at.is_none_or(|at| at.elapsed() >= TALLY_EVERY);
            if due || shift.status.finished() {
                self.deploys.traffic(&mut shift).await;
                self.tallied_at = Some(std::time::Instant::now());
            } else if let Some(last) = &self.latest {
                shift.traffic = last.traffic.clone();
            }
            Ok::<_, Failure>(Some(shift))
        }
        .await;
        match read {
            Ok(shift) => {
                self.throttled = false;
                if shift.is_some() {
                    self.latest = shift;
                }
                Ok(())
            }
            Err(failure) if failure.transient => {
                self.throttled = true;
                Err(failure)
            }
            Err(failure) => {
                self.gave_up = true;
                out(&format!(
                    "{WARNING}warning:{WARNING:#} cannot follow the processor's traffic shift: {}; the stack is still followed ({})\n",
                    failure.what,
                    failure
                        .next
                        .as_deref()
                        .unwrap_or("grant codedeploy:Get*/List* to see it")
                ));
                Ok(())
            }
        }
    }

    /// The shift's block for the terminal view.
    pub(super) fn block(&self, now: EpochMillis) -> String {
        let mut text = self
            .latest
            .as_ref()
            .map(|shift| crate::decide::shift::live_block(shift, now))
            .unwrap_or_default();
        if self.throttled {
            text.push_str("  (CodeDeploy throttles: showing the last reading, backing off)\n");
        }
        text
    }

    /// Without a terminal: the shift's line when it changed.
    pub(super) fn changed_lines(&mut self, now: EpochMillis) -> Option<String> {
        let shift = self.latest.as_ref()?;
        let block = self.block(now);
        // The countdown changes every poll; a line is written when anything else does.
        let key = format!(
            "{:?}{}{:?}{}",
            shift.status, shift.percent_on_new, shift.guards, self.throttled
        );
        if key == self.last_line {
            return None;
        }
        self.last_line = key;
        Some(block)
    }
}
