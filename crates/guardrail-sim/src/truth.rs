//! Ground truth: who is in the hidden network and in which role, which accounts are
//! backups of which, and the coded vocabulary the generator disguised terms with.
//!
//! What it is for: scoring experiments and detectors after the fact. What it must never do:
//! reach a detector, a discovery system or a guardrail. It is a separate type from
//! [`guardrail_world::World`], written under `truth/`, and nothing that decides (the
//! discovery crates, the adapter, the service) depends on this crate at all.

use std::io;
use std::path::Path;

use guardrail_types::AccountId;
use guardrail_world::format::{parse_bool, parse_field, text_field};
use guardrail_world::fs::{load_table, write_public_tables, write_table};
use guardrail_world::{Format, LoadError, Record, World};
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
    pub account: AccountId,
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
    pub account: AccountId,
    /// The account whose bio names it.
    pub backup_of: AccountId,
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
    pub fn role(&self, account: AccountId) -> Role {
        self.roles
            .get(account.index())
            .map_or(Role::Ordinary, |r| r.role)
    }

    /// Whether an account is in the network.
    pub fn in_network(&self, account: AccountId) -> bool {
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

impl Record for RoleRecord {
    const TABLE: &'static str = "roles";
    const COLUMNS: &'static [&'static str] = &["account", "role", "group", "camouflaged"];
    fn to_row(&self) -> Vec<String> {
        vec![
            self.account.to_string(),
            self.role.as_str().to_string(),
            self.group.to_string(),
            self.camouflaged.to_string(),
        ]
    }
    fn from_row(row: &[String]) -> Result<Self, (usize, String)> {
        Ok(RoleRecord {
            account: parse_field(row, 0, "an account id")?,
            role: Role::parse(&text_field(row, 1))
                .ok_or((1, "expected a role name".to_string()))?,
            group: parse_field(row, 2, "a group number")?,
            camouflaged: parse_bool(row, 3)?,
        })
    }
}

impl Record for BackupRecord {
    const TABLE: &'static str = "backups";
    const COLUMNS: &'static [&'static str] = &["account", "backup_of"];
    fn to_row(&self) -> Vec<String> {
        vec![self.account.to_string(), self.backup_of.to_string()]
    }
    fn from_row(row: &[String]) -> Result<Self, (usize, String)> {
        Ok(BackupRecord {
            account: parse_field(row, 0, "an account id")?,
            backup_of: parse_field(row, 1, "an account id")?,
        })
    }
}

impl Record for TokenRecord {
    const TABLE: &'static str = "tokens";
    const COLUMNS: &'static [&'static str] = &["token", "pattern", "base"];
    fn to_row(&self) -> Vec<String> {
        vec![self.token.clone(), self.pattern.clone(), self.base.clone()]
    }
    fn from_row(row: &[String]) -> Result<Self, (usize, String)> {
        Ok(TokenRecord {
            token: text_field(row, 0),
            pattern: text_field(row, 1),
            base: text_field(row, 2),
        })
    }
}

/// Ground-truth tables under `truth/` (file stems).
pub const TRUTH_TABLES: [&str; 3] = ["roles", "backups", "tokens"];
/// The folder holding ground truth, relative to the world folder.
pub const TRUTH_DIR: &str = "truth";

/// Writes a world folder: `meta.json` and the public tables (through `guardrail-world`),
/// then ground truth under `truth/`. `on_table` is called after each table with its stem.
pub fn write_world(
    dir: &Path,
    world: &World,
    truth: &GroundTruth,
    format: Format,
    on_table: &mut dyn FnMut(&str),
) -> io::Result<()> {
    write_public_tables(dir, world, format, on_table)?;
    let truth_dir = dir.join(TRUTH_DIR);
    std::fs::create_dir_all(&truth_dir)?;
    write_table(&truth_dir, "roles", format, &truth.roles)?;
    write_table(&truth_dir, "backups", format, &truth.backups)?;
    write_table(&truth_dir, "tokens", format, &truth.tokens)?;
    on_table("truth");
    Ok(())
}

/// Loads ground truth from `<dir>/truth/`. Only scoring code calls this.
pub fn load_truth(dir: &Path) -> Result<GroundTruth, LoadError> {
    let truth_dir = dir.join(TRUTH_DIR);
    Ok(GroundTruth {
        roles: load_table(&truth_dir, "roles")?,
        backups: load_table(&truth_dir, "backups")?,
        tokens: load_table(&truth_dir, "tokens")?,
    })
}
