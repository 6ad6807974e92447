//! Fuzzes the normaliser and the matcher with arbitrary bytes on every surface:
//! no panic, spans inside the input, folding idempotent.
#![no_main]

use std::sync::OnceLock;

use guardrail_text::{Policy, TextPlace, check_bytes, normalize_str};
use libfuzzer_sys::fuzz_target;

fn policy() -> &'static Policy {
    static POLICY: OnceLock<Policy> = OnceLock::new();
    POLICY.get_or_init(Policy::default_policy)
}

fuzz_target!(|data: &[u8]| {
    for place in TextPlace::ALL {
        let verdict = check_bytes(policy(), place, data);
        for found in &verdict.matches {
            assert!(found.span.start < found.span.end && found.span.end <= data.len());
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let once = normalize_str(text);
        let twice = normalize_str(once.folded());
        assert_eq!(once.folded(), twice.folded());
    }
});
