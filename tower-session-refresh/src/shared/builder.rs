//! [`SharedSessionBuilder`]: every input given once, checked once.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderValue, Method};
use tower_domain_guard::{HostGuardLayer, OriginGuardLayer, SharedDomain};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_session_cookie::{ConfigError, SessionCookieConfig, SessionCookieLayer, TransferPolicy};

use super::error::SharedSessionError;
use super::layer::{Routes, SdkRoutesLayer, SharedSessionLayer};
use super::origin::parse_origin;
use super::{Inner, SharedSession};
use crate::claims::{SessionClaim, SessionClaimValidator};
use crate::jwks::{JwksService, OpenIdDiscoveryService};
use crate::keys::{KeySet, SigningKey};
use crate::keystore::{KeyStore, ManagedKeys, ManagedKeysConfig};
use crate::session::{
    cors, AntiCsrf, RefreshService, SessionConfig, SessionConfigError, SessionManager,
    SignOutService, DEFAULT_ACCESS_TOKEN_LIFETIME, DEFAULT_REFRESH_TOKEN_LIFETIME,
};
use crate::session::{ClaimValidationError, Hooks, RefreshInfo};
use crate::store::{MemoryStore, SessionStore};
use crate::token::AccessTokenVerifier;

/// How often a new signing key is made when keys are kept in the store (7 days).
pub const DEFAULT_KEY_ROTATION: Duration = Duration::from_secs(7 * 24 * 3600);

/// How long a browser may cache a CORS preflight answer.
const CORS_MAX_AGE: Duration = Duration::from_secs(600);

/// Builder of [`SharedSession`], from [`SharedSession::builder`]. Nothing is checked until
/// [`build`](Self::build), which checks everything once.
pub struct SharedSessionBuilder {
    /// `None`: [`SharedSession::host_only`].
    cookie_domain: Option<String>,
    api_domain: Option<String>,
    website_domain: Option<String>,
    api_base_path: String,
    access_lifetime: Duration,
    refresh_lifetime: Duration,
    anti_csrf: Option<AntiCsrf>,
    older_cookie_domain: Option<String>,
    allow_hosts: Vec<String>,
    store: Option<Arc<dyn SessionStore>>,
    key_store: Option<Arc<dyn KeyStore>>,
    signing_key: Option<SigningKey>,
    key_rotation: Duration,
    verify_only: Option<VerifySource>,
    sdk_routes: bool,
    transfer_policy: TransferPolicy,
    claims: Vec<Arc<dyn SessionClaim>>,
    global_validators: Vec<SessionClaimValidator>,
    hooks: Hooks,
    check_database: bool,
    session_expired_status: u16,
    invalid_claim_status: u16,
}

impl fmt::Debug for SharedSessionBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedSessionBuilder")
            .field("cookie_domain", &self.cookie_domain)
            .field("api_domain", &self.api_domain)
            .field("website_domain", &self.website_domain)
            .field("api_base_path", &self.api_base_path)
            .field("store", &self.store.is_some())
            .field("signing_key", &self.signing_key.is_some())
            .field("verify_only", &self.verify_only)
            .finish_non_exhaustive()
    }
}

impl SharedSessionBuilder {
    pub(crate) fn new(cookie_domain: Option<&str>) -> Self {
        Self {
            cookie_domain: cookie_domain.map(str::to_owned),
            api_domain: None,
            website_domain: None,
            api_base_path: "/auth".to_owned(),
            access_lifetime: DEFAULT_ACCESS_TOKEN_LIFETIME,
            refresh_lifetime: DEFAULT_REFRESH_TOKEN_LIFETIME,
            anti_csrf: None,
            older_cookie_domain: None,
            allow_hosts: Vec::new(),
            store: None,
            key_store: None,
            signing_key: None,
            key_rotation: DEFAULT_KEY_ROTATION,
            verify_only: None,
            sdk_routes: true,
            transfer_policy: TransferPolicy::Any,
            claims: Vec::new(),
            global_validators: Vec::new(),
            hooks: Hooks::default(),
            check_database: false,
            session_expired_status: crate::session::DEFAULT_SESSION_EXPIRED_STATUS,
            invalid_claim_status: crate::session::DEFAULT_INVALID_CLAIM_STATUS,
        }
    }

    /// The API origin where the SDK's routes live (`appInfo.apiDomain`), e.g.
    /// `https://api.example.com`. Required; must lie inside the cookie domain.
    pub fn api_domain(mut self, origin: &str) -> Self {
        self.api_domain = Some(origin.to_owned());
        self
    }

    /// The website's origin (`appInfo.websiteDomain`), allowed by CORS with credentials.
    /// Required; must lie inside the cookie domain.
    pub fn website_domain(mut self, origin: &str) -> Self {
        self.website_domain = Some(origin.to_owned());
        self
    }

    /// `appInfo.apiBasePath` (default `/auth`; `auth` and `/auth/` mean the same).
    pub fn api_base_path(mut self, path: &str) -> Self {
        self.api_base_path = path.to_owned();
        self
    }

    /// Access-token lifetime (default 3600 s; 1 s to 86 400 000 s). Keys kept in the store
    /// are kept for at least this long after they stop signing.
    pub fn access_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.access_lifetime = lifetime;
        self
    }

    /// Refresh-token lifetime (default 100 days; longer than the access-token lifetime).
    pub fn refresh_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.refresh_lifetime = lifetime;
        self
    }

    /// Which token transfer methods are read and used for new sessions (default
    /// [`TransferPolicy::Any`]: cookies or headers, new sessions as the SDK's `st-auth-mode`
    /// asks). SuperTokens' `getTokenTransferMethod` returning one method.
    pub fn transfer_policy(mut self, policy: TransferPolicy) -> Self {
        self.transfer_policy = policy;
        self
    }

    /// Anti-CSRF mode (default as SuperTokens: `ViaCustomHeader` when cookies are
    /// `SameSite=None`, else none).
    pub fn anti_csrf(mut self, mode: AntiCsrf) -> Self {
        self.anti_csrf = Some(mode);
        self
    }

    /// A previous cookie domain whose cookies are cleared (`olderCookieDomain`; `""` for
    /// host-only cookies).
    pub fn older_cookie_domain(mut self, domain: &str) -> Self {
        self.older_cookie_domain = Some(domain.to_owned());
        self
    }

    /// One more exact host the host guard accepts (repeatable), e.g. `127.0.0.1` so an
    /// internal caller can reach the service by IP. The JWKS is answered there too.
    pub fn allow_host(mut self, host: &str) -> Self {
        self.allow_hosts.push(host.to_owned());
        self
    }

    /// The session store (default a [`MemoryStore`], for one process). A store that can
    /// keep signing keys ([`SessionStore::key_store`], e.g. `RedisStore`) keeps them too,
    /// unless [`signing_key`](Self::signing_key) or [`key_store`](Self::key_store) is given.
    pub fn store(mut self, store: impl SessionStore) -> Self {
        self.store = Some(Arc::new(store));
        self
    }

    /// The session store, already shared.
    pub fn shared_store(mut self, store: Arc<dyn SessionStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Where signing keys are kept, shared and rotated (default: the session store's own
    /// [`key_store`](SessionStore::key_store)).
    pub fn key_store(mut self, keys: impl KeyStore) -> Self {
        self.key_store = Some(Arc::new(keys));
        self
    }

    /// A fixed signing key instead of keys kept in the store (nothing is generated,
    /// stored or rotated).
    pub fn signing_key(mut self, key: SigningKey) -> Self {
        self.signing_key = Some(key);
        self
    }

    /// How often a new signing key is made when keys are kept in the store (default
    /// [`DEFAULT_KEY_ROTATION`], 7 days).
    pub fn key_rotation(mut self, interval: Duration) -> Self {
        self.key_rotation = interval;
        self
    }

    /// Verify-only: an API server that holds no store and no signing key and serves no SDK
    /// route; it verifies access tokens with the keys published at `jwks_url` (the auth
    /// server's `{apiDomain}{apiBasePath}/jwt/jwks.json`), fetched over `https://` trusting
    /// the system's roots, refetched on an unknown `kid`. An `http://` URL is refused (anyone
    /// on the path could hand this server keys); for a private CA, plain HTTP on loopback or
    /// discovery from the issuer URL, build a [`RemoteJwks`](crate::jwks::RemoteJwks) and
    /// give it to [`verify_only_jwks`](Self::verify_only_jwks).
    #[cfg(feature = "remote-jwks")]
    #[cfg_attr(docsrs, doc(cfg(feature = "remote-jwks")))]
    pub fn verify_only(mut self, jwks_url: &str) -> Self {
        self.verify_only = Some(VerifySource::Url(jwks_url.to_owned()));
        self
    }

    /// Verify-only with a JWKS client configured by hand, e.g.
    /// `RemoteJwks::builder(url).ca_file("ca.pem").build()?` or
    /// `RemoteJwks::discover("https://api.example.com/auth").await?` (the issuer URL, as
    /// the auth server's `/.well-known/openid-configuration` names it).
    #[cfg(feature = "remote-jwks")]
    #[cfg_attr(docsrs, doc(cfg(feature = "remote-jwks")))]
    pub fn verify_only_jwks(mut self, jwks: crate::jwks::RemoteJwks) -> Self {
        self.verify_only = Some(VerifySource::Jwks(jwks));
        self
    }

    /// Whether the layer answers the SDK's routes on the API domain (default `true`).
    /// `false` for a process that shares the store but leaves the auth routes to another.
    pub fn sdk_routes(mut self, serve: bool) -> Self {
        self.sdk_routes = serve;
        self
    }

    /// A claim fetched when a session is created
    /// ([`SessionConfigBuilder::claim`](crate::session::SessionConfigBuilder::claim)).
    pub fn claim(mut self, claim: impl SessionClaim) -> Self {
        self.claims.push(Arc::new(claim));
        self
    }

    /// A validator every protected route runs unless it overrides the globals
    /// ([`SessionConfigBuilder::global_claim_validator`](crate::session::SessionConfigBuilder::global_claim_validator)).
    pub fn global_claim_validator(mut self, validator: SessionClaimValidator) -> Self {
        self.global_validators.push(validator);
        self
    }

    /// See [`SessionConfigBuilder::on_token_theft`](crate::session::SessionConfigBuilder::on_token_theft).
    pub fn on_token_theft(mut self, hook: impl Fn(&str, &str) + Send + Sync + 'static) -> Self {
        self.hooks.on_token_theft = Some(Arc::new(hook));
        self
    }

    /// See [`SessionConfigBuilder::on_unauthorised`](crate::session::SessionConfigBuilder::on_unauthorised).
    pub fn on_unauthorised(
        mut self,
        hook: impl Fn(&str) -> Option<http::Response<bytes::Bytes>> + Send + Sync + 'static,
    ) -> Self {
        self.hooks.on_unauthorised = Some(Arc::new(hook));
        self
    }

    /// See [`SessionConfigBuilder::on_invalid_claim`](crate::session::SessionConfigBuilder::on_invalid_claim).
    pub fn on_invalid_claim(
        mut self,
        hook: impl Fn(&[ClaimValidationError]) -> Option<http::Response<bytes::Bytes>>
            + Send
            + Sync
            + 'static,
    ) -> Self {
        self.hooks.on_invalid_claim = Some(Arc::new(hook));
        self
    }

    /// See [`SessionConfigBuilder::on_refused`](crate::session::SessionConfigBuilder::on_refused).
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

    /// See [`SessionConfigBuilder::on_refresh`](crate::session::SessionConfigBuilder::on_refresh).
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

    /// [`build`](Self::build), then waits for the first load of keys kept in the store to
    /// be tried (as `ManagedKeys::start` does): a process that starts serving right after
    /// has its signing keys, unless the store is down (then 503 on sign-in and refresh
    /// until it is back, never a sign-out).
    pub async fn start(self) -> Result<SharedSession, SharedSessionError> {
        let session = self.build()?;
        session.first_key_load().await;
        Ok(session)
    }

    /// SuperTokens' `checkDatabase` for every [`require_session`](SharedSession::require_session)
    /// and [`optional_session`](SharedSession::optional_session) layer: each verified
    /// session is looked up in the store (one lookup per request), so a revoked or
    /// signed-out session gets 401 `unauthorised` at once. Default `false`. A verify-only
    /// server has no store: `check_database(true)` with `verify_only` is refused by
    /// [`build`](Self::build). See
    /// [`RequireSessionLayer::check_database`](crate::session::RequireSessionLayer::check_database).
    pub fn check_database(mut self, yes: bool) -> Self {
        self.check_database = yes;
        self
    }

    /// The status of "try refresh token" / "unauthorised" / "token theft detected" answers
    /// (default 401), SuperTokens' `sessionExpiredStatusCode`: the frontend SDK refreshes
    /// on exactly this status, so give it the same value. A 4xx other than
    /// [`invalid_claim_status`](Self::invalid_claim_status), checked by
    /// [`build`](Self::build).
    pub fn session_expired_status(mut self, status: u16) -> Self {
        self.session_expired_status = status;
        self
    }

    /// The status of "invalid claim" answers (default 403), SuperTokens'
    /// `invalidClaimStatusCode`. A 4xx other than
    /// [`session_expired_status`](Self::session_expired_status), checked by
    /// [`build`](Self::build).
    pub fn invalid_claim_status(mut self, status: u16) -> Self {
        self.invalid_claim_status = status;
        self
    }

    /// Checks everything and builds the stack. Keys kept in the store load in the
    /// background, so this must run inside a tokio runtime unless
    /// [`signing_key`](Self::signing_key) or `verify_only` is given.
    pub fn build(self) -> Result<SharedSession, SharedSessionError> {
        let api_input = self.api_domain.as_deref().ok_or_else(|| {
            err(
                "api_domain",
                "missing: call api_domain(\"https://api.example.com\") (appInfo.apiDomain)",
            )
        })?;
        let domain = match &self.cookie_domain {
            Some(shared) => SharedDomain::parse(shared).map_err(|e| err("cookie_domain", e))?,
            None => SharedDomain::single_host(api_input).map_err(|e| err("api_domain", e))?,
        };
        let website_input = self.website_domain.as_deref().ok_or_else(|| {
            err(
                "website_domain",
                "missing: call website_domain(\"https://www.example.com\") (appInfo.websiteDomain)",
            )
        })?;
        let api = parse_origin("api_domain", api_input)?;
        let website = parse_origin("website_domain", website_input)?;
        // The seed's rule: the API and the website lie inside the shared domain.
        domain
            .check_inside("api_domain", &api.origin)
            .map_err(|e| err("api_domain", e))?;
        domain
            .check_inside("website_domain", &website.origin)
            .map_err(|e| match self.cookie_domain {
                Some(_) => err("website_domain", e),
                None => err(
                    "website_domain",
                    format!(
                        "must be on the API's host {:?} (any port) with host_only(): host-only cookies reach no other host; give a shared cookie domain instead",
                        domain.name()
                    ),
                ),
            })?;
        let base = tower_session_cookie::normalise_api_base_path(&self.api_base_path)
            .map_err(|e| err("api_base_path", e))?;

        crate::session::config::check_statuses(
            self.session_expired_status,
            self.invalid_claim_status,
        )
        .map_err(|e| match &e {
            SessionConfigError::Status { option, .. } => err(option, e),
            _ => err("session_expired_status", e),
        })?;
        if self.verify_only.is_some() && self.check_database {
            return Err(err(
                "check_database",
                "a verify-only server has no session store to check sessions in: drop check_database(true) or verify_only",
            ));
        }
        if self.verify_only.is_some() {
            for (given, option) in [
                (self.store.is_some(), "store"),
                (self.key_store.is_some(), "key_store"),
                (self.signing_key.is_some(), "signing_key"),
            ] {
                if given {
                    return Err(err(
                        "verify_only",
                        format!("a verify-only server has no {option}: drop one of the two"),
                    ));
                }
            }
        }

        let mut cookies = SessionCookieConfig::builder();
        if self.cookie_domain.is_some() {
            cookies = cookies.shared_domain(domain.clone());
        }
        let mut cookies = cookies
            .transfer_policy(self.transfer_policy)
            .api_domain(api.origin.clone())
            .website_domain(website.origin.clone())
            .api_base_path(base.clone());
        if let Some(older) = &self.older_cookie_domain {
            cookies = cookies.older_cookie_domain(older.clone());
        }
        let cookies = cookies.build().map_err(|e| {
            let option = match &e {
                ConfigError::InvalidOlderCookieDomain { .. }
                | ConfigError::OlderCookieDomainIsCurrent => "older_cookie_domain",
                ConfigError::InvalidApiBasePath { .. } => "api_base_path",
                ConfigError::InvalidUrl {
                    what: "website_domain",
                    ..
                }
                | ConfigError::MissingDomain {
                    what: "website_domain",
                    ..
                } => "website_domain",
                _ => "api_domain",
            };
            err(option, e)
        })?;

        let mut host_guard = HostGuardLayer::new(domain.clone());
        let mut jwks_hosts = Vec::new();
        for host in &self.allow_hosts {
            host_guard = host_guard
                .allow_host(host)
                .map_err(|e| err("allow_host", e))?;
            jwks_hosts.push(host.trim().to_ascii_lowercase());
        }

        let mut session = SessionConfig::builder(cookies.clone())
            .api_domain(api.origin.clone())
            .access_token_lifetime(self.access_lifetime)
            .refresh_token_lifetime(self.refresh_lifetime)
            .recipe(self.claims, self.global_validators, self.hooks)
            .session_expired_status(self.session_expired_status)
            .invalid_claim_status(self.invalid_claim_status);
        if let Some(mode) = self.anti_csrf {
            session = session.anti_csrf(mode);
        }
        let mut managed = None;
        let keys = if let Some(url) = &self.verify_only {
            session = session.verifier(remote_verifier(url).map_err(|e| err("verify_only", e))?);
            None
        } else {
            let store = self
                .store
                .unwrap_or_else(|| Arc::new(MemoryStore::new()) as Arc<dyn SessionStore>);
            let keys = match self.signing_key {
                Some(key) => KeySet::new(key),
                None => {
                    let key_store = self.key_store.or_else(|| store.key_store()).ok_or_else(|| {
                        err(
                            "store",
                            "this store cannot keep signing keys: give signing_key(..) or key_store(..)",
                        )
                    })?;
                    if self.key_rotation < Duration::from_secs(1) {
                        return Err(err("key_rotation", "must be at least 1 s"));
                    }
                    // The same access-token lifetime as the sessions: a key is kept until
                    // the last token it signed has expired.
                    let config = ManagedKeysConfig::new(self.key_rotation, self.access_lifetime);
                    let keys = ManagedKeys::spawn(key_store, config).ok_or_else(|| {
                        err(
                            "signing_key",
                            "keys kept in the store load in a background task: call build() inside a tokio runtime, or give signing_key(..)",
                        )
                    })?;
                    session = session.verifier(keys.verifier()).keys_may_be_pending(true);
                    let set = keys.key_set();
                    managed = Some(keys);
                    set
                }
            };
            session = session.keys(keys.clone()).shared_store(store);
            Some(keys)
        };
        let config = session.build().map_err(|e| {
            let option = match &e {
                SessionConfigError::RefreshTokenLifetime { .. } => "refresh_token_lifetime",
                SessionConfigError::ApiDomain(_) => "api_domain",
                SessionConfigError::StoreWithoutSigningKey => "signing_key",
                _ => "access_token_lifetime",
            };
            err(option, e)
        })?;

        let (manager, routes) = match keys {
            Some(keys) => {
                let as_store = |e: SessionConfigError| err("store", e);
                let manager = SessionManager::new(config.clone()).map_err(as_store)?;
                let routes = if self.sdk_routes {
                    let jwks = JwksService::builder(keys.clone())
                        .api_base_path(base.clone())
                        .build()
                        .map_err(|e| err("api_base_path", e))?;
                    // Issuer = api domain + base path, as supertokens-node's OpenID recipe.
                    let discovery = OpenIdDiscoveryService::builder(api.origin.clone(), keys)
                        .api_base_path(base.clone())
                        .build()
                        .map_err(|e| err("api_domain", e))?;
                    Some(Arc::new(Routes {
                        api_host: api.host.clone(),
                        jwks_hosts,
                        refresh: RefreshService::new(config.clone()).map_err(as_store)?,
                        signout: SignOutService::new(config.clone()).map_err(as_store)?,
                        jwks,
                        discovery,
                    }))
                } else {
                    None
                };
                (Some(manager), routes)
            }
            None => (None, None),
        };

        let website_origin = HeaderValue::from_str(&website.origin)
            .map_err(|_| err("website_domain", "is not a valid origin"))?;
        let cors = CorsLayer::new()
            .allow_origin(AllowOrigin::exact(website_origin))
            .allow_credentials(true)
            .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
            .allow_headers(cors::allowed_headers())
            .expose_headers(cors::exposed_headers())
            .max_age(CORS_MAX_AGE);
        // With an https website, an http:// page under the shared domain is not the site
        // (an attacker on the network can inject one).
        let origin_guard = OriginGuardLayer::new(domain.clone()).require_https(website.https);

        let layer = SharedSessionLayer {
            host_guard,
            cors,
            origin_guard,
            cookies: SessionCookieLayer::new(cookies),
            sdk: SdkRoutesLayer { routes },
        };
        Ok(SharedSession {
            inner: Arc::new(Inner {
                domain,
                config,
                manager,
                managed,
                layer,
                check_database: self.check_database,
            }),
        })
    }
}

/// Where a verify-only server takes its keys from.
#[derive(Clone)]
enum VerifySource {
    /// A JWKS URL: `https://`, system roots.
    #[cfg_attr(not(feature = "remote-jwks"), allow(dead_code))]
    Url(String),
    /// A client the user configured.
    #[cfg(feature = "remote-jwks")]
    Jwks(crate::jwks::RemoteJwks),
}

impl fmt::Debug for VerifySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Url(url) => f.debug_tuple("Url").field(url).finish(),
            #[cfg(feature = "remote-jwks")]
            Self::Jwks(jwks) => f.debug_tuple("Jwks").field(jwks).finish(),
        }
    }
}

/// The verifier of a verify-only server: keys from the auth server's JWKS.
#[cfg(feature = "remote-jwks")]
fn remote_verifier(source: &VerifySource) -> Result<AccessTokenVerifier, String> {
    let jwks = match source {
        VerifySource::Url(url) => crate::jwks::RemoteJwks::builder(url.clone())
            .build()
            .map_err(|e| e.to_string())?,
        VerifySource::Jwks(jwks) => jwks.clone(),
    };
    Ok(AccessTokenVerifier::new(jwks))
}

#[cfg(not(feature = "remote-jwks"))]
fn remote_verifier(_source: &VerifySource) -> Result<AccessTokenVerifier, String> {
    // `verify_only` exists only with the feature; nothing can set the URL without it.
    Err("needs the `remote-jwks` feature".to_owned())
}

fn err(option: &'static str, reason: impl fmt::Display) -> SharedSessionError {
    SharedSessionError::new(option, reason)
}
