//! The evasion table: disguised spellings that must hit, and ordinary words that must
//! not. Each row is one line; `check_row` explains any failure with the verdict.

#[path = "common/evasion_table.rs"]
mod evasion_table;

use guardrail_text::{Policy, TextDecision, TextPlace, check};

/// The policy the evasion table is written for (also used by the benchmark).
const TEST_POLICY: &str = include_str!("data/evasion_policy.toml");

fn policy() -> Policy {
    Policy::from_toml(TEST_POLICY, "test-policy.toml").expect("test policy loads")
}

/// `expected_rule` is the rule that must decide, or `None` for allow.
fn check_row(policy: &Policy, surface: TextPlace, input: &str, expected_rule: Option<&str>) {
    let verdict = check(policy, surface, input);
    match expected_rule {
        Some(rule) => {
            assert!(
                verdict.decision != TextDecision::Allow
                    && verdict.matches.iter().any(|m| &*m.rule == rule),
                "{input:?} on {surface} should hit {rule}; verdict: {verdict:#?}"
            );
            for found in &verdict.matches {
                assert!(
                    found.span.end <= input.len(),
                    "span outside input for {input:?}"
                );
            }
        }
        None => assert!(
            verdict.matches.is_empty(),
            "{input:?} on {surface} should not hit anything; verdict: {verdict:#?}"
        ),
    }
}

#[test]
fn the_evasion_table_holds() {
    let policy = policy();
    let rows = evasion_table::rows();
    assert!(rows.len() > 70, "the table lost rows");
    for (rule, _what, input) in &rows {
        check_row(&policy, TextPlace::Search, input, rule.as_deref());
    }
}

#[test]
fn default_policy_catches_the_published_codes() {
    let policy = Policy::default_policy();
    // (surface, input, decision, deciding rule)
    let rows: &[(TextPlace, &str, TextDecision, &str)] = &[
        (
            TextPlace::Search,
            "#pedobait",
            TextDecision::Block,
            "pedobait",
        ),
        (TextPlace::Search, "m.n.s.f.w", TextDecision::Block, "mnsfw"),
        (
            TextPlace::Hashtag,
            "#MnsfwGirls",
            TextDecision::Block,
            "mnsfw",
        ),
        (
            TextPlace::Search,
            "pre teen sex",
            TextDecision::Block,
            "preteensex",
        ),
        (
            TextPlace::Bio,
            "🗺 on chapter 14",
            TextDecision::Restrict,
            "risk_score",
        ),
        (
            TextPlace::Bio,
            "s3ller 🍕🗺",
            TextDecision::Restrict,
            "risk_score",
        ),
        (
            TextPlace::Autocomplete,
            "cheese pizza",
            TextDecision::Block,
            "risk_score",
        ),
        (
            TextPlace::Bio,
            "age 31 ↩️ dm me",
            TextDecision::Allow,
            "none",
        ),
        (
            TextPlace::Bio,
            "age 31 ◀️ 🗺 dm",
            TextDecision::Restrict,
            "risk_score",
        ),
        (
            TextPlace::Search,
            "pizza near me",
            TextDecision::Allow,
            "none",
        ),
        (
            TextPlace::Bio,
            "best seller on etsy",
            TextDecision::Allow,
            "none",
        ),
        (
            TextPlace::Bio,
            "chapter 3 of my novel",
            TextDecision::Allow,
            "none",
        ),
    ];
    for (surface, input, decision, rule) in rows {
        let verdict = check(&policy, *surface, input);
        assert_eq!(
            (verdict.decision, verdict.decided_by.as_ref()),
            (*decision, *rule),
            "{input:?} on {surface}: {verdict:#?}"
        );
    }
    // Signals alone are explained even when they do not decide.
    let verdict = check(&policy, TextPlace::Bio, "age 31 ↩️ dm me");
    assert!(
        verdict
            .matches
            .iter()
            .any(|m| &*m.rule == "reversed-age-code"),
        "{verdict:#?}"
    );
}
