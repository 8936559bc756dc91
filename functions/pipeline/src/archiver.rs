//! The archive leg: a ledger item's raw webhook written to the archive at its key, exactly as
//! the provider sent it (the processor stored it in the item). Idempotent: an object already at
//! its key is left as it is, and the receipt names the key and the digest of the bytes this
//! writes, which are the bytes any earlier write of the same item wrote.

use mgrid_contract::EpochMillis;
use mgrid_contract::archive::{ArchiveKey, ArchivedWebhook};
use mgrid_contract::ledger::{Item, envelope_from_item};
use mgrid_contract::settlement::{Leg, Receipt, sha256_hex};

use crate::legs::{Done, LegWork};
use crate::ports::{Archive, Insert};

/// The archiver's work, written against the archive port.
pub struct Archiver<A> {
    archive: A,
}

impl<A: Archive> Archiver<A> {
    pub fn new(archive: A) -> Self {
        Archiver { archive }
    }
}

/// The object an item is archived as, and its key: what the archiver writes and what a heal
/// writes again, byte for byte.
pub fn archived_object(item: &Item) -> Result<(ArchiveKey, Vec<u8>), String> {
    let envelope = envelope_from_item(item)
        .map_err(|error| format!("the ledger item holds no archivable webhook: {error}"))?;
    Ok((
        ArchiveKey::for_envelope(&envelope),
        ArchivedWebhook::to_json(&envelope),
    ))
}

impl<A: Archive> LegWork for Archiver<A> {
    const LEG: Leg = Leg::Archive;
    const FUNCTION: &'static str = "archiver";
    const REDO_IS_FREE: bool = true;

    async fn work(&self, item: &Item, now: EpochMillis, by: &str) -> Result<Done, String> {
        let (key, object) = archived_object(item)?;
        let sha256 = sha256_hex(&object);
        let first_time = match self.archive.put_new(&key, object).await {
            Ok(Insert::Written) => true,
            Ok(Insert::AlreadyPresent) => false,
            Err(error) => return Err(format!("writing {key} failed: {error}")),
        };
        Ok(Done {
            receipt: Receipt::Archived {
                key: key.to_string(),
                sha256,
                at: now,
                by: by.to_owned(),
            },
            first_time,
        })
    }
}
