//! Serves the HMA routes alone, in memory, for replaying HMA recordings against them or
//! pointing an HMA client at them by hand.
//!
//! Usage: `cargo run -p guardrail-hma --example hma_serve -- [--listen ADDR]
//! [--allow-private-fetch] [--stale]`. `--allow-private-fetch` lets `url=` fetch loopback
//! and private addresses (the replay's fixture server is on 127.0.0.1); `--stale` makes
//! `/status` answer `503 INDEX-STALE` (the replay's `--stale-base-url`). It keeps nothing:
//! every bank is gone when it stops. It must never listen anywhere but where told, and
//! has no authentication: bind it to loopback.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use guardrail_hma::{FetchPolicy, HmaConfig, HmaState, NoJournal, not_found_page, router};

struct Options {
    listen: SocketAddr,
    allow_private_fetch: bool,
    stale: bool,
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        listen: SocketAddr::from(([127, 0, 0, 1], 5050)),
        allow_private_fetch: false,
        stale: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--listen" => {
                let text = args
                    .next()
                    .ok_or("--listen needs an address, e.g. 127.0.0.1:5050")?;
                options.listen = text
                    .parse()
                    .map_err(|error| format!("--listen {text}: not an address: {error}"))?;
            }
            "--allow-private-fetch" => options.allow_private_fetch = true,
            "--stale" => options.stale = true,
            "-h" | "--help" => {
                return Err(
                    "usage: hma_serve [--listen ADDR] [--allow-private-fetch] [--stale]".into(),
                );
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    Ok(options)
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = match parse_options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("hma_serve: {message}");
            return ExitCode::from(2);
        }
    };
    let config = HmaConfig {
        fetch: FetchPolicy {
            allow_private_addresses: options.allow_private_fetch,
            ..FetchPolicy::default()
        },
        ..HmaConfig::default()
    };
    let state = match HmaState::new(config, Arc::new(NoJournal)) {
        Ok(state) => state,
        Err(error) => {
            eprintln!("hma_serve: {error}");
            return ExitCode::FAILURE;
        }
    };
    state.set_index_stale(options.stale);
    let listener = match tokio::net::TcpListener::bind(options.listen).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("hma_serve: cannot listen on {}: {error}", options.listen);
            return ExitCode::FAILURE;
        }
    };
    match listener.local_addr() {
        Ok(address) => println!("hma_serve: listening on http://{address}"),
        Err(error) => eprintln!("hma_serve: listening (address unknown: {error})"),
    }
    let app = router(state).fallback(not_found_page);
    if let Err(error) = axum::serve(listener, app).await {
        eprintln!("hma_serve: server stopped: {error}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
