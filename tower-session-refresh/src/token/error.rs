//! Why a token could not be signed or verified.

use crate::keys::Algorithm;

/// Why a token could not be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The payload uses a claim name reserved for the session (see [`PROTECTED_CLAIMS`](super::PROTECTED_CLAIMS)).
    #[error("payload uses the protected claim name {0:?}")]
    ProtectedClaim(String),
    /// The key set has no signing key (verify-only).
    #[error("the key set has no signing key")]
    NoSigningKey,
    /// The claims could not be encoded.
    #[error("claims could not be encoded: {0}")]
    Encode(String),
    /// The crypto library failed to sign (RSA: random number generator failure).
    #[error("signing failed")]
    Signing,
}

/// Why a token was refused. The server answers 401 for [`Expired`](Self::Expired) ("try
/// refresh token") and [`Invalid`](Self::Invalid), and 503 for
/// [`KeysUnavailable`](Self::KeysUnavailable) (an outage must not sign anyone out).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// Correctly signed, but past `exp` (plus the configured leeway).
    #[error("access token expired")]
    Expired,
    /// Not a valid access token, for the given reason.
    #[error("invalid access token: {0}")]
    Invalid(InvalidReason),
    /// The kid is unknown and the keys could not be fetched (remote JWKS unreachable).
    #[error("verification keys unavailable: {0}")]
    KeysUnavailable(String),
}

/// Why a token is invalid. Display texts are safe to log (no token content).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidReason {
    /// Longer than the verifier's limit.
    #[error("token is {len} bytes, over the {max} byte limit")]
    TooLarge {
        /// The token's length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Not three dot-separated parts (header and payload non-empty).
    #[error("not a JWS compact serialisation (header.payload.signature)")]
    Malformed,
    /// A part is not canonical unpadded base64url.
    #[error("{0} is not base64url")]
    Base64(&'static str),
    /// The header is not the expected JSON object (`alg`, `kid`, `typ: "JWT"`, string
    /// `version`), or carries `crit` (no critical extension is understood, RFC 7515).
    #[error("bad header: {0}")]
    Header(&'static str),
    /// `version` is not a v5 (or later) SuperTokens access token.
    #[error("unsupported access token version")]
    UnsupportedVersion,
    /// `alg: "none"`.
    #[error("unsigned token (alg none)")]
    AlgNone,
    /// The header's `alg` is not the algorithm of the key its `kid` selects.
    #[error("algorithm does not match the key (key is {key})")]
    AlgMismatch {
        /// The algorithm of the selected key.
        key: Algorithm,
    },
    /// No key with the token's `kid`.
    #[error("unknown key id")]
    UnknownKid,
    /// The signature does not verify.
    #[error("bad signature")]
    BadSignature,
    /// The payload is not the expected claims object (missing or mistyped claims,
    /// duplicates, `stt` not 0, an `nbf` that is not a number).
    #[error("bad claims: {0}")]
    Claims(String),
    /// The token's `nbf` lies in the future (beyond the leeway).
    #[error("not valid before its nbf")]
    NotYetValid,
}

impl From<InvalidReason> for VerifyError {
    fn from(r: InvalidReason) -> Self {
        VerifyError::Invalid(r)
    }
}
