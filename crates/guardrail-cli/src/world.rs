//! `guardrail world`: generate a synthetic world folder.
//!
//! Wiring only: reads the config file, calls the pure generator with a progress bar, and
//! writes the folder through `guardrail_sim::write_world`. It never prints ground truth; that goes
//! to `truth/` inside the folder.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use guardrail_sim::{Progress, WorldConfig, generate_with_progress, write_world};
use guardrail_world::Format;
use indicatif::{ProgressBar, ProgressStyle};

/// Arguments of `guardrail world`.
#[derive(Debug, Args)]
pub struct WorldArgs {
    #[command(subcommand)]
    command: WorldCommand,
}

#[derive(Debug, Subcommand)]
enum WorldCommand {
    /// Generate a synthetic world (public tables plus `truth/`) from a seed.
    Generate(GenerateArgs),
    /// Stream a world's public tables into the ledger as events, in time order (ground
    /// truth is never read).
    Ingest(crate::ledger::IngestArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FormatArg {
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

#[derive(Debug, Args)]
struct GenerateArgs {
    /// Seed: the same seed and config give byte-identical files.
    #[arg(long)]
    seed: u64,
    /// World config (TOML; every field optional, unknown fields rejected).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Number of accounts, keeping the config's proportions (up to 1,000,000 and beyond).
    #[arg(long, value_name = "ACCOUNTS")]
    scale: Option<u32>,
    /// Output folder (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// File format of the tables.
    #[arg(long, value_enum, default_value = "csv")]
    format: FormatArg,
}

#[derive(Debug)]
struct Bar(ProgressBar);

impl Progress for Bar {
    fn update(&mut self, stage: &str, done: u64, total: u64) {
        self.0.set_length(total.max(1));
        self.0.set_position(done);
        self.0.set_message(stage.to_string());
    }
}

/// Runs `guardrail world ...`.
pub fn run(args: WorldArgs) -> Result<ExitCode> {
    match args.command {
        WorldCommand::Generate(args) => generate(args),
        WorldCommand::Ingest(args) => crate::ledger::ingest(args),
    }
}

fn generate(args: GenerateArgs) -> Result<ExitCode> {
    let mut config = match &args.config {
        None => WorldConfig::default(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read config {}", path.display()))?;
            WorldConfig::from_toml_str(&text, &path.display().to_string())?
        }
    };
    if let Some(accounts) = args.scale {
        config = config.scaled_to(accounts);
        config.validate().map_err(|(field, message)| {
            anyhow::anyhow!("--scale {accounts}: field `{field}`: {message}")
        })?;
    }
    let bar = ProgressBar::new(u64::from(config.accounts));
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg:>9} [{bar:40}] {pos}/{len} ({elapsed})")?
            .progress_chars("=> "),
    );
    let mut progress = Bar(bar);
    let (world, truth) = generate_with_progress(&config, args.seed, &mut progress);
    let bar = progress.0;
    bar.set_length(10);
    bar.set_position(0);
    let format = match args.format {
        FormatArg::Csv => Format::Csv,
        FormatArg::Jsonl => Format::JsonLines,
    };
    write_world(&args.out, &world, &truth, format, &mut |table| {
        bar.set_message(format!("writing {table}"));
        bar.inc(1);
    })
    .with_context(|| format!("cannot write world to {}", args.out.display()))?;
    // The platform's text policy: what it would deploy (its own exact ban list read
    // through Guardrail's normaliser). Public, next to the public tables.
    let policy_path = args.out.join(guardrail_adapter::POLICY_FILE);
    std::fs::write(
        &policy_path,
        guardrail_adapter::platform_policy_toml(&guardrail_sim::vocabulary::BANNED_BASES),
    )
    .with_context(|| format!("cannot write {}", policy_path.display()))?;
    bar.finish_and_clear();
    eprintln!(
        "wrote {} accounts, {} posts, {} edges to {} (ground truth in {}/truth)",
        world.accounts.len(),
        world.posts.len(),
        world.edge_count(),
        args.out.display(),
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
