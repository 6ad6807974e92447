//! `guardrail serve`, `guardrail token`, `guardrail user`: the HTTP service and its
//! credentials.
//!
//! Wiring only. `serve --db URL --listen ADDR` serves an existing ledger;
//! `serve --demo` builds a ledger first — a fresh SQLite database in a data directory, the
//! default synthetic world ingested through the same event path as `world ingest`, a token
//! and a console user for each role — then serves it and prints working URLs, tokens and
//! `curl` lines. Tokens and users are ledger events, so every replica on the same database
//! sees them.

use std::io::{self, Read};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use guardrail_ledger::event::{Event, Payload, PolicyPublished, TokenRevoked};
use guardrail_ledger::ingest::world_events;
use guardrail_server::map_engine::MapEngine;
use guardrail_server::referrals::ClearingHouseConfig;
use guardrail_server::{Scope, ServeConfig, Service, new_token, new_user, unix_now};
use guardrail_sim::{WorldConfig, generate};
use guardrail_store::{DbUrl, Store, StoreOptions};

use crate::ledger::{DbArg, encode_state, open, runtime};

/// Arguments of `guardrail serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    db: DbArg,
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    listen: String,
    /// Build a demo ledger (the default synthetic world, a token and a console user per
    /// role) in --data-dir, then serve it.
    #[arg(long)]
    demo: bool,
    /// Where --demo keeps its database (recreated on each --demo run).
    #[arg(long, value_name = "DIR", default_value = "guardrail-demo")]
    data_dir: PathBuf,
    /// Seed of the demo world.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Logs as JSON lines instead of text.
    #[arg(long)]
    log_json: bool,
    /// Seconds without catching up with the ledger after which decisions fail closed.
    #[arg(long, default_value_t = 120)]
    stale_after: u64,
    /// Re-map the network every this many seconds (default: only on POST /v1/admin/remap).
    #[arg(long, value_name = "SECONDS")]
    remap_every: Option<u64>,
    /// The engine behind re-maps: `single` (the network map recomputed over the whole
    /// ledger each time) or `dataflow` (timely/differential dataflow following the ledger
    /// event by event: a re-map costs the change since the last one; communities kept by
    /// label propagation from the Leiden run at start).
    #[arg(long, value_name = "ENGINE", default_value = "single")]
    map_engine: guardrail_server::map_engine::MapEngine,
    /// Worker threads of the dataflow engine.
    #[arg(long, value_name = "N", default_value_t = 1)]
    map_workers: usize,
    /// Enforcement actions one automated rule may take per hour before its circuit
    /// breaker opens (an alert; a person resets it).
    #[arg(long, value_name = "N", default_value_t = 1_000)]
    rule_cap_per_hour: usize,
    /// Sweep report timers for due alerts every this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    sweep_every: u64,
    /// Largest request body, in bytes.
    #[arg(long, default_value_t = 16 * 1024 * 1024)]
    body_limit: usize,
    /// Seconds a request may take.
    #[arg(long, default_value_t = 30)]
    request_timeout: u64,
    /// Requests per second one token may make (twice that at once); beyond it the token
    /// is answered 429 with Retry-After. 0: no limit.
    #[arg(long, value_name = "PER_SECOND", default_value_t = guardrail_server::service::DEFAULT_RATE_LIMIT_PER_SECOND)]
    rate_limit: f64,
    /// Let HMA's `/h/hash?url=` fetch loopback and private addresses (for tests on one
    /// machine; never in a deployment).
    #[arg(long, hide = true)]
    hma_allow_private_fetch: bool,
    /// The clearing house's Reporting API (CyberTipline), where referrals go; its
    /// password is read from $GUARDRAIL_CYBERTIP_PASSWORD, never from the command line.
    /// Without it, referrals are refused with 503 and reports stay referred and open.
    #[arg(long, value_name = "URL")]
    cybertip_url: Option<String>,
    /// The Reporting API's user.
    #[arg(long, value_name = "USER", requires = "cybertip_url")]
    cybertip_user: Option<String>,
    /// The reporting person's email the referrals carry.
    #[arg(long, value_name = "EMAIL", requires = "cybertip_url")]
    reporter_email: Option<String>,
    /// The platform's application name the referrals carry.
    #[arg(long, value_name = "NAME", default_value = "the platform")]
    platform_name: String,
}

/// The clearing house's configuration from the flags and the environment.
fn clearing_house(args: &ServeArgs) -> Result<Option<ClearingHouseConfig>> {
    let Some(base_url) = &args.cybertip_url else {
        return Ok(None);
    };
    let user = args
        .cybertip_user
        .clone()
        .context("--cybertip-url needs --cybertip-user")?;
    let reporter_email = args.reporter_email.clone().context(
        "--cybertip-url needs --reporter-email (the schema requires the reporter's email)",
    )?;
    let password = std::env::var("GUARDRAIL_CYBERTIP_PASSWORD")
        .context("--cybertip-url needs the password in $GUARDRAIL_CYBERTIP_PASSWORD")?;
    Ok(Some(ClearingHouseConfig {
        base_url: base_url.clone(),
        user,
        password,
        reporter_email,
        platform: args.platform_name.clone(),
    }))
}

/// Runs `guardrail serve`.
pub fn run(args: ServeArgs) -> Result<ExitCode> {
    init_logs(args.log_json);
    runtime()?.block_on(serve(args))
}

fn init_logs(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("GUARDRAIL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,guardrail::http=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

pub(crate) struct Demo {
    pub(crate) tokens: Vec<(Scope, String)>,
    users: Vec<(String, Scope, String)>,
}

async fn serve(args: ServeArgs) -> Result<ExitCode> {
    let (url, demo) = if args.demo {
        let (url, demo) = build_demo(&args).await?;
        (url, Some(demo))
    } else {
        (args.db.url()?, None)
    };
    let store = Store::open(&url, StoreOptions::default())
        .await
        .with_context(|| format!("cannot open the ledger at {url}"))?;
    anyhow::ensure!(
        args.rate_limit.is_finite() && args.rate_limit >= 0.0,
        "--rate-limit takes requests per second per token, 0 (no limit) or more; got {}",
        args.rate_limit
    );
    let config = ServeConfig {
        stale_after: Duration::from_secs(args.stale_after),
        remap_every: args.remap_every.map(Duration::from_secs),
        sweep_every: Duration::from_secs(args.sweep_every.max(1)),
        rule_cap_per_hour: args.rule_cap_per_hour,
        map_engine: match args.map_engine {
            MapEngine::Dataflow { .. } => MapEngine::Dataflow {
                workers: args.map_workers.max(1),
            },
            single => single,
        },
        body_limit: args.body_limit,
        request_timeout: Duration::from_secs(args.request_timeout),
        hma_fetch_private: args.hma_allow_private_fetch,
        rate_limit: (args.rate_limit > 0.0)
            .then(|| guardrail_server::rate::RateLimit::per_second(args.rate_limit)),
        clearing_house: clearing_house(&args)?,
        registry_key: match std::env::var("GUARDRAIL_REGISTRY_KEY") {
            Ok(hex) => Some(
                guardrail_server::registry::RegistrySecret::from_hex(&hex)
                    .map_err(anyhow::Error::msg)
                    .context("$GUARDRAIL_REGISTRY_KEY")?,
            ),
            Err(_) => None,
        },
        ..ServeConfig::default()
    };
    let service = Service::new(store, config)?;
    service.start();
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let address = listener.local_addr()?;
    eprintln!("guardrail: serving {url} on http://{address}");
    if let Some(demo) = demo {
        let waited = Instant::now();
        while service.fresh_guard().is_err() {
            if waited.elapsed() > Duration::from_secs(600) {
                bail!("the demo snapshot was not ready after 10 minutes");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        print_demo(&service, address, &demo);
    }
    guardrail_server::serve(service, listener, shutdown_signal()).await?;
    eprintln!("guardrail: stopped; every acknowledged write is stored");
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}

async fn build_demo(args: &ServeArgs) -> Result<(DbUrl, Demo)> {
    build_demo_ledger(&args.data_dir, args.seed).await
}

/// A fresh demo ledger in `data_dir`: the default synthetic world of `seed` through the
/// event path, and a token and a console user per role.
pub(crate) async fn build_demo_ledger(
    data_dir: &std::path::Path,
    seed: u64,
) -> Result<(DbUrl, Demo)> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    let dir = data_dir
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", data_dir.display()))?;
    let path = dir.join("guardrail.db");
    for suffix in ["", "-wal", "-shm"] {
        let file = PathBuf::from(format!("{}{suffix}", path.display()));
        if file.exists() {
            std::fs::remove_file(&file)
                .with_context(|| format!("cannot remove the previous demo's {}", file.display()))?;
        }
    }
    let url = DbUrl::sqlite(&path);
    let started = Instant::now();
    eprintln!(
        "guardrail: generating the default synthetic world (seed {})",
        seed
    );
    let (world, _truth) = generate(&WorldConfig::default(), seed);
    let mut events = vec![Event::new(
        "policy-published:world",
        guardrail_ledger::WORLD_EPOCH,
        Payload::PolicyPublished(PolicyPublished {
            version: 1,
            toml: guardrail_adapter::platform_policy_toml(&guardrail_sim::vocabulary::BANNED_BASES),
            actor: "guardrail serve --demo".into(),
        }),
    )];
    events.extend(world_events(&world));
    let now = unix_now();
    let mut demo = Demo {
        tokens: Vec::new(),
        users: Vec::new(),
    };
    for scope in Scope::ALL {
        let token = new_token(scope, now, None, "guardrail serve --demo");
        events.push(token.event);
        demo.tokens.push((scope, token.token));
        if scope != Scope::Service {
            let name = format!("demo-{}", scope.name());
            let password = guardrail_server::auth::random_password();
            events.push(new_user(
                &name,
                scope,
                &password,
                now,
                "guardrail serve --demo",
            )?);
            demo.users.push((name, scope, password));
        }
    }
    let store = Store::open(&url, StoreOptions::default())
        .await
        .with_context(|| format!("cannot create the demo ledger at {url}"))?;
    let count = events.len();
    for chunk in events.chunks(20_000) {
        store.append(chunk.to_vec()).await?;
    }
    let mut state = guardrail_ledger::state::LedgerState::new();
    guardrail_server::ledger_io::fold_tail(&store, &mut state).await?;
    store
        .save_checkpoint(state.last_seq, encode_state(&state)?)
        .await?;
    store.close().await;
    eprintln!(
        "guardrail: demo ledger ready: {count} events, {} accounts, in {:.1} s; deriving the snapshot",
        state.accounts.len(),
        started.elapsed().as_secs_f64()
    );
    Ok((url, demo))
}

fn print_demo(service: &Arc<Service>, address: SocketAddr, demo: &Demo) {
    let base = format!("http://{address}");
    let token_of = |scope: Scope| {
        demo.tokens
            .iter()
            .find(|(s, _)| *s == scope)
            .map_or("", |(_, t)| t.as_str())
    };
    let (viewer, candidates) = demo_accounts(service);
    let candidates_json: Vec<String> = candidates.iter().map(|c| format!("\"{c}\"")).collect();
    println!();
    println!("Guardrail demo is running.");
    println!("  console:    {base}/login (sign in as a console user below)");
    println!("  API docs:   {base}/docs");
    println!("  OpenAPI:    {base}/openapi.json");
    println!("  readiness:  {base}/readyz");
    println!("  metrics:    {base}/metrics");
    println!();
    println!("Tokens (Authorization: Bearer ...):");
    for (scope, token) in &demo.tokens {
        println!("  {:<13} {token}", scope.name());
    }
    println!();
    println!("Console users (name / password):");
    for (name, scope, password) in &demo.users {
        println!("  {:<13} {name} / {password}", scope.name());
    }
    println!();
    println!("Try:");
    let service_token = token_of(Scope::Service);
    println!(
        "  curl -s -X POST {base}/v1/decide/account_suggestions -H 'Authorization: Bearer {service_token}' -H 'Content-Type: application/json' -d '{{\"viewer\": \"{viewer}\", \"candidates\": [{}]}}'",
        candidates_json.join(", ")
    );
    println!(
        "  curl -s -X POST {base}/v1/text/check -H 'Authorization: Bearer {service_token}' -H 'Content-Type: application/json' -d '{{\"text\": \"{}\", \"place\": \"hashtag\"}}'",
        guardrail_sim::vocabulary::BANNED_BASES
            .first()
            .copied()
            .unwrap_or("example")
    );
    println!(
        "  curl -s {base}/v1/network/map?limit=5 -H 'Authorization: Bearer {}'",
        token_of(Scope::Investigator)
    );
    println!();
    println!("Stop with Ctrl-C (requests in flight finish first).");
}

/// A declared minor as the viewer, and as candidates the map's two strongest suspects and
/// an account the map does not list: the decisions then show a drop with its evidence
/// beside an allow.
fn demo_accounts(service: &Service) -> (String, Vec<String>) {
    let Some(state) = service.ledger() else {
        return (String::new(), Vec::new());
    };
    let viewer = state
        .accounts
        .iter()
        .find(|a| a.declared_age < 18)
        .or_else(|| state.accounts.first())
        .map_or_else(String::new, |a| a.external.clone());
    let mut candidates = Vec::new();
    if let Some(guard) = service.guard() {
        let snapshot = guard.snapshot();
        if let Ok(map) = snapshot.map() {
            // The map names accounts by dense ids; the API by the platform's ids.
            let platform_id = |dense: &str| {
                dense
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| state.accounts.get(i))
                    .map(|a| a.external.clone())
            };
            candidates.extend(
                map.suspects
                    .iter()
                    .take(2)
                    .filter_map(|s| platform_id(&s.account)),
            );
            let listed: std::collections::HashSet<String> = map
                .suspects
                .iter()
                .filter_map(|s| platform_id(&s.account))
                .collect();
            if let Some(other) = state
                .accounts
                .iter()
                .find(|a| a.declared_age >= 18 && !listed.contains(&a.external))
            {
                candidates.push(other.external.clone());
            }
        }
    }
    (viewer, candidates)
}

/// Arguments of `guardrail token`.
#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    command: TokenCommand,
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create a token; it is printed once, on the last line.
    Create(TokenCreateArgs),
    /// Revoke a token by its id (the part after `grd.`).
    Revoke(TokenRevokeArgs),
}

#[derive(Debug, Args)]
struct TokenCreateArgs {
    /// service, reviewer, investigator or admin.
    #[arg(long)]
    scope: String,
    /// Seconds until it stops working (default: never).
    #[arg(long, value_name = "SECONDS")]
    expires_in: Option<u64>,
    #[command(flatten)]
    db: DbArg,
}

#[derive(Debug, Args)]
struct TokenRevokeArgs {
    /// The token's id.
    #[arg(long)]
    id: String,
    /// Why.
    #[arg(long)]
    reason: String,
    #[command(flatten)]
    db: DbArg,
}

/// Runs `guardrail token ...`.
pub fn token(args: TokenArgs) -> Result<ExitCode> {
    runtime()?.block_on(async {
        match args.command {
            TokenCommand::Create(args) => {
                let scope: Scope = args.scope.parse()?;
                let now = unix_now();
                let token = new_token(
                    scope,
                    now,
                    args.expires_in.map(|s| now.saturating_add(s)),
                    "guardrail token create",
                );
                let store = open(&args.db).await?;
                store.append(vec![token.event]).await?;
                store.close().await;
                eprintln!("token created with scope {scope}; it is shown once:");
                println!("{}", token.token);
                Ok(ExitCode::SUCCESS)
            }
            TokenCommand::Revoke(args) => {
                let store = open(&args.db).await?;
                let state = guardrail_server::ledger_io::live_state(&store).await?;
                if !state.tokens.contains_key(&args.id) {
                    bail!("no token {:?} in the ledger", args.id);
                }
                let now = unix_now();
                store
                    .append(vec![Event::new(
                        format!("token-revoked:{}", args.id),
                        now,
                        Payload::TokenRevoked(TokenRevoked {
                            token: args.id.clone(),
                            actor: "guardrail token revoke".into(),
                            reason: args.reason,
                        }),
                    )])
                    .await?;
                store.close().await;
                println!("token {} revoked", args.id);
                Ok(ExitCode::SUCCESS)
            }
        }
    })
}

/// Arguments of `guardrail user`.
#[derive(Debug, Args)]
pub struct UserArgs {
    #[command(subcommand)]
    command: UserCommand,
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create a console user; the password is read from standard input.
    Create(UserCreateArgs),
}

#[derive(Debug, Args)]
struct UserCreateArgs {
    /// Login name.
    #[arg(long)]
    name: String,
    /// reviewer, investigator or admin.
    #[arg(long)]
    role: String,
    /// Read the password from standard input (the only way: never from the command line).
    #[arg(long, required = true)]
    password_stdin: bool,
    #[command(flatten)]
    db: DbArg,
}

/// Runs `guardrail user ...`.
pub fn user(args: UserArgs) -> Result<ExitCode> {
    let UserCommand::Create(args) = args.command;
    let role: Scope = args.role.parse()?;
    let mut password = String::new();
    io::stdin()
        .read_to_string(&mut password)
        .context("cannot read the password from standard input")?;
    let password = password.trim_end_matches(['\n', '\r']);
    let event = new_user(
        &args.name,
        role,
        password,
        unix_now(),
        "guardrail user create",
    )?;
    runtime()?.block_on(async {
        let store = open(&args.db).await?;
        let state = guardrail_server::ledger_io::live_state(&store).await?;
        if state.users.contains_key(&args.name) {
            bail!("a user named {:?} exists already", args.name);
        }
        store.append(vec![event]).await?;
        store.close().await;
        println!("user {} created with role {role}", args.name);
        Ok(ExitCode::SUCCESS)
    })
}
