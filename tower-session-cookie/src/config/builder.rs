//! [`SessionCookieConfigBuilder`]: the SuperTokens inputs, checked and resolved into a
//! [`SessionCookieConfig`] once.

use std::sync::Arc;

use tower_domain_guard::SharedDomain;

use super::{
    ConfigError, ConfigInner, OlderCookieDomain, SessionCookieConfig, ACCESS_PATH,
    DEFAULT_MAX_COOKIE_HEADER_BYTES,
};
use crate::{
    set_cookie::CookieAttributes,
    site::{parse_origin, ParsedOrigin, Scheme},
    syntax::is_cookie_name,
    SameSite, TransferPolicy,
};

/// Builder for [`SessionCookieConfig`]; nothing is checked until [`build`](Self::build).
///
/// Inputs mirror SuperTokens' `appInfo` (`apiDomain`, `websiteDomain`, `apiBasePath`) and
/// session recipe (`cookieDomain`, `olderCookieDomain`, `cookieSameSite`, `cookieSecure`,
/// `getTokenTransferMethod`). Every setter is optional; the ones with derived defaults
/// show how they are derived in their own docs.
///
/// ```
/// use tower_session_cookie::{SameSite, SessionCookieConfig, TransferPolicy};
///
/// let config = SessionCookieConfig::builder()
///     .api_domain("https://api.example.com")
///     .website_domain("https://www.example.com")
///     .same_site(SameSite::Strict) // default: derived from the two domains
///     .secure(true) // default: from the api_domain scheme
///     .transfer_policy(TransferPolicy::Cookie) // default: Any
///     .access_cookie_name("__Secure-at") // default: sAccessToken
///     .refresh_cookie_name("__Secure-rt") // default: sRefreshToken
///     .max_cookie_header_bytes(16 * 1024) // default: 8 KiB
///     .build()?;
/// assert_eq!(config.same_site(), SameSite::Strict);
/// assert!(config.secure());
/// assert_eq!(config.transfer_policy(), TransferPolicy::Cookie);
/// assert_eq!(config.access_cookie_name(), "__Secure-at");
/// assert_eq!(config.refresh_cookie_name(), "__Secure-rt");
/// assert_eq!(config.max_cookie_header_bytes(), 16 * 1024);
/// # Ok::<(), tower_session_cookie::ConfigError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct SessionCookieConfigBuilder {
    shared_domain: Option<SharedDomain>,
    api_domain: Option<String>,
    website_domain: Option<String>,
    api_base_path: Option<String>,
    older_cookie_domain: Option<String>,
    same_site: Option<SameSite>,
    secure: Option<bool>,
    partitioned: bool,
    transfer_policy: TransferPolicy,
    access_cookie_name: Option<String>,
    refresh_cookie_name: Option<String>,
    max_cookie_header_bytes: Option<usize>,
}

impl SessionCookieConfigBuilder {
    /// Cookies get `Domain=<shared domain>` so every API subdomain receives them.
    /// Default: none, i.e. host-only cookies. `api_domain` and `website_domain` must lie
    /// inside it (checked by `build`).
    ///
    /// ```
    /// # use tower_session_cookie::{SessionCookieConfig, SharedDomain};
    /// let config = SessionCookieConfig::builder()
    ///     .shared_domain(SharedDomain::parse(".example.com")?)
    ///     .api_domain("https://api.example.com")
    ///     .website_domain("https://example.com")
    ///     .build()?;
    /// assert_eq!(config.cookie_domain().map(|d| d.cookie_domain()), Some("example.com"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn shared_domain(mut self, domain: SharedDomain) -> Self {
        self.shared_domain = Some(domain);
        self
    }

    /// The API's URL (`appInfo.apiDomain`), e.g. `https://api.example.com`. Its scheme
    /// decides `Secure`; with `website_domain` it decides `SameSite`.
    ///
    /// ```
    /// # use tower_session_cookie::{SessionCookieConfig, SameSite};
    /// let config = SessionCookieConfig::builder()
    ///     .api_domain("https://api.example.com")
    ///     .website_domain("https://app.example.org") // another site: SameSite=None
    ///     .build()?;
    /// assert_eq!(config.same_site(), SameSite::None);
    /// assert!(config.secure());
    /// # Ok::<(), tower_session_cookie::ConfigError>(())
    /// ```
    pub fn api_domain(mut self, url: impl Into<String>) -> Self {
        self.api_domain = Some(url.into());
        self
    }

    /// The web app's URL (`appInfo.websiteDomain`), e.g. `https://www.example.com`.
    pub fn website_domain(mut self, url: impl Into<String>) -> Self {
        self.website_domain = Some(url.into());
        self
    }

    /// `appInfo.apiBasePath` (default `/auth`). Include any API-gateway prefix: the refresh
    /// cookie's `Path` is `{api_base_path}/session/refresh` and must equal what the
    /// frontend calls.
    ///
    /// ```
    /// # use tower_session_cookie::SessionCookieConfig;
    /// let config = SessionCookieConfig::builder()
    ///     .api_domain("https://api.example.com")
    ///     .website_domain("https://www.example.com")
    ///     .api_base_path("/gateway/auth/")
    ///     .build()?;
    /// assert_eq!(config.refresh_path(), "/gateway/auth/session/refresh");
    /// # Ok::<(), tower_session_cookie::ConfigError>(())
    /// ```
    pub fn api_base_path(mut self, path: impl Into<String>) -> Self {
        self.api_base_path = Some(path.into());
        self
    }

    /// The cookie domain of an earlier deployment (`olderCookieDomain`); `""` means the
    /// old cookies were host-only. Used by [`SessionTokens::clear_older_domain_cookies`]
    /// when a request carries duplicate session cookies.
    ///
    /// [`SessionTokens::clear_older_domain_cookies`]: crate::SessionTokens::clear_older_domain_cookies
    ///
    /// ```
    /// # use tower_session_cookie::{SessionCookieConfig, SharedDomain};
    /// let config = SessionCookieConfig::builder()
    ///     .shared_domain(SharedDomain::parse(".example.com")?)
    ///     .api_domain("https://api.example.com")
    ///     .website_domain("https://www.example.com")
    ///     .older_cookie_domain("") // the cookies used to be host-only on api.example.com
    ///     .build()?;
    /// assert!(config.older_cookie_domain_configured());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn older_cookie_domain(mut self, domain: impl Into<String>) -> Self {
        self.older_cookie_domain = Some(domain.into());
        self
    }

    /// Sets `SameSite` explicitly instead of deriving it (different site or scheme between
    /// `api_domain` and `website_domain` ⇒ `None`, else `Lax`).
    ///
    /// # ⚠️ Warning
    /// `SameSite` does not separate sibling subdomains; pair the layer with an origin check.
    pub fn same_site(mut self, same_site: SameSite) -> Self {
        self.same_site = Some(same_site);
        self
    }

    /// Sets `Secure` explicitly instead of deriving it from the `api_domain` scheme.
    ///
    /// # ⚠️ Warning
    /// `secure(false)` sends session cookies over plain HTTP; use it only for local development.
    pub fn secure(mut self, secure: bool) -> Self {
        self.secure = Some(secure);
        self
    }

    /// Adds `Partitioned` (CHIPS) to the cookies; implies `Secure`. Default `false`.
    ///
    /// ```
    /// # use tower_session_cookie::{SessionCookieConfig, ConfigError};
    /// # fn builder() -> tower_session_cookie::SessionCookieConfigBuilder {
    /// #     SessionCookieConfig::builder().api_domain("https://api.example.com")
    /// #         .website_domain("https://www.example.com") }
    /// let config = builder().partitioned(true).build()?;
    /// assert!(config.partitioned() && config.secure());
    /// assert!(builder().partitioned(true).secure(false).build().is_err());
    /// # Ok::<(), ConfigError>(())
    /// ```
    pub fn partitioned(mut self, partitioned: bool) -> Self {
        self.partitioned = partitioned;
        self
    }

    /// Which transfer methods are accepted. Default [`TransferPolicy::Any`].
    pub fn transfer_policy(mut self, policy: TransferPolicy) -> Self {
        self.transfer_policy = policy;
        self
    }

    /// Access cookie name (default `sAccessToken`).
    pub fn access_cookie_name(mut self, name: impl Into<String>) -> Self {
        self.access_cookie_name = Some(name.into());
        self
    }

    /// Refresh cookie name (default `sRefreshToken`).
    pub fn refresh_cookie_name(mut self, name: impl Into<String>) -> Self {
        self.refresh_cookie_name = Some(name.into());
        self
    }

    /// Limit on the total bytes of all `Cookie` headers of a request (default 8 KiB).
    ///
    /// Larger headers are not rejected: the layer reads **no** cookie tokens from them
    /// (a bearer token still counts) and flags
    /// [`SessionTokens::cookie_header_too_large`](crate::SessionTokens::cookie_header_too_large),
    /// so routes that do not need a session keep working.
    pub fn max_cookie_header_bytes(mut self, limit: usize) -> Self {
        self.max_cookie_header_bytes = Some(limit);
        self
    }

    /// Validates everything and resolves the derived attributes.
    pub fn build(self) -> Result<SessionCookieConfig, ConfigError> {
        let access_cookie_name = self
            .access_cookie_name
            .unwrap_or_else(|| "sAccessToken".to_owned());
        let refresh_cookie_name = self
            .refresh_cookie_name
            .unwrap_or_else(|| "sRefreshToken".to_owned());
        for (which, name) in [
            ("access", &access_cookie_name),
            ("refresh", &refresh_cookie_name),
        ] {
            if !is_cookie_name(name) {
                return Err(ConfigError::InvalidCookieName {
                    which,
                    name: name.clone(),
                });
            }
        }
        if access_cookie_name == refresh_cookie_name {
            return Err(ConfigError::SameCookieNames);
        }

        let api = parse_url("api_domain", self.api_domain.as_deref())?;
        let website = parse_url("website_domain", self.website_domain.as_deref())?;
        if let Some(shared) = &self.shared_domain {
            for (what, input) in [
                ("api_domain", &self.api_domain),
                ("website_domain", &self.website_domain),
            ] {
                if let Some(input) = input {
                    shared
                        .check_inside(what, input)
                        .map_err(ConfigError::OutsideSharedDomain)?;
                }
            }
        }

        let api_base_path = normalise_base_path(self.api_base_path.as_deref().unwrap_or("/auth"))?;
        let refresh_path = format!("{api_base_path}/session/refresh");

        let secure = match (self.secure, self.partitioned) {
            (Some(false), true) => return Err(ConfigError::PartitionedWithoutSecure),
            (Some(secure), _) => secure,
            (None, true) => true,
            (None, false) => match &api {
                Some(api) => api.scheme == Scheme::Https,
                None => {
                    return Err(ConfigError::MissingDomain {
                        what: "api_domain",
                        needed_for: "the Secure attribute (or call secure(..))",
                    })
                }
            },
        };
        let same_site = match self.same_site {
            Some(same_site) => same_site,
            None => derive_same_site(api.as_ref(), website.as_ref())?,
        };
        let both_local =
            matches!((&api, &website), (Some(a), Some(w)) if a.is_local() && w.is_local());
        let uses_cookies = self.transfer_policy != TransferPolicy::Header;
        if uses_cookies && same_site == SameSite::None && !secure && !both_local {
            return Err(ConfigError::SameSiteNoneWithoutSecure);
        }

        let older_cookie_domain = match self.older_cookie_domain.as_deref() {
            None => None,
            Some("") => Some(OlderCookieDomain::HostOnly),
            Some(input) => Some(OlderCookieDomain::Domain(
                SharedDomain::parse(input).map_err(|source| {
                    ConfigError::InvalidOlderCookieDomain {
                        input: input.to_owned(),
                        source,
                    }
                })?,
            )),
        };
        let same_as_current = match (&older_cookie_domain, &self.shared_domain) {
            (Some(OlderCookieDomain::HostOnly), None) => true,
            (Some(OlderCookieDomain::Domain(old)), Some(current)) => {
                old.cookie_domain() == current.cookie_domain()
            }
            _ => false,
        };
        if same_as_current {
            return Err(ConfigError::OlderCookieDomainIsCurrent);
        }

        let max_cookie_header_bytes = self
            .max_cookie_header_bytes
            .unwrap_or(DEFAULT_MAX_COOKIE_HEADER_BYTES);
        if max_cookie_header_bytes == 0 {
            return Err(ConfigError::ZeroCookieHeaderLimit);
        }

        let render = |domain: Option<&str>, path: &str| {
            CookieAttributes::render(domain, path, secure, same_site, self.partitioned)
        };
        let current_domain = self.shared_domain.as_ref().map(SharedDomain::cookie_domain);
        let older_domain = older_cookie_domain.as_ref().map(|older| match older {
            OlderCookieDomain::HostOnly => None,
            OlderCookieDomain::Domain(domain) => Some(domain.cookie_domain()),
        });
        let inner = ConfigInner {
            presized_extensions: tower_domain_guard::presized_extensions(),
            access_attributes: render(current_domain, ACCESS_PATH),
            refresh_attributes: render(current_domain, &refresh_path),
            older_access_attributes: older_domain.map(|domain| render(domain, ACCESS_PATH)),
            older_refresh_attributes: older_domain.map(|domain| render(domain, &refresh_path)),
            access_cookie_name,
            refresh_cookie_name,
            cookie_domain: self.shared_domain,
            older_cookie_domain,
            api_base_path,
            refresh_path,
            same_site,
            secure,
            partitioned: self.partitioned,
            transfer_policy: self.transfer_policy,
            max_cookie_header_bytes,
        };
        Ok(SessionCookieConfig {
            inner: Arc::new(inner),
        })
    }
}

fn parse_url(what: &'static str, input: Option<&str>) -> Result<Option<ParsedOrigin>, ConfigError> {
    input
        .map(|input| {
            parse_origin(input).map_err(|reason| ConfigError::InvalidUrl {
                what,
                input: input.to_owned(),
                reason,
            })
        })
        .transpose()
}

/// supertokens-node's rule (§7.1): different site or different scheme ⇒ `None`, else `Lax`.
fn derive_same_site(
    api: Option<&ParsedOrigin>,
    website: Option<&ParsedOrigin>,
) -> Result<SameSite, ConfigError> {
    const NEEDED_FOR: &str = "the SameSite attribute (or call same_site(..))";
    let api = api.ok_or(ConfigError::MissingDomain {
        what: "api_domain",
        needed_for: NEEDED_FOR,
    })?;
    let website = website.ok_or(ConfigError::MissingDomain {
        what: "website_domain",
        needed_for: NEEDED_FOR,
    })?;
    if api.scheme != website.scheme || api.site() != website.site() {
        Ok(SameSite::None)
    } else {
        Ok(SameSite::Lax)
    }
}

/// supertokens' `NormalisedURLPath`: leading `/` added, trailing `/` removed (so `/` → `""`).
/// The one API base-path normaliser of the workspace (cookie `Path`, SDK routes, JWKS):
/// `"auth"`, `"/auth"` and `"/auth/"` all give `"/auth"`; `""` and `"/"` give `""` (the
/// root). Refused: characters that cannot appear in a cookie `Path` or a route (controls,
/// spaces, `;`, `,`, `"`, `\\`, `?`, `#`).
///
/// ```
/// use tower_session_cookie::normalise_api_base_path;
/// assert_eq!(normalise_api_base_path("auth").unwrap(), "/auth");
/// assert_eq!(normalise_api_base_path("/gateway/auth/").unwrap(), "/gateway/auth");
/// assert_eq!(normalise_api_base_path("/").unwrap(), "");
/// assert!(normalise_api_base_path("/auth?x").is_err());
/// ```
pub fn normalise_api_base_path(input: &str) -> Result<String, ConfigError> {
    normalise_base_path(input)
}

fn normalise_base_path(input: &str) -> Result<String, ConfigError> {
    let trimmed = input.trim();
    let valid = trimmed
        .bytes()
        .all(|b| b.is_ascii_graphic() && !matches!(b, b';' | b',' | b'"' | b'\\' | b'?' | b'#'));
    if !valid {
        return Err(ConfigError::InvalidApiBasePath {
            input: input.to_owned(),
        });
    }
    let without_slashes = trimmed.trim_matches('/');
    if without_slashes.is_empty() {
        Ok(String::new())
    } else {
        Ok(format!("/{without_slashes}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builder() -> SessionCookieConfigBuilder {
        SessionCookieConfig::builder()
            .api_domain("https://api.example.com")
            .website_domain("https://www.example.com")
    }

    #[test]
    fn defaults_follow_supertokens() {
        let config = builder().build().expect("valid");
        assert_eq!(config.access_cookie_name(), "sAccessToken");
        assert_eq!(config.refresh_cookie_name(), "sRefreshToken");
        assert_eq!(config.refresh_path(), "/auth/session/refresh");
        assert_eq!(config.same_site(), SameSite::Lax);
        assert!(config.secure());
        assert_eq!(config.transfer_policy(), TransferPolicy::Any);
        assert!(!config.older_cookie_domain_configured());
        assert_eq!(config.inner.access_attributes.before_expires, "; Path=/");
        assert_eq!(
            config.inner.access_attributes.after_expires,
            "; HttpOnly; Secure; SameSite=Lax"
        );
    }

    #[test]
    fn same_site_derivation() {
        let cross_site = SessionCookieConfig::builder()
            .api_domain("https://api.example.com")
            .website_domain("https://example.org")
            .build()
            .expect("valid");
        assert_eq!(cross_site.same_site(), SameSite::None);

        let cross_scheme = SessionCookieConfig::builder()
            .api_domain("https://api.example.com")
            .website_domain("http://www.example.com")
            .build()
            .expect("valid");
        assert_eq!(cross_scheme.same_site(), SameSite::None);

        let local = SessionCookieConfig::builder()
            .api_domain("http://localhost:8080")
            .website_domain("http://127.0.0.1:3000")
            .build()
            .expect("valid");
        assert_eq!(local.same_site(), SameSite::Lax);
        assert!(!local.secure());

        // Different scheme on localhost: None without Secure is tolerated there only.
        let local_none = SessionCookieConfig::builder()
            .api_domain("http://localhost:8080")
            .website_domain("https://localhost:3000")
            .build()
            .expect("localhost exemption");
        assert_eq!(local_none.same_site(), SameSite::None);
    }

    #[test]
    fn none_without_secure_is_refused() {
        let error = SessionCookieConfig::builder()
            .api_domain("http://api.example.com")
            .website_domain("https://www.example.org")
            .build()
            .expect_err("must be refused");
        assert_eq!(error, ConfigError::SameSiteNoneWithoutSecure);
        let explicit = builder()
            .same_site(SameSite::None)
            .secure(false)
            .build()
            .expect_err("must be refused");
        assert_eq!(explicit, ConfigError::SameSiteNoneWithoutSecure);
        // Header-only transfer sets no cookies, so there is nothing to refuse.
        assert!(builder()
            .same_site(SameSite::None)
            .secure(false)
            .transfer_policy(TransferPolicy::Header)
            .build()
            .is_ok());
    }

    #[test]
    fn partitioned_forces_secure() {
        let config = SessionCookieConfig::builder()
            .api_domain("http://localhost:8080")
            .website_domain("http://localhost:3000")
            .partitioned(true)
            .build()
            .expect("valid");
        assert!(config.secure());
        assert!(config
            .inner
            .access_attributes
            .after_expires
            .ends_with("; Secure; SameSite=Lax; Partitioned"));
        assert_eq!(
            builder()
                .partitioned(true)
                .secure(false)
                .build()
                .expect_err("must be refused"),
            ConfigError::PartitionedWithoutSecure
        );
    }

    #[test]
    fn missing_domains_are_named() {
        let error = SessionCookieConfig::builder()
            .build()
            .expect_err("must be refused");
        assert!(matches!(
            error,
            ConfigError::MissingDomain {
                what: "api_domain",
                ..
            }
        ));
        let explicit = SessionCookieConfig::builder()
            .same_site(SameSite::Strict)
            .secure(true)
            .build();
        assert!(explicit.is_ok());
    }

    #[test]
    fn base_path_normalisation() {
        let root = builder().api_base_path("/").build().expect("valid");
        assert_eq!(root.refresh_path(), "/session/refresh");
        let no_slash = builder().api_base_path("api/auth").build().expect("valid");
        assert_eq!(no_slash.refresh_path(), "/api/auth/session/refresh");
        for bad in ["/auth; Domain=evil.com", "/a b", "/a\u{7f}"] {
            assert!(matches!(
                builder()
                    .api_base_path(bad)
                    .build()
                    .expect_err("must be refused"),
                ConfigError::InvalidApiBasePath { .. }
            ));
        }
    }

    #[test]
    fn cookie_names_are_validated() {
        for bad in ["", "a b", "a;b", "a=b", "é"] {
            assert!(matches!(
                builder()
                    .refresh_cookie_name(bad)
                    .build()
                    .expect_err("must be refused"),
                ConfigError::InvalidCookieName {
                    which: "refresh",
                    ..
                }
            ));
        }
        assert_eq!(
            builder()
                .access_cookie_name("same")
                .refresh_cookie_name("same")
                .build()
                .expect_err("must be refused"),
            ConfigError::SameCookieNames
        );
    }

    #[test]
    fn older_domain() {
        let shared = SharedDomain::parse("example.com").expect("valid domain");
        let host_only = builder()
            .shared_domain(shared.clone())
            .older_cookie_domain("")
            .build()
            .expect("valid");
        assert!(host_only.older_cookie_domain_configured());
        let older = host_only
            .inner
            .older_access_attributes
            .as_ref()
            .expect("older");
        assert_eq!(older.before_expires, "; Path=/");

        let narrower = builder()
            .shared_domain(shared.clone())
            .older_cookie_domain("api.example.com")
            .build()
            .expect("valid");
        let older = narrower
            .inner
            .older_refresh_attributes
            .as_ref()
            .expect("older");
        assert_eq!(
            older.before_expires,
            "; Domain=api.example.com; Path=/auth/session/refresh"
        );

        // Clearing the cookies we are about to keep using would sign everyone out.
        assert_eq!(
            builder()
                .older_cookie_domain("")
                .build()
                .expect_err("must be refused"),
            ConfigError::OlderCookieDomainIsCurrent
        );
        assert_eq!(
            builder()
                .shared_domain(shared)
                .older_cookie_domain(".example.com")
                .build()
                .expect_err("must be refused"),
            ConfigError::OlderCookieDomainIsCurrent
        );
        assert!(matches!(
            builder()
                .older_cookie_domain("exa mple.com")
                .build()
                .expect_err("must be refused"),
            ConfigError::InvalidOlderCookieDomain { .. }
        ));
    }

    #[test]
    fn zero_limit_is_refused() {
        assert_eq!(
            builder()
                .max_cookie_header_bytes(0)
                .build()
                .expect_err("must be refused"),
            ConfigError::ZeroCookieHeaderLimit
        );
    }
}
