//! The local data plane, running: an HTTP ingress on 127.0.0.1 in place of API Gateway (same
//! routes, the authorizer's own rule, the ingress's group and deduplication rules), processor
//! workers receiving from the local FIFO queue in batches of ten as the event source mapping
//! does, and a stream worker that archives every new ledger item and notifies its vendor, as
//! the two pipes do. A 200 from the ingress means the webhook is committed to disk.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
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
use super::paths::{Paths, VISIBILITY_MS};
use super::store::Store;
use crate::decide::metrics::panels::{provider_key, reason_key};
use crate::http::NotifyUrl;
use crate::ids::run_id;
use crate::retry::Backoff;
use crate::serve::json_reply;

/// API Gateway's payload limit (10 MB): the deployed API answers 413 above it.
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

/// How long a client has to send a request's body once its headers are in: API Gateway gives a
/// whole request 30 s.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// The notify pipe's bounds (stacks/pipeline.yaml): retried at most this many times…
pub const NOTIFY_ATTEMPTS: u32 = 10;
/// …and never when older than this (its MaximumRecordAgeInSeconds, 6 h).
pub const NOTIFY_MAX_AGE_MS: i64 = 21_600_000;
/// Notifications read and marked per commit. The pipe reads ten a batch; locally each commit
/// is an fsync, and a hundred a commit keeps notifying ahead of a 3,000-a-second load.
const NOTIFY_BATCH: usize = 100;
/// A failed delivery waits 1 s, doubled each step up to this.
const NOTIFY_LONGEST_WAIT: Duration = Duration::from_secs(60);
/// A notification POST that has not answered by then failed.
const NOTIFY_TIMEOUT: Duration = Duration::from_secs(10);
/// A failed archive write is retried after 1 s, doubled each step up to this.
const ARCHIVE_LONGEST_WAIT: Duration = Duration::from_secs(30);

type LocalProcessor = Processor<LocalLedger, LocalDeadLetters, LocalKeyStore, NoCertificates>;

pub struct Options {
    /// Where the ingress listens (bound before anything is created).
    pub listener: TcpListener,
    pub workers: usize,
    /// Print each vendor notification on stdout.
    pub print_notifications: bool,
    /// POST each vendor notification here.
    pub notify_url: Option<NotifyUrl>,
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
    /// Wakes the archive worker when something was recorded.
    recorded: Notify,
    /// Wakes the notify worker when something was recorded.
    to_notify: Notify,
    metrics: Arc<LocalMetrics>,
    /// Processor workers in the middle of a batch (the concurrency signal).
    busy: AtomicUsize,
    /// The processor's decision lines, as CloudWatch Logs keeps them on AWS.
    log: super::logfile::LogWriter,
}

pub async fn start(paths: &Paths, store: Store, options: Options) -> std::io::Result<Running> {
    let stage: StageName = crate::decide::config::LOCAL_STAGE
        .parse()
        .map_err(|e| std::io::Error::other(format!("{e}")))?;
    let listener = options.listener;
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
        to_notify: Notify::new(),
        metrics: Arc::new(LocalMetrics::default()),
        busy: AtomicUsize::new(0),
        log: super::logfile::LogWriter::open(paths)?,
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
    let answering = shared.clone();
    let answer = move |request: Request<Incoming>| {
        let shared = answering.clone();
        async move {
            let started = std::time::Instant::now();
            let provider = route(request.uri().path());
            let response = ingress(request, provider, &shared).await;
            count_request(
                &shared.metrics,
                provider,
                response.status(),
                started.elapsed(),
            );
            response
        }
    };
    tasks.spawn(crate::serve::serve(listener, answer, stopping.clone()));
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
    tasks.spawn(archive(
        shared.clone(),
        Archiver::new(LocalArchive(paths.archive.clone())),
        stopping.clone(),
    ));
    tasks.spawn(notify(shared.clone(), notifier, stopping));
    Ok(Running {
        address,
        shutdown,
        tasks,
        store,
    })
}

impl Running {
    /// Resolves with the problem once the database is found damaged: from then on every
    /// webhook is refused, none acknowledged.
    pub async fn damaged(&self) -> String {
        self.store.damaged().await
    }

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

/// The processor's `FailedWebhooks` by reason: dead-lettered, and retried with their cause.
fn count_failures(metrics: &LocalMetrics, report: &mgrid_pipeline::processor::BatchReport) {
    let dead = report.dead_lettered.iter().map(|(r, n)| (r.as_str(), *n));
    let retried = report.retried.iter().map(|(c, n)| (c.as_str(), *n));
    for (reason, count) in dead.chain(retried) {
        metrics.add(reason_key(reason), count as f64);
    }
}

/// API Gateway's request metrics: Count, 4XXError, 5XXError, Latency; and, for a provider's
/// route, the same by resource (the stage's detailed metrics).
fn count_request(
    metrics: &LocalMetrics,
    provider: Option<Provider>,
    status: StatusCode,
    took: Duration,
) {
    let count = |base: &'static str| {
        metrics.add(base, 1.0);
        if let Some(provider) = provider {
            metrics.add(provider_key(base, provider), 1.0);
        }
    };
    count("received");
    if status.is_client_error() {
        count("api_4xx");
    }
    if status.is_server_error() {
        count("api_5xx");
    }
    metrics.sample("latency", took.as_secs_f64() * 1000.0);
}

/// The provider whose route a path is: exactly `/webhook/<provider>`, a trailing `/` allowed
/// (the deployed API has these two routes and nothing above or below them).
fn route(path: &str) -> Option<Provider> {
    if path.ends_with("//") {
        return None;
    }
    let route = path.trim_end_matches('/').strip_prefix("/webhook/")?;
    Provider::ALL.into_iter().find(|p| route == p.as_str())
}

fn message(status: StatusCode, text: &str) -> Response<Full<Bytes>> {
    json_reply(status, serde_json::json!({ "message": text }))
}

/// One delivery: route, authorizer, then onto the queue; 200 once committed.
async fn ingress(
    request: Request<Incoming>,
    provider: Option<Provider>,
    shared: &Shared,
) -> Response<Full<Bytes>> {
    let path = request.uri().path().to_owned();
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
    let pairs = mgrid_contract::form::pairs(request.uri().query().unwrap_or(""));
    let repeated_key = request.headers().get_all("x-api-key").iter().count() > 1
        || pairs.iter().filter(|(name, _)| name == "key").count() > 1;
    let query = pairs.into_iter().collect();
    let authorization = AuthorizationRequest {
        path,
        headers,
        query,
        repeated_key,
    };
    let decision = shared.authorizer.decide(&authorization).await;
    let (Ok(request_id), Ok(message_id)) = (run_id(), run_id()) else {
        return message(StatusCode::SERVICE_UNAVAILABLE, "no random ids; retry");
    };
    // The authorizer's decision line, as the deployed authorizer prints it.
    if let Err(error) = shared
        .log
        .write(&[decision.log_line(Some(request_id.clone()), now())])
    {
        tracing::error!("writing the pipeline log failed: {error}");
    }
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
    let body = Limited::new(request.into_body(), MAX_BODY_BYTES).collect();
    let body = match tokio::time::timeout(BODY_TIMEOUT, body).await {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(_)) => return message(StatusCode::PAYLOAD_TOO_LARGE, "Request Too Long"),
        Err(_) => return message(StatusCode::REQUEST_TIMEOUT, "the body was not sent in time"),
    };
    let Ok(body) = String::from_utf8(Vec::from(body)) else {
        return message(StatusCode::BAD_REQUEST, "the body is not UTF-8 text");
    };
    let received_at = now();
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
        return json_reply(
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
            json_reply(
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
            idle(&shared.queued, &mut stopping).await;
            continue;
        }
        let messages: Vec<InboundMessage> = batch.iter().map(inbound).collect();
        let busy = shared.busy.fetch_add(1, Ordering::Relaxed) + 1;
        shared.metrics.max("concurrency", busy as f64);
        let started = std::time::Instant::now();
        let report = processor.process(&messages).await;
        shared.busy.fetch_sub(1, Ordering::Relaxed);
        if let Err(error) = shared.log.write(&report.decisions) {
            shared.metrics.add("errors", 1.0);
            tracing::error!("writing the pipeline log failed: {error}");
        }
        shared.metrics.add("invocations", 1.0);
        shared
            .metrics
            .sample("duration", started.elapsed().as_secs_f64() * 1000.0);
        shared.metrics.add("transactions", report.recorded as f64);
        count_failures(&shared.metrics, &report);
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
            shared.to_notify.notify_one();
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

/// An item's field as a terminal line may show it: the values came from a webhook.
fn shown(item: &Item, name: &str) -> String {
    crate::text::shown(&text(item, name))
}

/// Where vendor notifications go: stdout, and a URL when given.
struct Notifier {
    print: bool,
    url: Option<NotifyUrl>,
    client: crate::http::HttpClient,
}

impl Notifier {
    /// Delivers one notification; why not, when the URL did not take it.
    async fn notify(&self, item: &Item) -> Result<(), String> {
        if let Some(url) = &self.url {
            let request = hyper::Request::post(url.uri().clone())
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from(
                    mgrid_contract::notification::vendor_notification(item).to_string(),
                )))
                .map_err(|e| e.to_string())?;
            match tokio::time::timeout(NOTIFY_TIMEOUT, self.client.request(request)).await {
                Ok(Ok(response)) if response.status().is_success() => {}
                Ok(Ok(response)) => return Err(format!("answered {}", response.status())),
                Ok(Err(error)) => return Err(format!("did not take it ({error})")),
                Err(_) => {
                    return Err(format!("did not answer in {} s", NOTIFY_TIMEOUT.as_secs()));
                }
            }
        }
        if self.print {
            let amount = match text(item, "amount").parse::<i64>() {
                Ok(minor) => {
                    mgrid_contract::money::shown_amount(i128::from(minor), &text(item, "currency"))
                }
                Err(_) => "no amount".to_owned(),
            };
            println!(
                "notify vendor {}: {} {} {amount} ({})",
                shown(item, "vendorId"),
                shown(item, "provider"),
                shown(item, "eventType"),
                shown(item, mgrid_contract::ledger::KEY_ATTRIBUTE),
            );
        }
        Ok(())
    }
}

/// The archive pipe: each new ledger item is archived; a record is marked done only once it
/// is, so a failed write is tried again, after a wait that doubles while writes keep failing.
async fn archive(
    shared: Arc<Shared>,
    archiver: Archiver<LocalArchive>,
    mut stopping: watch::Receiver<bool>,
) {
    let mut failing = 0u32;
    while !*stopping.borrow() {
        let pending = match shared.store.run(|c| db::pending_stream(c, 100)).await {
            Ok(pending) => pending,
            Err(error) => {
                tracing::error!("reading the local ledger stream failed: {error}");
                pause(&mut stopping, Duration::from_secs(1)).await;
                continue;
            }
        };
        if pending.is_empty() {
            idle(&shared.recorded, &mut stopping).await;
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
        if let Err(error) = shared.log.write(&report.decision_lines(now())) {
            tracing::error!("writing the pipeline log failed: {error}");
        }
        let done: Vec<i64> = records
            .iter()
            .filter(|record| !report.failed.contains(&record.event_id))
            .filter_map(|record| record.event_id.parse().ok())
            .collect();
        let marked = shared
            .store
            .run(move |c| {
                for seq in &done {
                    db::stream_done(c, *seq)?;
                }
                Ok(())
            })
            .await;
        if let Err(error) = &marked {
            tracing::error!("marking archived records failed: {error}");
        }
        if report.failed.is_empty() && marked.is_ok() {
            if failing > 0 {
                tracing::info!("archive writes succeed again");
            }
            failing = 0;
            continue;
        }
        failing += 1;
        let wait = Backoff::new(Duration::from_secs(1), ARCHIVE_LONGEST_WAIT).wait(failing);
        if let Some(error) = &report.first_error {
            // One line a retry step, whatever the number of records that failed.
            tracing::warn!(
                "{} archive writes failed ({error}); retrying in {} s",
                report.failed.len(),
                wait.as_secs()
            );
        }
        pause(&mut stopping, wait).await;
    }
}

/// The notify pipe: each new ledger item's vendor notification, in order, apart from
/// archiving. A batch the URL does not take waits, twice as long each step, and a notification tried NOTIFY_ATTEMPTS times or older than NOTIFY_MAX_AGE_MS
/// becomes a notify dead letter, as the pipe's DeadLetterConfig keeps it.
async fn notify(shared: Arc<Shared>, notifier: Notifier, mut stopping: watch::Receiver<bool>) {
    let mut failing = 0u32;
    // What the last batch delivered, marked in the same commit that reads the next batch.
    let mut delivered_before: Vec<i64> = Vec::new();
    while !*stopping.borrow() {
        let done = std::mem::take(&mut delivered_before);
        let due = match shared
            .store
            .run(move |c| {
                for seq in &done {
                    db::notified(c, *seq)?;
                }
                db::due_notifications(c, NOTIFY_BATCH, now())
            })
            .await
        {
            Ok(due) => due,
            Err(error) => {
                tracing::error!("reading the local notifications failed: {error}");
                pause(&mut stopping, Duration::from_secs(1)).await;
                continue;
            }
        };
        if due.is_empty() {
            idle(&shared.to_notify, &mut stopping).await;
            continue;
        }
        let mut delivered = Vec::new();
        let mut failure = None;
        for pending in &due {
            let outcome = match serde_json::from_str::<Item>(&pending.item) {
                Ok(item) => notifier.notify(&item).await,
                Err(error) => Err(format!("the ledger item cannot be read ({error})")),
            };
            match outcome {
                Ok(()) => delivered.push(pending.seq),
                Err(why) => {
                    failure = Some(why);
                    break;
                }
            }
        }
        let Some(why) = failure else {
            if failing > 0 {
                tracing::info!("vendor notifications are delivered again");
            }
            failing = 0;
            delivered_before = delivered;
            continue;
        };
        failing += 1;
        let wait = Backoff::new(Duration::from_secs(1), NOTIFY_LONGEST_WAIT).wait(failing);
        let at = now();
        let (given_up, retried): (Vec<_>, Vec<_>) = due
            .iter()
            .filter(|pending| !delivered.contains(&pending.seq))
            .partition(|pending| {
                pending.attempts + 1 >= NOTIFY_ATTEMPTS
                    || at - pending.recorded_at > NOTIFY_MAX_AGE_MS
            });
        let given_up: Vec<i64> = given_up.iter().map(|p| p.seq).collect();
        let retried: Vec<i64> = retried.iter().map(|p| p.seq).collect();
        let dead = given_up.len();
        let url = notifier
            .url
            .as_ref()
            .map_or_else(String::new, ToString::to_string);
        tracing::warn!(
            "{url} {why}: {} vendor notifications wait, next try in {} s{}",
            retried.len(),
            wait.as_secs(),
            if dead > 0 {
                format!(
                    "; {dead} tried {NOTIFY_ATTEMPTS} times (or 6 h old) are kept as notify dead letters"
                )
            } else {
                String::new()
            }
        );
        shared
            .metrics
            .add("notify_errors", (retried.len() + dead) as f64);
        let reason = why.clone();
        let next_at = at + wait.as_millis() as i64;
        let kept = shared
            .store
            .run(move |c| {
                for seq in &delivered {
                    db::notified(c, *seq)?;
                }
                for seq in &retried {
                    db::notify_later(c, *seq, next_at)?;
                }
                for seq in &given_up {
                    db::notify_dead_letter(c, *seq, &reason, at)?;
                }
                Ok(())
            })
            .await;
        if let Err(error) = kept {
            tracing::error!("recording failed notifications failed: {error}");
        }
        pause(&mut stopping, wait).await;
    }
    if !delivered_before.is_empty() {
        let _ = shared
            .store
            .run(move |c| {
                delivered_before
                    .iter()
                    .try_for_each(|seq| db::notified(c, *seq))
            })
            .await;
    }
}

/// Waits until `wake` is notified, half a second has passed (what a timer frees: visibility
/// that ran out, a retry that is due), or mgrid dev stops.
async fn idle(wake: &Notify, stopping: &mut watch::Receiver<bool>) {
    tokio::select! {
        _ = wake.notified() => {}
        _ = tokio::time::sleep(Duration::from_millis(500)) => {}
        _ = stopping.changed() => {}
    }
}

/// Waits `wait`, or less when mgrid dev stops.
async fn pause(stopping: &mut watch::Receiver<bool>, wait: Duration) {
    tokio::select! {
        _ = tokio::time::sleep(wait) => {}
        _ = stopping.changed() => {}
    }
}
