//! Fault injection: failpoints in the store, the snapshot loader, the map builder, the
//! matcher and every guardrail path, and what the service does when each fires.
//!
//! Each test proves three things for its fault: the request it hits fails closed (the safe
//! verdict, with its reason in words), the service stays up (health, and the next request
//! after the fault is cleared is answered normally), and no acknowledged write is lost
//! (every event answered `stored` is in the ledger afterwards, and a batch that was
//! refused was not half-stored).
//!
//! Built only with `--features failpoints` (the `fail` crate's macros are empty without
//! it): `cargo nextest run -p guardrail-server --features failpoints --test faults`. The
//! failpoint registry is process-global; nextest runs every test in its own process, and
//! `FailScenario` serialises them under `cargo test`.

mod common;

use std::time::Duration;

use axum::http::StatusCode;
use common::{Harness, Scope, ServeConfig};
use fail::FailScenario;
use serde_json::{Value, json};

/// Events a platform sends while a fault is in force: two new accounts.
fn new_accounts(tag: &str) -> Value {
    let at = common::T0 + 100;
    json!([
        {"id": format!("{tag}-1"), "type": "account_created", "at": at, "account": format!("{tag}-acct-1"), "handle": format!("{tag}_one"), "declared_age": 30},
        {"id": format!("{tag}-2"), "type": "account_created", "at": at + 1, "account": format!("{tag}-acct-2"), "handle": format!("{tag}_two"), "declared_age": 31},
    ])
}

async fn records(harness: &Harness) -> u64 {
    let (status, verified) = harness
        .call("GET", "/v1/ledger/verify", Some(Scope::Admin), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{verified}");
    assert_eq!(verified["ok"], true, "the chain holds: {verified}");
    verified["records"].as_u64().expect("a record count")
}

async fn alive(harness: &Harness) {
    let (status, body) = harness.call("GET", "/healthz", None, None).await;
    assert_eq!(status, StatusCode::OK, "the service stays up: {body}");
}

/// Account suggestions for `body`, which must be answered 200 (decision routes never
/// answer otherwise); the answer.
async fn suggest(harness: &Harness, body: Value) -> Value {
    let (status, decided) = harness
        .post("/v1/decide/account_suggestions", Scope::Service, body)
        .await;
    assert_eq!(status, StatusCode::OK, "{decided}");
    decided
}

/// Every verdict of a decision answer: dropped, failed closed, with `words` in its reason.
fn all_failed_closed(answer: &Value, words: &str) {
    let verdicts = answer["verdicts"].as_array().expect("verdicts");
    assert!(!verdicts.is_empty(), "{answer}");
    for verdict in verdicts {
        assert_eq!(verdict["action"], "drop", "{verdict}");
        assert_eq!(verdict["fail_closed"], true, "{verdict}");
        assert_eq!(verdict["decided_by"], "fail_closed", "{verdict}");
        let evidence = verdict["conditions"][0]["evidence"].to_string();
        assert!(
            evidence.contains(words),
            "reason {evidence} lacks {words:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_or_read_only_database_at_intake_acknowledges_nothing() {
    let scenario = FailScenario::setup();
    let harness = Harness::start(ServeConfig::default()).await;
    harness.ready().await;
    let before = records(&harness).await;

    for (fault, words) in [("full", "no space left"), ("read-only", "read-only")] {
        fail::cfg("store::append", &format!("return({fault})")).expect("a failpoint");
        let (status, refused) = harness
            .post("/v1/events", Scope::Service, new_accounts(fault))
            .await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{refused}");
        let message = refused["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("full or read-only"), "{message}");
        assert!(message.contains(words), "{message}");
        assert!(
            message.contains("nothing of this batch was stored"),
            "{message}"
        );
        // Decisions go on while intake is refused.
        suggest(&harness, json!({"viewer": "101", "candidates": ["102"]})).await;
        alive(&harness).await;
        assert_eq!(
            records(&harness).await,
            before,
            "nothing of the refused batch"
        );
    }

    fail::remove("store::append");
    for fault in ["full", "read-only"] {
        let (status, stored) = harness
            .post("/v1/events", Scope::Service, new_accounts(fault))
            .await;
        assert_eq!(status, StatusCode::OK, "{stored}");
        // Stored now, not `duplicate`: the refused attempt left nothing behind.
        assert_eq!(stored["stored"], 2, "{stored}");
    }
    assert_eq!(records(&harness).await, before + 4);
    scenario.teardown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_that_cannot_read_the_ledger_serves_on_and_catches_up() {
    let scenario = FailScenario::setup();
    // Stale after one second without catching up, so the fault shows within the test.
    let harness = Harness::start(ServeConfig {
        stale_after: Duration::from_secs(1),
        ..ServeConfig::default()
    })
    .await;
    harness.ready().await;

    fail::cfg("store::read", "return(connection reset)").expect("a failpoint");
    // This process's own writes are folded from memory: reads failing do not hold them.
    let (status, stored) = harness
        .post("/v1/events", Scope::Service, new_accounts("own"))
        .await;
    assert_eq!(status, StatusCode::OK, "intake writes: {stored}");
    let own = stored["events"][1]["seq"]
        .as_u64()
        .expect("a sequence number");
    assert!(
        harness
            .service
            .wait_folded(own, Duration::from_secs(10))
            .await,
        "the process's own writes are folded without reading them back"
    );
    // Another replica's write must be read from the ledger: the follower fails on it.
    let replica = common::parse_events(&new_accounts("late"));
    let outcomes = harness
        .service
        .store
        .append(replica)
        .await
        .expect("a replica's write");
    let seq = outcomes.last().expect("stored").seq();
    // The follower fails on its next turn; readiness says why.
    let mut said = Value::Null;
    for _ in 0..200 {
        let (_, ready) = harness.call("GET", "/readyz", None, None).await;
        if ready.to_string().contains("connection reset") {
            said = ready;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(said.to_string().contains("read records"), "{said}");
    let decided = suggest(&harness, json!({"viewer": "101", "candidates": ["102"]})).await;
    all_failed_closed(&decided, "connection reset");
    alive(&harness).await;

    fail::remove("store::read");
    assert!(
        harness
            .service
            .wait_folded(seq, Duration::from_secs(10))
            .await,
        "the follower catches up once the database answers"
    );
    let decided = suggest(
        &harness,
        json!({"viewer": "late-acct-1", "candidates": ["late-acct-2"]}),
    )
    .await;
    // Decided by the engine on a fresh snapshot that knows the new account (new accounts
    // are not mapped until the next re-map, and the engine drops them for that: its own
    // fail-closed rule, not the stale snapshot's).
    assert_ne!(
        decided["verdicts"][0]["decided_by"], "fail_closed",
        "{decided}"
    );
    assert!(decided["snapshot"].is_u64(), "{decided}");
    scenario.teardown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_that_fails_to_load_fails_closed_until_a_retry_loads_it() {
    let scenario = FailScenario::setup();
    fail::cfg("snapshot::load", "panic(snapshot derivation fault)").expect("a failpoint");
    let harness = Harness::start(ServeConfig::default()).await;
    // Wait until the first load has failed.
    let mut ready = Value::Null;
    for _ in 0..200 {
        let (status, body) = harness.call("GET", "/readyz", None, None).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        if body.to_string().contains("snapshot derivation fault") {
            ready = body;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(
        ready.to_string().contains("deriving the first snapshot"),
        "{ready}"
    );
    let decided = suggest(
        &harness,
        json!({"viewer": "101", "candidates": ["102", "103"]}),
    )
    .await;
    all_failed_closed(&decided, "snapshot derivation fault");
    alive(&harness).await;

    fail::remove("snapshot::load");
    harness.ready().await;
    let (_, decided) = harness
        .post(
            "/v1/decide/account_suggestions",
            Scope::Service,
            json!({"viewer": "101", "candidates": ["102"]}),
        )
        .await;
    assert_eq!(decided["verdicts"][0]["fail_closed"], false, "{decided}");
    let (status, _) = harness.call("GET", "/readyz", None, None).await;
    assert_eq!(status, StatusCode::OK);
    scenario.teardown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_map_build_that_faults_keeps_the_last_snapshot_serving() {
    let scenario = FailScenario::setup();
    let harness = Harness::start(ServeConfig::default()).await;
    harness.ready().await;
    let decide = || {
        harness.post(
            "/v1/decide/account_suggestions",
            Scope::Service,
            json!({"viewer": "101", "candidates": ["105", "102"]}),
        )
    };
    let (_, before) = decide().await;

    fail::cfg("map::build", "panic(map builder fault)").expect("a failpoint");
    let (status, refused) = harness
        .call("POST", "/v1/admin/remap", Some(Scope::Admin), None)
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("map builder fault"),
        "{refused}"
    );
    // The last snapshot serves on, unchanged: same version, same verdicts.
    let (status, during) = decide().await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(during, before, "the failed re-map published nothing");
    alive(&harness).await;

    fail::remove("map::build");
    let (status, remapped) = harness
        .call("POST", "/v1/admin/remap", Some(Scope::Admin), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{remapped}");
    assert!(
        remapped["snapshot"].as_u64() > before["snapshot"].as_u64(),
        "{remapped} after {before}"
    );
    scenario.teardown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_matcher_fault_holds_the_media_and_never_reads_as_no_match() {
    let scenario = FailScenario::setup();
    let harness = Harness::start(ServeConfig::default()).await;
    harness.ready().await;
    let hash = "f".repeat(64);
    let ask = json!({"hashes": [hash]});

    fail::cfg("matcher::search", "panic(matcher fault)").expect("a failpoint");
    let (status, held) = harness
        .post("/v1/media/match", Scope::Service, ask.clone())
        .await;
    assert_eq!(status, StatusCode::OK, "{held}");
    let reason = held["results"][0]["fail_closed"]
        .as_str()
        .unwrap_or_default();
    assert!(reason.contains("matcher fault"), "{held}");
    assert!(reason.contains("hold this media for review"), "{held}");
    // HMA's own routes are not decision routes: a fault there is a 500 in the API's
    // error shape, and the service answers the next request.
    let (status, fault) = harness
        .call(
            "GET",
            &format!("/m/raw_lookup?signal={hash}&signal_type=pdq"),
            Some(Scope::Service),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{fault}");
    assert_eq!(fault["error"]["code"], "internal", "{fault}");
    alive(&harness).await;

    fail::remove("matcher::search");
    let (status, clean) = harness.post("/v1/media/match", Scope::Service, ask).await;
    assert_eq!(status, StatusCode::OK, "{clean}");
    assert!(clean["results"][0].get("fail_closed").is_none(), "{clean}");
    scenario.teardown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_decision_path_fails_closed_when_the_engine_faults() {
    let scenario = FailScenario::setup();
    let harness = Harness::start(ServeConfig::default()).await;
    harness.ready().await;
    let (status, ad) = harness
        .post(
            "/v1/ads/family-photo",
            Scope::Service,
            json!({"target_interests": ["cooking"], "declared_features_minor": true}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{ad}");
    let before = records(&harness).await;

    // (surface, body): every account and text surface of the decision engine.
    let surfaces = [
        (
            "account_suggestions",
            json!({"viewer": "101", "candidates": ["102", "103"]}),
        ),
        (
            "similar_accounts",
            json!({"viewer": "102", "candidates": ["103"]}),
        ),
        ("feed", json!({"viewer": "101", "candidates": ["102"]})),
        (
            "search",
            json!({"viewer": "101", "query": "games", "candidates": ["102"]}),
        ),
        (
            "related_hashtags",
            json!({"query": "foo", "candidates": ["food"]}),
        ),
        (
            "autocomplete",
            json!({"query": "fo", "candidates": ["food"]}),
        ),
        (
            "message_requests",
            json!({"sender": "102", "candidates": ["101"]}),
        ),
    ];
    fail::cfg("guard::decide", "panic(engine fault)").expect("a failpoint");
    for (surface, body) in &surfaces {
        let (status, decided) = harness
            .post(
                &format!("/v1/decide/{surface}"),
                Scope::Service,
                body.clone(),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{surface}: {decided}");
        all_failed_closed(&decided, "engine fault");
    }
    let (status, filtered) = harness
        .post(
            "/v1/autocomplete/filter",
            Scope::Service,
            json!({"prefix": "fo", "suggestions": ["food", "football"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{filtered}");
    assert_eq!(filtered["kept"], json!([]), "{filtered}");
    let (status, delivered) = harness
        .post(
            "/v1/ads/family-photo/deliver",
            Scope::Service,
            json!({"impressions": ["102", "103"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{delivered}");
    assert_eq!(delivered["delivered"], 0, "{delivered}");
    assert!(
        delivered["decisions"][0]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("engine fault"),
        "{delivered}"
    );
    fail::remove("guard::decide");

    // (failpoint, route, body, the verdict's field, its fail-closed value, where the
    // reason is, words of the reason, the value once the fault is cleared)
    let signup = json!({"handle": "fresh_start", "bio": "cooking"});
    let bio = json!({"text": "cooking", "place": "bio"});
    let table = [
        (
            "text::check",
            "/v1/text/check",
            &bio,
            "decision",
            "block",
            "diagnostics",
            "text guard fault",
            "allow",
        ),
        (
            "text::check",
            "/v1/signup/decide",
            &signup,
            "action",
            "review",
            "reasons",
            "text guard fault",
            "allow",
        ),
        (
            "guard::signup",
            "/v1/signup/decide",
            &signup,
            "action",
            "review",
            "reasons",
            "entity check failed",
            "allow",
        ),
        (
            "guard::decide",
            "/v1/decide/related_hashtags",
            &json!({"query": "foo", "candidates": ["food"]}),
            "verdicts",
            "drop",
            "verdicts",
            "engine fault",
            "allow",
        ),
    ];
    let field = |answer: &Value, name: &str| match name {
        "verdicts" => answer["verdicts"][0]["action"].clone(),
        other => answer[other].clone(),
    };
    for (point, route, body, name, closed, reasons, words, cleared) in table {
        let fault = if point == "guard::signup" {
            "entity check fault"
        } else {
            words
        };
        fail::cfg(point, &format!("panic({fault})")).expect("a failpoint");
        let (status, answer) = harness.post(route, Scope::Service, body.clone()).await;
        assert_eq!(status, StatusCode::OK, "{point} on {route}: {answer}");
        assert_eq!(field(&answer, name), closed, "{point} on {route}: {answer}");
        assert!(
            answer[reasons].to_string().contains(words),
            "{point} on {route}: {answer}"
        );
        fail::remove(point);
        alive(&harness).await;
        // Cleared, the same request is decided on its merits: the fault was what
        // dropped it.
        let (_, answer) = harness.post(route, Scope::Service, body.clone()).await;
        assert_eq!(
            field(&answer, name),
            cleared,
            "{route} after {point}: {answer}"
        );
    }
    // Decisions store nothing synchronously; the ledger is as it was, and whole.
    assert!(records(&harness).await >= before);
    scenario.teardown();
}

/// A console session for a new reviewer: (cookie, body of the queue page).
async fn console_session(harness: &Harness) -> String {
    use axum::body::{Body, to_bytes};
    use axum::http::{Request, header};
    use tower::ServiceExt;
    let password = "a long enough test password";
    let user = guardrail_server::new_user(
        "fault-reviewer",
        Scope::Reviewer,
        password,
        common::unix_now(),
        "test",
    )
    .expect("a user");
    let seq = harness.service.append(vec![user]).await.expect("stored")[0].seq();
    assert!(
        harness
            .service
            .wait_folded(seq, Duration::from_secs(10))
            .await
    );
    let call = |method: &'static str, path: &'static str, cookie: String, form: String| {
        let service = harness.service.clone();
        async move {
            let mut request = Request::builder().method(method).uri(path);
            if !cookie.is_empty() {
                request = request.header(header::COOKIE, cookie);
            }
            if method == "POST" {
                request = request.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            }
            let response = common::router(service)
                .oneshot(request.body(Body::from(form)).expect("a request"))
                .await
                .expect("an answer");
            let cookies: Vec<String> = response
                .headers()
                .get_all(header::SET_COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok().map(str::to_string))
                .collect();
            let body = to_bytes(response.into_body(), 16 << 20)
                .await
                .expect("a body");
            (cookies, String::from_utf8_lossy(&body).into_owned())
        }
    };
    let (_, form) = call("GET", "/login", String::new(), String::new()).await;
    let marker = "name=\"csrf\" value=\"";
    let at = form.find(marker).expect("a login form") + marker.len();
    let csrf: String = form[at..].chars().take(64).collect();
    let (cookies, _) = call(
        "POST",
        "/login",
        format!("guardrail_login_csrf={csrf}"),
        format!(
            "username=fault-reviewer&password={}&csrf={csrf}",
            password.replace(' ', "+")
        ),
    )
    .await;
    cookies
        .iter()
        .find(|c| c.starts_with("guardrail_session="))
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_whose_view_cannot_be_recorded_is_not_shown() {
    use axum::body::{Body, to_bytes};
    use axum::http::{Request, header};
    use tower::ServiceExt;
    let scenario = FailScenario::setup();
    let harness = Harness::start(ServeConfig::default()).await;
    harness.ready().await;
    let text = "a report text only its case page shows";
    let (status, report) = harness
        .post(
            "/v1/reports",
            Scope::Service,
            json!({"client_key": "k-fault", "reporter": "101", "subject": {"account": "105"}, "category": "spam", "text": text}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{report}");
    let id = report["id"].as_str().expect("an id").to_string();
    let cookie = console_session(&harness).await;
    let view = || {
        let request = Request::builder()
            .uri(format!("/cases/{id}"))
            .header(header::COOKIE, cookie.clone())
            .body(Body::empty())
            .expect("a request");
        let service = harness.service.clone();
        async move {
            let response = common::router(service)
                .oneshot(request)
                .await
                .expect("an answer");
            let status = response.status();
            let body = to_bytes(response.into_body(), 16 << 20)
                .await
                .expect("a body");
            (status, String::from_utf8_lossy(&body).into_owned())
        }
    };
    let views = || {
        harness
            .service
            .ledger()
            .map_or(0, |s| s.evidence_views.len())
    };

    fail::cfg("store::append", "return(full)").expect("a failpoint");
    let (status, page) = view().await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{page}");
    assert!(page.contains("could not be recorded"), "{page}");
    assert!(!page.contains(text), "the evidence was shown unrecorded");
    assert_eq!(views(), 0);
    alive(&harness).await;

    fail::remove("store::append");
    let (status, page) = view().await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains(text), "{page}");
    assert_eq!(views(), 1, "the view was recorded before it was shown");
    scenario.teardown();
}
