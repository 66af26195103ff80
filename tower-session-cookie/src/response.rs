//! Turning recorded changes into response headers.

use http::{header, HeaderMap, HeaderName, HeaderValue};

use crate::{
    config::ConfigInner,
    headers as names,
    pending::{CookieWrite, HeaderWrite, Pending},
    set_cookie::{clear_cookie, set_cookie, CookieAttributes},
};

/// Header-mode access token.
pub(crate) const ST_ACCESS_TOKEN: HeaderName = HeaderName::from_static(names::ST_ACCESS_TOKEN);
/// Header-mode refresh token.
pub(crate) const ST_REFRESH_TOKEN: HeaderName = HeaderName::from_static(names::ST_REFRESH_TOKEN);
/// Front token (or `remove`).
pub(crate) const FRONT_TOKEN: HeaderName = HeaderName::from_static(names::FRONT_TOKEN);
/// Anti-CSRF token.
pub(crate) const ANTI_CSRF: HeaderName = HeaderName::from_static(names::ANTI_CSRF);

pub(crate) fn write_changes(config: &ConfigInner, pending: Pending, headers: &mut HeaderMap) {
    let mut exposed: Vec<&'static str> = Vec::with_capacity(4);
    let session_removed = matches!(pending.front_token, Some(HeaderWrite::Clear));

    // Older-domain clears go first so that, should a browser apply them in order, a
    // new cookie in the same response is never the one removed.
    if pending.clear_older_domain {
        for (name, attributes) in [
            (&config.access_cookie_name, &config.older_access_attributes),
            (
                &config.refresh_cookie_name,
                &config.older_refresh_attributes,
            ),
        ] {
            if let Some(value) = attributes.as_ref().and_then(|a| clear_cookie(name, a)) {
                headers.append(header::SET_COOKIE, value);
            }
        }
    }
    if pending.clear_legacy_id_refresh {
        // supertokens-node clears it with the access cookie's attributes (`Path=/`).
        if let Some(value) =
            clear_cookie(crate::LEGACY_ID_REFRESH_COOKIE, &config.access_attributes)
        {
            headers.append(header::SET_COOKIE, value);
        }
    }
    write_cookie(
        headers,
        &config.access_cookie_name,
        &config.access_attributes,
        pending.access_cookie,
    );
    write_cookie(
        headers,
        &config.refresh_cookie_name,
        &config.refresh_attributes,
        pending.refresh_cookie,
    );
    for (name, exposed_name, write) in [
        (
            ST_ACCESS_TOKEN,
            names::ST_ACCESS_TOKEN,
            pending.access_header,
        ),
        (
            ST_REFRESH_TOKEN,
            names::ST_REFRESH_TOKEN,
            pending.refresh_header,
        ),
    ] {
        let Some(write) = write else { continue };
        let value = match write {
            HeaderWrite::Set(token) => sensitive(token),
            HeaderWrite::Clear => Some(HeaderValue::from_static("")),
        };
        if let Some(value) = value {
            exposed.push(exposed_name);
            headers.insert(name, value);
        }
    }
    if let Some(front) = pending.front_token {
        let value = match front {
            HeaderWrite::Set(encoded) => sensitive(encoded),
            HeaderWrite::Clear => Some(HeaderValue::from_static("remove")),
        };
        if let Some(value) = value {
            exposed.push(names::FRONT_TOKEN);
            headers.insert(FRONT_TOKEN, value);
        }
    }
    match pending.anti_csrf.and_then(sensitive) {
        Some(value) => {
            exposed.push(names::ANTI_CSRF);
            headers.insert(ANTI_CSRF, value);
        }
        // A clear means the session is gone: no stale anti-CSRF token may go out with it.
        None if session_removed => {
            headers.remove(ANTI_CSRF);
        }
        None => {}
    }

    if !exposed.is_empty() {
        expose_headers(headers, &exposed);
    }
    // Token-bearing responses must not be stored by any cache.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    tracing::debug!(exposed = ?exposed, "wrote session changes to the response");
}

fn write_cookie(
    headers: &mut HeaderMap,
    name: &str,
    attributes: &CookieAttributes,
    write: Option<CookieWrite>,
) {
    let value = match write {
        None => return,
        Some(CookieWrite::Set { value, expires }) => set_cookie(name, &value, attributes, expires),
        Some(CookieWrite::Clear) => clear_cookie(name, attributes),
    };
    if let Some(value) = value {
        headers.append(header::SET_COOKIE, value);
    }
}

/// Token values were validated when recorded; this cannot fail for them.
fn sensitive(value: String) -> Option<HeaderValue> {
    let mut value = HeaderValue::try_from(value).ok()?;
    value.set_sensitive(true);
    Some(value)
}

/// Appends `names` to `Access-Control-Expose-Headers`, merging with whatever a CORS layer
/// (inside this one) already put there, without duplicates.
fn expose_headers(headers: &mut HeaderMap, names: &[&'static str]) {
    let mut existing = Vec::new();
    let mut readable = true;
    for value in headers.get_all(header::ACCESS_CONTROL_EXPOSE_HEADERS) {
        match value.to_str() {
            Ok(text) => existing.extend(
                text.split(',')
                    .map(str::trim)
                    .filter(|name| !name.is_empty()),
            ),
            Err(_) => readable = false,
        }
    }
    let missing: Vec<&str> = names
        .iter()
        .copied()
        .filter(|name| !existing.iter().any(|e| e.eq_ignore_ascii_case(name)))
        .collect();
    if missing.is_empty() {
        return;
    }
    if !readable {
        // Keep a value we cannot parse as it is; a second header line means the same list.
        if let Ok(value) = HeaderValue::try_from(missing.join(", ")) {
            headers.append(header::ACCESS_CONTROL_EXPOSE_HEADERS, value);
        }
        return;
    }
    let merged = existing
        .into_iter()
        .chain(missing)
        .collect::<Vec<_>>()
        .join(", ");
    if let Ok(value) = HeaderValue::try_from(merged) {
        headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expose_merges_without_duplicates() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("x-request-id, Front-Token"),
        );
        headers.append(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("x-other"),
        );
        expose_headers(&mut headers, &["front-token", "st-access-token"]);
        let values: Vec<_> = headers
            .get_all(header::ACCESS_CONTROL_EXPOSE_HEADERS)
            .iter()
            .collect();
        assert_eq!(
            values,
            ["x-request-id, Front-Token, x-other, st-access-token"]
        );
    }

    #[test]
    fn expose_on_empty() {
        let mut headers = HeaderMap::new();
        expose_headers(&mut headers, &["front-token", "anti-csrf"]);
        assert_eq!(
            headers[header::ACCESS_CONTROL_EXPOSE_HEADERS],
            "front-token, anti-csrf"
        );
    }

    #[test]
    fn expose_keeps_unreadable_values() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_bytes(b"x-\xff").expect("opaque bytes are allowed"),
        );
        expose_headers(&mut headers, &["front-token"]);
        assert_eq!(
            headers
                .get_all(header::ACCESS_CONTROL_EXPOSE_HEADERS)
                .iter()
                .count(),
            2
        );
    }
}
