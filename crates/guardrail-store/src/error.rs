//! What can go wrong in the store, named so a caller can act on it: a bad URL, a database
//! refused at open (and why), an error from the database during a named operation, a
//! malformed stored row, bad input to `append`.
//!
//! What it must never do: leak a password (URLs are shown redacted) or lose the cause (the
//! sqlx error is kept as the source). Errors are `Clone` because one failed group commit
//! answers every caller in it with the same error.

use std::sync::Arc;

use guardrail_ledger::ChainBreak;

use crate::url::DbUrlError;

/// An error from the store.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database URL was refused.
    #[error(transparent)]
    Url(#[from] DbUrlError),
    /// The database could not be reached or opened.
    #[error("cannot connect to {db}: {source}")]
    Connect {
        /// The database (password removed).
        db: String,
        /// sqlx's error.
        #[source]
        source: Arc<sqlx::Error>,
    },
    /// The database was opened but refused: it is corrupt or not ours.
    #[error("refusing to open {db}: {refusal}")]
    Refused {
        /// The database (password removed).
        db: String,
        /// Why.
        refusal: Refusal,
    },
    /// A statement failed.
    #[error("{db}: {operation} failed: {source}")]
    Database {
        /// The database (password removed).
        db: String,
        /// What the store was doing (e.g. "append: insert records").
        operation: &'static str,
        /// sqlx's error.
        #[source]
        source: Arc<sqlx::Error>,
    },
    /// A stored row could not be read back as a record.
    #[error("{db}: stored record {seq} is malformed: {why}")]
    MalformedRow {
        /// The database (password removed).
        db: String,
        /// Its sequence number as stored.
        seq: i64,
        /// What is wrong.
        why: String,
    },
    /// An event given to `append` cannot be stored (nothing of that call was stored).
    #[error("append: event {index} (id {id:?}): {why}")]
    InvalidEvent {
        /// Its position in the call.
        index: usize,
        /// Its id.
        id: String,
        /// What is wrong.
        why: String,
    },
    /// A checkpoint for a sequence number the ledger has not reached.
    #[error("checkpoint at sequence {seq} is beyond the ledger's last record {head}")]
    CheckpointAhead {
        /// The sequence number asked for.
        seq: u64,
        /// The last stored sequence number.
        head: u64,
    },
    /// A meta key the store manages itself.
    #[error("meta key {key:?} is managed by the store and cannot be set")]
    ReservedMetaKey {
        /// The key.
        key: String,
    },
    /// The writer task is gone (the store was closed, or the task panicked).
    #[error("the store's writer has stopped; nothing more can be written")]
    WriterStopped,
}

impl StoreError {
    pub(crate) fn database(db: &str, operation: &'static str, source: sqlx::Error) -> StoreError {
        StoreError::Database {
            db: db.to_string(),
            operation,
            source: Arc::new(source),
        }
    }

    /// Whether the database refused a write because it is full or read-only: the
    /// operator must act, and nothing of the write was stored.
    pub fn is_out_of_space_or_read_only(&self) -> bool {
        let StoreError::Database { source, .. } = self else {
            return false;
        };
        match source.as_ref() {
            sqlx::Error::Io(io) => matches!(
                io.kind(),
                std::io::ErrorKind::StorageFull | std::io::ErrorKind::ReadOnlyFilesystem
            ),
            sqlx::Error::Database(db) => {
                let message = db.message().to_ascii_lowercase();
                // SQLite's SQLITE_FULL and SQLITE_READONLY; PostgreSQL's disk_full (53100)
                // and read_only_sql_transaction (25006).
                message.contains("database or disk is full")
                    || message.contains("readonly database")
                    || matches!(db.code().as_deref(), Some("53100") | Some("25006"))
            }
            _ => false,
        }
    }

    /// The refusal, if the database was refused at open.
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            StoreError::Refused { refusal, .. } => Some(refusal),
            _ => None,
        }
    }
}

/// Why a database was refused at open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The file is not a SQLite database at all.
    #[error("not a SQLite database: {why}")]
    NotADatabase {
        /// What was found.
        why: String,
    },
    /// SQLite's integrity check found damage.
    #[error("the database is corrupt: PRAGMA {check} reported: {findings}")]
    Corrupt {
        /// `quick_check` or `integrity_check`.
        check: &'static str,
        /// The first lines SQLite reported.
        findings: String,
    },
    /// The schema version was written by a newer Guardrail.
    #[error(
        "schema version {found} is newer than this build knows ({known}); upgrade Guardrail, never downgrade a ledger"
    )]
    NewerSchema {
        /// The stored version.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// The stored schema version is not a number.
    #[error("the stored schema version {found:?} is not a number")]
    BadSchemaVersion {
        /// What is stored.
        found: String,
    },
    /// A `meta` table without a schema version.
    #[error(
        "it has a `meta` table but no schema version: not a Guardrail ledger, or its creation was interrupted"
    )]
    MissingSchemaVersion,
    /// Tables that are not Guardrail's, and no `meta` table.
    #[error(
        "it already holds tables that are not a Guardrail ledger ({tables}); use an empty database"
    )]
    ForeignTables {
        /// The tables found.
        tables: String,
    },
    /// The schema version is known but a table it defines is missing.
    #[error("schema version {version} but table `{table}` is missing")]
    MissingTable {
        /// The stored version.
        version: i64,
        /// The missing table.
        table: String,
    },
}

/// Why [`crate::Store::verify`] did not confirm the chain.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The chain is broken: tampering or damage, at a named sequence number.
    #[error(transparent)]
    Broken(#[from] ChainBreak),
    /// The database could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl VerifyError {
    /// The break, if the chain is broken.
    pub fn chain_break(&self) -> Option<&ChainBreak> {
        match self {
            VerifyError::Broken(chain_break) => Some(chain_break),
            VerifyError::Store(_) => None,
        }
    }
}

/// The error a failpoint injects (tests only, through the `fail` crate): `full` is a full
/// disk, `read-only` a read-only database, anything else an I/O error carrying that text.
#[allow(
    dead_code,
    reason = "called only from failpoints, which compile only with the fail crate's `failpoints` feature"
)]
pub(crate) fn injected_fault(
    db: &str,
    operation: &'static str,
    fault: Option<String>,
) -> StoreError {
    let fault = fault.unwrap_or_default();
    let (kind, what) = match fault.as_str() {
        "full" => (
            std::io::ErrorKind::StorageFull,
            "no space left on device".to_string(),
        ),
        "read-only" => (
            std::io::ErrorKind::ReadOnlyFilesystem,
            "read-only file system".to_string(),
        ),
        other => (
            std::io::ErrorKind::Other,
            format!("injected fault: {other}"),
        ),
    };
    StoreError::database(
        db,
        operation,
        sqlx::Error::Io(std::io::Error::new(kind, what)),
    )
}
