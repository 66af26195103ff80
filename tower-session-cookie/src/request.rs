//! Reading the session tokens a request carries, once, on the hot path.
//!
//! Only the two session cookie names are looked at: other cookies are skipped without
//! being decoded or copied, which keeps the cost per request to a byte scan.

use http::{header, HeaderMap, HeaderName};

use crate::{
    config::{ConfigInner, TransferPolicy},
    set_cookie::is_token_value,
    tokens::{Received, ReceivedToken},
    TransferMethod,
};

/// `st-auth-mode`, as a `HeaderName` so the lookup does not re-parse the name.
const ST_AUTH_MODE: HeaderName = HeaderName::from_static(crate::headers::ST_AUTH_MODE);

/// What the request carried, according to the configuration.
pub(crate) fn read_request(config: &ConfigInner, path: &str, headers: &HeaderMap) -> Received {
    let mut received = Received {
        requested_method: requested_method(headers),
        ..Received::default()
    };

    let bearer = if config.transfer_policy == TransferPolicy::Cookie {
        None
    } else {
        bearer_token(headers)
    };

    let mut cookies = CookieTokens::default();
    if config.transfer_policy != TransferPolicy::Header {
        let cookie_headers = headers.get_all(header::COOKIE);
        let total: usize = cookie_headers.iter().map(|value| value.len()).sum();
        if total > config.max_cookie_header_bytes {
            tracing::debug!(
                total,
                limit = config.max_cookie_header_bytes,
                "Cookie headers exceed the limit; reading no session cookies"
            );
            received.cookie_header_too_large = true;
        } else {
            for value in cookie_headers.iter() {
                cookies.scan(
                    value.as_bytes(),
                    config.access_cookie_name.as_bytes(),
                    config.refresh_cookie_name.as_bytes(),
                );
            }
        }
    }
    received.duplicate_access_cookie = cookies.access_count > 1;
    received.duplicate_refresh_cookie = cookies.refresh_count > 1;
    if received.duplicate_access_cookie || received.duplicate_refresh_cookie {
        tracing::debug!(
            access_cookies = cookies.access_count,
            refresh_cookies = cookies.refresh_count,
            "request carries duplicate session cookies"
        );
    }

    let cookie_token = |value: Option<&[u8]>| {
        value
            .and_then(|bytes| std::str::from_utf8(bytes).ok())
            .map(|value| ReceivedToken {
                value: value.to_owned(),
                method: TransferMethod::Cookie,
            })
    };
    let bearer_token = |value: &str| ReceivedToken {
        value: value.to_owned(),
        method: TransferMethod::Header,
    };
    let on_refresh_route = path == config.refresh_path;
    // On the refresh call the SDK sends the *refresh* token as the bearer; filling both
    // slots lets the refresh service read `refresh_token()` and everyone else `access_token()`.
    received.access_token = bearer
        .map(bearer_token)
        .or_else(|| cookie_token(cookies.access));
    received.refresh_token = match bearer {
        Some(bearer) if on_refresh_route => Some(bearer_token(bearer)),
        _ => cookie_token(cookies.refresh),
    };
    received
}

/// `st-auth-mode: cookie|header`; anything else (or absent) means "no preference".
fn requested_method(headers: &HeaderMap) -> Option<TransferMethod> {
    let value = headers.get(ST_AUTH_MODE)?.as_bytes().trim_ascii();
    if value.eq_ignore_ascii_case(b"cookie") {
        Some(TransferMethod::Cookie)
    } else if value.eq_ignore_ascii_case(b"header") {
        Some(TransferMethod::Header)
    } else {
        None
    }
}

/// `Authorization: Bearer <token>` (scheme case-insensitive); an unusable value is ignored
/// so that a cookie can still be used, as supertokens-node ignores unparsable candidates.
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.as_bytes();
    let (scheme, rest) = value.split_at_checked(6)?;
    if !scheme.eq_ignore_ascii_case(b"bearer") || rest.first().is_none_or(|&b| b != b' ') {
        return None;
    }
    let token = rest.trim_ascii();
    if !is_token_value(token) {
        tracing::debug!("ignoring an Authorization bearer value with invalid characters");
        return None;
    }
    // Token bytes are ASCII, so this never fails.
    std::str::from_utf8(token).ok()
}

/// The first valid value of each session cookie and how often each name occurred.
#[derive(Default)]
struct CookieTokens<'a> {
    access: Option<&'a [u8]>,
    refresh: Option<&'a [u8]>,
    access_count: u32,
    refresh_count: u32,
}

impl<'a> CookieTokens<'a> {
    /// Scans one `Cookie` header (`a=1; b=2`). Bytes are never assumed to be UTF-8 and a
    /// malformed pair only loses itself.
    fn scan(&mut self, header: &'a [u8], access_name: &[u8], refresh_name: &[u8]) {
        let mut rest = header;
        loop {
            let (pair, next) = match find_semicolon(rest) {
                Some(end) => (&rest[..end], rest.get(end + 1..)),
                None => (rest, None),
            };
            self.pair(pair, access_name, refresh_name);
            match next {
                Some(next) => rest = next,
                None => break,
            }
        }
    }

    fn pair(&mut self, pair: &'a [u8], access_name: &[u8], refresh_name: &[u8]) {
        let pair = pair.trim_ascii_start();
        // Cheap reject first: most cookies are not ours.
        let (is_access, name_len) = if pair.starts_with(access_name) {
            (true, access_name.len())
        } else if pair.starts_with(refresh_name) {
            (false, refresh_name.len())
        } else {
            return;
        };
        let Some(after_name) = pair.get(name_len..) else {
            return;
        };
        let Some(value) = after_name.trim_ascii_start().strip_prefix(b"=") else {
            // `sAccessTokenX=…` or a pair without `=`: not our cookie.
            return;
        };
        let value = value.trim_ascii();
        // RFC 6265 allows a DQUOTE-wrapped value.
        let value = value
            .strip_prefix(b"\"")
            .and_then(|v| v.strip_suffix(b"\""))
            .unwrap_or(value);
        let (slot, count) = if is_access {
            (&mut self.access, &mut self.access_count)
        } else {
            (&mut self.refresh, &mut self.refresh_count)
        };
        *count += 1;
        if slot.is_none() {
            if is_token_value(value) {
                *slot = Some(value);
            } else if !value.is_empty() {
                tracing::debug!("ignoring a session cookie value with invalid characters");
            }
        }
    }
}

/// Position of the first `;`, eight bytes at a time (the `Cookie` header is scanned on
/// every request and mostly holds other cookies, so a byte loop would dominate the cost).
fn find_semicolon(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    const SEMICOLONS: u64 = u64::from_ne_bytes([b';'; 8]);
    let mut chunks = bytes.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        let Ok(array) = <[u8; 8]>::try_from(chunk) else {
            break;
        };
        // A zero byte in `word ^ SEMICOLONS` is a `;`; the lowest flagged byte is exact.
        let word = u64::from_le_bytes(array) ^ SEMICOLONS;
        let found = word.wrapping_sub(ONES) & !word & HIGHS;
        if found != 0 {
            return Some(offset + (found.trailing_zeros() / 8) as usize);
        }
        offset += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == b';')
        .map(|position| offset + position)
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
        token.as_ref().map(|t| (t.value.as_str(), t.method))
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

    #[test]
    fn semicolon_search_matches_a_byte_loop() {
        let inputs: [&[u8]; 7] = [
            b"",
            b";",
            b"abcdefgh;",
            b"abcdefghijklmnop",
            b"a\xff\x80;b;",
            b"\x3b\x3a\x3c;;;;;;;;",
            b"0123456789abcdef0123456;",
        ];
        for input in inputs {
            for start in 0..input.len() {
                let slice = &input[start..];
                assert_eq!(
                    find_semicolon(slice),
                    slice.iter().position(|&b| b == b';'),
                    "{slice:?}"
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
