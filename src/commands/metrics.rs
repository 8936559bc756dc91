//! `mgrid metrics tail`: a stage's dashboard in the terminal. The stage's resource names come
//! from SSM once; then every refresh reads all series in one GetMetricData call and the alarms
//! in ALARM in one DescribeAlarms call. A poller task does the fetching and hands snapshots to
//! the screen over a channel, so drawing never waits on the network.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::time::Duration;

use anyhow::Result;
use futures::StreamExt;
use mgrid_contract::{StageName, StageParameter};
use ratatui::crossterm::event::{Event, EventStream, KeyEventKind};
use tokio::sync::mpsc;

use crate::aws::Aws;
use crate::aws::metrics::{MetricDataFailure, alarms_in_alarm, metric_data};
use crate::aws::parameters::{require, stage_parameters};
use crate::cli::{MetricsAction, MetricsArgs, OutputFormat, TailArgs};
use crate::clock::now_millis;
use crate::commands::Context;
use crate::dashboard::{Control, Dashboard, KeyOutcome, Update};
use crate::failure::{Failure, FailureKind};
use crate::metrics::{
    Answer, PercentilesRejected, RefreshCost, Resources, Signal, Snapshot, Stat, TimeRange, Window,
    assemble, queries, signals,
};
use crate::output::{print_error, print_report, write_stdout};

pub async fn run(context: &Context, args: &MetricsArgs) -> Result<()> {
    match &args.action {
        MetricsAction::Tail(tail_args) => tail(context, tail_args).await,
    }
}

async fn tail(context: &Context, args: &TailArgs) -> Result<()> {
    let window = Window::new(args.window, args.period).map_err(|e| {
        Failure::new(FailureKind::Usage, e).next("for example: --window 3h --period 5m")
    })?;
    let stage = context.require_stage()?;
    let interval = Duration::from_secs(args.interval as u64);
    if stage.as_str() == crate::local::STAGE {
        let paths = crate::local::Paths::new(&crate::local::data_dir());
        crate::local::open_existing(&paths)?;
        return show(
            LocalSource::new(paths),
            &stage,
            window,
            interval,
            args.once,
            context.global.output,
        )
        .await;
    }
    let settings = context.settings(stage.clone())?;
    let aws = context.connect(&settings).await?;
    let parameters = stage_parameters(&aws.ssm(), &stage).await?;
    let resources = resources(&parameters, &stage)?;
    let source = CloudWatchSource::new(aws, &resources);
    show(
        source,
        &stage,
        window,
        interval,
        args.once,
        context.global.output,
    )
    .await
}

/// Once, live on a terminal, or plain snapshots every interval: the same for every source.
async fn show(
    mut source: impl SnapshotSource,
    stage: &StageName,
    window: Window,
    interval: Duration,
    once: bool,
    format: OutputFormat,
) -> Result<()> {
    if once {
        let snapshot = source.refresh(&window).await?;
        print_report(&snapshot, format)?;
        return Ok(());
    }
    let interactive = format == OutputFormat::Text
        && std::io::stdout().is_terminal()
        && std::io::stdin().is_terminal();
    if interactive {
        live(source, stage.as_str(), window, interval).await
    } else {
        plain(source, window, interval, format).await
    }
}

/// The names the stage's metrics carry, from its SSM parameters.
pub fn resources(
    parameters: &BTreeMap<StageParameter, String>,
    stage: &StageName,
) -> Result<Resources, Failure> {
    let get = |parameter| require(parameters, stage, parameter);
    // SQS metrics are by queue name, the last part of its URL.
    let queue_name =
        |parameter| get(parameter).map(|url| url.rsplit('/').next().unwrap_or_default().to_owned());
    let pipes = get(StageParameter::PipeNames)?;
    let pipe = |suffix: &str| {
        pipes
            .split(',')
            .map(str::trim)
            .find(|name| name.ends_with(suffix))
            .map(str::to_owned)
            .unwrap_or_else(|| format!("marketgrid-{stage}{suffix}"))
    };
    Ok(Resources {
        stage: stage.to_string(),
        api_name: get(StageParameter::ApiName)?,
        queue: queue_name(StageParameter::QueueUrl)?,
        dlq: queue_name(StageParameter::DlqUrl)?,
        pipe_dlq: queue_name(StageParameter::PipeDlqUrl)?,
        authorizer: get(StageParameter::AuthorizerFunction)?,
        processor: get(StageParameter::ProcessorFunction)?,
        archiver: get(StageParameter::ArchiverFunction)?,
        archive_pipe: pipe("-archive"),
        notify_pipe: pipe("-notify"),
    })
}

/// Where snapshots come from: CloudWatch for a deployed stage, the local database for `local`.
pub trait SnapshotSource: Send + 'static {
    fn refresh(
        &mut self,
        window: &Window,
    ) -> impl std::future::Future<Output = Result<Snapshot, Failure>> + Send;

    /// Ask again, on the next refresh, for rows the backend could not answer.
    fn retry_unavailable(&mut self);
}

/// Snapshots of a deployed stage, from CloudWatch.
pub struct CloudWatchSource {
    aws: Aws,
    client: aws_sdk_cloudwatch::Client,
    stage: String,
    signals: Vec<Signal>,
    alarm_prefix: String,
    /// Set once the backend has refused percentile queries; they are left out until `r`.
    rejected: Option<PercentilesRejected>,
}

impl CloudWatchSource {
    pub fn new(aws: Aws, resources: &Resources) -> CloudWatchSource {
        CloudWatchSource {
            client: aws.cloudwatch_live(),
            aws,
            stage: resources.stage.clone(),
            signals: signals(resources),
            alarm_prefix: format!("marketgrid-{}-", resources.stage),
            rejected: None,
        }
    }
}

impl SnapshotSource for CloudWatchSource {
    /// Fetch, then decide: one GetMetricData call for every series (a second, without
    /// percentiles, only when the backend refuses the first), one DescribeAlarms call.
    async fn refresh(&mut self, window: &Window) -> Result<Snapshot, Failure> {
        let range = window.range(now_millis());
        let calls_before = (self.aws.calls(), self.aws.calls_of("GetMetricData"));
        let bytes_before = self.aws.bytes();
        let with_percentiles = self.rejected.is_none();
        let asked = queries(&self.signals, window, with_percentiles);
        let answers = match metric_data(&self.client, &asked, &range).await {
            Ok(answers) => answers,
            Err(MetricDataFailure::Refused(refusal)) if with_percentiles => {
                tracing::debug!(
                    "GetMetricData refused ({refusal}); asking again without percentiles"
                );
                let without = queries(&self.signals, window, false);
                let answers = metric_data(&self.client, &without, &range)
                    .await
                    .map_err(MetricDataFailure::into_failure)?;
                self.rejected = Some(PercentilesRejected(refusal.what));
                answers
            }
            Err(failure) => return Err(failure.into_failure()),
        };
        let alarms = alarms_in_alarm(&self.client, &self.alarm_prefix).await?;
        let series = assemble(
            &self.signals,
            &range,
            &answers,
            self.rejected.as_ref(),
            &alarms,
        );
        let bytes_after = self.aws.bytes();
        let cost = RefreshCost {
            aws_calls: self.aws.calls() - calls_before.0,
            get_metric_data_calls: self.aws.calls_of("GetMetricData") - calls_before.1,
            bytes_sent: bytes_after.0 - bytes_before.0,
            bytes_received: bytes_after.1 - bytes_before.1,
        };
        Ok(Snapshot::new(
            &self.stage,
            window,
            range,
            now_millis(),
            series,
            alarms,
            cost,
        ))
    }

    fn retry_unavailable(&mut self) {
        self.rejected = None;
    }
}

/// Snapshots of the local stage, from the per-minute counters `mgrid dev` writes.
pub struct LocalSource {
    paths: crate::local::Paths,
    signals: Vec<Signal>,
}

impl LocalSource {
    pub fn new(paths: crate::local::Paths) -> LocalSource {
        LocalSource {
            paths,
            signals: signals(&Resources::named_for(crate::local::STAGE)),
        }
    }
}

impl SnapshotSource for LocalSource {
    async fn refresh(&mut self, window: &Window) -> Result<Snapshot, Failure> {
        let range = window.range(now_millis());
        let connection = crate::local::open_existing(&self.paths)?;
        let mut answers = Vec::with_capacity(self.signals.len());
        for signal in &self.signals {
            if let Some((_, why)) = crate::local::metrics::NOT_LOCAL
                .iter()
                .find(|(key, _)| *key == signal.key)
            {
                answers.push(Answer {
                    id: signal.key.to_owned(),
                    status: "NotOnLocalStage".to_owned(),
                    messages: vec![(*why).to_owned()],
                    ..Answer::default()
                });
                continue;
            }
            let minutes =
                crate::local::db::counter_series(&connection, signal.key, range.start, range.end)
                    .map_err(|e| {
                    Failure::new(FailureKind::Failed, format!("the local database: {e}"))
                })?;
            answers.push(per_period(signal, &range, &minutes));
        }
        let series = assemble(&self.signals, &range, &answers, None, &[]);
        Ok(Snapshot::new(
            crate::local::STAGE,
            window,
            range,
            now_millis(),
            series,
            Vec::new(),
            RefreshCost::default(),
        ))
    }

    fn retry_unavailable(&mut self) {}
}

/// Per-minute local values gathered into the window's periods: sums add up, the rest (maxima,
/// percentiles) take the highest.
fn per_period(signal: &Signal, range: &TimeRange, minutes: &[(i64, f64)]) -> Answer {
    let mut periods: BTreeMap<i64, f64> = BTreeMap::new();
    for (at, value) in minutes {
        let start = range.start + (at - range.start).div_euclid(range.period_ms) * range.period_ms;
        let slot = periods.entry(start).or_insert(if signal.stat == Stat::Sum {
            0.0
        } else {
            *value
        });
        *slot = if signal.stat == Stat::Sum {
            *slot + value
        } else {
            slot.max(*value)
        };
    }
    Answer {
        id: signal.key.to_owned(),
        timestamps: periods.keys().copied().collect(),
        values: periods.values().copied().collect(),
        status: "Complete".to_owned(),
        messages: Vec::new(),
    }
}

/// Without a terminal: a snapshot every interval (a table, or one JSON document a line) until
/// Ctrl-C. A failing first refresh ends the run; later failures are reported and retried.
async fn plain(
    mut source: impl SnapshotSource,
    window: Window,
    interval: Duration,
    format: OutputFormat,
) -> Result<()> {
    let mut succeeded = false;
    loop {
        match source.refresh(&window).await {
            Ok(snapshot) => {
                succeeded = true;
                match format {
                    OutputFormat::Text => write_stdout(&format!("{snapshot}\n"))?,
                    OutputFormat::Json => {
                        write_stdout(&format!("{}\n", serde_json::to_string(&snapshot)?))?
                    }
                }
            }
            Err(failure) if !succeeded => return Err(failure.into()),
            Err(failure) => print_error(&failure.into()),
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}

/// Full screen: the poller fetches, the loop below draws and reads keys.
async fn live(
    source: impl SnapshotSource,
    stage: &str,
    window: Window,
    interval: Duration,
) -> Result<()> {
    let (updates_tx, updates) = mpsc::channel(8);
    let (controls, controls_rx) = mpsc::channel(8);
    let poller = tokio::spawn(poll(source, window, interval, controls_rx, updates_tx));
    let dashboard = Dashboard::new(stage, window, interval.as_secs());
    let result = match ratatui::try_init() {
        Ok(mut terminal) => event_loop(&mut terminal, dashboard, updates, controls).await,
        Err(error) => Err(anyhow::Error::from(error).context("cannot take over the terminal")),
    };
    ratatui::restore();
    poller.abort();
    result
}

async fn poll(
    mut source: impl SnapshotSource,
    mut window: Window,
    interval: Duration,
    mut controls: mpsc::Receiver<Control>,
    updates: mpsc::Sender<Update>,
) {
    let mut paused = false;
    let mut forced = false;
    loop {
        if !paused || forced {
            forced = false;
            if updates.send(Update::Loading).await.is_err() {
                return;
            }
            let update = match source.refresh(&window).await {
                Ok(snapshot) => Update::Snapshot(Box::new(snapshot)),
                Err(failure) => Update::Failed(failure.what),
            };
            if updates.send(update).await.is_err() {
                return;
            }
        }
        let control = if paused {
            controls.recv().await
        } else {
            tokio::select! {
                _ = tokio::time::sleep(interval) => continue,
                control = controls.recv() => control,
            }
        };
        match control {
            None => return,
            Some(Control::Refresh) => {
                source.retry_unavailable();
                forced = true;
            }
            Some(Control::Window(wider_or_narrower)) => {
                window = wider_or_narrower;
                forced = true;
            }
            Some(Control::Pause(pause)) => paused = pause,
        }
    }
}

async fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    mut dashboard: Dashboard,
    mut updates: mpsc::Receiver<Update>,
    controls: mpsc::Sender<Control>,
) -> Result<()> {
    let mut events = EventStream::new();
    // Once a second, so "updated 4s ago" stays true; nothing else redraws while idle.
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut terminate = terminate_signal()?;
    loop {
        dashboard.now = now_millis();
        terminal.draw(|frame| dashboard.render(frame))?;
        tokio::select! {
            event = events.next() => match event {
                Some(Ok(Event::Key(key))) if key.kind == KeyEventKind::Press => {
                    match dashboard.on_key(key) {
                        KeyOutcome::Quit => return Ok(()),
                        KeyOutcome::Control(control) => {
                            // The poller only ends with this loop; a full channel drops a key.
                            let _ = controls.try_send(control);
                        }
                        KeyOutcome::Redraw | KeyOutcome::Nothing => {}
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(error)) => {
                    return Err(anyhow::Error::from(error).context("reading the terminal failed"));
                }
                None => return Ok(()),
            },
            Some(update) = updates.recv() => dashboard.apply(update, now_millis()),
            _ = tick.tick() => {}
            _ = terminate.recv() => return Ok(()),
        }
    }
}

/// SIGTERM and SIGHUP end the dashboard like q does, so the terminal is restored.
fn terminate_signal() -> Result<mpsc::Receiver<()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let (tx, rx) = mpsc::channel(1);
    for kind in [SignalKind::terminate(), SignalKind::hangup()] {
        let mut stream = signal(kind)?;
        let tx = tx.clone();
        tokio::spawn(async move {
            if stream.recv().await.is_some() {
                let _ = tx.send(()).await;
            }
        });
    }
    Ok(rx)
}
