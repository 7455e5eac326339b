//! Who may call what, as extractors: a handler that takes one of them runs
//! only for a caller it admits, and the refusal is answered before the
//! handler sees the request.
//!
//! - [`PaymentsRequest`]: the payments API's bearer token;
//! - [`DashboardViewer`]: the dashboard's token, unless the page is open;
//! - [`GatewayCallback`]: a receipt or inbound SMS from a configured gateway,
//!   with its token, Kannel signature or Twilio signature checked.
//!
//! Tokens are `Authorization: Bearer <token>`, or basic auth with any user
//! name and the token as the password (what a browser's login prompt
//! sends), compared in constant time so the answer's timing does not reveal
//! how much of a guess was right.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, MatchedPath, Path, RawQuery, Request};
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use base64::Engine;
use subtle::ConstantTimeEq;

use super::AppState;
use super::error::{ApiError, JsonApiError};
use crate::channels::sms::providers::CallbackGateway;

/// A payments API request whose caller carried the token, with its body.
/// The body is read first, as for any request, so a client that never
/// finishes sending it meets the request timeout whatever it claims.
#[derive(Debug)]
pub struct PaymentsRequest {
    /// The body as it arrived.
    pub body: Bytes,
}

impl FromRequest<AppState> for PaymentsRequest {
    type Rejection = axum::response::Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        use axum::response::IntoResponse;
        let headers = request.headers().clone();
        let body = Bytes::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let Some(token) = state.payments.token.as_deref() else {
            let e = ApiError::NotConfigured(
                "the payments API has no token configured (payments.token_env or payments.token_file)",
            );
            return Err(JsonApiError(e).into_response());
        };
        if !carries_token(&headers, token) {
            tracing::warn!("payments API call refused: missing or wrong token");
            let e = ApiError::Unauthorized("missing or wrong bearer token".into());
            return Err(JsonApiError(e).into_response());
        }
        Ok(Self { body })
    }
}

/// Someone allowed to see the dashboard: anyone when it is open (served on
/// loopback), otherwise whoever carries the dashboard token.
#[derive(Debug)]
pub struct DashboardViewer;

impl FromRequestParts<AppState> for DashboardViewer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let ctx = &state.dashboard;
        if ctx.open {
            return Ok(Self);
        }
        let Some(token) = ctx.token.as_deref() else {
            return Err(ApiError::Forbidden(
                "the dashboard needs dashboard.token_env or dashboard.token_file when http.bind is not loopback",
            ));
        };
        if !carries_token(&parts.headers, token) {
            return Err(ApiError::LoginRequired);
        }
        Ok(Self)
    }
}

/// A callback (`/receipts/{gateway}` or `/inbound/{gateway}`) from a
/// configured gateway whose token or signature was right.
#[derive(Debug)]
pub struct GatewayCallback {
    /// The gateway's configured name.
    pub name: String,
    /// The gateway, whose provider reads and answers the callback.
    pub gateway: Arc<CallbackGateway>,
    /// The raw query string.
    pub query: Option<String>,
    /// The body as it arrived.
    pub body: Bytes,
}

impl FromRequest<AppState> for GatewayCallback {
    type Rejection = axum::response::Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        use axum::response::IntoResponse;
        let (mut parts, body) = request.into_parts();
        let Path(name) = Path::<String>::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        // The first segment of the route: `receipts` or `inbound`. Twilio
        // signs the public URL, which is rebuilt from it.
        let route = parts
            .extensions
            .get::<MatchedPath>()
            .and_then(|p| p.as_str().trim_start_matches('/').split('/').next().map(str::to_string))
            .unwrap_or_default();
        let RawQuery(query) = RawQuery::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let headers = parts.headers.clone();
        let body = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        let gateways = &state.receipts;
        let Some(gateway) = gateways.get(&name) else {
            return Err(ApiError::UnknownGateway.into_response());
        };
        if let Err(e) = gateways.authenticate(gateway, &route, query.as_deref(), &headers, &body) {
            let what = if route == "inbound" {
                "inbound SMS"
            } else {
                "delivery receipt"
            };
            tracing::warn!(gateway = %name, reason = e.as_str(), "{what} refused");
            return Err(ApiError::Unauthorized(e.as_str().to_string()).into_response());
        }
        Ok(Self {
            gateway: gateway.clone(),
            name,
            query,
            body,
        })
    }
}

/// Whether `headers` carry `expected` as a bearer token or basic-auth password.
pub(crate) fn carries_token(headers: &HeaderMap, expected: &str) -> bool {
    let Some(value) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let offered = if let Some(token) = strip_scheme(value, "bearer") {
        token.trim().as_bytes().to_vec()
    } else if let Some(encoded) = strip_scheme(value, "basic") {
        match base64::engine::general_purpose::STANDARD.decode(encoded.trim()) {
            Ok(decoded) => match decoded.iter().position(|&b| b == b':') {
                Some(colon) => decoded[colon + 1..].to_vec(),
                None => return false,
            },
            Err(_) => return false,
        }
    } else {
        return false;
    };
    offered.ct_eq(expected.as_bytes()).into()
}

/// The credentials after `scheme ` (scheme matched without regard to case).
fn strip_scheme<'a>(value: &'a str, scheme: &str) -> Option<&'a str> {
    let (given, rest) = value.split_once(' ')?;
    given.eq_ignore_ascii_case(scheme).then_some(rest)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn with(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn bearer_and_basic_are_accepted_with_the_right_token_only() {
        assert!(carries_token(&with("Bearer s3cret"), "s3cret"));
        assert!(carries_token(&with("bearer s3cret"), "s3cret"));
        assert!(!carries_token(&with("Bearer s3cre"), "s3cret"));
        assert!(!carries_token(&with("Bearer s3cret2"), "s3cret"));
        // "kota:s3cret"
        assert!(carries_token(&with("Basic a290YTpzM2NyZXQ="), "s3cret"));
        // "kota:salah"
        assert!(!carries_token(&with("Basic a290YTpzYWxhaA=="), "s3cret"));
        assert!(!carries_token(&with("Basic !!!"), "s3cret"));
        assert!(!carries_token(&with("Token s3cret"), "s3cret"));
        assert!(!carries_token(&HeaderMap::new(), "s3cret"));
    }
}
