//! Invariants of the normaliser and the matcher, checked on generated input that mixes
//! ASCII, look-alikes, invisible characters, combining marks, emoji and raw bytes.

use guardrail_text::{NormalizeOptions, Policy, TextPlace, check_bytes, normalize, normalize_str};
use proptest::prelude::*;

/// Characters chosen to exercise every stage.
fn tricky_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => proptest::char::range('a', 'z'),
        2 => proptest::char::range('A', 'Z'),
        1 => proptest::sample::select(vec![
            ' ', '.', '-', '_', '#', '@', '$', '!', '|', '+', '&', ';', '%', ':', '0', '1', '3',
            '4', '5', '7', '8', '9', '2',
        ]),
        1 => proptest::sample::select(vec![
            '\u{200B}', '\u{200D}', '\u{202E}', '\u{FE0F}', '\u{AD}', '\u{301}', '\u{336}',
            '\u{440}', '\u{435}', '\u{43E}', '\u{3C1}', '\u{FF50}', '\u{1D429}', '\u{24DF}',
            '\u{1F5FA}', '\u{1F355}', '\u{E9}', '\u{1F1FA}', '\u{1F1F8}', '\u{FB01}', '\u{130}',
            '\u{DF}', '\u{3A3}', '日', '\u{FFFD}',
        ]),
    ]
}

fn tricky_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(tricky_char(), 0..40).prop_map(|chars| chars.into_iter().collect())
}

fn policy() -> Policy {
    Policy::from_toml(
        r#"
[[term]]
text = "pedobait"
tier = "block"
category = "t.a"
[[term]]
text = "zorb"
tier = "restrict"
category = "t.b"
match = "anywhere"
[[term]]
text = "🗺"
tier = "signal"
category = "t.c"
[[pattern]]
regex = '\d+'
tier = "signal"
category = "t.d"
"#,
        "prop.toml",
    )
    .expect("policy loads")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(512)))]

    #[test]
    fn folding_is_idempotent(text in tricky_text()) {
        let once = normalize_str(&text);
        let twice = normalize_str(once.folded());
        prop_assert_eq!(twice.folded(), once.folded());
    }

    #[test]
    fn the_term_view_of_the_folded_text_is_the_same(text in tricky_text()) {
        // The folded view writes emoji as `:shortcode:`, so a literal colon next to an
        // emoji can read as another shortcode when the folded text is read again
        // (`:o🗺` folds to `:o:world_map:`). Folding itself stays idempotent (above);
        // this property is about everything else.
        let text = text.replace(':', "_");
        let once = normalize_str(&text);
        let again = normalize_str(once.folded());
        prop_assert_eq!(again.term_text(), once.term_text());
    }

    #[test]
    fn spans_lie_inside_the_input_and_cover_the_match(bytes in proptest::collection::vec(any::<u8>(), 0..64), text in tricky_text()) {
        let policy = policy();
        let mut input = text.into_bytes();
        input.extend_from_slice(&bytes);
        for surface in TextPlace::ALL {
            let verdict = check_bytes(&policy, surface, &input);
            for found in &verdict.matches {
                prop_assert!(found.span.start < found.span.end, "empty span {:?}", found);
                prop_assert!(found.span.end <= input.len(), "span past the input {:?}", found);
                // The matched bytes, normalised on their own, still contain the match.
                let piece = &input[found.span.start..found.span.end];
                let alone = check_bytes(&policy, surface, piece);
                prop_assert!(
                    alone.matches.iter().any(|m| m.rule == found.rule),
                    "span {:?} of {:?} does not cover {}: {:?}", found.span, String::from_utf8_lossy(&input), found.rule, alone
                );
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let normalized = normalize(&bytes, &NormalizeOptions::default());
        prop_assert!(normalized.input_len() == bytes.len());
        let _ = check_bytes(&policy(), TextPlace::Search, &bytes);
    }
}

/// Found by the `text_normalize` fuzz target: U+21AE (left right arrow with stroke) folds
/// to U+2194 once its mark is dropped, and U+2194 is an emoji, so folding the folded text
/// again wrote it as `:left_right_arrow:`: folding was not idempotent.
#[test]
fn a_character_that_decomposes_to_an_emoji_folds_to_that_emoji() {
    // The fuzzer's input, as it found it.
    let input = "\u{F5B3}\u{FF43}\u{FF48}\u{FF4F}\u{FF4F}\u{FF4C}  s.c.h3o.o.!2.olch00\u{200B}school\u{21AE}";
    let once = normalize_str(input);
    let twice = normalize_str(once.folded());
    assert_eq!(twice.folded(), once.folded());
    assert!(
        once.folded().ends_with(":left_right_arrow:"),
        "{}",
        once.folded()
    );
    let arrow = normalize_str("\u{21AE}");
    assert_eq!(arrow.folded(), normalize_str("\u{2194}").folded());
}
