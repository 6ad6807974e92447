//! `cargo bench -p guardrail-hashindex --bench large_bank`: a 100,000,000-entry bank
//! (3.2 GB of hashes) written to disk by streaming, opened by memory map, and queried
//! with 8-dihedral uploads by the flat scan (one and two threads) and by the multi-index.
//! Reports write time, open time, multi-index build time and memory, queries per second
//! and the process's peak resident memory. `GUARDRAIL_BENCH_ENTRIES` sets the size.
//!
//! The hashes are generated from the entry index (30% near-duplicates of 1,000
//! originals, the rest uniform), so writing needs no copy of the bank in memory.

use std::io::BufWriter;
use std::time::Instant;

use guardrail_hashindex::{BankConfig, Entry, Strategy, open_bank, write_bank};
use guardrail_pdq::PdqHash;

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn random_hash(seed: u64) -> [u64; 4] {
    [
        splitmix(seed * 4),
        splitmix(seed * 4 + 1),
        splitmix(seed * 4 + 2),
        splitmix(seed * 4 + 3),
    ]
}

fn hash_at(index: usize) -> PdqHash {
    let index = index as u64;
    let mut words = if index % 10 < 3 {
        random_hash((1 << 40) | (splitmix(index) % 1_000))
    } else {
        random_hash(index)
    };
    if index % 10 < 3 {
        // A near-duplicate: flip up to 31 bits chosen from the index.
        let flips = splitmix(index ^ 0xABCD) % 32;
        for k in 0..flips {
            let bit = splitmix(index * 64 + k) % 256;
            words[(bit / 64) as usize] ^= 1 << (bit % 64);
        }
    }
    let mut bytes = [0u8; 32];
    for (chunk, word) in bytes.chunks_exact_mut(8).zip(words) {
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    PdqHash(bytes)
}

fn peak_resident_mb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map_or(0, |kib| kib / 1024)
}

fn main() {
    let quick = std::env::args().any(|a| a == "--test");
    let count: usize = std::env::var("GUARDRAIL_BENCH_ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 100_000 } else { 100_000_000 });
    let path = std::env::temp_dir().join(format!("guardrail-large-{}.bank", std::process::id()));
    let config = BankConfig::positive("large");
    let started = Instant::now();
    {
        let file = std::fs::File::create(&path).expect("create bank file");
        let mut writer = BufWriter::with_capacity(1 << 22, file);
        write_bank(&mut writer, &config, count, |i| Entry {
            hash: hash_at(i),
            source: String::new(),
            entry_id: String::new(),
            added_at: i as i64,
        })
        .expect("write bank");
        std::io::Write::flush(&mut writer).expect("flush");
    }
    let write_s = started.elapsed().as_secs_f64();
    let file_mb = std::fs::metadata(&path)
        .map(|m| m.len() / 1_000_000)
        .unwrap_or(0);
    let started = Instant::now();
    let mut bank = open_bank(&path).expect("open bank");
    let open_ms = started.elapsed().as_secs_f64() * 1e3;
    // Uploads: half are edited copies of a bank entry (in one of their dihedrals).
    let queries: Vec<Vec<PdqHash>> = (0..10u64)
        .map(|q| {
            (0..8u64)
                .map(|d| {
                    if q % 2 == 0 && d == 0 {
                        let mut near = hash_at((splitmix(q) % count as u64) as usize);
                        near.0[(q % 32) as usize] ^= 0x11;
                        near
                    } else {
                        let words = random_hash((1 << 50) | (q * 8 + d));
                        let mut bytes = [0u8; 32];
                        for (chunk, word) in bytes.chunks_exact_mut(8).zip(words) {
                            chunk.copy_from_slice(&word.to_le_bytes());
                        }
                        PdqHash(bytes)
                    }
                })
                .collect()
        })
        .collect();
    let time = |bank: &guardrail_hashindex::Bank, strategy: Strategy, threads: bool| {
        let started = Instant::now();
        let mut found = 0;
        for query in &queries {
            found += bank.search(query, 31, strategy, threads).len();
        }
        (
            started.elapsed().as_secs_f64() / queries.len() as f64,
            found,
        )
    };
    // The first pass faults the mapped file in; report it apart.
    let (cold, _) = time(&bank, Strategy::Flat, true);
    let (flat_one, found_flat) = time(&bank, Strategy::Flat, false);
    let (flat_two, _) = time(&bank, Strategy::Flat, true);
    let started = Instant::now();
    bank.build_multi_index().expect("fits in u32 positions");
    let build_s = started.elapsed().as_secs_f64();
    let (mih, found_mih) = time(&bank, Strategy::MultiIndex, false);
    assert_eq!(
        found_flat, found_mih,
        "the multi-index must find what the flat scan finds"
    );
    let index_mb = bank.multi_index_memory().unwrap_or(0) / 1_000_000;
    std::fs::remove_file(&path).ok();
    println!(
        "# large bank: {count} entries, file {file_mb} MB, 10 uploads x 8 dihedral hashes, threshold 31"
    );
    println!();
    println!("| measure | value |");
    println!("|---|---:|");
    println!("| write bank file (streaming) | {write_s:.1} s |");
    println!("| open by memory map | {open_ms:.2} ms |");
    println!(
        "| first query (pages the file in), 2 threads | {:.0} ms |",
        cold * 1e3
    );
    println!(
        "| flat scan, 1 thread | {:.0} ms/upload ({:.1} uploads/s) |",
        flat_one * 1e3,
        1.0 / flat_one
    );
    println!(
        "| flat scan, 2 threads | {:.0} ms/upload ({:.1} uploads/s) |",
        flat_two * 1e3,
        1.0 / flat_two
    );
    println!("| multi-index build | {build_s:.1} s, {index_mb} MB |");
    println!(
        "| multi-index query, 1 thread | {:.0} ms/upload ({:.1} uploads/s) |",
        mih * 1e3,
        1.0 / mih
    );
    println!("| matches found (flat = multi-index) | {found_flat} |");
    println!("| peak resident memory | {} MB |", peak_resident_mb());
}
