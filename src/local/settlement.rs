//! The journey after the ledger on the local stage: the ledger's sparse unsettled index, items
//! by id, the archive leg redone with the archiver's own code (files in the archive layout,
//! receipts in the same database), and the notify leg handed back to the running `mgrid dev`'s
//! notify pipe, marked as a redelivery: only it knows where notifications go.

use mgrid_contract::EpochMillis;
use mgrid_contract::ledger::{Item, transaction_id};
use mgrid_contract::settlement::{BY_HEAL, Leg, Receipt};
use mgrid_pipeline::archiver::Archiver;
use mgrid_pipeline::legs::{LegRunner, records_of};
use mgrid_pipeline::ports::{PortError, Receipts, SystemClock};

use super::adapters::LocalArchive;
use super::{Paths, db, open_existing};
use crate::failure::{Failure, FailureKind};
use crate::ports::{Redone, Settlement, UnsettledPage};

fn database_failure(error: rusqlite::Error) -> Failure {
    Failure::new(FailureKind::Failed, format!("the local database: {error}"))
}

/// The local stage's journey after the ledger, read and redone from its data directory.
pub struct LocalSettlement(pub Paths);

/// Receipts written straight to the database a command opened (a heal runs beside `mgrid dev`,
/// whose own writes go through its store: SQLite serialises the two).
struct CommandReceipts(Paths);

impl CommandReceipts {
    fn each<T: Send>(
        &self,
        batch: &[T],
        write: impl Fn(&rusqlite::Connection, &T) -> rusqlite::Result<Result<(), PortError>>,
    ) -> Vec<Result<(), PortError>> {
        let written = open_existing(&self.0)
            .map_err(|failure| PortError::Unavailable(failure.what))
            .and_then(|mut connection| {
                // Immediate: a read that then writes must not find the write lock taken in
                // between (a deferred transaction fails at once there, whatever the timeout).
                let tx = connection
                    .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                    .map_err(|e| PortError::Unavailable(e.to_string()))?;
                let results = batch
                    .iter()
                    .map(|entry| write(&tx, entry))
                    .collect::<rusqlite::Result<Vec<_>>>()
                    .map_err(|e| PortError::Unavailable(e.to_string()))?;
                tx.commit()
                    .map_err(|e| PortError::Unavailable(e.to_string()))?;
                Ok(results)
            });
        match written {
            Ok(results) => results,
            Err(error) => vec![Err(error); batch.len()],
        }
    }
}

impl Receipts for CommandReceipts {
    async fn settle(&self, receipts: &[(String, Receipt)]) -> Vec<Result<(), PortError>> {
        self.each(receipts, |tx, (id, receipt)| {
            Ok(if db::settle(tx, id, receipt)? {
                Ok(())
            } else {
                Err(PortError::Unavailable(format!(
                    "the ledger has no item {id} to write its {} receipt on",
                    receipt.leg()
                )))
            })
        })
    }

    async fn note_failures(
        &self,
        leg: Leg,
        failures: &[(String, String)],
    ) -> Vec<Result<(), PortError>> {
        self.each(failures, |tx, (id, why)| {
            db::note_leg_failure(tx, id, leg, why).map(Ok)
        })
    }
}

impl Settlement for LocalSettlement {
    fn delivers_handed(&self) -> bool {
        super::custody::DevLock::is_held(&self.0).unwrap_or(false)
    }

    async fn unsettled(
        &self,
        from: EpochMillis,
        to: EpochMillis,
        max: usize,
    ) -> Result<UnsettledPage, Failure> {
        let connection = open_existing(&self.0)?;
        let mut items = db::unsettled(&connection, from, to, max.saturating_add(1))
            .map_err(database_failure)?;
        let more = items.len() > max;
        items.truncate(max);
        Ok(UnsettledPage {
            items,
            more,
            read_units: None,
        })
    }

    async fn items(&self, transaction_ids: &[String]) -> Result<Vec<Item>, Failure> {
        let connection = open_existing(&self.0)?;
        db::items(&connection, transaction_ids).map_err(database_failure)
    }

    async fn redo(&self, leg: Leg, items: &[Item]) -> Result<Vec<Redone>, Failure> {
        match leg {
            Leg::Archive => {
                let leg = LegRunner::new(
                    Archiver::new(LocalArchive::new(self.0.archive.clone())),
                    CommandReceipts(self.0.clone()),
                    BY_HEAL,
                );
                let report = leg.run(&records_of(items), &SystemClock).await;
                Ok(Redone::each(items, &report))
            }
            Leg::Notify => {
                let mut connection = open_existing(&self.0)?;
                let tx = connection
                    .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                    .map_err(database_failure)?;
                let mut redone = Vec::with_capacity(items.len());
                for item in items {
                    let queued = match transaction_id(item) {
                        Some(id) => db::notify_again(&tx, id).map_err(database_failure)?,
                        _ => false,
                    };
                    redone.push(if queued {
                        Redone::Handed
                    } else {
                        Redone::Failed("the ledger has no such item".to_owned())
                    });
                }
                tx.commit().map_err(database_failure)?;
                Ok(redone)
            }
        }
    }
}
