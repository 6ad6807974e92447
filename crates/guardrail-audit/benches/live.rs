//! Derived state that follows the ledger, measured (issue "the ledger"): how long folding
//! a batch of new events and re-mapping takes on a large world, what a rebuild from the
//! whole ledger costs, and what swapping snapshots under load does to decision latency.
//!
//! Run: `cargo bench -p guardrail-audit --bench live -- [ACCOUNTS] [SECONDS]` (default
//! 100,000 accounts, 10 s per latency phase). Prints one table; figures go to BENCHMARKS.md.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use guardrail_adapter::{Deriver, Guard, MapOutcome, NoLog, platform_policy};
use guardrail_dataflow::ledger::LedgerFeed;
use guardrail_dataflow::{ClusterConfig, DataflowConfig, MapSession};
use guardrail_graph::map::MapConfig;
use guardrail_ledger::ingest::world_events;
use guardrail_ledger::state::LedgerState;
use guardrail_policy::RuleSet;
use guardrail_sim::vocabulary::BANNED_BASES;
use guardrail_sim::{WorldConfig, generate};
use guardrail_types::{AccountId, Surface};

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let accounts: u32 = args.first().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let seconds: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10);
    let policy = platform_policy(&BANNED_BASES).expect("platform policy");

    let started = Instant::now();
    let (world, _) = generate(&WorldConfig::default().scaled_to(accounts), 1);
    let events = world_events(&world);
    println!(
        "world: {} accounts, {} events (generated and turned into events in {:.1} s)",
        world.accounts.len(),
        events.len(),
        started.elapsed().as_secs_f64()
    );

    // A rebuild from the whole ledger: fold every event, derive every signal, map.
    let started = Instant::now();
    let state = LedgerState::from_events(&events);
    let folded = started.elapsed();
    let rebuilt = Deriver::from_ledger(&state, &policy, None);
    let rebuild = started.elapsed();
    println!(
        "rebuild from {} events: fold {:.2} s, derive + map {:.2} s, total {:.2} s; peak memory so far {:.0} MiB",
        events.len(),
        folded.as_secs_f64(),
        (rebuild - folded).as_secs_f64(),
        rebuild.as_secs_f64(),
        peak_rss_mib()
    );
    drop(rebuilt);

    // Incremental: everything but the last 10,000 events is already derived and mapped;
    // the last 10,000 arrive, then a re-map.
    let tail = 10_000.min(events.len());
    let head = events.len() - tail;
    let mut state = LedgerState::from_events(&events[..head]);
    let mut live = Deriver::from_ledger(&state, &policy, None);
    // The dataflow engine (`serve --map-engine dataflow`) starts on the same state.
    let mut dataflow_state = state.clone();
    let started = Instant::now();
    let (mut feed, start) = LedgerFeed::start(&dataflow_state, &policy);
    let mut session = MapSession::start(
        &start.input,
        &start.text,
        &DataflowConfig::from(MapConfig {
            budget: usize::MAX,
            ..MapConfig::default()
        }),
        &ClusterConfig::local(1),
    )
    .expect("the dataflow starts");
    drop(start);
    println!(
        "dataflow engine: started on {head} events in {:.2} s; peak memory so far {:.0} MiB",
        started.elapsed().as_secs_f64(),
        peak_rss_mib()
    );
    let started = Instant::now();
    for (index, event) in events[head..].iter().enumerate() {
        let folded = state.fold((head + index) as u64 + 1, event);
        live.follow(&state, &folded);
    }
    let applied = started.elapsed();
    let snapshot = live.snapshot();
    let published = started.elapsed();
    live.remap(&state);
    let remapped = live;
    let total = started.elapsed();
    println!(
        "incremental: {tail} new events folded and derived in {:.3} s ({:.0} events/s), published in {:.4} s, re-map {:.2} s, total {:.2} s (goal <= 2 s)",
        applied.as_secs_f64(),
        tail as f64 / applied.as_secs_f64(),
        (published - applied).as_secs_f64(),
        (total - published).as_secs_f64(),
        total.as_secs_f64()
    );
    drop(snapshot);
    // The same 10,000 events and a re-map by the dataflow engine: fold them and feed the
    // change, take the map it then holds, publish it in place.
    let mut by_dataflow = remapped.clone();
    let started = Instant::now();
    let mut updates = Vec::new();
    for (index, event) in events[head..].iter().enumerate() {
        updates.extend(feed.fold(&mut dataflow_state, (head + index) as u64 + 1, event));
    }
    let fed = started.elapsed();
    session.apply(&updates).expect("a round");
    let applied = started.elapsed();
    let map = session.map().expect("the map").expect("the driver");
    let assembled = started.elapsed();
    by_dataflow.set_map(MapOutcome {
        map: Ok(map),
        accounts: feed.accounts(),
        version: dataflow_state.last_seq,
    });
    let total = started.elapsed();
    println!(
        "dataflow re-map of the same {tail} events: folded into {} input changes in {:.3} s, dataflow round {:.3} s, map assembled {:.3} s, published {:.3} s, total {:.2} s (goal <= 2 s)",
        updates.len(),
        fed.as_secs_f64(),
        (applied - fed).as_secs_f64(),
        (assembled - applied).as_secs_f64(),
        (total - assembled).as_secs_f64(),
        total.as_secs_f64()
    );
    let members = |deriver: &Deriver| -> std::collections::HashSet<u32> {
        deriver
            .snapshot()
            .signals()
            .filter(|s| s.network.as_ref().is_some_and(|n| n.member))
            .map(|s| s.id.0)
            .collect()
    };
    let (ours, theirs) = (members(&by_dataflow), members(&remapped));
    println!(
        "members: dataflow {}, single-node {}, shared {}",
        ours.len(),
        theirs.len(),
        ours.intersection(&theirs).count()
    );
    session.finish();
    drop(by_dataflow);

    // Decision latency: 100-candidate account-suggestion requests on one thread, first
    // with no writer, then with a writer publishing a new snapshot every second.
    let guard = Arc::new(Guard::new(
        remapped.clone(),
        policy.clone(),
        RuleSet::default_rules(),
        Arc::new(NoLog),
    ));
    let n = world.accounts.len() as u32;
    let phase = |swap: bool| -> Vec<Duration> {
        let stop = Arc::new(AtomicBool::new(false));
        let writer = swap.then(|| {
            let (guard, stop, next) = (guard.clone(), stop.clone(), remapped.clone());
            std::thread::spawn(move || {
                let mut swaps = 0u32;
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_secs(1));
                    guard.replace(next.clone());
                    swaps += 1;
                }
                swaps
            })
        });
        let mut latencies = Vec::new();
        let mut viewer = 0u32;
        let until = Instant::now() + Duration::from_secs(seconds);
        while Instant::now() < until {
            viewer = (viewer + 7_919) % n;
            let started = Instant::now();
            let view = guard.view();
            for c in 0..100u32 {
                let candidate = AccountId((viewer + c * 131) % n);
                std::hint::black_box(view.decide_account(
                    Surface::AccountSuggestions,
                    Some(AccountId(viewer)),
                    candidate,
                ));
            }
            latencies.push(started.elapsed());
        }
        stop.store(true, Ordering::Relaxed);
        if let Some(writer) = writer {
            let swaps = writer.join().unwrap_or(0);
            println!("  (writer published {swaps} snapshots)");
        }
        latencies.sort_unstable();
        latencies
    };
    let quiet = phase(false);
    let swapping = phase(true);
    for (name, latencies) in [("no swaps", &quiet), ("a swap every second", &swapping)] {
        println!(
            "decisions ({name}): {} requests of 100 candidates, p50 {:.0} µs, p99 {:.0} µs",
            latencies.len(),
            percentile(latencies, 0.5).as_secs_f64() * 1e6,
            percentile(latencies, 0.99).as_secs_f64() * 1e6
        );
    }
    let ratio = percentile(&swapping, 0.99).as_secs_f64() / percentile(&quiet, 0.99).as_secs_f64();
    println!("p99 with swaps / without: {ratio:.3} (goal <= 1.10)");
    println!("peak memory {:.0} MiB", peak_rss_mib());
}
