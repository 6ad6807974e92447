//! `guardrail audit` and `guardrail demo`: run the audit experiments on a world folder.
//!
//! Wiring only: loads the public world and, separately, its ground truth for scoring, runs
//! the experiments of `guardrail_sim::experiments` with guardrails off (the platform as it
//! was) or on (`guardrail_deploy::Guard`, built from the public world alone), and prints a
//! table or one JSON object. `guardrail demo` prints both side by side with the published
//! figure and the target each row answers to.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use guardrail_deploy::{Guard, platform_policy};
use guardrail_policy::RuleSet;
use guardrail_sim::experiments::{
    EXPERIMENTS, ExperimentConfig, ExperimentReport, PUBLISHED, run as run_experiment, run_with,
};
use guardrail_sim::guardrails::Off;
use guardrail_sim::vocabulary::BANNED_BASES;
use guardrail_sim::{World, WorldConfig, fs, generate};
use guardrail_text::Policy;

use crate::inputs::{load_rules, load_world, load_world_policy};

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
    /// With Guardrail's layer: signals, network map and the decision engine on every surface.
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
    /// Text policy for `--guardrails on` (default: the world's policy.toml, else the default).
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Discovery rules for `--guardrails on` (default: the shipped rules).
    #[arg(long, value_name = "FILE")]
    rules: Option<PathBuf>,
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
    if !EXPERIMENTS.contains(&args.experiment.as_str()) {
        bail!(
            "unknown experiment `{}`; expected one of {}",
            args.experiment,
            EXPERIMENTS.join(", ")
        );
    }
    let world = load_world(&args.world)?;
    // Ground truth is loaded apart and only handed to the scoring code.
    let truth = fs::load_truth(&args.world)
        .with_context(|| format!("cannot load ground truth {}/truth", args.world.display()))?;
    let config = ExperimentConfig::default();
    let report = match args.guardrails {
        Guardrails::Off => run_experiment(&args.experiment, &world, &truth, &config)?,
        Guardrails::On => {
            let policy = load_world_policy(&args.world, args.policy.as_deref())?;
            let rules = load_rules(args.rules.as_deref())?;
            let mut guard = Guard::build(&world, policy, rules);
            run_with(&args.experiment, &world, &truth, &config, &mut guard)?
        }
    };
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

/// A target of the "on" runs, with how it is checked.
struct Target {
    experiment: &'static str,
    metric: &'static str,
    wanted: &'static str,
    met: fn(off: f64, on: f64) -> bool,
}

/// Issue 6's targets, row by row.
const TARGETS: &[Target] = &[
    Target {
        experiment: "e1",
        metric: "network_share_top10_after_one_view",
        wanted: "<= 0.01",
        met: |_, on| on <= 0.01,
    },
    Target {
        experiment: "e1",
        metric: "network_share_top10_after_one_view_with_history",
        wanted: "<= 0.01",
        met: |_, on| on <= 0.01,
    },
    Target {
        experiment: "e1",
        metric: "network_share_feed_after_follow_5",
        wanted: "<= 0.01",
        met: |_, on| on <= 0.01,
    },
    Target {
        experiment: "e1",
        metric: "bystander_leak_rate",
        wanted: "<= 0.01",
        met: |_, on| on <= 0.01,
    },
    Target {
        experiment: "e1",
        metric: "benign_hit_rate_at_10",
        wanted: ">= 97% of off",
        met: |off, on| on >= 0.97 * off,
    },
    Target {
        experiment: "e1",
        metric: "parent_niche_accounts_losing_over_5pct",
        wanted: "0 accounts",
        met: |_, on| on == 0.0,
    },
    Target {
        experiment: "e1",
        metric: "parent_niche_adult_accounts_losing_over_5pct",
        wanted: "0 accounts (adults)",
        met: |_, on| on == 0.0,
    },
    Target {
        experiment: "e2",
        metric: "blocked_query_results",
        wanted: "0",
        met: |_, on| on == 0.0,
    },
    Target {
        experiment: "e2",
        metric: "autocomplete_variant_rate",
        wanted: "<= 0.01",
        met: |_, on| on <= 0.01,
    },
    Target {
        experiment: "e3",
        metric: "rebuild_rate",
        wanted: "<= 0.01",
        met: |_, on| on <= 0.01,
    },
    Target {
        experiment: "e3",
        metric: "backup_accounts_resurfaced",
        wanted: "<= 0.10 (90% caught)",
        met: |_, on| on <= 0.10,
    },
    Target {
        experiment: "e6",
        metric: "minor_suggestions_to_unconnected_adults",
        wanted: "0",
        met: |_, on| on == 0.0,
    },
];

/// The experiments the guardrail layer is evaluated on.
const ON_EXPERIMENTS: [&str; 5] = ["e1", "e2", "e3", "e4", "e6"];

/// Runs every experiment off and on for one world.
fn run_both(
    world: &World,
    truth: &guardrail_sim::GroundTruth,
    policy: &Policy,
) -> Result<(Vec<ExperimentReport>, Vec<ExperimentReport>)> {
    let config = ExperimentConfig::default();
    let mut off = Vec::new();
    let mut on = Vec::new();
    for name in ON_EXPERIMENTS {
        eprintln!("running {name}: guardrails off, then on");
        off.push(run_with(name, world, truth, &config, &mut Off::default())?);
        let mut guard = Guard::build(world, policy.clone(), RuleSet::default_rules());
        on.push(run_with(name, world, truth, &config, &mut guard)?);
    }
    Ok((off, on))
}

fn metric(reports: &[ExperimentReport], experiment: &str, metric: &str) -> f64 {
    reports
        .iter()
        .find(|r| r.experiment == experiment)
        .and_then(|r| r.metrics.get(metric))
        .copied()
        .unwrap_or(f64::NAN)
}

/// Runs `guardrail demo`: generates the default world in memory, runs every experiment with
/// guardrails off and on, and prints the headline table next to the published figures and
/// the targets.
pub fn run_demo(args: DemoArgs) -> Result<ExitCode> {
    let (world, truth) = generate(&WorldConfig::default(), args.seed);
    eprintln!(
        "synthetic world: {} accounts, {} posts, {} edges (seed {})",
        world.accounts.len(),
        world.posts.len(),
        world.edge_count(),
        args.seed
    );
    let policy = platform_policy(&BANNED_BASES)?;
    let (off, on) = run_both(&world, &truth, &policy)?;
    if args.json {
        for report in off.iter().chain(&on) {
            println!("{}", serde_json::to_string(report)?);
        }
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<4} {:<40} {:>8} {:>8}  published",
        "exp", "metric", "off", "on"
    );
    for &(experiment, name, published) in PUBLISHED {
        println!(
            "{experiment:<4} {name:<40} {:>8.3} {:>8.3}  {published}",
            metric(&off, experiment, name),
            metric(&on, experiment, name)
        );
    }
    println!();
    println!(
        "{:<4} {:<46} {:>8} {:>8}  {:<22} result",
        "exp", "target (guardrails on)", "off", "on", "wanted"
    );
    let mut unmet = 0;
    for target in TARGETS {
        let (before, after) = (
            metric(&off, target.experiment, target.metric),
            metric(&on, target.experiment, target.metric),
        );
        let met = (target.met)(before, after);
        unmet += usize::from(!met);
        println!(
            "{:<4} {:<46} {:>8.3} {:>8.3}  {:<22} {}",
            target.experiment,
            target.metric,
            before,
            after,
            target.wanted,
            if met { "met" } else { "NOT MET" }
        );
    }
    println!(
        "e1   parent-run and niche reach: {:.0} accounts measured, total reach kept {:.3}, smallest share kept by one account {:.3} (adults: {:.3})",
        metric(&on, "e1", "parent_niche_accounts_measured"),
        metric(&on, "e1", "parent_niche_total_reach_kept"),
        metric(&on, "e1", "parent_niche_min_reach_kept"),
        metric(&on, "e1", "parent_niche_adult_min_reach_kept"),
    );
    for experiment in ON_EXPERIMENTS {
        println!(
            "{experiment:<4} shadow mode and backfill replayed {:.0} decisions: {:.0} and {:.0} mismatches",
            metric(&on, experiment, "decisions_replayed"),
            metric(&on, experiment, "shadow_mismatches"),
            metric(&on, experiment, "backfill_mismatches"),
        );
    }
    if unmet > 0 {
        println!("{unmet} target(s) not met; see crates/guardrail-sim/docs/experiments.md");
    }
    Ok(ExitCode::SUCCESS)
}
