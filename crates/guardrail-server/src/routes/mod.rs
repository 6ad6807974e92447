//! The HTTP routes, each in the module of its capability, and the router that wires them
//! with auth, limits, timeouts and metrics.
//!
//! What it is for: [`router`] is the whole API. Handlers are thin: they check the caller's
//! scope ([`caller`]), parse, call the engine or the ledger, and answer JSON.
//!
//! What it must never do: answer a malformed request with 5xx (it is a 4xx in the API's
//! error shape), or let a route through without the scope it declares.

pub mod access;
pub mod ads;
pub mod decide;
pub mod events;
pub mod media;
pub mod network;
pub mod ops;
pub mod oversight;
pub mod referrals;
pub mod reports;

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use crate::auth::{Caller, Scope, authenticate};
use crate::error::ApiError;
use crate::service::{Service, unix_now};

/// The shared state every handler receives.
pub type Shared = State<Arc<Service>>;

/// Checks the bearer token for a route that needs `needed`.
pub fn caller(service: &Service, headers: &HeaderMap, needed: Scope) -> Result<Caller, ApiError> {
    let authorization = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let Some(tokens) = service.tokens() else {
        return Err(ApiError::unavailable(
            "the service is starting: the ledger (and its tokens) is still loading",
        ));
    };
    let caller = authenticate(&tokens, authorization, needed, unix_now())?;
    service
        .rate
        .check(&caller.token)
        .map_err(ApiError::rate_limited)?;
    Ok(caller)
}

/// The ledger's folded state, or 503 while it loads.
pub fn loaded_ledger(
    service: &Service,
) -> Result<std::sync::RwLockReadGuard<'_, guardrail_ledger::state::LedgerState>, ApiError> {
    service
        .ledger()
        .ok_or_else(|| ApiError::unavailable("the ledger is still loading"))
}

/// What a caught panic carried, in words.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_string())
}

/// Runs one decision and contains a fault in it: a panic becomes `Err` with the reason in
/// words, which the route turns into its safe verdict (a decision route never answers
/// 5xx, and one faulty candidate never takes the others' verdicts with it).
pub(crate) fn contained<T>(decide: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(decide)).map_err(|payload| {
        let what = panic_message(payload.as_ref());
        tracing::error!(fault = %what, "a decision faulted; it fails closed");
        format!("fail closed: the decision engine faulted ({what})")
    })
}

/// The answer to a request whose handler panicked outside a decision: 500 in the API's
/// error shape, and the service goes on serving.
fn internal_fault(payload: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = panic_message(payload.as_ref());
    tracing::error!(fault = %what, "a request handler faulted");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        format!("an internal fault stopped this request ({what}); the service is still up, and nothing the request stored is lost"),
    )
    .into_response()
}

/// The API's router over a service.
pub fn router(service: Arc<Service>) -> Router {
    let api = Router::new()
        .route("/v1/events", post(events::post_events))
        .route("/v1/decide/{surface}", post(decide::decide))
        .route("/v1/text/check", post(decide::text_check))
        .route("/v1/autocomplete/filter", post(decide::autocomplete_filter))
        .route("/v1/signup/decide", post(decide::signup_decide))
        .route("/v1/media/hash", post(media::hash))
        .route("/v1/media/match", post(media::match_media))
        .route("/v1/reports", post(reports::submit))
        .route("/v1/reports/check", get(oversight::check_reports))
        .route("/v1/transparency", get(oversight::transparency_figures))
        .route("/v1/admin/sweep", post(oversight::sweep))
        .route("/v1/ads/{ad}", post(ads::register))
        .route("/v1/ads/{ad}/deliver", post(ads::deliver))
        .route("/v1/ads/{ad}/monitor", get(ads::monitor))
        .route("/v1/admin/rules/{rule}/reset", post(oversight::reset_rule))
        .route("/v1/reports/{id}", get(reports::get_report))
        .route("/v1/reports/{id}/transitions", post(reports::transition))
        .route("/v1/reports/{id}/referral", post(referrals::refer))
        .route("/v1/referrals/{id}", get(referrals::get_referral))
        .route("/v1/enforcement", post(reports::enforce))
        .route("/v1/entities/{id}", get(reports::entity))
        .route("/v1/network/map", get(network::map))
        .route("/v1/accounts/{id}/risk", get(network::risk))
        .route("/v1/admin/remap", post(ops::remap))
        .route("/v1/ledger/verify", get(ops::verify))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route_layer(middleware::from_fn_with_state(
            service.clone(),
            access::authorize,
        ));
    let hma = guardrail_hma::router(service.hma().clone()).route_layer(
        middleware::from_fn_with_state(service.clone(), media::hma_auth),
    );
    api.merge(crate::openapi::docs())
        .merge(crate::console::router())
        .fallback(not_found)
        .with_state(service.clone())
        .merge(hma)
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            internal_fault,
        ))
        .layer(middleware::from_fn_with_state(service.clone(), count))
        .layer(RequestBodyLimitLayer::new(service.config.body_limit))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            service.config.request_timeout,
        ))
}

fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == b"application/json")
}

/// A 4xx answered in plain text (or empty), re-answered in the API's error shape with the
/// same status, its text as the message, and its `Allow` header kept.
async fn in_error_shape(response: Response) -> Response {
    let status = response.status();
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_string())
        .unwrap_or_default();
    let code = match status {
        StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => "bad_request",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        _ => "client_error",
    };
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("refused").to_string()
    } else {
        text
    };
    let status = if status == StatusCode::UNPROCESSABLE_ENTITY {
        StatusCode::BAD_REQUEST
    } else {
        status
    };
    let mut answer = ApiError::new(status, code, message).into_response();
    if let Some(allow) = parts.headers.get(axum::http::header::ALLOW) {
        answer
            .headers_mut()
            .insert(axum::http::header::ALLOW, allow.clone());
    }
    answer
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such route; the API is described at /openapi.json")
}

/// Counts each request by route template, with its status and latency, and logs it.
async fn count(State(service): Shared, request: Request, next: Next) -> Response {
    let started = Instant::now();
    // Both are cheap to clone (the template is shared; the method is a constant).
    let route = request.extensions().get::<MatchedPath>().cloned();
    let method = request.method().clone();
    let api_route = request.uri().path().starts_with("/v1/");
    let mut response = next.run(request).await;
    // A body over the limit surfaces as a bare 413 from the limit layer; answer it in the
    // API's error shape.
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_json(&response) {
        response = ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!(
                "the request body is larger than the limit of {} bytes",
                service.config.body_limit
            ),
        )
        .into_response();
    } else if api_route && response.status().is_client_error() && !is_json(&response) {
        // axum's query-string and path rejections (and its bare 405) answer plain text;
        // an API caller gets the error shape whatever refused the request (found by the
        // `api_bodies` fuzz target).
        response = in_error_shape(response).await;
    }
    let seconds = started.elapsed().as_secs_f64();
    let status = response.status().as_u16();
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    service
        .metrics
        .request(route, method.as_str(), status, seconds);
    tracing::info!(
        target: "guardrail::http",
        %method,
        route,
        status,
        micros = (seconds * 1e6) as u64,
        "request"
    );
    response
}
