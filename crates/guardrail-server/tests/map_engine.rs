//! The dataflow engine behind re-maps (`guardrail serve --map-engine dataflow`): the
//! dataflow follows every event the service folds, and a re-map publishes its map. Here a
//! service on each engine gets the same events after it started, and both re-map: the new
//! seller (a blocked bio) and the accounts that reach out to sellers are on both maps,
//! with the same seeds and the same network members, and decisions read the new scores.

mod common;

use axum::http::StatusCode;
use common::{Harness, Scope, ServeConfig, T0};
use guardrail_server::map_engine::MapEngine;
use serde_json::{Value, json};

/// Events after the start: a second seller, and accounts that follow and message both.
fn later_events() -> Value {
    let mut events = vec![
        json!({"id": "n1", "type": "account_created", "at": T0 + 20, "account": "201", "handle": "seller_y", "declared_age": 33, "bio": "mnsfw trades"}),
    ];
    for (index, buyer) in ["202", "203", "204"].iter().enumerate() {
        events.push(json!({"id": format!("b{index}"), "type": "account_created", "at": T0 + 21, "account": buyer, "handle": format!("buyer_{index}"), "declared_age": 40, "bio": "hello"}));
        for seller in ["105", "201"] {
            events.push(json!({"id": format!("f{index}-{seller}"), "type": "follow", "at": T0 + 22, "account": buyer, "target": seller}));
            events.push(json!({"id": format!("v{index}-{seller}"), "type": "view", "at": T0 + 22, "account": buyer, "target": seller}));
        }
    }
    // A follow taken back: on neither map.
    events.push(
        json!({"id": "f-back", "type": "follow", "at": T0 + 23, "account": "101", "target": "201"}),
    );
    events.push(json!({"id": "u-back", "type": "unfollow", "at": T0 + 24, "account": "101", "target": "201"}));
    Value::Array(events)
}

async fn remapped_map(engine: MapEngine) -> (Value, Value) {
    let h = Harness::start(ServeConfig {
        map_engine: engine,
        ..ServeConfig::default()
    })
    .await;
    h.ready().await;
    let (status, stored) = h.post("/v1/events", Scope::Service, later_events()).await;
    assert_eq!(status, StatusCode::OK, "{stored}");
    let (status, remapped) = h
        .call("POST", "/v1/admin/remap", Some(Scope::Admin), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{engine:?}: {remapped}");
    let (status, map) = h
        .call("GET", "/v1/network/map", Some(Scope::Investigator), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{map}");
    let (status, risk) = h
        .call(
            "GET",
            "/v1/accounts/202/risk",
            Some(Scope::Investigator),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{risk}");
    (map, risk)
}

fn members(map: &Value) -> Vec<String> {
    let mut members: Vec<String> = map["suspects"]
        .as_array()
        .map(|suspects| {
            suspects
                .iter()
                .filter(|s| s["score"].as_f64().is_some_and(|score| score >= 3.0))
                .filter_map(|s| s["account"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    members.sort();
    members
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dataflow_engine_follows_the_ledger_and_maps_what_the_single_engine_maps() {
    let (single, single_risk) = remapped_map(MapEngine::Single).await;
    let (dataflow, dataflow_risk) = remapped_map(MapEngine::Dataflow { workers: 1 }).await;
    // The seller created after the start is a seed of both: the dataflow saw its creation.
    assert_eq!(single["seeds"], json!(["105", "201"]), "{single}");
    assert_eq!(dataflow["seeds"], single["seeds"], "{dataflow}");
    let (ours, theirs) = (members(&dataflow), members(&single));
    assert!(
        theirs.iter().any(|m| m == "202"),
        "a buyer reaching out to both sellers is a member: {single}"
    );
    assert_eq!(ours, theirs, "members differ:\n{dataflow}\n{single}");
    // Decisions and the account page read the new map.
    assert_eq!(
        dataflow_risk["network"], single_risk["network"],
        "{dataflow_risk}"
    );
}
