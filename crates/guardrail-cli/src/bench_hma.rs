//! The `hma` scenario of `guardrail bench serve`: HMA-compatible lookups
//! (`GET /m/lookup?signal=…&signal_type=pdq`) against a large PDQ bank, over HTTP and in
//! process on the same index, so the ratio is the service's overhead.
//!
//! Wiring only. The bank is generated (uniform random 256-bit hashes from a fixed seed)
//! and loaded with `HmaState::replay`, the path a service takes on start, so its multi-index
//! is built as in service; nothing of it is written to the ledger. Half the queries are a
//! banked hash with up to 31 bits flipped (HMA's match threshold: a hit), half fresh random
//! hashes (a miss), as the matching benchmark draws them.
//!
//! It must never keep the generated bank: it lives in this process's memory only.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use guardrail_hma::BankChange;
use guardrail_server::Service;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::bench::{Figures, load_get, report};

/// The bank's name.
const BANK: &str = "BENCH_BANK";
/// Seed of the generated hashes.
const SEED: u64 = 0x6864_6d61;

fn hex(bits: &[u8; 32]) -> String {
    bits.iter().map(|b| format!("{b:02x}")).collect()
}

fn random_hash(rng: &mut ChaCha8Rng) -> [u8; 32] {
    let mut bits = [0u8; 32];
    rng.fill(&mut bits);
    bits
}

/// The `n`th banked hash (regenerated on demand, so queries need not keep the bank).
fn banked(n: u64) -> [u8; 32] {
    random_hash(&mut ChaCha8Rng::seed_from_u64(
        SEED ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15),
    ))
}

/// Query `n`: a near copy of a banked hash (even `n`) or a fresh one (odd `n`).
fn query(n: u64, bank_size: u64) -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(n ^ 0x51_7c_c1_b7);
    if n % 2 == 1 {
        return hex(&random_hash(&mut rng));
    }
    let mut bits = banked(rng.gen_range(0..bank_size));
    for _ in 0..rng.gen_range(0..=31u32) {
        let bit = rng.gen_range(0..256usize);
        bits[bit / 8] ^= 1 << (bit % 8);
    }
    hex(&bits)
}

/// Loads a bank of `size` generated hashes into the service's HMA state.
fn load_bank(service: &Service, size: u64) -> Result<Duration> {
    let started = Instant::now();
    let created = BankChange::BankCreated {
        name: BANK.into(),
        matching_enabled_ratio: 1.0,
    };
    let contents = (0..size).map(|n| BankChange::ContentAdded {
        id: n + 1,
        bank: BANK.into(),
        signals: BTreeMap::from([("pdq".to_string(), hex(&banked(n)))]),
        user_metadata: None,
        note: None,
        added_at: 0,
    });
    service
        .hma()
        .replay(std::iter::once(created).chain(contents))
        .context("the generated bank does not load")?;
    Ok(started.elapsed())
}

/// Runs the scenario.
pub(crate) async fn bench_hma(
    service: &Arc<Service>,
    address: SocketAddr,
    token: &str,
    bank_size: u64,
    connections: usize,
    seconds: u64,
) -> Result<()> {
    let loaded = {
        let service = service.clone();
        tokio::task::spawn_blocking(move || load_bank(&service, bank_size)).await??
    };
    println!(
        "hma: {} PDQ hashes banked and indexed in {:.1} s",
        service.hma().pdq_count(),
        loaded.as_secs_f64()
    );
    // In process first: the same queries on the same index, one thread.
    let started = Instant::now();
    let mut latencies = Vec::new();
    let mut hits = 0u64;
    let mut n = 0u64;
    while started.elapsed() < Duration::from_secs(seconds) {
        let hash = query(n, bank_size);
        n += 1;
        let sent = Instant::now();
        let found = service.hma().match_pdq(&hash);
        latencies.push(sent.elapsed());
        hits += u64::from(!found.is_empty());
    }
    latencies.sort_unstable();
    let in_process = Figures::from_latencies(&latencies, started.elapsed().as_secs_f64());
    let http = load_get(
        address,
        token,
        200,
        connections,
        seconds,
        Arc::new(move |n: u64| format!("/m/lookup?signal={}&signal_type=pdq", query(n, bank_size))),
    )
    .await?;
    report(
        &format!("HMA lookup, {bank_size} hashes, in process (1 thread)"),
        &in_process,
        "requests",
    );
    println!("  queries that matched: {hits} of {n} (half are near copies of banked hashes)");
    report(
        &format!("HMA lookup (GET /m/lookup), {bank_size} hashes, HTTP"),
        &http,
        "requests",
    );
    println!(
        "  HTTP / in-process throughput: {:.2}; HMA's reported figure: 450-500 requests/s across 10 pods",
        http.per_second() / in_process.per_second()
    );
    Ok(())
}
