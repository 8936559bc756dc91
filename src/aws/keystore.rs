//! Key rings in SSM Parameter Store: SecureStrings under the stage key, written so that nothing
//! is lost in silence. SSM has no compare-and-set, so a write checks the version it got: when
//! someone else wrote between our read and our write, it says so, with who and when. A write
//! that timed out may have happened: the ring is read again before the write is repeated, so a
//! key is never rotated twice.

use aws_sdk_ssm::Client;
use aws_sdk_ssm::types::{ParameterTier, ParameterType};
use mgrid_contract::clock::format_rfc3339;
use mgrid_contract::keyring::KeyRing;

use super::errors;
use crate::failure::{Failure, FailureKind};
use crate::ports::{KeyRings, StoredRing, Written};

/// The stage's key rings in SSM, SecureStrings encrypted with the stage's KMS key. The key is
/// needed to write only: rings outlive their stack, and are still read when it is gone.
pub struct RingStore {
    client: Client,
    kms_key: Result<String, Failure>,
}

impl RingStore {
    pub fn new(client: Client, kms_key: Result<String, Failure>) -> Self {
        RingStore { client, kms_key }
    }

    /// The write, as SSM made it: a version other than the next one means someone wrote in
    /// between, and what they wrote is overwritten (the ring holds this command's keys).
    async fn check_version(
        &self,
        name: &str,
        read_version: Option<i64>,
        written: i64,
    ) -> Result<Written, Failure> {
        let expected = read_version.unwrap_or(0) + 1;
        if written == expected {
            return Ok(Written {
                version: written,
                overwritten: None,
            });
        }
        let others = self
            .writers_between(name, read_version.unwrap_or(0), written)
            .await
            .unwrap_or_default();
        Ok(Written {
            version: written,
            overwritten: Some(format!(
                "{name} was changed by someone else while this command ran (read version {}, wrote version {written}; \
                 in between: {}). The ring now holds this command's keys; the other change is overwritten and its \
                 new key is no longer accepted",
                read_version.unwrap_or(0),
                if others.is_empty() {
                    "unknown".to_owned()
                } else {
                    others.join(", ")
                }
            )),
        })
    }

    /// "version N by USER at TIME" for each version written between two of ours.
    async fn writers_between(
        &self,
        name: &str,
        after: i64,
        before: i64,
    ) -> Result<Vec<String>, Failure> {
        let mut writers = Vec::new();
        let mut pages = self
            .client
            .get_parameter_history()
            .name(name)
            .with_decryption(false)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| errors::failure("ssm:GetParameterHistory", name, &e))?;
            for entry in page.parameters() {
                if entry.version() > after && entry.version() < before {
                    writers.push(format!(
                        "version {} by {} at {}",
                        entry.version(),
                        entry.last_modified_user().unwrap_or("someone"),
                        entry
                            .last_modified_date()
                            .and_then(|d| d.to_millis().ok())
                            .map(format_rfc3339)
                            .unwrap_or_default()
                    ));
                }
            }
        }
        Ok(writers)
    }
}

impl KeyRings for RingStore {
    async fn read(&self, name: &str) -> Result<Option<StoredRing>, Failure> {
        let parameter = mgrid_pipeline::aws::ring_parameter(&self.client, name)
            .await
            .map_err(|error| errors::failure("ssm:GetParameter", name, &error))?;
        let Some(parameter) = parameter else {
            return Ok(None);
        };
        let ring = KeyRing::parse(parameter.value().unwrap_or_default()).map_err(|e| {
            Failure::new(FailureKind::Failed, format!("the key ring {name} is unusable: {e}"))
                .next(format!("look at its history (aws ssm get-parameter-history --name {name}) and restore a good version"))
        })?;
        Ok(Some(StoredRing {
            ring,
            version: parameter.version(),
            modified_at: parameter
                .last_modified_date()
                .and_then(|d| d.to_millis().ok()),
        }))
    }

    /// Writes `ring`, read at `read_version` (None: there was none), encrypted with the stage's
    /// key. Returns the new version, or a Conflict failure that says who wrote in between.
    async fn write(
        &self,
        name: &str,
        ring: &KeyRing,
        read_version: Option<i64>,
    ) -> Result<Written, Failure> {
        let kms_key = self.kms_key.clone()?;
        let mut attempts = 0;
        loop {
            attempts += 1;
            let result = self
                .client
                .put_parameter()
                .name(name)
                .value(ring.to_json())
                .r#type(ParameterType::SecureString)
                .key_id(&kms_key)
                .tier(ParameterTier::Standard)
                .overwrite(read_version.is_some())
                .description("MarketGrid key ring (mgrid keys)")
                .send()
                .await;
            match result {
                Ok(output) => {
                    return self
                        .check_version(name, read_version, output.version())
                        .await;
                }
                Err(error)
                    if error
                        .as_service_error()
                        .is_some_and(|e| e.is_parameter_already_exists()) =>
                {
                    return Err(Failure::new(
                        FailureKind::Conflict,
                        format!("someone else created {name} while this command was making it; nothing was written"),
                    )
                    .next("run `mgrid keys list` to see the ring that is there, then rotate again if needed"));
                }
                Err(error)
                    if errors::classify(&error) == errors::ErrorClass::MaybeApplied
                        && attempts < 3 =>
                {
                    // The write may have happened: find out before writing again.
                    if let Some(stored) = self.read(name).await?
                        && stored.ring.current.id == ring.current.id
                    {
                        return self.check_version(name, read_version, stored.version).await;
                    }
                }
                Err(error) => return Err(errors::failure("ssm:PutParameter", name, &error)),
            }
        }
    }
}
