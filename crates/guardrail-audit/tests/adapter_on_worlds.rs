//! The adapter's guard on generated worlds: it fails closed without a map and on accounts
//! it has never seen, takedowns reach the backups named in bios, coined variants are caught
//! by the company they keep, and the guard is thread-safe with snapshots swapped under
//! readers. (These tests live here because generating worlds needs the simulator, which
//! the adapter may not depend on.)

use std::sync::Arc;

use guardrail_adapter::{Deriver, Guard, MemoryLog, NoLog, platform_policy, replay_check};
use guardrail_policy::{Action, RuleSet};
use guardrail_sim::vocabulary::{BANNED_BASES, variants};
use guardrail_sim::{WorldConfig, generate};
use guardrail_text::{Policy, TextDecision, TextPlace};
use guardrail_types::{AccountId, Day, Surface};
use guardrail_world::World;

fn small_world() -> World {
    generate(&WorldConfig::default().scaled_to(1_500), 7).0
}

fn some_adult(world: &World) -> AccountId {
    world
        .accounts
        .iter()
        .find(|a| a.declared_age >= 18)
        .map_or(AccountId(0), |a| a.id)
}

#[test]
fn without_seeds_the_map_is_unknown_and_decisions_fail_closed() {
    let world = small_world();
    // A policy that matches nothing confirms no seed: the map cannot start.
    let policy = Policy::from_toml("", "empty.toml").expect("empty policy");
    let guard = Guard::build(&world, policy, RuleSet::default_rules(), Arc::new(NoLog));
    assert!(guard.snapshot().map().is_err());
    let viewer = some_adult(&world);
    let candidate = AccountId((viewer.0 + 1) % world.accounts.len() as u32);
    let verdict = guard.decide_account(Surface::AccountSuggestions, Some(viewer), candidate);
    assert_eq!(verdict.action, Action::Drop, "{verdict:?}");
    assert!(verdict.fail_closed, "{verdict:?}");
    assert!(
        verdict.missing.iter().any(|m| m.contains("network")),
        "{verdict:?}"
    );
    // An account the layer has never seen is unknown as well.
    let unseen = guard.decide_account(Surface::Feed, Some(viewer), AccountId(9_999_999));
    assert_eq!(unseen.action, Action::Drop);
    assert!(unseen.fail_closed);
}

#[test]
fn takedown_reaches_backups_named_in_bios_and_is_recorded() {
    let world = small_world();
    let policy = platform_policy(&BANNED_BASES).expect("platform policy");
    let log = Arc::new(MemoryLog::new(1_000));
    let guard = Guard::build(&world, policy, RuleSet::default_rules(), log.clone());
    assert!(guard.snapshot().map().is_ok_and(|m| !m.suspects.is_empty()));
    // A bio naming a backup handle that belongs to an account of this world.
    let snapshot = guard.snapshot();
    let (original, backup) = world
        .accounts
        .iter()
        .find_map(|a| {
            let handle = a.bio.split("backup @").nth(1)?.split_whitespace().next()?;
            Some((a.id, snapshot.account_by_name(handle)?))
        })
        .expect("a seller naming a backup in its bio");
    assert_eq!(snapshot.signals_of(backup).entity_actioned, Some(false));
    let before = snapshot.version();
    guard.take_down(&[original], Day(30));
    let after = guard.snapshot();
    assert_eq!(
        after.version(),
        before + 1,
        "a takedown publishes a new version"
    );
    assert_eq!(after.signals_of(original).flagged, Some(true));
    assert_eq!(after.signals_of(backup).entity_actioned, Some(true));
    // The snapshot loaded before the takedown is unchanged: readers never see it move.
    assert_eq!(snapshot.signals_of(backup).entity_actioned, Some(false));
    let verdict = guard.decide_account(Surface::AccountSuggestions, None, backup);
    assert_eq!(verdict.action, Action::Drop);
    let records = log.records();
    assert!(records.iter().all(|r| r.snapshot == after.version()));
    let check = replay_check(guard.engine(), &records);
    assert!(check.recorded >= 1);
    assert_eq!((check.shadow_mismatches, check.backfill_mismatches), (0, 0));
}

#[test]
fn coined_variants_are_caught_by_their_company_and_nothing_else_is() {
    let world = generate(&WorldConfig::default(), 3).0;
    let policy = platform_policy(&BANNED_BASES).expect("platform policy");
    let guard = Guard::build(
        &world,
        policy.clone(),
        RuleSet::default_rules(),
        Arc::new(NoLog),
    );
    let coined: Vec<String> = BANNED_BASES
        .iter()
        .flat_map(|base| variants(base))
        .filter(|(_, pattern)| *pattern == "coined")
        .map(|(tag, _)| tag)
        .collect();
    assert!(!coined.is_empty());
    let snapshot = guard.snapshot();
    for tag in &coined {
        // The text guard cannot reach it; variant clusters restrict it.
        let text = guardrail_text::check(&policy, TextPlace::Hashtag, tag);
        assert_eq!(text.decision, TextDecision::Allow, "{tag}");
        assert!(snapshot.variant_restricted(tag), "{tag} not restricted");
        let verdict = guard.decide_text(Surface::Autocomplete, &tag[..3], tag);
        assert_eq!(verdict.action, Action::Drop, "{tag}");
    }
    // Every restriction is a coined variant: no benign tag travels with blocked ones
    // often enough to be caught.
    for tag in snapshot.variant_review_queue() {
        assert!(coined.contains(&tag), "benign tag {tag} restricted");
    }
}

#[test]
fn the_guard_decides_on_many_threads_while_snapshots_swap() {
    let world = small_world();
    let policy = platform_policy(&BANNED_BASES).expect("platform policy");
    let guard = Guard::build(
        &world,
        policy.clone(),
        RuleSet::default_rules(),
        Arc::new(NoLog),
    );
    let fresh = Deriver::from_world(&world, &policy);
    let viewer = some_adult(&world);
    let expected: Vec<Action> = (0..200)
        .map(|c| {
            guard
                .decide_account(Surface::AccountSuggestions, Some(viewer), AccountId(c))
                .action
        })
        .collect();
    std::thread::scope(|scope| {
        for _ in 0..3 {
            scope.spawn(|| {
                for round in 0..5 {
                    for (c, want) in expected.iter().enumerate() {
                        let view = guard.view();
                        let verdict = view.decide_account(
                            Surface::AccountSuggestions,
                            Some(viewer),
                            AccountId(c as u32),
                        );
                        assert_eq!(verdict.action, *want, "round {round} candidate {c}");
                    }
                }
            });
        }
        scope.spawn(|| {
            // The same derived state, republished again and again under the readers.
            for _ in 0..20 {
                guard.replace(fresh.clone());
            }
        });
    });
    assert_eq!(guard.stats().decisions, 200 + 3 * 5 * 200);
}
