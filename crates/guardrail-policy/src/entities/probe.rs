//! The sign-up probe: what linking an account that does not exist yet would do — the
//! links its identifiers, its bio and the bios naming its handle would make, and the labels
//! in force it would inherit, each with the chain that carries it.
//!
//! What it is for: a sign-up decision that says, before the account is created, "this is
//! the person behind a labelled account, and here is why". The account's own creation then
//! links it for real ([`EntityLinks::add_identifier`] and the rest), with the same rules.
//!
//! What it must never do: change the entities (it reads only), or link through what the
//! linker itself would not: an identifier the candidate would push over the fan-out limit
//! and a bare bio mention are weak evidence, listed, never inherited through.

use std::collections::BTreeMap;

use serde::Serialize;

use guardrail_types::{AccountId, Timestamp};

use super::{EntityLinks, Identifier, InheritedLabel, Link, LinkKind, bio_mentions};

/// An account about to be created, as the sign-up form carries it.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate<'a> {
    /// The id it will get (used only to name it in links).
    pub account: AccountId,
    /// Its handle.
    pub handle: &'a str,
    /// Its bio.
    pub bio: &'a str,
    /// Its identifiers, canonical ([`Identifier::email`], [`Identifier::phone_in`]...).
    pub identifiers: &'a [Identifier],
}

/// What linking a candidate would do.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Probe {
    /// Every link it would make, strong (`merged`) and weak, strongest first.
    pub links: Vec<Link>,
    /// The labels in force it would inherit, each through the strongest chain found,
    /// most confident first.
    pub labels: Vec<InheritedLabel>,
}

impl EntityLinks {
    /// What creating `candidate` would link and inherit at `at`.
    pub fn probe(&self, candidate: &Candidate<'_>, at: Timestamp) -> Probe {
        let me = candidate.account;
        let mut links = Vec::new();
        for identifier in candidate.identifiers {
            let users: Vec<AccountId> = self
                .users
                .get(identifier)
                .into_iter()
                .flatten()
                .copied()
                .filter(|&u| u != me)
                .collect();
            let count = users.len() + 1;
            let kind = identifier.link_kind();
            let what = format!("{} {}", kind.as_str(), identifier.value());
            let fan_out = self.config.fan_out;
            let (evidence, confidence, merged) = if count > fan_out {
                (
                    format!(
                        "{what} would be shared by {count} accounts, over the fan-out limit of {fan_out}: weak evidence, not linked"
                    ),
                    kind.confidence() * fan_out as f64 / count as f64,
                    false,
                )
            } else {
                (format!("both use {what}"), kind.confidence(), true)
            };
            links.extend(users.into_iter().map(|other| Link {
                a: me,
                b: other,
                kind,
                evidence: evidence.clone(),
                confidence,
                merged,
            }));
        }
        for mention in bio_mentions(candidate.bio) {
            let Some(&other) = self.by_handle.get(&mention.handle) else {
                continue;
            };
            let former = self
                .current_handle
                .get(&other)
                .is_some_and(|h| *h != mention.handle);
            let kind = match (mention.cued, former) {
                (false, _) => LinkKind::BioMention,
                (true, true) => LinkKind::FormerHandle,
                (true, false) => LinkKind::BioBackup,
            };
            links.push(Link {
                a: me,
                b: other,
                kind,
                evidence: format!(
                    "the new account's bio names @{}: \"{}\"",
                    mention.handle, mention.phrase
                ),
                confidence: kind.confidence(),
                merged: mention.cued,
            });
        }
        let handle = candidate
            .handle
            .trim()
            .trim_start_matches('@')
            .to_lowercase();
        for (other, phrase, cued) in self.pending_handles.get(&handle).into_iter().flatten() {
            let kind = if *cued {
                LinkKind::BioBackup
            } else {
                LinkKind::BioMention
            };
            links.push(Link {
                a: *other,
                b: me,
                kind,
                evidence: format!("bio of {other} names @{handle}: \"{phrase}\""),
                confidence: kind.confidence(),
                merged: *cued,
            });
        }
        links.sort_by(|x, y| {
            y.confidence
                .total_cmp(&x.confidence)
                .then(x.b.cmp(&y.b))
                .then(x.kind.cmp(&y.kind))
        });

        // Each label once (by where and when it was applied), through its surest chain.
        let mut labels: BTreeMap<(AccountId, String, Timestamp), InheritedLabel> = BTreeMap::new();
        for link in links.iter().filter(|l| l.merged) {
            let other = if link.a == me { link.b } else { link.a };
            for inherited in self.explain_labels(other, at) {
                let mut path = vec![link.clone()];
                path.extend(inherited.path);
                let through = InheritedLabel {
                    confidence: link.confidence * inherited.confidence,
                    path,
                    ..inherited
                };
                let key = (
                    through.applied_to,
                    through.label.name.clone(),
                    through.label.applied_at,
                );
                match labels.get(&key) {
                    Some(kept) if kept.confidence >= through.confidence => {}
                    _ => {
                        labels.insert(key, through);
                    }
                }
            }
        }
        let mut labels: Vec<InheritedLabel> = labels.into_values().collect();
        labels.sort_by(|x, y| y.confidence.total_cmp(&x.confidence));
        Probe { links, labels }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entities::Label;

    fn label() -> Label {
        Label {
            name: "csea.seller".into(),
            reason: "sold material".into(),
            actor: "reviewer-1".into(),
            applied_at: Timestamp(100),
            expires_at: None,
        }
    }

    #[test]
    fn a_probe_finds_the_label_the_new_account_would_inherit_and_changes_nothing() {
        let mut links = EntityLinks::new();
        let (seller, backup, stranger) = (AccountId(1), AccountId(2), AccountId(3));
        links.add_handle(seller, "quux_shop");
        links.add_bio(seller, "menu | backup @quux_next");
        links.add_handle(backup, "quux_two");
        links.add_identifier(backup, Identifier::device("and-7").expect("device"));
        links.add_bio(backup, "alt @quux_shop");
        links.add_handle(stranger, "river_fan");
        links.label(seller, label());
        let before = format!("{links:?}");

        // Named in the seller's bio before it exists, and on the backup's device.
        let device = [Identifier::device("and-7").expect("device")];
        let candidate = Candidate {
            account: AccountId(9),
            handle: "quux_next",
            bio: "photos by @river_fan",
            identifiers: &device,
        };
        let probe = links.probe(&candidate, Timestamp(200));
        assert_eq!(format!("{links:?}"), before, "a probe changes nothing");
        let kinds: Vec<(LinkKind, bool)> = probe.links.iter().map(|l| (l.kind, l.merged)).collect();
        assert_eq!(
            kinds,
            vec![
                (LinkKind::Device, true),
                (LinkKind::BioBackup, true),
                (LinkKind::BioMention, false)
            ]
        );
        assert_eq!(probe.labels.len(), 1, "one label, through its surest chain");
        let inherited = &probe.labels[0];
        assert_eq!(inherited.applied_to, seller);
        assert_eq!(
            inherited.path.len(),
            1,
            "named in the seller's bio: one step"
        );
        assert_eq!(inherited.path[0].kind, LinkKind::BioBackup);
        assert!((inherited.confidence - 0.85).abs() < 1e-12);
        assert!(
            inherited
                .describe(AccountId(9))
                .contains("bio of 1 names @quux_next"),
            "{}",
            inherited.describe(AccountId(9))
        );

        // A stranger's candidate inherits nothing; nor does one before the label.
        let none = Candidate {
            account: AccountId(10),
            handle: "new_person",
            bio: "hello @river_fan",
            identifiers: &[],
        };
        assert!(links.probe(&none, Timestamp(200)).labels.is_empty());
        assert!(links.probe(&candidate, Timestamp(50)).labels.is_empty());
    }

    #[test]
    fn an_identifier_the_candidate_would_push_over_the_fan_out_links_nothing() {
        let mut links = EntityLinks::new();
        let library = Identifier::device("pub-1").expect("device");
        for id in 0..5 {
            links.add_identifier(AccountId(id), library.clone());
        }
        links.label(AccountId(0), label());
        let identifiers = [library];
        let candidate = Candidate {
            account: AccountId(20),
            handle: "someone",
            bio: "",
            identifiers: &identifiers,
        };
        let probe = links.probe(&candidate, Timestamp(200));
        assert_eq!(probe.links.len(), 5);
        assert!(probe.links.iter().all(|l| !l.merged));
        assert!(probe.links[0].evidence.contains("shared by 6 accounts"));
        assert!(probe.labels.is_empty());
    }
}
