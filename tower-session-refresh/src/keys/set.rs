//! [`KeySet`]: the shared, rotating set of one signing key and the verification keys, and
//! signing with it.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use base64::Engine as _;

use super::{KeyError, SigningKey, VerifyingKey, B64};
use crate::token::{AccessTokenClaims, TokenError};

/// One signing key plus any number of verification keys, selected by `kid`.
///
/// A shared handle: clones see the same keys, so [`rotate`](Self::rotate) on the issuer is
/// seen at once by the signer, the local verifier and the [`JwksService`](crate::jwks::JwksService)
/// built from clones of it.
///
/// ```
/// use tower_session_refresh::keys::{KeySet, SigningKey, VerifyingKey};
/// let old = SigningKey::hs256("2024", &[1u8; 32])?;
/// let keys = KeySet::new(SigningKey::generate_ed25519("2025")?)
///     .with_verification_key(old.verifying_key().clone())?;
/// assert!(keys.key("2024").is_some());
/// // HS256 keys are never published:
/// assert_eq!(keys.jwks().as_array().map(Vec::len), Some(1));
/// # Ok::<(), tower_session_refresh::keys::KeyError>(())
/// ```
#[derive(Clone)]
pub struct KeySet {
    shared: Arc<KeySetShared>,
}

struct KeySetShared {
    state: RwLock<Arc<KeySetState>>,
    generation: AtomicU64,
}

struct KeySetState {
    signing: Option<SigningKey>,
    /// All verification keys, the signing key's first.
    keys: Vec<VerifyingKey>,
}

impl fmt::Debug for KeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.snapshot();
        let keys: Vec<_> = state
            .keys
            .iter()
            .map(|k| (k.kid().to_owned(), k.algorithm()))
            .collect();
        f.debug_struct("KeySet")
            .field("signing_kid", &state.signing.as_ref().map(SigningKey::kid))
            .field("keys", &keys)
            .finish()
    }
}

impl KeySet {
    fn from_state(state: KeySetState) -> Self {
        Self {
            shared: Arc::new(KeySetShared {
                state: RwLock::new(Arc::new(state)),
                generation: AtomicU64::new(0),
            }),
        }
    }

    /// A key set that signs with `signing` (and verifies its tokens).
    pub fn new(signing: SigningKey) -> Self {
        Self::from_state(KeySetState {
            keys: vec![signing.verifying_key().clone()],
            signing: Some(signing),
        })
    }

    /// A key set with no signing key, for verify-only servers that hold the keys locally
    /// (for keys fetched from a URL see `RemoteJwks`, feature `remote-jwks`).
    pub fn verify_only(keys: Vec<VerifyingKey>) -> Result<Self, KeyError> {
        let set = Self::from_state(KeySetState {
            signing: None,
            keys: Vec::new(),
        });
        for key in keys {
            set.add_verification_key(key)?;
        }
        Ok(set)
    }

    /// Builder form of [`add_verification_key`](Self::add_verification_key).
    pub fn with_verification_key(self, key: VerifyingKey) -> Result<Self, KeyError> {
        self.add_verification_key(key)?;
        Ok(self)
    }

    fn snapshot(&self) -> Arc<KeySetState> {
        let guard = self
            .shared
            .state
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        Arc::clone(&guard)
    }

    fn update(
        &self,
        f: impl FnOnce(&KeySetState) -> Result<KeySetState, KeyError>,
    ) -> Result<(), KeyError> {
        let mut guard = self
            .shared
            .state
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let next = f(&guard)?;
        *guard = Arc::new(next);
        self.shared.generation.fetch_add(1, Ordering::Release);
        Ok(())
    }

    /// Adds a key that verifies (but does not sign). Fails on a duplicate kid.
    pub fn add_verification_key(&self, key: VerifyingKey) -> Result<(), KeyError> {
        self.update(|s| {
            if s.keys.iter().any(|k| k.kid() == key.kid()) {
                return Err(KeyError::DuplicateKid(key.kid().to_owned()));
            }
            let mut keys = s.keys.clone();
            keys.push(key);
            Ok(KeySetState {
                signing: s.signing.clone(),
                keys,
            })
        })
    }

    /// Makes `signing` the signing key. The previous signing key stays as a verification key,
    /// so tokens it signed keep verifying until they expire; remove it later with
    /// [`remove_key`](Self::remove_key). Fails if the new kid is already in the set.
    pub fn rotate(&self, signing: SigningKey) -> Result<(), KeyError> {
        self.update(|s| {
            if s.keys.iter().any(|k| k.kid() == signing.kid()) {
                return Err(KeyError::DuplicateKid(signing.kid().to_owned()));
            }
            let mut keys = Vec::with_capacity(s.keys.len() + 1);
            keys.push(signing.verifying_key().clone());
            keys.extend(s.keys.iter().cloned());
            Ok(KeySetState {
                signing: Some(signing),
                keys,
            })
        })
    }

    /// Removes a verification key (e.g. a retired signing key once its tokens have expired).
    /// Returns whether it was present. Tokens it signed stop verifying at once (cached ones
    /// included). The current signing key cannot be removed.
    pub fn remove_key(&self, kid: &str) -> Result<bool, KeyError> {
        let mut found = false;
        self.update(|s| {
            if s.signing.as_ref().is_some_and(|k| k.kid() == kid) {
                return Err(KeyError::SigningKeyInUse(kid.to_owned()));
            }
            let keys: Vec<_> = s.keys.iter().filter(|k| k.kid() != kid).cloned().collect();
            found = keys.len() != s.keys.len();
            Ok(KeySetState {
                signing: s.signing.clone(),
                keys,
            })
        })?;
        Ok(found)
    }

    /// The current signing key, if any.
    pub fn signing_key(&self) -> Option<SigningKey> {
        self.snapshot().signing.clone()
    }

    /// The kid new tokens are signed with.
    pub fn signing_kid(&self) -> Option<String> {
        self.snapshot().signing.as_ref().map(|k| k.kid().to_owned())
    }

    /// All kids that verify, the signing key's first.
    pub fn kids(&self) -> Vec<String> {
        self.snapshot()
            .keys
            .iter()
            .map(|k| k.kid().to_owned())
            .collect()
    }

    /// The verification key for `kid`.
    pub fn key(&self, kid: &str) -> Option<VerifyingKey> {
        let guard = self
            .shared
            .state
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        guard.keys.iter().find(|k| k.kid() == kid).cloned()
    }

    /// A counter that changes whenever keys are added, rotated or removed.
    pub fn generation(&self) -> u64 {
        self.shared.generation.load(Ordering::Acquire)
    }

    /// The public keys as a JSON array of JWKs (HS256 keys left out).
    pub fn jwks(&self) -> serde_json::Value {
        serde_json::Value::Array(
            self.snapshot()
                .keys
                .iter()
                .filter_map(VerifyingKey::to_public_jwk)
                .collect(),
        )
    }

    /// The JWKS document `{"keys":[...]}`: public keys only, HS256 keys never included.
    pub fn jwks_json(&self) -> String {
        serde_json::json!({ "keys": self.jwks() }).to_string()
    }
}

impl KeySet {
    /// Signs `claims` with the current signing key into a compact JWS:
    /// header `{"alg":..,"typ":"JWT","kid":..,"version":"5"}`.
    ///
    /// ```
    /// use tower_session_refresh::keys::{KeySet, SigningKey};
    /// use tower_session_refresh::token::AccessTokenClaims;
    /// let keys = KeySet::new(SigningKey::hs256("k", &[9u8; 32])?);
    /// let token = keys.sign(&AccessTokenClaims::new("u", "h", "ab", 1, 3600))?;
    /// assert_eq!(token.split('.').count(), 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn sign(&self, claims: &AccessTokenClaims) -> Result<String, TokenError> {
        AccessTokenClaims::check_payload(&claims.payload)?;
        let key = self.signing_key().ok_or(TokenError::NoSigningKey)?;
        let json = serde_json::to_vec(claims).map_err(|e| TokenError::Encode(e.to_string()))?;
        let header = key.header_b64();
        let mut out = String::with_capacity(header.len() + json.len() * 4 / 3 + 400);
        out.push_str(header);
        B64.encode_string(&json, &mut out);
        let sig = key
            .sign_raw(out.as_bytes())
            .map_err(|()| TokenError::Signing)?;
        out.push('.');
        B64.encode_string(&sig, &mut out);
        Ok(out)
    }
}
