//! SuperTokens v5 access tokens: claims, signing, and verification with a bounded cache.
//!
//! ```
//! use tower_session_refresh::keys::{KeySet, SigningKey};
//! use tower_session_refresh::token::{refresh_token_hash, AccessTokenClaims, AccessTokenVerifier};
//!
//! let keys = KeySet::new(SigningKey::generate_ed25519("k1")?);
//! let now = std::time::SystemTime::now()
//!     .duration_since(std::time::UNIX_EPOCH)?
//!     .as_secs();
//! let claims = AccessTokenClaims::new("user-1", "handle-1", refresh_token_hash("rt"), now, 3600);
//! let token = keys.sign(&claims)?;
//!
//! let verifier = AccessTokenVerifier::new(keys.clone());
//! let verified = verifier.verify_sync(&token)?; // or `verifier.verify(&token).await?`
//! assert_eq!(verified.sub, "user-1");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod cache;
mod claims;

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde::Deserialize;

pub use claims::{AccessTokenClaims, PROTECTED_CLAIMS};

use crate::keys::{Algorithm, KeySet, VerifyingKey, B64};
use cache::{Lookup, TokenCache};

/// A verified access token's claims (shared: cached verifications hand out the same `Arc`).
pub type VerifiedToken = Arc<AccessTokenClaims>;

/// Default maximum token length accepted by a verifier, in bytes.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 8 * 1024;
/// Default number of verified tokens a verifier caches.
pub const DEFAULT_CACHE_CAPACITY: usize = 4096;

/// Lowercase hex SHA-256 of a refresh token: the value of `refreshTokenHash1`.
///
/// ```
/// use tower_session_refresh::token::refresh_token_hash;
/// assert_eq!(
///     refresh_token_hash("abc"),
///     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
/// );
/// ```
pub fn refresh_token_hash(token: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
    let mut out = String::with_capacity(64);
    for b in digest.as_ref() {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out
}

/// Why a token could not be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The payload uses a claim name reserved for the session (see [`PROTECTED_CLAIMS`]).
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

// ---------------------------------------------------------------------------------------------
// Signing

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

// ---------------------------------------------------------------------------------------------
// Key sources

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

// ---------------------------------------------------------------------------------------------
// Verification

/// Why a verifier configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifierConfigError {
    /// `max_token_bytes` must be between 256 bytes and 1 MiB.
    #[error("max_token_bytes must be between 256 and 1048576, got {0}")]
    MaxTokenBytes(usize),
    /// The leeway must be at most 5 minutes.
    #[error("leeway must be at most 300 s, got {0:?}")]
    Leeway(Duration),
    /// The cache capacity must be at most 16 Mi entries.
    #[error("cache capacity must be at most 16777216, got {0}")]
    CacheCapacity(usize),
}

/// Verifies access tokens: structure, size, `kid` lookup, algorithm fixed by the key,
/// signature, claims, expiry; with a bounded cache of verified tokens.
///
/// Clone is cheap (`Arc` inside). Works with no secret and no store when its
/// [`KeySource`] is a remote JWKS or a verify-only [`KeySet`].
///
/// Expiry: a token is expired when `now > exp + leeway` (leeway 0 by default, as in
/// SuperTokens). `iat` is not checked (clock skew between servers must not sign users out).
/// `iss` is not checked (SuperTokens does not either).
///
/// The cache holds up to `cache_capacity` tokens (default 4096, each at most
/// `max_token_bytes`), keyed by a randomly keyed hash and confirmed by comparing the whole
/// token in constant time, so it can never accept a token that was not verified itself.
/// Entries die at `exp + leeway` and when keys are removed or rotated.
///
/// ```
/// use std::time::Duration;
/// use tower_session_refresh::keys::{KeySet, SigningKey};
/// use tower_session_refresh::token::{AccessTokenClaims, AccessTokenVerifier, VerifyError};
///
/// let keys = KeySet::new(SigningKey::hs256("k", &[3u8; 32])?);
/// let token = keys.sign(&AccessTokenClaims::new("u", "h", "ab", 1_000, 60))?;
/// let verifier = AccessTokenVerifier::builder(keys)
///     .leeway(Duration::from_secs(5))
///     .max_token_bytes(4096)
///     .cache_capacity(0) // disable the cache
///     .build()?;
/// let at = |s| std::time::UNIX_EPOCH + Duration::from_secs(s);
/// assert!(verifier.verify_sync_at(&token, at(1_064)).is_ok()); // within leeway
/// assert_eq!(verifier.verify_sync_at(&token, at(1_066)), Err(VerifyError::Expired));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct AccessTokenVerifier {
    inner: Arc<VerifierInner>,
}

struct VerifierInner {
    source: Box<dyn KeySource>,
    leeway: Duration,
    max_token_bytes: usize,
    cache: Option<TokenCache>,
}

impl fmt::Debug for AccessTokenVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessTokenVerifier")
            .field("leeway", &self.inner.leeway)
            .field("max_token_bytes", &self.inner.max_token_bytes)
            .field(
                "cache_capacity",
                &self.inner.cache.as_ref().map_or(0, TokenCache::capacity),
            )
            .finish_non_exhaustive()
    }
}

/// Builder for [`AccessTokenVerifier`]; validated once by [`build`](Self::build).
pub struct VerifierBuilder {
    source: Box<dyn KeySource>,
    leeway: Duration,
    max_token_bytes: usize,
    cache_capacity: usize,
}

impl fmt::Debug for VerifierBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifierBuilder")
            .field("leeway", &self.leeway)
            .field("max_token_bytes", &self.max_token_bytes)
            .field("cache_capacity", &self.cache_capacity)
            .finish_non_exhaustive()
    }
}

impl VerifierBuilder {
    /// Clock leeway added to `exp` (default 0, at most 5 minutes).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Longest token accepted, in bytes (default [`DEFAULT_MAX_TOKEN_BYTES`]).
    pub fn max_token_bytes(mut self, max: usize) -> Self {
        self.max_token_bytes = max;
        self
    }

    /// Number of verified tokens cached (default [`DEFAULT_CACHE_CAPACITY`]); 0 disables
    /// the cache.
    pub fn cache_capacity(mut self, capacity: usize) -> Self {
        self.cache_capacity = capacity;
        self
    }

    /// Validates the configuration.
    pub fn build(self) -> Result<AccessTokenVerifier, VerifierConfigError> {
        if !(256..=1 << 20).contains(&self.max_token_bytes) {
            return Err(VerifierConfigError::MaxTokenBytes(self.max_token_bytes));
        }
        if self.leeway > Duration::from_secs(300) {
            return Err(VerifierConfigError::Leeway(self.leeway));
        }
        if self.cache_capacity > 1 << 24 {
            return Err(VerifierConfigError::CacheCapacity(self.cache_capacity));
        }
        Ok(AccessTokenVerifier {
            inner: Arc::new(VerifierInner {
                source: self.source,
                leeway: self.leeway,
                max_token_bytes: self.max_token_bytes,
                cache: (self.cache_capacity > 0).then(|| TokenCache::new(self.cache_capacity)),
            }),
        })
    }
}

#[derive(Deserialize)]
struct Header<'a> {
    #[serde(borrow)]
    alg: Option<Cow<'a, str>>,
    #[serde(borrow)]
    kid: Option<Cow<'a, str>>,
    #[serde(borrow)]
    typ: Option<Cow<'a, str>>,
    #[serde(borrow)]
    version: Option<Cow<'a, str>>,
    /// RFC 7515 §4.1.11: critical extensions this verifier would have to understand.
    #[serde(default)]
    crit: Present,
}

/// Whether a member is present at all (`null` included), whatever its value.
#[derive(Default)]
struct Present(bool);

impl<'de> Deserialize<'de> for Present {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(d)?;
        Ok(Present(true))
    }
}

/// The outcome of the synchronous part of a verification.
enum Step<'t> {
    Done(Result<VerifiedToken, VerifyError>),
    /// The kid is not known to the key source.
    NeedKey(Parsed<'t>, String),
}

struct Parsed<'t> {
    token: &'t str,
    signing_input: &'t str,
    payload_b64: &'t str,
    signature_b64: &'t str,
    alg: HeaderAlg,
}

/// The header's `alg`, without allocating.
#[derive(Clone, Copy, PartialEq, Eq)]
enum HeaderAlg {
    Known(Algorithm),
    Other,
}

impl HeaderAlg {
    fn parse(alg: &str) -> Self {
        match alg {
            "EdDSA" => HeaderAlg::Known(Algorithm::EdDSA),
            "RS256" => HeaderAlg::Known(Algorithm::RS256),
            "HS256" => HeaderAlg::Known(Algorithm::HS256),
            _ => HeaderAlg::Other,
        }
    }
}

/// Longest header (decoded) and signature (decoded: RSA-8192) handled.
const MAX_HEADER_BYTES: usize = 1024;
const MAX_SIGNATURE_BYTES: usize = 1024;

fn since_epoch(now: SystemTime) -> Duration {
    now.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO)
}

impl AccessTokenVerifier {
    /// A verifier with the default configuration (no leeway, 8 KiB limit, 4096-entry cache).
    pub fn new(source: impl KeySource) -> Self {
        Self::from_builder_infallible(Self::builder(source))
    }

    fn from_builder_infallible(b: VerifierBuilder) -> Self {
        AccessTokenVerifier {
            inner: Arc::new(VerifierInner {
                source: b.source,
                leeway: b.leeway,
                max_token_bytes: b.max_token_bytes,
                cache: (b.cache_capacity > 0).then(|| TokenCache::new(b.cache_capacity)),
            }),
        }
    }

    /// A builder over `source`.
    pub fn builder(source: impl KeySource) -> VerifierBuilder {
        VerifierBuilder {
            source: Box::new(source),
            leeway: Duration::ZERO,
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
            cache_capacity: DEFAULT_CACHE_CAPACITY,
        }
    }

    /// Verifies `token` now. Completes without waiting unless the kid is unknown and the key
    /// source fetches keys (remote JWKS).
    pub async fn verify(&self, token: &str) -> Result<VerifiedToken, VerifyError> {
        self.verify_at(token, SystemTime::now()).await
    }

    /// Verifies `token` as of `now`.
    pub async fn verify_at(
        &self,
        token: &str,
        now: SystemTime,
    ) -> Result<VerifiedToken, VerifyError> {
        let now = since_epoch(now);
        match self.verify_local(token, now) {
            Step::Done(r) => r,
            Step::NeedKey(parsed, kid) => {
                // Read before fetching: never newer than the key used (the fetch itself
                // bumps it, which at worst costs one more verification later).
                let generation = self.inner.source.generation();
                match self.inner.source.fetch_key(&kid).await? {
                    Some(key) => self.verify_with_key(parsed, &key, now, generation),
                    None => Err(InvalidReason::UnknownKid.into()),
                }
            }
        }
    }

    /// Verifies `token` now, without ever fetching keys: an unknown kid is
    /// [`InvalidReason::UnknownKid`].
    pub fn verify_sync(&self, token: &str) -> Result<VerifiedToken, VerifyError> {
        self.verify_sync_at(token, SystemTime::now())
    }

    /// Verifies `token` as of `now`, without ever fetching keys.
    pub fn verify_sync_at(
        &self,
        token: &str,
        now: SystemTime,
    ) -> Result<VerifiedToken, VerifyError> {
        match self.verify_local(token, since_epoch(now)) {
            Step::Done(r) => r,
            Step::NeedKey(..) => Err(InvalidReason::UnknownKid.into()),
        }
    }

    /// The configured leeway.
    pub fn leeway(&self) -> Duration {
        self.inner.leeway
    }

    /// The configured token size limit.
    pub fn max_token_bytes(&self) -> usize {
        self.inner.max_token_bytes
    }

    fn verify_local<'t>(&self, token: &'t str, now: Duration) -> Step<'t> {
        let inner = &*self.inner;
        if token.len() > inner.max_token_bytes {
            return Step::Done(Err(InvalidReason::TooLarge {
                len: token.len(),
                max: inner.max_token_bytes,
            }
            .into()));
        }
        // Read before the key lookup: a key removed after this point changes the generation,
        // so an entry stored under this one is never served.
        let generation = inner.source.generation();
        if let Some(cache) = &inner.cache {
            match cache.get(token, now, generation) {
                Lookup::Hit(claims) => return Step::Done(Ok(claims)),
                Lookup::Expired => return Step::Done(Err(VerifyError::Expired)),
                Lookup::Miss => {}
            }
        }
        let mut header_buf = [0u8; MAX_HEADER_BYTES];
        let (parsed, kid) = match parse(token, &mut header_buf) {
            Ok(p) => p,
            Err(e) => return Step::Done(Err(e.into())),
        };
        match inner.source.key(&kid) {
            Some(key) => Step::Done(self.verify_with_key(parsed, &key, now, generation)),
            None => Step::NeedKey(parsed, kid.into_owned()),
        }
    }

    fn verify_with_key(
        &self,
        parsed: Parsed<'_>,
        key: &VerifyingKey,
        now: Duration,
        generation: u64,
    ) -> Result<VerifiedToken, VerifyError> {
        let inner = &*self.inner;
        if parsed.alg != HeaderAlg::Known(key.algorithm()) {
            return Err(InvalidReason::AlgMismatch {
                key: key.algorithm(),
            }
            .into());
        }
        let mut sig_buf = [0u8; MAX_SIGNATURE_BYTES];
        if parsed.signature_b64.len() > MAX_SIGNATURE_BYTES * 4 / 3 + 3 {
            return Err(InvalidReason::BadSignature.into());
        }
        let sig_len = B64
            .decode_slice(parsed.signature_b64, &mut sig_buf)
            .map_err(|_| InvalidReason::Base64("signature"))?;
        if !key.verify_signature(parsed.signing_input.as_bytes(), &sig_buf[..sig_len]) {
            return Err(InvalidReason::BadSignature.into());
        }
        let claims = decode_claims(parsed.payload_b64)?;
        let deadline = Duration::from_secs(claims.exp).saturating_add(inner.leeway);
        if now > deadline {
            return Err(VerifyError::Expired);
        }
        // SuperTokens never sets `nbf`; a token that does is held to it (RFC 7519 §4.1.5),
        // as jose does for supertokens-node.
        if let Some(nbf) = claims.payload.get("nbf") {
            let Some(nbf) = nbf.as_f64() else {
                return Err(InvalidReason::Claims("nbf is not a number".to_owned()).into());
            };
            if nbf > now.saturating_add(inner.leeway).as_secs_f64() {
                return Err(InvalidReason::NotYetValid.into());
            }
        }
        let claims = Arc::new(claims);
        if let Some(cache) = &inner.cache {
            cache.insert(parsed.token, &claims, deadline, generation);
        }
        Ok(claims)
    }
}

/// Decodes and parses the payload (on the stack when it is small enough).
fn decode_claims(payload_b64: &str) -> Result<AccessTokenClaims, InvalidReason> {
    const STACK: usize = 2048;
    let parse = |bytes: &[u8]| {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| InvalidReason::Claims("payload is not UTF-8".to_owned()))?;
        serde_json::from_str::<AccessTokenClaims>(text)
            .map_err(|e| InvalidReason::Claims(claims_error(&e)))
    };
    if payload_b64.len() <= STACK / 3 * 4 {
        let mut buf = [0u8; STACK];
        let len = B64
            .decode_slice(payload_b64, &mut buf)
            .map_err(|_| InvalidReason::Base64("payload"))?;
        parse(&buf[..len])
    } else {
        let bytes = B64
            .decode(payload_b64)
            .map_err(|_| InvalidReason::Base64("payload"))?;
        parse(&bytes)
    }
}

/// serde_json's message without the input echoed (its messages name positions, not content,
/// except for unknown variants, which our visitors never produce).
fn claims_error(e: &serde_json::Error) -> String {
    if e.is_syntax() || e.is_eof() {
        "payload is not JSON".to_owned()
    } else {
        e.to_string()
    }
}

/// Splits the token and checks the header (decoded into `buf`); returns the kid.
fn parse<'t, 'b>(
    token: &'t str,
    buf: &'b mut [u8; MAX_HEADER_BYTES],
) -> Result<(Parsed<'t>, Cow<'b, str>), InvalidReason> {
    let mut parts = token.splitn(4, '.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(InvalidReason::Malformed);
    };
    // An empty signature gets as far as the header checks, so `alg: none` tokens
    // (`header.payload.`) are reported as such.
    if h.is_empty() || p.is_empty() {
        return Err(InvalidReason::Malformed);
    }
    if h.len() > MAX_HEADER_BYTES * 4 / 3 {
        return Err(InvalidReason::Header("header too long"));
    }
    let len = B64
        .decode_slice(h, &mut buf[..])
        .map_err(|_| InvalidReason::Base64("header"))?;
    let buf: &'b [u8] = buf;
    let header: Header<'b> = serde_json::from_slice(&buf[..len])
        .map_err(|_| InvalidReason::Header("not a JSON object with string members"))?;
    if header.crit.0 {
        // It names extensions that must be understood, and none is (RFC 7515 §4.1.11).
        return Err(InvalidReason::Header("crit parameter not understood"));
    }
    let alg = header.alg.ok_or(InvalidReason::Header("missing alg"))?;
    if alg.eq_ignore_ascii_case("none") {
        return Err(InvalidReason::AlgNone);
    }
    if header.typ.as_deref() != Some("JWT") {
        return Err(InvalidReason::Header("typ is not JWT"));
    }
    let version = header
        .version
        .ok_or(InvalidReason::Header("missing version"))?;
    match version.parse::<u32>() {
        Ok(v) if v >= 5 => {}
        _ => return Err(InvalidReason::UnsupportedVersion),
    }
    let kid = header.kid.ok_or(InvalidReason::Header("missing kid"))?;
    Ok((
        Parsed {
            token,
            signing_input: &token[..h.len() + 1 + p.len()],
            payload_b64: p,
            signature_b64: s,
            alg: HeaderAlg::parse(&alg),
        },
        kid,
    ))
}
