//! Why a request is refused, and the responses of spec 7.4 (JSON over HTTP, `grpc-status`
//! for gRPC calls); [`SessionError`] for application code.

use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use http::{Response, StatusCode};
use serde::Serialize;
use tower_session_cookie::{ClearScope, SessionTokens};

use super::store::StoreError;
use crate::token::TokenError;

/// One failed claim check, as sent in the 403 body's `claimValidationErrors`
/// (`{"id": …, "reason": …}`; the SDK fires `API_INVALID_CLAIM` with them).
///
/// ```
/// use tower_session_refresh::session::ClaimValidationError;
/// let error = ClaimValidationError::new("st-role", serde_json::json!({"message": "wrong value"}));
/// assert_eq!(error.id, "st-role");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClaimValidationError {
    /// The claim's id (e.g. `st-ev` for email verification, `st-role`).
    pub id: String,
    /// Why it failed; any JSON value (SuperTokens sends an object with a `message`).
    pub reason: serde_json::Value,
}

impl ClaimValidationError {
    /// A failure of claim `id` for `reason`.
    pub fn new(id: impl Into<String>, reason: serde_json::Value) -> Self {
        Self {
            id: id.into(),
            reason,
        }
    }
}

/// Why a session request was refused (the internal outcome; turned into a response once).
#[derive(Debug)]
pub(crate) enum Rejection {
    /// 401 `try refresh token`, nothing cleared: expired token, duplicate access cookies,
    /// anti-CSRF failure.
    TryRefresh(&'static str),
    /// 401 `unauthorised`; `clear` clears the tokens of every transfer method.
    Unauthorised { why: &'static str, clear: bool },
    /// 401 `token theft detected`, session revoked by the store, tokens cleared.
    Theft,
    /// 403 with `claimValidationErrors`.
    InvalidClaims(Vec<ClaimValidationError>),
    /// 503: the store or the key source failed. Nothing is cleared.
    Unavailable(&'static str),
    /// A request refused without signing anyone out: not the session-expired status
    /// (the SDK keeps its session on any other error), nothing cleared, `message` as the
    /// body. 400 for ambiguous credentials (two refresh cookies, two `Authorization` or
    /// `anti-csrf` headers), 431 for a `Cookie` header over the limit.
    Refused {
        status: StatusCode,
        message: &'static str,
    },
    /// 500: the `SessionCookieLayer` is not installed (a setup error, never caused by input).
    LayerMissing,
}

pub(crate) const MSG_TRY_REFRESH: &str = "try refresh token";
/// [`SessionError::TooLarge`]'s `what` for the user id.
pub(crate) const USER_ID: &str = "user id";
/// [`SessionError::TooLarge`]'s `what` for the access token.
pub(crate) const ACCESS_TOKEN: &str = "access token";
pub(crate) const MSG_UNAUTHORISED: &str = "unauthorised";
pub(crate) const MSG_THEFT: &str = "token theft detected";
pub(crate) const MSG_INVALID_CLAIM: &str = "invalid claim";
pub(crate) const MSG_LAYER_MISSING: &str =
    "SessionCookieLayer is not installed around this service";

impl Rejection {
    /// 400: two refresh cookies, and which one is current cannot be known.
    pub(crate) const DUPLICATE_REFRESH_COOKIES: Rejection = Rejection::Refused {
        status: StatusCode::BAD_REQUEST,
        message: "duplicate refresh token cookies",
    };
    /// 400: two session cookies of one kind, and no older cookie domain to clear one.
    pub(crate) const DUPLICATE_COOKIES: Rejection = Rejection::Refused {
        status: StatusCode::BAD_REQUEST,
        message: "duplicate session cookies",
    };
    /// 400: which `Authorization` header holds the session is ambiguous.
    pub(crate) const DUPLICATE_AUTHORIZATION: Rejection = Rejection::Refused {
        status: StatusCode::BAD_REQUEST,
        message: "more than one Authorization header",
    };
    /// 400: which `anti-csrf` header to check is ambiguous.
    pub(crate) const DUPLICATE_ANTI_CSRF: Rejection = Rejection::Refused {
        status: StatusCode::BAD_REQUEST,
        message: "more than one anti-csrf header",
    };

    /// 431: the `Cookie` headers are over the limit, so no session cookie was read. Logged
    /// at warn: cookies another subdomain set for the shared domain (a "cookie bomb") are
    /// the usual cause, and the user cannot fix it from the page.
    pub(crate) fn cookie_header_too_large(tokens: &SessionTokens) -> Rejection {
        tracing::warn!(
            limit = tokens.config().max_cookie_header_bytes(),
            "Cookie headers over max_cookie_header_bytes: session cookies not read, answering 431; \
             cookies set for the shared domain by another subdomain (a cookie bomb) are the usual cause"
        );
        Rejection::Refused {
            status: StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            message: "Cookie header too large: session cookies not read",
        }
    }
}

impl Rejection {
    /// Records the clearing this rejection implies on the request's handle.
    fn clear(&self, tokens: Option<&SessionTokens>) {
        let clear = matches!(
            self,
            Rejection::Theft | Rejection::Unauthorised { clear: true, .. }
        );
        if let (true, Some(tokens)) = (clear, tokens) {
            tokens.clear(ClearScope::All);
        }
    }

    /// [`into_response`](Self::into_response) with the configuration: its hooks' custom
    /// responses (HTTP) first, else the configuration's statuses: the
    /// session-expired status for every 401 (try refresh, unauthorised, theft) and the
    /// invalid-claim status for an invalid claim, as supertokens-node's
    /// `sessionExpiredStatusCode` / `invalidClaimStatusCode`. gRPC answers are unchanged.
    pub(crate) fn into_configured_response(
        self,
        config: &super::config::SessionConfig,
        tokens: Option<&SessionTokens>,
        grpc: bool,
    ) -> Response<Bytes> {
        if !grpc {
            if let Some(response) = config.inner.hooks.custom_response(&self) {
                self.clear(tokens);
                return response;
            }
        }
        let claims = matches!(self, Rejection::InvalidClaims(_));
        let mut response = self.into_response(tokens, grpc);
        if !grpc {
            if claims {
                *response.status_mut() = config.invalid_claim_status();
            } else if response.status() == StatusCode::UNAUTHORIZED {
                *response.status_mut() = config.session_expired_status();
            }
        }
        response
    }

    /// The response: JSON for HTTP, trailers-only `grpc-status` for gRPC requests.
    pub(crate) fn into_response(
        self,
        tokens: Option<&SessionTokens>,
        grpc: bool,
    ) -> Response<Bytes> {
        self.clear(tokens);
        match &self {
            Rejection::TryRefresh(why) | Rejection::Unauthorised { why, .. } => {
                tracing::debug!(reason = *why, "session request refused");
            }
            Rejection::Unavailable(why) => {
                tracing::warn!(reason = *why, "session check unavailable; answering 503");
            }
            Rejection::Refused { status, message } => {
                tracing::debug!(%status, reason = *message, "session request refused");
            }
            Rejection::LayerMissing => tracing::error!(MSG_LAYER_MISSING),
            Rejection::Theft | Rejection::InvalidClaims(_) => {}
        }
        let (status, grpc_code, message) = match &self {
            Rejection::TryRefresh(_) => (StatusCode::UNAUTHORIZED, 16, MSG_TRY_REFRESH),
            Rejection::Unauthorised { .. } => (StatusCode::UNAUTHORIZED, 16, MSG_UNAUTHORISED),
            Rejection::Theft => (StatusCode::UNAUTHORIZED, 16, MSG_THEFT),
            Rejection::InvalidClaims(_) => (invalid_claim_status(), 7, MSG_INVALID_CLAIM),
            Rejection::Unavailable(why) => (StatusCode::SERVICE_UNAVAILABLE, 14, *why),
            // RESOURCE_EXHAUSTED for the oversized header, INVALID_ARGUMENT otherwise.
            Rejection::Refused { status, message } => (
                *status,
                if *status == StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE {
                    8
                } else {
                    3
                },
                *message,
            ),
            Rejection::LayerMissing => (StatusCode::INTERNAL_SERVER_ERROR, 13, MSG_LAYER_MISSING),
        };
        if grpc {
            return grpc_response(grpc_code, message);
        }
        let body = match self {
            Rejection::InvalidClaims(errors) => invalid_claim_body(&errors),
            _ => serde_json::to_vec(&serde_json::json!({ "message": message })).unwrap_or_default(),
        };
        let mut response = json_response(status, body);
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

/// Put in the extensions of a response made from a [`SessionError`] (unknown session,
/// invalid claims) or from `NoSession`, so that the [`RequireSessionLayer`](super::RequireSessionLayer)
/// around the handler answers it as its own rejections: with the configured
/// `session_expired_status` / `invalid_claim_status` and the `on_unauthorised` /
/// `on_invalid_claim` hooks (node runs errors thrown from an API through the same handler).
#[derive(Clone, Debug)]
pub(crate) enum HandlerRejection {
    /// 401 `unauthorised` from the handler.
    Unauthorised,
    /// The invalid-claim answer from the handler (`assert_claims`).
    InvalidClaims(Vec<ClaimValidationError>),
}

impl HandlerRejection {
    /// The rejection the layer would have made itself.
    pub(crate) fn into_rejection(self) -> Rejection {
        match self {
            HandlerRejection::Unauthorised => Rejection::Unauthorised {
                why: "the handler answered unauthorised",
                // The refresh the SDK then tries fails for a revoked session, and that answer
                // clears the tokens.
                clear: false,
            },
            HandlerRejection::InvalidClaims(errors) => Rejection::InvalidClaims(errors),
        }
    }
}

/// The default status of claim failures (the SDK's `invalidClaimStatusCode`), before
/// [`Rejection::into_configured_response`] applies the configured one.
pub(crate) fn invalid_claim_status() -> StatusCode {
    StatusCode::FORBIDDEN
}

/// node's invalid-claim body: `{"message":"invalid claim","claimValidationErrors":[…]}`.
pub(crate) fn invalid_claim_body(errors: &[ClaimValidationError]) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "message": MSG_INVALID_CLAIM,
        "claimValidationErrors": errors,
    }))
    .unwrap_or_default()
}

/// A JSON response with `status`.
pub(crate) fn json_response(status: StatusCode, body: impl Into<Bytes>) -> Response<Bytes> {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// A trailers-only gRPC error (the workspace's one helper, `tower_domain_guard::grpc`).
fn grpc_response(code: u16, message: &'static str) -> Response<Bytes> {
    tower_domain_guard::grpc::response(code, message, Bytes::new())
}

pub(crate) use tower_domain_guard::grpc::is_grpc;

/// Why a [`SessionManager`](super::SessionManager) call failed.
///
/// With the `axum` feature it is an `IntoResponse`: 503 for store errors (nothing is
/// cleared), 401 `unauthorised` for an unknown session, 400 for a protected claim name or
/// a user id or payload over its limit, 500 otherwise; always `{"message": …}` without
/// details.
///
/// ```
/// use tower_session_refresh::session::SessionError;
/// let error = SessionError::ProtectedClaim("sub".into());
/// assert!(error.to_string().contains("sub"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The payload uses a claim name reserved for the session (`sub`, `exp`, …).
    #[error("the payload uses the protected claim name {0:?}")]
    ProtectedClaim(String),
    /// The session does not exist (revoked, expired, never created).
    #[error("no such session")]
    UnknownSession,
    /// The session store failed.
    #[error("session store error: {0}")]
    Store(#[from] StoreError),
    /// The access token could not be signed.
    #[error("access token could not be signed: {0}")]
    Token(TokenError),
    /// The system random number generator failed.
    #[error("the system random number generator failed")]
    Random,
    /// The user id, or the access token the payload makes, is over its limit: nothing was
    /// issued or stored.
    #[error("{what} over its limit of {limit} bytes")]
    TooLarge {
        /// What was too large (`"user id"`, `"access token"`).
        what: &'static str,
        /// The limit, in bytes.
        limit: usize,
    },
    /// A session was to be issued or looked up on a verify-only server (no store, no
    /// signing key): a setup error, answered 500.
    #[error("this server is verify-only: it has no session store and no signing key")]
    NotAnAuthServer,
    /// Claim validators failed ([`Session::assert_claims`](super::Session::assert_claims)):
    /// answered with the invalid-claim status (403) and supertokens-node's body
    /// `{"message":"invalid claim","claimValidationErrors":[{"id":…,"reason":…}]}`.
    #[error("invalid claims: {}", .0.iter().map(|e| e.id.as_str()).collect::<Vec<_>>().join(", "))]
    InvalidClaims(Vec<ClaimValidationError>),
    /// A claim's value could not be fetched (answered 503).
    #[error("a claim value could not be fetched: {0}")]
    ClaimFetch(crate::claims::ClaimFetchError),
}

impl From<TokenError> for SessionError {
    fn from(error: TokenError) -> Self {
        match error {
            TokenError::ProtectedClaim(name) => SessionError::ProtectedClaim(name),
            other => SessionError::Token(other),
        }
    }
}

impl SessionError {
    /// The HTTP status this error maps to.
    ///
    /// ```
    /// use tower_session_refresh::session::SessionError;
    /// assert_eq!(SessionError::UnknownSession.status(), 401);
    /// ```
    pub fn status(&self) -> StatusCode {
        match self {
            SessionError::ProtectedClaim(_) | SessionError::TooLarge { .. } => {
                StatusCode::BAD_REQUEST
            }
            SessionError::UnknownSession => StatusCode::UNAUTHORIZED,
            SessionError::InvalidClaims(_) => invalid_claim_status(),
            SessionError::Store(_)
            | SessionError::ClaimFetch(_)
            | SessionError::Token(TokenError::NoSigningKey) => StatusCode::SERVICE_UNAVAILABLE,
            SessionError::Token(_) | SessionError::Random | SessionError::NotAnAuthServer => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    /// A `{"message": …}` response for this error (the message names the kind of failure,
    /// never internal details).
    ///
    /// Returned by a handler behind a [`RequireSessionLayer`](super::RequireSessionLayer),
    /// the unknown-session and invalid-claims answers get that configuration's
    /// `session_expired_status` / `invalid_claim_status` and hooks, as the layer's own.
    pub fn to_response(&self) -> Response<Bytes> {
        if let SessionError::InvalidClaims(errors) = self {
            let mut response = json_response(self.status(), invalid_claim_body(errors));
            response
                .extensions_mut()
                .insert(HandlerRejection::InvalidClaims(errors.clone()));
            return response;
        }
        let message = match self {
            SessionError::InvalidClaims(_) => MSG_INVALID_CLAIM,
            SessionError::ClaimFetch(_) => "claim value unavailable",
            SessionError::ProtectedClaim(_) => "the payload uses a protected claim name",
            SessionError::TooLarge { what: USER_ID, .. } => "user id too long",
            SessionError::TooLarge { .. } => "access token payload too large",
            SessionError::UnknownSession => MSG_UNAUTHORISED,
            SessionError::Store(_) => "session store unavailable",
            SessionError::Token(TokenError::NoSigningKey) => "signing keys unavailable",
            SessionError::Token(_) | SessionError::Random | SessionError::NotAnAuthServer => {
                "internal error"
            }
        };
        let body =
            serde_json::to_vec(&serde_json::json!({ "message": message })).unwrap_or_default();
        let mut response = json_response(self.status(), body);
        if matches!(self, SessionError::UnknownSession) {
            response
                .extensions_mut()
                .insert(HandlerRejection::Unauthorised);
        }
        response
    }
}
