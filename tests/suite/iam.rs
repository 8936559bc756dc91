//! IAM that matches the code, evaluated by a real IAM policy evaluator.
//!
//! Every AWS operation the stage performs is listed here, from where it really comes from:
//! - the handlers' SDK calls, read from the pipeline's AWS adapters (functions/pipeline/src/aws)
//!   and wired to handlers as functions/lambda/src/lib.rs wires them;
//! - what Lambda does with a function's role (logs, traces, its encrypted environment, the SQS
//!   event source), what each pipe does with its role (source, target, dead-letter queue, logs),
//!   what API Gateway does with its integration role, from the template's definitions;
//! - the KMS calls SQS, SSM, S3 and SNS make with the caller's permissions for data under the
//!   stage key, as their documentation lists them;
//! - the services that act on their own behalf (assuming roles, invoking the authorizer,
//!   writing encrypted logs, alarms publishing), with the request context each really supplies
//!   (API Gateway sends no aws:SourceAccount when it assumes an integration role or invokes an
//!   authorizer).
//!
//! `@cloud-copilot/iam-simulate` (pinned in .ci/iam) evaluates each request with the identity
//! policy, the resource policy (key, queue, bucket and topic policies, the Lambda permission)
//! and the trust policy together: each must be allowed, and a foreign caller denied. Then the
//! other direction: each role grants no action on no resource that nothing above performs, and
//! every action named anywhere in the template exists (iam-data).
//!
//! The stack is a stand-in with CloudFormation's naming (generated names where the template sets
//! none), in eu-west-1 of account 123456789012, stage prod.

use crate::support;

use std::collections::BTreeMap;
use std::process::{Command, Stdio};

use mgrid::decide::template::Template;
use mgrid_contract::{Provider, StageName};
use serde_json::{Map, Value, json};
use support::repo_root;

const ACCOUNT: &str = "123456789012";
const REGION: &str = "eu-west-1";
const STAGE: &str = "prod";
const KEY_ID: &str = "0b5e4a1c-9f3d-4e2a-8c7b-5d6e7f8a9b0c";
const API_ID: &str = "k3x9q2w7z1";
const AUTHORIZER_ID: &str = "a7b3c9";

/// The template's resources with the names and attributes a deployed stack would have.
struct Stack {
    resources: Map<String, Value>,
}

impl Stack {
    fn new() -> Stack {
        let template = Template::pipeline().expect("the embedded template");
        Stack {
            resources: template.model()["Resources"]
                .as_object()
                .expect("resources")
                .clone(),
        }
    }

    fn definition(&self, id: &str) -> &Value {
        self.resources
            .get(id)
            .unwrap_or_else(|| panic!("no resource {id}"))
    }

    fn kind(&self, id: &str) -> &str {
        self.definition(id)["Type"].as_str().unwrap_or_default()
    }

    fn property(&self, id: &str, name: &str) -> String {
        self.resolve(&self.definition(id)["Properties"][name])
            .as_str()
            .unwrap_or_else(|| panic!("{id}.{name} is not a string"))
            .to_owned()
    }

    fn generated(&self, id: &str) -> String {
        format!("marketgrid-{STAGE}-{id}-1R2S3T4U")
    }

    /// `Ref`.
    fn reference(&self, id: &str) -> String {
        match id {
            "Stage" => return STAGE.into(),
            "AWS::Partition" => return "aws".into(),
            "AWS::Region" => return REGION.into(),
            "AWS::AccountId" => return ACCOUNT.into(),
            "AWS::URLSuffix" => return "amazonaws.com".into(),
            // Another parameter (capacity, e-mail, domain): no policy depends on its value.
            other if !self.resources.contains_key(other) => return format!("<{other}>"),
            _ => {}
        }
        match self.kind(id) {
            "AWS::KMS::Key" => KEY_ID.into(),
            "AWS::SQS::Queue" => format!(
                "https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{}",
                self.property(id, "QueueName")
            ),
            "AWS::DynamoDB::Table" => self.generated(id),
            "AWS::S3::Bucket" => self.generated(id).to_lowercase(),
            "AWS::SNS::Topic" => format!(
                "arn:aws:sns:{REGION}:{ACCOUNT}:{}",
                self.property(id, "TopicName")
            ),
            "AWS::Logs::LogGroup" => self.property(id, "LogGroupName"),
            "AWS::Lambda::Function" => self.property(id, "FunctionName"),
            "AWS::Pipes::Pipe" => self.property(id, "Name"),
            "AWS::ApiGateway::RestApi" => API_ID.into(),
            "AWS::ApiGateway::Authorizer" => AUTHORIZER_ID.into(),
            "AWS::IAM::Role" => self.generated(id),
            "AWS::CloudWatch::Alarm" => self.property(id, "AlarmName"),
            "AWS::CodeDeploy::Application" => self.property(id, "ApplicationName"),
            "AWS::CodeDeploy::DeploymentGroup" => self.property(id, "DeploymentGroupName"),
            "AWS::Lambda::Alias" => format!(
                "{}:{}",
                self.attribute(&self.function_of(id), "Arn"),
                self.property(id, "Name")
            ),
            _ => id.into(),
        }
    }

    /// The function an alias (or the function itself) names.
    fn function_of(&self, id: &str) -> String {
        match self.kind(id) {
            "AWS::Lambda::Alias" => {
                Stack::target(&self.definition(id)["Properties"]["FunctionName"]).unwrap()
            }
            _ => id.to_owned(),
        }
    }

    /// `Fn::GetAtt`.
    fn attribute(&self, id: &str, name: &str) -> String {
        let named = self.reference(id);
        match (self.kind(id), name) {
            ("AWS::KMS::Key", "Arn") => format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/{KEY_ID}"),
            ("AWS::SQS::Queue", "Arn") => format!(
                "arn:aws:sqs:{REGION}:{ACCOUNT}:{}",
                self.property(id, "QueueName")
            ),
            ("AWS::SQS::Queue", "QueueName") => self.property(id, "QueueName"),
            ("AWS::DynamoDB::Table", "Arn") => {
                format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{named}")
            }
            ("AWS::DynamoDB::Table", "StreamArn") => format!(
                "arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{named}/stream/2026-11-30T00:00:00.000"
            ),
            ("AWS::S3::Bucket", "Arn") => format!("arn:aws:s3:::{named}"),
            ("AWS::Logs::LogGroup", "Arn") => {
                format!("arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{named}:*")
            }
            ("AWS::Lambda::Function", "Arn") => {
                format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{named}")
            }
            ("AWS::IAM::Role", "Arn") => format!("arn:aws:iam::{ACCOUNT}:role/{named}"),
            ("AWS::Pipes::Pipe", "Arn") => format!("arn:aws:pipes:{REGION}:{ACCOUNT}:pipe/{named}"),
            ("AWS::ApiGateway::RestApi", "RootResourceId") => "r00t".into(),
            // Attributes no policy uses (a version number, a domain's hosted zone).
            _ => format!("<{id}.{name}>"),
        }
    }

    /// The template's intrinsic functions, as CloudFormation evaluates them for this stack.
    fn resolve(&self, value: &Value) -> Value {
        match value {
            Value::Object(object) if object.len() == 1 => {
                let (function, argument) = object.iter().next().unwrap();
                match function.as_str() {
                    "Ref" => json!(self.reference(argument.as_str().unwrap())),
                    "Fn::GetAtt" => {
                        let (id, name) = match argument {
                            Value::Array(parts) => (
                                parts[0].as_str().unwrap().to_owned(),
                                parts[1].as_str().unwrap().to_owned(),
                            ),
                            Value::String(text) => {
                                let (id, name) = text.split_once('.').unwrap();
                                (id.to_owned(), name.to_owned())
                            }
                            other => panic!("GetAtt {other}"),
                        };
                        json!(self.attribute(&id, &name))
                    }
                    "Fn::Sub" => {
                        json!(self.substitute(argument.as_str().expect("Sub of a string")))
                    }
                    "Fn::Join" => json!(
                        argument[1]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|part| self.resolve(part).as_str().unwrap().to_owned())
                            .collect::<Vec<_>>()
                            .join(argument[0].as_str().unwrap())
                    ),
                    _ => Value::Object(
                        object
                            .iter()
                            .map(|(k, v)| (k.clone(), self.resolve(v)))
                            .collect(),
                    ),
                }
            }
            Value::Object(object) => Value::Object(
                object
                    .iter()
                    .map(|(k, v)| (k.clone(), self.resolve(v)))
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.iter().map(|v| self.resolve(v)).collect()),
            other => other.clone(),
        }
    }

    fn substitute(&self, text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find('}').expect("closed ${") + start;
            let name = &rest[start + 2..end];
            match name.strip_prefix('!') {
                Some(literal) => out.push_str(&format!("${{{literal}}}")),
                None => match name.split_once('.') {
                    Some((id, attribute)) if !name.starts_with("AWS::") => {
                        out.push_str(&self.attribute(id, attribute))
                    }
                    _ => out.push_str(&self.reference(name)),
                },
            }
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        out
    }

    fn ids_of(&self, kind: &str) -> Vec<String> {
        self.resources
            .iter()
            .filter(|(_, d)| d["Type"] == kind)
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// The logical id a `Ref`/`GetAtt` value points at.
    fn target(value: &Value) -> Option<String> {
        value["Ref"]
            .as_str()
            .map(str::to_owned)
            .or_else(|| match &value["Fn::GetAtt"] {
                Value::Array(parts) => parts[0].as_str().map(str::to_owned),
                Value::String(text) => text.split('.').next().map(str::to_owned),
                _ => None,
            })
    }

    /// The key a queue, bucket or topic encrypts with, as an ARN.
    fn key_of(&self, id: &str) -> String {
        let properties = &self.definition(id)["Properties"];
        let key = match self.kind(id) {
            "AWS::SQS::Queue" | "AWS::SNS::Topic" => &properties["KmsMasterKeyId"],
            "AWS::S3::Bucket" => {
                &properties["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
                    ["KMSMasterKeyID"]
            }
            kind => panic!("{kind} has no key here"),
        };
        let key =
            Stack::target(key).unwrap_or_else(|| panic!("{id} is not under a key of the stack"));
        self.attribute(&key, "Arn")
    }

    /// The resource (logical id) whose ARN or name is `text`.
    fn owner_of(&self, text: &str) -> String {
        self.resources
            .keys()
            .find(|id| {
                let arn = match self.kind(id) {
                    "AWS::SQS::Queue" | "AWS::Lambda::Function" | "AWS::Pipes::Pipe" => {
                        self.attribute(id, "Arn")
                    }
                    "AWS::SNS::Topic" => self.reference(id),
                    _ => return false,
                };
                arn == text || self.reference(id) == text
            })
            .cloned()
            .unwrap_or_else(|| panic!("nothing in the stack is {text}"))
    }
}

/// One request some principal makes, and why.
#[derive(Clone, Debug)]
struct Request {
    /// A role's logical id, or a service principal acting on its own behalf.
    caller: Caller,
    action: String,
    resource: String,
    context: BTreeMap<String, Value>,
    why: String,
    /// Allowed, or (for a foreign caller) denied.
    allowed: bool,
}

#[derive(Clone, Debug, PartialEq)]
enum Caller {
    Role(String),
    Service(String),
}

fn request(caller: Caller, action: &str, resource: &str, why: impl Into<String>) -> Request {
    Request {
        caller,
        action: action.into(),
        resource: resource.into(),
        context: BTreeMap::from([("aws:SecureTransport".to_owned(), json!("true"))]),
        why: why.into(),
        allowed: true,
    }
}

impl Request {
    fn with(mut self, key: &str, value: &str) -> Request {
        self.context.insert(key.into(), json!(value));
        self
    }

    fn denied(mut self) -> Request {
        self.allowed = false;
        self
    }
}

/// The KMS calls a service makes with the caller's permissions for data under `key`.
fn kms_for(caller: &Caller, service_action: &str, key: &str, why: &str) -> Vec<Request> {
    let actions: &[&str] = match service_action {
        // SQS: a producer needs both on an SSE-KMS queue; a consumer decrypts.
        "sqs:SendMessage" => &["kms:GenerateDataKey", "kms:Decrypt"],
        "sqs:ReceiveMessage" => &["kms:Decrypt"],
        // SSM: a SecureString read WithDecryption.
        "ssm:GetParameter" => &["kms:Decrypt"],
        // S3: a single-part PutObject under SSE-KMS (with a bucket key).
        "s3:PutObject" => &["kms:GenerateDataKey"],
        // SNS: a publisher to an encrypted topic.
        "sns:Publish" => &["kms:GenerateDataKey", "kms:Decrypt"],
        _ => &[],
    };
    actions
        .iter()
        .map(|action| {
            request(
                caller.clone(),
                action,
                key,
                format!("{why} ({service_action} under the stage key)"),
            )
        })
        .collect()
}

/// The pipeline's AWS adapters: name → (service, operations), read from the source.
fn adapters() -> BTreeMap<String, (String, Vec<String>)> {
    let source = std::fs::read_to_string(repo_root().join("functions/pipeline/src/aws/mod.rs"))
        .expect("the pipeline's AWS adapters");
    let structs =
        regex_lite::Regex::new(r"pub struct (\w+) \{\s*client: aws_sdk_(\w+)::Client").unwrap();
    let calls = regex_lite::Regex::new(r"\.client\s*\.(\w+)\(\)").unwrap();
    let helpers = regex_lite::Regex::new(r"(\w+)\(&self\.client\b").unwrap();
    let client_calls = regex_lite::Regex::new(r"\bclient\s*\.(\w+)\(\)").unwrap();
    let mut adapters = BTreeMap::new();
    for found in structs.captures_iter(&source) {
        let (name, service) = (found[1].to_owned(), found[2].to_owned());
        // Every block of the adapter: its port implementations and its own methods.
        let blocks: Vec<(usize, usize)> = [format!(" for {name} {{"), format!("impl {name} {{")]
            .iter()
            .flat_map(|opening| source.match_indices(opening.as_str()).map(|(at, _)| at))
            .map(|start| {
                let end = source[start..]
                    .find("\n}\n")
                    .map_or(source.len(), |end| start + end);
                (start, end)
            })
            .collect();
        assert!(
            blocks
                .iter()
                .any(|(start, _)| source[*start..].starts_with(" for")),
            "{name} implements no port"
        );
        let mut operations = blocks
            .iter()
            .flat_map(|&(start, end)| calls.captures_iter(&source[start..end]))
            .map(|call| pascal(&call[1]))
            .collect::<Vec<_>>();
        operations.sort();
        operations.dedup();
        let (start, end) = blocks[0];
        // A call the adapter makes through a shared function (`ring_parameter(&self.client, …)`)
        // is read in that function's body.
        for helper in helpers.captures_iter(&source[start..end]) {
            let body_start = source
                .find(&format!("fn {}(", &helper[1]))
                .unwrap_or_else(|| panic!("{name} calls {}, which is not in the file", &helper[1]));
            let body_end = source[body_start..]
                .find("\n}\n")
                .map_or(source.len(), |end| body_start + end);
            operations.extend(
                client_calls
                    .captures_iter(&source[body_start..body_end])
                    .map(|call| pascal(&call[1])),
            );
        }
        assert!(
            !operations.is_empty(),
            "{name}: no SDK call found; the scan needs updating"
        );
        adapters.insert(name, (service, operations));
    }
    assert!(adapters.len() >= 4, "the scan found only {adapters:?}");
    adapters
}

fn pascal(snake: &str) -> String {
    snake
        .split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// Which adapters each handler runs with, as functions/lambda/src/lib.rs wires them.
fn handler_adapters(
    adapters: &BTreeMap<String, (String, Vec<String>)>,
) -> BTreeMap<String, Vec<String>> {
    let source = std::fs::read_to_string(repo_root().join("functions/lambda/src/lib.rs")).unwrap();
    let start = source
        .find("pub enum LambdaHandler")
        .expect("the handler enum");
    let body = &source[start..start + source[start..].find("\n}\n").unwrap()];
    let mut wiring = BTreeMap::new();
    let mut current = None;
    for line in body.lines().skip(1) {
        let trimmed = line.trim();
        if line.starts_with("    ") && !line.starts_with("        ") {
            let variant: String = trimmed
                .chars()
                .take_while(|c| c.is_alphanumeric())
                .collect();
            current = Some(variant.to_lowercase());
        }
        if let Some(handler) = &current {
            for adapter in adapters.keys() {
                if trimmed.contains(adapter.as_str()) {
                    wiring
                        .entry(handler.clone())
                        .or_insert_with(Vec::new)
                        .push(adapter.clone());
                }
            }
        }
    }
    wiring
}

/// What each principal of the stage performs.
fn requests(stack: &Stack) -> Vec<Request> {
    let adapters = adapters();
    let wiring = handler_adapters(&adapters);
    let stage: StageName = STAGE.parse().unwrap();
    let parameter = |name: &str| format!("arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{name}");
    let mut all = Vec::new();

    for function in stack.ids_of("AWS::Lambda::Function") {
        let properties = &stack.definition(&function)["Properties"];
        let role = Caller::Role(Stack::target(&properties["Role"]).expect("a role of the stack"));
        let handler = properties["Handler"].as_str().unwrap();
        let log_group =
            Stack::target(&properties["LoggingConfig"]["LogGroup"]).expect("its own log group");
        let stream = format!(
            "arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{}:log-stream:2026/11/30/[$LATEST]0123abcd",
            stack.reference(&log_group)
        );
        for action in ["logs:CreateLogStream", "logs:PutLogEvents"] {
            all.push(request(
                role.clone(),
                action,
                &stream,
                format!("Lambda writes {function}'s logs"),
            ));
        }
        if properties["TracingConfig"]["Mode"] == "Active" {
            for action in ["xray:PutTraceSegments", "xray:PutTelemetryRecords"] {
                all.push(request(
                    role.clone(),
                    action,
                    "*",
                    format!("Lambda traces {function}"),
                ));
            }
        }
        if let Some(key) = Stack::target(&properties["KmsKeyArn"]) {
            all.push(request(
                role.clone(),
                "kms:Decrypt",
                &stack.attribute(&key, "Arn"),
                format!("Lambda decrypts {function}'s environment"),
            ));
        }
        let environment = &properties["Environment"]["Variables"];
        let resource_of = |variable: &str| {
            Stack::target(&environment[variable])
                .unwrap_or_else(|| panic!("{function}: {variable} names no resource of the stack"))
        };
        let handler_adapters = wiring
            .get(handler)
            .unwrap_or_else(|| panic!("the Lambda crate wires no handler {handler}"));
        for adapter in handler_adapters {
            let (service, operations) = &adapters[adapter];
            for operation in operations {
                let action = format!("{service}:{operation}");
                let why = format!("the {handler} calls {operation} ({adapter})");
                let (resources, key): (Vec<String>, Option<String>) = match adapter.as_str() {
                    "SsmKeyStore" => {
                        let rings: Vec<String> = Provider::ALL
                            .iter()
                            .map(|p| match handler {
                                "authorizer" => stage.api_key_ring(*p),
                                _ => stage.signing_secret_ring(*p),
                            })
                            .map(|name| parameter(&name))
                            .collect();
                        (rings, Some(stack.attribute("StageKey", "Arn")))
                    }
                    "DynamoLedger" => {
                        let table = resource_of("MGRID_TABLE_NAME");
                        (vec![stack.attribute(&table, "Arn")], None)
                    }
                    "SqsDeadLetters" => {
                        let queue = resource_of("MGRID_DLQ_URL");
                        (
                            vec![stack.attribute(&queue, "Arn")],
                            Some(stack.key_of(&queue)),
                        )
                    }
                    "DynamoReceipts" => {
                        let table = resource_of("MGRID_TABLE_NAME");
                        (vec![stack.attribute(&table, "Arn")], None)
                    }
                    "SnsTopic" => {
                        let topic = resource_of("MGRID_VENDOR_TOPIC_ARN");
                        (vec![stack.reference(&topic)], Some(stack.key_of(&topic)))
                    }
                    "S3Archive" => {
                        let bucket = resource_of("MGRID_ARCHIVE_BUCKET");
                        let key = mgrid_contract::ArchiveKey::parse(
                            "webhooks/stripe/2026/11/30/14/evt_1.json",
                        )
                        .expect("an archive key");
                        (
                            vec![format!("{}/{key}", stack.attribute(&bucket, "Arn"))],
                            Some(stack.key_of(&bucket)),
                        )
                    }
                    other => panic!("adapter {other} is not modelled here: add what it reaches"),
                };
                for resource in &resources {
                    all.push(request(role.clone(), &action, resource, why.clone()));
                }
                if let Some(key) = key {
                    all.extend(kms_for(&role, &action, &key, &why));
                }
            }
        }
    }

    for mapping in stack.ids_of("AWS::Lambda::EventSourceMapping") {
        let properties = &stack.definition(&mapping)["Properties"];
        let queue = Stack::target(&properties["EventSourceArn"]).unwrap();
        // The mapping invokes the function's alias and polls with the function's role.
        let target = stack.function_of(&Stack::target(&properties["FunctionName"]).unwrap());
        let role =
            Caller::Role(Stack::target(&stack.definition(&target)["Properties"]["Role"]).unwrap());
        let arn = stack.attribute(&queue, "Arn");
        for action in [
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
        ] {
            all.push(request(
                role.clone(),
                action,
                &arn,
                format!("{mapping} polls {queue}"),
            ));
        }
        all.extend(kms_for(
            &role,
            "sqs:ReceiveMessage",
            &stack.key_of(&queue),
            &format!("{mapping} polls {queue}"),
        ));
    }

    for pipe in stack.ids_of("AWS::Pipes::Pipe") {
        let properties = stack.resolve(&stack.definition(&pipe)["Properties"]);
        let role =
            Caller::Role(Stack::target(&stack.definition(&pipe)["Properties"]["RoleArn"]).unwrap());
        let source = properties["Source"].as_str().unwrap();
        assert!(
            source.contains(":dynamodb:") && source.contains("/stream/"),
            "{pipe}: a stream source"
        );
        for action in [
            "dynamodb:DescribeStream",
            "dynamodb:GetRecords",
            "dynamodb:GetShardIterator",
        ] {
            all.push(request(
                role.clone(),
                action,
                source,
                format!("{pipe} reads its source"),
            ));
        }
        // An account-level action: it takes no resource.
        all.push(request(
            role.clone(),
            "dynamodb:ListStreams",
            "*",
            format!("{pipe} finds its source's shards"),
        ));
        let target = properties["Target"].as_str().unwrap();
        let target_id = stack.owner_of(target);
        match stack.kind(&target_id) {
            "AWS::Lambda::Function" => all.push(request(
                role.clone(),
                "lambda:InvokeFunction",
                target,
                format!("{pipe} invokes its target"),
            )),
            "AWS::SNS::Topic" => {
                all.push(request(
                    role.clone(),
                    "sns:Publish",
                    target,
                    format!("{pipe} publishes to its target"),
                ));
                all.extend(kms_for(
                    &role,
                    "sns:Publish",
                    &stack.key_of(&target_id),
                    &format!("{pipe} publishes"),
                ));
            }
            kind => panic!("{pipe}: a {kind} target is not modelled"),
        }
        let dlq =
            properties["SourceParameters"]["DynamoDBStreamParameters"]["DeadLetterConfig"]["Arn"]
                .as_str()
                .unwrap();
        all.push(request(
            role.clone(),
            "sqs:SendMessage",
            dlq,
            format!("{pipe} dead-letters a batch"),
        ));
        all.extend(kms_for(
            &role,
            "sqs:SendMessage",
            &stack.key_of(&stack.owner_of(dlq)),
            &format!("{pipe} dead-letters"),
        ));
        if let Some(group) =
            properties["LogConfiguration"]["CloudwatchLogsLogDestination"]["LogGroupArn"].as_str()
        {
            let stream = format!("{}:log-stream:pipe-{pipe}", group.trim_end_matches(":*"));
            for action in ["logs:CreateLogStream", "logs:PutLogEvents"] {
                all.push(request(
                    role.clone(),
                    action,
                    &stream,
                    format!("{pipe} logs its errors"),
                ));
            }
        }
    }

    for method in stack.ids_of("AWS::ApiGateway::Method") {
        let integration = &stack.definition(&method)["Properties"]["Integration"];
        let Some(role) = Stack::target(&integration["Credentials"]) else {
            continue;
        };
        let uri = stack.resolve(&integration["Uri"]);
        let queue_name = uri.as_str().unwrap().rsplit('/').next().unwrap().to_owned();
        let queue = stack.owner_of(&format!(
            "https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{queue_name}"
        ));
        let role = Caller::Role(role);
        let why = format!("API Gateway queues {method}'s webhooks");
        all.push(request(
            role.clone(),
            "sqs:SendMessage",
            &stack.attribute(&queue, "Arn"),
            why.clone(),
        ));
        all.extend(kms_for(
            &role,
            "sqs:SendMessage",
            &stack.key_of(&queue),
            &why,
        ));
    }

    // Services that assume the stage's roles, with the context each supplies.
    for role in stack.ids_of("AWS::IAM::Role") {
        let trust = &stack.definition(&role)["Properties"]["AssumeRolePolicyDocument"];
        let service = trust["Statement"][0]["Principal"]["Service"]
            .as_str()
            .unwrap()
            .to_owned();
        let arn = stack.attribute(&role, "Arn");
        let assume = request(
            Caller::Service(service.clone()),
            "sts:AssumeRole",
            &arn,
            format!("{service} assumes {role}"),
        );
        match service.as_str() {
            // API Gateway supplies neither aws:SourceAccount nor aws:SourceArn for an
            // integration role.
            "apigateway.amazonaws.com" => all.push(assume),
            "lambda.amazonaws.com" => all.push(assume),
            // CodeDeploy supplies aws:SourceAccount when it assumes a deployment group's role.
            "codedeploy.amazonaws.com" => {
                all.push(assume.clone().with("aws:SourceAccount", ACCOUNT));
                all.push(assume.with("aws:SourceAccount", "210987654321").denied());
            }
            "pipes.amazonaws.com" => {
                let pipe = stack
                    .ids_of("AWS::Pipes::Pipe")
                    .into_iter()
                    .find(|p| {
                        Stack::target(&stack.definition(p)["Properties"]["RoleArn"]).as_deref()
                            == Some(&role)
                    })
                    .expect("the pipe of a pipe role");
                let pipe_arn = stack.attribute(&pipe, "Arn");
                all.push(
                    assume
                        .clone()
                        .with("aws:SourceAccount", ACCOUNT)
                        .with("aws:SourceArn", &pipe_arn),
                );
                all.push(
                    assume
                        .with("aws:SourceAccount", "210987654321")
                        .with("aws:SourceArn", &pipe_arn.replace(ACCOUNT, "210987654321"))
                        .denied(),
                );
            }
            other => panic!("{role}: {other} is not modelled"),
        }
    }

    // CodeDeploy shifts the processor alias's traffic with the deployment group's role: it
    // reads and moves the alias, checks its provisioned concurrency, and polls the guard alarms.
    for group in stack.ids_of("AWS::CodeDeploy::DeploymentGroup") {
        let definition = &stack.definition(&group)["Properties"];
        let role = Caller::Role(Stack::target(&definition["ServiceRoleArn"]).unwrap());
        let alias = stack
            .ids_of("AWS::Lambda::Alias")
            .into_iter()
            .find(|alias| {
                Stack::target(
                    &stack.definition(alias)["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]
                        ["DeploymentGroupName"],
                )
                .as_deref()
                    == Some(&group)
            })
            .unwrap_or_else(|| panic!("no alias is shifted by {group}"));
        let function = stack.attribute(&stack.function_of(&alias), "Arn");
        let why = format!("CodeDeploy shifts {alias} ({group})");
        for action in ["lambda:GetAlias", "lambda:UpdateAlias"] {
            all.push(request(role.clone(), action, &function, why.clone()));
        }
        // On the alias. iam-simulate refuses an alias ARN ("multiple.resource.types": an alias
        // and a version ARN have the same shape), so the request names the function's every
        // qualifier, which the simulator evaluates for both types.
        let alias_arn = stack.reference(&alias);
        let (qualified, _) = alias_arn.rsplit_once(':').unwrap();
        all.push(request(
            role.clone(),
            "lambda:GetProvisionedConcurrencyConfig",
            &format!("{qualified}:*"),
            why.clone(),
        ));
        let alarms = definition["AlarmConfiguration"]["Fn::If"][1]["Alarms"]
            .as_array()
            .expect("the guard alarms");
        assert!(!alarms.is_empty(), "{group} has no guard alarm");
        for alarm in alarms {
            let alarm = Stack::target(&alarm["Fn::If"][1]["Name"]).expect("a stage alarm");
            all.push(request(
                role.clone(),
                "cloudwatch:DescribeAlarms",
                &format!(
                    "arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{}",
                    stack.reference(&alarm)
                ),
                format!("CodeDeploy polls {alarm} while it shifts {alias}"),
            ));
        }
        // DescribeAlarms by name, as CodeDeploy may ask it (the grant is on every alarm).
        all.push(request(
            role.clone(),
            "cloudwatch:DescribeAlarms",
            "*",
            format!("CodeDeploy polls the guards while it shifts {alias}"),
        ));
    }

    // API Gateway invokes the authorizer with only aws:SourceArn in the context.
    let authorizer_source =
        format!("arn:aws:execute-api:{REGION}:{ACCOUNT}:{API_ID}/authorizers/{AUTHORIZER_ID}");
    let authorizer = stack.attribute("AuthorizerFunction", "Arn");
    let invoke = request(
        Caller::Service("apigateway.amazonaws.com".into()),
        "lambda:InvokeFunction",
        &authorizer,
        "API Gateway asks the authorizer",
    );
    all.push(invoke.clone().with("aws:SourceArn", &authorizer_source));
    all.push(
        invoke
            .with(
                "aws:SourceArn",
                &format!(
                    "arn:aws:execute-api:{REGION}:{ACCOUNT}:someoneelse/authorizers/{AUTHORIZER_ID}"
                ),
            )
            .denied(),
    );

    // CloudWatch Logs encrypts each log group under the stage key.
    let key = stack.attribute("StageKey", "Arn");
    let logs = format!("logs.{REGION}.amazonaws.com");
    for group in stack.ids_of("AWS::Logs::LogGroup") {
        if Stack::target(&stack.definition(&group)["Properties"]["KmsKeyId"]).is_none() {
            continue;
        }
        let group_arn = format!(
            "arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{}",
            stack.reference(&group)
        );
        for action in ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"] {
            all.push(
                request(
                    Caller::Service(logs.clone()),
                    action,
                    &key,
                    format!("CloudWatch Logs encrypts {group}"),
                )
                .with("kms:EncryptionContext:aws:logs:arn", &group_arn),
            );
        }
    }

    // ... and no log group of another stage, even one whose name starts with this one's.
    for other in [
        format!("/aws/lambda/marketgrid-{STAGE}-eu-processor"),
        "/aws/lambda/someone-elses-function".to_owned(),
    ] {
        all.push(
            request(
                Caller::Service(logs.clone()),
                "kms:Decrypt",
                &key,
                format!("CloudWatch Logs decrypts {other}"),
            )
            .with(
                "kms:EncryptionContext:aws:logs:arn",
                &format!("arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{other}"),
            )
            .denied(),
        );
    }

    // Alarms publish to the encrypted ops topic.
    let alarm =
        format!("arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:marketgrid-{STAGE}-dlq-not-empty");
    let cloudwatch = Caller::Service("cloudwatch.amazonaws.com".into());
    let ops_topic = stack.reference("OpsTopic");
    all.push(
        request(
            cloudwatch.clone(),
            "sns:Publish",
            &ops_topic,
            "an alarm notifies the ops topic",
        )
        .with("aws:SourceAccount", ACCOUNT)
        .with("aws:SourceArn", &alarm),
    );
    for action in ["kms:GenerateDataKey", "kms:Decrypt"] {
        all.push(
            request(
                cloudwatch.clone(),
                action,
                &key,
                "an alarm publishes to the encrypted ops topic",
            )
            .with("aws:SourceAccount", ACCOUNT)
            .with("aws:SourceArn", &alarm),
        );
    }
    all
}

/// The resource policy that governs a request, if any.
fn resource_policy(stack: &Stack, request: &Request) -> Option<Value> {
    let service = request.action.split(':').next().unwrap();
    let find = |kind: &str, listed: &dyn Fn(&Value) -> bool| {
        stack
            .ids_of(kind)
            .into_iter()
            .find(|id| listed(&stack.definition(id)["Properties"]))
            .map(|id| stack.resolve(&stack.definition(&id)["Properties"]["PolicyDocument"]))
    };
    match service {
        "sts" => {
            let role = stack
                .ids_of("AWS::IAM::Role")
                .into_iter()
                .find(|id| stack.attribute(id, "Arn") == request.resource)?;
            Some(stack.resolve(&stack.definition(&role)["Properties"]["AssumeRolePolicyDocument"]))
        }
        "kms" => {
            let policy = stack.resolve(&stack.definition("StageKey")["Properties"]["KeyPolicy"]);
            Some(
                serde_json::from_str(policy.as_str().expect("the key policy is a JSON string"))
                    .expect("JSON"),
            )
        }
        "sqs" => find("AWS::SQS::QueuePolicy", &|p| {
            stack
                .resolve(&p["Queues"])
                .as_array()
                .unwrap()
                .iter()
                .any(|url| {
                    url.as_str().unwrap().rsplit('/').next() == request.resource.rsplit(':').next()
                })
        }),
        "s3" => find("AWS::S3::BucketPolicy", &|p| {
            let bucket = stack.resolve(&p["Bucket"]);
            request
                .resource
                .starts_with(&format!("arn:aws:s3:::{}", bucket.as_str().unwrap()))
        }),
        "sns" => find("AWS::SNS::TopicPolicy", &|p| {
            stack
                .resolve(&p["Topics"])
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t == request.resource.as_str())
        }),
        "lambda" => {
            let statements: Vec<Value> = stack
                .ids_of("AWS::Lambda::Permission")
                .into_iter()
                .map(|id| stack.resolve(&stack.definition(&id)["Properties"]))
                .filter(|p| p["FunctionName"] == request.resource.as_str())
                .map(|p| lambda_permission_statement(&p))
                .collect();
            (!statements.is_empty())
                .then(|| json!({"Version": "2012-10-17", "Statement": statements}))
        }
        _ => None,
    }
}

/// The resource-policy statement Lambda makes of an `AWS::Lambda::Permission`.
fn lambda_permission_statement(permission: &Value) -> Value {
    let mut condition = Map::new();
    if let Some(arn) = permission["SourceArn"].as_str() {
        condition.insert("ArnLike".into(), json!({"AWS:SourceArn": arn}));
    }
    if let Some(account) = permission["SourceAccount"].as_str() {
        condition.insert("StringEquals".into(), json!({"AWS:SourceAccount": account}));
    }
    json!({
        "Effect": "Allow",
        "Principal": {"Service": permission["Principal"]},
        "Action": permission["Action"],
        "Resource": permission["FunctionName"],
        "Condition": condition,
    })
}

/// The identity policies of a role, resolved.
fn identity_policies(stack: &Stack, role: &str) -> Vec<Value> {
    stack.definition(role)["Properties"]["Policies"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| json!({"name": p["PolicyName"], "policy": stack.resolve(&p["PolicyDocument"])}))
        .collect()
}

fn simulation(stack: &Stack, request: &Request) -> Value {
    let (principal, identity) = match &request.caller {
        Caller::Role(role) => (
            format!(
                "arn:aws:sts::{ACCOUNT}:assumed-role/{}/session",
                stack.reference(role)
            ),
            identity_policies(stack, role),
        ),
        Caller::Service(service) => (service.clone(), Vec::new()),
    };
    let mut simulation = json!({
        "identityPolicies": identity,
        "request": {
            "action": request.action,
            "principal": principal,
            "resource": {"resource": request.resource, "accountId": ACCOUNT},
            "contextVariables": request.context,
        },
    });
    if let Some(policy) = resource_policy(stack, request) {
        simulation["resourcePolicy"] = policy;
    }
    simulation
}

/// Runs the evaluator over the simulations and the actions.
fn evaluate(simulations: Vec<Value>, actions: Vec<String>) -> Value {
    let modules = repo_root().join(".ci/iam");
    assert!(
        modules
            .join("node_modules/@cloud-copilot/iam-simulate")
            .is_dir(),
        "the IAM evaluator is not installed: run `.ci/setup` once (it installs .ci/iam's locked npm packages)"
    );
    let input = json!({"simulations": simulations, "actions": actions}).to_string();
    let input_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(input_file.path(), input).unwrap();
    let output = Command::new("node")
        .arg(repo_root().join("tests/engines/iam-check.mjs"))
        .arg(&modules)
        .stdin(std::fs::File::open(input_file.path()).unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("run node (Node.js 18+)");
    assert!(
        output.status.success(),
        "the IAM evaluator failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the evaluator prints JSON")
}

/// Every action any policy of the template names.
fn actions_named(stack: &Stack) -> Vec<String> {
    fn collect(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(object) => {
                for (key, inner) in object {
                    if key == "Action" {
                        match inner {
                            Value::String(action) => out.push(action.clone()),
                            Value::Array(actions) => out.extend(
                                actions.iter().filter_map(|a| a.as_str().map(str::to_owned)),
                            ),
                            _ => {}
                        }
                    } else {
                        collect(inner, out);
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|item| collect(item, out)),
            _ => {}
        }
    }
    let mut actions = Vec::new();
    for (id, definition) in &stack.resources {
        let mut resolved = stack.resolve(&definition["Properties"]);
        if id == "StageKey" {
            resolved = serde_json::from_str(resolved["KeyPolicy"].as_str().unwrap()).unwrap();
        }
        collect(&resolved, &mut actions);
    }
    actions.retain(|action| action.contains(':') && action != "*");
    actions.sort();
    actions.dedup();
    actions
}

/// Does an IAM resource pattern (with `*` and `?`) match `resource`?
fn matches(pattern: &str, resource: &str) -> bool {
    fn go(p: &[u8], r: &[u8]) -> bool {
        match (p.first(), r.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], r) || (!r.is_empty() && go(p, &r[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &r[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &r[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), resource.as_bytes())
}

fn as_list(value: &Value) -> Vec<String> {
    match value {
        Value::String(one) => vec![one.clone()],
        Value::Array(many) => many
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// The simulator ignores `kms:EncryptionContext:<key>` condition keys (it takes variable keys
/// only in the `prefix/variable` form), so a request that carries one is judged here: allowed
/// when a statement of the key policy names the caller's service, covers the action, and every
/// condition is an ArnLike or StringEquals/StringLike on keys the request carries, matching.
fn judged_here(stack: &Stack, request: &Request) -> Option<bool> {
    if !request
        .context
        .keys()
        .any(|k| k.starts_with("kms:EncryptionContext:"))
    {
        return None;
    }
    let Caller::Service(service) = &request.caller else {
        panic!("an encryption context from a role is not modelled");
    };
    let policy = resource_policy(stack, request).expect("the key policy");
    let allowed = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .any(|statement| {
            statement["Effect"] == "Allow"
                && as_list(&statement["Principal"]["Service"]).contains(service)
                && as_list(&statement["Action"])
                    .iter()
                    .any(|a| matches(&a.to_lowercase(), &request.action.to_lowercase()))
                && statement["Condition"]
                    .as_object()
                    .is_some_and(|conditions| {
                        conditions.iter().all(|(operator, tests)| {
                            ["ArnLike", "StringEquals", "StringLike"].contains(&operator.as_str())
                                && tests.as_object().unwrap().iter().all(|(key, wanted)| {
                                    request
                                        .context
                                        .get(key)
                                        .and_then(Value::as_str)
                                        .is_some_and(|value| {
                                            as_list(wanted).iter().any(|pattern| {
                                                if operator == "StringEquals" {
                                                    pattern == value
                                                } else {
                                                    matches(pattern, value)
                                                }
                                            })
                                        })
                                })
                        })
                    })
        });
    Some(allowed)
}

#[test]
fn every_operation_of_the_stage_is_allowed_and_nothing_more_is_granted() {
    let stack = Stack::new();
    let requests = requests(&stack);
    let simulations = requests
        .iter()
        .enumerate()
        .map(|(i, r)| json!({"name": i.to_string(), "simulation": simulation(&stack, r)}))
        .collect();
    let actions = actions_named(&stack);
    let report = evaluate(simulations, actions);

    let mut failures = Vec::new();
    for (request, result) in requests
        .iter()
        .zip(report["simulations"].as_array().unwrap())
    {
        let who = match &request.caller {
            Caller::Role(role) => role.clone(),
            Caller::Service(service) => service.clone(),
        };
        let outcome = match judged_here(&stack, request) {
            Some(true) => Some("Allowed"),
            Some(false) => Some("ImplicitlyDenied"),
            None => result["result"].as_str(),
        };
        let expected = if request.allowed { "Allowed" } else { "denied" };
        let ok = match outcome {
            Some("Allowed") => request.allowed,
            Some(_) => !request.allowed,
            None => false,
        };
        if !ok {
            failures.push(format!(
                "{who} {} on {} ({}): {} instead of {expected}{}",
                request.action,
                request.resource,
                request.why,
                outcome.unwrap_or("invalid"),
                if result["errors"].is_null() {
                    String::new()
                } else {
                    format!(": {}", result["errors"])
                }
            ));
        }
    }

    // Nothing more: each grant of each role is used by some request of that role.
    for role in stack.ids_of("AWS::IAM::Role") {
        let used: Vec<&Request> = requests
            .iter()
            .filter(|r| r.caller == Caller::Role(role.clone()) && r.allowed)
            .collect();
        for policy in identity_policies(&stack, &role) {
            for statement in policy["policy"]["Statement"].as_array().unwrap() {
                for action in as_list(&statement["Action"]) {
                    for resource in as_list(&statement["Resource"]) {
                        let performed = used.iter().any(|r| {
                            r.action.eq_ignore_ascii_case(&action)
                                && matches(&resource, &r.resource)
                        });
                        if !performed {
                            failures.push(format!(
                                "{role} grants {action} on {resource} ({}), which nothing of the stage performs",
                                statement["Sid"].as_str().unwrap_or("no Sid")
                            ));
                        }
                    }
                }
            }
        }
    }

    for checked in report["actions"].as_array().unwrap() {
        if checked["exists"] != true {
            failures.push(format!("{} is not an IAM action", checked["action"]));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} IAM checks failed:\n  {}",
        failures.len(),
        requests.len(),
        failures.join("\n  ")
    );
}

#[test]
fn the_resource_matcher_follows_iam_wildcards() {
    assert!(matches(
        "arn:aws:logs:r:a:log-group:g:*",
        "arn:aws:logs:r:a:log-group:g:log-stream:s"
    ));
    assert!(!matches(
        "arn:aws:logs:r:a:log-group:g:*",
        "arn:aws:logs:r:a:log-group:gg:log-stream:s"
    ));
    assert!(matches(
        "arn:aws:s3:::b/webhooks/*",
        "arn:aws:s3:::b/webhooks/stripe/x.json"
    ));
    assert!(!matches(
        "arn:aws:s3:::b/webhooks/*",
        "arn:aws:s3:::b/other"
    ));
    assert!(matches("*", "anything"));
    assert!(matches("a?c", "abc"));
}
