//! A live bank: a base (memory-mapped file or owned entries) plus entries added since,
//! minus entries removed since. Adding and removing never rebuilds anything: additions
//! go to a small owned segment that is scanned flat, removals are tombstones that
//! filter results, and `compact` writes a fresh file when an operator chooses.

use std::collections::BTreeSet;

use guardrail_pdq::PdqHash;

use crate::bank::{BankConfig, BankKind, Entry, OwnedEntries, Storage, encode_bank};
use crate::mih::MultiIndex;
use crate::scan::{Planes, RawMatch, scan};

/// How a search is carried out. Both give identical results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Flat SIMD scan of every entry.
    Flat,
    /// The multi-index where it is exact and cheaper, flat elsewhere.
    MultiIndex,
}

/// A query: one or more hashes of one upload (e.g. its eight dihedrals), and its quality.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// The upload's hashes, in [`guardrail_pdq::Dihedral::ALL`] order when dihedral.
    pub hashes: Vec<PdqHash>,
    /// The upload's PDQ quality.
    pub quality: u32,
}

/// One match of a query against a bank entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankMatch {
    /// The bank's name.
    pub bank: String,
    /// The entry's stable number in the bank (base entries first, then additions).
    pub entry_number: usize,
    /// The entry with its provenance.
    pub entry: Entry,
    /// Which of the query's hashes matched (index into `Query::hashes`).
    pub query_hash: usize,
    /// Hamming distance.
    pub distance: u32,
}

/// Lifecycle of a bank's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BankStatus {
    /// Matches are reported.
    Active,
    /// An update matched a flood of recent uploads; matches are held until an admin releases it.
    Quarantined {
        /// Why.
        reason: String,
    },
}

/// A bank being matched against.
pub struct Bank {
    config: BankConfig,
    base: Box<dyn Storage + Send + Sync>,
    added: OwnedEntries,
    removed: BTreeSet<usize>,
    multi_index: Option<MultiIndex>,
    status: BankStatus,
}

impl std::fmt::Debug for Bank {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bank")
            .field("config", &self.config)
            .field("base", &self.base.planes().count)
            .field("added", &self.added.len())
            .field("removed", &self.removed.len())
            .field("multi_index", &self.multi_index.is_some())
            .field("status", &self.status)
            .finish()
    }
}

impl Bank {
    /// A bank over a base storage (a mapped file, or owned entries).
    pub fn new(config: BankConfig, base: Box<dyn Storage + Send + Sync>) -> Bank {
        Bank {
            config,
            base,
            added: OwnedEntries::new(),
            removed: BTreeSet::new(),
            multi_index: None,
            status: BankStatus::Active,
        }
    }

    /// A bank of owned entries.
    pub fn from_entries(config: BankConfig, entries: impl IntoIterator<Item = Entry>) -> Bank {
        let mut owned = OwnedEntries::new();
        for entry in entries {
            owned.push(entry);
        }
        Bank::new(config, Box::new(owned))
    }

    /// The settings.
    pub fn config(&self) -> &BankConfig {
        &self.config
    }

    /// Builds the multi-index over the base entries (additions are scanned flat).
    pub fn build_multi_index(&mut self) -> Result<(), crate::mih::TooManyEntries> {
        self.multi_index = Some(MultiIndex::build(self.base.planes())?);
        Ok(())
    }

    /// Bytes held by the multi-index, if built.
    pub fn multi_index_memory(&self) -> Option<usize> {
        self.multi_index.as_ref().map(MultiIndex::memory_usage)
    }

    /// Live entries (base + added − removed).
    pub fn len(&self) -> usize {
        self.base.planes().count + self.added.len() - self.removed.len()
    }

    /// Whether no entry is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds an entry without rebuilding; returns its entry number.
    pub fn add(&mut self, entry: Entry) -> usize {
        self.base.planes().count + self.added.push(entry)
    }

    /// Removes an entry by number without rebuilding. Returns whether it was live.
    pub fn remove(&mut self, entry_number: usize) -> bool {
        let total = self.base.planes().count + self.added.len();
        entry_number < total && self.removed.insert(entry_number)
    }

    /// The entry with a number, if live.
    pub fn entry(&self, entry_number: usize) -> Option<Entry> {
        if self.removed.contains(&entry_number) {
            return None;
        }
        let base = self.base.planes().count;
        if entry_number < base {
            Some(self.base.entry(entry_number))
        } else if entry_number < base + self.added.len() {
            Some(self.added.entry(entry_number - base))
        } else {
            None
        }
    }

    /// Every live entry, in entry-number order.
    pub fn entries(&self) -> impl Iterator<Item = (usize, Entry)> + '_ {
        let total = self.base.planes().count + self.added.len();
        (0..total).filter_map(|n| self.entry(n).map(|e| (n, e)))
    }

    /// The bank's status.
    pub fn status(&self) -> &BankStatus {
        &self.status
    }

    /// Puts the bank in quarantine.
    pub fn quarantine(&mut self, reason: String) {
        self.status = BankStatus::Quarantined { reason };
    }

    /// An admin releases a quarantined bank.
    pub fn release(&mut self) {
        self.status = BankStatus::Active;
    }

    /// Raw matches of query hashes against the live entries, sorted by entry number.
    pub fn search(
        &self,
        hashes: &[PdqHash],
        threshold: u32,
        strategy: Strategy,
        threads: bool,
    ) -> Vec<RawMatch> {
        let queries: Vec<[u64; 4]> = hashes.iter().map(PdqHash::as_words).collect();
        let base = self.base.planes();
        let use_index = strategy == Strategy::MultiIndex && MultiIndex::radius(threshold) <= 2;
        let mut matches = match (&self.multi_index, use_index) {
            (Some(index), true) => index.search(base, &queries, threshold),
            _ => scan(base, &queries, threshold, threads),
        };
        let offset = base.count;
        matches.extend(
            scan(self.added.planes(), &queries, threshold, false)
                .into_iter()
                .map(|m| RawMatch {
                    position: m.position + offset,
                    ..m
                }),
        );
        matches.retain(|m| !self.removed.contains(&m.position));
        matches
    }

    /// Matches of one query, honouring the bank's threshold and quality floor (unless
    /// overridden) and its status. A quarantined bank reports nothing.
    pub fn match_query(
        &self,
        query: &Query,
        threshold: Option<u32>,
        quality_floor: Option<u32>,
        strategy: Strategy,
    ) -> Vec<BankMatch> {
        let floor = quality_floor.unwrap_or(self.config.quality_floor);
        if query.quality < floor || self.status != BankStatus::Active {
            return Vec::new();
        }
        let threshold = threshold.unwrap_or(self.config.threshold);
        self.search(&query.hashes, threshold, strategy, true)
            .into_iter()
            .filter_map(|m| {
                Some(BankMatch {
                    bank: self.config.name.clone(),
                    entry_number: m.position,
                    entry: self.entry(m.position)?,
                    query_hash: m.query,
                    distance: m.distance,
                })
            })
            .collect()
    }

    /// Writes the live entries as a fresh bank file (additions merged, removals dropped).
    pub fn compact(&self) -> Vec<u8> {
        let entries: Vec<Entry> = self.entries().map(|(_, e)| e).collect();
        encode_bank(&self.config, &entries)
    }

    /// Planes of the base (for benchmarks and tests).
    pub fn base_planes(&self) -> Planes<'_> {
        self.base.planes()
    }
}

/// The outcome of matching one upload against positive and negative banks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Matches in positive banks that stand.
    pub matches: Vec<BankMatch>,
    /// Matches in positive banks suppressed because the upload is a known benign image.
    pub suppressed: Vec<BankMatch>,
    /// The negative-bank matches that suppressed them.
    pub benign: Vec<BankMatch>,
}

/// Matches an upload against positive banks, then suppresses the result if any negative
/// (known benign) bank matches it too: shared lists carry false positives, and a known
/// benign image should never page a reviewer again.
pub fn match_upload(
    banks: &[Bank],
    query: &Query,
    threshold: Option<u32>,
    quality_floor: Option<u32>,
    strategy: Strategy,
) -> Outcome {
    let mut positive = Vec::new();
    let mut benign = Vec::new();
    for bank in banks {
        let found = bank.match_query(query, threshold, quality_floor, strategy);
        match bank.config().kind {
            BankKind::Positive => positive.extend(found),
            BankKind::Negative => benign.extend(found),
        }
    }
    if benign.is_empty() {
        Outcome {
            matches: positive,
            suppressed: Vec::new(),
            benign,
        }
    } else {
        Outcome {
            matches: Vec::new(),
            suppressed: positive,
            benign,
        }
    }
}

/// Settings for quarantining floods.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuarantinePolicy {
    /// Largest share of recent uploads an update may match before it is held.
    pub max_share: f64,
}

impl Default for QuarantinePolicy {
    fn default() -> Self {
        QuarantinePolicy { max_share: 0.01 }
    }
}

/// What checking an update against recent uploads found.
#[derive(Debug, Clone, PartialEq)]
pub struct FloodCheck {
    /// Share of recent uploads the update's new entries match.
    pub share: f64,
    /// How many recent uploads matched.
    pub matched_uploads: usize,
    /// Whether the update must be held.
    pub quarantine: bool,
}

/// Checks a bank update before it goes live: a list update that suddenly matches more
/// than `policy.max_share` of recent uploads is far likelier a bad entry (a logo, a
/// blank frame) than a flood of abuse, so it is held for an admin.
pub fn check_flood(
    new_entries: &[PdqHash],
    recent_uploads: &[PdqHash],
    threshold: u32,
    policy: QuarantinePolicy,
) -> FloodCheck {
    if recent_uploads.is_empty() || new_entries.is_empty() {
        return FloodCheck {
            share: 0.0,
            matched_uploads: 0,
            quarantine: false,
        };
    }
    let update = Bank::from_entries(
        BankConfig::positive("update"),
        new_entries.iter().map(|hash| Entry {
            hash: *hash,
            source: String::new(),
            entry_id: String::new(),
            added_at: 0,
        }),
    );
    let matched_uploads = recent_uploads
        .iter()
        .filter(|upload| {
            !update
                .search(
                    std::slice::from_ref(upload),
                    threshold,
                    Strategy::Flat,
                    false,
                )
                .is_empty()
        })
        .count();
    let share = matched_uploads as f64 / recent_uploads.len() as f64;
    FloodCheck {
        share,
        matched_uploads,
        quarantine: share > policy.max_share,
    }
}
