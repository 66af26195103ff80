//! Reading the session tokens a request carries, once, on the hot path.
//!
//! Only the two session cookie names are looked at: other cookies are skipped without
//! being decoded or copied: pairs are found with `memchr` (SIMD), the `Cookie` headers are
//! read in one pass (stopping once `max_cookie_header_bytes` is exceeded), and only a
//! session cookie's value is checked byte by byte. What is read is unchanged: the first
//! non-empty value made of token characters wins, others count towards duplicates.

use http::{header, HeaderMap, HeaderName, HeaderValue};

use crate::{
    config::ConfigInner,
    received::{Received, ReceivedToken},
    syntax::is_token_value,
    TransferMethod, TransferPolicy,
};

/// `st-auth-mode`, as a `HeaderName` so the lookup does not re-parse the name.
const ST_AUTH_MODE: HeaderName = HeaderName::from_static(crate::headers::ST_AUTH_MODE);

/// What the request carried, according to the configuration.
///
/// One pass over the request headers, comparing names (no hashed lookups: a request carries
/// a dozen headers or so, and three `HeaderMap` lookups cost more than walking them).
pub(crate) fn read_request(config: &ConfigInner, path: &str, headers: &HeaderMap) -> Received {
    let mut received = Received::default();
    let read_cookies = config.transfer_policy != TransferPolicy::Header;
    let read_bearer = config.transfer_policy != TransferPolicy::Cookie;
    let mut cookies = CookieTokens::default();
    let mut cookie_bytes = 0usize;
    let mut authorization = None;
    let mut auth_mode = None;
    for (name, value) in headers {
        if *name == header::COOKIE {
            if !read_cookies || received.cookie_header_too_large {
                continue;
            }
            // Sum the sizes as we go and stop (discarding what was found) as soon as the
            // limit is exceeded, so at most `max_cookie_header_bytes` bytes are scanned.
            cookie_bytes = cookie_bytes.saturating_add(value.len());
            if cookie_bytes > config.max_cookie_header_bytes {
                tracing::debug!(
                    limit = config.max_cookie_header_bytes,
                    "Cookie headers exceed the limit; reading no session cookies"
                );
                received.cookie_header_too_large = true;
                cookies = CookieTokens::default();
                continue;
            }
            cookies.scan(value, config);
        } else if *name == header::AUTHORIZATION {
            // The first line is the one read, as `HeaderMap::get` would; a second one is
            // recorded so that the session layers can refuse the ambiguity.
            if authorization.is_some() {
                received.duplicate_authorization = read_bearer;
            } else {
                authorization = Some(value);
            }
        } else if *name == ST_AUTH_MODE {
            auth_mode.get_or_insert(value);
        }
    }
    received.requested_method = auth_mode.and_then(requested_method);
    received.cookie_sent = cookies.access_count > 0 || cookies.refresh_count > 0;
    received.legacy_id_refresh_cookie = cookies.legacy_id_refresh;
    received.bearer_sent = authorization.is_some_and(|value| {
        value
            .as_bytes()
            .get(..7)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case(b"bearer "))
    });
    received.duplicate_access_cookie = cookies.access_count > 1;
    received.duplicate_refresh_cookie = cookies.refresh_count > 1;
    if received.duplicate_access_cookie || received.duplicate_refresh_cookie {
        tracing::debug!(
            access_cookies = cookies.access_count,
            refresh_cookies = cookies.refresh_count,
            "request carries duplicate session cookies"
        );
    }

    let bearer = authorization
        .filter(|_| read_bearer)
        .and_then(|value| Some((value, bearer_token(value)?)));
    let token = |found: Option<(&HeaderValue, &[u8])>, method| {
        found.and_then(|(header, value)| ReceivedToken::in_header(header, value, method))
    };
    let on_refresh_route = path == config.refresh_path;
    // On the refresh call the SDK sends the *refresh* token as the bearer; filling both
    // slots lets the refresh service read `refresh_token()` and everyone else `access_token()`.
    received.access_token = match bearer {
        Some(_) => token(bearer, TransferMethod::Header),
        None => token(cookies.access, TransferMethod::Cookie),
    };
    if received.access_token.is_some() && bearer.is_some() {
        // Kept for the session layer, which uses the cookie when the bearer is not an
        // access token of ours (supertokens-node ignores such a bearer).
        received.shadowed_access_cookie = token(cookies.access, TransferMethod::Cookie);
    }
    received.refresh_token = match bearer {
        Some(_) if on_refresh_route => token(bearer, TransferMethod::Header),
        _ => token(cookies.refresh, TransferMethod::Cookie),
    };
    received
}

/// `st-auth-mode: cookie|header`; anything else means "no preference".
fn requested_method(value: &HeaderValue) -> Option<TransferMethod> {
    let value = value.as_bytes().trim_ascii();
    if value.eq_ignore_ascii_case(b"cookie") {
        Some(TransferMethod::Cookie)
    } else if value.eq_ignore_ascii_case(b"header") {
        Some(TransferMethod::Header)
    } else {
        None
    }
}

/// The longest `Authorization: Bearer` value read; a longer one is ignored (as if absent),
/// so a request cannot make the layer (and the verifier after it) scan an arbitrarily large
/// header. Access tokens over the verifier's default limit (8 KiB) are refused there anyway.
pub const MAX_BEARER_BYTES: usize = 16 * 1024;

/// `Authorization: Bearer <token>` (scheme case-insensitive); an unusable value is ignored
/// so that a cookie can still be used, as supertokens-node ignores unparsable candidates.
fn bearer_token(value: &HeaderValue) -> Option<&[u8]> {
    let (scheme, rest) = value.as_bytes().split_at_checked(6)?;
    if !scheme.eq_ignore_ascii_case(b"bearer") || rest.first().is_none_or(|&b| b != b' ') {
        return None;
    }
    let token = rest.trim_ascii();
    if token.len() > MAX_BEARER_BYTES {
        tracing::debug!(
            len = token.len(),
            "ignoring an oversized Authorization bearer value"
        );
        return None;
    }
    if !is_token_value(token) {
        tracing::debug!("ignoring an Authorization bearer value with invalid characters");
        return None;
    }
    Some(token)
}

/// The first valid value of each session cookie and how often each name occurred.
#[derive(Default)]
struct CookieTokens<'a> {
    access: Option<(&'a HeaderValue, &'a [u8])>,
    refresh: Option<(&'a HeaderValue, &'a [u8])>,
    access_count: u32,
    refresh_count: u32,
    /// [`LEGACY_ID_REFRESH_COOKIE`](crate::LEGACY_ID_REFRESH_COOKIE) was sent (any value).
    legacy_id_refresh: bool,
}

impl<'a> CookieTokens<'a> {
    /// Scans one `Cookie` header (`a=1; b=2`). Bytes are never assumed to be UTF-8 and a
    /// malformed pair only loses itself.
    ///
    ///
    /// The pairs are found with `memchr` (SIMD, tens of bytes per step): the header
    /// mostly holds other cookies and the token itself, so a byte loop would dominate.
    fn scan(&mut self, header_value: &'a HeaderValue, config: &ConfigInner) {
        let header = header_value.as_bytes();
        let access_name = config.access_cookie_name.as_bytes();
        let refresh_name = config.refresh_cookie_name.as_bytes();
        let mut rest = header;
        loop {
            let (pair, next) = match memchr::memchr(b';', rest) {
                Some(end) => (rest.get(..end).unwrap_or_default(), rest.get(end + 1..)),
                None => (rest, None),
            };
            let pair = pair.trim_ascii_start();
            // Cheap reject first: most cookies are not ours, and a first-byte test is
            // cheaper than the `memcmp` call behind `starts_with`.
            let first = pair.first();
            if first == access_name.first() && pair.starts_with(access_name) {
                if let Some(value) = pair_value(pair, access_name.len()) {
                    record(
                        &mut self.access,
                        &mut self.access_count,
                        header_value,
                        value,
                    );
                }
            } else if first == refresh_name.first() && pair.starts_with(refresh_name) {
                if let Some(value) = pair_value(pair, refresh_name.len()) {
                    record(
                        &mut self.refresh,
                        &mut self.refresh_count,
                        header_value,
                        value,
                    );
                }
            } else if first == Some(&b's')
                && pair.starts_with(crate::LEGACY_ID_REFRESH_COOKIE.as_bytes())
                && pair_value(pair, crate::LEGACY_ID_REFRESH_COOKIE.len()).is_some()
            {
                self.legacy_id_refresh = true;
            }
            match next {
                Some(next) => rest = next,
                None => break,
            }
        }
    }
}

/// The value of one pair (no `;` in it) whose name is `name_len` bytes, if the name is
/// followed by optional whitespace and `=`.
fn pair_value(pair: &[u8], name_len: usize) -> Option<&[u8]> {
    // `sAccessTokenX=…` or a pair without `=`: not our cookie.
    let value = pair
        .get(name_len..)?
        .trim_ascii_start()
        .strip_prefix(b"=")?;
    let value = value.trim_ascii();
    // RFC 6265 allows a DQUOTE-wrapped value.
    Some(
        value
            .strip_prefix(b"\"")
            .and_then(|v| v.strip_suffix(b"\""))
            .unwrap_or(value),
    )
}

/// Counts one occurrence of a session cookie and keeps the first valid value.
fn record<'a>(
    slot: &mut Option<(&'a HeaderValue, &'a [u8])>,
    count: &mut u32,
    header: &'a HeaderValue,
    value: &'a [u8],
) {
    *count += 1;
    if slot.is_none() {
        if is_token_value(value) {
            *slot = Some((header, value));
        } else if !value.is_empty() {
            tracing::debug!("ignoring a session cookie value with invalid characters");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SessionCookieConfig;
    use http::HeaderValue;

    fn config(policy: TransferPolicy) -> SessionCookieConfig {
        SessionCookieConfig::builder()
            .api_domain("https://api.example.com")
            .website_domain("https://www.example.com")
            .transfer_policy(policy)
            .max_cookie_header_bytes(1024)
            .build()
            .expect("valid config")
    }

    fn read(policy: TransferPolicy, path: &str, headers: &[(&str, &[u8])]) -> Received {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            let name = http::HeaderName::from_bytes(name.as_bytes()).expect("name");
            map.append(name, HeaderValue::from_bytes(value).expect("value"));
        }
        read_request(&config(policy).inner, path, &map)
    }

    fn value(token: &Option<ReceivedToken>) -> Option<(&str, TransferMethod)> {
        token.as_ref().map(|t| (t.as_str(), t.method))
    }

    #[test]
    fn reads_only_session_cookies() {
        let r = read(
            TransferPolicy::Any,
            "/x",
            &[(
                "cookie",
                b"theme=dark; sAccessTokenOld=zzz; sAccessToken=a.b.c ;other=1",
            )],
        );
        assert_eq!(
            value(&r.access_token),
            Some(("a.b.c", TransferMethod::Cookie))
        );
        assert_eq!(r.refresh_token, None);
        assert!(!r.duplicate_access_cookie);
    }

    #[test]
    fn notes_the_legacy_id_refresh_cookie_by_exact_name() {
        for (cookie, expected) in [
            (&b"a=1; sIdRefreshToken=asdf"[..], true),
            (b"sIdRefreshToken=", true),
            (b"sIdRefreshToken = x; sAccessToken=a.b.c", true),
            (b"sIdRefreshTokenX=1; xsIdRefreshToken=1", false),
            (b"sIdRefreshToken", false),
        ] {
            let r = read(TransferPolicy::Any, "/x", &[("cookie", cookie)]);
            assert_eq!(
                r.legacy_id_refresh_cookie,
                expected,
                "{}",
                String::from_utf8_lossy(cookie)
            );
        }
        // Not a session cookie itself; not read when cookies are not.
        let r = read(
            TransferPolicy::Any,
            "/x",
            &[("cookie", b"sIdRefreshToken=1")],
        );
        assert!(!r.cookie_sent);
        let r = read(
            TransferPolicy::Header,
            "/x",
            &[("cookie", b"sIdRefreshToken=1")],
        );
        assert!(!r.legacy_id_refresh_cookie);
    }

    #[test]
    fn split_cookie_headers_and_duplicates() {
        let r = read(
            TransferPolicy::Any,
            "/auth/session/refresh",
            &[
                ("cookie", b"sRefreshToken=first; sAccessToken=a1"),
                ("cookie", b"sRefreshToken=second"),
            ],
        );
        assert_eq!(value(&r.access_token), Some(("a1", TransferMethod::Cookie)));
        assert_eq!(
            value(&r.refresh_token),
            Some(("first", TransferMethod::Cookie))
        );
        assert!(r.duplicate_refresh_cookie);
        assert!(!r.duplicate_access_cookie);
    }

    #[test]
    fn malformed_and_non_utf8_pairs_are_skipped() {
        let r = read(
            TransferPolicy::Any,
            "/x",
            &[(
                "cookie",
                b";;=;\xff\xfe=\x80; junk ; sAccessToken; sAccessToken=\"q.u.o\"; x=\xc3",
            )],
        );
        assert_eq!(
            value(&r.access_token),
            Some(("q.u.o", TransferMethod::Cookie))
        );
    }

    #[test]
    fn invalid_token_characters_are_ignored() {
        let r = read(
            TransferPolicy::Any,
            "/x",
            &[("cookie", b"sAccessToken=a,b; sAccessToken=good")],
        );
        // The bad value is skipped, the name still counts towards duplicates.
        assert_eq!(
            value(&r.access_token),
            Some(("good", TransferMethod::Cookie))
        );
        assert!(r.duplicate_access_cookie);
    }

    #[test]
    fn bearer_wins_and_fills_refresh_on_the_refresh_route() {
        let headers: &[(&str, &[u8])] = &[
            ("cookie", b"sAccessToken=cookie-at; sRefreshToken=cookie-rt"),
            ("authorization", b"Bearer header-token"),
        ];
        let r = read(TransferPolicy::Any, "/x", headers);
        assert_eq!(
            value(&r.access_token),
            Some(("header-token", TransferMethod::Header))
        );
        assert_eq!(
            value(&r.refresh_token),
            Some(("cookie-rt", TransferMethod::Cookie))
        );
        let r = read(TransferPolicy::Any, "/auth/session/refresh", headers);
        assert_eq!(
            value(&r.refresh_token),
            Some(("header-token", TransferMethod::Header))
        );
        assert_eq!(
            value(&r.access_token),
            Some(("header-token", TransferMethod::Header))
        );
    }

    #[test]
    fn a_second_authorization_line_is_flagged_when_bearers_are_read() {
        let headers: &[(&str, &[u8])] = &[
            ("authorization", b"Bearer first"),
            ("authorization", b"Bearer second"),
        ];
        let r = read(TransferPolicy::Any, "/x", headers);
        assert!(r.duplicate_authorization);
        assert_eq!(
            value(&r.access_token),
            Some(("first", TransferMethod::Header))
        );
        assert!(!read(TransferPolicy::Cookie, "/x", headers).duplicate_authorization);
        assert!(!read(TransferPolicy::Any, "/x", &headers[..1]).duplicate_authorization);
    }

    #[test]
    fn policy_filters_methods() {
        let headers: &[(&str, &[u8])] = &[
            ("cookie", b"sAccessToken=cookie-at"),
            ("authorization", b"bearer header-at"),
        ];
        let r = read(TransferPolicy::Cookie, "/x", headers);
        assert_eq!(
            value(&r.access_token),
            Some(("cookie-at", TransferMethod::Cookie))
        );
        let r = read(TransferPolicy::Header, "/x", headers);
        assert_eq!(
            value(&r.access_token),
            Some(("header-at", TransferMethod::Header))
        );
    }

    #[test]
    fn unusable_authorization_falls_back_to_cookie() {
        for auth in [
            &b"Basic dXNlcjpwYXNz"[..],
            b"Bearer",
            b"Bearer a b",
            b"Bearerx y",
            b"Bearer \xff",
        ] {
            let r = read(
                TransferPolicy::Any,
                "/x",
                &[("cookie", b"sAccessToken=c"), ("authorization", auth)],
            );
            assert_eq!(
                value(&r.access_token),
                Some(("c", TransferMethod::Cookie)),
                "{auth:?}"
            );
        }
    }

    #[test]
    fn oversized_cookie_headers_yield_no_cookie_tokens() {
        let big = format!("sAccessToken=a; pad={}", "x".repeat(1100));
        let r = read(
            TransferPolicy::Any,
            "/x",
            &[("cookie", big.as_bytes()), ("authorization", b"Bearer h")],
        );
        assert!(r.cookie_header_too_large);
        assert_eq!(value(&r.access_token), Some(("h", TransferMethod::Header)));
        // The limit is on the sum of all Cookie headers.
        let half = format!("pad={}", "x".repeat(600));
        let r = read(
            TransferPolicy::Any,
            "/x",
            &[
                ("cookie", half.as_bytes()),
                ("cookie", half.as_bytes()),
                ("cookie", b"sAccessToken=a"),
            ],
        );
        assert!(r.cookie_header_too_large);
        assert_eq!(r.access_token, None);
    }

    /// The straightforward reading (split at every `;`, trim, compare the name) that the
    /// `memchr` scan must match exactly.
    fn reference_scan<'a>(
        header_value: &'a HeaderValue,
        access: &[u8],
        refresh: &[u8],
    ) -> CookieTokens<'a> {
        let header = header_value.as_bytes();
        let mut tokens = CookieTokens::default();
        for pair in header.split(|&b| b == b';') {
            let pair = pair.trim_ascii_start();
            let (is_access, name) = if pair.starts_with(access) {
                (true, access)
            } else if pair.starts_with(refresh) {
                (false, refresh)
            } else {
                continue;
            };
            let Some(value) = pair[name.len()..].trim_ascii_start().strip_prefix(b"=") else {
                continue;
            };
            let value = value.trim_ascii();
            let value = value
                .strip_prefix(b"\"")
                .and_then(|v| v.strip_suffix(b"\""))
                .unwrap_or(value);
            if is_access {
                record(
                    &mut tokens.access,
                    &mut tokens.access_count,
                    header_value,
                    value,
                );
            } else {
                record(
                    &mut tokens.refresh,
                    &mut tokens.refresh_count,
                    header_value,
                    value,
                );
            }
        }
        tokens
    }

    #[test]
    fn memchr_scan_matches_a_split_scan() {
        let configs = [
            config(TransferPolicy::Any),
            SessionCookieConfig::builder()
                .api_domain("https://api.example.com")
                .website_domain("https://www.example.com")
                .access_cookie_name("s")
                .refresh_cookie_name("sRefresh")
                .build()
                .expect("valid config"),
        ];
        let headers: [&[u8]; 14] = [
            b"",
            b"sAccessToken=a.b.c",
            b"x=sAccessToken=zz; sAccessToken=ok",
            b"sAccessTokenOld=1;sAccessToken =\t v ;sRefreshToken=r",
            b"a=1;\t sRefreshToken=\"q\"; sRefreshToken=r2; sAccessToken",
            b"sAccessToken;=x; sAccessToken= ; sAccessToken=a,b; sAccessToken=good",
            b";;;sAccessToken=;sAccessToken=x;",
            b"s=1; sRefresh=2; sRefreshX=3; s =4; ss=5",
            b"\xffsAccessToken=1; \xc3sRefreshToken=2; sRefreshToken=\xc3",
            b"sAccessTokensAccessToken=1; v=sAccessToken; sAccessToken=sAccessToken=x",
            b"   sAccessToken=lead",
            b"x=\"a; sAccessToken=inquotes\"",
            b"sRefresh=a; sRefreshToken=b; s=c; sAccessToken=d",
            b"sAccessToken=eyJhbGciOi.eyJzdWIi.sig-_; _ga=GA1.2.3; prefs=dark",
        ];
        for config in &configs {
            let inner = &config.inner;
            for header in headers {
                let header = &HeaderValue::from_bytes(header).expect("valid header bytes");
                let mut found = CookieTokens::default();
                found.scan(header, inner);
                let expected = reference_scan(
                    header,
                    inner.access_cookie_name.as_bytes(),
                    inner.refresh_cookie_name.as_bytes(),
                );
                assert_eq!(
                    (
                        found.access.map(|(_, v)| v),
                        found.refresh.map(|(_, v)| v),
                        found.access_count,
                        found.refresh_count
                    ),
                    (
                        expected.access.map(|(_, v)| v),
                        expected.refresh.map(|(_, v)| v),
                        expected.access_count,
                        expected.refresh_count
                    ),
                    "{header:?}"
                );
            }
        }
    }

    #[test]
    fn auth_mode_header() {
        let mode =
            |v: &[u8]| read(TransferPolicy::Any, "/", &[("st-auth-mode", v)]).requested_method;
        assert_eq!(mode(b"cookie"), Some(TransferMethod::Cookie));
        assert_eq!(mode(b" Header "), Some(TransferMethod::Header));
        assert_eq!(mode(b"both"), None);
        assert_eq!(mode(b"\xff"), None);
        assert_eq!(read(TransferPolicy::Any, "/", &[]).requested_method, None);
    }
}
