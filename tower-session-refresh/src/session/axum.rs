//! axum integration (feature `axum`): [`Session`] and `Option<Session>` extractors, and
//! `IntoResponse` for [`SessionError`].

use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;
use std::convert::Infallible;

use super::error::{json_response, HandlerRejection, SessionError, MSG_UNAUTHORISED};
use super::require::SessionChecked;
use super::verify::Session;

/// What the [`Session`] extractor answers on a route without a `RequireSessionLayer`.
pub(crate) const MSG_NO_REQUIRE_SESSION_LAYER: &str =
    "no RequireSessionLayer on this route: add SharedSession::require_session() (or RequireSessionLayer) to it";

/// No verified session in the request: the `optional` variant of
/// [`RequireSessionLayer`](super::RequireSessionLayer) let a request without a token
/// through. Answers 401 `{"message":"unauthorised"}` (behind that layer: its configured
/// `session_expired_status` and `on_unauthorised` hook).
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
        let mut response = json_response(http::StatusCode::UNAUTHORIZED, body);
        response
            .extensions_mut()
            .insert(HandlerRejection::Unauthorised);
        response.map(axum_core::body::Body::from)
    }
}

/// Rejection of the [`Session`] extractor.
///
/// ```
/// use axum_core::response::IntoResponse;
/// use tower_session_refresh::session::{NoSession, SessionRejection};
/// assert_eq!(SessionRejection::NoSession(NoSession).into_response().status(), 401);
/// assert_eq!(SessionRejection::MissingRequireSessionLayer.into_response().status(), 500);
/// ```
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum SessionRejection {
    /// The layer ran and found no token (its `optional` variant): 401.
    NoSession(NoSession),
    /// No [`RequireSessionLayer`](super::RequireSessionLayer) ran for this request: a setup
    /// error, never caused by input. 500 with a message naming the missing layer, instead
    /// of a 401 that looks like an anonymous user.
    MissingRequireSessionLayer,
}

impl IntoResponse for SessionRejection {
    fn into_response(self) -> Response {
        match self {
            SessionRejection::NoSession(no) => no.into_response(),
            SessionRejection::MissingRequireSessionLayer => {
                tracing::error!("{MSG_NO_REQUIRE_SESSION_LAYER}");
                let body = serde_json::to_vec(
                    &serde_json::json!({ "message": MSG_NO_REQUIRE_SESSION_LAYER }),
                )
                .unwrap_or_default();
                json_response(http::StatusCode::INTERNAL_SERVER_ERROR, body)
                    .map(axum_core::body::Body::from)
            }
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = SessionRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, SessionRejection> {
        match parts.extensions.get::<Session>() {
            Some(session) => Ok(session.clone()),
            None if parts.extensions.get::<SessionChecked>().is_some() => {
                Err(SessionRejection::NoSession(NoSession))
            }
            None => Err(SessionRejection::MissingRequireSessionLayer),
        }
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
