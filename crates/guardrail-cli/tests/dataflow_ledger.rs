//! `guardrail dataflow map --db URL --follow`: the dataflow map follows a ledger. Most of a
//! generated world is stored; the follower maps it; the rest arrives while it runs; its map
//! then lists the same network members (to within 1%) as a fresh map of the whole ledger
//! by a 2-process loopback cluster, and its round lines say which sequence each round
//! reached.

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::{BINARY, Dir, guardrail};
use guardrail_adapter::platform_policy_toml;
use guardrail_ledger::WORLD_EPOCH;
use guardrail_ledger::event::{Event, Payload, PolicyPublished};
use guardrail_ledger::ingest::world_events;
use guardrail_sim::vocabulary::BANNED_BASES;
use guardrail_sim::{WorldConfig, generate};
use guardrail_store::{DbUrl, Store, StoreOptions};

/// Accounts of a map JSON scored as network members (`CONFIDENT_SCORE`, 3).
fn members(map: &serde_json::Value) -> HashSet<String> {
    map["suspects"]
        .as_array()
        .expect("suspects")
        .iter()
        .filter(|s| s["score"].as_f64().is_some_and(|score| score >= 3.0))
        .map(|s| s["account"].as_str().expect("account").to_string())
        .collect()
}

#[test]
fn a_follower_keeps_the_map_current_as_the_ledger_grows() {
    let dir = Dir::new("dataflow-follow");
    let db = dir.join("ledger.db");
    let url = DbUrl::parse(db.to_str().expect("utf-8 path")).expect("url");
    let (world, _) = generate(&WorldConfig::default().scaled_to(2_000), 7);
    // The world's text policy first, as `world ingest` stores it: its banned terms seed
    // the map.
    let mut events = vec![Event::new(
        "policy-published:world",
        WORLD_EPOCH,
        Payload::PolicyPublished(PolicyPublished {
            version: 1,
            toml: platform_policy_toml(&BANNED_BASES),
            actor: "test".into(),
        }),
    )];
    events.extend(world_events(&world));
    let head = events.len() * 4 / 5;
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let store = runtime
        .block_on(Store::open(&url, StoreOptions::default()))
        .expect("store");
    runtime
        .block_on(store.append(events[..head].to_vec()))
        .expect("first part stored");

    let output = dir.join("map.json");
    let mut follower = Command::new(BINARY)
        .args(["dataflow", "map", "--db", db.to_str().expect("utf-8")])
        .args([
            "--follow",
            "--interval",
            "0.1",
            "--rounds",
            "1",
            "--budget",
            "100000",
        ])
        .arg("--output")
        .arg(&output)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("follower starts");
    let mut lines = BufReader::new(follower.stdout.take().expect("stdout")).lines();
    let mut next_round = || -> serde_json::Value {
        let line = lines
            .next()
            .expect("a round line")
            .expect("readable stdout");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("round line {line:?}: {e}"))
    };
    let first = next_round();
    assert_eq!(first["round"], 0, "{first}");
    assert_eq!(first["seq"], head as u64, "{first}");
    let before: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&output).expect("map written")).expect("map JSON");

    runtime
        .block_on(store.append(events[head..].to_vec()))
        .expect("the rest stored");
    let second = next_round();
    assert_eq!(second["round"], 1, "{second}");
    assert_eq!(second["seq"], events.len() as u64, "{second}");
    assert_eq!(second["events"], (events.len() - head) as u64, "{second}");
    assert!(
        second["scores_changed"].as_u64().is_some_and(|n| n > 0),
        "{second}"
    );
    let status = follower.wait().expect("follower exits");
    assert!(status.success(), "follower: {status}");
    let followed: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&output).expect("map written")).expect("map JSON");
    assert_ne!(members(&before), members(&followed), "the map moved");

    let fresh = guardrail(&[
        "dataflow",
        "map",
        "--db",
        db.to_str().expect("utf-8"),
        "--processes",
        "2",
        "--budget",
        "100000",
        "--json",
    ])
    .ok()
    .json();
    let (ours, theirs) = (members(&followed), members(&fresh));
    assert!(!theirs.is_empty());
    let shared = ours.intersection(&theirs).count();
    assert!(
        shared as f64 >= 0.99 * theirs.len() as f64
            && ours.len() as f64 <= 1.01 * theirs.len() as f64,
        "followed {} members, fresh {}, shared {shared}",
        ours.len(),
        theirs.len()
    );
    assert_eq!(followed["seeds"], fresh["seeds"], "seeds");
}
