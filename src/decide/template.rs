//! The embedded CloudFormation template, read into CloudFormation's JSON model so mgrid can print
//! it as YAML or JSON, check parameter values against the template's own constraints, and work
//! out which optional parts a stage turns on, all without calling AWS.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The pipeline template, byte for byte as it is in `stacks/`.
pub const PIPELINE_YAML: &str = include_str!("../../stacks/pipeline.yaml");

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TemplateError {
    #[error("the template is not valid YAML: {0}")]
    Yaml(String),
    #[error("the template has no {0} section")]
    MissingSection(&'static str),
    #[error("condition {condition:?} cannot be evaluated offline: {reason}")]
    Condition { condition: String, reason: String },
}

/// Whether a change to an `AWS::Lambda::Function` property is one Lambda publishes a new version
/// for. A version is a snapshot of the code and the settings it runs with; tags, reserved
/// concurrency, the code-signing and recursion settings belong to the function, and the
/// description is cosmetic (left out, a description-only change just keeps the live version).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionRelevance {
    Versioned,
    NotVersioned,
}

/// How `property` of a Lambda function bears on its versions; None for one not classified yet.
pub fn function_property_relevance(property: &str) -> Option<VersionRelevance> {
    match property {
        "Architectures"
        | "Code"
        | "DeadLetterConfig"
        | "Environment"
        | "EphemeralStorage"
        | "FileSystemConfigs"
        | "Handler"
        | "ImageConfig"
        | "KmsKeyArn"
        | "Layers"
        | "LoggingConfig"
        | "MemorySize"
        | "PackageType"
        | "Role"
        | "Runtime"
        | "RuntimeManagementConfig"
        | "SnapStart"
        | "Timeout"
        | "TracingConfig"
        | "VpcConfig" => Some(VersionRelevance::Versioned),
        // Where and how durably the code runs, like the architecture.
        "CapacityProviderConfig" | "DurableConfig" => Some(VersionRelevance::Versioned),
        // The function's own: scaling and concurrency, tags, signing, recursion, the
        // description; a deploy instruction (PublishToLatestPublished); and what can only be
        // set on creation (FunctionName, TenancyConfig), whose change replaces the function.
        "CodeSigningConfigArn"
        | "Description"
        | "FunctionName"
        | "FunctionScalingConfig"
        | "PublishToLatestPublished"
        | "RecursiveLoop"
        | "ReservedConcurrentExecutions"
        | "Tags"
        | "TenancyConfig" => Some(VersionRelevance::NotVersioned),
        _ => None,
    }
}

/// A CloudFormation template in its JSON form.
#[derive(Debug, Clone)]
pub struct Template {
    model: Value,
}

impl Template {
    /// The embedded pipeline template.
    pub fn pipeline() -> Result<Template, TemplateError> {
        Template::from_yaml(PIPELINE_YAML)
    }

    pub fn from_yaml(yaml: &str) -> Result<Template, TemplateError> {
        let value: serde_yaml_ng::Value =
            serde_yaml_ng::from_str(yaml).map_err(|e| TemplateError::Yaml(e.to_string()))?;
        let model = to_cloudformation_json(value);
        for section in ["Parameters", "Resources"] {
            if !model.get(section).is_some_and(Value::is_object) {
                return Err(TemplateError::MissingSection(section));
            }
        }
        Ok(Template { model })
    }

    pub fn model(&self) -> &Value {
        &self.model
    }

    /// A template from its JSON model (a test's edit of the pipeline's, say).
    pub fn from_model(model: Value) -> Template {
        Template { model }
    }

    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(&self.model).unwrap_or_default()
    }

    pub fn parameters(&self) -> Vec<ParameterSpec> {
        self.section("Parameters")
            .iter()
            .map(|(name, spec)| ParameterSpec::from_json(name, spec))
            .collect()
    }

    pub fn parameter(&self, name: &str) -> Option<ParameterSpec> {
        self.section("Parameters")
            .get(name)
            .map(|spec| ParameterSpec::from_json(name, spec))
    }

    /// Every resource: logical id and its JSON definition.
    pub fn resources(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.section("Resources")
            .iter()
            .map(|(k, v)| (k.as_str(), v))
    }

    pub fn resource_type(definition: &Value) -> &str {
        definition.get("Type").and_then(Value::as_str).unwrap_or("")
    }

    fn section(&self, name: &str) -> &Map<String, Value> {
        static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
        self.model
            .get(name)
            .and_then(Value::as_object)
            .unwrap_or_else(|| EMPTY.get_or_init(Map::new))
    }

    /// The truth of every condition for these parameter values (defaults fill the gaps).
    pub fn evaluate_conditions(
        &self,
        values: &BTreeMap<String, String>,
    ) -> Result<BTreeMap<String, bool>, TemplateError> {
        let mut resolved: BTreeMap<String, String> = self
            .parameters()
            .into_iter()
            .filter_map(|p| p.default.map(|d| (p.name, d)))
            .collect();
        resolved.extend(values.iter().map(|(k, v)| (k.clone(), v.clone())));
        let definitions = self.section("Conditions");
        let mut truth = BTreeMap::new();
        for name in definitions.keys() {
            let value = ConditionEvaluator {
                definitions,
                parameters: &resolved,
            }
            .condition(name, 0)?;
            truth.insert(name.clone(), value);
        }
        Ok(truth)
    }

    /// The resources a stack with these condition values would hold.
    pub fn resources_created<'a>(
        &'a self,
        conditions: &'a BTreeMap<String, bool>,
    ) -> impl Iterator<Item = (&'a str, &'a Value)> {
        self.resources().filter(|(_, definition)| {
            match definition.get("Condition").and_then(Value::as_str) {
                Some(condition) => conditions.get(condition).copied().unwrap_or(false),
                None => true,
            }
        })
    }

    /// A short hash of the API definition (the REST API, its resources, methods and
    /// authorizers). The API deployment's logical id ends with it, so a changed API gets a new
    /// deployment: CloudFormation never redeploys an unchanged Deployment resource.
    pub fn api_definition_hash(&self) -> String {
        let mut hasher = Sha256::new();
        for (id, definition) in self.resources() {
            if matches!(
                Template::resource_type(definition),
                "AWS::ApiGateway::RestApi"
                    | "AWS::ApiGateway::Resource"
                    | "AWS::ApiGateway::Method"
                    | "AWS::ApiGateway::Authorizer"
                    | "AWS::ApiGateway::Model"
                    | "AWS::ApiGateway::RequestValidator"
            ) {
                hasher.update(id.as_bytes());
                hasher.update(definition.to_string().as_bytes());
            }
        }
        let digest = hasher.finalize();
        digest[..4].iter().map(|b| format!("{b:02X}")).collect()
    }
}

/// One template parameter and its constraints.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ParameterSpec {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub description: Option<String>,
    pub default: Option<String>,
    pub allowed_values: Vec<String>,
    pub allowed_pattern: Option<String>,
    pub constraint_description: Option<String>,
    pub min_value: Option<f64>,
    pub max_value: Option<f64>,
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
}

impl ParameterSpec {
    fn from_json(name: &str, spec: &Value) -> ParameterSpec {
        let text = |key: &str| spec.get(key).and_then(scalar_text);
        let number = |key: &str| spec.get(key).and_then(Value::as_f64);
        let length = |key: &str| spec.get(key).and_then(Value::as_u64).map(|n| n as usize);
        ParameterSpec {
            name: name.to_owned(),
            kind: text("Type").unwrap_or_default(),
            description: text("Description"),
            default: text("Default"),
            allowed_values: spec
                .get("AllowedValues")
                .and_then(Value::as_array)
                .map(|values| values.iter().filter_map(scalar_text).collect())
                .unwrap_or_default(),
            allowed_pattern: text("AllowedPattern"),
            constraint_description: text("ConstraintDescription"),
            min_value: number("MinValue"),
            max_value: number("MaxValue"),
            min_length: length("MinLength"),
            max_length: length("MaxLength"),
        }
    }

    /// Checks a value the way CloudFormation will, so a bad value fails before any AWS call.
    pub fn check(&self, value: &str) -> Result<(), String> {
        let name = &self.name;
        if self.kind == "Number" {
            let number: f64 = value
                .parse()
                .map_err(|_| format!("{name} must be a number, not {value:?}"))?;
            if let Some(min) = self.min_value.filter(|&min| number < min) {
                return Err(format!("{name} must be at least {min}, not {value}"));
            }
            if let Some(max) = self.max_value.filter(|&max| number > max) {
                return Err(format!("{name} must be at most {max}, not {value}"));
            }
        }
        if !self.allowed_values.is_empty() && !self.allowed_values.iter().any(|v| v == value) {
            return Err(format!(
                "{name} must be one of {}, not {value:?}",
                self.allowed_values.join(", ")
            ));
        }
        let length = value.chars().count();
        if let Some(min) = self.min_length.filter(|&min| length < min) {
            return Err(format!("{name} must be at least {min} characters long"));
        }
        if let Some(max) = self.max_length.filter(|&max| length > max) {
            return Err(format!("{name} must be at most {max} characters long"));
        }
        if let Some(pattern) = &self.allowed_pattern {
            // CloudFormation matches the whole value.
            let anchored = regex_lite::Regex::new(&format!("^(?:{pattern})$")).map_err(|e| {
                format!("{name} has an invalid AllowedPattern in the template: {e}")
            })?;
            if !anchored.is_match(value) {
                let rule = self
                    .constraint_description
                    .clone()
                    .unwrap_or_else(|| format!("match {pattern}"));
                return Err(format!("{name} must be {rule}; {value:?} is not"));
            }
        }
        Ok(())
    }
}

struct ConditionEvaluator<'a> {
    definitions: &'a Map<String, Value>,
    parameters: &'a BTreeMap<String, String>,
}

impl ConditionEvaluator<'_> {
    fn condition(&self, name: &str, depth: usize) -> Result<bool, TemplateError> {
        let definition = self
            .definitions
            .get(name)
            .ok_or_else(|| TemplateError::Condition {
                condition: name.to_owned(),
                reason: "no such condition".into(),
            })?;
        if depth > 32 {
            return Err(self.unsupported(name, "conditions refer to each other in a cycle"));
        }
        self.truth(name, definition, depth)
    }

    fn truth(&self, name: &str, expression: &Value, depth: usize) -> Result<bool, TemplateError> {
        let Some((function, args)) = single_entry(expression) else {
            return Err(self.unsupported(name, "not an intrinsic function"));
        };
        let operands = || args.as_array().map(Vec::as_slice).unwrap_or(&[]);
        match function {
            "Fn::Equals" => match operands() {
                [left, right] => Ok(self.scalar(name, left)? == self.scalar(name, right)?),
                _ => Err(self.unsupported(name, "Fn::Equals takes two values")),
            },
            "Fn::Not" => match operands() {
                [inner] => Ok(!self.truth(name, inner, depth + 1)?),
                _ => Err(self.unsupported(name, "Fn::Not takes one condition")),
            },
            "Fn::And" => operands()
                .iter()
                .try_fold(true, |acc, c| Ok(acc && self.truth(name, c, depth + 1)?)),
            "Fn::Or" => operands()
                .iter()
                .try_fold(false, |acc, c| Ok(acc || self.truth(name, c, depth + 1)?)),
            "Condition" => match args.as_str() {
                Some(other) => self.condition(other, depth + 1),
                None => Err(self.unsupported(name, "Condition takes a name")),
            },
            other => Err(self.unsupported(name, &format!("{other} is not supported offline"))),
        }
    }

    fn scalar(&self, name: &str, value: &Value) -> Result<String, TemplateError> {
        if let Some(text) = scalar_text(value) {
            return Ok(text);
        }
        match single_entry(value) {
            Some(("Ref", Value::String(parameter))) => {
                self.parameters.get(parameter).cloned().ok_or_else(|| {
                    self.unsupported(name, &format!("parameter {parameter} has no value"))
                })
            }
            Some(("Fn::Join", Value::Array(args))) => match args.as_slice() {
                [Value::String(delimiter), list] => Ok(self.list(name, list)?.join(delimiter)),
                _ => Err(self.unsupported(name, "Fn::Join takes a delimiter and a list")),
            },
            _ => Err(self.unsupported(
                name,
                "only parameters, literals, Fn::Join and Fn::Split can be compared",
            )),
        }
    }

    /// A list: literal items, a CommaDelimitedList parameter, or Fn::Split of a value.
    fn list(&self, name: &str, value: &Value) -> Result<Vec<String>, TemplateError> {
        if let Value::Array(items) = value {
            return items.iter().map(|item| self.scalar(name, item)).collect();
        }
        match single_entry(value) {
            Some(("Ref", Value::String(_))) => Ok(self
                .scalar(name, value)?
                .split(',')
                .map(str::to_owned)
                .collect()),
            Some(("Fn::Split", Value::Array(args))) => match args.as_slice() {
                [Value::String(delimiter), text] if !delimiter.is_empty() => Ok(self
                    .scalar(name, text)?
                    .split(delimiter.as_str())
                    .map(str::to_owned)
                    .collect()),
                _ => Err(self.unsupported(name, "Fn::Split takes a delimiter and a value")),
            },
            _ => Err(self.unsupported(name, "not a list")),
        }
    }

    fn unsupported(&self, condition: &str, reason: &str) -> TemplateError {
        TemplateError::Condition {
            condition: condition.to_owned(),
            reason: reason.to_owned(),
        }
    }
}

fn single_entry(value: &Value) -> Option<(&str, &Value)> {
    let object = value.as_object()?;
    if object.len() != 1 {
        return None;
    }
    object.iter().next().map(|(k, v)| (k.as_str(), v))
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Converts YAML, with CloudFormation's short-form tags (`!Ref`, `!Sub`, `!GetAtt`, …), into
/// the JSON form CloudFormation itself uses.
fn to_cloudformation_json(value: serde_yaml_ng::Value) -> Value {
    use serde_yaml_ng::Value as Yaml;
    match value {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => Value::Bool(b),
        Yaml::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                n.as_f64().map_or(Value::Null, Value::from)
            }
        }
        Yaml::String(s) => Value::String(s),
        Yaml::Sequence(items) => {
            Value::Array(items.into_iter().map(to_cloudformation_json).collect())
        }
        Yaml::Mapping(entries) => Value::Object(
            entries
                .into_iter()
                .map(|(key, value)| {
                    let key = match to_cloudformation_json(key) {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    (key, to_cloudformation_json(value))
                })
                .collect(),
        ),
        Yaml::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let function = tag.trim_start_matches('!');
            let argument = to_cloudformation_json(tagged.value);
            let (key, argument) = match (function, argument) {
                ("Ref", argument) => ("Ref".to_owned(), argument),
                ("Condition", argument) => ("Condition".to_owned(), argument),
                ("GetAtt", Value::String(path)) => {
                    let parts: Vec<Value> = match path.split_once('.') {
                        Some((resource, attribute)) => vec![resource.into(), attribute.into()],
                        None => vec![path.into()],
                    };
                    ("Fn::GetAtt".to_owned(), Value::Array(parts))
                }
                (other, argument) => (format!("Fn::{other}"), argument),
            };
            let mut object = Map::new();
            object.insert(key, argument);
            Value::Object(object)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn short_form_functions_become_their_json_form() {
        let template = Template::from_yaml(
            "Parameters: {}\nResources:\n  A:\n    Type: X\n    Properties:\n      P: !Ref B\n      Q: !GetAtt B.Arn\n      R: !Sub '${B}-x'\n      S: !If [C, 1, 2]\n",
        )
        .unwrap();
        let properties = &template.model()["Resources"]["A"]["Properties"];
        assert_eq!(properties["P"], serde_json::json!({"Ref": "B"}));
        assert_eq!(
            properties["Q"],
            serde_json::json!({"Fn::GetAtt": ["B", "Arn"]})
        );
        assert_eq!(properties["R"], serde_json::json!({"Fn::Sub": "${B}-x"}));
        assert_eq!(properties["S"], serde_json::json!({"Fn::If": ["C", 1, 2]}));
    }

    #[test]
    fn the_embedded_template_parses() {
        let template = Template::pipeline().unwrap();
        assert!(template.resources().count() > 50);
        assert!(template.parameter("Stage").is_some());
    }

    #[test]
    fn parameter_checks_follow_the_template_constraints() {
        let template = Template::pipeline().unwrap();
        let stage = template.parameter("Stage").unwrap();
        assert!(stage.check("prod").is_ok());
        assert!(
            stage
                .check("Prod")
                .unwrap_err()
                .contains("lowercase letter")
        );
        let memory = template.parameter("ProcessorMemory").unwrap();
        assert!(memory.check("3008").is_ok());
        assert!(memory.check("64").unwrap_err().contains("at least 128"));
        assert!(
            memory
                .check("lots")
                .unwrap_err()
                .contains("must be a number")
        );
        let retention = template.parameter("LogRetentionDays").unwrap();
        assert!(retention.check("31").unwrap_err().contains("one of"));
        let protected = template.parameter("Protected").unwrap();
        assert!(protected.check("yes").is_err());
        assert!(protected.check("true").is_ok());
    }

    #[test]
    fn optional_parts_are_off_with_the_defaults() {
        let template = Template::pipeline().unwrap();
        let conditions = template.evaluate_conditions(&BTreeMap::new()).unwrap();
        // Every optional part is off; the default guard alarms are on.
        assert!(
            conditions
                .iter()
                .filter(|(name, _)| !name.starts_with("Guard") && *name != "HasDeployAlarms")
                .all(|(_, on)| !on),
            "{conditions:?}"
        );
        let created: Vec<_> = template
            .resources_created(&conditions)
            .map(|(id, _)| id)
            .collect();
        assert!(!created.contains(&"ProcessorScalableTarget"));
        assert!(created.contains(&"ProcessorAlias"));
        assert!(!created.contains(&"ApiDomainName"));
        assert!(created.contains(&"TransactionsTable"));
    }

    #[test]
    fn provisioned_concurrency_and_custom_domain_turn_on_their_resources() {
        let template = Template::pipeline().unwrap();
        let conditions = template
            .evaluate_conditions(&values(&[
                ("ProvisionedConcurrencyMin", "5"),
                ("ProvisionedConcurrencyMax", "50"),
                ("CustomDomainName", "hooks.example.com"),
                ("Protected", "true"),
            ]))
            .unwrap();
        assert!(conditions["UseProvisionedConcurrency"]);
        assert!(conditions["HasCustomDomain"]);
        assert!(conditions["IsProtected"]);
        assert!(!conditions["HasAlarmEmail"]);
        let created: Vec<_> = template
            .resources_created(&conditions)
            .map(|(id, _)| id)
            .collect();
        for id in [
            "ProcessorAlias",
            "ProcessorScalableTarget",
            "ApiDomainName",
            "ApiDomainRecord",
        ] {
            assert!(created.contains(&id), "{id}");
        }
    }

    #[test]
    fn the_guard_conditions_pick_exactly_the_alarms_deploy_alarms_names() {
        let template = Template::pipeline().unwrap();
        let guards = |alarms: Option<&str>| {
            let values: BTreeMap<String, String> = alarms
                .map(|a| ("DeployAlarms".to_owned(), a.to_owned()))
                .into_iter()
                .collect();
            let truth = template.evaluate_conditions(&values).unwrap();
            let mut on: Vec<String> = truth
                .iter()
                .filter(|(name, value)| name.starts_with("Guard") && **value)
                .map(|(name, _)| name.clone())
                .collect();
            on.sort();
            (truth["HasDeployAlarms"], on)
        };
        assert_eq!(
            guards(None),
            (
                true,
                vec![
                    "GuardProcessorThrottles".to_owned(),
                    "GuardVersionFailures".to_owned()
                ]
            )
        );
        // A name matches whole, between commas: pipe-dlq-not-empty is no dlq-not-empty.
        assert_eq!(
            guards(Some("oldest-webhook-age")),
            (true, vec!["GuardOldestWebhookAge".to_owned()])
        );
        assert_eq!(guards(Some("")), (false, Vec::new()));
        // Names that are no guard's enable nothing: CodeDeploy refuses an enabled
        // configuration without alarms (InvalidAlarmConfigException).
        assert_eq!(
            guards(Some("dlq-empty,version-failure")),
            (false, Vec::new())
        );
        let all = crate::decide::shift::GuardAlarm::ALL
            .map(|a| a.name())
            .join(",");
        assert_eq!(
            guards(Some(&all)).1.len(),
            crate::decide::shift::GuardAlarm::ALL.len()
        );
    }

    #[test]
    fn conditions_outside_the_offline_subset_are_reported() {
        let template = Template::from_yaml(
            "Parameters: {}\nResources: {}\nConditions:\n  InUsEast1: !Equals [!Ref 'AWS::Region', us-east-1]\n",
        )
        .unwrap();
        let error = template.evaluate_conditions(&BTreeMap::new()).unwrap_err();
        assert!(
            error.to_string().contains("AWS::Region has no value"),
            "{error}"
        );
    }

    #[test]
    fn the_processor_version_is_described_by_what_each_deploy_resolves() {
        let template = Template::pipeline().unwrap();
        let description = template.section("Resources")["ProcessorVersion"]["Properties"]
            ["Description"]["Fn::Sub"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        // mgrid chooses the definition per deploy (src/decide/version.rs).
        assert!(
            description.ends_with("definition ${ProcessorDefinition}"),
            "{description}"
        );
        for setting in ["${ArtifactSha256}", "${ProcessorMemory}"] {
            assert!(description.contains(setting), "{setting}");
        }
    }

    #[test]
    fn every_processor_function_property_is_classified_for_versions() {
        let template = Template::pipeline().unwrap();
        let properties = template.section("Resources")["ProcessorFunction"]["Properties"]
            .as_object()
            .unwrap();
        for name in properties.keys() {
            assert!(
                function_property_relevance(name).is_some(),
                "ProcessorFunction's {name} is not classified: say in function_property_relevance \
                 whether Lambda publishes a new version when it changes (a versioned property \
                 left out never reaches the live alias; an unversioned one put in fails the \
                 deploy with 409 when it alone changes)"
            );
        }
    }

    /// Names a versioned property reads that do not change for the life of a stack, or whose
    /// change the description already carries otherwise.
    const FIXED_FOR_THE_STACK: [(&str, &str); 9] = [
        ("Stage", "a stack is one stage"),
        ("AWS::Region", "a stack is in one region"),
        ("AWS::AccountId", "a stack is in one account"),
        ("StageKey", "retained, never replaced"),
        (
            "ProcessorRole",
            "no name-changing property: updated in place",
        ),
        ("ProcessorLogGroup", "a fixed name"),
        (
            "ArtifactBucket",
            "the code: the description names the artifact's hash",
        ),
        (
            "ArtifactKey",
            "the code: the description names the artifact's hash",
        ),
        (
            "Architecture",
            "each architecture has its own artifact, and so its own hash",
        ),
    ];

    fn referenced(value: &Value, names: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, inner) in map {
                    match (key.as_str(), inner) {
                        ("Ref", Value::String(name)) => names.push(name.clone()),
                        ("Fn::GetAtt", Value::Array(parts)) => {
                            names.extend(parts.first().and_then(Value::as_str).map(str::to_owned))
                        }
                        ("Fn::Sub", Value::String(text)) => names.extend(sub_names(text)),
                        _ => referenced(inner, names),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| referenced(v, names)),
            _ => {}
        }
    }

    fn sub_names(text: &str) -> Vec<String> {
        text.split("${")
            .skip(1)
            .filter_map(|rest| rest.split('}').next())
            .map(|name| name.split('.').next().unwrap_or(name).to_owned())
            .collect()
    }

    #[test]
    fn every_value_a_version_runs_with_reaches_its_description() {
        let template = Template::pipeline().unwrap();
        let resources = template.section("Resources");
        let description = resources["ProcessorVersion"]["Properties"]["Description"]["Fn::Sub"]
            .as_str()
            .unwrap();
        let described = sub_names(description);
        let mut names = Vec::new();
        for (name, value) in resources["ProcessorFunction"]["Properties"]
            .as_object()
            .unwrap()
        {
            if function_property_relevance(name) == Some(VersionRelevance::Versioned) {
                referenced(value, &mut names);
            }
        }
        assert!(names.contains(&"ProcessorMemory".to_owned()), "{names:?}");
        for name in names {
            assert!(
                described.contains(&name)
                    || FIXED_FOR_THE_STACK.iter().any(|(fixed, _)| *fixed == name),
                "the processor runs with {name}, which ProcessorVersion's description does not \
                 name: a change of it alone would never reach the live alias"
            );
        }
    }

    #[test]
    fn the_api_deployment_id_carries_the_current_api_hash() {
        let template = Template::pipeline().unwrap();
        let deployments: Vec<&str> = template
            .resources()
            .filter(|(_, d)| Template::resource_type(d) == "AWS::ApiGateway::Deployment")
            .map(|(id, _)| id)
            .collect();
        let expected = format!("ApiDeployment{}", template.api_definition_hash());
        assert_eq!(
            deployments,
            vec![expected.as_str()],
            "the API definition changed: rename the Deployment resource (and its Ref in ApiStage) \
             in stacks/pipeline.yaml to {expected}, so the stage gets a new deployment"
        );
    }
}
