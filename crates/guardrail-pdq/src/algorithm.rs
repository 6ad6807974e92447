//! The PDQ algorithm on a luma buffer, step by step as Meta's reference C++ does it, so
//! that hashes are bit-exact: f32 arithmetic in source order (no fused multiply-add),
//! the Jarosz tent filter as two passes of running box sums, decimation to 64×64 at cell
//! centres, the quality metric with per-gradient truncation, a 16×16 DCT from a matrix
//! built with the reference's exact formula, and thresholds at the lower median.
//!
//! Every function here is pure and allocation-bounded by the image size.

use crate::hash::PdqHash;

/// Images smaller than this on either side have no meaningful hash (all zeros, quality 0).
pub const MIN_HASHABLE_DIMENSION: usize = 5;

const LUMA_FROM_RED: f32 = 0.299;
const LUMA_FROM_GREEN: f32 = 0.587;
const LUMA_FROM_BLUE: f32 = 0.114;

/// Luma of interleaved 8-bit RGB, as the reference computes it.
pub(crate) fn luma_from_rgb(rgb: &[u8], out: &mut Vec<f32>) {
    out.clear();
    out.extend(rgb.chunks_exact(3).map(|pixel| {
        LUMA_FROM_RED * f32::from(pixel[0])
            + LUMA_FROM_GREEN * f32::from(pixel[1])
            + LUMA_FROM_BLUE * f32::from(pixel[2])
    }));
}

/// The Jarosz window for one axis: ceil(dimension / 128).
fn jarosz_window(dimension: usize) -> usize {
    dimension.div_ceil(2 * 64)
}

/// A running box sum along one line of `length` samples spaced `stride` apart, written
/// the way the reference does it: growing window, full window, shrinking window, each
/// output divided by the number of samples actually summed.
fn box_line(
    input: &[f32],
    output: &mut [f32],
    start: usize,
    length: usize,
    stride: usize,
    window: usize,
) {
    let half = (window + 2) / 2;
    let phase_one = half - 1;
    let phase_two = window - half + 1;
    let phase_three = length.saturating_sub(window);
    let phase_four = half - 1;
    let mut sum = 0.0f32;
    let mut count = 0usize;
    let (mut left, mut right, mut out) = (start, start, start);
    for _ in 0..phase_one {
        sum += input[right];
        count += 1;
        right += stride;
    }
    for _ in 0..phase_two {
        sum += input[right];
        count += 1;
        output[out] = sum / count as f32;
        right += stride;
        out += stride;
    }
    for _ in 0..phase_three {
        sum += input[right];
        sum -= input[left];
        output[out] = sum / count as f32;
        left += stride;
        right += stride;
        out += stride;
    }
    for _ in 0..phase_four {
        sum -= input[left];
        count -= 1;
        output[out] = sum / count as f32;
        left += stride;
        out += stride;
    }
}

/// Two passes of (box along rows, box along columns), in place in `buffer`.
fn jarosz_filter(buffer: &mut [f32], scratch: &mut [f32], rows: usize, columns: usize) {
    let window_along_rows = jarosz_window(columns);
    let window_along_columns = jarosz_window(rows);
    for _ in 0..2 {
        for row in 0..rows {
            box_line(
                buffer,
                scratch,
                row * columns,
                columns,
                1,
                window_along_rows,
            );
        }
        // Columns are independent: the reference's order across them does not matter,
        // only the order of samples within one.
        for column in 0..columns {
            box_line(scratch, buffer, column, rows, columns, window_along_columns);
        }
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

/// `D · A · Dᵀ`, summed in f32 in index order like the reference.
#[allow(clippy::needless_range_loop)] // Index loops mirror the reference's sum order.
fn dct_64_to_16(dct: &[[f32; 64]; 16], input: &[[f32; 64]; 64]) -> [[f32; 16]; 16] {
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
) -> Spectrum {
    let decimated = if shortcut_64 && rows == 64 && columns == 64 {
        let mut out = [[0.0f32; 64]; 64];
        for (i, row) in out.iter_mut().enumerate() {
            row.copy_from_slice(&luma[i * 64..(i + 1) * 64]);
        }
        out
    } else {
        let mut scratch = vec![0.0f32; luma.len()];
        jarosz_filter(luma, &mut scratch, rows, columns);
        decimate(luma, rows, columns)
    };
    let quality = quality(&decimated);
    let coefficients = dct_64_to_16(&dct_matrix(), &decimated);
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
