//! End-to-end tests of `guardrail text`: the real binary, real stdin and stdout.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn guardrail(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_guardrail"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("guardrail starts");
    // A command that fails early may close stdin before reading it; that is fine.
    let _ = child.stdin.take().expect("stdin is piped").write_all(stdin);
    child.wait_with_output().expect("guardrail finishes")
}

fn stdout_lines(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn check_prints_one_verdict_per_line() {
    let output = guardrail(
        &["text", "check"],
        b"#PedoBait\ntorpedo\n\xff\xfe\np e d o b a i t\n",
    );
    assert!(output.status.success(), "{output:?}");
    let lines = stdout_lines(&output);
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
    let output = guardrail(
        &["text", "check", "--json", "--surface", "bio"],
        "hi\n🗺 on chapter 14\n".as_bytes(),
    );
    assert!(output.status.success());
    let lines = stdout_lines(&output);
    assert_eq!(lines.len(), 2);
    let first: serde_json::Value = serde_json::from_str(&lines[0]).expect("json");
    assert_eq!(first["input"], "hi");
    assert_eq!(first["verdict"], "allow");
    let second: serde_json::Value = serde_json::from_str(&lines[1]).expect("json");
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
    let output = guardrail(&["text", "check", "speedo", "#mnsfw"], b"ignored\n");
    let lines = stdout_lines(&output);
    assert_eq!(lines.len(), 2);
    assert!(lines[0].starts_with("allow"));
    assert!(lines[1].starts_with("block"));
}

#[test]
fn fail_on_exits_one_when_a_verdict_reaches_it() {
    let clean = guardrail(&["text", "check", "--fail-on", "restrict"], b"hello\n");
    assert_eq!(clean.status.code(), Some(0));
    let dirty = guardrail(
        &["text", "check", "--fail-on", "block"],
        b"hello\npedobait\n",
    );
    assert_eq!(dirty.status.code(), Some(1));
}

#[test]
fn a_bad_policy_is_refused_with_file_line_and_field() {
    let dir = std::env::temp_dir().join(format!("guardrail-text-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("bad.toml");
    std::fs::write(
        &path,
        "[[term]]\ntext = \"x\"\ntier = \"severe\"\ncategory = \"a\"\n",
    )
    .expect("write");
    let output = guardrail(
        &[
            "text",
            "check",
            "--policy",
            path.to_str().expect("utf-8 path"),
        ],
        b"x\n",
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("bad.toml:3:8: field `term[0].tier`: expected one of"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty(), "no verdicts from a bad policy");
    let missing = guardrail(
        &["text", "check", "--policy", "/nonexistent/policy.toml"],
        b"x\n",
    );
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&missing.stderr)
            .contains("cannot read policy /nonexistent/policy.toml")
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn suggest_drops_blocked_candidates_and_variants() {
    let output = guardrail(
        &["text", "suggest", "--prefix", "p"],
        b"pizza\npedo bait links\nPEDOBAIT\np3d0bait fans\npasta\n",
    );
    assert!(output.status.success());
    assert_eq!(stdout_lines(&output), ["pizza", "pasta"]);
}

#[test]
fn policy_reports_its_rules() {
    let output = guardrail(
        &[
            "text",
            "policy",
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../guardrail-text/policies/default.toml"
            ),
        ],
        b"",
    );
    assert!(output.status.success(), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("guardrail-default:"));
}

#[test]
fn explain_shows_both_views() {
    let output = guardrail(&["text", "explain", "#P\u{0435}doB\u{0430}1t"], b"");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("folded:    #pedoba1t"), "{text}");
    assert!(text.contains("term view: pedobait"), "{text}");
}

#[test]
fn help_reads_well() {
    let output = guardrail(&["--help"], b"");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("Child-safety guardrails"));
    assert!(text.contains("text"));
}
