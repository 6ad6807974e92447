//! `guardrail graph`: the network-mapping engine on the command line.
//!
//! Wiring only: reads edge and seed files, calls `guardrail-graph`, prints results.
//! Bad input is an error naming the file, line and field (exit status 2 from `main`).

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use guardrail_adapter::{MapSources, parse_seeds};
use guardrail_audit::map_evaluation::evaluate_world;
use guardrail_graph::Graph;
use guardrail_graph::graph::{parse_edge_list, parse_seed_list};
use guardrail_graph::leiden::{LeidenConfig, Quality, leiden};
use guardrail_graph::map::{MapConfig, build_map};
use guardrail_graph::ppr::{Direction, PprConfig, ppr_push};
use guardrail_graph::synthetic::{WorldConfig, world};
use serde::Serialize;

use crate::inputs::{load_world, load_world_policy};

/// Arguments of `guardrail graph`.
#[derive(Debug, Args)]
pub struct GraphArgs {
    #[command(subcommand)]
    command: GraphCommand,
}

#[derive(Debug, Subcommand)]
enum GraphCommand {
    /// Leiden communities of an edge list: prints `NODE COMMUNITY` per node.
    Communities(CommunitiesArgs),
    /// Personalised PageRank from seed accounts: prints the top `NODE SCORE` lines.
    Ppr(PprArgs),
    /// The ranked, explained network map of a world folder.
    Map(MapArgs),
    /// Score the map of a generated world against its ground truth, with the baselines.
    Evaluate(EvaluateArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum QualityArg {
    Modularity,
    Cpm,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum DirectionArg {
    Forward,
    Reverse,
    Undirected,
}

#[derive(Debug, Args)]
struct CommunitiesArgs {
    /// Edge list: `SRC DST [WEIGHT] [KIND]` per line.
    #[arg(long, value_name = "FILE")]
    edges: PathBuf,
    /// Quality function.
    #[arg(long, value_enum, default_value = "modularity")]
    quality: QualityArg,
    /// Resolution γ.
    #[arg(long, default_value_t = 1.0)]
    resolution: f64,
    /// Seed of the node orders (same seed, same communities).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// One JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct PprArgs {
    /// Edge list: `SRC DST [WEIGHT] [KIND]` per line.
    #[arg(long, value_name = "FILE")]
    edges: PathBuf,
    /// Seed accounts, one id per line.
    #[arg(long, value_name = "FILE")]
    seeds: PathBuf,
    /// How many accounts to print.
    #[arg(long, default_value_t = 20)]
    top: usize,
    /// Probability of following an edge.
    #[arg(long, default_value_t = 0.85)]
    damping: f64,
    /// Push tolerance (residual per unit of degree).
    #[arg(long, default_value_t = 1e-7)]
    epsilon: f64,
    /// Which edges the walk follows.
    #[arg(long, value_enum, default_value = "forward")]
    direction: DirectionArg,
    /// One JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["world", "synthetic_seed"])))]
struct MapArgs {
    /// World folder (public tables; `truth/` is never read).
    #[arg(long, value_name = "DIR")]
    world: Option<PathBuf>,
    /// Build the map on the graph-only synthetic world generated from this seed instead.
    #[arg(long, value_name = "N")]
    synthetic_seed: Option<u64>,
    /// Seed accounts (one id or handle per line). Default: every account whose bio or
    /// hashtags the text guard blocks.
    #[arg(long, value_name = "FILE", requires = "world")]
    seeds: Option<PathBuf>,
    /// Text policy for the world (default: the world's policy.toml, else the default).
    #[arg(long, value_name = "FILE", requires = "world")]
    policy: Option<PathBuf>,
    /// How many suspects to list (the review budget).
    #[arg(long, default_value_t = 50)]
    budget: usize,
    /// One JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct EvaluateArgs {
    /// A generated world folder with its `truth/` (read only to score).
    #[arg(long, value_name = "DIR")]
    world: PathBuf,
    /// Text policy for the world (default: the world's policy.toml, else the default).
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// One JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs `guardrail graph`.
pub fn run(args: GraphArgs) -> Result<ExitCode> {
    match args.command {
        GraphCommand::Communities(args) => communities(&args),
        GraphCommand::Ppr(args) => personalised_pagerank(&args),
        GraphCommand::Map(args) => map(&args),
        GraphCommand::Evaluate(args) => evaluate(&args),
    }
}

fn read_graph(path: &Path) -> Result<Graph> {
    let file = File::open(path).with_context(|| format!("cannot read edges {}", path.display()))?;
    Ok(parse_edge_list(
        BufReader::new(file),
        &path.display().to_string(),
    )?)
}

#[derive(Serialize)]
struct NodeCommunity<'a> {
    node: &'a str,
    community: u32,
}

#[derive(Serialize)]
struct CommunitiesOutput<'a> {
    quality: f64,
    community_count: usize,
    nodes: Vec<NodeCommunity<'a>>,
}

fn communities(args: &CommunitiesArgs) -> Result<ExitCode> {
    let graph = read_graph(&args.edges)?;
    let config = LeidenConfig {
        quality: match args.quality {
            QualityArg::Modularity => Quality::Modularity,
            QualityArg::Cpm => Quality::Cpm,
        },
        resolution: args.resolution,
        seed: args.seed,
        ..LeidenConfig::default()
    };
    let partition = leiden(&graph, &config)?;
    let mut out = BufWriter::new(io::stdout().lock());
    if args.json {
        let output = CommunitiesOutput {
            quality: partition.quality,
            community_count: partition.community_count,
            nodes: partition
                .membership
                .iter()
                .enumerate()
                .map(|(node, &community)| NodeCommunity {
                    node: graph.external_id(node as u32),
                    community,
                })
                .collect(),
        };
        serde_json::to_writer(&mut out, &output)?;
        writeln!(out)?;
    } else {
        for (node, community) in partition.membership.iter().enumerate() {
            writeln!(out, "{} {community}", graph.external_id(node as u32))?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Serialize)]
struct ScoredNode<'a> {
    node: &'a str,
    score: f64,
}

#[derive(Serialize)]
struct PprOutput<'a> {
    seeds: Vec<&'a str>,
    error_bound: f64,
    top: Vec<ScoredNode<'a>>,
}

fn personalised_pagerank(args: &PprArgs) -> Result<ExitCode> {
    let graph = read_graph(&args.edges)?;
    let file = File::open(&args.seeds)
        .with_context(|| format!("cannot read seeds {}", args.seeds.display()))?;
    let seeds = parse_seed_list(
        BufReader::new(file),
        &args.seeds.display().to_string(),
        &graph,
    )?;
    if seeds.is_empty() {
        anyhow::bail!(
            "{}: no seeds: the file lists no node ids",
            args.seeds.display()
        );
    }
    let config = PprConfig {
        damping: args.damping,
        direction: match args.direction {
            DirectionArg::Forward => Direction::Forward,
            DirectionArg::Reverse => Direction::Reverse,
            DirectionArg::Undirected => Direction::Undirected,
        },
    };
    let scores = ppr_push(&graph, &seeds, &config, args.epsilon)?;
    let top = scores.top(args.top);
    let mut out = BufWriter::new(io::stdout().lock());
    if args.json {
        let output = PprOutput {
            seeds: seeds.iter().map(|&seed| graph.external_id(seed)).collect(),
            error_bound: scores.error_bound,
            top: top
                .iter()
                .map(|&(node, score)| ScoredNode {
                    node: graph.external_id(node),
                    score,
                })
                .collect(),
        };
        serde_json::to_writer(&mut out, &output)?;
        writeln!(out)?;
    } else {
        for (node, score) in top {
            writeln!(out, "{} {score:.9}", graph.external_id(node))?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn map(args: &MapArgs) -> Result<ExitCode> {
    let config = MapConfig {
        budget: args.budget,
        ..MapConfig::default()
    };
    // Handles per node, for the text output of world maps.
    let mut handles: Vec<String> = Vec::new();
    let map = match (&args.world, args.synthetic_seed) {
        (Some(dir), _) => {
            let world = load_world(dir)?;
            let policy = load_world_policy(dir, args.policy.as_deref())?;
            let seeds = match &args.seeds {
                Some(path) => {
                    let source = std::fs::read_to_string(path)
                        .with_context(|| format!("cannot read seeds {}", path.display()))?;
                    Some(parse_seeds(&world, &source, &path.display().to_string())?)
                }
                None => None,
            };
            let sources = MapSources::read(&world, &policy, seeds);
            if sources.input.seeds.is_empty() {
                anyhow::bail!(
                    "no seeds: the text guard blocks no bio or hashtag in {}; give --seeds FILE",
                    dir.display()
                );
            }
            handles = world.accounts.iter().map(|a| a.handle.clone()).collect();
            sources.map(&config)?
        }
        (None, Some(seed)) => {
            let synthetic = world(&WorldConfig::default(), seed)?;
            build_map(&synthetic.input, &synthetic.text, &config)?
        }
        (None, None) => anyhow::bail!("give --world DIR or --synthetic-seed N"),
    };
    let mut out = BufWriter::new(io::stdout().lock());
    if args.json {
        serde_json::to_writer(&mut out, &map)?;
        writeln!(out)?;
    } else {
        writeln!(out, "seeds: {}", map.seeds.len())?;
        for (rank, suspect) in map.suspects.iter().enumerate() {
            let signals: Vec<String> = suspect
                .evidence
                .signals
                .iter()
                .map(|(signal, share)| format!("{signal} (+{share:.2})"))
                .collect();
            let handle = handles
                .get(suspect.node as usize)
                .map_or(String::new(), |h| format!(" @{h}"));
            writeln!(
                out,
                "{}\t{}{handle}\t{:?}\t{:.2}\tcommunity {}\tpath {}\t{}",
                rank + 1,
                suspect.account,
                suspect.role,
                suspect.score,
                suspect.community,
                suspect.evidence.path_from_seed.join(">"),
                signals.join("; ")
            )?;
        }
        for community in &map.seed_communities {
            writeln!(
                out,
                "community {}: {} members, {} seeds, enrichment {:.1}, {} listed suspects",
                community.community,
                community.size,
                community.seeds,
                community.enrichment,
                community.suspects
            )?;
        }
        let size = &map.size;
        writeln!(
            out,
            "estimate: {} accounts ({} sellers, {} aggregators, {} buyers), {} unique followers of sellers; {}",
            size.accounts,
            size.sellers,
            size.aggregators,
            size.buyers,
            size.unique_followers_of_sellers,
            size.method
        )?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn evaluate(args: &EvaluateArgs) -> Result<ExitCode> {
    let world = load_world(&args.world)?;
    let policy = load_world_policy(&args.world, args.policy.as_deref())?;
    // Ground truth is loaded apart and only handed to the scoring code.
    let truth = guardrail_sim::load_truth(&args.world)
        .with_context(|| format!("cannot load ground truth {}/truth", args.world.display()))?;
    let evaluation = evaluate_world(&world, &truth, &policy, &MapConfig::default())?;
    let mut out = BufWriter::new(io::stdout().lock());
    if args.json {
        serde_json::to_writer(&mut out, &evaluation)?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "review budget = true network size = {}",
            evaluation.budget
        )?;
        writeln!(
            out,
            "{:<22} {:>9} {:>9} {:>11} {:>10} {:>11}",
            "method", "precision", "recall", "camouflaged", "niche FP", "parent FP"
        )?;
        for card in [
            &evaluation.map,
            &evaluation.text_only,
            &evaluation.followers_of_seeds,
        ] {
            writeln!(
                out,
                "{:<22} {:>9.3} {:>9.3} {:>11.3} {:>10.4} {:>11.4}",
                card.method,
                card.precision,
                card.recall,
                card.camouflaged_recall,
                card.niche_flagged,
                card.parent_run_flagged
            )?;
        }
        let estimate = &evaluation.estimate;
        writeln!(
            out,
            "map's size estimate: {} accounts ({} sellers, {} aggregators, {} buyers), {} unique followers of sellers; true size {}",
            estimate.accounts,
            estimate.sellers,
            estimate.aggregators,
            estimate.buyers,
            estimate.unique_followers_of_sellers,
            evaluation.budget
        )?;
        writeln!(
            out,
            "roles right for {:.1}% of the listed network accounts",
            100.0 * evaluation.role_accuracy
        )?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
