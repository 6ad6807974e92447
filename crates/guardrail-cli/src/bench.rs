//! `guardrail bench serve`: a bounded load test of the HTTP service on loopback, beside
//! the same work done in process, so the ratio is the service's overhead.
//!
//! Wiring only. It builds (or opens) a ledger, starts the service in this process on a
//! loopback port, and drives it with keep-alive HTTP/1.1 connections from a small client
//! written for this (no external tool): account-suggestion decisions with 100 candidates
//! each, single text checks, and durable event batches. Each scenario runs for a fixed
//! time and reports requests per second, p50 and p99 latency; decisions are also made in
//! process on the same snapshot for the same requests.
//!
//! It must never talk to anything but the server it started.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use guardrail_server::routes::decide::{DecideRequest, decide_on};
use guardrail_server::{Scope, ServeConfig, Service};
use guardrail_store::{Store, StoreOptions};
use guardrail_types::Surface;
use rand::{Rng, SeedableRng};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::ledger::runtime;
use crate::serve::build_demo_ledger;

/// Arguments of `guardrail bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    command: BenchCommand,
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Load-test the HTTP service on loopback beside the in-process engine.
    Serve(ServeBenchArgs),
    /// Durable report intake over HTTP, beside the disk's fsync floor.
    Intake(crate::bench_intake::IntakeBenchArgs),
}

#[derive(Debug, Args)]
struct ServeBenchArgs {
    /// Where the demo ledger is built (a temporary directory by default).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Seconds per scenario.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Concurrent connections.
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// Candidates per decision request.
    #[arg(long, default_value_t = 100)]
    candidates: usize,
    /// Events per batch in the events scenario.
    #[arg(long, default_value_t = 2_000)]
    batch: usize,
    /// Write decisions to the ledger's decision log (every non-allow, 1% of allows), as
    /// `guardrail serve` does; `--decision-log false` measures without it.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    decision_log: bool,
    /// Only these scenarios (decide, text, events, hma), comma separated. `hma` (HMA's
    /// `/m/lookup` on a generated PDQ bank of --bank-size) runs only when named.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// PDQ hashes in the generated bank of the `hma` scenario.
    #[arg(long, default_value_t = 1_000_000)]
    bank_size: u64,
    /// Text scenario: also run it with this many requests in flight on each connection
    /// (HTTP/1.1 pipelining; each request still checks one text). 1: not run.
    #[arg(long, default_value_t = 1)]
    pipeline: usize,
    /// `hma` scenario: also writes the generated bank to FILE as `content_id,pdq` lines
    /// (noise hashes only), so a peer HMA can be loaded with the same bank.
    #[arg(long, value_name = "FILE")]
    write_bank: Option<PathBuf>,
    /// `hma` scenario: an HMA-compatible server (HOST:PORT, plain HTTP) holding the same
    /// bank in a bank named BENCH_BANK with the same content ids (see --write-bank). It
    /// gets the same queries on the same connections in the same run, and its matches for
    /// the first queries are compared with Guardrail's.
    #[arg(long, value_name = "HOST:PORT")]
    peer: Option<SocketAddr>,
}

/// Runs `guardrail bench ...`.
pub fn run(args: BenchArgs) -> Result<ExitCode> {
    match args.command {
        BenchCommand::Serve(args) => runtime()?.block_on(bench_serve(args)),
        BenchCommand::Intake(args) => runtime()?.block_on(crate::bench_intake::bench_intake(args)),
    }
}

pub(crate) struct Figures {
    requests: u64,
    seconds: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// CPU seconds this process (client and server together) spent over the run, where
    /// measured: on a shared machine it varies less than wall-clock throughput.
    cpu_seconds: Option<f64>,
}

impl Figures {
    pub(crate) fn per_second(&self) -> f64 {
        self.requests as f64 / self.seconds.max(1e-9)
    }

    /// Figures of `sorted` latencies over `seconds`.
    pub(crate) fn from_latencies(sorted: &[Duration], seconds: f64) -> Figures {
        Figures {
            requests: sorted.len() as u64,
            seconds,
            p50_ms: percentile(sorted, 0.5),
            p99_ms: percentile(sorted, 0.99),
            cpu_seconds: None,
        }
    }
}

/// CPU seconds (user and system) this process has used so far, from `/proc/self/stat`
/// (in USER_HZ ticks, 100 a second on Linux); `None` elsewhere.
pub(crate) fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name may hold spaces; the fields after its closing parenthesis don't.
    let after_name = &stat[stat.rfind(')')? + 2..];
    let mut fields = after_name.split_whitespace().skip(11);
    let user: f64 = fields.next()?.parse().ok()?;
    let system: f64 = fields.next()?.parse().ok()?;
    Some((user + system) / 100.0)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)].as_secs_f64() * 1e3
}

/// One HTTP/1.1 connection, kept alive unless the server closes it (a server that
/// answers `Connection: close` gets a new connection for the next request, as its
/// clients would open one).
pub(crate) struct Connection {
    address: SocketAddr,
    reader: Option<BufReader<TcpStream>>,
}

impl Connection {
    pub(crate) async fn open(address: SocketAddr) -> Result<Connection> {
        let mut connection = Connection {
            address,
            reader: None,
        };
        connection.reader = Some(connection.connect().await?);
        Ok(connection)
    }

    async fn connect(&self) -> Result<BufReader<TcpStream>> {
        let stream = TcpStream::connect(self.address)
            .await
            .with_context(|| format!("cannot connect to {}", self.address))?;
        stream.set_nodelay(true)?;
        Ok(BufReader::new(stream))
    }

    /// Sends `requests` in one write (HTTP/1.1 pipelining; one request is just a batch of
    /// one) and reads their answers in order; returns each answer's status, body and
    /// latency from the write. A server that closes the connection before the last answer
    /// is an error; one that closes after it gets a new connection next time.
    pub(crate) async fn send(
        &mut self,
        requests: &[Planned],
        token: &str,
    ) -> Result<Vec<(u16, Vec<u8>, Duration)>> {
        let mut reader = match self.reader.take() {
            Some(reader) => reader,
            None => self.connect().await?,
        };
        // One write, so that a small request leaves as one segment (two writes with
        // TCP_NODELAY are two segments, and the server wakes for each).
        let mut batch = Vec::new();
        for (method, path, body) in requests {
            encode(&mut batch, method, path, token, body);
        }
        let sent = Instant::now();
        reader.get_mut().write_all(&batch).await?;
        let mut answers = Vec::with_capacity(requests.len());
        for index in 0..requests.len() {
            let (status, body, closes) = read_answer(&mut reader).await?;
            answers.push((status, body, sent.elapsed()));
            if closes && index + 1 < requests.len() {
                bail!(
                    "the server closed a pipelined connection after {} of {} answers",
                    index + 1,
                    requests.len()
                );
            }
            if closes {
                return Ok(answers);
            }
        }
        self.reader = Some(reader);
        Ok(answers)
    }
}

/// Appends one HTTP/1.1 request (a body only when not empty) to `out`.
fn encode(out: &mut Vec<u8>, method: &str, path: &str, token: &str, body: &[u8]) {
    let head = if body.is_empty() {
        format!("{method} {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n\r\n")
    } else {
        format!(
            "{method} {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
    };
    out.extend_from_slice(head.as_bytes());
    out.extend_from_slice(body);
}

/// Reads one answer: its status, its body, and whether the server closes after it.
async fn read_answer(reader: &mut BufReader<TcpStream>) -> Result<(u16, Vec<u8>, bool)> {
    let mut line = String::new();
    reader.read_line(&mut line).await?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("not an HTTP status line: {line:?}"))?;
    let mut length = 0usize;
    let mut closes = false;
    loop {
        line.clear();
        reader.read_line(&mut line).await?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse()?;
            } else if name.eq_ignore_ascii_case("connection") {
                closes = value.trim().eq_ignore_ascii_case("close");
            }
        }
    }
    let mut answer = vec![0u8; length];
    reader.read_exact(&mut answer).await?;
    Ok((status, answer, closes))
}

/// One request of a load: method, path and body (empty: none).
pub(crate) type Planned = (&'static str, String, Vec<u8>);

/// How a load is driven: connections, requests in flight on each, and for how long.
#[derive(Clone, Copy)]
struct Load {
    connections: usize,
    depth: usize,
    seconds: u64,
}

/// Runs the requests `plan` gives (request `n` of the load) on `load.connections`
/// connections for `load.seconds`, `load.depth` at a time on each (written at once and
/// answered in order; 1 is one request at a time); every answer must have status
/// `expect`. Latency is from a request's write to its whole answer read; planning a
/// request is not timed.
async fn drive(
    address: SocketAddr,
    token: &str,
    expect: u16,
    load: Load,
    plan: Arc<dyn Fn(u64) -> Planned + Send + Sync>,
) -> Result<Figures> {
    let started = Instant::now();
    let cpu_before = process_cpu_seconds();
    let until = started + Duration::from_secs(load.seconds);
    let mut tasks = Vec::new();
    for worker in 0..load.connections {
        let token = token.to_string();
        let plan = plan.clone();
        tasks.push(tokio::spawn(async move {
            let mut connection = Connection::open(address).await?;
            let mut latencies = Vec::new();
            let mut n = worker as u64;
            while Instant::now() < until {
                let batch: Vec<Planned> = (0..load.depth.max(1))
                    .map(|_| {
                        let planned = plan(n);
                        n += load.connections as u64;
                        planned
                    })
                    .collect();
                let answers = connection.send(&batch, &token).await?;
                for ((method, path, _), (status, _, latency)) in batch.iter().zip(answers) {
                    if status != expect {
                        bail!("{method} {path} answered {status}, not {expect}");
                    }
                    latencies.push(latency);
                }
            }
            Ok::<_, anyhow::Error>(latencies)
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await??);
    }
    let seconds = started.elapsed().as_secs_f64();
    let cpu_seconds = cpu_before
        .zip(process_cpu_seconds())
        .map(|(before, after)| after - before);
    all.sort_unstable();
    Ok(Figures {
        cpu_seconds,
        ..Figures::from_latencies(&all, seconds)
    })
}

/// Runs `make_body` POSTs to `path` on `connections` connections for `seconds`; every
/// answer must have status `expect`.
pub(crate) async fn load(
    address: SocketAddr,
    token: &str,
    path: &str,
    expect: u16,
    connections: usize,
    seconds: u64,
    make_body: Arc<dyn Fn(u64) -> Vec<u8> + Send + Sync>,
) -> Result<Figures> {
    load_pipelined(
        address,
        token,
        path,
        expect,
        connections,
        1,
        seconds,
        make_body,
    )
    .await
}

/// Runs GET requests to the paths `make_path` gives on `connections` connections for
/// `seconds`; every answer must have status `expect`.
pub(crate) async fn load_get(
    address: SocketAddr,
    token: &str,
    expect: u16,
    connections: usize,
    seconds: u64,
    make_path: Arc<dyn Fn(u64) -> String + Send + Sync>,
) -> Result<Figures> {
    let plan = move |n: u64| ("GET", make_path(n), Vec::new());
    let load = Load {
        connections,
        depth: 1,
        seconds,
    };
    drive(address, token, expect, load, Arc::new(plan)).await
}

/// Like [`load`], with `depth` requests in flight on each connection (HTTP/1.1
/// pipelining), so the transport's system calls are shared by `depth` requests.
#[allow(clippy::too_many_arguments)]
async fn load_pipelined(
    address: SocketAddr,
    token: &str,
    path: &str,
    expect: u16,
    connections: usize,
    depth: usize,
    seconds: u64,
    make_body: Arc<dyn Fn(u64) -> Vec<u8> + Send + Sync>,
) -> Result<Figures> {
    let path = path.to_string();
    let plan = move |n: u64| ("POST", path.clone(), make_body(n));
    let load = Load {
        connections,
        depth,
        seconds,
    };
    drive(address, token, expect, load, Arc::new(plan)).await
}

async fn bench_serve(args: ServeBenchArgs) -> Result<ExitCode> {
    let temp = tempfile_dir()?;
    let dir = args.data_dir.clone().unwrap_or_else(|| temp.clone());
    let (url, demo) = build_demo_ledger(&dir, 1).await?;
    let token = demo
        .tokens
        .iter()
        .find(|(s, _)| *s == Scope::Service)
        .map(|(_, t)| t.clone())
        .context("no service token")?;
    let store = Store::open(&url, StoreOptions::default()).await?;
    let service = Service::new(
        store,
        ServeConfig {
            decision_log: args.decision_log,
            // The benchmark measures throughput, not the limit.
            rate_limit: None,
            ..ServeConfig::default()
        },
    )?;
    service.start();
    while service.fresh_guard().is_err() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let server = tokio::spawn(guardrail_server::serve(
        service.clone(),
        listener,
        std::future::pending(),
    ));
    let accounts: Arc<Vec<String>> = Arc::new(
        service
            .ledger()
            .context("ledger")?
            .accounts
            .iter()
            .map(|a| a.external.clone())
            .collect(),
    );
    let wanted = |name: &str| args.only.is_empty() || args.only.iter().any(|o| o == name);
    println!(
        "guardrail bench serve: {} accounts, {} connections, {} s per scenario, decision log {}, loopback {address}",
        accounts.len(),
        args.connections,
        args.seconds,
        if args.decision_log { "on" } else { "off" }
    );
    let request_of = {
        let accounts = accounts.clone();
        let candidates = args.candidates;
        move |n: u64| {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(n);
            let pick = |rng: &mut rand_chacha::ChaCha8Rng| {
                accounts[rng.gen_range(0..accounts.len())].clone()
            };
            DecideRequest {
                viewer: Some(pick(&mut rng)),
                sender: None,
                query: None,
                candidates: (0..candidates).map(|_| pick(&mut rng)).collect(),
            }
        }
    };
    if wanted("decide") {
        // In process first: the same requests, no HTTP.
        let started = Instant::now();
        let mut latencies = Vec::new();
        let mut n = 0u64;
        while started.elapsed() < Duration::from_secs(args.seconds) {
            let request = request_of(n);
            n += 1;
            let sent = Instant::now();
            let answer = decide_on(&service, Surface::AccountSuggestions, &request);
            std::hint::black_box(answer);
            latencies.push(sent.elapsed());
        }
        latencies.sort_unstable();
        let in_process = Figures {
            requests: latencies.len() as u64,
            seconds: started.elapsed().as_secs_f64(),
            p50_ms: percentile(&latencies, 0.5),
            p99_ms: percentile(&latencies, 0.99),
            cpu_seconds: None,
        };
        let body_of = {
            let request_of = request_of.clone();
            move |n: u64| {
                let r = request_of(n);
                serde_json::to_vec(
                    &serde_json::json!({"viewer": r.viewer, "candidates": r.candidates}),
                )
                .unwrap_or_default()
            }
        };
        let http = load(
            address,
            &token,
            "/v1/decide/account_suggestions",
            200,
            args.connections,
            args.seconds,
            Arc::new(body_of),
        )
        .await?;
        report(
            &format!(
                "decide account_suggestions ({} candidates), in process (1 thread)",
                args.candidates
            ),
            &in_process,
            "requests",
        );
        report(
            &format!(
                "decide account_suggestions ({} candidates), HTTP",
                args.candidates
            ),
            &http,
            "requests",
        );
        println!(
            "  HTTP / in-process throughput: {:.2} (the in-process loop uses one thread; the server two)",
            http.per_second() / in_process.per_second()
        );
    }
    if wanted("text") {
        let texts = [
            "hello there",
            "cute kids pics",
            "weekend hiking trip",
            "dm for trade",
        ];
        let body_of = Arc::new(move |n: u64| {
            serde_json::to_vec(&serde_json::json!({
                "text": texts[(n % texts.len() as u64) as usize],
                "place": "search"
            }))
            .unwrap_or_default()
        });
        let http = load(
            address,
            &token,
            "/v1/text/check",
            200,
            args.connections,
            args.seconds,
            body_of.clone(),
        )
        .await?;
        report("text check (one text per request), HTTP", &http, "requests");
        if args.pipeline > 1 {
            let pipelined = load_pipelined(
                address,
                &token,
                "/v1/text/check",
                200,
                args.connections,
                args.pipeline,
                args.seconds,
                body_of,
            )
            .await?;
            report(
                &format!(
                    "text check (one text per request), HTTP, {} in flight per connection (pipelined)",
                    args.pipeline
                ),
                &pipelined,
                "requests",
            );
        }
    }
    if wanted("events") {
        let batch = args.batch;
        let accounts_for_events = accounts.clone();
        let prefix = format!("bench-{:x}", rand::random::<u32>());
        let http = load(
            address,
            &token,
            "/v1/events",
            200,
            args.connections.min(4),
            args.seconds,
            Arc::new(move |n: u64| {
                let mut out = Vec::with_capacity(batch * 96);
                let at = guardrail_server::unix_now();
                for i in 0..batch {
                    let a = &accounts_for_events[(n as usize * 7 + i) % accounts_for_events.len()];
                    let b = &accounts_for_events[(n as usize * 13 + i * 31) % accounts_for_events.len()];
                    out.extend_from_slice(
                        format!(
                            "{{\"id\":\"{prefix}-{n}-{i}\",\"type\":\"view\",\"at\":{at},\"account\":\"{a}\",\"target\":\"{b}\"}}\n"
                        )
                        .as_bytes(),
                    );
                }
                out
            }),
        )
        .await?;
        let events = Figures {
            requests: http.requests * batch as u64,
            ..http
        };
        report(
            &format!("events over HTTP, durable ({batch} per batch, NDJSON)"),
            &events,
            "events",
        );
    }
    if args.only.iter().any(|o| o == "hma") {
        crate::bench_hma::bench_hma(
            &service,
            address,
            &token,
            crate::bench_hma::HmaRun {
                bank_size: args.bank_size,
                connections: args.connections,
                seconds: args.seconds,
                write_bank: args.write_bank.clone(),
                peer: args.peer,
            },
        )
        .await?;
    }
    server.abort();
    if args.data_dir.is_none() {
        let _ = std::fs::remove_dir_all(&temp);
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn report(name: &str, figures: &Figures, unit: &str) {
    let cpu = match figures.cpu_seconds {
        Some(cpu) if figures.requests > 0 => format!(
            ", CPU {:.1} µs per {} (client and server, {:.2} cores busy)",
            cpu * 1e6 / figures.requests as f64,
            unit.trim_end_matches('s'),
            cpu / figures.seconds.max(1e-9)
        ),
        _ => String::new(),
    };
    println!(
        "{name}: {:.0} {unit}/s ({} in {:.1} s), p50 {:.3} ms, p99 {:.3} ms{cpu}",
        figures.per_second(),
        figures.requests,
        figures.seconds,
        figures.p50_ms,
        figures.p99_ms
    );
}

fn tempfile_dir() -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("guardrail-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
