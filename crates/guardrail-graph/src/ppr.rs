//! Risk propagation from seeds: personalised PageRank (PPR) and SybilRank-style
//! degree-normalised ranking.
//!
//! Definition (the one `networkx.pagerank(personalization=...)` uses): a walker starts
//! at a seed chosen uniformly, at each step follows an edge with probability `damping`
//! (chosen in proportion to its weight) and jumps back to a uniform seed otherwise; a
//! node without edges in the walking direction sends the walker back to the seeds.
//! PPR(v) is the stationary probability of being at `v`.
//!
//! - [`ppr_push`]: forward push (Andersen, Chung & Lang 2006). It keeps an estimate `p`
//!   and a residual `r` with `PPR(s) = p + PPR(r)` and only touches nodes the residual
//!   reaches, so the work is local: about `1 / (epsilon (1 − damping))` pushes whatever the
//!   graph size. The L1 error is at most the final residual total, which it returns.
//! - [`ppr_power`]: dense power iteration, the oracle for tests.
//! - [`sybilrank`]: early-terminated power iteration without restarts on the undirected
//!   view, ranked by degree-normalised mass (Cao et al., NSDI 2012). Here the seeds are
//!   known-bad accounts, so the mass is distrust (anti-TrustRank in SybilRank's form).
//!
//! Never allocates per-node state in [`ppr_push`] beyond the touched nodes.

use std::collections::VecDeque;

use thiserror::Error;

use crate::fasthash::NodeMap;
use crate::graph::{Graph, NodeId};

/// Which edges a walker follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    /// Along edges: from a follower to the account it follows.
    #[default]
    Forward,
    /// Against edges: from an account to its followers (anti-TrustRank's direction).
    Reverse,
    /// Both ways, each edge counted once per direction.
    Undirected,
}

/// Parameters of a PPR computation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PprConfig {
    /// The probability of following an edge (networkx `alpha`), in `[0, 1)`.
    pub damping: f64,
    /// Which edges are walked.
    pub direction: Direction,
}

impl Default for PprConfig {
    fn default() -> PprConfig {
        PprConfig {
            damping: 0.85,
            direction: Direction::Forward,
        }
    }
}

/// Why a propagation could not run.
#[derive(Debug, Error, PartialEq)]
#[non_exhaustive]
pub enum PprError {
    /// No seeds were given.
    #[error("no seeds: propagation needs at least one seed node")]
    NoSeeds,
    /// A seed is not a node of the graph.
    #[error("seed {seed} is not a node (the graph has {node_count} nodes)")]
    SeedOutOfRange {
        /// The bad seed.
        seed: NodeId,
        /// The node count.
        node_count: usize,
    },
    /// A parameter is outside its range.
    #[error("{parameter} = {value} is outside {expected}")]
    BadParameter {
        /// The parameter name.
        parameter: &'static str,
        /// Its value.
        value: f64,
        /// The allowed range.
        expected: &'static str,
    },
}

/// Scores from a propagation: `(node, score)` for every node with a positive score,
/// sorted by node id.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Scores {
    /// Nonzero scores by node id.
    pub scores: Vec<(NodeId, f64)>,
    /// For [`ppr_push`]: the residual mass left unpushed, an upper bound on the L1 error.
    /// For the power iteration: the L1 change of the last step.
    pub error_bound: f64,
    /// Push operations or iterations performed.
    pub work: u64,
}

impl Scores {
    /// The scores as a dense vector of `node_count` entries.
    pub fn dense(&self, node_count: usize) -> Vec<f64> {
        let mut dense = vec![0.0; node_count];
        for &(node, score) in &self.scores {
            if let Some(slot) = dense.get_mut(node as usize) {
                *slot = score;
            }
        }
        dense
    }

    /// The `k` highest scores, best first (ties by node id).
    pub fn top(&self, k: usize) -> Vec<(NodeId, f64)> {
        let mut ranked = self.scores.clone();
        ranked.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked.truncate(k);
        ranked
    }

    /// The `k` highest degree-normalised scores (score / weighted degree in the walking
    /// direction, degree at least 1), best first. Normalising removes the advantage hubs
    /// get from being reachable from everywhere.
    pub fn top_degree_normalised(
        &self,
        graph: &Graph,
        direction: Direction,
        k: usize,
    ) -> Vec<(NodeId, f64)> {
        let normalised = Scores {
            scores: self
                .scores
                .iter()
                .map(|&(node, score)| (node, score / degree(graph, direction, node).max(1.0)))
                .collect(),
            ..Scores::default()
        };
        normalised.top(k)
    }
}

fn validate(graph: &Graph, seeds: &[NodeId], config: &PprConfig) -> Result<(), PprError> {
    if seeds.is_empty() {
        return Err(PprError::NoSeeds);
    }
    if let Some(&seed) = seeds
        .iter()
        .find(|&&seed| seed as usize >= graph.node_count())
    {
        return Err(PprError::SeedOutOfRange {
            seed,
            node_count: graph.node_count(),
        });
    }
    if !(0.0..1.0).contains(&config.damping) {
        return Err(PprError::BadParameter {
            parameter: "damping",
            value: config.damping,
            expected: "[0, 1)",
        });
    }
    Ok(())
}

/// The weighted degree of a node in a walking direction.
pub fn degree(graph: &Graph, direction: Direction, node: NodeId) -> f64 {
    match direction {
        Direction::Forward => graph.out_weight(node),
        Direction::Reverse => graph.in_weight(node),
        Direction::Undirected => graph.out_weight(node) + graph.in_weight(node),
    }
}

/// Calls `visit(neighbour, weight)` for each step a walker at `node` may take.
#[inline]
fn for_each_step(
    graph: &Graph,
    direction: Direction,
    node: NodeId,
    mut visit: impl FnMut(NodeId, f64),
) {
    if direction != Direction::Reverse {
        for (&next, &weight) in graph
            .out_neighbours(node)
            .iter()
            .zip(graph.out_weights(node))
        {
            visit(next, f64::from(weight));
        }
    }
    if direction != Direction::Forward {
        for (&next, &weight) in graph.in_neighbours(node).iter().zip(graph.in_weights(node)) {
            visit(next, f64::from(weight));
        }
    }
}

/// The seed set with duplicates removed, each with equal restart probability.
fn unique_seeds(seeds: &[NodeId]) -> Vec<NodeId> {
    let mut unique = seeds.to_vec();
    unique.sort_unstable();
    unique.dedup();
    unique
}

#[derive(Debug, Clone, Copy, Default)]
struct PushState {
    estimate: f64,
    residual: f64,
    queued: bool,
}

/// Personalised PageRank by forward push, stopping when every node's residual is below
/// `epsilon` times its weighted degree (1 for nodes without edges).
pub fn ppr_push(
    graph: &Graph,
    seeds: &[NodeId],
    config: &PprConfig,
    epsilon: f64,
) -> Result<Scores, PprError> {
    validate(graph, seeds, config)?;
    if !(epsilon > 0.0 && epsilon < 1.0) {
        return Err(PprError::BadParameter {
            parameter: "epsilon",
            value: epsilon,
            expected: "(0, 1)",
        });
    }
    let seeds = unique_seeds(seeds);
    let seed_share = 1.0 / seeds.len() as f64;
    let damping = config.damping;
    let direction = config.direction;
    let threshold = |node: NodeId| epsilon * degree(graph, direction, node).max(1.0);

    let mut state: NodeMap<PushState> = NodeMap::default();
    let mut queue = VecDeque::new();
    for &seed in &seeds {
        let entry = state.entry(seed).or_default();
        entry.residual = seed_share;
        if entry.residual >= threshold(seed) {
            entry.queued = true;
            queue.push_back(seed);
        }
    }
    let mut work = 0u64;
    while let Some(node) = queue.pop_front() {
        let Some(entry) = state.get_mut(&node) else {
            continue;
        };
        entry.queued = false;
        let residual = entry.residual;
        if residual < threshold(node) {
            continue;
        }
        entry.estimate += (1.0 - damping) * residual;
        entry.residual = 0.0;
        work += 1;
        let moving = damping * residual;
        let node_degree = degree(graph, direction, node);
        let mut add = |next: NodeId, amount: f64| {
            let entry = state.entry(next).or_default();
            entry.residual += amount;
            if !entry.queued && entry.residual >= threshold(next) {
                entry.queued = true;
                queue.push_back(next);
            }
        };
        if node_degree > 0.0 {
            for_each_step(graph, direction, node, |next, weight| {
                add(next, moving * weight / node_degree);
            });
        } else {
            // A dead end sends the walker back to the seeds, as networkx does.
            for &seed in &seeds {
                add(seed, moving * seed_share);
            }
        }
    }
    let error_bound = state.values().map(|entry| entry.residual).sum();
    let mut scores: Vec<(NodeId, f64)> = state
        .into_iter()
        .filter(|(_, entry)| entry.estimate > 0.0)
        .map(|(node, entry)| (node, entry.estimate))
        .collect();
    scores.sort_unstable_by_key(|&(node, _)| node);
    Ok(Scores {
        scores,
        error_bound,
        work,
    })
}

/// Personalised PageRank by power iteration until the L1 change of one step is below
/// `tolerance` (or `max_iterations`). Dense: O(edges) per iteration.
pub fn ppr_power(
    graph: &Graph,
    seeds: &[NodeId],
    config: &PprConfig,
    tolerance: f64,
    max_iterations: usize,
) -> Result<Scores, PprError> {
    validate(graph, seeds, config)?;
    let seeds = unique_seeds(seeds);
    let node_count = graph.node_count();
    let seed_share = 1.0 / seeds.len() as f64;
    let mut restart = vec![0.0; node_count];
    for &seed in &seeds {
        restart[seed as usize] = seed_share;
    }
    let degrees: Vec<f64> = (0..node_count as NodeId)
        .map(|node| degree(graph, config.direction, node))
        .collect();
    let mut current = restart.clone();
    let mut next = vec![0.0; node_count];
    let mut change = f64::INFINITY;
    let mut iterations = 0u64;
    while iterations < max_iterations as u64 && change >= tolerance {
        next.iter_mut().for_each(|value| *value = 0.0);
        let mut dangling = 0.0;
        for node in 0..node_count {
            let mass = current[node];
            if mass == 0.0 {
                continue;
            }
            if degrees[node] > 0.0 {
                let share = config.damping * mass / degrees[node];
                for_each_step(graph, config.direction, node as NodeId, |target, weight| {
                    next[target as usize] += share * weight;
                });
            } else {
                dangling += mass;
            }
        }
        let back_to_seeds = 1.0 - config.damping + config.damping * dangling;
        for (value, restart) in next.iter_mut().zip(&restart) {
            *value += back_to_seeds * restart;
        }
        change = current.iter().zip(&next).map(|(a, b)| (a - b).abs()).sum();
        std::mem::swap(&mut current, &mut next);
        iterations += 1;
    }
    Ok(Scores {
        scores: current
            .into_iter()
            .enumerate()
            .filter(|&(_, score)| score > 0.0)
            .map(|(node, score)| (node as NodeId, score))
            .collect(),
        error_bound: change,
        work: iterations,
    })
}

/// SybilRank-style ranking from seeds on the undirected view: `iterations` steps of
/// mass propagation without restarts (default `ceil(log2 n)`, the early termination that
/// keeps mass from mixing into the whole graph), then mass divided by weighted degree.
pub fn sybilrank(
    graph: &Graph,
    seeds: &[NodeId],
    iterations: Option<usize>,
) -> Result<Scores, PprError> {
    validate(graph, seeds, &PprConfig::default())?;
    let seeds = unique_seeds(seeds);
    let node_count = graph.node_count();
    let steps = iterations.unwrap_or_else(|| (node_count.max(2) as f64).log2().ceil() as usize);
    let degrees: Vec<f64> = (0..node_count as NodeId)
        .map(|node| degree(graph, Direction::Undirected, node))
        .collect();
    let mut current = vec![0.0; node_count];
    for &seed in &seeds {
        current[seed as usize] = 1.0 / seeds.len() as f64;
    }
    let mut next = vec![0.0; node_count];
    for _ in 0..steps {
        next.iter_mut().for_each(|value| *value = 0.0);
        for node in 0..node_count {
            let mass = current[node];
            if mass == 0.0 {
                continue;
            }
            if degrees[node] > 0.0 {
                let share = mass / degrees[node];
                for_each_step(
                    graph,
                    Direction::Undirected,
                    node as NodeId,
                    |target, weight| {
                        next[target as usize] += share * weight;
                    },
                );
            } else {
                // An isolated seed keeps its mass rather than losing it.
                next[node] += mass;
            }
        }
        std::mem::swap(&mut current, &mut next);
    }
    Ok(Scores {
        scores: current
            .into_iter()
            .enumerate()
            .filter(|&(_, mass)| mass > 0.0)
            .map(|(node, mass)| (node as NodeId, mass / degrees[node].max(1.0)))
            .collect(),
        error_bound: 0.0,
        work: steps as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn forward(damping: f64) -> PprConfig {
        PprConfig {
            damping,
            direction: Direction::Forward,
        }
    }

    /// Checks push and power iteration against hand-computed values.
    fn check(
        node_count: usize,
        pairs: &[(NodeId, NodeId)],
        seeds: &[NodeId],
        damping: f64,
        expected: &[f64],
    ) {
        let graph = Graph::from_pairs(node_count, pairs).expect("graph");
        let power = ppr_power(&graph, seeds, &forward(damping), 1e-13, 10_000).expect("power");
        let push = ppr_push(&graph, seeds, &forward(damping), 1e-12).expect("push");
        for (name, scores) in [("power", power), ("push", push)] {
            let dense = scores.dense(node_count);
            for (node, (&got, &want)) in dense.iter().zip(expected).enumerate() {
                assert!(
                    (got - want).abs() < 1e-9,
                    "{name} node {node}: got {got}, want {want} ({pairs:?} seeds {seeds:?})"
                );
            }
        }
    }

    #[test]
    fn hand_computed_graphs() {
        // Two nodes pointing at each other, seed 0: x0 = 0.5 + 0.5 x1, x1 = 0.5 x0.
        check(2, &[(0, 1), (1, 0)], &[0], 0.5, &[2.0 / 3.0, 1.0 / 3.0]);
        // A dead end returns to the seed: x0 = 0.5 + 0.5 x1 + ..., x1 = 0.5 x0 → same.
        check(2, &[(0, 1)], &[0], 0.5, &[2.0 / 3.0, 1.0 / 3.0]);
        // Star out of the seed: x0 = (1-d) + d (x1 + x2) back via dead ends.
        // x1 = x2 = d x0 / 2; x0 = 1 - d + d * d * x0 → x0 = 1 / (1 + d).
        check(
            3,
            &[(0, 1), (0, 2)],
            &[0],
            0.5,
            &[2.0 / 3.0, 1.0 / 6.0, 1.0 / 6.0],
        );
        // No damping: all mass stays on the seeds.
        check(3, &[(0, 1), (1, 2)], &[0, 2], 0.0, &[0.5, 0.0, 0.5]);
        // Unreachable node gets nothing; a cycle of three from one seed:
        // x0 = (1-d)/(1-d^3), x1 = d x0, x2 = d^2 x0 with d = 0.5.
        check(
            4,
            &[(0, 1), (1, 2), (2, 0)],
            &[0],
            0.5,
            &[0.5 / 0.875, 0.25 / 0.875, 0.125 / 0.875, 0.0],
        );
    }

    #[test]
    fn bad_inputs_are_errors() {
        let graph = Graph::from_pairs(2, &[(0, 1)]).expect("graph");
        assert_eq!(
            ppr_push(&graph, &[], &PprConfig::default(), 1e-4),
            Err(PprError::NoSeeds)
        );
        assert_eq!(
            ppr_push(&graph, &[5], &PprConfig::default(), 1e-4),
            Err(PprError::SeedOutOfRange {
                seed: 5,
                node_count: 2
            })
        );
        assert!(ppr_push(&graph, &[0], &forward(1.0), 1e-4).is_err());
        assert!(ppr_push(&graph, &[0], &PprConfig::default(), 0.0).is_err());
        assert!(sybilrank(&graph, &[], None).is_err());
    }

    #[test]
    fn sybilrank_spreads_distrust_to_the_seed_side() {
        // Two triangles joined by one edge; the seed side ranks above the other.
        let graph = Graph::from_pairs(6, &[(0, 1), (1, 2), (2, 0), (2, 3), (3, 4), (4, 5), (5, 3)])
            .expect("graph");
        let scores = sybilrank(&graph, &[0], None).expect("rank");
        let dense = scores.dense(6);
        assert!(dense[1] > dense[4] && dense[2] > dense[3], "{dense:?}");
        // Without restarts and with every node connected, mass is conserved.
        let mass: f64 = dense
            .iter()
            .enumerate()
            .map(|(node, score)| score * degree(&graph, Direction::Undirected, node as NodeId))
            .sum();
        assert!((mass - 1.0).abs() < 1e-12);
    }

    fn random_graph() -> impl Strategy<Value = (usize, Vec<(NodeId, NodeId)>, Vec<NodeId>)> {
        (2usize..40).prop_flat_map(|node_count| {
            let node = 0..node_count as NodeId;
            (
                Just(node_count),
                proptest::collection::vec((node.clone(), node.clone()), 0..150),
                proptest::collection::vec(node, 1..5),
            )
        })
    }

    proptest! {
        #[test]
        fn push_matches_power_iteration_within_its_error_bound(
            (node_count, pairs, seeds) in random_graph(),
            damping in 0.05f64..0.95,
            direction in prop_oneof![Just(Direction::Forward), Just(Direction::Reverse), Just(Direction::Undirected)],
        ) {
            let graph = Graph::from_pairs(node_count, &pairs).expect("graph");
            let config = PprConfig { damping, direction };
            let power = ppr_power(&graph, &seeds, &config, 1e-12, 100_000).expect("power");
            let push = ppr_push(&graph, &seeds, &config, 1e-6).expect("push");
            let exact = power.dense(node_count);
            let approx = push.dense(node_count);
            let l1: f64 = exact.iter().zip(&approx).map(|(a, b)| (a - b).abs()).sum();
            prop_assert!(l1 <= push.error_bound + 1e-9, "l1 {} bound {}", l1, push.error_bound);
            // Push underestimates: every estimate is at most the true value.
            for (a, b) in exact.iter().zip(&approx) {
                prop_assert!(*b <= *a + 1e-9);
            }
            let total: f64 = exact.iter().sum();
            prop_assert!((total - 1.0).abs() < 1e-9);
        }
    }
}
