//! The store's conformance suite: every test below runs on SQLite and on PostgreSQL
//! (`sqlite::NAME`, `postgres::NAME`), through the same public API. See `common` for how
//! the PostgreSQL half finds its server and when it may skip.
//!
//! What it must never do: pass by skipping where a backend was required, or check a
//! backend by reading what the store says instead of what the database holds (tampering
//! and refusals are set up with raw SQL on a connection of the test's own).

mod common;

use std::collections::HashSet;
use std::sync::Arc;

use common::{TestDb, altered, follow, like, mixed, post};
use guardrail_ledger::{ChainWriter, Event, GENESIS, verify_chain};
use guardrail_store::{
    AppendOutcome, ColumnKind, ColumnShape, DbUrl, IndexShape, Refusal, SCHEMA_VERSION, Store,
    StoreError, StoreOptions, TableShape,
};

conformance!(
    appended_events_read_back,
    duplicates_are_idempotent_and_conflicts_keep_the_stored_event,
    concurrent_appends_are_all_stored_gap_free_and_chained,
    tampering_is_found_naming_the_first_bad_seq,
    unknown_schemas_are_refused_with_the_reason,
    reopening_continues_the_chain,
    checkpoints_and_meta_round_trip,
    a_failed_batch_writes_nothing_and_the_store_recovers,
    two_writers_on_one_database_extend_one_chain,
);

fn seqs(outcomes: &[AppendOutcome]) -> Vec<u64> {
    outcomes.iter().map(AppendOutcome::seq).collect()
}

async fn appended_events_read_back(db: &TestDb) {
    let store = db.open().await;
    assert_eq!(store.head().await.expect("head"), (0, GENESIS));
    assert_eq!(store.append(vec![]).await.expect("empty append"), vec![]);
    let events = vec![follow(1), post(2), like(3)];
    let outcomes = store.append(events.clone()).await.expect("append");
    assert_eq!(
        outcomes,
        (1..=3)
            .map(|seq| AppendOutcome::Stored { seq })
            .collect::<Vec<_>>()
    );

    let records = store.read(0, 10).await.expect("read");
    assert_eq!(records.len(), 3);
    for (record, event) in records.iter().zip(&events) {
        assert_eq!(record.event_id, event.id);
        assert_eq!(record.kind, event.kind());
        assert_eq!(record.at, event.at);
        assert_eq!(record.body, event.body);
        assert_eq!(
            Event::from_body(&record.body).expect("stored body parses"),
            *event
        );
    }
    assert_eq!(
        verify_chain(&records),
        Ok(3),
        "the stored hashes are the chain's"
    );
    assert_eq!(
        store.head().await.expect("head"),
        (3, records[2].hash),
        "head is the last record"
    );
    assert_eq!(store.read(1, 1).await.expect("read")[0].seq, 2);
    assert!(
        store
            .read(3, 10)
            .await
            .expect("read past the end")
            .is_empty()
    );
    assert_eq!(
        store.event(&events[1].id).await.expect("by id"),
        Some(records[1].clone())
    );
    assert_eq!(store.event("evt-missing").await.expect("by id"), None);

    let mut pages = store.pages(0, 2);
    let mut sizes = Vec::new();
    while let Some(page) = pages.next_page().await.expect("page") {
        sizes.push(page.len());
    }
    assert_eq!(sizes, [2, 1]);
    assert_eq!(store.verify().await.expect("intact"), 3);
    store.close().await;
}

async fn duplicates_are_idempotent_and_conflicts_keep_the_stored_event(db: &TestDb) {
    let store = db.open().await;
    let (a, b, c, d) = (follow(1), post(2), like(3), follow(4));
    store
        .append(vec![a.clone(), b.clone()])
        .await
        .expect("first");
    let outcomes = store
        .append(vec![
            a.clone(),   // a retry
            altered(&b), // same id, other content
            c.clone(),   // new
            c.clone(),   // the same new event twice in one call
            d.clone(),   // new
            altered(&d), // conflicts with the one just before it
        ])
        .await
        .expect("second");
    assert_eq!(
        outcomes,
        vec![
            AppendOutcome::Duplicate { seq: 1 },
            AppendOutcome::Conflict {
                seq: 2,
                stored_body: b.body.clone()
            },
            AppendOutcome::Stored { seq: 3 },
            AppendOutcome::Duplicate { seq: 3 },
            AppendOutcome::Stored { seq: 4 },
            AppendOutcome::Conflict {
                seq: 4,
                stored_body: d.body.clone()
            },
        ]
    );
    let records = store.read(0, 100).await.expect("read");
    let bodies: Vec<&[u8]> = records.iter().map(|r| r.body.as_slice()).collect();
    assert_eq!(bodies, [&a.body[..], &b.body, &c.body, &d.body]);
    // The same call again changes nothing.
    let again = store
        .append(vec![a.clone(), b.clone(), c.clone(), d.clone()])
        .await
        .expect("third");
    assert!(
        again
            .iter()
            .all(|o| matches!(o, AppendOutcome::Duplicate { .. }))
    );
    assert_eq!(seqs(&again), [1, 2, 3, 4]);
    assert_eq!(store.verify().await.expect("intact"), 4);
    store.close().await;
}

async fn concurrent_appends_are_all_stored_gap_free_and_chained(db: &TestDb) {
    const TASKS: u64 = 50;
    const PER_TASK: u64 = 1_000;
    let store = Arc::new(db.open().await);
    let mut handles = Vec::new();
    for task in 0..TASKS {
        let store = Arc::clone(&store);
        handles.push(tokio::spawn(async move {
            // Calls of 1, 7, 50 and 200 events, so that single events and large calls
            // share group commits.
            let sizes = [1u64, 7, 50, 200];
            let mut acknowledged = Vec::new();
            let mut next = 0;
            let mut turn = task as usize;
            while next < PER_TASK {
                let size = sizes[turn % sizes.len()].min(PER_TASK - next);
                turn += 1;
                let events: Vec<Event> = (next..next + size)
                    .map(|i| mixed(task * PER_TASK + i))
                    .collect();
                let outcomes = store.append(events.clone()).await.expect("append");
                for (event, outcome) in events.into_iter().zip(outcomes) {
                    let AppendOutcome::Stored { seq } = outcome else {
                        panic!("{} was not stored: {outcome:?}", event.id);
                    };
                    acknowledged.push((event.id, seq));
                }
                next += size;
            }
            acknowledged
        }));
    }
    let mut acknowledged = Vec::new();
    for handle in handles {
        let mine = handle.await.expect("task");
        // One caller's events keep their order in the ledger.
        assert!(mine.windows(2).all(|pair| pair[0].1 < pair[1].1));
        acknowledged.extend(mine);
    }
    let total = TASKS * PER_TASK;
    assert_eq!(acknowledged.len() as u64, total);
    let seqs: HashSet<u64> = acknowledged.iter().map(|(_, seq)| *seq).collect();
    assert_eq!(
        seqs,
        (1..=total).collect::<HashSet<u64>>(),
        "seq is gap-free"
    );

    let mut stored = Vec::new();
    let mut pages = store.pages(0, 4_096);
    while let Some(page) = pages.next_page().await.expect("page") {
        stored.extend(page);
    }
    assert_eq!(stored.len() as u64, total);
    for (id, seq) in &acknowledged {
        let record = &stored[(*seq - 1) as usize];
        assert_eq!(&record.event_id, id, "acknowledged at {seq}");
    }
    assert_eq!(store.verify().await.expect("intact"), total);
    assert_eq!(store.head().await.expect("head").0, total);
    let stats = store.writer_stats();
    eprintln!(
        "{total} events in {} appends, {} group commits ({:.1} appends per commit)",
        stats.appends(),
        stats.commits(),
        stats.appends() as f64 / stats.commits().max(1) as f64
    );
    assert_eq!(stats.stored(), total);
    assert!(
        stats.commits() < stats.appends(),
        "concurrent appends shared commits"
    );
    match Arc::try_unwrap(store) {
        Ok(store) => store.close().await,
        Err(_) => panic!("every task has finished"),
    }
}

async fn tampering_is_found_naming_the_first_bad_seq(db: &TestDb) {
    type Case = (&'static str, &'static [&'static str], u64);
    let cases: &[Case] = &[
        (
            "alter a body",
            &["UPDATE events SET body = (SELECT body FROM events WHERE seq = 5) WHERE seq = 4"],
            4,
        ),
        (
            "alter an id",
            &["UPDATE events SET event_id = 'evt-forged' WHERE seq = 9"],
            9,
        ),
        ("delete a row", &["DELETE FROM events WHERE seq = 6"], 6),
        (
            "delete the first row",
            &["DELETE FROM events WHERE seq = 1"],
            1,
        ),
        (
            "insert a row in the middle",
            &[
                "UPDATE events SET seq = seq + 1000 WHERE seq >= 5",
                "UPDATE events SET seq = seq - 999 WHERE seq >= 1000",
                "INSERT INTO events (seq, event_id, kind, at, body, hash) \
                 SELECT 5, 'evt-forged', kind, at, body, hash FROM events WHERE seq = 4",
            ],
            5,
        ),
        (
            "insert a row at the end",
            &["INSERT INTO events (seq, event_id, kind, at, body, hash) \
               SELECT 11, 'evt-forged', kind, at, body, hash FROM events WHERE seq = 10"],
            11,
        ),
        (
            "swap two rows' seqs",
            &[
                "UPDATE events SET seq = -3 WHERE seq = 3",
                "UPDATE events SET seq = 3 WHERE seq = 7",
                "UPDATE events SET seq = 7 WHERE seq = -3",
            ],
            3,
        ),
        (
            "move a row below 1",
            &["UPDATE events SET seq = 0 WHERE seq = 2"],
            0,
        ),
        (
            "truncate a hash",
            &["UPDATE events SET hash = body WHERE seq = 8"],
            8,
        ),
    ];
    for (index, (what, statements, first_bad)) in cases.iter().enumerate() {
        let case_db = db.sibling(&format!("tamper_{index}")).await;
        let store = case_db.open().await;
        let events: Vec<Event> = (0..10).map(mixed).collect();
        store.append(events).await.expect("append");
        assert_eq!(store.verify().await.expect("intact before"), 10, "{what}");
        case_db.exec(statements).await;
        let error = store.verify().await.expect_err(what);
        let chain_break = error
            .chain_break()
            .unwrap_or_else(|| panic!("{what}: not a chain break: {error}"));
        assert_eq!(chain_break.seq, *first_bad, "{what}: {chain_break}");
        store.close().await;
        case_db.cleanup().await;
    }
}

async fn unknown_schemas_are_refused_with_the_reason(db: &TestDb) {
    let store = db.open().await;
    store.append(vec![follow(1)]).await.expect("append");
    assert_eq!(
        store.meta("schema_version").await.expect("meta"),
        Some(SCHEMA_VERSION.to_string())
    );
    store.close().await;

    let refusal = |result: Result<Store, StoreError>| -> (Refusal, String) {
        match result {
            Err(error) => (
                error
                    .refusal()
                    .unwrap_or_else(|| panic!("not a refusal: {error}"))
                    .clone(),
                error.to_string(),
            ),
            Ok(_) => panic!("opened a database it should refuse"),
        }
    };
    let open = || Store::open(db.url(), StoreOptions::default());

    db.exec(&["UPDATE meta SET value = '99' WHERE key = 'schema_version'"])
        .await;
    let (why, message) = refusal(open().await);
    assert_eq!(
        why,
        Refusal::NewerSchema {
            found: 99,
            known: SCHEMA_VERSION
        }
    );
    assert!(
        message.contains("refusing to open") && message.contains("newer"),
        "{message}"
    );

    db.exec(&["UPDATE meta SET value = 'one' WHERE key = 'schema_version'"])
        .await;
    let (why, _) = refusal(open().await);
    assert_eq!(
        why,
        Refusal::BadSchemaVersion {
            found: "one".into()
        }
    );

    db.exec(&["DELETE FROM meta WHERE key = 'schema_version'"])
        .await;
    let (why, message) = refusal(open().await);
    assert_eq!(why, Refusal::MissingSchemaVersion);
    assert!(message.contains("no schema version"), "{message}");

    let foreign = db.sibling("foreign").await;
    foreign
        .exec(&["CREATE TABLE users (id BIGINT PRIMARY KEY, name TEXT)"])
        .await;
    let (why, message) = refusal(Store::open(foreign.url(), StoreOptions::default()).await);
    assert_eq!(
        why,
        Refusal::ForeignTables {
            tables: "users".into()
        }
    );
    assert!(message.contains("not a Guardrail ledger"), "{message}");
    foreign.cleanup().await;

    // A known version with a table gone.
    db.exec(&[
        "INSERT INTO meta (key, value) VALUES ('schema_version', '1')",
        "DROP TABLE checkpoints",
    ])
    .await;
    let (why, _) = refusal(open().await);
    assert_eq!(
        why,
        Refusal::MissingTable {
            version: 1,
            table: "checkpoints".into()
        }
    );
}

async fn reopening_continues_the_chain(db: &TestDb) {
    let store = db.open().await;
    store
        .append((0..5).map(mixed).collect())
        .await
        .expect("first five");
    let head = store.head().await.expect("head");
    store.close().await;

    let store = db.open().await;
    assert_eq!(store.head().await.expect("head after reopen"), head);
    let outcomes = store
        .append((3..10).map(mixed).collect())
        .await
        .expect("seven more, two of them retries");
    assert_eq!(seqs(&outcomes), [4, 5, 6, 7, 8, 9, 10]);
    assert!(matches!(outcomes[0], AppendOutcome::Duplicate { seq: 4 }));
    assert!(matches!(outcomes[2], AppendOutcome::Stored { seq: 6 }));
    assert_eq!(store.verify().await.expect("one chain across opens"), 10);

    // The chain continues exactly as one writer would have sealed it.
    let mut writer = ChainWriter::new(GENESIS, 1);
    let expected: Vec<_> = (0..10)
        .map(|n| {
            let event = mixed(n);
            let kind = event.kind().to_string();
            writer.seal(event.id, kind, event.at, event.body)
        })
        .collect();
    assert_eq!(store.read(0, 100).await.expect("read"), expected);
    store.close().await;
}

async fn checkpoints_and_meta_round_trip(db: &TestDb) {
    let store = db.open().await;
    assert_eq!(store.load_checkpoint().await.expect("load"), None);
    store
        .save_checkpoint(0, b"empty state".to_vec())
        .await
        .expect("a checkpoint of the empty ledger");
    store
        .append((0..3).map(mixed).collect())
        .await
        .expect("append");
    store
        .save_checkpoint(2, b"state at 2".to_vec())
        .await
        .expect("save");
    assert_eq!(
        store.load_checkpoint().await.expect("load"),
        Some((2, b"state at 2".to_vec()))
    );
    let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    store
        .save_checkpoint(3, big.clone())
        .await
        .expect("replace");
    assert_eq!(store.load_checkpoint().await.expect("load"), Some((3, big)));
    match store.save_checkpoint(9, vec![]).await {
        Err(StoreError::CheckpointAhead { seq: 9, head: 3 }) => {}
        other => panic!("a checkpoint ahead of the ledger: {other:?}"),
    }

    assert_eq!(store.meta("owner").await.expect("meta"), None);
    store
        .set_meta("owner", "trust-and-safety")
        .await
        .expect("set");
    store
        .set_meta("owner", "platform-integrity")
        .await
        .expect("overwrite");
    assert_eq!(
        store.meta("owner").await.expect("meta"),
        Some("platform-integrity".into())
    );
    assert!(matches!(
        store.set_meta("schema_version", "2").await,
        Err(StoreError::ReservedMetaKey { .. })
    ));
    store.close().await;

    let store = db.open().await;
    assert_eq!(
        store.meta("owner").await.expect("meta after reopen"),
        Some("platform-integrity".into())
    );
    assert_eq!(
        store.load_checkpoint().await.expect("load").map(|c| c.0),
        Some(3)
    );
    store.close().await;
}

async fn a_failed_batch_writes_nothing_and_the_store_recovers(db: &TestDb) {
    let store = db.open().await;
    store
        .append((0..3).map(mixed).collect())
        .await
        .expect("append");

    // Another writer appends record 4 behind this store's back (properly chained).
    let (seq, hash) = store.head().await.expect("head");
    let intruder = follow(1_000);
    let record = ChainWriter::new(hash, seq + 1).seal(
        intruder.id.clone(),
        intruder.kind().into(),
        intruder.at,
        intruder.body.clone(),
    );
    let mut raw = db.raw().await;
    sqlx::query(
        "INSERT INTO events (seq, event_id, kind, at, body, hash) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(record.seq as i64)
    .bind(record.event_id.clone())
    .bind(record.kind.clone())
    .bind(record.at as i64)
    .bind(record.body.clone())
    .bind(record.hash.0.to_vec())
    .execute(&mut raw)
    .await
    .expect("raw insert");
    drop(raw);

    // This store still believes the head is 3: its next batch collides on seq 4, and is
    // sealed again after the other writer's record, whole, in one commit.
    let batch: Vec<Event> = (10..15).map(mixed).collect();
    let outcomes = store
        .append(batch.clone())
        .await
        .expect("a batch colliding with another writer is stored after it");
    assert_eq!(seqs(&outcomes), [5, 6, 7, 8, 9]);
    assert_eq!(store.verify().await.expect("one chain"), 9);

    // The database refuses every insert: the batch fails whole, nothing of it is stored,
    // and once the database accepts writes again the same batch is stored.
    let (stop, go): (&[&str], &[&str]) = match db {
        TestDb::Sqlite { .. } => (
            &[
                "CREATE TRIGGER refuse BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
            ],
            &["DROP TRIGGER refuse"],
        ),
        TestDb::Postgres { .. } => (
            &["ALTER TABLE events ADD CONSTRAINT refuse CHECK (seq < 0) NOT VALID"],
            &["ALTER TABLE events DROP CONSTRAINT refuse"],
        ),
    };
    db.exec(stop).await;
    let batch: Vec<Event> = (20..25).map(mixed).collect();
    let error = store
        .append(batch.clone())
        .await
        .expect_err("a batch the database refuses");
    assert!(error.to_string().contains("append"), "{error}");
    for event in &batch {
        assert_eq!(
            store.event(&event.id).await.expect("by id"),
            None,
            "{}",
            event.id
        );
    }
    db.exec(go).await;
    let outcomes = store.append(batch).await.expect("retry");
    assert_eq!(seqs(&outcomes), [10, 11, 12, 13, 14]);
    assert_eq!(store.verify().await.expect("one chain"), 14);

    // Input that cannot be stored fails the call before anything is queued.
    let mut bad = follow(2_000);
    bad.at = u64::MAX;
    match store.append(vec![follow(2_001), bad]).await {
        Err(StoreError::InvalidEvent { index: 1, .. }) => {}
        other => panic!("an `at` beyond i64: {other:?}"),
    }
    assert_eq!(store.event(&follow(2_001).id).await.expect("by id"), None);
    store.close().await;
}

/// What schema version 1 is, in backend-neutral terms: both DDLs must produce exactly this.
fn schema_v1() -> Vec<TableShape> {
    let column = |name: &str, kind: ColumnKind, primary_key: bool| ColumnShape {
        name: name.into(),
        kind,
        not_null: true,
        primary_key,
    };
    vec![
        TableShape {
            name: "checkpoints".into(),
            columns: vec![
                column("slot", ColumnKind::Integer, true),
                column("seq", ColumnKind::Integer, false),
                column("state", ColumnKind::Bytes, false),
            ],
            indexes: vec![],
        },
        TableShape {
            name: "events".into(),
            columns: vec![
                column("seq", ColumnKind::Integer, true),
                column("event_id", ColumnKind::Text, false),
                column("kind", ColumnKind::Text, false),
                column("at", ColumnKind::Integer, false),
                column("body", ColumnKind::Bytes, false),
                column("hash", ColumnKind::Bytes, false),
            ],
            indexes: vec![IndexShape {
                columns: vec!["event_id".into()],
                unique: true,
            }],
        },
        TableShape {
            name: "meta".into(),
            columns: vec![
                column("key", ColumnKind::Text, true),
                column("value", ColumnKind::Text, false),
            ],
            indexes: vec![],
        },
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_backends_ddl_define_the_same_tables_columns_and_indexes() {
    let sqlite = TestDb::sqlite();
    let store = sqlite.open().await;
    let sqlite_shape = store.describe_schema().await.expect("describe SQLite");
    store.close().await;
    assert_eq!(sqlite_shape, schema_v1(), "SQLite");

    let Some(postgres) = TestDb::postgres("ddl_parity").await else {
        return;
    };
    let store = postgres.open().await;
    let postgres_shape = store.describe_schema().await.expect("describe PostgreSQL");
    store.close().await;
    postgres.cleanup().await;
    assert_eq!(postgres_shape, schema_v1(), "PostgreSQL");
    assert_eq!(postgres_shape, sqlite_shape);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_files_that_are_not_databases_or_are_damaged_are_refused() {
    let refusal = |result: Result<Store, StoreError>| match result {
        Err(error) => (
            error
                .refusal()
                .unwrap_or_else(|| panic!("not a refusal: {error}"))
                .clone(),
            error.to_string(),
        ),
        Ok(_) => panic!("opened a damaged file"),
    };

    let dir = tempfile::tempdir().expect("temp dir");
    let text_file = dir.path().join("notes.db");
    std::fs::write(&text_file, "these are notes, not a database\n".repeat(200)).expect("write");
    let (why, message) =
        refusal(Store::open(&DbUrl::sqlite(&text_file), StoreOptions::default()).await);
    assert!(matches!(why, Refusal::NotADatabase { .. }), "{why:?}");
    assert!(
        message.contains("not a SQLite database") && message.contains("notes.db"),
        "{message}"
    );
    assert_eq!(
        std::fs::read(&text_file).expect("read back").len(),
        "these are notes, not a database\n".len() * 200,
        "the file was left as it was"
    );

    // A real ledger whose pages are then overwritten (a bad disk, a bad copy).
    let db = TestDb::sqlite();
    let store = db.open().await;
    store
        .append((0..3_000).map(mixed).collect())
        .await
        .expect("append");
    store.close().await;
    let path = db.url().sqlite_path().expect("a file").to_path_buf();
    let mut bytes = std::fs::read(&path).expect("read");
    assert!(bytes.len() > 40 * 4_096, "{} bytes", bytes.len());
    for (index, byte) in bytes[4_096 * 2..4_096 * 40].iter_mut().enumerate() {
        *byte = (index as u8).wrapping_mul(31) ^ 0x5a;
    }
    std::fs::write(&path, &bytes).expect("damage");
    let (why, message) = refusal(Store::open(db.url(), StoreOptions::default()).await);
    assert!(
        matches!(why, Refusal::Corrupt { .. } | Refusal::NotADatabase { .. }),
        "{why:?}"
    );
    assert!(message.contains("corrupt"), "{message}");
    eprintln!("refused as expected: {message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_ledgers_are_one_file_in_wal_mode_that_reopens_clean() {
    use sqlx::Row;
    let db = TestDb::sqlite();
    let store = db.open().await;
    store.append(vec![follow(1)]).await.expect("append");
    store.close().await;
    let mut raw = db.raw().await;
    let mode: String = sqlx::query("PRAGMA journal_mode")
        .fetch_one(&mut raw)
        .await
        .and_then(|row| row.try_get(0))
        .expect("journal mode");
    assert_eq!(mode, "wal");
    drop(raw);
    let path = db.url().sqlite_path().expect("a file").to_path_buf();
    assert!(path.is_file());
    // A relative `sqlite://` URL names a file under the current directory.
    let relative = DbUrl::parse("sqlite://some/relative.db").expect("relative");
    let absolute = relative.to_sqlx_url(false).expect("absolute");
    let cwd = std::env::current_dir().expect("cwd");
    assert!(
        absolute.contains(cwd.to_str().expect("utf-8 cwd")),
        "{absolute}"
    );
}

/// Two stores on one database (two replicas of the service): each writer's head goes
/// stale whenever the other commits, and every append must still be acknowledged, once,
/// on one gap-free chain.
async fn two_writers_on_one_database_extend_one_chain(db: &TestDb) {
    const PER_WRITER: u64 = 300;
    let first = Arc::new(db.open().await);
    let second = Arc::new(db.open().await);
    let mut handles = Vec::new();
    for (writer, store) in [(0u64, Arc::clone(&first)), (1, Arc::clone(&second))] {
        handles.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for n in 0..PER_WRITER {
                // Alternating small calls, so the writers interleave commit by commit.
                let event = mixed(writer * PER_WRITER + n);
                let outcomes = store
                    .append(vec![event.clone()])
                    .await
                    .unwrap_or_else(|e| panic!("writer {writer}, append {n}: {e}"));
                let AppendOutcome::Stored { seq } = outcomes[0] else {
                    panic!("{} was not stored: {:?}", event.id, outcomes[0]);
                };
                acknowledged.push((event.id, seq));
                tokio::task::yield_now().await;
            }
            acknowledged
        }));
    }
    let mut acknowledged = Vec::new();
    for handle in handles {
        acknowledged.extend(handle.await.expect("writer"));
    }
    let total = 2 * PER_WRITER;
    let seqs: HashSet<u64> = acknowledged.iter().map(|(_, seq)| *seq).collect();
    assert_eq!(
        seqs,
        (1..=total).collect::<HashSet<u64>>(),
        "one gap-free sequence"
    );
    let mut stored = Vec::new();
    let mut pages = first.pages(0, 4_096);
    while let Some(page) = pages.next_page().await.expect("page") {
        stored.extend(page);
    }
    for (id, seq) in &acknowledged {
        assert_eq!(
            &stored[(*seq - 1) as usize].event_id,
            id,
            "acknowledged at {seq}"
        );
    }
    assert_eq!(first.verify().await.expect("one intact chain"), total);
    assert_eq!(second.verify().await.expect("one intact chain"), total);
    for store in [first, second] {
        match Arc::try_unwrap(store) {
            Ok(store) => store.close().await,
            Err(_) => panic!("every writer has finished"),
        }
    }
}
