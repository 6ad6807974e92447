//! The reviewer console: server-rendered pages (askama templates, htmx vendored in
//! `assets/`) for moderators, investigators and admins, under the same server as the API.
//!
//! What it is for: people work reports here — the queue in priority order with its SLA
//! countdown, a case with its evidence (text matches highlighted, hash matches with bank
//! and distance, media blurred until a click that is audited, the account's network
//! neighbourhood drawn), and decisions that are ledger events carrying the reviewer and a
//! reason. Investigators read the network map; admins edit the discovery rules (shadow
//! first, backfill shown, promotion one click) and read the audit log. Writes take the
//! same path as the JSON routes: the event is durable in the ledger before the page
//! answers.
//!
//! Roles gate every page and action (reviewer < investigator < admin, as [`Scope::allows`]
//! says); a wrong role gets a 403 page, no session a redirect to `/login`. Sessions and
//! lockout are in [`session`] (in memory; see there). Every form carries the session's
//! CSRF token; every page is sent with a strict Content-Security-Policy (scripts only from
//! this origin, no inline script or style), and templates escape everything they print.
//!
//! What it must never do: show media unblurred without an audited click, render account
//! text (handles, bios, report text) as markup, change anything on a GET, or store an
//! image (media shown are abstract stand-ins drawn from the hash: Guardrail keeps hashes,
//! never the images it was given).

mod actions;
mod draw;
mod pages;
mod rules;
pub mod session;
mod views;

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::auth::Scope;
use crate::service::{Service, unix_now};
use session::{SESSION_COOKIE, Session, cookie, same_token};

/// What the console keeps in memory: sessions, and what the audit log read last.
#[derive(Debug, Default)]
pub struct ConsoleState {
    /// Sessions and login failures.
    pub sessions: session::Sessions,
    /// The last chain verification and the publishes found so far (both read the whole
    /// ledger: done in the background, and incrementally for publishes).
    pub(crate) audit: std::sync::Mutex<views::AuditCache>,
}

/// What a console handler answers: a page, or the page that says why not.
pub type PageResult = Result<Response, Refused>;

/// A page that refuses (403, 404, 409, ...): handlers' error, boxed because a response
/// is large and travels through every `?`.
#[derive(Debug)]
pub struct Refused(Box<Response>);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        *self.0
    }
}

/// The console's routes (merged into the API's router).
pub fn router() -> Router<Arc<Service>> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/queue") }))
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/queue", get(pages::queue))
        .route("/queue/{id}/claim", post(actions::claim))
        .route("/queue/{id}/release", post(actions::release))
        .route("/cases/{id}", get(pages::case))
        .route("/cases/{id}/decide", post(actions::decide))
        .route("/cases/{id}/media/{index}/reveal", post(actions::reveal))
        .route("/accounts/{id}", get(pages::account))
        .route("/media/{file}", get(draw::media))
        .route("/network", get(views::network))
        .route("/rules", get(rules::page))
        .route("/rules/publish", post(rules::publish))
        .route("/rules/promote", post(rules::promote))
        .route("/ads", get(views::ads))
        .route("/transparency", get(views::transparency_page))
        .route("/audit", get(views::audit))
        .route("/audit/verify", post(views::verify_now))
        .layer(middleware::map_response(secure_headers))
        .route("/assets/htmx.min.js", get(htmx))
        .route("/assets/console.css", get(stylesheet))
}

/// The strict policy every console page is sent with: nothing runs or loads from
/// anywhere but this origin, no inline script or style, no framing, forms post here only.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

async fn secure_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Pages show evidence: never kept by the browser's or a proxy's cache.
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

const HTMX: &[u8] = include_bytes!("../../assets/htmx.min.js");
const CSS: &[u8] = include_bytes!("../../assets/console.css");

fn asset(body: &'static [u8], content_type: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            // Versioned by the binary: a day is long enough to help, short enough to
            // pick up an upgrade.
            (header::CACHE_CONTROL, "public, max-age=86400"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

async fn htmx() -> Response {
    asset(HTMX, "text/javascript; charset=utf-8")
}

async fn stylesheet() -> Response {
    asset(CSS, "text/css; charset=utf-8")
}

/// The logged-in user of a console request.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// The session.
    pub session: Session,
}

impl FromRequestParts<Arc<Service>> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        service: &Arc<Service>,
    ) -> Result<Viewer, Response> {
        let id = parts
            .headers
            .get(header::COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|h| cookie(h, SESSION_COOKIE));
        match id.and_then(|id| service.console.sessions.get(id, unix_now())) {
            Some(session) => Ok(Viewer { session }),
            None => Err(Redirect::to("/login").into_response()),
        }
    }
}

impl Viewer {
    /// The viewer, if the role allows `needed`; else the 403 page.
    pub fn require(&self, needed: Scope) -> Result<&Viewer, Refused> {
        if self.session.role.allows(needed) {
            Ok(self)
        } else {
            Err(error_page(
                Some(self),
                StatusCode::FORBIDDEN,
                &format!(
                    "This page needs the {needed} role; you are signed in as {} ({}).",
                    self.session.user, self.session.role
                ),
            ))
        }
    }

    /// The form's CSRF token checks out, or the 403 page.
    pub fn check_csrf(&self, posted: Option<&str>) -> Result<(), Refused> {
        if posted.is_some_and(|t| same_token(t, &self.session.csrf)) {
            Ok(())
        } else {
            Err(error_page(
                Some(self),
                StatusCode::FORBIDDEN,
                "The form was refused: its CSRF token is missing or does not belong to your session. Reload the page and try again.",
            ))
        }
    }

    /// How the viewer is recorded as an actor in events.
    pub fn actor(&self) -> String {
        guardrail_reports::Actor::Person(self.session.user.clone()).recorded()
    }

    /// The page frame's view of the viewer.
    pub fn chrome(&self, current: &'static str) -> Chrome {
        Chrome {
            signed_in: true,
            user: self.session.user.clone(),
            role: self.session.role.name(),
            csrf: self.session.csrf.clone(),
            investigator: self.session.role.allows(Scope::Investigator),
            admin: self.session.role.allows(Scope::Admin),
            current,
        }
    }
}

/// What the page frame shows: who is signed in, which links their role opens, and the
/// logout form's CSRF token.
#[derive(Debug, Clone)]
pub struct Chrome {
    /// Whether anyone is signed in (the login and error pages have no one).
    pub signed_in: bool,
    /// Login name.
    pub user: String,
    /// Role name.
    pub role: &'static str,
    /// The session's CSRF token.
    pub csrf: String,
    /// Whether investigator pages open.
    pub investigator: bool,
    /// Whether admin pages open.
    pub admin: bool,
    /// The current page's nav key.
    pub current: &'static str,
}

impl Chrome {
    /// The frame of a page nobody is signed in to.
    pub fn anonymous() -> Chrome {
        Chrome {
            signed_in: false,
            user: String::new(),
            role: "",
            csrf: String::new(),
            investigator: false,
            admin: false,
            current: "",
        }
    }

    /// Whether the nav link `key` is the current page (for `aria-current`).
    pub fn is(&self, key: &str) -> bool {
        self.current == key
    }
}

/// Renders a template into a page, or the 500 page naming what failed.
pub fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(error) => {
            tracing::error!(%error, "a console template did not render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Html("<!doctype html><title>Error</title><p>The page could not be drawn; the server log says why.</p>".to_string()),
            )
                .into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    chrome: Chrome,
    status: u16,
    title: &'a str,
    message: &'a str,
}

/// A page saying what went wrong, with its status.
pub fn error_page(viewer: Option<&Viewer>, status: StatusCode, message: &str) -> Refused {
    let page = ErrorPage {
        chrome: viewer.map_or_else(Chrome::anonymous, |v| v.chrome("")),
        status: status.as_u16(),
        title: status.canonical_reason().unwrap_or("Error"),
        message,
    };
    let mut response = render(&page);
    *response.status_mut() = status;
    Refused(Box::new(response))
}

/// The ledger's folded state, or the 503 page while it loads.
pub fn ledger<'a>(
    service: &'a Service,
    viewer: &Viewer,
) -> Result<std::sync::RwLockReadGuard<'a, guardrail_ledger::state::LedgerState>, Refused> {
    service.ledger().ok_or_else(|| {
        error_page(
            Some(viewer),
            StatusCode::SERVICE_UNAVAILABLE,
            "The ledger is still loading; try again in a moment.",
        )
    })
}

/// A duration in words for countdowns: `3 h 12 min`, `45 min`, `2 d 4 h`.
pub fn duration_words(seconds: u64) -> String {
    let (days, hours, minutes) = (
        seconds / 86_400,
        (seconds % 86_400) / 3_600,
        (seconds % 3_600) / 60,
    );
    if days > 0 {
        format!("{days} d {hours} h")
    } else if hours > 0 {
        format!("{hours} h {minutes} min")
    } else {
        format!("{minutes} min")
    }
}

/// A Unix time as UTC text.
pub fn time_words(at: u64) -> String {
    let days = at / 86_400;
    let rest = at % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rest / 3_600,
        (rest % 3_600) / 60
    )
}

/// The shared state, for handlers.
pub type Shared = State<Arc<Service>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_for_times_and_durations() {
        assert_eq!(time_words(0), "1970-01-01 00:00 UTC");
        assert_eq!(time_words(1_764_400_000), "2025-11-29 07:06 UTC");
        assert_eq!(duration_words(59), "0 min");
        assert_eq!(duration_words(3_600 * 3 + 60 * 12), "3 h 12 min");
        assert_eq!(duration_words(86_400 * 2 + 3_600 * 4), "2 d 4 h");
    }
}
