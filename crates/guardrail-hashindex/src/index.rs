//! A live bank: a base (memory-mapped file or owned entries) plus entries added since,
//! minus entries removed since. Adding and removing never rebuilds anything: additions
//! go to a small owned segment that is scanned flat, removals are tombstones that
//! filter results, and `compact` writes a fresh file when an operator chooses.
//!
//! A list update passes a flood check first ([`Bank::stage_update`]): if its new
//! entries match more than a set share of recent uploads it is held, with the reason,
//! until an admin releases or rejects it. A held update never touches the entries
//! already live: quarantining a whole bank because of one bad update would silently
//! stop matching known abuse, which is the failure this crate exists to prevent.
//!
//! A search picks, per query hash, the multi-index or the flat scan by an estimate of
//! their costs from the buckets the hash would probe ([`crate::plan`]), so a query near
//! a cluster of near-duplicates is not slowed down by the multi-index's crowded buckets;
//! [`Bank::explain`] shows the plan and [`Bank::search_stats`] counts the choices.
//!
//! Pure logic: the caller passes the recent-upload window; no clocks, no IO.

use std::collections::BTreeSet;

use guardrail_pdq::PdqHash;

use crate::bank::{BankConfig, BankKind, Entry, OwnedEntries, Storage, encode_bank};
use crate::mih::{MultiIndex, Probes};
use crate::plan::{
    CostModel, Path, Reason, SearchCounters, SearchPlan, SearchStats, plan_choice_probed,
    plan_uniform,
};
use crate::scan::{Planes, RawMatch, best_kernel, scan};

/// How a search is carried out. All give identical results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Flat SIMD scan of every entry.
    Flat,
    /// The multi-index where it is exact and cheaper, flat elsewhere: chosen per query
    /// hash from the sizes of the buckets it would probe ([`crate::plan`]). Flat when
    /// no multi-index is built.
    MultiIndex,
    /// The multi-index for every query hash wherever it is exact (a threshold below 48
    /// and an index built), whatever it costs: for benchmarks and tests of the index.
    MultiIndexAlways,
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

/// A list update held back by the flood check until an admin decides.
#[derive(Debug, Clone, PartialEq)]
pub struct HeldUpdate {
    /// The entries the update would add.
    pub entries: Vec<Entry>,
    /// What the flood check found.
    pub check: FloodCheck,
    /// Why it is held, in words for the admin (share, counts, policy).
    pub reason: String,
}

/// What happened to a staged update.
#[derive(Debug, Clone, PartialEq)]
pub enum UpdateDecision {
    /// The entries went live under these entry numbers.
    Applied(Vec<usize>),
    /// The update is held (see [`Bank::held_update`]); nothing went live.
    Held(FloodCheck),
}

/// Why an update cannot be staged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bank {bank} already holds an update for review; release or reject it first")]
pub struct UpdateAlreadyHeld {
    /// The bank's name.
    pub bank: String,
}

/// A bank being matched against.
pub struct Bank {
    config: BankConfig,
    base: Box<dyn Storage + Send + Sync>,
    added: OwnedEntries,
    removed: BTreeSet<usize>,
    multi_index: Option<MultiIndex>,
    held: Option<HeldUpdate>,
    counters: SearchCounters,
    cost_model: Option<CostModel>,
}

impl std::fmt::Debug for Bank {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bank")
            .field("config", &self.config)
            .field("base", &self.base.planes().count)
            .field("added", &self.added.len())
            .field("removed", &self.removed.len())
            .field("multi_index", &self.multi_index.is_some())
            .field("held", &self.held.as_ref().map(|h| h.entries.len()))
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
            held: None,
            counters: SearchCounters::default(),
            cost_model: None,
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

    /// Stages a list update: checks its entries against the recent-upload window at
    /// the bank's threshold and either adds them at once or holds them for an admin.
    /// Only one update is held at a time, so the admin reviews updates in order.
    pub fn stage_update(
        &mut self,
        entries: Vec<Entry>,
        recent_uploads: &[PdqHash],
        policy: QuarantinePolicy,
    ) -> Result<UpdateDecision, UpdateAlreadyHeld> {
        if self.held.is_some() {
            return Err(UpdateAlreadyHeld {
                bank: self.config.name.clone(),
            });
        }
        let hashes: Vec<PdqHash> = entries.iter().map(|e| e.hash).collect();
        let check = check_flood(&hashes, recent_uploads, self.config.threshold, policy);
        if check.quarantine {
            let reason = format!(
                "the update's {} new entries match {} of the last {} uploads ({:.2}%), over the {:.2}% allowed",
                entries.len(),
                check.matched_uploads,
                recent_uploads.len(),
                check.share * 100.0,
                policy.max_share * 100.0
            );
            self.held = Some(HeldUpdate {
                entries,
                check: check.clone(),
                reason,
            });
            return Ok(UpdateDecision::Held(check));
        }
        Ok(UpdateDecision::Applied(
            entries.into_iter().map(|e| self.add(e)).collect(),
        ))
    }

    /// The update held for review, if any.
    pub fn held_update(&self) -> Option<&HeldUpdate> {
        self.held.as_ref()
    }

    /// An admin releases the held update: its entries go live. Returns their entry
    /// numbers (none if nothing was held).
    pub fn release_update(&mut self) -> Vec<usize> {
        match self.held.take() {
            Some(update) => update.entries.into_iter().map(|e| self.add(e)).collect(),
            None => Vec::new(),
        }
    }

    /// An admin rejects the held update: it is dropped and returned for the record.
    pub fn reject_update(&mut self) -> Option<HeldUpdate> {
        self.held.take()
    }

    /// Which path each query hash would take against the base entries, and why (the
    /// additions since the base are always scanned flat). Reads bucket offsets only.
    pub fn explain(&self, hashes: &[PdqHash], threshold: u32, strategy: Strategy) -> SearchPlan {
        let queries: Vec<[u64; 4]> = hashes.iter().map(PdqHash::as_words).collect();
        self.plan(&queries, threshold, strategy).0
    }

    /// Replaces the cost model the chooser plans with (by default the one calibrated for
    /// this CPU's kernel and the bank's size), e.g. after calibrating on new hardware.
    /// Results never change; only which path finds them.
    pub fn set_cost_model(&mut self, model: CostModel) {
        self.cost_model = Some(model);
    }

    /// Query hashes searched per path and reason since the bank was made.
    pub fn search_stats(&self) -> SearchStats {
        self.counters.snapshot()
    }

    /// The plan, and the probes the chooser read (for the multi-index to reuse).
    fn plan(
        &self,
        queries: &[[u64; 4]],
        threshold: u32,
        strategy: Strategy,
    ) -> (SearchPlan, Option<Vec<Probes>>) {
        let entries = self.base.planes().count;
        let model = self
            .cost_model
            .unwrap_or_else(|| CostModel::calibrated(best_kernel(), entries));
        let uniform = |reason| (plan_uniform(queries.len(), reason, entries, &model), None);
        let Some(index) = &self.multi_index else {
            return uniform(match strategy {
                Strategy::Flat => Reason::FlatAsked,
                Strategy::MultiIndex | Strategy::MultiIndexAlways => Reason::NoIndex,
            });
        };
        match strategy {
            Strategy::Flat => uniform(Reason::FlatAsked),
            _ if MultiIndex::radius(threshold) > 2 => uniform(Reason::RadiusTooLarge),
            Strategy::MultiIndexAlways => uniform(Reason::MultiIndexAsked),
            Strategy::MultiIndex => plan_choice_probed(index, entries, queries, threshold, &model),
        }
    }

    /// Raw matches of query hashes against the live entries, sorted by entry number,
    /// then query hash. The strategy never changes the result, only its cost.
    pub fn search(
        &self,
        hashes: &[PdqHash],
        threshold: u32,
        strategy: Strategy,
        threads: bool,
    ) -> Vec<RawMatch> {
        // Fault injection (tests only): the matcher faults mid-request.
        fail::fail_point!("matcher::search");
        let queries: Vec<[u64; 4]> = hashes.iter().map(PdqHash::as_words).collect();
        let base = self.base.planes();
        let (plan, mut probes) = self.plan(&queries, threshold, strategy);
        self.counters.record(&plan);
        let mut matches = Vec::new();
        // Each path searches its share of the query hashes, numbered from 0; the
        // matches are renumbered back to the request's query hashes.
        for path in [Path::Flat, Path::MultiIndex] {
            let chosen = plan.indices(path);
            if chosen.is_empty() {
                continue;
            }
            let whole = chosen.len() == queries.len();
            let subset: Vec<[u64; 4]> = if whole {
                queries.clone()
            } else {
                chosen.iter().map(|&i| queries[i]).collect()
            };
            let found = match (path, &self.multi_index, probes.as_mut()) {
                (Path::MultiIndex, Some(index), Some(probes)) => {
                    // The plan sends a hash whose counting stopped at its cap to the flat
                    // scan, so these probes are complete; should rounding ever say
                    // otherwise, the hash's buckets are read again rather than missed.
                    let chosen_probes: Vec<Probes> = chosen
                        .iter()
                        .map(
                            |&i| match std::mem::replace(&mut probes[i], Probes::empty()) {
                                complete if complete.complete => complete,
                                _ => index.probe(&queries[i], threshold, usize::MAX),
                            },
                        )
                        .collect();
                    index.search_probed(base, &subset, &chosen_probes, threshold, threads)
                }
                (Path::MultiIndex, Some(index), None) => {
                    index.search(base, &subset, threshold, threads)
                }
                _ => scan(base, &subset, threshold, threads),
            };
            if whole {
                // One path for every hash: nothing to renumber, and near a giant cluster
                // there are hundreds of thousands of matches not worth copying.
                matches = found;
                break;
            }
            matches.extend(found.into_iter().map(|m| RawMatch {
                query: chosen[m.query],
                ..m
            }));
        }
        let flat = plan.indices(Path::Flat).len();
        if flat != 0 && flat != queries.len() {
            // The two paths' matches interleave by position; each path's are in order.
            matches.sort_unstable();
        }
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
    /// overridden). Entries of a held update are not matched until released.
    pub fn match_query(
        &self,
        query: &Query,
        threshold: Option<u32>,
        quality_floor: Option<u32>,
        strategy: Strategy,
    ) -> Vec<BankMatch> {
        let floor = quality_floor.unwrap_or(self.config.quality_floor);
        if query.quality < floor {
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
    // One flat pass over the update with every recent upload as a query hash.
    let mut update = OwnedEntries::new();
    for hash in new_entries {
        update.push(Entry {
            hash: *hash,
            source: String::new(),
            entry_id: String::new(),
            added_at: 0,
        });
    }
    let uploads: Vec<[u64; 4]> = recent_uploads.iter().map(PdqHash::as_words).collect();
    let mut matched: Vec<usize> = scan(update.planes(), &uploads, threshold, true)
        .into_iter()
        .map(|m| m.query)
        .collect();
    matched.sort_unstable();
    matched.dedup();
    let matched_uploads = matched.len();
    let share = matched_uploads as f64 / recent_uploads.len() as f64;
    FloodCheck {
        share,
        matched_uploads,
        quarantine: share > policy.max_share,
    }
}
