//! [`Store`]: the ledger on a database. Opening checks and migrates the database, starts
//! the writer task ([`crate::writer`]) and a small pool of read connections; every method
//! is one SQL text for both backends.
//!
//! What it must never do: write outside the writer task (read connections are opened
//! read-only), or trust stored hashes when asked to verify ([`Store::verify`] recomputes
//! the chain from the bodies).

use std::sync::Arc;

use guardrail_ledger::{ChainBreak, ChainHash, ChainVerifier, Event, Record};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyConnection, AnyPool, Row};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::error::{StoreError, VerifyError};
use crate::schema::{self, IntegrityCheck, SCHEMA_VERSION_KEY, TableShape};
use crate::sql;
use crate::url::{Backend, DbUrl};
use crate::writer::{self, AppendOutcome, Request, Writer, WriterConfig, WriterStats, to_sql_int};

/// How a store runs.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Events one group commit takes from the queue at most (a single `append` call larger
    /// than this is still committed whole: one call is never split across transactions).
    pub max_batch_events: usize,
    /// Write requests that may wait in the queue before `append` waits for room.
    pub queue_capacity: usize,
    /// Read connections.
    pub read_connections: u32,
    /// SQLite's check of the file at open.
    pub integrity_check: IntegrityCheck,
}

impl Default for StoreOptions {
    fn default() -> StoreOptions {
        StoreOptions {
            max_batch_events: 8_192,
            queue_capacity: 1_024,
            read_connections: 4,
            integrity_check: IntegrityCheck::Quick,
        }
    }
}

/// Records [`Store::verify`] reads per page.
const VERIFY_PAGE: usize = 8_192;

/// The ledger's database.
#[derive(Debug)]
pub struct Store {
    db: String,
    backend: Backend,
    pool: AnyPool,
    queue: mpsc::Sender<Request>,
    writer: JoinHandle<()>,
    stats: Arc<WriterStats>,
}

impl Store {
    /// Opens (creating if new) the database at `url`: checks it, brings its schema to this
    /// build's version, and starts the writer. Refuses ([`StoreError::Refused`]) a database
    /// that is corrupt, not a database, not ours, or from a newer build.
    pub async fn open(url: &DbUrl, options: StoreOptions) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let db = url.to_string();
        let backend = url.backend();
        if let Some(path) = url.sqlite_path() {
            schema::sqlite_header(path, &db)?;
        }
        let write_url = url.to_sqlx_url(true)?;
        let mut conn = writer::connect_writer(&write_url, &db, backend).await?;
        schema::prepare(&mut conn, backend, &db, options.integrity_check).await?;
        let (head_seq, head) = writer::read_head(&mut conn, &db).await?;

        let read_url = url.to_sqlx_url(false)?;
        let pool = AnyPoolOptions::new()
            .max_connections(options.read_connections.max(1))
            .after_connect(move |conn: &mut AnyConnection, _meta| {
                Box::pin(async move { read_only_settings(conn, backend).await })
            })
            .connect_lazy(&read_url)
            .map_err(|error| StoreError::Connect {
                db: db.clone(),
                source: Arc::new(error),
            })?;

        let stats = Arc::new(WriterStats::default());
        let (queue, requests) = mpsc::channel(options.queue_capacity.max(1));
        let config = WriterConfig {
            url: write_url,
            db: db.clone(),
            backend,
            max_batch_events: options.max_batch_events.max(1),
            stats: Arc::clone(&stats),
        };
        let writer = tokio::spawn(Writer::new(config, conn, head_seq, head).run(requests));
        Ok(Store {
            db,
            backend,
            pool,
            queue,
            writer,
            stats,
        })
    }

    /// Which engine this store runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The writer's counters since open.
    pub fn writer_stats(&self) -> &WriterStats {
        &self.stats
    }

    /// Appends events, in order, durably: when this returns `Ok`, every `Stored` event is
    /// committed and fsynced. One outcome per event, in the same order. An event whose id
    /// is already stored is not written again ([`AppendOutcome::Duplicate`] or
    /// [`AppendOutcome::Conflict`]). On `Err`, nothing of this call was written (unless
    /// the connection broke during the commit itself: then retry, and ids make it safe).
    ///
    /// Cancelling the returned future after it started does not withdraw the events.
    pub async fn append(&self, events: Vec<Event>) -> Result<Vec<AppendOutcome>, StoreError> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        for (index, event) in events.iter().enumerate() {
            if i64::try_from(event.at).is_err() {
                return Err(StoreError::InvalidEvent {
                    index,
                    id: event.id.clone(),
                    why: format!("`at` {} does not fit a signed 64-bit integer", event.at),
                });
            }
        }
        let (reply, answer) = oneshot::channel();
        self.send(Request::Append { events, reply }, answer).await
    }

    /// Up to `limit` records after sequence number `after_seq`, in order.
    pub async fn read(&self, after_seq: u64, limit: usize) -> Result<Vec<Record>, StoreError> {
        self.read_raw(after_seq, limit)
            .await?
            .into_iter()
            .map(|raw| {
                raw.into_record()
                    .map_err(|(seq, why)| self.malformed(seq, why))
            })
            .collect()
    }

    /// The newest `limit` records of `kind` (an event type, e.g. `decision_logged`), oldest
    /// first.
    pub async fn latest_of_kind(
        &self,
        kind: &str,
        limit: usize,
    ) -> Result<Vec<Record>, StoreError> {
        let rows = sqlx::query(sql::READ_LATEST_OF_KIND)
            .bind(kind)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await
            .map_err(|error| StoreError::database(&self.db, "read records of a kind", error))?;
        let mut records = rows
            .iter()
            .map(RawRecord::from_row)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| StoreError::database(&self.db, "read records of a kind", error))?
            .into_iter()
            .map(|raw| {
                raw.into_record()
                    .map_err(|(seq, why)| self.malformed(seq, why))
            })
            .collect::<Result<Vec<_>, _>>()?;
        records.reverse();
        Ok(records)
    }

    /// Every record after `after_seq`, `page_size` at a time.
    pub fn pages(&self, after_seq: u64, page_size: usize) -> Pages<'_> {
        Pages {
            store: self,
            after_seq,
            page_size: page_size.max(1),
            done: false,
        }
    }

    /// The last sequence number and the chain hash after it (`(0, GENESIS)` when empty).
    pub async fn head(&self) -> Result<(u64, ChainHash), StoreError> {
        let mut conn = self.acquire().await?;
        writer::read_head(&mut conn, &self.db).await
    }

    /// The record of an event id, if stored.
    pub async fn event(&self, id: &str) -> Result<Option<Record>, StoreError> {
        let row = sqlx::query(sql::READ_BY_ID)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|error| StoreError::database(&self.db, "read event by id", error))?;
        row.map(|row| {
            RawRecord::from_row(&row)
                .map_err(|error| StoreError::database(&self.db, "read event by id", error))?
                .into_record()
                .map_err(|(seq, why)| self.malformed(seq, why))
        })
        .transpose()
    }

    /// Recomputes the whole chain from the stored bodies and returns the number of records
    /// verified, or the first sequence number that does not verify (a record altered,
    /// removed, inserted or moved, or a row that cannot be read as a record).
    pub async fn verify(&self) -> Result<u64, VerifyError> {
        let mut verifier = ChainVerifier::new();
        // From the very bottom: a row moved to seq 0 or below is tampering too, and must
        // be seen, not skipped by `seq > 0`.
        let mut after: i64 = i64::MIN;
        loop {
            let page = self.read_raw_signed(after, VERIFY_PAGE).await?;
            let Some(last) = page.last() else {
                return Ok(verifier.last_seq());
            };
            after = last.seq;
            let full = page.len() == VERIFY_PAGE;
            for raw in page {
                let record = raw.into_record().map_err(|(seq, why)| ChainBreak {
                    seq: u64::try_from(seq).unwrap_or(verifier.last_seq() + 1),
                    why: format!("the stored row cannot be read as a record: {why}"),
                })?;
                verifier.check(&record)?;
            }
            if !full {
                return Ok(verifier.last_seq());
            }
        }
    }

    /// Saves the serialized derived state as of sequence number `seq` (replacing the
    /// previous checkpoint). Refuses a `seq` beyond the last stored record.
    pub async fn save_checkpoint(&self, seq: u64, state: Vec<u8>) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        self.send(Request::SaveCheckpoint { seq, state, reply }, answer)
            .await
    }

    /// The last checkpoint saved: its sequence number and bytes.
    pub async fn load_checkpoint(&self) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        let Some(row) = sqlx::query(sql::CHECKPOINT_LOAD)
            .fetch_optional(&self.pool)
            .await
            .map_err(|error| StoreError::database(&self.db, "load checkpoint", error))?
        else {
            return Ok(None);
        };
        let seq: i64 = row
            .try_get(0)
            .map_err(|error| StoreError::database(&self.db, "load checkpoint", error))?;
        let state: Vec<u8> = row
            .try_get(1)
            .map_err(|error| StoreError::database(&self.db, "load checkpoint", error))?;
        let seq = u64::try_from(seq).map_err(|_| StoreError::MalformedRow {
            db: self.db.clone(),
            seq,
            why: "checkpoint has a negative sequence number".into(),
        })?;
        Ok(Some((seq, state)))
    }

    /// A value from the `meta` table.
    pub async fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(sql::META_GET)
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(|error| StoreError::database(&self.db, "read meta value", error))?;
        row.map(|row| row.try_get(0))
            .transpose()
            .map_err(|error| StoreError::database(&self.db, "read meta value", error))
    }

    /// Sets a value in the `meta` table (not `schema_version`, which the store owns).
    pub async fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        if key == SCHEMA_VERSION_KEY {
            return Err(StoreError::ReservedMetaKey { key: key.into() });
        }
        let (reply, answer) = oneshot::channel();
        let request = Request::SetMeta {
            key: key.into(),
            value: value.into(),
            reply,
        };
        self.send(request, answer).await
    }

    /// The tables, columns and indexes the database holds, in backend-neutral terms.
    pub async fn describe_schema(&self) -> Result<Vec<TableShape>, StoreError> {
        let mut conn = self.acquire().await?;
        schema::describe(&mut conn, self.backend)
            .await
            .map_err(|error| StoreError::database(&self.db, "describe schema", error))
    }

    /// Stops the writer after the queued writes and closes every connection.
    pub async fn close(self) {
        let Store {
            pool,
            queue,
            writer,
            ..
        } = self;
        drop(queue);
        // The writer ends when the queue is empty and closed; a panic there has already
        // answered nobody, and there is nothing left to do with it at close.
        let _ = writer.await;
        pool.close().await;
    }

    async fn send<T>(
        &self,
        request: Request,
        answer: oneshot::Receiver<Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        self.queue
            .send(request)
            .await
            .map_err(|_| StoreError::WriterStopped)?;
        answer.await.map_err(|_| StoreError::WriterStopped)?
    }

    async fn acquire(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>, StoreError> {
        self.pool
            .acquire()
            .await
            .map_err(|error| StoreError::Connect {
                db: self.db.clone(),
                source: Arc::new(error),
            })
    }

    async fn read_raw(&self, after_seq: u64, limit: usize) -> Result<Vec<RawRecord>, StoreError> {
        self.read_raw_signed(to_sql_int(after_seq), limit).await
    }

    async fn read_raw_signed(
        &self,
        after_seq: i64,
        limit: usize,
    ) -> Result<Vec<RawRecord>, StoreError> {
        fail::fail_point!("store::read", |fault| Err(crate::error::injected_fault(
            &self.db,
            "read records",
            fault
        )));
        let rows = sqlx::query(sql::READ_PAGE)
            .bind(after_seq)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await
            .map_err(|error| StoreError::database(&self.db, "read records", error))?;
        rows.iter()
            .map(RawRecord::from_row)
            .collect::<Result<_, _>>()
            .map_err(|error| StoreError::database(&self.db, "read records", error))
    }

    fn malformed(&self, seq: i64, why: String) -> StoreError {
        StoreError::MalformedRow {
            db: self.db.clone(),
            seq,
            why,
        }
    }
}

/// Pages of records in order; see [`Store::pages`].
#[derive(Debug)]
pub struct Pages<'a> {
    store: &'a Store,
    after_seq: u64,
    page_size: usize,
    done: bool,
}

impl Pages<'_> {
    /// The next page, or `None` after the last record.
    pub async fn next_page(&mut self) -> Result<Option<Vec<Record>>, StoreError> {
        if self.done {
            return Ok(None);
        }
        let page = self.store.read(self.after_seq, self.page_size).await?;
        self.done = page.len() < self.page_size;
        match page.last() {
            Some(last) => {
                self.after_seq = last.seq;
                Ok(Some(page))
            }
            None => {
                self.done = true;
                Ok(None)
            }
        }
    }
}

/// A row of `events` as stored, before its values are checked.
struct RawRecord {
    seq: i64,
    event_id: String,
    kind: String,
    at: i64,
    body: Vec<u8>,
    hash: Vec<u8>,
}

impl RawRecord {
    fn from_row(row: &AnyRow) -> Result<RawRecord, sqlx::Error> {
        Ok(RawRecord {
            seq: row.try_get(0)?,
            event_id: row.try_get(1)?,
            kind: row.try_get(2)?,
            at: row.try_get(3)?,
            body: row.try_get(4)?,
            hash: row.try_get(5)?,
        })
    }

    fn into_record(self) -> Result<Record, (i64, String)> {
        let seq = self.seq;
        let fail = |why: String| (seq, why);
        Ok(Record {
            seq: u64::try_from(seq).map_err(|_| fail(format!("sequence number {seq} < 0")))?,
            at: u64::try_from(self.at).map_err(|_| fail(format!("`at` {} < 0", self.at)))?,
            hash: ChainHash::from_slice(&self.hash)
                .ok_or_else(|| fail(format!("hash has {} bytes, not 32", self.hash.len())))?,
            event_id: self.event_id,
            kind: self.kind,
            body: self.body,
        })
    }
}

async fn read_only_settings(conn: &mut AnyConnection, backend: Backend) -> Result<(), sqlx::Error> {
    match backend {
        Backend::Sqlite => schema::sqlite_connection_settings(conn, true).await,
        Backend::Postgres => {
            sqlx::query("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
                .persistent(false)
                .execute(&mut *conn)
                .await?;
            Ok(())
        }
    }
}
