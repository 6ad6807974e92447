//! The API's description, generated from the handlers' annotations (`/openapi.json`), and
//! the docs page that renders it (`/docs`, assets compiled into the binary).
//!
//! What it is for: clients and the schema fuzzer read one description that cannot drift
//! from the code: every route's path, parameters, bodies and answers come from the
//! `#[utoipa::path]` on its handler.
//!
//! What it must never do: load anything from a CDN: the docs page's assets are vendored in
//! the `utoipa-swagger-ui` crate at build time from crates.io, nothing is fetched.

use axum::Router;
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_swagger_ui::SwaggerUi;

use crate::routes::{ads, decide, events, media, network, ops, oversight, referrals, reports};
use crate::service::Service;

/// An error's body: `{"error": {"code", "message", "details"?}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// The error itself.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable code: `bad_request`, `unauthorized`, `forbidden`, `not_found`, `conflict`,
    /// `too_large`, `unsupported_media_type`, `unavailable`.
    pub code: String,
    /// What, where and why, for a person.
    pub message: String,
    /// Structured details (per-event errors, the stored report on a conflict).
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Value>,
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("grd.<id>.<secret>")
                    .build(),
            ),
        );
    }
}

/// The description.
#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "Guardrail", description = "Child-safety guardrails for discovery systems: decisions per surface with their reasons, the ledger of events, reports and enforcement, and the network map. Bearer tokens with scopes service, reviewer, investigator, admin (`guardrail token create`)."),
    paths(
        events::post_events,
        decide::decide, decide::text_check, decide::autocomplete_filter, decide::signup_decide,
        media::hash, media::match_media,
        reports::submit, reports::get_report, reports::transition, reports::enforce, reports::entity,
        referrals::refer, referrals::get_referral,
        ads::register, ads::deliver, ads::monitor,
        oversight::check_reports, oversight::transparency_figures, oversight::sweep, oversight::reset_rule,
        network::map, network::risk,
        ops::remap, ops::verify, ops::healthz, ops::readyz, ops::metrics,
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "events", description = "The platform's events into the ledger"),
        (name = "decisions", description = "Verdicts per surface, with reasons"),
        (name = "media", description = "PDQ hashing and matching against the banks (HMA 2.x's own routes are served too: docs/hma-compat.md)"),
        (name = "reports", description = "Reports, their lifecycle, enforcement and entities"),
        (name = "ads", description = "Ad delivery: risk exclusion for ads featuring minors, delivery control, the monitor"),
        (name = "network", description = "The suspected network and accounts' risk"),
        (name = "operations", description = "Health, readiness, metrics, re-maps, verification"),
    )
)]
pub struct ApiDoc;

/// `/docs`, the API docs page, and `/openapi.json` it reads (assets vendored).
pub fn docs() -> Router<std::sync::Arc<Service>> {
    Router::from(SwaggerUi::new("/docs").url("/openapi.json", ApiDoc::openapi()))
}
