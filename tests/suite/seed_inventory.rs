//! Every resource the seed design synthesizes to (docs/seed/seed-inventory.md) has a
//! counterpart in stacks/pipeline.yaml, or a recorded decision to drop it that the template
//! itself states in a comment.

use crate::support;

use mgrid::decide::template::{PIPELINE_YAML, Template};

enum Fate {
    /// The resources of ours that do this job.
    Counterpart(&'static [&'static str]),
    /// Dropped on purpose; the template states the decision with these words.
    Dropped(&'static str),
}

use Fate::{Counterpart, Dropped};

/// (seed logical id, seed type, what became of it). Rows 1-58 of the inventory, then the parent
/// stack and the custom-domain variant's three resources.
const SEED: &[(&str, &str, Fate)] = &[
    (
        "EncryptionKey1B843E66",
        "AWS::KMS::Key",
        Counterpart(&["StageKey"]),
    ),
    (
        "EncryptionKeyAliasC93FE124",
        "AWS::KMS::Alias",
        Counterpart(&["StageKeyAlias"]),
    ),
    (
        "TransactionsTable0A011FCB",
        "AWS::DynamoDB::Table",
        Counterpart(&["TransactionsTable"]),
    ),
    (
        "TransactionsTableNameParamF63CC797",
        "AWS::SSM::Parameter",
        Counterpart(&["TableNameParameter"]),
    ),
    (
        "WebhookArchiveBucket95379843",
        "AWS::S3::Bucket",
        Counterpart(&["ArchiveBucket", "ArchiveBucketPolicy"]),
    ),
    (
        "WebhookArchiveBucketNameParam4EEAEBFC",
        "AWS::SSM::Parameter",
        Counterpart(&["ArchiveBucketParameter"]),
    ),
    (
        "WebhookDLQ42AE1751",
        "AWS::SQS::Queue",
        Counterpart(&["WebhookDeadLetterQueue", "PipeDeadLetterQueue"]),
    ),
    (
        "WebhookQueueA9D318EA",
        "AWS::SQS::Queue",
        Counterpart(&["WebhookQueue", "QueuesRequireTls"]),
    ),
    (
        "WebhookQueueUrlParam22A234C6",
        "AWS::SSM::Parameter",
        Counterpart(&["QueueUrlParameter", "DlqUrlParameter"]),
    ),
    (
        "AuthorizerLambdaServiceRole30885946",
        "AWS::IAM::Role",
        Counterpart(&["AuthorizerRole"]),
    ),
    (
        "AuthorizerLambdaServiceRoleDefaultPolicyF957605D",
        "AWS::IAM::Policy",
        Counterpart(&["AuthorizerRole"]),
    ),
    (
        "AuthorizerLambda972EEEAB",
        "AWS::Lambda::Function",
        Counterpart(&["AuthorizerFunction"]),
    ),
    (
        "AuthorizerLambdaLogRetentionCD485304",
        "Custom::LogRetention",
        Counterpart(&["AuthorizerLogGroup"]),
    ),
    (
        "AuthorizerLambdaTapStackWebhookStackApiKeyAuthorizer7D9EB634Permissions93A461B5",
        "AWS::Lambda::Permission",
        Counterpart(&["AuthorizerInvokePermission"]),
    ),
    (
        "LogRetentionaae0aa3c5b4d4f87b02d85b201efdd8aServiceRole9741ECFB",
        "AWS::IAM::Role",
        Dropped("LogRetention custom resource"),
    ),
    (
        "LogRetentionaae0aa3c5b4d4f87b02d85b201efdd8aServiceRoleDefaultPolicyADDA7DEB",
        "AWS::IAM::Policy",
        Dropped("LogRetention custom resource"),
    ),
    (
        "LogRetentionaae0aa3c5b4d4f87b02d85b201efdd8aFD4BFC8A",
        "AWS::Lambda::Function",
        Dropped("LogRetention custom resource"),
    ),
    (
        "WebhookProcessingLambdaServiceRoleD6CCEB7E",
        "AWS::IAM::Role",
        Counterpart(&["ProcessorRole"]),
    ),
    (
        "WebhookProcessingLambdaServiceRoleDefaultPolicy339D63B1",
        "AWS::IAM::Policy",
        Counterpart(&["ProcessorRole"]),
    ),
    (
        "WebhookProcessingLambdaC1C04225",
        "AWS::Lambda::Function",
        Counterpart(&["ProcessorFunction"]),
    ),
    (
        "WebhookProcessingLambdaLogRetention1655D02E",
        "Custom::LogRetention",
        Counterpart(&["ProcessorLogGroup"]),
    ),
    (
        "WebhookProcessingLambdaSqsEventSourceTapStackWebhookStackWebhookQueueC58B51DDD1051E20",
        "AWS::Lambda::EventSourceMapping",
        Counterpart(&["ProcessorEventSource"]),
    ),
    (
        "WebhookProcessingLambdaCurrentVersion64210AC5ab941d9ca0dae60f231202102912669e",
        "AWS::Lambda::Version",
        Counterpart(&["ProcessorVersion"]),
    ),
    (
        "WebhookProcessingAliasC1AB64BF",
        "AWS::Lambda::Alias",
        Counterpart(&["ProcessorAlias"]),
    ),
    (
        "WebhookProcessingScalingRole7FD1871C",
        "AWS::IAM::Role",
        Dropped("service-linked role"),
    ),
    (
        "WebhookProcessingScalingFF8B07FB",
        "AWS::ApplicationAutoScaling::ScalableTarget",
        Counterpart(&["ProcessorScalableTarget"]),
    ),
    (
        "WebhookProcessingScalingConcurrencyUtilizationScaling904FD96B",
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        Counterpart(&["ProcessorScalingPolicy"]),
    ),
    (
        "WebhookArchiveLambdaServiceRole1CF26B46",
        "AWS::IAM::Role",
        Counterpart(&["ArchiverRole"]),
    ),
    (
        "WebhookArchiveLambdaServiceRoleDefaultPolicyA90F780C",
        "AWS::IAM::Policy",
        Counterpart(&["ArchiverRole"]),
    ),
    (
        "WebhookArchiveLambda0FB09F67",
        "AWS::Lambda::Function",
        Counterpart(&["ArchiverFunction"]),
    ),
    (
        "WebhookArchiveLambdaLogRetentionA14905B5",
        "Custom::LogRetention",
        Counterpart(&["ArchiverLogGroup"]),
    ),
    (
        "VendorNotificationTopicFF6D095B",
        "AWS::SNS::Topic",
        Counterpart(&["VendorTopic"]),
    ),
    (
        "VendorNotificationTopicArnParamA7734E4C",
        "AWS::SSM::Parameter",
        Counterpart(&["VendorTopicParameter"]),
    ),
    (
        "DynamoDbToPipeRoleE5829E70",
        "AWS::IAM::Role",
        Counterpart(&["ArchivePipeRole", "NotifyPipeRole"]),
    ),
    (
        "DynamoDbToPipeRoleDefaultPolicy0BC75F4A",
        "AWS::IAM::Policy",
        Counterpart(&["ArchivePipeRole", "NotifyPipeRole"]),
    ),
    (
        "DynamoDbToPipeRoleInlinePolicyDDBFA0F2",
        "AWS::IAM::Policy",
        Counterpart(&["ArchivePipeRole", "NotifyPipeRole"]),
    ),
    (
        "DynamoDbStreamPipe",
        "AWS::Pipes::Pipe",
        Counterpart(&["ArchivePipe", "NotifyPipe"]),
    ),
    (
        "WebhookApi28122C53",
        "AWS::ApiGateway::RestApi",
        Counterpart(&["WebhookApi"]),
    ),
    (
        "WebhookApiCloudWatchRole70E9FA61",
        "AWS::IAM::Role",
        Dropped("D17"),
    ),
    (
        "WebhookApiAccountF2784AC4",
        "AWS::ApiGateway::Account",
        Dropped("D17"),
    ),
    (
        "WebhookApiDeployment5953494Dac160312cbd2c4f9da073f2625e6401e",
        "AWS::ApiGateway::Deployment",
        Counterpart(&["ApiDeployment*"]),
    ),
    (
        "WebhookApiDeploymentStageprodF1908D9A",
        "AWS::ApiGateway::Stage",
        Counterpart(&["ApiStage", "ApiAccessLogGroup"]),
    ),
    (
        "WebhookApiOPTIONS6D37E1A5",
        "AWS::ApiGateway::Method",
        Dropped("D23: no CORS"),
    ),
    (
        "WebhookApiwebhook45FF8A56",
        "AWS::ApiGateway::Resource",
        Counterpart(&["WebhookResource"]),
    ),
    (
        "WebhookApiwebhookOPTIONS04AD35F6",
        "AWS::ApiGateway::Method",
        Dropped("D23: no CORS"),
    ),
    (
        "WebhookApiwebhookstripeC9598221",
        "AWS::ApiGateway::Resource",
        Counterpart(&["StripeResource"]),
    ),
    (
        "WebhookApiwebhookstripeOPTIONS9BC86CF4",
        "AWS::ApiGateway::Method",
        Dropped("D23: no CORS"),
    ),
    (
        "WebhookApiwebhookstripePOSTEA15E503",
        "AWS::ApiGateway::Method",
        Counterpart(&["StripeWebhookMethod"]),
    ),
    (
        "WebhookApiwebhookpaypalA27E1325",
        "AWS::ApiGateway::Resource",
        Counterpart(&["PaypalResource"]),
    ),
    (
        "WebhookApiwebhookpaypalOPTIONS73D777F0",
        "AWS::ApiGateway::Method",
        Dropped("D23: no CORS"),
    ),
    (
        "WebhookApiwebhookpaypalPOSTB7CA1C17",
        "AWS::ApiGateway::Method",
        Counterpart(&["PaypalWebhookMethod"]),
    ),
    (
        "ApiKeyAuthorizerD0BEAC37",
        "AWS::ApiGateway::Authorizer",
        Counterpart(&["WebhookAuthorizer"]),
    ),
    (
        "ApiGatewayToSqsRole590217A3",
        "AWS::IAM::Role",
        Counterpart(&["ApiGatewayQueueRole"]),
    ),
    (
        "ApiGatewayToSqsRoleDefaultPolicy4DC2F8A9",
        "AWS::IAM::Policy",
        Counterpart(&["ApiGatewayQueueRole"]),
    ),
    (
        "WebhookApiWaf",
        "AWS::WAFv2::WebACL",
        Counterpart(&["WebAcl", "WebAclLogging", "WafLogGroup"]),
    ),
    (
        "WafApiAssociation",
        "AWS::WAFv2::WebACLAssociation",
        Counterpart(&["WebAclAssociation"]),
    ),
    (
        "MarketGridDashboard2D0E3995",
        "AWS::CloudWatch::Dashboard",
        Counterpart(&["Dashboard"]),
    ),
    ("CDKMetadata", "AWS::CDK::Metadata", Dropped("CDKMetadata")),
    (
        "WebhookStackNestedStackWebhookStackNestedStackResource268335C9",
        "AWS::CloudFormation::Stack",
        Dropped("nested-stack wrapper"),
    ),
    (
        "ApiCustomDomain",
        "AWS::ApiGateway::DomainName",
        Counterpart(&["ApiDomainName"]),
    ),
    (
        "ApiPathMapping",
        "AWS::ApiGateway::BasePathMapping",
        Counterpart(&["ApiBasePathMapping"]),
    ),
    (
        "ApiDomainRecord",
        "AWS::Route53::RecordSet",
        Counterpart(&["ApiDomainRecord"]),
    ),
];

#[test]
fn every_seed_resource_has_a_counterpart_or_a_recorded_decision() {
    let template = Template::pipeline().unwrap();
    let ours: Vec<&str> = template.resources().map(|(id, _)| id).collect();
    for (seed_id, seed_type, fate) in SEED {
        match fate {
            Counterpart(ids) => {
                for id in *ids {
                    let found = match id.strip_suffix('*') {
                        Some(prefix) => ours.iter().any(|o| o.starts_with(prefix)),
                        None => ours.contains(id),
                    };
                    assert!(
                        found,
                        "{seed_id} ({seed_type}) maps to {id}, which the template does not have"
                    );
                }
            }
            Dropped(decision) => assert!(
                PIPELINE_YAML.contains(decision),
                "{seed_id} ({seed_type}) is dropped, but the template does not record the decision ({decision:?})"
            ),
        }
    }
}

#[test]
fn the_checklist_covers_every_resource_of_the_seed_inventory() {
    // The inventory is kept in the repository (copied from the design's shared reference), so
    // a clean clone checks every row of its resource table against the checklist above.
    let path = support::repo_root().join("docs/seed/seed-inventory.md");
    let inventory = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{} is part of the repository: {e}", path.display()));
    let rows: Vec<(String, String)> = inventory
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            match cells.as_slice() {
                ["", number, id, kind, ..] if number.parse::<u32>().is_ok() => Some((
                    id.trim_matches('`').to_owned(),
                    kind.trim_matches('`').to_owned(),
                )),
                _ => None,
            }
        })
        .collect();
    assert_eq!(rows.len(), 58, "the inventory's resource table changed");
    for (id, kind) in rows {
        assert!(
            SEED.iter()
                .any(|(seed_id, seed_type, _)| *seed_id == id && *seed_type == kind),
            "{id} ({kind}) from the seed inventory is not in the checklist"
        );
    }
}
