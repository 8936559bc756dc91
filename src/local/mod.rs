//! The `local` stage: the pipeline's data plane on one machine, no AWS account needed. SQLite
//! stands in for SQS, DynamoDB and SSM, files for S3; the handlers are the Lambda functions'
//! own code behind local adapters. `mgrid dev` runs it; operator commands read the same data.

pub mod adapters;
pub mod custody;
pub mod db;
pub mod logfile;
pub mod metrics;
mod operator;
pub mod paths;
pub mod runtime;
pub mod settlement;
mod stage;
pub mod store;

pub use paths::{DEFAULT_ENDPOINT, Paths, VISIBILITY_MS, endpoint};
pub use stage::{
    Health, health, open_existing, provider_control, running_endpoint, running_provider_api,
};

pub use operator::{
    LocalArchiveFiles, LocalLedgerLookup, LocalQueue, LocalRings, dead_letter, whereabouts,
};
