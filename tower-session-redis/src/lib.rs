//! Redis storage for `tower-session-refresh`: [`RedisStore`] keeps sessions and their
//! refresh-token families, [`RedisKeyStore`] the managed signing keys, both shared by any
//! number of auth processes and machines.
//!
//! # Overview
//!
//! * [`RedisStore`] implements `tower_session_refresh::store::SessionStore`. A refresh is
//!   one atomic Lua script on the session's key (one round trip), so two processes
//!   rotating one session at the same moment behave like one process rotating it twice;
//!   theft detection and revocation are atomic the same way.
//! * [`RedisKeyStore`] implements `tower_session_refresh::keystore::KeyStore`, so
//!   `ManagedKeys` can rotate one signing key set for every auth process.
//!
//! * With the feature `cluster`, `RedisStore::cluster` and `RedisKeyStore::cluster` speak
//!   to a Redis Cluster behind the same API, and every acknowledged write waits for a
//!   replica (`WAIT`, see [`WaitForReplicas`]) so that a failover signs nobody out.
//!
//! Both connect lazily and reconnect: a Redis that is down answers [`StoreError`]s (the
//! server's 503, with nothing cleared) until it is back, and access tokens keep verifying
//! without it.
//!
//! # Example
//!
//! ```no_run
//! use tower_session_redis::{RedisStore, RedisStoreConfig};
//! use tower_session_refresh::keys::{KeySet, SigningKey};
//! use tower_session_refresh::session::SessionConfig;
//! use tower_session_cookie::SessionCookieConfig;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let cookies = SessionCookieConfig::builder()
//!     .api_domain("https://api.example.com")
//!     .website_domain("https://www.example.com")
//!     .build()?;
//! let store = RedisStore::lazy("redis://127.0.0.1:6379", RedisStoreConfig::new("myapp:"))?;
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
//! # How it fits the other crates
//!
//! `tower-session-refresh` defines the store traits and ships the in-memory stores; this
//! crate is one implementation of them, tested with that crate's `conformance` suite.
//!
//! [`StoreError`]: tower_session_refresh::store::StoreError
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod connection;
mod keystore;
mod store;

pub use connection::ReplicaWait;
pub use keystore::{RedisKeyStore, RedisKeyStoreConfig};
pub use store::{RedisStore, RedisStoreConfig, WaitForReplicas};
