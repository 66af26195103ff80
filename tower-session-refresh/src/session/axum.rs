//! axum integration (feature `axum`): [`Session`] and `Option<Session>` extractors, and
//! `IntoResponse` for [`SessionError`].

use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;
use std::convert::Infallible;

use super::error::{json_response, SessionError, MSG_UNAUTHORISED};
use super::verify::Session;

/// Rejection of the [`Session`] extractor: no verified session in the request (no
/// [`RequireSessionLayer`](super::RequireSessionLayer) on the route, or its `optional`
/// variant let a request without a token through). Answers 401 `{"message":"unauthorised"}`.
///
/// ```
/// use axum_core::response::IntoResponse;
/// use tower_session_refresh::session::NoSession;
/// assert_eq!(NoSession.into_response().status(), 401);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct NoSession;

impl IntoResponse for NoSession {
    fn into_response(self) -> Response {
        tracing::debug!("handler wants a Session but none was verified for this request");
        let body = serde_json::to_vec(&serde_json::json!({ "message": MSG_UNAUTHORISED }))
            .unwrap_or_default();
        json_response(http::StatusCode::UNAUTHORIZED, body).map(axum_core::body::Body::from)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = NoSession;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, NoSession> {
        parts.extensions.get::<Session>().cloned().ok_or(NoSession)
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Session {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Option<Self>, Infallible> {
        Ok(parts.extensions.get::<Session>().cloned())
    }
}

impl IntoResponse for SessionError {
    fn into_response(self) -> Response {
        self.to_response().map(axum_core::body::Body::from)
    }
}
