//! The server side of a SuperTokens-compatible session: verify access tokens on every API
//! ([`RequireSessionLayer`]), rotate refresh tokens ([`RefreshService`]), sign out
//! ([`SignOutService`]), and create sessions from a login handler ([`SessionManager`]),
//! all sharing one validated [`SessionConfig`].
//!
//! # Stack
//!
//! ```text
//! CorsLayer (cors::allowed_headers / exposed_headers)
//!  -> HostGuard / OriginGuard           (tower-domain-guard)
//!   -> SessionCookieLayer               (tower-session-cookie: SessionTokens handle)
//!    -> RequireSessionLayer             (this module: Session in the extensions)
//!     -> handlers
//!    -> RefreshService  at {base}/session/refresh
//!    -> SignOutService  at {base}/signout
//! ```
//!
//! # Example: an axum auth server
//!
#![cfg_attr(feature = "axum", doc = "```")]
#![cfg_attr(not(feature = "axum"), doc = "```ignore")]
//! use axum::{extract::State, routing::{get, post}, Router};
//! use tower_session_cookie::{SessionCookieConfig, SessionCookieLayer, SessionTokens, SharedDomain};
//! use tower_session_refresh::keys::{KeySet, SigningKey};
//! use tower_session_refresh::session::{
//!     RefreshService, RequireSessionLayer, Session, SessionConfig, SessionError,
//!     SessionManager, SignOutService,
//! };
//! use tower_session_refresh::store::MemoryStore;
//!
//! async fn login(
//!     State(sessions): State<SessionManager>,
//!     tokens: SessionTokens,
//! ) -> Result<&'static str, SessionError> {
//!     // ... check the credentials ...
//!     sessions.create(&tokens, "user-1", serde_json::json!({})).await?;
//!     Ok(r#"{"status":"OK"}"#)
//! }
//!
//! async fn me(session: Session) -> String {
//!     session.user_id().to_owned()
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let cookies = SessionCookieConfig::builder()
//!     .shared_domain(SharedDomain::parse(".example.com")?)
//!     .api_domain("https://api.example.com")
//!     .website_domain("https://www.example.com")
//!     .build()?;
//! let config = SessionConfig::builder(cookies.clone())
//!     .api_domain("https://api.example.com")
//!     .keys(KeySet::new(SigningKey::generate_ed25519("k1")?))
//!     .store(MemoryStore::new())
//!     .build()?;
//! let manager = SessionManager::new(config.clone())?;
//!
//! let protected = Router::new()
//!     .route("/me", get(me))
//!     .layer(RequireSessionLayer::new(config.clone()));
//! let app: Router = Router::new()
//!     .route("/login", post(login))
//!     .with_state(manager)
//!     .merge(protected)
//!     .route_service(config.refresh_path(), RefreshService::new(config.clone())?)
//!     .route_service(config.signout_path(), SignOutService::new(config.clone())?)
//!     .layer(SessionCookieLayer::new(cookies));
//! # drop(app);
//! # Ok(())
//! # }
//! ```
//!
//! A verify-only API server (another subdomain) builds its [`SessionConfig`] with
//! [`verifier`](SessionConfigBuilder::verifier) over a `RemoteJwks` (feature `remote-jwks`)
//! and no store, and mounts only [`RequireSessionLayer`].
//!
//! # Hooks
//!
//! On [`SessionConfigBuilder`] (and `SharedSessionBuilder`): `on_token_theft(user_id,
//! session_handle)`, `on_unauthorised(reason)` and `on_invalid_claim(errors)` (each may
//! return the response to send instead), and `on_refresh(info, payload)`, which may change
//! the new access token's payload. Each call is also a `tracing` event. Differences from
//! supertokens-node kept on purpose: `on_token_theft` is told, it does not answer (the
//! response stays 401 `token theft detected`, so the SDK signs out as it expects); the
//! custom-response hooks get the reason or the failed validators, not the request, and do
//! not run for gRPC calls; `on_refresh` is synchronous and its change goes into the new
//! token only (not the store), so it decides again at every refresh.
//!
//! # Logging
//!
//! `tracing` events: refusals at debug, store errors at warn, token theft at warn with the
//! session handle. Token values never appear in events or `Debug` output.

mod body;
mod config;
pub mod cors;
mod error;
mod hooks;
mod issue;
mod manager;
mod payload;
mod refresh;
mod require;
mod signout;
mod verify;

use crate::store;

#[cfg(feature = "axum")]
mod axum;

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use self::axum::{NoSession, SessionRejection};
pub use body::{JsonBody, SessionBody};
pub use config::{
    AntiCsrf, SessionConfig, SessionConfigBuilder, SessionConfigError,
    DEFAULT_ACCESS_TOKEN_LIFETIME, DEFAULT_MAX_USER_ID_BYTES, DEFAULT_REFRESH_TOKEN_LIFETIME,
    MAX_ACCESS_TOKEN_LIFETIME,
};
pub use error::{ClaimValidationError, SessionError};
pub(crate) use hooks::Hooks;
pub use hooks::RefreshInfo;
pub use manager::SessionManager;
pub use refresh::RefreshService;
pub use require::{ClaimValidator, RequireSession, RequireSessionLayer, ResponseFuture};
pub use signout::SignOutService;
pub use verify::Session;
