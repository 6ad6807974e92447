//! Hostile images get a clear error within the memory limit, never a panic or an abort.
//! Every image here is generated in the test (shapes and noise, nothing else).

use std::io::Cursor;

use guardrail_pdq::{DecodeOptions, HashImageError, hash_encoded};
use image::{ImageFormat, RgbImage};

fn encoded(width: u32, height: u32, format: ImageFormat) -> Vec<u8> {
    let image = RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x ^ y) % 256) as u8])
    });
    let mut bytes = Cursor::new(Vec::new());
    image.write_to(&mut bytes, format).expect("encodes");
    bytes.into_inner()
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A PNG whose header claims other dimensions (the pixel data stays tiny).
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = encoded(8, 8, ImageFormat::Png);
    // IHDR data starts after the 8-byte signature, 4-byte length and 4-byte type.
    bytes[16..20].copy_from_slice(&width.to_be_bytes());
    bytes[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    bytes
}

#[test]
fn hostile_inputs_get_clear_errors() {
    let options = DecodeOptions::default();
    let png = encoded(64, 64, ImageFormat::Png);
    let jpeg = encoded(64, 64, ImageFormat::Jpeg);
    let check = |what: &str,
                 bytes: &[u8],
                 options: &DecodeOptions,
                 expected: fn(&HashImageError) -> bool| {
        match hash_encoded(bytes, options) {
            Err(error) => {
                assert!(expected(&error), "{what}: unexpected error {error:?}");
                assert!(!error.to_string().is_empty());
            }
            Ok(output) => panic!("{what}: should fail, got {output:?}"),
        }
    };
    check("empty", b"", &options, |e| {
        matches!(e, HashImageError::UnknownFormat)
    });
    check("text", b"this is not an image at all", &options, |e| {
        matches!(e, HashImageError::UnknownFormat)
    });
    check("truncated PNG", &png[..png.len() / 2], &options, |e| {
        matches!(e, HashImageError::Decode { .. })
    });
    check("truncated JPEG", &jpeg[..jpeg.len() / 3], &options, |e| {
        matches!(e, HashImageError::Decode { .. })
    });
    check("PNG header only", &png[..33], &options, |e| {
        matches!(e, HashImageError::Decode { .. })
    });
    check(
        "gigantic claimed size",
        &png_claiming(100_000, 100_000),
        &options,
        |e| matches!(e, HashImageError::TooLarge { .. }),
    );
    check("zero width", &png_claiming(0, 10), &options, |e| {
        matches!(
            e,
            HashImageError::ZeroSize { .. } | HashImageError::Decode { .. }
        )
    });
    // A decompression bomb: a small file that inflates far beyond the allocation limit.
    let bomb = {
        let flat = RgbImage::from_pixel(3_000, 3_000, image::Rgb([200, 200, 200]));
        let mut bytes = Cursor::new(Vec::new());
        flat.write_to(&mut bytes, ImageFormat::Png)
            .expect("encodes");
        bytes.into_inner()
    };
    assert!(
        bomb.len() < 200_000,
        "the bomb is small: {} bytes for 27 MB of pixels",
        bomb.len()
    );
    let tight = DecodeOptions {
        max_alloc_bytes: 4 << 20,
        ..DecodeOptions::default()
    };
    check("decompression bomb", &bomb, &tight, |e| {
        matches!(e, HashImageError::MemoryLimit { .. })
    });
    let few_pixels = DecodeOptions {
        max_pixels: 1_000_000,
        ..DecodeOptions::default()
    };
    check("over the pixel limit", &bomb, &few_pixels, |e| {
        matches!(e, HashImageError::TooLarge { .. })
    });
}

#[test]
fn the_format_comes_from_the_bytes_not_the_name() {
    // Callers pass bytes; a `.png` that is really a JPEG hashes as the JPEG it is.
    let jpeg = encoded(64, 64, ImageFormat::Jpeg);
    let output = hash_encoded(&jpeg, &DecodeOptions::default()).expect("decodes");
    assert!(output.quality > 0);
    for format in [
        ImageFormat::Png,
        ImageFormat::Gif,
        ImageFormat::Bmp,
        ImageFormat::Tiff,
        ImageFormat::WebP,
    ] {
        let bytes = encoded(48, 40, format);
        assert!(
            hash_encoded(&bytes, &DecodeOptions::default()).is_ok(),
            "{format:?}"
        );
    }
}

#[test]
fn tiny_images_hash_to_zero_with_quality_zero() {
    let bytes = encoded(4, 4, ImageFormat::Png);
    let output = hash_encoded(&bytes, &DecodeOptions::default()).expect("decodes");
    assert_eq!((output.hash.count_ones(), output.quality), (0, 0));
}

mod never_panics {
    use super::*;
    use guardrail_pdq::{hash_encoded_dihedral, hash_rgb};
    use proptest::prelude::*;

    fn samples() -> Vec<Vec<u8>> {
        [
            ImageFormat::Png,
            ImageFormat::Jpeg,
            ImageFormat::Gif,
            ImageFormat::WebP,
            ImageFormat::Bmp,
            ImageFormat::Tiff,
        ]
        .into_iter()
        .map(|format| encoded(40, 24, format))
        .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Damaged files of every format (bytes overwritten, then cut short) are an
        /// error or a hash, never a panic, and stay within the allocation limit.
        #[test]
        fn damaged_files(
            format in 0usize..6,
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
            keep in any::<prop::sample::Index>(),
        ) {
            let mut bytes = samples()[format].clone();
            for (at, value) in edits {
                let index = at.index(bytes.len());
                bytes[index] = value;
            }
            bytes.truncate(1 + keep.index(bytes.len()));
            let options = DecodeOptions { max_alloc_bytes: 16 << 20, ..DecodeOptions::default() };
            let single = hash_encoded(&bytes, &options);
            let dihedral = hash_encoded_dihedral(&bytes, &options);
            prop_assert_eq!(single.is_ok(), dihedral.is_ok());
            if let Ok(output) = single {
                prop_assert!(output.quality <= 100);
            }
        }

        /// Any buffer and any claimed size: a hash or a size error, never a panic.
        #[test]
        fn any_pixel_buffer(width in 0usize..80, height in 0usize..80, extra in 0usize..4) {
            let rgb = vec![90u8; (width * height * 3).saturating_sub(extra)];
            let result = hash_rgb(&rgb, width, height);
            prop_assert_eq!(result.is_ok(), extra == 0 || width * height == 0);
        }
    }
}
