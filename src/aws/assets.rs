//! The assets bucket, `mgrid-assets-<account>-<region>`: where deploys put the template and the
//! Lambda artifact, each under a key named by its content hash, so an unchanged one is never
//! uploaded twice and never changes the stack. Created on first use: encrypted, private, TLS
//! only, versioned, and nothing expires (a rollback may need any earlier artifact).

use aws_sdk_s3::Client;
use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration,
    PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule, VersioningConfiguration,
};

use super::errors;
use crate::failure::{Failure, FailureKind};

pub struct Assets {
    client: Client,
    pub bucket: String,
    account: String,
    /// `aws`, `aws-cn`, `aws-us-gov`: ARNs in the bucket policy use the account's partition.
    partition: String,
    region: String,
    url_suffix: &'static str,
    /// A plain-HTTP endpoint (an emulator) cannot pass a TLS-only policy.
    plain_http: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Upload {
    Uploaded,
    AlreadyThere,
}

impl Assets {
    pub fn new(
        client: Client,
        identity: &super::connection::Identity,
        region: &str,
        url_suffix: &'static str,
        endpoint: Option<&str>,
    ) -> Self {
        let account = &identity.account;
        Assets {
            client,
            bucket: format!("mgrid-assets-{account}-{region}"),
            account: account.to_owned(),
            partition: identity.partition().to_owned(),
            region: region.to_owned(),
            url_suffix,
            plain_http: endpoint.is_some_and(|e| e.starts_with("http://")),
        }
    }

    /// Whether the bucket exists and belongs to this account.
    pub async fn exists(&self) -> Result<bool, Failure> {
        let result = self
            .client
            .head_bucket()
            .bucket(&self.bucket)
            .expected_bucket_owner(&self.account)
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(error) if error.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(false),
            Err(error) if error.raw_response().is_some_and(|r| r.status().as_u16() == 403) => Err(Failure::new(
                FailureKind::Credentials,
                format!(
                    "the assets bucket {} exists but this identity may not use it (it belongs to another account, \
                     or s3:ListBucket is not granted)",
                    self.bucket
                ),
            )
            .next("grant s3:ListBucket, s3:GetObject and s3:PutObject on it, or deploy with the account that owns it")),
            Err(error) => Err(errors::failure("s3:HeadBucket", &format!("bucket {}", self.bucket), &error)),
        }
    }

    pub async fn create(&self) -> Result<(), Failure> {
        let resource = format!("bucket {}", self.bucket);
        let mut create = self.client.create_bucket().bucket(&self.bucket);
        if self.region != "us-east-1" {
            create = create.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(self.region.as_str()))
                    .build(),
            );
        }
        match create.send().await {
            Ok(_) => {}
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_bucket_already_owned_by_you()) => {}
            Err(error) => return Err(errors::failure("s3:CreateBucket", &resource, &error)),
        }
        self.client
            .put_public_access_block()
            .bucket(&self.bucket)
            .public_access_block_configuration(
                PublicAccessBlockConfiguration::builder()
                    .block_public_acls(true)
                    .ignore_public_acls(true)
                    .block_public_policy(true)
                    .restrict_public_buckets(true)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| errors::failure("s3:PutPublicAccessBlock", &resource, &e))?;
        let default = ServerSideEncryptionByDefault::builder()
            .sse_algorithm(ServerSideEncryption::Aes256)
            .build()
            .map_err(|e| Failure::new(FailureKind::Failed, e.to_string()))?;
        let rules = ServerSideEncryptionConfiguration::builder()
            .rules(
                ServerSideEncryptionRule::builder()
                    .apply_server_side_encryption_by_default(default)
                    .build(),
            )
            .build()
            .map_err(|e| Failure::new(FailureKind::Failed, e.to_string()))?;
        self.client
            .put_bucket_encryption()
            .bucket(&self.bucket)
            .server_side_encryption_configuration(rules)
            .send()
            .await
            .map_err(|e| errors::failure("s3:PutEncryptionConfiguration", &resource, &e))?;
        self.client
            .put_bucket_versioning()
            .bucket(&self.bucket)
            .versioning_configuration(
                VersioningConfiguration::builder()
                    .status(BucketVersioningStatus::Enabled)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| errors::failure("s3:PutBucketVersioning", &resource, &e))?;
        if self.plain_http {
            tracing::warn!(
                "the endpoint is plain HTTP (an emulator): the assets bucket gets no TLS-only policy"
            );
            return Ok(());
        }
        let policy = tls_only_policy(&self.partition, &self.bucket);
        self.client
            .put_bucket_policy()
            .bucket(&self.bucket)
            .policy(policy.to_string())
            .send()
            .await
            .map_err(|e| errors::failure("s3:PutBucketPolicy", &resource, &e))?;
        Ok(())
    }

    /// Uploads `bytes` at `key` unless an object is already there (keys are content hashes).
    pub async fn ensure_object(
        &self,
        key: &str,
        bytes: &[u8],
        content_type: &str,
    ) -> Result<Upload, Failure> {
        let resource = format!("s3://{}/{key}", self.bucket);
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(_) => return Ok(Upload::AlreadyThere),
            Err(error) if error.as_service_error().is_some_and(|e| e.is_not_found()) => {}
            Err(error) => return Err(errors::failure("s3:GetObject", &resource, &error)),
        }
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(bytes.to_vec().into())
            .send()
            .await
            .map(|_| Upload::Uploaded)
            .map_err(|e| errors::failure("s3:PutObject", &resource, &e))
    }

    /// The path-style HTTPS URL CloudFormation reads a template from.
    pub fn url(&self, key: &str) -> String {
        format!(
            "https://s3.{}.{}/{}/{key}",
            self.region, self.url_suffix, self.bucket
        )
    }
}

/// The bucket policy that refuses every request not made over TLS.
fn tls_only_policy(partition: &str, bucket: &str) -> serde_json::Value {
    let arn = format!("arn:{partition}:s3:::{bucket}");
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "DenyPlainHttp",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [arn.clone(), format!("{arn}/*")],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}
        }]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tls_only_policy_names_the_bucket_in_the_accounts_partition() {
        let policy = tls_only_policy("aws-cn", "mgrid-assets-1-cn-north-1");
        assert_eq!(
            policy["Statement"][0]["Resource"],
            serde_json::json!([
                "arn:aws-cn:s3:::mgrid-assets-1-cn-north-1",
                "arn:aws-cn:s3:::mgrid-assets-1-cn-north-1/*"
            ])
        );
    }
}
