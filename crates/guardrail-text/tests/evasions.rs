//! The evasion table: disguised spellings that must hit, and ordinary words that must
//! not. Each row is one line; `check_row` explains any failure with the verdict.

use guardrail_text::{Decision, Policy, Surface, check};

/// A test policy with a placeholder term beside the default policy's public ones.
const TEST_POLICY: &str = r#"
[[term]]
id = "pedo"
text = "pedo"
tier = "block"
category = "test.placeholder"

[[term]]
id = "pedobait"
text = "pedobait"
tier = "block"
category = "csea.solicitation"

[[term]]
id = "preteensex"
text = "preteensex"
tier = "block"
category = "csea.solicitation"

[[term]]
id = "zorblax"
text = "zorblax"
tier = "restrict"
category = "test.placeholder"
match = "anywhere"

[[term]]
id = "s3ller"
text = "s3ller"
tier = "restrict"
category = "csea.seller_token"

[[term]]
id = "map-emoji"
text = "🗺"
tier = "restrict"
category = "csea.code"

[[term]]
id = "lolita-like"
text = "lalila"
tier = "block"
category = "test.placeholder"
"#;

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
                    && verdict.matches.iter().any(|m| m.rule == rule),
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
fn evasions_hit() {
    let policy = policy();
    let rows: &[(&str, &str)] = &[
        ("pedobait", "pedobait"),
        ("#pedobait", "pedobait"),
        ("PEDOBAIT", "pedobait"),
        ("PeDoBaIt", "pedobait"),
        ("p.e.d.o.b.a.i.t", "pedobait"),
        ("p e d o b a i t", "pedobait"),
        ("p-e-d-o-b-a-i-t", "pedobait"),
        ("p_e_d_o b_a_i_t", "pedobait"),
        ("pedo bait", "pedobait"),
        ("p3d0b41t", "pedobait"),
        ("p3dob@it", "pedobait"),
        ("pedoba1t", "pedobait"),
        ("pedoba!t", "pedobait"),
        ("ped0bait", "pedobait"),
        ("\u{440}\u{435}\u{501}\u{43E}bait", "pedobait"), // Cyrillic р е ԁ о
        ("\u{3C1}edobait", "pedobait"),                   // Greek rho
        (
            "\u{FF50}\u{FF45}\u{FF44}\u{FF4F}\u{FF42}\u{FF41}\u{FF49}\u{FF54}",
            "pedobait",
        ), // fullwidth
        (
            "\u{1D429}\u{1D41E}\u{1D41D}\u{1D428}\u{1D41B}\u{1D41A}\u{1D422}\u{1D42D}",
            "pedobait",
        ), // math bold
        ("\u{1D4F9}\u{1D4EE}\u{1D4ED}\u{1D4F8}bait", "pedobait"), // math script
        (
            "\u{24DF}\u{24D4}\u{24D3}\u{24DE}\u{24D1}\u{24D0}\u{24D8}\u{24E3}",
            "pedobait",
        ), // circled
        ("p\u{200B}e\u{200B}d\u{200B}o\u{200B}bait", "pedobait"), // zero-width space
        ("pe\u{200D}dob\u{2060}ait", "pedobait"),         // joiner, word joiner
        ("pe\u{202E}dobait", "pedobait"),                 // bidi override
        ("pe\u{AD}dobait", "pedobait"),                   // soft hyphen
        ("ppeeddoobbaaiitt", "pedobait"),
        ("peeeedoooobait", "pedobait"),
        ("p\u{301}e\u{301}d\u{301}o\u{301}bait", "pedobait"), // combining acute
        ("p\u{336}e\u{336}d\u{336}o\u{336}bait", "pedobait"), // combining strikethrough
        ("#PedoBait", "pedobait"),
        ("#PedoBait2024", "pedobait"),
        ("#ilovepedobait", "pedobait"),
        ("#pedobaitforyou", "pedobait"),
        ("#newpedobaitpics", "pedobait"),
        ("&#112;edobait", "pedobait"),
        ("%70edobait", "pedobait"),
        ("pedo", "pedo"),
        ("Pedo!", "pedo"),
        ("#pedolovers", "pedo"),
        ("preteen sex", "preteensex"),
        ("#PreTeenSex", "preteensex"),
        ("pre-teen sex", "preteensex"),
        ("xxzorblaxxx", "zorblax"),
        ("s3ller", "s3ller"),
        ("$3ller", "s3ller"),
        ("se11er", "s3ller"),
        ("S3LL3R", "s3ller"),
        ("new s3ll3r here", "s3ller"),
        ("🗺️", "map-emoji"),
        ("🗺", "map-emoji"),
        ("love :world_map: stuff", "map-emoji"),
        ("la1ila", "lolita-like"),
        ("1a1i1a", "lolita-like"),
    ];
    for (input, rule) in rows {
        check_row(&policy, Surface::Search, input, Some(rule));
    }
}

#[test]
fn benign_near_misses_do_not_hit() {
    let policy = policy();
    let rows: &[&str] = &[
        "torpedo",
        "speedo",
        "speedos on sale",
        "torpedoes",
        "encyclopedia",
        "pedometer",
        "pedal to the metal",
        "pedro bait shop",
        "tuxedo",
        "top edo",
        "stop edobait",
        "hope do bait",
        "seller",
        "best seller list",
        "sellers market",
        "pizza night",
        "map of the world",
        "I love maps",
        "pedicure",
        "peda",
        "bait and tackle",
        "preteen fashion",
        "sex education",
        "#TorpedoBait",
        "#speedoswim",
        "2024 recap",
        "lalala",
        "chapter 3",
    ];
    for input in rows {
        check_row(&policy, Surface::Search, input, None);
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
            (verdict.decision, verdict.decided_by.as_str()),
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
            .any(|m| m.rule == "reversed-age-code"),
        "{verdict:#?}"
    );
}
