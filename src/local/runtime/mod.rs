//! The local data plane, running: an HTTP ingress on 127.0.0.1 in place of API Gateway (same
//! routes, the authorizer's own rule, the ingress's group and deduplication rules), processor
//! workers receiving from the local FIFO queue in batches of ten as the event source mapping
//! does, and a stream worker that archives every new ledger item and notifies its vendor, as
//! the two pipes do. A 200 from the ingress means the webhook is committed to disk.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;

use hyper::Request;
use hyper::body::Incoming;
use mgrid_contract::StageName;
use mgrid_contract::settlement::BY_PIPELINE;
use mgrid_pipeline::archiver::Archiver;
use mgrid_pipeline::authorizer::Authorizer;
use mgrid_pipeline::legs::LegRunner;
use mgrid_pipeline::ports::SystemClock;
use mgrid_pipeline::processor::Processor;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use super::adapters::{
    LocalArchive, LocalDeadLetters, LocalKeyStore, LocalLedger, LocalReceipts, NoCertificates, now,
};
use super::db::{self, WEBHOOKS};
use super::metrics::{LocalMetrics, flush_loop};
use super::paths::Paths;
use super::store::Store;
mod ingress;
mod pipes;
mod processor;
mod shared;

pub use ingress::{BODY_TIMEOUT, MAX_BODY_BYTES};
use ingress::{count_request, ingress, route};
pub use pipes::{LegRetry, NOTIFY_ATTEMPTS, NOTIFY_MAX_AGE_MS};
use pipes::{Notifier, archive, notify};
use processor::process;
use shared::Shared;

use crate::http::NotifyUrl;

pub struct Options {
    /// Where the ingress listens (bound before anything is created).
    pub listener: TcpListener,
    pub workers: usize,
    /// Print each vendor notification on stdout.
    pub print_notifications: bool,
    /// POST each vendor notification here.
    pub notify_url: Option<NotifyUrl>,
    /// How the legs after the ledger wait between attempts.
    pub leg_retry: LegRetry,
}

/// What a running local stage hands back: where it listens, and how to stop it.
pub struct Running {
    pub address: SocketAddr,
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<()>,
    store: Store,
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
        LegRunner::new(
            Archiver::new(LocalArchive::new(paths.archive.clone())),
            LocalReceipts(store.clone()),
            BY_PIPELINE,
        ),
        options.leg_retry.archive,
        stopping.clone(),
    ));
    tasks.spawn(notify(
        shared.clone(),
        notifier,
        options.leg_retry.notify,
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
