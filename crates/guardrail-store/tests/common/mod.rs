//! The conformance suite's harness: a fresh database per test on each backend, raw SQL
//! access to it (for tampering), and synthetic events.
//!
//! SQLite runs in a temp dir always. PostgreSQL runs when `GUARDRAIL_TEST_PG_URL` names a
//! server (scripts/with-postgres.sh starts one): each test gets its own database, created
//! from that URL and dropped after. Without the variable the PostgreSQL half prints a skip
//! note, unless `GUARDRAIL_REQUIRE_PG=1`, where it fails: CI must not pass by skipping.
//!
//! What it must never do: touch a database it did not create.

#![allow(dead_code)] // each test binary uses a different part

use std::sync::atomic::{AtomicU32, Ordering};

use guardrail_ledger::Event;
use guardrail_ledger::event::{AccountAction, Payload, PostAction, PostPublished};
use guardrail_store::{DbUrl, Store, StoreOptions};
use sqlx::{AnyConnection, Connection};

pub const PG_URL_ENV: &str = "GUARDRAIL_TEST_PG_URL";
pub const REQUIRE_PG_ENV: &str = "GUARDRAIL_REQUIRE_PG";

/// One throwaway database.
pub enum TestDb {
    Sqlite {
        _dir: tempfile::TempDir,
        url: DbUrl,
    },
    Postgres {
        admin_url: String,
        name: String,
        url: DbUrl,
    },
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl TestDb {
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("a temp dir");
        let url = DbUrl::sqlite(dir.path().join("ledger.db"));
        TestDb::Sqlite { _dir: dir, url }
    }

    /// A fresh PostgreSQL database, or `None` (with a note) when no server is configured.
    pub async fn postgres(test: &str) -> Option<TestDb> {
        let admin_url = match std::env::var(PG_URL_ENV) {
            Ok(url) if !url.trim().is_empty() => url,
            _ => {
                if std::env::var(REQUIRE_PG_ENV).is_ok_and(|value| value == "1") {
                    panic!(
                        "{REQUIRE_PG_ENV}=1 but {PG_URL_ENV} is unset: run the tests under scripts/with-postgres.sh"
                    );
                }
                eprintln!(
                    "SKIPPED postgres::{test}: {PG_URL_ENV} is unset (run under scripts/with-postgres.sh)"
                );
                return None;
            }
        };
        sqlx::any::install_default_drivers();
        let name = format!(
            "gr_{}_{}_{}",
            test.chars().take(30).collect::<String>(),
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        )
        .to_ascii_lowercase();
        let mut admin = AnyConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|error| panic!("connect to {PG_URL_ENV}: {error}"));
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|error| panic!("create database {name}: {error}"));
        let _ = admin.close().await;
        let url = DbUrl::parse(&with_database(&admin_url, &name)).expect("a valid test URL");
        Some(TestDb::Postgres {
            admin_url,
            name,
            url,
        })
    }

    /// Another fresh database on the same backend.
    pub async fn sibling(&self, tag: &str) -> TestDb {
        match self {
            TestDb::Sqlite { .. } => TestDb::sqlite(),
            TestDb::Postgres { .. } => TestDb::postgres(tag)
                .await
                .expect("the server that made the first database"),
        }
    }

    pub fn url(&self) -> &DbUrl {
        match self {
            TestDb::Sqlite { url, .. } | TestDb::Postgres { url, .. } => url,
        }
    }

    pub async fn open(&self) -> Store {
        Store::open(self.url(), StoreOptions::default())
            .await
            .unwrap_or_else(|error| panic!("open {}: {error}", self.url()))
    }

    /// A connection of its own, for raw SQL behind the store's back.
    pub async fn raw(&self) -> AnyConnection {
        sqlx::any::install_default_drivers();
        let url = self.url().to_sqlx_url(true).expect("a sqlx URL");
        AnyConnection::connect(&url)
            .await
            .unwrap_or_else(|error| panic!("raw connection to {}: {error}", self.url()))
    }

    /// Runs raw statements, in order, on a connection of its own.
    pub async fn exec(&self, statements: &[&str]) {
        let mut conn = self.raw().await;
        for statement in statements {
            sqlx::raw_sql(sqlx::AssertSqlSafe(statement.to_string()))
                .execute(&mut conn)
                .await
                .unwrap_or_else(|error| panic!("{statement}: {error}"));
        }
        let _ = conn.close().await;
    }

    /// Drops a PostgreSQL test database (SQLite's temp dir goes by itself).
    pub async fn cleanup(self) {
        if let TestDb::Postgres {
            admin_url, name, ..
        } = self
            && let Ok(mut admin) = AnyConnection::connect(&admin_url).await
        {
            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut admin)
            .await;
            let _ = admin.close().await;
        }
    }
}

/// `url` with its database name replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |at| at + 3);
    let path_start = base[authority_start..]
        .find('/')
        .map_or(base.len(), |at| authority_start + at);
    let mut out = format!("{}/{name}", &base[..path_start]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// Runs one async test function on SQLite and on PostgreSQL: `sqlite::NAME` and
/// `postgres::NAME` in the test output.
#[macro_export]
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = $crate::common::TestDb::sqlite();
                    super::$name(&db).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = $crate::common::TestDb::postgres(stringify!($name)).await else {
                        return;
                    };
                    super::$name(&db).await;
                    db.cleanup().await;
                }
            )*
        }
    };
}

const BASE_AT: u64 = 1_764_400_000;

/// A follow between two snowflake-like account ids (about 150 bytes of JSON).
pub fn follow(n: u64) -> Event {
    Event::new(
        format!("evt-{n:016x}-follow"),
        BASE_AT + n,
        Payload::Follow(AccountAction {
            account: format!("{}", 1_764_400_000_000_000_000u64 + n * 7_919),
            target: format!(
                "{}",
                1_764_400_000_000_000_000u64 + (n * 104_729) % 1_000_003
            ),
        }),
    )
}

/// A post with a caption and hashtags (about 300 bytes of JSON).
pub fn post(n: u64) -> Event {
    Event::new(
        format!("evt-{n:016x}-post"),
        BASE_AT + n,
        Payload::Post(PostPublished {
            account: format!("{}", 1_764_400_000_000_000_000u64 + n * 7_919),
            post: format!("p-{:019}", 9_000_000_000_000u64 + n),
            text: format!(
                "weekend ride number {n} along the river trail, new tyres held up fine. placeholder caption text"
            ),
            hashtags: vec![
                "cycling".into(),
                "rivertrail".into(),
                format!("tag{}", n % 97),
            ],
            media_hashes: vec![],
            features_minor: Some(false),
        }),
    )
}

/// A like (about 150 bytes of JSON).
pub fn like(n: u64) -> Event {
    Event::new(
        format!("evt-{n:016x}-like"),
        BASE_AT + n,
        Payload::Like(PostAction {
            account: format!("{}", 1_764_400_000_000_000_000u64 + n * 7_919),
            post: format!("p-{:019}", 9_000_000_000_000u64 + n / 3),
            text: String::new(),
        }),
    )
}

/// A realistic mix: 6 follows, 3 posts, 1 like in every 10.
pub fn mixed(n: u64) -> Event {
    match n % 10 {
        0..=5 => follow(n),
        6..=8 => post(n),
        _ => like(n),
    }
}

/// The same id with different content (a second later).
pub fn altered(event: &Event) -> Event {
    Event::new(event.id.clone(), event.at + 1, event.payload.clone())
}
