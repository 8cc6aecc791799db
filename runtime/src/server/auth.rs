//! The bearer token: with `--auth-token`, every API and artifact request must carry it, either in
//! `Authorization: Bearer TOKEN` or in the cookie `authorization` (value `Bearer TOKEN`, URL-encoded, as
//! Argo's UI keeps it), so that plain download links in the UI work too. The UI's own assets and
//! `/healthz` need no token. Tokens are compared in constant time.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::server::error::{ApiError, Code};

/// The name of the cookie that may carry the token.
pub const COOKIE_NAME: &str = "authorization";

/// Whether `a` and `b` are equal, in time that does not depend on where they differ.
pub fn same_secret(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The token the request carries: its `Authorization` header, else its `authorization` cookie.
fn presented(headers: &HeaderMap) -> Option<String> {
    if let Some(value) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        return Some(strip_bearer(value.trim()).to_string());
    }
    for header in headers.get_all(COOKIE) {
        let Ok(text) = header.to_str() else { continue };
        for pair in text.split(';') {
            let Some((name, value)) = pair.trim().split_once('=') else {
                continue;
            };
            if name.trim() != COOKIE_NAME {
                continue;
            }
            let decoded: String = url::form_urlencoded::parse(format!("v={value}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            return Some(strip_bearer(decoded.trim()).to_string());
        }
    }
    None
}

fn strip_bearer(value: &str) -> &str {
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .unwrap_or(value)
        .trim()
}

/// Middleware: lets the request through when no token is set or it carries the right one; answers 401
/// (`{"code":16,...}`) otherwise.
pub async fn require_token(
    State(token): State<Option<Arc<str>>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(token) = token else {
        return next.run(request).await;
    };
    match presented(request.headers()) {
        Some(given) if same_secret(given.as_bytes(), token.as_bytes()) => next.run(request).await,
        Some(_) => ApiError::new(Code::Unauthenticated, "the token is not valid").into_response(),
        None => ApiError::new(
            Code::Unauthenticated,
            "this server needs a token: send `Authorization: Bearer TOKEN`",
        )
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_by_content() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abc", b"abd"));
        assert!(!same_secret(b"abc", b"abcd"));
    }

    #[test]
    fn the_token_comes_from_the_header_or_the_cookie() {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, "Bearer s3cret".parse().unwrap());
        assert_eq!(presented(&h).as_deref(), Some("s3cret"));
        let mut h = HeaderMap::new();
        h.insert(
            COOKIE,
            "a=b; authorization=Bearer%20s3cret".parse().unwrap(),
        );
        assert_eq!(presented(&h).as_deref(), Some("s3cret"));
        let mut h = HeaderMap::new();
        h.insert(COOKIE, "authorization=s3cret".parse().unwrap());
        assert_eq!(presented(&h).as_deref(), Some("s3cret"));
        assert_eq!(presented(&HeaderMap::new()), None);
    }
}
