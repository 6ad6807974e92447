//! Ground truth: who is in the hidden network and in which role, which accounts are
//! backups of which (and so which accounts are one person), which benign accounts look
//! alike or share an identifier without being one person, and the coded vocabulary the
//! generator disguised terms with.
//!
//! What it is for: scoring experiments and detectors after the fact. What it must never do:
//! reach a detector, a discovery system or a guardrail. It is a separate type from
//! [`guardrail_world::World`], written under `truth/`, and nothing that decides (the
//! discovery crates, the adapter, the service) depends on this crate at all.

use std::io;
use std::path::Path;

use guardrail_types::AccountId;
use guardrail_world::format::{parse_bool, parse_field, text_field};
use guardrail_world::fs::{load_optional_table, load_table, write_public_tables, write_table};
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

/// The person behind an account: `person` is the account the person made first (its own
/// id for everyone but backups, whose person is their seller's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntityRecord {
    /// The account.
    pub account: AccountId,
    /// Its person (an account id).
    pub person: AccountId,
}

/// How two different people's accounts resemble each other or share something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CollisionKind {
    /// A parent-run account's tablet is also a child's (a household, not one person).
    HouseholdDevice,
    /// A library or school computer used by many.
    PublicDevice,
    /// One character of a mailbox name or handle changed (`u1a2b3` and `u1a2b8`).
    LookalikeEmail,
    /// The same mailbox name pattern with another number (`quiet.river42`, `quiet.river47`).
    NamePatternEmail,
    /// `x.y` and `xy` at a provider where dots count: two mailboxes.
    StrictProviderDots,
}

impl CollisionKind {
    /// Every kind, in file order.
    pub const ALL: [CollisionKind; 5] = [
        CollisionKind::HouseholdDevice,
        CollisionKind::PublicDevice,
        CollisionKind::LookalikeEmail,
        CollisionKind::NamePatternEmail,
        CollisionKind::StrictProviderDots,
    ];

    /// The snake_case name used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            CollisionKind::HouseholdDevice => "household_device",
            CollisionKind::PublicDevice => "public_device",
            CollisionKind::LookalikeEmail => "lookalike_email",
            CollisionKind::NamePatternEmail => "name_pattern_email",
            CollisionKind::StrictProviderDots => "strict_provider_dots",
        }
    }

    /// Parses the snake_case name.
    pub fn parse(text: &str) -> Option<CollisionKind> {
        CollisionKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// Two accounts of different people that share or resemble something (a linker must not
/// merge them, except a household's shared device, which it cannot tell from one person's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollisionRecord {
    /// One account.
    pub a: AccountId,
    /// The other.
    pub b: AccountId,
    /// What they share or how they resemble each other.
    pub kind: CollisionKind,
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
    /// The person behind each account, by account.
    pub entities: Vec<EntityRecord>,
    /// Benign look-alikes and shared identifiers between different people.
    pub collisions: Vec<CollisionRecord>,
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

    /// The person behind an account (the account itself when not recorded).
    pub fn person(&self, account: AccountId) -> AccountId {
        self.entities
            .get(account.index())
            .filter(|e| e.account == account)
            .map_or(account, |e| e.person)
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

impl Record for EntityRecord {
    const TABLE: &'static str = "entities";
    const COLUMNS: &'static [&'static str] = &["account", "person"];
    fn to_row(&self) -> Vec<String> {
        vec![self.account.to_string(), self.person.to_string()]
    }
    fn from_row(row: &[String]) -> Result<Self, (usize, String)> {
        Ok(EntityRecord {
            account: parse_field(row, 0, "an account id")?,
            person: parse_field(row, 1, "an account id")?,
        })
    }
}

impl Record for CollisionRecord {
    const TABLE: &'static str = "collisions";
    const COLUMNS: &'static [&'static str] = &["a", "b", "kind"];
    fn to_row(&self) -> Vec<String> {
        vec![
            self.a.to_string(),
            self.b.to_string(),
            self.kind.as_str().to_string(),
        ]
    }
    fn from_row(row: &[String]) -> Result<Self, (usize, String)> {
        let kind = text_field(row, 2);
        Ok(CollisionRecord {
            a: parse_field(row, 0, "an account id")?,
            b: parse_field(row, 1, "an account id")?,
            kind: CollisionKind::parse(&kind)
                .ok_or((2, format!("expected a collision kind, got {kind:?}")))?,
        })
    }
}

/// Ground-truth tables under `truth/` (file stems); `entities` and `collisions` are
/// optional on load (folders written before them).
pub const TRUTH_TABLES: [&str; 5] = ["roles", "backups", "tokens", "entities", "collisions"];
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
    write_table(&truth_dir, "entities", format, &truth.entities)?;
    write_table(&truth_dir, "collisions", format, &truth.collisions)?;
    on_table("truth");
    Ok(())
}

/// Loads ground truth from `<dir>/truth/`. Only scoring code calls this. A folder written
/// before `entities` existed gets it from `backups` (a backup's person is its seller's);
/// one without `collisions` has none.
pub fn load_truth(dir: &Path) -> Result<GroundTruth, LoadError> {
    let truth_dir = dir.join(TRUTH_DIR);
    let roles: Vec<RoleRecord> = load_table(&truth_dir, "roles")?;
    let backups: Vec<BackupRecord> = load_table(&truth_dir, "backups")?;
    let mut entities: Vec<EntityRecord> = load_optional_table(&truth_dir, "entities")?;
    if entities.is_empty() {
        entities = entities_from_backups(roles.len(), &backups);
    }
    Ok(GroundTruth {
        roles,
        backups,
        tokens: load_table(&truth_dir, "tokens")?,
        entities,
        collisions: load_optional_table(&truth_dir, "collisions")?,
    })
}

/// One person per account, except backups, whose person is their seller's.
pub fn entities_from_backups(accounts: usize, backups: &[BackupRecord]) -> Vec<EntityRecord> {
    let mut entities: Vec<EntityRecord> = (0..accounts as u32)
        .map(|id| EntityRecord {
            account: AccountId(id),
            person: AccountId(id),
        })
        .collect();
    for backup in backups {
        if let Some(entity) = entities.get_mut(backup.account.index()) {
            entity.person = backup.backup_of;
        }
    }
    entities
}
