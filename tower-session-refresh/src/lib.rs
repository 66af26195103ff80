//! Access tokens verified without a store, rotating refresh tokens with theft detection,
//! and the SuperTokens-compatible refresh and sign-out endpoints, as tower services.
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

pub mod jwks;
pub mod keys;
pub mod keystore;
pub mod session;
pub mod store;
pub mod token;
