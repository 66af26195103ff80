//! The facade's origin parser: `api_domain` and `website_domain` are parsed here once, and
//! every layer gets the parsed form.

use super::error::SharedSessionError;

/// `scheme://host[:port]` of an `http`/`https` origin, lowercased, trailing `/` dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Origin {
    /// The serialised origin (`https://api.example.com:8443`).
    pub(crate) origin: String,
    /// The host without the port (`api.example.com`, `127.0.0.1`, `[::1]`).
    pub(crate) host: String,
    /// Whether the scheme is `https`.
    pub(crate) https: bool,
}

/// Parses `input` as an origin for `option`; a bare host (`api.example.com`) is refused
/// with the fix, a path, query, fragment or user-info too.
pub(crate) fn parse_origin(
    option: &'static str,
    input: &str,
) -> Result<Origin, SharedSessionError> {
    let bad = |why: &str| {
        SharedSessionError::new(
            option,
            format!("{input:?} {why}; give an origin such as \"https://api.example.com\""),
        )
    };
    let lower = input.trim().trim_end_matches('/').to_ascii_lowercase();
    let (https, rest) = if let Some(rest) = lower.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = lower.strip_prefix("http://") {
        (false, rest)
    } else {
        return Err(bad("is not an http:// or https:// origin"));
    };
    if rest.is_empty() {
        return Err(bad("has no host"));
    }
    if rest
        .bytes()
        .any(|b| matches!(b, b'/' | b'?' | b'#' | b'@' | b'\\') || !b.is_ascii_graphic())
    {
        return Err(bad(
            "is not a bare origin (no path, query, fragment or user)",
        ));
    }
    let host = if rest.starts_with('[') {
        match rest.find(']') {
            Some(end) => &rest[..=end],
            None => return Err(bad("has an unclosed IPv6 literal")),
        }
    } else {
        rest.split(':').next().unwrap_or(rest)
    };
    let after = &rest[host.len()..];
    if let Some(port) = after.strip_prefix(':') {
        if port.parse::<u16>().is_err() {
            return Err(bad("has an invalid port"));
        }
    } else if !after.is_empty() || host.is_empty() {
        return Err(bad("has an invalid host"));
    }
    Ok(Origin {
        host: host.to_owned(),
        origin: lower.clone(),
        https,
    })
}

#[cfg(test)]
mod tests {
    use super::parse_origin;

    #[test]
    fn origins() {
        let o = parse_origin("api_domain", "HTTPS://Api.Example.com:8443/").expect("valid");
        assert_eq!(o.origin, "https://api.example.com:8443");
        assert_eq!(o.host, "api.example.com");
        assert!(o.https);
        let o = parse_origin("api_domain", "http://[::1]:3000").expect("valid");
        assert_eq!(o.host, "[::1]");
        for bad in [
            "api.example.com",
            "https://",
            "https://api.example.com/auth",
            "https://u@api.example.com",
            "https://api.example.com:99999",
            "https://api.example.com:",
            "ftp://api.example.com",
        ] {
            let e = parse_origin("api_domain", bad).expect_err(bad);
            assert_eq!(e.option(), "api_domain");
        }
    }
}
