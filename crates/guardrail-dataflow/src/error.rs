//! What can go wrong starting or feeding the dataflow. Never used for content: a bad
//! account or text gives a score, not an error; only inputs that cannot be represented
//! (a fractional weight, an unknown account) and the cluster itself fail.

use guardrail_graph::NodeId;
use guardrail_graph::leiden::LeidenError;
use thiserror::Error;

/// Why the dataflow map could not be built or updated.
#[derive(Debug, Error, PartialEq)]
#[non_exhaustive]
pub enum DataflowError {
    /// The attributes do not cover every node.
    #[error("attributes cover {attributes} accounts but the graph has {nodes} nodes")]
    AttributeCount {
        /// Attribute rows.
        attributes: usize,
        /// Graph nodes.
        nodes: usize,
    },
    /// No seed to start the walk from (the single-node map fails the same way).
    #[error("no seeds: the map needs at least one confirmed account")]
    NoSeeds,
    /// Differential counts edge weights in integers.
    #[error(
        "edge {source_node} -> {target_node} has weight {weight}; the dataflow needs whole positive weights (one per event)"
    )]
    FractionalWeight {
        /// Source account.
        source_node: NodeId,
        /// Target account.
        target_node: NodeId,
        /// The weight found.
        weight: f64,
    },
    /// An update names an account the session does not know.
    #[error("update {index}: account {node} is unknown (add it with Update::Account first)")]
    UnknownAccount {
        /// Position in the batch.
        index: usize,
        /// The account.
        node: NodeId,
    },
    /// The cluster description is unusable.
    #[error("cluster: {0}")]
    Cluster(String),
    /// A hostfile line is not `host:port`.
    #[error("{origin}:{line}: {problem}")]
    Hostfile {
        /// The file.
        origin: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        problem: String,
    },
    /// Timely could not start (a port in use, a peer that never connected).
    #[error("timely did not start: {0}")]
    Start(String),
    /// A worker stopped before answering (it panicked, or a peer process went away).
    #[error("a dataflow worker stopped before answering round {round}")]
    WorkerStopped {
        /// The round that was not answered.
        round: u64,
    },
    /// The single-node engine failed where it was run for comparison (`compare`).
    #[error("single-node engine: {0}")]
    Engine(String),
    /// The starting communities could not be computed.
    #[error("communities: {0}")]
    Communities(#[from] LeidenError),
}
