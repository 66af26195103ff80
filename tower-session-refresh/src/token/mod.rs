//! SuperTokens v5 access tokens: claims, where verification keys come from, and
//! verification with a bounded cache (signing is
//! [`KeySet::sign`](crate::keys::KeySet::sign)).
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
mod error;
mod header;
mod source;

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde::Deserialize;

pub use claims::{AccessTokenClaims, PROTECTED_CLAIMS};
pub use error::{InvalidReason, TokenError, VerifyError};
pub use source::{KeyFuture, KeySource};

use crate::keys::{Algorithm, VerifyingKey, B64};
use cache::{Lookup, TokenCache};
use header::HeaderMemo;

/// A verified access token's claims (shared: cached verifications hand out the same `Arc`).
pub type VerifiedToken = Arc<AccessTokenClaims>;

/// Default maximum token length accepted by a verifier, in bytes.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 8 * 1024;
/// Default number of verified tokens a verifier caches: enough for 100,000 users active
/// within one access-token lifetime. The cache takes about 45 bytes per entry up front
/// (6 MiB at this size), and each cached token then holds its token string and claims
/// (see [`AccessTokenVerifier`]).
pub const DEFAULT_CACHE_CAPACITY: usize = 131_072;

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
/// [`KeySource`] is a remote JWKS or a verify-only [`KeySet`](crate::keys::KeySet).
///
/// Expiry: a token is expired when `now > exp + leeway` (leeway 0 by default, as in
/// SuperTokens). `iat` is not checked (clock skew between servers must not sign users out).
/// `iss` is not checked (SuperTokens does not either).
///
/// The cache holds up to `cache_capacity` tokens (default [`DEFAULT_CACHE_CAPACITY`],
/// rounded up to a multiple of 16), placed by a randomly keyed hash of the signature and
/// confirmed by comparing the whole token in constant time, so it can never accept a token
/// that was not verified itself. It is set-associative (16 entries per set, one short lock
/// per set, never held across an await), so tokens that share a set do not evict each other
/// until the set is full; then expired entries go first, then ones not hit recently.
/// Entries die at `exp + leeway` and when keys are removed or rotated. Memory: about 45
/// bytes per entry up front, plus, per cached token, its bytes and its claims (measured:
/// 1.2 KiB for a SuperTokens token without payload claims, 2.5 KiB with a one-claim payload).
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
    headers: HeaderMemo,
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

    /// Number of verified tokens cached (default [`DEFAULT_CACHE_CAPACITY`], rounded up to a
    /// multiple of 16); 0 disables the cache. Size it for the users active within one
    /// access-token lifetime: past that, tokens are verified again more often.
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
                headers: HeaderMemo::default(),
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
    /// The header segment, when it was decoded and parsed for this token (not found in
    /// the memo): remembered once the signature checks out.
    fresh_header: Option<&'t str>,
    signing_input: &'t str,
    payload_b64: &'t str,
    signature_b64: &'t str,
    alg: HeaderAlg,
}

/// The header's `alg`, without allocating.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
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
/// Signatures up to this size (Ed25519, HMAC-SHA256) are decoded into a small buffer.
const SMALL_SIGNATURE_BYTES: usize = 64;

fn since_epoch(now: SystemTime) -> Duration {
    now.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO)
}

impl AccessTokenVerifier {
    /// A verifier with the default configuration (no leeway, 8 KiB limit, a cache of
    /// [`DEFAULT_CACHE_CAPACITY`] tokens).
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
                headers: HeaderMemo::default(),
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
                    Some(key) => self.verify_with_key(parsed, &kid, &key, now, generation),
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
        let segments = match split(token) {
            Ok(s) => s,
            Err(e) => return Step::Done(Err(e.into())),
        };
        // Most tokens carry one of a few headers (one per signing key): parsed once.
        if let Some((alg, kid)) = inner.headers.find(segments.0) {
            let parsed = Parsed::new(token, segments, alg, None);
            return match inner.source.key(&kid) {
                Some(key) => Step::Done(self.verify_with_key(parsed, &kid, &key, now, generation)),
                None => Step::NeedKey(parsed, kid.as_ref().to_owned()),
            };
        }
        let mut header_buf = [0u8; MAX_HEADER_BYTES];
        let (alg, kid) = match parse_header(segments, &mut header_buf) {
            Ok(p) => p,
            Err(e) => return Step::Done(Err(e.into())),
        };
        let parsed = Parsed::new(token, segments, alg, Some(segments.0));
        match inner.source.key(&kid) {
            Some(key) => Step::Done(self.verify_with_key(parsed, &kid, &key, now, generation)),
            None => Step::NeedKey(parsed, kid.into_owned()),
        }
    }

    fn verify_with_key(
        &self,
        parsed: Parsed<'_>,
        kid: &str,
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
        if parsed.signature_b64.len() > MAX_SIGNATURE_BYTES * 4 / 3 + 3 {
            return Err(InvalidReason::BadSignature.into());
        }
        let signed = |sig: &[u8]| key.verify_signature(parsed.signing_input.as_bytes(), sig);
        let valid = if parsed.signature_b64.len() <= SMALL_SIGNATURE_BYTES * 4 / 3 + 1 {
            let mut buf = [0u8; SMALL_SIGNATURE_BYTES];
            let len = B64
                .decode_slice(parsed.signature_b64, &mut buf)
                .map_err(|_| InvalidReason::Base64("signature"))?;
            signed(&buf[..len])
        } else {
            let mut buf = [0u8; MAX_SIGNATURE_BYTES];
            let len = B64
                .decode_slice(parsed.signature_b64, &mut buf)
                .map_err(|_| InvalidReason::Base64("signature"))?;
            signed(&buf[..len])
        };
        if !valid {
            return Err(InvalidReason::BadSignature.into());
        }
        // Only headers of correctly signed tokens are remembered, so forged tokens cannot
        // push the real ones out.
        if let Some(header) = parsed.fresh_header {
            inner.headers.remember(header, parsed.alg, kid);
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
            cache.insert(parsed.token, &claims, deadline, now, generation);
        }
        Ok(claims)
    }
}

/// Decodes and parses the payload (on the stack when it is small enough).
fn decode_claims(payload_b64: &str) -> Result<AccessTokenClaims, InvalidReason> {
    const STACK: usize = 1024;
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

/// The three segments of a compact JWS: header, payload, signature.
type Segments<'t> = (&'t str, &'t str, &'t str);

impl<'t> Parsed<'t> {
    fn new(
        token: &'t str,
        (h, p, s): Segments<'t>,
        alg: HeaderAlg,
        fresh_header: Option<&'t str>,
    ) -> Self {
        Parsed {
            token,
            fresh_header,
            signing_input: &token[..h.len() + 1 + p.len()],
            payload_b64: p,
            signature_b64: s,
            alg,
        }
    }
}

/// Splits the token into exactly three segments (two dots), header and payload non-empty.
fn split(token: &str) -> Result<Segments<'_>, InvalidReason> {
    let bytes = token.as_bytes();
    let (Some(first), Some(last)) = (memchr::memchr(b'.', bytes), memchr::memrchr(b'.', bytes))
    else {
        return Err(InvalidReason::Malformed);
    };
    if first == last || memchr::memchr(b'.', &bytes[first + 1..last]).is_some() {
        return Err(InvalidReason::Malformed);
    }
    let (h, p, s) = (&token[..first], &token[first + 1..last], &token[last + 1..]);
    // An empty signature gets as far as the header checks, so `alg: none` tokens
    // (`header.payload.`) are reported as such.
    if h.is_empty() || p.is_empty() {
        return Err(InvalidReason::Malformed);
    }
    Ok((h, p, s))
}

/// Checks the header (decoded into `buf`); returns its `alg` and the kid.
fn parse_header<'b>(
    (h, _, _): Segments<'_>,
    buf: &'b mut [u8; MAX_HEADER_BYTES],
) -> Result<(HeaderAlg, Cow<'b, str>), InvalidReason> {
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
    Ok((HeaderAlg::parse(&alg), kid))
}
