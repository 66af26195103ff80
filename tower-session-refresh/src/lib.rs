//! Access tokens verified without a store, rotating refresh tokens with theft detection,
//! and the SuperTokens-compatible refresh and sign-out endpoints, as tower services.
//!
//! # Quick start: [`SharedSession`]
//!
//! The seed's whole setup (an auth API, more APIs on sibling subdomains, a website, one
//! sign-in for all) is one [`SharedSession`]: the cookie domain, `api_domain` and
//! `website_domain` given once, checked once by `build()`, and one [`layer()`](SharedSession::layer)
//! that puts the host guard, CORS, the origin guard, the cookie layer and the SDK's own
//! routes (refresh, sign-out, JWKS) around the service in an order that cannot be wrong.
//! This crate alone (feature `axum`) is enough in `Cargo.toml`:
//!
#![cfg_attr(feature = "axum", doc = "```no_run")]
#![cfg_attr(not(feature = "axum"), doc = "```ignore")]
#![doc = include_str!("../examples/seed_axum.rs")]
//! ```
//!
//! A verify-only API server (another subdomain, another process) builds its
//! `SharedSession` with `verify_only(jwks_url)` (feature `remote-jwks`): no store, no
//! secret, no SDK routes. Use the separate layers below instead when a deployment needs
//! what the facade does not offer: another CORS policy, several cookie configurations in
//! one process, SDK routes mounted elsewhere, or a layer left out.
//!
//! # Overview
//!
//! The session layer of a multi-API deployment (`api.example.com`, `api2.example.com`, …
//! sharing one sign-in). It speaks the wire protocol of the stock SuperTokens frontend SDK
//! (`supertokens-website`, and the React/Angular/Vue SDKs on top of it), so an unmodified
//! SuperTokens frontend talks to a pure-Rust backend.
//!
//! * [`keys`] and [`token`]: short-lived access tokens (JWT, SuperTokens v5 claims) signed
//!   with EdDSA (default), RS256 or HS256; the algorithm is fixed by the key. Every API
//!   verifies them on its own, with a bounded cache of verified tokens.
//! * [`jwks`]: the public keys at `{base}/jwt/jwks.json`, the OpenID discovery document,
//!   and `RemoteJwks` (feature `remote-jwks`: HTTPS with rustls) so other API servers
//!   verify with neither secret nor store.
//! * [`claims`]: session claims in the SDKs' `{"v", "t"}` shape (`BooleanClaim`,
//!   `PrimitiveClaim`, `PrimitiveArrayClaim`) with supertokens-node's validators, global
//!   or per route, refetched when stale; `Session::assert_claims`, `set_claim_value`,
//!   `merge_into_access_token_payload`.
//! * [`store`]: refresh-token families, rotated atomically with theft detection:
//!   [`store::MemoryStore`] for one process, `RedisStore` (crate `tower-session-redis`)
//!   for many.
//! * [`keystore`]: where signing keys live between restarts and across processes, and
//!   [`keystore::ManagedKeys`], which generates, rotates and retires them on a schedule.
//! * [`session`]: [`session::RequireSessionLayer`] on protected routes,
//!   [`session::RefreshService`] and [`session::SignOutService`] for the SDK's routes,
//!   [`session::SessionManager`] for login handlers.
//!
//! The per-request token handle comes from `tower-session-cookie`'s `SessionCookieLayer`,
//! which must sit outside these layers; `tower-domain-guard`'s `HostGuardLayer` goes
//! outside that. The [`session`] module docs have a complete axum auth server, and
//! `examples/multi-api` in the repository composes everything with two topologies.
//!
//! Items are reached through their module (`tower_session_refresh::session::SessionConfig`),
//! as in tower-http.
//!
//! # Feature flags
//!
//! | feature | what it adds |
//! |---|---|
//! | `axum` | extractors for [`session::Session`] and `IntoResponse` for [`session::SessionError`] |
//! | `remote-jwks` | `RemoteJwks`: verification keys fetched from an auth server's JWKS over HTTPS (rustls), or by OpenID discovery |
//! | `conformance` | `store::conformance`: the checks a `SessionStore` implementation runs in its tests |
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod claims;
pub mod jwks;
pub mod keys;
pub mod keystore;
pub mod session;
mod shared;
pub mod store;
pub mod token;

pub use shared::{
    SdkFuture, SdkRoutes, SdkRoutesLayer, SharedSession, SharedSessionBuilder, SharedSessionError,
    SharedSessionLayer, SharedSessionService, DEFAULT_KEY_ROTATION,
};

// What the seed's setup needs, at the root: one crate in `Cargo.toml`.
pub use keys::SigningKey;
pub use keystore::KeyStore;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use session::SessionRejection;
pub use session::{AntiCsrf, Session, SessionError};
pub use store::{MemoryStore, SessionInfo, SessionStore};
pub use tower_domain_guard::{EffectiveHost, SharedDomain};
pub use tower_session_cookie::SessionTokens;
