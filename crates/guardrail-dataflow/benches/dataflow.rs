//! Benchmark driver for the dataflow map (figures in BENCHMARKS.md, "Dataflow map").
//!
//! `cargo bench -p guardrail-dataflow --bench dataflow -- scale ACCOUNTS WORKERS FOLLOWS`
//! builds a planted synthetic world with ACCOUNTS background accounts and prints, one line
//! each: the single-node `build_map` time; the dataflow from scratch on WORKERS workers
//! (events per second per worker, resident memory per edge and per account against the
//! CSR's 18 bytes per edge); and the latency of one batch of FOLLOWS new random follows.
//!
//! A benchmark binary, so it does IO (reads /proc/self/status for memory); the library
//! does not.

use std::time::Instant;

use guardrail_dataflow::{ClusterConfig, DataflowConfig, MapSession, Update};
use guardrail_graph::EdgeKind;
use guardrail_graph::graph::BYTES_PER_EDGE;
use guardrail_graph::map::{MapConfig, build_map};
use guardrail_graph::synthetic::{LfrConfig, WorldConfig, world};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

type Failure = Box<dyn std::error::Error>;

fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmRSS:"))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

fn scale(accounts: usize, workers: usize, follows: usize) -> Result<(), Failure> {
    let config = WorldConfig {
        background: LfrConfig {
            average_degree: 10.0,
            ..LfrConfig::standard(accounts, 0.3)
        },
        ..WorldConfig::default()
    };
    let started = Instant::now();
    let synthetic = world(&config, 1)?;
    let input = &synthetic.input;
    let (nodes, edges) = (input.graph.node_count(), input.graph.edge_count());
    println!(
        "world: {nodes} accounts, {edges} edges, {} seeds, generated in {:.1} s",
        input.seeds.len(),
        started.elapsed().as_secs_f64()
    );
    let map_config = MapConfig {
        budget: 1_000,
        ..MapConfig::default()
    };
    let started = Instant::now();
    let single = build_map(input, &synthetic.text, &map_config)?;
    println!(
        "single-node build_map: {:.2} s ({} suspects)",
        started.elapsed().as_secs_f64(),
        single.suspects.len()
    );
    let before = resident_bytes();
    let started = Instant::now();
    let mut session = MapSession::start(
        input,
        &synthetic.text,
        &DataflowConfig::from(map_config),
        &ClusterConfig::local(workers),
    )?;
    let scratch = started.elapsed().as_secs_f64();
    let resident = resident_bytes().saturating_sub(before);
    let events = nodes + edges;
    println!(
        "dataflow from scratch on {workers} workers: {scratch:.2} s, {:.0} events/s per worker ({events} events)",
        events as f64 / scratch / workers as f64
    );
    println!(
        "dataflow resident memory: {:.0} MB, {:.0} bytes per edge, {:.0} bytes per account (CSR: {BYTES_PER_EDGE} bytes per edge)",
        resident as f64 / 1e6,
        resident as f64 / edges as f64,
        resident as f64 / nodes as f64
    );
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let batch: Vec<Update> = (0..follows)
        .map(|_| {
            let source = rng.gen_range(0..nodes as u32);
            let mut target = rng.gen_range(0..nodes as u32);
            if target == source {
                target = (target + 1) % nodes as u32;
            }
            Update::Edge {
                source,
                target,
                kind: EdgeKind::Follow,
                weight: 1,
            }
        })
        .collect();
    let started = Instant::now();
    let changes = session.apply(&batch)?;
    println!(
        "incremental: {follows} new follows applied in {:.3} s ({} scores changed)",
        started.elapsed().as_secs_f64(),
        changes.len()
    );
    session.finish();
    Ok(())
}

fn main() -> Result<(), Failure> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with("--"))
        .collect();
    match args.first().map(String::as_str) {
        Some("scale") if args.len() == 4 => {
            scale(args[1].parse()?, args[2].parse()?, args[3].parse()?)
        }
        _ => {
            eprintln!("usage: dataflow scale ACCOUNTS WORKERS FOLLOWS");
            Ok(())
        }
    }
}
