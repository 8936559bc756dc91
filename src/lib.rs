//! mgrid, the operator tool for the MarketGrid payment-webhook pipeline. The binary's `main`
//! only parses, sets up logging and maps errors to exit codes; everything else lives here so
//! that tests and benchmarks reach it too.

pub mod artifact;
pub mod aws;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config_file;
pub mod decide;
pub mod failure;
pub mod http;
pub mod ids;
pub mod local;
pub mod ports;
pub mod providers;
pub mod retry;
pub mod runs;
pub mod serve;
pub mod target;
pub mod text;
pub mod ui;
