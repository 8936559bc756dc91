//! The account-wide settings a stage depends on, read for a deploy's preflight: API Gateway's
//! CloudWatch role and Lambda's concurrency. A read that fails is reported as unreadable (with
//! why), never guessed: the preflight says it could not check, and the deploy goes on.

use super::errors;
use crate::decide::lifecycle::preflight::{LambdaConcurrency, Reading};

/// API Gateway's CloudWatch role for the account and region (GetAccount), None when unset.
pub async fn api_gateway_logging_role(
    client: &aws_sdk_apigateway::Client,
) -> Reading<Option<String>> {
    match client.get_account().send().await {
        Ok(account) => Reading::Read(
            account
                .cloudwatch_role_arn()
                .filter(|arn| !arn.is_empty())
                .map(str::to_owned),
        ),
        Err(error) => Reading::Unreadable(
            errors::failure(
                "apigateway:GET",
                "the account's API Gateway settings",
                &error,
            )
            .what,
        ),
    }
}

/// Lambda's concurrency quota and what of it is unreserved (GetAccountSettings).
pub async fn lambda_concurrency(client: &aws_sdk_lambda::Client) -> Reading<LambdaConcurrency> {
    match client.get_account_settings().send().await {
        Ok(settings) => match settings.account_limit() {
            Some(limit) => Reading::Read(LambdaConcurrency {
                account_limit: i64::from(limit.concurrent_executions()),
                unreserved: i64::from(
                    limit
                        .unreserved_concurrent_executions()
                        .unwrap_or(limit.concurrent_executions()),
                ),
            }),
            None => Reading::Unreadable("Lambda answered without the account's limits".into()),
        },
        Err(error) => Reading::Unreadable(
            errors::failure(
                "lambda:GetAccountSettings",
                "the account's Lambda settings",
                &error,
            )
            .what,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};
    use aws_smithy_runtime_api::http::{Response, StatusCode};
    use aws_smithy_types::body::SdkBody;

    /// A response as the service sends it, so the SDK's own deserializer reads it.
    fn http(status: u16, headers: &[(&str, &str)], body: &str) -> Response {
        let mut response = Response::new(
            StatusCode::try_from(status).expect("a status"),
            SdkBody::from(body.to_owned()),
        );
        for (name, value) in headers {
            response
                .headers_mut()
                .insert(name.to_string(), value.to_string());
        }
        response
    }

    #[tokio::test]
    async fn lambda_concurrency_is_read_from_a_get_account_settings_answer() {
        // The shape of Lambda's GetAccountSettings answer for a new account (quota 10).
        let rule = mock!(aws_sdk_lambda::Client::get_account_settings).then_http_response(|| {
            http(
                200,
                &[("content-type", "application/json")],
                r#"{"AccountLimit":{"TotalCodeSize":80530636800,"CodeSizeUnzipped":262144000,"CodeSizeZipped":52428800,"ConcurrentExecutions":10,"UnreservedConcurrentExecutions":10},"AccountUsage":{"TotalCodeSize":0,"FunctionCount":0}}"#,
            )
        });
        let client = mock_client!(aws_sdk_lambda, RuleMode::MatchAny, &[&rule]);
        assert_eq!(
            lambda_concurrency(&client).await,
            Reading::Read(LambdaConcurrency {
                account_limit: 10,
                unreserved: 10
            })
        );
    }

    #[tokio::test]
    async fn a_refused_read_is_unreadable_with_the_reason() {
        let rule = mock!(aws_sdk_lambda::Client::get_account_settings).then_http_response(|| {
            http(
                403,
                &[
                    ("content-type", "application/json"),
                    ("x-amzn-errortype", "AccessDeniedException"),
                ],
                r#"{"Message":"User: arn:aws:iam::123456789012:user/deployer is not authorized to perform: lambda:GetAccountSettings"}"#,
            )
        });
        let client = mock_client!(aws_sdk_lambda, RuleMode::MatchAny, &[&rule]);
        let Reading::Unreadable(why) = lambda_concurrency(&client).await else {
            panic!("a refused read is not a reading");
        };
        assert!(
            why.contains("not allowed to lambda:GetAccountSettings"),
            "{why}"
        );
    }

    #[tokio::test]
    async fn the_api_gateway_role_is_none_until_an_account_sets_it() {
        // API Gateway's GetAccount for an account that never set a role: no cloudwatchRoleArn.
        let unset = mock!(aws_sdk_apigateway::Client::get_account).then_http_response(|| {
            http(
                200,
                &[("content-type", "application/json")],
                r#"{"throttleSettings":{"burstLimit":5000,"rateLimit":10000.0},"features":["UsagePlans"],"apiKeyVersion":"4"}"#,
            )
        });
        let client = mock_client!(aws_sdk_apigateway, RuleMode::MatchAny, &[&unset]);
        assert_eq!(api_gateway_logging_role(&client).await, Reading::Read(None));
        let set = mock!(aws_sdk_apigateway::Client::get_account).then_http_response(|| {
            http(
                200,
                &[("content-type", "application/json")],
                r#"{"cloudwatchRoleArn":"arn:aws:iam::123456789012:role/apigateway-cloudwatch-logs","throttleSettings":{"burstLimit":5000,"rateLimit":10000.0}}"#,
            )
        });
        let client = mock_client!(aws_sdk_apigateway, RuleMode::MatchAny, &[&set]);
        assert_eq!(
            api_gateway_logging_role(&client).await,
            Reading::Read(Some(
                "arn:aws:iam::123456789012:role/apigateway-cloudwatch-logs".into()
            ))
        );
    }
}
