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
        HeaderName::from_static("rid"),
        HeaderName::from_static("fdi-version"),
        HeaderName::from_static("anti-csrf"),
        AUTHORIZATION,
        HeaderName::from_static("st-auth-mode"),
    ]
}

/// Response headers the SDK must read: `front-token`, `anti-csrf`, `st-access-token`,
/// `st-refresh-token`.
///
/// ```
/// let names = tower_session_refresh::session::cors::exposed_headers();
/// assert_eq!(names[0], "front-token");
/// ```
pub fn exposed_headers() -> [HeaderName; 4] {
    [
        HeaderName::from_static("front-token"),
        HeaderName::from_static("anti-csrf"),
        HeaderName::from_static("st-access-token"),
        HeaderName::from_static("st-refresh-token"),
    ]
}
