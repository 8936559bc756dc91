//! What the flags' values must be, read once: stages, regions, spans and rates, parameters,
//! event ids and currencies; and the stages completions offer (read from mgrid.toml).

use crate::decide::shift::DeployStrategy;
use clap::ValueEnum;
use clap_complete::engine::CompletionCandidate;
use mgrid_contract::StageName;

use crate::decide::logs::LogSource;

pub(super) fn parse_currency(text: &str) -> Result<String, String> {
    if mgrid_contract::money::is_currency_code(text) {
        Ok(text.to_lowercase())
    } else {
        Err(format!(
            "{text:?} is not a currency: three letters, like usd or EUR"
        ))
    }
}

pub(super) fn parse_seconds(text: &str) -> Result<i64, String> {
    crate::decide::spans::parse_span(text, 15).map(|ms| ms / 1000)
}

pub(super) fn parse_interval(text: &str) -> Result<i64, String> {
    match parse_seconds(text)? {
        seconds if seconds < 5 => Err(format!(
            "{text:?} is too short: refresh at most every 5s (CloudWatch publishes once a minute)"
        )),
        seconds => Ok(seconds),
    }
}

/// A span of time: 90s, 30m, 24h, 7d (at most 30 days).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span(pub i64);

impl std::str::FromStr for Span {
    type Err = String;
    fn from_str(text: &str) -> Result<Span, String> {
        crate::decide::spans::parse_span(text, 30).map(Span)
    }
}

/// A `--watch-limit`: 1 minute to 24 hours.
pub(super) fn parse_watch_limit(text: &str) -> Result<Span, String> {
    let span: Span = text.parse()?;
    if (60_000..=86_400_000).contains(&span.0) {
        Ok(span)
    } else {
        Err(format!(
            "{text:?}: a watch limit is 1m to 24h (a CloudFormation operation that runs longer is stuck on something `mgrid status` shows)"
        ))
    }
}

/// A `--hold`: SQS hides a received message for 1 s to 12 h; anything else is refused, not
/// clamped to fit.
pub(super) fn parse_hold(text: &str) -> Result<Span, String> {
    let span: Span = text.parse()?;
    if (1_000..=43_200_000).contains(&span.0) {
        Ok(span)
    } else {
        Err(format!(
            "{text:?}: SQS hides a message for 1s to 12h; give a hold within that"
        ))
    }
}

/// The slowest pace a command keeps: one message every 1,000 s. Slower would be no pace at all,
/// and an interval that overflows a clock.
pub(super) const MIN_RATE: f64 = 0.001;

pub(super) fn parse_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate >= MIN_RATE => Ok(rate),
        _ => Err(format!(
            "a rate is a number of messages per second, at least {MIN_RATE} (one every 1,000 s)"
        )),
    }
}

pub(super) fn parse_quiet_after(text: &str) -> Result<Span, String> {
    let span: Span = text.parse()?;
    if (60_000..=30 * 86_400_000).contains(&span.0) {
        Ok(span)
    } else {
        Err(format!("{text:?}: a quiet time is 1m to 30d"))
    }
}

pub(super) fn parse_heal_wait(text: &str) -> Result<Span, String> {
    let span: Span = text.parse()?;
    if (1_000..=3_600_000).contains(&span.0) {
        Ok(span)
    } else {
        Err(format!("{text:?}: a wait is 1s to 1h"))
    }
}

pub(super) fn parse_event_id(text: &str) -> Result<String, String> {
    if !text.is_empty()
        && text.len() <= 100
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        Ok(text.to_owned())
    } else {
        Err(
            "an event id is 1 to 100 letters, digits, `_` or `-` (Stripe evt_…, PayPal WH-…)"
                .into(),
        )
    }
}

/// What TAB offers for a stage: `local`, then every stage of the configuration file
/// (`MGRID_CONFIG`, or `./mgrid.toml`), each with its region and whether it is protected. A file
/// that cannot be read offers `local` only: completion never prints an error into the prompt.
pub(super) fn stage_candidates() -> Vec<CompletionCandidate> {
    let mut candidates = vec![
        CompletionCandidate::new(crate::decide::config::LOCAL_STAGE)
            .help(Some("this machine's pipeline (mgrid dev)".into())),
    ];
    let explicit = std::env::var_os("MGRID_CONFIG").map(std::path::PathBuf::from);
    let Ok(config) = crate::config_file::load(explicit.as_deref()) else {
        return candidates;
    };
    for (name, settings) in &config.file.stages {
        let mut about = Vec::new();
        if let Some(region) = &settings.region {
            about.push(region.0.clone());
        }
        if settings
            .protected
            .unwrap_or_else(|| crate::decide::config::protected_by_default(name))
        {
            about.push("protected".to_owned());
        }
        let candidate = CompletionCandidate::new(name.as_str());
        candidates.push(if about.is_empty() {
            candidate
        } else {
            candidate.help(Some(about.join(", ").into()))
        });
    }
    candidates
}

pub(super) fn parse_region(name: &str) -> Result<String, String> {
    if crate::decide::config::is_region_name(name) {
        Ok(name.to_owned())
    } else {
        Err("not an AWS region name (like eu-west-1)".into())
    }
}

pub(super) fn parse_strategy(text: &str) -> Result<DeployStrategy, String> {
    DeployStrategy::from_name(text).ok_or_else(|| {
        let names: Vec<&str> = DeployStrategy::ALL.iter().map(|s| s.name()).collect();
        format!("no deploy strategy {text:?}: one of {}", names.join(", "))
    })
}

pub(super) fn parse_param(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err("expected KEY=VALUE, like ProcessorMemory=2048".into()),
    }
}

pub(super) fn parse_change_set_name(name: &str) -> Result<String, String> {
    let valid = name.len() <= 128
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if valid {
        Ok(name.to_owned())
    } else {
        Err(
            "a change set name starts with a letter and holds up to 128 letters, digits or hyphens"
                .into(),
        )
    }
}

pub(super) fn parse_stage(name: &str) -> Result<StageName, String> {
    name.parse()
        .map_err(|e: mgrid_contract::InvalidStageName| format!("a stage name is {}", e.rule))
}

/// `mgrid logs`' sources as the command line names and explains them.
impl ValueEnum for LogSource {
    fn value_variants<'a>() -> &'a [LogSource] {
        &LogSource::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.as_str()).help(self.description()))
    }
}

/// A payment provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProviderArg {
    Stripe,
    Paypal,
}

impl From<ProviderArg> for mgrid_contract::Provider {
    fn from(provider: ProviderArg) -> Self {
        match provider {
            ProviderArg::Stripe => mgrid_contract::Provider::Stripe,
            ProviderArg::Paypal => mgrid_contract::Provider::Paypal,
        }
    }
}
