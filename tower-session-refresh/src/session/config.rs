//! [`SessionConfig`]: the one value the session layer, the refresh and sign-out services and
//! the [`SessionManager`](super::SessionManager) share, validated once.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tower_session_cookie::{SameSite, SessionCookieConfig};

use super::hooks::{Hooks, RefreshInfo};
use super::store::SessionStore;
use crate::claims::{SessionClaim, SessionClaimValidator};
use crate::keys::KeySet;
use crate::token::AccessTokenVerifier;

/// Default access-token lifetime: 3600 s (SuperTokens core default, spec 8.2).
pub const DEFAULT_ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);
/// Default refresh-token lifetime: 100 days (SuperTokens core default, spec 8.2).
pub const DEFAULT_REFRESH_TOKEN_LIFETIME: Duration = Duration::from_secs(100 * 24 * 3600);
/// Longest access-token lifetime SuperTokens allows (86 400 000 s).
pub const MAX_ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(86_400_000);

/// Anti-CSRF protection for requests whose token came from a cookie (spec 7.1, 7.2).
///
/// Header-mode requests (`Authorization: Bearer`) are never checked: a browser does not
/// attach them on its own.
///
/// ```
/// use tower_session_refresh::session::AntiCsrf;
/// assert_ne!(AntiCsrf::ViaCustomHeader, AntiCsrf::ViaToken);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AntiCsrf {
    /// No check (the default when cookies are `SameSite=Lax` or `Strict`).
    None,
    /// Unsafe cookie requests must carry a `rid` header (any value): a cross-site form
    /// cannot add headers, and a cross-site `fetch` with one needs a CORS preflight.
    /// The default when cookies are `SameSite=None`.
    ViaCustomHeader,
    /// Unsafe cookie requests must echo the `anti-csrf` token the server sent at
    /// sign-in/refresh (it is also the access token's `antiCsrfToken` claim).
    ViaToken,
}

/// A mistake in the session configuration, found by [`SessionConfigBuilder::build`] (or by
/// a service constructor that needs a part the configuration does not have).
///
/// ```
/// use std::time::Duration;
/// use tower_session_cookie::SessionCookieConfig;
/// use tower_session_refresh::keys::{KeySet, SigningKey};
/// use tower_session_refresh::session::{SessionConfig, SessionConfigError};
///
/// let cookies = SessionCookieConfig::builder()
///     .api_domain("https://api.example.com")
///     .website_domain("https://www.example.com")
///     .build()?;
/// let error = SessionConfig::builder(cookies)
///     .keys(KeySet::new(SigningKey::generate_ed25519("k1")?))
///     .access_token_lifetime(Duration::ZERO)
///     .build()
///     .unwrap_err();
/// assert!(matches!(error, SessionConfigError::AccessTokenLifetime(_)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionConfigError {
    /// Neither [`keys`](SessionConfigBuilder::keys) nor
    /// [`verifier`](SessionConfigBuilder::verifier) was given: tokens cannot be verified.
    #[error("no keys: call keys(KeySet) (auth server) or verifier(AccessTokenVerifier) (verify-only API)")]
    NoKeys,
    /// A store was given, but no key set that can sign: refresh and promotion issue tokens.
    #[error("a session store needs a key set with a signing key (keys(KeySet::new(..))) to issue access tokens")]
    StoreWithoutSigningKey,
    /// The access-token lifetime must be between 1 s and 86 400 000 s.
    #[error("access token lifetime must be between 1 s and 86400000 s, got {0:?}")]
    AccessTokenLifetime(Duration),
    /// The refresh-token lifetime must be longer than the access-token lifetime.
    #[error("refresh token lifetime ({refresh:?}) must be longer than the access token lifetime ({access:?})")]
    RefreshTokenLifetime {
        /// The refresh-token lifetime given.
        refresh: Duration,
        /// The access-token lifetime.
        access: Duration,
    },
    /// `api_domain` is not an `http://` or `https://` origin.
    #[error(
        "api_domain {0:?} must be an http:// or https:// origin such as https://api.example.com"
    )]
    ApiDomain(String),
    /// This service or the manager issues tokens: the configuration needs a signing key
    /// set and a store ([`keys`](SessionConfigBuilder::keys) and
    /// [`store`](SessionConfigBuilder::store)).
    #[error("{0} needs a session store and a signing key set: call keys(..) and store(..)")]
    NotAnAuthServer(&'static str),
    /// `check_database(true)` on a configuration without a session store (a verify-only
    /// server): the check looks every session up in the store.
    #[error("check_database needs a session store: give the configuration a store (store(..)) or drop check_database")]
    CheckDatabaseWithoutStore,
    /// `session_expired_status` or `invalid_claim_status` is not a 4xx status, or both are
    /// the same (the SDK could not tell "refresh" from "claim failed").
    #[error("{option} must be a 4xx status other than the {other} ({other_status}), got {status}")]
    Status {
        /// The option (`session_expired_status`, `invalid_claim_status`).
        option: &'static str,
        /// The status given.
        status: u16,
        /// The other option.
        other: &'static str,
        /// Its status.
        other_status: u16,
    },
    /// `session_expired_status` is a status these layers answer on purpose *without*
    /// signing anyone out: 400 (ambiguous credentials: two refresh cookies, two
    /// `Authorization` headers), 421 (a host outside the shared domain), 431 (a `Cookie`
    /// header over the limit). The SDK refreshes on the session-expired status, and signs
    /// the user out when the refresh gets it.
    #[error("session_expired_status must not be {0}: this status answers refusals that keep the session (400 ambiguous credentials, 421 host outside the shared domain, 431 Cookie header too large)")]
    ReservedStatus(u16),
}

/// The default [`session_expired_status`](SessionConfigBuilder::session_expired_status)
/// (SuperTokens' `sessionExpiredStatusCode`).
pub const DEFAULT_SESSION_EXPIRED_STATUS: u16 = 401;
/// The default [`invalid_claim_status`](SessionConfigBuilder::invalid_claim_status)
/// (SuperTokens' `invalidClaimStatusCode`).
pub const DEFAULT_INVALID_CLAIM_STATUS: u16 = 403;

/// The statuses of refusals that keep the session (see [`SessionConfigError::ReservedStatus`]).
const RESERVED_STATUSES: [u16; 3] = [400, 421, 431];

/// Checks the two configurable statuses: each 4xx, not the same, and the session-expired
/// one none of [`RESERVED_STATUSES`].
pub(crate) fn check_statuses(
    expired: u16,
    claim: u16,
) -> Result<(http::StatusCode, http::StatusCode), SessionConfigError> {
    let error = |option, status, other, other_status| SessionConfigError::Status {
        option,
        status,
        other,
        other_status,
    };
    if !(400..500).contains(&expired) || expired == claim {
        return Err(error(
            "session_expired_status",
            expired,
            "invalid_claim_status",
            claim,
        ));
    }
    if RESERVED_STATUSES.contains(&expired) {
        return Err(SessionConfigError::ReservedStatus(expired));
    }
    if !(400..500).contains(&claim) {
        return Err(error(
            "invalid_claim_status",
            claim,
            "session_expired_status",
            expired,
        ));
    }
    match (
        http::StatusCode::from_u16(expired),
        http::StatusCode::from_u16(claim),
    ) {
        (Ok(expired), Ok(claim)) => Ok((expired, claim)),
        _ => Err(error(
            "session_expired_status",
            expired,
            "invalid_claim_status",
            claim,
        )),
    }
}

/// The session configuration shared by [`RequireSessionLayer`](super::RequireSessionLayer),
/// [`RefreshService`](super::RefreshService), [`SignOutService`](super::SignOutService)
/// and [`SessionManager`](super::SessionManager). Cheap to clone (`Arc` inside).
///
/// An **auth server** has a signing [`KeySet`] and a [`SessionStore`]; a **verify-only API
/// server** has only a verifier (public keys, e.g. a remote JWKS) and no store.
///
/// ```
/// use std::time::Duration;
/// use tower_session_cookie::SessionCookieConfig;
/// use tower_session_refresh::keys::{KeySet, SigningKey};
/// use tower_session_refresh::session::{AntiCsrf, SessionConfig};
/// use tower_session_refresh::store::MemoryStore;
///
/// let cookies = SessionCookieConfig::builder()
///     .api_domain("https://api.example.com")
///     .website_domain("https://www.example.com")
///     .build()?;
/// let config = SessionConfig::builder(cookies)
///     .api_domain("https://api.example.com")
///     .keys(KeySet::new(SigningKey::generate_ed25519("k1")?))
///     .store(MemoryStore::new())
///     .access_token_lifetime(Duration::from_secs(900))
///     .build()?;
/// assert_eq!(config.anti_csrf(), AntiCsrf::None); // same site: SameSite=Lax
/// assert_eq!(config.issuer(), Some("https://api.example.com/auth"));
/// assert_eq!(config.refresh_path(), "/auth/session/refresh");
/// assert_eq!(config.signout_path(), "/auth/signout");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct SessionConfig {
    pub(crate) inner: Arc<ConfigInner>,
}

pub(crate) struct ConfigInner {
    pub(crate) cookies: SessionCookieConfig,
    pub(crate) access_lifetime: Duration,
    pub(crate) refresh_lifetime: Duration,
    pub(crate) anti_csrf: AntiCsrf,
    pub(crate) keys: Option<KeySet>,
    pub(crate) verifier: AccessTokenVerifier,
    pub(crate) store: Option<Arc<dyn SessionStore>>,
    pub(crate) keys_may_be_pending: bool,
    pub(crate) issuer: Option<String>,
    pub(crate) tenant: String,
    pub(crate) signout_path: String,
    pub(crate) max_user_id_bytes: usize,
    /// Claims fetched at session creation.
    pub(crate) claims: Vec<Arc<dyn SessionClaim>>,
    /// Validators every protected route runs unless it overrides them.
    pub(crate) global_validators: Vec<SessionClaimValidator>,
    pub(crate) hooks: Hooks,
    pub(crate) session_expired_status: http::StatusCode,
    pub(crate) invalid_claim_status: http::StatusCode,
}

impl fmt::Debug for SessionConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("SessionConfig")
            .field("cookies", &i.cookies)
            .field("access_lifetime", &i.access_lifetime)
            .field("refresh_lifetime", &i.refresh_lifetime)
            .field("anti_csrf", &i.anti_csrf)
            .field("signing", &i.keys.as_ref().and_then(KeySet::signing_kid))
            .field("verifier", &i.verifier)
            .field("store", &i.store.is_some())
            .field("issuer", &i.issuer)
            .finish_non_exhaustive()
    }
}

impl SessionConfig {
    /// Starts a builder on top of the cookie configuration (api base path, `SameSite`,
    /// transfer policy come from there).
    pub fn builder(cookies: SessionCookieConfig) -> SessionConfigBuilder {
        SessionConfigBuilder {
            cookies,
            api_domain: None,
            access_lifetime: DEFAULT_ACCESS_TOKEN_LIFETIME,
            refresh_lifetime: DEFAULT_REFRESH_TOKEN_LIFETIME,
            anti_csrf: None,
            keys: None,
            verifier: None,
            store: None,
            keys_may_be_pending: false,
            max_user_id_bytes: DEFAULT_MAX_USER_ID_BYTES,
            claims: Vec::new(),
            global_validators: Vec::new(),
            hooks: Hooks::default(),
            session_expired_status: DEFAULT_SESSION_EXPIRED_STATUS,
            invalid_claim_status: DEFAULT_INVALID_CLAIM_STATUS,
        }
    }

    /// The claims fetched when a session is created.
    pub fn claims(&self) -> &[Arc<dyn SessionClaim>] {
        &self.inner.claims
    }

    /// The global claim validators (run on every protected route unless overridden).
    pub fn global_claim_validators(&self) -> &[SessionClaimValidator] {
        &self.inner.global_validators
    }

    /// The cookie configuration.
    pub fn cookies(&self) -> &SessionCookieConfig {
        &self.inner.cookies
    }

    /// The access-token lifetime.
    pub fn access_token_lifetime(&self) -> Duration {
        self.inner.access_lifetime
    }

    /// The refresh-token lifetime (sliding: every refresh extends it).
    pub fn refresh_token_lifetime(&self) -> Duration {
        self.inner.refresh_lifetime
    }

    /// The resolved anti-CSRF mode.
    pub fn anti_csrf(&self) -> AntiCsrf {
        self.inner.anti_csrf
    }

    /// The `iss` claim of new access tokens (`apiDomain + apiBasePath`), if `api_domain`
    /// was given.
    pub fn issuer(&self) -> Option<&str> {
        self.inner.issuer.as_deref()
    }

    /// The access-token verifier.
    pub fn verifier(&self) -> &AccessTokenVerifier {
        &self.inner.verifier
    }

    /// The signing key set, on an auth server.
    pub fn keys(&self) -> Option<&KeySet> {
        self.inner.keys.as_ref()
    }

    /// The status of "try refresh token", "unauthorised" and "token theft detected"
    /// answers (default 401; SuperTokens' `sessionExpiredStatusCode`).
    pub fn session_expired_status(&self) -> http::StatusCode {
        self.inner.session_expired_status
    }

    /// The status of "invalid claim" answers (default 403; SuperTokens'
    /// `invalidClaimStatusCode`).
    pub fn invalid_claim_status(&self) -> http::StatusCode {
        self.inner.invalid_claim_status
    }

    /// Whether handler answers made from a `SessionError` or `NoSession` need re-answering
    /// (statuses other than 401/403, or an `on_unauthorised` / `on_invalid_claim` hook).
    pub(crate) fn configures_handler_rejections(&self) -> bool {
        let i = &self.inner;
        i.session_expired_status.as_u16() != DEFAULT_SESSION_EXPIRED_STATUS
            || i.invalid_claim_status.as_u16() != DEFAULT_INVALID_CLAIM_STATUS
            || i.hooks.on_unauthorised.is_some()
            || i.hooks.on_invalid_claim.is_some()
    }

    /// The session store, on an auth server.
    pub fn store(&self) -> Option<&Arc<dyn SessionStore>> {
        self.inner.store.as_ref()
    }

    /// `{apiBasePath}/session/refresh`: where to mount [`RefreshService`](super::RefreshService).
    pub fn refresh_path(&self) -> &str {
        self.inner.cookies.refresh_path()
    }

    /// `{apiBasePath}/signout`: where to mount [`SignOutService`](super::SignOutService).
    pub fn signout_path(&self) -> &str {
        &self.inner.signout_path
    }

    /// The key set and store, or the error naming `what` needs them.
    pub(crate) fn issuing(
        &self,
        what: &'static str,
    ) -> Result<(KeySet, Arc<dyn SessionStore>), SessionConfigError> {
        match (&self.inner.keys, &self.inner.store) {
            (Some(keys), Some(store))
                if self.inner.keys_may_be_pending || keys.signing_kid().is_some() =>
            {
                Ok((keys.clone(), store.clone()))
            }
            _ => Err(SessionConfigError::NotAnAuthServer(what)),
        }
    }
}

/// Builder for [`SessionConfig`]; everything is checked once, by [`build`](Self::build).
pub struct SessionConfigBuilder {
    cookies: SessionCookieConfig,
    api_domain: Option<String>,
    access_lifetime: Duration,
    refresh_lifetime: Duration,
    anti_csrf: Option<AntiCsrf>,
    keys: Option<KeySet>,
    verifier: Option<AccessTokenVerifier>,
    store: Option<Arc<dyn SessionStore>>,
    keys_may_be_pending: bool,
    max_user_id_bytes: usize,
    claims: Vec<Arc<dyn SessionClaim>>,
    global_validators: Vec<SessionClaimValidator>,
    hooks: Hooks,
    session_expired_status: u16,
    invalid_claim_status: u16,
}

/// The default of [`SessionConfigBuilder::max_user_id_bytes`].
pub const DEFAULT_MAX_USER_ID_BYTES: usize = 256;

impl fmt::Debug for SessionConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionConfigBuilder")
            .field("api_domain", &self.api_domain)
            .field("access_lifetime", &self.access_lifetime)
            .field("refresh_lifetime", &self.refresh_lifetime)
            .field("anti_csrf", &self.anti_csrf)
            .field("store", &self.store.is_some())
            .finish_non_exhaustive()
    }
}

impl SessionConfigBuilder {
    /// The API origin (`https://api.example.com`): new access tokens get
    /// `iss = apiDomain + apiBasePath`, as supertokens-node does. Without it, `iss` is
    /// omitted (nobody checks it, spec 8.1).
    pub fn api_domain(mut self, origin: impl Into<String>) -> Self {
        self.api_domain = Some(origin.into());
        self
    }

    /// Access-token lifetime (default 3600 s; 1 s to 86 400 000 s).
    pub fn access_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.access_lifetime = lifetime;
        self
    }

    /// Refresh-token lifetime (default 100 days; must exceed the access-token lifetime).
    pub fn refresh_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.refresh_lifetime = lifetime;
        self
    }

    /// Anti-CSRF mode. Default (spec 7.1): [`AntiCsrf::ViaCustomHeader`] when the cookie
    /// configuration resolved `SameSite=None`, else [`AntiCsrf::None`].
    pub fn anti_csrf(mut self, mode: AntiCsrf) -> Self {
        self.anti_csrf = Some(mode);
        self
    }

    /// The key set: signs new access tokens (auth server) and, unless
    /// [`verifier`](Self::verifier) is given, verifies them.
    pub fn keys(mut self, keys: KeySet) -> Self {
        self.keys = Some(keys);
        self
    }

    /// The verifier (e.g. over a `RemoteJwks` on a verify-only API server, or with a
    /// leeway). Default: a verifier over [`keys`](Self::keys).
    pub fn verifier(mut self, verifier: AccessTokenVerifier) -> Self {
        self.verifier = Some(verifier);
        self
    }

    /// The session store (auth server). Without a store, tokens that still need promotion
    /// are accepted as they are; promotion then happens on the next refresh.
    pub fn store(mut self, store: impl SessionStore + 'static) -> Self {
        self.store = Some(Arc::new(store));
        self
    }

    /// The session store, already shared.
    pub fn shared_store(mut self, store: Arc<dyn SessionStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Accept a key set that has no signing key **yet**: keys kept in a store
    /// ([`ManagedKeys`](crate::keystore::ManagedKeys)) load in the background, and a store
    /// that is down at start-up must not stop the process from starting. Until a signing
    /// key is there, sign-in, refresh and promotion answer 503 (nothing is cleared, so
    /// nobody is signed out) and protected routes verify with the keys already known.
    /// Default `false`: a key set without a signing key is a configuration error.
    pub fn keys_may_be_pending(mut self, pending: bool) -> Self {
        self.keys_may_be_pending = pending;
        self
    }

    /// The longest user id a session is created for, in bytes (default
    /// [`DEFAULT_MAX_USER_ID_BYTES`], 256: UUIDs, e-mail addresses and most external ids).
    /// The user id travels twice in every access token (`sub`, `rsub`) and once in the
    /// `front-token`, and is kept in the store: a longer one is refused by
    /// [`SessionManager::create`](super::SessionManager::create) before anything is issued
    /// or stored. The payload is bounded by the access token it makes: see `create`.
    pub fn max_user_id_bytes(mut self, max: usize) -> Self {
        self.max_user_id_bytes = max;
        self
    }

    /// A claim fetched (with [`SessionClaim::fetch_value`]) when a session is created, and
    /// added to its payload as `{"v": value, "t": ms}` (node's
    /// `claimsAddedByOtherRecipes`). Payload given to `create` under the same key wins
    /// over nothing: the fetched value replaces it, as in node.
    pub fn claim(mut self, claim: impl SessionClaim) -> Self {
        self.claims.push(Arc::new(claim));
        self
    }

    /// A validator run on every protected route (node's `getGlobalClaimValidators`),
    /// unless the route overrides the globals
    /// ([`RequireSessionLayer::override_global_claim_validators`](super::RequireSessionLayer::override_global_claim_validators)).
    pub fn global_claim_validator(mut self, validator: SessionClaimValidator) -> Self {
        self.global_validators.push(validator);
        self
    }

    /// Called once with `(user_id, session_handle)` when a refresh detects token theft
    /// (the session is revoked; the answer stays 401 `token theft detected`).
    pub fn on_token_theft(mut self, hook: impl Fn(&str, &str) + Send + Sync + 'static) -> Self {
        self.hooks.on_token_theft = Some(Arc::new(hook));
        self
    }

    /// Called with the reason of a 401 `unauthorised` (HTTP, not gRPC); `Some(response)`
    /// is sent instead of the default body (tokens are cleared as the default would).
    pub fn on_unauthorised(
        mut self,
        hook: impl Fn(&str) -> Option<http::Response<bytes::Bytes>> + Send + Sync + 'static,
    ) -> Self {
        self.hooks.on_unauthorised = Some(Arc::new(hook));
        self
    }

    /// Called with the failed validators of a claim check on a protected route (HTTP);
    /// `Some(response)` is sent instead of the invalid-claim answer.
    pub fn on_invalid_claim(
        mut self,
        hook: impl Fn(&[super::ClaimValidationError]) -> Option<http::Response<bytes::Bytes>>
            + Send
            + Sync
            + 'static,
    ) -> Self {
        self.hooks.on_invalid_claim = Some(Arc::new(hook));
        self
    }

    /// Called with the status and reason of a refusal that keeps the session: 400 for
    /// ambiguous credentials (`duplicate session cookies`, `duplicate refresh token
    /// cookies`, `more than one Authorization header`, `more than one anti-csrf header`),
    /// 431 for a `Cookie` header over the limit (HTTP, not gRPC). `Some(response)` is sent
    /// instead of the default `{"message":…}` body; nothing is cleared either way. Give it
    /// a status other than the session-expired one, or the SDK signs the user out. (node
    /// hands such errors to the application's own error handler, which answers 500 by
    /// default.)
    pub fn on_refused(
        mut self,
        hook: impl Fn(http::StatusCode, &str) -> Option<http::Response<bytes::Bytes>>
            + Send
            + Sync
            + 'static,
    ) -> Self {
        self.hooks.on_refused = Some(Arc::new(hook));
        self
    }

    /// Called on every refresh with the session and the new access token's payload (the
    /// stored one), which it may change; the change goes into the new token only (the
    /// stored payload is left alone, so the hook decides again at every refresh).
    /// Protected claim names it adds are dropped.
    pub fn on_refresh(
        mut self,
        hook: impl Fn(&RefreshInfo<'_>, &mut serde_json::Map<String, serde_json::Value>)
            + Send
            + Sync
            + 'static,
    ) -> Self {
        self.hooks.on_refresh = Some(Arc::new(hook));
        self
    }

    /// What `SharedSessionBuilder` collected: claims, global validators, hooks.
    pub(crate) fn recipe(
        mut self,
        claims: Vec<Arc<dyn SessionClaim>>,
        validators: Vec<SessionClaimValidator>,
        hooks: Hooks,
    ) -> Self {
        self.claims.extend(claims);
        self.global_validators.extend(validators);
        self.hooks = hooks;
        self
    }

    /// The status of every "try refresh token", "unauthorised" and "token theft detected"
    /// answer (default 401), as SuperTokens' `sessionExpiredStatusCode`: give the frontend
    /// SDK (and `tower-session-client`) the same value, since it refreshes on exactly this
    /// status. A 4xx other than [`invalid_claim_status`](Self::invalid_claim_status), and
    /// not 400, 421 or 431 (refusals that keep the session answer those); checked by
    /// [`build`](Self::build).
    ///
    /// ```
    /// # use tower_session_cookie::SessionCookieConfig;
    /// # use tower_session_refresh::keys::{KeySet, SigningKey};
    /// # use tower_session_refresh::session::{SessionConfig, SessionConfigError};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let cookies = SessionCookieConfig::builder()
    /// #     .api_domain("https://api.example.com")
    /// #     .website_domain("https://www.example.com")
    /// #     .build()?;
    /// # let keys = KeySet::new(SigningKey::generate_ed25519("k1")?);
    /// let config = SessionConfig::builder(cookies.clone())
    ///     .keys(keys.clone())
    ///     .session_expired_status(440)
    ///     .build()?;
    /// assert_eq!(config.session_expired_status(), 440);
    /// assert!(matches!(
    ///     SessionConfig::builder(cookies).keys(keys).session_expired_status(500).build(),
    ///     Err(SessionConfigError::Status { option: "session_expired_status", .. })
    /// ));
    /// # Ok(())
    /// # }
    /// ```
    pub fn session_expired_status(mut self, status: u16) -> Self {
        self.session_expired_status = status;
        self
    }

    /// The status of every "invalid claim" answer (default 403), as SuperTokens'
    /// `invalidClaimStatusCode`. A 4xx other than
    /// [`session_expired_status`](Self::session_expired_status); checked by
    /// [`build`](Self::build).
    pub fn invalid_claim_status(mut self, status: u16) -> Self {
        self.invalid_claim_status = status;
        self
    }

    /// Validates everything.
    pub fn build(self) -> Result<SessionConfig, SessionConfigError> {
        let (session_expired_status, invalid_claim_status) =
            check_statuses(self.session_expired_status, self.invalid_claim_status)?;
        if self.access_lifetime < Duration::from_secs(1)
            || self.access_lifetime > MAX_ACCESS_TOKEN_LIFETIME
        {
            return Err(SessionConfigError::AccessTokenLifetime(
                self.access_lifetime,
            ));
        }
        if self.refresh_lifetime <= self.access_lifetime {
            return Err(SessionConfigError::RefreshTokenLifetime {
                refresh: self.refresh_lifetime,
                access: self.access_lifetime,
            });
        }
        let verifier = match (self.verifier, &self.keys) {
            (Some(verifier), _) => verifier,
            (None, Some(keys)) => AccessTokenVerifier::new(keys.clone()),
            (None, None) => return Err(SessionConfigError::NoKeys),
        };
        if self.store.is_some()
            && !self.keys_may_be_pending
            && self.keys.as_ref().and_then(KeySet::signing_kid).is_none()
        {
            return Err(SessionConfigError::StoreWithoutSigningKey);
        }
        let base = self.cookies.api_base_path().to_owned();
        let issuer = match self.api_domain {
            Some(domain) => Some(format!("{}{base}", normalise_origin(&domain)?)),
            None => None,
        };
        let anti_csrf = self.anti_csrf.unwrap_or(match self.cookies.same_site() {
            SameSite::None => AntiCsrf::ViaCustomHeader,
            SameSite::Lax | SameSite::Strict => AntiCsrf::None,
        });
        Ok(SessionConfig {
            inner: Arc::new(ConfigInner {
                signout_path: format!("{base}/signout"),
                cookies: self.cookies,
                access_lifetime: self.access_lifetime,
                refresh_lifetime: self.refresh_lifetime,
                anti_csrf,
                keys: self.keys,
                verifier,
                store: self.store,
                keys_may_be_pending: self.keys_may_be_pending,
                issuer,
                tenant: "public".to_owned(),
                max_user_id_bytes: self.max_user_id_bytes,
                claims: self.claims,
                global_validators: self.global_validators,
                hooks: self.hooks,
                session_expired_status,
                invalid_claim_status,
            }),
        })
    }
}

/// `scheme://host[:port]`, lowercase, from an origin (a trailing `/` is dropped): the
/// same parser as `SharedSession`'s `api_domain`.
fn normalise_origin(input: &str) -> Result<String, SessionConfigError> {
    tower_domain_guard::Origin::parse(input)
        .map(|origin| origin.to_string())
        .map_err(|_| SessionConfigError::ApiDomain(input.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::normalise_origin;

    #[test]
    fn origins() {
        assert_eq!(
            normalise_origin("HTTPS://Api.Example.com/").ok().as_deref(),
            Some("https://api.example.com")
        );
        assert_eq!(
            normalise_origin("http://localhost:8080").ok().as_deref(),
            Some("http://localhost:8080")
        );
        assert!(normalise_origin("api.example.com").is_err());
        assert!(normalise_origin("https://api.example.com/auth").is_err());
        assert!(normalise_origin("https://").is_err());
    }
}

#[cfg(test)]
mod defaults {
    use super::*;
    use crate::keys::SigningKey;

    fn config(website: &str) -> SessionConfig {
        let cookies = SessionCookieConfig::builder()
            .api_domain("https://api.example.com")
            .website_domain(website)
            .build()
            .expect("cookies");
        SessionConfig::builder(cookies)
            .keys(KeySet::new(SigningKey::generate_ed25519("k").expect("key")))
            .build()
            .expect("config")
    }

    #[test]
    fn anti_csrf_follows_same_site() {
        assert_eq!(
            config("https://www.example.com").anti_csrf(),
            AntiCsrf::None
        );
        assert_eq!(
            config("https://www.other.org").anti_csrf(),
            AntiCsrf::ViaCustomHeader
        );
    }

    #[test]
    fn verify_only_config_cannot_issue() {
        let cookies = SessionCookieConfig::builder()
            .api_domain("https://api2.example.com")
            .website_domain("https://www.example.com")
            .build()
            .expect("cookies");
        let keys = KeySet::new(SigningKey::generate_ed25519("k").expect("key"));
        let config = SessionConfig::builder(cookies.clone())
            .verifier(AccessTokenVerifier::new(keys.clone()))
            .build()
            .expect("verify-only");
        assert!(matches!(
            crate::session::RefreshService::new(config),
            Err(SessionConfigError::NotAnAuthServer("RefreshService"))
        ));
        assert!(matches!(
            SessionConfig::builder(cookies.clone()).build(),
            Err(SessionConfigError::NoKeys)
        ));
        assert!(matches!(
            SessionConfig::builder(cookies)
                .keys(keys)
                .refresh_token_lifetime(Duration::from_secs(10))
                .access_token_lifetime(Duration::from_secs(10))
                .build(),
            Err(SessionConfigError::RefreshTokenLifetime { .. })
        ));
    }
}
