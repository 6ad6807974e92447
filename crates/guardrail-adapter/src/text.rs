//! The text guard's reading of a world: one verdict per account over its bio, its posts
//! (hashtags and captions) and its searches, kept as data so the network map and the
//! decision engine read the same findings.
//!
//! What it must never do: guess. An account's text level is the strictest verdict the text
//! guard gave on something that account wrote, with the rules that matched.

use guardrail_graph::NodeId;
use guardrail_graph::features::{MapInput, TextSignal as MapTextSignal, TextSignals};
use guardrail_ledger::state::{PostRecord, Search};
use guardrail_policy::TextSignal as PolicyTextSignal;
use guardrail_text::{Policy, TextDecision, TextPlace, Tier, check};
use guardrail_types::AccountId;
use guardrail_world::World;
use serde::Serialize;

/// At most this many rule ids are kept per account (evidence, not an inventory).
const MAX_RULES: usize = 8;

/// What the text guard found on one account.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct AccountText {
    /// Strictest verdict on the bio.
    pub bio: TextDecision,
    /// Strictest verdict over the account's hashtags and captions.
    pub posts: TextDecision,
    /// Strictest verdict over the account's search queries.
    pub searches: TextDecision,
    /// Highest risk score seen on the bio or a post.
    pub risk_score: f64,
    /// Most severe tier matched on the bio or a post (signal matches included).
    pub worst_tier: Option<Tier>,
    /// Rules that matched, first seen first.
    pub rules: Vec<String>,
}

/// The text guard's findings for every account of a world.
#[derive(Debug, Clone, Default)]
pub struct WorldText {
    accounts: Vec<AccountText>,
}

impl AccountText {
    /// The decision engine's view of this account's text.
    pub fn policy_signal(&self) -> PolicyTextSignal {
        PolicyTextSignal {
            worst_tier: self.worst_tier,
            risk_score: self.risk_score,
            rules: self.rules.clone(),
        }
    }

    /// Reads an account's texts in the order a rebuild reads them: the bio, then its
    /// posts, then its searches (so the rules matched come in the same order).
    pub fn of_account<'a>(
        policy: &Policy,
        bio: &str,
        posts: impl IntoIterator<Item = &'a PostRecord>,
        searches: impl IntoIterator<Item = &'a Search>,
    ) -> AccountText {
        let mut text = AccountText::default();
        text.read_bio(policy, bio);
        for post in posts {
            text.read_post(policy, &post.text, &post.hashtags);
        }
        for search in searches {
            text.read_search(policy, &search.query);
        }
        text
    }

    /// The network map's view of this account's text.
    pub fn map_signal(&self) -> MapTextSignal {
        MapTextSignal {
            bio: self.bio,
            posts: self.posts,
            searches: self.searches,
            rules: self.rules.clone(),
        }
    }

    /// Reads a bio.
    pub fn read_bio(&mut self, policy: &Policy, bio: &str) {
        self.bio = self.absorb(policy, TextPlace::Bio, bio);
    }

    /// Reads a post: its caption and hashtags.
    pub fn read_post(&mut self, policy: &Policy, caption: &str, hashtags: &[String]) {
        let mut strictest = self.absorb(policy, TextPlace::Caption, caption);
        for tag in hashtags {
            strictest = strictest.max(self.absorb(policy, TextPlace::Hashtag, tag));
        }
        self.posts = self.posts.max(strictest);
    }

    /// Reads a search query (a weaker signal of its own; not scored into the account's
    /// risk, because advocates and researchers search for what they report).
    pub fn read_search(&mut self, policy: &Policy, query: &str) {
        let verdict = check(policy, TextPlace::Search, query);
        self.searches = self.searches.max(verdict.decision);
    }

    pub(crate) fn absorb(&mut self, policy: &Policy, place: TextPlace, text: &str) -> TextDecision {
        let verdict = check(policy, place, text);
        for found in &verdict.matches {
            self.worst_tier = self.worst_tier.max(Some(found.tier));
            if self.rules.len() < MAX_RULES && !self.rules.iter().any(|r| **r == *found.rule) {
                self.rules.push(found.rule.to_string());
            }
        }
        self.risk_score = self.risk_score.max(verdict.risk_score);
        verdict.decision
    }
}

impl WorldText {
    /// Runs the text guard over every bio, post and search of `world`.
    pub fn read(world: &World, policy: &Policy) -> WorldText {
        let mut accounts = vec![AccountText::default(); world.accounts.len()];
        for account in &world.accounts {
            accounts[account.id.index()].read_bio(policy, &account.bio);
        }
        for post in &world.posts {
            if let Some(entry) = accounts.get_mut(post.author.index()) {
                entry.read_post(policy, &post.caption, &post.hashtags);
            }
        }
        for search in &world.searches {
            if let Some(entry) = accounts.get_mut(search.account.index()) {
                entry.read_search(policy, &search.query);
            }
        }
        WorldText { accounts }
    }

    /// One account's findings (`None` for an id outside the world).
    pub fn account(&self, account: AccountId) -> Option<&AccountText> {
        self.accounts.get(account.index())
    }

    /// The findings of accounts read elsewhere (kept up to date event by event).
    pub fn from_accounts(accounts: Vec<AccountText>) -> WorldText {
        WorldText { accounts }
    }

    /// Every account's findings, by account.
    pub fn into_accounts(self) -> Vec<AccountText> {
        self.accounts
    }

    /// Number of accounts read.
    pub fn len(&self) -> usize {
        self.accounts.len()
    }

    /// Whether no account was read.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }

    /// Accounts whose bio or hashtags the text guard blocks: the seeds an automatic
    /// pipeline confirms without a reviewer.
    pub fn blocked_accounts(&self) -> Vec<AccountId> {
        MapInput::text_confirmed_seeds(self.accounts.len(), self)
            .into_iter()
            .map(AccountId)
            .collect()
    }

    /// The decision engine's view of one account's text.
    pub fn policy_signal(&self, account: AccountId) -> Option<PolicyTextSignal> {
        self.account(account).map(AccountText::policy_signal)
    }
}

impl TextSignals for WorldText {
    fn signals(&self, node: NodeId) -> MapTextSignal {
        self.account(AccountId(node))
            .map(AccountText::map_signal)
            .unwrap_or_default()
    }
}
