//! Who may call which route: one table of every API route and the scopes it accepts,
//! enforced before the request's body is read.
//!
//! What it is for: a caller without a valid token is answered 401, and one whose token's
//! scope the route does not accept 403, before any extractor parses the body, so the API
//! tells an unauthorised caller nothing about what a route expects. Handlers check their
//! scope again through [`super::caller`] (which also charges the token's rate limit); the
//! route × scope tests (`tests/security.rs`) hold both to this table.
//!
//! What it must never do: let a route through that the table does not list (a route
//! missing here is refused 403, fail closed), or read a token from anywhere but the
//! `Authorization` header.

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::Shared;
use crate::auth::{AuthError, Scope, authenticate};
use crate::error::ApiError;
use crate::service::unix_now;

/// Scopes a route accepts (an admin token is accepted everywhere; an investigator's
/// wherever a reviewer's is: [`Scope::allows`]). Empty: public.
pub type Accepts = &'static [Scope];

const PUBLIC: Accepts = &[];
const SERVICE: Accepts = &[Scope::Service];
const REVIEWER: Accepts = &[Scope::Reviewer];
const INVESTIGATOR: Accepts = &[Scope::Investigator];
const ADMIN: Accepts = &[Scope::Admin];
const REVIEWER_OR_SERVICE: Accepts = &[Scope::Reviewer, Scope::Service];

/// Every route of the API: method, path template as routed, the scopes it accepts.
pub const ROUTE_SCOPES: &[(&str, &str, Accepts)] = &[
    ("POST", "/v1/events", SERVICE),
    ("POST", "/v1/decide/{surface}", SERVICE),
    ("POST", "/v1/text/check", SERVICE),
    ("POST", "/v1/autocomplete/filter", SERVICE),
    ("POST", "/v1/signup/decide", SERVICE),
    ("POST", "/v1/media/hash", SERVICE),
    ("POST", "/v1/media/match", SERVICE),
    ("POST", "/v1/reports", SERVICE),
    ("GET", "/v1/reports/check", REVIEWER),
    ("GET", "/v1/transparency", REVIEWER),
    ("POST", "/v1/admin/sweep", ADMIN),
    ("POST", "/v1/ads/{ad}", SERVICE),
    ("POST", "/v1/ads/{ad}/deliver", SERVICE),
    ("GET", "/v1/ads/{ad}/monitor", REVIEWER),
    ("POST", "/v1/admin/rules/{rule}/reset", ADMIN),
    ("GET", "/v1/reports/{id}", REVIEWER_OR_SERVICE),
    ("POST", "/v1/reports/{id}/transitions", REVIEWER),
    ("POST", "/v1/reports/{id}/referral", INVESTIGATOR),
    ("GET", "/v1/referrals/{id}", INVESTIGATOR),
    ("POST", "/v1/enforcement", REVIEWER_OR_SERVICE),
    ("GET", "/v1/entities/{id}", REVIEWER),
    ("GET", "/v1/network/map", INVESTIGATOR),
    ("GET", "/v1/accounts/{id}/risk", INVESTIGATOR),
    ("POST", "/v1/admin/remap", ADMIN),
    ("GET", "/v1/ledger/verify", ADMIN),
    ("GET", "/healthz", PUBLIC),
    ("GET", "/readyz", PUBLIC),
    ("GET", "/metrics", PUBLIC),
];

/// The scopes `method path` accepts; `None` when the table does not list it.
pub fn accepts(method: &str, path: &str) -> Option<Accepts> {
    ROUTE_SCOPES
        .iter()
        .find(|(m, p, _)| *m == method && *p == path)
        .map(|(_, _, scopes)| *scopes)
}

/// Refuses a request whose token the route does not accept, before its body is read.
pub async fn authorize(State(service): Shared, request: Request, next: Next) -> Response {
    let matched = request.extensions().get::<MatchedPath>().cloned();
    let path = matched.as_ref().map_or("", MatchedPath::as_str);
    let Some(scopes) = accepts(request.method().as_str(), path) else {
        // A method the route does not have: axum answers 405 itself (with `Allow`).
        // Anything else that reaches here unlisted is a route added without a declared
        // scope.
        if ROUTE_SCOPES.iter().any(|(_, p, _)| *p == path) {
            return next.run(request).await;
        }
        return ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            "forbidden",
            format!("{} {path} declares no scope: refused", request.method()),
        )
        .into_response();
    };
    if scopes.is_empty() {
        return next.run(request).await;
    }
    let refusal = {
        let Some(tokens) = service.tokens() else {
            return ApiError::unavailable(
                "the service is starting: the ledger (and its tokens) is still loading",
            )
            .into_response();
        };
        let authorization = request
            .headers()
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let now = unix_now();
        let mut refusal = Some(AuthError::Missing);
        for scope in scopes {
            match authenticate(&tokens, authorization, *scope, now) {
                Ok(_) => {
                    refusal = None;
                    break;
                }
                Err(error) => refusal = Some(error),
            }
        }
        refusal
    };
    match refusal {
        None => next.run(request).await,
        Some(error) => ApiError::from(error).into_response(),
    }
}
