//! Text that came from a webhook sender, made safe to show. Anyone on the internet can put
//! bytes in an event type or a body; a terminal obeys some of them (ESC starts a CSI or OSC
//! sequence that can retitle the window, clear the screen or forge lines; C1 controls do the
//! same on terminals that read them; bidi overrides reorder what a reader sees). Every string
//! from a webhook passes through [`printable`] (one line: tables, logs, the TUI) or
//! [`printable_block`] (bodies shown whole) before it reaches a person.

use std::borrow::Cow;
use std::fmt::Write;

/// True for a character a terminal or a reader could be driven by rather than shown.
pub fn is_unsafe(c: char) -> bool {
    c.is_control() // C0 (U+0000–U+001F), DEL and C1 (U+0080–U+009F)
        || matches!(c,
            '\u{061C}'                  // Arabic letter mark
            | '\u{200E}' | '\u{200F}'   // left-to-right and right-to-left marks
            | '\u{202A}'..='\u{202E}'   // embeddings and overrides
            | '\u{2066}'..='\u{2069}'   // isolates
            | '\u{2028}' | '\u{2029}'   // line and paragraph separators
        )
}

/// `text` on one line, every unsafe character written as an escape (`\n`, `\x1b`, `\u{202e}`);
/// borrowed when there is nothing to escape.
pub fn printable(text: &str) -> Cow<'_, str> {
    escape(text, |_| false)
}

/// As [`printable`], keeping line breaks and tabs: a webhook body shown whole.
pub fn printable_block(text: &str) -> Cow<'_, str> {
    escape(text, |c| c == '\n' || c == '\t')
}

fn escape(text: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !text.chars().any(|c| is_unsafe(c) && !keep(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if !is_unsafe(c) || keep(c) {
            out.push(c);
            continue;
        }
        let _ = match c {
            '\n' => out.write_str("\\n"),
            '\r' => out.write_str("\\r"),
            '\t' => out.write_str("\\t"),
            c if (c as u32) < 0x100 => write!(out, "\\x{:02x}", c as u32),
            c => write!(out, "\\u{{{:04x}}}", c as u32),
        };
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        let text = "payment_intent.succeeded — 12,00 € ✓";
        assert!(matches!(printable(text), Cow::Borrowed(t) if t == text));
    }

    #[test]
    fn osc_and_csi_sequences_lose_their_escape() {
        let hostile = "\u{1b}]0;owned\u{7}\u{1b}[2J\u{1b}[1;31mred";
        let shown = printable(hostile);
        assert_eq!(shown, "\\x1b]0;owned\\x07\\x1b[2J\\x1b[1;31mred");
        assert!(!shown.chars().any(is_unsafe));
    }

    #[test]
    fn c1_controls_are_escaped() {
        // U+009B is CSI and U+009D OSC on terminals that read C1 controls.
        assert_eq!(
            printable("a\u{9b}2Jb\u{9d}0;x\u{9c}"),
            "a\\x9b2Jb\\x9d0;x\\x9c"
        );
        assert_eq!(printable("\u{7f}\u{0}"), "\\x7f\\x00");
    }

    #[test]
    fn bidi_overrides_are_escaped() {
        assert_eq!(
            printable("evt_\u{202e}gpj.exe\u{2066}x\u{2069}"),
            "evt_\\u{202e}gpj.exe\\u{2066}x\\u{2069}"
        );
        assert_eq!(
            printable("\u{200f}\u{61c}\u{2028}"),
            "\\u{200f}\\u{061c}\\u{2028}"
        );
    }

    #[test]
    fn one_line_text_escapes_line_breaks_and_a_block_keeps_them() {
        let text = "line one\r\nline\ttwo\u{1b}[A";
        assert_eq!(printable(text), "line one\\r\\nline\\ttwo\\x1b[A");
        assert_eq!(printable_block(text), "line one\\r\nline\ttwo\\x1b[A");
    }

    #[test]
    fn every_character_in_the_unsafe_ranges_is_escaped() {
        let all: String = (0u32..0x3000).filter_map(char::from_u32).collect();
        for shown in [printable(&all), printable_block(&all)] {
            let left: Vec<char> = shown
                .chars()
                .filter(|c| is_unsafe(*c) && *c != '\n' && *c != '\t')
                .collect();
            assert!(left.is_empty(), "left unescaped: {left:?}");
        }
    }
}
