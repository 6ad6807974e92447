//! The ledger is the source of truth: derived state kept up to date event by event equals
//! derived state rebuilt from the ledger, on random event streams (accounts created late,
//! events about accounts not created yet, handle and bio changes, shared identifiers,
//! follows and unfollows, posts with banned and variant tags, takedowns and labels that
//! lapse or are lifted).

use guardrail_adapter::{Deriver, platform_policy};
use guardrail_ledger::event::{
    AccountAction, AccountCreated, EnforcementAction, Event, LabelApplied, LabelExpired, Payload,
    PostAction, PostPublished, ProfileUpdated, SearchMade,
};
use guardrail_ledger::state::LedgerState;
use proptest::prelude::*;

const ACCOUNTS: u8 = 8;
const POSTS: u8 = 8;
const BIOS: [&str; 6] = [
    "coffee and sunsets",
    "backup @h3",
    "pay $quil-1234",
    "pedobait deals",
    "🗺🍕 on chapter 14",
    "mom of a little dance star",
];
const TAGS: [&str; 5] = ["pedobait", "zorbqa", "sunset", "dance", "mnsfw"];
const EMAILS: [&str; 3] = [
    "a@example.invalid",
    "b@example.invalid",
    "A@example.invalid",
];

fn account(i: u8) -> String {
    format!("acct-{i}")
}

fn payload(kind: u8, a: u8, b: u8, c: u8, n: u32) -> Payload {
    let action = || AccountAction {
        account: account(a % ACCOUNTS),
        target: account(b % ACCOUNTS),
    };
    match kind % 16 {
        0 | 1 => Payload::AccountCreated(AccountCreated {
            account: account(a % ACCOUNTS),
            handle: format!("h{}", a % ACCOUNTS),
            declared_age: if b.is_multiple_of(3) { 15 } else { 34 },
            bio: BIOS[usize::from(c) % BIOS.len()].to_string(),
            emails: if c.is_multiple_of(2) {
                vec![EMAILS[usize::from(b) % EMAILS.len()].to_string()]
            } else {
                Vec::new()
            },
            phones: Vec::new(),
            devices: if c.is_multiple_of(5) {
                vec!["device-1".into()]
            } else {
                Vec::new()
            },
            payment_handles: Vec::new(),
            gender: None,
            country: None,
            interests: Vec::new(),
            business: false,
        }),
        2 => Payload::ProfileUpdated(ProfileUpdated {
            account: account(a % ACCOUNTS),
            // Handles are never reused by another account.
            handle: (b.is_multiple_of(2)).then(|| format!("h{}v{n}", a % ACCOUNTS)),
            bio: (c.is_multiple_of(2)).then(|| BIOS[usize::from(c) % BIOS.len()].to_string()),
            emails: if b.is_multiple_of(3) {
                vec![EMAILS[usize::from(c) % EMAILS.len()].to_string()]
            } else {
                Vec::new()
            },
            phones: Vec::new(),
            devices: Vec::new(),
            payment_handles: Vec::new(),
        }),
        3 | 4 => Payload::Follow(action()),
        5 => Payload::Unfollow(action()),
        6 => Payload::Block(action()),
        7 => Payload::ReportAccount(action()),
        8 => Payload::View(action()),
        9 | 10 => Payload::Post(PostPublished {
            account: account(a % ACCOUNTS),
            post: format!("post-{}", b % POSTS),
            text: BIOS[usize::from(c) % BIOS.len()].to_string(),
            hashtags: vec![
                TAGS[usize::from(c) % TAGS.len()].to_string(),
                TAGS[usize::from(b) % TAGS.len()].to_string(),
            ],
            media_hashes: Vec::new(),
            features_minor: Some(c.is_multiple_of(4)),
        }),
        11 => Payload::Like(PostAction {
            account: account(a % ACCOUNTS),
            post: format!("post-{}", b % POSTS),
            text: String::new(),
        }),
        12 => Payload::Search(SearchMade {
            account: account(a % ACCOUNTS),
            query: TAGS[usize::from(c) % TAGS.len()].to_string(),
        }),
        13 => Payload::Enforcement(EnforcementAction {
            account: account(a % ACCOUNTS),
            action: "takedown".into(),
            actor: "reviewer-1".into(),
            reason: "test".into(),
            rule: None,
        }),
        14 => Payload::LabelApplied(LabelApplied {
            account: account(a % ACCOUNTS),
            label: format!("label-{}", b % 2),
            reason: "test".into(),
            actor: "reviewer-1".into(),
            expires_at: (c.is_multiple_of(2)).then_some(1_764_400_000 + u64::from(c) * 500),
        }),
        _ => Payload::LabelExpired(LabelExpired {
            account: account(a % ACCOUNTS),
            label: format!("label-{}", b % 2),
            actor: "reviewer-1".into(),
            reason: "test".into(),
        }),
    }
}

fn events() -> impl Strategy<Value = Vec<Event>> {
    proptest::collection::vec(
        (
            any::<u8>(),
            any::<u8>(),
            any::<u8>(),
            any::<u8>(),
            0u64..400,
            any::<bool>(),
        ),
        0..90,
    )
    .prop_map(|rows| {
        let mut at = 1_764_400_000u64;
        rows.into_iter()
            .enumerate()
            .map(|(n, (kind, a, b, c, step, late))| {
                // Mostly forward in time; now and then an event from the past.
                at += step;
                let when = if late { at.saturating_sub(3_000) } else { at };
                Event::new(format!("e-{n}"), when, payload(kind, a, b, c, n as u32))
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn incremental_derived_state_equals_a_rebuild_from_the_ledger(events in events()) {
        let policy = platform_policy(&["zorb"]).expect("policy");
        let mut state = LedgerState::new();
        let mut live = Deriver::from_ledger(&state, &policy, None);
        for (index, event) in events.iter().enumerate() {
            let folded = state.fold(index as u64 + 1, event);
            live.follow(&state, &folded);
        }
        let rebuilt = Deriver::from_ledger(&state, &policy, Some(live.map()));
        let differences = live.snapshot().differences(&rebuilt.snapshot());
        prop_assert!(differences.is_empty(), "{}", differences.join("\n"));
        // The fold itself: a checkpoint taken half way and the rest folded onto it equals
        // a fold from the first event.
        let half = events.len() / 2;
        let mut first = LedgerState::from_events(&events[..half]);
        let bytes = serde_json::to_vec(&first).expect("a state serialises");
        first = serde_json::from_slice(&bytes).expect("and reads back");
        for (index, event) in events[half..].iter().enumerate() {
            first.apply((half + index) as u64 + 1, event);
        }
        let whole = LedgerState::from_events(&events);
        prop_assert!(first.differences(&whole).is_empty(), "{:?}", first.differences(&whole));
        prop_assert_eq!(first, whole);
    }
}
