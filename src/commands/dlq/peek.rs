//! `mgrid dlq peek`: the dead-lettered webhooks themselves, one line each, filtered, with an
//! excerpt of each body (escaped: provider text never reaches the terminal raw).

use std::fmt;

use anyhow::Result;
use mgrid_contract::StageName;
use mgrid_contract::clock::format_rfc3339;
use mgrid_contract::untrusted::printable_block;
use serde::Serialize;

use crate::cli::ProviderArg;
use crate::commands::context::Context;
use crate::decide::redrive::{DeadLetter, DeadLetterView, Filter};
use crate::ports::DeadLetterQueue;
use crate::text::{BOLD, shown, table};
use crate::ui::output::print_report;

#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct PeekReport {
    pub stage: String,
    pub messages: Vec<Peeked>,
    /// The look was a receive (SQS): each dead letter read has a receive count one higher.
    /// False on the local stage, where a look touches nothing.
    #[serde(rename = "readsAreReceives")]
    pub reads_are_receives: bool,
    #[serde(skip)]
    full: bool,
}

impl PeekReport {
    pub fn new(stage: &StageName, full: bool) -> PeekReport {
        PeekReport {
            stage: stage.to_string(),
            messages: Vec::new(),
            reads_are_receives: false,
            full,
        }
    }

    /// Keeps `letter` (with its body) when `filter` takes it and fewer than `limit` are kept;
    /// whether it was kept.
    pub fn offer(&mut self, letter: DeadLetter, filter: &Filter, limit: usize) -> bool {
        let view = letter.view();
        if self.messages.len() >= limit || !filter.matches(&view) {
            return false;
        }
        self.messages.push(Peeked {
            view,
            body: letter.body,
        });
        true
    }
}

#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct Peeked {
    #[serde(flatten)]
    pub view: DeadLetterView,
    pub body: String,
}

pub(super) async fn peek(
    context: &Context,
    stage: &StageName,
    dlq: &impl DeadLetterQueue,
    limit: usize,
    filter: &Filter,
    full: bool,
) -> Result<()> {
    let mut report = PeekReport::new(stage, full);
    report.reads_are_receives = !dlq.looks_without_receiving();
    dlq.scan(limit, &mut |letter| report.offer(letter, filter, limit))
        .await?;
    print_report(&report, context.global.output)?;
    Ok(())
}

/// What `dlq peek --provider --reason` takes.
pub fn peek_filter(provider: Option<ProviderArg>, reason: &Option<String>) -> Filter {
    Filter {
        provider: provider.map(Into::into),
        reason: reason.clone(),
        ..Filter::default()
    }
}

pub(super) fn excerpt(body: &str, width: usize) -> String {
    let flat = shown(body);
    if flat.chars().count() <= width {
        flat
    } else {
        flat.chars().take(width - 1).collect::<String>() + "…"
    }
}

impl fmt::Display for PeekReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.messages.is_empty() {
            return writeln!(f, "no dead letters match");
        }
        // On a narrow terminal the body and times give way (--full and JSON show them), and the
        // event id is never cut.
        let width = crate::text::table_width();
        let narrow = width.is_some_and(|width| width < 120);
        // Piped, every value is whole, as for every table (a program reads it).
        let piped = width.is_none();
        let mut header = vec![
            "message",
            "provider",
            "event id",
            "event type",
            "reason",
            "receives",
        ];
        if !narrow {
            header.extend(["first sent", "body"]);
        }
        let mut rows = table(&header);
        rows.keep_whole(2);
        for peeked in &self.messages {
            let v = &peeked.view;
            let mut row = vec![
                if piped {
                    shown(&v.message_id)
                } else {
                    v.message_id.chars().take(8).collect()
                },
                v.provider.as_deref().map_or_else(|| "?".into(), shown),
                v.event_id.as_deref().map_or_else(|| "?".into(), shown),
                if v.malformed {
                    "(malformed)".into()
                } else {
                    shown(v.event_type.as_deref().unwrap_or_default())
                },
                shown(&v.reason),
                v.receive_count.to_string(),
            ];
            if !narrow {
                row.extend([
                    v.sent_at.map(format_rfc3339).unwrap_or_default(),
                    if piped {
                        shown(&peeked.body)
                    } else {
                        excerpt(&peeked.body, 40)
                    },
                ]);
            }
            rows.add_row(row);
        }
        writeln!(f, "{rows}")?;
        if self.reads_are_receives {
            writeln!(
                f,
                "(on SQS a look is a receive: each of these counts one more; none was moved)"
            )?;
        }
        if self.full {
            for peeked in &self.messages {
                writeln!(
                    f,
                    "\n{BOLD}{}{BOLD:#} ({})\n{}",
                    shown(&peeked.view.message_id),
                    shown(peeked.view.detail.as_deref().unwrap_or("")),
                    printable_block(&peeked.body)
                )?;
            }
        }
        Ok(())
    }
}
