//! The records the fold keeps: what the ledger knows about each account, post, edge,
//! report, referral, token and user.
//!
//! What it must never do: hold behaviour; the fold in the parent module owns every change.

use guardrail_types::{AccountId, Gender, PostId};
use serde::{Deserialize, Serialize};

use crate::event::Subject;

/// What the ledger knows about one account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountRecord {
    /// The platform's id.
    pub external: String,
    /// When it was created (Unix seconds).
    pub created_at: u64,
    /// Public handle.
    pub handle: String,
    /// Handles the account had before (a bio naming one still names this account).
    #[serde(default)]
    pub former_handles: Vec<String>,
    /// Declared age.
    pub declared_age: u8,
    /// Bio.
    pub bio: String,
    /// Bios the account had before (links they made to other accounts stay evidence).
    #[serde(default)]
    pub former_bios: Vec<String>,
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

/// What the ledger knows about one post.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostRecord {
    /// The platform's id.
    pub external: String,
    /// The sequence number of the event that published it.
    pub seq: u64,
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
    /// Its priority now (0 is the highest).
    pub priority: u8,
    /// Hash of the submitted body.
    pub body_hash: String,
    /// Every transition, in order.
    pub history: Vec<TransitionRecord>,
    /// Alerts raised about it: (kind, time).
    pub alerts: Vec<(String, u64)>,
}

/// One transition of a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransitionRecord {
    /// The state it left.
    pub from: String,
    /// The state it entered.
    pub to: String,
    /// When.
    pub at: u64,
    /// Who.
    pub actor: String,
    /// Why.
    pub reason: String,
}

/// An API token, as the ledger knows it (a hash of its secret, never the secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// Its scope.
    pub scope: String,
    /// blake3 of the secret, hex.
    pub secret_hash: String,
    /// When it was created.
    pub created_at: u64,
    /// When it stops working, if ever.
    pub expires_at: Option<u64>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<u64>,
}

/// A console user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    /// The role.
    pub role: String,
    /// The argon2 hash of the password.
    pub password_hash: String,
    /// When it was created.
    pub created_at: u64,
}

/// A referral to the clearing house, as its steps left it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferralRecord {
    /// The referral id.
    pub referral: String,
    /// The report it refers.
    pub report: String,
    /// Every step, in order: (step, attempt, outcome, detail, time).
    pub steps: Vec<(String, u32, String, String, u64)>,
    /// The flow's records, in order (what rebuilds the flow after a restart).
    #[serde(default)]
    pub records: Vec<serde_json::Value>,
}

impl ReferralRecord {
    /// Whether the referral finished (the clearing house confirmed it).
    pub fn finished(&self) -> bool {
        self.steps
            .iter()
            .any(|(step, _, outcome, _, _)| step == "finish" && outcome == "succeeded")
    }
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
