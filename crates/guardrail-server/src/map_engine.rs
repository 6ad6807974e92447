//! Which engine computes the network map a re-map publishes: the single-node engine over
//! the ledger's whole state (the default, and what a rebuild computes), or the dataflow
//! (`guardrail-dataflow`) kept current event by event, whose re-map costs the change
//! since the last one rather than the whole graph.
//!
//! What it is for: the dataflow follows every event the service folds (views, likes and
//! comments too: they are the map's edges even though no other signal reads them) into a
//! buffer of input changes; a re-map feeds the buffer to the running dataflow and publishes
//! the map it then holds. Communities start from a Leiden run when the service loads and
//! are kept by label propagation until the next restart (`guardrail-dataflow`'s documented
//! approximation), so its map is held to the engine's to within 1% of members by tests,
//! not to equality.
//!
//! What it must never do: fold the ledger itself (the service folds, this observes), or
//! let a dataflow failure stop decisions: a failed re-map keeps the map in force and says
//! why.

use std::str::FromStr;

use guardrail_adapter::MapOutcome;
use guardrail_dataflow::ledger::{FoldContext, LedgerFeed};
use guardrail_dataflow::{ClusterConfig, DataflowConfig, DataflowError, MapSession, Update};
use guardrail_graph::map::MapConfig;
use guardrail_ledger::event::Event;
use guardrail_ledger::state::{Folded, LedgerState};
use guardrail_text::Policy;

/// The engine behind re-maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MapEngine {
    /// `guardrail-graph`'s `build_map` over the whole state at each re-map.
    #[default]
    Single,
    /// `guardrail-dataflow` on this many worker threads, following the ledger.
    Dataflow {
        /// Timely worker threads.
        workers: usize,
    },
}

impl FromStr for MapEngine {
    type Err = String;

    fn from_str(text: &str) -> Result<MapEngine, String> {
        match text {
            "single" => Ok(MapEngine::Single),
            "dataflow" => Ok(MapEngine::Dataflow { workers: 1 }),
            other => Err(format!(
                "unknown map engine {other:?}: expected \"single\" or \"dataflow\""
            )),
        }
    }
}

/// Input changes held for the next re-map before they are fed to the dataflow anyway, so
/// a service that is never asked to re-map does not grow without bound.
const MAX_PENDING: usize = 100_000;

/// The dataflow map following the service's ledger.
pub struct DataflowMap {
    feed: LedgerFeed,
    session: MapSession,
    pending: Vec<Update>,
    max_pending: usize,
    /// Why the dataflow stopped taking changes, once it did.
    broken: Option<String>,
}

impl std::fmt::Debug for DataflowMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataflowMap")
            .field("accounts", &self.feed.accounts())
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

impl DataflowMap {
    /// Starts the dataflow on the ledger's state as folded so far.
    pub fn start(
        state: &LedgerState,
        policy: &Policy,
        workers: usize,
    ) -> Result<DataflowMap, DataflowError> {
        let (feed, start) = LedgerFeed::start(state, policy);
        let config = DataflowConfig::from(MapConfig {
            budget: usize::MAX,
            ..MapConfig::default()
        });
        let session = MapSession::start(
            &start.input,
            &start.text,
            &config,
            &ClusterConfig::local(workers.max(1)),
        )?;
        Ok(DataflowMap {
            feed,
            session,
            pending: Vec::new(),
            max_pending: MAX_PENDING,
            broken: None,
        })
    }

    /// Reads the state before it folds `event`.
    pub fn before(state: &LedgerState, event: &Event) -> FoldContext {
        FoldContext::before(state, event)
    }

    /// Records what folding an event changed in the map's inputs.
    pub fn after(&mut self, state: &LedgerState, context: FoldContext, folded: &Folded) {
        let updates = self.feed.after(state, context, folded);
        self.pending.extend(updates);
        if self.pending.len() >= self.max_pending {
            self.feed_pending();
        }
    }

    fn feed_pending(&mut self) {
        let pending = std::mem::take(&mut self.pending);
        if self.broken.is_none()
            && let Err(error) = self.session.apply(&pending)
        {
            self.broken = Some(error.to_string());
        }
    }

    /// Input changes not fed to the dataflow yet.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Feeds the changes since the last re-map and answers the map the dataflow then
    /// holds, as of ledger sequence `version`; or why it cannot.
    pub fn remap(&mut self, version: u64) -> Result<MapOutcome, String> {
        self.feed_pending();
        if let Some(why) = &self.broken {
            return Err(why.clone());
        }
        let stopped = DataflowError::WorkerStopped {
            round: self.session.round(),
        };
        let map = self
            .session
            .map()
            .map_err(|e| e.to_string())?
            .ok_or_else(|| stopped.to_string())?;
        Ok(MapOutcome {
            map: Ok(map),
            accounts: self.feed.accounts(),
            version,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use guardrail_ledger::event::Event;

    fn events() -> Vec<Event> {
        let mut lines = vec![
            r#"{"id":"a1","type":"account_created","at":1000,"account":"s1","handle":"s1","declared_age":30,"bio":"mnsfw trades"}"#.to_string(),
            r#"{"id":"a2","type":"account_created","at":1000,"account":"s2","handle":"s2","declared_age":30,"bio":"mnsfw trades"}"#.to_string(),
        ];
        for n in 0..6 {
            lines.push(format!(
                r#"{{"id":"b{n}","type":"account_created","at":1001,"account":"u{n}","handle":"u{n}","declared_age":40}}"#
            ));
            for seller in ["s1", "s2"] {
                lines.push(format!(
                    r#"{{"id":"f{n}{seller}","type":"follow","at":1002,"account":"u{n}","target":"{seller}"}}"#
                ));
            }
        }
        lines
            .iter()
            .map(|line| Event::from_body(line.as_bytes()).expect("a test event"))
            .collect()
    }

    /// Follows every event after the first two with `max_pending`, re-maps, and answers
    /// the members and how many changes were still held before the re-map.
    fn follow(max_pending: usize) -> (Vec<String>, usize) {
        let events = events();
        let policy = Policy::default_policy();
        let mut state = LedgerState::new();
        for (index, event) in events[..2].iter().enumerate() {
            state.fold(index as u64 + 1, event);
        }
        let mut map = DataflowMap::start(&state, &policy, 1).expect("the dataflow starts");
        map.max_pending = max_pending;
        for (index, event) in events.iter().enumerate().skip(2) {
            let context = DataflowMap::before(&state, event);
            let folded = state.fold(index as u64 + 1, event);
            map.after(&state, context, &folded);
        }
        let held = map.pending();
        let outcome = map.remap(state.last_seq).expect("a re-map");
        let members = outcome
            .map
            .expect("a map")
            .suspects
            .iter()
            .filter(|s| s.score >= guardrail_graph::map::CONFIDENT_SCORE)
            .map(|s| s.account.clone())
            .collect();
        (members, held)
    }

    #[test]
    fn changes_held_past_the_bound_are_fed_before_the_re_map_with_the_same_map() {
        let (held_members, held) = follow(usize::MAX);
        let (fed_members, still_held) = follow(4);
        assert!(held > 4, "{held} changes held without a bound");
        assert!(
            still_held < 4,
            "{still_held} changes held past a bound of 4"
        );
        assert!(!held_members.is_empty());
        assert_eq!(fed_members, held_members);
    }
}
