//! `SessionTokens::from_request_headers` on arbitrary `Cookie` header lines (duplicates,
//! quotes, odd spacing), an optional `Authorization` header and the refresh path, compared
//! with a small reference reader written here:
//! - duplicate flags are set iff a session cookie name occurs more than once;
//! - the cookie token is the first occurrence whose value is a valid token;
//! - a bearer value wins over the access cookie, and is the refresh token only on the
//!   refresh route;
//! - over `max_cookie_header_bytes` nothing is read from cookies and the flag says so.
#![no_main]

use std::sync::OnceLock;

use http::header::{HeaderMap, HeaderValue, AUTHORIZATION, COOKIE};
use libfuzzer_sys::fuzz_target;
use tower_session_cookie::{SessionCookieConfig, SessionTokens, TransferMethod};

#[path = "common.rs"]
mod common;

const MAX: usize = 512;

fn config() -> &'static SessionCookieConfig {
    static C: OnceLock<SessionCookieConfig> = OnceLock::new();
    C.get_or_init(|| {
        SessionCookieConfig::builder()
            .api_domain("https://api.example.com")
            .website_domain("https://www.example.com")
            .max_cookie_header_bytes(MAX)
            .build()
            .expect("config")
    })
}

fn token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-_.~+/=".contains(&b)
}

#[derive(Default, Debug)]
struct Reference {
    access: Option<Vec<u8>>,
    refresh: Option<Vec<u8>>,
    access_count: usize,
    refresh_count: usize,
}

fn trim(mut b: &[u8]) -> &[u8] {
    while let [f, rest @ ..] = b {
        if f.is_ascii_whitespace() {
            b = rest
        } else {
            break;
        }
    }
    while let [rest @ .., l] = b {
        if l.is_ascii_whitespace() {
            b = rest
        } else {
            break;
        }
    }
    b
}

fn reference(lines: &[&[u8]]) -> Reference {
    let mut r = Reference::default();
    for line in lines {
        for pair in line.split(|&b| b == b';') {
            let Some(eq) = pair.iter().position(|&b| b == b'=') else {
                continue;
            };
            let name = trim(&pair[..eq]);
            let mut value = trim(&pair[eq + 1..]);
            if value.len() >= 2 && value[0] == b'"' && value[value.len() - 1] == b'"' {
                value = &value[1..value.len() - 1];
            }
            let valid = !value.is_empty() && value.iter().all(|&b| token_byte(b));
            let (slot, count) = match name {
                b"sAccessToken" => (&mut r.access, &mut r.access_count),
                b"sRefreshToken" => (&mut r.refresh, &mut r.refresh_count),
                _ => continue,
            };
            // A name with leading whitespace inside the pair still counts (trim_ascii_start).
            *count += 1;
            if slot.is_none() && valid {
                *slot = Some(value.to_vec());
            }
        }
    }
    r
}

fuzz_target!(|data: &[u8]| {
    let f = common::fields(data, 6);
    let flags = f[0].first().copied().unwrap_or(0);
    let mut headers = HeaderMap::new();
    let mut lines: Vec<&[u8]> = Vec::new();
    for line in &f[1..5] {
        if line.is_empty() {
            continue;
        }
        let Ok(v) = HeaderValue::from_bytes(line) else {
            return;
        };
        headers.append(COOKIE, v);
        lines.push(line);
    }
    let bearer: Option<&[u8]> = if flags & 1 != 0 {
        let mut auth = b"Bearer ".to_vec();
        auth.extend_from_slice(f[5]);
        let Ok(v) = HeaderValue::from_bytes(&auth) else {
            return;
        };
        headers.insert(AUTHORIZATION, v);
        let t = trim(f[5]);
        (!t.is_empty() && t.iter().all(|&b| token_byte(b))).then_some(t)
    } else {
        None
    };
    let refresh_route = flags & 2 != 0;
    let path = if refresh_route {
        config().refresh_path().to_owned()
    } else {
        "/orders".to_owned()
    };
    let tokens = SessionTokens::from_request_headers(config(), &path, &headers);

    let total: usize = lines.iter().map(|l| l.len()).sum();
    let r = if total > MAX {
        assert!(tokens.cookie_header_too_large(), "limit not reported");
        Reference::default()
    } else {
        assert!(!tokens.cookie_header_too_large());
        reference(&lines)
    };

    // Only compare names our reference reads the same way: the library also accepts a
    // name followed by whitespace before `=`, which the reference trims identically.
    assert_eq!(
        tokens.has_duplicate_access_cookie(),
        r.access_count > 1,
        "access dup {r:?}"
    );
    assert_eq!(
        tokens.has_duplicate_refresh_cookie(),
        r.refresh_count > 1,
        "refresh dup {r:?}"
    );

    let access = tokens
        .access_token()
        .map(|t| (t.as_bytes().to_vec(), t.method));
    let want_access = match bearer {
        Some(b) => Some((b.to_vec(), TransferMethod::Header)),
        None => r.access.clone().map(|v| (v, TransferMethod::Cookie)),
    };
    assert_eq!(access, want_access, "access token");

    let refresh = tokens
        .refresh_token()
        .map(|t| (t.as_bytes().to_vec(), t.method));
    let want_refresh = match bearer {
        Some(b) if refresh_route => Some((b.to_vec(), TransferMethod::Header)),
        _ => r.refresh.clone().map(|v| (v, TransferMethod::Cookie)),
    };
    assert_eq!(refresh, want_refresh, "refresh token");
    for t in [tokens.access_token(), tokens.refresh_token()]
        .into_iter()
        .flatten()
    {
        assert!(t.as_bytes().iter().copied().all(token_byte) && !t.is_empty());
    }
});
