//! E1 (one view floods the suggestions, the feed after five follows, the bystander leak,
//! reach kept for benign communities) and E2 (search, autocomplete variants, sellers reached
//! by search) through the contract.
//!
//! What it must never do: count an empty answer as a safe one — the one-view probe is
//! repeated from personas with an ordinary history, and reach is measured for benign
//! accounts — or snowball with knowledge a user would not have (E2 learns hashtags only
//! from autocomplete and from the posts search returned).

use std::collections::{BTreeMap, HashSet};

use guardrail_sim::vocabulary::BANNED_BASES;
use guardrail_sim::{GroundTruth, Role};
use guardrail_types::AccountId;
use guardrail_world::World;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::black_box::{ContractEvent, DiscoverySystem, Persona, Progress, SystemError};
use crate::experiments::{ExperimentConfig, cast, primary_sellers, rng_for, share};
use crate::metrics::{Metric, Metrics};

/// Benign viewers whose suggestions measure reach.
const REACH_VIEWERS: usize = 2_000;
/// Accounts reaching fewer benign viewers than this are too small to measure a share of.
const REACH_FLOOR: usize = 5;

/// E1 through the contract.
pub fn e1(
    world: &World,
    truth: &GroundTruth,
    config: &ExperimentConfig,
    system: &mut dyn DiscoverySystem,
    progress: &mut dyn Progress,
) -> Result<Metrics, SystemError> {
    let mut rng = rng_for(world, 1);
    let sellers = primary_sellers(world, truth);
    let network = |a: AccountId| truth.in_network(a);
    let (mut network_top10, mut shown_top10, mut network_feed, mut shown_feed) = (0, 0, 0, 0);
    let mut at_rank1 = 0;
    for number in 0..config.probes {
        progress.step("e1: one-view probes", number, config.probes);
        let Some(&seller) = sellers.choose(&mut rng) else {
            break;
        };
        let probe = system.create_persona(&Persona::adult_probe(format!("probe-{number}")))?;
        system.send_events(&[ContractEvent::View(probe, seller)])?;
        let suggestions = system.suggestions(probe, 10)?;
        network_top10 += suggestions.iter().filter(|&&a| network(a)).count();
        shown_top10 += suggestions.len();
        at_rank1 += usize::from(suggestions.first().is_some_and(|&a| network(a)));
        let follows: Vec<ContractEvent> = suggestions
            .iter()
            .take(5)
            .map(|&a| ContractEvent::Follow(probe, a))
            .collect();
        if !follows.is_empty() {
            system.send_events(&follows)?;
        }
        for post in system.feed(probe, 30)? {
            shown_feed += 1;
            network_feed += usize::from(world.post(post).is_some_and(|p| network(p.author)));
        }
    }
    // The same view from personas with an ordinary history (three follows of ordinary
    // adults), so that a layer that merely silenced new accounts would show.
    let ordinary = cast::ordinary_adults(world, truth);
    let (mut history_network, mut history_shown) = (0, 0);
    let mut history_rng = rng_for(world, 11);
    for number in 0..config.probes {
        progress.step("e1: probes with a history", number, config.probes);
        let (Some(&seller), false) = (sellers.choose(&mut history_rng), ordinary.is_empty()) else {
            break;
        };
        let probe =
            system.create_persona(&Persona::adult_probe(format!("history-probe-{number}")))?;
        let mut events: Vec<ContractEvent> = ordinary
            .choose_multiple(&mut history_rng, 3)
            .map(|&a| ContractEvent::Follow(probe, a))
            .collect();
        system.send_events(&events)?;
        events = vec![ContractEvent::View(probe, seller)];
        system.send_events(&events)?;
        let suggestions = system.suggestions(probe, 10)?;
        history_network += suggestions.iter().filter(|&&a| network(a)).count();
        history_shown += suggestions.len();
    }
    // The bystander leak: each distinct visitor of an advocate's profile reads the
    // "similar accounts" strip there.
    let mut visits: Vec<(AccountId, AccountId)> = Vec::new();
    for advocate in truth.roles.iter().filter(|r| r.role == Role::Advocate) {
        let mut seen: HashSet<AccountId> = HashSet::new();
        visits.extend(
            world
                .views
                .iter()
                .filter(|v| v.dst == advocate.account && seen.insert(v.src))
                .map(|v| (advocate.account, v.src)),
        );
    }
    let mut leaked = 0;
    for (done, &(advocate, visitor)) in visits.iter().enumerate() {
        progress.step("e1: advocates' visitors", done, visits.len());
        let strip = system.similar(advocate, visitor, 10)?;
        leaked += usize::from(strip.iter().any(|&a| network(a)));
    }
    let reach = suggestion_reach(world, truth, system, &mut rng, progress)?;
    let base_rate = share(
        truth.roles.iter().filter(|r| r.role.in_network()).count(),
        world.accounts.len(),
    );
    Ok(Metrics::from([
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
            share(at_rank1, config.probes),
        ),
        (Metric::BystanderLeakRate, share(leaked, visits.len())),
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
        (Metric::BystanderVisitors, visits.len() as f64),
    ]))
}

/// Reach kept by one benign community (a parent-run or niche group of the world).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CommunityReach {
    /// `parent_run` or `niche`.
    pub role: &'static str,
    /// The community's group number in the world.
    pub group: u32,
    /// Measured accounts of the community.
    pub accounts: usize,
    /// Top-10 appearances among sampled benign viewers, without a layer.
    pub reach_off: usize,
    /// The same with the layer in front (equal to `reach_off` for a bare system).
    pub reach_on: usize,
    /// `reach_on / reach_off`.
    pub kept: f64,
}

/// How much suggestion reach parent-run and niche accounts keep.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReachReport {
    /// Smallest per-account share kept.
    pub min_kept: f64,
    /// The same over accounts declaring 18 or over.
    pub adult_min_kept: f64,
    /// Accounts keeping under 95%.
    pub losing_over_5pct: usize,
    /// Of those, accounts declaring 18 or over.
    pub adults_losing_over_5pct: usize,
    /// Total reach kept.
    pub total_kept: f64,
    /// Accounts measured.
    pub measured: usize,
    /// Per community.
    pub communities: Vec<CommunityReach>,
}

/// Suggestion reach of parent-run and niche accounts among sampled benign viewers: the
/// system's own top 10 against the top 10 shown with the layer in front, read together.
pub fn suggestion_reach(
    world: &World,
    truth: &GroundTruth,
    system: &mut dyn DiscoverySystem,
    rng: &mut ChaCha8Rng,
    progress: &mut dyn Progress,
) -> Result<ReachReport, SystemError> {
    let mut viewers: Vec<AccountId> = truth
        .roles
        .iter()
        .filter(|r| !r.role.in_network())
        .map(|r| r.account)
        .collect();
    viewers.shuffle(rng);
    viewers.truncate(REACH_VIEWERS);
    let n = world.accounts.len();
    let (mut off, mut on) = (vec![0usize; n], vec![0usize; n]);
    for (done, &viewer) in viewers.iter().enumerate() {
        progress.step("reach: benign viewers", done, viewers.len());
        for account in system.unguarded_suggestions(viewer, 10)? {
            if let Some(count) = off.get_mut(account.index()) {
                *count += 1;
            }
        }
        for account in system.suggestions(viewer, 10)? {
            if let Some(count) = on.get_mut(account.index()) {
                *count += 1;
            }
        }
    }
    let mut report = ReachReport {
        min_kept: 1.0,
        adult_min_kept: 1.0,
        losing_over_5pct: 0,
        adults_losing_over_5pct: 0,
        total_kept: 1.0,
        measured: 0,
        communities: Vec::new(),
    };
    let mut communities: BTreeMap<(&'static str, u32), (usize, usize, usize)> = BTreeMap::new();
    let (mut total_before, mut total_after) = (0usize, 0usize);
    for record in truth
        .roles
        .iter()
        .filter(|r| matches!(r.role, Role::ParentRun | Role::Niche))
    {
        let index = record.account.index();
        let before = off.get(index).copied().unwrap_or(0);
        let after = on.get(index).copied().unwrap_or(0);
        if before < REACH_FLOOR {
            continue;
        }
        report.measured += 1;
        total_before += before;
        total_after += after;
        let community = communities
            .entry((record.role.as_str(), record.group))
            .or_default();
        *community = (community.0 + 1, community.1 + before, community.2 + after);
        let kept = after as f64 / before as f64;
        let adult = !world.declared_minor(record.account);
        report.min_kept = report.min_kept.min(kept);
        if adult {
            report.adult_min_kept = report.adult_min_kept.min(kept);
        }
        if kept < 0.95 {
            report.losing_over_5pct += 1;
            report.adults_losing_over_5pct += usize::from(adult);
        }
    }
    report.total_kept = if total_before == 0 {
        1.0
    } else {
        share(total_after, total_before)
    };
    report.communities = communities
        .into_iter()
        .map(
            |((role, group), (accounts, reach_off, reach_on))| CommunityReach {
                role,
                group,
                accounts,
                reach_off,
                reach_on,
                kept: share(reach_on, reach_off),
            },
        )
        .collect();
    Ok(report)
}

/// E2 through the contract: banned terms behind the interstitial, autocomplete variants,
/// and the sellers an auditor reaches by search alone.
pub fn e2(
    world: &World,
    truth: &GroundTruth,
    system: &mut dyn DiscoverySystem,
    progress: &mut dyn Progress,
) -> Result<Metrics, SystemError> {
    let auditor = system.create_persona(&Persona::adult_probe("auditor".to_string()))?;
    let (mut reachable, mut interstitials) = (0, 0);
    let mut learned: Vec<String> = BANNED_BASES.iter().map(|s| s.to_string()).collect();
    for term in BANNED_BASES {
        let answer = system.search(auditor, term)?;
        interstitials += usize::from(answer.interstitial);
        reachable += answer.accounts.len() + answer.posts.len();
    }
    let (mut prefixes, mut leaking) = (0, 0);
    for term in BANNED_BASES {
        for end in 2..=term.len() {
            let suggestions = system.autocomplete(auditor, &term[..end], 10)?;
            prefixes += 1;
            leaking += usize::from(suggestions.iter().any(|h| truth.is_variant(h)));
            learned.extend(suggestions);
        }
    }
    learned.sort();
    learned.dedup();
    // The auditor snowballs: every learned hashtag, then the hashtags on the posts those
    // searches showed (what a user reading the results would see), results anyway.
    let mut found: HashSet<AccountId> = HashSet::new();
    let mut queried: HashSet<String> = HashSet::new();
    let mut queue = learned;
    let mut round = 0;
    while !queue.is_empty() && round < 2 {
        let mut next = Vec::new();
        for (done, query) in queue.iter().enumerate() {
            progress.step("e2: snowball searches", done, queue.len());
            if !queried.insert(query.clone()) {
                continue;
            }
            let answer = system.search(auditor, query)?;
            found.extend(answer.accounts.iter().copied());
            for post in answer.posts.iter().filter_map(|&p| world.post(p)) {
                found.insert(post.author);
                next.extend(post.hashtags.iter().cloned());
            }
        }
        next.sort();
        next.dedup();
        next.retain(|q| !queried.contains(q));
        queue = next;
        round += 1;
    }
    let sellers = primary_sellers(world, truth);
    let reached = sellers.iter().filter(|s| found.contains(s)).count();
    Ok(Metrics::from([
        (
            Metric::BlockedQueryResults,
            reachable as f64 / BANNED_BASES.len() as f64,
        ),
        (
            Metric::InterstitialShare,
            share(interstitials, BANNED_BASES.len()),
        ),
        (Metric::AutocompleteVariantRate, share(leaking, prefixes)),
        (Metric::SellerReachViaSearch, share(reached, sellers.len())),
        (Metric::SellersTotal, sellers.len() as f64),
    ]))
}
