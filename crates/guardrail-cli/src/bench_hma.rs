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
//! With `--peer`, another HMA-compatible server holding the same bank (loaded from
//! `--write-bank`'s file) gets the same queries in the same run, and its matches for the
//! first queries are compared with Guardrail's: a differential check against HMA itself.
//!
//! It must never keep a bank of anything but generated noise hashes.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use guardrail_hma::BankChange;
use guardrail_server::Service;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;

use crate::bench::{Connection, Figures, load_get, report};

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

/// What the scenario is asked to do.
pub(crate) struct HmaRun {
    pub bank_size: u64,
    pub connections: usize,
    pub seconds: u64,
    /// Write the generated bank here (`content_id,pdq` lines) for loading a peer.
    pub write_bank: Option<PathBuf>,
    /// A peer HMA-compatible server holding the same bank, driven the same way.
    pub peer: Option<SocketAddr>,
}

/// Queries whose matches are compared with the peer's, one at a time, before the load.
const COMPARED_QUERIES: u64 = 2_000;

/// Runs the scenario.
pub(crate) async fn bench_hma(
    service: &Arc<Service>,
    address: SocketAddr,
    token: &str,
    run: HmaRun,
) -> Result<()> {
    let bank_size = run.bank_size;
    if let Some(path) = &run.write_bank {
        write_bank(path, bank_size)?;
        println!("hma: the generated bank written to {}", path.display());
    }
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
    while started.elapsed() < Duration::from_secs(run.seconds) {
        let hash = query(n, bank_size);
        n += 1;
        let sent = Instant::now();
        let found = service.hma().match_pdq(&hash);
        latencies.push(sent.elapsed());
        hits += u64::from(!found.is_empty());
    }
    latencies.sort_unstable();
    let in_process = Figures::from_latencies(&latencies, started.elapsed().as_secs_f64());
    // The same query stream for Guardrail and for the peer.
    let lookups = |target: SocketAddr| {
        let path =
            move |n: u64| format!("/m/lookup?signal={}&signal_type=pdq", query(n, bank_size));
        load_get(
            target,
            token,
            200,
            run.connections,
            run.seconds,
            Arc::new(path),
        )
    };
    let http = lookups(address).await?;
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
    if let Some(peer) = run.peer {
        let agreed = compare_with_peer(service, peer, bank_size).await?;
        println!(
            "  the peer at {peer} found the same matches (content ids and distances) for {agreed} of {COMPARED_QUERIES} queries"
        );
        let figures = lookups(peer).await?;
        report(
            &format!("HMA lookup (GET /m/lookup), {bank_size} hashes, HTTP, the peer at {peer}"),
            &figures,
            "requests",
        );
        println!(
            "  Guardrail / peer throughput: {:.2}",
            http.per_second() / figures.per_second()
        );
    }
    Ok(())
}

/// Writes the generated bank as `content_id,pdq` lines (the ids the scenario banks).
fn write_bank(path: &std::path::Path, size: u64) -> Result<()> {
    let file = std::fs::File::create(path)
        .with_context(|| format!("cannot create the bank file {}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    for n in 0..size {
        writeln!(out, "{},{}", n + 1, hex(&banked(n)))?;
    }
    out.flush()
        .with_context(|| format!("cannot write the bank file {}", path.display()))?;
    Ok(())
}

/// One match as HMA's `/m/lookup` lists it under a bank's name.
#[derive(Deserialize)]
struct PeerMatch {
    bank_content_id: u64,
    distance: String,
}

/// Asks the peer the first [`COMPARED_QUERIES`] queries one at a time and counts those
/// whose matches in the bank (content id and distance) are the ones Guardrail finds.
/// Each disagreement is printed (the first few), since it is either a bug here or there.
async fn compare_with_peer(service: &Service, peer: SocketAddr, bank_size: u64) -> Result<u64> {
    let mut connection = Connection::open(peer).await?;
    let mut agreed = 0;
    let mut shown = 0;
    for n in 0..COMPARED_QUERIES {
        let hash = query(n, bank_size);
        let path = format!("/m/lookup?signal={hash}&signal_type=pdq");
        let answers = connection
            .send(&[("GET", path.clone(), Vec::new())], "")
            .await?;
        let Some((status, body, _)) = answers.into_iter().next() else {
            bail!("the peer answered nothing to {path}");
        };
        if status != 200 {
            bail!("the peer answered {status} to {path}");
        }
        let by_bank: BTreeMap<String, Vec<PeerMatch>> = serde_json::from_slice(&body)
            .with_context(|| format!("the peer's answer to {path} is not HMA's lookup shape"))?;
        let mut theirs: Vec<(u64, String)> = by_bank
            .get(BANK)
            .into_iter()
            .flatten()
            .map(|m| (m.bank_content_id, m.distance.clone()))
            .collect();
        theirs.sort();
        let mut ours: Vec<(u64, String)> = service
            .hma()
            .match_pdq(&hash)
            .into_iter()
            .map(|(_, id, distance)| (id, distance.to_string()))
            .collect();
        ours.sort();
        if ours == theirs {
            agreed += 1;
        } else if shown < 5 {
            shown += 1;
            println!("  query {n} ({hash}): Guardrail {ours:?}, the peer {theirs:?}");
        }
    }
    Ok(agreed)
}
