//! The CLI's AWS adapter layer, and the only part of the CLI that touches `aws-sdk-*`. The SDK
//! configuration is built here once (region, profile, endpoint override, retries) and every
//! client counts its requests, so `-v` can say how many AWS calls a command made. SDK errors
//! are classified here into failures an operator can act on.

pub mod account;
pub mod archive;
pub mod assets;
pub mod codedeploy;
pub mod connection;
pub mod errors;
pub mod kept;
pub mod keystore;
pub mod logs;
pub mod metrics;
pub mod parameters;
pub mod processor;
pub mod queues;
pub mod settlement;
pub mod stack;

pub use connection::{Aws, Connection, Identity};

use crate::failure::Failure;

/// The adapters commands use, built from one connection: commands get these, never an SDK
/// client.
impl Aws {
    pub fn stacks(&self) -> stack::Stacks {
        stack::Stacks::new(self.cloudformation())
    }

    /// The account's assets bucket (templates and artifacts), for `identity`'s account.
    pub fn assets(&self, identity: &Identity) -> assets::Assets {
        assets::Assets::new(
            self.s3(),
            identity,
            &self.region,
            self.url_suffix(),
            self.endpoint.as_deref(),
        )
    }

    /// What a stage needs of the account, read: API Gateway's logging role and Lambda's
    /// concurrency (each a reading, or why it could not be read).
    pub async fn account_readings(&self) -> crate::decide::lifecycle::preflight::AccountReadings {
        let (apigateway, lambda) = (self.apigateway(), self.lambda());
        let (api_gateway_logging_role, lambda_concurrency) = tokio::join!(
            account::api_gateway_logging_role(&apigateway),
            account::lambda_concurrency(&lambda),
        );
        crate::decide::lifecycle::preflight::AccountReadings {
            api_gateway_logging_role,
            lambda_concurrency,
        }
    }

    /// The alarms whose names start with `prefix` that are in ALARM.
    pub async fn alarms_in_alarm(
        &self,
        prefix: &str,
    ) -> Result<Vec<crate::decide::metrics::AlarmState>, Failure> {
        metrics::alarms_in_alarm(&self.cloudwatch(), prefix).await
    }

    /// The names of the stage's key rings in SSM (names only; no value is read).
    pub async fn key_ring_names(
        &self,
        stage: &mgrid_contract::StageName,
    ) -> Result<Vec<String>, Failure> {
        kept::key_rings(&self.ssm(), stage).await
    }
}
