//! Helpers shared by the fuzz targets (included with `#[path]`, not a crate).
#![allow(dead_code)]

/// Whether `name` is a syntactically valid, normalised DNS name: lowercase LDH labels of
/// 1..=63 bytes, no leading/trailing `-`, total <= 253, no leading/trailing dot.
pub fn is_normalised_name(name: &str) -> bool {
    if name.is_empty() || name.len() > 253 {
        return false;
    }
    name.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    })
}

/// `host == domain` or `host` ends with `"." + domain` (the label-boundary rule), written
/// independently of the library.
pub fn inside_on_label_boundary(host: &str, domain: &str) -> bool {
    host == domain
        || (host.len() > domain.len() + 1
            && host.ends_with(domain)
            && host.as_bytes()[host.len() - domain.len() - 1] == b'.'
            && !host.starts_with('.'))
}

/// Independent normalisation of an ASCII `host[:port]` the guard accepted: lowercase, port
/// and one trailing dot removed. `None` for IPv6 literals or non-ASCII input.
pub fn normalise_ascii(raw: &str) -> Option<String> {
    if !raw.is_ascii() || raw.starts_with('[') {
        return None;
    }
    let host = match raw.rfind(':') {
        Some(i) if raw[i + 1..].bytes().all(|b| b.is_ascii_digit()) => &raw[..i],
        Some(_) => return None,
        None => raw,
    };
    let host = host.strip_suffix('.').unwrap_or(host);
    Some(host.to_ascii_lowercase())
}

/// Splits fuzz input into at most `n` fields at 0xFF bytes (0xFF never occurs in UTF-8,
/// so each field can still be any string).
pub fn fields(data: &[u8], n: usize) -> Vec<&[u8]> {
    let mut out: Vec<&[u8]> = data.splitn(n, |&b| b == 0xff).collect();
    while out.len() < n {
        out.push(&[]);
    }
    out
}
