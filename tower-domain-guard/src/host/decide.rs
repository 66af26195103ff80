//! The guard's configuration and its decision: the request's effective host (RFC 9112
//! §3.2, RFC 9113 §8.3.1), matched against the shared domain, and the answer when it is not.
//!
//! Everything here borrows from the request and does not allocate for ASCII hosts; only a
//! non-ASCII (IDN) host is converted into an owned A-label string.

use std::borrow::Cow;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use bytes::Bytes;
use http::header::{FORWARDED, HOST};
use http::{Extensions, HeaderMap, Request, Response, StatusCode, Version};

use super::rejection::{HostRejection, HostRejectionKind};
use crate::hostname::{self, HostKind, HostSyntaxError};
use crate::response::{self, GuardBody};
use crate::SharedDomain;

type TrustFn = dyn Fn(&Extensions) -> bool + Send + Sync;
type RejectFn = dyn Fn(&HostRejection) -> Response<Bytes> + Send + Sync;

/// What a [`HostGuardLayer`](super::HostGuardLayer) was configured with; shared by its services.
#[derive(Clone)]
pub(crate) struct HostConfig {
    pub(super) domain: SharedDomain,
    pub(super) extra_hosts: Vec<ExtraHost>,
    pub(super) allowed_ports: Option<Vec<u16>>,
    pub(super) trust_forwarded: Option<Arc<TrustFn>>,
    pub(super) outside: (StatusCode, Bytes),
    pub(super) malformed: (StatusCode, Bytes),
    pub(super) on_rejection: Option<Arc<RejectFn>>,
    /// An empty extensions map with room for several entries, cloned into requests that
    /// arrive without extensions (see [`presized_extensions`](crate::presized_extensions)).
    pub(super) presized: Extensions,
    /// Put the [`EffectiveHost`](super::EffectiveHost) in the request extensions.
    pub(super) record_host: bool,
}

impl fmt::Debug for HostConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostConfig")
            .field("domain", &self.domain)
            .field("extra_hosts", &self.extra_hosts)
            .field("allowed_ports", &self.allowed_ports)
            .field("trust_forwarded", &self.trust_forwarded.is_some())
            .field("outside", &self.outside)
            .field("malformed", &self.malformed)
            .field("on_rejection", &self.on_rejection.is_some())
            .field("record_host", &self.record_host)
            .finish()
    }
}

impl HostConfig {
    /// The response for a rejected request: the custom one, gRPC status, or the
    /// configured status and text.
    pub(super) fn rejection_response<B>(&self, rejection: HostRejection) -> Response<GuardBody<B>> {
        let mut res = if let Some(f) = &self.on_rejection {
            response::custom_response(f(&rejection))
        } else if rejection.is_grpc() {
            if rejection.is_malformed() {
                response::grpc_response(3, "invalid host")
            } else {
                response::grpc_response(7, "host not served here")
            }
        } else {
            let (status, body) = if rejection.is_malformed() {
                &self.malformed
            } else {
                &self.outside
            };
            response::text_response(*status, body.clone())
        };
        res.extensions_mut().insert(rejection);
        res
    }
}

/// A well-formed host taken from the request: A-label, no trailing dot, original case
/// (always ASCII).
#[derive(Debug)]
pub(crate) struct Candidate<'a> {
    pub(crate) name: Cow<'a, [u8]>,
    pub(crate) port: Option<u16>,
    pub(crate) kind: HostKind,
    /// `name` is known to have no uppercase letter (`false` when unknown).
    pub(crate) lowercase: bool,
}

impl Candidate<'_> {
    /// The name as text (it is ASCII, so this cannot fail; used off the hot path only).
    fn name_str(&self) -> &str {
        std::str::from_utf8(&self.name).unwrap_or_default()
    }
}

/// A rejection, with the raw value that caused it (for the escaped debug log).
#[derive(Debug)]
pub(crate) struct Rejected<'a> {
    pub(crate) kind: HostRejectionKind,
    pub(crate) value: &'a [u8],
}

/// An extra host that is accepted besides the shared domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ExtraHost {
    Name(Box<str>),
    V4(Ipv4Addr),
    V6(Ipv6Addr),
}

impl ExtraHost {
    pub(crate) fn parse(input: &str) -> Result<Self, HostSyntaxError> {
        let c = parse_value(input.trim().as_bytes())?;
        if c.port.is_some() {
            return Err(HostSyntaxError::InvalidPort);
        }
        Ok(match c.kind {
            HostKind::Name => Self::Name(c.name_str().to_ascii_lowercase().into_boxed_str()),
            HostKind::Ipv4 => Self::V4(c.name_str().parse().map_err(|_| HostSyntaxError::Empty)?),
            HostKind::Ipv6 => Self::V6(parse_v6(c.name_str()).ok_or(HostSyntaxError::InvalidIpv6)?),
        })
    }

    fn matches(&self, c: &Candidate<'_>) -> bool {
        match (self, c.kind) {
            (Self::Name(n), HostKind::Name) => n.as_bytes().eq_ignore_ascii_case(&c.name),
            (Self::V4(a), HostKind::Ipv4) => {
                c.name_str().parse::<Ipv4Addr>().is_ok_and(|b| *a == b)
            }
            (Self::V6(a), HostKind::Ipv6) => parse_v6(c.name_str()).is_some_and(|b| *a == b),
            _ => false,
        }
    }
}

fn parse_v6(bracketed: &str) -> Option<Ipv6Addr> {
    bracketed.strip_prefix('[')?.strip_suffix(']')?.parse().ok()
}

/// Parses and validates a `host[:port]` value from the wire.
pub(crate) fn parse_value(raw: &[u8]) -> Result<Candidate<'_>, HostSyntaxError> {
    // The common case (an LDH name, optional port) in one pass over the bytes.
    if let Some(f) = hostname::parse_name_fast(raw) {
        return Ok(Candidate {
            name: Cow::Borrowed(&raw[..f.name_len]),
            port: f.port,
            kind: HostKind::Name,
            lowercase: f.lowercase,
        });
    }
    let s = match std::str::from_utf8(raw) {
        Ok(s) => s,
        Err(_) => {
            // Report control bytes as such; other invalid UTF-8 cannot be an IDN.
            if raw.iter().any(|&b| b < 0x20 || b == 0x7f) {
                return Err(HostSyntaxError::InvalidCharacter);
            }
            return Err(HostSyntaxError::InvalidIdn);
        }
    };
    if s.is_ascii() {
        let h = hostname::parse_host_ascii(s)?;
        return Ok(Candidate {
            name: Cow::Borrowed(h.host.as_bytes()),
            port: h.port,
            kind: h.kind,
            lowercase: false,
        });
    }
    let (host, port, _) = hostname::split_host_port(s)?;
    let bare = host.strip_suffix('.').unwrap_or(host);
    let ascii = hostname::to_ascii_idn(bare)?;
    let (name, kind) = hostname::classify_name(&ascii)?;
    if kind != HostKind::Name {
        return Err(HostSyntaxError::InvalidIdn);
    }
    Ok(Candidate {
        name: Cow::Owned(name.as_bytes().to_vec()),
        port,
        kind,
        lowercase: false,
    })
}

fn trim(mut b: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = b {
        if *first == b' ' || *first == b'\t' {
            b = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., last] = b {
        if *last == b' ' || *last == b'\t' {
            b = rest;
        } else {
            break;
        }
    }
    b
}

/// The host named by the proxy nearest to us: the `host=` of the last `Forwarded` element,
/// else the last `X-Forwarded-Host` element.
fn forwarded_host(headers: &HeaderMap) -> Option<&[u8]> {
    if let Some(last) = headers.get_all(FORWARDED).iter().next_back() {
        let elem = last.as_bytes().rsplit(|&b| b == b',').next().unwrap_or(&[]);
        for pair in elem.split(|&b| b == b';') {
            let pair = trim(pair);
            if let Some(eq) = pair.iter().position(|&b| b == b'=') {
                if trim(&pair[..eq]).eq_ignore_ascii_case(b"host") {
                    let v = trim(&pair[eq + 1..]);
                    if v.len() >= 2 && v[0] == b'"' && v[v.len() - 1] == b'"' {
                        return Some(&v[1..v.len() - 1]);
                    }
                    return Some(v);
                }
            }
        }
    }
    let last = headers.get_all("x-forwarded-host").iter().next_back()?;
    let elem = last.as_bytes().rsplit(|&b| b == b',').next().unwrap_or(&[]);
    Some(trim(elem))
}

fn same_host(a: &Candidate<'_>, b: &Candidate<'_>) -> bool {
    a.name.eq_ignore_ascii_case(&b.name)
        && match (a.port, b.port) {
            (Some(x), Some(y)) => x == y,
            _ => true,
        }
}

impl HostConfig {
    /// Matches a well-formed host against the shared domain, the extra hosts and the ports.
    pub(crate) fn accept(&self, c: &Candidate<'_>) -> Result<(), HostRejectionKind> {
        if let (Some(ports), Some(p)) = (&self.allowed_ports, c.port) {
            if !ports.contains(&p) {
                return Err(HostRejectionKind::PortNotAllowed);
            }
        }
        if self
            .domain
            .matches_validated_bytes(&c.name, c.kind, c.lowercase)
            || self.extra_hosts.iter().any(|e| e.matches(c))
        {
            Ok(())
        } else {
            Err(HostRejectionKind::OutsideDomain)
        }
    }

    /// Decides the effective host of a request and checks it.
    pub(crate) fn decide<'a, B>(&self, req: &'a Request<B>) -> Result<Candidate<'a>, Rejected<'a>> {
        let headers = req.headers();
        if let Some(trust) = &self.trust_forwarded {
            if trust(req.extensions()) {
                if let Some(raw) = forwarded_host(headers) {
                    let c = parse_value(raw).map_err(|e| Rejected {
                        kind: HostRejectionKind::MalformedForwarded(e),
                        value: raw,
                    })?;
                    self.accept(&c)
                        .map_err(|kind| Rejected { kind, value: raw })?;
                    return Ok(c);
                }
            }
        }

        let mut host_lines = headers.get_all(HOST).iter();
        let host_header = host_lines.next();
        if host_lines.next().is_some() {
            return Err(Rejected {
                kind: HostRejectionKind::DuplicateHost,
                value: host_header.map_or(&[], |h| h.as_bytes()),
            });
        }

        let (candidate, raw) = if let Some(authority) = req.uri().authority() {
            // Absolute-form (HTTP/1.x) or :authority (HTTP/2, HTTP/3): the URI authority wins.
            let raw = authority.as_str().as_bytes();
            // Only http and https name an origin server (RFC 9110 §4.2).
            let scheme = req.uri().scheme_str().unwrap_or_default();
            if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
                return Err(Rejected {
                    kind: HostRejectionKind::UnsupportedScheme,
                    value: scheme.as_bytes(),
                });
            }
            let c = parse_value(raw).map_err(|e| Rejected {
                kind: HostRejectionKind::Malformed(e),
                value: raw,
            })?;
            match (req.version(), host_header) {
                // RFC 9112 §3.2: an invalid Host field is a 400 whatever the target; and a
                // Host naming another host than the target is refused in every version (RFC
                // 9113 §8.3.1 for HTTP/2; in HTTP/1.x a client MUST send the same value),
                // so an application reading `Host` sees the host the guard checked.
                (_, Some(h)) => {
                    let hc = parse_value(h.as_bytes()).map_err(|e| Rejected {
                        kind: HostRejectionKind::Malformed(e),
                        value: h.as_bytes(),
                    })?;
                    if !same_host(&c, &hc) {
                        return Err(Rejected {
                            kind: HostRejectionKind::AuthorityMismatch,
                            value: h.as_bytes(),
                        });
                    }
                }
                // RFC 9112 §3.2: an HTTP/1.1 request without Host is a 400, even in
                // absolute-form.
                (Version::HTTP_11, None) => {
                    return Err(Rejected {
                        kind: HostRejectionKind::MissingHost,
                        value: raw,
                    })
                }
                _ => {}
            }
            (c, raw)
        } else {
            let Some(h) = host_header else {
                return Err(Rejected {
                    kind: HostRejectionKind::MissingHost,
                    value: &[],
                });
            };
            let raw = h.as_bytes();
            // The common case, decided without the full parse (same answer: see
            // `SharedDomain::matches_plain_lowercase` and the property test below).
            if self.domain.matches_plain_lowercase(raw) {
                return Ok(Candidate {
                    name: Cow::Borrowed(raw),
                    port: None,
                    kind: HostKind::Name,
                    lowercase: true,
                });
            }
            let c = parse_value(raw).map_err(|e| Rejected {
                kind: HostRejectionKind::Malformed(e),
                value: raw,
            })?;
            (c, raw)
        };
        self.accept(&candidate)
            .map_err(|kind| Rejected { kind, value: raw })?;
        Ok(candidate)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::parse_value;
    use crate::hostname::HostKind;
    use crate::SharedDomain;

    /// Host values near the shared domain: random label-ish prefixes (letters of both
    /// cases, digits, hyphens, dots, colons) in front of the domain or a look-alike.
    fn near_domain() -> impl Strategy<Value = String> {
        let prefix = prop_oneof![
            "[a-zA-Z0-9.:-]{0,70}",
            // mostly well-formed lowercase labels, some with hyphens at the ends or empty
            "([a-z0-9-]{0,8}\\.){0,3}[a-z0-9-]{0,66}",
        ];
        (
            prefix,
            prop::sample::select(vec![
                "",
                ".example.com",
                "example.com",
                ".example.com.",
                ".Example.com",
                ".example.com:443",
                "xexample.com",
                ".example.co",
                ".example.com.evil.io",
            ]),
        )
            .prop_map(|(prefix, suffix)| format!("{prefix}{suffix}"))
    }

    proptest! {
        /// Whatever the fast path accepts, the full parse accepts as the same lowercase
        /// name without port, and the domain match agrees.
        #[test]
        fn fast_path_agrees_with_the_full_parse(raw in near_domain()) {
            let domain = SharedDomain::parse(".example.com").expect("domain");
            if domain.matches_plain_lowercase(raw.as_bytes()) {
                let c = parse_value(raw.as_bytes()).expect("the full parse accepts it too");
                prop_assert_eq!(&*c.name, raw.as_bytes());
                prop_assert_eq!(c.port, None);
                prop_assert_eq!(c.kind, HostKind::Name);
                prop_assert!(c.lowercase);
                prop_assert!(domain.matches_validated_bytes(&c.name, c.kind, c.lowercase));
            }
        }
    }

    #[test]
    fn fast_path_takes_the_common_hosts_and_leaves_the_rest() {
        let domain = SharedDomain::parse(".example.com").expect("domain");
        let long_label = format!("{}.example.com", "a".repeat(63));
        for host in [
            "example.com",
            "api.example.com",
            "a-1.b2.example.com",
            &long_label,
        ] {
            assert!(domain.matches_plain_lowercase(host.as_bytes()), "{host}");
        }
        let too_long = format!("{}.example.com", "a".repeat(64));
        for host in [
            "Api.example.com",
            "api.example.com:8443",
            "api.example.com.",
            "-api.example.com",
            "api-.example.com",
            "a..example.com",
            ".example.com",
            "badexample.com",
            "example.com.evil.io",
            "a_b.example.com",
            &too_long,
        ] {
            assert!(!domain.matches_plain_lowercase(host.as_bytes()), "{host}");
        }
        let ip = SharedDomain::parse("127.0.0.1");
        if let Ok(ip) = ip {
            assert!(!ip.matches_plain_lowercase(b"x.127.0.0.1"));
            assert!(!ip.matches_plain_lowercase(b"127.0.0.1"));
        }
    }
}
