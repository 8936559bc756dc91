//! The processor's live version as Lambda describes it (GetFunctionConfiguration of the `live`
//! alias), flattened as `decide::version` compares configurations.

use aws_sdk_lambda::operation::get_function_configuration::GetFunctionConfigurationError;

use super::errors;
use crate::decide::version::{Configuration, LiveVersion};
use crate::failure::Failure;

/// The version the `live` alias of `function` points at; None when the function or the alias
/// does not exist (a stage created before either).
pub async fn live_version(
    lambda: &aws_sdk_lambda::Client,
    function: &str,
) -> Result<Option<LiveVersion>, Failure> {
    let output = match lambda
        .get_function_configuration()
        .function_name(function)
        .qualifier("live")
        .send()
        .await
    {
        Ok(output) => output,
        Err(error)
            if matches!(
                error.as_service_error(),
                Some(GetFunctionConfigurationError::ResourceNotFoundException(_))
            ) =>
        {
            return Ok(None);
        }
        Err(error) => {
            return Err(errors::failure(
                "lambda:GetFunctionConfiguration",
                &format!("the live version of {function}"),
                &error,
            ));
        }
    };
    let mut configuration = Configuration::new();
    let mut set = |key: &str, value: Option<String>| {
        if let Some(value) = value {
            configuration.insert(key.to_owned(), value);
        }
    };
    set("Runtime", output.runtime().map(|r| r.as_str().to_owned()));
    set("Handler", output.handler().map(str::to_owned));
    set("MemorySize", output.memory_size().map(|m| m.to_string()));
    set("Timeout", output.timeout().map(|t| t.to_string()));
    set("Role", output.role().map(str::to_owned));
    set("KmsKeyArn", output.kms_key_arn().map(str::to_owned));
    set(
        "TracingConfig.Mode",
        output
            .tracing_config()
            .and_then(|t| t.mode())
            .map(|m| m.as_str().to_owned()),
    );
    set(
        "LoggingConfig.LogGroup",
        output
            .logging_config()
            .and_then(|l| l.log_group())
            .map(str::to_owned),
    );
    set(
        "LoggingConfig.LogFormat",
        output
            .logging_config()
            .and_then(|l| l.log_format())
            .map(|f| f.as_str().to_owned()),
    );
    let architectures: Vec<&str> = output.architectures().iter().map(|a| a.as_str()).collect();
    if !architectures.is_empty() {
        set("Architectures", Some(architectures.join(",")));
    }
    set(
        "EphemeralStorage.Size",
        output.ephemeral_storage().map(|e| e.size().to_string()),
    );
    set(
        "DeadLetterConfig.TargetArn",
        output
            .dead_letter_config()
            .and_then(|d| d.target_arn())
            .map(str::to_owned),
    );
    let layers: Vec<&str> = output.layers().iter().filter_map(|l| l.arn()).collect();
    if !layers.is_empty() {
        set("Layers", Some(layers.join(",")));
    }
    if let Some(variables) = output.environment().and_then(|e| e.variables()) {
        for (name, value) in variables {
            set(
                &format!("Environment.Variables.{name}"),
                Some(value.clone()),
            );
        }
    }
    Ok(Some(LiveVersion {
        version: output.version().unwrap_or_default().to_owned(),
        configuration,
        code_sha256: output.code_sha256().unwrap_or_default().to_owned(),
        description: output.description().unwrap_or_default().to_owned(),
    }))
}
