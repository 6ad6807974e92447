//! Leiden community detection (Traag, Waltman & van Eck, Scientific Reports 9, 5233,
//! 2019) on the undirected weighted view of a graph, for modularity (with a resolution
//! parameter) and for the Constant Potts Model (CPM).
//!
//! The three phases per level: fast local moving of nodes (a queue of nodes whose
//! neighbourhood changed), refinement (inside each community, singletons merge only into
//! well-connected sub-communities, so every refined community is connected), and
//! aggregation of the refined partition, with the unrefined partition as the start on
//! the aggregate. Refinement picks the best merge (the paper's θ → 0 limit) instead of a
//! random one, so the result depends only on the seed's node orders. A final pass splits
//! any community that is not connected into its components, which never lowers the
//! quality and makes the connectivity guarantee hold even when a level limit stops
//! the loop early.
//!
//! Quality, with `a_v` the node weight (degree for modularity, node count for CPM):
//! - modularity: `Q = Σ_c [e_c / m − γ (K_c / 2m)²]`, the definition of networkx and
//!   igraph (`e_c` internal edge weight, `K_c` total degree);
//! - CPM: `Q = Σ_c [e_c − γ n_c (n_c − 1) / 2]`, as in leidenalg's `CPMVertexPartition`.
//!
//! Both share one gain formula, `w(v, C) − γ a_v A_C / norm` with `norm = 2m` for
//! modularity and 1 for CPM. Never uses clocks or global randomness: same seed, same
//! communities.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use thiserror::Error;

use crate::graph::{Graph, NodeId};

/// Which quality function to optimise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Quality {
    /// Newman–Girvan modularity with a resolution parameter.
    #[default]
    Modularity,
    /// The Constant Potts Model: the resolution is the density threshold.
    Cpm,
}

/// Parameters of a Leiden run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LeidenConfig {
    /// The quality function.
    pub quality: Quality,
    /// The resolution γ (1 is classic modularity).
    pub resolution: f64,
    /// Seed of the node orders.
    pub seed: u64,
    /// How many times the whole algorithm is rerun from its own result (like leidenalg's
    /// `n_iterations`); stops early when a run improves nothing.
    pub iterations: usize,
}

impl Default for LeidenConfig {
    fn default() -> LeidenConfig {
        LeidenConfig {
            quality: Quality::Modularity,
            resolution: 1.0,
            seed: 0,
            iterations: 4,
        }
    }
}

/// Why Leiden could not run.
#[derive(Debug, Error, PartialEq)]
#[non_exhaustive]
pub enum LeidenError {
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
    /// An edge names a node at or beyond the node count, or has a bad weight.
    #[error(
        "edge {index} ({source_node}, {target_node}, {weight}) is invalid for {node_count} nodes"
    )]
    BadEdge {
        /// Position in the edge list.
        index: usize,
        /// Its first node.
        source_node: NodeId,
        /// Its second node.
        target_node: NodeId,
        /// Its weight.
        weight: f64,
        /// The node count.
        node_count: usize,
    },
}

/// A partition of the nodes into communities.
#[derive(Debug, Clone, PartialEq)]
pub struct Partition {
    /// Community of each node, numbered `0..community_count` in order of first node.
    pub membership: Vec<u32>,
    /// The number of communities.
    pub community_count: usize,
    /// The quality of this partition under the configuration that produced it.
    pub quality: f64,
}

impl Partition {
    /// The members of each community.
    pub fn communities(&self) -> Vec<Vec<NodeId>> {
        let mut communities = vec![Vec::new(); self.community_count];
        for (node, &community) in self.membership.iter().enumerate() {
            if let Some(members) = communities.get_mut(community as usize) {
                members.push(node as NodeId);
            }
        }
        communities
    }
}

/// Leiden on the undirected view of a directed graph (edge weights summed per pair).
pub fn leiden(graph: &Graph, config: &LeidenConfig) -> Result<Partition, LeidenError> {
    leiden_undirected(graph.node_count(), &graph.undirected_pairs(), config)
}

/// Leiden on an undirected weighted edge list (each pair once; self-loops allowed).
pub fn leiden_undirected(
    node_count: usize,
    edges: &[(NodeId, NodeId, f64)],
    config: &LeidenConfig,
) -> Result<Partition, LeidenError> {
    if !(config.resolution.is_finite() && config.resolution >= 0.0) {
        return Err(LeidenError::BadParameter {
            parameter: "resolution",
            value: config.resolution,
            expected: "[0, inf)",
        });
    }
    let base = LevelGraph::from_edges(node_count, edges, config.quality)?;
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut membership: Vec<u32> = (0..node_count as u32).collect();
    let mut best_quality = quality_of(&base, &membership, config);
    for _ in 0..config.iterations.max(1) {
        let candidate = one_run(&base, &membership, config, &mut rng);
        let candidate = split_disconnected(&base, &candidate);
        let candidate_quality = quality_of(&base, &candidate, config);
        if candidate_quality <= best_quality + 1e-12 {
            break;
        }
        membership = candidate;
        best_quality = candidate_quality;
    }
    let (membership, community_count) = renumber(&membership);
    Ok(Partition {
        membership,
        community_count,
        quality: best_quality,
    })
}

/// The quality of a membership on an undirected edge list.
pub fn quality(
    node_count: usize,
    edges: &[(NodeId, NodeId, f64)],
    membership: &[u32],
    config: &LeidenConfig,
) -> Result<f64, LeidenError> {
    let base = LevelGraph::from_edges(node_count, edges, config.quality)?;
    Ok(quality_of(&base, membership, config))
}

/// True when every community induces a connected subgraph (the Leiden guarantee).
pub fn communities_are_connected(
    node_count: usize,
    edges: &[(NodeId, NodeId, f64)],
    membership: &[u32],
) -> bool {
    match LevelGraph::from_edges(node_count, edges, Quality::Modularity) {
        Ok(base) if membership.len() == node_count => {
            renumber(membership).1 == renumber(&split_disconnected(&base, membership)).1
        }
        Ok(_) => false,
        Err(_) => false,
    }
}

/// An undirected weighted graph for one level: CSR with both directions stored.
#[derive(Debug, Clone)]
struct LevelGraph {
    offsets: Vec<usize>,
    neighbours: Vec<u32>,
    weights: Vec<f64>,
    /// Weight of self-loops (internal edges of aggregated nodes), counted once.
    self_loops: Vec<f64>,
    /// Degree (modularity) or member count (CPM).
    node_weight: Vec<f64>,
    /// `2m` for modularity, 1 for CPM.
    norm: f64,
}

impl LevelGraph {
    fn node_count(&self) -> usize {
        self.node_weight.len()
    }

    fn from_edges(
        node_count: usize,
        edges: &[(NodeId, NodeId, f64)],
        quality: Quality,
    ) -> Result<LevelGraph, LeidenError> {
        let mut degree_count = vec![0usize; node_count + 1];
        let mut self_loops = vec![0.0; node_count];
        for (index, &(a, b, weight)) in edges.iter().enumerate() {
            if a as usize >= node_count
                || b as usize >= node_count
                || !(weight.is_finite() && weight >= 0.0)
            {
                return Err(LeidenError::BadEdge {
                    index,
                    source_node: a,
                    target_node: b,
                    weight,
                    node_count,
                });
            }
            if a == b {
                self_loops[a as usize] += weight;
            } else {
                degree_count[a as usize + 1] += 1;
                degree_count[b as usize + 1] += 1;
            }
        }
        for node in 0..node_count {
            degree_count[node + 1] += degree_count[node];
        }
        let offsets = degree_count;
        let mut cursor = offsets.clone();
        let mut neighbours = vec![0u32; offsets[node_count]];
        let mut weights = vec![0.0; offsets[node_count]];
        for &(a, b, weight) in edges {
            if a != b {
                for (from, to) in [(a, b), (b, a)] {
                    let slot = cursor[from as usize];
                    neighbours[slot] = to;
                    weights[slot] = weight;
                    cursor[from as usize] += 1;
                }
            }
        }
        let mut graph = LevelGraph {
            offsets,
            neighbours,
            weights,
            self_loops,
            node_weight: vec![1.0; node_count],
            norm: 1.0,
        };
        if quality == Quality::Modularity {
            graph.node_weight = (0..node_count)
                .map(|node| {
                    graph.weights[graph.offsets[node]..graph.offsets[node + 1]]
                        .iter()
                        .sum::<f64>()
                        + 2.0 * graph.self_loops[node]
                })
                .collect();
            graph.norm = graph.node_weight.iter().sum::<f64>().max(f64::MIN_POSITIVE);
        }
        Ok(graph)
    }

    fn edges_of(&self, node: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        let range = self.offsets[node]..self.offsets[node + 1];
        self.neighbours[range.clone()]
            .iter()
            .map(|&n| n as usize)
            .zip(self.weights[range].iter().copied())
    }
}

fn quality_of(graph: &LevelGraph, membership: &[u32], config: &LeidenConfig) -> f64 {
    let community_count = membership
        .iter()
        .map(|&c| c as usize + 1)
        .max()
        .unwrap_or(0);
    let mut internal = vec![0.0; community_count];
    let mut total = vec![0.0; community_count];
    for node in 0..graph.node_count() {
        let community = membership[node] as usize;
        total[community] += graph.node_weight[node];
        internal[community] += graph.self_loops[node];
        for (other, weight) in graph.edges_of(node) {
            if membership[other] as usize == community && other > node {
                internal[community] += weight;
            }
        }
    }
    let gamma = config.resolution;
    match config.quality {
        Quality::Modularity => {
            let two_m = graph.norm;
            internal
                .iter()
                .zip(&total)
                .map(|(e, k)| 2.0 * e / two_m - gamma * (k / two_m).powi(2))
                .sum()
        }
        Quality::Cpm => internal
            .iter()
            .zip(&total)
            .map(|(e, n)| e - gamma * n * (n - 1.0) / 2.0)
            .sum(),
    }
}

/// Scratch space for summing edge weights to neighbouring communities.
#[derive(Debug)]
struct NeighbourWeights {
    weight: Vec<f64>,
    touched: Vec<usize>,
}

impl NeighbourWeights {
    fn new(size: usize) -> NeighbourWeights {
        NeighbourWeights {
            weight: vec![0.0; size],
            touched: Vec::new(),
        }
    }
    /// Adds a positive weight (callers skip zero-weight edges, so a zero entry means
    /// untouched).
    fn add(&mut self, community: usize, weight: f64) {
        if self.weight[community] == 0.0 {
            self.touched.push(community);
        }
        self.weight[community] += weight;
    }
    fn clear(&mut self) {
        for &community in &self.touched {
            self.weight[community] = 0.0;
        }
        self.touched.clear();
    }
}

fn one_run(
    base: &LevelGraph,
    start: &[u32],
    config: &LeidenConfig,
    rng: &mut ChaCha8Rng,
) -> Vec<u32> {
    let gamma = config.resolution;
    let mut graph = base.clone();
    let mut membership: Vec<u32> = start.to_vec();
    // The level node that each base node belongs to.
    let mut base_to_level: Vec<u32> = (0..base.node_count() as u32).collect();
    loop {
        move_nodes_fast(&graph, &mut membership, gamma, rng);
        let (renumbered, community_count) = renumber(&membership);
        membership = renumbered;
        if community_count == graph.node_count() {
            break;
        }
        let refined = refine(&graph, &membership, gamma, rng);
        let (refined, refined_count) = renumber(&refined);
        if refined_count == graph.node_count() {
            // Nothing merged: aggregating would not shrink the graph.
            break;
        }
        let mut aggregate_membership = vec![0u32; refined_count];
        for node in 0..graph.node_count() {
            aggregate_membership[refined[node] as usize] = membership[node];
        }
        graph = aggregate(&graph, &refined, refined_count);
        for level_node in base_to_level.iter_mut() {
            *level_node = refined[*level_node as usize];
        }
        membership = aggregate_membership;
    }
    base_to_level
        .iter()
        .map(|&level_node| membership[level_node as usize])
        .collect()
}

/// Fast local moving: visit nodes from a queue; re-queue neighbours of moved nodes.
fn move_nodes_fast(graph: &LevelGraph, membership: &mut [u32], gamma: f64, rng: &mut ChaCha8Rng) {
    let node_count = graph.node_count();
    let mut community_weight = vec![0.0; node_count];
    let mut community_size = vec![0usize; node_count];
    for node in 0..node_count {
        community_weight[membership[node] as usize] += graph.node_weight[node];
        community_size[membership[node] as usize] += 1;
    }
    let mut empty: Vec<usize> = (0..node_count)
        .filter(|&c| community_size[c] == 0)
        .collect();
    let mut order: Vec<usize> = (0..node_count).collect();
    order.shuffle(rng);
    let mut queue: std::collections::VecDeque<usize> = order.into();
    let mut queued = vec![true; node_count];
    let mut neighbour_weights = NeighbourWeights::new(node_count);
    while let Some(node) = queue.pop_front() {
        queued[node] = false;
        let current = membership[node] as usize;
        let node_weight = graph.node_weight[node];
        for (other, weight) in graph.edges_of(node) {
            if weight > 0.0 {
                neighbour_weights.add(membership[other] as usize, weight);
            }
        }
        community_weight[current] -= node_weight;
        community_size[current] -= 1;
        let gain = |community: usize, links: f64| {
            links - gamma * node_weight * community_weight[community] / graph.norm
        };
        let mut best = current;
        let mut best_gain = gain(current, neighbour_weights.weight[current]);
        for &community in &neighbour_weights.touched {
            let candidate = gain(community, neighbour_weights.weight[community]);
            if candidate > best_gain + 1e-12 {
                best = community;
                best_gain = candidate;
            }
        }
        // An empty community has gain 0: moving there pays when the node is a poor fit.
        // (An emptied current community already offers that.)
        if best_gain < -1e-12
            && community_size[current] > 0
            && let Some(fresh) = empty.pop()
        {
            best = fresh;
        }
        community_weight[best] += node_weight;
        community_size[best] += 1;
        if best != current {
            if community_size[current] == 0 {
                empty.push(current);
            }
            membership[node] = best as u32;
            for (other, _) in graph.edges_of(node) {
                if !queued[other] && membership[other] as usize != best {
                    queued[other] = true;
                    queue.push_back(other);
                }
            }
        }
        neighbour_weights.clear();
    }
}

/// Refinement: inside each community, merge singletons into well-connected refined
/// communities with positive gain (best merge first).
fn refine(graph: &LevelGraph, membership: &[u32], gamma: f64, rng: &mut ChaCha8Rng) -> Vec<u32> {
    let node_count = graph.node_count();
    let mut refined: Vec<u32> = (0..node_count as u32).collect();
    let mut community_total = vec![0.0; node_count];
    for node in 0..node_count {
        community_total[membership[node] as usize] += graph.node_weight[node];
    }
    // Weight from each node to the rest of its community.
    let mut inside_links = vec![0.0; node_count];
    for node in 0..node_count {
        inside_links[node] = graph
            .edges_of(node)
            .filter(|&(other, _)| membership[other] == membership[node])
            .map(|(_, weight)| weight)
            .sum();
    }
    let mut refined_weight = graph.node_weight.clone();
    let mut refined_outside = inside_links.clone();
    let mut refined_size = vec![1usize; node_count];
    let mut order: Vec<usize> = (0..node_count).collect();
    order.shuffle(rng);
    let mut neighbour_weights = NeighbourWeights::new(node_count);
    for node in order {
        if refined_size[refined[node] as usize] != 1 {
            continue;
        }
        let community = membership[node] as usize;
        let total = community_total[community];
        let node_weight = graph.node_weight[node];
        let well_connected = |links: f64, weight: f64| {
            links >= gamma * weight * (total - weight) / graph.norm - 1e-12
        };
        if !well_connected(inside_links[node], node_weight) {
            continue;
        }
        for (other, weight) in graph.edges_of(node) {
            if weight > 0.0 && membership[other] as usize == community {
                neighbour_weights.add(refined[other] as usize, weight);
            }
        }
        let own = refined[node] as usize;
        let mut best = own;
        let mut best_gain = 0.0;
        for &target in &neighbour_weights.touched {
            if target == own || !well_connected(refined_outside[target], refined_weight[target]) {
                continue;
            }
            let links = neighbour_weights.weight[target];
            let gain = links - gamma * node_weight * refined_weight[target] / graph.norm;
            if gain > best_gain + 1e-12 {
                best = target;
                best_gain = gain;
            }
        }
        if best != own {
            let links = neighbour_weights.weight[best];
            refined_weight[best] += node_weight;
            refined_outside[best] += inside_links[node] - 2.0 * links;
            refined_size[best] += 1;
            refined_size[own] = 0;
            refined[node] = best as u32;
        }
        neighbour_weights.clear();
    }
    refined
}

/// Collapses each refined community into one node.
fn aggregate(graph: &LevelGraph, refined: &[u32], refined_count: usize) -> LevelGraph {
    let node_count = graph.node_count();
    // Members grouped by refined community (counting sort).
    let mut starts = vec![0usize; refined_count + 1];
    for &r in refined {
        starts[r as usize + 1] += 1;
    }
    for r in 0..refined_count {
        starts[r + 1] += starts[r];
    }
    let mut cursor = starts.clone();
    let mut members = vec![0usize; node_count];
    for (node, &r) in refined.iter().enumerate() {
        let r = r as usize;
        members[cursor[r]] = node;
        cursor[r] += 1;
    }
    let mut offsets = Vec::with_capacity(refined_count + 1);
    offsets.push(0);
    let mut neighbours = Vec::new();
    let mut weights = Vec::new();
    let mut self_loops = vec![0.0; refined_count];
    let mut node_weight = vec![0.0; refined_count];
    let mut neighbour_weights = NeighbourWeights::new(refined_count);
    for r in 0..refined_count {
        for &node in &members[starts[r]..starts[r + 1]] {
            node_weight[r] += graph.node_weight[node];
            self_loops[r] += graph.self_loops[node];
            for (other, weight) in graph.edges_of(node) {
                let target = refined[other] as usize;
                if target == r {
                    // Seen from both ends.
                    self_loops[r] += weight / 2.0;
                } else if weight > 0.0 {
                    neighbour_weights.add(target, weight);
                }
            }
        }
        neighbour_weights.touched.sort_unstable();
        for &target in &neighbour_weights.touched {
            neighbours.push(target as u32);
            weights.push(neighbour_weights.weight[target]);
        }
        offsets.push(neighbours.len());
        neighbour_weights.clear();
    }
    LevelGraph {
        offsets,
        neighbours,
        weights,
        self_loops,
        node_weight,
        norm: graph.norm,
    }
}

/// Splits every community into its connected components (breadth-first search over
/// edges inside the community). Component ids are fresh and unique.
fn split_disconnected(graph: &LevelGraph, membership: &[u32]) -> Vec<u32> {
    let node_count = graph.node_count();
    let mut component = vec![u32::MAX; node_count];
    let mut next_id = 0u32;
    let mut stack = Vec::new();
    for start in 0..node_count {
        if component[start] != u32::MAX {
            continue;
        }
        component[start] = next_id;
        stack.push(start);
        while let Some(node) = stack.pop() {
            for (other, weight) in graph.edges_of(node) {
                if weight > 0.0
                    && component[other] == u32::MAX
                    && membership[other] == membership[node]
                {
                    component[other] = next_id;
                    stack.push(other);
                }
            }
        }
        next_id += 1;
    }
    component
}

/// Renumbers communities `0..k` in order of their first node.
fn renumber(membership: &[u32]) -> (Vec<u32>, usize) {
    let size = membership
        .iter()
        .map(|&c| c as usize + 1)
        .max()
        .unwrap_or(0);
    let mut new_id = vec![u32::MAX; size];
    let mut count = 0u32;
    let renumbered = membership
        .iter()
        .map(|&c| {
            if new_id[c as usize] == u32::MAX {
                new_id[c as usize] = count;
                count += 1;
            }
            new_id[c as usize]
        })
        .collect();
    (renumbered, count as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn clique(nodes: std::ops::Range<u32>) -> Vec<(NodeId, NodeId, f64)> {
        let mut edges = Vec::new();
        for a in nodes.clone() {
            for b in a + 1..nodes.end {
                edges.push((a, b, 1.0));
            }
        }
        edges
    }

    fn check(
        node_count: usize,
        edges: &[(NodeId, NodeId, f64)],
        config: LeidenConfig,
        expected: &[u32],
        expected_quality: f64,
    ) {
        let partition = leiden_undirected(node_count, edges, &config).expect("leiden");
        assert_eq!(partition.membership, expected, "{edges:?}");
        assert!(
            (partition.quality - expected_quality).abs() < 1e-9,
            "quality {} want {expected_quality}",
            partition.quality
        );
    }

    #[test]
    fn hand_computed_partitions() {
        // Two triangles and a bridge: m = 7, each side e = 3, K = 7.
        // Q = 2 × (3/7 − (7/14)²) = 6/7 − 1/2.
        let mut two_triangles = clique(0..3);
        two_triangles.extend(clique(3..6));
        two_triangles.push((2, 3, 1.0));
        check(
            6,
            &two_triangles,
            LeidenConfig::default(),
            &[0, 0, 0, 1, 1, 1],
            6.0 / 7.0 - 0.5,
        );
        // CPM with γ = 0.5 on the same graph: each triangle 3 − 0.5 × 3 = 1.5.
        let cpm = LeidenConfig {
            quality: Quality::Cpm,
            resolution: 0.5,
            ..LeidenConfig::default()
        };
        check(6, &two_triangles, cpm, &[0, 0, 0, 1, 1, 1], 3.0);
        // CPM with γ = 2 is denser than any clique allows: all singletons, Q = 0.
        let strict = LeidenConfig {
            quality: Quality::Cpm,
            resolution: 2.0,
            ..LeidenConfig::default()
        };
        check(6, &two_triangles, strict, &[0, 1, 2, 3, 4, 5], 0.0);
        // Isolated nodes and no edges: singletons.
        check(3, &[], LeidenConfig::default(), &[0, 1, 2], 0.0);
        // Resolution 0 merges each connected component: Q = 2 × 1/2... internal 3/3 each half.
        let mut two_edges = vec![(0, 1, 1.0), (2, 3, 1.0)];
        let zero = LeidenConfig {
            resolution: 0.0,
            ..LeidenConfig::default()
        };
        check(4, &two_edges, zero, &[0, 0, 1, 1], 1.0);
        two_edges.push((1, 2, 1.0));
        check(4, &two_edges, zero, &[0, 0, 0, 0], 1.0);
    }

    #[test]
    fn bad_parameters_and_edges_are_errors() {
        let config = LeidenConfig {
            resolution: -1.0,
            ..LeidenConfig::default()
        };
        assert!(leiden_undirected(2, &[(0, 1, 1.0)], &config).is_err());
        assert!(leiden_undirected(2, &[(0, 5, 1.0)], &LeidenConfig::default()).is_err());
        assert!(leiden_undirected(2, &[(0, 1, f64::NAN)], &LeidenConfig::default()).is_err());
    }

    fn random_edges() -> impl Strategy<Value = (usize, Vec<(NodeId, NodeId, f64)>)> {
        (2usize..60).prop_flat_map(|node_count| {
            let node = 0..node_count as NodeId;
            (
                Just(node_count),
                proptest::collection::vec((node.clone(), node, 0.5f64..3.0), 0..200),
            )
        })
    }

    proptest! {
        #[test]
        fn communities_are_connected_and_quality_is_reported_truthfully(
            (node_count, edges) in random_edges(),
            seed in 0u64..1000,
            resolution in 0.05f64..2.0,
            cpm in any::<bool>(),
        ) {
            let quality_kind = if cpm { Quality::Cpm } else { Quality::Modularity };
            let resolution = if cpm { resolution / 4.0 } else { resolution };
            let config = LeidenConfig { quality: quality_kind, resolution, seed, iterations: 3 };
            let partition = leiden_undirected(node_count, &edges, &config).expect("leiden");
            prop_assert!(communities_are_connected(node_count, &edges, &partition.membership));
            let recomputed = quality(node_count, &edges, &partition.membership, &config).expect("quality");
            prop_assert!((recomputed - partition.quality).abs() < 1e-9);
            // Never worse than leaving every node alone.
            let singletons: Vec<u32> = (0..node_count as u32).collect();
            let alone = quality(node_count, &edges, &singletons, &config).expect("quality");
            prop_assert!(partition.quality >= alone - 1e-9);
            // Same seed, same communities.
            let again = leiden_undirected(node_count, &edges, &config).expect("leiden");
            prop_assert_eq!(again, partition);
        }

        #[test]
        fn disconnected_memberships_are_detected(node_count in 3usize..20) {
            // A path 0-1-...; putting both ends in one community (without the middle)
            // is disconnected.
            let edges: Vec<_> = (0..node_count as u32 - 1).map(|a| (a, a + 1, 1.0)).collect();
            let mut membership: Vec<u32> = (0..node_count as u32).collect();
            membership[node_count - 1] = 0;
            prop_assert!(!communities_are_connected(node_count, &edges, &membership));
            let all_one = vec![0u32; node_count];
            prop_assert!(communities_are_connected(node_count, &edges, &all_one));
        }
    }
}
