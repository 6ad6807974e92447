//! Operations: `/healthz`, `/readyz`, `/metrics`, `POST /v1/admin/remap`,
//! `GET /v1/ledger/verify`.
//!
//! What it is for: a load balancer's liveness and readiness (ready only once a fresh
//! snapshot is loaded), Prometheus' scrape, and the admin's two levers: a re-map on demand
//! (answered with the new snapshot version once published) and a full verification of the
//! ledger's hash chain.
//!
//! What it must never do: say ready while decisions would fail closed.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;

use super::{Shared, caller};
use crate::auth::Scope;
use crate::error::ApiError;

/// Liveness.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` while the process answers.
    pub status: String,
}

/// The process is alive.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".to_string(),
    })
}

/// Readiness.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// Whether decisions read a fresh snapshot.
    pub ready: bool,
    /// The snapshot version (0 before the first).
    pub snapshot: u64,
    /// Seconds since the snapshot was last brought up to date with the ledger.
    pub snapshot_age_seconds: f64,
    /// Why not ready.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Ready only once a fresh snapshot is loaded.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses(
    (status = 200, body = Readiness), (status = 503, description = "Not ready, with the reason", body = Readiness)))]
pub async fn readyz(State(service): Shared) -> (StatusCode, Json<Readiness>) {
    let gauges = service.gauges();
    let unready = service.fresh_guard().err();
    let status = if unready.is_none() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(Readiness {
            ready: unready.is_none(),
            snapshot: gauges.snapshot_version,
            snapshot_age_seconds: gauges.snapshot_age_seconds,
            reason: unready.map(|u| u.reason()),
        }),
    )
}

/// Prometheus text.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses(
    (status = 200, description = "Prometheus exposition format", content_type = "text/plain", body = String)))]
pub async fn metrics(State(service): Shared) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        service.metrics.render(&service.gauges()),
    )
}

/// A published re-map.
#[derive(Debug, Serialize, ToSchema)]
pub struct Remapped {
    /// The new snapshot's version.
    pub snapshot: u64,
    /// Seconds the re-map took.
    pub seconds: f64,
}

/// Builds a new network map and snapshot from the ledger, and answers once published.
#[utoipa::path(post, path = "/v1/admin/remap", tag = "operations", responses(
    (status = 200, body = Remapped), (status = 401, body = crate::openapi::ErrorBody),
    (status = 403, body = crate::openapi::ErrorBody), (status = 503, body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn remap(State(service): Shared, headers: HeaderMap) -> Result<Json<Remapped>, ApiError> {
    caller(&service, &headers, Scope::Admin)?;
    let started = std::time::Instant::now();
    let snapshot = service
        .remap()
        .await
        .map_err(|u| ApiError::unavailable(u.reason()))?;
    Ok(Json(Remapped {
        snapshot,
        seconds: started.elapsed().as_secs_f64(),
    }))
}

/// The chain's verification.
#[derive(Debug, Serialize, ToSchema)]
pub struct Verified {
    /// Whether every record's hash links to the one before.
    pub ok: bool,
    /// Records verified.
    pub records: u64,
    /// The head hash.
    pub head: Option<String>,
    /// The first bad record, when the chain is broken.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_bad: Option<String>,
}

/// Recomputes the ledger's hash chain.
#[utoipa::path(get, path = "/v1/ledger/verify", tag = "operations", responses(
    (status = 200, description = "Verified, or the first bad record named", body = Verified),
    (status = 401, body = crate::openapi::ErrorBody), (status = 403, body = crate::openapi::ErrorBody),
    (status = 503, body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn verify(
    State(service): Shared,
    headers: HeaderMap,
) -> Result<Json<Verified>, ApiError> {
    caller(&service, &headers, Scope::Admin)?;
    match service.store.verify().await {
        Ok(records) => {
            let head = service.store.head().await.ok().map(|(_, h)| h.to_string());
            Ok(Json(Verified {
                ok: true,
                records,
                head,
                first_bad: None,
            }))
        }
        Err(error) => match error.chain_break() {
            Some(chain_break) => Ok(Json(Verified {
                ok: false,
                records: 0,
                head: None,
                first_bad: Some(chain_break.to_string()),
            })),
            None => Err(ApiError::unavailable(format!(
                "cannot verify the ledger: {error}"
            ))),
        },
    }
}
