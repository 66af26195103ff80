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

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::signature::{self, Ed25519KeyPair, KeyPair as _, RsaKeyPair};
use ring::{digest, hmac};

pub use jwk::parse_jwks;

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

fn check_kid(kid: &str) -> Result<(), KeyError> {
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

/// Generates a new Ed25519 private key as PKCS#8 v2 PEM (`-----BEGIN PRIVATE KEY-----`),
/// e.g. to write a key file for `SigningKey::from_pem`. The returned string is secret.
///
/// ```
/// use tower_session_refresh::keys::{generate_ed25519_pem, SigningKey};
/// let pem = generate_ed25519_pem()?;
/// let key = SigningKey::from_pem(&pem)?;
/// assert_eq!(key.algorithm(), tower_session_refresh::keys::Algorithm::EdDSA);
/// # Ok::<(), tower_session_refresh::keys::KeyError>(())
/// ```
pub fn generate_ed25519_pem() -> Result<String, KeyError> {
    let doc = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).map_err(|_| KeyError::Rng)?;
    Ok(der::encode_pem("PRIVATE KEY", doc.as_ref()))
}

// ---------------------------------------------------------------------------------------------
// Verifying keys

/// Public (or, for HS256, shared) key material used to check signatures, with its `kid`.
///
/// Cheap to clone (`Arc` inside). `Debug` shows the kid and algorithm only.
///
/// ```
/// use tower_session_refresh::keys::{Algorithm, SigningKey, VerifyingKey};
/// let signing = SigningKey::generate_ed25519("k1")?;
/// let jwk = signing.verifying_key().to_public_jwk().unwrap().to_string();
/// let vk = VerifyingKey::from_jwk(&jwk)?;
/// assert_eq!((vk.kid(), vk.algorithm()), ("k1", Algorithm::EdDSA));
/// # Ok::<(), tower_session_refresh::keys::KeyError>(())
/// ```
#[derive(Clone)]
pub struct VerifyingKey {
    inner: Arc<VerifyingInner>,
}

struct VerifyingInner {
    kid: Box<str>,
    material: VerifyingMaterial,
}

#[derive(Clone)]
enum VerifyingMaterial {
    Ed25519([u8; 32]),
    Rsa { n: Vec<u8>, e: Vec<u8> },
    Hmac(hmac::Key),
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("kid", &self.kid())
            .field("alg", &self.algorithm())
            .finish_non_exhaustive()
    }
}

impl VerifyingKey {
    fn from_material(kid: &str, material: VerifyingMaterial) -> Result<Self, KeyError> {
        check_kid(kid)?;
        Ok(Self {
            inner: Arc::new(VerifyingInner {
                kid: kid.into(),
                material,
            }),
        })
    }

    /// An Ed25519 public key from its 32 raw bytes.
    pub fn ed25519(kid: &str, public_key: &[u8]) -> Result<Self, KeyError> {
        let bytes: [u8; 32] = public_key
            .try_into()
            .map_err(|_| KeyError::Rejected("Ed25519 public key must be 32 bytes".into()))?;
        Self::from_material(kid, VerifyingMaterial::Ed25519(bytes))
    }

    /// An RS256 public key from its modulus `n` and exponent `e` (big-endian bytes).
    pub fn rs256_from_components(kid: &str, n: &[u8], e: &[u8]) -> Result<Self, KeyError> {
        let n = strip_zeros(n);
        let e = strip_zeros(e);
        let bits = n.len() * 8;
        if !(2048..=8192).contains(&bits) {
            return Err(KeyError::RsaKeySize(bits));
        }
        if e.is_empty() || e.len() > 4 || e.last().is_some_and(|b| b & 1 == 0) {
            return Err(KeyError::Rejected("invalid RSA public exponent".into()));
        }
        Self::from_material(
            kid,
            VerifyingMaterial::Rsa {
                n: n.to_vec(),
                e: e.to_vec(),
            },
        )
    }

    /// An HS256 verification key (the shared secret, at least 32 bytes). Never published.
    pub fn hs256(kid: &str, secret: &[u8]) -> Result<Self, KeyError> {
        if secret.len() < MIN_HS256_SECRET_BYTES {
            return Err(KeyError::SecretTooShort(secret.len()));
        }
        Self::from_material(
            kid,
            VerifyingMaterial::Hmac(hmac::Key::new(hmac::HMAC_SHA256, secret)),
        )
    }

    /// Loads a public key from PEM: SPKI `PUBLIC KEY` (Ed25519 or RSA) or PKCS#1
    /// `RSA PUBLIC KEY`. The kid is the RFC 7638 thumbprint; override it with
    /// [`with_kid`](Self::with_kid).
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let block = der::decode_pem(pem)?;
        let material = match block.label.as_str() {
            "PUBLIC KEY" => {
                let (oid, key) = der::parse_spki(&block.der)?;
                if oid == der::OID_ED25519 {
                    VerifyingMaterial::Ed25519(key.try_into().map_err(|_| {
                        KeyError::Rejected("Ed25519 public key must be 32 bytes".into())
                    })?)
                } else if oid == der::OID_RSA {
                    let (n, e) = der::parse_rsa_public_key(key)?;
                    return Self::rs256_from_components("tmp", &n, &e)?.with_thumbprint_kid();
                } else {
                    return Err(KeyError::Unsupported(
                        "public key algorithm (only Ed25519 and RSA are supported)".into(),
                    ));
                }
            }
            "RSA PUBLIC KEY" => {
                let (n, e) = der::parse_rsa_public_key(&block.der)?;
                return Self::rs256_from_components("tmp", &n, &e)?.with_thumbprint_kid();
            }
            "PRIVATE KEY" | "RSA PRIVATE KEY" => {
                return Ok(SigningKey::from_pem(pem)?.verifying_key().clone());
            }
            other => return Err(KeyError::Pem(format!("unsupported PEM label {other:?}"))),
        };
        Self::from_material("tmp", material)?.with_thumbprint_kid()
    }

    /// Loads a key from a JWK: `OKP`/`Ed25519` (`x`), `RSA` (`n`, `e`) or `oct` (`k`, HS256).
    /// Private members, if present, are ignored. The kid is the JWK's `kid`, else its
    /// RFC 7638 thumbprint.
    pub fn from_jwk(json: &str) -> Result<Self, KeyError> {
        jwk::Jwk::parse(json)?.to_verifying_key()
    }

    /// The same key under another kid.
    pub fn with_kid(&self, kid: &str) -> Result<Self, KeyError> {
        Self::from_material(kid, self.inner.material.clone())
    }

    fn with_thumbprint_kid(&self) -> Result<Self, KeyError> {
        let kid = self.thumbprint();
        self.with_kid(&kid)
    }

    /// The key id.
    pub fn kid(&self) -> &str {
        &self.inner.kid
    }

    /// The algorithm this key verifies (the only one it accepts).
    pub fn algorithm(&self) -> Algorithm {
        match self.inner.material {
            VerifyingMaterial::Ed25519(_) => Algorithm::EdDSA,
            VerifyingMaterial::Rsa { .. } => Algorithm::RS256,
            VerifyingMaterial::Hmac(_) => Algorithm::HS256,
        }
    }

    /// The RFC 7638 JWK thumbprint (base64url SHA-256 of the canonical JWK members).
    pub fn thumbprint(&self) -> String {
        let canonical = match &self.inner.material {
            VerifyingMaterial::Ed25519(x) => {
                format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, B64.encode(x))
            }
            VerifyingMaterial::Rsa { n, e } => format!(
                r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
                B64.encode(e),
                B64.encode(n)
            ),
            // Not the RFC form: the secret itself never goes into a hash input that
            // leaves the process; a keyed MAC of a constant does the job of an id.
            VerifyingMaterial::Hmac(key) => {
                return format!(
                    "hs-{}",
                    B64.encode(&hmac::sign(key, b"tower-session-refresh kid").as_ref()[..12])
                )
            }
        };
        B64.encode(digest::digest(&digest::SHA256, canonical.as_bytes()))
    }

    /// The public JWK (`kty`, `kid`, `alg`, `use: "sig"`, key members), or `None` for
    /// HS256 keys, which are secret and never published.
    pub fn to_public_jwk(&self) -> Option<serde_json::Value> {
        let kid = self.kid();
        match &self.inner.material {
            VerifyingMaterial::Ed25519(x) => Some(serde_json::json!({
                "kty": "OKP", "crv": "Ed25519", "kid": kid, "alg": "EdDSA", "use": "sig",
                "x": B64.encode(x),
            })),
            VerifyingMaterial::Rsa { n, e } => Some(serde_json::json!({
                "kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
                "n": B64.encode(n), "e": B64.encode(e),
            })),
            VerifyingMaterial::Hmac(_) => None,
        }
    }

    /// Checks `signature` over `message`. Constant-time for HMAC.
    pub(crate) fn verify_signature(&self, message: &[u8], sig: &[u8]) -> bool {
        match &self.inner.material {
            VerifyingMaterial::Ed25519(pk) => {
                signature::UnparsedPublicKey::new(&signature::ED25519, pk)
                    .verify(message, sig)
                    .is_ok()
            }
            VerifyingMaterial::Rsa { n, e } => signature::RsaPublicKeyComponents { n, e }
                .verify(&signature::RSA_PKCS1_2048_8192_SHA256, message, sig)
                .is_ok(),
            VerifyingMaterial::Hmac(key) => hmac::verify(key, message, sig).is_ok(),
        }
    }
}

fn strip_zeros(mut b: &[u8]) -> &[u8] {
    while let [0, rest @ ..] = b {
        b = rest;
    }
    b
}

// ---------------------------------------------------------------------------------------------
// Signing keys

/// A private key (or HS256 secret) that signs access tokens, with its `kid`.
///
/// Cheap to clone (`Arc` inside). `Debug` shows the kid and algorithm only, never key material.
///
/// ```
/// use tower_session_refresh::keys::{Algorithm, SigningKey};
/// let ed = SigningKey::generate_ed25519("ed-1")?;
/// let hs = SigningKey::hs256("hs-1", &[7u8; 32])?;
/// assert_eq!(ed.algorithm(), Algorithm::EdDSA);
/// assert_eq!(format!("{hs:?}"), r#"SigningKey { kid: "hs-1", alg: HS256, .. }"#);
/// # Ok::<(), tower_session_refresh::keys::KeyError>(())
/// ```
#[derive(Clone)]
pub struct SigningKey {
    material: Arc<SigningMaterial>,
    verifying: VerifyingKey,
    /// base64url of `{"alg":..,"typ":"JWT","kid":..,"version":"5"}` plus the trailing '.'.
    header_b64: Arc<str>,
}

enum SigningMaterial {
    Ed25519(Ed25519KeyPair),
    Rsa(RsaKeyPair, SystemRandom),
    Hmac(hmac::Key),
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid())
            .field("alg", &self.algorithm())
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    fn from_parts(
        kid: Option<&str>,
        material: SigningMaterial,
        public: VerifyingMaterial,
    ) -> Result<Self, KeyError> {
        let verifying = VerifyingKey::from_material("tmp", public)?;
        let verifying = match kid {
            Some(kid) => verifying.with_kid(kid)?,
            None => verifying.with_thumbprint_kid()?,
        };
        Ok(Self {
            header_b64: header_b64(&verifying),
            material: Arc::new(material),
            verifying,
        })
    }

    /// Generates a new random Ed25519 key.
    pub fn generate_ed25519(kid: &str) -> Result<Self, KeyError> {
        let doc =
            Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).map_err(|_| KeyError::Rng)?;
        let pair = Ed25519KeyPair::from_pkcs8(doc.as_ref())?;
        Self::ed25519_from_pair(Some(kid), pair)
    }

    fn ed25519_from_pair(kid: Option<&str>, pair: Ed25519KeyPair) -> Result<Self, KeyError> {
        let public: [u8; 32] = pair
            .public_key()
            .as_ref()
            .try_into()
            .map_err(|_| KeyError::Rejected("Ed25519 public key must be 32 bytes".into()))?;
        Self::from_parts(
            kid,
            SigningMaterial::Ed25519(pair),
            VerifyingMaterial::Ed25519(public),
        )
    }

    fn rsa_from_pair(kid: Option<&str>, pair: RsaKeyPair) -> Result<Self, KeyError> {
        let comps: signature::RsaPublicKeyComponents<Vec<u8>> = pair.public().into();
        let bits = pair.public().modulus_len() * 8;
        if !(2048..=8192).contains(&bits) {
            return Err(KeyError::RsaKeySize(bits));
        }
        Self::from_parts(
            kid,
            SigningMaterial::Rsa(pair, SystemRandom::new()),
            VerifyingMaterial::Rsa {
                n: comps.n,
                e: comps.e,
            },
        )
    }

    /// An HS256 key from a shared secret of at least 32 bytes (use random bytes, not a
    /// password). HS256 keys are never published in a JWKS: every verifier needs the secret.
    pub fn hs256(kid: &str, secret: &[u8]) -> Result<Self, KeyError> {
        if secret.len() < MIN_HS256_SECRET_BYTES {
            return Err(KeyError::SecretTooShort(secret.len()));
        }
        let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
        Self::from_parts(
            Some(kid),
            SigningMaterial::Hmac(key.clone()),
            VerifyingMaterial::Hmac(key),
        )
    }

    /// An RS256 key from a PKCS#8 (`PRIVATE KEY`) or PKCS#1 (`RSA PRIVATE KEY`) PEM.
    pub fn rs256_from_pkcs8_pem(kid: &str, pem: &str) -> Result<Self, KeyError> {
        let key = Self::from_pem(pem)?;
        if key.algorithm() != Algorithm::RS256 {
            return Err(KeyError::Unsupported(format!(
                "expected an RSA key, found {}",
                key.algorithm()
            )));
        }
        key.with_kid(kid)
    }

    /// Loads a private key from PEM: PKCS#8 `PRIVATE KEY` holding an Ed25519 or RSA key,
    /// or PKCS#1 `RSA PRIVATE KEY`. The kid is the RFC 7638 thumbprint of the public key
    /// (stable for a given key file); override it with [`with_kid`](Self::with_kid).
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let block = der::decode_pem(pem)?;
        match block.label.as_str() {
            "PRIVATE KEY" => {
                let oid = der::pkcs8_algorithm_oid(&block.der)?;
                if oid == der::OID_ED25519 {
                    // OpenSSL writes PKCS#8 v1 (no embedded public key): accept it.
                    let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(&block.der)?;
                    Self::ed25519_from_pair(None, pair)
                } else if oid == der::OID_RSA {
                    Self::rsa_from_pair(None, RsaKeyPair::from_pkcs8(&block.der)?)
                } else {
                    Err(KeyError::Unsupported(
                        "private key algorithm (only Ed25519 and RSA are supported)".into(),
                    ))
                }
            }
            "RSA PRIVATE KEY" => Self::rsa_from_pair(None, RsaKeyPair::from_der(&block.der)?),
            "PUBLIC KEY" | "RSA PUBLIC KEY" => Err(KeyError::Pem(
                "this is a public key; signing needs the private key (VerifyingKey::from_pem reads public keys)".into(),
            )),
            other => Err(KeyError::Pem(format!("unsupported PEM label {other:?}"))),
        }
    }

    /// Loads a private JWK: `OKP`/`Ed25519` with `d`, `RSA` with `d p q dp dq qi`, or
    /// `oct` (`k`, HS256, at least 32 bytes). The kid is the JWK's `kid`, else the
    /// RFC 7638 thumbprint of the public key.
    pub fn from_jwk(json: &str) -> Result<Self, KeyError> {
        jwk::Jwk::parse(json)?.to_signing_key()
    }

    /// Loads a key file's contents, PEM or JWK (detected by a leading `{`), as the demo's
    /// `--signing-key FILE` does.
    ///
    /// ```
    /// use tower_session_refresh::keys::{generate_ed25519_pem, SigningKey};
    /// let from_pem = SigningKey::from_pem_or_jwk(&generate_ed25519_pem()?)?;
    /// let from_jwk = SigningKey::from_pem_or_jwk(
    ///     r#"{"kty":"oct","kid":"shared","k":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}"#,
    /// )?;
    /// assert_eq!(from_jwk.kid(), "shared");
    /// # Ok::<(), tower_session_refresh::keys::KeyError>(())
    /// ```
    pub fn from_pem_or_jwk(text: &str) -> Result<Self, KeyError> {
        if text.trim_start().starts_with('{') {
            Self::from_jwk(text)
        } else {
            Self::from_pem(text)
        }
    }

    pub(crate) fn from_jwk_parts(
        kid: Option<&str>,
        material: JwkPrivate<'_>,
    ) -> Result<Self, KeyError> {
        match material {
            JwkPrivate::Ed25519 { d, x } => {
                let pair = match x {
                    Some(x) => Ed25519KeyPair::from_seed_and_public_key(d, x)?,
                    None => Ed25519KeyPair::from_seed_unchecked(d)?,
                };
                Self::ed25519_from_pair(kid, pair)
            }
            JwkPrivate::Rsa(c) => Self::rsa_from_pair(kid, RsaKeyPair::from_components(&c)?),
            JwkPrivate::Oct(k) => {
                if k.len() < MIN_HS256_SECRET_BYTES {
                    return Err(KeyError::SecretTooShort(k.len()));
                }
                let key = hmac::Key::new(hmac::HMAC_SHA256, k);
                Self::from_parts(
                    kid,
                    SigningMaterial::Hmac(key.clone()),
                    VerifyingMaterial::Hmac(key),
                )
            }
        }
    }

    /// The same key under another kid.
    pub fn with_kid(&self, kid: &str) -> Result<Self, KeyError> {
        let verifying = self.verifying.with_kid(kid)?;
        Ok(Self {
            header_b64: header_b64(&verifying),
            material: Arc::clone(&self.material),
            verifying,
        })
    }

    /// The key id written into every token's header.
    pub fn kid(&self) -> &str {
        self.verifying.kid()
    }

    /// The algorithm, fixed by the key.
    pub fn algorithm(&self) -> Algorithm {
        self.verifying.algorithm()
    }

    /// The matching verification key (for HS256, the secret itself).
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.verifying
    }

    pub(crate) fn header_b64(&self) -> &str {
        &self.header_b64
    }

    /// Signs `message`. Only RSA can fail (RNG failure).
    pub(crate) fn sign_raw(&self, message: &[u8]) -> Result<Vec<u8>, ()> {
        match &*self.material {
            SigningMaterial::Ed25519(pair) => Ok(pair.sign(message).as_ref().to_vec()),
            SigningMaterial::Rsa(pair, rng) => {
                let mut sig = vec![0; pair.public().modulus_len()];
                pair.sign(&signature::RSA_PKCS1_SHA256, rng, message, &mut sig)
                    .map_err(|_| ())?;
                Ok(sig)
            }
            SigningMaterial::Hmac(key) => Ok(hmac::sign(key, message).as_ref().to_vec()),
        }
    }
}

/// Private JWK members, decoded (internal to the JWK loader).
pub(crate) enum JwkPrivate<'a> {
    Ed25519 { d: &'a [u8], x: Option<&'a [u8]> },
    Rsa(ring::rsa::KeyPairComponents<&'a [u8]>),
    Oct(&'a [u8]),
}

fn header_b64(key: &VerifyingKey) -> Arc<str> {
    let header = serde_json::json!({
        "alg": key.algorithm().as_str(),
        "typ": "JWT",
        "kid": key.kid(),
        "version": "5",
    });
    // `json!` objects serialise in key order; the order is not significant for JWS.
    let mut out = B64.encode(header.to_string());
    out.push('.');
    out.into()
}

// ---------------------------------------------------------------------------------------------
// Key sets

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
