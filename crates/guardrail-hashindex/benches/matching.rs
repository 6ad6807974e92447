//! `cargo bench -p guardrail-hashindex --bench matching`: matching uploads (8 dihedral
//! hashes each) against a 10,000,000-entry bank, side by side with faiss-cpu
//! (`IndexBinaryFlat`, and `IndexBinaryMultiHash` as python-threatexchange configures
//! it) on the same bank and queries in the same run, and against the memory-bandwidth
//! floor (one read-only pass over the bank's 320 MB). One thread unless stated.
//!
//! The bank is part real: the reference images' PDQ hashes (all dihedrals) and
//! near-duplicates of them, which cluster as real lists do, and part random.
//! `GUARDRAIL_BENCH_ENTRIES` sets the bank size (default 10,000,000).

use std::hint::black_box;
use std::process::Command;
use std::time::Instant;

use guardrail_hashindex::{Bank, BankConfig, Entry, Strategy};
use guardrail_pdq::PdqHash;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn perturb(base: PdqHash, flips: usize, rng: &mut ChaCha8Rng) -> PdqHash {
    let mut bytes = base.0;
    for _ in 0..flips {
        let bit = rng.gen_range(0..256);
        bytes[bit / 8] ^= 1 << (bit % 8);
    }
    PdqHash(bytes)
}

/// Hashes of the reference images (all dihedrals), read from ../shared when present.
fn reference_hashes() -> Vec<PdqHash> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/pdq");
    let mut found = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path)
                && let Ok(output) = guardrail_pdq::hash_encoded_dihedral(
                    &bytes,
                    &guardrail_pdq::DecodeOptions::default(),
                )
                && output.quality >= 50
            {
                found.extend(output.hashes);
            }
        }
    }
    found
}

fn main() {
    let quick = std::env::args().any(|a| a == "--test");
    let count: usize = std::env::var("GUARDRAIL_BENCH_ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 20_000 } else { 10_000_000 });
    let query_count = if quick { 4 } else { 40 };
    let threshold = 31;
    let mut rng = ChaCha8Rng::seed_from_u64(31);
    let mut seeds = reference_hashes();
    if seeds.is_empty() {
        seeds = (0..300).map(|_| PdqHash(rng.r#gen())).collect();
    }
    let started = Instant::now();
    let hashes: Vec<PdqHash> = (0..count)
        .map(|i| {
            if i % 10 < 3 {
                perturb(
                    seeds[rng.gen_range(0..seeds.len())],
                    rng.gen_range(4..64),
                    &mut rng,
                )
            } else {
                PdqHash(rng.r#gen())
            }
        })
        .collect();
    let mut bank = Bank::from_entries(
        BankConfig::positive("bench"),
        hashes.iter().enumerate().map(|(i, h)| Entry {
            hash: *h,
            source: String::new(),
            entry_id: String::new(),
            added_at: i as i64,
        }),
    );
    let generate_seconds = started.elapsed().as_secs_f64();
    // Queries: uploads near a bank entry (a real image's dihedrals, edited) and unrelated ones.
    let queries: Vec<Vec<PdqHash>> = (0..query_count)
        .map(|q| {
            if q % 2 == 0 {
                let base = hashes[rng.gen_range(0..count)];
                (0..8)
                    .map(|d| {
                        if d == 0 {
                            perturb(base, 12, &mut rng)
                        } else {
                            PdqHash(rng.r#gen())
                        }
                    })
                    .collect()
            } else {
                (0..8).map(|_| PdqHash(rng.r#gen())).collect()
            }
        })
        .collect();

    // Floor: one read-only pass over the planes.
    let planes = bank.base_planes();
    let floor = (0..3)
        .map(|_| {
            let start = Instant::now();
            let mut acc = 0u64;
            for plane in planes.words {
                acc = acc.wrapping_add(plane.iter().fold(0u64, |a, &w| a ^ w));
            }
            black_box(acc);
            start.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min);

    let time_queries = |bank: &Bank, strategy: Strategy, threads: bool| -> (f64, usize) {
        let start = Instant::now();
        let mut matches = 0;
        for query in &queries {
            matches += black_box(bank.search(query, threshold, strategy, threads)).len();
        }
        (
            start.elapsed().as_secs_f64() / queries.len() as f64,
            matches,
        )
    };
    let (flat_one, flat_matches) = time_queries(&bank, Strategy::Flat, false);
    let (flat_two, _) = time_queries(&bank, Strategy::Flat, true);
    let build_start = Instant::now();
    bank.build_multi_index().expect("fits");
    let build = build_start.elapsed().as_secs_f64();
    let (mih, mih_matches) = time_queries(&bank, Strategy::MultiIndex, false);
    assert_eq!(
        flat_matches, mih_matches,
        "the multi-index must find exactly what the flat scan finds"
    );

    // The peer, on the same bytes.
    let dir = std::env::temp_dir().join(format!("guardrail-match-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let bank_bytes: Vec<u8> = hashes.iter().flat_map(|h| h.0).collect();
    let query_bytes: Vec<u8> = queries.iter().flatten().flat_map(|h| h.0).collect();
    std::fs::write(dir.join("bank.bin"), &bank_bytes).expect("write");
    std::fs::write(dir.join("queries.bin"), &query_bytes).expect("write");
    drop(bank_bytes);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/peers/bench_faiss.py");
    let peer = Command::new("python3")
        .arg(script)
        .arg(dir.join("bank.bin"))
        .arg(dir.join("queries.bin"))
        .arg(threshold.to_string())
        .output();
    std::fs::remove_dir_all(&dir).ok();

    let ms = |s: f64| s * 1e3;
    println!(
        "# matching: {count} entries (30% near-duplicates of reference-image hashes), {query_count} uploads x 8 dihedral hashes, threshold {threshold}"
    );
    println!(
        "(bank generated in {generate_seconds:.1} s; kernel: {:?})",
        guardrail_hashindex::scan::best_kernel()
    );
    println!();
    println!("| engine | ms per upload (8 hashes) | uploads/s | vs floor |");
    println!("|---|---:|---:|---:|");
    println!(
        "| memory-bandwidth floor (one read of {} MB) | {:.1} | {:.0} | 1.00 |",
        count * 32 / 1_000_000,
        ms(floor),
        1.0 / floor
    );
    println!(
        "| guardrail flat scan, 1 thread | {:.1} | {:.0} | {:.2} |",
        ms(flat_one),
        1.0 / flat_one,
        flat_one / floor
    );
    println!(
        "| guardrail flat scan, 2 threads | {:.1} | {:.0} | {:.2} |",
        ms(flat_two),
        1.0 / flat_two,
        flat_two / floor
    );
    println!(
        "| guardrail multi-index, 1 thread | {:.2} | {:.0} | |",
        ms(mih),
        1.0 / mih
    );
    match peer {
        Ok(output) if output.status.success() => {
            let value: serde_json::Value =
                serde_json::from_slice(&output.stdout).expect("peer JSON");
            let flat_ms = value["flat_ms_per_query"].as_f64().unwrap_or(f64::NAN);
            let mih_ms = value["mih_ms_per_query"].as_f64().unwrap_or(f64::NAN);
            println!(
                "| faiss IndexBinaryFlat range_search, 1 thread | {flat_ms:.1} | {:.0} | {:.2} |",
                1e3 / flat_ms,
                flat_ms / ms(floor)
            );
            println!(
                "| faiss IndexBinaryMultiHash(256,16,16) nflip=1, 1 thread | {mih_ms:.2} | {:.0} | |",
                1e3 / mih_ms
            );
            println!();
            println!(
                "guardrail flat / faiss flat speed-up: {:.1}x; guardrail multi-index / faiss multi-hash: {:.1}x",
                flat_ms / ms(flat_one),
                mih_ms / ms(mih)
            );
            println!(
                "multi-index build: guardrail {build:.1} s, faiss {:.1} s; matches found: guardrail {flat_matches}, faiss flat {}, faiss multi-hash {}",
                value["mih_build_s"].as_f64().unwrap_or(f64::NAN),
                value["flat_matches"],
                value["mih_matches"]
            );
        }
        other => println!(
            "\nfaiss not run (pip install -r crates/guardrail-hashindex/peers/requirements-bench.txt): {other:?}"
        ),
    }
    println!(
        "guardrail multi-index memory: {} MB (plus the {} MB bank)",
        bank.multi_index_memory().unwrap_or(0) / 1_000_000,
        count * 32 / 1_000_000
    );
}
