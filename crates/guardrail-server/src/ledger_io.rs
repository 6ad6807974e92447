//! Reading the ledger into derived state: checkpoints, the events after them, and the
//! text policy the ledger published last.
//!
//! What it is for: the one way every consumer (the service at start and while following,
//! `guardrail decide --db`, `guardrail ledger rebuild`) turns stored records into a
//! [`LedgerState`], so that they all agree on what the ledger says.
//!
//! What it must never do: skip a record it cannot read. A stored event that no longer
//! parses, or a checkpoint that disagrees with its own sequence number, is an error naming
//! the sequence number, never a silent gap.

use guardrail_ledger::event::Event;
use guardrail_ledger::state::{Folded, LedgerState};
use guardrail_policy::RuleSet;
use guardrail_store::{Store, StoreError};
use guardrail_text::Policy;

/// Why the ledger could not be read into state.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored event does not parse any more.
    #[error("stored event at sequence {seq} does not read back: {reason}")]
    Event {
        /// Its sequence number.
        seq: u64,
        /// Why.
        reason: String,
    },
    /// The ledger ends before a sequence it was expected to reach.
    #[error("the ledger ends at sequence {end}, before sequence {target}")]
    Short {
        /// Its last sequence number.
        end: u64,
        /// The sequence it should have reached.
        target: u64,
    },
    /// The checkpoint does not decode, or disagrees with itself.
    #[error("the checkpoint at sequence {seq} {reason}")]
    Checkpoint {
        /// The sequence number it was saved at.
        seq: u64,
        /// What is wrong.
        reason: String,
    },
    /// The published text policy does not load.
    #[error("the ledger's published text policy v{version} does not load: {reason}")]
    Policy {
        /// Its version.
        version: u64,
        /// Why.
        reason: String,
    },
    /// The published discovery rules do not load.
    #[error("the ledger's published discovery rules v{version} do not load: {reason}")]
    Rules {
        /// Their version.
        version: u64,
        /// Why.
        reason: String,
    },
}

/// How checkpoints are written: MessagePack of the folded state.
pub fn encode_state(state: &LedgerState) -> Vec<u8> {
    // Serialising a tree of plain data into a vector cannot fail.
    rmp_serde::to_vec_named(state).unwrap_or_default()
}

/// Reads a checkpoint saved at `seq`.
pub fn decode_state(seq: u64, bytes: &[u8]) -> Result<LedgerState, LoadError> {
    let state: LedgerState = rmp_serde::from_slice(bytes).map_err(|e| LoadError::Checkpoint {
        seq,
        reason: format!("does not read back: {e}"),
    })?;
    if state.last_seq != seq {
        return Err(LoadError::Checkpoint {
            seq,
            reason: format!("holds state up to sequence {}", state.last_seq),
        });
    }
    Ok(state)
}

/// The offender registry the ledger imported last, under `key` (none: no list yet). A list
/// hashed under another key is refused (`KeyMismatch`), never read as matching nothing.
pub fn ledger_registry(
    state: &LedgerState,
    key: guardrail_policy::registry::RegistryKey,
) -> Result<Option<guardrail_policy::registry::Registry>, guardrail_policy::registry::RegistryError>
{
    use guardrail_policy::registry::{Registry, StoredRegistry};
    let Some((version, hashes)) = &state.registry else {
        return Ok(None);
    };
    let stored = StoredRegistry {
        issued: version.parse().ok().map(guardrail_types::Timestamp),
        key_check: state.registry_key_check.clone().unwrap_or_default(),
        hashes: hashes.clone(),
    };
    Registry::from_stored(
        &stored,
        key,
        guardrail_policy::canonical::EmailRules::default(),
    )
    .map(Some)
}

/// The text policy the ledger published last, or Guardrail's default.
pub fn ledger_policy(state: &LedgerState) -> Result<Policy, LoadError> {
    match &state.text_policy {
        Some((version, toml)) => {
            Policy::from_toml(toml, &format!("the ledger's text policy v{version}")).map_err(|e| {
                LoadError::Policy {
                    version: *version,
                    reason: e.to_string(),
                }
            })
        }
        None => Ok(Policy::default_policy()),
    }
}

/// The discovery rules the ledger published last (the console's rules page publishes
/// them), or `configured` when it never published any.
pub fn ledger_rules(state: &LedgerState, configured: &RuleSet) -> Result<RuleSet, LoadError> {
    match &state.rules {
        Some((version, toml)) => {
            RuleSet::from_toml(toml, &format!("the ledger's discovery rules v{version}")).map_err(
                |e| LoadError::Rules {
                    version: *version,
                    reason: e.to_string(),
                },
            )
        }
        None => Ok(configured.clone()),
    }
}

/// Reads one stored record's event.
pub fn read_event(seq: u64, body: &[u8]) -> Result<Event, LoadError> {
    Event::from_body(body).map_err(|e| LoadError::Event {
        seq,
        reason: e.to_string(),
    })
}

/// A stored record as a follower folds it: a whole event, or a logged decision known by
/// its time alone (its recorded request is never read just to be counted).
#[derive(Debug)]
pub enum Stored {
    /// Any event but a logged decision, read whole (boxed: most records of a busy
    /// service are logged decisions).
    Event(Box<Event>),
    /// A `decision_logged` event: what folding it needs.
    LoggedDecision {
        /// Its platform time.
        at: u64,
    },
}

/// The envelope of a stored `decision_logged` body (every other field skipped unread).
#[derive(serde::Deserialize)]
struct LoggedEnvelope {
    at: u64,
    #[serde(rename = "type")]
    kind: String,
}

/// Reads one stored record for folding. A canonical body lists its keys in order, so a
/// logged decision's ends with its type; only those are read as an envelope, and anything
/// in doubt is read whole.
pub fn read_stored(seq: u64, body: &[u8]) -> Result<Stored, LoadError> {
    if body.ends_with(br#""type":"decision_logged"}"#)
        && let Ok(envelope) = serde_json::from_slice::<LoggedEnvelope>(body)
        && envelope.kind == "decision_logged"
    {
        return Ok(Stored::LoggedDecision { at: envelope.at });
    }
    read_event(seq, body).map(|event| Stored::Event(Box::new(event)))
}

/// Folds one stored record into `state`; answers what the fold applied (nothing for a
/// logged decision: no derived state reads one).
pub fn fold_stored(state: &mut LedgerState, seq: u64, stored: &Stored) -> Option<Folded> {
    match stored {
        Stored::Event(event) => Some(state.fold(seq, event)),
        Stored::LoggedDecision { at } => {
            state.fold_logged_decision(seq, *at);
            None
        }
    }
}

/// Folds every record after `state.last_seq` into `state`; answers how many were folded.
pub async fn fold_tail(store: &Store, state: &mut LedgerState) -> Result<u64, LoadError> {
    let mut pages = store.pages(state.last_seq, 10_000);
    let mut folded = 0;
    while let Some(records) = pages.next_page().await? {
        for record in records {
            let stored = read_stored(record.seq, &record.body)?;
            fold_stored(state, record.seq, &stored);
            folded += 1;
        }
    }
    Ok(folded)
}

/// The stored records after `after` up to `target` (inclusive), read for folding: one
/// round of a follower that must stop where its peers stop.
pub async fn read_until(
    store: &Store,
    after: u64,
    target: u64,
) -> Result<Vec<(u64, Stored)>, LoadError> {
    let mut pages = store.pages(after, 10_000);
    let mut records = Vec::new();
    let mut end = after;
    while end < target
        && let Some(page) = pages.next_page().await?
    {
        for record in page.into_iter().take_while(|r| r.seq <= target) {
            end = record.seq;
            records.push((record.seq, read_stored(record.seq, &record.body)?));
        }
    }
    if end < target {
        return Err(LoadError::Short { end, target });
    }
    Ok(records)
}

/// The ledger's state as of sequence `target`: the latest checkpoint when it is not past
/// `target` (processes that must agree start from the same events), then the records up
/// to `target`.
pub async fn state_at(store: &Store, target: u64) -> Result<LedgerState, LoadError> {
    let mut state = match store.load_checkpoint().await? {
        Some((seq, bytes)) if seq <= target => decode_state(seq, &bytes)?,
        _ => LedgerState::new(),
    };
    for (seq, stored) in read_until(store, state.last_seq, target).await? {
        fold_stored(&mut state, seq, &stored);
    }
    Ok(state)
}

/// The ledger's state as the service would have it: the latest checkpoint and every event
/// after it (or every event, when there is no checkpoint).
pub async fn live_state(store: &Store) -> Result<LedgerState, LoadError> {
    let mut state = match store.load_checkpoint().await? {
        Some((seq, bytes)) => decode_state(seq, &bytes)?,
        None => LedgerState::new(),
    };
    fold_tail(store, &mut state).await?;
    Ok(state)
}
