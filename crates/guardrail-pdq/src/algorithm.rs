//! The PDQ algorithm on a luma buffer, step by step as Meta's reference C++ does it, so
//! that hashes are bit-exact: f32 arithmetic in source order (no fused multiply-add),
//! the Jarosz tent filter as two passes of running box sums, decimation to 64×64 at cell
//! centres, the quality metric with per-gradient truncation, a 16×16 DCT from a matrix
//! built with the reference's exact formula, and thresholds at the lower median.
//!
//! Every function here is pure and allocation-bounded by the image size.
//!
//! Speed comes only from running *independent* lines side by side: 16 rows at a time
//! as vector lanes for the row pass (a strip transposed in cache), all columns at once
//! for the column pass, all outputs of a DCT row at once. This code must never reorder
//! the operations within one line, use `mul_add`, or replace a division by a
//! multiplication with the reciprocal: any of these moves ties and changes bits on flat
//! images. The hot loops are compiled for AVX2 (chosen at run time) and portably; the
//! property tests below hold both to a line-by-line port of the reference.

use crate::hash::PdqHash;

/// Images smaller than this on either side have no meaningful hash (all zeros, quality 0).
pub const MIN_HASHABLE_DIMENSION: usize = 5;

const LUMA_FROM_RED: f32 = 0.299;
const LUMA_FROM_GREEN: f32 = 0.587;
const LUMA_FROM_BLUE: f32 = 0.114;

/// Luma of interleaved 8-bit RGB, as the reference computes it.
pub(crate) fn luma_from_rgb(rgb: &[u8], out: &mut Vec<f32>) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has just been checked to support AVX2.
        unsafe { luma_from_rgb_avx2(rgb, out) };
        return;
    }
    luma_from_rgb_portable(rgb, out);
}

/// [`luma_from_rgb`] compiled for AVX2: wider lanes, the same operations in the same
/// order (Rust never fuses a multiply and an add on its own), so the same bits.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn luma_from_rgb_avx2(rgb: &[u8], out: &mut Vec<f32>) {
    luma_from_rgb_portable(rgb, out);
}

#[inline(always)]
fn luma_from_rgb_portable(rgb: &[u8], out: &mut Vec<f32>) {
    let pixels = rgb.len() / 3;
    out.resize(pixels, 0.0);
    for (target, pixel) in out.iter_mut().zip(rgb.chunks_exact(3)) {
        *target = LUMA_FROM_RED * f32::from(pixel[0])
            + LUMA_FROM_GREEN * f32::from(pixel[1])
            + LUMA_FROM_BLUE * f32::from(pixel[2]);
    }
}

/// Buffers the filter reuses from one image to the next. Large images would otherwise
/// cost more in fresh pages from the kernel than in arithmetic.
#[derive(Debug, Default, Clone)]
pub struct Scratch {
    pub(crate) luma: Vec<f32>,
    rows_boxed: Vec<f32>,
    lanes_in: Vec<[f32; LANES]>,
    lanes_out: Vec<[f32; LANES]>,
    dct: Option<Box<[[f32; 64]; 16]>>,
}

impl Scratch {
    /// The DCT matrix, built on first use (a thousand cosines per image otherwise).
    fn dct(&mut self) -> &[[f32; 64]; 16] {
        self.dct.get_or_insert_with(|| Box::new(dct_matrix()))
    }
}

/// The Jarosz window for one axis: ceil(dimension / 128).
fn jarosz_window(dimension: usize) -> usize {
    dimension.div_ceil(2 * 64)
}

/// Running box sums down every column of a `rows × columns` row-major buffer at once.
///
/// For each column this is exactly the reference's `box1DFloat` (growing window, full
/// window, shrinking window; each output the f32 sum divided by the number of samples
/// in it, with additions and subtractions in the same order), but it walks the rows
/// with all columns side by side, so the work is sequential in memory and vectorises.
/// Columns never interact, so every column's result is bit-identical to the scalar
/// reference.
#[inline(always)]
fn box_columns(input: Strided, output: StridedMut, rows: usize, columns: usize, window: usize) {
    let (input, input_stride) = input;
    let (output, output_stride) = output;
    let half = (window + 2) / 2;
    let phase_one = half - 1;
    let phase_two = window - half + 1;
    let phase_three = rows.saturating_sub(window);
    let phase_four = half - 1;
    let mut sums = vec![0.0f32; columns];
    let mut count = 0usize;
    let row = |index: usize| &input[index * input_stride..index * input_stride + columns];
    let (mut left, mut right, mut out) = (0usize, 0usize, 0usize);
    for _ in 0..phase_one {
        for (sum, &value) in sums.iter_mut().zip(row(right)) {
            *sum += value;
        }
        count += 1;
        right += 1;
    }
    let write = |output: &mut [f32], out: usize, sums: &[f32], count: usize| {
        let divisor = count as f32;
        let start = out * output_stride;
        for (target, &sum) in output[start..start + columns].iter_mut().zip(sums) {
            *target = sum / divisor;
        }
    };
    for _ in 0..phase_two {
        for (sum, &value) in sums.iter_mut().zip(row(right)) {
            *sum += value;
        }
        count += 1;
        write(output, out, &sums, count);
        right += 1;
        out += 1;
    }
    for _ in 0..phase_three {
        for ((sum, &added), &removed) in sums.iter_mut().zip(row(right)).zip(row(left)) {
            *sum += added;
            *sum -= removed;
        }
        write(output, out, &sums, count);
        left += 1;
        right += 1;
        out += 1;
    }
    for _ in 0..phase_four {
        for (sum, &removed) in sums.iter_mut().zip(row(left)) {
            *sum -= removed;
        }
        count -= 1;
        write(output, out, &sums, count);
        left += 1;
        out += 1;
    }
}

/// A buffer and its row stride (in elements).
type Strided<'a> = (&'a [f32], usize);
/// A mutable buffer and its row stride (in elements).
type StridedMut<'a> = (&'a mut [f32], usize);

/// Transposes `rows × columns` into `columns × rows`: 8×8 blocks through registers,
/// so each block costs eight row reads and eight row writes, with a scalar edge.
/// `AVX2` selects the shuffle-network block transpose; it is only instantiated as
/// `true` below [`jarosz_filter_avx2`], which runs after AVX2 has been detected.
#[inline(always)]
fn transpose<const AVX2: bool>(input: Strided, output: StridedMut, rows: usize, columns: usize) {
    const BLOCK: usize = 8;
    let (input, input_stride) = input;
    let (output, output_stride) = output;
    let full_rows = rows - rows % BLOCK;
    let full_columns = columns - columns % BLOCK;
    for row_start in (0..full_rows).step_by(BLOCK) {
        for column_start in (0..full_columns).step_by(BLOCK) {
            let mut block = [[0.0f32; BLOCK]; BLOCK];
            for (offset, line) in block.iter_mut().enumerate() {
                let start = (row_start + offset) * input_stride + column_start;
                line.copy_from_slice(&input[start..start + BLOCK]);
            }
            let transposed = if AVX2 {
                transpose_block_fast(&block)
            } else {
                transpose_block(&block)
            };
            for (offset, line) in transposed.iter().enumerate() {
                let start = (column_start + offset) * output_stride + row_start;
                output[start..start + BLOCK].copy_from_slice(line);
            }
        }
    }
    // Edges: the last rows and columns that do not fill a block.
    for row in 0..rows {
        let first_column = if row < full_rows { full_columns } else { 0 };
        for column in first_column..columns {
            output[column * output_stride + row] = input[row * input_stride + column];
        }
    }
}

/// An 8×8 block transposed element by element.
#[inline(always)]
fn transpose_block(block: &[[f32; 8]; 8]) -> [[f32; 8]; 8] {
    std::array::from_fn(|i| std::array::from_fn(|j| block[j][i]))
}

/// An 8×8 block transposed with AVX shuffles where the CPU has them.
#[inline(always)]
fn transpose_block_fast(block: &[[f32; 8]; 8]) -> [[f32; 8]; 8] {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: only reached through `transpose::<true>`, which only runs inside
        // `jarosz_filter_avx2`, which is only called after AVX2 was detected.
        unsafe { transpose_block_avx2(block) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    transpose_block(block)
}

/// The classic unpack / shuffle / lane-permute network for an 8×8 f32 transpose.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn transpose_block_avx2(block: &[[f32; 8]; 8]) -> [[f32; 8]; 8] {
    use std::arch::x86_64::{
        __m256, _mm256_permute2f128_ps, _mm256_shuffle_ps, _mm256_unpackhi_ps, _mm256_unpacklo_ps,
    };
    // SAFETY: `[f32; 8]` and `__m256` have the same size, and every bit pattern is
    // valid for both.
    let rows: [__m256; 8] =
        block.map(|row| unsafe { std::mem::transmute::<[f32; 8], __m256>(row) });
    let t0 = _mm256_unpacklo_ps(rows[0], rows[1]);
    let t1 = _mm256_unpackhi_ps(rows[0], rows[1]);
    let t2 = _mm256_unpacklo_ps(rows[2], rows[3]);
    let t3 = _mm256_unpackhi_ps(rows[2], rows[3]);
    let t4 = _mm256_unpacklo_ps(rows[4], rows[5]);
    let t5 = _mm256_unpackhi_ps(rows[4], rows[5]);
    let t6 = _mm256_unpacklo_ps(rows[6], rows[7]);
    let t7 = _mm256_unpackhi_ps(rows[6], rows[7]);
    let u0 = _mm256_shuffle_ps::<0x44>(t0, t2);
    let u1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
    let u2 = _mm256_shuffle_ps::<0x44>(t1, t3);
    let u3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
    let u4 = _mm256_shuffle_ps::<0x44>(t4, t6);
    let u5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
    let u6 = _mm256_shuffle_ps::<0x44>(t5, t7);
    let u7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
    let columns = [
        _mm256_permute2f128_ps::<0x20>(u0, u4),
        _mm256_permute2f128_ps::<0x20>(u1, u5),
        _mm256_permute2f128_ps::<0x20>(u2, u6),
        _mm256_permute2f128_ps::<0x20>(u3, u7),
        _mm256_permute2f128_ps::<0x31>(u0, u4),
        _mm256_permute2f128_ps::<0x31>(u1, u5),
        _mm256_permute2f128_ps::<0x31>(u2, u6),
        _mm256_permute2f128_ps::<0x31>(u3, u7),
    ];
    // SAFETY: as above.
    columns.map(|column| unsafe { std::mem::transmute::<__m256, [f32; 8]>(column) })
}

/// Two passes of (box along rows, box along columns), in place in `buffer`, with the
/// widest vector instructions the CPU has (checked at run time).
fn jarosz_filter(buffer: &mut [f32], rows: usize, columns: usize, scratch: &mut Scratch) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has just been checked to support AVX2.
        unsafe { jarosz_filter_avx2(buffer, rows, columns, scratch) };
        return;
    }
    jarosz_filter_portable::<false>(buffer, rows, columns, scratch);
}

/// [`jarosz_filter_portable`] compiled for AVX2. Each lane is one row or column, lanes
/// never interact, and each runs the reference's operations in order, so the bits are
/// the same as the portable build's (the property tests compare both to the reference).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn jarosz_filter_avx2(buffer: &mut [f32], rows: usize, columns: usize, scratch: &mut Scratch) {
    jarosz_filter_portable::<true>(buffer, rows, columns, scratch);
}

/// Two passes of (box along rows, box along columns), in place in `buffer`.
#[inline(always)]
fn jarosz_filter_portable<const AVX2: bool>(
    buffer: &mut [f32],
    rows: usize,
    columns: usize,
    scratch: &mut Scratch,
) {
    let window_along_rows = jarosz_window(columns);
    let window_along_columns = jarosz_window(rows);
    let size = rows * columns;
    if scratch.rows_boxed.len() < size {
        scratch.rows_boxed.resize(size, 0.0);
    }
    let rows_boxed = &mut scratch.rows_boxed[..size];
    for _ in 0..2 {
        box_rows::<AVX2>(
            buffer,
            rows_boxed,
            rows,
            columns,
            window_along_rows,
            (&mut scratch.lanes_in, &mut scratch.lanes_out),
        );
        box_columns(
            (rows_boxed, columns),
            (buffer, columns),
            rows,
            columns,
            window_along_columns,
        );
    }
}

/// Rows boxed side by side: a running sum along a row is a sequential chain, so
/// [`LANES`] rows at a time are turned into lanes (a strip transposed in cache), boxed
/// together, and turned back.
#[inline(always)]
fn box_rows<const AVX2: bool>(
    input: &[f32],
    output: &mut [f32],
    rows: usize,
    columns: usize,
    window: usize,
    (lanes_in, lanes_out): (&mut Vec<[f32; LANES]>, &mut Vec<[f32; LANES]>),
) {
    lanes_in.resize(columns, [0.0; LANES]);
    lanes_out.resize(columns, [0.0; LANES]);
    for strip_start in (0..rows).step_by(LANES) {
        // The last strip may have fewer rows; its spare lanes carry stale values that
        // never mix with the others.
        let strip_rows = (rows - strip_start).min(LANES);
        let offset = strip_start * columns;
        transpose::<AVX2>(
            (&input[offset..], columns),
            (lanes_in.as_flattened_mut(), LANES),
            strip_rows,
            columns,
        );
        box_lanes(lanes_in, lanes_out, window);
        transpose::<AVX2>(
            (lanes_out.as_flattened(), LANES),
            (&mut output[offset..], columns),
            columns,
            strip_rows,
        );
    }
}

/// Rows handled side by side by [`box_rows`]. Sixteen is two AVX2 registers: two
/// independent add-subtract-divide chains hide each other's latency (measured: 8 lanes
/// are latency-bound, 32 spill registers).
const LANES: usize = 16;

/// The reference's `box1DFloat` on [`LANES`] independent lines at once (one per lane),
/// each with exactly the reference's sequence of additions, subtractions and divisions.
#[inline(always)]
fn box_lanes(input: &[[f32; LANES]], output: &mut [[f32; LANES]], window: usize) {
    let length = input.len().min(output.len());
    let half = (window + 2) / 2;
    let mut sums = [0.0f32; LANES];
    let mut count = 0usize;
    let (mut left, mut right, mut out) = (0usize, 0usize, 0usize);
    let add = |sums: &mut [f32; LANES], values: &[f32; LANES]| {
        for (sum, value) in sums.iter_mut().zip(values) {
            *sum += value;
        }
    };
    let subtract = |sums: &mut [f32; LANES], values: &[f32; LANES]| {
        for (sum, value) in sums.iter_mut().zip(values) {
            *sum -= value;
        }
    };
    let divide = |sums: &[f32; LANES], count: usize| {
        let divisor = count as f32;
        sums.map(|sum| sum / divisor)
    };
    for _ in 0..half - 1 {
        add(&mut sums, &input[right]);
        right += 1;
        count += 1;
    }
    for _ in 0..window - half + 1 {
        add(&mut sums, &input[right]);
        right += 1;
        count += 1;
        output[out] = divide(&sums, count);
        out += 1;
    }
    for _ in 0..length.saturating_sub(window) {
        add(&mut sums, &input[right]);
        subtract(&mut sums, &input[left]);
        right += 1;
        left += 1;
        output[out] = divide(&sums, count);
        out += 1;
    }
    for _ in 0..half - 1 {
        subtract(&mut sums, &input[left]);
        left += 1;
        count -= 1;
        output[out] = divide(&sums, count);
        out += 1;
    }
}

/// Samples the filtered image at the centres of a 64×64 grid of cells.
fn decimate(buffer: &[f32], rows: usize, columns: usize) -> [[f32; 64]; 64] {
    let mut out = [[0.0f32; 64]; 64];
    for (i, out_row) in out.iter_mut().enumerate() {
        let source_row = (((i as f64 + 0.5) * rows as f64) / 64.0) as usize;
        for (j, cell) in out_row.iter_mut().enumerate() {
            let source_column = (((j as f64 + 0.5) * columns as f64) / 64.0) as usize;
            *cell = buffer[source_row * columns + source_column];
        }
    }
    out
}

/// The reference quality metric: the sum of truncated, scaled neighbour differences.
fn quality(buffer: &[[f32; 64]; 64]) -> u32 {
    let step =
        |u: f32, v: f32| -> i64 { ((((u - v) * 100.0) / 255.0) as i32).unsigned_abs() as i64 };
    let mut gradient_sum: i64 = 0;
    for pair in buffer.windows(2) {
        for (&upper, &lower) in pair[0].iter().zip(pair[1].iter()) {
            gradient_sum += step(upper, lower);
        }
    }
    for row in buffer.iter() {
        for pair in row.windows(2) {
            gradient_sum += step(pair[0], pair[1]);
        }
    }
    (gradient_sum / 90).min(100) as u32
}

/// The DCT basis rows 1..=16 (the DC row is skipped), built exactly as the reference does.
fn dct_matrix() -> [[f32; 64]; 16] {
    let scale = (2.0f64 / 64.0).sqrt() as f32;
    let mut matrix = [[0.0f32; 64]; 16];
    for (i, row) in matrix.iter_mut().enumerate() {
        for (j, value) in row.iter_mut().enumerate() {
            let angle = std::f64::consts::PI / 2.0 / 64.0 * (i + 1) as f64 * (2 * j + 1) as f64;
            *value = (f64::from(scale) * angle.cos()) as f32;
        }
    }
    matrix
}

/// `D · A · Dᵀ`, each output summed in f32 in index order from 0.0 like the reference,
/// but with the loops ordered so that the inner loop runs across independent outputs
/// (it vectorises instead of waiting on one running sum).
fn dct_64_to_16(dct: &[[f32; 64]; 16], input: &[[f32; 64]; 64]) -> [[f32; 16]; 16] {
    // T = D · A: T[i][j] = Σ_k D[i][k] · A[k][j], k ascending.
    let mut temporary = [[0.0f32; 64]; 16];
    for (row, weights) in temporary.iter_mut().zip(dct) {
        for (&weight, input_row) in weights.iter().zip(input) {
            for (sum, &value) in row.iter_mut().zip(input_row) {
                *sum += weight * value;
            }
        }
    }
    // B = T · Dᵀ: B[i][j] = Σ_k T[i][k] · D[j][k], k ascending.
    let transposed: [[f32; 16]; 64] = std::array::from_fn(|k| std::array::from_fn(|j| dct[j][k]));
    let mut output = [[0.0f32; 16]; 16];
    for (row, temporary_row) in output.iter_mut().zip(&temporary) {
        for (&weight, basis) in temporary_row.iter().zip(&transposed) {
            for (sum, &value) in row.iter_mut().zip(basis) {
                *sum += weight * value;
            }
        }
    }
    output
}

/// Bit `i*16 + j` is set iff the coefficient is strictly greater than the lower median
/// (the 128th smallest of 256, which is what the reference's Torben selection returns).
fn threshold(coefficients: &[[f32; 16]; 16]) -> PdqHash {
    let mut sorted: Vec<f32> = coefficients.iter().flatten().copied().collect();
    sorted.sort_by(f32::total_cmp);
    let median = sorted[127];
    let mut bits = [false; 256];
    for (i, row) in coefficients.iter().enumerate() {
        for (j, &value) in row.iter().enumerate() {
            bits[i * 16 + j] = value > median;
        }
    }
    PdqHash::from_reference_bits(&bits)
}

/// The 16×16 DCT of a luma image, and its quality.
pub(crate) struct Spectrum {
    pub coefficients: [[f32; 16]; 16],
    pub quality: u32,
}

/// Filters, decimates and transforms `luma` (row-major, `rows × columns`). The buffer
/// is filtered in place. `shortcut_64` reproduces the reference's single-hash path,
/// which copies a 64×64 input instead of filtering it.
pub(crate) fn spectrum(
    luma: &mut [f32],
    rows: usize,
    columns: usize,
    shortcut_64: bool,
    scratch: &mut Scratch,
) -> Spectrum {
    let decimated = if shortcut_64 && rows == 64 && columns == 64 {
        let mut out = [[0.0f32; 64]; 64];
        for (i, row) in out.iter_mut().enumerate() {
            row.copy_from_slice(&luma[i * 64..(i + 1) * 64]);
        }
        out
    } else {
        jarosz_filter(luma, rows, columns, scratch);
        decimate(luma, rows, columns)
    };
    let quality = quality(&decimated);
    let coefficients = dct_64_to_16(scratch.dct(), &decimated);
    Spectrum {
        coefficients,
        quality,
    }
}

/// The hash of a spectrum.
pub(crate) fn hash_of(spectrum: &Spectrum) -> PdqHash {
    threshold(&spectrum.coefficients)
}

/// The eight dihedral hashes, derived from the DCT without re-hashing, in the reference
/// order: original, rot90, rot180, rot270, flipX, flipY, flipPlus1, flipMinus1.
pub(crate) fn dihedral_hashes(spectrum: &Spectrum) -> [PdqHash; 8] {
    let a = &spectrum.coefficients;
    let sign = |negative: bool| if negative { -1.0f32 } else { 1.0f32 };
    type Place<'a> = &'a dyn Fn(usize, usize, &mut [[f32; 16]; 16]);
    let transform = |f: Place| {
        let mut b = [[0.0f32; 16]; 16];
        for i in 0..16 {
            for j in 0..16 {
                f(i, j, &mut b);
            }
        }
        threshold(&b)
    };
    [
        threshold(a),
        transform(&|i, j, b| b[j][i] = sign(j % 2 == 0) * a[i][j]),
        transform(&|i, j, b| b[i][j] = sign((i + j) % 2 == 1) * a[i][j]),
        transform(&|i, j, b| b[j][i] = sign(i % 2 == 0) * a[i][j]),
        transform(&|i, j, b| b[i][j] = sign(i % 2 == 0) * a[i][j]),
        transform(&|i, j, b| b[i][j] = sign(j % 2 == 0) * a[i][j]),
        transform(&|i, j, b| b[j][i] = a[i][j]),
        transform(&|i, j, b| b[j][i] = sign((i + j) % 2 == 1) * a[i][j]),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The reference's `box1DFloat`, one row or column at a time with a stride: the
    /// straightforward form the vectorised filter must equal bit for bit.
    fn box_one_line(
        input: &[f32],
        output: &mut [f32],
        length: usize,
        stride: usize,
        window: usize,
    ) {
        let half = (window + 2) / 2;
        let (mut left, mut right, mut out, mut count) = (0, 0, 0, 0usize);
        let mut sum = 0.0f32;
        for _ in 0..half - 1 {
            sum += input[right * stride];
            right += 1;
            count += 1;
        }
        for _ in 0..window - half + 1 {
            sum += input[right * stride];
            right += 1;
            count += 1;
            output[out * stride] = sum / count as f32;
            out += 1;
        }
        for _ in 0..length - window {
            sum += input[right * stride];
            sum -= input[left * stride];
            right += 1;
            left += 1;
            output[out * stride] = sum / count as f32;
            out += 1;
        }
        for _ in 0..half - 1 {
            sum -= input[left * stride];
            left += 1;
            count -= 1;
            output[out * stride] = sum / count as f32;
            out += 1;
        }
    }

    /// The reference's `jaroszFilterFloat`: two rounds of rows then columns.
    fn reference_jarosz(buffer: &mut [f32], rows: usize, columns: usize) {
        let mut other = vec![0.0f32; buffer.len()];
        for _ in 0..2 {
            for row in 0..rows {
                let range = row * columns..(row + 1) * columns;
                box_one_line(
                    &buffer[range.clone()],
                    &mut other[range],
                    columns,
                    1,
                    jarosz_window(columns),
                );
            }
            for column in 0..columns {
                box_one_line(
                    &other[column..],
                    &mut buffer[column..],
                    rows,
                    columns,
                    jarosz_window(rows),
                );
            }
        }
    }

    /// The reference's Torben selection, stated as what it returns: the element `m` with
    /// fewer than 128 values below it and at least 128 at or below it.
    fn lower_median_by_counting(values: &[f32]) -> f32 {
        values
            .iter()
            .copied()
            .find(|&m| {
                let below = values.iter().filter(|&&v| v < m).count();
                let at_or_below = values.iter().filter(|&&v| v <= m).count();
                below < 128 && at_or_below >= 128
            })
            .unwrap_or(f32::NAN)
    }

    /// `D · A · Dᵀ` with the reference's loop order.
    #[allow(clippy::needless_range_loop)] // Index loops mirror the reference's sum order.
    fn dct_reference(dct: &[[f32; 64]; 16], input: &[[f32; 64]; 64]) -> [[f32; 16]; 16] {
        let mut temporary = [[0.0f32; 64]; 16];
        for i in 0..16 {
            for j in 0..64 {
                let mut sum = 0.0f32;
                for k in 0..64 {
                    sum += dct[i][k] * input[k][j];
                }
                temporary[i][j] = sum;
            }
        }
        let mut output = [[0.0f32; 16]; 16];
        for i in 0..16 {
            for j in 0..16 {
                let mut sum = 0.0f32;
                for k in 0..64 {
                    sum += temporary[i][k] * dct[j][k];
                }
                output[i][j] = sum;
            }
        }
        output
    }

    fn image(max_side: usize) -> impl Strategy<Value = (usize, usize, Vec<f32>)> {
        (1..max_side, 1..max_side).prop_flat_map(|(rows, columns)| {
            // Few distinct levels as well as many: ties are where summation order shows.
            prop_oneof![
                proptest::collection::vec((0u8..=255).prop_map(f32::from), rows * columns),
                proptest::collection::vec(
                    (0u8..3).prop_map(|v| f32::from(v) * 100.0),
                    rows * columns
                ),
            ]
            .prop_map(move |values| (rows, columns, values))
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn vectorised_filter_equals_the_reference_filter((rows, columns, values) in image(420)) {
            let mut reference = values.clone();
            reference_jarosz(&mut reference, rows, columns);
            let mut dispatched = values.clone();
            jarosz_filter(&mut dispatched, rows, columns, &mut Scratch::default());
            let mut portable = values;
            jarosz_filter_portable::<false>(&mut portable, rows, columns, &mut Scratch::default());
            for (name, ours) in [("dispatched", dispatched), ("portable", portable)] {
                let differing = ours
                    .iter()
                    .zip(&reference)
                    .filter(|(a, b)| a.to_bits() != b.to_bits())
                    .count();
                prop_assert_eq!(differing, 0, "{} {}x{}: {} values differ", name, rows, columns, differing);
            }
        }

        #[test]
        fn luma_is_the_reference_formula(rgb in proptest::collection::vec(any::<u8>(), 0..3000)) {
            let (mut dispatched, mut portable) = (Vec::new(), Vec::new());
            luma_from_rgb(&rgb, &mut dispatched);
            luma_from_rgb_portable(&rgb, &mut portable);
            let plain: Vec<f32> = rgb
                .chunks_exact(3)
                .map(|p| 0.299f32 * f32::from(p[0]) + 0.587f32 * f32::from(p[1]) + 0.114f32 * f32::from(p[2]))
                .collect();
            prop_assert_eq!(dispatched.len(), plain.len());
            prop_assert!(dispatched.iter().zip(&plain).all(|(a, b)| a.to_bits() == b.to_bits()));
            prop_assert!(portable.iter().zip(&plain).all(|(a, b)| a.to_bits() == b.to_bits()));
        }

        #[test]
        fn reordered_dct_equals_the_reference_order(values in proptest::collection::vec(0u8..=255, 64 * 64)) {
            let input: [[f32; 64]; 64] =
                std::array::from_fn(|i| std::array::from_fn(|j| f32::from(values[i * 64 + j]) / 3.0));
            let matrix = dct_matrix();
            let ours = dct_64_to_16(&matrix, &input);
            let reference = dct_reference(&matrix, &input);
            prop_assert!(ours.as_flattened().iter().zip(reference.as_flattened()).all(|(a, b)| a.to_bits() == b.to_bits()));
        }

        #[test]
        fn threshold_uses_the_lower_median(levels in proptest::collection::vec(0u8..8, 256)) {
            let mut coefficients = [[0.0f32; 16]; 16];
            for (k, level) in levels.iter().enumerate() {
                coefficients[k / 16][k % 16] = f32::from(*level) - 3.5;
            }
            let median = lower_median_by_counting(coefficients.as_flattened());
            let hash = threshold(&coefficients);
            for k in 0..256 {
                prop_assert_eq!(hash.reference_bit(k), coefficients[k / 16][k % 16] > median);
            }
        }

        #[test]
        fn a_reused_scratch_gives_the_same_result((rows, columns, values) in image(200)) {
            let mut scratch = Scratch::default();
            let mut big = vec![7.0f32; 300 * 300];
            jarosz_filter(&mut big, 300, 300, &mut scratch);
            let mut reused = values.clone();
            jarosz_filter(&mut reused, rows, columns, &mut scratch);
            let mut fresh = values;
            jarosz_filter(&mut fresh, rows, columns, &mut Scratch::default());
            prop_assert!(reused.iter().zip(&fresh).all(|(a, b)| a.to_bits() == b.to_bits()));
        }
    }

    #[test]
    fn block_transposes_agree() {
        let block: [[f32; 8]; 8] =
            std::array::from_fn(|i| std::array::from_fn(|j| (i * 8 + j) as f32));
        let scalar = transpose_block(&block);
        assert_eq!(scalar[2][5], block[5][2]);
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has just been checked to support AVX2.
            assert_eq!(unsafe { transpose_block_avx2(&block) }, scalar);
        }
    }

    #[test]
    fn dct_rows_skip_the_constant_row() {
        // Row i is frequency i+1 (the reference skips DC): it changes sign i+1 times
        // across the 64 samples. An off-by-one here would still give a plausible hash.
        let matrix = dct_matrix();
        for (i, row) in matrix.iter().enumerate() {
            let changes = row
                .windows(2)
                .filter(|p| (p[0] > 0.0) != (p[1] > 0.0))
                .count();
            assert_eq!(changes, i + 1, "row {i}");
        }
    }
}
