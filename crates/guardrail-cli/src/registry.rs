//! `guardrail registry import`: the offender registry's weekly list into the ledger, as
//! keyed hashes only.
//!
//! What it is for: registries share a list of email addresses every week. This reads the
//! file, canonicalises and hashes each address with HMAC-SHA-256 under the key in
//! `$GUARDRAIL_REGISTRY_KEY` (hex, from the configuration, never a flag), and stores one
//! `registry_imported` event with the hashes and the key's check value. The service matches
//! sign-ups and identifier changes against it (`guardrail serve` with the same key).
//!
//! What it must never do: store or print an address, accept a partial list (one bad line
//! refuses the whole file, naming line numbers only), or replace a newer list with an
//! older one.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use guardrail_ledger::event::{Event, Payload, RegistryImported};
use guardrail_policy::registry::{Registry, RegistryKey};
use guardrail_server::ledger_io::ledger_registry;
use guardrail_server::unix_now;
use guardrail_types::Timestamp;

use crate::ledger::{DbArg, live_state, open, runtime};

/// Arguments of `guardrail registry`.
#[derive(Debug, Args)]
pub struct RegistryArgs {
    #[command(subcommand)]
    command: RegistryCommand,
}

#[derive(Debug, Subcommand)]
enum RegistryCommand {
    /// Import the list in force (one address per line; `#` comments): replaces the last one.
    Import(ImportArgs),
}

#[derive(Debug, Args)]
struct ImportArgs {
    #[command(flatten)]
    db: DbArg,
    /// The list file.
    #[arg(long, value_name = "FILE")]
    list: PathBuf,
    /// When the registry issued the list, Unix seconds (default: now).
    #[arg(long, value_name = "UNIX_SECONDS")]
    issued: Option<u64>,
}

/// The registry key from the environment.
pub fn key_from_env() -> Result<Option<RegistryKey>> {
    match std::env::var("GUARDRAIL_REGISTRY_KEY") {
        Ok(text) => Ok(Some(
            RegistryKey::from_hex(&text).context("$GUARDRAIL_REGISTRY_KEY")?,
        )),
        Err(_) => Ok(None),
    }
}

/// Runs `guardrail registry ...`.
pub fn run(args: RegistryArgs) -> Result<ExitCode> {
    let RegistryCommand::Import(args) = args.command;
    runtime()?.block_on(import(args))
}

async fn import(args: ImportArgs) -> Result<ExitCode> {
    let key = key_from_env()?.context(
        "the registry's hashes need the key in $GUARDRAIL_REGISTRY_KEY (hex, at least 32 bytes)",
    )?;
    let list = std::fs::read_to_string(&args.list)
        .with_context(|| format!("cannot read {}", args.list.display()))?;
    let store = open(&args.db).await?;
    let state = live_state(&store).await?;
    let mut registry = match ledger_registry(&state, key)? {
        Some(registry) => registry,
        None => Registry::new(key_from_env()?.context("$GUARDRAIL_REGISTRY_KEY")?),
    };
    let issued = Timestamp(args.issued.unwrap_or_else(unix_now));
    let report = registry
        .import(&list, issued)
        .with_context(|| format!("{}", args.list.display()))?;
    let stored = registry.stored();
    let event = Event::new(
        format!("registry-imported:{}:{}", issued.0, stored.key_check),
        unix_now(),
        Payload::RegistryImported(RegistryImported {
            version: issued.0.to_string(),
            hashes: stored.hashes,
            actor: "guardrail registry import".to_string(),
            key_check: stored.key_check,
        }),
    );
    store.append(vec![event]).await?;
    println!(
        "registry list issued at {} imported: {} addresses ({} added, {} removed, {} unchanged, {} duplicate lines); only keyed hashes are stored",
        issued.0, report.entries, report.added, report.removed, report.unchanged, report.duplicates
    );
    Ok(ExitCode::SUCCESS)
}
