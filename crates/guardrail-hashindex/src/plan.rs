//! Choosing, per query hash, between the multi-index and the flat scan.
//!
//! The multi-index wins when the buckets a query probes are small, as they are on a
//! uniform bank (about `entries / 65,536` per bucket). Real lists cluster: variants of
//! one image share most of their bits, so a query near a cluster probes buckets that
//! hold the whole cluster, and checking tens of thousands of scattered candidates (a
//! cache miss or two each) costs more than streaming the bank once. The flat scan's
//! cost does not depend on the data at all. So before searching, each query hash's
//! multi-index cost is estimated from the lengths of the buckets its probes will read
//! ([`MultiIndex::candidates`]: bucket offsets only, no hash is read), and compared
//! with the flat scan's cost for the bank's size ([`CostModel`]).
//!
//! A request's hashes (an upload's eight dihedrals, or a batch) are split: the flat scan
//! tests all its query hashes in one pass over memory, so its cost is a fixed part per
//! block plus a small part per block and query hash. The plan sends the hashes with the
//! dearest multi-index estimates to one flat pass, as many as make the total smallest
//! (exact for the model: sorted by estimate, every split size is tried).
//!
//! Must never change a result: both paths are exact, the plan only decides which one
//! runs, and the property tests hold every strategy and every split to brute force.
//! Pure arithmetic over bucket lengths: no clocks, no IO, no measurement at run time
//! (a timing-based choice would make the path, and the stats, differ from run to run).

use crate::mih::{MultiIndex, Probes};
use crate::scan::{BLOCK, Kernel};

/// Which of the two exact searches handles a query hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Path {
    /// The flat scan of every entry.
    Flat,
    /// The multi-index: probe buckets, verify candidates.
    MultiIndex,
}

/// Why a query hash took its path (counted per bank, see [`SearchStats`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    /// The caller asked for the flat scan ([`crate::Strategy::Flat`]).
    FlatAsked,
    /// The bank has no multi-index (never built, or too many entries for one).
    NoIndex,
    /// The threshold needs a probe radius above 2 (threshold 48 and more), where the
    /// probes alone outnumber a flat scan's work.
    RadiusTooLarge,
    /// The bank is so small that scanning it costs less than the multi-index's probes
    /// alone, before any candidate: the buckets were not even counted.
    SmallBank,
    /// The buckets this hash probes hold few candidates: the multi-index is cheaper.
    FewCandidates,
    /// The buckets this hash probes are crowded (it is near a cluster): one flat pass
    /// is cheaper than verifying their candidates.
    CrowdedBuckets,
    /// The caller forced the multi-index ([`crate::Strategy::MultiIndexAlways`]).
    MultiIndexAsked,
}

impl Reason {
    /// Every reason, in a fixed order (the order of [`SearchStats::by_reason`]).
    pub const ALL: [Reason; 7] = [
        Reason::FlatAsked,
        Reason::NoIndex,
        Reason::RadiusTooLarge,
        Reason::SmallBank,
        Reason::FewCandidates,
        Reason::CrowdedBuckets,
        Reason::MultiIndexAsked,
    ];

    /// The path this reason leads to.
    pub fn path(self) -> Path {
        match self {
            Reason::FewCandidates | Reason::MultiIndexAsked => Path::MultiIndex,
            Reason::FlatAsked
            | Reason::NoIndex
            | Reason::RadiusTooLarge
            | Reason::SmallBank
            | Reason::CrowdedBuckets => Path::Flat,
        }
    }

    /// A short name for logs and explain output.
    pub fn name(self) -> &'static str {
        match self {
            Reason::FlatAsked => "flat-asked",
            Reason::NoIndex => "no-index",
            Reason::RadiusTooLarge => "radius-too-large",
            Reason::SmallBank => "small-bank",
            Reason::FewCandidates => "few-candidates",
            Reason::CrowdedBuckets => "crowded-buckets",
            Reason::MultiIndexAsked => "multi-index-asked",
        }
    }

    pub(crate) fn index(self) -> usize {
        Reason::ALL
            .iter()
            .position(|r| *r == self)
            .expect("every reason is in ALL")
    }
}

/// The plan for one query hash.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QueryPlan {
    /// The path it takes.
    pub path: Path,
    /// Why.
    pub reason: Reason,
    /// Candidates its probes would verify, when counted. Counting stops once the
    /// multi-index is surely dearer than a flat scan of its own, so a crowded hash
    /// shows a number above that budget, not the cluster's full size.
    pub candidates: Option<usize>,
    /// The estimated multi-index cost in nanoseconds, when counted.
    pub multi_index_ns: Option<f64>,
}

/// The plan for a request's query hashes against a bank's base entries.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchPlan {
    /// One plan per query hash, in the request's order.
    pub queries: Vec<QueryPlan>,
    /// Estimated cost of the plan in nanoseconds (flat pass plus multi-index searches),
    /// when the buckets were counted or every hash goes flat.
    pub estimated_ns: Option<f64>,
    /// Estimated cost of one flat pass with every query hash, for comparison.
    pub all_flat_ns: f64,
}

impl SearchPlan {
    /// Query hashes (their indices) that take `path`.
    pub fn indices(&self, path: Path) -> Vec<usize> {
        self.queries
            .iter()
            .enumerate()
            .filter(|(_, q)| q.path == path)
            .map(|(i, _)| i)
            .collect()
    }

    fn uniform(count: usize, reason: Reason, all_flat_ns: f64) -> SearchPlan {
        SearchPlan {
            queries: vec![
                QueryPlan {
                    path: reason.path(),
                    reason,
                    candidates: None,
                    multi_index_ns: None,
                };
                count
            ],
            estimated_ns: (reason.path() == Path::Flat).then_some(all_flat_ns),
            all_flat_ns,
        }
    }
}

/// Counts of query hashes per reason since a bank was made (see [`crate::Bank::search_stats`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SearchStats {
    /// Counts in [`Reason::ALL`] order.
    pub by_reason: [u64; 7],
}

impl SearchStats {
    /// Query hashes that took a reason.
    pub fn count(&self, reason: Reason) -> u64 {
        self.by_reason[reason.index()]
    }

    /// Query hashes that took a path.
    pub fn queries(&self, path: Path) -> u64 {
        Reason::ALL
            .iter()
            .filter(|r| r.path() == path)
            .map(|r| self.count(*r))
            .sum()
    }
}

/// Lock-free counters behind [`SearchStats`]: searches take `&self` and run on many
/// threads, and a count that is a little stale is fine for explain output.
#[derive(Debug, Default)]
pub(crate) struct SearchCounters {
    by_reason: [std::sync::atomic::AtomicU64; 7],
}

impl SearchCounters {
    pub(crate) fn record(&self, plan: &SearchPlan) {
        for query in &plan.queries {
            self.by_reason[query.reason.index()].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }

    pub(crate) fn snapshot(&self) -> SearchStats {
        let mut stats = SearchStats::default();
        for (count, counter) in stats.by_reason.iter_mut().zip(&self.by_reason) {
            *count = counter.load(std::sync::atomic::Ordering::Relaxed);
        }
        stats
    }
}

/// Estimated costs, in nanoseconds on one core, of the two searches.
///
/// The constants were measured on the development machine with
/// `cargo bench -p guardrail-hashindex --bench chooser`, which prints them next to
/// the ones it measures (see BENCHMARKS.md,
/// "Matcher: multi-index or flat scan per query"); only their ratios matter, since the
/// plan compares one estimate with the other. Rerun it on a new CPU family and adjust.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CostModel {
    /// Per block of eight entries, whatever the number of query hashes: streaming two
    /// word planes (128 bytes) from memory, and the loop's own overhead.
    pub flat_block_ns: f64,
    /// Per block and query hash: the XOR-popcount lower bound of eight distances.
    pub flat_block_query_ns: f64,
    /// Per bucket probed: two offsets read from a 256 KiB table, often a cache miss.
    pub probe_ns: f64,
    /// Per candidate verified: its position read in sequence, then two words of its
    /// hash at a scattered place in the bank (a cache miss each once the bank outgrows
    /// the cache), and for a candidate that may match, the other two words, the full
    /// distance and the match recorded (near a cluster, most candidates).
    pub candidate_ns: f64,
}

/// Banks of at most this many bytes of hashes (32 per entry) are taken to stay in the
/// last-level cache between searches, where a candidate's words and the bucket offsets
/// cost fewer misses.
const CACHED_BANK_BYTES: usize = 8 << 20;

impl CostModel {
    /// The model for a kernel and a bank of `entries` base entries.
    ///
    /// Measured with `benches/chooser.rs` on an AMD EPYC with AVX2 (no AVX-512), shared
    /// and loaded, as the median thread CPU time (BENCHMARKS.md, matcher section):
    /// - flat, AVX2: 1.1–3.6 ns per block and 2.9–3.5 ns per block and query hash, on
    ///   banks of 200,000 and 1,000,000 entries. AVX-512 is taken from the 10,000,000-
    ///   entry figures in BENCHMARKS.md (7.5 ns per block for eight query hashes, at the
    ///   memory's pace): its lower bound is six instructions per query hash. The scalar
    ///   kernels were not measured: one `POPCNT` per word, or a bit-count loop, per lane.
    /// - multi-index, out of cache (1,000,000 entries): 3.5–7.6 ns per probe; per
    ///   candidate 18–73 ns far from every cluster (rejected by the lower bound: two cache
    ///   misses), 62–93 ns near a small cluster, 117–157 ns near a giant one (most match,
    ///   found once per close slot, then sorted). 60 ns is taken: the choice is close
    ///   only for hashes near mid-sized clusters, whose candidates are mostly near ones.
    ///   A giant cluster's hash is hundreds of times over the flat cost either way.
    /// - multi-index, in cache (200,000 entries): 2.4 ns per probe, 21–61 ns per
    ///   candidate; 40 ns is taken.
    pub fn calibrated(kernel: Kernel, entries: usize) -> CostModel {
        let (flat_block_ns, flat_block_query_ns) = match kernel {
            Kernel::Avx512 => (3.5, 0.5),
            Kernel::Avx2 => (1.5, 3.3),
            Kernel::Popcnt => (1.5, 4.0),
            Kernel::Portable => (1.5, 12.0),
        };
        let cached = entries.saturating_mul(32) <= CACHED_BANK_BYTES;
        CostModel {
            flat_block_ns,
            flat_block_query_ns,
            probe_ns: if cached { 2.5 } else { 5.0 },
            candidate_ns: if cached { 40.0 } else { 60.0 },
        }
    }

    /// Estimated cost of one flat pass over `entries` with `queries` query hashes.
    pub fn flat_ns(&self, entries: usize, queries: usize) -> f64 {
        if queries == 0 {
            return 0.0;
        }
        let blocks = entries.div_ceil(BLOCK) as f64;
        blocks * (self.flat_block_ns + self.flat_block_query_ns * queries as f64)
    }

    /// Estimated cost of one multi-index search that reads `probes` buckets holding
    /// `candidates` entries in all.
    pub fn multi_index_ns(&self, probes: usize, candidates: usize) -> f64 {
        probes as f64 * self.probe_ns + candidates as f64 * self.candidate_ns
    }
}

/// Plans the chooser's search of `queries` against a multi-index over `entries` base
/// entries at `threshold` (the caller has already ruled out the cases without a choice:
/// no index, a radius above 2, a forced strategy).
pub fn plan_choice(
    index: &MultiIndex,
    entries: usize,
    queries: &[[u64; 4]],
    threshold: u32,
    model: &CostModel,
) -> SearchPlan {
    plan_choice_probed(index, entries, queries, threshold, model).0
}

/// [`plan_choice`], with the probes it read for each query hash (none for a small
/// bank), so that the multi-index search does not read the bucket offsets again.
pub(crate) fn plan_choice_probed(
    index: &MultiIndex,
    entries: usize,
    queries: &[[u64; 4]],
    threshold: u32,
    model: &CostModel,
) -> (SearchPlan, Option<Vec<Probes>>) {
    let count = queries.len();
    let all_flat_ns = model.flat_ns(entries, count);
    let probes = MultiIndex::probes_per_query(threshold);
    let probe_ns = model.multi_index_ns(probes, 0);
    // If one flat pass over the batch costs no more than the probes alone would, flat
    // is the cheapest split whatever the buckets hold (the per-query flat cost is then
    // below the probe cost too), so nothing is counted.
    if all_flat_ns <= count as f64 * probe_ns {
        return (
            SearchPlan::uniform(count, Reason::SmallBank, all_flat_ns),
            None,
        );
    }
    // A hash whose multi-index cost exceeds a flat pass of its own goes flat in the best
    // split (moving it to the flat pass saves at least the difference), so counting
    // stops there.
    let alone_ns = model.flat_ns(entries, 1);
    let cap = ((alone_ns - probe_ns) / model.candidate_ns).max(0.0) as usize;
    let probed: Vec<Probes> = queries
        .iter()
        .map(|query| index.probe(query, threshold, cap))
        .collect();
    let estimates: Vec<(usize, f64)> = probed
        .iter()
        .map(|p| (p.candidates, model.multi_index_ns(probes, p.candidates)))
        .collect();
    // Dearest first; ties by index, so the plan is the same on every run.
    let mut order: Vec<usize> = (0..count).collect();
    order.sort_by(|&a, &b| estimates[b].1.total_cmp(&estimates[a].1).then(a.cmp(&b)));
    let mut remaining: f64 = estimates.iter().map(|e| e.1).sum();
    let (mut best_flat, mut best_ns) = (0, remaining);
    for (taken, &query) in order.iter().enumerate() {
        remaining -= estimates[query].1;
        let total = model.flat_ns(entries, taken + 1) + remaining;
        if total < best_ns {
            (best_flat, best_ns) = (taken + 1, total);
        }
    }
    let mut plans: Vec<QueryPlan> = estimates
        .iter()
        .map(|&(candidates, ns)| QueryPlan {
            path: Path::MultiIndex,
            reason: Reason::FewCandidates,
            candidates: Some(candidates),
            multi_index_ns: Some(ns),
        })
        .collect();
    for &query in &order[..best_flat] {
        plans[query].path = Path::Flat;
        plans[query].reason = Reason::CrowdedBuckets;
    }
    let plan = SearchPlan {
        queries: plans,
        estimated_ns: Some(best_ns),
        all_flat_ns,
    };
    (plan, Some(probed))
}

/// A plan where every query hash takes the same path for the same reason.
pub(crate) fn plan_uniform(
    count: usize,
    reason: Reason,
    entries: usize,
    model: &CostModel,
) -> SearchPlan {
    SearchPlan::uniform(count, reason, model.flat_ns(entries, count))
}
