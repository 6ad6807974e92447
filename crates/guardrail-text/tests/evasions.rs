//! The evasion table: disguised spellings that must hit, and ordinary words that must
//! not. Each row is one line; `check_row` explains any failure with the verdict.

#[path = "common/evasion_table.rs"]
mod evasion_table;

use guardrail_text::{Decision, Policy, Surface, check};

/// The policy the evasion table is written for (also used by the benchmark).
const TEST_POLICY: &str = include_str!("data/evasion_policy.toml");

fn policy() -> Policy {
    Policy::from_toml(TEST_POLICY, "test-policy.toml").expect("test policy loads")
}

/// `expected_rule` is the rule that must decide, or `None` for allow.
fn check_row(policy: &Policy, surface: Surface, input: &str, expected_rule: Option<&str>) {
    let verdict = check(policy, surface, input);
    match expected_rule {
        Some(rule) => {
            assert!(
                verdict.decision != Decision::Allow
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
        check_row(&policy, Surface::Search, input, rule.as_deref());
    }
}

#[test]
fn default_policy_catches_the_published_codes() {
    let policy = Policy::default_policy();
    // (surface, input, decision, deciding rule)
    let rows: &[(Surface, &str, Decision, &str)] = &[
        (Surface::Search, "#pedobait", Decision::Block, "pedobait"),
        (Surface::Search, "m.n.s.f.w", Decision::Block, "mnsfw"),
        (Surface::Hashtag, "#MnsfwGirls", Decision::Block, "mnsfw"),
        (
            Surface::Search,
            "pre teen sex",
            Decision::Block,
            "preteensex",
        ),
        (
            Surface::Bio,
            "🗺 on chapter 14",
            Decision::Restrict,
            "risk_score",
        ),
        (Surface::Bio, "s3ller 🍕🗺", Decision::Restrict, "risk_score"),
        (
            Surface::Autocomplete,
            "cheese pizza",
            Decision::Block,
            "risk_score",
        ),
        (Surface::Bio, "age 31 ↩️ dm me", Decision::Allow, "none"),
        (
            Surface::Bio,
            "age 31 ◀️ 🗺 dm",
            Decision::Restrict,
            "risk_score",
        ),
        (Surface::Search, "pizza near me", Decision::Allow, "none"),
        (Surface::Bio, "best seller on etsy", Decision::Allow, "none"),
        (
            Surface::Bio,
            "chapter 3 of my novel",
            Decision::Allow,
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
    let verdict = check(&policy, Surface::Bio, "age 31 ↩️ dm me");
    assert!(
        verdict
            .matches
            .iter()
            .any(|m| &*m.rule == "reversed-age-code"),
        "{verdict:#?}"
    );
}
