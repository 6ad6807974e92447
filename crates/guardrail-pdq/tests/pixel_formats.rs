//! Every pixel format decodes to the 8-bit RGB that the hash is defined on: grey is
//! replicated, alpha is dropped (not composited, as Pillow's `convert("RGB")` does),
//! 16-bit samples are rounded to 8 bits, float samples in 0..1 are scaled to 0..255.
//! The images are generated (noise and gradients) and written in lossless formats; the
//! real palette, 1-bit, CMYK, LA and RGBA files of the reference set are checked
//! against the reference hashes in `reference_vectors.rs`.

use std::io::Cursor;

use guardrail_pdq::decode::decode_rgb;
use guardrail_pdq::{DecodeOptions, hash_encoded, hash_rgb};
use image::{DynamicImage, ImageBuffer, ImageFormat, Luma, LumaA, Rgb, Rgba};

const WIDTH: u32 = 97;
const HEIGHT: u32 = 61;

/// A deterministic 8-bit colour per pixel: a gradient with hashed noise.
fn colour(x: u32, y: u32) -> [u8; 3] {
    let noise = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)).rotate_left(7);
    [
        (x * 255 / WIDTH) as u8 ^ (noise & 31) as u8,
        (y * 255 / HEIGHT) as u8 ^ ((noise >> 5) & 63) as u8,
        (noise >> 11) as u8,
    ]
}

fn alpha(x: u32, y: u32) -> u8 {
    ((x * 7 + y * 13) % 256) as u8
}

/// 16-bit samples that round to the 8-bit value: `v·257` off by less than half a step.
fn widen(value: u8, x: u32, y: u32) -> u16 {
    let offset = ((x + y) % 100) as u16;
    if value == u8::MAX {
        u16::MAX - offset
    } else {
        u16::from(value) * 257 + offset
    }
}

/// An image in one format, and the RGB it must decode to.
struct Case {
    name: &'static str,
    image: DynamicImage,
    format: ImageFormat,
    expected: Vec<u8>,
}

fn rgb_expected(grey: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for y in 0..HEIGHT {
        for x in 0..WIDTH {
            let c = colour(x, y);
            out.extend_from_slice(&if grey { [c[0]; 3] } else { c });
        }
    }
    out
}

fn cases() -> Vec<Case> {
    let grey = |x, y| colour(x, y)[0];
    let luma8 = ImageBuffer::from_fn(WIDTH, HEIGHT, |x, y| Luma([grey(x, y)]));
    let luma_alpha8 = ImageBuffer::from_fn(WIDTH, HEIGHT, |x, y| LumaA([grey(x, y), alpha(x, y)]));
    let rgb8 = ImageBuffer::from_fn(WIDTH, HEIGHT, |x, y| Rgb(colour(x, y)));
    let rgba8 = ImageBuffer::from_fn(WIDTH, HEIGHT, |x, y| {
        let [r, g, b] = colour(x, y);
        Rgba([r, g, b, alpha(x, y)])
    });
    let luma16 = ImageBuffer::from_fn(WIDTH, HEIGHT, |x, y| Luma([widen(grey(x, y), x, y)]));
    let luma_alpha16 = ImageBuffer::from_fn(WIDTH, HEIGHT, |x, y| {
        LumaA([widen(grey(x, y), x, y), u16::from(alpha(x, y)) * 257])
    });
    let rgb16 = ImageBuffer::from_fn(WIDTH, HEIGHT, |x, y| {
        Rgb(colour(x, y).map(|v| widen(v, x, y)))
    });
    let rgba16 = ImageBuffer::from_fn(WIDTH, HEIGHT, |x, y| {
        let [r, g, b] = colour(x, y).map(|v| widen(v, x, y));
        Rgba([r, g, b, 1000])
    });
    let rgb32 = ImageBuffer::from_fn(WIDTH, HEIGHT, |x, y| {
        Rgb(colour(x, y).map(|v| f32::from(v) / 255.0))
    });
    let rgba32 = ImageBuffer::from_fn(WIDTH, HEIGHT, |x, y| {
        let [r, g, b] = colour(x, y).map(|v| f32::from(v) / 255.0);
        Rgba([r, g, b, 0.25])
    });
    let case = |name, image, format, grey| Case {
        name,
        image,
        format,
        expected: rgb_expected(grey),
    };
    vec![
        case(
            "L8 PNG",
            DynamicImage::ImageLuma8(luma8.clone()),
            ImageFormat::Png,
            true,
        ),
        case(
            "L8 BMP (palette)",
            DynamicImage::ImageLuma8(luma8.clone()),
            ImageFormat::Bmp,
            true,
        ),
        case(
            "L8 TIFF",
            DynamicImage::ImageLuma8(luma8),
            ImageFormat::Tiff,
            true,
        ),
        case(
            "LA8 PNG",
            DynamicImage::ImageLumaA8(luma_alpha8.clone()),
            ImageFormat::Png,
            true,
        ),
        case(
            "LA8 WebP",
            DynamicImage::ImageLumaA8(luma_alpha8),
            ImageFormat::WebP,
            true,
        ),
        case(
            "RGB8 PNG",
            DynamicImage::ImageRgb8(rgb8.clone()),
            ImageFormat::Png,
            false,
        ),
        case(
            "RGB8 BMP",
            DynamicImage::ImageRgb8(rgb8.clone()),
            ImageFormat::Bmp,
            false,
        ),
        case(
            "RGB8 WebP",
            DynamicImage::ImageRgb8(rgb8.clone()),
            ImageFormat::WebP,
            false,
        ),
        case(
            "RGB8 TIFF",
            DynamicImage::ImageRgb8(rgb8),
            ImageFormat::Tiff,
            false,
        ),
        case(
            "RGBA8 PNG",
            DynamicImage::ImageRgba8(rgba8.clone()),
            ImageFormat::Png,
            false,
        ),
        case(
            "RGBA8 WebP",
            DynamicImage::ImageRgba8(rgba8.clone()),
            ImageFormat::WebP,
            false,
        ),
        case(
            "RGBA8 BMP",
            DynamicImage::ImageRgba8(rgba8.clone()),
            ImageFormat::Bmp,
            false,
        ),
        case(
            "RGBA8 TIFF",
            DynamicImage::ImageRgba8(rgba8),
            ImageFormat::Tiff,
            false,
        ),
        case(
            "L16 PNG",
            DynamicImage::ImageLuma16(luma16.clone()),
            ImageFormat::Png,
            true,
        ),
        case(
            "L16 TIFF",
            DynamicImage::ImageLuma16(luma16),
            ImageFormat::Tiff,
            true,
        ),
        case(
            "LA16 PNG",
            DynamicImage::ImageLumaA16(luma_alpha16),
            ImageFormat::Png,
            true,
        ),
        case(
            "RGB16 PNG",
            DynamicImage::ImageRgb16(rgb16.clone()),
            ImageFormat::Png,
            false,
        ),
        case(
            "RGB16 TIFF",
            DynamicImage::ImageRgb16(rgb16),
            ImageFormat::Tiff,
            false,
        ),
        case(
            "RGBA16 PNG",
            DynamicImage::ImageRgba16(rgba16.clone()),
            ImageFormat::Png,
            false,
        ),
        case(
            "RGBA16 TIFF",
            DynamicImage::ImageRgba16(rgba16),
            ImageFormat::Tiff,
            false,
        ),
        case(
            "RGB32F TIFF",
            DynamicImage::ImageRgb32F(rgb32),
            ImageFormat::Tiff,
            false,
        ),
        case(
            "RGBA32F TIFF",
            DynamicImage::ImageRgba32F(rgba32),
            ImageFormat::Tiff,
            false,
        ),
    ]
}

#[test]
fn every_pixel_format_decodes_to_the_same_rgb() {
    let options = DecodeOptions::default();
    let mut failures = Vec::new();
    for case in cases() {
        let mut bytes = Cursor::new(Vec::new());
        if let Err(error) = case.image.write_to(&mut bytes, case.format) {
            failures.push(format!(
                "{}: cannot encode the test image: {error}",
                case.name
            ));
            continue;
        }
        let bytes = bytes.into_inner();
        let decoded = match decode_rgb(&bytes, &options) {
            Ok(decoded) => decoded,
            Err(error) => {
                failures.push(format!("{}: {error}", case.name));
                continue;
            }
        };
        if (decoded.width, decoded.height) != (WIDTH as usize, HEIGHT as usize) {
            failures.push(format!(
                "{}: decoded as {}x{}",
                case.name, decoded.width, decoded.height
            ));
            continue;
        }
        let differing = decoded
            .pixels
            .iter()
            .zip(&case.expected)
            .filter(|(a, b)| a != b)
            .count();
        if differing > 0 {
            failures.push(format!("{}: {differing} bytes differ", case.name));
        }
        let expected_hash = hash_rgb(&case.expected, WIDTH as usize, HEIGHT as usize)
            .expect("expected pixels hash");
        let hashed = hash_encoded(&bytes, &options).expect("decoded once already");
        if hashed != expected_hash {
            failures.push(format!(
                "{}: hash {} bits off",
                case.name,
                hashed.hash.distance(&expected_hash.hash)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
