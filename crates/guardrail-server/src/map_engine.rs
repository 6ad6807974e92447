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

/// The dataflow map following the service's ledger.
pub struct DataflowMap {
    feed: LedgerFeed,
    session: MapSession,
    pending: Vec<Update>,
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
    }

    /// Input changes not fed to the dataflow yet.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Feeds the changes since the last re-map and answers the map the dataflow then
    /// holds, as of ledger sequence `version`.
    pub fn remap(&mut self, version: u64) -> Result<MapOutcome, DataflowError> {
        let pending = std::mem::take(&mut self.pending);
        self.session.apply(&pending)?;
        let map = self.session.map()?.ok_or(DataflowError::WorkerStopped {
            round: self.session.round(),
        })?;
        Ok(MapOutcome {
            map: Ok(map),
            accounts: self.feed.accounts(),
            version,
        })
    }
}
