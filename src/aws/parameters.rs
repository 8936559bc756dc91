//! The stage's resource names, published by its stack under `/marketgrid/<stage>/` in SSM.
//! Read without recursion: the key rings one level below are never fetched here (`kept` names
//! them).

use std::collections::BTreeMap;

use mgrid_contract::{StageName, StageParameter};

use super::errors;
use crate::failure::{Failure, FailureKind};

pub async fn stage_parameters(
    client: &aws_sdk_ssm::Client,
    stage: &StageName,
) -> Result<BTreeMap<StageParameter, String>, Failure> {
    let prefix = stage.parameter_prefix();
    let mut found = BTreeMap::new();
    let mut pages = client
        .get_parameters_by_path()
        .path(&prefix)
        .recursive(false)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| errors::failure("ssm:GetParametersByPath", &prefix, &e))?;
        for parameter in page.parameters() {
            let name = parameter.name().unwrap_or_default();
            if let Some(known) = StageParameter::ALL
                .iter()
                .find(|p| stage.parameter(**p) == name)
            {
                found.insert(*known, parameter.value().unwrap_or_default().to_owned());
            }
        }
    }
    Ok(found)
}

/// One of the stage's resource names, or a failure that says the stage is not deployed.
pub fn require(
    parameters: &BTreeMap<StageParameter, String>,
    stage: &StageName,
    parameter: StageParameter,
) -> Result<String, Failure> {
    parameters.get(&parameter).cloned().ok_or_else(|| {
        Failure::new(
            FailureKind::NotFound,
            format!(
                "stage {stage} publishes no {} in SSM: is it deployed in this account and region?",
                stage.parameter(parameter)
            ),
        )
        .next(format!(
            "`mgrid stages` lists the deployed stages; `mgrid deploy --stage {stage}` deploys it{}",
            crate::decide::stage::local_hint(stage.as_str())
        ))
    })
}
