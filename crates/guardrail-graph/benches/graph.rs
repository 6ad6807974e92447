//! Side-by-side benchmark driver for guardrail-graph (run through `peers/bench.sh`,
//! which times the Python peers on the same files in the same run).
//!
//! Commands (after `cargo bench -p guardrail-graph --bench graph --`):
//! - `generate DIR SIZE...`: writes LFR graphs `lfr-SIZE.txt` (μ = 0.3) and 100 seeds
//!   `seeds-SIZE.txt` for each size, and `powerlaw.txt` when a size is `powerlaw:M`
//!   (M million edges).
//! - `run DIR NAME...`: for each `DIR/NAME.txt`, times building the graph from the file,
//!   Leiden (modularity), top-1,000 PPR by push from the 100 seeds, and PPR by power
//!   iteration; prints one line per measurement.
//! - `ppr-large M`: builds an M-million-edge power-law graph in memory and times
//!   top-1,000 PPR from 100 seeds by push.
//! - `evaluate SEED...`: the map against text-only and followers-of-seeds baselines.
//!
//! This is a benchmark binary, so it does IO; the library does not.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use guardrail_graph::evaluation::evaluate;
use guardrail_graph::graph::{parse_edge_list, parse_seed_list};
use guardrail_graph::leiden::{LeidenConfig, leiden};
use guardrail_graph::map::MapConfig;
use guardrail_graph::ppr::{PprConfig, ppr_power, ppr_push};
use guardrail_graph::synthetic::{LfrConfig, WorldConfig, lfr, world};
use guardrail_graph::{EdgeKind, GraphBuilder};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

type Failure = Box<dyn std::error::Error>;

fn main() -> Result<(), Failure> {
    // `cargo bench` passes `--bench`; skip flags.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with("--"))
        .collect();
    match args.first().map(String::as_str) {
        Some("generate") if args.len() >= 3 => generate(Path::new(&args[1]), &args[2..]),
        Some("run") if args.len() >= 3 => run(Path::new(&args[1]), &args[2..]),
        Some("ppr-large") if args.len() == 2 => ppr_large(args[1].parse()?),
        Some("evaluate") => evaluate_worlds(&args[1..]),
        _ => {
            eprintln!(
                "usage: graph generate DIR SIZE... | run DIR NAME... | ppr-large MILLIONS | evaluate SEED..."
            );
            Ok(())
        }
    }
}

fn seeds_for(node_count: usize, rng: &mut ChaCha8Rng) -> Vec<u32> {
    let mut seeds: Vec<u32> = (0..100)
        .map(|_| rng.gen_range(0..node_count as u32))
        .collect();
    seeds.sort_unstable();
    seeds.dedup();
    seeds
}

fn write_seeds(path: &Path, seeds: &[u32]) -> Result<(), Failure> {
    let mut out = BufWriter::new(File::create(path)?);
    for seed in seeds {
        writeln!(out, "{seed}")?;
    }
    Ok(())
}

/// A directed graph whose targets follow a power law (density ∝ rank^-1/2, a few
/// accounts followed by very many) and whose sources are uniform.
fn powerlaw_edges(
    node_count: usize,
    edge_count: usize,
    seed: u64,
) -> impl Iterator<Item = (u32, u32)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..edge_count).map(move |_| {
        let source = rng.gen_range(0..node_count as u32);
        let u: f64 = rng.r#gen();
        let target = ((node_count as f64) * u * u) as u32;
        (source, target.min(node_count as u32 - 1))
    })
}

fn generate(dir: &Path, sizes: &[String]) -> Result<(), Failure> {
    std::fs::create_dir_all(dir)?;
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    for size in sizes {
        if let Some(millions) = size.strip_prefix("powerlaw:") {
            let edge_count = millions.parse::<usize>()? * 1_000_000;
            let node_count = edge_count / 10;
            let mut out = BufWriter::new(File::create(dir.join("powerlaw.txt"))?);
            for (a, b) in powerlaw_edges(node_count, edge_count, 7) {
                writeln!(out, "{a} {b}")?;
            }
            write_seeds(
                &dir.join("seeds-powerlaw.txt"),
                &seeds_for(node_count, &mut rng),
            )?;
            continue;
        }
        let nodes: usize = size.parse()?;
        let graph = lfr(&LfrConfig::standard(nodes, 0.3), nodes as u64)?;
        let mut out = BufWriter::new(File::create(dir.join(format!("lfr-{nodes}.txt")))?);
        for (a, b) in &graph.edges {
            writeln!(out, "{a} {b}")?;
        }
        write_seeds(
            &dir.join(format!("seeds-lfr-{nodes}.txt")),
            &seeds_for(nodes, &mut rng),
        )?;
    }
    Ok(())
}

fn run(dir: &Path, names: &[String]) -> Result<(), Failure> {
    for name in names {
        let edges_path = dir.join(format!("{name}.txt"));
        let started = Instant::now();
        let graph = parse_edge_list(
            BufReader::new(File::open(&edges_path)?),
            &edges_path.display().to_string(),
        )?;
        let build = started.elapsed().as_secs_f64();
        println!(
            "{name}\tours\tbuild\t{build:.3}s\tnodes={} edges={} bytes/edge={}",
            graph.node_count(),
            graph.edge_count(),
            guardrail_graph::graph::BYTES_PER_EDGE
        );
        let seeds_path = dir.join(format!("seeds-{name}.txt"));
        let seeds = parse_seed_list(
            BufReader::new(File::open(&seeds_path)?),
            &seeds_path.display().to_string(),
            &graph,
        )?;

        let started = Instant::now();
        let push = ppr_push(&graph, &seeds, &PprConfig::default(), 1e-7)?;
        let top = push.top(1_000);
        let push_time = started.elapsed().as_secs_f64();
        println!(
            "{name}\tours\tppr-push-top1000\t{push_time:.3}s\terror_bound={:.2e} pushes={} top={}",
            push.error_bound,
            push.work,
            top.len()
        );
        let started = Instant::now();
        let power = ppr_power(&graph, &seeds, &PprConfig::default(), 1e-6, 1_000)?;
        println!(
            "{name}\tours\tppr-power\t{:.3}s\tl1_change={:.2e} iterations={}",
            started.elapsed().as_secs_f64(),
            power.error_bound,
            power.work
        );

        let started = Instant::now();
        let partition = leiden(&graph, &LeidenConfig::default())?;
        println!(
            "{name}\tours\tleiden\t{:.3}s\tmodularity={:.5} communities={}",
            started.elapsed().as_secs_f64(),
            partition.quality,
            partition.community_count
        );
    }
    Ok(())
}

fn ppr_large(millions: usize) -> Result<(), Failure> {
    let edge_count = millions * 1_000_000;
    let node_count = edge_count / 10;
    let started = Instant::now();
    let mut builder = GraphBuilder::with_numbered_nodes(node_count);
    for (a, b) in powerlaw_edges(node_count, edge_count, 11) {
        builder.edge(a, b, EdgeKind::Follow, 1.0)?;
    }
    let graph = builder.build();
    println!(
        "powerlaw-{millions}M\tours\tbuild-in-memory\t{:.3}s\tnodes={} edges={} adjacency_bytes={}",
        started.elapsed().as_secs_f64(),
        graph.node_count(),
        graph.edge_count(),
        graph.adjacency_heap_bytes()
    );
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let seeds = seeds_for(node_count, &mut rng);
    // The oracle: power iteration to an L1 change below 1e-9, for the top-1,000 overlap.
    let started = Instant::now();
    let exact = ppr_power(&graph, &seeds, &PprConfig::default(), 1e-9, 1_000)?;
    let exact_top = exact.top(1_000);
    println!(
        "powerlaw-{millions}M\tours\tppr-power tol=1e-9\t{:.3}s\titerations={}",
        started.elapsed().as_secs_f64(),
        exact.work
    );
    let exact_dense = exact.dense(node_count);
    let exact_set: std::collections::HashSet<u32> =
        exact_top.iter().map(|&(node, _)| node).collect();
    for epsilon in [1e-6, 1e-7, 1e-8] {
        let started = Instant::now();
        let push = ppr_push(&graph, &seeds, &PprConfig::default(), epsilon)?;
        let top = push.top(1_000);
        let elapsed = started.elapsed().as_secs_f64();
        let overlap = top
            .iter()
            .filter(|(node, _)| exact_set.contains(node))
            .count();
        let worst = top
            .iter()
            .map(|&(node, score)| {
                (exact_dense[node as usize] - score).abs()
                    / exact_dense[node as usize].max(f64::MIN_POSITIVE)
            })
            .fold(0.0f64, f64::max);
        println!(
            "powerlaw-{millions}M\tours\tppr-push-top1000 eps={epsilon:e}\t{elapsed:.3}s\toverlap_with_exact_top1000={overlap} worst_relative_error_in_top={worst:.2e} pushes={} touched={}",
            push.work,
            push.scores.len(),
        );
    }
    Ok(())
}

fn evaluate_worlds(seeds: &[String]) -> Result<(), Failure> {
    let seeds: Vec<u64> = if seeds.is_empty() {
        vec![0, 1, 2, 3]
    } else {
        seeds.iter().map(|s| s.parse()).collect::<Result<_, _>>()?
    };
    println!(
        "world\tmethod\tbudget\tprecision\trecall\tcamouflaged_recall\tniche_flagged\tparent_run_flagged"
    );
    for seed in seeds {
        let synthetic = world(&WorldConfig::default(), seed)?;
        let evaluation = evaluate(&synthetic, &MapConfig::default())?;
        for card in [
            &evaluation.map,
            &evaluation.text_only,
            &evaluation.followers_of_seeds,
        ] {
            println!(
                "{seed}\t{}\t{}\t{:.3}\t{:.3}\t{:.3}\t{:.3}\t{:.3}",
                card.method,
                evaluation.budget,
                card.precision,
                card.recall,
                card.camouflaged_recall,
                card.niche_flagged,
                card.parent_run_flagged
            );
        }
    }
    Ok(())
}
