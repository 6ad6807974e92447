//! Durable ingest through `Store::append`, side by side with the floor each engine allows:
//! on SQLite the same rows by a plain prepared-statement loop in one transaction (native
//! sqlx SQLite connection), on PostgreSQL the same rows by binary `COPY` (sqlx's
//! `copy_in_raw`). Every figure is durable: SQLite in WAL with `synchronous=FULL`,
//! PostgreSQL with `fsync=on`. Prints a table (BENCHMARKS.md keeps the figures).
//!
//!   cargo bench -p guardrail-store --bench ingest                       # SQLite only
//!   bash scripts/with-postgres.sh cargo bench -p guardrail-store --bench ingest
//!
//! `GUARDRAIL_BENCH_EVENTS` sets the events per run (default 200,000);
//! `GUARDRAIL_BENCH_ONLY=TEXT` runs only the scenarios whose name contains TEXT (for
//! profiling). Each scenario runs three times on a fresh database; the table shows the
//! median.
//!
//! What it must never do: compare unlike work. The floors write the very records the store
//! wrote (sealed by the same `ChainWriter`) into the same schema and indexes; the store's
//! figure also includes what the floor skips (sealing, the id look-up, the queue).

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::TestDb;
use guardrail_ledger::{ChainWriter, Event, GENESIS, Record};
use guardrail_store::{Backend, Store, StoreOptions};
use sqlx::{Connection, PgConnection, SqliteConnection};

const RUNS: usize = 3;
const GOAL_SQLITE: f64 = 200_000.0;
const GOAL_POSTGRES: f64 = 100_000.0;

struct Row {
    backend: Backend,
    scenario: String,
    events: usize,
    median: Duration,
    /// This process's CPU time (all threads) in the median run.
    cpu: Duration,
    commits: Option<u64>,
}

/// One run: wall-clock and CPU time of the measured part only, and the commits it took.
struct Timed {
    wall: Duration,
    cpu: Duration,
    commits: u64,
}

/// CPU time of this process so far, user + system, all threads (Linux `/proc`); zero
/// where unavailable. The machine is shared, so wall-clock rates move with other load;
/// CPU per event does much less.
fn process_cpu() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // Fields after the command name (which is in parentheses and may hold spaces).
    let Some(rest) = stat.rsplit_once(')').map(|(_, rest)| rest) else {
        return Duration::ZERO;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|at| fields.get(*at).and_then(|field| field.parse::<u64>().ok()))
        .sum();
    // Linux reports in USER_HZ, 100 per second on every architecture it supports.
    Duration::from_millis(ticks * 10)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let total: usize = std::env::var("GUARDRAIL_BENCH_EVENTS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(200_000);
    let events: Vec<Event> = (0..total as u64).map(common::mixed).collect();
    let body_bytes: usize = events.iter().map(|event| event.body.len()).sum();
    let records = seal(&events);
    println!(
        "{total} events, mean body {} bytes (follows {} B, posts {} B, likes {} B)",
        body_bytes / total.max(1),
        common::follow(1).body.len(),
        common::post(1).body.len(),
        common::like(1).body.len()
    );

    let mut rows = Vec::new();
    let pg_available = std::env::var(common::PG_URL_ENV).is_ok_and(|url| !url.is_empty());
    let mut backends = vec![Backend::Sqlite];
    if pg_available {
        backends.push(Backend::Postgres);
    } else {
        println!(
            "PostgreSQL skipped: {} is unset (run under scripts/with-postgres.sh)",
            common::PG_URL_ENV
        );
    }
    for backend in backends {
        if selected(floor_name(backend)) {
            rows.push(
                measure(backend, floor_name(backend), total, |db| {
                    let records = records.clone();
                    async move { floor(&db, &records).await }
                })
                .await,
            );
        }
        if backend == Backend::Sqlite && selected(SQLITE_REFERENCE) {
            rows.push(
                measure(backend, SQLITE_REFERENCE, total, |db| {
                    let records = records.clone();
                    async move { sqlite_anonymous_multirow(&db, &records).await }
                })
                .await,
            );
        }
        for (callers, per_call) in [(1, 10_000), (50, 100), (50, 1)] {
            let events_here = if per_call == 1 {
                total.min(20_000)
            } else {
                total
            };
            let scenario = format!("Store::append, {callers} caller(s) x {per_call} events/call");
            if !selected(&scenario) {
                continue;
            }
            let events = &events[..events_here];
            rows.push(
                measure(backend, &scenario, events_here, |db| {
                    let calls = split(events, callers, per_call);
                    async move { through_store(&db, calls).await }
                })
                .await,
            );
        }
    }

    println!();
    println!(
        "| backend | scenario | events | median s | events/s | client CPU µs/event | commits | goal |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---|");
    for row in &rows {
        let rate = row.events as f64 / row.median.as_secs_f64();
        let goal = match (row.backend, row.scenario.starts_with("Store")) {
            (Backend::Sqlite, true) => verdict(rate, GOAL_SQLITE),
            (Backend::Postgres, true) => verdict(rate, GOAL_POSTGRES),
            _ if row.scenario.starts_with("reference") => "reference".to_string(),
            _ => "floor".to_string(),
        };
        println!(
            "| {} | {} | {} | {:.3} | {:.0} | {:.1} | {} | {} |",
            row.backend,
            row.scenario,
            row.events,
            row.median.as_secs_f64(),
            rate,
            row.cpu.as_secs_f64() * 1e6 / row.events as f64,
            row.commits.map_or("-".to_string(), |c| c.to_string()),
            goal
        );
    }
}

fn verdict(rate: f64, goal: f64) -> String {
    if rate >= goal {
        format!("met (>= {goal:.0})")
    } else {
        format!("MISSED (< {goal:.0})")
    }
}

fn floor_name(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "floor: prepared INSERT loop, one transaction (native SQLite)",
        Backend::Postgres => "floor: binary COPY (native PgConnection)",
    }
}

/// Not a floor the store could use (its SQL is one text for both backends, with `$N`
/// placeholders, which sqlx-sqlite binds by name): what SQLite does with anonymous `?`
/// placeholders in the same multi-row shape, to show what binding by name costs.
const SQLITE_REFERENCE: &str = "reference: multi-row INSERT with anonymous ? placeholders, 32 rows/statement, one transaction (native SQLite)";

fn selected(scenario: &str) -> bool {
    std::env::var("GUARDRAIL_BENCH_ONLY").map_or(true, |only| scenario.contains(&only))
}

async fn measure<F, Fut>(backend: Backend, scenario: &str, events: usize, work: F) -> Row
where
    F: Fn(Arc<TestDb>) -> Fut,
    Fut: std::future::Future<Output = Timed>,
{
    let mut times = Vec::new();
    let mut commits = None;
    for run in 0..RUNS {
        let db = match backend {
            Backend::Sqlite => TestDb::sqlite(),
            Backend::Postgres => TestDb::postgres(&format!("bench_{run}"))
                .await
                .expect("the server checked above"),
        };
        // The schema is the store's, created by opening it once.
        db.open().await.close().await;
        let db = Arc::new(db);
        let timed = work(Arc::clone(&db)).await;
        times.push((timed.wall, timed.cpu));
        commits = Some(timed.commits);
        if let Ok(db) = Arc::try_unwrap(db) {
            db.cleanup().await;
        }
    }
    times.sort();
    let (median, cpu) = times[RUNS / 2];
    let row = Row {
        backend,
        scenario: scenario.to_string(),
        events,
        median,
        cpu,
        commits,
    };
    eprintln!(
        "{} | {} | {:.0} events/s",
        row.backend,
        row.scenario,
        events as f64 / row.median.as_secs_f64()
    );
    row
}

fn seal(events: &[Event]) -> Vec<Record> {
    let mut writer = ChainWriter::new(GENESIS, 1);
    events
        .iter()
        .map(|event| {
            writer.seal(
                event.id.clone(),
                event.kind().to_string(),
                event.at,
                event.body.clone(),
            )
        })
        .collect()
}

/// `events` dealt round-robin to `callers`, each caller's share cut into calls.
fn split(events: &[Event], callers: usize, per_call: usize) -> Vec<Vec<Vec<Event>>> {
    let mut shares: Vec<Vec<Event>> = vec![Vec::new(); callers];
    for (index, chunk) in events.chunks(per_call).enumerate() {
        shares[index % callers].extend_from_slice(chunk);
    }
    shares
        .into_iter()
        .map(|share| share.chunks(per_call).map(<[Event]>::to_vec).collect())
        .collect()
}

async fn through_store(db: &TestDb, calls: Vec<Vec<Vec<Event>>>) -> Timed {
    let store = Arc::new(
        Store::open(db.url(), StoreOptions::default())
            .await
            .expect("open"),
    );
    let start = Instant::now();
    let cpu_start = process_cpu();
    let mut tasks = Vec::new();
    for caller in calls {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            for call in caller {
                store.append(call).await.expect("append");
            }
        }));
    }
    for task in tasks {
        task.await.expect("caller");
    }
    let elapsed = start.elapsed();
    let cpu = process_cpu().saturating_sub(cpu_start);
    let commits = store.writer_stats().commits();
    if let Ok(store) = Arc::try_unwrap(store) {
        store.close().await;
    }
    Timed {
        wall: elapsed,
        cpu,
        commits,
    }
}

async fn floor(db: &TestDb, records: &[Record]) -> Timed {
    match db.url().backend() {
        Backend::Sqlite => sqlite_floor(db, records).await,
        Backend::Postgres => postgres_floor(db, records).await,
    }
}

async fn sqlite_floor(db: &TestDb, records: &[Record]) -> Timed {
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
    let path = db.url().sqlite_path().expect("a file");
    let options = SqliteConnectOptions::new()
        .filename(path)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full);
    let mut conn = SqliteConnection::connect_with(&options)
        .await
        .expect("connect");
    let start = Instant::now();
    let cpu_start = process_cpu();
    let mut tx = conn.begin().await.expect("begin");
    for record in records {
        sqlx::query(
            "INSERT INTO events (seq, event_id, kind, at, body, hash) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(record.seq as i64)
        .bind(record.event_id.as_str())
        .bind(record.kind.as_str())
        .bind(record.at as i64)
        .bind(record.body.as_slice())
        .bind(record.hash.0.as_slice())
        .execute(&mut *tx)
        .await
        .expect("insert");
    }
    tx.commit().await.expect("commit");
    let elapsed = start.elapsed();
    let cpu = process_cpu().saturating_sub(cpu_start);
    conn.close().await.expect("close");
    Timed {
        wall: elapsed,
        cpu,
        commits: 1,
    }
}

async fn sqlite_anonymous_multirow(db: &TestDb, records: &[Record]) -> Timed {
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
    const ROWS: usize = 32;
    let statement = |rows: usize| {
        let values = vec!["(?, ?, ?, ?, ?, ?)"; rows].join(", ");
        sqlx::AssertSqlSafe(format!(
            "INSERT INTO events (seq, event_id, kind, at, body, hash) VALUES {values}"
        ))
    };
    let full = statement(ROWS).0;
    let path = db.url().sqlite_path().expect("a file");
    let options = SqliteConnectOptions::new()
        .filename(path)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full);
    let mut conn = SqliteConnection::connect_with(&options)
        .await
        .expect("connect");
    let start = Instant::now();
    let cpu_start = process_cpu();
    let mut tx = conn.begin().await.expect("begin");
    for chunk in records.chunks(ROWS) {
        let text = if chunk.len() == ROWS {
            sqlx::AssertSqlSafe(full.clone())
        } else {
            statement(chunk.len())
        };
        let mut query = sqlx::query(text);
        for record in chunk {
            query = query
                .bind(record.seq as i64)
                .bind(record.event_id.as_str())
                .bind(record.kind.as_str())
                .bind(record.at as i64)
                .bind(record.body.as_slice())
                .bind(record.hash.0.as_slice());
        }
        query.execute(&mut *tx).await.expect("insert");
    }
    tx.commit().await.expect("commit");
    let elapsed = start.elapsed();
    let cpu = process_cpu().saturating_sub(cpu_start);
    conn.close().await.expect("close");
    Timed {
        wall: elapsed,
        cpu,
        commits: 1,
    }
}

async fn postgres_floor(db: &TestDb, records: &[Record]) -> Timed {
    let url = db.url().to_sqlx_url(false).expect("url");
    let mut conn = PgConnection::connect(&url).await.expect("connect");
    let start = Instant::now();
    let cpu_start = process_cpu();
    let mut copy = conn
        .copy_in_raw(
            "COPY events (seq, event_id, kind, at, body, hash) FROM STDIN WITH (FORMAT binary)",
        )
        .await
        .expect("copy in");
    // PostgreSQL's binary COPY format: signature, flags, header extension length, then
    // per row a field count and length-prefixed big-endian fields, then -1.
    let mut buffer = Vec::with_capacity(1 << 20);
    buffer.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
    buffer.extend_from_slice(&0i32.to_be_bytes());
    buffer.extend_from_slice(&0i32.to_be_bytes());
    for record in records {
        buffer.extend_from_slice(&6i16.to_be_bytes());
        buffer.extend_from_slice(&8i32.to_be_bytes());
        buffer.extend_from_slice(&(record.seq as i64).to_be_bytes());
        for field in [record.event_id.as_bytes(), record.kind.as_bytes()] {
            buffer.extend_from_slice(&(field.len() as i32).to_be_bytes());
            buffer.extend_from_slice(field);
        }
        buffer.extend_from_slice(&8i32.to_be_bytes());
        buffer.extend_from_slice(&(record.at as i64).to_be_bytes());
        for field in [record.body.as_slice(), record.hash.0.as_slice()] {
            buffer.extend_from_slice(&(field.len() as i32).to_be_bytes());
            buffer.extend_from_slice(field);
        }
        if buffer.len() > (1 << 20) {
            copy.send(std::mem::take(&mut buffer)).await.expect("send");
            buffer.reserve(1 << 20);
        }
    }
    buffer.extend_from_slice(&(-1i16).to_be_bytes());
    copy.send(buffer).await.expect("send");
    let rows = copy.finish().await.expect("finish");
    let elapsed = start.elapsed();
    let cpu = process_cpu().saturating_sub(cpu_start);
    assert_eq!(rows as usize, records.len());
    conn.close().await.expect("close");
    Timed {
        wall: elapsed,
        cpu,
        commits: 1,
    }
}
