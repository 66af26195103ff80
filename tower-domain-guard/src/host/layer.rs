//! [`HostGuardLayer`]: the guard's builder-style configuration, validated as it is built.

use std::sync::Arc;

use bytes::Bytes;
use http::{Extensions, Request, Response, StatusCode};
use tower_layer::Layer;

use super::decide::{ExtraHost, HostConfig};
use super::{HostGuard, HostRejection};
use crate::response;
use crate::{presized_extensions, DomainError, SharedDomain};

/// Layer that applies [`HostGuard`]: answer only for hosts inside the shared domain.
///
/// The guard decides the request's effective host once, the way RFC 9112 §3.2 and RFC 9113
/// §8.3.1 say, checks its syntax, and matches it against the [`SharedDomain`] (the apex and
/// subdomains at any depth, on a label boundary), an optional list of exact extra hosts and
/// optional allowed ports. The inner service is called only for accepted requests; they
/// carry the accepted host as an [`EffectiveHost`](crate::EffectiveHost) in their extensions.
///
/// # Which host is checked
///
/// 1. Only when enabled with [`HostGuardLayer::trust_forwarded_when`] and the predicate
///    holds for the request: the `host=` of the last element of `Forwarded` (RFC 7239), else
///    the last element of `X-Forwarded-Host` (the values added by the proxy next to us).
///    Otherwise both headers are ignored, not checked.
/// 2. The authority of the request target, when there is one: absolute-form in HTTP/1.x or
///    `:authority` in HTTP/2 and HTTP/3. Its scheme must be `http` or `https`, and a `Host`
///    header, if sent, must be valid (RFC 9112 §3.2) and name the same host (port aside),
///    else 400: an application that reads `Host` then sees the host the guard checked.
/// 3. The `Host` header. An HTTP/1.1 request without `Host`, or any request with more than
///    one `Host` line, or an empty `Host`, is a 400.
///
/// # Normalisation and syntax
///
/// Case is ignored, a port is split off (1 to 5 digits, at most 65535), one trailing dot is
/// dropped, non-ASCII names are converted to punycode, IPv6 is accepted only in brackets.
/// Userinfo (`@`), `/ \ ? #`, `%`, spaces and control bytes, `_`, empty labels (`..x`, a
/// leading dot), labels over 63 bytes, names over 253 bytes, labels starting or ending with
/// `-` and non-ASCII text that does not convert are malformed (400).
///
/// # Responses
///
/// A well-formed host outside the domain gets `421 Misdirected Request` (so a browser that
/// coalesced HTTP/2 connections under a wildcard certificate retries on a new connection);
/// malformed input gets `400 Bad Request`. Bodies are short `text/plain`; both are
/// configurable, or replaced entirely with [`HostGuardLayer::on_rejection`]. A gRPC call
/// (`content-type: application/grpc…`) is answered as gRPC: HTTP 200 with `grpc-status` 3
/// (`INVALID_ARGUMENT`, malformed) or 7 (`PERMISSION_DENIED`, outside). The reason is a
/// [`HostRejection`] in the response extensions. Rejections are logged with `tracing` at
/// `debug`, the offending value escaped and truncated.
///
/// # Example
///
/// ```
/// use bytes::Bytes;
/// use http::{header::HOST, Request, Response, StatusCode};
/// use http_body_util::Full;
/// use tower::{service_fn, ServiceBuilder, ServiceExt};
/// use tower_domain_guard::{EffectiveHost, HostGuardLayer, HostRejection, SharedDomain};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let guard = HostGuardLayer::new(SharedDomain::parse(".example.com")?)
///     .allow_host("127.0.0.1")?;
/// let svc = ServiceBuilder::new().layer(guard).service(service_fn(|req: Request<()>| async move {
///     let host = req.extensions().get::<EffectiveHost>().map(|h| h.as_str().to_owned());
///     Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from(host.unwrap_or_default()))))
/// }));
///
/// let req = Request::builder().uri("/").header(HOST, "API.example.com:8443").body(())?;
/// let res = svc.clone().oneshot(req).await?;
/// assert_eq!(res.status(), StatusCode::OK);
///
/// let req = Request::builder().uri("/").header(HOST, "evil.com").body(())?;
/// let res = svc.clone().oneshot(req).await?;
/// assert_eq!(res.status(), StatusCode::MISDIRECTED_REQUEST);
/// assert!(res.extensions().get::<HostRejection>().is_some());
///
/// let req = Request::builder().uri("/").header(HOST, "evil.com@api.example.com").body(())?;
/// assert_eq!(svc.oneshot(req).await?.status(), StatusCode::BAD_REQUEST);
/// # Ok(()) }
/// ```
///
/// With axum, `Router::new().route(...).layer(HostGuardLayer::new(domain))`; with tonic,
/// `Server::builder().layer(HostGuardLayer::new(domain))`; with hyper, wrap the service with
/// `ServiceBuilder` and serve it through `hyper_util::service::TowerToHyperService`. No
/// `HandleErrorLayer` is needed: the guard keeps the inner service's error type.
///
/// # Configuration
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

    /// Whether accepted requests carry their [`EffectiveHost`](crate::EffectiveHost) in the extensions (default:
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
    /// [`EffectiveHost`](crate::EffectiveHost) in the request extensions).
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

/// The peer's socket address, for [`HostGuardLayer::trust_forwarded_when`] predicates when
/// the server is not axum (whose `ConnectInfo` serves the same purpose): insert it into
/// each request's extensions where you accept connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PeerAddr(pub std::net::SocketAddr);

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use http::{Request, Response, StatusCode};
    use tower_layer::Layer;
    use tower_service::Service;

    use super::HostGuardLayer;
    use crate::EffectiveHost;

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
}
