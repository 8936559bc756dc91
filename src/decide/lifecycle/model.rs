//! What CloudFormation says about a stage, in the terms the lifecycle commands decide on.

use std::collections::BTreeMap;

use mgrid_contract::EpochMillis;
use serde::Serialize;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct StackState {
    pub name: String,
    pub id: String,
    pub status: String,
    pub status_reason: Option<String>,
    /// Last update (or creation) time.
    #[serde(serialize_with = "crate::clock::rfc3339_option")]
    #[cfg_attr(test, schemars(with = "Option<crate::clock::Rfc3339>"))]
    pub updated_at: Option<EpochMillis>,
    pub outputs: Vec<StackOutput>,
    pub parameters: BTreeMap<String, String>,
    pub termination_protection: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct StackOutput {
    pub key: String,
    pub value: String,
    pub description: Option<String>,
}

/// One resource change of a change set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// Add, Modify, Remove, Import, Dynamic.
    pub action: String,
    pub logical_id: String,
    pub resource_type: String,
    pub physical_id: Option<String>,
    /// True, False or Conditional, for modifications.
    pub replacement: Option<String>,
    /// What changes inside the resource, property by property (empty where CloudFormation
    /// gives no values: an added or removed resource, or an emulator).
    pub properties: Vec<PropertyChange>,
}

/// One property of a resource, before and after the change set (`IncludePropertyValues`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct PropertyChange {
    /// Where in the resource, as people read it: `MemorySize`, `Environment.Variables.STAGE`,
    /// `Tags.team` (the `Properties` level is left out).
    pub path: String,
    /// Add, Remove or Modify.
    pub change_type: Option<String>,
    /// The value now and after, as CloudFormation prints them (JSON for objects and lists);
    /// None where there is none (an added or removed property).
    pub before: Option<String>,
    pub after: Option<String>,
    /// Never, Conditionally or Always: whether changing this property replaces the resource.
    pub requires_recreation: Option<String>,
    /// The parameter, resource or attribute the change comes from, when CloudFormation says.
    pub caused_by: Option<String>,
}

/// The value CloudFormation gives for one it computes while deploying.
pub const KNOWN_AFTER_APPLY: &str = "{{changeSet:KNOWN_AFTER_APPLY}}";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct StackEvent {
    pub event_id: String,
    #[serde(serialize_with = "crate::clock::rfc3339")]
    #[cfg_attr(test, schemars(with = "crate::clock::Rfc3339"))]
    pub timestamp: EpochMillis,
    pub logical_id: String,
    pub resource_type: String,
    pub status: String,
    pub reason: Option<String>,
}

/// One stage deployed in an account and region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct StageSummary {
    pub stage: String,
    pub stack_name: String,
    pub status: String,
    #[serde(serialize_with = "crate::clock::rfc3339_option")]
    #[cfg_attr(test, schemars(with = "Option<crate::clock::Rfc3339>"))]
    pub updated_at: Option<EpochMillis>,
}

/// One resource of a deployed stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct StackResource {
    pub logical_id: String,
    pub physical_id: Option<String>,
    pub resource_type: String,
    pub status: String,
}
