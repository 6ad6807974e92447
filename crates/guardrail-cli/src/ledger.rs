//! `guardrail world ingest`, `guardrail ledger verify|rebuild`, and the loading of a
//! ledger's derived state that `decide --db` and `reports` share.
//!
//! Wiring only: opens the database (`--db`, `$GUARDRAIL_DB`, or `guardrail.db`), streams
//! events into it through the store's group commit, verifies the hash chain, and folds the
//! ledger into derived state — from the latest checkpoint plus the events after it, or from
//! the first event — comparing the two on `rebuild --check`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use guardrail_adapter::Deriver;
use guardrail_ledger::event::{Event, Payload, PolicyPublished};
use guardrail_ledger::ingest::world_events;
use guardrail_ledger::state::LedgerState;
use guardrail_server::ledger_io;
use guardrail_store::{AppendOutcome, DbUrl, Store, StoreOptions};
use guardrail_text::Policy;
use indicatif::{ProgressBar, ProgressStyle};

use crate::inputs::{load_world, load_world_policy};

/// Where the database is: `--db URL`.
#[derive(Debug, Clone, Args)]
pub struct DbArg {
    /// The ledger's database: `sqlite:///abs/path.db`, `sqlite://relative.db`, a path, or
    /// `postgres://…` (default `$GUARDRAIL_DB`, else `guardrail.db`).
    #[arg(long, value_name = "URL")]
    pub db: Option<String>,
}

impl DbArg {
    /// The parsed URL.
    pub fn url(&self) -> Result<DbUrl> {
        Ok(match &self.db {
            Some(text) => DbUrl::parse(text).with_context(|| format!("--db {text:?}"))?,
            None => DbUrl::from_env_or_default()?,
        })
    }
}

/// A tokio runtime for the store's async API.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

/// Opens the store (refusing a corrupt or unknown database, with the reason).
pub async fn open(db: &DbArg) -> Result<Store> {
    let url = db.url()?;
    Store::open(&url, StoreOptions::default())
        .await
        .with_context(|| format!("cannot open the ledger at {url}"))
}

/// How checkpoints are written (the service's encoding: MessagePack of the folded state).
pub fn encode_state(state: &LedgerState) -> Result<Vec<u8>> {
    Ok(ledger_io::encode_state(state))
}

/// The text policy the ledger published last, or Guardrail's default.
pub fn ledger_policy(state: &LedgerState) -> Result<Policy> {
    Ok(ledger_io::ledger_policy(state)?)
}

/// Folds every record after `state.last_seq` into `state`.
pub async fn fold_tail(store: &Store, state: &mut LedgerState) -> Result<u64> {
    Ok(ledger_io::fold_tail(store, state).await?)
}

/// The ledger's state as the service would have it: the latest checkpoint and every event
/// after it (or every event, when there is no checkpoint).
pub async fn live_state(store: &Store) -> Result<LedgerState> {
    Ok(ledger_io::live_state(store).await?)
}

/// Arguments of `guardrail ledger`.
#[derive(Debug, Args)]
pub struct LedgerArgs {
    #[command(subcommand)]
    command: LedgerCommand,
}

#[derive(Debug, Subcommand)]
enum LedgerCommand {
    /// Recompute the hash chain; exit 1 naming the first bad sequence number.
    Verify(VerifyArgs),
    /// Fold the whole ledger into derived state (and save it as the new checkpoint), or
    /// with --check compare it with the state the service keeps; exit 1 naming what differs.
    Rebuild(RebuildArgs),
}

#[derive(Debug, Args)]
struct VerifyArgs {
    #[command(flatten)]
    db: DbArg,
}

#[derive(Debug, Args)]
struct RebuildArgs {
    #[command(flatten)]
    db: DbArg,
    /// Compare instead of saving: the checkpoint plus the events after it against a fold
    /// from the first event, and the derived signals of both.
    #[arg(long)]
    check: bool,
    /// Text policy for deriving signals (default: the one the ledger published last).
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
}

/// Runs `guardrail ledger ...`.
pub fn run(args: LedgerArgs) -> Result<ExitCode> {
    let runtime = runtime()?;
    match args.command {
        LedgerCommand::Verify(args) => runtime.block_on(verify(args)),
        LedgerCommand::Rebuild(args) => runtime.block_on(rebuild(args)),
    }
}

async fn verify(args: VerifyArgs) -> Result<ExitCode> {
    let store = open(&args.db).await?;
    let started = Instant::now();
    match store.verify().await {
        Ok(records) => {
            let (_, head) = store.head().await?;
            println!(
                "chain verified: {records} records, head {head} ({:.2} s)",
                started.elapsed().as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => match error.chain_break() {
            Some(chain_break) => {
                println!("{chain_break}");
                Ok(ExitCode::from(1))
            }
            None => Err(error.into()),
        },
    }
}

fn peak_memory_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

async fn rebuild(args: RebuildArgs) -> Result<ExitCode> {
    let store = open(&args.db).await?;
    let started = Instant::now();
    let mut rebuilt = LedgerState::new();
    let events = fold_tail(&store, &mut rebuilt).await?;
    let folded = started.elapsed();
    if !args.check {
        store
            .save_checkpoint(rebuilt.last_seq, encode_state(&rebuilt)?)
            .await?;
        println!(
            "rebuilt from {events} events in {:.2} s; checkpoint saved at sequence {} (peak memory {:.0} MiB)",
            folded.as_secs_f64(),
            rebuilt.last_seq,
            peak_memory_mib().unwrap_or(f64::NAN)
        );
        return Ok(ExitCode::SUCCESS);
    }
    let live = live_state(&store).await?;
    let policy = match &args.policy {
        Some(path) => crate::inputs::load_policy(path)?,
        None => ledger_policy(&live)?,
    };
    let mut differences: Vec<String> = live
        .differences(&rebuilt)
        .into_iter()
        .map(|d| format!("ledger state: {d}"))
        .collect();
    let live_derived = Deriver::from_ledger(&live, &policy, None);
    let rebuilt_derived = Deriver::from_ledger(&rebuilt, &policy, Some(live_derived.map()));
    differences.extend(
        live_derived
            .snapshot()
            .differences(&rebuilt_derived.snapshot())
            .into_iter()
            .map(|d| format!("derived state: {d}")),
    );
    let elapsed = started.elapsed();
    if differences.is_empty() {
        println!(
            "rebuild equals the live state: {events} events folded in {:.2} s, derived and compared in {:.2} s (peak memory {:.0} MiB)",
            folded.as_secs_f64(),
            (elapsed - folded).as_secs_f64(),
            peak_memory_mib().unwrap_or(f64::NAN)
        );
        Ok(ExitCode::SUCCESS)
    } else {
        for difference in &differences {
            println!("{difference}");
        }
        Ok(ExitCode::from(1))
    }
}

/// Arguments of `guardrail world ingest`.
#[derive(Debug, Args)]
pub struct IngestArgs {
    /// World folder (public tables; `truth/` is never read).
    #[arg(long, value_name = "DIR")]
    world: PathBuf,
    #[command(flatten)]
    db: DbArg,
    /// Events per append call (each is one group commit or more).
    #[arg(long, default_value_t = 20_000)]
    batch: usize,
}

/// Runs `guardrail world ingest`.
pub fn ingest(args: IngestArgs) -> Result<ExitCode> {
    runtime()?.block_on(ingest_world(args))
}

async fn ingest_world(args: IngestArgs) -> Result<ExitCode> {
    let world = load_world(&args.world)?;
    let mut events = Vec::new();
    // The platform's text policy (its ban list) goes first, so that derived state is
    // read with the policy the platform deploys.
    let policy_path = args.world.join(guardrail_adapter::POLICY_FILE);
    if policy_path.is_file() {
        let toml = std::fs::read_to_string(&policy_path)
            .with_context(|| format!("cannot read {}", policy_path.display()))?;
        load_world_policy(&args.world, None)?;
        events.push(Event::new(
            "policy-published:world",
            guardrail_ledger::WORLD_EPOCH,
            Payload::PolicyPublished(PolicyPublished {
                version: 1,
                toml,
                actor: "guardrail world ingest".into(),
            }),
        ));
    }
    events.extend(world_events(&world));
    let store = open(&args.db).await?;
    let bar = ProgressBar::new(events.len() as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} ingest [{bar:40}] {pos}/{len} events ({per_sec}, {eta})",
        )?
        .progress_chars("=> "),
    );
    let started = Instant::now();
    let (mut stored, mut duplicates, mut conflicts) = (0u64, 0u64, 0u64);
    let mut state = live_state(&store).await?;
    for chunk in events.chunks(args.batch.max(1)) {
        let outcomes = store.append(chunk.to_vec()).await?;
        for outcome in &outcomes {
            match outcome {
                AppendOutcome::Stored { .. } => stored += 1,
                AppendOutcome::Duplicate { .. } => duplicates += 1,
                AppendOutcome::Conflict { .. } => conflicts += 1,
            }
        }
        bar.inc(chunk.len() as u64);
    }
    let elapsed = started.elapsed();
    bar.finish_and_clear();
    fold_tail(&store, &mut state).await?;
    store
        .save_checkpoint(state.last_seq, encode_state(&state)?)
        .await?;
    eprintln!(
        "ingested {} events from {} in {:.1} s ({:.0} events/s): {stored} stored, {duplicates} already there, {conflicts} conflicts; {} accounts, {} flagged events; checkpoint at sequence {}",
        events.len(),
        args.world.display(),
        elapsed.as_secs_f64(),
        events.len() as f64 / elapsed.as_secs_f64().max(1e-9),
        state.accounts.len(),
        state.flags.len(),
        state.last_seq
    );
    Ok(if conflicts > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
