//! The per-stage naming contract: stage names, the stack name, and the SSM parameters under
//! `/marketgrid/<stage>/` through which operator commands find a stage's resources.

use std::fmt;
use std::str::FromStr;

/// The rule a stage name must follow, as a user reads it.
pub const STAGE_NAME_RULE: &str = "a lowercase letter followed by up to 15 lowercase letters, digits or hyphens (^[a-z][a-z0-9-]{0,15}$)";

/// A validated stage name (`dev`, `staging`, `prod`, `local`, …).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StageName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid stage name {name:?}: a stage name is {rule}")]
pub struct InvalidStageName {
    pub name: String,
    pub rule: &'static str,
}

/// The name of one of a stage's resources (`marketgrid-<stage>-<suffix>`: functions, alarms, log
/// groups, the CodeDeploy application), as the template names them.
pub fn resource_name(stage: &str, suffix: &str) -> String {
    format!("{}{suffix}", resource_prefix(stage))
}

/// The stage's own name for the things that are the stage as a whole (its stack, its CodeDeploy
/// application): `marketgrid-<stage>`.
pub fn stage_resource(stage: &str) -> String {
    format!("marketgrid-{stage}")
}

/// What every one of a stage's resource names starts with (`marketgrid-<stage>-`).
pub fn resource_prefix(stage: &str) -> String {
    format!("{}-", stage_resource(stage))
}

impl StageName {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The CloudFormation stack that holds the stage.
    pub fn stack_name(&self) -> String {
        stage_resource(&self.0)
    }

    /// The SSM path under which the stage publishes its resource names and key rings.
    pub fn parameter_prefix(&self) -> String {
        format!("/marketgrid/{}/", self.0)
    }

    /// The full SSM name of one of the stage's resource parameters.
    pub fn parameter(&self, parameter: StageParameter) -> String {
        format!("{}{}", self.parameter_prefix(), parameter.leaf())
    }

    /// The SSM name of a provider's API key ring (SecureString).
    pub fn api_key_ring(&self, provider: crate::Provider) -> String {
        format!("{}api-keys/{provider}", self.parameter_prefix())
    }

    /// The SSM name of a provider's signing secrets (Stripe endpoint secrets, PayPal webhook
    /// ids), as a key ring (SecureString).
    pub fn signing_secret_ring(&self, provider: crate::Provider) -> String {
        format!("{}signing-secrets/{provider}", self.parameter_prefix())
    }

    /// The SSM name of the stage's credentials for a provider's own API (a Stripe restricted
    /// key; PayPal's REST client id and secret), as a key ring (SecureString). Only `mgrid`
    /// reads it: no function's role may.
    pub fn provider_token_ring(&self, provider: crate::Provider) -> String {
        format!("{}provider-tokens/{provider}", self.parameter_prefix())
    }

    /// The stage a stack name belongs to, if the stack is a MarketGrid stage.
    pub fn from_stack_name(stack_name: &str) -> Option<StageName> {
        stack_name.strip_prefix("marketgrid-")?.parse().ok()
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for StageName {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "StageName".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^[a-z][a-z0-9-]{0,15}$",
            "description": "A stage name: a lowercase letter followed by up to 15 lowercase letters, digits or hyphens."
        })
    }
}

impl FromStr for StageName {
    type Err = InvalidStageName;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        let mut chars = name.chars();
        let valid = matches!(chars.next(), Some('a'..='z'))
            && name.len() <= 16
            && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '-'));
        if valid {
            Ok(StageName(name.to_owned()))
        } else {
            Err(InvalidStageName {
                name: name.to_owned(),
                rule: STAGE_NAME_RULE,
            })
        }
    }
}

impl fmt::Display for StageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for StageName {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for StageName {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

/// The resource parameters every deployed stage publishes under its prefix (written by the
/// stack, read by operator commands).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StageParameter {
    QueueUrl,
    DlqUrl,
    PipeDlqUrl,
    TableName,
    ArchiveBucket,
    VendorTopicArn,
    OpsTopicArn,
    ApiUrl,
    ApiName,
    AuthorizerFunction,
    ProcessorFunction,
    ArchiverFunction,
    NotifierFunction,
    PipeNames,
    DashboardName,
    KmsKeyArn,
    ArtifactSha256,
}

impl StageParameter {
    pub const ALL: [StageParameter; 17] = [
        StageParameter::QueueUrl,
        StageParameter::DlqUrl,
        StageParameter::PipeDlqUrl,
        StageParameter::TableName,
        StageParameter::ArchiveBucket,
        StageParameter::VendorTopicArn,
        StageParameter::OpsTopicArn,
        StageParameter::ApiUrl,
        StageParameter::ApiName,
        StageParameter::AuthorizerFunction,
        StageParameter::ProcessorFunction,
        StageParameter::ArchiverFunction,
        StageParameter::NotifierFunction,
        StageParameter::PipeNames,
        StageParameter::DashboardName,
        StageParameter::KmsKeyArn,
        StageParameter::ArtifactSha256,
    ];

    /// The last path segment, after the stage prefix.
    pub fn leaf(self) -> &'static str {
        match self {
            StageParameter::QueueUrl => "queue-url",
            StageParameter::DlqUrl => "dlq-url",
            StageParameter::PipeDlqUrl => "pipe-dlq-url",
            StageParameter::TableName => "table-name",
            StageParameter::ArchiveBucket => "archive-bucket",
            StageParameter::VendorTopicArn => "vendor-topic-arn",
            StageParameter::OpsTopicArn => "ops-topic-arn",
            StageParameter::ApiUrl => "api-url",
            StageParameter::ApiName => "api-name",
            StageParameter::AuthorizerFunction => "authorizer-function",
            StageParameter::ProcessorFunction => "processor-function",
            StageParameter::ArchiverFunction => "archiver-function",
            StageParameter::NotifierFunction => "notifier-function",
            StageParameter::PipeNames => "pipe-names",
            StageParameter::DashboardName => "dashboard-name",
            StageParameter::KmsKeyArn => "kms-key-arn",
            StageParameter::ArtifactSha256 => "artifact-sha256",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_usual_stage_names() {
        for name in [
            "dev",
            "staging",
            "prod",
            "local",
            "pr-1234",
            "a",
            "abcdefghijklmnop",
        ] {
            assert_eq!(name.parse::<StageName>().unwrap().as_str(), name);
        }
    }

    #[test]
    fn refuses_names_outside_the_rule() {
        for name in [
            "",
            "Prod",
            "1dev",
            "-dev",
            "dev_1",
            "dev.1",
            "abcdefghijklmnopq",
            "dév",
            " dev",
        ] {
            let err = name.parse::<StageName>().unwrap_err();
            assert!(err.to_string().contains("lowercase letter"), "{err}");
        }
    }

    #[test]
    fn derives_stack_and_parameter_names_from_the_stage() {
        let stage: StageName = "prod".parse().unwrap();
        assert_eq!(stage.stack_name(), "marketgrid-prod");
        assert_eq!(
            stage.parameter(StageParameter::QueueUrl),
            "/marketgrid/prod/queue-url"
        );
        assert_eq!(StageName::from_stack_name("marketgrid-prod"), Some(stage));
        assert_eq!(StageName::from_stack_name("other-prod"), None);
        assert_eq!(StageName::from_stack_name("marketgrid-Bad"), None);
    }

    #[test]
    fn parameter_leaves_are_unique() {
        let mut leaves: Vec<_> = StageParameter::ALL.iter().map(|p| p.leaf()).collect();
        leaves.sort();
        leaves.dedup();
        assert_eq!(leaves.len(), StageParameter::ALL.len());
    }
}
