//! The wall clock, read in one place: every "now" of the CLI and the local stage comes from here.

use mgrid_contract::EpochMillis;

/// Milliseconds since the Unix epoch (0 if the system clock is before it).
pub fn now_millis() -> EpochMillis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as EpochMillis)
        .unwrap_or(0)
}
