//! Benchmark driver for the dataflow map (figures in BENCHMARKS.md, "Dataflow map").
//!
//! `cargo bench -p guardrail-dataflow --bench dataflow -- scale ACCOUNTS WORKERS FOLLOWS...`
//! builds a planted synthetic world with ACCOUNTS background accounts (LFR, mean degree
//! 10) and prints, one line each: the single-node `build_map` time (a full recompute) and
//! its Leiden run; the dataflow from scratch on WORKERS workers from that Leiden partition
//! (events per second per worker, resident memory per edge and per account against the
//! CSR's 18 bytes per edge); then, for each FOLLOWS count in turn, the latency of one batch
//! of that many new random follows applied to the running dataflow.
//!
//! A benchmark binary, so it does IO (reads /proc/self/status for memory); the library
//! does not.

use std::time::Instant;

use guardrail_dataflow::{ClusterConfig, DataflowConfig, MapSession, Update};
use guardrail_graph::EdgeKind;
use guardrail_graph::graph::BYTES_PER_EDGE;
use guardrail_graph::leiden::leiden;
use guardrail_graph::map::{MapConfig, build_map};
use guardrail_graph::synthetic::{LfrConfig, WorldConfig, world};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

type Failure = Box<dyn std::error::Error>;

fn status_bytes(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with(field))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

fn scale(accounts: usize, workers: usize, follows: &[usize]) -> Result<(), Failure> {
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
        budget: synthetic.truth.network_size(),
        ..MapConfig::default()
    };
    let started = Instant::now();
    let single = build_map(input, &synthetic.text, &map_config)?;
    println!(
        "single-node build_map (full recompute): {:.2} s ({} suspects at budget {})",
        started.elapsed().as_secs_f64(),
        single.suspects.len(),
        map_config.budget
    );
    drop(single);
    let started = Instant::now();
    let labels = leiden(&input.graph, &map_config.leiden)?.membership;
    println!(
        "  of which Leiden (the dataflow's starting communities): {:.2} s",
        started.elapsed().as_secs_f64()
    );

    let before = status_bytes("VmRSS:");
    let started = Instant::now();
    let mut session = MapSession::start_with_labels(
        input,
        &synthetic.text,
        &DataflowConfig::from(map_config),
        &ClusterConfig::local(workers),
        labels,
    )?;
    let scratch = started.elapsed().as_secs_f64();
    let resident = status_bytes("VmRSS:").saturating_sub(before);
    let events = nodes + edges;
    println!(
        "dataflow from scratch on {workers} workers: {scratch:.2} s, {:.0} events/s per worker ({events} events)",
        events as f64 / scratch / workers as f64
    );
    println!(
        "dataflow resident memory: {:.0} MB, {:.0} bytes per edge, {:.0} bytes per account (CSR: {BYTES_PER_EDGE} bytes per edge); peak of the process {:.0} MB",
        resident as f64 / 1e6,
        resident as f64 / edges as f64,
        resident as f64 / nodes as f64,
        status_bytes("VmHWM:") as f64 / 1e6
    );
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for &count in follows {
        let batch: Vec<Update> = (0..count)
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
            "incremental: {count} new follows applied in {:.3} s ({} scores changed)",
            started.elapsed().as_secs_f64(),
            changes.len()
        );
    }
    let started = Instant::now();
    let map = session.map()?.map(|map| map.suspects.len()).unwrap_or(0);
    println!(
        "map assembled from the maintained scores in {:.2} s ({map} suspects)",
        started.elapsed().as_secs_f64()
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
        Some("scale") if args.len() >= 4 => {
            let follows = args[3..]
                .iter()
                .map(|count| count.parse())
                .collect::<Result<Vec<usize>, _>>()?;
            scale(args[1].parse()?, args[2].parse()?, &follows)
        }
        _ => {
            eprintln!("usage: dataflow scale ACCOUNTS WORKERS FOLLOWS...");
            Ok(())
        }
    }
}
