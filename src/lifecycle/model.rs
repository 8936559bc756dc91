//! What CloudFormation says about a stage, in the terms the lifecycle commands decide on.

use std::collections::BTreeMap;

use mgrid_contract::EpochMillis;
use serde::Serialize;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StackState {
    pub name: String,
    pub id: String,
    pub status: String,
    pub status_reason: Option<String>,
    /// Last update (or creation) time.
    #[serde(serialize_with = "crate::clock::rfc3339_option")]
    pub updated_at: Option<EpochMillis>,
    pub outputs: Vec<StackOutput>,
    pub parameters: BTreeMap<String, String>,
    pub termination_protection: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StackOutput {
    pub key: String,
    pub value: String,
    pub description: Option<String>,
}

/// One resource change of a change set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// Add, Modify, Remove, Import, Dynamic.
    pub action: String,
    pub logical_id: String,
    pub resource_type: String,
    pub physical_id: Option<String>,
    /// True, False or Conditional, for modifications.
    pub replacement: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StackEvent {
    pub event_id: String,
    #[serde(serialize_with = "crate::clock::rfc3339")]
    pub timestamp: EpochMillis,
    pub logical_id: String,
    pub resource_type: String,
    pub status: String,
    pub reason: Option<String>,
}

/// One stage deployed in an account and region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StageSummary {
    pub stage: String,
    pub stack_name: String,
    pub status: String,
    #[serde(serialize_with = "crate::clock::rfc3339_option")]
    pub updated_at: Option<EpochMillis>,
}

/// One resource of a deployed stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StackResource {
    pub logical_id: String,
    pub physical_id: Option<String>,
    pub resource_type: String,
    pub status: String,
}
