//! Signing keys kept in a store, shared by every auth process and rotated on a schedule
//! without signing anyone out (SuperTokens' core keeps its keys in its database the same way).
//!
//! # How it works
//!
//! [`ManagedKeys`] owns a [`KeySet`](crate::keys::KeySet) (the one given to
//! [`SessionConfig`](crate::session::SessionConfig), the
//! [`JwksService`](crate::jwks::JwksService) and the verifier; clones share state, so
//! updating it updates all of them) and keeps it in step with a [`StoredKeySet`] kept in a
//! [`KeyStore`]:
//!
//! - **Start**: the first process to start creates the stored set (one Ed25519 key) with an
//!   atomic compare-and-set, so two processes starting at the same instant end up with one
//!   set; the loser of the race simply loads the winner's set.
//! - **Rotation** (default every 7 days, [`DEFAULT_ROTATION_INTERVAL`]): when the newest
//!   key's `retire_at` has passed, a process appends a new key (compare-and-set again: two
//!   processes rotate once). Older keys stop signing but keep verifying until every access
//!   token they signed has expired (`drop_at` = the rotation time + access-token lifetime +
//!   leeway + one maintenance period, the longest another process may keep signing with the
//!   old key before it notices the rotation, + 1 s of slack); then they are
//!   dropped from the store, the key set and the JWKS.
//! - **Reload**: a background task runs [`ManagedKeys::maintain`] every
//!   `min(interval / 4, 30 s)`; a token with an unknown `kid` makes the verifier reload at
//!   once (at most once per cool-down) when the verifier uses [`ManagedKeys`] as its
//!   [`KeySource`](crate::token::KeySource). Verify-only API servers follow through
//!   `RemoteJwks`' unknown-`kid` refetch; the JWKS lists exactly the keys still in use.
//! - **Store down at start**: [`ManagedKeys::start`] does not fail. The key set stays
//!   empty (signing fails with [`TokenError::NoSigningKey`](crate::token::TokenError::NoSigningKey),
//!   verification with [`VerifyError::KeysUnavailable`](crate::token::VerifyError::KeysUnavailable),
//!   both answered 503) and the background task keeps retrying until the store answers.
//!
//! # Stored layout
//!
//! One value, versioned JSON (the Redis store keeps it in the hash `{prefix}keys`, fields
//! `version` and `set`):
//!
//! ```json
//! {"format":1,"version":3,"keys":[
//!   {"kid":"…","alg":"EdDSA","created_at_ms":1700000000000,"retire_at_ms":1700604800000,
//!    "drop_at_ms":1700608401000,"pkcs8":"MFMCAQEwBQYDK2VwBCIEI…"},
//!   {"kid":"…","alg":"EdDSA","created_at_ms":1700604800000,"retire_at_ms":1701209600000,
//!    "drop_at_ms":null,"pkcs8":"…"}]}
//! ```
//!
//! Keys are in creation order; the **last** one signs (clock skew between processes cannot
//! reorder them). `kid` is the RFC 7638 thumbprint of the public key. `pkcs8` is the private
//! key, PKCS#8 DER in standard base64. Times are Unix milliseconds. `version` grows by one
//! with every write and is what the compare-and-set compares.
//!
//! # Who can read the private keys
//!
//! The private keys are the only secret in the store, and they are stored **unencrypted**:
//! anyone who can read the key-set value (with Redis: any client allowed to read the
//! `{prefix}keys` key, i.e. anyone with the Redis password or an ACL user covering the
//! prefix, every replica, and every RDB/AOF file and backup of it) can sign access tokens
//! for any user until those keys are dropped. Protect the store like a secret: ACLs limited
//! to the auth processes, TLS or a private network, encrypted backups. API servers that
//! only verify never need store access (they use the public JWKS).
//!
//! To keep private keys out of the store altogether, configure a fixed key instead (a key
//! file, PEM or JWK): build `KeySet::new(SigningKey::from_pem_or_jwk(..)?)`
//! and do not use this module; nothing is generated or stored, and rotation is then a
//! deploy (add the old key with `add_verification_key` for one access-token lifetime).
//!
//! Private key material never appears in `Debug` output or logs.
//!
//! ```
//! use std::time::Duration;
//! use tower_session_refresh::keystore::{ManagedKeys, ManagedKeysConfig, MemoryKeyStore};
//! use tower_session_refresh::token::AccessTokenClaims;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! let config = ManagedKeysConfig::new(Duration::from_secs(7 * 24 * 3600), Duration::from_secs(3600));
//! let keys = ManagedKeys::start(MemoryKeyStore::new(), config).await;
//! assert!(keys.is_ready());
//! let key_set = keys.key_set(); // give this to SessionConfig::keys and JwksService
//! let token = key_set.sign(&AccessTokenClaims::new("u", "h", "ab", 1, 60))?;
//! # let _ = token;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod managed;
mod memory;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::signature::Ed25519KeyPair;
use serde::{Deserialize, Serialize};

pub use managed::{
    ManagedKeys, ManagedKeysConfig, DEFAULT_RELOAD_COOLDOWN, DEFAULT_ROTATION_INTERVAL,
    MAX_MAINTAIN_PERIOD,
};
pub use memory::MemoryKeyStore;

use crate::keys::{Algorithm, KeyError, SigningKey};
use crate::store::{StoreError, StoreErrorKind};

/// The layout version written in `format`.
const FORMAT: u32 = 1;

/// The boxed future every [`KeyStore`] operation returns (object-safe, `Send`).
pub type KeyStoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Where the shared key set lives: one value, read whole and replaced whole with a
/// compare-and-set on its version.
///
/// Implementations: [`MemoryKeyStore`] (one process), `RedisKeyStore` (crate
/// `tower-session-redis`), `PostgresKeyStore` (crate `tower-session-postgres`).
/// Another backend needs only these two operations, storing
/// [`StoredKeySet::to_json`] as an opaque secret value.
pub trait KeyStore: Send + Sync + 'static {
    /// The stored key set, or `None` if none was created yet.
    fn load(&self) -> KeyStoreFuture<'_, Option<StoredKeySet>>;

    /// Replaces the stored set with `new` if the stored version is `expected` (`None`: only
    /// if no set exists). Returns whether it was written. Must be atomic: of two concurrent
    /// calls with the same `expected`, at most one returns `true`.
    fn put_if_version<'a>(
        &'a self,
        expected: Option<u64>,
        new: &'a StoredKeySet,
    ) -> KeyStoreFuture<'a, bool>;
}

impl<S: KeyStore + ?Sized> KeyStore for std::sync::Arc<S> {
    fn load(&self) -> KeyStoreFuture<'_, Option<StoredKeySet>> {
        (**self).load()
    }
    fn put_if_version<'a>(
        &'a self,
        expected: Option<u64>,
        new: &'a StoredKeySet,
    ) -> KeyStoreFuture<'a, bool> {
        (**self).put_if_version(expected, new)
    }
}

/// Private key bytes (PKCS#8 DER). `Debug` never shows them.
#[derive(Clone, PartialEq, Eq)]
struct Secret(Vec<u8>);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// One key of a [`StoredKeySet`]. `Debug` shows everything but the private key.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredKey {
    kid: String,
    alg: Algorithm,
    created_at: SystemTime,
    retire_at: SystemTime,
    drop_at: Option<SystemTime>,
    pkcs8: Secret,
}

impl fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("created_at_ms", &millis(self.created_at))
            .field("retire_at_ms", &millis(self.retire_at))
            .field("drop_at_ms", &self.drop_at.map(millis))
            .finish_non_exhaustive()
    }
}

impl StoredKey {
    /// A new random Ed25519 key created at `now` that signs until `now + interval`.
    /// Times are kept to the millisecond, as stored.
    pub fn generate_ed25519(now: SystemTime, interval: Duration) -> Result<Self, KeyError> {
        let now = to_millis(now);
        let doc =
            Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).map_err(|_| KeyError::Rng)?;
        let pkcs8 = doc.as_ref().to_vec();
        let key = signing_key_from_pkcs8(&pkcs8, None)?;
        Ok(Self {
            kid: key.verifying_key().thumbprint(),
            alg: Algorithm::EdDSA,
            created_at: now,
            retire_at: to_millis(now.checked_add(interval).unwrap_or(now)),
            drop_at: None,
            pkcs8: Secret(pkcs8),
        })
    }

    /// The key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// When the key was created.
    pub fn created_at(&self) -> SystemTime {
        self.created_at
    }

    /// When the key stops (or stopped) signing: a new key is made then.
    pub fn retire_at(&self) -> SystemTime {
        self.retire_at
    }

    /// When the key stops verifying and is removed; `None` while it is the signing key.
    pub fn drop_at(&self) -> Option<SystemTime> {
        self.drop_at
    }

    /// The signing key (the private key, under this `kid`).
    pub fn signing_key(&self) -> Result<SigningKey, KeyError> {
        let key = signing_key_from_pkcs8(&self.pkcs8.0, Some(&self.kid))?;
        if key.algorithm() != self.alg {
            return Err(KeyError::Unsupported(format!(
                "stored key {:?} says {} but holds a {} key",
                self.kid,
                self.alg,
                key.algorithm()
            )));
        }
        Ok(key)
    }
}

fn signing_key_from_pkcs8(der: &[u8], kid: Option<&str>) -> Result<SigningKey, KeyError> {
    let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
    let b64 = STANDARD.encode(der);
    for chunk in b64.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(chunk).map_err(|_| KeyError::Pem("base64".into()))?);
        pem.push('\n');
    }
    pem.push_str("-----END PRIVATE KEY-----\n");
    let key = SigningKey::from_pem(&pem)?;
    match kid {
        Some(kid) => key.with_kid(kid),
        None => Ok(key),
    }
}

/// The key set as stored: a version (what compare-and-set compares) and the keys in
/// creation order, the last one signing. `Debug` never shows private keys.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoredKeySet {
    /// Grows by one with every write.
    pub version: u64,
    /// The keys, oldest first; the last one signs.
    pub keys: Vec<StoredKey>,
}

#[derive(Serialize, Deserialize)]
struct WireSet {
    format: u32,
    version: u64,
    keys: Vec<WireKey>,
}

#[derive(Serialize, Deserialize)]
struct WireKey {
    kid: String,
    alg: String,
    created_at_ms: u64,
    retire_at_ms: u64,
    drop_at_ms: Option<u64>,
    pkcs8: String,
}

fn millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// `t` truncated to whole milliseconds (what the stored form keeps).
pub(super) fn to_millis(t: SystemTime) -> SystemTime {
    from_millis(millis(t))
}

fn from_millis(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}

fn corrupt(what: impl Into<String>) -> StoreError {
    StoreError::new(StoreErrorKind::Corrupt, what.into())
}

impl StoredKeySet {
    /// The signing key's entry (the last one).
    pub fn signing(&self) -> Option<&StoredKey> {
        self.keys.last()
    }

    /// The stored form (see the module docs). **Secret**: it holds the private keys.
    pub fn to_json(&self) -> String {
        let wire = WireSet {
            format: FORMAT,
            version: self.version,
            keys: self
                .keys
                .iter()
                .map(|k| WireKey {
                    kid: k.kid.clone(),
                    alg: k.alg.as_str().to_owned(),
                    created_at_ms: millis(k.created_at),
                    retire_at_ms: millis(k.retire_at),
                    drop_at_ms: k.drop_at.map(millis),
                    pkcs8: STANDARD.encode(&k.pkcs8.0),
                })
                .collect(),
        };
        // Plain strings and integers only: serialising cannot fail.
        serde_json::to_string(&wire).unwrap_or_default()
    }

    /// Reads the stored form. Errors are [`StoreErrorKind::Corrupt`] and never echo the
    /// input.
    pub fn from_json(json: &str) -> Result<Self, StoreError> {
        let wire: WireSet = serde_json::from_str(json).map_err(|e| {
            corrupt(format!(
                "stored key set is not readable JSON (line {}, column {})",
                e.line(),
                e.column()
            ))
        })?;
        if wire.format != FORMAT {
            return Err(corrupt(format!(
                "stored key set has format {}, this version reads {FORMAT}",
                wire.format
            )));
        }
        let mut keys = Vec::with_capacity(wire.keys.len());
        for k in wire.keys {
            let alg: Algorithm = k
                .alg
                .parse()
                .map_err(|_| corrupt(format!("stored key {:?} has an unknown algorithm", k.kid)))?;
            let pkcs8 = STANDARD
                .decode(k.pkcs8.as_bytes())
                .map_err(|_| corrupt(format!("stored key {:?}: pkcs8 is not base64", k.kid)))?;
            keys.push(StoredKey {
                kid: k.kid,
                alg,
                created_at: from_millis(k.created_at_ms),
                retire_at: from_millis(k.retire_at_ms),
                drop_at: k.drop_at_ms.map(from_millis),
                pkcs8: Secret(pkcs8),
            });
        }
        Ok(Self {
            version: wire.version,
            keys,
        })
    }
}
