//! The durability hook: every change the HMA routes make to banks, content and exchanges,
//! as a serde (JSON) value the server stores before the route answers, and replays on
//! start to rebuild the same state ([`crate::HmaState::replay`]).
//!
//! A change records the outcome, not the request: the content id handed out, the hashes
//! computed, the ratio after coercion. Replaying therefore never fetches, hashes or asks
//! a clock, and gives the same ids. A change must never carry a secret: exchange
//! credentials are recorded only as "set" or "cleared", and are not kept at all.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::JournalError;

/// One change to the HMA state, in the order it was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum BankChange {
    /// `POST /c/banks`: a bank was created.
    BankCreated {
        /// Its name (`[A-Z_][A-Z0-9_]*`).
        name: String,
        /// Its matching ratio, 0.0–1.0.
        matching_enabled_ratio: f64,
    },
    /// `PUT /c/bank/<bank>`: a bank was renamed and/or its ratio changed.
    BankUpdated {
        /// Its name before the change.
        name: String,
        /// Its name after the change (the same when not renamed).
        new_name: String,
        /// Its ratio after the change.
        matching_enabled_ratio: f64,
    },
    /// `DELETE /c/bank/<bank>`: a bank and all its content were deleted.
    BankDeleted {
        /// Its name.
        name: String,
    },
    /// `POST /c/bank/<bank>/content` or `/signal`: content was added.
    ContentAdded {
        /// The content id handed out (unique across banks, never reused).
        id: u64,
        /// The bank it went into.
        bank: String,
        /// Signal type name to hash (`pdq` → 64 hex digits, `video_md5` → 32).
        signals: BTreeMap<String, String>,
        /// The validated user metadata (`content_id`, `content_uri`, `json`), if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user_metadata: Option<Value>,
        /// The note, if any (at most 255 characters).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
        /// When it was added (seconds since the Unix epoch).
        added_at: i64,
    },
    /// `PUT /c/bank/<bank>/content/<id>`: content was disabled, re-enabled or annotated.
    ContentUpdated {
        /// The content id.
        id: u64,
        /// Its bank.
        bank: String,
        /// 0 disabled, 1 enabled, otherwise disabled until that Unix time.
        disable_until_ts: i64,
        /// The note after the change.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// `DELETE /c/bank/<bank>/content/<id>`: content was removed.
    ContentRemoved {
        /// The content id.
        id: u64,
        /// Its bank.
        bank: String,
    },
    /// `POST /c/exchanges`: an exchange was configured, and its (empty) bank created.
    ExchangeCreated {
        /// Its name, which is also its bank's name.
        name: String,
        /// The exchange type (`sample`, `ncmec`, `stop_ncii`).
        api: String,
        /// Whether fetching is enabled (Guardrail never fetches).
        enabled: bool,
        /// Type-specific settings from `api_json` (never credentials).
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        config: BTreeMap<String, Value>,
    },
    /// `PUT /c/exchange/<name>`: an exchange was enabled or disabled.
    ExchangeUpdated {
        /// Its name.
        name: String,
        /// Whether fetching is enabled.
        enabled: bool,
    },
    /// `DELETE /c/exchange/<name>`: an exchange was deleted (its bank stays, as in HMA).
    ExchangeDeleted {
        /// Its name.
        name: String,
    },
    /// `POST /c/exchanges/api/<api>`: credentials were set or cleared. Only the fact is
    /// recorded; Guardrail never fetches, so it never keeps the secret itself.
    ExchangeCredentialsSet {
        /// The exchange type.
        api: String,
        /// Whether credentials are now set.
        set: bool,
    },
}

/// Where the HMA routes record their changes before answering.
///
/// `record` is called once per change, in order, while no other change is being made,
/// before the change is applied and before the route answers. If it fails, the change is
/// not applied and the route answers 500. It runs on a blocking thread, so it may do IO.
pub trait BankJournal: Send + Sync {
    /// Stores one change durably.
    fn record(&self, change: &BankChange) -> Result<(), JournalError>;
}

/// A journal that keeps nothing: the state lives only in memory (tests, demos).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoJournal;

impl BankJournal for NoJournal {
    fn record(&self, _change: &BankChange) -> Result<(), JournalError> {
        Ok(())
    }
}

/// A journal that keeps every change in memory, for tests of replay and durability.
#[derive(Debug, Default)]
pub struct MemoryJournal {
    changes: Mutex<Vec<BankChange>>,
    refuse: Mutex<Option<String>>,
}

impl MemoryJournal {
    /// An empty journal.
    pub fn new() -> MemoryJournal {
        MemoryJournal::default()
    }

    /// Every change recorded so far, in order.
    pub fn changes(&self) -> Vec<BankChange> {
        self.changes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// From now on, refuse every change with this reason (`None` accepts again): to test
    /// that a route whose change cannot be recorded does not apply it.
    pub fn refuse_with(&self, reason: Option<&str>) {
        *self.refuse.lock().unwrap_or_else(PoisonError::into_inner) = reason.map(str::to_string);
    }
}

impl BankJournal for MemoryJournal {
    fn record(&self, change: &BankChange) -> Result<(), JournalError> {
        if let Some(reason) = self
            .refuse
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
        {
            return Err(JournalError::new(reason));
        }
        self.changes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(change.clone());
        Ok(())
    }
}
