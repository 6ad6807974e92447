//! Hashing 512×512 JPEGs end to end (decode + hash) on one core, with criterion:
//! `decode_and_hash`, and its two parts `decode` and `hash`.
//!
//! The side-by-side comparison with PyPI `pdqhash` (the reference C++ behind Python
//! bindings, decoding with Pillow as its users do) on the same files is
//! `crates/guardrail-pdq/peers/bench.sh`, which runs this benchmark with
//! `GUARDRAIL_BENCH_DIR` set (the JPEGs are written there), then the peer on that
//! folder, and prints the table. Target: at least 3× `pdqhash`.
//!
//! The JPEGs are generated (textured shapes and noise, quality 90);
//! `GUARDRAIL_BENCH_IMAGES` sets how many (default 100).

use std::hint::black_box;
use std::io::Cursor;
use std::time::Duration;

use criterion::{Criterion, Throughput};
use guardrail_pdq::decode::{decode_rgb, decode_rgb_into};
use guardrail_pdq::{DecodeOptions, PdqHasher};
use image::codecs::jpeg::JpegEncoder;

fn textured(seed: u32, side: u32) -> image::RgbImage {
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state
    };
    let centres: Vec<(i64, i64, i64, [u8; 3])> = (0..8)
        .map(|_| {
            let n = next();
            (
                i64::from(n % side),
                i64::from((n >> 9) % side),
                i64::from(20 + (n >> 18) % 120),
                [(n >> 3) as u8, (n >> 11) as u8, (n >> 19) as u8],
            )
        })
        .collect();
    image::RgbImage::from_fn(side, side, |x, y| {
        let mut pixel = [(x * 255 / side) as u8, (y * 255 / side) as u8, 128];
        for &(cx, cy, radius, colour) in &centres {
            let (dx, dy) = (i64::from(x) - cx, i64::from(y) - cy);
            if dx * dx + dy * dy < radius * radius {
                pixel = colour;
            }
        }
        let noise = (next() % 24) as u8;
        image::Rgb([
            pixel[0].saturating_add(noise),
            pixel[1].saturating_add(noise / 2),
            pixel[2].saturating_sub(noise),
        ])
    })
}

fn images() -> Vec<Vec<u8>> {
    let count: u32 = std::env::var("GUARDRAIL_BENCH_IMAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let directory = std::env::var_os("GUARDRAIL_BENCH_DIR").map(std::path::PathBuf::from);
    if let Some(directory) = &directory {
        std::fs::create_dir_all(directory).expect("create GUARDRAIL_BENCH_DIR");
    }
    (0..count)
        .map(|index| {
            let mut bytes = Cursor::new(Vec::new());
            textured(index, 512)
                .write_with_encoder(JpegEncoder::new_with_quality(&mut bytes, 90))
                .expect("encodes");
            let bytes = bytes.into_inner();
            if let Some(directory) = &directory {
                std::fs::write(directory.join(format!("img{index:04}.jpg")), &bytes)
                    .expect("write a benchmark JPEG");
            }
            bytes
        })
        .collect()
}

fn main() {
    let blobs = images();
    let options = DecodeOptions::default();
    let decoded: Vec<_> = blobs
        .iter()
        .map(|b| decode_rgb(b, &options).expect("decodes"))
        .collect();
    let mut criterion = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .configure_from_args();
    let mut group = criterion.benchmark_group("pdq_512_jpeg");
    // One iteration is one image; the images are taken in turn.
    group.throughput(Throughput::Elements(1));
    // One hasher per core, reused from image to image, as a hashing service runs it.
    let mut hasher = PdqHasher::new();
    let mut next = 0usize;
    group.bench_function("decode_and_hash", |b| {
        b.iter(|| {
            next = (next + 1) % blobs.len();
            black_box(
                hasher
                    .hash_encoded(black_box(&blobs[next]), &options)
                    .expect("hashes"),
            )
        })
    });
    let mut pixels = Vec::new();
    group.bench_function("decode", |b| {
        b.iter(|| {
            next = (next + 1) % blobs.len();
            black_box(
                decode_rgb_into(black_box(&blobs[next]), &options, &mut pixels).expect("decodes"),
            )
        })
    });
    group.bench_function("hash", |b| {
        b.iter(|| {
            next = (next + 1) % decoded.len();
            let image = &decoded[next];
            black_box(
                hasher
                    .hash_rgb(black_box(&image.pixels), image.width, image.height)
                    .expect("hashes"),
            )
        })
    });
    group.finish();
    criterion.final_summary();
}
