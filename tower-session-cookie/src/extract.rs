//! `SessionTokens` as an axum extractor (feature `axum`).

use std::fmt;

use axum_core::{
    extract::FromRequestParts,
    response::{IntoResponse, Response},
};
use http::{header, request::Parts, HeaderValue, StatusCode};

use crate::SessionTokens;

/// Rejection of the [`SessionTokens`] extractor: the request did not pass through
/// [`SessionCookieLayer`](crate::SessionCookieLayer).
///
/// This is a wiring mistake, not bad input, so it answers `500` with a `text/plain` body
/// naming the fix ("SessionCookieLayer is not installed …"). No request content can cause it.
///
/// ```
/// use axum_core::response::IntoResponse;
/// use tower_session_cookie::MissingSessionCookieLayer;
/// let response = MissingSessionCookieLayer.into_response();
/// assert_eq!(response.status(), 500);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MissingSessionCookieLayer;

impl fmt::Display for MissingSessionCookieLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "SessionCookieLayer is not installed: add `.layer(SessionCookieLayer::new(config))` \
             around the routes that extract SessionTokens",
        )
    }
}

impl std::error::Error for MissingSessionCookieLayer {}

impl IntoResponse for MissingSessionCookieLayer {
    fn into_response(self) -> Response {
        tracing::debug!("SessionTokens extractor used without SessionCookieLayer");
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            )],
            self.to_string(),
        )
            .into_response()
    }
}

impl<S> FromRequestParts<S> for SessionTokens
where
    S: Send + Sync,
{
    type Rejection = MissingSessionCookieLayer;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<SessionTokens>()
            .cloned()
            .ok_or(MissingSessionCookieLayer)
    }
}
