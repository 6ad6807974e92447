//! The public world: what a platform (and therefore every detector and discovery system)
//! can see — accounts with their declared attributes and bios, posts, and the engagement
//! events over logical time.
//!
//! What it must never hold: who is in the exploitation network or in which role. That is
//! ground truth, a separate type in `guardrail-sim` written to a separate folder, so that
//! code given a [`World`] cannot read it by construction.

use guardrail_types::{AccountId, AgeBand, Day, Gender, PostId};
use serde::{Deserialize, Serialize};

/// An account's public record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// Dense id, 0..number of accounts.
    pub id: AccountId,
    /// Public handle (synthetic; never a real account name).
    pub handle: String,
    /// Age the account declared at sign-up.
    pub declared_age: u8,
    /// Declared gender.
    pub gender: Gender,
    /// Two-letter country code.
    pub country: String,
    /// Declared interests (topic names).
    pub interests: Vec<String>,
    /// A public business (brand or advertiser) account.
    pub business: bool,
    /// Logical day the account was created (0 is the start of the history).
    pub created_at: Day,
    /// The bio text.
    pub bio: String,
}

impl Account {
    /// The declared age band.
    pub fn age_band(&self) -> AgeBand {
        AgeBand::of_age(self.declared_age)
    }
}

/// A post's public record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Post {
    /// Dense id, 0..number of posts.
    pub id: PostId,
    /// The author account.
    pub author: AccountId,
    /// Logical day of posting.
    pub created_at: Day,
    /// The platform's image classifier flagged the photo as featuring a minor.
    pub features_minor: bool,
    /// Hashtags without `#`.
    pub hashtags: Vec<String>,
    /// Caption text.
    pub caption: String,
}

/// An account-to-account event: follow, profile view, report or block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountEdge {
    /// The acting account.
    pub src: AccountId,
    /// The account acted on.
    pub dst: AccountId,
    /// Logical day.
    pub at: Day,
}

/// An account-to-post event: like or comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostEdge {
    /// The acting account.
    pub account: AccountId,
    /// The post.
    pub post: PostId,
    /// Logical day.
    pub at: Day,
}

/// A search query typed by an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchEvent {
    /// Who searched.
    pub account: AccountId,
    /// Logical day.
    pub at: Day,
    /// The query text.
    pub query: String,
}

/// Facts about the world file set itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorldMeta {
    /// Always true: every world here is synthetic.
    pub synthetic: bool,
    /// The seed it was generated from (0 for worlds from elsewhere).
    pub seed: u64,
    /// Format version of the files (1).
    pub format_version: u32,
    /// Logical days the history spans.
    pub days: u32,
}

/// Everything public about a world.
#[derive(Debug, Clone, PartialEq)]
pub struct World {
    /// File-set facts.
    pub meta: WorldMeta,
    /// Accounts, by id.
    pub accounts: Vec<Account>,
    /// Posts, by id.
    pub posts: Vec<Post>,
    /// Follows (`src` follows `dst`).
    pub follows: Vec<AccountEdge>,
    /// Profile views (`src` opened `dst`'s profile).
    pub views: Vec<AccountEdge>,
    /// Likes.
    pub likes: Vec<PostEdge>,
    /// Comments.
    pub comments: Vec<PostEdge>,
    /// Searches.
    pub searches: Vec<SearchEvent>,
    /// Reports (`src` reported `dst`).
    pub reports: Vec<AccountEdge>,
    /// Blocks (`src` blocked `dst`).
    pub blocks: Vec<AccountEdge>,
}

impl World {
    /// Posts grouped by author as `(post, created_at)`, the shape the feed wants.
    pub fn posts_by_author(&self) -> Vec<Vec<(PostId, Day)>> {
        let mut by_author = vec![Vec::new(); self.accounts.len()];
        for post in &self.posts {
            if let Some(list) = by_author.get_mut(post.author.index()) {
                list.push((post.id, post.created_at));
            }
        }
        by_author
    }

    /// An account's public record.
    pub fn account(&self, account: AccountId) -> Option<&Account> {
        self.accounts.get(account.index())
    }

    /// A post's public record.
    pub fn post(&self, post: PostId) -> Option<&Post> {
        self.posts.get(post.index())
    }

    /// Whether the account declares an age under 18.
    pub fn declared_minor(&self, account: AccountId) -> bool {
        self.account(account)
            .is_some_and(|a| a.age_band() == AgeBand::Minor)
    }

    /// The first day after the history ("now" for experiments run on it).
    pub fn end(&self) -> Day {
        Day(self.meta.days)
    }

    /// Total number of account and post edges (follows, views, likes, comments, reports, blocks).
    pub fn edge_count(&self) -> usize {
        self.follows.len()
            + self.views.len()
            + self.likes.len()
            + self.comments.len()
            + self.reports.len()
            + self.blocks.len()
    }
}
