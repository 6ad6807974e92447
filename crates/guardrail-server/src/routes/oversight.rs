//! Oversight of the report pipeline over HTTP: `GET /v1/reports/check` (the checker's
//! proof), `GET /v1/transparency` (the transparency figures), `POST /v1/admin/sweep`
//! (raise the alerts that are due now, as the service's timer does) and
//! `POST /v1/admin/rules/{rule}/reset` (a person closes a rule's tripped circuit breaker).
//!
//! What it is for: a dashboard, a pager or an auditor asks the running service the same
//! questions `guardrail reports check|metrics` answer from the database, over the same
//! folded ledger the other routes read.
//!
//! What it must never do: change a report. The sweep only raises alerts, once each.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use guardrail_reports::{CheckConfig, CheckReport, Transparency, check, transparency};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{Shared, caller, loaded_ledger};
use crate::auth::Scope;
use crate::error::{ApiError, JsonBody};
use crate::service::unix_now;

/// The checker's thresholds.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CheckQuery {
    /// Seconds without a transition after which an open report is stuck (default 7 days).
    pub stuck_after: Option<u64>,
}

/// The checker's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckAnswer {
    /// No problem found.
    pub ok: bool,
    /// The time of the check (Unix seconds).
    pub checked_at: u64,
    /// The report: counts and every problem (`kind`, `subject`, `detail`).
    #[schema(value_type = Object)]
    pub report: CheckReport,
}

/// Proves from the ledger that every report is in a known state, none is past its timer
/// without an alert, and none is stuck.
#[utoipa::path(
    get, path = "/v1/reports/check", tag = "reports", params(CheckQuery),
    responses(
        (status = 200, description = "The proof, or the list of what is wrong (`ok` false)", body = CheckAnswer),
        (status = 401, body = crate::openapi::ErrorBody), (status = 403, body = crate::openapi::ErrorBody),
        (status = 503, body = crate::openapi::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn check_reports(
    State(service): Shared,
    headers: HeaderMap,
    Query(query): Query<CheckQuery>,
) -> Result<Json<CheckAnswer>, ApiError> {
    caller(&service, &headers, Scope::Reviewer)?;
    let now = unix_now();
    let config = CheckConfig {
        now,
        stuck_after: query.stuck_after.unwrap_or(7 * 24 * 3600),
    };
    let state = loaded_ledger(&service)?;
    let report = check(&state, &config, &[]);
    Ok(Json(CheckAnswer {
        ok: report.problems.is_empty(),
        checked_at: now,
        report,
    }))
}

/// The transparency figures from the ledger.
#[utoipa::path(
    get, path = "/v1/transparency", tag = "reports",
    responses(
        (status = 200, description = "Reports received and processed by category, time to first action and to the final state (p50, p90), share actioned, referrals", body = Object),
        (status = 401, body = crate::openapi::ErrorBody), (status = 403, body = crate::openapi::ErrorBody),
        (status = 503, body = crate::openapi::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn transparency_figures(
    State(service): Shared,
    headers: HeaderMap,
) -> Result<Json<Transparency>, ApiError> {
    caller(&service, &headers, Scope::Reviewer)?;
    let state = loaded_ledger(&service)?;
    Ok(Json(transparency(&state)))
}

/// How many alerts a sweep raised.
#[derive(Debug, Serialize, ToSchema)]
pub struct SweepAnswer {
    /// Alerts stored now (each missed timer is alerted once).
    pub raised: usize,
}

/// Raises the report alerts that are due now.
#[utoipa::path(
    post, path = "/v1/admin/sweep", tag = "operations",
    responses(
        (status = 200, body = SweepAnswer),
        (status = 401, body = crate::openapi::ErrorBody), (status = 403, body = crate::openapi::ErrorBody),
        (status = 503, body = crate::openapi::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn sweep(
    State(service): Shared,
    headers: HeaderMap,
) -> Result<Json<SweepAnswer>, ApiError> {
    caller(&service, &headers, Scope::Admin)?;
    drop(loaded_ledger(&service)?);
    let raised = service
        .sweep()
        .await
        .map_err(|e| ApiError::unavailable(format!("the alerts were not stored: {e}")))?;
    Ok(Json(SweepAnswer { raised }))
}

/// Why a person resets a rule's breaker.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetBody {
    /// Why it is safe for the rule to act again (what was fixed).
    pub reason: String,
}

/// The reset, as stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResetAnswer {
    /// The rule.
    pub rule: String,
    /// Who reset it.
    pub actor: String,
}

/// Closes an automated rule's tripped circuit breaker: an admin's decision, with a reason.
#[utoipa::path(
    post, path = "/v1/admin/rules/{rule}/reset", tag = "operations",
    params(("rule" = String, Path, description = "The automated rule")), request_body = ResetBody,
    responses(
        (status = 200, body = ResetAnswer),
        (status = 400, body = crate::openapi::ErrorBody), (status = 401, body = crate::openapi::ErrorBody),
        (status = 403, body = crate::openapi::ErrorBody), (status = 503, body = crate::openapi::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn reset_rule(
    State(service): Shared,
    headers: HeaderMap,
    Path(rule): Path<String>,
    JsonBody(body): JsonBody<ResetBody>,
) -> Result<Json<ResetAnswer>, ApiError> {
    let who = caller(&service, &headers, Scope::Admin)?;
    if body.reason.trim().is_empty() {
        return Err(ApiError::bad_request(
            "field `reason`: say what was fixed before the rule may act again",
        ));
    }
    drop(loaded_ledger(&service)?);
    let actor = who.actor();
    service
        .append(vec![guardrail_reports::reset_event(
            &rule,
            &actor,
            &body.reason,
            unix_now(),
        )])
        .await
        .map_err(|e| ApiError::unavailable(format!("the reset was not stored: {e}")))?;
    Ok(Json(ResetAnswer { rule, actor }))
}
