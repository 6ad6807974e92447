//! The evasion table: disguised spellings that must hit, and ordinary words that must
//! not. Each row is one line; `check_row` explains any failure with the verdict.

#[path = "common/evasion_table.rs"]
mod evasion_table;

use guardrail_text::{Policy, Stage, TextDecision, TextPlace, check};

/// The policy the evasion table is written for (also used by the benchmark).
const TEST_POLICY: &str = include_str!("data/evasion_policy.toml");

fn policy() -> Policy {
    Policy::from_toml(TEST_POLICY, "test-policy.toml").expect("test policy loads")
}

/// `expected_rule` is the rule that must match, or `None` for no match at all.
/// Returns what went wrong, with the verdict, or `None` when the row holds.
fn check_row(
    policy: &Policy,
    surface: TextPlace,
    what: &str,
    input: &str,
    expected_rule: Option<&str>,
) -> Option<String> {
    let verdict = check(policy, surface, input);
    match expected_rule {
        Some(rule) => {
            let hit = verdict.decision != TextDecision::Allow
                && verdict.matches.iter().any(|m| &*m.rule == rule);
            if !hit {
                return Some(format!(
                    "{what}: {input:?} on {surface} should hit {rule}; verdict: {verdict:#?}"
                ));
            }
            for found in &verdict.matches {
                if found.span.end > input.len()
                    || found.reasons().len() != found.stages.iter().count()
                {
                    return Some(format!(
                        "{what}: span or reasons wrong for {input:?}: {found:?}"
                    ));
                }
            }
            None
        }
        None => (!verdict.matches.is_empty()).then(|| {
            format!("{what}: {input:?} on {surface} should not hit anything; verdict: {verdict:#?}")
        }),
    }
}

#[test]
fn the_evasion_table_holds() {
    let policy = policy();
    let rows = evasion_table::rows();
    assert!(rows.len() > 140, "the table lost rows");
    let failures: Vec<String> = rows
        .iter()
        .filter_map(|(rule, what, input)| {
            check_row(&policy, TextPlace::Search, what, input, rule.as_deref())
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} rows fail:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
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

#[test]
fn each_new_class_names_the_transformation_that_revealed_it() {
    let policy = policy();
    // (input, rule, the stage that must be among the match's reasons, its words)
    let rows: &[(&str, &str, Stage, &str)] = &[
        (
            "\u{1F1F5}\u{1F1EA}\u{1F1E9}\u{1F1F4}\u{1F1E7}\u{1F1E6}\u{1F1EE}\u{1F1F9}",
            "pedobait",
            Stage::RegionalIndicator,
            "regional indicators read as letters",
        ),
        (
            "new \u{202E}tiabodep\u{202C} pics",
            "pedobait",
            Stage::DisplayOrder,
            "reversed by a right-to-left override, read as displayed",
        ),
        (
            "p\u{1F355}e\u{1F355}d\u{1F355}o\u{1F355}bait",
            "pedobait",
            Stage::EmojiSeparator,
            "emoji between letters read as separators",
        ),
        (
            "\u{1D18}\u{1D07}\u{1D05}\u{1D0F}bait",
            "pedobait",
            Stage::SmallCapital,
            "small capitals read as letters",
        ),
        (
            "\u{1F17F}\u{1F174}\u{1F173}\u{1F17E}bait",
            "pedobait",
            Stage::EnclosedLetter,
            "negative circled or squared letters read as letters",
        ),
        (
            "p\u{20AC}dobait",
            "pedobait",
            Stage::SymbolLetter,
            "currency or other symbols read as the letters they look like",
        ),
        (
            "v.3.x.n.0.r",
            "vexnor",
            Stage::Leetspeak,
            "digits or symbols read as the letters they stand for",
        ),
        (
            "p&eacute;dobait",
            "pedobait",
            Stage::HtmlEntity,
            "HTML character references decoded",
        ),
    ];
    for (input, rule, stage, words) in rows {
        let verdict = check(&policy, TextPlace::Search, input);
        let found = verdict
            .matches
            .iter()
            .find(|m| &*m.rule == *rule)
            .unwrap_or_else(|| panic!("{input:?} should hit {rule}: {verdict:#?}"));
        assert!(
            found.stages.contains(*stage) && found.reasons().contains(words),
            "{input:?}: {rule} should say {words:?}; reasons {:?}",
            found.reasons()
        );
        // The span holds the disguised term, inside the input.
        assert!(found.span.end <= input.len() && found.span.start < found.span.end);
    }
    // The reversed text's span is the reversed letters, not the words around them.
    let input = "new \u{202E}tiabodep\u{202C} pics";
    let verdict = check(&policy, TextPlace::Search, input);
    assert_eq!(
        &input[verdict.matches[0].span.start..verdict.matches[0].span.end],
        "tiabodep"
    );
}

#[test]
fn a_lone_doubled_letter_is_another_word_in_the_default_policy() {
    let policy = Policy::default_policy();
    // `cp` is a signal; `ccp` (one letter doubled once) is another word.
    for input in ["ccp news", "s3ler"] {
        let verdict = check(&policy, TextPlace::Search, input);
        assert!(verdict.matches.is_empty(), "{input:?}: {verdict:#?}");
    }
    for input in ["cp", "c.c.p", "cccp", "s3ll3r", "s3lll3r"] {
        let verdict = check(&policy, TextPlace::Search, input);
        assert!(!verdict.matches.is_empty(), "{input:?} should match");
    }
}
