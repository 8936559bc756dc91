//! Reads which symbol versions an ELF executable needs from its shared libraries (the
//! `.gnu.version_r` section), to hold the bootstrap to Amazon Linux 2023's glibc.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a 64-bit little-endian ELF file with readable version needs: {0}")]
pub struct NotElf(pub &'static str);

const SHT_GNU_VERNEED: u32 = 0x6fff_fffe;

fn u16_at(bytes: &[u8], at: usize) -> Result<u16, NotElf> {
    bytes
        .get(at..at + 2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
        .ok_or(NotElf("truncated"))
}

fn u32_at(bytes: &[u8], at: usize) -> Result<u32, NotElf> {
    bytes
        .get(at..at + 4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or(NotElf("truncated"))
}

fn u64_at(bytes: &[u8], at: usize) -> Result<u64, NotElf> {
    Ok(u64::from(u32_at(bytes, at)?) | (u64::from(u32_at(bytes, at + 4)?) << 32))
}

pub const EM_X86_64: u16 = 62;
pub const EM_AARCH64: u16 = 183;

/// The instruction set an ELF file is for (`e_machine`: 62 x86_64, 183 aarch64).
pub fn machine(bytes: &[u8]) -> Result<u16, NotElf> {
    if bytes.get(..4) != Some(b"\x7fELF") || bytes.get(5) != Some(&1) {
        return Err(NotElf("bad magic or byte order"));
    }
    u16_at(bytes, 0x12)
}

/// Every (library, version) the executable requires, e.g. ("libc.so.6", "GLIBC_2.34").
pub fn version_needs(bytes: &[u8]) -> Result<Vec<(String, String)>, NotElf> {
    if bytes.get(..4) != Some(b"\x7fELF") || bytes.get(4) != Some(&2) || bytes.get(5) != Some(&1) {
        return Err(NotElf("bad magic, class or byte order"));
    }
    let section_offset = u64_at(bytes, 0x28)? as usize;
    let entry_size = u16_at(bytes, 0x3a)? as usize;
    let count = u16_at(bytes, 0x3c)? as usize;
    let section = |index: usize| section_offset + index * entry_size;
    let string = |table: usize, offset: usize| -> Result<String, NotElf> {
        let start = table + offset;
        let end = bytes
            .get(start..)
            .and_then(|rest| rest.iter().position(|&b| b == 0))
            .ok_or(NotElf("bad string"))?;
        Ok(String::from_utf8_lossy(&bytes[start..start + end]).into_owned())
    };
    let mut needs = Vec::new();
    for index in 0..count {
        let header = section(index);
        if u32_at(bytes, header + 4)? != SHT_GNU_VERNEED {
            continue;
        }
        let offset = u64_at(bytes, header + 0x18)? as usize;
        let link = u32_at(bytes, header + 0x28)? as usize;
        let strings = u64_at(bytes, section(link) + 0x18)? as usize;
        let entries = u32_at(bytes, header + 0x2c)? as usize;
        let mut need = offset;
        for _ in 0..entries.max(1) {
            let aux_count = u16_at(bytes, need + 2)?;
            let file = string(strings, u32_at(bytes, need + 4)? as usize)?;
            let mut aux = need + u32_at(bytes, need + 8)? as usize;
            for _ in 0..aux_count {
                needs.push((
                    file.clone(),
                    string(strings, u32_at(bytes, aux + 8)? as usize)?,
                ));
                let next = u32_at(bytes, aux + 12)? as usize;
                if next == 0 {
                    break;
                }
                aux += next;
            }
            let next = u32_at(bytes, need + 12)? as usize;
            if next == 0 {
                break;
            }
            need += next;
        }
    }
    Ok(needs)
}

/// The newest GLIBC_x.y among the needs, if any.
pub fn newest_glibc(needs: &[(String, String)]) -> Option<(u32, u32)> {
    needs
        .iter()
        .filter_map(|(_, version)| version.strip_prefix("GLIBC_"))
        .filter_map(|v| {
            let mut parts = v.split('.');
            Some((
                parts.next()?.parse().ok()?,
                parts.next().unwrap_or("0").parse().ok()?,
            ))
        })
        .max()
}
