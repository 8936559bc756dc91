//! `cargo fuzz run untrusted_input` (from functions/contract): every parser of untrusted input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mgrid_contract::fuzz::exercise(data));
