//! `guardrail audit` and `guardrail demo`: run the audit experiments on a world folder.
//!
//! Wiring only: loads the public world and, separately, its ground truth for scoring, runs
//! the experiments of `guardrail_sim::experiments`, and prints a table or one JSON object.
//! Guardrails "on" arrive with issue 6; until then asking for them is a usage error (exit 2).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use guardrail_sim::experiments::{
    EXPERIMENTS, ExperimentConfig, ExperimentReport, PUBLISHED, run as run_experiment,
};
use guardrail_sim::{WorldConfig, fs, generate};

/// Arguments of `guardrail audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    command: AuditCommand,
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Run one experiment (e1, e2, e3, e4, e6) on a world folder.
    Run(RunArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Guardrails {
    /// The platform as it was: behavioural discovery with no safety logic.
    Off,
    /// With Guardrail's layer (issue 6; not available yet).
    On,
}

#[derive(Debug, Args)]
struct RunArgs {
    /// World folder written by `guardrail world generate` (or exported in the same format).
    #[arg(long, value_name = "DIR")]
    world: PathBuf,
    /// Experiment: e1, e2, e3, e4 or e6.
    #[arg(long, value_name = "NAME")]
    experiment: String,
    /// Whether the guardrail layer is on.
    #[arg(long, value_enum)]
    guardrails: Guardrails,
    /// One JSON object: experiment, guardrails, seed, metrics.
    #[arg(long)]
    json: bool,
}

/// Arguments of `guardrail demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Seed of the default world.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// One JSON object per experiment instead of the table.
    #[arg(long)]
    json: bool,
}

/// Runs `guardrail audit ...`.
pub fn run(args: AuditArgs) -> Result<ExitCode> {
    match args.command {
        AuditCommand::Run(args) => run_one(args),
    }
}

fn run_one(args: RunArgs) -> Result<ExitCode> {
    if args.guardrails == Guardrails::On {
        bail!("--guardrails on: not available yet (issue 6); run with --guardrails off");
    }
    if !EXPERIMENTS.contains(&args.experiment.as_str()) {
        bail!(
            "unknown experiment `{}`; expected one of {}",
            args.experiment,
            EXPERIMENTS.join(", ")
        );
    }
    let world = fs::load_world(&args.world)
        .with_context(|| format!("cannot load world {}", args.world.display()))?;
    // Ground truth is loaded apart and only handed to the scoring code.
    let truth = fs::load_truth(&args.world)
        .with_context(|| format!("cannot load ground truth {}/truth", args.world.display()))?;
    let report = run_experiment(
        &args.experiment,
        &world,
        &truth,
        &ExperimentConfig::default(),
    )?;
    print_report(&report, args.json)?;
    Ok(ExitCode::SUCCESS)
}

fn print_report(report: &ExperimentReport, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string(report)?);
    } else {
        println!(
            "experiment {} (guardrails {}, seed {})",
            report.experiment, report.guardrails, report.seed
        );
        for (metric, value) in &report.metrics {
            println!("  {metric:<44} {value:>10.4}");
        }
    }
    Ok(())
}

/// Runs `guardrail demo`: generates the default world in memory, runs every experiment with
/// guardrails off, and prints the headline table next to the published figures.
pub fn run_demo(args: DemoArgs) -> Result<ExitCode> {
    let (world, truth) = generate(&WorldConfig::default(), args.seed);
    eprintln!(
        "synthetic world: {} accounts, {} posts, {} edges (seed {})",
        world.accounts.len(),
        world.posts.len(),
        world.edge_count(),
        args.seed
    );
    let config = ExperimentConfig::default();
    let mut reports = Vec::new();
    for name in EXPERIMENTS {
        reports.push(run_experiment(name, &world, &truth, &config)?);
    }
    if args.json {
        for report in &reports {
            println!("{}", serde_json::to_string(report)?);
        }
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<4} {:<42} {:>8}  published",
        "exp", "metric (guardrails off)", "value"
    );
    for &(experiment, metric, published) in PUBLISHED {
        let value = reports
            .iter()
            .find(|r| r.experiment == experiment)
            .and_then(|r| r.metrics.get(metric))
            .copied()
            .unwrap_or(f64::NAN);
        println!("{experiment:<4} {metric:<42} {value:>8.3}  {published}");
    }
    println!("guardrails on: not available yet (issue 6)");
    Ok(ExitCode::SUCCESS)
}
