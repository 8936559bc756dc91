//! The one contract between the MarketGrid Lambda functions and the `mgrid` CLI: the names of a
//! stage's resources, the webhook envelope and how it travels on the queue, provider parsing
//! and signature verification, the transaction record and its ledger item, the archive layout,
//! and the key-ring format. Both sides depend on this crate, so they cannot drift. Pure: no I/O.

pub mod archive;
pub mod clock;
pub mod decision;
pub mod envelope;
pub mod failure;
pub mod form;
pub mod fuzz;
pub mod keyring;
pub mod ledger;
pub mod money;
pub mod names;
pub mod notification;
pub mod provider;
pub mod record;
mod scalar;
pub mod settlement;
pub mod signature;
pub mod untrusted;
pub mod webhook_url;

pub use archive::{ArchiveHour, ArchiveKey, ArchivedWebhook};
pub use clock::EpochMillis;
pub use envelope::{QueueMessage, Rejected, WebhookEnvelope};
pub use failure::FailureReason;
pub use keyring::{KeyRing, KeySlot, Secret};
pub use names::{InvalidStageName, STAGE_NAME_RULE, StageName, StageParameter};
pub use provider::Provider;
pub use record::TransactionRecord;
