//! The SQL the store runs: one text per statement for both backends, `$N` placeholders.
//!
//! Batched statements (multi-row `INSERT`, `IN (…)` look-ups) come in a fixed ladder of
//! sizes, so a batch of any length is cut into at most a handful of distinct statement
//! texts and each connection's prepared-statement cache keeps them all. Their placeholders
//! appear once each, in order, so that on SQLite the one text can be run with anonymous
//! `?` placeholders ([`for_backend`]): sqlx-sqlite binds a named `$N` by looking its name up
//! in a list as long as the statement, which made every bound value's cost grow with the
//! statement, while an anonymous `?` binds by position.
//!
//! What it must never do: put data into SQL text. Every value is bound.

use std::sync::{Arc, OnceLock};

use sqlx::AssertSqlSafe;

use crate::url::Backend;

/// The columns of `events`, in the order statements bind and read them.
pub const RECORD_COLUMNS: &str = "seq, event_id, kind, at, body, hash";

/// Values bound per inserted record.
const RECORD_WIDTH: usize = 6;

/// Rows per multi-row statement: powers of two, largest first. A batch is cut greedily
/// into these, up to a largest size the caller chooses per backend, so any length takes
/// full chunks plus at most one of each smaller size. 1,024 rows × 6 values stays below
/// both engines' bound-parameter limits (SQLite 32,766, PostgreSQL 65,535).
pub const CHUNK_LADDER: [usize; 11] = [1_024, 512, 256, 128, 64, 32, 16, 8, 4, 2, 1];

/// Reads a page of records after a sequence number.
pub const READ_PAGE: &str = "SELECT seq, event_id, kind, at, body, hash FROM events \
     WHERE seq > $1 ORDER BY seq LIMIT $2";

/// Reads the newest records of one kind (walking the primary key backwards).
pub const READ_LATEST_OF_KIND: &str = "SELECT seq, event_id, kind, at, body, hash FROM events \
     WHERE kind = $1 ORDER BY seq DESC LIMIT $2";

/// Reads one record by event id.
pub const READ_BY_ID: &str =
    "SELECT seq, event_id, kind, at, body, hash FROM events WHERE event_id = $1";

/// The last record's sequence number and hash.
pub const READ_HEAD: &str = "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1";

/// Takes PostgreSQL's transaction-scoped advisory lock that every append holds, so that
/// writers sharing one database (replicas) extend the chain one at a time. (The number is
/// the lock's name; selected through a subquery so the row has a decodable column.)
pub const LOCK_APPENDS: &str =
    "SELECT 1 FROM (SELECT pg_advisory_xact_lock(7166730261183460689)) AS appends_locked";

/// Reads a meta value.
pub const META_GET: &str = "SELECT value FROM meta WHERE key = $1";

/// Sets a meta value.
pub const META_SET: &str = "INSERT INTO meta (key, value) VALUES ($1, $2) \
     ON CONFLICT (key) DO UPDATE SET value = excluded.value";

/// Saves the one checkpoint slot.
pub const CHECKPOINT_SAVE: &str = "INSERT INTO checkpoints (slot, seq, state) VALUES (1, $1, $2) \
     ON CONFLICT (slot) DO UPDATE SET seq = excluded.seq, state = excluded.state";

/// Loads the checkpoint.
pub const CHECKPOINT_LOAD: &str = "SELECT seq, state FROM checkpoints WHERE slot = 1";

/// Cuts `total` items into ladder-sized chunks of at most `max` (at least 1), largest
/// first: `(start, size)`.
pub fn chunks(total: usize, max: usize) -> impl Iterator<Item = (usize, usize)> {
    let mut start = 0;
    std::iter::from_fn(move || {
        let left = total - start;
        let size = CHUNK_LADDER
            .iter()
            .copied()
            .find(|size| *size <= left && (*size <= max || *size == 1))?;
        let chunk = (start, size);
        start += size;
        Some(chunk)
    })
}

/// `INSERT INTO events (…) VALUES ($1, $2, …, $6), ($7, …), …` for `rows` records.
pub fn insert_records(rows: usize, backend: Backend) -> AssertSqlSafe<Arc<str>> {
    static CACHE: [OnceLock<Vec<Arc<str>>>; 2] = [OnceLock::new(), OnceLock::new()];
    ladder_statement(&CACHE, backend, rows, |rows| {
        let mut sql = format!("INSERT INTO events ({RECORD_COLUMNS}) VALUES ");
        for row in 0..rows {
            if row > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for column in 0..RECORD_WIDTH {
                if column > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("${}", 1 + row * RECORD_WIDTH + column));
            }
            sql.push(')');
        }
        sql
    })
}

/// `SELECT seq, event_id, body FROM events WHERE event_id IN ($1, …)` for `ids` ids.
pub fn find_ids(ids: usize, backend: Backend) -> AssertSqlSafe<Arc<str>> {
    static CACHE: [OnceLock<Vec<Arc<str>>>; 2] = [OnceLock::new(), OnceLock::new()];
    ladder_statement(&CACHE, backend, ids, |ids| {
        let placeholders: Vec<String> = (1..=ids).map(|n| format!("${n}")).collect();
        format!(
            "SELECT seq, event_id, body FROM events WHERE event_id IN ({})",
            placeholders.join(", ")
        )
    })
}

fn ladder_statement(
    caches: &[OnceLock<Vec<Arc<str>>>; 2],
    backend: Backend,
    rows: usize,
    build: fn(usize) -> String,
) -> AssertSqlSafe<Arc<str>> {
    let cache = &caches[usize::from(backend == Backend::Sqlite)];
    let texts = cache.get_or_init(|| {
        CHUNK_LADDER
            .iter()
            .map(|rows| Arc::from(for_backend(&build(*rows), backend)))
            .collect()
    });
    match CHUNK_LADDER.iter().position(|size| *size == rows) {
        Some(at) => AssertSqlSafe(Arc::clone(&texts[at])),
        // Only ladder sizes are asked for ([`chunks`]); any other size still works, uncached.
        None => AssertSqlSafe(Arc::from(for_backend(&build(rows), backend))),
    }
}

/// A statement's text for a backend: as written for PostgreSQL; for SQLite, every `$N`
/// becomes an anonymous `?`. Only texts whose placeholders appear once each, in order
/// `$1, $2, …`, may be translated (the anonymous ones bind by position); the batched
/// statements are built that way, and a test holds them to it.
pub fn for_backend(sql: &str, backend: Backend) -> String {
    if backend == Backend::Postgres {
        return sql.to_string();
    }
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            while chars.peek().is_some_and(char::is_ascii_digit) {
                chars.next();
            }
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

/// The `$N` placeholders of a text, in order of appearance.
#[cfg(test)]
fn placeholders(sql: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let bytes = sql.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' {
            let start = i + 1;
            let mut end = start;
            while end < bytes.len() && bytes[end].is_ascii_digit() {
                end += 1;
            }
            if end > start {
                out.push(sql[start..end].parse().unwrap_or(0));
            }
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_every_item_once_with_ladder_sizes() {
        for max in [1, 32, 64, 1_024, 5_000] {
            for total in [0, 1, 7, 8, 9, 255, 256, 257, 1_000, 4_097, 10_000] {
                let cut: Vec<(usize, usize)> = chunks(total, max).collect();
                let mut next = 0;
                for (start, size) in &cut {
                    assert_eq!(*start, next, "total {total}");
                    assert!(CHUNK_LADDER.contains(size));
                    assert!(*size <= max, "{size} > {max}");
                    next += size;
                }
                assert_eq!(next, total);
                // Full chunks of the largest allowed size, then one of each smaller size
                // at most (a binary decomposition of the rest).
                let largest = CHUNK_LADDER
                    .iter()
                    .copied()
                    .find(|s| *s <= max)
                    .unwrap_or(1);
                assert!(
                    cut.len() <= total / largest + CHUNK_LADDER.len(),
                    "{total} by {max}: {}",
                    cut.len()
                );
            }
        }
    }

    #[test]
    fn statements_number_their_placeholders_once_each_in_order() {
        let insert = insert_records(2, Backend::Postgres);
        assert_eq!(
            &*insert.0,
            "INSERT INTO events (seq, event_id, kind, at, body, hash) VALUES \
             ($1, $2, $3, $4, $5, $6), ($7, $8, $9, $10, $11, $12)"
        );
        assert_eq!(
            &*insert_records(2, Backend::Sqlite).0,
            "INSERT INTO events (seq, event_id, kind, at, body, hash) VALUES \
             (?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?)"
        );
        assert_eq!(
            &*find_ids(3, Backend::Sqlite).0,
            "SELECT seq, event_id, body FROM events WHERE event_id IN (?, ?, ?)"
        );
        // Translating to anonymous placeholders is sound only for texts whose `$N` run
        // 1, 2, 3, … once each: every batched statement of every ladder size is.
        for rows in CHUNK_LADDER {
            for text in [
                insert_records(rows, Backend::Postgres),
                find_ids(rows, Backend::Postgres),
            ] {
                let found = placeholders(&text.0);
                let expected: Vec<usize> = (1..=found.len()).collect();
                assert_eq!(found, expected, "{rows} rows");
            }
        }
    }
}
