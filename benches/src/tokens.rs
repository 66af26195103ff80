//! Token primitives of the peers: `jsonwebtoken` signing and verifying the same claims as
//! our access tokens (same keys, same bytes), and a bare HMAC-SHA256 floor.

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// The HS256 secret shared by our key set and `jsonwebtoken` (32 bytes).
pub const HS256_SECRET: &[u8; 32] = b"bench-hs256-secret-0123456789abc";

/// A fixed RSA-2048 test key (PKCS#8 PEM), generated for these benches only.
pub const RS256_PRIVATE_PEM: &str = include_str!("../keys/rs256-test-private.pem");
/// The public half of [`RS256_PRIVATE_PEM`] (SPKI PEM).
pub const RS256_PUBLIC_PEM: &str = include_str!("../keys/rs256-test-public.pem");

/// SuperTokens access-token claims, as `jsonwebtoken` sees them (a typed struct, as the
/// peers' users would write it).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StClaims {
    /// User id.
    pub sub: String,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
    /// Issued at, seconds since the epoch.
    pub iat: u64,
    /// Session handle.
    pub session_handle: String,
    /// SHA-256 hex of the refresh token.
    pub refresh_token_hash1: String,
    /// SHA-256 hex of the parent refresh token, if not yet promoted.
    pub parent_refresh_token_hash1: Option<String>,
    /// Anti-CSRF token, if enabled.
    pub anti_csrf_token: Option<String>,
    /// Tenant id.
    pub t_id: String,
    /// Recipe user id.
    pub rsub: String,
    /// Issuer.
    pub iss: Option<String>,
}

/// Seconds since the epoch, now.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl StClaims {
    /// The claims every token bench signs: valid for an hour from now.
    pub fn sample() -> Self {
        let now = now_secs();
        StClaims {
            sub: "5e1b3f0c-8a4d-4c2e-9f7a-1d2c3b4a5e6f".to_owned(),
            exp: now + 3600,
            iat: now,
            session_handle: "0b6f1c2e-3d4a-4b5c-8d9e-a1b2c3d4e5f6".to_owned(),
            refresh_token_hash1: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
                .to_owned(),
            parent_refresh_token_hash1: None,
            anti_csrf_token: None,
            t_id: "public".to_owned(),
            rsub: "5e1b3f0c-8a4d-4c2e-9f7a-1d2c3b4a5e6f".to_owned(),
            iss: Some("https://api.example.com/auth".to_owned()),
        }
    }
}

/// `jsonwebtoken` keys and validation for one algorithm.
#[allow(missing_debug_implementations)]
pub struct Jwt {
    header: Header,
    enc: EncodingKey,
    dec: DecodingKey,
    validation: Validation,
}

impl Jwt {
    fn new(alg: Algorithm, kid: &str, enc: EncodingKey, dec: DecodingKey) -> Self {
        let mut header = Header::new(alg);
        header.kid = Some(kid.to_owned());
        let mut validation = Validation::new(alg);
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp"]);
        Jwt {
            header,
            enc,
            dec,
            validation,
        }
    }

    /// HS256 with [`HS256_SECRET`].
    pub fn hs256(kid: &str) -> Self {
        Jwt::new(
            Algorithm::HS256,
            kid,
            EncodingKey::from_secret(HS256_SECRET).expect("valid secret"),
            DecodingKey::from_secret(HS256_SECRET).expect("valid secret"),
        )
    }

    /// EdDSA with an Ed25519 key given as PKCS#8 PEM and its public key `x` (base64url).
    pub fn eddsa(kid: &str, private_pem: &str, public_x: &str) -> Self {
        Jwt::new(
            Algorithm::EdDSA,
            kid,
            EncodingKey::from_ed_pem(private_pem.as_bytes()).expect("valid PEM"),
            DecodingKey::from_ed_components(public_x).expect("valid x"),
        )
    }

    /// RS256 with the fixed test key.
    pub fn rs256(kid: &str) -> Self {
        Jwt::new(
            Algorithm::RS256,
            kid,
            EncodingKey::from_rsa_pem(RS256_PRIVATE_PEM.as_bytes()).expect("valid PEM"),
            DecodingKey::from_rsa_pem(RS256_PUBLIC_PEM.as_bytes()).expect("valid PEM"),
        )
    }

    /// Signs the claims.
    pub fn sign(&self, claims: &StClaims) -> String {
        jsonwebtoken::encode(&self.header, claims, &self.enc).expect("signing works")
    }

    /// Verifies signature and `exp`, and decodes the claims into [`StClaims`].
    pub fn verify(&self, token: &str) -> Option<StClaims> {
        jsonwebtoken::decode::<StClaims>(token, &self.dec, &self.validation)
            .ok()
            .map(|d| d.claims)
    }
}

/// The bare floor of an HS256 verify: one HMAC-SHA256 (ring, key prepared once) over the
/// token's signing input (`header.payload`), compared with the decoded signature.
#[allow(missing_debug_implementations)]
pub struct RawHmac {
    key: ring::hmac::Key,
}

impl Default for RawHmac {
    fn default() -> Self {
        RawHmac {
            key: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, HS256_SECRET),
        }
    }
}

impl RawHmac {
    /// HMAC of `signing_input` (no base64, no JSON): the MAC alone.
    pub fn mac(&self, signing_input: &[u8]) -> ring::hmac::Tag {
        ring::hmac::sign(&self.key, signing_input)
    }
}
