//! The one small HTTP/1.1 server of `mgrid dev`: the local ingress and the provider stand-in
//! both answer through it. Connections are capped by what the descriptor limit leaves (the
//! kernel's backlog holds the rest), a failed accept backs off instead of spinning, a client
//! has `HEADER_TIMEOUT` to send its headers (less while more than half the cap is held), and
//! stopping lets the requests in hand finish.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;

use crate::retry::Backoff;

/// How long a client has to send a request's headers, and how long a kept-alive connection
/// may sit idle (hyper's header timer runs while it waits for the next request).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// The same, for a connection taken while more than half the cap is open: whoever holds
/// connections without using them gives them back fast.
pub const PRESSED_HEADER_TIMEOUT: Duration = Duration::from_secs(1);
/// File descriptors kept for the database, the archive and the notifier, out of the process's
/// limit, when the connection cap is worked out.
const RESERVED_DESCRIPTORS: u64 = 64;
/// The most connections held open at once, whatever the limit allows.
const MOST_CONNECTIONS: u64 = 4_096;
/// Waits after a failed accept (out of descriptors): 10 ms, doubling, at most a second.
const ACCEPT_BACKOFF: Backoff = Backoff::new(Duration::from_millis(10), Duration::from_secs(1));

/// Answers every request on `listener` with `answer` until `stopping` turns true.
pub async fn serve<H, F>(listener: TcpListener, answer: H, mut stopping: watch::Receiver<bool>)
where
    H: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    let cap = connection_cap();
    let open = Arc::new(Semaphore::new(cap));
    let mut connections = JoinSet::new();
    let mut accept_failures = 0u32;
    loop {
        // At the cap, wait for a connection to close before taking the next: the kernel's
        // backlog holds new ones meanwhile, and idle ones close within their header timeout.
        let permit = tokio::select! {
            permit = open.clone().acquire_owned() => permit,
            _ = stopping.changed() => break,
        };
        let Ok(permit) = permit else { break };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stopping.changed() => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => {
                accept_failures = 0;
                stream
            }
            Err(error) => {
                // Out of descriptors (or memory): back off instead of spinning on the error.
                accept_failures += 1;
                let wait = ACCEPT_BACKOFF.wait(accept_failures);
                if accept_failures == 1
                    || wait == Duration::from_secs(1) && accept_failures.is_multiple_of(30)
                {
                    tracing::warn!(
                        "cannot accept a connection ({error}); retrying every {} ms at most",
                        wait.as_millis()
                    );
                }
                tokio::time::sleep(wait).await;
                continue;
            }
        };
        let header_timeout = if open.available_permits() < cap / 2 {
            PRESSED_HEADER_TIMEOUT
        } else {
            HEADER_TIMEOUT
        };
        connections.spawn(connection(
            stream,
            header_timeout,
            answer.clone(),
            stopping.clone(),
            permit,
        ));
        // Reap finished connection tasks so the set does not grow with every one ever served.
        while connections.try_join_next().is_some() {}
    }
    // Requests being answered finish; kept-alive connections close after them.
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while connections.join_next().await.is_some() {}
    })
    .await;
}

/// One client connection: HTTP/1.1 with header and idle timeouts, closed gracefully (after the
/// request in hand) when the server stops.
async fn connection<H, F>(
    stream: tokio::net::TcpStream,
    header_timeout: Duration,
    answer: H,
    mut stopping: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
) where
    H: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    let service = hyper::service::service_fn(move |request| {
        let answered = answer(request);
        async move { Ok::<_, Infallible>(answered.await) }
    });
    let served = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(served);
    if *stopping.borrow() {
        served.as_mut().graceful_shutdown();
    }
    tokio::select! {
        _ = served.as_mut() => return,
        _ = stopping.changed() => served.as_mut().graceful_shutdown(),
    }
    let _ = served.await;
}

/// How many connections a server holds open: what the descriptor limit leaves after the
/// reserve, raising the soft limit to the hard one first (as servers do).
fn connection_cap() -> usize {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed.
    let known = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0;
    if !known {
        return 256;
    }
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: limit.rlim_max,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: as above.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            limit = raised;
        }
    }
    let cap = limit
        .rlim_cur
        .saturating_sub(RESERVED_DESCRIPTORS)
        .clamp(8, MOST_CONNECTIONS);
    tracing::debug!("the server holds at most {cap} connections");
    cap as usize
}

/// A JSON answer with its content type.
pub fn json_reply(status: StatusCode, body: serde_json::Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}
