//! [`Session`] and the verification every protected request goes through (shared by
//! [`RequireSession`](super::RequireSession) and [`SignOutService`](super::SignOutService)).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use http::{HeaderMap, HeaderValue, Method};
use serde_json::{Map, Value};
use subtle::ConstantTimeEq;
use tower_session_cookie::{SessionTokens, TransferMethod};

use super::config::{AntiCsrf, SessionConfig};
use super::error::Rejection;
use super::error::SessionError;
use super::issue;
use super::store::{PromoteOutcome, SessionStore, StoreError};
use crate::token::{AccessTokenClaims, InvalidReason, VerifiedToken, VerifyError};

/// The verified session of a request, put in the request extensions by
/// [`RequireSession`](super::RequireSession) (an axum extractor with the `axum` feature).
///
/// Cheap to clone (two `Arc`s). `Debug` shows the user and handle, never tokens.
///
/// ```
/// use tower_session_refresh::session::Session;
///
/// async fn handler(request: http::Request<()>) -> String {
///     match request.extensions().get::<Session>() {
///         Some(session) => format!("hello {}", session.user_id()),
///         None => "no session".into(),
///     }
/// }
/// ```
#[derive(Clone)]
pub struct Session {
    claims: VerifiedToken,
    method: TransferMethod,
    tokens: SessionTokens,
    /// The configuration, for the methods that issue a new access token (claims, merge).
    config: Option<SessionConfig>,
    // Where the session's server-side data lives (`None` on a verify-only server).
    store: Option<Arc<dyn SessionStore>>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("user_id", &self.claims.sub)
            .field("handle", &self.claims.session_handle)
            .field("transfer_method", &self.method)
            .field("expires", &self.claims.exp)
            .finish_non_exhaustive()
    }
}

impl Session {
    pub(crate) fn new(
        claims: VerifiedToken,
        method: TransferMethod,
        tokens: SessionTokens,
    ) -> Self {
        Self {
            claims,
            method,
            tokens,
            config: None,
            store: None,
        }
    }

    /// The same session, reading its server-side data from `store`.
    pub(crate) fn with_store(mut self, store: Option<Arc<dyn SessionStore>>) -> Self {
        self.store = store;
        self
    }

    fn data_store(&self) -> Result<&Arc<dyn SessionStore>, SessionError> {
        self.store
            .as_ref()
            .or_else(|| self.config.as_ref().and_then(SessionConfig::store))
            .ok_or(SessionError::NotAnAuthServer)
    }

    /// The server-side session data (SuperTokens' `getSessionDataFromDatabase`): one
    /// store lookup. Never in a token; kept across refreshes. Empty when none was set.
    ///
    /// Errors: [`SessionError::UnknownSession`] when the session was revoked or has
    /// expired, [`SessionError::NotAnAuthServer`] on a verify-only server, a store error (503).
    pub async fn session_data(&self) -> Result<Map<String, Value>, SessionError> {
        let info = self.data_store()?.get(self.handle()).await?;
        match info {
            Some(info) if info.user_id == self.claims.sub => Ok(info.session_data),
            _ => Err(SessionError::UnknownSession),
        }
    }

    /// Replaces the server-side session data (SuperTokens' `updateSessionDataInDatabase`;
    /// replaced, not merged). Errors as [`session_data`](Self::session_data).
    pub async fn update_session_data(&self, data: Map<String, Value>) -> Result<(), SessionError> {
        if self
            .data_store()?
            .update_session_data(self.handle(), data)
            .await?
        {
            Ok(())
        } else {
            Err(SessionError::UnknownSession)
        }
    }

    /// The same session, able to issue new access tokens with `config`.
    pub(crate) fn with_config(mut self, config: &SessionConfig) -> Self {
        self.config = Some(config.clone());
        self
    }

    /// The configuration the session was verified or created with.
    pub(crate) fn config(&self) -> Option<&SessionConfig> {
        self.config.as_ref()
    }

    /// Replaces the claims after a new access token was issued for this session.
    pub(crate) fn set_claims(&mut self, claims: VerifiedToken) {
        self.claims = claims;
    }

    /// The user id (`sub`).
    pub fn user_id(&self) -> &str {
        &self.claims.sub
    }

    /// The session handle (`sessionHandle`), stable across refreshes.
    pub fn handle(&self) -> &str {
        &self.claims.session_handle
    }

    /// The application payload (the access token's custom claims).
    pub fn payload(&self) -> &Map<String, Value> {
        &self.claims.payload
    }

    /// All claims of the (possibly just re-issued) access token.
    pub fn claims(&self) -> &AccessTokenClaims {
        &self.claims
    }

    /// The claims, shared.
    pub fn verified_token(&self) -> &VerifiedToken {
        &self.claims
    }

    /// How the access token travelled (and how new tokens for this session are sent).
    pub fn transfer_method(&self) -> TransferMethod {
        self.method
    }

    /// The request's token handle (to write new tokens in this response).
    pub fn tokens(&self) -> &SessionTokens {
        &self.tokens
    }
}

/// A boxed, sendable future.
pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// The answer to a request that needs a session and carries no access token: 401
/// `unauthorised` (nothing cleared), or 431 when the `Cookie` headers were too large to
/// read one (a 401 would make the SDK refresh, and then sign the user out).
pub(crate) fn no_token(tokens: Option<&SessionTokens>, why: &'static str) -> Rejection {
    match tokens {
        Some(tokens) if tokens.cookie_header_too_large() => {
            Rejection::cookie_header_too_large(tokens)
        }
        _ => Rejection::Unauthorised { why, clear: false },
    }
}

/// The outcome of the synchronous part of a check.
pub(crate) enum Checked {
    /// Decided without waiting.
    Done(Result<Session, Rejection>),
    /// Needs the store (promotion) or the key source (unknown kid).
    Pending(BoxFuture<Result<Session, Rejection>>),
    /// The request carries no access token (and the handle is present).
    NoToken,
}

/// What the anti-CSRF check needs from the request, captured before any await.
enum Csrf {
    Skip,
    /// `ViaCustomHeader`: whether `rid` was sent.
    Rid(bool),
    /// `ViaToken`: the `anti-csrf` header.
    Token(Option<HeaderValue>),
    /// `ViaToken`, and more than one `anti-csrf` header.
    DuplicateToken,
}

impl Csrf {
    fn capture(
        mode: AntiCsrf,
        method: &Method,
        transfer: TransferMethod,
        headers: &HeaderMap,
    ) -> Self {
        // Header-mode requests skip anti-CSRF (spec 7.2); so do safe methods.
        if transfer == TransferMethod::Header || *method == Method::GET || *method == Method::HEAD {
            return Csrf::Skip;
        }
        match mode {
            AntiCsrf::None => Csrf::Skip,
            AntiCsrf::ViaCustomHeader => Csrf::Rid(headers.contains_key("rid")),
            AntiCsrf::ViaToken => {
                let mut sent = headers
                    .get_all(tower_session_cookie::headers::ANTI_CSRF)
                    .iter();
                match (sent.next(), sent.next()) {
                    (_, Some(_)) => Csrf::DuplicateToken,
                    (first, None) => Csrf::Token(first.cloned()),
                }
            }
        }
    }

    fn check(&self, claims: &AccessTokenClaims) -> Result<(), Rejection> {
        match self {
            Csrf::Skip | Csrf::Rid(true) => Ok(()),
            Csrf::Rid(false) => Err(Rejection::TryRefresh("missing rid header (anti-CSRF)")),
            Csrf::DuplicateToken => Err(Rejection::DUPLICATE_ANTI_CSRF),
            Csrf::Token(sent) => {
                let ok = match (sent, &claims.anti_csrf_token) {
                    (Some(sent), Some(expected)) => {
                        bool::from(sent.as_bytes().ct_eq(expected.as_bytes()))
                    }
                    _ => false,
                };
                if ok {
                    Ok(())
                } else {
                    Err(Rejection::TryRefresh("anti-csrf token missing or wrong"))
                }
            }
        }
    }
}

/// Maps a verification failure (spec 7.4): expired is "try refresh token", anything
/// invalid is "unauthorised" without clearing (spec 2.1), an unreachable key source is 503.
pub(crate) fn verify_rejection(error: &VerifyError) -> Rejection {
    match error {
        VerifyError::Expired => Rejection::TryRefresh("access token expired"),
        VerifyError::KeysUnavailable(_) => Rejection::Unavailable("verification keys unavailable"),
        VerifyError::Invalid(reason) => {
            tracing::debug!(%reason, "invalid access token");
            Rejection::Unauthorised {
                why: "invalid access token",
                clear: false,
            }
        }
    }
}

/// Verifies the request's access token: duplicate cookies and headers, signature and
/// expiry, anti-CSRF, and promotion through the store when the token carries a parent hash.
pub(crate) fn check_request(
    config: &SessionConfig,
    method: &Method,
    headers: &HeaderMap,
    tokens: Option<&SessionTokens>,
) -> Checked {
    let Some(tokens) = tokens else {
        return Checked::Done(Err(Rejection::LayerMissing));
    };
    if tokens.has_legacy_id_refresh_cookie() {
        // supertokens-node 24: a session of an old SDK (before CDI 2.18) carries
        // `sIdRefreshToken`; try-refresh (also for optional sessions) makes the SDK call
        // the refresh route, which clears that cookie.
        return Checked::Done(Err(Rejection::TryRefresh("legacy sIdRefreshToken cookie")));
    }
    if tokens.has_duplicate_authorization() {
        return Checked::Done(Err(Rejection::DUPLICATE_AUTHORIZATION));
    }
    let Some(mut access) = tokens.access_token() else {
        return Checked::NoToken;
    };
    if let Some(cookie) = tokens.shadowed_access_cookie() {
        // supertokens-node ignores a bearer without its access token's structure
        // (`Bearer undefined`, another service's token) and uses the cookie.
        if !has_access_token_structure(access.as_str()) {
            tracing::debug!(
                "ignoring a bearer that is not an access token; using the access cookie"
            );
            access = cookie;
        }
    }
    let transfer = access.method;
    if transfer == TransferMethod::Cookie && tokens.has_duplicate_access_cookie() {
        // spec 2.2: several sAccessToken cookies => try refresh (the refresh route clears
        // the older-domain ones).
        return Checked::Done(Err(Rejection::TryRefresh("duplicate access-token cookies")));
    }
    let csrf = Csrf::capture(config.anti_csrf(), method, transfer, headers);
    match config.verifier().verify_sync(access.as_str()) {
        Ok(claims) => after_verify(config, tokens, transfer, &csrf, claims),
        Err(VerifyError::Invalid(InvalidReason::UnknownKid)) => {
            // The key source may know more keys (remote JWKS refetch).
            let config = config.clone();
            let tokens = tokens.clone();
            let token = access.as_str().to_owned();
            Checked::Pending(Box::pin(async move {
                let claims = config
                    .verifier()
                    .verify(&token)
                    .await
                    .map_err(|e| verify_rejection(&e))?;
                match after_verify(&config, &tokens, transfer, &csrf, claims) {
                    Checked::Done(result) => result,
                    Checked::Pending(future) => future.await,
                    Checked::NoToken => Err(Rejection::Unauthorised {
                        why: "no access token",
                        clear: false,
                    }),
                }
            }))
        }
        // supertokens-node ignores a token without its access token's structure (another
        // service's cookie, `Bearer undefined`): as no token, so an optional route runs without
        // a session; a required one answers the same 401. Checked only on this failure path.
        Err(VerifyError::Invalid(_)) if !has_access_token_structure(access.as_str()) => {
            tracing::debug!("ignoring an access token that does not have its structure");
            Checked::NoToken
        }
        Err(error) => Checked::Done(Err(verify_rejection(&error))),
    }
}

fn after_verify(
    config: &SessionConfig,
    tokens: &SessionTokens,
    transfer: TransferMethod,
    csrf: &Csrf,
    claims: VerifiedToken,
) -> Checked {
    if let Err(rejection) = csrf.check(&claims) {
        return Checked::Done(Err(rejection));
    }
    let promotion = match (
        &claims.parent_refresh_token_hash1,
        config.store(),
        config.keys(),
    ) {
        (Some(parent), Some(store), Some(keys)) => {
            Some((parent.clone(), store.clone(), keys.clone()))
        }
        // Verify-only server: accept the token; the next refresh promotes it (spec 8.3 step 3).
        _ => None,
    };
    let Some((parent, store, keys)) = promotion else {
        return Checked::Done(Ok(
            Session::new(claims, transfer, tokens.clone()).with_store(config.store().cloned())
        ));
    };
    let tokens = tokens.clone();
    let issuer = config.issuer().map(str::to_owned);
    Checked::Pending(Box::pin(async move {
        let outcome = match store
            .promote(&claims.session_handle, &parent, &claims.refresh_token_hash1)
            .await
        {
            Ok(outcome) => outcome,
            Err(error) => {
                // The token is signed and unexpired: serve it as a verify-only server would,
                // and let the next refresh promote. A store outage (a failover) must not
                // turn a good API call into a 503.
                tracing::warn!(%error, session_handle = %claims.session_handle, "promotion deferred: store error; the token is served as is");
                return Ok(Session::new(claims, transfer, tokens).with_store(Some(store.clone())));
            }
        };
        match outcome {
            PromoteOutcome::Promoted | PromoteOutcome::AlreadyPromoted => {
                // spec 8.3 step 3: a new access token with parent null, in this response.
                let mut promoted = AccessTokenClaims::clone(&claims);
                promoted.parent_refresh_token_hash1 = None;
                promoted.iat = issue::now_secs();
                if promoted.iss.is_none() {
                    promoted.iss = issuer;
                }
                let promoted = Arc::new(promoted);
                let access = keys.sign(&promoted).map_err(|error| {
                    tracing::error!(%error, "could not sign the promoted access token");
                    Rejection::Unavailable("could not issue an access token")
                })?;
                issue::write_access(&tokens, transfer, access, &promoted);
                tracing::debug!(session_handle = %promoted.session_handle, "refresh token promoted");
                Ok(Session::new(promoted, transfer, tokens).with_store(Some(store.clone())))
            }
            PromoteOutcome::Deferred => {
                // Refreshes raced; the next refresh picks the head. The token is good.
                tracing::debug!(session_handle = %claims.session_handle, "promotion deferred: the head has several children");
                Ok(Session::new(claims, transfer, tokens).with_store(Some(store.clone())))
            }
            PromoteOutcome::Stale => Err(Rejection::TryRefresh(
                "access token of a rotated-away refresh token",
            )),
            PromoteOutcome::Unauthorised => Err(Rejection::Unauthorised {
                why: "session no longer exists",
                clear: true,
            }),
        }
    }))
}

/// SuperTokens' `checkDatabase`: after the token checks, one store lookup of the session
/// (one Redis round trip); a revoked, signed-out or expired session is refused at once with
/// 401 `unauthorised` and its tokens cleared, as supertokens-node does ("session does not
/// exist anymore"); a store error is 503, nothing cleared.
pub(crate) fn database_check(store: &Arc<dyn SessionStore>, checked: Checked) -> Checked {
    match checked {
        Checked::Done(Ok(session)) => {
            // An in-process store answers at once: no future, no box.
            if let Some(live) = store.is_live_now(session.handle(), session.user_id()) {
                return Checked::Done(database_verdict(store, session, live));
            }
            let store = store.clone();
            Checked::Pending(Box::pin(async move { lookup(&store, session).await }))
        }
        Checked::Pending(check) => {
            let store = store.clone();
            Checked::Pending(Box::pin(async move { lookup(&store, check.await?).await }))
        }
        other => other,
    }
}

async fn lookup(store: &Arc<dyn SessionStore>, session: Session) -> Result<Session, Rejection> {
    let live = match store.is_live_now(session.handle(), session.user_id()) {
        Some(live) => live,
        None => store
            .get(session.handle())
            .await
            .map(|info| info.is_some_and(|info| info.user_id == session.user_id())),
    };
    database_verdict(store, session, live)
}

/// The session if the store has it live for the same user; 401 `unauthorised` (cleared)
/// if not; 503 (nothing cleared) on a store error.
fn database_verdict(
    store: &Arc<dyn SessionStore>,
    session: Session,
    live: Result<bool, StoreError>,
) -> Result<Session, Rejection> {
    match live {
        Ok(true) => Ok(if session.store.is_none() {
            session.with_store(Some(store.clone()))
        } else {
            session
        }),
        Ok(false) => {
            tracing::debug!(session_handle = %session.handle(), "database check: session no longer exists");
            Err(Rejection::Unauthorised {
                why: "session no longer exists",
                clear: true,
            })
        }
        Err(error) => {
            tracing::warn!(%error, session_handle = %session.handle(), "database check failed: store error");
            Err(Rejection::Unavailable("session store unavailable"))
        }
    }
}

/// Whether `token` has the structure of an access token (supertokens-node's
/// `validateAccessTokenStructure`, signature not checked): three base64url parts, a JSON
/// header, and a JSON payload with string `sub`, `sessionHandle` and `refreshTokenHash1`
/// and numeric `exp` and `iat`. Only asked when a bearer and an access cookie both came.
pub(crate) fn has_access_token_structure(token: &str) -> bool {
    use base64::Engine;
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let decode = |part: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .ok()
            .and_then(|raw| serde_json::from_slice::<Map<String, Value>>(&raw).ok())
    };
    let (Some(_), Some(claims)) = (decode(header), decode(payload)) else {
        return false;
    };
    ["sub", "sessionHandle", "refreshTokenHash1"]
        .iter()
        .all(|name| claims.get(*name).is_some_and(Value::is_string))
        && ["exp", "iat"]
            .iter()
            .all(|name| claims.get(*name).is_some_and(Value::is_number))
}
