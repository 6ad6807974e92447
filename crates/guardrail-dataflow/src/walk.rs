//! One worker's share of personalised PageRank by forward push, kept up to date as edges
//! and seeds change: the state machine the timely operator in [`crate::ppr`] drives.
//!
//! The walk is `guardrail_graph::ppr::ppr_push` (undirected, weighted, restart `1 − d`
//! shared equally by the seeds, a dead end sends the walker back to the seeds, a node
//! pushes while its residual is at least `ε` times its weighted degree, at least 1),
//! distributed and made incremental:
//! - mass is counted in integer quanta (`quantum` = probability 1), so messages add up to
//!   the same sums in any order and on any number of workers;
//! - pushes are synchronous: at each step every node over its threshold pushes at once,
//!   and what it sends arrives at the next step. The result depends only on the sequence
//!   of batches, never on how nodes are spread over workers or processes;
//! - each node keeps `pushed` (every residual it ever pushed; its estimate is
//!   `(1 − d)·pushed`) and `residual`, with the forward-push invariant
//!   `pushed(t) + residual(t) = restart(t) + d·Σ_u pushed(u)·A(u,t)/D(u)` (dead ends
//!   spreading to the seeds instead). When node `u`'s links change from `D` to `D'`, its
//!   `pushed` is scaled by `D'/D` (the share it sends each old neighbour is unchanged) and
//!   the difference moves to its residual; only the changed neighbours get a correction.
//!   A change of seeds corrects the residuals of the seeds (and of dead ends' shares).
//!   A new follow therefore costs O(1) messages plus the pushes its corrections trigger,
//!   which die out below the threshold: work proportional to the change, not the graph.
//!
//! Accuracy: when no residual is over its threshold, every estimate is within
//! `ε·max(D, 1)` of the exact PPR (the push bound; the single-node map has the same), so
//! degree-normalised proximity is within `ε` of exact, whether the state was reached from
//! scratch or through any sequence of batches; the two may differ from each other by up to
//! twice that. Rounding adds at most one quantum per message.
//!
//! What it must never do: use floating point on mass (sums would depend on order), or let
//! a node's push depend on anything but its own state and the sum of what it received.

use std::collections::{BTreeSet, HashMap};

use guardrail_graph::NodeId;

/// Fixed-point denominator of the damping factor.
const DAMPING_DENOMINATOR: i128 = 1 << 20;

/// A residual change for one node: `(node, quanta)`.
pub type Message = (NodeId, i64);

/// Parameters of the walk, as integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalkParameters {
    /// `d · 2^20`, rounded.
    pub damping_numerator: i128,
    /// Quanta in probability 1.
    pub quantum: i64,
    /// `ε · quantum`, rounded up: the push threshold per unit of degree.
    pub threshold: i64,
}

impl WalkParameters {
    /// From the map's damping and push tolerance.
    pub fn new(damping: f64, epsilon: f64, quantum: i64) -> WalkParameters {
        WalkParameters {
            damping_numerator: (damping * DAMPING_DENOMINATOR as f64).round() as i128,
            quantum,
            threshold: ((epsilon * quantum as f64).ceil() as i64).max(1),
        }
    }

    /// The estimate (in quanta of probability) of a node that pushed `pushed` quanta.
    pub fn estimate(&self, pushed: i64) -> i64 {
        scale(
            pushed,
            DAMPING_DENOMINATOR - self.damping_numerator,
            DAMPING_DENOMINATOR,
        )
    }
}

/// `amount · numerator / denominator`, rounded toward zero, in 128 bits.
fn scale(amount: i64, numerator: i128, denominator: i128) -> i64 {
    if denominator == 0 {
        return 0;
    }
    let value = i128::from(amount) * numerator / denominator;
    i64::try_from(value).unwrap_or(if value < 0 { i64::MIN } else { i64::MAX })
}

/// One node's share of the walk.
#[derive(Debug, Clone, Default)]
struct Node {
    /// Undirected link weights `A(u, v)` (both directions summed, a self-loop twice),
    /// ascending by neighbour, no zeros.
    links: Vec<(NodeId, u32)>,
    /// `Σ A(u, ·)`.
    degree: u64,
    /// Every residual this node pushed, in quanta.
    pushed: i64,
    /// Mass received and not yet pushed, in quanta.
    residual: i64,
    /// Its residual or threshold changed this step.
    dirty: bool,
}

/// A change of one reached node's `(node, (estimate, degree))`, with its diff.
pub type EstimateChange = ((NodeId, (i64, u64)), isize);

/// What a worker's nodes looked like at the start of a round, for the round's output.
type Before = HashMap<NodeId, (i64, u64)>;

/// One worker's nodes (those with `node % peers == index`) and the seed list.
#[derive(Debug)]
pub struct Walk {
    parameters: WalkParameters,
    index: usize,
    peers: usize,
    nodes: Vec<Node>,
    /// Every seed, ascending (all workers hold the whole list).
    seeds: Vec<NodeId>,
    /// Local dead ends that hold pushed mass (they share it with the seeds).
    dead_ends: BTreeSet<NodeId>,
    dirty: Vec<NodeId>,
    before: Before,
}

impl Walk {
    /// An empty walk for worker `index` of `peers`.
    pub fn new(parameters: WalkParameters, index: usize, peers: usize) -> Walk {
        Walk {
            parameters,
            index,
            peers: peers.max(1),
            nodes: Vec::new(),
            seeds: Vec::new(),
            dead_ends: BTreeSet::new(),
            dirty: Vec::new(),
            before: HashMap::new(),
        }
    }

    /// Whether this worker owns `node`.
    pub fn owns(&self, node: NodeId) -> bool {
        node as usize % self.peers == self.index
    }

    fn node_mut(&mut self, node: NodeId) -> &mut Node {
        let slot = node as usize / self.peers;
        if self.nodes.len() <= slot {
            self.nodes.resize_with(slot + 1, Node::default);
        }
        let state = &mut self.nodes[slot];
        self.before
            .entry(node)
            .or_insert((state.pushed, state.degree));
        if !state.dirty {
            state.dirty = true;
            self.dirty.push(node);
        }
        state
    }

    fn restart_share(&self, seeds: usize) -> i64 {
        if seeds == 0 {
            0
        } else {
            self.parameters.quantum / seeds as i64
        }
    }

    /// What a dead end holding `pushed` sends each of `seeds` seeds.
    fn dead_end_share(&self, pushed: i64, seeds: usize) -> i64 {
        scale(
            pushed,
            self.parameters.damping_numerator,
            DAMPING_DENOMINATOR * seeds as i128,
        )
    }

    /// Applies a change of the seed set (`(seed, +1 | −1)`, consolidated): the restart
    /// shares of every seed and the dead ends' shares move to the new list.
    pub fn apply_seeds(&mut self, changes: &[(NodeId, isize)], out: &mut Vec<Message>) {
        let old: Vec<NodeId> = self.seeds.clone();
        let mut new: BTreeSet<NodeId> = old.iter().copied().collect();
        for &(seed, diff) in changes {
            if diff > 0 {
                new.insert(seed);
            } else if diff < 0 {
                new.remove(&seed);
            }
        }
        let new: Vec<NodeId> = new.into_iter().collect();
        if new == old {
            return;
        }
        let (old_share, new_share) = (self.restart_share(old.len()), self.restart_share(new.len()));
        let mut affected: BTreeSet<NodeId> = old.iter().copied().collect();
        affected.extend(new.iter().copied());
        for &seed in &affected {
            if !self.owns(seed) {
                continue;
            }
            let change = if new.binary_search(&seed).is_ok() {
                new_share
            } else {
                0
            } - if old.binary_search(&seed).is_ok() {
                old_share
            } else {
                0
            };
            if change != 0 {
                self.node_mut(seed).residual += change;
            }
        }
        let dead_ends: Vec<NodeId> = self.dead_ends.iter().copied().collect();
        for node in dead_ends {
            let pushed = self.nodes[node as usize / self.peers].pushed;
            let (was, now) = (
                self.dead_end_share(pushed, old.len()),
                self.dead_end_share(pushed, new.len()),
            );
            for &seed in &affected {
                let change = if new.binary_search(&seed).is_ok() {
                    now
                } else {
                    0
                } - if old.binary_search(&seed).is_ok() {
                    was
                } else {
                    0
                };
                if change != 0 {
                    out.push((seed, change));
                }
            }
        }
        self.seeds = new;
    }

    /// Applies one round's link changes of local nodes: `(node, neighbour, weight change)`,
    /// a self-loop's counted twice. Every node's changes are applied at once from its
    /// state before the round, so their order does not matter.
    pub fn apply_links(&mut self, mut changes: Vec<(NodeId, NodeId, i64)>, out: &mut Vec<Message>) {
        changes.sort_unstable();
        let mut start = 0;
        while start < changes.len() {
            let node = changes[start].0;
            let mut end = start;
            let mut merged: Vec<(NodeId, i64)> = Vec::new();
            while end < changes.len() && changes[end].0 == node {
                let (_, neighbour, delta) = changes[end];
                match merged.last_mut() {
                    Some((last, sum)) if *last == neighbour => *sum += delta,
                    _ => merged.push((neighbour, delta)),
                }
                end += 1;
            }
            merged.retain(|&(_, delta)| delta != 0);
            if !merged.is_empty() {
                self.relink(node, &merged, out);
            }
            start = end;
        }
    }

    /// Changes `node`'s links by `changes` (ascending neighbours) and restores the
    /// invariant around it.
    fn relink(&mut self, node: NodeId, changes: &[(NodeId, i64)], out: &mut Vec<Message>) {
        let damping = self.parameters.damping_numerator;
        let seeds = self.seeds.clone();
        let seed_share_of = |walk: &Walk, pushed: i64| walk.dead_end_share(pushed, seeds.len());
        let (old_degree, pushed) = {
            let state = self.node_mut(node);
            (state.degree, state.pushed)
        };
        // The new links, with each change's actual effect (weights stay in 0..=u32::MAX).
        let state = self.node_mut(node);
        let mut effective: Vec<(NodeId, i64)> = Vec::with_capacity(changes.len());
        for &(neighbour, delta) in changes {
            match state.links.binary_search_by_key(&neighbour, |&(n, _)| n) {
                Ok(position) => {
                    let old = i64::from(state.links[position].1);
                    let new = (old + delta).clamp(0, i64::from(u32::MAX));
                    effective.push((neighbour, new - old));
                    if new == 0 {
                        state.links.remove(position);
                    } else {
                        state.links[position].1 = new as u32;
                    }
                }
                Err(position) => {
                    let new = delta.clamp(0, i64::from(u32::MAX));
                    if new > 0 {
                        state.links.insert(position, (neighbour, new as u32));
                        effective.push((neighbour, new));
                    }
                }
            }
        }
        let change: i64 = effective.iter().map(|&(_, delta)| delta).sum();
        let new_degree = (old_degree as i64 + change).max(0) as u64;
        state.degree = new_degree;
        if pushed == 0 {
            return;
        }
        if old_degree > 0 {
            // Scale what the node pushed so each old neighbour's share stays; the changed
            // neighbours are told the difference.
            let scaled = scale(pushed, i128::from(new_degree), i128::from(old_degree));
            state.residual += pushed - scaled;
            state.pushed = scaled;
            for &(neighbour, delta) in &effective {
                let share = scale(
                    pushed,
                    damping * i128::from(delta),
                    DAMPING_DENOMINATOR * i128::from(old_degree),
                );
                if share != 0 {
                    out.push((neighbour, share));
                }
            }
            if new_degree == 0 {
                // A dead end now, holding nothing (its mass went to its residual).
                self.dead_ends.remove(&node);
            }
        } else if new_degree > 0 {
            // A dead end gets links: its share leaves the seeds for its new neighbours.
            let share = seed_share_of(self, pushed);
            for &seed in &seeds {
                if share != 0 {
                    out.push((seed, -share));
                }
            }
            for &(neighbour, delta) in &effective {
                let share = scale(
                    pushed,
                    damping * i128::from(delta),
                    DAMPING_DENOMINATOR * i128::from(new_degree),
                );
                if share != 0 {
                    out.push((neighbour, share));
                }
            }
            self.dead_ends.remove(&node);
        }
    }

    /// Adds received residuals.
    pub fn receive(&mut self, messages: &[Message]) {
        for &(node, amount) in messages {
            if amount != 0 {
                self.node_mut(node).residual += amount;
            }
        }
    }

    /// One synchronous step: every local node whose residual reached its threshold pushes
    /// it (what it sends goes to `out`, to arrive at the next step). Returns how many
    /// nodes pushed.
    pub fn push(&mut self, out: &mut Vec<Message>) -> usize {
        let mut dirty = std::mem::take(&mut self.dirty);
        dirty.sort_unstable();
        let mut pushes = 0;
        let damping = self.parameters.damping_numerator;
        let threshold = i128::from(self.parameters.threshold);
        for &node in &dirty {
            let slot = node as usize / self.peers;
            let state = &mut self.nodes[slot];
            state.dirty = false;
            let residual = state.residual;
            if i128::from(residual).abs() < threshold * i128::from(state.degree.max(1)) {
                continue;
            }
            pushes += 1;
            state.pushed += residual;
            state.residual = 0;
            let degree = state.degree;
            if degree > 0 {
                for &(neighbour, weight) in &state.links {
                    let share = scale(
                        residual,
                        damping * i128::from(weight),
                        DAMPING_DENOMINATOR * i128::from(degree),
                    );
                    if share != 0 {
                        out.push((neighbour, share));
                    }
                }
            } else {
                let pushed = state.pushed;
                let share = self.dead_end_share(residual, self.seeds.len());
                if share != 0 {
                    out.extend(self.seeds.iter().map(|&seed| (seed, share)));
                }
                if pushed != 0 {
                    self.dead_ends.insert(node);
                } else {
                    self.dead_ends.remove(&node);
                }
            }
        }
        dirty.clear();
        self.dirty = dirty;
        pushes
    }

    /// Clears the dirty list without pushing (the step cap was reached).
    pub fn hold(&mut self) {
        for node in std::mem::take(&mut self.dirty) {
            self.nodes[node as usize / self.peers].dirty = false;
        }
    }

    /// Ends a round: the changes of `(node, (estimate, degree))` for reached nodes (those
    /// that pushed a positive total) since the round began.
    pub fn finish_round(&mut self) -> Vec<EstimateChange> {
        let mut changes = Vec::new();
        let mut before: Vec<(NodeId, (i64, u64))> = self.before.drain().collect();
        before.sort_unstable();
        for (node, (old_pushed, old_degree)) in before {
            let state = &self.nodes[node as usize / self.peers];
            let (pushed, degree) = (state.pushed, state.degree);
            if (pushed, degree) == (old_pushed, old_degree) {
                continue;
            }
            if old_pushed > 0 {
                let estimate = self.parameters.estimate(old_pushed);
                changes.push(((node, (estimate, old_degree)), -1));
            }
            if pushed > 0 {
                let estimate = self.parameters.estimate(pushed);
                changes.push(((node, (estimate, degree)), 1));
            }
        }
        changes
    }
}

/// Sums messages per node (fewer, larger messages; the sums are exact).
pub fn consolidate(messages: &mut Vec<Message>) {
    messages.sort_unstable_by_key(|&(node, _)| node);
    let mut write = 0;
    for read in 0..messages.len() {
        if write > 0 && messages[write - 1].0 == messages[read].0 {
            messages[write - 1].1 += messages[read].1;
        } else {
            messages[write] = messages[read];
            write += 1;
        }
    }
    messages.truncate(write);
    messages.retain(|&(_, amount)| amount != 0);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs walks on `peers` workers to quiescence, routing messages by owner.
    fn settle(walks: &mut [Walk], mut inbox: Vec<Message>) {
        for _ in 0..10_000 {
            let mut out = Vec::new();
            for walk in walks.iter_mut() {
                let mine: Vec<Message> = inbox
                    .iter()
                    .copied()
                    .filter(|&(node, _)| walk.owns(node))
                    .collect();
                walk.receive(&mine);
            }
            let mut pushes = 0;
            for walk in walks.iter_mut() {
                pushes += walk.push(&mut out);
            }
            consolidate(&mut out);
            if pushes == 0 && out.is_empty() {
                return;
            }
            inbox = out;
        }
        panic!("the walk did not settle");
    }

    fn round(walks: &mut [Walk], seeds: &[(NodeId, isize)], links: &[(NodeId, NodeId, i64)]) {
        let mut out = Vec::new();
        for walk in walks.iter_mut() {
            walk.apply_seeds(seeds, &mut out);
        }
        for walk in walks.iter_mut() {
            let mine: Vec<_> = links
                .iter()
                .flat_map(|&(a, b, w)| {
                    if a == b {
                        vec![(a, a, 2 * w)]
                    } else {
                        vec![(a, b, w), (b, a, w)]
                    }
                })
                .filter(|&(node, _, _)| walk.owns(node))
                .collect();
            walk.apply_links(mine, &mut out);
        }
        consolidate(&mut out);
        settle(walks, out);
    }

    fn estimates(walks: &[Walk]) -> Vec<(NodeId, i64)> {
        let mut all: Vec<(NodeId, i64)> = walks
            .iter()
            .flat_map(|walk| {
                walk.nodes
                    .iter()
                    .enumerate()
                    .filter(|(_, state)| state.pushed > 0)
                    .map(move |(slot, state)| {
                        (
                            (slot * walk.peers + walk.index) as NodeId,
                            walk.parameters.estimate(state.pushed),
                        )
                    })
            })
            .collect();
        all.sort_unstable();
        all
    }

    fn walks(peers: usize, epsilon: f64) -> Vec<Walk> {
        (0..peers)
            .map(|index| Walk::new(WalkParameters::new(0.7, epsilon, 1 << 50), index, peers))
            .collect()
    }

    const PATH: [(NodeId, NodeId, i64); 5] =
        [(0, 1, 1), (1, 2, 1), (2, 3, 2), (3, 4, 1), (4, 4, 1)];

    #[test]
    fn partitioning_does_not_change_the_result() {
        let mut one = walks(1, 1e-9);
        let mut three = walks(3, 1e-9);
        round(&mut one, &[(0, 1)], &PATH);
        round(&mut three, &[(0, 1)], &PATH);
        assert_eq!(estimates(&one), estimates(&three));
        round(&mut one, &[(3, 1)], &[(1, 3, 1), (0, 1, -1)]);
        round(&mut three, &[(3, 1)], &[(1, 3, 1), (0, 1, -1)]);
        assert_eq!(estimates(&one), estimates(&three));
    }

    #[test]
    fn incremental_stays_within_the_push_bound_of_from_scratch() {
        let epsilon = 1e-6;
        let mut incremental = walks(2, epsilon);
        round(&mut incremental, &[(0, 1)], &PATH);
        round(
            &mut incremental,
            &[(2, 1)],
            &[(0, 2, 3), (1, 2, -1), (5, 6, 1)],
        );
        round(&mut incremental, &[(0, -1)], &[(6, 3, 1), (0, 1, -1)]);
        let mut scratch = walks(1, epsilon);
        round(
            &mut scratch,
            &[(2, 1)],
            &[
                (0, 2, 3),
                (2, 3, 2),
                (3, 4, 1),
                (4, 4, 1),
                (5, 6, 1),
                (6, 3, 1),
            ],
        );
        let a: HashMap<NodeId, i64> = estimates(&incremental).into_iter().collect();
        let b: HashMap<NodeId, i64> = estimates(&scratch).into_iter().collect();
        let degree = |node: NodeId| -> f64 {
            match node {
                0 => 3.0,
                2 => 5.0,
                3 => 4.0,
                4 => 3.0,
                5 => 1.0,
                6 => 2.0,
                _ => 1.0,
            }
        };
        for node in 0..7 {
            let (x, y) = (
                *a.get(&node).unwrap_or(&0) as f64 / (1u64 << 50) as f64,
                *b.get(&node).unwrap_or(&0) as f64 / (1u64 << 50) as f64,
            );
            assert!(
                (x - y).abs() <= 2.0 * epsilon * degree(node) + 1e-12,
                "node {node}: {x} vs {y}"
            );
        }
        // Node 1 lost its only link and is no seed: nothing reaches it.
        assert!(!a.contains_key(&1) || a[&1] as f64 / ((1u64 << 50) as f64) < 2.0 * epsilon);
    }

    #[test]
    fn a_dead_end_seed_sends_the_walker_back() {
        let mut walk = walks(1, 1e-9);
        round(&mut walk, &[(0, 1), (1, 1)], &[(1, 2, 1)]);
        let estimates: HashMap<NodeId, i64> = estimates(&walk).into_iter().collect();
        let total: i64 = estimates.values().sum();
        // All the mass stays among the three nodes: the estimates sum to 1.
        assert!(
            ((total as f64 / (1u64 << 50) as f64) - 1.0).abs() < 1e-6,
            "{total}"
        );
        assert!(estimates[&0] > 0 && estimates[&2] > 0);
    }
}
