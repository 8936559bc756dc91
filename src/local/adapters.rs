//! The data plane's ports, for the local stage: the ledger, dead letters and key rings in the
//! local database, the archive as files with the archive's key layout. The handlers are the
//! Lambda functions' own code; only these differ.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use mgrid_contract::archive::ArchiveKey;
use mgrid_contract::envelope::attribute;
use mgrid_contract::ledger::{Attribute, Item, KEY_ATTRIBUTE};
use mgrid_contract::settlement::{Leg, Receipt, UNSETTLED};
use mgrid_contract::{EpochMillis, FailureReason, KeyRing};
use mgrid_pipeline::ports::{
    Archive, Certificates, DeadLetters, InboundMessage, Insert, KeyStore, Ledger, PortError,
    Receipts,
};

use super::db;
use super::store::Store;

pub fn now() -> EpochMillis {
    crate::clock::now_millis()
}

fn unavailable(error: impl std::fmt::Display) -> PortError {
    PortError::Unavailable(error.to_string())
}

#[derive(Clone)]
pub struct LocalLedger(pub Store);

impl Ledger for LocalLedger {
    async fn insert(&self, item: &Item) -> Result<Insert, PortError> {
        let Some(Attribute::S(id)) = item.get(KEY_ATTRIBUTE) else {
            return Err(PortError::Unavailable(format!(
                "the ledger item has no {KEY_ATTRIBUTE}"
            )));
        };
        let id = id.clone();
        let json = serde_json::to_string(item).map_err(unavailable)?;
        let unsettled = match item.get(UNSETTLED) {
            Some(Attribute::S(bucket)) => Some(bucket.clone()),
            _ => None,
        };
        let written = self
            .0
            .run(move |c| db::insert_transaction(c, &id, &json, unsettled.as_deref(), now()))
            .await
            .map_err(unavailable)?;
        Ok(if written {
            Insert::Written
        } else {
            Insert::AlreadyPresent
        })
    }
}

/// The receipt the local queue gave for a message, rebuilt from what the processor holds.
pub fn receipt(message: &InboundMessage) -> String {
    format!("{}:{}", message.message_id, message.receive_count)
}

#[derive(Clone)]
pub struct LocalDeadLetters(pub Store);

impl DeadLetters for LocalDeadLetters {
    async fn dead_letter(
        &self,
        message: &InboundMessage,
        reason: FailureReason,
        detail: &str,
    ) -> Result<(), PortError> {
        let receipt = receipt(message);
        let verdict = BTreeMap::from([
            (
                attribute::FAILURE_REASON.to_owned(),
                reason.as_str().to_owned(),
            ),
            (attribute::FAILURE_DETAIL.to_owned(), detail.to_owned()),
        ]);
        self.0
            .run(move |c| db::dead_letter(c, &receipt, &verdict, now()))
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}

#[derive(Clone)]
pub struct LocalKeyStore(pub Store);

impl KeyStore for LocalKeyStore {
    async fn ring(&self, name: &str) -> Result<Option<KeyRing>, PortError> {
        let name = name.to_owned();
        let stored = self
            .0
            .run(move |c| db::ring(c, &name))
            .await
            .map_err(unavailable)?;
        match stored {
            None => Ok(None),
            Some(stored) => KeyRing::parse(&stored.json).map(Some).map_err(unavailable),
        }
    }
}

/// The local stage fetches nothing from the internet: PayPal's certificates are out of reach.
#[derive(Clone, Copy)]
pub struct NoCertificates;

impl Certificates for NoCertificates {
    async fn fetch(&self, url: &str) -> Result<String, PortError> {
        Err(PortError::Unavailable(format!(
            "the local stage does not fetch PayPal certificates ({url})"
        )))
    }
}

/// The archive as files: `<dir>/webhooks/<provider>/<yyyy>/<mm>/<dd>/<hh>/<event id>.json`.
#[derive(Clone)]
pub struct LocalArchive(pub PathBuf);

impl Archive for LocalArchive {
    async fn put_new(&self, key: &ArchiveKey, object: Vec<u8>) -> Result<Insert, PortError> {
        let path = self.0.join(key.to_string());
        tokio::task::spawn_blocking(move || write_new(&path, &object))
            .await
            .map_err(unavailable)?
            .map_err(unavailable)
    }
}

/// Writes a file unless it exists: to a temporary name, synced, then renamed into place.
fn write_new(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<Insert> {
    if path.exists() {
        return Ok(Insert::AlreadyPresent);
    }
    let dir = path
        .parent()
        .ok_or_else(|| std::io::Error::other("an archive key names a directory"))?;
    std::fs::create_dir_all(dir)?;
    let temporary = path.with_extension("json.partial");
    let mut file = std::fs::File::create(&temporary)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&temporary, path)?;
    Ok(Insert::Written)
}

/// Receipts on the local ledger's items: a batch's receipts in one commit.
#[derive(Clone)]
pub struct LocalReceipts(pub Store);

impl Receipts for LocalReceipts {
    async fn settle(&self, receipts: &[(String, Receipt)]) -> Vec<Result<(), PortError>> {
        let batch = receipts.to_vec();
        let count = batch.len();
        let written = self
            .0
            .run(move |c| {
                batch
                    .iter()
                    .map(|(id, receipt)| db::settle(c, id, receipt))
                    .collect::<rusqlite::Result<Vec<bool>>>()
            })
            .await;
        match written {
            Ok(found) => found
                .into_iter()
                .zip(receipts)
                .map(|(found, (id, receipt))| {
                    if found {
                        Ok(())
                    } else {
                        Err(PortError::Unavailable(format!(
                            "the ledger has no item {id} to write its {} receipt on",
                            receipt.leg()
                        )))
                    }
                })
                .collect(),
            Err(error) => vec![Err(unavailable(error)); count],
        }
    }

    async fn note_failures(
        &self,
        leg: Leg,
        failures: &[(String, String)],
    ) -> Vec<Result<(), PortError>> {
        let batch = failures.to_vec();
        let count = batch.len();
        let noted = self
            .0
            .run(move |c| {
                batch
                    .iter()
                    .try_for_each(|(id, why)| db::note_leg_failure(c, id, leg, why))
            })
            .await;
        match noted {
            Ok(()) => vec![Ok(()); count],
            Err(error) => vec![Err(unavailable(error)); count],
        }
    }
}
