//! How far a listing goes: the most endpoints and pages read, and the cursors seen, so a page
//! asked for twice or a listing past its bound ends with a failure, never a loop.

use mgrid_contract::Provider;

use crate::failure::{Failure, FailureKind};
use crate::ports::ProviderEvent;

/// The most webhook endpoints read: Stripe holds at most 16 an account, PayPal 10 an app, so
/// a listing that goes on past this is not a listing.
pub(super) const MAX_ENDPOINTS: usize = 1_000;
/// The most pages of events read in one listing: 2,000,000 events, far beyond the most a
/// provider keeps for mgrid's windows (30 days) at the design peak of a stage.
pub const MAX_EVENT_PAGES: usize = 20_000;

/// The cursors of a listing so far: a page asked for twice (a cursor that repeats, a `next`
/// link to itself) or a listing past its bound ends it with a failure, never a loop.
pub struct Cursors {
    what: &'static str,
    seen: std::collections::HashSet<String>,
    pages: usize,
    max_pages: usize,
}

impl Cursors {
    pub fn new(what: &'static str, max_pages: usize) -> Cursors {
        Cursors {
            what,
            seen: std::collections::HashSet::new(),
            pages: 0,
            max_pages,
        }
    }

    /// Whether the listing may go on to `cursor` (None: it ended).
    pub fn follow(&mut self, provider: Provider, cursor: Option<&str>) -> Result<(), Failure> {
        self.pages += 1;
        let Some(cursor) = cursor else {
            return Ok(());
        };
        let name = provider.name();
        if self.pages >= self.max_pages {
            return Err(Failure::new(
                FailureKind::Failed,
                format!(
                    "{name} listed {} still going after {} pages: more than it can hold, so mgrid stopped reading",
                    self.what, self.pages
                ),
            )
            .next("the provider's API (or what answers at its address) is misbehaving: check --provider-api-base and the provider's status page"));
        }
        if !self.seen.insert(cursor.to_owned()) {
            return Err(Failure::new(
                FailureKind::Failed,
                format!(
                    "{name} sent a page of {} it had already sent (after {} pages): the listing would never end, so mgrid stopped reading",
                    self.what, self.pages
                ),
            )
            .next("the provider's API (or what answers at its address) is misbehaving: check --provider-api-base and the provider's status page"));
        }
        Ok(())
    }
}

/// A page of events, and the next page's cursor.
pub struct EventsPage {
    pub events: Vec<ProviderEvent>,
    pub next: Option<String>,
    /// Events listed without an id, a type or a readable creation time: not counted, but said.
    pub unreadable: u64,
}
