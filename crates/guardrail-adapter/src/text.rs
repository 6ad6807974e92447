//! The text guard's reading of a world: one verdict per account over its bio, its posts
//! (hashtags and captions) and its searches, kept as data so the network map and the
//! decision engine read the same findings.
//!
//! What it must never do: guess. An account's text level is the strictest verdict the text
//! guard gave on something that account wrote, with the rules that matched.

use guardrail_graph::NodeId;
use guardrail_graph::features::{MapInput, TextSignal as MapTextSignal, TextSignals};
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
    fn absorb(&mut self, policy: &Policy, place: TextPlace, text: &str) -> TextDecision {
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
            let entry = &mut accounts[account.id.index()];
            entry.bio = entry.absorb(policy, TextPlace::Bio, &account.bio);
        }
        for post in &world.posts {
            let Some(entry) = accounts.get_mut(post.author.index()) else {
                continue;
            };
            let mut strictest = entry.absorb(policy, TextPlace::Caption, &post.caption);
            for tag in &post.hashtags {
                strictest = strictest.max(entry.absorb(policy, TextPlace::Hashtag, tag));
            }
            entry.posts = entry.posts.max(strictest);
        }
        for search in &world.searches {
            let Some(entry) = accounts.get_mut(search.account.index()) else {
                continue;
            };
            // Searches are read, not scored into the account's own risk: an advocate or a
            // researcher searches for what they report.
            let verdict = check(policy, TextPlace::Search, &search.query);
            entry.searches = entry.searches.max(verdict.decision);
        }
        WorldText { accounts }
    }

    /// One account's findings (`None` for an id outside the world).
    pub fn account(&self, account: AccountId) -> Option<&AccountText> {
        self.accounts.get(account.index())
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
        let found = self.account(account)?;
        Some(PolicyTextSignal {
            worst_tier: found.worst_tier,
            risk_score: found.risk_score,
            rules: found.rules.clone(),
        })
    }
}

impl TextSignals for WorldText {
    fn signals(&self, node: NodeId) -> MapTextSignal {
        self.account(AccountId(node))
            .map(|found| MapTextSignal {
                bio: found.bio,
                posts: found.posts,
                searches: found.searches,
                rules: found.rules.clone(),
            })
            .unwrap_or_default()
    }
}
