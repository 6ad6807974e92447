//! Shortest paths from the seeds over the undirected view of the live links: each reached
//! account's distance and the parent it is reached through (the smallest id among equally
//! near ones), from which the map's evidence paths are read.
//!
//! What it must never do: arrange the links again inside the loop (it joins the shared
//! arrangements, entered into the loop's scope without a copy).

use differential_dataflow::operators::iterate::Iterate;
use guardrail_graph::NodeId;

use crate::flow::Col;
use crate::links::{Link, Links};

/// `(account, (distance, parent))` for every account connected to a seed; seeds have
/// distance 0 and parent `NodeId::MAX`.
pub fn shortest_paths<'s>(
    seeds: Col<'s, NodeId>,
    links: &Links<'s>,
) -> Col<'s, (NodeId, (u32, NodeId))> {
    let start = seeds.map(|seed| (seed, (0u32, NodeId::MAX)));
    let (out, into) = (links.out.clone(), links.into.clone());
    start.clone().iterate(|inner, distances| {
        let out = out.enter(inner);
        let into = into.enter(inner);
        let start = start.enter(inner);
        let step = |node: &NodeId, &(distance, _): &(u32, NodeId), &(next, _, _): &Link| {
            Some((next, (distance.saturating_add(1), *node)))
        };
        distances
            .clone()
            .join_core(out, step)
            .concat(distances.join_core(into, step))
            .concat(start)
            .reduce(|_, candidates, out| {
                if let Some((best, _)) = candidates.first() {
                    out.push((**best, 1isize));
                }
            })
    })
}
