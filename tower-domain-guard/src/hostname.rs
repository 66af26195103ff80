//! Allocation-free host syntax checks shared by [`SharedDomain`](crate::SharedDomain),
//! the host guard and the origin guard.
//!
//! The grammar accepted here is deliberately narrower than RFC 3986 `reg-name`: a host is
//! either a DNS name made of LDH labels (letters, digits, `-`, no `-` at either end of a
//! label, 1..=63 bytes per label, at most 253 bytes in all, one trailing dot tolerated and
//! dropped), a dotted-quad IPv4 address, or an IPv6 address in brackets. Every other form
//! (userinfo, path characters, percent-encoding, `_`, `*`, raw UTF-8, ...) is malformed.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Why a host (or `host:port`) value was refused as malformed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HostSyntaxError {
    /// The value is empty (or only a port, or only a dot).
    Empty,
    /// The value contains `@` (userinfo is never accepted, never stripped).
    Userinfo,
    /// The value contains a character that is not allowed in a host (`/ \ ? #`, `_`, `*`,
    /// spaces, control bytes, ...).
    InvalidCharacter,
    /// The value contains `%` (percent-encoding or an IPv6 zone id).
    PercentEncoding,
    /// A label is empty (`..example.com`, a leading dot, or more than one trailing dot).
    EmptyLabel,
    /// A label is longer than 63 bytes.
    LabelTooLong,
    /// The name is longer than 253 bytes.
    NameTooLong,
    /// A label starts or ends with `-`.
    HyphenAtLabelEdge,
    /// The last label is numeric but the name is not a dotted-quad IPv4 address
    /// (`127.1`, `1.2.3.256`), a form browsers read as an IP address.
    NumericTopLabel,
    /// The port is not 1 to 5 digits with a value of at most 65535.
    InvalidPort,
    /// An IPv6 address that is not enclosed in brackets.
    UnbracketedIpv6,
    /// Text in brackets that is not an IPv6 address.
    InvalidIpv6,
    /// Non-ASCII text that does not convert to an IDNA A-label (punycode).
    InvalidIdn,
}

impl HostSyntaxError {
    /// A short, static description.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Empty => "empty host",
            Self::Userinfo => "userinfo ('@') in host",
            Self::InvalidCharacter => "invalid character in host",
            Self::PercentEncoding => "percent-encoding ('%') in host",
            Self::EmptyLabel => "empty label in host",
            Self::LabelTooLong => "host label longer than 63 bytes",
            Self::NameTooLong => "host name longer than 253 bytes",
            Self::HyphenAtLabelEdge => "host label starts or ends with '-'",
            Self::NumericTopLabel => "numeric top-level label that is not an IPv4 address",
            Self::InvalidPort => "invalid port",
            Self::UnbracketedIpv6 => "IPv6 address without brackets",
            Self::InvalidIpv6 => "invalid IPv6 address in brackets",
            Self::InvalidIdn => "non-ASCII host that is not a valid internationalised name",
        }
    }
}

impl fmt::Display for HostSyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::error::Error for HostSyntaxError {}

/// What kind of host a validated value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum HostKind {
    /// A DNS name of LDH labels.
    Name,
    /// A dotted-quad IPv4 address.
    Ipv4,
    /// An IPv6 address; the host slice includes the brackets.
    Ipv6,
}

/// A validated host, borrowed from the input: original case, no trailing dot, port split off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct HostRef<'a> {
    pub(crate) host: &'a str,
    pub(crate) port: Option<u16>,
    pub(crate) kind: HostKind,
}

/// Checks the bytes that are never allowed anywhere in an authority. Non-ASCII bytes pass
/// (they may be an IDN, handled by the caller).
#[inline]
fn check_forbidden(s: &str) -> Result<(), HostSyntaxError> {
    for &b in s.as_bytes() {
        match b {
            b'@' => return Err(HostSyntaxError::Userinfo),
            b'%' => return Err(HostSyntaxError::PercentEncoding),
            0..=0x20 | 0x7f => return Err(HostSyntaxError::InvalidCharacter),
            b'/' | b'\\' | b'?' | b'#' => return Err(HostSyntaxError::InvalidCharacter),
            _ => {}
        }
    }
    Ok(())
}

/// Parses a port: 1 to 5 ASCII digits, value at most 65535.
#[inline]
pub(crate) fn parse_port(s: &str) -> Result<u16, HostSyntaxError> {
    let b = s.as_bytes();
    if b.is_empty() || b.len() > 5 {
        return Err(HostSyntaxError::InvalidPort);
    }
    let mut v: u32 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return Err(HostSyntaxError::InvalidPort);
        }
        v = v * 10 + u32::from(c - b'0');
    }
    u16::try_from(v).map_err(|_| HostSyntaxError::InvalidPort)
}

/// Splits `host[:port]` (IPv6 in brackets). Rejects forbidden bytes everywhere. The returned
/// host part is not yet validated (it may contain non-ASCII bytes); a bracketed IPv6 literal
/// is fully checked here.
pub(crate) fn split_host_port(s: &str) -> Result<(&str, Option<u16>, bool), HostSyntaxError> {
    if s.is_empty() {
        return Err(HostSyntaxError::Empty);
    }
    check_forbidden(s)?;
    let b = s.as_bytes();
    if b[0] == b'[' {
        let Some(close) = b.iter().position(|&c| c == b']') else {
            return Err(HostSyntaxError::InvalidIpv6);
        };
        let inner = &s[1..close];
        if inner.parse::<Ipv6Addr>().is_err() {
            return Err(HostSyntaxError::InvalidIpv6);
        }
        let rest = &s[close + 1..];
        let port = if rest.is_empty() {
            None
        } else if let Some(p) = rest.strip_prefix(':') {
            Some(parse_port(p)?)
        } else {
            return Err(HostSyntaxError::InvalidIpv6);
        };
        return Ok((&s[..=close], port, true));
    }
    match s.find(':') {
        None => Ok((s, None, false)),
        Some(i) => {
            let (host, rest) = (&s[..i], &s[i + 1..]);
            if rest.contains(':') {
                if s.parse::<Ipv6Addr>().is_ok() {
                    return Err(HostSyntaxError::UnbracketedIpv6);
                }
                return Err(HostSyntaxError::InvalidPort);
            }
            if host.is_empty() {
                return Err(HostSyntaxError::Empty);
            }
            Ok((host, Some(parse_port(rest)?), false))
        }
    }
}

/// Validates an ASCII host name or IPv4 address (no port, no brackets); drops one trailing
/// dot. Non-ASCII input gives [`HostSyntaxError::InvalidIdn`] (convert it first).
pub(crate) fn classify_name(host: &str) -> Result<(&str, HostKind), HostSyntaxError> {
    let name = host.strip_suffix('.').unwrap_or(host);
    if name.is_empty() {
        return Err(if host.is_empty() {
            HostSyntaxError::Empty
        } else {
            HostSyntaxError::EmptyLabel
        });
    }
    if name.len() > 253 {
        // Still report a more specific character error first if there is one.
        for &c in name.as_bytes() {
            if !(c.is_ascii_alphanumeric() || c == b'-' || c == b'.') {
                return Err(char_error(c));
            }
        }
        return Err(HostSyntaxError::NameTooLong);
    }
    let b = name.as_bytes();
    let mut label_start = 0usize;
    let mut last_label_numeric = true;
    for i in 0..=b.len() {
        let end = i == b.len();
        if end || b[i] == b'.' {
            let label = &b[label_start..i];
            if label.is_empty() {
                return Err(HostSyntaxError::EmptyLabel);
            }
            if label.len() > 63 {
                return Err(HostSyntaxError::LabelTooLong);
            }
            if label[0] == b'-' || label[label.len() - 1] == b'-' {
                return Err(HostSyntaxError::HyphenAtLabelEdge);
            }
            if end {
                last_label_numeric = label.iter().all(u8::is_ascii_digit);
            }
            label_start = i + 1;
        } else {
            let c = b[i];
            if !(c.is_ascii_alphanumeric() || c == b'-') {
                return Err(char_error(c));
            }
        }
    }
    if last_label_numeric {
        // An IPv4 literal has no trailing dot (RFC 3986 `IPv4address`); `127.0.0.1.` would
        // be a DNS name whose top label is numeric, which no name can be.
        return if name.len() == host.len() && name.parse::<Ipv4Addr>().is_ok() {
            Ok((name, HostKind::Ipv4))
        } else {
            Err(HostSyntaxError::NumericTopLabel)
        };
    }
    Ok((name, HostKind::Name))
}

fn char_error(c: u8) -> HostSyntaxError {
    if c >= 0x80 {
        HostSyntaxError::InvalidIdn
    } else {
        HostSyntaxError::InvalidCharacter
    }
}

/// Parses and validates an ASCII `host[:port]` without allocating.
pub(crate) fn parse_host_ascii(s: &str) -> Result<HostRef<'_>, HostSyntaxError> {
    let (host, port, bracketed) = split_host_port(s)?;
    if bracketed {
        return Ok(HostRef {
            host,
            port,
            kind: HostKind::Ipv6,
        });
    }
    let (host, kind) = classify_name(host)?;
    Ok(HostRef { host, port, kind })
}

/// Byte classes for [`parse_name_fast`], as bit flags.
const C_LOWER: u8 = 1;
const C_DIGIT: u8 = 2;
const C_HYPHEN: u8 = 4;
const C_UPPER: u8 = 8;
const C_LDH: u8 = C_LOWER | C_DIGIT | C_HYPHEN | C_UPPER;
const C_DOT: u8 = 16;
const C_COLON: u8 = 32;
const C_OTHER: u8 = 0;

/// Class of every byte; everything that is not an LDH byte, `.` or `:` is `C_OTHER`.
static BYTE_CLASS: [u8; 256] = {
    let mut t = [C_OTHER; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = match i as u8 {
            b'a'..=b'z' => C_LOWER,
            b'0'..=b'9' => C_DIGIT,
            b'-' => C_HYPHEN,
            b'A'..=b'Z' => C_UPPER,
            b'.' => C_DOT,
            b':' => C_COLON,
            _ => C_OTHER,
        };
        i += 1;
    }
    t
};

/// A DNS name (with an optional port) accepted by [`parse_name_fast`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FastName {
    /// Length of the name (no trailing dot, no port) at the start of the input.
    pub(crate) name_len: usize,
    pub(crate) port: Option<u16>,
    /// The name has no uppercase letter.
    pub(crate) lowercase: bool,
}

/// One pass over the common case: an LDH name with an optional trailing dot and an optional
/// `:port`. Returns `Some` only for input that [`parse_host_ascii`] accepts as
/// [`HostKind::Name`] (with the same name and port); everything else (errors, IP addresses,
/// brackets, non-ASCII) gives `None`, and the caller takes the full path.
#[inline]
pub(crate) fn parse_name_fast(b: &[u8]) -> Option<FastName> {
    let n = b.len();
    let mut i = 0usize;
    let mut all = 0u8; // union of the classes of every name byte
    let (host_end, name_len, top_numeric) = loop {
        // One label: b[start..i].
        let start = i;
        let mut flags = 0u8;
        while i < n {
            let c = BYTE_CLASS[usize::from(b[i])];
            if c & C_LDH == 0 {
                break;
            }
            flags |= c;
            i += 1;
        }
        let len = i - start;
        if len == 0 || len > 63 || b[start] == b'-' || b[i - 1] == b'-' {
            return None;
        }
        all |= flags;
        let numeric = flags == C_DIGIT;
        if i == n {
            break (n, n, numeric);
        }
        match BYTE_CLASS[usize::from(b[i])] {
            C_DOT => {
                i += 1;
                if i == n {
                    // One trailing dot, dropped.
                    break (n, n - 1, numeric);
                }
                if b[i] == b':' {
                    break (i, i - 1, numeric);
                }
            }
            C_COLON => break (i, i, numeric),
            _ => return None,
        }
    };
    if name_len > 253 || top_numeric {
        return None;
    }
    let port = if host_end < n {
        let p = &b[host_end + 1..];
        if p.is_empty() || p.len() > 5 {
            return None;
        }
        let mut v: u32 = 0;
        for &d in p {
            if !d.is_ascii_digit() {
                return None;
            }
            v = v * 10 + u32::from(d - b'0');
        }
        Some(u16::try_from(v).ok()?)
    } else {
        None
    };
    Some(FastName {
        name_len,
        port,
        lowercase: all & C_UPPER == 0,
    })
}

/// The longest host name, in bytes (RFC 1035, without the trailing dot).
pub(crate) const MAX_NAME_BYTES: usize = 253;

/// `b` is one or more dot-separated labels of lowercase letters, digits and hyphens, each
/// 1 to 63 bytes long and neither starting nor ending with a hyphen (the labels in front
/// of an already validated domain, so the top-label rules do not apply).
pub(crate) fn lowercase_labels(b: &[u8]) -> bool {
    let mut label_start = 0usize;
    for (i, &byte) in b.iter().enumerate() {
        let class = BYTE_CLASS[usize::from(byte)];
        if class & (C_LOWER | C_DIGIT | C_HYPHEN) != 0 {
            continue;
        }
        if class != C_DOT || !label_ok(&b[label_start..i]) {
            return false;
        }
        label_start = i + 1;
    }
    label_ok(&b[label_start..])
}

/// One label of [`lowercase_labels`]: 1 to 63 bytes, no hyphen at either end.
fn label_ok(label: &[u8]) -> bool {
    match (label.first(), label.last()) {
        (Some(&first), Some(&last)) => first != b'-' && last != b'-' && label.len() <= 63,
        _ => false,
    }
}

/// Converts a non-ASCII host (no port) to its A-label form.
pub(crate) fn to_ascii_idn(host: &str) -> Result<String, HostSyntaxError> {
    // Bound the work before converting: every code point takes 1 to 4 UTF-8 bytes and
    // yields at least one A-label byte, so a longer input cannot be a <= 253-byte name
    // (IDNA mapping may drop a few characters, but no real host is this long).
    if host.len() > 4 * MAX_NAME_BYTES {
        return Err(HostSyntaxError::NameTooLong);
    }
    match idna::domain_to_ascii_cow(host.as_bytes(), idna::AsciiDenyList::URL) {
        Ok(s) if s.is_ascii() && !s.is_empty() => Ok(s.into_owned()),
        _ => Err(HostSyntaxError::InvalidIdn),
    }
}

/// `host` (validated name, any case) is `domain` (lowercase) or a subdomain of it, on a
/// label boundary. No allocation.
#[cfg(test)]
pub(crate) fn name_in_domain(host: &str, domain: &str) -> bool {
    name_in_domain_bytes(host.as_bytes(), domain, false)
}

/// [`name_in_domain`] on bytes; `lowercase` says the host is known to have no uppercase
/// letter, so a plain comparison suffices.
#[inline]
pub(crate) fn name_in_domain_bytes(h: &[u8], domain: &str, lowercase: bool) -> bool {
    let d = domain.as_bytes();
    let eq = |a: &[u8]| {
        if lowercase {
            a == d
        } else {
            a.eq_ignore_ascii_case(d)
        }
    };
    if h.len() == d.len() {
        return eq(h);
    }
    if h.len() > d.len() + 1 {
        let cut = h.len() - d.len();
        return h[cut - 1] == b'.' && eq(&h[cut..]);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports() {
        assert_eq!(parse_port("0"), Ok(0));
        assert_eq!(parse_port("65535"), Ok(65535));
        assert_eq!(parse_port("00080"), Ok(80));
        assert!(parse_port("65536").is_err());
        assert!(parse_port("000080").is_err());
        assert!(parse_port("").is_err());
        assert!(parse_port("8a").is_err());
        assert!(parse_port("+80").is_err());
    }

    #[test]
    fn fast_path_agrees_with_full_parser() {
        let inputs = [
            "api.example.com",
            "API.Example.COM:8443",
            "example.com.",
            "example.com.:443",
            "a",
            "a.",
            ".",
            "",
            ":80",
            "a:",
            "a:0",
            "a:65535",
            "a:65536",
            "a:000080",
            "a:1:2",
            "-a.com",
            "a-.com",
            "a.-b.com",
            "a..com",
            ".a.com",
            "a.com..",
            "127.0.0.1",
            "127.1",
            "1.2.3.256",
            "1.example.com",
            "x.123",
            "x.123.",
            "[::1]",
            "[::1]:80",
            "a_b.com",
            "a b",
            "a@b",
            "a%b",
            "exa\u{e9}mple.com",
            "a:8a",
            "a:+80",
            "0x1.com",
        ];
        let long_label = format!("{}.com", "a".repeat(63));
        let too_long_label = format!("{}.com", "a".repeat(64));
        let long_last = format!("com.{}", "a".repeat(64));
        let name_253 = format!(
            "{}.{}.{}.{}",
            "a".repeat(63),
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(61)
        );
        let name_254 = format!("{name_253}e");
        let name_253_dot = format!("{name_253}.");
        let extra = [
            long_label,
            too_long_label,
            long_last,
            name_253,
            name_254,
            name_253_dot,
        ];
        for s in inputs
            .iter()
            .copied()
            .chain(extra.iter().map(String::as_str))
        {
            let fast = parse_name_fast(s.as_bytes());
            let full = if s.is_ascii() {
                parse_host_ascii(s).ok()
            } else {
                None
            };
            match (fast, full) {
                (Some(f), Some(h)) => {
                    assert_eq!(h.kind, HostKind::Name, "{s}");
                    assert_eq!(&s[..f.name_len], h.host, "{s}");
                    assert_eq!(f.port, h.port, "{s}");
                    assert_eq!(
                        f.lowercase,
                        !h.host.bytes().any(|b| b.is_ascii_uppercase()),
                        "{s}"
                    );
                }
                (None, Some(h)) => assert_ne!(h.kind, HostKind::Name, "{s}"),
                (Some(_), None) => panic!("fast path accepted {s:?}"),
                (None, None) => {}
            }
        }
    }

    #[test]
    fn boundaries() {
        assert!(name_in_domain("example.com", "example.com"));
        assert!(name_in_domain("API.Example.COM", "example.com"));
        assert!(name_in_domain("a.b.example.com", "example.com"));
        assert!(!name_in_domain("badexample.com", "example.com"));
        assert!(!name_in_domain("example.com.evil.io", "example.com"));
        assert!(!name_in_domain(".example.com", "example.com"));
        assert!(!name_in_domain("com", "example.com"));
    }
}
