//! The public world: what a platform (and therefore every detector and discovery system)
//! can see — accounts with their declared attributes and bios, posts, and the engagement
//! events over logical time.
//!
//! What it must never hold: who is in the exploitation network or in which role. That is
//! [`crate::truth::GroundTruth`], a separate type written to a separate folder, so that code
//! given a [`World`] cannot read it by construction.

use serde::{Deserialize, Serialize};

/// Declared gender.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Gender {
    /// Woman.
    Woman,
    /// Man.
    Man,
    /// Another gender or not declared.
    Other,
}

impl Gender {
    /// The lowercase name used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Gender::Woman => "woman",
            Gender::Man => "man",
            Gender::Other => "other",
        }
    }

    /// Parses the lowercase name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "woman" => Some(Gender::Woman),
            "man" => Some(Gender::Man),
            "other" => Some(Gender::Other),
            _ => None,
        }
    }
}

/// An account's public record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// Dense id, 0..number of accounts.
    pub id: u32,
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
    pub created_at: u32,
    /// The bio text.
    pub bio: String,
}

/// A post's public record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Post {
    /// Dense id, 0..number of posts.
    pub id: u32,
    /// The author account.
    pub author: u32,
    /// Logical day of posting.
    pub created_at: u32,
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
    pub src: u32,
    /// The account acted on.
    pub dst: u32,
    /// Logical day.
    pub at: u32,
}

/// An account-to-post event: like or comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostEdge {
    /// The acting account.
    pub account: u32,
    /// The post.
    pub post: u32,
    /// Logical day.
    pub at: u32,
}

/// A search query typed by an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchEvent {
    /// Who searched.
    pub account: u32,
    /// Logical day.
    pub at: u32,
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
    pub fn posts_by_author(&self) -> Vec<Vec<(u32, u64)>> {
        let mut by_author = vec![Vec::new(); self.accounts.len()];
        for post in &self.posts {
            if let Some(list) = by_author.get_mut(post.author as usize) {
                list.push((post.id, u64::from(post.created_at)));
            }
        }
        by_author
    }

    /// Whether the account declares an age under 18.
    pub fn declared_minor(&self, account: u32) -> bool {
        self.accounts
            .get(account as usize)
            .is_some_and(|a| a.declared_age < 18)
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
