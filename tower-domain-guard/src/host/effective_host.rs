//! [`EffectiveHost`]: the accepted host, handed to the inner service (and, with the `axum`
//! feature, an extractor).

use std::fmt;

/// The accepted host of a request, normalised (lowercase, punycode, no trailing dot, IPv6 in
/// brackets), with its port if the request named one. [`HostGuard`](crate::HostGuard) puts it in the request
/// extensions; with the `axum` feature it is also an extractor.
///
/// ```
/// # use tower_domain_guard::EffectiveHost;
/// fn handler(req: &http::Request<()>) -> &str {
///     req.extensions().get::<EffectiveHost>().map_or("", EffectiveHost::as_str)
/// }
/// ```
#[derive(Clone)]
pub struct EffectiveHost {
    host: HostBuf,
    port: Option<u16>,
}

/// Hosts up to this many bytes (every IPv6 literal, most names) are stored inline, so the
/// guard allocates nothing for them besides the extensions entry.
const INLINE_HOST: usize = 48;

/// The lowercase host bytes (always ASCII).
#[derive(Clone)]
enum HostBuf {
    Inline { len: u8, buf: [u8; INLINE_HOST] },
    Heap(Box<str>),
}

impl EffectiveHost {
    /// `name` is a validated ASCII host in any case (`lowercase`: known to be lowercase).
    pub(crate) fn new(name: &[u8], lowercase: bool, port: Option<u16>) -> Self {
        let host = match u8::try_from(name.len()) {
            Ok(len) if name.len() <= INLINE_HOST => {
                let mut buf = [0u8; INLINE_HOST];
                let dst = &mut buf[..name.len()];
                dst.copy_from_slice(name);
                if !lowercase {
                    dst.make_ascii_lowercase();
                }
                HostBuf::Inline { len, buf }
            }
            _ => HostBuf::Heap(
                String::from_utf8_lossy(name)
                    .to_ascii_lowercase()
                    .into_boxed_str(),
            ),
        };
        Self { host, port }
    }

    /// The host, without the port (`"api.example.com"`, `"127.0.0.1"`, `"[::1]"`).
    pub fn as_str(&self) -> &str {
        match &self.host {
            // ASCII by construction: the check cannot fail.
            HostBuf::Inline { len, buf } => {
                std::str::from_utf8(&buf[..usize::from(*len)]).unwrap_or_default()
            }
            HostBuf::Heap(s) => s,
        }
    }

    /// The port, if the request named one.
    pub fn port(&self) -> Option<u16> {
        self.port
    }
}

impl fmt::Debug for EffectiveHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EffectiveHost")
            .field("host", &self.as_str())
            .field("port", &self.port)
            .finish()
    }
}

impl PartialEq for EffectiveHost {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str() && self.port == other.port
    }
}

impl Eq for EffectiveHost {}

impl std::hash::Hash for EffectiveHost {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
        self.port.hash(state);
    }
}

impl fmt::Display for EffectiveHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        Ok(())
    }
}

#[cfg(feature = "axum")]
mod extract {
    use axum_core::extract::FromRequestParts;
    use axum_core::response::{IntoResponse, Response};
    use http::request::Parts;
    use http::StatusCode;

    use super::EffectiveHost;

    /// Rejection of the [`EffectiveHost`] extractor: the [`HostGuardLayer`](crate::HostGuardLayer)
    /// is not installed in front of this handler (a server configuration error, 500).
    #[derive(Debug, Clone, Copy)]
    #[non_exhaustive]
    pub struct MissingEffectiveHost;

    impl IntoResponse for MissingEffectiveHost {
        fn into_response(self) -> Response {
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "EffectiveHost missing: install tower_domain_guard::HostGuardLayer in front of this route",
            )
                .into_response()
        }
    }

    impl<S: Send + Sync> FromRequestParts<S> for EffectiveHost {
        type Rejection = MissingEffectiveHost;

        async fn from_request_parts(
            parts: &mut Parts,
            _state: &S,
        ) -> Result<Self, Self::Rejection> {
            parts
                .extensions
                .get::<EffectiveHost>()
                .cloned()
                .ok_or(MissingEffectiveHost)
        }
    }
}

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use self::extract::MissingEffectiveHost;

#[cfg(test)]
mod tests {
    use super::EffectiveHost;

    #[test]
    fn effective_host_inline_and_heap() {
        let long = format!("{}.example.com", "A".repeat(60));
        let heap = EffectiveHost::new(long.as_bytes(), false, None);
        assert_eq!(heap.as_str(), long.to_ascii_lowercase());
        let inline = EffectiveHost::new(b"API.example.com", false, None);
        assert_eq!(inline.as_str(), "api.example.com");
        assert_eq!(inline, EffectiveHost::new(b"api.example.com", true, None));
        assert_ne!(
            inline,
            EffectiveHost::new(b"api.example.com", true, Some(1))
        );
        assert_eq!(
            format!("{inline:?}"),
            "EffectiveHost { host: \"api.example.com\", port: None }"
        );
    }
}
