//! The stage template, with the parameters mgrid passes for a dev stage, creates the pipeline's
//! data resources in the AWS emulator (moto server). moto skips the resource types it does not
//! implement (API stage and authorizer, WAF, Pipes, alarms, bucket/queue/topic policies) and
//! ignores some settings (PITR, bucket key, versioning, lifecycle, X-Ray); tests/suite/template.rs
//! proves those on the template itself. moto never runs Lambda code, so the artifact uploaded
//! here is a placeholder: this test is about the infrastructure, not the functions.

use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use aws_sdk_cloudformation::types::{Capability, Parameter, StackStatus};
use base64::Engine;
use mgrid::decide::config::Config;
use mgrid::decide::stage::StageSettings;
use mgrid::decide::template::{PIPELINE_YAML, Template};
use mgrid_contract::{StageName, StageParameter};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use support::Emulator;

const ARTIFACT_BUCKET: &str = "mgrid-assets-123456789012-us-east-1";
const ARTIFACT_KEY: &str = "artifacts/emulator-test.zip";

/// The parameter values `mgrid deploy` would pass for a default dev stage.
/// The token a stack created here starts with (any token does on a create).
const FIRST_DEFINITION: &str = "F1R5T";

fn dev_parameters(artifact: &[u8], definition: &str) -> Vec<Parameter> {
    let stage: StageName = "dev".parse().unwrap();
    let no_env: BTreeMap<&str, &str> = BTreeMap::new();
    let settings =
        StageSettings::resolve(stage, Some("us-east-1"), &Config::default(), &no_env).unwrap();
    let sha256 = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(artifact));
    settings
        .parameters(&Template::pipeline().unwrap())
        .into_iter()
        .map(|p| {
            let value = match p.name.as_str() {
                "ArtifactBucket" => ARTIFACT_BUCKET.to_owned(),
                "ArtifactKey" => ARTIFACT_KEY.to_owned(),
                "ArtifactSha256" => sha256.clone(),
                "ProcessorDefinition" => definition.to_owned(),
                _ => p.value.expect("every other parameter has a value"),
            };
            Parameter::builder()
                .parameter_key(p.name)
                .parameter_value(value)
                .build()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_dev_stage_creates_its_data_resources_in_the_emulator() {
    let emulator = Emulator::start();
    let config = emulator.sdk_config().await;
    let s3 = path_style_s3(&config);
    let cloudformation = aws_sdk_cloudformation::Client::new(&config);
    let ssm = aws_sdk_ssm::Client::new(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let lambda = aws_sdk_lambda::Client::new(&config);

    create_dev_stack(&s3, &cloudformation, PIPELINE_YAML).await;

    // Every name of the contract is published under the stage's prefix, and nothing else.
    let parameters = parameters_by_path(&ssm, "/marketgrid/dev/").await;
    let published: BTreeSet<&str> = parameters.keys().map(String::as_str).collect();
    let stage: StageName = "dev".parse().unwrap();
    let contract: Vec<String> = StageParameter::ALL
        .iter()
        .map(|p| stage.parameter(*p))
        .collect();
    let expected: BTreeSet<&str> = contract.iter().map(String::as_str).collect();
    assert_eq!(published, expected);
    let parameter = |p: StageParameter| parameters[&stage.parameter(p)].clone();

    // The webhook queue: high-throughput FIFO, redriving to the FIFO DLQ after 3 receives.
    let queue = queue_attributes(&sqs, &parameter(StageParameter::QueueUrl)).await;
    assert_eq!(queue["FifoQueue"], "true");
    assert_eq!(queue["ContentBasedDeduplication"], "false");
    assert_eq!(queue["DeduplicationScope"], "messageGroup");
    assert_eq!(queue["FifoThroughputLimit"], "perMessageGroupId");
    assert_eq!(queue["MessageRetentionPeriod"], "604800");
    assert_eq!(queue["VisibilityTimeout"], "180");
    assert!(!queue["KmsMasterKeyId"].is_empty());
    let redrive: serde_json::Value = serde_json::from_str(&queue["RedrivePolicy"]).unwrap();
    assert_eq!(redrive["maxReceiveCount"], 10);
    let dlq = queue_attributes(&sqs, &parameter(StageParameter::DlqUrl)).await;
    assert_eq!(redrive["deadLetterTargetArn"], dlq["QueueArn"].as_str());
    assert_eq!(dlq["FifoQueue"], "true");
    assert_eq!(dlq["MessageRetentionPeriod"], "1209600");
    let pipe_dlq = queue_attributes(&sqs, &parameter(StageParameter::PipeDlqUrl)).await;
    assert!(
        !pipe_dlq.contains_key("FifoQueue"),
        "the pipe DLQ is a standard queue"
    );
    assert_eq!(pipe_dlq["MessageRetentionPeriod"], "1209600");

    // The ledger: keyed by transaction, indexed by vendor and time, streamed.
    let table = dynamodb
        .describe_table()
        .table_name(parameter(StageParameter::TableName))
        .send()
        .await
        .unwrap()
        .table
        .unwrap();
    let keys = |schema: &[aws_sdk_dynamodb::types::KeySchemaElement]| -> Vec<String> {
        schema
            .iter()
            .map(|k| format!("{}:{}", k.attribute_name, k.key_type.as_str()))
            .collect()
    };
    assert_eq!(keys(table.key_schema()), ["transactionId:HASH"]);
    let index = &table.global_secondary_indexes()[0];
    assert_eq!(index.index_name(), Some("VendorIndex"));
    assert_eq!(
        keys(index.key_schema()),
        ["vendorId:HASH", "eventTime:RANGE"]
    );
    let stream = table.stream_specification().unwrap();
    assert!(stream.stream_enabled);
    assert_eq!(
        stream.stream_view_type().unwrap().as_str(),
        "NEW_AND_OLD_IMAGES"
    );
    assert_eq!(
        table
            .billing_mode_summary()
            .and_then(|b| b.billing_mode())
            .map(|m| m.as_str()),
        Some("PAY_PER_REQUEST")
    );

    // The archive: encrypted with the stage key.
    let encryption = s3
        .get_bucket_encryption()
        .bucket(parameter(StageParameter::ArchiveBucket))
        .send()
        .await
        .unwrap();
    let rule = &encryption
        .server_side_encryption_configuration()
        .unwrap()
        .rules()[0];
    let default = rule.apply_server_side_encryption_by_default().unwrap();
    assert_eq!(default.sse_algorithm().as_str(), "aws:kms");
    assert_eq!(
        default.kms_master_key_id(),
        Some(parameter(StageParameter::KmsKeyArn).as_str())
    );

    // The functions: the artifact on provided.al2023, one handler each, wired to the stage.
    for (name, handler, memory) in [
        (
            parameter(StageParameter::AuthorizerFunction),
            "authorizer",
            256,
        ),
        (
            parameter(StageParameter::ProcessorFunction),
            "processor",
            3008,
        ),
        (parameter(StageParameter::ArchiverFunction), "archiver", 256),
    ] {
        let function = lambda
            .get_function_configuration()
            .function_name(&name)
            .send()
            .await
            .unwrap();
        assert_eq!(
            function.runtime().map(|r| r.as_str()),
            Some("provided.al2023"),
            "{name}"
        );
        assert_eq!(function.handler(), Some(handler), "{name}");
        assert_eq!(function.memory_size(), Some(memory), "{name}");
        let environment = function.environment().and_then(|e| e.variables()).unwrap();
        assert_eq!(environment["MGRID_STAGE"], "dev", "{name}");
    }
    let processor = lambda
        .get_function_configuration()
        .function_name(parameter(StageParameter::ProcessorFunction))
        .send()
        .await
        .unwrap();
    let environment = processor.environment().and_then(|e| e.variables()).unwrap();
    assert_eq!(
        environment["MGRID_TABLE_NAME"],
        parameter(StageParameter::TableName)
    );
    assert_eq!(
        environment["MGRID_DLQ_URL"],
        parameter(StageParameter::DlqUrl)
    );

    // The processor consumes the queue in batches of 10, reporting partial failures, through
    // its live alias (which a deploy's traffic shift moves).
    let mappings = lambda
        .list_event_source_mappings()
        .function_name(format!(
            "arn:aws:lambda:us-east-1:123456789012:function:{}:live",
            parameter(StageParameter::ProcessorFunction)
        ))
        .send()
        .await
        .unwrap();
    let mapping = &mappings.event_source_mappings()[0];
    assert_eq!(
        mapping.event_source_arn(),
        queue.get("QueueArn").map(String::as_str)
    );
    assert_eq!(mapping.batch_size(), Some(10));
    assert_eq!(
        mapping
            .function_response_types()
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>(),
        ["ReportBatchItemFailures"]
    );
}

const PLACEHOLDER: &[u8] = b"placeholder: the emulator stores Lambda code without running it";

/// S3 as the emulator serves it: buckets in the path, not the host name.
fn path_style_s3(config: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config)
            .force_path_style(true)
            .build(),
    )
}

/// Uploads the placeholder artifact and creates the dev stage's stack from `template`.
async fn create_dev_stack(
    s3: &aws_sdk_s3::Client,
    cloudformation: &aws_sdk_cloudformation::Client,
    template: &str,
) {
    let artifact = PLACEHOLDER.to_vec();
    s3.create_bucket()
        .bucket(ARTIFACT_BUCKET)
        .send()
        .await
        .unwrap();
    s3.put_object()
        .bucket(ARTIFACT_BUCKET)
        .key(ARTIFACT_KEY)
        .body(artifact.clone().into())
        .send()
        .await
        .unwrap();

    cloudformation
        .create_stack()
        .stack_name("marketgrid-dev")
        .template_body(template)
        .set_parameters(Some(dev_parameters(&artifact, FIRST_DEFINITION)))
        .capabilities(Capability::CapabilityIam)
        .send()
        .await
        .expect("the emulator accepts the template");
    let status = wait_for_stack(cloudformation, "marketgrid-dev").await;
    assert_eq!(status, StackStatus::CreateComplete);
}

/// The processor's published versions, and the one its `live` alias points at.
async fn processor_versions(lambda: &aws_sdk_lambda::Client) -> (Vec<String>, String) {
    let versions = lambda
        .list_versions_by_function()
        .function_name("marketgrid-dev-processor")
        .send()
        .await
        .unwrap()
        .versions()
        .iter()
        .filter_map(|v| v.version().map(str::to_owned))
        .filter(|v| v != "$LATEST")
        .collect();
    let alias = lambda
        .get_alias()
        .function_name("marketgrid-dev-processor")
        .name("live")
        .send()
        .await
        .unwrap();
    (
        versions,
        alias.function_version().unwrap_or_default().to_owned(),
    )
}

async fn update_dev_stack(
    cloudformation: &aws_sdk_cloudformation::Client,
    template: &Value,
    definition: &str,
) -> Result<StackStatus, String> {
    let parameters = dev_parameters(PLACEHOLDER, definition);
    cloudformation
        .update_stack()
        .stack_name("marketgrid-dev")
        .template_body(template.to_string())
        .set_parameters(Some(parameters))
        .capabilities(Capability::CapabilityIam)
        .send()
        .await
        .map_err(|e| format!("{}", aws_sdk_cloudformation::error::DisplayErrorContext(&e)))?;
    Ok(wait_for_stack(cloudformation, "marketgrid-dev").await)
}

/// Whether a deploy publishes a processor version is decided from resolved values, as `mgrid
/// deploy` decides it (src/decide/version.rs, src/aws/processor.rs): the configuration the
/// template gives the function, resolved against the stack's resources, against the live
/// version's as Lambda describes it. A change Lambda does not version (tags) and a rewrite of
/// the template's text with the same result (a Join for a Sub, a string for a number) keep the
/// live version's token: the stack updates with no new version. A real change (a longer
/// timeout) publishes one. A version replaced for nothing (a token changed with nothing
/// versioned changed, what a hash of the template's text did on a rewrite) is refused as Lambda
/// refuses it (409), and the update fails.
#[tokio::test(flavor = "multi_thread")]
async fn a_rewrite_with_the_same_resolved_values_publishes_no_version_and_a_real_change_does() {
    use mgrid::decide::version::{Resolution, configuration, definition};
    let emulator = Emulator::start();
    let config = emulator.sdk_config().await;
    let s3 = path_style_s3(&config);
    let cloudformation = aws_sdk_cloudformation::Client::new(&config);
    let lambda = aws_sdk_lambda::Client::new(&config);
    create_dev_stack(&s3, &cloudformation, PIPELINE_YAML).await;
    assert_eq!(
        processor_versions(&lambda).await,
        (vec!["1".to_owned()], "1".to_owned())
    );
    let code = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(PLACEHOLDER));
    // What mgrid deploy resolves against: the parameters, the account, the stack's resources.
    let resources = cloudformation
        .list_stack_resources()
        .stack_name("marketgrid-dev")
        .send()
        .await
        .unwrap();
    let resolution = Resolution {
        parameters: dev_parameters(PLACEHOLDER, FIRST_DEFINITION)
            .into_iter()
            .map(|p| (p.parameter_key.unwrap(), p.parameter_value.unwrap()))
            .collect(),
        pseudo: [
            ("AWS::Region", "us-east-1"),
            ("AWS::AccountId", "123456789012"),
            ("AWS::Partition", "aws"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect(),
        physical: resources
            .stack_resource_summaries()
            .iter()
            .filter_map(|r| {
                Some((
                    r.logical_resource_id()?.to_owned(),
                    r.physical_resource_id()?.to_owned(),
                ))
            })
            .collect(),
    };
    let decide = |model: &Value| {
        let template = Template::from_model(model.clone());
        let lambda = lambda.clone();
        let resolution = resolution.clone();
        let code = code.clone();
        async move {
            let live = mgrid::aws::processor::live_version(&lambda, "marketgrid-dev-processor")
                .await
                .unwrap()
                .expect("the live alias");
            definition(&configuration(&template, &resolution), &code, Some(&live))
        }
    };

    let mut rewritten = Template::pipeline().unwrap().model().clone();
    let properties = &mut rewritten["Resources"]["ProcessorFunction"]["Properties"];
    properties["Tags"] = json!([{"Key": "team", "Value": "payments"}]);
    properties["Environment"]["Variables"]["MGRID_PARAMETER_PREFIX"] =
        json!({"Fn::Join": ["", ["/marketgrid/", {"Ref": "Stage"}, "/"]]});
    properties["Timeout"] = json!("30");
    let kept = decide(&rewritten).await;
    assert!(kept.keeps_live, "nothing versioned changed: {kept:?}");
    assert_eq!(kept.token, FIRST_DEFINITION);
    let status = update_dev_stack(&cloudformation, &rewritten, &kept.token).await;
    assert_eq!(status, Ok(StackStatus::UpdateComplete));
    assert_eq!(
        processor_versions(&lambda).await,
        (vec!["1".to_owned()], "1".to_owned()),
        "no new version, no shift"
    );

    // The same rewrite with a token of its own: the version is replaced for nothing.
    let refused = update_dev_stack(&cloudformation, &rewritten, "0BADC0DE").await;
    let error = refused.expect_err("a version with nothing new is refused");
    assert!(
        error.contains("A version for this Lambda function exists ( 1 )"),
        "{error}"
    );
    assert_eq!(processor_versions(&lambda).await.0, ["1"]);

    // A real change: a new token, a new version, the alias on it.
    let mut longer = rewritten.clone();
    longer["Resources"]["ProcessorFunction"]["Properties"]["Timeout"] = json!(60);
    let changed = decide(&longer).await;
    assert_eq!(changed.changed, ["Timeout"]);
    assert_ne!(changed.token, FIRST_DEFINITION);
    let status = update_dev_stack(&cloudformation, &longer, &changed.token).await;
    assert_eq!(status, Ok(StackStatus::UpdateComplete));
    assert_eq!(
        processor_versions(&lambda).await,
        (vec!["1".to_owned(), "2".to_owned()], "2".to_owned())
    );
}

async fn wait_for_stack(client: &aws_sdk_cloudformation::Client, name: &str) -> StackStatus {
    for _ in 0..100 {
        let stacks = client
            .describe_stacks()
            .stack_name(name)
            .send()
            .await
            .unwrap();
        let status = stacks.stacks()[0].stack_status().cloned().unwrap();
        if !status.as_str().ends_with("_IN_PROGRESS") {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{name} is still in progress after 10 s");
}

async fn parameters_by_path(client: &aws_sdk_ssm::Client, path: &str) -> BTreeMap<String, String> {
    let mut parameters = BTreeMap::new();
    let mut pages = client
        .get_parameters_by_path()
        .path(path)
        .recursive(true)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        for parameter in page.unwrap().parameters() {
            parameters.insert(
                parameter.name().unwrap_or_default().to_owned(),
                parameter.value().unwrap_or_default().to_owned(),
            );
        }
    }
    parameters
}

async fn queue_attributes(client: &aws_sdk_sqs::Client, url: &str) -> BTreeMap<String, String> {
    let attributes = client
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
        .send()
        .await
        .unwrap();
    attributes
        .attributes()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.clone()))
        .collect()
}
