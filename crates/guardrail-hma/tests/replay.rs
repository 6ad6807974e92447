//! The acceptance test of HMA compatibility: serves the HMA router alone on loopback
//! ports (one fresh, one whose index is marked stale) and runs `scripts/hma_replay.py`
//! over the 59 recordings in `../shared/reference/hma-recordings/`; every cassette and
//! both harness steps must pass, none skipped.
//!
//! Skips, saying why, only when PyYAML (or python3) is missing and
//! `GUARDRAIL_REQUIRE_HMA_REPLAY` is unset; CI sets it. It never reaches beyond loopback:
//! the script rewrites every recorded URL to its own fixture server on 127.0.0.1.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use guardrail_hma::{FetchPolicy, HmaConfig, HmaState, NoJournal, not_found_page, router};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn replay_required() -> bool {
    std::env::var_os("GUARDRAIL_REQUIRE_HMA_REPLAY").is_some_and(|value| !value.is_empty())
}

fn python_has_yaml() -> bool {
    Command::new("python3")
        .args(["-c", "import yaml"])
        .output()
        .is_ok_and(|output| output.status.success())
}

async fn serve(stale: bool) -> std::net::SocketAddr {
    let config = HmaConfig {
        fetch: FetchPolicy {
            // The replay's fixture server is on 127.0.0.1.
            allow_private_addresses: true,
            ..FetchPolicy::default()
        },
        ..HmaConfig::default()
    };
    let state = HmaState::new(config, Arc::new(NoJournal)).expect("HMA state");
    state.set_index_stale(stale);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let address = listener.local_addr().expect("local address");
    let app = router(state).fallback(not_found_page);
    tokio::spawn(async move { axum::serve(listener, app).await });
    address
}

#[test]
fn all_hma_recordings_replay() {
    if !python_has_yaml() {
        let why =
            "python3 with PyYAML is needed: pip install -r scripts/hma_replay_requirements.txt";
        assert!(
            !replay_required(),
            "GUARDRAIL_REQUIRE_HMA_REPLAY is set but {why}"
        );
        eprintln!("SKIP all_hma_recordings_replay: {why}");
        return;
    }
    let recordings = repo_root().join("../shared/reference/hma-recordings");
    assert!(
        recordings.is_dir(),
        "the HMA recordings are missing at {}",
        recordings.display()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let (fresh, stale) = runtime.block_on(async { (serve(false).await, serve(true).await) });
    let output = Command::new("python3")
        .current_dir(repo_root())
        .arg("scripts/hma_replay.py")
        .args(["--base-url", &format!("http://{fresh}")])
        .args(["--stale-base-url", &format!("http://{stale}")])
        .args(["--wait-ready", "10", "--timeout", "60"])
        .output()
        .expect("run scripts/hma_replay.py");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let failures: Vec<&str> = stdout.lines().filter(|l| !l.starts_with("PASS")).collect();
    assert!(
        output.status.success() && stdout.contains("61 passed, 0 failed, 0 skipped"),
        "the replay did not pass (exit {:?}):\n{}\n{stderr}",
        output.status.code(),
        failures.join("\n")
    );
    runtime.shutdown_background();
}
