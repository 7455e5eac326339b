//! Why a request is refused, and the status each reason is answered with.
//!
//! Handlers and extractors return an [`ApiError`]; its `IntoResponse` writes
//! the status and a one-line plain-text body (what gateways and `curl`
//! users read). The payments API answers the same errors as JSON through
//! [`JsonApiError`], since its clients parse every answer as JSON.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use thiserror::Error;

/// A refused request. The `Display` text is the body sent back.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum ApiError {
    /// The endpoint needs a secret the operator has not configured, so it
    /// serves nobody: 503, because the service, not the caller, is at fault
    /// and a retry succeeds once the operator configures it.
    #[error("{0}")]
    NotConfigured(&'static str),
    /// The request may never be served as things are configured (the
    /// dashboard on a non-loopback address without a token): 403, since no
    /// credential the caller could send would change the answer.
    #[error("{0}")]
    Forbidden(&'static str),
    /// A missing or wrong token or signature: 401. Nothing was recorded.
    #[error("{0}")]
    Unauthorized(String),
    /// A browser must log in: 401 with a `WWW-Authenticate: Basic`
    /// challenge, so the browser shows its login prompt.
    #[error("token diperlukan")]
    LoginRequired,
    /// `{gateway}` in the URL is not a configured gateway: 404, like any
    /// path that does not exist.
    #[error("unknown gateway")]
    UnknownGateway,
    /// What the request names does not exist (a region code not in the
    /// kelurahan list): 404, with what was not found.
    #[error("{0}")]
    NotFound(String),
    /// The request itself is malformed (not the format its route takes):
    /// 400, and sending it again would not help.
    #[error("{0}")]
    BadRequest(String),
    /// The database cannot take it now: 503, so a gateway or client retries
    /// later and nothing is lost.
    #[error("{0}")]
    Unavailable(&'static str),
}

impl ApiError {
    /// The status this error is answered with (see each variant).
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotConfigured(_) | Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::Unauthorized(_) | Self::LoginRequired => StatusCode::UNAUTHORIZED,
            Self::UnknownGateway | Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = format!("{self}\n");
        match self {
            Self::LoginRequired => (
                self.status(),
                [(header::WWW_AUTHENTICATE, "Basic realm=\"pengingat\", charset=\"UTF-8\"")],
                body,
            )
                .into_response(),
            _ => (self.status(), body).into_response(),
        }
    }
}

/// An [`ApiError`] answered as `{"error": "…"}`, with the same status.
#[derive(Debug)]
pub struct JsonApiError(pub ApiError);

impl From<ApiError> for JsonApiError {
    fn from(e: ApiError) -> Self {
        Self(e)
    }
}

impl IntoResponse for JsonApiError {
    fn into_response(self) -> Response {
        (self.0.status(), axum::Json(json!({ "error": self.0.to_string() }))).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_keeps_its_status_and_body() {
        let login = ApiError::LoginRequired.into_response();
        assert_eq!(login.status(), StatusCode::UNAUTHORIZED);
        assert!(login.headers().contains_key(header::WWW_AUTHENTICATE));
        let missing = ApiError::UnknownGateway.into_response();
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        assert!(!missing.headers().contains_key(header::WWW_AUTHENTICATE));
        let json = JsonApiError(ApiError::NotConfigured("no token")).into_response();
        assert_eq!(json.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(ApiError::BadRequest("x".into()).to_string(), "x");
    }
}
