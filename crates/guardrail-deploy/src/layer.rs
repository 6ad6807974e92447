//! The guardrail layer on a world: every signal built from public data, and the decision
//! engine consulted at each point where the reference discovery systems suggest, rank,
//! autocomplete, list or deliver anything.
//!
//! What it is for: the "on" runs of the audit experiments, `guardrail decide`, and the
//! shape of a real integration. At build time it runs the text guard over every bio, post
//! and search, maps the network from the text guard's confirmed seeds, links accounts into
//! entities (backup handles named in bios, payment handles), and watches hashtags travel
//! with blocked ones (variant clusters). Then:
//! - index time ([`CandidateGate::admit_engagement`]): contamination control (reports,
//!   blocks and engagement with flagged, network or unknown accounts never feed
//!   co-engagement) and the engine's viewer-independent rules;
//! - serving time ([`CandidateGate::allow_candidate`]): the engine's rules for the surface;
//! - queries, autocomplete and related hashtags ([`QueryPolicy`]): blocked queries get no
//!   results at all, restricted and variant tags are never suggested;
//! - ads ([`DeliveryGate`]): no content featuring a minor for viewers with risk signals.
//!
//! Every decision it makes is recorded (up to [`LOG_CAPACITY`]) so that the run can show
//! that shadow mode and backfill reproduce it exactly.
//!
//! What it must never do: read ground truth (it is built from a [`World`] alone), or let an
//! unknown account through: a new account has no signals until it is mapped, and the engine
//! fails closed on it.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashSet};

use guardrail_ads::{Campaign, CreativeClass, DeliveryGate, Viewer};
use guardrail_graph::map::{
    CONFIDENT_SCORE, MapConfig, MapError, NetworkMap, Role as MapRole, build_map,
};
use guardrail_policy::backfill::{RecordedRequest, backfill};
use guardrail_policy::caps::{ActionCaps, ActionLimiter, Alert};
use guardrail_policy::contamination::{Engagement as Touch, feeds_coengagement};
use guardrail_policy::entities::{EntityLinks, Identifier, Label};
use guardrail_policy::variants::{VariantClusters, VariantConfig};
use guardrail_policy::{
    AccountId, AccountSignals, Action, AgeBand, Candidate, Context, Engine, HashSignal,
    NetworkRole, NetworkSignal, Relationship, RuleSet, Surface, Verdict,
};
use guardrail_recommend::{
    CandidateGate, Engagement, EngagementKind, QueryDecision, QueryPolicy,
    Surface as RecommendSurface,
};
use guardrail_sim::World;
use guardrail_sim::guardrails::Guardrails;
use guardrail_text::Policy;

use crate::text::WorldText;
use crate::world_map::{AccountNames, map_input};

/// Decisions recorded per run for the shadow and backfill checks.
pub const LOG_CAPACITY: usize = 50_000;
/// Map score that counts as a network score of 1.0 (twice the membership threshold).
const FULL_NETWORK_SCORE: f64 = 2.0 * CONFIDENT_SCORE;
/// Share of the map score an untied account keeps as its network score.
const UNTIED_SHARE: f64 = 0.25;
/// Logical seconds per logical day (variant clusters and caps count in seconds).
const DAY: u64 = 86_400;

/// The layer's state on one world.
#[derive(Debug)]
pub struct Guard {
    engine: Engine,
    signals: Vec<AccountSignals>,
    follows: HashSet<(u32, u32)>,
    blocks: HashSet<(u32, u32)>,
    reports: HashSet<(u32, u32)>,
    names: AccountNames,
    entities: EntityLinks,
    variants: VariantClusters,
    limiter: ActionLimiter,
    map: Result<NetworkMap, MapError>,
    log: RefCell<Vec<(RecordedRequest, Action)>>,
    decisions: Cell<u64>,
    drops: Cell<u64>,
    fail_closed: Cell<u64>,
}

fn surface_of(surface: RecommendSurface) -> Surface {
    match surface {
        RecommendSurface::AccountSuggestions => Surface::AccountSuggestions,
        RecommendSurface::SimilarAccounts => Surface::SimilarAccounts,
        RecommendSurface::Feed => Surface::Feed,
        RecommendSurface::Search => Surface::Search,
        RecommendSurface::Autocomplete => Surface::Autocomplete,
    }
}

fn network_role(role: MapRole) -> Option<NetworkRole> {
    match role {
        MapRole::Seller => Some(NetworkRole::Seller),
        MapRole::Buyer => Some(NetworkRole::Buyer),
        MapRole::Aggregator => Some(NetworkRole::Aggregator),
        MapRole::Bystander => None,
    }
}

/// Payment handles written `$name-1234` in a bio.
fn payment_handles(bio: &str) -> impl Iterator<Item = &str> {
    bio.split_whitespace()
        .filter(|word| word.starts_with('$') && word.len() > 1)
}

impl Guard {
    /// Builds every signal from the public world and the engine over `rules` and `policy`.
    ///
    /// Never fails: a detector that cannot run leaves its signal unknown, and the engine
    /// fails closed on unknown signals.
    pub fn build(world: &World, policy: Policy, rules: RuleSet) -> Guard {
        let text = WorldText::read(world, &policy);
        let seeds = text.blocked_accounts();
        let input = map_input(world, seeds);
        // A map that cannot be built (no confirmed seed to start from) leaves every
        // account's network signal unknown: the engine then fails closed and says so,
        // rather than reading "no map" as "no network".
        let map = build_map(
            &input,
            &text,
            &MapConfig {
                budget: usize::MAX,
                ..MapConfig::default()
            },
        );
        let mut network: Vec<Option<NetworkSignal>> =
            vec![
                map.as_ref().ok().map(|_| NetworkSignal {
                    score: 0.0,
                    member: false,
                    role: None,
                });
                world.accounts.len()
            ];
        for suspect in map.iter().flat_map(|m| &m.suspects) {
            if let Some(slot) = network.get_mut(suspect.node as usize) {
                // Without a tie of its own (a seed, a text match, a link with seeds or
                // confident suspects) an account is near the network only by structure:
                // worth a reviewer's look, not a risk signal.
                let scale = if suspect.tied { 1.0 } else { UNTIED_SHARE };
                *slot = Some(NetworkSignal {
                    score: (scale * suspect.score / FULL_NETWORK_SCORE).clamp(0.0, 1.0),
                    member: suspect.score >= CONFIDENT_SCORE,
                    role: network_role(suspect.role),
                });
            }
        }
        let mut minors_pushing_back: Vec<HashSet<u32>> = vec![HashSet::new(); world.accounts.len()];
        for edge in world.reports.iter().chain(&world.blocks) {
            if world.declared_minor(edge.src)
                && let Some(set) = minors_pushing_back.get_mut(edge.dst as usize)
            {
                set.insert(edge.src);
            }
        }
        let signals: Vec<AccountSignals> = world
            .accounts
            .iter()
            .map(|account| {
                let id = account.id as usize;
                AccountSignals {
                    id: AccountId(u64::from(account.id)),
                    age: Some(if account.declared_age < 18 {
                        AgeBand::Minor
                    } else {
                        AgeBand::Adult
                    }),
                    features_minors: Some(input.accounts[id].features_minors),
                    text: text.policy_signal(account.id),
                    // The world carries no media: no upload can match a bank.
                    hash: Some(HashSignal {
                        matches: 0,
                        banks: Vec::new(),
                    }),
                    network: network[id].clone(),
                    flagged: Some(false),
                    entity_actioned: Some(false),
                    blocks_reports_from_minors: Some(minors_pushing_back[id].len() as u32),
                }
            })
            .collect();
        let mut entities = EntityLinks::new();
        for account in &world.accounts {
            entities.add_handle(AccountId(u64::from(account.id)), &account.handle);
        }
        for account in &world.accounts {
            let id = AccountId(u64::from(account.id));
            entities.add_bio(id, &account.bio);
            for handle in payment_handles(&account.bio) {
                if let Some(identifier) = Identifier::payment(handle) {
                    entities.add_identifier(id, identifier);
                }
            }
        }
        let mut variants = VariantClusters::new(VariantConfig::default());
        let mut limiter = ActionLimiter::new(ActionCaps::default());
        let mut posts: Vec<&guardrail_sim::world::Post> = world.posts.iter().collect();
        posts.sort_by_key(|p| (p.created_at, p.id));
        for post in posts {
            let tags: Vec<&str> = post.hashtags.iter().map(String::as_str).collect();
            // A tripped cap stops the rule and raises an alert (kept in the limiter); the
            // restrictions already made stay.
            if variants
                .observe_post(
                    &policy,
                    &tags,
                    false,
                    u64::from(post.created_at) * DAY,
                    &mut limiter,
                )
                .is_err()
            {
                break;
            }
        }
        Guard {
            engine: Engine::new(rules, policy),
            signals,
            follows: world.follows.iter().map(|e| (e.src, e.dst)).collect(),
            blocks: world.blocks.iter().map(|e| (e.src, e.dst)).collect(),
            reports: world.reports.iter().map(|e| (e.src, e.dst)).collect(),
            names: AccountNames::new(world),
            entities,
            variants,
            limiter,
            map,
            log: RefCell::new(Vec::new()),
            decisions: Cell::new(0),
            drops: Cell::new(0),
            fail_closed: Cell::new(0),
        }
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The network map the layer built, or why it could not build one (then every
    /// network signal is unknown and decisions that need it fail closed).
    pub fn map(&self) -> Result<&NetworkMap, &MapError> {
        self.map.as_ref()
    }

    /// Alerts raised by capped automated rules.
    pub fn alerts(&self) -> &[Alert] {
        self.limiter.alerts()
    }

    /// Hashtags restricted as variants, waiting for review.
    pub fn variant_review_queue(&self) -> Vec<String> {
        self.variants
            .review_queue()
            .into_iter()
            .map(|r| r.tag.clone())
            .collect()
    }

    /// An account by id or handle.
    pub fn account_by_name(&self, name: &str) -> Option<u32> {
        self.names.resolve(name)
    }

    /// What is known about an account; an account the layer has never seen is unknown.
    pub fn signals_of(&self, account: u32) -> Cow<'_, AccountSignals> {
        match self.signals.get(account as usize) {
            Some(signals) => Cow::Borrowed(signals),
            None => Cow::Owned(AccountSignals::unknown(AccountId(u64::from(account)))),
        }
    }

    /// How a viewer and a candidate are related.
    pub fn relationship(&self, viewer: u32, candidate: u32) -> Relationship {
        Relationship {
            viewer_follows: self.follows.contains(&(viewer, candidate)),
            followed_by: self.follows.contains(&(candidate, viewer)),
            blocked: self.blocks.contains(&(viewer, candidate))
                || self.blocks.contains(&(candidate, viewer)),
            reported: self.reports.contains(&(viewer, candidate)),
        }
    }

    /// Whether a hashtag is restricted as a variant of blocked ones.
    pub fn variant_restricted(&self, tag: &str) -> bool {
        self.variants.restriction(tag).is_some()
    }

    /// Decides an account candidate for a viewer on a surface, and records it.
    pub fn decide_account(&self, surface: Surface, viewer: Option<u32>, candidate: u32) -> Verdict {
        let viewer_signals = viewer.map(|v| self.signals_of(v));
        let candidate_signals = self.signals_of(candidate);
        let context = Context {
            surface,
            viewer: viewer_signals.as_deref(),
            query: None,
        };
        let candidate = Candidate {
            account: Some(&candidate_signals),
            // The item shown is the account itself (or, in the feed, its posts): it
            // features minors exactly when the account's content does.
            features_minors: candidate_signals.features_minors,
            relationship: viewer.map(|v| self.relationship(v, candidate)),
            ..Candidate::default()
        };
        self.decide(&context, &candidate)
    }

    /// Decides a text candidate (an autocomplete suggestion or related hashtag) for what
    /// the user typed, and records it.
    pub fn decide_text(&self, surface: Surface, query: &str, text: &str) -> Verdict {
        let context = Context {
            surface,
            viewer: None,
            query: Some(query),
        };
        let candidate = Candidate {
            text: Some(text),
            variant_restricted: Some(self.variant_restricted(text)),
            ..Candidate::default()
        };
        self.decide(&context, &candidate)
    }

    /// Decides a search query itself (no candidate), and records it.
    pub fn decide_query(&self, query: &str) -> Verdict {
        let context = Context {
            surface: Surface::Search,
            viewer: None,
            query: Some(query),
        };
        self.decide(&context, &Candidate::default())
    }

    /// Decides with the engine, counts the verdict, and records the request while the log
    /// has room (only then is it copied: the serving path reads signals in place).
    fn decide(&self, context: &Context, candidate: &Candidate) -> Verdict {
        let verdict = self.engine.decide(context, candidate);
        self.decisions.set(self.decisions.get() + 1);
        if verdict.action == Action::Drop {
            self.drops.set(self.drops.get() + 1);
        }
        if verdict.fail_closed {
            self.fail_closed.set(self.fail_closed.get() + 1);
        }
        let mut log = self.log.borrow_mut();
        if log.len() < LOG_CAPACITY {
            log.push((RecordedRequest::record(context, candidate), verdict.action));
        }
        verdict
    }

    /// Replays the recorded decisions through the same rules in shadow mode and through a
    /// backfill from "no rules" to these rules, and counts every disagreement with what
    /// was enforced.
    pub fn replay_check(&self) -> ReplayCheck {
        let log = self.log.borrow();
        let shadow = Engine::new(
            self.engine.rules().all_shadow(),
            self.engine.text_policy().clone(),
        );
        let none = Engine::new(
            RuleSet {
                name: "no-rules".to_string(),
                rules: Vec::new(),
                thresholds: self.engine.rules().thresholds,
            },
            self.engine.text_policy().clone(),
        );
        let mut shadow_mismatches = 0;
        for (request, enforced) in log.iter() {
            let verdict = request.decide(&shadow);
            let would = verdict
                .shadow
                .iter()
                .map(|hit| hit.would)
                .max()
                .unwrap_or(Action::Allow);
            if verdict.action != Action::Allow || would != *enforced {
                shadow_mismatches += 1;
            }
        }
        let requests: Vec<RecordedRequest> = log.iter().map(|(r, _)| r.clone()).collect();
        let report = backfill(&none, &self.engine, &requests);
        let changed: BTreeMap<usize, Action> = report
            .changes
            .iter()
            .map(|change| (change.request, change.after))
            .collect();
        let backfill_mismatches = log
            .iter()
            .enumerate()
            .filter(|(index, (_, enforced))| {
                let expected = if *enforced == Action::Allow {
                    None
                } else {
                    Some(*enforced)
                };
                changed.get(index).copied() != expected
            })
            .count();
        ReplayCheck {
            recorded: log.len(),
            shadow_mismatches,
            backfill_mismatches,
        }
    }
}

/// Whether shadow mode and backfill reproduce the enforced decisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayCheck {
    /// Decisions replayed.
    pub recorded: usize,
    /// Decisions where shadow mode would have done something else.
    pub shadow_mismatches: usize,
    /// Decisions where backfill reports something else.
    pub backfill_mismatches: usize,
}

impl CandidateGate for Guard {
    fn admit_engagement(&self, engagement: &Engagement) -> bool {
        let touch = match engagement.kind {
            EngagementKind::Follow => Touch::Follow,
            EngagementKind::View => Touch::View,
            EngagementKind::Like => Touch::Like,
            EngagementKind::Comment => Touch::Comment,
            EngagementKind::Report => Touch::Report,
        };
        let target = self.signals_of(engagement.target);
        if !feeds_coengagement(touch, &target, &self.engine.rules().thresholds).feeds {
            return false;
        }
        // Index-time gating: an account the serving rules would drop for anyone does not
        // enter the index either.
        self.engine
            .index_gate(Surface::AccountSuggestions, &target)
            .action
            != Action::Drop
    }

    fn allow_candidate(
        &self,
        surface: RecommendSurface,
        viewer: Option<u32>,
        candidate: u32,
    ) -> bool {
        self.decide_account(surface_of(surface), viewer, candidate)
            .action
            != Action::Drop
    }
}

impl QueryPolicy for Guard {
    fn decide(&self, query: &str) -> QueryDecision {
        // Blocked queries get no results and help resources, with no way around.
        if self.decide_query(query).action == Action::Drop {
            QueryDecision::Block
        } else {
            QueryDecision::Allow
        }
    }

    fn allow_suggestion(&self, prefix: &str, suggestion: &str) -> bool {
        self.decide_text(Surface::Autocomplete, prefix, suggestion)
            .action
            != Action::Drop
    }
}

impl DeliveryGate for Guard {
    fn allow(&self, campaign: &Campaign, viewer: &Viewer) -> bool {
        let viewer_signals = self.signals_of(viewer.account);
        let context = Context {
            surface: Surface::Feed,
            viewer: Some(&viewer_signals),
            query: None,
        };
        let candidate = Candidate {
            features_minors: Some(campaign.creative == CreativeClass::FeaturesMinor),
            ..Candidate::default()
        };
        self.decide(&context, &candidate).action != Action::Drop
    }
}

impl Guardrails for Guard {
    fn name(&self) -> &str {
        "on"
    }

    fn gate(&self) -> &dyn CandidateGate {
        self
    }

    fn query_policy(&self) -> &dyn QueryPolicy {
        self
    }

    fn delivery_gate(&self) -> &dyn DeliveryGate {
        self
    }

    fn take_down(&mut self, accounts: &[u32], at: u64) {
        for &account in accounts {
            if let Some(signals) = self.signals.get_mut(account as usize) {
                signals.flagged = Some(true);
            }
            self.entities.label(
                AccountId(u64::from(account)),
                Label {
                    reason: "taken down for child sexual exploitation".to_string(),
                    applied_at: at * DAY,
                    expires_at: None,
                },
            );
        }
        // The actioned entity's other accounts (backups named in bios, shared payment
        // handles) inherit the restriction.
        for index in 0..self.signals.len() {
            let id = self.signals[index].id;
            let actioned = !self.entities.labels_at(id, at * DAY).is_empty();
            self.signals[index].entity_actioned = Some(actioned);
        }
    }

    fn run_metrics(&self) -> BTreeMap<String, f64> {
        let check = self.replay_check();
        BTreeMap::from([
            ("decisions".to_string(), self.decisions.get() as f64),
            ("decisions_dropped".to_string(), self.drops.get() as f64),
            (
                "decisions_fail_closed".to_string(),
                self.fail_closed.get() as f64,
            ),
            ("decisions_replayed".to_string(), check.recorded as f64),
            (
                "variant_tags_restricted".to_string(),
                self.variants.review_queue().len() as f64,
            ),
            (
                "shadow_mismatches".to_string(),
                check.shadow_mismatches as f64,
            ),
            (
                "backfill_mismatches".to_string(),
                check.backfill_mismatches as f64,
            ),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use guardrail_sim::{WorldConfig, generate};

    fn small_world() -> World {
        generate(&WorldConfig::default().scaled_to(1_500), 7).0
    }

    fn some_adult(world: &World) -> u32 {
        world
            .accounts
            .iter()
            .find(|a| a.declared_age >= 18)
            .map_or(0, |a| a.id)
    }

    #[test]
    fn without_seeds_the_map_is_unknown_and_decisions_fail_closed() {
        let world = small_world();
        // A policy that matches nothing confirms no seed: the map cannot start.
        let policy = Policy::from_toml("", "empty.toml").expect("empty policy");
        let guard = Guard::build(&world, policy, RuleSet::default_rules());
        assert!(guard.map().is_err());
        let viewer = some_adult(&world);
        let candidate = (viewer + 1) % world.accounts.len() as u32;
        let verdict = guard.decide_account(Surface::AccountSuggestions, Some(viewer), candidate);
        assert_eq!(verdict.action, Action::Drop, "{verdict:?}");
        assert!(verdict.fail_closed, "{verdict:?}");
        assert!(
            verdict.missing.iter().any(|m| m.contains("network")),
            "{verdict:?}"
        );
        // An account the layer has never seen is unknown as well.
        let unseen = guard.decide_account(Surface::Feed, Some(viewer), 9_999_999);
        assert_eq!(unseen.action, Action::Drop);
        assert!(unseen.fail_closed);
    }

    #[test]
    fn takedown_reaches_backups_named_in_bios_and_is_recorded() {
        let world = small_world();
        let policy = crate::platform_policy(&guardrail_sim::vocabulary::BANNED_BASES)
            .expect("platform policy");
        let mut guard = Guard::build(&world, policy, RuleSet::default_rules());
        assert!(guard.map().is_ok_and(|m| !m.suspects.is_empty()));
        // A bio naming a backup handle that belongs to an account of this world.
        let (original, backup) = world
            .accounts
            .iter()
            .find_map(|a| {
                let handle = a.bio.split("backup @").nth(1)?.split_whitespace().next()?;
                Some((a.id, guard.account_by_name(handle)?))
            })
            .expect("a seller naming a backup in its bio");
        assert_eq!(guard.signals_of(backup).entity_actioned, Some(false));
        guard.take_down(&[original], 30);
        assert_eq!(guard.signals_of(original).flagged, Some(true));
        assert_eq!(guard.signals_of(backup).entity_actioned, Some(true));
        let verdict = guard.decide_account(Surface::AccountSuggestions, None, backup);
        assert_eq!(verdict.action, Action::Drop);
        let check = guard.replay_check();
        assert!(check.recorded >= 1);
        assert_eq!((check.shadow_mismatches, check.backfill_mismatches), (0, 0));
    }

    #[test]
    fn coined_variants_are_caught_by_their_company_and_nothing_else_is() {
        let world = generate(&WorldConfig::default(), 3).0;
        let policy = crate::platform_policy(&guardrail_sim::vocabulary::BANNED_BASES)
            .expect("platform policy");
        let guard = Guard::build(&world, policy.clone(), RuleSet::default_rules());
        let coined: Vec<String> = guardrail_sim::vocabulary::BANNED_BASES
            .iter()
            .flat_map(|base| guardrail_sim::vocabulary::variants(base))
            .filter(|(_, pattern)| *pattern == "coined")
            .map(|(tag, _)| tag)
            .collect();
        assert!(!coined.is_empty());
        for tag in &coined {
            // The text guard cannot reach it; variant clusters restrict it.
            let text = guardrail_text::check(&policy, guardrail_text::Surface::Hashtag, tag);
            assert_eq!(text.decision, guardrail_text::Decision::Allow, "{tag}");
            assert!(guard.variant_restricted(tag), "{tag} not restricted");
            let verdict = guard.decide_text(Surface::Autocomplete, &tag[..3], tag);
            assert_eq!(verdict.action, Action::Drop, "{tag}");
        }
        // Every restriction is a coined variant: no benign tag travels with blocked ones
        // often enough to be caught.
        for tag in guard.variant_review_queue() {
            assert!(coined.contains(&tag), "benign tag {tag} restricted");
        }
    }
}
