//! What the person at the terminal sees (how text reads, pure, is `crate::text`): `output` (results on stdout, errors and notes on stderr, text or JSON), `terminal` (the
//! yes/no question, progress bars, pacing) and `dashboard` (the full-screen `metrics tail`).

pub mod dashboard;
pub mod output;
pub mod terminal;
