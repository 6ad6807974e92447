//! `cargo bench -p guardrail-policy --bench decide`: decisions per second and request
//! latency (p50, p99, max) for account-suggestion requests of 500 candidates each, in
//! process, one core. Target: p99 under 1 ms per request.
//!
//! Candidates mix clean adults, minors, parent-run accounts, network members and
//! accounts with missing signals, so every rule is exercised; viewers mix clean and
//! risk-flagged adults and minors.

use std::hint::black_box;
use std::time::Instant;

use guardrail_policy::{
    AccountId, AccountSignals, AgeBand, Candidate, Context, Engine, NetworkSignal, Relationship,
    Surface,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const CANDIDATES_PER_REQUEST: usize = 500;

fn random_account(rng: &mut ChaCha8Rng, id: u32) -> AccountSignals {
    let mut account = AccountSignals::clean_adult(AccountId(id));
    match rng.gen_range(0..100) {
        0..=14 => account.age = Some(AgeBand::Minor),
        15..=24 => account.features_minors = Some(true),
        25..=27 => {
            account.network = Some(NetworkSignal {
                score: rng.gen_range(0.5..1.0),
                member: true,
                role: None,
            })
        }
        28..=32 => {
            account.network = Some(NetworkSignal {
                score: rng.gen_range(0.2..0.5),
                member: false,
                role: None,
            })
        }
        33..=34 => account = AccountSignals::unknown(AccountId(id)),
        _ => {}
    }
    account
}

fn main() {
    let quick = std::env::args().any(|a| a == "--test");
    let requests = if quick { 20 } else { 4_000 };
    let engine = Engine::default_engine();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let pool: Vec<AccountSignals> = (0..20_000).map(|id| random_account(&mut rng, id)).collect();
    let viewers: Vec<AccountSignals> = (0..200)
        .map(|id| random_account(&mut rng, 1_000_000 + id))
        .collect();
    let mut latencies = Vec::with_capacity(requests);
    let mut dropped = 0usize;
    let started = Instant::now();
    for request in 0..requests {
        let viewer = &viewers[request % viewers.len()];
        let start = rng.gen_range(0..pool.len() - CANDIDATES_PER_REQUEST);
        let candidates: Vec<Candidate> = pool[start..start + CANDIDATES_PER_REQUEST]
            .iter()
            .map(|account| Candidate {
                account: Some(account),
                relationship: Some(Relationship {
                    viewer_follows: rng.gen_bool(0.05),
                    ..Relationship::default()
                }),
                ..Candidate::default()
            })
            .collect();
        let context = Context {
            surface: Surface::AccountSuggestions,
            viewer: Some(viewer),
            query: None,
        };
        let begin = Instant::now();
        let verdicts = engine.decide_batch(&context, black_box(&candidates));
        latencies.push(begin.elapsed());
        dropped += verdicts
            .iter()
            .filter(|v| v.action == guardrail_policy::Action::Drop)
            .count();
        black_box(verdicts);
    }
    let total = started.elapsed();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q) as usize];
    let decisions = requests * CANDIDATES_PER_REQUEST;
    let decide_time: f64 = latencies.iter().map(|d| d.as_secs_f64()).sum();
    println!(
        "# decision engine: {requests} requests x {CANDIDATES_PER_REQUEST} candidates, account suggestions, one core"
    );
    println!();
    println!("| metric | value |");
    println!("|---|---:|");
    println!(
        "| decisions per second (inside decide_batch) | {:.0} |",
        decisions as f64 / decide_time
    );
    println!(
        "| request latency p50 | {:.1} µs |",
        at(0.50).as_secs_f64() * 1e6
    );
    println!(
        "| request latency p99 | {:.1} µs |",
        at(0.99).as_secs_f64() * 1e6
    );
    println!(
        "| request latency max | {:.1} µs |",
        latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1e6)
    );
    println!(
        "| candidates dropped | {:.1}% |",
        100.0 * dropped as f64 / decisions as f64
    );
    println!(
        "| wall time (with request setup) | {:.2} s |",
        total.as_secs_f64()
    );
}
