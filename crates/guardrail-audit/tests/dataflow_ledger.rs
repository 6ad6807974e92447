//! The ledger feed against a rebuild: a generated world's events (plus the cases a world
//! never produces: unfollows, repeated follows, events about accounts not created yet, a
//! bio rewritten, reports and blocks by minors, a self-follow), folded after a start from
//! part of the ledger, must leave the map's inputs exactly as `map_input` builds them from
//! the whole ledger's state. Then a dataflow session fed those updates maps the same
//! suspects as the single-node engine on the rebuilt input. Here, not in
//! `guardrail-dataflow`, because generated worlds come from `guardrail-sim`, which production
//! crates may not link; nothing here reads truth.

use std::collections::{HashMap, HashSet};

use guardrail_adapter::{AccountText, platform_policy};
use guardrail_dataflow::Update;
use guardrail_dataflow::ledger::{LedgerFeed, LedgerStart};
use guardrail_dataflow::{ClusterConfig, DataflowConfig, MapSession};
use guardrail_graph::EdgeKind;
use guardrail_graph::features::{AccountAttributes, TextSignal};
use guardrail_graph::map::{CONFIDENT_SCORE, MapConfig, build_map};
use guardrail_ledger::event::Event;
use guardrail_ledger::ingest::world_events;
use guardrail_ledger::state::LedgerState;
use guardrail_sim::vocabulary::BANNED_BASES;
use guardrail_sim::{WorldConfig, generate};
use guardrail_types::AccountId;

fn event(json: &str) -> Event {
    Event::from_body(json.as_bytes()).expect("a valid test event")
}

/// What a generated world never does, at the end of its history (`at` past every event).
fn unusual_events(at: u64) -> Vec<Event> {
    let banned = BANNED_BASES[0];
    [
        // A follow that exists already, then an unfollow, a re-follow and a second unfollow.
        format!(r#"{{"id":"x1","type":"follow","at":{at},"account":"1","target":"2"}}"#),
        format!(r#"{{"id":"x2","type":"follow","at":{at},"account":"1","target":"2"}}"#),
        format!(r#"{{"id":"x3","type":"unfollow","at":{at},"account":"1","target":"2"}}"#),
        format!(r#"{{"id":"x4","type":"unfollow","at":{at},"account":"1","target":"2"}}"#),
        format!(r#"{{"id":"x5","type":"follow","at":{at},"account":"3","target":"4"}}"#),
        format!(r#"{{"id":"x6","type":"unfollow","at":{at},"account":"3","target":"4"}}"#),
        // A self-follow and a self-view: no edge.
        format!(r#"{{"id":"x7","type":"follow","at":{at},"account":"5","target":"5"}}"#),
        format!(r#"{{"id":"x8","type":"view","at":{at},"account":"5","target":"5"}}"#),
        // Events about an account not created yet: they wait, then fold with it.
        format!(r#"{{"id":"x9","type":"follow","at":{at},"account":"late","target":"1"}}"#),
        format!(r#"{{"id":"x10","type":"follow","at":{at},"account":"2","target":"late"}}"#),
        format!(r#"{{"id":"x11","type":"unfollow","at":{at},"account":"2","target":"late"}}"#),
        format!(
            r#"{{"id":"x12","type":"post","at":{at},"account":"late","post":"late-post","text":"hello","hashtags":["{banned}cp"],"features_minor":true}}"#
        ),
        format!(r#"{{"id":"x13","type":"like","at":{at},"account":"3","post":"late-post"}}"#),
        format!(r#"{{"id":"x14","type":"search","at":{at},"account":"late","query":"{banned}"}}"#),
        format!(
            r#"{{"id":"x15","type":"account_created","at":{at},"account":"late","handle":"latecomer","declared_age":15,"bio":"hi"}}"#
        ),
        // A minor reports and blocks; the late account (a minor) too.
        format!(r#"{{"id":"x16","type":"report_account","at":{at},"account":"late","target":"6"}}"#),
        format!(r#"{{"id":"x17","type":"block","at":{at},"account":"late","target":"6"}}"#),
        // A bio rewritten to a blocked one, and back.
        format!(
            r#"{{"id":"x18","type":"profile_updated","at":{at},"account":"7","bio":"menu {banned} boys"}}"#
        ),
        format!(r#"{{"id":"x19","type":"profile_updated","at":{at},"account":"8","bio":"{banned}"}}"#),
        format!(r#"{{"id":"x20","type":"profile_updated","at":{at},"account":"8","bio":"gardening"}}"#),
        format!(r#"{{"id":"x21","type":"comment","at":{at},"account":"9","post":"late-post","text":"ok"}}"#),
    ]
    .iter()
    .map(|json| event(json))
    .collect()
}

fn ledger(accounts: u32, seed: u64) -> Vec<Event> {
    let (world, _) = generate(&WorldConfig::default().scaled_to(accounts), seed);
    let mut events = world_events(&world);
    let end = events.last().map_or(0, |e| e.at) + 1;
    events.extend(unusual_events(end));
    events
}

#[test]
fn the_feeds_updates_sum_to_the_rebuilds_input() {
    let policy = platform_policy(&BANNED_BASES).expect("platform policy");
    let events = ledger(1_500, 3);
    for share in [0.0, 0.5, 0.9] {
        let head = (events.len() as f64 * share) as usize;
        let mut state = LedgerState::from_events(&events[..head]);
        let (mut feed, start) = LedgerFeed::start(&state, &policy);
        let mut summed = SummedInput::of(&start);
        for (index, event) in events[head..].iter().enumerate() {
            let updates = feed.fold(&mut state, (head + index) as u64 + 1, event);
            summed.apply(&updates);
        }
        let (_, rebuilt) = LedgerFeed::start(&state, &policy);
        let want = SummedInput::of(&rebuilt);
        assert_eq!(summed.attributes.len(), want.attributes.len(), "accounts");
        let differing: Vec<usize> = (0..want.attributes.len())
            .filter(|&i| summed.attributes[i] != want.attributes[i])
            .take(5)
            .collect();
        assert!(
            differing.is_empty(),
            "attributes differ at {differing:?} (start at {share})"
        );
        let differing: Vec<usize> = (0..want.text.len())
            .filter(|&i| summed.text[i] != want.text[i])
            .take(5)
            .collect();
        assert!(
            differing.is_empty(),
            "text differs at {differing:?} (start at {share})"
        );
        let extra: Vec<_> = summed
            .edges
            .iter()
            .filter(|(k, v)| want.edges.get(k) != Some(v))
            .take(5)
            .collect();
        let missing: Vec<_> = want
            .edges
            .iter()
            .filter(|(k, v)| summed.edges.get(k) != Some(v))
            .take(5)
            .collect();
        assert!(
            extra.is_empty() && missing.is_empty(),
            "edges differ (start at {share}): fed only {extra:?}, rebuild only {missing:?}"
        );
        // The unusual events did reach the map: the late account, its post and follows.
        let late = state.account_id("late").expect("late account folded");
        assert!(want.attributes[late.index()].minor);
        assert!(want.attributes[late.index()].features_minors);
        assert!(want.text[late.index()].strongest() > Default::default());
    }
}

#[test]
fn a_session_following_the_ledger_maps_what_the_engine_maps_on_a_rebuild() {
    let policy = platform_policy(&BANNED_BASES).expect("platform policy");
    let events = ledger(2_000, 5);
    let head = events.len() * 3 / 4;
    let mut state = LedgerState::from_events(&events[..head]);
    let (mut feed, start) = LedgerFeed::start(&state, &policy);
    let config = DataflowConfig::from(MapConfig {
        budget: usize::MAX,
        ..MapConfig::default()
    });
    let mut session =
        MapSession::start(&start.input, &start.text, &config, &ClusterConfig::local(1))
            .expect("session");
    let mut batch = Vec::new();
    for (index, event) in events[head..].iter().enumerate() {
        batch.extend(feed.fold(&mut state, (head + index) as u64 + 1, event));
        if batch.len() >= 2_000 {
            session.apply(&batch).expect("round");
            batch.clear();
        }
    }
    session.apply(&batch).expect("last round");
    let followed = session.map().expect("map").expect("driver");
    session.finish();

    let (_, rebuilt) = LedgerFeed::start(&state, &policy);
    let mut input = rebuilt.input.clone();
    input.seeds = rebuilt
        .text
        .blocked_accounts()
        .into_iter()
        .map(|a| a.0)
        .collect();
    let engine = build_map(
        &input,
        &rebuilt.text,
        &MapConfig {
            budget: usize::MAX,
            ..MapConfig::default()
        },
    )
    .expect("engine map");
    let members = |map: &guardrail_graph::map::NetworkMap| -> HashSet<u32> {
        map.suspects
            .iter()
            .filter(|s| s.score >= CONFIDENT_SCORE)
            .map(|s| s.node)
            .collect()
    };
    let (ours, theirs) = (members(&followed), members(&engine));
    assert!(!theirs.is_empty());
    let shared = ours.intersection(&theirs).count();
    assert!(
        shared as f64 >= 0.99 * theirs.len() as f64
            && ours.len() as f64 <= 1.01 * theirs.len() as f64,
        "followed {} members, the engine {}, shared {shared}",
        ours.len(),
        theirs.len()
    );
    let mut seeds_followed = followed.seeds.clone();
    let mut seeds_engine = engine.seeds.clone();
    seeds_followed.sort();
    seeds_engine.sort();
    assert_eq!(seeds_followed, seeds_engine, "seeds");
}

/// The map's inputs as a feed's updates leave them: edge weights by `(source, target,
/// kind)`, attributes and text per account: a start and its updates summed into one, to
/// compare with a rebuild's.
#[derive(Debug, Clone, Default, PartialEq)]
struct SummedInput {
    /// Positive edge weights.
    edges: HashMap<(u32, u32, EdgeKind), i64>,
    /// Attributes per account.
    attributes: Vec<AccountAttributes>,
    /// Text per account.
    text: Vec<TextSignal>,
}

impl SummedInput {
    /// The inputs of a start.
    fn of(start: &LedgerStart) -> SummedInput {
        let graph = &start.input.graph;
        let mut edges = HashMap::new();
        for source in 0..graph.node_count() as u32 {
            for edge in graph.out_edges(source) {
                *edges.entry((source, edge.node, edge.kind)).or_insert(0) += edge.weight as i64;
            }
        }
        let text = (0..graph.node_count() as u32)
            .map(|node| {
                start
                    .text
                    .account(AccountId(node))
                    .map(AccountText::map_signal)
                    .unwrap_or_default()
            })
            .collect();
        SummedInput {
            edges,
            attributes: start.input.accounts.clone(),
            text,
        }
    }

    /// Adds updates.
    fn apply(&mut self, updates: &[Update]) {
        for update in updates {
            match update {
                Update::Edge {
                    source,
                    target,
                    kind,
                    weight,
                } => {
                    let entry = self.edges.entry((*source, *target, *kind)).or_insert(0);
                    *entry += weight;
                    if *entry == 0 {
                        self.edges.remove(&(*source, *target, *kind));
                    }
                }
                Update::Account { node, attributes } => {
                    let index = *node as usize;
                    if self.attributes.len() <= index {
                        self.attributes
                            .resize(index + 1, AccountAttributes::default());
                        self.text.resize(index + 1, TextSignal::default());
                    }
                    self.attributes[index] = *attributes;
                }
                Update::Text { node, signal } => {
                    if let Some(slot) = self.text.get_mut(*node as usize) {
                        *slot = signal.clone();
                    }
                }
                Update::ReviewSeed { .. } => {}
            }
        }
    }
}
