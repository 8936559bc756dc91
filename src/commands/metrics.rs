//! `mgrid metrics tail`: a stage's dashboard in the terminal. The stage's resource names come
//! from SSM once; then every refresh reads all series in one GetMetricData call and the alarms
//! in ALARM in one DescribeAlarms call (an open drill-down adds its breakdown to the same
//! GetMetricData call). A poller task does the fetching and hands snapshots to
//! the screen over a channel, so drawing never waits on the network.

use std::io::IsTerminal;
use std::time::Duration;

use anyhow::Result;
use futures::StreamExt;
use mgrid_contract::StageName;
use ratatui::crossterm::event::{Event, EventStream, KeyEventKind};
use tokio::sync::mpsc;

use crate::cli::{MetricsAction, MetricsArgs, TailArgs};
use crate::clock::now_millis;
use crate::commands::context::Context;
use crate::decide::metrics::{RateMemory, Window};
use crate::failure::{Failure, FailureKind};
use crate::ports::MetricsSource;
use crate::target::Target;
use crate::ui::dashboard::{Control, Dashboard, KeyOutcome, Update};
use crate::ui::output::{OutputFormat, print_error, print_report, write_stdout};
use crate::ui::terminal::unless_interrupted;

pub async fn run(context: &Context, target: &Target, args: &MetricsArgs) -> Result<()> {
    match &args.action {
        MetricsAction::Tail(tail_args) => tail(context, target, tail_args).await,
    }
}

async fn tail(context: &Context, target: &Target, args: &TailArgs) -> Result<()> {
    let window = Window::new(args.window, args.period).map_err(|e| {
        Failure::new(FailureKind::Usage, e).next("for example: --window 3h --period 5m")
    })?;
    let interval = Duration::from_secs(args.interval as u64);
    show(
        target.metrics().await?,
        target.name(),
        window,
        interval,
        args.once,
        context.global.output,
    )
    .await
}

/// Once, live on a terminal, or plain snapshots every interval: the same for every source.
async fn show(
    mut source: impl MetricsSource,
    stage: &StageName,
    window: Window,
    interval: Duration,
    once: bool,
    format: OutputFormat,
) -> Result<()> {
    if once {
        let mut snapshot = source.refresh(&window, None).await?;
        RateMemory::default().read(&mut snapshot);
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

/// Without a terminal: a snapshot every interval (a table, or one JSON document a line) until
/// Ctrl-C. A failing first refresh ends the run; later failures are reported and retried.
async fn plain(
    mut source: impl MetricsSource,
    window: Window,
    interval: Duration,
    format: OutputFormat,
) -> Result<()> {
    let mut succeeded = false;
    let mut rates = RateMemory::default();
    loop {
        match source.refresh(&window, None).await {
            Ok(mut snapshot) => {
                succeeded = true;
                rates.read(&mut snapshot);
                match format {
                    OutputFormat::Text => write_stdout(&format!("{snapshot}\n"))?,
                    OutputFormat::Json => {
                        write_stdout(&format!("{}\n", serde_json::to_string(&snapshot)?))?
                    }
                }
            }
            Err(failure) if !succeeded => return Err(failure.into()),
            Err(failure) => print_error(&failure.into(), format),
        }
        if unless_interrupted(tokio::time::sleep(interval))
            .await
            .is_err()
        {
            return Ok(());
        }
    }
}

/// Full screen: the poller fetches, the loop below draws and reads keys.
async fn live(
    source: impl MetricsSource,
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
    mut source: impl MetricsSource,
    mut window: Window,
    interval: Duration,
    mut controls: mpsc::Receiver<Control>,
    updates: mpsc::Sender<Update>,
) {
    let mut paused = false;
    let mut forced = false;
    let mut focus = None;
    let mut rates = RateMemory::default();
    loop {
        if !paused || forced {
            forced = false;
            if updates.send(Update::Loading).await.is_err() {
                return;
            }
            let update = match source.refresh(&window, focus).await {
                Ok(mut snapshot) => {
                    rates.read(&mut snapshot);
                    Update::Snapshot(Box::new(snapshot))
                }
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
            Some(Control::Focus(panel)) => {
                // Opening a drill-down reads its breakdown now; closing it costs nothing.
                forced = panel.is_some();
                focus = panel;
            }
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
