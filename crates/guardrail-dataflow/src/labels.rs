//! Community labels in dataflow: label propagation that starts from the last Leiden
//! partition and keeps it as the graph changes.
//!
//! Leiden is global (its moves depend on the whole partition), so it runs single-node
//! (`guardrail_graph::leiden`) now and then; between runs each account keeps its label
//! unless a strict majority of its edge weight (undirected, self-loops left out, as
//! Leiden's view) goes to one other community. Accounts Leiden never saw start alone
//! (label `2^32 + id`) and join the community holding most of their weight. The rule runs
//! for a fixed number of synchronous rounds, so it ends on any graph, and its result
//! depends only on the starting labels and the current edges (incremental = from scratch).
//!
//! What it must never do: move an account to a community that does not hold a majority of
//! its links (except an account that has no community yet): a Leiden community that is
//! locally optimal stays as it is, and the map's seed concentration stays Leiden's.

use guardrail_graph::NodeId;
use serde::{Deserialize, Serialize};

use crate::flow::Col;
use crate::links::Links;

/// The label of an account Leiden has not seen.
pub fn fresh_label(node: NodeId) -> u64 {
    (1u64 << 32) | u64::from(node)
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
enum Vote {
    Neighbour(u64),
    Own(u64),
}

/// One account's next label given its own and its neighbours' (with weights).
fn next_label(votes: &[(&Vote, isize)]) -> Option<u64> {
    let own = votes.iter().find_map(|(vote, _)| match vote {
        Vote::Own(label) => Some(*label),
        Vote::Neighbour(_) => None,
    })?;
    let mut total = 0isize;
    let mut own_weight = 0isize;
    let mut best: Option<(u64, isize)> = None;
    for (vote, weight) in votes {
        if let Vote::Neighbour(label) = vote {
            total += weight;
            if *label == own {
                own_weight = *weight;
            }
            // Ascending labels: ties go to the smallest.
            if best.is_none_or(|(_, best_weight)| *weight > best_weight) {
                best = Some((*label, *weight));
            }
        }
    }
    let Some((best, best_weight)) = best else {
        return Some(own);
    };
    let unplaced = own >= fresh_label(0);
    let moves = best_weight > own_weight && (unplaced || 2 * best_weight > total);
    Some(if moves { best } else { own })
}

/// The label of every account in `nodes`, from `base` labels (the last Leiden run) and the
/// live `links` (weighted, both directions, self-loops left out) after `rounds` rounds.
pub fn propagate_labels<'s>(
    nodes: Col<'s, NodeId>,
    base: Col<'s, (NodeId, u32)>,
    links: &Links<'s>,
    rounds: usize,
) -> Col<'s, (NodeId, u64)> {
    let base = base
        .map(|(node, label)| (node, u64::from(label)))
        .semijoin(nodes.clone());
    let fresh = nodes
        .map(|node| (node, ()))
        .antijoin(base.clone().map(|(node, _)| node))
        .map(|(node, ())| (node, fresh_label(node)));
    let mut labels = base.concat(fresh);
    for _ in 0..rounds {
        let vote = |node: &NodeId, label: &u64, &(neighbour, _, weight): &(NodeId, u8, u32)| {
            (neighbour != *node).then_some((neighbour, *label, weight))
        };
        let votes = labels
            .clone()
            .join_core(links.out.clone(), vote)
            .concat(labels.clone().join_core(links.into.clone(), vote))
            .explode(|(neighbour, label, weight)| {
                Some(((neighbour, Vote::Neighbour(label)), weight as isize))
            });
        labels = votes
            .concat(labels.map(|(node, label)| (node, Vote::Own(label))))
            .reduce(|_, votes, out| {
                if let Some(label) = next_label(votes) {
                    out.push((label, 1isize));
                }
            });
    }
    labels
}
