//! The writer of snapshots: derived state built from a platform's data, kept up to date
//! event by event, and published as immutable [`Snapshot`]s.
//!
//! What it is for: three ways to the same state. [`Deriver::from_world`] reads a world
//! folder's public tables (the audit's platform). [`Deriver::from_ledger`] reads the
//! ledger's folded state (a rebuild). [`Deriver::apply`] takes one event the ledger has
//! just folded and updates only what it touches: a new account is known as soon as its
//! creation is folded, with its network signal unknown until the next map; follows,
//! blocks and reports change relations; posts and profile changes re-read text and
//! feature flags; labels and takedowns reach the accounts linked to the person. A property
//! test holds `apply` to `from_ledger` on random event streams.
//!
//! What it must never do: read ground truth, block readers (it publishes copies), or
//! give a new account a network signal the map never computed.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use guardrail_graph::map::{CONFIDENT_SCORE, MapConfig, NetworkMap};
use guardrail_ledger::event::{Event, Payload};
use guardrail_ledger::state::{AccountRecord, Folded, LedgerState};
use guardrail_policy::caps::{ActionCaps, ActionLimiter};
use guardrail_policy::entities::{Candidate, EntityLinks, Identifier, Label, Probe};
use guardrail_policy::variants::{VariantClusters, VariantConfig};
use guardrail_policy::{AccountSignals, AgeBand, HashSignal, NetworkSignal};
use guardrail_text::Policy;
use guardrail_types::{AccountId, Timestamp};
use guardrail_world::{IdentifierKind, Post, World};

use crate::persistent::{ChunkedVec, LayeredMap, LayeredSet};
use crate::snapshot::{MapOutcome, Names, Relations, Snapshot};
use crate::text::AccountText;
use crate::text::WorldText;
use crate::world_map::{MapSources, account_of, map_input};

/// An account about to be created, as a sign-up form carries it (raw identifiers).
#[derive(Debug, Clone, Default)]
pub struct Signup<'a> {
    /// The handle chosen.
    pub handle: &'a str,
    /// The bio.
    pub bio: &'a str,
    /// The declared country (two letters), for phone numbers written nationally.
    pub country: &'a str,
    /// Emails, phones, devices and payment handles as entered.
    pub identifiers: Vec<(IdentifierKind, &'a str)>,
}

/// What [`Deriver::signup_probe`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct SignupProbe {
    /// The id the account would get.
    pub account: AccountId,
    /// Its links and the labels it would inherit, with their chains.
    pub probe: Probe,
    /// Accounts of the entities it would join that were taken down.
    pub taken_down: Vec<AccountId>,
}

/// Who a label from [`Deriver::take_down`] names as its actor (the platform's own
/// enforcement, not a reviewer of this system).
pub const TAKEDOWN_ACTOR: &str = "platform takedown";
/// Map score that counts as a network score of 1.0 (twice the membership threshold).
const FULL_NETWORK_SCORE: f64 = 2.0 * CONFIDENT_SCORE;
/// Share of the map score an untied account keeps as its network score.
const UNTIED_SHARE: f64 = 0.25;

/// The working state behind published snapshots.
#[derive(Debug, Clone)]
pub struct Deriver {
    policy: Policy,
    snapshot: Snapshot,
    texts: Vec<AccountText>,
    features_minors: Vec<bool>,
    pushback: HashMap<AccountId, HashSet<AccountId>>,
    flagged: HashSet<AccountId>,
    entities: EntityLinks,
    variants: VariantClusters,
    limiter: ActionLimiter,
    now: Timestamp,
    next_expiry: Option<Timestamp>,
    /// The ledger's label records already applied to `entities`.
    labels_seen: usize,
}

/// Payment handles written `$name-1234` in a bio.
fn payment_handles(bio: &str) -> impl Iterator<Item = &str> {
    bio.split_whitespace()
        .filter(|word| word.starts_with('$') && word.len() > 1)
}

/// The map over a world (the budget is unbounded: every account gets its score).
pub fn map_world(sources: &MapSources, version: u64) -> MapOutcome {
    // Fault injection (tests only): the map builder faults.
    fail::fail_point!("map::build");
    MapOutcome {
        map: sources.map(&MapConfig {
            budget: usize::MAX,
            ..MapConfig::default()
        }),
        accounts: sources.input.accounts.len(),
        version,
    }
}

/// Whether applying an event can change derived state beyond the clock: the kinds
/// [`Deriver::apply`] ignores (views, likes, comments, Guardrail's own records of reports,
/// decisions, tokens, users and banks) cannot. A follower may fold those into the ledger's
/// state without publishing a new snapshot.
pub fn changes_derived_state(payload: &Payload) -> bool {
    !matches!(
        payload,
        Payload::View(_)
            | Payload::Like(_)
            | Payload::Comment(_)
            | Payload::ReportReceived(_)
            | Payload::ReportTransition(_)
            | Payload::ReviewDecision(_)
            | Payload::RulesPublished(_)
            | Payload::DecisionLogged(_)
            | Payload::ReportPrioritized(_)
            | Payload::AlertRaised(_)
            | Payload::ReferralStep(_)
            | Payload::EvidenceViewed(_)
            | Payload::RegistryImported(_)
            | Payload::PolicyPublished(_)
            | Payload::TokenCreated(_)
            | Payload::TokenRevoked(_)
            | Payload::UserCreated(_)
            | Payload::BankChanged(_)
    )
}

impl Deriver {
    /// Builds every signal from a world folder's public tables (version 1).
    ///
    /// Never fails: a detector that cannot run leaves its signal unknown, and the engine
    /// fails closed on unknown signals.
    pub fn from_world(world: &World, policy: &Policy) -> Deriver {
        let sources = MapSources::read(world, policy, None);
        let map = Arc::new(map_world(&sources, 1));
        // World folders observe posts by day, then id: the order they were published in.
        let mut posts: Vec<&Post> = world.posts.iter().collect();
        posts.sort_by_key(|p| (p.created_at, p.id));
        Deriver::derive(world, policy, sources, map, &posts, None)
    }

    /// Builds every signal from the ledger's state, with `map` (a fresh one when `None`).
    pub fn from_ledger(
        state: &LedgerState,
        policy: &Policy,
        map: Option<Arc<MapOutcome>>,
    ) -> Deriver {
        // Fault injection (tests only): deriving the snapshot faults.
        fail::fail_point!("snapshot::load");
        let world = state.world();
        let sources = MapSources::read(&world, policy, None);
        let map = map.unwrap_or_else(|| Arc::new(map_world(&sources, state.last_seq)));
        // The ledger observes posts in the order it received them, as `apply` does.
        let posts: Vec<&Post> = world.posts.iter().collect();
        Deriver::derive(&world, policy, sources, map, &posts, Some(state))
    }

    /// A re-map: a fresh network map over the ledger's state (PPR, communities, roles),
    /// published in place with [`Deriver::set_map`]. The text already read is reused, so a
    /// re-map costs the map, not another pass of the text guard over every text, and
    /// nothing else is derived again: every other signal already follows the ledger event
    /// by event (a test holds the result to a rebuild).
    pub fn remap(&mut self, state: &LedgerState) {
        let world = state.world();
        let text = WorldText::from_accounts(self.texts.clone());
        let input = map_input(&world, text.blocked_accounts());
        let sources = MapSources { text, input };
        self.set_map(map_world(&sources, state.last_seq));
    }

    /// Publishes a network map computed elsewhere (the single-node engine, or the dataflow
    /// that follows the ledger): every account's network signal is read from it again, and
    /// accounts it does not cover carry "network signal unknown".
    pub fn set_map(&mut self, map: MapOutcome) {
        let network = network_signals(self.snapshot.signals.len(), &map);
        for (index, signal) in network.into_iter().enumerate() {
            let account = AccountId(index as u32);
            let current = self.snapshot.signals.get(index).map(|s| &s.network);
            if current != Some(&signal)
                && let Some(signals) = self.snapshot.signals_mut(account)
            {
                signals.network = signal;
            }
        }
        self.snapshot.map = Arc::new(map);
    }

    fn derive(
        world: &World,
        policy: &Policy,
        sources: MapSources,
        map: Arc<MapOutcome>,
        posts: &[&Post],
        ledger: Option<&LedgerState>,
    ) -> Deriver {
        let n = world.accounts.len();
        let network = network_signals(n, &map);
        let mut pushback: HashMap<AccountId, HashSet<AccountId>> = HashMap::new();
        for edge in world.reports.iter().chain(&world.blocks) {
            if world.declared_minor(edge.src) && edge.dst.index() < n {
                pushback.entry(edge.dst).or_default().insert(edge.src);
            }
        }
        let features_minors: Vec<bool> = sources
            .input
            .accounts
            .iter()
            .map(|a| a.features_minors)
            .collect();
        let texts = sources.text.into_accounts();
        let mut entities = EntityLinks::new();
        if let Some(state) = ledger {
            // Former handles first: a bio naming an old handle still names the account.
            for (index, record) in state.accounts.iter().enumerate() {
                for handle in &record.former_handles {
                    entities.add_handle(AccountId(index as u32), handle);
                }
            }
        }
        for account in &world.accounts {
            entities.add_handle(account.id, &account.handle);
        }
        if let Some(state) = ledger {
            // A bio changed since still linked its account when it was up.
            for (index, record) in state.accounts.iter().enumerate() {
                for bio in &record.former_bios {
                    link_bio(&mut entities, AccountId(index as u32), bio);
                }
            }
        }
        for account in &world.accounts {
            link_bio(&mut entities, account.id, &account.bio);
        }
        if ledger.is_none() {
            // A world folder's identifiers (the ledger's records carry them otherwise).
            for record in &world.identifiers {
                let country = world
                    .accounts
                    .get(record.account.index())
                    .map_or("", |a| a.country.as_str());
                link_identifiers(
                    &mut entities,
                    record.account,
                    country,
                    [(record.kind, record.value.as_str())],
                );
            }
        }
        let mut flagged = HashSet::new();
        let mut now = Timestamp(0);
        if let Some(state) = ledger {
            for (index, record) in state.accounts.iter().enumerate() {
                link_identifiers(
                    &mut entities,
                    AccountId(index as u32),
                    &record.country,
                    record_identifiers(record),
                );
            }
            for label in &state.labels {
                entities.label(label.account, label_of(label));
            }
            flagged.extend(state.takedowns.keys().copied());
            now = Timestamp(state.latest_at);
        }
        let mut variants = VariantClusters::new(VariantConfig::default());
        let mut limiter = ActionLimiter::new(ActionCaps::default());
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
        let external: HashMap<String, AccountId> = match ledger {
            Some(state) => state
                .accounts
                .iter()
                .enumerate()
                .map(|(index, record)| (record.external.clone(), AccountId(index as u32)))
                .collect(),
            None => HashMap::new(),
        };
        let names: Vec<Option<Arc<str>>> = match ledger {
            Some(state) => state
                .accounts
                .iter()
                .map(|record| Some(Arc::from(record.external.as_str())))
                .collect(),
            None => vec![None; n],
        };
        let signals: Vec<AccountSignals> = world
            .accounts
            .iter()
            .map(|account| {
                let row = account.id.index();
                AccountSignals {
                    id: account.id,
                    name: names.get(row).cloned().flatten(),
                    age: Some(account.age_band()),
                    features_minors: Some(features_minors[row]),
                    text: Some(texts[row].policy_signal()),
                    // No upload has matched a bank yet: banks are matched at upload time.
                    hash: Some(HashSignal {
                        matches: 0,
                        banks: Vec::new(),
                    }),
                    network: network[row].clone(),
                    flagged: Some(flagged.contains(&account.id)),
                    entity_actioned: Some(!entities.labels_at(account.id, now).is_empty()),
                    blocks_reports_from_minors: Some(
                        pushback.get(&account.id).map_or(0, |s| s.len() as u32),
                    ),
                }
            })
            .collect();
        let pairs = |edges: &[guardrail_world::AccountEdge]| {
            edges.iter().map(|e| (e.src, e.dst)).collect::<HashSet<_>>()
        };
        let handles: HashMap<String, AccountId> = world
            .accounts
            .iter()
            .map(|a| (a.handle.to_lowercase(), a.id))
            .collect();
        let next_expiry = entities.next_expiry_after(now);
        let mut deriver = Deriver {
            policy: policy.clone(),
            snapshot: Snapshot {
                version: ledger.map_or(1, |s| s.last_seq),
                signals: ChunkedVec::from_vec(signals),
                relations: Relations {
                    follows: LayeredSet::from_set(pairs(&world.follows)),
                    blocks: LayeredSet::from_set(pairs(&world.blocks)),
                    reports: LayeredSet::from_set(pairs(&world.reports)),
                },
                names: Names {
                    handles: LayeredMap::from_map(handles),
                    external: LayeredMap::from_map(external),
                    accounts: n,
                    dense_ids_are_names: ledger.is_none(),
                },
                variant_restricted: Arc::default(),
                variant_queue: Arc::default(),
                alerts: Arc::new(limiter.alerts().to_vec()),
                map,
            },
            texts,
            features_minors,
            pushback,
            flagged,
            entities,
            variants,
            limiter,
            now,
            next_expiry,
            labels_seen: ledger.map_or(0, |state| state.labels.len()),
        };
        deriver.refresh_variants();
        deriver
    }

    /// The snapshot as it stands (a cheap copy).
    pub fn snapshot(&self) -> Snapshot {
        self.snapshot.clone()
    }

    /// The platform time of the last event folded (labels in force are read at it).
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// The entities behind accounts as they stand: members, links with their evidence,
    /// and the labels that reach each account ([`EntityLinks::explain_labels`]).
    pub fn entities(&self) -> &EntityLinks {
        &self.entities
    }

    /// The sign-up decision's view of entities: what an account about to be created with
    /// this handle, bio and raw identifiers (a national phone read in `country`) would link
    /// to and the labels in force it would inherit now, and the accounts of those entities
    /// the platform took down. Payment handles written in the bio count, as for accounts.
    pub fn signup_probe(&self, signup: &Signup<'_>) -> SignupProbe {
        let mut identifiers: Vec<Identifier> = signup
            .identifiers
            .iter()
            .filter_map(|&(kind, raw)| identifier_of(&self.entities, kind, raw, signup.country))
            .collect();
        identifiers.extend(payment_handles(signup.bio).filter_map(Identifier::payment));
        identifiers.sort();
        identifiers.dedup();
        let candidate = Candidate {
            account: AccountId(self.snapshot.signals.len() as u32),
            handle: signup.handle,
            bio: signup.bio,
            identifiers: &identifiers,
        };
        let probe = self.entities.probe(&candidate, self.now);
        let mut taken_down: Vec<AccountId> = probe
            .links
            .iter()
            .filter(|l| l.merged)
            .flat_map(|l| {
                self.entities
                    .members(if l.a == candidate.account { l.b } else { l.a })
            })
            .filter(|a| self.flagged.contains(a))
            .collect();
        taken_down.sort_unstable();
        taken_down.dedup();
        SignupProbe {
            account: candidate.account,
            probe,
            taken_down,
        }
    }

    /// The map the snapshot's network signals come from.
    pub fn map(&self) -> Arc<MapOutcome> {
        self.snapshot.map.clone()
    }

    /// The platform took these accounts down at `at`: flags them and labels the person
    /// behind each, so every account linked to them (backups named in bios, shared
    /// identifiers) carries the action from now on.
    pub fn take_down(&mut self, accounts: &[AccountId], at: Timestamp, label: &str, reason: &str) {
        for &account in accounts {
            self.flagged.insert(account);
            if let Some(signals) = self.snapshot.signals_mut(account) {
                signals.flagged = Some(true);
            }
            self.entities.label(
                account,
                Label {
                    name: label.to_string(),
                    reason: reason.to_string(),
                    actor: TAKEDOWN_ACTOR.to_string(),
                    applied_at: at,
                    expires_at: None,
                },
            );
        }
        self.now = self.now.max(at);
        self.refresh_entity_actions();
    }

    /// Publishes the current state as the next version.
    pub fn next_snapshot(&mut self) -> Snapshot {
        self.snapshot.version += 1;
        self.snapshot.clone()
    }

    /// Follows one fold of the ledger: applies the events it applied, in order, and moves
    /// the derived clock to the ledger's latest time even when the event waits (labels
    /// lapse with time, not with events).
    pub fn follow(&mut self, state: &LedgerState, folded: &Folded) {
        for (seq, event) in &folded.applied {
            self.apply(state, *seq, event);
        }
        self.sync_clock(state);
    }

    /// Moves the derived clock to the ledger's latest time; labels that lapsed by then stop
    /// counting.
    pub fn sync_clock(&mut self, state: &LedgerState) {
        self.snapshot.version = self.snapshot.version.max(state.last_seq);
        self.now = self.now.max(Timestamp(state.latest_at));
        if self.next_expiry.is_some_and(|expiry| expiry <= self.now) {
            self.refresh_entity_actions();
        }
    }

    /// Applies one event the ledger has just folded into `state` (which resolves its
    /// platform ids). Events pending in the ledger are not applied until the ledger
    /// applies them.
    pub fn apply(&mut self, state: &LedgerState, seq: u64, event: &Event) {
        self.snapshot.version = self.snapshot.version.max(seq);
        // Derived state is read at the ledger's latest time: labels in force then count.
        self.now = self.now.max(Timestamp(state.latest_at));
        let id = |external: &str| state.account_id(external);
        match &event.payload {
            Payload::AccountCreated(created) => {
                let Some(account) = id(&created.account) else {
                    return;
                };
                if account.index() != self.snapshot.signals.len() {
                    // Created again (the ledger kept the first): nothing new to derive.
                    return;
                }
                self.add_account(state, account);
            }
            Payload::ProfileUpdated(update) => {
                let Some(account) = id(&update.account) else {
                    return;
                };
                let Some(record) = state.account(account) else {
                    return;
                };
                if let Some(handle) = &update.handle {
                    let old: Vec<String> = self
                        .snapshot
                        .names
                        .handles
                        .to_map()
                        .into_iter()
                        .filter(|(_, v)| *v == account)
                        .map(|(k, _)| k)
                        .collect();
                    for handle in old {
                        self.snapshot.names.handles.remove(&handle);
                    }
                    self.snapshot
                        .names
                        .handles
                        .insert(handle.to_lowercase(), account);
                    self.entities.add_handle(account, handle);
                }
                if let Some(bio) = &update.bio {
                    link_bio(&mut self.entities, account, bio);
                }
                let kinds = [
                    (IdentifierKind::Email, &update.emails),
                    (IdentifierKind::Phone, &update.phones),
                    (IdentifierKind::Device, &update.devices),
                    (IdentifierKind::Payment, &update.payment_handles),
                ];
                link_identifiers(
                    &mut self.entities,
                    account,
                    &record.country,
                    kinds
                        .into_iter()
                        .flat_map(|(kind, values)| values.iter().map(move |v| (kind, v.as_str()))),
                );
                self.reread_text(state, account, &record.bio);
                let changed = self.entities.take_changed();
                self.refresh_entity_actions_of(&changed);
            }
            Payload::Follow(action) => {
                if let (Some(src), Some(dst)) = (id(&action.account), id(&action.target)) {
                    self.snapshot.relations.follows.insert((src, dst));
                }
            }
            Payload::Unfollow(action) => {
                if let (Some(src), Some(dst)) = (id(&action.account), id(&action.target)) {
                    self.snapshot.relations.follows.remove(&(src, dst));
                }
            }
            Payload::Block(action) | Payload::ReportAccount(action) => {
                if let (Some(src), Some(dst)) = (id(&action.account), id(&action.target)) {
                    let set = if matches!(event.payload, Payload::Block(_)) {
                        &mut self.snapshot.relations.blocks
                    } else {
                        &mut self.snapshot.relations.reports
                    };
                    set.insert((src, dst));
                    let minor = state
                        .account(src)
                        .is_some_and(|a| AgeBand::of_age(a.declared_age) == AgeBand::Minor);
                    if minor {
                        let minors = self.pushback.entry(dst).or_default();
                        minors.insert(src);
                        let count = minors.len() as u32;
                        if let Some(signals) = self.snapshot.signals_mut(dst) {
                            signals.blocks_reports_from_minors = Some(count);
                        }
                    }
                }
            }
            Payload::Post(post) => {
                let Some(author) = id(&post.account) else {
                    return;
                };
                let Some(post_id) = state.post_id(&post.post) else {
                    return;
                };
                let Some(record) = state.posts.get(post_id.index()) else {
                    return;
                };
                if record.seq != seq || record.author != author {
                    // Published again under the same id: the ledger kept the first.
                    return;
                }
                if let Some(text) = self.texts.get_mut(author.index()) {
                    text.read_post(&self.policy, &record.text, &record.hashtags);
                    let signal = text.policy_signal();
                    if record.features_minor {
                        self.features_minors[author.index()] = true;
                    }
                    let features = self.features_minors[author.index()];
                    if let Some(signals) = self.snapshot.signals_mut(author) {
                        signals.text = Some(signal);
                        signals.features_minors = Some(features);
                    }
                }
                let tags: Vec<&str> = record.hashtags.iter().map(String::as_str).collect();
                let day = state.day_of(record.at);
                self.observe_hashtags(&tags, day.start());
            }
            Payload::Search(search) => {
                if let Some(account) = id(&search.account)
                    && let Some(text) = self.texts.get_mut(account.index())
                {
                    text.read_search(&self.policy, &search.query);
                }
            }
            Payload::Enforcement(action) => {
                if action.action == "takedown"
                    && let Some(account) = id(&action.account)
                {
                    self.flagged.insert(account);
                    if let Some(signals) = self.snapshot.signals_mut(account) {
                        signals.flagged = Some(true);
                    }
                }
            }
            Payload::LabelApplied(_) => {
                // New records only (a fold that resolved waiting events may have added
                // several), and only their entities' accounts change: a takedown of
                // thousands of sellers costs their entities, not thousands of passes.
                let fresh = state.labels.get(self.labels_seen..).unwrap_or_default();
                let mut touched = Vec::new();
                for record in fresh {
                    self.entities.label(record.account, label_of(record));
                    touched.extend(self.entities.members(record.account));
                }
                self.labels_seen = state.labels.len();
                let expiries = fresh.iter().filter_map(|r| label_of(r).expires_at);
                self.next_expiry = self
                    .next_expiry
                    .into_iter()
                    .chain(expiries.filter(|&e| e > self.now))
                    .min();
                self.refresh_entity_actions_of(&touched);
            }
            Payload::LabelExpired(_) => {
                // Lifts are rare: apply the ledger's list again, so that a lifted label
                // lapses exactly as the ledger records it.
                self.entities.clear_labels();
                for record in &state.labels {
                    self.entities.label(record.account, label_of(record));
                }
                self.labels_seen = state.labels.len();
                self.refresh_entity_actions();
            }
            Payload::View(_)
            | Payload::Like(_)
            | Payload::Comment(_)
            | Payload::ReportReceived(_)
            | Payload::ReportTransition(_)
            | Payload::ReviewDecision(_)
            | Payload::RulesPublished(_)
            | Payload::DecisionLogged(_)
            | Payload::ReportPrioritized(_)
            | Payload::AlertRaised(_)
            | Payload::ReferralStep(_)
            | Payload::EvidenceViewed(_)
            | Payload::RegistryImported(_)
            | Payload::PolicyPublished(_)
            | Payload::TokenCreated(_)
            | Payload::TokenRevoked(_)
            | Payload::UserCreated(_)
            | Payload::BankChanged(_) => {}
        }
        self.sync_clock(state);
    }

    fn add_account(&mut self, state: &LedgerState, account: AccountId) {
        let Some(record) = state.account(account) else {
            return;
        };
        let mut text = AccountText::default();
        text.read_bio(&self.policy, &record.bio);
        // The record is the ledger's state after the whole fold, which may already hold
        // changes that waited for this account: link every handle and bio it has had.
        for handle in record.former_handles.iter().chain([&record.handle]) {
            self.entities.add_handle(account, handle);
        }
        for bio in record.former_bios.iter().chain([&record.bio]) {
            link_bio(&mut self.entities, account, bio);
        }
        link_identifiers(
            &mut self.entities,
            account,
            &record.country,
            record_identifiers(record),
        );
        let now = self.now;
        self.snapshot.signals.push(AccountSignals {
            id: account,
            name: Some(Arc::from(record.external.as_str())),
            age: Some(AgeBand::of_age(record.declared_age)),
            features_minors: Some(false),
            text: Some(text.policy_signal()),
            hash: Some(HashSignal {
                matches: 0,
                banks: Vec::new(),
            }),
            // Unknown until the next map: rules that need it fail closed.
            network: None,
            flagged: Some(false),
            // A new account of a labelled person carries the label from its creation.
            entity_actioned: Some(!self.entities.labels_at(account, now).is_empty()),
            blocks_reports_from_minors: Some(0),
        });
        self.texts.push(text);
        self.features_minors.push(false);
        self.snapshot
            .names
            .handles
            .insert(record.handle.to_lowercase(), account);
        self.snapshot
            .names
            .external
            .insert(record.external.clone(), account);
        self.snapshot.names.accounts += 1;
        // Accounts already known whose entity a merge or split joined to or parted from a
        // labelled one (the new account's own signal was read above, after its links).
        let changed = self.entities.take_changed();
        self.refresh_entity_actions_of(&changed);
    }

    /// Reads an account's text again from its bio, posts and searches.
    fn reread_text(&mut self, state: &LedgerState, account: AccountId, bio: &str) {
        let text = AccountText::of_account(
            &self.policy,
            bio,
            state.posts.iter().filter(|p| p.author == account),
            state.searches.iter().filter(|s| s.account == account),
        );
        let signal = text.policy_signal();
        if let Some(slot) = self.texts.get_mut(account.index()) {
            *slot = text;
        }
        if let Some(signals) = self.snapshot.signals_mut(account) {
            signals.text = Some(signal);
        }
    }

    /// Recomputes every account's entity action at the current time.
    fn refresh_entity_actions(&mut self) {
        let everyone: Vec<AccountId> = (0..self.snapshot.signals.len() as u32)
            .map(AccountId)
            .collect();
        self.refresh_entity_actions_of(&everyone);
        self.entities.take_changed();
        self.next_expiry = self.entities.next_expiry_after(self.now);
    }

    /// Recomputes the entity action of `accounts` at the current time (labels are as they
    /// were: the next expiry stays).
    fn refresh_entity_actions_of(&mut self, accounts: &[AccountId]) {
        for &account in accounts {
            let index = account.index();
            let actioned = !self.entities.labels_at(account, self.now).is_empty();
            let current = self
                .snapshot
                .signals
                .get(index)
                .and_then(|s| s.entity_actioned);
            if current != Some(actioned)
                && let Some(signals) = self.snapshot.signals_mut(account)
            {
                signals.entity_actioned = Some(actioned);
            }
        }
    }

    /// Observes one post's hashtags for variant clusters: a tag seen often enough beside
    /// blocked tags is restricted in the next snapshot. The ledger's post events come here,
    /// and so do posts a platform (or the audit's wrapper) reports directly.
    pub fn observe_hashtags(&mut self, tags: &[&str], at: Timestamp) {
        let before = self.variants.review_queue().len();
        // A tripped cap stops the rule (alerted); later posts are not observed, exactly as
        // a rebuild stops at the same post.
        let stopped = self.limiter.alerts().len();
        if stopped == 0 {
            let _ = self
                .variants
                .observe_post(&self.policy, tags, false, at, &mut self.limiter);
        }
        if self.variants.review_queue().len() != before || self.limiter.alerts().len() != stopped {
            self.refresh_variants();
        }
    }

    fn refresh_variants(&mut self) {
        let queue: Vec<String> = self
            .variants
            .review_queue()
            .into_iter()
            .map(|r| r.tag.clone())
            .collect();
        let restricted: HashSet<String> = queue.iter().cloned().collect();
        self.snapshot.variant_restricted = Arc::new(restricted);
        self.snapshot.variant_queue = Arc::new(queue);
        self.snapshot.alerts = Arc::new(self.limiter.alerts().to_vec());
    }
}

fn link_bio(entities: &mut EntityLinks, account: AccountId, bio: &str) {
    entities.add_bio(account, bio);
    for handle in payment_handles(bio) {
        if let Some(identifier) = Identifier::payment(handle) {
            entities.add_identifier(account, identifier);
        }
    }
}

/// Every identifier an account record holds: emails, phones, devices, payment handles.
fn record_identifiers(record: &AccountRecord) -> impl Iterator<Item = (IdentifierKind, &str)> {
    [
        (IdentifierKind::Email, &record.emails),
        (IdentifierKind::Phone, &record.phones),
        (IdentifierKind::Device, &record.devices),
        (IdentifierKind::Payment, &record.payment_handles),
    ]
    .into_iter()
    .flat_map(|(kind, values)| values.iter().map(move |v| (kind, v.as_str())))
}

/// Links an account through raw identifiers, canonicalised as the linker's rules say
/// (a national phone number is read in the account's country). A value that is not a
/// plausible identifier of its kind links nothing: a wrong guess would link strangers.
fn link_identifiers<'a>(
    entities: &mut EntityLinks,
    account: AccountId,
    country: &str,
    identifiers: impl IntoIterator<Item = (IdentifierKind, &'a str)>,
) {
    for (kind, raw) in identifiers {
        if let Some(identifier) = identifier_of(entities, kind, raw, country) {
            entities.add_identifier(account, identifier);
        }
    }
}

/// A raw identifier in its canonical form under the linker's rules; `None` when it is not
/// a plausible one of its kind.
fn identifier_of(
    entities: &EntityLinks,
    kind: IdentifierKind,
    raw: &str,
    country: &str,
) -> Option<Identifier> {
    match kind {
        IdentifierKind::Email => Identifier::email_with(raw, &entities.config().email),
        IdentifierKind::Phone => Identifier::phone_in(raw, country),
        IdentifierKind::Device => Identifier::device(raw),
        IdentifierKind::Payment => Identifier::payment(raw),
    }
}

fn label_of(record: &guardrail_ledger::state::LabelRecord) -> Label {
    Label {
        name: record.label.clone(),
        reason: record.reason.clone(),
        actor: record.actor.clone(),
        applied_at: Timestamp(record.applied_at),
        expires_at: match (record.expires_at, record.lifted_at) {
            (Some(e), Some(l)) => Some(Timestamp(e.min(l))),
            (e, l) => e.or(l).map(Timestamp),
        },
    }
}

/// The network signal of every account from the map: unknown for all when there is no
/// map, and for accounts the map did not cover.
fn network_signals(accounts: usize, map: &MapOutcome) -> Vec<Option<NetworkSignal>> {
    let known = map.map.as_ref().ok().map(|_| NetworkSignal {
        score: 0.0,
        member: false,
        role: None,
    });
    let mut network: Vec<Option<NetworkSignal>> = (0..accounts)
        .map(|row| {
            if row < map.accounts {
                known.clone()
            } else {
                None
            }
        })
        .collect();
    for suspect in map.map.iter().flat_map(|m: &NetworkMap| &m.suspects) {
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
