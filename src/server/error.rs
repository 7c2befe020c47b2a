//! The API's one error shape: `{"error": {"code": "...", "message": "..."}}`, with a
//! message a person can act on.

use crate::store::StoreError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// An error answered to an API caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    /// A stable machine-readable code (`unauthorized`, `not_found`, ...).
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation", message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }

    /// The error for a bare status produced below the handlers (routing, body limit).
    pub fn from_status(status: StatusCode) -> Self {
        match status {
            StatusCode::PAYLOAD_TOO_LARGE => Self::new(
                status,
                "payload_too_large",
                "the request body is larger than the server accepts ([server] max_body_bytes): send a shorter text",
            ),
            StatusCode::URI_TOO_LONG => Self::new(
                status,
                "uri_too_long",
                "the request's address (path and query) is too long: shorten the query",
            ),
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => Self::new(
                status,
                "headers_too_large",
                "the request's headers are too large or too many: send only the headers the API needs (Authorization, Content-Type)",
            ),
            StatusCode::REQUEST_TIMEOUT => Self::new(
                status,
                "request_timeout",
                "the request took too long to arrive or to answer ([server] request_timeout_seconds): send it again in one go",
            ),
            StatusCode::BAD_REQUEST => Self::new(
                status,
                "invalid_request",
                "the request is not well-formed HTTP: check the client, or use curl as in docs/api.md",
            ),
            StatusCode::METHOD_NOT_ALLOWED => Self::new(
                status,
                "method_not_allowed",
                "this endpoint does not accept that method: see docs/api.md for the methods it takes",
            ),
            StatusCode::NOT_FOUND => Self::not_found(
                "no such endpoint: the API lives under /api/v1 (see docs/api.md for the list)",
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Self::new(
                status,
                "unsupported_media_type",
                "send the body as JSON with 'Content-Type: application/json'",
            ),
            s if s.is_server_error() => Self::new(
                s,
                "internal",
                "the server failed to answer: try again, and tell the administrator if it persists",
            ),
            s => Self::new(
                s,
                "invalid_request",
                format!(
                    "the request was refused ({}): check it against docs/api.md",
                    s.canonical_reason().unwrap_or("error")
                ),
            ),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "Store error behind an API request.");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store_unavailable",
            "the local store could not be read or written: try again shortly; if it persists, the administrator should check `sp4n` logs",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "error": { "code": self.code, "message": self.message }
        });
        let mut resp = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"sp4n\""),
            );
        }
        resp
    }
}
