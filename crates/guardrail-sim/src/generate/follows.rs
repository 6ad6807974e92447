//! Phase 4: who follows whom. Ordinary accounts follow popular accounts (minors follow
//! other minors more), parents with child topics follow parent-run accounts; niche
//! communities follow each other densely; sellers follow their ring and its aggregators;
//! buyers follow sellers (mostly of their ring), other buyers, aggregators, parent-run,
//! adult-content and minors' accounts; aggregators follow sellers across rings; and now
//! and then a buyer follows the backup a seller's bio names.
//!
//! What it must never do: let a benign account follow a seller by rule. Ordinary users
//! reach sellers only through what discovery shows them (the experiments' job).

use std::collections::HashMap;

use guardrail_types::{AccountId, Day};
use guardrail_world::AccountEdge;
use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::profiles::People;
use super::roles::{Cast, role_index};
use super::sampling::{Popularity, lognormal_count};
use super::{Progress, Stream, stream};
use crate::config::WorldConfig;
use crate::truth::Role;

/// The follow graph and the popularity later phases sample from.
pub(super) struct Follows {
    /// Follows, sorted by (src, dst), one per pair.
    pub edges: Vec<AccountEdge>,
    /// Popularity weights of ordinary, brand and adult-content accounts.
    pub popularity: Popularity,
}

/// Draws the follow graph.
pub(super) fn follows(
    config: &WorldConfig,
    seed: u64,
    cast: &Cast,
    people: &People,
    days: u32,
    progress: &mut dyn Progress,
) -> Follows {
    let n = cast.roles.len();
    let roles = &cast.roles;
    let accounts = &people.accounts;
    let mut rng = stream(seed, Stream::Follows);
    let popular_pool: Vec<u32> = roles
        .iter()
        // Parent-run accounts are found through their topics (child-topic followers below),
        // not through general popularity.
        .filter(|r| matches!(r.role, Role::Ordinary | Role::Brand | Role::AdultContent))
        .map(|r| r.account.0)
        .collect();
    let popularity = Popularity::new(&popular_pool, config.popularity_exponent, &mut rng);
    let mut follows: Vec<AccountEdge> = Vec::new();
    let follow = |follows: &mut Vec<AccountEdge>, src: u32, dst: u32, rng: &mut ChaCha8Rng| {
        if src != dst {
            follows.push(AccountEdge {
                src: AccountId(src),
                dst: AccountId(dst),
                at: Day(rng.gen_range(0..days.saturating_sub(2).max(1))),
            });
        }
    };
    // Members of each ring by role, computed once (ring lookups are per network account).
    let mut rings_of: HashMap<(usize, u32), Vec<u32>> = HashMap::new();
    for record in roles
        .iter()
        .filter(|r| r.role.in_network() || r.role == Role::Niche)
    {
        rings_of
            .entry((role_index(record.role), record.group))
            .or_default()
            .push(record.account.0);
    }
    let empty: Vec<u32> = Vec::new();
    let ring_members = |role: Role, ring: u32| -> &Vec<u32> {
        rings_of.get(&(role_index(role), ring)).unwrap_or(&empty)
    };
    for record in roles {
        let src = record.account.0;
        match record.role {
            Role::Ordinary => {
                let k = lognormal_count(&mut rng, config.mean_follows);
                let minor = accounts[src as usize].declared_age < 18;
                for _ in 0..k {
                    let dst = if minor && rng.gen_bool(0.6) && !people.minors.is_empty() {
                        people.minors[rng.gen_range(0..people.minors.len())]
                    } else {
                        popularity.sample(&mut rng)
                    };
                    follow(&mut follows, src, dst, &mut rng);
                }
                if people.child_topic.binary_search(&src).is_ok() {
                    for _ in 0..config.child_topic_parent_follows {
                        if let Some(&dst) = cast.of(Role::ParentRun).choose(&mut rng) {
                            follow(&mut follows, src, dst, &mut rng);
                        }
                    }
                    if rng.gen_bool(0.05)
                        && let Some(&dst) = cast.of(Role::Advocate).choose(&mut rng)
                    {
                        follow(&mut follows, src, dst, &mut rng);
                    }
                }
            }
            Role::Niche => {
                for &other in ring_members(Role::Niche, record.group) {
                    if roles[other as usize].group == record.group
                        && other != src
                        && rng.gen_bool(config.niche_density)
                    {
                        follow(&mut follows, src, other, &mut rng);
                    }
                }
                for _ in 0..5 {
                    follow(&mut follows, src, popularity.sample(&mut rng), &mut rng);
                }
            }
            Role::ParentRun | Role::Brand | Role::AdultContent => {
                for _ in 0..10 {
                    follow(&mut follows, src, popularity.sample(&mut rng), &mut rng);
                }
            }
            Role::Advocate => {
                for _ in 0..20 {
                    let dst = if rng.gen_bool(0.5) {
                        cast.of(Role::ParentRun).choose(&mut rng).copied()
                    } else {
                        people.child_topic.choose(&mut rng).copied()
                    };
                    if let Some(dst) = dst {
                        follow(&mut follows, src, dst, &mut rng);
                    }
                }
            }
            Role::Seller => {
                if cast.is_backup[src as usize] {
                    continue;
                }
                for &other in ring_members(Role::Seller, record.group) {
                    if !cast.is_backup[other as usize] && rng.gen_bool(0.3) {
                        follow(&mut follows, src, other, &mut rng);
                    }
                }
                for &aggregator in ring_members(Role::Aggregator, record.group) {
                    follow(&mut follows, src, aggregator, &mut rng);
                }
                if record.camouflaged {
                    for _ in 0..config.camouflage_benign_follows {
                        follow(&mut follows, src, popularity.sample(&mut rng), &mut rng);
                    }
                }
            }
            Role::Buyer => {
                for &seller in ring_members(Role::Seller, record.group) {
                    if !cast.is_backup[seller as usize]
                        && rng.gen_bool(config.buyer_follows_ring_seller)
                    {
                        follow(&mut follows, src, seller, &mut rng);
                    }
                }
                for _ in 0..config.buyer_follows_other_sellers {
                    if let Some(&seller) = cast.primaries.choose(&mut rng) {
                        follow(&mut follows, src, seller, &mut rng);
                    }
                }
                for &other in ring_members(Role::Buyer, record.group) {
                    if rng.gen_bool(config.buyer_follows_ring_buyer) {
                        follow(&mut follows, src, other, &mut rng);
                    }
                }
                for &aggregator in ring_members(Role::Aggregator, record.group) {
                    if rng.gen_bool(0.5) {
                        follow(&mut follows, src, aggregator, &mut rng);
                    }
                }
                for (role, how_many) in [
                    (Role::ParentRun, config.buyer_follows_parent_run),
                    (Role::AdultContent, config.buyer_follows_adult_content),
                ] {
                    for _ in 0..how_many {
                        if let Some(&dst) = cast.of(role).choose(&mut rng) {
                            follow(&mut follows, src, dst, &mut rng);
                        }
                    }
                }
                for _ in 0..config.buyer_follows_minors {
                    if let Some(&dst) = people.minors.choose(&mut rng) {
                        follow(&mut follows, src, dst, &mut rng);
                    }
                }
                let benign = if record.camouflaged {
                    config.camouflage_benign_follows + 5
                } else {
                    5
                };
                for _ in 0..benign {
                    follow(&mut follows, src, popularity.sample(&mut rng), &mut rng);
                }
            }
            Role::Aggregator => {
                for seller in &cast.primaries {
                    let same_ring = roles[*seller as usize].group == record.group;
                    if rng.gen_bool(if same_ring { 0.8 } else { 0.1 }) {
                        follow(&mut follows, src, *seller, &mut rng);
                    }
                }
            }
        }
        if src % 4096 == 0 {
            progress.update("follows", u64::from(src), n as u64);
        }
    }
    // Buyers who read a seller's bio follow the backup it names, now and then.
    for backup in &cast.backups {
        for &buyer in ring_members(Role::Buyer, cast.record(backup.account.0).group) {
            if rng.gen_bool(0.05) {
                follows.push(AccountEdge {
                    src: AccountId(buyer),
                    dst: backup.account,
                    at: Day(days - 1),
                });
            }
        }
    }
    follows.sort_by_key(|e| (e.src, e.dst, e.at));
    follows.dedup_by_key(|e| (e.src, e.dst));
    Follows {
        edges: follows,
        popularity,
    }
}
