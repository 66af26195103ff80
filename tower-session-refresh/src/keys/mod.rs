//! Signing and verification keys (Ed25519, RS256, HS256), loaded from PEM or JWK, and key sets.
//!
//! The algorithm of a key is a property of the key, never of a token: a token whose header
//! names another algorithm than the key its `kid` selects is rejected (see
//! [`InvalidReason::AlgMismatch`](crate::token::InvalidReason::AlgMismatch)).
//!
//! ```
//! use tower_session_refresh::keys::{KeySet, SigningKey};
//!
//! let keys = KeySet::new(SigningKey::generate_ed25519("k1")?);
//! // later: rotate without signing anyone out; tokens signed by "k1" still verify
//! keys.rotate(SigningKey::generate_ed25519("k2")?)?;
//! assert_eq!(keys.signing_kid().as_deref(), Some("k2"));
//! assert_eq!(keys.kids(), ["k2", "k1"]);
//! # Ok::<(), tower_session_refresh::keys::KeyError>(())
//! ```

mod der;
mod jwk;

mod set;
mod signing;
mod verifying;

use std::fmt;
use std::str::FromStr;

pub use jwk::parse_jwks;
pub use set::KeySet;
pub use signing::{generate_ed25519_pem, SigningKey};
pub use verifying::VerifyingKey;

pub(crate) const B64: base64::engine::GeneralPurpose =
    base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Minimum HS256 secret length in bytes.
pub const MIN_HS256_SECRET_BYTES: usize = 32;
const MAX_KID_BYTES: usize = 256;

/// A JWS signature algorithm supported for access tokens.
///
/// ```
/// use tower_session_refresh::keys::Algorithm;
/// assert_eq!("RS256".parse::<Algorithm>().unwrap(), Algorithm::RS256);
/// assert_eq!(Algorithm::EdDSA.as_str(), "EdDSA");
/// assert_eq!(Algorithm::default(), Algorithm::EdDSA);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// Ed25519 signatures (`"EdDSA"`), the default: small, fast, asymmetric.
    #[default]
    EdDSA,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (`"RS256"`), what SuperTokens cores issue.
    RS256,
    /// HMAC-SHA256 with a shared secret (`"HS256"`); never published in a JWKS.
    HS256,
}

impl Algorithm {
    /// The JOSE name (`"EdDSA"`, `"RS256"`, `"HS256"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::EdDSA => "EdDSA",
            Algorithm::RS256 => "RS256",
            Algorithm::HS256 => "HS256",
        }
    }

    /// Whether the key material is public (can be published in a JWKS).
    pub fn is_asymmetric(self) -> bool {
        !matches!(self, Algorithm::HS256)
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Algorithm {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, KeyError> {
        match s {
            "EdDSA" => Ok(Algorithm::EdDSA),
            "RS256" => Ok(Algorithm::RS256),
            "HS256" => Ok(Algorithm::HS256),
            other => Err(KeyError::Unsupported(format!("algorithm {other:?}"))),
        }
    }
}

/// Why a key could not be built, loaded or added.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The key id is empty, too long or contains control characters.
    #[error("invalid key id: {0}")]
    InvalidKid(&'static str),
    /// An HS256 secret shorter than [`MIN_HS256_SECRET_BYTES`].
    #[error("HS256 secret must be at least 32 bytes, got {0}")]
    SecretTooShort(usize),
    /// The PEM text or the DER inside it could not be read.
    #[error("PEM: {0}")]
    Pem(String),
    /// The JWK / JWKS JSON could not be read.
    #[error("JWK: {0}")]
    Jwk(String),
    /// A well-formed key of a type or algorithm this crate does not support.
    #[error("unsupported key: {0}")]
    Unsupported(String),
    /// The key material was rejected by the crypto library.
    #[error("key rejected: {0}")]
    Rejected(String),
    /// RSA keys must have a 2048 to 8192 bit modulus.
    #[error("RSA modulus must be 2048 to 8192 bits, got {0}")]
    RsaKeySize(usize),
    /// Two keys with the same `kid` in one key set.
    #[error("duplicate key id {0:?}")]
    DuplicateKid(String),
    /// The current signing key cannot be removed from its key set.
    #[error("key {0:?} is the current signing key and cannot be removed")]
    SigningKeyInUse(String),
    /// The system random number generator failed.
    #[error("random number generator failed")]
    Rng,
}

impl From<ring::error::KeyRejected> for KeyError {
    fn from(e: ring::error::KeyRejected) -> Self {
        KeyError::Rejected(e.to_string())
    }
}

pub(crate) fn check_kid(kid: &str) -> Result<(), KeyError> {
    if kid.is_empty() {
        return Err(KeyError::InvalidKid("empty"));
    }
    if kid.len() > MAX_KID_BYTES {
        return Err(KeyError::InvalidKid("longer than 256 bytes"));
    }
    if kid.chars().any(char::is_control) {
        return Err(KeyError::InvalidKid("contains control characters"));
    }
    Ok(())
}
