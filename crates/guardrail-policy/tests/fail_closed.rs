//! Property: knowing less never makes a decision less safe. Replacing any known signal
//! by "unknown" can turn an allow into a drop, never a drop into an allow.

use guardrail_policy::{
    AccountId, AccountSignals, AgeBand, Candidate, Context, Engine, NetworkSignal, Relationship,
    Surface,
};
use proptest::prelude::*;

fn account(id: u32) -> impl Strategy<Value = AccountSignals> {
    (
        any::<bool>(),
        any::<bool>(),
        0.0f64..1.0,
        any::<bool>(),
        any::<bool>(),
        0u32..5,
        any::<bool>(),
    )
        .prop_map(
            move |(minor, features_minors, score, member, flagged, reports, actioned)| {
                let mut signals = AccountSignals::clean_adult(AccountId(id));
                signals.age = Some(if minor {
                    AgeBand::Minor
                } else {
                    AgeBand::Adult
                });
                signals.features_minors = Some(features_minors);
                signals.network = Some(NetworkSignal {
                    score,
                    member,
                    role: None,
                });
                signals.flagged = Some(flagged && score > 0.8);
                signals.blocks_reports_from_minors = Some(reports);
                signals.entity_actioned = Some(actioned && score > 0.9);
                signals
            },
        )
}

/// Forgets the signals selected by `mask` (one bit per field).
fn forget(mut signals: AccountSignals, mask: u8) -> AccountSignals {
    if mask & 1 != 0 {
        signals.age = None;
    }
    if mask & 2 != 0 {
        signals.features_minors = None;
    }
    if mask & 4 != 0 {
        signals.network = None;
    }
    if mask & 8 != 0 {
        signals.flagged = None;
    }
    if mask & 16 != 0 {
        signals.blocks_reports_from_minors = None;
    }
    if mask & 32 != 0 {
        signals.entity_actioned = None;
    }
    if mask & 64 != 0 {
        signals.text = None;
    }
    signals
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn forgetting_a_signal_never_allows_what_was_dropped(
        viewer in account(1),
        candidate in account(2),
        viewer_mask in any::<u8>(),
        candidate_mask in any::<u8>(),
        follows in any::<bool>(),
        forget_relationship in any::<bool>(),
        surface_index in 0usize..7,
    ) {
        let engine = Engine::default_engine();
        let surface = Surface::ALL[surface_index];
        let relationship = Some(Relationship { viewer_follows: follows, ..Relationship::default() });
        let decide = |viewer: &AccountSignals, candidate: &AccountSignals, relationship| {
            let context = Context { surface, viewer: Some(viewer), query: None };
            engine.decide(&context, &Candidate { account: Some(candidate), relationship, ..Candidate::default() })
        };
        let known = decide(&viewer, &candidate, relationship);
        let less_viewer = forget(viewer.clone(), viewer_mask);
        let less_candidate = forget(candidate.clone(), candidate_mask);
        let unknown = decide(&less_viewer, &less_candidate, if forget_relationship { None } else { relationship });
        prop_assert!(unknown.action >= known.action, "known {:?} became {:?} with less information", known, unknown);
        if unknown.action > known.action {
            prop_assert!(unknown.fail_closed, "a stricter decision from missing signals says so: {:?}", unknown);
        }
    }
}
