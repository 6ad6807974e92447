//! The ledger on the command line: a world ingested into a database answers decisions
//! exactly as the world folder does; verify finds tampering and names the first bad
//! record; rebuild --check finds a live state that drifted from the ledger.

mod common;

use common::{Dir, guardrail, world};
use guardrail_ledger::LedgerState;
use guardrail_store::{DbUrl, Store, StoreOptions};

fn ingested(name: &str) -> (Dir, String) {
    let dir = Dir::new(name);
    let db = dir.arg("ledger.db");
    let world = world(1, 2_000, "csv");
    guardrail(&["world", "ingest", "--world", world.arg(), "--db", &db]).ok();
    (dir, db)
}

#[test]
fn an_ingested_world_answers_decisions_as_its_folder_does() {
    let (_dir, db) = ingested("ledger-decide");
    let folder = world(1, 2_000, "csv");
    let verified = guardrail(&["ledger", "verify", "--db", &db]).ok();
    assert!(
        verified.stdout().starts_with("chain verified: "),
        "{}",
        verified.stdout()
    );
    let rebuilt = guardrail(&["ledger", "rebuild", "--db", &db, "--check"]).ok();
    assert!(
        rebuilt
            .stdout()
            .starts_with("rebuild equals the live state"),
        "{}",
        rebuilt.stdout()
    );
    let asks: [&[&str]; 3] = [
        &[
            "--surface",
            "account_suggestions",
            "--viewer",
            "0",
            "--candidate",
            "1",
            "--candidate",
            "2",
            "--candidate",
            "3",
            "--candidate",
            "27",
        ],
        &["--surface", "search", "--query", "#v3xn0r"],
        &[
            "--surface",
            "autocomplete",
            "--query",
            "vex",
            "--text",
            "vexnorqa",
            "--text",
            "dance",
        ],
    ];
    for ask in asks {
        let mut from_world = vec!["decide", "--world", folder.arg(), "--json"];
        from_world.extend_from_slice(ask);
        let mut from_db = vec!["decide", "--db", &db, "--json"];
        from_db.extend_from_slice(ask);
        let (a, b) = (guardrail(&from_world).ok(), guardrail(&from_db).ok());
        assert_eq!(a.stdout(), b.stdout(), "decide {ask:?}");
        assert!(!a.stdout().is_empty());
    }
    // Ingesting the same world again stores nothing new.
    let again = guardrail(&["world", "ingest", "--world", folder.arg(), "--db", &db]).ok();
    assert!(again.stderr().contains(" 0 stored, "), "{}", again.stderr());
}

fn with_store<T>(db: &str, work: impl AsyncFnOnce(&Store) -> T) -> T {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let url = DbUrl::parse(db).expect("url");
        let store = Store::open(&url, StoreOptions::default())
            .await
            .expect("open");
        let out = work(&store).await;
        store.close().await;
        out
    })
}

#[test]
fn rebuild_check_names_what_drifted_and_verify_names_the_first_bad_record() {
    let (_dir, db) = ingested("ledger-drift");
    // A live state that lost a follow (a bug in incremental upkeep would look like this).
    with_store(&db, async |store: &Store| {
        let (seq, bytes) = store
            .load_checkpoint()
            .await
            .expect("read")
            .expect("a checkpoint");
        let mut state: LedgerState = rmp_serde::from_slice(&bytes).expect("decode");
        let first = *state.follows.keys().next().expect("a follow");
        state.follows.remove(&first);
        store
            .save_checkpoint(seq, rmp_serde::to_vec_named(&state).expect("encode"))
            .await
            .expect("write");
    });
    let drifted = guardrail(&["ledger", "rebuild", "--db", &db, "--check"]).fails_with(1);
    assert!(drifted.stdout().contains("follow"), "{}", drifted.stdout());
    // Rebuilding (without --check) writes a fresh checkpoint; the check passes again.
    guardrail(&["ledger", "rebuild", "--db", &db]).ok();
    guardrail(&["ledger", "rebuild", "--db", &db, "--check"]).ok();
}

#[test]
fn verify_names_the_first_altered_record() {
    let (dir, db) = ingested("ledger-tamper");
    let path = dir.join("ledger.db");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        use sqlx::Connection;
        let url = format!("sqlite://{}", path.display());
        let mut connection = sqlx::SqliteConnection::connect(&url)
            .await
            .expect("connect");
        sqlx::query(
            "UPDATE events SET body = (SELECT body FROM events WHERE seq = 12) WHERE seq = 11",
        )
        .execute(&mut connection)
        .await
        .expect("tamper");
        connection.close().await.expect("close");
    });
    let broken = guardrail(&["ledger", "verify", "--db", &db]).fails_with(1);
    assert!(
        broken
            .stdout()
            .starts_with("ledger chain broken at sequence 11: stored hash"),
        "{}",
        broken.stdout()
    );
}

#[test]
fn a_bad_database_argument_is_a_usage_error() {
    let dir = Dir::new("ledger-bad");
    let not_a_db = dir.create("notes.db", "this is not a database, it is a text file\n");
    let refused = guardrail(&["ledger", "verify", "--db", common::utf8(&not_a_db)]).fails_with(2);
    assert!(
        refused.stderr().contains("cannot open the ledger"),
        "{}",
        refused.stderr()
    );
    guardrail(&["ledger", "verify", "--db", "mysql://nope"]).fails_with(2);
}
