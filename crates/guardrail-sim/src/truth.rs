//! Ground truth: who is in the hidden network and in which role, which accounts are
//! backups of which, and the coded vocabulary the generator disguised terms with.
//!
//! What it is for: scoring experiments and detectors after the fact. What it must never do:
//! reach a detector, a discovery system or a guardrail. It is a separate type from
//! [`crate::world::World`], written under `truth/`, and the discovery crates
//! (`guardrail-recommend`, `guardrail-ads`) do not depend on this crate at all.

use serde::{Deserialize, Serialize};

/// The hidden kind of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// An ordinary user.
    Ordinary,
    /// A parent-run account posting photos of their children.
    ParentRun,
    /// A member of a benign tight niche community.
    Niche,
    /// An adult-content account.
    AdultContent,
    /// A safety advocate.
    Advocate,
    /// A brand or advertiser.
    Brand,
    /// A seller in the exploitation network.
    Seller,
    /// A buyer in the exploitation network.
    Buyer,
    /// An aggregator in the exploitation network.
    Aggregator,
}

impl Role {
    /// Whether the role belongs to the exploitation network.
    pub fn in_network(self) -> bool {
        matches!(self, Role::Seller | Role::Buyer | Role::Aggregator)
    }

    /// The snake_case name used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Ordinary => "ordinary",
            Role::ParentRun => "parent_run",
            Role::Niche => "niche",
            Role::AdultContent => "adult_content",
            Role::Advocate => "advocate",
            Role::Brand => "brand",
            Role::Seller => "seller",
            Role::Buyer => "buyer",
            Role::Aggregator => "aggregator",
        }
    }

    /// Parses the snake_case name.
    pub fn parse(text: &str) -> Option<Self> {
        ALL_ROLES.iter().copied().find(|r| r.as_str() == text)
    }
}

/// Every role, in file order.
pub const ALL_ROLES: [Role; 9] = [
    Role::Ordinary,
    Role::ParentRun,
    Role::Niche,
    Role::AdultContent,
    Role::Advocate,
    Role::Brand,
    Role::Seller,
    Role::Buyer,
    Role::Aggregator,
];

/// One account's hidden role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleRecord {
    /// The account.
    pub account: u32,
    /// Its role.
    pub role: Role,
    /// Its ring (network) or community (niche); 0 otherwise.
    pub group: u32,
    /// Whether it camouflages (network accounts only).
    pub camouflaged: bool,
}

/// A backup account: `account` is the backup named in `backup_of`'s bio.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupRecord {
    /// The backup account.
    pub account: u32,
    /// The account whose bio names it.
    pub backup_of: u32,
}

/// One token of the coded vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRecord {
    /// The token as it appears in hashtags, bios or captions.
    pub token: String,
    /// Which disguise pattern: `banned` (the base term), `leet`, `suffix`, `split`,
    /// `coined`, `emoji`, `age_code`, `payment`, `backup`, `file_link`.
    pub pattern: String,
    /// The banned base term it stands for (empty when none).
    pub base: String,
}

/// Ground truth of one world.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GroundTruth {
    /// One record per account, by id.
    pub roles: Vec<RoleRecord>,
    /// Backup accounts.
    pub backups: Vec<BackupRecord>,
    /// The coded vocabulary.
    pub tokens: Vec<TokenRecord>,
}

impl GroundTruth {
    /// The role of an account (ordinary for unknown ids).
    pub fn role(&self, account: u32) -> Role {
        self.roles
            .get(account as usize)
            .map_or(Role::Ordinary, |r| r.role)
    }

    /// Whether an account is in the network.
    pub fn in_network(&self, account: u32) -> bool {
        self.role(account).in_network()
    }

    /// The banned base terms.
    pub fn banned_terms(&self) -> Vec<String> {
        self.tokens
            .iter()
            .filter(|t| t.pattern == "banned")
            .map(|t| t.token.clone())
            .collect()
    }

    /// Whether `hashtag` is a variant (not the exact term) of a banned base term.
    pub fn is_variant(&self, hashtag: &str) -> bool {
        self.tokens
            .iter()
            .any(|t| t.token == hashtag && !t.base.is_empty() && t.pattern != "banned")
    }
}
