//! Fuzzes the policy parser: any text either loads or gives an error with a line and
//! column inside the text; it never panics.
#![no_main]

use guardrail_text::{Policy, TextPlace, check};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    match Policy::from_toml(source, "fuzz.toml") {
        Ok(policy) => {
            let _ = check(&policy, TextPlace::Search, source);
        }
        Err(error) => {
            assert!(error.line >= 1 && error.line <= source.lines().count().max(1) + 1);
            assert!(error.column >= 1);
        }
    }
});
