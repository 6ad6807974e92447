//! Network mapping (design item C3): from a few confirmed accounts to a ranked,
//! explained map of an exploitation network, without flagging tight benign communities.
//!
//! The pieces, each usable on its own:
//! - [`graph`]: a compact directed graph in CSR form (u32 node ids, an external id map,
//!   typed weighted edges, forward and reverse adjacency), built from edge-list text.
//! - [`ppr`]: personalised PageRank from a seed set, by forward push (local work only,
//!   Andersen–Chung–Lang) and by power iteration (the oracle), and a SybilRank-style
//!   degree-normalised ranking by early-terminated power iteration.
//! - [`leiden`]: Leiden community detection (Traag, Waltman & van Eck 2019) for
//!   modularity and CPM, deterministic for a seed, communities always connected.
//! - [`features`]: per-account features for roles, with text-guard signals through the
//!   [`features::TextSignals`] trait.
//! - [`map`]: the ranked, explained map: suspects with role, score and evidence,
//!   communities where seeds concentrate, and a size estimate.
//! - [`synthetic`]: an LFR generator with a planted network, deterministic from a seed;
//!   [`evaluation`] scores a map against its ground truth.
//!
//! Why signals and not density: a tight benign community (an embroidery circle, a
//! school's parents) keeps random-walk mass inside itself exactly like a network does,
//! so density or PageRank mass alone would flag it. The map only ranks an account high
//! when proximity to seeds comes with risk signals or with seed concentration in its
//! community.
//!
//! This crate is pure: no IO (text is read through `impl BufRead`), no clocks, no
//! global state; randomness only from explicit seeds.

pub mod evaluation;
pub mod features;
pub mod graph;
pub mod leiden;
pub mod map;
pub mod ppr;
pub mod synthetic;

mod fasthash;

pub use graph::{EdgeKind, Graph, GraphBuilder, GraphError, NodeId};
