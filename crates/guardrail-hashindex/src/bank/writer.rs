//! The bank writer: entries in, bytes in the file layout (see [`super`]) out.
//!
//! Never reads a bank back and never touches the file system itself: it writes to any
//! `std::io::Write` the caller opens (a temporary file renamed into place, a `Vec`).

use crate::scan::BLOCK;

use super::{BankConfig, BankKind, Entry, HEADER_LEN, MAGIC, RECORD_LEN, VERSION};

fn align(offset: usize) -> usize {
    offset.div_ceil(64) * 64
}

/// Serialises a bank to bytes in the file layout.
pub fn encode_bank(config: &BankConfig, entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = write_bank(&mut out, config, entries.len(), |index| {
        entries[index].clone()
    });
    out
}

/// Streams a bank of `count` entries to `out` in the file layout, asking `entry_at`
/// for entries by index (five passes: one per word plane and one for provenance), so
/// banks far larger than memory can be written. Source names are stored once each.
pub fn write_bank(
    out: &mut impl std::io::Write,
    config: &BankConfig,
    count: usize,
    entry_at: impl Fn(usize) -> Entry,
) -> std::io::Result<()> {
    let plane_len = count.div_ceil(BLOCK) * BLOCK;
    let mut strings: Vec<u8> = config.name.as_bytes().to_vec();
    let name = (0u32, config.name.len() as u32);
    let mut sources: std::collections::HashMap<String, (u32, u32)> =
        std::collections::HashMap::new();
    let mut records = Vec::with_capacity(count * RECORD_LEN);
    for index in 0..count {
        let entry = entry_at(index);
        let source = match sources.get(&entry.source) {
            Some(&known) => known,
            None => {
                let placed = (strings.len() as u32, entry.source.len() as u32);
                strings.extend_from_slice(entry.source.as_bytes());
                sources.insert(entry.source.clone(), placed);
                placed
            }
        };
        let id = (strings.len() as u32, entry.entry_id.len() as u32);
        strings.extend_from_slice(entry.entry_id.as_bytes());
        for value in [source.0, source.1, id.0, id.1] {
            records.extend_from_slice(&value.to_le_bytes());
        }
        records.extend_from_slice(&entry.added_at.to_le_bytes());
    }
    let planes_offset = HEADER_LEN;
    let records_offset = align(planes_offset + 4 * plane_len * 8);
    let strings_offset = align(records_offset + records.len());
    let mut header = vec![0u8; HEADER_LEN];
    header[0..8].copy_from_slice(MAGIC);
    let put32 = |header: &mut Vec<u8>, at: usize, value: u32| {
        header[at..at + 4].copy_from_slice(&value.to_le_bytes())
    };
    let put64 = |header: &mut Vec<u8>, at: usize, value: u64| {
        header[at..at + 8].copy_from_slice(&value.to_le_bytes())
    };
    put32(&mut header, 8, VERSION);
    put32(
        &mut header,
        12,
        u32::from(config.kind == BankKind::Negative),
    );
    put32(&mut header, 16, config.threshold);
    put32(&mut header, 20, config.quality_floor);
    put64(&mut header, 24, count as u64);
    put64(&mut header, 32, plane_len as u64);
    put64(&mut header, 40, planes_offset as u64);
    put64(&mut header, 48, records_offset as u64);
    put64(&mut header, 56, strings_offset as u64);
    put64(&mut header, 64, strings.len() as u64);
    put32(&mut header, 72, name.0);
    put32(&mut header, 76, name.1);
    out.write_all(&header)?;
    let mut buffer = Vec::with_capacity(1 << 16);
    for word in 0..4 {
        for index in 0..plane_len {
            let value = if index < count {
                entry_at(index).hash.as_words()[word]
            } else {
                u64::MAX
            };
            buffer.extend_from_slice(&value.to_le_bytes());
            if buffer.len() >= 1 << 16 {
                out.write_all(&buffer)?;
                buffer.clear();
            }
        }
    }
    out.write_all(&buffer)?;
    out.write_all(&vec![
        0u8;
        records_offset - (planes_offset + 4 * plane_len * 8)
    ])?;
    out.write_all(&records)?;
    out.write_all(&vec![
        0u8;
        strings_offset - (records_offset + records.len())
    ])?;
    out.write_all(&strings)?;
    Ok(())
}
