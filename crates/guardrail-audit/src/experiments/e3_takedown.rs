//! E3: takedown resilience. Most known sellers are removed; a month runs; sellers return
//! with the backups named in their bios or with new accounts, their former followers find
//! them, and buyers follow what suggestions show them. Does recommendation rebuild the
//! network, and are backups caught?
//!
//! What it must never do: tell the layer which accounts are backups. The layer hears of the
//! takedown (the accounts removed), as a platform's enforcement would tell it.

use std::collections::HashSet;

use guardrail_recommend::{Engagement, EngagementKind, suggested_for_you};
use guardrail_sim::{GroundTruth, Role};
use guardrail_types::{AccountId, Day, Surface};
use guardrail_world::World;
use rand::Rng;
use rand::seq::SliceRandom;

use super::{ExperimentConfig, Platform, cast, days_after, primary_sellers, rng_for, share};
use crate::guardrails::Guardrails;
use crate::metrics::{Metric, Metrics};

/// E3: remove most known sellers, let a month run, and watch recommendations rebuild.
pub fn run(
    world: &World,
    truth: &GroundTruth,
    config: &ExperimentConfig,
    layer: &mut dyn Guardrails,
) -> Metrics {
    let mut rng = rng_for(world, 3);
    let mut platform = Platform::build_gated(world, &config.recommend, layer.gate());
    let mut sellers = primary_sellers(world, truth);
    sellers.sort_unstable();
    let mut shuffled = sellers.clone();
    shuffled.shuffle(&mut rng);
    let removed_count = (sellers.len() as f64 * config.takedown_share).round() as usize;
    let removed: Vec<AccountId> = shuffled[..removed_count.min(shuffled.len())].to_vec();
    let removed_set: HashSet<AccountId> = removed.iter().copied().collect();
    for &seller in &removed {
        platform.index.remove_account(seller);
    }
    layer.take_down(&removed, platform.now);
    // Who followed each removed seller (they know its bio and the backup it names).
    let followers_of = cast::followers_of(world, &removed_set);
    let backup_of = cast::backup_of(truth);
    let ring = |account: AccountId| truth.roles.get(account.index()).map_or(0, |r| r.group);
    // Returns: the listed backup if there is one, else a brand-new account.
    let mut next_id = world.accounts.len() as u32;
    // (new account, original, day it returns)
    let mut returned: Vec<(AccountId, AccountId, Day)> = Vec::new();
    for &seller in &removed {
        if rng.gen_bool(config.return_probability) {
            let account = backup_of.get(&seller).copied().unwrap_or_else(|| {
                next_id += 1;
                AccountId(next_id - 1)
            });
            // Drawn as a 64-bit count: the draw's width is part of the seeded stream.
            let delay = rng.gen_range(1u64..10) as u32;
            returned.push((account, seller, platform.now.plus(delay)));
        }
    }
    platform.index.grow_to(next_id as usize);
    let gate = layer.gate();
    // Backups the layer already refuses to suggest to anyone, right after the takedown.
    let caught = returned
        .iter()
        .map(|r| r.0)
        .filter(|a| a.index() < world.accounts.len())
        .filter(|&a| !gate.allow_candidate(Surface::AccountSuggestions, None, a))
        .count();
    let new_accounts: HashSet<AccountId> = returned.iter().map(|r| r.0).collect();
    let backups_used: HashSet<AccountId> = returned
        .iter()
        .map(|r| r.0)
        .filter(|a| a.index() < world.accounts.len())
        .collect();
    let network_member = |account: AccountId| {
        new_accounts.contains(&account)
            || (truth.in_network(account) && !removed_set.contains(&account))
    };
    let buyers = cast::in_role(truth, Role::Buyer);
    let surviving: Vec<AccountId> = sellers
        .iter()
        .copied()
        .filter(|s| !removed_set.contains(s))
        .collect();
    let mut resurfaced: HashSet<AccountId> = HashSet::new();
    let (mut final_new, mut final_shown) = (0, 0);
    let end = platform.now.plus(config.days_after);
    for day in days_after(platform.now, config.days_after) {
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
    Metrics::from([
        (
            Metric::SurvivingSellerShare,
            share(surviving.len(), sellers.len()),
        ),
        (
            Metric::ActiveSellerShareAfterMonth,
            share(active_sellers, sellers.len()),
        ),
        (Metric::NewSellerAccounts, returned.len() as f64),
        (Metric::RebuildRate, share(final_new, final_shown)),
        (
            Metric::BackupAccountsResurfaced,
            share(resurfaced.len(), backups_used.len()),
        ),
        (
            Metric::BackupAccountsCaught,
            share(caught, backups_used.len()),
        ),
    ])
}
