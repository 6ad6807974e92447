//! Synthetic worlds for tests and benchmarks, deterministic from a seed: an LFR-style
//! graph with planted communities (Lancichinetti, Fortunato & Radicchi 2008) and, on top
//! of it, a planted exploitation network with the hard cases the map must handle.
//!
//! The world has: background accounts in LFR communities (some minors); benign tight
//! niche communities (dense follow cliques; one of them a school's parents who follow
//! many accounts featuring minors, their own children's); parent-run accounts featuring
//! minors with ordinary fans; adult-content accounts with ordinary adult followers;
//! bystanders who follow a seller once; and the network: sellers, aggregators and
//! buyers, a share of whom are camouflaged (no matching text, many ordinary follows,
//! fewer tell-tale follows and fewer reports from minors).
//!
//! Accounts carry only invented numeric ids and flags; text signals name invented
//! placeholder rules. The ground truth ([`GroundTruth`]) is kept apart from the
//! [`MapInput`]; only the evaluation reads it.
//!
//! LFR simplifications (documented because benchmark figures depend on them): degrees
//! and community sizes are drawn from truncated power laws; internal and external edges
//! are wired by a configuration model per community and across communities, and
//! self-loops and repeated pairs are dropped rather than rewired, so realised degrees
//! and mixing are slightly below the targets.

use std::collections::HashSet;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use thiserror::Error;

use guardrail_types::TextDecision;

use crate::features::{AccountAttributes, MapInput, TextSignal, TextTable};
use crate::graph::{EdgeKind, GraphBuilder, NodeId};

/// Parameters of an LFR-style graph.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LfrConfig {
    /// Number of nodes.
    pub nodes: usize,
    /// Target mean degree.
    pub average_degree: f64,
    /// Largest degree.
    pub max_degree: usize,
    /// Degree exponent τ1 (> 1).
    pub degree_exponent: f64,
    /// Community size exponent τ2 (> 1).
    pub community_exponent: f64,
    /// Smallest community.
    pub min_community: usize,
    /// Largest community.
    pub max_community: usize,
    /// Share of each node's edges leaving its community, μ.
    pub mixing: f64,
}

impl LfrConfig {
    /// The standard benchmark setting scaled to `nodes`: ⟨k⟩ = 20, k_max = 50, τ1 = 2,
    /// τ2 = 1.01 (τ2 = 1 approximated), communities of 20–100, μ = `mixing`.
    pub fn standard(nodes: usize, mixing: f64) -> LfrConfig {
        LfrConfig {
            nodes,
            average_degree: 20.0,
            max_degree: 50,
            degree_exponent: 2.0,
            community_exponent: 1.01,
            min_community: 20,
            max_community: 100,
            mixing,
        }
    }
}

/// Why a synthetic graph could not be generated.
#[derive(Debug, Error, PartialEq)]
#[non_exhaustive]
pub enum SyntheticError {
    /// A parameter is out of range.
    #[error("{parameter}: {problem}")]
    BadParameter {
        /// The parameter.
        parameter: &'static str,
        /// What is wrong.
        problem: String,
    },
}

/// An LFR graph: undirected edges (each once, `a < b`) and planted communities.
#[derive(Debug, Clone, PartialEq)]
pub struct LfrGraph {
    /// Undirected edges.
    pub edges: Vec<(NodeId, NodeId)>,
    /// Planted community of each node.
    pub communities: Vec<u32>,
}

fn power_law_sample(rng: &mut ChaCha8Rng, exponent: f64, low: usize, high: usize) -> usize {
    // Inverse transform of a continuous power law on [low, high + 1), floored.
    let (low_f, high_f) = (low as f64, high as f64 + 1.0);
    let one_minus = 1.0 - exponent;
    let u: f64 = rng.r#gen();
    let value = if one_minus.abs() < 1e-9 {
        low_f * (high_f / low_f).powf(u)
    } else {
        ((high_f.powf(one_minus) - low_f.powf(one_minus)) * u + low_f.powf(one_minus))
            .powf(1.0 / one_minus)
    };
    (value.floor() as usize).clamp(low, high)
}

fn power_law_mean(exponent: f64, low: usize, high: usize) -> f64 {
    let weights: Vec<f64> = (low..=high).map(|k| (k as f64).powf(-exponent)).collect();
    let total: f64 = weights.iter().sum();
    (low..=high)
        .zip(&weights)
        .map(|(k, w)| k as f64 * w)
        .sum::<f64>()
        / total
}

/// Generates an LFR-style graph.
pub fn lfr(config: &LfrConfig, seed: u64) -> Result<LfrGraph, SyntheticError> {
    let bad = |parameter: &'static str, problem: &str| SyntheticError::BadParameter {
        parameter,
        problem: problem.to_string(),
    };
    if config.nodes < config.min_community.max(2) {
        return Err(bad("nodes", "must be at least the smallest community"));
    }
    if config.degree_exponent <= 1.0 || config.community_exponent <= 1.0 {
        return Err(bad("exponents", "τ1 and τ2 must be greater than 1"));
    }
    if !(0.0..=1.0).contains(&config.mixing) {
        return Err(bad("mixing", "must be in [0, 1]"));
    }
    if config.min_community < 2
        || config.min_community > config.max_community
        || config.max_degree < 1
    {
        return Err(bad(
            "sizes",
            "need 2 <= min_community <= max_community and max_degree >= 1",
        ));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // The smallest degree whose power-law mean is closest to the target.
    let min_degree = (1..=config.max_degree)
        .min_by(|&a, &b| {
            let da = (power_law_mean(config.degree_exponent, a, config.max_degree)
                - config.average_degree)
                .abs();
            let db = (power_law_mean(config.degree_exponent, b, config.max_degree)
                - config.average_degree)
                .abs();
            da.total_cmp(&db)
        })
        .unwrap_or(1);
    let degrees: Vec<usize> = (0..config.nodes)
        .map(|_| {
            power_law_sample(
                &mut rng,
                config.degree_exponent,
                min_degree,
                config.max_degree,
            )
        })
        .collect();
    let mut sizes = Vec::new();
    let mut total = 0;
    while total < config.nodes {
        let size = power_law_sample(
            &mut rng,
            config.community_exponent,
            config.min_community,
            config.max_community,
        );
        let size = size.min(config.nodes - total).max(1);
        sizes.push(size);
        total += size;
    }
    // A tail smaller than the minimum joins the previous community.
    if sizes.len() > 1
        && sizes
            .last()
            .is_some_and(|&last| last < config.min_community)
    {
        let last = sizes.pop().unwrap_or(0);
        if let Some(previous) = sizes.last_mut() {
            *previous += last;
        }
    }
    // Assign nodes, largest internal degree first, to communities with room.
    let internal_degree =
        |node: usize| (((1.0 - config.mixing) * degrees[node] as f64).round() as usize).max(1);
    let mut order: Vec<usize> = (0..config.nodes).collect();
    order.shuffle(&mut rng);
    order.sort_by_key(|&node| std::cmp::Reverse(internal_degree(node)));
    let mut room = sizes.clone();
    let mut communities = vec![0u32; config.nodes];
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); sizes.len()];
    for node in order {
        let need = internal_degree(node);
        let fitting: Vec<usize> = (0..sizes.len())
            .filter(|&c| room[c] > 0 && sizes[c] > need)
            .collect();
        let chosen = match fitting.choose(&mut rng) {
            Some(&c) => c,
            None => (0..sizes.len()).max_by_key(|&c| room[c]).unwrap_or(0),
        };
        room[chosen] = room[chosen].saturating_sub(1);
        communities[node] = chosen as u32;
        members[chosen].push(node);
    }
    let mut edges: HashSet<(NodeId, NodeId)> = HashSet::new();
    let wire = |stubs: &mut Vec<usize>,
                rng: &mut ChaCha8Rng,
                inside: bool,
                edges: &mut HashSet<(NodeId, NodeId)>| {
        stubs.shuffle(rng);
        for pair in stubs.chunks_exact(2) {
            let (a, b) = (pair[0], pair[1]);
            if a == b || (!inside && communities[a] == communities[b]) {
                continue;
            }
            edges.insert((a.min(b) as NodeId, a.max(b) as NodeId));
        }
    };
    let mut external_stubs = Vec::new();
    for group in &members {
        let mut stubs = Vec::new();
        for &node in group {
            let inside = internal_degree(node).min(group.len().saturating_sub(1));
            stubs.extend(std::iter::repeat_n(node, inside));
            external_stubs.extend(std::iter::repeat_n(
                node,
                degrees[node].saturating_sub(inside),
            ));
        }
        wire(&mut stubs, &mut rng, true, &mut edges);
    }
    wire(&mut external_stubs, &mut rng, false, &mut edges);
    let mut edges: Vec<(NodeId, NodeId)> = edges.into_iter().collect();
    edges.sort_unstable();
    Ok(LfrGraph { edges, communities })
}

/// The true role of an account in a synthetic world.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TrueRole {
    /// Not part of the network.
    #[default]
    Outside,
    /// Sells exploitative material.
    Seller,
    /// Buys it.
    Buyer,
    /// Curates and points buyers to sellers.
    Aggregator,
}

/// What only the evaluation may read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroundTruth {
    /// True role per node.
    pub roles: Vec<TrueRole>,
    /// Network members that camouflage themselves.
    pub camouflaged: Vec<bool>,
    /// Members of benign tight niche communities.
    pub niche_member: Vec<bool>,
    /// Parent-run accounts featuring minors.
    pub parent_run: Vec<bool>,
}

impl GroundTruth {
    /// Number of network accounts.
    pub fn network_size(&self) -> usize {
        self.roles
            .iter()
            .filter(|&&role| role != TrueRole::Outside)
            .count()
    }
}

/// The size and shape of a synthetic world.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WorldConfig {
    /// The background population.
    pub background: LfrConfig,
    /// Share of background accounts that are minors.
    pub minor_share: f64,
    /// Benign tight niche communities (the first is a school's parents).
    pub niche_communities: usize,
    /// Members per niche community.
    pub niche_size: usize,
    /// Parent-run accounts featuring minors.
    pub parent_run_accounts: usize,
    /// Adult-content accounts.
    pub adult_content_accounts: usize,
    /// Sellers.
    pub sellers: usize,
    /// Aggregators.
    pub aggregators: usize,
    /// Buyers.
    pub buyers: usize,
    /// Share of network accounts that camouflage.
    pub camouflaged_share: f64,
    /// Background accounts that follow one seller (curiosity, advocates, mistakes).
    pub bystanders: usize,
}

impl Default for WorldConfig {
    fn default() -> WorldConfig {
        WorldConfig {
            background: LfrConfig {
                average_degree: 12.0,
                ..LfrConfig::standard(5_000, 0.3)
            },
            minor_share: 0.15,
            niche_communities: 6,
            niche_size: 40,
            parent_run_accounts: 150,
            adult_content_accounts: 80,
            sellers: 40,
            aggregators: 10,
            buyers: 300,
            camouflaged_share: 0.3,
            bystanders: 40,
        }
    }
}

/// A generated world: what the map may read, and the truth it may not.
#[derive(Debug, Clone)]
pub struct SyntheticWorld {
    /// Graph, attributes and seeds.
    pub input: MapInput,
    /// Text-guard signals per account.
    pub text: TextTable,
    /// Ground truth, for the evaluation only.
    pub truth: GroundTruth,
}

/// Generates a world. Node ids are laid out in blocks (background, niche, parent-run,
/// adult-content, sellers, aggregators, buyers) but nothing in the map depends on that.
pub fn world(config: &WorldConfig, seed: u64) -> Result<SyntheticWorld, SyntheticError> {
    let background = lfr(&config.background, seed)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x05EE_D0F3_A11D);
    let mut next = config.background.nodes;
    let mut block = |count: usize| {
        let range = next..next + count;
        next += count;
        range
    };
    let niche: Vec<std::ops::Range<usize>> = (0..config.niche_communities)
        .map(|_| block(config.niche_size))
        .collect();
    let parents = block(config.parent_run_accounts);
    let adults = block(config.adult_content_accounts);
    let sellers = block(config.sellers);
    let aggregators = block(config.aggregators);
    let buyers = block(config.buyers);
    let node_count = next;

    let mut accounts = vec![AccountAttributes::default(); node_count];
    let mut text = vec![TextSignal::default(); node_count];
    let mut truth = GroundTruth {
        roles: vec![TrueRole::Outside; node_count],
        camouflaged: vec![false; node_count],
        niche_member: vec![false; node_count],
        parent_run: vec![false; node_count],
    };
    let mut edges: Vec<(usize, usize, EdgeKind)> = Vec::new();
    let background_nodes = 0..config.background.nodes;
    for node in background_nodes.clone() {
        accounts[node].minor = rng.gen_bool(config.minor_share);
    }
    for &(a, b) in &background.edges {
        let (a, b) = (a as usize, b as usize);
        let (a, b) = if rng.gen_bool(0.5) { (a, b) } else { (b, a) };
        edges.push((a, b, EdgeKind::Follow));
        if rng.gen_bool(0.5) {
            edges.push((b, a, EdgeKind::Follow));
        }
        if rng.gen_bool(0.3) {
            edges.push((a, b, EdgeKind::Like));
        }
    }
    let pick = |rng: &mut ChaCha8Rng, range: &std::ops::Range<usize>| rng.gen_range(range.clone());
    // Parent-run accounts: feature minors, followed by ordinary fans.
    for node in parents.clone() {
        accounts[node].features_minors = true;
        truth.parent_run[node] = true;
        for _ in 0..rng.gen_range(5..30) {
            edges.push((pick(&mut rng, &background_nodes), node, EdgeKind::Follow));
        }
        for _ in 0..rng.gen_range(3..10) {
            edges.push((node, pick(&mut rng, &background_nodes), EdgeKind::Follow));
        }
    }
    // Adult-content accounts with ordinary adult followers.
    for node in adults.clone() {
        accounts[node].adult_content = true;
        for _ in 0..rng.gen_range(5..25) {
            let follower = pick(&mut rng, &background_nodes);
            if !accounts[follower].minor {
                edges.push((follower, node, EdgeKind::Follow));
            }
        }
    }
    // Tight niche communities: dense mutual follows and likes, a few outside links.
    for (index, members) in niche.iter().enumerate() {
        for a in members.clone() {
            truth.niche_member[a] = true;
            for b in members.clone() {
                if a != b && rng.gen_bool(0.6) {
                    edges.push((a, b, EdgeKind::Follow));
                    if rng.gen_bool(0.4) {
                        edges.push((a, b, EdgeKind::Like));
                    }
                }
            }
            for _ in 0..rng.gen_range(1..4) {
                edges.push((a, pick(&mut rng, &background_nodes), EdgeKind::Follow));
            }
            if index == 0 {
                // A school's parents follow their children's accounts, many of which
                // feature minors, and now and then an adult-content account.
                for _ in 0..rng.gen_range(4..10) {
                    edges.push((a, pick(&mut rng, &parents), EdgeKind::Follow));
                }
                if rng.gen_bool(0.15) {
                    edges.push((a, pick(&mut rng, &adults), EdgeKind::Follow));
                }
            }
        }
    }
    // The network.
    let camouflage = |rng: &mut ChaCha8Rng| rng.gen_bool(config.camouflaged_share);
    for node in sellers.clone() {
        truth.roles[node] = TrueRole::Seller;
        let hidden = camouflage(&mut rng);
        truth.camouflaged[node] = hidden;
        if !hidden && rng.gen_bool(0.8) {
            text[node].bio = TextDecision::Block;
            text[node].rules.push("placeholder-sale-term".to_string());
        }
        if !hidden && rng.gen_bool(0.4) {
            text[node].posts = TextDecision::Restrict;
            text[node].rules.push("placeholder-code-emoji".to_string());
        }
        for other in sellers.clone() {
            if other != node && rng.gen_bool(0.25) {
                edges.push((node, other, EdgeKind::Follow));
            }
        }
        for _ in 0..rng.gen_range(2..6) {
            edges.push((node, pick(&mut rng, &parents), EdgeKind::Follow));
        }
        let ordinary = if hidden {
            rng.gen_range(20..40)
        } else {
            rng.gen_range(3..10)
        };
        for _ in 0..ordinary {
            edges.push((node, pick(&mut rng, &background_nodes), EdgeKind::Follow));
        }
    }
    for node in aggregators.clone() {
        truth.roles[node] = TrueRole::Aggregator;
        let hidden = camouflage(&mut rng);
        truth.camouflaged[node] = hidden;
        if !hidden && rng.gen_bool(0.5) {
            text[node].posts = TextDecision::Restrict;
            text[node].rules.push("placeholder-menu-term".to_string());
        }
        for seller in sellers.clone() {
            if rng.gen_bool(0.6) {
                edges.push((node, seller, EdgeKind::Follow));
            }
        }
        for _ in 0..rng.gen_range(5..15) {
            edges.push((node, pick(&mut rng, &parents), EdgeKind::Follow));
        }
        let ordinary = if hidden {
            rng.gen_range(20..40)
        } else {
            rng.gen_range(3..10)
        };
        for _ in 0..ordinary {
            edges.push((node, pick(&mut rng, &background_nodes), EdgeKind::Follow));
        }
    }
    for node in buyers.clone() {
        truth.roles[node] = TrueRole::Buyer;
        let hidden = camouflage(&mut rng);
        truth.camouflaged[node] = hidden;
        if !hidden && rng.gen_bool(0.15) {
            text[node].posts = TextDecision::Restrict;
            text[node]
                .rules
                .push("placeholder-request-term".to_string());
        }
        let (seller_follows, minor_follows, adult_follows, ordinary) = if hidden {
            (
                rng.gen_range(1..4),
                rng.gen_range(3..8),
                rng.gen_range(0..2),
                rng.gen_range(30..60),
            )
        } else {
            (
                rng.gen_range(2..7),
                rng.gen_range(8..20),
                rng.gen_range(1..5),
                rng.gen_range(5..20),
            )
        };
        for _ in 0..seller_follows {
            let seller = pick(&mut rng, &sellers);
            edges.push((node, seller, EdgeKind::Follow));
            if rng.gen_bool(0.3) {
                edges.push((node, seller, EdgeKind::Message));
            }
        }
        for _ in 0..rng.gen_range(1..3) {
            edges.push((node, pick(&mut rng, &aggregators), EdgeKind::Follow));
        }
        for _ in 0..minor_follows {
            let followed = pick(&mut rng, &parents);
            edges.push((node, followed, EdgeKind::Follow));
            if rng.gen_bool(0.3) {
                edges.push((node, followed, EdgeKind::Like));
            }
        }
        for _ in 0..adult_follows {
            edges.push((node, pick(&mut rng, &adults), EdgeKind::Follow));
        }
        for _ in 0..ordinary {
            edges.push((node, pick(&mut rng, &background_nodes), EdgeKind::Follow));
        }
        let report_chance = if hidden { 0.15 } else { 0.5 };
        if rng.gen_bool(report_chance) {
            accounts[node].reports_from_minors = rng.gen_range(1..4);
        }
        if rng.gen_bool(report_chance) {
            accounts[node].blocks_from_minors = rng.gen_range(1..3);
        }
    }
    // Bystanders: ordinary accounts that follow one seller.
    for _ in 0..config.bystanders {
        edges.push((
            pick(&mut rng, &background_nodes),
            pick(&mut rng, &sellers),
            EdgeKind::Follow,
        ));
    }
    // Some ordinary accounts get reported by minors too (disputes, spam).
    for _ in 0..config.background.nodes / 100 {
        accounts[pick(&mut rng, &background_nodes)].reports_from_minors += 1;
    }

    let mut builder = GraphBuilder::with_numbered_nodes(node_count);
    for (source, target, kind) in edges {
        if source != target {
            builder
                .edge(source as NodeId, target as NodeId, kind, 1.0)
                .map_err(|error| SyntheticError::BadParameter {
                    parameter: "layout",
                    problem: error.to_string(),
                })?;
        }
    }
    let graph = builder.build();
    let text = TextTable { entries: text };
    let seeds = MapInput::text_confirmed_seeds(graph.node_count(), &text);
    Ok(SyntheticWorld {
        input: MapInput {
            graph,
            accounts,
            seeds,
        },
        text,
        truth,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lfr_is_deterministic_and_close_to_its_targets() {
        let config = LfrConfig::standard(2_000, 0.2);
        let graph = lfr(&config, 7).expect("lfr");
        assert_eq!(graph, lfr(&config, 7).expect("lfr"));
        assert_ne!(graph.edges, lfr(&config, 8).expect("lfr").edges);
        let mean_degree = 2.0 * graph.edges.len() as f64 / 2_000.0;
        assert!(
            (14.0..=22.0).contains(&mean_degree),
            "mean degree {mean_degree}"
        );
        let crossing = graph
            .edges
            .iter()
            .filter(|&&(a, b)| graph.communities[a as usize] != graph.communities[b as usize])
            .count();
        let mixing = crossing as f64 / graph.edges.len() as f64;
        assert!((0.1..=0.3).contains(&mixing), "mixing {mixing}");
        assert!(graph.edges.iter().all(|&(a, b)| a < b));
    }

    #[test]
    fn bad_lfr_parameters_are_errors() {
        let mut config = LfrConfig::standard(100, 0.2);
        config.degree_exponent = 1.0;
        assert!(lfr(&config, 0).is_err());
        assert!(lfr(&LfrConfig::standard(10, 0.2), 0).is_err());
        assert!(lfr(&LfrConfig::standard(100, 1.5), 0).is_err());
    }

    #[test]
    fn worlds_are_deterministic_and_keep_truth_apart() {
        let config = WorldConfig::default();
        let first = world(&config, 1).expect("world");
        let second = world(&config, 1).expect("world");
        assert_eq!(first.input.seeds, second.input.seeds);
        assert_eq!(
            first.input.graph.edge_count(),
            second.input.graph.edge_count()
        );
        assert_eq!(first.truth, second.truth);
        assert_eq!(first.truth.network_size(), 350);
        // Seeds are text-confirmed sellers only.
        assert!(!first.input.seeds.is_empty());
        assert!(
            first
                .input
                .seeds
                .iter()
                .all(|&seed| first.truth.roles[seed as usize] == TrueRole::Seller)
        );
    }
}
