//! Multi-index hashing (Norouzi et al.), exact: the 256-bit hash is cut into sixteen
//! 16-bit slots. If two hashes are within distance `t`, then by the pigeonhole principle
//! at least one slot differs in at most `⌊t/16⌋` bits, so probing every slot value within
//! that radius of the query's slot finds every true match; candidates are then checked
//! with the full distance. Nothing is approximated: the property tests compare it with
//! the flat scan.
//!
//! Each slot is a CSR table: `offsets[65537]` and the bank positions sorted by slot
//! value, built by counting sort in one pass per slot (4 bytes per entry per slot, 64
//! bytes per entry in all). Beyond radius 2 (thresholds of 48 and more) the probes
//! outnumber a flat scan's work, and the caller should scan instead. Within it, a query
//! near a cluster of near-duplicates probes crowded buckets; [`MultiIndex::candidates`]
//! counts them from the offsets alone, so the caller can scan instead there too
//! ([`crate::plan`]).

use crate::scan::{Planes, RawMatch, distance};

const SLOTS: usize = 16;
const SLOT_VALUES: usize = 1 << 16;

/// A multi-index over a fixed set of planes.
#[derive(Debug, Clone)]
pub struct MultiIndex {
    offsets: Vec<Vec<u32>>,
    positions: Vec<Vec<u32>>,
    count: usize,
}

fn slot_value(words: &[u64; 4], slot: usize) -> usize {
    ((words[slot / 4] >> ((slot % 4) * 16)) & 0xFFFF) as usize
}

/// Why a multi-index cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a multi-index holds at most {max} entries, not {count}")]
pub struct TooManyEntries {
    /// Entries asked for.
    pub count: usize,
    /// The limit (positions are u32).
    pub max: usize,
}

impl MultiIndex {
    /// Builds the index over the first `planes.count` entries.
    pub fn build(planes: Planes) -> Result<MultiIndex, TooManyEntries> {
        let count = planes.count;
        if count > u32::MAX as usize {
            return Err(TooManyEntries {
                count,
                max: u32::MAX as usize,
            });
        }
        let mut offsets = Vec::with_capacity(SLOTS);
        let mut positions = Vec::with_capacity(SLOTS);
        for slot in 0..SLOTS {
            let plane = planes.words[slot / 4];
            let shift = (slot % 4) * 16;
            let mut counts = vec![0u32; SLOT_VALUES + 1];
            for &word in &plane[..count] {
                counts[((word >> shift) & 0xFFFF) as usize + 1] += 1;
            }
            for value in 0..SLOT_VALUES {
                counts[value + 1] += counts[value];
            }
            let mut next = counts.clone();
            let mut sorted = vec![0u32; count];
            for (position, &word) in plane[..count].iter().enumerate() {
                let value = ((word >> shift) & 0xFFFF) as usize;
                sorted[next[value] as usize] = position as u32;
                next[value] += 1;
            }
            offsets.push(counts);
            positions.push(sorted);
        }
        Ok(MultiIndex {
            offsets,
            positions,
            count,
        })
    }

    /// Entries indexed.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Bytes held by the index (not counting the hashes themselves).
    pub fn memory_usage(&self) -> usize {
        SLOTS * ((SLOT_VALUES + 1) * 4 + self.count * 4)
    }

    /// The probe radius that keeps the search exact for `threshold`.
    pub fn radius(threshold: u32) -> u32 {
        threshold / SLOTS as u32
    }

    /// Buckets one query hash reads at `threshold`: sixteen slots times the 16-bit
    /// values within the probe radius (1 + 16 + 120 + 560 per slot for radius 0..=3).
    pub fn probes_per_query(threshold: u32) -> usize {
        let per_slot = match Self::radius(threshold) {
            0 => 1,
            1 => 1 + 16,
            2 => 1 + 16 + 120,
            _ => 1 + 16 + 120 + 560,
        };
        SLOTS * per_slot
    }

    /// The buckets a search of `query` at `threshold` reads, and the candidates they
    /// hold (an entry close in several slots counts once per slot, as the search checks
    /// it once per slot). Reads only the bucket offsets, never a hash, so it costs a
    /// small share of the search it predicts, and [`MultiIndex::search_probed`] reuses
    /// it instead of reading the offsets again.
    ///
    /// Stops, slot by slot, once the candidates exceed `cap`: a caller that only needs
    /// to know the search is dearer than some budget does not pay for counting a giant
    /// cluster to its end. Such probes are incomplete and cannot be searched.
    pub fn probe(&self, query: &[u64; 4], threshold: u32, cap: usize) -> Probes {
        let per_slot = Self::probes_per_query(threshold) / SLOTS;
        let mut values = Vec::with_capacity(per_slot);
        let mut ranges = Vec::with_capacity(per_slot * SLOTS);
        let mut candidates = 0usize;
        for slot in 0..SLOTS {
            values.clear();
            neighbours(
                slot_value(query, slot) as u16,
                Self::radius(threshold),
                &mut values,
            );
            let offsets = &self.offsets[slot];
            for &value in &values {
                let (start, end) = (offsets[value as usize], offsets[value as usize + 1]);
                candidates += (end - start) as usize;
                ranges.push((start, end));
            }
            if candidates > cap {
                break;
            }
        }
        Probes {
            complete: ranges.len() == per_slot * SLOTS,
            ranges,
            per_slot,
            candidates,
        }
    }

    /// Candidates a search of `query` at `threshold` would verify (see
    /// [`MultiIndex::probe`]); above `cap` once it passes it.
    pub fn candidates(&self, query: &[u64; 4], threshold: u32, cap: usize) -> usize {
        self.probe(query, threshold, cap).candidates
    }

    /// Every entry within `threshold` of any query, exactly; sorted by position, then query.
    /// With `threads`, the (query hash, slot) pairs are shared out over the thread pool.
    pub fn search(
        &self,
        planes: Planes,
        queries: &[[u64; 4]],
        threshold: u32,
        threads: bool,
    ) -> Vec<RawMatch> {
        let probes: Vec<Probes> = queries
            .iter()
            .map(|query| self.probe(query, threshold, usize::MAX))
            .collect();
        self.search_probed(planes, queries, &probes, threshold, threads)
    }

    /// [`MultiIndex::search`] with each query hash's buckets already read by
    /// [`MultiIndex::probe`] at the same `threshold`.
    ///
    /// # Panics
    ///
    /// If the probes are fewer than the queries, or any was stopped by its cap: a
    /// search over part of the buckets would miss matches.
    pub fn search_probed(
        &self,
        planes: Planes,
        queries: &[[u64; 4]],
        probes: &[Probes],
        threshold: u32,
        threads: bool,
    ) -> Vec<RawMatch> {
        use rayon::prelude::*;
        assert!(
            probes.len() == queries.len() && probes.iter().all(|p| p.complete),
            "multi-index search: {} queries need as many complete probes, got {} ({} complete)",
            queries.len(),
            probes.len(),
            probes.iter().filter(|p| p.complete).count()
        );
        let work: Vec<(usize, usize)> = (0..queries.len())
            .flat_map(|query| (0..SLOTS).map(move |slot| (query, slot)))
            .collect();
        let probe = |&(query_index, slot): &(usize, usize)| {
            let mut found = Vec::new();
            self.probe_slot(
                planes,
                &queries[query_index],
                query_index,
                slot,
                probes[query_index].slot(slot),
                threshold,
                &mut found,
            );
            found
        };
        let mut matches: Vec<RawMatch> = if threads {
            work.par_iter().flat_map_iter(probe).collect()
        } else {
            work.iter().flat_map(probe).collect()
        };
        // An entry close in several slots is found once per slot.
        matches.sort_unstable();
        matches.dedup();
        matches
    }

    /// Checks the candidates of one slot of one query hash.
    ///
    /// Candidates are scattered over the bank, so each word read is a cache miss, and
    /// the cost of a search is the number of words read. The slot's own word and the
    /// word opposite give a lower bound of the distance (for an unrelated candidate
    /// about 56 of 256 bits, far above any threshold), so the other two words are read
    /// only for the few candidates that may match: half the misses of a full check,
    /// and just as exact. The loop keeps no state from one candidate to the next, so
    /// the CPU overlaps their misses.
    #[allow(clippy::too_many_arguments)]
    fn probe_slot(
        &self,
        planes: Planes,
        query: &[u64; 4],
        query_index: usize,
        slot: usize,
        ranges: &[(u32, u32)],
        threshold: u32,
        out: &mut Vec<RawMatch>,
    ) {
        let near = slot / 4;
        let far = (near + 2) % 4;
        let (near_plane, far_plane) = (planes.words[near], planes.words[far]);
        for &(start, end) in ranges {
            let (start, end) = (start as usize, end as usize);
            for &position in &self.positions[slot][start..end] {
                let position = position as usize;
                let bound = (near_plane[position] ^ query[near]).count_ones()
                    + (far_plane[position] ^ query[far]).count_ones();
                if bound > threshold {
                    continue;
                }
                let d = distance(&planes.entry(position), query);
                if d <= threshold {
                    out.push(RawMatch {
                        position,
                        query: query_index,
                        distance: d,
                    });
                }
            }
        }
    }
}

/// The buckets one query hash's search reads: per slot, the ranges of the slot's sorted
/// positions for every 16-bit value within the probe radius.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probes {
    ranges: Vec<(u32, u32)>,
    per_slot: usize,
    /// Entries in those buckets: the candidates the search verifies.
    pub candidates: usize,
    /// Whether every slot was read (false when counting stopped at its cap).
    pub complete: bool,
}

impl Probes {
    /// No buckets read (a placeholder; incomplete, so it cannot be searched).
    pub fn empty() -> Probes {
        Probes {
            ranges: Vec::new(),
            per_slot: 0,
            candidates: 0,
            complete: false,
        }
    }

    fn slot(&self, slot: usize) -> &[(u32, u32)] {
        &self.ranges[slot * self.per_slot..(slot + 1) * self.per_slot]
    }
}

/// All 16-bit values within `radius` bit flips of `value`.
fn neighbours(value: u16, radius: u32, out: &mut Vec<u16>) {
    out.push(value);
    if radius >= 1 {
        for a in 0..16 {
            out.push(value ^ (1 << a));
        }
    }
    if radius >= 2 {
        for a in 0..16 {
            for b in a + 1..16 {
                out.push(value ^ (1 << a) ^ (1 << b));
            }
        }
    }
    if radius >= 3 {
        for a in 0..16 {
            for b in a + 1..16 {
                for c in b + 1..16 {
                    out.push(value ^ (1 << a) ^ (1 << b) ^ (1 << c));
                }
            }
        }
    }
}
