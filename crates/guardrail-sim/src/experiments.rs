//! The audit experiments E1, E2, E3, E4 and E6 (see `docs/experiments.md`), with guardrails
//! off ([`crate::guardrails::Off`]) or on (any [`Guardrails`] layer, passed to [`run_with`]).
//!
//! What it is for: running the reference discovery systems on the *public* world and scoring
//! what they show against ground truth. The layer is consulted wherever a platform would
//! consult one and never receives the truth. The split is structural: [`Platform::build`] takes a
//! [`World`] and nothing else, and the discovery crates cannot name [`GroundTruth`]; only the
//! scoring code in this module reads it. What it must never do: set a metric directly or
//! tune a discovery system with ground truth — every figure comes out of the behaviours in
//! the world, the co-engagement recommender, the search index and the ad market.

use std::collections::{BTreeMap, HashMap, HashSet};

use guardrail_ads::{
    Campaign, CreativeClass, EngagementModel, Market, Observation, Viewer, wilson,
};
use guardrail_recommend::{
    AllowAll, CandidateGate, Engagement, EngagementIndex, EngagementKind, QueryDecision,
    RecommendConfig, SearchIndex, feed, similar_accounts, suggested_for_you,
};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::generate::CHILD_TOPICS;
use crate::guardrails::{Guardrails, Off};
use crate::truth::{GroundTruth, Role};
use crate::vocabulary::BANNED_BASES;
use crate::world::{Gender, World};

/// The experiments this module runs.
pub const EXPERIMENTS: [&str; 5] = ["e1", "e2", "e3", "e4", "e6"];

/// Parameters of the experiments themselves (not of the world).
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentConfig {
    /// The recommender's tuning.
    pub recommend: RecommendConfig,
    /// Fresh test accounts in E1.
    pub probes: usize,
    /// Benign accounts sampled for the held-out hit rate in E1.
    pub holdout_accounts: usize,
    /// Share of known sellers removed in E3.
    pub takedown_share: f64,
    /// Probability that a removed seller comes back (backup or new account) in E3.
    pub return_probability: f64,
    /// Days simulated after the takedown in E3 and of contact in E6.
    pub days_after: u32,
    /// Probability a network member follows a network account it is shown (E3, E6).
    pub follow_shown_network: f64,
    /// Probability a predatory adult contacts a minor it is shown (E6), on any channel.
    pub contact_probability: f64,
    /// Competing ad market (E4).
    pub market: Market,
    /// Bid per engagement for both E4 creatives.
    pub ad_bid: f64,
    /// Impressions bought per E4 creative.
    pub ad_budget: usize,
}

impl Default for ExperimentConfig {
    fn default() -> Self {
        ExperimentConfig {
            recommend: RecommendConfig::default(),
            probes: 20,
            holdout_accounts: 300,
            takedown_share: 0.9,
            return_probability: 0.8,
            days_after: 30,
            follow_shown_network: 0.3,
            contact_probability: 0.2,
            market: Market {
                median_price_women: 1.9,
                median_price_men: 1.0,
                median_price_other: 1.5,
                price_spread: 0.5,
            },
            ad_bid: 8.0,
            ad_budget: 12_000,
        }
    }
}

/// One experiment's result, the shape of `guardrail audit run --json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExperimentReport {
    /// Experiment name (`e1`...).
    pub experiment: String,
    /// `off` or `on`: the layer's name.
    pub guardrails: String,
    /// The world's seed.
    pub seed: u64,
    /// Named metrics.
    pub metrics: BTreeMap<String, f64>,
}

/// An experiment failure (an unknown name).
#[derive(Debug, thiserror::Error)]
#[error("unknown experiment `{0}`; expected one of e1, e2, e3, e4, e6")]
pub struct UnknownExperiment(pub String);

/// Runs one experiment by name.
pub fn run(
    name: &str,
    world: &World,
    truth: &GroundTruth,
    config: &ExperimentConfig,
) -> Result<ExperimentReport, UnknownExperiment> {
    run_with(name, world, truth, config, &mut Off::default())
}

/// Runs one experiment by name with a guardrail layer (built by the caller from the
/// public world; the layer never sees `truth`).
pub fn run_with(
    name: &str,
    world: &World,
    truth: &GroundTruth,
    config: &ExperimentConfig,
    layer: &mut dyn Guardrails,
) -> Result<ExperimentReport, UnknownExperiment> {
    let mut metrics = match name {
        "e1" => e1(world, truth, config, layer),
        "e2" => e2(world, truth, layer),
        "e3" => e3(world, truth, config, layer),
        "e4" => e4(world, truth, config, layer),
        "e6" => e6(world, truth, config, layer),
        other => return Err(UnknownExperiment(other.to_string())),
    };
    metrics.extend(layer.run_metrics());
    Ok(ExperimentReport {
        experiment: name.to_string(),
        guardrails: layer.name().to_string(),
        seed: world.meta.seed,
        metrics,
    })
}

/// The platform's discovery systems built from public data only.
#[derive(Debug, Clone)]
pub struct Platform {
    /// The engagement index behind suggestions, similar accounts and feed.
    pub index: EngagementIndex,
    /// Hashtag, bio and caption search.
    pub search: SearchIndex,
    /// Posts by author, for the feed.
    pub posts_by_author: Vec<Vec<(u32, u64)>>,
    /// "Now": the first day after the history.
    pub now: u64,
}

/// Every public engagement of a world as recommender input (likes and comments point at the
/// post's author).
pub fn engagements(world: &World) -> Vec<Engagement> {
    let mut out = Vec::with_capacity(world.edge_count());
    let account_edges = [
        (&world.follows, EngagementKind::Follow),
        (&world.views, EngagementKind::View),
        (&world.reports, EngagementKind::Report),
    ];
    for (edges, kind) in account_edges {
        out.extend(edges.iter().map(|e| Engagement {
            actor: e.src,
            target: e.dst,
            kind,
            at: u64::from(e.at),
        }));
    }
    for (edges, kind) in [
        (&world.likes, EngagementKind::Like),
        (&world.comments, EngagementKind::Comment),
    ] {
        out.extend(edges.iter().filter_map(|e| {
            let author = world.posts.get(e.post as usize)?.author;
            Some(Engagement {
                actor: e.account,
                target: author,
                kind,
                at: u64::from(e.at),
            })
        }));
    }
    out.sort_by_key(|e| e.at);
    out
}

impl Platform {
    /// Builds the discovery systems from the public world. Takes no ground truth.
    pub fn build(world: &World, recommend: &RecommendConfig) -> Self {
        Platform::build_from(world, engagements(world), recommend, &AllowAll)
    }

    /// Builds the discovery systems with a gate deciding which engagements enter the index.
    pub fn build_gated(
        world: &World,
        recommend: &RecommendConfig,
        gate: &dyn CandidateGate,
    ) -> Self {
        Platform::build_from(world, engagements(world), recommend, gate)
    }

    fn build_from(
        world: &World,
        engagements: Vec<Engagement>,
        recommend: &RecommendConfig,
        gate: &dyn CandidateGate,
    ) -> Self {
        let index =
            EngagementIndex::build(world.accounts.len(), engagements, recommend.clone(), gate);
        let mut search = SearchIndex::default();
        for post in &world.posts {
            search.add_post(post.id, post.author, &post.hashtags, &post.caption);
        }
        for account in &world.accounts {
            search.add_bio(account.id, &account.bio);
        }
        Platform {
            index,
            search,
            posts_by_author: world.posts_by_author(),
            now: u64::from(world.meta.days),
        }
    }
}

fn share(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

fn rng_for(world: &World, experiment: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(world.meta.seed);
    rng.set_stream(100 + experiment);
    rng
}

fn primary_sellers(world: &World, truth: &GroundTruth) -> Vec<u32> {
    truth
        .roles
        .iter()
        .filter(|r| {
            r.role == Role::Seller
                && world
                    .accounts
                    .get(r.account as usize)
                    .is_some_and(|a| a.created_at == 0)
        })
        .map(|r| r.account)
        .collect()
}

/// E1: one view floods the suggestions; following five floods the feed; the bystander leak;
/// and benign quality on held-out follows.
fn e1(
    world: &World,
    truth: &GroundTruth,
    config: &ExperimentConfig,
    layer: &mut dyn Guardrails,
) -> BTreeMap<String, f64> {
    let mut rng = rng_for(world, 1);
    let gate = layer.gate();
    let mut platform = Platform::build_gated(world, &config.recommend, gate);
    let n = world.accounts.len();
    let sellers = primary_sellers(world, truth);
    let now = platform.now;
    let (mut network_top10, mut shown_top10, mut network_feed, mut shown_feed) = (0, 0, 0, 0);
    let mut time_to_first: Vec<f64> = Vec::new();
    for probe_number in 0..config.probes {
        let probe = (n + probe_number) as u32;
        let Some(&seed) = sellers.choose(&mut rng) else {
            break;
        };
        let suggestions = view_and_suggest(&mut platform, gate, probe, seed);
        network_top10 += suggestions
            .iter()
            .filter(|s| truth.in_network(s.account))
            .count();
        shown_top10 += suggestions.len();
        if let Some(rank) = suggestions.iter().position(|s| truth.in_network(s.account)) {
            time_to_first.push(rank as f64 + 1.0);
        }
        for suggestion in suggestions.iter().take(5) {
            platform.index.add(
                &Engagement {
                    actor: probe,
                    target: suggestion.account,
                    kind: EngagementKind::Follow,
                    at: now + 1,
                },
                gate,
            );
        }
        let items = feed(
            &platform.index,
            &platform.posts_by_author,
            probe,
            now + 1,
            30,
            gate,
        );
        network_feed += items
            .iter()
            .filter(|(_, author)| truth.in_network(*author))
            .count();
        shown_feed += items.len();
        platform.index.remove_account(probe);
    }
    // The same view from accounts with an ordinary history (three follows of ordinary
    // adults the day before), so that there is something to suggest either way: a gate
    // that merely silenced new accounts would show here.
    let (mut history_network, mut history_shown) = (0, 0);
    {
        let mut history_rng = rng_for(world, 11);
        let ordinary: Vec<u32> = truth
            .roles
            .iter()
            .filter(|r| r.role == Role::Ordinary && !world.declared_minor(r.account))
            .map(|r| r.account)
            .collect();
        for probe_number in 0..config.probes {
            let probe = (n + config.probes + probe_number) as u32;
            platform.index.grow_to(probe as usize + 1);
            let (Some(&seed), false) = (sellers.choose(&mut history_rng), ordinary.is_empty())
            else {
                break;
            };
            for &followed in ordinary.choose_multiple(&mut history_rng, 3) {
                let follow = Engagement {
                    actor: probe,
                    target: followed,
                    kind: EngagementKind::Follow,
                    at: now.saturating_sub(1),
                };
                platform.index.add(&follow, gate);
            }
            let suggestions = view_and_suggest(&mut platform, gate, probe, seed);
            history_network += suggestions
                .iter()
                .filter(|s| truth.in_network(s.account))
                .count();
            history_shown += suggestions.len();
            platform.index.remove_account(probe);
        }
    }
    // Bystander leak: visitors of an advocate's profile shown a network account there.
    let (mut leaked, mut visitors) = (0, 0);
    for advocate in truth.roles.iter().filter(|r| r.role == Role::Advocate) {
        let mut seen: HashSet<u32> = HashSet::new();
        for view in world
            .views
            .iter()
            .filter(|v| v.dst == advocate.account && seen.insert(v.src))
        {
            let strip = similar_accounts(
                &platform.index,
                advocate.account,
                Some(view.src),
                now,
                10,
                gate,
            );
            visitors += 1;
            if strip.iter().any(|s| truth.in_network(s.account)) {
                leaked += 1;
            }
        }
    }
    let (niche_hits, niche_asked) =
        benign_holdout(world, truth, config, &[Role::Niche], gate, &mut rng);
    let (ordinary_hits, ordinary_asked) = benign_holdout(
        world,
        truth,
        config,
        &[Role::Ordinary, Role::ParentRun],
        gate,
        &mut rng,
    );
    // Reach is compared with the platform as it was: the ungated index, nothing dropped.
    let ungated = Platform::build(world, &config.recommend);
    let reach = suggestion_reach(world, truth, &ungated, &platform, gate, &mut rng);
    let base_rate = share(
        truth.roles.iter().filter(|r| r.role.in_network()).count(),
        n,
    );
    BTreeMap::from([
        (
            "network_share_top10_after_one_view".to_string(),
            share(network_top10, shown_top10),
        ),
        (
            "network_share_feed_after_follow_5".to_string(),
            share(network_feed, shown_feed),
        ),
        ("network_base_rate".to_string(), base_rate),
        (
            "probes_with_network_at_rank_1".to_string(),
            share(
                time_to_first.iter().filter(|&&r| r == 1.0).count(),
                config.probes,
            ),
        ),
        ("bystander_leak_rate".to_string(), share(leaked, visitors)),
        (
            "suggestions_shown_top10_after_one_view".to_string(),
            shown_top10 as f64,
        ),
        (
            "network_share_top10_after_one_view_with_history".to_string(),
            share(history_network, history_shown),
        ),
        (
            "suggestions_shown_top10_after_one_view_with_history".to_string(),
            history_shown as f64,
        ),
        ("parent_niche_min_reach_kept".to_string(), reach.min_kept),
        (
            "parent_niche_accounts_losing_over_5pct".to_string(),
            reach.losing_over_5pct as f64,
        ),
        (
            "parent_niche_adult_accounts_losing_over_5pct".to_string(),
            reach.adults_losing_over_5pct as f64,
        ),
        (
            "parent_niche_adult_min_reach_kept".to_string(),
            reach.adult_min_kept,
        ),
        (
            "parent_niche_total_reach_kept".to_string(),
            reach.total_kept,
        ),
        (
            "parent_niche_accounts_measured".to_string(),
            reach.measured as f64,
        ),
        ("bystander_visitors".to_string(), visitors as f64),
        (
            "benign_hit_rate_at_10".to_string(),
            share(niche_hits, niche_asked),
        ),
        (
            "ordinary_hit_rate_at_10".to_string(),
            share(ordinary_hits, ordinary_asked),
        ),
    ])
}

/// Held-out follows of benign accounts: remove each sampled account's latest follow, rebuild,
/// and ask whether it comes back in the top 10.
fn benign_holdout(
    world: &World,
    truth: &GroundTruth,
    config: &ExperimentConfig,
    roles: &[Role],
    gate: &dyn CandidateGate,
    rng: &mut ChaCha8Rng,
) -> (usize, usize) {
    let mut latest: HashMap<u32, (u32, u32)> = HashMap::new();
    let mut counts: HashMap<u32, usize> = HashMap::new();
    for edge in &world.follows {
        *counts.entry(edge.src).or_default() += 1;
        let entry = latest.entry(edge.src).or_insert((edge.at, edge.dst));
        if (edge.at, edge.dst) > *entry {
            *entry = (edge.at, edge.dst);
        }
    }
    let mut candidates: Vec<u32> = truth
        .roles
        .iter()
        .filter(|r| roles.contains(&r.role) && counts.get(&r.account).copied().unwrap_or(0) >= 5)
        .map(|r| r.account)
        .collect();
    candidates.shuffle(rng);
    candidates.truncate(config.holdout_accounts);
    let held: HashSet<(u32, u32)> = candidates
        .iter()
        .filter_map(|a| latest.get(a).map(|&(_, dst)| (*a, dst)))
        .collect();
    let kept: Vec<Engagement> = engagements(world)
        .into_iter()
        .filter(|e| !(e.kind == EngagementKind::Follow && held.contains(&(e.actor, e.target))))
        .collect();
    let platform = Platform::build_from(world, kept, &config.recommend, gate);
    let hits = held
        .iter()
        .filter(|(account, target)| {
            suggested_for_you(&platform.index, *account, platform.now, 10, gate)
                .iter()
                .any(|s| s.account == *target)
        })
        .count();
    (hits, held.len())
}

/// A probe account opens one seller's profile once, as in the published test, and is
/// shown "suggested for you". The probe stays in the index until the caller removes it.
fn view_and_suggest(
    platform: &mut Platform,
    gate: &dyn CandidateGate,
    probe: u32,
    seller: u32,
) -> Vec<guardrail_recommend::Scored> {
    let now = platform.now;
    platform.index.grow_to(probe as usize + 1);
    let view = Engagement {
        actor: probe,
        target: seller,
        kind: EngagementKind::View,
        at: now,
    };
    platform.index.add(&view, gate);
    suggested_for_you(&platform.index, probe, now, 10, gate)
}

/// How much suggestion reach parent-run and niche accounts keep under a gate.
struct Reach {
    /// Smallest `reach under the gate / reach with everything allowed` over measured accounts.
    min_kept: f64,
    /// The same over measured accounts whose declared age is 18 or over.
    adult_min_kept: f64,
    /// Measured accounts that kept less than 95% of their reach.
    losing_over_5pct: usize,
    /// Of those, accounts whose declared age is 18 or over (minors lose their reach among
    /// unconnected adults by design: the rule that minors are not suggested to them).
    adults_losing_over_5pct: usize,
    /// Total reach of the measured accounts under the gate over their total reach on the
    /// platform as it was.
    total_kept: f64,
    /// Accounts measured: parent-run and niche accounts reaching at least
    /// [`REACH_FLOOR`] benign viewers with everything allowed.
    measured: usize,
}

/// Accounts reaching fewer benign viewers than this are too small to measure a share of.
const REACH_FLOOR: usize = 5;

/// Suggestion reach: for a sample of benign viewers, who appears in their top 10, once on
/// the platform as it was (`ungated`, everything allowed) and once on the gated index
/// with `gate` deciding at serving time.
fn suggestion_reach(
    world: &World,
    truth: &GroundTruth,
    ungated: &Platform,
    platform: &Platform,
    gate: &dyn CandidateGate,
    rng: &mut ChaCha8Rng,
) -> Reach {
    let mut viewers: Vec<u32> = truth
        .roles
        .iter()
        .filter(|r| !r.role.in_network())
        .map(|r| r.account)
        .collect();
    viewers.shuffle(rng);
    viewers.truncate(3_000);
    let n = world.accounts.len();
    let (mut off, mut on) = (vec![0usize; n], vec![0usize; n]);
    for &viewer in &viewers {
        for s in suggested_for_you(&ungated.index, viewer, ungated.now, 10, &AllowAll) {
            if let Some(count) = off.get_mut(s.account as usize) {
                *count += 1;
            }
        }
        for s in suggested_for_you(&platform.index, viewer, platform.now, 10, gate) {
            if let Some(count) = on.get_mut(s.account as usize) {
                *count += 1;
            }
        }
    }
    let mut reach = Reach {
        min_kept: 1.0,
        adult_min_kept: 1.0,
        losing_over_5pct: 0,
        adults_losing_over_5pct: 0,
        total_kept: 1.0,
        measured: 0,
    };
    let (mut total_before, mut total_after) = (0usize, 0usize);
    for record in truth
        .roles
        .iter()
        .filter(|r| matches!(r.role, Role::ParentRun | Role::Niche))
    {
        let account = record.account as usize;
        let (before, after) = (
            off.get(account).copied().unwrap_or(0),
            on.get(account).copied().unwrap_or(0),
        );
        if before < REACH_FLOOR {
            continue;
        }
        reach.measured += 1;
        total_before += before;
        total_after += after;
        let kept = after as f64 / before as f64;
        reach.min_kept = reach.min_kept.min(kept);
        if !world.declared_minor(record.account) {
            reach.adult_min_kept = reach.adult_min_kept.min(kept);
        }
        if kept < 0.95 {
            reach.losing_over_5pct += 1;
            if !world.declared_minor(record.account) {
                reach.adults_losing_over_5pct += 1;
            }
        }
    }
    reach.total_kept = share(total_after, total_before);
    reach
}

/// E2: what banned-term queries reach behind the interstitial, autocomplete variants, and
/// how many sellers an auditor reaches by search alone.
fn e2(world: &World, truth: &GroundTruth, layer: &mut dyn Guardrails) -> BTreeMap<String, f64> {
    let platform = Platform::build_gated(world, &RecommendConfig::default(), layer.gate());
    let policy = layer.query_policy();
    let gate = layer.gate();
    let mut reachable = 0;
    let mut interstitials = 0;
    for term in BANNED_BASES {
        let outcome = platform.search.search(policy, gate, None, term, true);
        interstitials += usize::from(outcome.decision == QueryDecision::Interstitial);
        reachable += outcome.results.accounts.len() + outcome.results.posts.len();
    }
    let (mut prefixes, mut leaking) = (0, 0);
    let mut learned: Vec<String> = BANNED_BASES.iter().map(|s| s.to_string()).collect();
    for term in BANNED_BASES {
        for end in 2..=term.len() {
            let suggestions = platform.search.autocomplete(policy, &term[..end], 10);
            prefixes += 1;
            if suggestions.hashtags.iter().any(|h| truth.is_variant(h)) {
                leaking += 1;
            }
            learned.extend(suggestions.hashtags);
        }
    }
    // The auditor snowballs: every learned hashtag and its related hashtags, results anyway.
    let mut queries: Vec<String> = learned.clone();
    for tag in &learned {
        queries.extend(platform.search.related_hashtags(policy, tag, 5));
    }
    queries.sort();
    queries.dedup();
    let mut found: HashSet<u32> = HashSet::new();
    for query in &queries {
        found.extend(
            platform
                .search
                .search(policy, gate, None, query, true)
                .results
                .accounts,
        );
    }
    let sellers = primary_sellers(world, truth);
    let reached = sellers.iter().filter(|s| found.contains(s)).count();
    BTreeMap::from([
        (
            "blocked_query_results".to_string(),
            reachable as f64 / BANNED_BASES.len() as f64,
        ),
        (
            "interstitial_share".to_string(),
            share(interstitials, BANNED_BASES.len()),
        ),
        (
            "autocomplete_variant_rate".to_string(),
            share(leaking, prefixes),
        ),
        (
            "seller_reach_via_search".to_string(),
            share(reached, sellers.len()),
        ),
        ("sellers_total".to_string(), sellers.len() as f64),
    ])
}

/// E3: remove most known sellers, let a month run, and watch recommendations rebuild.
fn e3(
    world: &World,
    truth: &GroundTruth,
    config: &ExperimentConfig,
    layer: &mut dyn Guardrails,
) -> BTreeMap<String, f64> {
    let mut rng = rng_for(world, 3);
    let mut platform = Platform::build_gated(world, &config.recommend, layer.gate());
    let mut sellers = primary_sellers(world, truth);
    sellers.sort_unstable();
    let mut shuffled = sellers.clone();
    shuffled.shuffle(&mut rng);
    let removed_count = (sellers.len() as f64 * config.takedown_share).round() as usize;
    let removed: Vec<u32> = shuffled[..removed_count.min(shuffled.len())].to_vec();
    let removed_set: HashSet<u32> = removed.iter().copied().collect();
    for &seller in &removed {
        platform.index.remove_account(seller);
    }
    layer.take_down(&removed, platform.now);
    // Who followed each removed seller (they know its bio and the backup it names).
    let mut followers_of: HashMap<u32, Vec<u32>> = HashMap::new();
    for edge in world
        .follows
        .iter()
        .filter(|e| removed_set.contains(&e.dst))
    {
        followers_of.entry(edge.dst).or_default().push(edge.src);
    }
    let backup_of: HashMap<u32, u32> = truth
        .backups
        .iter()
        .map(|b| (b.backup_of, b.account))
        .collect();
    let ring = |account: u32| truth.roles.get(account as usize).map_or(0, |r| r.group);
    // Returns: the listed backup if there is one, else a brand-new account.
    let mut next_id = world.accounts.len() as u32;
    let mut returned: Vec<(u32, u32, u64)> = Vec::new(); // (new account, original, day it returns)
    for &seller in &removed {
        if rng.gen_bool(config.return_probability) {
            let account = backup_of.get(&seller).copied().unwrap_or_else(|| {
                next_id += 1;
                next_id - 1
            });
            returned.push((account, seller, platform.now + rng.gen_range(1..10)));
        }
    }
    platform.index.grow_to(next_id as usize);
    let gate = layer.gate();
    // Backups the layer already refuses to suggest to anyone, right after the takedown.
    let caught = returned
        .iter()
        .map(|r| r.0)
        .filter(|&a| (a as usize) < world.accounts.len())
        .filter(|&a| {
            !gate.allow_candidate(guardrail_recommend::Surface::AccountSuggestions, None, a)
        })
        .count();
    let new_accounts: HashSet<u32> = returned.iter().map(|r| r.0).collect();
    let backups_used: HashSet<u32> = returned
        .iter()
        .map(|r| r.0)
        .filter(|a| (*a as usize) < world.accounts.len())
        .collect();
    let network_member = |account: u32| {
        new_accounts.contains(&account)
            || (truth.in_network(account) && !removed_set.contains(&account))
    };
    let buyers: Vec<u32> = truth
        .roles
        .iter()
        .filter(|r| r.role == Role::Buyer)
        .map(|r| r.account)
        .collect();
    let surviving: Vec<u32> = sellers
        .iter()
        .copied()
        .filter(|s| !removed_set.contains(s))
        .collect();
    let mut resurfaced: HashSet<u32> = HashSet::new();
    let (mut final_new, mut final_shown) = (0, 0);
    let end = platform.now + u64::from(config.days_after);
    for day in platform.now + 1..=end {
        for &(account, original, returns_at) in &returned {
            if returns_at == day {
                // The returned seller rejoins its ring: follows surviving ring sellers.
                for &other in surviving.iter().filter(|&&s| ring(s) == ring(original)) {
                    platform.index.add(
                        &Engagement {
                            actor: account,
                            target: other,
                            kind: EngagementKind::Follow,
                            at: day,
                        },
                        gate,
                    );
                }
            }
            if returns_at <= day {
                // Former followers find it through the backup named in the old bio.
                for &follower in followers_of.get(&original).into_iter().flatten() {
                    if rng.gen_bool(0.05) {
                        platform.index.add(
                            &Engagement {
                                actor: follower,
                                target: account,
                                kind: EngagementKind::Follow,
                                at: day,
                            },
                            gate,
                        );
                    }
                }
            }
        }
        for &buyer in &buyers {
            if !rng.gen_bool(0.5) {
                continue;
            }
            let suggestions = suggested_for_you(&platform.index, buyer, day, 10, gate);
            for s in &suggestions {
                if backups_used.contains(&s.account) {
                    resurfaced.insert(s.account);
                }
                if network_member(s.account) && rng.gen_bool(config.follow_shown_network) {
                    platform.index.add(
                        &Engagement {
                            actor: buyer,
                            target: s.account,
                            kind: EngagementKind::View,
                            at: day,
                        },
                        gate,
                    );
                    platform.index.add(
                        &Engagement {
                            actor: buyer,
                            target: s.account,
                            kind: EngagementKind::Follow,
                            at: day,
                        },
                        gate,
                    );
                }
            }
            if day == end {
                final_new += suggestions
                    .iter()
                    .filter(|s| new_accounts.contains(&s.account))
                    .count();
                final_shown += suggestions.len();
            }
        }
    }
    let active_sellers = surviving.len() + returned.len();
    BTreeMap::from([
        (
            "surviving_seller_share".to_string(),
            share(surviving.len(), sellers.len()),
        ),
        (
            "active_seller_share_after_month".to_string(),
            share(active_sellers, sellers.len()),
        ),
        ("new_seller_accounts".to_string(), returned.len() as f64),
        ("rebuild_rate".to_string(), share(final_new, final_shown)),
        (
            "backup_accounts_resurfaced".to_string(),
            share(resurfaced.len(), backups_used.len()),
        ),
        (
            "backup_accounts_caught".to_string(),
            share(caught, backups_used.len()),
        ),
    ])
}

/// Interest bits: declared interests, plus topics of hashtags an account liked at least three times
/// (the platform's own inference from behaviour).
pub fn viewers(world: &World) -> (Vec<Viewer>, HashMap<String, u32>) {
    let mut topics: Vec<String> = world
        .accounts
        .iter()
        .flat_map(|a| a.interests.iter().cloned())
        .collect();
    topics.sort();
    topics.dedup();
    topics.truncate(64);
    let bit: HashMap<String, u32> = topics
        .iter()
        .enumerate()
        .map(|(i, t)| (t.clone(), i as u32))
        .collect();
    let mut liked_topics: HashMap<(u32, u32), u32> = HashMap::new();
    for like in &world.likes {
        if let Some(post) = world.posts.get(like.post as usize) {
            for tag in &post.hashtags {
                if let Some(&b) = bit.get(tag) {
                    *liked_topics.entry((like.account, b)).or_default() += 1;
                }
            }
        }
    }
    let mut interests: Vec<u64> = world
        .accounts
        .iter()
        .map(|a| {
            a.interests
                .iter()
                .filter_map(|t| bit.get(t))
                .fold(0, |m, b| m | (1 << b))
        })
        .collect();
    for ((account, b), count) in liked_topics {
        if count >= 3
            && let Some(m) = interests.get_mut(account as usize)
        {
            *m |= 1 << b;
        }
    }
    let viewers = world
        .accounts
        .iter()
        .map(|a| Viewer {
            account: a.id,
            gender: match a.gender {
                Gender::Woman => guardrail_ads::Gender::Woman,
                Gender::Man => guardrail_ads::Gender::Man,
                Gender::Other => guardrail_ads::Gender::Other,
            },
            adult: a.declared_age >= 18,
            interests: interests[a.id as usize],
        })
        .collect();
    (viewers, bit)
}

/// Exposures for learning: every post of a followed account (up to eight, as in the feed),
/// engaged when liked; minor-featuring and brand posts are the two creative classes.
fn observations(world: &World) -> Vec<Observation> {
    let liked: HashSet<(u32, u32)> = world.likes.iter().map(|l| (l.account, l.post)).collect();
    let posts_by_author = world.posts_by_author();
    let mut out = Vec::new();
    for edge in &world.follows {
        let business = world
            .accounts
            .get(edge.dst as usize)
            .is_some_and(|a| a.business);
        for &(post, _) in posts_by_author
            .get(edge.dst as usize)
            .into_iter()
            .flatten()
            .take(8)
        {
            let features_minor = world
                .posts
                .get(post as usize)
                .is_some_and(|p| p.features_minor);
            let class = if features_minor {
                CreativeClass::FeaturesMinor
            } else if business {
                CreativeClass::ProductOnly
            } else {
                continue;
            };
            out.push(Observation {
                account: edge.src,
                class,
                engaged: liked.contains(&(edge.src, post)),
            });
        }
    }
    out
}

/// E4: a child-photo ad and a product-only ad targeted at child-activity interests.
fn e4(
    world: &World,
    truth: &GroundTruth,
    config: &ExperimentConfig,
    layer: &mut dyn Guardrails,
) -> BTreeMap<String, f64> {
    let mut rng = rng_for(world, 4);
    let (viewers, bit) = viewers(world);
    let model = EngagementModel::learn(world.accounts.len(), observations(world), 5.0);
    let target = CHILD_TOPICS
        .iter()
        .filter_map(|t| bit.get(*t))
        .fold(0u64, |m, b| m | (1 << b));
    let man = |account: u32| {
        world
            .accounts
            .get(account as usize)
            .is_some_and(|a| a.gender == Gender::Man)
    };
    let mut metrics = BTreeMap::new();
    for (creative, label) in [
        (CreativeClass::FeaturesMinor, "child_photo"),
        (CreativeClass::ProductOnly, "product_photo"),
    ] {
        let campaign = Campaign {
            target_interests: target,
            adults_only: true,
            creative,
            bid: config.ad_bid,
            budget_impressions: config.ad_budget,
        };
        let delivery = guardrail_ads::deliver(
            &campaign,
            &viewers,
            &model,
            &config.market,
            layer.delivery_gate(),
            30,
            &mut rng,
        );
        let men = delivery.impressions.iter().filter(|&&a| man(a)).count();
        let delivered = wilson(men, delivery.impressions.len());
        metrics.insert(format!("delivered_share_men_{label}"), delivered.value);
        metrics.insert(format!("delivered_share_men_{label}_ci_low"), delivered.low);
        metrics.insert(
            format!("delivered_share_men_{label}_ci_high"),
            delivered.high,
        );
        metrics.insert(
            format!("impressions_{label}"),
            delivery.impressions.len() as f64,
        );
        if creative == CreativeClass::FeaturesMinor {
            let eligible = wilson(
                delivery.eligible.iter().filter(|&&a| man(a)).count(),
                delivery.eligible.len(),
            );
            metrics.insert("eligible_share_men".to_string(), eligible.value);
            metrics.insert("eligible_share_men_ci_low".to_string(), eligible.low);
            metrics.insert("eligible_share_men_ci_high".to_string(), eligible.high);
            let risky = wilson(
                delivery
                    .impressions
                    .iter()
                    .filter(|&&a| truth.in_network(a))
                    .count(),
                delivery.impressions.len(),
            );
            metrics.insert("risk_flagged_impression_share".to_string(), risky.value);
            metrics.insert(
                "risk_flagged_impression_share_ci_low".to_string(),
                risky.low,
            );
            metrics.insert(
                "risk_flagged_impression_share_ci_high".to_string(),
                risky.high,
            );
            let eligible_risky = share(
                delivery
                    .eligible
                    .iter()
                    .filter(|&&a| truth.in_network(a))
                    .count(),
                delivery.eligible.len(),
            );
            metrics.insert("risk_flagged_eligible_share".to_string(), eligible_risky);
        }
    }
    metrics
}

/// E6: minors in adults' suggestions, and where predatory adults' contacts with minors began.
fn e6(
    world: &World,
    truth: &GroundTruth,
    config: &ExperimentConfig,
    layer: &mut dyn Guardrails,
) -> BTreeMap<String, f64> {
    let mut rng = rng_for(world, 6);
    let mut platform = Platform::build_gated(world, &config.recommend, layer.gate());
    let gate = layer.gate();
    let policy = layer.query_policy();
    let minor = |a: u32| world.declared_minor(a);
    let mut connected: HashSet<(u32, u32)> = HashSet::new();
    for edge in &world.follows {
        connected.insert((edge.src, edge.dst));
        connected.insert((edge.dst, edge.src));
    }
    let mut adults: Vec<u32> = truth
        .roles
        .iter()
        .filter(|r| r.role == Role::Ordinary && !minor(r.account))
        .map(|r| r.account)
        .collect();
    adults.shuffle(&mut rng);
    adults.truncate(500);
    let shown_minor = adults
        .iter()
        .filter(|&&adult| {
            suggested_for_you(&platform.index, adult, platform.now, 10, gate)
                .iter()
                .any(|s| minor(s.account) && !connected.contains(&(adult, s.account)))
        })
        .count();
    // Contact simulation: predatory adults meet minors through existing follows, search
    // results and suggestions; each exposure leads to contact with the same probability.
    let predators: Vec<u32> = truth
        .roles
        .iter()
        .filter(|r| r.role == Role::Buyer)
        .map(|r| r.account)
        .collect();
    let mut origin: HashMap<(u32, u32), &'static str> = HashMap::new();
    for edge in world
        .follows
        .iter()
        .filter(|e| minor(e.dst) && predators.binary_search(&e.src).is_ok())
    {
        origin.insert((edge.src, edge.dst), "follow");
    }
    let queries: Vec<String> = world
        .accounts
        .iter()
        .filter(|a| a.declared_age < 18)
        .flat_map(|a| a.interests.iter().cloned())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut searched: HashMap<u32, Vec<String>> = HashMap::new();
    for search in &world.searches {
        searched
            .entry(search.account)
            .or_default()
            .push(search.query.clone());
    }
    let mut followers = vec![0u32; world.accounts.len()];
    for edge in &world.follows {
        followers[edge.dst as usize] += 1;
    }
    let mut contacts: HashMap<&'static str, usize> = HashMap::new();
    let mut contacted: HashSet<(u32, u32)> = HashSet::new();
    for day in platform.now + 1..=platform.now + u64::from(config.days_after) {
        for &predator in &predators {
            if !rng.gen_bool(0.5) {
                continue;
            }
            let mut shown: Vec<(u32, &'static str)> =
                suggested_for_you(&platform.index, predator, day, 10, gate)
                    .iter()
                    .map(|s| (s.account, "suggestion"))
                    .collect();
            // Each predator searches what it searched in the world's history (its own
            // queries), now and then a topic minors post under.
            let own = searched.get(&predator).filter(|_| rng.gen_bool(0.9));
            let query = match own {
                Some(list) => list.choose(&mut rng),
                None => queries.choose(&mut rng),
            };
            if let Some(query) = query {
                // Search ranks accounts by popularity (followers), as the platform did.
                let mut results = platform
                    .search
                    .search(policy, gate, Some(predator), query, true)
                    .results
                    .accounts;
                results.sort_by_key(|&a| {
                    (
                        std::cmp::Reverse(followers.get(a as usize).copied().unwrap_or(0)),
                        a,
                    )
                });
                shown.extend(results.into_iter().take(10).map(|a| (a, "search")));
            }
            let followed: Vec<u32> = platform
                .index
                .following(predator)
                .iter()
                .copied()
                .filter(|&a| minor(a))
                .collect();
            shown.extend(followed.into_iter().map(|a| (a, "follow")));
            for (account, channel) in shown {
                if !minor(account) || account == predator {
                    continue;
                }
                let first = *origin.entry((predator, account)).or_insert(channel);
                if !contacted.contains(&(predator, account))
                    && rng.gen_bool(config.contact_probability)
                {
                    contacted.insert((predator, account));
                    *contacts.entry(first).or_default() += 1;
                    platform.index.add(
                        &Engagement {
                            actor: predator,
                            target: account,
                            kind: EngagementKind::Follow,
                            at: day,
                        },
                        gate,
                    );
                }
            }
        }
    }
    let total: usize = contacts.values().sum();
    BTreeMap::from([
        (
            "minor_suggestions_to_unconnected_adults".to_string(),
            share(shown_minor, adults.len()),
        ),
        (
            "inappropriate_contact_via_suggestions".to_string(),
            share(contacts.get("suggestion").copied().unwrap_or(0), total),
        ),
        (
            "inappropriate_contact_via_search".to_string(),
            share(contacts.get("search").copied().unwrap_or(0), total),
        ),
        ("inappropriate_contacts".to_string(), total as f64),
    ])
}

/// The headline metric of each experiment and the published figure it answers to, in the
/// order `guardrail demo` prints them.
pub const PUBLISHED: &[(&str, &str, &str)] = &[
    (
        "e1",
        "network_share_top10_after_one_view",
        "WSJ/SIO 2023: one view, immediately shown more sellers and buyers",
    ),
    (
        "e1",
        "network_share_feed_after_follow_5",
        "WSJ 2023: following a handful floods the account",
    ),
    (
        "e1",
        "bystander_leak_rate",
        "WSJ 2023: an advocate's visitors were shown the account she reported",
    ),
    (
        "e1",
        "benign_hit_rate_at_10",
        "quality kept for tight benign communities (no published figure)",
    ),
    (
        "e2",
        "blocked_query_results",
        "SIO 2023: interstitial with 'see results anyway'",
    ),
    (
        "e2",
        "autocomplete_variant_rate",
        "WSJ Dec 2023: autocomplete offered new variants of banned terms",
    ),
    (
        "e2",
        "seller_reach_via_search",
        "SIO 2023: 405 sellers found through hashtags alone",
    ),
    (
        "e3",
        "surviving_seller_share",
        "SIO 2023: 31 of 405 (7.7%) still up a month later",
    ),
    (
        "e3",
        "active_seller_share_after_month",
        "SIO 2023: hundreds of new accounts appeared",
    ),
    (
        "e3",
        "rebuild_rate",
        "SIO 2023: viewing one remaining account led to new ones",
    ),
    (
        "e3",
        "backup_accounts_resurfaced",
        "SIO/Ars 2023: backup accounts named in bios",
    ),
    (
        "e4",
        "eligible_share_men",
        "NYT 2024: targeting estimated as mostly women",
    ),
    (
        "e4",
        "delivered_share_men_child_photo",
        "NYT 2024: about 80-95% men for photos with the child",
    ),
    (
        "e4",
        "delivered_share_men_product_photo",
        "NYT 2024: 64% men for product-only photos",
    ),
    (
        "e4",
        "risk_flagged_impression_share",
        "NYT 2024: ads drew solicitations from convicted offenders",
    ),
    (
        "e6",
        "minor_suggestions_to_unconnected_adults",
        "Ofcom: target 0",
    ),
    (
        "e6",
        "inappropriate_contact_via_suggestions",
        "NM AG 2023: PYMK up to 75% of inappropriate adult-minor contact",
    ),
];
