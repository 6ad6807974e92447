//! The network map: from seed accounts to a ranked, explained list of suspected network
//! accounts, the communities where seeds concentrate, and a size estimate.
//!
//! How an account is scored (every term is recorded as evidence):
//! 1. Proximity: personalised PageRank from the seeds over the undirected graph, divided
//!    by degree (SybilRank's normalisation, so hubs are not suspects for being hubs),
//!    turned into a percentile among the accounts the walk reached.
//! 2. Seed concentration: Leiden communities; a community holding a large share of the
//!    seeds at many times the base rate lends weight to its members.
//! 3. Signals: text-guard verdicts on bio and posts; direct links with seeds; following
//!    many accounts that feature minors together with adult content; reports and blocks
//!    from minors.
//! 4. A second pass adds links to the accounts the first pass ranked highest, which is
//!    what finds camouflaged members: their text is clean and most of their follows are
//!    ordinary, but the accounts they link to are not.
//!
//! What the map must never do: flag a community for being tight. Density and PageRank
//! mass alone never reach the review threshold; proximity is capped below it, and the
//! rest needs signals or seed concentration. It never reads ground truth.

use std::collections::VecDeque;

use serde::Serialize;
use thiserror::Error;

use guardrail_types::{NetworkRole, TextDecision};

use crate::features::{AccountFeatures, MapInput, TextSignals, account_features};
use crate::graph::{EdgeKind, NodeId};
use crate::leiden::{LeidenConfig, LeidenError, leiden};
use crate::ppr::{Direction, PprConfig, PprError, ppr_push};

/// Parameters of the map.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MapConfig {
    /// PPR damping (probability of following an edge).
    pub damping: f64,
    /// PPR push tolerance.
    pub epsilon: f64,
    /// Community detection.
    pub leiden: LeidenConfig,
    /// How many suspects to list (the review budget).
    pub budget: usize,
}

impl Default for MapConfig {
    fn default() -> MapConfig {
        MapConfig {
            damping: 0.7,
            epsilon: 1e-7,
            leiden: LeidenConfig::default(),
            budget: 500,
        }
    }
}

/// Why a map could not be built.
#[derive(Debug, Error, PartialEq)]
#[non_exhaustive]
pub enum MapError {
    /// The attributes do not cover every node.
    #[error("attributes cover {attributes} accounts but the graph has {nodes} nodes")]
    AttributeCount {
        /// Attribute rows.
        attributes: usize,
        /// Graph nodes.
        nodes: usize,
    },
    /// Propagation failed (no seeds, bad seed).
    #[error("propagation: {0}")]
    Propagation(#[from] PprError),
    /// Community detection failed.
    #[error("communities: {0}")]
    Communities(#[from] LeidenError),
}

/// Why an account was ranked where it is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    /// Seeds the account is directly linked with (external ids).
    pub linked_seeds: Vec<String>,
    /// A shortest path from the nearest seed to the account (external ids).
    pub path_from_seed: Vec<String>,
    /// Each signal that contributed, with its share of the score.
    pub signals: Vec<(String, f64)>,
}

/// One suspected account.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suspect {
    /// Node id.
    pub node: NodeId,
    /// External account id.
    pub account: String,
    /// Assigned role.
    pub role: NetworkRole,
    /// Total score (the sum of the evidence shares).
    pub score: f64,
    /// Leiden community.
    pub community: u32,
    /// Whether the account is tied to the network by its own evidence (a seed, a text
    /// match, a link with a seed or with confident suspects). Untied accounts are listed
    /// for other reasons (behaviour, community) and are not network suspects.
    pub tied: bool,
    /// What ranked it.
    pub evidence: Evidence,
}

/// A community where seeds concentrate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeedCommunity {
    /// Community id.
    pub community: u32,
    /// Members.
    pub size: usize,
    /// Seeds among them.
    pub seeds: usize,
    /// Seed share in the community over the seed share in the graph.
    pub enrichment: f64,
    /// Listed suspects in it.
    pub suspects: usize,
}

/// An estimate of the network's size.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SizeEstimate {
    /// Suspects scored above the confidence threshold.
    pub accounts: usize,
    /// Of those, sellers.
    pub sellers: usize,
    /// Of those, aggregators.
    pub aggregators: usize,
    /// Of those, buyers.
    pub buyers: usize,
    /// Distinct accounts following at least one seller counted above.
    pub unique_followers_of_sellers: usize,
    /// How the figures were obtained.
    pub method: String,
}

/// The map.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NetworkMap {
    /// Seeds used (external ids).
    pub seeds: Vec<String>,
    /// Suspects, best first, at most the budget.
    pub suspects: Vec<Suspect>,
    /// Communities with at least two seeds, most enriched first.
    pub seed_communities: Vec<SeedCommunity>,
    /// Size estimate.
    pub size: SizeEstimate,
}

/// Score above which a suspect counts in the size estimate; proximity alone (at most
/// [`PROXIMITY_WEIGHT`]) stays below it by construction.
pub const CONFIDENT_SCORE: f64 = 3.0;
/// Score above which a suspect counts in the size estimate: at least two independent
/// lines of evidence (a seed link or text match *and* links to confident suspects, say),
/// so the estimate counts members, not everyone worth a look.
pub const ESTIMATE_SCORE: f64 = 5.0;
/// The largest share proximity can contribute.
pub const PROXIMITY_WEIGHT: f64 = 1.5;
/// The share of having searched for blocked terms: a consumer's habit, but also a
/// researcher's and an advocate's, so it never reaches the threshold alone.
pub const SEARCH_SIGNAL_WEIGHT: f64 = 1.0;

/// Builds the map.
pub fn build_map(
    input: &MapInput,
    text: &dyn TextSignals,
    config: &MapConfig,
) -> Result<NetworkMap, MapError> {
    let graph = &input.graph;
    let node_count = graph.node_count();
    if input.accounts.len() != node_count {
        return Err(MapError::AttributeCount {
            attributes: input.accounts.len(),
            nodes: node_count,
        });
    }
    let ppr_config = PprConfig {
        damping: config.damping,
        direction: Direction::Undirected,
    };
    let proximity = ppr_push(graph, &input.seeds, &ppr_config, config.epsilon)?;
    let partition = leiden(graph, &config.leiden)?;
    let mut seed_flags = vec![false; node_count];
    for &seed in &input.seeds {
        seed_flags[seed as usize] = true;
    }

    // Proximity percentile among reached accounts, degree-normalised.
    let mut proximity_rank = vec![0.0; node_count];
    {
        let mut reached: Vec<(NodeId, f64)> = proximity
            .scores
            .iter()
            .map(|&(node, score)| {
                (
                    node,
                    degree_normalised(
                        score,
                        crate::ppr::degree(graph, Direction::Undirected, node),
                    ),
                )
            })
            .collect();
        reached.sort_unstable_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        for (index, &(node, _)) in reached.iter().enumerate() {
            proximity_rank[node as usize] = proximity_percentile(index, reached.len());
        }
    }

    // Seed concentration per community.
    let communities = partition.communities();
    let community_strength: Vec<(usize, f64, f64)> = communities
        .iter()
        .map(|members| {
            let seeds = members.iter().filter(|&&m| seed_flags[m as usize]).count();
            let (enrichment, concentration) =
                seed_concentration(seeds, members.len(), input.seeds.len(), node_count);
            (seeds, enrichment, concentration)
        })
        .collect();
    let concentration = |community: u32| -> f64 {
        community_strength
            .get(community as usize)
            .map_or(0.0, |&(_, _, concentration)| concentration)
    };

    let mut features: Vec<AccountFeatures> = (0..node_count as NodeId)
        .map(|node| account_features(input, text, &seed_flags, node))
        .collect();
    // Seeds following a minor, or an account that features minors, mark it as a target,
    // not a member: neither those links nor the proximity they give are evidence.
    for (node, attributes) in input.accounts.iter().enumerate() {
        if sought_by_network(attributes) {
            features[node].seeds_reaching.clear();
            proximity_rank[node] = 0.0;
        }
    }

    // First pass.
    let mut scored: Vec<(f64, Vec<(String, f64)>)> = (0..node_count)
        .map(|node| {
            first_pass(
                &features[node],
                seed_flags[node],
                proximity_rank[node],
                concentration(partition.membership[node]),
            )
        })
        .collect();
    // Second pass: links to the accounts the first pass ranked confidently. Following,
    // messaging or engaging with suspects counts; being followed by them counts only for
    // accounts the network does not seek out (minors and accounts featuring minors are
    // its targets, adult-content accounts are followed by everyone).
    //
    // Only accounts tied to the network by their own evidence (a seed, a text-guard
    // match, reaching out to a seed; being followed by one is not the account's choice)
    // are confident enough to lend weight: otherwise a tight community whose members
    // share behavioural signals would lift itself by its own links.
    let mut tied: Vec<bool> = (0..node_count)
        .map(|node| tied_by_own_evidence(&features[node], seed_flags[node]))
        .collect();
    let confident: Vec<bool> = scored
        .iter()
        .zip(&tied)
        .map(|((score, _), &tied)| tied && *score >= CONFIDENT_SCORE)
        .collect();
    for (node, (score, signals)) in scored.iter_mut().enumerate() {
        if *score <= 0.0 {
            continue;
        }
        let linked_out = graph
            .out_edges(node as NodeId)
            .filter(|edge| {
                edge.kind != EdgeKind::View
                    && confident[edge.node as usize]
                    && edge.node as usize != node
            })
            .count();
        let linked_in = if sought_by_network(&input.accounts[node]) {
            0
        } else {
            graph
                .in_edges(node as NodeId)
                .filter(|edge| {
                    edge.kind != EdgeKind::View
                        && confident[edge.node as usize]
                        && edge.node as usize != node
                })
                .count()
        };
        add_suspect_links(score, signals, &mut tied[node], linked_out, linked_in);
    }
    for (node, (score, signals)) in scored.iter_mut().enumerate() {
        halve_untied(score, signals, tied[node]);
    }

    let paths = nearest_seed_paths(input);
    let mut ranked: Vec<usize> = (0..node_count)
        .filter(|&node| scored[node].0 > 0.0)
        .collect();
    ranked.sort_unstable_by(|&a, &b| scored[b].0.total_cmp(&scored[a].0).then(a.cmp(&b)));
    let listed: Vec<usize> = ranked.iter().copied().take(config.budget).collect();
    let mut suspect_flags = vec![false; node_count];
    for &node in &ranked {
        if scored[node].0 >= CONFIDENT_SCORE {
            suspect_flags[node] = true;
        }
    }
    // Suspects whose own text advertises (a menu of codes in the bio, blocked hashtags):
    // the sellers that every other role is read against.
    let advertisers: Vec<bool> = (0..node_count)
        .map(|node| suspect_flags[node] && advertises(&features[node]))
        .collect();
    let role_context = RoleContext {
        input,
        suspects: &suspect_flags,
        advertisers: &advertisers,
        advertiser_count: advertisers.iter().filter(|&&a| a).count(),
    };
    let roles: Vec<Option<NetworkRole>> = (0..node_count)
        .map(|node| {
            (scored[node].0 > 0.0)
                .then(|| role_context.assign(&features[node], node, scored[node].0))
        })
        .collect();
    let external = |node: NodeId| graph.external_id(node).to_string();
    let suspects: Vec<Suspect> = listed
        .iter()
        .map(|&node| {
            let features = &features[node];
            let mut linked_seeds: Vec<NodeId> = features
                .seeds_reached
                .iter()
                .chain(&features.seeds_reaching)
                .copied()
                .collect();
            linked_seeds.sort_unstable();
            linked_seeds.dedup();
            Suspect {
                node: node as NodeId,
                account: external(node as NodeId),
                role: roles[node].unwrap_or(NetworkRole::Bystander),
                score: scored[node].0,
                community: partition.membership[node],
                tied: tied[node],
                evidence: Evidence {
                    linked_seeds: linked_seeds.into_iter().map(external).collect(),
                    path_from_seed: paths[node].iter().map(|&step| external(step)).collect(),
                    signals: scored[node].1.clone(),
                },
            }
        })
        .collect();

    let mut listed_per_community = vec![0usize; communities.len()];
    for suspect in &suspects {
        if let Some(count) = listed_per_community.get_mut(suspect.community as usize) {
            *count += 1;
        }
    }
    let mut seed_communities: Vec<SeedCommunity> = community_strength
        .iter()
        .enumerate()
        .filter(|(_, (seeds, _, _))| *seeds >= 2)
        .map(|(community, &(seeds, enrichment, _))| SeedCommunity {
            community: community as u32,
            size: communities[community].len(),
            seeds,
            enrichment,
            suspects: listed_per_community[community],
        })
        .collect();
    seed_communities.sort_by(|a, b| {
        b.enrichment
            .total_cmp(&a.enrichment)
            .then(a.community.cmp(&b.community))
    });

    let estimate_flags: Vec<bool> = (0..node_count)
        .map(|node| scored[node].0 >= ESTIMATE_SCORE)
        .collect();
    let size = estimate_size(input, &roles, &estimate_flags);
    Ok(NetworkMap {
        seeds: input.seeds.iter().map(|&seed| external(seed)).collect(),
        suspects,
        seed_communities,
        size,
    })
}

/// Accounts the network seeks out rather than joins: minors, accounts whose content
/// features minors, and adult-content accounts (followed by everyone). Links from
/// suspects to them, and the walk's proximity that those links create, are not evidence
/// against them.
pub fn sought_by_network(attributes: &crate::features::AccountAttributes) -> bool {
    attributes.minor || attributes.features_minors || attributes.adult_content
}

/// The first-pass score of one account and the evidence behind it: seed, text-guard
/// verdicts, links with seeds, following minors with adult content, searches, reports and
/// blocks from minors, seed concentration in its community (`concentration`, from
/// [`seed_concentration`]), and proximity (`proximity_rank`, the account's percentile
/// among the accounts the walk reached, 0 when not reached), which only counts on top of
/// another signal. The score is the sum of the shares; no signal, no score.
pub fn first_pass(
    features: &AccountFeatures,
    seed: bool,
    proximity_rank: f64,
    concentration: f64,
) -> (f64, Vec<(String, f64)>) {
    let mut signals: Vec<(String, f64)> = Vec::new();
    if seed {
        signals.push(("confirmed seed".to_string(), 5.0));
    }
    let text_share = match features.text.strongest() {
        TextDecision::Block if !seed => 3.0,
        TextDecision::Restrict => 1.5,
        _ => 0.0,
    };
    if text_share > 0.0 {
        let rules = features.text.rules.join(", ");
        signals.push((
            format!(
                "text guard {:?} on bio/posts ({rules})",
                features.text.strongest()
            )
            .to_lowercase(),
            text_share,
        ));
    }
    // Reaching out to a seed (following, messaging) is a choice of the account; being
    // followed by a seed is not, so it weighs half as much.
    let reached = features.seeds_reached.len().min(3) as f64;
    let reaching = features.seeds_reaching.len().min(3) as f64;
    if reached + reaching > 0.0 {
        signals.push((
            format!(
                "links to {} seeds and from {} seeds",
                features.seeds_reached.len(),
                features.seeds_reaching.len()
            ),
            0.8 * reached + 0.4 * reaching,
        ));
    }
    if features.follows_minors_with_adult_content() {
        signals.push((
            format!(
                "follows {} accounts featuring minors ({:.0}% of follows) and {} adult-content accounts",
                features.minor_featuring_follows,
                features.minor_featuring_share * 100.0,
                features.adult_content_follows
            ),
            1.5,
        ));
    } else if features.minor_featuring_follows >= 3 && features.minor_featuring_share >= 0.15 {
        signals.push((
            format!(
                "follows {} accounts featuring minors ({:.0}% of follows)",
                features.minor_featuring_follows,
                features.minor_featuring_share * 100.0
            ),
            0.5,
        ));
    }
    if features.text.searches == TextDecision::Block {
        signals.push((
            "searched for blocked terms".to_string(),
            SEARCH_SIGNAL_WEIGHT,
        ));
    }
    if features.reports_and_blocks_from_minors > 0 {
        let share = if features.reports_and_blocks_from_minors >= 2 {
            1.5
        } else {
            0.75
        };
        signals.push((
            format!(
                "reported or blocked by minors {} times",
                features.reports_and_blocks_from_minors
            ),
            share,
        ));
    }
    if concentration > 0.0 {
        signals.push((
            "in a community where seeds concentrate".to_string(),
            1.5 * concentration,
        ));
    }
    let has_signal = !signals.is_empty();
    // Proximity only counts on top of a signal: closeness alone flags nobody.
    if has_signal && proximity_rank > 0.0 {
        signals.push((
            format!("proximity to seeds (percentile {:.2})", proximity_rank),
            PROXIMITY_WEIGHT * proximity_rank,
        ));
    }
    let score = signals.iter().map(|(_, share)| share).sum();
    (score, signals)
}

/// Sellers advertise: a restricted bio (a menu of codes) or blocked hashtags.
pub fn advertises(features: &AccountFeatures) -> bool {
    features.text.bio >= TextDecision::Restrict || features.text.posts == TextDecision::Block
}

/// What role assignment reads besides the account's own features.
struct RoleContext<'a> {
    input: &'a MapInput,
    suspects: &'a [bool],
    advertisers: &'a [bool],
    advertiser_count: usize,
}

/// Share of all advertising sellers an aggregator follows at least.
const AGGREGATOR_SELLER_SHARE: f64 = 0.1;

impl RoleContext<'_> {
    /// The role of an account ([`role_of`] over its links in the graph).
    fn assign(&self, features: &AccountFeatures, node: usize, score: f64) -> NetworkRole {
        let graph = &self.input.graph;
        let follows = |edge: &crate::graph::Edge| edge.kind == EdgeKind::Follow;
        let links = RoleLinks {
            followed_by_sellers: graph
                .in_edges(node as NodeId)
                .filter(|edge| follows(edge) && self.advertisers[edge.node as usize])
                .count(),
            followed_by_suspects: graph
                .in_edges(node as NodeId)
                .filter(|edge| follows(edge) && self.suspects[edge.node as usize])
                .count(),
            follows_sellers: graph
                .out_edges(node as NodeId)
                .filter(|edge| follows(edge) && self.advertisers[edge.node as usize])
                .count(),
        };
        role_of(advertises(features), score, &links, self.advertiser_count)
    }
}

/// The follow links role assignment reads around one account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RoleLinks {
    /// Distinct advertising sellers (confident suspects whose text advertises) following it.
    pub followed_by_sellers: usize,
    /// Confident suspects following it.
    pub followed_by_suspects: usize,
    /// Advertising sellers it follows.
    pub follows_sellers: usize,
}

/// The role of an account with map score `score`, from whether its own text advertises
/// ([`advertises`]), its follow links
/// with sellers and suspects, and the number of advertising sellers in the whole map:
/// - below [`CONFIDENT_SCORE`]: bystander;
/// - seller: advertises, or (camouflaged) is followed by advertising sellers of its own
///   ring and by many suspects;
/// - aggregator: follows a large share of all advertising sellers (it curates them)
///   and is followed by sellers (they point buyers to it);
/// - buyer: the rest.
pub fn role_of(
    advertises: bool,
    score: f64,
    links: &RoleLinks,
    advertiser_count: usize,
) -> NetworkRole {
    if score < CONFIDENT_SCORE {
        return NetworkRole::Bystander;
    }
    if advertises {
        return NetworkRole::Seller;
    }
    if links.followed_by_sellers >= 3
        && links.follows_sellers >= 10
        && links.follows_sellers as f64 >= AGGREGATOR_SELLER_SHARE * advertiser_count as f64
    {
        NetworkRole::Aggregator
    } else if links.followed_by_sellers >= 3 && links.followed_by_suspects >= 5 {
        NetworkRole::Seller
    } else {
        NetworkRole::Buyer
    }
}

/// Seed concentration in a community of `size` members holding `seeds` of the map's
/// `seed_total` seeds, among `node_count` accounts: `(enrichment, concentration)`, where
/// enrichment is the community's seed share over the graph's, and concentration (the
/// weight [`first_pass`] gives membership) is 0 below two seeds or five times the base
/// rate, else the share of all seeds held, scaled so holding a fifth of them counts fully.
pub fn seed_concentration(
    seeds: usize,
    size: usize,
    seed_total: usize,
    node_count: usize,
) -> (f64, f64) {
    let seed_total = seed_total.max(1) as f64;
    let base_rate = seed_total / node_count.max(1) as f64;
    let enrichment = if size == 0 {
        0.0
    } else {
        seeds as f64 / size as f64 / base_rate
    };
    if seeds < 2 || enrichment < 5.0 {
        return (enrichment, 0.0);
    }
    (enrichment, (seeds as f64 / seed_total * 5.0).min(1.0))
}

/// Whether an account is tied to the network by its own evidence: a seed, a text-guard
/// match, or reaching out to a seed (being followed by one is not the account's choice).
/// Only tied accounts are confident enough to lend weight in the second pass.
pub fn tied_by_own_evidence(features: &AccountFeatures, seed: bool) -> bool {
    seed || features.text.strongest() > TextDecision::Allow || !features.seeds_reached.is_empty()
}

/// The second pass for an account with a positive first-pass score: links to
/// (`linked_out`: follows, likes, comments, messages) and from (`linked_in`) confident
/// suspects, counted per edge, add weight when there are at least two. Following suspects
/// is a choice; being followed by them is weaker evidence, and only reaching out ties the
/// account (camouflage follows land on ordinary accounts too).
pub fn add_suspect_links(
    score: &mut f64,
    signals: &mut Vec<(String, f64)>,
    tied: &mut bool,
    linked_out: usize,
    linked_in: usize,
) {
    if *score <= 0.0 || linked_out + linked_in < 2 {
        return;
    }
    let share = (0.8 * linked_out as f64).min(3.2) + (0.6 * linked_in as f64).min(2.4);
    let share = share.min(3.2);
    *score += share;
    signals.push((
        format!("links to {linked_out} and from {linked_in} confident suspects"),
        share,
    ));
    if linked_out > 0 {
        *tied = true;
    }
}

/// Behavioural signals without any tie to the network make an account worth a look for
/// other reasons, not a network suspect: half weight, and said so.
pub fn halve_untied(score: &mut f64, signals: &mut Vec<(String, f64)>, tied: bool) {
    if *score > 0.0 && !tied {
        let penalty = -*score / 2.0;
        *score += penalty;
        signals.push((
            "no tie to seeds or suspects: half weight".to_string(),
            penalty,
        ));
    }
}

/// The proximity percentile of the account at 0-based `position` among `reached`
/// accounts sorted by degree-normalised proximity, lowest first (ties by node id).
pub fn proximity_percentile(position: usize, reached: usize) -> f64 {
    (position + 1) as f64 / reached.max(1) as f64
}

/// How [`SizeEstimate`] figures are obtained (its `method`).
pub fn size_estimate_method() -> String {
    format!(
        "accounts scoring at least {ESTIMATE_SCORE} (two independent lines of evidence), split by assigned role; \
         followers counted exactly as the distinct accounts with a follow edge to a suspected seller"
    )
}

/// The degree-normalised proximity of an account (SybilRank's normalisation, so hubs
/// are not suspects for being hubs): PPR score over weighted undirected degree, at least 1.
pub fn degree_normalised(score: f64, degree: f64) -> f64 {
    score / degree.max(1.0)
}

fn estimate_size(
    input: &MapInput,
    roles: &[Option<NetworkRole>],
    suspects: &[bool],
) -> SizeEstimate {
    let count = |role: NetworkRole| {
        roles
            .iter()
            .zip(suspects)
            .filter(|(r, s)| **s && **r == Some(role))
            .count()
    };
    let mut follower_flags = vec![false; input.graph.node_count()];
    for (node, role) in roles.iter().enumerate() {
        if suspects[node] && *role == Some(NetworkRole::Seller) {
            for edge in input.graph.in_edges(node as NodeId) {
                if edge.kind == EdgeKind::Follow {
                    follower_flags[edge.node as usize] = true;
                }
            }
        }
    }
    SizeEstimate {
        accounts: suspects.iter().filter(|&&s| s).count(),
        sellers: count(NetworkRole::Seller),
        aggregators: count(NetworkRole::Aggregator),
        buyers: count(NetworkRole::Buyer),
        unique_followers_of_sellers: follower_flags.iter().filter(|&&f| f).count(),
        method: size_estimate_method(),
    }
}

/// For every node, a shortest undirected path from the nearest seed (empty when no seed
/// reaches it); one multi-source breadth-first search.
fn nearest_seed_paths(input: &MapInput) -> Vec<Vec<NodeId>> {
    let graph = &input.graph;
    let node_count = graph.node_count();
    let mut parent = vec![u32::MAX; node_count];
    let mut reached = vec![false; node_count];
    let mut queue = VecDeque::new();
    for &seed in &input.seeds {
        if !reached[seed as usize] {
            reached[seed as usize] = true;
            queue.push_back(seed);
        }
    }
    while let Some(node) = queue.pop_front() {
        for &next in graph
            .out_neighbours(node)
            .iter()
            .chain(graph.in_neighbours(node))
        {
            if !reached[next as usize] {
                reached[next as usize] = true;
                parent[next as usize] = node;
                queue.push_back(next);
            }
        }
    }
    (0..node_count)
        .map(|node| {
            if !reached[node] {
                return Vec::new();
            }
            let mut path = vec![node as NodeId];
            let mut current = node;
            while parent[current] != u32::MAX {
                current = parent[current] as usize;
                path.push(current as NodeId);
            }
            path.reverse();
            path
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic::{LfrConfig, TrueRole, WorldConfig, world};
    use proptest::prelude::*;

    fn small_world(niche_size: usize, niche_communities: usize) -> WorldConfig {
        WorldConfig {
            background: LfrConfig {
                average_degree: 10.0,
                ..LfrConfig::standard(1_500, 0.3)
            },
            niche_communities,
            niche_size,
            parent_run_accounts: 60,
            adult_content_accounts: 30,
            sellers: 15,
            aggregators: 4,
            buyers: 90,
            bystanders: 15,
            ..WorldConfig::default()
        }
    }

    #[test]
    fn suspects_carry_their_evidence() {
        let synthetic = world(&small_world(30, 3), 9).expect("world");
        let map = build_map(
            &synthetic.input,
            &synthetic.text,
            &MapConfig {
                budget: 40,
                ..MapConfig::default()
            },
        )
        .expect("map");
        assert_eq!(map.suspects.len(), 40);
        for pair in map.suspects.windows(2) {
            assert!(pair[0].score >= pair[1].score, "ranked best first");
        }
        for suspect in &map.suspects {
            let total: f64 = suspect
                .evidence
                .signals
                .iter()
                .map(|(_, share)| share)
                .sum();
            assert!(
                (total - suspect.score).abs() < 1e-9,
                "the score is the sum of its evidence"
            );
            if let Some(first) = suspect.evidence.path_from_seed.first() {
                assert!(map.seeds.contains(first), "paths start at a seed");
                assert_eq!(
                    suspect.evidence.path_from_seed.last(),
                    Some(&suspect.account)
                );
            }
        }
        assert!(!map.seed_communities.is_empty());
        assert!(map.size.sellers > 0 && map.size.unique_followers_of_sellers > 0);
        // No seeds is an error, not an empty map.
        let mut no_seeds = synthetic.input.clone();
        no_seeds.seeds.clear();
        assert!(build_map(&no_seeds, &synthetic.text, &MapConfig::default()).is_err());
        let mut short = synthetic.input.clone();
        short.accounts.pop();
        assert!(matches!(
            build_map(&short, &synthetic.text, &MapConfig::default()),
            Err(MapError::AttributeCount { .. })
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

        /// However tight or large benign niche communities are, their members never reach
        /// the confidence threshold: tightness is not a signal.
        #[test]
        fn tight_benign_communities_are_not_flagged(niche_size in 10usize..80, communities in 1usize..4, seed in 0u64..1000) {
            let synthetic = world(&small_world(niche_size, communities), seed).expect("world");
            let map = build_map(&synthetic.input, &synthetic.text, &MapConfig { budget: usize::MAX, ..MapConfig::default() }).expect("map");
            for suspect in &map.suspects {
                let node = suspect.node as usize;
                if synthetic.truth.niche_member[node] {
                    prop_assert!(suspect.score < CONFIDENT_SCORE, "niche member {} scored {:?}", node, suspect.evidence.signals);
                    prop_assert_eq!(synthetic.truth.roles[node], TrueRole::Outside);
                }
            }
        }
    }
}
