//! `POST /v1/events`: a platform streams its events into the ledger.
//!
//! What it is for: the body is a JSON array of events, or NDJSON, in the ledger's schema.
//! Every event is checked; if any is malformed the whole batch is refused (400) with one
//! error per bad event naming its index (and line, for NDJSON), field and why — nothing of
//! it is stored, so a corrected retry of the whole batch is safe. A well-formed batch is
//! acknowledged only once durable: the answer lists, per event, whether it was stored now,
//! was already there (a retry with the same id and body), or conflicts with a stored event
//! of the same id (the stored one stands).
//!
//! What it must never do: acknowledge an event before the database committed it, or
//! store half of a batch it refuses.

use axum::Json;
use axum::body::Bytes;
use axum::http::HeaderMap;
use guardrail_ledger::event::{DEFAULT_MAX_FUTURE_SECONDS, ParseLimits, Payload, parse_batch};
use guardrail_store::AppendOutcome;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::{Shared, caller};
use crate::auth::Scope;
use crate::error::ApiError;
use crate::service::unix_now;

/// The most events one request may carry.
pub const MAX_EVENTS_PER_REQUEST: usize = 100_000;

/// What happened to one event.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventOutcome {
    /// Its index in the batch.
    pub index: usize,
    /// Its id.
    pub id: String,
    /// `stored`, `duplicate` (already stored with the same body) or `conflict` (already
    /// stored with another body; the stored event stands).
    pub outcome: &'static str,
    /// Its sequence number in the ledger (the stored one, for duplicates and conflicts).
    pub seq: u64,
}

/// The answer to a batch.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventsAccepted {
    /// Events stored now.
    pub stored: usize,
    /// Events that were already stored with the same body.
    pub duplicates: usize,
    /// Events whose id was stored with another body.
    pub conflicts: usize,
    /// Per event, in batch order.
    pub events: Vec<EventOutcome>,
}

/// Stores a batch of platform events durably.
#[utoipa::path(
    post, path = "/v1/events", tag = "events",
    request_body(content = Object, description = "A JSON array of events, or NDJSON (one event per line), in the ledger's schema (docs/events.md)", content_type = "application/json"),
    responses(
        (status = 200, description = "Every event is durable (stored now, or already)", body = EventsAccepted),
        (status = 400, description = "Malformed events, each named by index; nothing stored", body = crate::openapi::ErrorBody),
        (status = 401, body = crate::openapi::ErrorBody), (status = 403, body = crate::openapi::ErrorBody),
        (status = 413, body = crate::openapi::ErrorBody), (status = 503, body = crate::openapi::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn post_events(
    axum::extract::State(service): Shared,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<EventsAccepted>, ApiError> {
    caller(&service, &headers, Scope::Service)?;
    let limits = ParseLimits {
        now: unix_now(),
        max_future_seconds: DEFAULT_MAX_FUTURE_SECONDS,
    };
    let batch = parse_batch(&body, &limits);
    if !batch.errors.is_empty() {
        service.metrics.events("refused", batch.errors.len() as u64);
        let errors: Vec<_> = batch
            .errors
            .iter()
            .take(1_000)
            .map(|e| {
                json!({
                    "index": e.index,
                    "line": e.line,
                    "field": e.field,
                    "kind": e.kind.name(),
                    "message": e.message,
                })
            })
            .collect();
        return Err(ApiError::bad_request(format!(
            "{} of {} events are malformed; nothing was stored (first: {})",
            batch.errors.len(),
            batch.errors.len() + batch.events.len(),
            batch.errors[0]
        ))
        .with_details(json!({ "errors": errors })));
    }
    if batch.events.is_empty() {
        return Err(ApiError::bad_request(
            "no events: send a JSON array of events or NDJSON",
        ));
    }
    if batch.events.len() > MAX_EVENTS_PER_REQUEST {
        return Err(ApiError::bad_request(format!(
            "{} events in one request; send at most {MAX_EVENTS_PER_REQUEST}",
            batch.events.len()
        )));
    }
    let ids: Vec<(usize, String)> = batch
        .events
        .iter()
        .map(|(index, event)| (*index, event.id.clone()))
        .collect();
    let events: Vec<_> = batch.events.into_iter().map(|(_, event)| event).collect();
    // Emails that arrive with an account or a change to it are matched against the
    // offender registry once stored (stored again or for the first time: the case's key
    // makes opening it idempotent, so a retried batch opens what a failed one did not).
    let identifier_events: Vec<_> = if service.config.registry_key.is_some() {
        events
            .iter()
            .filter(|e| match &e.payload {
                Payload::AccountCreated(created) => !created.emails.is_empty(),
                Payload::ProfileUpdated(updated) => !updated.emails.is_empty(),
                _ => false,
            })
            .cloned()
            .collect()
    } else {
        Vec::new()
    };
    let outcomes = service
        .append(events)
        .await
        .map_err(|e| {
            if e.is_out_of_space_or_read_only() {
                tracing::error!(error = %e, "the ledger's database refuses writes (full or read-only)");
                ApiError::unavailable(format!(
                    "the ledger's database refuses writes (full or read-only): nothing of this batch was stored; send it again once the operator has freed space or made it writable ({e})"
                ))
            } else {
                ApiError::unavailable(format!(
                    "the ledger did not store the batch: it is not acknowledged; send it again (a retry is idempotent: events already stored answer `duplicate`) ({e})"
                ))
            }
        })?;
    if !identifier_events.is_empty() {
        let cases = match service.ledger() {
            Some(state) => service.registry.cases(
                service.config.registry_key.as_ref(),
                &state,
                &identifier_events,
                unix_now(),
            ),
            None => Vec::new(),
        };
        if !cases.is_empty() {
            tracing::warn!(
                cases = cases.len(),
                "offender registry matches: cases opened for review"
            );
            service.append(cases).await.map_err(|e| {
                ApiError::unavailable(format!(
                    "the events are stored, but the offender-registry case they call for was not ({e}); send the batch again (it is idempotent)"
                ))
            })?;
        }
    }
    let mut answer = EventsAccepted {
        stored: 0,
        duplicates: 0,
        conflicts: 0,
        events: Vec::with_capacity(outcomes.len()),
    };
    for ((index, id), outcome) in ids.into_iter().zip(outcomes) {
        let name = match outcome {
            AppendOutcome::Stored { .. } => {
                answer.stored += 1;
                "stored"
            }
            AppendOutcome::Duplicate { .. } => {
                answer.duplicates += 1;
                "duplicate"
            }
            AppendOutcome::Conflict { .. } => {
                answer.conflicts += 1;
                "conflict"
            }
        };
        answer.events.push(EventOutcome {
            index,
            id,
            outcome: name,
            seq: outcome.seq(),
        });
    }
    service.metrics.events("stored", answer.stored as u64);
    service
        .metrics
        .events("duplicate", answer.duplicates as u64);
    service.metrics.events("conflict", answer.conflicts as u64);
    Ok(Json(answer))
}
