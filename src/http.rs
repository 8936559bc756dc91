//! The one HTTP client mgrid uses outside the AWS SDK: `mgrid send` posting webhooks, `mgrid
//! dev` posting vendor notifications, the provider client calling Stripe's and PayPal's APIs,
//! and the stand-in delivering their events. (The server side is `serve`.)

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
        .with_provider_and_native_roots(mgrid_pipeline::aws::tls_provider())
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

/// A `--notify-url`, checked when typed: http:// or https:// with a host. Shown without any
/// `user:password@` it carries, so a log line never holds the credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyUrl(hyper::Uri);

impl NotifyUrl {
    /// clap's value parser for `--notify-url`.
    pub fn parse(text: &str) -> Result<NotifyUrl, String> {
        let refused = || {
            format!(
                "{:?} is not an http:// or https:// URL with a host (for example http://127.0.0.1:9000/notify)",
                mgrid_contract::untrusted::printable(text)
            )
        };
        let uri: hyper::Uri = text.parse().map_err(|_| refused())?;
        match (uri.scheme_str(), uri.host()) {
            (Some("http" | "https"), Some(host)) if !host.is_empty() => Ok(NotifyUrl(uri)),
            _ => Err(refused()),
        }
    }

    pub fn uri(&self) -> &hyper::Uri {
        &self.0
    }
}

impl std::fmt::Display for NotifyUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let uri = &self.0;
        let host = uri.host().unwrap_or_default();
        write!(f, "{}://{host}", uri.scheme_str().unwrap_or("http"))?;
        if let Some(port) = uri.port_u16() {
            write!(f, ":{port}")?;
        }
        f.write_str(uri.path())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notify_urls_are_http_or_https_with_a_host() {
        for good in [
            "http://127.0.0.1:9000/notify",
            "https://hooks.example.com/x?y=1",
        ] {
            assert!(NotifyUrl::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "notaurl",
            "ftp://example.com/x",
            "http://",
            "/relative",
            "",
            "mailto:a@b",
        ] {
            assert!(NotifyUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_notify_url_is_shown_without_its_credentials() {
        // Built here, so no URL with a password stands in the source.
        let with_credentials = format!(
            "https://{}@hooks.example.com:8443/in?t=1",
            "user:placeholder"
        );
        let url = NotifyUrl::parse(&with_credentials).expect("valid");
        assert_eq!(url.to_string(), "https://hooks.example.com:8443/in");
    }
}
