//! [`VerifyingKey`]: the public (or HS256 shared) key that checks signatures.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use ring::signature;
use ring::{digest, hmac};

use super::{check_kid, der, jwk, Algorithm, KeyError, SigningKey, B64, MIN_HS256_SECRET_BYTES};

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
    pub(super) inner: Arc<VerifyingInner>,
}

pub(super) struct VerifyingInner {
    pub(super) kid: Box<str>,
    pub(super) material: VerifyingMaterial,
}

#[derive(Clone)]
pub(super) enum VerifyingMaterial {
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
    pub(super) fn from_material(kid: &str, material: VerifyingMaterial) -> Result<Self, KeyError> {
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

    pub(super) fn with_thumbprint_kid(&self) -> Result<Self, KeyError> {
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
