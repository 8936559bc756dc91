//! The decisions: what a command concludes from what it read, as pure functions and state
//! machines. Nothing here performs I/O, names an AWS SDK type, parses the command line or
//! touches the local stage's files; a test (tests/suite/layers.rs) reads the imports and holds
//! that line. The commands fetch, hand the facts to these modules, and apply what they decide.

pub mod amounts;
pub mod config;
pub mod deploy;
pub mod doctor;
pub mod events;
pub mod journey;
pub mod keys;
pub mod lifecycle;
pub mod logs;
pub mod metrics;
pub mod move_engine;
pub mod pipe_letters;
pub mod reconcile;
pub mod redrive;
pub mod replay;
pub mod shift;
pub mod spans;
pub mod stage;
pub mod template;
pub mod trace;
pub mod values;
pub mod verdict;
pub mod version;
