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
//!
//! The module is split the way the data flows: `writer.rs` turns entries into these
//! bytes, `reader.rs` validates mapped bytes once and reads entries back out of them,
//! and `owned.rs` keeps entries in memory in the same plane layout. This file holds only
//! what all three share (the layout constants, [`Entry`], [`BankConfig`], [`BankKind`],
//! [`BankError`] and the [`Storage`] trait); it never reads or writes a bank itself.

mod owned;
mod reader;
mod writer;

use std::fmt;

use guardrail_pdq::PdqHash;

use crate::scan::Planes;

pub use owned::OwnedEntries;
pub use reader::{AlignedBytes, BankBytes};
pub use writer::{encode_bank, write_bank};

/// File magic.
pub const MAGIC: &[u8; 8] = b"GRDBANK1";
/// Current format version.
pub const VERSION: u32 = 1;
/// Length of the header; the word planes start right after it.
const HEADER_LEN: usize = 128;
/// Length of one provenance record.
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

/// The canonical hash of four plane words.
pub fn hash_from_words(words: [u64; 4]) -> PdqHash {
    let mut bytes = [0u8; 32];
    for (chunk, word) in bytes.chunks_exact_mut(8).zip(words) {
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    PdqHash(bytes)
}
