//! End-to-end tests of `guardrail text`: the real binary, real stdin and stdout.
//!
//! Runs the binary through the shared harness (`common`); writes only in its scratch
//! folders. The snapshot tests pin the text of `check` (plain and JSON), `explain`,
//! `suggest` and `policy`, on disguised spellings and on ordinary words that look close.

mod common;

use common::{Dir, guardrail, snapshot_settings};

#[test]
fn check_prints_one_verdict_per_line() {
    let output = guardrail(&["text", "check"])
        .stdin(&b"#PedoBait\ntorpedo\n\xff\xfe\np e d o b a i t\n"[..])
        .ok();
    let lines = output.lines();
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert!(
        lines[0].starts_with("block\t#PedoBait\tdecided_by=pedobait"),
        "{}",
        lines[0]
    );
    assert!(lines[1].starts_with("allow\ttorpedo"), "{}", lines[1]);
    assert!(lines[2].contains("invalid UTF-8"), "{}", lines[2]);
    assert!(lines[3].starts_with("block"), "{}", lines[3]);
}

#[test]
fn json_lines_carry_input_verdict_and_matches() {
    let output = guardrail(&["text", "check", "--json", "--surface", "bio"])
        .stdin("hi\n🗺 on chapter 14\n")
        .ok();
    let lines = output.json_lines();
    assert_eq!(lines.len(), 2);
    let first = &lines[0];
    assert_eq!(first["input"], "hi");
    assert_eq!(first["verdict"], "allow");
    let second = &lines[1];
    assert_eq!(second["verdict"], "restrict");
    let matches = second["matches"].as_array().expect("matches");
    assert_eq!(matches.len(), 2);
    for found in matches {
        for key in ["span", "tier", "category", "rule"] {
            assert!(!found[key].is_null(), "{key} missing in {found}");
        }
    }
    assert_eq!(matches[0]["span"]["start"], 0);
    assert_eq!(matches[0]["rule"], "map-emoji");
}

#[test]
fn arguments_are_checked_instead_of_stdin() {
    let output = guardrail(&["text", "check", "speedo", "#mnsfw"])
        .stdin("ignored\n")
        .run();
    let lines = output.lines();
    assert_eq!(lines.len(), 2);
    assert!(lines[0].starts_with("allow"));
    assert!(lines[1].starts_with("block"));
}

#[test]
fn fail_on_exits_one_when_a_verdict_reaches_it() {
    guardrail(&["text", "check", "--fail-on", "restrict"])
        .stdin("hello\n")
        .run()
        .assert_code(0);
    guardrail(&["text", "check", "--fail-on", "block"])
        .stdin("hello\npedobait\n")
        .fails_with(1);
}

#[test]
fn a_bad_policy_is_refused_with_file_line_and_field() {
    let dir = Dir::new("bad-policy");
    let path = dir.create(
        "bad.toml",
        "[[term]]\ntext = \"x\"\ntier = \"severe\"\ncategory = \"a\"\n",
    );
    let output = guardrail(&["text", "check", "--policy", common::utf8(&path)])
        .stdin("x\n")
        .fails_with(2);
    let stderr = output.stderr();
    assert!(
        stderr.contains("bad.toml:3:8: field `term[0].tier`: expected one of"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty(), "no verdicts from a bad policy");
    let missing = guardrail(&["text", "check", "--policy", "/nonexistent/policy.toml"])
        .stdin("x\n")
        .fails_with(2);
    assert!(
        missing
            .stderr()
            .contains("cannot read policy /nonexistent/policy.toml"),
        "{missing}"
    );
}

#[test]
fn suggest_drops_blocked_candidates_and_variants() {
    let output = guardrail(&["text", "suggest", "--prefix", "p"])
        .stdin("pizza\npedo bait links\nPEDOBAIT\np3d0bait fans\npasta\n")
        .ok();
    assert_eq!(output.lines(), ["pizza", "pasta"]);
}

#[test]
fn policy_reports_its_rules() {
    let output = guardrail(&[
        "text",
        "policy",
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../guardrail-text/policies/default.toml"
        ),
    ])
    .ok();
    assert!(output.stdout().contains("guardrail-default:"), "{output}");
}

#[test]
fn explain_shows_both_views() {
    let output = guardrail(&["text", "explain", "#P\u{0435}doB\u{0430}1t"]).run();
    let text = output.stdout();
    assert!(text.contains("folded:    #pedoba1t"), "{text}");
    assert!(text.contains("term view: pedobait"), "{text}");
}

#[test]
fn help_reads_well() {
    let text = guardrail(&["--help"]).run().stdout();
    assert!(text.contains("Child-safety guardrails"));
    assert!(text.contains("text"));
}

/// Disguised spellings of published codes, then ordinary words that come close to them,
/// then a line that is not UTF-8.
const CHECK_INPUTS: &[u8] = "#PedoBait\n\
    p3d0bait fans\n\
    p e d o b a i t\n\
    #P\u{0435}doB\u{0430}1t\n\
    pedo\u{200b}bait\n\
    \u{24df}\u{24d4}\u{24d3}\u{24de}bait\n\
    m.n.s.f.w\n\
    #MnsfwGirls\n\
    torpedo\n\
    speedo\n\
    encyclopedia\n\
    bait and tackle\n\
    cheese pizza recipe\n\
    hello\n"
    .as_bytes();

fn check_inputs() -> Vec<u8> {
    let mut inputs = CHECK_INPUTS.to_vec();
    inputs.extend_from_slice(b"caf\xe9 \xff\xfe\n");
    inputs
}

#[test]
fn snapshot_check_plain_and_json() {
    let plain = guardrail(&["text", "check"]).stdin(check_inputs());
    snapshot_settings(&plain).bind(|| {
        insta::assert_snapshot!("check_plain", plain.ok().stdout());
    });
    let json = guardrail(&["text", "check", "--json"]).stdin(check_inputs());
    snapshot_settings(&json).bind(|| {
        insta::assert_json_snapshot!("check_json", json.ok().json_lines());
    });
    // Bios weigh signals: two together restrict, one alone does not.
    let bio = guardrail(&["text", "check", "--surface", "bio"]).stdin(
        "🗺 on chapter 14\nchapter 14 of my novel\nmap collector 🗺\nlovers of the little things in life\n",
    );
    snapshot_settings(&bio).bind(|| {
        insta::assert_snapshot!("check_bio_plain", bio.ok().stdout());
    });
}

#[test]
fn snapshot_explain() {
    for (name, args) in [
        ("explain_confusables", &["#P\u{0435}doB\u{0430}1t"][..]),
        ("explain_invisible", &["pedo\u{200b}bait"][..]),
        (
            "explain_enclosed_letters",
            &["\u{24df}\u{24d4}\u{24d3}\u{24de}"][..],
        ),
        (
            "explain_hashtag_camel_case",
            &["--surface", "hashtag", "#MnsfwGirls"][..],
        ),
        ("explain_near_miss", &["torpedo"][..]),
    ] {
        let mut command = guardrail(&["text", "explain"]);
        for arg in args {
            command = command.arg(arg);
        }
        snapshot_settings(&command).bind(|| {
            insta::assert_snapshot!(name, command.ok().stdout());
        });
    }
}

#[test]
fn snapshot_suggest_plain_and_json() {
    let candidates =
        "pizza\npedo bait links\nPEDOBAIT\np3d0bait fans\npasta\npedometer app\ntorpedo\n";
    let plain = guardrail(&["text", "suggest", "--prefix", "p"]).stdin(candidates);
    snapshot_settings(&plain).bind(|| {
        insta::assert_snapshot!("suggest_plain", plain.ok().stdout());
    });
    let json = guardrail(&["text", "suggest", "--prefix", "p", "--json"]).stdin(candidates);
    snapshot_settings(&json).bind(|| {
        insta::assert_json_snapshot!("suggest_json", json.ok().json_lines());
    });
}

#[test]
fn snapshot_policy_good_and_bad() {
    let dir = Dir::new("snapshot-policy");
    dir.create(
        "bad.toml",
        "[[term]]\ntext = \"x\"\ntier = \"severe\"\ncategory = \"a\"\n",
    );
    let bad = dir.command(&["text", "policy", "bad.toml"]);
    snapshot_settings(&bad).bind(|| {
        insta::assert_snapshot!("policy_bad_file_stderr", bad.fails_with(2).stderr());
    });
    // The same file given by its absolute path: the scratch folder is redacted.
    let absolute = guardrail(&["text", "check", "--policy", &dir.arg("bad.toml")]).stdin("x\n");
    snapshot_settings(&absolute).bind(|| {
        insta::assert_snapshot!("check_bad_policy_stderr", absolute.fails_with(2).stderr());
    });
    let good = guardrail(&["text", "policy", "default.toml"]).current_dir(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../guardrail-text/policies"
    ));
    snapshot_settings(&good).bind(|| {
        insta::assert_snapshot!("policy_default", good.ok().stdout());
    });
}
