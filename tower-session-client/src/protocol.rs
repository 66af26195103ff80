//! The wire protocol as the SDK speaks it: header names, the `front-token` it decodes, and
//! what counts as "unauthorised".

use std::time::{SystemTime, UNIX_EPOCH};

use http::{HeaderName, Response, StatusCode};

// The workspace's one set of header names (`tower_session_cookie::headers`), as `HeaderName`s.
use tower_session_cookie::headers as names;
pub(crate) const RID: HeaderName = HeaderName::from_static(names::RID);
pub(crate) const ST_AUTH_MODE: HeaderName = HeaderName::from_static(names::ST_AUTH_MODE);
pub(crate) const ANTI_CSRF: HeaderName = HeaderName::from_static(names::ANTI_CSRF);
pub(crate) const FRONT_TOKEN: HeaderName = HeaderName::from_static(names::FRONT_TOKEN);
pub(crate) const ST_ACCESS: HeaderName = HeaderName::from_static(names::ST_ACCESS_TOKEN);
pub(crate) const ST_REFRESH: HeaderName = HeaderName::from_static(names::ST_REFRESH_TOKEN);
pub(crate) const FDI_VERSION: HeaderName = HeaderName::from_static(names::FDI_VERSION);
const GRPC_STATUS: HeaderName = HeaderName::from_static("grpc-status");
/// What `supertokens-website` 20.1.6 sends.
pub(crate) const FDI_VERSIONS: &str = "1.16,1.17,1.18,1.19,2.0,3.0,3.1,4.0,4.1";

/// What the `front-token` told us.
#[derive(Clone)]
pub(crate) struct Front {
    pub(crate) raw: String,
    pub(crate) uid: String,
    /// Access-token expiry, ms since the epoch, server clock.
    pub(crate) ate_ms: u64,
    /// Server clock minus ours, from `up.iat` (0 when under 7 s, as the SDK does).
    pub(crate) skew_ms: i64,
    pub(crate) payload: serde_json::Value,
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Reads a `front-token` with the workspace's one decoder,
/// [`tower_session_cookie::FrontToken::decode`].
pub(crate) fn parse_front(raw: &str) -> Option<Front> {
    let raw = raw.trim();
    let decoded = tower_session_cookie::FrontToken::decode(raw).ok()?;
    let uid = decoded.uid().to_owned();
    let ate_ms = decoded.access_token_expiry_ms();
    let payload = decoded.into_payload();
    let skew_ms = payload
        .get("iat")
        .and_then(|i| i.as_i64())
        .map(|iat| iat.saturating_mul(1000).saturating_sub(now_ms()))
        .filter(|s| s.abs() >= 7000)
        .unwrap_or(0);
    Some(Front {
        raw: raw.to_owned(),
        uid,
        ate_ms,
        skew_ms,
        payload,
    })
}

/// The session-expired status (401 by default), or a gRPC trailers-only response with `grpc-status: 16` (UNAUTHENTICATED).
pub(crate) fn is_unauthorised<B>(resp: &Response<B>, expired: StatusCode) -> bool {
    resp.status() == expired
        || resp
            .headers()
            .get(GRPC_STATUS)
            .is_some_and(|v| v.as_bytes() == b"16")
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    #[test]
    fn front_token_parses_standard_base64() {
        let raw = base64::engine::general_purpose::STANDARD
            .encode(br#"{"uid":"alice","ate":1700000000000,"up":{"sub":"alice"}}"#);
        let f = parse_front(&raw).map(|f| (f.uid, f.ate_ms, f.skew_ms));
        assert_eq!(f, Some(("alice".to_owned(), 1_700_000_000_000, 0)));
        assert!(parse_front("remove").is_none());
    }
}
