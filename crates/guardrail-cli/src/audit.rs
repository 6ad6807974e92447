//! `guardrail audit` and `guardrail demo`: run the audit experiments on a world folder.
//!
//! Wiring only: loads the public world and, separately, its ground truth for scoring, runs
//! the experiments of `guardrail_audit` with guardrails off (the platform as it was) or on
//! (`guardrail_audit::On`, the adapter's guard built from the public world alone), and
//! prints a table or one JSON object. `guardrail demo` prints both side by side with the
//! published figure and the target each row answers to (`guardrail_audit::targets`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use guardrail_adapter::platform_policy;
use guardrail_audit::targets::{published, targets};
use guardrail_audit::{
    Experiment, ExperimentConfig, ExperimentReport, Metric, Off, On, run as run_experiment,
    run_with,
};
use guardrail_policy::RuleSet;
use guardrail_sim::vocabulary::BANNED_BASES;
use guardrail_sim::{GroundTruth, WorldConfig, generate, load_truth};
use guardrail_text::Policy;
use guardrail_world::World;

use crate::inputs::{load_rules, load_world, load_world_policy};

/// Arguments of `guardrail audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    command: AuditCommand,
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Run one experiment (e1 to e6) on a world folder.
    Run(RunArgs),
    /// Write the advertiser report of E5's paired ads (report.json, report.html,
    /// tradeoff.csv, tradeoff.svg): whom each ad targeted, reached, and what the guardrail
    /// excluded and why. Counts only.
    AdsReport(AdsReportArgs),
    /// Write the audit report (report.json and one self-contained report.html): every
    /// experiment off and on beside its published anchor, and the figures over time.
    Report(crate::audit_external::ReportArgs),
}

#[derive(Debug, Args)]
struct AdsReportArgs {
    /// World folder written by `guardrail world generate`.
    #[arg(long, value_name = "DIR")]
    world: PathBuf,
    /// Folder to write the report into (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Whether the guardrail layer is on (gate and delivery controller).
    #[arg(long, value_enum, default_value = "on")]
    guardrails: Guardrails,
    /// Text policy for `--guardrails on` (default: the world's policy.toml, else the default).
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Discovery rules for `--guardrails on` (default: the shipped rules).
    #[arg(long, value_name = "FILE")]
    rules: Option<PathBuf>,
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
    /// Experiment: e1, e2, e3, e4, e5 or e6.
    #[arg(long, value_name = "NAME")]
    experiment: String,
    /// Whether the guardrail layer is on.
    #[arg(long, value_enum)]
    guardrails: Guardrails,
    /// One JSON object: experiment, guardrails, seed, metrics.
    #[arg(long)]
    json: bool,
    /// Audit an external system through the black-box contract
    /// (docs/external-contract.openapi.yaml) instead of the built-in platform: its base URL.
    /// Runs e1, e2, e3 or e6; with `--guardrails on`, Guardrail stands in front of it.
    #[arg(long, value_name = "URL")]
    external: Option<String>,
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
        AuditCommand::AdsReport(args) => ads_report(args),
        AuditCommand::Report(args) => crate::audit_external::run_report(args),
    }
}

fn ads_report(args: AdsReportArgs) -> Result<ExitCode> {
    // The report reads the public world only: no ground truth is loaded.
    let world = load_world(&args.world)?;
    let config = ExperimentConfig::default();
    let report = match args.guardrails {
        Guardrails::Off => guardrail_audit::ads_report::build(&world, &config, &Off::default()),
        Guardrails::On => {
            let policy = load_world_policy(&args.world, args.policy.as_deref())?;
            let rules = load_rules(args.rules.as_deref())?;
            let layer = On::build(&world, policy, rules);
            guardrail_audit::ads_report::build(&world, &config, &layer)
        }
    };
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create report folder {}", args.out.display()))?;
    let files = [
        ("report.json", serde_json::to_string_pretty(&report)? + "\n"),
        ("report.html", guardrail_audit::ads_report::html(&report)),
        (
            "tradeoff.csv",
            guardrail_audit::ads_report::tradeoff_csv(&report.tradeoff),
        ),
        (
            "tradeoff.svg",
            guardrail_audit::ads_report::tradeoff_svg(&report.tradeoff) + "\n",
        ),
    ];
    for (name, text) in files {
        let path = args.out.join(name);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn run_one(args: RunArgs) -> Result<ExitCode> {
    let experiment: Experiment = args.experiment.parse()?;
    if let Some(url) = &args.external {
        let report = crate::audit_external::run_external(
            url,
            &args.world,
            experiment,
            args.guardrails == Guardrails::On,
            args.policy.as_deref(),
            args.rules.as_deref(),
        )?;
        print_report(&report, args.json)?;
        return Ok(ExitCode::SUCCESS);
    }
    let world = load_world(&args.world)?;
    // Ground truth is loaded apart and only handed to the scoring code.
    let truth = load_truth(&args.world)
        .with_context(|| format!("cannot load ground truth {}/truth", args.world.display()))?;
    let config = ExperimentConfig::default();
    let report = match args.guardrails {
        Guardrails::Off => run_experiment(experiment, &world, &truth, &config),
        Guardrails::On => {
            let policy = load_world_policy(&args.world, args.policy.as_deref())?;
            let rules = load_rules(args.rules.as_deref())?;
            let mut layer = On::build(&world, policy, rules);
            run_with(experiment, &world, &truth, &config, &mut layer)
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

/// Runs every experiment off and on for one world.
fn run_both(
    world: &World,
    truth: &GroundTruth,
    policy: &Policy,
) -> (Vec<ExperimentReport>, Vec<ExperimentReport>) {
    let config = ExperimentConfig::default();
    let mut off = Vec::new();
    let mut on = Vec::new();
    for experiment in Experiment::ALL {
        eprintln!("running {experiment}: guardrails off, then on");
        off.push(run_with(
            experiment,
            world,
            truth,
            &config,
            &mut Off::default(),
        ));
        let mut layer = On::build(world, policy.clone(), RuleSet::default_rules());
        on.push(run_with(experiment, world, truth, &config, &mut layer));
    }
    (off, on)
}

fn metric(reports: &[ExperimentReport], experiment: Experiment, metric: Metric) -> f64 {
    reports
        .iter()
        .find(|r| r.experiment == experiment)
        .and_then(|r| r.metrics.get(&metric))
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
    let (off, on) = run_both(&world, &truth, &policy);
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
    for (row, anchor) in published() {
        println!(
            "{:<4} {:<40} {:>8.3} {:>8.3}  {anchor}",
            row.experiment.name(),
            row.metric.name(),
            metric(&off, row.experiment, row.metric),
            metric(&on, row.experiment, row.metric)
        );
    }
    println!();
    println!(
        "{:<4} {:<46} {:>8} {:>8}  {:<22} result",
        "exp", "target (guardrails on)", "off", "on", "wanted"
    );
    let mut unmet = 0;
    for (row, target) in targets() {
        let (before, after) = (
            metric(&off, row.experiment, row.metric),
            metric(&on, row.experiment, row.metric),
        );
        let met = (target.met)(before, after);
        unmet += usize::from(!met);
        println!(
            "{:<4} {:<46} {:>8.3} {:>8.3}  {:<22} {}",
            row.experiment.name(),
            row.metric.name(),
            before,
            after,
            target.wanted,
            if met { "met" } else { "NOT MET" }
        );
    }
    println!(
        "e1   parent-run and niche reach: {:.0} accounts measured, total reach kept {:.3}, smallest share kept by one account {:.3} (adults: {:.3})",
        metric(&on, Experiment::E1, Metric::ParentNicheAccountsMeasured),
        metric(&on, Experiment::E1, Metric::ParentNicheTotalReachKept),
        metric(&on, Experiment::E1, Metric::ParentNicheMinReachKept),
        metric(&on, Experiment::E1, Metric::ParentNicheAdultMinReachKept),
    );
    for experiment in Experiment::ALL {
        println!(
            "{:<4} shadow mode and backfill replayed {:.0} decisions: {:.0} and {:.0} mismatches",
            experiment.name(),
            metric(&on, experiment, Metric::DecisionsReplayed),
            metric(&on, experiment, Metric::ShadowMismatches),
            metric(&on, experiment, Metric::BackfillMismatches),
        );
    }
    if unmet > 0 {
        println!("{unmet} target(s) not met; see crates/guardrail-audit/docs/experiments.md");
    }
    Ok(ExitCode::SUCCESS)
}
