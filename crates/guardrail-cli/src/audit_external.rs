//! `guardrail audit run --external URL` and `guardrail audit report`: the experiments through
//! the black-box contract, and the report people read.
//!
//! Wiring only: loads the public world and, apart, its ground truth for scoring; connects to
//! the external system (or builds the built-in platform behind the same seam); puts
//! Guardrail in front for `--guardrails on` (built from the world's public tables); draws
//! progress bars on a terminal; writes `report.json` and the self-contained `report.html`.

use std::io::{self, IsTerminal};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use guardrail_audit::black_box::series::Longitudinal;
use guardrail_audit::black_box::{self, BuiltIn, DiscoverySystem, Guarded, Progress, SystemError};
use guardrail_audit::report::{self, ReportPlan};
use guardrail_audit::{Experiment, ExperimentConfig, On};
use guardrail_policy::RuleSet;
use guardrail_sim::load_truth;
use guardrail_text::Policy;
use guardrail_world::World;
use indicatif::{ProgressBar, ProgressStyle};

use crate::external::HttpSystem;
use crate::inputs::{load_rules, load_world, load_world_policy};

/// Progress bars on stderr when it is a terminal; nothing otherwise.
pub struct Bars {
    bar: ProgressBar,
    stage: String,
}

impl Bars {
    /// Bars if stderr is a terminal.
    pub fn new() -> Bars {
        let bar = if io::stderr().is_terminal() {
            let bar = ProgressBar::new(0);
            if let Ok(style) =
                ProgressStyle::with_template("{msg:<36} {bar:40} {pos}/{len} eta {eta}")
            {
                bar.set_style(style);
            }
            bar
        } else {
            ProgressBar::hidden()
        };
        Bars {
            bar,
            stage: String::new(),
        }
    }
}

impl Progress for Bars {
    fn step(&mut self, stage: &str, done: usize, total: usize) {
        if stage != self.stage {
            self.stage = stage.to_string();
            self.bar.set_message(stage.to_string());
            self.bar.set_length(total as u64);
        }
        self.bar.set_position(done as u64);
    }
}

impl Drop for Bars {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

fn layer(world: &World, policy: &Policy, rules: &RuleSet) -> On {
    On::build(world, policy.clone(), rules.clone())
}

fn connect(url: &str) -> Result<HttpSystem> {
    HttpSystem::connect(url).with_context(|| {
        format!("cannot use the external system at {url} (is it running and trained? it must answer GET /healthz with {{\"status\": \"ok\"}})")
    })
}

/// Starts a run from the system's initial state when it can; says so when it cannot.
fn reset_or_warn(system: &mut dyn DiscoverySystem) -> Result<()> {
    match system.reset() {
        Ok(()) => Ok(()),
        Err(SystemError::Unsupported { .. }) => {
            eprintln!(
                "note: the system has no POST /reset; this run starts from whatever earlier runs left"
            );
            Ok(())
        }
        Err(other) => Err(other.into()),
    }
}

/// `guardrail audit run --external URL ...`.
#[allow(clippy::too_many_arguments)]
pub fn run_external(
    url: &str,
    world_dir: &Path,
    experiment: Experiment,
    on: bool,
    policy: Option<&Path>,
    rules: Option<&Path>,
) -> Result<guardrail_audit::ExperimentReport> {
    if !black_box::experiments::CONTRACT_EXPERIMENTS.contains(&experiment) {
        bail!(
            "--experiment {experiment}: an external system is audited with e1, e2, e3 or e6 (ads are not part of the contract)"
        );
    }
    let world = load_world(world_dir)?;
    let truth = load_truth(world_dir)
        .with_context(|| format!("cannot load ground truth {}/truth", world_dir.display()))?;
    let config = ExperimentConfig::default();
    let mut system = connect(url)?;
    reset_or_warn(&mut system)?;
    let mut bars = Bars::new();
    let report = if on {
        let policy = load_world_policy(world_dir, policy)?;
        let rules = load_rules(rules)?;
        let mut layer = layer(&world, &policy, &rules);
        let mut guarded = Guarded::new(&mut system, &mut layer, &world);
        black_box::experiments::run(
            experiment,
            &world,
            &truth,
            &config,
            &mut guarded,
            "on",
            &mut bars,
        )?
    } else {
        black_box::experiments::run(
            experiment,
            &world,
            &truth,
            &config,
            &mut system,
            "off",
            &mut bars,
        )?
    };
    Ok(report)
}

/// Arguments of `guardrail audit report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// World folder written by `guardrail world generate` (with its truth/ for scoring).
    #[arg(long, value_name = "DIR")]
    world: PathBuf,
    /// Folder to write report.json and report.html into (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Audit an external system through the black-box contract instead of the built-in
    /// platform (base URL, e.g. http://127.0.0.1:8700).
    #[arg(long, value_name = "URL")]
    external: Option<String>,
    /// Simulated weeks of the longitudinal runs.
    #[arg(long, default_value_t = 8)]
    weeks: u32,
    /// Text policy for the guardrail layer (default: the world's policy.toml, else the default).
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Discovery rules for the guardrail layer (default: the shipped rules).
    #[arg(long, value_name = "FILE")]
    rules: Option<PathBuf>,
}

/// `guardrail audit report`.
pub fn run_report(args: ReportArgs) -> Result<ExitCode> {
    let started = Instant::now();
    let world = load_world(&args.world)?;
    let truth = load_truth(&args.world)
        .with_context(|| format!("cannot load ground truth {}/truth", args.world.display()))?;
    let policy = load_world_policy(&args.world, args.policy.as_deref())?;
    let rules = load_rules(args.rules.as_deref())?;
    let config = ExperimentConfig::default();
    let make_layer = || layer(&world, &policy, &rules);
    let mut builtin;
    let mut http;
    let system: &mut dyn DiscoverySystem = match &args.external {
        Some(url) => {
            http = connect(url)?;
            &mut http
        }
        None => {
            builtin = BuiltIn::build(&world, &config.recommend);
            &mut builtin
        }
    };
    let plan = ReportPlan {
        world: &world,
        truth: &truth,
        config: &config,
        system,
        external: args.external.is_some(),
        make_layer: &make_layer,
        longitudinal: Longitudinal {
            weeks: args.weeks,
            ..Longitudinal::default()
        },
        curve_probes: 10,
        curve_follows: 10,
    };
    let report = {
        let mut bars = Bars::new();
        report::build(plan, &mut bars)?
    };
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create report folder {}", args.out.display()))?;
    let files = [
        ("report.json", serde_json::to_string_pretty(&report)? + "\n"),
        ("report.html", report::html::render(&report)),
    ];
    for (name, text) in files {
        let path = args.out.join(name);
        std::fs::write(&path, &text).with_context(|| format!("cannot write {}", path.display()))?;
        println!("wrote {} ({} bytes)", path.display(), text.len());
    }
    println!(
        "audited {} in {:.1} s",
        report.system,
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}
