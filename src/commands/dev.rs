//! `mgrid dev`: the `local` stage, running on this machine until Ctrl-C. See `crate::local` for
//! what stands in for which AWS service; this module starts it, creates the local key rings on
//! first start, says how to use it, and stops it gracefully.

use anyhow::Result;
use base64::Engine;
use mgrid_contract::keyring::{KeyRing, Secret};
use mgrid_contract::{Provider, StageName};

use crate::cli::DevArgs;
use crate::commands::context::Context;
use crate::decide::config::LOCAL_STAGE;
use crate::decide::keys::api_key_from;
use crate::failure::{Failure, FailureKind};
use crate::ids::{random_bytes, random_text};
use crate::local::adapters::now;
use crate::local::custody::{self, Contents, DevLock};
use crate::local::db::{self, WEBHOOKS};
use crate::local::runtime::{self, Options};
use crate::local::store::{Store, StoreError};
use crate::local::{LocalRings, Paths};
use crate::ports::{KeyRings, StoredRing};
use crate::providers::standin::{Credentials, StandIn};
use crate::ui::output::note;
use crate::ui::terminal::unless_interrupted;

pub async fn run(context: &Context, args: &DevArgs) -> Result<()> {
    if let Some(stage) = &context.global.stage
        && stage.as_str() != crate::decide::config::LOCAL_STAGE
    {
        return Err(Failure::new(
            FailureKind::Usage,
            format!("`mgrid dev` runs the local stage only, not {stage}"),
        )
        .next("leave out --stage (or MGRID_STAGE), or pass --stage local")
        .into());
    }
    let paths = Paths::new(&context.global.data_dir);
    let failed = |what: String| Failure::new(FailureKind::Failed, what);
    // The port first: a stage that cannot listen creates nothing (no directory, no database,
    // no keys) for an operator to wonder about.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
        .await
        .map_err(|e| {
            failed(format!(
                "cannot listen on 127.0.0.1:{}: {e}; nothing was created",
                args.port
            ))
            .next("is another program (or another mgrid dev) using the port? pass --port (0 picks a free one)")
        })?;
    // The provider stand-in's port too (any free one): Stripe's and PayPal's APIs for the
    // local stage, so `mgrid doctor` and `keys rotate --update-provider` work with no account.
    let provider_listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(|e| {
            failed(format!(
                "cannot listen on 127.0.0.1 for the provider stand-in: {e}; nothing was created"
            ))
        })?;
    let tightened = custody::make_private(&paths.dir)?;
    let _lock = DevLock::hold(&paths)?;
    let found = custody::inspect(&paths)?;
    std::fs::create_dir_all(&paths.archive).map_err(|e| {
        failed(format!("cannot create {}: {e}", paths.archive.display()))
            .next("pass --data-dir with a directory you can write to")
    })?;
    let store = Store::open(&paths.database).map_err(|e| match e {
        StoreError::Damaged(problem) => custody::damaged(&paths, &problem),
        e => failed(format!("{}: {e}", paths.database.display())),
    })?;
    let created = first_start(&store).await?;
    let released = store
        .run(|c| db::release_all(c, WEBHOOKS, now()))
        .await
        .map_err(|e| failed(e.to_string()))?;
    // Every key ring the functions read from here on was written before this moment or after:
    // the endpoint file carries it, for a redrive to know which changes they may still cache.
    let functions_from = std::time::SystemTime::now();
    let running = runtime::start(
        &paths,
        store,
        Options {
            listener,
            workers: args.workers as usize,
            print_notifications: !args.quiet,
            notify_url: args.notify_url.clone(),
            leg_retry: args
                .leg_retry_ms
                .map_or(runtime::LegRetry::PIPES, runtime::LegRetry::every),
        },
    )
    .await
    .map_err(|e| failed(format!("cannot start the local stage: {e}")))?;
    let url = format!("http://{}", running.address);
    let (provider_api, provider_api_url) = start_stand_in(&paths, provider_listener, &url).await?;
    // Written aside and renamed into place: a `send` or a test reading the file while dev
    // starts sees no file or the whole address, never an empty one.
    write_aside(&paths.endpoint, &url, Some(functions_from))?;
    banner(&url, &paths, created, released);
    note(&format!(
        "  Stripe's and PayPal's APIs (a stand-in, with one endpoint each registered here): {provider_api_url}"
    ));
    if tightened.entries > 0 {
        note(&format!(
            "  made {} private: {} files and directories other users could read are now owner-only",
            paths.dir.display(),
            tightened.entries
        ));
    }
    if let Contents::ArchiveOnly(archived) = found {
        note(&format!(
            "  the archive keeps {archived} webhooks from an earlier ledger: `mgrid replay --stage local --from <first hour> --to <now>` records them again"
        ));
    }

    let damage = tokio::select! {
        _ = wait_for_stop() => None,
        problem = running.damaged() => Some(problem),
    };
    match &damage {
        None => note(
            "mgrid dev: stopping (finishing the batches in hand; messages in flight go back to the queue)",
        ),
        Some(problem) => note(&format!(
            "mgrid dev: stopping: the database failed ({problem}); no webhook is acknowledged from now on"
        )),
    }
    running.stop().await;
    provider_api.abort();
    let _ = std::fs::remove_file(&paths.provider_api);
    let _ = std::fs::remove_file(&paths.provider_control);
    let _ = std::fs::remove_file(&paths.endpoint);
    match damage {
        None => {
            note("mgrid dev: stopped");
            Ok(())
        }
        Some(problem) => Err(custody::damaged(&paths, &problem).into()),
    }
}

/// Creates what a new local stage lacks: an API key ring per provider and a Stripe signing
/// secret. True when it created any (keys are never printed: `mgrid send` reads them).
async fn first_start(store: &Store) -> Result<bool, Failure> {
    let stage: StageName = LOCAL_STAGE
        .parse()
        .map_err(|e| Failure::new(FailureKind::Failed, format!("{e}")))?;
    let mut created = false;
    for provider in Provider::ALL {
        let mut random = random_bytes()?;
        let key = api_key_from(provider, &random);
        zeroize::Zeroize::zeroize(&mut random);
        created |= create_ring(store, stage.api_key_ring(provider), &key).await?;
    }
    created |= create_ring(
        store,
        stage.signing_secret_ring(Provider::Stripe),
        &new_signing_secret()?,
    )
    .await?;
    // The local stage's tokens for the provider stand-in's APIs, as an operator sets a real
    // stage's with `mgrid keys set-provider-token`.
    let stripe_token = Secret::new(random_text("rk_test_standin")?);
    let paypal_token = Secret::new(format!(
        "{}:{}",
        random_text("AStandinClient")?,
        random_text("EStandinSecret")?
    ));
    created |= create_ring(
        store,
        stage.provider_token_ring(Provider::Stripe),
        &stripe_token,
    )
    .await?;
    created |= create_ring(
        store,
        stage.provider_token_ring(Provider::Paypal),
        &paypal_token,
    )
    .await?;
    Ok(created)
}

/// `text` written whole to `path` (`custody::write_private`: owner-only, never through a link,
/// renamed into place), with `modified` as its time when given: a `send` or a test reading the
/// file while dev starts sees no file or the whole text, never an empty one.
fn write_aside(
    path: &std::path::Path,
    text: &str,
    modified: Option<std::time::SystemTime>,
) -> Result<(), Failure> {
    custody::write_private(path, text.as_bytes(), modified).map_err(|e| {
        Failure::new(
            FailureKind::Failed,
            format!("cannot write {}: {e}", path.display()),
        )
    })
}

/// Starts the provider stand-in on `listener`, with the local stage's provider tokens as the
/// credentials it accepts and, the first time, one endpoint per provider pointing at the local
/// stage with its current key (as an operator registers them), Stripe's signing with the local
/// signing secret.
async fn start_stand_in(
    paths: &Paths,
    listener: tokio::net::TcpListener,
    url: &str,
) -> Result<(tokio::task::JoinHandle<()>, String), Failure> {
    let stage: StageName = LOCAL_STAGE
        .parse()
        .map_err(|e| Failure::new(FailureKind::Failed, format!("{e}")))?;
    let rings = LocalRings(paths.dir.clone());
    let current = |ring: Option<StoredRing>| ring.map(|stored| stored.ring.current.secret);
    let stand_in = StandIn::open(Some(paths.providers.clone()))?;
    let stripe = current(
        rings
            .read(&stage.provider_token_ring(Provider::Stripe))
            .await?,
    );
    let paypal = current(
        rings
            .read(&stage.provider_token_ring(Provider::Paypal))
            .await?,
    );
    if let (Some(stripe), Some(paypal)) = (stripe, paypal) {
        stand_in.credentials(|| Credentials { stripe, paypal });
    }
    for provider in Provider::ALL {
        // Endpoints an earlier run registered point at the port it listened on, which is
        // anyone's now: they follow the stage to its new one.
        let moved =
            stand_in.move_endpoints(provider, |url| earlier_local_stage(url, provider), url);
        if moved > 0 {
            note(&format!(
                "  {provider}'s endpoint at the provider stand-in now points at {url} (it pointed at the port an earlier run listened on)"
            ));
        }
        if !stand_in.endpoints(provider).is_empty() {
            continue;
        }
        let Some(key) = current(rings.read(&stage.api_key_ring(provider)).await?) else {
            continue;
        };
        let signing = match provider {
            Provider::Stripe => current(rings.read(&stage.signing_secret_ring(provider)).await?),
            Provider::Paypal => None,
        };
        stand_in.register(
            provider,
            Secret::new(format!("{url}/webhook/{provider}?key={}", key.expose())),
            provider
                .payment_event_types()
                .iter()
                .map(|t| t.to_string())
                .collect(),
            signing,
        );
    }
    let address = listener
        .local_addr()
        .map_err(|e| Failure::new(FailureKind::Failed, format!("the stand-in's address: {e}")))?;
    // The control token before the URL: whoever finds the URL finds the token beside it.
    write_aside(
        &paths.provider_control,
        stand_in.control_token().expose(),
        None,
    )?;
    let serving = tokio::spawn(stand_in.serve(listener));
    let url = format!("http://{address}");
    write_aside(&paths.provider_api, &url, None)?;
    Ok((serving, url))
}

/// The path and query of `url` when it is where an earlier `mgrid dev` took `provider`'s
/// webhooks (`http://127.0.0.1:<port>/webhook/<provider>…`); None for any other URL.
fn earlier_local_stage(url: &str, provider: Provider) -> Option<String> {
    let rest = url.strip_prefix("http://127.0.0.1:")?;
    let at = rest.find('/')?;
    let (port, path) = rest.split_at(at);
    (port.parse::<u16>().is_ok() && path.starts_with(&format!("/webhook/{provider}")))
        .then(|| path.to_owned())
}

async fn create_ring(store: &Store, name: String, secret: &Secret) -> Result<bool, Failure> {
    let ring = KeyRing::first(secret.clone(), now()).to_json();
    store
        // A write that expects no ring leaves an existing one as it is.
        .run(move |c| Ok(db::put_ring(c, &name, &ring, None, now())?.is_some()))
        .await
        .map_err(|e| Failure::new(FailureKind::Failed, e.to_string()))
}

/// A Stripe-style endpoint secret for the local stage: `whsec_` and 32 random bytes.
fn new_signing_secret() -> Result<Secret, Failure> {
    let mut bytes = random_bytes()?;
    let secret = format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes)
    );
    zeroize::Zeroize::zeroize(&mut bytes);
    Ok(Secret::new(secret))
}

fn banner(url: &str, paths: &Paths, created: bool, released: usize) {
    note(&format!(
        "mgrid dev: the local stage listens on {url} (data in {})",
        paths.dir.display()
    ));
    if released > 0 {
        note(&format!(
            "  {released} messages left in flight by an earlier run are back on the queue"
        ));
    }
    let dir = if paths.dir.as_os_str() == ".mgrid/local" {
        String::new()
    } else {
        format!(" --data-dir {}", paths.dir.display())
    };
    note(&format!(
        "  send a signed test webhook:   mgrid send stripe --stage local{dir}\n  \
         a load of 1,000 at 200/s:     mgrid send stripe --stage local{dir} --count 1000 --rate 200\n  \
         a webhook that fails:         mgrid send stripe --stage local{dir} --bad-signature\n  \
         as the providers see it:      mgrid doctor --stage local{dir}"
    ));
    if created {
        note(
            "  created the local key rings (API keys for both providers, a Stripe signing secret, tokens for the provider stand-in): `mgrid keys list --stage local`",
        );
    }
    note("  Ctrl-C stops it.");
}

async fn wait_for_stop() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut terminate) => {
            let _ = unless_interrupted(terminate.recv()).await;
        }
        Err(_) => {
            let _ = unless_interrupted(std::future::pending::<()>()).await;
        }
    }
}
