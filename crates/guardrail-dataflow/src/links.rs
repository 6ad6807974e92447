//! The graph inside the dataflow: the live edges, arranged once by source and once by
//! target, and shared by every stage that reads links (features, seed links, the walk,
//! label propagation, links to suspects, roles, shortest paths).
//!
//! What it is for: memory. Each arrangement of the edge set costs tens of bytes per edge;
//! joining stages against two shared arrangements instead of arranging the edges again
//! per join keeps the dataflow near three edge-sized arrangements, whatever the number of
//! stages. What it must never do: let an edge's weight go below zero (removing more than
//! was inserted leaves the edge absent).

use differential_dataflow::operators::arrange::{Arranged, TraceAgent};
use differential_dataflow::trace::implementations::{ValBuilder, ValSpine};
use guardrail_graph::NodeId;

use crate::flow::Col;

/// The far end of an edge, its kind code and its weight (insertions minus removals).
pub type Link = (NodeId, u8, u32);

/// Live edges arranged by one end: `end → (other end, kind, weight)`, one record per edge
/// and kind, diff 1.
pub type Adjacency<'s> = Arranged<'s, TraceAgent<ValSpine<NodeId, Link, u64, isize>>>;

/// The live edges, by source and by target.
#[derive(Clone)]
pub struct Links<'s> {
    /// `source → (target, kind, weight)`.
    pub out: Adjacency<'s>,
    /// `target → (source, kind, weight)`.
    pub into: Adjacency<'s>,
}

impl std::fmt::Debug for Links<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Links").finish_non_exhaustive()
    }
}

/// Arranges `edges` (`(source, target, kind)`, diff = weight change) as live links: an
/// edge is present while its weight is positive, and carries that weight.
pub fn live_links<'s>(edges: Col<'s, (NodeId, NodeId, u8)>) -> Links<'s> {
    let out: Adjacency<'s> = edges
        .map(|(source, target, kind)| (source, (target, kind)))
        .arrange_by_key_named("Edges")
        .reduce_abelian::<_, ValBuilder<_, _, _, _>, ValSpine<NodeId, Link, u64, isize>, _, _>(
            "LiveLinks",
            |_source, edges, live| {
                for ((target, kind), weight) in edges {
                    if *weight > 0 {
                        live.push((
                            (*target, *kind, u32::try_from(*weight).unwrap_or(u32::MAX)),
                            1,
                        ));
                    }
                }
            },
            |buffer, source, updates| {
                buffer.clear();
                buffer.extend(
                    updates
                        .drain(..)
                        .map(|(link, time, diff)| ((*source, link), time, diff)),
                );
            },
        );
    let into = out
        .clone()
        .as_collection(|&source, &(target, kind, weight)| (target, (source, kind, weight)))
        .arrange_by_key_named("LinksByTarget");
    Links { out, into }
}

impl<'s> Links<'s> {
    /// Every live edge as `(source, target, weight)`, one record per edge and kind.
    pub fn weighted(&self) -> Col<'s, (NodeId, NodeId, u32)> {
        self.out
            .clone()
            .as_collection(|&source, &(target, _, weight)| (source, target, weight))
    }
}
