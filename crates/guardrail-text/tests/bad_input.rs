//! Hostile input gets a verdict and a diagnostic, never a panic, in time and memory
//! linear in its size. (No timings here: the benchmark measures speed. These tests
//! prove the behaviour; a quadratic path would show up as a test that never ends.)

use guardrail_text::{
    DiagnosticKind, NormalizeOptions, Policy, TextDecision, TextPlace, check_bytes, normalize,
};

fn kinds(verdict: &guardrail_text::TextVerdict) -> Vec<DiagnosticKind> {
    verdict.diagnostics.iter().map(|d| d.kind).collect()
}

#[test]
fn invalid_utf8_gets_a_verdict_and_a_diagnostic() {
    let policy = Policy::default_policy();
    let verdict = check_bytes(&policy, TextPlace::Search, b"#pedo\xffbait \xc3\x28");
    assert!(kinds(&verdict).contains(&DiagnosticKind::InvalidUtf8));
    // A bad byte inside a word does not break the word for the guard (fail closed).
    assert_eq!(verdict.decision, TextDecision::Block);
    assert_eq!(
        verdict.matches[0].span,
        guardrail_text::Span { start: 1, end: 10 }
    );
    let verdict = check_bytes(&policy, TextPlace::Search, b"\xfe pedobait \xff");
    assert_eq!(verdict.decision, TextDecision::Block);
    assert_eq!(verdict.matches[0].span.start, 2);
}

#[test]
fn a_megabyte_line_is_evaluated_in_full() {
    let policy = Policy::default_policy();
    let mut line = "hello world ".repeat(90_000).into_bytes();
    line.extend_from_slice(b"#pedobait");
    assert!(line.len() > 1_000_000);
    let verdict = check_bytes(&policy, TextPlace::Bio, &line);
    assert_eq!(verdict.decision, TextDecision::Block);
    assert_eq!(verdict.matches[0].span.end, line.len());
}

#[test]
fn a_megabyte_word_without_separators_is_fine() {
    let policy = Policy::default_policy();
    let line = vec![b'a'; 1 << 20];
    let verdict = check_bytes(&policy, TextPlace::Hashtag, &line);
    assert_eq!(verdict.decision, TextDecision::Allow);
    let line = "pedobait".repeat(1 << 17);
    let verdict = check_bytes(&policy, TextPlace::Hashtag, line.as_bytes());
    assert_eq!(verdict.decision, TextDecision::Block);
}

#[test]
fn thousands_of_combining_marks_are_dropped_and_reported() {
    let policy = Policy::default_policy();
    let mut text = String::from("p");
    text.push_str(&"\u{301}\u{336}\u{489}".repeat(5_000));
    text.push_str("edobait");
    let verdict = check_bytes(&policy, TextPlace::Search, text.as_bytes());
    assert_eq!(verdict.decision, TextDecision::Block);
    assert!(kinds(&verdict).contains(&DiagnosticKind::SuspiciousPadding));
    assert_eq!(
        verdict.matches[0].span,
        guardrail_text::Span {
            start: 0,
            end: text.len()
        }
    );
}

#[test]
fn too_many_matches_are_capped_with_a_diagnostic() {
    let policy = Policy::default_policy();
    let text = "pedobait ".repeat(10_000);
    let verdict = check_bytes(&policy, TextPlace::Search, text.as_bytes());
    assert_eq!(verdict.decision, TextDecision::Block);
    assert_eq!(verdict.matches.len(), guardrail_text::MAX_LISTED_MATCHES);
    assert!(kinds(&verdict).contains(&DiagnosticKind::TooManyMatches));
}

#[test]
fn input_over_the_limit_is_truncated_and_fails_closed() {
    let options = NormalizeOptions {
        max_input_bytes: 16,
        ..NormalizeOptions::default()
    };
    let normalized = normalize("hello world, this is long".as_bytes(), &options);
    assert_eq!(normalized.diagnostics()[0].kind, DiagnosticKind::Truncated);
    assert_eq!(normalized.folded(), "hello world, thi");
    let policy = Policy::default_policy();
    let huge = vec![b'x'; 5 << 20];
    let verdict = check_bytes(&policy, TextPlace::Comment, &huge);
    assert_eq!(verdict.decision, TextDecision::Restrict);
    assert_eq!(verdict.decided_by, "truncated_input");
}

#[test]
fn a_cut_never_splits_a_character() {
    let options = NormalizeOptions {
        max_input_bytes: 2,
        ..NormalizeOptions::default()
    };
    let normalized = normalize("aé".as_bytes(), &options);
    assert_eq!(normalized.folded(), "a");
    assert!(
        normalized
            .diagnostics()
            .iter()
            .all(|d| d.kind != DiagnosticKind::InvalidUtf8)
    );
}
