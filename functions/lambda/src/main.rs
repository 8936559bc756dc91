//! The bootstrap of the provided.al2023 runtime: reads the function's Handler (`_HANDLER`),
//! wires that handler to AWS, and serves invocations until the runtime stops it.

// The handlers' futures nest the SDK's deeply (a key ring read inside an authorizer inside the
// runtime's service): laying out `main`'s takes more than rustc's default 128 query levels.
#![recursion_limit = "256"]

use std::sync::Arc;

use lambda_runtime::{LambdaEvent, service_fn};
use mgrid_lambda::LambdaHandler;
use mgrid_pipeline::aws::HttpsCertificates;
use mgrid_pipeline::ports::SystemClock;
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MGRID_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_ansi(false)
        .without_time()
        .with_target(false)
        .with_writer(std::io::stderr)
        .init();
    let name = std::env::var("_HANDLER").unwrap_or_default();
    let config = mgrid_pipeline::aws::load_config().await;
    let handler = LambdaHandler::new(
        &name,
        &config,
        &|variable| std::env::var(variable).ok(),
        HttpsCertificates::new()?,
        Arc::new(SystemClock),
    )?;
    let handler = Arc::new(handler);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let handler = handler.clone();
        async move {
            handler
                .handle(event.payload)
                .await
                .map_err(lambda_runtime::Error::from)
        }
    }))
    .await
}
