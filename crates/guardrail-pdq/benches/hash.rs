//! `cargo bench -p guardrail-pdq --bench hash`: hashing 512×512 JPEGs end to end
//! (decode + hash) on one core, side by side with PyPI `pdqhash` (the reference C++
//! behind Python bindings, decoding with Pillow as its users do) on the same files in
//! the same run. Target: at least 3× `pdqhash`.
//!
//! The JPEGs are generated (textured shapes and noise, quality 90) into a temporary
//! folder; `GUARDRAIL_BENCH_IMAGES` sets how many (default 200).

use std::hint::black_box;
use std::io::Cursor;
use std::process::Command;
use std::time::Instant;

use guardrail_pdq::decode::decode_rgb;
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

fn main() {
    let quick = std::env::args().any(|a| a == "--test");
    let count: u32 = std::env::var("GUARDRAIL_BENCH_IMAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 4 } else { 200 });
    let rounds = if quick { 1 } else { 3 };
    let directory =
        std::env::temp_dir().join(format!("guardrail-pdq-bench-{}", std::process::id()));
    std::fs::create_dir_all(&directory).expect("temp dir");
    let mut blobs = Vec::new();
    for index in 0..count {
        let image = textured(index, 512);
        let mut bytes = Cursor::new(Vec::new());
        image
            .write_with_encoder(JpegEncoder::new_with_quality(&mut bytes, 90))
            .expect("encodes");
        let bytes = bytes.into_inner();
        std::fs::write(directory.join(format!("img{index:04}.jpg")), &bytes).expect("write");
        blobs.push(bytes);
    }
    let options = DecodeOptions::default();
    let best = |f: &dyn Fn()| {
        (0..rounds)
            .map(|_| {
                let start = Instant::now();
                f();
                start.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min)
    };
    // One hasher per core, reused from image to image, as a hashing service runs it.
    let hasher = std::cell::RefCell::new(PdqHasher::new());
    let end_to_end = best(&|| {
        let mut hasher = hasher.borrow_mut();
        for blob in &blobs {
            black_box(
                hasher
                    .hash_encoded(black_box(blob), &options)
                    .expect("hashes"),
            );
        }
    });
    let decoded: Vec<_> = blobs
        .iter()
        .map(|b| decode_rgb(b, &options).expect("decodes"))
        .collect();
    let decode_only = best(&|| {
        for blob in &blobs {
            black_box(decode_rgb(black_box(blob), &options).expect("decodes"));
        }
    });
    let hash_only = best(&|| {
        let mut hasher = hasher.borrow_mut();
        for image in &decoded {
            black_box(
                hasher
                    .hash_rgb(black_box(&image.pixels), image.width, image.height)
                    .expect("hashes"),
            );
        }
    });
    let peer_script = concat!(env!("CARGO_MANIFEST_DIR"), "/peers/bench_pdqhash.py");
    let peer = Command::new("python3")
        .arg(peer_script)
        .arg(&directory)
        .arg(rounds.to_string())
        .output();
    std::fs::remove_dir_all(&directory).ok();
    let rate = |seconds: f64| f64::from(count) / seconds;
    println!(
        "# PDQ hashing, {count} generated 512x512 JPEGs (quality 90), one core, best of {rounds}"
    );
    println!();
    println!("| engine | images/s | ms/image |");
    println!("|---|---:|---:|");
    println!(
        "| guardrail-pdq, decode + hash | {:.0} | {:.2} |",
        rate(end_to_end),
        1e3 * end_to_end / f64::from(count)
    );
    println!(
        "| guardrail-pdq, decode only (image-rs) | {:.0} | {:.2} |",
        rate(decode_only),
        1e3 * decode_only / f64::from(count)
    );
    println!(
        "| guardrail-pdq, hash only | {:.0} | {:.2} |",
        rate(hash_only),
        1e3 * hash_only / f64::from(count)
    );
    match peer {
        Ok(output) if output.status.success() => {
            let value: serde_json::Value =
                serde_json::from_slice(&output.stdout).expect("peer prints JSON");
            let seconds = value["seconds"].as_f64().unwrap_or(f64::NAN);
            println!(
                "| pdqhash 0.2.8 (Pillow decode + reference C++) | {:.0} | {:.2} |",
                rate(seconds),
                1e3 * seconds / f64::from(count)
            );
            println!();
            println!("guardrail-pdq / pdqhash = {:.2}x", seconds / end_to_end);
        }
        other => println!(
            "\npeer not run (pip install -r crates/guardrail-pdq/peers/requirements.txt): {other:?}"
        ),
    }
}
