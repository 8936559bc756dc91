//! The canary guard, from the processor's metric lines to the rollback report. No emulator runs
//! CloudWatch's EMF extraction, alarms or CodeDeploy, so each step is modelled here from its
//! published behaviour and said so: the processor's real EMF lines (mgrid_pipeline's `Processor`
//! on signed Stripe webhooks, its ledger failing 30% of them with a transient error, so it
//! never throws, and `batch_metrics` on its reports) are checked against the EMF
//! specification's JSON schema, turned into per-minute datapoints as CloudWatch Logs does, and the stack's alarms are
//! evaluated over them (the version guard's metric math included). CodeDeploy polls the guards
//! each minute of a 10%-for-5-minutes canary; its answers are then recorded CodeDeploy and
//! CloudWatch responses that `mgrid deploy` follows.
//!
//! The alarms' life is modelled from CloudWatch's, CodeDeploy's and CloudFormation's documented
//! rules, each written down with its source beside the model (ALARM_UPDATE, EVALUATION,
//! MISSING_DATA, CODEDEPLOY_ALARMS, REPLACEMENT): an updated alarm keeps its state, a new one
//! starts INSUFFICIENT_DATA, one evaluation a minute over M of N, missing data, metrics that
//! arrive late, CodeDeploy stopping at a check that finds a guard in ALARM. The scenarios at the
//! end run a deploy on it with this stack's guards and with the ones before them.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_codedeploy::types::ErrorCode;
use aws_smithy_mocks::mock;
use mgrid::decide::shift::{ShiftStatus, tally_series};
use mgrid::decide::template::Template;
use std::sync::{Arc, Mutex};

use mgrid_contract::ledger::{Attribute, Item, KEY_ATTRIBUTE};
use mgrid_contract::signature::stripe_signature_header;
use mgrid_contract::{
    EpochMillis, FailureReason, KeyRing, Provider, Secret, StageName, WebhookEnvelope,
};
use mgrid_pipeline::metrics::batch_metrics;
use mgrid_pipeline::ports::{
    Certificates, Clock, DeadLetters, InboundMessage, Insert, KeyStore, Ledger, PortError,
};
use mgrid_pipeline::processor::{BatchReport, Processor, RetryCause};
use serde_json::{Value, json};

use crate::deploy_shift::{
    ID, Recorded, T0, deployment, event, events, follow, group_of, listed, metric_data, statuses,
    targets, weights,
};

const STAGE: &str = "prod";
const OLD: &str = "7";
const NEW: &str = "8";
const MINUTE: i64 = 60_000;

// ---------------------------------------------------------------- EMF

/// A metric as CloudWatch keys it: namespace, name, dimensions.
type MetricKey = (String, String, BTreeMap<String, String>);

/// Datapoints by metric and minute: each value with the time it reaches CloudWatch (the end of
/// its minute, plus `late` for the processor's EMF lines, which travel through the logs).
#[derive(Default, Clone)]
struct Datapoints {
    points: BTreeMap<MetricKey, BTreeMap<i64, Vec<(i64, f64)>>>,
    late: i64,
}

impl Datapoints {
    /// EMF lines reaching CloudWatch `late` after the end of their minute.
    fn arriving_late(late: i64) -> Datapoints {
        Datapoints {
            late,
            ..Datapoints::default()
        }
    }

    fn add(&mut self, key: MetricKey, minute: i64, arrives: i64, value: f64) {
        self.points
            .entry(key)
            .or_default()
            .entry(minute)
            .or_default()
            .push((arrives, value));
    }

    /// What CloudWatch holds at `at`: the values that have arrived by then.
    fn as_of(&self, at: i64) -> Datapoints {
        let mut seen = Datapoints::default();
        for (key, minutes) in &self.points {
            for (minute, values) in minutes {
                for (arrives, value) in values.iter().filter(|(arrives, _)| *arrives <= at) {
                    seen.add(key.clone(), *minute, *arrives, *value);
                }
            }
        }
        seen
    }

    /// Every metric an EMF document defines, as CloudWatch Logs extracts it: one per
    /// dimension set, keyed by the root members the set names.
    fn extract(&mut self, document: &Value) {
        let aws = &document["_aws"];
        let minute = aws["Timestamp"].as_i64().unwrap() / MINUTE * MINUTE;
        for directive in aws["CloudWatchMetrics"].as_array().unwrap() {
            let namespace = directive["Namespace"].as_str().unwrap();
            for set in directive["Dimensions"].as_array().unwrap() {
                let dimensions: BTreeMap<String, String> = set
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|name| {
                        let name = name.as_str().unwrap();
                        (name.to_owned(), document[name].as_str().unwrap().to_owned())
                    })
                    .collect();
                for metric in directive["Metrics"].as_array().unwrap() {
                    let name = metric["Name"].as_str().unwrap();
                    let value = document[name].as_f64().unwrap();
                    let key = (namespace.to_owned(), name.to_owned(), dimensions.clone());
                    self.add(key, minute, minute + MINUTE + self.late, value);
                }
            }
        }
    }

    /// Also a metric AWS publishes itself (Lambda's Errors, an SQS depth), minute by minute.
    fn put(
        &mut self,
        namespace: &str,
        name: &str,
        dimensions: &[(&str, &str)],
        at: i64,
        value: f64,
    ) {
        let dimensions = dimensions
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let minute = at / MINUTE * MINUTE;
        self.add(
            (namespace.to_owned(), name.to_owned(), dimensions),
            minute,
            minute + MINUTE,
            value,
        );
    }

    fn series(
        &self,
        namespace: &str,
        name: &str,
        dimensions: &BTreeMap<String, String>,
    ) -> BTreeMap<i64, f64> {
        self.points
            .get(&(namespace.to_owned(), name.to_owned(), dimensions.clone()))
            .map(|minutes| {
                minutes
                    .iter()
                    .map(|(minute, values)| (*minute, values.iter().map(|(_, v)| v).sum()))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The published schema names no draft; its `$id`s ("#/properties/_aws") are draft-07's
/// fragment form, which later drafts refuse, so it is read as draft-07.
fn emf_schema() -> jsonschema::Validator {
    let text = include_str!("../reference/cloudwatch-emf.schema.json");
    jsonschema::draft7::new(&serde_json::from_str(text).unwrap()).unwrap()
}

/// The specification's rules beyond its schema: dimension members are root strings, metric
/// members numbers (or up to 100 of them), at most 100 metrics a directive.
fn emf_rules(document: &Value) -> Vec<String> {
    let mut broken = Vec::new();
    for directive in document["_aws"]["CloudWatchMetrics"]
        .as_array()
        .into_iter()
        .flatten()
    {
        for set in directive["Dimensions"].as_array().into_iter().flatten() {
            for name in set.as_array().into_iter().flatten() {
                if !document[name.as_str().unwrap_or_default()].is_string() {
                    broken.push(format!("dimension {name} is not a string member"));
                }
            }
        }
        let metrics = directive["Metrics"].as_array().cloned().unwrap_or_default();
        if metrics.len() > 100 {
            broken.push("more than 100 metrics".to_owned());
        }
        for metric in metrics {
            let value = &document[metric["Name"].as_str().unwrap_or_default()];
            let numbers = value
                .as_array()
                .map(|a| a.len() <= 100 && a.iter().all(Value::is_number));
            if !value.is_number() && numbers != Some(true) {
                broken.push(format!("metric {} is not a number", metric["Name"]));
            }
        }
    }
    broken
}

fn report(recorded: usize, retried: usize) -> BatchReport {
    let mut report = BatchReport {
        recorded,
        ..BatchReport::default()
    };
    if retried > 0 {
        report
            .retried
            .insert(RetryCause::LedgerUnavailable, retried);
    }
    report
}

#[test]
fn the_processors_metric_lines_follow_the_emf_specification() {
    let schema = emf_schema();
    let mut busy = report(5, 3);
    busy.duplicates = 1;
    busy.retried.insert(RetryCause::HeldForOrder, 1);
    busy.dead_lettered
        .insert(mgrid_contract::FailureReason::BadSignature, 2);
    let lines = batch_metrics(&STAGE.parse().unwrap(), NEW, &busy, T0 * 1000);
    assert_eq!(lines.len(), 4);
    for line in &lines {
        let document: Value = serde_json::from_str(line).unwrap();
        let errors: Vec<String> = schema
            .iter_errors(&document)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{line}: {errors:?}");
        assert_eq!(emf_rules(&document), Vec::<String>::new(), "{line}");
    }
    // The schema does catch a broken document.
    let broken = json!({"_aws": {"Timestamp": "now", "CloudWatchMetrics": [{"Namespace": "", "Dimensions": [], "Metrics": [{"Unit": "Count"}]}]}});
    assert!(schema.iter_errors(&broken).count() >= 4);
    let mut points = Datapoints::default();
    for line in &lines {
        points.extract(&serde_json::from_str(line).unwrap());
    }
    let failed = points.series(
        "MarketGrid",
        "FailedWebhooks",
        &dims(&[("Stage", STAGE), ("Version", NEW)]),
    );
    assert_eq!(
        failed.values().sum::<f64>(),
        6.0,
        "every failure of the version, whatever its reason"
    );
    let by_reason = points.series(
        "MarketGrid",
        "FailedWebhooks",
        &dims(&[
            ("Stage", STAGE),
            ("Version", NEW),
            ("Reason", "ledger-unavailable"),
        ]),
    );
    assert_eq!(by_reason.values().sum::<f64>(), 3.0);
}

fn dims(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

// ---------------------------------------------------------------- metric math

/// A value of metric math: a time series (minute → value) or a scalar.
#[derive(Debug, Clone)]
enum Math {
    Series(BTreeMap<i64, f64>),
    Scalar(f64),
}

/// CloudWatch's metric math over the subset the stack's alarms use: ids, numbers, + - * /,
/// comparisons (1 or 0), AND, FILL(series, value), IF(condition, a, b) and IF(condition, a).
/// Two series combine only at the timestamps both have; FILL gives a series a value at every
/// minute of the window; an IF without a false value returns no datapoint where the condition
/// is false (User Guide, "Using IF expressions":
/// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html).
struct Evaluator<'a> {
    ids: &'a BTreeMap<String, Math>,
    window: &'a [i64],
}

impl Evaluator<'_> {
    fn eval(&self, expression: &str) -> Math {
        let tokens = tokenize(expression);
        let mut at = 0;
        let value = self.logical(&tokens, &mut at);
        assert_eq!(at, tokens.len(), "unparsed tail in {expression}");
        value
    }

    fn logical(&self, t: &[String], at: &mut usize) -> Math {
        let mut left = self.comparison(t, at);
        while t.get(*at).map(String::as_str) == Some("AND") {
            *at += 1;
            let right = self.comparison(t, at);
            left = combine(&left, &right, |a, b| {
                f64::from(u8::from(a != 0.0 && b != 0.0))
            });
        }
        left
    }

    fn comparison(&self, t: &[String], at: &mut usize) -> Math {
        let left = self.sum(t, at);
        match t.get(*at).map(String::as_str) {
            Some(op @ (">=" | ">" | "<=" | "<" | "==")) => {
                let op = op.to_owned();
                *at += 1;
                let right = self.sum(t, at);
                combine(&left, &right, |a, b| {
                    let truth = match op.as_str() {
                        ">=" => a >= b,
                        ">" => a > b,
                        "<=" => a <= b,
                        "<" => a < b,
                        _ => a == b,
                    };
                    f64::from(u8::from(truth))
                })
            }
            _ => left,
        }
    }

    fn sum(&self, t: &[String], at: &mut usize) -> Math {
        let mut left = self.product(t, at);
        while let Some(op @ ("+" | "-")) = t.get(*at).map(String::as_str) {
            let minus = op == "-";
            *at += 1;
            let right = self.product(t, at);
            left = combine(&left, &right, |a, b| if minus { a - b } else { a + b });
        }
        left
    }

    fn product(&self, t: &[String], at: &mut usize) -> Math {
        let mut left = self.atom(t, at);
        while let Some(op @ ("*" | "/")) = t.get(*at).map(String::as_str) {
            let divide = op == "/";
            *at += 1;
            let right = self.atom(t, at);
            left = combine(&left, &right, |a, b| if divide { a / b } else { a * b });
        }
        left
    }

    fn atom(&self, t: &[String], at: &mut usize) -> Math {
        let token = t[*at].clone();
        *at += 1;
        if token == "(" {
            let inner = self.logical(t, at);
            assert_eq!(t[*at], ")");
            *at += 1;
            return inner;
        }
        if let Ok(number) = token.parse::<f64>() {
            return Math::Scalar(number);
        }
        if t.get(*at).map(String::as_str) == Some("(") {
            *at += 1;
            let mut arguments = vec![self.logical(t, at)];
            while t[*at] == "," {
                *at += 1;
                arguments.push(self.logical(t, at));
            }
            assert_eq!(t[*at], ")");
            *at += 1;
            return self.call(&token, &arguments);
        }
        self.ids
            .get(&token)
            .cloned()
            .unwrap_or_else(|| panic!("no metric {token}"))
    }

    fn call(&self, function: &str, arguments: &[Math]) -> Math {
        match (function, arguments) {
            ("FILL", [Math::Series(series), Math::Scalar(value)]) => Math::Series(
                self.window
                    .iter()
                    .map(|m| (*m, series.get(m).copied().unwrap_or(*value)))
                    .collect(),
            ),
            ("IF", [condition, yes, no]) => {
                let Math::Series(condition) = condition else {
                    panic!("IF on a scalar condition")
                };
                Math::Series(
                    condition
                        .iter()
                        .filter_map(|(m, c)| {
                            Some((*m, value_at(if *c != 0.0 { yes } else { no }, *m)?))
                        })
                        .collect(),
                )
            }
            ("IF", [condition, yes]) => {
                let Math::Series(condition) = condition else {
                    panic!("IF on a scalar condition")
                };
                Math::Series(
                    condition
                        .iter()
                        .filter(|(_, c)| **c != 0.0)
                        .filter_map(|(m, _)| Some((*m, value_at(yes, *m)?)))
                        .collect(),
                )
            }
            other => panic!("metric math function not modelled: {other:?}"),
        }
    }
}

fn value_at(math: &Math, minute: i64) -> Option<f64> {
    match math {
        Math::Scalar(v) => Some(*v),
        Math::Series(s) => s.get(&minute).copied(),
    }
}

fn combine(a: &Math, b: &Math, f: impl Fn(f64, f64) -> f64) -> Math {
    match (a, b) {
        (Math::Scalar(x), Math::Scalar(y)) => Math::Scalar(f(*x, *y)),
        (Math::Series(s), Math::Scalar(y)) => {
            Math::Series(s.iter().map(|(m, x)| (*m, f(*x, *y))).collect())
        }
        (Math::Scalar(x), Math::Series(s)) => {
            Math::Series(s.iter().map(|(m, y)| (*m, f(*x, *y))).collect())
        }
        (Math::Series(s), Math::Series(r)) => Math::Series(
            s.iter()
                .filter_map(|(m, x)| Some((*m, f(*x, *r.get(m)?))))
                .collect(),
        ),
    }
}

fn tokenize(expression: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let chars: Vec<char> = expression.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == '.')
            {
                i += 1;
            }
            tokens.push(chars[start..i].iter().collect());
        } else if (c == '>' || c == '<' || c == '=') && chars.get(i + 1) == Some(&'=') {
            tokens.push(format!("{c}="));
            i += 2;
        } else {
            tokens.push(c.to_string());
            i += 1;
        }
    }
    tokens
}

// ---------------------------------------------------------------- alarms

/// One of the stack's alarms, with the stage and the deployed version put in.
struct Alarm {
    name: String,
    definition: Value,
}

fn stack_alarm(id: &str, version: &str) -> Alarm {
    let template = Template::pipeline().unwrap();
    let definition = template.model()["Resources"][id]["Properties"].clone();
    let name = definition["AlarmName"]["Fn::Sub"]
        .as_str()
        .unwrap()
        .replace("${Stage}", STAGE)
        .replace("${ProcessorVersion.Version}", version);
    Alarm {
        name,
        definition: resolve(&definition, version),
    }
}

/// The template's references an alarm's metrics use, resolved for prod and `version`.
fn resolve(value: &Value, version: &str) -> Value {
    match value {
        Value::Object(map) if map.contains_key("Ref") => match map["Ref"].as_str().unwrap() {
            "Stage" => json!(STAGE),
            "ProcessorFunction" => json!(format!("marketgrid-{STAGE}-processor")),
            other => json!(format!("<{other}>")),
        },
        Value::Object(map) if map.contains_key("Fn::GetAtt") => {
            let parts = map["Fn::GetAtt"].as_array().unwrap();
            match (parts[0].as_str().unwrap(), parts[1].as_str().unwrap()) {
                ("ProcessorVersion", "Version") => json!(version),
                ("WebhookDeadLetterQueue", "QueueName") => {
                    json!(format!("marketgrid-{STAGE}-webhooks-dlq.fifo"))
                }
                (resource, attribute) => json!(format!("<{resource}.{attribute}>")),
            }
        }
        Value::Object(map) if map.contains_key("Fn::Sub") => {
            json!(
                map["Fn::Sub"]
                    .as_str()
                    .unwrap_or_default()
                    .replace("${Stage}", STAGE)
            )
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), resolve(v, version)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|v| resolve(v, version)).collect()),
        other => other.clone(),
    }
}

impl Alarm {
    /// The series the alarm judges: its metric's, or its metric math's that returns data.
    fn series(&self, points: &Datapoints, window: &[i64]) -> BTreeMap<i64, f64> {
        let d = &self.definition;
        let dimensions_of = |metric: &Value| -> BTreeMap<String, String> {
            metric["Dimensions"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|d| {
                    (
                        d["Name"].as_str().unwrap().to_owned(),
                        d["Value"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        };
        let Some(metrics) = d["Metrics"].as_array() else {
            return points.series(
                d["Namespace"].as_str().unwrap(),
                d["MetricName"].as_str().unwrap(),
                &dimensions_of(d),
            );
        };
        let mut ids = BTreeMap::new();
        let mut returned = None;
        for metric in metrics {
            let id = metric["Id"].as_str().unwrap().to_owned();
            let value = match metric["MetricStat"].as_object() {
                Some(stat) => {
                    assert_eq!(stat["Stat"], "Sum");
                    assert_eq!(stat["Period"], 60);
                    let m = &stat["Metric"];
                    Math::Series(points.series(
                        m["Namespace"].as_str().unwrap(),
                        m["MetricName"].as_str().unwrap(),
                        &dimensions_of(m),
                    ))
                }
                None => {
                    Evaluator { ids: &ids, window }.eval(metric["Expression"].as_str().unwrap())
                }
            };
            if metric["ReturnData"] != false {
                returned = Some(value.clone());
            }
            ids.insert(id, value);
        }
        match returned.expect("one metric returns data") {
            Math::Series(series) => series,
            Math::Scalar(_) => panic!("an alarm on a scalar"),
        }
    }

    /// The state an evaluation at `at` (a minute's end) gives the alarm, from the datapoints
    /// that have arrived by then: the last EvaluationPeriods minutes before `at`, ALARM when
    /// DatapointsToAlarm of them breach ([`EVALUATION`]); a missing datapoint is within the
    /// threshold (notBreaching) or left out (missing), and with none at all `missing` gives
    /// INSUFFICIENT_DATA ([`MISSING_DATA`]).
    fn judge(&self, points: &Datapoints, at: i64) -> State {
        let d = &self.definition;
        let periods = d["EvaluationPeriods"].as_i64().unwrap();
        let needed = d["DatapointsToAlarm"].as_i64().unwrap_or(periods);
        let threshold = d["Threshold"].as_f64().unwrap();
        let window: Vec<i64> = (1..=periods).rev().map(|back| at - back * MINUTE).collect();
        let series = self.series(&points.as_of(at), &window);
        let present: Vec<f64> = window
            .iter()
            .filter_map(|m| series.get(m).copied())
            .collect();
        let breaching = present
            .iter()
            .filter(|v| match d["ComparisonOperator"].as_str().unwrap() {
                "GreaterThanThreshold" => **v > threshold,
                "GreaterThanOrEqualToThreshold" => **v >= threshold,
                other => panic!("comparison {other} not modelled"),
            })
            .count() as i64;
        match d["TreatMissingData"].as_str().unwrap() {
            "notBreaching" if breaching >= needed => State::Alarm,
            "notBreaching" => State::Ok,
            "missing" if present.is_empty() => State::InsufficientData,
            "missing" if breaching >= needed => State::Alarm,
            "missing" => State::Ok,
            other => panic!("TreatMissingData {other} not modelled"),
        }
    }

    /// Whether an evaluation at the end of `minute` puts the alarm in ALARM.
    fn in_alarm(&self, points: &Datapoints, minute: i64) -> bool {
        self.judge(points, minute + MINUTE) == State::Alarm
    }
}

fn version_guard(points: &Datapoints, minute: i64) -> bool {
    stack_alarm("VersionFailuresAlarm", NEW).in_alarm(points, minute)
}

/// The version guard as the stack had it before per-version guards (at e371bff): one alarm,
/// re-pointed at each version; an empty minute a ratio of 0; 2 breaching minutes of 2, missing
/// data not breaching. Kept to show, on the same model, what it did.
fn previous_version_guard(version: &str) -> Alarm {
    let mut alarm = stack_alarm("VersionFailuresAlarm", version);
    alarm.name = format!("marketgrid-{STAGE}-version-failures");
    let d = &mut alarm.definition;
    let mut metrics: Vec<Value> = d["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| !m["MetricStat"].is_null())
        .cloned()
        .collect();
    metrics.push(json!({"Id": "handled", "ReturnData": false,
        "Expression": "FILL(failed, 0) + FILL(recorded, 0) + FILL(duplicates, 0)"}));
    metrics.push(json!({"Id": "ratio", "ReturnData": true,
        "Expression": "IF(handled >= 10, FILL(failed, 0) / handled, 0)"}));
    d["Metrics"] = json!(metrics);
    d["EvaluationPeriods"] = json!(2);
    d["DatapointsToAlarm"] = json!(2);
    d["TreatMissingData"] = json!("notBreaching");
    alarm
}

// ---------------------------------------------------------------- CloudWatch and CodeDeploy

// The documented rules the model below follows, each with its source. What is not here is not
// modelled (anomaly detection, composite alarms, high-resolution periods).

/// PutMetricAlarm: "When this operation creates an alarm, the alarm state is immediately set to
/// INSUFFICIENT_DATA"; "When you update an existing alarm, its state is left unchanged, but the
/// update completely overwrites the previous configuration of the alarm." (CloudWatch API
/// Reference, PutMetricAlarm,
/// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html)
const ALARM_UPDATE: &str =
    "PutMetricAlarm: a new alarm starts INSUFFICIENT_DATA, an update keeps the state";

/// An alarm on a 60-second period is evaluated once a minute, over its last EvaluationPeriods
/// periods, and goes to ALARM when DatapointsToAlarm of them breach ("M out of N"). (User
/// Guide, "Using Amazon CloudWatch alarms", "Alarm evaluation",
/// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-evaluation.html)
const EVALUATION: &str = "evaluated each period over the last N periods; ALARM at M breaching";

/// TreatMissingData: notBreaching treats a missing datapoint as within the threshold; missing
/// does not consider it, and an evaluation range with no datapoint at all gives
/// INSUFFICIENT_DATA. Metrics that arrive late (EMF goes through CloudWatch Logs) are judged
/// by the evaluations after they arrive while they are within the range, so M out of N with N
/// larger than M leaves room for them, where filling an empty newest period with a value keeps
/// judging that value. (User Guide, "Configuring how CloudWatch alarms treat missing data" and
/// "Avoiding premature transitions to alarm state", same page as [`EVALUATION`])
const MISSING_DATA: &str =
    "missing: left out, none at all is INSUFFICIENT_DATA; late data judged on arrival";

/// CodeDeploy polls the deployment group's alarms while a deployment runs and stops it (and,
/// with DEPLOYMENT_STOP_ON_ALARM, rolls it back) when one of them is in ALARM; an alarm in
/// OK or INSUFFICIENT_DATA does not stop it. (CodeDeploy User Guide, "Monitoring deployments
/// with CloudWatch alarms in CodeDeploy",
/// https://docs.aws.amazon.com/codedeploy/latest/userguide/monitoring-create-alarms.html)
const CODEDEPLOY_ALARMS: &str = "a guard in ALARM at a check stops the deployment";

/// A changed AlarmName replaces the alarm: CloudFormation creates the new one during the
/// update and deletes the old one in the cleanup after the update completes (a rollback
/// deletes the new one instead). (CloudFormation User Guide, AWS::CloudWatch::Alarm, AlarmName:
/// "Update requires: Replacement"; "Update behaviors of stack resources")
const REPLACEMENT: &str = "a new alarm name: created in the update, the old one deleted at cleanup";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    InsufficientData,
    Ok,
    Alarm,
}

/// The alarms of one account, each with its definition and state ([`ALARM_UPDATE`]).
#[derive(Default)]
struct Cloudwatch {
    alarms: BTreeMap<String, (Alarm, State)>,
}

impl Cloudwatch {
    fn put_metric_alarm(&mut self, alarm: Alarm) {
        match self.alarms.get_mut(&alarm.name) {
            Some(existing) => existing.0 = alarm,
            None => {
                self.alarms
                    .insert(alarm.name.clone(), (alarm, State::InsufficientData));
            }
        }
    }

    fn delete_alarm(&mut self, name: &str) {
        self.alarms.remove(name);
    }

    /// The evaluation at `at`, of every alarm ([`EVALUATION`]).
    fn evaluate(&mut self, points: &Datapoints, at: i64) {
        for (alarm, state) in self.alarms.values_mut() {
            *state = alarm.judge(points, at);
        }
    }

    fn state(&self, name: &str) -> Option<State> {
        self.alarms.get(name).map(|(_, state)| *state)
    }

    fn in_alarm(&self) -> Vec<String> {
        self.alarms
            .iter()
            .filter(|(_, (_, state))| *state == State::Alarm)
            .map(|(name, _)| name.clone())
            .collect()
    }
}

/// How a deploy of the new version ended in the model.
#[derive(Debug, PartialEq)]
enum Ended {
    /// `mgrid deploy` refused it before anything ran (a guard in ALARM).
    Refused(String),
    /// CodeDeploy stopped it at the check `minutes` into the shift on `alarm`, and rolled back.
    RolledBack { minutes: i64, alarm: String },
    /// All traffic moved to the new version.
    Promoted,
}

/// A deploy of the new version at `start` (a minute's end) with `guards` in the deployment
/// group, the versions' datapoints in `points`, with one alarm a name in `cloudwatch`:
/// CloudWatch evaluates at `start`; mgrid's pre-deploy check reads the alarms in ALARM; the
/// stack update puts the new version's guards ([`ALARM_UPDATE`], [`REPLACEMENT`]); CodeDeploy
/// checks the guards at once and after each evaluation of a 10%-for-`canary`-minutes shift
/// ([`CODEDEPLOY_ALARMS`]); a completed update deletes the alarms it replaced.
fn deploy(
    cloudwatch: &mut Cloudwatch,
    points: &Datapoints,
    guards: Vec<Alarm>,
    replaced: &[&str],
    start: i64,
    canary: i64,
) -> Ended {
    cloudwatch.evaluate(points, start);
    let names: Vec<String> = guards.iter().map(|g| g.name.clone()).collect();
    // The names mgrid configures (guard_alarms): a version's guard by its unversioned name.
    use mgrid::decide::shift::GuardAlarm;
    let configured: Vec<String> = names
        .iter()
        .map(|name| match GuardAlarm::guarded_version(STAGE, name) {
            Some(_) => GuardAlarm::VersionFailures.alarm_name(STAGE),
            None => name.clone(),
        })
        .collect();
    if let Some(refusal) =
        mgrid::decide::deploy::guards_firing(STAGE, &configured, &cloudwatch.in_alarm())
    {
        return Ended::Refused(refusal.what);
    }
    for guard in guards {
        cloudwatch.put_metric_alarm(guard);
    }
    for minutes in 0..=canary {
        if minutes > 0 {
            cloudwatch.evaluate(points, start + minutes * MINUTE);
        }
        if let Some(alarm) = names
            .iter()
            .find(|name| cloudwatch.state(name) == Some(State::Alarm))
        {
            return Ended::RolledBack {
                minutes,
                alarm: alarm.clone(),
            };
        }
    }
    for name in replaced {
        cloudwatch.delete_alarm(name);
    }
    Ended::Promoted
}

/// A ledger that is unavailable for `failing` in every 10 events (by the event's number), as a
/// version with a bad ledger client would be; the others are written.
struct FlakyLedger {
    failing: u64,
    written: Mutex<BTreeSet<String>>,
}

impl Ledger for FlakyLedger {
    async fn insert(&self, item: &Item) -> Result<Insert, PortError> {
        let Some(Attribute::S(key)) = item.get(KEY_ATTRIBUTE) else {
            panic!("a ledger item without its key")
        };
        let number: u64 = key
            .rsplit('_')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        if number % 10 < self.failing {
            return Err(PortError::Unavailable(
                "ProvisionedThroughputExceeded".into(),
            ));
        }
        let fresh = self.written.lock().unwrap().insert(key.clone());
        Ok(if fresh {
            Insert::Written
        } else {
            Insert::AlreadyPresent
        })
    }
}

struct NoDeadLetters;
impl DeadLetters for NoDeadLetters {
    async fn dead_letter(
        &self,
        _: &InboundMessage,
        reason: FailureReason,
        _: &str,
    ) -> Result<(), PortError> {
        panic!("a good webhook was dead-lettered: {reason}")
    }
}

struct StripeSecret;
impl KeyStore for StripeSecret {
    async fn ring(&self, name: &str) -> Result<Option<KeyRing>, PortError> {
        let stripe = STAGE
            .parse::<StageName>()
            .unwrap()
            .signing_secret_ring(Provider::Stripe);
        Ok((name == stripe).then(|| KeyRing::first(Secret::new(SECRET.into()), 0)))
    }
}

struct NoCertificates;
impl Certificates for NoCertificates {
    async fn fetch(&self, _: &str) -> Result<String, PortError> {
        Err(PortError::Unavailable("Stripe needs no certificate".into()))
    }
}

struct FixedClock(EpochMillis);
impl Clock for FixedClock {
    fn now(&self) -> EpochMillis {
        self.0
    }
}

const SECRET: &str = "whsec_canary_fixture";

/// A signed Stripe webhook for its own payment (its own message group), as the queue delivers it.
fn webhook(number: u64, at: EpochMillis) -> InboundMessage {
    let body = format!(
        r#"{{"id":"evt_canary_{number}","type":"payment_intent.succeeded","created":{},"data":{{"object":{{"id":"pi_canary_{number}","object":"payment_intent","amount":1999,"currency":"usd","metadata":{{"vendor_id":"v7"}}}}}}}}"#,
        at / 1000
    );
    let header = stripe_signature_header(&Secret::new(SECRET.into()), at / 1000, body.as_bytes());
    let envelope = WebhookEnvelope::from_delivery(
        Provider::Stripe,
        body,
        &BTreeMap::from([("stripe-signature".to_owned(), header)]),
        at,
        None,
    )
    .unwrap();
    let queued = envelope.to_queue_message();
    InboundMessage {
        message_id: format!("m{number}"),
        body: queued.body,
        attributes: queued.attributes,
        group_id: queued.group_id,
        deduplication_id: Some(queued.deduplication_id),
        receive_count: 1,
    }
}

/// `minutes` of a version at work: `handled` webhooks a minute, in batches of 10, through the
/// real processor whose ledger fails `failing` in 10 of them (retried, never thrown); its EMF
/// lines, each checked against the specification's schema, become datapoints.
async fn emit(
    points: &mut Datapoints,
    version: &str,
    from: i64,
    minutes: i64,
    handled: u64,
    failing: u64,
) {
    let schema = emf_schema();
    let stage: StageName = STAGE.parse().unwrap();
    let ledger = FlakyLedger {
        failing,
        written: Mutex::new(BTreeSet::new()),
    };
    let processor = Processor::new(
        stage.clone(),
        ledger,
        NoDeadLetters,
        StripeSecret,
        NoCertificates,
        Arc::new(FixedClock(from)),
    );
    let mut number = 0;
    for minute in 0..minutes {
        let mut left = handled;
        let mut batch = 0;
        while left > 0 {
            let size = left.min(10);
            left -= size;
            let at = from + minute * MINUTE + batch * 100;
            batch += 1;
            let numbers: Vec<u64> = (0..size)
                .map(|_| {
                    number += 1;
                    number
                })
                .collect();
            let messages: Vec<InboundMessage> = numbers.iter().map(|n| webhook(*n, from)).collect();
            let report = processor.process(&messages).await;
            assert_eq!(
                report.failed.len(),
                numbers.iter().filter(|n| *n % 10 < failing).count(),
                "never thrown: returned as batch item failures"
            );
            for line in batch_metrics(&stage, version, &report, at) {
                let document: Value = serde_json::from_str(&line).unwrap();
                assert!(schema.is_valid(&document), "{line}");
                points.extract(&document);
            }
        }
    }
}

fn window(from: i64, minutes: i64) -> Vec<i64> {
    (0..minutes).map(|m| from + m * MINUTE).collect()
}

#[tokio::test]
async fn the_version_guard_judges_the_versions_failure_ratio_over_a_minimum_count() {
    let from = T0 * 1000;
    let minutes = window(from, 4);
    // 30% of 100 a minute, two minutes running: ALARM at the second.
    let mut points = Datapoints::default();
    emit(&mut points, NEW, from, 2, 100, 3).await;
    assert!(
        !version_guard(&points, from),
        "one breaching minute is not enough"
    );
    assert!(version_guard(&points, from + MINUTE));
    let ratio = stack_alarm("VersionFailuresAlarm", NEW).series(&points, &minutes);
    assert_eq!(ratio.get(&from), Some(&0.3), "{ratio:?}");
    // The old version failing does not count against the new one.
    let mut old = Datapoints::default();
    emit(&mut old, OLD, from, 2, 100, 3).await;
    assert!(!version_guard(&old, from + MINUTE));
    // 1 in 10 is 10%, over the 5%: the minimum count is met at 10 a minute...
    let mut few = Datapoints::default();
    emit(&mut few, NEW, from, 2, 10, 1).await;
    assert!(version_guard(&few, from + MINUTE));
    // ... but not below it: 9 handled, 3 failed is not judged.
    let mut under = Datapoints::default();
    for minute in 0..2 {
        for line in batch_metrics(
            &STAGE.parse().unwrap(),
            NEW,
            &report(6, 3),
            from + minute * MINUTE,
        ) {
            under.extract(&serde_json::from_str(&line).unwrap());
        }
    }
    assert!(!version_guard(&under, from + MINUTE));
    // A version failing everything has no SuccessfulTransactions... it still reports 0 of them,
    // and a minute with only failures recorded is a ratio of 1 (FILL).
    let mut only_failures = Datapoints::default();
    for minute in 0..2 {
        only_failures.put(
            "MarketGrid",
            "FailedWebhooks",
            &[("Stage", STAGE), ("Version", NEW)],
            from + minute * MINUTE,
            20.0,
        );
    }
    assert!(version_guard(&only_failures, from + MINUTE));
    // No traffic at all: no data, not breaching.
    assert!(!version_guard(&Datapoints::default(), from + MINUTE));
    // 4% stays under the 5% threshold.
    let mut healthy = Datapoints::default();
    for minute in 0..2 {
        for line in batch_metrics(
            &STAGE.parse().unwrap(),
            NEW,
            &report(96, 4),
            from + minute * MINUTE,
        ) {
            healthy.extract(&serde_json::from_str(&line).unwrap());
        }
    }
    assert!(!version_guard(&healthy, from + MINUTE));
}

// ---------------------------------------------------------------- the canary

/// How a 10%-for-5-minutes canary ends: the minute CodeDeploy saw a guard in ALARM (and which),
/// or None when it shifted the rest.
struct Canary {
    stopped: Option<(i64, String)>,
    points: Datapoints,
    window: Vec<i64>,
}

/// 1,000 webhooks a minute; the new version takes 10% and fails 30% of them (never throwing,
/// so Lambda counts no Errors); the old one fails none. Nothing reaches the DLQ in 5 minutes (a
/// message is dead-lettered after 10 receives, 180 s apart), and the API answers from SQS.
async fn canary(guards: &[&str]) -> Canary {
    let from = T0 * 1000;
    let mut points = Datapoints::default();
    emit(&mut points, OLD, from, 5, 900, 0).await;
    emit(&mut points, NEW, from, 5, 100, 3).await;
    let function = format!("marketgrid-{STAGE}-processor");
    let api = format!("marketgrid-{STAGE}-webhooks");
    for minute in 0..5 {
        let at = from + minute * MINUTE;
        points.put(
            "AWS/Lambda",
            "Errors",
            &[("FunctionName", &function)],
            at,
            0.0,
        );
        points.put(
            "AWS/Lambda",
            "Throttles",
            &[("FunctionName", &function)],
            at,
            0.0,
        );
        points.put(
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            &[(
                "QueueName",
                &format!("marketgrid-{STAGE}-webhooks-dlq.fifo"),
            )],
            at,
            0.0,
        );
        points.put(
            "AWS/ApiGateway",
            "5XXError",
            &[("ApiName", &api), ("Stage", STAGE)],
            at,
            0.0,
        );
    }
    let alarms: Vec<Alarm> = guards.iter().map(|id| stack_alarm(id, NEW)).collect();
    let window = window(from, 5);
    let stopped = window.iter().find_map(|minute| {
        alarms
            .iter()
            .find(|alarm| alarm.in_alarm(&points, *minute))
            .map(|alarm| (*minute, alarm.name.clone()))
    });
    Canary {
        stopped,
        points,
        window,
    }
}

#[tokio::test]
async fn the_old_guards_alone_promote_a_version_that_fails_30_percent() {
    let old = canary(&["ProcessorErrorsAlarm", "DlqNotEmptyAlarm", "Api5xxAlarm"]).await;
    assert_eq!(old.stopped, None, "no old guard sees batch item failures");
}

#[tokio::test]
async fn the_version_guard_rolls_back_a_version_that_fails_30_percent_and_the_report_names_why() {
    let guarded = canary(&[
        "VersionFailuresAlarm",
        "DlqNotEmptyAlarm",
        "ProcessorThrottlesAlarm",
    ])
    .await;
    let (minute, alarm) = guarded.stopped.clone().expect("the version guard fires");
    assert_eq!(alarm, format!("marketgrid-{STAGE}-version-failures-v{NEW}"));
    let into_canary = (minute - T0 * 1000) / MINUTE + 1;
    assert!(
        into_canary < 5,
        "it fires within the 5-minute canary, at minute {into_canary}"
    );

    // What CodeDeploy answers: in progress at 10%, then stopped on the alarm and rolled back.
    const GUARDS: [&str; 3] = [
        "marketgrid-prod-version-failures-v8",
        "marketgrid-prod-dlq-not-empty",
        "marketgrid-prod-processor-throttles",
    ];
    let ended = into_canary * 60 + 14;
    let message = format!(
        "One or more alarms have been activated according to the Amazon CloudWatch metrics you selected, and the affected deployments have been stopped. Activated alarms: {alarm}"
    );
    let deployments = mock!(aws_sdk_codedeploy::Client::get_deployment)
        .sequence()
        .output(|| deployment("InProgress", None, None))
        .output(move || {
            deployment(
                "Stopped",
                Some((ErrorCode::AlarmActive, &message)),
                Some(ended),
            )
        })
        .repeatedly()
        .build();
    let statuses = statuses(&[
        "UPDATE_IN_PROGRESS",
        "UPDATE_IN_PROGRESS",
        "UPDATE_ROLLBACK_IN_PROGRESS",
        "UPDATE_ROLLBACK_COMPLETE",
    ]);
    let failed = event(
        ended + 6,
        "ProcessorAlias",
        "AWS::Lambda::Alias",
        "UPDATE_FAILED",
        Some(&format!(
            "CodeDeploy deployment {ID} failed: One or more alarms have been activated"
        )),
    );
    let stack_events = mock!(aws_sdk_cloudformation::Client::describe_stack_events)
        .then_output(move || events(std::slice::from_ref(&failed)));
    let (listed, group, targets, weights) = (
        listed(),
        group_of(&GUARDS),
        targets(),
        weights(&[0.1, 0.0, 0.0]),
    );
    let fired = alarm.clone();
    let describe = mock!(aws_sdk_cloudwatch::Client::describe_alarms).then_output(move || {
        let mut out =
            aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsOutput::builder();
        for name in GUARDS {
            let state = if name == fired {
                aws_sdk_cloudwatch::types::StateValue::Alarm
            } else {
                aws_sdk_cloudwatch::types::StateValue::Ok
            };
            out = out.metric_alarms(
                aws_sdk_cloudwatch::types::MetricAlarm::builder()
                    .alarm_name(name)
                    .state_value(state)
                    .build(),
            );
        }
        out.build()
    });
    // GetMetricData: each series mgrid asks for, from the same datapoints.
    let versions = vec![OLD.to_owned(), NEW.to_owned()];
    let mut answers: Vec<(String, Vec<(i64, f64)>)> = tally_series(&versions)
        .iter()
        .map(|series| {
            let mut dimensions = vec![("Stage", STAGE), ("Version", series.version.as_str())];
            dimensions.extend(series.reason.map(|r| ("Reason", r)));
            let points = guarded
                .points
                .series("MarketGrid", series.metric, &dims(&dimensions));
            // What CloudWatch has when mgrid reads it: up to the minute the shift stopped.
            let until = points.range(..=minute).map(|(m, v)| (m / 1000, *v));
            (series.id.clone(), until.collect())
        })
        .collect();
    answers.push((
        "errors".into(),
        guarded.window.iter().map(|m| (m / 1000, 0.0)).collect(),
    ));
    answers.push((
        "dlq".into(),
        guarded.window.iter().map(|m| (m / 1000, 0.0)).collect(),
    ));
    let data = mock!(aws_sdk_cloudwatch::Client::get_metric_data).then_output(move || {
        let borrowed: Vec<(&str, &[(i64, f64)])> = answers
            .iter()
            .map(|(id, p)| (id.as_str(), p.as_slice()))
            .collect();
        metric_data(&borrowed)
    });
    let (watched, lines) = follow(
        Recorded {
            stack: &[&statuses, &stack_events],
            codedeploy: &[&listed, &group, &deployments, &targets, &weights],
            cloudwatch: &[&describe, &data],
        },
        false,
    )
    .await;

    assert_eq!(watched.final_status, "UPDATE_ROLLBACK_COMPLETE");
    let shift = watched.shift.expect("the shift was followed");
    assert_eq!(shift.status, ShiftStatus::RolledBack);
    let stopped = shift.stopped.clone().expect("why it stopped");
    assert_eq!(stopped.alarms, std::slice::from_ref(&alarm));
    let new = shift
        .traffic
        .iter()
        .find(|t| t.version == NEW)
        .expect("the new version's tally");
    let minutes = into_canary as f64;
    assert_eq!(new.handled(), 100.0 * minutes);
    assert_eq!(
        new.failed.keys().collect::<BTreeSet<_>>(),
        BTreeSet::from([&"ledger-unavailable".to_owned()])
    );
    assert_eq!(new.failed_total(), 30.0 * minutes);
    let old = shift
        .traffic
        .iter()
        .find(|t| t.version == OLD)
        .expect("the old version's tally");
    assert_eq!((old.handled(), old.failed_total()), (900.0 * minutes, 0.0));
    assert!(
        lines.contains("why: marketgrid-prod-version-failures-v8 went into ALARM"),
        "{lines}"
    );
    let report = format!(
        "{:.0} handled, {:.0} failed (30%): ledger-unavailable {:.0}",
        100.0 * minutes,
        30.0 * minutes,
        30.0 * minutes
    );
    assert!(lines.contains(&report), "{lines}");
    eprintln!("the version guard fired in minute {into_canary} of the canary:\n{lines}");
    assert!(
        lines.contains("rolled back: all traffic is on v7"),
        "{lines}"
    );
}

// ---------------------------------------------------------------- the guards under CloudWatch's rules

/// AWS's own metrics for `minutes` from `from`: no throttles, no Lambda errors, and the DLQ as
/// deep as `dlq` says at each minute.
fn aws_metrics(points: &mut Datapoints, from: i64, minutes: i64, dlq: impl Fn(i64) -> f64) {
    let function = format!("marketgrid-{STAGE}-processor");
    let queue = format!("marketgrid-{STAGE}-webhooks-dlq.fifo");
    for minute in 0..minutes {
        let at = from + minute * MINUTE;
        for name in ["Errors", "Throttles"] {
            points.put("AWS/Lambda", name, &[("FunctionName", &function)], at, 0.0);
        }
        points.put(
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            &[("QueueName", &queue)],
            at,
            dlq(minute),
        );
    }
}

/// Which stack the model runs: this one, or the one before per-version guards.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Stack {
    Now,
    Before,
}

/// The guards a stack's default DeployAlarms puts in the deployment group for `version`.
fn default_guards(stack: Stack, version: &str) -> Vec<Alarm> {
    let template = Template::pipeline().unwrap();
    let names = match stack {
        Stack::Now => template.parameter("DeployAlarms").unwrap().default.unwrap(),
        // The default until per-version guards.
        Stack::Before => "version-failures,dlq-not-empty,processor-throttles".to_owned(),
    };
    names
        .split(',')
        .map(|name| match (name, stack) {
            ("version-failures", Stack::Before) => previous_version_guard(version),
            ("version-failures", Stack::Now) => stack_alarm("VersionFailuresAlarm", version),
            ("dlq-not-empty", _) => stack_alarm("DlqNotEmptyAlarm", version),
            ("processor-throttles", _) => stack_alarm("ProcessorThrottlesAlarm", version),
            (other, _) => panic!("guard {other} not modelled"),
        })
        .collect()
}

/// The live version's guards, put when it was deployed at `from`, then evaluated each minute up
/// to `start`.
fn live_guards(stack: Stack, points: &Datapoints, from: i64, start: i64) -> Cloudwatch {
    let mut cloudwatch = Cloudwatch::default();
    for guard in default_guards(stack, OLD) {
        cloudwatch.put_metric_alarm(guard);
    }
    let mut at = from + MINUTE;
    while at < start {
        cloudwatch.evaluate(points, at);
        at += MINUTE;
    }
    cloudwatch
}

/// The names of the live version's guards the new version's deploy replaces.
fn replaced(stack: Stack) -> Vec<String> {
    match stack {
        Stack::Now => vec![stack_alarm("VersionFailuresAlarm", OLD).name],
        Stack::Before => Vec::new(),
    }
}

/// One deploy of v8 at `start`, with v7 live since `from`, on `stack`.
fn deploy_new(stack: Stack, points: &Datapoints, from: i64, start: i64) -> (Ended, Cloudwatch) {
    let mut cloudwatch = live_guards(stack, points, from, start);
    let replaced = replaced(stack);
    let replaced: Vec<&str> = replaced.iter().map(String::as_str).collect();
    let ended = deploy(
        &mut cloudwatch,
        points,
        default_guards(stack, NEW),
        &replaced,
        start,
        5,
    );
    (ended, cloudwatch)
}

/// (a) The incident: v7 fails every webhook and its guard is in ALARM; the fix, v8, deploys on a
/// 10%-for-5-minutes canary under a guard of its own and is promoted, and v7's guard goes with
/// the update. The same deploy with one guard re-pointed at each version is stopped at
/// CodeDeploy's first check: the updated alarm kept v7's ALARM.
#[tokio::test]
async fn the_fix_for_a_failing_version_deploys_under_a_guard_of_its_own() {
    let from = T0 * 1000;
    let start = from + 10 * MINUTE;
    let mut points = Datapoints::default();
    emit(&mut points, OLD, from, 10, 100, 10).await;
    emit(&mut points, OLD, start, 5, 90, 10).await;
    emit(&mut points, NEW, start, 5, 10, 0).await;
    aws_metrics(&mut points, from, 15, |_| 0.0);

    let old_guard = stack_alarm("VersionFailuresAlarm", OLD).name;
    let before = live_guards(Stack::Now, &points, from, start);
    assert_eq!(
        before.state(&old_guard),
        Some(State::Alarm),
        "v7 is failing"
    );
    let (ended, after) = deploy_new(Stack::Now, &points, from, start);
    assert_eq!(
        ended,
        Ended::Promoted,
        "{ALARM_UPDATE}; {CODEDEPLOY_ALARMS}"
    );
    let new_guard = stack_alarm("VersionFailuresAlarm", NEW).name;
    assert_eq!(
        new_guard,
        format!("marketgrid-{STAGE}-version-failures-v{NEW}")
    );
    assert_eq!(after.state(&new_guard), Some(State::Ok));
    assert_eq!(after.state(&old_guard), None, "{REPLACEMENT}");

    let (ended, _) = deploy_new(Stack::Before, &points, from, start);
    assert_eq!(
        ended,
        Ended::RolledBack {
            minutes: 0,
            alarm: format!("marketgrid-{STAGE}-version-failures")
        },
        "one guard re-pointed at the fix keeps the failing version's ALARM: {ALARM_UPDATE}"
    );
}

/// (b) A quiet stage: 30 webhooks a minute, 3 of them to v8 on the canary, every one failing.
/// Caught within the canary; the guard before would not judge a minute of it. At 10 a minute
/// (1 to v8) nothing can be judged, and the guard says so: INSUFFICIENT_DATA, not OK.
#[tokio::test]
async fn a_version_failing_every_webhook_on_a_quiet_stage_is_caught_or_left_not_judged() {
    let from = T0 * 1000;
    let start = from + 10 * MINUTE;
    let quiet = |per_minute: u64| async move {
        let mut points = Datapoints::default();
        emit(&mut points, OLD, from, 10, per_minute, 0).await;
        emit(&mut points, OLD, start, 5, per_minute * 9 / 10, 0).await;
        emit(&mut points, NEW, start, 5, per_minute / 10, 10).await;
        aws_metrics(&mut points, from, 15, |_| 0.0);
        points
    };
    let points = quiet(30).await;
    let (ended, _) = deploy_new(Stack::Now, &points, from, start);
    let Ended::RolledBack { minutes, alarm } = ended else {
        panic!("promoted a version failing every webhook: {ended:?}")
    };
    assert_eq!(alarm, stack_alarm("VersionFailuresAlarm", NEW).name);
    assert!(minutes <= 5, "within the canary: minute {minutes}");
    let (ended, _) = deploy_new(Stack::Before, &points, from, start);
    assert_eq!(ended, Ended::Promoted, "3 a minute was never judged before");

    let points = quiet(10).await;
    let (_, after) = deploy_new(Stack::Now, &points, from, start);
    assert_eq!(
        after.state(&stack_alarm("VersionFailuresAlarm", NEW).name),
        Some(State::InsufficientData),
        "not judged, and not OK: {MISSING_DATA}"
    );
    let (_, before) = deploy_new(Stack::Before, &points, from, start);
    assert_eq!(
        before.state(&format!("marketgrid-{STAGE}-version-failures")),
        Some(State::Ok),
        "before, too little traffic read as a passed canary"
    );
}

/// (c) An old dead letter waits in the DLQ, and v7 dead-letters more during v8's canary: v8 is
/// healthy and is promoted. With the queue-wide guard, the old dead letter refuses every
/// deploy, and, once it is gone, v7's dead letters roll back the healthy v8.
#[tokio::test]
async fn dead_letters_of_the_old_version_neither_block_nor_roll_back_the_new_one() {
    let from = T0 * 1000;
    let start = from + 10 * MINUTE;
    let mut points = Datapoints::default();
    emit(&mut points, OLD, from, 10, 100, 0).await;
    emit(&mut points, OLD, start, 5, 90, 0).await;
    emit(&mut points, NEW, start, 5, 10, 0).await;
    let mut growing = points.clone();
    // One old dead letter all along; from minute 12, a few poison webhooks v7 kept retrying
    // reach the DLQ at their tenth receive.
    aws_metrics(&mut points, from, 15, |minute| {
        1.0 + (minute - 11).max(0) as f64
    });
    let (ended, _) = deploy_new(Stack::Now, &points, from, start);
    assert_eq!(ended, Ended::Promoted);
    let (ended, _) = deploy_new(Stack::Before, &points, from, start);
    let Ended::Refused(why) = ended else {
        panic!("{ended:?}")
    };
    assert!(
        why.starts_with(&format!("marketgrid-{STAGE}-dlq-not-empty is in ALARM")),
        "{why}"
    );
    // Redriven before the deploy: only v7's new dead letters, during the canary.
    aws_metrics(&mut growing, from, 15, |minute| (minute - 11).max(0) as f64);
    let (ended, _) = deploy_new(Stack::Now, &growing, from, start);
    assert_eq!(ended, Ended::Promoted);
    let (ended, _) = deploy_new(Stack::Before, &growing, from, start);
    assert_eq!(
        ended,
        Ended::RolledBack {
            // Minute 12's depth, judged at its end: the third check of the shift.
            minutes: 3,
            alarm: format!("marketgrid-{STAGE}-dlq-not-empty")
        }
    );
}

/// (d) The processor's EMF metrics reach CloudWatch two minutes late: a v8 failing 30% is still
/// rolled back within its 5-minute canary. The guard before judged the two newest minutes,
/// always still empty, as 0: it never fired.
#[tokio::test]
async fn a_failing_version_is_rolled_back_with_its_metrics_two_minutes_late() {
    let from = T0 * 1000;
    let start = from + 10 * MINUTE;
    let mut points = Datapoints::arriving_late(2 * MINUTE);
    emit(&mut points, OLD, from, 10, 100, 0).await;
    emit(&mut points, OLD, start, 5, 90, 0).await;
    emit(&mut points, NEW, start, 5, 10, 3).await;
    aws_metrics(&mut points, from, 15, |_| 0.0);
    let (ended, _) = deploy_new(Stack::Now, &points, from, start);
    assert_eq!(
        ended,
        Ended::RolledBack {
            minutes: 4,
            alarm: stack_alarm("VersionFailuresAlarm", NEW).name
        },
        "{EVALUATION}; {MISSING_DATA}"
    );
    let (ended, _) = deploy_new(Stack::Before, &points, from, start);
    assert_eq!(ended, Ended::Promoted, "late data read as 0 before");
}
