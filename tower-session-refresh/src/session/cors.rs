//! Header names for the CORS layer (spec 4.4): what the SDK sends, and what it must be
//! able to read. With credentialed requests `*` does not work, so list them.
//!
//! ```
//! use http::{header, Method};
//! use tower_http::cors::{AllowOrigin, CorsLayer};
//! use tower_session_refresh::session::cors;
//!
//! let cors = CorsLayer::new()
//!     .allow_origin(AllowOrigin::exact("https://www.example.com".parse().unwrap()))
//!     .allow_credentials(true)
//!     .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
//!     .allow_headers(cors::allowed_headers())
//!     .expose_headers(cors::exposed_headers());
//! # drop(cors);
//! ```

use http::header::{HeaderName, AUTHORIZATION, CONTENT_TYPE};
use tower_session_cookie::headers;

/// Request headers the SDK sends: `content-type`, `rid`, `fdi-version`, `anti-csrf`,
/// `authorization`, `st-auth-mode` (supertokens-node's `getAllCORSHeaders` plus
/// `content-type`).
///
/// ```
/// let names = tower_session_refresh::session::cors::allowed_headers();
/// assert!(names.iter().any(|n| n == "st-auth-mode"));
/// ```
pub fn allowed_headers() -> [HeaderName; 6] {
    [
        CONTENT_TYPE,
        HeaderName::from_static(headers::RID),
        HeaderName::from_static(headers::FDI_VERSION),
        HeaderName::from_static(headers::ANTI_CSRF),
        AUTHORIZATION,
        HeaderName::from_static(headers::ST_AUTH_MODE),
    ]
}

/// Response headers the SDK must read: `front-token`, `anti-csrf`, `st-access-token`,
/// `st-refresh-token` (`tower_session_cookie::headers::EXPOSED`).
///
/// ```
/// let names = tower_session_refresh::session::cors::exposed_headers();
/// assert_eq!(names[0], "front-token");
/// ```
pub fn exposed_headers() -> [HeaderName; 4] {
    headers::EXPOSED.map(HeaderName::from_static)
}
