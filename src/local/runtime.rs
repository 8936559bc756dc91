//! The local data plane, running: an HTTP ingress on 127.0.0.1 in place of API Gateway (same
//! routes, the authorizer's own rule, the ingress's group and deduplication rules), processor
//! workers receiving from the local FIFO queue in batches of ten as the event source mapping
//! does, and a stream worker that archives every new ledger item and notifies its vendor, as
//! the two pipes do. A 200 from the ingress means the webhook is committed to disk.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use mgrid_contract::envelope::{MAX_MESSAGE_BYTES, ingress_message};
use mgrid_contract::ledger::{Attribute, Item};
use mgrid_contract::{Provider, StageName};
use mgrid_pipeline::archiver::{Archiver, StreamRecord};
use mgrid_pipeline::authorizer::{AuthorizationRequest, Authorizer, Decision, DenyReason};
use mgrid_pipeline::ports::{InboundMessage, SystemClock};
use mgrid_pipeline::processor::Processor;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use super::adapters::{
    LocalArchive, LocalDeadLetters, LocalKeyStore, LocalLedger, NoCertificates, now,
};
use super::db::{self, Received, WEBHOOKS};
use super::metrics::{LocalMetrics, flush_loop};
use super::store::Store;
use super::{Paths, VISIBILITY_MS};
use crate::commands::run_id;

/// API Gateway's payload limit (10 MB): the deployed API answers 413 above it.
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

type LocalProcessor = Processor<LocalLedger, LocalDeadLetters, LocalKeyStore, NoCertificates>;

pub struct Options {
    pub port: u16,
    pub workers: usize,
    /// Print each vendor notification on stdout.
    pub print_notifications: bool,
    /// POST each vendor notification here.
    pub notify_url: Option<String>,
}

/// What a running local stage hands back: where it listens, and how to stop it.
pub struct Running {
    pub address: SocketAddr,
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<()>,
    store: Store,
}

struct Shared {
    store: Store,
    authorizer: Authorizer<LocalKeyStore>,
    /// Wakes the processor workers when something was queued.
    queued: Notify,
    /// Wakes the stream worker when something was recorded.
    recorded: Notify,
    metrics: Arc<LocalMetrics>,
    /// Processor workers in the middle of a batch (the concurrency signal).
    busy: AtomicUsize,
}

pub async fn start(paths: &Paths, store: Store, options: Options) -> std::io::Result<Running> {
    let stage: StageName = super::STAGE
        .parse()
        .map_err(|e| std::io::Error::other(format!("{e}")))?;
    let listener = TcpListener::bind(("127.0.0.1", options.port)).await?;
    let address = listener.local_addr()?;
    let shared = Arc::new(Shared {
        store: store.clone(),
        authorizer: Authorizer::new(
            stage.clone(),
            LocalKeyStore(store.clone()),
            Arc::new(SystemClock),
        ),
        queued: Notify::new(),
        recorded: Notify::new(),
        metrics: Arc::new(LocalMetrics::default()),
        busy: AtomicUsize::new(0),
    });
    let processor = Arc::new(Processor::new(
        stage,
        LocalLedger(store.clone()),
        LocalDeadLetters(store.clone()),
        LocalKeyStore(store.clone()),
        NoCertificates,
        Arc::new(SystemClock),
    ));
    let (shutdown, stopping) = watch::channel(false);
    let mut tasks = JoinSet::new();
    tasks.spawn(serve(listener, shared.clone(), stopping.clone()));
    for _ in 0..options.workers.max(1) {
        tasks.spawn(process(shared.clone(), processor.clone(), stopping.clone()));
    }
    tasks.spawn(flush_loop(
        shared.metrics.clone(),
        store.clone(),
        stopping.clone(),
    ));
    let notifier = Notifier {
        print: options.print_notifications,
        url: options.notify_url,
        client: crate::http::client().map_err(|e| std::io::Error::other(e.what))?,
    };
    tasks.spawn(stream(
        shared.clone(),
        Archiver::new(LocalArchive(paths.archive.clone())),
        notifier,
        stopping,
    ));
    Ok(Running {
        address,
        shutdown,
        tasks,
        store,
    })
}

impl Running {
    /// Stops taking webhooks, lets the workers finish the batches in hand, and hands every
    /// message still in flight back to the queue.
    pub async fn stop(mut self) {
        let _ = self.shutdown.send(true);
        let drained = tokio::time::timeout(Duration::from_secs(10), async {
            while self.tasks.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            self.tasks.abort_all();
        }
        if let Err(error) = self
            .store
            .run(|c| db::release_all(c, WEBHOOKS, now()))
            .await
        {
            tracing::error!("could not hand in-flight messages back: {error}");
        }
    }
}

async fn serve(listener: TcpListener, shared: Arc<Shared>, mut stopping: watch::Receiver<bool>) {
    let mut connections = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stopping.changed() => break,
        };
        let Ok((stream, _)) = accepted else { continue };
        let shared = shared.clone();
        connections.spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let shared = shared.clone();
                async move {
                    let started = std::time::Instant::now();
                    let response = ingress(request, &shared).await;
                    count_request(&shared.metrics, response.status(), started.elapsed());
                    Ok::<_, Infallible>(response)
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
    // Requests being answered finish; no new connection is taken.
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while connections.join_next().await.is_some() {}
    })
    .await;
}

/// API Gateway's request metrics: Count, 4XXError, 5XXError, Latency.
fn count_request(metrics: &LocalMetrics, status: StatusCode, took: Duration) {
    metrics.add("received", 1.0);
    if status.is_client_error() {
        metrics.add("api_4xx", 1.0);
    }
    if status.is_server_error() {
        metrics.add("api_5xx", 1.0);
    }
    metrics.sample("latency", took.as_secs_f64() * 1000.0);
}

fn json_response(status: StatusCode, body: serde_json::Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

fn message(status: StatusCode, text: &str) -> Response<Full<Bytes>> {
    json_response(status, serde_json::json!({ "message": text }))
}

/// One delivery: route, authorizer, then onto the queue; 200 once committed.
async fn ingress(request: Request<Incoming>, shared: &Shared) -> Response<Full<Bytes>> {
    let path = request.uri().path().to_owned();
    let provider = Provider::from_path(&path);
    if request.method() != Method::POST || provider.is_none() {
        return message(
            StatusCode::NOT_FOUND,
            "Not Found: POST /webhook/stripe or /webhook/paypal",
        );
    }
    let headers: BTreeMap<String, String> = request
        .headers()
        .iter()
        .filter_map(|(name, value)| {
            Some((
                name.as_str().to_ascii_lowercase(),
                value.to_str().ok()?.to_owned(),
            ))
        })
        .collect();
    let query = query_pairs(request.uri().query().unwrap_or(""));
    let authorization = AuthorizationRequest {
        path,
        headers,
        query,
    };
    let decision = shared.authorizer.decide(&authorization).await;
    let provider = match decision {
        Decision::Allow { provider, .. } => provider,
        Decision::Deny {
            reason: DenyReason::NoKey,
        } => return message(StatusCode::UNAUTHORIZED, "Unauthorized"),
        Decision::Deny { reason } => {
            if reason == DenyReason::KeyStoreUnavailable {
                shared.metrics.add("authorizer_errors", 1.0);
            }
            tracing::info!(reason = reason.as_str(), "denied a delivery");
            return message(StatusCode::FORBIDDEN, "Forbidden");
        }
    };
    let body = match Limited::new(request.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return message(StatusCode::PAYLOAD_TOO_LARGE, "Request Too Long"),
    };
    let Ok(body) = String::from_utf8(Vec::from(body)) else {
        return message(StatusCode::BAD_REQUEST, "the body is not UTF-8 text");
    };
    let received_at = now();
    let (Ok(request_id), Ok(message_id)) = (run_id(), run_id()) else {
        return message(StatusCode::SERVICE_UNAVAILABLE, "no random ids; retry");
    };
    let queued = match ingress_message(
        provider,
        body,
        &authorization.headers,
        received_at,
        &request_id,
    ) {
        Ok(queued) => queued,
        Err(refusal) => return message(StatusCode::BAD_REQUEST, &refusal.to_string()),
    };
    if queued.sqs_size() > MAX_MESSAGE_BYTES {
        // What the deployed integration answers when SQS refuses a message (its 4XX).
        return json_response(
            StatusCode::BAD_GATEWAY,
            serde_json::json!({"received": false, "error": "the queue refused the webhook; retry"}),
        );
    }
    let sent = shared
        .store
        .run(move |c| db::send(c, WEBHOOKS, &queued, &message_id, received_at))
        .await;
    match sent {
        Ok((message_id, _)) => {
            shared.queued.notify_one();
            json_response(
                StatusCode::OK,
                serde_json::json!({ "status": "queued", "messageId": message_id, "requestId": request_id }),
            )
        }
        Err(error) => {
            tracing::error!("could not queue a delivery: {error}");
            message(
                StatusCode::SERVICE_UNAVAILABLE,
                "the queue is unavailable; retry",
            )
        }
    }
}

/// `a=1&b=2`, percent-decoded.
fn query_pairs(query: &str) -> BTreeMap<String, String> {
    query
        .split('&')
        .filter_map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (!name.is_empty()).then(|| (percent_decode(name), percent_decode(value)))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%' && i + 2 < bytes.len())
            .then(|| Some(hex(bytes[i + 1])? * 16 + hex(bytes[i + 2])?))
            .flatten();
        match (escaped, bytes[i]) {
            (Some(byte), _) => {
                out.push(byte);
                i += 3;
                continue;
            }
            (None, b'+') => out.push(b' '),
            (None, byte) => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn inbound(message: &Received) -> InboundMessage {
    InboundMessage {
        message_id: message.message_id.clone(),
        body: message.body.clone(),
        attributes: message.attributes.clone(),
        group_id: message.group_id.clone(),
        deduplication_id: Some(message.dedup_id.clone()),
        receive_count: message.receive_count,
    }
}

/// A processor worker: receive ten, process them as the Lambda does, delete what succeeded;
/// what failed stays hidden until its visibility timeout, then comes back (three times at
/// most, then to the dead-letter queue).
async fn process(
    shared: Arc<Shared>,
    processor: Arc<LocalProcessor>,
    mut stopping: watch::Receiver<bool>,
) {
    while !*stopping.borrow() {
        let batch = match shared
            .store
            .run(|c| db::receive(c, WEBHOOKS, 10, VISIBILITY_MS, now()))
            .await
        {
            Ok(batch) => batch,
            Err(error) => {
                shared.metrics.add("errors", 1.0);
                tracing::error!("receiving from the local queue failed: {error}");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if batch.is_empty() {
            // Woken by the ingress; the timer catches messages whose visibility ran out.
            tokio::select! {
                _ = shared.queued.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                _ = stopping.changed() => {}
            }
            continue;
        }
        let messages: Vec<InboundMessage> = batch.iter().map(inbound).collect();
        let busy = shared.busy.fetch_add(1, Ordering::Relaxed) + 1;
        shared.metrics.max("concurrency", busy as f64);
        let started = std::time::Instant::now();
        let report = processor.process(&messages).await;
        shared.busy.fetch_sub(1, Ordering::Relaxed);
        shared.metrics.add("invocations", 1.0);
        shared
            .metrics
            .sample("duration", started.elapsed().as_secs_f64() * 1000.0);
        shared.metrics.add("transactions", report.recorded as f64);
        let done: Vec<String> = batch
            .iter()
            .filter(|m| !report.failed.contains(&m.message_id))
            .map(|m| m.receipt.clone())
            .collect();
        let deleted = shared
            .store
            .run(move |c| {
                for receipt in &done {
                    db::delete(c, WEBHOOKS, receipt)?;
                }
                Ok(())
            })
            .await;
        if let Err(error) = deleted {
            shared.metrics.add("errors", 1.0);
            // The messages come back after their visibility timeout; the ledger makes the
            // repeat a no-op.
            tracing::error!("deleting processed messages failed: {error}");
        }
        if report.recorded > 0 {
            shared.recorded.notify_one();
        }
        if batch.len() < 10 {
            // More may be queued behind a group this worker holds; let others take it.
            tokio::task::yield_now().await;
        }
    }
}

fn text(item: &Item, name: &str) -> String {
    match item.get(name) {
        Some(Attribute::S(value)) | Some(Attribute::N(value)) => value.clone(),
        _ => String::new(),
    }
}

/// The message the notify pipe puts on the vendor topic for a new ledger item.
pub fn vendor_notification(item: &Item) -> serde_json::Value {
    let fields = [
        "transactionId",
        "vendorId",
        "amount",
        "currency",
        "eventTime",
        "eventType",
        "status",
    ];
    serde_json::Value::Object(
        fields
            .iter()
            .map(|name| {
                (
                    (*name).to_owned(),
                    serde_json::Value::String(text(item, name)),
                )
            })
            .collect(),
    )
}

/// Where vendor notifications go: stdout, and a URL when given.
struct Notifier {
    print: bool,
    url: Option<String>,
    client: crate::http::HttpClient,
}

impl Notifier {
    /// Delivers one notification; false when the URL did not take it (it is tried again).
    async fn notify(&self, item: &Item) -> bool {
        if let Some(url) = &self.url {
            let request = hyper::Request::post(url)
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from(
                    vendor_notification(item).to_string(),
                )));
            let Ok(request) = request else {
                tracing::error!("--notify-url {url} is not a usable URL");
                return false;
            };
            match tokio::time::timeout(Duration::from_secs(10), self.client.request(request)).await
            {
                Ok(Ok(response)) if response.status().is_success() => {}
                Ok(Ok(response)) => {
                    tracing::warn!(
                        "{url} answered {} to a vendor notification; retrying",
                        response.status()
                    );
                    return false;
                }
                Ok(Err(error)) => {
                    tracing::warn!("{url} did not take a vendor notification ({error}); retrying");
                    return false;
                }
                Err(_) => {
                    tracing::warn!("{url} did not answer a vendor notification in 10 s; retrying");
                    return false;
                }
            }
        }
        if self.print {
            println!(
                "notify vendor {}: {} {} {} {} ({})",
                text(item, "vendorId"),
                text(item, "provider"),
                text(item, "eventType"),
                text(item, "amount"),
                text(item, "currency"),
                text(item, mgrid_contract::ledger::KEY_ATTRIBUTE),
            );
        }
        true
    }
}

/// The stream worker: each new ledger item is archived, then its vendor is notified; a record
/// is marked done only after both, so a failure of either is tried again.
async fn stream(
    shared: Arc<Shared>,
    archiver: Archiver<LocalArchive>,
    notifier: Notifier,
    mut stopping: watch::Receiver<bool>,
) {
    while !*stopping.borrow() {
        let pending = match shared.store.run(|c| db::pending_stream(c, 100)).await {
            Ok(pending) => pending,
            Err(error) => {
                tracing::error!("reading the local ledger stream failed: {error}");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if pending.is_empty() {
            tokio::select! {
                _ = shared.recorded.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                _ = stopping.changed() => {}
            }
            continue;
        }
        let records: Vec<StreamRecord> = pending
            .iter()
            .map(|(seq, _, item)| StreamRecord {
                event_id: seq.to_string(),
                event_name: "INSERT".to_owned(),
                new_image: serde_json::from_str(item).ok(),
            })
            .collect();
        let report = archiver.archive(&records).await;
        shared
            .metrics
            .add("archiver_errors", report.failed.len() as f64);
        let mut done = Vec::new();
        let mut undelivered = 0;
        for record in &records {
            if report.failed.contains(&record.event_id) {
                continue;
            }
            if let Some(item) = &record.new_image
                && !notifier.notify(item).await
            {
                undelivered += 1;
                continue;
            }
            if let Ok(seq) = record.event_id.parse::<i64>() {
                done.push(seq);
            }
        }
        let marked = shared
            .store
            .run(move |c| {
                for seq in &done {
                    db::stream_done(c, *seq)?;
                }
                Ok(())
            })
            .await;
        if marked.is_err() || !report.failed.is_empty() || undelivered > 0 {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_are_percent_decoded() {
        let pairs = query_pairs("key=mgk_stripe_a%2Db&x=1+2&empty=&=skip");
        assert_eq!(pairs["key"], "mgk_stripe_a-b");
        assert_eq!(pairs["x"], "1 2");
        assert_eq!(pairs["empty"], "");
        assert_eq!(pairs.len(), 3);
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}
