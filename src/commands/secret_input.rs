//! Secrets an operator gives mgrid (signing secrets, provider tokens): read from stdin, without
//! echo on a terminal, never from the command line (where the shell history and the process
//! list would keep them), bounded, and checked against the provider's format with a refusal
//! that names the rule, never the value. `keys` stores them; `send` signs with one.

use std::io::{IsTerminal, Read};

use mgrid_contract::{Provider, Secret};

use crate::failure::{Failure, FailureKind};

/// Reads the provider's signing secret from stdin: without echo on a terminal, a line otherwise.
/// Never from the command line, where it would land in the shell history and process list.
pub fn read_signing_secret(provider: Provider) -> Result<Secret, Failure> {
    let prompt = match provider {
        Provider::Stripe => "Stripe endpoint signing secret (whsec_…, not shown): ",
        Provider::Paypal => "PayPal webhook id (not shown): ",
    };
    let input = read_secret(prompt, "a signing secret")?;
    signing_secret_from(provider, &input)
}

/// A secret from stdin: without echo on a terminal (after `prompt`), a line otherwise. Never
/// from the command line, where it would land in the shell history and process list. `what`
/// names it in a refusal.
pub fn read_secret(prompt: &str, what: &str) -> Result<String, Failure> {
    if std::io::stdin().is_terminal() {
        return rpassword::prompt_password(prompt)
            .map_err(|e| Failure::new(FailureKind::Failed, format!("cannot read {what}: {e}")));
    }
    // All of it, bounded: a second line is a mistake to report, not to drop in silence, and so
    // is more than any secret holds (never cut to fit).
    let mut input = Vec::new();
    std::io::stdin()
        .take(SECRET_INPUT_LIMIT as u64 + 1)
        .read_to_end(&mut input)
        .map_err(|e| {
            Failure::new(
                FailureKind::Failed,
                format!("cannot read {what} from stdin: {e}"),
            )
        })?;
    secret_input(input, what)
}

/// The most stdin a signing secret is read from: far more than any provider's secret.
pub const SECRET_INPUT_LIMIT: usize = 4096;

/// What was piped, as text: refused whole when longer than [`SECRET_INPUT_LIMIT`] or not UTF-8.
pub fn secret_input(input: Vec<u8>, what: &str) -> Result<String, Failure> {
    let refuse = |rule: String| {
        Failure::new(
            FailureKind::Usage,
            format!("that is not {what}: {rule}; nothing was written"),
        )
        .next("pipe the one line the provider shows, nothing else")
    };
    if input.len() > SECRET_INPUT_LIMIT {
        return Err(refuse(format!(
            "more than {SECRET_INPUT_LIMIT} bytes were given"
        )));
    }
    String::from_utf8(input).map_err(|_| refuse("it is not UTF-8 text".to_owned()))
}

/// The signing secret in what was typed or piped: one line, no control characters, in the
/// provider's format. The refusal names the rule that failed, never the value.
pub fn signing_secret_from(provider: Provider, input: &str) -> Result<Secret, Failure> {
    let refuse = |rule: &str| {
        Failure::new(
            FailureKind::Usage,
            format!("that is not a {provider} signing secret: {rule}; nothing was written"),
        )
        .next("copy it from the provider's webhook settings and pipe or paste it again")
    };
    let lines: Vec<&str> = input
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect();
    let value = match lines.as_slice() {
        [] => return Err(refuse("nothing was given")),
        [one] => one.trim(),
        more => {
            return Err(refuse(&format!(
                "{} lines were given, a secret is one",
                more.len()
            )));
        }
    };
    if value.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(refuse("it holds spaces or control characters"));
    }
    match provider {
        Provider::Stripe => {
            let Some(rest) = value.strip_prefix("whsec_") else {
                return Err(refuse(
                    "a Stripe endpoint signing secret starts with whsec_",
                ));
            };
            // Stripe's secrets are plain ASCII after the prefix: anything else (a zero-width
            // space or a direction mark a paste carried along, an accented letter) would verify
            // no webhook.
            if !rest
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(refuse(
                    "a Stripe endpoint signing secret is ASCII letters, digits, `_` and `-` after whsec_ (a paste may have carried an invisible character)",
                ));
            }
            if rest.len() < 9 {
                return Err(refuse(
                    "a Stripe endpoint signing secret has at least 9 characters after whsec_",
                ));
            }
        }
        Provider::Paypal => {
            if !((8..=64).contains(&value.len())
                && value.chars().all(|c| c.is_ascii_alphanumeric()))
            {
                return Err(refuse("a PayPal webhook id is 8 to 64 letters and digits"));
            }
        }
    }
    Ok(Secret::new(value.to_owned()))
}
