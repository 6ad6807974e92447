//! From the dataflow's outputs to the map `build_map` returns: suspects ranked best first
//! with their evidence, the communities where seeds concentrate, and the size estimate.
//!
//! What it is for: the driver's view, and the JSON `guardrail dataflow map` prints (the
//! shape of `guardrail graph map --json`). What it must never do: score. Scores, roles and
//! concentration come from the dataflow, which calls `guardrail_graph::map`; this only
//! sorts, renumbers communities (in order of their lowest member, as Leiden numbers them)
//! and counts.

use std::collections::HashMap;

use guardrail_graph::NodeId;
use guardrail_graph::map::{
    CONFIDENT_SCORE, ESTIMATE_SCORE, Evidence, NetworkMap, SeedCommunity, SizeEstimate, Suspect,
    seed_concentration, size_estimate_method,
};
use guardrail_types::NetworkRole;
use serde::Serialize;

use crate::error::DataflowError;
use crate::records::{Output, ScoreRecord, float, role_of_code};

/// What the decision snapshot reads about one account.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountScore {
    /// The account.
    pub node: NodeId,
    /// The map score.
    pub score: f64,
    /// Scored at least `map::CONFIDENT_SCORE`: a member of the network.
    pub member: bool,
    /// Tied to the network by its own evidence.
    pub tied: bool,
    /// Assigned role.
    pub role: NetworkRole,
    /// Community label (Leiden start, maintained by label propagation).
    pub label: u64,
}

impl AccountScore {
    /// The snapshot view of a record.
    pub fn new(node: NodeId, record: &ScoreRecord) -> AccountScore {
        let score = float(record.score_bits);
        AccountScore {
            node,
            score,
            member: score >= CONFIDENT_SCORE,
            tied: record.tied,
            role: role_of_code(record.role),
            label: record.label,
        }
    }
}

fn external(external_ids: &[String], node: NodeId) -> String {
    external_ids
        .get(node as usize)
        .cloned()
        .unwrap_or_else(|| node.to_string())
}

/// Builds the map from the current outputs, listing `budget` suspects.
pub fn assemble(
    outputs: &HashMap<Output, isize>,
    external_ids: &[String],
    budget: usize,
) -> Result<NetworkMap, DataflowError> {
    let mut seeds = Vec::new();
    let mut scored: Vec<(NodeId, &ScoreRecord)> = Vec::new();
    let mut parents: HashMap<NodeId, NodeId> = HashMap::new();
    let mut communities: Vec<(NodeId, u64, u32, u32)> = Vec::new();
    let mut accounts = 0u64;
    let mut unique_followers = 0u64;
    for output in outputs.keys() {
        match output {
            Output::Seed(node) => seeds.push(*node),
            Output::Score(node, record) => scored.push((*node, record)),
            Output::Parent(node, _, parent) => {
                parents.insert(*node, *parent);
            }
            Output::Community(label, size, seeds, lowest) => {
                communities.push((*lowest, *label, *size, *seeds));
            }
            Output::Accounts(count) => accounts = *count,
            Output::UniqueFollowersOfSellers(count) => unique_followers = *count,
            Output::Row(..) | Output::Mass(..) => {}
        }
    }
    if seeds.is_empty() {
        return Err(DataflowError::NoSeeds);
    }
    seeds.sort_unstable();
    communities.sort_unstable();
    let number: HashMap<u64, u32> = communities
        .iter()
        .enumerate()
        .map(|(index, &(_, label, _, _))| (label, index as u32))
        .collect();
    let score = |record: &ScoreRecord| float(record.score_bits);
    scored.sort_unstable_by(|a, b| score(b.1).total_cmp(&score(a.1)).then(a.0.cmp(&b.0)));
    let name = |node: NodeId| external(external_ids, node);
    let path = |node: NodeId| {
        let mut path = vec![node];
        let mut current = node;
        // A path is at most as long as there are accounts; the bound guards against a
        // parent table caught between rounds.
        while let Some(&parent) = parents.get(&current) {
            if parent == NodeId::MAX || path.len() > parents.len() {
                break;
            }
            path.push(parent);
            current = parent;
        }
        if !parents.contains_key(&node) {
            return Vec::new();
        }
        path.reverse();
        path.into_iter().map(name).collect::<Vec<String>>()
    };
    let suspects: Vec<Suspect> = scored
        .iter()
        .take(budget)
        .map(|&(node, record)| Suspect {
            node,
            account: name(node),
            role: role_of_code(record.role),
            score: score(record),
            community: number.get(&record.label).copied().unwrap_or(u32::MAX),
            tied: record.tied,
            evidence: Evidence {
                linked_seeds: record.linked_seeds.iter().map(|&s| name(s)).collect(),
                path_from_seed: path(node),
                signals: record
                    .signals
                    .iter()
                    .map(|(signal, share)| (signal.clone(), float(*share)))
                    .collect(),
            },
        })
        .collect();
    let mut seed_communities: Vec<SeedCommunity> = communities
        .iter()
        .filter(|&&(_, _, _, seeds)| seeds >= 2)
        .map(|&(_, label, size, community_seeds)| {
            let community = number.get(&label).copied().unwrap_or(u32::MAX);
            let (enrichment, _) = seed_concentration(
                community_seeds as usize,
                size as usize,
                seeds.len(),
                accounts as usize,
            );
            SeedCommunity {
                community,
                size: size as usize,
                seeds: community_seeds as usize,
                enrichment,
                suspects: suspects.iter().filter(|s| s.community == community).count(),
            }
        })
        .collect();
    seed_communities.sort_by(|a, b| {
        b.enrichment
            .total_cmp(&a.enrichment)
            .then(a.community.cmp(&b.community))
    });
    let counted: Vec<NetworkRole> = scored
        .iter()
        .filter(|(_, record)| score(record) >= ESTIMATE_SCORE)
        .map(|(_, record)| role_of_code(record.role))
        .collect();
    let count = |role: NetworkRole| counted.iter().filter(|&&r| r == role).count();
    Ok(NetworkMap {
        seeds: seeds.iter().map(|&seed| name(seed)).collect(),
        suspects,
        seed_communities,
        size: SizeEstimate {
            accounts: counted.len(),
            sellers: count(NetworkRole::Seller),
            aggregators: count(NetworkRole::Aggregator),
            buyers: count(NetworkRole::Buyer),
            unique_followers_of_sellers: unique_followers as usize,
            method: size_estimate_method(),
        },
    })
}
