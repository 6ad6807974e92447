//! `guardrail dataflow map`: the network map of a world folder computed by the dataflow
//! engine (`guardrail-dataflow`) on several workers and processes.
//!
//! Wiring only. With `--processes N` above 1 this process becomes process 0 of a loopback
//! cluster: it writes a hostfile of free 127.0.0.1 ports, starts N − 1 copies of itself
//! with `--process i --hostfile FILE`, computes its share and prints the map; the copies
//! print nothing. Output has the shape of `guardrail graph map --json`.

use std::io::{self, BufWriter, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use guardrail_dataflow::{ClusterConfig, dataflow_map, parse_hostfile};
use guardrail_deploy::{WorldText, map_input, parse_seeds};
use guardrail_graph::map::MapConfig;

use crate::inputs::{load_world, load_world_policy};

/// Arguments of `guardrail dataflow`.
#[derive(Debug, Args)]
pub struct DataflowArgs {
    #[command(subcommand)]
    command: DataflowCommand,
}

#[derive(Debug, Subcommand)]
enum DataflowCommand {
    /// The ranked, explained network map of a world folder, on timely/differential.
    Map(MapArgs),
}

#[derive(Debug, Args)]
struct MapArgs {
    /// World folder (public tables; `truth/` is never read).
    #[arg(long, value_name = "DIR")]
    world: PathBuf,
    /// Seed accounts (one id or handle per line). Default: every account whose bio or
    /// hashtags the text guard blocks.
    #[arg(long, value_name = "FILE")]
    seeds: Option<PathBuf>,
    /// Text policy for the world (default: the world's policy.toml, else the default).
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Processes in the cluster (timely `-n`).
    #[arg(long, default_value_t = 1)]
    processes: usize,
    /// Worker threads per process (timely `-w`).
    #[arg(long, default_value_t = 1)]
    workers: usize,
    /// This process's index (timely `-p`); set by process 0 for the copies it starts.
    #[arg(long, hide = true, requires = "hostfile")]
    process: Option<usize>,
    /// `host:port` per process (timely's hostfile); set by process 0 for its copies.
    #[arg(long, value_name = "FILE", hide = true)]
    hostfile: Option<PathBuf>,
    /// How many suspects to list (the review budget).
    #[arg(long, default_value_t = 50)]
    budget: usize,
    /// One JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs `guardrail dataflow`.
pub fn run(args: DataflowArgs) -> Result<ExitCode> {
    match args.command {
        DataflowCommand::Map(args) => map(&args),
    }
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Starts processes 1..N of a loopback cluster; returns the hostfile and the children.
fn start_copies(args: &MapArgs) -> Result<(PathBuf, Vec<Child>)> {
    let hostfile = std::env::temp_dir().join(format!("guardrail-hosts-{}", std::process::id()));
    let mut hosts = String::new();
    for _ in 0..args.processes {
        hosts.push_str(&format!("127.0.0.1:{}\n", free_port()?));
    }
    std::fs::write(&hostfile, hosts)
        .with_context(|| format!("cannot write hostfile {}", hostfile.display()))?;
    let me = std::env::current_exe().context("cannot find this executable to start copies")?;
    let mut children = Vec::new();
    for process in 1..args.processes {
        let mut command = Command::new(&me);
        command
            .args(["dataflow", "map", "--world"])
            .arg(&args.world);
        if let Some(seeds) = &args.seeds {
            command.arg("--seeds").arg(seeds);
        }
        if let Some(policy) = &args.policy {
            command.arg("--policy").arg(policy);
        }
        command
            .args(["--processes", &args.processes.to_string()])
            .args(["--workers", &args.workers.to_string()])
            .args(["--process", &process.to_string()])
            .arg("--hostfile")
            .arg(&hostfile)
            .args(["--budget", &args.budget.to_string()]);
        children.push(
            command
                .spawn()
                .with_context(|| format!("cannot start process {process}"))?,
        );
    }
    Ok((hostfile, children))
}

fn map(args: &MapArgs) -> Result<ExitCode> {
    if args.processes == 0 || args.workers == 0 {
        bail!("--processes and --workers must be at least 1");
    }
    let (process, addresses, copies) = match (&args.hostfile, args.process) {
        (Some(path), Some(process)) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read hostfile {}", path.display()))?;
            (
                process,
                parse_hostfile(&text, &path.display().to_string())?,
                None,
            )
        }
        (Some(_), None) => bail!("--hostfile needs --process"),
        (None, _) if args.processes > 1 => {
            let (hostfile, children) = start_copies(args)?;
            let text = std::fs::read_to_string(&hostfile)?;
            let addresses = parse_hostfile(&text, &hostfile.display().to_string())?;
            (0, addresses, Some((hostfile, children)))
        }
        (None, _) => (0, Vec::new(), None),
    };
    let world = load_world(&args.world)?;
    let policy = load_world_policy(&args.world, args.policy.as_deref())?;
    let text = WorldText::read(&world, &policy);
    let seeds = match &args.seeds {
        Some(path) => {
            let source = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read seeds {}", path.display()))?;
            parse_seeds(&world, &source, &path.display().to_string())?
        }
        None => text.blocked_accounts(),
    };
    if seeds.is_empty() {
        bail!(
            "no seeds: the text guard blocks no bio or hashtag in {}; give --seeds FILE",
            args.world.display()
        );
    }
    let input = map_input(&world, seeds);
    let cluster = ClusterConfig {
        workers: args.workers,
        processes: args.processes,
        process,
        addresses,
    };
    let config = MapConfig {
        budget: args.budget,
        ..MapConfig::default()
    };
    let map = dataflow_map(&input, &text, &config, &cluster)?;
    if let Some((hostfile, children)) = copies {
        for (index, child) in children.into_iter().enumerate() {
            let status = child.wait_with_output()?.status;
            if !status.success() {
                bail!("dataflow process {} failed ({status})", index + 1);
            }
        }
        let _ = std::fs::remove_file(hostfile);
    }
    let Some(map) = map else {
        return Ok(ExitCode::SUCCESS);
    };
    let mut out = BufWriter::new(io::stdout().lock());
    if args.json {
        serde_json::to_writer(&mut out, &map)?;
        writeln!(out)?;
    } else {
        writeln!(out, "seeds: {}", map.seeds.len())?;
        for (rank, suspect) in map.suspects.iter().enumerate() {
            writeln!(
                out,
                "{}\t{}\t{:?}\t{:.2}\tcommunity {}\tpath {}",
                rank + 1,
                suspect.account,
                suspect.role,
                suspect.score,
                suspect.community,
                suspect.evidence.path_from_seed.join(">"),
            )?;
        }
        let size = &map.size;
        writeln!(
            out,
            "estimate: {} accounts ({} sellers, {} aggregators, {} buyers), {} unique followers of sellers",
            size.accounts,
            size.sellers,
            size.aggregators,
            size.buyers,
            size.unique_followers_of_sellers
        )?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
