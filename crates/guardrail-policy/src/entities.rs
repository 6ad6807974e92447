//! Entities: the people behind accounts. Penalties that hit accounts, not people, are
//! how removed sellers came back ("backup" accounts named in bios). Accounts are linked
//! into entities through identifiers they share (devices, canonical emails, phones,
//! payment handles) and through backup handles named in bios; a new account of an
//! actioned entity inherits its restriction.
//!
//! Linking is a union-find over accounts; identifiers are canonicalised first, so
//! `Jane.Doe+ig2@example.com` and `janedoe@example.com` are one email.

use std::collections::BTreeMap;

use serde::Serialize;

use guardrail_types::{AccountId, Timestamp};

/// Something two accounts can share.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum Identifier {
    /// A device fingerprint.
    Device(String),
    /// An email, canonical (see [`canonical_email`]).
    Email(String),
    /// A phone number, digits only.
    Phone(String),
    /// A payment handle, lower case without a leading `$`/`@`.
    Payment(String),
}

impl Identifier {
    /// An email identifier, canonicalised; `None` if it is not an email.
    pub fn email(raw: &str) -> Option<Identifier> {
        canonical_email(raw).map(Identifier::Email)
    }

    /// A phone identifier (digits only); `None` if too short to identify anyone.
    pub fn phone(raw: &str) -> Option<Identifier> {
        let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
        (digits.len() >= 7).then_some(Identifier::Phone(digits))
    }

    /// A payment-handle identifier.
    pub fn payment(raw: &str) -> Option<Identifier> {
        let handle = raw.trim().trim_start_matches(['$', '@']).to_lowercase();
        (!handle.is_empty()).then_some(Identifier::Payment(handle))
    }
}

/// Lower case, `+tags` dropped and dots removed from the local part: the forms one
/// mailbox accepts. Applied to every domain, because evaders use these forms wherever
/// they work and a false link only merges what a reviewer then sees together.
pub fn canonical_email(raw: &str) -> Option<String> {
    let raw = raw.trim().to_lowercase();
    let (local, domain) = raw.rsplit_once('@')?;
    if local.is_empty() || domain.is_empty() || !domain.contains('.') {
        return None;
    }
    let local = local.split('+').next().unwrap_or(local);
    let local: String = local.chars().filter(|c| *c != '.').collect();
    if local.is_empty() {
        return None;
    }
    Some(format!("{local}@{domain}"))
}

/// Handles a bio points to: `@name` mentions, and names after words like `backup`.
pub fn handles_in_bio(bio: &str) -> Vec<String> {
    const CUES: [&str; 5] = ["backup", "bkup", "spare", "main", "alt"];
    let mut handles = Vec::new();
    let words: Vec<&str> = bio.split_whitespace().collect();
    for (index, word) in words.iter().enumerate() {
        let cleaned =
            word.trim_matches(|c: char| !(c.is_alphanumeric() || matches!(c, '@' | '_' | '.')));
        let candidate = if let Some(handle) = cleaned.strip_prefix('@') {
            Some(handle)
        } else if index > 0 && CUES.contains(&words[index - 1].to_lowercase().trim_end_matches(':'))
        {
            Some(cleaned)
        } else {
            None
        };
        if let Some(handle) = candidate {
            let handle = handle.trim_end_matches('.').to_lowercase();
            let valid = (2..=30).contains(&handle.len())
                && handle
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
            if valid && !handles.contains(&handle) {
                handles.push(handle);
            }
        }
    }
    handles
}

/// An enforcement label on an entity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Label {
    /// The label's name (`csea.seller`, `offender_registry`...).
    pub name: String,
    /// Why.
    pub reason: String,
    /// When it was applied (logical seconds).
    pub applied_at: Timestamp,
    /// When it lapses, if ever.
    pub expires_at: Option<Timestamp>,
}

/// Accounts linked into entities, with labels on entities.
#[derive(Debug, Clone, Default)]
pub struct EntityLinks {
    parent: BTreeMap<AccountId, AccountId>,
    by_identifier: BTreeMap<Identifier, AccountId>,
    by_handle: BTreeMap<String, AccountId>,
    /// Backup handles named before their account was known.
    pending_handles: BTreeMap<String, Vec<AccountId>>,
    labels: BTreeMap<AccountId, Vec<Label>>,
    /// Why two accounts were linked, for reviewers.
    evidence: Vec<(AccountId, AccountId, String)>,
}

impl EntityLinks {
    /// No links.
    pub fn new() -> EntityLinks {
        EntityLinks::default()
    }

    fn root(&mut self, account: AccountId) -> AccountId {
        let mut current = account;
        let mut path = Vec::new();
        while let Some(&parent) = self.parent.get(&current) {
            if parent == current {
                break;
            }
            path.push(current);
            current = parent;
        }
        for node in path {
            self.parent.insert(node, current);
        }
        self.parent.entry(current).or_insert(current);
        current
    }

    fn union(&mut self, a: AccountId, b: AccountId, why: String) {
        let (root_a, root_b) = (self.root(a), self.root(b));
        if root_a == root_b {
            return;
        }
        // The smaller id stays the root, so entity ids do not depend on insertion order.
        let (keep, merge) = if root_a < root_b {
            (root_a, root_b)
        } else {
            (root_b, root_a)
        };
        self.parent.insert(merge, keep);
        if let Some(labels) = self.labels.remove(&merge) {
            self.labels.entry(keep).or_default().extend(labels);
        }
        self.evidence.push((a, b, why));
    }

    /// Registers an account's handle (so bios naming it link to it).
    pub fn add_handle(&mut self, account: AccountId, handle: &str) {
        let handle = handle.trim_start_matches('@').to_lowercase();
        self.root(account);
        self.by_handle.insert(handle.clone(), account);
        if let Some(waiting) = self.pending_handles.remove(&handle) {
            for other in waiting {
                self.union(other, account, format!("bio of {other} names @{handle}"));
            }
        }
    }

    /// Records that an account uses an identifier; links it to others that do.
    pub fn add_identifier(&mut self, account: AccountId, identifier: Identifier) {
        self.root(account);
        match self.by_identifier.get(&identifier) {
            Some(&other) => self.union(account, other, format!("shared {identifier:?}")),
            None => {
                self.by_identifier.insert(identifier, account);
            }
        }
    }

    /// Links an account to the accounts its bio names as backups or alternates.
    pub fn add_bio(&mut self, account: AccountId, bio: &str) {
        self.root(account);
        for handle in handles_in_bio(bio) {
            match self.by_handle.get(&handle) {
                Some(&other) if other != account => {
                    self.union(account, other, format!("bio of {account} names @{handle}"))
                }
                Some(_) => {}
                None => self
                    .pending_handles
                    .entry(handle)
                    .or_default()
                    .push(account),
            }
        }
    }

    /// The entity (its representative account) an account belongs to.
    pub fn entity_of(&mut self, account: AccountId) -> AccountId {
        self.root(account)
    }

    /// Labels the entity of `account`.
    pub fn label(&mut self, account: AccountId, label: Label) {
        let root = self.root(account);
        self.labels.entry(root).or_default().push(label);
    }

    /// Lifts a label named `name` from an account's entity at `at` (it stops being in
    /// force then). Returns whether a label in force was lifted.
    pub fn lift(&mut self, account: AccountId, name: &str, at: Timestamp) -> bool {
        let root = self.root(account);
        let mut lifted = false;
        for label in self.labels.get_mut(&root).into_iter().flatten() {
            if label.name == name && label.expires_at.is_none_or(|e| at < e) {
                label.expires_at = Some(at);
                lifted = true;
            }
        }
        lifted
    }

    /// Removes every label (to apply a list of labels again from its source).
    pub fn clear_labels(&mut self) {
        self.labels.clear();
    }

    /// Whether any label was ever applied.
    pub fn has_labels(&self) -> bool {
        !self.labels.is_empty()
    }

    /// The earliest expiry after `at` among all labels (when entity actions next change
    /// without an event).
    pub fn next_expiry_after(&self, at: Timestamp) -> Option<Timestamp> {
        self.labels
            .values()
            .flatten()
            .filter_map(|l| l.expires_at)
            .filter(|&e| e > at)
            .min()
    }

    /// Links recorded so far (grows when two entities merge).
    pub fn link_count(&self) -> usize {
        self.evidence.len()
    }

    /// The labels in force on an account's entity at logical time `at`.
    pub fn labels_at(&mut self, account: AccountId, at: Timestamp) -> Vec<Label> {
        let root = self.root(account);
        self.labels
            .get(&root)
            .map(|labels| {
                labels
                    .iter()
                    .filter(|l| l.applied_at <= at && l.expires_at.is_none_or(|e| at < e))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Why accounts were linked: (account, account, reason).
    pub fn evidence(&self) -> &[(AccountId, AccountId, String)] {
        &self.evidence
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_canonicalise() {
        let rows = [
            ("Jane.Doe+ig2@Example.com", Some("janedoe@example.com")),
            ("janedoe@example.com", Some("janedoe@example.com")),
            ("j.a.n.e@mail.example", Some("jane@mail.example")),
            ("not-an-email", None),
            ("@example.com", None),
            ("+tag@example.com", None),
        ];
        for (raw, expected) in rows {
            assert_eq!(canonical_email(raw).as_deref(), expected, "{raw}");
        }
    }

    #[test]
    fn bios_name_backup_handles() {
        let rows: [(&str, &[&str]); 5] = [
            ("backup @seller_two. dm", &["seller_two"]),
            ("new acc: follow backup seller.three", &["seller.three"]),
            ("my main: quux.main", &["quux.main"]),
            ("love my dog @rex and @rex", &["rex"]),
            ("no handles here", &[]),
        ];
        for (bio, expected) in rows {
            assert_eq!(handles_in_bio(bio), expected, "{bio}");
        }
    }

    #[test]
    fn a_new_account_inherits_the_entitys_label() {
        let mut links = EntityLinks::new();
        let (old, new, unrelated) = (AccountId(10), AccountId(11), AccountId(12));
        links.add_handle(old, "quux_shop");
        links.label(
            old,
            Label {
                name: "csea.seller".into(),
                reason: "sold material".into(),
                applied_at: Timestamp(100),
                expires_at: None,
            },
        );
        // The new account names the old one in its bio and shares an email form.
        links.add_bio(new, "backup @quux_shop");
        links.add_identifier(
            new,
            Identifier::email("Q.u.u.x+2@example.com").expect("email"),
        );
        links.add_identifier(
            unrelated,
            Identifier::email("other@example.com").expect("email"),
        );
        assert_eq!(links.labels_at(new, Timestamp(200)).len(), 1);
        assert!(links.labels_at(unrelated, Timestamp(200)).is_empty());
        assert!(
            links.labels_at(new, Timestamp(50)).is_empty(),
            "not before it was applied"
        );
        // Linking by a handle named before its account existed.
        let (early, later) = (AccountId(20), AccountId(21));
        links.add_bio(early, "main @later_acc");
        links.add_handle(later, "later_acc");
        assert_eq!(links.entity_of(early), links.entity_of(later));
        // Shared payment handles and devices link too.
        links.add_identifier(
            AccountId(30),
            Identifier::payment("$QuuxPay").expect("payment"),
        );
        links.add_identifier(
            AccountId(31),
            Identifier::payment("quuxpay").expect("payment"),
        );
        assert_eq!(
            links.entity_of(AccountId(30)),
            links.entity_of(AccountId(31))
        );
    }
}
