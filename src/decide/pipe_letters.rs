//! The pipes' dead letters, read as payments. A pipe that gives up on a DynamoDB stream batch
//! (after its retries, or when the records outlive its maximum age) sends the pipe DLQ a pointer
//! to the batch, not the records:
//!
//! ```json
//! {"context": {"partnerResourceArn": "arn:aws:pipes:eu-west-1:123456789012:pipe/marketgrid-prod-notify",
//!              "condition": "RetryAttemptsExhausted"},
//!  "version": "1.0", "timestamp": "2026-12-07T03:12:09Z",
//!  "DDBStreamBatchInfo": {"shardId": "shardId-0001", "startSequenceNumber": "1001",
//!     "endSequenceNumber": "1010", "approximateArrivalOfFirstRecord": "2026-12-07T03:00:00Z",
//!     "approximateArrivalOfLastRecord": "2026-12-07T03:00:01Z", "batchSize": 10,
//!     "streamArn": "arn:aws:dynamodb:eu-west-1:123456789012:table/t/stream/2026-01-01T00:00:00.000"}}
//! ```
//!
//! The batch information is the shape Lambda documents for a stream source's on-failure record
//! ("Retaining records of asynchronous invocations", DynamoDB stream example); Pipes sends the
//! same `DDBStreamBatchInfo` under a `context` naming the pipe (as observed and published by
//! users; AWS does not document the Pipes envelope). Both envelopes are read. The pointer says
//! nothing of which payments the batch held: while the stream keeps the records (24 hours) they
//! are read back from it; after that they are resolved from the ledger, as the payments of the
//! pipe's leg whose receipt is missing, received in the day before the batch's last record
//! reached the stream.

use mgrid_contract::EpochMillis;
use mgrid_contract::clock::parse_rfc3339;
use mgrid_contract::settlement::Leg;
use mgrid_contract::untrusted::printable;
use serde::Serialize;
use serde_json::Value;

/// How far before a batch's first record the payments it may hold were received: a record
/// reaches the stream when the processor writes it, which a backlog in the webhook queue can
/// hold up for hours.
pub const RESOLVE_LOOKBACK_MS: EpochMillis = 86_400_000;

/// A pipe's dead letter, read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct PipeBatch {
    /// The pipe's name, from its ARN.
    pub pipe: String,
    /// archive or notify, from the pipe's name; None for a pipe that is not the stage's.
    pub leg: Option<String>,
    /// Why the pipe gave up (RetryAttemptsExhausted, RecordAgeExceeded, …).
    pub condition: String,
    pub records: u64,
    pub first_arrival: String,
    pub last_arrival: String,
    pub shard: String,
    pub start_sequence: String,
    pub end_sequence: String,
    /// The ledger stream's ARN.
    pub stream: String,
    #[serde(skip)]
    pub first_at: EpochMillis,
    #[serde(skip)]
    pub last_at: EpochMillis,
}

impl PipeBatch {
    /// Reads a pipe DLQ message body; why not, when it is not a stream batch pointer.
    pub fn parse(body: &str) -> Result<PipeBatch, String> {
        let json: Value = serde_json::from_str(body).map_err(|e| format!("not JSON ({e})"))?;
        let info = json
            .get("DDBStreamBatchInfo")
            .ok_or("no DDBStreamBatchInfo: not a DynamoDB stream batch")?;
        let context = json
            .get("context")
            .or_else(|| json.get("requestContext"))
            .cloned()
            .unwrap_or(Value::Null);
        let text = |value: &Value, name: &str| -> String {
            value
                .get(name)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let time = |name: &str| -> Result<(String, EpochMillis), String> {
            let written = text(info, name);
            let at = parse_rfc3339(&written)
                .map_err(|_| format!("{name} is not a time: {}", printable(&written)))?;
            Ok((written, at))
        };
        let (first_arrival, first_at) = time("approximateArrivalOfFirstRecord")?;
        let (last_arrival, last_at) = time("approximateArrivalOfLastRecord")?;
        let arn = text(&context, "partnerResourceArn");
        let pipe = match arn.rsplit_once(":pipe/") {
            Some((_, name)) => name.to_owned(),
            None => text(&context, "functionArn"),
        };
        let leg = [Leg::Archive, Leg::Notify]
            .into_iter()
            .find(|leg| pipe.ends_with(&format!("-{}", leg.as_str())))
            .map(|leg| leg.to_string());
        Ok(PipeBatch {
            pipe,
            leg,
            condition: text(&context, "condition"),
            records: info.get("batchSize").and_then(Value::as_u64).unwrap_or(0),
            first_arrival,
            last_arrival,
            shard: text(info, "shardId"),
            start_sequence: text(info, "startSequenceNumber"),
            end_sequence: text(info, "endSequenceNumber"),
            stream: text(info, "streamArn"),
            first_at,
            last_at,
        })
    }

    pub fn leg(&self) -> Option<Leg> {
        match self.leg.as_deref() {
            Some("archive") => Some(Leg::Archive),
            Some("notify") => Some(Leg::Notify),
            _ => None,
        }
    }

    /// The receipt times its payments fall in: from a day before its first record reached the
    /// stream to its last.
    pub fn window(&self) -> (EpochMillis, EpochMillis) {
        (self.first_at - RESOLVE_LOOKBACK_MS, self.last_at)
    }
}

/// One pipe dead letter and the payments it resolves to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct PipeLetter {
    pub message_id: String,
    /// None when the message could not be read (`unreadable` says why).
    pub batch: Option<PipeBatch>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unreadable: Option<String>,
    /// The payments of its leg still without their receipt (transaction ids).
    pub payments: Vec<String>,
    /// How they were found: `stream` (the batch's records, read back from the ledger's stream
    /// while it holds them) or `ledger` (its leg's payments without a receipt, by time).
    pub resolved_by: Option<String>,
    /// Deleted from the pipe DLQ: every payment it resolved to is settled.
    pub deleted: bool,
}

/// The pipe DLQ, read as payments.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct PipeLetters {
    pub stage: String,
    pub letters: Vec<PipeLetter>,
    /// More dead letters were in the queue than were read.
    pub more: bool,
    /// The payments they resolve to, with what a heal came to.
    pub journey: crate::decide::journey::Journey,
}

impl std::fmt::Display for PipeLetters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.letters.is_empty() {
            return writeln!(
                f,
                "the pipes' dead-letter queue of stage {} is empty",
                self.stage
            );
        }
        writeln!(
            f,
            "the pipes' dead-letter queue of stage {}: {}{} failed stream batch{}",
            self.stage,
            self.letters.len(),
            if self.more { "+" } else { "" },
            if self.letters.len() == 1 { "" } else { "es" }
        )?;
        for letter in self.letters.iter().take(crate::decide::journey::SHOWN_MAX) {
            match (&letter.batch, &letter.unreadable) {
                (Some(batch), _) => writeln!(
                    f,
                    "  {} {} ({}): {} record{} reaching the stream {} to {}: {} payment{} without {} receipt{}{}",
                    printable(&batch.pipe),
                    batch.leg.as_deref().unwrap_or("(not a leg of this stage)"),
                    printable(&batch.condition),
                    batch.records,
                    if batch.records == 1 { "" } else { "s" },
                    batch.first_arrival,
                    batch.last_arrival,
                    letter.payments.len(),
                    if letter.payments.len() == 1 { "" } else { "s" },
                    batch
                        .leg
                        .as_deref()
                        .map_or_else(|| "a".to_owned(), |leg| format!("its {leg}")),
                    match letter.resolved_by.as_deref() {
                        Some("stream") => " (read back from the stream)",
                        Some(_) => " (not in the stream: by time, from the ledger)",
                        None => "",
                    },
                    if letter.deleted {
                        "; settled, deleted"
                    } else {
                        ""
                    }
                )?,
                (None, why) => writeln!(
                    f,
                    "  {}: not a stream batch pointer: {}",
                    printable(&letter.message_id),
                    printable(why.as_deref().unwrap_or("unreadable"))
                )?,
            }
        }
        if self.letters.len() > crate::decide::journey::SHOWN_MAX {
            writeln!(
                f,
                "  … and {} more (--output json lists them all)",
                self.letters.len() - crate::decide::journey::SHOWN_MAX
            )?;
        }
        write!(f, "{}", self.journey)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PIPES: &str = r#"{"context": {"partnerResourceArn": "arn:aws:pipes:eu-west-1:123456789012:pipe/marketgrid-prod-notify",
        "condition": "RetryAttemptsExhausted"}, "version": "1.0", "timestamp": "2026-12-07T03:12:09Z",
        "DDBStreamBatchInfo": {"shardId": "shardId-0001", "startSequenceNumber": "1001", "endSequenceNumber": "1010",
        "approximateArrivalOfFirstRecord": "2026-12-07T03:00:00Z", "approximateArrivalOfLastRecord": "2026-12-07T03:00:01Z",
        "batchSize": 10, "streamArn": "arn:aws:dynamodb:eu-west-1:123456789012:table/t/stream/x"}}"#;

    #[test]
    fn a_pipes_pointer_names_its_leg_and_window() {
        let batch = PipeBatch::parse(PIPES).unwrap();
        assert_eq!(batch.pipe, "marketgrid-prod-notify");
        assert_eq!(batch.leg(), Some(Leg::Notify));
        assert_eq!(batch.condition, "RetryAttemptsExhausted");
        assert_eq!(batch.records, 10);
        let (from, to) = batch.window();
        assert_eq!(to - from, RESOLVE_LOOKBACK_MS + 1000);
    }

    #[test]
    fn lambdas_envelope_reads_too_and_anything_else_says_why() {
        let lambda = PIPES
            .replace("\"context\"", "\"requestContext\"")
            .replace("partnerResourceArn", "functionArn")
            .replace(
                "arn:aws:pipes:eu-west-1:123456789012:pipe/marketgrid-prod-notify",
                "arn:aws:lambda:x:function:f",
            );
        let batch = PipeBatch::parse(&lambda).unwrap();
        assert_eq!(batch.leg(), None);
        assert!(
            PipeBatch::parse("{}")
                .unwrap_err()
                .contains("DDBStreamBatchInfo")
        );
        assert!(
            PipeBatch::parse("\u{1b}[2J")
                .unwrap_err()
                .contains("not JSON")
        );
        let bad_time = PIPES.replace("2026-12-07T03:00:00Z", "\u{1b}[31myesterday");
        let why = PipeBatch::parse(&bad_time).unwrap_err();
        assert!(!why.contains('\u{1b}'), "{why}");
    }

    #[test]
    fn the_report_reads_as_payments_and_has_one_json_shape() {
        use mgrid_contract::ledger::{Attribute, Item};
        let batch = PipeBatch::parse(PIPES).unwrap();
        let mut item = Item::new();
        for (name, value) in [
            ("transactionId", "stripe:evt_1"),
            ("provider", "stripe"),
            ("vendorId", "vendor-7"),
            ("currency", "usd"),
            ("unsettled", "2026-12-07T02#1"),
            (
                "notifyFailure",
                "publishing the vendor notification failed: throttled",
            ),
        ] {
            item.insert(name.into(), Attribute::S(value.into()));
        }
        item.insert("amount".into(), Attribute::N("1999".into()));
        item.insert(
            "receivedAt".into(),
            Attribute::N(batch.first_at.to_string()),
        );
        item.insert("archivedAt".into(), Attribute::N(batch.last_at.to_string()));
        let report = PipeLetters {
            stage: "prod".into(),
            letters: vec![
                PipeLetter {
                    message_id: "m-1".into(),
                    batch: Some(batch.clone()),
                    unreadable: None,
                    payments: vec!["stripe:evt_1".into()],
                    resolved_by: Some("ledger".into()),
                    deleted: false,
                },
                PipeLetter {
                    message_id: "m-2".into(),
                    batch: None,
                    unreadable: Some("not JSON (expected value at line 1 column 1)".into()),
                    payments: Vec::new(),
                    resolved_by: None,
                    deleted: false,
                },
            ],
            more: false,
            journey: crate::decide::journey::Journey::new(
                &[item],
                false,
                None,
                batch.last_at + 3_600_000,
            ),
        };
        let text = crate::text::plain(&report);
        assert!(
            text.contains("1 payment without its notify receipt"),
            "{text}"
        );
        assert!(text.contains("19.99 USD"), "{text}");
        insta::assert_snapshot!("dlq_pipes", text);
        crate::ui::output::assert_json_contract("dlq-pipes", &report);
    }
}
