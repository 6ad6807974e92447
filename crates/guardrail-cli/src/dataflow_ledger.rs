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
use guardrail_ledger::state::LedgerState;
use guardrail_server::ledger_io;
use guardrail_store::Store;
use tokio::runtime::Runtime;

use crate::dataflow::{MapArgs, render};
use crate::inputs::load_policy;
use crate::ledger::{DbArg, ledger_policy, open, runtime};

/// Events read from the store per query.
const PAGE: usize = 10_000;
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

/// Where the rounds' targets come from.
enum Rounds {
    /// This process looks at the ledger's head.
    Own {
        follow: bool,
        interval: Duration,
        limit: u64,
        reached: u64,
        round: u64,
    },
    /// The launcher writes them to files.
    Files { dir: PathBuf, round: u64 },
}

impl Rounds {
    /// The next round's target sequence, waiting for one; `None` when the run is over.
    fn next(&mut self, runtime: &Runtime, store: &Store) -> Result<Option<u64>> {
        match self {
            Rounds::Own {
                follow,
                interval,
                limit,
                reached,
                round,
            } => {
                if *round > 0 && (!*follow || (*limit > 0 && *round > *limit)) {
                    return Ok(None);
                }
                loop {
                    let (head, _) = runtime.block_on(store.head())?;
                    if *round == 0 || head > *reached {
                        *round += 1;
                        *reached = head;
                        return Ok(Some(head));
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
    follow: bool,
    interval: Duration,
    limit: u64,
    round: u64,
    reached: u64,
    last_look: Instant,
    stopped: bool,
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
            follow: args.follow,
            interval: interval(args.interval)?,
            limit: args.rounds,
            round: 0,
            reached: 0,
            last_look: Instant::now(),
            stopped: false,
        };
        driver.look()?;
        Ok(driver)
    }

    fn look(&mut self) -> Result<()> {
        self.last_look = Instant::now();
        let (head, _) = self.runtime.block_on(self.store.head())?;
        if self.round > 0 && head <= self.reached {
            return Ok(());
        }
        write_atomically(
            &round_file(&self.dir, self.round),
            head.to_string().as_bytes(),
        )?;
        self.round += 1;
        self.reached = head;
        if !self.follow || (self.limit > 0 && self.round > self.limit) {
            write_atomically(&self.dir.join(STOP), b"")?;
            self.stopped = true;
        }
        Ok(())
    }

    /// Called while the copies run: writes the next round when the head moved.
    pub(crate) fn tick(&mut self) -> Result<()> {
        if self.stopped || self.last_look.elapsed() < self.interval {
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

/// Reads the stored events after `after` up to `target` (inclusive).
fn read_until(
    runtime: &Runtime,
    store: &Store,
    after: u64,
    target: u64,
) -> Result<Vec<(u64, guardrail_ledger::event::Event)>> {
    let mut events = Vec::new();
    let mut last = after;
    while last < target {
        let records = runtime.block_on(store.read(last, PAGE))?;
        if records.is_empty() {
            bail!("the ledger ends at sequence {last}, before this round's target {target}");
        }
        for record in records {
            if record.seq > target {
                return Ok(events);
            }
            last = record.seq;
            events.push((record.seq, ledger_io::read_event(record.seq, &record.body)?));
        }
    }
    Ok(events)
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
            follow: args.follow,
            interval: interval(args.interval)?,
            limit: args.rounds,
            reached: 0,
            round: 0,
        },
    };
    let Some(target) = rounds.next(&runtime, &store)? else {
        return Ok(ExitCode::SUCCESS);
    };
    let started = Instant::now();
    // The checkpoint only when it is not past the target: every process must start from
    // the same events.
    let mut state = match runtime.block_on(store.load_checkpoint())? {
        Some((seq, bytes)) if seq <= target => ledger_io::decode_state(seq, &bytes)?,
        _ => LedgerState::new(),
    };
    for (seq, event) in read_until(&runtime, &store, state.last_seq, target)? {
        state.apply(seq, &event);
    }
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
    if !args.follow {
        publish(&session, args)?;
        session.finish();
        return Ok(ExitCode::SUCCESS);
    }
    publish(&session, args)?;
    report(&session, 0, state.last_seq, 0, 0, 0, loaded)?;
    let mut round = 0;
    while let Some(target) = rounds.next(&runtime, &store)? {
        round += 1;
        let started = Instant::now();
        let events = read_until(&runtime, &store, state.last_seq, target)?;
        let mut updates: Vec<Update> = Vec::new();
        for (seq, event) in &events {
            updates.extend(feed.fold(&mut state, *seq, event));
        }
        let changes = session.apply(&updates)?;
        publish(&session, args)?;
        report(
            &session,
            round,
            state.last_seq,
            events.len(),
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
