//! Parsing of the `api_domain` / `website_domain` inputs and the "site" used to derive
//! `SameSite`, following supertokens-node (protocol spec §5.2 and §7.1).

/// The two schemes SuperTokens understands for `apiDomain` / `websiteDomain`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scheme {
    Http,
    Https,
}

/// The parts of an `apiDomain` / `websiteDomain` URL that cookie attributes depend on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ParsedOrigin {
    pub(crate) scheme: Scheme,
    /// Lowercase host name, no port, no trailing dot (IPv6 literals keep their brackets).
    pub(crate) host: String,
}

impl ParsedOrigin {
    /// The "top-level domain" supertokens-node compares to decide `SameSite`
    /// (`getTopLevelDomainForSameSiteResolution`): `localhost` for local hosts and IPv4
    /// literals, otherwise the registrable domain (public suffix list, private section
    /// included); a host that is itself a public suffix (e.g. an `amazonaws.com` endpoint)
    /// or has no registrable part stands for itself.
    pub(crate) fn site(&self) -> &str {
        if self.is_local() {
            return "localhost";
        }
        if self.host.ends_with(".local") {
            return &self.host;
        }
        match psl::domain(self.host.as_bytes()) {
            // `psl::domain` returns a suffix of the input, so its length locates it in `host`.
            Some(domain) => {
                let start = self.host.len() - domain.as_bytes().len();
                self.host.get(start..).unwrap_or(&self.host)
            }
            None => &self.host,
        }
    }

    /// `localhost` (or any host starting with it, as supertokens-node checks) or an IPv4
    /// literal: the hosts for which SuperTokens tolerates `SameSite=None` without `Secure`.
    pub(crate) fn is_local(&self) -> bool {
        self.host.starts_with("localhost") || is_ipv4(&self.host)
    }
}

/// Parses an `apiDomain` / `websiteDomain` value with the workspace's one origin parser,
/// [`tower_domain_guard::Origin`]: an `http://` or `https://` origin, no path.
pub(crate) fn parse_origin(input: &str) -> Result<ParsedOrigin, &'static str> {
    let origin = tower_domain_guard::Origin::parse(input).map_err(|e| e.as_str())?;
    Ok(ParsedOrigin {
        scheme: if origin.is_https() {
            Scheme::Https
        } else {
            Scheme::Http
        },
        host: origin.host().to_owned(),
    })
}

/// Dotted-quad IPv4 literal (what supertokens' `isAnIpAddress` accepts; IPv6 is not).
pub(crate) fn is_ipv4(host: &str) -> bool {
    let mut parts = 0;
    for part in host.split('.') {
        parts += 1;
        if part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
        if part.parse::<u16>().map_or(true, |n| n > 255) {
            return false;
        }
    }
    parts == 4
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(input: &str) -> ParsedOrigin {
        match parse_origin(input) {
            Ok(origin) => origin,
            Err(reason) => panic!("{input}: {reason}"),
        }
    }

    #[test]
    fn parses_with_the_shared_origin_parser() {
        assert_eq!(
            origin("https://API.example.com:8443/").host,
            "api.example.com"
        );
        assert_eq!(origin("http://localhost:8080").scheme, Scheme::Http);
        assert_eq!(origin("http://[::1]:80").host, "[::1]");
        for bad in [
            "api.example.com",
            "localhost:8080",
            "https://api.example.com:8443/x?y",
            "/auth",
            "example",
            "ftp://example.com",
            "https://user@example.com",
            "https://exa mple.com",
            "https://my_host.example.com",
        ] {
            assert!(parse_origin(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn site_is_the_registrable_domain() {
        assert_eq!(origin("https://api.example.com").site(), "example.com");
        assert_eq!(origin("https://www.example.co.uk").site(), "example.co.uk");
        assert_eq!(origin("https://alice.github.io").site(), "alice.github.io");
        assert_eq!(origin("http://localhost:3000").site(), "localhost");
        assert_eq!(origin("http://10.0.0.1:3000").site(), "localhost");
        assert_eq!(origin("https://printer.local").site(), "printer.local");
    }

    #[test]
    fn ipv4_detection() {
        assert!(is_ipv4("127.0.0.1"));
        assert!(!is_ipv4("256.0.0.1"));
        assert!(!is_ipv4("1.2.3"));
        assert!(!is_ipv4("a.b.c.d"));
    }
}
