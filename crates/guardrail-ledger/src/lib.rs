//! `guardrail-ledger`: the source of truth. Platform events and Guardrail's own records
//! (reports, reviews, enforcement, labels, rule sets, decisions) in one append-only
//! sequence, each record chained to the one before it by a hash, and the fold of that
//! sequence into the derived state every decision reads.
//!
//! - [`event`]: the event vocabulary and its parsing (per-event errors naming index, line
//!   and field; unknown fields kept, unknown types refused);
//! - [`chain`]: sequence numbers and the blake3 hash chain, with a verifier that names the
//!   first bad record;
//! - [`state`]: the fold of events into the platform's state (accounts, posts, relations,
//!   identifiers, labels), incremental, and its public tables as a
//!   [`guardrail_world::World`];
//! - [`ingest`]: a world's public tables as events, in time order.
//!
//! This crate is pure: no IO, no clocks (the receiver's time is passed in), no global
//! state. The databases that store the ledger are `guardrail-store`'s.

pub mod chain;
pub mod event;
pub mod ingest;
pub mod state;

pub use chain::{ChainBreak, ChainHash, ChainVerifier, ChainWriter, GENESIS, Record, verify_chain};
pub use event::{
    Event, EventError, EventErrorKind, ParseLimits, ParsedBatch, Payload, parse_batch,
};
pub use ingest::{WORLD_EPOCH, world_events};
pub use state::{Flag, Folded, LedgerState};
