//! `mgrid stages`: every stage deployed in the account and region.

use std::fmt;

use anyhow::Result;
use mgrid_contract::clock::format_rfc3339;
use serde::Serialize;

use crate::aws::{Aws, Connection};
use crate::commands::context::Context;
use crate::decide::lifecycle::model::StageSummary;
use crate::text::table;
use crate::ui::output::print_report;
use crate::ui::terminal::verbose_calls;

#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct StagesReport {
    pub region: String,
    pub stages: Vec<StageSummary>,
}

pub async fn run(context: &Context) -> Result<()> {
    // No stage, so no mgrid.toml region: the flag, else the SDK's own chain (env, profile).
    let profile = context
        .global
        .profile
        .clone()
        .or_else(|| std::env::var("AWS_PROFILE").ok().filter(|p| !p.is_empty()));
    let aws = Aws::connect(Connection {
        region: context.global.region.as_deref(),
        profile: profile.as_deref(),
        endpoint_url: context.global.endpoint_url.as_deref(),
    })
    .await?;
    let stages = aws.stacks().stages().await?;
    verbose_calls(context.global.verbose > 0, aws.calls());
    print_report(
        &StagesReport {
            region: aws.region.clone(),
            stages,
        },
        context.global.output,
    )?;
    Ok(())
}

impl fmt::Display for StagesReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.stages.is_empty() {
            return writeln!(f, "no MarketGrid stage is deployed in {}", self.region);
        }
        let mut rows = table(&["stage", "stack", "status", "last update"]);
        for stage in &self.stages {
            rows.add_row(vec![
                stage.stage.clone(),
                stage.stack_name.clone(),
                stage.status.clone(),
                stage.updated_at.map(format_rfc3339).unwrap_or_default(),
            ]);
        }
        writeln!(f, "{rows}")
    }
}

#[cfg(test)]
mod snapshots {
    use super::*;
    use crate::text::plain;

    #[test]
    fn stages() {
        let report = StagesReport {
            region: "eu-west-1".into(),
            stages: vec![
                StageSummary {
                    stage: "dev".into(),
                    stack_name: "marketgrid-dev".into(),
                    status: "UPDATE_COMPLETE".into(),
                    updated_at: Some(1_764_493_200_000),
                },
                StageSummary {
                    stage: "prod".into(),
                    stack_name: "marketgrid-prod".into(),
                    status: "UPDATE_ROLLBACK_COMPLETE".into(),
                    updated_at: None,
                },
            ],
        };
        insta::assert_snapshot!("stages", plain(&report));
        insta::assert_snapshot!("stages_80_columns", crate::text::at_80_columns(&report));
        crate::ui::output::assert_json_contract("stages", &report);
        let none = StagesReport {
            region: "eu-west-1".into(),
            stages: Vec::new(),
        };
        insta::assert_snapshot!("stages_none", plain(&none));
        crate::ui::output::assert_json_contract("stages", &none);
    }
}
