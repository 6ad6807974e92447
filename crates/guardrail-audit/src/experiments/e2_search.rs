//! E2: what banned-term queries reach behind the interstitial, whether autocomplete offers
//! variants of banned terms, and how many sellers an auditor reaches by search alone.
//!
//! What it must never do: search with knowledge a platform's user would not have. The
//! auditor starts from the banned terms and snowballs through what autocomplete and
//! related hashtags show.

use std::collections::HashSet;

use guardrail_recommend::{QueryDecision, RecommendConfig};
use guardrail_sim::GroundTruth;
use guardrail_sim::vocabulary::BANNED_BASES;
use guardrail_types::AccountId;
use guardrail_world::World;

use super::{Platform, primary_sellers, share};
use crate::guardrails::Guardrails;
use crate::metrics::{Metric, Metrics};

/// E2: what banned-term queries reach behind the interstitial, autocomplete variants, and
/// how many sellers an auditor reaches by search alone.
pub fn run(world: &World, truth: &GroundTruth, layer: &mut dyn Guardrails) -> Metrics {
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
    let mut found: HashSet<AccountId> = HashSet::new();
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
    Metrics::from([
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
    ])
}
