//! mgrid's integration tests, one test binary (cargo's own layout): each module was a test file
//! of its own, and each of those linked mgrid's library and the AWS SDK again. `cargo test --test
//! suite <module>::` runs one module; `support` is what they share.

mod support;

mod apigateway;
mod canary;
mod cli;
mod completions;
mod deploy_shift;
mod dev;
mod dlq;
mod dlq_recorded;
mod emulator;
mod hostile;
mod iam;
mod journey;
mod keys;
mod layers;
mod lifecycle;
mod lint;
mod live_tail;
mod metrics;
mod metrics_tui;
mod move_engine;
mod operator;
mod providers;
mod recorded;
mod replay;
mod seed_inventory;
mod send;
mod template;
mod trace;
