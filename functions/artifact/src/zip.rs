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
