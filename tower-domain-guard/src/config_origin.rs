//! [`Origin`]: the one parser of configured origins (`api_domain`, `website_domain`,
//! trusted origins) shared by every crate of the workspace.

use std::fmt;

use crate::hostname::{self, HostKind, HostSyntaxError};

/// Splits `http://` / `https://` (any case) off `s`: `(is_https, rest)`. Shared by the
/// request-header parser of the origin guard and [`Origin::parse`].
#[inline]
pub(crate) fn split_scheme(s: &str) -> Option<(bool, &str)> {
    let b = s.as_bytes();
    if b.len() >= 8 && b[..8].eq_ignore_ascii_case(b"https://") {
        Some((true, &s[8..]))
    } else if b.len() >= 7 && b[..7].eq_ignore_ascii_case(b"http://") {
        Some((false, &s[7..]))
    } else {
        None
    }
}

/// Why a configured origin was refused by [`Origin::parse`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OriginError {
    /// No `http://` or `https://` scheme (a bare host such as `api.example.com`, or
    /// another scheme).
    Scheme,
    /// A path, query or fragment after the host (one trailing `/` is allowed).
    Path,
    /// The host (or port) is malformed.
    Host(HostSyntaxError),
}

impl OriginError {
    /// A short, static description.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Scheme => "not an http:// or https:// origin such as https://api.example.com",
            Self::Path => "an origin has no path, query or fragment (give https://api.example.com)",
            Self::Host(e) => e.as_str(),
        }
    }
}

impl fmt::Display for OriginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::error::Error for OriginError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Host(e) => Some(e),
            _ => None,
        }
    }
}

/// A configured web origin, `scheme://host[:port]`, parsed and normalised once.
///
/// The one rule of the workspace for `api_domain`, `website_domain` and trusted origins:
///
/// * the scheme is `http://` or `https://` (any case); a bare host is refused;
/// * the host follows the guard's host grammar (LDH names, dotted-quad IPv4, bracketed
///   IPv6; no `_`, userinfo or percent-encoding); non-ASCII names are converted to
///   A-labels; the host is lowercased and one trailing dot dropped;
/// * the port, if any, is 1 to 5 digits up to 65535; the scheme's default port is dropped;
/// * nothing follows but one optional `/` (no path, query or fragment).
///
/// [`Display`](fmt::Display) gives the serialised origin (what browsers send in `Origin`).
///
/// ```
/// use tower_domain_guard::{Origin, OriginError};
/// let o = Origin::parse("HTTPS://Api.Example.com:443/")?;
/// assert_eq!(o.to_string(), "https://api.example.com");
/// assert_eq!((o.host(), o.port(), o.is_https()), ("api.example.com", 443, true));
/// assert_eq!(Origin::parse("http://localhost:3000")?.to_string(), "http://localhost:3000");
/// assert_eq!(Origin::parse("api.example.com"), Err(OriginError::Scheme));
/// assert_eq!(Origin::parse("https://api.example.com/auth"), Err(OriginError::Path));
/// assert!(Origin::parse("https://my_host.example.com").is_err());
/// # Ok::<(), OriginError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Origin {
    https: bool,
    host: Box<str>,
    /// Explicit non-default port.
    port: Option<u16>,
    kind: HostKind,
}

impl Origin {
    /// Parses a configured origin (see the [type docs](Origin) for the rule).
    pub fn parse(input: &str) -> Result<Self, OriginError> {
        let (https, rest) = split_scheme(input.trim()).ok_or(OriginError::Scheme)?;
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.bytes().any(|b| matches!(b, b'/' | b'?' | b'#')) {
            return Err(OriginError::Path);
        }
        let owned;
        let ascii = if rest.is_ascii() {
            rest
        } else {
            // An internationalised name: convert the host part, keep the port.
            let (host, port) = match rest.rfind(':') {
                Some(i) if !rest.starts_with('[') => (&rest[..i], Some(&rest[i..])),
                _ => (rest, None),
            };
            let a = hostname::to_ascii_idn(host).map_err(OriginError::Host)?;
            owned = format!("{a}{}", port.unwrap_or(""));
            &owned
        };
        let h = hostname::parse_host_ascii(ascii).map_err(OriginError::Host)?;
        let default = if https { 443 } else { 80 };
        Ok(Self {
            https,
            host: h.host.to_ascii_lowercase().into_boxed_str(),
            port: h.port.filter(|&p| p != default),
            kind: h.kind,
        })
    }

    /// Whether the scheme is `https`.
    pub fn is_https(&self) -> bool {
        self.https
    }

    /// `"https"` or `"http"`.
    pub fn scheme(&self) -> &'static str {
        if self.https {
            "https"
        } else {
            "http"
        }
    }

    /// The lowercase host, no port (IPv6 literals keep their brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port, the scheme's default (443 / 80) when none was given.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(if self.https { 443 } else { 80 })
    }

    /// The port if it is not the scheme's default.
    pub fn explicit_port(&self) -> Option<u16> {
        self.port
    }

    /// Whether the host is an IP address (IPv4 or bracketed IPv6).
    pub fn is_ip(&self) -> bool {
        self.kind != HostKind::Name
    }

    /// Whether the host is a dotted-quad IPv4 address.
    pub fn is_ipv4(&self) -> bool {
        self.kind == HostKind::Ipv4
    }

    /// `host[:port]` as in a `Host` header (default port dropped).
    pub fn authority(&self) -> String {
        match self.port {
            Some(p) => format!("{}:{p}", self.host),
            None => self.host.to_string(),
        }
    }
}

impl std::str::FromStr for Origin {
    type Err = OriginError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme(), self.host)?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted() {
        for (input, shown) in [
            ("https://api.example.com", "https://api.example.com"),
            ("HTTPS://Api.Example.COM/", "https://api.example.com"),
            ("https://api.example.com:443", "https://api.example.com"),
            ("http://api.example.com:80", "http://api.example.com"),
            ("https://api.example.com:80", "https://api.example.com:80"),
            ("http://localhost:3000", "http://localhost:3000"),
            ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
            ("http://[::1]:3000", "http://[::1]:3000"),
            ("  https://example.com.  ", "https://example.com"),
            ("https://bücher.example", "https://xn--bcher-kva.example"),
            (
                "https://bücher.example:8443",
                "https://xn--bcher-kva.example:8443",
            ),
        ] {
            let o = Origin::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(o.to_string(), shown, "{input}");
        }
    }

    #[test]
    fn refused() {
        for (input, want) in [
            ("api.example.com", OriginError::Scheme),
            ("ftp://api.example.com", OriginError::Scheme),
            ("/auth", OriginError::Scheme),
            ("https://api.example.com/auth", OriginError::Path),
            ("https://api.example.com?x", OriginError::Path),
            ("https://api.example.com#x", OriginError::Path),
            ("https://api.example.com//", OriginError::Path),
            ("https://", OriginError::Host(HostSyntaxError::Empty)),
            (
                "https://u@api.example.com",
                OriginError::Host(HostSyntaxError::Userinfo),
            ),
            (
                "https://my_host.example.com",
                OriginError::Host(HostSyntaxError::InvalidCharacter),
            ),
            (
                "https://api.example.com:99999",
                OriginError::Host(HostSyntaxError::InvalidPort),
            ),
            (
                "https://api.example.com:",
                OriginError::Host(HostSyntaxError::InvalidPort),
            ),
            (
                "https://api.example.com:x",
                OriginError::Host(HostSyntaxError::InvalidPort),
            ),
            (
                "https://exa mple.com",
                OriginError::Host(HostSyntaxError::InvalidCharacter),
            ),
            (
                "http://::1",
                OriginError::Host(HostSyntaxError::UnbracketedIpv6),
            ),
            (
                "http://[::1",
                OriginError::Host(HostSyntaxError::InvalidIpv6),
            ),
        ] {
            assert_eq!(Origin::parse(input), Err(want), "{input}");
        }
    }

    #[test]
    fn scheme_split() {
        assert_eq!(split_scheme("HTTP://a"), Some((false, "a")));
        assert_eq!(split_scheme("https://"), Some((true, "")));
        assert_eq!(split_scheme("ws://a"), None);
    }
}
