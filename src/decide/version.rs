//! Whether a deploy publishes a new processor version, decided from resolved values.
//!
//! Every property of `AWS::Lambda::Version` is immutable, so CloudFormation publishes a version
//! exactly when the version resource's description changes; Lambda refuses to publish one when
//! the function's code and versioned settings are those of its latest version (409 "A version
//! for this Lambda function exists"), and the stack update rolls back. So the description's
//! `definition` is chosen here, per deploy: the configuration this deploy gives the function,
//! every reference resolved (parameters, pseudo parameters, the stack's own resources), is
//! compared with the live version's as Lambda describes it, and the code with its CodeSha256.
//! Unchanged, the live version's own token is kept (a template rewrite with the same result
//! publishes nothing); changed, a hash of the new configuration makes a new version.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::decide::template::{Template, VersionRelevance, function_property_relevance};

/// What a template's references resolve to on one deploy of a stage.
#[derive(Debug, Default, Clone)]
pub struct Resolution {
    /// This deploy's parameter values (the template's defaults fill the gaps).
    pub parameters: BTreeMap<String, String>,
    /// `AWS::Region`, `AWS::AccountId`, `AWS::Partition`, `AWS::URLSuffix`, `AWS::StackName`.
    pub pseudo: BTreeMap<String, String>,
    /// The deployed stack's resources: logical id → physical id (what `Ref` gives). Empty for a
    /// stack not created yet: references stay symbolic.
    pub physical: BTreeMap<String, String>,
}

/// A function configuration, flattened: `"Environment.Variables.MGRID_STAGE"` → its value,
/// lists joined with commas, numbers and booleans as text (`MemorySize: 3008` and `"3008"`
/// are one value to Lambda).
pub type Configuration = BTreeMap<String, String>;

/// The processor's live version as Lambda describes it (GetFunctionConfiguration of the
/// `live` alias): its configuration, its code's CodeSha256, and its description.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveVersion {
    pub version: String,
    pub configuration: Configuration,
    pub code_sha256: String,
    pub description: String,
}

/// The `ProcessorDefinition` a deploy passes, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Definition {
    pub token: String,
    /// The settings that differ from the live version's (empty when only the code does, or
    /// when nothing does).
    pub changed: Vec<String>,
    /// Whether the live version is kept (nothing to publish).
    pub keeps_live: bool,
}

/// The configuration this deploy gives the processor function: each versioned property the
/// template sets (but the code), resolved and flattened.
pub fn configuration(template: &Template, resolution: &Resolution) -> Configuration {
    let Some(function) = template
        .resources()
        .find(|(id, _)| *id == "ProcessorFunction")
        .map(|(_, definition)| definition)
    else {
        return Configuration::new();
    };
    let mut parameters: BTreeMap<String, String> = template
        .parameters()
        .into_iter()
        .filter_map(|p| p.default.map(|d| (p.name, d)))
        .collect();
    parameters.extend(resolution.parameters.clone());
    let conditions = template
        .evaluate_conditions(&resolution.parameters)
        .unwrap_or_default();
    let types: BTreeMap<&str, &str> = template
        .resources()
        .map(|(id, definition)| (id, Template::resource_type(definition)))
        .collect();
    let resolver = Resolver {
        parameters: &parameters,
        resolution,
        conditions: &conditions,
        types: &types,
    };
    let mut flat = Configuration::new();
    if let Some(properties) = function.get("Properties").and_then(Value::as_object) {
        for (name, value) in properties {
            if name == "Code"
                || function_property_relevance(name) != Some(VersionRelevance::Versioned)
            {
                continue;
            }
            flatten(name, &resolver.value(value), &mut flat);
        }
    }
    flat
}

/// The definition token for this deploy: the live version's own when the configuration and the
/// code are its (nothing to publish), else a hash of the new configuration.
pub fn definition(
    new: &Configuration,
    code_sha256: &str,
    live: Option<&LiveVersion>,
) -> Definition {
    let fresh = {
        let text = serde_json::to_string(new).unwrap_or_default();
        let digest = Sha256::digest(text.as_bytes());
        digest[..4]
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<String>()
    };
    let Some(live) = live else {
        return Definition {
            token: fresh,
            changed: Vec::new(),
            keeps_live: false,
        };
    };
    let changed = differences(new, &live.configuration);
    let kept_token = live
        .description
        .rsplit_once("definition ")
        .map(|(_, token)| token.trim().to_owned())
        .filter(|token| !token.is_empty() && !token.contains(' '));
    match kept_token {
        Some(token) if changed.is_empty() && live.code_sha256 == code_sha256 => Definition {
            token,
            changed,
            keeps_live: true,
        },
        _ => Definition {
            token: fresh,
            changed,
            keeps_live: false,
        },
    }
}

/// The keys whose values differ: every key the new configuration sets, and, within a map the
/// template sets (the environment's variables), a key the live version has and the new one
/// drops.
fn differences(new: &Configuration, live: &Configuration) -> Vec<String> {
    let mut changed: Vec<String> = new
        .iter()
        .filter(|(key, value)| live.get(*key) != Some(*value))
        .map(|(key, _)| key.clone())
        .collect();
    let maps: Vec<&str> = new
        .keys()
        .filter(|key| key.starts_with("Environment.Variables."))
        .map(|_| "Environment.Variables.")
        .take(1)
        .collect();
    for prefix in maps {
        changed.extend(
            live.keys()
                .filter(|key| key.starts_with(prefix) && !new.contains_key(*key))
                .cloned(),
        );
    }
    changed.sort();
    changed.dedup();
    changed
}

fn flatten(path: &str, value: &Value, out: &mut Configuration) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                flatten(&format!("{path}.{key}"), inner, out);
            }
        }
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(scalar).collect();
            out.insert(path.to_owned(), parts.join(","));
        }
        Value::Null => {}
        other => {
            out.insert(path.to_owned(), scalar(other));
        }
    }
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Resolves the intrinsic functions a function's properties use, as CloudFormation would for
/// this deploy; what cannot be known before the deploy (a resource not created yet, an
/// attribute not derivable from its physical id) stays symbolic, `{Ref X}` or `{X.Attr}`.
struct Resolver<'a> {
    parameters: &'a BTreeMap<String, String>,
    resolution: &'a Resolution,
    conditions: &'a BTreeMap<String, bool>,
    types: &'a BTreeMap<&'a str, &'a str>,
}

impl Resolver<'_> {
    fn value(&self, value: &Value) -> Value {
        match value {
            Value::Object(map) if map.len() == 1 => {
                let (key, argument) = map.iter().next().map(|(k, v)| (k.as_str(), v)).unzip();
                match (key, argument) {
                    (Some("Ref"), Some(Value::String(name))) => self.reference(name),
                    (Some("Fn::GetAtt"), Some(argument)) => {
                        let parts: Vec<String> = match argument {
                            Value::Array(parts) => parts.iter().map(scalar).collect(),
                            Value::String(text) => text.splitn(2, '.').map(str::to_owned).collect(),
                            _ => Vec::new(),
                        };
                        match parts.as_slice() {
                            [resource, attribute] => {
                                Value::String(self.attribute(resource, attribute))
                            }
                            _ => self.object(map),
                        }
                    }
                    (Some("Fn::Sub"), Some(argument)) => self.sub(argument),
                    (Some("Fn::Join"), Some(Value::Array(parts))) => match parts.as_slice() {
                        [delimiter, Value::Array(items)] => {
                            let items: Vec<Value> = items.iter().map(|i| self.value(i)).collect();
                            if items.iter().all(Value::is_string) {
                                Value::String(
                                    items
                                        .iter()
                                        .map(scalar)
                                        .collect::<Vec<_>>()
                                        .join(&scalar(delimiter)),
                                )
                            } else {
                                self.object(map)
                            }
                        }
                        _ => self.object(map),
                    },
                    (Some("Fn::If"), Some(Value::Array(parts))) => match parts.as_slice() {
                        [Value::String(condition), yes, no] => {
                            if self.conditions.get(condition).copied().unwrap_or(false) {
                                self.value(yes)
                            } else {
                                self.value(no)
                            }
                        }
                        _ => self.object(map),
                    },
                    _ => self.object(map),
                }
            }
            Value::Object(map) => self.object(map),
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|item| self.value(item))
                    .filter(|item| !item.is_null())
                    .collect(),
            ),
            // Lambda reads 3008 and "3008" alike.
            Value::Number(_) | Value::Bool(_) => Value::String(scalar(value)),
            other => other.clone(),
        }
    }

    fn object(&self, map: &Map<String, Value>) -> Value {
        Value::Object(
            map.iter()
                .map(|(key, inner)| (key.clone(), self.value(inner)))
                .filter(|(_, inner)| !inner.is_null())
                .collect(),
        )
    }

    fn reference(&self, name: &str) -> Value {
        if name == "AWS::NoValue" {
            return Value::Null;
        }
        let known = self
            .parameters
            .get(name)
            .or_else(|| self.resolution.pseudo.get(name))
            .or_else(|| self.resolution.physical.get(name));
        Value::String(known.cloned().unwrap_or_else(|| format!("{{Ref {name}}}")))
    }

    /// An attribute derivable from the resource's physical id (an ARN of a role, a key, a
    /// queue, a table, a log group); any other stays symbolic.
    fn attribute(&self, resource: &str, attribute: &str) -> String {
        let symbolic = || format!("{{{resource}.{attribute}}}");
        let (Some(physical), Some(kind)) = (
            self.resolution.physical.get(resource),
            self.types.get(resource),
        ) else {
            return symbolic();
        };
        let pseudo = |name: &str| self.resolution.pseudo.get(name).cloned();
        let (Some(partition), Some(region), Some(account)) = (
            pseudo("AWS::Partition"),
            pseudo("AWS::Region"),
            pseudo("AWS::AccountId"),
        ) else {
            return symbolic();
        };
        match (*kind, attribute) {
            ("AWS::IAM::Role", "Arn") => format!("arn:{partition}:iam::{account}:role/{physical}"),
            ("AWS::KMS::Key", "Arn") => {
                format!("arn:{partition}:kms:{region}:{account}:key/{physical}")
            }
            ("AWS::DynamoDB::Table", "Arn") => {
                format!("arn:{partition}:dynamodb:{region}:{account}:table/{physical}")
            }
            ("AWS::SQS::Queue", "QueueName") => {
                physical.rsplit('/').next().unwrap_or(physical).to_owned()
            }
            ("AWS::SQS::Queue", "Arn") => format!(
                "arn:{partition}:sqs:{region}:{account}:{}",
                physical.rsplit('/').next().unwrap_or(physical)
            ),
            ("AWS::Logs::LogGroup", "Arn") => {
                format!("arn:{partition}:logs:{region}:{account}:log-group:{physical}:*")
            }
            _ => symbolic(),
        }
    }

    /// `Fn::Sub`, its string form or `[text, variables]`: `${Name}`, `${Resource.Attr}`, and
    /// `${!Literal}` for a literal `${Literal}`.
    fn sub(&self, argument: &Value) -> Value {
        let (text, variables) = match argument {
            Value::String(text) => (text.as_str(), None),
            Value::Array(parts) => match parts.as_slice() {
                [Value::String(text), Value::Object(variables)] => (text.as_str(), Some(variables)),
                _ => {
                    return Value::Object(Map::from_iter([(
                        "Fn::Sub".to_owned(),
                        argument.clone(),
                    )]));
                }
            },
            _ => return Value::Object(Map::from_iter([("Fn::Sub".to_owned(), argument.clone())])),
        };
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                out.push_str(&rest[start..]);
                rest = "";
                break;
            };
            let name = &after[..end];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            } else if let Some(value) = variables.and_then(|v| v.get(name)) {
                out.push_str(&scalar(&self.value(value)));
            } else if let Some((resource, attribute)) = name.split_once('.') {
                out.push_str(&self.attribute(resource, attribute));
            } else {
                out.push_str(&scalar(&self.reference(name)));
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Value::String(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn resolution() -> Resolution {
        Resolution {
            parameters: BTreeMap::from([
                ("Stage".to_owned(), "prod".to_owned()),
                ("ProcessorMemory".to_owned(), "3008".to_owned()),
                ("Architecture".to_owned(), "arm64".to_owned()),
            ]),
            pseudo: BTreeMap::from([
                ("AWS::Partition".to_owned(), "aws".to_owned()),
                ("AWS::Region".to_owned(), "eu-west-1".to_owned()),
                ("AWS::AccountId".to_owned(), "123456789012".to_owned()),
            ]),
            physical: BTreeMap::from([
                ("ProcessorRole".to_owned(), "marketgrid-prod-ProcessorRole-1A2B".to_owned()),
                ("StageKey".to_owned(), "0b1c2d3e-key".to_owned()),
                ("ProcessorLogGroup".to_owned(), "/aws/lambda/marketgrid-prod-processor".to_owned()),
                ("TransactionsTable".to_owned(), "marketgrid-prod-transactions".to_owned()),
                (
                    "WebhookDeadLetterQueue".to_owned(),
                    "https://sqs.eu-west-1.amazonaws.com/123456789012/marketgrid-prod-webhooks-dlq.fifo".to_owned(),
                ),
            ]),
        }
    }

    fn with(edit: impl FnOnce(&mut Value)) -> Configuration {
        let mut model = Template::pipeline().unwrap().model().clone();
        edit(&mut model["Resources"]["ProcessorFunction"]["Properties"]);
        configuration(&Template::from_model(model), &resolution())
    }

    #[test]
    fn the_configuration_is_resolved_as_lambda_would_hold_it() {
        let configuration = with(|_| {});
        assert_eq!(configuration["MemorySize"], "3008");
        assert_eq!(configuration["Timeout"], "30");
        assert_eq!(configuration["Architectures"], "arm64");
        assert_eq!(
            configuration["Role"],
            "arn:aws:iam::123456789012:role/marketgrid-prod-ProcessorRole-1A2B"
        );
        assert_eq!(
            configuration["KmsKeyArn"],
            "arn:aws:kms:eu-west-1:123456789012:key/0b1c2d3e-key"
        );
        assert_eq!(
            configuration["Environment.Variables.MGRID_PARAMETER_PREFIX"],
            "/marketgrid/prod/"
        );
        assert_eq!(
            configuration["Environment.Variables.MGRID_DLQ_URL"],
            "https://sqs.eu-west-1.amazonaws.com/123456789012/marketgrid-prod-webhooks-dlq.fifo"
        );
        assert!(
            !configuration.contains_key("Code.S3Key"),
            "the code is CodeSha256's"
        );
        assert!(!configuration.contains_key("Tags"));
    }

    #[test]
    fn a_rewrite_with_the_same_result_keeps_the_live_version_and_a_new_value_does_not() {
        let live_configuration = with(|_| {});
        let live = LiveVersion {
            version: "7".into(),
            configuration: live_configuration.clone(),
            code_sha256: "c0de=".into(),
            description: "artifact c0de=; memory 3008 MB; ledger t; dlq d; definition AB5D515D"
                .into(),
        };
        // The same values written otherwise: a Join for a Sub, a string for a number, the
        // table's name for its Ref.
        let rewritten = with(|p| {
            p["Environment"]["Variables"]["MGRID_PARAMETER_PREFIX"] =
                json!({"Fn::Join": ["", ["/marketgrid/", {"Ref": "Stage"}, "/"]]});
            p["Timeout"] = json!("30");
            p["Environment"]["Variables"]["MGRID_TABLE_NAME"] =
                json!({"Fn::Sub": "marketgrid-${Stage}-transactions"});
        });
        let kept = definition(&rewritten, "c0de=", Some(&live));
        assert_eq!(
            kept,
            Definition {
                token: "AB5D515D".into(),
                changed: Vec::new(),
                keeps_live: true
            }
        );
        // A new setting, a dropped variable, new code: a new version.
        let longer = definition(&with(|p| p["Timeout"] = json!(60)), "c0de=", Some(&live));
        assert_eq!(longer.changed, ["Timeout"]);
        assert!(!longer.keeps_live);
        assert_ne!(longer.token, "AB5D515D");
        let dropped = with(|p| {
            p["Environment"]["Variables"]
                .as_object_mut()
                .unwrap()
                .remove("MGRID_DLQ_URL");
        });
        assert_eq!(
            definition(&dropped, "c0de=", Some(&live)).changed,
            ["Environment.Variables.MGRID_DLQ_URL"]
        );
        let code = definition(&live_configuration, "new=", Some(&live));
        assert!(code.changed.is_empty() && !code.keeps_live);
        // A change Lambda does not version (tags, the description) changes nothing here.
        let tagged = with(|p| p["Tags"] = json!([{"Key": "team", "Value": "payments"}]));
        assert!(definition(&tagged, "c0de=", Some(&live)).keeps_live);
        // Nothing deployed yet: a token of its own.
        assert!(!definition(&live_configuration, "c0de=", None).keeps_live);
    }

    #[test]
    fn sub_resolves_parameters_attributes_variables_and_literals() {
        let template = Template::pipeline().unwrap();
        let types: BTreeMap<&str, &str> = template
            .resources()
            .map(|(id, d)| (id, Template::resource_type(d)))
            .collect();
        let resolution = resolution();
        let conditions = BTreeMap::new();
        let resolver = Resolver {
            parameters: &resolution.parameters,
            resolution: &resolution,
            conditions: &conditions,
            types: &types,
        };
        assert_eq!(
            resolver.sub(&json!(["${Stage}/${!Literal}/${WebhookDeadLetterQueue.QueueName}/${x}/${Unknown}", {"x": {"Ref": "AWS::Region"}}])),
            json!("prod/${Literal}/marketgrid-prod-webhooks-dlq.fifo/eu-west-1/{Ref Unknown}")
        );
    }
}
