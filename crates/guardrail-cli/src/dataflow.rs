//! `guardrail dataflow map`: the network map computed by the dataflow engine
//! (`guardrail-dataflow`) on several workers and processes, from a world folder or from a
//! ledger (`--db`), which it can keep following (`--follow`).
//!
//! Wiring only. With `--processes N` above 1 this process launches a loopback cluster: it
//! writes a hostfile of free 127.0.0.1 ports, starts N copies of itself with
//! `--process i --hostfile FILE`, waits for them and prints what process 0 wrote to its
//! `--output` file. The copies' standard output goes to this process's standard error,
//! because timely prints connection progress on standard output and the map must stay the
//! only thing there. Output has the shape of `guardrail graph map --json`. The ledger form
//! is in `dataflow_ledger.rs`.

use std::io::{self, Write};
use std::net::TcpListener;
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use guardrail_adapter::{MapSources, parse_seeds};
use guardrail_dataflow::{ClusterConfig, dataflow_map, parse_hostfile};
use guardrail_graph::map::{MapConfig, NetworkMap};

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
#[command(group(clap::ArgGroup::new("source").required(true).args(["world", "db"])))]
pub(crate) struct MapArgs {
    /// World folder (public tables; `truth/` is never read).
    #[arg(long, value_name = "DIR")]
    pub(crate) world: Option<PathBuf>,
    /// The ledger's database instead of a world folder: `sqlite:///abs/path.db`, a path,
    /// or `postgres://…`. The map is of every event stored (seeds: the accounts whose bio
    /// or hashtags the ledger's text policy blocks, as the service's own map).
    #[arg(long, value_name = "URL")]
    pub(crate) db: Option<String>,
    /// With --db: keep following the ledger, folding new events into the running dataflow
    /// every --interval; each round prints one JSON line (sequence, events, scores changed)
    /// and rewrites --output with the whole current map.
    #[arg(long, requires = "db")]
    pub(crate) follow: bool,
    /// With --follow: seconds between looks at the ledger.
    #[arg(long, default_value_t = 1.0, value_name = "SECONDS")]
    pub(crate) interval: f64,
    /// With --follow: stop after this many rounds that folded new events (0: never).
    #[arg(long, default_value_t = 0)]
    pub(crate) rounds: u64,
    /// Where the launcher tells the copies which sequence each round reaches; set by the
    /// launcher for the ledger form.
    #[arg(long, value_name = "DIR", hide = true)]
    pub(crate) rounds_dir: Option<PathBuf>,
    /// Seed accounts (one id or handle per line). Default: every account whose bio or
    /// hashtags the text guard blocks.
    #[arg(long, value_name = "FILE")]
    pub(crate) seeds: Option<PathBuf>,
    /// Text policy for the world (default: the world's policy.toml, else the default).
    #[arg(long, value_name = "FILE")]
    pub(crate) policy: Option<PathBuf>,
    /// Processes in the cluster (timely `-n`).
    #[arg(long, default_value_t = 1)]
    pub(crate) processes: usize,
    /// Worker threads per process (timely `-w`).
    #[arg(long, default_value_t = 1)]
    pub(crate) workers: usize,
    /// This process's index (timely `-p`); set by process 0 for the copies it starts.
    #[arg(long, hide = true, requires = "hostfile")]
    pub(crate) process: Option<usize>,
    /// `host:port` per process (timely's hostfile); set by the launcher for its copies.
    #[arg(long, value_name = "FILE", hide = true)]
    pub(crate) hostfile: Option<PathBuf>,
    /// Where process 0 writes the map instead of standard output (the launcher sets it for
    /// its copies; with --follow, rewritten whole after every round).
    #[arg(long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    /// How many suspects to list (the review budget).
    #[arg(long, default_value_t = 50)]
    pub(crate) budget: usize,
    /// One JSON object instead of text.
    #[arg(long)]
    pub(crate) json: bool,
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

/// Runs processes 0..N of a loopback cluster as copies of this executable and prints what
/// process 0 wrote.
fn launch(args: &MapArgs) -> Result<ExitCode> {
    let scratch = std::env::temp_dir().join(format!("guardrail-dataflow-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)
        .with_context(|| format!("cannot make {}", scratch.display()))?;
    let hostfile = scratch.join("hosts");
    let output = match (&args.output, args.follow) {
        (Some(path), true) => path.clone(),
        _ => scratch.join("map"),
    };
    let rounds_dir = scratch.join("rounds");
    let mut hosts = String::new();
    for _ in 0..args.processes {
        hosts.push_str(&format!("127.0.0.1:{}\n", free_port()?));
    }
    std::fs::write(&hostfile, hosts)
        .with_context(|| format!("cannot write hostfile {}", hostfile.display()))?;
    let me = std::env::current_exe().context("cannot find this executable to start copies")?;
    let mut children: Vec<Child> = Vec::new();
    for process in 0..args.processes {
        let mut command = Command::new(&me);
        command.args(["dataflow", "map"]);
        if let Some(world) = &args.world {
            command.arg("--world").arg(world);
        }
        if let Some(db) = &args.db {
            command
                .args(["--db", db])
                .arg("--rounds-dir")
                .arg(&rounds_dir);
        }
        if let Some(seeds) = &args.seeds {
            command.arg("--seeds").arg(seeds);
        }
        if let Some(policy) = &args.policy {
            command.arg("--policy").arg(policy);
        }
        if args.json {
            command.arg("--json");
        }
        if args.follow {
            // The copies take their rounds from the launcher's files.
            command.arg("--follow");
        }
        command
            .args(["--processes", &args.processes.to_string()])
            .args(["--workers", &args.workers.to_string()])
            .args(["--process", &process.to_string()])
            .arg("--hostfile")
            .arg(&hostfile)
            .arg("--output")
            .arg(&output)
            .args(["--budget", &args.budget.to_string()]);
        let stderr = io::stderr()
            .as_fd()
            .try_clone_to_owned()
            .context("cannot share standard error with a copy")?;
        command.stdout(Stdio::from(stderr));
        match command.spawn() {
            Ok(child) => children.push(child),
            Err(error) => {
                for mut child in children {
                    let _ = child.kill();
                    let _ = child.wait();
                }
                return Err(error).with_context(|| format!("cannot start process {process}"));
            }
        }
    }
    // The ledger form: this process reads the ledger's head and tells every copy which
    // sequence each round reaches, so all of them fold the same events per round.
    let mut driver = match &args.db {
        Some(db) => Some(crate::dataflow_ledger::RoundDriver::start(
            db,
            args,
            &rounds_dir,
        )?),
        None => None,
    };
    // A copy that fails leaves the others waiting for it forever (timely retries its
    // connections), so the first failure stops them all.
    let mut failed = None;
    let mut running: Vec<(usize, Child)> = children.into_iter().enumerate().collect();
    while !running.is_empty() {
        let mut still = Vec::new();
        for (process, mut child) in running {
            match child.try_wait() {
                Ok(Some(status)) if status.success() => {}
                Ok(Some(status)) => {
                    failed.get_or_insert(format!("dataflow process {process} failed ({status})"));
                }
                Ok(None) if failed.is_some() => {
                    let _ = child.kill();
                    let _ = child.wait();
                }
                Ok(None) => still.push((process, child)),
                Err(error) => {
                    failed.get_or_insert(format!("lost dataflow process {process}: {error}"));
                    let _ = child.kill();
                }
            }
        }
        running = still;
        if !running.is_empty() {
            if let Some(driver) = driver.as_mut()
                && let Err(error) = driver.tick()
            {
                failed.get_or_insert(format!("following the ledger: {error:#}"));
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
    let map = std::fs::read(&output);
    let _ = std::fs::remove_dir_all(&scratch);
    if args.follow {
        return match failed {
            Some(failure) => bail!("{failure}"),
            None => Ok(ExitCode::SUCCESS),
        };
    }
    if let Some(failure) = failed {
        bail!("{failure}");
    }
    let map = map.with_context(|| format!("process 0 wrote no map to {}", output.display()))?;
    let mut out = io::stdout().lock();
    out.write_all(&map)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn map(args: &MapArgs) -> Result<ExitCode> {
    if args.processes == 0 || args.workers == 0 {
        bail!("--processes and --workers must be at least 1");
    }
    let (process, addresses) = match (&args.hostfile, args.process) {
        (Some(path), Some(process)) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read hostfile {}", path.display()))?;
            (process, parse_hostfile(&text, &path.display().to_string())?)
        }
        (Some(_), None) => bail!("--hostfile needs --process"),
        (None, _) if args.processes > 1 => return launch(args),
        (None, _) => (0, Vec::new()),
    };
    let cluster = ClusterConfig {
        workers: args.workers,
        processes: args.processes,
        process,
        addresses,
    };
    let Some(world_dir) = &args.world else {
        return crate::dataflow_ledger::run(args, cluster);
    };
    let world = load_world(world_dir)?;
    let policy = load_world_policy(world_dir, args.policy.as_deref())?;
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
        bail!(
            "no seeds: the text guard blocks no bio or hashtag in {}; give --seeds FILE",
            world_dir.display()
        );
    }
    let config = MapConfig {
        budget: args.budget,
        ..MapConfig::default()
    };
    let map = dataflow_map(&sources.input, &sources.text, &config, &cluster)?;
    let Some(map) = map else {
        return Ok(ExitCode::SUCCESS);
    };
    let out = render(&map, args.json)?;
    match &args.output {
        Some(path) => std::fs::write(path, &out)
            .with_context(|| format!("cannot write the map to {}", path.display()))?,
        None => {
            let mut stdout = io::stdout().lock();
            stdout.write_all(&out)?;
            stdout.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The map as `graph map` prints it: one JSON object, or text.
pub(crate) fn render(map: &NetworkMap, json: bool) -> Result<Vec<u8>> {
    let mut out: Vec<u8> = Vec::new();
    if json {
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
    Ok(out)
}
