//! `/h/hash`: hashing content from a URL (`GET ?url=`) or an upload (`POST`, multipart),
//! and the two helpers the lookup and bank-content routes hash with, so that every route
//! hashes exactly as `/h/hash` does (HMA's `hash_url_content`, `hash_media_from_form_data`).
//!
//! Nothing here stores what it hashes or fetches anything but the one URL given.

use std::collections::BTreeMap;

use axum::extract::{RawQuery, Request, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::{Params, Upload, read_upload};
use crate::error::ApiError;
use crate::json::json_response;
use crate::signals::ContentType;
use crate::state::HmaState;

/// Fetches `url` and hashes it with the content type (`content_type=` or the fetched
/// `Content-Type`) and signal types (`types=`) the parameters select.
pub(crate) async fn hash_url(
    state: &HmaState,
    url: &str,
    params: &Params,
) -> Result<BTreeMap<String, String>, ApiError> {
    let fetched = state.fetcher().fetch(url).await?;
    let content_type = match params.non_empty("content_type") {
        Some(name) => ContentType::from_name(name)?,
        None => ContentType::from_media_type(&fetched.media_type)?,
    };
    let signal_types = content_type.select_signal_types(params.get("types"))?;
    state.hash(fetched.bytes, signal_types).await
}

/// Hashes an upload: its field name is the content type; `types=` selects as for URLs.
pub(crate) async fn hash_upload(
    state: &HmaState,
    upload: Upload,
    params: &Params,
) -> Result<BTreeMap<String, String>, ApiError> {
    let content_type = ContentType::from_name(&upload.field)?;
    let signal_types = content_type.select_signal_types(params.get("types"))?;
    state.hash(upload.bytes, signal_types).await
}

/// `GET /h/hash?url=U[&content_type=C][&types=T]` → `{"pdq": "<hex>"}`.
pub(crate) async fn hash_get(
    State(state): State<HmaState>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let params = Params::parse(query.as_deref());
    let url = params.required("url")?;
    let signals = hash_url(&state, url, &params).await?;
    Ok(json_response(StatusCode::OK, &signals))
}

/// `POST /h/hash` with one file part named after its content type → `{"pdq": "<hex>"}`.
pub(crate) async fn hash_post(
    State(state): State<HmaState>,
    RawQuery(query): RawQuery,
    request: Request,
) -> Result<Response, ApiError> {
    let params = Params::parse(query.as_deref());
    let upload = read_upload(request).await?;
    let signals = hash_upload(&state, upload, &params).await?;
    Ok(json_response(StatusCode::OK, &signals))
}
