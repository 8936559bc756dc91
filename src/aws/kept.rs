//! What a destroyed stage left behind, found when the stage is deployed again. Destroy keeps the
//! ledger, the archive and the stage key (they hold the stage's data), and the key rings
//! (`mgrid keys` wrote them, not the stack). A new deploy makes a new key, table and bucket; the
//! rings stay encrypted under the old key, which the new stage's roles may not decrypt: on AWS
//! the authorizer would deny every webhook. So a deploy re-encrypts every ring under the stage's
//! key (the operator's credentials decrypt the old one: its policy gives the account IAM
//! control), and says which ledger and archive it leaves where they are.

use aws_sdk_ssm::types::ParameterStringFilter;
use mgrid_contract::{Provider, StageName, StageParameter};
use serde::Serialize;

use super::connection::Aws;
use super::errors;
use super::keystore::RingStore;
use super::parameters;
use crate::failure::{Failure, FailureKind};
use crate::ports::KeyRings;

/// A key ring in SSM and the KMS key it is encrypted under, as SSM names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RingKey {
    pub name: String,
    pub key_id: Option<String>,
}

/// The stage's key rings that exist (API keys, signing secrets, provider tokens), each with the
/// key SSM says encrypts it. Names and key ids only; no value is read.
pub async fn ring_keys(
    client: &aws_sdk_ssm::Client,
    stage: &StageName,
) -> Result<Vec<RingKey>, Failure> {
    let prefix = stage.parameter_prefix();
    let rings: Vec<String> = Provider::ALL
        .iter()
        .flat_map(|p| {
            [
                stage.api_key_ring(*p),
                stage.signing_secret_ring(*p),
                stage.provider_token_ring(*p),
            ]
        })
        .collect();
    // The ring names themselves, not the stage's prefix: the stage's other parameters would
    // take a second page.
    let filter = ParameterStringFilter::builder()
        .key("Name")
        .option("Equals")
        .set_values(Some(rings.clone()))
        .build()
        .map_err(|e| Failure::new(FailureKind::Failed, e.to_string()))?;
    let mut found = Vec::new();
    let mut pages = client
        .describe_parameters()
        .parameter_filters(filter)
        .max_results(50)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| errors::failure("ssm:DescribeParameters", &prefix, &e))?;
        for parameter in page.parameters() {
            let name = parameter.name().unwrap_or_default();
            if rings.iter().any(|ring| ring == name) {
                found.push(RingKey {
                    name: name.to_owned(),
                    key_id: parameter.key_id().map(str::to_owned),
                });
            }
        }
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(found)
}

/// Whether SSM's key id for a parameter names the key `key_arn`: SSM keeps the id it was given,
/// the key's ARN (as mgrid writes) or its bare id. An alias cannot be told without KMS, so it
/// counts as another key (re-encrypting under the stage key is right either way).
pub fn is_key(key_id: Option<&str>, key_arn: &str) -> bool {
    match key_id {
        Some(id) if id == key_arn => true,
        Some(id) if !id.starts_with("alias/") && !id.contains(':') => {
            key_arn.ends_with(&format!(":key/{id}"))
        }
        _ => false,
    }
}

/// What an earlier deploy of the stage left in the account: found before a first create.
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Kept {
    /// Key rings, each encrypted under a key this deploy does not make.
    pub rings: Vec<String>,
    /// Ledger tables of earlier stacks of this name (they hold every recorded payment).
    pub ledgers: Vec<String>,
    /// Archive buckets of earlier stacks of this name.
    pub archives: Vec<String>,
}

impl Kept {
    pub fn is_empty(&self) -> bool {
        self.rings.is_empty() && self.ledgers.is_empty() && self.archives.is_empty()
    }

    /// What the deploy will do with each, for the operator to read before confirming.
    pub fn plan(&self, stage: &str) -> String {
        let mut lines = vec![format!(
            "{stage} was deployed here before and destroyed; it left:"
        )];
        if !self.rings.is_empty() {
            lines.push(format!(
                "  {} key ring(s), encrypted under the old stage key: {}\n    \
                 re-encrypted under the new stage key once it exists, so the new authorizer and processor can read them \
                 (the keys and secrets in them stay as they are)",
                self.rings.len(),
                self.rings.join(", ")
            ));
        }
        if !self.ledgers.is_empty() {
            lines.push(format!(
                "  ledger table(s) {}: left as they are; the new stage records into a new, empty table, \
                 so payments recorded there are not in the new ledger (`aws dynamodb scan --table-name <table>` reads them)",
                self.ledgers.join(", ")
            ));
        }
        if !self.archives.is_empty() {
            lines.push(format!(
                "  archive bucket(s) {}: left as they are; the new stage archives into a new bucket, and \
                 `mgrid replay` reads only the new one",
                self.archives.join(", ")
            ));
        }
        lines.join("\n")
    }
}

/// What earlier deploys of `stack_name` left: rings (all of them: the new key does not exist
/// yet), and the tables and buckets CloudFormation named after the stack's ledger and archive.
pub async fn kept_from_earlier(
    aws: &Aws,
    stage: &StageName,
    stack_name: &str,
) -> Result<Kept, Failure> {
    let rings = ring_keys(&aws.ssm(), stage)
        .await?
        .into_iter()
        .map(|ring| ring.name)
        .collect();
    let table_prefix = format!("{stack_name}-TransactionsTable-");
    let mut ledgers = Vec::new();
    let mut pages = aws.dynamodb().list_tables().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| errors::failure("dynamodb:ListTables", stack_name, &e))?;
        ledgers.extend(
            page.table_names()
                .iter()
                .filter(|name| name.starts_with(&table_prefix))
                .cloned(),
        );
    }
    // Bucket names are lower case: CloudFormation lowers the stack's name and the logical id.
    let bucket_prefix = format!("{stack_name}-archivebucket-").to_lowercase();
    let listed = aws
        .s3()
        .list_buckets()
        .prefix(&bucket_prefix)
        .send()
        .await
        .map_err(|e| errors::failure("s3:ListBuckets", stack_name, &e))?;
    let archives = listed
        .buckets()
        .iter()
        .filter_map(|bucket| bucket.name())
        .filter(|name| name.starts_with(&bucket_prefix))
        .map(str::to_owned)
        .collect();
    Ok(Kept {
        rings,
        ledgers,
        archives,
    })
}

/// Re-encrypts every ring of the stage that is not under the stage's key, read and written back
/// unchanged (a new version, the same keys). Returns the names it re-encrypted. A ring someone
/// rotates meanwhile is written under the stage key by that rotation, which wins: the check
/// the ring store makes on the version it read says so.
pub async fn reencrypt_rings(aws: &Aws, stage: &StageName) -> Result<Vec<String>, Failure> {
    let ssm = aws.ssm();
    let rings = ring_keys(&ssm, stage).await?;
    if rings.is_empty() {
        return Ok(Vec::new());
    }
    let stage_parameters = parameters::stage_parameters(&ssm, stage).await?;
    let key_arn = parameters::require(&stage_parameters, stage, StageParameter::KmsKeyArn)?;
    let store = RingStore::new(ssm.clone(), Ok(key_arn.clone()));
    let mut done = Vec::new();
    for ring in rings {
        if is_key(ring.key_id.as_deref(), &key_arn) {
            continue;
        }
        let cannot = |failure: Failure| {
            Failure::new(
                FailureKind::Failed,
                format!(
                    "the key ring {} is encrypted under {} and could not be re-encrypted under the stage key {key_arn}: {}",
                    ring.name,
                    ring.key_id.as_deref().unwrap_or("an unknown key"),
                    failure.what
                ),
            )
            .next(format!(
                "until it is, the stage cannot read it. If the old key is disabled or scheduled for deletion, \
                 enable it (aws kms enable-key / cancel-key-deletion) and deploy again; or make new keys: \
                 `mgrid keys rotate --all --stage {stage}` and set the signing secrets again"
            ))
        };
        let Some(stored) = store.read(&ring.name).await.map_err(cannot)? else {
            continue;
        };
        let written = store
            .write(&ring.name, &stored.ring, Some(stored.version))
            .await
            .map_err(cannot)?;
        if let Some(overwritten) = written.overwritten {
            // Someone wrote between the read and this write: their ring is what must survive.
            return Err(Failure::new(
                FailureKind::Conflict,
                format!("while re-encrypting: {overwritten}"),
            )
            .next(format!(
                "`mgrid keys list --stage {stage}` shows the ring; rotate it again so that its current key is one someone holds"
            )));
        }
        done.push(ring.name);
    }
    Ok(done)
}

/// The names of the stage's key rings (API keys, signing secrets, provider tokens) that exist: `mgrid keys`
/// writes them, not the stack, so they outlive it. Names only; no value is read.
pub async fn key_rings(
    client: &aws_sdk_ssm::Client,
    stage: &StageName,
) -> Result<Vec<String>, Failure> {
    Ok(ring_keys(client, stage)
        .await?
        .into_iter()
        .map(|ring| ring.name)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::is_key;

    const ARN: &str = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    #[test]
    fn a_key_is_named_by_its_arn_or_its_bare_id_and_an_alias_is_not_trusted() {
        assert!(is_key(Some(ARN), ARN));
        assert!(is_key(Some("1234abcd-12ab-34cd-56ef-1234567890ab"), ARN));
        assert!(!is_key(
            Some("arn:aws:kms:us-east-1:123456789012:key/0000abcd-12ab-34cd-56ef-1234567890ab"),
            ARN
        ));
        assert!(!is_key(Some("alias/marketgrid-dev"), ARN));
        assert!(!is_key(Some("alias/aws/ssm"), ARN));
        assert!(!is_key(None, ARN));
    }
}
