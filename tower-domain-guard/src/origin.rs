//! [`OriginGuardLayer`]: cross-origin protection for cookie sessions shared across a domain
//! (see [`OriginGuardLayer`] for the rules).

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::ORIGIN;
use http::{Method, Request, Response, StatusCode};
use tower_layer::Layer;
use tower_service::Service;

use crate::hostname::{self, HostKind, HostSyntaxError};
use crate::response::{self, Escaped, GuardBody, ResponseFuture};
use crate::{DomainError, SharedDomain};

/// The reason a request was rejected by [`OriginGuard`]; put in the rejection response's
/// extensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OriginRejection {
    kind: OriginRejectionKind,
    grpc: bool,
}

/// What was wrong with the request's origin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OriginRejectionKind {
    /// `Sec-Fetch-Site` says `same-site` or `cross-site` but there is no `Origin`.
    MissingOrigin,
    /// `Origin: null` (sandboxed or privacy-sensitive context).
    NullOrigin,
    /// More than one `Origin` header, or one that is not `http(s)://host[:port]`.
    MalformedOrigin,
    /// The origin's host is outside the shared domain and not a trusted origin.
    OutsideDomain,
    /// `Sec-Fetch-Site: cross-site` with an origin that is not trusted, though its host
    /// lies inside the shared domain (the browser says it is another site: another scheme).
    CrossSite,
}

impl OriginRejection {
    /// What was wrong.
    pub fn kind(&self) -> OriginRejectionKind {
        self.kind
    }

    /// Whether the rejected request was a gRPC call.
    pub fn is_grpc(&self) -> bool {
        self.grpc
    }
}

impl fmt::Display for OriginRejectionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::MissingOrigin => "cross-origin request without Origin",
            Self::NullOrigin => "Origin: null",
            Self::MalformedOrigin => "malformed Origin",
            Self::OutsideDomain => "origin outside the shared domain",
            Self::CrossSite => "cross-site request from an untrusted origin",
        })
    }
}

impl fmt::Display for OriginRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.kind, f)
    }
}

impl std::error::Error for OriginRejection {}

#[derive(Clone, Debug, PartialEq, Eq)]
struct TrustedOrigin {
    https: bool,
    host: Box<str>,
    port: u16,
}

/// `scheme://host[:port]` split and validated, without allocating.
struct ParsedOrigin<'a> {
    https: bool,
    host: &'a str,
    port: u16,
    kind: HostKind,
}

fn parse_origin(s: &str) -> Result<ParsedOrigin<'_>, HostSyntaxError> {
    let (https, rest) =
        crate::config_origin::split_scheme(s).ok_or(HostSyntaxError::InvalidCharacter)?;
    let h = hostname::parse_host_ascii(rest)?;
    Ok(ParsedOrigin {
        https,
        host: h.host,
        port: h.port.unwrap_or(if https { 443 } else { 80 }),
        kind: h.kind,
    })
}

type RejectFn = dyn Fn(&OriginRejection) -> Response<Bytes> + Send + Sync;

struct OriginConfig {
    domain: SharedDomain,
    trusted: Vec<TrustedOrigin>,
    require_https: bool,
    rejection: (StatusCode, Bytes),
    on_rejection: Option<Arc<RejectFn>>,
}

impl Clone for OriginConfig {
    fn clone(&self) -> Self {
        Self {
            domain: self.domain.clone(),
            trusted: self.trusted.clone(),
            require_https: self.require_https,
            rejection: self.rejection.clone(),
            on_rejection: self.on_rejection.clone(),
        }
    }
}

impl fmt::Debug for OriginConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OriginConfig")
            .field("domain", &self.domain)
            .field("trusted", &self.trusted)
            .field("require_https", &self.require_https)
            .field("rejection", &self.rejection)
            .field("on_rejection", &self.on_rejection.is_some())
            .finish()
    }
}

impl OriginConfig {
    fn decide<'a, B>(&self, req: &'a Request<B>) -> Result<(), (OriginRejectionKind, &'a [u8])> {
        if matches!(
            *req.method(),
            Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
        ) {
            return Ok(());
        }
        let headers = req.headers();
        let sfs = headers.get("sec-fetch-site");
        let mut cross_site = false;
        if let Some(v) = sfs {
            let v = v.as_bytes();
            if v.eq_ignore_ascii_case(b"same-origin") || v.eq_ignore_ascii_case(b"none") {
                return Ok(());
            }
            cross_site = v.eq_ignore_ascii_case(b"cross-site");
        }
        let mut origins = headers.get_all(ORIGIN).iter();
        let Some(origin) = origins.next() else {
            return match sfs {
                None => Ok(()),
                Some(v) => Err((OriginRejectionKind::MissingOrigin, v.as_bytes())),
            };
        };
        let raw = origin.as_bytes();
        if origins.next().is_some() {
            return Err((OriginRejectionKind::MalformedOrigin, raw));
        }
        if raw.eq_ignore_ascii_case(b"null") {
            return Err((OriginRejectionKind::NullOrigin, raw));
        }
        let Ok(s) = origin.to_str() else {
            return Err((OriginRejectionKind::MalformedOrigin, raw));
        };
        let Ok(o) = parse_origin(s) else {
            return Err((OriginRejectionKind::MalformedOrigin, raw));
        };
        let trusted = self.trusted.iter().any(|t| {
            t.https == o.https
                && t.port == o.port
                && t.host.as_bytes().eq_ignore_ascii_case(o.host.as_bytes())
        });
        if trusted {
            return Ok(());
        }
        let in_domain =
            (o.https || !self.require_https) && self.domain.matches_validated(o.host, o.kind);
        match (in_domain, cross_site) {
            (true, false) => Ok(()),
            // Same site by host name only: the browser, which compares schemes too, says
            // otherwise.
            (true, true) => Err((OriginRejectionKind::CrossSite, raw)),
            (false, _) => Err((OriginRejectionKind::OutsideDomain, raw)),
        }
    }

    fn rejection_response<B>(&self, rejection: OriginRejection) -> Response<GuardBody<B>> {
        let mut res = if let Some(f) = &self.on_rejection {
            response::custom_response(f(&rejection))
        } else if rejection.grpc {
            response::grpc_response(7, "cross-origin request refused")
        } else {
            response::text_response(self.rejection.0, self.rejection.1.clone())
        };
        res.extensions_mut().insert(rejection);
        res
    }
}

/// Layer that applies [`OriginGuard`]: cross-origin protection for cookie sessions shared
/// across a domain.
///
/// For unsafe methods (anything but `GET`, `HEAD`, `OPTIONS`, `TRACE`) the request passes
/// when:
///
/// * `Sec-Fetch-Site` is `same-origin` or `none` (a user-initiated navigation), or
/// * the `Origin` is one of the trusted origins (scheme, host and port exactly), or
/// * the `Origin` host lies inside the [`SharedDomain`] (the apex or any subdomain, on a
///   label boundary), its scheme is `https` when [`require_https`] is set, **and**
///   `Sec-Fetch-Site` is not `cross-site`, or
/// * there is neither `Origin` nor `Sec-Fetch-Site`: the client is not a browser (curl, a
///   server-side client), which cannot carry a victim's cookies, as in Go 1.25's
///   `CrossOriginProtection`.
///
/// Everything else, including `Origin: null` and `Sec-Fetch-Site: cross-site` without an
/// `Origin`, gets `403 Forbidden` with a short `text/plain` body (gRPC calls get
/// `grpc-status` 7) and an [`OriginRejection`] in the response extensions.
///
/// # The scheme is part of the site
///
/// Browsers decide `Sec-Fetch-Site` schemefully: `http://x.example.com` is `cross-site` to
/// `https://api.example.com`. An `Origin` inside the shared domain that comes with
/// `cross-site` is therefore a page on another scheme, typically an `http://` page that an
/// attacker on the network injected under the shared domain; it is refused
/// ([`OriginRejectionKind::CrossSite`]), and only an explicitly trusted origin overrides
/// `cross-site`. For browsers that send no `Sec-Fetch-Site`, set
/// [`require_https(true)`](OriginGuardLayer::require_https) when the website is served over
/// `https`, so that an `http://` origin is not taken for the site either. A deployment that
/// really mixes schemes (an `http://` page calling an `https://` API) trusts that origin
/// with [`trust_origin`](OriginGuardLayer::trust_origin).
///
/// [`require_https`]: OriginGuardLayer::require_https
///
/// # Why not tower-http's `CsrfLayer` or Go's `CrossOriginProtection`?
///
/// Both compare `Origin` with the request's own origin or with a list of *exact* trusted
/// origins. A session cookie with `Domain=example.com` is sent by the browser to every
/// subdomain, and `SameSite` treats sibling subdomains as the same site, so it does not stop
/// a POST from `www.example.com` to `api.example.com` — which is exactly the request a
/// shared-domain deployment must allow, while one from `evil.com` must be refused. With an
/// exact-origin check every calling subdomain would have to be listed (and a sibling
/// `Sec-Fetch-Site: same-site` request is refused by Go's default). This guard accepts any
/// origin inside the shared domain and refuses the rest, using the same label-boundary
/// matching as [`HostGuard`](crate::HostGuard), so `badexample.com` and
/// `example.com.evil.io` never pass.
///
/// # ⚠️ Deployment caveat
///
/// Every subdomain of the shared domain is trusted: a subdomain serving user content (or a
/// compromised one) can make authenticated requests. Keep such content off the shared
/// domain. The check relies on browsers sending `Origin`/`Sec-Fetch-Site`; proxies must not
/// strip them.
///
/// # Example
///
/// ```
/// use http::{Method, Request, Response, StatusCode};
/// use tower::{service_fn, ServiceBuilder, ServiceExt};
/// use tower_domain_guard::{OriginGuardLayer, SharedDomain};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let svc = ServiceBuilder::new()
///     .layer(OriginGuardLayer::new(SharedDomain::parse(".example.com")?))
///     .service(service_fn(|_req: Request<()>| async {
///         Ok::<_, std::convert::Infallible>(Response::new(http_body_util::Empty::<bytes::Bytes>::new()))
///     }));
///
/// let post = |origin: &str| {
///     Request::builder().method(Method::POST).uri("/").header("origin", origin).body(())
/// };
/// assert_eq!(svc.clone().oneshot(post("https://www.example.com")?).await?.status(), StatusCode::OK);
/// assert_eq!(svc.clone().oneshot(post("https://evil.com")?).await?.status(), StatusCode::FORBIDDEN);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct OriginGuardLayer {
    config: Arc<OriginConfig>,
}

impl OriginGuardLayer {
    /// Cross-origin protection accepting origins inside `domain`. Defaults: no extra
    /// trusted origins, `http` and `https` origins, `403` with a short `text/plain` body.
    pub fn new(domain: SharedDomain) -> Self {
        Self {
            config: Arc::new(OriginConfig {
                domain,
                trusted: Vec::new(),
                require_https: false,
                rejection: (
                    StatusCode::FORBIDDEN,
                    Bytes::from_static(b"Forbidden: cross-origin request refused\n"),
                ),
                on_rejection: None,
            }),
        }
    }

    fn config_mut(&mut self) -> &mut OriginConfig {
        Arc::make_mut(&mut self.config)
    }

    /// Also accept this exact origin (`scheme://host[:port]`, no path), e.g. a partner site
    /// outside the shared domain. Default ports are normalised (`https://a.io:443` equals
    /// `https://a.io`).
    ///
    /// ```
    /// # use tower_domain_guard::{OriginGuardLayer, SharedDomain};
    /// let layer = OriginGuardLayer::new(SharedDomain::parse("example.com")?)
    ///     .trust_origin("https://partner.io")?;
    /// assert!(layer.trust_origin("https://partner.io/path").is_err());
    /// # Ok::<(), tower_domain_guard::DomainError>(())
    /// ```
    pub fn trust_origin(mut self, origin: &str) -> Result<Self, DomainError> {
        let o = crate::Origin::parse(origin).map_err(|e| DomainError::InvalidHost {
            input: origin.to_owned(),
            error: match e {
                crate::OriginError::Host(error) => error,
                _ => HostSyntaxError::InvalidCharacter,
            },
        })?;
        let t = TrustedOrigin {
            https: o.is_https(),
            host: o.host().into(),
            port: o.port(),
        };
        self.config_mut().trusted.push(t);
        Ok(self)
    }

    /// Accept origins inside the shared domain only when they are `https://` (default:
    /// `false`, so `http://` development origins work). Set it whenever the website is
    /// served over `https`: an `http://` page under the shared domain is not the site (see
    /// the [layer docs](OriginGuardLayer)). Trusted origins are compared exactly, scheme included.
    pub fn require_https(mut self, yes: bool) -> Self {
        self.config_mut().require_https = yes;
        self
    }

    /// Status and `text/plain` body of the rejection (default `403 Forbidden`).
    pub fn rejection_response(mut self, status: StatusCode, body: impl Into<Bytes>) -> Self {
        self.config_mut().rejection = (status, body.into());
        self
    }

    /// Replace the rejection response with your own; the [`OriginRejection`] is still
    /// added to its extensions.
    pub fn on_rejection(
        mut self,
        f: impl Fn(&OriginRejection) -> Response<Bytes> + Send + Sync + 'static,
    ) -> Self {
        self.config_mut().on_rejection = Some(Arc::new(f));
        self
    }

    /// Runs the decision on a request without a service: `Ok` if it would pass.
    pub fn check<B>(&self, req: &Request<B>) -> Result<(), OriginRejection> {
        self.config
            .decide(req)
            .map_err(|(kind, _)| OriginRejection {
                kind,
                grpc: response::is_grpc(req.headers()),
            })
    }
}

impl<S> Layer<S> for OriginGuardLayer {
    type Service = OriginGuard<S>;

    fn layer(&self, inner: S) -> Self::Service {
        OriginGuard {
            inner,
            config: self.config.clone(),
        }
    }
}

/// Middleware that refuses cross-origin unsafe requests from outside the shared domain.
/// Built by [`OriginGuardLayer`].
#[derive(Clone, Debug)]
pub struct OriginGuard<S> {
    inner: S,
    config: Arc<OriginConfig>,
}

impl<S> OriginGuard<S> {
    /// Wraps `inner` with the configuration of `layer`.
    pub fn new(inner: S, layer: &OriginGuardLayer) -> Self {
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

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for OriginGuard<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<GuardBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let rejection = match self.config.decide(&req) {
            Ok(()) => None,
            Err((kind, value)) => {
                tracing::debug!(
                    origin = %Escaped(value),
                    reason = %kind,
                    "tower_domain_guard: rejected cross-origin request"
                );
                Some(OriginRejection {
                    kind,
                    grpc: response::is_grpc(req.headers()),
                })
            }
        };
        match rejection {
            None => ResponseFuture::future(self.inner.call(req)),
            Some(r) => ResponseFuture::rejected(self.config.rejection_response(r)),
        }
    }
}
