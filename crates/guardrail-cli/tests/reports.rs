//! `guardrail reports` end to end on a real SQLite ledger: intake is idempotent by client
//! key, the checker passes on a healthy ledger and exits 1 naming what is wrong (a key a
//! client saw acknowledged that the ledger lacks, a timer missed with no alert, a report
//! stuck), the sweep raises each due alert once, people move reports through the
//! lifecycle, and the transparency figures count them.

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use common::{Dir, guardrail, utf8};

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

const REPORT: &str = r#"{"client_key": "app-7f3a", "reporter": "17", "subject": {"account": "45"},
  "category": "child_sexual_exploitation", "text": "this account sells content"}"#;

#[test]
fn the_checker_proves_a_healthy_ledger_and_names_what_is_wrong() {
    let dir = Dir::new("reports-check");
    let db = dir.arg("ledger.db");
    let file = dir.create("report.json", REPORT);
    let first = guardrail(&["reports", "submit", "--db", &db, "--file", utf8(&file)]).ok();
    assert!(first.stdout().contains("received"), "{}", first.stdout());
    let again = guardrail(&["reports", "submit", "--db", &db, "--file", utf8(&file)]).ok();
    assert!(
        again.stdout().contains("already received"),
        "{}",
        again.stdout()
    );
    let changed = dir.create("changed.json", REPORT.replace("sells", "offers"));
    guardrail(&["reports", "submit", "--db", &db, "--file", utf8(&changed)]).fails_with(2);

    let acked = dir.create("acked.txt", "# keys the app saw acknowledged\napp-7f3a\n");
    let healthy = guardrail(&[
        "reports",
        "check",
        "--db",
        &db,
        "--acknowledged",
        utf8(&acked),
    ])
    .ok();
    assert!(
        healthy.stdout().contains(
            "1 reports in the ledger (0 closed, 1 open); 1 acknowledged keys checked; 0 problems"
        ),
        "{}",
        healthy.stdout()
    );

    // A key acknowledged to a client that the ledger never stored.
    let lost = dir.create("lost.txt", "app-7f3a\napp-lost-1\n");
    let missing = guardrail(&[
        "reports",
        "check",
        "--db",
        &db,
        "--acknowledged",
        utf8(&lost),
    ])
    .fails_with(1);
    assert!(
        missing
            .stdout()
            .contains("acknowledged_missing: app-lost-1"),
        "{}",
        missing.stdout()
    );

    // Two hours on, the child-safety report's first-action timer passed with no alert.
    let later = (now() + 2 * 3600).to_string();
    let overdue = guardrail(&["reports", "check", "--db", &db, "--now", &later]).fails_with(1);
    assert!(
        overdue
            .stdout()
            .contains("first_action_overdue_without_alert"),
        "{}",
        overdue.stdout()
    );
    let swept = guardrail(&["reports", "sweep", "--db", &db, "--now", &later]).ok();
    assert!(
        swept.stdout().contains("1 alerts raised"),
        "{}",
        swept.stdout()
    );
    let swept_again = guardrail(&["reports", "sweep", "--db", &db, "--now", &later]).ok();
    assert!(
        swept_again.stdout().contains("no alert due"),
        "{}",
        swept_again.stdout()
    );
    guardrail(&["reports", "check", "--db", &db, "--now", &later]).ok();
    // Alerted is not handled: left for longer than the stuck threshold, it is stuck.
    let stuck = guardrail(&[
        "reports",
        "check",
        "--db",
        &db,
        "--now",
        &later,
        "--stuck-after",
        "60",
    ])
    .fails_with(1);
    assert!(stuck.stdout().contains("stuck"), "{}", stuck.stdout());
}

#[test]
fn people_move_reports_through_the_lifecycle_and_the_figures_count_them() {
    let dir = Dir::new("reports-lifecycle");
    let db = dir.arg("ledger.db");
    let file = dir.create("report.json", REPORT);
    guardrail(&["reports", "submit", "--db", &db, "--file", utf8(&file)]).ok();
    let check = guardrail(&["reports", "check", "--db", &db, "--json"]).ok();
    let report: serde_json::Value = serde_json::from_str(&check.stdout()).unwrap_or_default();
    assert_eq!(report["reports"], 1, "{}", check.stdout());
    let metrics = guardrail(&["reports", "metrics", "--db", &db, "--json"]).ok();
    let figures: serde_json::Value = serde_json::from_str(&metrics.stdout()).unwrap_or_default();
    assert_eq!(
        figures["by_category"]["child_sexual_exploitation"]["received"],
        1,
        "{}",
        metrics.stdout()
    );

    let report_id = guardrail_reports::report_id("app-7f3a");
    let moves: &[(&str, &str, Option<i32>)] = &[
        // A decision straight from received is not in the lifecycle.
        ("actioned", "sold content", Some(2)),
        ("triaged", "priority confirmed", None),
        ("in_review", "claimed", None),
        ("actioned", "", Some(2)),
        ("actioned", "the bio offers content for sale", None),
        ("closed", "label applied to the entity", None),
    ];
    for (to, reason, failure) in moves {
        let command = guardrail(&[
            "reports",
            "transition",
            "--db",
            &db,
            "--id",
            &report_id,
            "--to",
            to,
            "--actor",
            "rev-1",
            "--reason",
            reason,
        ]);
        match failure {
            Some(code) => {
                command.fails_with(*code);
            }
            None => {
                let moved = command.ok();
                assert!(
                    moved.stdout().contains(&format!("is now {to}")),
                    "{}",
                    moved.stdout()
                );
            }
        }
    }
    // Someone saw it in review; it has moved since.
    guardrail(&[
        "reports",
        "transition",
        "--db",
        &db,
        "--id",
        &report_id,
        "--to",
        "closed",
        "--actor",
        "rev-2",
        "--reason",
        "again",
        "--from",
        "in_review",
    ])
    .fails_with(2);
    let metrics = guardrail(&["reports", "metrics", "--db", &db, "--json"]).ok();
    let figures: serde_json::Value = serde_json::from_str(&metrics.stdout()).unwrap_or_default();
    let row = &figures["by_category"]["child_sexual_exploitation"];
    assert_eq!(
        (
            row["received"].as_u64(),
            row["processed"].as_u64(),
            row["actioned"].as_u64()
        ),
        (Some(1), Some(1), Some(1)),
        "{}",
        metrics.stdout()
    );
    assert!(figures["final_state_p50"].is_u64(), "{}", metrics.stdout());
    let table = guardrail(&["reports", "metrics", "--db", &db]).ok();
    assert!(
        table.stdout().contains("child_sexual_exploitation"),
        "{}",
        table.stdout()
    );
    guardrail(&["reports", "check", "--db", &db]).ok();
}
