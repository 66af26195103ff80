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

/// Parses `input` as an origin for `option` with the workspace's one origin parser,
/// [`tower_domain_guard::Origin`]: a bare host (`api.example.com`), a path, query,
/// fragment, user-info, `_` or a bad port is refused, the default port dropped.
pub(crate) fn parse_origin(
    option: &'static str,
    input: &str,
) -> Result<Origin, SharedSessionError> {
    let parsed = tower_domain_guard::Origin::parse(input).map_err(|e| {
        SharedSessionError::new(
            option,
            format!("{input:?}: {e}; give an origin such as \"https://api.example.com\""),
        )
    })?;
    Ok(Origin {
        origin: parsed.to_string(),
        host: parsed.host().to_owned(),
        https: parsed.is_https(),
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
        let o = parse_origin("api_domain", "https://api.example.com:443").expect("valid");
        assert_eq!(o.origin, "https://api.example.com");
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
            "https://my_host.example.com",
        ] {
            let e = parse_origin("api_domain", bad).expect_err(bad);
            assert_eq!(e.option(), "api_domain");
        }
    }
}
