//! E3 (takedown resilience) and E6 (minors in adults' suggestions, and where predatory
//! adults' contact with minors begins) through the contract: a month simulated day by day,
//! the harness acting for the world's accounts and sending what they do as events.
//!
//! What it must never do: tell the system or the layer which accounts are backups or
//! predators. The takedown is enforcement: the harness removes the taken-down accounts
//! from every answer itself (the platform removed them), and a layer in front hears of it.
//! Contact follows exposure with the same probability whatever showed it.

use std::collections::{BTreeSet, HashMap, HashSet};

use guardrail_sim::{GroundTruth, Role};
use guardrail_types::AccountId;
use guardrail_world::World;
use rand::Rng;
use rand::seq::SliceRandom;

use crate::black_box::{
    ContractEvent, DiscoverySystem, Persona, Progress, SystemError, visible_suggestions,
};
use crate::experiments::{ExperimentConfig, cast, primary_sellers, rng_for, share};
use crate::metrics::{Metric, Metrics};

/// E3 through the contract.
pub fn e3(
    world: &World,
    truth: &GroundTruth,
    config: &ExperimentConfig,
    system: &mut dyn DiscoverySystem,
    progress: &mut dyn Progress,
) -> Result<Metrics, SystemError> {
    let mut rng = rng_for(world, 3);
    let mut sellers = primary_sellers(world, truth);
    sellers.sort_unstable();
    let mut shuffled = sellers.clone();
    shuffled.shuffle(&mut rng);
    let removed_count = (sellers.len() as f64 * config.takedown_share).round() as usize;
    let removed: Vec<AccountId> = shuffled[..removed_count.min(shuffled.len())].to_vec();
    let removed_set: HashSet<AccountId> = removed.iter().copied().collect();
    system.take_down(&removed);
    let followers_of = cast::followers_of(world, &removed_set);
    let backup_of = cast::backup_of(truth);
    let ring = |account: AccountId| truth.roles.get(account.index()).map_or(0, |r| r.group);
    // Returns: the backup named in the bio if there is one, else a new account.
    let mut returned: Vec<(AccountId, AccountId, u32)> = Vec::new();
    for &seller in &removed {
        if rng.gen_bool(config.return_probability) {
            let account = match backup_of.get(&seller) {
                Some(&backup) => backup,
                None => system.create_persona(&Persona {
                    handle: format!("returning-{}", returned.len()),
                    declared_age: 24,
                    gender: "man",
                    interests: Vec::new(),
                })?,
            };
            let delay = rng.gen_range(1u64..10) as u32;
            returned.push((account, seller, delay));
        }
    }
    let backups_used: HashSet<AccountId> = returned
        .iter()
        .map(|r| r.0)
        .filter(|a| a.index() < world.accounts.len())
        .collect();
    let caught = backups_used
        .iter()
        .filter(|&&a| system.refuses_everywhere(a))
        .count();
    let new_accounts: HashSet<AccountId> = returned.iter().map(|r| r.0).collect();
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
    for day in 1..=config.days_after {
        progress.step(
            "e3: days after the takedown",
            day as usize - 1,
            config.days_after as usize,
        );
        let mut events = Vec::new();
        for &(account, original, returns_after) in &returned {
            if returns_after == day {
                events.extend(
                    surviving
                        .iter()
                        .filter(|&&s| ring(s) == ring(original))
                        .map(|&other| ContractEvent::Follow(account, other)),
                );
            }
            if returns_after <= day {
                for &follower in followers_of.get(&original).into_iter().flatten() {
                    if rng.gen_bool(0.05) {
                        events.push(ContractEvent::Follow(follower, account));
                    }
                }
            }
        }
        if !events.is_empty() {
            system.send_events(&events)?;
        }
        for &buyer in &buyers {
            if !rng.gen_bool(0.5) {
                continue;
            }
            let suggestions = visible_suggestions(system, buyer, &removed_set)?;
            let mut follows = Vec::new();
            for &account in &suggestions {
                if backups_used.contains(&account) {
                    resurfaced.insert(account);
                }
                if network_member(account) && rng.gen_bool(config.follow_shown_network) {
                    follows.push(ContractEvent::View(buyer, account));
                    follows.push(ContractEvent::Follow(buyer, account));
                }
            }
            if !follows.is_empty() {
                system.send_events(&follows)?;
            }
            if day == config.days_after {
                final_new += suggestions
                    .iter()
                    .filter(|a| new_accounts.contains(a))
                    .count();
                final_shown += suggestions.len();
            }
        }
    }
    let active_sellers = surviving.len() + returned.len();
    Ok(Metrics::from([
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
    ]))
}

/// E6 through the contract.
pub fn e6(
    world: &World,
    truth: &GroundTruth,
    config: &ExperimentConfig,
    system: &mut dyn DiscoverySystem,
    progress: &mut dyn Progress,
) -> Result<Metrics, SystemError> {
    let mut rng = rng_for(world, 6);
    let minor = |a: AccountId| world.declared_minor(a);
    let connected = cast::connected_pairs(world);
    let mut adults = cast::ordinary_adults(world, truth);
    adults.shuffle(&mut rng);
    adults.truncate(500);
    let mut shown_minor = 0;
    for (done, &adult) in adults.iter().enumerate() {
        progress.step("e6: adults' suggestions", done, adults.len());
        let suggestions = system.suggestions(adult, 10)?;
        shown_minor += usize::from(
            suggestions
                .iter()
                .any(|&s| minor(s) && !connected.contains(&(adult, s))),
        );
    }
    let predators = cast::in_role(truth, Role::Buyer);
    // Whom each predator follows: the world's follows, then the harness's own.
    let mut following: HashMap<AccountId, BTreeSet<AccountId>> = HashMap::new();
    let mut origin: HashMap<(AccountId, AccountId), &'static str> = HashMap::new();
    for edge in &world.follows {
        if predators.binary_search(&edge.src).is_ok() {
            following.entry(edge.src).or_default().insert(edge.dst);
            if minor(edge.dst) {
                origin.insert((edge.src, edge.dst), "follow");
            }
        }
    }
    let queries = cast::minor_interest_queries(world);
    let searched = cast::searches_by_account(world);
    let followers = cast::follower_counts(world);
    let mut contacts: HashMap<&'static str, usize> = HashMap::new();
    let mut contacted: HashSet<(AccountId, AccountId)> = HashSet::new();
    for day in 1..=config.days_after {
        progress.step(
            "e6: days of contact",
            day as usize - 1,
            config.days_after as usize,
        );
        for &predator in &predators {
            if !rng.gen_bool(0.5) {
                continue;
            }
            let mut shown: Vec<(AccountId, &'static str)> = system
                .suggestions(predator, 10)?
                .into_iter()
                .map(|a| (a, "suggestion"))
                .collect();
            let own = searched.get(&predator).filter(|_| rng.gen_bool(0.9));
            let query = match own {
                Some(list) => list.choose(&mut rng),
                None => queries.choose(&mut rng),
            };
            if let Some(query) = query {
                // Search ranks accounts by popularity (followers), as the platform did.
                let mut results = system.search(predator, query)?.accounts;
                results.sort_by_key(|&a| {
                    (
                        std::cmp::Reverse(followers.get(a.index()).copied().unwrap_or(0)),
                        a,
                    )
                });
                shown.extend(results.into_iter().take(10).map(|a| (a, "search")));
            }
            shown.extend(
                following
                    .get(&predator)
                    .into_iter()
                    .flatten()
                    .filter(|&&a| minor(a))
                    .map(|&a| (a, "follow")),
            );
            let mut follows = Vec::new();
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
                    following.entry(predator).or_default().insert(account);
                    follows.push(ContractEvent::Follow(predator, account));
                }
            }
            if !follows.is_empty() {
                system.send_events(&follows)?;
            }
        }
    }
    let total: usize = contacts.values().sum();
    Ok(Metrics::from([
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
    ]))
}
