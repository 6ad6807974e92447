//! Fuzzes the HMA journal format (`guardrail_hma::BankChange`, what the ledger's
//! `bank_changed` events carry and the service replays on start): each line of the input
//! that parses as a change must survive JSON unchanged, and any sequence of changes either
//! replays or is refused naming a position inside the sequence, never a panic; replaying
//! the same changes twice gives the same banks.
//!
//! Must never: write files or fetch (replay never fetches or hashes).
#![no_main]

use std::sync::OnceLock;

use guardrail_hma::{BankChange, HmaState};
use libfuzzer_sys::fuzz_target;

fn states() -> &'static (HmaState, HmaState) {
    static STATES: OnceLock<(HmaState, HmaState)> = OnceLock::new();
    STATES.get_or_init(|| {
        (
            HmaState::in_memory().expect("an HMA state"),
            HmaState::in_memory().expect("an HMA state"),
        )
    })
}

fuzz_target!(|data: &[u8]| {
    let mut changes = Vec::new();
    for line in data.split(|&b| b == b'\n').take(256) {
        if let Ok(change) = serde_json::from_slice::<BankChange>(line) {
            let json = serde_json::to_string(&change).expect("a change as JSON");
            let back: BankChange = serde_json::from_str(&json)
                .unwrap_or_else(|e| panic!("{json} does not read back: {e}"));
            assert_eq!(back, change, "JSON round trip changed {json}");
            changes.push(change);
        }
    }
    let (first, second) = states();
    let count = changes.len();
    match first.replay(changes.clone()) {
        Ok(replayed) => {
            assert_eq!(replayed, count);
            assert_eq!(
                second.replay(changes).ok(),
                Some(count),
                "a replay is not repeatable"
            );
            assert_eq!(
                (first.bank_count(), first.pdq_count()),
                (second.bank_count(), second.pdq_count()),
                "two replays of the same changes differ"
            );
        }
        Err(error) => {
            assert!(
                error.position < count,
                "refused at {} of {count}",
                error.position
            );
        }
    }
});
