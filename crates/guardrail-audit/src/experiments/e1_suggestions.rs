//! E1: one view floods the suggestions; following five floods the feed; the bystander
//! leak through an advocate's profile; and what guardrails keep for benign accounts (held-out
//! follows, and the suggestion reach of parent-run and niche accounts).
//!
//! What it must never do: count an empty answer as a safe one. The one-view probe is run
//! again with an ordinary history, so a gate that merely silenced new accounts would show.

use std::collections::{HashMap, HashSet};

use guardrail_recommend::{
    AllowAll, CandidateGate, Engagement, EngagementKind, Scored, feed, similar_accounts,
    suggested_for_you,
};
use guardrail_sim::{GroundTruth, Role};
use guardrail_types::{AccountId, Day};
use guardrail_world::World;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::{ExperimentConfig, Platform, engagements, primary_sellers, rng_for, share};
use crate::guardrails::Guardrails;
use crate::metrics::{Metric, Metrics};

/// E1: one view floods the suggestions; following five floods the feed; the bystander leak;
/// and benign quality on held-out follows.
pub fn run(
    world: &World,
    truth: &GroundTruth,
    config: &ExperimentConfig,
    layer: &mut dyn Guardrails,
) -> Metrics {
    let mut rng = rng_for(world, 1);
    let gate = layer.gate();
    let mut platform = Platform::build_gated(world, &config.recommend, gate);
    let n = world.accounts.len();
    let sellers = primary_sellers(world, truth);
    let now = platform.now;
    let (mut network_top10, mut shown_top10, mut network_feed, mut shown_feed) = (0, 0, 0, 0);
    let mut time_to_first: Vec<f64> = Vec::new();
    for probe_number in 0..config.probes {
        let probe = AccountId((n + probe_number) as u32);
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
                    at: now.plus(1),
                },
                gate,
            );
        }
        let items = feed(
            &platform.index,
            &platform.posts_by_author,
            probe,
            now.plus(1),
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
        let ordinary = super::cast::ordinary_adults(world, truth);
        for probe_number in 0..config.probes {
            let probe = AccountId((n + config.probes + probe_number) as u32);
            platform.index.grow_to(probe.index() + 1);
            let (Some(&seed), false) = (sellers.choose(&mut history_rng), ordinary.is_empty())
            else {
                break;
            };
            for &followed in ordinary.choose_multiple(&mut history_rng, 3) {
                let follow = Engagement {
                    actor: probe,
                    target: followed,
                    kind: EngagementKind::Follow,
                    at: Day(now.0.saturating_sub(1)),
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
        let mut seen: HashSet<AccountId> = HashSet::new();
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
    Metrics::from([
        (
            Metric::NetworkShareTop10AfterOneView,
            share(network_top10, shown_top10),
        ),
        (
            Metric::NetworkShareFeedAfterFollow5,
            share(network_feed, shown_feed),
        ),
        (Metric::NetworkBaseRate, base_rate),
        (
            Metric::ProbesWithNetworkAtRank1,
            share(
                time_to_first.iter().filter(|&&r| r == 1.0).count(),
                config.probes,
            ),
        ),
        (Metric::BystanderLeakRate, share(leaked, visitors)),
        (
            Metric::SuggestionsShownTop10AfterOneView,
            shown_top10 as f64,
        ),
        (
            Metric::NetworkShareTop10AfterOneViewWithHistory,
            share(history_network, history_shown),
        ),
        (
            Metric::SuggestionsShownTop10AfterOneViewWithHistory,
            history_shown as f64,
        ),
        (Metric::ParentNicheMinReachKept, reach.min_kept),
        (
            Metric::ParentNicheAccountsLosingOver5pct,
            reach.losing_over_5pct as f64,
        ),
        (
            Metric::ParentNicheAdultAccountsLosingOver5pct,
            reach.adults_losing_over_5pct as f64,
        ),
        (Metric::ParentNicheAdultMinReachKept, reach.adult_min_kept),
        (Metric::ParentNicheTotalReachKept, reach.total_kept),
        (Metric::ParentNicheAccountsMeasured, reach.measured as f64),
        (Metric::BystanderVisitors, visitors as f64),
        (Metric::BenignHitRateAt10, share(niche_hits, niche_asked)),
        (
            Metric::OrdinaryHitRateAt10,
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
    let mut latest: HashMap<AccountId, (Day, AccountId)> = HashMap::new();
    let mut counts: HashMap<AccountId, usize> = HashMap::new();
    for edge in &world.follows {
        *counts.entry(edge.src).or_default() += 1;
        let entry = latest.entry(edge.src).or_insert((edge.at, edge.dst));
        if (edge.at, edge.dst) > *entry {
            *entry = (edge.at, edge.dst);
        }
    }
    let mut candidates: Vec<AccountId> = truth
        .roles
        .iter()
        .filter(|r| roles.contains(&r.role) && counts.get(&r.account).copied().unwrap_or(0) >= 5)
        .map(|r| r.account)
        .collect();
    candidates.shuffle(rng);
    candidates.truncate(config.holdout_accounts);
    let held: HashSet<(AccountId, AccountId)> = candidates
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
    probe: AccountId,
    seller: AccountId,
) -> Vec<Scored> {
    let now = platform.now;
    platform.index.grow_to(probe.index() + 1);
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
    let mut viewers: Vec<AccountId> = truth
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
            if let Some(count) = off.get_mut(s.account.index()) {
                *count += 1;
            }
        }
        for s in suggested_for_you(&platform.index, viewer, platform.now, 10, gate) {
            if let Some(count) = on.get_mut(s.account.index()) {
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
        let account = record.account.index();
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
