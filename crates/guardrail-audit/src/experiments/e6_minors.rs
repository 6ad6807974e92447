//! E6: minors in adults' suggestions, and where predatory adults' contacts with minors
//! begin (existing follows, search results, suggestions).
//!
//! What it must never do: let the contact model depend on the layer. Every exposure leads
//! to contact with the same probability, whatever showed it; the layer only changes what
//! is shown.

use std::collections::{HashMap, HashSet};

use guardrail_recommend::{Engagement, EngagementKind, suggested_for_you};
use guardrail_sim::{GroundTruth, Role};
use guardrail_types::AccountId;
use guardrail_world::World;
use rand::Rng;
use rand::seq::SliceRandom;

use super::{ExperimentConfig, Platform, cast, days_after, rng_for, share};
use crate::guardrails::Guardrails;
use crate::metrics::{Metric, Metrics};

/// E6: minors in adults' suggestions, and where predatory adults' contacts with minors began.
pub fn run(
    world: &World,
    truth: &GroundTruth,
    config: &ExperimentConfig,
    layer: &mut dyn Guardrails,
) -> Metrics {
    let mut rng = rng_for(world, 6);
    let mut platform = Platform::build_gated(world, &config.recommend, layer.gate());
    let gate = layer.gate();
    let policy = layer.query_policy();
    let minor = |a: AccountId| world.declared_minor(a);
    let connected = cast::connected_pairs(world);
    let mut adults = cast::ordinary_adults(world, truth);
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
    let predators = cast::in_role(truth, Role::Buyer);
    let mut origin: HashMap<(AccountId, AccountId), &'static str> = HashMap::new();
    for edge in world
        .follows
        .iter()
        .filter(|e| minor(e.dst) && predators.binary_search(&e.src).is_ok())
    {
        origin.insert((edge.src, edge.dst), "follow");
    }
    let queries = cast::minor_interest_queries(world);
    let searched = cast::searches_by_account(world);
    let followers = cast::follower_counts(world);
    let mut contacts: HashMap<&'static str, usize> = HashMap::new();
    let mut contacted: HashSet<(AccountId, AccountId)> = HashSet::new();
    for day in days_after(platform.now, config.days_after) {
        for &predator in &predators {
            if !rng.gen_bool(0.5) {
                continue;
            }
            let mut shown: Vec<(AccountId, &'static str)> =
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
                        std::cmp::Reverse(followers.get(a.index()).copied().unwrap_or(0)),
                        a,
                    )
                });
                shown.extend(results.into_iter().take(10).map(|a| (a, "search")));
            }
            let followed: Vec<AccountId> = platform
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
    Metrics::from([
        (
            Metric::MinorSuggestionsToUnconnectedAdults,
            share(shown_minor, adults.len()),
        ),
        (
            Metric::InappropriateContactViaSuggestions,
            share(contacts.get("suggestion").copied().unwrap_or(0), total),
        ),
        (
            Metric::InappropriateContactViaSearch,
            share(contacts.get("search").copied().unwrap_or(0), total),
        ),
        (Metric::InappropriateContacts, total as f64),
    ])
}
