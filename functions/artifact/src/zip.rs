//! A deterministic zip of one executable: fixed timestamp (1980-01-01 00:00), fixed mode
//! (0755), fixed compression, no extra fields. The same input bytes always give the same zip.

use std::io::Write;

/// DOS date 1980-01-01, time 00:00:00.
const DOS_DATE: u16 = (1 << 5) | 1;
const DOS_TIME: u16 = 0;
const DEFLATE_LEVEL: u8 = 9;
/// "made by" Unix (3), zip spec 2.0.
const VERSION_MADE_BY: u16 = (3 << 8) | 20;
const VERSION_NEEDED: u16 = 20;
/// Regular file, rwxr-xr-x, in the upper half of the external attributes.
const UNIX_MODE: u32 = 0o100_755;

#[derive(Debug, thiserror::Error)]
#[error("the artifact is too large for a zip without ZIP64 ({0} bytes)")]
pub struct TooLarge(usize);

/// The zip holding `contents` as the file `name`, executable.
pub fn zip_executable(name: &str, contents: &[u8]) -> Result<Vec<u8>, TooLarge> {
    let compressed = miniz_oxide::deflate::compress_to_vec(contents, DEFLATE_LEVEL);
    if contents.len() > u32::MAX as usize || compressed.len() > u32::MAX as usize {
        return Err(TooLarge(contents.len()));
    }
    let crc = crc32fast::hash(contents);
    let (compressed_len, size) = (compressed.len() as u32, contents.len() as u32);
    let name = name.as_bytes();
    let mut out = Vec::with_capacity(compressed.len() + 128);

    let local_header_offset = out.len() as u32;
    out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
    for field in [VERSION_NEEDED, 0, 8, DOS_TIME, DOS_DATE] {
        out.extend_from_slice(&field.to_le_bytes());
    }
    for field in [crc, compressed_len, size] {
        out.extend_from_slice(&field.to_le_bytes());
    }
    out.extend_from_slice(&(name.len() as u16).to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(name);
    out.extend_from_slice(&compressed);

    let central_offset = out.len() as u32;
    out.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
    for field in [VERSION_MADE_BY, VERSION_NEEDED, 0, 8, DOS_TIME, DOS_DATE] {
        out.extend_from_slice(&field.to_le_bytes());
    }
    for field in [crc, compressed_len, size] {
        out.extend_from_slice(&field.to_le_bytes());
    }
    for field in [name.len() as u16, 0, 0, 0, 0] {
        out.extend_from_slice(&field.to_le_bytes());
    }
    out.extend_from_slice(&(UNIX_MODE << 16).to_le_bytes());
    out.extend_from_slice(&local_header_offset.to_le_bytes());
    out.extend_from_slice(name);
    let central_size = out.len() as u32 - central_offset;

    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    for field in [0u16, 0, 1, 1] {
        out.extend_from_slice(&field.to_le_bytes());
    }
    out.extend_from_slice(&central_size.to_le_bytes());
    out.extend_from_slice(&central_offset.to_le_bytes());
    out.write_all(&0u16.to_le_bytes())
        .expect("writing to a Vec");
    Ok(out)
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Unreadable {
    #[error("not a zip file (no end of central directory)")]
    NotZip,
    #[error("the zip has no file named {0}")]
    Missing(String),
    #[error("the zip's entry {0} is damaged or uses a compression other than stored or deflate")]
    Damaged(String),
    #[error("the zip's entry {0} unpacks to more than Lambda's 250 MB limit for a function's code")]
    TooLarge(String),
}

/// Lambda's limit on a function's unzipped code: no entry read here may unpack past it, whatever
/// its header claims (a zip bomb stops at the limit).
pub const MAX_UNZIPPED_BYTES: usize = 250 * 1024 * 1024;

/// The contents of the file `name` in any zip (stored or deflated), for looking into an
/// artifact built elsewhere.
pub fn read_entry(zip: &[u8], name: &str) -> Result<Vec<u8>, Unreadable> {
    read_entry_within(zip, name, MAX_UNZIPPED_BYTES)
}

/// [`read_entry`], unpacking at most `limit` bytes.
fn read_entry_within(zip: &[u8], name: &str, limit: usize) -> Result<Vec<u8>, Unreadable> {
    let u16_at = |at: usize| {
        zip.get(at..at + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
    };
    let u32_at = |at: usize| {
        zip.get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let end = (0..zip.len().saturating_sub(21))
        .rev()
        .take(22 + usize::from(u16::MAX))
        .find(|&at| u32_at(at) == Some(0x0605_4b50))
        .ok_or(Unreadable::NotZip)?;
    let damaged = || Unreadable::Damaged(name.to_owned());
    let entries = u16_at(end + 10).ok_or(Unreadable::NotZip)?;
    let mut at = u32_at(end + 16).ok_or(Unreadable::NotZip)? as usize;
    for _ in 0..entries {
        if u32_at(at) != Some(0x0201_4b50) {
            return Err(Unreadable::NotZip);
        }
        let field = |offset: usize| u16_at(at + offset).map(usize::from).ok_or_else(damaged);
        let (name_len, extra_len, comment_len) = (field(28)?, field(30)?, field(32)?);
        let entry_name = zip.get(at + 46..at + 46 + name_len).ok_or_else(damaged)?;
        if entry_name == name.as_bytes() {
            let method = field(10)?;
            let compressed = u32_at(at + 20).ok_or_else(damaged)? as usize;
            let local = u32_at(at + 42).ok_or_else(damaged)? as usize;
            if u32_at(local) != Some(0x0403_4b50) {
                return Err(damaged());
            }
            let local_field =
                |offset: usize| u16_at(local + offset).map(usize::from).ok_or_else(damaged);
            let start = local + 30 + local_field(26)? + local_field(28)?;
            let data = zip.get(start..start + compressed).ok_or_else(damaged)?;
            let too_large = || Unreadable::TooLarge(name.to_owned());
            let unpacked = u32_at(at + 24).ok_or_else(damaged)? as usize;
            if unpacked > limit || data.len() > limit {
                return Err(too_large());
            }
            return match method {
                0 => Ok(data.to_vec()),
                8 => miniz_oxide::inflate::decompress_to_vec_with_limit(data, limit).map_err(|e| {
                    match e.status {
                        miniz_oxide::inflate::TINFLStatus::HasMoreOutput => too_large(),
                        _ => damaged(),
                    }
                }),
                _ => Err(damaged()),
            };
        }
        at += 46 + name_len + extra_len + comment_len;
    }
    Err(Unreadable::Missing(name.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_read_back_whole() {
        let zip = zip_executable("bootstrap", &[7u8; 4096]).expect("zipped");
        assert_eq!(read_entry(&zip, "bootstrap"), Ok(vec![7u8; 4096]));
        assert_eq!(
            read_entry(&zip, "other"),
            Err(Unreadable::Missing("other".into()))
        );
    }

    #[test]
    fn an_entry_that_unpacks_past_the_limit_is_refused_not_unpacked() {
        // 1 MiB of zeros deflates to about a kilobyte: a small bomb for a small limit.
        let mut zip = zip_executable("bootstrap", &vec![0u8; 1024 * 1024]).expect("zipped");
        assert_eq!(
            read_entry_within(&zip, "bootstrap", 64 * 1024),
            Err(Unreadable::TooLarge("bootstrap".into())),
            "the size its header gives"
        );
        // A header that lies about the size: the inflating stops at the limit all the same.
        let central = (0..zip.len() - 4)
            .rev()
            .find(|&at| zip[at..at + 4] == 0x0201_4b50u32.to_le_bytes())
            .expect("a central directory entry");
        zip[central + 24..central + 28].copy_from_slice(&1024u32.to_le_bytes());
        assert_eq!(
            read_entry_within(&zip, "bootstrap", 64 * 1024),
            Err(Unreadable::TooLarge("bootstrap".into()))
        );
    }
}
