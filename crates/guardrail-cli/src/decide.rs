//! `guardrail decide`: try the decision engine by hand on a world folder.
//!
//! Wiring only: derives Guardrail's state (text guard, network map, entity links, variant
//! clusters) the way a running service does, from the ledger's events — a world folder is
//! first turned into its events, exactly as `guardrail world ingest` stores them — then asks
//! the engine about the given viewer and candidates on one surface and prints every verdict
//! with the rule that decided and the evidence behind each condition. Accounts are named by
//! the platform's ids (a world's decimal ids) or handles.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Result, bail};
use clap::Args;
use guardrail_adapter::{Deriver, Guard, NoLog};
use guardrail_ledger::LedgerState;
use guardrail_ledger::ingest::world_events;
use guardrail_policy::{Surface, Verdict};
use serde::Serialize;

use crate::inputs::{load_policy, load_rules, load_world, load_world_policy};
use crate::ledger::{DbArg, ledger_policy, live_state, open, runtime};

/// Arguments of `guardrail decide`.
#[derive(Debug, Args)]
pub struct DecideArgs {
    /// The surface asking.
    #[arg(long, value_parser = surface_values())]
    surface: String,
    /// World folder (public tables; `truth/` is never read).
    #[arg(
        long,
        value_name = "DIR",
        conflicts_with = "db",
        required_unless_present = "db"
    )]
    world: Option<PathBuf>,
    /// The ledger's database: decide on the state derived from it.
    #[arg(long, value_name = "URL")]
    db: Option<String>,
    /// Who will see the result (id or handle; the sender, for message requests).
    #[arg(long)]
    viewer: Option<String>,
    /// Candidate accounts (id or handle), repeatable.
    #[arg(long = "candidate")]
    candidates: Vec<String>,
    /// The search text or typed prefix (search, autocomplete, related hashtags).
    #[arg(long)]
    query: Option<String>,
    /// Candidate texts (autocomplete suggestions, related hashtags), repeatable.
    #[arg(long = "text")]
    texts: Vec<String>,
    /// Text policy (default: the world's policy.toml, or the one the ledger published last,
    /// else Guardrail's default).
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Discovery rules (default: the shipped rules).
    #[arg(long, value_name = "FILE")]
    rules: Option<PathBuf>,
    /// One JSON object per verdict.
    #[arg(long)]
    json: bool,
}

fn surface_values() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(Surface::ALL.map(Surface::name))
}

#[derive(Serialize)]
struct Decided<'a> {
    candidate: String,
    verdict: &'a Verdict,
}

/// Runs `guardrail decide`.
pub fn run(args: DecideArgs) -> Result<ExitCode> {
    let surface: Surface = args.surface.parse()?;
    if args.candidates.is_empty() && args.texts.is_empty() && args.query.is_none() {
        bail!("nothing to decide: give --candidate, --text or --query");
    }
    let rules = load_rules(args.rules.as_deref())?;
    let (state, policy, source) = match (&args.world, &args.db) {
        (Some(dir), _) => {
            let world = load_world(dir)?;
            let policy = load_world_policy(dir, args.policy.as_deref())?;
            // The same path as the ledger: the folder's events, folded, then derived.
            let state = LedgerState::from_events(&world_events(&world));
            (state, policy, dir.display().to_string())
        }
        (None, db) => {
            let db = DbArg { db: db.clone() };
            let state = runtime()?.block_on(async {
                let store = open(&db).await?;
                live_state(&store).await
            })?;
            let policy = match &args.policy {
                Some(path) => load_policy(path)?,
                None => ledger_policy(&state)?,
            };
            (state, policy, db.url()?.to_string())
        }
    };
    let deriver = Deriver::from_ledger(&state, &policy, None);
    let guard = Guard::new(deriver, policy, rules, Arc::new(NoLog));
    let view = guard.view();
    if let Err(error) = view.snapshot().map() {
        eprintln!(
            "note: no network map ({error}); network signals are unknown and decisions that need them fail closed"
        );
    }
    let resolve = |name: &str, what: &str| {
        view.snapshot().account_by_name(name).ok_or_else(|| {
            anyhow::anyhow!("--{what} {name:?}: no such account id or handle in {source}")
        })
    };
    let viewer = args
        .viewer
        .as_deref()
        .map(|name| resolve(name, "viewer"))
        .transpose()?;
    let mut decided: Vec<(String, Verdict)> = Vec::new();
    for name in &args.candidates {
        let account = resolve(name, "candidate")?;
        decided.push((name.clone(), view.decide_account(surface, viewer, account)));
    }
    let query = args.query.as_deref().unwrap_or("");
    for text in &args.texts {
        decided.push((
            format!("text {text:?}"),
            view.decide_text(surface, query, text),
        ));
    }
    if args.candidates.is_empty() && args.texts.is_empty() {
        decided.push((format!("query {query:?}"), view.decide_query(query)));
    }
    let mut out = BufWriter::new(io::stdout().lock());
    for (candidate, verdict) in &decided {
        if args.json {
            serde_json::to_writer(
                &mut out,
                &Decided {
                    candidate: candidate.clone(),
                    verdict,
                },
            )?;
            writeln!(out)?;
            continue;
        }
        writeln!(
            out,
            "{candidate}: {} on {} (decided by {}){}{}",
            verdict.action.name(),
            verdict.surface.name(),
            verdict.decided_by.as_deref().unwrap_or("no rule"),
            if verdict.fail_closed {
                format!(", fail closed: missing {}", verdict.missing.join(", "))
            } else {
                String::new()
            },
            if verdict.help_resources {
                ", help resources shown"
            } else {
                ""
            }
        )?;
        for condition in &verdict.conditions {
            let evidence: Vec<String> =
                condition.evidence.iter().map(ToString::to_string).collect();
            writeln!(
                out,
                "  {} = {}  [{}]",
                condition.condition,
                condition.value,
                evidence.join("; ")
            )?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
