//! `guardrail reports check|sweep|metrics|submit|transition`: the report lifecycle from the
//! command line, straight on the ledger.
//!
//! What it is for: `check` is the proof the issue asks for — from the ledger alone, every
//! report received is in a known state, none is past its timer without an alert, none is
//! stuck, and no key a client saw acknowledged is missing — and it exits 1 with the list
//! otherwise, so a cron job or CI can page someone. `sweep` writes the alerts that are due
//! (what the service's own sweep does on a timer). `metrics` prints the transparency
//! figures. `submit` and `transition` are the intake and the lifecycle for operators and
//! scripts, through the same checks as the HTTP routes.
//!
//! What it must never do: acknowledge a report before its event is durable, or move a report
//! the lifecycle does not allow. Wiring only: the rules live in `guardrail-reports`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use guardrail_ledger::event::Subject;
use guardrail_reports::{
    Actor, CheckConfig, Intake, ReportState, ReportSubmission, TriageInputs, due_alerts, intake,
    plan_transition, transparency,
};
use guardrail_server::unix_now;
use guardrail_store::AppendOutcome;
use guardrail_types::TextPlace;
use serde::Deserialize;

use crate::ledger::{DbArg, ledger_policy, live_state, open, runtime};

/// Arguments of `guardrail reports`.
#[derive(Debug, Args)]
pub struct ReportsArgs {
    #[command(subcommand)]
    command: ReportsCommand,
}

#[derive(Debug, Subcommand)]
enum ReportsCommand {
    /// Prove from the ledger that no report is lost, stuck, or overdue unseen; exit 1 with
    /// the list otherwise.
    Check(CheckArgs),
    /// Raise the alerts that are due (missed first-action and final-state timers), once.
    Sweep(SweepArgs),
    /// Transparency figures: received and processed by category, time to first action and
    /// to the final state (p50, p90), share actioned, referrals.
    Metrics(MetricsArgs),
    /// Receive a report from a JSON file (the body of `POST /v1/reports`).
    Submit(SubmitArgs),
    /// Move a report to another state, as a named person with a reason.
    Transition(TransitionArgs),
}

#[derive(Debug, Args)]
struct CheckArgs {
    #[command(flatten)]
    db: DbArg,
    /// Client keys the reporters saw acknowledged, one per line (`#` starts a comment):
    /// each must be in the ledger.
    #[arg(long, value_name = "FILE")]
    acknowledged: Option<PathBuf>,
    /// Seconds without a transition after which an open report is stuck.
    #[arg(long, value_name = "SECONDS", default_value_t = 7 * 24 * 3600)]
    stuck_after: u64,
    /// The time of the check, Unix seconds (default: now).
    #[arg(long, value_name = "UNIX_SECONDS")]
    now: Option<u64>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct SweepArgs {
    #[command(flatten)]
    db: DbArg,
    /// The time of the sweep, Unix seconds (default: now).
    #[arg(long, value_name = "UNIX_SECONDS")]
    now: Option<u64>,
}

#[derive(Debug, Args)]
struct MetricsArgs {
    #[command(flatten)]
    db: DbArg,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct SubmitArgs {
    #[command(flatten)]
    db: DbArg,
    /// The report as JSON: `client_key`, `reporter`, `subject` (`{"account": ID}` or
    /// `{"post": ID}`), `category`, and optionally `text` and `media_hashes`.
    #[arg(long, value_name = "FILE")]
    file: PathBuf,
}

#[derive(Debug, Args)]
struct TransitionArgs {
    #[command(flatten)]
    db: DbArg,
    /// The report id.
    #[arg(long)]
    id: String,
    /// The state to enter.
    #[arg(long)]
    to: String,
    /// The person who decides (recorded as `person:NAME`).
    #[arg(long)]
    actor: String,
    /// Why, in words a later reviewer reads.
    #[arg(long)]
    reason: String,
    /// The state you saw the report in; refused if it moved since.
    #[arg(long)]
    from: Option<String>,
}

/// Runs `guardrail reports ...`.
pub fn run(args: ReportsArgs) -> Result<ExitCode> {
    let runtime = runtime()?;
    match args.command {
        ReportsCommand::Check(args) => runtime.block_on(check(args)),
        ReportsCommand::Sweep(args) => runtime.block_on(sweep(args)),
        ReportsCommand::Metrics(args) => runtime.block_on(metrics(args)),
        ReportsCommand::Submit(args) => runtime.block_on(submit(args)),
        ReportsCommand::Transition(args) => runtime.block_on(transition(args)),
    }
}

/// Reads the acknowledged-keys file: one key per line, blank lines and `#` comments skipped.
fn read_acknowledged(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the acknowledged keys in {}", path.display()))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_string)
        .collect())
}

async fn check(args: CheckArgs) -> Result<ExitCode> {
    let acknowledged = match &args.acknowledged {
        Some(path) => read_acknowledged(path)?,
        None => Vec::new(),
    };
    let store = open(&args.db).await?;
    let state = live_state(&store).await?;
    let config = CheckConfig {
        now: args.now.unwrap_or_else(unix_now),
        stuck_after: args.stuck_after,
    };
    let report = guardrail_reports::check(&state, &config, &acknowledged);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "{} reports in the ledger ({} closed, {} open); {} acknowledged keys checked; {} problems",
            report.reports,
            report.closed,
            report.reports - report.closed,
            report.acknowledged_checked,
            report.problems.len()
        );
        for problem in &report.problems {
            let kind = serde_json::to_value(&problem.kind)?;
            println!(
                "  {}: {} — {}",
                kind.as_str().unwrap_or("problem"),
                problem.subject,
                problem.detail
            );
        }
    }
    Ok(if report.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

async fn sweep(args: SweepArgs) -> Result<ExitCode> {
    let store = open(&args.db).await?;
    let state = live_state(&store).await?;
    let alerts = due_alerts(&state, args.now.unwrap_or_else(unix_now));
    if alerts.is_empty() {
        println!("no alert due");
        return Ok(ExitCode::SUCCESS);
    }
    let outcomes = store.append(alerts.clone()).await?;
    let mut stored = 0;
    for (alert, outcome) in alerts.iter().zip(&outcomes) {
        match outcome {
            AppendOutcome::Stored { .. } => {
                stored += 1;
                if let guardrail_ledger::event::Payload::AlertRaised(raised) = &alert.payload {
                    println!("alert {}: {}", raised.kind, raised.detail);
                }
            }
            AppendOutcome::Duplicate { .. } => {}
            AppendOutcome::Conflict { .. } => {
                bail!(
                    "alert {} conflicts with a stored event of the same id",
                    alert.id
                )
            }
        }
    }
    println!("{stored} alerts raised");
    Ok(ExitCode::SUCCESS)
}

async fn metrics(args: MetricsArgs) -> Result<ExitCode> {
    let store = open(&args.db).await?;
    let state = live_state(&store).await?;
    let figures = transparency(&state);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&figures)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<32} {:>9} {:>9} {:>9}",
        "category", "received", "processed", "actioned"
    );
    for (category, row) in &figures.by_category {
        println!(
            "{category:<32} {:>9} {:>9} {:>9}",
            row.received, row.processed, row.actioned
        );
    }
    let seconds = |value: Option<u64>| value.map_or("-".to_string(), |s| format!("{s} s"));
    println!(
        "time to first action: p50 {}, p90 {}",
        seconds(figures.first_action_p50),
        seconds(figures.first_action_p90)
    );
    println!(
        "time to final state:  p50 {}, p90 {}",
        seconds(figures.final_state_p50),
        seconds(figures.final_state_p90)
    );
    println!(
        "actioned or referred: {:.1}% of decided reports",
        figures.actioned_share * 100.0
    );
    println!(
        "referrals: {} opened, {} confirmed by the clearing house",
        figures.referrals_opened, figures.referrals_finished
    );
    Ok(ExitCode::SUCCESS)
}

/// The JSON a report file holds (the HTTP route's body).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportFile {
    client_key: String,
    reporter: String,
    subject: Subject,
    category: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    media_hashes: Vec<String>,
}

async fn submit(args: SubmitArgs) -> Result<ExitCode> {
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let file: ReportFile = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a report", args.file.display()))?;
    let submission = ReportSubmission {
        client_key: file.client_key,
        reporter: file.reporter,
        subject: file.subject,
        category: file.category,
        text: file.text,
        media_hashes: file.media_hashes,
    };
    let store = open(&args.db).await?;
    let state = live_state(&store).await?;
    // Offline intake triages by the reporter's words only: the network score needs the
    // service's snapshot, and triage may raise a priority later, never lower it.
    let mut inputs = TriageInputs::default();
    if !submission.text.is_empty() {
        let policy = ledger_policy(&state)?;
        inputs.text =
            Some(guardrail_text::check(&policy, TextPlace::Comment, &submission.text).decision);
    }
    let decided = intake(&state, &submission, &inputs, unix_now())
        .with_context(|| format!("{}", args.file.display()))?;
    match decided {
        Intake::Existing { report, state } => {
            println!("{report} (already received under this client_key; {state})");
            Ok(ExitCode::SUCCESS)
        }
        Intake::Conflict { report } => bail!(
            "client_key {:?} was used for report {report} with a different body; the stored report stands",
            submission.client_key
        ),
        Intake::New { report, event, .. } => {
            match store.append(vec![*event]).await?.first() {
                Some(AppendOutcome::Conflict { .. }) => bail!(
                    "client_key {:?} was used for report {report} with a different body; the stored report stands",
                    submission.client_key
                ),
                Some(AppendOutcome::Stored { seq }) => {
                    println!("{report} received (sequence {seq})")
                }
                _ => println!("{report} received"),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn transition(args: TransitionArgs) -> Result<ExitCode> {
    let to: ReportState = args.to.parse().context("--to")?;
    if args.actor.trim().is_empty() {
        bail!("--actor: a transition names the person who made it");
    }
    let store = open(&args.db).await?;
    let state = live_state(&store).await?;
    let event = plan_transition(
        &state,
        &args.id,
        to,
        &Actor::Person(args.actor.clone()),
        &args.reason,
        args.from.as_deref(),
        unix_now(),
    )?;
    match store.append(vec![event]).await?.first() {
        Some(AppendOutcome::Conflict { .. }) => {
            bail!(
                "report {} was moved by someone else at the same time; check it again",
                args.id
            )
        }
        _ => println!("{} is now {}", args.id, to.name()),
    }
    Ok(ExitCode::SUCCESS)
}
