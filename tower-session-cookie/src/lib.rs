//! A tower layer that reads and writes SuperTokens-compatible session tokens, so the
//! stock `supertokens-website` frontend SDK works against a Rust backend, with one login
//! shared by many API subdomains (`Domain=` a [`SharedDomain`]).
//!
//! Most services want `tower_session_refresh::SharedSession`, which builds this layer
//! from the same configuration as the rest of the stack and puts it in the right place;
//! use the layer on its own to compose a stack by hand.
//!
//! # Overview
//!
//! [`SessionCookieLayer`] parses each request once (the `Cookie` headers, looking only at
//! the two session cookie names; `Authorization: Bearer`; `st-auth-mode`) into a
//! [`SessionTokens`] handle in the request extensions. Services further in (the session
//! verifier, the refresh and sign-out services, a login handler) read tokens from the
//! handle and record new ones on it; the layer's response future writes those changes as
//!
//! - `Set-Cookie: sAccessToken=…; Domain=…; Path=/; Expires=…; HttpOnly; Secure; SameSite=…`
//!   and the path-scoped `sRefreshToken` (clearing cookies use the very same attributes),
//! - or header mode `st-access-token` / `st-refresh-token`,
//! - `front-token` (or `front-token: remove`), `anti-csrf`,
//! - `Access-Control-Expose-Headers` (merged, no duplicates) and `Cache-Control: no-store`.
//!
//! Responses for which nothing was recorded pass through untouched. Bad input (malformed,
//! non-UTF-8, oversized or duplicated cookies, odd `st-auth-mode` values) never fails the
//! request: it only means fewer tokens were read. See
//! [`max_cookie_header_bytes`](SessionCookieConfigBuilder::max_cookie_header_bytes) for
//! the size limit.
//!
//! The layer is generic over request and response bodies and keeps the inner service's
//! error type, so it stacks the same way in axum, tonic and hyper.
//!
//! # Example: axum
//!
//! With the `axum` feature, [`SessionTokens`] is an extractor:
//!
#![cfg_attr(feature = "axum", doc = "```")]
#![cfg_attr(not(feature = "axum"), doc = "```ignore")]
//! use axum::{routing::post, Router};
//! use tower_session_cookie::{
//!     FrontToken, SessionCookieConfig, SessionCookieLayer, SessionTokens, SharedDomain,
//! };
//! use std::time::{Duration, SystemTime};
//!
//! async fn login(tokens: SessionTokens) -> &'static str {
//!     // After checking credentials and creating the session:
//!     let method = tokens.method_for_new_session(); // st-auth-mode, else header
//!     tokens.set_access_token(method, "header.payload.signature".into());
//!     tokens.set_refresh_token(
//!         method,
//!         "handle.secret".into(),
//!         SystemTime::now() + Duration::from_secs(100 * 24 * 3600),
//!     );
//!     tokens.set_front_token(FrontToken::new("user-1", 1_700_000_000_000, &serde_json::json!({})));
//!     "{}"
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let config = SessionCookieConfig::builder()
//!     .shared_domain(SharedDomain::parse(".example.com")?)
//!     .api_domain("https://api.example.com")
//!     .website_domain("https://www.example.com")
//!     .build()?;
//! let app: Router = Router::new()
//!     .route("/login", post(login))
//!     .layer(SessionCookieLayer::new(config));
//! # drop(app);
//! # Ok(())
//! # }
//! ```
//!
//! # Example: tonic
//!
//! ```
//! use tonic::transport::Server;
//! use tower_session_cookie::{SessionCookieConfig, SessionCookieLayer};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let config = SessionCookieConfig::builder()
//!     .api_domain("https://grpc.example.com")
//!     .website_domain("https://www.example.com")
//!     .build()?;
//! let (_reporter, health) = tonic_health::server::health_reporter();
//! // Handlers find `SessionTokens` in `request.extensions()`.
//! let router = Server::builder()
//!     .layer(SessionCookieLayer::new(config))
//!     .add_service(health);
//! # drop(router);
//! # Ok(())
//! # }
//! ```
//!
//! # Example: hyper
//!
//! ```
//! use std::convert::Infallible;
//! use bytes::Bytes;
//! use http::{header, Request, Response};
//! use http_body_util::{BodyExt, Empty, Full};
//! use hyper_util::{rt::TokioIo, service::TowerToHyperService};
//! use tower::{service_fn, ServiceBuilder};
//! use tower_session_cookie::{SessionCookieConfig, SessionCookieLayer, SessionTokens};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let config = SessionCookieConfig::builder()
//!     .api_domain("http://localhost:8080")
//!     .website_domain("http://localhost:3000")
//!     .build()?;
//! let service = ServiceBuilder::new()
//!     .layer(SessionCookieLayer::new(config))
//!     .service(service_fn(|request: Request<hyper::body::Incoming>| async move {
//!         let tokens = request.extensions().get::<SessionTokens>();
//!         let seen = tokens.and_then(|t| t.access_token()).map_or(0, |t| t.len());
//!         Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(seen.to_string()))))
//!     }));
//!
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let address = listener.local_addr()?;
//! tokio::spawn(async move {
//!     if let Ok((stream, _)) = listener.accept().await {
//!         let hyper_service = TowerToHyperService::new(service);
//!         let _ = hyper::server::conn::http1::Builder::new()
//!             .serve_connection(TokioIo::new(stream), hyper_service)
//!             .await;
//!     }
//! });
//!
//! let stream = tokio::net::TcpStream::connect(address).await?;
//! let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
//! tokio::spawn(connection);
//! let request = Request::get("/")
//!     .header(header::HOST, "localhost")
//!     .header(header::COOKIE, "sAccessToken=abc.def")
//!     .body(Empty::<Bytes>::new())?;
//! let response = sender.send_request(request).await?;
//! let body = response.into_body().collect().await?.to_bytes();
//! assert_eq!(body, "7");
//! # Ok(())
//! # }
//! ```
//!
//! # Feature flags
//!
//! - `axum`: [`SessionTokens`] implements `axum_core::extract::FromRequestParts`; the
//!   rejection [`MissingSessionCookieLayer`] (a `500 text/plain` naming the missing layer)
//!   only happens when the layer is not installed.
//!
//! # Logging
//!
//! Debug-level `tracing` events report ignored input and written header names; token
//! values never appear in events or in `Debug` output, and token-bearing response headers
//! are marked sensitive.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod config;
#[cfg(feature = "axum")]
mod extract;
mod front_token;
mod http_date;
mod layer;
mod method;
mod pending;
mod received;
mod request;
mod response;
mod set_cookie;
mod site;
mod syntax;
mod tokens;

pub use config::{
    normalise_api_base_path, ConfigError, SessionCookieConfig, SessionCookieConfigBuilder,
    DEFAULT_MAX_COOKIE_HEADER_BYTES,
};
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use extract::MissingSessionCookieLayer;
pub use front_token::{DecodedFrontToken, FrontToken, FrontTokenError};
pub use layer::{ResponseFuture, SessionCookie, SessionCookieLayer};
pub use method::{TransferMethod, TransferPolicy};
pub use received::ReceivedToken;
pub use request::MAX_BEARER_BYTES;

/// The legacy cookie of supertokens-node sessions from before CDI 2.18; see
/// [`SessionTokens::has_legacy_id_refresh_cookie`].
pub const LEGACY_ID_REFRESH_COOKIE: &str = "sIdRefreshToken";
pub use set_cookie::SameSite;
pub use tokens::{ClearScope, SessionTokens};
pub use tower_domain_guard::{DomainError, SharedDomain};

/// Names of the headers this crate reads and writes, for CORS configuration.
pub mod headers {
    /// Request: the SDK's preferred transfer method (`cookie` / `header`).
    pub const ST_AUTH_MODE: &str = "st-auth-mode";
    /// Response (header mode): the access token; empty to clear.
    pub const ST_ACCESS_TOKEN: &str = "st-access-token";
    /// Response (header mode): the refresh token; empty to clear.
    pub const ST_REFRESH_TOKEN: &str = "st-refresh-token";
    /// Response: base64 JSON `{uid, ate, up}`, or `remove`.
    pub const FRONT_TOKEN: &str = "front-token";
    /// Request and response: the anti-CSRF token.
    pub const ANTI_CSRF: &str = "anti-csrf";
    /// Request: the SDK's recipe id (any value satisfies the `ViaCustomHeader` check).
    pub const RID: &str = "rid";
    /// Request: the frontend-driver-interface versions the SDK speaks.
    pub const FDI_VERSION: &str = "fdi-version";
    /// Request headers the SDK sends besides `content-type` and `authorization`
    /// (`Access-Control-Allow-Headers` needs them listed: credentialed CORS has no `*`).
    pub const SDK_REQUEST: [&str; 4] = [RID, FDI_VERSION, ANTI_CSRF, ST_AUTH_MODE];
    /// Response headers the browser must be allowed to read
    /// (`Access-Control-Expose-Headers`); the layer adds the ones it writes itself.
    pub const EXPOSED: [&str; 4] = [FRONT_TOKEN, ANTI_CSRF, ST_ACCESS_TOKEN, ST_REFRESH_TOKEN];
}
