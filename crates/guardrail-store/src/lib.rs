//! `guardrail-store`: the databases that hold the ledger. SQLite embedded (one file, WAL,
//! `synchronous=FULL`) by default, PostgreSQL for a fleet; one SQL text with `$N`
//! placeholders for both through sqlx's `Any` driver, DDL per backend with a parity test.
//!
//! - [`url`]: the `--db` text ([`DbUrl`]), `$GUARDRAIL_DB`, the default file;
//! - [`Store`]: open (check, migrate, refuse what is corrupt or unknown), durable
//!   group-committed [`Store::append`] with idempotency by event id, reads by sequence and
//!   by id, [`Store::verify`] of the hash chain, checkpoints of derived state, `meta`;
//! - [`schema`]: tables, migrations, and [`schema::describe`]-style introspection.
//!
//! Layer 3 (DESIGN.md §5): with the binary, the only crate that does IO. The chain itself
//! (sequence numbers, hashes, verification) is `guardrail-ledger`'s; this crate stores
//! what [`guardrail_ledger::ChainWriter`] seals and never computes a hash another way.
//!
//! What it must never do: acknowledge an event before it is durable, write half a batch,
//! or open a database it does not understand.

pub mod error;
pub mod schema;
mod sql;
mod store;
pub mod url;
mod writer;

pub use error::{Refusal, StoreError, VerifyError};
pub use schema::{
    ColumnKind, ColumnShape, IndexShape, IntegrityCheck, SCHEMA_VERSION, TABLES, TableShape,
};
pub use store::{Pages, Store, StoreOptions};
pub use url::{Backend, DB_ENV, DEFAULT_DB_PATH, DbUrl, DbUrlError};
pub use writer::{AppendOutcome, WriterStats};
