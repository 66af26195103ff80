//! Rendering `Set-Cookie` values: the attributes, pre-rendered once per configuration, and
//! the set and clear lines written per response.

use std::{fmt, time::SystemTime};

use http::HeaderValue;

use crate::http_date::{write_imf_fixdate, EPOCH_IMF_FIXDATE};

/// The `SameSite` cookie attribute.
///
/// ```
/// use tower_session_cookie::SameSite;
/// assert_eq!(SameSite::Lax.as_str(), "Lax");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SameSite {
    /// `SameSite=Strict`.
    Strict,
    /// `SameSite=Lax`.
    Lax,
    /// `SameSite=None` (requires `Secure`, except on localhost).
    None,
}

impl SameSite {
    /// The attribute value as written in `Set-Cookie`.
    pub fn as_str(self) -> &'static str {
        match self {
            SameSite::Strict => "Strict",
            SameSite::Lax => "Lax",
            SameSite::None => "None",
        }
    }
}

impl fmt::Display for SameSite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The attributes of one cookie, pre-rendered at build time so that a response only
/// concatenates: `name=value{before_expires}; Expires=<date>{after_expires}`.
#[derive(Clone, Debug)]
pub(crate) struct CookieAttributes {
    pub(crate) before_expires: String,
    pub(crate) after_expires: String,
}

impl CookieAttributes {
    pub(crate) fn render(
        domain: Option<&str>,
        path: &str,
        secure: bool,
        same_site: SameSite,
        partitioned: bool,
    ) -> Self {
        let mut before_expires = String::new();
        if let Some(domain) = domain {
            before_expires.push_str("; Domain=");
            before_expires.push_str(domain);
        }
        before_expires.push_str("; Path=");
        before_expires.push_str(path);
        let mut after_expires = String::from("; HttpOnly");
        if secure {
            after_expires.push_str("; Secure");
        }
        after_expires.push_str("; SameSite=");
        after_expires.push_str(same_site.as_str());
        if partitioned {
            after_expires.push_str("; Partitioned");
        }
        CookieAttributes {
            before_expires,
            after_expires,
        }
    }
}

/// `name=value; Domain=…; Path=…; Expires=…; HttpOnly; Secure; SameSite=…[; Partitioned]`.
///
/// `value` must already satisfy [`is_token_value`] (checked when it was recorded); the
/// result is marked sensitive because it carries a secret.
pub(crate) fn set_cookie(
    name: &str,
    value: &str,
    attributes: &CookieAttributes,
    expires: SystemTime,
) -> Option<HeaderValue> {
    let mut line = String::with_capacity(
        name.len()
            + value.len()
            + attributes.before_expires.len()
            + attributes.after_expires.len()
            + 48,
    );
    line.push_str(name);
    line.push('=');
    line.push_str(value);
    line.push_str(&attributes.before_expires);
    line.push_str("; Expires=");
    write_imf_fixdate(&mut line, expires);
    line.push_str(&attributes.after_expires);
    let mut header = HeaderValue::try_from(line).ok()?;
    header.set_sensitive(true);
    Some(header)
}

/// The clearing twin of [`set_cookie`]: same attributes, empty value, `Expires` at the epoch.
pub(crate) fn clear_cookie(name: &str, attributes: &CookieAttributes) -> Option<HeaderValue> {
    let line = format!(
        "{name}={}; Expires={EPOCH_IMF_FIXDATE}{}",
        attributes.before_expires, attributes.after_expires
    );
    HeaderValue::try_from(line).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn attributes() -> CookieAttributes {
        CookieAttributes {
            before_expires: "; Domain=example.com; Path=/".to_owned(),
            after_expires: "; HttpOnly; Secure; SameSite=Lax".to_owned(),
        }
    }

    #[test]
    fn renders_like_supertokens() {
        let header = set_cookie(
            "sAccessToken",
            "a.b.c",
            &attributes(),
            UNIX_EPOCH + Duration::from_secs(784_111_777),
        )
        .expect("valid header");
        assert_eq!(
            header,
            "sAccessToken=a.b.c; Domain=example.com; Path=/; \
             Expires=Sun, 06 Nov 1994 08:49:37 GMT; HttpOnly; Secure; SameSite=Lax"
        );
        assert!(header.is_sensitive());
    }

    #[test]
    fn clear_has_the_same_attributes() {
        let header = clear_cookie("sAccessToken", &attributes()).expect("valid header");
        assert_eq!(
            header,
            "sAccessToken=; Domain=example.com; Path=/; \
             Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax"
        );
    }
}
