//! Token checks for the payments API and the dashboard: `Authorization:
//! Bearer <token>`, or basic auth with any user name and the token as the
//! password (what a browser's login prompt sends). Compared in constant time
//! so the answer's timing does not reveal how much of a guess was right.

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use base64::Engine;
use subtle::ConstantTimeEq;

/// Whether `headers` carry `expected` as a bearer token or basic-auth password.
pub fn carries_token(headers: &HeaderMap, expected: &str) -> bool {
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
