//! Where results and messages go: results on stdout (text or JSON, the same value either way),
//! errors and progress on stderr, colour only where a terminal can show it.

use std::fmt::Display;
use std::io::{self, Write};

use serde::Serialize;

use crate::failure::next_step_of;
use crate::text::{BOLD, DIM, ERROR, WARNING};

/// What a result is printed as on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    /// Tables and sentences for people
    Text,
    /// One JSON document for scripts
    Json,
}

/// `--no-color` (NO_COLOR and a non-terminal are already honoured by anstream).
pub fn init_color(no_color: bool) {
    if no_color {
        anstream::ColorChoice::Never.write_global();
    }
}

/// Prints a command's result: its `Display` for people, its JSON for scripts.
pub fn print_report<R: Serialize + Display>(report: &R, format: OutputFormat) -> io::Result<()> {
    match format {
        OutputFormat::Text => write_stdout(&format!("{report}")),
        OutputFormat::Json => {
            let mut json = Vec::new();
            let mut serializer = serde_json::Serializer::with_formatter(
                &mut json,
                TerminalSafeJson::<serde_json::ser::PrettyFormatter>::default(),
            );
            report
                .serialize(&mut serializer)
                .map_err(io::Error::other)?;
            json.push(b'\n');
            write_stdout(&String::from_utf8_lossy(&json))
        }
    }
}

/// Pretty JSON that also writes C1 controls and bidi overrides as `\uXXXX` escapes (JSON
/// escapes only C0): a document of webhook content piped to a terminal stays inert, and `jq`
/// reads back the same strings.
#[derive(Default)]
struct TerminalSafeJson<F = serde_json::ser::PrettyFormatter<'static>>(F);

/// One value as one line of JSON (JSON Lines, for streams such as `mgrid logs --output json`),
/// terminal-safe as every document is.
pub fn json_line(value: &impl Serialize) -> io::Result<String> {
    let mut json = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(
        &mut json,
        TerminalSafeJson(serde_json::ser::CompactFormatter),
    );
    value.serialize(&mut serializer).map_err(io::Error::other)?;
    json.push(b'\n');
    Ok(String::from_utf8_lossy(&json).into_owned())
}

impl<F: serde_json::ser::Formatter> serde_json::ser::Formatter for TerminalSafeJson<F> {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut rest = fragment;
        while let Some(at) = rest.find(mgrid_contract::untrusted::is_unsafe) {
            writer.write_all(&rest.as_bytes()[..at])?;
            let c = rest[at..].chars().next().unwrap_or_default();
            write!(writer, "\\u{:04x}", c as u32)?;
            rest = &rest[at + c.len_utf8()..];
        }
        writer.write_all(rest.as_bytes())
    }

    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// Writes to stdout, stripping colour where it cannot be shown.
pub fn write_stdout(text: &str) -> io::Result<()> {
    let mut stdout = anstream::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()
}

/// A note for the person at the terminal (stderr), never part of the result.
pub fn note(text: &str) {
    let _ = writeln!(anstream::stderr(), "{text}");
}

/// A warning for the person at the terminal (stderr): something is missing from the result.
pub fn warn(text: &str) {
    note(&format!("{WARNING}warning:{WARNING:#} {text}"));
}

/// True when the error is stdout's reader going away (`mgrid … | head`): not a failure.
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// An error as a script reads it (`--output json`): one document on stderr.
#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
struct ErrorDocument<'a> {
    error: ErrorBody<'a>,
}

#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
struct ErrorBody<'a> {
    kind: crate::failure::FailureKind,
    exit_code: u8,
    message: String,
    causes: Vec<String>,
    next: Option<&'a str>,
}

/// Prints why mgrid stopped on stderr: for people, or one JSON document for scripts.
pub fn print_error(error: &anyhow::Error, format: OutputFormat) {
    if format == OutputFormat::Json {
        let kind = error
            .chain()
            .find_map(|cause| cause.downcast_ref::<crate::failure::Failure>())
            .map_or(crate::failure::FailureKind::Failed, |failure| failure.kind);
        let document = ErrorDocument {
            error: ErrorBody {
                kind,
                exit_code: kind.exit_code(),
                message: error.to_string(),
                causes: error.chain().skip(1).map(ToString::to_string).collect(),
                next: next_step_of(error),
            },
        };
        let mut json = Vec::new();
        let mut serializer = serde_json::Serializer::with_formatter(
            &mut json,
            TerminalSafeJson::<serde_json::ser::PrettyFormatter>::default(),
        );
        if document.serialize(&mut serializer).is_ok() {
            let mut stderr = std::io::stderr().lock();
            let _ = stderr.write_all(&json);
            let _ = stderr.write_all(b"\n");
            return;
        }
    }
    // What an error says may quote a provider, a webhook or a file: nothing in it drives the
    // terminal (line breaks stay; escapes and controls are shown, not obeyed).
    let shown = |text: &str| mgrid_contract::untrusted::printable_block(text).into_owned();
    let mut stderr = anstream::stderr().lock();
    let _ = writeln!(
        stderr,
        "{ERROR}error:{ERROR:#} {}",
        shown(&error.to_string())
    );
    for cause in error.chain().skip(1) {
        let _ = writeln!(
            stderr,
            "  {DIM}caused by:{DIM:#} {}",
            shown(&cause.to_string())
        );
    }
    if let Some(next) = next_step_of(error) {
        let _ = writeln!(stderr, "  {BOLD}next:{BOLD:#} {}", shown(next));
    }
}

/// The commands whose `--output json` documents have a JSON Schema under `schemas/`, by the
/// file's name. A test fails when a file there is not in this list.
#[cfg(test)]
pub const JSON_SCHEMAS: &[&str] = &[
    "artifact-info",
    "deploy",
    "destroy",
    "destroy-plan",
    "dlq-cancel",
    "dlq-peek",
    "dlq-purge",
    "dlq-pipes",
    "dlq-purge-plan",
    "dlq-redrive",
    "dlq-stats",
    "doctor",
    "keys-list",
    "keys-provider-token",
    "logs-line",
    "keys-ring-change",
    "keys-rotate",
    "metrics-tail",
    "reconcile",
    "replay",
    "send",
    "stages",
    "status",
    "trace",
    "validate",
];

/// The contract of a command's `--output json`: the document is in the one style
/// ([`assert_json_style`]) and valid against the JSON Schema generated from its type, and that
/// schema is the one checked in as `schemas/<command>.json` (regenerate with
/// `MGRID_BLESS=1 cargo test --lib`). Scripts can validate what they read against those files;
/// a change to a document's shape shows up as a change to its schema in review.
#[cfg(test)]
pub fn assert_json_contract<R: Serialize + schemars::JsonSchema>(command: &str, report: &R) {
    assert!(
        JSON_SCHEMAS.contains(&command),
        "add {command:?} to output::JSON_SCHEMAS"
    );
    assert_json_style(report);
    let schema = schemars::generate::SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator()
        .into_root_schema_for::<R>();
    let schema = serde_json::to_value(&schema).expect("a schema is JSON");
    let document = serde_json::to_value(report).expect("a report is JSON");
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the generated schema is valid");
    let errors: Vec<String> = validator
        .iter_errors(&document)
        .map(|e| format!("{e} (at {})", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "the {command} document does not match its schema:\n{}\n{document:#}",
        errors.join("\n")
    );
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schemas")
        .join(format!("{command}.json"));
    let text = format!("{schema:#}\n");
    if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
        if std::env::var_os("MGRID_BLESS").is_some() {
            std::fs::create_dir_all(path.parent().expect("schemas/")).expect("create schemas/");
            std::fs::write(&path, text).expect("write the schema");
        } else {
            panic!(
                "schemas/{command}.json is out of date; run `MGRID_BLESS=1 cargo test --lib` and \
                 review the change (scripts rely on these documents)"
            );
        }
    }
}

/// The one JSON style of every document: camelCase keys, and every time RFC 3339 (a key that
/// names an instant holds a string that parses as one, or null). Data keyed by what it counts
/// (`byType`, `cameBack`, `tags`) and the embedded template are not field names and are skipped.
#[cfg(test)]
pub fn assert_json_style(report: &impl Serialize) {
    fn walk(value: &serde_json::Value, path: &str) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, child) in map {
                    let here = format!("{path}.{key}");
                    assert!(
                        !key.contains('_')
                            && key.chars().next().is_some_and(|c| c.is_ascii_lowercase()),
                        "{here}: keys are camelCase"
                    );
                    let instant = key.ends_with("At")
                        || matches!(
                            key.as_str(),
                            "from" | "to" | "at" | "timestamp" | "start" | "end"
                        );
                    if instant && !child.is_null() {
                        let text = child.as_str().unwrap_or_else(|| {
                            panic!("{here}: an instant is an RFC 3339 string, not {child}")
                        });
                        assert!(
                            mgrid_contract::clock::parse_rfc3339(text).is_ok(),
                            "{here}: {text} is not RFC 3339"
                        );
                    }
                    if !matches!(
                        key.as_str(),
                        "byType" | "cameBack" | "tags" | "template" | "filter"
                    ) {
                        walk(child, &here);
                    }
                }
            }
            serde_json::Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(item, &format!("{path}[{i}]"));
                }
            }
            _ => {}
        }
    }
    let value = serde_json::to_value(report).expect("the report serializes");
    walk(&value, "$");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_holds_exactly_the_listed_commands_schemas() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas");
        let mut found: Vec<String> = std::fs::read_dir(&dir)
            .expect("schemas/ exists")
            .map(|entry| entry.expect("a directory entry").file_name())
            .map(|name| name.to_string_lossy().into_owned())
            .collect();
        found.sort();
        let mut expected: Vec<String> = JSON_SCHEMAS.iter().map(|c| format!("{c}.json")).collect();
        expected.sort();
        assert_eq!(
            found, expected,
            "schemas/ and output::JSON_SCHEMAS disagree"
        );
    }

    fn json_of(value: &serde_json::Value) -> String {
        let mut json = Vec::new();
        let mut serializer = serde_json::Serializer::with_formatter(
            &mut json,
            TerminalSafeJson::<serde_json::ser::PrettyFormatter>::default(),
        );
        value.serialize(&mut serializer).expect("serializes");
        String::from_utf8(json).expect("UTF-8")
    }

    #[test]
    fn json_documents_escape_c1_controls_and_bidi_overrides_and_read_back_the_same() {
        let hostile = "\u{1b}]0;owned\u{7} \u{9b}2J evt_\u{202e}gpj é";
        let value = serde_json::json!({ "eventType": hostile });
        let json = json_of(&value);
        assert!(
            !json
                .chars()
                .any(|c| mgrid_contract::untrusted::is_unsafe(c) && c != '\n'),
            "{json:?}"
        );
        assert!(json.contains("\\u009b") && json.contains("\\u202e") && json.contains('é'));
        let back: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
        assert_eq!(back, value);
    }

    #[test]
    fn json_documents_stay_pretty() {
        let value = serde_json::json!({ "a": [1, 2], "b": { "c": "d" } });
        assert_eq!(
            json_of(&value),
            serde_json::to_string_pretty(&value).expect("serializes")
        );
    }
}
