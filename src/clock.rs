//! The wall clock and how instants are written: `now_millis` is every "now" of the CLI and the
//! local stage (the decisions are handed theirs), and every instant in mgrid's JSON is written
//! as RFC 3339 through `rfc3339`.

use mgrid_contract::EpochMillis;

/// Milliseconds since the Unix epoch (0 if the system clock is before it).
pub fn now_millis() -> EpochMillis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as EpochMillis)
        .unwrap_or(0)
}

/// Serializes an instant as RFC 3339 (`#[serde(serialize_with = "crate::clock::rfc3339")]`):
/// every time in mgrid's JSON reads the same way.
pub fn rfc3339<S: serde::Serializer>(at: &EpochMillis, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&mgrid_contract::clock::format_rfc3339(*at))
}

/// How the JSON Schema of a report shows an instant written by [`rfc3339`]
/// (`#[cfg_attr(test, schemars(with = "crate::clock::Rfc3339"))]`).
#[cfg(test)]
pub struct Rfc3339;

#[cfg(test)]
impl schemars::JsonSchema for Rfc3339 {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Rfc3339".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string", "format": "date-time" })
    }
}

/// As [`rfc3339`], for an instant that may be absent (null).
pub fn rfc3339_option<S: serde::Serializer>(
    at: &Option<EpochMillis>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => rfc3339(at, serializer),
        None => serializer.serialize_none(),
    }
}
