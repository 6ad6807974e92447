//! From encoded image bytes to RGB pixels, for hashing.
//!
//! The format is sniffed from the bytes (a file's extension may lie), dimensions are
//! read from the header and checked against the limits *before* any pixel is decoded,
//! and the decoder itself runs under an allocation limit, so truncated files, zero or
//! gigantic dimensions and decompression bombs are errors, not crashes.
//!
//! Memory, for an image of `P` pixels: the decoder's allocations, including the
//! decoded frame, stay under `max_alloc_bytes` (checked before the frame is allocated);
//! formats other than 8-bit RGB add `3P` bytes for the conversion to RGB; hashing adds
//! `8P` bytes of f32 buffers (luma and one filter buffer). With the defaults (64
//! megapixels, 512 MiB) that is at most about 1.2 GiB per image in flight. A
//! [`PdqHasher`] keeps its buffers for the next image, so it holds what its largest
//! image needed.
//!
//! Every pixel format converts to 8-bit RGB: palette looked up, 1-bit expanded, CMYK
//! converted, grey replicated, alpha dropped without compositing (as Pillow's
//! `convert("RGB")` does, which is what the reference hashes were computed from),
//! 16-bit samples rounded to the nearest 8-bit value, float samples in 0..1 scaled to
//! 0..255. `tests/pixel_formats.rs` and the reference images hold it to that. EXIF orientation is not applied:
//! no reference front-end applies it, and dihedral matching covers rotated uploads.

use std::io::Cursor;

use image::{ColorType, DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

use crate::{DihedralOutput, PdqError, PdqHasher, PdqOutput};

/// Limits and options for decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeOptions {
    /// Largest image accepted, in pixels (width × height).
    pub max_pixels: u64,
    /// Largest allocation the decoder may make, in bytes.
    pub max_alloc_bytes: u64,
    /// Resize images larger than 512 on either side to exactly 512×512 by nearest
    /// neighbour first, as the reference command-line tool (`pdq-photo-hasher`) and the
    /// WASM build do. Off by default: HMA, python-threatexchange and the Java port hash
    /// at full size, and most shared lists were made that way.
    pub squash_512: bool,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            max_pixels: 64_000_000,
            max_alloc_bytes: 512 << 20,
            squash_512: false,
        }
    }
}

/// Why encoded bytes could not be hashed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashImageError {
    /// The bytes are not an image format this build decodes.
    #[error("not a supported image (JPEG, PNG, GIF, WebP, BMP or TIFF expected)")]
    UnknownFormat,
    /// The header says the image has no pixels.
    #[error("image has zero size ({width}×{height})")]
    ZeroSize {
        /// Width from the header.
        width: u32,
        /// Height from the header.
        height: u32,
    },
    /// The image is larger than the configured limit.
    #[error("image is {width}×{height} = {pixels} pixels, over the limit of {max_pixels}")]
    TooLarge {
        /// Width from the header.
        width: u32,
        /// Height from the header.
        height: u32,
        /// width × height.
        pixels: u64,
        /// The limit.
        max_pixels: u64,
    },
    /// The decoder would need more memory than allowed (a decompression bomb or a huge frame).
    #[error("decoding needs more memory than the {max_alloc_bytes}-byte limit: {message}")]
    MemoryLimit {
        /// The limit.
        max_alloc_bytes: u64,
        /// The decoder's explanation.
        message: String,
    },
    /// The image is damaged or truncated.
    #[error("cannot decode {format} image: {message}")]
    Decode {
        /// The sniffed format.
        format: String,
        /// The decoder's explanation.
        message: String,
    },
    /// The decoded pixels could not be hashed.
    #[error(transparent)]
    Pixels(#[from] PdqError),
}

/// Decoded 8-bit RGB pixels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RgbImage {
    /// Interleaved RGB, row-major.
    pub pixels: Vec<u8>,
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
}

type SniffedReader<'a> = (ImageReader<Cursor<&'a [u8]>>, ImageFormat);

fn reader(bytes: &[u8]) -> Result<SniffedReader<'_>, HashImageError> {
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|_| HashImageError::UnknownFormat)?;
    let format = reader.format().ok_or(HashImageError::UnknownFormat)?;
    Ok((reader, format))
}

/// Decodes any supported image to 8-bit RGB within the limits (and squashes it to
/// 512×512 first if the options say so).
pub fn decode_rgb(bytes: &[u8], options: &DecodeOptions) -> Result<RgbImage, HashImageError> {
    let mut pixels = Vec::new();
    let (width, height) = decode_rgb_into(bytes, options, &mut pixels)?;
    Ok(RgbImage {
        pixels,
        width,
        height,
    })
}

/// [`decode_rgb`] into a caller's buffer, reusing its allocation: fresh multi-megabyte
/// buffers cost page faults on every image. Returns the width and height.
pub fn decode_rgb_into(
    bytes: &[u8],
    options: &DecodeOptions,
    pixels: &mut Vec<u8>,
) -> Result<(usize, usize), HashImageError> {
    let (header, format) = reader(bytes)?;
    let format_name = format!("{format:?}").to_uppercase();
    let decode_error = |error: image::ImageError| match error {
        image::ImageError::Limits(limit) => HashImageError::MemoryLimit {
            max_alloc_bytes: options.max_alloc_bytes,
            message: limit.to_string(),
        },
        other => HashImageError::Decode {
            format: format_name.clone(),
            message: other.to_string(),
        },
    };
    let (width, height) = header.into_dimensions().map_err(decode_error)?;
    if width == 0 || height == 0 {
        return Err(HashImageError::ZeroSize { width, height });
    }
    let pixel_count = u64::from(width) * u64::from(height);
    if pixel_count > options.max_pixels {
        return Err(HashImageError::TooLarge {
            width,
            height,
            pixels: pixel_count,
            max_pixels: options.max_pixels,
        });
    }
    let (mut reader, _) = reader(bytes)?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(width);
    limits.max_image_height = Some(height);
    limits.max_alloc = Some(options.max_alloc_bytes);
    reader.limits(limits.clone());
    let mut decoder = reader.into_decoder().map_err(decode_error)?;
    // The decoded frame counts against the allocation limit, as `ImageReader::decode`
    // counts it, and the decoder gets what is left for its own buffers.
    limits
        .reserve(decoder.total_bytes())
        .map_err(decode_error)?;
    decoder.set_limits(limits).map_err(decode_error)?;
    let (width, height) = decoder.dimensions();
    let (width, height) = (width as usize, height as usize);
    if decoder.color_type() == ColorType::Rgb8 {
        // Most JPEGs: decode straight into the reused buffer.
        pixels.clear();
        pixels.resize(width * height * 3, 0);
        decoder.read_image(pixels).map_err(decode_error)?;
    } else {
        let image = DynamicImage::from_decoder(decoder).map_err(decode_error)?;
        *pixels = image.into_rgb8().into_raw();
    }
    if options.squash_512 && (width > SQUASH_SIDE || height > SQUASH_SIDE) {
        *pixels = squash_512(pixels, width, height);
        return Ok((SQUASH_SIDE, SQUASH_SIDE));
    }
    Ok((width, height))
}

const SQUASH_SIDE: usize = 512;

/// The reference CLI's pre-resize: images larger than 512 on either side become exactly
/// 512×512 by nearest neighbour (CImg's default), source index `floor(x · W / 512)`.
fn squash_512(pixels: &[u8], width: usize, height: usize) -> Vec<u8> {
    let source_index =
        |out: usize, size: usize| ((out as f64 * size as f64) / SQUASH_SIDE as f64) as usize;
    let columns: Vec<usize> = (0..SQUASH_SIDE).map(|x| source_index(x, width)).collect();
    let mut squashed = Vec::with_capacity(SQUASH_SIDE * SQUASH_SIDE * 3);
    for y in 0..SQUASH_SIDE {
        let row = source_index(y, height) * width;
        for &x in &columns {
            let at = (row + x) * 3;
            squashed.extend_from_slice(&pixels[at..at + 3]);
        }
    }
    squashed
}

/// Decodes and hashes an encoded image.
pub fn hash_encoded(bytes: &[u8], options: &DecodeOptions) -> Result<PdqOutput, HashImageError> {
    PdqHasher::new().hash_encoded(bytes, options)
}

/// Decodes an encoded image and computes its eight dihedral hashes.
pub fn hash_encoded_dihedral(
    bytes: &[u8],
    options: &DecodeOptions,
) -> Result<DihedralOutput, HashImageError> {
    PdqHasher::new().hash_encoded_dihedral(bytes, options)
}

impl PdqHasher {
    /// Decodes and hashes an encoded image, reusing this hasher's buffers.
    pub fn hash_encoded(
        &mut self,
        bytes: &[u8],
        options: &DecodeOptions,
    ) -> Result<PdqOutput, HashImageError> {
        let mut pixels = std::mem::take(&mut self.decoded);
        let result = decode_rgb_into(bytes, options, &mut pixels)
            .and_then(|(width, height)| Ok(self.hash_rgb(&pixels, width, height)?));
        self.decoded = pixels;
        result
    }

    /// Decodes an encoded image and computes its eight dihedral hashes.
    pub fn hash_encoded_dihedral(
        &mut self,
        bytes: &[u8],
        options: &DecodeOptions,
    ) -> Result<DihedralOutput, HashImageError> {
        let mut pixels = std::mem::take(&mut self.decoded);
        let result = decode_rgb_into(bytes, options, &mut pixels)
            .and_then(|(width, height)| Ok(self.hash_rgb_dihedral(&pixels, width, height)?));
        self.decoded = pixels;
        result
    }
}
