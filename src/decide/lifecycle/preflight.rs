//! Is the account ready for this stage? Checked before a deploy writes anything: settings that
//! belong to the account and region rather than to any stage, which a deploy would otherwise
//! find out about only when a resource fails to create, minutes in. Pure: it judges what the AWS
//! adapter read; a reading that could not be made is said, and does not block.

use serde::Serialize;

/// Lambda keeps this many concurrent executions unreserved in every account and region;
/// provisioned and reserved concurrency can only use what is above it.
pub const LAMBDA_MIN_UNRESERVED: i64 = 100;

/// One reading of the account: its value, or why it could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading<T> {
    Read(T),
    Unreadable(String),
}

/// Lambda's concurrency in the account and region (GetAccountSettings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LambdaConcurrency {
    pub account_limit: i64,
    pub unreserved: i64,
}

/// What the account holds that a stage depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountReadings {
    /// API Gateway's CloudWatch role for the account and region, None when unset.
    pub api_gateway_logging_role: Reading<Option<String>>,
    pub lambda_concurrency: Reading<LambdaConcurrency>,
}

/// What the stage will ask of the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StageNeeds {
    /// The most processor invocations the queue's event source may run at once.
    pub processor_max_concurrency: i64,
    /// The most provisioned concurrency auto scaling may allocate (0 when off).
    pub provisioned_max: i64,
}

/// What a preflight found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Readiness {
    /// The deploy would fail or the stage would not work: fix this first.
    Blocker { what: String, next: String },
    /// A check that could not be made; the deploy goes on.
    Unchecked { what: String },
}

/// The AWS CLI options that point a printed command at the same account and region.
pub struct CliTarget {
    pub region: String,
    pub profile: Option<String>,
}

impl CliTarget {
    fn options(&self) -> String {
        match &self.profile {
            Some(profile) => format!("--region {} --profile {profile}", self.region),
            None => format!("--region {}", self.region),
        }
    }
}

/// The findings for a stage needing `needs` from an account that read as `readings`.
pub fn judge(readings: &AccountReadings, needs: StageNeeds, target: &CliTarget) -> Vec<Readiness> {
    let mut findings = Vec::new();
    match &readings.api_gateway_logging_role {
        Reading::Read(Some(_)) => {}
        Reading::Read(None) => findings.push(Readiness::Blocker {
            what: format!(
                "API Gateway has no CloudWatch role in this account and {}: the stage's API stage logs \
                 its executions and would fail to create",
                target.region
            ),
            next: logging_role_commands(target),
        }),
        Reading::Unreadable(why) => findings.push(Readiness::Unchecked {
            what: format!("whether API Gateway has a CloudWatch role ({why})"),
        }),
    }
    match &readings.lambda_concurrency {
        Reading::Read(concurrency) => findings.extend(concurrency_findings(*concurrency, needs)),
        Reading::Unreadable(why) => findings.push(Readiness::Unchecked {
            what: format!("Lambda's concurrency quota ({why})"),
        }),
    }
    findings
}

fn concurrency_findings(concurrency: LambdaConcurrency, needs: StageNeeds) -> Vec<Readiness> {
    let LambdaConcurrency {
        account_limit,
        unreserved,
    } = concurrency;
    let raise = "raise the account's \"Concurrent executions\" quota (Service Quotas, AWS Lambda, L-B99A9384)";
    let mut findings = Vec::new();
    if needs.processor_max_concurrency > unreserved {
        findings.push(Readiness::Blocker {
            what: format!(
                "the processor may run {} invocations at once, but the account has {unreserved} unreserved \
                 concurrent executions (of {account_limit}): webhooks would wait in the queue, throttled",
                needs.processor_max_concurrency
            ),
            next: format!("{raise}, or lower processor_max_concurrency for the stage in mgrid.toml"),
        });
    }
    let room = unreserved - LAMBDA_MIN_UNRESERVED;
    if needs.provisioned_max > 0 && needs.provisioned_max > room {
        findings.push(Readiness::Blocker {
            what: format!(
                "provisioned concurrency may grow to {}, but Lambda keeps {LAMBDA_MIN_UNRESERVED} of the account's \
                 {unreserved} unreserved executions free, which leaves room for {}: the stage's scaling would fail",
                needs.provisioned_max,
                room.max(0)
            ),
            next: format!("{raise}, or lower provisioned_concurrency.max for the stage in mgrid.toml"),
        });
    }
    findings
}

fn logging_role_commands(target: &CliTarget) -> String {
    let options = target.options();
    format!(
        "set it once for the account and region (README: \"Before the first deploy in an account\"):\n  \
         aws iam create-role --role-name apigateway-cloudwatch-logs {profile}--assume-role-policy-document \
         '{{\"Version\":\"2012-10-17\",\"Statement\":[{{\"Effect\":\"Allow\",\"Principal\":{{\"Service\":\"apigateway.amazonaws.com\"}},\"Action\":\"sts:AssumeRole\"}}]}}'\n  \
         aws iam attach-role-policy --role-name apigateway-cloudwatch-logs {profile}--policy-arn \
         arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs\n  \
         aws apigateway update-account {options} --patch-operations \
         op=replace,path=/cloudwatchRoleArn,value=$(aws iam get-role --role-name apigateway-cloudwatch-logs {profile}--query Role.Arn --output text)",
        profile = target
            .profile
            .as_ref()
            .map(|p| format!("--profile {p} "))
            .unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> CliTarget {
        CliTarget {
            region: "eu-west-1".into(),
            profile: Some("ops".into()),
        }
    }

    fn ready() -> AccountReadings {
        AccountReadings {
            api_gateway_logging_role: Reading::Read(Some(
                "arn:aws:iam::1:role/apigateway-cloudwatch-logs".into(),
            )),
            lambda_concurrency: Reading::Read(LambdaConcurrency {
                account_limit: 1000,
                unreserved: 1000,
            }),
        }
    }

    const DEFAULT_NEEDS: StageNeeds = StageNeeds {
        processor_max_concurrency: 100,
        provisioned_max: 0,
    };

    fn blockers(findings: &[Readiness]) -> Vec<&str> {
        findings
            .iter()
            .filter_map(|f| match f {
                Readiness::Blocker { what, .. } => Some(what.as_str()),
                Readiness::Unchecked { .. } => None,
            })
            .collect()
    }

    #[test]
    fn a_ready_account_has_nothing_to_say() {
        assert_eq!(judge(&ready(), DEFAULT_NEEDS, &target()), vec![]);
    }

    #[test]
    fn a_missing_api_gateway_logging_role_blocks_with_the_commands_for_this_region_and_profile() {
        let readings = AccountReadings {
            api_gateway_logging_role: Reading::Read(None),
            ..ready()
        };
        let findings = judge(&readings, DEFAULT_NEEDS, &target());
        let [Readiness::Blocker { what, next }] = findings.as_slice() else {
            panic!("{findings:?}");
        };
        assert!(
            what.contains("no CloudWatch role") && what.contains("eu-west-1"),
            "{what}"
        );
        assert!(
            next.contains("aws apigateway update-account --region eu-west-1 --profile ops"),
            "{next}"
        );
        assert!(
            next.contains(
                "aws iam create-role --role-name apigateway-cloudwatch-logs --profile ops"
            ),
            "{next}"
        );
    }

    #[test]
    fn a_new_accounts_ten_executions_cannot_hold_the_processors_hundred() {
        let readings = AccountReadings {
            lambda_concurrency: Reading::Read(LambdaConcurrency {
                account_limit: 10,
                unreserved: 10,
            }),
            ..ready()
        };
        let found = judge(&readings, DEFAULT_NEEDS, &target());
        let blocked = blockers(&found);
        assert_eq!(blocked.len(), 1, "{found:?}");
        assert!(blocked[0].contains("100 invocations") && blocked[0].contains("10 unreserved"));
        let at_the_limit = StageNeeds {
            processor_max_concurrency: 10,
            provisioned_max: 0,
        };
        assert!(blockers(&judge(&readings, at_the_limit, &target())).is_empty());
    }

    #[test]
    fn provisioned_concurrency_must_leave_lambdas_hundred_unreserved() {
        let readings = AccountReadings {
            lambda_concurrency: Reading::Read(LambdaConcurrency {
                account_limit: 1000,
                unreserved: 150,
            }),
            ..ready()
        };
        let needs = |provisioned_max| StageNeeds {
            processor_max_concurrency: 100,
            provisioned_max,
        };
        assert!(blockers(&judge(&readings, needs(50), &target())).is_empty());
        let too_much = judge(&readings, needs(51), &target());
        assert!(
            blockers(&too_much)[0].contains("room for 50"),
            "{too_much:?}"
        );
    }

    #[test]
    fn a_reading_that_could_not_be_made_is_said_and_does_not_block() {
        let readings = AccountReadings {
            api_gateway_logging_role: Reading::Unreadable("not permitted".into()),
            lambda_concurrency: Reading::Unreadable("no answer".into()),
        };
        let findings = judge(&readings, DEFAULT_NEEDS, &target());
        assert_eq!(findings.len(), 2);
        assert!(blockers(&findings).is_empty());
    }
}
