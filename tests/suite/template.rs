//! What the stage template must hold, asserted on its CloudFormation model. The AWS emulator
//! ignores several of these settings (PITR, bucket key, versioning, lifecycle, public access
//! block, X-Ray, and every WAF, Pipes, alarm and API stage resource, which it skips), so this
//! is where they are proven; tests/suite/emulator.rs proves what the emulator does create.

use mgrid::decide::template::{PIPELINE_YAML, Template};
use mgrid_contract::StageParameter;
use serde_json::{Value, json};

fn template() -> Template {
    Template::pipeline().expect("the embedded template parses")
}

fn resource(template: &Template, id: &str) -> Value {
    template.model()["Resources"][id].clone()
}

fn properties(template: &Template, id: &str) -> Value {
    let resource = resource(template, id);
    assert!(!resource.is_null(), "no resource {id}");
    resource["Properties"].clone()
}

fn ids_of_type(template: &Template, kind: &str) -> Vec<String> {
    template
        .resources()
        .filter(|(_, d)| Template::resource_type(d) == kind)
        .map(|(id, _)| id.to_owned())
        .collect()
}

fn statements(policy: &Value) -> Vec<Value> {
    policy["Statement"].as_array().cloned().unwrap_or_default()
}

#[test]
fn the_stage_key_rotates_and_lets_each_service_use_it_scoped_to_the_stage() {
    let t = template();
    let key = resource(&t, "StageKey");
    assert_eq!(key["DeletionPolicy"], "RetainExceptOnCreate");
    assert_eq!(key["UpdateReplacePolicy"], "Retain");
    assert_eq!(key["Properties"]["EnableKeyRotation"], true);
    // The policy is a !Sub string (the emulator fails on a YAML map); read its JSON.
    let policy_text = key["Properties"]["KeyPolicy"]["Fn::Sub"].as_str().unwrap();
    let policy: Value = serde_json::from_str(policy_text).expect("the key policy is JSON");
    let principals: Vec<String> = statements(&policy)
        .iter()
        .map(|s| s["Principal"].to_string())
        .collect();
    for service in [
        "logs.${AWS::Region}.amazonaws.com",
        "cloudwatch.amazonaws.com",
        "sns.amazonaws.com",
    ] {
        let statement = statements(&policy)
            .into_iter()
            .find(|s| s["Principal"]["Service"] == service)
            .unwrap_or_else(|| panic!("no key policy statement for {service}: {principals:?}"));
        assert!(
            !statement["Condition"].is_null(),
            "{service} is not scoped by a condition"
        );
    }
    assert_eq!(
        properties(&t, "StageKeyAlias")["AliasName"],
        json!({"Fn::Sub": "alias/marketgrid-${Stage}"})
    );
}

/// The sparse index the commands query is the one the contract names, keyed by the attribute
/// the processor writes, and projects every attribute a report of an unsettled payment reads
/// (so listing what is unsettled never reads the table).
#[test]
fn the_unsettled_index_is_the_contracts_sparse_index_with_its_projection() {
    use mgrid_contract::settlement::{INDEX_PROJECTION, UNSETTLED, UNSETTLED_INDEX};
    let t = template();
    let p = &resource(&t, "TransactionsTable")["Properties"];
    let index = p["GlobalSecondaryIndexes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["IndexName"] == UNSETTLED_INDEX)
        .expect("the unsettled index");
    assert_eq!(
        index["KeySchema"],
        json!([{"AttributeName": UNSETTLED, "KeyType": "HASH"}, {"AttributeName": "transactionId", "KeyType": "RANGE"}])
    );
    assert!(
        p["AttributeDefinitions"]
            .as_array()
            .unwrap()
            .contains(&json!({"AttributeName": UNSETTLED, "AttributeType": "S"}))
    );
    assert_eq!(index["Projection"]["ProjectionType"], "INCLUDE");
    assert_eq!(
        index["Projection"]["NonKeyAttributes"],
        json!(INDEX_PROJECTION)
    );
}

#[test]
fn the_ledger_is_on_demand_recoverable_encrypted_streamed_indexed_and_retained() {
    let t = template();
    let table = resource(&t, "TransactionsTable");
    // Kept once created; a failed first create leaves nothing behind.
    assert_eq!(table["DeletionPolicy"], "RetainExceptOnCreate");
    assert_eq!(table["UpdateReplacePolicy"], "Retain");
    let p = &table["Properties"];
    assert_eq!(p["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(
        p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        true
    );
    assert_eq!(p["SSESpecification"]["SSEType"], "KMS");
    assert_eq!(
        p["SSESpecification"]["KMSMasterKeyId"],
        json!({"Fn::GetAtt": ["StageKey", "Arn"]})
    );
    assert_eq!(
        p["StreamSpecification"]["StreamViewType"],
        "NEW_AND_OLD_IMAGES"
    );
    assert_eq!(
        p["KeySchema"],
        json!([{"AttributeName": "transactionId", "KeyType": "HASH"}])
    );
    let index = &p["GlobalSecondaryIndexes"][0];
    assert_eq!(index["IndexName"], "VendorIndex");
    assert_eq!(
        index["KeySchema"],
        json!([{"AttributeName": "vendorId", "KeyType": "HASH"}, {"AttributeName": "eventTime", "KeyType": "RANGE"}])
    );
    assert!(
        !PIPELINE_YAML.contains("AttributeName: timestamp"),
        "timestamp is a reserved word (D24)"
    );
}

#[test]
fn the_archive_is_encrypted_private_tls_only_versioned_and_tiered() {
    let t = template();
    let bucket = resource(&t, "ArchiveBucket");
    assert_eq!(bucket["DeletionPolicy"], "RetainExceptOnCreate");
    assert_eq!(bucket["UpdateReplacePolicy"], "Retain");
    let p = &bucket["Properties"];
    let sse = &p["BucketEncryption"]["ServerSideEncryptionConfiguration"][0];
    assert_eq!(
        sse["ServerSideEncryptionByDefault"]["SSEAlgorithm"],
        "aws:kms"
    );
    assert_eq!(sse["BucketKeyEnabled"], true);
    for setting in [
        "BlockPublicAcls",
        "BlockPublicPolicy",
        "IgnorePublicAcls",
        "RestrictPublicBuckets",
    ] {
        assert_eq!(
            p["PublicAccessBlockConfiguration"][setting], true,
            "{setting}"
        );
    }
    assert_eq!(p["VersioningConfiguration"]["Status"], "Enabled");
    let lifecycle = &p["LifecycleConfiguration"];
    assert_eq!(
        lifecycle["TransitionDefaultMinimumObjectSize"],
        "all_storage_classes_128K"
    );
    let rule = &lifecycle["Rules"][0];
    assert_eq!(
        rule["Transitions"],
        json!([{"StorageClass": "STANDARD_IA", "TransitionInDays": 90}, {"StorageClass": "GLACIER", "TransitionInDays": 180}])
    );
    assert!(
        rule["NoncurrentVersionExpiration"]["NoncurrentDays"]
            .as_u64()
            .is_some()
    );
    let policy = &properties(&t, "ArchiveBucketPolicy")["PolicyDocument"];
    let deny = &statements(policy)[0];
    assert_eq!(deny["Effect"], "Deny");
    assert_eq!(deny["Condition"]["Bool"]["aws:SecureTransport"], "false");
}

#[test]
fn a_fifteen_minute_outage_dead_letters_nothing() {
    let t = template();
    let queue = properties(&t, "WebhookQueue");
    let visibility = queue["VisibilityTimeout"].as_u64().unwrap();
    let max_receives = queue["RedrivePolicy"]["maxReceiveCount"].as_u64().unwrap();
    // A message the processor fails (or holds back for its group) comes back once per
    // visibility timeout: receives at 0, v, 2v, ... through the outage.
    let receives_during_outage = 15 * 60 / visibility + 1;
    // Lambda's advice for throttled receives alone: at least 5.
    let throttling_margin = 4;
    assert!(
        max_receives >= receives_during_outage + throttling_margin,
        "maxReceiveCount {max_receives} dead-letters a group within a 15-minute outage \
         ({receives_during_outage} receives at {visibility} s visibility, plus {throttling_margin} for throttling)"
    );
    assert_eq!(
        u64::from(mgrid::local::db::MAX_RECEIVES),
        max_receives,
        "mgrid dev dead-letters after as many receives as the stage"
    );
}

#[test]
fn the_webhook_queues_are_high_throughput_fifo_with_a_fifo_dlq_and_a_standard_pipe_dlq() {
    let t = template();
    let queue = properties(&t, "WebhookQueue");
    assert_eq!(queue["FifoQueue"], true);
    assert_eq!(queue["ContentBasedDeduplication"], false);
    assert_eq!(queue["DeduplicationScope"], "messageGroup");
    assert_eq!(queue["FifoThroughputLimit"], "perMessageGroupId");
    assert_eq!(queue["MessageRetentionPeriod"], 7 * 24 * 3600);
    assert_eq!(
        queue["RedrivePolicy"]["deadLetterTargetArn"],
        json!({"Fn::GetAtt": ["WebhookDeadLetterQueue", "Arn"]})
    );
    let dlq = properties(&t, "WebhookDeadLetterQueue");
    assert_eq!(dlq["FifoQueue"], true);
    assert_eq!(dlq["MessageRetentionPeriod"], 14 * 24 * 3600);
    let pipe_dlq = properties(&t, "PipeDeadLetterQueue");
    assert!(
        pipe_dlq["FifoQueue"].is_null(),
        "a pipe DLQ must be a standard queue (D8)"
    );
    for id in [
        "WebhookQueue",
        "WebhookDeadLetterQueue",
        "PipeDeadLetterQueue",
    ] {
        assert_eq!(
            properties(&t, id)["KmsMasterKeyId"],
            json!({"Ref": "StageKey"}),
            "{id}"
        );
    }
}

#[test]
fn each_provider_route_validates_the_body_and_sends_straight_to_the_queue() {
    let t = template();
    for method in ["StripeWebhookMethod", "PaypalWebhookMethod"] {
        let p = properties(&t, method);
        assert_eq!(p["HttpMethod"], "POST");
        assert_eq!(p["AuthorizationType"], "CUSTOM");
        let integration = &p["Integration"];
        assert_eq!(integration["Type"], "AWS");
        assert_eq!(integration["PassthroughBehavior"], "NEVER");
        assert!(
            integration["Uri"]["Fn::Sub"]
                .as_str()
                .unwrap()
                .contains(":sqs:path/")
        );
        // What the request template renders is proven by running it: tests/suite/apigateway.rs.
        assert_eq!(
            p["RequestValidatorId"],
            json!({"Ref": "WebhookBodyValidator"}),
            "{method}: a body that is not JSON must be refused before the template runs"
        );
        assert_eq!(
            p["RequestModels"]["application/json"],
            json!({"Ref": "WebhookBodyModel"}),
            "{method}"
        );
        for response in integration["IntegrationResponses"].as_array().unwrap() {
            let status = response["StatusCode"].as_str().unwrap();
            assert!(
                status == "200" || status.starts_with('5'),
                "{method}: SQS errors must be retried"
            );
        }
    }
    assert!(
        !t.resources()
            .any(|(_, d)| d["Properties"]["HttpMethod"] == "OPTIONS"),
        "no CORS on a server-to-server API (D23)"
    );
}

#[test]
fn the_authorizer_is_a_request_authorizer_that_api_gateway_always_asks() {
    let t = template();
    let authorizer = properties(&t, "WebhookAuthorizer");
    assert_eq!(authorizer["Type"], "REQUEST");
    assert!(
        authorizer["IdentitySource"].is_null(),
        "an identity source makes API Gateway 401 without asking"
    );
    assert_eq!(authorizer["AuthorizerResultTtlInSeconds"], 0);
}

#[test]
fn the_stage_traces_logs_access_and_counts_and_waf_guards_it() {
    let t = template();
    let stage = properties(&t, "ApiStage");
    assert_eq!(stage["TracingEnabled"], true);
    assert_eq!(
        stage["AccessLogSetting"]["DestinationArn"],
        json!({"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]})
    );
    assert_eq!(stage["MethodSettings"][0]["MetricsEnabled"], true);
    assert_eq!(stage["MethodSettings"][0]["LoggingLevel"], "ERROR");
    let format = stage["AccessLogSetting"]["Format"].as_str().unwrap();
    assert!(
        !format.contains("querystring") && !format.contains("$context.path"),
        "the API key may be in the query"
    );

    let acl = properties(&t, "WebAcl");
    let rules = acl["Rules"].as_array().unwrap();
    let common = rules
        .iter()
        .find(|r| {
            r["Statement"]["ManagedRuleGroupStatement"]["Name"] == "AWSManagedRulesCommonRuleSet"
        })
        .expect("the AWS common rule set");
    assert!(
        common["Statement"]["ManagedRuleGroupStatement"]["RuleActionOverrides"]
            .as_array()
            .unwrap()
            .contains(&json!({"Name": "SizeRestrictions_BODY", "ActionToUse": {"Count": {}}})),
        "large Stripe events must not be blocked (D9)"
    );
    let rate = rules
        .iter()
        .find(|r| !r["Statement"]["RateBasedStatement"].is_null())
        .unwrap();
    assert_eq!(
        rate["Statement"]["RateBasedStatement"]["Limit"],
        json!({"Ref": "WafRateLimit"})
    );
    let association = properties(&t, "WebAclAssociation")["ResourceArn"]["Fn::Sub"].clone();
    let arn = association.as_str().unwrap();
    assert!(
        arn.contains("${ApiStage}") && arn.starts_with("arn:${AWS::Partition}:"),
        "D3: {arn}"
    );
    let redacted = properties(&t, "WebAclLogging")["RedactedFields"].clone();
    assert!(
        redacted
            .as_array()
            .unwrap()
            .contains(&json!({"QueryString": {}})),
        "WAF logs would hold API keys"
    );
}

#[test]
fn the_three_functions_run_the_artifact_on_al2023_with_tracing_and_their_own_log_groups() {
    let t = template();
    for (id, handler, log_group) in [
        ("AuthorizerFunction", "authorizer", "AuthorizerLogGroup"),
        ("ProcessorFunction", "processor", "ProcessorLogGroup"),
        ("ArchiverFunction", "archiver", "ArchiverLogGroup"),
    ] {
        let p = properties(&t, id);
        assert_eq!(p["Runtime"], "provided.al2023", "{id}");
        let architecture = &t.model()["Parameters"]["Architecture"];
        assert_eq!(architecture["AllowedValues"], json!(["arm64", "x86_64"]));
        assert_eq!(architecture["Default"], "arm64");
        assert_eq!(p["Architectures"], json!([{"Ref": "Architecture"}]), "{id}");
        assert_eq!(p["Handler"], handler, "{id}");
        assert_eq!(
            p["Code"],
            json!({"S3Bucket": {"Ref": "ArtifactBucket"}, "S3Key": {"Ref": "ArtifactKey"}}),
            "{id}"
        );
        assert_eq!(p["TracingConfig"]["Mode"], "Active", "{id}");
        assert_eq!(
            p["LoggingConfig"]["LogGroup"],
            json!({"Ref": log_group}),
            "{id}"
        );
        let logs = properties(&t, log_group);
        assert_eq!(
            logs["RetentionInDays"],
            json!({"Ref": "LogRetentionDays"}),
            "{log_group}"
        );
        assert_eq!(
            logs["KmsKeyId"],
            json!({"Fn::GetAtt": ["StageKey", "Arn"]}),
            "{log_group}"
        );
    }
    assert_eq!(
        properties(&t, "ProcessorFunction")["MemorySize"],
        json!({"Ref": "ProcessorMemory"})
    );
    assert_eq!(
        t.parameter("ProcessorMemory").unwrap().default.as_deref(),
        Some("3008")
    );
    assert!(ids_of_type(&t, "Custom::LogRetention").is_empty());
}

#[test]
fn the_event_source_reports_partial_failures_and_always_invokes_the_alias_codedeploy_shifts() {
    let t = template();
    let esm = properties(&t, "ProcessorEventSource");
    assert_eq!(
        esm["FunctionResponseTypes"],
        json!(["ReportBatchItemFailures"])
    );
    assert!(
        esm["MaximumBatchingWindowInSeconds"].is_null(),
        "FIFO event sources take no batching window"
    );
    // Queue traffic reaches a new version only through the alias, so a shift applies to it.
    assert_eq!(esm["FunctionName"], json!({"Ref": "ProcessorAlias"}));
    for id in ["ProcessorVersion", "ProcessorAlias"] {
        assert!(
            resource(&t, id)["Condition"].is_null(),
            "{id} exists on every stage"
        );
    }
    assert_eq!(
        resource(&t, "ProcessorAlias")["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"],
        json!({
            "ApplicationName": {"Ref": "DeployApplication"},
            "DeploymentGroupName": {"Ref": "ProcessorDeploymentGroup"}
        })
    );
    for id in ["ProcessorScalableTarget", "ProcessorScalingPolicy"] {
        assert_eq!(
            resource(&t, id)["Condition"],
            "UseProvisionedConcurrency",
            "{id} must be optional"
        );
    }
    assert_eq!(
        resource(&t, "ProcessorScalableTarget")["DependsOn"],
        "ProcessorAlias",
        "D4"
    );
    assert_eq!(
        properties(&t, "ProcessorVersion")["CodeSha256"],
        json!({"Ref": "ArtifactSha256"})
    );
    assert_eq!(
        t.parameter("ProvisionedConcurrencyMin")
            .unwrap()
            .default
            .as_deref(),
        Some("0")
    );
}

#[test]
fn two_pipes_carry_ledger_inserts_to_the_archiver_and_the_vendor_topic_with_bounded_retries() {
    let t = template();
    assert_eq!(
        ids_of_type(&t, "AWS::Pipes::Pipe"),
        ["ArchivePipe", "NotifyPipe"]
    );
    for id in ["ArchivePipe", "NotifyPipe"] {
        let p = properties(&t, id);
        assert!(p["Enrichment"].is_null(), "{id}: SNS is no enrichment (D1)");
        assert_eq!(
            p["SourceParameters"]["FilterCriteria"]["Filters"][0]["Pattern"],
            r#"{"eventName": ["INSERT"]}"#
        );
        let stream = &p["SourceParameters"]["DynamoDBStreamParameters"];
        assert!(
            stream["MaximumRetryAttempts"]
                .as_i64()
                .is_some_and(|n| n > 0),
            "{id}: retries are bounded (D8)"
        );
        assert!(
            stream["MaximumRecordAgeInSeconds"]
                .as_i64()
                .is_some_and(|n| n > 0),
            "{id}"
        );
        assert_eq!(
            stream["DeadLetterConfig"]["Arn"],
            json!({"Fn::GetAtt": ["PipeDeadLetterQueue", "Arn"]})
        );
    }
    assert_eq!(
        properties(&t, "ArchivePipe")["Target"],
        json!({"Fn::GetAtt": ["ArchiverFunction", "Arn"]})
    );
    // The notify leg is the notifier function (it leaves a receipt per payment), and the
    // function publishes to the vendor topic it is given.
    let notify = properties(&t, "NotifyPipe");
    assert_eq!(
        notify["Target"],
        json!({"Fn::GetAtt": ["NotifierFunction", "Arn"]})
    );
    assert_eq!(
        properties(&t, "NotifierFunction")["Environment"]["Variables"]["MGRID_VENDOR_TOPIC_ARN"],
        json!({"Ref": "VendorTopic"})
    );
    assert!(
        properties(&t, "VendorTopic")["KmsMasterKeyId"].is_object(),
        "the vendor topic is encrypted"
    );
}

#[test]
fn the_stack_publishes_every_name_the_contract_lists_in_ssm() {
    let t = template();
    let mut published: Vec<String> = ids_of_type(&t, "AWS::SSM::Parameter")
        .iter()
        .map(|id| {
            properties(&t, id)["Name"]["Fn::Sub"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    published.sort();
    let mut contract: Vec<String> = StageParameter::ALL
        .iter()
        .map(|p| format!("/marketgrid/${{Stage}}/{}", p.leaf()))
        .collect();
    contract.sort();
    assert_eq!(published, contract);
}

#[test]
fn alarms_watch_the_failure_signals_and_notify_the_ops_topic() {
    let t = template();
    let alarms = ids_of_type(&t, "AWS::CloudWatch::Alarm");
    // An alarm's metric, or each metric its metric math reads.
    let watched: Vec<String> = alarms
        .iter()
        .flat_map(|id| {
            let p = properties(&t, id);
            let math = p["Metrics"].as_array().cloned().unwrap_or_default();
            let names: Vec<String> = std::iter::once(&p["MetricName"])
                .chain(
                    math.iter()
                        .map(|m| &m["MetricStat"]["Metric"]["MetricName"]),
                )
                .filter_map(|n| n.as_str().map(str::to_owned))
                .collect();
            names
        })
        .collect();
    for metric in [
        "ApproximateNumberOfMessagesVisible",
        "ApproximateAgeOfOldestMessage",
        "Errors",
        "Throttles",
        "ExecutionFailed",
        "5XXError",
        "FailedWebhooks",
        "SuccessfulTransactions",
    ] {
        assert!(watched.iter().any(|m| m == metric), "no alarm on {metric}");
    }
    for id in &alarms {
        assert_eq!(
            properties(&t, id)["AlarmActions"],
            json!([{"Ref": "OpsTopic"}]),
            "{id}"
        );
    }
    assert_eq!(
        resource(&t, "AlarmEmailSubscription")["Condition"],
        "HasAlarmEmail"
    );
    let dashboard = properties(&t, "Dashboard")["DashboardBody"]["Fn::Sub"]
        .as_str()
        .unwrap()
        .to_owned();
    for signal in [
        "SuccessfulTransactions",
        "ApproximateAgeOfOldestMessage",
        "5XXError",
        "Throttles",
        "ExecutionFailed",
        "\"alarm\"",
    ] {
        assert!(dashboard.contains(signal), "the dashboard lacks {signal}");
    }
    // Every alarm's state is on the dashboard's alarm widget (the version guard's, whose name
    // carries the version, too).
    for id in &alarms {
        let name = properties(&t, id)["AlarmName"]["Fn::Sub"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            dashboard.contains(&format!(":alarm:{name}\"")),
            "the dashboard's alarm widget lacks {name}"
        );
    }
}

#[test]
fn the_custom_domain_is_optional_and_takes_the_zone_explicitly() {
    let t = template();
    for id in ["ApiDomainName", "ApiBasePathMapping", "ApiDomainRecord"] {
        assert_eq!(resource(&t, id)["Condition"], "HasCustomDomain", "{id}");
    }
    let record = properties(&t, "ApiDomainRecord");
    assert_eq!(record["HostedZoneId"], json!({"Ref": "HostedZoneId"}));
    assert_eq!(
        record["Name"],
        json!({"Ref": "CustomDomainName"}),
        "D21: no zone derived by splitting the name"
    );
}

#[test]
fn the_outputs_give_webhook_urls_and_names() {
    let t = template();
    let outputs = t.model()["Outputs"].as_object().unwrap();
    for name in [
        "StripeWebhookUrl",
        "PaypalWebhookUrl",
        "QueueUrl",
        "DeadLetterQueueUrl",
        "TransactionsTableName",
        "ArchiveBucketName",
        "VendorTopicArn",
        "DashboardName",
    ] {
        assert!(outputs.contains_key(name), "no output {name}");
    }
}

#[test]
fn no_arn_hard_codes_the_partition() {
    assert!(
        !PIPELINE_YAML.contains("arn:aws:"),
        "use ${{AWS::Partition}} (D20)"
    );
}

/// `mgrid metrics tail` colours a row red where the stack's alarm would fire: its catalogue
/// must name the alarms the template defines, on the same metric, statistic and threshold.
#[test]
fn the_dashboard_alarm_levels_are_the_stacks_alarm_thresholds() {
    use mgrid::decide::metrics::{Resources, signals};
    let t = template();
    let resources = Resources::named_for("prod");
    let signals = signals(&resources);
    let alarms = ids_of_type(&t, "AWS::CloudWatch::Alarm");
    let mut watched = Vec::new();
    for signal in signals.iter().filter(|s| s.alarm.is_some()) {
        let suffix = signal
            .alarm
            .as_deref()
            .unwrap()
            .strip_prefix("marketgrid-prod-")
            .unwrap();
        let wanted = format!("marketgrid-${{Stage}}-{suffix}");
        let id = alarms
            .iter()
            .find(|id| properties(&t, id)["AlarmName"]["Fn::Sub"] == wanted.as_str())
            .unwrap_or_else(|| panic!("{}: the template has no alarm {wanted}", signal.key));
        watched.push(id.clone());
        let alarm = properties(&t, id);
        assert_eq!(alarm["Namespace"], signal.namespace, "{id}");
        assert_eq!(alarm["MetricName"], signal.metric, "{id}");
        assert_eq!(alarm["Statistic"], signal.stat.as_str(), "{id}");
        let names: Vec<&str> = signal.dimensions.iter().map(|(n, _)| *n).collect();
        let template_names: Vec<&str> = alarm["Dimensions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["Name"].as_str().unwrap())
            .collect();
        assert_eq!(names, template_names, "{id}");
        let levels = signal.levels.expect("a signal with an alarm has levels");
        assert_eq!(
            alarm["Threshold"].as_f64(),
            Some(levels.alarm.value),
            "{id}"
        );
        let operator = if levels.alarm.inclusive {
            "GreaterThanOrEqualToThreshold"
        } else {
            "GreaterThanThreshold"
        };
        assert_eq!(alarm["ComparisonOperator"], operator, "{id}");
    }
    watched.sort();
    // The version guard judges one version's failure ratio (metric math over per-version
    // metrics), not a stage metric a row can draw; its state shows among the stage's alarms in
    // ALARM, and a deploy's live view tallies each version's webhooks.
    let mut all: Vec<String> = alarms
        .iter()
        .filter(|id| *id != "VersionFailuresAlarm")
        .cloned()
        .collect();
    all.sort();
    assert_eq!(
        watched, all,
        "every alarm of the stack has its row on the dashboard"
    );
}

#[test]
fn mgrid_logs_reads_the_log_groups_the_stack_makes() {
    use mgrid::decide::logs::LogSource;
    let template = template();
    let stage: mgrid_contract::StageName = "zz".parse().unwrap();
    for (id, source) in [
        ("AuthorizerLogGroup", LogSource::Authorizer),
        ("ProcessorLogGroup", LogSource::Processor),
        ("ArchiverLogGroup", LogSource::Archiver),
        ("ApiAccessLogGroup", LogSource::Api),
    ] {
        let expected = source.log_group(&stage).replace("-zz-", "-${Stage}-");
        assert_eq!(
            properties(&template, id)["LogGroupName"],
            json!({ "Fn::Sub": expected }),
            "{id}"
        );
    }
}

/// A template value with its Fn::If resolved by `conditions` (AWS::NoValue items dropped).
fn resolved(value: &Value, conditions: &std::collections::BTreeMap<String, bool>) -> Option<Value> {
    match value {
        Value::Object(map) if map.contains_key("Fn::If") => {
            let branches = map["Fn::If"].as_array().unwrap();
            let pick = if conditions[branches[0].as_str().unwrap()] {
                1
            } else {
                2
            };
            resolved(&branches[pick], conditions)
        }
        Value::Object(map) if map.get("Ref") == Some(&json!("AWS::NoValue")) => None,
        Value::Object(map) => Some(Value::Object(
            map.iter()
                .filter_map(|(k, v)| Some((k.clone(), resolved(v, conditions)?)))
                .collect(),
        )),
        Value::Array(items) => Some(Value::Array(
            items
                .iter()
                .filter_map(|v| resolved(v, conditions))
                .collect(),
        )),
        other => Some(other.clone()),
    }
}

/// Removing every guard must reach CodeDeploy: CloudFormation sends a deployment group's
/// AlarmConfiguration only when the template has one, and CodeDeploy keeps the alarms it had
/// when none is sent (aws-cdk issue 23307). So the template's "none" is a configuration that
/// is disabled and empty, never a missing one; modelled here as the update CodeDeploy applies.
#[test]
fn turning_the_guards_off_sends_codedeploy_a_disabled_alarm_configuration() {
    let t = template();
    let group = properties(&t, "ProcessorDeploymentGroup");
    let alarms_with = |deploy_alarms: &str| {
        let values = [("DeployAlarms".to_owned(), deploy_alarms.to_owned())]
            .into_iter()
            .collect();
        let conditions = t.evaluate_conditions(&values).unwrap();
        resolved(&group["AlarmConfiguration"], &conditions)
    };
    // What the group holds after an update: what the template sends, or what it held before.
    let after_update = |before: Value, sent: Option<Value>| sent.unwrap_or(before);

    let guarded = alarms_with("version-failures,dlq-not-empty").expect("a configuration");
    assert_eq!(guarded["Enabled"], true);
    assert_eq!(
        guarded["Alarms"],
        json!([{"Name": {"Ref": "VersionFailuresAlarm"}}, {"Name": {"Ref": "DlqNotEmptyAlarm"}}])
    );
    let none = after_update(guarded.clone(), alarms_with(""));
    assert_eq!(
        none,
        json!({"Enabled": false, "Alarms": []}),
        "no guard is really no guard"
    );
    let again = after_update(none, alarms_with("version-failures"));
    assert_eq!(again["Enabled"], true);
    // Only names that are no guard's: sent disabled, never enabled with no alarm.
    assert_eq!(
        alarms_with("dlq-empty"),
        Some(json!({"Enabled": false, "Alarms": []}))
    );
}

/// The version guard is bound to the version being deployed and is a default guard; the
/// alias, which CodeDeploy shifts, is updated only after it (through the deployment group).
#[test]
fn the_version_guard_watches_the_version_being_deployed() {
    let t = template();
    let alarm = properties(&t, "VersionFailuresAlarm");
    let metrics = alarm["Metrics"].as_array().unwrap();
    for metric in metrics.iter().filter(|m| !m["MetricStat"].is_null()) {
        let dimensions = &metric["MetricStat"]["Metric"]["Dimensions"];
        assert!(
            dimensions
                .as_array()
                .unwrap()
                .contains(&json!({"Name": "Version", "Value": {"Fn::GetAtt": ["ProcessorVersion", "Version"]}})),
            "{metric}"
        );
    }
    // A version with too little traffic to judge is INSUFFICIENT_DATA, not OK; each version
    // has an alarm of its own (a new name replaces the alarm, and a new alarm starts with no
    // state: tests/suite/canary.rs shows why an updated one would not do).
    assert_eq!(alarm["TreatMissingData"], "missing");
    assert_eq!(
        alarm["AlarmName"]["Fn::Sub"],
        "marketgrid-${Stage}-version-failures-v${ProcessorVersion.Version}"
    );
    assert_eq!(
        (
            alarm["EvaluationPeriods"].as_i64(),
            alarm["DatapointsToAlarm"].as_i64()
        ),
        (Some(5), Some(2)),
        "M out of N, with room for late metrics"
    );
    let default = t.parameter("DeployAlarms").unwrap().default.unwrap();
    assert!(
        default.split(',').any(|a| a == "version-failures"),
        "{default}"
    );
    assert!(!default.split(',').any(|a| a == "api-5xx"), "{default}");
    assert!(
        !default.split(',').any(|a| a == "dlq-not-empty"),
        "a queue-wide guard is no default: {default}"
    );
    assert_eq!(
        resource(&t, "ProcessorAlias")["DependsOn"],
        "VersionFailuresAlarm",
        "the guard is bound to the new version before the alias is handed to CodeDeploy"
    );
}

/// Every property CloudFormation's resource schema gives a Lambda function (cfn-lint's copy,
/// pinned with cfn-lint in .ci/emulator-tools.lock) is classified as versioned or not, so one
/// the processor starts using is never hashed into its version's description by accident.
#[test]
fn every_property_cloudformation_gives_a_lambda_function_is_classified_for_versions() {
    use mgrid::decide::template::function_property_relevance;
    let python = crate::support::tool("python");
    let located = std::process::Command::new(python)
        .args([
            "-c",
            "import cfnlint, os; print(os.path.dirname(cfnlint.__file__))",
        ])
        .output()
        .expect("run cfn-lint's python");
    let schemas = std::path::PathBuf::from(String::from_utf8(located.stdout).unwrap().trim())
        .join("data/schemas");
    let read = |path: std::path::PathBuf| -> Value {
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        serde_json::from_str(&text).unwrap()
    };
    // The region's map from resource type to the schema's file.
    let providers = read(schemas.join("providers/us-east-1.json"));
    let file = providers["AWS::Lambda::Function"]
        .as_str()
        .expect("the function's schema");
    let schema = read(schemas.join(format!("resources/{file}.json")));
    assert_eq!(schema["typeName"], "AWS::Lambda::Function");
    let read_only: Vec<&str> = schema["readOnlyProperties"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p.as_str()?.strip_prefix("/properties/"))
        .collect();
    let properties: Vec<&String> = schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|name| !read_only.contains(&name.as_str()))
        .collect();
    assert!(properties.len() > 20, "{properties:?}");
    let unclassified: Vec<&&String> = properties
        .iter()
        .filter(|name| function_property_relevance(name).is_none())
        .collect();
    assert!(
        unclassified.is_empty(),
        "classify {unclassified:?} in mgrid::decide::template::function_property_relevance"
    );
}
