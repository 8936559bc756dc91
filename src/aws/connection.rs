//! The AWS connection: the SDK configuration a stage's account and region need, a client per
//! service from it, every call counted, and who the credentials are.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use aws_config::retry::RetryConfig;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    AfterDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

use super::errors;
use crate::failure::{Failure, FailureKind};

/// How long one request attempt may take, sending included: the longest answer mgrid waits for
/// on purpose is an SQS long poll (20 s), so a minute means the service or the network is stuck.
pub const ATTEMPT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// An upload's attempt (the stage's function artifact, tens of megabytes) may take longer.
const UPLOAD_ATTEMPT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

/// The SDK's own connect timeout (3.1 s, as `BehaviorVersion::latest()` sets it) and `attempt`.
fn timeouts(attempt: std::time::Duration) -> aws_config::timeout::TimeoutConfig {
    aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(std::time::Duration::from_millis(3_100))
        .operation_attempt_timeout(attempt)
        .build()
}

/// Counts every request attempt (retries included) of every client built from one [`Aws`], by
/// operation, and the bytes of the request and response bodies.
#[derive(Debug, Clone, Default)]
struct CallCounter(Arc<Traffic>);

#[derive(Debug, Default)]
struct Traffic {
    calls: AtomicUsize,
    bytes_sent: AtomicU64,
    bytes_received: AtomicU64,
    by_operation: Mutex<BTreeMap<String, usize>>,
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "mgrid-call-counter"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let number = self.0.calls.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(metadata) = cfg.load::<aws_smithy_runtime_api::client::orchestrator::Metadata>()
        {
            tracing::debug!(
                "aws call {number}: {}:{}",
                metadata.service(),
                metadata.name()
            );
            if let Ok(mut counts) = self.0.by_operation.lock() {
                *counts.entry(metadata.name().to_owned()).or_default() += 1;
            }
        }
        Ok(())
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let sent = context.request().body().bytes().map_or(0, <[u8]>::len);
        self.0.bytes_sent.fetch_add(sent as u64, Ordering::Relaxed);
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // Streaming bodies (S3 objects) are not read yet here and count as nothing.
        let received = context.response().body().bytes().map_or(0, <[u8]>::len);
        self.0
            .bytes_received
            .fetch_add(received as u64, Ordering::Relaxed);
        Ok(())
    }
}

/// A configured connection to one account and region.
#[derive(Clone)]
pub struct Aws {
    config: aws_config::SdkConfig,
    counter: CallCounter,
    pub region: String,
    /// Set when an endpoint override (an emulator) is in use.
    pub endpoint: Option<String>,
}

/// A named profile must be defined somewhere: the SDK would otherwise fail later, at the first
/// call, with a message about credentials.
fn require_profile(name: &str) -> Result<(), Failure> {
    // Credentials in the environment come first in the SDK's chain: a profile that names
    // nothing then costs nothing, and refusing it would break a working setup.
    if std::env::var_os("AWS_ACCESS_KEY_ID").is_some() {
        return Ok(());
    }
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    let file = |variable: &str, default: &str| {
        std::env::var_os(variable)
            .map(std::path::PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(".aws").join(default)))
    };
    let config = file("AWS_CONFIG_FILE", "config");
    let credentials = file("AWS_SHARED_CREDENTIALS_FILE", "credentials");
    let read = |path: &Option<std::path::PathBuf>| {
        path.as_ref()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .unwrap_or_default()
    };
    if profile_is_defined(&read(&config), &read(&credentials), name) {
        return Ok(());
    }
    let shown = |path: Option<std::path::PathBuf>| {
        path.map_or_else(|| "(no HOME)".to_owned(), |p| p.display().to_string())
    };
    Err(Failure::new(
        FailureKind::Credentials,
        format!(
            "the AWS profile {name:?} is not defined in {} or {}",
            shown(config),
            shown(credentials)
        ),
    )
    .next("`aws configure list-profiles` lists the defined ones; pass one with --profile or AWS_PROFILE"))
}

/// Whether `name` has a section: `[profile name]` (or `[name]`) in the config file, `[name]` in
/// the credentials file.
fn profile_is_defined(config: &str, credentials: &str, name: &str) -> bool {
    let sections = |text: &str| -> Vec<String> {
        text.lines()
            .filter_map(|line| {
                let line = line.trim();
                let inner = line.strip_prefix('[')?.split(']').next()?;
                Some(inner.trim().to_owned())
            })
            .collect()
    };
    let in_config = sections(config).iter().any(|section| {
        let section = section.split_whitespace().collect::<Vec<_>>();
        matches!(section.as_slice(), ["profile", n] if *n == name) || section.as_slice() == [name]
    });
    in_config || sections(credentials).iter().any(|section| section == name)
}

/// Where an AWS connection goes, as the operator chose it (each `None` leaves the choice to the
/// SDK's own chain: environment, profile).
#[derive(Debug, Clone, Copy, Default)]
pub struct Connection<'a> {
    pub region: Option<&'a str>,
    pub profile: Option<&'a str>,
    /// Every request to this endpoint instead (an emulator, for instance).
    pub endpoint_url: Option<&'a str>,
}

impl Aws {
    /// Builds the SDK configuration: `region` when mgrid resolved one (flag, env, mgrid.toml),
    /// else the profile's; the endpoint override when given; standard retries with backoff; and
    /// [`ATTEMPT_TIMEOUT`] on every attempt, so a request AWS never answers is retried and then
    /// reported instead of holding the command forever.
    pub async fn connect(to: Connection<'_>) -> Result<Aws, Failure> {
        let Connection {
            region,
            profile,
            endpoint_url,
        } = to;
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .http_client(mgrid_pipeline::aws::https_client())
            .retry_config(RetryConfig::standard().with_max_attempts(5))
            .timeout_config(timeouts(ATTEMPT_TIMEOUT));
        if let Some(profile) = profile {
            require_profile(profile)?;
            loader = loader.profile_name(profile);
        }
        if let Some(region) = region {
            loader = loader.region(aws_config::Region::new(region.to_owned()));
        }
        if let Some(endpoint) = endpoint_url {
            loader = loader.endpoint_url(endpoint);
        }
        let config = loader.load().await;
        let region = config.region().map(|r| r.to_string()).ok_or_else(|| {
            Failure::new(
                FailureKind::Usage,
                "no AWS region: none given and the AWS profile sets none",
            )
            .next("pass --region, set AWS_REGION, or set region for the stage in mgrid.toml")
        })?;
        Ok(Aws {
            config,
            counter: CallCounter::default(),
            region,
            endpoint: endpoint_url.map(str::to_owned),
        })
    }

    /// How many requests the clients of this connection have sent so far.
    pub fn calls(&self) -> usize {
        self.counter.0.calls.load(Ordering::Relaxed)
    }

    /// How many requests of one operation (`GetMetricData`) the clients have sent so far.
    pub fn calls_of(&self, operation: &str) -> usize {
        self.counter
            .0
            .by_operation
            .lock()
            .map(|counts| counts.get(operation).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    /// Request and response body bytes so far (streamed bodies excepted).
    pub fn bytes(&self) -> (u64, u64) {
        (
            self.counter.0.bytes_sent.load(Ordering::Relaxed),
            self.counter.0.bytes_received.load(Ordering::Relaxed),
        )
    }

    pub fn cloudformation(&self) -> aws_sdk_cloudformation::Client {
        let config = aws_sdk_cloudformation::config::Builder::from(&self.config)
            .interceptor(self.counter.clone())
            .build();
        aws_sdk_cloudformation::Client::from_conf(config)
    }

    pub fn s3(&self) -> aws_sdk_s3::Client {
        // Path-style addressing: emulators need it, and it works against S3 for our bucket names.
        let config = aws_sdk_s3::config::Builder::from(&self.config)
            .force_path_style(self.endpoint.is_some())
            .timeout_config(timeouts(UPLOAD_ATTEMPT_TIMEOUT))
            .interceptor(self.counter.clone())
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    pub fn dynamodb_streams(&self) -> aws_sdk_dynamodbstreams::Client {
        let config = aws_sdk_dynamodbstreams::config::Builder::from(&self.config)
            .interceptor(self.counter.clone())
            .build();
        aws_sdk_dynamodbstreams::Client::from_conf(config)
    }

    /// A topic to publish to, as the notifier publishes (SNS requests are not counted).
    pub fn sns_topic(&self, topic_arn: &str) -> mgrid_pipeline::aws::SnsTopic {
        mgrid_pipeline::aws::SnsTopic::from_config(&self.config, topic_arn)
    }

    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        let config = aws_sdk_dynamodb::config::Builder::from(&self.config)
            .interceptor(self.counter.clone())
            .build();
        aws_sdk_dynamodb::Client::from_conf(config)
    }

    pub fn sts(&self) -> aws_sdk_sts::Client {
        let config = aws_sdk_sts::config::Builder::from(&self.config)
            .interceptor(self.counter.clone())
            .build();
        aws_sdk_sts::Client::from_conf(config)
    }

    pub fn ssm(&self) -> aws_sdk_ssm::Client {
        let config = aws_sdk_ssm::config::Builder::from(&self.config)
            .interceptor(self.counter.clone())
            .build();
        aws_sdk_ssm::Client::from_conf(config)
    }

    pub fn cloudwatch(&self) -> aws_sdk_cloudwatch::Client {
        let config = aws_sdk_cloudwatch::config::Builder::from(&self.config)
            .interceptor(self.counter.clone())
            .build();
        aws_sdk_cloudwatch::Client::from_conf(config)
    }

    /// A CloudWatch client for a live view: one retry, so a failing refresh shows its error
    /// within seconds instead of backing off for most of a minute.
    pub fn cloudwatch_live(&self) -> aws_sdk_cloudwatch::Client {
        let config = aws_sdk_cloudwatch::config::Builder::from(&self.config)
            .retry_config(RetryConfig::standard().with_max_attempts(2))
            .interceptor(self.counter.clone())
            .build();
        aws_sdk_cloudwatch::Client::from_conf(config)
    }

    pub fn codedeploy(&self) -> aws_sdk_codedeploy::Client {
        let config = aws_sdk_codedeploy::config::Builder::from(&self.config)
            .interceptor(self.counter.clone())
            .build();
        aws_sdk_codedeploy::Client::from_conf(config)
    }

    pub fn apigateway(&self) -> aws_sdk_apigateway::Client {
        let config = aws_sdk_apigateway::config::Builder::from(&self.config)
            .interceptor(self.counter.clone())
            .build();
        aws_sdk_apigateway::Client::from_conf(config)
    }

    pub fn lambda(&self) -> aws_sdk_lambda::Client {
        let config = aws_sdk_lambda::config::Builder::from(&self.config)
            .interceptor(self.counter.clone())
            .build();
        aws_sdk_lambda::Client::from_conf(config)
    }

    pub fn logs(&self) -> aws_sdk_cloudwatchlogs::Client {
        let config = aws_sdk_cloudwatchlogs::config::Builder::from(&self.config)
            .interceptor(self.counter.clone())
            .build();
        aws_sdk_cloudwatchlogs::Client::from_conf(config)
    }

    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        let config = aws_sdk_sqs::config::Builder::from(&self.config)
            .interceptor(self.counter.clone())
            .build();
        aws_sdk_sqs::Client::from_conf(config)
    }

    /// The account the credentials belong to (STS GetCallerIdentity).
    pub async fn account(&self) -> Result<Identity, Failure> {
        let output =
            self.sts().get_caller_identity().send().await.map_err(|e| {
                errors::failure("sts:GetCallerIdentity", "your AWS credentials", &e)
            })?;
        Ok(Identity {
            account: output.account().unwrap_or_default().to_owned(),
            arn: output.arn().unwrap_or_default().to_owned(),
        })
    }

    /// The S3 URL suffix of the region's partition.
    pub fn url_suffix(&self) -> &'static str {
        if self.region.starts_with("cn-") {
            "amazonaws.com.cn"
        } else {
            "amazonaws.com"
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct Identity {
    pub account: String,
    pub arn: String,
}

impl Identity {
    /// The partition of the credentials' ARN (`aws`, `aws-cn`, `aws-us-gov`), `aws` when the ARN
    /// does not say.
    pub fn partition(&self) -> &str {
        self.arn
            .strip_prefix("arn:")
            .and_then(|rest| rest.split(':').next())
            .filter(|partition| !partition.is_empty())
            .unwrap_or("aws")
    }
}

#[cfg(test)]
mod tests {
    use super::{Identity, profile_is_defined};

    #[test]
    fn a_profile_is_defined_by_its_section_in_either_file() {
        let config =
            "[default]\nregion = eu-west-1\n\n[profile ops]\nsso_session = x\n[sso-session x]\n";
        let credentials = "[ci]\naws_access_key_id = EXAMPLE\n";
        assert!(profile_is_defined(config, credentials, "ops"));
        assert!(profile_is_defined(config, credentials, "default"));
        assert!(profile_is_defined(config, credentials, "ci"));
        assert!(!profile_is_defined(config, credentials, "nosuch"));
        assert!(
            !profile_is_defined(config, credentials, "x"),
            "an sso-session is no profile"
        );
        assert!(!profile_is_defined("", "", "ops"));
    }

    #[test]
    fn the_partition_comes_from_the_callers_arn() {
        let identity = |arn: &str| Identity {
            account: "1".into(),
            arn: arn.into(),
        };
        assert_eq!(identity("arn:aws-cn:iam::1:user/ops").partition(), "aws-cn");
        assert_eq!(
            identity("arn:aws-us-gov:sts::1:assumed-role/r/s").partition(),
            "aws-us-gov"
        );
        assert_eq!(identity("arn:aws:iam::1:root").partition(), "aws");
        assert_eq!(identity("").partition(), "aws");
    }
}
