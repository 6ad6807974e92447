//! Entities: the people behind accounts. Penalties that hit accounts, not people, are
//! how removed sellers came back ("backup" accounts named in bios). Accounts are linked
//! into entities through identifiers they share (devices, canonical emails, E.164 phones,
//! payment handles) and through backup handles named in bios; a new account of an
//! actioned entity inherits its restriction.
//!
//! Every link records its kind, its evidence (which identifier, which bio phrase) and a
//! confidence ([`LinkKind::confidence`]), so a reviewer sees why two accounts are one
//! person. Identifiers are canonicalised first ([`crate::canonical`]): emails per
//! provider, phones to E.164, implausible numbers refused. Labels sit on entities;
//! [`EntityLinks::explain_labels`] gives the chain of links that carries one to an account,
//! and [`EntityLinks::probe`] what an account about to be created would inherit (the
//! sign-up decision).
//!
//! What it must never do: let one shared thing merge strangers. An identifier used by more
//! accounts than the fan-out limit (a library computer, a family tablet passed round a
//! school) links nobody: it stays on record as weak evidence, and entities it had joined
//! are split again. A handle mentioned in a bio without a backup cue ("photos by @friend")
//! is weak evidence too. The entities are the connected components of the strong links
//! alone, so the order accounts arrive in never changes who is linked.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use guardrail_types::{AccountId, Timestamp};

pub use crate::canonical::{
    CALLING_CODES, DOTS_IGNORED, EmailRules, PLUS_TAGS, PhoneError, canonical_email,
    canonical_phone,
};

/// Something two accounts can share.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum Identifier {
    /// A device fingerprint.
    Device(String),
    /// An email, canonical (see [`EmailRules`]).
    Email(String),
    /// A phone number in E.164 form (`+` and digits; see [`canonical_phone`]).
    Phone(String),
    /// A payment handle, lower case without a leading `$`/`@`.
    Payment(String),
}

impl Identifier {
    /// An email identifier under the default rules; `None` if it is not an email.
    pub fn email(raw: &str) -> Option<Identifier> {
        canonical_email(raw).map(Identifier::Email)
    }

    /// An email identifier under the given rules.
    pub fn email_with(raw: &str, rules: &EmailRules) -> Option<Identifier> {
        rules.canonical(raw).map(Identifier::Email)
    }

    /// A phone identifier from an international form (`+` or `00` and the country code);
    /// `None` if it is not a plausible number.
    pub fn phone(raw: &str) -> Option<Identifier> {
        canonical_phone(raw, None).ok().map(Identifier::Phone)
    }

    /// A phone identifier; a national form is read in `country` (two letters).
    pub fn phone_in(raw: &str, country: &str) -> Option<Identifier> {
        canonical_phone(raw, Some(country))
            .ok()
            .map(Identifier::Phone)
    }

    /// A payment-handle identifier.
    pub fn payment(raw: &str) -> Option<Identifier> {
        let handle = raw.trim().trim_start_matches(['$', '@']).to_lowercase();
        (!handle.is_empty()).then_some(Identifier::Payment(handle))
    }

    /// A device identifier (trimmed; device ids are opaque and compared exactly).
    pub fn device(raw: &str) -> Option<Identifier> {
        let id = raw.trim();
        (!id.is_empty()).then(|| Identifier::Device(id.to_string()))
    }

    /// An identifier from a kind name (`email`, `phone`, `device`, `payment`, as in a world
    /// folder's `identifiers.csv`) and a raw value; `None` for an unknown kind or a value
    /// that is not plausible.
    pub fn parse(kind: &str, raw: &str, rules: &EmailRules) -> Option<Identifier> {
        match kind {
            "email" => Identifier::email_with(raw, rules),
            "phone" => Identifier::phone(raw),
            "device" => Identifier::device(raw),
            "payment" => Identifier::payment(raw),
            _ => None,
        }
    }

    /// The link kind sharing this identifier makes.
    pub fn link_kind(&self) -> LinkKind {
        match self {
            Identifier::Device(_) => LinkKind::Device,
            Identifier::Email(_) => LinkKind::Email,
            Identifier::Phone(_) => LinkKind::Phone,
            Identifier::Payment(_) => LinkKind::Payment,
        }
    }

    /// The canonical value.
    pub fn value(&self) -> &str {
        match self {
            Identifier::Device(v)
            | Identifier::Email(v)
            | Identifier::Phone(v)
            | Identifier::Payment(v) => v,
        }
    }
}

/// Why two accounts are linked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    /// The same device.
    Device,
    /// The same mailbox (canonical email).
    Email,
    /// The same phone line (E.164).
    Phone,
    /// The same payment handle.
    Payment,
    /// A bio names the other account as a backup, alternate or main account.
    BioBackup,
    /// A bio names a handle the other account had before.
    FormerHandle,
    /// A bio mentions the other account without a backup cue (weak: never merges).
    BioMention,
}

impl LinkKind {
    /// How strongly a link of this kind says "the same person", 0 to 1.
    ///
    /// - canonical email 0.95: a mailbox is verified at sign-up and belongs to one person;
    ///   family mailboxes exist, so not 1.
    /// - device 0.9: below the fan-out limit a device is personal or a household's; a
    ///   household sharing one tablet is the main false link.
    /// - payment handle 0.9: money goes to one person; a reseller can copy a handle into
    ///   its own bio.
    /// - backup handle in a bio 0.85: sellers name their own backups, but a bio can also
    ///   name a friend's account with the same words.
    /// - former handle 0.8: as a bio mention, but handles are released and taken again.
    /// - phone 0.8: carriers recycle numbers and families share lines.
    /// - bare bio mention 0.3: a shout-out is not an identity; recorded, never merged.
    pub fn confidence(self) -> f64 {
        match self {
            LinkKind::Email => 0.95,
            LinkKind::Device | LinkKind::Payment => 0.9,
            LinkKind::BioBackup => 0.85,
            LinkKind::FormerHandle | LinkKind::Phone => 0.8,
            LinkKind::BioMention => 0.3,
        }
    }

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::Device => "device",
            LinkKind::Email => "email",
            LinkKind::Phone => "phone",
            LinkKind::Payment => "payment",
            LinkKind::BioBackup => "bio_backup",
            LinkKind::FormerHandle => "former_handle",
            LinkKind::BioMention => "bio_mention",
        }
    }
}

/// One piece of evidence that two accounts are the same person.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Link {
    /// The account asked about (for identifier links) or whose bio names `b`.
    pub a: AccountId,
    /// The other account.
    pub b: AccountId,
    /// Why.
    pub kind: LinkKind,
    /// What a reviewer reads: which identifier, which bio phrase.
    pub evidence: String,
    /// 0 to 1 ([`LinkKind::confidence`], scaled down for an identifier over the fan-out).
    pub confidence: f64,
    /// Whether the link joins `a` and `b` into one entity (false: weak evidence only).
    pub merged: bool,
}

mod bio;
mod probe;
#[cfg(test)]
mod tests;

pub use bio::{BACKUP_CUES, BioMention, bio_mentions, handles_in_bio};
pub use probe::{Candidate, Probe};

/// An enforcement label on an entity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Label {
    /// The label's name (`csea.seller`, `offender_registry`...).
    pub name: String,
    /// Why.
    pub reason: String,
    /// Who applied it (a reviewer, or the automated rule that did).
    pub actor: String,
    /// When it was applied (logical seconds).
    pub applied_at: Timestamp,
    /// When it lapses, if ever.
    pub expires_at: Option<Timestamp>,
}

/// A label in force on an account's entity and why it reaches the account.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InheritedLabel {
    /// The label.
    pub label: Label,
    /// The account it was applied to.
    pub applied_to: AccountId,
    /// The strong links from the account asked about to `applied_to`, in order (empty
    /// when the label was applied to the account itself).
    pub path: Vec<Link>,
    /// The product of the path's confidences (1 for the account itself): links are read
    /// as independent, so a longer chain is less sure than its weakest link.
    pub confidence: f64,
}

impl InheritedLabel {
    /// The label and its chain in words, for a sign-up decision or a reviewer.
    pub fn describe(&self, account: AccountId) -> String {
        let label = format!(
            "label {} ({}; applied by {})",
            self.label.name, self.label.reason, self.label.actor
        );
        if self.applied_to == account {
            return format!("{label} is on account {account} itself");
        }
        let steps: Vec<String> = self
            .path
            .iter()
            .map(|l| format!("{} and {}: {}", l.a, l.b, l.evidence))
            .collect();
        format!(
            "{label} was applied to account {}, linked to account {account} (confidence {:.2}) by {}",
            self.applied_to,
            self.confidence,
            steps.join("; then ")
        )
    }
}

/// How entities are linked.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityConfig {
    /// Which email providers ignore dots and `+tags`.
    pub email: EmailRules,
    /// An identifier shared by more accounts than this links none of them (weak
    /// evidence). Five: a household's devices and a small family's shared line stay
    /// linked, a library computer or a school tablet does not.
    pub fan_out: usize,
}

impl Default for EntityConfig {
    fn default() -> Self {
        EntityConfig {
            email: EmailRules::default(),
            fan_out: DEFAULT_FAN_OUT,
        }
    }
}

/// The default fan-out limit (see [`EntityConfig::fan_out`]).
pub const DEFAULT_FAN_OUT: usize = 5;

/// Weak links listed per over-shared identifier (the evidence names the full count).
const WEAK_LISTED: usize = 10;

/// A resolved bio mention: `from`'s bio names `to`.
#[derive(Debug, Clone, PartialEq)]
struct MentionLink {
    from: AccountId,
    to: AccountId,
    cued: bool,
    phrase: String,
    handle: String,
}

impl MentionLink {
    fn merges(&self) -> bool {
        self.cued
    }

    /// The kind, read when asked: a handle is former once its account has another.
    fn kind(&self, current_handle: &BTreeMap<AccountId, String>) -> LinkKind {
        if !self.cued {
            LinkKind::BioMention
        } else if current_handle
            .get(&self.to)
            .is_some_and(|h| *h != self.handle)
        {
            LinkKind::FormerHandle
        } else {
            LinkKind::BioBackup
        }
    }
}

#[derive(Debug, Clone, Default)]
struct Group {
    members: Vec<AccountId>,
    /// The smallest member: the entity's id, whatever order accounts arrived in.
    min: AccountId,
    /// Labels with the account they were applied to (to regroup them after a split).
    labels: Vec<(AccountId, Label)>,
}

/// Accounts linked into entities, with labels on entities.
#[derive(Debug, Clone)]
pub struct EntityLinks {
    config: EntityConfig,
    /// Account -> key of its group in `groups`.
    group_of: BTreeMap<AccountId, AccountId>,
    groups: BTreeMap<AccountId, Group>,
    /// Identifier -> the distinct accounts using it, in arrival order.
    users: BTreeMap<Identifier, Vec<AccountId>>,
    identifiers_of: BTreeMap<AccountId, Vec<Identifier>>,
    /// Handle (lower case) -> account; former handles stay.
    by_handle: BTreeMap<String, AccountId>,
    /// The handle registered last per account (its current one).
    current_handle: BTreeMap<AccountId, String>,
    /// Handles named in bios before their account was known: handle -> (account, phrase, cued).
    pending_handles: BTreeMap<String, Vec<(AccountId, String, bool)>>,
    mentions: Vec<MentionLink>,
    mentions_of: BTreeMap<AccountId, Vec<usize>>,
    mentioned: BTreeSet<(AccountId, AccountId, String)>,
    /// Grows on every merge and split.
    changes: usize,
    labelled: usize,
    /// Accounts whose labels in force may have changed through a merge or a split since
    /// the last [`EntityLinks::take_changed`].
    changed: Vec<AccountId>,
}

impl Default for EntityLinks {
    fn default() -> Self {
        EntityLinks::with_config(EntityConfig::default())
    }
}

impl EntityLinks {
    /// No links, default configuration.
    pub fn new() -> EntityLinks {
        EntityLinks::default()
    }

    /// No links, with `config`.
    pub fn with_config(config: EntityConfig) -> EntityLinks {
        EntityLinks {
            config,
            group_of: BTreeMap::new(),
            groups: BTreeMap::new(),
            users: BTreeMap::new(),
            identifiers_of: BTreeMap::new(),
            by_handle: BTreeMap::new(),
            current_handle: BTreeMap::new(),
            pending_handles: BTreeMap::new(),
            mentions: Vec::new(),
            mentions_of: BTreeMap::new(),
            mentioned: BTreeSet::new(),
            changes: 0,
            labelled: 0,
            changed: Vec::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &EntityConfig {
        &self.config
    }

    fn ensure(&mut self, account: AccountId) -> AccountId {
        if let Some(&key) = self.group_of.get(&account) {
            return key;
        }
        self.group_of.insert(account, account);
        self.groups.insert(
            account,
            Group {
                members: vec![account],
                min: account,
                labels: Vec::new(),
            },
        );
        account
    }

    /// Joins the entities of `a` and `b`; whether they were apart.
    fn merge(&mut self, a: AccountId, b: AccountId) -> bool {
        let (key_a, key_b) = (self.ensure(a), self.ensure(b));
        if key_a == key_b {
            return false;
        }
        let size = |key: &AccountId| self.groups.get(key).map_or(0, |g| g.members.len());
        // The smaller group moves, so an account moves O(log n) times in all.
        let (keep, gone) = if size(&key_a) >= size(&key_b) {
            (key_a, key_b)
        } else {
            (key_b, key_a)
        };
        let Some(moved) = self.groups.remove(&gone) else {
            return false;
        };
        for member in &moved.members {
            self.group_of.insert(*member, keep);
        }
        if let Some(group) = self.groups.get_mut(&keep) {
            // Labels now reach the side that had none of them.
            if !moved.labels.is_empty() {
                self.changed.extend(&group.members);
            }
            if !group.labels.is_empty() {
                self.changed.extend(&moved.members);
            }
            group.members.extend(moved.members);
            group.min = group.min.min(moved.min);
            group.labels.extend(moved.labels);
        }
        self.changes += 1;
        true
    }

    /// Recomputes the entity of `account` from the strong links among its members (after
    /// an identifier went over the fan-out and stopped linking).
    fn split(&mut self, account: AccountId) {
        let Some(&key) = self.group_of.get(&account) else {
            return;
        };
        let Some(group) = self.groups.remove(&key) else {
            return;
        };
        for &member in &group.members {
            self.group_of.remove(&member);
        }
        for &member in &group.members {
            self.ensure(member);
        }
        for &member in &group.members {
            let identifiers = self
                .identifiers_of
                .get(&member)
                .cloned()
                .unwrap_or_default();
            for identifier in identifiers {
                let first = self
                    .users
                    .get(&identifier)
                    .filter(|users| users.len() <= self.config.fan_out)
                    .and_then(|users| users.first().copied());
                if let Some(first) = first {
                    self.merge(member, first);
                }
            }
            let indexes = self.mentions_of.get(&member).cloned().unwrap_or_default();
            for index in indexes {
                let pair = self
                    .mentions
                    .get(index)
                    .filter(|m| m.merges())
                    .map(|m| (m.from, m.to));
                if let Some((from, to)) = pair {
                    self.merge(from, to);
                }
            }
        }
        if !group.labels.is_empty() {
            self.changed.extend(&group.members);
        }
        for (applied_to, label) in group.labels {
            let key = self.ensure(applied_to);
            if let Some(group) = self.groups.get_mut(&key) {
                group.labels.push((applied_to, label));
            }
        }
        self.changes += 1;
    }

    /// Registers an account's handle (so bios naming it link to it). The handle registered
    /// last for an account is its current one; earlier ones stay as former handles.
    pub fn add_handle(&mut self, account: AccountId, handle: &str) {
        let handle = handle.trim().trim_start_matches('@').to_lowercase();
        self.ensure(account);
        self.by_handle.insert(handle.clone(), account);
        self.current_handle.insert(account, handle.clone());
        if let Some(waiting) = self.pending_handles.remove(&handle) {
            for (other, phrase, cued) in waiting {
                self.mention(other, account, &handle, phrase, cued);
            }
        }
    }

    fn mention(
        &mut self,
        from: AccountId,
        to: AccountId,
        handle: &str,
        phrase: String,
        cued: bool,
    ) {
        if from == to || !self.mentioned.insert((from, to, handle.to_string())) {
            return;
        }
        let index = self.mentions.len();
        self.mentions.push(MentionLink {
            from,
            to,
            cued,
            phrase,
            handle: handle.to_string(),
        });
        self.mentions_of.entry(from).or_default().push(index);
        self.mentions_of.entry(to).or_default().push(index);
        if cued {
            self.merge(from, to);
        }
    }

    /// Records that an account uses an identifier; links it to the others that do, unless
    /// more accounts than the fan-out limit use it (then it links none of them).
    pub fn add_identifier(&mut self, account: AccountId, identifier: Identifier) {
        self.ensure(account);
        let users = self.users.entry(identifier.clone()).or_default();
        if users.contains(&account) {
            return;
        }
        users.push(account);
        let (count, first) = (users.len(), users[0]);
        self.identifiers_of
            .entry(account)
            .or_default()
            .push(identifier);
        if count <= self.config.fan_out {
            self.merge(account, first);
        } else if count == self.config.fan_out.saturating_add(1) {
            // Over the limit just now: the entity it built is split again without it.
            self.split(first);
        }
    }

    /// Links an account to the accounts its bio names as backups or alternates (bare
    /// mentions are recorded as weak evidence).
    pub fn add_bio(&mut self, account: AccountId, bio: &str) {
        self.ensure(account);
        for BioMention {
            handle,
            phrase,
            cued,
        } in bio_mentions(bio)
        {
            match self.by_handle.get(&handle) {
                Some(&other) => self.mention(account, other, &handle, phrase, cued),
                None => {
                    let waiting = self.pending_handles.entry(handle).or_default();
                    if !waiting.iter().any(|(a, ..)| *a == account) {
                        waiting.push((account, phrase, cued));
                    }
                }
            }
        }
    }

    /// The entity (its smallest account) an account belongs to.
    pub fn entity_of(&self, account: AccountId) -> AccountId {
        self.group_of
            .get(&account)
            .and_then(|key| self.groups.get(key))
            .map_or(account, |g| g.min)
    }

    /// Every account of `account`'s entity, itself included, in id order.
    pub fn members(&self, account: AccountId) -> Vec<AccountId> {
        let mut members = self
            .group_of
            .get(&account)
            .and_then(|key| self.groups.get(key))
            .map_or_else(|| vec![account], |g| g.members.clone());
        members.sort_unstable();
        members
    }

    /// Every piece of evidence touching `account`: identifiers it shares (strong below the
    /// fan-out, weak above it, at most ten accounts listed per over-shared identifier) and
    /// bio mentions either way. Strongest first.
    pub fn links(&self, account: AccountId) -> Vec<Link> {
        let mut links = Vec::new();
        for identifier in self.identifiers_of.get(&account).into_iter().flatten() {
            let Some(users) = self.users.get(identifier) else {
                continue;
            };
            let kind = identifier.link_kind();
            let what = format!("{} {}", kind.as_str(), identifier.value());
            let over = users.len() > self.config.fan_out;
            let (evidence, confidence) = if over {
                (
                    format!(
                        "{what} is shared by {} accounts, over the fan-out limit of {}: weak evidence, not linked",
                        users.len(),
                        self.config.fan_out
                    ),
                    kind.confidence() * self.config.fan_out as f64 / users.len() as f64,
                )
            } else {
                (format!("both use {what}"), kind.confidence())
            };
            let others = users.iter().copied().filter(|&u| u != account);
            let listed = if over { WEAK_LISTED } else { usize::MAX };
            links.extend(others.take(listed).map(|other| Link {
                a: account,
                b: other,
                kind,
                evidence: evidence.clone(),
                confidence,
                merged: !over,
            }));
        }
        for &index in self.mentions_of.get(&account).into_iter().flatten() {
            let Some(mention) = self.mentions.get(index) else {
                continue;
            };
            let kind = mention.kind(&self.current_handle);
            let evidence = match kind {
                LinkKind::FormerHandle => format!(
                    "bio of {} names @{}, a former handle of {}: \"{}\"",
                    mention.from, mention.handle, mention.to, mention.phrase
                ),
                LinkKind::BioMention => format!(
                    "bio of {} mentions @{} without a backup cue: \"{}\"",
                    mention.from, mention.handle, mention.phrase
                ),
                _ => format!(
                    "bio of {} names @{}: \"{}\"",
                    mention.from, mention.handle, mention.phrase
                ),
            };
            links.push(Link {
                a: mention.from,
                b: mention.to,
                kind,
                evidence,
                confidence: kind.confidence(),
                merged: mention.merges(),
            });
        }
        links.sort_by(|x, y| {
            y.confidence
                .total_cmp(&x.confidence)
                .then(x.b.cmp(&y.b))
                .then(x.kind.cmp(&y.kind))
        });
        links
    }

    /// Labels the entity of `account`.
    pub fn label(&mut self, account: AccountId, label: Label) {
        let key = self.ensure(account);
        if let Some(group) = self.groups.get_mut(&key) {
            group.labels.push((account, label));
            self.labelled += 1;
        }
    }

    /// Lifts a label named `name` from an account's entity at `at` (it stops being in
    /// force then). Returns whether a label in force was lifted.
    pub fn lift(&mut self, account: AccountId, name: &str, at: Timestamp) -> bool {
        let Some(key) = self.group_of.get(&account).copied() else {
            return false;
        };
        let mut lifted = false;
        for (_, label) in self
            .groups
            .get_mut(&key)
            .into_iter()
            .flat_map(|g| g.labels.iter_mut())
        {
            if label.name == name && label.expires_at.is_none_or(|e| at < e) {
                label.expires_at = Some(at);
                lifted = true;
            }
        }
        lifted
    }

    /// Removes every label (to apply a list of labels again from its source).
    pub fn clear_labels(&mut self) {
        for group in self.groups.values_mut() {
            group.labels.clear();
        }
        self.labelled = 0;
    }

    /// Whether any label was ever applied (since the last [`EntityLinks::clear_labels`]).
    pub fn has_labels(&self) -> bool {
        self.labelled > 0
    }

    /// The earliest expiry after `at` among all labels (when entity actions next change
    /// without an event).
    pub fn next_expiry_after(&self, at: Timestamp) -> Option<Timestamp> {
        self.groups
            .values()
            .flat_map(|g| &g.labels)
            .filter_map(|(_, l)| l.expires_at)
            .filter(|&e| e > at)
            .min()
    }

    /// The accounts whose labels in force may have changed since the last call because
    /// their entity merged with or split from a labelled one (sorted, each once). Labelling
    /// itself is not listed: the caller knows whom it labelled. Only merges and splits
    /// touching labelled entities are kept, so a caller that never asks holds little.
    pub fn take_changed(&mut self) -> Vec<AccountId> {
        let mut changed = std::mem::take(&mut self.changed);
        changed.sort_unstable();
        changed.dedup();
        changed
    }

    /// A count that grows whenever the entities change (two merge, or one is split): equal
    /// counts before and after an operation mean no account changed entity.
    pub fn link_count(&self) -> usize {
        self.changes
    }

    /// The labels in force on an account's entity at logical time `at`.
    pub fn labels_at(&self, account: AccountId, at: Timestamp) -> Vec<Label> {
        self.group_of
            .get(&account)
            .and_then(|key| self.groups.get(key))
            .map(|group| {
                group
                    .labels
                    .iter()
                    .map(|(_, l)| l)
                    .filter(|l| l.applied_at <= at && l.expires_at.is_none_or(|e| at < e))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The labels in force on an account's entity at `at`, each with the chain of strong
    /// links from `account` to the account it was applied to: what a sign-up decision
    /// quotes when a new account arrives already labelled, and what a reviewer checks
    /// before acting on it.
    pub fn explain_labels(&self, account: AccountId, at: Timestamp) -> Vec<InheritedLabel> {
        let Some(group) = self
            .group_of
            .get(&account)
            .and_then(|key| self.groups.get(key))
        else {
            return Vec::new();
        };
        let mut explained = Vec::new();
        for (applied_to, label) in &group.labels {
            if label.applied_at > at || label.expires_at.is_some_and(|e| at >= e) {
                continue;
            }
            // Entities are components of strong links, so a path exists; were it ever
            // missing, the label still shows, with no chain and no confidence.
            let found = self.path(account, *applied_to);
            let confidence = found
                .as_ref()
                .map_or(0.0, |path| path.iter().map(|l| l.confidence).product());
            let path = found.unwrap_or_default();
            explained.push(InheritedLabel {
                label: label.clone(),
                applied_to: *applied_to,
                path,
                confidence,
            });
        }
        explained
    }

    /// The fewest strong links from `from` to `to` (breadth first; among equally short
    /// chains the one through the strongest links, as [`EntityLinks::links`] orders them).
    fn path(&self, from: AccountId, to: AccountId) -> Option<Vec<Link>> {
        let mut came_by: BTreeMap<AccountId, Link> = BTreeMap::new();
        let mut frontier = vec![from];
        let mut seen = BTreeSet::from([from]);
        while !frontier.is_empty() && !seen.contains(&to) {
            let mut next = Vec::new();
            for &at in &frontier {
                for link in self.links(at).into_iter().filter(|l| l.merged) {
                    let other = if link.a == at { link.b } else { link.a };
                    if seen.insert(other) {
                        came_by.insert(other, link);
                        next.push(other);
                    }
                }
            }
            frontier = next;
        }
        let mut path = Vec::new();
        let mut at = to;
        while at != from {
            let link = came_by.remove(&at)?;
            at = if link.a == at { link.b } else { link.a };
            path.push(link);
        }
        path.reverse();
        Some(path)
    }

    /// Accounts known (seen through a handle, bio, identifier or label).
    pub fn accounts(&self) -> usize {
        self.group_of.len()
    }
}
