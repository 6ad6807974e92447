//! The bank reader: validates a bank's bytes (usually a memory map) once, then serves
//! the word planes and the provenance records straight out of them, with no parse step
//! and no copy.
//!
//! Never writes, and never reads past what [`BankBytes::new`] validated: the header and
//! every section's bounds are checked there once, and strings that fall outside the
//! string table read as empty rather than panicking.

use crate::scan::{BLOCK, Planes};

use super::{
    BankConfig, BankError, BankKind, Entry, HEADER_LEN, MAGIC, RECORD_LEN, Storage, VERSION,
    hash_from_words,
};

/// A bank file's bytes (memory-mapped, or any byte buffer), validated once.
#[derive(Debug)]
pub struct BankBytes<B: AsRef<[u8]>> {
    bytes: B,
    config: BankConfig,
    count: usize,
    plane_len: usize,
    planes_offset: usize,
    records_offset: usize,
    strings_offset: usize,
    strings_len: usize,
}

fn read_u32(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(word)
}

fn read_u64(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(word)
}

impl<B: AsRef<[u8]>> BankBytes<B> {
    /// Validates a bank's header and section bounds. `path` names it in errors.
    pub fn new(bytes: B, path: &str) -> Result<BankBytes<B>, BankError> {
        let invalid = |reason: String| BankError::Invalid {
            path: path.to_string(),
            reason,
        };
        let data = bytes.as_ref();
        if !cfg!(target_endian = "little") {
            return Err(invalid(
                "bank files are little-endian; this machine is not".into(),
            ));
        }
        if !(data.as_ptr() as usize).is_multiple_of(8) {
            return Err(invalid(
                "buffer is not 8-byte aligned (map the file, or use AlignedBytes)".into(),
            ));
        }
        if data.len() < HEADER_LEN {
            return Err(invalid(format!(
                "{} bytes is shorter than the {HEADER_LEN}-byte header",
                data.len()
            )));
        }
        if &data[0..8] != MAGIC {
            return Err(invalid("wrong magic (expected GRDBANK1)".into()));
        }
        let version = read_u32(data, 8);
        if version != VERSION {
            return Err(invalid(format!(
                "format version {version}, this build reads {VERSION}"
            )));
        }
        let kind = match read_u32(data, 12) {
            0 => BankKind::Positive,
            1 => BankKind::Negative,
            other => return Err(invalid(format!("unknown bank kind {other}"))),
        };
        let count = usize::try_from(read_u64(data, 24))
            .map_err(|_| invalid("entry count too large".into()))?;
        let plane_len = usize::try_from(read_u64(data, 32))
            .map_err(|_| invalid("plane length too large".into()))?;
        let planes_offset = read_u64(data, 40) as usize;
        let records_offset = read_u64(data, 48) as usize;
        let strings_offset = read_u64(data, 56) as usize;
        let strings_len = read_u64(data, 64) as usize;
        if plane_len < count || !plane_len.is_multiple_of(BLOCK) || plane_len - count >= BLOCK {
            return Err(invalid(format!(
                "plane length {plane_len} does not fit {count} entries"
            )));
        }
        let planes_end = plane_len
            .checked_mul(32)
            .and_then(|n| n.checked_add(planes_offset));
        let records_end = count
            .checked_mul(RECORD_LEN)
            .and_then(|n| n.checked_add(records_offset));
        let strings_end = strings_offset.checked_add(strings_len);
        let fits = |end: Option<usize>| end.is_some_and(|end| end <= data.len());
        if !planes_offset.is_multiple_of(64)
            || !fits(planes_end)
            || !fits(records_end)
            || !fits(strings_end)
        {
            return Err(invalid(format!(
                "sections run past the end of the {}-byte file (truncated?)",
                data.len()
            )));
        }
        let strings = &data[strings_offset..strings_offset + strings_len];
        let name_offset = read_u32(data, 72) as usize;
        let name_len = read_u32(data, 76) as usize;
        let name = strings
            .get(name_offset..name_offset + name_len)
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .ok_or_else(|| invalid("bank name outside the string table".into()))?;
        let config = BankConfig {
            name,
            kind,
            threshold: read_u32(data, 16),
            quality_floor: read_u32(data, 20),
        };
        Ok(BankBytes {
            bytes,
            config,
            count,
            plane_len,
            planes_offset,
            records_offset,
            strings_offset,
            strings_len,
        })
    }

    /// The bank's settings as stored.
    pub fn config(&self) -> &BankConfig {
        &self.config
    }

    /// Entries in the file.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the file has no entries.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    fn string(&self, offset: u32, len: u32) -> String {
        let strings =
            &self.bytes.as_ref()[self.strings_offset..self.strings_offset + self.strings_len];
        strings
            .get(offset as usize..offset as usize + len as usize)
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default()
    }
}

impl<B: AsRef<[u8]>> Storage for BankBytes<B> {
    fn planes(&self) -> Planes<'_> {
        let data = self.bytes.as_ref();
        let plane = |w: usize| -> &[u64] {
            let start = self.planes_offset + w * self.plane_len * 8;
            // The offset is 64-byte aligned within a page-aligned map (or a Vec<u64>
            // buffer), and the length was checked in `new`.
            bytemuck::cast_slice(&data[start..start + self.plane_len * 8])
        };
        Planes {
            words: [plane(0), plane(1), plane(2), plane(3)],
            count: self.count,
        }
    }

    fn entry(&self, index: usize) -> Entry {
        let data = self.bytes.as_ref();
        let at = self.records_offset + index * RECORD_LEN;
        let hash = hash_from_words(self.planes().entry(index));
        Entry {
            hash,
            source: self.string(read_u32(data, at), read_u32(data, at + 4)),
            entry_id: self.string(read_u32(data, at + 8), read_u32(data, at + 12)),
            added_at: read_u64(data, at + 16) as i64,
        }
    }
}

/// Bytes in an 8-byte-aligned buffer, for banks read into memory rather than mapped.
#[derive(Debug, Clone)]
pub struct AlignedBytes {
    words: Vec<u64>,
    len: usize,
}

impl From<&[u8]> for AlignedBytes {
    fn from(bytes: &[u8]) -> AlignedBytes {
        let mut words = vec![0u64; bytes.len().div_ceil(8)];
        bytemuck::cast_slice_mut::<u64, u8>(&mut words)[..bytes.len()].copy_from_slice(bytes);
        AlignedBytes {
            words,
            len: bytes.len(),
        }
    }
}

impl AsRef<[u8]> for AlignedBytes {
    fn as_ref(&self) -> &[u8] {
        &bytemuck::cast_slice::<u64, u8>(&self.words)[..self.len]
    }
}
