//! The ledger as the dataflow's input: a folded ledger state becomes the map's first
//! input, and every event folded after it becomes the [`Update`]s that change the map's
//! inputs, so a [`crate::MapSession`] follows a live ledger.
//!
//! What it is for: the one translation from ledger events to map inputs for the scale
//! path, kept equal to what `guardrail_adapter::map_input` builds from the same ledger's
//! state (the single-node engine's input): follows as a set (a follow that was already
//! there, or an unfollow of nothing, changes nothing), profile views, likes and comments
//! pointed at the post's author as one unit of weight each, self-links dropped, reports
//! and blocks by declared minors counted on their target, accounts featuring minors from
//! their posts, and each account's text read in the order a rebuild reads it (bio, then
//! posts, then searches). Seeds come from the text, as in the ledger's own map: an account
//! whose bio or hashtags the text guard blocks. A test holds the updates, summed, to the
//! rebuild's input.
//!
//! What it must never do: do IO (the caller reads the store), read ground truth, or emit
//! an edge about an account before the update that creates it.

use guardrail_adapter::{AccountText, WorldText, map_input};
use guardrail_graph::EdgeKind;
use guardrail_graph::features::{AccountAttributes, MapInput, TextSignal};
use guardrail_ledger::event::{AccountAction, Event, Payload};
use guardrail_ledger::state::{Folded, LedgerState};
use guardrail_text::Policy;
use guardrail_types::{AccountId, AgeBand};

use crate::session::Update;

/// What the map needs to know about a ledger, kept up to date event by event.
#[derive(Debug, Clone)]
pub struct LedgerFeed {
    policy: Policy,
    texts: Vec<AccountText>,
    attributes: Vec<AccountAttributes>,
    /// Each account's posts, as indexes into the state's posts, in the order folded.
    posts_by_author: Vec<Vec<usize>>,
    /// Each account's searches, as indexes into the state's searches.
    searches_by_account: Vec<Vec<usize>>,
}

/// What a feed must see of the ledger's state before an event is folded.
#[derive(Debug, Clone, Copy)]
pub struct FoldContext {
    /// For a follow or an unfollow: the pair, and whether it was followed before.
    follow: Option<((AccountId, AccountId), bool)>,
    /// How many searches the state held (each search folded appends one, in order).
    searches: usize,
}

impl FoldContext {
    /// Reads `state` before it folds `event`.
    pub fn before(state: &LedgerState, event: &Event) -> FoldContext {
        // A follow is a set: whether the pair was there before tells a new follow from a
        // repeated one. An event folded later (it waited for an account) concerns an
        // account created in that fold, so its pair cannot have been there before.
        let follow = match &event.payload {
            Payload::Follow(action) | Payload::Unfollow(action) => {
                pair_of(state, action).map(|pair| (pair, state.follows.contains_key(&pair)))
            }
            _ => None,
        };
        FoldContext {
            follow,
            searches: state.searches.len(),
        }
    }
}

/// The map's input at the start of a feed: the graph and attributes (no seeds of their
/// own: the text below makes them) and the text guard's reading of every account.
#[derive(Debug, Clone)]
pub struct LedgerStart {
    /// Graph and attributes of the folded state.
    pub input: MapInput,
    /// The text guard's findings per account.
    pub text: WorldText,
}

fn declared_minor(state: &LedgerState, account: AccountId) -> bool {
    state
        .account(account)
        .is_some_and(|record| AgeBand::of_age(record.declared_age) == AgeBand::Minor)
}

fn pair_of(state: &LedgerState, action: &AccountAction) -> Option<(AccountId, AccountId)> {
    Some((
        state.account_id(&action.account)?,
        state.account_id(&action.target)?,
    ))
}

impl LedgerFeed {
    /// Reads `state` (a whole ledger folded so far): the feed, and the input to start a
    /// map session from.
    pub fn start(state: &LedgerState, policy: &Policy) -> (LedgerFeed, LedgerStart) {
        let world = state.world();
        let text = WorldText::read(&world, policy);
        let input = map_input(&world, Vec::new());
        let accounts = state.accounts.len();
        let mut posts_by_author = vec![Vec::new(); accounts];
        for (index, post) in state.posts.iter().enumerate() {
            if let Some(list) = posts_by_author.get_mut(post.author.index()) {
                list.push(index);
            }
        }
        let mut searches_by_account = vec![Vec::new(); accounts];
        for (index, search) in state.searches.iter().enumerate() {
            if let Some(list) = searches_by_account.get_mut(search.account.index()) {
                list.push(index);
            }
        }
        let feed = LedgerFeed {
            policy: policy.clone(),
            texts: text.clone().into_accounts(),
            attributes: input.accounts.clone(),
            posts_by_author,
            searches_by_account,
        };
        (feed, LedgerStart { input, text })
    }

    /// Accounts the feed knows.
    pub fn accounts(&self) -> usize {
        self.attributes.len()
    }

    /// One account's text as the map reads it (nothing matched for an unknown account).
    pub fn text_signal(&self, account: AccountId) -> TextSignal {
        self.texts
            .get(account.index())
            .map(AccountText::map_signal)
            .unwrap_or_default()
    }

    /// Folds `event` (sequence `seq`) into `state` and answers what changed in the map's
    /// inputs, in an order a session accepts (an account's creation before its links).
    pub fn fold(&mut self, state: &mut LedgerState, seq: u64, event: &Event) -> Vec<Update> {
        let before = FoldContext::before(state, event);
        let folded = state.fold(seq, event);
        self.after(state, before, &folded)
    }

    /// What changed in the map's inputs once `state` folded an event (`folded`, what the
    /// fold answered), given what [`FoldContext::before`] saw of the state before it: for
    /// a caller that folds the ledger itself.
    pub fn after(
        &mut self,
        state: &LedgerState,
        context: FoldContext,
        folded: &Folded,
    ) -> Vec<Update> {
        let FoldContext {
            follow: before,
            searches: mut next_search,
        } = context;
        let mut updates = Vec::new();
        let mut follow_pairs: Vec<((AccountId, AccountId), bool)> = Vec::new();
        let mut text_touched: Vec<AccountId> = Vec::new();
        let mut attributes_touched: Vec<AccountId> = Vec::new();
        for (_, applied) in &folded.applied {
            match &applied.payload {
                Payload::AccountCreated(created) => {
                    if let Some(account) = state.account_id(&created.account) {
                        self.add_account(state, account, &mut updates);
                    }
                }
                Payload::ProfileUpdated(update) => {
                    if update.bio.is_some()
                        && let Some(account) = state.account_id(&update.account)
                    {
                        self.reread_text(state, account);
                        text_touched.push(account);
                    }
                }
                Payload::Follow(action) | Payload::Unfollow(action) => {
                    if let Some(pair) = pair_of(state, action)
                        && !follow_pairs.iter().any(|(seen, _)| *seen == pair)
                    {
                        let was = match before {
                            Some((first, was)) if first == pair => was,
                            _ => false,
                        };
                        follow_pairs.push((pair, was));
                    }
                }
                Payload::View(action) => {
                    if let Some((source, target)) = pair_of(state, action) {
                        push_edge(&mut updates, source, target, EdgeKind::View, 1);
                    }
                }
                Payload::Like(touch) | Payload::Comment(touch) => {
                    let kind = if matches!(applied.payload, Payload::Like(_)) {
                        EdgeKind::Like
                    } else {
                        EdgeKind::Comment
                    };
                    let author = state
                        .post_id(&touch.post)
                        .and_then(|post| state.posts.get(post.index()))
                        .map(|post| post.author);
                    if let (Some(source), Some(author)) = (state.account_id(&touch.account), author)
                    {
                        push_edge(&mut updates, source, author, kind, 1);
                    }
                }
                Payload::Block(action) | Payload::ReportAccount(action) => {
                    if let Some((source, target)) = pair_of(state, action)
                        && declared_minor(state, source)
                        && let Some(attributes) = self.attributes.get_mut(target.index())
                    {
                        if matches!(applied.payload, Payload::Block(_)) {
                            attributes.blocks_from_minors += 1;
                        } else {
                            attributes.reports_from_minors += 1;
                        }
                        attributes_touched.push(target);
                    }
                }
                Payload::Post(published) => {
                    let found = state
                        .post_id(&published.post)
                        .and_then(|post| Some((post.index(), state.posts.get(post.index())?)));
                    if let Some((index, post)) = found
                        && let Some(text) = self.texts.get_mut(post.author.index())
                    {
                        text.read_post(&self.policy, &post.text, &post.hashtags);
                        if let Some(list) = self.posts_by_author.get_mut(post.author.index()) {
                            list.push(index);
                        }
                        text_touched.push(post.author);
                        if post.features_minor
                            && let Some(attributes) = self.attributes.get_mut(post.author.index())
                        {
                            attributes.features_minors = true;
                            attributes_touched.push(post.author);
                        }
                    }
                }
                Payload::Search(search) => {
                    if let Some(account) = state.account_id(&search.account)
                        && let Some(text) = self.texts.get_mut(account.index())
                    {
                        text.read_search(&self.policy, &search.query);
                        if let Some(list) = self.searches_by_account.get_mut(account.index()) {
                            list.push(next_search);
                        }
                        text_touched.push(account);
                    }
                    next_search += 1;
                }
                _ => {}
            }
        }
        for (pair, was) in follow_pairs {
            let now = state.follows.contains_key(&pair);
            if now != was {
                push_edge(
                    &mut updates,
                    pair.0,
                    pair.1,
                    EdgeKind::Follow,
                    if now { 1 } else { -1 },
                );
            }
        }
        attributes_touched.sort_unstable();
        attributes_touched.dedup();
        for account in attributes_touched {
            if let Some(&attributes) = self.attributes.get(account.index()) {
                updates.push(Update::Account {
                    node: account.0,
                    attributes,
                });
            }
        }
        text_touched.sort_unstable();
        text_touched.dedup();
        for account in text_touched {
            updates.push(Update::Text {
                node: account.0,
                signal: self.text_signal(account),
            });
        }
        updates
    }

    fn add_account(&mut self, state: &LedgerState, account: AccountId, updates: &mut Vec<Update>) {
        let Some(record) = state.account(account) else {
            return;
        };
        let index = account.index();
        if self.attributes.len() <= index {
            self.attributes
                .resize(index + 1, AccountAttributes::default());
            self.texts.resize(index + 1, AccountText::default());
            self.posts_by_author.resize(index + 1, Vec::new());
            self.searches_by_account.resize(index + 1, Vec::new());
        }
        self.attributes[index] = AccountAttributes {
            minor: AgeBand::of_age(record.declared_age) == AgeBand::Minor,
            ..AccountAttributes::default()
        };
        updates.push(Update::Account {
            node: account.0,
            attributes: self.attributes[index],
        });
        // The record is the state after the whole fold: a bio changed by an event that
        // waited for this account is already the record's bio.
        self.reread_text(state, account);
        let signal = self.text_signal(account);
        if signal != TextSignal::default() {
            updates.push(Update::Text {
                node: account.0,
                signal,
            });
        }
    }

    /// Reads an account's text again as a rebuild reads it: bio, posts, searches.
    fn reread_text(&mut self, state: &LedgerState, account: AccountId) {
        let Some(record) = state.account(account) else {
            return;
        };
        let index = account.index();
        let posts = self.posts_by_author.get(index).into_iter().flatten();
        let searches = self.searches_by_account.get(index).into_iter().flatten();
        let text = AccountText::of_account(
            &self.policy,
            &record.bio,
            posts.filter_map(|&i| state.posts.get(i)),
            searches.filter_map(|&i| state.searches.get(i)),
        );
        if let Some(slot) = self.texts.get_mut(index) {
            *slot = text;
        }
    }
}

fn push_edge(
    updates: &mut Vec<Update>,
    source: AccountId,
    target: AccountId,
    kind: EdgeKind,
    weight: i64,
) {
    // The single-node input drops self-links too.
    if source != target {
        updates.push(Update::Edge {
            source: source.0,
            target: target.0,
            kind,
            weight,
        });
    }
}
