//! The MarketGrid data plane: the authorizer, processor and archiver, written once against small
//! ports (ledger, archive, key store, dead letters, certificates, clock). The Lambda bootstrap
//! runs them with the AWS adapters; `mgrid dev` runs them with local ones.

pub mod archiver;
pub mod authorizer;
#[cfg(feature = "aws")]
pub mod aws;
pub mod cache;
pub mod metrics;
pub mod ports;
pub mod processor;
