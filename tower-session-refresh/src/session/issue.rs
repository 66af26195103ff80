//! Minting: session handles, refresh tokens, anti-CSRF tokens, and writing new tokens
//! through the request's [`SessionTokens`] handle.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::rand::{SecureRandom, SystemRandom};
use tower_session_cookie::{FrontToken, SessionTokens, TransferMethod};

use crate::token::AccessTokenClaims;

/// Seconds since the Unix epoch.
pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
}

/// The `exp` claim for a token issued now with `lifetime`: `floor((now_ms + lifetime_ms) /
/// 1000)`, as the SuperTokens core computes it, so a token never outlives its configured
/// lifetime (the SDK suite waits exactly the lifetime and expects a refresh). A 1-second
/// token thus lives between a few milliseconds and one second; the SDK refreshes and
/// retries, as against the core.
pub(crate) fn expiry_secs(lifetime: Duration) -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .saturating_add(lifetime)
        .as_secs()
}

fn random<const N: usize>() -> Result<[u8; N], ring::error::Unspecified> {
    let mut bytes = [0u8; N];
    SystemRandom::new().fill(&mut bytes)?;
    Ok(bytes)
}

/// A new session handle: a random (version 4) UUID, as the SuperTokens core uses.
pub(crate) fn new_handle() -> Result<String, ring::error::Unspecified> {
    let mut b = random::<16>()?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    ))
}

/// The largest generation a refresh token may name: 15 decimal digits, below 2^53, so that
/// every store (Lua numbers in Redis, `bigint` in SQL) compares it exactly. At one refresh
/// a second, that is 31 million years.
const MAX_GENERATION_DIGITS: usize = 15;

/// A session's first refresh token: a new family secret (256 bits) and generation 0.
pub(crate) fn first_refresh_token(handle: &str) -> Result<String, ring::error::Unspecified> {
    let family = random::<32>()?;
    let mut encoded = String::with_capacity(43);
    URL_SAFE_NO_PAD.encode_string(family, &mut encoded);
    refresh_token(handle, 0, &encoded)
}

/// The refresh token that follows `presented`: same handle and family, the next generation,
/// a new token secret.
pub(crate) fn next_refresh_token(
    presented: &RefreshToken<'_>,
) -> Result<String, ring::error::Unspecified> {
    refresh_token(presented.handle, presented.generation + 1, presented.family)
}

/// `<handle>.<generation>.<family secret>.<token secret>` (secrets: 256 bits, base64url).
fn refresh_token(
    handle: &str,
    generation: u64,
    family: &str,
) -> Result<String, ring::error::Unspecified> {
    let secret = random::<32>()?;
    let mut token = String::with_capacity(handle.len() + 16 + 2 * 44);
    token.push_str(handle);
    token.push('.');
    token.push_str(&generation.to_string());
    token.push('.');
    token.push_str(family);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(secret, &mut token);
    Ok(token)
}

/// A well-formed refresh token, split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RefreshToken<'a> {
    pub(crate) handle: &'a str,
    pub(crate) generation: u64,
    /// The family secret, base64url (as carried; only its hash reaches a store).
    family: &'a str,
}

impl RefreshToken<'_> {
    /// The hash of the family secret, as the store keeps it (hex SHA-256, domain-separated
    /// from token hashes).
    pub(crate) fn family_hash(&self) -> String {
        family_hash(self.family)
    }
}

/// Hex SHA-256 of a family secret, with a domain-separation prefix.
pub(crate) fn family_hash(family: &str) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(b"tower-session-refresh family v1\0");
    ctx.update(family.as_bytes());
    let mut out = String::with_capacity(64);
    for b in ctx.finish().as_ref() {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Splits a refresh token `<handle>.<generation>.<family>.<secret>`: a handle of 1 to 128
/// URL-safe characters, a canonical decimal generation (no leading zero, at most
/// 15 digits), two 43-character base64url secrets. Anything else is `None` (malformed).
pub(crate) fn parse_refresh_token(token: &str) -> Option<RefreshToken<'_>> {
    let mut parts = token.split('.');
    let (handle, generation, family, secret) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let url_safe = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    let well_formed = !handle.is_empty()
        && handle.len() <= 128
        && url_safe(handle)
        && !generation.is_empty()
        && generation.len() <= MAX_GENERATION_DIGITS
        && generation.bytes().all(|b| b.is_ascii_digit())
        && (generation == "0" || !generation.starts_with('0'))
        && family.len() == 43
        && url_safe(family)
        && secret.len() == 43
        && url_safe(secret);
    if !well_formed {
        return None;
    }
    Some(RefreshToken {
        handle,
        generation: generation.parse().ok()?,
        family,
    })
}

/// The `VIA_TOKEN` anti-CSRF token that belongs to a refresh token: derived from it
/// (SHA-256 with a domain-separation prefix), so the refresh route can check the echoed
/// header without storing anything, and a page that cannot read the HttpOnly refresh
/// cookie cannot compute it.
pub(crate) fn anti_csrf_for(refresh_token: &str) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(b"tower-session-refresh anti-csrf v1\0");
    ctx.update(refresh_token.as_bytes());
    URL_SAFE_NO_PAD.encode(ctx.finish())
}

/// Records a new access token and its `front-token` on the handle.
pub(crate) fn write_access(
    tokens: &SessionTokens,
    method: TransferMethod,
    access: String,
    claims: &AccessTokenClaims,
) {
    tokens.set_access_token(method, access);
    tokens.set_front_token(FrontToken::new(
        &claims.sub,
        claims.expires_at_ms(),
        &claims.to_json(),
    ));
}

/// Records a full token set (create, refresh): access token, front-token, refresh token,
/// and the anti-CSRF token when there is one.
pub(crate) fn write_session(
    tokens: &SessionTokens,
    method: TransferMethod,
    access: String,
    claims: &AccessTokenClaims,
    refresh: String,
    refresh_expires: SystemTime,
) {
    write_access(tokens, method, access, claims);
    tokens.set_refresh_token(method, refresh, refresh_expires);
    if let Some(anti_csrf) = &claims.anti_csrf_token {
        tokens.set_anti_csrf(anti_csrf.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_and_refresh_tokens() {
        let handle = new_handle().expect("rng");
        assert_eq!(handle.len(), 36);
        assert_eq!(&handle[14..15], "4");
        let first = first_refresh_token(&handle).expect("rng");
        let parsed = parse_refresh_token(&first).expect("well formed");
        assert_eq!(parsed.handle, handle);
        assert_eq!(parsed.generation, 0);
        let next = next_refresh_token(&parsed).expect("rng");
        let next_parsed = parse_refresh_token(&next).expect("well formed");
        assert_eq!(next_parsed.generation, 1);
        assert_eq!(
            next_parsed.family_hash(),
            parsed.family_hash(),
            "one family"
        );
        assert_ne!(next, first);
        let other = parse_refresh_token(&first_refresh_token(&handle).expect("rng"))
            .expect("well formed")
            .family_hash();
        assert_ne!(other, parsed.family_hash(), "a new family per session");
        assert_ne!(
            parsed.family_hash(),
            crate::token::refresh_token_hash(parsed.family),
            "family hashes are domain-separated"
        );

        let b = "A".repeat(43);
        for bad in [
            "nohandle".to_owned(),
            format!("{handle}.{b}"),
            format!(".0.{b}.{b}"),
            format!("{handle}..{b}.{b}"),
            format!("{handle}.01.{b}.{b}"),
            format!("{handle}.-1.{b}.{b}"),
            format!("{handle}.1x.{b}.{b}"),
            format!("{handle}.{}.{b}.{b}", "9".repeat(16)),
            format!("{handle}.0.{b}.short"),
            format!("{handle}.0.{b}A.{b}"),
            format!("{handle}.0.{b}.{b}.x"),
            format!("{handle}.0.{}.{b}", "+".repeat(43)),
        ] {
            assert_eq!(parse_refresh_token(&bad), None, "{bad}");
        }
        let max = format!("{handle}.{}.{b}.{b}", "9".repeat(15));
        assert_eq!(
            parse_refresh_token(&max).map(|t| t.generation),
            Some(999_999_999_999_999)
        );
        assert_ne!(anti_csrf_for(&first), anti_csrf_for(&next));
    }
}
