//! The MarketGrid data plane: the authorizer, processor, archiver and notifier, written once against small
//! ports (ledger, archive, receipts, topic, key store, dead letters, certificates, clock). The Lambda bootstrap
//! runs them with the AWS adapters; `mgrid dev` runs them with local ones.

pub mod archiver;
pub mod authorizer;
#[cfg(feature = "aws")]
pub mod aws;
pub mod cache;
pub mod legs;
pub mod metrics;
pub mod notifier;
pub mod ports;
pub mod processor;
