//! Investigators' reads: `GET /v1/network/map` and `GET /v1/accounts/{id}/risk`.
//!
//! What it is for: the suspected network as the live snapshot's map has it (suspects best
//! first, with roles, scores and the evidence behind each), and one account's derived
//! signals with their provenance — what every decision about it reads.
//!
//! What it must never do: answer from a stale snapshot without saying so (503 then).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::{Shared, caller, loaded_ledger};
use crate::auth::Scope;
use crate::error::ApiError;

/// How much of the map to answer.
#[derive(Debug, Deserialize, IntoParams)]
pub struct MapQuery {
    /// The most suspects to list (default 100, at most 10,000).
    pub limit: Option<usize>,
}

/// The map.
#[derive(Debug, Serialize, ToSchema)]
pub struct MapAnswer {
    /// The snapshot version the map belongs to.
    pub snapshot: u64,
    /// The ledger sequence number the map was built at.
    pub map_version: u64,
    /// Accounts the map covered.
    pub accounts: usize,
    /// The suspects listed (the best `limit`).
    #[schema(value_type = Vec<Object>)]
    pub suspects: Vec<Value>,
    /// Suspects in the whole map.
    pub suspects_total: usize,
    /// Seeds used.
    pub seeds: Vec<String>,
    /// Communities with at least two seeds.
    #[schema(value_type = Vec<Object>)]
    pub seed_communities: Vec<Value>,
    /// The size estimate.
    #[schema(value_type = Object)]
    pub size: Value,
    /// Why there is no map yet (no seeds: nothing has been taken down or confirmed), when
    /// there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The suspected network.
#[utoipa::path(
    get, path = "/v1/network/map", tag = "network", params(MapQuery),
    responses(
        (status = 200, body = MapAnswer), (status = 400, body = crate::openapi::ErrorBody),
        (status = 401, body = crate::openapi::ErrorBody), (status = 403, body = crate::openapi::ErrorBody),
        (status = 503, description = "No fresh snapshot", body = crate::openapi::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn map(
    State(service): Shared,
    headers: HeaderMap,
    Query(query): Query<MapQuery>,
) -> Result<Json<MapAnswer>, ApiError> {
    caller(&service, &headers, Scope::Investigator)?;
    let limit = query.limit.unwrap_or(100);
    if limit > 10_000 {
        return Err(ApiError::bad_request("`limit` may be at most 10000"));
    }
    let guard = service
        .fresh_guard()
        .map_err(|u| ApiError::unavailable(u.reason()))?;
    let snapshot = guard.snapshot();
    let (map_version, accounts) = snapshot.map_coverage();
    let map = match snapshot.map() {
        Ok(map) => map,
        Err(error) => {
            return Ok(Json(MapAnswer {
                snapshot: snapshot.version(),
                map_version,
                accounts,
                suspects: Vec::new(),
                suspects_total: 0,
                seeds: Vec::new(),
                seed_communities: Vec::new(),
                size: Value::Object(serde_json::Map::new()),
                reason: Some(format!("no network map: {error}")),
            }));
        }
    };
    // The map names accounts by their dense ids; callers know them by the platform's ids.
    let ledger = loaded_ledger(&service)?;
    let platform_id = |dense: &str| -> String {
        dense
            .parse::<usize>()
            .ok()
            .and_then(|i| ledger.accounts.get(i))
            .map_or_else(|| dense.to_string(), |a| a.external.clone())
    };
    let rename = |value: &mut Value| {
        if let Some(Value::String(account)) = value.get_mut("account") {
            *account = platform_id(account);
        }
        if let Some(evidence) = value.get_mut("evidence") {
            for key in ["linked_seeds", "path_from_seed"] {
                if let Some(Value::Array(items)) = evidence.get_mut(key) {
                    for item in items.iter_mut() {
                        if let Value::String(name) = item {
                            *name = platform_id(name);
                        }
                    }
                }
            }
        }
    };
    let to_value = |v: Result<Value, serde_json::Error>| v.unwrap_or(Value::Null);
    let list = |v: Value| match v {
        Value::Array(items) => items,
        _ => Vec::new(),
    };
    Ok(Json(MapAnswer {
        snapshot: snapshot.version(),
        map_version,
        accounts,
        suspects: map
            .suspects
            .iter()
            .take(limit)
            .map(|s| {
                let mut value = to_value(serde_json::to_value(s));
                rename(&mut value);
                value
            })
            .collect(),
        suspects_total: map.suspects.len(),
        seeds: map.seeds.iter().map(|s| platform_id(s)).collect(),
        seed_communities: list(to_value(serde_json::to_value(&map.seed_communities))),
        size: to_value(serde_json::to_value(&map.size)),
        reason: None,
    }))
}

/// One account's risk.
#[derive(Debug, Serialize, ToSchema)]
pub struct RiskAnswer {
    /// The account as asked.
    pub account: String,
    /// Whether the ledger has seen it created (unknown accounts fail closed everywhere).
    pub known: bool,
    /// The snapshot version read.
    pub snapshot: u64,
    /// Its derived signals with their provenance (age band, text, hashes, network role and
    /// score, flags, entity actions).
    #[schema(value_type = Object)]
    pub signals: Value,
}

/// The signals every decision about an account reads.
#[utoipa::path(
    get, path = "/v1/accounts/{id}/risk", tag = "network",
    params(("id" = String, Path, description = "The account id (or handle)")),
    responses(
        (status = 200, body = RiskAnswer), (status = 401, body = crate::openapi::ErrorBody),
        (status = 403, body = crate::openapi::ErrorBody), (status = 404, body = crate::openapi::ErrorBody),
        (status = 503, body = crate::openapi::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn risk(
    State(service): Shared,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<RiskAnswer>, ApiError> {
    caller(&service, &headers, Scope::Investigator)?;
    let guard = service
        .fresh_guard()
        .map_err(|u| ApiError::unavailable(u.reason()))?;
    let snapshot = guard.snapshot();
    let account = snapshot
        .account_by_name(&id)
        .ok_or_else(|| ApiError::not_found(format!("no account {id:?} in the snapshot")))?;
    let signals = snapshot.signals_of(account);
    Ok(Json(RiskAnswer {
        account: id,
        known: true,
        snapshot: snapshot.version(),
        signals: serde_json::to_value(&*signals).unwrap_or(Value::Null),
    }))
}
