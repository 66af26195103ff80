//! JWK and JWKS loading.

use base64::Engine as _;
use serde::Deserialize;

use super::signing::JwkPrivate;
use super::{KeyError, SigningKey, VerifyingKey, B64};

/// The JWK members this crate reads. Unknown members are ignored.
#[derive(Deserialize)]
pub(super) struct Jwk {
    kty: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    alg: Option<String>,
    #[serde(default, rename = "use")]
    use_: Option<String>,
    #[serde(default)]
    crv: Option<String>,
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
    #[serde(default)]
    k: Option<String>,
    #[serde(default)]
    d: Option<String>,
    #[serde(default)]
    p: Option<String>,
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    dp: Option<String>,
    #[serde(default)]
    dq: Option<String>,
    #[serde(default)]
    qi: Option<String>,
}

/// Secret bytes decoded from a JWK, zeroed on drop on a best-effort basis.
struct Secret(Vec<u8>);

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.iter_mut().for_each(|b| *b = 0);
    }
}

fn member(value: &Option<String>, name: &str) -> Result<Vec<u8>, KeyError> {
    let v = value
        .as_deref()
        .ok_or_else(|| KeyError::Jwk(format!("missing member {name:?}")))?;
    B64.decode(v.trim_end_matches('='))
        .map_err(|_| KeyError::Jwk(format!("member {name:?} is not base64url")))
}

fn secret(value: &Option<String>, name: &str) -> Result<Secret, KeyError> {
    member(value, name).map(Secret)
}

enum Kind {
    Ed25519,
    Rsa,
    Oct,
}

impl Jwk {
    pub(super) fn parse(json: &str) -> Result<Self, KeyError> {
        serde_json::from_str(json).map_err(|e| KeyError::Jwk(format!("invalid JSON: {e}")))
    }

    fn kind(&self) -> Result<Kind, KeyError> {
        let (kind, alg) = match (self.kty.as_str(), self.crv.as_deref()) {
            ("OKP", Some("Ed25519")) => (Kind::Ed25519, ["EdDSA", "Ed25519"].as_slice()),
            ("OKP", crv) => {
                return Err(KeyError::Unsupported(format!(
                    "OKP curve {:?} (only Ed25519)",
                    crv.unwrap_or("")
                )))
            }
            ("RSA", _) => (Kind::Rsa, ["RS256"].as_slice()),
            ("oct", _) => (Kind::Oct, ["HS256"].as_slice()),
            (kty, _) => return Err(KeyError::Unsupported(format!("JWK kty {kty:?}"))),
        };
        if let Some(a) = self.alg.as_deref() {
            if !alg.contains(&a) {
                return Err(KeyError::Unsupported(format!(
                    "JWK alg {a:?} for kty {:?}",
                    self.kty
                )));
            }
        }
        if let Some(u) = self.use_.as_deref() {
            if u != "sig" {
                return Err(KeyError::Unsupported(format!("JWK use {u:?}")));
            }
        }
        Ok(kind)
    }

    fn finish_kid(&self, key: VerifyingKey) -> Result<VerifyingKey, KeyError> {
        match &self.kid {
            Some(kid) => key.with_kid(kid),
            None => key.with_thumbprint_kid(),
        }
    }

    pub(super) fn to_verifying_key(&self) -> Result<VerifyingKey, KeyError> {
        let key = match self.kind()? {
            Kind::Ed25519 => VerifyingKey::ed25519("tmp", &member(&self.x, "x")?)?,
            Kind::Rsa => VerifyingKey::rs256_from_components(
                "tmp",
                &member(&self.n, "n")?,
                &member(&self.e, "e")?,
            )?,
            Kind::Oct => VerifyingKey::hs256("tmp", &secret(&self.k, "k")?.0)?,
        };
        self.finish_kid(key)
    }

    pub(super) fn to_signing_key(&self) -> Result<SigningKey, KeyError> {
        let kid = self.kid.as_deref();
        let no_private = || {
            KeyError::Jwk(
                "JWK has no private key members; VerifyingKey::from_jwk reads public keys".into(),
            )
        };
        match self.kind()? {
            Kind::Ed25519 => {
                if self.d.is_none() {
                    return Err(no_private());
                }
                let d = secret(&self.d, "d")?;
                let x = self.x.as_ref().map(|_| member(&self.x, "x")).transpose()?;
                SigningKey::from_jwk_parts(
                    kid,
                    JwkPrivate::Ed25519 {
                        d: &d.0,
                        x: x.as_deref(),
                    },
                )
            }
            Kind::Rsa => {
                if self.d.is_none() {
                    return Err(no_private());
                }
                let n = member(&self.n, "n")?;
                let e = member(&self.e, "e")?;
                let d = secret(&self.d, "d")?;
                let p = secret(&self.p, "p")?;
                let q = secret(&self.q, "q")?;
                let dp = secret(&self.dp, "dp")?;
                let dq = secret(&self.dq, "dq")?;
                let qi = secret(&self.qi, "qi")?;
                let comps = ring::rsa::KeyPairComponents {
                    public_key: ring::rsa::PublicKeyComponents {
                        n: n.as_slice(),
                        e: e.as_slice(),
                    },
                    d: d.0.as_slice(),
                    p: p.0.as_slice(),
                    q: q.0.as_slice(),
                    dP: dp.0.as_slice(),
                    dQ: dq.0.as_slice(),
                    qInv: qi.0.as_slice(),
                };
                SigningKey::from_jwk_parts(kid, JwkPrivate::Rsa(comps))
            }
            Kind::Oct => {
                let k = secret(&self.k, "k")?;
                SigningKey::from_jwk_parts(kid, JwkPrivate::Oct(&k.0))
            }
        }
    }
}

#[derive(Deserialize)]
struct JwksDoc {
    keys: Vec<serde_json::Value>,
}

/// Parses a public JWKS document (`{"keys":[...]}`) into verification keys.
///
/// Keys this crate cannot use (other key types or curves, `use: "enc"`, other algorithms)
/// are skipped, as are symmetric (`oct`) keys: a published key set must never carry a
/// secret. Later keys with an already-seen kid are skipped.
///
/// ```
/// use tower_session_refresh::keys::{parse_jwks, KeySet, SigningKey};
/// let keys = KeySet::new(SigningKey::generate_ed25519("k1")?);
/// let parsed = parse_jwks(&keys.jwks_json())?;
/// assert_eq!(parsed[0].kid(), "k1");
/// # Ok::<(), tower_session_refresh::keys::KeyError>(())
/// ```
pub fn parse_jwks(json: &str) -> Result<Vec<VerifyingKey>, KeyError> {
    let doc: JwksDoc =
        serde_json::from_str(json).map_err(|e| KeyError::Jwk(format!("invalid JWKS: {e}")))?;
    let mut out: Vec<VerifyingKey> = Vec::with_capacity(doc.keys.len());
    for value in doc.keys {
        let Ok(jwk) = serde_json::from_value::<Jwk>(value) else {
            continue;
        };
        if jwk.kty == "oct" || jwk.kid.is_none() {
            continue;
        }
        let Ok(key) = jwk.to_verifying_key() else {
            continue;
        };
        if out.iter().all(|k| k.kid() != key.kid()) {
            out.push(key);
        }
    }
    Ok(out)
}
