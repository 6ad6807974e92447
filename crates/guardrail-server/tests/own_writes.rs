//! The follower folds this process's own writes from memory and everything else from the
//! ledger; either way the live state must be the state a fresh load of the ledger gives.
//! Batches through `POST /v1/events` (with duplicates and conflicts among them) are
//! interleaved with writes straight to the store, as another replica's would be, and
//! with logged decisions; after each round the live state is compared whole with
//! `live_state` read from the database.

mod common;

use common::{Harness, Scope, ServeConfig, T0};
use guardrail_server::ledger_io::live_state;
use serde_json::{Value, json};

/// Events `first..first + count`: accounts, then follows, views and posts among them.
fn batch(first: u64, count: u64) -> Vec<Value> {
    (first..first + count)
        .map(|n| {
            let account = format!("{}", 1_000 + n / 4);
            let target = format!("{}", 1_000 + (n * 7) / 4 % (n / 4 + 1));
            match n % 4 {
                0 => json!({"id": format!("o{n}"), "type": "account_created", "at": T0 + 100 + n, "account": account, "handle": format!("h{n}"), "declared_age": 20 + n % 30, "bio": "plain"}),
                1 => json!({"id": format!("o{n}"), "type": "follow", "at": T0 + 100 + n, "account": account, "target": target}),
                2 => json!({"id": format!("o{n}"), "type": "view", "at": T0 + 100 + n, "account": account, "target": target}),
                _ => json!({"id": format!("o{n}"), "type": "post", "at": T0 + 100 + n, "account": account, "post": format!("p{n}"), "text": "a day out", "hashtags": ["walks"]}),
            }
        })
        .collect()
}

async fn assert_live_equals_ledger(h: &Harness, round: usize) {
    // Read-your-writes has already waited for the fold of this process's own writes; a
    // replica's are folded on the follower's next turn.
    let head = h.service.store.head().await.expect("the head").0;
    h.service
        .wait_folded(head, std::time::Duration::from_secs(10))
        .await;
    let live = h.service.ledger().expect("loaded").clone();
    let stored = live_state(&h.service.store).await.expect("the ledger");
    assert_eq!(
        live.last_seq, head,
        "round {round}: the follower did not reach the head"
    );
    assert!(
        live == stored,
        "round {round}: the live state differs from a fresh load of the ledger"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_writes_folded_from_memory_give_the_state_the_ledger_gives() {
    let h = Harness::start(ServeConfig::default()).await;
    h.ready().await;
    let mut next = 0;
    for round in 0..6 {
        // Own writes, one batch of them sent twice (duplicates are not new records).
        let own = batch(next, 40);
        next += 40;
        let (status, answer) = h.post("/v1/events", Scope::Service, json!(own)).await;
        assert!(status.is_success(), "{answer}");
        assert_eq!(answer["stored"], 40, "{answer}");
        let (_, again) = h.post("/v1/events", Scope::Service, json!(own[..10])).await;
        assert_eq!(again["duplicates"], 10, "{again}");
        // A conflict: an id already stored, with another body.
        let mut changed = own[0].clone();
        changed["at"] = json!(T0 + 99);
        let (_, conflict) = h.post("/v1/events", Scope::Service, json!([changed])).await;
        assert_eq!(conflict["conflicts"], 1, "{conflict}");
        // Decisions, which the decision log writes as its own events.
        for viewer in ["101", "102", "103"] {
            let (status, _) = h
                .post(
                    "/v1/decide/account_suggestions",
                    Scope::Service,
                    json!({"viewer": viewer, "candidates": ["101", "102", "103", "105"]}),
                )
                .await;
            assert!(status.is_success());
        }
        // Every other round a replica writes between two of this process's batches.
        if round % 2 == 1 {
            let replica = batch(next, 25);
            next += 25;
            h.service
                .store
                .append(common::parse_events(&json!(replica)))
                .await
                .expect("a replica's write");
        }
        let own = batch(next, 15);
        next += 15;
        let (status, answer) = h.post("/v1/events", Scope::Service, json!(own)).await;
        assert!(status.is_success(), "{answer}");
        assert_live_equals_ledger(&h, round).await;
    }
}
