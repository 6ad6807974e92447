//! Ad delivery over HTTP: an ad featuring a minor is never delivered to a risk-flagged
//! viewer (nor to one the ledger does not know), delivery control holds each group near its
//! share of the eligible audience, and the monitor reads out counts and shares only.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::{Value, json};

fn account(id: &str, gender: &str, age: u8, bio: &str) -> Value {
    json!({"id": format!("ad-acct-{id}"), "type": "account_created", "at": T0 + 40, "account": id,
           "handle": format!("fit_{id}"), "declared_age": age, "bio": bio, "gender": gender,
           "interests": ["fitness"]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minor_featuring_ads_skip_risky_viewers_and_delivery_stays_near_the_audience() {
    let h = Harness::start(ServeConfig::default()).await;
    h.ready().await;
    // 20 women and 20 men who like fitness, and one adult whose bio carries a blocked term.
    let mut accounts: Vec<Value> = (0..20)
        .map(|i| account(&format!("w{i}"), "woman", 25 + (i % 10) as u8, "running"))
        .chain((0..20).map(|i| account(&format!("m{i}"), "man", 25 + (i % 10) as u8, "lifting")))
        .collect();
    accounts.push(account("risky", "man", 38, "mnsfw trades"));
    let (status, stored) = h
        .post("/v1/events", Scope::Service, Value::Array(accounts))
        .await;
    assert_eq!(status, StatusCode::OK, "{stored}");
    h.post("/v1/admin/remap", Scope::Admin, json!({})).await;

    let (status, ad) = h
        .post(
            "/v1/ads/child-photo",
            Scope::Service,
            json!({"target_interests": ["fitness"], "declared_features_minor": true}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{ad}");
    assert_eq!(ad["eligible"], 41, "{ad}");
    assert_eq!(ad["features_minor"], true);

    // The risky viewer and an unknown one are excluded with a reason.
    let (status, batch) = h
        .post(
            "/v1/ads/child-photo/deliver",
            Scope::Service,
            json!({"impressions": ["risky", "nobody-999", "w1"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{batch}");
    let decisions = batch["decisions"].as_array().cloned().unwrap_or_default();
    assert_eq!(decisions[0]["deliver"], false, "{batch}");
    assert!(decisions[0]["reason"].is_string(), "{batch}");
    assert_eq!(decisions[1]["deliver"], false, "{batch}");
    assert_eq!(decisions[2]["deliver"], true, "{batch}");

    // A run of men only: the controller stops them well before they take the whole ad.
    let men: Vec<String> = (0..200).map(|i| format!("m{}", i % 20)).collect();
    let (_, batch) = h
        .post(
            "/v1/ads/child-photo/deliver",
            Scope::Service,
            json!({"impressions": men}),
        )
        .await;
    let delivered = batch["delivered"].as_u64().unwrap_or(0);
    assert!(
        delivered > 0 && delivered < 40,
        "men delivered {delivered}: {batch}"
    );

    let (status, read) = h
        .call(
            "GET",
            "/v1/ads/child-photo/monitor",
            Some(Scope::Reviewer),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{read}");
    assert_eq!(read["monitor"]["impressions"], delivered + 1, "{read}");
    assert_eq!(read["monitor"]["eligible"], 41);
    let excluded: u64 = read["excluded"]
        .as_object()
        .map(|m| m.values().filter_map(Value::as_u64).sum())
        .unwrap_or(0);
    assert_eq!(excluded, 2 + 200 - delivered, "{read}");
    for forbidden in ["\"w1\"", "\"m1\"", "fit_"] {
        assert!(!read.to_string().contains(forbidden), "counts only: {read}");
    }

    // A product-only ad without control reaches the risky viewer; unknown ads are 404;
    // a reviewer cannot deliver.
    h.post(
        "/v1/ads/product",
        Scope::Service,
        json!({"target_interests": ["fitness"], "control": false}),
    )
    .await;
    let (_, batch) = h
        .post(
            "/v1/ads/product/deliver",
            Scope::Service,
            json!({"impressions": ["risky"]}),
        )
        .await;
    assert_eq!(batch["decisions"][0]["deliver"], true, "{batch}");
    let (status, _) = h
        .post(
            "/v1/ads/none/deliver",
            Scope::Service,
            json!({"impressions": ["w1"]}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = h
        .post(
            "/v1/ads/product/deliver",
            Scope::Reviewer,
            json!({"impressions": ["w1"]}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
