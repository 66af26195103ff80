//! Errors and notices of the client layer.

use std::fmt;
use std::sync::Arc;

use http::StatusCode;

use super::body::NotReplayableReason;

/// A boxed error, as tower uses.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a call through [`SessionClient`](super::SessionClient) failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum ClientError {
    /// The wrapped service failed (connection refused, protocol error, ...).
    Service(BoxError),
    /// Reading the request body (to keep it for a resend) failed.
    Body(BoxError),
    /// The session has ended: the refresh endpoint answered 401 (revoked, expired, or
    /// theft detected). The stored session has been cleared; sign in again.
    SessionExpired,
    /// The server answered 401 (or gRPC UNAUTHENTICATED); the session was refreshed, but
    /// the request could not be sent again because of its body.
    NotReplayable {
        /// Why the body could not be replayed.
        reason: NotReplayableReason,
        /// The status of the response that was not retried.
        status: StatusCode,
    },
    /// The refresh could not be completed (network error, 5xx, ...). The session is kept:
    /// an outage does not sign anyone out.
    Refresh(RefreshFailure),
    /// A helper call (sign-in, sign-out) got a status it does not accept.
    UnexpectedStatus(StatusCode),
}

impl ClientError {
    pub(crate) fn service(e: impl Into<BoxError>) -> Self {
        Self::Service(e.into())
    }

    /// Whether the session has ended (sign in again).
    pub fn is_session_expired(&self) -> bool {
        matches!(self, Self::SessionExpired)
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Service(e) => write!(f, "request failed: {e}"),
            Self::Body(e) => write!(f, "reading the request body failed: {e}"),
            Self::SessionExpired => f.write_str(
                "the session has expired or was revoked (the refresh endpoint answered 401); sign in again",
            ),
            Self::NotReplayable { reason, status } => {
                write!(f, "the server answered {status}: {reason}")
            }
            Self::Refresh(e) => write!(f, "{e}"),
            Self::UnexpectedStatus(s) => write!(f, "unexpected response status {s}"),
        }
    }
}

impl std::error::Error for ClientError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Service(e) | Self::Body(e) => Some(&**e),
            Self::Refresh(e) => Some(e),
            _ => None,
        }
    }
}

/// Why a refresh did not complete. The session is kept.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum RefreshFailure {
    /// The refresh endpoint answered this status (not 2xx, not 401), e.g. 503 during an
    /// outage of the session store.
    Status(StatusCode),
    /// The refresh endpoint answered 2xx without a `front-token` header (usually a proxy
    /// or CORS configuration that drops it).
    MissingFrontToken,
    /// The refresh request itself failed (network error). Shared by every request that
    /// waited for the same refresh.
    Transport(Arc<dyn std::error::Error + Send + Sync>),
}

impl fmt::Display for RefreshFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Status(s) => write!(
                f,
                "refreshing the session failed: the refresh endpoint answered {s} (the session is kept; try again later)"
            ),
            Self::MissingFrontToken => f.write_str(
                "refreshing the session failed: the refresh response has no front-token header (is a proxy dropping it?)",
            ),
            Self::Transport(e) => write!(
                f,
                "refreshing the session failed: {e} (the session is kept; try again later)"
            ),
        }
    }
}

impl std::error::Error for RefreshFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Transport(e) => Some(&**e),
            _ => None,
        }
    }
}

/// Placed in the extensions of a 401 (or gRPC UNAUTHENTICATED) response returned under
/// [`SessionErrorMode::Response`](super::SessionErrorMode::Response), saying why it was
/// not retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionNotice {
    /// The session has ended and was cleared.
    SessionExpired,
    /// The session was refreshed, but the request body could not be sent again.
    NotReplayed(NotReplayableReason),
}

impl fmt::Display for SessionNotice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SessionExpired => f.write_str("the session has expired or was revoked"),
            Self::NotReplayed(r) => fmt::Display::fmt(r, f),
        }
    }
}
