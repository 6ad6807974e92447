//! End to end: `guardrail audit run --external` and `guardrail audit report --external`
//! against the reference external system, a learned recommender (the `implicit` library's
//! ALS) served behind the black-box contract by `tools/external-recommender/serve.py`.
//!
//! Needs Python with the tool's requirements; without them the test skips with a note,
//! except under `GUARDRAIL_REQUIRE_PEERS=1` (`scripts/test.sh`, CI), where it fails.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use common::{Dir, guardrail, utf8};

struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn python_ready() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import implicit, numpy, scipy"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok && std::env::var("GUARDRAIL_REQUIRE_PEERS").as_deref() == Ok("1") {
        panic!(
            "python3 with tools/external-recommender/requirements.txt is required (GUARDRAIL_REQUIRE_PEERS=1)"
        );
    }
    ok
}

fn start(world: &Path) -> Server {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/external-recommender/serve.py");
    let mut child = Command::new("python3")
        .arg(&script)
        .args([
            "--world",
            utf8(world),
            "--listen",
            "127.0.0.1:0",
            "--threads",
            "1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start serve.py");
    let stdout = child.stdout.take().expect("serve.py stdout");
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("read serve.py's first line");
    let url = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("serve.py's first line should name its URL, got {first:?}"))
        .to_string();
    Server { child, url }
}

fn metric(run: &serde_json::Value, name: &str) -> f64 {
    run["metrics"][name]
        .as_f64()
        .unwrap_or_else(|| panic!("metric {name} missing in {run}"))
}

#[test]
fn a_learned_recommender_audited_from_outside_floods_and_guardrail_removes_it() {
    if !python_ready() {
        eprintln!("skipped: python3 with implicit, numpy and scipy not available");
        return;
    }
    let dir = Dir::new("external-audit");
    let world = dir.join("world");
    guardrail(&[
        "world",
        "generate",
        "--seed",
        "2",
        "--scale",
        "2500",
        "--out",
        utf8(&world),
    ])
    .ok();
    let server = start(&world);
    let run = |experiment: &str, mode: &str| {
        guardrail(&[
            "audit",
            "run",
            "--world",
            utf8(&world),
            "--external",
            &server.url,
            "--experiment",
            experiment,
            "--guardrails",
            mode,
            "--json",
        ])
        .ok()
        .json()
    };
    // E1: one view floods a new account's suggestions with the network; with Guardrail in
    // front none is shown, and the probes are still shown suggestions (not silenced).
    let (off, on) = (run("e1", "off"), run("e1", "on"));
    let base = metric(&off, "network_base_rate");
    assert!(
        metric(&off, "network_share_top10_after_one_view") > 5.0 * base,
        "the learned recommender should reproduce the flood: {off}"
    );
    assert_eq!(
        metric(&on, "network_share_top10_after_one_view"),
        0.0,
        "{on}"
    );
    assert!(
        metric(&on, "suggestions_shown_top10_after_one_view") > 0.0,
        "{on}"
    );
    assert_eq!(on["guardrails"], "on");
    // E2: autocomplete offers variants of the banned terms off, none on.
    let (off, on) = (run("e2", "off"), run("e2", "on"));
    assert!(metric(&off, "autocomplete_variant_rate") > 0.0, "{off}");
    assert_eq!(metric(&on, "autocomplete_variant_rate"), 0.0, "{on}");
    assert_eq!(metric(&on, "blocked_query_results"), 0.0, "{on}");
    // Ads are not part of the contract: a clear refusal, not a made-up figure.
    let refused = guardrail(&[
        "audit",
        "run",
        "--world",
        utf8(&world),
        "--external",
        &server.url,
        "--experiment",
        "e4",
        "--guardrails",
        "off",
    ])
    .run();
    assert_ne!(refused.code(), Some(0));
    assert!(
        refused.stderr().contains("e1, e2, e3 or e6"),
        "{}",
        refused.stderr()
    );
    // The report: JSON and one self-contained page.
    let out = dir.join("report");
    guardrail(&[
        "audit",
        "report",
        "--world",
        utf8(&world),
        "--out",
        utf8(&out),
        "--external",
        &server.url,
        "--weeks",
        "2",
    ])
    .ok();
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("report.json")).expect("report.json"),
    )
    .expect("report.json is JSON");
    assert_eq!(json["kind"], "external");
    assert_eq!(json["runs_started_equal"], true, "serve.py has POST /reset");
    assert_eq!(
        json["longitudinal"]["off"]["weeks"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );
    assert_eq!(json["longitudinal"]["on"]["posts_supported"], true);
    let curve_off = json["follow_curve"]["off"]["share"][0]
        .as_f64()
        .unwrap_or(-1.0);
    let curve_on = json["follow_curve"]["on"]["share"][0]
        .as_f64()
        .unwrap_or(-1.0);
    assert!(curve_off > curve_on, "off {curve_off} on {curve_on}");
    let html = std::fs::read_to_string(out.join("report.html")).expect("report.html");
    assert!(
        html.matches("<svg").count() >= 6,
        "every figure drawn inline"
    );
    for outside in ["<script", "<link", "src=", "href=", "url("] {
        assert!(
            !html.contains(outside),
            "report.html must not load anything: found {outside}"
        );
    }
}

#[test]
fn an_unreachable_system_is_a_clear_error() {
    let dir = Dir::new("external-unreachable");
    let world = dir.join("world");
    guardrail(&[
        "world",
        "generate",
        "--seed",
        "3",
        "--scale",
        "1000",
        "--out",
        utf8(&world),
    ])
    .ok();
    let run = guardrail(&[
        "audit",
        "run",
        "--world",
        utf8(&world),
        "--external",
        "http://127.0.0.1:9",
        "--experiment",
        "e1",
        "--guardrails",
        "off",
    ])
    .run();
    assert_ne!(run.code(), Some(0));
    assert!(
        run.stderr()
            .contains("cannot use the external system at http://127.0.0.1:9"),
        "{}",
        run.stderr()
    );
}
