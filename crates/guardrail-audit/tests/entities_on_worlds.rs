//! Entity linking on generated worlds, scored against ground truth. (Here because it needs
//! the generator's truth; production crates never see it.)
//!
//! What it measures, through the production path: each world's accounts enter the ledger
//! as `account_created` events (identifiers included, as `world ingest` writes them) and
//! the adapter's `Deriver` follows the fold event by event. Before the last day, when the
//! backups are created, every primary seller is labelled (a `label_applied` event, as a
//! takedown writes it). Then, right after each backup's creation is folded:
//! - is its entity the seller's (linked at creation), and
//! - does it carry the label (`entity_actioned`) with a chain of links that explains it?
//! - and did the sign-up probe, asked just before, find that label?
//!
//! At the end, over every pair of accounts: precision and recall of "same entity" against
//! "same person", links between benign strangers that only share a provider, a mailbox
//! name pattern, a look-alike mailbox or handle, or a library computer (there must be
//! none), and benign accounts the sellers' labels reach (there must be none). Households
//! sharing a tablet are counted apart: a linker cannot tell them from one person.
//!
//! Numbers go to BENCHMARKS.md ("Entity linking"); `cargo nextest run -p guardrail-audit
//! --test entities_on_worlds --no-capture` prints them. `GUARDRAIL_ENTITY_ACCOUNTS=N`
//! measures worlds of N accounts instead of the default 10,000 (not run in CI).

use std::collections::{BTreeMap, HashMap, HashSet};

use guardrail_adapter::{Deriver, Signup, platform_policy};
use guardrail_ledger::event::{AccountCreated, Event, LabelApplied, Payload};
use guardrail_ledger::ingest::{account_key, world_events};
use guardrail_ledger::state::LedgerState;
use guardrail_policy::entities::{EmailRules, EntityConfig, EntityLinks, Identifier};
use guardrail_sim::truth::CollisionKind;
use guardrail_sim::vocabulary::BANNED_BASES;
use guardrail_sim::{GroundTruth, Role, WorldConfig, generate};
use guardrail_types::{AccountId, Timestamp};
use guardrail_world::{IdentifierKind, World};

/// The world's account-creation events only: they carry every identifier, and the rest
/// of the world (posts, follows, views) plays no part in linking.
fn creation_events(world: &World) -> Vec<Event> {
    let accounts_only = World {
        meta: world.meta.clone(),
        accounts: world.accounts.clone(),
        identifiers: world.identifiers.clone(),
        posts: Vec::new(),
        follows: Vec::new(),
        views: Vec::new(),
        likes: Vec::new(),
        comments: Vec::new(),
        searches: Vec::new(),
        reports: Vec::new(),
        blocks: Vec::new(),
    };
    world_events(&accounts_only)
}

/// What happened to the backups as they were created.
#[derive(Debug, Default)]
struct AtCreation {
    backups: usize,
    /// Backups whose entity held their seller right after their creation was folded.
    linked: usize,
    /// Backups that carried a seller's label from their creation, with a chain of links.
    labelled: usize,
    /// Backups whose sign-up probe, asked just before their creation, found their
    /// seller's label.
    signup_inherits: usize,
    /// Backups linked, by the kinds of link on the chain to their seller.
    by_chain: BTreeMap<String, usize>,
}

/// The entities at the end, against the truth.
#[derive(Debug, Default)]
struct Final {
    /// Pairs of accounts in one entity.
    linked_pairs: usize,
    /// Pairs of accounts of one person.
    true_pairs: usize,
    /// Pairs both.
    correct_pairs: usize,
    households: usize,
    households_linked: usize,
    /// Per collision kind (households aside): pairs in the world, pairs linked.
    collisions: BTreeMap<&'static str, (usize, usize)>,
    lookalike_handles: usize,
    lookalike_handles_linked: usize,
    /// Network accounts of two people in one entity, with the evidence of the first few.
    network_cross_person: usize,
    network_examples: Vec<String>,
    /// Payment handles written in the bios of more than one person (the generator draws
    /// sellers' four-digit handles independently, so a few coincide and join two rings'
    /// sellers, truly sharing a payout handle).
    bio_handles_shared: usize,
    /// Benign accounts of different people in one entity, not a household.
    false_benign_links: Vec<(AccountId, AccountId)>,
    /// Benign accounts a seller's label reaches.
    benign_labelled: usize,
}

impl Final {
    fn precision(&self) -> f64 {
        self.correct_pairs as f64 / self.linked_pairs.max(1) as f64
    }
    fn precision_without_households(&self) -> f64 {
        let linked = self.linked_pairs - self.households_linked;
        self.correct_pairs as f64 / linked.max(1) as f64
    }
    fn recall(&self) -> f64 {
        self.correct_pairs as f64 / self.true_pairs.max(1) as f64
    }
}

/// Replays a world's creations through the ledger and the deriver, labelling primary
/// sellers before the backups arrive. Returns what the backups met, the deriver, and each
/// world account's id in the ledger.
fn replay(world: &World, truth: &GroundTruth) -> (AtCreation, Deriver, Vec<AccountId>) {
    let policy = platform_policy(&BANNED_BASES).expect("platform policy");
    let seller_of: HashMap<String, AccountId> = truth
        .backups
        .iter()
        .map(|b| (account_key(b.account), b.backup_of))
        .collect();
    let primary_sellers: Vec<AccountId> = world
        .accounts
        .iter()
        .map(|a| a.id)
        .filter(|&a| truth.role(a) == Role::Seller && truth.person(a) == a)
        .collect();
    let events = creation_events(world);
    let first_backup = events
        .iter()
        .position(|e| match &e.payload {
            Payload::AccountCreated(c) => seller_of.contains_key(&c.account),
            _ => false,
        })
        .expect("the world has backups");
    let label_at = events[first_backup].at - 1;
    let labels = primary_sellers.iter().map(|&seller| {
        Event::new(
            format!("label-{seller}"),
            label_at,
            Payload::LabelApplied(LabelApplied {
                account: account_key(seller),
                label: "csea.seller".into(),
                reason: "sold exploitation material (takedown)".into(),
                actor: "reviewer-eval".into(),
                expires_at: None,
            }),
        )
    });
    let stream: Vec<Event> = events[..first_backup]
        .iter()
        .cloned()
        .chain(labels)
        .chain(events[first_backup..].iter().cloned())
        .collect();

    let mut state = LedgerState::new();
    let mut deriver = Deriver::from_ledger(&state, &policy, None);
    let mut figures = AtCreation::default();
    for (index, event) in stream.iter().enumerate() {
        // The sign-up decision, asked before the account exists.
        if let Payload::AccountCreated(created) = &event.payload
            && let Some(&seller) = seller_of.get(&created.account)
        {
            let seller = state
                .account_id(&account_key(seller))
                .expect("created before");
            let probe = deriver.signup_probe(&signup_of(created));
            if probe.probe.labels.iter().any(|l| l.applied_to == seller) {
                figures.signup_inherits += 1;
            }
        }
        let folded = state.fold(index as u64 + 1, event);
        deriver.follow(&state, &folded);
        let Payload::AccountCreated(created) = &event.payload else {
            continue;
        };
        let Some(&seller) = seller_of.get(&created.account) else {
            continue;
        };
        let backup = state.account_id(&created.account).expect("just created");
        let seller = state
            .account_id(&account_key(seller))
            .expect("created before");
        figures.backups += 1;
        let entities = deriver.entities();
        if !entities.members(backup).contains(&seller) {
            continue;
        }
        figures.linked += 1;
        let now = Timestamp(state.latest_at);
        let explained = entities.explain_labels(backup, now);
        let actioned = deriver
            .snapshot()
            .signals_of(backup)
            .entity_actioned
            .unwrap_or(false);
        if let Some(through_seller) = explained.iter().find(|e| e.applied_to == seller)
            && actioned
        {
            figures.labelled += 1;
            let chain: Vec<&str> = through_seller
                .path
                .iter()
                .map(|l| l.kind.as_str())
                .collect();
            *figures.by_chain.entry(chain.join("+")).or_default() += 1;
        }
    }
    let ids = world
        .accounts
        .iter()
        .map(|a| state.account_id(&account_key(a.id)).expect("ingested"))
        .collect();
    (figures, deriver, ids)
}

/// The sign-up form behind an account's creation.
fn signup_of(created: &AccountCreated) -> Signup<'_> {
    let kinds = [
        (IdentifierKind::Email, &created.emails),
        (IdentifierKind::Phone, &created.phones),
        (IdentifierKind::Device, &created.devices),
        (IdentifierKind::Payment, &created.payment_handles),
    ];
    Signup {
        handle: &created.handle,
        bio: &created.bio,
        country: created.country.as_deref().unwrap_or(""),
        identifiers: kinds
            .into_iter()
            .flat_map(|(kind, values)| values.iter().map(move |v| (kind, v.as_str())))
            .collect(),
    }
}

/// Scores the entities `links` holds (world account `a` is `ids[a]` there) against the
/// truth; `actioned` says whether an account carries a label.
fn score(
    world: &World,
    truth: &GroundTruth,
    links: &EntityLinks,
    ids: &[AccountId],
    actioned: &dyn Fn(AccountId) -> bool,
) -> Final {
    let world_id: HashMap<AccountId, AccountId> = ids
        .iter()
        .enumerate()
        .map(|(row, &id)| (id, AccountId(row as u32)))
        .collect();
    let mut persons: HashMap<AccountId, usize> = HashMap::new();
    for account in &world.accounts {
        *persons.entry(truth.person(account.id)).or_default() += 1;
    }
    let mut figures = Final {
        true_pairs: persons.values().map(|&n| n * (n - 1) / 2).sum(),
        ..Final::default()
    };
    let households: HashSet<(AccountId, AccountId)> = truth
        .collisions
        .iter()
        .filter(|c| c.kind == CollisionKind::HouseholdDevice)
        .flat_map(|c| [(c.a, c.b), (c.b, c.a)])
        .collect();
    for account in &world.accounts {
        let a = account.id;
        if !truth.in_network(a) && actioned(ids[a.index()]) {
            figures.benign_labelled += 1;
        }
        for member in links.members(ids[a.index()]) {
            let b = world_id[&member];
            if b <= a {
                continue;
            }
            figures.linked_pairs += 1;
            if truth.person(a) == truth.person(b) {
                figures.correct_pairs += 1;
            } else if truth.in_network(a) && truth.in_network(b) {
                figures.network_cross_person += 1;
                if figures.network_examples.len() < 3 {
                    let evidence: Vec<String> = links
                        .links(ids[a.index()])
                        .into_iter()
                        .filter(|l| l.merged)
                        .map(|l| l.evidence)
                        .collect();
                    figures
                        .network_examples
                        .push(format!("{a} ~ {b}: {}", evidence.join(" | ")));
                }
            } else if !households.contains(&(a, b)) {
                figures.false_benign_links.push((a, b));
            }
        }
    }
    for collision in &truth.collisions {
        let joined = links
            .members(ids[collision.a.index()])
            .contains(&ids[collision.b.index()]);
        if collision.kind == CollisionKind::HouseholdDevice {
            figures.households += 1;
            figures.households_linked += usize::from(joined);
        } else {
            let entry = figures
                .collisions
                .entry(collision.kind.as_str())
                .or_default();
            entry.0 += 1;
            entry.1 += usize::from(joined);
        }
    }
    let mut bio_handles: HashMap<String, HashSet<AccountId>> = HashMap::new();
    for account in &world.accounts {
        for word in account
            .bio
            .split_whitespace()
            .filter(|w| w.starts_with('$'))
        {
            bio_handles
                .entry(word.to_lowercase())
                .or_default()
                .insert(truth.person(account.id));
        }
    }
    figures.bio_handles_shared = bio_handles.values().filter(|p| p.len() > 1).count();
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
                let joined = links.members(ids[a.index()]).contains(&ids[b.index()]);
                if joined && truth.person(a) != truth.person(b) {
                    figures.lookalike_handles_linked += 1;
                }
            }
        }
    }
    figures
}

fn accounts() -> Option<u32> {
    std::env::var("GUARDRAIL_ENTITY_ACCOUNTS").ok().map(|n| {
        n.parse()
            .expect("GUARDRAIL_ENTITY_ACCOUNTS: a number of accounts")
    })
}

#[test]
fn backups_are_linked_and_labelled_at_creation_and_benign_strangers_never_link() {
    let config = match accounts() {
        Some(n) => WorldConfig::default().scaled_to(n),
        None => WorldConfig::default(),
    };
    for seed in 1..=3 {
        let (world, truth) = generate(&config, seed);
        let started = std::time::Instant::now();
        let (at_creation, deriver, ids) = replay(&world, &truth);
        let replayed = started.elapsed();
        let snapshot = deriver.snapshot();
        let actioned =
            |account: AccountId| snapshot.signals_of(account).entity_actioned == Some(true);
        let end = score(&world, &truth, deriver.entities(), &ids, &actioned);
        let share = |n: usize| n as f64 / at_creation.backups.max(1) as f64;
        println!(
            "seed {seed}, {} accounts, {} identifier rows: backups linked to their seller at \
             creation {}/{} ({:.1}%), labelled at creation {}/{} ({:.1}%), sign-up probe \
             found the seller's label {}/{}, chains {:?}; \
             pairs: precision {:.3} ({:.3} without households), recall {:.3} \
             ({} linked, {} true, {} both); households linked {}/{}; other collisions \
             (pairs, linked) {:?}; look-alike handle pairs {} (linked {}); network \
             cross-person pairs {} (payment handles in two people's bios: {}) {:?}; benign \
             false links {}; benign accounts labelled {}; \
             replay {:.1}s",
            world.accounts.len(),
            world.identifiers.len(),
            at_creation.linked,
            at_creation.backups,
            100.0 * share(at_creation.linked),
            at_creation.labelled,
            at_creation.backups,
            100.0 * share(at_creation.labelled),
            at_creation.signup_inherits,
            at_creation.backups,
            at_creation.by_chain,
            end.precision(),
            end.precision_without_households(),
            end.recall(),
            end.linked_pairs,
            end.true_pairs,
            end.correct_pairs,
            end.households_linked,
            end.households,
            end.collisions,
            end.lookalike_handles,
            end.lookalike_handles_linked,
            end.network_cross_person,
            end.bio_handles_shared,
            end.network_examples,
            end.false_benign_links.len(),
            end.benign_labelled,
            replayed.as_secs_f64(),
        );
        assert!(
            at_creation.backups >= 50,
            "seed {seed}: {} backups",
            at_creation.backups
        );
        assert!(
            share(at_creation.linked) >= 0.9,
            "seed {seed}: only {} of {} backups linked at creation",
            at_creation.linked,
            at_creation.backups
        );
        assert_eq!(
            at_creation.labelled, at_creation.linked,
            "seed {seed}: a backup linked to a labelled seller must carry the label, with its chain"
        );
        assert_eq!(
            at_creation.signup_inherits, at_creation.labelled,
            "seed {seed}: the sign-up probe must find what creation then links"
        );
        assert!(
            end.false_benign_links.is_empty(),
            "seed {seed}: benign strangers linked: {:?}",
            &end.false_benign_links[..end.false_benign_links.len().min(10)]
        );
        assert_eq!(
            end.benign_labelled, 0,
            "seed {seed}: labels reached benign accounts"
        );
        for kind in [
            CollisionKind::PublicDevice,
            CollisionKind::LookalikeEmail,
            CollisionKind::NamePatternEmail,
            CollisionKind::StrictProviderDots,
        ] {
            let (pairs, linked) = end.collisions.get(kind.as_str()).copied().unwrap_or((0, 0));
            assert!(
                pairs > 0,
                "seed {seed}: the world has no {kind:?} pairs to test"
            );
            assert_eq!(linked, 0, "seed {seed}: {kind:?} pairs linked");
        }
        assert_eq!(end.lookalike_handles_linked, 0, "seed {seed}");
        assert!(end.households > 0, "seed {seed}: no households to test");
        assert!(
            end.recall() >= 0.9,
            "seed {seed}: recall {:.3}",
            end.recall()
        );
    }
}

#[test]
fn the_measure_sees_false_links_when_the_rules_are_wrong() {
    // A linker that ignored dots at every provider and never stopped at a fan-out would
    // merge the strict provider's `x.y` and `xy` and everyone on a library computer: the
    // same score must catch both.
    let (world, truth) = generate(&WorldConfig::default().scaled_to(4_000), 1);
    let domains = ["quillpost.invalid", "postmail.invalid", "boxmail.invalid"];
    let rules = EmailRules::new(domains, domains);
    let mut links = EntityLinks::with_config(EntityConfig {
        email: rules.clone(),
        fan_out: usize::MAX,
    });
    for record in &world.identifiers {
        if let Some(identifier) = Identifier::parse(record.kind.as_str(), &record.value, &rules) {
            links.add_identifier(record.account, identifier);
        }
    }
    let ids: Vec<AccountId> = world.accounts.iter().map(|a| a.id).collect();
    let end = score(&world, &truth, &links, &ids, &|_| false);
    let linked = |kind: CollisionKind| end.collisions.get(kind.as_str()).map_or(0, |n| n.1);
    assert!(
        linked(CollisionKind::StrictProviderDots) > 0,
        "{:?}",
        end.collisions
    );
    assert!(
        linked(CollisionKind::PublicDevice) > 0,
        "{:?}",
        end.collisions
    );
    assert!(!end.false_benign_links.is_empty());
    assert!(end.precision() < 0.5, "precision {:.3}", end.precision());
}
