//! The router and what its handlers share: query parameters read as Flask reads them,
//! JSON bodies read leniently (any content type, HMA's 400s), multipart uploads read
//! with HMA's one-file rule, and `/status`.
//!
//! Handlers never authenticate (the server wraps the router) and never answer 5xx for a
//! malformed request: every client mistake is a 4xx with HMA's `{"message": ...}` body.

mod curation;
mod exchanges;
mod hashing;
mod matching;

use std::collections::BTreeMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::state::HmaState;

/// The HMA 2.x routes over `state`: `/status`, `/h/...`, `/m/...`, `/c/...`.
pub fn router(state: HmaState) -> Router {
    let body_limit = state.config().max_upload_bytes;
    Router::new()
        .route("/status", get(status))
        .route("/status/live", get(status_live))
        .route("/h/hash", get(hashing::hash_get).post(hashing::hash_post))
        .route("/m/raw_lookup", get(matching::raw_lookup))
        .route(
            "/m/lookup",
            get(matching::lookup_get).post(matching::lookup_post),
        )
        .route("/m/index/status", get(matching::index_status))
        .route("/m/compare", post(matching::compare))
        .route(
            "/c/banks",
            get(curation::banks_list).post(curation::bank_create),
        )
        .route(
            "/c/bank/{bank}",
            get(curation::bank_get)
                .put(curation::bank_update)
                .delete(curation::bank_delete),
        )
        .route("/c/bank/{bank}/content", post(curation::content_add))
        .route(
            "/c/bank/{bank}/content/{id}",
            get(curation::content_get)
                .put(curation::content_update)
                .delete(curation::content_delete),
        )
        .route("/c/bank/{bank}/signal", post(curation::signal_add))
        .route("/c/signal_type", get(curation::signal_types))
        .route("/c/signal_type/index", get(curation::signal_type_index))
        .route("/c/content_type", get(curation::content_types))
        .route("/c/exchanges/apis", get(exchanges::apis_list))
        .route(
            "/c/exchanges/api/{api}",
            get(exchanges::api_get).post(exchanges::api_update),
        )
        .route("/c/exchanges/api/{api}/schema", get(exchanges::api_schema))
        .route(
            "/c/exchanges",
            get(exchanges::exchanges_list).post(exchanges::exchange_create),
        )
        .route(
            "/c/exchange/{name}",
            get(exchanges::exchange_get)
                .put(exchanges::exchange_update)
                .delete(exchanges::exchange_delete),
        )
        .route("/c/exchange/{name}/status", get(exchanges::exchange_status))
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(state)
}

/// A body of bare text as Flask returns a string: `text/html; charset=utf-8`.
fn flask_text(status: StatusCode, text: &'static str) -> Response {
    let mut response = (status, text).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

async fn status(State(state): State<HmaState>) -> Response {
    // The Ruby client accepts exactly these two words; never another 503 body.
    if state.index_stale() {
        flask_text(StatusCode::SERVICE_UNAVAILABLE, "INDEX-STALE")
    } else {
        flask_text(StatusCode::OK, "I-AM-ALIVE")
    }
}

async fn status_live() -> Response {
    flask_text(StatusCode::OK, "I-AM-ALIVE")
}

/// Werkzeug's 404 page, for a server that serves this router alone and wants unknown
/// paths answered as HMA answers them.
pub async fn not_found_page() -> Response {
    let mut response = (
        StatusCode::NOT_FOUND,
        "<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.</p>\n",
    )
        .into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

/// Query parameters as Flask's `request.args.get` reads them: the first value of a name.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    pub(crate) fn parse(query: Option<&str>) -> Params {
        let pairs = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .map(|(key, value)| (key.into_owned(), value.into_owned()))
            .collect();
        Params { pairs }
    }

    /// The first value of `name`, if present (possibly empty).
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The first value of `name` unless absent or empty (pydantic's optional strings are
    /// treated as absent when empty by HMA's `if query.url:` checks).
    pub(crate) fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|value| !value.is_empty())
    }

    /// A required parameter, or HMA's 400 `<name> is required`.
    pub(crate) fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.non_empty(name)
            .ok_or_else(|| ApiError::bad(format!("{name} is required")))
    }

    /// A boolean parameter in HMA's lax spelling, `default` when absent.
    pub(crate) fn flag(&self, name: &str, default: bool) -> Result<bool, ApiError> {
        match self.get(name) {
            None => Ok(default),
            Some(text) => crate::coerce::lax_bool(text).ok_or_else(|| {
                ApiError::bad(format!(
                    "{name}: invalid boolean parameter - prefer true/false"
                ))
            }),
        }
    }
}

/// A JSON object body: any content type, since clients differ; 400 when it is not JSON or
/// not an object.
pub(crate) fn json_object(body: &Bytes) -> Result<Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad("this endpoint expects a json object payload"));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::bad("this endpoint expects a json object payload")),
        Err(error) => Err(ApiError::bad(format!(
            "request body is not valid JSON: {error}"
        ))),
    }
}

/// A multipart upload as HMA reads it: exactly one file part, whose field name is the
/// content type, and the other (non-file) fields as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Upload {
    /// The file part's field name (`photo`, `video`).
    pub field: String,
    /// The file's bytes.
    pub bytes: Vec<u8>,
    /// Text fields (`metadata`, `note`, ...), first value of each name.
    pub form: BTreeMap<String, String>,
}

/// Whether a request carries a multipart body.
pub(crate) fn is_multipart(request: &Request) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        })
}

/// Reads a multipart upload; HMA's 400s for no file or more than one.
pub(crate) async fn read_upload(request: Request) -> Result<Upload, ApiError> {
    if !is_multipart(&request) {
        return Err(ApiError::bad("Missing multipart/form-data file upload"));
    }
    let mut multipart = Multipart::from_request(request, &())
        .await
        .map_err(|rejection| ApiError::bad(format!("invalid multipart/form-data: {rejection}")))?;
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut form = BTreeMap::new();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(error) => return Err(multipart_error(error)),
        };
        let name = field.name().unwrap_or_default().to_string();
        let is_file = field.file_name().is_some();
        let bytes = field.bytes().await.map_err(multipart_error)?;
        if is_file {
            files.push((name, bytes.to_vec()));
        } else {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            form.entry(name).or_insert(text);
        }
    }
    if files.len() > 1 {
        return Err(ApiError::bad("Only one file allowed per request"));
    }
    let Some((field, bytes)) = files.pop() else {
        return Err(ApiError::bad("Missing multipart/form-data file upload"));
    };
    Ok(Upload { field, bytes, form })
}

fn multipart_error(error: axum::extract::multipart::MultipartError) -> ApiError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::TooLarge("Content too large".to_string())
    } else {
        ApiError::bad(format!(
            "invalid multipart/form-data: {}",
            error.body_text()
        ))
    }
}

#[cfg(test)]
mod tests;
