//! The fold: events in sequence order become the platform's state — accounts with their
//! profiles and identifiers, posts, who follows, views, likes, comments, searches, reports
//! and blocks whom, and Guardrail's own records (labels, enforcement, reports received,
//! rule sets).
//!
//! What it is for: the derived state every decision reads is built from this fold, and a
//! rebuild from the first event must give the same state as the fold kept up to date
//! event by event (a property test and `guardrail ledger rebuild --check` prove it).
//! Accounts get dense ids ([`AccountId`]) in the order they are created, posts in the order
//! they are published, so folding the same events always numbers them the same way and a
//! new account only ever appends a row.
//!
//! What it must never do: drop an event. An event about an account or post that is not
//! created yet is kept pending and flagged ([`Flag`]); it is applied, in arrival order,
//! as soon as everything it names exists. The guard treats accounts it has not seen
//! created as unknown.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use guardrail_types::{AccountId, Day, Gender, PostId, SECONDS_PER_DAY};
use serde::{Deserialize, Serialize};

use crate::event::{Event, Payload};

mod records;
mod views;

pub use records::*;

/// The platform's state, as folded from the ledger.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LedgerState {
    /// The last sequence number folded.
    pub last_seq: u64,
    /// The start of the day of the first event (the origin of the public tables' days).
    pub epoch: Option<u64>,
    /// The latest event time seen.
    pub latest_at: u64,
    /// Accounts, by dense id (creation order).
    pub accounts: Vec<AccountRecord>,
    account_ids: HashMap<String, AccountId>,
    /// Posts, by dense id (publication order).
    pub posts: Vec<PostRecord>,
    post_ids: HashMap<String, PostId>,
    /// Current follows, with the time of the follow.
    #[serde(with = "as_pairs")]
    pub follows: BTreeMap<(AccountId, AccountId), u64>,
    /// Profile views.
    pub views: Vec<Edge>,
    /// Reports through the platform's own flow.
    pub account_reports: Vec<Edge>,
    /// Blocks.
    pub blocks: Vec<Edge>,
    /// Likes.
    pub likes: Vec<PostTouch>,
    /// Comments.
    pub comments: Vec<PostTouch>,
    /// Searches.
    pub searches: Vec<Search>,
    /// Labels on entities.
    pub labels: Vec<LabelRecord>,
    /// Accounts taken down, with the time.
    #[serde(with = "as_pairs")]
    pub takedowns: BTreeMap<AccountId, u64>,
    /// Reports received by Guardrail, by id.
    pub reports: BTreeMap<String, ReportRecord>,
    /// Report ids by the reporter's client key.
    pub report_keys: BTreeMap<String, String>,
    /// Referrals to the clearing house, by id.
    pub referrals: BTreeMap<String, ReferralRecord>,
    /// Alerts about things that are not reports (referrals, rules): (subject, kind, time).
    pub other_alerts: Vec<(String, String, u64)>,
    /// Reads of child-safety evidence: (actor, role, subject, what, why, time).
    pub evidence_views: Vec<(String, String, String, String, String, u64)>,
    /// The offender registry: its version and keyed hashes.
    pub registry: Option<(String, Vec<String>)>,
    /// The check value of the key the registry's hashes were made with (a service holding
    /// another key refuses the list instead of silently matching nothing).
    #[serde(default)]
    pub registry_key_check: Option<String>,
    /// Times of the enforcement actions each automated rule took (for its hourly cap).
    #[serde(default)]
    pub rule_actions: BTreeMap<String, Vec<u64>>,
    /// API tokens by public id.
    #[serde(default)]
    pub tokens: BTreeMap<String, TokenRecord>,
    /// Console users by login name.
    #[serde(default)]
    pub users: BTreeMap<String, UserRecord>,
    /// Hash bank changes, in ledger order (the banks are rebuilt from them).
    #[serde(default)]
    pub bank_changes: Vec<serde_json::Value>,
    /// The latest published rule set: version and TOML.
    pub rules: Option<(u64, String)>,
    /// The latest published text policy: version and TOML.
    #[serde(default)]
    pub text_policy: Option<(u64, String)>,
    /// Decisions logged.
    pub decisions_logged: u64,
    /// Events waiting for an account or post they name: (seq, event), in arrival order.
    pub pending: Vec<(u64, Event)>,
    /// Pending events by the reference they wait for (derived from `pending`).
    #[serde(skip)]
    waiting: PendingIndex,
    /// Odd events, kept and applied anyway.
    pub flags: Vec<Flag>,
}

/// What folding one event did.
#[derive(Debug, Clone, Default)]
pub struct Folded {
    /// Flags it raised.
    pub flags: Vec<Flag>,
    /// Events applied, in order, with their sequence numbers.
    pub applied: Vec<(u64, Event)>,
}

/// A reference an event makes that the state cannot resolve yet.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Missing {
    Account(String),
    Post(String),
}

/// Pending events' sequence numbers by the reference each waits for. Derived from the
/// pending list (rebuilt after a checkpoint is read), so it never takes part in equality.
#[derive(Debug, Clone, Default)]
struct PendingIndex {
    built: bool,
    by_reference: HashMap<Missing, Vec<u64>>,
}

impl PartialEq for PendingIndex {
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}

impl LedgerState {
    /// The empty state.
    pub fn new() -> LedgerState {
        LedgerState::default()
    }

    /// Folds every event, in order, numbering them from 1.
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a Event>) -> LedgerState {
        let mut state = LedgerState::new();
        for event in events {
            let seq = state.last_seq + 1;
            state.apply(seq, event);
        }
        state
    }

    /// The dense id of a created account.
    pub fn account_id(&self, external: &str) -> Option<AccountId> {
        self.account_ids.get(external).copied()
    }

    /// The dense id of a published post.
    pub fn post_id(&self, external: &str) -> Option<PostId> {
        self.post_ids.get(external).copied()
    }

    /// An account's record.
    pub fn account(&self, id: AccountId) -> Option<&AccountRecord> {
        self.accounts.get(id.index())
    }

    /// Folds one event (`seq` is its sequence number). Returns the flags it raised.
    pub fn apply(&mut self, seq: u64, event: &Event) -> Vec<Flag> {
        self.fold(seq, event).flags
    }

    /// Folds one event, and says which events it applied: the event itself, unless it
    /// waits for something it names, then every pending event it made applicable, in the
    /// order they were applied. Derived state follows the ledger by applying these.
    pub fn fold(&mut self, seq: u64, event: &Event) -> Folded {
        let before = self.flags.len();
        let mut applied = Vec::new();
        self.last_seq = seq;
        let day_start = event.at - event.at % SECONDS_PER_DAY;
        self.epoch = Some(self.epoch.map_or(day_start, |e| e.min(day_start)));
        self.latest_at = self.latest_at.max(event.at);
        match self.missing(&event.payload) {
            Some(missing) => {
                let what = match &missing {
                    Missing::Account(id) => format!("account {id}"),
                    Missing::Post(id) => format!("post {id}"),
                };
                self.flags.push(Flag {
                    seq,
                    event_id: event.id.clone(),
                    reason: format!(
                        "names {what}, which does not exist yet; kept and applied when it does"
                    ),
                });
                // Nothing was created by this event, so nothing pending became ready.
                let _ = self.index_pending();
                self.waiting
                    .by_reference
                    .entry(missing)
                    .or_default()
                    .push(seq);
                self.pending.push((seq, event.clone()));
            }
            None => {
                let created = self.apply_resolved(seq, event);
                applied.push((seq, event.clone()));
                if let Some(created) = created {
                    self.apply_pending(created, &mut applied);
                }
            }
        }
        Folded {
            flags: self.flags[before..].to_vec(),
            applied,
        }
    }

    /// Folds a `decision_logged` event known only by its sequence number and time: the
    /// state's whole reaction to one (the clock, and the count), without the event's body.
    /// The service logs a decision per dropped candidate, and folding each one's recorded
    /// request only to count it was most of a follower's work. Equal to [`Self::fold`] of
    /// the event (a test holds it so).
    pub fn fold_logged_decision(&mut self, seq: u64, at: u64) {
        self.last_seq = seq;
        let day_start = at - at % SECONDS_PER_DAY;
        self.epoch = Some(self.epoch.map_or(day_start, |e| e.min(day_start)));
        self.latest_at = self.latest_at.max(at);
        self.decisions_logged += 1;
    }

    /// Builds the index of pending events if it is not built (after a checkpoint is read).
    /// Returns the pending events that need nothing any more (possible only when the index
    /// is built just after a creation).
    fn index_pending(&mut self) -> Vec<u64> {
        if self.waiting.built {
            return Vec::new();
        }
        let mut by_reference: HashMap<Missing, Vec<u64>> = HashMap::new();
        let mut ready = Vec::new();
        for (seq, event) in &self.pending {
            match self.missing(&event.payload) {
                Some(missing) => by_reference.entry(missing).or_default().push(*seq),
                None => ready.push(*seq),
            }
        }
        self.waiting = PendingIndex {
            built: true,
            by_reference,
        };
        ready
    }

    /// Applies the pending events that `created` made applicable, and those they make
    /// applicable in turn, earliest arrival first — the same order as scanning every
    /// pending event after each change, at the cost of the events that waited for it.
    fn apply_pending(&mut self, created: Missing, applied: &mut Vec<(u64, Event)>) {
        if self.pending.is_empty() {
            return;
        }
        let ready = self.index_pending();
        let mut candidates: BTreeSet<u64> = self
            .waiting
            .by_reference
            .remove(&created)
            .unwrap_or_default()
            .into_iter()
            .chain(ready)
            .collect();
        while let Some(seq) = candidates.pop_first() {
            let Ok(position) = self.pending.binary_search_by_key(&seq, |(s, _)| *s) else {
                continue;
            };
            match self.missing(&self.pending[position].1.payload) {
                Some(missing) => self
                    .waiting
                    .by_reference
                    .entry(missing)
                    .or_default()
                    .push(seq),
                None => {
                    // Folded now, under the sequence number it arrived with.
                    let (original_seq, event) = self.pending.remove(position);
                    let made = self.apply_resolved(original_seq, &event);
                    applied.push((original_seq, event));
                    if let Some(made) = made
                        && let Some(waiting) = self.waiting.by_reference.remove(&made)
                    {
                        candidates.extend(waiting);
                    }
                }
            }
        }
    }

    /// The first reference of a payload that does not resolve yet.
    fn missing(&self, payload: &Payload) -> Option<Missing> {
        let account = |id: &str| {
            (!self.account_ids.contains_key(id)).then(|| Missing::Account(id.to_string()))
        };
        let post =
            |id: &str| (!self.post_ids.contains_key(id)).then(|| Missing::Post(id.to_string()));
        match payload {
            Payload::AccountCreated(_) => None,
            Payload::ProfileUpdated(update) => account(&update.account),
            Payload::Follow(action)
            | Payload::Unfollow(action)
            | Payload::Block(action)
            | Payload::View(action)
            | Payload::ReportAccount(action) => {
                account(&action.account).or_else(|| account(&action.target))
            }
            Payload::Post(published) => account(&published.account),
            Payload::Like(touch) | Payload::Comment(touch) => {
                account(&touch.account).or_else(|| post(&touch.post))
            }
            Payload::Search(search) => account(&search.account),
            Payload::Enforcement(action) => account(&action.account),
            Payload::LabelApplied(label) => account(&label.account),
            Payload::LabelExpired(label) => account(&label.account),
            Payload::ReportReceived(_)
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
            | Payload::BankChanged(_) => None,
        }
    }

    fn id(&self, external: &str) -> AccountId {
        // Called only once `missing` found every reference resolved.
        self.account_ids.get(external).copied().unwrap_or_default()
    }

    /// Applies an event whose references all resolve. Returns the account or post it
    /// created, if any (which may resolve pending events).
    fn apply_resolved(&mut self, seq: u64, event: &Event) -> Option<Missing> {
        let flag = |state: &mut LedgerState, reason: String| {
            state.flags.push(Flag {
                seq,
                event_id: event.id.clone(),
                reason,
            });
        };
        let edge = |state: &LedgerState, action: &crate::event::AccountAction| Edge {
            src: state.id(&action.account),
            dst: state.id(&action.target),
            at: event.at,
        };
        match &event.payload {
            Payload::AccountCreated(created) => {
                if self.account_ids.contains_key(&created.account) {
                    flag(
                        self,
                        format!(
                            "account {} created again; the first creation stands",
                            created.account
                        ),
                    );
                    return None;
                }
                let id = AccountId(self.accounts.len() as u32);
                self.account_ids.insert(created.account.clone(), id);
                self.accounts.push(AccountRecord {
                    external: created.account.clone(),
                    created_at: event.at,
                    handle: created.handle.clone(),
                    former_handles: Vec::new(),
                    declared_age: created.declared_age,
                    bio: created.bio.clone(),
                    former_bios: Vec::new(),
                    gender: created
                        .gender
                        .as_deref()
                        .and_then(Gender::parse)
                        .unwrap_or(Gender::Other),
                    country: created.country.clone().unwrap_or_default(),
                    interests: created.interests.clone(),
                    business: created.business,
                    emails: unique(&created.emails),
                    phones: unique(&created.phones),
                    devices: unique(&created.devices),
                    payment_handles: unique(&created.payment_handles),
                });
                return Some(Missing::Account(created.account.clone()));
            }
            Payload::ProfileUpdated(update) => {
                let id = self.id(&update.account);
                let record = &mut self.accounts[id.index()];
                if let Some(handle) = &update.handle
                    && *handle != record.handle
                {
                    let former = std::mem::replace(&mut record.handle, handle.clone());
                    if !record.former_handles.contains(&former) {
                        record.former_handles.push(former);
                    }
                }
                if let Some(bio) = &update.bio
                    && *bio != record.bio
                {
                    let former = std::mem::replace(&mut record.bio, bio.clone());
                    if !record.former_bios.contains(&former) {
                        record.former_bios.push(former);
                    }
                }
                extend_unique(&mut record.emails, &update.emails);
                extend_unique(&mut record.phones, &update.phones);
                extend_unique(&mut record.devices, &update.devices);
                extend_unique(&mut record.payment_handles, &update.payment_handles);
            }
            Payload::Follow(action) => {
                let e = edge(self, action);
                self.follows.entry((e.src, e.dst)).or_insert(e.at);
            }
            Payload::Unfollow(action) => {
                let e = edge(self, action);
                self.follows.remove(&(e.src, e.dst));
            }
            Payload::Block(action) => self.blocks.push(edge(self, action)),
            Payload::View(action) => self.views.push(edge(self, action)),
            Payload::ReportAccount(action) => self.account_reports.push(edge(self, action)),
            Payload::Post(post) => {
                if self.post_ids.contains_key(&post.post) {
                    flag(
                        self,
                        format!("post {} published again; the first stands", post.post),
                    );
                    return None;
                }
                let id = PostId(self.posts.len() as u32);
                self.post_ids.insert(post.post.clone(), id);
                self.posts.push(PostRecord {
                    external: post.post.clone(),
                    seq,
                    author: self.id(&post.account),
                    at: event.at,
                    text: post.text.clone(),
                    hashtags: post
                        .hashtags
                        .iter()
                        .map(|t| t.trim_start_matches('#').to_string())
                        .collect(),
                    media_hashes: post.media_hashes.clone(),
                    features_minor: post.features_minor.unwrap_or(false),
                });
                return Some(Missing::Post(post.post.clone()));
            }
            Payload::Like(touch) | Payload::Comment(touch) => {
                let folded = PostTouch {
                    account: self.id(&touch.account),
                    post: self.post_ids.get(&touch.post).copied().unwrap_or_default(),
                    at: event.at,
                };
                if matches!(event.payload, Payload::Like(_)) {
                    self.likes.push(folded);
                } else {
                    self.comments.push(folded);
                }
            }
            Payload::Search(search) => {
                let account = self.id(&search.account);
                self.searches.push(Search {
                    account,
                    at: event.at,
                    query: search.query.clone(),
                });
            }
            Payload::ReportReceived(report) => {
                if self.reports.contains_key(&report.report) {
                    flag(self, format!("report {} received again", report.report));
                } else {
                    self.report_keys
                        .insert(report.client_key.clone(), report.report.clone());
                    self.reports.insert(
                        report.report.clone(),
                        ReportRecord {
                            report: report.report.clone(),
                            client_key: report.client_key.clone(),
                            category: report.category.clone(),
                            subject: report.subject.clone(),
                            received_seq: seq,
                            received_at: event.at,
                            state: "received".to_string(),
                            state_at: event.at,
                            priority: report.priority,
                            body_hash: report.body_hash.clone(),
                            history: Vec::new(),
                            alerts: Vec::new(),
                        },
                    );
                }
            }
            Payload::ReportTransition(transition) => {
                match self.reports.get_mut(&transition.report) {
                    Some(record) => {
                        let out_of_order = record.state != transition.from;
                        let was = std::mem::replace(&mut record.state, transition.to.clone());
                        record.state_at = event.at;
                        record.history.push(TransitionRecord {
                            from: transition.from.clone(),
                            to: transition.to.clone(),
                            at: event.at,
                            actor: transition.actor.clone(),
                            reason: transition.reason.clone(),
                        });
                        if out_of_order {
                            flag(
                                self,
                                format!(
                                    "report {} moved from {} but was in {was}",
                                    transition.report, transition.from
                                ),
                            );
                        }
                    }
                    None => flag(
                        self,
                        format!("transition of unknown report {}", transition.report),
                    ),
                }
            }
            Payload::ReviewDecision(_) => {}
            Payload::Enforcement(action) => {
                if let Some(rule) = &action.rule {
                    self.rule_actions
                        .entry(rule.clone())
                        .or_default()
                        .push(event.at);
                }
                let account = self.id(&action.account);
                if action.action == "takedown" {
                    self.takedowns.entry(account).or_insert(event.at);
                }
            }
            Payload::LabelApplied(label) => {
                let account = self.id(&label.account);
                self.labels.push(LabelRecord {
                    account,
                    label: label.label.clone(),
                    reason: label.reason.clone(),
                    actor: label.actor.clone(),
                    applied_at: event.at,
                    expires_at: label.expires_at,
                    lifted_at: None,
                });
            }
            Payload::LabelExpired(lifted) => {
                let account = self.id(&lifted.account);
                let mut found = false;
                for record in self.labels.iter_mut().filter(|l| {
                    l.account == account && l.label == lifted.label && l.lifted_at.is_none()
                }) {
                    record.lifted_at = Some(event.at);
                    found = true;
                }
                if !found {
                    flag(
                        self,
                        format!("label {} lifted but not applied", lifted.label),
                    );
                }
            }
            Payload::RulesPublished(rules) => {
                self.rules = Some((rules.version, rules.toml.clone()));
            }
            Payload::DecisionLogged(_) => self.decisions_logged += 1,
            Payload::ReportPrioritized(change) => match self.reports.get_mut(&change.report) {
                Some(record) => record.priority = change.priority,
                None => flag(
                    self,
                    format!("priority of unknown report {}", change.report),
                ),
            },
            Payload::AlertRaised(alert) => match self.reports.get_mut(&alert.subject) {
                Some(record) => record.alerts.push((alert.kind.clone(), event.at)),
                None => {
                    self.other_alerts
                        .push((alert.subject.clone(), alert.kind.clone(), event.at))
                }
            },
            Payload::ReferralStep(step) => {
                let referral = self
                    .referrals
                    .entry(step.referral.clone())
                    .or_insert_with(|| ReferralRecord {
                        referral: step.referral.clone(),
                        report: step.report.clone(),
                        steps: Vec::new(),
                        records: Vec::new(),
                    });
                if let Some(record) = &step.record {
                    referral.records.push(record.clone());
                }
                referral.steps.push((
                    step.step.clone(),
                    step.attempt,
                    step.outcome.clone(),
                    step.detail.clone(),
                    event.at,
                ));
            }
            Payload::EvidenceViewed(view) => self.evidence_views.push((
                view.actor.clone(),
                view.role.clone(),
                view.subject.clone(),
                view.what.clone(),
                view.why.clone(),
                event.at,
            )),
            Payload::RegistryImported(list) => {
                self.registry = Some((list.version.clone(), list.hashes.clone()));
                self.registry_key_check = Some(list.key_check.clone());
            }
            Payload::PolicyPublished(policy) => {
                self.text_policy = Some((policy.version, policy.toml.clone()));
            }
            Payload::TokenCreated(token) => {
                if self.tokens.contains_key(&token.token) {
                    flag(self, format!("token {} created again", token.token));
                } else {
                    self.tokens.insert(
                        token.token.clone(),
                        TokenRecord {
                            scope: token.scope.clone(),
                            secret_hash: token.secret_hash.clone(),
                            created_at: event.at,
                            expires_at: token.expires_at,
                            revoked_at: None,
                        },
                    );
                }
            }
            Payload::TokenRevoked(revoked) => match self.tokens.get_mut(&revoked.token) {
                Some(record) => {
                    record.revoked_at.get_or_insert(event.at);
                }
                None => flag(
                    self,
                    format!("revocation of unknown token {}", revoked.token),
                ),
            },
            Payload::UserCreated(user) => {
                if self.users.contains_key(&user.name) {
                    flag(self, format!("user {} created again", user.name));
                } else {
                    self.users.insert(
                        user.name.clone(),
                        UserRecord {
                            role: user.role.clone(),
                            password_hash: user.password_hash.clone(),
                            created_at: event.at,
                        },
                    );
                }
            }
            Payload::BankChanged(changed) => self.bank_changes.push(changed.change.clone()),
        }
        None
    }
}

/// Maps whose keys are not strings, serialised as lists of pairs (JSON keys must be
/// strings).
mod as_pairs {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<K: Serialize, V: Serialize, S: Serializer>(
        map: &BTreeMap<K, V>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(map.iter())
    }

    pub fn deserialize<'de, K, V, D>(deserializer: D) -> Result<BTreeMap<K, V>, D::Error>
    where
        K: Deserialize<'de> + Ord,
        V: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        Ok(Vec::<(K, V)>::deserialize(deserializer)?
            .into_iter()
            .collect())
    }
}

fn unique(from: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    extend_unique(&mut out, from);
    out
}

fn extend_unique(into: &mut Vec<String>, from: &[String]) {
    for item in from {
        if !into.contains(item) {
            into.push(item.clone());
        }
    }
}
