//! Views of the folded state: the logical day of a time, the public world projection
//! the derivations read, and the differences between two states that `rebuild --check`
//! names.
//!
//! What it must never do: change the state; these are reads.

use guardrail_world::{
    Account, AccountEdge, IdentifierKind, IdentifierRecord, Post, PostEdge, SearchEvent, World,
    WorldMeta,
};

use super::*;

impl LedgerState {
    /// The account a report's subject concerns: the account itself, or a post's author
    /// (`None` when the ledger does not hold it).
    pub fn subject_account(&self, subject: &crate::event::Subject) -> Option<AccountId> {
        match subject {
            crate::event::Subject::Account(id) => self.account_id(id),
            crate::event::Subject::Post(id) => self
                .post_id(id)
                .and_then(|p| self.posts.get(p.index()))
                .map(|p| p.author),
        }
    }

    /// The logical day of a time, counted from the ledger's first day.
    pub fn day_of(&self, at: u64) -> Day {
        let epoch = self.epoch.unwrap_or(0);
        Day(u32::try_from(at.saturating_sub(epoch) / SECONDS_PER_DAY).unwrap_or(u32::MAX))
    }

    /// The platform's public tables: every created account and published post under its
    /// dense id, and the events between them.
    pub fn world(&self) -> World {
        let accounts: Vec<Account> = self
            .accounts
            .iter()
            .enumerate()
            .map(|(index, record)| Account {
                id: AccountId(index as u32),
                handle: record.handle.clone(),
                declared_age: record.declared_age,
                gender: record.gender,
                country: record.country.clone(),
                interests: record.interests.clone(),
                business: record.business,
                created_at: self.day_of(record.created_at),
                bio: record.bio.clone(),
            })
            .collect();
        let posts: Vec<Post> = self
            .posts
            .iter()
            .enumerate()
            .map(|(index, record)| Post {
                id: PostId(index as u32),
                author: record.author,
                created_at: self.day_of(record.at),
                features_minor: record.features_minor,
                hashtags: record.hashtags.clone(),
                caption: record.text.clone(),
            })
            .collect();
        let edges = |list: &[Edge]| -> Vec<AccountEdge> {
            list.iter()
                .map(|e| AccountEdge {
                    src: e.src,
                    dst: e.dst,
                    at: self.day_of(e.at),
                })
                .collect()
        };
        let touches = |list: &[PostTouch]| -> Vec<PostEdge> {
            list.iter()
                .map(|t| PostEdge {
                    account: t.account,
                    post: t.post,
                    at: self.day_of(t.at),
                })
                .collect()
        };
        let follows: Vec<AccountEdge> = self
            .follows
            .iter()
            .map(|(&(src, dst), &at)| AccountEdge {
                src,
                dst,
                at: self.day_of(at),
            })
            .collect();
        let days = if self.epoch.is_none() {
            1
        } else {
            self.day_of(self.latest_at).0.saturating_add(1)
        };
        World {
            meta: WorldMeta {
                synthetic: false,
                seed: 0,
                format_version: 1,
                days,
            },
            accounts,
            posts,
            follows,
            views: edges(&self.views),
            likes: touches(&self.likes),
            comments: touches(&self.comments),
            searches: self
                .searches
                .iter()
                .map(|s| SearchEvent {
                    account: s.account,
                    at: self.day_of(s.at),
                    query: s.query.clone(),
                })
                .collect(),
            reports: edges(&self.account_reports),
            blocks: edges(&self.blocks),
            identifiers: self.identifiers(),
        }
    }

    /// Every identifier ever on an account, as world rows: by account, then emails, phones,
    /// devices and payment handles in the order they were recorded.
    pub fn identifiers(&self) -> Vec<IdentifierRecord> {
        let mut rows = Vec::new();
        for (index, record) in self.accounts.iter().enumerate() {
            for (kind, values) in [
                (IdentifierKind::Email, &record.emails),
                (IdentifierKind::Phone, &record.phones),
                (IdentifierKind::Device, &record.devices),
                (IdentifierKind::Payment, &record.payment_handles),
            ] {
                rows.extend(values.iter().map(|value| IdentifierRecord {
                    account: AccountId(index as u32),
                    kind,
                    value: value.clone(),
                }));
            }
        }
        rows
    }

    /// Each account's platform id, by dense id.
    pub fn external_ids(&self) -> Vec<String> {
        self.accounts.iter().map(|a| a.external.clone()).collect()
    }

    /// Where two states differ, in words (empty when equal). The first few differences
    /// of each kind are named.
    pub fn differences(&self, other: &LedgerState) -> Vec<String> {
        let mut out = Vec::new();
        if self.last_seq != other.last_seq {
            out.push(format!(
                "last sequence {} vs {}",
                self.last_seq, other.last_seq
            ));
        }
        compare_lists(&mut out, "account", &self.accounts, &other.accounts, |a| {
            a.external.clone()
        });
        compare_lists(&mut out, "post", &self.posts, &other.posts, |p| {
            p.external.clone()
        });
        if self.follows != other.follows {
            let missing = self
                .follows
                .keys()
                .filter(|k| !other.follows.contains_key(k));
            let extra = other
                .follows
                .keys()
                .filter(|k| !self.follows.contains_key(k));
            for (a, b) in missing.take(3) {
                out.push(format!("follow {} -> {} only in the first", a, b));
            }
            for (a, b) in extra.take(3) {
                out.push(format!("follow {} -> {} only in the second", a, b));
            }
        }
        for (name, a, b) in [
            ("views", &self.views, &other.views),
            (
                "account reports",
                &self.account_reports,
                &other.account_reports,
            ),
            ("blocks", &self.blocks, &other.blocks),
        ] {
            if a != b {
                out.push(format!(
                    "{name}: {} vs {} records, or different ones",
                    a.len(),
                    b.len()
                ));
            }
        }
        for (name, a, b) in [
            ("likes", &self.likes, &other.likes),
            ("comments", &self.comments, &other.comments),
        ] {
            if a != b {
                out.push(format!(
                    "{name}: {} vs {} records, or different ones",
                    a.len(),
                    b.len()
                ));
            }
        }
        if self.searches != other.searches {
            out.push("searches differ".into());
        }
        if self.labels != other.labels {
            out.push("labels differ".into());
        }
        if self.takedowns != other.takedowns {
            out.push("takedowns differ".into());
        }
        if self.reports != other.reports {
            let differing = self
                .reports
                .iter()
                .filter(|(id, r)| other.reports.get(*id) != Some(r))
                .map(|(id, _)| id.clone())
                .take(3)
                .collect::<Vec<_>>();
            out.push(format!("reports differ (first: {})", differing.join(", ")));
        }
        if self.text_policy != other.text_policy {
            out.push("published text policies differ".into());
        }
        if self.rules != other.rules {
            out.push("published rules differ".into());
        }
        if self.pending != other.pending {
            out.push(format!(
                "pending events: {} vs {}",
                self.pending.len(),
                other.pending.len()
            ));
        }
        if self.flags != other.flags {
            out.push(format!(
                "flags: {} vs {}",
                self.flags.len(),
                other.flags.len()
            ));
        }
        out
    }
}

fn compare_lists<T: PartialEq>(
    out: &mut Vec<String>,
    what: &str,
    a: &[T],
    b: &[T],
    name: impl Fn(&T) -> String,
) {
    if a.len() != b.len() {
        out.push(format!("{what}s: {} vs {}", a.len(), b.len()));
    }
    for (left, right) in a.iter().zip(b).filter(|(l, r)| l != r).take(3) {
        out.push(format!(
            "{what} {} differs from {}",
            name(left),
            name(right)
        ));
    }
}
