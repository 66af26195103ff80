//! [`SharedDomain`]: the one parent domain a login session is shared across.

use std::fmt;
use std::str::FromStr;

use crate::hostname::{self, HostKind, HostSyntaxError};

/// The parent domain that a session is shared across, e.g. `.example.com` for
/// `www.example.com`, `api.example.com` and `api2.example.com`.
///
/// Built once from configuration with [`SharedDomain::parse`] (or [`str::parse`]), which
/// normalises the value the way SuperTokens' `normaliseSessionScopeOrThrowError` does
/// (`sessionTokenBackendDomain` / `cookieDomain`) and then refuses values that cannot work
/// as a shared cookie domain:
///
/// * whitespace is trimmed, the value is lowercased, an `http://`/`https://` scheme, a port,
///   a path, a query and a fragment are dropped: `https://api.example.com:8080/p` becomes
///   `api.example.com`;
/// * a leading `.` is kept for [`Display`](fmt::Display) (`.Example.COM` displays as
///   `.example.com`) but does not change behaviour: `example.com` and `.example.com` both
///   cover the apex and every subdomain, as in SuperTokens. As in SuperTokens, only a dot
///   at the very start of the *untrimmed* input counts (`" .example.com"` displays as
///   `example.com`);
/// * one trailing dot is accepted and dropped; internationalised names are converted to
///   punycode (`bücher.example` becomes `xn--bcher-kva.example`);
/// * refused, each with its own [`DomainError`]: public suffixes from the Public Suffix
///   List, private section included (`com`, `co.uk`, `github.io`, `vercel.app`), and single
///   labels; `localhost` (browsers do not share its cookies across subdomains); an IP
///   literal written with a leading dot; IPv6 literals; userinfo; schemes other than
///   `http`/`https`; and names that are not valid host names (empty labels, labels over 63
///   bytes, names over 253 bytes, characters outside letters, digits and `-`).
///
/// A bare IPv4 address (`127.0.0.1`, no leading dot) is accepted for local development,
/// like SuperTokens does; it has no subdomains, so it matches only itself, and browsers
/// treat `Domain=127.0.0.1` as a host-only cookie.
///
/// ```
/// use tower_domain_guard::SharedDomain;
///
/// let d: SharedDomain = ".Example.COM".parse()?;
/// assert_eq!(d.to_string(), ".example.com");
/// assert_eq!(d.name(), "example.com");
/// assert!(d.matches("api.example.com:8443"));
/// assert!(d.matches("EXAMPLE.com"));
/// assert!(!d.matches("badexample.com"));
/// assert!(!d.matches("example.com.evil.io"));
///
/// assert!(SharedDomain::parse("co.uk").is_err());
/// assert!(SharedDomain::parse("github.io").is_err());
/// # Ok::<(), tower_domain_guard::DomainError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SharedDomain {
    /// Lowercase A-label name, no leading or trailing dot.
    name: Box<str>,
    leading_dot: bool,
    ip: bool,
    /// Matches only itself (an IPv4 address, or [`SharedDomain::single_host`]).
    exact: bool,
}

/// Why a shared domain (or a domain checked against it) was refused.
///
/// Every message names the offending value and says what to do.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DomainError {
    /// The value is empty after trimming.
    Empty,
    /// A scheme other than `http://` or `https://`.
    UnsupportedScheme {
        /// The configured value.
        input: String,
    },
    /// The value is not a valid host (see [`HostSyntaxError`]).
    InvalidHost {
        /// The configured value.
        input: String,
        /// What is wrong with it.
        error: HostSyntaxError,
    },
    /// The name is a public suffix (or a single label), so browsers refuse it as a cookie
    /// domain and it would cover unrelated sites.
    PublicSuffix {
        /// The normalised name.
        domain: String,
    },
    /// `localhost` cannot be shared across subdomains by browsers.
    Localhost {
        /// The configured value.
        input: String,
    },
    /// An IP address written with a leading dot, which suggests subdomains it cannot have.
    IpWithLeadingDot {
        /// The configured value.
        input: String,
    },
    /// An IPv6 literal: not usable as a shared domain.
    Ipv6 {
        /// The configured value.
        input: String,
    },
    /// A configured API or website domain does not lie inside the shared domain.
    NotInside {
        /// What was checked, e.g. `apiDomain`.
        what: String,
        /// The offending host, normalised, e.g. `api.otherdomain.com`.
        host: String,
        /// The shared domain, as displayed.
        shared: String,
    },
}

impl fmt::Display for DomainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str(
                "the shared domain is empty: give the parent domain of your API and website, e.g. \".example.com\"",
            ),
            Self::UnsupportedScheme { input } => write!(
                f,
                "{input:?}: only http:// and https:// URLs or bare domain names are accepted"
            ),
            Self::InvalidHost { input, error } => write!(f, "{input:?} is not a valid domain: {error}"),
            Self::PublicSuffix { domain } => write!(
                f,
                "{domain:?} is a public suffix (Public Suffix List) or a single label: browsers refuse it as a cookie domain and it would cover unrelated sites; use your own registrable domain, e.g. \"example.{domain}\""
            ),
            Self::Localhost { input } => write!(
                f,
                "{input:?}: localhost cannot be a shared domain (browsers do not share its cookies across subdomains); for local development use a name such as \".example.test\" resolved to 127.0.0.1, or leave the shared domain unset for host-only cookies"
            ),
            Self::IpWithLeadingDot { input } => write!(
                f,
                "{input:?}: an IP address has no subdomains; write it without the leading dot"
            ),
            Self::Ipv6 { input } => write!(
                f,
                "{input:?}: an IPv6 literal cannot be a shared domain; use a domain name"
            ),
            Self::NotInside { what, host, shared } => write!(
                f,
                "{what} {host:?} is not inside the shared domain {shared:?}: every API domain and the website domain must be the shared domain itself or one of its subdomains"
            ),
        }
    }
}

impl std::error::Error for DomainError {}

/// A host taken out of a domain/URL configuration value: lowercase, A-label, no port.
struct ConfigHost {
    name: String,
    kind: HostKind,
}

/// Steps shared by [`SharedDomain::parse`] and [`SharedDomain::check_inside`]: trim,
/// lowercase, drop one leading dot, scheme, path, query, fragment and port; convert IDN.
fn config_host(input: &str) -> Result<ConfigHost, DomainError> {
    let invalid = |error| DomainError::InvalidHost {
        input: input.to_owned(),
        error,
    };
    let lowered = input.trim().to_lowercase();
    let mut s = lowered.as_str();
    if s.is_empty() {
        return Err(DomainError::Empty);
    }
    s = s.strip_prefix('.').unwrap_or(s);
    if let Some(rest) = s
        .strip_prefix("http://")
        .or_else(|| s.strip_prefix("https://"))
    {
        s = rest;
    } else if s.contains("://") {
        return Err(DomainError::UnsupportedScheme {
            input: input.to_owned(),
        });
    }
    let end = s.find(['/', '?', '#']).unwrap_or(s.len());
    let authority = &s[..end];
    let (host, _port, bracketed) = hostname::split_host_port(authority).map_err(invalid)?;
    if bracketed {
        return Ok(ConfigHost {
            name: host.to_owned(),
            kind: HostKind::Ipv6,
        });
    }
    let converted;
    let host = if host.is_ascii() {
        host
    } else {
        // Drop a trailing dot before conversion so it is handled like the ASCII case.
        let bare = host.strip_suffix('.').unwrap_or(host);
        converted = hostname::to_ascii_idn(bare).map_err(invalid)?;
        converted.as_str()
    };
    let (name, kind) = hostname::classify_name(host).map_err(invalid)?;
    Ok(ConfigHost {
        name: name.to_ascii_lowercase(),
        kind,
    })
}

impl SharedDomain {
    /// Parses and validates a shared domain (see the type docs for the rules).
    ///
    /// ```
    /// use tower_domain_guard::{DomainError, SharedDomain};
    ///
    /// let d = SharedDomain::parse("https://api.example.com:8080/p")?;
    /// assert_eq!(d.to_string(), "api.example.com");
    /// assert!(matches!(SharedDomain::parse(".localhost"), Err(DomainError::Localhost { .. })));
    /// # Ok::<(), DomainError>(())
    /// ```
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let leading_dot = input.starts_with('.');
        let ConfigHost { name, kind } = config_host(input)?;
        match kind {
            HostKind::Ipv6 => Err(DomainError::Ipv6 {
                input: input.to_owned(),
            }),
            HostKind::Ipv4 if leading_dot => Err(DomainError::IpWithLeadingDot {
                input: input.to_owned(),
            }),
            HostKind::Ipv4 => Ok(Self {
                name: name.into_boxed_str(),
                leading_dot: false,
                ip: true,
                exact: true,
            }),
            HostKind::Name => {
                if name == "localhost" {
                    return Err(DomainError::Localhost {
                        input: input.to_owned(),
                    });
                }
                if psl::domain(name.as_bytes()).is_none() {
                    return Err(DomainError::PublicSuffix { domain: name });
                }
                Ok(Self {
                    name: name.into_boxed_str(),
                    leading_dot,
                    ip: false,
                    exact: false,
                })
            }
        }
    }

    /// One host and nothing under it: the setup without a shared domain (SuperTokens with
    /// `cookieDomain` unset), where the API and the website run on the same host name on
    /// different ports, as in local development on `localhost`. Unlike [`parse`](Self::parse),
    /// `localhost` and single labels are accepted, since nothing is shared with other
    /// hosts: the domain matches only this host (any port), and cookies made for it should be
    /// host-only (no `Domain` attribute). IPv6 literals are refused.
    ///
    /// ```
    /// use tower_domain_guard::SharedDomain;
    ///
    /// let d = SharedDomain::single_host("http://localhost:8080")?;
    /// assert!(d.is_single_host());
    /// assert!(d.matches("localhost:8082"));
    /// assert!(!d.matches("api.localhost"));
    /// # Ok::<(), tower_domain_guard::DomainError>(())
    /// ```
    pub fn single_host(input: &str) -> Result<Self, DomainError> {
        let ConfigHost { name, kind } = config_host(input)?;
        match kind {
            HostKind::Ipv6 => Err(DomainError::Ipv6 {
                input: input.to_owned(),
            }),
            HostKind::Ipv4 | HostKind::Name => Ok(Self {
                name: name.into_boxed_str(),
                leading_dot: false,
                ip: kind == HostKind::Ipv4,
                exact: true,
            }),
        }
    }

    /// Whether this domain matches only one host: made by
    /// [`single_host`](Self::single_host), or an IPv4 address.
    pub fn is_single_host(&self) -> bool {
        self.exact
    }

    /// Whether `host` is the shared domain or one of its subdomains (any depth), on a label
    /// boundary.
    ///
    /// `host` may carry a port (ignored) and one trailing dot; case does not matter. It must
    /// be a syntactically valid ASCII host (names in punycode): anything else, including
    /// `evil.com/.example.com`, `..example.com` or raw UTF-8, never matches. If the shared
    /// domain is an IPv4 address, only that address matches. Does not allocate.
    ///
    /// ```
    /// # use tower_domain_guard::SharedDomain;
    /// let d = SharedDomain::parse("example.com")?;
    /// assert!(d.matches("example.com"));
    /// assert!(d.matches("a.b.Example.com.:443"));
    /// assert!(!d.matches("evil.com@api.example.com"));
    /// assert!(!d.matches("example.com.evil.io"));
    /// # Ok::<(), tower_domain_guard::DomainError>(())
    /// ```
    pub fn matches(&self, host: &str) -> bool {
        match hostname::parse_host_ascii(host) {
            Ok(h) => self.matches_validated(h.host, h.kind),
            Err(_) => false,
        }
    }

    /// Matching on an already validated host (no port, no trailing dot).
    #[inline]
    pub(crate) fn matches_validated(&self, host: &str, kind: HostKind) -> bool {
        self.matches_validated_bytes(host.as_bytes(), kind, false)
    }

    /// [`matches_validated`](Self::matches_validated) on bytes; `lowercase` says the host
    /// is known to have no uppercase letter.
    #[inline]
    pub(crate) fn matches_validated_bytes(
        &self,
        host: &[u8],
        kind: HostKind,
        lowercase: bool,
    ) -> bool {
        match kind {
            HostKind::Name if !self.exact => {
                hostname::name_in_domain_bytes(host, &self.name, lowercase)
            }
            HostKind::Name if !self.ip => host.eq_ignore_ascii_case(self.name.as_bytes()),
            HostKind::Ipv4 if self.ip => host == self.name.as_bytes(),
            _ => false,
        }
    }

    /// The common Host value in one step: `raw` is this (name) domain or a lowercase name
    /// under it with no port and no trailing dot (`api.example.com`). The domain part was
    /// validated when it was parsed, so only the labels in front of it are checked (LDH,
    /// lowercase, 1 to 63 bytes, no hyphen at either end). `true` only where the full parse
    /// and [`matches_validated_bytes`](Self::matches_validated_bytes) would accept the same
    /// bytes as a lowercase name without port; anything else answers `false` and takes
    /// the full path.
    #[inline]
    pub(crate) fn matches_plain_lowercase(&self, raw: &[u8]) -> bool {
        let d = self.name.as_bytes();
        if self.ip || raw.len() > hostname::MAX_NAME_BYTES {
            return false;
        }
        if raw == d {
            return true;
        }
        if self.exact {
            return false;
        }
        let Some(cut) = raw.len().checked_sub(d.len() + 1) else {
            return false;
        };
        let (labels, dot_domain) = raw.split_at(cut);
        dot_domain.first() == Some(&b'.')
            && dot_domain.get(1..) == Some(d)
            && hostname::lowercase_labels(labels)
    }

    /// The normalised name: lowercase, punycode, no leading or trailing dot
    /// (`"example.com"`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The value for the `Domain` attribute of `Set-Cookie` (`"example.com"`; browsers
    /// ignore a leading dot, so none is emitted).
    pub fn cookie_domain(&self) -> &str {
        &self.name
    }

    /// Every API domain and the website domain must lie inside the shared domain (the
    /// cookies would not reach them otherwise). `url_or_host` is a URL (`https://api.example.com:3000`) or a host; `what`
    /// names it in the error (`"apiDomain"`, `"websiteDomain"`).
    ///
    /// ```
    /// # use tower_domain_guard::{DomainError, SharedDomain};
    /// let d = SharedDomain::parse(".example.com")?;
    /// d.check_inside("apiDomain", "https://api.example.com:3000")?;
    /// let err = d.check_inside("apiDomain", "https://api.otherdomain.com").unwrap_err();
    /// assert!(err.to_string().contains("api.otherdomain.com"));
    /// # Ok::<(), DomainError>(())
    /// ```
    pub fn check_inside(&self, what: &str, url_or_host: &str) -> Result<(), DomainError> {
        let ConfigHost { name, kind } = config_host(url_or_host)?;
        if self.matches_validated(&name, kind) {
            Ok(())
        } else {
            Err(DomainError::NotInside {
                what: what.to_owned(),
                host: name,
                shared: self.to_string(),
            })
        }
    }

    /// Whether this "domain" is an IPv4 address (matches only itself).
    pub fn is_ip(&self) -> bool {
        self.ip
    }
}

impl FromStr for SharedDomain {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for SharedDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.leading_dot {
            f.write_str(".")?;
        }
        f.write_str(&self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(input: &str, display: &str) {
        match SharedDomain::parse(input) {
            Ok(d) => assert_eq!(d.to_string(), display, "input {input:?}"),
            Err(e) => panic!("{input:?} refused: {e}"),
        }
    }

    fn err(input: &str, check: fn(&DomainError) -> bool) {
        match SharedDomain::parse(input) {
            Ok(d) => panic!("{input:?} accepted as {d}"),
            Err(e) => {
                assert!(check(&e), "{input:?}: unexpected error {e:?}");
                assert!(!e.to_string().is_empty());
            }
        }
    }

    fn invalid(input: &str, want: HostSyntaxError) {
        err(input, |_| true);
        match SharedDomain::parse(input) {
            Err(DomainError::InvalidHost { error, .. }) => {
                assert_eq!(error, want, "input {input:?}")
            }
            other => panic!("{input:?}: {other:?}"),
        }
    }

    #[test]
    fn normalisation_table() {
        // spec 5.1 examples
        ok(".Example.COM", ".example.com");
        ok("https://api.example.com:8080/p?q", "api.example.com");
        ok(" .example.com", "example.com");
        ok("example.com", "example.com");
        ok("  Example.com  ", "example.com");
        ok("http://example.com", "example.com");
        ok("https://example.com/", "example.com");
        ok("example.com:3000", "example.com");
        ok("example.com#frag", "example.com");
        ok(".example.test", ".example.test");
        ok("example.com.", "example.com");
        ok(".example.com.", ".example.com");
        ok("a.b.example.co.uk", "a.b.example.co.uk");
        ok("example.co.uk", "example.co.uk");
        ok("alice.github.io", "alice.github.io");
        ok("my-app.vercel.app", "my-app.vercel.app");
        ok("127.0.0.1", "127.0.0.1");
        ok("http://127.0.0.1:3000", "127.0.0.1");
        // IDN
        ok("bücher.example", "xn--bcher-kva.example");
        ok(".BÜCHER.de", ".xn--bcher-kva.de");
        ok("xn--bcher-kva.de", "xn--bcher-kva.de");
        ok("例え.jp", "xn--r8jz45g.jp");
        // lengths at the limit
        let l63 = "a".repeat(63);
        ok(&format!("{l63}.com"), &format!("{l63}.com"));
        let long = format!("{l63}.{l63}.{l63}.{}.com", "b".repeat(57));
        assert_eq!(long.len(), 253);
        ok(&long, &long);
    }

    #[test]
    fn refusals_table() {
        err("", |e| *e == DomainError::Empty);
        err("   ", |e| *e == DomainError::Empty);
        // public suffixes, ICANN and private
        for ps in [
            "com",
            ".com",
            "co.uk",
            ".co.uk",
            "github.io",
            ".github.io",
            "vercel.app",
            "herokuapp.com",
            "COM.",
            "https://co.uk/",
            "test",
            "intranet",
            "s3.amazonaws.com",
        ] {
            err(ps, |e| matches!(e, DomainError::PublicSuffix { .. }));
        }
        for lh in [
            "localhost",
            ".localhost",
            "LOCALHOST",
            "http://localhost:3000",
            ".localhost:8080",
        ] {
            err(lh, |e| matches!(e, DomainError::Localhost { .. }));
        }
        err(".127.0.0.1", |e| {
            matches!(e, DomainError::IpWithLeadingDot { .. })
        });
        err("[::1]", |e| matches!(e, DomainError::Ipv6 { .. }));
        err("http://[::1]:3000", |e| {
            matches!(e, DomainError::Ipv6 { .. })
        });
        err("ftp://example.com", |e| {
            matches!(e, DomainError::UnsupportedScheme { .. })
        });
        invalid("..example.com", HostSyntaxError::EmptyLabel);
        invalid("example..com", HostSyntaxError::EmptyLabel);
        invalid("example.com..", HostSyntaxError::EmptyLabel);
        invalid(".", HostSyntaxError::Empty);
        invalid(
            &format!("{}.com", "a".repeat(64)),
            HostSyntaxError::LabelTooLong,
        );
        let l63 = "a".repeat(63);
        invalid(
            &format!("{l63}.{l63}.{l63}.{}.com", "b".repeat(58)),
            HostSyntaxError::NameTooLong,
        );
        invalid("exa mple.com", HostSyntaxError::InvalidCharacter);
        invalid("api_svc.example.com", HostSyntaxError::InvalidCharacter);
        invalid("*.example.com", HostSyntaxError::InvalidCharacter);
        invalid("example.com;secure", HostSyntaxError::InvalidCharacter);
        invalid("example.com\\evil", HostSyntaxError::InvalidCharacter);
        invalid("user@example.com", HostSyntaxError::Userinfo);
        invalid("https://user:pw@example.com", HostSyntaxError::Userinfo);
        invalid("evil.com%2f.example.com", HostSyntaxError::PercentEncoding);
        invalid("-api.example.com", HostSyntaxError::HyphenAtLabelEdge);
        invalid("example.com:99999", HostSyntaxError::InvalidPort);
        invalid("example.com:80:80", HostSyntaxError::InvalidPort);
        invalid("example.com:http", HostSyntaxError::InvalidPort);
        invalid("127.1", HostSyntaxError::NumericTopLabel);
        invalid("1.2.3.256", HostSyntaxError::NumericTopLabel);
        invalid("::1", HostSyntaxError::UnbracketedIpv6);
        invalid("xn--.com", HostSyntaxError::HyphenAtLabelEdge);
    }

    #[test]
    fn matching() {
        let d = SharedDomain::parse(".example.com").expect("valid");
        for yes in [
            "example.com",
            "EXAMPLE.COM",
            "api.example.com",
            "a.b.c.example.com",
            "api.example.com:8080",
            "api.example.com.",
            "api.example.com.:443",
        ] {
            assert!(d.matches(yes), "{yes}");
        }
        for no in [
            "badexample.com",
            "example.com.evil.io",
            "evil.com",
            ".example.com",
            "..example.com",
            "evil.com/.example.com",
            "evil.com@api.example.com",
            "evil.com#.example.com",
            "api.example.com..",
            "com",
            "",
            "127.0.0.1",
            "[::1]",
            "bücher.example.com",
            "api.example.com:99999",
        ] {
            assert!(!d.matches(no), "{no}");
        }
        let ip = SharedDomain::parse("127.0.0.1").expect("valid");
        assert!(ip.is_ip());
        assert!(ip.matches("127.0.0.1:3000"));
        assert!(!ip.matches("1.127.0.0.1"));
        assert!(!ip.matches("127.0.0.2"));
    }

    #[test]
    fn check_inside_rule() {
        let d = SharedDomain::parse(".example.com").expect("valid");
        d.check_inside("apiDomain", "https://api.example.com")
            .expect("inside");
        d.check_inside("websiteDomain", "http://example.com:3000")
            .expect("apex");
        d.check_inside("apiDomain", "API.EXAMPLE.COM")
            .expect("case");
        let e = d
            .check_inside("apiDomain", "https://api.otherdomain.com")
            .expect_err("outside");
        assert!(matches!(&e, DomainError::NotInside { host, .. } if host == "api.otherdomain.com"));
        let msg = e.to_string();
        assert!(
            msg.contains("apiDomain") && msg.contains("api.otherdomain.com"),
            "{msg}"
        );
        assert!(d
            .check_inside("websiteDomain", "http://localhost:3000")
            .is_err());
        assert!(d
            .check_inside("apiDomain", "https://badexample.com")
            .is_err());
        assert!(d
            .check_inside("apiDomain", "https://example.com.evil.io")
            .is_err());
        assert!(matches!(
            d.check_inside("apiDomain", "https://a b.example.com"),
            Err(DomainError::InvalidHost { .. })
        ));
    }

    #[test]
    fn eq_hash_display() {
        let a = SharedDomain::parse("Example.com").expect("valid");
        let b: SharedDomain = "example.com.".parse().expect("valid");
        assert_eq!(a, b);
        assert_eq!(a.cookie_domain(), "example.com");
    }
}
