//! Banks built in memory: entries kept in the same word-plane layout as a bank file,
//! growable one entry at a time, so a bank that is being assembled (or updated live)
//! is scanned by the same kernels as a mapped one.
//!
//! Never serialises or parses bytes: writing a file is `writer.rs`'s job, reading one
//! is `reader.rs`'s.

use crate::scan::{BLOCK, Planes};

use super::{Entry, Storage, hash_from_words};

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
