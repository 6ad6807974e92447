//! `guardrail-dataflow`: the dataflow map as a process of a cluster, on a planted synthetic
//! world (the CLI's `guardrail dataflow map --world DIR` does the same on world folders).
//!
//! ```text
//! guardrail-dataflow map --synthetic-seed N [--background ACCOUNTS] [--workers W]
//!                        [--processes N --process I --hostfile FILE] [--budget K]
//! ```
//!
//! Every process of a cluster runs the same command with its own `--process`; process 0
//! prints the map as one JSON line (the shape of `guardrail graph map --json`), the others
//! print no map. Timely itself prints connection progress on standard output in a
//! multi-process run (`awaiting connections …`); read the line that starts with `{`, or use
//! `guardrail dataflow map`, which keeps standard output to the map alone. Exit status 2 on bad usage. Wiring only: the map is the library's.

use std::process::ExitCode;

use guardrail_dataflow::{ClusterConfig, dataflow_map, parse_hostfile};
use guardrail_graph::map::MapConfig;
use guardrail_graph::synthetic::{LfrConfig, WorldConfig, world};

const USAGE: &str = "usage: guardrail-dataflow map --synthetic-seed N [--background ACCOUNTS] [--workers W] [--processes N --process I --hostfile FILE] [--budget K]";

fn value<T: std::str::FromStr>(args: &[String], flag: &str) -> Result<Option<T>, String> {
    match args.iter().position(|arg| arg == flag) {
        None => Ok(None),
        Some(index) => {
            let raw = args
                .get(index + 1)
                .ok_or_else(|| format!("{flag} needs a value"))?;
            raw.parse()
                .map(Some)
                .map_err(|_| format!("{flag}: `{raw}` is not valid"))
        }
    }
}

fn run(args: &[String]) -> Result<(), String> {
    if args.first().map(String::as_str) != Some("map") {
        return Err(USAGE.to_string());
    }
    let seed: u64 = value(args, "--synthetic-seed")?.ok_or(USAGE)?;
    let workers: usize = value(args, "--workers")?.unwrap_or(1);
    let processes: usize = value(args, "--processes")?.unwrap_or(1);
    let process: usize = value(args, "--process")?.unwrap_or(0);
    let budget: usize = value(args, "--budget")?.unwrap_or(50);
    let background: Option<usize> = value(args, "--background")?;
    let addresses = match value::<String>(args, "--hostfile")? {
        Some(path) => {
            let text = std::fs::read_to_string(&path)
                .map_err(|error| format!("cannot read hostfile {path}: {error}"))?;
            parse_hostfile(&text, &path).map_err(|error| error.to_string())?
        }
        None if processes > 1 => return Err("--processes above 1 needs --hostfile".into()),
        None => Vec::new(),
    };
    let mut config = WorldConfig::default();
    if let Some(accounts) = background {
        config.background = LfrConfig {
            average_degree: 10.0,
            ..LfrConfig::standard(accounts, 0.3)
        };
    }
    let synthetic = world(&config, seed).map_err(|error| error.to_string())?;
    let cluster = ClusterConfig {
        workers,
        processes,
        process,
        addresses,
    };
    let map_config = MapConfig {
        budget,
        ..MapConfig::default()
    };
    let map = dataflow_map(&synthetic.input, &synthetic.text, &map_config, &cluster)
        .map_err(|error| error.to_string())?;
    if let Some(map) = map {
        let json = serde_json::to_string(&map).map_err(|error| error.to_string())?;
        println!("{json}");
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("guardrail-dataflow: {message}");
            ExitCode::from(2)
        }
    }
}
