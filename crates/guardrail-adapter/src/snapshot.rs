//! The derived state a guard decides on, as one immutable, versioned snapshot.
//!
//! What it is for: every signal the decision engine reads about accounts (text, network
//! map score, membership and role, declared age, minor-featuring content, pushback from
//! minors, flags and entity actions), the relations between accounts (follows, blocks,
//! reports), the names accounts go by, and the hashtags restricted as variants of blocked
//! ones. A [`crate::derive::Deriver`] builds snapshots (from a world's public tables, from
//! the ledger's state, and incrementally as events arrive); the guard swaps a new one in
//! atomically while requests are in flight, and each decision reads one snapshot from
//! start to end. Copies are cheap: the containers share everything that did not change.
//!
//! What it must never do: change once published, or read ground truth. An account it has
//! never seen is unknown, and the engine fails closed on it.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Arc;

use guardrail_graph::map::{MapError, NetworkMap};
use guardrail_policy::caps::Alert;
use guardrail_policy::{AccountSignals, Relationship};
use guardrail_types::AccountId;

use crate::persistent::{ChunkedVec, LayeredMap, LayeredSet};

/// Follows, blocks and reports between accounts, as pairs `(actor, target)`.
#[derive(Debug, Clone, Default)]
pub struct Relations {
    pub(crate) follows: LayeredSet<(AccountId, AccountId)>,
    pub(crate) blocks: LayeredSet<(AccountId, AccountId)>,
    pub(crate) reports: LayeredSet<(AccountId, AccountId)>,
}

impl Relations {
    /// How a viewer and a candidate are related.
    pub fn between(&self, viewer: AccountId, candidate: AccountId) -> Relationship {
        Relationship {
            viewer_follows: self.follows.contains(&(viewer, candidate)),
            followed_by: self.follows.contains(&(candidate, viewer)),
            blocked: self.blocks.contains(&(viewer, candidate))
                || self.blocks.contains(&(candidate, viewer)),
            reported: self.reports.contains(&(viewer, candidate)),
        }
    }
}

/// The names an account goes by: its handle (any case, with or without `@`) and the
/// platform's id for it.
#[derive(Debug, Clone, Default)]
pub struct Names {
    pub(crate) handles: LayeredMap<String, AccountId>,
    pub(crate) external: LayeredMap<String, AccountId>,
    pub(crate) accounts: usize,
    /// The dense id is the platform's id (world folders); decimal names resolve directly.
    pub(crate) dense_ids_are_names: bool,
}

impl Names {
    /// The account a name refers to: a handle, the platform's id, or (for worlds whose
    /// platform ids are the dense ids) the decimal id.
    pub fn resolve(&self, name: &str) -> Option<AccountId> {
        let handle = name.trim_start_matches('@').to_lowercase();
        if let Some(id) = self.handles.get(&handle) {
            return Some(*id);
        }
        if let Some(id) = self.external.get(&name.to_string()) {
            return Some(*id);
        }
        name.parse::<AccountId>()
            .ok()
            .filter(|id| self.dense_ids_are_names && id.index() < self.accounts)
    }
}

/// The network map a snapshot's network signals come from, and how many accounts it
/// covered (accounts created after it are unknown to it).
#[derive(Debug)]
pub struct MapOutcome {
    /// The map, or why none could be built.
    pub map: Result<NetworkMap, MapError>,
    /// Accounts the map's graph had.
    pub accounts: usize,
    /// The ledger sequence (or build) the map reflects.
    pub version: u64,
}

/// One published version of the derived state.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub(crate) version: u64,
    pub(crate) signals: ChunkedVec<AccountSignals>,
    pub(crate) relations: Relations,
    pub(crate) names: Names,
    pub(crate) variant_restricted: Arc<HashSet<String>>,
    pub(crate) variant_queue: Arc<Vec<String>>,
    pub(crate) alerts: Arc<Vec<Alert>>,
    pub(crate) map: Arc<MapOutcome>,
}

impl Snapshot {
    /// The ledger sequence (or build number) this snapshot reflects.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Accounts the snapshot knows.
    pub fn account_count(&self) -> usize {
        self.signals.len()
    }

    /// What is known about an account; an account never seen is unknown.
    pub fn signals_of(&self, account: AccountId) -> Cow<'_, AccountSignals> {
        match self.signals.get(account.index()) {
            Some(signals) => Cow::Borrowed(signals),
            None => Cow::Owned(AccountSignals::unknown(account)),
        }
    }

    /// How a viewer and a candidate are related.
    pub fn relationship(&self, viewer: AccountId, candidate: AccountId) -> Relationship {
        self.relations.between(viewer, candidate)
    }

    /// Whether a hashtag is restricted as a variant of blocked ones.
    pub fn variant_restricted(&self, tag: &str) -> bool {
        self.variant_restricted.contains(tag)
    }

    /// Hashtags restricted as variants, waiting for review.
    pub fn variant_review_queue(&self) -> Vec<String> {
        self.variant_queue.as_ref().clone()
    }

    /// Alerts raised by capped automated rules.
    pub fn alerts(&self) -> &[Alert] {
        &self.alerts
    }

    /// The network map, or why it could not be built (then every network signal is
    /// unknown and decisions that need it fail closed).
    pub fn map(&self) -> Result<&NetworkMap, &MapError> {
        self.map.map.as_ref()
    }

    /// The version of the map's state, and how many accounts it covered.
    pub fn map_coverage(&self) -> (u64, usize) {
        (self.map.version, self.map.accounts)
    }

    /// An account by handle, platform id or (for world folders) decimal id.
    pub fn account_by_name(&self, name: &str) -> Option<AccountId> {
        self.names.resolve(name)
    }

    /// The name evidence uses for an account.
    pub fn display_name(&self, account: AccountId) -> String {
        self.signals_of(account).shown().to_string()
    }

    /// Every account's signals, in id order.
    pub fn signals(&self) -> impl Iterator<Item = &AccountSignals> {
        self.signals.iter()
    }

    pub(crate) fn signals_mut(&mut self, account: AccountId) -> Option<&mut AccountSignals> {
        self.signals.get_mut(account.index())
    }

    /// Where two snapshots differ in what decisions read, in words (empty when equal):
    /// signals, relations, names, variant restrictions. Versions are not compared.
    pub fn differences(&self, other: &Snapshot) -> Vec<String> {
        let mut out = Vec::new();
        if self.signals.len() != other.signals.len() {
            out.push(format!(
                "accounts: {} vs {}",
                self.signals.len(),
                other.signals.len()
            ));
        }
        for (a, b) in self.signals.iter().zip(other.signals.iter()) {
            if a != b && out.len() < 10 {
                out.push(format!(
                    "account {}: signals differ: {a:?} vs {b:?}",
                    a.shown()
                ));
            }
        }
        for (name, a, b) in [
            ("follows", &self.relations.follows, &other.relations.follows),
            ("blocks", &self.relations.blocks, &other.relations.blocks),
            ("reports", &self.relations.reports, &other.relations.reports),
        ] {
            if a.to_set() != b.to_set() {
                out.push(format!("{name} differ"));
            }
        }
        if self.names.handles.to_map() != other.names.handles.to_map() {
            out.push("handles differ".into());
        }
        if self.names.external.to_map() != other.names.external.to_map() {
            out.push("platform ids differ".into());
        }
        if self.variant_restricted != other.variant_restricted {
            out.push("variant restrictions differ".into());
        }
        out
    }
}
