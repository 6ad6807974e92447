//! Media: `POST /v1/media/hash`, `POST /v1/media/match`, and HMA 2.x's own routes
//! (`/h/...`, `/m/...`, `/c/...`, `/status`) from `guardrail-hma`, behind the service's
//! tokens, with every bank change recorded in the ledger.
//!
//! What it is for: an upload path hashes an image (PDQ, bit-exact) and matches it, or
//! hashes it elsewhere and sends the hashes, against the banks HMA's clients curate. Banks
//! live in memory and are rebuilt on start from the ledger's `bank_changed` events.
//!
//! What it must never do: keep an image (only its hash leaves the handler), decode an
//! image beyond the size and pixel limits, or change a bank without the change being
//! durable in the ledger first.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use guardrail_hma::{BankChange, BankJournal, JournalError, PDQ_MATCH_THRESHOLD};
use guardrail_ledger::event::{BankChanged, Event, Payload};
use guardrail_pdq::{DecodeOptions, PdqHash, hash_encoded};
use guardrail_store::Store;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::{Shared, caller, contained};
use crate::auth::Scope;
use crate::error::ApiError;
use crate::service::unix_now;

/// PDQ hashes below this quality are too flat to match on (HMA's and pdqhash's cut).
pub const MIN_QUALITY: u32 = 50;
/// The largest image accepted, in pixels.
pub const MAX_PIXELS: u64 = 50_000_000;

fn decode_options() -> DecodeOptions {
    DecodeOptions {
        max_pixels: MAX_PIXELS,
        ..DecodeOptions::default()
    }
}

/// The ledger as the banks' journal: each change is a `bank_changed` event, stored (group
/// commit, durable) before the HMA route answers.
#[derive(Debug)]
pub struct LedgerJournal {
    store: Arc<Store>,
    handle: tokio::runtime::Handle,
    own: OwnBankChanges,
}

/// The ids of the `bank_changed` events this process stored, until its follower reads
/// them back: the follower applies every other replica's changes to this process's
/// banks, and skips these (already applied by the route that made them).
pub type OwnBankChanges = Arc<std::sync::Mutex<std::collections::HashSet<String>>>;

impl LedgerJournal {
    /// A journal writing to `store` on `handle`'s runtime, noting its events in `own`.
    pub fn new(
        store: Arc<Store>,
        handle: tokio::runtime::Handle,
        own: OwnBankChanges,
    ) -> LedgerJournal {
        LedgerJournal { store, handle, own }
    }
}

impl BankJournal for LedgerJournal {
    fn record(&self, change: &BankChange) -> Result<(), JournalError> {
        let value = serde_json::to_value(change).map_err(|e| JournalError {
            reason: e.to_string(),
        })?;
        let event = Event::new(
            format!(
                "bank-change:{:016x}{:016x}",
                rand::random::<u64>(),
                rand::random::<u64>()
            ),
            unix_now(),
            Payload::BankChanged(BankChanged {
                change: value,
                actor: "hma".to_string(),
            }),
        );
        // Noted before it is stored, so the follower never mistakes it for a replica's.
        self.own
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(event.id.clone());
        self.handle
            .block_on(self.store.append(vec![event]))
            .map(|_| ())
            .map_err(|e| JournalError {
                reason: format!("the ledger did not store the bank change: {e}"),
            })
    }
}

/// HMA's routes need a `service` token, except its liveness (`/status`, which HMA's
/// clients poll before anything else).
pub async fn hma_auth(State(service): Shared, request: Request, next: Next) -> Response {
    if request.uri().path().starts_with("/status") {
        return next.run(request).await;
    }
    match caller(&service, request.headers(), Scope::Service) {
        Ok(_) => next.run(request).await,
        Err(error) => error.into_response(),
    }
}

/// A hashed image.
#[derive(Debug, Serialize, ToSchema)]
pub struct HashAnswer {
    /// The PDQ hash, 64 hex digits.
    pub pdq: String,
    /// Its quality, 0-100 (below 50 it is not matched).
    pub quality: u32,
}

fn hash_image(body: &[u8]) -> Result<HashAnswer, ApiError> {
    if body.is_empty() {
        return Err(ApiError::bad_request(
            "the body must be an image (JPEG, PNG, GIF, WebP, BMP or TIFF)",
        ));
    }
    let output = hash_encoded(body, &decode_options())
        .map_err(|e| ApiError::bad_request(format!("cannot hash the image: {e}")))?;
    Ok(HashAnswer {
        pdq: output.hash.to_hex(),
        quality: output.quality,
    })
}

/// Hashes an image body with PDQ.
#[utoipa::path(
    post, path = "/v1/media/hash", tag = "media",
    request_body(content = Vec<u8>, description = "The image (JPEG, PNG, GIF, WebP, BMP or TIFF); at most 50 million pixels", content_type = "application/octet-stream"),
    responses(
        (status = 200, body = HashAnswer), (status = 400, body = crate::openapi::ErrorBody),
        (status = 401, body = crate::openapi::ErrorBody), (status = 403, body = crate::openapi::ErrorBody),
        (status = 413, body = crate::openapi::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn hash(
    State(service): Shared,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<HashAnswer>, ApiError> {
    caller(&service, &headers, Scope::Service)?;
    let answer = tokio::task::spawn_blocking(move || hash_image(&body))
        .await
        .map_err(|e| ApiError::bad_request(format!("hashing stopped: {e}")))??;
    Ok(Json(answer))
}

/// Hashes to match, when the image was hashed elsewhere.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchRequest {
    /// PDQ hashes, as 64 hex digits or `pdq:HEX`.
    pub hashes: Vec<String>,
}

/// The matches of one hash.
#[derive(Debug, Serialize, ToSchema)]
pub struct HashMatches {
    /// The hash.
    pub pdq: String,
    /// Its quality, when Guardrail hashed the image.
    pub quality: Option<u32>,
    /// Banked content within the threshold, nearest first.
    #[schema(value_type = Vec<Object>)]
    pub matches: Vec<Value>,
    /// Present when the matcher faulted on this hash: no match result was computed, so
    /// the media must be held for review (never treated as unmatched). Says why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fail_closed: Option<String>,
}

/// The answer: per hash, its matches.
#[derive(Debug, Serialize, ToSchema)]
pub struct MatchAnswer {
    /// One per hash (one for an image).
    pub results: Vec<HashMatches>,
    /// The largest distance that counts as a match.
    pub threshold: u32,
}

/// Matches hashes (JSON) or an image (any other content type) against the banks.
#[utoipa::path(
    post, path = "/v1/media/match", tag = "media",
    request_body(content = MatchRequest, description = "JSON hashes, or an image body with an image content type"),
    responses(
        (status = 200, body = MatchAnswer), (status = 400, body = crate::openapi::ErrorBody),
        (status = 401, body = crate::openapi::ErrorBody), (status = 403, body = crate::openapi::ErrorBody),
        (status = 413, body = crate::openapi::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn match_media(
    State(service): Shared,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<MatchAnswer>, ApiError> {
    caller(&service, &headers, Scope::Service)?;
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let hashes: Vec<(String, Option<u32>)> = if is_json {
        let request: MatchRequest = serde_json::from_slice(&body).map_err(|e| {
            ApiError::bad_request(format!("the body is not {{\"hashes\": [...]}}: {e}"))
        })?;
        if request.hashes.len() > 10_000 {
            return Err(ApiError::bad_request("at most 10000 hashes per request"));
        }
        let mut parsed = Vec::with_capacity(request.hashes.len());
        for (index, text) in request.hashes.iter().enumerate() {
            let hex = text
                .strip_prefix("pdq:")
                .unwrap_or(text)
                .to_ascii_lowercase();
            let hash: PdqHash = hex.parse().map_err(|e| {
                ApiError::bad_request(format!("hashes[{index}]: {text:?} is not a PDQ hash: {e}"))
            })?;
            parsed.push((hash.to_hex(), None));
        }
        parsed
    } else {
        let answer = tokio::task::spawn_blocking(move || hash_image(&body))
            .await
            .map_err(|e| ApiError::bad_request(format!("hashing stopped: {e}")))??;
        vec![(answer.pdq, Some(answer.quality))]
    };
    let hma = service.hma();
    let behind = service.bank_sync_error();
    let results = hashes
        .into_iter()
        .map(|(pdq, quality)| {
            let found = if let Some(why) = &behind {
                Err(format!(
                    "fail closed: this replica's banks are behind the ledger ({why})"
                ))
            } else if quality.is_some_and(|q| q < MIN_QUALITY) {
                Ok(Vec::new())
            } else {
                contained(|| hma.match_pdq(&pdq))
            };
            let (matches, fail_closed) = match found {
                Ok(found) => (
                    found
                        .into_iter()
                        .map(|(bank, content, distance)| {
                            json!({"bank": bank, "content_id": content, "distance": distance})
                        })
                        .collect(),
                    None,
                ),
                Err(reason) => (
                    Vec::new(),
                    Some(format!("{reason}: hold this media for review")),
                ),
            };
            HashMatches {
                pdq,
                quality,
                matches,
                fail_closed,
            }
        })
        .collect();
    Ok(Json(MatchAnswer {
        results,
        threshold: PDQ_MATCH_THRESHOLD,
    }))
}
