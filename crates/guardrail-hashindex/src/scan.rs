//! The flat scan: every bank hash against every query hash, exactly.
//!
//! Hashes are stored as four word planes ("structure of arrays", blocks of 8), so that
//! one vector load holds the same 64-bit word of eight hashes and the XOR-popcount-add
//! of eight distances is a handful of vector instructions. The kernel is written once
//! as plain Rust and compiled three times under different target features (AVX-512 with
//! `VPOPCNTQ`, AVX2, POPCNT); the best one the CPU has is chosen at run time. All the
//! query hashes of a request (the eight dihedrals, or a batch) are tested in the same
//! pass over memory. The first two word planes give a lower bound of every distance;
//! only a block where that bound is within the threshold reads the other two planes
//! and takes the slow path that records exact matches.
//!
//! This is the oracle for the multi-index: it never approximates.

/// One raw match: bank position, index of the query hash, distance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct RawMatch {
    /// Position in the scanned planes.
    pub position: usize,
    /// Index into the query hashes.
    pub query: usize,
    /// Hamming distance.
    pub distance: u32,
}

/// Hashes are grouped in blocks of this many for the vector kernel.
pub const BLOCK: usize = 8;

/// Four word planes of equal length, a multiple of [`BLOCK`]; `count` entries are real,
/// the rest is padding.
#[derive(Debug, Clone, Copy)]
pub struct Planes<'a> {
    /// Word `w` of hash `i` is `words[w][i]`.
    pub words: [&'a [u64]; 4],
    /// Entries that are real (the rest of the planes is padding).
    pub count: usize,
}

impl Planes<'_> {
    /// The words of one entry.
    pub fn entry(&self, position: usize) -> [u64; 4] {
        [
            self.words[0][position],
            self.words[1][position],
            self.words[2][position],
            self.words[3][position],
        ]
    }
}

/// The distance between two hashes as words.
#[inline(always)]
pub fn distance(a: &[u64; 4], b: &[u64; 4]) -> u32 {
    (a[0] ^ b[0]).count_ones()
        + (a[1] ^ b[1]).count_ones()
        + (a[2] ^ b[2]).count_ones()
        + (a[3] ^ b[3]).count_ones()
}

#[inline(always)]
fn scan_kernel(
    planes: Planes,
    blocks: std::ops::Range<usize>,
    queries: &[[u64; 4]],
    threshold: u32,
    out: &mut Vec<RawMatch>,
) {
    for block in blocks {
        let base = block * BLOCK;
        let lanes = |w: usize| -> &[u64] { &planes.words[w][base..base + BLOCK] };
        let (w0, w1) = (lanes(0), lanes(1));
        // The distance over the first 128 bits is a lower bound of the full distance.
        // For unrelated hashes it is about 64, far above any useful threshold, so the
        // second half of the planes is read only for the rare block that might match:
        // exact, and half the memory traffic of a full pass.
        let mut any = false;
        for query in queries {
            let mut near = 0u32;
            for lane in 0..BLOCK {
                let d = (w0[lane] ^ query[0]).count_ones() + (w1[lane] ^ query[1]).count_ones();
                near |= u32::from(d <= threshold);
            }
            any |= near != 0;
        }
        if any {
            let (w2, w3) = (lanes(2), lanes(3));
            for lane in 0..BLOCK {
                let position = base + lane;
                if position >= planes.count {
                    break;
                }
                let entry = [w0[lane], w1[lane], w2[lane], w3[lane]];
                for (index, query) in queries.iter().enumerate() {
                    let d = distance(&entry, query);
                    if d <= threshold {
                        out.push(RawMatch {
                            position,
                            query: index,
                            distance: d,
                        });
                    }
                }
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vpopcntdq,popcnt")]
fn scan_avx512(
    planes: Planes,
    blocks: std::ops::Range<usize>,
    queries: &[[u64; 4]],
    threshold: u32,
    out: &mut Vec<RawMatch>,
) {
    scan_kernel(planes, blocks, queries, threshold, out);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,popcnt")]
fn scan_avx2(
    planes: Planes,
    blocks: std::ops::Range<usize>,
    queries: &[[u64; 4]],
    threshold: u32,
    out: &mut Vec<RawMatch>,
) {
    scan_kernel(planes, blocks, queries, threshold, out);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "popcnt")]
fn scan_popcnt(
    planes: Planes,
    blocks: std::ops::Range<usize>,
    queries: &[[u64; 4]],
    threshold: u32,
    out: &mut Vec<RawMatch>,
) {
    scan_kernel(planes, blocks, queries, threshold, out);
}

fn scan_portable(
    planes: Planes,
    blocks: std::ops::Range<usize>,
    queries: &[[u64; 4]],
    threshold: u32,
    out: &mut Vec<RawMatch>,
) {
    scan_kernel(planes, blocks, queries, threshold, out);
}

/// Which kernel this CPU runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    /// AVX-512 with vector popcount.
    Avx512,
    /// AVX2.
    Avx2,
    /// Scalar POPCNT.
    Popcnt,
    /// Portable Rust.
    Portable,
}

/// The best kernel the running CPU supports.
pub fn best_kernel() -> Kernel {
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512bw")
            && is_x86_feature_detected!("avx512vpopcntdq")
        {
            return Kernel::Avx512;
        }
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("popcnt") {
            return Kernel::Avx2;
        }
        if is_x86_feature_detected!("popcnt") {
            return Kernel::Popcnt;
        }
    }
    Kernel::Portable
}

/// Scans blocks `blocks` of `planes` with a kernel, appending matches to `out`.
pub fn scan_with(
    kernel: Kernel,
    planes: Planes,
    blocks: std::ops::Range<usize>,
    queries: &[[u64; 4]],
    threshold: u32,
    out: &mut Vec<RawMatch>,
) {
    let blocks = blocks.start..blocks.end.min(planes.words[0].len() / BLOCK);
    match kernel {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `best_kernel` returns these only when the CPU has the features.
        Kernel::Avx512 if is_x86_feature_detected!("avx512vpopcntdq") => unsafe {
            scan_avx512(planes, blocks, queries, threshold, out)
        },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above, checked at run time.
        Kernel::Avx2 if is_x86_feature_detected!("avx2") => unsafe {
            scan_avx2(planes, blocks, queries, threshold, out)
        },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above, checked at run time.
        Kernel::Popcnt if is_x86_feature_detected!("popcnt") => unsafe {
            scan_popcnt(planes, blocks, queries, threshold, out)
        },
        _ => scan_portable(planes, blocks, queries, threshold, out),
    }
}

/// Scans all of `planes` with the best kernel, splitting the work over threads in
/// shards of blocks. Matches come back sorted by position, then query.
pub fn scan(planes: Planes, queries: &[[u64; 4]], threshold: u32, threads: bool) -> Vec<RawMatch> {
    use rayon::prelude::*;
    const SHARD_BLOCKS: usize = 1 << 15;
    let kernel = best_kernel();
    let blocks = planes.words[0].len() / BLOCK;
    let mut matches: Vec<RawMatch> = if threads && blocks > SHARD_BLOCKS {
        (0..blocks.div_ceil(SHARD_BLOCKS))
            .into_par_iter()
            .flat_map_iter(|shard| {
                let mut out = Vec::new();
                let start = shard * SHARD_BLOCKS;
                scan_with(
                    kernel,
                    planes,
                    start..(start + SHARD_BLOCKS).min(blocks),
                    queries,
                    threshold,
                    &mut out,
                );
                out
            })
            .collect()
    } else {
        let mut out = Vec::new();
        scan_with(kernel, planes, 0..blocks, queries, threshold, &mut out);
        out
    };
    matches.sort_unstable();
    matches
}
