//! A generated world through the ledger: every public record survives ingestion (under the
//! platform ids the ingest gives them), and derived state from the ledger is the same
//! whether it is re-mapped in place or rebuilt from scratch. (Here because generating
//! worlds needs the simulator.)

use std::collections::HashMap;

use guardrail_adapter::{Deriver, platform_policy};
use guardrail_ledger::ingest::{WORLD_EPOCH, world_events};
use guardrail_ledger::state::LedgerState;
use guardrail_sim::vocabulary::BANNED_BASES;
use guardrail_sim::{WorldConfig, generate};
use guardrail_types::{AccountId, PostId};

fn small() -> WorldConfig {
    WorldConfig::default().scaled_to(2_000)
}

#[test]
fn ingesting_a_world_keeps_every_public_record() {
    let (world, _) = generate(&small(), 4);
    let events = world_events(&world);
    // Time order, and every event id distinct.
    assert!(events.windows(2).all(|w| w[0].at <= w[1].at));
    assert!(events.first().is_some_and(|e| e.at == WORLD_EPOCH));
    let mut ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), events.len());

    let state = LedgerState::from_events(&events);
    assert!(
        state.pending.is_empty(),
        "every reference resolves in the end"
    );
    let folded = state.world();
    // Ledger row -> world id, by the platform ids the ingest gave.
    let original: Vec<AccountId> = state
        .accounts
        .iter()
        .map(|a| a.external.parse().expect("world ids are numbers"))
        .collect();
    assert_eq!(folded.accounts.len(), world.accounts.len());
    for (row, account) in folded.accounts.iter().enumerate() {
        let source = &world.accounts[original[row].index()];
        assert_eq!(
            (
                &account.handle,
                account.declared_age,
                account.gender,
                &account.bio,
                &account.interests,
                account.business,
                &account.country,
                account.created_at
            ),
            (
                &source.handle,
                source.declared_age,
                source.gender,
                &source.bio,
                &source.interests,
                source.business,
                &source.country,
                source.created_at
            ),
            "account {}",
            source.id
        );
    }
    let back = |id: AccountId| original[id.index()];
    let post_original: HashMap<PostId, PostId> = state
        .posts
        .iter()
        .enumerate()
        .map(|(row, p)| {
            let id: u32 = p.external.trim_start_matches("p-").parse().expect("p-<id>");
            (PostId(row as u32), PostId(id))
        })
        .collect();
    for post in &folded.posts {
        let source = &world.posts[post_original[&post.id].index()];
        assert_eq!(back(post.author), source.author);
        assert_eq!(
            (
                &post.hashtags,
                &post.caption,
                post.features_minor,
                post.created_at
            ),
            (
                &source.hashtags,
                &source.caption,
                source.features_minor,
                source.created_at
            )
        );
    }
    type Table<'a> = (
        &'a [guardrail_world::AccountEdge],
        &'a [guardrail_world::AccountEdge],
    );
    let tables: [(&str, Table); 4] = [
        ("follows", (&folded.follows, &world.follows)),
        ("views", (&folded.views, &world.views)),
        ("reports", (&folded.reports, &world.reports)),
        ("blocks", (&folded.blocks, &world.blocks)),
    ];
    for (name, (got, want)) in tables {
        let mut got: Vec<(AccountId, AccountId, u32)> = got
            .iter()
            .map(|e| (back(e.src), back(e.dst), e.at.0))
            .collect();
        let mut want: Vec<(AccountId, AccountId, u32)> =
            want.iter().map(|e| (e.src, e.dst, e.at.0)).collect();
        got.sort_unstable();
        want.sort_unstable();
        assert!(got == want, "{name} differ after ingestion");
    }
    for (name, got, want) in [
        ("likes", &folded.likes, &world.likes),
        ("comments", &folded.comments, &world.comments),
    ] {
        let mut got: Vec<(AccountId, PostId, u32)> = got
            .iter()
            .map(|e| (back(e.account), post_original[&e.post], e.at.0))
            .collect();
        let mut want: Vec<(AccountId, PostId, u32)> =
            want.iter().map(|e| (e.account, e.post, e.at.0)).collect();
        got.sort_unstable();
        want.sort_unstable();
        assert!(got == want, "{name} differ after ingestion");
    }
    assert_eq!(folded.searches.len(), world.searches.len());
    // Identifiers arrive with each account's creation and come back as the same rows.
    let mut got: Vec<(AccountId, &str, &str)> = folded
        .identifiers
        .iter()
        .map(|r| (back(r.account), r.kind.as_str(), r.value.as_str()))
        .collect();
    let mut want: Vec<(AccountId, &str, &str)> = world
        .identifiers
        .iter()
        .map(|r| (r.account, r.kind.as_str(), r.value.as_str()))
        .collect();
    assert!(!want.is_empty());
    got.sort_unstable();
    want.sort_unstable();
    assert!(got == want, "identifiers differ after ingestion");
}

#[test]
fn a_remap_in_place_equals_a_rebuild_from_the_ledger() {
    let (world, _) = generate(&small(), 5);
    let policy = platform_policy(&BANNED_BASES).expect("platform policy");
    let events = world_events(&world);
    let half = events.len() / 2;
    // Derived state follows the first half as it arrives, then the rest, then re-maps.
    let mut state = LedgerState::from_events(&events[..half]);
    let mut live = Deriver::from_ledger(&state, &policy, None);
    for (index, event) in events[half..].iter().enumerate() {
        let folded = state.fold((half + index) as u64 + 1, event);
        live.follow(&state, &folded);
    }
    // Before the re-map, accounts created after the map have no network signal yet.
    let created_late = live
        .snapshot()
        .signals()
        .filter(|s| s.network.is_none())
        .count();
    assert!(
        created_late > 0,
        "backups created on the last day wait for the map"
    );
    let mut remapped = live.clone();
    remapped.remap(&state);
    let rebuilt = Deriver::from_ledger(&state, &policy, None);
    let differences = remapped.snapshot().differences(&rebuilt.snapshot());
    assert!(differences.is_empty(), "{}", differences.join("\n"));
    let (remapped_map, rebuilt_map) = (remapped.snapshot(), rebuilt.snapshot());
    let suspects = |s: &guardrail_adapter::Snapshot| {
        s.map()
            .map(|m| {
                m.suspects
                    .iter()
                    .map(|x| (x.node, x.role))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    assert!(!suspects(&remapped_map).is_empty());
    assert_eq!(suspects(&remapped_map), suspects(&rebuilt_map));
}
