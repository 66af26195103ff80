//! Helpers shared by the workspace's integration tests, the example's tests and the
//! benches (not published).
//!
//! * [`serve`]: an axum router, a hyper service or a tonic server on `127.0.0.1:0`.
//! * [`redis`]: a `redis-server` of the test's own on a free port ([`redis::OwnRedis`]),
//!   for outages and restarts.
//! * [`postgres`]: a unique schema on the shared PostgreSQL ([`postgres::TestSchema`]) and a
//!   server of the test's own ([`postgres::OwnPostgres`], `initdb` + `pg_ctl`) for outages.
//! * [`auth`]: one auth server (sign-in, refresh, sign-out, JWKS, a protected route)
//!   composed from the real layers, and [`browser::Browser`], a client with a cookie jar
//!   that sends what the SuperTokens SDK sends.
//! * [`multi_host`]: api/api2/api3 behind one host guard, for the client layer's tests,
//!   and [`by_host`](multi_host::by_host) routing.
//! * [`theft`]: theft-detection scenarios any store must pass; [`logs`] captures what a
//!   server logged.
//! * [`model_store`]: a reference model of the refresh-token rotation rules, driven by
//!   proptest against any `SessionStore`.
//! * [`tls`] (feature `tls`): a CA and certificates made with rcgen, an HTTPS loopback server.
//!
//! Test code: failures panic with a message saying what broke.
#![forbid(unsafe_code)]
#![allow(clippy::unwrap_used, missing_docs, missing_debug_implementations)]

pub mod auth;
pub mod browser;
pub mod logs;
pub mod model_store;
pub mod multi_host;
pub mod postgres;
pub mod redis;
pub mod serve;
pub mod theft;
#[cfg(feature = "tls")]
pub mod tls;
