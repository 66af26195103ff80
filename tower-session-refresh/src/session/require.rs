//! [`RequireSessionLayer`]: verifies the access token of every request before the inner
//! service sees it.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::{CACHE_CONTROL, VARY};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;
use tower_session_cookie::SessionTokens;

use super::body::SessionBody;
use super::config::{SessionConfig, SessionConfigError};
use super::error::{is_grpc, ClaimValidationError, HandlerRejection, Rejection, SessionError};
use super::store::SessionStore;
use super::verify::{check_request, database_check, no_token, BoxFuture, Checked, Session};
use crate::claims::{self, SessionClaimValidator};

/// Put in the request by [`RequireSession`] when it let a request without a token through
/// (the `optional` variant), so that a `Session` extractor can tell "no session" (401)
/// from "no layer on this route" (500).
#[derive(Clone, Copy, Debug)]
pub(crate) struct SessionChecked;

/// Checks claims of a verified session (roles, email verification, …); a failure is a 403
/// with `claimValidationErrors` (spec 7.4), which the SDK reports as `API_INVALID_CLAIM`.
///
/// Any `Fn(&Session) -> Result<(), Vec<ClaimValidationError>>` is a validator.
///
/// ```
/// use tower_session_refresh::session::{ClaimValidationError, ClaimValidator, Session};
///
/// fn admins_only(session: &Session) -> Result<(), Vec<ClaimValidationError>> {
///     match session.payload().get("role").and_then(|v| v.as_str()) {
///         Some("admin") => Ok(()),
///         _ => Err(vec![ClaimValidationError::new(
///             "st-role",
///             serde_json::json!({"message": "wrong value", "expectedToInclude": "admin"}),
///         )]),
///     }
/// }
/// fn takes(_: impl ClaimValidator) {}
/// takes(admins_only);
/// ```
pub trait ClaimValidator: Send + Sync + 'static {
    /// `Ok` when the session's claims are acceptable, else the failed claims.
    fn validate(&self, session: &Session) -> Result<(), Vec<ClaimValidationError>>;
}

impl<F> ClaimValidator for F
where
    F: Fn(&Session) -> Result<(), Vec<ClaimValidationError>> + Send + Sync + 'static,
{
    fn validate(&self, session: &Session) -> Result<(), Vec<ClaimValidationError>> {
        self(session)
    }
}

#[derive(Clone)]
struct Shared {
    config: SessionConfig,
    required: bool,
    validators: Vec<Arc<dyn ClaimValidator>>,
    /// The route's claim validators, when it overrides the configuration's globals.
    claim_validators: Option<Vec<SessionClaimValidator>>,
    private: PrivateHeaders,
    // `check_database`: the store every verified session is looked up in.
    check_database: Option<Arc<dyn SessionStore>>,
}

/// What marks a protected response as per-user.
#[derive(Clone, Debug)]
struct PrivateHeaders {
    /// Set when the handler set no `Cache-Control`, on responses with a verified session.
    cache_control: Option<HeaderValue>,
    /// Add `Cookie` and `Authorization` to `Vary`, on every response of the inner service.
    vary: bool,
}

impl Default for PrivateHeaders {
    fn default() -> Self {
        Self {
            cache_control: Some(HeaderValue::from_static("no-store")),
            vary: true,
        }
    }
}

impl PrivateHeaders {
    fn apply(&self, headers: &mut HeaderMap, with_session: bool) {
        if let (true, Some(value)) = (with_session, &self.cache_control) {
            if !headers.contains_key(CACHE_CONTROL) {
                headers.insert(CACHE_CONTROL, value.clone());
            }
        }
        if self.vary {
            add_vary(headers);
        }
    }
}

/// Adds `Cookie` and `Authorization` to `Vary`, unless present (or `Vary: *`).
fn add_vary(headers: &mut HeaderMap) {
    let mut cookie = false;
    let mut authorization = false;
    for value in headers.get_all(VARY) {
        for name in value.as_bytes().split(|&b| b == b',') {
            let name = name.trim_ascii();
            if name == b"*" {
                return;
            }
            cookie |= name.eq_ignore_ascii_case(b"cookie");
            authorization |= name.eq_ignore_ascii_case(b"authorization");
        }
    }
    let missing = match (cookie, authorization) {
        (true, true) => return,
        (false, false) => "Cookie, Authorization",
        (false, true) => "Cookie",
        (true, false) => "Authorization",
    };
    headers.append(VARY, HeaderValue::from_static(missing));
}

/// Layer that verifies the request's access token (from the
/// [`SessionTokens`] handle the `SessionCookieLayer` put in the request extensions, so that
/// layer must run **outside** this one) and puts the verified [`Session`] in the request
/// extensions.
///
/// Failures never reach the inner service (spec 7.4):
///
/// | situation | HTTP | gRPC (`content-type: application/grpc*`) |
/// |---|---|---|
/// | expired token, several `sAccessToken` cookies, anti-CSRF failure | 401 `{"message":"try refresh token"}` | `grpc-status: 16` |
/// | the legacy `sIdRefreshToken` cookie (a session of an SDK before CDI 2.18; also on optional routes, as supertokens-node 24; the refresh route then expires it) | 401 `try refresh token`, nothing cleared | 16 |
/// | no token (required), invalid token (bad signature, unknown kid, `alg` mismatch, malformed, oversize) | 401 `{"message":"unauthorised"}`, nothing cleared | 16 |
/// | no token because the `Cookie` headers are over `max_cookie_header_bytes` (a "cookie bomb"; logged at warn) | 431 `{"message":"Cookie header too large: session cookies not read"}`, nothing cleared | 8 |
/// | two `Authorization` headers; in `ViaToken` mode two `anti-csrf` headers on a checked request | 400 `{"message":"more than one Authorization header"}` / `"more than one anti-csrf header"`, nothing cleared | 3 |
/// | promotion: session gone | 401 `unauthorised`, tokens cleared | 16 |
/// | [`check_database`](Self::check_database) on, and the session is revoked, signed out or expired in the store | 401 `unauthorised`, tokens cleared | 16 |
/// | promotion: the token belongs to a rotated-away refresh token (a late request, or a sibling of the promoted child) | 401 `try refresh token`, nothing cleared (the refresh then carries on, or detects theft) | 16 |
/// | a [`ClaimValidator`] failed | 403 `{"message":"invalid claim","claimValidationErrors":[…]}` | 7 |
/// | store / remote JWKS unreachable ([`check_database`](Self::check_database), a claim refetch, an unknown kid) | 503 `{"message":…}`, nothing cleared | 14 |
///
/// A token that needs promotion while the store is unreachable is served as it is (as a
/// verify-only server serves it; logged at warn), and the next refresh promotes: a store
/// failover does not fail API calls made with good tokens.
///
/// The 401s are the configuration's
/// [`session_expired_status`](super::SessionConfigBuilder::session_expired_status) and the
/// 403 its [`invalid_claim_status`](super::SessionConfigBuilder::invalid_claim_status)
/// when set (SuperTokens' `sessionExpiredStatusCode` / `invalidClaimStatusCode`).
///
/// An `Authorization: Bearer` value without the structure of an access token (`Bearer
/// undefined`, another service's token) is ignored when an access cookie came too, and the
/// cookie is checked, as supertokens-node does; a bearer with that structure wins over the
/// cookie.
///
/// `OPTIONS` and `TRACE` requests pass without a check (CORS preflights), as in
/// supertokens-node.
///
/// **Per-user responses.** A response of the inner service to a request with a verified
/// session gets `Cache-Control: no-store` unless the handler set a `Cache-Control` of its
/// own ([`cache_control`](Self::cache_control)), and every response of the inner service
/// gets `Cookie` and `Authorization` added to its `Vary` (merged with the handler's;
/// [`vary_on_credentials`](Self::vary_on_credentials)), so that no shared cache serves one
/// user's answer to another. Rejections are left alone.
///
/// **Promotion** (spec 8.3): a token issued by a refresh carries `parentRefreshTokenHash1`.
/// With a store configured, the first request using it promotes the new refresh token in
/// the store and gets a new access token (parent `null`) and `front-token` in **its own
/// response**. When refreshes raced (the head has several children), the request passes
/// with its token as is and the next refresh decides which child becomes the head, so a
/// call made with the answer that did not land in the shared cookie jar signs nobody out. Without a store (a verify-only API server) the token is accepted as is and
/// promotion happens on the next refresh.
///
#[cfg_attr(feature = "axum", doc = "```")]
#[cfg_attr(not(feature = "axum"), doc = "```ignore")]
/// use axum::{routing::get, Router};
/// use tower_session_cookie::{SessionCookieConfig, SessionCookieLayer};
/// use tower_session_refresh::keys::{KeySet, SigningKey};
/// use tower_session_refresh::session::{RequireSessionLayer, Session, SessionConfig};
///
/// async fn me(session: Session) -> String {
///     session.user_id().to_owned()
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let cookies = SessionCookieConfig::builder()
///     .api_domain("https://api2.example.com")
///     .website_domain("https://www.example.com")
///     .build()?;
/// let keys = KeySet::new(SigningKey::generate_ed25519("k1")?);
/// let config = SessionConfig::builder(cookies.clone()).keys(keys).build()?;
/// let app: Router = Router::new()
///     .route("/me", get(me))
///     .layer(RequireSessionLayer::new(config))
///     .layer(SessionCookieLayer::new(cookies)); // outermost
/// # drop(app);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RequireSessionLayer {
    shared: Arc<Shared>,
}

impl fmt::Debug for RequireSessionLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequireSessionLayer")
            .field("required", &self.shared.required)
            .field("validators", &self.shared.validators.len())
            .field("check_database", &self.shared.check_database.is_some())
            .finish_non_exhaustive()
    }
}

impl RequireSessionLayer {
    /// Every request must carry a valid session.
    pub fn new(config: SessionConfig) -> Self {
        Self::with(config, true)
    }

    /// A request without any access token passes without a [`Session`] (handlers take
    /// `Option<Session>`); a request **with** a token is checked exactly as by
    /// [`new`](Self::new), so an expired token still gets "try refresh token".
    pub fn optional(config: SessionConfig) -> Self {
        Self::with(config, false)
    }

    fn with(config: SessionConfig, required: bool) -> Self {
        Self {
            shared: Arc::new(Shared {
                config,
                required,
                validators: Vec::new(),
                claim_validators: None,
                private: PrivateHeaders::default(),
                check_database: None,
            }),
        }
    }

    /// Adds a claim validator, run after verification; all failures are reported together.
    pub fn claim_validator(mut self, validator: impl ClaimValidator) -> Self {
        Arc::make_mut(&mut self.shared)
            .validators
            .push(Arc::new(validator));
        self
    }

    /// Replaces the configuration's global claim validators on this route (node's
    /// `overrideGlobalClaimValidators`): `f` gets the globals and returns the validators
    /// to run (an empty list runs none).
    ///
    /// ```
    /// # use tower_session_cookie::SessionCookieConfig;
    /// # use tower_session_refresh::keys::{KeySet, SigningKey};
    /// # use tower_session_refresh::session::{RequireSessionLayer, SessionConfig};
    /// use tower_session_refresh::claims::BooleanClaim;
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let cookies = SessionCookieConfig::builder()
    /// #     .api_domain("https://api2.example.com")
    /// #     .website_domain("https://www.example.com")
    /// #     .build()?;
    /// let verified = BooleanClaim::new("st-ev", |_| async { Ok(Some(false)) });
    /// let config = SessionConfig::builder(cookies)
    ///     .keys(KeySet::new(SigningKey::generate_ed25519("k1")?))
    ///     .global_claim_validator(verified.is_true())
    ///     .build()?;
    /// // This route lets unverified users in.
    /// let layer = RequireSessionLayer::new(config).override_global_claim_validators(|globals| {
    ///     globals.iter().filter(|v| v.id() != "st-ev").cloned().collect()
    /// });
    /// # drop(layer);
    /// # Ok(())
    /// # }
    /// ```
    pub fn override_global_claim_validators(
        mut self,
        f: impl FnOnce(&[SessionClaimValidator]) -> Vec<SessionClaimValidator>,
    ) -> Self {
        let shared = Arc::make_mut(&mut self.shared);
        let validators = f(shared.config.global_claim_validators());
        shared.claim_validators = Some(validators);
        self
    }

    /// The `Cache-Control` of responses to requests with a verified session, when the
    /// handler set none (default `no-store`; `Some("private")` lets the browser cache them).
    /// `None` leaves `Cache-Control` to the handler.
    ///
    /// ```
    /// # use tower_session_cookie::SessionCookieConfig;
    /// # use tower_session_refresh::keys::{KeySet, SigningKey};
    /// # use tower_session_refresh::session::{RequireSessionLayer, SessionConfig};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let cookies = SessionCookieConfig::builder()
    /// #     .api_domain("https://api2.example.com")
    /// #     .website_domain("https://www.example.com")
    /// #     .build()?;
    /// # let config = SessionConfig::builder(cookies)
    /// #     .keys(KeySet::new(SigningKey::generate_ed25519("k1")?))
    /// #     .build()?;
    /// let layer = RequireSessionLayer::new(config)
    ///     .cache_control(Some(http::HeaderValue::from_static("private, max-age=60")));
    /// # drop(layer);
    /// # Ok(())
    /// # }
    /// ```
    pub fn cache_control(mut self, value: Option<HeaderValue>) -> Self {
        Arc::make_mut(&mut self.shared).private.cache_control = value;
        self
    }

    /// SuperTokens' `verifySession({ checkDatabase: true })`: after the token checks, the
    /// session is looked up in the configuration's store (one lookup, one Redis round
    /// trip), so a revoked or signed-out session is refused at once with 401
    /// `{"message":"unauthorised"}` (tokens cleared) instead of when its access token
    /// expires. A store error is 503, nothing cleared. Default `false`: tokens are
    /// verified without the store, and a revoked session's access token stays valid until
    /// it expires.
    ///
    /// Needs a store: on a configuration without one (a verify-only server),
    /// `check_database(true)` is refused with
    /// [`SessionConfigError::CheckDatabaseWithoutStore`].
    ///
    /// ```
    /// # use tower_session_cookie::SessionCookieConfig;
    /// # use tower_session_refresh::keys::{KeySet, SigningKey};
    /// # use tower_session_refresh::session::{RequireSessionLayer, SessionConfig, SessionConfigError};
    /// # use tower_session_refresh::store::MemoryStore;
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let cookies = SessionCookieConfig::builder()
    /// #     .api_domain("https://api.example.com")
    /// #     .website_domain("https://www.example.com")
    /// #     .build()?;
    /// let keys = KeySet::new(SigningKey::generate_ed25519("k1")?);
    /// let config = SessionConfig::builder(cookies.clone())
    ///     .keys(keys.clone())
    ///     .store(MemoryStore::new())
    ///     .build()?;
    /// let layer = RequireSessionLayer::new(config).check_database(true)?;
    /// # drop(layer);
    /// // Without a store, refused:
    /// let verify_only = SessionConfig::builder(cookies).keys(keys).build()?;
    /// assert_eq!(
    ///     RequireSessionLayer::new(verify_only).check_database(true).unwrap_err(),
    ///     SessionConfigError::CheckDatabaseWithoutStore,
    /// );
    /// # Ok(())
    /// # }
    /// ```
    pub fn check_database(mut self, yes: bool) -> Result<Self, SessionConfigError> {
        let store = if yes {
            Some(
                self.shared
                    .config
                    .store()
                    .cloned()
                    .ok_or(SessionConfigError::CheckDatabaseWithoutStore)?,
            )
        } else {
            None
        };
        Arc::make_mut(&mut self.shared).check_database = store;
        Ok(self)
    }

    /// Whether `Cookie` and `Authorization` are added to the `Vary` of the inner service's
    /// responses (default `true`).
    pub fn vary_on_credentials(mut self, yes: bool) -> Self {
        Arc::make_mut(&mut self.shared).private.vary = yes;
        self
    }
}

impl<S> Layer<S> for RequireSessionLayer {
    type Service = RequireSession<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireSession {
            inner,
            shared: self.shared.clone(),
        }
    }
}

/// The service made by [`RequireSessionLayer`].
#[derive(Clone)]
pub struct RequireSession<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S: fmt::Debug> fmt::Debug for RequireSession<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequireSession")
            .field("inner", &self.inner)
            .field("required", &self.shared.required)
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// The claim validators of this route: its override, else the configuration's globals.
    fn claim_validators(&self) -> &[SessionClaimValidator] {
        match &self.claim_validators {
            Some(validators) => validators,
            None => self.config.global_claim_validators(),
        }
    }

    /// node's `validateClaims` with refetching: refetched values go into a new access
    /// token in this response (when this server can issue one), then every validator runs.
    async fn refetch_and_validate(
        &self,
        mut session: Session,
        headers: &HeaderMap,
    ) -> Result<Session, Rejection> {
        let validators = self.claim_validators();
        let validated = claims::refetch_and_validate(
            validators,
            session.user_id(),
            &session.claims().t_id,
            session.payload(),
            Some(headers),
        )
        .await
        .map_err(|error| {
            tracing::warn!(%error, "claim refetch failed");
            Rejection::Unavailable("claim value unavailable")
        })?;
        if let Some(mut update) = validated.update {
            update.retain(|k, _| !crate::token::PROTECTED_CLAIMS.contains(&k.as_str()));
            if self.config.issuing("claim refetch").is_ok() {
                super::payload::reissue(&self.config, &mut session, update)
                    .await
                    .map_err(|error| match error {
                        SessionError::UnknownSession => Rejection::Unauthorised {
                            why: "session no longer exists",
                            clear: true,
                        },
                        error => {
                            tracing::warn!(%error, "could not issue the refetched claims");
                            Rejection::Unavailable("could not issue an access token")
                        }
                    })?;
            } else {
                // Verify-only: validate what was fetched; the token is left as it is.
                let mut claims = crate::token::AccessTokenClaims::clone(session.claims());
                claims.payload = update;
                session.set_claims(Arc::new(claims));
            }
        }
        let mut errors = validated.errors;
        if let Err(Rejection::InvalidClaims(mut more)) = self.validate(&session) {
            errors.append(&mut more);
        }
        if errors.is_empty() {
            Ok(session)
        } else {
            Err(Rejection::InvalidClaims(errors))
        }
    }

    /// The synchronous check: the claim validators (unless one wants a refetch: `None`)
    /// and the configured [`ClaimValidator`]s.
    fn quick_check(&self, session: &Session) -> Option<Result<(), Rejection>> {
        let validators = self.claim_validators();
        let mut errors = if validators.is_empty() {
            Vec::new()
        } else {
            claims::quick_check(validators, session.payload())?
        };
        if !self.validators.is_empty() {
            if let Err(Rejection::InvalidClaims(mut more)) = self.validate(session) {
                errors.append(&mut more);
            }
        }
        Some(if errors.is_empty() {
            Ok(())
        } else {
            Err(Rejection::InvalidClaims(errors))
        })
    }

    fn validate(&self, session: &Session) -> Result<(), Rejection> {
        let mut errors = Vec::new();
        for validator in &self.validators {
            if let Err(mut failed) = validator.validate(session) {
                errors.append(&mut failed);
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Rejection::InvalidClaims(errors))
        }
    }
}

fn reject<B, ReqBody>(
    config: &SessionConfig,
    request: &Request<ReqBody>,
    rejection: Rejection,
) -> Response<SessionBody<B>> {
    let grpc = is_grpc(request.headers());
    rejection
        .into_configured_response(config, request.extensions().get::<SessionTokens>(), grpc)
        .map(SessionBody::text)
}

/// The handler's response, answered as this layer's own rejection when it was made from a
/// `SessionError` or `NoSession` (see [`HandlerRejection`]): the configured status, or a
/// hook's custom response.
fn handler_answer<B>(
    config: &SessionConfig,
    mut response: Response<B>,
) -> Response<SessionBody<B>> {
    let Some(marker) = response.extensions_mut().remove::<HandlerRejection>() else {
        return response.map(SessionBody::new);
    };
    let rejection = marker.into_rejection();
    if let Some(custom) = config.inner.hooks.custom_response(&rejection) {
        return custom.map(SessionBody::text);
    }
    *response.status_mut() = match rejection {
        Rejection::InvalidClaims(_) => config.invalid_claim_status(),
        _ => config.session_expired_status(),
    };
    response.map(SessionBody::new)
}

impl<S> RequireSession<S> {
    /// The configuration, when handler answers need [`handler_answer`] (default statuses
    /// and no hooks: none, and nothing is cloned per request).
    fn handler_config(&self) -> Option<SessionConfig> {
        let config = &self.shared.config;
        config
            .configures_handler_rejections()
            .then(|| config.clone())
    }

    /// The headers to mark the inner service's response with, if any.
    fn private(&self, with_session: bool) -> Option<(PrivateHeaders, bool)> {
        let private = &self.shared.private;
        (private.vary || (with_session && private.cache_control.is_some()))
            .then(|| (private.clone(), with_session))
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for RequireSession<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: Send + 'static,
{
    type Response = Response<SessionBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        if request.method() == Method::OPTIONS || request.method() == Method::TRACE {
            request.extensions_mut().insert(SessionChecked);
            return ResponseFuture::inner(self.inner.call(request), None, None);
        }
        let checked = check_request(
            &self.shared.config,
            request.method(),
            request.headers(),
            request.extensions().get::<SessionTokens>(),
        );
        let checked = match &self.shared.check_database {
            Some(store) => database_check(store, checked),
            None => checked,
        };
        match checked {
            Checked::NoToken if self.shared.required => {
                let rejection = no_token(
                    request.extensions().get::<SessionTokens>(),
                    "no access token",
                );
                ResponseFuture::rejected(reject(&self.shared.config, &request, rejection))
            }
            Checked::NoToken => {
                // Tells the `Session` extractor the layer ran (401, not "layer missing").
                request.extensions_mut().insert(SessionChecked);
                let handler = self.handler_config();
                ResponseFuture::inner(self.inner.call(request), self.private(false), handler)
            }
            Checked::Done(Ok(session)) => match self.shared.quick_check(&session) {
                Some(Ok(())) => {
                    let session = session.with_config(&self.shared.config);
                    request.extensions_mut().insert(session);
                    let handler = self.handler_config();
                    ResponseFuture::inner(self.inner.call(request), self.private(true), handler)
                }
                Some(Err(rejection)) => {
                    ResponseFuture::rejected(reject(&self.shared.config, &request, rejection))
                }
                None => {
                    // A claim validator wants a refetch: async, like a store lookup.
                    let session = session.with_config(&self.shared.config);
                    let clone = self.inner.clone();
                    let mut inner = std::mem::replace(&mut self.inner, clone);
                    let shared = self.shared.clone();
                    ResponseFuture::checking(Box::pin(async move {
                        match shared
                            .refetch_and_validate(session, request.headers())
                            .await
                        {
                            Ok(session) => {
                                request.extensions_mut().insert(session);
                                inner.call(request).await.map(|mut response| {
                                    shared.private.apply(response.headers_mut(), true);
                                    handler_answer(&shared.config, response)
                                })
                            }
                            Err(rejection) => Ok(reject(&shared.config, &request, rejection)),
                        }
                    }))
                }
            },
            Checked::Done(Err(rejection)) => {
                ResponseFuture::rejected(reject(&self.shared.config, &request, rejection))
            }
            Checked::Pending(check) => {
                // The ready service goes into the future; a clone stays for the next call.
                let clone = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, clone);
                let shared = self.shared.clone();
                ResponseFuture::checking(Box::pin(async move {
                    let result = match check.await {
                        Ok(session) => {
                            let session = session.with_config(&shared.config);
                            match shared.quick_check(&session) {
                                Some(result) => result.map(|()| session),
                                None => {
                                    shared
                                        .refetch_and_validate(session, request.headers())
                                        .await
                                }
                            }
                        }
                        Err(rejection) => Err(rejection),
                    };
                    match result {
                        Ok(session) => {
                            request.extensions_mut().insert(session);
                            inner.call(request).await.map(|mut response| {
                                shared.private.apply(response.headers_mut(), true);
                                handler_answer(&shared.config, response)
                            })
                        }
                        Err(rejection) => Ok(reject(&shared.config, &request, rejection)),
                    }
                }))
            }
        }
    }
}

pin_project! {
    /// Response future of [`RequireSession`]: the inner service's future, a ready rejection,
    /// or (when the store or a key fetch is involved) a boxed check followed by the inner call.
    pub struct ResponseFuture<F, B, E> {
        #[pin]
        kind: Kind<F, B, E>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F, B, E> {
        Inner {
            #[pin] future: F,
            private: Option<(PrivateHeaders, bool)>,
            // Set when handler answers are re-answered (see `handler_answer`).
            handler: Option<SessionConfig>,
        },
        Checking { future: BoxFuture<Result<Response<SessionBody<B>>, E>> },
        Rejected { response: Option<Response<SessionBody<B>>> },
    }
}

impl<F, B, E> ResponseFuture<F, B, E> {
    fn inner(
        future: F,
        private: Option<(PrivateHeaders, bool)>,
        handler: Option<SessionConfig>,
    ) -> Self {
        Self {
            kind: Kind::Inner {
                future,
                private,
                handler,
            },
        }
    }

    fn checking(future: BoxFuture<Result<Response<SessionBody<B>>, E>>) -> Self {
        Self {
            kind: Kind::Checking { future },
        }
    }

    fn rejected(response: Response<SessionBody<B>>) -> Self {
        Self {
            kind: Kind::Rejected {
                response: Some(response),
            },
        }
    }
}

impl<F, B, E> fmt::Debug for ResponseFuture<F, B, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.kind {
            Kind::Inner { .. } => "Inner",
            Kind::Checking { .. } => "Checking",
            Kind::Rejected { .. } => "Rejected",
        };
        f.debug_struct("ResponseFuture")
            .field("kind", &kind)
            .finish()
    }
}

impl<F, B, E> Future for ResponseFuture<F, B, E>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<SessionBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Inner {
                future,
                private,
                handler,
            } => future.poll(cx).map(|result| {
                result.map(|mut response| {
                    if let Some((private, with_session)) = private.take() {
                        private.apply(response.headers_mut(), with_session);
                    }
                    match handler.take() {
                        Some(config) => handler_answer(&config, response),
                        None => response.map(SessionBody::new),
                    }
                })
            }),
            KindProj::Checking { future } => future.as_mut().poll(cx),
            KindProj::Rejected { response } => {
                // Polled again after completion: answer 500 rather than panic.
                let response = response.take().unwrap_or_else(|| {
                    let mut response = Response::new(SessionBody::empty());
                    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                    response
                });
                Poll::Ready(Ok(response))
            }
        }
    }
}
