//! [`ClientConfig`]: where the session lives and how the client layer behaves.

use std::fmt;
use std::time::Duration;

use http::Uri;
use tower_domain_guard::{DomainError, SharedDomain};
use tower_session_cookie::TransferMethod;

/// What callers get when the session cannot be used: the refresh endpoint answered 401
/// (the session has ended), or a request that needed a refresh could not be resent.
///
/// Default: [`SessionErrorMode::Error`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SessionErrorMode {
    /// The call fails with [`ClientError::SessionExpired`](super::ClientError::SessionExpired)
    /// or [`ClientError::NotReplayable`](super::ClientError::NotReplayable).
    #[default]
    Error,
    /// The call succeeds with the server's 401 (or gRPC UNAUTHENTICATED) response, which
    /// carries a [`SessionNotice`](super::SessionNotice) in its extensions saying why it was
    /// not retried. This is what the browser SDK does.
    Response,
}

/// Configuration of the client layer. Validated once by
/// [`ClientConfigBuilder::build`]; cheap to clone.
///
/// ```
/// use tower_session_client::ClientConfig;
/// use tower_session_client::TransferMethod;
/// use tower_domain_guard::SharedDomain;
///
/// let config = ClientConfig::builder("https://api.example.com")
///     .shared_domain(SharedDomain::parse(".example.com")?)
///     .transfer_method(TransferMethod::Cookie)
///     .build()?;
/// assert_eq!(config.refresh_uri().to_string(), "https://api.example.com/auth/session/refresh");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct ClientConfig {
    pub(crate) scheme: String,
    pub(crate) authority: String,
    /// Lowercase host of the API domain, no port.
    pub(crate) api_host: String,
    pub(crate) shared: Option<SharedDomain>,
    pub(crate) base_path: String,
    pub(crate) method: TransferMethod,
    pub(crate) replay_limit: usize,
    pub(crate) errors: SessionErrorMode,
    pub(crate) expiry_margin: Duration,
    pub(crate) relative_host: Option<String>,
    pub(crate) refresh_cookie: String,
    pub(crate) session_expired_status: http::StatusCode,
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field(
                "api_domain",
                &format_args!("{}://{}", self.scheme, self.authority),
            )
            .field(
                "shared_domain",
                &self.shared.as_ref().map(|d| d.to_string()),
            )
            .field("api_base_path", &self.base_path)
            .field("transfer_method", &self.method)
            .field("replay_limit", &self.replay_limit)
            .field("errors", &self.errors)
            .field("expiry_margin", &self.expiry_margin)
            .field("relative_uri_host", &self.relative_host)
            .field("session_expired_status", &self.session_expired_status)
            .finish()
    }
}

impl ClientConfig {
    /// Starts a configuration for the API domain `api_domain` (SuperTokens' `apiDomain`, a URL
    /// such as `https://api.example.com` or `http://api.example.test:3000`), where sign-in,
    /// refresh and sign-out live.
    pub fn builder(api_domain: &str) -> ClientConfigBuilder {
        ClientConfigBuilder {
            api_domain: api_domain.to_owned(),
            shared: None,
            base_path: "/auth".to_owned(),
            method: TransferMethod::Header,
            replay_limit: 64 * 1024,
            errors: SessionErrorMode::Error,
            expiry_margin: Duration::ZERO,
            relative_host: None,
            refresh_cookie: "sRefreshToken".to_owned(),
            session_expired_status: 401,
        }
    }

    /// The session-expired status (see
    /// [`ClientConfigBuilder::session_expired_status`]).
    pub fn session_expired_status(&self) -> http::StatusCode {
        self.session_expired_status
    }

    /// The transfer method the client asks for (`st-auth-mode`).
    pub fn transfer_method(&self) -> TransferMethod {
        self.method
    }

    /// The shared domain (`sessionTokenBackendDomain`), if configured.
    pub fn shared_domain(&self) -> Option<&SharedDomain> {
        self.shared.as_ref()
    }

    /// `{apiDomain}{apiBasePath}/session/refresh`.
    pub fn refresh_uri(&self) -> Uri {
        self.api_uri("/session/refresh")
    }

    /// `{apiDomain}{apiBasePath}/signout`.
    pub fn sign_out_uri(&self) -> Uri {
        self.api_uri("/signout")
    }

    /// `{apiDomain}{apiBasePath}{suffix}`; `suffix` starts with `/`.
    pub(crate) fn api_uri(&self, suffix: &str) -> Uri {
        let s = format!(
            "{}://{}{}{}",
            self.scheme, self.authority, self.base_path, suffix
        );
        // Every part was validated in `build`, so this parses; fall back to a relative URI
        // (out of scope, harmless) rather than panic.
        s.parse()
            .unwrap_or_else(|_| Uri::from_static("/superTokensDoNotDoInterception"))
    }

    /// Whether requests to `host` (no port, lowercase) get the session: the API domain's
    /// host, or any host inside the shared domain on a label boundary.
    pub(crate) fn host_in_scope(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.');
        if host.eq_ignore_ascii_case(&self.api_host) {
            return true;
        }
        self.shared.as_ref().is_some_and(|d| d.matches(host))
    }
}

/// Builder for [`ClientConfig`].
#[derive(Debug, Clone)]
pub struct ClientConfigBuilder {
    api_domain: String,
    shared: Option<SharedDomain>,
    base_path: String,
    method: TransferMethod,
    replay_limit: usize,
    errors: SessionErrorMode,
    expiry_margin: Duration,
    relative_host: Option<String>,
    refresh_cookie: String,
    session_expired_status: u16,
}

impl ClientConfigBuilder {
    /// The shared domain (the frontend SDK's `sessionTokenBackendDomain`, the backend's
    /// `cookieDomain`): requests to it and to any of its subdomains get the session.
    /// Without it only the API domain's own host does.
    pub fn shared_domain(mut self, domain: SharedDomain) -> Self {
        self.shared = Some(domain);
        self
    }

    /// Prefix of the auth routes; default `/auth`.
    pub fn api_base_path(mut self, path: &str) -> Self {
        self.base_path = path.to_owned();
        self
    }

    /// The transfer method to ask for; default [`TransferMethod::Header`], as in
    /// SuperTokens.
    pub fn transfer_method(mut self, method: TransferMethod) -> Self {
        self.method = method;
        self
    }

    /// The largest request body the layer keeps in memory so it can send it again after a
    /// refresh; default 64 KiB. Larger or still-streaming bodies are sent once.
    pub fn replay_limit(mut self, bytes: usize) -> Self {
        self.replay_limit = bytes;
        self
    }

    /// What callers get when the session has ended or a request cannot be resent; default
    /// [`SessionErrorMode::Error`].
    pub fn session_errors(mut self, mode: SessionErrorMode) -> Self {
        self.errors = mode;
        self
    }

    /// Refresh this long before the access token's known expiry (`front-token` `ate`,
    /// corrected by the clock skew estimated from the token's `iat`); default zero.
    pub fn expiry_margin(mut self, margin: Duration) -> Self {
        self.expiry_margin = margin;
        self
    }

    /// Host to assume for requests whose URI has no authority and no `Host` header.
    ///
    /// Code generated by `tonic` builds path-only URIs when the client is made with
    /// `new(channel)`; the `Channel` adds its origin below this layer. Either build the
    /// client with `with_origin(service, origin)` or name the channel's host here.
    pub fn relative_uri_host(mut self, host: &str) -> Self {
        self.relative_host = Some(host.trim().to_ascii_lowercase());
        self
    }

    /// Name of the refresh-token cookie, if the server renamed it; default
    /// `sRefreshToken`. Used to tell whether a cookie-mode session can be refreshed.
    pub fn refresh_cookie_name(mut self, name: &str) -> Self {
        self.refresh_cookie = name.to_owned();
        self
    }

    /// The status on which a call is refreshed and retried, and a refresh answer means the
    /// session has ended (default 401): the frontend SDK's `sessionExpiredStatusCode`. Give
    /// it the value the server answers with (its `session_expired_status`). A 4xx status;
    /// checked by [`build`](Self::build).
    ///
    /// ```
    /// use tower_session_client::{ClientConfig, ClientConfigError};
    ///
    /// let config = ClientConfig::builder("https://api.example.com")
    ///     .session_expired_status(440)
    ///     .build()?;
    /// assert_eq!(config.session_expired_status(), 440);
    /// assert!(matches!(
    ///     ClientConfig::builder("https://api.example.com").session_expired_status(200).build(),
    ///     Err(ClientConfigError::SessionExpiredStatus(200))
    /// ));
    /// # Ok::<(), ClientConfigError>(())
    /// ```
    pub fn session_expired_status(mut self, status: u16) -> Self {
        self.session_expired_status = status;
        self
    }

    /// Validates the configuration.
    ///
    /// Fails when the API domain is not an `http`/`https` origin (see
    /// [`tower_domain_guard::Origin`]), when it lies
    /// outside the shared domain (the session would not reach it), when the base path is not a path,
    /// or when `session_expired_status` is not a 4xx status.
    pub fn build(self) -> Result<ClientConfig, ClientConfigError> {
        let session_expired_status = match http::StatusCode::from_u16(self.session_expired_status) {
            Ok(status) if status.is_client_error() => status,
            _ => {
                return Err(ClientConfigError::SessionExpiredStatus(
                    self.session_expired_status,
                ))
            }
        };
        // The workspace's one origin parser: a bare origin, no path, no `_`, default port dropped.
        let origin = tower_domain_guard::Origin::parse(&self.api_domain)
            .map_err(|_| ClientConfigError::ApiDomain(self.api_domain.clone()))?;
        let scheme = origin.scheme().to_owned();
        let authority = origin.authority();
        let api_host = origin.host().to_owned();
        if let Some(shared) = &self.shared {
            shared
                .check_inside("apiDomain", &self.api_domain)
                .map_err(ClientConfigError::NotInside)?;
        }
        // The server side's normaliser: "auth", "/auth" and "/auth/" are the same path.
        let base = tower_session_cookie::normalise_api_base_path(&self.base_path)
            .map_err(|_| ClientConfigError::BasePath(self.base_path.clone()))?;
        if !base.is_empty() && base.parse::<Uri>().is_err() {
            return Err(ClientConfigError::BasePath(self.base_path));
        }
        Ok(ClientConfig {
            scheme,
            authority,
            api_host,
            shared: self.shared,
            base_path: base,
            method: self.method,
            replay_limit: self.replay_limit,
            errors: self.errors,
            expiry_margin: self.expiry_margin,
            relative_host: self.relative_host,
            refresh_cookie: self.refresh_cookie,
            session_expired_status,
        })
    }
}

/// Why a [`ClientConfig`] was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientConfigError {
    /// The API domain is not an `http://` or `https://` origin
    /// ([`tower_domain_guard::Origin`]: a host, an optional port, no path).
    ApiDomain(String),
    /// The API domain lies outside the shared domain.
    NotInside(DomainError),
    /// The API base path is not a plain path.
    BasePath(String),
    /// `session_expired_status` is not a 4xx status.
    SessionExpiredStatus(u16),
}

impl fmt::Display for ClientConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ApiDomain(s) => write!(
                f,
                "api domain {s:?} is not an http:// or https:// origin (no path), e.g. \"https://api.example.com\""
            ),
            Self::NotInside(e) => write!(f, "{e}"),
            Self::BasePath(s) => write!(f, "api base path {s:?} is not a plain path, e.g. \"/auth\""),
            Self::SessionExpiredStatus(s) => {
                write!(f, "session_expired_status must be a 4xx status, got {s}")
            }
        }
    }
}

impl std::error::Error for ClientConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::NotInside(e) => Some(e),
            _ => None,
        }
    }
}
