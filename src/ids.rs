//! Ids and randomness, all from the OS random source: run ids (deduplication ids derive from
//! them), the local stage's request and message ids, and the bytes of keys and secrets.

use crate::failure::{Failure, FailureKind};

/// 16 hex characters: the id of a run, and the local stage's request and message ids.
pub fn run_id() -> Result<String, Failure> {
    let mut bytes = [0u8; 8];
    fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// 32 bytes (256 bits), for keys and secrets.
pub fn random_bytes() -> Result<[u8; 32], Failure> {
    let mut bytes = [0u8; 32];
    fill(&mut bytes)?;
    Ok(bytes)
}

/// `prefix` and 256 random bits in URL-safe base64 (no padding): a key or token that can ride
/// in a URL. The bytes are wiped once encoded.
pub fn random_text(prefix: &str) -> Result<String, Failure> {
    use base64::Engine;
    let mut bytes = random_bytes()?;
    let text = format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    zeroize::Zeroize::zeroize(&mut bytes);
    Ok(text)
}

fn fill(bytes: &mut [u8]) -> Result<(), Failure> {
    getrandom::getrandom(bytes).map_err(|e| {
        Failure::new(
            FailureKind::Failed,
            format!("the operating system's random source failed: {e}"),
        )
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn run_ids_are_sixteen_hex_characters_and_differ() -> Result<(), crate::failure::Failure> {
        let (a, b) = (super::run_id()?, super::run_id()?);
        assert_eq!(a.len(), 16);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
        Ok(())
    }
}
