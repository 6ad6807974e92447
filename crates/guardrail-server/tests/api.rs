//! The HTTP API end to end, in process: the whole router (auth, limits, metrics, the
//! follower) over a real SQLite ledger in a temporary directory.
//!
//! Each test builds a small platform from events, starts a service over it, and drives
//! routes as a platform would; decisions are compared with the engine called directly on
//! the same ledger state (the contract: the API equals `guardrail decide`).

mod common;

use common::*;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use guardrail_adapter::{Deriver, Guard, NoLog};
use guardrail_server::ledger_io::{ledger_policy, live_state};
use guardrail_server::{Scope, ServeConfig};
use guardrail_types::Surface;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_and_scopes_decide_who_may_call_what() {
    let h = Harness::start(ServeConfig::default()).await;
    h.ready().await;
    let decide = json!({"viewer": "101", "candidates": ["102"]}).to_string();
    // (method, path, token scope, body, expected status)
    type Case<'a> = (&'a str, &'a str, Option<Scope>, Option<String>, u16);
    let cases: Vec<Case> = vec![
        ("GET", "/healthz", None, None, 200),
        ("GET", "/readyz", None, None, 200),
        ("GET", "/openapi.json", None, None, 200),
        (
            "POST",
            "/v1/decide/account_suggestions",
            None,
            Some(decide.clone()),
            401,
        ),
        (
            "POST",
            "/v1/decide/account_suggestions",
            Some(Scope::Service),
            Some(decide.clone()),
            200,
        ),
        (
            "POST",
            "/v1/decide/account_suggestions",
            Some(Scope::Admin),
            Some(decide.clone()),
            200,
        ),
        (
            "POST",
            "/v1/decide/account_suggestions",
            Some(Scope::Reviewer),
            Some(decide.clone()),
            403,
        ),
        ("GET", "/v1/network/map", Some(Scope::Service), None, 403),
        (
            "GET",
            "/v1/network/map",
            Some(Scope::Investigator),
            None,
            200,
        ),
        ("GET", "/v1/reports/nope", Some(Scope::Reviewer), None, 404),
        (
            "POST",
            "/v1/admin/remap",
            Some(Scope::Investigator),
            None,
            403,
        ),
        ("GET", "/v1/ledger/verify", Some(Scope::Admin), None, 200),
        (
            "GET",
            "/v1/accounts/102/risk",
            Some(Scope::Investigator),
            None,
            200,
        ),
        (
            "GET",
            "/v1/accounts/999/risk",
            Some(Scope::Investigator),
            None,
            404,
        ),
        (
            "POST",
            "/v1/decide/no_such_surface",
            Some(Scope::Service),
            Some(decide.clone()),
            404,
        ),
        (
            "POST",
            "/v1/decide/account_suggestions",
            Some(Scope::Service),
            Some("{not json".into()),
            400,
        ),
        (
            "POST",
            "/v1/decide/search",
            Some(Scope::Service),
            Some("{}".into()),
            400,
        ),
        ("GET", "/no/such/route", None, None, 404),
        ("GET", "/status", None, None, 200),
        (
            "GET",
            "/m/raw_lookup?signal_type=pdq&signal=00",
            None,
            None,
            401,
        ),
    ];
    for (method, path, scope, body, expected) in cases {
        let (status, answer) = h
            .call(method, path, scope, body.map(String::into_bytes))
            .await;
        assert_eq!(
            status.as_u16(),
            expected,
            "{method} {path} as {scope:?}: {answer}"
        );
        if status.is_client_error() && !path.starts_with("/m/") && path != "/status" {
            assert!(
                answer["error"]["message"].is_string(),
                "{method} {path}: {answer}"
            );
        }
    }
    // A token in the query string is never read.
    let path = format!("/v1/network/map?access_token={}", h.token(Scope::Admin));
    assert_eq!(
        h.call("GET", &path, None, None).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_equal_the_engine_on_the_same_ledger_state() {
    let h = Harness::start(ServeConfig::default()).await;
    h.ready().await;
    let state = live_state(&h.service.store).await.expect("the ledger");
    let policy = ledger_policy(&state).expect("a policy");
    let guard = Guard::new(
        Deriver::from_ledger(&state, &policy, None),
        policy,
        guardrail_policy::RuleSet::default_rules(),
        Arc::new(NoLog),
    );
    for surface in [
        Surface::AccountSuggestions,
        Surface::SimilarAccounts,
        Surface::Feed,
    ] {
        let (status, answer) = h
            .post(
                &format!("/v1/decide/{}", surface.name()),
                Scope::Service,
                json!({"viewer": "101", "candidates": ["102", "103", "777"]}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        let view = guard.view();
        let viewer = view.snapshot().account_by_name("101");
        for (i, name) in ["102", "103", "777"].iter().enumerate() {
            let account = view
                .snapshot()
                .account_by_name(name)
                .unwrap_or(guardrail_types::AccountId(u32::MAX));
            let direct = view.decide_account(surface, viewer, account);
            let got = &answer["verdicts"][i];
            assert_eq!(got["candidate"], *name);
            assert_eq!(
                got["action"],
                direct.action.name(),
                "{surface:?} {name}: {got}"
            );
            assert_eq!(got["decided_by"], json!(direct.decided_by), "{name}: {got}");
            assert_eq!(got["fail_closed"], direct.fail_closed, "{name}: {got}");
            assert_eq!(
                got["conditions"],
                serde_json::to_value(&direct.conditions).expect("json"),
                "{name}"
            );
        }
        // An account the ledger never saw created is not let through.
        assert_ne!(answer["verdicts"][2]["action"], "allow", "{answer}");
        assert!(answer["snapshot"].as_u64().is_some());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_are_durable_idempotent_and_seen_by_the_next_decision() {
    let h = Harness::start(ServeConfig::default()).await;
    h.ready().await;
    let (_, before) = h
        .post(
            "/v1/decide/account_suggestions",
            Scope::Service,
            json!({"viewer": "103", "candidates": ["104"]}),
        )
        .await;
    assert_eq!(before["verdicts"][0]["fail_closed"], true, "{before}");
    let new_account = json!([{"id": "a4", "type": "account_created", "at": T0 + 10, "account": "104", "handle": "new_person", "declared_age": 30, "bio": "music"}]);
    let (status, stored) = h
        .post("/v1/events", Scope::Service, new_account.clone())
        .await;
    assert_eq!(status, StatusCode::OK, "{stored}");
    assert_eq!(stored["stored"], 1, "{stored}");
    // The same event again is a duplicate; the same id with another body a conflict.
    let (_, again) = h.post("/v1/events", Scope::Service, new_account).await;
    assert_eq!(again["duplicates"], 1, "{again}");
    let changed = json!([{"id": "a4", "type": "account_created", "at": T0 + 10, "account": "104", "handle": "someone_else", "declared_age": 30}]);
    let (_, conflict) = h.post("/v1/events", Scope::Service, changed).await;
    assert_eq!(conflict["conflicts"], 1, "{conflict}");
    // The next decision knows the account (read-your-writes).
    let (_, after) = h
        .post(
            "/v1/decide/account_suggestions",
            Scope::Service,
            json!({"viewer": "103", "candidates": ["104"]}),
        )
        .await;
    assert!(
        after["verdicts"][0]["missing"]
            .as_array()
            .is_some_and(|m| !m.iter().any(|x| x == "candidate.age")),
        "{after}"
    );
    // A batch with a bad event stores nothing and names the event by index and field.
    let bad = format!(
        "{}\n{}\n",
        json!({"id": "ok-1", "type": "follow", "at": T0 + 11, "account": "104", "target": "101"}),
        json!({"id": "bad-1", "type": "follow", "at": T0 + 12, "account": "104"}),
    );
    let (status, error) = h
        .call(
            "POST",
            "/v1/events",
            Some(Scope::Service),
            Some(bad.into_bytes()),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    let first = &error["error"]["details"]["errors"][0];
    assert_eq!(first["index"], 1, "{error}");
    assert_eq!(first["line"], 2, "{error}");
    assert_eq!(first["field"], "target", "{error}");
    for id in ["ok-1", "bad-1"] {
        let stored = h.service.store.event(id).await.expect("a lookup");
        assert!(stored.is_none(), "a refused batch stored {id}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_are_idempotent_and_move_only_as_the_lifecycle_allows() {
    let h = Harness::start(ServeConfig::default()).await;
    h.ready().await;
    let report = json!({"client_key": "k-1", "reporter": "101", "subject": {"account": "102"}, "category": "child_sexual_exploitation", "text": "asked me for pictures"});
    let (status, first) = h.post("/v1/reports", Scope::Service, report.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(first["client_key"], "k-1");
    let id = first["id"].as_str().expect("an id").to_string();
    let (status, again) = h.post("/v1/reports", Scope::Service, report).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(again["id"], id.as_str());
    let other = json!({"client_key": "k-1", "reporter": "101", "subject": {"account": "103"}, "category": "spam"});
    let (status, conflict) = h.post("/v1/reports", Scope::Service, other).await;
    assert_eq!(status, StatusCode::CONFLICT, "{conflict}");
    assert_eq!(conflict["error"]["details"]["id"], id.as_str());
    let (status, got) = h
        .call(
            "GET",
            &format!("/v1/reports/{id}"),
            Some(Scope::Reviewer),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["client_key"], "k-1");
    let state = got["state"].as_str().expect("a state").to_string();
    // A move the lifecycle does not allow is refused with the reason.
    let (status, refused) = h
        .post(
            &format!("/v1/reports/{id}/transitions"),
            Scope::Reviewer,
            json!({"to": "closed", "reason": "done"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    // A stale view of the report is refused too.
    let (status, _) = h
        .post(
            &format!("/v1/reports/{id}/transitions"),
            Scope::Reviewer,
            json!({"to": "in_review", "reason": "r", "from": "escalated"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let next = if state == "received" {
        "triaged"
    } else {
        "in_review"
    };
    let (status, moved) = h
        .post(
            &format!("/v1/reports/{id}/transitions"),
            Scope::Reviewer,
            json!({"to": next, "reason": "picked up", "from": state}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!(moved["state"], next);
    assert_eq!(
        moved["history"].as_array().map(Vec::len),
        Some(got["history"].as_array().map_or(0, Vec::len) + 1)
    );
    // Enforcement lands in the ledger and the entity shows it with its links.
    let (status, enforced) = h
        .post(
            "/v1/enforcement",
            Scope::Reviewer,
            json!({"account": "102", "action": "takedown", "reason": "confirmed"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{enforced}");
    // The map's seed (the account whose bio is blocked) is named by the platform's id,
    // not its dense id (3).
    let (status, remapped) = h
        .call("POST", "/v1/admin/remap", Some(Scope::Admin), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{remapped}");
    let (status, map) = h
        .call("GET", "/v1/network/map", Some(Scope::Investigator), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{map}");
    assert_eq!(map["seeds"], json!(["105"]), "{map}");
    let (status, entity) = h
        .call("GET", "/v1/entities/103", Some(Scope::Reviewer), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{entity}");
    assert_eq!(entity["accounts"], json!(["103", "102"]), "{entity}");
    assert!(
        entity["actions"].to_string().contains("takedown"),
        "{entity}"
    );
    // A sign-up sharing that identifier is sent to review, with the link named.
    let (_, signup) = h
        .post(
            "/v1/signup/decide",
            Scope::Service,
            json!({"handle": "fresh_start", "emails": ["Shared@example.invalid"]}),
        )
        .await;
    assert_eq!(signup["action"], "review", "{signup}");
    assert_eq!(signup["linked_accounts"][0]["account"], "102", "{signup}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_snapshot_fails_closed_and_readiness_says_why() {
    let config = ServeConfig {
        stale_after: Duration::ZERO,
        ..ServeConfig::default()
    };
    let h = Harness::start(config).await;
    // Wait until the snapshot exists (it is stale the moment it exists).
    for _ in 0..400 {
        if h.service.guard().is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    tokio::time::sleep(Duration::from_millis(5)).await;
    let (status, answer) = h
        .post(
            "/v1/decide/account_suggestions",
            Scope::Service,
            json!({"viewer": "101", "candidates": ["102", "103"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    for verdict in answer["verdicts"].as_array().expect("verdicts") {
        assert_eq!(verdict["action"], "drop", "{verdict}");
        assert_eq!(verdict["fail_closed"], true);
        assert_eq!(verdict["missing"], json!(["snapshot"]));
    }
    assert!(
        answer["fail_closed_reason"]
            .as_str()
            .is_some_and(|r| r.contains("stale")),
        "{answer}"
    );
    let (status, ready) = h.call("GET", "/readyz", None, None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(ready["ready"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_the_limit_are_413_and_metrics_count_decisions() {
    let config = ServeConfig {
        body_limit: 2_048,
        ..ServeConfig::default()
    };
    let h = Harness::start(config).await;
    h.ready().await;
    let big = json!({"text": "x".repeat(10_000), "place": "search"});
    let (status, answer) = h.post("/v1/text/check", Scope::Service, big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer}");
    assert_eq!(answer["error"]["code"], "too_large", "{answer}");
    let (status, checked) = h
        .post(
            "/v1/text/check",
            Scope::Service,
            json!({"text": "hello there", "place": "bio"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(checked["decision"], "allow", "{checked}");
    let (status, _) = h
        .post(
            "/v1/text/check",
            Scope::Service,
            json!({"text": "hello", "place": "nowhere"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    h.post(
        "/v1/decide/account_suggestions",
        Scope::Service,
        json!({"viewer": "101", "candidates": ["102"]}),
    )
    .await;
    let (_, metrics) = h.call("GET", "/metrics", None, None).await;
    let text = metrics.as_str().expect("text");
    assert!(
        text.contains("guardrail_decisions_total{surface=\"account_suggestions\""),
        "{text}"
    );
    assert!(text.contains("guardrail_http_requests_total{route=\"/v1/text/check\",method=\"POST\",status=\"413\"} 1"), "{text}");
    assert!(text.contains("guardrail_ready 1"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_description_lists_every_route() {
    let h = Harness::start(ServeConfig::default()).await;
    let (status, doc) = h.call("GET", "/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    for path in [
        "/v1/events",
        "/v1/decide/{surface}",
        "/v1/text/check",
        "/v1/autocomplete/filter",
        "/v1/signup/decide",
        "/v1/media/hash",
        "/v1/media/match",
        "/v1/reports",
        "/v1/reports/{id}",
        "/v1/reports/{id}/transitions",
        "/v1/enforcement",
        "/v1/entities/{id}",
        "/v1/network/map",
        "/v1/accounts/{id}/risk",
        "/v1/admin/remap",
        "/v1/ledger/verify",
        "/healthz",
        "/readyz",
        "/metrics",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is not described");
    }
    let (status, page) = h.call("GET", "/docs/", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !page.to_string().contains("cdn"),
        "the docs page loads from a CDN"
    );
}

/// Found by the `api_bodies` fuzz target: a query string or path segment that axum's
/// extractors refuse was answered in plain text, outside the API's error shape.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_and_path_rejections_answer_in_the_error_shape() {
    let harness = Harness::start(ServeConfig::default()).await;
    harness.ready().await;
    for (method, path, scope, status) in [
        // The fuzzer's reproducer: an unknown query parameter.
        (
            "GET",
            "/v1/reports/check?now=1764400000",
            Scope::Reviewer,
            400,
        ),
        (
            "GET",
            "/v1/network/map?limit=many",
            Scope::Investigator,
            400,
        ),
        // A path segment that is not UTF-8 once percent-decoded.
        ("GET", "/v1/reports/r-%FF/", Scope::Reviewer, 404),
        ("GET", "/v1/entities/a%FFb", Scope::Reviewer, 400),
        ("GET", "/v1/events", Scope::Service, 405),
    ] {
        let (got, body) = harness.call(method, path, Some(scope), None).await;
        assert_eq!(got.as_u16(), status, "{method} {path}: {body}");
        assert!(
            body["error"]["code"].is_string() && body["error"]["message"].is_string(),
            "{method} {path} answered {got} outside the error shape: {body}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_backfill_replays_the_ledgers_decision_log_on_any_replica() {
    let h = Harness::start(ServeConfig::default()).await;
    h.ready().await;
    // A minor's feed with an unmapped account and the map's seed: drops, each logged.
    for _ in 0..5 {
        let (status, answer) = h
            .post(
                "/v1/decide/feed",
                Scope::Service,
                json!({"viewer": "101", "candidates": ["105", "102", "103"]}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
    let mut logged = (Vec::new(), 0);
    for _ in 0..400 {
        logged = h.service.logged_decisions(5_000).await.expect("the log");
        if logged.0.len() >= 5 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let (requests, unreadable) = logged;
    assert_eq!(unreadable, 0);
    assert!(requests.len() >= 5, "{} logged", requests.len());
    assert!(
        requests
            .iter()
            .all(|r| r.surface == guardrail_types::Surface::Feed)
    );
    // The viewer's signals were recorded, so a replay decides on what was read then.
    assert!(requests.iter().all(|r| r.viewer.is_some()));
    // Another service on the same ledger (a replica, or this one restarted) replays the
    // same decisions.
    let url = guardrail_store::DbUrl::sqlite(h._dir.path().join("ledger.db"));
    let store = guardrail_store::Store::open(&url, guardrail_store::StoreOptions::default())
        .await
        .expect("the same ledger");
    let replica = guardrail_server::Service::new(store, ServeConfig::default()).expect("a service");
    let (again, _) = replica.logged_decisions(5_000).await.expect("the log");
    assert!(again.len() >= requests.len());
    assert_eq!(&again[..requests.len()], &requests[..]);
}
