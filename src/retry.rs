//! The one back-off every retry loop waits by: a wait that doubles each step from `first`, never
//! longer than `longest`. The AWS SDK retries its own calls (standard mode); this is for the
//! loops around them (unprocessed keys, a change set computed, throttled polls), the providers'
//! APIs when they give no `Retry-After`, and the local pipeline's failing legs and accept loop.

use std::time::Duration;

/// How long to wait before each try after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub first: Duration,
    pub longest: Duration,
}

impl Backoff {
    pub const fn new(first: Duration, longest: Duration) -> Backoff {
        Backoff { first, longest }
    }

    /// The wait after failure number `step` (1: `first`, 2: twice that, …), at most `longest`.
    pub fn wait(&self, step: u32) -> Duration {
        self.first
            .saturating_mul(1u32 << step.saturating_sub(1).min(16))
            .min(self.longest)
    }

    /// A wait that doubles each time it is taken.
    pub fn doubling(self) -> Doubling {
        Doubling {
            backoff: self,
            step: 0,
        }
    }
}

/// A back-off kept across the tries of one loop.
#[derive(Debug, Clone, Copy)]
pub struct Doubling {
    backoff: Backoff,
    step: u32,
}

impl Doubling {
    /// The next wait: `first`, then twice the one before, up to `longest`.
    pub fn next_wait(&mut self) -> Duration {
        self.step = self.step.saturating_add(1);
        self.backoff.wait(self.step)
    }

    /// Back to `first`, after a try that worked.
    pub fn reset(&mut self) {
        self.step = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_from_the_first_up_to_the_longest() {
        let backoff = Backoff::new(Duration::from_millis(50), Duration::from_secs(5));
        let mut doubling = backoff.doubling();
        let waits: Vec<u128> = (0..9).map(|_| doubling.next_wait().as_millis()).collect();
        assert_eq!(waits, [50, 100, 200, 400, 800, 1600, 3200, 5000, 5000]);
        doubling.reset();
        assert_eq!(doubling.next_wait(), Duration::from_millis(50));
        assert_eq!(
            backoff.wait(0),
            Duration::from_millis(50),
            "step 0 reads as the first"
        );
        assert_eq!(
            backoff.wait(u32::MAX),
            Duration::from_secs(5),
            "no overflow"
        );
    }
}
