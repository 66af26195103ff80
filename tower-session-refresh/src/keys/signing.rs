//! [`SigningKey`]: the private key (or HS256 secret) that signs access tokens.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use ring::hmac;
use ring::rand::SystemRandom;
use ring::signature::{self, Ed25519KeyPair, KeyPair as _, RsaKeyPair};

use super::verifying::VerifyingMaterial;
use super::{der, jwk, Algorithm, KeyError, VerifyingKey, B64, MIN_HS256_SECRET_BYTES};

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

    /// Loads a key file's contents, PEM or JWK (detected by a leading `{`), so one option
    /// (a key file path) accepts both formats.
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
