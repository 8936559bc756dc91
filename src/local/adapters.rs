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
/// An object is on disk when `put_new` returns: its bytes are written under a temporary name and
/// synced, then renamed into place and synced again. Objects written at the same time share
/// their syncs (one `syncfs` of the archive's file system for all of them, as the store's
/// operations share a commit): an fsync for each of a batch's hundred objects was a quarter of
/// the local pipeline's time.
#[derive(Clone)]
pub struct LocalArchive {
    dir: PathBuf,
    sync: std::sync::Arc<GroupSync>,
}

impl LocalArchive {
    pub fn new(dir: PathBuf) -> LocalArchive {
        LocalArchive {
            dir,
            sync: std::sync::Arc::default(),
        }
    }
}

/// Temporary archive files this process has named so far.
static TEMPORARIES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl Archive for LocalArchive {
    async fn put_new(&self, key: &ArchiveKey, object: Vec<u8>) -> Result<Insert, PortError> {
        let path = self.dir.join(key.to_string());
        // A temporary name of this write's own: a heal archiving beside `mgrid dev` never writes
        // into the other's file between its write and its rename (listings skip `.partial`).
        let temporary = path.with_extension(format!(
            "json.{}-{}.partial",
            std::process::id(),
            TEMPORARIES.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let written = {
            let (path, temporary) = (path.clone(), temporary.clone());
            tokio::task::spawn_blocking(move || write_temporary(&path, &temporary, &object))
                .await
                .map_err(unavailable)?
                .map_err(unavailable)?
        };
        if written == Insert::AlreadyPresent {
            return Ok(Insert::AlreadyPresent);
        }
        // Its bytes on disk before its name: a crash never leaves a named object unwritten
        // (which a retry would take for archived).
        self.sync
            .after_write(&self.dir)
            .await
            .map_err(unavailable)?;
        std::fs::rename(&temporary, &path).map_err(unavailable)?;
        // Its name on disk before the receipt that vouches for it.
        self.sync
            .after_write(&self.dir)
            .await
            .map_err(unavailable)?;
        Ok(Insert::Written)
    }
}

/// Writes `bytes` to `temporary` for `path`, unless `path` exists. Synced here only where the
/// file system cannot be synced as a whole (not Linux).
fn write_temporary(
    path: &std::path::Path,
    temporary: &std::path::Path,
    bytes: &[u8],
) -> std::io::Result<Insert> {
    if path.exists() {
        return Ok(Insert::AlreadyPresent);
    }
    let dir = path
        .parent()
        .ok_or_else(|| std::io::Error::other("an archive key names a directory"))?;
    std::fs::create_dir_all(dir)?;
    let mut file = std::fs::File::create(temporary)?;
    file.write_all(bytes)?;
    if !cfg!(target_os = "linux") {
        file.sync_all()?;
    }
    Ok(Insert::Written)
}

/// Group syncs: a writer takes a ticket after its write, and returns once a sync that started
/// after it has finished. While one sync runs the others wait their turn, and the next covers
/// every write made meanwhile.
#[derive(Default)]
struct GroupSync {
    /// Tickets taken so far (one a write).
    written: std::sync::atomic::AtomicU64,
    /// Every ticket up to this one is on disk.
    synced: std::sync::atomic::AtomicU64,
    turn: tokio::sync::Mutex<()>,
}

impl GroupSync {
    async fn after_write(&self, dir: &std::path::Path) -> std::io::Result<()> {
        use std::sync::atomic::Ordering::SeqCst;
        if !cfg!(target_os = "linux") {
            return Ok(());
        }
        let ticket = self.written.fetch_add(1, SeqCst) + 1;
        while self.synced.load(SeqCst) < ticket {
            let _turn = self.turn.lock().await;
            if self.synced.load(SeqCst) >= ticket {
                break;
            }
            let covers = self.written.load(SeqCst);
            let dir = dir.to_owned();
            tokio::task::spawn_blocking(move || sync_file_system(&dir))
                .await
                .map_err(std::io::Error::other)??;
            self.synced.fetch_max(covers, SeqCst);
        }
        Ok(())
    }
}

/// Flushes everything written to the file system `dir` is on (data and names), and waits for it.
#[cfg(target_os = "linux")]
fn sync_file_system(dir: &std::path::Path) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let handle = std::fs::File::open(dir)?;
    // SAFETY: syncfs reads the descriptor, which `handle` keeps open for the call.
    if unsafe { libc::syncfs(handle.as_raw_fd()) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn sync_file_system(_dir: &std::path::Path) -> std::io::Result<()> {
    Ok(())
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
