//! From encoded image bytes to RGB pixels, for hashing.
//!
//! The format is sniffed from the bytes (a file's extension may lie), dimensions are
//! read from the header and checked against the limits *before* any pixel is decoded,
//! and the decoder itself runs under an allocation limit, so truncated files, zero or
//! gigantic dimensions and decompression bombs are errors, not crashes.
//!
//! Memory: decoding an image of `P` pixels holds at most `max_alloc_bytes` in the
//! decoder, then `3P` bytes of RGB and `8P` bytes of luma and filter scratch. With the
//! defaults (64 megapixels, 512 MiB) that is under 1.3 GiB per image in flight.
//!
//! Every pixel format converts to 8-bit RGB the way Pillow's `convert("RGB")` does
//! (palette looked up, 1-bit expanded, alpha dropped, 16-bit and float scaled), which
//! is what the reference hashes were computed from. EXIF orientation is not applied:
//! no reference front-end applies it, and dihedral matching covers rotated uploads.

use std::io::Cursor;

use image::{ImageFormat, ImageReader, Limits};

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

/// Decodes any supported image to 8-bit RGB within the limits.
pub fn decode_rgb(bytes: &[u8], options: &DecodeOptions) -> Result<RgbImage, HashImageError> {
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
    let pixels = u64::from(width) * u64::from(height);
    if pixels > options.max_pixels {
        return Err(HashImageError::TooLarge {
            width,
            height,
            pixels,
            max_pixels: options.max_pixels,
        });
    }
    let (mut reader, _) = reader(bytes)?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(width);
    limits.max_image_height = Some(height);
    limits.max_alloc = Some(options.max_alloc_bytes);
    reader.limits(limits);
    let image = reader.decode().map_err(decode_error)?;
    // `into_rgb8` keeps the decoder's buffer when it already is 8-bit RGB (most JPEGs).
    let rgb = image.into_rgb8();
    let (width, height) = (rgb.width() as usize, rgb.height() as usize);
    let pixels = rgb.into_raw();
    let decoded = RgbImage {
        pixels,
        width,
        height,
    };
    Ok(if options.squash_512 {
        squash_512(decoded)
    } else {
        decoded
    })
}

/// The reference CLI's pre-resize: images larger than 512 on either side become exactly
/// 512×512 by nearest neighbour (CImg's default), source index `floor(x · W / 512)`.
fn squash_512(image: RgbImage) -> RgbImage {
    const SIDE: usize = 512;
    if image.width <= SIDE && image.height <= SIDE {
        return image;
    }
    let source_index =
        |out: usize, size: usize| ((out as f64 * size as f64) / SIDE as f64) as usize;
    let columns: Vec<usize> = (0..SIDE).map(|x| source_index(x, image.width)).collect();
    let mut pixels = Vec::with_capacity(SIDE * SIDE * 3);
    for y in 0..SIDE {
        let row = source_index(y, image.height) * image.width;
        for &x in &columns {
            let at = (row + x) * 3;
            pixels.extend_from_slice(&image.pixels[at..at + 3]);
        }
    }
    RgbImage {
        pixels,
        width: SIDE,
        height: SIDE,
    }
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
        let image = decode_rgb(bytes, options)?;
        Ok(self.hash_rgb(&image.pixels, image.width, image.height)?)
    }

    /// Decodes an encoded image and computes its eight dihedral hashes.
    pub fn hash_encoded_dihedral(
        &mut self,
        bytes: &[u8],
        options: &DecodeOptions,
    ) -> Result<DihedralOutput, HashImageError> {
        let image = decode_rgb(bytes, options)?;
        Ok(self.hash_rgb_dihedral(&image.pixels, image.width, image.height)?)
    }
}
