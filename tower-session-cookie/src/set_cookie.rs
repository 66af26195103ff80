//! Rendering `Set-Cookie` values and the character rules that keep them injection-free.

use std::time::SystemTime;

use http::HeaderValue;

use crate::{
    config::CookieAttributes,
    http_date::{write_imf_fixdate, EPOCH_IMF_FIXDATE},
};

/// RFC 6265 `cookie-name` (an RFC 7230 `token`): the configured names must be this.
pub(crate) fn is_cookie_name(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'!' | b'#'
                        | b'$'
                        | b'%'
                        | b'&'
                        | b'\''
                        | b'*'
                        | b'+'
                        | b'-'
                        | b'.'
                        | b'^'
                        | b'_'
                        | b'`'
                        | b'|'
                        | b'~'
                )
        })
}

/// One byte of a session token: the base64 / base64url alphabets plus `.` (JWT and refresh
/// token separator) and `~`. Tokens never need percent-encoding, and anything outside this
/// set (`;`, `,`, whitespace, quotes, control characters, non-ASCII) could change the
/// meaning of a `Set-Cookie` line, so it is refused on write and ignored on read.
#[inline(always)]
pub(crate) const fn is_token_byte(b: u8) -> bool {
    // Signed comparisons: SSE2 has them (`pcmpgtb`) but no unsigned ones, so the fold
    // below vectorises to a few instructions per 16 bytes. Non-ASCII bytes are negative
    // as `i8` and fail every range.
    let c = b as i8;
    let folded = (b | 0x20) as i8;
    let letter = (folded >= b'a' as i8) & (folded <= b'z' as i8);
    let digit = (c >= b'0' as i8) & (c <= b'9' as i8);
    // `-`, `.`, `/` are adjacent (0x2D..=0x2F).
    let dash_dot_slash = (c >= b'-' as i8) & (c <= b'/' as i8);
    letter | digit | dash_dot_slash | (b == b'_') | (b == b'~') | (b == b'+') | (b == b'=')
}

/// [`is_token_byte`] for every byte value.
static TOKEN_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < table.len() {
        table[i] = is_token_byte(i as u8);
        i += 1;
    }
    table
};

/// A non-empty run of [`is_token_byte`].
pub(crate) fn is_token_value(value: &[u8]) -> bool {
    // Whole 16-byte blocks: no early exit, a branch-free OR-fold of "bad" flags that the
    // compiler turns into a few SSE2 instructions per block (this matters for ~500-byte
    // JWTs read on every request). The tail, and short values such as session ids, take a
    // table lookup per byte instead, which is cheaper than the vector code's setup.
    let (blocks, tail) = value.split_at(value.len() - value.len() % 16);
    let bad_blocks = blocks
        .iter()
        .fold(0u8, |bad, &b| bad | u8::from(!is_token_byte(b)));
    !value.is_empty() && bad_blocks == 0 && tail.iter().all(|&b| TOKEN_BYTES[usize::from(b)])
}

/// `name=value; Domain=…; Path=…; Expires=…; HttpOnly; Secure; SameSite=…[; Partitioned]`.
///
/// `value` must already satisfy [`is_token_value`] (checked when it was recorded); the
/// result is marked sensitive because it carries a secret.
pub(crate) fn set_cookie(
    name: &str,
    value: &str,
    attributes: &CookieAttributes,
    expires: SystemTime,
) -> Option<HeaderValue> {
    let mut line = String::with_capacity(
        name.len()
            + value.len()
            + attributes.before_expires.len()
            + attributes.after_expires.len()
            + 48,
    );
    line.push_str(name);
    line.push('=');
    line.push_str(value);
    line.push_str(&attributes.before_expires);
    line.push_str("; Expires=");
    write_imf_fixdate(&mut line, expires);
    line.push_str(&attributes.after_expires);
    let mut header = HeaderValue::try_from(line).ok()?;
    header.set_sensitive(true);
    Some(header)
}

/// The clearing twin of [`set_cookie`]: same attributes, empty value, `Expires` at the epoch.
pub(crate) fn clear_cookie(name: &str, attributes: &CookieAttributes) -> Option<HeaderValue> {
    let line = format!(
        "{name}={}; Expires={EPOCH_IMF_FIXDATE}{}",
        attributes.before_expires, attributes.after_expires
    );
    HeaderValue::try_from(line).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn attributes() -> CookieAttributes {
        CookieAttributes {
            before_expires: "; Domain=example.com; Path=/".to_owned(),
            after_expires: "; HttpOnly; Secure; SameSite=Lax".to_owned(),
        }
    }

    #[test]
    fn renders_like_supertokens() {
        let header = set_cookie(
            "sAccessToken",
            "a.b.c",
            &attributes(),
            UNIX_EPOCH + Duration::from_secs(784_111_777),
        )
        .expect("valid header");
        assert_eq!(
            header,
            "sAccessToken=a.b.c; Domain=example.com; Path=/; \
             Expires=Sun, 06 Nov 1994 08:49:37 GMT; HttpOnly; Secure; SameSite=Lax"
        );
        assert!(header.is_sensitive());
    }

    #[test]
    fn clear_has_the_same_attributes() {
        let header = clear_cookie("sAccessToken", &attributes()).expect("valid header");
        assert_eq!(
            header,
            "sAccessToken=; Domain=example.com; Path=/; \
             Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax"
        );
    }

    #[test]
    fn token_alphabet() {
        assert!(is_token_value(b"eyJhbGciOi.eyJzdWIi.sig-_"));
        assert!(is_token_value(b"abc+/=="));
        assert!(is_token_value(b"AZaz09-_.~"));
        for b in 0..=255u8 {
            let expected = b.is_ascii_alphanumeric() || b"-_.~+/=".contains(&b);
            assert_eq!(is_token_byte(b), expected, "{b}");
        }
        for bad in [
            &b""[..],
            b"a;b",
            b"a b",
            b"a,b",
            b"a\"b",
            b"a\tb",
            b"a\r\nSet-Cookie: x",
            b"\xc3\xa9",
            b"a%3Bb\x00",
            b"a@b",
            b"a[b",
            b"a`b",
            b"a{b",
            b"a^b",
        ] {
            assert!(!is_token_value(bad), "{bad:?}");
        }
    }
}
