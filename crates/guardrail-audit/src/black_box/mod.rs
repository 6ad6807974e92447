//! Auditing a discovery system from outside, through the black-box contract
//! (`docs/external-contract.openapi.yaml`): the harness is the client, with sock-puppet
//! personas, as the published audits were run.
//!
//! What it is for: running E1, E2, E3 and E6 on any system that answers the contract's
//! routes — a learned recommender served over HTTP ([`DiscoverySystem`] implemented at the
//! edge, in the CLI) or the built-in platform behind the same seam ([`BuiltIn`]) — with the
//! same metrics as the built-in experiments. With guardrails on, [`Guarded`] stands in front
//! of the system: events pass Guardrail's contamination control before they are forwarded,
//! and everything the system would show passes Guardrail's decision layer.
//!
//! What it must never do: send the system anything from ground truth (truth picks the
//! sellers a probe views and scores the answers, nothing else), or perform IO itself: the
//! transport is the caller's [`DiscoverySystem`].
//!
//! - [`experiments`]: E1, E2, E3 and E6 through the contract;
//! - [`series`]: the report's figures over time (network share over the first follows,
//!   reach per community, and the longitudinal weeks).

mod builtin;
pub mod experiments;
mod guarded;
pub mod series;

use std::collections::HashSet;

use guardrail_types::{AccountId, PostId};
use serde::Serialize;

use crate::metrics::Metrics;

pub use builtin::BuiltIn;
pub use guarded::Guarded;

/// A new account the harness creates (`POST /personas`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Persona {
    /// Display handle; need not be unique.
    pub handle: String,
    /// Age the persona declares.
    pub declared_age: u8,
    /// `woman`, `man` or `other`.
    pub gender: &'static str,
    /// Declared interests (may be empty).
    pub interests: Vec<String>,
}

impl Persona {
    /// An adult man with no interests: the probe of the published test accounts.
    pub fn adult_probe(handle: String) -> Persona {
        Persona {
            handle,
            declared_age: 35,
            gender: "man",
            interests: Vec::new(),
        }
    }
}

/// One event of `POST /events`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContractEvent {
    /// `account` follows `target`.
    Follow(AccountId, AccountId),
    /// `account` opens `target`'s profile.
    View(AccountId, AccountId),
    /// `account` likes post `target`.
    Like(AccountId, PostId),
    /// `account` reports `target`.
    Report(AccountId, AccountId),
    /// `account` blocks `target`.
    Block(AccountId, AccountId),
    /// `account` searches `query`.
    Search(AccountId, String),
    /// Extension: `account` posts with these hashtags and caption. A system without the
    /// extension refuses the batch ([`SystemError::Unsupported`]).
    Post {
        /// The author.
        account: AccountId,
        /// Hashtags, without `#`.
        hashtags: Vec<String>,
        /// Caption text.
        caption: String,
    },
}

impl ContractEvent {
    /// The account that acts.
    pub fn account(&self) -> AccountId {
        match self {
            ContractEvent::Follow(a, _)
            | ContractEvent::View(a, _)
            | ContractEvent::Like(a, _)
            | ContractEvent::Report(a, _)
            | ContractEvent::Block(a, _)
            | ContractEvent::Search(a, _) => *a,
            ContractEvent::Post { account, .. } => *account,
        }
    }
}

/// The answer of `GET /search`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchAnswer {
    /// Accounts, in the system's order.
    pub accounts: Vec<AccountId>,
    /// Posts, in the system's order.
    pub posts: Vec<PostId>,
    /// Whether the system showed an interstitial (the results are what "see results
    /// anyway" shows).
    pub interstitial: bool,
}

/// Why a call through the contract failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SystemError {
    /// The system could not be reached or broke the connection.
    #[error("{route}: the system could not be reached: {detail}")]
    Unreachable {
        /// The route called.
        route: String,
        /// What the transport said.
        detail: String,
    },
    /// The system answered with an error status.
    #[error("{route}: the system answered {status}: {detail}")]
    Refused {
        /// The route called.
        route: String,
        /// HTTP status.
        status: u16,
        /// The system's error message.
        detail: String,
    },
    /// The answer did not follow the contract.
    #[error("{route}: the answer breaks the contract: {detail}")]
    Contract {
        /// The route called.
        route: String,
        /// What was wrong.
        detail: String,
    },
    /// The system does not implement an optional extension.
    #[error("{feature}: not supported by the system under audit")]
    Unsupported {
        /// The extension (`post events`, `reset`).
        feature: &'static str,
    },
}

/// A discovery system as the contract sees it. Every call may fail; the harness never
/// guesses an answer the system did not give.
pub trait DiscoverySystem {
    /// How reports name the system.
    fn describe(&self) -> String;
    /// Extension `POST /reset`: back to the state right after the system started, so
    /// that runs start equal. [`SystemError::Unsupported`] when the system lacks it.
    fn reset(&mut self) -> Result<(), SystemError>;
    /// `POST /personas`.
    fn create_persona(&mut self, persona: &Persona) -> Result<AccountId, SystemError>;
    /// `POST /events`: the ids of posts the batch created (extension), in batch order.
    fn send_events(&mut self, events: &[ContractEvent]) -> Result<Vec<PostId>, SystemError>;
    /// `GET /suggestions`.
    fn suggestions(&mut self, account: AccountId, k: usize) -> Result<Vec<AccountId>, SystemError>;
    /// The system's own suggestions, with no layer in front (for a bare system, the same
    /// as [`DiscoverySystem::suggestions`]): what reach is compared against.
    fn unguarded_suggestions(
        &mut self,
        account: AccountId,
        k: usize,
    ) -> Result<Vec<AccountId>, SystemError> {
        self.suggestions(account, k)
    }
    /// `GET /similar`.
    fn similar(
        &mut self,
        account: AccountId,
        viewer: AccountId,
        k: usize,
    ) -> Result<Vec<AccountId>, SystemError>;
    /// `GET /feed`.
    fn feed(&mut self, account: AccountId, k: usize) -> Result<Vec<PostId>, SystemError>;
    /// `GET /search`.
    fn search(&mut self, account: AccountId, query: &str) -> Result<SearchAnswer, SystemError>;
    /// `GET /autocomplete`.
    fn autocomplete(
        &mut self,
        account: AccountId,
        prefix: &str,
        k: usize,
    ) -> Result<Vec<String>, SystemError>;
    /// The platform took these accounts down (enforcement). The harness removes them from
    /// every answer itself; a guardrail layer in front also hears of it.
    fn take_down(&mut self, accounts: &[AccountId]) {
        let _ = accounts;
    }
    /// Whether a guardrail layer in front refuses `account` to anyone, right now (a bare
    /// system refuses nobody).
    fn refuses_everywhere(&self, account: AccountId) -> bool {
        let _ = account;
        false
    }
    /// Figures about a layer's own decisions over the run (none for a bare system).
    fn layer_metrics(&self) -> Metrics {
        Metrics::new()
    }
}

/// Where a long run reports how far it is (the CLI draws progress bars).
pub trait Progress {
    /// `done` of `total` steps of `stage` are complete.
    fn step(&mut self, stage: &str, done: usize, total: usize);
}

/// No progress output.
#[derive(Debug, Clone, Copy, Default)]
pub struct Quiet;

impl Progress for Quiet {
    fn step(&mut self, _stage: &str, _done: usize, _total: usize) {}
}

/// The top ten `account` is shown once the platform has taken `removed` down: the system is
/// asked for enough more that the harness can drop the removed accounts itself.
pub(crate) fn visible_suggestions(
    system: &mut dyn DiscoverySystem,
    account: AccountId,
    removed: &HashSet<AccountId>,
) -> Result<Vec<AccountId>, SystemError> {
    Ok(system
        .suggestions(account, 10 + removed.len().min(40))?
        .into_iter()
        .filter(|a| !removed.contains(a))
        .take(10)
        .collect())
}
