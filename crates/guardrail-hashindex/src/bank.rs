//! Bank files: 256-bit hashes with per-entry provenance, laid out so that a bank loads
//! by memory map with no parse step.
//!
//! Layout (little-endian; every section starts on a 64-byte boundary):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | magic `GRDBANK1` |
//! | 8 | 4 | format version (1) |
//! | 12 | 4 | kind: 0 positive, 1 negative (known benign) |
//! | 16 | 4 | distance threshold |
//! | 20 | 4 | quality floor |
//! | 24 | 8 | entry count `n` |
//! | 32 | 8 | plane length `p` (`n` rounded up to a multiple of 8) |
//! | 40 | 8 | offset of the word planes (4 × `p` × u64) |
//! | 48 | 8 | offset of the records (`n` × 24 bytes) |
//! | 56 | 8 | offset of the string table |
//! | 64 | 8 | length of the string table |
//! | 72 | 4 | offset of the bank name in the string table |
//! | 76 | 4 | length of the bank name |
//!
//! Word plane `w` holds word `w` of every hash (the canonical bytes read as four
//! little-endian u64), so the scan reads eight hashes per vector load. A record is
//! `source offset u32, source length u32, entry-id offset u32, entry-id length u32,
//! added_at i64` (seconds since the Unix epoch); offsets point into the string table.
//! Padding hashes in the planes are never reported (positions ≥ `n` are skipped).

use std::fmt;

use guardrail_pdq::PdqHash;

use crate::scan::{BLOCK, Planes};

/// File magic.
pub const MAGIC: &[u8; 8] = b"GRDBANK1";
/// Current format version.
pub const VERSION: u32 = 1;
const HEADER_LEN: usize = 128;
const RECORD_LEN: usize = 24;

/// Whether a bank's matches are findings or suppressions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BankKind {
    /// Known abuse imagery: a match is a finding.
    Positive,
    /// Known benign imagery: a match suppresses positive matches for that upload.
    Negative,
}

impl fmt::Display for BankKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BankKind::Positive => "positive",
            BankKind::Negative => "negative",
        })
    }
}

/// A bank's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankConfig {
    /// Name shown in matches.
    pub name: String,
    /// Positive or negative.
    pub kind: BankKind,
    /// Largest Hamming distance that matches (default 31).
    pub threshold: u32,
    /// Queries below this quality are not matched against the bank (default 50).
    pub quality_floor: u32,
}

impl BankConfig {
    /// A positive bank with the recommended threshold (31) and quality floor (50).
    pub fn positive(name: &str) -> BankConfig {
        BankConfig {
            name: name.to_string(),
            kind: BankKind::Positive,
            threshold: 31,
            quality_floor: 50,
        }
    }
}

/// One bank entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The hash.
    pub hash: PdqHash,
    /// The list it came from (e.g. an industry list's name).
    pub source: String,
    /// Its id in that list.
    pub entry_id: String,
    /// When it was added (seconds since the Unix epoch).
    pub added_at: i64,
}

/// Why a bank file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BankError {
    /// The file could not be opened or mapped.
    #[error("cannot read bank {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is not a bank, or is damaged.
    #[error("{path} is not a valid bank file: {reason}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

/// Hashes in plane layout with their provenance, owned or borrowed from a mapped file.
pub trait Storage {
    /// The word planes.
    fn planes(&self) -> Planes<'_>;
    /// Provenance of entry `index`.
    fn entry(&self, index: usize) -> Entry;
}

/// An owned, growable set of entries in plane layout.
#[derive(Debug, Clone, Default)]
pub struct OwnedEntries {
    words: [Vec<u64>; 4],
    records: Vec<(String, String, i64)>,
}

impl OwnedEntries {
    /// Empty.
    pub fn new() -> OwnedEntries {
        OwnedEntries::default()
    }

    /// Appends an entry; returns its position.
    pub fn push(&mut self, entry: Entry) -> usize {
        let position = self.records.len();
        let words = entry.hash.as_words();
        // Keep the planes a multiple of the block length; padding is overwritten in place.
        if position.is_multiple_of(BLOCK) {
            for plane in &mut self.words {
                plane.resize(position + BLOCK, u64::MAX);
            }
        }
        for (plane, word) in self.words.iter_mut().zip(words) {
            plane[position] = word;
        }
        self.records
            .push((entry.source, entry.entry_id, entry.added_at));
        position
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

impl Storage for OwnedEntries {
    fn planes(&self) -> Planes<'_> {
        Planes {
            words: [
                &self.words[0],
                &self.words[1],
                &self.words[2],
                &self.words[3],
            ],
            count: self.records.len(),
        }
    }

    fn entry(&self, index: usize) -> Entry {
        let (source, entry_id, added_at) = self.records[index].clone();
        Entry {
            hash: hash_from_words(self.planes().entry(index)),
            source,
            entry_id,
            added_at,
        }
    }
}

/// The canonical hash of four plane words.
pub fn hash_from_words(words: [u64; 4]) -> PdqHash {
    let mut bytes = [0u8; 32];
    for (chunk, word) in bytes.chunks_exact_mut(8).zip(words) {
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    PdqHash(bytes)
}

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
