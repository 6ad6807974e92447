//! PDQ perceptual hashing, bit-exact with Meta's ThreatExchange reference.
//!
//! PDQ is the open perceptual hash that clearinghouses and platforms share lists of
//! known child sexual abuse imagery in. A hash that differs from the reference by a
//! few bits still matches (distance ≤ 31), but a port that is *almost* right drifts on
//! exactly the low-texture images where ties decide bits, so this port follows the
//! reference arithmetic to the bit: see [`algorithm`] for the details that matter, and
//! the tests for the reference vectors it is held to.
//!
//! - [`hash_rgb`] / [`hash_luma`]: the hash and quality of a pixel buffer;
//!   `*_dihedral` also gives the seven rotations and flips, derived from the DCT.
//! - [`decode`]: encoded image bytes (JPEG, PNG, GIF, WebP, BMP, TIFF) to RGB, any pixel
//!   format, with memory limits checked before decoding; [`hash_encoded`] does both.
//!
//! This crate is pure: it never touches the filesystem, and bad input is an error value,
//! never a panic. It stores hashes, never images.

pub mod algorithm;
pub mod decode;
mod hash;

pub use algorithm::Scratch;
pub use decode::{DecodeOptions, HashImageError, hash_encoded, hash_encoded_dihedral};
pub use hash::{HashParseError, PdqHash};

use algorithm::MIN_HASHABLE_DIMENSION;

/// A hash with its quality (0–100; below 50 a hash is too flat to match on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PdqOutput {
    /// The hash.
    pub hash: PdqHash,
    /// The reference quality metric.
    pub quality: u32,
}

/// The eight dihedral variants of an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dihedral {
    /// As is.
    Original,
    /// Rotated 90° counter-clockwise.
    Rotate90,
    /// Rotated 180°.
    Rotate180,
    /// Rotated 270° counter-clockwise (90° clockwise).
    Rotate270,
    /// Flipped top to bottom.
    FlipX,
    /// Flipped left to right.
    FlipY,
    /// Transposed.
    FlipPlus1,
    /// Anti-transposed.
    FlipMinus1,
}

impl Dihedral {
    /// All eight, in the reference's output order.
    pub const ALL: [Dihedral; 8] = [
        Dihedral::Original,
        Dihedral::Rotate90,
        Dihedral::Rotate180,
        Dihedral::Rotate270,
        Dihedral::FlipX,
        Dihedral::FlipY,
        Dihedral::FlipPlus1,
        Dihedral::FlipMinus1,
    ];

    /// The short name used in output (`orig`, `rot90`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Dihedral::Original => "orig",
            Dihedral::Rotate90 => "rot90",
            Dihedral::Rotate180 => "rot180",
            Dihedral::Rotate270 => "rot270",
            Dihedral::FlipX => "flipx",
            Dihedral::FlipY => "flipy",
            Dihedral::FlipPlus1 => "flip_plus1",
            Dihedral::FlipMinus1 => "flip_minus1",
        }
    }
}

/// The dihedral hashes of an image, in [`Dihedral::ALL`] order, with its quality.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DihedralOutput {
    /// One hash per [`Dihedral`].
    pub hashes: [PdqHash; 8],
    /// The quality (the same for every variant).
    pub quality: u32,
}

/// Why pixels could not be hashed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PdqError {
    /// The buffer length does not match the dimensions.
    #[error("buffer has {found} values, but {width}×{height} needs {expected}")]
    BufferSize {
        /// Width in pixels.
        width: usize,
        /// Height in pixels.
        height: usize,
        /// Values expected.
        expected: usize,
        /// Values given.
        found: usize,
    },
}

fn check_size(found: usize, width: usize, height: usize, per_pixel: usize) -> Result<(), PdqError> {
    let expected = width.saturating_mul(height).saturating_mul(per_pixel);
    if found != expected {
        return Err(PdqError::BufferSize {
            width,
            height,
            expected,
            found,
        });
    }
    Ok(())
}

fn too_small(width: usize, height: usize) -> bool {
    width < MIN_HASHABLE_DIMENSION || height < MIN_HASHABLE_DIMENSION
}

/// A PDQ hasher that keeps its working buffers between images. Use one per thread
/// when hashing many images; the free functions make a fresh one each call. It holds
/// the buffers its largest image needed (about 11 bytes per pixel: RGB, luma and one
/// filter buffer).
#[derive(Debug, Default, Clone)]
pub struct PdqHasher {
    scratch: algorithm::Scratch,
    /// Decoded RGB of the last encoded image (see [`decode::decode_rgb_into`]).
    decoded: Vec<u8>,
}

impl PdqHasher {
    /// A hasher with empty buffers (they grow to the largest image seen).
    pub fn new() -> PdqHasher {
        PdqHasher::default()
    }

    /// The hash of a luma buffer (row-major, `width × height`, values 0–255).
    pub fn hash_luma(
        &mut self,
        luma: &[f32],
        width: usize,
        height: usize,
    ) -> Result<PdqOutput, PdqError> {
        check_size(luma.len(), width, height, 1)?;
        let mut buffer = std::mem::take(&mut self.scratch.luma);
        buffer.clear();
        buffer.extend_from_slice(luma);
        let output = self.hash_own_luma(&mut buffer, width, height);
        self.scratch.luma = buffer;
        Ok(output)
    }

    /// The eight dihedral hashes of a luma buffer.
    pub fn hash_luma_dihedral(
        &mut self,
        luma: &[f32],
        width: usize,
        height: usize,
    ) -> Result<DihedralOutput, PdqError> {
        check_size(luma.len(), width, height, 1)?;
        let mut buffer = std::mem::take(&mut self.scratch.luma);
        buffer.clear();
        buffer.extend_from_slice(luma);
        let output = self.dihedral_own_luma(&mut buffer, width, height);
        self.scratch.luma = buffer;
        Ok(output)
    }

    /// The hash of interleaved 8-bit RGB (row-major, `width × height × 3` bytes).
    pub fn hash_rgb(
        &mut self,
        rgb: &[u8],
        width: usize,
        height: usize,
    ) -> Result<PdqOutput, PdqError> {
        check_size(rgb.len(), width, height, 3)?;
        let mut buffer = std::mem::take(&mut self.scratch.luma);
        algorithm::luma_from_rgb(rgb, &mut buffer);
        let output = self.hash_own_luma(&mut buffer, width, height);
        self.scratch.luma = buffer;
        Ok(output)
    }

    /// The eight dihedral hashes of interleaved 8-bit RGB.
    pub fn hash_rgb_dihedral(
        &mut self,
        rgb: &[u8],
        width: usize,
        height: usize,
    ) -> Result<DihedralOutput, PdqError> {
        check_size(rgb.len(), width, height, 3)?;
        let mut buffer = std::mem::take(&mut self.scratch.luma);
        algorithm::luma_from_rgb(rgb, &mut buffer);
        let output = self.dihedral_own_luma(&mut buffer, width, height);
        self.scratch.luma = buffer;
        Ok(output)
    }

    fn hash_own_luma(&mut self, luma: &mut [f32], width: usize, height: usize) -> PdqOutput {
        if too_small(width, height) {
            return PdqOutput {
                hash: PdqHash::default(),
                quality: 0,
            };
        }
        let spectrum = algorithm::spectrum(luma, height, width, true, &mut self.scratch);
        PdqOutput {
            hash: algorithm::hash_of(&spectrum),
            quality: spectrum.quality,
        }
    }

    fn dihedral_own_luma(
        &mut self,
        luma: &mut [f32],
        width: usize,
        height: usize,
    ) -> DihedralOutput {
        if too_small(width, height) {
            return DihedralOutput {
                hashes: [PdqHash::default(); 8],
                quality: 0,
            };
        }
        let spectrum = algorithm::spectrum(luma, height, width, false, &mut self.scratch);
        DihedralOutput {
            hashes: algorithm::dihedral_hashes(&spectrum),
            quality: spectrum.quality,
        }
    }
}

/// The hash of a luma buffer (row-major, `width × height`, values 0–255).
pub fn hash_luma(luma: &[f32], width: usize, height: usize) -> Result<PdqOutput, PdqError> {
    PdqHasher::new().hash_luma(luma, width, height)
}

/// The eight dihedral hashes of a luma buffer.
pub fn hash_luma_dihedral(
    luma: &[f32],
    width: usize,
    height: usize,
) -> Result<DihedralOutput, PdqError> {
    PdqHasher::new().hash_luma_dihedral(luma, width, height)
}

/// The hash of interleaved 8-bit RGB (row-major, `width × height × 3` bytes).
///
/// ```
/// // A synthetic 64×48 gradient with a bright square.
/// let (width, height) = (64, 48);
/// let rgb: Vec<u8> = (0..width * height)
///     .flat_map(|i| {
///         let (x, y) = (i % width, i / width);
///         let square = (20..40).contains(&x) && (10..30).contains(&y);
///         [(x * 4) as u8, (y * 5) as u8, if square { 250 } else { 30 }]
///     })
///     .collect();
/// let output = guardrail_pdq::hash_rgb(&rgb, width, height)?;
/// assert_eq!(output.hash.count_ones(), 128); // thresholded at the median
/// assert!(output.quality <= 100);
/// # Ok::<(), guardrail_pdq::PdqError>(())
/// ```
pub fn hash_rgb(rgb: &[u8], width: usize, height: usize) -> Result<PdqOutput, PdqError> {
    PdqHasher::new().hash_rgb(rgb, width, height)
}

/// The eight dihedral hashes of interleaved 8-bit RGB.
pub fn hash_rgb_dihedral(
    rgb: &[u8],
    width: usize,
    height: usize,
) -> Result<DihedralOutput, PdqError> {
    PdqHasher::new().hash_rgb_dihedral(rgb, width, height)
}
