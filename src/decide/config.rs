//! The optional configuration file, `mgrid.toml`: per-stage settings under `[stages.<name>]`.
//! Every value is checked while it is read, so a bad file is refused with the file, the line and
//! the rule it broke, before any command starts. Pure: `config_file` reads the file, this
//! decides what it says.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use mgrid_contract::StageName;
use serde::{Deserialize, Serialize};

use crate::failure::{Failure, FailureKind};

pub const DEFAULT_CONFIG_FILE: &str = "mgrid.toml";

/// The stage `mgrid dev` runs on this machine, with no AWS account: its name is reserved, and it
/// takes no settings here.
pub const LOCAL_STAGE: &str = "local";

/// The configuration file as read, and where it came from.
#[derive(Debug, Default)]
pub struct Config {
    /// None when there is no file (every setting takes its default).
    pub path: Option<PathBuf>,
    pub file: ConfigFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default)]
    pub stages: BTreeMap<StageName, StageConfig>,
}

/// What mgrid.toml may say about one stage. Absent settings take the template's defaults.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct StageConfig {
    /// AWS region the stage lives in.
    pub region: Option<Region>,
    /// The AWS profile (from ~/.aws/config) the stage's account is reached with.
    pub profile: Option<ProfileName>,
    /// The AWS account the stage must be deployed to; deploy refuses any other.
    pub account_id: Option<AccountId>,
    /// Protected stages need extra confirmation for destructive changes (default: only "prod").
    pub protected: Option<bool>,
    /// The instruction set the stage's functions run on (default arm64: Graviton costs about
    /// 20% less per GB-second, and mgrid carries a bootstrap for each).
    pub architecture: Option<Architecture>,
    /// How a new processor version gets queue traffic: CodeDeploy shifts it by this strategy
    /// and rolls it back when a guard alarm fires (default: canary10-5m on a protected stage,
    /// all-at-once elsewhere).
    pub deploy_strategy: Option<crate::decide::shift::DeployStrategy>,
    /// The stage alarms that stop a processor deploy and roll it back (default:
    /// version-failures, processor-throttles; [] for none).
    #[serde(default, deserialize_with = "unique_alarms")]
    pub deploy_alarms: Option<Vec<crate::decide::shift::GuardAlarm>>,
    pub processor_memory_mb: Option<ProcessorMemory>,
    pub processor_max_concurrency: Option<ProcessorMaxConcurrency>,
    pub provisioned_concurrency: Option<ProvisionedConcurrency>,
    /// Requests per source IP per 5 minutes before WAF blocks.
    pub waf_rate_limit: Option<WafRateLimit>,
    pub log_retention_days: Option<LogRetentionDays>,
    pub alarm_email: Option<AlarmEmail>,
    pub custom_domain: Option<CustomDomain>,
    #[serde(default)]
    pub tags: Tags,
}

impl Config {
    pub fn parse(text: &str) -> Result<ConfigFile, ConfigError> {
        let file: ConfigFile =
            toml::from_str(text).map_err(|e| ConfigError::from_toml(text, &e))?;
        if file
            .stages
            .keys()
            .any(|stage| stage.as_str() == crate::decide::config::LOCAL_STAGE)
        {
            let (index, source_line) = text
                .lines()
                .enumerate()
                .find(|(_, line)| line.contains("local"))
                .unwrap_or((0, ""));
            return Err(ConfigError {
                line: index + 1,
                column: 1,
                message: "`local` is reserved for the local stage, which `mgrid dev` runs and which takes no settings here; give this stage another name".to_owned(),
                source_line: source_line.to_owned(),
            });
        }
        Ok(file)
    }

    pub fn stage(&self, stage: &StageName) -> Option<&StageConfig> {
        self.file.stages.get(stage)
    }
}

/// Whether a stage the file says nothing about is protected: only `prod` is.
pub fn protected_by_default(stage: &StageName) -> bool {
    stage.as_str() == "prod"
}

/// A configuration error located in the file.
#[derive(Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub line: usize,
    pub column: usize,
    pub message: String,
    /// The offending line, as written.
    pub source_line: String,
}

impl ConfigError {
    fn from_toml(text: &str, error: &toml::de::Error) -> Self {
        let offset = error.span().map_or(0, |span| span.start);
        let before = &text[..offset.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        let source_line = text[line_start..].lines().next().unwrap_or("").to_owned();
        ConfigError {
            line,
            column,
            message: error.message().trim().to_owned(),
            source_line,
        }
    }

    pub fn into_failure(self, path: &Path) -> Failure {
        let marker = format!("{:>width$}^", "", width = self.column.saturating_sub(1));
        Failure::new(
            FailureKind::Config,
            format!(
                "{}:{}:{}: {}\n   | {}\n   | {}",
                path.display(),
                self.line,
                self.column,
                self.message,
                self.source_line,
                marker
            ),
        )
        .next(format!(
            "fix line {} of {}; `mgrid validate` checks the file without deploying",
            self.line,
            path.display()
        ))
    }
}

/// Declares a setting that is a number within bounds, checked while the file is read.
macro_rules! bounded_number {
    ($(#[$doc:meta])* $name:ident: $ty:ty, $min:expr, $max:expr, $what:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        #[cfg_attr(test, derive(schemars::JsonSchema))]
        #[serde(try_from = "i64", into = "i64")]
        pub struct $name(pub $ty);

        impl TryFrom<i64> for $name {
            type Error = String;
            fn try_from(value: i64) -> Result<Self, String> {
                if ($min as i64..=$max as i64).contains(&value) {
                    Ok($name(value as $ty))
                } else {
                    Err(format!("{} must be between {} and {}, not {}", $what, $min, $max, value))
                }
            }
        }

        impl From<$name> for i64 {
            fn from(value: $name) -> i64 {
                value.0 as i64
            }
        }
    };
}

bounded_number!(
    /// Processor memory in MB.
    ProcessorMemory: u32, 128, 10240, "processor_memory_mb (MB)"
);
bounded_number!(
    /// Concurrent processor invocations the queue's event source may start.
    ProcessorMaxConcurrency: u32, 2, 1000, "processor_max_concurrency"
);
bounded_number!(
    /// WAF limit per source IP per 5 minutes.
    WafRateLimit: u64, 10, 2_000_000_000u64, "waf_rate_limit (requests per IP per 5 minutes)"
);

/// The instruction set of a stage's functions, as Lambda names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub enum Architecture {
    #[serde(rename = "arm64")]
    Arm64,
    #[serde(rename = "x86_64")]
    X86_64,
}

impl From<Architecture> for mgrid_artifact::Arch {
    fn from(architecture: Architecture) -> mgrid_artifact::Arch {
        match architecture {
            Architecture::Arm64 => mgrid_artifact::Arch::Arm64,
            Architecture::X86_64 => mgrid_artifact::Arch::X86_64,
        }
    }
}

/// CloudWatch Logs accepts only these retention periods.
pub const LOG_RETENTION_DAYS: [u32; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(try_from = "i64", into = "i64")]
pub struct LogRetentionDays(pub u32);

impl TryFrom<i64> for LogRetentionDays {
    type Error = String;
    fn try_from(value: i64) -> Result<Self, String> {
        LOG_RETENTION_DAYS
            .iter()
            .find(|&&days| i64::from(days) == value)
            .map(|&days| LogRetentionDays(days))
            .ok_or_else(|| {
                let allowed: Vec<String> = LOG_RETENTION_DAYS.iter().map(u32::to_string).collect();
                format!(
                    "log_retention_days must be one of CloudWatch Logs' periods: {}; not {value}",
                    allowed.join(", ")
                )
            })
    }
}

impl From<LogRetentionDays> for i64 {
    fn from(value: LogRetentionDays) -> i64 {
        i64::from(value.0)
    }
}

/// Provisioned concurrency for the processor, scaled between `min` and `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(try_from = "RawProvisionedConcurrency")]
pub struct ProvisionedConcurrency {
    pub min: u32,
    pub max: u32,
}

#[derive(Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
struct RawProvisionedConcurrency {
    min: i64,
    max: i64,
}

impl TryFrom<RawProvisionedConcurrency> for ProvisionedConcurrency {
    type Error = String;
    fn try_from(raw: RawProvisionedConcurrency) -> Result<Self, String> {
        if raw.min < 1 || raw.max > 10_000 || raw.min > raw.max {
            return Err(format!(
                "provisioned_concurrency needs 1 <= min <= max <= 10000 (got min = {}, max = {}); \
                 remove the setting to turn provisioned concurrency off",
                raw.min, raw.max
            ));
        }
        Ok(ProvisionedConcurrency {
            min: raw.min as u32,
            max: raw.max as u32,
        })
    }
}

/// An AWS region name such as `eu-west-1` or `us-gov-west-1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(try_from = "String", into = "String")]
pub struct Region(pub String);

impl TryFrom<String> for Region {
    type Error = String;
    fn try_from(name: String) -> Result<Self, String> {
        if is_region_name(&name) {
            Ok(Region(name))
        } else {
            Err(format!(
                "region {name:?} is not an AWS region name (like \"eu-west-1\")"
            ))
        }
    }
}

/// A profile name as ~/.aws/config spells it: one word, no spaces or brackets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(try_from = "String", into = "String")]
pub struct ProfileName(pub String);

impl TryFrom<String> for ProfileName {
    type Error = String;
    fn try_from(name: String) -> Result<Self, String> {
        let fits = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.@+=".contains(c));
        if fits {
            Ok(ProfileName(name))
        } else {
            Err(format!(
                "profile {name:?} is not a profile name: 1 to 64 letters, digits and -_.@+="
            ))
        }
    }
}

impl From<ProfileName> for String {
    fn from(name: ProfileName) -> String {
        name.0
    }
}

impl From<Region> for String {
    fn from(region: Region) -> String {
        region.0
    }
}

pub fn is_region_name(name: &str) -> bool {
    let parts: Vec<&str> = name.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

/// A 12-digit AWS account id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(try_from = "AccountIdInput", into = "String")]
pub struct AccountId(pub String);

/// Account ids are written as strings: as a TOML integer, a leading zero would be lost.
#[derive(Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(untagged)]
enum AccountIdInput {
    Text(String),
    Number(i64),
}

impl TryFrom<AccountIdInput> for AccountId {
    type Error = String;
    fn try_from(input: AccountIdInput) -> Result<Self, String> {
        let id = match input {
            AccountIdInput::Text(id) => id,
            AccountIdInput::Number(n) => {
                return Err(format!(
                    "account_id must be quoted, as a string (account_id = \"{n:012}\"): as a number it loses leading zeros"
                ));
            }
        };
        if id.len() == 12 && id.chars().all(|c| c.is_ascii_digit()) {
            Ok(AccountId(id))
        } else {
            Err(format!(
                "account_id must be the 12-digit AWS account id, as a string (\"123456789012\"); not {id:?}"
            ))
        }
    }
}

impl From<AccountId> for String {
    fn from(id: AccountId) -> String {
        id.0
    }
}

/// The address alarms are mailed to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(try_from = "String", into = "String")]
pub struct AlarmEmail(pub String);

impl TryFrom<String> for AlarmEmail {
    type Error = String;
    fn try_from(address: String) -> Result<Self, String> {
        let plausible = match address.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !address.chars().any(char::is_whitespace)
                    && !domain.contains('@')
            }
            None => false,
        };
        if plausible {
            Ok(AlarmEmail(address))
        } else {
            Err(format!(
                "alarm_email {address:?} is not an e-mail address (like \"ops@example.com\")"
            ))
        }
    }
}

impl From<AlarmEmail> for String {
    fn from(address: AlarmEmail) -> String {
        address.0
    }
}

/// A custom domain for the webhook API. All three parts are required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(try_from = "RawCustomDomain")]
pub struct CustomDomain {
    pub domain_name: String,
    pub hosted_zone_id: String,
    pub certificate_arn: String,
}

#[derive(Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
struct RawCustomDomain {
    domain_name: String,
    hosted_zone_id: String,
    certificate_arn: String,
}

impl TryFrom<RawCustomDomain> for CustomDomain {
    type Error = String;
    fn try_from(raw: RawCustomDomain) -> Result<Self, String> {
        let labels_ok = raw.domain_name.len() <= 253
            && raw.domain_name.split('.').count() >= 2
            && raw.domain_name.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            });
        if !labels_ok {
            return Err(format!(
                "custom_domain.domain_name {:?} is not a lowercase DNS name (like \"hooks.example.com\")",
                raw.domain_name
            ));
        }
        let zone_ok = raw.hosted_zone_id.starts_with('Z')
            && raw.hosted_zone_id.len() <= 32
            && raw
                .hosted_zone_id
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        if !zone_ok {
            return Err(format!(
                "custom_domain.hosted_zone_id {:?} is not a Route 53 hosted zone id (like \"Z0123456789ABCDEFGHIJ\")",
                raw.hosted_zone_id
            ));
        }
        if certificate_region(&raw.certificate_arn).is_none() {
            return Err(format!(
                "custom_domain.certificate_arn {:?} is not an ACM certificate ARN \
                 (arn:aws:acm:<region>:<account>:certificate/<id>)",
                raw.certificate_arn
            ));
        }
        Ok(CustomDomain {
            domain_name: raw.domain_name,
            hosted_zone_id: raw.hosted_zone_id,
            certificate_arn: raw.certificate_arn,
        })
    }
}

/// The region of an ACM certificate ARN, if the ARN is one.
pub fn certificate_region(arn: &str) -> Option<&str> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _partition, "acm", region, _account, resource]
            if is_region_name(region) && resource.starts_with("certificate/") =>
        {
            Some(region)
        }
        _ => None,
    }
}

/// `deploy_alarms`, each named once: a repeat is a typo for another alarm, more often than not.
fn unique_alarms<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Vec<crate::decide::shift::GuardAlarm>>, D::Error> {
    let alarms = Vec::<crate::decide::shift::GuardAlarm>::deserialize(deserializer)?;
    for (i, alarm) in alarms.iter().enumerate() {
        if alarms[..i].contains(alarm) {
            return Err(serde::de::Error::custom(format!(
                "{} is named twice: name each guard once",
                alarm.name()
            )));
        }
    }
    Ok(Some(alarms))
}

/// Stack tags (CloudFormation passes them to every resource that takes tags).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(try_from = "BTreeMap<String, String>")]
pub struct Tags(pub BTreeMap<String, String>);

impl TryFrom<BTreeMap<String, String>> for Tags {
    type Error = String;
    fn try_from(tags: BTreeMap<String, String>) -> Result<Self, String> {
        // mgrid adds two tags of its own; CloudFormation takes 50 per stack.
        if tags.len() > 48 {
            return Err(format!("at most 48 tags, not {}", tags.len()));
        }
        for (key, value) in &tags {
            if key.is_empty() || key.chars().count() > 128 {
                return Err(format!("tag key {key:?} must be 1 to 128 characters"));
            }
            if key.to_ascii_lowercase().starts_with("aws:") {
                return Err(format!(
                    "tag key {key:?} may not start with \"aws:\" (reserved by AWS)"
                ));
            }
            if value.chars().count() > 256 {
                return Err(format!(
                    "the value of tag {key:?} is longer than 256 characters"
                ));
            }
            // What every AWS service takes in a tag: letters, digits, spaces and + - = . _ : / @
            // (no control character, no comma).
            let taken = |c: char| c.is_alphanumeric() || " +-=._:/@".contains(c);
            if !key.chars().all(taken) || !value.chars().all(taken) {
                return Err(format!(
                    "tag {key:?}: keys and values take letters, digits, spaces and + - = . _ : / @ only"
                ));
            }
        }
        Ok(Tags(tags))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(text: &str) -> ConfigError {
        Config::parse(text).unwrap_err()
    }

    #[test]
    fn an_empty_file_configures_nothing() {
        assert!(Config::parse("").unwrap().stages.is_empty());
    }

    #[test]
    fn reads_every_setting_of_a_stage() {
        let file = Config::parse(
            r#"
            [stages.prod]
            region = "eu-west-1"
            account_id = "123456789012"
            protected = true
            processor_memory_mb = 2048
            processor_max_concurrency = 50
            provisioned_concurrency = { min = 5, max = 50 }
            waf_rate_limit = 50000
            log_retention_days = 90
            alarm_email = "ops@example.com"
            custom_domain = { domain_name = "hooks.example.com", hosted_zone_id = "Z0123456789ABCDEFGHIJ", certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/abc" }
            tags = { team = "payments" }
            "#,
        )
        .unwrap();
        let prod = &file.stages[&"prod".parse().unwrap()];
        assert_eq!(prod.region, Some(Region("eu-west-1".into())));
        assert_eq!(prod.processor_memory_mb, Some(ProcessorMemory(2048)));
        assert_eq!(
            prod.provisioned_concurrency,
            Some(ProvisionedConcurrency { min: 5, max: 50 })
        );
        assert_eq!(prod.log_retention_days, Some(LogRetentionDays(90)));
        assert_eq!(prod.tags.0["team"], "payments");
    }

    #[test]
    fn an_out_of_range_value_is_reported_at_its_line() {
        let error = error_of("[stages.dev]\nregion = \"us-east-1\"\nprocessor_memory_mb = 64\n");
        assert_eq!(error.line, 3);
        assert_eq!(error.column, 23);
        assert!(
            error.message.contains("between 128 and 10240"),
            "{}",
            error.message
        );
        assert_eq!(error.source_line, "processor_memory_mb = 64");
    }

    #[test]
    fn a_misspelt_setting_names_the_ones_that_exist() {
        let error = error_of("[stages.dev]\nprocesor_memory_mb = 1024\n");
        assert_eq!(error.line, 2);
        assert!(
            error.message.contains("unknown field `procesor_memory_mb`"),
            "{}",
            error.message
        );
        assert!(
            error.message.contains("processor_memory_mb"),
            "{}",
            error.message
        );
    }

    #[test]
    fn the_local_stage_name_is_reserved() {
        let error = error_of("# mine\n[stages.local]\nregion = \"us-east-1\"\n");
        assert_eq!(error.line, 2);
        assert!(error.message.contains("reserved"), "{}", error.message);
    }

    #[test]
    fn an_invalid_stage_name_is_refused_with_the_rule() {
        let error = error_of("[stages.Prod]\nregion = \"us-east-1\"\n");
        assert_eq!(error.line, 1);
        assert!(
            error.message.contains("lowercase letter"),
            "{}",
            error.message
        );
    }

    #[test]
    fn refuses_values_outside_each_settings_rule() {
        let cases = [
            ("region = \"Europe\"", "not an AWS region"),
            ("account_id = 123456789012", "as a string"),
            ("account_id = \"1234\"", "12-digit"),
            ("log_retention_days = 31", "one of CloudWatch Logs' periods"),
            ("waf_rate_limit = 5", "between 10 and"),
            ("processor_max_concurrency = 1", "between 2 and 1000"),
            (
                "provisioned_concurrency = { min = 10, max = 5 }",
                "min <= max",
            ),
            ("provisioned_concurrency = { min = 0, max = 5 }", "1 <= min"),
            ("alarm_email = \"ops\"", "not an e-mail address"),
            ("tags = { \"aws:owner\" = \"me\" }", "reserved by AWS"),
            ("tags = { team = \"a,b\" }", "take letters, digits"),
            ("tags = { team = \"a\\u0000b\" }", "take letters, digits"),
            (
                "deploy_alarms = [\"dlq-not-empty\", \"dlq-not-empty\"]",
                "named twice",
            ),
            (
                "custom_domain = { domain_name = \"hooks.example.com\", hosted_zone_id = \"Z1\" }",
                "missing field `certificate_arn`",
            ),
            (
                "custom_domain = { domain_name = \"Hooks\", hosted_zone_id = \"Z1\", certificate_arn = \"arn:aws:acm:us-east-1:1:certificate/x\" }",
                "lowercase DNS name",
            ),
            (
                "custom_domain = { domain_name = \"hooks.example.com\", hosted_zone_id = \"Z1\", certificate_arn = \"arn:aws:iam::1:role/x\" }",
                "not an ACM certificate ARN",
            ),
            ("protected = \"yes\"", "invalid type"),
        ];
        for (line, expected) in cases {
            let error = error_of(&format!("[stages.dev]\n{line}\n"));
            assert!(
                error.message.contains(expected),
                "{line}: expected {expected:?} in {:?}",
                error.message
            );
            assert_eq!(error.line, 2, "{line}");
        }
    }

    #[test]
    fn a_syntax_error_is_located() {
        let error = error_of("[stages.dev]\nregion = \"us-east-1\n");
        assert_eq!(error.line, 2);
    }

    #[test]
    fn region_names_follow_aws_shape() {
        for good in [
            "us-east-1",
            "eu-central-2",
            "ap-southeast-4",
            "us-gov-west-1",
            "cn-north-1",
        ] {
            assert!(is_region_name(good), "{good}");
        }
        for bad in ["", "us-east", "useast1", "US-EAST-1", "us--1", "u-east-1"] {
            assert!(!is_region_name(bad), "{bad}");
        }
    }
}
