//! The flat scan: every bank hash against every query hash, exactly.
//!
//! Hashes are stored as four word planes ("structure of arrays", blocks of 8), so that
//! one vector load holds the same 64-bit word of eight hashes and the XOR-popcount-add
//! of eight distances is a handful of vector instructions. There are four kernels, and
//! the best one the CPU has is chosen at run time: AVX-512 with `VPOPCNTQ` and AVX2
//! (nibble-table popcount) written with intrinsics, and one plain-Rust kernel compiled
//! for `POPCNT` and for any CPU. (The plain kernel compiled for AVX-512 or AVX2 was
//! measured 3–5× slower than the intrinsics on 10 M hashes: the compiler vectorises it
//! across the query hashes and spills registers.) All the query hashes of a request
//! (the eight dihedrals, or a batch) are tested in the same pass over memory. The first
//! two word planes give a lower bound of every distance; only a block where that bound
//! is within the threshold reads the other two planes and takes the slow path that
//! records exact matches.
//!
//! This is the oracle for the multi-index: it never approximates. A unit test holds
//! every kernel to a brute-force loop on planted neighbours around the threshold.

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
            record_block(planes, base, queries, threshold, out);
        }
    }
}

/// Records the exact matches of one block that the lower bound could not rule out.
#[inline(always)]
fn record_block(
    planes: Planes,
    base: usize,
    queries: &[[u64; 4]],
    threshold: u32,
    out: &mut Vec<RawMatch>,
) {
    for position in base..(base + BLOCK).min(planes.count) {
        let entry = planes.entry(position);
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

/// The AVX-512 kernel, written with intrinsics: the generic kernel, compiled for
/// AVX-512, vectorises across the query hashes and spills to the stack. Here one
/// 512-bit register holds a plane word of the block's eight entries, each query's words
/// are broadcast once per call, and per query and block the lower bound costs two
/// XORs, two `VPOPCNTQ`, an add and a compare into a mask register.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vpopcntdq,popcnt")]
fn scan_avx512(
    planes: Planes,
    blocks: std::ops::Range<usize>,
    queries: &[[u64; 4]],
    threshold: u32,
    out: &mut Vec<RawMatch>,
) {
    use std::arch::x86_64::{
        __m512i, _mm512_add_epi64, _mm512_cmple_epu64_mask, _mm512_loadu_si512,
        _mm512_popcnt_epi64, _mm512_set1_epi64, _mm512_xor_si512,
    };
    let broadcast: Vec<(__m512i, __m512i)> = queries
        .iter()
        .map(|q| {
            (
                _mm512_set1_epi64(q[0] as i64),
                _mm512_set1_epi64(q[1] as i64),
            )
        })
        .collect();
    let limit = _mm512_set1_epi64(i64::from(threshold));
    let (plane0, plane1) = (planes.words[0], planes.words[1]);
    for block in blocks {
        let base = block * BLOCK;
        let (lanes0, lanes1) = (&plane0[base..base + BLOCK], &plane1[base..base + BLOCK]);
        // SAFETY: each slice holds exactly eight u64 (64 bytes), and the load is unaligned.
        let (w0, w1) = unsafe {
            (
                _mm512_loadu_si512(lanes0.as_ptr().cast()),
                _mm512_loadu_si512(lanes1.as_ptr().cast()),
            )
        };
        let mut near = 0u8;
        for &(q0, q1) in &broadcast {
            let bound = _mm512_add_epi64(
                _mm512_popcnt_epi64(_mm512_xor_si512(w0, q0)),
                _mm512_popcnt_epi64(_mm512_xor_si512(w1, q1)),
            );
            near |= _mm512_cmple_epu64_mask(bound, limit);
        }
        if near != 0 {
            record_block(planes, base, queries, threshold, out);
        }
    }
}

/// The AVX2 kernel, written with intrinsics (AVX2 has no vector popcount, and the
/// generic kernel compiled for AVX2 is slower than scalar `POPCNT`): a 256-bit register
/// holds a plane word of four entries; bytes are counted with a 16-entry nibble table
/// (`VPSHUFB`) and summed per entry with `VPSADBW`, for both words at once.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,popcnt")]
fn scan_avx2(
    planes: Planes,
    blocks: std::ops::Range<usize>,
    queries: &[[u64; 4]],
    threshold: u32,
    out: &mut Vec<RawMatch>,
) {
    use std::arch::x86_64::{
        __m256i, _mm256_add_epi8, _mm256_and_si256, _mm256_cmpgt_epi64, _mm256_loadu_si256,
        _mm256_movemask_epi8, _mm256_or_si256, _mm256_sad_epu8, _mm256_set1_epi8,
        _mm256_set1_epi64x, _mm256_setr_epi8, _mm256_setzero_si256, _mm256_shuffle_epi8,
        _mm256_srli_epi16, _mm256_xor_si256,
    };
    let table = _mm256_setr_epi8(
        0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3,
        3, 4,
    );
    let nibble = _mm256_set1_epi8(0x0f);
    let byte_counts = |v: __m256i| {
        _mm256_add_epi8(
            _mm256_shuffle_epi8(table, _mm256_and_si256(v, nibble)),
            _mm256_shuffle_epi8(table, _mm256_and_si256(_mm256_srli_epi16::<4>(v), nibble)),
        )
    };
    let broadcast: Vec<(__m256i, __m256i)> = queries
        .iter()
        .map(|q| {
            (
                _mm256_set1_epi64x(q[0] as i64),
                _mm256_set1_epi64x(q[1] as i64),
            )
        })
        .collect();
    // `bound <= threshold` as `threshold + 1 > bound` (AVX2 compares signed, bounds are small).
    let above = _mm256_set1_epi64x(i64::from(threshold) + 1);
    let zero = _mm256_setzero_si256();
    let (plane0, plane1) = (planes.words[0], planes.words[1]);
    for block in blocks {
        let base = block * BLOCK;
        let (lanes0, lanes1) = (&plane0[base..base + BLOCK], &plane1[base..base + BLOCK]);
        // SAFETY: each slice holds eight u64; the loads read its first and second four.
        let (w0, w1, w2, w3) = unsafe {
            (
                _mm256_loadu_si256(lanes0.as_ptr().cast()),
                _mm256_loadu_si256(lanes0[4..].as_ptr().cast()),
                _mm256_loadu_si256(lanes1.as_ptr().cast()),
                _mm256_loadu_si256(lanes1[4..].as_ptr().cast()),
            )
        };
        let mut near = zero;
        for &(q0, q1) in &broadcast {
            // Per-byte counts of both words add up to at most 16, so a byte holds them.
            let low = _mm256_add_epi8(
                byte_counts(_mm256_xor_si256(w0, q0)),
                byte_counts(_mm256_xor_si256(w2, q1)),
            );
            let high = _mm256_add_epi8(
                byte_counts(_mm256_xor_si256(w1, q0)),
                byte_counts(_mm256_xor_si256(w3, q1)),
            );
            near = _mm256_or_si256(
                near,
                _mm256_or_si256(
                    _mm256_cmpgt_epi64(above, _mm256_sad_epu8(low, zero)),
                    _mm256_cmpgt_epi64(above, _mm256_sad_epu8(high, zero)),
                ),
            );
        }
        if _mm256_movemask_epi8(near) != 0 {
            record_block(planes, base, queries, threshold, out);
        }
    }
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

/// The best kernel the running CPU supports (AVX-512 with `VPOPCNTQ`, else AVX2, else
/// scalar `POPCNT`, else portable Rust).
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

#[cfg(test)]
mod tests {
    use super::*;

    fn splitmix(mut x: u64) -> u64 {
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^ (x >> 31)
    }

    /// Flips the lowest `count` bits of each word in turn, spreading them over the words.
    fn flip(mut words: [u64; 4], count: usize) -> [u64; 4] {
        for k in 0..count {
            words[k % 4] ^= 1 << (k / 4);
        }
        words
    }

    #[test]
    fn every_kernel_finds_exactly_what_brute_force_finds() {
        // 1,003 entries (a partial last block), queries planted at distances 0..=40 of
        // entries, flips placed in the first two words only, the last two only, or both.
        let count = 1_003;
        let mut entries: Vec<[u64; 4]> = (0..count as u64)
            .map(|i| {
                [
                    splitmix(4 * i),
                    splitmix(4 * i + 1),
                    splitmix(4 * i + 2),
                    splitmix(4 * i + 3),
                ]
            })
            .collect();
        let queries: Vec<[u64; 4]> = (0..41)
            .map(|d| {
                let base = entries[(d * 24) % count];
                let mut near = flip(base, d);
                if d % 3 == 1 {
                    // All flips in words 2 and 3: the lower bound sees none of them.
                    near = base;
                    for k in 0..d {
                        near[2 + k % 2] ^= 1 << (k / 2);
                    }
                }
                near
            })
            .collect();
        // An entry that equals a query exactly, in the partial last block.
        entries[count - 1] = queries[31];
        let plane_len = count.div_ceil(BLOCK) * BLOCK;
        let planes: Vec<Vec<u64>> = (0..4)
            .map(|w| {
                (0..plane_len)
                    .map(|i| entries.get(i).map_or(u64::MAX, |e| e[w]))
                    .collect()
            })
            .collect();
        let planes = Planes {
            words: [&planes[0], &planes[1], &planes[2], &planes[3]],
            count,
        };
        for threshold in [0, 7, 31, 32, 40] {
            let mut expected = Vec::new();
            for (position, entry) in entries.iter().enumerate() {
                for (query, words) in queries.iter().enumerate() {
                    let d = distance(entry, words);
                    if d <= threshold {
                        expected.push(RawMatch {
                            position,
                            query,
                            distance: d,
                        });
                    }
                }
            }
            expected.sort_unstable();
            for kernel in [
                Kernel::Avx512,
                Kernel::Avx2,
                Kernel::Popcnt,
                Kernel::Portable,
            ] {
                let mut found = Vec::new();
                scan_with(
                    kernel,
                    planes,
                    0..plane_len / BLOCK,
                    &queries,
                    threshold,
                    &mut found,
                );
                found.sort_unstable();
                assert_eq!(found, expected, "{kernel:?} at threshold {threshold}");
            }
            assert!(
                expected.len() > threshold as usize / 2,
                "planted matches are found"
            );
        }
    }
}
