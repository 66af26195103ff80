//! [`ConfigError`]: what the builder refuses, each naming the input and the fix.

use std::fmt;

use tower_domain_guard::DomainError;

/// A mistake in the cookie configuration, found by [`SessionCookieConfigBuilder::build`](crate::SessionCookieConfigBuilder::build).
///
/// ```
/// use tower_session_cookie::{ConfigError, SessionCookieConfig};
/// let error = SessionCookieConfig::builder()
///     .access_cookie_name("bad name")
///     .api_domain("https://api.example.com")
///     .website_domain("https://www.example.com")
///     .build()
///     .expect_err("must be refused");
/// assert!(matches!(error, ConfigError::InvalidCookieName { .. }));
/// assert!(error.to_string().contains("bad name"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// A cookie name is empty or contains characters that RFC 6265 does not allow in a name.
    InvalidCookieName {
        /// `"access"` or `"refresh"`.
        which: &'static str,
        /// The rejected name.
        name: String,
    },
    /// The access and refresh cookies were given the same name.
    SameCookieNames,
    /// `api_domain` or `website_domain` could not be parsed.
    InvalidUrl {
        /// `"api_domain"` or `"website_domain"`.
        what: &'static str,
        /// The rejected input.
        input: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// An attribute must be derived from a domain that was not given.
    MissingDomain {
        /// `"api_domain"` or `"website_domain"`.
        what: &'static str,
        /// The attribute that needs it, and how to set it explicitly instead.
        needed_for: &'static str,
    },
    /// `api_domain` or `website_domain` lies outside the shared domain.
    OutsideSharedDomain(DomainError),
    /// `older_cookie_domain` is not a valid cookie domain.
    InvalidOlderCookieDomain {
        /// The rejected input.
        input: String,
        /// Why it was rejected.
        source: DomainError,
    },
    /// `older_cookie_domain` is the current cookie domain: clearing it would sign everyone out.
    OlderCookieDomainIsCurrent,
    /// `api_base_path` contains characters that cannot appear in a cookie `Path`.
    InvalidApiBasePath {
        /// The rejected input.
        input: String,
    },
    /// `SameSite=None` without `Secure`: browsers drop such cookies.
    SameSiteNoneWithoutSecure,
    /// `Partitioned` was asked for together with `secure(false)`.
    PartitionedWithoutSecure,
    /// `max_cookie_header_bytes(0)` would ignore every cookie.
    ZeroCookieHeaderLimit,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::InvalidCookieName { which, name } => write!(
                f,
                "the {which} cookie name {name:?} is not a valid cookie name \
                 (use letters, digits and !#$%&'*+-.^_`|~)"
            ),
            ConfigError::SameCookieNames => {
                f.write_str("the access and refresh cookies must have different names")
            }
            ConfigError::InvalidUrl {
                what,
                input,
                reason,
            } => write!(f, "{what} {input:?} is not valid: {reason}"),
            ConfigError::MissingDomain { what, needed_for } => {
                write!(f, "{what} is required to derive {needed_for}")
            }
            ConfigError::OutsideSharedDomain(error) => {
                write!(
                    f,
                    "the shared cookie domain does not cover the app: {error}"
                )
            }
            ConfigError::InvalidOlderCookieDomain { input, source } => write!(
                f,
                "older_cookie_domain {input:?} is not valid ({source}); use \"\" if the old \
                 cookies were host-only"
            ),
            ConfigError::OlderCookieDomainIsCurrent => f.write_str(
                "older_cookie_domain equals the current cookie domain; clearing it would delete \
                 the live session cookies",
            ),
            ConfigError::InvalidApiBasePath { input } => write!(
                f,
                "api_base_path {input:?} contains characters not allowed in a cookie Path \
                 (`;`, spaces, control characters)"
            ),
            ConfigError::SameSiteNoneWithoutSecure => f.write_str(
                "SameSite=None requires Secure (browsers drop the cookie otherwise): serve the \
                 API over https, call secure(true), or use header transfer; only localhost/IP \
                 api and website domains are exempt",
            ),
            ConfigError::PartitionedWithoutSecure => {
                f.write_str("Partitioned cookies must be Secure; remove secure(false)")
            }
            ConfigError::ZeroCookieHeaderLimit => {
                f.write_str("max_cookie_header_bytes must be greater than zero")
            }
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConfigError::OutsideSharedDomain(error)
            | ConfigError::InvalidOlderCookieDomain { source: error, .. } => Some(error),
            _ => None,
        }
    }
}
