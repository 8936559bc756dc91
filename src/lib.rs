//! mgrid, the operator tool for the MarketGrid payment-webhook pipeline. The binary's `main`
//! only parses, sets up logging and maps errors to exit codes; everything else lives here so
//! that tests and benchmarks reach it too.

pub mod artifact;
pub mod aws;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod dashboard;
pub mod events;
pub mod failure;
pub mod http;
pub mod ids;
pub mod keys;
pub mod lifecycle;
pub mod local;
pub mod logs;
pub mod metrics;
pub mod move_engine;
pub mod movers;
pub mod output;
pub mod ports;
pub mod redrive;
pub mod replay;
pub mod runs;
pub mod shift;
pub mod spans;
pub mod stage;
pub mod target;
pub mod template;
pub mod terminal;
pub mod verdict;
