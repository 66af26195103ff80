//! The one workload every variant runs: `GET /` with `Host: api.example.com` and a
//! three-cookie `Cookie` header (a session cookie, `prefs` of about 60 bytes and `_ga` of
//! about 316 bytes), answering 200. See `/work/shared/spec/peer-baselines.md`, "Workload".

use axum::body::Body;
use http::{header, HeaderValue, Method, Request};

/// The Host every request carries.
pub const HOST: &str = "api.example.com";

/// The shared domain (what the guard accepts and what cookies are scoped to).
pub const SHARED_DOMAIN: &str = ".example.com";

/// A fixed 22-character tower-sessions-style id, used as the session cookie of the peers
/// that do not read it (so their header is byte-for-byte the baseline's 418 bytes).
pub const PEER_SESSION_ID: &str = "Zq3xY7mN2pL8rT5vW1kB0a";

/// The `prefs` cookie value: 61 bytes, no percent-escapes.
pub const PREFS_VALUE: &str = "theme.dark-lang.en-GB-tz.Europe_London-density.compact-v.3-a1";

/// The `_ga`-style analytics cookie value (318 bytes).
pub fn ga_value() -> String {
    let mut v = String::from("GA1.2.1978453627.1764374400");
    let filler = ".1764374400.90210-gcl_au.1.1.1764374400-fbp.fb.1.1764374400.1234567890";
    while v.len() < 318 {
        v.push_str(filler);
    }
    v.truncate(318);
    v
}

/// `<session cookie>; prefs=<61 B>; _ga=<318 B>`.
///
/// `session_cookie` is `name=value`: `id=<22 chars>` for the peers (418 bytes in all, the
/// baseline's header) and `sAccessToken=<JWT>` for our layers (longer: a real access token).
pub fn cookie_header(session_cookie: &str) -> HeaderValue {
    let s = format!("{session_cookie}; prefs={PREFS_VALUE}; _ga={}", ga_value());
    HeaderValue::from_str(&s).expect("cookie header is visible ASCII")
}

/// The peers' `Cookie` header (418 bytes), with the given 22-character session id.
pub fn peer_cookie_header(session_id: &str) -> HeaderValue {
    cookie_header(&format!("id={session_id}"))
}

/// `GET /` with `Host: api.example.com` and the given `Cookie` header.
pub fn get_request(cookie: &HeaderValue) -> Request<Body> {
    Request::builder()
        .method(Method::GET)
        .uri("/")
        .header(header::HOST, HeaderValue::from_static(HOST))
        .header(header::COOKIE, cookie.clone())
        .body(Body::empty())
        .expect("static request parts are valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_header_is_the_baselines_418_bytes() {
        assert_eq!(PREFS_VALUE.len(), 61);
        assert_eq!(ga_value().len(), 318);
        assert_eq!(peer_cookie_header(PEER_SESSION_ID).len(), 418);
    }
}
