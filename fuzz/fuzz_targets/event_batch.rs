//! Fuzzes event batches (`guardrail_ledger::parse_batch`, the body of `POST /v1/events`):
//! any bytes give exactly one outcome per event (accepted or an error naming its index,
//! and its line for NDJSON), never a panic; every accepted event's stored body reads back
//! to the same event (`Event::from_body`), its serialised form parses again as a batch
//! to the same event, the canonical body is a fixed point, rebuilding an event from its
//! payload keeps the payload, and the accepted events fold into a ledger state.
//!
//! Must never: write files or read the clock (the limits use a fixed "now").
#![no_main]

use guardrail_ledger::event::canonical_body;
use guardrail_ledger::{Event, LedgerState, ParseLimits, parse_batch};
use libfuzzer_sys::fuzz_target;

const LIMITS: ParseLimits = ParseLimits {
    now: 1_764_400_000,
    max_future_seconds: 86_400,
};

fuzz_target!(|data: &[u8]| {
    let batch = parse_batch(data, &LIMITS);
    let is_array = data
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b'[');
    if !is_array {
        let lines = data
            .split(|&b| b == b'\n')
            .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
            .count();
        assert_eq!(
            batch.events.len() + batch.errors.len(),
            lines,
            "one outcome per line"
        );
        for error in &batch.errors {
            let line = error.line.expect("NDJSON errors name their line");
            assert!(line >= 1 && line <= data.split(|&b| b == b'\n').count());
        }
    }
    let mut indexes: Vec<usize> = batch.events.iter().map(|(i, _)| *i).collect();
    indexes.extend(batch.errors.iter().map(|e| e.index));
    indexes.sort_unstable();
    let outcomes = indexes.len();
    indexes.dedup();
    if !(is_array && batch.events.is_empty() && batch.errors.len() == 1) {
        assert_eq!(indexes.len(), outcomes, "two outcomes for one event");
    }
    for (_, event) in &batch.events {
        let stored = Event::from_body(&event.body)
            .unwrap_or_else(|e| panic!("a stored body does not read back: {e}"));
        assert_eq!(
            &stored, event,
            "the stored body reads back as another event"
        );
        assert_eq!(
            canonical_body(&serde_json::from_slice(&event.body).expect("JSON")),
            event.body
        );
        let line = serde_json::to_vec(event).expect("an event as JSON");
        let again = parse_batch(&line, &LIMITS);
        assert!(
            again.errors.is_empty(),
            "a serialised event is refused: {:?}",
            again.errors
        );
        assert_eq!(again.events.len(), 1);
        assert_eq!(
            &again.events[0].1, event,
            "serialise then parse changed the event"
        );
        let rebuilt = Event::new(event.id.clone(), event.at, event.payload.clone());
        assert_eq!(rebuilt.payload, event.payload);
        let reread = Event::from_body(&rebuilt.body)
            .unwrap_or_else(|e| panic!("a rebuilt event's body does not read back: {e}"));
        assert_eq!(
            reread.payload, event.payload,
            "the payload does not survive its own body"
        );
    }
    let _ = LedgerState::from_events(batch.events.iter().map(|(_, e)| e));
});
