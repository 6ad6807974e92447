//! The errors a route answers with, in HMA's shape: `{"message": "<text>"}` with the
//! status HMA's `api_error_handler` gives, so clients that branch on status and message
//! (the Ruby client's `/already exists/`, `/missing role/`) behave as against HMA.
//!
//! Messages are HMA's own texts where a client could see them. An internal error never
//! carries internals to the caller beyond what names the failing step.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::json::json_response;

/// An error answer of one of the HMA routes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed or names something invalid.
    #[error("{0}")]
    BadRequest(String),
    /// 403: the thing exists already, or a role is missing.
    #[error("{0}")]
    Forbidden(String),
    /// 404: the bank, content or exchange does not exist.
    #[error("{0}")]
    NotFound(String),
    /// 413: an upload or a fetched file is over the size limit.
    #[error("{0}")]
    TooLarge(String),
    /// 500: the change could not be recorded, or another server-side failure.
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The `message` of the body.
    pub fn message(&self) -> &str {
        match self {
            ApiError::BadRequest(text)
            | ApiError::Forbidden(text)
            | ApiError::NotFound(text)
            | ApiError::TooLarge(text)
            | ApiError::Internal(text) => text,
        }
    }

    pub(crate) fn bad(text: impl Into<String>) -> ApiError {
        ApiError::BadRequest(text.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json_response(
            self.status(),
            &serde_json::json!({ "message": self.message() }),
        )
    }
}

/// Why a [`crate::BankJournal`] could not record a change. The route that made the change
/// answers 500 and the change is not applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("journal could not record the change: {reason}")]
pub struct JournalError {
    /// What went wrong, for the operator.
    pub reason: String,
}

impl JournalError {
    /// An error with a reason.
    pub fn new(reason: impl Into<String>) -> JournalError {
        JournalError {
            reason: reason.into(),
        }
    }
}

/// Why [`crate::HmaState::replay`] could not rebuild the state from recorded changes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot replay HMA bank change {position}: {reason}")]
pub struct ReplayError {
    /// The change's position in the replayed sequence (0-based).
    pub position: usize,
    /// Why it does not apply to the state built so far.
    pub reason: String,
}
