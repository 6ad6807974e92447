//! `guardrail bench intake`: durable report intake over HTTP, beside the disk's fsync floor.
//!
//! Wiring only. It opens a fresh ledger (a temporary SQLite file, or `--db` — a PostgreSQL
//! URL must name an empty database), starts the service in this process on a loopback
//! port, and sends reports (`POST /v1/reports`, each acknowledged 201 only once its event is
//! durable) from many keep-alive connections for a fixed time. Beside it, in the same run,
//! it measures the floor a design without group commit would sit on: how many 4 KiB
//! write-and-`fdatasync` rounds per second the disk does in the ledger's folder — one per
//! acknowledged report if each were committed alone.
//!
//! It must never talk to anything but the server it started, or write outside its folder.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Args;
use guardrail_server::{Scope, ServeConfig, Service, new_token, unix_now};
use guardrail_store::{DbUrl, Store, StoreOptions};

use crate::bench::{Figures, load, report};

/// Arguments of `guardrail bench intake`.
#[derive(Debug, Args)]
pub struct IntakeBenchArgs {
    /// The ledger: an empty PostgreSQL database (`postgres://…`) or a SQLite path; a
    /// temporary SQLite file by default.
    #[arg(long, value_name = "URL")]
    db: Option<String>,
    /// Seconds of load.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Concurrent connections (reporters).
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Where the fsync floor is measured (default: the SQLite file's folder, else the
    /// temporary folder; for PostgreSQL name its data directory's disk).
    #[arg(long, value_name = "DIR")]
    fsync_dir: Option<PathBuf>,
}

/// Runs `guardrail bench intake`.
pub async fn bench_intake(args: IntakeBenchArgs) -> Result<ExitCode> {
    let temp = std::env::temp_dir().join(format!("guardrail-intake-{}", std::process::id()));
    std::fs::create_dir_all(&temp)?;
    let url = match &args.db {
        Some(text) => DbUrl::parse(text).with_context(|| format!("--db {text:?}"))?,
        None => DbUrl::parse(&format!("sqlite://{}", temp.join("ledger.db").display()))?,
    };
    let store = Store::open(&url, StoreOptions::default()).await?;
    let (count, _) = store.head().await?;
    if count != 0 {
        bail!("--db {url}: the ledger holds {count} records; the intake bench needs an empty one");
    }
    let token = new_token(Scope::Service, unix_now(), None, "guardrail bench intake");
    store.append(vec![token.event]).await?;
    let service = Service::new(store, ServeConfig::default())?;
    service.start();
    let deadline = Instant::now() + Duration::from_secs(60);
    while service.fresh_guard().is_err() {
        if Instant::now() > deadline {
            bail!("the service did not become ready in 60 s");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let server = tokio::spawn(guardrail_server::serve(
        service.clone(),
        listener,
        std::future::pending(),
    ));
    let fsync_dir = args.fsync_dir.clone().unwrap_or_else(|| match &args.db {
        Some(text) if !text.starts_with("postgres") => {
            Path::new(text.trim_start_matches("sqlite://"))
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| temp.clone())
        }
        _ => temp.clone(),
    });
    println!(
        "guardrail bench intake: {url}, {} connections, {} s, loopback {address}",
        args.connections, args.seconds
    );
    let floor = fsync_floor(&fsync_dir, Duration::from_secs(args.seconds.min(5)))?;
    let run = format!("{:x}", rand::random::<u32>());
    let categories = [
        "child_sexual_exploitation",
        "spam",
        "harassment",
        "child_sexual_exploitation",
    ];
    let figures = load(
        address,
        &token.token,
        "/v1/reports",
        201,
        args.connections,
        args.seconds,
        Arc::new(move |n: u64| {
            serde_json::to_vec(&serde_json::json!({
                "client_key": format!("bench-{run}-{n}"),
                "reporter": (n % 9_973).to_string(),
                "subject": {"account": (n % 50_021).to_string()},
                "category": categories[(n % 4) as usize],
                "text": "bench report",
            }))
            .unwrap_or_default()
        }),
    )
    .await?;
    report(
        "fsync floor (4 KiB write + fdatasync, one at a time)",
        &floor,
        "commits",
    );
    report(
        "reports acknowledged durably over HTTP (group commit)",
        &figures,
        "reports",
    );
    println!(
        "  acknowledged reports per fsync-floor commit: {:.1}",
        figures.per_second() / floor.per_second()
    );
    server.abort();
    let _ = std::fs::remove_dir_all(&temp);
    Ok(ExitCode::SUCCESS)
}

/// Sequential 4 KiB writes, each followed by `fdatasync`, for `time`.
fn fsync_floor(dir: &Path, time: Duration) -> Result<Figures> {
    let path = dir.join(format!("guardrail-fsync-floor-{}", std::process::id()));
    let mut file = std::fs::File::create(&path)
        .with_context(|| format!("cannot create {} for the fsync floor", path.display()))?;
    let block = [0x5au8; 4096];
    let started = Instant::now();
    let mut latencies = Vec::new();
    while started.elapsed() < time {
        let one = Instant::now();
        file.write_all(&block)?;
        file.sync_data()?;
        latencies.push(one.elapsed());
    }
    let seconds = started.elapsed().as_secs_f64();
    drop(file);
    let _ = std::fs::remove_file(&path);
    latencies.sort_unstable();
    Ok(Figures::from_latencies(&latencies, seconds))
}
