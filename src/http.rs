//! The one HTTP client mgrid uses outside the AWS SDK: `mgrid send` posting webhooks, and
//! `mgrid dev` posting vendor notifications.

use http_body_util::Full;
use hyper::body::Bytes;

use crate::failure::{Failure, FailureKind};

pub type HttpClient = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    Full<Bytes>,
>;

/// An HTTP/1.1 client for http:// and https:// (the platform's root certificates).
pub fn client() -> Result<HttpClient, Failure> {
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(rustls::crypto::aws_lc_rs::default_provider())
        .map_err(|e| {
            Failure::new(
                FailureKind::Failed,
                format!("no TLS root certificates on this machine: {e}"),
            )
        })?
        .https_or_http()
        .enable_http1()
        .build();
    Ok(
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .pool_max_idle_per_host(1024)
            .build(connector),
    )
}
