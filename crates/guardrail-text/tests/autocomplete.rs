//! The autocomplete guard drops every candidate the policy restricts or blocks,
//! including variants that no list names, and gives a blocked prefix nothing.

use guardrail_text::{Policy, filter_suggestions};

const POLICY: &str = r#"
[[term]]
id = "fileshare-placeholder"
text = "quuxdrop"
tier = "block"
category = "test.offplatform_link"
[[term]]
id = "restricted-placeholder"
text = "zorblax"
tier = "restrict"
category = "test.placeholder"
"#;

fn kept(prefix: &str, candidates: &[&str]) -> Vec<String> {
    let policy = Policy::from_toml(POLICY, "autocomplete.toml").expect("loads");
    filter_suggestions(&policy, prefix, candidates.iter().copied())
        .kept()
        .map(str::to_string)
        .collect()
}

#[test]
fn drops_variants_and_keeps_the_rest() {
    let rows: &[(&str, &[&str], &[&str])] = &[
        (
            "qu",
            &[
                "quiz",
                "quuxdrop boys",
                "quux drop cp",
                "qu.ux.drop",
                "QuuxDropLinks",
                "quux",
                "quilt",
            ],
            &["quiz", "quux", "quilt"],
        ),
        (
            "zo",
            &["zorblax", "z0rblax fans", "zoo", "zorb"],
            &["zoo", "zorb"],
        ),
        ("quuxdrop", &["quuxdrop boys", "quuxdrop pics", "quux"], &[]),
        ("q.u.u.x.d.r.o.p", &["anything"], &[]),
    ];
    for (prefix, candidates, expected) in rows {
        assert_eq!(kept(prefix, candidates), *expected, "prefix {prefix:?}");
    }
}

#[test]
fn every_dropped_candidate_says_why() {
    let policy = Policy::from_toml(POLICY, "autocomplete.toml").expect("loads");
    let result = filter_suggestions(&policy, "qu", ["quuxdrop boys", "quiz"]);
    let dropped = &result.candidates[0];
    assert!(!dropped.kept);
    assert_eq!(dropped.verdict.decided_by, "fileshare-placeholder");
    assert_eq!(
        dropped.verdict.matches[0].span,
        guardrail_text::Span { start: 0, end: 8 }
    );
}
