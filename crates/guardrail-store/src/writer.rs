//! The writer task: the one owner of the write connection, and group commit.
//!
//! Every write (appends, meta values, checkpoints) is a request on one queue. The task
//! takes the first request, drains whatever other appends are already queued (up to
//! [`crate::StoreOptions::max_batch_events`]), and commits them as one transaction: ids
//! checked within the batch and against the database (by the `UNIQUE` constraint, with a
//! look-up of every id if it fires), new events sealed into the chain with
//! [`ChainWriter`] after the stored head, multi-row `INSERT`s, one `COMMIT` (one fsync).
//! Only then is each caller answered. While one batch commits, the next accumulates, so
//! the fsync cost is shared by everyone who arrived meanwhile.
//!
//! What it must never do: answer `Stored` before the commit returned, or leave part of a
//! batch written. A failed batch is rolled back, every caller in it gets the error, and
//! the connection and chain head are reloaded from the database before the next batch
//! (the commit's outcome may be unknown if the connection broke: a retry by id then
//! answers `Duplicate`, never a second copy).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use guardrail_ledger::{ChainHash, ChainWriter, Event, GENESIS, Record};
use sqlx::{AnyConnection, Connection, Row};
use tokio::sync::{mpsc, oneshot};

use crate::error::StoreError;
use crate::sql;
use crate::url::Backend;

/// What happened to one event given to [`crate::Store::append`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppendOutcome {
    /// Stored now, at this sequence number.
    Stored {
        /// Its sequence number.
        seq: u64,
    },
    /// Already stored with the same body (a retry): nothing written.
    Duplicate {
        /// The stored sequence number.
        seq: u64,
    },
    /// Already stored with a different body: the stored event stands, this one is dropped.
    Conflict {
        /// The stored sequence number.
        seq: u64,
        /// The stored body, so the caller can see the difference.
        stored_body: Vec<u8>,
    },
}

impl AppendOutcome {
    /// The sequence number the event's id has in the ledger.
    pub fn seq(&self) -> u64 {
        match self {
            AppendOutcome::Stored { seq }
            | AppendOutcome::Duplicate { seq }
            | AppendOutcome::Conflict { seq, .. } => *seq,
        }
    }
}

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

/// One request to the writer.
pub(crate) enum Request {
    Append {
        events: Vec<Event>,
        reply: Reply<Vec<AppendOutcome>>,
    },
    SetMeta {
        key: String,
        value: String,
        reply: Reply<()>,
    },
    SaveCheckpoint {
        seq: u64,
        state: Vec<u8>,
        reply: Reply<()>,
    },
}

/// Counters of the writer's work, for tests and benchmarks (how well commits group).
#[derive(Debug, Default)]
pub struct WriterStats {
    commits: AtomicU64,
    appends: AtomicU64,
    stored: AtomicU64,
}

impl WriterStats {
    /// Group commits that succeeded.
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// `append` calls answered by those commits.
    pub fn appends(&self) -> u64 {
        self.appends.load(Ordering::Relaxed)
    }

    /// Events stored by those commits (duplicates and conflicts not counted).
    pub fn stored(&self) -> u64 {
        self.stored.load(Ordering::Relaxed)
    }
}

/// What the writer needs to (re)connect.
pub(crate) struct WriterConfig {
    pub url: String,
    pub db: String,
    pub backend: Backend,
    pub max_batch_events: usize,
    pub stats: Arc<WriterStats>,
}

/// The writer's state between batches.
pub(crate) struct Writer {
    config: WriterConfig,
    /// The connection and the chain after its last commit; `None` after a failure, so the
    /// next batch reconnects and reloads the head from what the database really holds.
    live: Option<(AnyConnection, ChainWriter)>,
}

impl Writer {
    pub(crate) fn new(
        config: WriterConfig,
        conn: AnyConnection,
        head_seq: u64,
        head: ChainHash,
    ) -> Writer {
        Writer {
            config,
            live: Some((conn, ChainWriter::new(head, head_seq + 1))),
        }
    }

    /// Serves requests until every sender is gone, then closes the connection.
    pub(crate) async fn run(mut self, mut queue: mpsc::Receiver<Request>) {
        let mut held: Option<Request> = None;
        loop {
            let first = match held.take() {
                Some(request) => request,
                None => match queue.recv().await {
                    Some(request) => request,
                    None => break,
                },
            };
            match first {
                Request::Append { events, reply } => {
                    let mut count = events.len();
                    let mut group = vec![(events, reply)];
                    while count < self.config.max_batch_events {
                        match queue.try_recv() {
                            Ok(Request::Append { events, reply }) => {
                                count += events.len();
                                group.push((events, reply));
                            }
                            Ok(other) => {
                                held = Some(other);
                                break;
                            }
                            Err(_) => break,
                        }
                    }
                    self.commit_group(group).await;
                }
                Request::SetMeta { key, value, reply } => {
                    let result = self.set_meta(&key, &value).await;
                    self.settle(&result);
                    let _ = reply.send(result);
                }
                Request::SaveCheckpoint { seq, state, reply } => {
                    let result = self.save_checkpoint(seq, state).await;
                    self.settle(&result);
                    let _ = reply.send(result);
                }
            }
        }
        if let Some((conn, _)) = self.live.take() {
            // Closing cleanly lets SQLite checkpoint the WAL; an error here loses nothing.
            let _ = conn.close().await;
        }
    }

    async fn commit_group(&mut self, group: Vec<(Vec<Event>, Reply<Vec<AppendOutcome>>)>) {
        let (batches, replies): (Vec<Vec<Event>>, Vec<_>) = group.into_iter().unzip();
        let calls = batches.len() as u64;
        let result = self.append(batches).await;
        self.settle(&result);
        if result.is_ok() {
            self.config
                .stats
                .appends
                .fetch_add(calls, Ordering::Relaxed);
        }
        match result {
            Ok(outcomes) => {
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    // A caller that stopped waiting still has its events stored.
                    let _ = reply.send(Ok(outcome));
                }
            }
            Err(error) => {
                for reply in replies {
                    let _ = reply.send(Err(error.clone()));
                }
            }
        }
    }

    /// After a failure of the database, forget the connection and head: they are
    /// reloaded next time. A refused request (a checkpoint ahead of the ledger) leaves
    /// them as they are.
    fn settle<T>(&mut self, result: &Result<T, StoreError>) {
        if let Err(
            StoreError::Database { .. }
            | StoreError::Connect { .. }
            | StoreError::MalformedRow { .. }
            | StoreError::Refused { .. },
        ) = result
        {
            self.live = None;
        }
    }

    async fn live(&mut self) -> Result<&mut (AnyConnection, ChainWriter), StoreError> {
        if self.live.is_none() {
            let mut conn =
                connect_writer(&self.config.url, &self.config.db, self.config.backend).await?;
            let (seq, hash) = read_head(&mut conn, &self.config.db).await?;
            self.live = Some((conn, ChainWriter::new(hash, seq + 1)));
        }
        match self.live.as_mut() {
            Some(live) => Ok(live),
            None => Err(StoreError::WriterStopped),
        }
    }

    /// One group commit. Outcomes are per caller, in the callers' order.
    ///
    /// Ids are checked against the database in one of two ways. First optimistically: the
    /// events are sealed as if none were stored and inserted, and the `UNIQUE` constraint on
    /// `event_id` is the check (retries are rare, and this saves a look-up per event on
    /// the common path). If the database reports a unique violation, that transaction is
    /// rolled back and the batch is done again with every id looked up first, after the
    /// chain's head is read again: on a shared database another replica may have stored
    /// records since this writer's last commit (the sequence number it was about to use is
    /// then taken, a violation of the primary key). Contended, this repeats a few times.
    async fn append(
        &mut self,
        batches: Vec<Vec<Event>>,
    ) -> Result<Vec<Vec<AppendOutcome>>, StoreError> {
        let lengths: Vec<usize> = batches.iter().map(Vec::len).collect();
        let events: Vec<Event> = batches.into_iter().flatten().collect();
        let first_of = first_occurrences(&events);
        let mut result = self.commit(&events, &first_of, false).await;
        let mut retries = 0;
        while let Err(error) = &result
            && is_unique_violation(error)
            && retries < MAX_CONTENDED_RETRIES
        {
            retries += 1;
            result = self.commit(&events, &first_of, true).await;
        }
        let outcomes = result?;
        let mut outcomes = outcomes.into_iter();
        Ok(lengths
            .into_iter()
            .map(|length| outcomes.by_ref().take(length).collect())
            .collect())
    }

    /// Seals, inserts and commits `events`; with `look_up`, the chain's head is read again
    /// and ids already stored are found first and answered `Duplicate` or `Conflict`
    /// instead of inserted. The transaction holds the database's append lock from its
    /// start (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: an advisory lock), so what it reads
    /// cannot move before it commits, whoever else writes to the database.
    async fn commit(
        &mut self,
        events: &[Event],
        first_of: &[usize],
        look_up: bool,
    ) -> Result<Vec<AppendOutcome>, StoreError> {
        let db = self.config.db.clone();
        let backend = self.config.backend;
        let max_rows = max_rows_per_statement(backend);
        let (conn, chain) = self.live().await?;
        let mut tx = match backend {
            Backend::Sqlite => conn.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => conn.begin().await,
        }
        .map_err(|error| StoreError::database(&db, "append: begin", error))?;
        if backend == Backend::Postgres {
            sqlx::query(sql::LOCK_APPENDS)
                .execute(&mut *tx)
                .await
                .map_err(|error| StoreError::database(&db, "append: lock", error))?;
        }
        if look_up {
            // Another writer on this database may have moved the head since this one's
            // last commit (its sequence number was taken: the violation that led here).
            let (seq, hash) = read_head(&mut tx, &db).await?;
            *chain = ChainWriter::new(hash, seq + 1);
        }

        let stored = if look_up {
            let ids: Vec<&str> = events
                .iter()
                .zip(first_of)
                .enumerate()
                .filter(|(index, (_, first))| *index == **first)
                .map(|(_, (event, _))| event.id.as_str())
                .collect();
            find_stored(&mut tx, &db, &ids, max_rows, backend).await?
        } else {
            HashMap::new()
        };

        // Decide every outcome first; new events get the sequence numbers the chain will
        // give them when sealed in this order.
        let first_seq = chain.next_seq();
        let mut to_store: Vec<&Event> = Vec::with_capacity(events.len());
        let mut outcomes: Vec<AppendOutcome> = Vec::with_capacity(events.len());
        for (index, event) in events.iter().enumerate() {
            let first = first_of[index];
            // What this id holds already: in the database, or from earlier in this batch.
            let earlier = stored
                .get(&event.id)
                .map(|(seq, body)| (*seq, body.as_slice()))
                .or_else(|| {
                    (first < index).then(|| (outcomes[first].seq(), events[first].body.as_slice()))
                });
            outcomes.push(match earlier {
                Some((seq, body)) if body == event.body.as_slice() => {
                    AppendOutcome::Duplicate { seq }
                }
                Some((seq, body)) => AppendOutcome::Conflict {
                    seq,
                    stored_body: body.to_vec(),
                },
                None => {
                    let seq = first_seq + to_store.len() as u64;
                    to_store.push(event);
                    AppendOutcome::Stored { seq }
                }
            });
        }

        let mut next_chain = chain.clone();
        if let Err(error) =
            seal_and_insert(&mut tx, &db, &mut next_chain, &to_store, max_rows, backend).await
        {
            // Explicitly, so the connection is clean for the retry with look-ups.
            let _ = tx.rollback().await;
            return Err(error);
        }
        debug_assert_eq!(next_chain.next_seq(), first_seq + to_store.len() as u64);
        // Fault injection (tests only): the commit fails as a full disk or a read-only
        // database fails it; the transaction is rolled back by the drop.
        fail::fail_point!("store::append", |fault| Err(crate::error::injected_fault(
            &db,
            "append: commit",
            fault
        )));
        tx.commit()
            .await
            .map_err(|error| StoreError::database(&db, "append: commit", error))?;
        *chain = next_chain;
        let stats = &self.config.stats;
        stats.commits.fetch_add(1, Ordering::Relaxed);
        stats
            .stored
            .fetch_add(to_store.len() as u64, Ordering::Relaxed);
        Ok(outcomes)
    }

    async fn set_meta(&mut self, key: &str, value: &str) -> Result<(), StoreError> {
        let db = self.config.db.clone();
        let (conn, _) = self.live().await?;
        sqlx::query(sql::META_SET)
            .bind(key)
            .bind(value)
            .execute(&mut *conn)
            .await
            .map_err(|error| StoreError::database(&db, "set meta value", error))?;
        Ok(())
    }

    async fn save_checkpoint(&mut self, seq: u64, state: Vec<u8>) -> Result<(), StoreError> {
        let db = self.config.db.clone();
        let (conn, chain) = self.live().await?;
        let head = chain.next_seq() - 1;
        if seq > head {
            return Err(StoreError::CheckpointAhead { seq, head });
        }
        sqlx::query(sql::CHECKPOINT_SAVE)
            .bind(to_sql_int(seq))
            .bind(state)
            .execute(&mut *conn)
            .await
            .map_err(|error| StoreError::database(&db, "save checkpoint", error))?;
        Ok(())
    }
}

/// The stored seq and body of every id in `ids` that is already in the database.
async fn find_stored(
    conn: &mut AnyConnection,
    db: &str,
    ids: &[&str],
    max_rows: usize,
    backend: Backend,
) -> Result<HashMap<String, (u64, Vec<u8>)>, StoreError> {
    let mut stored = HashMap::new();
    for (start, size) in sql::chunks(ids.len(), max_rows) {
        let mut query = sqlx::query(sql::find_ids(size, backend));
        for id in &ids[start..start + size] {
            query = query.bind(*id);
        }
        let rows = query
            .fetch_all(&mut *conn)
            .await
            .map_err(|error| StoreError::database(db, "append: look up ids", error))?;
        for row in rows {
            let read = || -> Result<(i64, String, Vec<u8>), sqlx::Error> {
                Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?))
            };
            let (seq, id, body) =
                read().map_err(|error| StoreError::database(db, "append: look up ids", error))?;
            let seq = u64::try_from(seq).map_err(|_| StoreError::MalformedRow {
                db: db.to_string(),
                seq,
                why: "negative sequence number".into(),
            })?;
            stored.insert(id, (seq, body));
        }
    }
    Ok(stored)
}

/// For every event, the index of the first event in the batch with the same id.
/// How often one group commit is tried again when other writers on the same database keep
/// taking the sequence numbers it was about to use.
const MAX_CONTENDED_RETRIES: usize = 8;

fn first_occurrences(events: &[Event]) -> Vec<usize> {
    let mut first: HashMap<&str, usize> = HashMap::with_capacity(events.len());
    events
        .iter()
        .enumerate()
        .map(|(index, event)| *first.entry(event.id.as_str()).or_insert(index))
        .collect()
}

fn is_unique_violation(error: &StoreError) -> bool {
    match error {
        StoreError::Database { source, .. } => matches!(
            &**source,
            sqlx::Error::Database(database)
                if database.kind() == sqlx::error::ErrorKind::UniqueViolation
        ),
        _ => false,
    }
}

/// Rows per multi-row statement: the largest ladder size on both backends now that SQLite
/// binds anonymous placeholders by position (see `sql`), within both engines' parameter
/// limits (1,024 rows × 6 values; SQLite allows 32,766, PostgreSQL 65,535).
fn max_rows_per_statement(backend: Backend) -> usize {
    match backend {
        Backend::Sqlite => 1_024,
        Backend::Postgres => 1_024,
    }
}

/// Seals `events` into `chain` and inserts them with multi-row statements. Sealing (a
/// blake3 hash per event) of the next statement's rows runs on this task while the
/// database executes the current statement, so the two overlap on two cores.
async fn seal_and_insert(
    conn: &mut AnyConnection,
    db: &str,
    chain: &mut ChainWriter,
    events: &[&Event],
    max_rows: usize,
    backend: Backend,
) -> Result<(), StoreError> {
    let chunks: Vec<(usize, usize)> = sql::chunks(events.len(), max_rows).collect();
    let seal = |chain: &mut ChainWriter, (start, size): (usize, usize)| -> Vec<Record> {
        events[start..start + size]
            .iter()
            .map(|event| {
                chain.seal(
                    event.id.clone(),
                    event.kind().to_string(),
                    event.at,
                    event.body.clone(),
                )
            })
            .collect()
    };
    let Some(first) = chunks.first() else {
        return Ok(());
    };
    let mut current = seal(chain, *first);
    for next in chunks.iter().skip(1).map(Some).chain([None]) {
        let mut query = sqlx::query(sql::insert_records(current.len(), backend));
        for record in &current {
            query = query
                .bind(to_sql_int(record.seq))
                .bind(record.event_id.as_str())
                .bind(record.kind.as_str())
                .bind(to_sql_int(record.at))
                .bind(record.body.as_slice())
                .bind(record.hash.0.as_slice());
        }
        // `join!` polls the statement first (it is sent), then seals the next rows.
        let (result, sealed_next) = tokio::join!(query.execute(&mut *conn), async {
            next.map(|chunk| seal(chain, *chunk))
        });
        result.map_err(|error| StoreError::database(db, "append: insert records", error))?;
        match sealed_next {
            Some(records) => current = records,
            None => break,
        }
    }
    Ok(())
}

/// Opens the write connection with its per-connection settings.
pub(crate) async fn connect_writer(
    url: &str,
    db: &str,
    backend: Backend,
) -> Result<AnyConnection, StoreError> {
    let mut conn = AnyConnection::connect(url)
        .await
        .map_err(|error| crate::schema::classify_connect(db, error))?;
    if backend == Backend::Sqlite {
        crate::schema::sqlite_connection_settings(&mut conn, false)
            .await
            .map_err(|error| crate::schema::classify(db, "open: connection settings", error))?;
    }
    Ok(conn)
}

/// The last stored sequence number and hash, or `(0, GENESIS)` for an empty ledger.
pub(crate) async fn read_head(
    conn: &mut AnyConnection,
    db: &str,
) -> Result<(u64, ChainHash), StoreError> {
    let Some(row) = sqlx::query(sql::READ_HEAD)
        .fetch_optional(&mut *conn)
        .await
        .map_err(|error| StoreError::database(db, "read head", error))?
    else {
        return Ok((0, GENESIS));
    };
    let seq: i64 = row
        .try_get(0)
        .map_err(|error| StoreError::database(db, "read head", error))?;
    let hash: Vec<u8> = row
        .try_get(1)
        .map_err(|error| StoreError::database(db, "read head", error))?;
    let malformed = |why: String| StoreError::MalformedRow {
        db: db.to_string(),
        seq,
        why,
    };
    let seq_u64 = u64::try_from(seq).map_err(|_| malformed("negative sequence number".into()))?;
    let hash = ChainHash::from_slice(&hash)
        .ok_or_else(|| malformed(format!("hash has {} bytes, not 32", hash.len())))?;
    Ok((seq_u64, hash))
}

/// Sequence numbers and times are `u64` in the ledger and `BIGINT` in the database;
/// `append` refuses events whose `at` does not fit, and seq never gets near 2^63.
pub(crate) fn to_sql_int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}
