//! The derived state a guard decides on, as one immutable, versioned snapshot.
//!
//! What it is for: every signal the decision engine reads about accounts (text, network
//! map score, membership and role, declared age, minor-featuring content, pushback from
//! minors, entity actions), the relations between accounts (follows, blocks, reports),
//! the names accounts go by, the people behind linked accounts, and the hashtags
//! restricted as variants of blocked ones. [`Snapshot::from_world`] builds it from a
//! world's public tables; the guard swaps a new snapshot in atomically while requests are in
//! flight, and each decision reads one snapshot from start to end.
//!
//! What it must never do: change once published (a takedown builds the next snapshot),
//! or read ground truth (it is built from a [`World`] alone). An account it has never seen
//! is unknown, and the engine fails closed on it.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Arc;

use guardrail_graph::map::{CONFIDENT_SCORE, MapConfig, MapError, NetworkMap};
use guardrail_policy::caps::{ActionCaps, ActionLimiter, Alert};
use guardrail_policy::entities::{EntityLinks, Identifier};
use guardrail_policy::variants::{VariantClusters, VariantConfig};
use guardrail_policy::{AccountSignals, HashSignal, NetworkSignal, Relationship};
use guardrail_text::Policy;
use guardrail_types::AccountId;
use guardrail_world::{Post, World};

use crate::world_map::{AccountNames, MapSources, account_of};

/// Map score that counts as a network score of 1.0 (twice the membership threshold).
const FULL_NETWORK_SCORE: f64 = 2.0 * CONFIDENT_SCORE;
/// Share of the map score an untied account keeps as its network score.
const UNTIED_SHARE: f64 = 0.25;

/// Follows, blocks and reports between accounts, as pairs `(actor, target)`.
#[derive(Debug, Clone, Default)]
pub struct Relations {
    follows: HashSet<(AccountId, AccountId)>,
    blocks: HashSet<(AccountId, AccountId)>,
    reports: HashSet<(AccountId, AccountId)>,
}

impl Relations {
    /// How a viewer and a candidate are related.
    pub fn between(&self, viewer: AccountId, candidate: AccountId) -> Relationship {
        Relationship {
            viewer_follows: self.follows.contains(&(viewer, candidate)),
            followed_by: self.follows.contains(&(candidate, viewer)),
            blocked: self.blocks.contains(&(viewer, candidate))
                || self.blocks.contains(&(candidate, viewer)),
            reported: self.reports.contains(&(viewer, candidate)),
        }
    }
}

/// One published version of the derived state.
#[derive(Debug, Clone)]
pub struct Snapshot {
    version: u64,
    signals: Vec<AccountSignals>,
    entities: EntityLinks,
    relations: Arc<Relations>,
    names: Arc<AccountNames>,
    variants: Arc<VariantClusters>,
    alerts: Arc<Vec<Alert>>,
    map: Arc<Result<NetworkMap, MapError>>,
}

/// Payment handles written `$name-1234` in a bio.
fn payment_handles(bio: &str) -> impl Iterator<Item = &str> {
    bio.split_whitespace()
        .filter(|word| word.starts_with('$') && word.len() > 1)
}

impl Snapshot {
    /// Builds every signal from the public world (version 1).
    ///
    /// Never fails: a detector that cannot run leaves its signal unknown, and the engine
    /// fails closed on unknown signals.
    pub fn from_world(world: &World, policy: &Policy) -> Snapshot {
        let sources = MapSources::read(world, policy, None);
        // A map that cannot be built (no confirmed seed to start from) leaves every
        // account's network signal unknown: the engine then fails closed and says so,
        // rather than reading "no map" as "no network".
        let map = sources.map(&MapConfig {
            budget: usize::MAX,
            ..MapConfig::default()
        });
        let network = network_signals(world.accounts.len(), &map);
        let mut minors_pushing_back: Vec<HashSet<AccountId>> =
            vec![HashSet::new(); world.accounts.len()];
        for edge in world.reports.iter().chain(&world.blocks) {
            if world.declared_minor(edge.src)
                && let Some(set) = minors_pushing_back.get_mut(edge.dst.index())
            {
                set.insert(edge.src);
            }
        }
        let signals: Vec<AccountSignals> = world
            .accounts
            .iter()
            .map(|account| {
                let row = account.id.index();
                AccountSignals {
                    id: account.id,
                    age: Some(account.age_band()),
                    features_minors: Some(sources.input.accounts[row].features_minors),
                    text: sources.text.policy_signal(account.id),
                    // The world carries no media: no upload can match a bank.
                    hash: Some(HashSignal {
                        matches: 0,
                        banks: Vec::new(),
                    }),
                    network: network[row].clone(),
                    flagged: Some(false),
                    entity_actioned: Some(false),
                    blocks_reports_from_minors: Some(minors_pushing_back[row].len() as u32),
                }
            })
            .collect();
        let mut entities = EntityLinks::new();
        for account in &world.accounts {
            entities.add_handle(account.id, &account.handle);
        }
        for account in &world.accounts {
            entities.add_bio(account.id, &account.bio);
            for handle in payment_handles(&account.bio) {
                if let Some(identifier) = Identifier::payment(handle) {
                    entities.add_identifier(account.id, identifier);
                }
            }
        }
        let mut variants = VariantClusters::new(VariantConfig::default());
        let mut limiter = ActionLimiter::new(ActionCaps::default());
        let mut posts: Vec<&Post> = world.posts.iter().collect();
        posts.sort_by_key(|p| (p.created_at, p.id));
        for post in posts {
            let tags: Vec<&str> = post.hashtags.iter().map(String::as_str).collect();
            // A tripped cap stops the rule and raises an alert (kept in the limiter); the
            // restrictions already made stay.
            if variants
                .observe_post(policy, &tags, false, post.created_at.start(), &mut limiter)
                .is_err()
            {
                break;
            }
        }
        let pairs = |edges: &[guardrail_world::AccountEdge]| {
            edges.iter().map(|e| (e.src, e.dst)).collect::<HashSet<_>>()
        };
        Snapshot {
            version: 1,
            signals,
            entities,
            relations: Arc::new(Relations {
                follows: pairs(&world.follows),
                blocks: pairs(&world.blocks),
                reports: pairs(&world.reports),
            }),
            names: Arc::new(AccountNames::new(world)),
            variants: Arc::new(variants),
            alerts: Arc::new(limiter.alerts().to_vec()),
            map: Arc::new(map),
        }
    }

    /// The ledger sequence (or build number) this snapshot reflects.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// What is known about an account; an account never seen is unknown.
    pub fn signals_of(&self, account: AccountId) -> Cow<'_, AccountSignals> {
        match self.signals.get(account.index()) {
            Some(signals) => Cow::Borrowed(signals),
            None => Cow::Owned(AccountSignals::unknown(account)),
        }
    }

    /// How a viewer and a candidate are related.
    pub fn relationship(&self, viewer: AccountId, candidate: AccountId) -> Relationship {
        self.relations.between(viewer, candidate)
    }

    /// Whether a hashtag is restricted as a variant of blocked ones.
    pub fn variant_restricted(&self, tag: &str) -> bool {
        self.variants.restriction(tag).is_some()
    }

    /// Hashtags restricted as variants, waiting for review.
    pub fn variant_review_queue(&self) -> Vec<String> {
        self.variants
            .review_queue()
            .into_iter()
            .map(|r| r.tag.clone())
            .collect()
    }

    /// Alerts raised by capped automated rules while the snapshot was built.
    pub fn alerts(&self) -> &[Alert] {
        &self.alerts
    }

    /// The network map, or why it could not be built (then every network signal is
    /// unknown and decisions that need it fail closed).
    pub fn map(&self) -> Result<&NetworkMap, &MapError> {
        self.map.as_ref().as_ref()
    }

    /// An account by id or handle.
    pub fn account_by_name(&self, name: &str) -> Option<AccountId> {
        self.names.resolve(name)
    }

    /// The next version of this snapshot, for a writer to change and publish.
    pub(crate) fn next_version(&self) -> Snapshot {
        let mut next = self.clone();
        next.version += 1;
        next
    }

    pub(crate) fn signals_mut(&mut self) -> &mut [AccountSignals] {
        &mut self.signals
    }

    pub(crate) fn entities_mut(&mut self) -> &mut EntityLinks {
        &mut self.entities
    }
}

/// The network signal of every account from the map: unknown for all when there is no map.
fn network_signals(
    accounts: usize,
    map: &Result<NetworkMap, MapError>,
) -> Vec<Option<NetworkSignal>> {
    let mut network: Vec<Option<NetworkSignal>> = vec![
        map.as_ref().ok().map(|_| NetworkSignal {
            score: 0.0,
            member: false,
            role: None,
        });
        accounts
    ];
    for suspect in map.iter().flat_map(|m| &m.suspects) {
        if let Some(slot) = network.get_mut(account_of(suspect.node).index()) {
            // Without a tie of its own (a seed, a text match, a link with seeds or
            // confident suspects) an account is near the network only by structure:
            // worth a reviewer's look, not a risk signal.
            let scale = if suspect.tied { 1.0 } else { UNTIED_SHARE };
            *slot = Some(NetworkSignal {
                score: (scale * suspect.score / FULL_NETWORK_SCORE).clamp(0.0, 1.0),
                member: suspect.score >= CONFIDENT_SCORE,
                role: suspect.role.in_network().then_some(suspect.role),
            });
        }
    }
    network
}
