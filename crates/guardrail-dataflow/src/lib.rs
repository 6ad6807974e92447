//! The scale path of Guardrail's network map (design item C3, "Scale path"): the map's
//! inputs and scoring maintained incrementally on timely/differential dataflow, across
//! worker threads and processes, from a stream of follows, unfollows, engagements, text
//! verdicts and review decisions.
//!
//! The single-node engine (`guardrail-graph`) stays the definition: this crate maintains
//! the same per-account aggregates (degrees, seed links, follows of accounts featuring
//! minors, proximity, community) and feeds them to the engine's pure scoring functions
//! (`map::first_pass`, `add_suspect_links`, `halve_untied`, `role_of`,
//! `seed_concentration`). Where it cannot be exact it says how far off it may be:
//! - personalised PageRank is forward push kept up to date ([`ppr`], [`walk`]): within the
//!   push tolerance of the exact value, as the engine's own `ppr_push` is;
//! - communities start from a single-node Leiden run and are kept by majority label
//!   propagation ([`labels`]) until the next run;
//! - evidence paths are shortest paths with the smallest parent id (the engine keeps the
//!   first it finds; both are shortest).
//!
//! Entry points: [`dataflow_map`] (one map, like `build_map`) and [`MapSession`] (load
//! once, then feed batches of [`Update`]s and get the [`ScoreChange`]s back).
//!
//! What it must never do: define a score of its own, read ground truth, or do IO other
//! than timely's own sockets between processes.

pub mod assemble;
pub mod cluster;
pub mod compare;
pub mod error;
pub mod flow;
pub mod labels;
pub mod ledger;
pub mod links;
pub mod paths;
pub mod ppr;
pub mod records;
pub mod scoring;
pub mod session;
pub mod walk;

pub use assemble::AccountScore;
pub use cluster::{ClusterConfig, parse_hostfile};
pub use compare::{Comparison, compare_with_engine};
pub use error::DataflowError;
pub use session::{DataflowConfig, MapSession, ScoreChange, Update};

use guardrail_graph::features::{MapInput, TextSignals};
use guardrail_graph::map::{MapConfig, NetworkMap};

/// The network map of `input` computed by the dataflow on `cluster`: the shape and the
/// scoring of `guardrail_graph::map::build_map`, with `input.seeds` as review seeds plus
/// every account whose bio or hashtags `text` blocks. Every process of the cluster calls
/// it with the same input; process 0 gets the map, the others `None`.
pub fn dataflow_map(
    input: &MapInput,
    text: &dyn TextSignals,
    config: &MapConfig,
    cluster: &ClusterConfig,
) -> Result<Option<NetworkMap>, DataflowError> {
    let session = MapSession::start(input, text, &DataflowConfig::from(*config), cluster)?;
    let map = session.map();
    session.finish();
    map
}
