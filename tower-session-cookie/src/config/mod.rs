//! [`SessionCookieConfig`]: every cookie attribute, validated once by the builder.

mod builder;
mod error;

use std::{fmt, sync::Arc};

use tower_domain_guard::SharedDomain;

use crate::{set_cookie::CookieAttributes, SameSite, TransferPolicy};

pub use builder::{normalise_api_base_path, SessionCookieConfigBuilder};
pub use error::ConfigError;

/// Where the cookies of an older configuration lived.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum OlderCookieDomain {
    /// The old cookies had no `Domain` attribute.
    HostOnly,
    /// The old cookies had `Domain=<this>`.
    Domain(SharedDomain),
}

/// Validated cookie configuration. Cheap to clone (one `Arc`).
///
/// Built with [`SessionCookieConfig::builder`]; a built value cannot be wrong, so a
/// request never meets a configuration error.
///
/// ```
/// use tower_session_cookie::{SameSite, SessionCookieConfig, SharedDomain};
///
/// let config = SessionCookieConfig::builder()
///     .shared_domain(SharedDomain::parse(".example.com")?)
///     .api_domain("https://api.example.com")
///     .website_domain("https://www.example.com")
///     .build()?;
/// assert_eq!(config.access_cookie_name(), "sAccessToken");
/// assert_eq!(config.refresh_path(), "/auth/session/refresh");
/// assert_eq!(config.same_site(), SameSite::Lax);
/// assert!(config.secure());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct SessionCookieConfig {
    pub(crate) inner: Arc<ConfigInner>,
}

pub(crate) struct ConfigInner {
    /// Cloned into requests that arrive without extensions (see
    /// [`tower_domain_guard::presized_extensions`]).
    pub(crate) presized_extensions: http::Extensions,
    pub(crate) access_cookie_name: String,
    pub(crate) refresh_cookie_name: String,
    pub(crate) cookie_domain: Option<SharedDomain>,
    pub(crate) older_cookie_domain: Option<OlderCookieDomain>,
    pub(crate) api_base_path: String,
    pub(crate) refresh_path: String,
    pub(crate) same_site: SameSite,
    pub(crate) secure: bool,
    pub(crate) partitioned: bool,
    pub(crate) transfer_policy: TransferPolicy,
    pub(crate) max_cookie_header_bytes: usize,
    pub(crate) access_attributes: CookieAttributes,
    pub(crate) refresh_attributes: CookieAttributes,
    pub(crate) older_access_attributes: Option<CookieAttributes>,
    pub(crate) older_refresh_attributes: Option<CookieAttributes>,
}

/// `Path` of the access-token cookie (supertokens' `accessTokenPath` default).
pub(crate) const ACCESS_PATH: &str = "/";

/// Default limit for the sum of all `Cookie` header bytes (see the builder).
pub const DEFAULT_MAX_COOKIE_HEADER_BYTES: usize = 8 * 1024;

impl SessionCookieConfig {
    /// Starts a builder with the SuperTokens defaults.
    ///
    /// ```
    /// use tower_session_cookie::SessionCookieConfig;
    /// let config = SessionCookieConfig::builder()
    ///     .api_domain("http://localhost:8080")
    ///     .website_domain("http://localhost:3000")
    ///     .build()?;
    /// assert!(!config.secure());
    /// # Ok::<(), tower_session_cookie::ConfigError>(())
    /// ```
    pub fn builder() -> SessionCookieConfigBuilder {
        SessionCookieConfigBuilder::default()
    }

    /// Name of the access-token cookie (default `sAccessToken`).
    pub fn access_cookie_name(&self) -> &str {
        &self.inner.access_cookie_name
    }

    /// Name of the refresh-token cookie (default `sRefreshToken`).
    pub fn refresh_cookie_name(&self) -> &str {
        &self.inner.refresh_cookie_name
    }

    /// `Path` of the access-token cookie: always `/`.
    pub fn access_path(&self) -> &str {
        ACCESS_PATH
    }

    /// Normalised API base path (default `/auth`; `""` when configured as `/`).
    pub fn api_base_path(&self) -> &str {
        &self.inner.api_base_path
    }

    /// `{api_base_path}/session/refresh`: the refresh route and the refresh cookie's `Path`.
    pub fn refresh_path(&self) -> &str {
        &self.inner.refresh_path
    }

    /// The shared cookie domain, or `None` for host-only cookies.
    pub fn cookie_domain(&self) -> Option<&SharedDomain> {
        self.inner.cookie_domain.as_ref()
    }

    /// The resolved `SameSite` attribute.
    pub fn same_site(&self) -> SameSite {
        self.inner.same_site
    }

    /// Whether cookies carry `Secure`.
    pub fn secure(&self) -> bool {
        self.inner.secure
    }

    /// Whether cookies carry `Partitioned` (CHIPS).
    pub fn partitioned(&self) -> bool {
        self.inner.partitioned
    }

    /// Which transfer methods are accepted.
    pub fn transfer_policy(&self) -> TransferPolicy {
        self.inner.transfer_policy
    }

    /// Whether an older cookie domain (possibly host-only) is configured for clearing.
    pub fn older_cookie_domain_configured(&self) -> bool {
        self.inner.older_cookie_domain.is_some()
    }

    /// Limit on the total size of the request's `Cookie` headers.
    pub fn max_cookie_header_bytes(&self) -> usize {
        self.inner.max_cookie_header_bytes
    }
}

impl fmt::Debug for SessionCookieConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        f.debug_struct("SessionCookieConfig")
            .field("access_cookie_name", &inner.access_cookie_name)
            .field("refresh_cookie_name", &inner.refresh_cookie_name)
            .field("cookie_domain", &inner.cookie_domain)
            .field("older_cookie_domain", &inner.older_cookie_domain)
            .field("refresh_path", &inner.refresh_path)
            .field("same_site", &inner.same_site)
            .field("secure", &inner.secure)
            .field("partitioned", &inner.partitioned)
            .field("transfer_policy", &inner.transfer_policy)
            .field("max_cookie_header_bytes", &inner.max_cookie_header_bytes)
            .finish()
    }
}
