//! Entity links on generated worlds: built from the public tables (handles, bios,
//! identifiers) the way the adapter's `Deriver` builds them, accounts added in creation
//! order, and scored against ground truth. (Here because it needs the generator's truth.)
//!
//! What it measures: the share of backup accounts whose entity holds their seller right
//! after the backup is created (the moment a takedown label should reach it), and links
//! between benign strangers that only share a provider, a mailbox name pattern, a
//! look-alike mailbox or handle, or a library computer (there must be none). Households
//! sharing a tablet are counted, not forbidden: a linker cannot tell them from one person.

use std::collections::{HashMap, HashSet};

use guardrail_policy::entities::{EmailRules, EntityConfig, EntityLinks, Identifier, LinkKind};
use guardrail_sim::truth::CollisionKind;
use guardrail_sim::{GroundTruth, WorldConfig, generate};
use guardrail_types::AccountId;
use guardrail_world::World;

/// What one world gave.
#[derive(Debug, Default)]
struct Figures {
    backups: usize,
    linked_at_creation: usize,
    /// Backups linked, by the strongest kind joining them to their seller.
    by_kind: HashMap<LinkKind, usize>,
    /// Benign accounts of different people in one entity, not a household.
    false_benign_links: Vec<(AccountId, AccountId)>,
    households: usize,
    households_linked: usize,
    /// Collision pairs (not households) whose accounts ended in one entity.
    collisions_linked: HashMap<CollisionKind, (usize, usize)>,
    lookalike_handles: usize,
    lookalike_handles_linked: usize,
    /// Network accounts of different people in one entity (sellers' bio payment handles
    /// can collide by chance).
    network_cross_person: usize,
}

/// Adds one account as `Deriver::derive` does for a world: handle, bio (backup handles and
/// the payment handles written in it), then the identifiers table's rows.
fn add_account(
    links: &mut EntityLinks,
    rules: &EmailRules,
    world: &World,
    identifiers: &HashMap<AccountId, Vec<(&str, &str)>>,
    account: AccountId,
) {
    let record = &world.accounts[account.index()];
    links.add_handle(account, &record.handle);
    links.add_bio(account, &record.bio);
    for word in record
        .bio
        .split_whitespace()
        .filter(|w| w.starts_with('$') && w.len() > 1)
    {
        if let Some(identifier) = Identifier::payment(word) {
            links.add_identifier(account, identifier);
        }
    }
    for (kind, value) in identifiers.get(&account).into_iter().flatten() {
        if let Some(identifier) = Identifier::parse(kind, value, rules) {
            links.add_identifier(account, identifier);
        }
    }
}

fn measure(world: &World, truth: &GroundTruth, config: EntityConfig) -> (Figures, EntityLinks) {
    let mut identifiers: HashMap<AccountId, Vec<(&str, &str)>> = HashMap::new();
    for row in &world.identifiers {
        identifiers
            .entry(row.account)
            .or_default()
            .push((row.kind.as_str(), row.value.as_str()));
    }
    let seller_of: HashMap<AccountId, AccountId> = truth
        .backups
        .iter()
        .map(|b| (b.account, b.backup_of))
        .collect();
    let mut order: Vec<AccountId> = world.accounts.iter().map(|a| a.id).collect();
    order.sort_by_key(|a| (world.accounts[a.index()].created_at, *a));
    let rules = config.email.clone();
    let mut links = EntityLinks::with_config(config);
    let mut figures = Figures::default();
    for &account in &order {
        add_account(&mut links, &rules, world, &identifiers, account);
        if let Some(&seller) = seller_of.get(&account) {
            figures.backups += 1;
            if links.members(account).contains(&seller) {
                figures.linked_at_creation += 1;
                let strongest = links
                    .links(account)
                    .into_iter()
                    .find(|l| l.merged && (l.a == seller || l.b == seller))
                    .map(|l| l.kind);
                if let Some(kind) = strongest {
                    *figures.by_kind.entry(kind).or_default() += 1;
                }
            }
        }
    }
    let households: HashSet<(AccountId, AccountId)> = truth
        .collisions
        .iter()
        .filter(|c| c.kind == CollisionKind::HouseholdDevice)
        .flat_map(|c| [(c.a, c.b), (c.b, c.a)])
        .collect();
    for account in &world.accounts {
        let a = account.id;
        for b in links.members(a) {
            if b <= a || truth.person(a) == truth.person(b) {
                continue;
            }
            if truth.in_network(a) && truth.in_network(b) {
                figures.network_cross_person += 1;
            } else if !households.contains(&(a, b)) {
                figures.false_benign_links.push((a, b));
            }
        }
    }
    for collision in &truth.collisions {
        let joined = links.members(collision.a).contains(&collision.b);
        if collision.kind == CollisionKind::HouseholdDevice {
            figures.households += 1;
            figures.households_linked += usize::from(joined);
        } else {
            let entry = figures.collisions_linked.entry(collision.kind).or_default();
            entry.0 += 1;
            entry.1 += usize::from(joined && truth.person(collision.a) != truth.person(collision.b));
        }
    }
    // Look-alike handles in the accounts table itself: one character apart.
    let mut buckets: HashMap<(usize, String), Vec<AccountId>> = HashMap::new();
    for account in &world.accounts {
        let chars: Vec<char> = account.handle.chars().collect();
        for position in 0..chars.len() {
            let mut masked = chars.clone();
            masked[position] = '*';
            buckets
                .entry((position, masked.into_iter().collect()))
                .or_default()
                .push(account.id);
        }
    }
    for group in buckets.values().filter(|g| g.len() > 1) {
        for (i, &a) in group.iter().enumerate() {
            for &b in &group[i + 1..] {
                figures.lookalike_handles += 1;
                if links.members(a).contains(&b) && truth.person(a) != truth.person(b) {
                    figures.lookalike_handles_linked += 1;
                }
            }
        }
    }
    (figures, links)
}

#[test]
fn backups_link_to_their_seller_when_created_and_benign_strangers_never_link() {
    for seed in 1..=3 {
        let (world, truth) = generate(&WorldConfig::default(), seed);
        let (figures, _) = measure(&world, &truth, EntityConfig::default());
        let share = figures.linked_at_creation as f64 / figures.backups.max(1) as f64;
        println!(
            "seed {seed}: {} of {} backups linked to their seller at creation ({:.1}%), by kind {:?}; \
             households linked {} of {}; collisions linked (pairs, linked) {:?}; \
             look-alike handle pairs {} (linked {}); network cross-person links {}; benign false links {}",
            figures.linked_at_creation,
            figures.backups,
            100.0 * share,
            {
                let mut kinds: Vec<_> = figures.by_kind.iter().map(|(k, n)| (k.as_str(), *n)).collect();
                kinds.sort();
                kinds
            },
            figures.households_linked,
            figures.households,
            {
                let mut kinds: Vec<_> = figures
                    .collisions_linked
                    .iter()
                    .map(|(k, n)| (k.as_str(), *n))
                    .collect();
                kinds.sort();
                kinds
            },
            figures.lookalike_handles,
            figures.lookalike_handles_linked,
            figures.network_cross_person,
            figures.false_benign_links.len(),
        );
        assert!(figures.backups >= 50, "seed {seed}: {} backups", figures.backups);
        assert!(share >= 0.9, "seed {seed}: only {share:.3} of backups linked at creation");
        assert!(
            figures.false_benign_links.is_empty(),
            "seed {seed}: benign strangers linked: {:?}",
            &figures.false_benign_links[..figures.false_benign_links.len().min(10)]
        );
        for kind in [
            CollisionKind::PublicDevice,
            CollisionKind::LookalikeEmail,
            CollisionKind::NamePatternEmail,
            CollisionKind::StrictProviderDots,
        ] {
            let (pairs, linked) = figures.collisions_linked.get(&kind).copied().unwrap_or((0, 0));
            assert!(pairs > 0, "seed {seed}: the world has no {kind:?} pairs to test");
            assert_eq!(linked, 0, "seed {seed}: {kind:?} pairs linked");
        }
        assert_eq!(figures.lookalike_handles_linked, 0, "seed {seed}");
        assert!(figures.households > 0, "seed {seed}: no households to test");
    }
}

#[test]
fn the_measure_sees_false_links_when_the_rules_are_wrong() {
    // A linker that ignored dots at every provider, and never stopped at a fan-out, would
    // merge the strict provider's `x.y` and `xy` and everyone on a library computer: the
    // same measure must catch both.
    let (world, truth) = generate(&WorldConfig::default(), 1);
    let domains = ["quillpost.invalid", "postmail.invalid", "gmail.com"];
    let config = EntityConfig {
        email: EmailRules::new(domains, domains),
        fan_out: usize::MAX,
    };
    let (figures, _) = measure(&world, &truth, config);
    let linked = |kind| figures.collisions_linked.get(&kind).map_or(0, |n| n.1);
    assert!(linked(CollisionKind::StrictProviderDots) > 0);
    assert!(linked(CollisionKind::PublicDevice) > 0);
    assert!(!figures.false_benign_links.is_empty());
}
