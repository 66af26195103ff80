//! [`KeySource`]: where a verifier finds the key for a token's `kid`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::VerifyError;
use crate::keys::{KeySet, VerifyingKey};

/// A boxed future returned by [`KeySource::fetch_key`].
pub type KeyFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Option<VerifyingKey>, VerifyError>> + Send + 'a>>;

/// Where a verifier finds verification keys: a local [`KeySet`], or a remote JWKS
/// (`RemoteJwks`, feature `remote-jwks`).
///
/// [`key`](Self::key) is the synchronous fast path; [`fetch_key`](Self::fetch_key) is
/// awaited only when the kid is unknown.
///
/// ```
/// use tower_session_refresh::keys::{KeySet, SigningKey, VerifyingKey};
/// use tower_session_refresh::token::{AccessTokenClaims, AccessTokenVerifier, KeySource};
///
/// /// Keys looked up in some registry of one's own.
/// struct Registry(Vec<VerifyingKey>);
/// impl KeySource for Registry {
///     fn key(&self, kid: &str) -> Option<VerifyingKey> {
///         self.0.iter().find(|k| k.kid() == kid).cloned()
///     }
///     fn generation(&self) -> u64 {
///         0 // never changes
///     }
/// }
///
/// let issuer = KeySet::new(SigningKey::generate_ed25519("k1")?);
/// let verifier = AccessTokenVerifier::new(Registry(vec![issuer.key("k1").unwrap()]));
/// let token = issuer.sign(&AccessTokenClaims::new("u", "h", "ab", 1, 60))?;
/// let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(30);
/// assert_eq!(verifier.verify_sync_at(&token, at)?.sub, "u");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait KeySource: Send + Sync + 'static {
    /// The key for `kid`, if known now. Must not block.
    fn key(&self, kid: &str) -> Option<VerifyingKey>;

    /// Changes whenever a key is removed or replaced; cached verifications made under
    /// another generation are discarded.
    fn generation(&self) -> u64;

    /// Called for an unknown kid: try to obtain it (e.g. refetch a JWKS, subject to a
    /// cool-down). `Ok(None)` means "no such key"; an error means the source is unavailable.
    /// The default knows no more keys than [`key`](Self::key).
    fn fetch_key<'a>(&'a self, kid: &'a str) -> KeyFuture<'a> {
        let _ = kid;
        Box::pin(std::future::ready(Ok(None)))
    }
}

impl KeySource for KeySet {
    fn key(&self, kid: &str) -> Option<VerifyingKey> {
        KeySet::key(self, kid)
    }
    fn generation(&self) -> u64 {
        KeySet::generation(self)
    }
}

impl<T: KeySource + ?Sized> KeySource for Arc<T> {
    fn key(&self, kid: &str) -> Option<VerifyingKey> {
        (**self).key(kid)
    }
    fn generation(&self) -> u64 {
        (**self).generation()
    }
    fn fetch_key<'a>(&'a self, kid: &'a str) -> KeyFuture<'a> {
        (**self).fetch_key(kid)
    }
}
