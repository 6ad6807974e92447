//! The fold: events in sequence order become the platform's state — accounts with their
//! profiles and identifiers, posts, who follows, views, likes, comments, searches, reports
//! and blocks whom, and Guardrail's own records (labels, enforcement, reports received,
//! rule sets).
//!
//! What it is for: the derived state every decision reads is built from this fold, and a
//! rebuild from the first event must give the same state as the fold kept up to date
//! event by event (a property test and `guardrail ledger rebuild --check` prove it).
//! Accounts get dense ids ([`AccountId`]) in the order the ledger first mentions them, so
//! folding the same events always numbers them the same way.
//!
//! What it must never do: drop an event. An event about an account or post the ledger has
//! not seen created yet is applied to a placeholder and flagged ([`Flag`]); a later
//! creation fills the placeholder in. Placeholders never created stay out of the public
//! tables ([`LedgerState::world`]), and the guard treats them as unknown.

use std::collections::{BTreeMap, HashMap};

use guardrail_types::{AccountId, Day, Gender, PostId, SECONDS_PER_DAY};
use guardrail_world::{Account, AccountEdge, Post, PostEdge, SearchEvent, World, WorldMeta};
use serde::{Deserialize, Serialize};

use crate::event::{Event, Payload, Subject};

/// What the ledger knows about one account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountRecord {
    /// The platform's id.
    pub external: String,
    /// Whether an `account_created` event was folded (else a placeholder).
    pub created: bool,
    /// When it was created (Unix seconds).
    pub created_at: u64,
    /// Public handle.
    pub handle: String,
    /// Declared age.
    pub declared_age: u8,
    /// Bio.
    pub bio: String,
    /// Declared gender.
    pub gender: Gender,
    /// Country code.
    pub country: String,
    /// Declared interests.
    pub interests: Vec<String>,
    /// A business account.
    pub business: bool,
    /// Emails ever on the account.
    pub emails: Vec<String>,
    /// Phone numbers ever on the account.
    pub phones: Vec<String>,
    /// Devices ever seen.
    pub devices: Vec<String>,
    /// Payment handles ever on the account.
    pub payment_handles: Vec<String>,
}

impl AccountRecord {
    fn placeholder(external: &str) -> AccountRecord {
        AccountRecord {
            external: external.to_string(),
            created: false,
            created_at: 0,
            handle: String::new(),
            declared_age: 0,
            bio: String::new(),
            gender: Gender::Other,
            country: String::new(),
            interests: Vec::new(),
            business: false,
            emails: Vec::new(),
            phones: Vec::new(),
            devices: Vec::new(),
            payment_handles: Vec::new(),
        }
    }
}

/// What the ledger knows about one post.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostRecord {
    /// The platform's id.
    pub external: String,
    /// Whether a `post` event was folded (else a placeholder).
    pub published: bool,
    /// The author.
    pub author: AccountId,
    /// When it was published (Unix seconds).
    pub at: u64,
    /// Caption.
    pub text: String,
    /// Hashtags without `#`.
    pub hashtags: Vec<String>,
    /// Media hashes.
    pub media_hashes: Vec<String>,
    /// Features a minor.
    pub features_minor: bool,
}

/// An account-to-account event as folded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edge {
    /// Who acted.
    pub src: AccountId,
    /// On whom.
    pub dst: AccountId,
    /// When.
    pub at: u64,
}

/// An account-to-post event as folded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostTouch {
    /// Who acted.
    pub account: AccountId,
    /// The post.
    pub post: PostId,
    /// When.
    pub at: u64,
}

/// A search as folded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Search {
    /// Who searched.
    pub account: AccountId,
    /// When.
    pub at: u64,
    /// What.
    pub query: String,
}

/// A label on the person behind an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelRecord {
    /// The account it was applied through.
    pub account: AccountId,
    /// The label.
    pub label: String,
    /// Why.
    pub reason: String,
    /// Who.
    pub actor: String,
    /// When (Unix seconds).
    pub applied_at: u64,
    /// When it lapses.
    pub expires_at: Option<u64>,
    /// When it was lifted early, if it was.
    pub lifted_at: Option<u64>,
}

/// A report received, and where it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportRecord {
    /// The report id.
    pub report: String,
    /// The reporter's key.
    pub client_key: String,
    /// The category.
    pub category: String,
    /// What is reported.
    pub subject: Subject,
    /// The sequence number of its receipt.
    pub received_seq: u64,
    /// When it was received.
    pub received_at: u64,
    /// Its state now.
    pub state: String,
    /// When it last changed state.
    pub state_at: u64,
}

/// Something the fold noticed about an event it applied anyway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flag {
    /// The event's sequence number.
    pub seq: u64,
    /// The event's id.
    pub event_id: String,
    /// What was odd.
    pub reason: String,
}

/// The platform's state, as folded from the ledger.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LedgerState {
    /// The last sequence number folded.
    pub last_seq: u64,
    /// The start of the day of the first event (the origin of the public tables' days).
    pub epoch: Option<u64>,
    /// The latest event time seen.
    pub latest_at: u64,
    /// Accounts, by dense id.
    pub accounts: Vec<AccountRecord>,
    account_ids: HashMap<String, AccountId>,
    /// Posts, by dense id.
    pub posts: Vec<PostRecord>,
    post_ids: HashMap<String, PostId>,
    /// Current follows, with the time of the follow.
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
    pub takedowns: BTreeMap<AccountId, u64>,
    /// Reports received by Guardrail, by id.
    pub reports: BTreeMap<String, ReportRecord>,
    /// The latest published rule set: version and TOML.
    pub rules: Option<(u64, String)>,
    /// Decisions logged.
    pub decisions_logged: u64,
    /// Events applied to placeholders, or otherwise odd.
    pub flags: Vec<Flag>,
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

    /// The dense id of an account the ledger has mentioned.
    pub fn account_id(&self, external: &str) -> Option<AccountId> {
        self.account_ids.get(external).copied()
    }

    /// The dense id of a post the ledger has mentioned.
    pub fn post_id(&self, external: &str) -> Option<PostId> {
        self.post_ids.get(external).copied()
    }

    /// An account's record.
    pub fn account(&self, id: AccountId) -> Option<&AccountRecord> {
        self.accounts.get(id.index())
    }

    /// Folds one event (`seq` is its sequence number). Returns the flags it raised.
    pub fn apply(&mut self, seq: u64, event: &Event) -> Vec<Flag> {
        let before = self.flags.len();
        self.last_seq = seq;
        let day_start = event.at - event.at % SECONDS_PER_DAY;
        self.epoch = Some(self.epoch.map_or(day_start, |e| e.min(day_start)));
        self.latest_at = self.latest_at.max(event.at);
        let flag = |state: &mut LedgerState, reason: String| {
            state.flags.push(Flag {
                seq,
                event_id: event.id.clone(),
                reason,
            });
        };
        match &event.payload {
            Payload::AccountCreated(created) => {
                let id = self.mention_account(&created.account, seq, &event.id);
                let record = &mut self.accounts[id.index()];
                if record.created {
                    flag(
                        self,
                        format!(
                            "account {} created again; the first creation stands",
                            created.account
                        ),
                    );
                    return self.flags[before..].to_vec();
                }
                record.created = true;
                record.created_at = event.at;
                record.handle = created.handle.clone();
                record.declared_age = created.declared_age;
                record.bio = created.bio.clone();
                record.gender = created
                    .gender
                    .as_deref()
                    .and_then(Gender::parse)
                    .unwrap_or(Gender::Other);
                record.country = created.country.clone().unwrap_or_default();
                record.interests = created.interests.clone();
                record.business = created.business;
                extend_unique(&mut record.emails, &created.emails);
                extend_unique(&mut record.phones, &created.phones);
                extend_unique(&mut record.devices, &created.devices);
                extend_unique(&mut record.payment_handles, &created.payment_handles);
                // The placeholder's own flag was raised when it was first mentioned.
                self.flags.truncate(before);
            }
            Payload::ProfileUpdated(update) => {
                let id = self.known_account(&update.account, seq, &event.id);
                let record = &mut self.accounts[id.index()];
                if let Some(handle) = &update.handle {
                    record.handle = handle.clone();
                }
                if let Some(bio) = &update.bio {
                    record.bio = bio.clone();
                }
                extend_unique(&mut record.emails, &update.emails);
                extend_unique(&mut record.phones, &update.phones);
                extend_unique(&mut record.devices, &update.devices);
                extend_unique(&mut record.payment_handles, &update.payment_handles);
            }
            Payload::Follow(action) => {
                let (src, dst) = self.pair(&action.account, &action.target, seq, &event.id);
                self.follows.entry((src, dst)).or_insert(event.at);
            }
            Payload::Unfollow(action) => {
                let (src, dst) = self.pair(&action.account, &action.target, seq, &event.id);
                self.follows.remove(&(src, dst));
            }
            Payload::Block(action) => {
                let (src, dst) = self.pair(&action.account, &action.target, seq, &event.id);
                self.blocks.push(Edge {
                    src,
                    dst,
                    at: event.at,
                });
            }
            Payload::View(action) => {
                let (src, dst) = self.pair(&action.account, &action.target, seq, &event.id);
                self.views.push(Edge {
                    src,
                    dst,
                    at: event.at,
                });
            }
            Payload::ReportAccount(action) => {
                let (src, dst) = self.pair(&action.account, &action.target, seq, &event.id);
                self.account_reports.push(Edge {
                    src,
                    dst,
                    at: event.at,
                });
            }
            Payload::Post(post) => {
                let author = self.known_account(&post.account, seq, &event.id);
                let id = self.mention_post(&post.post, author, seq, &event.id);
                let record = &mut self.posts[id.index()];
                if record.published {
                    flag(
                        self,
                        format!("post {} published again; the first stands", post.post),
                    );
                    return self.flags[before..].to_vec();
                }
                record.published = true;
                record.author = author;
                record.at = event.at;
                record.text = post.text.clone();
                record.hashtags = post
                    .hashtags
                    .iter()
                    .map(|t| t.trim_start_matches('#').to_string())
                    .collect();
                record.media_hashes = post.media_hashes.clone();
                record.features_minor = post.features_minor.unwrap_or(false);
                // The placeholder's flag (a like before the post) stays: it was odd.
            }
            Payload::Like(touch) | Payload::Comment(touch) => {
                let account = self.known_account(&touch.account, seq, &event.id);
                let post = match self.post_id(&touch.post) {
                    Some(post) => post,
                    None => {
                        // The author is unknown until the post arrives.
                        self.mention_post(&touch.post, account, seq, &event.id)
                    }
                };
                let folded = PostTouch {
                    account,
                    post,
                    at: event.at,
                };
                if matches!(event.payload, Payload::Like(_)) {
                    self.likes.push(folded);
                } else {
                    self.comments.push(folded);
                }
            }
            Payload::Search(search) => {
                let account = self.known_account(&search.account, seq, &event.id);
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
                        },
                    );
                }
            }
            Payload::ReportTransition(transition) => match self.reports.get_mut(&transition.report)
            {
                Some(record) => {
                    if record.state != transition.from {
                        let reason = format!(
                            "report {} moved from {} but was in {}",
                            transition.report, transition.from, record.state
                        );
                        record.state = transition.to.clone();
                        record.state_at = event.at;
                        flag(self, reason);
                    } else {
                        record.state = transition.to.clone();
                        record.state_at = event.at;
                    }
                }
                None => flag(
                    self,
                    format!("transition of unknown report {}", transition.report),
                ),
            },
            Payload::ReviewDecision(_) => {}
            Payload::Enforcement(action) => {
                let account = self.known_account(&action.account, seq, &event.id);
                if action.action == "takedown" {
                    self.takedowns.entry(account).or_insert(event.at);
                }
            }
            Payload::LabelApplied(label) => {
                let account = self.known_account(&label.account, seq, &event.id);
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
                let account = self.known_account(&lifted.account, seq, &event.id);
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
        }
        self.flags[before..].to_vec()
    }

    fn mention_account(&mut self, external: &str, seq: u64, event_id: &str) -> AccountId {
        if let Some(id) = self.account_ids.get(external) {
            return *id;
        }
        let id = AccountId(self.accounts.len() as u32);
        self.accounts.push(AccountRecord::placeholder(external));
        self.account_ids.insert(external.to_string(), id);
        self.flags.push(Flag {
            seq,
            event_id: event_id.to_string(),
            reason: format!("account {external} was not created yet; kept as a placeholder"),
        });
        id
    }

    /// The id of an account an event is about, flagging it when it was never created.
    fn known_account(&mut self, external: &str, seq: u64, event_id: &str) -> AccountId {
        let id = self.mention_account(external, seq, event_id);
        if !self.accounts[id.index()].created
            && !self.flags.last().is_some_and(|f| f.seq == seq)
        {
            self.flags.push(Flag {
                seq,
                event_id: event_id.to_string(),
                reason: format!("account {external} was not created yet"),
            });
        }
        id
    }

    fn pair(&mut self, src: &str, dst: &str, seq: u64, event_id: &str) -> (AccountId, AccountId) {
        (
            self.known_account(src, seq, event_id),
            self.known_account(dst, seq, event_id),
        )
    }

    fn mention_post(&mut self, external: &str, author: AccountId, seq: u64, event_id: &str) -> PostId {
        if let Some(id) = self.post_ids.get(external) {
            return *id;
        }
        let id = PostId(self.posts.len() as u32);
        self.posts.push(PostRecord {
            external: external.to_string(),
            published: false,
            author,
            at: 0,
            text: String::new(),
            hashtags: Vec::new(),
            media_hashes: Vec::new(),
            features_minor: false,
        });
        self.post_ids.insert(external.to_string(), id);
        self.flags.push(Flag {
            seq,
            event_id: event_id.to_string(),
            reason: format!("post {external} was not published yet; kept as a placeholder"),
        });
        id
    }

    /// The logical day of a time, counted from the ledger's first day.
    pub fn day_of(&self, at: u64) -> Day {
        let epoch = self.epoch.unwrap_or(0);
        Day(u32::try_from(at.saturating_sub(epoch) / SECONDS_PER_DAY).unwrap_or(u32::MAX))
    }

    /// The platform's public tables: created accounts and published posts, renumbered
    /// densely in ledger order, and the events between them. Placeholders that were never
    /// created (and everything that touches them) are left out.
    pub fn world(&self) -> World {
        let (accounts, account_rows) = self.public_accounts();
        let account = |id: AccountId| account_rows.get(id.index()).copied().flatten();
        let mut post_rows: Vec<Option<PostId>> = Vec::with_capacity(self.posts.len());
        let mut posts = Vec::new();
        for record in &self.posts {
            let row = match (record.published, account(record.author)) {
                (true, Some(author)) => {
                    let id = PostId(posts.len() as u32);
                    posts.push(Post {
                        id,
                        author,
                        created_at: self.day_of(record.at),
                        features_minor: record.features_minor,
                        hashtags: record.hashtags.clone(),
                        caption: record.text.clone(),
                    });
                    Some(id)
                }
                _ => None,
            };
            post_rows.push(row);
        }
        let post = |id: PostId| post_rows.get(id.index()).copied().flatten();
        let edges = |list: &[Edge]| -> Vec<AccountEdge> {
            list.iter()
                .filter_map(|e| {
                    Some(AccountEdge {
                        src: account(e.src)?,
                        dst: account(e.dst)?,
                        at: self.day_of(e.at),
                    })
                })
                .collect()
        };
        let touches = |list: &[PostTouch]| -> Vec<PostEdge> {
            list.iter()
                .filter_map(|t| {
                    Some(PostEdge {
                        account: account(t.account)?,
                        post: post(t.post)?,
                        at: self.day_of(t.at),
                    })
                })
                .collect()
        };
        let follows: Vec<Edge> = self
            .follows
            .iter()
            .map(|(&(src, dst), &at)| Edge { src, dst, at })
            .collect();
        let mut follows = edges(&follows);
        follows.sort_by_key(|e| (e.src, e.dst));
        let days = if self.accounts.is_empty() {
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
                .filter_map(|s| {
                    Some(SearchEvent {
                        account: account(s.account)?,
                        at: self.day_of(s.at),
                        query: s.query.clone(),
                    })
                })
                .collect(),
            reports: edges(&self.account_reports),
            blocks: edges(&self.blocks),
        }
    }

    /// The created accounts as public records, and each ledger id's public row.
    fn public_accounts(&self) -> (Vec<Account>, Vec<Option<AccountId>>) {
        let mut rows = Vec::with_capacity(self.accounts.len());
        let mut accounts = Vec::new();
        for record in &self.accounts {
            if !record.created {
                rows.push(None);
                continue;
            }
            let id = AccountId(accounts.len() as u32);
            accounts.push(Account {
                id,
                handle: record.handle.clone(),
                declared_age: record.declared_age,
                gender: record.gender,
                country: record.country.clone(),
                interests: record.interests.clone(),
                business: record.business,
                created_at: self.day_of(record.created_at),
                bio: record.bio.clone(),
            });
            rows.push(Some(id));
        }
        (accounts, rows)
    }

    /// Each public row's ledger id (the inverse of the numbering in [`LedgerState::world`]).
    pub fn public_rows(&self) -> Vec<AccountId> {
        self.accounts
            .iter()
            .enumerate()
            .filter(|(_, record)| record.created)
            .map(|(index, _)| AccountId(index as u32))
            .collect()
    }

    /// Where two states differ, in words (empty when equal). The first few differences
    /// of each kind are named.
    pub fn differences(&self, other: &LedgerState) -> Vec<String> {
        let mut out = Vec::new();
        if self.last_seq != other.last_seq {
            out.push(format!("last sequence {} vs {}", self.last_seq, other.last_seq));
        }
        compare_lists(&mut out, "account", &self.accounts, &other.accounts, |a| {
            a.external.clone()
        });
        compare_lists(&mut out, "post", &self.posts, &other.posts, |p| {
            p.external.clone()
        });
        if self.follows != other.follows {
            let missing = self.follows.keys().filter(|k| !other.follows.contains_key(k));
            let extra = other.follows.keys().filter(|k| !self.follows.contains_key(k));
            for (a, b) in missing.take(3) {
                out.push(format!("follow {} -> {} only in the first", a, b));
            }
            for (a, b) in extra.take(3) {
                out.push(format!("follow {} -> {} only in the second", a, b));
            }
        }
        for (name, a, b) in [
            ("views", &self.views, &other.views),
            ("account reports", &self.account_reports, &other.account_reports),
            ("blocks", &self.blocks, &other.blocks),
        ] {
            if a != b {
                out.push(format!("{name}: {} vs {} records, or different ones", a.len(), b.len()));
            }
        }
        for (name, a, b) in [
            ("likes", &self.likes, &other.likes),
            ("comments", &self.comments, &other.comments),
        ] {
            if a != b {
                out.push(format!("{name}: {} vs {} records, or different ones", a.len(), b.len()));
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
        if self.rules != other.rules {
            out.push("published rules differ".into());
        }
        if self.flags != other.flags {
            out.push(format!("flags: {} vs {}", self.flags.len(), other.flags.len()));
        }
        out
    }
}

fn extend_unique(into: &mut Vec<String>, from: &[String]) {
    for item in from {
        if !into.contains(item) {
            into.push(item.clone());
        }
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
        out.push(format!("{what} {} differs from {}", name(left), name(right)));
    }
}
