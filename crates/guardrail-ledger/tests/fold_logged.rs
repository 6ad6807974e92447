//! `LedgerState::fold_logged_decision` (a `decision_logged` event folded from its sequence
//! number and time alone) leaves the state exactly as `fold` of the whole event does, at
//! any place in a stream: first, between other events, on an earlier day than the epoch,
//! while other events wait for an account.

use guardrail_ledger::event::Event;
use guardrail_ledger::state::LedgerState;
use proptest::prelude::*;

fn event(json: String) -> Event {
    Event::from_body(json.as_bytes()).expect("a valid test event")
}

/// Event `n` of a stream, at time `at`: `kind` 0 creates an account, 1 follows (perhaps an
/// account not created yet), 2 logs a decision.
fn nth(n: usize, kind: u8, at: u64) -> Event {
    match kind {
        0 => event(format!(
            r#"{{"id":"e{n}","type":"account_created","at":{at},"account":"a{n}","handle":"h{n}","declared_age":30}}"#
        )),
        1 => event(format!(
            r#"{{"id":"e{n}","type":"follow","at":{at},"account":"a{}","target":"a{}"}}"#,
            n / 2,
            n + 1
        )),
        _ => event(format!(
            r#"{{"id":"e{n}","type":"decision_logged","at":{at},"surface":"search","action":"drop","decided_by":"r","rules_version":1,"snapshot":3,"request":{{"viewer":"a1","signals":[1,2,{{"x":"y"}}]}}}}"#
        )),
    }
}

proptest! {
    #[test]
    fn folding_a_logged_decision_by_its_time_equals_folding_it(
        stream in prop::collection::vec((0u8..3, 0u64..400_000), 1..40)
    ) {
        let mut whole = LedgerState::new();
        let mut fast = LedgerState::new();
        for (n, (kind, at)) in stream.into_iter().enumerate() {
            let event = nth(n, kind, 1_700_000_000 + at);
            let seq = n as u64 + 1;
            whole.fold(seq, &event);
            if kind == 2 {
                fast.fold_logged_decision(seq, event.at);
            } else {
                fast.fold(seq, &event);
            }
            prop_assert_eq!(&whole, &fast);
        }
        prop_assert!(whole.decisions_logged > 0 || whole.last_seq > 0);
    }
}
