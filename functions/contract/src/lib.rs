//! The one contract between the MarketGrid Lambda functions and the `mgrid` CLI: names of a
//! stage's resources, and (as the functions land) the webhook envelope, provider parsing, the
//! archive layout and the key-ring format. Both sides depend on this crate, so they cannot drift.

pub mod names;

pub use names::{InvalidStageName, STAGE_NAME_RULE, StageName, StageParameter};
