//! Fuzzes the offender-registry list import (`guardrail_policy::registry`, what
//! `guardrail registry import` reads) and the canonical forms it compares by: any text
//! either imports or is refused with bad lines numbered inside the text; an imported list
//! matches every address on it and nothing is kept but hashes; the stored form loads back
//! (in memory and through JSON) to the same registry; an older list is refused; and the
//! canonical email and phone forms are fixed points (canonicalising twice changes
//! nothing).
//!
//! Must never: write files, or print an address (assertion messages name lines only).
#![no_main]

use guardrail_policy::canonical::{EmailRules, canonical_email, canonical_phone};
use guardrail_policy::registry::{Registry, RegistryError, RegistryKey, StoredRegistry};
use guardrail_types::Timestamp;
use libfuzzer_sys::fuzz_target;

fn key() -> RegistryKey {
    RegistryKey::new((0u8..32).collect()).expect("a 32-byte key")
}

/// The text of a list line that the import reads as an address (comments and blanks
/// skipped the way the import documents it).
fn address_text(line: &str) -> &str {
    match line.find('#') {
        Some(at) if at == 0 || line[..at].ends_with(char::is_whitespace) => &line[..at],
        _ => line,
    }
    .trim()
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for line in text.lines().take(64) {
        if let Some(canonical) = canonical_email(line) {
            assert_eq!(
                canonical_email(&canonical).as_deref(),
                Some(canonical.as_str()),
                "the canonical email is not a fixed point"
            );
        }
        for country in [None, Some("US"), Some("GB")] {
            if let Ok(phone) = canonical_phone(line, country) {
                assert_eq!(
                    canonical_phone(&phone, country).as_ref(),
                    Ok(&phone),
                    "the canonical phone is not a fixed point"
                );
            }
        }
    }
    let mut registry = Registry::new(key());
    let issued = Timestamp(1_000);
    match registry.import(text, issued) {
        Ok(report) => {
            assert_eq!(report.entries, registry.len());
            assert!(report.entries > 0, "an empty list imported");
            let body = text.strip_prefix('\u{feff}').unwrap_or(text);
            let addresses: Vec<String> = body
                .lines()
                .map(address_text)
                .filter(|t| !t.is_empty())
                .take(32)
                .map(str::to_string)
                .collect();
            let found = registry.matches(&addresses);
            assert_eq!(
                found.len(),
                addresses.len(),
                "an address on the imported list does not match it"
            );
            let stored = registry.stored();
            assert_eq!(stored.hashes.len(), registry.len());
            let json = serde_json::to_string(&stored).expect("stored registry as JSON");
            let parsed: StoredRegistry = serde_json::from_str(&json).expect("JSON back");
            assert_eq!(parsed, stored);
            let loaded = Registry::from_stored(&parsed, key(), EmailRules::default())
                .expect("a stored registry loads with its key");
            assert_eq!(loaded.stored(), stored);
            assert_eq!(loaded.matches(&addresses).len(), addresses.len());
            assert!(matches!(
                registry.import(text, Timestamp(999)),
                Err(RegistryError::Stale { .. })
            ));
        }
        Err(RegistryError::BadLines { lines, count }) => {
            assert!(count >= lines.len() && !lines.is_empty());
            let total = text.lines().count();
            for bad in &lines {
                assert!(
                    bad.line >= 1 && bad.line <= total,
                    "bad line {} of {total}",
                    bad.line
                );
            }
            assert!(registry.is_empty(), "a refused list changed the registry");
        }
        Err(RegistryError::Empty) => assert!(registry.is_empty()),
        Err(other) => panic!("unexpected refusal: {other}"),
    }
    // A stored form from the input: refused or loaded, never a panic.
    if let Ok(stored) = serde_json::from_slice::<StoredRegistry>(data) {
        let _ = Registry::from_stored(&stored, key(), EmailRules::default());
    }
});
