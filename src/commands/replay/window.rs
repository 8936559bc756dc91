//! The archive hours a selection covers: bounded (92 days at most), checked before anything is
//! listed, and the key prefixes each hour is read under.

use anyhow::Result;
use mgrid_contract::clock::format_rfc3339;
use mgrid_contract::{ArchiveKey, Provider};

use crate::decide::replay::Selection;
use crate::failure::{Failure, FailureKind};

/// The longest window a replay lists: 92 days of hours. The archive moves objects to Glacier
/// after 180 days (they cannot be read without a restore), and each hour is a LIST per provider.
pub const MAX_WINDOW_HOURS: i64 = 92 * 24;

/// What a selection's window asks of the archive, checked before anything is listed.
pub struct ArchiveWindow {
    pub selection: Selection,
    pub hours: i64,
    pub prefixes: usize,
}

impl ArchiveWindow {
    pub fn of(selection: &Selection) -> Result<ArchiveWindow, Failure> {
        const HOUR: i64 = 3_600_000;
        // The hours it touches, partial ones at either end included.
        let hours = selection.to.div_euclid(HOUR) - selection.from.div_euclid(HOUR) + 1;
        let prefixes = hours.saturating_mul(selection.providers().len() as i64);
        // The limit is on the window's length: `--from '92d ago'` is 92 days, whatever hours
        // its ends fall in.
        if selection.to - selection.from > MAX_WINDOW_HOURS * HOUR {
            return Err(Failure::new(
                FailureKind::Usage,
                format!(
                    "the window {} to {} is longer than the 92 days a replay takes ({prefixes} hour prefixes to list); nothing was listed",
                    format_rfc3339(selection.from),
                    format_rfc3339(selection.to)
                ),
            )
            .next("replay a shorter window (--from and --to), in parts if need be; objects older than 180 days are in Glacier"));
        }
        Ok(ArchiveWindow {
            selection: selection.clone(),
            hours,
            prefixes: prefixes as usize,
        })
    }
}

/// The window's archive hours, each with the prefixes of the providers the selection takes.
pub(super) fn archive_hours(selection: &Selection) -> Vec<Vec<String>> {
    mgrid_contract::archive::hours_between(selection.from, selection.to)
        .into_iter()
        .map(|hour| {
            selection
                .providers()
                .into_iter()
                .map(|provider: Provider| ArchiveKey::hour_prefix(provider, hour))
                .collect()
        })
        .collect()
}
