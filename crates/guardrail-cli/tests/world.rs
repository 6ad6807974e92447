//! End-to-end: `guardrail world generate`, `guardrail audit run` and `guardrail demo` through
//! the real binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn guardrail(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_guardrail"))
        .args(args)
        .output()
        .expect("the guardrail binary runs")
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("cli-world-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn generate(dir: &Path, seed: &str, extra: &[&str]) -> Output {
    let out = dir.to_str().expect("utf-8 path");
    let mut args = vec!["world", "generate", "--seed", seed, "--out", out];
    args.extend_from_slice(extra);
    guardrail(&args)
}

#[test]
fn generate_writes_the_documented_files_deterministically() {
    let (a, b) = (scratch("a"), scratch("b"));
    for dir in [&a, &b] {
        let output = generate(dir, "9", &["--scale", "2000"]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    for name in [
        "meta.json",
        "accounts.csv",
        "posts.csv",
        "follows.csv",
        "views.csv",
        "likes.csv",
        "comments.csv",
        "searches.csv",
        "reports.csv",
        "blocks.csv",
        "truth/roles.csv",
        "truth/backups.csv",
        "truth/tokens.csv",
    ] {
        let (x, y) = (
            std::fs::read(a.join(name)).expect(name),
            std::fs::read(b.join(name)).expect(name),
        );
        assert!(x == y, "{name} differs between two runs with the same seed");
    }
}

#[test]
fn audit_run_off_and_on_print_one_json_object_and_decide_explains() {
    let dir = scratch("audit");
    let output = generate(&dir, "4", &["--scale", "3000", "--format", "jsonl"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let world = dir.to_str().expect("utf-8 path");
    let output = guardrail(&[
        "audit",
        "run",
        "--world",
        world,
        "--experiment",
        "e2",
        "--guardrails",
        "off",
        "--json",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON object");
    assert_eq!(report["experiment"], "e2");
    assert_eq!(report["guardrails"], "off");
    assert_eq!(report["seed"], 4);
    assert!(
        report["metrics"]["autocomplete_variant_rate"].is_number(),
        "{report}"
    );

    let output = guardrail(&[
        "audit",
        "run",
        "--world",
        world,
        "--experiment",
        "e2",
        "--guardrails",
        "on",
        "--json",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("one JSON object");
    assert_eq!(report["guardrails"], "on");
    assert_eq!(report["metrics"]["blocked_query_results"], 0.0, "{report}");
    assert_eq!(report["metrics"]["shadow_mismatches"], 0.0, "{report}");

    // A bad rules file names file, line and field, and nothing runs.
    let rules = dir.join("bad-rules.toml");
    std::fs::write(&rules, "name = \"x\"\n[[rule]]\nid = \"r\"\nsurfaces = [\"nowhere\"]\nwhen = []\naction = \"drop\"\n")
        .expect("rules");
    let output = guardrail(&[
        "audit",
        "run",
        "--world",
        world,
        "--experiment",
        "e2",
        "--guardrails",
        "on",
        "--rules",
        rules.to_str().expect("utf-8"),
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("bad-rules.toml:4"), "{stderr}");

    // `decide` explains what a surface may do, by hand.
    let output = guardrail(&[
        "decide",
        "--surface",
        "search",
        "--world",
        world,
        "--query",
        "#v3xn0r",
        "--json",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let decided: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(decided["verdict"]["action"], "drop", "{decided}");
    assert_eq!(
        decided["verdict"]["decided_by"], "blocked-query",
        "{decided}"
    );
    assert_eq!(decided["verdict"]["help_resources"], true, "{decided}");
    let output = guardrail(&[
        "decide",
        "--surface",
        "account_suggestions",
        "--world",
        world,
        "--viewer",
        "0",
        "--candidate",
        "no-such-handle",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no-such-handle"));
}

#[test]
fn bad_config_exits_2_naming_file_line_and_field() {
    let dir = scratch("bad-config");
    std::fs::create_dir_all(&dir).expect("dir");
    let config = dir.join("world.toml");
    std::fs::write(&config, "accounts = 5000\nseller_sharee = 0.1\n").expect("write");
    let output = generate(
        &dir.join("out"),
        "1",
        &["--config", config.to_str().expect("utf-8")],
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("world.toml:2") && stderr.contains("seller_sharee"),
        "{stderr}"
    );
}

#[test]
fn graph_map_and_evaluate_work_on_a_world_folder() {
    let dir = scratch("map");
    let output = generate(&dir, "5", &["--scale", "4000"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        dir.join("policy.toml").is_file(),
        "the platform policy is written"
    );
    let world = dir.to_str().expect("utf-8 path");
    let output = guardrail(&["graph", "map", "--world", world, "--budget", "20", "--json"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let map: serde_json::Value = serde_json::from_slice(&output.stdout).expect("one JSON object");
    let suspects = map["suspects"].as_array().expect("suspects");
    assert_eq!(suspects.len(), 20);
    assert!(!map["seeds"].as_array().expect("seeds").is_empty());
    assert!(
        suspects[0]["evidence"]["signals"]
            .as_array()
            .is_some_and(|s| !s.is_empty())
    );
    assert!(
        map["size"]["method"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );

    // A seeds file by handle and id; the map starts from exactly those.
    let accounts = std::fs::read_to_string(dir.join("accounts.csv")).expect("accounts");
    let handle = accounts
        .lines()
        .nth(2)
        .and_then(|line| line.split(',').nth(1))
        .expect("a handle");
    let seeds = dir.join("seeds.txt");
    std::fs::write(&seeds, format!("# reviewed\n@{handle}\n7\n")).expect("seeds");
    let output = guardrail(&[
        "graph",
        "map",
        "--world",
        world,
        "--seeds",
        seeds.to_str().expect("utf-8"),
        "--json",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let map: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(map["seeds"], serde_json::json!(["1", "7"]));

    // A seed that names nobody is an error with file and line.
    std::fs::write(&seeds, "7\n@nobody-here\n").expect("seeds");
    let output = guardrail(&[
        "graph",
        "map",
        "--world",
        world,
        "--seeds",
        seeds.to_str().expect("utf-8"),
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("seeds.txt:2") && stderr.contains("nobody-here"),
        "{stderr}"
    );

    let output = guardrail(&["graph", "evaluate", "--world", world, "--json"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let evaluation: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let precision = evaluation["map"]["precision"].as_f64().expect("precision");
    assert!(precision > 0.5, "{evaluation}");
}
