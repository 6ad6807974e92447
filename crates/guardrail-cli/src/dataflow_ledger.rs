//! `guardrail dataflow map --db URL [--follow]`: the dataflow map of a ledger, kept current
//! as events arrive.
//!
//! Wiring only. A run goes in rounds, each folding the ledger's events up to a target
//! sequence: round 0 loads the ledger to its head and starts the dataflow; later rounds
//! (with `--follow`) fold what was stored since and feed the dataflow only the change
//! (`guardrail_dataflow::ledger::LedgerFeed`). One process finds its own targets by looking
//! at the ledger's head every `--interval`. In a loopback cluster the launcher does the
//! looking and writes each round's target to a file ([`RoundDriver`]), so that every
//! process folds exactly the same events per round, as timely requires.
//!
//! What it must never do: fold past a round's target (processes would disagree), or print
//! anything on standard output but the map (one-shot) or one JSON line per round (follow).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use guardrail_dataflow::ledger::LedgerFeed;
use guardrail_dataflow::{ClusterConfig, DataflowConfig, MapSession, Update};
use guardrail_graph::map::MapConfig;
use guardrail_server::ledger_io::{self, Stored};
use guardrail_store::Store;
use tokio::runtime::Runtime;

use crate::dataflow::{MapArgs, render};
use crate::inputs::load_policy;
use crate::ledger::{DbArg, ledger_policy, open, runtime};

/// The file that tells copies no round follows the last one written.
const STOP: &str = "stop";

fn round_file(dir: &Path, round: u64) -> PathBuf {
    dir.join(format!("round-{round}"))
}

/// Writes `bytes` to `path` whole or not at all (a reader never sees half a file).
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let partial = path.with_extension("partial");
    std::fs::write(&partial, bytes)
        .with_context(|| format!("cannot write {}", partial.display()))?;
    std::fs::rename(&partial, path)
        .with_context(|| format!("cannot move {} into place", path.display()))
}

/// Which rounds a run folds: round 0 at the ledger's head when it starts, then, when
/// following, one each time the head has moved, up to `limit` rounds after it (0: no limit).
#[derive(Debug, Clone, Copy)]
struct Schedule {
    follow: bool,
    limit: u64,
    round: u64,
    reached: u64,
}

impl Schedule {
    fn of(args: &MapArgs) -> Schedule {
        Schedule {
            follow: args.follow,
            limit: args.rounds,
            round: 0,
            reached: 0,
        }
    }

    /// Whether another round may come.
    fn open(&self) -> bool {
        self.round == 0 || (self.follow && (self.limit == 0 || self.round <= self.limit))
    }

    /// The next round's target, when the head `head` makes one.
    fn target(&mut self, head: u64) -> Option<u64> {
        if self.round > 0 && head <= self.reached {
            return None;
        }
        self.round += 1;
        self.reached = head;
        Some(head)
    }
}

/// Where the rounds' targets come from.
enum Rounds {
    /// This process looks at the ledger's head.
    Own {
        schedule: Schedule,
        interval: Duration,
    },
    /// The launcher writes them to files.
    Files { dir: PathBuf, round: u64 },
}

impl Rounds {
    /// The next round's target sequence, waiting for one; `None` when the run is over.
    fn next(&mut self, runtime: &Runtime, store: &Store) -> Result<Option<u64>> {
        match self {
            Rounds::Own { schedule, interval } => {
                if !schedule.open() {
                    return Ok(None);
                }
                loop {
                    let (head, _) = runtime.block_on(store.head())?;
                    if let Some(target) = schedule.target(head) {
                        return Ok(Some(target));
                    }
                    std::thread::sleep(*interval);
                }
            }
            Rounds::Files { dir, round } => loop {
                let path = round_file(dir, *round);
                match std::fs::read_to_string(&path) {
                    Ok(text) => {
                        let target = text.trim().parse::<u64>().with_context(|| {
                            format!("round file {} holds {text:?}", path.display())
                        })?;
                        *round += 1;
                        return Ok(Some(target));
                    }
                    Err(_) if dir.join(STOP).exists() => return Ok(None),
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            },
        }
    }
}

/// The launcher's side of a loopback cluster on a ledger: looks at the head and writes
/// each round's target for the copies.
pub(crate) struct RoundDriver {
    runtime: Runtime,
    store: Store,
    dir: PathBuf,
    schedule: Schedule,
    interval: Duration,
    last_look: Instant,
}

impl RoundDriver {
    /// Opens the ledger and writes round 0 (the head now).
    pub(crate) fn start(db: &str, args: &MapArgs, dir: &Path) -> Result<RoundDriver> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot make {}", dir.display()))?;
        let runtime = runtime()?;
        let store = runtime.block_on(open(&DbArg {
            db: Some(db.to_string()),
        }))?;
        let mut driver = RoundDriver {
            runtime,
            store,
            dir: dir.to_path_buf(),
            schedule: Schedule::of(args),
            interval: interval(args.interval)?,
            last_look: Instant::now(),
        };
        driver.look()?;
        Ok(driver)
    }

    fn look(&mut self) -> Result<()> {
        self.last_look = Instant::now();
        let (head, _) = self.runtime.block_on(self.store.head())?;
        let round = self.schedule.round;
        if let Some(target) = self.schedule.target(head) {
            write_atomically(&round_file(&self.dir, round), target.to_string().as_bytes())?;
            if !self.schedule.open() {
                write_atomically(&self.dir.join(STOP), b"")?;
            }
        }
        Ok(())
    }

    /// Called while the copies run: writes the next round when the head moved.
    pub(crate) fn tick(&mut self) -> Result<()> {
        if !self.schedule.open() || self.last_look.elapsed() < self.interval {
            return Ok(());
        }
        self.look()
    }
}

fn interval(seconds: f64) -> Result<Duration> {
    if !(seconds.is_finite() && seconds > 0.0) {
        bail!("--interval must be a positive number of seconds, not {seconds}");
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// Runs one process of the ledger form.
pub(crate) fn run(args: &MapArgs, cluster: ClusterConfig) -> Result<ExitCode> {
    let runtime = runtime()?;
    let store = runtime.block_on(open(&DbArg {
        db: args.db.clone(),
    }))?;
    let mut rounds = match &args.rounds_dir {
        Some(dir) => Rounds::Files {
            dir: dir.clone(),
            round: 0,
        },
        None => Rounds::Own {
            schedule: Schedule::of(args),
            interval: interval(args.interval)?,
        },
    };
    let Some(target) = rounds.next(&runtime, &store)? else {
        return Ok(ExitCode::SUCCESS);
    };
    let started = Instant::now();
    let mut state = runtime.block_on(ledger_io::state_at(&store, target))?;
    let policy = match &args.policy {
        Some(path) => load_policy(path)?,
        None => ledger_policy(&state)?,
    };
    let (mut feed, start) = LedgerFeed::start(&state, &policy);
    if start.text.blocked_accounts().is_empty() {
        bail!(
            "no seeds: the ledger's text policy blocks no bio or hashtag in its {} events",
            state.last_seq
        );
    }
    let config = DataflowConfig::from(MapConfig {
        budget: args.budget,
        ..MapConfig::default()
    });
    let mut session = MapSession::start(&start.input, &start.text, &config, &cluster)?;
    drop(start);
    let loaded = started.elapsed();
    publish(&session, args)?;
    if !args.follow {
        session.finish();
        return Ok(ExitCode::SUCCESS);
    }
    report(&session, 0, state.last_seq, 0, 0, 0, loaded)?;
    let mut round = 0;
    while let Some(target) = rounds.next(&runtime, &store)? {
        round += 1;
        let started = Instant::now();
        let records = runtime.block_on(ledger_io::read_until(&store, state.last_seq, target))?;
        let mut updates: Vec<Update> = Vec::new();
        for (seq, stored) in &records {
            match stored {
                Stored::Event(event) => updates.extend(feed.fold(&mut state, *seq, event)),
                // No map input reads a logged decision.
                Stored::LoggedDecision { .. } => {
                    ledger_io::fold_stored(&mut state, *seq, stored);
                }
            }
        }
        let changes = session.apply(&updates)?;
        publish(&session, args)?;
        report(
            &session,
            round,
            state.last_seq,
            records.len(),
            updates.len(),
            changes.len(),
            started.elapsed(),
        )?;
    }
    session.finish();
    Ok(ExitCode::SUCCESS)
}

/// Writes the current map (driver only): to --output whole, else to standard output
/// (one-shot only: a follower's standard output is its round lines).
fn publish(session: &MapSession, args: &MapArgs) -> Result<()> {
    let Some(map) = session.map()? else {
        return Ok(());
    };
    let bytes = render(&map, args.json || args.follow)?;
    match (&args.output, args.follow) {
        (Some(path), _) => write_atomically(path, &bytes),
        (None, true) => Ok(()),
        (None, false) => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(&bytes)?;
            stdout.flush()?;
            Ok(())
        }
    }
}

/// One JSON line per round (driver only).
fn report(
    session: &MapSession,
    round: u64,
    seq: u64,
    events: usize,
    updates: usize,
    changed: usize,
    took: Duration,
) -> Result<()> {
    if !session.is_driver() {
        return Ok(());
    }
    let line = serde_json::json!({
        "round": round,
        "seq": seq,
        "events": events,
        "updates": updates,
        "scores_changed": changed,
        "seconds": took.as_secs_f64(),
    });
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}")?;
    stdout.flush()?;
    Ok(())
}
