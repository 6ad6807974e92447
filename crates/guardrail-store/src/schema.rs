//! The ledger's tables, their migrations per backend, and the checks a database must pass
//! before the store opens it.
//!
//! DDL is the one place the backends differ (`BIGINT`/`BYTEA` on PostgreSQL, `INTEGER`/
//! `BLOB` in a `STRICT` SQLite table); every query elsewhere is one SQL text for both.
//! [`describe`] reads back what a database really holds in backend-neutral terms, so a
//! test can prove the two DDLs define the same tables, columns and indexes.
//!
//! What it must never do: write to a database it does not understand. A database that is
//! corrupt, has tables that are not ours, or a schema version newer than this build is
//! refused before anything is written, with the reason ([`Refusal`]).

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Connection, Row};

use crate::error::{Refusal, StoreError};
use crate::url::Backend;

/// The newest schema version this build writes and reads.
pub const SCHEMA_VERSION: i64 = 1;

/// The meta key holding the schema version.
pub const SCHEMA_VERSION_KEY: &str = "schema_version";

/// The tables of [`SCHEMA_VERSION`].
pub const TABLES: [&str; 3] = ["checkpoints", "events", "meta"];

/// One schema step: the DDL that takes a database from `version - 1` to `version`.
struct Migration {
    version: i64,
    sqlite: &'static [&'static str],
    postgres: &'static [&'static str],
}

/// Every migration, in order. Add a step; never edit one that has shipped.
const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    // STRICT makes SQLite enforce the declared types as PostgreSQL does; an INTEGER
    // PRIMARY KEY is the rowid itself, so appending in seq order appends to the b-tree.
    sqlite: &[
        "CREATE TABLE meta (key TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL) STRICT",
        "CREATE TABLE events (seq INTEGER NOT NULL PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, \
         kind TEXT NOT NULL, at INTEGER NOT NULL, body BLOB NOT NULL, hash BLOB NOT NULL) STRICT",
        "CREATE TABLE checkpoints (slot INTEGER NOT NULL PRIMARY KEY, seq INTEGER NOT NULL, \
         state BLOB NOT NULL) STRICT",
    ],
    postgres: &[
        "CREATE TABLE meta (key TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL)",
        // COLLATE "C": ids compare as bytes, as in SQLite, whatever the database's locale
        // (and a byte comparison is the cheapest for the unique index).
        "CREATE TABLE events (seq BIGINT NOT NULL PRIMARY KEY, \
         event_id TEXT COLLATE \"C\" NOT NULL UNIQUE, \
         kind TEXT NOT NULL, at BIGINT NOT NULL, body BYTEA NOT NULL, hash BYTEA NOT NULL)",
        "CREATE TABLE checkpoints (slot BIGINT NOT NULL PRIMARY KEY, seq BIGINT NOT NULL, \
         state BYTEA NOT NULL)",
    ],
}];

/// How thoroughly SQLite checks a file at open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IntegrityCheck {
    /// `PRAGMA quick_check`: every page and record format, not index contents (linear in
    /// the file's size, a few seconds per GB).
    #[default]
    Quick,
    /// `PRAGMA integrity_check`: also that every index matches its table.
    Full,
    /// No check (tests of the refusal paths, or a caller that just ran one).
    Skip,
}

/// A column's type, in terms both backends share.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum ColumnKind {
    /// 64-bit integer (`INTEGER` / `BIGINT`).
    Integer,
    /// Text (`TEXT`).
    Text,
    /// Bytes (`BLOB` / `BYTEA`).
    Bytes,
    /// Anything else, as the backend names it.
    Other(String),
}

/// One column as the database holds it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ColumnShape {
    /// Its name.
    pub name: String,
    /// Its type.
    pub kind: ColumnKind,
    /// Declared `NOT NULL`.
    pub not_null: bool,
    /// Part of the primary key.
    pub primary_key: bool,
}

/// One secondary index (the primary key's is left out: SQLite has none for a rowid).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct IndexShape {
    /// Its columns, in order.
    pub columns: Vec<String>,
    /// A unique index.
    pub unique: bool,
}

/// One table as the database holds it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TableShape {
    /// Its name.
    pub name: String,
    /// Its columns, in declaration order.
    pub columns: Vec<ColumnShape>,
    /// Its secondary indexes, sorted.
    pub indexes: Vec<IndexShape>,
}

/// Brings a freshly connected database to [`SCHEMA_VERSION`], or refuses it.
pub(crate) async fn prepare(
    conn: &mut AnyConnection,
    backend: Backend,
    db: &str,
    check: IntegrityCheck,
) -> Result<(), StoreError> {
    if backend == Backend::Sqlite {
        sqlite_integrity(conn, db, check).await?;
    }
    let tables = table_names(conn, backend)
        .await
        .map_err(|error| classify(db, "open: list tables", error))?;
    if tables.is_empty() {
        return migrate(conn, backend, db, 0).await;
    }
    if !tables.iter().any(|table| table == "meta") {
        return Err(refused(
            db,
            Refusal::ForeignTables {
                tables: tables.join(", "),
            },
        ));
    }
    let stored: Option<String> = sqlx::query("SELECT value FROM meta WHERE key = $1")
        .bind(SCHEMA_VERSION_KEY)
        .fetch_optional(&mut *conn)
        .await
        .map_err(|error| classify(db, "open: read schema version", error))?
        .map(|row| row.try_get(0))
        .transpose()
        .map_err(|error| classify(db, "open: read schema version", error))?;
    let Some(stored) = stored else {
        return Err(refused(db, Refusal::MissingSchemaVersion));
    };
    let version: i64 = stored
        .trim()
        .parse()
        .map_err(|_| refused(db, Refusal::BadSchemaVersion { found: stored }))?;
    if version > SCHEMA_VERSION {
        return Err(refused(
            db,
            Refusal::NewerSchema {
                found: version,
                known: SCHEMA_VERSION,
            },
        ));
    }
    if version < SCHEMA_VERSION {
        migrate(conn, backend, db, version).await?;
    }
    let tables = table_names(conn, backend)
        .await
        .map_err(|error| classify(db, "open: list tables", error))?;
    for table in TABLES {
        if !tables.iter().any(|found| found == table) {
            return Err(refused(
                db,
                Refusal::MissingTable {
                    version: SCHEMA_VERSION,
                    table: table.into(),
                },
            ));
        }
    }
    Ok(())
}

/// Runs every migration after `from`, each in its own transaction with its version.
async fn migrate(
    conn: &mut AnyConnection,
    backend: Backend,
    db: &str,
    from: i64,
) -> Result<(), StoreError> {
    for migration in MIGRATIONS.iter().filter(|step| step.version > from) {
        let statements = match backend {
            Backend::Sqlite => migration.sqlite,
            Backend::Postgres => migration.postgres,
        };
        let mut tx = conn
            .begin()
            .await
            .map_err(|error| StoreError::database(db, "migrate: begin", error))?;
        for statement in statements {
            sqlx::query(*statement)
                .persistent(false)
                .execute(&mut *tx)
                .await
                .map_err(|error| StoreError::database(db, "migrate: create tables", error))?;
        }
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(SCHEMA_VERSION_KEY)
        .bind(migration.version.to_string())
        .execute(&mut *tx)
        .await
        .map_err(|error| StoreError::database(db, "migrate: record schema version", error))?;
        tx.commit()
            .await
            .map_err(|error| StoreError::database(db, "migrate: commit", error))?;
    }
    Ok(())
}

/// Runs SQLite's own check of the file and switches it to WAL.
async fn sqlite_integrity(
    conn: &mut AnyConnection,
    db: &str,
    check: IntegrityCheck,
) -> Result<(), StoreError> {
    let pragma = match check {
        IntegrityCheck::Quick => Some(("quick_check", "PRAGMA quick_check(20)")),
        IntegrityCheck::Full => Some(("integrity_check", "PRAGMA integrity_check(20)")),
        IntegrityCheck::Skip => None,
    };
    if let Some((name, statement)) = pragma {
        let rows = sqlx::query(statement)
            .persistent(false)
            .fetch_all(&mut *conn)
            .await
            .map_err(|error| classify(db, "open: integrity check", error))?;
        let findings: Vec<String> = rows
            .iter()
            .map(|row| row.try_get::<String, _>(0).unwrap_or_default())
            .collect();
        if findings != ["ok"] {
            return Err(refused(
                db,
                Refusal::Corrupt {
                    check: name,
                    findings: summarize(&findings),
                },
            ));
        }
    }
    // WAL: readers never block the writer and a commit is one append to one log. It is
    // a property of the file, kept across connections.
    let mode: String = sqlx::query("PRAGMA journal_mode = WAL")
        .persistent(false)
        .fetch_one(&mut *conn)
        .await
        .and_then(|row| row.try_get(0))
        .map_err(|error| classify(db, "open: set journal_mode=WAL", error))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::database(
            db,
            "open: set journal_mode=WAL",
            sqlx::Error::Protocol(format!("SQLite kept journal_mode {mode:?}")),
        ));
    }
    Ok(())
}

/// The per-connection SQLite settings: every commit reaches the disk before it returns.
pub(crate) async fn sqlite_connection_settings(
    conn: &mut AnyConnection,
    read_only: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query("PRAGMA synchronous = FULL")
        .persistent(false)
        .execute(&mut *conn)
        .await?;
    if read_only {
        // Only the writer task writes; a reader that tried would be a bug.
        sqlx::query("PRAGMA query_only = ON")
            .persistent(false)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The ledger's tables in the current schema, sorted.
pub(crate) async fn table_names(
    conn: &mut AnyConnection,
    backend: Backend,
) -> Result<Vec<String>, sqlx::Error> {
    let statement = match backend {
        Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             ORDER BY name"
        }
        Backend::Postgres => {
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1"
        }
    };
    sqlx::query(statement)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|row| row.try_get(0))
        .collect()
}

/// What the database holds: every table with its columns and secondary indexes.
pub(crate) async fn describe(
    conn: &mut AnyConnection,
    backend: Backend,
) -> Result<Vec<TableShape>, sqlx::Error> {
    let (columns_sql, indexes_sql) = match backend {
        Backend::Sqlite => (
            "SELECT name, type, \"notnull\", pk FROM pragma_table_info($1) ORDER BY cid",
            "SELECT il.name, il.\"unique\", ii.name FROM pragma_index_list($1) AS il \
             JOIN pragma_index_info(il.name) AS ii WHERE il.origin <> 'pk' \
             ORDER BY il.name, ii.seqno",
        ),
        Backend::Postgres => (
            "SELECT c.column_name::text, c.data_type::text, \
             CASE WHEN c.is_nullable = 'NO' THEN 1 ELSE 0 END::bigint, \
             CASE WHEN EXISTS (SELECT 1 FROM information_schema.table_constraints AS tc \
               JOIN information_schema.key_column_usage AS k \
               ON k.constraint_name = tc.constraint_name AND k.table_schema = tc.table_schema \
               AND k.table_name = tc.table_name \
               WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = c.table_schema \
               AND tc.table_name = c.table_name AND k.column_name = c.column_name) \
             THEN 1 ELSE 0 END::bigint \
             FROM information_schema.columns AS c \
             WHERE c.table_schema = current_schema() AND c.table_name::text = $1 \
             ORDER BY c.ordinal_position",
            "SELECT i.relname::text, CASE WHEN x.indisunique THEN 1 ELSE 0 END::bigint, \
             a.attname::text FROM pg_index AS x \
             JOIN pg_class AS t ON t.oid = x.indrelid \
             JOIN pg_class AS i ON i.oid = x.indexrelid \
             JOIN pg_namespace AS n ON n.oid = t.relnamespace \
             JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, ord) ON true \
             JOIN pg_attribute AS a ON a.attrelid = t.oid AND a.attnum = k.attnum \
             WHERE n.nspname = current_schema() AND t.relname::text = $1 AND NOT x.indisprimary \
             ORDER BY i.relname, k.ord",
        ),
    };
    let mut tables = Vec::new();
    for name in table_names(conn, backend).await? {
        let columns = sqlx::query(columns_sql)
            .bind(&name)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(column_shape)
            .collect::<Result<Vec<_>, _>>()?;
        let mut indexes: Vec<(String, IndexShape)> = Vec::new();
        for row in sqlx::query(indexes_sql)
            .bind(&name)
            .fetch_all(&mut *conn)
            .await?
        {
            let index: String = row.try_get(0)?;
            let unique: i64 = row.try_get(1)?;
            let column: String = row.try_get(2)?;
            match indexes.last_mut() {
                Some((last, shape)) if *last == index => shape.columns.push(column),
                _ => indexes.push((
                    index,
                    IndexShape {
                        columns: vec![column],
                        unique: unique != 0,
                    },
                )),
            }
        }
        let mut indexes: Vec<IndexShape> = indexes.into_iter().map(|(_, shape)| shape).collect();
        indexes.sort();
        tables.push(TableShape {
            name,
            columns,
            indexes,
        });
    }
    Ok(tables)
}

fn column_shape(row: &AnyRow) -> Result<ColumnShape, sqlx::Error> {
    let declared: String = row.try_get(1)?;
    let kind = match declared.to_ascii_lowercase().as_str() {
        "integer" | "bigint" => ColumnKind::Integer,
        "text" => ColumnKind::Text,
        "blob" | "bytea" => ColumnKind::Bytes,
        _ => ColumnKind::Other(declared),
    };
    Ok(ColumnShape {
        name: row.try_get(0)?,
        kind,
        not_null: row.try_get::<i64, _>(2)? != 0,
        primary_key: row.try_get::<i64, _>(3)? != 0,
    })
}

/// SQLite's findings on one line, the first few only (a damaged file can list thousands).
fn summarize(findings: &[String]) -> String {
    const SHOWN: usize = 5;
    let lines: Vec<&str> = findings
        .iter()
        .flat_map(|finding| finding.lines())
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with("***"))
        .collect();
    let mut summary = lines[..lines.len().min(SHOWN)].join("; ");
    if lines.len() > SHOWN {
        summary.push_str(&format!("; … ({} more)", lines.len() - SHOWN));
    }
    summary
}

fn refused(db: &str, refusal: Refusal) -> StoreError {
    StoreError::Refused {
        db: db.to_string(),
        refusal,
    }
}

/// A SQLite "corrupt" or "not a database" error at open is a refusal, not a failure.
pub(crate) fn classify(db: &str, operation: &'static str, error: sqlx::Error) -> StoreError {
    let code = match &error {
        sqlx::Error::Database(database) => database
            .code()
            .and_then(|code| code.parse::<i64>().ok())
            .map(|code| code & 0xff),
        _ => None,
    };
    // SQLite's primary result codes: 11 SQLITE_CORRUPT, 26 SQLITE_NOTADB.
    match code {
        Some(11) => refused(
            db,
            Refusal::Corrupt {
                check: "open",
                findings: error.to_string(),
            },
        ),
        Some(26) => refused(
            db,
            Refusal::NotADatabase {
                why: error.to_string(),
            },
        ),
        _ => StoreError::database(db, operation, error),
    }
}

/// A connection that fails because the file is corrupt or not a database is refused;
/// anything else (no server, bad password, no permission) is a connection error.
pub(crate) fn classify_connect(db: &str, error: sqlx::Error) -> StoreError {
    match classify(db, "connect", error) {
        StoreError::Database { source, .. } => StoreError::Connect {
            db: db.to_string(),
            source,
        },
        refusal => refusal,
    }
}

/// Checks the first bytes of an existing SQLite file before SQLite opens it, so that a
/// file that is something else is named as such rather than failing some later query.
pub(crate) fn sqlite_header(path: &std::path::Path, db: &str) -> Result<(), StoreError> {
    use std::io::Read;
    const MAGIC: &[u8; 16] = b"SQLite format 3\0";
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        // Not there yet: SQLite creates it.
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(error) => {
            return Err(refused(
                db,
                Refusal::NotADatabase {
                    why: format!("cannot read {}: {error}", path.display()),
                },
            ));
        }
    };
    if file.metadata().is_ok_and(|meta| meta.is_dir()) {
        return Err(refused(
            db,
            Refusal::NotADatabase {
                why: format!("{} is a directory", path.display()),
            },
        ));
    }
    let mut header = Vec::with_capacity(16);
    file.by_ref()
        .take(16)
        .read_to_end(&mut header)
        .map_err(|error| {
            refused(
                db,
                Refusal::NotADatabase {
                    why: format!("cannot read {}: {error}", path.display()),
                },
            )
        })?;
    // An empty file is an empty database to SQLite.
    if header.is_empty() || header.as_slice() == MAGIC {
        return Ok(());
    }
    Err(refused(
        db,
        Refusal::NotADatabase {
            why: format!(
                "{} does not start with the SQLite header (found {:?})",
                path.display(),
                String::from_utf8_lossy(&header)
            ),
        },
    ))
}
