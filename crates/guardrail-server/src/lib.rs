//! Guardrail as a service: the HTTP API a platform calls, over the ledger and the live
//! snapshot (DESIGN.md §6; the routes and their shapes are in [`routes`]).
//!
//! What it is for: [`serve`] binds a listener and answers until told to stop, finishing
//! requests in flight (acknowledged writes complete) before it returns. Everything a
//! request needs is in the shared [`Service`]: the store, the folded ledger, the guard over
//! the published snapshot, and the metrics.
//!
//! What it must never do: hold ground truth (it links the world model only through the
//! adapter), answer a decision with 5xx, or read a token from the query string.

pub mod auth;
pub mod console;
mod decision_log;
pub mod error;
pub mod ledger_io;
pub mod map_engine;
pub mod metrics;
pub mod openapi;
mod own_writes;
pub mod rate;
pub mod referrals;
pub mod registry;
pub mod routes;
pub mod service;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

pub use auth::{Caller, Scope, new_token, new_user};
pub use routes::router;
pub use service::{ServeConfig, Service, unix_now};

/// Serves the API on `listener` until `shutdown` resolves; requests in flight finish.
pub async fn serve(
    service: Arc<Service>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    let app = router(service.clone());
    // Without TCP_NODELAY, an answer written while the previous one is unacknowledged
    // (a pipelining client, a body written in parts) waits for the peer's delayed ACK:
    // 40 ms on Linux. A socket that refuses the option still serves.
    let listener = listener.tap_io(|stream| {
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "TCP_NODELAY not set on an accepted connection");
        }
    });
    let served = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    service.shut_down();
    served
}
