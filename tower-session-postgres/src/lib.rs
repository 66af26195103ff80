//! PostgreSQL storage for `tower-session-refresh`: [`PostgresStore`] keeps sessions and
//! their refresh-token families, [`PostgresKeyStore`] the managed signing keys, both shared
//! by any number of auth processes and machines, durable as the database is.
//!
//! # Overview
//!
//! * [`PostgresStore`] implements `tower_session_refresh::store::SessionStore`. A refresh is
//!   one call of a PL/pgSQL function that locks the session row (`SELECT … FOR UPDATE`):
//!   one round trip, and two processes rotating one session at the same moment behave like
//!   one process rotating it twice; theft detection and revocation are atomic the same way.
//!   Refresh tokens are kept only as SHA-256 hashes.
//! * [`PostgresKeyStore`] implements `tower_session_refresh::keystore::KeyStore`, so
//!   `ManagedKeys` can rotate one signing key set for every auth process.
//! * [`PostgresStore::migrate`] creates (or upgrades) everything in a schema you name,
//!   idempotently; [`PostgresStore::sweep_expired`] deletes expired rows in bounded batches.
//!
//! Both connect lazily through a pool and reconnect: a PostgreSQL that is down answers
//! [`StoreError`]s (the server's 503, with nothing cleared) until it is back, and access
//! tokens keep verifying without it.
//!
//! # Driver
//!
//! `tokio-postgres` with a `deadpool-postgres` pool: the whole store is a handful of fixed
//! statements and two functions, so it needs neither `sqlx`'s compile-time checked queries
//! nor its larger dependency tree, and `tokio-postgres` exposes what matters here (prepared
//! statements cached per connection, plain `NoTls` TCP, a connection that reports being
//! closed, which the pool uses to drop dead connections after an outage).
//!
//! # Example
//!
//! ```no_run
//! use tower_session_postgres::{PostgresConfig, PostgresStore};
//! use tower_session_refresh::keys::{KeySet, SigningKey};
//! use tower_session_refresh::session::SessionConfig;
//! use tower_session_cookie::SessionCookieConfig;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let cookies = SessionCookieConfig::builder()
//!     .api_domain("https://api.example.com")
//!     .website_domain("https://www.example.com")
//!     .build()?;
//! let store = PostgresStore::connect(
//!     "postgres://auth@127.0.0.1:5432/app",
//!     PostgresConfig::new("auth_sessions"),
//! )
//! .await?;
//! let config = SessionConfig::builder(cookies)
//!     .api_domain("https://api.example.com")
//!     .keys(KeySet::new(SigningKey::generate_ed25519("k1")?))
//!     .store(store)
//!     .build()?;
//! # drop(config);
//! # Ok(())
//! # }
//! ```
//!
//! [`StoreError`]: tower_session_refresh::store::StoreError
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod db;
mod keystore;
mod store;

pub use db::PostgresConfig;
pub use keystore::PostgresKeyStore;
pub use store::PostgresStore;
