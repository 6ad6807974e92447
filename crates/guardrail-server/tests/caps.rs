//! Caps on automated enforcement over HTTP: a rule acts up to its hourly cap; the next
//! action trips its circuit breaker (429, an alert in the ledger), every later one is
//! refused while it is open, other rules and people are not affected, and only an admin's
//! reset with a reason lets the rule act again.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_past_its_cap_is_stopped_until_a_person_resets_it() {
    let h = Harness::start(ServeConfig {
        rule_cap_per_hour: 3,
        ..ServeConfig::default()
    })
    .await;
    h.ready().await;
    let act = |rule: Option<&str>| json!({"account": "103", "action": "restrict", "reason": "matched a term", "rule": rule});
    // (rule, scope, expected status)
    let rows: &[(Option<&str>, Scope, StatusCode)] = &[
        (Some("bad-rule"), Scope::Service, StatusCode::CREATED),
        (Some("bad-rule"), Scope::Service, StatusCode::CREATED),
        (Some("bad-rule"), Scope::Service, StatusCode::CREATED),
        // The fourth in the hour trips the breaker; the fifth finds it open.
        (
            Some("bad-rule"),
            Scope::Service,
            StatusCode::TOO_MANY_REQUESTS,
        ),
        (
            Some("bad-rule"),
            Scope::Service,
            StatusCode::TOO_MANY_REQUESTS,
        ),
        // Another rule, and a person, are not stopped.
        (Some("good-rule"), Scope::Service, StatusCode::CREATED),
        (None, Scope::Reviewer, StatusCode::CREATED),
    ];
    for (index, (rule, scope, expected)) in rows.iter().enumerate() {
        let (status, answer) = h.post("/v1/enforcement", *scope, act(*rule)).await;
        assert_eq!(status, *expected, "row {index}: {answer}");
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(answer["error"]["code"], "cap_reached", "{answer}");
        }
    }
    let tripped = h
        .service
        .ledger()
        .map(|s| {
            s.other_alerts
                .iter()
                .filter(|(subject, kind, _)| subject == "rule:bad-rule" && kind == "cap_tripped")
                .count()
        })
        .unwrap_or_default();
    assert_eq!(
        tripped, 1,
        "one alert for the trip, none for refusals while open"
    );

    let reset = "/v1/admin/rules/bad-rule/reset";
    let why = json!({"reason": "the term list no longer matches a common word"});
    assert_eq!(
        h.post(reset, Scope::Reviewer, why.clone()).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        h.post(reset, Scope::Admin, json!({"reason": " "})).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(h.post(reset, Scope::Admin, why).await.0, StatusCode::OK);
    let (status, answer) = h
        .post("/v1/enforcement", Scope::Service, act(Some("bad-rule")))
        .await;
    assert_eq!(status, StatusCode::CREATED, "after the reset: {answer}");
}
