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

/// The `exp` claim for a token issued now with `lifetime`: rounded **up** to whole seconds,
/// so a token lives at least its configured lifetime (`iat` is rounded down, as the
/// SuperTokens core does; rounding `exp` down too would leave a 1-second token almost no
/// time to be used, and the SDK would refresh again before its retries land).
pub(crate) fn expiry_secs(lifetime: Duration) -> u64 {
    let at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .saturating_add(lifetime);
    at.as_secs() + u64::from(at.subsec_nanos() > 0)
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

/// A new refresh token for `handle`: `<handle>.<256-bit secret, base64url>`.
pub(crate) fn new_refresh_token(handle: &str) -> Result<String, ring::error::Unspecified> {
    let secret = random::<32>()?;
    let mut token = String::with_capacity(handle.len() + 44);
    token.push_str(handle);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(secret, &mut token);
    Ok(token)
}

/// The session handle of a well-formed refresh token (`<handle>.<43 base64url chars>`).
pub(crate) fn refresh_token_handle(token: &str) -> Option<&str> {
    let (handle, secret) = token.rsplit_once('.')?;
    let well_formed = !handle.is_empty()
        && handle.len() <= 128
        && handle
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && secret.len() == 43
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    well_formed.then_some(handle)
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
        let token = new_refresh_token(&handle).expect("rng");
        assert_eq!(refresh_token_handle(&token), Some(handle.as_str()));
        assert_eq!(refresh_token_handle("nohandle"), None);
        assert_eq!(refresh_token_handle(".abc"), None);
        assert_eq!(refresh_token_handle(&format!("{handle}.short")), None);
        assert_ne!(
            anti_csrf_for(&token),
            anti_csrf_for(&new_refresh_token(&handle).expect("rng"))
        );
    }
}
