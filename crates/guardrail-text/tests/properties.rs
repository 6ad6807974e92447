//! Invariants of the normaliser and the matcher, checked on generated input that mixes
//! ASCII, look-alikes, invisible characters, combining marks, emoji, letter-like
//! symbols, bidi controls and raw bytes; and the two rules against false hits: an
//! `anywhere` term never spans the space between ordinary words, and a term's doubled
//! letter is never matched by a single one.

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
        1 => proptest::sample::select(vec![
            '\u{1D18}', '\u{1D07}', '\u{1F15F}', '\u{1F17F}', '\u{1F170}', '\u{1F1F5}',
            '\u{1F1EA}', '\u{20AC}', '\u{A3}', '\u{A9}', '\u{2202}', '\u{2067}', '\u{2069}',
            '\u{202C}', '\u{5D0}', '\u{2605}', '\u{2665}',
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

/// Invented ordinary words for the false-hit properties. Some end with the letter the
/// next begins with (`sutt tika`), so repeats collapse across the space too.
const WORDS: &[&str] = &[
    "blor", "vex", "nop", "pral", "sutt", "tika", "ka", "zee", "am",
];

/// A policy whose `anywhere` terms are every two of [`WORDS`] run together: text made
/// of the words with spaces between them must never match it.
fn joined_words_policy() -> Policy {
    let mut toml = String::new();
    for (i, first) in WORDS.iter().enumerate() {
        for (j, second) in WORDS.iter().enumerate() {
            if i != j {
                toml.push_str(&format!(
                    "[[term]]\ntext = \"{first}{second}\"\ntier = \"block\"\ncategory = \"t.a\"\nmatch = \"anywhere\"\n"
                ));
            }
        }
    }
    Policy::from_toml(&toml, "joined.toml").expect("policy loads")
}

/// Terms with a doubled letter, for the repeat property.
const DOUBLED: &[&str] = &["tallix", "zoggle", "mippor", "quorrex"];

fn doubled_policy() -> Policy {
    let toml: String = DOUBLED
        .iter()
        .map(|t| format!("[[term]]\ntext = \"{t}\"\ntier = \"block\"\ncategory = \"t.a\"\n"))
        .collect();
    Policy::from_toml(&toml, "doubled.toml").expect("policy loads")
}

/// The letters of `word` with a separator from `separators` (cycled) after each of
/// the first `split` letters; nothing is dropped or added but separators.
fn interleave(word: &str, separators: &[char], split: usize) -> String {
    let mut out = String::new();
    for (index, ch) in word.chars().enumerate() {
        out.push(ch);
        if index + 1 < word.chars().count() && index < split && !separators.is_empty() {
            out.push(separators[index % separators.len()]);
        }
    }
    out
}

/// Inputs the property below found (or would find) where a literal colon next to an
/// emoji's `:shortcode:` reads as another shortcode when the folded text is read again;
/// the folded view writes such a colon as a fullwidth one, which folds back to `:`.
#[test]
fn a_colon_before_an_emoji_is_not_read_as_a_shortcode_when_folded_again() {
    // (input, its folded view)
    let cases = [
        (":a\u{2665}", "\u{FF1A}a:hearts:"),
        (":o\u{1F5FA}", "\u{FF1A}o:world_map:"),
        (
            "x:a\u{2665}:a\u{2665}",
            "x\u{FF1A}a:hearts:\u{FF1A}a:hearts:",
        ),
        ("\u{2665}a:b", ":hearts:a:b"),
        (":hearts:", ":hearts:"),
        ("a:zq:c", "a:zq:c"),
        ("a: \u{2665}", "a: :hearts:"),
    ];
    for (input, folded) in cases {
        let once = normalize_str(input);
        assert_eq!(once.folded(), folded, "input {input:?}");
        let twice = normalize_str(once.folded());
        assert_eq!(twice.folded(), folded, "input {input:?} folded again");
    }
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

    #[test]
    fn ordinary_words_apart_never_spell_an_anywhere_term(
        words in proptest::collection::vec(proptest::sample::select(WORDS.to_vec()), 1..7),
        gaps in proptest::collection::vec(proptest::sample::select(vec![" ", "  ", "\t", " \n", " \u{1F338} ", ", "]), 6),
    ) {
        let policy = joined_words_policy();
        let mut text = String::new();
        for (index, word) in words.iter().enumerate() {
            if index > 0 {
                text.push_str(gaps[index - 1]);
            }
            text.push_str(word);
        }
        let verdict = check_bytes(&policy, TextPlace::Comment, text.as_bytes());
        prop_assert!(verdict.matches.is_empty(), "{:?} matched {:?}", text, verdict.matches);
        // The same words run together are a hit (the property can fail).
        if words.len() >= 2 && words[0] != words[1] {
            let joined = format!("{}{}", words[0], words[1]);
            let verdict = check_bytes(&policy, TextPlace::Comment, joined.as_bytes());
            prop_assert!(!verdict.matches.is_empty(), "{:?} should match", joined);
        }
    }

    #[test]
    fn a_doubled_letter_is_never_matched_by_a_single_one(
        term in proptest::sample::select(DOUBLED.to_vec()),
        separators in proptest::collection::vec(proptest::sample::select(vec!['.', '-', '_', ' ', '*', '\u{200B}']), 0..4),
        split in 0usize..8,
        upper in any::<bool>(),
    ) {
        let policy = doubled_policy();
        // The term with its doubled letter written once.
        let single: String = {
            let chars: Vec<char> = term.chars().collect();
            let doubled = chars.windows(2).position(|w| w[0] == w[1]).expect("a doubled letter");
            chars.iter().enumerate().filter(|(i, _)| *i != doubled).map(|(_, c)| *c).collect()
        };
        let case = |s: String| if upper { s.to_uppercase() } else { s };
        let disguised_single = case(interleave(&single, &separators, split));
        let verdict = check_bytes(&policy, TextPlace::Search, disguised_single.as_bytes());
        prop_assert!(verdict.matches.is_empty(), "{:?} matched {:?}", disguised_single, verdict.matches);
        let disguised_term = case(interleave(term, &separators, split));
        let verdict = check_bytes(&policy, TextPlace::Search, disguised_term.as_bytes());
        prop_assert!(!verdict.matches.is_empty(), "{:?} should match {}", disguised_term, term);
    }

    #[test]
    fn text_without_bidi_controls_reads_the_same_in_display_order(text in tricky_text()) {
        // Only explicit controls make a second reading; without them matches are the
        // ones the logical order gives, and none says `display_order`.
        let text: String = text.chars().filter(|c| !matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')).collect();
        let verdict = check_bytes(&policy(), TextPlace::Search, text.as_bytes());
        for found in &verdict.matches {
            prop_assert!(!found.stages.contains(guardrail_text::Stage::DisplayOrder), "{:?}", found);
        }
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

/// Found by the `text_normalize` fuzz target in CI: U+01A6 (`Ʀ`, LATIN LETTER YR) lower-cases
/// to U+0280 (`ʀ`), a small capital the fold reads as `r`; the first fold stopped at `ʀ`,
/// so folding the folded text again gave `r`: folding was not idempotent.
#[test]
fn a_capital_whose_lower_case_is_a_small_capital_folds_to_its_letter() {
    for input in ["^:\u{1A6}", "\u{1A6}", "p\u{1A6}do"] {
        let once = normalize_str(input);
        let twice = normalize_str(once.folded());
        assert_eq!(twice.folded(), once.folded(), "{input:?}");
    }
    assert_eq!(
        normalize_str("\u{1A6}").folded(),
        normalize_str("\u{280}").folded()
    );
}
