//! The decision log and its replay: shadow mode and backfill must reproduce what was
//! enforced.
//!
//! What it is for: a guard hands every decision to a [`DecisionSink`] passed in by its
//! owner (an in-memory log for audit runs, the ledger for a service); [`replay_check`]
//! replays recorded decisions through the same rules in shadow mode and through a backfill
//! from "no rules" to these rules, and counts every disagreement with what was enforced.
//!
//! What a sink must never do: slow the decision path down for decisions it does not keep.
//! A guard asks [`DecisionSink::accepts`] before it copies a request.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use guardrail_policy::backfill::{RecordedRequest, backfill};
use guardrail_policy::{Action, Engine, RuleSet, Verdict};

/// One decision as logged: the request (owned, replayable), what was enforced, the rule
/// that decided, and the snapshot it was decided on.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionRecord {
    /// The request with the signals it read.
    pub request: RecordedRequest,
    /// What was enforced.
    pub action: Action,
    /// The enforced rule that decided, if any.
    pub decided_by: Option<String>,
    /// The snapshot version the decision read.
    pub snapshot: u64,
}

/// Where a guard's decisions go.
pub trait DecisionSink: Send + Sync + fmt::Debug {
    /// Whether the sink keeps this decision (asked before the request is copied).
    fn accepts(&self, verdict: &Verdict) -> bool;
    /// Keeps one decision.
    fn record(&self, record: DecisionRecord);
}

/// A sink that keeps nothing (for one-off decisions by hand).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoLog;

impl DecisionSink for NoLog {
    fn accepts(&self, _verdict: &Verdict) -> bool {
        false
    }
    fn record(&self, _record: DecisionRecord) {}
}

/// Keeps the first `capacity` decisions in memory.
#[derive(Debug)]
pub struct MemoryLog {
    capacity: usize,
    // Checked without the lock, so a full log costs one atomic load per decision.
    len: AtomicUsize,
    records: Mutex<Vec<DecisionRecord>>,
}

impl MemoryLog {
    /// A log that keeps at most `capacity` decisions.
    pub fn new(capacity: usize) -> MemoryLog {
        MemoryLog {
            capacity,
            len: AtomicUsize::new(0),
            records: Mutex::new(Vec::new()),
        }
    }

    /// The decisions kept so far.
    pub fn records(&self) -> Vec<DecisionRecord> {
        match self.records.lock() {
            Ok(records) => records.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

impl DecisionSink for MemoryLog {
    fn accepts(&self, _verdict: &Verdict) -> bool {
        self.len.load(Ordering::Relaxed) < self.capacity
    }

    fn record(&self, record: DecisionRecord) {
        let mut records = match self.records.lock() {
            Ok(records) => records,
            Err(poisoned) => poisoned.into_inner(),
        };
        if records.len() < self.capacity {
            records.push(record);
            self.len.store(records.len(), Ordering::Relaxed);
        }
    }
}

/// Whether shadow mode and backfill reproduce the enforced decisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayCheck {
    /// Decisions replayed.
    pub recorded: usize,
    /// Decisions where shadow mode would have done something else.
    pub shadow_mismatches: usize,
    /// Decisions where backfill reports something else.
    pub backfill_mismatches: usize,
}

/// Replays `records` through `engine`'s rules in shadow mode and through a backfill from
/// no rules to these rules, and counts every disagreement with what was enforced.
pub fn replay_check(engine: &Engine, records: &[DecisionRecord]) -> ReplayCheck {
    let shadow = Engine::new(engine.rules().all_shadow(), engine.text_policy().clone());
    let none = Engine::new(
        RuleSet {
            name: "no-rules".to_string(),
            rules: Vec::new(),
            thresholds: engine.rules().thresholds,
        },
        engine.text_policy().clone(),
    );
    let mut shadow_mismatches = 0;
    for record in records {
        let verdict = record.request.decide(&shadow);
        let would = verdict
            .shadow
            .iter()
            .map(|hit| hit.would)
            .max()
            .unwrap_or(Action::Allow);
        if verdict.action != Action::Allow || would != record.action {
            shadow_mismatches += 1;
        }
    }
    let requests: Vec<RecordedRequest> = records.iter().map(|r| r.request.clone()).collect();
    let report = backfill(&none, engine, &requests);
    let changed: BTreeMap<usize, Action> = report
        .changes
        .iter()
        .map(|change| (change.request, change.after))
        .collect();
    let backfill_mismatches = records
        .iter()
        .enumerate()
        .filter(|(index, record)| {
            let expected = (record.action != Action::Allow).then_some(record.action);
            changed.get(index).copied() != expected
        })
        .count();
    ReplayCheck {
        recorded: records.len(),
        shadow_mismatches,
        backfill_mismatches,
    }
}
