//! Who plays which part in an experiment, read once: the accounts of a role, the ordinary
//! adults, whom predators search for, who follows whom. Shared by the built-in experiments
//! and the black-box ones, so both cast the same accounts in the same order.
//!
//! What it must never do: hand any of this to a layer or a system under audit. These are
//! the harness's own choices (from ground truth) and its scoring aids.

use std::collections::{BTreeSet, HashMap, HashSet};

use guardrail_sim::{GroundTruth, Role};
use guardrail_types::AccountId;
use guardrail_world::World;

/// Every account of `role`, in id order.
pub(crate) fn in_role(truth: &GroundTruth, role: Role) -> Vec<AccountId> {
    truth
        .roles
        .iter()
        .filter(|r| r.role == role)
        .map(|r| r.account)
        .collect()
}

/// Ordinary accounts that do not declare themselves minors, in id order.
pub(crate) fn ordinary_adults(world: &World, truth: &GroundTruth) -> Vec<AccountId> {
    in_role(truth, Role::Ordinary)
        .into_iter()
        .filter(|&a| !world.declared_minor(a))
        .collect()
}

/// Both directions of every follow: who is already connected.
pub(crate) fn connected_pairs(world: &World) -> HashSet<(AccountId, AccountId)> {
    let mut connected = HashSet::with_capacity(world.follows.len() * 2);
    for edge in &world.follows {
        connected.insert((edge.src, edge.dst));
        connected.insert((edge.dst, edge.src));
    }
    connected
}

/// The topics minors declare, sorted: what a predator without its own history searches.
pub(crate) fn minor_interest_queries(world: &World) -> Vec<String> {
    world
        .accounts
        .iter()
        .filter(|a| a.declared_age < 18)
        .flat_map(|a| a.interests.iter().cloned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// Each account's own searches in the world's history, in order.
pub(crate) fn searches_by_account(world: &World) -> HashMap<AccountId, Vec<String>> {
    let mut searched: HashMap<AccountId, Vec<String>> = HashMap::new();
    for search in &world.searches {
        searched
            .entry(search.account)
            .or_default()
            .push(search.query.clone());
    }
    searched
}

/// Followers per account (search ranks accounts by popularity, as the platform did).
pub(crate) fn follower_counts(world: &World) -> Vec<u32> {
    let mut followers = vec![0u32; world.accounts.len()];
    for edge in &world.follows {
        if let Some(count) = followers.get_mut(edge.dst.index()) {
            *count += 1;
        }
    }
    followers
}

/// Who followed each of `accounts` (they know its bio and the backup it names).
pub(crate) fn followers_of(
    world: &World,
    accounts: &HashSet<AccountId>,
) -> HashMap<AccountId, Vec<AccountId>> {
    let mut followers: HashMap<AccountId, Vec<AccountId>> = HashMap::new();
    for edge in world.follows.iter().filter(|e| accounts.contains(&e.dst)) {
        followers.entry(edge.dst).or_default().push(edge.src);
    }
    followers
}

/// The backup account each seller names in its bio.
pub(crate) fn backup_of(truth: &GroundTruth) -> HashMap<AccountId, AccountId> {
    truth
        .backups
        .iter()
        .map(|b| (b.backup_of, b.account))
        .collect()
}
