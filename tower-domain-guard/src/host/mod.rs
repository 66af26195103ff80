//! [`HostGuardLayer`]: answer only for hosts inside the shared domain.
//!
//! The guard decides the request's effective host once, the way RFC 9112 §3.2 and RFC 9113
//! §8.3.1 say, checks its syntax, and matches it against the [`SharedDomain`] (the apex and
//! subdomains at any depth, on a label boundary), an optional list of exact extra hosts and
//! optional allowed ports. The inner service is called only for accepted requests; they
//! carry the accepted host as an [`EffectiveHost`] in their extensions.
//!
//! # Which host is checked
//!
//! 1. Only when enabled with [`HostGuardLayer::trust_forwarded_when`] and the predicate
//!    holds for the request: the `host=` of the last element of `Forwarded` (RFC 7239), else
//!    the last element of `X-Forwarded-Host` (the values added by the proxy next to us).
//!    Otherwise both headers are ignored, not checked.
//! 2. The authority of the request target, when there is one: absolute-form in HTTP/1.x or
//!    `:authority` in HTTP/2 and HTTP/3. Its scheme must be `http` or `https`, and a `Host`
//!    header, if sent, must be valid (RFC 9112 §3.2) and name the same host (port aside),
//!    else 400: an application that reads `Host` then sees the host the guard checked.
//! 3. The `Host` header. An HTTP/1.1 request without `Host`, or any request with more than
//!    one `Host` line, or an empty `Host`, is a 400.
//!
//! # Normalisation and syntax
//!
//! Case is ignored, a port is split off (1 to 5 digits, at most 65535), one trailing dot is
//! dropped, non-ASCII names are converted to punycode, IPv6 is accepted only in brackets.
//! Userinfo (`@`), `/ \ ? #`, `%`, spaces and control bytes, `_`, empty labels (`..x`, a
//! leading dot), labels over 63 bytes, names over 253 bytes, labels starting or ending with
//! `-` and non-ASCII text that does not convert are malformed (400).
//!
//! # Responses
//!
//! A well-formed host outside the domain gets `421 Misdirected Request` (so a browser that
//! coalesced HTTP/2 connections under a wildcard certificate retries on a new connection);
//! malformed input gets `400 Bad Request`. Bodies are short `text/plain`; both are
//! configurable, or replaced entirely with [`HostGuardLayer::on_rejection`]. A gRPC call
//! (`content-type: application/grpc…`) is answered as gRPC: HTTP 200 with `grpc-status` 3
//! (`INVALID_ARGUMENT`, malformed) or 7 (`PERMISSION_DENIED`, outside). The reason is a
//! [`HostRejection`] in the response extensions. Rejections are logged with `tracing` at
//! `debug`, the offending value escaped and truncated.
//!
//! # Example
//!
//! ```
//! use bytes::Bytes;
//! use http::{header::HOST, Request, Response, StatusCode};
//! use http_body_util::Full;
//! use tower::{service_fn, ServiceBuilder, ServiceExt};
//! use tower_domain_guard::{EffectiveHost, HostGuardLayer, HostRejection, SharedDomain};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let guard = HostGuardLayer::new(SharedDomain::parse(".example.com")?)
//!     .allow_host("127.0.0.1")?;
//! let svc = ServiceBuilder::new().layer(guard).service(service_fn(|req: Request<()>| async move {
//!     let host = req.extensions().get::<EffectiveHost>().map(|h| h.as_str().to_owned());
//!     Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from(host.unwrap_or_default()))))
//! }));
//!
//! let req = Request::builder().uri("/").header(HOST, "API.example.com:8443").body(())?;
//! let res = svc.clone().oneshot(req).await?;
//! assert_eq!(res.status(), StatusCode::OK);
//!
//! let req = Request::builder().uri("/").header(HOST, "evil.com").body(())?;
//! let res = svc.clone().oneshot(req).await?;
//! assert_eq!(res.status(), StatusCode::MISDIRECTED_REQUEST);
//! assert!(res.extensions().get::<HostRejection>().is_some());
//!
//! let req = Request::builder().uri("/").header(HOST, "evil.com@api.example.com").body(())?;
//! assert_eq!(svc.oneshot(req).await?.status(), StatusCode::BAD_REQUEST);
//! # Ok(()) }
//! ```
//!
//! With axum, `Router::new().route(...).layer(HostGuardLayer::new(domain))`; with tonic,
//! `Server::builder().layer(HostGuardLayer::new(domain))`; with hyper, wrap the service with
//! `ServiceBuilder` and serve it through `hyper_util::service::TowerToHyperService`. No
//! `HandleErrorLayer` is needed: the guard keeps the inner service's error type.

mod effective;
mod rejection;

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Extensions, Request, Response, StatusCode};
use tower_layer::Layer;
use tower_service::Service;

use self::effective::ExtraHost;
pub use self::rejection::{HostRejection, HostRejectionKind};
use crate::response::{self, Escaped, GuardBody, ResponseFuture};
use crate::{DomainError, SharedDomain};

type TrustFn = dyn Fn(&Extensions) -> bool + Send + Sync;
type RejectFn = dyn Fn(&HostRejection) -> Response<Bytes> + Send + Sync;

pub(crate) struct HostConfig {
    domain: SharedDomain,
    extra_hosts: Vec<ExtraHost>,
    allowed_ports: Option<Vec<u16>>,
    trust_forwarded: Option<Arc<TrustFn>>,
    outside: (StatusCode, Bytes),
    malformed: (StatusCode, Bytes),
    on_rejection: Option<Arc<RejectFn>>,
    /// An empty extensions map with room for several entries, cloned into requests that
    /// arrive without extensions (see [`presized_extensions`]).
    presized: Extensions,
    /// Put the [`EffectiveHost`] in the request extensions.
    record_host: bool,
}

/// An empty [`Extensions`] whose map has room for 7 entries, for layers that may insert a
/// request's first extension (the guard's [`EffectiveHost`], the session cookie layer's
/// handle): cloning it costs one table allocation, where inserting into a request without
/// extensions builds a 4-slot table that the inner service's own inserts (axum's
/// `MatchedPath`, `OriginalUri`, path parameters...) outgrow and rehash. Keep one per
/// layer (cloning an empty map copies no entries).
///
/// ```
/// let mut request = http::Request::new(());
/// let presized = tower_domain_guard::presized_extensions();
/// if request.extensions().is_empty() {
///     *request.extensions_mut() = presized.clone();
/// }
/// request.extensions_mut().insert(42u32);
/// assert_eq!(request.extensions().get::<u32>(), Some(&42));
/// ```
pub fn presized_extensions() -> Extensions {
    #[derive(Clone, Copy)]
    struct Slot<const N: u8>;
    let mut e = Extensions::new();
    e.insert(Slot::<0>);
    e.insert(Slot::<1>);
    e.insert(Slot::<2>);
    e.insert(Slot::<3>);
    e.clear();
    e
}

impl Clone for HostConfig {
    fn clone(&self) -> Self {
        Self {
            domain: self.domain.clone(),
            extra_hosts: self.extra_hosts.clone(),
            allowed_ports: self.allowed_ports.clone(),
            trust_forwarded: self.trust_forwarded.clone(),
            outside: self.outside.clone(),
            malformed: self.malformed.clone(),
            on_rejection: self.on_rejection.clone(),
            presized: self.presized.clone(),
            record_host: self.record_host,
        }
    }
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

/// Layer that applies [`HostGuard`]. See the [module docs](self) for the rules.
///
/// Cheap to clone (the configuration is shared). Built with consuming builder methods;
/// everything that can be misconfigured is checked when the layer is built, so a request
/// can never hit a configuration error.
#[derive(Clone, Debug)]
pub struct HostGuardLayer {
    config: Arc<HostConfig>,
}

impl HostGuardLayer {
    /// A guard for `domain` and its subdomains. Defaults: no extra hosts, any port,
    /// forwarded headers ignored, `421` / `400` with short `text/plain` bodies.
    pub fn new(domain: SharedDomain) -> Self {
        Self {
            config: Arc::new(HostConfig {
                domain,
                extra_hosts: Vec::new(),
                allowed_ports: None,
                trust_forwarded: None,
                outside: (
                    StatusCode::MISDIRECTED_REQUEST,
                    Bytes::from_static(b"Misdirected Request: host not served here\n"),
                ),
                malformed: (
                    StatusCode::BAD_REQUEST,
                    Bytes::from_static(b"Bad Request: invalid host\n"),
                ),
                on_rejection: None,
                presized: presized_extensions(),
                record_host: true,
            }),
        }
    }

    /// Parses the shared domain and builds a guard for it (see [`SharedDomain::parse`]).
    ///
    /// ```
    /// # use tower_domain_guard::HostGuardLayer;
    /// assert!(HostGuardLayer::for_domain(".example.com").is_ok());
    /// assert!(HostGuardLayer::for_domain(".co.uk").is_err());
    /// ```
    pub fn for_domain(domain: &str) -> Result<Self, DomainError> {
        Ok(Self::new(SharedDomain::parse(domain)?))
    }

    fn config_mut(&mut self) -> &mut HostConfig {
        Arc::make_mut(&mut self.config)
    }

    /// Also accept this exact host (no subdomains), e.g. `127.0.0.1` or `[::1]` for health
    /// checks by IP, or `internal-lb` for an internal name. No port: use
    /// [`allow_ports`](Self::allow_ports). Default: none.
    ///
    /// ```
    /// # use tower_domain_guard::HostGuardLayer;
    /// let layer = HostGuardLayer::for_domain("example.com")?
    ///     .allow_host("127.0.0.1")?
    ///     .allow_host("[::1]")?;
    /// assert!(layer.clone().allow_host("bad host").is_err());
    /// # Ok::<(), tower_domain_guard::DomainError>(())
    /// ```
    pub fn allow_host(mut self, host: &str) -> Result<Self, DomainError> {
        let extra = ExtraHost::parse(host).map_err(|error| DomainError::InvalidHost {
            input: host.to_owned(),
            error,
        })?;
        self.config_mut().extra_hosts.push(extra);
        Ok(self)
    }

    /// Accept only these ports when the host names one (a host without a port, meaning the
    /// scheme's default, is always accepted). Other ports get the "outside" response (421).
    /// Default: any port.
    pub fn allow_ports(mut self, ports: impl IntoIterator<Item = u16>) -> Self {
        self.config_mut().allowed_ports = Some(ports.into_iter().collect());
        self
    }

    /// Use `Forwarded: host=` (RFC 7239) and `X-Forwarded-Host` when `trusted` returns true
    /// for the request's extensions, typically because the peer address is one of your
    /// proxies. Off by default; when off (or the predicate is false) both headers are
    /// ignored, not checked.
    ///
    /// The peer address is wherever your server puts it: axum's
    /// `ConnectInfo<SocketAddr>`, or [`PeerAddr`] which you insert
    /// yourself when serving with hyper.
    ///
    /// # ⚠️ Warning
    ///
    /// Both headers are set by clients too. Trust them only from peers that overwrite or
    /// append them; the guard uses the **last** element (the one added by the proxy next to
    /// the server).
    ///
    /// ```
    /// use std::net::SocketAddr;
    /// use tower_domain_guard::{HostGuardLayer, PeerAddr};
    ///
    /// let layer = HostGuardLayer::for_domain("example.com")?.trust_forwarded_when(|ext| {
    ///     ext.get::<PeerAddr>().is_some_and(|p| p.0.ip().is_loopback())
    ///         || ext
    ///             .get::<axum::extract::ConnectInfo<SocketAddr>>()
    ///             .is_some_and(|c| c.0.ip().is_loopback())
    /// });
    /// # Ok::<(), tower_domain_guard::DomainError>(())
    /// ```
    pub fn trust_forwarded_when(
        mut self,
        trusted: impl Fn(&Extensions) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.config_mut().trust_forwarded = Some(Arc::new(trusted));
        self
    }

    /// Whether accepted requests carry their [`EffectiveHost`] in the extensions (default:
    /// `true`). Turn it off when no handler reads it: the insert is most of what the guard
    /// costs on an accepted request (`http::Extensions` boxes every value, and allocates its
    /// map for the first one), so without it the accept path allocates nothing.
    ///
    /// ```
    /// # use tower_domain_guard::HostGuardLayer;
    /// let layer = HostGuardLayer::for_domain(".example.com")?.effective_host_extension(false);
    /// # drop(layer);
    /// # Ok::<(), tower_domain_guard::DomainError>(())
    /// ```
    pub fn effective_host_extension(mut self, record: bool) -> Self {
        self.config_mut().record_host = record;
        self
    }

    /// Status and `text/plain` body for a well-formed host outside the domain (default:
    /// `421 Misdirected Request`).
    pub fn outside_response(mut self, status: StatusCode, body: impl Into<Bytes>) -> Self {
        self.config_mut().outside = (status, body.into());
        self
    }

    /// Status and `text/plain` body for malformed host input (default: `400 Bad Request`).
    pub fn malformed_response(mut self, status: StatusCode, body: impl Into<Bytes>) -> Self {
        self.config_mut().malformed = (status, body.into());
        self
    }

    /// Replace the rejection response (for gRPC calls too) with your own. The
    /// [`HostRejection`] is still added to the response's extensions.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use http::{Response, StatusCode};
    /// # use tower_domain_guard::HostGuardLayer;
    /// let layer = HostGuardLayer::for_domain("example.com")?.on_rejection(|rejection| {
    ///     let mut res = Response::new(Bytes::from(format!("{{\"error\":\"{rejection}\"}}")));
    ///     *res.status_mut() = StatusCode::FORBIDDEN;
    ///     res
    /// });
    /// # Ok::<(), tower_domain_guard::DomainError>(())
    /// ```
    pub fn on_rejection(
        mut self,
        f: impl Fn(&HostRejection) -> Response<Bytes> + Send + Sync + 'static,
    ) -> Self {
        self.config_mut().on_rejection = Some(Arc::new(f));
        self
    }

    /// The shared domain this guard accepts.
    pub fn domain(&self) -> &SharedDomain {
        &self.config.domain
    }

    /// Runs the guard's decision on a request without a service: `Ok` if it would be
    /// accepted. Does not allocate for ASCII hosts (the service additionally stores an
    /// [`EffectiveHost`] in the request extensions).
    ///
    /// ```
    /// # use tower_domain_guard::{HostGuardLayer, HostRejectionKind};
    /// let layer = HostGuardLayer::for_domain("example.com")?;
    /// let req = http::Request::builder().uri("https://api.example.com/").header("host", "api.example.com").body(())?;
    /// assert!(layer.check(&req).is_ok()); // absolute-form: the target's authority is checked
    /// let req = http::Request::builder().uri("https://api.example.com/").header("host", "x").body(())?;
    /// assert_eq!(layer.check(&req).unwrap_err().kind(), HostRejectionKind::AuthorityMismatch);
    /// let req = http::Request::builder().uri("/").body(())?;
    /// assert_eq!(layer.check(&req).unwrap_err().kind(), HostRejectionKind::MissingHost);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn check<B>(&self, req: &Request<B>) -> Result<(), HostRejection> {
        self.config
            .decide(req)
            .map(|_| ())
            .map_err(|r| HostRejection::new(r.kind, response::is_grpc(req.headers())))
    }
}

impl<S> Layer<S> for HostGuardLayer {
    type Service = HostGuard<S>;

    fn layer(&self, inner: S) -> Self::Service {
        HostGuard {
            inner,
            config: self.config.clone(),
        }
    }
}

/// Middleware that rejects requests whose host lies outside the shared domain. Built by
/// [`HostGuardLayer`].
#[derive(Clone, Debug)]
pub struct HostGuard<S> {
    inner: S,
    config: Arc<HostConfig>,
}

impl<S> HostGuard<S> {
    /// Wraps `inner` with the configuration of `layer`.
    pub fn new(inner: S, layer: &HostGuardLayer) -> Self {
        layer.layer(inner)
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Consumes the guard, returning the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl HostConfig {
    fn rejection_response<B>(&self, rejection: HostRejection) -> Response<GuardBody<B>> {
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

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for HostGuard<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<GuardBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let effective = match self.config.decide(&req) {
            Ok(c) if self.config.record_host => {
                Ok(Some(EffectiveHost::new(&c.name, c.lowercase, c.port)))
            }
            Ok(_) => Ok(None),
            Err(r) => {
                tracing::debug!(
                    host = %Escaped(r.value),
                    reason = %r.kind,
                    "tower_domain_guard: rejected request host"
                );
                Err(HostRejection::new(r.kind, response::is_grpc(req.headers())))
            }
        };
        match effective {
            Ok(host) => {
                if let Some(host) = host {
                    let ext = req.extensions_mut();
                    if ext.is_empty() {
                        *ext = self.config.presized.clone();
                    }
                    ext.insert(host);
                }
                ResponseFuture::future(self.inner.call(req))
            }
            Err(rejection) => ResponseFuture::rejected(self.config.rejection_response(rejection)),
        }
    }
}

/// The accepted host of a request, normalised (lowercase, punycode, no trailing dot, IPv6 in
/// brackets), with its port if the request named one. [`HostGuard`] puts it in the request
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
    fn new(name: &[u8], lowercase: bool, port: Option<u16>) -> Self {
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

    /// Rejection of the [`EffectiveHost`] extractor: the [`HostGuardLayer`](super::HostGuardLayer)
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

/// The peer's socket address, for [`HostGuardLayer::trust_forwarded_when`] predicates when
/// the server is not axum (whose `ConnectInfo` serves the same purpose): insert it into
/// each request's extensions where you accept connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PeerAddr(pub std::net::SocketAddr);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presized_extensions_are_empty() {
        let e = presized_extensions();
        assert!(e.is_empty());
        let mut c = e.clone();
        assert_eq!(c.len(), 0);
        c.insert(EffectiveHost::new(b"Api.Example.com", false, Some(8443)));
        assert_eq!(c.len(), 1);
        let h = c.get::<EffectiveHost>().map(ToString::to_string);
        assert_eq!(h.as_deref(), Some("api.example.com:8443"));
    }

    /// Inserted by default, absent with the switch off; rejections are the same either way.
    #[test]
    fn effective_host_extension_switch() {
        fn run(layer: &HostGuardLayer, host: &str) -> (StatusCode, Option<String>) {
            let seen = Arc::new(std::sync::Mutex::new(None));
            let seen_inner = Arc::clone(&seen);
            let mut svc = layer.layer(tower::service_fn(move |req: Request<()>| {
                let host = req
                    .extensions()
                    .get::<EffectiveHost>()
                    .map(|h| h.to_string());
                *seen_inner.lock().expect("lock") = host;
                async { Ok::<_, std::convert::Infallible>(Response::new(())) }
            }));
            let req = Request::builder()
                .uri("/")
                .header(http::header::HOST, host)
                .body(())
                .expect("request");
            let fut = svc.call(req);
            let res = poll_now(fut).expect("infallible");
            let host = seen.lock().expect("lock").take();
            (res.status(), host)
        }
        let on = HostGuardLayer::for_domain(".example.com").expect("domain");
        let off = on.clone().effective_host_extension(false);
        assert_eq!(
            run(&on, "API.example.com"),
            (StatusCode::OK, Some("api.example.com".to_owned()))
        );
        assert_eq!(run(&off, "API.example.com"), (StatusCode::OK, None));
        for layer in [&on, &off] {
            assert_eq!(run(layer, "evil.com").0, StatusCode::MISDIRECTED_REQUEST);
            assert_eq!(run(layer, "a b").0, StatusCode::BAD_REQUEST);
        }
    }

    /// Polls a future that is ready at once.
    fn poll_now<F: std::future::Future>(fut: F) -> F::Output {
        let mut fut = std::pin::pin!(fut);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match fut.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(v) => v,
            std::task::Poll::Pending => panic!("future not ready"),
        }
    }

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
