//! The character rules that keep cookie names and token values injection-free, shared by
//! the configuration (names), the request parser and the token handle (values).

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

#[cfg(test)]
mod tests {
    use super::*;

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
